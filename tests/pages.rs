//! The help center's pages over HTTP: languages, home, categories, articles, search, 404,
//! aliases, files, sitemap, OpenSearch, caching and compression.

use std::sync::OnceLock;

use kb::metrics::MetricsReader;

use crate::util::{Dir, Server};

/// One server for these read-mostly tests, and its folder.
fn fixture() -> &'static (Dir, Server) {
    static SERVER: OnceLock<(Dir, Server)> = OnceLock::new();
    SERVER.get_or_init(|| {
            let dir = Dir::fixture("help-center");
            // An alias, a translation of the refunds article, and an image beside it.
            dir.write(
                "en/billing/refunds.md",
                std::fs::read_to_string(dir.articles().join("en/billing/refunds.md"))
                    .unwrap()
                    .replace("unknown_key:", "aliases: [/old/refunds]\nunknown_key:")
                    .replace("Refunds go back", "![Refund form](img/form.png) See [invoices](invoices.md#lines). Refunds go back"),
            );
            dir.write("en/billing/img/form.png", b"\x89PNG fake");
            dir.write("uk/billing/refunds.md", "---\ntitle: Повернення коштів\ncategory: Оплата\n---\n\nЯк повернути гроші.\n");
            dir.write(
                "en/billing/invoices.md",
                std::fs::read_to_string(dir.articles().join("en/billing/invoices.md"))
                    .unwrap()
                    .replace("| Line | Meaning |", "## Lines {#lines}\n\n| Line | Meaning |"),
            );
            let server = Server::start(&dir, &["--contact-url", "https://support.example/new-ticket"]);
            (dir, server)
        })
}

fn server() -> &'static Server {
    &fixture().1
}

use crate::util::agent_without_redirects as no_redirects;

fn get(path: &str, headers: &[(&str, &str)]) -> crate::util::Reply {
    server().request("GET", path, headers, None)
}

/// Tests read pages as markup: minijinja escapes `/` in attribute values.
fn html(path: &str) -> String {
    let r = get(path, &[]);
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    r.body.replace("&#x2f;", "/")
}

#[test]
fn the_root_sends_readers_to_their_language() {
    let agent = no_redirects();
    for (accept, home) in [
        ("uk-UA,uk;q=0.9,en;q=0.5", "/uk/"),
        ("zh-TW,zh;q=0.8", "/zh-tw/"),
        ("zh-CN", "/zh-cn/"),
        ("fr-FR", "/en/"),
    ] {
        let r = agent
            .get(format!("{}/", server().base))
            .header("accept-language", accept)
            .call()
            .unwrap();
        assert_eq!(r.status().as_u16(), 303, "{accept}");
        assert_eq!(r.headers()["location"], home, "{accept}");
    }
}

#[test]
fn a_language_home_lists_categories_in_that_language() {
    let page = html("/en/");
    assert!(page.contains("<html lang=\"en\">"), "{page}");
    assert!(
        page.contains("Billing") && page.contains("/en/categories/billing"),
        "{page}"
    );
    assert!(page.contains("Refunds and returns"));
    assert!(!page.contains("Two-step verification"), "draft listed");
    assert!(
        page.contains("hreflang=\"uk\""),
        "no link to the other languages"
    );
    let page = html("/uk/");
    assert!(page.contains("<html lang=\"uk\">"));
    assert!(
        page.contains("Оплата") && page.contains("Повернення коштів"),
        "{page}"
    );
    // The interface speaks Ukrainian there.
    assert!(page.contains("Шукати") || page.contains("Пошук"), "{page}");
}

#[test]
fn category_pages_list_their_articles() {
    let page = html("/en/categories/billing");
    assert!(
        page.contains("Refunds and returns") && page.contains("Understand your invoice"),
        "{page}"
    );
    assert!(!page.contains("Track your delivery"));
    assert_eq!(get("/en/categories/no-such-topic", &[]).status, 404);
}

