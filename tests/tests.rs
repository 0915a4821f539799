//! kb's integration tests: one binary (one link step), a module per area.

mod agent;
mod api;
mod browser;
mod check;
mod cli;
mod fuzz;
mod history;
mod live;
mod metrics;
mod pages;
mod ranking;
mod readme;
mod report;
mod security;
mod util;
