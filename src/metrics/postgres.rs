//! The PostgreSQL event store, for several replicas on one database: its SQL lives here and
//! in [`read`] (the answers to [`super::MetricsReader`]'s questions), nowhere else.
//!
//! The driver is tokio-postgres with a deadpool pool, on a small runtime of this module's own
//! (one thread), so the synchronous traits work from any thread: the writer thread, a
//! server's blocking threads, a command. What it keeps:
//!
//! - **Schema**: the same tables as SQLite, versioned in `kb_schema` and migrated forward in
//!   one transaction under an advisory lock, so replicas starting together migrate once.
//! - **Writes**: one transaction per batch, one multi-row insert (`unnest`) per table. The
//!   batch's name goes into `kb_batches` first; a retry of a batch that was committed after
//!   all (the connection dropped before the answer) finds it there and stores nothing.
//!   Current votes are upserted in (visitor, article) order, so concurrent replicas lock rows
//!   in one order and never deadlock.
//! - **Settings** shared by the replicas (`kb_settings`): the key that signs visitor ids.
//! - **Outages**: a connection that fails or hangs is dropped, never reused; after a failure
//!   to connect, reads fail at once for a few seconds instead of each waiting for the
//!   connect timeout, so the agent panel stays fast while the database is away.
//!
//! PostgreSQL text cannot hold the NUL character, which SQLite and kb's inputs can: it is
//! stored as U+FFFD.

pub mod cluster;
mod read;

use std::collections::HashMap;
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use deadpool_postgres::GenericClient;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;
use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

pub use read::PgReader;

use super::{
    BatchId, Event, EventStore, MetricsError, MetricsReader, Millis, Reason, Source, Totals, now,
};

/// Schema migrations, in order; `kb_schema.version` counts those applied. Never edit one
/// that has shipped: add another.
const MIGRATIONS: &[&str] = &[
    // 1: the schema of SQLite's third version, plus what replicas share: the names of
    // committed batches and settings.
    "
    CREATE TABLE searches (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        search_id TEXT NOT NULL UNIQUE,
        at BIGINT NOT NULL,
        visitor TEXT,
        query TEXT NOT NULL,
        normalized TEXT NOT NULL,
        lang TEXT,
        total BIGINT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('customer', 'agent')),
        results TEXT NOT NULL,
        partial BOOLEAN NOT NULL DEFAULT false,
        ui TEXT
    );
    CREATE INDEX searches_at ON searches (at);
    CREATE INDEX searches_visitor ON searches (visitor, at);

    CREATE TABLE clicks (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at BIGINT NOT NULL,
        visitor TEXT,
        search_id TEXT NOT NULL,
        path TEXT NOT NULL,
        position BIGINT NOT NULL
    );
    CREATE INDEX clicks_at ON clicks (at);

    CREATE TABLE views (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at BIGINT NOT NULL,
        visitor TEXT,
        path TEXT NOT NULL,
        search_id TEXT
    );
    CREATE INDEX views_at ON views (at);
    CREATE INDEX views_visitor ON views (visitor, at);

    -- Every vote ever cast.
    CREATE TABLE votes (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at BIGINT NOT NULL,
        visitor TEXT,
        path TEXT NOT NULL,
        helpful BOOLEAN NOT NULL,
        reason TEXT CHECK (reason IN ('outdated', 'unclear', 'incomplete', 'other')),
        comment TEXT
    );
    CREATE INDEX votes_at ON votes (at);

    -- The vote that counts: the latest of each visitor on each article. Votes without a
    -- visitor each count on their own (NULLs are distinct in a unique constraint).
    CREATE TABLE current_votes (
        visitor TEXT,
        path TEXT NOT NULL,
        vote_id BIGINT NOT NULL REFERENCES votes (id) ON DELETE CASCADE,
        at BIGINT NOT NULL,
        helpful BOOLEAN NOT NULL,
        reason TEXT,
        comment TEXT,
        UNIQUE (visitor, path)
    );
    CREATE INDEX current_votes_path ON current_votes (path);
    CREATE INDEX current_votes_vote ON current_votes (vote_id);

    CREATE TABLE actions (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at BIGINT NOT NULL,
        visitor TEXT,
        kind TEXT NOT NULL CHECK (kind IN ('contact_clicked', 'link_inserted')),
        path TEXT,
        query TEXT,
        search_id TEXT,
        source TEXT CHECK (source IN ('customer', 'agent'))
    );
    CREATE INDEX actions_at ON actions (at);
    CREATE INDEX actions_visitor ON actions (visitor, at);

    CREATE TABLE flags (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at BIGINT NOT NULL,
        visitor TEXT,
        path TEXT NOT NULL,
        reason TEXT NOT NULL CHECK (reason IN ('wrong', 'outdated', 'other')),
        note TEXT
    );
    CREATE INDEX flags_at ON flags (at);

    -- The names of committed batches, so that a retried batch is stored once; kept a day.
    CREATE TABLE kb_batches (
        id BYTEA PRIMARY KEY,
        at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX kb_batches_at ON kb_batches (at);

    -- Values every replica must agree on (the key that signs visitor ids).
    CREATE TABLE kb_settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    ",
    // 2: the id a reader's page gives a vote (SQLite's fourth version), so that the reason
    // and comment sent after "No" complete that vote instead of adding one.
    "
    ALTER TABLE votes ADD COLUMN public_id TEXT;
    CREATE INDEX votes_public_id ON votes (public_id) WHERE public_id IS NOT NULL;
    ",
    // 3: searches and actions from AI agents (`source = 'ai'`, through the MCP server), and
    // their reads of articles (`article_fetched`), as SQLite's fifth version.
    "
    ALTER TABLE searches DROP CONSTRAINT searches_source_check,
        ADD CONSTRAINT searches_source_check CHECK (source IN ('customer', 'agent', 'ai'));
    ALTER TABLE actions DROP CONSTRAINT actions_kind_check,
        ADD CONSTRAINT actions_kind_check
            CHECK (kind IN ('contact_clicked', 'link_inserted', 'article_fetched')),
        DROP CONSTRAINT actions_source_check,
        ADD CONSTRAINT actions_source_check CHECK (source IN ('customer', 'agent', 'ai'));
    ",
];

