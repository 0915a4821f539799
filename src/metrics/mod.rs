//! Metrics: the durable record of what readers do — searches, clicks, article views, "Did this
//! help?" votes, contact clicks and links inserted by agents.
//!
//! This module owns the events, where they are kept ([`EventStore`]), how they get there
//! ([`Recorder`]) and every question asked of them afterwards ([`MetricsReader`]: typed
//! answers). Two backends implement both traits: SQLite in the data folder
//! ([`sqlite::SqliteStore`], [`sqlite::SqliteReader`]), the default, and PostgreSQL
//! ([`postgres::Postgres`]), which several replicas share; [`Database`] names one. Storage
//! owns its SQL: this is the only module that speaks it. It knows nothing of HTTP: the web
//! layer decides who a visitor is and whether a request is tracked at all.
//!
//! The write path is built so that request handlers never wait on the database for
//! analytics: they hand events to a [`Recorder`], whose single writer thread commits whatever
//! has queued up during the previous commit in one transaction (group commit). A vote is the
//! exception: its handler waits until the transaction holding it is committed, so an
//! acknowledged vote survives a crash. When the database cannot be reached, events wait in
//! memory (a bounded queue) and the writer retries each batch under the same [`BatchId`], so
//! a batch whose commit went through but whose answer was lost is not stored twice; votes are
//! refused meanwhile rather than acknowledged.

pub mod export;
pub mod postgres;
pub mod read;
pub mod sqlite;
#[cfg(test)]
pub(crate) mod store_tests;

pub use read::{
    AiSearch, CustomerSearch, DailyViews, MetricsReader, Sink, Tally, Timeline, Totals,
};

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// A second, a minute, an hour and a day, in [`Millis`].
pub const SECOND: Millis = 1_000;
pub const MINUTE: Millis = 60 * SECOND;
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
    #[error("metrics database: {}", postgres::describe_error(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// The database cannot be reached (refused, timed out, restarting).
    #[error("the metrics database {0}")]
    Unavailable(String),
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
    /// Writing the answer out failed (a closed pipe, a full disk).
    #[error("cannot write the export: {0}")]
    Write(#[source] std::io::Error),
    #[error("{0}")]
    Other(String),
}

impl MetricsError {
    /// Whether trying the same thing again later may work: the database was unreachable,
    /// busy, restarting or out of room, rather than refusing what it was given.
    pub fn is_transient(&self) -> bool {
        match self {
            MetricsError::Unavailable(_) => true,
            MetricsError::Postgres(e) => postgres::is_transient(e),
            MetricsError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy
                    | rusqlite::ErrorCode::DatabaseLocked
                    | rusqlite::ErrorCode::DiskFull
                    | rusqlite::ErrorCode::SystemIoFailure
                    | rusqlite::ErrorCode::CannotOpen
            ),
            _ => false,
        }
    }
}

/// Where the metrics are kept: SQLite in a data folder (one server), or a PostgreSQL
/// database (`postgres://…`, any number of replicas).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Database {
    /// PostgreSQL when a URL is given, else SQLite in `data`.
    pub fn new(data: &Path, url: Option<&str>) -> Database {
        match url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => Database::Postgres(url.to_string()),
            None => Database::Sqlite(data.to_path_buf()),
        }
    }

    /// Where it is, for messages: the data folder, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite(data) => data.display().to_string(),
            Database::Postgres(url) => postgres::redact(url),
        }
    }

    /// The store to record into, created and migrated if needed.
    pub fn open_store(&self) -> Result<Box<dyn EventStore>, MetricsError> {
        Ok(match self {
            Database::Sqlite(data) => Box::new(sqlite::SqliteStore::open(data)?),
            Database::Postgres(url) => Box::new(postgres::Postgres::connect(url)?.store()),
        })
    }

    /// The reader of what was recorded; `None` when nothing ever was (no database yet).
    pub fn open_reader(&self) -> Result<Option<Box<dyn MetricsReader>>, MetricsError> {
        Ok(match self {
            Database::Sqlite(data) => {
                sqlite::SqliteReader::open(data)?.map(|r| Box::new(r) as Box<dyn MetricsReader>)
            }
            Database::Postgres(url) => postgres::Postgres::open_existing(url)?
                .map(|pg| Box::new(pg.reader()) as Box<dyn MetricsReader>),
        })
    }
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
    /// The id the reader's page gave the vote: a vote with the id of an earlier one by the
    /// same visitor on the same article completes that one (its answer replaced, its time
    /// kept) instead of adding another. Never read back or exported.
    pub id: Option<String>,
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

