//! Metrics: the durable record of what readers do — searches, clicks, article views, "Did this
//! help?" votes, contact clicks and links inserted by agents.
//!
//! This module owns the events, where they are kept ([`EventStore`], implemented on SQLite
//! by [`sqlite::SqliteStore`]), how they get there ([`Recorder`]) and every question asked of
//! them afterwards ([`MetricsReader`]: typed answers, implemented on SQLite by
//! [`sqlite::SqliteReader`]). Storage owns its SQL: this is the only module that speaks it,
//! so another backend (PostgreSQL for several replicas) implements the two traits and
//! nothing above changes. It knows nothing of HTTP: the web layer decides who a visitor is
//! and whether a request is tracked at all.
//!
//! The write path is built so that request handlers never wait on disk for analytics: they
//! hand events to a [`Recorder`], whose single writer thread commits whatever has queued up
//! during the previous commit in one transaction (group commit). A vote is the exception: its
//! handler waits until the transaction holding it is committed, so an acknowledged vote
//! survives a crash.

pub mod export;
pub mod read;
pub mod sqlite;

pub use read::{AiSearch, CustomerSearch, DailyViews, MetricsReader, Sink, Tally, Timeline};

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// A minute, an hour and a day, in [`Millis`].
pub const MINUTE: Millis = 60_000;
pub const HOUR: Millis = 60 * MINUTE;
pub const DAY: Millis = 24 * HOUR;

/// Now, in [`Millis`].
pub fn now() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

/// Errors of the metrics store.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("metrics database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot create the data folder {path}: {source}")]
    DataFolder {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the metrics database in {path} was written by a newer kb (schema {found}, this kb knows {known}); upgrade kb"
    )]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("the metrics writer has stopped")]
    Stopped,
    /// A reader stopped a scan: nobody waits for the answer any more.
    #[error("cancelled: nobody waits for the answer any more")]
    Cancelled,
    #[error("{0}")]
    Other(String),
}

/// Who searched: a customer on the help center, an agent in the agent panel, or an AI
/// agent through the MCP server. Only customers' searches count in the customer figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Customer,
    Agent,
    Ai,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Customer => "customer",
            Source::Agent => "agent",
            Source::Ai => "ai",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        match s {
            "customer" => Some(Source::Customer),
            "agent" => Some(Source::Agent),
            "ai" => Some(Source::Ai),
            _ => None,
        }
    }
}

/// Why a reader said an article did not help.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    Outdated,
    Unclear,
    Incomplete,
    Other,
}

impl Reason {
    pub const ALL: [Reason; 4] = [
        Reason::Outdated,
        Reason::Unclear,
        Reason::Incomplete,
        Reason::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Outdated => "outdated",
            Reason::Unclear => "unclear",
            Reason::Incomplete => "incomplete",
            Reason::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Why an agent flagged an article.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum FlagReason {
    /// It says something that is not true.
    Wrong,
    /// It was true once.
    Outdated,
    Other,
}

impl FlagReason {
    pub const ALL: [FlagReason; 3] = [FlagReason::Wrong, FlagReason::Outdated, FlagReason::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            FlagReason::Wrong => "wrong",
            FlagReason::Outdated => "outdated",
            FlagReason::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<FlagReason> {
        FlagReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// An event posted by a page or a help-desk integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// A reader clicked "Contact support".
    ContactClicked,
    /// An agent copied a link to an article into a reply.
    LinkInserted,
    /// An AI agent read an article through the MCP server (`get_article`).
    ArticleFetched,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::ContactClicked => "contact_clicked",
            ActionKind::LinkInserted => "link_inserted",
            ActionKind::ArticleFetched => "article_fetched",
        }
    }

    pub fn parse(s: &str) -> Option<ActionKind> {
        match s {
            "contact_clicked" => Some(ActionKind::ContactClicked),
            "link_inserted" => Some(ActionKind::LinkInserted),
            "article_fetched" => Some(ActionKind::ArticleFetched),
            _ => None,
        }
    }
}

/// A search, as typed and as analyzed.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    /// Public id, carried by result links so that clicks and views refer to the search.
    pub id: String,
    pub at: Millis,
    /// `None` when the visitor asked not to be tracked (DNT, GPC).
    pub visitor: Option<String>,
    pub query: String,
    /// The query's words through the index's analyzer, sorted: variants of one need
    /// (case, script, word order, punctuation) group together.
    pub normalized: String,
    pub lang: Option<String>,
    pub total: u64,
    pub source: Source,
    /// The paths of the results shown, best first.
    pub results: Vec<String>,
    /// Sent while the person was still typing (search as you type).
    pub partial: bool,
    /// The reader's interface language, when the search came from the help center's pages.
    pub ui: Option<String>,
}

/// A click on a search result.
#[derive(Debug, Clone, PartialEq)]
pub struct Click {
    pub at: Millis,
    pub visitor: Option<String>,
    pub search_id: String,
    pub path: String,
    /// 1 for the first result.
    pub position: u32,
}

/// An article view.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub at: Millis,
    pub visitor: Option<String>,
    pub path: String,
    /// The search the reader came from, if any.
    pub search_id: Option<String>,
}

