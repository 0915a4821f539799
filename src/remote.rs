//! Articles from a git remote: with `kb serve --git URL`, the articles folder is a clone of
//! one branch of a remote that kb keeps following, on an interval and when asked (a signed
//! webhook).
//!
//! A pull changes the folder only when everything before the checkout succeeded:
//!
//! 1. `git fetch` of the branch into its remote-tracking ref (the folder is untouched);
//! 2. the fetched commit must contain the served one: kb follows fast-forwards only, so a
//!    rewritten branch (a force-push) is refused and reported, not silently served;
//! 3. the working tree must be clean: a local edit is refused and reported, not discarded;
//! 4. `git reset --hard` to the fetched commit. A clone that is only ever reset to a
//!    descendant cannot conflict.
//!
//! A failure at any step leaves the served articles exactly as they were, and is kept in
//! [`Status`] (for `/healthz` and `/metrics`) and logged once. The caller re-indexes after a
//! checkout, never during one: the folder is not watched while it follows a remote. The
//! whole history is cloned, since the articles' "last updated" dates, staleness and the
//! report's history come from `git log`.
//!
//! Everything the operator or a remote controls reaches git only as a value: the URL and
//! folder after `--`, the branch inside a `refs/heads/…` refspec; URLs starting with `-` and
//! the `ext::`/`fd::` transports (which run commands) are refused, and `GIT_ALLOW_PROTOCOL`
//! limits git to file, git, http(s) and ssh. Git never prompts (no terminal, no password)
//! and every run has a deadline.
//!
//! It knows nothing of indexes or HTTP: [`Follower::run`] calls back with each new commit.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Notify;

use crate::error::Escaped;

/// The longest a clone may take.
const CLONE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// The longest a fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// The longest a local git command (status, reset …) may take.
const LOCAL_TIMEOUT: Duration = Duration::from_secs(2 * 60);
/// The transports git may use (`GIT_ALLOW_PROTOCOL`): not `ext`, which runs a command.
const ALLOWED_PROTOCOLS: &str = "file:git:http:https:ssh";
/// Changed paths named in an error about local changes; the rest are counted.
const SHOWN_PATHS: usize = 5;
/// The longest message of git's kept in an error.
const MAX_GIT_MESSAGE: usize = 400;

/// What goes wrong with a remote or its clone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    #[error("`--git {url}`: {why}")]
    BadUrl { url: String, why: &'static str },
    #[error("`--git-branch {0}` is not a branch name")]
    BadBranch(String),
    #[error("cannot run git ({0}): install git, kb follows a remote with it")]
    NoGit(String),
    #[error("cannot prepare {dir}: {message}")]
    Folder { dir: String, message: String },
    #[error(
        "{dir} holds files but is not a clone of {url}{found}: point `--articles` to another folder, or move these files away so that kb can clone there"
    )]
    NotAClone {
        dir: String,
        url: String,
        found: String,
    },
    #[error("{dir} is on no branch: say which one to follow with `--git-branch`")]
    NoBranch { dir: String },
    #[error("git {action} failed: {message}")]
    Git {
        action: &'static str,
        message: String,
    },
    #[error("git {action} took longer than {} s and was stopped", .limit.as_secs())]
    TimedOut {
        action: &'static str,
        limit: Duration,
    },
    #[error(
        "the branch `{branch}` was rewritten on the remote (a force-push?): its commit {fetched} does not contain the served {served}, and kb follows fast-forwards only; to serve the new history, run `git -C {dir} reset --hard origin/{branch}` (kb picks it up at the next pull)"
    )]
    Rewritten {
        branch: String,
        fetched: String,
        served: String,
        dir: String,
    },
    #[error(
        "local changes in {dir} ({paths}): kb does not overwrite them and serves the folder as it is; commit them to the remote, or discard them with `git -C {dir} reset --hard && git -C {dir} clean -fd`"
    )]
    LocalChanges { dir: String, paths: String },
}

/// A git URL kb may fetch from. Its `Display` hides credentials (`https://***@host/…`), so
/// it can be logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitUrl {
    url: String,
    /// What of `url` is secret (the user info of an http(s) URL), hidden when shown.
    secret: Option<String>,
}

