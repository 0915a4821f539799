//! `kb index`: build or refresh the index and say what happened.

use anyhow::Result;

use super::{Folders, IndexArgs};
use kb::index::{SearchIndex, writer};

pub fn run(args: &IndexArgs) -> Result<()> {
    let idx = SearchIndex::open_or_create(&args.folders.index)?;
    if let Some(why) = &idx.fresh {
        eprintln!(
            "kb: building a new index in {} ({why})",
            args.folders.index.display()
        );
    }
    let report = refresh(&idx, &args.folders)?;
    use std::io::Write;
    writeln!(std::io::stdout().lock(), "{}", summary(&report))?;
    Ok(())
}

/// Syncs the index with the articles folder, reporting broken articles on stderr, and waits
/// for segment merges so the next search opens a compact index.
pub fn refresh(idx: &SearchIndex, folders: &Folders) -> Result<writer::SyncReport> {
    let mut w = writer::open_writer(idx)?;
    let report = writer::sync(idx, &mut w, &folders.articles, &folders.limits.limits())?;
    w.wait_merging_threads()?;
    for p in &report.problems {
        eprintln!("{p}");
    }
    Ok(report)
}

/// One line for people: what changed, how long it took, how many articles were skipped.
pub fn summary(r: &writer::SyncReport) -> String {
    let mut s = format!(
        "indexed {} articles in {:.2} s: {} added, {} updated, {} removed, {} unchanged",
        r.articles,
        r.elapsed.as_secs_f64(),
        r.added,
        r.updated,
        r.removed,
        r.unchanged
    );
    let skipped = r.problems.len() - r.kept;
    if r.kept > 0 {
        s.push_str(&format!("; {} broken, kept as last indexed", r.kept));
    }
    if skipped > 0 {
        s.push_str(&format!("; {skipped} skipped"));
    }
    if !r.problems.is_empty() {
        s.push_str(" (see the messages above)");
    }
    s
}
