//! Pages, rendered from the templates. For now the article page at each article's `url`, so
//! that every search result links somewhere real, and the 404 page; the home, search and
//! category pages build on these.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};

use super::{ApiError, AppState};
use crate::articles;

pub async fn fallback(State(state): State<Arc<AppState>>, uri: Uri) -> Response {
    let path = uri.path().to_string();
    if path.starts_with("/api/") {
        return ApiError::not_found(format!("no API route {path}")).into_response();
    }
    let Some(engine) = state.engine().cloned() else {
        return ApiError::unavailable("the index is still being built; try again in a moment")
            .into_response();
    };
    let dir = state.config.articles.clone();
    let drafts = state.config.drafts;
    let lookup_path = path.clone();
    let article = tokio::task::spawn_blocking(move || -> Option<articles::Article> {
        let (article_path, draft) = engine.index().path_for_url(&lookup_path).ok()??;
        if draft && !drafts {
            return None;
        }
        let shown = articles::shown_path(&dir, &article_path);
        let bytes = std::fs::read(dir.join(&article_path)).ok()?;
        articles::parse(&article_path, &shown, &bytes).ok()
    })
    .await;
    let page = match article {
        Ok(Some(a)) => state
            .templates
            .render(
                "article.html",
                serde_json::json!({
                    "lang": a.lang,
                    "article": {
                        "title": a.title,
                        "description": a.description,
                        "url": a.url,
                        "path": a.path,
                        "category": a.category,
                        "tags": a.tags,
                        "headings": a.headings,
                        "html": a.html(),
                    },
                }),
            )
            .map(|html| (StatusCode::OK, html)),
        Ok(None) => state
            .templates
            .render("not_found.html", serde_json::json!({ "path": path }))
            .map(|html| (StatusCode::NOT_FOUND, html)),
        Err(e) => return ApiError::internal(e).into_response(),
    };
    match page {
        Ok((status, html)) => (status, Html(html)).into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}
