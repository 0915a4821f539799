//! The rules of the "to write" list: needs several people searched for that no article met,
//! and articles readers reach for in a language they are not written in.

use std::collections::BTreeMap;

use super::facts::{Cluster, Facts};
use super::{
    Advice, Catalog, Change, Closest, Context, Count, WriteItem, WriteKind, family, wilson_lower,
};
use super::{CLOSEST_FOR, MIN_SEARCHES, MIN_VISITORS, TRANSLATION_MIN_CLICKS, UNMET_FROM};

/// The ways a need was typed, most frequent first (the first eight).
fn typed(queries: &[(String, u64)]) -> Vec<Count> {
    queries
        .iter()
        .take(8)
        .map(|(q, n)| Count {
            text: q.clone(),
            count: *n,
        })
        .collect()
}

/// What a need's closest articles say to do: an article in another language answers it;
/// none comes close; the closest lacks most of its words, or a few; or it has them all and
/// readers still do not open it.
fn advice(closest: &[Closest], elsewhere: bool) -> Advice {
    match closest.first() {
        Some(_) if elsewhere => Advice::Translate,
        None => Advice::Write,
        // An article that lacks most of the need does not cover it.
        Some(best) if best.missing.len() > best.has.len() || best.has.is_empty() => {
            Advice::WriteUncovered
        }
        Some(best) if !best.missing.is_empty() => Advice::AddWords,
        Some(_) => Advice::Retitle,
    }
}

/// Needs at least two people searched for three times or more, where (with 95 %
/// confidence) at least 40 % of the searches found or opened nothing; with the closest
/// articles, looked up for the most pressing needs first.
pub(super) fn unmet_needs(
    clusters: &[Cluster],
    ctx: &Context<'_>,
    catalog: &Catalog<'_>,
) -> Vec<WriteItem> {
    let priority = |c: &Cluster| (c.no_results + c.no_clicks) as f64 + 2.0 * c.contacts as f64;
    let mut unmet: Vec<&Cluster> = clusters
        .iter()
        .filter(|c| c.searches >= MIN_SEARCHES && c.visitors >= MIN_VISITORS)
        .filter(|c| wilson_lower(c.no_results + c.no_clicks, c.searches) >= UNMET_FROM)
        .collect();
    unmet.sort_by(|a, b| {
        priority(b)
            .total_cmp(&priority(a))
            .then_with(|| a.key.cmp(&b.key))
    });
    let mut out = Vec::with_capacity(unmet.len());
    for (i, c) in unmet.into_iter().enumerate() {
        let look_up = i < CLOSEST_FOR && !ctx.cancel.is_cancelled();
        let query = c
            .queries
            .first()
            .map_or_else(|| c.key.clone(), |q| q.0.clone());
        let langs: Vec<String> = c.langs.iter().map(|l| catalog.tag_for(l)).collect();
        let filter = match c.filters.as_slice() {
            [Some(l)] => Some(l.as_str()),
            _ => None,
        };
        let mut closest = if look_up {
            (ctx.finder)(&query, filter)
        } else {
            Vec::new()
        };
        // Nothing in the reader's language: an article in another may answer it.
        let mut elsewhere = false;
        if closest.is_empty()
            && look_up
            && filter.is_some()
            && let [lang] = langs.as_slice()
        {
            closest = (ctx.finder)(&query, None);
            elsewhere = closest
                .first()
                .is_some_and(|c| c.missing.is_empty() && family(&c.lang) != family(lang));
        }
        out.push(WriteItem {
            kind: if c.no_results >= c.no_clicks {
                WriteKind::NoResults
            } else {
                WriteKind::NoClicks
            },
            advice: advice(&closest, elsewhere),
            query,
            queries: typed(&c.queries),
            languages: langs,
            searches: c.searches,
            visitors: c.visitors,
            no_results: c.no_results,
            no_clicks: c.no_clicks,
            contacts: c.contacts,
            previous: c.previous,
            trend: Some(Change::of(c.searches, c.previous)),
            covered: closest.first().is_some_and(|c| c.missing.is_empty()),
            closest,
            path: None,
            priority: priority(c),
        });
    }
    out
}

/// Articles that searches in another language end on, with no translation into it: at
/// least three clicks, by two people or more.
pub(super) fn translations_wanted(facts: &Facts, catalog: &Catalog<'_>) -> Vec<WriteItem> {
    // (language, article) → (clicks, visitors, queries with their clicks).
    type Wanted = (u64, u64, Vec<(String, u64)>);
    let mut wanted: BTreeMap<(String, String), Wanted> = BTreeMap::new();
    for d in &facts.demand {
        let Some(article) = catalog.get(&d.path) else {
            continue;
        };
        if family(&article.lang) == d.lang
            || catalog
                .translated
                .contains(&(article.translation.as_str(), d.lang.clone()))
        {
            continue;
        }
        let e = wanted
            .entry((catalog.tag_for(&d.lang), d.path.clone()))
            .or_default();
        e.0 += d.clicks;
        e.1 += d.visitors;
        e.2.push((d.query.clone(), d.clicks));
    }
    let mut out = Vec::new();
    for ((lang, path), (clicks, visitors, mut queries)) in wanted {
        if clicks < TRANSLATION_MIN_CLICKS || visitors < MIN_VISITORS.min(clicks) {
            continue;
        }
        let Some(a) = catalog.get(&path) else {
            continue;
        };
        queries.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
        out.push(WriteItem {
            kind: WriteKind::Translation,
            advice: Advice::Translate,
            query: queries[0].0.clone(),
            queries: typed(&queries),
            languages: vec![lang],
            searches: clicks,
            visitors,
            no_results: 0,
            no_clicks: 0,
            contacts: 0,
            previous: 0,
            trend: None,
            closest: vec![Closest {
                path: a.path.clone(),
                title: a.title.clone(),
                url: a.url.clone(),
                lang: a.lang.clone(),
                has: Vec::new(),
                missing: Vec::new(),
            }],
            covered: true,
            path: Some(path),
            priority: clicks as f64,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_follows_the_closest_article() {
        let closest = |has: &[&str], missing: &[&str]| {
            vec![Closest {
                path: "en/a.md".into(),
                title: "A".into(),
                url: "/en/a".into(),
                lang: "en".into(),
                has: has.iter().map(|w| w.to_string()).collect(),
                missing: missing.iter().map(|w| w.to_string()).collect(),
            }]
        };
        assert_eq!(advice(&[], false), Advice::Write);
        assert_eq!(
            advice(&closest(&["a"], &["b", "c"]), false),
            Advice::WriteUncovered
        );
        assert_eq!(advice(&closest(&[], &[]), false), Advice::WriteUncovered);
        assert_eq!(
            advice(&closest(&["a", "b"], &["c"]), false),
            Advice::AddWords
        );
        assert_eq!(advice(&closest(&["a", "b"], &[]), false), Advice::Retitle);
        assert_eq!(advice(&closest(&["a", "b"], &[]), true), Advice::Translate);
    }
}
