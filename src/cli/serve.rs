//! `kb serve`: index the articles, serve the help center and its API, and re-index what
//! writers save (or, with `--git`, what the followed branch brings), until stopped.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::net::TcpListener;

use super::ServeArgs;
use super::database::ServerMetrics;
use kb::error::Escaped;
use kb::index::{SearchIndex, writer};
use kb::metrics::{DAY, Recorder};
use kb::remote::{self, Follower, GitUrl, Opened, Repo};
use kb::search::{Engine, Ranking};
use kb::watch;
use kb::web::client::TrustedProxies;
use kb::web::security::FrameAncestors;
use kb::web::visitor::VisitorKey;
use kb::web::{self, AppState, WebConfig};

/// How long, once the server has stopped, work still running in the background (a git
/// fetch) may delay the exit.
const EXIT_GRACE: Duration = Duration::from_secs(5);

pub fn run(args: &ServeArgs) -> Result<()> {
    // The database is opened before the server's runtime starts: its client blocks.
    let metrics = ServerMetrics::open(&args.metrics.data, args.metrics.database.as_deref())?;
    let security = Security::of(args, &metrics)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(serve(args.clone(), security, metrics));
    runtime.shutdown_timeout(EXIT_GRACE);
    result
}

async fn bind(addr: &str) -> Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}; is another server using it?"))
}

async fn serve(args: ServeArgs, security: Security, metrics: ServerMetrics) -> Result<()> {
    let git = GitSettings::of(&args)?;
    let listener = bind(&args.addr).await?;
    let metrics_listener = match &args.metrics_addr {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    let retention = args
        .retention_days
        .filter(|&d| d > 0)
        .map(|d| std::time::Duration::from_millis(u64::from(d) * kb::metrics::DAY as u64));
    let (recorder, metrics_writer) = Recorder::start(metrics.store, retention);
    let state = Arc::new(
        AppState::new(
            WebConfig {
                articles: args.folders.articles.clone(),
                site_name: args.site_name.clone(),
                watching: !args.no_watch,
                templates: Some(args.templates.clone()),
                drafts: args.drafts,
                base_url: args.base_url.clone(),
                contact_url: args.contact_url.clone(),
                cors_origins: args.cors_origins.clone(),
                admin_token: security.admin_token,
                visitor_key: security.visitor_key,
                trusted_proxies: security.trusted_proxies.clone(),
                frame_ancestors: security.frame_ancestors,
                mcp_token: security.mcp_token,
                limits: args.folders.limits.limits(),
                git_webhook_secret: git.as_ref().and_then(|g| g.secret.clone()),
                edit_url: args.edit_url.clone(),
            },
            recorder,
        )
        .with_metrics(metrics.reader),
    );
    tracing::info!("listening on http://{}", listener.local_addr()?);
    if let Some(l) = &metrics_listener {
        tracing::info!("metrics on http://{}/metrics", l.local_addr()?);
    }
    tokio::spawn(refresh_popular(state.clone()));

    // Clone or pull (with --git), then index, in the background: the server answers 503
    // until the index is ready. Then a thread re-indexes after each pull that brings a new
    // commit, or else (unless --no-watch) whenever articles change on disk.
    let (fatal_tx, fatal_rx) = tokio::sync::oneshot::channel::<anyhow::Error>();
    let ready = state.clone();
    let folders = args.folders.clone();
    let watching = !args.no_watch;
    let runtime = tokio::runtime::Handle::current();
    let indexing = tokio::task::spawn_blocking(move || {
        let result = (|| -> Result<Option<LiveIndex>> {
            let follower = match git {
                Some(git) => {
                    let follower = git.open(&folders.articles)?;
                    ready.set_git(follower.clone());
                    Some((follower, git.every))
                }
                None => None,
            };
            let idx = Arc::new(SearchIndex::open_or_create(&folders.index)?);
            if let Some(why) = &idx.fresh {
                tracing::info!(
                    "building a new index in {} ({why})",
                    Escaped(folders.index.display())
                );
            }
            let mut w = writer::open_writer(&idx)?;
            let limits = folders.limits.limits();
            let report = writer::sync(&idx, &mut w, &folders.articles, &limits)?;
            for p in &report.problems {
                tracing::warn!("{p}");
            }
            tracing::info!("{}", super::index::summary(&report));
            // Load jieba's dictionary and the other tables now, not on the first query.
            kb::analysis::warm_up();
            let engine = Engine::new(idx.clone(), Ranking::from_env());
            release_freed_heap();
            ready.set_ready(engine);
            if let Some((follower, every)) = follower {
                let reindexer = live(idx, w, ready, folders.articles, limits, false)?;
                let signal = reindexer.signal.clone();
                let task = runtime.spawn(follower.run(every, move |_| {
                    let _ = signal.send(());
                }));
                return Ok(Some(LiveIndex::Following(reindexer, task)));
            }
            if !watching {
                return Ok(Some(LiveIndex::Still(w)));
            }
            Ok(Some(LiveIndex::Watched(live(
                idx,
                w,
                ready,
                folders.articles,
                limits,
                true,
            )?)))
        })();
        match result {
            // The writer stays open (and the index locked) while the server runs.
            Ok(live) => live,
            Err(e) => {
                let _ = fatal_tx.send(e);
                None
            }
        }
    });

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<anyhow::Error>();
    let (stopped_tx, stopped) = tokio::sync::watch::channel(false);
    let stopping = state.clone();
    let shutdown = async move {
        tokio::select! {
            _ = web::shutdown_signal() => tracing::info!("shutting down"),
            Ok(e) = fatal_rx => { let _ = stop_tx.send(e); }
        }
        // Open pages' live streams never end by themselves.
        stopping.stop_streams();
        let _ = stopped_tx.send(true);
    };
    let limits = web::server::Limits {
        max_connections: args.max_connections,
        per_address: args.max_connections_per_address,
        proxies: security.trusted_proxies,
        ..Default::default()
    };
    let metrics_server = metrics_listener.map(|l| {
        let mut stopped = stopped.clone();
        tokio::spawn(web::server::serve(
            l,
            web::monitoring::internal_app(state.clone()),
            web::server::Limits::default(),
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            },
        ))
    });
    web::server::serve(listener, web::app(state), limits, shutdown).await;
    if let Some(server) = metrics_server {
        let _ = server.await;
    }
    // Commit the events still queued, then stop following and watching, and release the
    // index (and its lock).
    tokio::task::spawn_blocking(move || metrics_writer.stop()).await?;
    if let Ok(Some(mut live)) = indexing.await {
        // The follower holds a sender of the re-indexer's signal: it goes first.
        if let LiveIndex::Following(_, task) = &mut live {
            task.abort();
            let _ = task.await;
        }
        tokio::task::spawn_blocking(move || live.stop()).await?;
    }
    match stop_rx.await {
        Ok(e) if e.is::<remote::RemoteError>() => Err(e.context("cannot get the articles")),
        Ok(e) => Err(e.context("cannot build the index")),
        Err(_) => Ok(()),
    }
}

