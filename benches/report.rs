//! Report benchmark: how long the content-gap report takes on a million recorded events, and
//! on a history where a few visitors have thousands of contact clicks each.
//!
//! ```sh
//! cargo bench --bench report                       # both scenarios, 5 runs each
//! cargo bench --bench report -- uniform 200000 3   # one scenario: events, runs
//! cargo bench --bench report -- skewed 0 3         # the contact flood only, 3 runs
//! cargo bench --bench report -- uniform 40000 1 /tmp/kb  # …and keep the help center in /tmp/kb
//! cargo bench --bench report -- postgres uniform   # the events in PostgreSQL instead of SQLite
//! ```
//!
//! *uniform* makes the synthetic history the report's tests use (`tests/history.rs`: the
//! sample articles and the report's fixture articles in a backdated git repository, 60 days of searches, clicks, views, votes,
//! contact clicks and agents' links in five languages, with planted gaps), scaled to the
//! number of events asked for, stores it in a fresh metrics database, then times building
//! the 30-day report (every query, the closest-article lookups, the rules) and writing it as
//! Markdown and HTML.
//!
//! *skewed* is that history at its smallest plus a script's flood (issue 11): 10 visitors
//! with 100 000 searches, 50 000 views and 10 000 contact clicks between them, each search
//! followed by a contact click within seconds. Attributing contact clicks to the searches and
//! views before them must stay linear in the events, whoever made them.
//!
//! With `postgres`, the events are stored in a database of a private PostgreSQL server
//! (started for the run, with PostgreSQL's durable defaults) and the report reads them there.
//!
//! Targets (2 cores): under 2 s for one million events (issue 6), and for the flood (issue 11),
//! on either backend (issue 12).

#[path = "../tests/history.rs"]
mod history;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use kb::index::{SearchIndex, writer};
use kb::metrics::Database;
use kb::metrics::postgres::cluster::{self, Cluster};
use kb::report::{self, ArticleInfo, Cancel, Words, format};
use kb::search::{Engine, Ranking};

fn main() {
    let mut args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let postgres = args.first().is_some_and(|a| a == "postgres");
    if postgres {
        args.remove(0);
    }
    let server = postgres.then(|| Cluster::start(true).expect("a PostgreSQL server"));
    let scenario = match args.first().map(String::as_str) {
        Some(s @ ("uniform" | "skewed")) => {
            let s = s.to_string();
            args.remove(0);
            Some(s)
        }
        _ => None,
    };
    let target: usize = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let runs: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5);
    let temp = tempfile::tempdir().unwrap();
    let root: PathBuf = args
        .get(2)
        .map_or_else(|| temp.path().to_path_buf(), PathBuf::from);
    let articles = root.join("articles");
    if !articles.exists() {
        history::help_center(&articles);
    }
    let now = kb::metrics::now();
    if !articles.join(".git").exists() {
        history::git_history(&articles, now);
    }

    let idx = SearchIndex::in_memory().unwrap();
    let mut w = writer::open_writer(&idx).unwrap();
    writer::sync(&idx, &mut w, &articles, &Default::default()).unwrap();
    let engine = Engine::new(Arc::new(idx), Ranking::default());
    let infos = ArticleInfo::from_catalog(&engine.index().catalog(), &articles);
    let queries = history::article_queries(&articles);
    let bench = Bench {
        articles: &articles,
        engine: &engine,
        runs,
    };

    if scenario.as_deref() != Some("skewed") {
        let started = Instant::now();
        let mut opts = history::Options::new(now);
        let one = history::events(&engine, &infos, &queries, opts).len();
        opts.scale = (target as f64 / one as f64).round().max(1.0) as u32;
        let events = history::events(&engine, &infos, &queries, opts);
        let (data, _db) = place(&root.join("data"), server.as_ref());
        let size = store(&data, &events);
        println!(
            "uniform history: {} events (scale {}) over {} days, stored in {:.1} s; database {:.0} MB",
            events.len(),
            opts.scale,
            opts.days,
            started.elapsed().as_secs_f64(),
            size as f64 / 1e6
        );
        drop(events);
        bench.time("uniform", &data);
    }
    if scenario.as_deref() != Some("uniform") {
        let started = Instant::now();
        let mut events = history::events(&engine, &infos, &queries, history::Options::new(now));
        let background = events.len();
        events.extend(history::contact_flood(now, 10, 100_000, 10_000));
        let (data, _db) = place(&root.join("data-skewed"), server.as_ref());
        let size = store(&data, &events);
        println!(
            "skewed history: {background} events of background and {} of a flood (10 visitors: \
             100 000 searches, 50 000 views, 10 000 contact clicks), stored in {:.1} s; database {:.0} MB",
            events.len() - background,
            started.elapsed().as_secs_f64(),
            size as f64 / 1e6
        );
        drop(events);
        bench.time("skewed", &data);
    }
}

/// Where a scenario's events go: a fresh SQLite folder, or a new database on `server`
/// (kept as long as the returned guard).
fn place(folder: &Path, server: Option<&Cluster>) -> (Database, Option<cluster::Database>) {
    match server {
        Some(server) => {
            let db = server.database();
            (Database::Postgres(db.url.clone()), Some(db))
        }
        None => {
            if folder.exists() {
                std::fs::remove_dir_all(folder).unwrap();
            }
            (Database::Sqlite(folder.to_path_buf()), None)
        }
    }
}

/// Stores `events` in the fresh metrics database `data`; returns its size in bytes (SQLite's
/// file; 0 for PostgreSQL).
fn store(data: &Database, events: &[kb::metrics::Event]) -> u64 {
    let mut store = data.open_store().unwrap();
    for chunk in events.chunks(20_000) {
        store.append(chunk).unwrap();
    }
    match data {
        Database::Sqlite(folder) => std::fs::metadata(folder.join(kb::metrics::sqlite::FILE_NAME))
            .map(|m| m.len())
            .unwrap_or(0),
        Database::Postgres(_) => 0,
    }
}

struct Bench<'a> {
    articles: &'a Path,
    engine: &'a Engine,
    runs: usize,
}

impl Bench<'_> {
    /// Times the 30-day report on the database in `data`, `runs` times.
    fn time(&self, name: &str, data: &Database) {
        let store = data.open_reader().unwrap().unwrap();
        let words = Words::english();
        let mut times = Vec::new();
        let mut last = None;
        for run in 0..self.runs {
            let started = Instant::now();
            let r = report::generate(
                &*store,
                self.articles,
                self.engine,
                30 * history::DAY,
                kb::metrics::now(),
                &Cancel::default(),
            )
            .unwrap();
            let mut out = Vec::new();
            format::write(&r, format::Format::Markdown, &words, &mut out).unwrap();
            format::write(&r, format::Format::Html, &words, &mut out).unwrap();
            let took = started.elapsed().as_secs_f64();
            println!("{name} run {}: {:.3} s", run + 1, took);
            times.push(took);
            last = Some(r);
        }
        times.sort_by(|a, b| a.total_cmp(b));
        let r = last.unwrap();
        println!(
            "{name}: report of 30 days: median {:.3} s, min {:.3} s, max {:.3} s over {} runs \
             ({} searches in the period, {} contact clicks, {} to write, {} to update)",
            times[times.len() / 2],
            times[0],
            times[times.len() - 1],
            self.runs,
            r.summary.searches,
            r.summary.contact_clicks,
            r.to_write.len(),
            r.to_update.len()
        );
    }
}
