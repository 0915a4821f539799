//! The stores' tests, run on both backends: SQLite in a temporary folder, and PostgreSQL in
//! a database of its own on a private server ([`super::postgres::cluster`]). Each test is a
//! function of a [`Backend`]; [`on_both_backends!`] makes a `sqlite` and a `postgres` test
//! of it.

use std::collections::HashMap;

use super::postgres::cluster::{self, Cluster};
use super::read::{CustomerSearch, DailyViews, MetricsReader, Tally, Timeline};
use super::{
    Action, ActionKind, Click, DAY, Database, Event, EventStore, Flag, FlagReason, MetricsError,
    Millis, Reason, Search, Source, View, Vote,
};

/// An empty metrics database of one backend, deleted with the value.
pub enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(cluster::Database),
}

impl Backend {
    pub fn sqlite() -> Backend {
        Backend::Sqlite(tempfile::tempdir().unwrap())
    }

    pub fn postgres() -> Backend {
        Backend::Postgres(Cluster::shared().database())
    }

    pub fn database(&self) -> Database {
        match self {
            Backend::Sqlite(dir) => Database::Sqlite(dir.path().to_path_buf()),
            Backend::Postgres(db) => Database::Postgres(db.url.clone()),
        }
    }

    pub fn store(&self) -> Box<dyn EventStore> {
        self.database().open_store().unwrap()
    }

    pub fn reader(&self) -> Box<dyn MetricsReader> {
        self.database().open_reader().unwrap().unwrap()
    }

    /// A store holding `events`, and its reader.
    pub fn holding(self, events: &[Event]) -> (Backend, Box<dyn MetricsReader>) {
        let mut store = self.store();
        for chunk in events.chunks(10_000) {
            store.append(chunk).unwrap();
        }
        let reader = self.reader();
        (self, reader)
    }
}

/// `fn name(backend: Backend)` run as two tests, `name::sqlite` and `name::postgres`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name($crate::metrics::store_tests::Backend::sqlite())
                }
                #[test]
                fn postgres() {
                    super::$name($crate::metrics::store_tests::Backend::postgres())
                }
            }
        )*
    };
}
pub(crate) use on_both_backends;

/// Everything a scan hands out.
pub fn all<T>(
    scan: impl FnOnce(&mut dyn FnMut(T) -> Result<(), MetricsError>) -> Result<(), MetricsError>,
) -> Vec<T> {
    let mut out = Vec::new();
    scan(&mut |row| {
        out.push(row);
        Ok(())
    })
    .unwrap();
    out
}

fn vote(at: Millis, visitor: Option<&str>, path: &str, helpful: bool) -> Event {
    Event::Vote(Vote {
        at,
        visitor: visitor.map(str::to_string),
        path: path.into(),
        helpful,
        reason: (!helpful).then_some(Reason::Outdated),
        comment: None,
        id: None,
    })
}

pub(super) fn search(id: &str, at: Millis, visitor: &str, source: Source, partial: bool) -> Event {
    Event::Search(Search {
        id: id.into(),
        at,
        visitor: Some(visitor.into()),
        query: "Refunds?".into(),
        normalized: "refund".into(),
        lang: Some("en".into()),
        total: 3,
        source,
        results: vec!["a.md".into(), "b.md".into()],
        partial,
        ui: Some("en".into()),
    })
}

pub(super) fn action(at: Millis, visitor: Option<&str>, kind: ActionKind) -> Event {
    Event::Action(Action {
        at,
        visitor: visitor.map(str::to_string),
        kind,
        path: Some("a.md".into()),
        query: Some("refund".into()),
        search_id: None,
        source: Some(Source::Agent),
    })
}

fn view(at: Millis, visitor: Option<&str>, path: &str) -> Event {
    Event::View(View {
        at,
        visitor: visitor.map(str::to_string),
        path: path.into(),
        search_id: None,
    })
}

on_both_backends!(
    a_changed_vote_replaces_the_old_one_and_history_is_kept,
    no_database_is_no_reader,
    untracked_votes_each_count,
    retention_deletes_old_events_and_their_current_votes,
    events_round_trip_in_time_order,
    the_reports_questions,
    popular_articles_by_views,
    reopening_keeps_data_and_schema,
    a_batch_is_stored_once_however_often_it_is_sent,
    ai_agents_searches_and_reads_are_kept_apart,
    a_vote_with_the_id_of_an_earlier_one_completes_it,
);

