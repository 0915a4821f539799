//! The command line: `kb index` and `kb search`, and the index's life cycle.

use std::time::Duration;

use crate::util::{Dir, Server};

#[test]
fn index_reports_changes_and_broken_articles() {
    let dir = Dir::fixture("help-center");
    let out = dir.run(&["index"]);
    out.assert_ok();
    assert!(
        out.stdout.contains("indexed 11 articles")
            && out
                .stdout
                .contains("11 added, 0 updated, 0 removed, 0 unchanged")
            && out.stdout.contains("2 skipped"),
        "{}",
        out.stdout
    );
    // Broken articles are reported as path:line: message.
    let bad_yaml = out
        .stderr
        .lines()
        .find(|l| l.starts_with("articles/broken/bad-yaml.md:"))
        .unwrap_or_else(|| panic!("{}", out.stderr));
    let line: usize = bad_yaml.split(':').nth(1).unwrap().parse().unwrap();
    assert!((3..=4).contains(&line), "{bad_yaml}");
    assert!(bad_yaml.contains("YAML"), "{bad_yaml}");
    assert!(
        out.stderr
            .contains("articles/broken/not-utf8.md:2: not valid UTF-8"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains(" s:"), "timing missing: {}", out.stdout);

    // Nothing changed: nothing re-read.
    let out = dir.run(&["index"]);
    assert!(
        out.stdout
            .contains("0 added, 0 updated, 0 removed, 11 unchanged"),
        "{}",
        out.stdout
    );

    // Only what changed is re-indexed.
    dir.write("en/billing/refunds.md", "# Refunds\n\nNew refund rules.");
    dir.remove("en/account/close-account.md");
    dir.write("en/account/new.md", "# New article");
    let out = dir.run(&["index"]);
    assert!(
        out.stdout
            .contains("1 added, 1 updated, 1 removed, 9 unchanged"),
        "{}",
        out.stdout
    );
    let out = dir.run(&["search", "new refund rules", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["results"][0]["path"], "en/billing/refunds.md");
}

#[test]
fn search_prints_readable_results_and_the_api_json() {
    let dir = Dir::fixture("help-center");
    dir.run(&["index"]).assert_ok();
    let out = dir.run(&["search", "refund"]);
    out.assert_ok();
    assert!(out.stdout.contains("Refunds and returns"), "{}", out.stdout);
    assert!(out.stdout.contains("/en/billing/refunds"), "{}", out.stdout);
    assert!(!out.stdout.contains("<mark>"), "{}", out.stdout);

    let out = dir.run(&["search", "密碼", "--lang", "zh", "--json", "--limit", "5"]);
    out.assert_ok();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["query"], "密碼");
    // Both scripts' articles are translations of one article: one result, in the query's
    // script (密碼 is Traditional), the other among its translations.
    assert_eq!(json["total"], 1);
    assert_eq!(
        json["results"][0]["path"],
        "zh-tw/account/reset-password.md"
    );
    assert_eq!(
        json["results"][0]["translations"][0]["lang"], "zh-cn",
        "{json}"
    );
    for key in ["path", "url", "title", "lang", "snippet", "score"] {
        assert!(
            json["results"][0].get(key).is_some(),
            "{key} missing: {json}"
        );
    }

    let out = dir.run(&["search", "zzzzqqqq"]);
    out.assert_ok();
    assert!(out.stdout.contains("no results"), "{}", out.stdout);
}

#[test]
fn search_builds_a_missing_index_first() {
    let dir = Dir::fixture("help-center");
    let out = dir.run(&["search", "refund", "--json"]);
    out.assert_ok();
    assert!(out.stderr.contains("indexing"), "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["results"][0]["path"], "en/billing/refunds.md");
}

#[test]
fn an_index_from_another_version_is_rebuilt() {
    let dir = Dir::fixture("help-center");
    dir.run(&["index"]).assert_ok();
    let meta_path = dir.index().join("meta.json");
    let meta = std::fs::read_to_string(&meta_path).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&meta).unwrap();
    json["payload"] = serde_json::Value::String(r#"{"format":0,"analyzer":0}"#.into());
    std::fs::write(&meta_path, json.to_string()).unwrap();
    let out = dir.run(&["index"]);
    out.assert_ok();
    assert!(out.stderr.contains("another kb version"), "{}", out.stderr);
    assert!(out.stdout.contains("11 added"), "{}", out.stdout);
}

#[test]
fn a_damaged_index_is_rebuilt() {
    let dir = Dir::fixture("help-center");
    dir.run(&["index"]).assert_ok();
    // Lose a segment file, as a crash of the disk or a careless cleanup would.
    let segment_file = std::fs::read_dir(dir.index())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "idx"))
        .unwrap();
    std::fs::remove_file(segment_file).unwrap();
    let out = dir.run(&["index"]);
    out.assert_ok();
    assert!(out.stderr.contains("could not be opened"), "{}", out.stderr);
    assert!(out.stdout.contains("11 added"), "{}", out.stdout);
    dir.run(&["search", "refund"]).assert_ok();
}

