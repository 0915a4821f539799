//! The read side of the metrics: every question kb asks of the recorded events, as one trait
//! with typed answers, [`MetricsReader`].
//!
//! Storage owns its SQL: each backend answers in its own query language (SQLite:
//! [`super::sqlite::SqliteReader`]), and nothing above `metrics` — the report, the web layer,
//! the commands — sees a query, a connection or a row of a database driver. The questions are
//! small and portable on purpose (scans of one period, counts per article and day), so a
//! backend is a dozen plain queries; what the report makes of the answers (needs, which
//! searches a contact click followed, the rules) is computed once, above, for every backend
//! alike.
//!
//! The trait is synchronous: its calls block, and a server makes them on a blocking thread
//! (`tokio::task::spawn_blocking`), as it does for SQLite. A backend over an asynchronous
//! client (tokio-postgres) implements it with a runtime handle (`Handle::block_on` inside
//! such a thread) or a blocking client; the report stays a plain function that a command, a
//! server and a benchmark call alike. Scans hand their rows to a [`Sink`] as they come, so
//! memory stays flat whatever the period; a sink that returns an error ends the scan with it
//! ([`MetricsError::Cancelled`] when nobody waits for the answer any more).

use std::collections::HashMap;
use std::ops::Range;

use super::{Action, ActionKind, Click, Event, Flag, MetricsError, Millis, Vote};

/// Where a scan hands its rows, one at a time; an error ends the scan with that error.
pub type Sink<'a, T> = &'a mut dyn FnMut(T) -> Result<(), MetricsError>;

/// A customer's search, as the report reads it: neither an agent's nor a keystroke of search
/// as you type.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerSearch {
    pub id: String,
    pub at: Millis,
    pub visitor: Option<String>,
    pub query: String,
    /// The query through the index's analyzer ([`super::Search::normalized`]).
    pub normalized: String,
    /// The language filter.
    pub lang: Option<String>,
    /// The reader's interface language.
    pub ui: Option<String>,
    /// How many results it found.
    pub total: u64,
    /// The paths of the results shown, best first ([`super::Search::results`]).
    pub results: Vec<String>,
}

/// An AI agent's search (`source = ai`, through the MCP server), as the report reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct AiSearch {
    pub at: Millis,
    pub query: String,
    pub normalized: String,
    pub lang: Option<String>,
    pub total: u64,
    /// The paths it returned, best first.
    pub results: Vec<String>,
}

/// Current votes (each visitor's latest) on one article.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub yes: u64,
    pub no: u64,
}

/// Views of one article on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyViews {
    pub path: String,
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    pub views: u64,
}

/// What one visitor who clicked "Contact support" did around a period: what contact clicks
/// are attributed to. Each list is in time order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    pub visitor: String,
    /// Times of the visitor's contact clicks, from the period's start to its end plus the
    /// window asked for.
    pub contacts: Vec<Millis>,
    /// The visitor's customer searches in the period ([`CustomerSearch`]): time and id.
    pub searches: Vec<(Millis, String)>,
    /// The visitor's article views in the period: time and path.
    pub views: Vec<(Millis, String)>,
}

/// How many of each kind are stored: the history, and the votes that count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub searches: u64,
    pub clicks: u64,
    pub views: u64,
    pub votes: u64,
    pub current_votes: u64,
    pub actions: u64,
    pub flags: u64,
}

impl Totals {
    /// Events of every kind (current votes are votes, not events of their own).
    pub fn events(&self) -> u64 {
        self.searches + self.clicks + self.views + self.votes + self.actions + self.flags
    }
}

