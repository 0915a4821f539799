//! kb: a self-service help center and FAQ search engine over a folder of Markdown articles.
//!
//! Data flows one way: files → [`articles`] → [`index`] → [`search`] → [`web`] (and the
//! `kb` binary's commands), and events → [`metrics`] → [`report`]. [`analysis`] is the one
//! tokenizer that the index and the search share; [`i18n`] the words in the reader's
//! language that the pages and the report share. Only [`metrics`] speaks SQL.
pub mod agent;
pub mod analysis;
pub mod articles;
pub mod error;
pub mod han;
pub mod i18n;
pub mod index;
pub mod metrics;
pub mod remote;
pub mod report;
pub mod search;
pub mod watch;
pub mod web;
