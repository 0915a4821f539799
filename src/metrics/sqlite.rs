//! The SQLite event store: one file, `kb.sqlite3`, in the data folder. Its SQL lives here
//! and in [`read`] (the answers to [`super::MetricsReader`]'s questions), nowhere else.
//!
//! WAL mode lets `kb export` and the report read while the server writes. `synchronous =
//! FULL` makes every commit durable against power loss, not only against a crash of kb; group
//! commit keeps that affordable. The schema is versioned with `PRAGMA user_version` and
//! migrated forward at start, one transaction per step.

mod read;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

pub use read::SqliteReader;

use super::{BatchId, Event, EventStore, MetricsError, Millis, Reason, Source};

/// File name of the database in the data folder.
pub const FILE_NAME: &str = "kb.sqlite3";

/// Schema migrations, in order; `user_version` counts those applied. Never edit one that has
/// shipped: add another.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    "
    CREATE TABLE searches (
        id INTEGER PRIMARY KEY,
        search_id TEXT NOT NULL UNIQUE,
        at INTEGER NOT NULL,
        visitor TEXT,
        query TEXT NOT NULL,
        normalized TEXT NOT NULL,
        lang TEXT,
        total INTEGER NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('customer', 'agent')),
        results TEXT NOT NULL,
        partial INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX searches_at ON searches (at);
    CREATE INDEX searches_normalized ON searches (normalized);

    CREATE TABLE clicks (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        visitor TEXT,
        search_id TEXT NOT NULL,
        path TEXT NOT NULL,
        position INTEGER NOT NULL
    );
    CREATE INDEX clicks_at ON clicks (at);
    CREATE INDEX clicks_search ON clicks (search_id);

    CREATE TABLE views (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        visitor TEXT,
        path TEXT NOT NULL,
        search_id TEXT
    );
    CREATE INDEX views_at ON views (at);
    CREATE INDEX views_path ON views (path);

    -- Every vote ever cast.
    CREATE TABLE votes (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        visitor TEXT,
        path TEXT NOT NULL,
        helpful INTEGER NOT NULL CHECK (helpful IN (0, 1)),
        reason TEXT CHECK (reason IN ('outdated', 'unclear', 'incomplete', 'other')),
        comment TEXT
    );
    CREATE INDEX votes_at ON votes (at);

    -- The vote that counts: the latest of each visitor on each article. Votes of readers not
    -- tracked per visitor have no visitor, and each counts on its own (NULLs are distinct).
    CREATE TABLE current_votes (
        visitor TEXT,
        path TEXT NOT NULL,
        vote_id INTEGER NOT NULL REFERENCES votes (id) ON DELETE CASCADE,
        at INTEGER NOT NULL,
        helpful INTEGER NOT NULL,
        reason TEXT,
        comment TEXT,
        UNIQUE (visitor, path)
    );
    CREATE INDEX current_votes_path ON current_votes (path);

    CREATE TABLE actions (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        visitor TEXT,
        kind TEXT NOT NULL CHECK (kind IN ('contact_clicked', 'link_inserted')),
        path TEXT,
        query TEXT,
        search_id TEXT,
        source TEXT CHECK (source IN ('customer', 'agent'))
    );
    CREATE INDEX actions_at ON actions (at);
    ",
    // 2: the reader's interface language, which tells the language of a search when its
    // query and filter do not; and what the gap report joins on: the contact click that
    // followed a search or a view.
    "
    ALTER TABLE searches ADD COLUMN ui TEXT;
    CREATE INDEX searches_visitor ON searches (visitor, at);
    CREATE INDEX actions_search ON actions (search_id);
    CREATE INDEX actions_visitor ON actions (visitor, at);
    CREATE INDEX views_visitor ON views (visitor, at);
    ",
    // 3: agents' flags on articles (wrong, outdated), for the gap report's "to update".
    "
    CREATE TABLE flags (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        visitor TEXT,
        path TEXT NOT NULL,
        reason TEXT NOT NULL CHECK (reason IN ('wrong', 'outdated', 'other')),
        note TEXT
    );
    CREATE INDEX flags_at ON flags (at);
    ",
    // 4: the id a reader's page gives a vote, so that the reason and comment sent after
    // "No" complete that vote instead of adding one (it is never exported: whoever knows it
    // may complete the vote).
    "
    ALTER TABLE votes ADD COLUMN public_id TEXT;
    CREATE INDEX votes_public_id ON votes (public_id) WHERE public_id IS NOT NULL;
    ",
    // 5: searches and actions from AI agents (`source = 'ai'`, through the MCP server), and
    // their reads of articles (`article_fetched`). SQLite cannot change a CHECK constraint:
    // the two tables are rebuilt.
    "
    CREATE TABLE searches_new (
        id INTEGER PRIMARY KEY,
        search_id TEXT NOT NULL UNIQUE,
        at INTEGER NOT NULL,
        visitor TEXT,
        query TEXT NOT NULL,
        normalized TEXT NOT NULL,
        lang TEXT,
        total INTEGER NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('customer', 'agent', 'ai')),
        results TEXT NOT NULL,
        partial INTEGER NOT NULL DEFAULT 0,
        ui TEXT
    );
    INSERT INTO searches_new SELECT id, search_id, at, visitor, query, normalized, lang, total,
        source, results, partial, ui FROM searches;
    DROP TABLE searches;
    ALTER TABLE searches_new RENAME TO searches;
    CREATE INDEX searches_at ON searches (at);
    CREATE INDEX searches_normalized ON searches (normalized);
    CREATE INDEX searches_visitor ON searches (visitor, at);

    CREATE TABLE actions_new (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        visitor TEXT,
        kind TEXT NOT NULL CHECK (kind IN ('contact_clicked', 'link_inserted', 'article_fetched')),
        path TEXT,
        query TEXT,
        search_id TEXT,
        source TEXT CHECK (source IN ('customer', 'agent', 'ai'))
    );
    INSERT INTO actions_new SELECT id, at, visitor, kind, path, query, search_id, source
        FROM actions;
    DROP TABLE actions;
    ALTER TABLE actions_new RENAME TO actions;
    CREATE INDEX actions_at ON actions (at);
    CREATE INDEX actions_search ON actions (search_id);
    CREATE INDEX actions_visitor ON actions (visitor, at);
    ",
];

