//! Ingestion benchmark: how many events a second `kb serve` takes, and what that does to
//! search latency.
//!
//! ```sh
//! cargo bench --bench ingest                  # 32 clients, 5 000 events/s, 10 s a phase
//! cargo bench --bench ingest -- 32 6000 20    # clients, offered rate, seconds
//! cargo bench --bench ingest -- postgres      # 3 replicas on one PostgreSQL
//! cargo bench --bench ingest -- postgres 32 5000 10 3   # … and the number of replicas
//! ```
//!
//! It starts the release `kb serve` on the sample articles with a fresh data folder (with
//! `postgres`: that many replicas on one database of a private PostgreSQL server, with
//! PostgreSQL's durable defaults, each request to the next replica in turn, as a
//! round-robin balancer would), then:
//! 1. measures `/api/search` alone (one client, a mix of queries in five languages);
//! 2. offers events at a fixed rate from N clients over loopback (four in five
//!    `/api/events`, one in five a `/api/feedback` vote, which is committed before its
//!    answer; every request from a new reader's address, as on a busy site behind a
//!    reverse proxy, so the per-address rate limits stay out of the way) and measures each
//!    request's latency from the moment it was due, so a stall is not hidden by the clients
//!    waiting for it; the search client measures alongside;
//! 3. lets the N clients send as fast as they are answered: the sustained maximum;
//! 4. stops the server gracefully and checks that every acknowledged event is stored.
//!
//! Targets (issue 4, 2 cores, client and server on the same machine): at least 5 000
//! events/s with p99 under 20 ms, and search latency at most doubled while it runs.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const QUERIES: &[&str] = &[
    "refund",
    "reset password",
    "grinder won't connect",
    "重設密碼",
    "退款",
    "пароль",
    "పాస్‌వర్డ్",
    "delivery tracking",
    "cancel subscription",
    "export my data",
];

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p / 100.0).round() as usize]
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Searches until `stop`; returns (round trip ms, server took_ms) samples.
fn search_loop(base: &str, stop: &AtomicBool) -> (Vec<f64>, Vec<f64>) {
    let agent = agent();
    let (mut rtt, mut took) = (Vec::new(), Vec::new());
    for i in 0usize.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let t = Instant::now();
        let mut r = agent
            .get(format!("{base}/api/search"))
            .query("q", QUERIES[i % QUERIES.len()])
            .header("dnt", "1")
            .call()
            .expect("search");
        let body: serde_json::Value = r.body_mut().read_json().expect("search json");
        rtt.push(t.elapsed().as_secs_f64() * 1000.0);
        took.push(body["took_ms"].as_f64().unwrap_or(f64::NAN));
        std::thread::sleep(Duration::from_millis(2));
    }
    (rtt, took)
}

