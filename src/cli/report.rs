//! `kb report`: the content-gap report from the recorded events, in the terminal or a file.

use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use super::{ReportArgs, ReportFormat};
use kb::index::{SearchIndex, writer};
use kb::metrics;
use kb::report::{self, Cancel, Words, format};
use kb::search::{Engine, Ranking};

pub fn run(args: &ReportArgs) -> Result<()> {
    let Some(period) = metrics::parse_period(&args.since) else {
        bail!(
            "--since must be a period such as 30d, 2w, 6m or 1y, not {:?}",
            args.since
        );
    };
    let words = words(&args.lang)?;
    let store =
        super::database::recorded_events(&args.metrics.data, args.metrics.database.as_deref())?;
    let engine = Engine::new(Arc::new(index(args)?), Ranking::from_env());
    let report = report::generate(
        &*store,
        &args.folders.articles,
        &engine,
        period,
        metrics::now(),
        &Cancel::default(),
    )?;
    let format = match args.format {
        ReportFormat::Md => format::Format::Markdown,
        ReportFormat::Json => format::Format::Json,
        ReportFormat::Csv => format::Format::Csv,
        ReportFormat::Html => format::Format::Html,
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let extras = format::Extras {
        edit_url: args.edit_url.clone(),
        controls: None,
    };
    format::write_with(&report, format, &words, &extras, &mut out)?;
    out.flush()?;
    Ok(())
}

/// The report's words in `lang`: one of the built-in languages, or a variant of one
/// (`zh-Hant` is zh-tw's).
fn words(lang: &str) -> Result<Words> {
    let locales = kb::i18n::built_in();
    let known = || locales.tags().collect::<Vec<_>>().join(", ");
    let Some(tag) = kb::articles::lang::normalize_tag(lang) else {
        bail!(
            "--lang must be a language tag such as {}, not {lang:?}",
            known()
        );
    };
    let best = locales.best(&tag);
    let primary = |t: &str| t.split('-').next().unwrap_or(t).to_string();
    if primary(&best) != primary(&tag) {
        bail!(
            "the report is not written in {lang:?} yet; --lang must be one of {}",
            known()
        );
    }
    Ok(Words::new(locales, &best))
}

/// The index the closest articles are looked up in, brought up to date with the articles
/// unless a running server holds it (it keeps the index up to date itself).
fn index(args: &ReportArgs) -> Result<SearchIndex> {
    let idx = SearchIndex::open_or_create(&args.folders.index)?;
    match writer::open_writer(&idx) {
        Ok(mut w) => {
            let synced = writer::sync(
                &idx,
                &mut w,
                &args.folders.articles,
                &args.folders.limits.limits(),
            )?;
            if synced.changed() {
                w.wait_merging_threads()?;
            }
        }
        Err(e) if idx.fresh.is_none() => {
            tracing::debug!("using the index as it is: {e}");
        }
        Err(e) => return Err(e).context("cannot build the index"),
    }
    Ok(idx)
}
