//! Writing a [`Report`]: Markdown (for a terminal and a pull request), JSON (the API's shape),
//! CSV (one row per item, for a spreadsheet) and a self-contained HTML page with charts.
//!
//! Everything readers typed (queries, comments) is escaped for the format it lands in, so a
//! query full of `|`, `*` or `<script>` shows as typed and cannot break the report.

use std::io::{self, Write};

use minijinja::{Environment, Value, context};

use super::{Report, Top, UpdateKind, WriteKind, svg};

/// The formats a report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Json,
    Csv,
    Html,
}

/// Writes `report` in `format`.
pub fn write(report: &Report, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Markdown => out.write_all(markdown(report).as_bytes()),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            out.write_all(b"\n")
        }
        Format::Csv => csv(report, out),
        Format::Html => out.write_all(html(report).as_bytes()),
    }
}

/// Text that readers typed, on one line and with Markdown's special characters escaped.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn pct(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

fn write_heading(kind: WriteKind) -> &'static str {
    match kind {
        WriteKind::NoResults => "Searches that find nothing",
        WriteKind::NoClicks => "Searches whose results nobody opens",
        WriteKind::Translation => "Articles readers need in their language",
    }
}

fn update_heading(kind: UpdateKind) -> &'static str {
    match kind {
        UpdateKind::Flagged => "Flagged by agents",
        UpdateKind::Unhelpful => "Unhelpful",
        UpdateKind::Outdated => "Said to be outdated",
        UpdateKind::ContactAfterView => "Read, then support contacted",
        UpdateKind::Stale => "Stale but still read",
        UpdateKind::TranslationBehind => "Translations behind their source",
        UpdateKind::Unread => "Nobody reads or finds them",
        UpdateKind::ReviewDue => "Due for review",
    }
}

/// What an empty to-write list means.
fn nothing_to_write(r: &Report) -> &'static str {
    if r.summary.searches == 0 {
        "No customer searches were recorded in this period."
    } else {
        "Nothing: every need searched for by several people found an article they opened."
    }
}

