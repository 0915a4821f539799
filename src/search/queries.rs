//! Search tests for writers: an article lists in its front matter the questions it answers
//! (`queries: [...]`), and each must rank the article in the top 3 of its language. A content
//! change that breaks how customers find an article then fails `kb check` before it ships.

use std::path::Path;

use super::{Engine, SearchParams};
use crate::articles::{Article, shown_path};
use crate::error::Problem;

/// How high an article must rank for each of its own queries.
pub const TOP: usize = 3;

/// Outcome of the search tests.
#[derive(Debug, Default)]
pub struct QueryReport {
    pub tests: usize,
    pub failures: Vec<Problem>,
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

/// Runs every article's `queries` against `engine` (an index of the same articles).
pub fn run(engine: &Engine, dir: &Path, articles: &[Article]) -> QueryReport {
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
            let params = SearchParams {
                lang: Some(a.lang.clone()),
                limit: 10,
                drafts: true,
                ..SearchParams::new(q.clone())
            };
            let message = match engine.search(&params) {
                Err(e) => format!("search test {q:?} cannot run: {e}"),
                Ok(r) => match r.results.iter().position(|h| h.path == a.path) {
                    Some(rank) if rank < TOP => continue,
                    Some(rank) => format!(
                        "search test failed: {q:?} ranks this article {} (it must be in the top {TOP}); above it: {}",
                        ordinal(rank + 1),
                        r.results[..rank.min(TOP)]
                            .iter()
                            .map(|h| h.path.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    None => format!(
                        "search test failed: {q:?} does not find this article in the top 10 of {} ({})",
                        a.lang,
                        match r.results.first() {
                            Some(h) => format!("first: {}", h.path),
                            None => "no results".to_string(),
                        }
                    ),
                },
            };
            report
                .failures
                .push(Problem::error(shown_path(dir, &a.path), line, message));
        }
    }
    report
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