/// The schema version this kb writes.
pub fn schema_version() -> i32 {
    MIGRATIONS.len() as i32
}

/// The advisory lock taken while migrating and copying ("kb" in ASCII, then "schema").
const LOCK: i64 = 0x6b62_0000_5343_4845;
/// Most connections one kb process opens.
const POOL_SIZE: usize = 10;
/// How long to wait for a connection (to be made, or to be free).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A write that takes longer is abandoned (its connection closed, so the server rolls it
/// back) and retried.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// After a failure to connect, reads fail at once for this long.
const DOWN_FOR: Millis = 3_000;
/// How long the names of committed batches are kept (a retry comes within seconds).
const KEEP_BATCH_NAMES: &str = "1 day";
/// How often a store deletes the expired names.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// A pool of connections to one database, and the runtime that drives them. Cheap to clone.
#[derive(Clone)]
pub struct Postgres {
    inner: Arc<Inner>,
}

struct Inner {
    runtime: Option<tokio::runtime::Runtime>,
    pool: Pool,
    /// The URL without its password, for messages.
    label: String,
    /// Until when (in [`Millis`]) reads fail at once: the last connection attempt failed.
    down_until: AtomicI64,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Possibly inside another runtime (a server's state dropped at the end of `serve`),
        // where waiting for this one's thread is not allowed.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Postgres {
    /// Connects to the database at `url` and creates or migrates its schema.
    pub fn connect(url: &str) -> Result<Postgres, MetricsError> {
        let pg = Postgres::pool(url)?;
        pg.migrate()?;
        Ok(pg)
    }

    /// Connects to a database kb has recorded into; `None` when it has no kb schema yet. An
    /// older schema is migrated first, so that this kb can read it.
    pub fn open_existing(url: &str) -> Result<Option<Postgres>, MetricsError> {
        let pg = Postgres::pool(url)?;
        let exists = pg.run(async |c| {
            let row = c
                .query_one("SELECT to_regclass('kb_schema') IS NOT NULL", &[])
                .await?;
            Ok(row.get::<_, bool>(0))
        })?;
        if !exists {
            return Ok(None);
        }
        pg.migrate()?;
        Ok(Some(pg))
    }

    fn pool(url: &str) -> Result<Postgres, MetricsError> {
        let label = redact(url);
        let mut config = tokio_postgres::Config::from_str(url).map_err(|e| {
            MetricsError::Other(format!(
                "--database {label} is not a PostgreSQL URL ({e}); write postgres://USER:PASSWORD@HOST:PORT/DATABASE"
            ))
        })?;
        if config.get_ssl_mode() == SslMode::Require {
            return Err(MetricsError::Other(format!(
                "--database {label} asks for TLS (sslmode=require), which kb does not speak to PostgreSQL: \
                 reach the database over a private network or a local TLS tunnel, and leave sslmode out"
            )));
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("kb");
        }
        // A transaction left open by a connection that vanished must not hold its locks
        // (a batch's name, current votes) for long.
        let options = config.get_options().unwrap_or("").to_string();
        config.options(format!(
            "{options} -c idle_in_transaction_session_timeout=60000"
        ));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("kb-postgres")
            .enable_all()
            .build()
            .map_err(|e| MetricsError::Other(format!("cannot start the PostgreSQL client: {e}")))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| MetricsError::Other(format!("cannot make a connection pool: {e}")))?;
        Ok(Postgres {
            inner: Arc::new(Inner {
                runtime: Some(runtime),
                pool,
                label,
                down_until: AtomicI64::new(0),
            }),
        })
    }

