//! Site-wide pages and files: the search results page, "Contact support", `sitemap.xml`
//! (with hreflang alternates), the OpenSearch description, `robots.txt` and static assets.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use serde::Serialize;

use super::client::Client;
use super::events::{Searched, record_search};
use super::http::param;
use super::layout::{Listed, language_name, site_base};
use super::visitor::Tracking;
use super::{ApiError, AppState, Ready};
use crate::articles::lang;
use crate::metrics::{self, Action, ActionKind, Event, Source};
use crate::search::{self, SearchParams};

/// Results on one page of the search page.
const PER_PAGE: usize = 10;
/// Pages the pager offers at most.
const MAX_PAGES: usize = 50;

/// The address of a results page; `extra` adds parameters (`correct=0`, `all=1`).
fn search_url(q: &str, lang: &str, hl: &str, page: usize, extra: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair("q", q);
    if !lang.is_empty() {
        s.append_pair("lang", lang);
    }
    s.append_pair("hl", hl);
    if page > 1 {
        s.append_pair("page", &page.to_string());
    }
    for (k, v) in extra {
        s.append_pair(k, v);
    }
    format!("/search?{}", s.finish())
}

#[derive(Serialize)]
struct ResultItem {
    title: String,
    link: String,
    lang: String,
    lang_name: String,
    category: Option<String>,
    snippet: String,
    /// The heading of the section the link points at.
    section: Option<String>,
    /// Not in the reader's language (no translation into it).
    fallback: bool,
    /// The article in its other languages.
    translations: Vec<OtherLanguage>,
}

#[derive(Serialize)]
struct OtherLanguage {
    lang: String,
    lang_name: String,
    title: String,
    link: String,
}

/// A result's address carrying the search it came from (`?s=ID&r=RANK`, before the
/// `#anchor` of a section), so the article page records the click.
fn tracked(url: &str, search_id: Option<&str>, rank: usize) -> String {
    let Some(id) = search_id else {
        return url.to_string();
    };
    let (page, anchor) = match url.split_once('#') {
        Some((p, a)) => (p, Some(a)),
        None => (url, None),
    };
    let mut out = format!("{page}?s={id}&r={rank}");
    if let Some(a) = anchor {
        out.push('#');
        out.push_str(a);
    }
    out
}

/// The results of a search as the page lists them, the first ranked `first_rank`.
fn result_items(
    state: &AppState,
    catalog: &crate::index::Catalog,
    hits: &[search::Hit],
    search_id: Option<&str>,
    first_rank: usize,
) -> Vec<ResultItem> {
    hits.iter()
        .enumerate()
        .map(|(i, h)| ResultItem {
            title: h.title.clone(),
            link: tracked(&h.url, search_id, first_rank + i),
            lang: h.lang.clone(),
            lang_name: language_name(state, &h.lang),
            category: catalog.get(&h.path).and_then(|e| e.category.clone()),
            snippet: h.snippet.clone(),
            section: h.section.as_ref().map(|s| s.heading.clone()),
            fallback: h.fallback,
            translations: h
                .translations
                .iter()
                .map(|t| OtherLanguage {
                    lang: t.lang.to_string(),
                    lang_name: language_name(state, &t.lang),
                    title: t.title.to_string(),
                    link: tracked(&t.url, search_id, first_rank + i),
                })
                .collect(),
        })
        .collect()
}

