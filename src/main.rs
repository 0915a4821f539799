//! The `kb` binary: parses the command line and runs the command; the work is in the library.
//!
//! Exit codes: 0 success, 1 when `kb check` finds errors or `kb link` finds no article, 2
//! when something stops kb.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KB_LOG")
                .unwrap_or_else(|_| "kb=info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let done = |r: anyhow::Result<()>| r.map(|()| ExitCode::SUCCESS);
    let result = match &cli.command {
        cli::Command::Serve(args) => done(cli::serve::run(args)),
        cli::Command::Index(args) => done(cli::index::run(args)),
        cli::Command::Search(args) => done(cli::search::run(args)),
        cli::Command::Export(args) => done(cli::export::run(args)),
        cli::Command::Report(args) => done(cli::report::run(args)),
        cli::Command::Mcp(args) => done(cli::mcp::run(args)),
        cli::Command::Link(args) => cli::link::run(args).map(|found| {
            if found {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }),
        cli::Command::Check(args) => cli::check::run(args).map(|passed| {
            if passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }),
    };
    result.unwrap_or_else(|e| {
        eprintln!("kb: error: {}", message(&e));
        ExitCode::from(2)
    })
}

/// An error and its causes on one line, each cause once: kb's errors already say their
/// cause ("cannot read the articles folder x: No such file"), anyhow's context does not.
fn message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}
