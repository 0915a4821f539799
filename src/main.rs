//! The `kb` binary: parses the command line and runs the command; the work is in the library.
//!
//! Exit codes: 0 success (also when the reader of the output closes it early, as `head`
//! does), 1 when `kb check` finds errors or `kb link` finds no article, 2 when something
//! stops kb.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    logs(cli.log_format);
    let done = |r: anyhow::Result<()>| r.map(|()| ExitCode::SUCCESS);
    let result = match &cli.command {
        cli::Command::Serve(args) => done(cli::serve::run(args)),
        cli::Command::Index(args) => done(cli::index::run(args)),
        cli::Command::Search(args) => done(cli::search::run(args)),
        cli::Command::Export(args) => done(cli::export::run(args)),
        cli::Command::Report(args) => done(cli::report::run(args)),
        cli::Command::MigrateData(args) => done(cli::database::migrate(args)),
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
        // The reader of the output went away (`kb export | head -2`): that is not an error,
        // as for grep and git log.
        if closed_pipe(&e) {
            return ExitCode::SUCCESS;
        }
        eprintln!("kb: error: {}", message(&e));
        ExitCode::from(2)
    })
}

/// Logs to standard error, filtered by `KB_LOG` (default: kb's own at `info`): text, or
/// JSON lines for a log collector. Colour codes only on a terminal, so a file or a journal
/// never holds them (and never with `NO_COLOR`).
fn logs(format: cli::LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("KB_LOG")
        .unwrap_or_else(|_| "kb=info,tower_http=warn".into());
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        cli::LogFormat::Text => builder.with_ansi(colour).init(),
        cli::LogFormat::Json => builder
            .json()
            .with_ansi(false)
            .with_current_span(false)
            .with_span_list(false)
            .init(),
    }
}

/// Whether an error is a write to a pipe whose reader has closed it.
fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        let kind = cause
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
            .or_else(|| {
                cause
                    .downcast_ref::<serde_json::Error>()
                    .and_then(serde_json::Error::io_error_kind)
            });
        kind == Some(std::io::ErrorKind::BrokenPipe)
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
