//! kb's integration tests: one binary (one link step), a module per area.

mod agent;
mod api;
mod browser;
mod check;
mod cli;
mod fuzz;
mod history;
mod live;
mod llms;
mod mcp;
mod metrics;
mod pages;
mod ranking;
mod report;
mod security;
mod util;
