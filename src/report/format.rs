//! Writing a [`Report`] in the reader's language ([`Words`]): Markdown (for a terminal and a
//! pull request), JSON (the API's shape: the typed report, plus each item's `why` and
//! `action` in words), CSV (one row per item, for a spreadsheet) and a self-contained HTML
//! page with charts.
//!
//! Everything readers typed (queries, comments) is escaped for the format it lands in, so a
//! query full of `|`, `*` or `<script>` shows as typed and cannot break the report.

use std::collections::BTreeMap;
use std::io::{self, Write};

use minijinja::value::Kwargs;
use minijinja::{Environment, Value, context};
use serde::Serialize;
use serde_json::Value as Json;

use super::wording::{Words, pct};
use super::{
    Charts, Date, Report, Summary, Top, UpdateItem, UpdateKind, WriteItem, WriteKind, svg,
};
use crate::articles::edit::EditUrl;

/// The formats a report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Json,
    Csv,
    Html,
}

/// What a written report links to that the report itself does not know: where writers
/// edit articles, and (on the served page) the form that changes its period and format.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// Where writers edit an article (`--edit-url`): each article to update links there
    /// (Markdown, JSON's `edit_url`, HTML).
    pub edit_url: Option<EditUrl>,
    /// The HTML page's period and format controls, worded by whoever serves it.
    pub controls: Option<Controls>,
}

/// A form on the HTML report that asks for the same report over another period or in
/// another format.
#[derive(Debug, Clone, Serialize)]
pub struct Controls {
    /// Where the form is sent (`GET`).
    pub action: String,
    /// The interface language, sent back with the form.
    pub hl: String,
    pub period_label: String,
    pub periods: Vec<Choice>,
    pub format_label: String,
    pub formats: Vec<Choice>,
    pub button: String,
}

/// One option of a [`Controls`] list.
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// Writes `report` in `format`, worded with `words`.
pub fn write(
    report: &Report,
    format: Format,
    words: &Words,
    out: &mut dyn Write,
) -> io::Result<()> {
    write_with(report, format, words, &Extras::default(), out)
}

/// Writes `report` in `format`, worded with `words`, with the links and controls of
/// `extras`.
pub fn write_with(
    report: &Report,
    format: Format,
    words: &Words,
    extras: &Extras,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Markdown => out.write_all(markdown_with(report, words, extras).as_bytes()),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &json_with(report, words, extras))?;
            out.write_all(b"\n")
        }
        Format::Csv => csv(report, words, out),
        Format::Html => out.write_all(html_with(report, words, extras).as_bytes()),
    }
}

/// An item with why it is listed and what to do, in words.
#[derive(Serialize)]
struct Worded<'a, T> {
    #[serde(flatten)]
    item: &'a T,
    why: String,
    action: String,
    /// Where writers edit the article (with `--edit-url`).
    #[serde(skip_serializing_if = "Option::is_none")]
    edit_url: Option<String>,
}

/// The report as JSON (`/api/report`), in the order of [`Report`]'s fields: the typed
/// report, each item with its `why` and `action` in words.
#[derive(Serialize)]
pub struct JsonReport<'a> {
    since: Date,
    until: Date,
    days: i64,
    summary: &'a Summary,
    to_write: Vec<Worded<'a, WriteItem>>,
    to_update: Vec<Worded<'a, UpdateItem>>,
    review_queue: &'a BTreeMap<String, Vec<String>>,
    top_searches: &'a [Top],
    top_no_results: &'a [Top],
    top_articles: &'a [Top],
    top_linked: &'a [Top],
    charts: &'a Charts,
    ai_questions: Vec<Worded<'a, super::ai::AiQuestion>>,
}

/// The report as JSON (`/api/report`): the typed report, each item with its `why` and
/// `action` in words.
pub fn json<'a>(r: &'a Report, words: &Words) -> JsonReport<'a> {
    json_with(r, words, &Extras::default())
}

