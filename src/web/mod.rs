//! The web face of kb: axum routes, the JSON API and pages, and serving with a graceful
//! shutdown.
//!
//! The server answers from the first moment: until the index is loaded, `/healthz` and the API
//! say 503 (`starting`), then [`AppState::set_ready`] hands them the search engine.
//!
//! Every request passes, outermost first: the security headers ([`security`]), the client's
//! address ([`client`]), compression, reading small bodies whole, the refusal of cross-site
//! writes, a deadline for the body ([`BODY_TIMEOUT`], for both ways of reading it), and a
//! deadline for the answer ([`HANDLER_TIMEOUT`]).
//! Connections themselves are limited in [`server`].

mod admin;
mod agent;
mod api;
mod article;
pub mod assets;
pub mod client;
mod error;
mod events;
mod hooks;
mod http;
mod layout;
mod llms;
pub mod mcp;
pub mod monitoring;
mod pages;
pub mod ratelimit;
pub mod security;
pub mod server;
mod site;
pub mod templates;
pub mod visitor;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::routing::{get, post};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::{RequestBodyDeadlineLayer, TimeoutLayer};

pub use crate::i18n;
pub use error::ApiError;

use crate::metrics::{MetricsReader, Recorder};
use crate::remote::Follower;
use crate::search::Engine;
use ratelimit::{RateLimiter, WriteLimit};

/// How long a request's body may take to arrive, whole.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a handler may take to answer (a report, a search) before the reader gets 503.
pub const HANDLER_TIMEOUT: Duration = Duration::from_secs(15);

/// Settings of the web layer.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    pub articles: PathBuf,
    /// The help center's name; by default the locale's `site.name`.
    pub site_name: Option<String>,
    /// Whether articles are re-indexed on save (pages then reload themselves).
    pub watching: bool,
    /// Folder of custom page templates (the built-in set is used for what it lacks).
    pub templates: Option<PathBuf>,
    /// Search and serve draft articles.
    pub drafts: bool,
    pub base_url: Option<String>,
    pub contact_url: Option<String>,
    /// Origins allowed to call the API from browsers.
    pub cors_origins: Vec<String>,
    /// The token admin routes require (`KB_ADMIN_TOKEN`); without one they are off.
    pub admin_token: Option<String>,
    /// How much of an article file pages read (`--max-article-size`).
    pub limits: crate::articles::Limits,
    /// The key that signs visitor ids (a random one, good until the process ends, unless
    /// set).
    pub visitor_key: visitor::VisitorKey,
    /// Reverse proxies whose `X-Forwarded-For`/`-Proto` are believed.
    pub trusted_proxies: client::TrustedProxies,
    /// Sites allowed to frame the agent panel.
    pub frame_ancestors: security::FrameAncestors,
    /// The secret git hooks are signed with (`KB_GIT_WEBHOOK_SECRET`); without one the hook
    /// route is off.
    pub git_webhook_secret: Option<String>,
    /// Where writers edit an article's source (`--edit-url`): "Edit this page" links on
    /// articles and in the report.
    pub edit_url: Option<crate::articles::edit::EditUrl>,
    /// The bearer token `POST /mcp` requires (`KB_MCP_TOKEN`); without one it is open.
    pub mcp_token: Option<String>,
}

