//! The `kb` binary: parses the command line and runs the command; the work is in the library.

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KB_LOG")
                .unwrap_or_else(|_| "kb=info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match &cli.command {
        cli::Command::Serve(args) => cli::serve::run(args),
        cli::Command::Index(args) => cli::index::run(args),
        cli::Command::Search(args) => cli::search::run(args),
        cli::Command::Export(args) => cli::export::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kb: error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
