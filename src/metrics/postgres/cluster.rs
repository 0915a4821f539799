//! A private PostgreSQL server for kb's tests and benchmarks (kb itself never starts one): a
//! fresh cluster (`initdb`) in a temporary folder, on a free loopback port, with its socket in
//! that folder, and one database per test.
//!
//! It uses the binaries of Debian's `postgresql` package (`/usr/lib/postgresql/*/bin`, or
//! `KB_POSTGRES_BIN`). PostgreSQL refuses to run as root, so as root (CI) the cluster belongs
//! to the `postgres` user the package creates. A watchdog shell holds a pipe from the process
//! that started the cluster; when that process ends, however it ends, the pipe closes and the
//! watchdog stops the server and deletes the folder.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};

/// A running private server.
pub struct Cluster {
    bin: PathBuf,
    root: PathBuf,
    port: u16,
    /// Run PostgreSQL's programs as this user (`None`: as ourselves).
    owner: Option<String>,
    /// Closing it (or ending the process) stops the server and deletes `root`.
    watchdog: Mutex<Option<(ChildStdin, Child)>>,
}

/// Says how to get PostgreSQL when it is missing.
const INSTALL: &str = "install Debian's `postgresql` package (apt-get install postgresql), \
    or set KB_POSTGRES_BIN to the folder holding initdb and pg_ctl";