    /// The URL without its password.
    pub fn label(&self) -> &str {
        &self.inner.label
    }

    /// Runs `f` to completion on this pool's runtime, from a thread that is not driving
    /// another runtime's tasks (a plain thread, or one of `spawn_blocking`).
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.inner
            .runtime
            .as_ref()
            .expect("the runtime lives as long as the pool")
            .handle()
            .block_on(f)
    }

    /// A connection from the pool.
    async fn client(&self) -> Result<Object, MetricsError> {
        match self.inner.pool.get().await {
            Ok(c) => {
                self.inner.down_until.store(0, Ordering::Relaxed);
                Ok(c)
            }
            Err(e) => {
                self.inner
                    .down_until
                    .store(now() + DOWN_FOR, Ordering::Relaxed);
                Err(MetricsError::Unavailable(format!(
                    "{} cannot be reached: {}",
                    self.inner.label,
                    pool_error(&e)
                )))
            }
        }
    }

    /// Runs `f` on a connection, failing at once while the database is known to be away.
    /// A connection on which `f` failed for a reason that may be the connection's is
    /// closed rather than handed to the next caller.
    fn run<T>(
        &self,
        f: impl AsyncFnOnce(&mut Object) -> Result<T, MetricsError>,
    ) -> Result<T, MetricsError> {
        if now() < self.inner.down_until.load(Ordering::Relaxed) {
            return Err(MetricsError::Unavailable(format!(
                "{} cannot be reached (retrying shortly)",
                self.inner.label
            )));
        }
        self.block_on(async {
            let mut client = self.client().await?;
            let result = f(&mut client).await;
            if result.as_ref().is_err_and(MetricsError::is_transient) {
                drop(Object::take(client));
            }
            result
        })
    }

    fn migrate(&self) -> Result<(), MetricsError> {
        let label = self.inner.label.clone();
        self.run(async |c| {
            let tx = c.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
                .await?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS kb_schema (
                     one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
                     version INTEGER NOT NULL
                 )",
            )
            .await?;
            let found: i32 = tx
                .query_opt("SELECT version FROM kb_schema", &[])
                .await?
                .map_or(0, |r| r.get(0));
            if found > schema_version() {
                return Err(MetricsError::TooNew {
                    path: label,
                    found: found.into(),
                    known: schema_version().into(),
                });
            }
            for sql in MIGRATIONS.iter().skip(found as usize) {
                tx.batch_execute(sql).await?;
            }
            if found < schema_version() {
                tx.execute(
                    "INSERT INTO kb_schema (version) VALUES ($1)
                     ON CONFLICT (one) DO UPDATE SET version = excluded.version",
                    &[&schema_version()],
                )
                .await?;
                tracing::info!("metrics database migrated to schema {}", schema_version());
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// The store that records into this database.
    pub fn store(&self) -> PgStore {
        PgStore {
            pg: self.clone(),
            pruned: None,
        }
    }

    /// The reader of this database.
    pub fn reader(&self) -> PgReader {
        PgReader::new(self.clone())
    }

    /// A value every replica agrees on: the one stored under `name`, else `proposed`, stored
    /// now (the first replica to propose one wins).
    pub fn shared_setting(&self, name: &str, proposed: &str) -> Result<String, MetricsError> {
        self.run(async |c| {
            c.execute(
                "INSERT INTO kb_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                &[&name, &proposed],
            )
            .await?;
            let row = c
                .query_one("SELECT value FROM kb_settings WHERE name = $1", &[&name])
                .await?;
            Ok(row.get(0))
        })
    }

    /// Copies every event `source` holds into this database, in one transaction, and
    /// returns how many of each it holds then. Refuses a database that already holds
    /// events, so a copy is never made twice, and commits nothing unless the copy holds as
    /// many of each as the source (it does not if the source changed meanwhile).
    pub fn copy_from(&self, source: &dyn MetricsReader) -> Result<Totals, MetricsError> {
        /// Events sent in one statement per table.
        const CHUNK: usize = 5000;
        let label = self.inner.label.clone();
        let mut client = self.block_on(self.client())?;
        let tx = self.block_on(client.transaction())?;
        self.block_on(tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK]))?;
        let held = self.block_on(read::totals(&*tx))?;
        if held.events() > 0 {
            return Err(MetricsError::Other(format!(
                "{label} already holds {} events: kb copies only into a database without any \
                 (create a new database, or drop kb's tables from this one)",
                held.events()
            )));
        }
        let mut chunk = Vec::with_capacity(CHUNK);
        source.events_since(Millis::MIN, &mut |event| {
            chunk.push(event);
            if chunk.len() == CHUNK {
                self.block_on(write(&tx, BatchId::random(), &chunk))?;
                chunk.clear();
            }
            Ok(())
        })?;
        self.block_on(write(&tx, BatchId::random(), &chunk))?;
        let copied = self.block_on(read::totals(&*tx))?;
        let expected = source.totals()?;
        if copied != expected {
            return Err(MetricsError::Other(format!(
                "the copy does not match its source, which holds {expected:?} (the copy {copied:?}): \
                 nothing was committed; stop the servers that record into the source and copy again"
            )));
        }
        self.block_on(tx.commit())?;
        Ok(copied)
    }
}