impl GitUrl {
    /// Accepts `https://`, `http://`, `ssh://`, `git://` and `file://` URLs, `user@host:path`
    /// (ssh) and absolute paths.
    pub fn parse(text: &str) -> Result<GitUrl, RemoteError> {
        let url = text.trim();
        let bad = |why| RemoteError::BadUrl {
            url: Escaped(url).to_string(),
            why,
        };
        if url.is_empty() {
            return Err(bad("give the address of a git repository"));
        }
        if url.starts_with('-') {
            return Err(bad("a URL cannot start with `-`"));
        }
        if url.contains("::") {
            return Err(bad(
                "remote helpers (`ext::`, `fd::` …) are not allowed: use an https://, ssh:// or file:// URL",
            ));
        }
        if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(bad("a URL cannot hold spaces or control characters"));
        }
        let mut secret = None;
        if let Some((scheme, rest)) = url.split_once("://") {
            match scheme.to_ascii_lowercase().as_str() {
                "https" | "http" => {
                    let authority = rest.split('/').next().unwrap_or("");
                    if let Some((userinfo, _)) = authority.rsplit_once('@') {
                        secret = Some(userinfo.to_string());
                    }
                }
                "ssh" | "git" | "file" => {}
                _ => {
                    return Err(bad(
                        "use an https://, http://, ssh://, git:// or file:// URL, user@host:path, or an absolute path",
                    ));
                }
            }
            if rest.is_empty() {
                return Err(bad("the URL names no repository"));
            }
        } else if !url.starts_with('/') && !is_scp_like(url) {
            return Err(bad(
                "a local repository must be an absolute path or a file:// URL",
            ));
        }
        Ok(GitUrl {
            url: url.to_string(),
            secret,
        })
    }

    /// The URL as git needs it, credentials included: never log it.
    pub fn expose(&self) -> &str {
        &self.url
    }

    /// Hides the URL's credentials wherever they appear in `text` (git's messages may
    /// quote the URL).
    fn scrub(&self, text: &str) -> String {
        match &self.secret {
            Some(s) if !s.is_empty() => text.replace(s.as_str(), "***"),
            _ => text.to_string(),
        }
    }
}

impl std::fmt::Display for GitUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", Escaped(self.scrub(&self.url)))
    }
}

/// `user@host:path`, git's short form of ssh (a colon before any slash).
fn is_scp_like(url: &str) -> bool {
    match (url.find(':'), url.find('/')) {
        (Some(colon), slash) => colon > 0 && slash.is_none_or(|s| colon < s),
        (None, _) => false,
    }
}

/// Checks a branch name as git would (`git check-ref-format`), refusing names that look like
/// options.
pub fn check_branch(name: &str) -> Result<(), RemoteError> {
    let bad = || RemoteError::BadBranch(Escaped(name).to_string());
    if name.is_empty() || name.starts_with('-') || name.contains("@{") || name.len() > 255 {
        return Err(bad());
    }
    let refname = format!("refs/heads/{name}");
    let out = git(
        None,
        ["check-ref-format", refname.as_str()],
        LOCAL_TIMEOUT,
        "check-ref-format",
    )?;
    if out.ok { Ok(()) } else { Err(bad()) }
}

/// A commit id, as git prints it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Commit(String);

impl Commit {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 12 characters, for messages.
    pub fn short(&self) -> &str {
        &self.0[..self.0.len().min(12)]
    }

    fn parse(text: &str) -> Option<Commit> {
        let id = text.trim();
        (matches!(id.len(), 40 | 64) && id.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Commit(id.to_ascii_lowercase()))
    }
}

impl std::fmt::Display for Commit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How [`Repo::open_or_clone`] found the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// It was missing or empty: kb cloned the remote into it.
    Cloned,
    /// It already was a clone of the remote.
    Existing,
}

/// The outcome of a successful pull: the commit served before and after (the same when the
/// branch had not moved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulled {
    pub from: Option<Commit>,
    pub to: Commit,
}

/// The articles folder as a clone of one branch of a remote.
#[derive(Debug)]
pub struct Repo {
    dir: PathBuf,
    url: GitUrl,
    branch: String,
}

