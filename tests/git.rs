//! Articles from a git remote (`kb serve --git`): replicas follow a real bare repository on
//! signed hooks and on an interval, and a pull that cannot be trusted changes nothing.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hmac::{KeyInit, Mac};
use serde_json::Value;

use crate::history::{run_git, writer_git};
use crate::util::{Dir, Reply, Server};

/// The webhook secret of these tests.
const SECRET: &str = "a-webhook-secret-of-some-length";

/// A bare repository as the remote, and a working clone the writers push from.
struct Remote {
    root: tempfile::TempDir,
}

impl Remote {
    /// A remote whose `main` holds these articles, committed on `date` (YYYY-MM-DD).
    fn new(articles: &[(&str, &str)], date: &str) -> Remote {
        let root = tempfile::Builder::new()
            .prefix("kb-remote-")
            .tempdir()
            .unwrap();
        let remote = Remote { root };
        git(
            remote.root.path(),
            &["init", "--quiet", "--bare", "-b", "main", "remote.git"],
        );
        git(
            remote.root.path(),
            &["init", "--quiet", "-b", "main", "work"],
        );
        git(&remote.work(), &["remote", "add", "origin", &remote.url()]);
        for (path, text) in articles {
            remote.write(path, text);
        }
        remote.commit("The first articles", date);
        git(&remote.work(), &["push", "--quiet", "origin", "main"]);
        remote
    }

    fn bare(&self) -> PathBuf {
        self.root.path().join("remote.git")
    }

    fn work(&self) -> PathBuf {
        self.root.path().join("work")
    }

    fn url(&self) -> String {
        format!("file://{}", self.bare().display())
    }

    fn write(&self, path: &str, text: &str) {
        let p = self.work().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// Commits everything in the working clone, dated `date`.
    fn commit(&self, message: &str, date: &str) {
        git(&self.work(), &["add", "--all"]);
        let date = format!("{date}T12:00:00+0000");
        let mut cmd = writer_git(&self.work());
        cmd.env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date);
        run_git(cmd, &["commit", "--quiet", "-m", message]);
    }

    /// Adds an article in a commit of its own; the new head.
    fn add(&self, path: &str, text: &str, date: &str) -> String {
        self.write(path, text);
        self.commit(&format!("Add {path}"), date);
        self.head()
    }

    /// Adds an article and pushes it to `main`; the new head.
    fn push(&self, path: &str, text: &str, date: &str) -> String {
        let head = self.add(path, text, date);
        git(&self.work(), &["push", "--quiet", "origin", "HEAD:main"]);
        head
    }

    fn head(&self) -> String {
        git(&self.work(), &["rev-parse", "HEAD"])
    }
}

/// Runs git as a writer and returns what it printed; panics when it fails.
#[track_caller]
fn git(dir: &Path, args: &[&str]) -> String {
    run_git(writer_git(dir), args)
}

/// The first articles of every remote here.
const ARTICLES: &[(&str, &str)] = &[
    (
        "en/billing/refunds.md",
        "---\ntitle: Refunds\n---\n\nAsk for a refund within 30 days of the purchase.\n",
    ),
    (
        "en/account/password.md",
        "---\ntitle: Reset your password\n---\n\nUse the forgotten password link to reset it.\n",
    ),
];

/// `kb serve --git` on the remote, in a folder of its own.
fn replica(remote: &Remote, extra: &[&str], env: &[(&str, &str)]) -> (Dir, Server) {
    let dir = Dir::new();
    let url = remote.url();
    let mut args = vec!["--git", &url, "--no-watch"];
    args.extend_from_slice(extra);
    let server = Server::start_with_env(&dir, &args, env);
    (dir, server)
}