/// A "Did this help?" vote. The latest vote of a visitor on an article replaces the earlier
/// ones; all are kept in the history.
#[derive(Debug, Clone, PartialEq)]
pub struct Vote {
    pub at: Millis,
    /// `None` for readers not tracked per visitor: each such vote counts on its own.
    pub visitor: Option<String>,
    pub path: String,
    pub helpful: bool,
    pub reason: Option<Reason>,
    pub comment: Option<String>,
}

/// An agent's flag on an article: it is wrong or outdated, with a note for the writers.
#[derive(Debug, Clone, PartialEq)]
pub struct Flag {
    pub at: Millis,
    pub visitor: Option<String>,
    pub path: String,
    pub reason: FlagReason,
    pub note: Option<String>,
}

/// A contact click or an inserted link.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub at: Millis,
    pub visitor: Option<String>,
    pub kind: ActionKind,
    pub path: Option<String>,
    pub query: Option<String>,
    pub search_id: Option<String>,
    pub source: Option<Source>,
}

/// Anything recorded.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Search(Search),
    Click(Click),
    View(View),
    Vote(Vote),
    Action(Action),
    Flag(Flag),
}

impl Event {
    pub fn at(&self) -> Millis {
        match self {
            Event::Search(e) => e.at,
            Event::Click(e) => e.at,
            Event::View(e) => e.at,
            Event::Vote(e) => e.at,
            Event::Action(e) => e.at,
            Event::Flag(e) => e.at,
        }
    }
}

/// Where events are written. The web layer never sees this trait, only [`Recorder`] (and
/// [`MetricsReader`] for what it reads), so another backend (PostgreSQL for several
/// replicas) plugs in here.
pub trait EventStore: Send {
    /// Stores events atomically: all of them or none.
    fn append(&mut self, events: &[Event]) -> Result<(), MetricsError>;
    /// Deletes every event older than `cutoff`; returns how many.
    fn purge_before(&mut self, cutoff: Millis) -> Result<u64, MetricsError>;
}

/// How many events may wait for the writer. Beyond it, analytics events are dropped (and
/// counted) rather than slowing requests down; votes wait for room instead.
const QUEUE: usize = 65_536;
/// Most events committed in one transaction.
const MAX_BATCH: usize = 4096;
/// How often old events are purged when a retention period is set.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

enum Command {
    Record(Event),
    /// Record, then answer once committed.
    RecordDurably(Event, oneshot::Sender<Result<(), String>>),
    /// Answer once everything sent before is committed.
    Flush(oneshot::Sender<()>),
    Stop,
}

/// The handle through which events reach the store; cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Command>,
    dropped: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
}

/// The writer thread; [`Writer::stop`] commits what is queued and ends it.
pub struct Writer {
    tx: mpsc::Sender<Command>,
    thread: JoinHandle<()>,
}

impl Writer {
    /// Commits everything queued and waits for the writer thread to end.
    pub fn stop(self) {
        let _ = self.tx.blocking_send(Command::Stop);
        let _ = self.thread.join();
    }
}

