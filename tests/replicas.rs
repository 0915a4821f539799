//! Several `kb serve` on one PostgreSQL database: every acknowledged write from every
//! replica is stored, one killed mid-load included; the replicas agree on the report,
//! helpfulness and visitors; a database restart loses nothing acknowledged and never blocks
//! searches; `kb migrate-data` moves a SQLite history across.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::monitoring::{scrape, value};
use crate::util::{BROWSER, Backend, Dir, Server, VoteLoad, exported, wait_for};
use kb::metrics::postgres::cluster::Cluster;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

const PATHS: [&str; 4] = [
    "en/billing/refunds.md",
    "en/billing/invoices.md",
    "en/account/reset-password.md",
    "en/shipping/track-order.md",
];

/// Replica `n` of the folder's help center: its own index and data folder (so the visitor key
/// can only come from the database), behind a proxy that says who each reader is.
fn replica(dir: &Dir, n: usize) -> Server {
    let index = format!("index-{n}");
    let data = format!("data-{n}");
    Server::start_with_env(
        dir,
        &[
            "--no-watch",
            "--index",
            &index,
            "--data",
            &data,
            "--trust-proxy",
            "127.0.0.1",
        ],
        &[("KB_ADMIN_TOKEN", TOKEN)],
    )
}

#[test]
fn replicas_store_every_acknowledged_vote_and_agree_on_the_report() {
    let dir = Dir::fixture("help-center").on(Backend::Postgres);
    let replicas: Vec<Server> = (0..3).map(|n| replica(&dir, n)).collect();
    let bases: Vec<String> = replicas.iter().map(|s| s.base.clone()).collect();

    // A cookie issued by one replica is good on the others: they share the key.
    let (id, cookie) = replicas[0].new_visitor();
    let r = replicas[1].post(
        "/api/feedback",
        &[BROWSER, ("cookie", &cookie)],
        r#"{"path": "en/billing/refunds.md", "helpful": false, "reason": "outdated"}"#,
    );
    assert_eq!(r.status, 204, "{}", r.body);
    let reader = dir.reader().unwrap();
    assert_eq!(
        reader
            .current_vote(&id, "en/billing/refunds.md")
            .unwrap()
            .map(|v| v.helpful),
        Some(false)
    );

    // Many readers vote, each request to the next replica in turn; replica 2 dies mid-load.
    let load = VoteLoad::start(&bases, 12, &PATHS);
    load.wait_for(200);
    let mut replicas = replicas;
    load.mark_dead(2);
    replicas.pop().unwrap().kill();
    let killed_at = load.acked();
    load.wait_for(killed_at + 200);
    let acked = load.stop();
    assert!(acked.len() >= killed_at + 200, "only {} votes", acked.len());

    // Every acknowledged vote is in the export.
    let stored: HashSet<String> = exported(&dir)
        .iter()
        .filter(|e| e["type"] == "feedback")
        .filter_map(|e| e["comment"].as_str().map(str::to_string))
        .collect();
    let missing: Vec<&String> = acked.iter().filter(|c| !stored.contains(*c)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged votes lost, e.g. {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(5)]
    );

    // The two replicas left say the same, in the report and in the agent panel.
    let bearer = format!("Bearer {TOKEN}");
    let report = |s: &Server| -> Value {
        let r = s.request(
            "GET",
            "/api/report?since=30d",
            &[("authorization", &bearer)],
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    };
    let (a, b) = (report(&replicas[0]), report(&replicas[1]));
    assert_eq!(a["summary"], b["summary"]);
    assert_eq!(a["to_update"], b["to_update"]);
    // Each reader's latest vote on each article counts.
    assert!(
        a["summary"]["votes"].as_u64().unwrap() > acked.len() as u64 / 2,
        "{}",
        a["summary"]
    );
    let unhelpful: Vec<&Value> = a["to_update"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "unhelpful")
        .collect();
    assert_eq!(unhelpful[0]["path"], PATHS[0], "{:#}", a["to_update"]);
    let helpful = |s: &Server| -> Vec<Value> {
        let (status, json) = s.search(&[("q", "refund"), ("source", "agent")]);
        assert_eq!(status, 200);
        json["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| json!([r["path"], r["helpful"]]))
            .collect()
    };
    assert_eq!(helpful(&replicas[0]), helpful(&replicas[1]));
}

#[test]
fn a_database_restart_loses_nothing_acknowledged_and_blocks_no_search() {
    // A server of its own: this one is stopped and started again.
    let cluster = Cluster::start(false).unwrap_or_else(|e| panic!("{e}"));
    let database = cluster.database();
    let dir = Dir::fixture("help-center");
    let server = Server::start_with_env(
        &dir,
        &[
            "--no-watch",
            "--trust-proxy",
            "127.0.0.1",
            "--metrics-addr",
            "127.0.0.1:0",
        ],
        &[("KB_DATABASE_URL", database.url.as_str())],
    );
    // Polls /metrics until `done` holds of it (the writer publishes its backlog as it goes).
    let metrics_until = |what: &str, done: &dyn Fn(&str) -> bool| {
        let started = Instant::now();
        loop {
            let text = scrape(&server);
            if done(&text) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "/metrics never showed {what}:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let (_, cookie) = server.new_visitor();
    let vote = |helpful: bool| {
        server.post(
            "/api/feedback",
            &[BROWSER, ("cookie", &cookie)],
            &json!({"path": "en/billing/refunds.md", "helpful": helpful}).to_string(),
        )
    };
    let event = |query: &str| {
        server.post(
            "/api/events",
            &[BROWSER, ("cookie", &cookie)],
            &json!({"type": "link_inserted", "path": "en/billing/invoices.md", "query": query, "source": "agent"}).to_string(),
        )
    };
    assert_eq!(vote(true).status, 204);

    cluster.stop().unwrap();
    // Searches go on as before; events are taken and wait; votes are refused, not promised.
    for i in 0..5 {
        let started = Instant::now();
        let (status, _) = server.search(&[("q", "refund"), ("source", "agent")]);
        assert_eq!(status, 200);
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "a search waited {:?} for the database",
            started.elapsed()
        );
        assert_eq!(event(&format!("during the outage {i}")).status, 204);
    }
    let refused = vote(false);
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(refused.body.contains("try again"), "{}", refused.body);
    // An operator sees the outage: events waiting, database errors.
    metrics_until("the outage", &|text| {
        value(text, "kb_events_queued") >= 5.0 && value(text, "kb_database_errors_total") >= 1.0
    });

    cluster.start_again().unwrap();
    let started = Instant::now();
    for attempt in 0.. {
        // Each attempt from another reader, so that the rate limits stay out of the way.
        let r = server.post(
            "/api/feedback",
            &[BROWSER, ("x-forwarded-for", &format!("10.{attempt}.0.1"))],
            r#"{"path": "en/billing/refunds.md", "helpful": false}"#,
        );
        if r.status == 204 {
            break;
        }
        assert_eq!(r.status, 503, "{}", r.body);
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "votes still refused after the database came back:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // What waited is stored, once, and nothing was lost.
    let dir = dir.on_database(&database.url);
    let events = wait_for(&dir, "the events of the outage", |e| {
        e.iter()
            .filter(|e| {
                e["query"]
                    .as_str()
                    .is_some_and(|q| q.starts_with("during the outage"))
            })
            .count()
            >= 5
    });
    let outage: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e["query"]
                .as_str()
                .is_some_and(|q| q.starts_with("during the outage"))
        })
        .collect();
    assert_eq!(outage.len(), 5, "{outage:#?}");
    let votes: Vec<&Value> = events.iter().filter(|e| e["type"] == "feedback").collect();
    assert_eq!(
        votes.iter().map(|v| &v["helpful"]).collect::<Vec<_>>(),
        [&json!(true), &json!(false)],
        "the refused vote is not stored"
    );
    let health: Value = serde_json::from_str(&server.get("/healthz").1).unwrap();
    assert_eq!(health["events_lost"], 0, "{health}");
    metrics_until("the backlog stored", &|text| {
        value(text, "kb_events_queued") == 0.0 && value(text, "kb_events_stored_total") >= 7.0
    });
}

#[test]
fn a_sqlite_history_moves_to_postgres_with_its_visitors() {
    // A server on SQLite records a visit.
    let dir = Dir::fixture("help-center");
    let server = Server::start(&dir, &[]);
    let (id, cookie) = server.new_visitor();
    for (path, helpful) in [
        ("en/billing/refunds.md", true),
        ("en/billing/refunds.md", false),
        ("en/billing/invoices.md", true),
    ] {
        let r = server.post(
            "/api/feedback",
            &[BROWSER, ("cookie", &cookie)],
            &json!({"path": path, "helpful": helpful}).to_string(),
        );
        assert_eq!(r.status, 204);
    }
    server.request(
        "GET",
        "/api/search?q=refund",
        &[BROWSER, ("cookie", &cookie)],
        None,
    );
    wait_for(&dir, "the search", |e| {
        e.iter().any(|e| e["type"] == "search")
    });
    assert!(server.terminate(Duration::from_secs(20)));
    let before = exported(&dir);

    let database = Cluster::shared().database();
    let out = dir.run(&[
        "migrate-data",
        "--from",
        "sqlite:data",
        "--to",
        &database.url,
    ]);
    out.assert_ok();
    assert!(out.stdout.contains("counts checked"), "{}", out.stdout);
    let count = |name: &str| -> Option<u64> {
        out.stdout.lines().find_map(|l| {
            let (label, n) = l.trim().rsplit_once(' ')?;
            (label.trim() == name).then(|| n.parse().ok())?
        })
    };
    assert_eq!(
        (count("votes"), count("current votes"), count("searches")),
        (Some(3), Some(2), Some(1)),
        "{}",
        out.stdout
    );
    // Copying again would store everything twice: refused.
    let again = dir.run(&["migrate-data", "--to", &database.url]);
    assert_eq!(again.code, Some(2));
    assert!(again.stderr.contains("already holds"), "{}", again.stderr);
    let bad = dir.run(&[
        "migrate-data",
        "--from",
        "mysql:data",
        "--to",
        &database.url,
    ]);
    assert_eq!(bad.code, Some(2));
    assert!(
        bad.stderr.contains("--from must be sqlite"),
        "{}",
        bad.stderr
    );

    // The same events, and the readers' cookies still good on a server on the database.
    let moved = dir.on_database(&database.url);
    let sorted = |events: Vec<Value>| {
        let mut lines: Vec<String> = events.iter().map(Value::to_string).collect();
        lines.sort();
        lines
    };
    assert_eq!(sorted(exported(&moved)), sorted(before));
    let server = Server::start(&moved, &["--data", "elsewhere"]);
    let r = server.post(
        "/api/feedback",
        &[BROWSER, ("cookie", &cookie)],
        r#"{"path": "en/shipping/track-order.md", "helpful": true}"#,
    );
    assert_eq!(r.status, 204);
    assert!(
        moved
            .reader()
            .unwrap()
            .current_vote(&id, "en/shipping/track-order.md")
            .unwrap()
            .is_some(),
        "the visitor of the SQLite server is known"
    );
}
