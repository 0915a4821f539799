//! What operators watch: `GET /metrics` in the Prometheus text exposition format (0.0.4), or
//! in OpenMetrics when the scraper asks for it (`Accept: application/openmetrics-text`).
//!
//! Requests are counted and timed per route as the router matched it (`/api/search`,
//! `/static/{name}`), never per raw path, so no request can add a series: the pages the
//! router hands to the catalog (articles, categories, language homes, 404s) share the route
//! `fallback`, and methods other than the standard ones count as `OTHER`. The time is to the
//! response's head (a live stream counts when it starts). Searches are timed by the engine,
//! per kind. The rest is read at each scrape: the index (articles, bytes, last commit), the
//! events (queued, stored, lost), database errors, and the git remote being followed.
//!
//! Who may read it: on the public address only with the admin token, like the report
//! (without a token configured, 404); on `--metrics-addr`, an internal address for the
//! scraper, whoever reaches it.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::{EncodeLabelSet, prometheus_text, text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use super::AppState;
use super::client::Client;

/// The route of requests the router did not match to a template.
const FALLBACK: &str = "fallback";
/// The media type of OpenMetrics' text format.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What a search was for, as the `kind` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchKind {
    /// `GET /api/search`.
    Api,
    /// The search page.
    Page,
    /// The related articles under an article.
    Related,
    /// The answers to a customer's message (`POST /api/answers`).
    Answers,
}

impl SearchKind {
    fn label(self) -> &'static str {
        match self {
            SearchKind::Api => "api",
            SearchKind::Page => "page",
            SearchKind::Related => "related",
            SearchKind::Answers => "answers",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Request latencies: 0.5 ms to 16 s, doubling.
fn request_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// Search latencies: 0.1 ms to 3.3 s, doubling.
fn search_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

/// The series kept as requests come: counts and latencies.
pub struct Monitor {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Histograms<RouteLabels>,
    searches: Histograms<KindLabels>,
}

impl Default for Monitor {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("kb");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            requests.clone(),
        );
        let latency: Histograms<RouteLabels> =
            Family::new_with_constructor(request_buckets as fn() -> Histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request (to the response head), by method and route template",
            latency.clone(),
        );
        let searches: Histograms<KindLabels> =
            Family::new_with_constructor(search_buckets as fn() -> Histogram);
        registry.register(
            "search_duration_seconds",
            "Time the search engine took for a query, by kind: api, page, related, answers",
            searches.clone(),
        );
        Monitor {
            registry,
            requests,
            latency,
            searches,
        }
    }
}

impl Monitor {
    /// Counts a search that took `took_ms` milliseconds.
    pub fn searched(&self, kind: SearchKind, took_ms: f64) {
        self.searches
            .get_or_create(&KindLabels { kind: kind.label() })
            .observe(took_ms / 1000.0);
    }

    fn answered(&self, method: &'static str, route: String, status: u16, took: Duration) {
        self.latency
            .get_or_create(&RouteLabels {
                method,
                route: route.clone(),
            })
            .observe(took.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
    }
}

/// A method as a label: the standard ones by name, anything else `OTHER`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "OTHER",
    }
}

/// Middleware (inside the router, where the matched route is known): counts and times each
/// request.
pub async fn track(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(FALLBACK, MatchedPath::as_str)
        .to_string();
    let response = next.run(request).await;
    state
        .monitor
        .answered(method, route, response.status().as_u16(), started.elapsed());
    response
}

