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

/// Links from the articles folder to a file and a folder outside it, and an article over
/// the default size limit (1 MiB).
pub fn hostile_folder(dir: &Dir) {
    dir.write("en/ok.md", "# Fine\n\nNothing to see.");
    std::fs::write(
        dir.path().join("secret.md"),
        "# Secret\n\nThe root password is hunter2.",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("outside")).unwrap();
    std::fs::write(
        dir.path().join("outside/leak.md"),
        "# Leak\n\nThe api key is swordfish.",
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret.md"), dir.articles().join("en/p.md"))
        .unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside"), dir.articles().join("en/docs")).unwrap();
    dir.write(
        "en/big.md",
        format!("# Big\n\n{}", "enormous words ".repeat(100_000)),
    );
}

// See: issue 11 (a symbolic link published /etc/passwd; a 50 MB article took 2.8 GB).
#[test]
fn r11_links_outside_and_oversized_articles_are_errors() {
    let dir = Dir::new();
    hostile_folder(&dir);
    let out = dir.run(&["check"]);
    assert_eq!(out.code, Some(1), "{}\n{}", out.stdout, out.stderr);
    for expected in [
        "articles/en/big.md:1: the file is 1.4 MiB, more than the 1 MiB `--max-article-size`",
        "articles/en/docs:1: a symbolic link to ",
        "articles/en/p.md:1: a symbolic link to ",
    ] {
        assert!(
            out.stdout.lines().any(|l| l.starts_with(expected)),
            "no {expected:?} in\n{}",
            out.stdout
        );
    }
    assert!(out.stdout.contains("outside the articles folder"));
    assert!(!out.stdout.contains("leak.md"), "{}", out.stdout);

    // A higher limit lets the big one through; the links stay errors.
    let out = dir.run(&["check", "--max-article-size", "2MiB"]);
    assert!(!out.stdout.contains("big.md"), "{}", out.stdout);
    assert!(out.stdout.contains("articles/en/p.md:1:"), "{}", out.stdout);
    let out = dir.run(&["check", "--max-article-size", "a lot"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("not a size"), "{}", out.stderr);
}

/// Plants a question in the `queries` of the sample's reset-password article.
fn plant(dir: &Dir, query: &str) {
    let path = dir.articles().join("en/account/reset-password.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let planted = text.replacen("queries:\n", &format!("queries:\n  - {query}\n"), 1);
    assert_ne!(text, planted);
    std::fs::write(path, planted).unwrap();
}

// See: issue 14 (an article's own `queries` made every search test pass).
#[test]
fn r14_search_tests_are_judged_on_the_text_alone() {
    // Nothing in the article says it: its `queries` alone would have found it.
    let dir = Dir::sample();
    plant(&dir, "purple elephant trampoline");
    let out = dir.run(&["check"]);
    assert_eq!(out.code, Some(1), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(
            "articles/en/account/reset-password.md:10: search test failed: \"purple elephant trampoline\" does not find this article in the top 10 of en by its text"
        ),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("(1 failed)"), "{}", out.stderr);

    // Another article answers it: on the live site the planted query lifted this one above
    // it (3rd for a question about cancelling).
    let dir = Dir::sample();
    plant(&dir, "How do I cancel my subscription and get a refund");
    let out = dir.run(&["check"]);
    assert_eq!(out.code, Some(1), "{}\n{}", out.stdout, out.stderr);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("articles/en/account/reset-password.md:10: search test failed:"))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(
        line.contains("\"How do I cancel my subscription and get a refund\""),
        "{line}"
    );
    assert!(out.stderr.contains("(1 failed)"), "{}", out.stderr);
}

#[test]
fn a_query_that_lifts_an_article_above_a_better_answer_is_reported() {
    let dir = Dir::new();
    dir.write(
        "en/refunds.md",
        "# Refunds\n\nAsk for a refund within 30 days; we send the money back to your card.\n",
    );
    dir.write(
        "en/grinder.md",
        "---\ntitle: Warranty\nqueries: [refund for a broken grinder]\n---\nYour machine is covered for two years: a broken grinder is repaired for free.\n",
    );
    dir.write(
        "en/money.md",
        "---\ntitle: Payment methods\n---\nWe take cards and PayPal. A refund for a broken grinder goes back to the card you paid with.\n",
    );
    let out = dir.run(&["check"]);
    // Warnings only: the tests pass, and say which article the query lifts this one above.
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(
            "articles/en/grinder.md:3: warning: search test \"refund for a broken grinder\" lifts this article above en/money.md on the live site, whose text answers it better"
        ),
        "{}",
        out.stdout
    );
}
