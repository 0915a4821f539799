//! An attacker's and an operator's view of a running `kb serve` (issue 11): writes from other
//! sites, made-up visitors, floods, slow clients, admin guessing, security headers, files
//! beside the articles that carry scripts, and links built from request headers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::util::{BROWSER, Dir, Reply, Server};

const VOTE: &str = r#"{"path": "en/billing/refunds.md", "helpful": false, "reason": "unclear"}"#;
const TOKEN: &str = "0123456789abcdef0123456789abcdef-admin";

/// Votes on disk (votes are committed before they are answered).
fn stored_votes(dir: &Dir) -> Vec<(Option<String>, bool)> {
    crate::util::stored_votes(dir)
        .into_iter()
        .map(|v| (v.visitor, v.helpful))
        .collect()
}

fn accepted(statuses: &[u16]) -> usize {
    statuses.iter().filter(|&&s| s == 204).count()
}

/// The most a bucket of `burst` that regains `per_second` can have let through since
/// `started`.
fn at_most(burst: usize, per_second: f64, started: Instant) -> usize {
    burst + (started.elapsed().as_secs_f64() * per_second) as usize
}

/// What a vote bucket regains: one every 3 seconds.
const VOTES_PER_SECOND: f64 = 1.0 / 3.0;

#[test]
fn json_routes_take_only_json_and_store_nothing_else() {
    let dir = Dir::fixture("help-center");
    let s = Server::start(&dir, &[]);
    for ty in [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        for path in ["/api/feedback", "/api/events", "/api/flags", "/api/answers"] {
            let body = match path {
                "/api/events" => r#"{"type": "contact_clicked", "path": "en/billing/refunds.md"}"#,
                "/api/flags" => r#"{"path": "en/billing/refunds.md", "reason": "wrong"}"#,
                "/api/answers" => r#"{"text": "refund"}"#,
                _ => VOTE,
            };
            let r = s.post(path, &[BROWSER, ("content-type", ty)], body);
            assert_eq!(r.status, 415, "{path} as {ty}: {}", r.body);
            assert!(
                r.json()["error"]
                    .as_str()
                    .unwrap()
                    .contains("application/json")
            );
        }
    }
    // Without any type either.
    let r = s.request("POST", "/api/feedback", &[BROWSER], Some(VOTE));
    assert_eq!(r.status, 415, "{}", r.body);
    assert!(stored_votes(&dir).is_empty());
    // JSON, with a charset, is fine.
    let r = s.post(
        "/api/feedback",
        &[BROWSER, ("content-type", "application/json; charset=utf-8")],
        VOTE,
    );
    assert_eq!(r.status, 204, "{}", r.body);
    // Nothing but the vote: the refused contact clicks and flags left no trace.
    std::thread::sleep(Duration::from_millis(300));
    let events = crate::util::exported(&dir);
    assert_eq!(events.len(), 1, "{events:#?}");
}