/// GitHub's signature of `body`.
fn github_signature(secret: &str, body: &str) -> String {
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// A push event as GitHub sends it (kb does not read it; it is what is signed).
fn push_event(head: &str) -> String {
    serde_json::json!({"ref": "refs/heads/main", "after": head, "repository": {"full_name": "acme/help"}})
        .to_string()
}

fn hook(s: &Server, headers: &[(&str, &str)], body: &str) -> Reply {
    s.post("/api/hooks/git", headers, body)
}

fn health(s: &Server) -> Value {
    let (status, body) = s.get("/healthz");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Waits until `done` holds, polling; panics after `within`.
#[track_caller]
fn wait_until(s: &Server, within: Duration, what: &str, done: impl Fn() -> bool) -> Duration {
    let started = Instant::now();
    loop {
        if done() {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "not within {within:?}: {what}\nhealth: {}\nserver log:\n{}",
            health(s),
            s.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn finds(s: &Server, q: &str, path: &str) -> bool {
    s.paths(&[("q", q)]).iter().any(|p| p == path)
}

/// The commit of the branch as the clone last fetched it.
fn fetched(dir: &Dir) -> String {
    git(&dir.articles(), &["rev-parse", "refs/remotes/origin/main"])
}

#[test]
fn two_replicas_serve_a_pushed_article_within_10_s_of_a_signed_hook() {
    let remote = Remote::new(ARTICLES, "2025-01-15");
    let first = remote.head();
    let env = [("KB_GIT_WEBHOOK_SECRET", SECRET)];
    // An interval far longer than the test: only hooks pull.
    let (dir_a, a) = replica(&remote, &["--git-every", "1h"], &env);
    let (dir_b, b) = replica(&remote, &["--git-every", "1h"], &env);
    for (s, dir) in [(&a, &dir_a), (&b, &dir_b)] {
        assert!(finds(s, "refund", "en/billing/refunds.md"));
        let h = health(s);
        assert_eq!(h["git"]["commit"], first.as_str(), "{h}");
        assert_eq!(h["git"]["branch"], "main");
        assert_eq!(h["git"]["error"], Value::Null);
        assert!(
            h["git"]["last_sync"].as_str().unwrap().ends_with('Z'),
            "{h}"
        );
        // A full clone: the history the dates come from is there.
        assert_eq!(git(&dir.articles(), &["rev-list", "--count", "HEAD"]), "1");
    }
    let mut spec = crate::agent::Spec::fetch(&a);
    spec.check("GET", "/healthz", &a.request("GET", "/healthz", &[], None));

    let head = remote.push(
        "en/orders/gift-wrap.md",
        "---\ntitle: Gift wrapping\n---\n\nEvery order can be gift wrapped with a zyxquartz ribbon.\n",
        "2025-03-04",
    );
    let event = push_event(&head);

    // Unsigned, wrongly signed, signed with another secret, a wrong GitLab token: 401, and
    // nothing is fetched.
    let json = ("content-type", "application/json");
    let wrong_secret = github_signature("not-the-secret-at-all", &event);
    let refusals = [
        (&a, vec![json]),
        (&b, vec![json, ("x-hub-signature-256", "sha256=00")]),
        (
            &a,
            vec![json, ("x-hub-signature-256", wrong_secret.as_str())],
        ),
        (&b, vec![("x-gitlab-token", "not-the-secret")]),
    ];
    for (s, headers) in &refusals {
        let r = hook(s, headers, &event);
        assert_eq!(r.status, 401, "{headers:?}: {}", r.body);
        assert!(r.json()["error"].is_string());
        spec.check("POST", "/api/hooks/git", &r);
    }
    // A signature of another body does not sign this one.
    let r = hook(
        &a,
        &[
            json,
            ("x-hub-signature-256", &github_signature(SECRET, "{}")),
        ],
        &event,
    );
    assert_eq!(r.status, 401);
    // Proving that nothing happens takes a wait: a fetch would start at once.
    std::thread::sleep(Duration::from_millis(1500));
    for (s, dir) in [(&a, &dir_a), (&b, &dir_b)] {
        assert_eq!(fetched(dir), first, "a refused hook fetched");
        assert!(!finds(s, "zyxquartz", "en/orders/gift-wrap.md"));
        assert_eq!(health(s)["git"]["commit"], first.as_str());
    }

    // Signed: GitHub's way to one replica, GitLab's to the other.
    let signature = github_signature(SECRET, &event);
    let started = Instant::now();
    let r = hook(&a, &[json, ("x-hub-signature-256", &signature)], &event);
    assert_eq!(r.status, 202, "{}", r.body);
    spec.check("POST", "/api/hooks/git", &r);
    let r = hook(&b, &[("x-gitlab-token", SECRET), json], &event);
    assert_eq!(r.status, 202, "{}", r.body);
    for s in [&a, &b] {
        wait_until(
            s,
            Duration::from_secs(10),
            "the pushed article served",
            || finds(s, "zyxquartz", "en/orders/gift-wrap.md"),
        );
    }
    let both = started.elapsed();
    assert!(both < Duration::from_secs(10), "{both:?}");
    eprintln!("both replicas served the pushed article {both:?} after the signed hooks");

    // On the same commit, the same index: the same answers, to the score.
    for s in [&a, &b] {
        assert_eq!(health(s)["git"]["commit"], head.as_str());
    }
    for q in ["refund", "password", "gift", "zyxquartz ribbon"] {
        let (_, ra) = a.search(&[("q", q)]);
        let (_, rb) = b.search(&[("q", q)]);
        let hits = |r: &Value| -> Vec<(String, String)> {
            r["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| (h["path"].to_string(), h["score"].to_string()))
                .collect()
        };
        assert_eq!(hits(&ra), hits(&rb), "{q}");
    }
    // "Last updated" comes from the commit, on both.
    for s in [&a, &b] {
        let (status, page) = s.get("/en/orders/gift-wrap");
        assert_eq!(status, 200);
        assert!(page.contains("datetime=\"2025-03-04\""), "{page}");
    }
    spec.check("GET", "/healthz", &a.request("GET", "/healthz", &[], None));
}

#[test]
fn a_pull_that_cannot_be_trusted_leaves_the_articles_served_and_healthz_says_why() {
    let remote = Remote::new(ARTICLES, "2025-01-15");
    let first = remote.head();
    let env = [("KB_GIT_WEBHOOK_SECRET", SECRET)];
    let (dir, s) = replica(&remote, &["--git-every", "1h"], &env);
    let pull = || {
        let r = hook(&s, &[("x-gitlab-token", SECRET)], "");
        assert_eq!(r.status, 202, "{}", r.body);
    };
    let error_contains = |text: &str| {
        let text = text.to_string();
        let s = &s;
        move || {
            health(s)["git"]["error"]
                .as_str()
                .is_some_and(|e| e.contains(&text))
        }
    };
    let still_served = || {
        assert!(finds(&s, "refund", "en/billing/refunds.md"));
        let (status, _) = s.get("/en/billing/refunds");
        assert_eq!(status, 200);
        assert_eq!(git(&dir.articles(), &["rev-parse", "HEAD"]), first);
    };

    // The remote is gone (deleted, or the network is down).
    let away = remote.root.path().join("moved.git");
    std::fs::rename(remote.bare(), &away).unwrap();
    pull();
    wait_until(
        &s,
        Duration::from_secs(10),
        "the fetch error in /healthz",
        error_contains("git fetch failed"),
    );
    still_served();
    let h = health(&s);
    assert_eq!(h["status"], "ok");
    assert_eq!(h["git"]["commit"], first.as_str());
    assert!(s.log().contains("still serving"), "{}", s.log());
    let mut spec = crate::agent::Spec::fetch(&s);
    spec.check("GET", "/healthz", &s.request("GET", "/healthz", &[], None));
    // Back: the error clears.
    std::fs::rename(&away, remote.bare()).unwrap();
    pull();
    wait_until(&s, Duration::from_secs(10), "the error cleared", || {
        health(&s)["git"]["error"].is_null()
    });

    // A force-push of unrelated history (garbage): refused, not followed.
    git(
        &remote.work(),
        &["checkout", "--quiet", "--orphan", "garbage"],
    );
    git(&remote.work(), &["rm", "-r", "--quiet", "--cached", "."]);
    std::fs::remove_dir_all(remote.work().join("en")).unwrap();
    remote.write("junk.md", "# Junk\n\nUnrelated history: qqjunkqq.\n");
    remote.commit("Garbage", "2025-02-01");
    git(
        &remote.work(),
        &["push", "--quiet", "--force", "origin", "garbage:main"],
    );
    let garbage = remote.head();
    pull();
    wait_until(
        &s,
        Duration::from_secs(10),
        "the rewrite refused",
        error_contains("was rewritten"),
    );
    still_served();
    assert!(!finds(&s, "qqjunkqq", "junk.md"));
    // The fetch itself happened: the operator can look at what was pushed.
    assert_eq!(fetched(&dir), garbage);

    // The operator accepts the new history by hand; the next pull serves it.
    git(
        &dir.articles(),
        &["reset", "--quiet", "--hard", "origin/main"],
    );
    pull();
    wait_until(
        &s,
        Duration::from_secs(10),
        "the accepted history indexed",
        || finds(&s, "qqjunkqq", "junk.md") && !finds(&s, "refund", "en/billing/refunds.md"),
    );
    assert!(health(&s)["git"]["error"].is_null());
    assert_eq!(health(&s)["git"]["commit"], garbage.as_str());

    // A local edit in the clone: the pull is refused rather than discarding it.
    std::fs::write(dir.articles().join("junk.md"), "edited on the server").unwrap();
    let next = remote.push(
        "en/new.md",
        "# New\n\nA brand new qqfreshqq article.\n",
        "2025-02-02",
    );
    pull();
    wait_until(
        &s,
        Duration::from_secs(10),
        "the local change reported",
        error_contains("local changes"),
    );
    assert!(
        health(&s)["git"]["error"]
            .as_str()
            .unwrap()
            .contains("junk.md")
    );
    assert!(!finds(&s, "qqfreshqq", "en/new.md"));
    assert_eq!(git(&dir.articles(), &["rev-parse", "HEAD"]), garbage);
    // Discarded: the next pull goes through.
    git(&dir.articles(), &["checkout", "--quiet", "--", "junk.md"]);
    pull();
    wait_until(
        &s,
        Duration::from_secs(10),
        "the new article served",
        || finds(&s, "qqfreshqq", "en/new.md"),
    );
    assert_eq!(health(&s)["git"]["commit"], next.as_str());
}

#[test]
fn the_interval_pulls_without_hooks_and_metrics_tell_the_sync_state() {
    let remote = Remote::new(ARTICLES, "2025-01-15");
    // No secret: the hook route does not exist; the interval does the work.
    let (_dir, s) = replica(
        &remote,
        &["--git-every", "1s", "--metrics-addr", "127.0.0.1:0"],
        &[],
    );
    let r = hook(&s, &[("x-gitlab-token", SECRET)], "{}");
    assert_eq!(r.status, 404, "{}", r.body);
    let head = remote.push(
        "en/orders/tracking.md",
        "# Track an order\n\nFollow the qqparcelqq from the orders page.\n",
        "2025-03-05",
    );
    let took = wait_until(
        &s,
        Duration::from_secs(10),
        "the pushed article served",
        || finds(&s, "qqparcelqq", "en/orders/tracking.md"),
    );
    eprintln!("served {took:?} after the push, pulling every second");

    let metrics = crate::monitoring::scrape(&s);
    assert!(
        metrics.contains(&format!(
            "kb_git_commit_info{{branch=\"main\",commit=\"{head}\"}} 1\n"
        )),
        "{metrics}"
    );
    assert!(metrics.contains("kb_git_up 1\n"), "{metrics}");
    assert!(
        metrics.contains("kb_git_sync_failures_total 0\n"),
        "{metrics}"
    );
    let syncs = crate::monitoring::value(&metrics, "kb_git_syncs_total");
    assert!(syncs >= 2.0, "{metrics}");
    let last = crate::monitoring::value(&metrics, "kb_git_last_sync_timestamp_seconds");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - last).abs() < 60.0, "{last} vs {now}");

    // The remote breaks: failures count, the commit stays.
    std::fs::remove_dir_all(remote.bare()).unwrap();
    wait_until(&s, Duration::from_secs(10), "a failed pull counted", || {
        crate::monitoring::value(&crate::monitoring::scrape(&s), "kb_git_sync_failures_total")
            >= 1.0
    });
    let metrics = crate::monitoring::scrape(&s);
    assert!(metrics.contains("kb_git_up 0\n"), "{metrics}");
    assert!(metrics.contains(&format!("commit=\"{head}\"")), "{metrics}");
    assert!(finds(&s, "qqparcelqq", "en/orders/tracking.md"));
    // Told once in the log, not at every pull.
    let told = s.log().matches("cannot pull").count();
    assert_eq!(told, 1, "{}", s.log());
}

#[test]
fn folders_that_are_not_a_clone_of_the_remote_are_refused() {
    let remote = Remote::new(ARTICLES, "2025-01-15");
    let url = remote.url();
    // Articles already in the folder: kb does not clone over them.
    let dir = Dir::fixture("help-center");
    let out = dir.run(&["serve", "--git", &remote.url(), "--addr", "127.0.0.1:0"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("is not a clone of"), "{}", out.stderr);
    // A clone of another remote.
    let other = Remote::new(ARTICLES, "2025-01-15");
    let dir = Dir::new();
    std::fs::remove_dir(dir.articles()).unwrap();
    git(dir.path(), &["clone", "--quiet", &other.url(), "articles"]);
    let out = dir.run(&["serve", "--git", &remote.url(), "--addr", "127.0.0.1:0"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(
        out.stderr.contains("it is a clone of file://"),
        "{}",
        out.stderr
    );
    // URLs and branches that would be options or commands.
    for (args, says) in [
        (
            vec!["--git=--upload-pack=touch /tmp/kb-pwned"],
            "cannot start with",
        ),
        (
            vec!["--git", "ext::sh -c touch% /tmp/kb-pwned"],
            "not allowed",
        ),
        (vec!["--git", "relative/path"], "absolute path"),
        (
            vec!["--git", &url, "--git-branch=--force"],
            "is not a branch name",
        ),
        (
            vec!["--git", &url, "--git-every", "0"],
            "KB_GIT_WEBHOOK_SECRET",
        ),
    ] {
        let mut all = vec!["serve", "--addr", "127.0.0.1:0"];
        all.extend(args.iter().copied());
        let out = dir.run(&all);
        assert_eq!(out.code, Some(2), "{args:?}: {out:?}");
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
    assert!(!Path::new("/tmp/kb-pwned").exists());
    // A branch the remote does not have: the clone fails, and says why.
    let dir = Dir::new();
    let out = dir.run(&[
        "serve",
        "--git",
        &remote.url(),
        "--git-branch",
        "nope",
        "--addr",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("git clone failed"), "{}", out.stderr);
    assert!(std::fs::read_dir(dir.articles()).unwrap().next().is_none());
}

#[test]
fn hooks_are_rate_limited_per_address() {
    let remote = Remote::new(ARTICLES, "2025-01-15");
    let (_dir, s) = replica(
        &remote,
        &["--git-every", "1h"],
        &[("KB_GIT_WEBHOOK_SECRET", SECRET)],
    );
    let statuses: Vec<u16> = (0..30)
        .map(|_| hook(&s, &[("x-gitlab-token", "wrong")], "").status)
        .collect();
    assert!(statuses.iter().all(|&c| c == 401), "{statuses:?}");
    // One token comes back every 2 s: within a few requests the allowance is spent.
    let limited = (0..10).any(|_| hook(&s, &[("x-gitlab-token", "wrong")], "").status == 429);
    assert!(limited);
    // Even the right secret waits then.
    let r = hook(&s, &[("x-gitlab-token", SECRET)], "");
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_some());
    let mut spec = crate::agent::Spec::fetch(&s);
    spec.check("POST", "/api/hooks/git", &r);
}

#[test]
fn a_restart_fetches_into_the_clone_and_may_switch_branches() {
    let remote = Remote::new(ARTICLES, "2025-01-15");
    git(&remote.work(), &["checkout", "--quiet", "-b", "docs"]);
    let docs = remote.add(
        "en/docs-only.md",
        "# Docs\n\nOnly on the qqdocsqq branch.\n",
        "2025-02-01",
    );
    git(&remote.work(), &["push", "--quiet", "origin", "HEAD:docs"]);

    let dir = Dir::new();
    let url = remote.url();
    let s = Server::start(&dir, &["--git", &url, "--git-every", "1h"]);
    assert_eq!(health(&s)["git"]["branch"], "main");
    assert!(!finds(&s, "qqdocsqq", "en/docs-only.md"));
    assert!(s.terminate(Duration::from_secs(30)));

    // The same folder, now following `docs`: fetched and switched at start.
    let s = Server::start(
        &dir,
        &["--git", &url, "--git-branch", "docs", "--git-every", "1h"],
    );
    let h = health(&s);
    assert_eq!(h["git"]["branch"], "docs", "{h}");
    assert_eq!(h["git"]["commit"], docs.as_str(), "{h}");
    assert!(finds(&s, "qqdocsqq", "en/docs-only.md"));
    assert!(s.log().contains("articles from"), "{}", s.log());
    assert!(
        !s.log().contains("clon"),
        "an existing clone is fetched, not cloned again"
    );
    assert!(s.terminate(Duration::from_secs(30)));

    // The remote unreachable at start: the clone is served as it is, and /healthz says why.
    std::fs::rename(remote.bare(), remote.root.path().join("gone.git")).unwrap();
    let s = Server::start(
        &dir,
        &["--git", &url, "--git-branch", "docs", "--git-every", "1h"],
    );
    let h = health(&s);
    assert!(
        h["git"]["error"]
            .as_str()
            .unwrap()
            .contains("git fetch failed"),
        "{h}"
    );
    assert!(h["git"]["last_sync"].is_null(), "{h}");
    assert_eq!(h["git"]["commit"], docs.as_str());
    assert!(finds(&s, "qqdocsqq", "en/docs-only.md"));
}
