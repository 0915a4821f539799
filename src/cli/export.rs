//! `kb export`: the raw recorded events, for analysis elsewhere.

use std::io::Write;

use anyhow::{Result, bail};

use super::{ExportArgs, ExportFormat};
use kb::metrics::{self, export};

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
    let store =
        super::database::recorded_events(&args.metrics.data, args.metrics.database.as_deref())?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let format = match args.format {
        ExportFormat::Jsonl => export::Format::Jsonl,
        ExportFormat::Csv => export::Format::Csv,
    };
    let n = export::export(&*store, since, format, &mut out)?;
    out.flush()?;
    eprintln!("kb: exported {n} events");
    Ok(())
}