/// The name of one batch of events, the same at every attempt to commit it: a store that
/// cannot tell whether a failed commit went through (the connection dropped before the
/// answer came back) keeps the names of committed batches and stores each batch once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BatchId(pub u128);

impl BatchId {
    pub fn random() -> BatchId {
        BatchId(rand::random())
    }
}

/// Where events are written. The web layer never sees this trait, only [`Recorder`] (and
/// [`MetricsReader`] for what it reads).
pub trait EventStore: Send {
    /// Stores events atomically: all of them or none.
    fn append(&mut self, events: &[Event]) -> Result<(), MetricsError> {
        self.append_batch(BatchId::random(), events)
    }
    /// Stores the batch `id` atomically and once: when a batch of that name was committed
    /// before (an attempt whose answer was lost), nothing happens.
    fn append_batch(&mut self, id: BatchId, events: &[Event]) -> Result<(), MetricsError>;
    /// Deletes every event older than `cutoff`; returns how many.
    fn purge_before(&mut self, cutoff: Millis) -> Result<u64, MetricsError>;
}

/// How many events may wait for the writer, in its channel and again in its backlog while
/// the database is unreachable. Beyond it, analytics events are dropped (and counted) rather
/// than slowing requests down; votes wait for room in the channel instead.
const QUEUE: usize = 65_536;
/// Most events committed in one transaction.
const MAX_BATCH: usize = 4096;
/// How often old events are purged when a retention period is set.
const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// The first wait before retrying a batch the database could not take, doubled at each
/// failure up to [`RETRY_MAX`]: short, because votes are refused while the writer waits.
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(1);
/// How long a stopping writer keeps retrying what the database has not taken yet.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// What a waiting vote is told when it could not be committed.
type Ack = oneshot::Sender<Result<(), String>>;

enum Command {
    Record(Event),
    /// Record, then answer once committed.
    RecordDurably(Event, Ack),
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
    counts: Arc<WriterCounts>,
}

/// What the writer thread has done, counted as it goes (for `/metrics`).
#[derive(Default)]
struct WriterCounts {
    /// Events committed.
    stored: AtomicU64,
    /// Store operations (commits, retries, purges) that failed.
    errors: AtomicU64,
    /// Events in the writer's backlog, not committed yet.
    waiting: AtomicU64,
}

/// The events a [`Recorder`] has handled since it started (for `/metrics`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecorderCounts {
    /// Waiting for the writer or for the database now.
    pub queued: u64,
    /// Committed to the store.
    pub stored: u64,
    /// Dropped because the queue was full.
    pub dropped: u64,
    /// Lost to failed commits.
    pub failed: u64,
    /// Store operations (commits, retries, purges) that failed.
    pub errors: u64,
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
    pub fn start(store: Box<dyn EventStore>, retention: Option<Duration>) -> (Recorder, Writer) {
        let (tx, rx) = mpsc::channel::<Command>(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let counts = Arc::new(WriterCounts::default());
        let mut writer = WriterLoop {
            store,
            rx,
            retention,
            backlog: VecDeque::new(),
            waiting: 0,
            retry: None,
            dropped: dropped.clone(),
            failed: failed.clone(),
            counts: counts.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("kb-metrics".into())
            .spawn(move || writer.run())
            .expect("the metrics writer thread starts");
        let recorder = Recorder {
            tx: tx.clone(),
            dropped,
            failed,
            counts,
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
            count_dropped(&self.dropped);
        }
    }

    /// Records an event and returns once it is committed to the database.
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

    /// What happened to the events so far, and how many wait.
    pub fn counts(&self) -> RecorderCounts {
        let in_channel = (self.tx.max_capacity() - self.tx.capacity()) as u64;
        RecorderCounts {
            queued: in_channel + self.counts.waiting.load(Ordering::Relaxed),
            stored: self.counts.stored.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            errors: self.counts.errors.load(Ordering::Relaxed),
        }
    }
}

fn count_dropped(dropped: &AtomicU64) {
    let n = dropped.fetch_add(1, Ordering::Relaxed) + 1;
    if n.is_power_of_two() {
        tracing::warn!("metrics queue full: {n} events dropped so far");
    }
}

/// A batch formed by the writer and not committed yet: its name stays with it through every
/// attempt.
struct Batch {
    id: BatchId,
    events: Vec<Event>,
    /// Who waits for each event (votes), in step with `events`.
    acks: Vec<Option<Ack>>,
    flushes: Vec<oneshot::Sender<()>>,
    /// Whether it was sent to the store: then nothing may join it, or a retry of an attempt
    /// that was committed after all would skip what joined.
    tried: bool,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            id: BatchId::random(),
            events: Vec::new(),
            acks: Vec::new(),
            flushes: Vec::new(),
            tried: false,
        }
    }

    fn push(&mut self, event: Event, ack: Option<Ack>) {
        self.events.push(event);
        self.acks.push(ack);
    }

    /// Tells whoever waits that the batch is committed.
    fn done(self) {
        for ack in self.acks.into_iter().flatten() {
            let _ = ack.send(Ok(()));
        }
        for ack in self.flushes {
            let _ = ack.send(());
        }
    }

    /// Answers the waiting votes with `error` and keeps only the analytics events, to retry
    /// under the same name: the attempt may have been committed after all, votes included,
    /// and the name makes the retry a no-op then.
    fn refuse_votes(&mut self, error: &str) {
        let events = std::mem::take(&mut self.events);
        for (event, ack) in events.into_iter().zip(std::mem::take(&mut self.acks)) {
            match ack {
                Some(ack) => {
                    let _ = ack.send(Err(error.to_string()));
                }
                None => self.push(event, None),
            }
        }
    }
}