fn main() {
    let mut args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let postgres = args.first().is_some_and(|a| a == "postgres");
    if postgres {
        args.remove(0);
    }
    let clients: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(32);
    let rate: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5000);
    let seconds: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10);
    let replicas: usize = args
        .get(3)
        .and_then(|a| a.parse().ok())
        .unwrap_or(if postgres { 3 } else { 1 });
    let root = env!("CARGO_MANIFEST_DIR");
    let articles = format!("{root}/articles");
    let tmp = tempfile::tempdir().unwrap();
    let mut paths: Vec<String> = Vec::new();
    for entry in walkdir::WalkDir::new(&articles) {
        let entry = entry.unwrap();
        let rel = entry
            .path()
            .strip_prefix(&articles)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel.ends_with(".md") && !rel.contains("two-factor") {
            paths.push(rel);
        }
    }

    let cluster = postgres.then(|| {
        kb::metrics::postgres::cluster::Cluster::start(true).expect("a PostgreSQL server")
    });
    let database = cluster.as_ref().map(|c| c.database());
    let url = database.as_ref().map(|d| d.url.clone());
    let mut children = Vec::new();
    let mut bases = Vec::new();
    for n in 0..replicas {
        let (child, base) = start(&articles, &tmp.path().join(format!("r{n}")), url.as_deref());
        children.push(child);
        bases.push(base);
    }
    let base = bases[0].clone();
    if postgres {
        println!(
            "{replicas} replicas on one PostgreSQL database ({})",
            url.as_deref().unwrap_or_default()
        );
    }
    let bases = Arc::new(bases);

    // 1. Search alone.
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    let b2 = base.clone();
    let baseline = std::thread::spawn(move || search_loop(&b2, &s2));
    std::thread::sleep(Duration::from_secs(4));
    stop.store(true, Ordering::Relaxed);
    let (mut base_rtt, mut base_took) = baseline.join().unwrap();

    // 2. Events offered at a fixed rate, search measured alongside.
    let paths = Arc::new(paths);
    let visitors = Arc::new(AtomicU64::new(1));
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    let b2 = base.clone();
    let searching = std::thread::spawn(move || search_loop(&b2, &s2));
    let paced = load(&bases, &paths, &visitors, clients, Some(rate), seconds);
    stop.store(true, Ordering::Relaxed);
    let (mut load_rtt, mut load_took) = searching.join().unwrap();

    // 3. As fast as answered.
    let saturated = load(&bases, &paths, &visitors, clients, None, seconds);

    // 3. Graceful stop (queued events are committed), then count what was stored.
    for child in &mut children {
        let _ = Command::new("kill").arg(child.id().to_string()).status();
        let _ = child.wait();
    }
    let reader = kb::metrics::Database::new(&tmp.path().join("r0").join("data"), url.as_deref())
        .open_reader()
        .unwrap()
        .unwrap();
    let mut stored = 0u64;
    reader
        .events_since(0, &mut |e| {
            stored += u64::from(matches!(
                e,
                kb::metrics::Event::Action(_) | kb::metrics::Event::Vote(_)
            ));
            Ok(())
        })
        .unwrap();
    drop(reader);
    drop(database);
    drop(cluster);

    let acked = paced.acked + saturated.acked;
    for (name, mut run) in [
        ("at a fixed rate", paced),
        ("as fast as answered", saturated),
    ] {
        println!(
            "events {name}: {clients} clients, {:.1} s, offered {}: {} acknowledged ({:.0}/s, {} votes committed before their answer), {} refused or failed",
            run.seconds,
            run.rate
                .map_or("as fast as answered".to_string(), |r| format!("{r}/s")),
            run.acked,
            run.acked as f64 / run.seconds,
            run.votes,
            run.refused
        );
        println!(
            "  latency from when due: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            pct(&mut run.latencies, 50.0),
            pct(&mut run.latencies, 99.0),
            pct(&mut run.latencies, 100.0)
        );
    }
    println!("  [targets: >= 5000 events/s with p99 < 20 ms]");
    println!(
        "stored after a graceful stop: {stored} of {acked} acknowledged{}",
        if stored == acked {
            ""
        } else {
            "  <-- MISMATCH"
        }
    );
    println!(
        "search alone: round trip p50 {:.2} ms, p99 {:.2} ms (server p50 {:.2} ms)",
        pct(&mut base_rtt, 50.0),
        pct(&mut base_rtt, 99.0),
        pct(&mut base_took, 50.0)
    );
    println!(
        "search while events arrive at {rate}/s: round trip p50 {:.2} ms, p99 {:.2} ms (server p50 {:.2} ms)   [target: at most doubled]",
        pct(&mut load_rtt, 50.0),
        pct(&mut load_rtt, 99.0),
        pct(&mut load_took, 50.0)
    );
}

/// What one load phase did.
struct Run {
    rate: Option<u64>,
    seconds: f64,
    acked: u64,
    votes: u64,
    refused: u64,
    latencies: Vec<f64>,
}

