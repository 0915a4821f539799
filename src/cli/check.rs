//! `kb check`: lint the articles and run the writers' search tests; exit 1 on any error.

use std::sync::Arc;

use std::io::Write;

use anyhow::Result;

use super::CheckArgs;
use kb::articles::{self, check};
use kb::error::Severity;
use kb::index::{SearchIndex, writer};
use kb::search::{Engine, Ranking, queries};

/// Returns whether the articles passed (no errors).
pub fn run(args: &CheckArgs) -> Result<bool> {
    let dir = &args.articles;
    let limits = args.limits.limits();
    let (loaded, mut problems) = articles::load(dir, &limits)?;
    problems.extend(check::lint(dir, &loaded));

    // Search tests run against an index of exactly these articles, in memory.
    let idx = SearchIndex::in_memory()?;
    let mut w = writer::open_writer(&idx)?;
    writer::sync(&idx, &mut w, dir, &limits)?;
    let engine = Engine::new(Arc::new(idx), Ranking::from_env());
    let tests = queries::run(&engine, dir, &loaded);
    problems.extend(tests.failures.iter().cloned());
    problems.extend(tests.warnings.iter().cloned());

    problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    problems.dedup();
    let mut out = std::io::stdout().lock();
    for p in &problems {
        writeln!(out, "{p}")?;
    }
    drop(out);
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    let warnings = problems.len() - errors;
    eprintln!(
        "kb check: {} articles, {} search tests ({} failed): {} error{}, {} warning{}",
        loaded.len(),
        tests.tests,
        tests.failures.len(),
        errors,
        if errors == 1 { "" } else { "s" },
        warnings,
        if warnings == 1 { "" } else { "s" },
    );
    Ok(errors == 0)
}
