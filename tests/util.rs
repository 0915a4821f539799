//! Test helpers: temporary help centers, the real `kb` binary, and a real server over HTTP.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Where a test's `kb` commands keep the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in the folder's `data/`.
    Sqlite,
    /// A PostgreSQL database of the test's own, on the private server of this test run.
    Postgres,
}

/// `fn name(backend: Backend)` run as two tests, `name::sqlite` and `name::postgres`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name($crate::util::Backend::Sqlite)
                }
                #[test]
                fn postgres() {
                    super::$name($crate::util::Backend::Postgres)
                }
            }
        )*
    };
}
pub(crate) use on_both_backends;

/// A temporary folder with `articles/` and `index/` in it.
pub struct Dir {
    root: tempfile::TempDir,
    /// The folder's PostgreSQL database, when it records there.
    postgres: Option<kb::metrics::postgres::cluster::Database>,
    /// The URL of the PostgreSQL database it records into.
    url: Option<String>,
}

impl Dir {
    /// An empty help center.
    pub fn new() -> Dir {
        let root = tempfile::Builder::new()
            .prefix("kb-test-")
            .tempdir()
            .unwrap();
        std::fs::create_dir_all(root.path().join("articles")).unwrap();
        Dir {
            root,
            postgres: None,
            url: None,
        }
    }

