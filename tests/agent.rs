//! The support agents' tools: `kb link`, the agent API (`source=agent` searches,
//! `/api/answers`, `/api/flags`), CORS for help-desk apps, and the OpenAPI description
//! checked against real responses.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::Stdio;

use serde_json::{Value, json};

use crate::util::{BROWSER, Dir, Reply, Server, wait_for};
const JSON: (&str, &str) = ("content-type", "application/json");

/// Customers' messages, as an agent pastes them from a ticket, and an article that answers
/// each.
const MESSAGES: &[(&str, &str)] = &[
    (
        "Hello, I ordered a grinder last week but it arrived with a cracked lid and I would \
         like my money back. Can you help me with this?",
        "refunds.md",
    ),
    (
        "Hi there,\n\nI can't log in anymore. I think I forgot my password and the login page \
         keeps saying it is wrong. What should I do?\n\nThanks, Sam",
        "en/account/reset-password.md",
    ),
    (
        "你好，我上週訂購的磨豆機送到時蓋子裂了，我想要退款。請問該怎麼辦？",
        "zh-tw/billing/refunds.md",
    ),
    (
        "您好，我下个月要出差，想暂停订阅一段时间，回来以后再继续。请问在哪里操作？",
        "zh-cn/billing/pause-or-cancel-subscription.md",
    ),
    (
        "Добрий день! Я хочу призупинити підписку на наступний місяць, бо їду у відпустку. \
         Як це зробити?",
        "uk/billing/pause-or-cancel-subscription.md",
    ),
    (
        "నమస్కారం, నేను నా పాస్‌వర్డ్ మర్చిపోయాను, లాగిన్ అవ్వలేకపోతున్నాను. దయచేసి సహాయం చేయండి",
        "te/account/reset-password.md",
    ),
];

/// `kb link ARGS` with `stdin` as its standard input.
fn link_stdin(dir: &Dir, args: &[&str], stdin: &str) -> (Option<i32>, String, String) {
    let mut child = dir
        .kb()
        .arg("link")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn link_prints_ready_to_paste_links_in_three_formats() {
    let dir = Dir::sample();
    let out = dir.run(&[
        "link",
        "reset password",
        "--base-url",
        "https://help.example.com/",
    ]);
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "[Reset your password](https://help.example.com/en/account/reset-password)"
    );
    assert!(lines.len() <= 3, "the default limit is 3: {lines:?}");
    assert!(lines.iter().all(|l| l.starts_with('[')), "{lines:?}");

    let out = dir.run(&["link", "reset password", "--format", "html", "--limit", "1"]);
    out.assert_ok();
    assert_eq!(
        out.stdout.trim(),
        r#"<a href="http://127.0.0.1:8080/en/account/reset-password">Reset your password</a>"#
    );

    // Text: title, the canned reply (front matter `reply`) instead of the summary, the URL.
    let out = dir
        .kb()
        .args(["link", "reset password", "--format", "text", "--limit", "1"])
        .env("KB_BASE_URL", "https://support.example.org")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0], "Reset your password");
    assert!(
        lines[1].starts_with("You can reset your password at"),
        "{text}"
    );
    assert_eq!(
        lines[2],
        "https://support.example.org/en/account/reset-password"
    );

    // Without a reply, the one-line summary: the article's first paragraph.
    let out = dir.run(&["link", "invoice", "--format", "text", "--limit", "1"]);
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    assert!(lines[1].len() > 20 && !lines[1].contains('\n'), "{lines:?}");
    assert!(lines[2].ends_with("/en/billing/understand-your-invoice"));

    // One language, in either script.
    let out = dir.run(&["link", "退款", "--lang", "zh-tw", "--limit", "5"]);
    out.assert_ok();
    assert!(
        out.stdout.lines().all(|l| l.contains("/zh-tw/")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("/zh-tw/billing/refunds"));
}

#[test]
fn link_finds_the_article_that_answers_a_pasted_message() {
    let dir = Dir::sample();
    for (message, answer) in MESSAGES {
        let (code, stdout, stderr) = link_stdin(&dir, &["--stdin"], message);
        assert_eq!(code, Some(0), "{message}\n{stderr}");
        let url = answer.trim_end_matches(".md");
        assert!(stdout.contains(url), "{answer} for {message}:\n{stdout}");
    }
}