/// What `--git` asks for, checked before the server starts.
struct GitSettings {
    url: GitUrl,
    branch: Option<String>,
    /// `None`: only on hooks.
    every: Option<Duration>,
    /// `KB_GIT_WEBHOOK_SECRET`.
    secret: Option<String>,
}

/// The shortest webhook secret accepted.
const MIN_WEBHOOK_SECRET: usize = 16;

impl GitSettings {
    fn of(args: &ServeArgs) -> Result<Option<GitSettings>> {
        let secret = std::env::var("KB_GIT_WEBHOOK_SECRET")
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let Some(url) = &args.git else {
            if secret.is_some() {
                tracing::warn!(
                    "KB_GIT_WEBHOOK_SECRET is set without --git: there is nothing to pull, so /api/hooks/git stays off"
                );
            }
            return Ok(None);
        };
        let url = GitUrl::parse(url)?;
        if let Some(branch) = &args.git_branch {
            remote::check_branch(branch)?;
        }
        if let Some(s) = &secret
            && s.chars().count() < MIN_WEBHOOK_SECRET
        {
            bail!(
                "KB_GIT_WEBHOOK_SECRET is {} characters long: use {MIN_WEBHOOK_SECRET} random characters or more, e.g. `openssl rand -hex 32`",
                s.chars().count()
            );
        }
        let every = (!args.git_every.is_zero()).then_some(args.git_every);
        if every.is_none() && secret.is_none() {
            bail!(
                "`--git-every 0` pulls only on signed hooks, but KB_GIT_WEBHOOK_SECRET is not set: nothing would ever pull; set both, or an interval"
            );
        }
        Ok(Some(GitSettings {
            url,
            branch: args.git_branch.clone(),
            every,
            secret,
        }))
    }

