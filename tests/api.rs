//! The HTTP API against a real `kb serve` on the fixture help center.

use std::sync::OnceLock;

use crate::util::{Dir, Server, paths};

/// One server for the read-only tests of this module (starting one per test would only make
/// the suite slower).
fn server() -> &'static Server {
    static SERVER: OnceLock<(Dir, Server)> = OnceLock::new();
    &SERVER
        .get_or_init(|| {
            let dir = Dir::fixture("help-center");
            let server = Server::start(&dir, &[]);
            (dir, server)
        })
        .1
}

#[test]
fn healthz_counts_the_indexed_articles() {
    let (status, body) = server().get("/healthz");
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    // 11 articles (the draft included); the 2 broken and 2 hidden files are not.
    assert_eq!(json["articles"], 11, "{json}");
}

#[test]
fn search_response_has_the_interface_shape() {
    let (status, json) = server().search(&[("q", "refund")]);
    assert_eq!(status, 200);
    assert_eq!(json["query"], "refund");
    assert!(json["total"].as_u64().unwrap() >= 1);
    assert!(json["took_ms"].as_f64().unwrap() >= 0.0);
    let first = &json["results"][0];
    assert_eq!(first["path"], "en/billing/refunds.md");
    assert_eq!(first["url"], "/en/billing/refunds");
    assert_eq!(first["title"], "Refunds and returns");
    assert_eq!(first["lang"], "en");
    assert!(first["score"].as_f64().unwrap() > 0.0);
    let snippet = first["snippet"].as_str().unwrap();
    assert!(snippet.contains("<mark>refund</mark>"), "{snippet}");
}

#[test]
fn snippets_are_escaped_and_mark_every_matched_word() {
    let (_, json) = server().search(&[("q", "shipping address")]);
    let snippet = json["results"][0]["snippet"].as_str().unwrap();
    assert_eq!(json["results"][0]["path"], "en/shipping/track-order.md");
    assert!(snippet.contains("<mark>Shipping</mark>"), "{snippet}");
    assert!(snippet.contains("<mark>address</mark>"), "{snippet}");
    // The only tags in a snippet are marks.
    let stripped = snippet.replace("<mark>", "").replace("</mark>", "");
    assert!(
        !stripped.contains('<') && !stripped.contains('>'),
        "{snippet}"
    );
}

