//! Needs: the clusters of searches (one per normalized query) that ask for the same thing,
//! merged into one line whatever words, script or language they use.
//!
//! Two clusters are one need when
//! - their content words are one a subset of the other (or near-identical: a typo, a plural
//!   the stemmer keeps apart) and they end on the same articles: those opened when both
//!   opened some, those shown first when neither did (one opened and the other never: the
//!   other asks what the articles do not answer); when neither found anything, on the same
//!   closest article (a typo changes what the search shows, so
//!   near-identical phrasings are kept apart only by the articles readers opened);
//! - or, whatever their words, the articles their searches opened overlap strongly (a
//!   result shown and not opened says nothing about what was asked: a need nobody's results
//!   met stays apart from the met need whose article happens to come first).
//!
//! Articles are compared by translation group ([`group`]), so a need asked in two languages
//! and answered by one article and its translation is one need with both languages. Needs
//! that found nothing in two languages are one need when one translation group names a
//! phrasing of each in its articles' titles or front matter `queries`, in each language
//! ([`translated`]): the writers' own translation of what was asked. Clusters whose articles
//! differ stay apart however alike their words. People are counted once per
//! need (the union of the clusters' visitor hashes).
//!
//! Cost: each cluster is compared only with the needs that share one of its words or its main
//! article (inverted indexes), and with every need for the cheap typo test, for the
//! [`MERGE_AT_MOST`] most searched clusters; the long tail is kept as it is.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::facts::Cluster;
use super::{Cancel, Catalog};

/// Clusters merged at most, most searched first: merging compares each cluster with the
/// needs found so far, and the long tail past this is kept as it is.
pub const MERGE_AT_MOST: usize = 3000;

/// Closest-article lookups at most in one merge: each is a search, and a flood of distinct
/// phrasings that find nothing must not make the report slow. The most searched clusters come
/// first; past the budget, phrasings that found nothing are joined by their words only when
/// near-identical.
pub const CLOSEST_LOOKUPS: usize = 500;

/// The share of two clusters' searches that must end on the same articles for their results
/// to "overlap strongly" ([`overlap`]): most of both, so that two needs that share a broad
/// article now and then stay apart.
pub const STRONG_OVERLAP: f64 = 0.7;

/// The overlap of results two clusters whose words are one a subset of the other need to be
/// one need: a majority of their searches on the same articles. Below it, the longer phrasing
/// asks for something the shorter one's articles do not answer.
pub const SAME_ARTICLES: f64 = 0.5;

/// The translation group of an article (its `translation_key`, else its path without the
/// language folder), the one way needs compare articles across languages; an article the
/// catalog does not know is its own group.
pub(super) fn group<'a>(catalog: &Catalog<'a>, path: &'a str) -> &'a str {
    catalog.get(path).map_or(path, |a| a.translation.as_str())
}

/// A query's words as typed (lower-cased, function words and punctuation dropped, sorted):
/// where a typo is one letter, before stemming makes it more.
pub(super) fn typed_key(query: &str) -> String {
    let mut words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !crate::analysis::stopwords::is_stop_word(w))
        .collect();
    words.sort();
    words.join(" ")
}

/// Whether two word lists are near-identical: as many words, each the same or (from five
/// letters) one typo apart, and not all the same.
pub(super) fn near_identical_words(wa: &[String], wb: &[String]) -> bool {
    wa.len() == wb.len()
        && wa != wb
        && wa.iter().zip(wb).all(|(x, y)| {
            x == y
                || (x.chars().count().min(y.chars().count()) >= 5
                    && crate::search::plan::edit_distance(x, y) <= 1)
        })
}

/// Whether one word set is a subset of the other (both not empty).
fn nested(a: &HashSet<String>, b: &HashSet<String>) -> bool {
    !a.is_empty() && !b.is_empty() && (a.is_subset(b) || b.is_subset(a))
}