/// `GET /search?q=Q[&lang=L][&hl=UI][&page=N][&correct=0][&all=1]`: the results page, one
/// result per translation group in the reader's language (`hl`), each with its other
/// languages and the section it points at; with nothing found, a spelling suggestion, popular
/// articles and the contact link, and, when the language filter is what left nothing, the
/// results in the other languages and a link to the same search in all of them. Searches are
/// recorded as on `/api/search`; result links carry the search's id for click tracking.
///
/// When unknown words were searched as the index's closest words, the page says so
/// ("Showing results for …") and links to the search of the words as typed (`correct=0`).
/// Results scoring far below the best ([`search::strong_count`]) wait behind a "more
/// results" link (`all=1`) on the first page.
/// When no result holds most of the query (weighed by rarity: [`search::Hit::coverage`]), the
/// page says that nothing has all the words, above the results and with the contact link.
pub async fn search(
    State(state): State<Arc<AppState>>,
    Ready(engine): Ready,
    tracking: Tracking,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let tracking = tracking.for_page(&state.config.visitor_key);
    let catalog = engine.index().catalog();
    let q = param(&params, "q").unwrap_or("").to_string();
    let filter = param(&params, "lang")
        .and_then(lang::normalize_tag)
        .unwrap_or_default();
    let ui = state.ui_for(param(&params, "hl").filter(|h| !h.is_empty()), &headers);
    let page_number = param(&params, "page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, MAX_PAGES);
    let exact = matches!(param(&params, "correct"), Some("0"));
    let all = matches!(param(&params, "all"), Some("1"));
    // Links from this page keep asking for words as typed.
    let keep: &[(&str, &str)] = if exact { &[("correct", "0")] } else { &[] };
    let content = (!filter.is_empty()).then_some(filter.as_str());
    let mut page = state.page_ctx(&catalog, &ui, content, &q, Some(&filter));
    page.html_lang = ui.clone();
    if let Some(u) = &mut page.contact_url {
        let qs: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
        u.push_str(&format!("&q={qs}"));
    }

    let mut ctx = serde_json::json!({ "page": page, "q": q, "results": [], "total": 0 });
    if q.trim().is_empty() {
        let page = state.page(StatusCode::OK, "search.html", &ui, ctx);
        return (AppendHeaders(tracking.set_cookie()), page).into_response();
    }
    let request = SearchParams {
        query: q.clone(),
        lang: content.map(str::to_string),
        limit: PER_PAGE,
        offset: (page_number - 1) * PER_PAGE,
        drafts: state.config.drafts,
        details: false,
        typing: false,
        hl: Some(ui.clone()),
        grouped: true,
        sections: true,
        exact,
    };
    let unfiltered = SearchParams {
        lang: None,
        offset: 0,
        ..request.clone()
    };
    let e2 = engine.clone();
    let outcome = tokio::task::spawn_blocking(move || e2.search(&request)).await;
    let response = match outcome {
        Ok(Ok(r)) => {
            state
                .monitor
                .searched(super::monitoring::SearchKind::Page, r.took_ms);
            r
        }
        Ok(Err(e)) if e.is_client_error() => {
            ctx["error"] = serde_json::Value::String(e.to_string());
            return state.page(StatusCode::BAD_REQUEST, "search.html", &ui, ctx);
        }
        Ok(Err(e)) => return ApiError::internal(e).into_response(),
        Err(e) => return ApiError::internal(e).into_response(),
    };

    let search_id = if page_number == 1 {
        record_search(
            &state,
            &tracking,
            Searched {
                normalized: search::normalize_query(&q),
                query: q.clone(),
                lang: content.map(str::to_string),
                total: response.total,
                source: Source::Customer,
                results: &response.results,
                partial: false,
                ui: Some(ui.clone()),
            },
        )
    } else {
        None
    };
    if let (Some(id), Some(u)) = (&search_id, ctx["page"]["contact_url"].as_str()) {
        ctx["page"]["contact_url"] = serde_json::Value::String(format!("{u}&s={id}"));
    }
    let first_rank = (page_number - 1) * PER_PAGE + 1;
    let strong = search::strong_count(&response.results);
    // When even the best result matches only part of the query, the results are listed
    // under a notice that says so (with the contact link), rather than held back whole.
    let weak_only = strong == 0 && page_number == 1;
    let shown = if page_number == 1 && !all && !weak_only {
        strong
    } else {
        response.results.len()
    };
    ctx["weak_only"] = weak_only.into();
    let held = response.results.len() - shown;
    if held > 0 {
        let text = state
            .locales
            .plural(&ui, "search.more_results", held as u64)
            .unwrap_or("{count}");
        let mut extra = keep.to_vec();
        extra.push(("all", "1"));
        ctx["more"] = serde_json::json!({
            "text": crate::i18n::fill(text, &[("count", held.to_string())]),
            "url": search_url(&q, &filter, &ui, 1, &extra),
        });
    }
    if let Some(corrected) = &response.corrected_query {
        ctx["corrected"] = serde_json::json!({
            "query": corrected,
            "url": search_url(corrected, &filter, &ui, 1, &[]),
            "instead_url": search_url(&q, &filter, &ui, 1, &[("correct", "0")]),
        });
    }
    let results = result_items(
        &state,
        &catalog,
        &response.results[..shown],
        search_id.as_deref(),
        first_rank,
    );
    if let Some(reader) = &response.reader_lang {
        ctx["reader_lang_name"] = language_name(&state, reader).into();
    }
    // With weaker matches held back, "more results" leads on (to the whole list, paged).
    let pages = if held > 0 {
        1
    } else {
        response.total.div_ceil(PER_PAGE).clamp(1, MAX_PAGES)
    };
    ctx["results"] = serde_json::to_value(&results).unwrap_or_default();
    ctx["total"] = response.total.into();
    ctx["first_rank"] = first_rank.into();
    ctx["page_number"] = page_number.into();
    ctx["pages"] = pages.into();
    if page_number > 1 {
        ctx["prev_url"] = search_url(&q, &filter, &ui, page_number - 1, keep).into();
    }
    if page_number < pages {
        ctx["next_url"] = search_url(&q, &filter, &ui, page_number + 1, keep).into();
    }
    let lo = page_number.saturating_sub(4).max(1);
    let hi = (lo + 8).min(pages);
    ctx["page_links"] = (lo..=hi)
        .map(|n| serde_json::json!({ "number": n, "url": search_url(&q, &filter, &ui, n, keep), "current": n == page_number }))
        .collect::<Vec<_>>()
        .into();
    if response.total == 0 {
        let (e2, q2, lang2) = (engine.clone(), q.clone(), content.map(str::to_string));
        let suggestion = tokio::task::spawn_blocking(move || e2.suggest(&q2, lang2.as_deref()))
            .await
            .ok()
            .flatten();
        if let Some(s) = suggestion {
            ctx["suggestion"] =
                serde_json::json!({ "query": s, "url": search_url(&s, &filter, &ui, 1, &[]) });
        }
        let lang = content
            .or(Some(
                ctx["page"]["home_url"]
                    .as_str()
                    .unwrap_or("/")
                    .trim_matches('/'),
            ))
            .filter(|l| !l.is_empty())
            .map(str::to_string);
        let popular: Vec<Listed> = state.suggested(&catalog, lang.as_deref(), 5);
        ctx["popular"] = serde_json::to_value(popular).unwrap_or_default();
        // The language filter left nothing: never an empty page when another language
        // answers. The results in every language follow, with the same search's id (a
        // click on one is demand for a translation), and a link to that search.
        if let Some(filter_lang) = content {
            ctx["filter_name"] = language_name(&state, filter_lang).into();
            ctx["all_languages_url"] = search_url(&q, "", &ui, 1, &[]).into();
            let e2 = engine.clone();
            let elsewhere = tokio::task::spawn_blocking(move || e2.search(&unfiltered))
                .await
                .ok()
                .and_then(Result::ok);
            if let Some(found) = elsewhere.filter(|r| r.total > 0) {
                let items = result_items(&state, &catalog, &found.results, search_id.as_deref(), 1);
                ctx["elsewhere"] = serde_json::to_value(items).unwrap_or_default();
                ctx["elsewhere_total"] = found.total.into();
            }
        }
    }
    let page = state.page(StatusCode::OK, "search.html", &ui, ctx);
    (AppendHeaders(tracking.set_cookie()), page).into_response()
}

/// `GET /contact[?from=PATH][&q=QUERY][&s=SEARCH_ID]`: records the contact click, then
/// sends the reader to `--contact-url`.
pub async fn contact(
    State(state): State<Arc<AppState>>,
    tracking: Tracking,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let Some(target) = state.config.contact_url.clone() else {
        let Some(engine) = state.engine() else {
            return ApiError::not_found("no contact address is configured").into_response();
        };
        return state.not_found(&engine.index().catalog(), &headers, None);
    };
    if state.may_record(&tracking) {
        let catalog = state.engine().map(|e| e.index().catalog());
        let path = param(&params, "from")
            .filter(|p| {
                catalog
                    .as_ref()
                    .is_some_and(|c| c.serves(p, state.config.drafts))
            })
            .map(str::to_string);
        state.recorder.record(Event::Action(Action {
            at: metrics::now(),
            visitor: tracking.visitor.clone(),
            kind: ActionKind::ContactClicked,
            path,
            query: param(&params, "q")
                .map(|q| q.chars().take(1000).collect::<String>())
                .filter(|q| !q.trim().is_empty()),
            search_id: param(&params, "s")
                .filter(|s| metrics::is_id(s))
                .map(str::to_string),
            source: Some(Source::Customer),
        }));
    }
    Redirect::to(&target).into_response()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// `GET /sitemap.xml`: every published article, with its other-language versions as
/// hreflang alternates.
pub async fn sitemap(
    State(state): State<Arc<AppState>>,
    Ready(engine): Ready,
    client: Client,
    headers: HeaderMap,
) -> Response {
    let catalog = engine.index().catalog();
    let site = site_base(&state, &headers, &client);
    let base = &site.url;
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
    );
    for e in catalog.entries().into_iter().filter(|e| !e.draft) {
        out.push_str(&format!(
            "  <url>\n    <loc>{}</loc>\n",
            xml_escape(&format!("{base}{}", e.url))
        ));
        if let Some(u) = &e.updated {
            out.push_str(&format!("    <lastmod>{}</lastmod>\n", xml_escape(u)));
        }
        let translations: Vec<_> = catalog
            .translations(&e.path)
            .into_iter()
            .filter(|t| !t.draft)
            .collect();
        if !translations.is_empty() {
            for t in std::iter::once(e).chain(translations) {
                out.push_str(&format!(
                    "    <xhtml:link rel=\"alternate\" hreflang=\"{}\" href=\"{}\"/>\n",
                    xml_escape(&t.lang),
                    xml_escape(&format!("{base}{}", t.url))
                ));
            }
        }
        out.push_str("  </url>\n");
    }
    out.push_str("</urlset>\n");
    (
        site.caching("public, max-age=3600"),
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml; charset=utf-8"),
        )],
        out,
    )
        .into_response()
}

