//! The help center's pages: the home and category pages, and the dispatch of every other
//! address (articles, aliases, language homes, categories, files beside the articles, the
//! Markdown copies). What every page shares is [`super::layout`]'s.
//!
//! Addresses: `/{lang}/` is a language's home, `/{lang}/categories/{topic}` a category, an
//! article lives at its `url`, and the interface speaks the language of the address (or,
//! elsewhere, the reader's `Accept-Language`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};

use super::client::Client;
use super::i18n;
use super::layout::{Listed, category_url, moved_permanently, page_base};
use super::visitor::Tracking;
use super::{ApiError, AppState, Ready};
use crate::articles::markdown::slugify;
use crate::index::{Catalog, Entry};

/// `/`: the home of the reader's language (from `Accept-Language`), else of the language
/// with most articles.
pub async fn root(
    State(state): State<Arc<AppState>>,
    Ready(engine): Ready,
    tracking: Tracking,
    headers: HeaderMap,
) -> Response {
    let catalog = engine.index().catalog();
    let langs = catalog.languages(state.config.drafts);
    if langs.is_empty() {
        return home(&state, &catalog, tracking, &headers, None);
    }
    let wanted = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(i18n::preferences)
        .unwrap_or_default();
    let best = wanted
        .iter()
        .find_map(|p| {
            langs.iter().find(|(l, _)| {
                l == p
                    || l.starts_with(&format!("{p}-"))
                    || p.starts_with(&format!("{l}-"))
                    || (p.starts_with("zh")
                        && l.starts_with("zh")
                        && state.locales.best(l) == state.locales.best(p))
            })
        })
        .or_else(|| langs.first())
        .map(|(l, _)| l.clone())
        .unwrap_or_default();
    (
        [(header::VARY, HeaderValue::from_static("Accept-Language"))],
        Redirect::to(&format!("/{best}/")),
    )
        .into_response()
}

