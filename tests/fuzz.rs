//! Property tests over hostile input: the analyzer, front matter and Markdown (through
//! `articles::parse`), snippets and the query planner (through `Engine::search`) get
//! generated text mixing Markdown and front matter syntax, five scripts, HTML, control and
//! combining characters, and any other character.
//!
//! `cargo test` runs a few hundred cases per target; the long run sets the count:
//!
//! ```text
//! KB_FUZZ_CASES=100000 cargo test --release --test tests fuzz   # 400 000 inputs, ~4 min
//! ```

use std::path::Path;
use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use kb::analysis::{self, TokenKind};
use kb::articles::{self, front_matter, markdown};
use kb::index::{SearchIndex, writer};
use kb::search::snippet::{self, Match};
use kb::search::{Engine, Ranking, SearchParams, plan};

/// Cases per target: `KB_FUZZ_CASES`, else a few hundred (seconds in a debug build).
fn runner() -> TestRunner {
    let cases = std::env::var("KB_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    TestRunner::new(Config {
        cases,
        // Each failure found becomes a named regression test instead.
        failure_persistence: None,
        ..Config::default()
    })
}

/// Pieces that mean something to one of the parsers, or to Unicode.
const FRAGMENTS: &[&str] = &[
    // Front matter.
    "---\n",
    "+++\n",
    "---",
    "title: ",
    "tags: [",
    "]",
    "queries:\n  - ",
    "draft: ",
    "lang: ",
    "slug: ",
    "aliases: ",
    "updated: 2024-01-02",
    "review_every: ",
    "reply: |\n  ",
    "= ",
    "\"",
    "[[",
    "]]",
    ": ",
    "- ",
    "{",
    "}",
    "&anchor ",
    "*alias",
    "!!binary ",
    "%YAML 1.2\n",
    // Markdown.
    "# ",
    "## ",
    "###### ",
    "\n",
    "\n\n",
    "\r\n",
    "```",
    "```rust\n",
    "~~~",
    "`",
    "*",
    "**",
    "_",
    "[",
    "](",
    ")",
    "![",
    "<",
    ">",
    "&",
    "'",
    "|",
    "| --- |",
    "1. ",
    "> ",
    "    ",
    "\t",
    "<!--",
    "-->",
    "<div>",
    "</div>",
    "<script>alert(1)</script>",
    "{#custom-id}",
    "\\",
    "[^1]",
    "[^1]: ",
    "- [ ] ",
    "~~",
    "https://example.com/a?b=1#c",
    "[x](../../x.md#y)",
    "<mark>",
    "</mark>",
    "&amp;",
    "&#39;",
    "&lt;",
    "\u{a0}",
    // Words in five scripts and identifiers.
    "refund",
    "refunds",
    "password",
    "reset",
    "Kubernetes",
    "pod",
    "kubectl_get-pods",
    "v1.2.3",
    "don't",
    "e-mail",
    "OAuth2",
    "密码",
    "重設密碼",
    "客户支持",
    "軟體",
    "画蛇添足",
    "。",
    "！",
    "пароль",
    "змінити",
    "Ї",
    "పాస్‌వర్డ్",
    "మార్చు",
    "อุ่นเครื่อง",
    "ﾊﾟｽﾜｰﾄﾞ",
    // Unicode edges: NUL, escape, joiners, combining marks, expanding case maps, BOM,
    // separators, bidi overrides, ligatures, the last code point.
    "\u{0}",
    "\u{1b}[31m",
    "\u{200d}",
    "\u{200b}",
    "e\u{301}",
    "👩‍👩‍👧",
    "\u{fffd}",
    "\u{feff}",
    "\u{2028}",
    "\u{202e}",
    "ﬁ",
    "İ",
    "ß",
    "ΣΑΣ",
    "\u{10ffff}",
    "\u{1f600}",
    "ǅ",
];

/// Text made of fragments, letters and any characters at all.
fn text(max: usize) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => prop::sample::select(FRAGMENTS).prop_map(str::to_string),
        2 => proptest::char::range('a', 'z').prop_map(String::from),
        1 => any::<char>().prop_map(String::from),
        1 => (prop::sample::select(FRAGMENTS), 1..40usize).prop_map(|(f, n)| f.repeat(n)),
    ];
    prop::collection::vec(piece, 0..max).prop_map(|v| v.concat())
}

