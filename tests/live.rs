//! The writers' loop: what is saved is searchable, and open pages hear about it.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use crate::util::{Dir, Server};

/// Waits until searching `q` gives `want` (or, with `None`, nothing).
#[track_caller]
fn wait_for_search(s: &Server, q: &str, want: Option<&str>) {
    let started = Instant::now();
    loop {
        let paths = s.paths(&[("q", q)]);
        let ok = match want {
            Some(p) => paths.first().map(String::as_str) == Some(p),
            None => paths.is_empty(),
        };
        if ok {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{q:?} still gives {paths:?}, not {want:?}\nserver log:\n{}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[test]
fn saved_changes_are_searchable_without_a_restart() {
    let dir = Dir::fixture("help-center");
    let s = Server::start_watching(&dir, &[]);

    // A new article.
    dir.write(
        "en/billing/gift-cards.md",
        "# Gift cards\n\nRedeem a giftcard code at checkout.",
    );
    wait_for_search(&s, "giftcard", Some("en/billing/gift-cards.md"));

    // An edit, saved the way vim and JetBrains do: a temporary file renamed over the article.
    let tmp = dir.articles().join("en/billing/.gift-cards.md.swp");
    std::fs::write(&tmp, "# Gift cards\n\nRedeem a voucher code at checkout.").unwrap();
    std::fs::rename(&tmp, dir.articles().join("en/billing/gift-cards.md")).unwrap();
    wait_for_search(&s, "voucher", Some("en/billing/gift-cards.md"));
    wait_for_search(&s, "giftcard", None);

    // A new folder with an article in it.
    std::fs::create_dir_all(dir.articles().join("en/loyalty/tiers")).unwrap();
    dir.write(
        "en/loyalty/tiers/gold.md",
        "# Gold tier\n\nGold members get free grinders.",
    );
    wait_for_search(&s, "gold members", Some("en/loyalty/tiers/gold.md"));

    // A rename, then a deletion.
    std::fs::rename(
        dir.articles().join("en/loyalty/tiers/gold.md"),
        dir.articles().join("en/loyalty/tiers/platinum.md"),
    )
    .unwrap();
    wait_for_search(&s, "gold members", Some("en/loyalty/tiers/platinum.md"));
    dir.remove("en/loyalty/tiers/platinum.md");
    wait_for_search(&s, "gold members", None);

    // A broken save is reported, keeps the article's last good version searchable
    // (issue 14) and leaves the rest serving.
    dir.write(
        "en/billing/gift-cards.md",
        "---\ntitle: [\n---\nbroken words",
    );
    let started = Instant::now();
    while !s.log().contains("gift-cards.md:2:") {
        assert!(started.elapsed() < Duration::from_secs(10), "{}", s.log());
        std::thread::sleep(Duration::from_millis(25));
    }
    wait_for_search(&s, "voucher", Some("en/billing/gift-cards.md"));
    assert!(
        !s.paths(&[("q", "zebrafinch")])
            .contains(&"en/billing/gift-cards.md".to_string())
    );
    assert_eq!(s.paths(&[("q", "refund")])[0], "en/billing/refunds.md");
}

/// `/healthz`'s count of broken articles.
fn broken(s: &Server) -> u64 {
    let (status, body) = s.get("/healthz");
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    json["broken"].as_u64().unwrap()
}

/// Waits until `/healthz` counts `n` broken articles.
#[track_caller]
fn wait_for_broken(s: &Server, n: u64) {
    let started = Instant::now();
    while broken(s) != n {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "/healthz does not count {n} broken articles\n{}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

// See: issue 14 (a typo in front matter took a live article offline; a new file with the same
// slug silently replaced it).
#[test]
fn r14_a_broken_save_keeps_the_article_and_tells_the_writer() {
    let dir = Dir::fixture("help-center");
    let s = Server::start_watching(&dir, &["--drafts"]);
    let (status, good) = s.get("/en/billing/refunds");
    assert_eq!(status, 200);
    assert!(!good.contains("kb-problem"), "{good}");
    // The fixture's own broken files.
    let base = broken(&s);

    let original = std::fs::read_to_string(dir.articles().join("en/billing/refunds.md")).unwrap();
    let text = original.replacen("title:", "title: [unclosed\nformer_title:", 1);
    assert_ne!(text, original);
    dir.write("en/billing/refunds.md", &text);
    wait_for_broken(&s, base + 1);
    // Served as it was, with what is wrong above it in the writer's preview.
    let (status, page) = s.get("/en/billing/refunds");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("class=\"kb-problem\""), "{page}");
    // (minijinja escapes the slashes)
    assert!(
        page.contains("refunds.md:3: invalid YAML front matter"),
        "{page}"
    );
    assert_eq!(
        s.paths(&[("q", "refund"), ("lang", "en")])[0],
        "en/billing/refunds.md"
    );
    // Told once in the log, not at every sync.
    let message = "en/billing/refunds.md:";
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(s.log().matches(message).count(), 1, "{}", s.log());

    // A new file with the same URL: the first path keeps it, and the writer is told.
    dir.write(
        "en/billing/zz-old-refunds.md",
        "---\nslug: refunds\n---\n# Old refunds\n\nOld text.",
    );
    wait_for_broken(&s, base + 2);
    wait_for_log(
        &s,
        "zz-old-refunds.md:1: the URL /en/billing/refunds is also the URL of en/billing/refunds.md",
        1,
    );
    let (_, page) = s.get("/en/billing/refunds");
    assert!(!page.contains("Old refunds"), "{page}");
    assert!(
        s.paths(&[("q", "old refunds")])
            .iter()
            .all(|p| !p.contains("zz-old"))
    );
    dir.remove("en/billing/zz-old-refunds.md");
    wait_for_broken(&s, base + 1);

    // After a restart the index still has the last good version; the public never sees the
    // problem, and an article that was never good is not served, only reported.
    assert!(s.terminate(Duration::from_secs(10)));
    dir.write("en/billing/new-broken.md", "---\ntitle: [\n---\nnever good");
    let s = Server::start(&dir, &[]);
    assert_eq!(broken(&s), base + 2);
    let (status, page) = s.get("/en/billing/refunds");
    assert_eq!(status, 200, "{page}");
    assert!(!page.contains("kb-problem"), "{page}");
    assert!(!page.contains("refunds.md:"), "{page}");
    assert_eq!(s.get("/en/billing/new-broken").0, 404);
    assert!(s.log().contains("new-broken.md:2:"), "{}", s.log());

    // Fixed, it is served from its file again.
    drop(s);
    dir.write("en/billing/refunds.md", &original);
    let s = Server::start(&dir, &["--drafts"]);
    assert_eq!(broken(&s), base + 1);
    let (_, page) = s.get("/en/billing/refunds");
    assert!(!page.contains("class=\"kb-problem\""), "{page}");
}

#[test]
fn open_pages_hear_which_articles_changed() {
    let dir = Dir::fixture("help-center");
    let s = Server::start_watching(&dir, &[]);
    let (tx, rx) = std::sync::mpsc::channel();
    let url = format!("{}/api/live", s.base);
    std::thread::spawn(move || {
        let agent = crate::util::agent();
        let mut r = agent.get(&url).call().expect("live stream");
        let reader = BufReader::new(r.body_mut().as_reader());
        for line in reader.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Give the stream a moment to subscribe, then save.
    std::thread::sleep(Duration::from_millis(300));
    dir.write(
        "en/shipping/track-order.md",
        "# Track your delivery\n\nNew text.",
    );
    let started = Instant::now();
    let mut seen = Vec::new();
    loop {
        let line = rx.recv_timeout(Duration::from_secs(20)).expect("an event");
        if line.starts_with("data:") && line.contains("en/shipping/track-order.md") {
            break;
        }
        seen.push(line);
        assert!(started.elapsed() < Duration::from_secs(20), "{seen:?}");
    }
    assert!(seen.iter().any(|l| l == "event: change"), "{seen:?}");
}

#[test]
fn the_server_stops_promptly_with_pages_open() {
    let dir = Dir::fixture("help-center");
    let s = Server::start_watching(&dir, &[]);
    let url = format!("{}/api/live", s.base);
    // A page holding the live stream open.
    std::thread::spawn(move || {
        let agent = crate::util::agent();
        if let Ok(mut r) = agent.get(&url).call() {
            let _ = std::io::copy(&mut r.body_mut().as_reader(), &mut std::io::sink());
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    assert!(
        s.terminate(Duration::from_secs(10)),
        "kb serve did not stop on SIGTERM within 10 s"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// CPU time (clock ticks, user and system) and bytes read (`rchar`: every `read` call) of a
/// process so far.
fn usage(pid: u32) -> (u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // After the command name, which is in parentheses and may hold spaces: the state is
    // field 3, utime and stime fields 14 and 15.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap();
    let read = io
        .lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (ticks, read)
}

/// Waits until the server's log says `what` `times` times.
#[track_caller]
fn wait_for_log(s: &Server, what: &str, times: usize) {
    let started = Instant::now();
    while s.log().matches(what).count() < times {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{what:?} not logged {times} times:\n{}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

// See: issue 11 (a watcher woken by its own sync's reads re-indexed forever).
#[test]
fn r11_an_idle_server_stays_idle() {
    let dir = Dir::new();
    let text = "Refunds, returns and shipping, in more words than one. ".repeat(40);
    for i in 0..300 {
        dir.write(
            &format!("en/topic-{}/article-{i}.md", i % 10),
            format!("# Article {i}\n\n{text}"),
        );
    }
    dir.write("en/broken.md", "---\ntitle: [\n---\nbroken");
    let s = Server::start_watching(&dir, &[]);
    wait_for_log(&s, "watching", 1);
    // Let the start settle (the first commit, the dictionaries loaded).
    std::thread::sleep(Duration::from_secs(1));

    let (ticks, read) = usage(s.pid());
    std::thread::sleep(Duration::from_secs(3));
    let (ticks_after, read_after) = usage(s.pid());
    // A tick is 10 ms: 3 % of a core at most, where re-reading everything forever took
    // 100 % and more. No article is read again (one is 2 kB).
    assert!(
        ticks_after - ticks <= 10,
        "{} ticks of CPU in 3 quiet seconds\n{}",
        ticks_after - ticks,
        s.log()
    );
    assert!(
        read_after - read < 2_000,
        "{} bytes read in 3 quiet seconds",
        read_after - read
    );
    assert_eq!(s.log().matches("en/broken.md:").count(), 1, "{}", s.log());

    // Another article's save syncs again, which does not tell the unchanged broken one again.
    dir.write("en/new.md", "# New\n\nFreshly written words.");
    wait_for_search(&s, "freshly", Some("en/new.md"));
    assert_eq!(s.log().matches("en/broken.md:").count(), 1, "{}", s.log());
    // Saving the broken article, still broken, does.
    dir.write("en/broken.md", "---\ntitle: [\n---\nstill broken");
    wait_for_log(&s, "en/broken.md:", 2);
}
