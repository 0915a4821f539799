//! `kb export`: the raw recorded events, for analysis elsewhere.

use std::io::Write;

use anyhow::{Context, Result, bail};

use super::{ExportArgs, ExportFormat};
use kb::metrics::{self, export, sqlite::SqliteStore};

pub fn run(args: &ExportArgs) -> Result<()> {
    let since = match &args.since {
        None => 0,
        Some(s) => {
            let Some(period) = metrics::parse_period(s) else {
                bail!("--since must be a period such as 30d, 12h, 2w, 6m or 1y, not {s:?}");
            };
            metrics::now() - period
        }
    };
    let Some(store) = SqliteStore::open_read_only(&args.data)
        .with_context(|| format!("cannot read the metrics in {}", args.data.display()))?
    else {
        bail!(
            "no recorded events in {}: `kb serve --data {0}` records them",
            args.data.display()
        );
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let format = match args.format {
        ExportFormat::Jsonl => export::Format::Jsonl,
        ExportFormat::Csv => export::Format::Csv,
    };
    let n = export::export(&store, since, format, &mut out)?;
    out.flush()?;
    eprintln!("kb: exported {n} events");
    Ok(())
}