/// Where searches ended, by translation group: group → share of the searches that ended
/// somewhere.
type Profile = BTreeMap<String, f64>;

fn profile(articles: &BTreeMap<String, u64>) -> Profile {
    let total: u64 = articles.values().sum();
    articles
        .iter()
        .map(|(g, n)| (g.clone(), *n as f64 / total.max(1) as f64))
        .collect()
}

/// How much two profiles agree: the share of searches that ended on the same groups, from 0
/// (nothing in common) to 1 (the same articles, as often).
pub(super) fn overlap(a: &Profile, b: &Profile) -> f64 {
    a.iter()
        .filter_map(|(g, x)| b.get(g).map(|y| x.min(*y)))
        .sum()
}

/// A need being built: its clusters merged into the first (most searched) one.
struct Need {
    cluster: Cluster,
    /// Each member's words, normalized and typed.
    words: Vec<(HashSet<String>, HashSet<String>)>,
    /// The first member's words, as lists, for the typo test.
    head: (Vec<String>, Vec<String>),
    /// Ended-on searches per translation group, and opened ones.
    groups: BTreeMap<String, u64>,
    opened: BTreeMap<String, u64>,
    /// The closest article's group, for needs that found nothing (looked up once).
    closest: Option<Option<String>>,
    /// For members that found nothing: the translation groups naming their phrasing, with
    /// the language family of the article that names it ([`Catalog::answering`]).
    named: Vec<(String, String)>,
}

/// Whether two needs' phrasings are named by one translation group in two languages: a
/// phrasing of each in the title or `queries` of that group's article in its language, where
/// neither need has one in the other's (two phrasings one article names in one language are
/// two questions it answers, not translations of each other).
fn translated(a: &[(String, String)], b: &[(String, String)]) -> bool {
    let has =
        |list: &[(String, String)], g: &str, l: &str| list.iter().any(|(h, m)| h == g && m == l);
    a.iter().any(|(g, la)| {
        b.iter()
            .any(|(h, lb)| g == h && la != lb && !has(a, g, lb) && !has(b, g, la))
    })
}