impl Recorder {
    /// Starts the writer thread over `store`. With `retention`, events older than it are
    /// deleted at start and every hour.
    pub fn start(
        mut store: Box<dyn EventStore>,
        retention: Option<Duration>,
    ) -> (Recorder, Writer) {
        let (tx, mut rx) = mpsc::channel::<Command>(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let failed_in_writer = failed.clone();
        let thread = std::thread::Builder::new()
            .name("kb-metrics".into())
            .spawn(move || {
                let mut last_purge: Option<Instant> = None;
                let mut batch = Vec::with_capacity(MAX_BATCH);
                while let Some(first) = rx.blocking_recv() {
                    batch.push(first);
                    while batch.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(c) => batch.push(c),
                            Err(_) => break,
                        }
                    }
                    let stop = commit(&mut *store, &mut batch, &failed_in_writer);
                    if let Some(keep) = retention
                        && last_purge.is_none_or(|t| t.elapsed() >= PURGE_EVERY)
                    {
                        last_purge = Some(Instant::now());
                        let cutoff = now() - keep.as_millis() as Millis;
                        match store.purge_before(cutoff) {
                            Ok(0) => {}
                            Ok(n) => tracing::info!(
                                "retention: deleted {n} events older than the retention period"
                            ),
                            Err(e) => tracing::error!("retention: {e}"),
                        }
                    }
                    if stop {
                        break;
                    }
                }
            })
            .expect("the metrics writer thread starts");
        let recorder = Recorder {
            tx: tx.clone(),
            dropped,
            failed,
        };
        // Purge at start, without waiting for the first event.
        if retention.is_some() {
            let _ = tx.try_send(Command::Flush(oneshot::channel().0));
        }
        (recorder, Writer { tx, thread })
    }

    /// Queues an event; never waits. When the queue is full the event is dropped and counted.
    pub fn record(&self, event: Event) {
        if self.tx.try_send(Command::Record(event)).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!("metrics queue full: {n} events dropped so far");
            }
        }
    }

    /// Records an event and returns once it is committed to disk.
    pub async fn record_durably(&self, event: Event) -> Result<(), MetricsError> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Command::RecordDurably(event, ack))
            .await
            .map_err(|_| MetricsError::Stopped)?;
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(MetricsError::Other(e)),
            Err(_) => Err(MetricsError::Stopped),
        }
    }

    /// Returns once every event recorded before is committed.
    pub async fn flush(&self) -> Result<(), MetricsError> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Command::Flush(ack))
            .await
            .map_err(|_| MetricsError::Stopped)?;
        done.await.map_err(|_| MetricsError::Stopped)
    }

    /// Events dropped because the queue was full, and events lost to failed commits.
    pub fn lost(&self) -> (u64, u64) {
        (
            self.dropped.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }
}

/// Commits one batch and answers whoever waits on it; true when asked to stop.
fn commit(store: &mut dyn EventStore, batch: &mut Vec<Command>, failed: &AtomicU64) -> bool {
    let mut events = Vec::with_capacity(batch.len());
    let mut acks = Vec::new();
    let mut flushes = Vec::new();
    let mut stop = false;
    for command in batch.drain(..) {
        match command {
            Command::Record(e) => events.push(e),
            Command::RecordDurably(e, ack) => {
                events.push(e);
                acks.push(ack);
            }
            Command::Flush(ack) => flushes.push(ack),
            Command::Stop => stop = true,
        }
    }
    let result = if events.is_empty() {
        Ok(())
    } else {
        store.append(&events)
    };
    if let Err(e) = &result {
        failed.fetch_add(events.len() as u64, Ordering::Relaxed);
        tracing::error!("cannot record {} events: {e}", events.len());
    }
    let answer = result.map_err(|e| e.to_string());
    for ack in acks {
        let _ = ack.send(answer.clone());
    }
    for ack in flushes {
        let _ = ack.send(());
    }
    stop
}

/// A random id (128 bits, hex): visitors and searches.
pub fn random_id() -> String {
    let v: u128 = rand::random();
    format!("{v:032x}")
}

/// Whether `s` looks like an id made by [`random_id`].
pub fn is_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// A period such as `30d`, `12h`, `2w`, `6m` (30 days), `1y`, in milliseconds.
pub fn parse_period(s: &str) -> Option<Millis> {
    let s = s.trim().to_ascii_lowercase();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let n: i64 = s[..split].parse().ok()?;
    let unit: Millis = match &s[split..] {
        "h" => HOUR,
        "d" => DAY,
        "w" => 7 * DAY,
        "m" => 30 * DAY,
        "y" => 365 * DAY,
        _ => return None,
    };
    (n > 0).then(|| n.saturating_mul(unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        assert_eq!(parse_period("30d"), Some(30 * DAY));
        assert_eq!(parse_period("12h"), Some(12 * HOUR));
        assert_eq!(parse_period("2W"), Some(14 * DAY));
        assert_eq!(DAY, 86_400_000);
        assert_eq!(parse_period("0d"), None);
        assert_eq!(parse_period("30"), None);
        assert_eq!(parse_period("d"), None);
    }

    #[test]
    fn ids() {
        let a = random_id();
        assert!(is_id(&a));
        assert_ne!(a, random_id());
        assert!(!is_id("ABCDEF0123456789abcdef0123456789"));
        assert!(!is_id("short"));
    }
}