#[test]
fn lang_filter_matches_subtags_case_insensitively() {
    let s = server();
    // `zh` keeps both scripts; the two are translations of one article, so one result in
    // the query's script (密码 is Simplified), the other listed with it.
    let (_, zh) = s.search(&[("q", "密码"), ("lang", "zh")]);
    assert_eq!(paths(&zh), ["zh-cn/account/reset-password.md"]);
    assert_eq!(zh["total"], 1);
    let others: Vec<&str> = zh["results"][0]["translations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["lang"].as_str().unwrap())
        .collect();
    assert!(others.contains(&"zh-tw"), "{zh}");
    assert_eq!(
        s.paths(&[("q", "密码"), ("lang", "zh"), ("hl", "zh-tw")]),
        ["zh-tw/account/reset-password.md"]
    );
    assert_eq!(
        s.paths(&[("q", "密码"), ("lang", "zh-cn")]),
        ["zh-cn/account/reset-password.md"]
    );
    assert_eq!(
        s.paths(&[("q", "密码"), ("lang", "ZH-TW")]),
        ["zh-tw/account/reset-password.md"]
    );
    assert!(s.paths(&[("q", "refund"), ("lang", "uk")]).is_empty());
}

#[test]
fn simplified_and_traditional_queries_find_both_scripts() {
    let s = server();
    // Both scripts' articles match (each its own language filter); without one they are
    // one result, in the query's script, with the other among its translations.
    for (q, shown) in [
        ("重設密碼", "zh-tw"),
        ("重设密码", "zh-cn"),
        ("忘記密碼", "zh-tw"),
    ] {
        for lang in ["zh-cn", "zh-tw"] {
            let p = s.paths(&[("q", q), ("lang", lang)]);
            assert_eq!(p, [format!("{lang}/account/reset-password.md")], "{q}");
        }
        let (_, json) = s.search(&[("q", q)]);
        assert_eq!(
            json["results"][0]["path"],
            format!("{shown}/account/reset-password.md"),
            "{q}: {json}"
        );
        let other = if shown == "zh-cn" { "zh-tw" } else { "zh-cn" };
        let translations = json["results"][0]["translations"].to_string();
        assert!(translations.contains(other), "{q}: {json}");
    }
    // Regional idioms: the Taiwan 軟體 finds the mainland 软件, and the other way round.
    assert!(
        s.paths(&[("q", "軟體"), ("lang", "zh-cn")])
            .contains(&"zh-cn/account/reset-password.md".into())
    );
    assert!(
        s.paths(&[("q", "软件"), ("lang", "zh-tw")])
            .contains(&"zh-tw/account/reset-password.md".into())
    );
    // Marks land on the original characters.
    let (_, json) = s.search(&[("q", "密码"), ("lang", "zh-tw")]);
    let snippet = json["results"][0]["snippet"].as_str().unwrap();
    assert!(snippet.contains("<mark>密碼</mark>"), "{snippet}");
}

#[test]
fn telugu_words_are_found_whole_and_marked() {
    let (_, json) = server().search(&[("q", "పాస్‌వర్డ్")]);
    assert_eq!(
        json["results"][0]["path"], "te/account/reset-password.md",
        "{json}"
    );
    let snippet = json["results"][0]["snippet"].as_str().unwrap();
    assert!(snippet.contains("<mark>పాస్‌వర్డ్</mark>"), "{snippet}");
    // Another inflected word, not a fragment of one.
    let p = server().paths(&[("q", "సమస్య")]);
    assert_eq!(p, ["te/account/reset-password.md"]);
}

#[test]
fn ukrainian_forms_and_apostrophes_match() {
    let s = server();
    // паролі is not in the text; пароль and паролю are.
    let (_, json) = s.search(&[("q", "паролі")]);
    assert_eq!(json["results"][0]["path"], "uk/account/reset-password.md");
    let snippet = json["results"][0]["snippet"].as_str().unwrap();
    assert!(snippet.contains("<mark>пароль</mark>"), "{snippet}");
    // The text writes пʼять (U+02BC); people type п'ять or п’ять.
    for q in ["п'ять", "п’ять"] {
        assert_eq!(
            s.paths(&[("q", q)]),
            ["uk/account/reset-password.md"],
            "{q}"
        );
    }
}

#[test]
fn language_falls_back_to_the_text() {
    let (_, json) = server().search(&[("q", "мовної теки")]);
    assert_eq!(json["results"][0]["path"], "misc/no-language-folder.md");
    assert_eq!(json["results"][0]["lang"], "uk");
}

#[test]
fn titles_fall_back_to_the_first_heading() {
    let (_, json) = server().search(&[("q", "forgot password"), ("lang", "en")]);
    assert_eq!(json["results"][0]["title"], "Reset your password");
}

#[test]
fn drafts_broken_and_hidden_files_are_not_served() {
    let s = server();
    assert!(s.paths(&[("q", "verification")]).is_empty(), "draft found");
    assert!(
        s.paths(&[("q", "zebracorn")]).is_empty(),
        "broken file found"
    );
    assert!(
        s.paths(&[("q", "unicornfish")]).is_empty(),
        "hidden file found"
    );
    assert_eq!(s.get("/en/account/two-factor").0, 404);
}

#[test]
fn typos_still_find_their_article() {
    let s = server();
    assert_eq!(s.paths(&[("q", "refnuds")])[0], "en/billing/refunds.md");
    assert_eq!(s.paths(&[("q", "invocie")])[0], "en/billing/invoices.md");
    assert_eq!(
        s.paths(&[("q", "pasword reset")])[0],
        "en/account/reset-password.md"
    );
}

#[test]
fn the_last_word_is_completed_while_typing() {
    let s = server();
    assert_eq!(
        s.paths(&[("q", "passw"), ("lang", "en")])[0],
        "en/account/reset-password.md"
    );
    assert_eq!(
        s.paths(&[("q", "track your deliv")])[0],
        "en/shipping/track-order.md"
    );
}

#[test]
fn paging_and_total() {
    let s = server();
    let (_, all) = s.search(&[("q", "account password refund shipping"), ("limit", "100")]);
    let total = all["total"].as_u64().unwrap() as usize;
    let all = paths(&all);
    assert!(total >= 4 && total == all.len(), "{total} {all:?}");
    let (_, page) = s.search(&[
        ("q", "account password refund shipping"),
        ("limit", "2"),
        ("offset", "1"),
    ]);
    assert_eq!(page["total"].as_u64().unwrap() as usize, total);
    assert_eq!(paths(&page), all[1..3]);
    let (_, none) = s.search(&[("q", "refund"), ("limit", "0")]);
    assert!(none["results"].as_array().unwrap().is_empty());
    assert!(none["total"].as_u64().unwrap() >= 1);
}

#[test]
fn empty_and_missing_queries_get_no_results() {
    let s = server();
    for params in [
        vec![("q", "")],
        vec![],
        vec![("q", "   ")],
        vec![("q", "!!! ???")],
    ] {
        let (status, json) = s.search(&params);
        assert_eq!(status, 200);
        assert_eq!(json["total"], 0);
        assert!(json["results"].as_array().unwrap().is_empty());
    }
}

#[test]
fn query_syntax_is_plain_text() {
    let s = server();
    for q in [
        "\"refund",
        "refund AND (title:x OR y*) -z ~2 ^3",
        "[a TO b] {c} refund",
        "refund\\",
        "title:refund",
        "+refund -shipping",
        "*",
        "?",
        "~",
        "\"\"",
        "((((",
    ] {
        let (status, json) = s.search(&[("q", q)]);
        assert_eq!(status, 200, "{q}: {json}");
        if q.contains("refund") {
            assert_eq!(json["results"][0]["path"], "en/billing/refunds.md", "{q}");
        }
    }
}

#[test]
fn huge_and_odd_queries_get_200_or_400_never_500() {
    let s = server();
    let long = "refund ".repeat(1500); // 10.5 kB
    let (status, json) = s.search(&[("q", &long)]);
    assert_eq!(status, 400, "{json}");
    assert!(
        json["error"].as_str().unwrap().contains("too long"),
        "{json}"
    );
    let many_words: String = (0..500).map(|i| format!("w{i} ")).collect();
    assert_eq!(s.search(&[("q", &many_words)]).0, 200);
    let zalgo = format!("r{}efund", "\u{301}".repeat(2000));
    let odd = [
        "\u{0}",
        "\u{feff}\u{200b}\u{200d}",
        "🙂👍🏽👨‍👩‍👧",
        "مرحبا بالعالم",
        "\u{202e}dnufer",
        zalgo.as_str(),
        "\u{10ffff}\u{e000}\u{fffd}",
        "𠀀𠀁𪜀",
        "ﷺ ﷽ ǅ İ ß",
        "a\nb\tc\rd",
    ];
    for q in odd {
        let (status, json) = s.search(&[("q", q)]);
        assert!(status == 200 || status == 400, "{q:?}: {status} {json}");
    }
    // Invalid UTF-8 and broken escapes in the raw query string.
    for raw in ["q=%FF%FE", "q=%", "q=%zz", "q=a&q=b&limit=", "lang=%00&q=x"] {
        let (status, body) = s.get(&format!("/api/search?{raw}"));
        assert!(status == 200 || status == 400, "{raw}: {status} {body}");
    }
}

#[test]
fn bad_parameters_are_400_with_a_message() {
    let s = server();
    for (params, word) in [
        (vec![("q", "x"), ("limit", "abc")], "limit"),
        (vec![("q", "x"), ("limit", "1000")], "limit"),
        (vec![("q", "x"), ("offset", "-1")], "offset"),
        (
            vec![("q", "x"), ("offset", "99999999999999999999")],
            "offset",
        ),
        (vec![("q", "x"), ("lang", "!!")], "lang"),
        (vec![("q", "x"), ("source", "robot")], "source"),
    ] {
        let (status, json) = s.search(&params);
        assert_eq!(status, 400, "{params:?}: {json}");
        assert!(
            json["error"].as_str().unwrap().contains(word),
            "{params:?}: {json}"
        );
    }
    assert_eq!(s.search(&[("q", "x"), ("source", "agent")]).0, 200);
}

#[test]
fn unknown_api_routes_are_json_404() {
    let (status, body) = server().get("/api/nope");
    assert_eq!(status, 404);
    assert!(body.contains("\"error\""), "{body}");
}

#[test]
fn result_urls_serve_the_rendered_article() {
    let (status, html) = server().get("/en/billing/invoices");
    assert_eq!(status, 200);
    assert!(html.contains("Understand your invoice"));
    assert!(html.contains("<table>"), "{html}");
    let (status, _) = server().get("/en/billing/no-such-article");
    assert_eq!(status, 404);
}

#[test]
fn drafts_are_served_with_the_drafts_flag() {
    let dir = Dir::fixture("help-center");
    let s = Server::start(&dir, &["--drafts"]);
    assert_eq!(
        s.paths(&[("q", "verification")]),
        ["en/account/two-factor.md"]
    );
    assert_eq!(s.get("/en/account/two-factor").0, 200);
}