/// [`json`], each article to update with its `edit_url` when `extras` has one.
pub fn json_with<'a>(r: &'a Report, words: &Words, extras: &Extras) -> JsonReport<'a> {
    JsonReport {
        since: r.since,
        until: r.until,
        days: r.days,
        summary: &r.summary,
        to_write: r
            .to_write
            .iter()
            .map(|w| Worded {
                item: w,
                why: words.write_why(w),
                action: words.write_action(w),
                edit_url: None,
            })
            .collect(),
        to_update: r
            .to_update
            .iter()
            .map(|u| Worded {
                item: u,
                why: words.update_why(u, r.days),
                action: words.update_action(u),
                edit_url: extras.edit_url.as_ref().map(|e| e.for_path(&u.path)),
            })
            .collect(),
        review_queue: &r.review_queue,
        top_searches: &r.top_searches,
        top_no_results: &r.top_no_results,
        top_articles: &r.top_articles,
        top_linked: &r.top_linked,
        charts: &r.charts,
        ai_questions: r
            .ai_questions
            .iter()
            .map(|q| Worded {
                item: q,
                why: words.ai_why(q),
                action: words.t("ai_action", &[]),
                edit_url: None,
            })
            .collect(),
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

/// The period's figures in one paragraph.
fn summary_line(r: &Report, words: &Words) -> String {
    let m = &r.summary;
    let helpful = m.helpful_rate.map_or(String::new(), |h| {
        words.t("summary_helpful", &[("rate", pct(h))])
    });
    words.t(
        "summary",
        &[
            ("searches", m.searches.to_string()),
            ("change", words.change(m.searches_change)),
            ("no_results", pct(m.no_result_rate)),
            ("no_clicks", pct(m.no_click_rate)),
            ("views", m.views.to_string()),
            ("votes", m.votes.to_string()),
            ("helpful", helpful),
            ("contacts", m.contact_clicks.to_string()),
            ("links", m.links_inserted.to_string()),
        ],
    )
}

/// The Markdown report.
pub fn markdown(r: &Report, words: &Words) -> String {
    markdown_with(r, words, &Extras::default())
}

/// [`markdown`], each article to update with a link to edit it when `extras` has one.
pub fn markdown_with(r: &Report, words: &Words, extras: &Extras) -> String {
    let mut s = String::new();
    let mut line = |text: String| {
        s.push_str(&text);
        s.push('\n');
    };
    let count = |n: usize| [("count", n.to_string())];
    let sentence = |text: &str| words.t("sentence", &[("text", text.to_string())]);
    line(format!(
        "# {}\n",
        words.t(
            "heading",
            &[
                ("since", r.since.to_string()),
                ("until", r.until.to_string()),
                ("days", r.days.to_string()),
            ]
        )
    ));
    line(format!("{}\n", summary_line(r, words)));

    line(format!(
        "## {}\n",
        words.t("to_write", &count(r.to_write.len()))
    ));
    if r.to_write.is_empty() {
        line(format!("{}\n", words.nothing_to_write(r)));
    }
    let mut kind = None;
    let mut n = 0;
    let sep = words.t("facts_separator", &[]);
    for w in &r.to_write {
        if kind != Some(w.kind) {
            // A blank line ends the previous group's list.
            let gap = if kind.is_some() { "\n" } else { "" };
            kind = Some(w.kind);
            n = 0;
            line(format!("{gap}### {}\n", words.write_heading(w.kind)));
        }
        n += 1;
        line(format!(
            "{n}. **{}**",
            sentence(&md(&words.write_action(w)))
        ));
        line(format!("   {}", sentence(&md(&words.write_why(w)))));
        let mut facts = Vec::new();
        if w.kind != WriteKind::Translation {
            let trend = w.trend.map(|t| words.change(t)).unwrap_or_default();
            facts.push(words.t("trend", &[("trend", trend)]));
            facts.push(words.t(
                "languages",
                &[("languages", words.list(w.languages.iter().cloned()))],
            ));
        }
        if w.queries.len() > 1 {
            let typed = words.list(w.queries.iter().map(|q| {
                words.t(
                    "typed",
                    &[("query", md(&q.text)), ("count", q.count.to_string())],
                )
            }));
            facts.push(words.t("typed_as", &[("queries", typed)]));
        }
        if w.kind != WriteKind::Translation {
            facts.push(if w.closest.is_empty() {
                words.t("closest_none", &[])
            } else {
                let articles = w.closest.iter().map(|c| {
                    let args = [
                        ("title", md(&c.title)),
                        ("path", md(&c.path)),
                        ("words", md(&words.list(c.missing.iter().cloned()))),
                    ];
                    if c.missing.is_empty() {
                        words.t("closest_complete", &args)
                    } else {
                        words.t("closest_lacks", &args)
                    }
                });
                words.t(
                    "closest",
                    &[("articles", articles.collect::<Vec<_>>().join(&sep))],
                )
            });
        }
        if !facts.is_empty() {
            line(format!("   {}", sentence(&facts.join(&sep))));
        }
    }
    if !r.to_write.is_empty() {
        line(String::new());
    }

    line(format!(
        "## {}\n",
        words.t("to_update", &count(r.to_update.len()))
    ));
    if r.to_update.is_empty() {
        line(format!("{}\n", words.t("nothing_to_update", &[])));
    }
    let mut kind = None;
    let mut n = 0;
    for u in &r.to_update {
        if kind != Some(u.kind()) {
            let gap = if kind.is_some() { "\n" } else { "" };
            kind = Some(u.kind());
            n = 0;
            line(format!("{gap}### {}\n", words.update_heading(u.kind())));
        }
        n += 1;
        line(format!(
            "{n}. **{}**{}",
            md(&u.title),
            words.t(
                "update_tail",
                &[
                    ("path", md(&u.path)),
                    ("why", md(&words.update_why(u, r.days)))
                ]
            )
        ));
        line(format!(
            "   {}",
            words.t("do", &[("action", md(&words.update_action(u)))])
        ));
        if let Some(e) = &extras.edit_url {
            line(format!(
                "   [{}]({})",
                md(&words.t("edit", &[])),
                e.for_path(&u.path).replace(')', "%29")
            ));
        }
        if matches!(u.kind(), UpdateKind::Unhelpful | UpdateKind::Outdated)
            && !u.comments.is_empty()
        {
            for c in &u.comments {
                line(format!("   > {}", md(c)));
            }
        }
        if u.kind() == UpdateKind::Flagged {
            for f in &u.flags {
                let note = f.note.as_deref().map(md).unwrap_or_default();
                line(format!(
                    "   > {}",
                    words.t(
                        "flag_line",
                        &[
                            ("reason", words.flag_reason(f.reason)),
                            ("date", f.date.to_string()),
                            ("note", note)
                        ]
                    )
                ));
            }
        }
    }
    line(String::new());

    if !r.review_queue.is_empty() {
        line(format!("## {}\n", words.t("review_queue", &[])));
        for (owner, paths) in &r.review_queue {
            line(format!(
                "- **{}**: {}",
                md(&words.owner(owner)),
                md(&paths.join(", "))
            ));
        }
        line(String::new());
    }

    let table = |title: &str, what: &str, rows: &[Top]| {
        let mut t = format!(
            "## {title}\n\n| # | {what} | {} | {} |\n| ---: | --- | ---: | ---: |\n",
            words.t("column_count", &[]),
            words.t("column_change", &[])
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
                words.change(row.change)
            ));
        }
        if rows.is_empty() {
            t.push_str(&format!("| | {} | | |\n", words.t("none", &[])));
        }
        t
    };
    let (query, article) = (words.t("column_query", &[]), words.t("column_article", &[]));
    for (title, what, rows) in top_lists(r) {
        let what = if what == "query" { &query } else { &article };
        line(table(&words.t(title, &[]), what, rows));
    }
    line(format!("## {}\n", words.t("ai_questions", &[])));
    if r.ai_questions.is_empty() {
        line(format!("{}\n", words.t("ai_none", &[])));
    } else {
        line(format!("{}\n", words.t("ai_intro", &[])));
        for q in &r.ai_questions {
            line(format!(
                "- {}: {}",
                words.quote(&md(&q.query)),
                md(&words.ai_why(q))
            ));
        }
        line(String::new());
    }
    s
}

