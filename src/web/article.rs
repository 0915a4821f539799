//! The article page, and "Was this article helpful?" without JavaScript.
//!
//! The page shows the rendered article (its relative links turned into the help center's
//! addresses), a table of contents, the category breadcrumb, when it was last updated, the
//! same article in other languages, related articles, the feedback form and the contact
//! link. Each view is recorded, with the search it came from (`?s=ID&r=RANK`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use serde::Serialize;

use super::events::{self, VoteInput};
use super::pages::{Listed, category_url, language_name, page_base};
use super::visitor::Tracking;
use super::{AppState, Ready};
use crate::articles::{self, check};
use crate::index::{Catalog, Entry};
use crate::metrics::{self, Click, Event, View};
use crate::search::{Engine, SearchParams};

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

/// Where a link or image of the article at `path` leads on the site: relative links to
/// articles become their addresses, relative files are served from beside the articles;
/// `None` keeps the target as written (other sites, site addresses, anchors).
pub(super) fn resolve_link(catalog: &Catalog, path: &str, target: &str) -> Option<String> {
    if target.is_empty()
        || target.starts_with('#')
        || target.starts_with('/')
        || target.starts_with("//")
        || target.contains(':')
    {
        return None;
    }
    let (rest, fragment) = match target.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (target, None),
    };
    let decoded = percent_encoding::percent_decode_str(rest)
        .decode_utf8()
        .ok()?;
    let rel = check::resolve(check::folder(path), &decoded)?;
    let base = match catalog.get(&rel) {
        Some(e) => e.url.clone(),
        None if rel.ends_with(".md") => return None,
        None => format!("/{rel}"),
    };
    Some(match fragment {
        Some(f) => format!("{base}#{f}"),
        None => base,
    })
}

#[derive(Serialize)]
struct Translation {
    lang: String,
    lang_name: String,
    title: String,
    url: String,
}

