//! The facts a report is built from, aggregated by SQLite from the recorded events.
//!
//! Grouping happens in SQL, so a million events cost a few queries, not a million rows in
//! memory. Agent searches (`source = agent`) are kept out of every customer figure.

use std::collections::{BTreeMap, HashMap, HashSet};

use rusqlite::params;

use crate::metrics::sqlite::SqliteStore;
use crate::metrics::{MetricsError, Millis};

/// A contact click within this long after a search or a view counts as following it.
pub const FOLLOW_WINDOW: Millis = 30 * 60 * 1000;
const DAY: Millis = 86_400_000;

/// Searches with the same normalized query (same words, whatever the case, script, order or
/// punctuation).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cluster {
    pub key: String,
    pub searches: u64,
    pub visitors: u64,
    pub no_results: u64,
    /// Searches with results and no click.
    pub no_clicks: u64,
    /// Searches followed by a contact click.
    pub contacts: u64,
    /// Searches in the period before, and those of them that found nothing.
    pub previous: u64,
    pub previous_no_results: u64,
    /// The language filters used (`None`: all languages).
    pub filters: Vec<Option<String>>,
    /// The languages the searches were made in, where that can be told
    /// ([`super::search_language`]).
    pub langs: Vec<String>,
    /// The queries as typed, most frequent first.
    pub queries: Vec<(String, u64)>,
}

/// What readers did with one article.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArticleFacts {
    pub views: u64,
    pub previous_views: u64,
    /// Views followed by a contact click (from the article, or by the same visitor soon
    /// after).
    pub contacts_after: u64,
    pub links: u64,
    pub previous_links: u64,
    /// Current votes cast since the article last changed (and in the period).
    pub yes: u64,
    pub no: u64,
    pub reasons: BTreeMap<String, u64>,
    /// Recent comments of No votes, newest first.
    pub comments: Vec<(Millis, String)>,
    /// Agents' flags raised since the article last changed (whenever that was), newest
    /// first: time, reason, note.
    pub flags: Vec<(Millis, String, Option<String>)>,
}

