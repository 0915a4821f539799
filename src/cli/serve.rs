//! `kb serve`: index the articles, serve the help center and its API, and re-index what
//! writers save, until stopped.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use tokio::net::TcpListener;

use super::ServeArgs;
use kb::error::Escaped;
use kb::index::{SearchIndex, writer};
use kb::metrics::sqlite::{SqliteReader, SqliteStore};
use kb::metrics::{DAY, Recorder};
use kb::search::{Engine, Ranking};
use kb::watch;
use kb::web::client::TrustedProxies;
use kb::web::security::FrameAncestors;
use kb::web::visitor::VisitorKey;
use kb::web::{self, AppState, WebConfig};

pub fn run(args: &ServeArgs) -> Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(args.clone()))
}

async fn serve(args: ServeArgs) -> Result<()> {
    let security = Security::of(&args)?;
    let listener = TcpListener::bind(&args.addr).await.with_context(|| {
        format!(
            "cannot listen on {}; is another server using it?",
            args.addr
        )
    })?;
    let store = SqliteStore::open(&args.data).with_context(|| {
        format!(
            "cannot open the metrics database in {}",
            args.data.display()
        )
    })?;
    let retention = args
        .retention_days
        .filter(|&d| d > 0)
        .map(|d| std::time::Duration::from_secs(u64::from(d) * 86_400));
    let (recorder, metrics_writer) = Recorder::start(Box::new(store), retention);
    let reader = SqliteReader::open(&args.data)?.with_context(|| {
        format!(
            "the metrics database in {} vanished as it was opened",
            args.data.display()
        )
    })?;
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
                trusted_proxies: security.trusted_proxies,
                frame_ancestors: security.frame_ancestors,
                mcp_token: security.mcp_token,
                limits: args.folders.limits.limits(),
            },
            recorder,
        )
        .with_metrics(Arc::new(reader)),
    );
    tracing::info!("listening on http://{}", listener.local_addr()?);
    tokio::spawn(refresh_popular(state.clone()));

    // Index in the background: the server answers 503 until the index is ready. Then, unless
    // --no-watch, a thread re-indexes whenever articles change on disk.
    let (fatal_tx, fatal_rx) = tokio::sync::oneshot::channel::<anyhow::Error>();
    let ready = state.clone();
    let folders = args.folders.clone();
    let watching = !args.no_watch;
    let indexing = tokio::task::spawn_blocking(move || {
        let result = (|| -> Result<Option<LiveIndex>> {
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
            ready.set_ready(Engine::new(idx.clone(), Ranking::from_env()));
            if !watching {
                return Ok(Some(LiveIndex::Still(w)));
            }
            Ok(Some(LiveIndex::Watched(live(
                idx,
                w,
                ready,
                folders.articles,
                limits,
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
    let stopping = state.clone();
    let shutdown = async move {
        tokio::select! {
            _ = web::shutdown_signal() => tracing::info!("shutting down"),
            Ok(e) = fatal_rx => { let _ = stop_tx.send(e); }
        }
        // Open pages' live streams never end by themselves.
        stopping.stop_streams();
    };
    let limits = web::server::Limits {
        max_connections: args.max_connections,
        ..Default::default()
    };
    web::server::serve(listener, web::app(state), limits, shutdown).await;
    // Commit the events still queued, then stop watching and release the index (and its
    // lock).
    tokio::task::spawn_blocking(move || metrics_writer.stop()).await?;
    if let Ok(Some(live)) = indexing.await {
        tokio::task::spawn_blocking(move || live.stop()).await?;
    }
    match stop_rx.await {
        Ok(e) => Err(e.context("cannot build the index")),
        Err(_) => Ok(()),
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
    fn of(args: &ServeArgs) -> Result<Security> {
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
            _ => VisitorKey::in_data(&args.data)?,
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

/// The index writer while the server runs: idle, or driven by the folder watcher.
enum LiveIndex {
    Still(tantivy::IndexWriter),
    Watched(Reindexer),
}

impl LiveIndex {
    fn stop(self) {
        match self {
            LiveIndex::Still(w) => drop(w),
            LiveIndex::Watched(r) => r.stop(),
        }
    }
}

/// Re-indexes on changes: the watcher signals, one thread syncs (coalescing signals that
/// arrive meanwhile) and tells open pages what changed.
struct Reindexer {
    watcher: watch::Watcher,
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

fn live(
    idx: Arc<SearchIndex>,
    mut w: tantivy::IndexWriter,
    state: Arc<AppState>,
    articles: std::path::PathBuf,
    limits: kb::articles::Limits,
) -> Result<Reindexer> {
    let (signal, changes) = std::sync::mpsc::channel::<()>();
    let from_watcher = signal.clone();
    let watcher = watch::watch(&articles, move || {
        let _ = from_watcher.send(());
    })
    .with_context(|| format!("cannot watch {} for changes", articles.display()))?;
    tracing::info!("watching {} for changes", Escaped(articles.display()));
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
                            state.announce_changes(report.changed);
                        }
                    }
                    Err(e) => tracing::error!("re-indexing failed: {e:#}"),
                }
            }
            drop(w);
        })?;
    Ok(Reindexer {
        watcher,
        signal,
        thread,
    })
}