fn ai_agents_searches_and_reads_are_kept_apart(backend: Backend) {
    let (_b, r) = backend.holding(&[
        search("c1", 1, "v", Source::Customer, false),
        search("a1", 2, "w", Source::Ai, false),
        search("a2", 3, "w", Source::Ai, true),
        action(4, None, ActionKind::ArticleFetched),
    ]);
    let ai = all(|sink| r.ai_searches(0..10, sink));
    assert_eq!(ai.len(), 1, "{ai:?}: a keystroke is not a search");
    assert_eq!((ai[0].at, ai[0].results.len()), (2, 2));
    assert_eq!(
        all(|sink| super::read::ai_searches_in_events(&*r, 0..10, sink)),
        ai,
        "the backend's own query and the portable default agree"
    );
    let customers = all(|sink| r.customer_searches(0..10, sink));
    assert_eq!(customers.len(), 1);
    let fetched = all(|sink| r.actions(ActionKind::ArticleFetched, 0..10, sink));
    assert_eq!(fetched.len(), 1);
}

fn a_vote_with_the_id_of_an_earlier_one_completes_it(backend: Backend) {
    let id = "0123456789abcdef0123456789abcdef";
    let with_id = |at, visitor: &str, path: &str, reason, comment: Option<&str>| {
        Event::Vote(Vote {
            at,
            visitor: Some(visitor.into()),
            path: path.into(),
            helpful: false,
            reason,
            comment: comment.map(str::to_string),
            id: Some(id.into()),
        })
    };
    let mut s = backend.store();
    // "No", then its reason in a later batch; in one batch, a vote and its completion.
    s.append(&[with_id(1, "v", "a.md", None, None)]).unwrap();
    s.append(&[with_id(
        5,
        "v",
        "a.md",
        Some(Reason::Unclear),
        Some("step 2?"),
    )])
    .unwrap();
    s.append(&[
        with_id(6, "w", "b.md", None, None),
        with_id(7, "w", "b.md", Some(Reason::Outdated), None),
    ])
    .unwrap();
    // The same id from someone else, or on another article, is a vote of its own.
    s.append(&[
        with_id(8, "x", "a.md", None, None),
        with_id(9, "v", "c.md", None, None),
    ])
    .unwrap();
    let r = backend.reader();
    let votes = all(|sink| r.votes(0..100, sink));
    assert_eq!(votes.len(), 4, "{votes:?}");
    let current = r.current_vote("v", "a.md").unwrap().unwrap();
    assert_eq!(
        (current.at, current.reason, current.comment.as_deref()),
        (1, Some(Reason::Unclear), Some("step 2?")),
        "completed, its time kept"
    );
    let current = r.current_vote("w", "b.md").unwrap().unwrap();
    assert_eq!((current.at, current.reason), (6, Some(Reason::Outdated)));
    assert_eq!(r.current_vote("x", "a.md").unwrap().unwrap().reason, None);
}

fn a_changed_vote_replaces_the_old_one_and_history_is_kept(backend: Backend) {
    let mut s = backend.store();
    s.append(&[
        vote(1, Some("v1"), "a.md", true),
        vote(2, Some("v2"), "a.md", true),
    ])
    .unwrap();
    s.append(&[vote(3, Some("v1"), "a.md", false)]).unwrap();
    let r = backend.reader();
    let totals = r.totals().unwrap();
    assert_eq!((totals.votes, totals.current_votes), (3, 2));
    let current = r.current_vote("v1", "a.md").unwrap().unwrap();
    assert_eq!(
        (current.helpful, current.reason),
        (false, Some(Reason::Outdated))
    );
    // An older vote arriving late does not replace a newer one.
    s.append(&[vote(1, Some("v1"), "a.md", true)]).unwrap();
    assert!(!r.current_vote("v1", "a.md").unwrap().unwrap().helpful);
    assert_eq!(r.current_vote("v3", "a.md").unwrap(), None);
    assert_eq!(all(|sink| r.votes(0..10, sink)).len(), 4);
    assert_eq!(all(|sink| r.current_votes(0..10, sink)).len(), 2);
    assert_eq!(
        r.helpfulness(&["a.md".into(), "b.md".into()], 0).unwrap(),
        HashMap::from([
            ("a.md".to_string(), Tally { yes: 1, no: 1 }),
            ("b.md".to_string(), Tally::default())
        ])
    );
    assert_eq!(
        r.helpfulness(&["a.md".into()], 3).unwrap()["a.md"],
        Tally { yes: 0, no: 1 }
    );
    // In one batch, the later of a visitor's votes counts.
    s.append(&[
        vote(5, Some("v4"), "b.md", true),
        vote(6, Some("v4"), "b.md", false),
        vote(6, Some("v5"), "b.md", true),
        vote(6, Some("v5"), "b.md", false),
    ])
    .unwrap();
    assert!(!r.current_vote("v4", "b.md").unwrap().unwrap().helpful);
    assert!(!r.current_vote("v5", "b.md").unwrap().unwrap().helpful);
}