/// `GET /opensearch.xml`: lets browsers add the help center as a search engine.
pub async fn opensearch(
    State(state): State<Arc<AppState>>,
    client: Client,
    headers: HeaderMap,
) -> Response {
    let site = site_base(&state, &headers, &client);
    let base = &site.url;
    let ui = state.ui_for(None, &headers);
    let name = state
        .config
        .site_name
        .clone()
        .or_else(|| state.locales.text(&ui, "site.name").map(str::to_string))
        .unwrap_or_else(|| "Help Center".into());
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <OpenSearchDescription xmlns=\"http://a9.com/-/spec/opensearch/1.1/\">\n\
         \x20 <ShortName>{}</ShortName>\n\
         \x20 <Description>{}</Description>\n\
         \x20 <InputEncoding>UTF-8</InputEncoding>\n\
         \x20 <Image type=\"image/svg+xml\">{}</Image>\n\
         \x20 <Url type=\"text/html\" method=\"get\" template=\"{}/search?q={{searchTerms}}\"/>\n\
         \x20 <Url type=\"application/opensearchdescription+xml\" rel=\"self\" template=\"{}/opensearch.xml\"/>\n\
         </OpenSearchDescription>\n",
        xml_escape(&name.chars().take(16).collect::<String>()),
        xml_escape(&name),
        xml_escape(&format!("{base}{}", state.assets.url("favicon.svg"))),
        xml_escape(base),
        xml_escape(base),
    );
    (
        site.caching("public, max-age=86400"),
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/opensearchdescription+xml; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

/// `GET /robots.txt`: everything but the API may be crawled; where the sitemap is.
pub async fn robots(
    State(state): State<Arc<AppState>>,
    client: Client,
    headers: HeaderMap,
) -> Response {
    let site = site_base(&state, &headers, &client);
    (
        site.caching("public, max-age=86400"),
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"))],
        format!(
            "User-agent: *\nDisallow: /api/\nDisallow: /search\nDisallow: /contact\nDisallow: /admin/\n\nSitemap: {}/sitemap.xml\n",
            site.url
        ),
    )
        .into_response()
}

/// `GET /static/{name}[?v=VERSION]`.
pub async fn asset(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    state.assets.serve(&name, param(&params, "v"))
}

/// `GET /favicon.ico`: browsers ask for it whatever the page says.
pub async fn favicon(State(state): State<Arc<AppState>>) -> Response {
    super::layout::moved_permanently(&state.assets.url("favicon.svg"))
}
