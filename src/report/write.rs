//! The rules of the "to write" list: needs several people searched for that no article met,
//! and articles readers reach for in a language they are not written in.

use std::collections::BTreeMap;

use super::facts::{Cluster, Facts};
use super::{
    Advice, Catalog, Change, Closest, Context, Count, Date, Version, WordsThen, WriteItem,
    WriteKind, family, wilson_lower,
};
use super::{CLOSEST_FOR, MIN_SEARCHES, MIN_VISITORS, TRANSLATION_MIN_CLICKS, UNMET_FROM};
use crate::metrics::Millis;

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

/// Whether an article had `words` when readers searched (`period`) and has them now: `now_has`
/// says whether it has them all now (else it lacks them all), `versions` what git had of it
/// from the version in effect at the period's start, oldest first. `None` when git has no
/// version of it.
fn then_and_now(
    versions: &[Version],
    words: &[String],
    now_has: bool,
    period: &std::ops::Range<Millis>,
    now: Millis,
) -> Option<WordsThen> {
    if versions.is_empty() || words.is_empty() {
        return None;
    }
    // A version as the article is now, for these words.
    let as_now = |v: &Version| {
        if now_has {
            words.iter().all(|w| v.has.contains(w))
        } else {
            !words.iter().any(|w| v.has.contains(w))
        }
    };
    // The versions readers searched: the first one in effect before the period ended, and
    // those committed up to its end. An article added later was not there: it lacked them.
    let searched: Vec<&Version> = versions.iter().filter(|v| v.at < period.end).collect();
    let unchanged = if searched.is_empty() {
        !now_has
    } else {
        searched.iter().all(|v| as_now(v))
    };
    if unchanged {
        return Some(if now_has {
            WordsThen::HadThenAndNow
        } else {
            WordsThen::MissingThenAndNow
        });
    }
    // Since the first commit from which every version is as the article is now.
    let from = versions
        .iter()
        .rposition(|v| !as_now(v))
        .map_or(0, |i| i + 1);
    let changed = Date::of(versions.get(from).map_or(now, |v| v.at));
    Some(if now_has {
        WordsThen::AddedSince { changed }
    } else {
        WordsThen::RemovedSince { changed }
    })
}

/// Needs at least two people searched for three times or more, where (with 95 %
/// confidence) at least 40 % of the searches found or opened nothing; with the closest
/// articles, looked up for the most pressing needs first.
pub(super) fn unmet_needs(
    clusters: &[Cluster],
    ctx: &Context<'_>,
    catalog: &Catalog<'_>,
    period: std::ops::Range<Millis>,
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
        // Nothing in the reader's language (the filter left nothing): an article in another
        // may answer it, to translate; or its translation exists and lacks the words.
        let mut elsewhere = false;
        let mut translated = false;
        if closest.is_empty()
            && look_up
            && filter.is_some()
            && let [lang] = langs.as_slice()
        {
            closest = (ctx.finder)(&query, None);
            let found = closest
                .first()
                .filter(|c| c.missing.is_empty() && family(&c.lang) != family(lang))
                .cloned();
            if let Some(found) = found {
                match catalog.translation_in(&found.path, &family(lang)) {
                    Some(t) => {
                        translated = true;
                        let translation = Closest {
                            path: t.path.clone(),
                            title: t.title.clone(),
                            url: t.url.clone(),
                            lang: t.lang.clone(),
                            has: Vec::new(),
                            missing: found.has.clone(),
                        };
                        closest = vec![translation, found];
                    }
                    None => elsewhere = true,
                }
            }
        }
        let advice = if translated {
            Advice::AddWordsToTranslation
        } else {
            advice(&closest, elsewhere)
        };
        out.push(WriteItem {
            kind: if c.no_results >= c.no_clicks {
                WriteKind::NoResults
            } else {
                WriteKind::NoClicks
            },
            advice,
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
            then: None,
            priority: priority(c),
        });
    }
    with_history(&mut out, ctx, &period);
    out
}

/// Advice about the first closest article's words: were they there when readers searched?
/// The git history of every such article, asked for at once.
fn with_history(items: &mut [WriteItem], ctx: &Context<'_>, period: &std::ops::Range<Millis>) {
    let about_words = |i: &WriteItem| {
        matches!(
            i.advice,
            Advice::Retitle | Advice::AddWords | Advice::AddWordsToTranslation
        )
    };
    let asked: Vec<(usize, &str, &str)> = items
        .iter()
        .enumerate()
        .filter(|(_, i)| about_words(i))
        .filter_map(|(n, i)| Some((n, i.closest.first()?.path.as_str(), i.query.as_str())))
        .collect();
    if asked.is_empty() || ctx.cancel.is_cancelled() {
        return;
    }
    let pairs: Vec<(&str, &str)> = asked.iter().map(|(_, p, q)| (*p, *q)).collect();
    let versions = (ctx.history)(&pairs, period.start);
    let at: Vec<usize> = asked.iter().map(|(n, _, _)| *n).collect();
    for (n, versions) in at.into_iter().zip(versions) {
        let item = &mut items[n];
        let Some(best) = item.closest.first() else {
            continue;
        };
        let now_has = item.advice == Advice::Retitle;
        let words = if now_has { &best.has } else { &best.missing };
        item.then = then_and_now(&versions, words, now_has, period, ctx.now);
    }
}