/// The Markdown report.
pub fn markdown(r: &Report) -> String {
    let mut s = String::new();
    let mut line = |text: String| {
        s.push_str(&text);
        s.push('\n');
    };
    line(format!(
        "# Content-gap report: {} to {} ({} days)\n",
        r.since, r.until, r.days
    ));
    let m = &r.summary;
    line(format!(
        "{} searches ({} on the period before): {} found nothing, {} opened nothing. {} article views; {} votes{}; {} contact clicks; {} links inserted by agents.\n",
        m.searches,
        m.searches_change,
        pct(m.no_result_rate),
        pct(m.no_click_rate),
        m.views,
        m.votes,
        m.helpful_rate
            .map_or(String::new(), |h| format!(", {} helpful", pct(h))),
        m.contact_clicks,
        m.links_inserted
    ));

    line(format!("## To write ({})\n", r.to_write.len()));
    if r.to_write.is_empty() {
        line(format!("{}\n", nothing_to_write(r)));
    }
    let mut kind = None;
    let mut n = 0;
    for w in &r.to_write {
        if kind != Some(w.kind) {
            // A blank line ends the previous group's list.
            let gap = if kind.is_some() { "\n" } else { "" };
            kind = Some(w.kind);
            n = 0;
            line(format!("{gap}### {}\n", write_heading(w.kind)));
        }
        n += 1;
        line(format!("{n}. **{}.**", md(&w.action)));
        line(format!("   {}.", md(&w.why)));
        let mut facts = Vec::new();
        if w.kind != WriteKind::Translation {
            facts.push(format!("trend {}", w.trend));
            facts.push(format!("languages: {}", w.languages.join(", ")));
        }
        if w.queries.len() > 1 {
            facts.push(format!(
                "typed as {}",
                w.queries
                    .iter()
                    .map(|q| format!("“{}” ×{}", md(&q.text), q.count))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if w.kind != WriteKind::Translation {
            facts.push(if w.closest.is_empty() {
                "closest article: none".into()
            } else {
                format!(
                    "closest: {}",
                    w.closest
                        .iter()
                        .map(|c| {
                            if c.missing.is_empty() {
                                format!("{} ({}, has every word)", md(&c.title), md(&c.path))
                            } else {
                                format!(
                                    "{} ({}, lacks {})",
                                    md(&c.title),
                                    md(&c.path),
                                    md(&c.missing.join(", "))
                                )
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            });
        }
        line(format!("   {}.", facts.join("; ")));
    }
    if !r.to_write.is_empty() {
        line(String::new());
    }

    line(format!("## To update ({})\n", r.to_update.len()));
    if r.to_update.is_empty() {
        line("Nothing: no article fails its readers by the report's measures.\n".into());
    }
    let mut kind = None;
    let mut n = 0;
    for u in &r.to_update {
        if kind != Some(u.kind) {
            let gap = if kind.is_some() { "\n" } else { "" };
            kind = Some(u.kind);
            n = 0;
            line(format!("{gap}### {}\n", update_heading(u.kind)));
        }
        n += 1;
        line(format!(
            "{n}. **{}** ({}): {}.",
            md(&u.title),
            md(&u.path),
            md(&u.why)
        ));
        line(format!("   Do: {}.", md(&u.action)));
        if matches!(u.kind, UpdateKind::Unhelpful | UpdateKind::Outdated) && !u.comments.is_empty()
        {
            for c in &u.comments {
                line(format!("   > {}", md(c)));
            }
        }
        if u.kind == UpdateKind::Flagged {
            for f in &u.flags {
                let note = f.note.as_deref().map(md).unwrap_or_default();
                line(format!("   > {} ({}): {note}", f.reason, f.date));
            }
        }
    }
    line(String::new());

    if !r.review_queue.is_empty() {
        line("## Review queue, by owner\n".into());
        for (owner, paths) in &r.review_queue {
            line(format!("- **{}**: {}", md(owner), md(&paths.join(", "))));
        }
        line(String::new());
    }

    let table = |title: &str, what: &str, rows: &[Top]| {
        let mut t = format!(
            "## {title}\n\n| # | {what} | count | change |\n| ---: | --- | ---: | ---: |\n"
        );
        for (i, row) in rows.iter().enumerate() {
            let label = match &row.path {
                Some(p) => format!("{} ({})", md(&row.label), md(p)),
                None => md(&row.label),
            };
            t.push_str(&format!(
                "| {} | {label} | {} | {} |\n",
                i + 1,
                row.count,
                row.change
            ));
        }
        if rows.is_empty() {
            t.push_str("| | none | | |\n");
        }
        t
    };
    line(table("Top searches", "query", &r.top_searches));
    line(table(
        "Searches that found nothing",
        "query",
        &r.top_no_results,
    ));
    line(table("Top articles", "article", &r.top_articles));
    line(table("Top articles agents link", "article", &r.top_linked));
    s
}

/// One CSV row per item of every list.
fn csv(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record([
        "section",
        "kind",
        "query",
        "path",
        "title",
        "languages",
        "owner",
        "searches",
        "visitors",
        "no_results",
        "no_clicks",
        "contacts",
        "views",
        "yes",
        "no",
        "unhelpful_at_least",
        "change",
        "due",
        "why",
        "action",
    ])?;
    for i in &r.to_write {
        w.write_record([
            "to_write",
            i.kind.name(),
            &i.query,
            i.path.as_deref().unwrap_or(""),
            i.closest.first().map_or("", |c| c.title.as_str()),
            &i.languages.join(" "),
            "",
            &i.searches.to_string(),
            &i.visitors.to_string(),
            &i.no_results.to_string(),
            &i.no_clicks.to_string(),
            &i.contacts.to_string(),
            "",
            "",
            "",
            "",
            &i.trend,
            "",
            &i.why,
            &i.action,
        ])?;
    }
    for i in &r.to_update {
        w.write_record([
            "to_update",
            i.kind.name(),
            "",
            &i.path,
            &i.title,
            &i.lang,
            i.owner.as_deref().unwrap_or(""),
            "",
            "",
            "",
            "",
            &i.contacts.to_string(),
            &i.views.to_string(),
            &i.yes.to_string(),
            &i.no.to_string(),
            &i.unhelpful_at_least
                .map_or(String::new(), |v| v.to_string()),
            "",
            i.due.as_deref().unwrap_or(""),
            &i.why,
            &i.action,
        ])?;
    }
    for (section, rows) in [
        ("top_searches", &r.top_searches),
        ("top_no_results", &r.top_no_results),
        ("top_articles", &r.top_articles),
        ("top_linked", &r.top_linked),
    ] {
        for t in rows {
            let count = t.count.to_string();
            let (query, path, title, searches, views) = match &t.path {
                None => (t.label.as_str(), "", "", count.as_str(), ""),
                Some(p) => ("", p.as_str(), t.label.as_str(), "", count.as_str()),
            };
            w.write_record([
                section, "", query, path, title, "", "", searches, "", "", "", "", views, "", "",
                "", &t.change, "", "", "",
            ])?;
        }
    }
    w.flush()
}

const TEMPLATE: &str = include_str!("../../templates/report.html");

/// The self-contained HTML report: inline CSS and SVG charts, no script, no external file.
pub fn html(r: &Report) -> String {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    if let Err(e) = env.add_template("report.html", TEMPLATE) {
        return format!("<!doctype html><p>report template error: {e}</p>");
    }
    let write_groups: Vec<Value> = group(&r.to_write, |w| w.kind)
        .into_iter()
        .map(|(k, items)| context! { title => write_heading(k), items => Value::from(minijinja::value::Serde(&items)) })
        .collect();
    let update_groups: Vec<Value> = group(&r.to_update, |u| u.kind)
        .into_iter()
        .map(|(k, items)| context! { title => update_heading(k), items => Value::from(minijinja::value::Serde(&items)) })
        .collect();
    let charts = context! {
        searches => Value::from_safe_string(svg::searches_per_day(&r.charts.days)),
        no_results => Value::from_safe_string(svg::no_result_rate(&r.charts.days)),
        helpfulness => Value::from_safe_string(svg::helpfulness(&r.charts.weeks)),
    };
    let tmpl = env.get_template("report.html").expect("added above");
    tmpl.render(context! {
        r => Value::from(minijinja::value::Serde(r)),
        write_groups => write_groups,
        update_groups => update_groups,
        charts => charts,
        nothing_to_write => nothing_to_write(r),
        no_result_pct => pct(r.summary.no_result_rate),
        no_click_pct => pct(r.summary.no_click_rate),
        helpful_pct => r.summary.helpful_rate.map(pct),
    })
    .unwrap_or_else(|e| format!("<!doctype html><p>report template error: {e}</p>"))
}

/// Consecutive items of the same kind (the lists are sorted by kind).
fn group<T: Clone, K: PartialEq + Copy>(items: &[T], kind: impl Fn(&T) -> K) -> Vec<(K, Vec<T>)> {
    let mut out: Vec<(K, Vec<T>)> = Vec::new();
    for i in items {
        match out.last_mut() {
            Some((k, v)) if *k == kind(i) => v.push(i.clone()),
            _ => out.push((kind(i), vec![i.clone()])),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_escapes_what_readers_typed() {
        assert_eq!(md("a|b *c* <script>\nx"), "a\\|b \\*c\\* \\<script\\> x");
    }
}
