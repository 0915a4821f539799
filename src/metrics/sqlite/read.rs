//! The SQLite answers to the metrics' questions ([`MetricsReader`]): read-only connections
//! beside the writer, in WAL mode, so reading never blocks recording.
//!
//! Connections are opened on demand and a few are kept for the next question, so the agent
//! panel's helpfulness lookups, the home page's popular articles and a report being built
//! each read on their own connection at the same time.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};

use super::{FILE_NAME, SqliteStore, schema_version};
use crate::metrics::read::{
    AiSearch, CustomerSearch, DailyViews, MetricsReader, Sink, Tally, Timeline, Totals,
};
use crate::metrics::{
    Action, ActionKind, Click, DAY, Event, Flag, FlagReason, MetricsError, Millis, Reason, Search,
    Source, View, Vote,
};

/// Idle connections kept for the next question.
const KEEP_IDLE: usize = 4;

/// Reads the metrics database of a data folder.
pub struct SqliteReader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl SqliteReader {
    /// The reader of the database in `data_dir`; `None` when there is none yet. A database
    /// from an older kb is migrated first, so that this kb can read what it records.
    pub fn open(data_dir: &Path) -> Result<Option<SqliteReader>, MetricsError> {
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
        let reader = SqliteReader {
            path,
            idle: Mutex::default(),
        };
        let conn = reader.connect()?;
        reader.give_back(conn);
        Ok(Some(reader))
    }

    fn connect(&self) -> Result<Connection, MetricsError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > schema_version() {
            return Err(MetricsError::TooNew {
                path: self.path.display().to_string(),
                found,
                known: schema_version(),
            });
        }
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < KEEP_IDLE {
            idle.push(conn);
        }
    }

    /// Runs `f` on a connection of its own.
    fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, MetricsError>,
    ) -> Result<T, MetricsError> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(c) => c,
            None => self.connect()?,
        };
        let result = f(&conn);
        self.give_back(conn);
        result
    }

    /// Runs a query and hands each row, as `decode` reads it, to `sink`.
    fn scan<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        decode: impl Fn(&Row<'_>) -> rusqlite::Result<T>,
        sink: Sink<'_, T>,
    ) -> Result<(), MetricsError> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(sql)?;
            let mut rows = stmt.query(params)?;
            while let Some(r) = rows.next()? {
                sink(decode(r)?)?;
            }
            Ok(())
        })
    }

    /// The database's own consistency check (`PRAGMA integrity_check`): "ok" when sound.
    pub fn integrity_check(&self) -> Result<String, MetricsError> {
        self.with(|conn| Ok(conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?))
    }
}

fn count(r: &Row<'_>, i: usize) -> rusqlite::Result<u64> {
    Ok(r.get::<_, Option<i64>>(i)?.unwrap_or(0).max(0) as u64)
}