/// File bytes: mostly text, sometimes anything (not UTF-8, NUL bytes).
fn file() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => text(80).prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..300),
        1 => (text(30), prop::collection::vec(any::<u8>(), 0..8), text(30)).prop_map(|(a, b, c)| {
            [a.into_bytes(), b, c.into_bytes()].concat()
        }),
    ]
}

/// Snippet HTML is escaped text with `<mark>…</mark>` pairs and nothing else of HTML.
#[track_caller]
fn assert_safe_html(html: &str) {
    let mut open = false;
    let mut rest = html;
    while let Some(i) = rest.find(['<', '>', '&', '"', '\'']) {
        let tail = &rest[i..];
        let skip = if tail.starts_with("<mark>") {
            assert!(!open, "nested <mark> in {html:?}");
            open = true;
            6
        } else if tail.starts_with("</mark>") {
            assert!(open, "</mark> without <mark> in {html:?}");
            open = false;
            7
        } else if let Some(e) = ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
            .iter()
            .find(|e| tail.starts_with(**e))
        {
            e.len()
        } else {
            panic!("raw {:?} in snippet {html:?}", &tail[..1]);
        };
        rest = &tail[skip..];
    }
    assert!(!open, "unclosed <mark> in {html:?}");
}

#[track_caller]
fn assert_char_range(text: &str, from: usize, to: usize) {
    assert!(
        from <= to && to <= text.len(),
        "{from}..{to} of {}",
        text.len()
    );
    assert!(
        text.is_char_boundary(from) && text.is_char_boundary(to),
        "{from}..{to} splits a character of {text:?}"
    );
}

fn lines(text: &[u8]) -> usize {
    1 + text.iter().filter(|&&b| b == b'\n').count()
}

#[test]
fn fuzz_analyzer_offsets_stay_on_characters() {
    runner()
        .run(&text(60), |text| {
            let mut next_word = 0;
            let mut last_word: Option<usize> = None;
            analysis::analyze(&text, &mut |t| {
                assert_char_range(&text, t.from, t.to);
                assert!(!t.text.is_empty(), "empty term from {text:?}");
                match t.kind {
                    // Words are numbered in order; what follows a word shares its position.
                    TokenKind::Word => {
                        assert_eq!(t.position, next_word, "{text:?}");
                        next_word += 1;
                        last_word = Some(t.position);
                    }
                    TokenKind::Exact | TokenKind::Part => {
                        assert_eq!(Some(t.position), last_word, "{text:?}: {t:?}");
                    }
                }
            });
            Ok(())
        })
        .unwrap();
}