fn words_of(s: &str) -> Vec<String> {
    s.split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The most frequent phrasing of a cluster (its name).
pub(super) fn first_query(c: &Cluster) -> &str {
    c.queries.first().map_or(c.key.as_str(), |q| q.0.as_str())
}

/// Merges clusters (most searched first) into needs. `closest` names the translation group
/// of the article closest to a query that found nothing (it may search: it is called only
/// for clusters that have a candidate need by their words).
pub(super) fn merge(
    clusters: &[Cluster],
    catalog: &Catalog<'_>,
    closest: &dyn Fn(&Cluster) -> Option<String>,
    cancel: &Cancel,
) -> Vec<Cluster> {
    let lookups = std::cell::Cell::new(0usize);
    let closest = |c: &Cluster| {
        if lookups.get() >= CLOSEST_LOOKUPS {
            return None;
        }
        lookups.set(lookups.get() + 1);
        closest(c)
    };
    let mut needs: Vec<Need> = Vec::new();
    let mut by_word: HashMap<String, Vec<usize>> = HashMap::new();
    let mut by_group: HashMap<String, Vec<usize>> = HashMap::new();
    let mut by_named: HashMap<String, Vec<usize>> = HashMap::new();
    for c in clusters.iter().take(MERGE_AT_MOST) {
        if cancel.is_cancelled() {
            break;
        }
        let normalized = words_of(&c.key);
        let typed = words_of(&typed_key(first_query(c)));
        let sets = (
            normalized.iter().cloned().collect::<HashSet<_>>(),
            typed.iter().cloned().collect::<HashSet<_>>(),
        );
        let groups_of = |list: &[(String, u64)]| {
            let mut groups: BTreeMap<String, u64> = BTreeMap::new();
            for (path, n) in list {
                *groups.entry(group(catalog, path).to_string()).or_default() += n;
            }
            groups
        };
        let (groups, opened) = (groups_of(&c.articles), groups_of(&c.opened));
        let mine = profile(&groups);
        let mine_opened = profile(&opened);
        let main = mine
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(g, _)| g.clone());
        let named: Vec<(String, String)> = if groups.is_empty() {
            catalog.answering(&c.key).to_vec()
        } else {
            Vec::new()
        };

        // Candidates: needs sharing a word, the main article or a group naming the
        // phrasing; the typo test on all.
        let mut candidates: Vec<usize> = normalized
            .iter()
            .chain(&typed)
            .filter_map(|w| by_word.get(w))
            .flatten()
            .chain(main.iter().filter_map(|g| by_group.get(g)).flatten())
            .chain(named.iter().filter_map(|(g, _)| by_named.get(g)).flatten())
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let mut mine_closest: Option<Option<String>> = None;
        let mut found = None;
        for (i, n) in needs.iter_mut().enumerate() {
            let typo = near_identical_words(&n.head.0, &normalized)
                || near_identical_words(&n.head.1, &typed);
            if !typo && candidates.binary_search(&i).is_err() {
                continue;
            }
            let theirs = profile(&n.groups);
            let alike = typo
                || n.words
                    .iter()
                    .any(|w| nested(&w.0, &sets.0) || nested(&w.1, &sets.1));
            let theirs_opened = profile(&n.opened);
            let same = match (mine.is_empty(), theirs.is_empty()) {
                // A typo changes what the search shows, not what was asked: only what
                // readers opened tells such phrasings apart.
                _ if typo => {
                    mine_opened.is_empty()
                        || theirs_opened.is_empty()
                        || overlap(&mine_opened, &theirs_opened) >= SAME_ARTICLES
                }
                // One ended somewhere, the other never: nothing says they differ, or agree.
                (true, false) | (false, true) => false,
                // What readers opened says what they asked; a phrasing whose results nobody
                // opens asks for something the other's articles do not answer.
                (false, false) => match (mine_opened.is_empty(), theirs_opened.is_empty()) {
                    (false, false) => overlap(&mine_opened, &theirs_opened) >= SAME_ARTICLES,
                    (true, true) => overlap(&mine, &theirs) >= SAME_ARTICLES,
                    _ => false,
                },
                (true, true) => {
                    if !alike {
                        false
                    } else {
                        if n.closest.is_none() {
                            n.closest = Some(closest(&n.cluster));
                        }
                        let theirs = n.closest.clone().flatten();
                        let ours = mine_closest.get_or_insert_with(|| closest(c)).clone();
                        ours.is_some() && ours == theirs
                    }
                }
            };
            let strong =
                !mine_opened.is_empty() && overlap(&mine_opened, &theirs_opened) >= STRONG_OVERLAP;
            // Neither found anything, in two languages the articles translate between.
            let named_both = mine.is_empty() && theirs.is_empty() && translated(&named, &n.named);
            if (alike && same) || strong || named_both {
                found = Some(i);
                break;
            }
        }
        let at = match found {
            Some(i) => {
                absorb(&mut needs[i].cluster, c);
                needs[i].words.push(sets.clone());
                for (g, k) in groups {
                    *needs[i].groups.entry(g).or_default() += k;
                }
                for (g, k) in opened {
                    *needs[i].opened.entry(g).or_default() += k;
                }
                for n in &named {
                    if !needs[i].named.contains(n) {
                        needs[i].named.push(n.clone());
                    }
                }
                i
            }
            None => {
                needs.push(Need {
                    cluster: c.clone(),
                    words: vec![sets.clone()],
                    head: (normalized.clone(), typed.clone()),
                    groups,
                    opened,
                    closest: mine_closest,
                    named: named.clone(),
                });
                needs.len() - 1
            }
        };
        for w in normalized.into_iter().chain(typed) {
            let e = by_word.entry(w).or_default();
            if e.last() != Some(&at) {
                e.push(at);
            }
        }
        let note = |index: &mut HashMap<String, Vec<usize>>, g: String| {
            let e = index.entry(g).or_default();
            if !e.contains(&at) {
                e.push(at);
            }
        };
        if let Some(g) = main {
            note(&mut by_group, g);
        }
        for (g, _) in named {
            note(&mut by_named, g);
        }
    }
    let mut out: Vec<Cluster> = needs.into_iter().map(|n| n.cluster).collect();
    out.extend(clusters.iter().skip(MERGE_AT_MOST).cloned());
    out
}