    /// The same folder, its metrics kept on `backend`: with PostgreSQL, every `kb` it runs
    /// gets `KB_DATABASE_URL`.
    pub fn on(mut self, backend: Backend) -> Dir {
        self.postgres = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(kb::metrics::postgres::cluster::Cluster::shared().database()),
        };
        self.url = self.postgres.as_ref().map(|db| db.url.clone());
        self
    }

    /// The same folder, its metrics kept in the PostgreSQL database at `url` (which the
    /// caller keeps).
    pub fn on_database(mut self, url: &str) -> Dir {
        self.url = Some(url.to_string());
        self
    }

    /// Where its metrics are kept.
    pub fn database(&self) -> kb::metrics::Database {
        match &self.url {
            Some(url) => kb::metrics::Database::Postgres(url.clone()),
            None => kb::metrics::Database::Sqlite(self.path().join("data")),
        }
    }

    /// The URL of its PostgreSQL database, if it has one.
    pub fn database_url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// A store that records into its metrics database.
    pub fn store(&self) -> Box<dyn kb::metrics::EventStore> {
        self.database().open_store().unwrap()
    }

    /// The reader of its metrics; `None` before anything was recorded.
    pub fn reader(&self) -> Option<Box<dyn kb::metrics::MetricsReader>> {
        self.database().open_reader().unwrap()
    }

    /// A copy of `tests/fixtures/<name>` as the articles folder.
    pub fn fixture(name: &str) -> Dir {
        let dir = Dir::new();
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        crate::history::copy_dir(&src, &dir.articles());
        dir
    }

    /// A copy of the sample help center (the repository's `articles/`).
    pub fn sample() -> Dir {
        let dir = Dir::new();
        crate::history::copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("articles"),
            &dir.articles(),
        );
        dir
    }

    pub fn path(&self) -> &Path {
        self.root.path()
    }

    pub fn articles(&self) -> PathBuf {
        self.root.path().join("articles")
    }

    pub fn index(&self) -> PathBuf {
        self.root.path().join("index")
    }

    /// Writes an article (path relative to the articles folder).
    pub fn write(&self, path: &str, text: impl AsRef<[u8]>) {
        let p = self.articles().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    pub fn remove(&self, path: &str) {
        std::fs::remove_file(self.articles().join(path)).unwrap();
    }

    /// `kb` with this folder as its working directory and no `KB_*` settings inherited.
    pub fn kb(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kb"));
        cmd.current_dir(self.path());
        for (k, _) in std::env::vars() {
            if k.starts_with("KB_") {
                cmd.env_remove(k);
            }
        }
        if let Some(url) = self.database_url() {
            cmd.env("KB_DATABASE_URL", url);
        }
        cmd
    }

    /// Runs `kb ARGS` to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        let out = self.kb().args(args).output().unwrap();
        Output {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// What a finished `kb` command printed.
#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(
            self.code,
            Some(0),
            "kb failed:\n{}\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// The recorded events, as `kb export` writes them.
pub fn exported(dir: &Dir) -> Vec<Value> {
    let out = dir.run(&["export", "--format", "jsonl"]);
    out.assert_ok();
    out.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Waits (events are committed in the background) until the export satisfies `done`.
#[track_caller]
pub fn wait_for(dir: &Dir, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let events = exported(dir);
        if done(&events) {
            return events;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never recorded: {what}\n{events:#?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A browser's user agent (requests without one are counted too, but pages look at it).
pub const BROWSER: (&str, &str) = (
    "user-agent",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
);

/// An HTTP client that reports every status instead of failing on 4xx/5xx.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// A client that shows redirects instead of following them.
pub fn agent_without_redirects() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into()
}

/// A `kb serve` process on a free port, stopped when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    log: Arc<Mutex<String>>,
    agent: ureq::Agent,
}

impl Server {
    /// Starts `kb serve --no-watch` on the folder's articles and waits until `/healthz` says
    /// 200.
    pub fn start(dir: &Dir, extra: &[&str]) -> Server {
        let mut args = vec!["--no-watch"];
        args.extend_from_slice(extra);
        Server::start_watching(dir, &args)
    }

    /// Starts `kb serve` (watching the articles unless `extra` says `--no-watch`) and waits
    /// until `/healthz` says 200.
    pub fn start_watching(dir: &Dir, extra: &[&str]) -> Server {
        Server::start_with_env(dir, extra, &[])
    }

    /// Starts `kb serve` with these environment variables (`KB_ADMIN_TOKEN` …).
    pub fn start_with_env(dir: &Dir, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = dir.kb();
        child
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(extra)
            .envs(env.iter().copied())
            .env("KB_LOG", "kb=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = spawn_owned(child);
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(i) = line.find("listening on http://") {
                    // The address ends the text line, or the JSON string.
                    let rest = &line[i + "listening on ".len()..];
                    let end = rest.find(['"', ' ']).unwrap_or(rest.len());
                    let _ = tx.send(rest[..end].trim().to_string());
                }
                sink.lock().unwrap().push_str(&line);
                sink.lock().unwrap().push('\n');
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("kb serve did not start:\n{}", log.lock().unwrap()));
        let agent = agent();
        let server = Server {
            child,
            base,
            log,
            agent,
        };
        let started = Instant::now();
        while server.get("/healthz").0 != 200 {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "kb serve never became healthy:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Any request, with extra headers; the status, headers and body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        let url = format!("{}{path}", self.base);
        let result = match method {
            "GET" => {
                let mut req = self.agent.get(&url);
                for (k, v) in headers {
                    req = req.header(*k, *v);
                }
                req.call()
            }
            "POST" => {
                let mut req = self.agent.post(&url);
                for (k, v) in headers {
                    req = req.header(*k, *v);
                }
                req.send(body.unwrap_or(""))
            }
            "OPTIONS" => {
                let mut req = self.agent.options(&url);
                for (k, v) in headers {
                    req = req.header(*k, *v);
                }
                req.call()
            }
            other => panic!("no {other} in the tests"),
        };
        let mut r = result.expect("request failed");
        Reply {
            status: r.status().as_u16(),
            headers: r
                .headers()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
                .collect(),
            set_cookie: r
                .headers()
                .get_all("set-cookie")
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_string))
                .collect(),
            body: r.body_mut().read_to_string().unwrap_or_default(),
        }
    }

    /// POST a body with these headers: JSON (`Content-Type: application/json`) unless they
    /// say otherwise.
    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let mut headers = headers.to_vec();
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            headers.push(("content-type", "application/json"));
        }
        self.request("POST", path, &headers, Some(body))
    }

    /// A new visitor, as a page issues one: its id (as events carry it) and the `Cookie`
    /// header value that presents it.
    #[track_caller]
    pub fn new_visitor(&self) -> (String, String) {
        let page = self.request("GET", "/search", &[BROWSER], None);
        assert_eq!(page.status, 200, "{}", page.body);
        let id = page.visitor().expect("a page issues a visitor id");
        (id, page.visitor_cookie().unwrap())
    }

    /// Asks the server to stop (SIGTERM) and waits up to `within`; whether it exited.
    pub fn terminate(mut self, within: Duration) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < within {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Stops the server at once, as `kill -9` would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// GET a path (with its query string, already encoded); the status and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        match self.agent.get(format!("{}{path}", self.base)).call() {
            Ok(mut r) => (
                r.status().as_u16(),
                r.body_mut().read_to_string().unwrap_or_default(),
            ),
            Err(e) => (0, e.to_string()),
        }
    }

    /// GET /api/search with these parameters (encoded here); the status and JSON body.
    pub fn search(&self, params: &[(&str, &str)]) -> (u16, Value) {
        let mut req = self.agent.get(format!("{}/api/search", self.base));
        for (k, v) in params {
            req = req.query(*k, *v);
        }
        let mut r = req.call().expect("request failed");
        let status = r.status().as_u16();
        let body = r.body_mut().read_to_string().unwrap();
        let json = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {body:?}\nserver log:\n{}", self.log()));
        (status, json)
    }

    /// Paths of the results of a successful search.
    #[track_caller]
    pub fn paths(&self, params: &[(&str, &str)]) -> Vec<String> {
        let (status, json) = self.search(params);
        assert_eq!(status, 200, "{json}");
        paths(&json)
    }
}