impl Cluster {
    /// One server for the whole process, started on first use. Panics, saying what to
    /// install, when PostgreSQL is missing: tests that need it fail rather than skip.
    pub fn shared() -> &'static Cluster {
        static SHARED: LazyLock<Cluster> = LazyLock::new(|| {
            Cluster::start(false).unwrap_or_else(|e| panic!("no PostgreSQL for the tests: {e}"))
        });
        &SHARED
    }

    /// Starts a new server. `durable` keeps PostgreSQL's defaults (every commit flushed to
    /// disk, for benchmarks); otherwise flushing is off, for quick tests (the tests kill kb,
    /// never this server).
    pub fn start(durable: bool) -> Result<Cluster, String> {
        let bin = binaries()?;
        let owner = running_as_root().then(|| "postgres".to_string());
        let root = std::env::temp_dir().join(format!(
            "kb-postgres-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
        let watchdog = watchdog(&bin, &root, owner.as_deref())?;
        let cluster = Cluster {
            bin,
            root,
            port: 0,
            owner,
            watchdog: Mutex::new(Some(watchdog)),
        };
        if let Some(user) = &cluster.owner {
            let ids = |flag: &str| -> Result<u32, String> {
                let out = Command::new("id")
                    .args([flag, user])
                    .output()
                    .map_err(|e| e.to_string())?;
                String::from_utf8_lossy(&out.stdout)
                    .trim()
                    .parse()
                    .map_err(|_| format!("there is no `{user}` user: {INSTALL}"))
            };
            std::os::unix::fs::chown(&cluster.root, Some(ids("-u")?), Some(ids("-g")?))
                .map_err(|e| format!("cannot hand {} to {user}: {e}", cluster.root.display()))?;
        }
        let data = cluster.data();
        cluster.program("initdb", |c| {
            c.arg("-D").arg(&data).args([
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "--encoding=UTF8",
                "--locale=C",
            ]);
        })?;
        let mut conf = format!(
            "listen_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nmax_connections = 300\n",
            cluster.root.display()
        );
        if !durable {
            conf.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .and_then(|mut f| f.write_all(conf.as_bytes()))
            .map_err(|e| format!("cannot configure the cluster: {e}"))?;
        let mut cluster = cluster;
        // Another process may take the free port first: try again with another.
        let mut last = String::new();
        for _ in 0..5 {
            cluster.port = free_port()?;
            match cluster.start_again() {
                Ok(()) => return Ok(cluster),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn data(&self) -> PathBuf {
        self.root.join("data")
    }

    /// Runs one of PostgreSQL's programs as the cluster's owner; its output on failure.
    fn program(&self, name: &str, args: impl FnOnce(&mut Command)) -> Result<(), String> {
        let mut cmd = as_owner(&self.bin.join(name), self.owner.as_deref());
        args(&mut cmd);
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {name}: {e}; {INSTALL}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{name} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// Stops the server (fast shutdown: connections are cut), keeping its data.
    pub fn stop(&self) -> Result<(), String> {
        self.program("pg_ctl", |c| {
            c.arg("-D")
                .arg(self.data())
                .args(["stop", "-m", "fast", "-w"]);
        })
    }

    /// Starts the server again after [`Cluster::stop`], on the same port.
    pub fn start_again(&self) -> Result<(), String> {
        let log = self.root.join("server.log");
        self.program("pg_ctl", |c| {
            c.arg("-D")
                .arg(self.data())
                .arg("-l")
                .arg(&log)
                .arg("-o")
                .arg(format!("-p {}", self.port))
                .args(["start", "-w", "-t", "60"]);
        })
        .map_err(|e| {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            format!("{e}\n{log}")
        })
    }

    /// The URL of `database` on this server.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// A new empty database, dropped with the returned value.
    pub fn database(&self) -> Database {
        let name = format!(
            "kb_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        self.sql(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create a database for the test: {e}"));
        Database {
            url: self.url(&name),
            name,
            bin: self.bin.clone(),
            port: self.port,
        }
    }

    /// Runs SQL in the `postgres` database.
    fn sql(&self, sql: &str) -> Result<(), String> {
        psql(&self.bin, self.port, sql)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let watchdog = self
            .watchdog
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some((stdin, mut child)) = watchdog {
            drop(stdin);
            let _ = child.wait();
        }
    }
}

/// A database of its own for one test, on a [`Cluster`]; dropped (connections cut) with it.
pub struct Database {
    pub url: String,
    pub name: String,
    bin: PathBuf,
    port: u16,
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = psql(
            &self.bin,
            self.port,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

static NEXT: AtomicU64 = AtomicU64::new(0);

fn psql(bin: &Path, port: u16, sql: &str) -> Result<(), String> {
    let out = Command::new(bin.join("psql"))
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-X",
            "-q",
        ])
        .args(["-v", "ON_ERROR_STOP=1", "-p", &port.to_string(), "-c", sql])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run psql: {e}; {INSTALL}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The folder of PostgreSQL's programs: `KB_POSTGRES_BIN`, else the newest Debian version.
fn binaries() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("KB_POSTGRES_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| format!("PostgreSQL is not installed: {INSTALL}"))
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program` run as `owner` (without a login session, so the server it starts is not tied
/// to one).
fn as_owner(program: &Path, owner: Option<&str>) -> Command {
    match owner {
        Some(user) => {
            let mut c = Command::new("setpriv");
            c.arg(format!("--reuid={user}"))
                .arg(format!("--regid={user}"))
                .arg("--init-groups")
                .arg(program);
            c
        }
        None => Command::new(program),
    }
}

/// The shell that stops the server and deletes its folder once its input closes.
fn watchdog(bin: &Path, root: &Path, owner: Option<&str>) -> Result<(ChildStdin, Child), String> {
    let pg_ctl = as_owner(&bin.join("pg_ctl"), owner);
    let mut stop: Vec<String> = std::iter::once(pg_ctl.get_program())
        .chain(pg_ctl.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    stop.extend(["-D".into(), root.join("data").display().to_string()]);
    stop.extend(["stop", "-m", "immediate", "-w"].map(String::from));
    let quoted: Vec<String> = stop.iter().map(|a| format!("'{a}'")).collect();
    let script = format!(
        "read _; [ -f '{data}/postmaster.pid' ] && {stop} >/dev/null 2>&1; rm -rf '{root}'",
        data = root.join("data").display(),
        stop = quoted.join(" "),
        root = root.display()
    );
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the cluster's watchdog: {e}"))?;
    let stdin = child.stdin.take().ok_or("no pipe to the watchdog")?;
    Ok((stdin, child))
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}
