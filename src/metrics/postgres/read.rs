//! The PostgreSQL answers to the metrics' questions ([`MetricsReader`]): the same questions
//! as SQLite's, in PostgreSQL's SQL, each on a connection of its own from the pool, rows
//! streamed to the sink as they arrive.
//!
//! Text is ordered byte-wise (`COLLATE "C"`), as SQLite orders it, so ties come out the same
//! whatever the database's locale.

use std::collections::HashMap;
use std::ops::Range;

use futures_util::TryStreamExt;
use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, Row};

use super::Postgres;
use crate::metrics::read::{
    AiSearch, CustomerSearch, DailyViews, MetricsReader, Sink, Tally, Timeline, Totals,
};
use crate::metrics::{
    Action, ActionKind, Click, DAY, Event, Flag, FlagReason, MetricsError, Millis, Reason, Search,
    Source, View, Vote,
};

/// Reads a PostgreSQL database ([`Postgres::reader`]).
pub struct PgReader {
    pg: Postgres,
}

type Param<'a> = &'a (dyn ToSql + Sync);

impl PgReader {
    pub(super) fn new(pg: Postgres) -> PgReader {
        PgReader { pg }
    }

    /// Runs a query and hands each row, as `decode` reads it, to `sink`.
    fn scan<T>(
        &self,
        sql: &str,
        params: &[Param<'_>],
        decode: impl Fn(&Row) -> Result<T, tokio_postgres::Error>,
        sink: Sink<'_, T>,
    ) -> Result<(), MetricsError> {
        self.pg.run(async |c| {
            let statement = c.prepare_cached(sql).await?;
            let rows = c
                .query_raw(&statement, params.iter().map(|p| *p as &dyn ToSql))
                .await?;
            let mut rows = std::pin::pin!(rows);
            while let Some(row) = rows.try_next().await? {
                sink(decode(&row)?)?;
            }
            Ok(())
        })
    }

    /// Every row a query returns, decoded.
    fn all<T>(
        &self,
        sql: &str,
        params: &[Param<'_>],
        decode: impl Fn(&Row) -> Result<T, tokio_postgres::Error>,
    ) -> Result<Vec<T>, MetricsError> {
        let mut out = Vec::new();
        self.scan(sql, params, decode, &mut |row| {
            out.push(row);
            Ok(())
        })?;
        Ok(out)
    }
}

fn count(r: &Row, i: usize) -> Result<u64, tokio_postgres::Error> {
    Ok(r.try_get::<_, Option<i64>>(i)?.unwrap_or(0).max(0) as u64)
}

fn reason(r: &Row, i: usize) -> Result<Option<Reason>, tokio_postgres::Error> {
    Ok(r.try_get::<_, Option<&str>>(i)?.and_then(Reason::parse))
}

fn flag_reason(r: &Row, i: usize) -> Result<FlagReason, tokio_postgres::Error> {
    Ok(r.try_get::<_, Option<&str>>(i)?
        .and_then(FlagReason::parse)
        .unwrap_or(FlagReason::Other))
}

fn source(r: &Row, i: usize) -> Result<Option<Source>, tokio_postgres::Error> {
    Ok(r.try_get::<_, Option<&str>>(i)?.and_then(Source::parse))
}

/// A vote from `visitor, path, at, helpful, reason, comment`.
fn vote(r: &Row) -> Result<Vote, tokio_postgres::Error> {
    Ok(Vote {
        visitor: r.try_get(0)?,
        path: r.try_get(1)?,
        at: r.try_get(2)?,
        helpful: r.try_get(3)?,
        reason: reason(r, 4)?,
        comment: r.try_get(5)?,
        id: None,
    })
}

/// How many of each are stored, on any connection or transaction.
pub(super) async fn totals(c: &impl GenericClient) -> Result<Totals, MetricsError> {
    let row = c
        .query_one(
            "SELECT (SELECT count(*) FROM searches), (SELECT count(*) FROM clicks),
                    (SELECT count(*) FROM views), (SELECT count(*) FROM votes),
                    (SELECT count(*) FROM current_votes), (SELECT count(*) FROM actions),
                    (SELECT count(*) FROM flags)",
            &[],
        )
        .await?;
    Ok(Totals {
        searches: count(&row, 0)?,
        clicks: count(&row, 1)?,
        views: count(&row, 2)?,
        votes: count(&row, 3)?,
        current_votes: count(&row, 4)?,
        actions: count(&row, 5)?,
        flags: count(&row, 6)?,
    })
}

impl MetricsReader for PgReader {
    fn events_since(&self, since: Millis, sink: Sink<'_, Event>) -> Result<(), MetricsError> {
        // One query over every table, in time order; columns the kind does not use are NULL
        // (typed in the first branch: PostgreSQL matches a union's types branch by branch).
        const SQL: &str = "
            SELECT 'search', at, visitor, search_id, query, normalized, lang, total, source,
                   results, partial, NULL::text, NULL::boolean, NULL::text, NULL::text, id, ui
              FROM searches WHERE at >= $1
            UNION ALL
            SELECT 'click', at, visitor, search_id, NULL, NULL, NULL, position, NULL,
                   NULL, NULL, path, NULL, NULL, NULL, id, NULL
              FROM clicks WHERE at >= $1
            UNION ALL
            SELECT 'view', at, visitor, search_id, NULL, NULL, NULL, NULL, NULL,
                   NULL, NULL, path, NULL, NULL, NULL, id, NULL
              FROM views WHERE at >= $1
            UNION ALL
            SELECT 'vote', at, visitor, NULL, NULL, NULL, NULL, NULL, NULL,
                   NULL, NULL, path, helpful, reason, comment, id, NULL
              FROM votes WHERE at >= $1
            UNION ALL
            SELECT kind, at, visitor, search_id, query, NULL, NULL, NULL, source,
                   NULL, NULL, path, NULL, NULL, NULL, id, NULL
              FROM actions WHERE at >= $1
            UNION ALL
            SELECT 'flag', at, visitor, NULL, NULL, NULL, NULL, NULL, NULL,
                   NULL, NULL, path, NULL, reason, note, id, NULL
              FROM flags WHERE at >= $1
            ORDER BY 2, 16";
        let decode = |r: &Row| -> Result<Event, tokio_postgres::Error> {
            let kind: &str = r.try_get(0)?;
            let at: Millis = r.try_get(1)?;
            let visitor: Option<String> = r.try_get(2)?;
            let search_id: Option<String> = r.try_get(3)?;
            Ok(match kind {
                "search" => Event::Search(Search {
                    id: search_id.unwrap_or_default(),
                    at,
                    visitor,
                    query: r.try_get(4)?,
                    normalized: r.try_get(5)?,
                    lang: r.try_get(6)?,
                    total: count(r, 7)?,
                    source: source(r, 8)?.unwrap_or(Source::Customer),
                    results: serde_json::from_str(r.try_get(9)?).unwrap_or_default(),
                    partial: r.try_get(10)?,
                    ui: r.try_get(16)?,
                }),
                "click" => Event::Click(Click {
                    at,
                    visitor,
                    search_id: search_id.unwrap_or_default(),
                    path: r.try_get(11)?,
                    position: count(r, 7)? as u32,
                }),
                "view" => Event::View(View {
                    at,
                    visitor,
                    path: r.try_get(11)?,
                    search_id,
                }),
                "vote" => Event::Vote(Vote {
                    at,
                    visitor,
                    path: r.try_get(11)?,
                    helpful: r.try_get(12)?,
                    reason: reason(r, 13)?,
                    comment: r.try_get(14)?,
                    id: None,
                }),
                "flag" => Event::Flag(Flag {
                    at,
                    visitor,
                    path: r.try_get(11)?,
                    reason: flag_reason(r, 13)?,
                    note: r.try_get(14)?,
                }),
                other => Event::Action(Action {
                    at,
                    visitor,
                    kind: ActionKind::parse(other).unwrap_or(ActionKind::ContactClicked),
                    path: r.try_get(11)?,
                    query: r.try_get(4)?,
                    search_id,
                    source: source(r, 8)?,
                }),
            })
        };
        self.scan(SQL, &[&since], decode, sink)
    }

    fn popular(&self, since: Millis, limit: usize) -> Result<Vec<(String, u64)>, MetricsError> {
        let limit = limit as i64;
        self.all(
            "SELECT path, count(*) AS n FROM views WHERE at >= $1
              GROUP BY path ORDER BY n DESC, path COLLATE \"C\" LIMIT $2",
            &[&since, &limit],
            |r| Ok((r.try_get(0)?, count(r, 1)?)),
        )
    }

    fn helpfulness(
        &self,
        paths: &[String],
        since: Millis,
    ) -> Result<HashMap<String, Tally>, MetricsError> {
        let mut out: HashMap<String, Tally> = paths
            .iter()
            .map(|p| (p.clone(), Tally::default()))
            .collect();
        let counted = self.all(
            "SELECT path, count(*) FILTER (WHERE helpful), count(*) FILTER (WHERE NOT helpful)
               FROM current_votes WHERE path = ANY($1) AND at >= $2 GROUP BY path",
            &[&paths, &since],
            |r| {
                Ok((
                    r.try_get::<_, String>(0)?,
                    Tally {
                        yes: count(r, 1)?,
                        no: count(r, 2)?,
                    },
                ))
            },
        )?;
        out.extend(counted);
        Ok(out)
    }

    fn current_vote(&self, visitor: &str, path: &str) -> Result<Option<Vote>, MetricsError> {
        Ok(self
            .all(
                "SELECT visitor, path, at, helpful, reason, comment FROM current_votes
                  WHERE visitor = $1 AND path = $2",
                &[&visitor, &path],
                vote,
            )?
            .pop())
    }

    fn customer_searches(
        &self,
        period: Range<Millis>,
        sink: Sink<'_, CustomerSearch>,
    ) -> Result<(), MetricsError> {
        self.scan(
            "SELECT search_id, at, visitor, query, normalized, lang, ui, total, results FROM searches
              WHERE at >= $1 AND at < $2 AND source = 'customer' AND NOT partial",
            &[&period.start, &period.end],
            |r| {
                Ok(CustomerSearch {
                    id: r.try_get(0)?,
                    at: r.try_get(1)?,
                    visitor: r.try_get(2)?,
                    query: r.try_get(3)?,
                    normalized: r.try_get(4)?,
                    lang: r.try_get(5)?,
                    ui: r.try_get(6)?,
                    total: count(r, 7)?,
                    results: serde_json::from_str(r.try_get(8)?).unwrap_or_default(),
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
              WHERE at >= $1 AND at < $2 AND source = 'ai' AND NOT partial",
            &[&period.start, &period.end],
            |r| {
                Ok(AiSearch {
                    at: r.try_get(0)?,
                    query: r.try_get(1)?,
                    normalized: r.try_get(2)?,
                    lang: r.try_get(3)?,
                    total: count(r, 4)?,
                    results: serde_json::from_str(&r.try_get::<_, String>(5)?).unwrap_or_default(),
                })
            },
            sink,
        )
    }

    fn clicks(&self, period: Range<Millis>, sink: Sink<'_, Click>) -> Result<(), MetricsError> {
        self.scan(
            "SELECT at, visitor, search_id, path, position FROM clicks
              WHERE at >= $1 AND at < $2",
            &[&period.start, &period.end],
            |r| {
                Ok(Click {
                    at: r.try_get(0)?,
                    visitor: r.try_get(1)?,
                    search_id: r.try_get(2)?,
                    path: r.try_get(3)?,
                    position: count(r, 4)? as u32,
                })
            },
            sink,
        )
    }

    fn daily_views(&self, period: Range<Millis>) -> Result<Vec<DailyViews>, MetricsError> {
        self.all(
            "SELECT path, at / $3, count(*) FROM views WHERE at >= $1 AND at < $2 GROUP BY 1, 2",
            &[&period.start, &period.end, &DAY],
            |r| {
                Ok(DailyViews {
                    path: r.try_get(0)?,
                    day: r.try_get(1)?,
                    views: count(r, 2)?,
                })
            },
        )
    }

    fn actions(
        &self,
        kind: ActionKind,
        period: Range<Millis>,
        sink: Sink<'_, Action>,
    ) -> Result<(), MetricsError> {
        self.scan(
            "SELECT at, visitor, path, query, search_id, source FROM actions
              WHERE kind = $3 AND at >= $1 AND at < $2",
            &[&period.start, &period.end, &kind.as_str()],
            |r| {
                Ok(Action {
                    at: r.try_get(0)?,
                    visitor: r.try_get(1)?,
                    kind,
                    path: r.try_get(2)?,
                    query: r.try_get(3)?,
                    search_id: r.try_get(4)?,
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
        // The visitors who contacted support, then each one's events in time order: one
        // sorted pass, however the events are spread.
        const SQL: &str = "
            WITH contacting AS (
                SELECT DISTINCT visitor FROM actions
                 WHERE kind = 'contact_clicked' AND visitor IS NOT NULL
                   AND at >= $1 AND at < $2::int8 + $3::int8)
            SELECT visitor, at, 0, search_id FROM searches
             WHERE visitor IN (SELECT visitor FROM contacting) AND at >= $1 AND at < $2
               AND source = 'customer' AND NOT partial
            UNION ALL
            SELECT visitor, at, 1, path FROM views
             WHERE visitor IN (SELECT visitor FROM contacting) AND at >= $1 AND at < $2
            UNION ALL
            SELECT visitor, at, 2, NULL FROM actions
             WHERE kind = 'contact_clicked' AND visitor IS NOT NULL
               AND at >= $1 AND at < $2::int8 + $3::int8
            ORDER BY 1, 2";
        let mut current: Option<Timeline> = None;
        self.scan(
            SQL,
            &[&period.start, &period.end, &window],
            |r| {
                Ok((
                    r.try_get::<_, String>(0)?,
                    r.try_get::<_, Millis>(1)?,
                    r.try_get::<_, i32>(2)?,
                    r.try_get::<_, Option<String>>(3)?,
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
              WHERE at >= $1 AND at < $2",
            &[&period.start, &period.end],
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
              WHERE at >= $1 AND at < $2",
            &[&period.start, &period.end],
            vote,
            sink,
        )
    }

    fn flags(&self, period: Range<Millis>, sink: Sink<'_, Flag>) -> Result<(), MetricsError> {
        self.scan(
            "SELECT at, visitor, path, reason, note FROM flags WHERE at >= $1 AND at < $2",
            &[&period.start, &period.end],
            |r| {
                Ok(Flag {
                    at: r.try_get(0)?,
                    visitor: r.try_get(1)?,
                    path: r.try_get(2)?,
                    reason: flag_reason(r, 3)?,
                    note: r.try_get(4)?,
                })
            },
            sink,
        )
    }

    fn totals(&self) -> Result<Totals, MetricsError> {
        self.pg.run(async |c| totals(&***c).await)
    }
}
