//! What every page shares: the context its template gets (header, languages, search box),
//! the page and 404 renderers, language names, category addresses, article cards
//! ([`Listed`]), and the site's public address for links ([`SiteBase`]).
//!
//! The page modules (`pages`, `article`, `site`, `llms`) build on it; it depends on none of
//! them.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{AppendHeaders, Html, IntoResponse, Response};
use serde::Serialize;

use super::client::Client;
use super::i18n;
use super::{ApiError, AppState};
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
            title: e.title.to_string(),
            url: e.url.to_string(),
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
