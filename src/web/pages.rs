//! The help center's pages: what every page shares (header, languages, search box), the home
//! and category pages, the 404 page, and the dispatch of every other address (articles,
//! aliases, language homes, categories, files beside the articles).
//!
//! Addresses: `/{lang}/` is a language's home, `/{lang}/categories/{topic}` a category, an
//! article lives at its `url`, and the interface speaks the language of the address (or,
//! elsewhere, the reader's `Accept-Language`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use serde::Serialize;

use super::client::Client;
use super::i18n;
use super::visitor::Tracking;
use super::{ApiError, AppState, Ready};
use crate::articles::markdown::slugify;
use crate::index::{Catalog, Entry};

/// What every page's template gets as `page`.
#[derive(Debug, Clone, Serialize)]
pub struct PageCtx {
    /// Interface language (a locale tag).
    pub ui: String,
    pub html_lang: String,
    pub site_name: String,
    pub home_url: String,
    pub language_name: String,
    pub languages: Vec<LangLink>,
    pub assets: AssetUrls,
    pub search: SearchBox,
    pub contact_url: Option<String>,
    pub live_path: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LangLink {
    pub tag: String,
    pub name: String,
    pub url: String,
    pub current: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct AssetUrls {
    pub css: String,
    pub js: String,
    pub icon: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchBox {
    pub q: String,
    pub lang_options: Vec<LangOption>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LangOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// An article as a page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    pub title: String,
    pub url: String,
    pub blurb: Option<String>,
}

impl Listed {
    pub fn of(e: &Entry) -> Listed {
        Listed {
            title: e.title.clone(),
            url: e.url.clone(),
            blurb: e.description.clone(),
        }
    }
}

/// The name of a content language in the interface: the locale's own name for it, else the
/// tag.
pub fn language_name(state: &AppState, tag: &str) -> String {
    let best = state.locales.best(tag);
    if best == tag || tag.split('-').next() == best.split('-').next() && best != i18n::DEFAULT {
        state.locales.name(&best)
    } else {
        tag.to_string()
    }
}

/// The URL of a category page.
pub fn category_url(lang: &str, category: &str) -> String {
    format!("/{lang}/categories/{}", slugify(category))
}

/// The default of a search box's language filter for a page in `lang`: the language, or all
/// its variants when there are several (`zh` for zh-cn and zh-tw, since each script finds the
/// other).
pub fn default_filter(catalog: &Catalog, drafts: bool, lang: &str) -> String {
    let primary = lang.split('-').next().unwrap_or(lang);
    let variants = catalog
        .languages(drafts)
        .iter()
        .filter(|(l, _)| l.split('-').next() == Some(primary))
        .count();
    if variants > 1 {
        primary.to_string()
    } else {
        lang.to_string()
    }
}

impl AppState {
    /// The interface language for a request: `explicit` (the page's content language, or
    /// `hl=`), else the reader's `Accept-Language`, else English.
    pub fn ui_for(&self, explicit: Option<&str>, headers: &HeaderMap) -> String {
        if let Some(tag) = explicit.and_then(crate::articles::lang::normalize_tag) {
            return self.locales.best(&tag);
        }
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| self.locales.negotiate(v))
            .unwrap_or_else(|| i18n::DEFAULT.to_string())
    }

    /// The content language whose home a page in interface language `ui` links to.
    pub fn home_lang(&self, catalog: &Catalog, content: Option<&str>, ui: &str) -> Option<String> {
        let langs = catalog.languages(self.config.drafts);
        if let Some(c) = content
            && langs.iter().any(|(l, _)| l == c)
        {
            return Some(c.to_string());
        }
        langs
            .iter()
            .find(|(l, _)| self.locales.best(l) == ui)
            .or_else(|| langs.first())
            .map(|(l, _)| l.clone())
    }

    /// The `page` context: `content` is the page's content language (if it has one), `q` and
    /// `filter` fill the search box.
    pub fn page_ctx(
        &self,
        catalog: &Catalog,
        ui: &str,
        content: Option<&str>,
        q: &str,
        filter: Option<&str>,
    ) -> PageCtx {
        let drafts = self.config.drafts;
        let home = self.home_lang(catalog, content, ui);
        let langs = catalog.languages(drafts);
        let current = home.clone().unwrap_or_default();
        let languages: Vec<LangLink> = langs
            .iter()
            .map(|(l, _)| LangLink {
                tag: l.clone(),
                name: language_name(self, l),
                url: format!("/{l}/"),
                current: *l == current,
            })
            .collect();
        let filter = filter
            .map(str::to_string)
            .or_else(|| home.as_deref().map(|h| default_filter(catalog, drafts, h)))
            .unwrap_or_default();
        // The filter offers each language, and each family of variants (中文: zh-cn + zh-tw).
        let mut families: BTreeMap<String, usize> = BTreeMap::new();
        for (l, _) in &langs {
            *families
                .entry(l.split('-').next().unwrap_or(l).to_string())
                .or_default() += 1;
        }
        let mut lang_options: Vec<LangOption> = Vec::new();
        for (family, n) in &families {
            if *n > 1 {
                let name = self
                    .locales
                    .family_name(family)
                    .unwrap_or_else(|| family.clone());
                let label = self.locales.text(ui, "search.all_variants").map_or_else(
                    || name.clone(),
                    |t| i18n::fill(t, &[("language", name.clone())]),
                );
                lang_options.push(LangOption {
                    value: family.clone(),
                    label,
                    selected: filter == *family,
                });
            }
        }
        for (l, _) in &langs {
            lang_options.push(LangOption {
                value: l.clone(),
                label: language_name(self, l),
                selected: filter == *l,
            });
        }
        PageCtx {
            ui: ui.to_string(),
            html_lang: content.unwrap_or(ui).to_string(),
            site_name: self
                .config
                .site_name
                .clone()
                .or_else(|| self.locales.text(ui, "site.name").map(str::to_string))
                .unwrap_or_else(|| "Help Center".to_string()),
            home_url: home.map_or_else(|| "/".to_string(), |h| format!("/{h}/")),
            language_name: language_name(self, &current),
            languages,
            assets: AssetUrls {
                css: self.assets.url("kb.css"),
                js: self.assets.url("kb.js"),
                icon: self.assets.url("favicon.svg"),
            },
            search: SearchBox {
                q: q.to_string(),
                lang_options,
            },
            contact_url: self
                .config
                .contact_url
                .as_ref()
                .map(|_| format!("/contact?hl={ui}")),
            live_path: None,
        }
    }

    /// The popular articles served in `lang` (all languages when `None`), at most `n`.
    pub fn popular_in(&self, catalog: &Catalog, lang: Option<&str>, n: usize) -> Vec<Listed> {
        let popular = self
            .popular
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        popular
            .iter()
            .filter_map(|(path, _)| catalog.get(path))
            .filter(|e| self.config.drafts || !e.draft)
            .filter(|e| lang.is_none_or(|l| crate::articles::lang::matches(l, &e.lang)))
            .take(n)
            .map(Listed::of)
            .collect()
    }

    /// Articles to offer when a search finds nothing or a page is missing: the popular ones,
    /// else (before anything has been read) the first of the language, by title.
    pub fn suggested(&self, catalog: &Catalog, lang: Option<&str>, n: usize) -> Vec<Listed> {
        let popular = self.popular_in(catalog, lang, n);
        if !popular.is_empty() {
            return popular;
        }
        let mut any: Vec<&Entry> = catalog
            .entries()
            .into_iter()
            .filter(|e| self.config.drafts || !e.draft)
            .filter(|e| lang.is_none_or(|l| crate::articles::lang::matches(l, &e.lang)))
            .collect();
        any.sort_by(|a, b| a.title.cmp(&b.title));
        any.into_iter().take(n).map(Listed::of).collect()
    }

    /// Renders a template into a page response (a 500 with a message if it cannot be).
    pub fn page(
        &self,
        status: StatusCode,
        template: &str,
        ui: &str,
        ctx: impl Serialize,
    ) -> Response {
        match self.templates.render(template, ui, ctx) {
            Ok(html) => (
                status,
                [(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))],
                Html(html),
            )
                .into_response(),
            Err(e) => ApiError::internal(format!("template {template}: {e:#}")).into_response(),
        }
    }

    /// The 404 page, in the interface language the request asks for.
    pub fn not_found(
        &self,
        catalog: &Catalog,
        headers: &HeaderMap,
        content: Option<&str>,
    ) -> Response {
        self.not_found_broken(catalog, headers, content, None)
    }

    /// The 404 page; in the writers' preview (`--drafts`) with what is wrong with the file
    /// of an article that would be at this address, if there is one.
    pub fn not_found_broken(
        &self,
        catalog: &Catalog,
        headers: &HeaderMap,
        content: Option<&str>,
        problem: Option<&crate::error::Problem>,
    ) -> Response {
        let ui = self.ui_for(content, headers);
        let page = self.page_ctx(catalog, &ui, content, "", None);
        let popular = self.suggested(catalog, content, 5);
        let problem = problem
            .filter(|_| self.config.drafts)
            .map(ToString::to_string);
        self.page(
            StatusCode::NOT_FOUND,
            "not_found.html",
            &ui,
            serde_json::json!({ "page": page, "popular": popular, "problem": problem }),
        )
    }
}

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
        if Some(e.lang.as_str()) != lang || (e.draft && !drafts) {
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

/// A `301 Moved Permanently` (what search engines and old bookmarks expect for moved pages;
/// axum's permanent redirect is a 308).
pub fn moved_permanently(to: &str) -> Response {
    match HeaderValue::from_str(to) {
        Ok(location) => (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, location)],
        )
            .into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The help center's public address for an absolute link: `--base-url`, else the request's
/// `Host` (with the scheme a trusted proxy reports), which an answer must then keep out of
/// caches: a header would otherwise decide the links a cache hands everyone else.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteBase {
    /// `scheme://host[:port]`, without a trailing slash.
    pub url: String,
    /// Whether it is the configured address (else it came from the request).
    pub configured: bool,
}

impl SiteBase {
    /// `Cache-Control` and `Vary` for an answer with absolute links on this base: cached for
    /// `max_age` when the address is configured, never stored when it came from the request.
    pub fn caching(
        &self,
        max_age: &'static str,
    ) -> AppendHeaders<Vec<(header::HeaderName, HeaderValue)>> {
        AppendHeaders(if self.configured {
            vec![(header::CACHE_CONTROL, HeaderValue::from_static(max_age))]
        } else {
            vec![
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                (
                    header::VARY,
                    HeaderValue::from_static("Host, X-Forwarded-Proto"),
                ),
            ]
        })
    }
}

/// See [`SiteBase`].
pub fn site_base(state: &AppState, headers: &HeaderMap, client: &Client) -> SiteBase {
    if let Some(b) = configured_base(state) {
        return SiteBase {
            url: b.to_string(),
            configured: true,
        };
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        });
    let scheme = if client.https { "https" } else { "http" };
    SiteBase {
        url: match host {
            Some(h) => format!("{scheme}://{h}"),
            None => crate::agent::DEFAULT_BASE_URL.to_string(),
        },
        configured: false,
    }
}

/// `--base-url` without its trailing slash, if set.
fn configured_base(state: &AppState) -> Option<&str> {
    state
        .config
        .base_url
        .as_deref()
        .map(|b| b.trim_end_matches('/'))
        .filter(|b| !b.is_empty())
}

/// The prefix of a page's canonical and alternate links: `--base-url`, else nothing (the
/// links are relative: a page is cached, and its `Host` may not be the public one).
pub fn page_base(state: &AppState) -> &str {
    configured_base(state).unwrap_or("")
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
    let root = state.config.articles.canonicalize().ok()?;
    let file = root.join(rel.as_ref()).canonicalize().ok()?;
    if !file.starts_with(&root) || !file.is_file() {
        return None;
    }
    let body = std::fs::read(&file).ok()?;
    let ext = file
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
        .filter(|e| e.lang == lang && (state.config.drafts || !e.draft))
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
