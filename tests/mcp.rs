//! The MCP server driven by the real `rmcp` client: over Streamable HTTP against a spawned
//! `kb serve` (`POST /mcp`) and over stdio against `kb mcp` as a child process.

use std::collections::HashMap;

use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use serde_json::{Value, json};

use crate::util::{Dir, Server, wait_for};

type Client = RunningService<RoleClient, ()>;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn http_config(server: &Server) -> StreamableHttpClientTransportConfig {
    StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", server.base))
}

async fn connect(config: StreamableHttpClientTransportConfig) -> Result<Client, String> {
    ().serve(StreamableHttpClientTransport::from_config(config))
        .await
        .map_err(|e| e.to_string())
}

async fn call(client: &Client, tool: &'static str, args: Value) -> CallToolResult {
    client
        .call_tool(
            CallToolRequestParams::new(tool).with_arguments(args.as_object().unwrap().clone()),
        )
        .await
        .unwrap_or_else(|e| panic!("{tool} {args}: {e}"))
}

fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect()
}

/// A successful tool call's JSON.
#[track_caller]
fn ok(result: &CallToolResult) -> Value {
    assert_ne!(result.is_error, Some(true), "{}", text(result));
    serde_json::from_str(&text(result)).unwrap()
}

/// A tool error's message.
#[track_caller]
fn refused(result: &CallToolResult) -> String {
    assert_eq!(result.is_error, Some(true), "{}", text(result));
    text(result)
}

/// Everything an MCP client does with kb, over either transport.
async fn exercise(client: &Client, base: &str) {
    let mut tools: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| {
            assert!(
                t.description.as_deref().is_some_and(|d| d.len() > 80),
                "{} needs a description a model can act on",
                t.name
            );
            t.name.to_string()
        })
        .collect();
    tools.sort();
    assert_eq!(tools, ["answer", "get_article", "search"]);

    // English and Traditional Chinese: the right article, with an absolute link.
    let en = ok(&call(
        client,
        "search",
        json!({"query": "reset my password", "lang": "en"}),
    )
    .await);
    let first = &en["results"][0];
    assert_eq!(first["path"], "en/account/reset-password.md", "{en:#}");
    assert_eq!(first["link"], format!("{base}/en/account/reset-password"));
    let snippet = first["snippet"].as_str().unwrap();
    assert!(!snippet.contains('<') && !snippet.is_empty(), "{snippet}");
    assert!(first["helpful"].is_object(), "{first}");

    let tw = ok(&call(
        client,
        "search",
        json!({"query": "重設密碼", "lang": "zh-tw"}),
    )
    .await);
    assert_eq!(
        tw["results"][0]["path"], "zh-tw/account/reset-password.md",
        "{tw:#}"
    );
    assert_eq!(
        tw["results"][0]["link"],
        format!("{base}/zh-tw/account/reset-password")
    );

    // get_article by link, and in another language of its translation group.
    let article = ok(&call(
        client,
        "get_article",
        json!({"article": format!("{base}/en/account/reset-password")}),
    )
    .await);
    assert_eq!(article["title"], "Reset your password");
    let md = article["markdown"].as_str().unwrap();
    assert!(
        md.starts_with("---\ntitle: \"Reset your password\""),
        "{md}"
    );
    assert!(!md.contains("owner") && !md.contains("maria@"), "{md}");
    let translated = ok(&call(
        client,
        "get_article",
        json!({"article": "en/account/reset-password.md", "lang": "zh-tw"}),
    )
    .await);
    assert_eq!(
        translated["path"], "zh-tw/account/reset-password.md",
        "{translated:#}"
    );
    assert_eq!(translated["title"], "重設密碼");
    assert!(
        translated["markdown"]
            .as_str()
            .unwrap()
            .contains("忘記密碼")
    );

    // answer: a customer's whole message, in both languages.
    let answer = ok(&call(
        client,
        "answer",
        json!({"message": "Hi, I forgot my password and the reset email never arrived. Can you help me get back into my account?"}),
    )
    .await);
    assert_eq!(
        answer["results"][0]["path"], "en/account/reset-password.md",
        "{answer:#}"
    );
    let answer_tw = ok(&call(
        client,
        "answer",
        json!({"message": "您好，我忘記密碼了，重設密碼的郵件一直沒有收到，請問該怎麼辦？", "lang": "zh-tw"}),
    )
    .await);
    assert_eq!(answer_tw["results"][0]["lang"], "zh-tw", "{answer_tw:#}");

    // Bad arguments are tool errors the model reads, not protocol failures.
    assert!(refused(&call(client, "search", json!({"query": "  "})).await).contains("empty"));
    assert!(
        refused(&call(client, "get_article", json!({"article": "en/nope.md"})).await)
            .contains("no article")
    );
    // A draft is not served.
    refused(
        &call(
            client,
            "get_article",
            json!({"article": "en/account/two-factor-authentication.md"}),
        )
        .await,
    );
    let huge = "my parcel never arrived ".repeat(2000);
    assert!(refused(&call(client, "answer", json!({"message": huge})).await).contains("limit"));
    assert!(
        refused(&call(client, "search", json!({"query": "x", "limit": 1000})).await)
            .contains("limit")
    );
    assert!(
        refused(&call(client, "search", json!({"query": "x", "lang": "!!"})).await)
            .contains("lang")
    );
    // Arguments of the wrong shape: an error, and the server still answers afterwards.
    let wrong = client
        .call_tool(
            CallToolRequestParams::new("search")
                .with_arguments(json!({"query": 42}).as_object().unwrap().clone()),
        )
        .await;
    assert!(
        wrong.is_err() || wrong.as_ref().unwrap().is_error == Some(true),
        "{wrong:?}"
    );
    ok(&call(client, "search", json!({"query": "refund"})).await);
}