/// Adds cluster `c` to need `o`: counts summed, people united (counted once), phrasings and
/// articles listed with their counts.
fn absorb(o: &mut Cluster, c: &Cluster) {
    o.searches += c.searches;
    o.no_results += c.no_results;
    o.no_clicks += c.no_clicks;
    o.contacts += c.contacts;
    o.previous += c.previous;
    o.previous_no_results += c.previous_no_results;
    let mut people: Vec<u64> = o.people.iter().chain(&c.people).copied().collect();
    people.sort_unstable();
    people.dedup();
    // Hand-made clusters may lack hashes: never fewer people than either had.
    o.visitors = (people.len() as u64).max(o.visitors).max(c.visitors);
    o.people = people;
    for l in &c.langs {
        if !o.langs.contains(l) {
            o.langs.push(l.clone());
        }
    }
    o.langs.sort();
    for f in &c.filters {
        if !o.filters.contains(f) {
            o.filters.push(f.clone());
        }
    }
    o.filters.sort();
    let mut queries: BTreeMap<String, u64> = o.queries.drain(..).collect();
    for (q, n) in &c.queries {
        *queries.entry(q.clone()).or_default() += n;
    }
    o.queries = queries.into_iter().collect();
    o.queries
        .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut articles: BTreeMap<String, u64> = o.articles.drain(..).collect();
    for (p, n) in &c.articles {
        *articles.entry(p.clone()).or_default() += n;
    }
    o.articles = articles.into_iter().collect();
    let mut opened: BTreeMap<String, u64> = o.opened.drain(..).collect();
    for (p, n) in &c.opened {
        *opened.entry(p.clone()).or_default() += n;
    }
    o.opened = opened.into_iter().collect();
    for list in [&mut o.articles, &mut o.opened] {
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ArticleInfo;

    fn info(path: &str, lang: &str, translation: &str) -> ArticleInfo {
        ArticleInfo {
            path: path.into(),
            url: format!("/{path}"),
            title: path.into(),
            lang: lang.into(),
            draft: false,
            owner: None,
            review_every_days: None,
            last_change: None,
            reviewed: None,
            added: None,
            translation: translation.into(),
            queries: Vec::new(),
        }
    }

    /// A cluster of `searches` by `people` (hashes from `first`), ending on `articles`.
    fn cluster(
        query: &str,
        searches: u64,
        people: std::ops::Range<u64>,
        articles: &[(&str, u64)],
    ) -> Cluster {
        let ended: u64 = articles.iter().map(|a| a.1).sum();
        Cluster {
            key: crate::search::normalize_query(query),
            searches,
            visitors: people.end - people.start,
            no_results: searches - ended.min(searches),
            queries: vec![(query.into(), searches)],
            articles: articles.iter().map(|(p, n)| (p.to_string(), *n)).collect(),
            opened: articles.iter().map(|(p, n)| (p.to_string(), *n)).collect(),
            people: people.collect(),
            filters: vec![None],
            ..Cluster::default()
        }
    }

    fn needs(clusters: &[Cluster], articles: &[ArticleInfo], closest: &str) -> Vec<Cluster> {
        let catalog = Catalog::new(articles, None);
        let closest = |_: &Cluster| (!closest.is_empty()).then(|| closest.to_string());
        let mut out = merge(clusters, &catalog, &closest, &Cancel::default());
        out.sort_by(|a, b| b.searches.cmp(&a.searches).then_with(|| a.key.cmp(&b.key)));
        out
    }

    fn near_identical(a: &str, b: &str) -> bool {
        near_identical_words(&words_of(a), &words_of(b))
    }

    #[test]
    fn near_identical_queries() {
        assert!(near_identical("password reset", "pasword reset"));
        assert!(!near_identical("password reset", "password"));
        assert!(!near_identical("card", "cart"));
        assert!(!near_identical("refund", "refund"));
    }

    #[test]
    fn the_issue_example_is_one_need_of_its_people() {
        // Both scripts are one cluster already (the analyzer folds them); the shorter
        // phrasings found nothing either, and the same article is the closest to all.
        let mut long = cluster("如何申请退款到信用卡", 24, 0..10, &[]);
        long.queries = vec![
            ("如何申请退款到信用卡".into(), 12),
            ("如何申請退款到信用卡".into(), 12),
        ];
        let clusters = [
            long,
            cluster("信用卡退款", 6, 5..9, &[]),
            cluster("退款 信用卡", 6, 8..12, &[]),
        ];
        let out = needs(&clusters, &[], "billing/refunds");
        assert_eq!(out.len(), 1, "{out:#?}");
        let n = &out[0];
        assert_eq!(n.searches, 36);
        assert_eq!(n.no_results, 36);
        // People 0..12, each counted once though several typed two phrasings.
        assert_eq!(n.visitors, 12);
        assert_eq!(n.queries.len(), 4);
        assert_eq!(n.queries[0].1, 12);
        // Without a common closest article, the phrasings stay apart.
        assert_eq!(needs(&clusters, &[], "").len(), 3);
    }

    #[test]
    fn one_article_and_its_translation_make_one_need_in_two_languages() {
        let articles = [
            info("en/student-discount.md", "en", "student-discount"),
            info("zh-cn/student-discount.md", "zh-cn", "student-discount"),
            info("en/cancel-order.md", "en", "cancel-order"),
        ];
        let mut en = cluster(
            "student discount",
            41,
            0..30,
            &[("en/student-discount.md", 41)],
        );
        en.langs = vec!["en".into()];
        let mut zh = cluster("学生折扣", 21, 30..45, &[("zh-cn/student-discount.md", 20)]);
        zh.langs = vec!["zh-hans".into()];
        let other = cluster("discount order", 10, 0..5, &[("en/cancel-order.md", 10)]);
        let out = needs(&[en, zh, other], &articles, "");
        assert_eq!(out.len(), 2, "{out:#?}");
        assert_eq!(out[0].searches, 62);
        assert_eq!(out[0].langs, ["en", "zh-hans"]);
        assert_eq!(out[0].visitors, 45);
        assert_eq!(out[0].queries[0].0, "student discount");
    }

    #[test]
    fn no_result_phrasings_join_through_the_articles_own_translations() {
        // A translation group being written (drafts: searches cannot find it yet) whose
        // English article names "student discount" and whose Chinese one names 学生折扣.
        let mut en_draft = info("en/billing/student-discount.md", "en", "student-discount");
        en_draft.draft = true;
        en_draft.title = "Student discount".into();
        en_draft.queries = vec!["discount for teachers".into()];
        let mut zh_draft = info(
            "zh-cn/billing/student-discount.md",
            "zh-cn",
            "student-discount",
        );
        zh_draft.draft = true;
        zh_draft.title = "学生与教师优惠".into();
        zh_draft.queries = vec!["学生折扣".into()];
        let articles = [en_draft, zh_draft];
        let lang = |mut c: Cluster, l: &str| {
            c.langs = vec![l.into()];
            c
        };
        let clusters = [
            lang(cluster("student discount", 41, 0..41, &[]), "en"),
            lang(cluster("学生折扣", 21, 41..62, &[]), "zh-hans"),
            lang(cluster("discount for teachers", 5, 62..67, &[]), "en"),
        ];
        let out = needs(&clusters, &articles, "");
        assert_eq!(out.len(), 2, "{out:#?}");
        assert_eq!(out[0].searches, 62);
        assert_eq!(out[0].langs, ["en", "zh-hans"]);
        assert_eq!(out[0].visitors, 62);
        // Two phrasings one article names in one language are not a translation: the
        // teachers' need stays apart from the students'.
        assert_eq!(out[1].queries[0].0, "discount for teachers");
        // Without the Chinese phrasing in the articles, nothing says they are one need.
        let mut untranslated = articles.clone();
        untranslated[1].queries.clear();
        assert_eq!(needs(&clusters, &untranslated, "").len(), 3);
        // Searches that found something are judged by what they found, not by phrasings.
        let mut found = clusters.clone();
        found[1].articles = vec![("zh-cn/billing/refunds.md".into(), 21)];
        assert_eq!(needs(&found, &articles, "").len(), 3);
    }

    #[test]
    fn alike_words_with_different_answers_stay_apart() {
        // "cancel" is a subset of both, and ends mostly on the order article.
        let clusters = [
            cluster(
                "cancel order",
                30,
                0..20,
                &[("en/cancel-order.md", 28), ("en/faq.md", 2)],
            ),
            cluster(
                "cancel subscription",
                25,
                0..20,
                &[("en/cancel-subscription.md", 25)],
            ),
            cluster(
                "cancel",
                12,
                20..30,
                &[("en/cancel-order.md", 9), ("en/cancel-subscription.md", 3)],
            ),
            cluster("order cancel", 3, 30..32, &[("en/cancel-order.md", 3)]),
            // A typo that found something else entirely.
            cluster("cancel ordr", 5, 32..35, &[("en/shipping.md", 5)]),
        ];
        let out = needs(&clusters, &[], "");
        let keys: Vec<(&str, u64)> = out.iter().map(|c| (c.key.as_str(), c.searches)).collect();
        assert_eq!(
            keys,
            [
                ("cancel order", 45),
                ("cancel subscript", 25),
                ("cancel ordr", 5),
            ],
            "{out:#?}"
        );
    }

    #[test]
    fn closest_lookups_are_bounded() {
        // A flood of distinct phrasings that find nothing, each nested with the first.
        let mut clusters = vec![cluster("zorblatt", 5000, 0..5000, &[])];
        clusters.extend((0..2000).map(|i| cluster(&format!("zorblatt x{i}"), 3, 0..3, &[])));
        let calls = std::cell::Cell::new(0);
        let catalog = Catalog::new(&[], None);
        let closest = |_: &Cluster| {
            calls.set(calls.get() + 1);
            Some("same".to_string())
        };
        let out = merge(&clusters, &catalog, &closest, &Cancel::default());
        assert_eq!(calls.get(), CLOSEST_LOOKUPS);
        assert_eq!(out[0].searches, 5000 + 3 * (CLOSEST_LOOKUPS as u64 - 1));
    }

    #[test]
    fn strong_overlap_joins_unlike_words() {
        let clusters = [
            cluster(
                "money back",
                10,
                0..5,
                &[("en/refunds.md", 9), ("en/faq.md", 1)],
            ),
            cluster("return payment", 8, 5..9, &[("en/refunds.md", 8)]),
            cluster(
                "payment methods",
                8,
                5..9,
                &[("en/payment.md", 7), ("en/refunds.md", 1)],
            ),
        ];
        let out = needs(&clusters, &[], "");
        assert_eq!(out.len(), 2, "{out:#?}");
        assert_eq!(out[0].searches, 18);
        assert_eq!(out[0].articles[0], ("en/refunds.md".to_string(), 17));
        // Shown first but never opened: nothing says it is the same need.
        let mut unopened = clusters.clone();
        unopened[1].opened.clear();
        unopened[1].no_clicks = 8;
        assert_eq!(needs(&unopened, &[], "").len(), 3);
    }
}