/// The top lists: the key of their title, what their rows are (`query` or `article`), rows.
fn top_lists(r: &Report) -> [(&'static str, &'static str, &[Top]); 4] {
    [
        ("top_searches", "query", &r.top_searches),
        ("top_no_results", "query", &r.top_no_results),
        ("top_articles", "article", &r.top_articles),
        ("top_linked", "article", &r.top_linked),
    ]
}

/// One CSV row per item of every list; the header and the kinds stay machine names.
fn csv(r: &Report, words: &Words, out: &mut dyn Write) -> io::Result<()> {
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
            &i.trend.map(|t| t.to_string()).unwrap_or_default(),
            "",
            &words.write_why(i),
            &words.write_action(i),
        ])?;
    }
    for i in &r.to_update {
        let (unhelpful, due) = match &i.finding {
            super::Finding::Unhelpful { unhelpful_at_least }
            | super::Finding::Outdated { unhelpful_at_least } => {
                (unhelpful_at_least.to_string(), String::new())
            }
            super::Finding::ReviewDue { due, .. } => (String::new(), due.to_string()),
            _ => (String::new(), String::new()),
        };
        w.write_record([
            "to_update",
            i.kind().name(),
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
            &unhelpful,
            "",
            &due,
            &words.update_why(i, r.days),
            &words.update_action(i),
        ])?;
    }
    for (section, _, rows) in top_lists(r) {
        for t in rows {
            let count = t.count.to_string();
            let (query, path, title, searches, views) = match &t.path {
                None => (t.label.as_str(), "", "", count.as_str(), ""),
                Some(p) => ("", p.as_str(), t.label.as_str(), "", count.as_str()),
            };
            w.write_record([
                section,
                "",
                query,
                path,
                title,
                "",
                "",
                searches,
                "",
                "",
                "",
                "",
                views,
                "",
                "",
                "",
                &t.change.to_string(),
                "",
                "",
                "",
            ])?;
        }
    }
    for q in &r.ai_questions {
        let count = q.count.to_string();
        let mut row = [""; 20];
        row[0] = "ai_questions";
        row[1] = q.gap.name();
        row[2] = &q.query;
        row[3] = q.best.as_deref().unwrap_or("");
        row[5] = q.lang.as_deref().unwrap_or("");
        row[7] = &count;
        let why = words.ai_why(q);
        row[18] = &why;
        let action = words.t("ai_action", &[]);
        row[19] = &action;
        w.write_record(row)?;
    }
    w.flush()
}