    /// Clones the remote into `dir`, or pulls it if `dir` is already a clone of it (a pull
    /// that fails leaves the clone as it is, to be served).
    fn open(&self, dir: &std::path::Path) -> Result<Arc<Follower>> {
        let (repo, opened) = Repo::open_or_clone(dir, self.url.clone(), self.branch.as_deref())?;
        let follower = Follower::new(repo);
        match opened {
            Opened::Cloned => follower.cloned(),
            Opened::Existing => {
                let _ = follower.pull_now();
            }
        }
        let status = follower.status();
        tracing::info!(
            "articles from {} (`{}` at {}), pulled {}{}",
            self.url,
            status.branch,
            status.commit.as_ref().map_or("no commit", |c| c.short()),
            match self.every {
                Some(every) => format!("every {}", humantime::format_duration(every)),
                None => "only on hooks".to_string(),
            },
            if self.secret.is_some() {
                " and on signed hooks to /api/hooks/git"
            } else {
                " (no KB_GIT_WEBHOOK_SECRET: /api/hooks/git is off)"
            }
        );
        Ok(follower)
    }
}

/// The settings that keep the server safe, checked before it starts.
struct Security {
    admin_token: Option<String>,
    mcp_token: Option<String>,
    visitor_key: VisitorKey,
    trusted_proxies: TrustedProxies,
    frame_ancestors: FrameAncestors,
}

impl Security {
    fn of(args: &ServeArgs, metrics: &ServerMetrics) -> Result<Security> {
        if let Some(url) = &args.base_url
            && web::security::origin_of(url).is_none()
        {
            bail!(
                "--base-url {url:?} must be an http:// or https:// address, such as https://help.example.com"
            );
        }
        if args.base_url.is_none() {
            tracing::warn!(
                "no --base-url: the sitemap, robots.txt and OpenSearch description are built from each request's Host and never cached, and pages link to themselves relatively; set --base-url to the help center's public address"
            );
        }
        let visitor_key = match (&args.visitor_key_file, std::env::var("KB_VISITOR_KEY")) {
            (Some(file), _) => VisitorKey::read(file)?,
            (None, Ok(text)) if !text.trim().is_empty() => {
                VisitorKey::from_text(&text, "in KB_VISITOR_KEY")?
            }
            // Replicas on one database share the key kept there.
            _ => match metrics.shared_visitor_key()? {
                Some(key) => key,
                None => VisitorKey::in_data(&args.metrics.data)?,
            },
        };
        Ok(Security {
            admin_token: admin_token()?,
            mcp_token: mcp_token(args)?,
            visitor_key,
            trusted_proxies: TrustedProxies::parse(&args.trust_proxy)
                .map_err(anyhow::Error::msg)?,
            frame_ancestors: FrameAncestors::parse(&args.frame_ancestors)
                .map_err(anyhow::Error::msg)?,
        })
    }
}

/// The admin token from `KB_ADMIN_TOKEN`; admin routes are off without one, and a short one
/// (which could be guessed) stops the server.
fn admin_token() -> Result<Option<String>> {
    let Ok(token) = std::env::var("KB_ADMIN_TOKEN") else {
        return Ok(None);
    };
    let token = checked_token("KB_ADMIN_TOKEN", &token)?;
    if token.is_some() {
        tracing::info!("admin routes on: /admin/report, /api/report");
    }
    Ok(token)
}

/// The token `POST /mcp` requires, from `--mcp-token-file` or `KB_MCP_TOKEN`; without one
/// the MCP server is open, like the API.
fn mcp_token(args: &ServeArgs) -> Result<Option<String>> {
    let (token, name) = match &args.mcp_token_file {
        Some(file) => (
            std::fs::read_to_string(file)
                .with_context(|| format!("cannot read the MCP token file {}", file.display()))?,
            format!("the MCP token in {}", file.display()),
        ),
        None => match std::env::var("KB_MCP_TOKEN") {
            Ok(t) => (t, "KB_MCP_TOKEN".to_string()),
            Err(_) => return Ok(None),
        },
    };
    let token = checked_token(&name, &token)?;
    if token.is_some() {
        tracing::info!("the MCP server at /mcp requires its bearer token");
    }
    Ok(token)
}

/// A secret token, trimmed; `None` when empty, an error when short enough to be guessed.
fn checked_token(name: &str, token: &str) -> Result<Option<String>> {
    let token = token.trim().to_string();
    if token.is_empty() {
        return Ok(None);
    }
    let length = token.chars().count();
    if length < MIN_ADMIN_TOKEN {
        bail!(
            "{name} is {length} characters long: use {MIN_ADMIN_TOKEN} random characters or more, e.g. `openssl rand -hex 32`"
        );
    }
    Ok(Some(token))
}