#[test]
fn fuzz_front_matter_and_markdown_never_panic_and_locate_lines() {
    runner()
        .run(&file(), |bytes| {
            let n = lines(&bytes);
            match articles::parse("en/fuzz.md", "articles/en/fuzz.md", &bytes) {
                Err(p) => {
                    assert!((1..=n).contains(&p.line), "line {} of {n}: {p}", p.line);
                    assert_eq!(p.to_string().lines().count(), 1, "{p}");
                }
                Ok(a) => {
                    assert!((1..=n).contains(&a.body_line), "{}", a.body_line);
                    for l in &a.links {
                        assert!((1..=n).contains(&l.line), "link line {} of {n}", l.line);
                    }
                    for line in a.key_lines.values().chain(&a.query_lines) {
                        assert!((1..=n).contains(line), "key line {line} of {n}");
                    }
                    for h in &a.headings {
                        assert!(!h.id.contains(char::is_whitespace), "{h:?}");
                    }
                    assert!(!a.url.contains(['<', '>', '"', ' ']), "{}", a.url);
                    let html = markdown::render_html(&a.body);
                    assert!(!html.contains("<script"), "{html}");
                }
            }
            // The pieces on their own, as the web layer and `kb check` call them.
            if let Ok(text) = std::str::from_utf8(&bytes) {
                if let Ok(split) = front_matter::split(text) {
                    assert!(text.ends_with(split.body), "the body is the file's tail");
                    let _ = front_matter::parse(&split);
                }
                markdown::extract(text, 1);
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn fuzz_snippets_are_escaped_with_marks_only() {
    // Matches as the index gives them (the analyzer's words), or anywhere at all.
    let case = (
        text(60),
        prop::collection::vec((any::<usize>(), 0..40usize), 0..6),
    );
    runner()
        .run(&case, |(text, wild)| {
            let mut matches: Vec<Match> = Vec::new();
            analysis::analyze(&text, &mut |t| {
                if t.kind == TokenKind::Word && t.position % 3 == 0 {
                    matches.push(Match {
                        offset: t.from as u32,
                        len: (t.to - t.from) as u32,
                        word: (t.text.len() % 4) as u32,
                        weight: 1.0,
                    });
                }
            });
            if let Some(range) = snippet::best_window(
                text.as_bytes(),
                &kb::index::columns::encode(&text),
                &mut matches,
            ) {
                assert_char_range(&text, range.0, range.1);
                // Wild matches: render must skip what is not a character range inside.
                let mut all = matches.clone();
                all.extend(wild.iter().map(|&(offset, len)| Match {
                    offset: (offset % (text.len() + 2)) as u32,
                    len: len as u32,
                    word: 0,
                    weight: 1.0,
                }));
                // In offset order, as render takes them (best_window leaves them so).
                all.sort_by_key(|m| m.offset);
                assert_safe_html(&snippet::render(text.as_bytes(), range, &all));
            }
            let highlight = ["refund", "password", "密码", "пароль", "pod", "a"]
                .iter()
                .flat_map(|w| analysis::analyze_to_vec(w))
                .map(|t| (t.text, 1.0))
                .collect();
            assert_safe_html(&snippet::leading(&text, &highlight));
            Ok(())
        })
        .unwrap();
}

/// The sample help center (31 articles, five languages), indexed once in memory.
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("articles");
        let idx = SearchIndex::in_memory().unwrap();
        let mut w = writer::open_writer(&idx).unwrap();
        writer::sync(&idx, &mut w, &dir, &Default::default()).unwrap();
        Engine::new(Arc::new(idx), Ranking::default())
    })
}

#[test]
fn fuzz_the_planner_and_search_accept_any_query() {
    let lang = prop_oneof![
        Just(None),
        prop::sample::select(
            &[
                "en", "zh", "zh-cn", "zh-Hant", "uk", "te", "", "x-💥", "en_US"
            ][..]
        )
        .prop_map(|l| Some(l.to_string())),
        text(3).prop_map(Some),
    ];
    let case = (
        text(24),
        lang,
        0..12usize,
        0..3usize,
        any::<bool>(),
        any::<bool>(),
    );
    let engine = engine();
    runner()
        .run(&case, |(query, lang, limit, offset, details, typing)| {
            let searcher = engine.index().reader.searcher();
            let planned = plan::plan(
                &query,
                typing,
                &searcher,
                &engine.index().fields,
                &Ranking::default(),
            );
            for w in &planned.words {
                assert_char_range(&query, w.from, w.to);
            }
            let params = SearchParams {
                lang,
                limit,
                offset,
                details,
                typing,
                ..SearchParams::new(query.clone())
            };
            for found in [engine.search(&params), engine.answers(&params)] {
                match found {
                    Ok(r) => {
                        assert!(r.results.len() <= limit);
                        for hit in &r.results {
                            assert_safe_html(&hit.snippet);
                        }
                    }
                    Err(e) => assert!(e.is_client_error(), "{query:?}: {e}"),
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn fuzz_checks_catch_what_they_look_for() {
    assert_safe_html("a &amp; <mark>b</mark> &lt;c&gt; &#39;d&quot;");
    for bad in [
        "<script>",
        "a & b",
        "<mark>x",
        "x</mark>",
        "<mark><mark>x</mark></mark>",
        "\"",
    ] {
        let caught = std::panic::catch_unwind(|| assert_safe_html(bad));
        assert!(caught.is_err(), "{bad:?} passed");
    }
    assert!(std::panic::catch_unwind(|| assert_char_range("é", 0, 1)).is_err());
}