#[test]
fn cross_site_forms_are_refused_and_nothing_is_stored() {
    let dir = Dir::fixture("help-center");
    let base = "https://help.example.org";
    let s = Server::start_with_env(&dir, &["--base-url", base], &[("KB_ADMIN_TOKEN", TOKEN)]);
    let form = "path=en%2Fbilling%2Frefunds.md&reason=unclear&send=1";
    let agent = crate::util::agent_without_redirects();
    let post = |path: &str, body: &str, extra: &[(&str, &str)]| {
        let mut req = agent
            .post(format!("{}{path}", s.base))
            .header("user-agent", BROWSER.1)
            .header("content-type", "application/x-www-form-urlencoded");
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let mut r = req.send(body.to_string()).unwrap();
        Reply {
            status: r.status().as_u16(),
            headers: Vec::new(),
            set_cookie: Vec::new(),
            body: r.body_mut().read_to_string().unwrap_or_default(),
        }
    };
    let refused: &[&[(&str, &str)]] = &[
        // A modern browser says where the form was.
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
        ],
        &[
            ("sec-fetch-site", "same-site"),
            ("origin", "https://evil.help.example.org"),
        ],
        // An older one only gives the origin.
        &[("origin", "https://evil.example")],
        &[("origin", "null")],
    ];
    for headers in refused {
        let r = post("/feedback", form, headers);
        assert_eq!(r.status, 403, "{headers:?}: {}", r.body);
        assert!(r.body.contains("another site"), "{}", r.body);
        let r = post(
            "/admin/report",
            &format!("token={TOKEN}&since=30d&format=csv"),
            headers,
        );
        assert_eq!(r.status, 403, "{headers:?}: {}", r.body);
    }
    assert!(stored_votes(&dir).is_empty());

    // From the help center's own pages: its public address, or the same origin.
    for headers in [
        &[("sec-fetch-site", "same-origin"), ("origin", base)][..],
        &[("origin", base)][..],
        &[("origin", s.base.as_str())][..],
        // Not a browser at all (curl, a script on the server): nothing to forge.
        &[][..],
    ] {
        let r = post("/feedback", form, headers);
        assert_eq!(r.status, 303, "{headers:?}: {}", r.body);
    }
    assert_eq!(stored_votes(&dir).len(), 4);
}

#[test]
fn votes_without_a_valid_id_are_limited_by_address() {
    let dir = Dir::fixture("help-center");
    let s = Server::start(&dir, &[]);
    // A cookie-less client: 100 votes, at most the burst (20) accepted, no id issued.
    let started = Instant::now();
    let replies: Vec<_> = (0..100)
        .map(|_| s.post("/api/feedback", &[BROWSER], VOTE))
        .collect();
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert!(accepted(&statuses) >= 20, "{statuses:?}");
    assert!(
        accepted(&statuses) <= at_most(20, VOTES_PER_SECOND, started),
        "{statuses:?}"
    );
    assert!(replies.iter().all(|r| r.set_cookie.is_empty()));
    let r = replies.iter().find(|r| r.status == 429).unwrap();
    assert!(r.body.contains("try again"), "{}", r.body);

    // Made-up or forged ids from the same address share its bucket: nothing more gets in,
    // and nothing stored carries them.
    let (id, cookie) = s.new_visitor();
    let signature = cookie.split('.').nth(1).unwrap().to_string();
    let statuses: Vec<u16> = (0..100)
        .map(|i| {
            let forged = match i % 3 {
                0 => format!("kb_visitor={i:032x}"),
                1 => format!("kb_visitor={i:032x}.{signature}"),
                _ => format!("kb_visitor=<script>{i}"),
            };
            s.post("/api/feedback", &[BROWSER, ("cookie", &forged)], VOTE)
                .status
        })
        .collect();
    let votes = stored_votes(&dir);
    assert!(
        votes.len() <= at_most(20, VOTES_PER_SECOND, started),
        "{statuses:?}"
    );
    assert!(votes.iter().all(|(v, _)| v.is_none()), "{votes:?}");

    // A real visitor on the same address still gets through: they have their own bucket.
    let r = s.post("/api/feedback", &[BROWSER, ("cookie", &cookie)], VOTE);
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(stored_votes(&dir).contains(&(Some(id), false)));

    // Without --trust-proxy, a made-up X-Forwarded-For is no new address.
    let statuses: Vec<u16> = (0..30)
        .map(|i| {
            let xff = format!("198.51.100.{i}");
            s.post(
                "/api/events",
                &[BROWSER, ("x-forwarded-for", &xff)],
                r#"{"type": "contact_clicked"}"#,
            )
            .status
        })
        .collect();
    assert_eq!(accepted(&statuses), 30, "events have a larger burst");
    let _ = (0..30)
        .map(|i| {
            let xff = format!("198.51.100.{i}");
            s.post("/api/feedback", &[BROWSER, ("x-forwarded-for", &xff)], VOTE)
        })
        .count();
    // The real visitor's one vote, and the address's.
    let anonymous = stored_votes(&dir)
        .iter()
        .filter(|(v, _)| v.is_none())
        .count();
    assert!(
        anonymous <= at_most(20, VOTES_PER_SECOND, started),
        "{anonymous} votes without a visitor"
    );
}

