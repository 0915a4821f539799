//! Charts of the HTML report, drawn on the server as inline SVG: no script, no library, and
//! the page stays one self-contained file a lead can mail or attach to a ticket.
//!
//! Each chart has a `<title>` per mark, so hovering a bar or a point shows its figure, and an
//! `aria-label` summing it up for screen readers.

use std::fmt::Write;

use super::Date;
use super::facts::{Day, Week};
use super::wording::Words;

const W: f64 = 640.0;
const H: f64 = 180.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 24.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn date(day: i64) -> String {
    Date(day).to_string()
}

/// A round upper bound for an axis: 1, 2 or 5 times a power of ten.
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|v| *v >= max)
        .unwrap_or(10.0 * p)
}

/// The frame: the SVG element, horizontal grid lines with their labels, and date labels under
/// the first and last slot.
fn frame(
    out: &mut String,
    label: &str,
    max: f64,
    fmt: &dyn Fn(f64) -> String,
    first: &str,
    last: &str,
) {
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(label)
    );
    for i in 0..=4 {
        let v = max * f64::from(i) / 4.0;
        let y = TOP + (H - TOP - BOTTOM) * (1.0 - f64::from(i) / 4.0);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end" font-size="11" fill="#666">{}</text>"##,
            W - RIGHT,
            LEFT - 4.0,
            y + 3.0,
            esc(&fmt(v))
        );
    }
    let _ = write!(
        out,
        r##"<text x="{LEFT}" y="{}" font-size="11" fill="#666">{}</text><text x="{}" y="{}" font-size="11" fill="#666" text-anchor="end">{}</text>"##,
        H - 6.0,
        esc(first),
        W - RIGHT,
        H - 6.0,
        esc(last)
    );
}

fn y_of(v: f64, max: f64) -> f64 {
    TOP + (H - TOP - BOTTOM) * (1.0 - (v / max).clamp(0.0, 1.0))
}

/// What a day's mark adds when the period covers only part of it.
fn partial_note(d: &Day, words: &Words) -> String {
    if d.partial {
        words.t("chart.partial", &[])
    } else {
        String::new()
    }
}

/// Searches per day, as bars; the part that found nothing in a second colour.
pub fn searches_per_day(days: &[Day], words: &Words) -> String {
    let mut out = String::new();
    let max = nice_max(days.iter().map(|d| d.searches).max().unwrap_or(0) as f64);
    let total: u64 = days.iter().map(|d| d.searches).sum();
    let (first, last) = match (days.first(), days.last()) {
        (Some(f), Some(l)) => (date(f.day), date(l.day)),
        _ => (String::new(), String::new()),
    };
    frame(
        &mut out,
        &words.t(
            "chart.searches",
            &[
                ("total", total.to_string()),
                ("first", first.clone()),
                ("last", last.clone()),
            ],
        ),
        max,
        &|v| format!("{v:.0}"),
        &first,
        &last,
    );
    let slot = (W - LEFT - RIGHT) / days.len().max(1) as f64;
    let bar = (slot * 0.8).max(1.0);
    for (i, d) in days.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
        let (y, y0) = (y_of(d.searches as f64, max), y_of(d.no_results as f64, max));
        let base = y_of(0.0, max);
        let title = words.t(
            "chart.searches_day",
            &[
                ("date", date(d.day)),
                ("searches", d.searches.to_string()),
                ("no_results", d.no_results.to_string()),
            ],
        ) + &partial_note(d, words);
        // A part of a day is drawn faded: its bar is not a whole day's.
        let faded = if d.partial {
            r#" class="partial" opacity="0.4""#
        } else {
            ""
        };
        let _ = write!(
            out,
            r##"<g{faded}><title>{}</title><rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{:.1}" fill="#3b6fb6"/><rect x="{x:.1}" y="{y0:.1}" width="{bar:.1}" height="{:.1}" fill="#d9822b"/></g>"##,
            esc(&title),
            base - y,
            base - y0
        );
    }
    out.push_str("</svg>");
    out
}

/// A point of a [`rate_line`]: its label, its rate (none: no data), its title, and whether
/// it covers only part of its slot (drawn hollow).
type Point = (String, Option<f64>, String, bool);