impl Repo {
    /// Opens `dir` as a clone of `url` following `branch` (by default the branch the clone
    /// is on, which for a new clone is the remote's default). A missing or empty `dir` is
    /// cloned into first, in a folder beside it that is renamed into place once complete,
    /// so an interrupted clone never looks like a clone. A `dir` holding anything else is
    /// refused.
    pub fn open_or_clone(
        dir: &Path,
        url: GitUrl,
        branch: Option<&str>,
    ) -> Result<(Repo, Opened), RemoteError> {
        if let Some(b) = branch {
            check_branch(b)?;
        }
        let shown = Escaped(dir.display()).to_string();
        let folder = |e: std::io::Error| RemoteError::Folder {
            dir: shown.clone(),
            message: e.to_string(),
        };
        let empty = match std::fs::read_dir(dir) {
            Ok(mut entries) => entries.next().is_none(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => return Err(folder(e)),
        };
        let opened = if empty {
            clone_into(dir, &url, branch)?;
            Opened::Cloned
        } else {
            check_clone_of(dir, &url)?;
            Opened::Existing
        };
        let branch = match branch {
            Some(b) => b.to_string(),
            None => {
                let out = git(
                    Some(dir),
                    ["symbolic-ref", "--quiet", "--short", "HEAD"],
                    LOCAL_TIMEOUT,
                    "symbolic-ref",
                )?;
                let name = out.stdout.trim().to_string();
                if !out.ok || name.is_empty() {
                    return Err(RemoteError::NoBranch { dir: shown });
                }
                check_branch(&name)?;
                name
            }
        };
        let repo = Repo {
            dir: dir.to_path_buf(),
            url,
            branch,
        };
        Ok((repo, opened))
    }

    pub fn branch(&self) -> &str {
        &self.branch
    }

    pub fn url(&self) -> &GitUrl {
        &self.url
    }

    /// The commit checked out, if any.
    pub fn head(&self) -> Result<Option<Commit>, RemoteError> {
        self.rev_parse("HEAD^{commit}")
    }

    fn rev_parse(&self, rev: &str) -> Result<Option<Commit>, RemoteError> {
        let out = self.git(["rev-parse", "--verify", "--quiet", rev], "rev-parse")?;
        Ok(if out.ok {
            Commit::parse(&out.stdout)
        } else {
            None
        })
    }

    /// Fetches the branch and, when it moved forward and nothing was edited here, checks out
    /// its new commit. On any failure the folder is as it was.
    pub fn pull(&self) -> Result<Pulled, RemoteError> {
        let tracking = format!("refs/remotes/origin/{}", self.branch);
        let refspec = format!("+refs/heads/{}:{tracking}", self.branch);
        let fetch = self.run(
            [
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-recurse-submodules",
                "--no-write-fetch-head",
                "origin",
                refspec.as_str(),
            ],
            FETCH_TIMEOUT,
            "fetch",
        )?;
        fetch.check("fetch", &self.url)?;
        let fetched = self
            .rev_parse(&format!("{tracking}^{{commit}}"))?
            .ok_or_else(|| RemoteError::Git {
                action: "fetch",
                message: format!("`{}` has no commit after fetching", self.branch),
            })?;
        self.finish_interrupted_checkout()?;
        let served = self.head()?;
        // On another branch (the operator changed `--git-branch`): switching is asked for,
        // so the new branch need not contain the old one.
        let current = self.git(
            ["symbolic-ref", "--quiet", "--short", "HEAD"],
            "symbolic-ref",
        )?;
        let switching = current.stdout.trim() != self.branch;
        if let Some(served) = &served
            && *served != fetched
            && !switching
        {
            let ancestor = self.git(
                [
                    "merge-base",
                    "--is-ancestor",
                    served.as_str(),
                    fetched.as_str(),
                ],
                "merge-base",
            )?;
            match ancestor.code {
                Some(0) => {}
                Some(1) => {
                    return Err(RemoteError::Rewritten {
                        branch: self.branch.clone(),
                        fetched: fetched.short().to_string(),
                        served: served.short().to_string(),
                        dir: Escaped(self.dir.display()).to_string(),
                    });
                }
                _ => ancestor.check("merge-base", &self.url)?,
            }
        }
        self.check_clean()?;
        if switching || served.as_ref() != Some(&fetched) {
            let marker = self.checkout_marker();
            std::fs::write(&marker, fetched.as_str()).map_err(|e| RemoteError::Folder {
                dir: Escaped(self.dir.display()).to_string(),
                message: e.to_string(),
            })?;
            if switching {
                self.git(
                    ["checkout", "--quiet", "-B", &self.branch, fetched.as_str()],
                    "checkout",
                )?
                .check("checkout", &self.url)?;
            } else {
                self.git(["reset", "--hard", "--quiet", fetched.as_str()], "reset")?
                    .check("reset", &self.url)?;
            }
            let _ = std::fs::remove_file(&marker);
        }
        if self.head()?.as_ref() != Some(&fetched) {
            return Err(RemoteError::Git {
                action: "reset",
                message: format!(
                    "the folder is not at {} after the checkout",
                    fetched.short()
                ),
            });
        }
        Ok(Pulled {
            from: served,
            to: fetched,
        })
    }

    /// The file that says a checkout of kb's is under way: if it is still there at the next
    /// pull, kb was stopped during the checkout (`kill -9`, a crash), and the half-written
    /// files are its own, not a writer's.
    fn checkout_marker(&self) -> PathBuf {
        self.dir.join(".git").join("kb-checkout")
    }

    /// Puts back the served commit's files after a checkout that was interrupted, so that
    /// they do not pass for local changes (its stale lock removed: no other git runs here).
    fn finish_interrupted_checkout(&self) -> Result<(), RemoteError> {
        let marker = self.checkout_marker();
        if !marker.exists() {
            return Ok(());
        }
        tracing::warn!(
            "git: a checkout in {} was interrupted; putting the served commit's files back",
            Escaped(self.dir.display())
        );
        let _ = std::fs::remove_file(self.dir.join(".git").join("index.lock"));
        self.git(["reset", "--hard", "--quiet", "HEAD"], "reset")?
            .check("reset", &self.url)?;
        let _ = std::fs::remove_file(&marker);
        Ok(())
    }

    /// Refuses local changes (edited, deleted or new files git does not ignore).
    fn check_clean(&self) -> Result<(), RemoteError> {
        let status = self.git(
            [
                "status",
                "--porcelain=v1",
                "-z",
                "--untracked-files=all",
                "--ignore-submodules",
            ],
            "status",
        )?;
        status.check("status", &self.url)?;
        let paths: Vec<String> = status
            .stdout
            .split('\0')
            .filter(|e| e.len() > 3)
            .map(|e| e[3..].to_string())
            .collect();
        if paths.is_empty() {
            return Ok(());
        }
        let mut shown: Vec<String> = paths
            .iter()
            .take(SHOWN_PATHS)
            .map(|p| Escaped(p).to_string())
            .collect();
        if paths.len() > SHOWN_PATHS {
            shown.push(format!("{} more", paths.len() - SHOWN_PATHS));
        }
        Err(RemoteError::LocalChanges {
            dir: Escaped(self.dir.display()).to_string(),
            paths: shown.join(", "),
        })
    }

    fn git<'a>(
        &self,
        args: impl IntoIterator<Item = &'a str>,
        action: &'static str,
    ) -> Result<GitOutput, RemoteError> {
        self.run(args, LOCAL_TIMEOUT, action)
    }

