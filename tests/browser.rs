//! The help center in a real browser: headless Chromium driven through ChromeDriver
//! (Debian's `chromium` and `chromium-driver`, which `.ci/run` installs). These tests fail,
//! never skip, when the browser is missing.
//!
//! `KB_SCREENSHOTS=docs/screenshots cargo test --test tests browser::screenshots` writes
//! the README's screenshots.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator, key::Key};

use kb::metrics::MetricsReader;

use crate::util::{BROWSER, Dir, Server, wait_for};

fn find_program(env: &str, names: &[&str]) -> PathBuf {
    if let Ok(p) = std::env::var(env) {
        return PathBuf::from(p);
    }
    for name in names {
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let p = Path::new(dir).join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "the browser tests need Chromium and ChromeDriver: `apt-get install chromium chromium-driver` \
         (.ci/run does), or point {env} at the program"
    );
}

/// A ChromeDriver process and a headless Chromium session, for one test.
struct Browser {
    client: Option<Client>,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start(width: u32, height: u32) -> Browser {
        Browser::start_with(width, height, true).await
    }

    /// A browser with JavaScript on or off (as some readers have it).
    async fn start_with(width: u32, height: u32, javascript: bool) -> Browser {
        let chromedriver = find_program("KB_CHROMEDRIVER", &["chromedriver"]);
        let chromium = find_program(
            "KB_CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome"],
        );
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let profile = tempfile::tempdir().unwrap();
        let mut driver = Command::new(chromedriver);
        driver
            .arg(format!("--port={port}"))
            // Chromium leaves empty `org.chromium.*` folders in TMPDIR: keep them in the profile.
            .env("TMPDIR", profile.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let driver = crate::util::spawn_owned(driver);
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": {
                    "profile.managed_default_content_settings.javascript": if javascript { 1 } else { 2 },
                },
            }),
        );
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(c) => break c,
                Err(e) if started.elapsed() < Duration::from_secs(30) => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot start a Chromium session through chromedriver: {e}"),
            }
        };
        client.set_window_size(width, height).await.ok();
        Browser {
            client: Some(client),
            driver,
            _profile: profile,
        }
    }

    fn c(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    async fn text(&self, css: &str) -> String {
        self.c()
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    /// Opens `path` (with its query string) on the server at `base`.
    async fn open(&self, base: &str, path: &str) {
        self.c()
            .goto(&format!("{base}{path}"))
            .await
            .unwrap_or_else(|e| panic!("cannot open {path}: {e}"));
    }

    /// Clicks the element `css` selects.
    async fn click(&self, css: &str) {
        self.c()
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
    }

    /// Types into the element `css` selects.
    async fn type_in(&self, css: &str, text: &str) {
        self.c()
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("cannot type into {css}: {e}"));
    }

    /// Waits until `check` holds for the current page (polling), or fails with `what`.
    async fn until(&self, what: &str, check: impl AsyncFn(&Client) -> bool) {
        let started = Instant::now();
        while !check(self.c()).await {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn close(mut self) {
        if let Some(c) = self.client.take() {
            let _ = c.close().await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The sample help center (a copy: tests edit it) served by a watching `kb serve`.
fn sample() -> (Dir, Server) {
    let dir = Dir::new();
    copy(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/articles")),
        &dir.articles(),
    );
    let server = Server::start_watching(&dir, &["--contact-url", "https://support.example/ticket"]);
    (dir, server)
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn run(test: impl std::future::Future<Output = ()>) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(test);
}

#[test]
fn search_from_the_home_page_in_two_languages() {
    let (_dir, server) = sample();
    run(async {
        let b = Browser::start(1280, 900).await;
        // English: type, pick a suggestion with the keyboard, open it.
        b.c().goto(&format!("{}/en/", server.base)).await.unwrap();
        let input = b.c().find(Locator::Css("#home-q")).await.unwrap();
        input.send_keys("refund").await.unwrap();
        let option = b
            .c()
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("#home-list [role=option]"))
            .await
            .expect("suggestions appear as you type");
        assert!(
            option
                .text()
                .await
                .unwrap()
                .to_lowercase()
                .contains("refund")
        );
        input.send_keys(&Key::Down.to_string()).await.unwrap();
        let expanded = input.attr("aria-expanded").await.unwrap();
        assert_eq!(expanded.as_deref(), Some("true"));
        input.send_keys(&Key::Enter.to_string()).await.unwrap();
        b.until("the article to open", async |c| {
            c.current_url()
                .await
                .is_ok_and(|u| u.path().starts_with("/en/billing/"))
        })
        .await;
        let url = b.c().current_url().await.unwrap();
        assert!(
            url.query().unwrap_or("").contains("s="),
            "result links carry the search: {url}"
        );
        assert!(!b.text("article h1").await.is_empty());

        // Traditional Chinese: submit the form, read the results page, open a result.
        b.c()
            .goto(&format!("{}/zh-tw/", server.base))
            .await
            .unwrap();
        let input = b.c().find(Locator::Css("#home-q")).await.unwrap();
        input.send_keys("重設密碼").await.unwrap();
        b.click(".hero form button[type=submit]").await;
        b.until("the results page", async |c| {
            c.current_url().await.is_ok_and(|u| u.path() == "/search")
        })
        .await;
        let results = b.text(".results").await;
        assert!(results.contains("重設密碼"), "{results}");
        // The Simplified translation is the same article: listed with it, not again.
        let first = b.text(".results li:first-child").await;
        assert!(
            first.contains("简体中文"),
            "a Traditional query finds the Simplified article too: {first}"
        );
        let again = b
            .c()
            .find_all(Locator::Css(
                ".results h2 a[href*='/zh-cn/account/reset-password']",
            ))
            .await
            .unwrap();
        assert!(again.is_empty(), "{results}");
        b.click(".results li a").await;
        b.until("the article", async |c| {
            c.current_url()
                .await
                .is_ok_and(|u| u.path().contains("reset-password"))
        })
        .await;
        b.close().await;
    });
}

#[test]
fn a_no_vote_with_a_reason_is_stored() {
    let (dir, server) = sample();
    run(async {
        let b = Browser::start(1280, 900).await;
        b.c()
            .goto(&format!("{}/en/billing/refunds", server.base))
            .await
            .unwrap();
        // The reasons appear only after "No".
        let reasons = b
            .c()
            .find(Locator::Css(".kb-feedback-reasons"))
            .await
            .unwrap();
        assert!(!reasons.is_displayed().await.unwrap());
        b.click("button[name=helpful][value=no]").await;
        assert!(reasons.is_displayed().await.unwrap());
        b.click("input[name=reason][value=outdated]").await;
        b.type_in("#feedback-comment", "The table still says 30 days.")
            .await;
        b.click("button[name=send]").await;
        b.until("the thanks", async |c| {
            match c.find(Locator::Css(".kb-feedback-done")).await {
                Ok(e) => e.is_displayed().await.unwrap_or(false),
                Err(_) => false,
            }
        })
        .await;
        b.close().await;
    });
    let store = kb::metrics::sqlite::SqliteReader::open(&dir.path().join("data"))
        .unwrap()
        .unwrap();
    let mut votes = Vec::new();
    store
        .current_votes(0..kb::metrics::Millis::MAX, &mut |v| {
            if v.path == "en/billing/refunds.md" {
                votes.push((v.helpful, v.reason, v.comment));
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(
        votes,
        [(
            false,
            Some(kb::metrics::Reason::Outdated),
            Some("The table still says 30 days.".to_string())
        )]
    );
}

#[test]
fn switching_language_keeps_the_article() {
    let (_dir, server) = sample();
    run(async {
        let b = Browser::start(1280, 900).await;
        b.c()
            .goto(&format!("{}/en/account/reset-password", server.base))
            .await
            .unwrap();
        b.click(".lang-switch summary").await;
        b.click(".lang-switch a[hreflang=uk]").await;
        b.until("the Ukrainian article", async |c| {
            c.current_url()
                .await
                .is_ok_and(|u| u.path() == "/uk/account/reset-password")
        })
        .await;
        assert_eq!(b.text("article h1").await, "Відновлення пароля");
        let lang = b
            .c()
            .find(Locator::Css("html"))
            .await
            .unwrap()
            .attr("lang")
            .await
            .unwrap();
        assert_eq!(lang.as_deref(), Some("uk"));
        // The interface speaks Ukrainian too.
        let button = b.text(".kb-search button[type=submit]").await;
        assert_ne!(button, "Search");
        b.close().await;
    });
}

#[test]
fn an_edited_article_reloads_itself() {
    let (dir, server) = sample();
    run(async {
        let b = Browser::start(1280, 900).await;
        b.c()
            .goto(&format!(
                "{}/en/shipping/delivery-times-and-tracking",
                server.base
            ))
            .await
            .unwrap();
        let before = b.text("article h1").await;
        // Give the page a moment to open its live connection, then save an edit.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let file = dir
            .articles()
            .join("en/shipping/delivery-times-and-tracking.md");
        let text = std::fs::read_to_string(&file).unwrap();
        let edited = text.replacen(
            &format!("title: {before}"),
            "title: Delivery times (edited)",
            1,
        );
        assert_ne!(text, edited, "the title is in the front matter");
        std::fs::write(&file, edited).unwrap();
        b.until("the page to reload with the new title", async |c| {
            match c.find(Locator::Css("article h1")).await {
                Ok(h1) => h1
                    .text()
                    .await
                    .is_ok_and(|t| t == "Delivery times (edited)"),
                Err(_) => false,
            }
        })
        .await;
        b.close().await;
    });
}

#[test]
fn screenshots() {
    let (_dir, server) = sample();
    let out = match std::env::var("KB_SCREENSHOTS") {
        Ok(dir) => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir),
        Err(_) => std::env::temp_dir().join(format!("kb-screenshots-{}", std::process::id())),
    };
    std::fs::create_dir_all(&out).unwrap();
    let pages = [
        ("home", "/en/"),
        ("results", "/search?q=refund&lang=en&hl=en"),
        ("article", "/en/billing/refunds"),
        ("no-results", "/search?q=ordr+xyzzy&lang=en&hl=en"),
        (
            "results-zh",
            "/search?q=%E9%87%8D%E8%A8%AD%E5%AF%86%E7%A2%BC&lang=zh&hl=zh-tw",
        ),
        // Issue 13: one result per article with its other languages; a Telugu reader's
        // search with nothing in Telugu; results that point at the section that answers.
        ("results-grouped", "/search?q=password&lang=&hl=en"),
        ("results-fallback", "/search?q=refund&lang=te&hl=te"),
        ("results-section", "/search?q=skip+a+delivery&lang=en&hl=en"),
        ("corrected", "/search?q=refnud+policy&lang=en&hl=en"),
    ];
    for (width, height, size) in [(1280, 900, "desktop"), (390, 844, "phone")] {
        run(async {
            let b = Browser::start(width, height).await;
            for (name, path) in pages {
                b.c().goto(&format!("{}{path}", server.base)).await.unwrap();
                b.text("main").await;
                let png = b.c().screenshot().await.unwrap();
                assert!(png.starts_with(b"\x89PNG"), "{name}");
                std::fs::write(out.join(format!("{name}-{size}.png")), png).unwrap();
            }
            if size == "phone" {
                // The contents, first on a phone, opened.
                b.c()
                    .goto(&format!("{}/en/billing/refunds", server.base))
                    .await
                    .unwrap();
                b.click("details.toc summary").await;
                let png = b.c().screenshot().await.unwrap();
                std::fs::write(out.join("article-toc-phone.png"), png).unwrap();
            }
            b.close().await;
        });
    }

    // The writers' preview of an article whose file a save broke.
    let dir = Dir::sample();
    let writers = Server::start_watching(&dir, &["--drafts"]);
    let file = dir.articles().join("en/billing/refunds.md");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replacen("title:", "title: [Refunds\nsummary:", 1),
    )
    .unwrap();
    let started = Instant::now();
    while !writers.get("/healthz").1.contains("\"broken\":1") {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{}",
            writers.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    run(async {
        let b = Browser::start(1280, 900).await;
        b.c()
            .goto(&format!("{}/en/billing/refunds", writers.base))
            .await
            .unwrap();
        let banner = b.text(".kb-problem").await;
        assert!(banner.contains("refunds.md:"), "{banner}");
        let png = b.c().screenshot().await.unwrap();
        std::fs::write(out.join("edit-error-desktop.png"), png).unwrap();
        b.close().await;
    });
}

#[test]
fn an_agent_finds_copies_and_flags_an_article_from_the_keyboard() {
    let (dir, server) = sample();
    run(async {
        // A help desk's sidebar is narrow.
        let b = Browser::start(400, 800).await;
        b.c()
            .goto(&format!("{}/agent?hl=en", server.base))
            .await
            .unwrap();
        let input = b.c().find(Locator::Css("#q")).await.unwrap();
        input.send_keys("refund").await.unwrap();
        b.until("results as the agent types", async |c| {
            c.find_all(Locator::Css("#results li")).await.unwrap().len() >= 2
        })
        .await;
        // Each result shows its helpfulness and a preview (the canned reply here).
        let first = b.text("#results li:first-child").await;
        assert!(first.contains("Refunds policy"), "{first}");
        assert!(first.contains("No votes yet"), "{first}");
        assert!(
            first.contains("I'm sorry the order didn't work out"),
            "{first}"
        );

        // Down, up, Enter: the first result is copied as Markdown.
        input.send_keys(&Key::Down.to_string()).await.unwrap();
        let selected = b.text("#results li[aria-selected=true] .title").await;
        assert_ne!(selected, "Refunds policy and how to request a refund");
        input.send_keys(&Key::Up.to_string()).await.unwrap();
        input.send_keys(&Key::Enter.to_string()).await.unwrap();
        b.until("the copy", async |c| !copied(c).await.is_empty())
            .await;
        let base = &server.base;
        assert_eq!(
            copied(b.c()).await,
            format!("[Refunds policy and how to request a refund]({base}/en/billing/refunds)")
        );
        let status = b.text("#status").await;
        assert!(status.contains("Copied"), "{status}");

        // The HTML button of the second result.
        b.click("#results li:nth-child(2) button[data-format=html]")
            .await;
        b.until("the HTML copy", async |c| {
            copied(c).await.starts_with("<a href=")
        })
        .await;

        // A pasted message (a paste is one input event): the articles that answer it.
        b.c()
            .execute(
                "const q = document.getElementById('q'); q.value = arguments[0]; \
                 q.dispatchEvent(new Event('input', {bubbles: true}));",
                vec![serde_json::json!(
                    "Hi, my grinder arrived with a cracked lid.\nCan I get my money back?"
                )],
            )
            .await
            .unwrap();
        b.until("answers to the message", async |c| {
            match c.find(Locator::Css("#status")).await {
                Ok(e) => e.text().await.unwrap_or_default().contains("message"),
                Err(_) => false,
            }
        })
        .await;
        let answers = b.text("#results li:first-child .title").await;
        assert_eq!(answers, "Refunds policy and how to request a refund");

        // Flag the first answer as outdated, with a note.
        b.click("#results li:first-child button.flag").await;
        b.click("#flag-dialog input[name=reason][value=outdated]")
            .await;
        b.type_in("#flag-note", "The refund window is 14 days now.")
            .await;
        b.click("#flag-dialog button[value=send]").await;
        b.until("the flag's thanks", async |c| {
            match c.find(Locator::Css("#status")).await {
                Ok(e) => e.text().await.unwrap_or_default().contains("Thanks"),
                Err(_) => false,
            }
        })
        .await;
        if let Ok(out) = std::env::var("KB_SCREENSHOTS") {
            input.clear().await.unwrap();
            input.send_keys("refund").await.unwrap();
            b.until("results for refund", async |c| {
                match c.find(Locator::Css("#status")).await {
                    Ok(e) => {
                        let status = e.text().await.unwrap_or_default();
                        !status.contains("message") && !status.contains("Thanks")
                    }
                    Err(_) => false,
                }
            })
            .await;
            let png = b.c().screenshot().await.unwrap();
            let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(out);
            std::fs::write(out.join("agent-panel.png"), png).unwrap();
        }
        b.close().await;
    });
    // The copy was recorded with its query and the search it came from, the search as an
    // agent's, and the flag with its note.
    let events = wait_for(&dir, "the copy and the flag", |events| {
        ["link_inserted", "flag"]
            .iter()
            .all(|kind| events.iter().any(|e| e["type"] == *kind))
    });
    let of = |kind: &str| events.iter().find(|e| e["type"] == kind).unwrap();
    let inserted = of("link_inserted");
    assert_eq!(inserted["path"], "en/billing/refunds.md", "{inserted}");
    assert_eq!(inserted["query"], "refund");
    assert_eq!(inserted["source"], "agent");
    let search_id = inserted["search_id"].as_str().expect("a search id");
    let search = events
        .iter()
        .find(|e| e["type"] == "search" && e["search_id"] == search_id)
        .expect("the search the link came from");
    assert_eq!(search["source"], "agent", "{search}");
    let flag = of("flag");
    assert_eq!(flag["reason"], "outdated", "{flag}");
    assert!(
        flag.to_string()
            .contains("The refund window is 14 days now."),
        "{flag}"
    );
}

/// What the agent panel copied last (the panel notes it on its results list).
async fn copied(c: &Client) -> String {
    c.execute(
        "return document.getElementById('results').dataset.copied || ''",
        vec![],
    )
    .await
    .unwrap()
    .as_str()
    .unwrap_or("")
    .to_string()
}

/// The interface languages, each with what its results page says: "Also in" and "Search in
/// all languages".
const UI: &[(&str, &str, &str)] = &[
    ("en", "Also in", "Search in all languages"),
    ("zh-cn", "其他语言：", "在所有语言中搜索"),
    ("zh-tw", "其他語言：", "搜尋所有語言"),
    ("uk", "Також:", "Шукати всіма мовами"),
    ("te", "ఇతర భాషల్లో:", "అన్ని భాషల్లో శోధించండి"),
];

/// The page's URL path and its decoded `#fragment`.
async fn location(c: &Client) -> (String, String) {
    let url = c.current_url().await.unwrap();
    let fragment = percent_encoding::percent_decode_str(url.fragment().unwrap_or(""))
        .decode_utf8()
        .unwrap()
        .into_owned();
    (url.path().to_string(), fragment)
}

#[test]
fn results_in_the_readers_language_with_the_others_a_click_away() {
    let (_dir, server) = sample();
    run(async {
        let b = Browser::start(1280, 900).await;
        for (hl, also_in, search_all) in UI {
            // One result per article, in the reader's language; the other languages under it.
            b.c()
                .goto(&format!("{}/search?q=password&lang=&hl={hl}", server.base))
                .await
                .unwrap();
            let first = b.text(".results li:first-child").await;
            assert!(first.contains(also_in), "{hl}: {first}");
            let href = b
                .c()
                .find(Locator::Css(".results li:first-child h2 a"))
                .await
                .unwrap()
                .attr("href")
                .await
                .unwrap()
                .unwrap();
            assert!(
                href.starts_with(&format!("/{hl}/account/reset-password")),
                "{hl}: {href}"
            );
            let links = b
                .c()
                .find_all(Locator::Css(".results a[href*='/account/reset-password']"))
                .await
                .unwrap();
            assert_eq!(
                links.len(),
                5,
                "{hl}: the article and its four other languages"
            );
            // A click on another language opens that version.
            let other = if *hl == "uk" { "te" } else { "uk" };
            b.click(&format!(
                ".results li:first-child .also a[hreflang={other}]"
            ))
            .await;
            b.until("the other language's article", async |c| {
                location(c).await.0 == format!("/{other}/account/reset-password")
            })
            .await;

            // A section result: the link lands on its heading, which the page has.
            b.c()
                .goto(&format!(
                    "{}/search?q=skip+a+delivery&lang=en&hl={hl}",
                    server.base
                ))
                .await
                .unwrap();
            let section = b.text(".results li:first-child .section").await;
            assert!(section.contains("Skip one delivery"), "{hl}: {section}");
            b.click(".results li:first-child h2 a").await;
            b.until("the section", async |c| {
                location(c).await
                    == (
                        "/en/billing/pause-or-cancel-subscription".to_string(),
                        "skip-one-delivery".to_string(),
                    )
            })
            .await;
            let heading = b.text("#skip-one-delivery").await;
            assert_eq!(heading, "Skip one delivery");

            // Nothing in Telugu: a real link to all languages, and the others' results.
            b.c()
                .goto(&format!("{}/search?q=refund&lang=te&hl={hl}", server.base))
                .await
                .unwrap();
            let elsewhere = b.text(".empty .results").await;
            assert!(!elsewhere.is_empty(), "{hl}");
            let link = b.text(".none-in a").await;
            assert_eq!(link, *search_all, "{hl}");
            b.click(".none-in a").await;
            b.until("the search in all languages", async |c| {
                c.find(Locator::Css(".results li")).await.is_ok()
            })
            .await;
            let url = b.c().current_url().await.unwrap();
            assert!(!url.query().unwrap_or("").contains("lang=te"), "{url}");
        }
        // A Telugu reader's English result is labelled.
        b.c()
            .goto(&format!("{}/search?q=refund&lang=&hl=te", server.base))
            .await
            .unwrap();
        let label = b.text(".results li:first-child .fallback").await;
        assert!(label.contains("తెలుగు"), "{label}");
        b.close().await;
    });
}

#[test]
fn the_agent_panel_gives_one_link_per_article_in_the_agents_language() {
    let (_dir, server) = sample();
    run(async {
        let b = Browser::start(400, 800).await;
        let base = &server.base;
        for (hl, also_in, _) in UI {
            b.c().goto(&format!("{base}/agent?hl={hl}")).await.unwrap();
            let input = b.c().find(Locator::Css("#q")).await.unwrap();
            input.send_keys("password").await.unwrap();
            b.until("results", async |c| {
                c.find_all(Locator::Css("#results li")).await.unwrap().len() >= 2
            })
            .await;
            // The reset-password article once, in the agent's language.
            let titles = b
                .c()
                .find_all(Locator::Css(
                    "#results li .title[href*='/account/reset-password']",
                ))
                .await
                .unwrap();
            assert_eq!(titles.len(), 1, "{hl}");
            let first = b.text("#results li:first-child").await;
            assert!(first.contains(also_in), "{hl}: {first}");
            // Enter copies the agent's language's link.
            input.send_keys(&Key::Enter.to_string()).await.unwrap();
            b.until("the copy", async |c| {
                copied(c)
                    .await
                    .contains(&format!("{base}/{hl}/account/reset-password"))
            })
            .await;
            // One click copies another language's version.
            let other = if *hl == "uk" { "en" } else { "uk" };
            b.click(&format!(
                "#results li:first-child .also button[data-lang={other}]"
            ))
            .await;
            b.until("the other language's copy", async |c| {
                copied(c)
                    .await
                    .contains(&format!("{base}/{other}/account/reset-password"))
            })
            .await;
        }
        // Copies link to the section that answers, or (unticked) to the article's top.
        b.c().goto(&format!("{base}/agent?hl=en")).await.unwrap();
        let input = b.c().find(Locator::Css("#q")).await.unwrap();
        input.send_keys("skip a delivery").await.unwrap();
        b.until("a section result", async |c| {
            match c
                .find(Locator::Css("#results li:first-child .section"))
                .await
            {
                Ok(e) => e.text().await.unwrap_or_default() == "Skip one delivery",
                Err(_) => false,
            }
        })
        .await;
        input.send_keys(&Key::Enter.to_string()).await.unwrap();
        b.until("the section's link", async |c| {
            copied(c)
                .await
                .contains("/en/billing/pause-or-cancel-subscription#skip-one-delivery)")
        })
        .await;
        b.click("#sections").await;
        b.until("results without sections", async |c| {
            c.find(Locator::Css("#results li:first-child .section"))
                .await
                .is_err()
                && c.find(Locator::Css("#results li")).await.is_ok()
        })
        .await;
        input.send_keys(&Key::Enter.to_string()).await.unwrap();
        b.until("the article's link", async |c| {
            copied(c)
                .await
                .contains("/en/billing/pause-or-cancel-subscription)")
        })
        .await;
        b.close().await;
    });
}

#[test]
fn a_script_in_an_svg_beside_an_article_never_runs() {
    let dir = Dir::sample();
    // If it ran in the help center's origin, it would set a cookie and vote.
    dir.write(
        "en/billing/diagram.svg",
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40"><rect width="120" height="40" fill="#1f5fbf"/><script>document.cookie = "svg_ran=1; path=/"; fetch("/api/feedback", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({path: "en/billing/refunds.md", helpful: true, comment: "from the svg"})});</script></svg>"##,
    );
    dir.write(
        "en/billing/diagram.md",
        "# How a refund travels\n\n![The refund's way](diagram.svg)\n",
    );
    let server = Server::start(&dir, &[]);
    run(async {
        let b = Browser::start(1280, 900).await;
        let page = format!("{}/en/billing/diagram", server.base);
        b.c().goto(&page).await.unwrap();
        // The image shows.
        b.until("the SVG to display", async |c| {
            c.execute(
                "const i = document.querySelector('article img'); \
                 return !!i && i.complete && i.naturalWidth > 0",
                vec![],
            )
            .await
            .is_ok_and(|v| v == serde_json::json!(true))
        })
        .await;
        // Opened directly, it shows too, and runs nothing.
        b.c()
            .goto(&format!("{}/en/billing/diagram.svg", server.base))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(1000)).await;
        b.c().goto(&page).await.unwrap();
        let cookies = b
            .c()
            .execute("return document.cookie", vec![])
            .await
            .unwrap();
        assert!(
            !cookies.as_str().unwrap_or("").contains("svg_ran"),
            "{cookies}"
        );
        b.close().await;
    });
    let votes = crate::util::stored_votes(&dir).len();
    assert_eq!(votes, 0, "the SVG's script voted");
}

/// Whether the element `css` selects is displayed (false when there is none).
async fn shown(c: &Client, css: &str) -> bool {
    match c.find(Locator::Css(css)).await {
        Ok(e) => e.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

/// The votes stored on `path`: (helpful, reason, comment), oldest first.
fn votes_on(dir: &Dir, path: &str) -> Vec<(bool, Option<kb::metrics::Reason>, Option<String>)> {
    crate::util::stored_votes(dir)
        .into_iter()
        .filter(|v| v.path == path)
        .map(|v| (v.helpful, v.reason, v.comment))
        .collect()
}

/// Waits until the votes stored on `path` are `want`.
async fn until_votes(
    dir: &Dir,
    path: &str,
    want: &[(bool, Option<kb::metrics::Reason>, Option<String>)],
) {
    let started = Instant::now();
    while votes_on(dir, path) != want {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "votes on {path}: {:?}, not {want:?}",
            votes_on(dir, path)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// See: issue 14 (a "No" was lost when the reader left without pressing "Send feedback").
#[test]
fn r14_a_no_counts_the_moment_it_is_clicked_with_javascript() {
    let (dir, server) = sample();
    use kb::metrics::Reason;
    run(async {
        let b = Browser::start(1280, 900).await;
        // English: "No", then the reader leaves.
        b.open(&server.base, "/en/billing/refunds").await;
        b.click("button[name=helpful][value=no]").await;
        until_votes(&dir, "en/billing/refunds.md", &[(false, None, None)]).await;
        let counted = b.text(".kb-feedback-counted").await;
        assert!(counted.contains("your vote is counted"), "{counted}");
        // Sent by the script: the reader stays where they were.
        let url = b.c().current_url().await.unwrap();
        assert!(!url.query().unwrap_or("").contains("voted"), "{url}");
        assert!(shown(b.c(), ".kb-feedback-reasons").await);
        b.open(&server.base, "/en/").await;
        assert_eq!(votes_on(&dir, "en/billing/refunds.md").len(), 1);

        // Ukrainian: "No", then a reason and a comment complete the same vote.
        b.open(&server.base, "/uk/billing/refunds").await;
        b.click("button[name=helpful][value=no]").await;
        until_votes(&dir, "uk/billing/refunds.md", &[(false, None, None)]).await;
        let counted = b.text(".kb-feedback-counted").await;
        assert!(counted.contains("враховано"), "{counted}");
        b.click("input[name=reason][value=unclear]").await;
        b.type_in("#feedback-comment", "Де кнопка?").await;
        b.click("button[name=send]").await;
        b.until("the thanks", async |c| shown(c, ".kb-feedback-done").await)
            .await;
        until_votes(
            &dir,
            "uk/billing/refunds.md",
            &[(false, Some(Reason::Unclear), Some("Де кнопка?".into()))],
        )
        .await;
        b.close().await;
    });
}

#[test]
fn r14_a_no_counts_the_moment_it_is_clicked_without_javascript() {
    let (dir, server) = sample();
    use kb::metrics::Reason;
    run(async {
        let b = Browser::start_with(1280, 900, false).await;
        b.open(&server.base, "/zh-tw/billing/refunds").await;
        // No script runs: the reasons are on the page from the start.
        assert!(shown(b.c(), ".kb-feedback-reasons").await);
        b.click("button[name=helpful][value=no]").await;
        b.until("the page asking why", async |c| {
            c.current_url()
                .await
                .is_ok_and(|u| u.query().unwrap_or("").contains("voted=no"))
        })
        .await;
        until_votes(&dir, "zh-tw/billing/refunds.md", &[(false, None, None)]).await;
        assert!(shown(b.c(), ".kb-feedback-counted").await);
        assert!(!shown(b.c(), "button[name=helpful][value=yes]").await);
        b.click("input[name=reason][value=outdated]").await;
        b.type_in("#feedback-comment", "退款期限已改為 14 天").await;
        b.click("button[name=send]").await;
        b.until("the thanks", async |c| shown(c, ".kb-feedback-done").await)
            .await;
        // One vote, completed: not a second one.
        until_votes(
            &dir,
            "zh-tw/billing/refunds.md",
            &[(
                false,
                Some(Reason::Outdated),
                Some("退款期限已改為 14 天".into()),
            )],
        )
        .await;
        // English, leaving after "No": counted all the same.
        b.open(&server.base, "/en/account/reset-password").await;
        b.click("button[name=helpful][value=no]").await;
        until_votes(&dir, "en/account/reset-password.md", &[(false, None, None)]).await;
        b.close().await;
    });
}

// See: issue 14 (a silently corrected typo; weak matches listed as equals).
#[test]
fn r14_corrected_queries_and_weak_results_in_two_languages() {
    let (_dir, server) = sample();
    run(async {
        let b = Browser::start(1280, 900).await;
        for (hl, showing) in [
            ("en", "Showing results for"),
            ("uk", "Показано результати для"),
        ] {
            b.open(&server.base, &format!("/search?q=refnud&lang=en&hl={hl}"))
                .await;
            let notice = b.text(".kb-corrected").await;
            assert!(notice.contains(showing), "{notice}");
            assert!(notice.contains("refund"), "{notice}");
            // The refund article first; weaker matches wait behind a link.
            let first = b.text(".results li:first-child a").await;
            assert!(first.contains("Refund"), "{first}");
            let listed = b.c().find_all(Locator::Css(".results li")).await.unwrap();
            assert_eq!(listed.len(), 1, "only the strong match is listed");
            b.click(".more-results a").await;
            b.until("all results", async |c| {
                c.find_all(Locator::Css(".results li"))
                    .await
                    .is_ok_and(|l| l.len() > 1)
            })
            .await;
            // The words as typed, on request.
            b.open(&server.base, &format!("/search?q=refnud&lang=en&hl={hl}"))
                .await;
            b.click(".kb-corrected .instead a").await;
            b.until("the search as typed", async |c| {
                c.current_url()
                    .await
                    .is_ok_and(|u| u.query().unwrap_or("").contains("correct=0"))
            })
            .await;
            b.text("main").await;
            assert!(!shown(b.c(), ".kb-corrected").await);
        }
        b.close().await;
    });
}

// See: issue 14 (no "X of Y found this helpful" on articles).
#[test]
fn r14_articles_say_how_many_readers_they_helped_in_two_languages() {
    let (_dir, server) = sample();
    for (path, page, says) in [
        (
            "en/billing/refunds.md",
            "/en/billing/refunds",
            "4 of 5 readers found this helpful",
        ),
        (
            "zh-tw/billing/refunds.md",
            "/zh-tw/billing/refunds",
            "5 位讀者中有 4 位認為本文有幫助",
        ),
    ] {
        for helpful in [true, true, false, true, true] {
            let (_, cookie) = server.new_visitor();
            let r = server.post(
                "/api/feedback",
                &[BROWSER, ("cookie", &cookie)],
                &format!(r#"{{"path": "{path}", "helpful": {helpful}}}"#),
            );
            assert_eq!(r.status, 204, "{}", r.body);
        }
        run(async {
            let b = Browser::start(1280, 900).await;
            b.open(&server.base, page).await;
            let count = b.text(".helpful").await;
            assert_eq!(count.trim(), says);
            b.close().await;
        });
    }
}

// See: issue 14 (the report page had no period or format control once signed in; nothing
// linked an article to its source for editing).
#[test]
fn r14_edit_links_and_the_report_controls_in_two_languages() {
    const TOKEN: &str = "0123456789abcdef0123456789abcdef";
    let dir = Dir::new();
    copy(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/articles")),
        &dir.articles(),
    );
    let server = Server::start_with_env(
        &dir,
        &[
            "--edit-url",
            "https://git.example/acme/help/edit/main/articles/{path}",
        ],
        &[("KB_ADMIN_TOKEN", TOKEN)],
    );
    run(async {
        let b = Browser::start(1280, 900).await;
        for (hl, edit, period) in [
            ("en", "Edit this page", "Period"),
            ("uk", "Редагувати сторінку", "Період"),
        ] {
            b.open(&server.base, &format!("/{hl}/billing/refunds"))
                .await;
            assert_eq!(b.text(".edit a").await, edit);
            let href = b
                .c()
                .find(Locator::Css(".edit a"))
                .await
                .unwrap()
                .attr("href")
                .await
                .unwrap()
                .unwrap_or_default();
            assert_eq!(
                href,
                format!("https://git.example/acme/help/edit/main/articles/{hl}/billing/refunds.md")
            );

            // Signed in once (the second language finds the lead still signed in), the lead
            // changes the period from the page itself.
            b.open(&server.base, &format!("/admin/report?hl={hl}"))
                .await;
            if hl == "en" {
                // (Polled: on a loaded machine the document was once read before it was
                // there, as an empty page.)
                b.until("the sign-in form", async |c| {
                    c.source().await.is_ok_and(|s| s.contains("id=\"token\""))
                })
                .await;
                b.type_in("#token", TOKEN).await;
                b.click("button[type=submit]").await;
            }
            assert_eq!(b.text(".controls label[for=since]").await, period);
            b.click(".controls #since option[value='7d']").await;
            b.click(".controls button").await;
            b.until("the report of 7 days", async |c| {
                c.current_url()
                    .await
                    .is_ok_and(|u| u.query().unwrap_or("").contains("since=7d"))
            })
            .await;
            let shown = b.text(".period").await;
            assert!(shown.contains("(7 "), "{shown}");
            assert!(shown.contains(hl_days(hl)), "{shown}");
        }
        b.close().await;
    });
}

/// How the report's period line names days, by interface language.
fn hl_days(hl: &str) -> &'static str {
    if hl == "uk" { "дн." } else { "days" }
}

// See: issue 14 ("coffee tastes bad" listed articles about coffee and taste as answers).
#[test]
fn r14_results_that_match_only_part_of_the_query_say_so_in_two_languages() {
    let (_dir, server) = sample();
    run(async {
        let b = Browser::start(1280, 900).await;
        for (hl, says) in [
            ("en", "No article has all of your words"),
            ("zh-tw", "沒有文章包含您輸入的所有詞語"),
        ] {
            b.open(
                &server.base,
                &format!("/search?q=coffee+tastes+bad&lang=en&hl={hl}"),
            )
            .await;
            let notice = b.text(".weak-only").await;
            assert!(notice.contains(says), "{notice}");
            assert!(notice.contains("coffee tastes bad"), "{notice}");
            // Still listed, for what they are worth, with the way to a person.
            let listed = b.c().find_all(Locator::Css(".results li")).await.unwrap();
            assert!(!listed.is_empty());
            assert!(shown(b.c(), ".weak-only a").await, "the contact link");
            // A query an article answers whole gets no such notice.
            b.open(&server.base, &format!("/search?q=refund&lang=en&hl={hl}"))
                .await;
            b.text(".results").await;
            assert!(!shown(b.c(), ".weak-only").await);
        }
        b.close().await;
    });
}

// See: issue 14 (on a phone the contents came last; dates were not localized).
#[test]
fn r14_contents_first_on_phones_and_dates_in_the_readers_language() {
    let (_dir, server) = sample();
    let top =
        |css: &str| format!("return document.querySelector('{css}').getBoundingClientRect().top");
    run(async {
        let b = Browser::start(390, 844).await;
        b.open(&server.base, "/en/billing/refunds").await;
        let toc: f64 = b
            .c()
            .execute(&top("details.toc"), vec![])
            .await
            .unwrap()
            .as_f64()
            .unwrap();
        let h1: f64 = b
            .c()
            .execute(&top("article h1"), vec![])
            .await
            .unwrap()
            .as_f64()
            .unwrap();
        assert!(
            toc < h1,
            "the contents come before the article: {toc} / {h1}"
        );
        // The search box above takes one line, not three (the language is the page's).
        let form: f64 = b
            .c()
            .execute(
                "return document.querySelector('.breadcrumb + .kb-search').getBoundingClientRect().height",
                vec![],
            )
            .await
            .unwrap()
            .as_f64()
            .unwrap();
        assert!(form < 70.0, "the search box is {form} px high");
        // Folded, one tap opens them.
        assert!(!shown(b.c(), "details.toc nav").await);
        b.click("details.toc summary").await;
        b.until("the contents to open", async |c| {
            shown(c, "details.toc nav a").await
        })
        .await;
        b.close().await;

        let b = Browser::start(1280, 900).await;
        b.open(&server.base, "/en/billing/refunds").await;
        // Beside the article, open.
        assert!(shown(b.c(), "details.toc nav a").await);
        let side = b
            .c()
            .execute(
                "const t = document.querySelector('details.toc').getBoundingClientRect(); \
                 const a = document.querySelector('article').getBoundingClientRect(); \
                 return t.left >= a.right",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(side, serde_json::json!(true));
        // Dates in the reader's language.
        let months = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let en = b.text(".updated time").await;
        assert!(months.iter().any(|m| en.contains(m)), "{en}");
        for (path, mark) in [
            ("/zh-tw/billing/refunds", "年"),
            ("/uk/billing/refunds", " р."),
        ] {
            b.open(&server.base, path).await;
            let date = b.text(".updated time").await;
            assert!(date.contains(mark), "{path}: {date}");
            assert!(
                !date.chars().any(|c| c == '-'),
                "{path}: not an ISO date: {date}"
            );
        }
        b.close().await;
    });
}

// See: issue 14 (the open preview reloaded into "We can't find that page").
#[test]
fn r14_a_broken_save_shows_the_writer_what_is_wrong_in_the_open_page() {
    let dir = Dir::sample();
    let server = Server::start_watching(&dir, &["--drafts"]);
    let file = dir.articles().join("uk/billing/refunds.md");
    let good = std::fs::read_to_string(&file).unwrap();
    run(async {
        let b = Browser::start(1280, 900).await;
        b.open(&server.base, "/uk/billing/refunds").await;
        let title = b.text("article h1").await;
        assert!(!shown(b.c(), ".kb-problem").await);
        // Give the page a moment to open its live connection, then save a typo.
        tokio::time::sleep(Duration::from_millis(500)).await;
        std::fs::write(&file, good.replacen("title:", "title: [\ntitle2:", 1)).unwrap();
        b.until("the banner", async |c| shown(c, ".kb-problem").await)
            .await;
        let banner = b.text(".kb-problem").await;
        assert!(banner.contains("uk/billing/refunds.md:"), "{banner}");
        // In the page's language, above the last good version.
        assert!(!banner.contains("last good version"), "{banner}");
        assert_eq!(b.text("article h1").await, title);
        // Fixed: the page reloads without it.
        tokio::time::sleep(Duration::from_millis(300)).await;
        std::fs::write(&file, &good).unwrap();
        b.until("the banner to go", async |c| {
            c.find(Locator::Css("article h1")).await.is_ok() && !shown(c, ".kb-problem").await
        })
        .await;
        b.close().await;
    });
}