fn no_database_is_no_reader(backend: Backend) {
    assert!(backend.database().open_reader().unwrap().is_none());
}

fn untracked_votes_each_count(backend: Backend) {
    let mut s = backend.store();
    s.append(&[vote(1, None, "a.md", true), vote(2, None, "a.md", false)])
        .unwrap();
    s.append(&[vote(3, None, "a.md", false)]).unwrap();
    assert_eq!(backend.reader().totals().unwrap().current_votes, 3);
    assert_eq!(
        backend.reader().helpfulness(&["a.md".into()], 0).unwrap()["a.md"],
        Tally { yes: 1, no: 2 }
    );
}

fn retention_deletes_old_events_and_their_current_votes(backend: Backend) {
    let mut s = backend.store();
    s.append(&[
        view(10, None, "a.md"),
        view(20, None, "a.md"),
        view(30, None, "a.md"),
        vote(15, Some("v"), "a.md", true),
    ])
    .unwrap();
    assert_eq!(s.purge_before(20).unwrap(), 2);
    let totals = backend.reader().totals().unwrap();
    assert_eq!((totals.views, totals.current_votes), (2, 0));
}

fn events_round_trip_in_time_order(backend: Backend) {
    let mut s = backend.store();
    let events = vec![
        search("s1", 1, "v", Source::Agent, true),
        Event::Click(Click {
            at: 2,
            visitor: Some("v".into()),
            search_id: "s1".into(),
            path: "a.md".into(),
            position: 1,
        }),
        Event::View(View {
            at: 3,
            visitor: Some("v".into()),
            path: "a.md".into(),
            search_id: Some("s1".into()),
        }),
        vote(4, Some("v"), "a.md", false),
        action(5, None, ActionKind::LinkInserted),
        Event::Flag(Flag {
            at: 6,
            visitor: None,
            path: "a.md".into(),
            reason: FlagReason::Wrong,
            note: Some("price".into()),
        }),
    ];
    s.append(&events).unwrap();
    let r = backend.reader();
    assert_eq!(all(|sink| r.events_since(0, sink)), events);
    assert_eq!(all(|sink| r.events_since(4, sink)).len(), 3);
    // A sink's error ends the scan with it.
    let mut seen = 0;
    let stopped = r.events_since(0, &mut |_| {
        seen += 1;
        Err(MetricsError::Cancelled)
    });
    assert!(
        matches!(stopped, Err(MetricsError::Cancelled)),
        "{stopped:?}"
    );
    assert_eq!(seen, 1);
    // Hostile text is kept as it came, but for what a backend cannot hold (PostgreSQL text
    // has no NUL).
    let odd = "\u{0}'; DROP TABLE votes; --\u{202e}é";
    s.append(&[Event::Vote(Vote {
        at: 7,
        visitor: Some(odd.into()),
        path: odd.into(),
        helpful: true,
        reason: None,
        comment: Some(odd.into()),
        id: None,
    })])
    .unwrap();
    let stored = all(|sink| r.votes(7..8, sink));
    let comment = stored[0].comment.clone().unwrap();
    assert!(
        comment == odd || comment == odd.replace('\0', "\u{fffd}"),
        "{comment:?}"
    );
}