#[test]
fn link_says_when_nothing_answers_and_exits_1() {
    let dir = Dir::sample();
    let out = dir.run(&["link", "zzqxv"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("no article answers"), "{}", out.stderr);

    let (code, stdout, stderr) = link_stdin(&dir, &["--stdin"], "  \n ");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("message is empty"), "{stderr}");

    let out = dir.run(&["link", "refund", "--limit", "0"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("--limit"), "{}", out.stderr);
    let out = dir.run(&["link", "refund", "--lang", "xx-!!"]);
    assert_ne!(out.code, Some(0));
    assert!(out.stderr.contains("lang"), "{}", out.stderr);

    let out = dir.run(&["link", "refund", "--format", "pdf"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("markdown"), "{}", out.stderr);
}

/// Waits until `kb export` shows an event that satisfies `found`; that event.
#[track_caller]
fn wait_for_event(dir: &Dir, what: &str, found: impl Fn(&Value) -> bool) -> Value {
    let events = wait_for(dir, what, |events| events.iter().any(&found));
    events.into_iter().find(|e| found(e)).unwrap()
}

#[test]
fn agents_get_links_summaries_replies_and_helpfulness() {
    let dir = Dir::sample();
    // Behind a proxy that says which scheme the reader used.
    let s = Server::start(&dir, &["--trust-proxy", "127.0.0.1"]);
    // A reader's vote shows in the agents' results.
    let vote = s.post(
        "/api/feedback",
        &[BROWSER, JSON],
        r#"{"path": "en/account/reset-password.md", "helpful": true}"#,
    );
    assert_eq!(vote.status, 204, "{}", vote.body);

    let reply = s.request(
        "GET",
        "/api/search?q=reset%20password&source=agent",
        &[
            BROWSER,
            ("host", "help.example.com"),
            ("x-forwarded-proto", "https"),
        ],
        None,
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let json = reply.json();
    let hit = &json["results"][0];
    assert_eq!(hit["path"], "en/account/reset-password.md");
    assert_eq!(
        hit["link"],
        "https://help.example.com/en/account/reset-password"
    );
    assert_eq!(
        hit["copy"]["markdown"],
        "[Reset your password](https://help.example.com/en/account/reset-password)"
    );
    assert_eq!(
        hit["copy"]["html"],
        r#"<a href="https://help.example.com/en/account/reset-password">Reset your password</a>"#
    );
    let text = hit["copy"]["text"].as_str().unwrap();
    assert!(
        text.starts_with("Reset your password\nYou can reset"),
        "{text}"
    );
    assert!(hit["reply"].as_str().unwrap().starts_with("You can reset"));
    assert!(hit["summary"].as_str().unwrap().len() > 20, "{hit}");
    assert_eq!(hit["helpful"]["yes"], 1, "{hit}");
    assert_eq!(hit["helpful"]["no"], 0);
    assert_eq!(hit["helpful"]["rate"], 1.0);
    assert_eq!(hit["helpful"]["weak"], false);

    // Customers' results stay lean.
    let (_, customer) = s.search(&[("q", "reset password")]);
    assert!(customer["results"][0].get("link").is_none(), "{customer}");
    assert!(customer["results"][0].get("reply").is_none(), "{customer}");

    // Agents' searches are recorded as theirs, kept out of the customer figures.
    let id = json["search_id"].as_str().expect("a search id").to_string();
    let search = wait_for_event(&dir, "the agent's search", |e| {
        e["type"] == "search" && e["search_id"] == id.as_str()
    });
    assert_eq!(search["source"], "agent", "{search}");
}

#[test]
fn answers_take_a_whole_message_in_any_language() {
    let dir = Dir::sample();
    let s = Server::start(&dir, &[]);
    for (message, answer) in MESSAGES {
        let reply = s.post(
            "/api/answers",
            &[BROWSER, JSON],
            &json!({ "text": message }).to_string(),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        let json = reply.json();
        let paths = crate::util::paths(&json);
        assert!(
            paths.iter().take(3).any(|p| p.ends_with(answer)),
            "{answer} in the top 3 for {message}: {paths:?}"
        );
        assert!(json["results"][0]["copy"]["markdown"].is_string(), "{json}");
    }
    // A language filter, and the limit.
    let reply = s.post(
        "/api/answers",
        &[BROWSER, JSON],
        r#"{"text": "Хочу повернути гроші за замовлення, яке мені не підійшло", "lang": "uk", "limit": 1}"#,
    );
    let paths = crate::util::paths(&reply.json());
    assert_eq!(paths, ["uk/billing/refunds.md"]);

    // Recorded as an agent's search with the message's start.
    let search = wait_for_event(&dir, "the message", |e| {
        e["type"] == "search" && e["query"].as_str().unwrap_or("").starts_with("Hi there")
    });
    assert_eq!(search["source"], "agent");

    for (body, says) in [
        (r#"{"text": "   "}"#, "empty"),
        (r#"{"message": "hello"}"#, "text"),
        (r#"{"text": "refund", "source": "robot"}"#, "source"),
        ("not json", "JSON"),
    ] {
        let reply = s.post("/api/answers", &[BROWSER, JSON], body);
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        let error = reply.json()["error"].as_str().unwrap().to_string();
        assert!(error.contains(says), "{body}: {error}");
    }
    let huge = "word ".repeat(30_000);
    let reply = s.post(
        "/api/answers",
        &[BROWSER, JSON],
        &json!({ "text": huge }).to_string(),
    );
    assert!(
        reply.status == 200 || reply.status == 400,
        "{}",
        reply.status
    );
}

#[test]
fn flags_reach_the_gap_report_with_the_note() {
    let dir = Dir::sample();
    let s = Server::start(&dir, &[]);
    let reply = s.post(
        "/api/flags",
        &[BROWSER, JSON],
        r#"{"path": "en/billing/refunds.md", "reason": "outdated", "note": "Refunds take 3–5 days since March, not 5–10."}"#,
    );
    assert_eq!(reply.status, 204, "{}", reply.body);
    for (body, status, says) in [
        (
            r#"{"path": "en/billing/refunds.md", "reason": "boring"}"#,
            400,
            "reason",
        ),
        (r#"{"path": "en/billing/refunds.md"}"#, 400, "reason"),
        (
            r#"{"path": "en/no-such-article.md", "reason": "wrong"}"#,
            400,
            "unknown article",
        ),
    ] {
        let reply = s.post("/api/flags", &[BROWSER, JSON], body);
        assert_eq!(reply.status, status, "{body}: {}", reply.body);
        assert!(reply.body.contains(says), "{body}: {}", reply.body);
    }
    drop(s);

    let out = dir.run(&["report", "--format", "json"]);
    out.assert_ok();
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let flagged: Vec<&Value> = report["to_update"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "flagged")
        .collect();
    assert_eq!(flagged.len(), 1, "{:#}", report["to_update"]);
    assert_eq!(flagged[0]["path"], "en/billing/refunds.md");
    assert_eq!(flagged[0]["flags"][0]["reason"], "outdated");
    assert_eq!(
        flagged[0]["flags"][0]["note"],
        "Refunds take 3–5 days since March, not 5–10."
    );
    let md = dir.run(&["report"]);
    assert!(
        md.stdout.contains("Refunds take 3–5 days since March"),
        "{}",
        md.stdout
    );
}

#[test]
fn help_desk_apps_on_listed_origins_may_call_the_api() {
    let dir = Dir::sample();
    let s = Server::start_with_env(
        &dir,
        &["--no-watch", "--cors-origin", "https://desk.example.com"],
        &[("KB_BASE_URL", "https://help.example.org/")],
    );
    let desk = ("origin", "https://desk.example.com");
    for (path, method) in [
        ("/api/search", "GET"),
        ("/api/events", "POST"),
        ("/api/answers", "POST"),
        ("/api/flags", "POST"),
    ] {
        let preflight = s.request(
            "OPTIONS",
            path,
            &[
                desk,
                ("access-control-request-method", method),
                ("access-control-request-headers", "content-type"),
            ],
            None,
        );
        assert!(preflight.status < 300, "{path}: {}", preflight.status);
        assert_eq!(
            preflight.header("access-control-allow-origin"),
            Some("https://desk.example.com"),
            "{path}: {:?}",
            preflight.headers
        );
        let allowed = preflight
            .header("access-control-allow-methods")
            .unwrap_or("");
        assert!(allowed.contains(method), "{path}: {allowed}");
    }
    let reply = s.request("GET", "/api/search?q=refund&source=agent", &[desk], None);
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("https://desk.example.com")
    );
    // Links for the desk use the help center's public address (KB_BASE_URL), not the host
    // the desk's server happened to call.
    assert_eq!(
        reply.json()["results"][0]["link"],
        "https://help.example.org/en/billing/refunds"
    );
    let reply = s.post(
        "/api/events",
        &[desk, JSON, BROWSER],
        r#"{"type": "link_inserted", "path": "en/billing/refunds.md", "query": "refund"}"#,
    );
    assert_eq!(reply.status, 204, "{}", reply.body);
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("https://desk.example.com")
    );
    // Other origins get no permission.
    let other = s.request(
        "GET",
        "/api/search?q=refund",
        &[("origin", "https://evil.example.net")],
        None,
    );
    assert_eq!(other.header("access-control-allow-origin"), None);
}

/// The OpenAPI description and what the tests checked against it.
pub(crate) struct Spec {
    doc: Value,
    checked: BTreeSet<String>,
}

impl Spec {
    pub(crate) fn fetch(s: &Server) -> Spec {
        let (status, body) = s.get("/api/openapi.json");
        assert_eq!(status, 200);
        let doc: Value = serde_json::from_str(&body).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        Spec {
            doc,
            checked: BTreeSet::new(),
        }
    }

    /// The documented response for this status, its `$ref` followed.
    fn response(&self, method: &str, path: &str, status: u16) -> &Value {
        let op = &self.doc["paths"][path][method.to_lowercase()];
        assert!(op.is_object(), "{method} {path} is not described");
        let mut response = &op["responses"][status.to_string()];
        assert!(
            response.is_object(),
            "{method} {path} → {status} is not described"
        );
        if let Some(r) = response["$ref"].as_str() {
            let name = r.trim_start_matches("#/components/responses/");
            response = &self.doc["components"]["responses"][name];
        }
        response
    }

    /// Checks a real reply against the description: status documented, and a JSON body that
    /// matches its schema, with no undocumented fields.
    #[track_caller]
    pub(crate) fn check(&mut self, method: &str, path: &str, reply: &Reply) {
        let response = self.response(method, path, reply.status).clone();
        self.checked.insert(path.to_string());
        let content = &response["content"];
        if content.is_null() {
            assert!(
                reply.body.is_empty(),
                "{method} {path} → {} has an undocumented body",
                reply.status
            );
            return;
        }
        let ty = reply.header("content-type").unwrap_or("");
        let media = ty.split(';').next().unwrap().trim();
        assert!(
            content.get(media).is_some(),
            "{method} {path} → {}: {media} is not described",
            reply.status
        );
        if media != "application/json" {
            return;
        }
        let schema = self.json_schema(&content[media]["schema"]);
        let validator = jsonschema::validator_for(&schema)
            .unwrap_or_else(|e| panic!("{method} {path}: the schema does not compile: {e}"));
        let body: Value = serde_json::from_str(&reply.body).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {path} → {} does not match its description:\n{}\n{body:#}",
            reply.status,
            errors.join("\n")
        );
    }

    /// A standalone JSON Schema: the component schemas as `$defs`, every described object
    /// closed to undocumented properties.
    fn json_schema(&self, schema: &Value) -> Value {
        fn close(v: &mut Value) {
            match v {
                Value::Object(map) => {
                    if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                        map.insert("additionalProperties".into(), Value::Bool(false));
                    }
                    map.values_mut().for_each(close);
                }
                Value::Array(items) => items.iter_mut().for_each(close),
                _ => {}
            }
        }
        let mut whole = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$defs": self.doc["components"]["schemas"],
            "allOf": [schema],
        });
        close(&mut whole);
        let text = whole
            .to_string()
            .replace("#/components/schemas/", "#/$defs/");
        serde_json::from_str(&text).unwrap()
    }
}

#[test]
fn the_openapi_description_matches_the_real_responses() {
    let dir = Dir::sample();
    let s = Server::start_with_env(
        &dir,
        &[],
        &[
            ("KB_ADMIN_TOKEN", "s3cret-token-of-32-characters-ok"),
            (
                "KB_EDIT_URL",
                "https://git.example/acme/help/edit/main/articles/{path}",
            ),
        ],
    );
    let mut spec = Spec::fetch(&s);
    let get = |path: &str, headers: &[(&str, &str)]| s.request("GET", path, headers, None);

    let r = get("/healthz", &[]);
    spec.check("GET", "/healthz", &r);
    let r = get("/api/openapi.json", &[]);
    spec.check("GET", "/api/openapi.json", &r);
    for q in [
        "/api/search?q=refund",
        "/api/search?q=refund&source=agent&lang=en&limit=2",
        "/api/search?q=%E9%87%8D%E8%A8%AD%E5%AF%86%E7%A2%BC&source=agent",
        "/api/search?q=",
        "/api/search?q=refund&offset=20",
        "/api/search?q=refund&limit=-3",
        "/api/search?q=refund&source=robot",
        "/api/search?q=refnud&lang=en",
        "/api/search?q=refnud&lang=en&correct=0",
    ] {
        let r = get(q, &[BROWSER]);
        spec.check("GET", "/api/search", &r);
    }
    let search_id = get("/api/search?q=refund", &[BROWSER]).json()["search_id"]
        .as_str()
        .unwrap()
        .to_string();
    for body in [
        json!({"text": MESSAGES[0].0}),
        json!({"text": "refund", "source": "customer"}),
        json!({"text": "zzqxv qqzzv"}),
        json!({"text": ""}),
    ] {
        let r = s.post("/api/answers", &[BROWSER, JSON], &body.to_string());
        spec.check("POST", "/api/answers", &r);
    }
    for body in [
        json!({"path": "en/billing/refunds.md", "helpful": false, "reason": "outdated"}),
        json!({"path": "en/billing/refunds.md", "helpful": "maybe"}),
    ] {
        let r = s.post("/api/feedback", &[BROWSER, JSON], &body.to_string());
        spec.check("POST", "/api/feedback", &r);
    }
    for body in [
        json!({"type": "link_inserted", "path": "en/billing/refunds.md", "search_id": search_id, "query": "refund"}),
        json!({"type": "contact_clicked", "path": "en/billing/refunds.md"}),
        json!({"type": "teleport"}),
    ] {
        let r = s.post("/api/events", &[BROWSER, JSON], &body.to_string());
        spec.check("POST", "/api/events", &r);
    }
    for body in [
        json!({"path": "en/billing/refunds.md", "reason": "wrong", "note": "The link is dead."}),
        json!({"path": "en/billing/refunds.md", "reason": "meh"}),
    ] {
        let r = s.post("/api/flags", &[BROWSER, JSON], &body.to_string());
        spec.check("POST", "/api/flags", &r);
    }
    // Not declared JSON, and from a page on another site.
    for path in ["/api/answers", "/api/feedback", "/api/events", "/api/flags"] {
        let r = s.post(path, &[BROWSER, ("content-type", "text/plain")], "{}");
        assert_eq!(r.status, 415, "{path}");
        spec.check("POST", path, &r);
        let r = s.post(
            path,
            &[
                BROWSER,
                JSON,
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "cross-site"),
            ],
            "{}",
        );
        assert_eq!(r.status, 403, "{path}");
        spec.check("POST", path, &r);
    }
    let admin = ("authorization", "Bearer s3cret-token-of-32-characters-ok");
    for (path, headers) in [
        ("/api/report", vec![admin]),
        ("/api/report?since=7d", vec![admin]),
        ("/api/report?since=soon", vec![admin]),
        ("/api/report", vec![("authorization", "Bearer nope")]),
    ] {
        let r = get(path, &headers);
        spec.check("GET", "/api/report", &r);
    }
    // With KB_EDIT_URL, each article to update says where it is edited (checked above).
    let report = get("/api/report", &[admin]).json();
    let to_update = report["to_update"].as_array().unwrap();
    assert!(!to_update.is_empty(), "{report}");
    for item in to_update {
        assert_eq!(
            item["edit_url"],
            format!(
                "https://git.example/acme/help/edit/main/articles/{}",
                item["path"].as_str().unwrap()
            ),
            "{item}"
        );
    }
    // Server-sent events never end: the status and type are what can be checked.
    let live = crate::util::agent()
        .get(format!("{}/api/live", s.base))
        .call()
        .unwrap();
    assert_eq!(live.status().as_u16(), 200);
    let ty = live.headers()["content-type"].to_str().unwrap().to_string();
    assert!(
        spec.response("GET", "/api/live", 200)["content"]
            .get(ty.as_str())
            .is_some(),
        "{ty}"
    );
    spec.checked.insert("/api/live".into());
    drop(live);
    // Without KB_GIT_WEBHOOK_SECRET (and `--git`) the hook does not exist; `tests/git.rs`
    // checks its other answers against the description.
    let r = s.post("/api/hooks/git", &[JSON], "{}");
    assert_eq!(r.status, 404);
    spec.check("POST", "/api/hooks/git", &r);

    // For language models: llms.txt, a language's lists, Markdown copies.
    spec.check("GET", "/llms.txt", &get("/llms.txt", &[]));
    for (real, described) in [
        ("/zh-tw/llms.txt", "/{lang}/llms.txt"),
        ("/xx/llms.txt", "/{lang}/llms.txt"),
        ("/en/llms-full.txt", "/{lang}/llms-full.txt"),
        ("/xx/llms-full.txt", "/{lang}/llms-full.txt"),
        ("/en/billing/refunds.md", "/{article}.md"),
        ("/en/account/two-factor-authentication.md", "/{article}.md"),
    ] {
        spec.check("GET", described, &get(real, &[]));
    }

    let described: BTreeSet<String> = spec.doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        described, spec.checked,
        "every described path is checked against the server"
    );
}