/// An answer to [`Server::request`].
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// Every header, names in lower case.
    pub headers: Vec<(String, String)>,
    pub set_cookie: Vec<String>,
    pub body: String,
}

impl Reply {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The visitor id a `Set-Cookie: kb_visitor=ID.SIGNATURE` gave, if any.
    pub fn visitor(&self) -> Option<String> {
        self.visitor_cookie().map(|c| {
            c["kb_visitor=".len()..]
                .split('.')
                .next()
                .unwrap_or("")
                .to_string()
        })
    }

    /// The `Cookie` header value that presents the visitor a `Set-Cookie` gave, if any.
    pub fn visitor_cookie(&self) -> Option<String> {
        self.set_cookie.iter().find_map(|c| {
            c.starts_with("kb_visitor=")
                .then(|| c.split(';').next().unwrap_or("").to_string())
        })
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// The result paths of a search response.
pub fn paths(json: &Value) -> Vec<String> {
    json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect()
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every vote stored in the folder's metrics database (none when there is none yet): what was
/// committed, read through the store's own reader.
pub fn stored_votes(dir: &Dir) -> Vec<kb::metrics::Vote> {
    let Some(reader) = dir.reader() else {
        return Vec::new();
    };
    let mut votes = Vec::new();
    reader
        .events_since(0, &mut |e| {
            if let kb::metrics::Event::Vote(v) = e {
                votes.push(v);
            }
            Ok(())
        })
        .unwrap();
    votes
}

/// Starts a long-running helper process (a server, ChromeDriver) that cannot outlive the test
/// binary: shared servers live in statics that are never dropped, so without this every test
/// run would leave them behind. The kernel kills the child when the thread that started it
/// ends (`PR_SET_PDEATHSIG` follows the thread, not the process), so one thread that lives as
/// long as the test binary starts them all.
pub fn spawn_owned(mut cmd: Command) -> Child {
    use std::os::unix::process::CommandExt;
    use std::sync::LazyLock;
    use std::sync::mpsc::{Sender, channel};
    type Request = (Command, Sender<std::io::Result<Child>>);
    static SPAWNER: LazyLock<Mutex<Sender<Request>>> = LazyLock::new(|| {
        let (tx, rx) = channel::<Request>();
        std::thread::spawn(move || {
            for (mut cmd, reply) in rx {
                let _ = reply.send(cmd.spawn());
            }
        });
        Mutex::new(tx)
    });
    // SAFETY: prctl is async-signal-safe and touches nothing of the parent's state.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let (reply, child) = channel();
    SPAWNER.lock().unwrap().send((cmd, reply)).unwrap();
    child.recv().unwrap().expect("the process starts")
}

/// Votes posted as fast as the servers take them by many readers at once, each request to
/// the next server of `bases` in turn, for the kill and replica tests: which votes were
/// acknowledged (by their comment) is what the store must hold afterwards.
///
/// The servers must trust `127.0.0.1` as a proxy: every few votes a new reader (its own
/// address in `X-Forwarded-For`, a visitor id from a page) starts, so that per-visitor and
/// per-address limits stay out of the way.
pub struct VoteLoad {
    stop: Arc<std::sync::atomic::AtomicBool>,
    dead: Arc<std::sync::atomic::AtomicUsize>,
    acked: Arc<Mutex<Vec<String>>>,
    last_visitor: Arc<Mutex<String>>,
    clients: Vec<std::thread::JoinHandle<()>>,
}

impl VoteLoad {
    /// Readers vote on `paths` in turn: unhelpful on the first, helpful on the others.
    pub fn start(bases: &[String], clients: usize, paths: &'static [&'static str]) -> VoteLoad {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let stop = Arc::new(AtomicBool::new(false));
        let dead = Arc::new(AtomicUsize::new(usize::MAX));
        let acked: Arc<Mutex<Vec<String>>> = Arc::default();
        let last_visitor: Arc<Mutex<String>> = Arc::default();
        let bases: Arc<Vec<String>> = Arc::new(bases.to_vec());
        let clients = (0..clients)
            .map(|t| {
                let (bases, stop, dead) = (bases.clone(), stop.clone(), dead.clone());
                let (acked, last_visitor) = (acked.clone(), last_visitor.clone());
                std::thread::spawn(move || {
                    let agent = agent();
                    let mut reader: (String, Option<String>) = (String::new(), None);
                    for seq in 0usize.. {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let n = (t + seq) % bases.len();
                        if n == dead.load(Ordering::Relaxed) {
                            continue;
                        }
                        let base = &bases[n];
                        if seq % 5 == 0 {
                            let address = format!("10.{t}.{}.{}", seq / 1280, seq / 5 % 256);
                            reader = (address.clone(), page_visitor(&agent, base, &address));
                            if let Some(cookie) = &reader.1 {
                                *last_visitor.lock().unwrap() = cookie.clone();
                            }
                        }
                        let (address, Some(cookie)) = &reader else {
                            // The server is gone (killed, or stopping): try the next.
                            continue;
                        };
                        let comment = format!("client {t} vote {seq}");
                        let body = serde_json::json!({
                            "path": paths[seq % paths.len()],
                            "helpful": seq % paths.len() != 0,
                            "comment": comment,
                        });
                        match agent
                            .post(format!("{base}/api/feedback"))
                            .header("cookie", cookie)
                            .header("x-forwarded-for", address)
                            .header("content-type", "application/json")
                            .send(body.to_string())
                        {
                            Ok(r) if r.status().as_u16() == 204 => {
                                acked.lock().unwrap().push(comment)
                            }
                            Ok(r) => panic!("vote refused by server {n}: {}", r.status()),
                            // The server is gone: what it did not answer it did not promise.
                            Err(_) => {}
                        }
                    }
                })
            })
            .collect();
        VoteLoad {
            stop,
            dead,
            acked,
            last_visitor,
            clients,
        }
    }

    /// Waits (up to a minute) until `n` votes in all were acknowledged.
    pub fn wait_for(&self, n: usize) {
        let started = Instant::now();
        while self.acked() < n && started.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Votes acknowledged so far.
    pub fn acked(&self) -> usize {
        self.acked.lock().unwrap().len()
    }

    /// Server `n` of `bases` is gone: no more requests to it.
    pub fn mark_dead(&self, n: usize) {
        self.dead.store(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// The cookie of the last reader that started.
    pub fn last_visitor(&self) -> String {
        self.last_visitor.lock().unwrap().clone()
    }

    /// Stops the readers; the comments of the votes acknowledged.
    pub fn stop(self) -> Vec<String> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for c in self.clients {
            c.join().unwrap();
        }
        self.acked.lock().unwrap().clone()
    }
}

/// A reader's cookie, from a page of `base` seen from `address` (through a trusted proxy).
pub fn page_visitor(agent: &ureq::Agent, base: &str, address: &str) -> Option<String> {
    let page = agent
        .get(format!("{base}/search"))
        .header("x-forwarded-for", address)
        .header(BROWSER.0, BROWSER.1)
        .call()
        .ok()?;
    page.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("kb_visitor="))
        .map(|c| c.split(';').next().unwrap_or("").to_string())
}