/// Searches of one language that ended on one article.
#[derive(Debug, Clone, PartialEq)]
pub struct Demand {
    /// The language the searches were made in ([`super::search_language`]).
    pub lang: String,
    pub query: String,
    pub path: String,
    pub clicks: u64,
    pub visitors: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Day {
    /// Days since 1970-01-01.
    pub day: i64,
    pub searches: u64,
    pub no_results: u64,
    pub views: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Week {
    /// The first day of the week, in days since 1970-01-01.
    pub day: i64,
    pub yes: u64,
    pub no: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Totals {
    pub searches: u64,
    pub previous_searches: u64,
    pub no_results: u64,
    pub no_clicks: u64,
    pub views: u64,
    pub contacts: u64,
    pub links: u64,
    pub yes: u64,
    pub no: u64,
}

/// Everything the report needs from the events of one period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub since: Millis,
    pub until: Millis,
    pub clusters: Vec<Cluster>,
    pub articles: HashMap<String, ArticleFacts>,
    pub demand: Vec<Demand>,
    pub days: Vec<Day>,
    pub weeks: Vec<Week>,
    pub totals: Totals,
}

/// A search's language and query, as the demand for translations groups them.
type Variant = (String, String);

/// A cluster being counted.
#[derive(Default)]
struct Counting {
    cluster: Cluster,
    /// Hashes of the visitors: distinct people without keeping every id.
    visitors: HashSet<u64>,
    queries: HashMap<String, u64>,
}

/// Gathers the facts of `[since, until)`; `last_change` (article path → time) limits the
/// votes that count to those cast on the article's current version.
///
/// Each table is read once for both periods (this one and the one before, for trends), the
/// few contact clicks drive the joins that attribute them to searches and views, and the
/// counting happens here rather than in one SQL query per figure: a million events take a
/// few hundred milliseconds.
pub fn gather(
    store: &SqliteStore,
    since: Millis,
    until: Millis,
    last_change: &HashMap<String, Millis>,
) -> Result<Facts, MetricsError> {
    let conn = store.connection();
    let previous = since - (until - since);
    let mut facts = Facts {
        since,
        until,
        ..Facts::default()
    };
    let hash = |s: &str| xxhash_rust::xxh3::xxh3_64(s.as_bytes());

    // Searches of both periods. A search is followed by a contact click when the click names
    // it, or when the same visitor clicked within the window after it.
    let mut clusters: HashMap<String, Counting> = HashMap::new();
    let mut days: BTreeMap<i64, Day> = BTreeMap::new();
    let mut languages: HashMap<(Option<String>, String, Option<String>), Option<String>> =
        HashMap::new();
    let mut variants: HashMap<Variant, u32> = HashMap::new();
    let mut clicked_searches: HashMap<String, u32> = HashMap::new();
    {
        let mut stmt = conn.prepare(
            "WITH contacted(search_id) AS (
                 SELECT search_id FROM actions
                  WHERE kind = 'contact_clicked' AND search_id IS NOT NULL
                    AND at >= ?1 AND at < ?2 + ?3
                 UNION
                 SELECT s.search_id FROM actions a
                   JOIN searches s ON s.visitor = a.visitor AND s.at BETWEEN a.at - ?3 AND a.at
                  WHERE a.kind = 'contact_clicked' AND a.visitor IS NOT NULL
                    AND a.at >= ?1 AND a.at < ?2 + ?3)
             SELECT at, search_id, normalized, query, lang, ui, visitor, total,
                    CASE WHEN at >= ?1 THEN search_id IN (SELECT search_id FROM clicks WHERE at >= ?1) END,
                    CASE WHEN at >= ?1 THEN search_id IN contacted END
               FROM searches
              WHERE at >= ?4 AND at < ?2 AND source = 'customer' AND partial = 0",
        )?;
        let mut rows = stmt.query(params![since, until, FOLLOW_WINDOW, previous])?;
        while let Some(r) = rows.next()? {
            let at: Millis = r.get(0)?;
            let normalized: String = r.get(2)?;
            let total: i64 = r.get(7)?;
            if at < since {
                facts.totals.previous_searches += 1;
                if !normalized.is_empty() {
                    let c = &mut clusters.entry(normalized).or_default().cluster;
                    c.previous += 1;
                    c.previous_no_results += u64::from(total == 0);
                }
                continue;
            }
            let clicked = r.get::<_, Option<bool>>(8)?.unwrap_or(false);
            let contacted = r.get::<_, Option<bool>>(9)?.unwrap_or(false);
            let day = days.entry(at.div_euclid(DAY)).or_default();
            day.searches += 1;
            day.no_results += u64::from(total == 0);
            facts.totals.searches += 1;
            facts.totals.no_results += u64::from(total == 0);
            facts.totals.no_clicks += u64::from(total > 0 && !clicked);
            if normalized.is_empty() {
                continue;
            }
            let (search_id, query): (String, String) = (r.get(1)?, r.get(3)?);
            let (lang, ui, visitor): (Option<String>, Option<String>, Option<String>) =
                (r.get(4)?, r.get(5)?, r.get(6)?);
            let c = clusters.entry(normalized).or_default();
            c.cluster.searches += 1;
            c.cluster.no_results += u64::from(total == 0);
            c.cluster.no_clicks += u64::from(total > 0 && !clicked);
            c.cluster.contacts += u64::from(contacted);
            if let Some(v) = &visitor {
                c.visitors.insert(hash(v));
            }
            let language = languages
                .entry((lang.clone(), query.clone(), ui))
                .or_insert_with_key(|(lang, query, ui)| {
                    super::search_language(lang.as_deref(), query, ui.as_deref())
                })
                .clone();
            if let Some(l) = &language
                && !c.cluster.langs.contains(l)
            {
                c.cluster.langs.push(l.clone());
            }
            if !c.cluster.filters.contains(&lang) {
                c.cluster.filters.push(lang);
            }
            if clicked && let Some(l) = language {
                let next = variants.len() as u32;
                let v = *variants.entry((l, query.clone())).or_insert(next);
                clicked_searches.insert(search_id, v);
            }
            *c.queries.entry(query).or_default() += 1;
        }
    }
    let mut list: Vec<Cluster> = Vec::with_capacity(clusters.len());
    for (key, mut c) in clusters {
        if c.cluster.searches == 0 {
            continue; // searched only in the period before
        }
        c.cluster.key = key;
        c.cluster.visitors = c.visitors.len() as u64;
        c.cluster.queries = c.queries.into_iter().collect();
        c.cluster
            .queries
            .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        c.cluster.langs.sort();
        c.cluster.filters.sort();
        list.push(c.cluster);
    }
    list.sort_by(|a, b| b.searches.cmp(&a.searches).then_with(|| a.key.cmp(&b.key)));
    facts.clusters = list;

    // Which searches ended on which articles: the period's clicks on the searches above.
    {
        let mut demand: HashMap<(u32, String), (u64, HashSet<u64>)> = HashMap::new();
        let mut stmt =
            conn.prepare("SELECT search_id, path, visitor FROM clicks WHERE at >= ?1 AND at < ?2")?;
        let mut rows = stmt.query(params![since, until])?;
        while let Some(r) = rows.next()? {
            let search_id: String = r.get(0)?;
            let Some(&v) = clicked_searches.get(&search_id) else {
                continue;
            };
            let e = demand.entry((v, r.get(1)?)).or_default();
            e.0 += 1;
            if let Some(visitor) = r.get::<_, Option<String>>(2)? {
                e.1.insert(hash(&visitor));
            }
        }
        let mut by_id: Vec<Option<Variant>> = vec![None; variants.len()];
        for (variant, id) in variants {
            by_id[id as usize] = Some(variant);
        }
        for ((v, path), (clicks, visitors)) in demand {
            let Some((lang, query)) = by_id[v as usize].clone() else {
                continue;
            };
            facts.demand.push(Demand {
                lang,
                query,
                path,
                clicks,
                visitors: visitors.len() as u64,
            });
        }
        facts
            .demand
            .sort_by(|a, b| (&a.lang, &a.query, &a.path).cmp(&(&b.lang, &b.query, &b.path)));
    }

    // Articles: views of both periods (and of each day), views followed by a contact click
    // (the same visitor within the window), links, votes.
    {
        let mut stmt = conn.prepare(
            "SELECT path, at >= ?2, at / ?4, count(*) FROM views
              WHERE at >= ?1 AND at < ?3 GROUP BY 1, 2, 3",
        )?;
        let mut rows = stmt.query(params![previous, since, until, DAY])?;
        while let Some(r) = rows.next()? {
            let current: bool = r.get(1)?;
            let n = r.get::<_, i64>(3)? as u64;
            let a = facts.articles.entry(r.get(0)?).or_default();
            if current {
                a.views += n;
                days.entry(r.get(2)?).or_default().views += n;
            } else {
                a.previous_views += n;
            }
        }
        let mut stmt = conn.prepare(
            "SELECT v.path, count(DISTINCT v.id) FROM actions a
               JOIN views v ON v.visitor = a.visitor AND v.at BETWEEN a.at - ?3 AND a.at
              WHERE a.kind = 'contact_clicked' AND a.visitor IS NOT NULL
                AND a.at >= ?1 AND a.at < ?2 + ?3 AND v.at >= ?1 AND v.at < ?2
              GROUP BY v.path",
        )?;
        let mut rows = stmt.query(params![since, until, FOLLOW_WINDOW])?;
        while let Some(r) = rows.next()? {
            let a = facts.articles.entry(r.get(0)?).or_default();
            a.contacts_after = r.get::<_, i64>(1)? as u64;
        }
        let mut stmt = conn.prepare(
            "SELECT path, sum(at >= ?2), sum(at < ?2) FROM actions
              WHERE kind = 'link_inserted' AND path IS NOT NULL AND at >= ?1 AND at < ?3 GROUP BY path",
        )?;
        let mut rows = stmt.query(params![previous, since, until])?;
        while let Some(r) = rows.next()? {
            let a = facts.articles.entry(r.get(0)?).or_default();
            a.links = r.get::<_, Option<i64>>(1)?.unwrap_or(0) as u64;
            a.previous_links = r.get::<_, Option<i64>>(2)?.unwrap_or(0) as u64;
        }
        // Votes on the article as it is now: cast in the period and after its last change.
        let mut stmt = conn.prepare(
            "SELECT path, at, helpful, reason, comment FROM current_votes WHERE at >= ?1 AND at < ?2",
        )?;
        let mut rows = stmt.query(params![since, until])?;
        while let Some(r) = rows.next()? {
            let path: String = r.get(0)?;
            let at: Millis = r.get(1)?;
            if last_change.get(&path).is_some_and(|&changed| at < changed) {
                continue;
            }
            let a = facts.articles.entry(path).or_default();
            if r.get::<_, bool>(2)? {
                a.yes += 1;
            } else {
                a.no += 1;
                if let Some(reason) = r.get::<_, Option<String>>(3)? {
                    *a.reasons.entry(reason).or_default() += 1;
                }
                if let Some(comment) = r.get::<_, Option<String>>(4)? {
                    a.comments.push((at, comment));
                }
            }
        }
        // Flags stay open until the article changes, however old they are.
        let mut stmt = conn
            .prepare("SELECT path, at, reason, note FROM flags WHERE at < ?2 ORDER BY at DESC")?;
        let mut rows = stmt.query(params![since, until])?;
        while let Some(r) = rows.next()? {
            let path: String = r.get(0)?;
            let at: Millis = r.get(1)?;
            let open = match last_change.get(&path) {
                Some(&changed) => at >= changed,
                None => at >= since,
            };
            if open {
                let a = facts.articles.entry(path).or_default();
                a.flags.push((at, r.get(2)?, r.get(3)?));
            }
        }
        for a in facts.articles.values_mut() {
            a.comments.sort_by_key(|c| std::cmp::Reverse(c.0));
            a.comments.truncate(5);
        }
    }

    // Per day and per week, for the charts; totals.
    {
        let (first, last) = (since.div_euclid(DAY), (until - 1).div_euclid(DAY));
        facts.days = (first..=last)
            .map(|day| Day {
                day,
                ..days.get(&day).copied().unwrap_or_default()
            })
            .collect();
        let mut weeks: BTreeMap<i64, Week> = BTreeMap::new();
        let mut stmt = conn.prepare(
            "SELECT (at - ?1) / ?3, sum(helpful), sum(NOT helpful) FROM votes
              WHERE at >= ?1 AND at < ?2 GROUP BY 1",
        )?;
        let mut rows = stmt.query(params![since, until, 7 * DAY])?;
        while let Some(r) = rows.next()? {
            let w: i64 = r.get(0)?;
            weeks.insert(
                w,
                Week {
                    day: (since + w * 7 * DAY).div_euclid(DAY),
                    yes: r.get::<_, Option<i64>>(1)?.unwrap_or(0) as u64,
                    no: r.get::<_, Option<i64>>(2)?.unwrap_or(0) as u64,
                },
            );
        }
        facts.weeks = weeks.into_values().collect();
    }
    let t = &mut facts.totals;
    for a in facts.articles.values() {
        t.views += a.views;
        t.links += a.links;
        t.yes += a.yes;
        t.no += a.no;
    }
    t.contacts = conn.query_row(
        "SELECT count(*) FROM actions WHERE kind = 'contact_clicked' AND at >= ?1 AND at < ?2",
        params![since, until],
        |r| r.get::<_, i64>(0),
    )? as u64;
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{
        Action, ActionKind, Click, Event, EventStore, Flag, FlagReason, Search, Source, View, Vote,
    };

    const MIN: Millis = 60_000;

    fn search(id: &str, at: Millis, visitor: &str, query: &str, total: u64) -> Event {
        Event::Search(Search {
            id: id.into(),
            at,
            visitor: Some(visitor.into()),
            query: query.into(),
            normalized: crate::search::normalize_query(query),
            lang: None,
            total,
            source: Source::Customer,
            results: Vec::new(),
            partial: false,
            ui: Some("en".into()),
        })
    }

    fn contact(at: Millis, visitor: &str, path: Option<&str>, search: Option<&str>) -> Event {
        Event::Action(Action {
            at,
            visitor: Some(visitor.into()),
            kind: ActionKind::ContactClicked,
            path: path.map(str::to_string),
            query: None,
            search_id: search.map(str::to_string),
            source: Some(Source::Customer),
        })
    }

    fn view(at: Millis, visitor: &str, path: &str) -> Event {
        Event::View(View {
            at,
            visitor: Some(visitor.into()),
            path: path.into(),
            search_id: None,
        })
    }

    #[test]
    fn contacts_follow_searches_and_views_within_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let t = 100 * DAY;
        store
            .append(&[
                // Followed by a contact that names the search, and one by the same visitor.
                search("s1", t, "a", "Gift card", 0),
                contact(t + MIN, "a", None, Some("s1")),
                search("s2", t, "b", "gift cards", 0),
                contact(t + 5 * MIN, "b", None, None),
                // Too late to count, and another visitor's.
                search("s3", t, "c", "gift card", 0),
                contact(t + FOLLOW_WINDOW + MIN, "c", None, None),
                contact(t + MIN, "z", None, None),
                // A search in the period before, and one with a click.
                search("s0", t - 20 * DAY, "d", "gift card", 0),
                search("s4", t, "e", "refund", 3),
                Event::Click(Click {
                    at: t + MIN,
                    visitor: Some("e".into()),
                    search_id: "s4".into(),
                    path: "r.md".into(),
                    position: 1,
                }),
                view(t + MIN, "e", "r.md"),
                search("s5", t, "f", "refund", 3),
                // Views, one followed by a contact click.
                view(t, "g", "r.md"),
                contact(t + 2 * MIN, "g", Some("r.md"), None),
                view(t - 15 * DAY, "h", "r.md"),
            ])
            .unwrap();
        let facts = gather(&store, t - 10 * DAY, t + 10 * DAY, &HashMap::new()).unwrap();
        let gift = facts
            .clusters
            .iter()
            .find(|c| c.key == "card gift")
            .unwrap();
        assert_eq!((gift.searches, gift.visitors, gift.no_results), (3, 3, 3));
        assert_eq!(gift.contacts, 2);
        assert_eq!(gift.previous, 1);
        assert_eq!(gift.queries.len(), 3, "{:?}", gift.queries);
        let refund = facts.clusters.iter().find(|c| c.key == "refund").unwrap();
        assert_eq!(
            (refund.searches, refund.no_clicks, refund.contacts),
            (2, 1, 0)
        );
        let r = &facts.articles["r.md"];
        assert_eq!((r.views, r.previous_views, r.contacts_after), (2, 1, 1));
        assert_eq!(facts.demand.len(), 1);
        assert_eq!(facts.demand[0].lang, "en");
        assert_eq!(facts.totals.searches, 5);
        assert_eq!(facts.totals.previous_searches, 1);
        assert_eq!(facts.days.len(), 20);
    }