/// The article page.
pub async fn page(
    state: Arc<AppState>,
    engine: Engine,
    catalog: Arc<Catalog>,
    entry: Entry,
    tracking: Tracking,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let dir = state.config.articles.clone();
    let path = entry.path.clone();
    let limits = state.config.limits;
    let loaded = tokio::task::spawn_blocking(move || {
        let shown = articles::shown_path(&dir, &path);
        let bytes = articles::read(&dir, &path, &limits).ok()?;
        articles::parse(&path, &shown, &bytes).ok()
    })
    .await;
    let Ok(Some(article)) = loaded else {
        // Deleted or broken since it was indexed: the index catches up on the next sync.
        return state.not_found(&catalog, &headers, Some(&entry.lang));
    };

    let tracking = tracking.for_page(&state.config.visitor_key);
    if state.may_record(&tracking) {
        let at = metrics::now();
        let from = came_from(&uri);
        if let Some((search_id, Some(position))) = &from {
            state.recorder.record(Event::Click(Click {
                at,
                visitor: tracking.visitor.clone(),
                search_id: search_id.clone(),
                path: article.path.clone(),
                position: *position,
            }));
        }
        state.recorder.record(Event::View(View {
            at,
            visitor: tracking.visitor.clone(),
            path: article.path.clone(),
            search_id: from.map(|(s, _)| s),
        }));
    }

    let updated = {
        let cached = state
            .updated
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&article.path)
            .cloned();
        match cached {
            Some(u) => u,
            None => {
                let (dir, path, fm) = (
                    state.config.articles.clone(),
                    article.path.clone(),
                    article.updated.clone(),
                );
                let u = tokio::task::spawn_blocking(move || {
                    articles::last_updated(&dir, &path, fm.as_deref())
                })
                .await
                .ok()
                .flatten();
                state
                    .updated
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(article.path.clone(), u.clone());
                u
            }
        }
    };

    let drafts = state.config.drafts;
    let related = {
        let params = SearchParams {
            lang: Some(article.lang.clone()),
            limit: 6,
            drafts,
            ..SearchParams::new(format!("{} {}", article.title, article.tags.join(" ")))
        };
        let own = article.path.clone();
        tokio::task::spawn_blocking(move || engine.search(&params))
            .await
            .ok()
            .and_then(Result::ok)
            .map(|r| {
                r.results
                    .into_iter()
                    .filter(|h| h.path != own)
                    .take(4)
                    .map(|h| Listed {
                        title: h.title,
                        url: h.url,
                        blurb: None,
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };

    let ui = state.ui_for(Some(&article.lang), &headers);
    let mut page = state.page_ctx(&catalog, &ui, Some(&article.lang), "", None);
    if state.config.watching {
        page.live_path = Some(article.path.clone());
    }
    page.contact_url = page.contact_url.map(|u| {
        format!(
            "{u}&from={}",
            form_urlencoded::byte_serialize(article.path.as_bytes()).collect::<String>()
        )
    });
    let translations: Vec<Translation> = catalog
        .translations(&article.path)
        .into_iter()
        .filter(|t| drafts || !t.draft)
        .map(|t| Translation {
            lang: t.lang.clone(),
            lang_name: language_name(&state, &t.lang),
            title: t.title.clone(),
            url: t.url.clone(),
        })
        .collect();
    // The header's language links lead to the translations where there are some.
    for l in &mut page.languages {
        if let Some(t) = translations.iter().find(|t| t.lang == l.tag) {
            l.url = t.url.clone();
        }
        if l.tag == article.lang {
            l.url = article.url.clone();
        }
    }
    let base = page_base(&state);
    let alternates: Vec<serde_json::Value> = std::iter::once((&article.lang, &article.url))
        .chain(translations.iter().map(|t| (&t.lang, &t.url)))
        .map(|(l, u)| serde_json::json!({ "tag": l, "url": format!("{base}{u}") }))
        .collect();
    let toc: Vec<&articles::Heading> = article
        .headings
        .iter()
        .filter(|h| (2..=3).contains(&h.level))
        .collect();
    let html = article.html_linked(&|t| resolve_link(&catalog, &article.path, t));
    let voted = uri
        .query()
        .is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "voted"));
    let response = state.page(
        StatusCode::OK,
        "article.html",
        &ui,
        serde_json::json!({
            "page": page,
            "article": {
                "path": article.path,
                "url": article.url,
                "canonical": format!("{base}{}", article.url),
                "title": article.title,
                "description": article.description,
                "lang": article.lang,
                "category": article.category,
                "category_url": article.category.as_deref().map(|c| category_url(&article.lang, c)),
                "tags": article.tags,
                "updated": updated,
                "draft": article.draft,
                "html": html,
            },
            "toc": toc,
            "translations": translations,
            "related": related,
            "alternates": alternates,
            "voted": voted,
        }),
    );
    (AppendHeaders(tracking.set_cookie()), response).into_response()
}

/// `POST /feedback`: the feedback form when JavaScript is off. Records the vote like
/// `/api/feedback`, then sends the reader back to the article, thanked.
pub async fn feedback_form(
    State(state): State<Arc<AppState>>,
    Ready(engine): Ready,
    tracking: Tracking,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let bytes = match events::read_body(body, events::MAX_BODY).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let mut input = VoteInput::default();
    for (k, v) in form_urlencoded::parse(&bytes) {
        match &*k {
            "path" => input.path = v.into_owned(),
            "helpful" => input.helpful = v == "yes" || v == "true",
            "reason" => input.reason = Some(v.into_owned()),
            "comment" => input.comment = Some(v.into_owned()),
            _ => {}
        }
    }
    // A "Yes" carries no reason, whatever the form held.
    if input.helpful {
        input.reason = None;
        input.comment = None;
    }
    let catalog = engine.index().catalog();
    let Some(url) = catalog.get(&input.path).map(|e| e.url.clone()) else {
        return state.not_found(&catalog, &headers, None);
    };
    match events::record_vote(&state, &tracking, input).await {
        Ok(()) => Redirect::to(&format!("{url}?voted=1#feedback")).into_response(),
        Err(response) => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_links_lead_to_article_addresses() {
        let catalog = Catalog::default();
        assert_eq!(resolve_link(&catalog, "en/a.md", "https://x.example"), None);
        assert_eq!(resolve_link(&catalog, "en/a.md", "#part"), None);
        assert_eq!(resolve_link(&catalog, "en/a.md", "/en/b"), None);
        assert_eq!(
            resolve_link(&catalog, "en/billing/a.md", "img/card.png").as_deref(),
            Some("/en/billing/img/card.png")
        );
        assert_eq!(resolve_link(&catalog, "en/a.md", "missing.md"), None);
    }
}