#[test]
fn the_article_page_has_everything_a_reader_needs() {
    let page = html("/en/billing/refunds");
    assert!(page.contains("<h1>Refunds and returns</h1>"), "{page}");
    // Breadcrumb, table of contents, last updated, translations.
    assert!(page.contains("/en/categories/billing") && page.contains("aria-label=\"Breadcrumb\""));
    assert!(
        page.contains("href=\"#request\""),
        "no table of contents: {page}"
    );
    assert!(page.contains("<time datetime=\"20"), "no last updated");
    assert!(
        page.contains("/uk/billing/refunds") && page.contains("Повернення коштів"),
        "no translation link"
    );
    // Relative without --base-url: the request's Host is not the public address.
    assert!(
        page.contains("hreflang=\"uk\" href=\"/uk/billing/refunds\""),
        "no alternate"
    );
    // Relative links and images lead to the help center's addresses.
    assert!(
        page.contains("href=\"/en/billing/invoices#lines\""),
        "{page}"
    );
    assert!(page.contains("src=\"/en/billing/img/form.png\""), "{page}");
    // Feedback that works without JavaScript, and the contact link.
    assert!(page.contains("action=\"/feedback\"") && page.contains("value=\"outdated\""));
    assert!(
        page.contains("/contact?hl=en&amp;from=en%2Fbilling%2Frefunds.md"),
        "{page}"
    );
}

#[test]
fn files_beside_articles_are_served_and_sources_are_not() {
    let r = get("/en/billing/img/form.png", &[]);
    assert_eq!(r.status, 200);
    // An article's address plus `.md` is its public Markdown copy (issue 17), not its
    // source: the front matter's private keys stay out.
    let copy = get("/en/billing/refunds.md", &[]);
    assert_eq!(copy.status, 200);
    assert!(
        copy.header("content-type")
            .unwrap()
            .starts_with("text/markdown")
    );
    assert!(
        copy.body.contains("title: \"Refunds and returns\""),
        "{}",
        copy.body
    );
    for private in ["queries", "can I get my money back", "unknown_key"] {
        assert!(!copy.body.contains(private), "{private}: {}", copy.body);
    }
    for path in [
        "/.hidden/secret.md",
        "/en/../../etc/passwd",
        "/en/%2e%2e/%2e%2e/etc/passwd",
        "/broken/bad-yaml.md",
    ] {
        let r = get(path, &[]);
        assert_eq!(
            r.status,
            404,
            "{path}: {}",
            &r.body[..r.body.len().min(200)]
        );
    }
}

#[test]
fn aliases_redirect_permanently() {
    let agent = no_redirects();
    let r = agent
        .get(format!("{}/old/refunds", server().base))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 301);
    assert_eq!(r.headers()["location"], "/en/billing/refunds");
}

#[test]
fn the_search_page_shows_results_pages_and_no_results_help() {
    let page = html("/search?q=refund&lang=en&hl=en");
    assert!(page.contains("Results for “refund”"), "{page}");
    assert!(page.contains("<mark>refund</mark>"), "{page}");
    // Result links carry the search for click tracking.
    assert!(page.contains("/en/billing/refunds?s="), "{page}");
    let page = html("/search?q=zzqqxx&hl=uk");
    assert!(page.contains("<html lang=\"uk\""), "{page}");
    assert!(
        page.contains("zzqqxx") && page.contains("/contact?hl=uk"),
        "{page}"
    );
    // Something to read instead.
    assert!(page.contains("<li><a href=\"/"), "{page}");
    // A spelling suggestion taken from the index's words (longer words are corrected by the
    // search itself).
    let page = html("/search?q=ordr&hl=en&lang=en");
    assert!(page.contains("No results"), "{page}");
    assert!(
        page.contains("Did you mean") && page.contains("<strong>order</strong>"),
        "{page}"
    );
    // Paging.
    let page = html("/search?q=the&hl=en&page=2");
    assert!(page.contains("Results for"), "{page}");
    // Odd input is a page, never an error.
    for q in [
        "%FF",
        "%22%27%3C%3E",
        "title%3Ax%20AND%20(y",
        &"a".repeat(5000),
    ] {
        let r = get(&format!("/search?q={q}&page=99999&lang=%21"), &[]);
        assert!(r.status == 200 || r.status == 400, "{q}: {}", r.status);
    }
}

#[test]
fn not_found_is_a_page_with_search() {
    let r = get("/en/no/such/page", &[("accept-language", "zh-TW")]);
    assert_eq!(r.status, 404);
    assert!(r.body.contains("action=\"/search\"") || r.body.contains("action=\"&#x2f;search\""));
    assert!(
        r.body.contains("<html lang=\"en\">"),
        "the address says English"
    );
}