/// What every handler shares.
pub struct AppState {
    pub config: WebConfig,
    pub locales: Arc<i18n::Locales>,
    pub templates: templates::Templates,
    pub assets: assets::Assets,
    /// The most viewed articles of the last 30 days (path, views), refreshed by the server.
    pub popular: RwLock<Arc<Vec<(String, u64)>>>,
    /// "Last updated" dates by article path (a git call each otherwise).
    updated: Mutex<HashMap<String, Option<String>>>,
    /// Where events go.
    pub recorder: Recorder,
    /// Votes and flags: per visitor a burst of 20, then one every 3 seconds; per address
    /// 100, then one every 2 seconds.
    pub votes_limit: WriteLimit,
    /// Other events: per visitor a burst of 120, then 5 a second; per address 600, then 20
    /// a second.
    pub events_limit: WriteLimit,
    /// What reading records (searches, views, clicks, contact clicks): per visitor a burst
    /// of 120, then 2 a second; per address 600, then 10 a second. Beyond it a reader is
    /// served as usual and not recorded, so a script cannot steer the report's top lists.
    pub records_limit: WriteLimit,
    /// Paths of articles re-indexed after writers saved them, for pages to reload.
    pub changes: tokio::sync::broadcast::Sender<Arc<Vec<String>>>,
    /// Set when the server begins to stop: endless responses (live streams) end, so that
    /// the graceful shutdown does not wait for them.
    pub stopping: tokio::sync::watch::Sender<bool>,
    /// Wrong admin tokens per client address: 10, then one every 6 seconds (at most 20 in
    /// the first minute); an address without a token left is locked out.
    pub admin_limit: RateLimiter,
    /// What the recorded events say (helpfulness, popular articles, the report); `None` when
    /// this server records no metrics.
    pub metrics: Option<Arc<dyn MetricsReader>>,
    /// Git hooks per client address: 30, then one every 2 seconds.
    pub hooks_limit: RateLimiter,
    /// Request counts and latencies, for `/metrics`.
    pub monitor: monitoring::Monitor,
    /// Reports being built, shared by the requests for the same period.
    reports: admin::Builds<admin::Built>,
    engine: OnceLock<Engine>,
    /// The git remote the articles follow (`kb serve --git`), once cloned.
    git: OnceLock<Arc<Follower>>,
}

impl AppState {
    pub fn new(config: WebConfig, recorder: Recorder) -> Self {
        let locales_dir = config.templates.as_ref().map(|d| d.join("locales"));
        let (locales, problems) = i18n::Locales::load(locales_dir.as_deref());
        for p in problems {
            tracing::warn!("locales: {p}");
        }
        let locales = Arc::new(locales);
        let static_dir = config.templates.as_ref().map(|d| d.join("static"));
        AppState {
            templates: templates::Templates::new(config.templates.clone(), locales.clone()),
            assets: assets::Assets::load(static_dir.as_deref()),
            locales,
            popular: RwLock::default(),
            updated: Mutex::default(),
            config,
            recorder,
            votes_limit: WriteLimit::new((20, 1.0 / 3.0), (100, 0.5)),
            events_limit: WriteLimit::new((120, 5.0), (600, 20.0)),
            records_limit: WriteLimit::new((120, 2.0), (600, 10.0)),
            changes: tokio::sync::broadcast::channel(64).0,
            stopping: tokio::sync::watch::channel(false).0,
            admin_limit: RateLimiter::new(10, 1.0 / 6.0),
            hooks_limit: RateLimiter::new(30, 0.5),
            monitor: monitoring::Monitor::default(),
            metrics: None,
            reports: admin::Builds::default(),
            engine: OnceLock::new(),
            git: OnceLock::new(),
        }
    }

    /// Reads the recorded events through `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<dyn MetricsReader>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Whether what this request does is recorded: a counted reader (not a crawler) within
    /// the recording budget ([`AppState::records_limit`]).
    pub fn may_record(&self, tracking: &visitor::Tracking) -> bool {
        tracking.counted && self.records_limit.allow(tracking)
    }

    /// Ends the live streams: called when the server begins to stop.
    pub fn stop_streams(&self) {
        self.stopping.send_replace(true);
    }

    /// Replaces the list of popular articles (path, views), most viewed first.
    pub fn set_popular(&self, popular: Vec<(String, u64)>) {
        *self.popular.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(popular);
    }

    /// Tells open pages (`/api/live`) which articles were just re-indexed.
    pub fn announce_changes(&self, paths: Vec<String>) {
        let mut updated = self.updated.lock().unwrap_or_else(|e| e.into_inner());
        for p in &paths {
            updated.remove(p);
        }
        drop(updated);
        // No receiver (no page open) is not an error.
        let _ = self.changes.send(Arc::new(paths));
    }

    /// Makes the index searchable; `/healthz` answers 200 from now on.
    pub fn set_ready(&self, engine: Engine) {
        let _ = self.engine.set(engine);
    }

