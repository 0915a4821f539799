//! The agent tools on the web: the `/agent` panel, the articles that answer a customer's
//! message (`POST /api/answers`), agents' flags on articles (`POST /api/flags`), and what
//! agents' search results carry besides customers': the absolute link, the link ready to
//! paste in Markdown, HTML and text, the first paragraph or canned reply, and how helpful
//! readers found the article.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::client::Client;
use super::events::{
    MAX_COMMENT, Searched, clean_text, json_body_of, known_article, record_search, too_many,
};
use super::http::param;
use super::visitor::Tracking;
use super::{ApiError, AppState, Ready};
use crate::agent::Link;
use crate::articles::lang;
use crate::metrics::{self, DAY, Event, Flag, FlagReason, Millis, Source, Tally};
use crate::search::{self, SearchParams, SearchResponse};

/// Votes that count toward an article's helpfulness for agents: the last year's.
const HELPFUL_WINDOW: Millis = 365 * DAY;
/// Largest message body, in bytes: the message is read up to 20 000 characters.
const MAX_MESSAGE_BODY: usize = super::security::READ_AHEAD;
/// Results of `/api/answers` unless `limit` says otherwise.
const ANSWERS: usize = 5;
/// The part of a message kept in the recorded search.
const RECORDED_CHARS: usize = 500;

/// How readers rated an article.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Helpful {
    pub yes: u64,
    pub no: u64,
    /// The share of Yes votes, when there are any votes.
    pub rate: Option<f64>,
    /// Whether readers find it unhelpful often enough to think twice before sending it
    /// (the gap report's measure: at least a quarter, with 95 % confidence).
    pub weak: bool,
}

impl Helpful {
    pub fn of(yes: u64, no: u64) -> Helpful {
        let votes = yes + no;
        Helpful {
            yes,
            no,
            rate: (votes > 0).then(|| (yes as f64 / votes as f64 * 100.0).round() / 100.0),
            weak: votes >= crate::report::MIN_VOTES
                && crate::report::wilson_lower(no, votes) >= crate::report::UNHELPFUL_FROM,
        }
    }
}

/// Current votes of the last year on `paths`, from the recorded events; nothing when they
/// cannot be read.
pub(super) async fn helpfulness(
    state: &Arc<AppState>,
    paths: Vec<String>,
) -> HashMap<String, Tally> {
    let Some(metrics) = state.metrics.clone() else {
        return HashMap::new();
    };
    let since = metrics::now() - HELPFUL_WINDOW;
    let read = tokio::task::spawn_blocking(move || metrics.helpfulness(&paths, since)).await;
    match read {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => {
            tracing::warn!("helpfulness: {e}");
            HashMap::new()
        }
        Err(e) => {
            tracing::warn!("helpfulness: {e}");
            HashMap::new()
        }
    }
}

/// A search response as agents get it: each result with `link`, `copy` (`markdown`, `html`,
/// `text`) and `helpful`.
pub async fn for_agents(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    client: &Client,
    response: SearchResponse,
) -> serde_json::Value {
    // From the request's Host without --base-url: the answer is never cached.
    let base = super::layout::site_base(state, headers, client).url;
    let paths = response.results.iter().map(|h| h.path.clone()).collect();
    let votes = helpfulness(state, paths).await;
    let catalog = state
        .engine()
        .map(|e| e.index().catalog())
        .unwrap_or_default();
    let mut body = serde_json::to_value(&response).unwrap_or_default();
    if let Some(results) = body["results"].as_array_mut() {
        for (r, hit) in results.iter_mut().zip(&response.results) {
            let link = Link::new(
                &base,
                &hit.url,
                &hit.title,
                hit.summary.as_deref().unwrap_or_default(),
                hit.reply.as_deref(),
            );
            let Tally { yes, no } = votes.get(&hit.path).copied().unwrap_or_default();
            r["link"] = serde_json::Value::String(link.url.clone());
            r["copy"] = serde_json::to_value(link.copies()).unwrap_or_default();
            r["helpful"] = serde_json::to_value(Helpful::of(yes, no)).unwrap_or_default();
            // The other languages, one click away: each ready to paste too.
            if let Some(others) = r["translations"].as_array_mut() {
                for (o, t) in others.iter_mut().zip(&hit.translations) {
                    let description = catalog
                        .by_url(&t.url)
                        .and_then(|e| e.description.clone())
                        .unwrap_or_default();
                    let link = Link::new(&base, &t.url, &t.title, &description, None);
                    o["link"] = serde_json::Value::String(link.url.clone());
                    o["copy"] = serde_json::to_value(link.copies()).unwrap_or_default();
                }
            }
        }
    }
    body
}

#[derive(Debug, Deserialize)]
struct AnswersBody {
    text: String,
    lang: Option<String>,
    hl: Option<String>,
    limit: Option<usize>,
    source: Option<String>,
    sections: Option<bool>,
}