#[test]
fn an_mcp_client_over_http_uses_the_three_tools_and_is_recorded_as_ai() {
    let dir = Dir::sample();
    let server = Server::start(&dir, &[]);
    runtime().block_on(async {
        let client = connect(http_config(&server)).await.unwrap();
        exercise(&client, &server.base).await;
        // A question the help center has no article for, asked twice.
        for _ in 0..2 {
            let none = ok(&call(&client, "search", json!({"query": "quokka xylophone"})).await);
            assert_eq!(none["results"], json!([]), "{none:#}");
        }
        client.cancel().await.unwrap();
    });
    // AI agents' searches are in the export with their source, their reads of articles too.
    let events = wait_for(&dir, "the AI agent's searches and reads", |e| {
        e.iter().any(|e| e["type"] == "article_fetched")
            && e.iter().filter(|e| e["type"] == "search").count() >= 4
    });
    let searches: Vec<&Value> = events.iter().filter(|e| e["type"] == "search").collect();
    assert!(
        searches.iter().all(|s| s["source"] == "ai"),
        "{searches:#?}"
    );
    assert!(searches.iter().any(|s| s["query"] == "重設密碼"));
    assert!(
        events
            .iter()
            .filter(|e| e["type"] == "article_fetched")
            .all(|e| e["source"] == "ai")
    );
    wait_for(&dir, "the unanswered question", |e| {
        e.iter()
            .filter(|e| e["query"] == "quokka xylophone")
            .count()
            == 2
    });
    // The report lists what AI agents could not find, apart from the customer figures.
    let out = dir.run(&["report", "--format", "json"]);
    out.assert_ok();
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["summary"]["searches"], 0, "{:#}", report["summary"]);
    assert_eq!(report["top_no_results"], json!([]));
    let asked = &report["ai_questions"];
    let quokka = asked
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["query"] == "quokka xylophone")
        .unwrap_or_else(|| panic!("{asked:#}"));
    assert_eq!(quokka["count"], 2);
    assert_eq!(quokka["gap"], "nothing_found");
    assert!(quokka["why"].as_str().unwrap().contains("found nothing"));
    assert!(
        !asked
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["query"] == "重設密碼")
    );
    let zh = dir.run(&["report", "--hl", "zh-tw"]);
    zh.assert_ok();
    assert!(
        zh.stdout.contains("智慧助理無法回答的問題"),
        "{}",
        zh.stdout
    );
    assert!(zh.stdout.contains("quokka xylophone"), "{}", zh.stdout);
}