/// A language's home: search, categories with their articles, popular articles.
fn home(
    state: &AppState,
    catalog: &Catalog,
    tracking: Tracking,
    headers: &HeaderMap,
    lang: Option<&str>,
) -> Response {
    let ui = state.ui_for(lang, headers);
    let page = state.page_ctx(catalog, &ui, lang, "", None);
    let drafts = state.config.drafts;
    let mut by_category: BTreeMap<String, Vec<&Entry>> = BTreeMap::new();
    let uncategorized = state
        .locales
        .text(&ui, "home.uncategorized")
        .unwrap_or("More articles")
        .to_string();
    let mut intro = None;
    for e in catalog.entries() {
        if Some(&*e.lang) != lang || (e.draft && !drafts) {
            continue;
        }
        if lang.is_some_and(|l| e.url.trim_end_matches('/') == format!("/{l}")) {
            intro = Some(e.path.clone());
            continue;
        }
        by_category
            .entry(e.category.clone().unwrap_or_else(|| uncategorized.clone()))
            .or_default()
            .push(e);
    }
    let categories: Vec<serde_json::Value> = by_category
        .into_iter()
        .map(|(name, mut articles)| {
            articles.sort_by(|a, b| a.title.cmp(&b.title));
            serde_json::json!({
                "name": name,
                "url": category_url(lang.unwrap_or(""), &name),
                "count": articles.len(),
                "articles": articles.iter().map(|e| Listed::of(e)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let intro_html = intro.and_then(|path| {
        let bytes =
            crate::articles::read(&state.config.articles, &path, &state.config.limits).ok()?;
        let shown = crate::articles::shown_path(&state.config.articles, &path);
        let a = crate::articles::parse(&path, &shown, &bytes).ok()?;
        Some(a.html())
    });
    let base = page_base(state);
    let alternates: Vec<serde_json::Value> = page
        .languages
        .iter()
        .map(|l| serde_json::json!({ "tag": l.tag, "url": format!("{base}{}", l.url) }))
        .collect();
    let popular = state.popular_in(catalog, lang, 6);
    let tracking = tracking.for_page(&state.config.visitor_key);
    let page = state.page(
        StatusCode::OK,
        "home.html",
        &ui,
        serde_json::json!({
            "page": page,
            "categories": categories,
            "popular": popular,
            "intro": intro_html,
            "alternates": alternates,
        }),
    );
    (AppendHeaders(tracking.set_cookie()), page).into_response()
}

/// Serves a file that sits beside the articles (an image, a PDF), never an article source,
/// a hidden file or anything outside the folder.
fn article_file(state: &AppState, path: &str) -> Option<Response> {
    let rel = percent_encoding::percent_decode_str(path.trim_start_matches('/'))
        .decode_utf8()
        .ok()?;
    if rel.is_empty()
        || rel.ends_with(".md")
        || rel.split('/').any(|c| c.is_empty() || c.starts_with('.'))
    {
        return None;
    }
    let opened =
        crate::articles::open_inside(&state.config.articles, Path::new(rel.as_ref())).ok()?;
    // A link to an article source or a hidden file is refused like the file itself.
    let name = opened.real.file_name()?.to_str()?;
    if name.ends_with(".md") || name.starts_with('.') {
        return None;
    }
    // Streamed: a large video costs a buffer per reader, not its size.
    let length = opened.meta.len();
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(
        tokio::fs::File::from_std(opened.file),
    ));
    let ext = opened
        .real
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let (kind, shown) = file_type(ext.as_deref());
    // A file that could carry a script (SVG, HTML, XML …) is sandboxed: its script never runs
    // with the help center's origin, even when the file is opened directly. Chrome shows a
    // PDF only without a sandbox, and runs none of its scripts in the page's origin anyway.
    let policy = if kind == "application/pdf" {
        "frame-ancestors 'none'"
    } else {
        super::security::FILE_POLICY
    };
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    if !shown {
        h.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment"),
        );
    }
    Some(r)
}

/// The type of a file beside the articles by its extension, and whether a browser may show
/// it (else it is downloaded).
fn file_type(ext: Option<&str>) -> (&'static str, bool) {
    match ext {
        Some("png") => ("image/png", true),
        Some("jpg" | "jpeg") => ("image/jpeg", true),
        Some("gif") => ("image/gif", true),
        Some("webp") => ("image/webp", true),
        Some("avif") => ("image/avif", true),
        Some("svg") => ("image/svg+xml", true),
        Some("pdf") => ("application/pdf", true),
        Some("txt") => ("text/plain; charset=utf-8", true),
        Some("mp4") => ("video/mp4", true),
        Some("webm") => ("video/webm", true),
        _ => ("application/octet-stream", false),
    }
}

/// Every address without a route of its own.
pub async fn fallback(
    State(state): State<Arc<AppState>>,
    Ready(engine): Ready,
    tracking: Tracking,
    client: Client,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let path = uri.path().to_string();
    if path.starts_with("/api/") {
        return ApiError::not_found(format!("no API route {path}")).into_response();
    }
    let catalog = engine.index().catalog();
    if let Some(r) = super::llms::serve(&state, &catalog, &headers, &client, &path).await {
        return r;
    }
    let drafts = state.config.drafts;
    let decoded = percent_encoding::percent_decode_str(&path)
        .decode_utf8()
        .map(|p| p.into_owned())
        .unwrap_or_else(|_| path.clone());
    let entry = catalog
        .by_url(&path)
        .or_else(|| catalog.by_url(&decoded))
        .filter(|e| drafts || !e.draft)
        .cloned();
    if let Some(entry) = entry {
        return super::article::page(state, engine, catalog, entry, tracking, headers, uri).await;
    }
    if let Some(target) = catalog
        .alias(&path)
        .or_else(|| catalog.alias(&decoded))
        .filter(|e| drafts || !e.draft)
    {
        return moved_permanently(&target.url);
    }
    let segments: Vec<&str> = decoded.trim_matches('/').split('/').collect();
    let langs = catalog.languages(drafts);
    let is_lang = |s: &str| langs.iter().any(|(l, _)| l == s);
    match segments.as_slice() {
        [lang] if is_lang(lang) && decoded.ends_with('/') => {
            return home(&state, &catalog, tracking, &headers, Some(lang));
        }
        [lang] if is_lang(lang) => {
            return Redirect::permanent(&format!("/{lang}/")).into_response();
        }
        [lang, "categories", topic] if is_lang(lang) => {
            if let Some(r) = category(&state, &catalog, tracking, &headers, lang, topic) {
                return r;
            }
        }
        _ => {}
    }
    let (state2, path2) = (state.clone(), path.clone());
    if let Ok(Some(file)) = tokio::task::spawn_blocking(move || article_file(&state2, &path2)).await
    {
        return file;
    }
    let content = segments.first().copied().filter(|s| is_lang(s));
    // A writer previewing a new article that is broken: its default address says why.
    let problem = catalog.problems().iter().find_map(|(p, problem)| {
        let url = crate::articles::url_for(p, None);
        (url == path || url.trim_end_matches('/') == path.trim_end_matches('/')).then_some(problem)
    });
    state.not_found_broken(&catalog, &headers, content, problem)
}

/// A category page: its articles, by title.
fn category(
    state: &AppState,
    catalog: &Catalog,
    tracking: Tracking,
    headers: &HeaderMap,
    lang: &str,
    topic: &str,
) -> Option<Response> {
    let mut articles: Vec<&Entry> = catalog
        .entries()
        .into_iter()
        .filter(|e| *e.lang == *lang && (state.config.drafts || !e.draft))
        .filter(|e| e.category.as_deref().is_some_and(|c| slugify(c) == topic))
        .collect();
    let name = articles.first()?.category.clone()?;
    articles.sort_by(|a, b| a.title.cmp(&b.title));
    let ui = state.ui_for(Some(lang), headers);
    let page = state.page_ctx(catalog, &ui, Some(lang), "", None);
    let tracking = tracking.for_page(&state.config.visitor_key);
    let page = state.page(
        StatusCode::OK,
        "category.html",
        &ui,
        serde_json::json!({
            "page": page,
            "category": name,
            "articles": articles.iter().map(|e| Listed::of(e)).collect::<Vec<_>>(),
        }),
    );
    Some((AppendHeaders(tracking.set_cookie()), page).into_response())
}