/// `POST /api/answers {"text", "lang"?, "hl"?, "limit"?, "source"?, "sections"?}`: the
/// articles that answer a customer's message (or a query), best first, as `/api/search`
/// gives them: one per translation group, in the message's language and script (else
/// `hl`'s); recorded as a search (from agents unless `source` says `customer`).
pub async fn answers(
    State(state): State<Arc<AppState>>,
    Ready(engine): Ready,
    tracking: Tracking,
    client: Client,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let body: AnswersBody = match json_body_of(body, MAX_MESSAGE_BODY).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let source = match body.source.as_deref().map(str::trim) {
        None | Some("") => Source::Agent,
        Some(s) => match Source::parse(s) {
            Some(s) => s,
            None => {
                return ApiError::bad_request(format!(
                    "`source` must be customer, agent or ai, got {s:?}"
                ))
                .into_response();
            }
        },
    };
    let asked = Asked {
        text: body.text,
        lang: body.lang,
        hl: body.hl,
        limit: body.limit,
        sections: body.sections.unwrap_or(true),
    };
    let response = match run_answers(&state, engine, &tracking, asked, source).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let json = if source == Source::Agent {
        for_agents(&state, &headers, &client, response).await
    } else {
        serde_json::to_value(&response).unwrap_or_default()
    };
    super::http::not_stored(axum::Json(json))
}

/// What the articles that answer a message are asked for with.
pub(crate) struct Asked {
    /// A customer's message or a query.
    pub text: String,
    /// The language filter.
    pub lang: Option<String>,
    /// The reader's language ([`SearchParams::hl`]).
    pub hl: Option<String>,
    pub limit: Option<usize>,
    /// Whether a result points at the section that answers.
    pub sections: bool,
}

/// The articles that answer a customer's message (or a query), as `/api/answers` finds
/// them, recorded as a search from `source` within the recording budget.
pub(crate) async fn run_answers(
    state: &Arc<AppState>,
    engine: search::Engine,
    tracking: &Tracking,
    asked: Asked,
    source: Source,
) -> Result<SearchResponse, ApiError> {
    let text = asked.text;
    if text.trim().is_empty() {
        return Err(ApiError::bad_request(
            "`text` is empty: send the customer's message",
        ));
    }
    let lang_filter = asked.lang.as_deref().and_then(lang::normalize_tag);
    let ui = asked.hl.as_deref().and_then(lang::normalize_tag);
    let params = SearchParams {
        lang: asked.lang,
        limit: asked.limit.unwrap_or(ANSWERS),
        drafts: state.config.drafts,
        details: true,
        hl: ui.clone(),
        sections: asked.sections,
        ..SearchParams::new(text.clone())
    };
    let mut response = tokio::task::spawn_blocking(move || engine.answers(&params))
        .await
        .map_err(ApiError::internal)??;
    state
        .monitor
        .searched(super::monitoring::SearchKind::Answers, response.took_ms);
    let message = search::message::is_message(&text);
    response.search_id = record_search(
        state,
        tracking,
        Searched {
            query: text.chars().take(RECORDED_CHARS).collect(),
            // A message's words do not make a need to group with others.
            normalized: if message {
                String::new()
            } else {
                search::normalize_query(&text)
            },
            lang: lang_filter,
            total: response.total,
            source,
            results: &response.results,
            partial: false,
            ui,
        },
    );
    Ok(response)
}

#[derive(Debug, Deserialize)]
struct FlagBody {
    path: String,
    reason: String,
    note: Option<String>,
}

/// `POST /api/flags {"path", "reason": "wrong"|"outdated"|"other", "note"?}` → `204` once
/// the flag is committed; it shows in the gap report's "to update" until the article
/// changes.
pub async fn flag(State(state): State<Arc<AppState>>, tracking: Tracking, body: Body) -> Response {
    let body: FlagBody = match json_body_of(body, super::events::MAX_BODY).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let Some(reason) = FlagReason::parse(body.reason.trim()) else {
        return ApiError::bad_request(format!(
            "`reason` must be wrong, outdated or other, got {:?}",
            body.reason
        ))
        .into_response();
    };
    let note = body
        .note
        .as_deref()
        .map(clean_text)
        .filter(|n| !n.is_empty());
    if note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_COMMENT)
    {
        return ApiError::bad_request(format!("`note` must be at most {MAX_COMMENT} characters"))
            .into_response();
    }
    if let Err(e) = known_article(&state, &body.path).await {
        return e.into_response();
    }
    if !state.votes_limit.allow(&tracking) {
        return too_many("flags");
    }
    // A flag is a message to the writers, not tracking: it is kept even from readers who
    // asked not to be tracked (without their visitor id).
    let saved = state
        .recorder
        .record_durably(Event::Flag(Flag {
            at: metrics::now(),
            visitor: tracking.visitor.clone(),
            path: body.path,
            reason,
            note,
        }))
        .await;
    match saved {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => {
            tracing::error!("flag not saved: {e}");
            ApiError::unavailable("the flag could not be saved; please try again").into_response()
        }
    }
}

/// `GET /agent[?hl=L]`: the agents' panel, compact enough for a help desk's sidebar. Framed
/// only by the sites `--frame-ancestor` lists.
pub async fn panel(
    State(state): State<Arc<AppState>>,
    tracking: Tracking,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let catalog = state
        .engine()
        .map(|e| e.index().catalog())
        .unwrap_or_default();
    let ui = state.ui_for(param(&params, "hl").filter(|h| !h.is_empty()), &headers);
    let mut page = state.page_ctx(&catalog, &ui, None, "", Some(""));
    page.html_lang = ui.clone();
    let ctx = serde_json::json!({
        "page": page,
        "agent_js": state.assets.url("agent.js"),
        "agent_css": state.assets.url("agent.css"),
    });
    let tracking = tracking.for_page(&state.config.visitor_key);
    (
        AppendHeaders(tracking.set_cookie()),
        state.page(StatusCode::OK, "agent.html", &ui, ctx),
    )
        .into_response()
}