    fn run<'a>(
        &self,
        args: impl IntoIterator<Item = &'a str>,
        limit: Duration,
        action: &'static str,
    ) -> Result<GitOutput, RemoteError> {
        git(Some(&self.dir), args, limit, action)
    }
}

/// Clones `url` into a new folder beside `dir`, then renames it into place.
fn clone_into(dir: &Path, url: &GitUrl, branch: Option<&str>) -> Result<(), RemoteError> {
    let shown = Escaped(dir.display()).to_string();
    let folder = |e: std::io::Error| RemoteError::Folder {
        dir: shown.clone(),
        message: e.to_string(),
    };
    let name = dir.file_name().ok_or_else(|| RemoteError::Folder {
        dir: shown.clone(),
        message: "it has no name to clone into".into(),
    })?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(folder)?;
    let mut temporary = name.to_os_string();
    temporary.push(".kb-clone");
    let temporary = parent.join({
        let mut dotted = std::ffi::OsString::from(".");
        dotted.push(&temporary);
        dotted
    });
    // Left by a clone that was stopped half-way.
    if temporary.exists() {
        std::fs::remove_dir_all(&temporary).map_err(folder)?;
    }
    let branch_arg = branch.map(|b| format!("--branch={b}"));
    let mut args: Vec<&OsStr> = vec![
        "clone".as_ref(),
        "--quiet".as_ref(),
        "--no-tags".as_ref(),
        "--origin=origin".as_ref(),
    ];
    if let Some(b) = &branch_arg {
        args.push(b.as_ref());
    }
    args.extend(["--".as_ref(), url.expose().as_ref(), temporary.as_os_str()]);
    let out = git(None, args, CLONE_TIMEOUT, "clone");
    let out = match out {
        Ok(out) => out,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&temporary);
            return Err(e);
        }
    };
    if let Err(e) = out.check("clone", url) {
        let _ = std::fs::remove_dir_all(&temporary);
        return Err(e);
    }
    // Over a missing or empty folder, rename(2) is atomic.
    std::fs::rename(&temporary, dir).map_err(|e| {
        let _ = std::fs::remove_dir_all(&temporary);
        folder(e)
    })
}

