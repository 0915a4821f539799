//! `kb search`: search from the terminal, readable or as the `/api/search` JSON.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use anyhow::{Result, anyhow, bail};

use super::{Folders, SearchArgs};
use kb::index::SearchIndex;
use kb::search::{Engine, Ranking, SearchParams, SearchResponse};

pub fn run(args: &SearchArgs) -> Result<()> {
    let engine = open_engine(&args.folders)?;
    let params = SearchParams {
        lang: args.lang.clone(),
        limit: args.limit,
        drafts: args.drafts,
        hl: args.hl.clone(),
        ..SearchParams::new(args.query.clone())
    };
    let response = engine.search(&params)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &response)?;
        writeln!(out)?;
    } else {
        print_readable(&mut out, &response, std::io::stdout().is_terminal())?;
    }
    Ok(())
}

fn print_readable(out: &mut impl Write, r: &SearchResponse, color: bool) -> std::io::Result<()> {
    if r.results.is_empty() {
        return writeln!(out, "no results for “{}”", r.query);
    }
    // "1 of 7 results": the first ones shown, out of how many.
    let shown = if r.results.len() < r.total {
        format!("{} of ", r.results.len())
    } else {
        String::new()
    };
    let searched_as = match &r.corrected_query {
        Some(c) => format!(", searched as “{c}”"),
        None => String::new(),
    };
    writeln!(
        out,
        "{shown}{} result{} for “{}”{searched_as} ({:.1} ms)\n",
        r.total,
        if r.total == 1 { "" } else { "s" },
        r.query,
        r.took_ms
    )?;
    for (i, hit) in r.results.iter().enumerate() {
        let title = if color {
            format!("\x1b[1m{}\x1b[0m", hit.title)
        } else {
            hit.title.clone()
        };
        let note = if hit.fallback {
            " (no translation)"
        } else {
            ""
        };
        writeln!(out, "{:>2}. {title}  [{}]{note}", i + 1, hit.lang)?;
        if let Some(s) = &hit.section {
            writeln!(out, "    § {}", s.heading)?;
        }
        writeln!(out, "    {}", hit.url)?;
        if !hit.translations.is_empty() {
            let others: Vec<&str> = hit.translations.iter().map(|t| &*t.lang).collect();
            writeln!(out, "    also in {}", others.join(", "))?;
        }
        writeln!(out, "    {}\n", terminal_text(&hit.snippet, color))?;
    }
    Ok(())
}

/// Snippet HTML for a terminal: marks become bold (or stay visible as-is without a terminal),
/// entities are decoded.
fn terminal_text(html: &str, color: bool) -> String {
    let (on, off) = if color {
        ("\x1b[1;33m", "\x1b[0m")
    } else {
        ("", "")
    };
    html.replace("<mark>", on)
        .replace("</mark>", off)
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The search engine over the index in `folders`, built from the articles first when there is
/// nothing to search yet (no index, one from another version of kb, or one whose first build
/// was interrupted). Never answers from an index that is not whole without saying so: it
/// builds it, or fails naming the fix.
pub(super) fn open_engine(folders: &Folders) -> Result<Engine> {
    let fix = || {
        format!(
            "run `kb index --articles {} --index {}`",
            folders.articles.display(),
            folders.index.display()
        )
    };
    if !folders.index.join("meta.json").exists() && !folders.articles.is_dir() {
        bail!(
            "there is no index in {} and no articles folder {} to build it from: {}",
            folders.index.display(),
            folders.articles.display(),
            fix()
        );
    }
    let idx = SearchIndex::open_or_create(&folders.index)?;
    let why = match &idx.fresh {
        Some(why) => Some(why.to_string()),
        None if !idx.is_complete() => {
            Some("the index is incomplete (its first build was interrupted)".to_string())
        }
        None => None,
    };
    if let Some(why) = why {
        eprintln!("kb: {why}; indexing {} first", folders.articles.display());
        let report = super::index::refresh(&idx, folders).map_err(|e| {
            if let Some(kb::error::Error::IndexLocked { .. }) = e.downcast_ref() {
                anyhow!(
                    "{why}, and another kb process (`kb serve` or `kb index`) is building it: search again when it is done"
                )
            } else {
                e.context(format!("{why}, and kb cannot build it: {}", fix()))
            }
        })?;
        eprintln!("{}", super::index::summary(&report));
    }
    Ok(Engine::new(Arc::new(idx), Ranking::from_env()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_become_terminal_text() {
        assert_eq!(
            terminal_text("a <mark>b</mark> &lt;&amp;&gt;", false),
            "a b <&>"
        );
        assert!(terminal_text("<mark>b</mark>", true).contains("\x1b[1;33mb\x1b[0m"));
    }
}
