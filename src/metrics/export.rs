//! Raw events for people who analyse them elsewhere: one JSON object per line, or CSV.
//!
//! Both formats have the same fields, named as in the database; a field an event kind does
//! not have is absent in JSON Lines and empty in CSV. Times are RFC 3339, UTC, milliseconds.

use std::io::Write;

use serde::Serialize;

use super::{Event, MetricsError, MetricsReader, Millis};

/// Output format of `kb export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Csv,
}

/// One exported event.
#[derive(Debug, Default, Serialize)]
struct Row {
    #[serde(rename = "type")]
    kind: &'static str,
    at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    visitor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    search_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    normalized: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lang: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'static str>,
    /// The result paths shown for a search (a JSON array, in CSV too).
    #[serde(skip_serializing_if = "Option::is_none")]
    results: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    partial: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    helpful: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    /// The reader's interface language, for searches from the help center's pages.
    #[serde(skip_serializing_if = "Option::is_none")]
    ui: Option<String>,
}

const CSV_HEADER: [&str; 17] = [
    "type",
    "at",
    "visitor",
    "search_id",
    "query",
    "normalized",
    "lang",
    "total",
    "source",
    "results",
    "partial",
    "path",
    "position",
    "helpful",
    "reason",
    "comment",
    "ui",
];

/// RFC 3339 in UTC with milliseconds: `2025-03-01T09:30:00.123Z`.
pub fn rfc3339(ms: Millis) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_default()
}

fn row(event: Event) -> Row {
    match event {
        Event::Search(s) => Row {
            kind: "search",
            at: rfc3339(s.at),
            visitor: s.visitor,
            search_id: Some(s.id),
            query: Some(s.query),
            normalized: Some(s.normalized),
            lang: s.lang,
            total: Some(s.total),
            source: Some(s.source.as_str()),
            results: Some(serde_json::to_string(&s.results).unwrap_or_default()),
            partial: Some(s.partial),
            ui: s.ui,
            ..Row::default()
        },
        Event::Click(c) => Row {
            kind: "click",
            at: rfc3339(c.at),
            visitor: c.visitor,
            search_id: Some(c.search_id),
            path: Some(c.path),
            position: Some(c.position),
            ..Row::default()
        },
        Event::View(v) => Row {
            kind: "view",
            at: rfc3339(v.at),
            visitor: v.visitor,
            search_id: v.search_id,
            path: Some(v.path),
            ..Row::default()
        },
        Event::Vote(v) => Row {
            kind: "feedback",
            at: rfc3339(v.at),
            visitor: v.visitor,
            path: Some(v.path),
            helpful: Some(v.helpful),
            reason: v.reason.map(|r| r.as_str()),
            comment: v.comment,
            ..Row::default()
        },
        Event::Flag(f) => Row {
            kind: "flag",
            at: rfc3339(f.at),
            visitor: f.visitor,
            path: Some(f.path),
            reason: Some(f.reason.as_str()),
            comment: f.note,
            ..Row::default()
        },
        Event::Action(a) => Row {
            kind: a.kind.as_str(),
            at: rfc3339(a.at),
            visitor: a.visitor,
            search_id: a.search_id,
            query: a.query,
            source: a.source.map(|s| s.as_str()),
            path: a.path,
            ..Row::default()
        },
    }
}

fn csv_record(r: &Row) -> [String; 17] {
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let n = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
    let b = |v: Option<bool>| v.map(|b| b.to_string()).unwrap_or_default();
    [
        r.kind.to_string(),
        r.at.clone(),
        s(&r.visitor),
        s(&r.search_id),
        s(&r.query),
        s(&r.normalized),
        s(&r.lang),
        n(r.total),
        r.source.unwrap_or_default().to_string(),
        s(&r.results),
        b(r.partial),
        s(&r.path),
        n(r.position.map(u64::from)),
        b(r.helpful),
        r.reason.unwrap_or_default().to_string(),
        s(&r.comment),
        s(&r.ui),
    ]
}

/// Writes every event since `since`, oldest first; returns how many.
pub fn export(
    store: &dyn MetricsReader,
    since: Millis,
    format: Format,
    out: &mut dyn Write,
) -> Result<u64, MetricsError> {
    let io = MetricsError::Write;
    // Write errors keep their cause, so that a closed pipe can be told from a failure.
    let json = |e: serde_json::Error| match e.io_error_kind() {
        Some(kind) => MetricsError::Write(std::io::Error::new(kind, e)),
        None => MetricsError::Other(e.to_string()),
    };
    let csv = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(e) => MetricsError::Write(e),
        other => MetricsError::Other(format!("{other:?}")),
    };
    let mut n = 0u64;
    match format {
        Format::Jsonl => {
            store.events_since(since, &mut |e| {
                serde_json::to_writer(&mut *out, &row(e)).map_err(json)?;
                out.write_all(b"\n").map_err(io)?;
                n += 1;
                Ok(())
            })?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record(CSV_HEADER).map_err(csv)?;
            store.events_since(since, &mut |e| {
                w.write_record(csv_record(&row(e))).map_err(csv)?;
                n += 1;
                Ok(())
            })?;
            w.flush().map_err(io)?;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::store_tests::{Backend, on_both_backends};
    use crate::metrics::{Reason, View, Vote};

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_740_821_400_123), "2025-03-01T09:30:00.123Z");
    }

    on_both_backends!(jsonl_and_csv_carry_the_same_events);

    fn jsonl_and_csv_carry_the_same_events(backend: Backend) {
        let (_db, s) = backend.holding(&[
            Event::View(View {
                at: 1000,
                visitor: Some("v".into()),
                path: "en/a.md".into(),
                search_id: None,
            }),
            Event::Vote(Vote {
                at: 2000,
                visitor: Some("v".into()),
                path: "en/a.md".into(),
                helpful: false,
                reason: Some(Reason::Unclear),
                comment: Some("Step 3, \"Save\", is missing,\nsee screenshot".into()),
                id: Some("0123456789abcdef0123456789abcdef".into()),
            }),
        ]);
        let mut jsonl = Vec::new();
        assert_eq!(export(&*s, 0, Format::Jsonl, &mut jsonl).unwrap(), 2);
        let lines: Vec<serde_json::Value> = String::from_utf8(jsonl)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["type"], "view");
        assert_eq!(lines[1]["reason"], "unclear");
        assert!(lines[0].get("helpful").is_none());

        let mut csv_out = Vec::new();
        export(&*s, 1500, Format::Csv, &mut csv_out).unwrap();
        let mut r = csv::Reader::from_reader(csv_out.as_slice());
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(&rows[0][0], "feedback");
        assert_eq!(
            &rows[0][15],
            "Step 3, \"Save\", is missing,\nsee screenshot"
        );
    }
}
