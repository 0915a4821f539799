//! `kb link`: ready-to-paste links to the articles that answer a query or a customer's
//! message, for support agents (`kb link --stdin < ticket.txt | pbcopy`).

use std::io::{Read, Write};

use anyhow::{Context, Result};

use super::{LinkArgs, LinkFormat};
use kb::agent::{Format, Link};
use kb::search::{SearchParams, message::MAX_MESSAGE_CHARS};

/// Prints the links; false when no article answers.
pub fn run(args: &LinkArgs) -> Result<bool> {
    let text = match &args.query {
        Some(q) => q.clone(),
        None => {
            let mut text = String::new();
            std::io::stdin()
                .take((MAX_MESSAGE_CHARS * 4) as u64)
                .read_to_string(&mut text)
                .context("cannot read the message from standard input (is it UTF-8?)")?;
            text
        }
    };
    if text.trim().is_empty() {
        anyhow::bail!(
            "the message is empty: pass a query, or the customer's message on standard input"
        );
    }
    let engine = super::search::open_engine(&args.folders)?;
    let params = SearchParams {
        lang: args.lang.clone(),
        limit: args.limit as usize,
        details: true,
        hl: args.hl.clone().or_else(|| args.lang.clone()),
        sections: !args.whole_article,
        ..SearchParams::new(text.clone())
    };
    let found = engine.answers(&params)?;
    if found.results.is_empty() {
        let shown: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let shown: String = shown.chars().take(60).collect();
        eprintln!("kb: no article answers “{shown}”");
        return Ok(false);
    }
    let format = match args.format {
        LinkFormat::Markdown => Format::Markdown,
        LinkFormat::Html => Format::Html,
        LinkFormat::Text => Format::Text,
    };
    let mut out = std::io::stdout().lock();
    let separator = if format == Format::Text { "\n\n" } else { "\n" };
    let links: Vec<String> = found
        .results
        .iter()
        .map(|hit| {
            Link::new(
                &args.base_url,
                &hit.url,
                &hit.title,
                hit.summary.as_deref().unwrap_or_default(),
                hit.reply.as_deref(),
            )
            .format(format)
        })
        .collect();
    writeln!(out, "{}", links.join(separator))?;
    // The other languages, for the agent's eyes only: what is pasted stays clean.
    let mut err = std::io::stderr().lock();
    for hit in found.results.iter().filter(|h| !h.translations.is_empty()) {
        let others: Vec<String> = hit
            .translations
            .iter()
            .map(|t| format!("{} {}", t.lang, kb::agent::absolute(&args.base_url, &t.url)))
            .collect();
        writeln!(err, "kb: “{}” is also in {}", hit.title, others.join(", "))?;
    }
    Ok(true)
}