/// Checks that `dir` is the top of a git clone whose `origin` is `url`.
fn check_clone_of(dir: &Path, url: &GitUrl) -> Result<(), RemoteError> {
    let not_a_clone = |found: String| RemoteError::NotAClone {
        dir: Escaped(dir.display()).to_string(),
        url: url.to_string(),
        found,
    };
    // Not a folder inside another repository (the project's own, say).
    if !dir.join(".git").exists() {
        return Err(not_a_clone(String::new()));
    }
    let origin = git(
        Some(dir),
        ["config", "--get", "remote.origin.url"],
        LOCAL_TIMEOUT,
        "config",
    )?;
    let found = origin.stdout.trim();
    if !origin.ok || found != url.expose() {
        let found = if found.is_empty() {
            " (it has no `origin`)".to_string()
        } else {
            match GitUrl::parse(found) {
                Ok(other) => format!(" (it is a clone of {other})"),
                Err(_) => " (it is a clone of another remote)".to_string(),
            }
        };
        return Err(not_a_clone(found));
    }
    Ok(())
}

/// What a git run printed.
struct GitOutput {
    ok: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl GitOutput {
    /// An error carrying git's own explanation (its `fatal:`/`error:` lines, else its last
    /// lines; credentials hidden) unless git succeeded.
    fn check(&self, action: &'static str, url: &GitUrl) -> Result<(), RemoteError> {
        if self.ok {
            return Ok(());
        }
        let said: Vec<&str> = self
            .stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let fatal: Vec<&str> = said
            .iter()
            .copied()
            .filter(|l| l.starts_with("fatal:") || l.starts_with("error:"))
            .take(2)
            .collect();
        let said = if fatal.is_empty() {
            &said[said.len().saturating_sub(2)..]
        } else {
            &fatal[..]
        };
        let mut message = url.scrub(&said.join(" "));
        if message.is_empty() {
            message = format!("exit status {:?}", self.code);
        }
        if message.chars().count() > MAX_GIT_MESSAGE {
            message = message.chars().take(MAX_GIT_MESSAGE).collect::<String>() + "…";
        }
        Err(RemoteError::Git {
            action,
            message: Escaped(message).to_string(),
        })
    }
}

/// Runs git (in `dir`, if given) with a deadline, never prompting, limited to the allowed
/// transports.
fn git<'a, A>(
    dir: Option<&Path>,
    args: impl IntoIterator<Item = &'a A>,
    limit: Duration,
    action: &'static str,
) -> Result<GitOutput, RemoteError>
where
    A: AsRef<OsStr> + ?Sized + 'a,
{
    let mut cmd = Command::new("git");
    if let Some(dir) = dir {
        cmd.arg("-C").arg(dir);
    }
    cmd.args(args.into_iter().map(AsRef::as_ref))
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ALLOW_PROTOCOL", ALLOWED_PROTOCOLS)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("LC_ALL", "C")
        .env_remove("LANGUAGE")
        // Settings of an enclosing git (a hook, a test harness) must not redirect this one.
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_COMMON_DIR")
        .env_remove("GIT_NAMESPACE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| RemoteError::NoGit(e.to_string()))?;
    // Read both pipes as git writes, so a chatty git never blocks on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut bytes);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RemoteError::TimedOut { action, limit });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                return Err(RemoteError::Git {
                    action,
                    message: e.to_string(),
                });
            }
        }
    };
    Ok(GitOutput {
        ok: status.success(),
        code: status.code(),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// Where following the remote stands, for `/healthz` and `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    pub branch: String,
    /// The commit served.
    pub commit: Option<Commit>,
    /// The end of the last successful pull.
    pub last_sync: Option<SystemTime>,
    /// Why the last pull failed; `None` once one succeeds.
    pub error: Option<String>,
    /// Pulls that succeeded, and that failed, since the server started.
    pub syncs: u64,
    pub failures: u64,
}

/// Follows a [`Repo`]: pulls on an interval and when asked, one pull at a time, and keeps
/// the [`Status`].
pub struct Follower {
    repo: Repo,
    status: Mutex<Status>,
    wake: Notify,
}

impl Follower {
    pub fn new(repo: Repo) -> Arc<Follower> {
        let status = Status {
            branch: repo.branch.clone(),
            commit: repo.head().ok().flatten(),
            ..Status::default()
        };
        Arc::new(Follower {
            repo,
            status: Mutex::new(status),
            wake: Notify::new(),
        })
    }

    pub fn repo(&self) -> &Repo {
        &self.repo
    }

    pub fn status(&self) -> Status {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Records a clone that just succeeded as a sync.
    pub fn cloned(&self) {
        let commit = self.repo.head().ok().flatten();
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        status.commit = commit;
        status.last_sync = Some(SystemTime::now());
        status.syncs += 1;
    }

    /// Asks for a pull as soon as possible (a webhook). Requests that arrive during a pull
    /// make one more pull after it, not one each.
    pub fn request_pull(&self) {
        self.wake.notify_one();
    }

    /// Pulls now (blocking), records the outcome and logs a change of state once.
    pub fn pull_now(&self) -> Result<Pulled, RemoteError> {
        let result = self.repo.pull();
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        match &result {
            Ok(pulled) => {
                if status.error.take().is_some() {
                    tracing::info!("git: pulling `{}` works again", self.repo.branch);
                }
                if pulled.from.as_ref() != Some(&pulled.to) {
                    tracing::info!(
                        "git: `{}` moved from {} to {}",
                        self.repo.branch,
                        pulled.from.as_ref().map_or("nothing", Commit::short),
                        pulled.to.short()
                    );
                }
                status.commit = Some(pulled.to.clone());
                status.last_sync = Some(SystemTime::now());
                status.syncs += 1;
            }
            Err(e) => {
                let message = e.to_string();
                if status.error.as_deref() != Some(message.as_str()) {
                    tracing::error!(
                        "git: cannot pull `{}` from {}; still serving {}: {message}",
                        self.repo.branch,
                        self.repo.url,
                        status.commit.as_ref().map_or("nothing", Commit::short)
                    );
                }
                status.error = Some(message);
                status.failures += 1;
            }
        }
        result
    }

    /// Pulls every `every` (if set) and whenever [`Follower::request_pull`] asks, calling
    /// `on_commit` with each commit newly checked out (or found checked out: an operator's
    /// manual reset). Runs until dropped.
    pub async fn run(self: Arc<Self>, every: Option<Duration>, mut on_commit: impl FnMut(&Commit)) {
        let mut seen = self.status().commit;
        loop {
            let tick = async {
                match every {
                    Some(every) => tokio::time::sleep(every).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = tick => {}
                () = self.wake.notified() => {}
            }
            let me = self.clone();
            let pulled = tokio::task::spawn_blocking(move || me.pull_now()).await;
            if let Ok(Ok(pulled)) = pulled
                && seen.as_ref() != Some(&pulled.to)
            {
                on_commit(&pulled.to);
                seen = Some(pulled.to);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_that_could_run_commands_or_pass_options_are_refused() {
        for bad in [
            "",
            "-uhttps://x",
            "--upload-pack=touch /tmp/x",
            "ext::sh -c touch% /tmp/pwned",
            "fd::17",
            "foo::bar",
            "ftp://example.com/repo.git",
            "relative/path",
            "https://example.com/a b",
            "https://example.com/\nx",
            "https://",
        ] {
            assert!(GitUrl::parse(bad).is_err(), "{bad:?}");
        }
        for good in [
            "https://github.com/acme/help.git",
            "http://git.internal/help.git",
            "ssh://git@github.com/acme/help.git",
            "git@github.com:acme/help.git",
            "git://git.internal/help.git",
            "file:///srv/git/help.git",
            "/srv/git/help.git",
        ] {
            assert!(GitUrl::parse(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn credentials_never_show() {
        let url =
            GitUrl::parse("https://x-access-token:ghp_SECRET@github.com/acme/help.git").unwrap();
        assert_eq!(url.to_string(), "https://***@github.com/acme/help.git");
        assert_eq!(
            url.expose(),
            "https://x-access-token:ghp_SECRET@github.com/acme/help.git"
        );
        let out = GitOutput {
            ok: false,
            code: Some(128),
            stdout: String::new(),
            stderr: "fatal: unable to access 'https://x-access-token:ghp_SECRET@github.com/acme/help.git/': Could not resolve host\n".into(),
        };
        let e = out.check("fetch", &url).unwrap_err().to_string();
        assert!(!e.contains("ghp_SECRET"), "{e}");
        assert!(e.contains("Could not resolve host"), "{e}");
        let ssh = GitUrl::parse("git@github.com:acme/help.git").unwrap();
        assert_eq!(ssh.to_string(), "git@github.com:acme/help.git");
    }

    #[test]
    fn branch_names_are_checked_like_git_does() {
        for good in ["main", "release/2026", "docs-v2"] {
            assert_eq!(check_branch(good), Ok(()), "{good}");
        }
        for bad in [
            "", "-f", "--force", "a..b", "a b", "@{-1}", "x.lock", "a~1", "a:b",
        ] {
            assert!(check_branch(bad).is_err(), "{bad:?}");
        }
    }

    /// A bare remote with one commit, and a working clone to push from.
    fn remote_with_a_commit(root: &Path) -> (GitUrl, PathBuf) {
        let run = |dir: &Path, args: &[&str]| {
            let out = Command::new("git")
                .arg("-C")
                .arg(dir)
                .args(args)
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_AUTHOR_NAME", "W")
                .env("GIT_AUTHOR_EMAIL", "w@example.com")
                .env("GIT_COMMITTER_NAME", "W")
                .env("GIT_COMMITTER_EMAIL", "w@example.com")
                .output()
                .unwrap();
            assert!(out.status.success(), "{args:?}: {out:?}");
        };
        run(
            root,
            &["init", "--quiet", "--bare", "-b", "main", "remote.git"],
        );
        run(root, &["init", "--quiet", "-b", "main", "work"]);
        let work = root.join("work");
        std::fs::write(work.join("a.md"), "# A\n").unwrap();
        std::fs::write(work.join("b.md"), "# B\n").unwrap();
        run(&work, &["add", "--all"]);
        run(&work, &["commit", "--quiet", "-m", "one"]);
        let url = format!("file://{}", root.join("remote.git").display());
        run(&work, &["push", "--quiet", &url, "main"]);
        (GitUrl::parse(&url).unwrap(), work)
    }

    #[test]
    fn a_checkout_interrupted_by_a_crash_is_finished_not_taken_for_local_changes() {
        let root = tempfile::tempdir().unwrap();
        let (url, _work) = remote_with_a_commit(root.path());
        let dir = root.path().join("articles");
        let (repo, opened) = Repo::open_or_clone(&dir, url.clone(), None).unwrap();
        assert_eq!(opened, Opened::Cloned);
        assert!(!root.path().join(".articles.kb-clone").exists());
        let head = repo.head().unwrap().unwrap();
        // What `kill -9` during a reset leaves: some files written, one gone, the lock, and
        // kb's marker.
        std::fs::write(dir.join("a.md"), "half-written").unwrap();
        std::fs::remove_file(dir.join("b.md")).unwrap();
        std::fs::write(dir.join(".git/index.lock"), "").unwrap();
        std::fs::write(repo.checkout_marker(), head.as_str()).unwrap();
        let pulled = repo.pull().unwrap();
        assert_eq!(pulled.to, head);
        assert_eq!(std::fs::read_to_string(dir.join("a.md")).unwrap(), "# A\n");
        assert!(dir.join("b.md").exists());
        assert!(!repo.checkout_marker().exists());
        // Without the marker, the same edit is a writer's, and refused.
        std::fs::write(dir.join("a.md"), "edited by hand").unwrap();
        let e = repo.pull().unwrap_err();
        assert!(matches!(e, RemoteError::LocalChanges { .. }), "{e}");
        assert!(e.to_string().contains("a.md"), "{e}");
        // Opening again finds the clone, and refuses another remote's.
        let (_, opened) = Repo::open_or_clone(&dir, url, None).unwrap();
        assert_eq!(opened, Opened::Existing);
        let other = GitUrl::parse("file:///nowhere/else.git").unwrap();
        let e = Repo::open_or_clone(&dir, other, None).unwrap_err();
        assert!(matches!(e, RemoteError::NotAClone { .. }), "{e}");
    }

    #[test]
    fn commits_are_hex_ids() {
        let id = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            Commit::parse(&format!("{id}\n")).unwrap().short(),
            "0123456789ab"
        );
        assert!(Commit::parse("HEAD").is_none());
        assert!(Commit::parse("--help").is_none());
    }
}
