//! The JSON API: `/healthz` and `/api/search`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use crate::search::{DEFAULT_LIMIT, SearchParams, SearchResponse};

/// 200 once the index is loaded and searchable, 503 before.
pub async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    match state.engine() {
        Some(engine) => Json(serde_json::json!({
            "status": "ok",
            "articles": engine.index().num_articles(),
        }))
        .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "starting" })),
        )
            .into_response(),
    }
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn number(params: &[(String, String)], name: &str, default: usize) -> Result<usize, ApiError> {
    match param(params, name).map(str::trim) {
        None | Some("") => Ok(default),
        Some(v) => v.parse().map_err(|_| {
            ApiError::bad_request(format!("`{name}` must be a whole number, got {v:?}"))
        }),
    }
}

/// `GET /api/search?q=Q[&lang=L][&limit=N][&offset=N][&source=customer|agent]`
pub async fn search(
    State(state): State<Arc<AppState>>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<SearchResponse>, ApiError> {
    let request = SearchParams {
        query: param(&params, "q").unwrap_or_default().to_string(),
        lang: param(&params, "lang").map(str::to_string),
        limit: number(&params, "limit", DEFAULT_LIMIT)?,
        offset: number(&params, "offset", 0)?,
        drafts: state.config.drafts,
    };
    match param(&params, "source") {
        None | Some("customer" | "agent") => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "`source` must be customer or agent, got {other:?}"
            )));
        }
    }
    let Some(engine) = state.engine().cloned() else {
        return Err(ApiError::unavailable(
            "the index is still being built; try again in a moment",
        ));
    };
    let response = tokio::task::spawn_blocking(move || engine.search(&request))
        .await
        .map_err(ApiError::internal)??;
    Ok(Json(response))
}
