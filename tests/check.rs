//! `kb check`: lints and search tests, as writers and CI run it.

use crate::util::Dir;

#[test]
fn the_sample_help_center_passes() {
    let dir = Dir::new();
    let articles = concat!(env!("CARGO_MANIFEST_DIR"), "/articles");
    let out = dir.run(&["check", "--articles", articles]);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("0 errors"), "{}", out.stderr);
}

#[test]
fn broken_articles_fail_with_path_and_line() {
    let dir = Dir::fixture("help-center");
    let out = dir.run(&["check"]);
    assert_eq!(out.code, Some(1), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("articles/broken/not-utf8.md:2: not valid UTF-8"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("articles/broken/bad-yaml.md:"),
        "{}",
        out.stdout
    );
}

#[test]
fn links_images_titles_and_urls_are_checked() {
    let dir = Dir::new();
    dir.write(
        "en/a.md",
        "---\ntitle: A\n---\n\nSee [the refund steps](refunds.md#steps) and [gone](gone.md).\n\n![card](img/card.png)\n",
    );
    dir.write("en/refunds.md", "# Refunds\n\n## How it works\n");
    dir.write("en/b.md", "---\ntitle: B\nslug: a\n---\ntext");
    dir.write("en/untitled.md", "no title here");
    let out = dir.run(&["check"]);
    assert_eq!(out.code, Some(1));
    let lines: Vec<&str> = out.stdout.lines().collect();
    let expect = [
        "articles/en/a.md:1: the URL /en/a is also the URL of en/b.md",
        "articles/en/a.md:5: broken link refunds.md#steps: en/refunds.md has no heading with the id #steps",
        "articles/en/a.md:5: broken link gone.md: there is no article en/gone.md",
        "articles/en/a.md:7: missing image img/card.png",
        "articles/en/b.md:3: the URL /en/a is also the URL of en/a.md",
        "articles/en/untitled.md:1: warning: no title",
    ];
    for e in expect {
        assert!(
            lines.iter().any(|l| l.starts_with(e)),
            "missing {e:?} in\n{}",
            out.stdout
        );
    }
    assert_eq!(lines.len(), expect.len(), "{}", out.stdout);
}

#[test]
fn warnings_alone_pass() {
    let dir = Dir::new();
    dir.write("en/untitled.md", "no title here");
    let out = dir.run(&["check"]);
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    assert!(out.stdout.contains("warning: no title"));
}

#[test]
fn search_tests_fail_when_an_article_no_longer_ranks() {
    let dir = Dir::new();
    dir.write(
        "en/refunds.md",
        "---\ntitle: Refunds\nqueries:\n  - how do I get my money back\n  - refund for a damaged grinder\n---\nAsk for a refund within 30 days; we send the money back to your card.\n",
    );
    dir.write(
        "en/grinder.md",
        "# Grinder care\n\nA damaged grinder is repaired for free.\n",
    );
    let out = dir.run(&["check"]);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("2 search tests (0 failed)"),
        "{}",
        out.stderr
    );

    // New articles answer the same question more directly (their titles are the question):
    // customers would no longer see the refunds article on the first screen.
    for i in 0..3 {
        dir.write(
            &format!("en/money-{i}.md"),
            format!(
                "# How do I get my money back

Part {i} about getting money back.
"
            ),
        );
    }
    let out = dir.run(&["check"]);
    assert_eq!(out.code, Some(1), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(
            "articles/en/refunds.md:4: search test failed: \"how do I get my money back\" ranks this article 4th"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("2 search tests (1 failed)"),
        "{}",
        out.stderr
    );
}
