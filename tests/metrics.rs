//! Recording what readers do, against a real `kb serve`, read back with `kb export`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::util::{BROWSER, Backend, Dir, Server, exported, on_both_backends, wait_for};

on_both_backends!(
    a_visit_is_recorded_from_search_to_vote,
    traditional_and_simplified_searches_group_together,
    agent_searches_are_marked_and_paging_is_not_a_new_search,
    do_not_track_is_counted_without_a_visitor_and_crawlers_not_at_all,
    a_changed_vote_replaces_the_old_one,
    bad_bodies_and_unknown_articles_are_400_with_a_message,
    a_flooding_visitor_is_rate_limited_without_affecting_others,
    retention_deletes_old_events,
    export_writes_jsonl_and_csv_for_a_period,
    acknowledged_votes_survive_kill_9,
    r14_a_reason_completes_its_vote_and_a_forged_id_completes_nobody_elses,
);

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

fn a_visit_is_recorded_from_search_to_vote(backend: Backend) {
    let dir = Dir::fixture("help-center").on(backend);
    let s = Server::start(&dir, &[]);

    // The home page gives the reader an id; the API never does.
    let home = s.request("GET", "/en/", &[BROWSER], None);
    assert_eq!(home.status, 200);
    let visitor = home.visitor().expect("a page sets kb_visitor");
    let set_cookie = &home.set_cookie[0];
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let c = home.visitor_cookie().unwrap();
    let reply = s.request(
        "GET",
        "/api/search?q=Refunds%20AND%20returns&lang=en",
        &[BROWSER, ("cookie", &c)],
        None,
    );
    assert_eq!(reply.status, 200);
    assert!(reply.set_cookie.is_empty(), "{:?}", reply.set_cookie);
    let search_id = reply.json()["search_id"].as_str().unwrap().to_string();

    let page = s.request(
        "GET",
        &format!("/en/billing/refunds?s={search_id}&r=1"),
        &[BROWSER, ("cookie", &c)],
        None,
    );
    assert_eq!(page.status, 200);
    assert!(
        page.set_cookie.is_empty(),
        "a known visitor gets no new cookie"
    );
    // minijinja escapes `/` in attributes too (&#x2f;), which browsers read as `/`. Without
    // --base-url the canonical address is relative (a request's Host is not to be trusted in
    // a cacheable page).
    let canonical = page.body.replace("&#x2f;", "/");
    assert!(
        canonical.contains(r#"<link rel="canonical" href="/en/billing/refunds">"#),
        "{canonical}"
    );

    let vote = s.post(
        "/api/feedback",
        &[BROWSER, ("cookie", &c), ("content-type", "application/json")],
        r#"{"path": "en/billing/refunds.md", "helpful": false, "reason": "outdated", "comment": "The 30 days are 14 now."}"#,
    );
    assert_eq!(vote.status, 204, "{}", vote.body);
    let contact = s.post(
        "/api/events",
        &[BROWSER, ("cookie", &c)],
        &json!({"type": "contact_clicked", "path": "en/billing/refunds.md", "search_id": search_id}).to_string(),
    );
    assert_eq!(contact.status, 204, "{}", contact.body);

    let events = wait_for(&dir, "the whole visit", |e| {
        ["search", "click", "view", "feedback", "contact_clicked"]
            .iter()
            .all(|k| !of_type(e, k).is_empty())
    });
    let search = of_type(&events, "search")[0];
    assert_eq!(search["query"], "Refunds AND returns");
    assert_eq!(search["normalized"], "refund return");
    assert_eq!(search["lang"], "en");
    assert_eq!(search["source"], "customer");
    assert_eq!(search["visitor"], visitor.as_str());
    assert_eq!(search["search_id"], search_id.as_str());
    assert!(search["total"].as_u64().unwrap() >= 1);
    let click = of_type(&events, "click")[0];
    assert_eq!(
        (&click["path"], &click["position"]),
        (&json!("en/billing/refunds.md"), &json!(1))
    );
    assert_eq!(click["search_id"], search_id.as_str());
    assert_eq!(of_type(&events, "view")[0]["search_id"], search_id.as_str());
    let feedback = of_type(&events, "feedback")[0];
    assert_eq!(feedback["helpful"], false);
    assert_eq!(feedback["reason"], "outdated");
    assert_eq!(feedback["comment"], "The 30 days are 14 now.");
    assert_eq!(feedback["visitor"], visitor.as_str());
}

fn traditional_and_simplified_searches_group_together(backend: Backend) {
    let dir = Dir::fixture("help-center").on(backend);
    let s = Server::start(&dir, &[]);
    for q in ["重設密碼", "重设密码", "密码 重设"] {
        s.request(
            "GET",
            &format!("/api/search?q={}", urlencode(q)),
            &[BROWSER],
            None,
        );
    }
    let events = wait_for(&dir, "three searches", |e| of_type(e, "search").len() == 3);
    let keys: Vec<&Value> = of_type(&events, "search")
        .iter()
        .map(|e| &e["normalized"])
        .collect();
    assert!(keys.iter().all(|k| *k == keys[0]), "{keys:?}");
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn agent_searches_are_marked_and_paging_is_not_a_new_search(backend: Backend) {
    let dir = Dir::fixture("help-center").on(backend);
    let s = Server::start(&dir, &[]);
    s.request("GET", "/api/search?q=refund&source=agent", &[BROWSER], None);
    s.request("GET", "/api/search?q=refund&offset=1", &[BROWSER], None);
    s.request("GET", "/api/search?q=ref&partial=1", &[BROWSER], None);
    s.request("GET", "/api/search?q=", &[BROWSER], None);
    let events = wait_for(&dir, "two searches", |e| of_type(e, "search").len() >= 2);
    std::thread::sleep(Duration::from_millis(300));
    let events = if of_type(&events, "search").len() == 2 {
        exported(&dir)
    } else {
        events
    };
    let searches = of_type(&events, "search");
    assert_eq!(searches.len(), 2, "{searches:#?}");
    assert_eq!(searches[0]["source"], "agent");
    assert_eq!(searches[1]["partial"], true);
}

fn do_not_track_is_counted_without_a_visitor_and_crawlers_not_at_all(backend: Backend) {
    let dir = Dir::fixture("help-center").on(backend);
    let s = Server::start(&dir, &[]);
    for h in [("dnt", "1"), ("sec-gpc", "1")] {
        let page = s.request("GET", "/en/shipping/track-order", &[BROWSER, h], None);
        assert!(page.set_cookie.is_empty(), "{h:?} got a cookie");
        let r = s.request("GET", "/api/search?q=shipping", &[BROWSER, h], None);
        assert_eq!(r.status, 200);
        assert!(r.set_cookie.is_empty(), "{h:?} got a cookie");
        let v = s.post(
            "/api/feedback",
            &[BROWSER, h],
            r#"{"path": "en/shipping/track-order.md", "helpful": true}"#,
        );
        assert_eq!(v.status, 204);
    }
    let googlebot = (
        "user-agent",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    );
    let r = s.request("GET", "/api/search?q=invoice", &[googlebot], None);
    assert_eq!(r.status, 200);
    assert!(r.set_cookie.is_empty());
    assert_eq!(
        s.request("GET", "/en/billing/invoices", &[googlebot], None)
            .status,
        200
    );

    wait_for(&dir, "DNT events", |e| {
        of_type(e, "search").len() == 2
            && of_type(e, "feedback").len() == 2
            && of_type(e, "view").len() == 2
    });
    std::thread::sleep(Duration::from_millis(300));
    let events = exported(&dir);
    assert!(
        events.iter().all(|e| e.get("visitor").is_none()),
        "{events:#?}"
    );
    assert!(
        events.iter().all(|e| e["query"] != "invoice"),
        "crawler counted"
    );
    assert!(
        of_type(&events, "view")
            .iter()
            .all(|v| v["path"] != "en/billing/invoices.md"),
        "crawler view counted"
    );
}

fn a_changed_vote_replaces_the_old_one(backend: Backend) {
    let dir = Dir::fixture("help-center").on(backend);
    let s = Server::start(&dir, &[]);
    let (visitor, c) = s.new_visitor();
    let visitor = visitor.as_str();
    for body in [
        r#"{"path": "en/billing/refunds.md", "helpful": true}"#,
        r#"{"path": "en/billing/refunds.md", "helpful": false, "reason": "unclear"}"#,
        r#"{"path": "en/billing/invoices.md", "helpful": true}"#,
    ] {
        assert_eq!(
            s.post("/api/feedback", &[BROWSER, ("cookie", &c)], body)
                .status,
            204
        );
    }
    // Votes are committed before the answer: they are there at once.
    let store = dir.reader().unwrap();
    let current = store
        .current_vote(visitor, "en/billing/refunds.md")
        .unwrap()
        .unwrap();
    assert_eq!(
        (current.helpful, current.reason),
        (false, Some(kb::metrics::Reason::Unclear))
    );
    let (mut counted, mut history) = (0, 0);
    store
        .current_votes(0..kb::metrics::Millis::MAX, &mut |_| {
            counted += 1;
            Ok(())
        })
        .unwrap();
    store
        .votes(0..kb::metrics::Millis::MAX, &mut |_| {
            history += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(counted, 2);
    assert_eq!(history, 3);
}

fn bad_bodies_and_unknown_articles_are_400_with_a_message(backend: Backend) {
    let dir = Dir::fixture("help-center").on(backend);
    let s = Server::start(&dir, &[]);
    let huge = format!(
        r#"{{"path": "en/billing/refunds.md", "helpful": false, "comment": "{}"}}"#,
        "x".repeat(20_000)
    );
    let long_comment = format!(
        r#"{{"path": "en/billing/refunds.md", "helpful": false, "comment": "{}"}}"#,
        "é".repeat(2001)
    );
    for (route, body, word) in [
        ("/api/feedback", "", "JSON"),
        ("/api/feedback", "{not json", "JSON"),
        ("/api/feedback", "[1, 2]", "JSON"),
        ("/api/feedback", r#"{"helpful": true}"#, "path"),
        (
            "/api/feedback",
            r#"{"path": "en/billing/refunds.md", "helpful": "yes"}"#,
            "helpful",
        ),
        (
            "/api/feedback",
            r#"{"path": "en/nope.md", "helpful": true}"#,
            "unknown article",
        ),
        (
            "/api/feedback",
            r#"{"path": "en/account/two-factor.md", "helpful": true}"#,
            "unknown article",
        ),
        (
            "/api/feedback",
            r#"{"path": "en/billing/refunds.md", "helpful": false, "reason": "boring"}"#,
            "reason",
        ),
        (
            "/api/feedback",
            r#"{"path": "en/billing/refunds.md", "helpful": true, "reason": "unclear"}"#,
            "reason",
        ),
        ("/api/feedback", huge.as_str(), "larger than"),
        ("/api/feedback", long_comment.as_str(), "comment"),
        ("/api/events", r#"{"type": "purchase"}"#, "type"),
        (
            "/api/events",
            r#"{"type": "link_inserted", "path": "../../etc/passwd"}"#,
            "unknown article",
        ),
        (
            "/api/events",
            r#"{"type": "link_inserted", "search_id": "<script>"}"#,
            "search_id",
        ),
        (
            "/api/events",
            r#"{"type": "link_inserted", "source": "robot"}"#,
            "source",
        ),
        (
            "/api/events",
            r#"{"path": "en/billing/refunds.md"}"#,
            "type",
        ),
    ] {
        let r = s.post(route, &[BROWSER], body);
        assert_eq!(r.status, 400, "{route} {body:.80}: {}", r.body);
        let error = r.json()["error"].as_str().unwrap().to_string();
        assert!(error.contains(word), "{route} {body:.80}: {error}");
    }
    // A body a page on another site could send without asking (text/plain, a form) is not
    // JSON to kb: tests/security.rs checks nothing is stored.
    let r = s.post(
        "/api/events",
        &[BROWSER, ("content-type", "text/plain")],
        r#"{"type": "link_inserted", "path": "en/billing/refunds.md", "query": "refund", "source": "agent"}"#,
    );
    assert_eq!(r.status, 415, "{}", r.body);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("application/json")
    );
}

fn a_flooding_visitor_is_rate_limited_without_affecting_others(backend: Backend) {
    let dir = Dir::fixture("help-center").on(backend);
    let s = Server::start(&dir, &[]);
    let (_, flooder) = s.new_visitor();
    let vote = r#"{"path": "en/billing/refunds.md", "helpful": true}"#;
    let statuses: Vec<u16> = (0..40)
        .map(|_| {
            s.post("/api/feedback", &[BROWSER, ("cookie", &flooder)], vote)
                .status
        })
        .collect();
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(statuses.iter().take(10).all(|&c| c == 204), "{statuses:?}");
    let (_, other) = s.new_visitor();
    assert_eq!(
        s.post("/api/feedback", &[BROWSER, ("cookie", &other)], vote)
            .status,
        204
    );

    let event = r#"{"type": "contact_clicked"}"#;
    let statuses: Vec<u16> = (0..300)
        .map(|_| {
            s.post("/api/events", &[BROWSER, ("cookie", &flooder)], event)
                .status
        })
        .collect();
    assert!(statuses.contains(&429), "events not limited");
    let r = s.post("/api/events", &[BROWSER, ("cookie", &flooder)], event);
    if r.status == 429 {
        assert!(r.body.contains("try again"), "{}", r.body);
    }
    assert_eq!(
        s.post("/api/events", &[BROWSER, ("cookie", &other)], event)
            .status,
        204
    );
}

fn retention_deletes_old_events(backend: Backend) {
    use kb::metrics::View;
    let dir = Dir::fixture("help-center").on(backend);
    let day = 86_400_000;
    let now = kb::metrics::now();
    {
        let mut store = dir.store();
        let view = |at, path: &str| {
            kb::metrics::Event::View(View {
                at,
                visitor: None,
                path: path.into(),
                search_id: None,
            })
        };
        store
            .append(&[
                view(now - 40 * day, "en/old.md"),
                view(now - 2 * day, "en/recent.md"),
            ])
            .unwrap();
    }
    assert_eq!(of_type(&exported(&dir), "view").len(), 2);
    let _s = Server::start(&dir, &["--retention-days", "30"]);
    let events = wait_for(&dir, "the old view deleted", |e| {
        of_type(e, "view").len() == 1
    });
    assert_eq!(of_type(&events, "view")[0]["path"], "en/recent.md");
}

fn export_writes_jsonl_and_csv_for_a_period(backend: Backend) {
    use kb::metrics::View;
    let dir = Dir::new().on(backend);
    let now = kb::metrics::now();
    let mut store = dir.store();
    for (i, days) in [10i64, 3, 1].iter().enumerate() {
        store
            .append(&[kb::metrics::Event::View(View {
                at: now - days * 86_400_000,
                visitor: Some(format!("{i:032x}")),
                path: format!("en/a{i}.md"),
                search_id: None,
            })])
            .unwrap();
    }
    let out = dir.run(&["export", "--since", "7d"]);
    out.assert_ok();
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
    let out = dir.run(&["export", "--format", "csv"]);
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].starts_with("type,at,visitor"), "{}", lines[0]);
    assert_eq!(lines.len(), 4);
    let out = dir.run(&["export", "--since", "soon"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("--since"), "{}", out.stderr);
    // Where nothing was recorded: a folder without a database, a database kb never used.
    let nothing = Dir::new().on(backend);
    let out = nothing.run(&["export", "--data", "no-such-folder"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("no recorded events"), "{}", out.stderr);
    if backend == Backend::Postgres {
        assert!(out.stderr.contains("kb serve --database"), "{}", out.stderr);
    }
}

fn acknowledged_votes_survive_kill_9(backend: Backend) {
    let dir = Dir::fixture("help-center").on(backend);
    // Readers reach the server through a proxy (this test), each with their own address, so
    // that the per-visitor and per-address limits stay out of the way.
    let server = Server::start(&dir, &["--trust-proxy", "127.0.0.1"]);
    const PATHS: &[&str] = &[
        "en/billing/refunds.md",
        "en/billing/invoices.md",
        "en/account/reset-password.md",
        "uk/account/reset-password.md",
        "zh-tw/account/reset-password.md",
    ];
    let load = crate::util::VoteLoad::start(std::slice::from_ref(&server.base), 16, PATHS);
    // Let votes flow, then pull the plug mid-stream.
    load.wait_for(300);
    server.kill();
    let last_visitor = load.last_visitor();
    let acked = load.stop();
    assert!(
        acked.len() >= 300,
        "only {} votes before the kill",
        acked.len()
    );

    // The database opens cleanly, in kb and in SQLite's own check, and holds every vote
    // that was acknowledged.
    let restarted = Server::start(&dir, &[]);
    if backend == Backend::Sqlite {
        let sqlite = kb::metrics::sqlite::SqliteReader::open(&dir.path().join("data"))
            .unwrap()
            .unwrap();
        assert_eq!(sqlite.integrity_check().unwrap(), "ok");
    }
    let store = dir.reader().unwrap();
    let mut stored = std::collections::HashSet::new();
    store
        .votes(0..kb::metrics::Millis::MAX, &mut |v| {
            stored.extend(v.comment);
            Ok(())
        })
        .unwrap();
    let missing: Vec<&String> = acked.iter().filter(|c| !stored.contains(*c)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged votes lost, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    // And the server takes new votes, from the visitors it issued before (the key that signs
    // their ids is kept in the data folder, or in the database).
    let cookie = last_visitor;
    let r = restarted.post(
        "/api/feedback",
        &[("cookie", &cookie)],
        r#"{"path": "en/shipping/track-order.md", "helpful": true}"#,
    );
    assert_eq!(r.status, 204, "{}", r.body);
    let id = cookie["kb_visitor=".len()..].split('.').next().unwrap();
    assert_eq!(
        store
            .current_vote(id, "en/shipping/track-order.md")
            .unwrap()
            .map(|v| (v.helpful, v.reason)),
        Some((true, None))
    );
}

// See: issue 14 (a "No" was lost when the reader left without sending a reason).
fn r14_a_reason_completes_its_vote_and_a_forged_id_completes_nobody_elses(backend: Backend) {
    let dir = Dir::fixture("help-center").on(backend);
    let s = Server::start(&dir, &[]);
    let (alice, alice_cookie) = s.new_visitor();
    let (mallory, mallory_cookie) = s.new_visitor();
    let id = "0123456789abcdef0123456789abcdef";
    let vote = |cookie: &str, body: Value| {
        let r = s.post(
            "/api/feedback",
            &[BROWSER, ("cookie", cookie)],
            &body.to_string(),
        );
        assert_eq!(r.status, 204, "{}", r.body);
    };
    let store = dir.reader().unwrap();
    let history = || {
        let mut n = 0;
        store
            .votes(0..kb::metrics::Millis::MAX, &mut |_| {
                n += 1;
                Ok(())
            })
            .unwrap();
        n
    };
    let path = "en/billing/refunds.md";

    // "No" is on disk the moment it is clicked.
    vote(
        &alice_cookie,
        json!({"path": path, "helpful": false, "vote_id": id}),
    );
    let current = store.current_vote(&alice, path).unwrap().unwrap();
    assert_eq!((current.helpful, current.reason), (false, None));

    // Someone else sending the same id changes nothing of hers: it is a vote of their own.
    vote(
        &mallory_cookie,
        json!({"path": path, "helpful": true, "comment": "forged", "vote_id": id}),
    );
    let current = store.current_vote(&alice, path).unwrap().unwrap();
    assert_eq!((current.helpful, current.comment), (false, None));
    assert!(store.current_vote(&mallory, path).unwrap().unwrap().helpful);
    // Nor does the same id on another article.
    vote(
        &alice_cookie,
        json!({"path": "en/billing/invoices.md", "helpful": true, "vote_id": id}),
    );
    assert_eq!(history(), 3);

    // Her reason and comment complete her vote: still one vote, not two.
    vote(
        &alice_cookie,
        json!({"path": path, "helpful": false, "reason": "unclear", "comment": "Step 2?", "vote_id": id}),
    );
    let current = store.current_vote(&alice, path).unwrap().unwrap();
    assert_eq!(
        (current.helpful, current.reason, current.comment.as_deref()),
        (false, Some(kb::metrics::Reason::Unclear), Some("Step 2?"))
    );
    assert_eq!(history(), 3);

    // An id that is not one the page makes is refused, with what to do.
    let r = s.post(
        "/api/feedback",
        &[BROWSER, ("cookie", &alice_cookie)],
        &json!({"path": path, "helpful": false, "vote_id": "x'; DROP TABLE votes"}).to_string(),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("vote_id"), "{}", r.body);
    // The id never leaves the server.
    let exported = exported(&dir);
    assert!(!exported.iter().any(|e| e.to_string().contains(id)));
}