/// Records into a PostgreSQL database ([`Postgres::store`]).
pub struct PgStore {
    pg: Postgres,
    /// When this store last deleted expired batch names.
    pruned: Option<Instant>,
}

impl EventStore for PgStore {
    fn append_batch(&mut self, id: BatchId, events: &[Event]) -> Result<(), MetricsError> {
        let prune = self.pruned.is_none_or(|t| t.elapsed() >= PRUNE_EVERY);
        self.pg.run(async |c| {
            // When the name is taken, the batch was committed by an earlier attempt whose
            // answer was lost, and this one stored nothing.
            let write = async {
                match write(&*c, id, events).await {
                    Err(MetricsError::Postgres(e)) if is_batch_name_taken(&e) => Ok(()),
                    other => other,
                }
            };
            match tokio::time::timeout(WRITE_TIMEOUT, write).await {
                Ok(r) => r,
                Err(_) => Err(MetricsError::Unavailable(format!(
                    "did not commit within {} s",
                    WRITE_TIMEOUT.as_secs()
                ))),
            }
        })?;
        if prune {
            self.pruned = Some(Instant::now());
            let sql =
                format!("DELETE FROM kb_batches WHERE at < now() - interval '{KEEP_BATCH_NAMES}'");
            if let Err(e) = self.pg.run(async |c| Ok(c.execute(&sql, &[]).await?)) {
                tracing::warn!("cannot delete the expired names of committed batches: {e}");
            }
        }
        Ok(())
    }

    fn purge_before(&mut self, cutoff: Millis) -> Result<u64, MetricsError> {
        self.pg.run(async |c| {
            let tx = c.transaction().await?;
            let mut n = 0u64;
            // current_votes rows go with their votes (ON DELETE CASCADE).
            for table in ["searches", "clicks", "views", "votes", "actions", "flags"] {
                n += tx
                    .execute(&format!("DELETE FROM {table} WHERE at < $1"), &[&cutoff])
                    .await?;
            }
            tx.commit().await?;
            Ok(n)
        })
    }
}

/// Text as PostgreSQL can hold it: without NUL characters.
fn text(s: &str) -> String {
    s.replace('\0', "\u{fffd}")
}

fn opt_text(s: &Option<String>) -> Option<String> {
    s.as_deref().map(text)
}