/// The shortest admin or MCP token accepted.
const MIN_ADMIN_TOKEN: usize = 32;

/// Keeps the home page's popular articles (views of the last 30 days) fresh.
async fn refresh_popular(state: Arc<AppState>) {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(300);
    const WINDOW: kb::metrics::Millis = 30 * DAY;
    let Some(metrics) = state.metrics.clone() else {
        return;
    };
    loop {
        let reader = metrics.clone();
        let popular =
            tokio::task::spawn_blocking(move || reader.popular(kb::metrics::now() - WINDOW, 200))
                .await;
        match popular {
            Ok(Ok(p)) => state.set_popular(p),
            Ok(Err(e)) => tracing::warn!("popular articles: {e}"),
            Err(e) => tracing::warn!("popular articles: {e}"),
        }
        tokio::time::sleep(EVERY).await;
    }
}

/// The index writer while the server runs: idle, driven by the folder watcher, or by the
/// git follower (whose task ends first).
enum LiveIndex {
    Still(kb::index::writer::IndexWriter),
    Watched(Reindexer),
    Following(Reindexer, tokio::task::JoinHandle<()>),
}

impl LiveIndex {
    fn stop(self) {
        match self {
            LiveIndex::Still(w) => drop(w),
            LiveIndex::Watched(r) | LiveIndex::Following(r, _) => r.stop(),
        }
    }
}

/// Re-indexes on a signal (the watcher's, or the git follower's after a checkout): one
/// thread syncs (coalescing signals that arrive meanwhile) and tells open pages what
/// changed.
struct Reindexer {
    watcher: Option<watch::Watcher>,
    signal: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Reindexer {
    fn stop(self) {
        drop(self.watcher);
        drop(self.signal);
        let _ = self.thread.join();
    }
}

/// Starts the re-indexing thread, and with `watching` the folder watcher that signals it.
fn live(
    idx: Arc<SearchIndex>,
    mut w: kb::index::writer::IndexWriter,
    state: Arc<AppState>,
    articles: std::path::PathBuf,
    limits: kb::articles::Limits,
    watching: bool,
) -> Result<Reindexer> {
    let (signal, changes) = std::sync::mpsc::channel::<()>();
    let watcher = if watching {
        let from_watcher = signal.clone();
        let watcher = watch::watch(&articles, move || {
            let _ = from_watcher.send(());
        })
        .with_context(|| format!("cannot watch {} for changes", articles.display()))?;
        tracing::info!("watching {} for changes", Escaped(articles.display()));
        // A save made after the first sync read its file and before the watcher started
        // would wait for the next change: one more sync now catches it (unchanged files
        // cost a hash).
        let _ = signal.send(());
        Some(watcher)
    } else {
        None
    };
    let thread = std::thread::Builder::new()
        .name("kb-reindex".into())
        .spawn(move || {
            while changes.recv().is_ok() {
                while changes.try_recv().is_ok() {}
                match writer::sync(&idx, &mut w, &articles, &limits) {
                    Ok(report) => {
                        // A broken article is told once per save, not at every sync.
                        for p in report.new_problems() {
                            tracing::warn!("{p}");
                        }
                        if report.changed() {
                            tracing::info!("re-indexed: {}", super::index::summary(&report));
                        }
                        // Open pages of articles that changed, broke or were mended reload:
                        // a writer's preview then shows what is wrong, or no longer.
                        let mut pages = report.changed.clone();
                        pages.extend(report.new_problem_paths().map(str::to_string));
                        pages.extend(report.resolved.iter().cloned());
                        if !pages.is_empty() {
                            state.announce_changes(pages);
                        }
                    }
                    Err(e) => tracing::error!("re-indexing failed: {e:#}"),
                }
                release_freed_heap();
            }
            drop(w);
        })?;
    Ok(Reindexer {
        watcher,
        signal,
        thread,
    })
}

/// Hands the heap that a sync and the startup freed back to the system. glibc keeps freed
/// memory for reuse, in the arena of the thread that freed it, and returns only the top of the
/// main heap by itself: the articles a sync read and hashed, the buffers of loading jieba's
/// dictionary and the vocabulary stayed resident (2 MB of `kb serve`'s 72 MB once loaded) in
/// the arenas of threads that never allocate as much again. Searches do not notice: their
/// blocks are reused from what stays free.
fn release_freed_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only releases free memory of glibc's own arenas (taking their
    // locks); it touches no allocation in use, and any thread may call it at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