#[test]
fn an_interrupted_build_leaves_an_index_that_opens() {
    let dir = Dir::new();
    for i in 0..1500 {
        dir.write(
            &format!("en/topic-{}/article-{i}.md", i % 20),
            format!(
                "---\ntitle: Article {i}\n---\n\nArticle number {i} explains setting {} of the \
                 coffee grinder, step by step, with the words calibrate and burr.\n",
                i * 7
            ),
        );
    }
    // Kill the build at several moments; each time the next run must open what is there.
    for delay in [150u64, 600, 1500] {
        let mut child = dir.kb().args(["index"]).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        let out = dir.run(&["search", "calibrate burr", "--json", "--limit", "1"]);
        out.assert_ok();
    }
    let out = dir.run(&["index"]);
    out.assert_ok();
    assert!(
        out.stdout.contains("indexed 1500 articles"),
        "{}",
        out.stdout
    );
    let out = dir.run(&["search", "article 1234", "--json", "--limit", "1"]);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["results"][0]["title"], "Article 1234");
}

#[test]
fn a_second_writer_gets_a_clear_error() {
    let dir = Dir::fixture("help-center");
    let _server = Server::start(&dir, &[]);
    let out = dir.run(&["index"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("kb serve"), "{}", out.stderr);
    // Searching still works while the server holds the index.
    dir.run(&["search", "refund"]).assert_ok();
}

#[test]
fn a_missing_articles_folder_is_a_clear_error() {
    let dir = Dir::new();
    let out = dir.run(&["index", "--articles", "no-such-folder"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("no-such-folder"), "{}", out.stderr);
}

// See: issue 11.
#[test]
fn r11_index_skips_links_outside_and_oversized_articles() {
    let dir = Dir::new();
    crate::check::hostile_folder(&dir);
    // A newline in a file name cannot start a log line of its own.
    dir.write("en/bad\nkb: all fine.md", "---\ntitle: [\n---\n");
    let out = dir.run(&["index"]);
    out.assert_ok();
    assert!(
        out.stdout.contains("indexed 1 articles") && out.stdout.contains("4 skipped"),
        "{}",
        out.stdout
    );
    for expected in [
        "articles/en/big.md:1: the file is 1.4 MiB",
        "articles/en/docs:1: a symbolic link to ",
        "articles/en/p.md:1: a symbolic link to ",
        "articles/en/bad\\nkb: all fine.md:2: ",
    ] {
        assert!(
            out.stderr.lines().any(|l| l.starts_with(expected)),
            "no {expected:?} in\n{}",
            out.stderr
        );
    }
    assert!(!out.stderr.lines().any(|l| l.starts_with("kb: all fine")));
    for q in ["hunter2", "swordfish", "enormous"] {
        let out = dir.run(&["search", q, "--json"]);
        let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(json["total"], 0, "{q}: {json}");
    }
    let out = dir.run(&["index", "--max-article-size", "2MiB"]);
    assert!(out.stdout.contains("1 added"), "{}", out.stdout);
    let out = dir.run(&["search", "enormous", "--json"]);
    assert!(out.stdout.contains("en/big.md"), "{}", out.stdout);
}

// See: issue 11 (after `kill -9` during the first `kb index`, `kb search` answered nothing
// and exit 0).
#[test]
fn r11_search_and_link_say_when_the_index_is_missing_or_incomplete() {
    // No index, and no articles to build one from: an error naming the fix, nothing created.
    let dir = Dir::new();
    std::fs::remove_dir(dir.articles()).unwrap();
    for cmd in ["search", "link"] {
        let out = dir.run(&[cmd, "refund"]);
        assert_eq!(out.code, Some(2), "{}", out.stderr);
        assert!(
            out.stderr.contains("no index") && out.stderr.contains("run `kb index"),
            "{}",
            out.stderr
        );
        assert!(!dir.index().exists());
    }

    // What `kill -9` during the first build leaves: tantivy's empty index, never committed.
    let dir = Dir::fixture("help-center");
    drop(kb::index::SearchIndex::open_or_create(&dir.index()).unwrap());
    let moved = dir.path().join("elsewhere");
    std::fs::rename(dir.articles(), &moved).unwrap();
    let out = dir.run(&["search", "refund"]);
    assert_eq!(out.code, Some(2), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("the index is incomplete") && out.stderr.contains("run `kb index"),
        "{}",
        out.stderr
    );
    // With the articles back, the search finishes the build first, and says so.
    std::fs::rename(&moved, dir.articles()).unwrap();
    let out = dir.run(&["link", "refund"]);
    out.assert_ok();
    assert!(
        out.stderr.contains("the index is incomplete"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("/en/billing/refunds"), "{}", out.stdout);
    let out = dir.run(&["search", "refund"]);
    out.assert_ok();
    assert!(!out.stderr.contains("incomplete"), "{}", out.stderr);
}