/// The questions kb asks of the recorded events. Periods are half-open, `start..end`, in
/// [`Millis`]. Rows come in no particular order unless a method says otherwise.
pub trait MetricsReader: Send + Sync {
    /// Every event at or after `since`, oldest first (`kb export`).
    fn events_since(&self, since: Millis, sink: Sink<'_, Event>) -> Result<(), MetricsError>;

    /// The most viewed articles since `since`, most viewed first (ties by path), at most
    /// `limit`: path and views.
    fn popular(&self, since: Millis, limit: usize) -> Result<Vec<(String, u64)>, MetricsError>;

    /// The current votes cast since `since` on each of `paths` (every path is in the answer,
    /// with nothing counted when it has no vote).
    fn helpfulness(
        &self,
        paths: &[String],
        since: Millis,
    ) -> Result<HashMap<String, Tally>, MetricsError>;

    /// The vote of `visitor` on `path` that counts (their latest), if any.
    fn current_vote(&self, visitor: &str, path: &str) -> Result<Option<Vote>, MetricsError>;

    /// Customers' searches in `period`: neither agents' nor partial ones.
    fn customer_searches(
        &self,
        period: Range<Millis>,
        sink: Sink<'_, CustomerSearch>,
    ) -> Result<(), MetricsError>;

    /// Clicks on search results in `period`.
    fn clicks(&self, period: Range<Millis>, sink: Sink<'_, Click>) -> Result<(), MetricsError>;

    /// Article views in `period`, counted per article and day (days as the period cuts them:
    /// the first and last may be partial).
    fn daily_views(&self, period: Range<Millis>) -> Result<Vec<DailyViews>, MetricsError>;

    /// Events of one kind posted by pages and integrations (contact clicks, links inserted)
    /// in `period`.
    fn actions(
        &self,
        kind: ActionKind,
        period: Range<Millis>,
        sink: Sink<'_, Action>,
    ) -> Result<(), MetricsError>;

    /// For each visitor who clicked "Contact support" between the start of `period` and
    /// `window` after its end: their contact clicks in that span, and their customer searches
    /// and views in `period`, each list in time order; one [`Timeline`] per visitor.
    fn contact_timelines(
        &self,
        period: Range<Millis>,
        window: Millis,
        sink: Sink<'_, Timeline>,
    ) -> Result<(), MetricsError>;

    /// Every vote cast in `period` (the history, changed votes included).
    fn votes(&self, period: Range<Millis>, sink: Sink<'_, Vote>) -> Result<(), MetricsError>;

    /// The votes that count (each visitor's latest on each article) cast in `period`.
    fn current_votes(
        &self,
        period: Range<Millis>,
        sink: Sink<'_, Vote>,
    ) -> Result<(), MetricsError>;

    /// Agents' flags raised in `period`.
    fn flags(&self, period: Range<Millis>, sink: Sink<'_, Flag>) -> Result<(), MetricsError>;

    /// How many of each kind are stored (what a copy to another database is checked by).
    fn totals(&self) -> Result<Totals, MetricsError>;
    /// AI agents' searches in `period` (`source = ai`). By default a scan of every event
    /// since the period's start; a backend should answer it with a query of its own (SQLite
    /// does).
    fn ai_searches(
        &self,
        period: Range<Millis>,
        sink: Sink<'_, AiSearch>,
    ) -> Result<(), MetricsError> {
        ai_searches_in_events(self, period, sink)
    }
}

/// [`MetricsReader::ai_searches`] for any backend: the searches with `source = ai` among
/// every event since the period's start (keystrokes of search as you type aside).
pub fn ai_searches_in_events<R: MetricsReader + ?Sized>(
    reader: &R,
    period: Range<Millis>,
    sink: Sink<'_, AiSearch>,
) -> Result<(), MetricsError> {
    reader.events_since(period.start, &mut |event| match event {
        Event::Search(s)
            if s.source == super::Source::Ai && !s.partial && period.contains(&s.at) =>
        {
            sink(AiSearch {
                at: s.at,
                query: s.query,
                normalized: s.normalized,
                lang: s.lang,
                total: s.total,
                results: s.results,
            })
        }
        _ => Ok(()),
    })
}