const TEMPLATE: &str = include_str!("../../templates/report.html");

/// The self-contained HTML report: inline CSS and SVG charts, no script, no external file.
/// Its texts are the `[report]` ones, through `t(key, name=value)` in the template.
pub fn html(r: &Report, words: &Words) -> String {
    html_with(r, words, &Extras::default())
}

/// [`html`], with the edit links and the controls of `extras`.
pub fn html_with(r: &Report, words: &Words, extras: &Extras) -> String {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    let for_template = words.clone();
    env.add_function(
        "t",
        move |key: &str, kwargs: Kwargs| -> Result<String, minijinja::Error> {
            let mut args = Vec::new();
            for name in kwargs.args() {
                let value: Value = kwargs.get(name)?;
                args.push((name, value.to_string()));
            }
            Ok(for_template.t(key, &args))
        },
    );
    if let Err(e) = env.add_template("report.html", TEMPLATE) {
        return format!("<!doctype html><p>report template error: {e}</p>");
    }
    let value = serde_json::to_value(json_with(r, words, extras)).unwrap_or_default();
    let groups = |list: &Json, heading: &dyn Fn(usize) -> String| -> Vec<Value> {
        let mut out: Vec<(String, Vec<Json>)> = Vec::new();
        for (i, item) in list.as_array().into_iter().flatten().enumerate() {
            let title = heading(i);
            match out.last_mut() {
                Some((t, items)) if *t == title => items.push(item.clone()),
                _ => out.push((title, vec![item.clone()])),
            }
        }
        out.into_iter()
            .map(|(title, items)| context! { title => title, items => Value::from(minijinja::value::Serde(&items)) })
            .collect()
    };
    let write_groups = groups(&value["to_write"], &|i| {
        words.write_heading(r.to_write[i].kind)
    });
    let update_groups = groups(&value["to_update"], &|i| {
        words.update_heading(r.to_update[i].kind())
    });
    let charts = context! {
        searches => Value::from_safe_string(svg::searches_per_day(&r.charts.days, words)),
        no_results => Value::from_safe_string(svg::no_result_rate(&r.charts.days, words)),
        helpfulness => Value::from_safe_string(svg::helpfulness(&r.charts.weeks, words)),
    };
    let review_queue: Vec<(String, String)> = r
        .review_queue
        .iter()
        .map(|(owner, paths)| (words.owner(owner), paths.join(", ")))
        .collect();
    let tops: Vec<Value> = top_lists(r)
        .into_iter()
        .map(|(title, what, rows)| {
            let rows: Vec<Value> = rows
                .iter()
                .map(|t| {
                    context! {
                        label => &t.label, url => &t.url, count => t.count,
                        change => words.change(t.change), trend => t.change.to_string(),
                    }
                })
                .collect();
            context! { title => words.t(title, &[]), what => words.t(&format!("column_{what}"), &[]), rows => rows }
        })
        .collect();
    let tmpl = env.get_template("report.html").expect("added above");
    tmpl.render(context! {
        lang => words.lang(),
        r => Value::from(minijinja::value::Serde(r)),
        summary_change => words.change(r.summary.searches_change),
        write_groups => write_groups,
        update_groups => update_groups,
        review_queue => review_queue,
        tops => tops,
        ai_questions => r
            .ai_questions
            .iter()
            .map(|q| context! { query => &q.query, why => words.ai_why(q) })
            .collect::<Vec<_>>(),
        charts => charts,
        nothing_to_write => words.nothing_to_write(r),
        no_result_pct => pct(r.summary.no_result_rate),
        no_click_pct => pct(r.summary.no_click_rate),
        helpful_pct => r.summary.helpful_rate.map(pct),
        new => words.t("new", &[]),
        controls => extras.controls.as_ref().map(|c| Value::from(minijinja::value::Serde(c))),
    })
    .unwrap_or_else(|e| format!("<!doctype html><p>report template error: {e}</p>"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{FlagReason, Reason};
    use crate::report::facts::{Day, Week};
    use crate::report::{Advice, Change, Closest, Count, Finding, FlagNote, WordsThen};

    #[test]
    fn markdown_escapes_what_readers_typed() {
        assert_eq!(md("a|b *c* <script>\nx"), "a\\|b \\*c\\* \\<script\\> x");
    }

    /// Everything readers and writers wrote, in Greek: any Latin word in a rendered report
    /// is then the report's own.
    fn closest(has: &[&str], missing: &[&str]) -> Closest {
        Closest {
            path: "el/άρθρο.md".into(),
            title: "Άρθρο".into(),
            url: "/el/άρθρο".into(),
            lang: "el".into(),
            has: has.iter().map(|w| w.to_string()).collect(),
            missing: missing.iter().map(|w| w.to_string()).collect(),
        }
    }

    fn need(kind: WriteKind, advice: Advice, closest: Vec<Closest>) -> WriteItem {
        WriteItem {
            kind,
            advice,
            query: "έκπτωση φοιτητών".into(),
            queries: vec![
                Count {
                    text: "έκπτωση φοιτητών".into(),
                    count: 20,
                },
                Count {
                    text: "φοιτητική έκπτωση".into(),
                    count: 1,
                },
            ],
            languages: vec!["el".into()],
            searches: 21,
            visitors: 21,
            no_results: 21,
            no_clicks: 0,
            contacts: 1,
            previous: 4,
            trend: (kind != WriteKind::Translation).then_some(Change::New),
            covered: false,
            closest,
            path: (kind == WriteKind::Translation).then(|| "el/άρθρο.md".into()),
            then: None,
            priority: 1.0,
        }
    }

    fn article(finding: Finding, owner: Option<&str>) -> UpdateItem {
        UpdateItem {
            finding,
            path: "el/άρθρο.md".into(),
            title: "Άρθρο".into(),
            url: "/el/άρθρο".into(),
            lang: "el".into(),
            owner: owner.map(str::to_string),
            views: 80,
            yes: 2,
            no: 7,
            reasons: BTreeMap::from([
                (Reason::Outdated, 5),
                (Reason::Unclear, 1),
                (Reason::Incomplete, 1),
            ]),
            comments: vec!["Παλιό".into()],
            flags: vec![
                FlagNote {
                    date: Date(20_000),
                    reason: FlagReason::Wrong,
                    note: Some("Λάθος τιμή".into()),
                },
                FlagNote {
                    date: Date(20_001),
                    reason: FlagReason::Outdated,
                    note: None,
                },
            ],
            contacts: 25,
            last_change: Some(Date(19_000)),
            priority: 1.0,
        }
    }

    /// A report with every kind of finding, every advice and every list.
    pub(crate) fn every_finding() -> Report {
        let top = |path: Option<&str>, change| Top {
            label: "έκπτωση".into(),
            path: path.map(str::to_string),
            url: path.map(|p| format!("/{p}")),
            count: 3,
            previous: 0,
            change,
        };
        let mut unflagged = article(Finding::Flagged, None);
        unflagged.flags.iter_mut().for_each(|f| f.note = None);
        Report {
            since: Date(20_000),
            until: Date(20_030),
            days: 30,
            summary: Summary {
                searches: 120,
                searches_change: Change::New,
                no_result_rate: 0.25,
                no_click_rate: 0.1,
                views: 300,
                votes: 9,
                helpful_rate: Some(0.222),
                contact_clicks: 4,
                links_inserted: 2,
            },
            to_write: vec![
                need(WriteKind::NoResults, Advice::Write, vec![]),
                need(
                    WriteKind::NoResults,
                    Advice::WriteUncovered,
                    vec![closest(&["έκπτωση"], &["φοιτητών", "κάρτα"])],
                ),
                need(
                    WriteKind::NoResults,
                    Advice::WriteUncovered,
                    vec![closest(&[], &["φοιτητών"])],
                ),
                need(
                    WriteKind::NoClicks,
                    Advice::AddWords,
                    vec![closest(&["έκπτωση", "κάρτα"], &["φοιτητών"])],
                ),
                need(
                    WriteKind::NoClicks,
                    Advice::AddWords,
                    vec![closest(&["έκπτωση"], &["φοιτητών", "κάρτα"])],
                ),
                need(
                    WriteKind::NoClicks,
                    Advice::Retitle,
                    vec![closest(&["έκπτωση"], &[])],
                ),
                need(
                    WriteKind::NoResults,
                    Advice::Translate,
                    vec![closest(&["έκπτωση"], &[])],
                ),
                need(
                    WriteKind::Translation,
                    Advice::Translate,
                    vec![closest(&[], &[])],
                ),
                need(
                    WriteKind::NoResults,
                    Advice::AddWordsToTranslation,
                    vec![closest(&[], &["έκπτωση"]), closest(&["έκπτωση"], &[])],
                ),
                // What git says of the article's words, each way.
                WriteItem {
                    then: Some(WordsThen::HadThenAndNow),
                    ..need(
                        WriteKind::NoClicks,
                        Advice::Retitle,
                        vec![closest(&["έκπτωση"], &[])],
                    )
                },
                WriteItem {
                    then: Some(WordsThen::AddedSince {
                        changed: Date(20_031),
                    }),
                    ..need(
                        WriteKind::NoClicks,
                        Advice::Retitle,
                        vec![closest(&["έκπτωση"], &[])],
                    )
                },
                WriteItem {
                    then: Some(WordsThen::MissingThenAndNow),
                    ..need(
                        WriteKind::NoClicks,
                        Advice::AddWords,
                        vec![closest(&["έκπτωση"], &["φοιτητών"])],
                    )
                },
                WriteItem {
                    then: Some(WordsThen::RemovedSince {
                        changed: Date(20_025),
                    }),
                    ..need(
                        WriteKind::NoClicks,
                        Advice::AddWords,
                        vec![closest(&["έκπτωση"], &["φοιτητών"])],
                    )
                },
            ],
            to_update: vec![
                article(Finding::Flagged, None),
                unflagged,
                article(
                    Finding::Unhelpful {
                        unhelpful_at_least: 0.45,
                    },
                    None,
                ),
                article(
                    Finding::Outdated {
                        unhelpful_at_least: 0.45,
                    },
                    None,
                ),
                article(
                    Finding::ContactAfterView {
                        site_contact_rate: 0.02,
                    },
                    None,
                ),
                article(Finding::Stale { age_days: 400 }, None),
                article(
                    Finding::TranslationBehind {
                        source: "el/πηγή.md".into(),
                        source_title: "Πηγή".into(),
                        source_lang: "el".into(),
                        source_changed: Date(19_990),
                    },
                    None,
                ),
                article(Finding::Unread { previous_views: 0 }, None),
                article(Finding::Unread { previous_views: 1 }, None),
                article(Finding::Unread { previous_views: 12 }, None),
                article(
                    Finding::ReviewDue {
                        every_days: 90,
                        reviewed: Date(19_000),
                        due: Date(19_090),
                    },
                    Some("μαρία@παράδειγμα"),
                ),
                article(
                    Finding::ReviewDue {
                        every_days: 90,
                        reviewed: Date(19_000),
                        due: Date(19_090),
                    },
                    None,
                ),
            ],
            review_queue: BTreeMap::from([
                ("".to_string(), vec!["el/άρθρο.md".to_string()]),
                (
                    "μαρία@παράδειγμα".to_string(),
                    vec!["el/άρθρο.md".to_string()],
                ),
            ]),
            top_searches: vec![top(None, Change::New), top(None, Change::Up(40.0))],
            top_no_results: vec![top(None, Change::Down(20.0))],
            top_articles: vec![top(Some("el/άρθρο.md"), Change::Same)],
            top_linked: vec![],
            ai_questions: vec![super::super::ai::AiQuestion {
                query: "δωροκάρτες".into(),
                lang: Some("en".into()),
                count: 3,
                gap: super::super::ai::AiGap::NothingFound,
                best: None,
            }],
            charts: Charts {
                days: vec![
                    Day {
                        day: 20_000,
                        searches: 4,
                        no_results: 1,
                        views: 9,
                        partial: false,
                    },
                    Day {
                        day: 20_001,
                        searches: 0,
                        no_results: 0,
                        views: 0,
                        partial: true,
                    },
                ],
                weeks: vec![
                    Week {
                        day: 20_000,
                        yes: 3,
                        no: 1,
                    },
                    Week {
                        day: 20_007,
                        yes: 0,
                        no: 0,
                    },
                ],
            },
        }
    }

    /// What a reader sees of a rendering: the text of a page (no tags, styles or entities),
    /// the `why` and `action` of JSON, the worded columns of CSV.
    fn visible(format: Format, out: &str) -> String {
        match format {
            Format::Html => {
                let without_style = match (out.find("<style>"), out.find("</style>")) {
                    (Some(a), Some(b)) => format!("{}{}", &out[..a], &out[b..]),
                    _ => out.to_string(),
                };
                let mut text = String::new();
                let mut in_tag = false;
                for c in without_style.chars() {
                    match c {
                        '<' => in_tag = true,
                        '>' => {
                            in_tag = false;
                            text.push(' ');
                        }
                        _ if !in_tag => text.push(c),
                        _ => {}
                    }
                }
                let mut clean = String::new();
                let mut rest = text.as_str();
                while let Some(i) = rest.find('&') {
                    clean.push_str(&rest[..i]);
                    let after = &rest[i + 1..];
                    match after.find(';').filter(|&j| j <= 8) {
                        Some(j) => rest = &after[j + 1..],
                        None => {
                            clean.push('&');
                            rest = after;
                        }
                    }
                }
                clean.push_str(rest);
                clean
            }
            Format::Json => {
                let v: Json = serde_json::from_str(out).unwrap();
                let mut text = String::new();
                for list in ["to_write", "to_update"] {
                    for item in v[list].as_array().unwrap() {
                        text.push_str(item["why"].as_str().unwrap());
                        text.push('\n');
                        text.push_str(item["action"].as_str().unwrap());
                        text.push('\n');
                    }
                }
                text
            }
            Format::Csv => {
                let mut r = ::csv::Reader::from_reader(out.as_bytes());
                r.records()
                    .map(|row| {
                        let row = row.unwrap();
                        format!("{}\n{}\n", &row[18], &row[19])
                    })
                    .collect()
            }
            Format::Markdown => out.to_string(),
        }
    }

    /// Words in Latin letters, other than the language tags the sample report holds.
    fn latin_words(text: &str) -> Vec<String> {
        text.split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| w.len() >= 2 && !matches!(*w, "el" | "md"))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn the_report_speaks_every_interface_language() {
        let r = every_finding();
        let english = Words::english();
        for lang in ["en", "zh-cn", "zh-tw", "uk", "te"] {
            let words = Words::new(crate::i18n::built_in(), lang);
            assert_eq!(words.lang(), lang);
            for format in [Format::Markdown, Format::Json, Format::Csv, Format::Html] {
                let mut out = Vec::new();
                write(&r, format, &words, &mut out).unwrap();
                let out = String::from_utf8(out).unwrap();
                let text = visible(format, &out);
                assert!(
                    !text.contains("report."),
                    "{lang} {format:?}: a missing text\n{text}"
                );
                assert!(
                    !text.contains('{') && !text.contains('}'),
                    "{lang} {format:?}: a placeholder left\n{text}"
                );
                if lang != "en" {
                    let latin = latin_words(&text);
                    assert!(
                        latin.is_empty(),
                        "{lang} {format:?}: English left: {latin:?}\n{text}"
                    );
                    // The same sentences as in English, not English's words.
                    assert_ne!(
                        words.write_action(&r.to_write[0]),
                        english.write_action(&r.to_write[0])
                    );
                }
            }
            let html = html(&r, &words);
            assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{lang}");
        }
    }

    #[test]
    fn a_need_says_how_many_of_its_searches_failed() {
        let r = every_finding();
        let mut need = r.to_write[0].clone();
        need.searches = 5;
        need.no_results = 4;
        need.contacts = 0;
        assert_eq!(
            Words::english().write_why(&need),
            "5 searches by 21 people for “έκπτωση φοιτητών” (in el): 4 found nothing"
        );
        for lang in ["zh-cn", "zh-tw", "uk", "te"] {
            let why = Words::new(crate::i18n::built_in(), lang).write_why(&need);
            assert!(why.contains('5') && why.contains('4'), "{lang}: {why}");
            assert!(
                !why.contains('{') && !why.contains("report."),
                "{lang}: {why}"
            );
        }
    }

    #[test]
    fn english_is_as_it_was() {
        let r = every_finding();
        let w = Words::english();
        let actions: Vec<String> = r.to_write.iter().map(|i| w.write_action(i)).collect();
        assert_eq!(
            actions[0],
            "Write an article about “έκπτωση φοιτητών”: no article covers this"
        );
        assert_eq!(
            actions[1],
            "Write an article about “έκπτωση φοιτητών”: no article covers it (the closest, “Άρθρο”, has only “έκπτωση”)"
        );
        assert!(
            actions[2].ends_with("has only other words)"),
            "{}",
            actions[2]
        );
        assert!(actions[3].starts_with("Add the word “φοιτητών” to “Άρθρο” (el/άρθρο.md)"));
        assert!(actions[4].starts_with("Add the words “φοιτητών”, “κάρτα” to"));
        // What git says of the article's words, after the advice.
        assert!(
            actions[9].ends_with(
                "or write the article they expect (it had these words when readers searched, and has them now)"
            ),
            "{}",
            actions[9]
        );
        assert!(
            actions[10].ends_with(
                "(it has had these words only since 2024-11-04: searches before then could not find them there)"
            ),
            "{}",
            actions[10]
        );
        assert!(actions[11].ends_with(
            "or write an article about it (it lacked these words when readers searched, and lacks them now)"
        ));
        assert!(
            actions[12].ends_with(
                "(it had these words when readers searched, and lost them on 2024-10-29)"
            )
        );
        let json = serde_json::to_value(&r.to_write[10]).unwrap();
        assert_eq!(
            json["then"],
            serde_json::json!({"state": "added_since", "changed": "2024-11-04"})
        );
        assert_eq!(
            w.write_why(&r.to_write[0]),
            "21 searches by 21 people for “έκπτωση φοιτητών” (in el) found nothing; 1 then contacted support"
        );
        let why: Vec<String> = r
            .to_update
            .iter()
            .map(|i| w.update_why(i, r.days))
            .collect();
        assert_eq!(
            why[0],
            "agents flagged it 2 times since it last changed: wrong, outdated"
        );
        assert_eq!(
            why[2],
            "7 of 9 readers said it did not help (at least 45% with 95% confidence); reasons: outdated 5, unclear 1, incomplete 1"
        );
        assert_eq!(
            why[8],
            "nobody read it in 30 days (read once in the 30 days before)"
        );
        assert_eq!(
            w.update_action(&r.to_update[0]),
            "Fix “Άρθρο” — agents' notes: “Λάθος τιμή”"
        );
        assert_eq!(
            w.update_action(&r.to_update[1]),
            "Check “Άρθρο”: agents say it is wrong, outdated"
        );
        assert_eq!(
            w.update_action(&r.to_update[11]),
            "(no owner): review “Άρθρο”"
        );
        assert_eq!(
            w.update_action(&r.to_update[6]),
            "Update the el translation of “Πηγή” (el/πηγή.md)"
        );
        let md = markdown(&r, &w);
        assert!(
            md.starts_with("# Content-gap report: 2024-10-04 to 2024-11-03 (30 days)\n"),
            "{md}"
        );
        assert!(md.contains("\n120 searches (new on the period before): 25.0% found nothing, 10.0% opened nothing. 300 article views; 9 votes, 22.2% helpful; 4 contact clicks; 2 links inserted by agents.\n"), "{md}");
        assert!(md.contains("   trend new; languages: el; typed as “έκπτωση φοιτητών” ×20, “φοιτητική έκπτωση” ×1; closest article: none.\n"), "{md}");
        assert!(md.contains("- **(no owner)**: el/άρθρο.md\n"), "{md}");
        assert!(md.contains("| | none | | |"), "{md}");
    }
}