/// Posts events from `clients` threads for `seconds`: at `rate` events/s in all (each client
/// keeps its own schedule), or as fast as answered.
fn load(
    bases: &Arc<Vec<String>>,
    paths: &Arc<Vec<String>>,
    visitors: &Arc<AtomicU64>,
    clients: usize,
    rate: Option<u64>,
    seconds: u64,
) -> Run {
    let acked = Arc::new(AtomicU64::new(0));
    let votes = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let latencies: Arc<Mutex<Vec<f64>>> = Arc::default();
    let started = Instant::now();
    let end = started + Duration::from_secs(seconds);
    let interval = rate.map(|r| Duration::from_secs_f64(clients as f64 / r as f64));
    let workers: Vec<_> = (0..clients)
        .map(|c| {
            let (bases, acked, votes, refused, latencies, visitors, paths) = (
                bases.clone(),
                acked.clone(),
                votes.clone(),
                refused.clone(),
                latencies.clone(),
                visitors.clone(),
                paths.clone(),
            );
            std::thread::spawn(move || {
                let agent = agent();
                let mut mine = Vec::new();
                // Clients start spread over one interval, not all at once.
                let mut due = started + interval.map_or(Duration::ZERO, |i| i.mul_f64(c as f64 / clients as f64));
                for i in 0usize.. {
                    if interval.is_some() {
                        let now = Instant::now();
                        if due > now {
                            std::thread::sleep(due - now);
                        }
                        if due >= end {
                            break;
                        }
                    } else {
                        due = Instant::now();
                        if due >= end {
                            break;
                        }
                    }
                    let reader = visitors.fetch_add(1, Ordering::Relaxed);
                    let address = std::net::Ipv4Addr::from(0x0a00_0000 | (reader as u32 & 0x00ff_ffff))
                        .to_string();
                    let path = &paths[(c + i) % paths.len()];
                    let vote = i % 5 == 4;
                    let (route, body) = if vote {
                        (
                            "/api/feedback",
                            serde_json::json!({"path": path, "helpful": i % 2 == 0, "comment": "bench"}),
                        )
                    } else if i % 2 == 0 {
                        (
                            "/api/events",
                            serde_json::json!({"type": "link_inserted", "path": path, "query": "refund", "source": "agent"}),
                        )
                    } else {
                        ("/api/events", serde_json::json!({"type": "contact_clicked", "path": path}))
                    };
                    let base = &bases[(c + i) % bases.len()];
                    let r = agent
                        .post(format!("{base}{route}"))
                        .header("x-forwarded-for", &address)
                        .header("content-type", "application/json")
                        .send(body.to_string());
                    mine.push(due.elapsed().as_secs_f64() * 1000.0);
                    match r {
                        Ok(r) if r.status().as_u16() == 204 => {
                            acked.fetch_add(1, Ordering::Relaxed);
                            if vote {
                                votes.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        _ => {
                            refused.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    if let Some(step) = interval {
                        due += step;
                    }
                }
                latencies.lock().unwrap().extend(mine);
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    Run {
        rate,
        seconds: started.elapsed().as_secs_f64(),
        acked: acked.load(Ordering::Relaxed),
        votes: votes.load(Ordering::Relaxed),
        refused: refused.load(Ordering::Relaxed),
        latencies: latencies.lock().unwrap().clone(),
    }
}

/// Starts the release `kb serve` with its index and data in `dir` (and its metrics in the
/// database at `url`); returns it and its address once healthy.
fn start(
    articles: &str,
    dir: &std::path::Path,
    url: Option<&str>,
) -> (std::process::Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kb"));
    cmd.args([
        "serve",
        "--articles",
        articles,
        "--addr",
        "127.0.0.1:0",
        "--no-watch",
        // The clients play a proxy in front of many readers (X-Forwarded-For).
        "--trust-proxy",
        "127.0.0.1",
    ])
    .arg("--index")
    .arg(dir.join("index"))
    .arg("--data")
    .arg(dir.join("data"))
    .env("KB_LOG", "kb=info")
    .env_remove("KB_DATABASE_URL")
    .stderr(Stdio::piped())
    .stdout(Stdio::null());
    if let Some(url) = url {
        cmd.arg("--database").arg(url);
    }
    let mut child = cmd.spawn().expect("kb serve starts");
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if let Some(i) = line.find("listening on http://") {
                let _ = tx.send(line[i + "listening on ".len()..].trim().to_string());
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("kb serve listens");
    let probe = agent();
    while probe
        .get(format!("{base}/healthz"))
        .call()
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
        != 200
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, base)
}