/// The writer thread's state.
struct WriterLoop {
    store: Box<dyn EventStore>,
    rx: mpsc::Receiver<Command>,
    retention: Option<Duration>,
    /// Batches formed and not committed yet, oldest first.
    backlog: VecDeque<Batch>,
    /// Events in the backlog.
    waiting: usize,
    /// While the database cannot be reached: when to try again, and the wait after that.
    retry: Option<(Instant, Duration)>,
    dropped: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
    counts: Arc<WriterCounts>,
}

impl WriterLoop {
    fn run(&mut self) {
        // Only to wait on the channel with a deadline while a retry is due.
        let waiter = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a timer for the metrics writer");
        let mut last_purge: Option<Instant> = None;
        let mut stopping: Option<Instant> = None;
        loop {
            let first = match (stopping, self.backlog.is_empty(), self.retry) {
                (Some(_), _, _) => None,
                (None, true, _) => match waiter.block_on(self.rx.recv()) {
                    Some(c) => Some(c),
                    None => {
                        stopping = Some(Instant::now());
                        None
                    }
                },
                (None, false, Some((at, _))) => {
                    let at = tokio::time::Instant::from_std(at);
                    // The timer is made inside the runtime, which it registers with.
                    let rx = &mut self.rx;
                    match waiter.block_on(async { tokio::time::timeout_at(at, rx.recv()).await }) {
                        Ok(Some(c)) => Some(c),
                        Ok(None) => {
                            stopping = Some(Instant::now());
                            None
                        }
                        Err(_) => None,
                    }
                }
                (None, false, None) => self.rx.try_recv().ok(),
            };
            if let Some(first) = first {
                if self.take(first) {
                    stopping = Some(Instant::now());
                }
                while let Ok(c) = self.rx.try_recv() {
                    if self.take(c) {
                        stopping = Some(Instant::now());
                    }
                    if self
                        .backlog
                        .back()
                        .is_some_and(|b| b.events.len() >= MAX_BATCH)
                    {
                        break;
                    }
                }
            }
            if self.retry.is_none_or(|(at, _)| Instant::now() >= at) {
                self.commit();
            }
            self.counts
                .waiting
                .store(self.waiting as u64, Ordering::Relaxed);
            if let Some(keep) = self.retention
                && self.retry.is_none()
                && last_purge.is_none_or(|t| t.elapsed() >= PURGE_EVERY)
            {
                last_purge = Some(Instant::now());
                let cutoff = now() - keep.as_millis() as Millis;
                match self.store.purge_before(cutoff) {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(
                        "retention: deleted {n} events older than the retention period"
                    ),
                    Err(e) => {
                        self.counts.errors.fetch_add(1, Ordering::Relaxed);
                        tracing::error!("retention: {e}");
                    }
                }
            }
            if let Some(since) = stopping {
                if self.backlog.is_empty() {
                    break;
                }
                if since.elapsed() >= STOP_GRACE {
                    let lost = self.waiting as u64;
                    self.failed.fetch_add(lost, Ordering::Relaxed);
                    tracing::error!(
                        "{lost} events lost: the metrics database could not take them before the server stopped"
                    );
                    break;
                }
                if let Some((at, _)) = self.retry {
                    std::thread::sleep(at.saturating_duration_since(Instant::now()));
                }
            }
        }
    }