/// A line of rates (0–1) with a point per slot; slots without data break the line.
fn rate_line(label: &str, points: &[Point], colour: &str) -> String {
    let mut out = String::new();
    let max = nice_max(points.iter().filter_map(|p| p.1).fold(0.0, f64::max)).min(1.0);
    let (first, last) = match (points.first(), points.last()) {
        (Some(f), Some(l)) => (f.0.clone(), l.0.clone()),
        _ => (String::new(), String::new()),
    };
    frame(
        &mut out,
        label,
        max,
        &|v| format!("{:.0}%", v * 100.0),
        &first,
        &last,
    );
    let slot = (W - LEFT - RIGHT) / points.len().max(1) as f64;
    let mut path = String::new();
    let mut pen_down = false;
    for (i, (_, v, _, _)) in points.iter().enumerate() {
        let x = LEFT + slot * (i as f64 + 0.5);
        match v {
            Some(v) => {
                let _ = write!(
                    path,
                    "{}{x:.1},{:.1} ",
                    if pen_down { "L" } else { "M" },
                    y_of(*v, max)
                );
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    let _ = write!(
        out,
        r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
        path.trim()
    );
    for (i, (_, v, title, partial)) in points.iter().enumerate() {
        if let Some(v) = v {
            let x = LEFT + slot * (i as f64 + 0.5);
            // A part of a slot is drawn hollow: its rate is not a whole slot's.
            let fill = if *partial {
                format!(r#"fill="white" stroke="{colour}" class="partial""#)
            } else {
                format!(r#"fill="{colour}""#)
            };
            let _ = write!(
                out,
                r#"<circle cx="{x:.1}" cy="{:.1}" r="3" {fill}><title>{}</title></circle>"#,
                y_of(*v, max),
                esc(title)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// The share of searches that found nothing, per day.
pub fn no_result_rate(days: &[Day], words: &Words) -> String {
    let points: Vec<Point> = days
        .iter()
        .map(|d| {
            let rate = (d.searches > 0).then(|| d.no_results as f64 / d.searches as f64);
            let title = match rate {
                Some(r) => words.t(
                    "chart.no_results_day",
                    &[
                        ("date", date(d.day)),
                        ("percent", format!("{:.0}", r * 100.0)),
                        ("searches", d.searches.to_string()),
                    ],
                ),
                None => words.t("chart.no_searches_day", &[("date", date(d.day))]),
            } + &partial_note(d, words);
            (date(d.day), rate, title, d.partial)
        })
        .collect();
    rate_line(&words.t("chart.no_results", &[]), &points, "#d9822b")
}

/// The share of "Yes, it helped" votes, per week.
pub fn helpfulness(weeks: &[Week], words: &Words) -> String {
    let points: Vec<Point> = weeks
        .iter()
        .map(|w| {
            let n = w.yes + w.no;
            let rate = (n > 0).then(|| w.yes as f64 / n as f64);
            let title = match rate {
                Some(r) => words.t(
                    "chart.helpful_week",
                    &[
                        ("date", date(w.day)),
                        ("percent", format!("{:.0}", r * 100.0)),
                        ("votes", n.to_string()),
                    ],
                ),
                None => words.t("chart.no_votes_week", &[("date", date(w.day))]),
            };
            (
                words.t("chart.week", &[("date", date(w.day))]),
                rate,
                title,
                false,
            )
        })
        .collect();
    rate_line(&words.t("chart.helpful", &[]), &points, "#2e8b57")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_are_round() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(130.0), 200.0);
        assert_eq!(nice_max(0.33), 0.5);
    }

    #[test]
    fn charts_have_a_mark_per_slot_and_a_label() {
        let days: Vec<Day> = (0..3)
            .map(|i| Day {
                day: 20_000 + i,
                searches: 10 * i as u64,
                no_results: i as u64,
                views: 0,
                partial: i == 2,
            })
            .collect();
        let words = Words::english();
        let bars = searches_per_day(&days, &words);
        assert_eq!(bars.matches("<g").count(), 3);
        assert!(bars.contains("30 in all"), "{bars}");
        // The last day is only part of one: faded, and its title says so.
        assert_eq!(bars.matches(r#"class="partial""#).count(), 1, "{bars}");
        assert!(
            bars.contains("20 searches, 2 found nothing (part of the day only)"),
            "{bars}"
        );
        let line = no_result_rate(&days, &words);
        // The day without searches has no point and breaks the line.
        assert_eq!(line.matches("<circle").count(), 2);
        assert_eq!(line.matches(r#"class="partial""#).count(), 1, "{line}");
        assert!(line.contains("no searches") || !line.contains("NaN"));
        assert!(!line.contains("NaN"));
        let weeks = [Week {
            day: 20_000,
            yes: 3,
            no: 1,
        }];
        assert!(helpfulness(&weeks, &words).contains("75% of 4 votes"));
        assert!(searches_per_day(&[], &words).ends_with("</svg>"));
    }
}