#[test]
fn the_contact_link_records_a_click_and_forwards() {
    let agent = no_redirects();
    let r = agent
        .get(format!(
            "{}/contact?hl=en&from=en%2Fbilling%2Frefunds.md",
            server().base
        ))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        r.headers()["location"],
        "https://support.example/new-ticket"
    );
    // Recorded (in the background) as a contact click from that article.
    let data = fixture().0.path().join("data");
    let started = std::time::Instant::now();
    loop {
        let store = kb::metrics::sqlite::SqliteReader::open(&data)
            .unwrap()
            .unwrap();
        let mut n = 0;
        store
            .actions(
                kb::metrics::ActionKind::ContactClicked,
                0..kb::metrics::Millis::MAX,
                &mut |a| {
                    n += u32::from(a.path.as_deref() == Some("en/billing/refunds.md"));
                    Ok(())
                },
            )
            .unwrap();
        if n > 0 {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 20,
            "the contact click was not recorded"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn the_home_page_shows_the_most_read_articles() {
    let dir = Dir::fixture("help-center");
    {
        let s = Server::start(&dir, &[]);
        for (path, views) in [("/en/shipping/track-order", 3), ("/en/billing/invoices", 2)] {
            for _ in 0..views {
                assert_eq!(s.request("GET", path, &[], None).status, 200);
            }
        }
        // Stop gracefully, so the views are committed.
        assert!(s.terminate(std::time::Duration::from_secs(20)));
    }
    // Popular articles are read at start (and every few minutes).
    let s = Server::start(&dir, &[]);
    let page = s
        .request("GET", "/en/", &[], None)
        .body
        .replace("&#x2f;", "/");
    let popular = page
        .split("id=\"popular\"")
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .unwrap_or_else(|| panic!("no popular section: {page}"));
    let track = popular
        .find("Track your delivery")
        .expect("most read first");
    let invoice = popular
        .find("Understand your invoice")
        .expect("then the next");
    assert!(track < invoice, "{popular}");
}

#[test]
fn feedback_works_without_javascript() {
    let (visitor, cookie) = server().new_visitor();
    let r = server().request(
        "POST",
        "/feedback",
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("cookie", &cookie),
            // What a browser sends with a form of the help center's own page.
            ("origin", &server().base),
            ("sec-fetch-site", "same-origin"),
        ],
        Some("path=en%2Fbilling%2Finvoices.md&reason=unclear&comment=Which+tax%3F&send=1"),
    );
    // ureq follows the 303 back to the article, which thanks the reader.
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("kb-feedback-done"), "{}", r.body);
    let data = fixture().0.path().join("data");
    let store = kb::metrics::sqlite::SqliteReader::open(&data)
        .unwrap()
        .unwrap();
    let vote = store
        .current_vote(&visitor, "en/billing/invoices.md")
        .unwrap()
        .map(|v| (v.helpful, v.reason));
    assert_eq!(vote, Some((false, Some(kb::metrics::Reason::Unclear))));
}

#[test]
fn sitemap_opensearch_and_robots() {
    let sitemap = html("/sitemap.xml");
    assert!(
        sitemap.contains("<loc>http://") && sitemap.contains("/en/billing/refunds</loc>"),
        "{sitemap}"
    );
    assert!(sitemap.contains("hreflang=\"uk\""), "{sitemap}");
    assert!(!sitemap.contains("two-factor"), "draft in the sitemap");
    let os = html("/opensearch.xml");
    assert!(os.contains("/search?q={searchTerms}"), "{os}");
    assert!(html("/robots.txt").contains("Sitemap: http://"));
}

#[test]
fn static_assets_are_cached_and_pages_compressed() {
    let page = html("/en/");
    let css = page
        .split("href=\"")
        .find_map(|s| {
            s.split('"')
                .next()
                .filter(|u| u.starts_with("/static/kb.css?v="))
        })
        .expect("a versioned stylesheet link")
        .to_string();
    let agent = crate::util::agent();
    let r = agent.get(format!("{}{css}", server().base)).call().unwrap();
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    // A raw request: HTTP clients decompress quietly and drop the header.
    let head = raw_head("/en/billing/refunds", "accept-encoding: gzip");
    assert!(head.contains("content-encoding: gzip"), "{head}");
    assert!(head.contains("cache-control: no-cache"), "{head}");
}

/// The response head of a plain HTTP/1.1 GET with one extra header, lower-cased.
fn raw_head(path: &str, header: &str) -> String {
    use std::io::{Read, Write};
    let addr = server().base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: {addr}\r\n{header}\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).unwrap();
    let text = String::from_utf8_lossy(&bytes).to_ascii_lowercase();
    text.split("\r\n\r\n").next().unwrap_or("").to_string()
}