    /// Files one command into the newest open batch; true when asked to stop.
    fn take(&mut self, command: Command) -> bool {
        if self
            .backlog
            .back()
            .is_none_or(|b| b.tried || b.events.len() >= MAX_BATCH)
        {
            self.backlog.push_back(Batch::new());
        }
        let full = self.waiting >= QUEUE;
        let Some(batch) = self.backlog.back_mut() else {
            return false;
        };
        match command {
            Command::Record(_) if full => count_dropped(&self.dropped),
            Command::Record(e) => {
                batch.push(e, None);
                self.waiting += 1;
            }
            // A vote is refused at once while the database cannot be reached: the reader is
            // told to try again rather than made to wait for it.
            Command::RecordDurably(_, ack) if self.retry.is_some() => {
                let _ = ack.send(Err("the metrics database cannot be reached".into()));
            }
            Command::RecordDurably(e, ack) => {
                batch.push(e, Some(ack));
                self.waiting += 1;
            }
            Command::Flush(ack) => batch.flushes.push(ack),
            Command::Stop => return true,
        }
        false
    }

    /// Commits the backlog, oldest batch first, until done or the database fails.
    fn commit(&mut self) {
        while let Some(mut batch) = self.backlog.pop_front() {
            batch.tried = true;
            let result = if batch.events.is_empty() {
                Ok(())
            } else {
                self.store.append_batch(batch.id, &batch.events)
            };
            match result {
                Ok(()) => {
                    if let Some((_, _)) = self.retry.take() {
                        tracing::info!(
                            "metrics database reachable again: {} events that waited are stored",
                            self.waiting
                        );
                    }
                    self.waiting -= batch.events.len();
                    self.counts
                        .stored
                        .fetch_add(batch.events.len() as u64, Ordering::Relaxed);
                    batch.done();
                }
                Err(e) if e.is_transient() => {
                    self.counts.errors.fetch_add(1, Ordering::Relaxed);
                    let wait = match self.retry {
                        None => {
                            tracing::error!(
                                "cannot record {} events: {e}; they wait in memory and are retried",
                                self.waiting
                            );
                            RETRY_FIRST
                        }
                        Some((_, wait)) => wait,
                    };
                    self.retry = Some((Instant::now() + wait, (wait * 2).min(RETRY_MAX)));
                    let before = batch.events.len();
                    batch.refuse_votes(&e.to_string());
                    self.waiting -= before - batch.events.len();
                    self.backlog.push_front(batch);
                    return;
                }
                // The database refused something in it: the transaction rolled back, so each
                // event is tried on its own, and only the ones refused again are lost.
                Err(e) if batch.events.len() > 1 => {
                    self.counts.errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        "a batch of {} events was refused ({e}); storing them one by one",
                        batch.events.len()
                    );
                    let mut singles: Vec<Batch> = batch
                        .events
                        .into_iter()
                        .zip(batch.acks)
                        .map(|(event, ack)| {
                            let mut one = Batch::new();
                            one.push(event, ack);
                            one
                        })
                        .collect();
                    if let Some(last) = singles.last_mut() {
                        last.flushes = batch.flushes;
                    }
                    for one in singles.into_iter().rev() {
                        self.backlog.push_front(one);
                    }
                }
                Err(e) => {
                    self.failed.fetch_add(1, Ordering::Relaxed);
                    self.counts.errors.fetch_add(1, Ordering::Relaxed);
                    self.waiting -= batch.events.len();
                    tracing::error!("cannot record an event: {e}");
                    let error = e.to_string();
                    for ack in batch.acks.into_iter().flatten() {
                        let _ = ack.send(Err(error.clone()));
                    }
                    for ack in batch.flushes {
                        let _ = ack.send(());
                    }
                }
            }
        }
    }
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
