//! Answers in the reader's language (issue 13): one result per translation group in
//! `/api/search`, the results page, `/api/answers`, `kb link`; the reader's language or
//! script first, a labelled fallback, and results that point at the section that answers,
//! whose anchor exists on the article page. On the sample help center (31 articles in five
//! languages), in every interface language.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::util::{BROWSER, Dir, Server, paths};

/// The interface's languages, each with the words of its locale the results page uses:
/// "Also in", the fallback note (before its language), the section label, "Search in all
/// languages".
pub const UI: &[(&str, &str, &str, &str, &str)] = &[
    (
        "en",
        "Also in",
        "not yet in",
        "Section:",
        "Search in all languages",
    ),
    ("zh-cn", "其他语言：", "暂无", "章节：", "在所有语言中搜索"),
    ("zh-tw", "其他語言：", "尚無", "章節：", "搜尋所有語言"),
    (
        "uk",
        "Також:",
        "ще не перекладено",
        "Розділ:",
        "Шукати всіма мовами",
    ),
    (
        "te",
        "ఇతర భాషల్లో:",
        "ఇంకా అందుబాటులో లేదు",
        "విభాగం:",
        "అన్ని భాషల్లో శోధించండి",
    ),
];

/// One server on the sample articles for these read-only tests.
fn server() -> &'static Server {
    static SERVER: OnceLock<(Dir, Server)> = OnceLock::new();
    &SERVER
        .get_or_init(|| {
            let dir = Dir::sample();
            let server = Server::start(&dir, &["--contact-url", "https://support.example/new"]);
            (dir, server)
        })
        .1
}

fn search(params: &[(&str, &str)]) -> Value {
    let (status, json) = server().search(params);
    assert_eq!(status, 200, "{params:?}: {json}");
    json
}