// See: issue 11 (`ln -s /etc/passwd articles/en/p.md` was served, found and listed).
#[test]
fn r11_nothing_outside_the_articles_folder_is_served() {
    let dir = Dir::fixture("help-center");
    crate::check::hostile_folder(&dir);
    let s = Server::start(&dir, &[]);
    for path in ["/en/p", "/en/docs/leak", "/en/big"] {
        assert_eq!(s.get(path).0, 404, "{path}");
    }
    for q in ["hunter2", "swordfish", "enormous"] {
        assert!(s.paths(&[("q", q)]).is_empty(), "{q}");
    }
    let sitemap = s.get("/sitemap.xml").1;
    assert!(sitemap.contains("/en/billing/refunds</loc>"), "{sitemap}");
    assert!(
        !sitemap.contains("/en/p<") && !sitemap.contains("/en/docs/"),
        "{sitemap}"
    );
    let log = s.log();
    assert!(log.contains("articles/en/p.md:1: a symbolic link"), "{log}");
    assert!(log.contains("articles/en/big.md:1: the file is"), "{log}");

    // A link beside the articles, named like an image, to an article source (its private
    // front matter, a draft) is refused like the source; so is a FIFO, without hanging.
    let img = dir.articles().join("en/billing/img");
    dir.write("en/billing/img/form.png", b"\x89PNG fake");
    std::os::unix::fs::symlink("../refunds.md", img.join("source.png")).unwrap();
    let fifo = std::ffi::CString::new(img.join("pipe.png").to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    for path in ["/en/billing/img/source.png", "/en/billing/img/pipe.png"] {
        assert_eq!(s.get(path).0, 404, "{path}");
    }
    // A real file there is served, whole, with its length.
    let r = s.request("GET", "/en/billing/img/form.png", &[], None);
    assert_eq!(r.status, 200);
    let on_disk = std::fs::metadata(img.join("form.png")).unwrap().len();
    assert_eq!(
        r.header("content-length"),
        Some(on_disk.to_string().as_str())
    );

    // An article that becomes a link after it was indexed is not served either.
    let refunds = dir.articles().join("en/billing/refunds.md");
    assert_eq!(s.get("/en/billing/refunds").0, 200);
    std::fs::remove_file(&refunds).unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret.md"), &refunds).unwrap();
    let (status, body) = s.get("/en/billing/refunds");
    assert!(!body.contains("hunter2"), "{status}: {body}");
    assert_eq!(status, 404);
}

// See: issue 14 (no "X of Y found this helpful", nothing linking an article to its source, a
// silently corrected typo).
#[test]
fn r14_edit_links_helpful_counts_and_corrected_queries() {
    let dir = Dir::fixture("help-center");
    let s = Server::start(
        &dir,
        &[
            "--edit-url",
            "https://git.example/acme/help/edit/main/articles/{path}",
        ],
    );
    let page = |path: &str| {
        let r = s.request("GET", path, &[], None);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.body.replace("&#x2f;", "/")
    };
    let article = page("/en/billing/refunds");
    assert!(
        article.contains(
            "<a href=\"https://git.example/acme/help/edit/main/articles/en/billing/refunds.md\" rel=\"nofollow\">Edit this page</a>"
        ),
        "{article}"
    );
    // Too few votes to say.
    assert!(!article.contains("class=\"helpful\""), "{article}");
    for helpful in [true, true, false, true, true] {
        let (_, cookie) = s.new_visitor();
        let body = format!(r#"{{"path": "en/billing/refunds.md", "helpful": {helpful}}}"#);
        let r = s.post(
            "/api/feedback",
            &[crate::util::BROWSER, ("cookie", &cookie)],
            &body,
        );
        assert_eq!(r.status, 204, "{}", r.body);
    }
    let article = page("/en/billing/refunds");
    assert!(
        article.contains("<span class=\"helpful\">4 of 5 readers found this helpful</span>"),
        "{article}"
    );
    // A bad template is refused at start, saying what is expected.
    let out = dir.run(&["serve", "--edit-url", "https://git.example/no-placeholder"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("{path}"), "{}", out.stderr);

    // The search core says what it corrected; `correct=0` searches the words as typed.
    let (status, json) = s.search(&[("q", "refnud policy"), ("lang", "en")]);
    assert_eq!(status, 200);
    assert_eq!(json["corrected_query"], "refund policy", "{json}");
    let (_, json) = s.search(&[("q", "refnud policy"), ("lang", "en"), ("correct", "0")]);
    assert!(json.get("corrected_query").is_none(), "{json}");
    let (_, json) = s.search(&[("q", "refund"), ("lang", "en")]);
    assert!(json.get("corrected_query").is_none(), "{json}");
}