    #[test]
    fn votes_before_the_last_change_do_not_count() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let vote = |at: Millis, visitor: &str, helpful: bool| {
            Event::Vote(Vote {
                at,
                visitor: Some(visitor.into()),
                path: "a.md".into(),
                helpful,
                reason: (!helpful).then_some(crate::metrics::Reason::Outdated),
                comment: (!helpful).then(|| format!("from {visitor}")),
            })
        };
        store
            .append(&[
                vote(DAY, "v1", false),
                vote(2 * DAY, "v2", false),
                vote(5 * DAY, "v3", true),
                vote(6 * DAY, "v4", false),
            ])
            .unwrap();
        let changed: HashMap<String, Millis> = [("a.md".to_string(), 3 * DAY)].into();
        let facts = gather(&store, 0, 10 * DAY, &changed).unwrap();
        let a = &facts.articles["a.md"];
        assert_eq!((a.yes, a.no), (1, 1));
        assert_eq!(a.reasons["outdated"], 1);
        assert_eq!(a.comments, [(6 * DAY, "from v4".to_string())]);
        // The helpfulness chart counts every vote of the period.
        assert_eq!(facts.weeks.iter().map(|w| w.yes + w.no).sum::<u64>(), 4);
    }

    #[test]
    fn flags_stay_open_until_the_article_changes() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let flag = |at: Millis, path: &str, reason: FlagReason, note: Option<&str>| {
            Event::Flag(Flag {
                at,
                visitor: None,
                path: path.into(),
                reason,
                note: note.map(str::to_string),
            })
        };
        store
            .append(&[
                // Before a.md changed: fixed since.
                flag(DAY, "a.md", FlagReason::Wrong, Some("old news")),
                // Long before the period, but b.md never changed since.
                flag(2 * DAY, "b.md", FlagReason::Outdated, Some("price is 12 €")),
                flag(40 * DAY, "a.md", FlagReason::Outdated, None),
                flag(45 * DAY, "a.md", FlagReason::Other, Some("typo")),
                // After the period.
                flag(90 * DAY, "a.md", FlagReason::Wrong, None),
            ])
            .unwrap();
        let changed: HashMap<String, Millis> =
            [("a.md".to_string(), 30 * DAY), ("b.md".to_string(), DAY)].into();
        let facts = gather(&store, 30 * DAY, 60 * DAY, &changed).unwrap();
        assert_eq!(
            facts.articles["a.md"].flags,
            [
                (45 * DAY, "other".to_string(), Some("typo".to_string())),
                (40 * DAY, "outdated".to_string(), None)
            ]
        );
        assert_eq!(
            facts.articles["b.md"].flags,
            [(
                2 * DAY,
                "outdated".to_string(),
                Some("price is 12 €".to_string())
            )]
        );
        // Without a known change, the period's flags only.
        let facts = gather(&store, 30 * DAY, 60 * DAY, &HashMap::new()).unwrap();
        assert_eq!(facts.articles["a.md"].flags.len(), 2);
        assert!(
            facts
                .articles
                .get("b.md")
                .is_none_or(|b| b.flags.is_empty())
        );
    }
}