/// Stores `events` under the batch name `name` ([`WRITE`]): committed at once on a
/// connection, or part of the transaction `client` is in.
async fn write(
    client: &impl GenericClient,
    name: BatchId,
    events: &[Event],
) -> Result<(), MetricsError> {
    let name = name.0.to_be_bytes();
    #[derive(Default)]
    struct Searches {
        id: Vec<String>,
        at: Vec<i64>,
        visitor: Vec<Option<String>>,
        query: Vec<String>,
        normalized: Vec<String>,
        lang: Vec<Option<String>>,
        total: Vec<i64>,
        source: Vec<&'static str>,
        results: Vec<String>,
        partial: Vec<bool>,
        ui: Vec<Option<String>>,
    }
    #[derive(Default)]
    struct Clicks {
        at: Vec<i64>,
        visitor: Vec<Option<String>>,
        search_id: Vec<String>,
        path: Vec<String>,
        position: Vec<i64>,
    }
    #[derive(Default)]
    struct Views {
        at: Vec<i64>,
        visitor: Vec<Option<String>>,
        path: Vec<String>,
        search_id: Vec<Option<String>>,
    }
    #[derive(Default)]
    struct Votes {
        at: Vec<i64>,
        visitor: Vec<Option<String>>,
        path: Vec<String>,
        helpful: Vec<bool>,
        reason: Vec<Option<&'static str>>,
        comment: Vec<Option<String>>,
        public_id: Vec<Option<String>>,
        /// Where each (id, article, visitor) of the batch is: a later vote with them
        /// completes that one here (the statement cannot see rows it inserts itself).
        by_id: HashMap<(String, String, Option<String>), usize>,
    }
    #[derive(Default)]
    struct Actions {
        at: Vec<i64>,
        visitor: Vec<Option<String>>,
        kind: Vec<&'static str>,
        path: Vec<Option<String>>,
        query: Vec<Option<String>>,
        search_id: Vec<Option<String>>,
        source: Vec<Option<&'static str>>,
    }
    #[derive(Default)]
    struct Flags {
        at: Vec<i64>,
        visitor: Vec<Option<String>>,
        path: Vec<String>,
        reason: Vec<&'static str>,
        note: Vec<Option<String>>,
    }
    let (mut s, mut c, mut v, mut vo, mut a, mut f) = (
        Searches::default(),
        Clicks::default(),
        Views::default(),
        Votes::default(),
        Actions::default(),
        Flags::default(),
    );
    for event in events {
        match event {
            Event::Search(e) => {
                s.id.push(text(&e.id));
                s.at.push(e.at);
                s.visitor.push(opt_text(&e.visitor));
                s.query.push(text(&e.query));
                s.normalized.push(text(&e.normalized));
                s.lang.push(opt_text(&e.lang));
                s.total.push(e.total.min(i64::MAX as u64) as i64);
                s.source.push(e.source.as_str());
                s.results.push(text(
                    &serde_json::to_string(&e.results).unwrap_or_else(|_| "[]".into()),
                ));
                s.partial.push(e.partial);
                s.ui.push(opt_text(&e.ui));
            }
            Event::Click(e) => {
                c.at.push(e.at);
                c.visitor.push(opt_text(&e.visitor));
                c.search_id.push(text(&e.search_id));
                c.path.push(text(&e.path));
                c.position.push(e.position.into());
            }
            Event::View(e) => {
                v.at.push(e.at);
                v.visitor.push(opt_text(&e.visitor));
                v.path.push(text(&e.path));
                v.search_id.push(opt_text(&e.search_id));
            }
            Event::Vote(e) => {
                if let Some(id) = &e.id {
                    let key = (text(id), text(&e.path), opt_text(&e.visitor));
                    if let Some(&i) = vo.by_id.get(&key) {
                        vo.helpful[i] = e.helpful;
                        vo.reason[i] = e.reason.map(Reason::as_str);
                        vo.comment[i] = opt_text(&e.comment);
                        continue;
                    }
                    vo.by_id.insert(key, vo.at.len());
                }
                vo.public_id.push(opt_text(&e.id));
                vo.at.push(e.at);
                vo.visitor.push(opt_text(&e.visitor));
                vo.path.push(text(&e.path));
                vo.helpful.push(e.helpful);
                vo.reason.push(e.reason.map(Reason::as_str));
                vo.comment.push(opt_text(&e.comment));
            }
            Event::Action(e) => {
                a.at.push(e.at);
                a.visitor.push(opt_text(&e.visitor));
                a.kind.push(e.kind.as_str());
                a.path.push(opt_text(&e.path));
                a.query.push(opt_text(&e.query));
                a.search_id.push(opt_text(&e.search_id));
                a.source.push(e.source.map(Source::as_str));
            }
            Event::Flag(e) => {
                f.at.push(e.at);
                f.visitor.push(opt_text(&e.visitor));
                f.path.push(text(&e.path));
                f.reason.push(e.reason.as_str());
                f.note.push(opt_text(&e.note));
            }
        }
    }
    let params: [&(dyn ToSql + Sync); 40] = [
        &name.as_slice(),
        &s.id,
        &s.at,
        &s.visitor,
        &s.query,
        &s.normalized,
        &s.lang,
        &s.total,
        &s.source,
        &s.results,
        &s.partial,
        &s.ui,
        &c.at,
        &c.visitor,
        &c.search_id,
        &c.path,
        &c.position,
        &v.at,
        &v.visitor,
        &v.path,
        &v.search_id,
        &vo.at,
        &vo.visitor,
        &vo.path,
        &vo.helpful,
        &vo.reason,
        &vo.comment,
        &a.at,
        &a.visitor,
        &a.kind,
        &a.path,
        &a.query,
        &a.search_id,
        &a.source,
        &f.at,
        &f.visitor,
        &f.path,
        &f.reason,
        &f.note,
        &vo.public_id,
    ];
    let statement = client.prepare_cached(WRITE).await?;
    client.execute(&statement, &params).await?;
    Ok(())
}