/// Seconds since the Unix epoch.
fn unix_seconds(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The series read at scrape time, in a registry of their own.
fn snapshot(state: &AppState) -> Registry {
    let mut r = Registry::with_prefix("kb");
    let gauge = |v: i64| {
        let g: Gauge = Gauge::default();
        g.set(v);
        g
    };
    let seconds = |v: f64| {
        let g = Gauge::<f64, AtomicU64>::default();
        g.set(v);
        g
    };
    let counter = |v: u64| {
        let c: Counter = Counter::default();
        c.inc_by(v);
        c
    };
    r.register(
        "build",
        "The running kb",
        Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
    );

    let engine = state.engine();
    r.register(
        "index_ready",
        "1 once the index is loaded and searchable",
        gauge(i64::from(engine.is_some())),
    );
    if let Some(engine) = engine {
        let index = engine.index();
        r.register(
            "index_articles",
            "Articles in the index (drafts included)",
            gauge(index.num_articles() as i64),
        );
        r.register(
            "index_bytes",
            "Bytes the index folder takes",
            gauge(index.disk_bytes() as i64),
        );
        if let Some(at) = index.last_commit() {
            r.register(
                "index_last_commit_timestamp_seconds",
                "When the index last committed a change (Unix time)",
                seconds(unix_seconds(at)),
            );
        }
    }

    let events = state.recorder.counts();
    r.register(
        "events_queued",
        "Events waiting to be written",
        gauge(events.queued as i64),
    );
    r.register(
        "events_stored",
        "Events written to the metrics database",
        counter(events.stored),
    );
    let lost = Family::<ReasonLabels, Counter>::default();
    lost.get_or_create(&ReasonLabels {
        reason: "queue_full",
    })
    .inc_by(events.dropped);
    lost.get_or_create(&ReasonLabels {
        reason: "write_failed",
    })
    .inc_by(events.failed);
    r.register(
        "events_lost",
        "Events not stored: dropped with the queue full, or lost to a failed write",
        lost,
    );
    r.register(
        "database_errors",
        "Failed operations of the metrics database (writes, purges)",
        counter(events.errors),
    );

    if let Some(git) = state.git() {
        let status = git.status();
        r.register(
            "git_up",
            "1 when the last pull of the articles' git remote succeeded",
            gauge(i64::from(status.error.is_none())),
        );
        r.register(
            "git_syncs",
            "Successful pulls of the articles' git remote (the first clone included)",
            counter(status.syncs),
        );
        r.register(
            "git_sync_failures",
            "Failed pulls of the articles' git remote",
            counter(status.failures),
        );
        if let Some(at) = status.last_sync {
            r.register(
                "git_last_sync_timestamp_seconds",
                "When a pull of the articles' git remote last succeeded (Unix time)",
                seconds(unix_seconds(at)),
            );
        }
        if let Some(commit) = status.commit {
            r.register(
                "git_commit",
                "The commit of the articles served",
                Info::new(vec![
                    ("branch", status.branch),
                    ("commit", commit.as_str().to_string()),
                ]),
            );
        }
    }
    r
}

/// Every series, in OpenMetrics or else the Prometheus text format.
fn render(state: &AppState, openmetrics: bool) -> Result<String, std::fmt::Error> {
    let snapshot = snapshot(state);
    let mut out = String::new();
    if openmetrics {
        text::encode_registry(&mut out, &state.monitor.registry)?;
        text::encode_registry(&mut out, &snapshot)?;
        text::encode_eof(&mut out)?;
    } else {
        prometheus_text::encode(&mut out, &state.monitor.registry)?;
        prometheus_text::encode(&mut out, &snapshot)?;
    }
    Ok(out)
}

/// The metrics in the format the scraper accepts.
fn exposition(state: &AppState, headers: &HeaderMap) -> Response {
    let openmetrics = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    let body = match render(state, openmetrics) {
        Ok(body) => body,
        Err(e) => return super::ApiError::internal(format!("metrics: {e}")).into_response(),
    };
    let content_type = if openmetrics {
        OPENMETRICS
    } else {
        prometheus_text::CONTENT_TYPE
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

/// `GET /metrics` on the public address: only with the admin token.
pub async fn public(
    State(state): State<Arc<AppState>>,
    client: Client,
    headers: HeaderMap,
) -> Response {
    if let Some(denied) = super::admin::refusal(&state, &headers, &client) {
        return denied;
    }
    exposition(&state, &headers)
}

/// The application of `--metrics-addr`: `GET /metrics`, open to whoever reaches the address.
pub fn internal_app(state: Arc<AppState>) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(
                |State(state): State<Arc<AppState>>, headers: HeaderMap| async move {
                    exposition(&state, &headers)
                },
            ),
        )
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_stay_few_whatever_the_requests() {
        let m = Monitor::default();
        for i in 0..100 {
            let method = Method::from_bytes(format!("X{i}").as_bytes()).unwrap();
            m.answered(
                method_label(&method),
                FALLBACK.into(),
                404,
                Duration::from_millis(1),
            );
        }
        m.answered("GET", "/api/search".into(), 200, Duration::from_millis(3));
        m.searched(SearchKind::Api, 2.0);
        let mut out = String::new();
        prometheus_text::encode(&mut out, &m.registry).unwrap();
        assert!(
            out.contains(
                "kb_http_requests_total{method=\"OTHER\",route=\"fallback\",status=\"404\"} 100\n"
            ),
            "{out}"
        );
        assert!(
            out.contains(
                "kb_http_requests_total{method=\"GET\",route=\"/api/search\",status=\"200\"} 1\n"
            ),
            "{out}"
        );
        assert!(
            out.contains(
                "kb_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/search\",le=\"0.004\"} 1\n"
            ),
            "{out}"
        );
        assert!(
            out.contains("kb_search_duration_seconds_count{kind=\"api\"} 1\n"),
            "{out}"
        );
        assert!(!out.contains("X1"), "{out}");
    }
}
