//! kb's integration tests: one binary (one link step), a module per area.

mod agent;
mod api;
mod browser;
mod check;
mod cli;
mod fuzz;
mod git;
mod history;
mod languages;
mod live;
mod llms;
mod mcp;
mod metrics;
mod monitoring;
mod pages;
mod ranking;
mod readme;
mod replicas;
mod report;
mod security;
mod util;