/// A whole batch as one statement, one transaction on its own: its name, then one multi-row
/// insert per table (a table without rows in the batch gets empty arrays). One round trip,
/// prepared once per connection.
///
/// Current votes: per visitor and article the batch's latest (ties to the later one, as in
/// SQLite), each vote without a visitor on its own, in (visitor, article) order so that
/// concurrent replicas lock rows in one order; an older vote arriving late does not replace a
/// newer one.
///
/// A vote with the id (`public_id`) of an earlier vote by the same visitor on the same
/// article completes it (its answer replaced, its time kept; the current vote too unless the
/// batch replaces it) and is not inserted.
const WRITE: &str = "
    WITH batch AS (
        INSERT INTO kb_batches (id) VALUES ($1)
    ), s AS (
        INSERT INTO searches
            (search_id, at, visitor, query, normalized, lang, total, source, results, partial, ui)
        SELECT * FROM unnest($2::text[], $3::int8[], $4::text[], $5::text[], $6::text[],
                             $7::text[], $8::int8[], $9::text[], $10::text[], $11::bool[],
                             $12::text[])
        ON CONFLICT (search_id) DO NOTHING
    ), c AS (
        INSERT INTO clicks (at, visitor, search_id, path, position)
        SELECT * FROM unnest($13::int8[], $14::text[], $15::text[], $16::text[], $17::int8[])
    ), v AS (
        INSERT INTO views (at, visitor, path, search_id)
        SELECT * FROM unnest($18::int8[], $19::text[], $20::text[], $21::text[])
    ), cast_votes AS (
        SELECT * FROM unnest($22::int8[], $23::text[], $24::text[], $25::bool[],
                             $26::text[], $27::text[], $40::text[])
            AS u (at, visitor, path, helpful, reason, comment, public_id)
    ), completed AS (
        UPDATE votes o SET helpful = u.helpful, reason = u.reason, comment = u.comment
          FROM cast_votes u
         WHERE u.public_id IS NOT NULL AND o.public_id = u.public_id AND o.path = u.path
           AND o.visitor IS NOT DISTINCT FROM u.visitor
        RETURNING o.id, o.visitor, o.path, o.public_id, o.helpful, o.reason, o.comment
    ), new_votes AS (
        INSERT INTO votes (at, visitor, path, helpful, reason, comment, public_id)
        SELECT u.at, u.visitor, u.path, u.helpful, u.reason, u.comment, u.public_id
          FROM cast_votes u
         WHERE NOT EXISTS (
             SELECT 1 FROM completed d
              WHERE d.public_id = u.public_id AND d.path = u.path
                AND d.visitor IS NOT DISTINCT FROM u.visitor)
        RETURNING id, at, visitor, path, helpful, reason, comment
    ), latest AS (
        SELECT DISTINCT ON (visitor, path) * FROM new_votes WHERE visitor IS NOT NULL
         ORDER BY visitor, path, at DESC, id DESC
    ), completed_current AS (
        UPDATE current_votes cv SET helpful = d.helpful, reason = d.reason, comment = d.comment
          FROM completed d
         WHERE cv.vote_id = d.id
           AND NOT EXISTS (SELECT 1 FROM latest l WHERE l.visitor = cv.visitor AND l.path = cv.path)
    ), current AS (
        INSERT INTO current_votes (visitor, path, vote_id, at, helpful, reason, comment)
        SELECT visitor, path, id, at, helpful, reason, comment FROM latest
        UNION ALL
        SELECT visitor, path, id, at, helpful, reason, comment FROM new_votes
         WHERE visitor IS NULL
        ORDER BY 1, 2
        ON CONFLICT (visitor, path) DO UPDATE SET
          vote_id = excluded.vote_id, at = excluded.at, helpful = excluded.helpful,
          reason = excluded.reason, comment = excluded.comment
        WHERE excluded.at >= current_votes.at
    ), a AS (
        INSERT INTO actions (at, visitor, kind, path, query, search_id, source)
        SELECT * FROM unnest($28::int8[], $29::text[], $30::text[], $31::text[], $32::text[],
                             $33::text[], $34::text[])
    ), f AS (
        INSERT INTO flags (at, visitor, path, reason, note)
        SELECT * FROM unnest($35::int8[], $36::text[], $37::text[], $38::text[], $39::text[])
    )
    SELECT 1";

