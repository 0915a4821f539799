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
