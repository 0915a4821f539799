//! Report benchmark: how long the content-gap report takes on a million recorded events.
//!
//! ```sh
//! cargo bench --bench report                     # 1 000 000 events, 5 runs
//! cargo bench --bench report -- 200000 3         # events, runs
//! cargo bench --bench report -- 40000 1 /tmp/kb  # …and keep the help center in /tmp/kb
//! ```
//!
//! It makes the synthetic history the report's tests use (`tests/history.rs`: the sample
//! articles in a backdated git repository, 60 days of searches, clicks, views, votes,
//! contact clicks and agents' links in five languages, with planted gaps), scaled to the
//! number of events asked for, stores it in a fresh metrics database, then times building
//! the 30-day report (every SQL aggregate, the closest-article lookups, the rules) and
//! writing it as Markdown and HTML.
//!
//! Target (issue 6, 2 cores): under 2 s for one million events.

#[path = "../tests/history.rs"]
mod history;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use kb::index::{SearchIndex, writer};
use kb::metrics::EventStore;
use kb::metrics::sqlite::SqliteStore;
use kb::report::{self, ArticleInfo, format};
use kb::search::{Engine, Ranking};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
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
    let data = root.join("data");
    if data.exists() {
        std::fs::remove_dir_all(&data).unwrap();
    }
    if !articles.exists() {
        history::copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("articles"),
            &articles,
        );
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

    let started = Instant::now();
    let mut opts = history::Options::new(now);
    let one = history::events(&engine, &infos, &queries, opts).len();
    opts.scale = (target as f64 / one as f64).round().max(1.0) as u32;
    let events = history::events(&engine, &infos, &queries, opts);
    let mut store = SqliteStore::open(&data).unwrap();
    for chunk in events.chunks(20_000) {
        store.append(chunk).unwrap();
    }
    let size = std::fs::metadata(data.join(kb::metrics::sqlite::FILE_NAME))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "history: {} events (scale {}) over {} days, stored in {:.1} s; database {:.0} MB",
        events.len(),
        opts.scale,
        opts.days,
        started.elapsed().as_secs_f64(),
        size as f64 / 1e6
    );
    drop(events);
    drop(store);

    let store = SqliteStore::open_read_only(&data).unwrap().unwrap();
    let mut times = Vec::new();
    let mut last = None;
    for run in 0..runs {
        let started = Instant::now();
        let r = report::generate(
            &store,
            &articles,
            &engine,
            30 * history::DAY,
            kb::metrics::now(),
        )
        .unwrap();
        let mut out = Vec::new();
        format::write(&r, format::Format::Markdown, &mut out).unwrap();
        format::write(&r, format::Format::Html, &mut out).unwrap();
        let took = started.elapsed().as_secs_f64();
        println!("run {}: {:.3} s", run + 1, took);
        times.push(took);
        last = Some(r);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let r = last.unwrap();
    println!(
        "report of 30 days: median {:.3} s, min {:.3} s, max {:.3} s over {runs} runs \
         ({} searches in the period, {} to write, {} to update)",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        r.summary.searches,
        r.to_write.len(),
        r.to_update.len()
    );
}
