//! Operating kb: `/metrics` for the scraper, every setting from the environment, and logs a
//! collector can read.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{BROWSER, Dir, Server};

const TOKEN: &str = "s3cret-token-of-32-characters-ok";

/// The `--metrics-addr` URL a server logged.
fn metrics_url(s: &Server) -> String {
    let log = s.log();
    let at = log
        .find("metrics on http://")
        .unwrap_or_else(|| panic!("no metrics address in the log:\n{log}"));
    let rest = &log[at + "metrics on ".len()..];
    let end = rest.find(['"', ' ', '\n']).unwrap_or(rest.len());
    rest[..end].to_string()
}

/// `GET /metrics` on the server's `--metrics-addr`, in the Prometheus text format.
pub fn scrape(s: &Server) -> String {
    let mut r = crate::util::agent().get(metrics_url(s)).call().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let ty = r.headers()["content-type"].to_str().unwrap().to_string();
    assert_eq!(ty, "text/plain; version=0.0.4; charset=utf-8");
    let text = r.body_mut().read_to_string().unwrap();
    check_exposition(&text);
    text
}

/// The value of a series without labels.
#[track_caller]
pub fn value(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name}:\n{text}"))
        .parse()
        .unwrap()
}

/// Checks the text exposition format: `# HELP`/`# TYPE` lines, then samples
/// `name{label="value",…} number` whose family was typed before.
#[track_caller]
fn check_exposition(text: &str) {
    let mut typed: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, ty) = rest.split_once(' ').unwrap();
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&ty),
                "{line}"
            );
            assert!(!typed.iter().any(|(n, _)| n == name), "{name} typed twice");
            typed.push((name.to_string(), ty.to_string()));
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        assert!(!line.starts_with('#'), "{line}");
        let (series, number) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line:?}"));
        assert!(
            number.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&number),
            "{line}"
        );
        let name = series.split('{').next().unwrap();
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "{line}"
        );
        assert!(
            typed.iter().any(|(n, ty)| {
                name == n
                    || (ty == "histogram"
                        && ["_bucket", "_sum", "_count"]
                            .iter()
                            .any(|s| name.strip_suffix(s) == Some(n)))
            }),
            "{name} has no # TYPE before it"
        );
        let labels = &series[name.len()..];
        if !labels.is_empty() {
            assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
            for pair in labels[1..labels.len() - 1].split("\",") {
                let (k, v) = pair.split_once("=\"").unwrap_or_else(|| panic!("{line}"));
                assert!(
                    k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "{line}"
                );
                assert!(!v.trim_end_matches('"').contains('"'), "{line}");
            }
        }
    }
}

