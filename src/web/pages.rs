//! Pages, rendered from the templates. For now the article page at each article's `url`, so
//! that every search result links somewhere real, and the 404 page; the home, search and
//! category pages build on these.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{AppendHeaders, Html, IntoResponse, Response};

use super::visitor::Tracking;
use super::{ApiError, AppState};
use crate::articles;
use crate::metrics::{self, Click, Event, View};

/// The search a reader came from, from a result link's `?s=SEARCH_ID&r=RANK`. Result links
/// carry it in the article's own address (the page declares its canonical address without
/// it): clicks are recorded without JavaScript and without a redirect hop.
fn came_from(uri: &Uri) -> Option<(String, Option<u32>)> {
    let query = uri.query()?;
    let mut search = None;
    let mut rank = None;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match &*k {
            "s" if metrics::is_id(&v) => search = Some(v.into_owned()),
            "r" => rank = v.parse::<u32>().ok().filter(|r| (1..=10_000).contains(r)),
            _ => {}
        }
    }
    search.map(|s| (s, rank))
}

pub async fn fallback(
    State(state): State<Arc<AppState>>,
    tracking: Tracking,
    uri: Uri,
) -> Response {
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
    if let Ok(Some(a)) = &article
        && tracking.counted
    {
        let at = metrics::now();
        let from = came_from(&uri);
        if let Some((search_id, Some(position))) = &from {
            state.recorder.record(Event::Click(Click {
                at,
                visitor: tracking.visitor.clone(),
                search_id: search_id.clone(),
                path: a.path.clone(),
                position: *position,
            }));
        }
        state.recorder.record(Event::View(View {
            at,
            visitor: tracking.visitor.clone(),
            path: a.path.clone(),
            search_id: from.map(|(s, _)| s),
        }));
    }
    let cookie = article
        .as_ref()
        .is_ok_and(Option::is_some)
        .then(|| tracking.set_cookie())
        .flatten();
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
                        "canonical": format!(
                            "{}{}",
                            state.config.base_url.as_deref().unwrap_or("").trim_end_matches('/'),
                            a.url
                        ),
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
        Ok((status, html)) => (status, AppendHeaders(cookie), Html(html)).into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}
