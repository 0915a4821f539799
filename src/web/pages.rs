//! Pages. For now only the article page at each article's `url`, so that every search result
//! links somewhere real; the full help center (templates, home, search page, languages) is
//! built on top of this.

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
    let page = tokio::task::spawn_blocking(move || -> Option<String> {
        let (article_path, draft) = engine.index().path_for_url(&path).ok()??;
        if draft && !drafts {
            return None;
        }
        let shown = articles::shown_path(&dir, &article_path);
        let bytes = std::fs::read(dir.join(&article_path)).ok()?;
        let article = articles::parse(&article_path, &shown, &bytes).ok()?;
        Some(article_page(&article))
    })
    .await;
    match page {
        Ok(Some(html)) => Html(html).into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, Html(not_found_page())).into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn article_page(a: &articles::Article) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head>\n<body><main><article><h1>{title}</h1>\n{body}</article></main></body></html>\n",
        lang = escape(&a.lang),
        title = escape(&a.title),
        body = a.html(),
    )
}

fn not_found_page() -> String {
    "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Not found</title></head>\
     <body><main><h1>Not found</h1><p>There is no article at this address.</p></main></body></html>\n"
        .to_string()
}