fn the_reports_questions(backend: Backend) {
    let (_backend, r) = backend.holding(&[
        search("s1", 10, "v", Source::Customer, false),
        search("s2", 11, "v", Source::Customer, true),
        search("s3", 12, "w", Source::Agent, false),
        search("s4", DAY + 5, "w", Source::Customer, false),
        view(20, Some("v"), "a.md"),
        view(21, Some("w"), "a.md"),
        view(DAY + 1, Some("v"), "b.md"),
        action(30, Some("v"), ActionKind::ContactClicked),
        action(DAY + 40, Some("v"), ActionKind::ContactClicked),
        action(31, None, ActionKind::ContactClicked),
        action(32, Some("w"), ActionKind::LinkInserted),
    ]);
    let searches: Vec<CustomerSearch> = all(|sink| r.customer_searches(0..2 * DAY, sink));
    let mut ids: Vec<&str> = searches.iter().map(|s| s.id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["s1", "s4"], "neither agents' nor partial searches");
    assert_eq!(searches[0].ui.as_deref(), Some("en"));
    let mut views = r.daily_views(0..2 * DAY).unwrap();
    views.sort_by_key(|v| (v.day, v.path.clone()));
    assert_eq!(
        views,
        [
            DailyViews {
                path: "a.md".into(),
                day: 0,
                views: 2
            },
            DailyViews {
                path: "b.md".into(),
                day: 1,
                views: 1
            }
        ]
    );
    let contacts = all(|sink| r.actions(ActionKind::ContactClicked, 0..DAY, sink));
    assert_eq!(contacts.len(), 2);
    assert!(
        contacts
            .iter()
            .all(|a| a.kind == ActionKind::ContactClicked)
    );
    // Only the visitor who contacted support has a timeline; contact clicks reach past
    // the period by the window, searches and views do not.
    let timelines: Vec<Timeline> = all(|sink| r.contact_timelines(0..DAY, DAY, sink));
    assert_eq!(
        timelines,
        [Timeline {
            visitor: "v".into(),
            contacts: vec![30, DAY + 40],
            searches: vec![(10, "s1".into())],
            views: vec![(20, "a.md".into())],
        }]
    );
}

fn popular_articles_by_views(backend: Backend) {
    let (_backend, r) = backend.holding(&[
        view(1, None, "old.md"),
        view(10, None, "a.md"),
        view(11, None, "b.md"),
        view(12, None, "b.md"),
        // Ties are ordered by path, byte by byte, whatever the database's locale.
        view(13, None, "c-d.md"),
        view(14, None, "c/d.md"),
        view(15, None, "C.md"),
    ]);
    assert_eq!(
        r.popular(5, 10).unwrap(),
        [
            ("b.md".to_string(), 2),
            ("C.md".to_string(), 1),
            ("a.md".to_string(), 1),
            ("c-d.md".to_string(), 1),
            ("c/d.md".to_string(), 1)
        ]
    );
    assert_eq!(r.popular(5, 1).unwrap().len(), 1);
}

fn reopening_keeps_data_and_schema(backend: Backend) {
    let mut s = backend.store();
    s.append(&[vote(1, Some("v"), "a.md", true)]).unwrap();
    drop(s);
    let s = backend.store();
    drop(s);
    let r = backend.reader();
    assert_eq!(r.totals().unwrap().votes, 1);
    assert_eq!(all(|sink| r.votes(0..2, sink)).len(), 1);
}

fn a_batch_is_stored_once_however_often_it_is_sent(backend: Backend) {
    // A retry after a commit whose answer was lost sends the same batch again. SQLite never
    // loses an answer (it keeps no names), so this holds for PostgreSQL, which keeps them.
    let mut s = backend.store();
    let id = super::BatchId::random();
    let events = [vote(1, Some("v"), "a.md", true), view(2, None, "a.md")];
    s.append_batch(id, &events).unwrap();
    let again = s.append_batch(id, &events);
    let totals = backend.reader().totals().unwrap();
    match backend {
        Backend::Postgres(_) => {
            again.unwrap();
            assert_eq!((totals.votes, totals.views), (1, 1));
        }
        Backend::Sqlite(_) => assert_eq!((totals.votes, totals.views), (2, 2)),
    }
}
