//! The report's list of questions AI agents asked (through the MCP server) that found
//! nothing or only weak answers: the needs a bot could not serve, where a human then had to.
//! Typed findings; their words are in [`super::wording`].

use std::collections::HashMap;

use serde::Serialize;

use crate::metrics::AiSearch;

/// The most questions listed.
pub const MAX_QUESTIONS: usize = 50;

/// Why an AI agent's question is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AiGap {
    /// The search found no article.
    NothingFound,
    /// Every article it found is one readers often find unhelpful.
    OnlyWeak,
}

impl AiGap {
    pub fn name(self) -> &'static str {
        match self {
            AiGap::NothingFound => "nothing_found",
            AiGap::OnlyWeak => "only_weak",
        }
    }
}

/// A question AI agents asked, as many times as `count`, and what they got.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AiQuestion {
    /// As first asked (a message is kept to its first part, as recorded).
    pub query: String,
    pub lang: Option<String>,
    pub count: u64,
    pub gap: AiGap,
    /// For [`AiGap::OnlyWeak`]: the best (weak) article they were given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best: Option<String>,
}

/// The questions of `searches` that found nothing or only articles `weak` says readers
/// find unhelpful, grouped as the report groups searches (their normalized form; a whole
/// message on its own), most asked first.
pub fn questions(searches: &[AiSearch], weak: &dyn Fn(&str) -> bool) -> Vec<AiQuestion> {
    let mut by_key: HashMap<&str, AiQuestion> = HashMap::new();
    for s in searches {
        let gap = if s.total == 0 || s.results.is_empty() {
            AiGap::NothingFound
        } else if s.results.iter().all(|p| weak(p)) {
            AiGap::OnlyWeak
        } else {
            continue;
        };
        let key = if s.normalized.is_empty() {
            s.query.as_str()
        } else {
            s.normalized.as_str()
        };
        by_key
            .entry(key)
            .and_modify(|q| q.count += 1)
            .or_insert_with(|| AiQuestion {
                query: s.query.clone(),
                lang: s.lang.clone(),
                count: 1,
                gap,
                best: (gap == AiGap::OnlyWeak)
                    .then(|| s.results.first().cloned())
                    .flatten(),
            });
    }
    let mut list: Vec<AiQuestion> = by_key.into_values().collect();
    list.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.query.cmp(&b.query)));
    list.truncate(MAX_QUESTIONS);
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(query: &str, normalized: &str, results: &[&str]) -> AiSearch {
        AiSearch {
            at: 0,
            query: query.into(),
            normalized: normalized.into(),
            lang: None,
            total: results.len() as u64,
            results: results.iter().map(|r| r.to_string()).collect(),
        }
    }

    #[test]
    fn lists_what_found_nothing_or_only_weak_articles_most_asked_first() {
        let searches = [
            search("Gift cards?", "card gift", &[]),
            search("gift cards", "card gift", &[]),
            search("refund", "refund", &["en/billing/refunds.md"]),
            search("invoice", "invoice", &["en/billing/invoice.md"]),
            search(
                "invoice copy",
                "copy invoice",
                &["en/billing/invoice.md", "en/billing/refunds.md"],
            ),
            search("My parcel is late and …", "", &[]),
        ];
        let weak = |p: &str| p == "en/billing/invoice.md";
        let found = questions(&searches, &weak);
        assert_eq!(found.len(), 3, "{found:#?}");
        assert_eq!(found[0].query, "Gift cards?");
        assert_eq!((found[0].count, found[0].gap), (2, AiGap::NothingFound));
        let invoice = found.iter().find(|q| q.query == "invoice").unwrap();
        assert_eq!(invoice.gap, AiGap::OnlyWeak);
        assert_eq!(invoice.best.as_deref(), Some("en/billing/invoice.md"));
        assert!(found.iter().any(|q| q.query.starts_with("My parcel")));
        assert!(
            !found
                .iter()
                .any(|q| q.query == "refund" || q.query == "invoice copy")
        );
    }
}
