//! llms.txt (the llmstxt.org convention) and the Markdown copies of articles, against a real
//! `kb serve`.

use crate::util::{Dir, Server};

/// The Markdown links `[title](url)` of a text.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        if let Some(end) = rest.find(')') {
            out.push(rest[..end].to_string());
        }
    }
    out
}

/// Checks the llmstxt.org structure: an H1 first, then a blockquote summary, then H2
/// sections of list items `- [title](url): notes`.
#[track_caller]
fn assert_llms_txt(text: &str) {
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("# ") && lines[0].len() > 2, "{text}");
    let first = lines[1..].iter().find(|l| !l.trim().is_empty()).unwrap();
    assert!(first.starts_with("> "), "no summary blockquote:\n{text}");
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("# ")).count(),
        1,
        "{text}"
    );
    assert!(lines.iter().any(|l| l.starts_with("## ")), "{text}");
    let after_first_h2 = lines.iter().skip_while(|l| !l.starts_with("## "));
    for l in after_first_h2.filter(|l| !l.trim().is_empty() && !l.starts_with("## ")) {
        assert!(
            l.starts_with("- [") && l.contains("]("),
            "not a link item: {l}"
        );
    }
}

#[test]
fn llms_txt_and_markdown_copies_follow_the_convention_and_hide_what_is_private() {
    let dir = Dir::sample();
    let base = "https://help.example.com";
    let server = Server::start(&dir, &["--base-url", base]);
    let (status, root) = server.get("/llms.txt");
    assert_eq!(status, 200, "{root}");
    assert_llms_txt(&root);
    let languages: Vec<String> = links(&root);
    for lang in ["en", "zh-tw", "zh-cn", "uk", "te"] {
        assert!(
            languages.contains(&format!("{base}/{lang}/llms.txt")),
            "{root}"
        );
    }
    let mut copies = 0;
    for (lang, title) in [("en", "Reset your password"), ("zh-tw", "重設密碼")] {
        let (status, index) = server.get(&format!("/{lang}/llms.txt"));
        assert_eq!(status, 200);
        assert_llms_txt(&index);
        assert!(
            index.contains(&format!(
                "[{title}]({base}/{lang}/account/reset-password.md)"
            )),
            "{index}"
        );
        // Drafts never appear.
        assert!(!index.contains("two-factor"), "{index}");
        // The list speaks its own language, like the site (the summary line).
        let summary = index.lines().find(|l| l.starts_with("> ")).unwrap();
        let own = if lang == "en" {
            "articles in English"
        } else {
            "篇"
        };
        assert!(summary.contains(own), "{summary}");
        for url in links(&index) {
            let path = url.strip_prefix(base).expect(&url);
            let r = server.request("GET", path, &[], None);
            assert_eq!(r.status, 200, "{url}");
            let kind = r.headers.iter().find(|(k, _)| k == "content-type").unwrap();
            assert!(kind.1.starts_with("text/markdown"), "{url}: {kind:?}");
            let md = &r.body;
            assert!(md.starts_with("---\n"), "{md}");
            let (front, body) = md[4..].split_once("\n---\n").unwrap();
            for private in ["owner", "reply", "queries", "review_every", "@brightbox"] {
                assert!(!front.contains(private), "{url}: {private} in\n{front}");
            }
            assert!(
                front.contains(&format!("url: \"{url}\"").replace(".md\"", "\"")),
                "{front}"
            );
            // Links inside the help center are absolute.
            for link in links(body) {
                assert!(
                    link.starts_with("http")
                        || link.starts_with("mailto:")
                        || link.starts_with('#'),
                    "{url}: relative link {link}"
                );
            }
            copies += 1;
        }
    }
    assert!(copies >= 10, "{copies}");
    // An article page points at its copy.
    let (_, page) = server.get("/en/account/reset-password");
    let page = page.replace("&#x2f;", "/");
    assert!(
        page.contains(&format!(
            r#"<link rel="alternate" type="text/markdown" href="{base}/en/account/reset-password.md">"#
        )),
        "{page}"
    );
    // No copy of a draft, of what is not an article, nor the source file by its own name.
    assert_eq!(
        server.get("/en/account/two-factor-authentication.md").0,
        404
    );
    assert_eq!(server.get("/en/nothing-here.md").0, 404);
    assert_eq!(server.get("/xx/llms.txt").0, 404);
    // llms-full.txt: every published article of the language, and its cap said.
    let (status, full) = server.get("/en/llms-full.txt");
    assert_eq!(status, 200);
    assert!(full.starts_with("# "), "{full:.200}");
    assert!(full.contains("KiB"), "the cap is stated");
    assert!(full.contains("title: \"Reset your password\""));
    assert!(
        !full.contains("Two-step verification adds"),
        "a draft in llms-full.txt"
    );
    assert!(
        !full.contains("maria@brightbox"),
        "an owner in llms-full.txt"
    );
}

#[test]
fn a_copy_makes_relative_links_absolute_and_keeps_the_rest() {
    let dir = Dir::new();
    dir.write(
        "en/a.md",
        "---\ntitle: A\nowner: secret@example.com\nreply: \"private reply\"\nqueries: [x]\n---\n\nSee [B](b.md#part), [ref][r], ![img](pic.png), [site](/en/), [out](https://example.org/x) and `[code](c.md)`.\n\n[r]: ./b.md\n",
    );
    dir.write("en/b.md", "---\ntitle: B\n---\n\nB.\n");
    dir.write("en/pic.png", "png");
    let server = Server::start(&dir, &["--base-url", "https://h.example/"]);
    let (status, md) = server.get("/en/a.md");
    assert_eq!(status, 200, "{md}");
    assert!(
        !md.contains("secret@") && !md.contains("private reply") && !md.contains("queries"),
        "{md}"
    );
    assert!(md.contains("[B](https://h.example/en/b#part)"), "{md}");
    assert!(md.contains("[r]: https://h.example/en/b"), "{md}");
    assert!(md.contains("![img](https://h.example/en/pic.png)"), "{md}");
    assert!(md.contains("[site](https://h.example/en/)"), "{md}");
    assert!(md.contains("[out](https://example.org/x)"), "{md}");
    assert!(md.contains("`[code](c.md)`"), "code is left alone: {md}");
    assert!(md.contains("# A\n"), "{md}");
}
