//! The JSON API: `/healthz` and `/api/search`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::events::{Searched, record_search};
use super::http::{flag, not_stored, number, param};
use super::visitor::Tracking;
use super::{ApiError, AppState};
use crate::articles::lang;
use crate::metrics::Source;
use crate::search::{self, DEFAULT_LIMIT, SearchParams, SearchResponse};

/// 200 once the index is loaded and searchable, 503 before; `broken` counts the articles
/// whose files the last sync could not index (those it had before are served as they were).
pub async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    match state.engine() {
        Some(engine) => {
            let (dropped, failed) = state.recorder.lost();
            let mut health = serde_json::json!({
                "status": "ok",
                "articles": engine.index().num_articles(),
                "broken": engine.index().catalog().problems().len(),
                "events_lost": dropped + failed,
            });
            if let Some(git) = state.git() {
                health["git"] = git_health(&git.status());
            }
            not_stored(Json(health))
        }
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "starting" })),
        )
            .into_response(),
    }
}

/// Where following the git remote stands: the commit served, the branch, when a pull last
/// succeeded, and why the last one failed (`null` when it did not).
fn git_health(status: &crate::remote::Status) -> serde_json::Value {
    let when = |t: std::time::SystemTime| {
        time::OffsetDateTime::from(t)
            .format(&time::format_description::well_known::Rfc3339)
            .ok()
    };
    serde_json::json!({
        "commit": status.commit.as_ref().map(|c| c.as_str()),
        "branch": status.branch,
        "last_sync": status.last_sync.and_then(when),
        "error": status.error,
    })
}

/// The OpenAPI description of the HTTP API, kept beside the code and checked against real
/// responses by the tests.
const OPENAPI: &str = include_str!("openapi.json");

/// `GET /api/openapi.json`.
pub async fn openapi() -> Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, "application/json"),
            (axum::http::header::CACHE_CONTROL, "no-cache"),
        ],
        OPENAPI,
    )
        .into_response()
}

/// `GET /api/search?q=Q[&lang=L][&hl=L][&limit=N][&offset=N][&source=customer|agent][&partial=1][&sections=false]`
///
/// Results are one per translation group, in the reader's language (`hl`, else the query's);
/// a result whose match sits in one section points at it unless `sections=false`. Every
/// call with a query is recorded as a search (`partial=1` marks one sent while the person is
/// still typing), and the answer carries its `search_id`.
pub async fn search(
    State(state): State<Arc<AppState>>,
    tracking: Tracking,
    client: super::client::Client,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let source = match param(&params, "source") {
        None | Some("") => Source::Customer,
        Some(s) => Source::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!("`source` must be customer, agent or ai, got {s:?}"))
        })?,
    };
    let request = SearchParams {
        query: param(&params, "q").unwrap_or_default().to_string(),
        lang: param(&params, "lang").map(str::to_string),
        limit: number(&params, "limit", DEFAULT_LIMIT)?,
        offset: number(&params, "offset", 0)?,
        drafts: state.config.drafts,
        details: source == Source::Agent,
        typing: matches!(param(&params, "partial"), Some("1" | "true")),
        hl: param(&params, "hl").and_then(lang::normalize_tag),
        grouped: true,
        sections: flag(&params, "sections", true)?,
        exact: matches!(param(&params, "correct"), Some("0" | "false")),
    };
    let ui = param(&params, "hl").and_then(lang::normalize_tag);
    let response = run_search(&state, &tracking, request, source, ui).await?;
    if source == Source::Agent {
        let body = super::agent::for_agents(&state, &headers, &client, response).await;
        return Ok(not_stored(Json(body)));
    }
    Ok(not_stored(Json(response)))
}

/// Runs a search as `/api/search` does and records it (a first page with a query, within
/// the recording budget); the response carries the id it was recorded under.
pub(crate) async fn run_search(
    state: &Arc<AppState>,
    tracking: &Tracking,
    request: SearchParams,
    source: Source,
    ui: Option<String>,
) -> Result<SearchResponse, ApiError> {
    let partial = request.typing;
    let engine = state.ready()?;
    let query = request.query.clone();
    let lang_filter = request.lang.as_deref().and_then(lang::normalize_tag);
    let offset = request.offset;
    let mut response = tokio::task::spawn_blocking(move || engine.search(&request))
        .await
        .map_err(ApiError::internal)??;
    state
        .monitor
        .searched(super::monitoring::SearchKind::Api, response.took_ms);
    // Page 2 of a search is not another search.
    if !query.trim().is_empty() && offset == 0 {
        response.search_id = record_search(
            state,
            tracking,
            Searched {
                normalized: search::normalize_query(&query),
                query,
                lang: lang_filter,
                total: response.total,
                source,
                results: &response.results,
                partial,
                ui,
            },
        );
    }
    Ok(response)
}

/// `GET /api/live`: server-sent events, one `change` event with the re-indexed paths (a JSON
/// array) each time writers' saves are indexed, so an open article page reloads itself. A
/// page that fell behind gets an empty array: reload to be sure.
pub async fn live(
    State(state): State<Arc<AppState>>,
) -> axum::response::Sse<
    impl futures_util::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use tokio::sync::broadcast::error::RecvError;
    let changes = state.changes.subscribe();
    let stopping = state.stopping.subscribe();
    let stream =
        futures_util::stream::unfold((changes, stopping), |(mut rx, mut stop)| async move {
            let next = tokio::select! {
                next = rx.recv() => next,
                _ = stop.wait_for(|stopping| *stopping) => return None,
            };
            let event = match next {
                Ok(paths) => Event::default()
                    .event("change")
                    .json_data(&*paths)
                    .unwrap_or_default(),
                Err(RecvError::Lagged(_)) => Event::default().event("change").data("[]"),
                Err(RecvError::Closed) => return None,
            };
            Some((Ok(event), (rx, stop)))
        });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