#[test]
fn a_search_flood_is_served_but_not_recorded_beyond_the_budget() {
    // A script searching the same words over and over, without a visitor id, must not make
    // them a top search or a need of the report: it is answered, but recorded only up to its
    // address's budget (a burst of 120, then 2 a second).
    let dir = Dir::fixture("help-center");
    let s = Server::start(&dir, &["--trust-proxy", "127.0.0.1/32"]);
    let flooder = ("x-forwarded-for", "192.0.2.1");
    let started = Instant::now();
    for _ in 0..400 {
        let r = s.request(
            "GET",
            "/api/search?q=zorblatt+flood",
            &[BROWSER, flooder],
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let budget = at_most(120, 2.0, started);
    // Someone else, from another address, is recorded as usual.
    let other = ("x-forwarded-for", "192.0.2.2");
    let r = s.request(
        "GET",
        "/api/search?q=refund+policy",
        &[BROWSER, other],
        None,
    );
    assert!(r.json()["search_id"].is_string(), "{}", r.body);
    let count = |events: &[serde_json::Value], q: &str| {
        events
            .iter()
            .filter(|e| e["type"] == "search" && e["query"] == q)
            .count()
    };
    let events = crate::util::wait_for(&dir, "the other reader's search", |e| {
        count(e, "refund policy") == 1
    });
    let flood = count(&events, "zorblatt flood");
    assert!(
        (120..=budget).contains(&flood),
        "{flood} of 400 searches recorded, budget {budget}"
    );
}

#[test]
fn many_ids_from_one_address_share_its_larger_bucket() {
    let dir = Dir::fixture("help-center");
    // Behind a trusted proxy each reader has their own address.
    let s = Server::start(&dir, &["--trust-proxy", "127.0.0.0/8"]);
    let from = |addr: &'static str| ("x-forwarded-for", addr);
    let started = Instant::now();
    // A client collects 130 signed ids from pages, then votes once with each.
    let cookies: Vec<String> = (0..130)
        .map(|_| {
            s.request("GET", "/search", &[BROWSER, from("203.0.113.5")], None)
                .visitor_cookie()
                .unwrap()
        })
        .collect();
    let statuses: Vec<u16> = cookies
        .iter()
        .map(|c| {
            s.post(
                "/api/feedback",
                &[BROWSER, ("cookie", c), from("203.0.113.5")],
                VOTE,
            )
            .status
        })
        .collect();
    let n = accepted(&statuses);
    assert!(
        n >= 100 && n <= at_most(100, 0.5, started),
        "{n} accepted: {statuses:?}"
    );
    // Someone at another address is not affected, and neither is the proxy's own address.
    let r = s.post("/api/feedback", &[BROWSER, from("203.0.113.6")], VOTE);
    assert_eq!(r.status, 204);
    let r = s.post("/api/feedback", &[BROWSER], VOTE);
    assert_eq!(r.status, 204);
    // The trusted proxy's header is read from the right: what the client wrote to the left
    // of the proxy's entry is not believed.
    let started = Instant::now();
    let statuses: Vec<u16> = (0..30)
        .map(|i| {
            let xff = format!("10.9.9.{i}, 203.0.113.7");
            s.post("/api/feedback", &[BROWSER, ("x-forwarded-for", &xff)], VOTE)
                .status
        })
        .collect();
    let n = accepted(&statuses);
    assert!(
        n >= 20 && n <= at_most(20, VOTES_PER_SECOND, started),
        "{statuses:?}"
    );
}

#[test]
fn ids_come_with_pages_only_and_old_ones_are_replaced() {
    let dir = Dir::fixture("help-center");
    let s = Server::start(&dir, &[]);
    // Writes and the API never issue an identity.
    let r = s.post("/api/feedback", &[BROWSER], VOTE);
    assert_eq!(r.status, 204);
    assert!(r.set_cookie.is_empty());
    let r = s.request("GET", "/api/search?q=refund", &[BROWSER], None);
    assert!(r.set_cookie.is_empty());
    let r = s.request(
        "GET",
        "/contact?from=en/billing/refunds.md",
        &[BROWSER],
        None,
    );
    assert!(r.set_cookie.is_empty());
    // Pages do, signed.
    for page in ["/en/", "/en/billing/refunds", "/search?q=refund", "/agent"] {
        let r = s.request("GET", page, &[BROWSER], None);
        assert_eq!(r.status, 200, "{page}");
        let c = r.visitor_cookie().unwrap_or_else(|| panic!("{page}"));
        let (id, signature) = c["kb_visitor=".len()..].split_once('.').unwrap();
        assert_eq!(id.len(), 32, "{c}");
        assert!(signature.len() >= 20, "{c}");
    }
    // A cookie from before ids were signed is replaced.
    let old = "kb_visitor=0123456789abcdef0123456789abcdef";
    let r = s.request(
        "GET",
        "/en/billing/refunds",
        &[BROWSER, ("cookie", old)],
        None,
    );
    let new = r.visitor().expect("a new id");
    assert_ne!(new, "0123456789abcdef0123456789abcdef");
    let c = r.visitor_cookie().unwrap();
    let r = s.request(
        "GET",
        "/en/billing/refunds",
        &[BROWSER, ("cookie", &c)],
        None,
    );
    assert!(r.set_cookie.is_empty());
}

/// Every `<script>` loads a file (or is data), and nothing carries an inline handler or style.
#[track_caller]
fn assert_no_inline_code(what: &str, html: &str) {
    for tag in html.split("<script").skip(1) {
        let head = tag.split('>').next().unwrap();
        assert!(
            head.contains("src=") || head.contains("application/json"),
            "{what}: inline script <script{head}>"
        );
    }
    let lower = html.to_ascii_lowercase();
    for bad in [
        " onclick=",
        " onload=",
        " onerror=",
        " onsubmit=",
        " style=\"",
    ] {
        assert!(!lower.contains(bad), "{what}: {bad}");
    }
}

#[test]
fn pages_and_files_carry_the_security_headers() {
    let dir = Dir::fixture("help-center");
    dir.write(
        "en/billing/logo.svg",
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>"#,
    );
    dir.write(
        "en/billing/page.html",
        "<script>alert(document.cookie)</script>",
    );
    dir.write(
        "en/billing/table.md",
        "# Prices\n\n| plan | price |\n|:--|--:|\n| basic | 5 |\n",
    );
    let s = Server::start_with_env(
        &dir,
        &[
            "--frame-ancestor",
            "https://acme.zendesk.com",
            "--frame-ancestor",
            "https://*.freshdesk.com",
        ],
        &[("KB_ADMIN_TOKEN", TOKEN)],
    );
    for path in [
        "/en/",
        "/en/billing/refunds",
        "/en/billing/table",
        "/search?q=refund",
        "/en/nope",
        "/admin/report",
        "/api/search?q=refund",
        "/static/kb.js",
    ] {
        let r = s.request("GET", path, &[BROWSER], None);
        let csp = r
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("{path}"));
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert!(r.header("referrer-policy").is_some(), "{path}");
        if r.header("content-type")
            .unwrap_or("")
            .starts_with("text/html")
        {
            assert_no_inline_code(path, &r.body);
        }
    }
    // The agent panel may be framed by the help desks listed, and only there.
    let r = s.request("GET", "/agent", &[BROWSER], None);
    let csp = r.header("content-security-policy").unwrap();
    assert!(
        csp.ends_with("frame-ancestors https://acme.zendesk.com https://*.freshdesk.com"),
        "{csp}"
    );
    assert_eq!(r.header("x-frame-options"), None);
    assert_no_inline_code("/agent", &r.body);

    // Files that can carry a script are sandboxed; those a browser should not show are
    // downloaded.
    let r = s.request("GET", "/en/billing/logo.svg", &[], None);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("image/svg+xml"));
    let csp = r.header("content-security-policy").unwrap();
    assert!(
        csp.starts_with("sandbox") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert_eq!(r.header("content-disposition"), None);
    let r = s.request("GET", "/en/billing/page.html", &[], None);
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(r.header("content-disposition"), Some("attachment"));
    assert!(
        r.header("content-security-policy")
            .unwrap()
            .starts_with("sandbox")
    );

    // The report page: self-contained, its own styles allowed by hash, no script.
    let vote = s.post("/api/feedback", &[BROWSER], VOTE);
    assert_eq!(vote.status, 204);
    let r = s.request(
        "POST",
        "/admin/report",
        &[("content-type", "application/x-www-form-urlencoded")],
        Some(&format!("token={TOKEN}&since=30d&format=html")),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<style>"));
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("style-src 'sha256-"), "{csp}");
    assert!(
        csp.starts_with("default-src 'none'") && !csp.contains("unsafe"),
        "{csp}"
    );
    assert_no_inline_code("the report", &r.body.replace("<style>", "<x>"));
}

#[test]
fn bad_security_settings_stop_the_server() {
    let dir = Dir::fixture("help-center");
    let serve = |args: &[&str], env: &[(&str, &str)]| {
        let out = dir
            .kb()
            .args(["serve", "--no-watch", "--addr", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = serve(&[], &[("KB_ADMIN_TOKEN", "s3cret-14-chars")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("KB_ADMIN_TOKEN") && err.contains("32"),
        "{err}"
    );
    let (code, err) = serve(&["--frame-ancestor", "https://x.com; script-src *"], &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--frame-ancestor"), "{err}");
    let (code, err) = serve(&["--trust-proxy", "my-proxy"], &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--trust-proxy my-proxy"), "{err}");
    let (code, err) = serve(&[], &[("KB_VISITOR_KEY", "short")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("visitor key"), "{err}");
    let (code, err) = serve(&["--base-url", "help.example.com"], &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--base-url"), "{err}");
}

#[test]
fn replicas_sharing_a_visitor_key_accept_each_others_visitors() {
    let key = "a shared secret of more than 32 characters";
    let (a_dir, b_dir) = (Dir::fixture("help-center"), Dir::fixture("help-center"));
    let key_file = b_dir.path().join("visitor-key");
    std::fs::write(&key_file, format!("{key}\n")).unwrap();
    let a = Server::start_with_env(&a_dir, &[], &[("KB_VISITOR_KEY", key)]);
    let b = Server::start(&b_dir, &["--visitor-key-file", key_file.to_str().unwrap()]);
    let (id, cookie) = a.new_visitor();
    let r = b.post("/api/feedback", &[BROWSER, ("cookie", &cookie)], VOTE);
    assert_eq!(r.status, 204);
    assert_eq!(stored_votes(&b_dir), vec![(Some(id), false)]);
    // A server with its own key (made in its data folder) takes them for forgeries.
    let c_dir = Dir::fixture("help-center");
    let c = Server::start(&c_dir, &[]);
    assert_eq!(
        c.post("/api/feedback", &[BROWSER, ("cookie", &cookie)], VOTE)
            .status,
        204
    );
    assert_eq!(stored_votes(&c_dir), vec![(None, false)]);
    assert!(c_dir.path().join("data/visitor.key").is_file());
}

#[test]
fn the_admin_lockout_refuses_even_the_right_token() {
    let dir = Dir::fixture("help-center");
    let s = Server::start_with_env(&dir, &[], &[("KB_ADMIN_TOKEN", TOKEN)]);
    let bearer = format!("Bearer {TOKEN}");
    let r = s.request("GET", "/api/report", &[("authorization", &bearer)], None);
    assert_ne!(r.status, 401);
    // A minute's worth of guessing, as fast as possible.
    let started = Instant::now();
    let statuses: Vec<u16> = (0..100)
        .map(|i| {
            s.request(
                "GET",
                "/api/report",
                &[("authorization", &format!("Bearer guess-{i}"))],
                None,
            )
            .status
        })
        .collect();
    let compared = statuses.iter().filter(|&&c| c == 401).count();
    let allowed = 10 + (started.elapsed().as_secs() / 6) as usize + 1;
    assert!(
        compared <= allowed.min(20),
        "{compared} wrong tokens checked: {statuses:?}"
    );
    assert!(statuses.ends_with(&[429]));
    // Locked out: the right token is refused too, in the API and on the page.
    let r = s.request("GET", "/api/report", &[("authorization", &bearer)], None);
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.header("retry-after"), Some("60"));
    let r = s.request(
        "POST",
        "/admin/report",
        &[("content-type", "application/x-www-form-urlencoded")],
        Some(&format!("token={TOKEN}&since=30d&format=csv")),
    );
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("wait a minute"), "{}", r.body);
}

/// Reads from a connection until it is closed; how long that took.
fn time_until_closed(mut stream: TcpStream, limit: Duration) -> Duration {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return started.elapsed(),
            Ok(_) => {}
            Err(e) => panic!("still open after {:?}: {e}", started.elapsed()),
        }
    }
}

#[test]
fn slow_clients_are_cut_off_and_live_streams_are_not() {
    let dir = Dir::fixture("help-center");
    let s = Server::start_watching(&dir, &[]);
    let addr = s.base.trim_start_matches("http://").to_string();
    // An open page's live stream.
    let mut live = TcpStream::connect(&addr).unwrap();
    write!(live, "GET /api/live HTTP/1.1\r\nhost: {addr}\r\n\r\n").unwrap();
    let mut live = BufReader::new(live);
    let mut status = String::new();
    live.read_line(&mut status).unwrap();
    assert!(status.contains("200"), "{status}");

    // Headers that never end, and a connection that sends nothing.
    let mut slow = TcpStream::connect(&addr).unwrap();
    write!(slow, "GET / HTTP/1.1\r\nhost: {addr}\r\nx-slow: 1").unwrap();
    let silent = TcpStream::connect(&addr).unwrap();
    let silent = std::thread::spawn(move || time_until_closed(silent, Duration::from_secs(60)));
    let took = time_until_closed(slow, Duration::from_secs(60));
    assert!(took < Duration::from_secs(30), "slow headers held {took:?}");
    let took = silent.join().unwrap();
    assert!(
        took < Duration::from_secs(30),
        "a silent connection held {took:?}"
    );

    // The live stream outlives the header deadline: its keep-alive comes after it.
    live.get_ref()
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut line = String::new();
    loop {
        line.clear();
        live.read_line(&mut line)
            .expect("the live stream is still open");
        assert!(!line.is_empty(), "the live stream was closed");
        if line.starts_with(':') {
            break;
        }
    }

    // A body that never arrives is answered 408 within the body deadline.
    let mut body = TcpStream::connect(&addr).unwrap();
    write!(
        body,
        "POST /api/feedback HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{{\"path\""
    )
    .unwrap();
    body.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut answer = String::new();
    BufReader::new(body).read_line(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[test]
fn connections_beyond_the_cap_wait_their_turn() {
    let dir = Dir::fixture("help-center");
    let s = Server::start(&dir, &["--max-connections", "1"]);
    // The test client keeps its connection open (keep-alive): the one allowed.
    assert_eq!(s.get("/healthz").0, 200);
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut waiting = TcpStream::connect(&addr).unwrap();
    write!(
        waiting,
        "GET /healthz HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    waiting
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut buf = [0u8; 64];
    assert!(
        waiting.read(&mut buf).is_err(),
        "answered beyond the connection cap"
    );
    // Once the idle keep-alive connection is cut off, the waiting one is served.
    waiting
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut answer = String::new();
    BufReader::new(waiting).read_line(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
}

#[test]
fn one_address_cannot_take_every_connection() {
    let dir = Dir::fixture("help-center");
    let s = Server::start(&dir, &["--max-connections-per-address", "2"]);
    let addr: std::net::SocketAddr = s.base.trim_start_matches("http://").parse().unwrap();
    // A connection from `from`, with a request sent on it, kept open (keep-alive).
    let open = |from: &str| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let stream = runtime
            .block_on(async {
                let socket = tokio::net::TcpSocket::new_v4()?;
                socket.bind(format!("{from}:0").parse().unwrap())?;
                socket.connect(addr).await?.into_std()
            })
            .unwrap();
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut writer = &stream;
        // (Fails when the server has closed the connection already: the read then says so.)
        let _ = write!(writer, "GET /healthz HTTP/1.1\r\nhost: {addr}\r\n\r\n");
        stream
    };
    // The answer's first line; empty when the server closed the connection (a reset, as the
    // request it never read was still waiting, or an orderly close).
    let first_line = |stream: &TcpStream| {
        let mut line = String::new();
        match BufReader::new(stream).read_line(&mut line) {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => String::new(),
            r => {
                r.unwrap();
                line
            }
        }
    };
    // (Not 127.0.0.1: the test harness's own client holds a connection from there.)
    let held = [open("127.0.0.5"), open("127.0.0.5")];
    for stream in &held {
        assert!(first_line(stream).starts_with("HTTP/1.1 200"));
    }
    // A third from the same address is closed unanswered …
    assert_eq!(
        first_line(&open("127.0.0.5")),
        "",
        "served beyond its share"
    );
    // … while another address is served.
    assert!(first_line(&open("127.0.0.6")).starts_with("HTTP/1.1 200"));
    // Once one closes, the address has room again.
    drop(held);
    let again = (0..50).find_map(|_| {
        let line = first_line(&open("127.0.0.5"));
        if line.is_empty() {
            std::thread::sleep(Duration::from_millis(20));
            None
        } else {
            Some(line)
        }
    });
    assert!(again.is_some_and(|l| l.starts_with("HTTP/1.1 200")));
}

#[test]
fn no_request_header_decides_a_cached_absolute_link() {
    let dir = Dir::fixture("help-center");
    let forged = [
        BROWSER,
        ("host", "evil.example"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "evil.example"),
    ];
    // Without --base-url: absolute links from the Host, never stored; pages link relatively.
    let s = Server::start(&dir, &[]);
    for path in ["/sitemap.xml", "/robots.txt", "/opensearch.xml"] {
        let r = s.request("GET", path, &forged, None);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("cache-control"), Some("no-store"), "{path}");
        assert!(
            r.headers
                .iter()
                .any(|(k, v)| k == "vary" && v.contains("Host")),
            "{path}: {:?}",
            r.headers
        );
        // The proxy header is not believed: no proxy was listed.
        assert!(
            !r.body.contains("https://evil.example"),
            "{path}: {}",
            r.body
        );
    }
    let page = s.request("GET", "/en/billing/refunds", &forged, None).body;
    assert!(!page.contains("evil.example"), "{page}");
    drop(s);

    // With --base-url: that address everywhere, whatever the request says, and cacheable.
    let s = Server::start(&dir, &["--base-url", "https://help.example.org/"]);
    for (path, max_age) in [
        ("/sitemap.xml", "public, max-age=3600"),
        ("/robots.txt", "public, max-age=86400"),
        ("/opensearch.xml", "public, max-age=86400"),
    ] {
        let r = s.request("GET", path, &forged, None);
        assert_eq!(r.header("cache-control"), Some(max_age), "{path}");
        assert!(
            r.body.contains("https://help.example.org/"),
            "{path}: {}",
            r.body
        );
        assert!(!r.body.contains("evil.example"), "{path}: {}", r.body);
    }
    let page = s
        .request("GET", "/en/billing/refunds", &forged, None)
        .body
        .replace("&#x2f;", "/");
    assert!(
        page.contains(
            r#"<link rel="canonical" href="https://help.example.org/en/billing/refunds">"#
        ),
        "{page}"
    );
    let r = s.request("GET", "/api/search?q=refund&source=agent", &forged, None);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(
        r.json()["results"][0]["link"],
        "https://help.example.org/en/billing/refunds"
    );
}
