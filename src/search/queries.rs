//! Search tests for writers: an article lists in its front matter the questions it answers
//! (`queries: [...]`), and each must rank the article in the top 3 of its language. A content
//! change that breaks how customers find an article then fails `kb check` before it ships.
//!
//! A test is judged on the articles' text alone: `queries` are themselves searched (with a
//! high weight), so with them counted any article would find itself for any question it
//! lists, `purple elephant trampoline` included. And a listed question that lifts the
//! article, on the live site, above articles whose text answers it better is reported too
//! (a warning: the article's `queries` outweigh their text).

use std::path::Path;

use super::{Engine, Ranking, SearchParams};
use crate::articles::{Article, shown_path};
use crate::error::Problem;

/// How high an article must rank for each of its own queries.
pub const TOP: usize = 3;

/// Outcome of the search tests.
#[derive(Debug, Default)]
pub struct QueryReport {
    pub tests: usize,
    /// Tests that failed: the article's text alone does not rank it in the top [`TOP`].
    pub failures: Vec<Problem>,
    /// Tests that pass, whose query lifts the article on the live site above articles its
    /// text alone ranks below.
    pub warnings: Vec<Problem>,
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Runs every article's `queries` against `engine` (an index of the same articles): each
/// judged by the articles' text alone (their `queries` not counted), and compared with the
/// live ranking, which counts them.
pub fn run(engine: &Engine, dir: &Path, articles: &[Article]) -> QueryReport {
    let text_only = engine.with_ranking(Ranking {
        queries: 0.0,
        ..engine.ranking().clone()
    });
    let mut report = QueryReport::default();
    for a in articles {
        for (i, q) in a.queries.iter().enumerate() {
            report.tests += 1;
            let line = a
                .query_lines
                .get(i)
                .copied()
                .or_else(|| a.key_lines.get("queries").copied())
                .unwrap_or(1);
            let file = shown_path(dir, &a.path);
            let params = SearchParams {
                lang: Some(a.lang.clone()),
                limit: 10,
                drafts: true,
                ..SearchParams::new(q.clone())
            };
            let (text, live) = match (text_only.search(&params), engine.search(&params)) {
                (Ok(text), Ok(live)) => (text, live),
                (Err(e), _) | (_, Err(e)) => {
                    report.failures.push(Problem::error(
                        file,
                        line,
                        format!("search test {q:?} cannot run: {e}"),
                    ));
                    continue;
                }
            };
            let rank = text.results.iter().position(|h| h.path == a.path);
            let failure = match rank {
                Some(rank) if rank < TOP => None,
                Some(rank) => Some(format!(
                    "search test failed: {q:?} ranks this article {} by its text (it must be in the top {TOP}; its own `queries` do not count); above it: {}",
                    ordinal(rank + 1),
                    paths(&text.results[..rank.min(TOP)])
                )),
                None => Some(format!(
                    "search test failed: {q:?} does not find this article in the top 10 of {} by its text (its own `queries` do not count; {}): say it in the article, or drop the query",
                    a.lang,
                    match text.results.first() {
                        Some(h) => format!("first: {}", h.path),
                        None => "no results".to_string(),
                    }
                )),
            };
            if let Some(message) = failure {
                report.failures.push(Problem::error(file, line, message));
                continue;
            }
            // Articles the text ranks above this one that the live site shows below it.
            let rank = rank.unwrap_or_default();
            let live_rank = |path: &str| live.results.iter().position(|h| h.path == path);
            let own = live_rank(&a.path).unwrap_or(usize::MAX);
            let overtaken: Vec<_> = text.results[..rank]
                .iter()
                .filter(|h| live_rank(&h.path).is_none_or(|r| r > own))
                .cloned()
                .collect();
            if !overtaken.is_empty() {
                report.warnings.push(Problem::warning(
                    file,
                    line,
                    format!(
                        "search test {q:?} lifts this article above {} on the live site, whose text answers it better: reword the query, or say it in the article",
                        paths(&overtaken)
                    ),
                ));
            }
        }
    }
    report
}

/// The paths of results, for a message.
fn paths(hits: &[super::Hit]) -> String {
    hits.iter()
        .map(|h| h.path.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals() {
        let o: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22]
            .into_iter()
            .map(ordinal)
            .collect();
        assert_eq!(
            o,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd"
            ]
        );
    }
}