#[test]
fn the_mcp_endpoint_refuses_foreign_origins_and_wants_its_token_when_set() {
    let dir = Dir::sample();
    let token = "0123456789abcdef0123456789abcdef-mcp";
    let server = Server::start_with_env(&dir, &[], &[("KB_MCP_TOKEN", token)]);
    runtime().block_on(async {
        // No token, a wrong one: refused at initialize.
        assert!(connect(http_config(&server)).await.is_err());
        assert!(
            connect(http_config(&server).auth_header("0123456789abcdef0123456789abcdef-xxx"))
                .await
                .is_err()
        );
        // A foreign Origin (a page on another site, DNS rebinding) is refused even with the token.
        let foreign = HashMap::from([(
            axum::http::header::ORIGIN,
            axum::http::HeaderValue::from_static("https://evil.example"),
        )]);
        assert!(
            connect(
                http_config(&server)
                    .auth_header(token)
                    .custom_headers(foreign)
            )
            .await
            .is_err()
        );
        // The site's own origin and loopback pages are fine.
        let own = HashMap::from([(
            axum::http::header::ORIGIN,
            axum::http::HeaderValue::from_str(&server.base).unwrap(),
        )]);
        let client = connect(http_config(&server).auth_header(token).custom_headers(own))
            .await
            .unwrap();
        let found = ok(&call(&client, "search", json!({"query": "refund"})).await);
        assert!(!found["results"].as_array().unwrap().is_empty());
        client.cancel().await.unwrap();
    });
    // What the refusals look like on the wire.
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    let headers = [
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
    ];
    let r = server.post("/mcp", &headers, init);
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.body.contains("KB_MCP_TOKEN"), "{}", r.body);
    let bearer = format!("Bearer {token}");
    let mut with_token = headers.to_vec();
    with_token.push(("authorization", &bearer));
    assert_eq!(server.post("/mcp", &with_token, init).status, 200);
    let mut foreign = with_token.clone();
    foreign.push(("origin", "https://evil.example"));
    assert_eq!(server.post("/mcp", &foreign, init).status, 403);
    // A page on loopback (an MCP inspector) may; a look-alike host may not.
    let mut inspector = with_token.clone();
    inspector.push(("origin", "http://localhost:6274"));
    assert_eq!(server.post("/mcp", &inspector, init).status, 200);
    let mut lookalike = with_token.clone();
    lookalike.push(("origin", "http://localhost.evil.example"));
    assert_eq!(server.post("/mcp", &lookalike, init).status, 403);
    // A body over the cap is refused before any tool runs.
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"answer","arguments":{{"message":"{}"}}}}}}"#,
        "a".repeat(100 * 1024)
    );
    let r = server.post("/mcp", &with_token, &big);
    assert!(
        r.status == 400 || r.status == 413,
        "{} {}",
        r.status,
        r.body
    );
}

#[test]
fn kb_mcp_serves_the_tools_over_stdio() {
    let dir = Dir::sample();
    dir.run(&["index"]).assert_ok();
    runtime().block_on(async {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_kb"));
        cmd.current_dir(dir.path())
            .args(["mcp", "--base-url", "https://help.example.com"])
            .env("KB_LOG", "warn");
        for (k, _) in std::env::vars() {
            if k.starts_with("KB_") && k != "KB_LOG" {
                cmd.env_remove(k);
            }
        }
        let client = ().serve(TokioChildProcess::new(cmd).unwrap()).await.unwrap();
        exercise(&client, "https://help.example.com").await;
        client.cancel().await.unwrap();
    });
    let events = wait_for(&dir, "the stdio agent's searches", |e| {
        e.iter().filter(|e| e["type"] == "search").count() >= 4
    });
    assert!(
        events
            .iter()
            .filter(|e| e["type"] == "search")
            .all(|s| s["source"] == "ai")
    );
}