    pub fn engine(&self) -> Option<&Engine> {
        self.engine.get()
    }

    /// Hands the web layer the git remote the articles follow: `/healthz` and `/metrics`
    /// report it, signed hooks make it pull.
    pub fn set_git(&self, follower: Arc<Follower>) {
        let _ = self.git.set(follower);
    }

    pub fn git(&self) -> Option<&Arc<Follower>> {
        self.git.get()
    }

    /// The search engine, or the 503 to answer while the index is being built.
    pub fn ready(&self) -> Result<Engine, ApiError> {
        self.engine().cloned().ok_or_else(ApiError::not_ready)
    }
}

/// The search engine, for a handler that needs it: until the index is loaded, the request is
/// answered 503 ([`ApiError::not_ready`]) before the handler runs.
pub struct Ready(pub Engine);

impl FromRequestParts<Arc<AppState>> for Ready {
    type Rejection = ApiError;

    async fn from_request_parts(_: &mut Parts, state: &Arc<AppState>) -> Result<Self, ApiError> {
        state.ready().map(Ready)
    }
}

/// The whole application.
pub fn app(state: Arc<AppState>) -> Router {
    let mut api = Router::new()
        .route("/api/search", get(api::search))
        .route("/api/feedback", post(events::feedback))
        .route("/api/events", post(events::events))
        .route("/api/live", get(api::live))
        .route("/api/answers", post(agent::answers))
        .route("/api/flags", post(agent::flag))
        .route("/api/openapi.json", get(api::openapi))
        .route("/api/report", get(admin::api))
        .layer(axum::middleware::from_fn(security::json_only))
        // Handlers read bodies themselves, under their own limit, to answer 400 with a message.
        .layer(DefaultBodyLimit::disable());
    let cors_origins: Vec<String> = state
        .config
        .cors_origins
        .iter()
        .map(|o| o.trim_end_matches('/').to_string())
        .collect();
    if !cors_origins.is_empty() {
        let origins: Vec<HeaderValue> = cors_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        api = api.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::CONTENT_TYPE]),
        );
    }
    let trusted: Vec<String> = state
        .config
        .base_url
        .iter()
        .cloned()
        .chain(cors_origins)
        .collect();
    let agent_policy = security::agent_policy(&state.config.frame_ancestors);
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(monitoring::public))
        .route("/api/hooks/git", post(hooks::git))
        .route("/", get(pages::root))
        .route("/search", get(site::search))
        .route("/contact", get(site::contact))
        .route("/feedback", post(article::feedback_form))
        .route("/admin/report", get(admin::page).post(admin::page_form))
        .route(
            "/agent",
            get(agent::panel).layer(SetResponseHeaderLayer::overriding(
                header::CONTENT_SECURITY_POLICY,
                agent_policy,
            )),
        )
        .route("/sitemap.xml", get(site::sitemap))
        .route("/opensearch.xml", get(site::opensearch))
        .route("/robots.txt", get(site::robots))
        .route("/llms.txt", get(llms::root))
        .route("/static/{name}", get(site::asset))
        .route("/favicon.ico", get(site::favicon))
        .merge(api)
        .fallback(pages::fallback)
        .layer((
            axum::middleware::from_fn_with_state(state.clone(), monitoring::track),
            security::header_layers(),
            axum::middleware::from_fn_with_state(state.clone(), client::resolve),
            CompressionLayer::new(),
            axum::middleware::from_fn(security::read_ahead),
            security::cross_site_guard(&trusted),
            RequestBodyDeadlineLayer::new(BODY_TIMEOUT),
            TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, HANDLER_TIMEOUT),
        ))
        // Merged after those layers: `/mcp` checks `Origin` itself (loopback pages such as an
        // MCP inspector are allowed there, not for the site's other writes) and caps its body.
        .merge(mcp::routes(&state).layer((
            security::header_layers(),
            axum::middleware::from_fn_with_state(state.clone(), client::resolve),
            RequestBodyDeadlineLayer::new(BODY_TIMEOUT),
            TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, HANDLER_TIMEOUT),
        )))
        .with_state(state)
}

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