/// The schema version this kb writes.
pub fn schema_version() -> i64 {
    MIGRATIONS.len() as i64
}

pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating it and the folder if needed) the database in `data_dir` and migrates
    /// its schema.
    pub fn open(data_dir: &Path) -> Result<SqliteStore, MetricsError> {
        std::fs::create_dir_all(data_dir).map_err(|source| MetricsError::DataFolder {
            path: data_dir.display().to_string(),
            source,
        })?;
        let path = data_dir.join(FILE_NAME);
        let conn = Connection::open(&path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut store = SqliteStore { conn, path };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), MetricsError> {
        let found: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > schema_version() {
            return Err(MetricsError::TooNew {
                path: self.path.display().to_string(),
                found,
                known: schema_version(),
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
            tracing::info!("metrics database migrated to schema {}", i + 1);
        }
        Ok(())
    }
}

fn insert(tx: &rusqlite::Transaction<'_>, event: &Event) -> rusqlite::Result<()> {
    match event {
        Event::Search(s) => {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO searches
                 (search_id, at, visitor, query, normalized, lang, total, source, results, partial, ui)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                s.id,
                s.at,
                s.visitor,
                s.query,
                s.normalized,
                s.lang,
                s.total as i64,
                s.source.as_str(),
                serde_json::to_string(&s.results).unwrap_or_else(|_| "[]".into()),
                s.partial,
                s.ui,
            ])?;
        }
        Event::Click(c) => {
            tx.prepare_cached(
                "INSERT INTO clicks (at, visitor, search_id, path, position)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![c.at, c.visitor, c.search_id, c.path, c.position])?;
        }
        Event::View(v) => {
            tx.prepare_cached(
                "INSERT INTO views (at, visitor, path, search_id) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![v.at, v.visitor, v.path, v.search_id])?;
        }
        Event::Vote(v) => {
            let reason = v.reason.map(Reason::as_str);
            // A vote with the id of one this visitor cast on this article completes it.
            let completed: Option<i64> = match &v.id {
                None => None,
                Some(id) => tx
                    .prepare_cached(
                        "UPDATE votes SET helpful = ?1, reason = ?2, comment = ?3
                         WHERE public_id = ?4 AND path = ?5 AND visitor IS ?6
                         RETURNING id",
                    )?
                    .query_row(
                        params![v.helpful, reason, v.comment, id, v.path, v.visitor],
                        |r| r.get(0),
                    )
                    .optional()?,
            };
            if let Some(vote_id) = completed {
                tx.prepare_cached(
                    "UPDATE current_votes SET helpful = ?1, reason = ?2, comment = ?3
                     WHERE vote_id = ?4",
                )?
                .execute(params![v.helpful, reason, v.comment, vote_id])?;
                return Ok(());
            }
            tx.prepare_cached(
                "INSERT INTO votes (at, visitor, path, helpful, reason, comment, public_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                v.at, v.visitor, v.path, v.helpful, reason, v.comment, v.id
            ])?;
            let vote_id = tx.last_insert_rowid();
            tx.prepare_cached(
                "INSERT INTO current_votes (visitor, path, vote_id, at, helpful, reason, comment)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (visitor, path) DO UPDATE SET
                   vote_id = excluded.vote_id, at = excluded.at, helpful = excluded.helpful,
                   reason = excluded.reason, comment = excluded.comment
                 WHERE excluded.at >= current_votes.at",
            )?
            .execute(params![
                v.visitor, v.path, vote_id, v.at, v.helpful, reason, v.comment
            ])?;
        }
        Event::Flag(f) => {
            tx.prepare_cached(
                "INSERT INTO flags (at, visitor, path, reason, note) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![f.at, f.visitor, f.path, f.reason.as_str(), f.note])?;
        }
        Event::Action(a) => {
            tx.prepare_cached(
                "INSERT INTO actions (at, visitor, kind, path, query, search_id, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                a.at,
                a.visitor,
                a.kind.as_str(),
                a.path,
                a.query,
                a.search_id,
                a.source.map(Source::as_str),
            ])?;
        }
    }
    Ok(())
}

impl EventStore for SqliteStore {
    /// The batch's name is not kept: a commit SQLite reports as failed did not happen (the
    /// answer comes back from a library call, not over a connection that may drop).
    fn append_batch(&mut self, _id: BatchId, events: &[Event]) -> Result<(), MetricsError> {
        let tx = self.conn.transaction()?;
        for e in events {
            insert(&tx, e)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn purge_before(&mut self, cutoff: Millis) -> Result<u64, MetricsError> {
        let tx = self.conn.transaction()?;
        let mut n = 0u64;
        // current_votes rows go with their votes (ON DELETE CASCADE).
        for table in ["searches", "clicks", "views", "votes", "actions", "flags"] {
            n += tx.execute(&format!("DELETE FROM {table} WHERE at < ?1"), [cutoff])? as u64;
        }
        tx.commit()?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    //! What only SQLite has: its migrations and its file. What every store does is tested on
    //! both backends in `metrics::store_tests`.

    use super::*;
    use crate::metrics::MetricsReader;
    use crate::metrics::store_tests::{action, all, search};
    use crate::metrics::{ActionKind, Source};

    fn reader(dir: &Path) -> SqliteReader {
        SqliteReader::open(dir).unwrap().unwrap()
    }

    #[test]
    fn reading_an_older_database_migrates_it_first() {
        let dir = tempfile::tempdir().unwrap();
        {
            let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
        }
        let r = reader(dir.path());
        assert!(
            all(|sink| r.flags(0..10, sink)).is_empty(),
            "the flags table exists"
        );
        let s = SqliteStore::open(dir.path()).unwrap();
        let count = |sql: &str| -> i64 { s.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(count("SELECT count(ui) FROM searches"), 0);
        assert_eq!(count("PRAGMA user_version"), schema_version());
    }

    #[test]
    fn schema_5_keeps_earlier_events_and_takes_ai_agents_ones() {
        let dir = tempfile::tempdir().unwrap();
        {
            let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
            for m in &MIGRATIONS[..4] {
                conn.execute_batch(m).unwrap();
            }
            conn.pragma_update(None, "user_version", 4).unwrap();
            // Events recorded under schema 4.
            conn.execute_batch(
                "INSERT INTO searches (search_id, at, visitor, query, normalized, total, source, results, ui)
                 VALUES ('s1', 1, 'v', 'Refunds?', 'refund', 3, 'agent', '[\"a.md\"]', 'en');
                 INSERT INTO actions (at, visitor, kind, path, source)
                 VALUES (2, 'v', 'link_inserted', 'a.md', 'agent');",
            )
            .unwrap();
        }
        let mut s = SqliteStore::open(dir.path()).unwrap();
        s.append(&[
            search("s2", 3, "w", Source::Ai, false),
            action(4, None, ActionKind::ArticleFetched),
        ])
        .unwrap();
        let count = |sql: &str| -> i64 { s.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(count("PRAGMA user_version"), schema_version());
        assert_eq!(count("SELECT count(*) FROM searches"), 2);
        assert_eq!(
            count(
                "SELECT count(*) FROM searches WHERE search_id = 's1' AND ui = 'en' AND source = 'agent'"
            ),
            1
        );
        assert_eq!(
            count("SELECT count(*) FROM searches WHERE source = 'ai'"),
            1
        );
        assert_eq!(count("SELECT count(*) FROM actions"), 2);
        let r = reader(dir.path());
        let ai = all(|sink| r.ai_searches(0..10, sink));
        assert_eq!(ai.len(), 1);
        assert_eq!(ai[0].results, ["a.md", "b.md"]);
        // The query and the trait's portable default agree.
        let portable =
            |period| all(|sink| crate::metrics::read::ai_searches_in_events(&r, period, sink));
        assert_eq!(portable(0..10), ai);
        assert!(portable(4..10).is_empty());
        // Not a customer's search.
        assert!(all(|sink| r.customer_searches(0..10, sink)).is_empty());
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(SqliteStore::open(dir.path()).unwrap());
        let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = SqliteStore::open(dir.path()).err().unwrap();
        assert!(err.to_string().contains("newer kb"), "{err}");
        let err = SqliteReader::open(dir.path()).err().unwrap();
        assert!(err.to_string().contains("newer kb"), "{err}");
    }

    #[test]
    fn the_file_passes_sqlites_own_check() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::open(dir.path()).unwrap();
        s.append(&[Event::View(crate::metrics::View {
            at: 1,
            visitor: None,
            path: "a.md".into(),
            search_id: None,
        })])
        .unwrap();
        assert_eq!(reader(dir.path()).integrity_check().unwrap(), "ok");
    }
}