fn is_batch_name_taken(e: &tokio_postgres::Error) -> bool {
    e.as_db_error().is_some_and(|db| {
        db.code() == &SqlState::UNIQUE_VIOLATION && db.constraint() == Some("kb_batches_pkey")
    })
}

/// Whether trying again later may work: the connection failed or was cut, the server is
/// starting or stopping, out of resources, or two transactions collided.
pub(super) fn is_transient(e: &tokio_postgres::Error) -> bool {
    match e.code() {
        Some(code) => {
            let code = code.code();
            ["08", "53", "57P", "58"]
                .iter()
                .any(|class| code.starts_with(class))
                || matches!(code, "40001" | "40P01" | "55P03" | "57014")
        }
        None => {
            e.is_closed()
                || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
                || e.to_string().contains("timeout")
        }
    }
}

/// The server's own message when it sent one (tokio-postgres says only "db error").
pub(super) fn describe_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut text = format!("{} ({})", db.message(), db.code().code());
            if let Some(detail) = db.detail() {
                text.push_str(": ");
                text.push_str(detail);
            }
            text
        }
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

fn pool_error(e: &deadpool_postgres::PoolError) -> String {
    match e {
        deadpool_postgres::PoolError::Backend(e) => describe_error(e),
        deadpool_postgres::PoolError::Timeout(_) => {
            format!("no connection within {} s", CONNECT_TIMEOUT.as_secs())
        }
        other => other.to_string(),
    }
}

