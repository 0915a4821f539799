//! The facts a report is built from: the metrics' answers about a period
//! ([`MetricsReader`]), aggregated.
//!
//! Storage owns its SQL: this module asks typed questions and counts what comes back, so the
//! report is the same over every backend. Agent searches and keystrokes of search as you type
//! are kept out of every customer figure.
//!
//! Its cost is linear in the events of the period whatever their distribution. Contact clicks
//! are attributed to the searches and views before them visitor by visitor, by merging each
//! visitor's time-ordered searches, views and contact clicks with two pointers
//! ([`followed`]): a visitor with 10 000 searches and 1 000 contact clicks costs 11 000 steps,
//! not ten million. Every scan checks a [`Cancel`] flag, so a report nobody waits for stops.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::Cancel;
use crate::metrics::{
    ActionKind, CustomerSearch, DAY, Flag, MINUTE, MetricsError, MetricsReader, Millis, Reason,
    Timeline,
};

/// A contact click within this long after a search or a view counts as following it.
pub const FOLLOW_WINDOW: Millis = 30 * MINUTE;

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
    /// The articles its searches ended on, with how many searches did, most first: those a
    /// search opened, else its first result (what the reader was shown as the answer).
    pub articles: Vec<(String, u64)>,
    /// Of those, the articles opened, with how many searches did, most first.
    pub opened: Vec<(String, u64)>,
    /// Hashes of its visitors, sorted: people are counted once when clusters merge.
    pub people: Vec<u64>,
}

/// What readers did with one article.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArticleFacts {
    pub views: u64,
    pub previous_views: u64,
    /// Customers' searches of the period that showed it among their first
    /// [`FIRST_RESULTS`] results, or led to it (a click).
    pub shown: u64,
    /// Views followed by a contact click (the same visitor within [`FOLLOW_WINDOW`]).
    pub contacts_after: u64,
    pub links: u64,
    pub previous_links: u64,
    /// Current votes cast since the article last changed (and in the period).
    pub yes: u64,
    pub no: u64,
    pub reasons: BTreeMap<Reason, u64>,
    /// Recent comments of No votes, newest first.
    pub comments: Vec<(Millis, String)>,
    /// Agents' flags raised since the article last changed (whenever that was), newest
    /// first.
    pub flags: Vec<Flag>,
}

/// The results of a search a reader is taken to have seen: a page of ten lists anything that
/// shares a word with a long query ("and", "keep"), which does not make an article found.
pub const FIRST_RESULTS: usize = 3;

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
    /// The period covers only part of the day (its first or last): its figures are not a
    /// whole day's.
    pub partial: bool,
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
    /// Searches whose results are known (recorded with the paths they listed).
    pub listed: u64,
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

/// Ids (of searches, visitors) as hashes: sets of them cost 8 bytes an entry.
fn hash(s: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(s.as_bytes())
}

/// The `events` (time and what, in time order) that a contact click in `contacts` (times,
/// in order) came at or after, within `window`. Two pointers: the cursor into the contact
/// clicks only moves forward, so the cost is `events + contacts` steps, counted in `steps`.
pub fn followed<'a, T>(
    events: &'a [(Millis, T)],
    contacts: &[Millis],
    window: Millis,
    steps: &mut u64,
) -> Vec<&'a T> {
    let mut next = 0;
    let mut out = Vec::new();
    for (at, what) in events {
        *steps += 1;
        while next < contacts.len() && contacts[next] < *at {
            next += 1;
            *steps += 1;
        }
        if next < contacts.len() && contacts[next] <= at + window {
            out.push(what);
        }
    }
    out
}

/// What contact clicks followed: the searches (hashed ids) and, per article, how many views.
#[derive(Default)]
struct Followed {
    searches: HashSet<u64>,
    views: HashMap<String, u64>,
    /// Steps of the merges, for the tests that keep them linear.
    steps: u64,
}

impl Followed {
    /// Merges one visitor's timeline.
    fn add(&mut self, t: Timeline) {
        for id in followed(&t.searches, &t.contacts, FOLLOW_WINDOW, &mut self.steps) {
            self.searches.insert(hash(id));
        }
        for path in followed(&t.views, &t.contacts, FOLLOW_WINDOW, &mut self.steps) {
            *self.views.entry(path.clone()).or_default() += 1;
        }
    }
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
    articles: HashMap<String, u64>,
    opened: HashMap<String, u64>,
}

