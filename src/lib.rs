//! kb: a self-service help center and FAQ search engine over a folder of Markdown articles.
pub mod analysis;
pub mod articles;
pub mod error;
pub mod index;
pub mod search;
pub mod web;