/// A database URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme) = out.find("://") {
        let rest = scheme + 3;
        let end = out[rest..].find(['/', '?']).map_or(out.len(), |i| rest + i);
        if let Some(at) = out[rest..end].rfind('@')
            && let Some(colon) = out[rest..rest + at].find(':')
        {
            out.replace_range(rest + colon + 1..rest + at, "***");
        }
    }
    for key in ["password="] {
        let mut from = 0;
        while let Some(i) = out[from..].find(key) {
            let start = from + i + key.len();
            let end = out[start..]
                .find(['&', ' '])
                .map_or(out.len(), |j| start + j);
            out.replace_range(start..end, "***");
            from = start + 3;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redact("postgres://kb:s3cret@db.internal:5432/kb"),
            "postgres://kb:***@db.internal:5432/kb"
        );
        assert_eq!(
            redact("postgres://kb@db/kb?password=s3cret&sslmode=disable"),
            "postgres://kb@db/kb?password=***&sslmode=disable"
        );
        assert_eq!(
            redact("host=db user=kb password=s3cret dbname=kb"),
            "host=db user=kb password=*** dbname=kb"
        );
        assert_eq!(redact("postgres://db/kb"), "postgres://db/kb");
    }

    #[test]
    fn tls_and_nonsense_are_refused_with_advice() {
        let e = Postgres::connect("postgres://kb@db/kb?sslmode=require")
            .err()
            .unwrap();
        assert!(e.to_string().contains("sslmode"), "{e}");
        let e = Postgres::connect("postgres://kb@db/kb?colour=blue")
            .err()
            .unwrap();
        assert!(e.to_string().contains("postgres://USER"), "{e}");
    }

    fn execute(pg: &Postgres, sql: &str) {
        pg.run(async |c| Ok(c.batch_execute(sql).await?)).unwrap();
    }

    #[test]
    fn replicas_starting_together_migrate_once() {
        let db = cluster::Cluster::shared().database();
        let started: Vec<_> = (0..4)
            .map(|_| {
                let url = db.url.clone();
                std::thread::spawn(move || Postgres::connect(&url).map(|_| ()))
            })
            .collect();
        for s in started {
            s.join().unwrap().unwrap();
        }
        let pg = Postgres::open_existing(&db.url).unwrap().unwrap();
        let version: i32 = pg
            .run(async |c| {
                Ok(c.query_one("SELECT version FROM kb_schema", &[])
                    .await?
                    .get(0))
            })
            .unwrap();
        assert_eq!(version, schema_version());
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let db = cluster::Cluster::shared().database();
        let pg = Postgres::connect(&db.url).unwrap();
        execute(&pg, "UPDATE kb_schema SET version = 99");
        for e in [
            Postgres::connect(&db.url).err().unwrap(),
            Postgres::open_existing(&db.url).err().unwrap(),
        ] {
            assert!(e.to_string().contains("newer kb"), "{e}");
        }
    }

    #[test]
    fn the_first_proposed_setting_is_everyones() {
        let db = cluster::Cluster::shared().database();
        let a = Postgres::connect(&db.url).unwrap();
        let b = Postgres::connect(&db.url).unwrap();
        assert_eq!(a.shared_setting("key", "first").unwrap(), "first");
        assert_eq!(b.shared_setting("key", "second").unwrap(), "first");
        assert_eq!(b.shared_setting("other", "second").unwrap(), "second");
    }

    #[test]
    fn a_copy_goes_into_an_empty_database_only() {
        use crate::metrics::{View, Vote};
        let source = crate::metrics::store_tests::Backend::sqlite();
        let vote = |at, visitor: Option<&str>, helpful| {
            Event::Vote(Vote {
                at,
                visitor: visitor.map(str::to_string),
                path: "a.md".into(),
                helpful,
                reason: None,
                comment: None,
                id: None,
            })
        };
        let (_source, reader) = source.holding(&[
            vote(1, Some("v"), true),
            vote(2, Some("v"), false),
            vote(3, None, true),
            vote(4, None, true),
            Event::View(View {
                at: 5,
                visitor: None,
                path: "a.md".into(),
                search_id: None,
            }),
        ]);
        let db = cluster::Cluster::shared().database();
        let pg = Postgres::connect(&db.url).unwrap();
        let copied = pg.copy_from(&*reader).unwrap();
        assert_eq!(copied, reader.totals().unwrap());
        assert_eq!(
            (copied.votes, copied.current_votes, copied.views),
            (4, 3, 1)
        );
        let again = pg.copy_from(&*reader).err().unwrap();
        assert!(
            again.to_string().contains("already holds 5 events"),
            "{again}"
        );
        assert_eq!(pg.reader().totals().unwrap(), copied);
    }

    #[test]
    fn an_unreachable_database_is_transient_and_fails_fast() {
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("postgres://kb@127.0.0.1:{port}/kb");
        let e = Postgres::connect(&url).err().unwrap();
        assert!(e.is_transient(), "{e}");
        assert!(e.to_string().contains("cannot be reached"), "{e}");
        let pg = Postgres::pool(&url).unwrap();
        let mut store = pg.store();
        assert!(store.append(&[]).unwrap_err().is_transient());
        // Reads fail at once for a while rather than each waiting to connect.
        let started = Instant::now();
        let e = pg.reader().totals().unwrap_err();
        assert!(e.to_string().contains("retrying shortly"), "{e}");
        assert!(started.elapsed() < Duration::from_millis(100));
    }
}
