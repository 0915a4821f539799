//! The README tells the truth: every example command in it (a `$ kb …` line of a `console`
//! block) is run, in order, on the sample help center with a recorded history, and what it
//! prints is compared with the lines shown under it.
//!
//! The comparison leaves open what changes from run to run: a line of its own that is just
//! `…` stands for any number of lines, `…` inside a line for any text, an id cut short
//! (`5f0c…`) for any id, and durations (`0.17 s`, `1.2 ms`), dates and times for any of
//! their kind. Everything else must be as shown. Standard error is shown too, where it
//! falls; a command must exit 0 (`kb check` 1 when it reports errors).

use std::path::Path;
use std::process::Command;

use regex::Regex;

/// One example: a command line and what the README shows it printing.
#[derive(Debug)]
struct Example {
    /// 1-based line of the README.
    line: usize,
    command: String,
    expected: Vec<String>,
}

/// The `$ ` commands of every `console` block, with the lines that follow each.
fn examples(readme: &str) -> Vec<Example> {
    let mut out: Vec<Example> = Vec::new();
    let mut in_console = false;
    for (i, line) in readme.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            in_console = !in_console && trimmed.trim_start_matches('`').trim() == "console";
            continue;
        }
        if !in_console {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            out.push(Example {
                line: i + 1,
                command: command.to_string(),
                expected: Vec::new(),
            });
        } else if let Some(example) = out.last_mut() {
            example.expected.push(line.to_string());
        }
    }
    out
}

/// The pattern of an expected line: literal text, with what varies left open.
fn pattern(expected: &str) -> Regex {
    // Times, dates, durations and ids cut short with `…`, then `…` for anything else.
    let open = Regex::new(concat!(
        r"(?P<time>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z)",
        r"|(?P<date>\d{4}-\d{2}-\d{2})",
        r"|(?P<duration>\d+(\.\d+)? (s|ms)\b)",
        r"|(?P<id>\b[0-9a-f]{2,}…)",
        r"|(?P<any>…)",
    ))
    .unwrap();
    let mut re = String::from("^");
    let mut at = 0;
    for c in open.captures_iter(expected) {
        let m = c.get(0).unwrap();
        re.push_str(&regex::escape(&expected[at..m.start()]));
        re.push_str(if c.name("time").is_some() {
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z"
        } else if c.name("date").is_some() {
            r"\d{4}-\d{2}-\d{2}"
        } else if let Some(d) = c.name("duration") {
            if d.as_str().ends_with("ms") {
                r"\d+(\.\d+)? ms"
            } else {
                r"\d+(\.\d+)? s"
            }
        } else if c.name("id").is_some() {
            r"[0-9A-Za-z_-]+"
        } else {
            ".*"
        });
        at = m.end();
    }
    re.push_str(&regex::escape(&expected[at..]));
    re.push('$');
    Regex::new(&re).unwrap()
}

/// Whether `actual` (lines) is what `expected` shows, `…` lines standing for any lines.
fn matches(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first.trim() == "…" => {
            (0..=actual.len()).any(|skip| matches(rest, &actual[skip..]))
        }
        Some((first, rest)) => actual
            .split_first()
            .is_some_and(|(line, more)| pattern(first).is_match(line) && matches(rest, more)),
    }
}

fn trim_blank_end<T: AsRef<str>>(lines: &[T]) -> &[T] {
    let end = lines
        .iter()
        .rposition(|l| !l.as_ref().trim().is_empty())
        .map_or(0, |i| i + 1);
    &lines[..end]
}

/// Runs one command line with `kb` found on the `PATH`, in `dir`: its exit code and what it
/// printed (standard error where it fell).
fn run(dir: &Path, bin: &Path, command: &str) -> (Option<i32>, String) {
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut sh = Command::new("bash");
    sh.arg("-c")
        .arg(format!("set -o pipefail; {{ {command} ; }} 2>&1"))
        .current_dir(dir)
        .env("PATH", path)
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    for (k, _) in std::env::vars() {
        if k.starts_with("KB_") {
            sh.env_remove(k);
        }
    }
    let out = sh.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn every_example_in_the_readme_does_what_it_shows() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let examples = examples(&readme);
    assert!(
        examples.len() >= 8,
        "the README's console examples were not found: {examples:#?}"
    );
    assert!(
        examples
            .iter()
            .all(|e| e.command.trim_start().starts_with("kb ")
                || e.command.contains("| kb ")
                || e.command.contains("| head")
                || e.command.starts_with("sed "))
    );

    let dir = crate::report::help_center_with_history(crate::util::Backend::Sqlite);
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kb"), bin.join("kb")).unwrap();

    let mut wrong = Vec::new();
    for e in &examples {
        let (code, output) = run(dir.path(), &bin, &e.command);
        let actual: Vec<&str> = output.lines().collect();
        let (expected, actual) = (trim_blank_end(&e.expected), trim_blank_end(&actual));
        // `kb check` exits 1 when it reports errors, as its summary says.
        let errors = actual
            .last()
            .is_some_and(|l| l.starts_with("kb check:") && !l.contains(": 0 errors"));
        let code_ok = code == Some(if errors { 1 } else { 0 });
        if !code_ok || !matches(expected, actual) {
            wrong.push(format!(
                "README.md:{}: $ {}\n--- shown ---\n{}\n--- printed (exit {code:?}) ---\n{}",
                e.line,
                e.command,
                expected.join("\n"),
                actual.join("\n")
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[test]
fn the_comparison_leaves_open_only_what_varies() {
    let lines = |text: &str| text.lines().map(str::to_string).collect::<Vec<_>>();
    let shown = lines(
        "indexed 31 articles in 0.17 s: 31 added\n…\n{\"at\":\"2026-11-23T10:02:11.412Z\",\"visitor\":\"5f0c…\"}",
    );
    assert!(matches(
        &shown,
        &[
            "indexed 31 articles in 2.05 s: 31 added",
            "kb: one more line",
            "another",
            "{\"at\":\"2025-01-02T03:04:05.006Z\",\"visitor\":\"a1b2c3\"}",
        ]
    ));
    // What the README got wrong before: another count is another output.
    assert!(!matches(
        &lines("1 result for “grindr wont conect” (1.2 ms)"),
        &["7 results for “grindr wont conect” (0.9 ms)"]
    ));
    assert!(!matches(&lines("a\nb"), &["a"]));
    assert!(!matches(&lines("a"), &["a", "b"]));
}

// See: issue 14 (`kb export | head -2` printed "Broken pipe" and exited 2).
#[test]
fn r14_a_closed_pipe_ends_the_output_quietly() {
    let dir = crate::report::help_center_with_history(crate::util::Backend::Sqlite);
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kb"), bin.join("kb")).unwrap();
    for command in [
        "kb export | head -2",
        "kb export --format csv | head -1",
        "kb report --format json | head -1",
        "kb search refund --limit 100 --json | head -1",
    ] {
        let (code, output) = run(dir.path(), &bin, command);
        assert_eq!(code, Some(0), "{command}: {output}");
        assert!(!output.contains("error"), "{command}: {output}");
    }
}
