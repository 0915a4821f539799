//! The SQLite event store: one file, `kb.sqlite3`, in the data folder.
//!
//! WAL mode lets `kb export` and the report read while the server writes. `synchronous =
//! FULL` makes every commit durable against power loss, not only against a crash of kb; group
//! commit keeps that affordable. The schema is versioned with `PRAGMA user_version` and
//! migrated forward at start, one transaction per step.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::{
    Action, ActionKind, Click, Event, EventStore, Flag, FlagReason, MetricsError, Millis, Reason,
    Search, Source, View, Vote,
};

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

    /// Opens an existing database for reading only (exports and reports while the server
    /// writes); `None` when there is none yet. A database from an older kb is migrated first,
    /// so that reports can read what this kb records.
    pub fn open_read_only(data_dir: &Path) -> Result<Option<SqliteStore>, MetricsError> {
        let path = data_dir.join(FILE_NAME);
        if !path.exists() {
            return Ok(None);
        }
        {
            let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
            if found < schema_version() {
                drop(conn);
                drop(SqliteStore::open(data_dir)?);
            }
        }
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > schema_version() {
            return Err(MetricsError::TooNew {
                path: path.display().to_string(),
                found,
                known: schema_version(),
            });
        }
        Ok(Some(SqliteStore { conn, path }))
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

    /// The database's own consistency check (`PRAGMA integrity_check`): "ok" when sound.
    pub fn integrity_check(&self) -> Result<String, MetricsError> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// The connection, for queries the trait does not cover (reports).
    pub fn connection(&self) -> &Connection {
        &self.conn
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
            tx.prepare_cached(
                "INSERT INTO votes (at, visitor, path, helpful, reason, comment)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                v.at, v.visitor, v.path, v.helpful, reason, v.comment
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
    fn append(&mut self, events: &[Event]) -> Result<(), MetricsError> {
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

    fn events_since(
        &self,
        since: Millis,
        sink: &mut dyn FnMut(Event) -> Result<(), MetricsError>,
    ) -> Result<(), MetricsError> {
        // One query over every table, in time order; columns the kind does not use are NULL.
        let mut stmt = self.conn.prepare(
            "SELECT 'search', at, visitor, search_id, query, normalized, lang, total, source,
                    results, partial, NULL, NULL, NULL, NULL, id, ui
               FROM searches WHERE at >= ?1
             UNION ALL
             SELECT 'click', at, visitor, search_id, NULL, NULL, NULL, position, NULL,
                    NULL, NULL, path, NULL, NULL, NULL, id, NULL
               FROM clicks WHERE at >= ?1
             UNION ALL
             SELECT 'view', at, visitor, search_id, NULL, NULL, NULL, NULL, NULL,
                    NULL, NULL, path, NULL, NULL, NULL, id, NULL
               FROM views WHERE at >= ?1
             UNION ALL
             SELECT 'vote', at, visitor, NULL, NULL, NULL, NULL, NULL, NULL,
                    NULL, NULL, path, helpful, reason, comment, id, NULL
               FROM votes WHERE at >= ?1
             UNION ALL
             SELECT kind, at, visitor, search_id, query, NULL, NULL, NULL, source,
                    NULL, NULL, path, NULL, NULL, NULL, id, NULL
               FROM actions WHERE at >= ?1
             UNION ALL
             SELECT 'flag', at, visitor, NULL, NULL, NULL, NULL, NULL, NULL,
                    NULL, NULL, path, NULL, reason, note, id, NULL
               FROM flags WHERE at >= ?1
             ORDER BY 2, 16",
        )?;
        let mut rows = stmt.query([since])?;
        while let Some(r) = rows.next()? {
            let kind: String = r.get(0)?;
            let at: Millis = r.get(1)?;
            let visitor: Option<String> = r.get(2)?;
            let search_id: Option<String> = r.get(3)?;
            let event = match kind.as_str() {
                "search" => Event::Search(Search {
                    id: search_id.unwrap_or_default(),
                    at,
                    visitor,
                    query: r.get(4)?,
                    normalized: r.get(5)?,
                    lang: r.get(6)?,
                    total: r.get::<_, i64>(7)?.max(0) as u64,
                    source: Source::parse(&r.get::<_, String>(8)?).unwrap_or(Source::Customer),
                    results: serde_json::from_str(&r.get::<_, String>(9)?).unwrap_or_default(),
                    partial: r.get(10)?,
                    ui: r.get(16)?,
                }),
                "click" => Event::Click(Click {
                    at,
                    visitor,
                    search_id: search_id.unwrap_or_default(),
                    path: r.get(11)?,
                    position: r.get::<_, i64>(7)?.max(0) as u32,
                }),
                "view" => Event::View(View {
                    at,
                    visitor,
                    path: r.get(11)?,
                    search_id,
                }),
                "vote" => Event::Vote(Vote {
                    at,
                    visitor,
                    path: r.get(11)?,
                    helpful: r.get(12)?,
                    reason: r
                        .get::<_, Option<String>>(13)?
                        .as_deref()
                        .and_then(Reason::parse),
                    comment: r.get(14)?,
                }),
                "flag" => Event::Flag(Flag {
                    at,
                    visitor,
                    path: r.get(11)?,
                    reason: r
                        .get::<_, Option<String>>(13)?
                        .as_deref()
                        .and_then(FlagReason::parse)
                        .unwrap_or(FlagReason::Other),
                    note: r.get(14)?,
                }),
                other => Event::Action(Action {
                    at,
                    visitor,
                    kind: ActionKind::parse(other).unwrap_or(ActionKind::ContactClicked),
                    path: r.get(11)?,
                    query: r.get(4)?,
                    search_id,
                    source: r
                        .get::<_, Option<String>>(8)?
                        .as_deref()
                        .and_then(Source::parse),
                }),
            };
            sink(event)?;
        }
        Ok(())
    }
}

/// The most viewed articles since `since`, most viewed first: (path, views).
pub fn popular(
    store: &SqliteStore,
    since: Millis,
    limit: usize,
) -> Result<Vec<(String, u64)>, MetricsError> {
    let mut stmt = store.conn.prepare_cached(
        "SELECT path, count(*) AS n FROM views WHERE at >= ?1
         GROUP BY path ORDER BY n DESC, path LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![since, limit as i64], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Current votes (each visitor's latest) cast since `since` on each of `paths`: (yes, no).
pub fn helpfulness(
    store: &SqliteStore,
    paths: &[String],
    since: Millis,
) -> Result<HashMap<String, (u64, u64)>, MetricsError> {
    let mut stmt = store.conn.prepare_cached(
        "SELECT sum(helpful), sum(NOT helpful) FROM current_votes WHERE path = ?1 AND at >= ?2",
    )?;
    let mut out = HashMap::new();
    for path in paths {
        let (yes, no): (Option<i64>, Option<i64>) =
            stmt.query_row(params![path, since], |r| Ok((r.get(0)?, r.get(1)?)))?;
        out.insert(
            path.clone(),
            (
                yes.unwrap_or(0).max(0) as u64,
                no.unwrap_or(0).max(0) as u64,
            ),
        );
    }
    Ok(out)
}

/// The current vote of `visitor` on `path`, if any: (helpful, reason).
pub fn current_vote(
    store: &SqliteStore,
    visitor: &str,
    path: &str,
) -> Result<Option<(bool, Option<String>)>, MetricsError> {
    Ok(store
        .conn
        .query_row(
            "SELECT helpful, reason FROM current_votes WHERE visitor = ?1 AND path = ?2",
            [visitor, path],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vote(at: Millis, visitor: Option<&str>, path: &str, helpful: bool) -> Event {
        Event::Vote(Vote {
            at,
            visitor: visitor.map(str::to_string),
            path: path.into(),
            helpful,
            reason: (!helpful).then_some(Reason::Outdated),
            comment: None,
        })
    }

    fn count(store: &SqliteStore, sql: &str) -> i64 {
        store.conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_changed_vote_replaces_the_old_one_and_history_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::open(dir.path()).unwrap();
        s.append(&[
            vote(1, Some("v1"), "a.md", true),
            vote(2, Some("v2"), "a.md", true),
        ])
        .unwrap();
        s.append(&[vote(3, Some("v1"), "a.md", false)]).unwrap();
        assert_eq!(count(&s, "SELECT count(*) FROM votes"), 3);
        assert_eq!(count(&s, "SELECT count(*) FROM current_votes"), 2);
        assert_eq!(
            current_vote(&s, "v1", "a.md").unwrap(),
            Some((false, Some("outdated".into())))
        );
        // An older vote arriving late does not replace a newer one.
        s.append(&[vote(1, Some("v1"), "a.md", true)]).unwrap();
        assert!(!current_vote(&s, "v1", "a.md").unwrap().unwrap().0);
    }

    #[test]
    fn reading_an_older_database_migrates_it_first() {
        let dir = tempfile::tempdir().unwrap();
        {
            let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
        }
        let s = SqliteStore::open_read_only(dir.path()).unwrap().unwrap();
        assert_eq!(count(&s, "SELECT count(ui) FROM searches"), 0);
        assert_eq!(count(&s, "PRAGMA user_version"), schema_version());
    }

    #[test]
    fn untracked_votes_each_count() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::open(dir.path()).unwrap();
        s.append(&[vote(1, None, "a.md", true), vote(2, None, "a.md", false)])
            .unwrap();
        assert_eq!(count(&s, "SELECT count(*) FROM current_votes"), 2);
    }

    #[test]
    fn retention_deletes_old_events_and_their_current_votes() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::open(dir.path()).unwrap();
        let view = |at| {
            Event::View(View {
                at,
                visitor: None,
                path: "a.md".into(),
                search_id: None,
            })
        };
        s.append(&[
            view(10),
            view(20),
            view(30),
            vote(15, Some("v"), "a.md", true),
        ])
        .unwrap();
        assert_eq!(s.purge_before(20).unwrap(), 2);
        assert_eq!(count(&s, "SELECT count(*) FROM views"), 2);
        assert_eq!(count(&s, "SELECT count(*) FROM current_votes"), 0);
    }

    #[test]
    fn events_round_trip_in_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::open(dir.path()).unwrap();
        let events = vec![
            Event::Search(Search {
                id: "s1".into(),
                at: 1,
                visitor: Some("v".into()),
                query: "Refunds?".into(),
                normalized: "refund".into(),
                lang: Some("en".into()),
                total: 3,
                source: Source::Agent,
                results: vec!["a.md".into(), "b.md".into()],
                partial: true,
                ui: Some("en".into()),
            }),
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
            Event::Action(Action {
                at: 5,
                visitor: None,
                kind: ActionKind::LinkInserted,
                path: Some("a.md".into()),
                query: Some("refund".into()),
                search_id: None,
                source: Some(Source::Agent),
            }),
        ];
        s.append(&events).unwrap();
        let mut back = Vec::new();
        s.events_since(0, &mut |e| {
            back.push(e);
            Ok(())
        })
        .unwrap();
        assert_eq!(back, events);
        let mut recent = 0;
        s.events_since(4, &mut |_| {
            recent += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(recent, 2);
    }

    #[test]
    fn popular_articles_by_views() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::open(dir.path()).unwrap();
        let view = |at, path: &str| {
            Event::View(View {
                at,
                visitor: None,
                path: path.into(),
                search_id: None,
            })
        };
        s.append(&[
            view(1, "old.md"),
            view(10, "a.md"),
            view(11, "b.md"),
            view(12, "b.md"),
        ])
        .unwrap();
        assert_eq!(
            popular(&s, 5, 10).unwrap(),
            [("b.md".to_string(), 2), ("a.md".to_string(), 1)]
        );
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
    }

    #[test]
    fn reopening_keeps_data_and_schema() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::open(dir.path()).unwrap();
        s.append(&[vote(1, Some("v"), "a.md", true)]).unwrap();
        drop(s);
        let s = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(count(&s, "SELECT count(*) FROM votes"), 1);
        assert_eq!(s.integrity_check().unwrap(), "ok");
        let r = SqliteStore::open_read_only(dir.path()).unwrap().unwrap();
        assert_eq!(count(&r, "SELECT count(*) FROM votes"), 1);
    }
}