/// The translation group of a result: its path and its translations' paths.
fn group(result: &Value) -> BTreeSet<String> {
    let mut g: BTreeSet<String> = result["translations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["path"].as_str().unwrap().to_string())
        .collect();
    g.insert(result["path"].as_str().unwrap().to_string());
    g
}

/// Checks that no two results of a response are translations of each other.
#[track_caller]
fn one_per_group(json: &Value) {
    let results = json["results"].as_array().unwrap();
    for (i, a) in results.iter().enumerate() {
        for b in &results[i + 1..] {
            assert!(
                group(a).is_disjoint(&group(b)),
                "{} and {} are one article: {json:#}",
                a["path"],
                b["path"]
            );
        }
    }
}

#[test]
fn one_result_per_translation_group_in_the_readers_language() {
    // The example: "password" found the reset-password article five times.
    let all = search(&[("q", "password"), ("limit", "100")]);
    one_per_group(&all);
    assert_eq!(
        all["total"].as_u64().unwrap() as usize,
        all["results"].as_array().unwrap().len(),
        "total counts groups: {all:#}"
    );
    let reset = |lang: &str| format!("{lang}/account/reset-password.md");
    // Each interface language gets its own version, the others listed with it.
    for (hl, ..) in UI {
        let json = search(&[("q", "password"), ("hl", hl)]);
        one_per_group(&json);
        let first = &json["results"][0];
        assert_eq!(first["path"], reset(hl), "{hl}: {json:#}");
        assert_eq!(first["lang"], *hl);
        assert!(first.get("fallback").is_none(), "{first}");
        assert_eq!(json["reader_lang"], *hl);
        let others: BTreeSet<&str> = first["translations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["lang"].as_str().unwrap())
            .collect();
        let expected: BTreeSet<&str> = UI.iter().map(|u| u.0).filter(|l| l != hl).collect();
        assert_eq!(others, expected, "{hl}");
        for t in first["translations"].as_array().unwrap() {
            assert_eq!(
                t["url"],
                format!("/{}/account/reset-password", t["lang"].as_str().unwrap())
            );
            assert!(!t["title"].as_str().unwrap().is_empty());
        }
    }
    // Without `hl`, the query's own language and script.
    for (q, lang) in [("пароль", "uk"), ("పాస్‌వర్డ్", "te"), ("reset password", "en")]
    {
        let json = search(&[("q", q)]);
        assert_eq!(json["results"][0]["path"], reset(lang), "{q}: {json:#}");
        assert_eq!(json["reader_lang"], lang, "{q}");
    }
}

#[test]
fn the_readers_chinese_script_first_and_the_other_labelled() {
    // The zh sites search both scripts (`lang=zh`); each reader gets their own.
    for (hl, q) in [
        ("zh-cn", "重设密码"),
        ("zh-tw", "重设密码"),
        ("zh-cn", "重設密碼"),
        ("zh-tw", "重設密碼"),
    ] {
        let json = search(&[("q", q), ("lang", "zh"), ("hl", hl)]);
        one_per_group(&json);
        assert_eq!(
            json["results"][0]["path"],
            format!("{hl}/account/reset-password.md"),
            "{hl} {q}: {json:#}"
        );
    }
    for hl in ["zh-cn", "zh-tw"] {
        for lang in ["zh", ""] {
            let json = search(&[("q", "退款"), ("lang", lang), ("hl", hl)]);
            assert_eq!(
                json["results"][0]["path"],
                format!("{hl}/billing/refunds.md"),
                "{hl} lang={lang}: {json:#}"
            );
        }
    }
    // No `hl`: Traditional characters ask for zh-tw, Simplified for zh-cn.
    for (q, lang) in [
        ("重設密碼", "zh-tw"),
        ("重设密码", "zh-cn"),
        ("退款申請", "zh-tw"),
        ("申请退款", "zh-cn"),
    ] {
        let json = search(&[("q", q), ("lang", "zh")]);
        assert_eq!(json["reader_lang"], lang, "{q}");
        assert_eq!(
            json["results"][0]["lang"], lang,
            "{q}: the reader's script first: {json:#}"
        );
    }
    // A group with no zh-cn article shows its zh-tw one to a zh-cn reader, labelled.
    let json = search(&[("q", "建立帳號"), ("lang", "zh"), ("hl", "zh-cn")]);
    let first = &json["results"][0];
    assert_eq!(first["path"], "zh-tw/account/create-account.md", "{json:#}");
    assert_eq!(first["fallback"], true);
}

#[test]
fn a_fallback_in_another_language_when_the_readers_has_none() {
    // No Telugu refunds article: the English one (the source language), labelled.
    let json = search(&[("q", "refund"), ("hl", "te")]);
    let first = &json["results"][0];
    assert_eq!(first["path"], "en/billing/refunds.md", "{json:#}");
    assert_eq!(first["fallback"], true);
    assert_eq!(json["reader_lang"], "te");
    // A reader whose language the article has is not a fallback.
    let json = search(&[("q", "refund"), ("hl", "uk")]);
    assert_eq!(json["results"][0]["path"], "uk/billing/refunds.md");
    assert!(json["results"][0].get("fallback").is_none());
    // `lang` stays a filter.
    let json = search(&[("q", "refund"), ("hl", "te"), ("lang", "te")]);
    assert_eq!(json["total"], 0, "{json:#}");
    let json = search(&[("q", "refund"), ("hl", "te"), ("lang", "en")]);
    assert!(
        paths(&json).iter().all(|p| p.starts_with("en/")),
        "{json:#}"
    );
}

#[test]
fn paging_runs_over_groups() {
    let all = search(&[("q", "password account"), ("limit", "100"), ("hl", "en")]);
    let total = all["total"].as_u64().unwrap() as usize;
    assert!(total >= 4, "{all:#}");
    let mut seen = Vec::new();
    for offset in (0..total).step_by(2) {
        let page = search(&[
            ("q", "password account"),
            ("limit", "2"),
            ("offset", &offset.to_string()),
            ("hl", "en"),
        ]);
        assert_eq!(page["total"].as_u64().unwrap() as usize, total);
        seen.extend(paths(&page));
    }
    assert_eq!(seen, paths(&all));
    let none = search(&[("q", "password account"), ("limit", "0")]);
    assert_eq!(none["total"].as_u64().unwrap() as usize, total);
}

/// The `id`s of an article page's headings.
fn page_ids(url: &str) -> Vec<String> {
    let (status, page) = server().get(url.split('#').next().unwrap());
    assert_eq!(status, 200, "{url}");
    page.split(" id=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_string())
        .collect()
}

fn decoded(fragment: &str) -> String {
    percent_encoding::percent_decode_str(fragment)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

#[test]
fn results_point_at_the_section_that_answers_and_its_anchor_exists() {
    for (q, lang, path, anchor) in [
        (
            "skip a delivery",
            "en",
            "en/billing/pause-or-cancel-subscription.md",
            "skip-one-delivery",
        ),
        (
            "light ring",
            "en",
            "en/troubleshooting/grinder-wont-connect.md",
            "check-the-light-ring-first",
        ),
        (
            "跳过一次配送",
            "zh-cn",
            "zh-cn/billing/pause-or-cancel-subscription.md",
            "跳过一次配送",
        ),
        (
            "пропустити доставку",
            "uk",
            "uk/billing/pause-or-cancel-subscription.md",
            "пропустити-одну-доставку",
        ),
    ] {
        let json = search(&[("q", q), ("lang", lang)]);
        let first = &json["results"][0];
        assert_eq!(first["path"], path, "{q}: {json:#}");
        let url = first["url"].as_str().unwrap();
        let (page, fragment) = url
            .split_once('#')
            .unwrap_or_else(|| panic!("{q}: no section in {url}"));
        assert_eq!(decoded(fragment), anchor, "{q}");
        assert_eq!(first["section"]["anchor"], anchor);
        assert!(!first["section"]["heading"].as_str().unwrap().is_empty());
        assert!(
            page_ids(page).contains(&anchor.to_string()),
            "{q}: #{anchor} is not an id on {page}"
        );
        // The snippet comes from that section.
        let heading = first["section"]["heading"].as_str().unwrap();
        let snippet = first["snippet"]
            .as_str()
            .unwrap()
            .replace("<mark>", "")
            .replace("</mark>", "");
        assert!(snippet.contains(heading), "{q}: {snippet}");
        // `sections=false` keeps the article's own address.
        let whole = search(&[("q", q), ("lang", lang), ("sections", "false")]);
        assert!(
            !whole["results"][0]["url"].as_str().unwrap().contains('#'),
            "{whole:#}"
        );
        assert!(whole["results"][0].get("section").is_none());
    }
    // A query the title answers as a whole points at the article's top.
    let json = search(&[("q", "reset your password"), ("lang", "en")]);
    assert_eq!(json["results"][0]["url"], "/en/account/reset-password");
    // Every section anchor any search points at exists on its page.
    for q in [
        "password",
        "delivery",
        "refund card",
        "bluetooth",
        "密码",
        "订阅",
        "підписка",
    ] {
        let json = search(&[("q", q), ("limit", "20")]);
        for r in json["results"].as_array().unwrap() {
            if let Some((page, fragment)) = r["url"].as_str().unwrap().split_once('#') {
                assert!(
                    page_ids(page).contains(&decoded(fragment)),
                    "{q}: #{fragment} is not an id on {page}"
                );
            }
        }
    }
    assert_eq!(server().search(&[("q", "x"), ("sections", "maybe")]).0, 400);
}

#[test]
fn answers_to_a_message_come_in_its_language_and_script() {
    let s = server();
    for (message, hl, expected) in [
        (
            "你好，我忘記了密碼，登入頁面一直說密碼錯誤，請問該怎麼重設密碼？",
            None,
            "zh-tw/account/reset-password.md",
        ),
        (
            "你好，我忘记了密码，登录页面一直说密码错误，请问该怎么重置密码？",
            Some("en"),
            "zh-cn/account/reset-password.md",
        ),
        (
            "Добрий день! Я забув пароль і не можу увійти в обліковий запис. Що робити?",
            Some("en"),
            "uk/account/reset-password.md",
        ),
    ] {
        let body = match hl {
            Some(hl) => json!({ "text": message, "hl": hl }),
            None => json!({ "text": message }),
        };
        let reply = s.post("/api/answers", &[BROWSER], &body.to_string());
        assert_eq!(reply.status, 200, "{}", reply.body);
        let json = reply.json();
        one_per_group(&json);
        assert_eq!(json["results"][0]["path"], expected, "{message}: {json:#}");
        // Agents get each other language ready to paste.
        let other = &json["results"][0]["translations"][0];
        assert!(
            other["link"].as_str().unwrap().starts_with("http"),
            "{other}"
        );
        assert!(
            other["copy"]["markdown"]
                .as_str()
                .unwrap()
                .contains(other["url"].as_str().unwrap())
        );
    }
}

#[test]
fn the_results_page_groups_labels_and_points_at_sections_in_every_language() {
    for (hl, also_in, fallback, section, search_all) in UI {
        // Grouped, with the other languages linked.
        let (status, page) = server().get(&format!("/search?q=password&lang=&hl={hl}"));
        assert_eq!(status, 200);
        let page = page.replace("&#x2f;", "/");
        assert!(page.contains(also_in), "{hl}: {page}");
        // The article once (in the reader's language), its four translations linked under it.
        for (lang, ..) in UI {
            assert_eq!(
                page.matches(&format!("href=\"/{lang}/account/reset-password"))
                    .count(),
                1,
                "{hl}: {lang} {page}"
            );
        }
        let first = page
            .find("href=\"/")
            .map(|_| ())
            .and(page.find("<ol class=\"results\""));
        let first_result = &page[first.unwrap()..];
        assert!(
            first_result.contains(&format!("<h2><a href=\"/{hl}/account/reset-password")),
            "{hl}: {page}"
        );
        // A fallback, labelled with the reader's language.
        let (_, page) = server().get(&format!("/search?q=refund&lang=&hl={hl}"));
        let page = page.replace("&#x2f;", "/");
        let refunds = page
            .split("<li>")
            .find(|li| li.contains("/billing/refunds"))
            .unwrap_or_else(|| panic!("{hl}: {page}"));
        if *hl == "te" {
            assert!(refunds.contains(fallback), "{hl}: {refunds}");
        } else {
            assert!(!refunds.contains("class=\"fallback\""), "{hl}: {refunds}");
        }
        // The section a result points at, under its title (an English article, as the
        // filter asks).
        let (_, page) = server().get(&format!(
            "/search?q={}&lang=en&hl={hl}",
            percent_encoding::utf8_percent_encode(
                "skip a delivery",
                percent_encoding::NON_ALPHANUMERIC
            )
        ));
        let page = page.replace("&#x2f;", "/");
        assert!(page.contains(section), "{hl}: {page}");
        assert!(page.contains("#skip-one-delivery\""), "{hl}: {page}");
        // A filter that leaves nothing: a real link to the same search in all languages,
        // and what the other languages have.
        let (_, page) = server().get(&format!("/search?q=refund&lang=te&hl={hl}"));
        let page = page.replace("&#x2f;", "/").replace("&amp;", "&");
        assert!(page.contains(search_all), "{hl}: {page}");
        assert!(
            page.contains(&format!("href=\"/search?q=refund&hl={hl}\"")),
            "{hl}: {page}"
        );
        assert!(page.contains("/en/billing/refunds"), "{hl}: {page}");
    }
}

#[test]
fn kb_link_gives_one_link_per_group_in_the_agents_language() {
    let dir = Dir::sample();
    let out = dir.run(&["link", "password", "--limit", "5"]);
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("/account/reset-password"))
            .count(),
        1,
        "{}",
        out.stdout
    );
    assert!(
        lines[0].contains("/en/account/reset-password"),
        "{}",
        out.stdout
    );
    // The other languages, for the agent to see (not to paste).
    assert!(out.stderr.contains("also in"), "{}", out.stderr);
    assert!(
        out.stderr.contains("/uk/account/reset-password"),
        "{}",
        out.stderr
    );
    for hl in ["uk", "te", "zh-cn", "zh-tw"] {
        let out = dir.run(&["link", "password", "--hl", hl, "--limit", "1"]);
        out.assert_ok();
        assert!(
            out.stdout
                .contains(&format!("/{hl}/account/reset-password")),
            "{hl}: {}",
            out.stdout
        );
    }
    // A message in Traditional characters gets the zh-tw link without --lang.
    let out =
        dir.kb()
            .args(["link", "--stdin", "--limit", "1"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(
                    "您好，我上週的訂單想要申請退款，請問退款要多久才會入帳？".as_bytes(),
                )?;
                child.wait_with_output()
            })
            .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("/zh-tw/billing/refunds"), "{stdout}");
    // Sections, or the article's top.
    let out = dir.run(&["link", "skip a delivery", "--lang", "en", "--limit", "1"]);
    assert!(
        out.stdout
            .contains("/en/billing/pause-or-cancel-subscription#skip-one-delivery"),
        "{}",
        out.stdout
    );
    let out = dir.run(&[
        "link",
        "skip a delivery",
        "--lang",
        "en",
        "--limit",
        "1",
        "--whole-article",
    ]);
    assert!(
        out.stdout
            .contains("/en/billing/pause-or-cancel-subscription)"),
        "{}",
        out.stdout
    );
}

/// Telugu readers search for "refund" on the Telugu pages, find nothing (no Telugu article
/// has the word) and three of them contact support: the report asks for a Telugu
/// translation of the article that answers in another language, naming `te` and the
/// article, and prints no line holding only a full stop.
#[test]
fn telugu_searches_that_find_nothing_ask_for_a_translation_into_telugu() {
    use kb::metrics::sqlite::SqliteStore;
    use kb::metrics::{Action, ActionKind, DAY, Event, EventStore, Search, Source};
    let dir = Dir::sample();
    let now = kb::metrics::now();
    let mut events = Vec::new();
    for v in 0..5 {
        let id = format!("s{v:031}");
        let visitor = format!("te-reader{v:023}");
        let at = now - (v + 1) * DAY;
        events.push(Event::Search(Search {
            id: id.clone(),
            at,
            visitor: Some(visitor.clone()),
            query: "refund".into(),
            normalized: kb::search::normalize_query("refund"),
            lang: Some("te".into()),
            total: 0,
            source: Source::Customer,
            results: Vec::new(),
            partial: false,
            ui: Some("te".into()),
        }));
        if v < 3 {
            events.push(Event::Action(Action {
                at: at + 30_000,
                visitor: Some(visitor),
                kind: ActionKind::ContactClicked,
                path: None,
                query: Some("refund".into()),
                search_id: Some(id),
                source: Some(Source::Customer),
            }));
        }
    }
    let mut store = SqliteStore::open(&dir.path().join("data")).unwrap();
    store.append(&events).unwrap();
    drop(store);

    let out = dir.run(&["report", "--format", "json"]);
    out.assert_ok();
    let r: Value = serde_json::from_str(&out.stdout).unwrap();
    let need = r["to_write"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["query"] == "refund")
        .unwrap_or_else(|| panic!("{:#}", r["to_write"]));
    assert_eq!(need["languages"], json!(["te"]), "{need:#}");
    assert_eq!(need["advice"], "translate", "{need:#}");
    assert_eq!(need["searches"], 5, "{need:#}");
    assert_eq!(need["contacts"], 3, "{need:#}");
    assert_eq!(
        need["closest"][0]["path"], "en/billing/refunds.md",
        "{need:#}"
    );

    let md = dir.run(&["report"]);
    md.assert_ok();
    let line = md
        .stdout
        .lines()
        .find(|l| l.contains("refund") && l.contains("te"))
        .unwrap_or_else(|| panic!("{}", md.stdout));
    assert!(!line.contains(" zh"), "{line}");
    assert!(
        md.stdout.lines().all(|l| l.trim() != "."),
        "a line holding only a full stop: {}",
        md.stdout
    );
}