fn reason(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<Reason>> {
    Ok(r.get::<_, Option<String>>(i)?
        .as_deref()
        .and_then(Reason::parse))
}

fn flag_reason(r: &Row<'_>, i: usize) -> rusqlite::Result<FlagReason> {
    Ok(r.get::<_, Option<String>>(i)?
        .as_deref()
        .and_then(FlagReason::parse)
        .unwrap_or(FlagReason::Other))
}

fn source(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<Source>> {
    Ok(r.get::<_, Option<String>>(i)?
        .as_deref()
        .and_then(Source::parse))
}

/// A vote from `visitor, path, at, helpful, reason, comment`.
fn vote(r: &Row<'_>) -> rusqlite::Result<Vote> {
    Ok(Vote {
        visitor: r.get(0)?,
        path: r.get(1)?,
        at: r.get(2)?,
        helpful: r.get(3)?,
        reason: reason(r, 4)?,
        comment: r.get(5)?,
        id: None,
    })
}

impl MetricsReader for SqliteReader {
    fn events_since(&self, since: Millis, sink: Sink<'_, Event>) -> Result<(), MetricsError> {
        // One query over every table, in time order; columns the kind does not use are NULL.
        const SQL: &str = "
            SELECT 'search', at, visitor, search_id, query, normalized, lang, total, source,
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
            ORDER BY 2, 16";
        let decode = |r: &Row<'_>| -> rusqlite::Result<Event> {
            let kind: String = r.get(0)?;
            let at: Millis = r.get(1)?;
            let visitor: Option<String> = r.get(2)?;
            let search_id: Option<String> = r.get(3)?;
            Ok(match kind.as_str() {
                "search" => Event::Search(Search {
                    id: search_id.unwrap_or_default(),
                    at,
                    visitor,
                    query: r.get(4)?,
                    normalized: r.get(5)?,
                    lang: r.get(6)?,
                    total: count(r, 7)?,
                    source: source(r, 8)?.unwrap_or(Source::Customer),
                    results: serde_json::from_str(&r.get::<_, String>(9)?).unwrap_or_default(),
                    partial: r.get(10)?,
                    ui: r.get(16)?,
                }),
                "click" => Event::Click(Click {
                    at,
                    visitor,
                    search_id: search_id.unwrap_or_default(),
                    path: r.get(11)?,
                    position: count(r, 7)? as u32,
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
                    reason: reason(r, 13)?,
                    comment: r.get(14)?,
                    id: None,
                }),
                "flag" => Event::Flag(Flag {
                    at,
                    visitor,
                    path: r.get(11)?,
                    reason: flag_reason(r, 13)?,
                    note: r.get(14)?,
                }),
                other => Event::Action(Action {
                    at,
                    visitor,
                    kind: ActionKind::parse(other).unwrap_or(ActionKind::ContactClicked),
                    path: r.get(11)?,
                    query: r.get(4)?,
                    search_id,
                    source: source(r, 8)?,
                }),
            })
        };
        self.scan(SQL, [since], decode, sink)
    }

    fn popular(&self, since: Millis, limit: usize) -> Result<Vec<(String, u64)>, MetricsError> {
        let mut out = Vec::new();
        self.scan(
            "SELECT path, count(*) AS n FROM views WHERE at >= ?1
              GROUP BY path ORDER BY n DESC, path LIMIT ?2",
            params![since, limit as i64],
            |r| Ok((r.get(0)?, count(r, 1)?)),
            &mut |row| {
                out.push(row);
                Ok(())
            },
        )?;
        Ok(out)
    }

    fn helpfulness(
        &self,
        paths: &[String],
        since: Millis,
    ) -> Result<HashMap<String, Tally>, MetricsError> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT sum(helpful), sum(NOT helpful) FROM current_votes
                  WHERE path = ?1 AND at >= ?2",
            )?;
            let mut out = HashMap::new();
            for path in paths {
                let tally = stmt.query_row(params![path, since], |r| {
                    Ok(Tally {
                        yes: count(r, 0)?,
                        no: count(r, 1)?,
                    })
                })?;
                out.insert(path.clone(), tally);
            }
            Ok(out)
        })
    }

    fn current_vote(&self, visitor: &str, path: &str) -> Result<Option<Vote>, MetricsError> {
        self.with(|conn| {
            Ok(conn
                .query_row(
                    "SELECT visitor, path, at, helpful, reason, comment FROM current_votes
                      WHERE visitor = ?1 AND path = ?2",
                    [visitor, path],
                    vote,
                )
                .optional()?)
        })
    }

    fn customer_searches(
        &self,
        period: Range<Millis>,
        sink: Sink<'_, CustomerSearch>,
    ) -> Result<(), MetricsError> {
        self.scan(
            "SELECT search_id, at, visitor, query, normalized, lang, ui, total, results FROM searches
              WHERE at >= ?1 AND at < ?2 AND source = 'customer' AND partial = 0",
            params![period.start, period.end],
            |r| {
                Ok(CustomerSearch {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    visitor: r.get(2)?,
                    query: r.get(3)?,
                    normalized: r.get(4)?,
                    lang: r.get(5)?,
                    ui: r.get(6)?,
                    total: count(r, 7)?,
                    results: serde_json::from_str(&r.get::<_, String>(8)?).unwrap_or_default(),
                })
            },
            sink,
        )
    }

    fn ai_searches(
        &self,
        period: Range<Millis>,
        sink: Sink<'_, AiSearch>,
    ) -> Result<(), MetricsError> {
        self.scan(
            "SELECT at, query, normalized, lang, total, results FROM searches
              WHERE at >= ?1 AND at < ?2 AND source = 'ai' AND partial = 0",
            params![period.start, period.end],
            |r| {
                Ok(AiSearch {
                    at: r.get(0)?,
                    query: r.get(1)?,
                    normalized: r.get(2)?,
                    lang: r.get(3)?,
                    total: count(r, 4)?,
                    results: serde_json::from_str(&r.get::<_, String>(5)?).unwrap_or_default(),
                })
            },
            sink,
        )
    }

    fn clicks(&self, period: Range<Millis>, sink: Sink<'_, Click>) -> Result<(), MetricsError> {
        self.scan(
            "SELECT at, visitor, search_id, path, position FROM clicks
              WHERE at >= ?1 AND at < ?2",
            params![period.start, period.end],
            |r| {
                Ok(Click {
                    at: r.get(0)?,
                    visitor: r.get(1)?,
                    search_id: r.get(2)?,
                    path: r.get(3)?,
                    position: count(r, 4)? as u32,
                })
            },
            sink,
        )
    }

    fn daily_views(&self, period: Range<Millis>) -> Result<Vec<DailyViews>, MetricsError> {
        let mut out = Vec::new();
        self.scan(
            "SELECT path, at / ?3, count(*) FROM views WHERE at >= ?1 AND at < ?2 GROUP BY 1, 2",
            params![period.start, period.end, DAY],
            |r| {
                Ok(DailyViews {
                    path: r.get(0)?,
                    day: r.get(1)?,
                    views: count(r, 2)?,
                })
            },
            &mut |row| {
                out.push(row);
                Ok(())
            },
        )?;
        Ok(out)
    }

    fn actions(
        &self,
        kind: ActionKind,
        period: Range<Millis>,
        sink: Sink<'_, Action>,
    ) -> Result<(), MetricsError> {
        self.scan(
            "SELECT at, visitor, path, query, search_id, source FROM actions
              WHERE kind = ?3 AND at >= ?1 AND at < ?2",
            params![period.start, period.end, kind.as_str()],
            |r| {
                Ok(Action {
                    at: r.get(0)?,
                    visitor: r.get(1)?,
                    kind,
                    path: r.get(2)?,
                    query: r.get(3)?,
                    search_id: r.get(4)?,
                    source: source(r, 5)?,
                })
            },
            sink,
        )
    }

    fn contact_timelines(
        &self,
        period: Range<Millis>,
        window: Millis,
        sink: Sink<'_, Timeline>,
    ) -> Result<(), MetricsError> {
        // The visitors who contacted support, then each one's events in time order (the
        // visitor indexes find them): one sorted pass, however the events are spread.
        const SQL: &str = "
            WITH contacting(visitor) AS (
                SELECT DISTINCT visitor FROM actions
                 WHERE kind = 'contact_clicked' AND visitor IS NOT NULL
                   AND at >= ?1 AND at < ?2 + ?3)
            SELECT visitor, at, 0, search_id FROM searches
             WHERE visitor IN contacting AND at >= ?1 AND at < ?2
               AND source = 'customer' AND partial = 0
            UNION ALL
            SELECT visitor, at, 1, path FROM views
             WHERE visitor IN contacting AND at >= ?1 AND at < ?2
            UNION ALL
            SELECT visitor, at, 2, NULL FROM actions
             WHERE kind = 'contact_clicked' AND visitor IS NOT NULL
               AND at >= ?1 AND at < ?2 + ?3
            ORDER BY 1, 2";
        let mut current: Option<Timeline> = None;
        self.scan(
            SQL,
            params![period.start, period.end, window],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Millis>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            },
            &mut |(visitor, at, kind, text)| {
                if current.as_ref().is_none_or(|t| t.visitor != visitor) {
                    if let Some(done) = current.take() {
                        sink(done)?;
                    }
                    current = Some(Timeline {
                        visitor,
                        ..Timeline::default()
                    });
                }
                let Some(timeline) = current.as_mut() else {
                    return Ok(());
                };
                match (kind, text) {
                    (0, Some(id)) => timeline.searches.push((at, id)),
                    (1, Some(path)) => timeline.views.push((at, path)),
                    _ => timeline.contacts.push(at),
                }
                Ok(())
            },
        )?;
        match current {
            Some(done) => sink(done),
            None => Ok(()),
        }
    }

    fn votes(&self, period: Range<Millis>, sink: Sink<'_, Vote>) -> Result<(), MetricsError> {
        self.scan(
            "SELECT visitor, path, at, helpful, reason, comment FROM votes
              WHERE at >= ?1 AND at < ?2",
            params![period.start, period.end],
            vote,
            sink,
        )
    }

    fn current_votes(
        &self,
        period: Range<Millis>,
        sink: Sink<'_, Vote>,
    ) -> Result<(), MetricsError> {
        self.scan(
            "SELECT visitor, path, at, helpful, reason, comment FROM current_votes
              WHERE at >= ?1 AND at < ?2",
            params![period.start, period.end],
            vote,
            sink,
        )
    }

    fn flags(&self, period: Range<Millis>, sink: Sink<'_, Flag>) -> Result<(), MetricsError> {
        self.scan(
            "SELECT at, visitor, path, reason, note FROM flags WHERE at >= ?1 AND at < ?2",
            params![period.start, period.end],
            |r| {
                Ok(Flag {
                    at: r.get(0)?,
                    visitor: r.get(1)?,
                    path: r.get(2)?,
                    reason: flag_reason(r, 3)?,
                    note: r.get(4)?,
                })
            },
            sink,
        )
    }

    fn totals(&self) -> Result<Totals, MetricsError> {
        self.with(|conn| {
            Ok(conn.query_row(
                "SELECT (SELECT count(*) FROM searches), (SELECT count(*) FROM clicks),
                        (SELECT count(*) FROM views), (SELECT count(*) FROM votes),
                        (SELECT count(*) FROM current_votes), (SELECT count(*) FROM actions),
                        (SELECT count(*) FROM flags)",
                [],
                |r| {
                    Ok(Totals {
                        searches: count(r, 0)?,
                        clicks: count(r, 1)?,
                        views: count(r, 2)?,
                        votes: count(r, 3)?,
                        current_votes: count(r, 4)?,
                        actions: count(r, 5)?,
                        flags: count(r, 6)?,
                    })
                },
            )?)
        })
    }
}