#[test]
fn metrics_count_requests_per_route_template_and_tell_the_state() {
    let dir = Dir::fixture("help-center");
    let s = Server::start_with_env(
        &dir,
        &["--no-watch", "--metrics-addr", "127.0.0.1:0"],
        &[("KB_ADMIN_TOKEN", TOKEN)],
    );
    for _ in 0..2 {
        let (status, _) = s.search(&[("q", "refund")]);
        assert_eq!(status, 200);
    }
    for path in [
        "/en/no-such-page-qq123",
        "/static/kb.js",
        "/static/nope-qq456.js",
    ] {
        s.request("GET", path, &[BROWSER], None);
    }
    let vote = s.post(
        "/api/feedback",
        &[BROWSER],
        r#"{"path": "en/billing/refunds.md", "helpful": true}"#,
    );
    assert!(vote.status == 200 || vote.status == 204, "{}", vote.body);

    // On the public address: only with the admin token.
    let r = s.request("GET", "/metrics", &[], None);
    assert_eq!(r.status, 401);
    let r = s.request(
        "GET",
        "/metrics",
        &[("authorization", &format!("Bearer {TOKEN}"))],
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    check_exposition(&r.body);

    let text = scrape(&s);
    for series in [
        "kb_http_requests_total{method=\"GET\",route=\"/api/search\",status=\"200\"} 2\n",
        "kb_http_requests_total{method=\"GET\",route=\"fallback\",status=\"404\"} 1\n",
        "kb_http_requests_total{method=\"GET\",route=\"/static/{name}\",status=\"200\"} 1\n",
        "kb_http_requests_total{method=\"GET\",route=\"/static/{name}\",status=\"404\"} 1\n",
        "kb_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"401\"} 1\n",
        "kb_http_request_duration_seconds_count{method=\"GET\",route=\"/api/search\"} 2\n",
        "kb_search_duration_seconds_count{kind=\"api\"} 2\n",
        "kb_index_ready 1\n",
        "kb_events_lost_total{reason=\"queue_full\"} 0\n",
        "kb_database_errors_total 0\n",
    ] {
        assert!(text.contains(series), "no {series}in\n{text}");
    }
    // Raw paths never become labels.
    assert!(!text.contains("qq123") && !text.contains("qq456"), "{text}");
    assert!(!text.contains("kb_git_"), "no remote, no git series");

    let health: Value = serde_json::from_str(&s.get("/healthz").1).unwrap();
    assert_eq!(
        value(&text, "kb_index_articles"),
        health["articles"].as_f64().unwrap()
    );
    assert!(value(&text, "kb_index_bytes") > 10_000.0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let committed = value(&text, "kb_index_last_commit_timestamp_seconds");
    assert!(
        now - committed < 600.0 && committed <= now + 1.0,
        "{committed}"
    );
    // The vote was committed before it was acknowledged.
    assert!(value(&text, "kb_events_stored_total") >= 1.0, "{text}");
    assert!(value(&text, "kb_events_queued") >= 0.0);
    // The scraper of the internal address is not counted among the site's requests: only
    // the one with the token on the public address is.
    scrape(&s);
    assert!(
        scrape(&s).contains(
            "kb_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"200\"} 1\n"
        ),
        "{text}"
    );

    // OpenMetrics, when asked for.
    let mut r = crate::util::agent()
        .get(metrics_url(&s))
        .header(
            "accept",
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
        )
        .call()
        .unwrap();
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let body = r.body_mut().read_to_string().unwrap();
    assert!(body.ends_with("# EOF\n"), "{body}");
    assert_eq!(body.matches("# EOF").count(), 1);

    // The internal address serves nothing else.
    let r = crate::util::agent()
        .get(metrics_url(&s).replace("/metrics", "/api/search?q=refund"))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}

#[test]
fn without_an_admin_token_metrics_are_only_on_the_metrics_address() {
    let dir = Dir::fixture("help-center");
    let s = Server::start(&dir, &[]);
    let r = s.request(
        "GET",
        "/metrics",
        &[("authorization", &format!("Bearer {TOKEN}"))],
        None,
    );
    assert_eq!(r.status, 404, "{}", r.body);
}

#[test]
fn settings_from_the_environment_and_json_logs() {
    let dir = Dir::fixture("help-center");
    // Every setting here comes from the environment (the helper adds only `--addr`).
    let s = Server::start_with_env(
        &dir,
        &[],
        &[
            ("KB_LOG_FORMAT", "json"),
            ("KB_LOG", "kb=debug"),
            ("KB_INDEX", "other-index"),
            ("KB_DATA", "other-data"),
            ("KB_NO_WATCH", "true"),
            ("KB_SITE_NAME", "Acme Help qqsite"),
            ("KB_CORS_ORIGIN", "https://a.example,https://b.example"),
            ("KB_RETENTION_DAYS", "400"),
        ],
    );
    let (status, home) = s.get("/");
    assert_eq!(status, 200);
    assert!(home.contains("Acme Help qqsite"));
    for origin in ["https://a.example", "https://b.example"] {
        let r = s.request(
            "OPTIONS",
            "/api/search",
            &[("origin", origin), ("access-control-request-method", "GET")],
            None,
        );
        assert_eq!(r.header("access-control-allow-origin"), Some(origin));
    }
    assert!(dir.path().join("other-index/meta.json").exists());
    assert!(dir.path().join("other-data").is_dir());
    assert!(!dir.index().exists());
    // A broken article's warning is among the lines: its path is escaped inside the JSON.
    let log = s.log();
    assert!(s.terminate(Duration::from_secs(30)));
    assert!(!log.contains("watching"), "{log}");
    let mut levels = std::collections::BTreeSet::new();
    for line in log.lines() {
        assert!(!line.contains('\u{1b}'), "colour codes in {line:?}");
        let entry: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(entry["timestamp"].is_string(), "{line}");
        assert!(entry["fields"]["message"].is_string(), "{line}");
        levels.insert(entry["level"].as_str().unwrap().to_string());
    }
    assert!(
        levels.contains("INFO") && levels.contains("WARN"),
        "{levels:?}"
    );
    assert!(log.contains("not-utf8.md"), "{log}");
}

#[test]
fn text_logs_have_no_colour_codes_off_a_terminal() {
    let dir = Dir::fixture("help-center");
    let s = Server::start(&dir, &[]);
    s.search(&[("q", "refund")]);
    let started = Instant::now();
    while !s.log().contains("WARN") {
        assert!(started.elapsed() < Duration::from_secs(10), "{}", s.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = s.log();
    assert!(!log.contains('\u{1b}'), "{log:?}");
    assert!(log.contains(" WARN ") || log.contains("WARN kb"), "{log}");
}