/// A click of the period, as the demand for translations needs it.
struct Clicked {
    search: u64,
    path: String,
    visitor: Option<u64>,
}

/// Gathers the facts of `since..until` (and of as long before, for trends) from `store`;
/// `last_change` (article path → time) limits the votes that count to those cast on the
/// article's current version; `known` (the articles' languages) names the languages
/// searches were made in. Stops with [`MetricsError::Cancelled`] once `cancel` is set.
pub fn gather(
    store: &dyn MetricsReader,
    since: Millis,
    until: Millis,
    last_change: &HashMap<String, Millis>,
    known: &[String],
    cancel: &Cancel,
) -> Result<Facts, MetricsError> {
    let previous = since - (until - since);
    let mut facts = Facts {
        since,
        until,
        ..Facts::default()
    };
    let mut days: BTreeMap<i64, Day> = BTreeMap::new();

    // Clicks on results: which searches were opened, and where they ended.
    let mut clicks: Vec<Clicked> = Vec::new();
    // Searches opened → the indexes of their clicks.
    let mut opened: HashMap<u64, Vec<usize>> = HashMap::new();
    store.clicks(since..until, &mut |c| {
        cancel.check()?;
        let search = hash(&c.search_id);
        opened.entry(search).or_default().push(clicks.len());
        clicks.push(Clicked {
            search,
            path: c.path,
            visitor: c.visitor.as_deref().map(hash),
        });
        Ok(())
    })?;

    // Contact clicks: those that name a search, those of the period (the total), and, for
    // each visitor who clicked, what they had searched and read just before.
    let mut named: HashSet<u64> = HashSet::new();
    store.actions(
        ActionKind::ContactClicked,
        since..until + FOLLOW_WINDOW,
        &mut |a| {
            cancel.check()?;
            if let Some(id) = &a.search_id {
                named.insert(hash(id));
            }
            facts.totals.contacts += u64::from(a.at < until);
            Ok(())
        },
    )?;
    let mut after_contact = Followed::default();
    store.contact_timelines(since..until, FOLLOW_WINDOW, &mut |t| {
        cancel.check()?;
        after_contact.add(t);
        Ok(())
    })?;

    // Searches of both periods, grouped into clusters.
    let mut clusters: HashMap<String, Counting> = HashMap::new();
    store.customer_searches(previous..since, &mut |s| {
        cancel.check()?;
        facts.totals.previous_searches += 1;
        if !s.normalized.is_empty() {
            let c = &mut clusters.entry(s.normalized).or_default().cluster;
            c.previous += 1;
            c.previous_no_results += u64::from(s.total == 0);
        }
        Ok(())
    })?;
    let mut languages: HashMap<(Option<String>, String, Option<String>), Option<String>> =
        HashMap::new();
    let mut variants: HashMap<Variant, u32> = HashMap::new();
    let mut clicked_searches: HashMap<u64, u32> = HashMap::new();
    store.customer_searches(since..until, &mut |s: CustomerSearch| {
        cancel.check()?;
        let id = hash(&s.id);
        let clicked_at = opened.get(&id);
        let clicked = clicked_at.is_some();
        let contacted = named.contains(&id) || after_contact.searches.contains(&id);
        let day = days.entry(s.at.div_euclid(DAY)).or_default();
        day.searches += 1;
        day.no_results += u64::from(s.total == 0);
        facts.totals.searches += 1;
        facts.totals.no_results += u64::from(s.total == 0);
        facts.totals.no_clicks += u64::from(s.total > 0 && !clicked);
        if !s.results.is_empty() {
            facts.totals.listed += 1;
            let opened = clicked_at.into_iter().flatten().map(|&i| &clicks[i].path);
            let mut shown: Vec<&String> = s.results.iter().take(FIRST_RESULTS).collect();
            for path in opened {
                if !shown.contains(&path) {
                    shown.push(path);
                }
            }
            for path in shown {
                facts.articles.entry(path.clone()).or_default().shown += 1;
            }
        }
        if s.normalized.is_empty() {
            return Ok(());
        }
        let c = clusters.entry(s.normalized).or_default();
        c.cluster.searches += 1;
        c.cluster.no_results += u64::from(s.total == 0);
        c.cluster.no_clicks += u64::from(s.total > 0 && !clicked);
        c.cluster.contacts += u64::from(contacted);
        if let Some(v) = &s.visitor {
            c.visitors.insert(hash(v));
        }
        // The articles it ended on, each once: those opened, else the first shown.
        let mut seen: Vec<&String> = Vec::new();
        let ended: Vec<&String> = match clicked_at {
            Some(at) => at.iter().map(|&i| &clicks[i].path).collect(),
            None => s.results.first().into_iter().collect(),
        };
        for path in ended {
            if seen.contains(&path) {
                continue;
            }
            seen.push(path);
            let lists = [Some(&mut c.articles), clicked.then_some(&mut c.opened)];
            for list in lists.into_iter().flatten() {
                match list.get_mut(path) {
                    Some(n) => *n += 1,
                    None => {
                        list.insert(path.clone(), 1);
                    }
                }
            }
        }
        let language = languages
            .entry((s.lang.clone(), s.query.clone(), s.ui))
            .or_insert_with_key(|(lang, query, ui)| {
                super::search_language(lang.as_deref(), query, ui.as_deref(), known)
            })
            .clone();
        if let Some(l) = &language
            && !c.cluster.langs.contains(l)
        {
            c.cluster.langs.push(l.clone());
        }
        if !c.cluster.filters.contains(&s.lang) {
            c.cluster.filters.push(s.lang);
        }
        if clicked && let Some(l) = language {
            let next = variants.len() as u32;
            let v = *variants.entry((l, s.query.clone())).or_insert(next);
            clicked_searches.insert(id, v);
        }
        *c.queries.entry(s.query).or_default() += 1;
        Ok(())
    })?;
    let mut list: Vec<Cluster> = Vec::with_capacity(clusters.len());
    for (key, mut c) in clusters {
        if c.cluster.searches == 0 {
            continue; // searched only in the period before
        }
        c.cluster.key = key;
        c.cluster.visitors = c.visitors.len() as u64;
        c.cluster.people = c.visitors.into_iter().collect();
        c.cluster.people.sort_unstable();
        c.cluster.articles = c.articles.into_iter().collect();
        c.cluster.opened = c.opened.into_iter().collect();
        for list in [&mut c.cluster.articles, &mut c.cluster.opened] {
            list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        }
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
    cancel.check()?;

    // Which searches ended on which articles: the period's clicks on the searches above.
    let mut demand: HashMap<(u32, String), (u64, HashSet<u64>)> = HashMap::new();
    for c in clicks {
        let Some(&v) = clicked_searches.get(&c.search) else {
            continue;
        };
        let e = demand.entry((v, c.path)).or_default();
        e.0 += 1;
        if let Some(visitor) = c.visitor {
            e.1.insert(visitor);
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

    // Articles: views of both periods (and of each day), views followed by a contact click,
    // links, votes, flags.
    for v in store.daily_views(previous..since)? {
        facts.articles.entry(v.path).or_default().previous_views += v.views;
    }
    for v in store.daily_views(since..until)? {
        days.entry(v.day).or_default().views += v.views;
        facts.articles.entry(v.path).or_default().views += v.views;
    }
    for (path, n) in after_contact.views {
        facts.articles.entry(path).or_default().contacts_after = n;
    }
    cancel.check()?;
    store.actions(ActionKind::LinkInserted, previous..until, &mut |a| {
        cancel.check()?;
        if let Some(path) = a.path {
            let f = facts.articles.entry(path).or_default();
            if a.at >= since {
                f.links += 1;
            } else {
                f.previous_links += 1;
            }
        }
        Ok(())
    })?;
    // Votes on the article as it is now: cast in the period and after its last change.
    store.current_votes(since..until, &mut |v| {
        cancel.check()?;
        if last_change
            .get(&v.path)
            .is_some_and(|&changed| v.at < changed)
        {
            return Ok(());
        }
        let a = facts.articles.entry(v.path).or_default();
        if v.helpful {
            a.yes += 1;
        } else {
            a.no += 1;
            if let Some(reason) = v.reason {
                *a.reasons.entry(reason).or_default() += 1;
            }
            if let Some(comment) = v.comment {
                a.comments.push((v.at, comment));
            }
        }
        Ok(())
    })?;
    // Flags stay open until the article changes, however old they are.
    store.flags(Millis::MIN..until, &mut |f| {
        cancel.check()?;
        let open = match last_change.get(&f.path) {
            Some(&changed) => f.at >= changed,
            None => f.at >= since,
        };
        if open {
            facts
                .articles
                .entry(f.path.clone())
                .or_default()
                .flags
                .push(f);
        }
        Ok(())
    })?;
    for a in facts.articles.values_mut() {
        a.comments.sort_by_key(|c| std::cmp::Reverse(c.0));
        a.comments.truncate(5);
        a.flags.sort_by_key(|f| std::cmp::Reverse(f.at));
    }

    // Per day and per week (every vote of the period, changed ones too), for the charts;
    // totals.
    let (first, last) = (since.div_euclid(DAY), (until - 1).div_euclid(DAY));
    facts.days = (first..=last)
        .map(|day| Day {
            day,
            partial: since > day * DAY || until < (day + 1) * DAY,
            ..days.get(&day).copied().unwrap_or_default()
        })
        .collect();
    let mut weeks: BTreeMap<i64, Week> = BTreeMap::new();
    store.votes(since..until, &mut |v| {
        cancel.check()?;
        let w = (v.at - since) / (7 * DAY);
        let week = weeks.entry(w).or_insert_with(|| Week {
            day: (since + w * 7 * DAY).div_euclid(DAY),
            ..Week::default()
        });
        if v.helpful {
            week.yes += 1;
        } else {
            week.no += 1;
        }
        Ok(())
    })?;
    facts.weeks = weeks.into_values().collect();
    let t = &mut facts.totals;
    for a in facts.articles.values() {
        t.views += a.views;
        t.links += a.links;
        t.yes += a.yes;
        t.no += a.no;
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::store_tests::{Backend, on_both_backends};
    use crate::metrics::{Action, Click, Event, FlagReason, Search, Source, View, Vote};

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

    on_both_backends!(
        contacts_follow_searches_and_views_within_the_window,
        votes_before_the_last_change_do_not_count,
        flags_stay_open_until_the_article_changes,
        a_flood_of_contact_clicks_is_attributed_in_linear_time,
        a_cancelled_gather_stops,
        clusters_keep_the_articles_they_ended_on_and_their_people,
    );

    fn gather_all(
        store: &dyn MetricsReader,
        since: Millis,
        until: Millis,
        last_change: &HashMap<String, Millis>,
    ) -> Facts {
        gather(store, since, until, last_change, &[], &Cancel::default()).unwrap()
    }

    fn contacts_follow_searches_and_views_within_the_window(backend: Backend) {
        let t = 100 * DAY;
        let (_db, store) = backend.holding(&[
            // Followed by a contact that names the search, and one by the same visitor.
            search("s1", t, "a", "Gift card", 0),
            contact(t + MINUTE, "a", None, Some("s1")),
            search("s2", t, "b", "gift cards", 0),
            contact(t + 5 * MINUTE, "b", None, None),
            // Too late to count, and another visitor's.
            search("s3", t, "c", "gift card", 0),
            contact(t + FOLLOW_WINDOW + MINUTE, "c", None, None),
            contact(t + MINUTE, "z", None, None),
            // A search in the period before, and one with a click.
            search("s0", t - 20 * DAY, "d", "gift card", 0),
            search("s4", t, "e", "refund", 3),
            Event::Click(Click {
                at: t + MINUTE,
                visitor: Some("e".into()),
                search_id: "s4".into(),
                path: "r.md".into(),
                position: 1,
            }),
            view(t + MINUTE, "e", "r.md"),
            search("s5", t, "f", "refund", 3),
            // Views, one followed by a contact click.
            view(t, "g", "r.md"),
            contact(t + 2 * MINUTE, "g", Some("r.md"), None),
            view(t - 15 * DAY, "h", "r.md"),
        ]);
        let facts = gather_all(&*store, t - 10 * DAY, t + 10 * DAY, &HashMap::new());
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
        assert_eq!(facts.totals.contacts, 5);
        assert_eq!(facts.days.len(), 20);
    }

    fn clusters_keep_the_articles_they_ended_on_and_their_people(backend: Backend) {
        let t = 100 * DAY;
        let shown = |id: &str, visitor: &str, results: &[&str]| {
            let Event::Search(mut s) = search(id, t, visitor, "refund", results.len() as u64)
            else {
                unreachable!()
            };
            s.results = results.iter().map(|r| r.to_string()).collect();
            Event::Search(s)
        };
        let (_db, store) = backend.holding(&[
            // Opened the second result: that is where it ended, not the first.
            shown("s1", "a", &["en/a.md", "en/b.md"]),
            Event::Click(Click {
                at: t + MINUTE,
                visitor: Some("a".into()),
                search_id: "s1".into(),
                path: "en/b.md".into(),
                position: 2,
            }),
            // Opened nothing: it ended on the first shown.
            shown("s2", "a", &["en/a.md", "en/b.md"]),
            shown("s3", "b", &["en/b.md"]),
            shown("s4", "c", &[]),
        ]);
        let facts = gather_all(&*store, t - DAY, t + DAY, &HashMap::new());
        let refund = &facts.clusters[0];
        assert_eq!(refund.searches, 4);
        assert_eq!(
            refund.articles,
            [("en/b.md".to_string(), 2), ("en/a.md".to_string(), 1)]
        );
        assert_eq!(refund.opened, [("en/b.md".to_string(), 1)]);
        let mut people = vec![hash("a"), hash("b"), hash("c")];
        people.sort_unstable();
        assert_eq!(refund.people, people);
        assert_eq!(refund.visitors, 3);
    }

    fn votes_before_the_last_change_do_not_count(backend: Backend) {
        let vote = |at: Millis, visitor: &str, helpful: bool| {
            Event::Vote(Vote {
                at,
                visitor: Some(visitor.into()),
                path: "a.md".into(),
                helpful,
                reason: (!helpful).then_some(Reason::Outdated),
                comment: (!helpful).then(|| format!("from {visitor}")),
                id: None,
            })
        };
        let (_db, store) = backend.holding(&[
            vote(DAY, "v1", false),
            vote(2 * DAY, "v2", false),
            vote(5 * DAY, "v3", true),
            vote(6 * DAY, "v4", false),
        ]);
        let changed: HashMap<String, Millis> = [("a.md".to_string(), 3 * DAY)].into();
        let facts = gather_all(&*store, 0, 10 * DAY, &changed);
        let a = &facts.articles["a.md"];
        assert_eq!((a.yes, a.no), (1, 1));
        assert_eq!(a.reasons[&Reason::Outdated], 1);
        assert_eq!(a.comments, [(6 * DAY, "from v4".to_string())]);
        // The helpfulness chart counts every vote of the period.
        assert_eq!(facts.weeks.iter().map(|w| w.yes + w.no).sum::<u64>(), 4);
    }

    fn flags_stay_open_until_the_article_changes(backend: Backend) {
        let flag = |at: Millis, path: &str, reason: FlagReason, note: Option<&str>| Flag {
            at,
            visitor: None,
            path: path.into(),
            reason,
            note: note.map(str::to_string),
        };
        let flags = [
            // Before a.md changed: fixed since.
            flag(DAY, "a.md", FlagReason::Wrong, Some("old news")),
            // Long before the period, but b.md never changed since.
            flag(2 * DAY, "b.md", FlagReason::Outdated, Some("price is 12 €")),
            flag(40 * DAY, "a.md", FlagReason::Outdated, None),
            flag(45 * DAY, "a.md", FlagReason::Other, Some("typo")),
            // After the period.
            flag(90 * DAY, "a.md", FlagReason::Wrong, None),
        ];
        let events: Vec<Event> = flags.iter().cloned().map(Event::Flag).collect();
        let (_db, store) = backend.holding(&events);
        let changed: HashMap<String, Millis> =
            [("a.md".to_string(), 30 * DAY), ("b.md".to_string(), DAY)].into();
        let facts = gather_all(&*store, 30 * DAY, 60 * DAY, &changed);
        assert_eq!(
            facts.articles["a.md"].flags,
            [flags[3].clone(), flags[2].clone()]
        );
        assert_eq!(facts.articles["b.md"].flags, [flags[1].clone()]);
        // Without a known change, the period's flags only.
        let facts = gather_all(&*store, 30 * DAY, 60 * DAY, &HashMap::new());
        assert_eq!(facts.articles["a.md"].flags.len(), 2);
        assert!(
            facts
                .articles
                .get("b.md")
                .is_none_or(|b| b.flags.is_empty())
        );
    }

    #[test]
    fn following_is_linear_and_agrees_with_looking_at_every_pair() {
        // A seeded shuffle of times: the merge must say what checking every pair says.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n) as Millis
        };
        for _ in 0..200 {
            let mut times: Vec<Millis> = (0..next(40)).map(|_| next(200) * MINUTE).collect();
            let mut contacts: Vec<Millis> = (0..next(10)).map(|_| next(200) * MINUTE).collect();
            times.sort();
            contacts.sort();
            let events: Vec<(Millis, usize)> = times.into_iter().zip(0..).collect();
            let mut steps = 0;
            let merged = followed(&events, &contacts, FOLLOW_WINDOW, &mut steps);
            let pairs: Vec<&usize> = events
                .iter()
                .filter(|(e, _)| contacts.iter().any(|&c| c >= *e && c <= e + FOLLOW_WINDOW))
                .map(|(_, i)| i)
                .collect();
            assert_eq!(merged, pairs, "events {events:?}, contacts {contacts:?}");
            assert!(steps <= (events.len() + contacts.len()) as u64);
        }
        // One visitor's burst: 10 000 searches, then 1 000 contact clicks among them.
        let searches: Vec<(Millis, usize)> = (0..10_000).map(|i| (i as Millis * 100, i)).collect();
        let contacts: Vec<Millis> = (0..1000).map(|i| i * 1000 + 60).collect();
        let mut steps = 0;
        let merged = followed(&searches, &contacts, FOLLOW_WINDOW, &mut steps);
        // Every search but those after the last contact click.
        assert_eq!(merged.len(), 9_991);
        assert_eq!(merged.last(), Some(&&9_990));
        assert!(steps <= 11_000, "{steps} steps");
    }

    /// A script's burst: `searches` searches 100 ms apart by each of `visitors` visitors, a
    /// view after every other one, a contact click every `every` searches.
    fn flood(visitors: usize, searches: usize, every: usize, start: Millis) -> Vec<Event> {
        let mut events = Vec::new();
        for v in 0..visitors {
            let visitor = format!("bot{v}");
            for i in 0..searches {
                let at = start + v as Millis * DAY + i as Millis * 100;
                events.push(search(&format!("b{v}-{i}"), at, &visitor, "zqx flood", 0));
                if i % 2 == 1 {
                    events.push(view(at + 50, &visitor, "r.md"));
                }
                if i % every == every - 1 {
                    events.push(contact(at + 60, &visitor, None, None));
                }
            }
        }
        events
    }

    fn a_flood_of_contact_clicks_is_attributed_in_linear_time(backend: Backend) {
        let t = 100 * DAY;
        let (visitors, searches, every) = (3, 3000, 10);
        let (_db, store) = backend.holding(&flood(visitors, searches, every, t));
        let mut after = Followed::default();
        store
            .contact_timelines(t..t + 10 * DAY, FOLLOW_WINDOW, &mut |tl| {
                after.add(tl);
                Ok(())
            })
            .unwrap();
        let events = visitors * (searches + searches / 2 + searches / every);
        // Each search and each view once, each contact click at most twice (for searches,
        // then for views).
        assert!(
            after.steps <= events as u64 + (visitors * searches / every) as u64,
            "{}",
            after.steps
        );
        // Every search but each visitor's last few precedes a contact click.
        assert!(after.searches.len() >= visitors * (searches - every));
        let facts = gather_all(&*store, t, t + 10 * DAY, &HashMap::new());
        let c = &facts.clusters[0];
        assert_eq!(c.searches, (visitors * searches) as u64);
        assert_eq!(c.contacts, after.searches.len() as u64);
        assert_eq!(facts.articles["r.md"].contacts_after, after.views["r.md"]);
        assert_eq!(facts.totals.contacts, (visitors * searches / every) as u64);
    }

    fn a_cancelled_gather_stops(backend: Backend) {
        let t = 100 * DAY;
        let (_db, store) = backend.holding(&flood(1, 100, 10, t));
        let cancel = Cancel::default();
        cancel.cancel();
        let r = gather(&*store, t, t + DAY, &HashMap::new(), &[], &cancel);
        assert!(matches!(r, Err(MetricsError::Cancelled)), "{r:?}");
    }
}