/// Translation groups that searches in a language end on, with no translation into it
/// (clicks on results in another language: what a reader gets when their language has no
/// article, labelled as such): at least three clicks, by two people or more, counted over
/// the whole group (clicks on the English and the Chinese version of one article are one
/// demand). The article to translate from is the group's one in the other script of the
/// same language (zh-cn for zh-tw), else its source-language one, else the one most clicked.
pub(super) fn translations_wanted(facts: &Facts, catalog: &Catalog<'_>) -> Vec<WriteItem> {
    /// Clicks, visitors, queries with their clicks, and clicks per article.
    #[derive(Default)]
    struct Wanted<'a> {
        clicks: u64,
        visitors: u64,
        queries: BTreeMap<String, u64>,
        articles: BTreeMap<&'a str, u64>,
    }
    // (language tag, translation group) → demand.
    let mut wanted: BTreeMap<(String, &str), Wanted<'_>> = BTreeMap::new();
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
            .entry((catalog.tag_for(&d.lang), article.translation.as_str()))
            .or_default();
        e.clicks += d.clicks;
        e.visitors += d.visitors;
        *e.queries.entry(d.query.clone()).or_default() += d.clicks;
        *e.articles.entry(article.path.as_str()).or_default() += d.clicks;
    }
    let mut out = Vec::new();
    for ((lang, group), w) in wanted {
        if w.clicks < TRANSLATION_MIN_CLICKS || w.visitors < MIN_VISITORS.min(w.clicks) {
            continue;
        }
        let most_clicked = w
            .articles
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .and_then(|(p, _)| catalog.get(p));
        let Some(most_clicked) = most_clicked else {
            continue;
        };
        let a = catalog.to_translate(group, &lang, most_clicked);
        let mut queries: Vec<(String, u64)> = w.queries.into_iter().collect();
        queries.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
        out.push(WriteItem {
            kind: WriteKind::Translation,
            advice: Advice::Translate,
            query: queries[0].0.clone(),
            queries: typed(&queries),
            languages: vec![lang],
            searches: w.clicks,
            visitors: w.visitors,
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
            path: Some(a.path.clone()),
            then: None,
            priority: w.clicks as f64,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_then_and_now() {
        use crate::metrics::DAY;
        let v = |day: i64, has: &[&str]| Version {
            at: day * DAY,
            has: has.iter().map(|w| w.to_string()).collect(),
        };
        let words = ["zorblatt".to_string()];
        let period = 30 * DAY..60 * DAY;
        let now = 70 * DAY;
        let judge =
            |versions: &[Version], now_has| then_and_now(versions, &words, now_has, &period, now);
        // Had it from before the period on.
        let always = [v(10, &["zorblatt"]), v(40, &["zorblatt"])];
        assert_eq!(judge(&always, true), Some(WordsThen::HadThenAndNow));
        // Gained it after the searches: the advice points at what readers could not see.
        let added = [v(10, &[]), v(45, &[]), v(65, &["zorblatt"])];
        assert_eq!(
            judge(&added, true),
            Some(WordsThen::AddedSince { changed: Date(65) })
        );
        // Gained, lost, gained again: since the last time.
        let again = [v(10, &["zorblatt"]), v(40, &[]), v(50, &["zorblatt"])];
        assert_eq!(
            judge(&again, true),
            Some(WordsThen::AddedSince { changed: Date(50) })
        );
        // Only the file as it is now has it (not committed yet): since today.
        assert_eq!(
            judge(&[v(10, &[])], true),
            Some(WordsThen::AddedSince { changed: Date(70) })
        );
        // Added to git after the period: readers searched before it existed.
        assert_eq!(
            judge(&[v(65, &["zorblatt"])], true),
            Some(WordsThen::AddedSince { changed: Date(65) })
        );
        assert_eq!(
            judge(&[v(65, &[])], false),
            Some(WordsThen::MissingThenAndNow)
        );
        // Lacks it now: lacked it then too, or lost it.
        let never = [v(10, &[]), v(40, &[])];
        assert_eq!(judge(&never, false), Some(WordsThen::MissingThenAndNow));
        let lost = [v(10, &["zorblatt"]), v(62, &[])];
        assert_eq!(
            judge(&lost, false),
            Some(WordsThen::RemovedSince { changed: Date(62) })
        );
        // Not in git: nothing to say.
        assert_eq!(judge(&[], true), None);
    }

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
