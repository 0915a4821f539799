//! What pages and integrations post: "Did this help?" votes (`POST /api/feedback`) and
//! contact clicks and inserted links (`POST /api/events`).
//!
//! Bodies are read here, under a size limit, so that anything malformed or oversized is a
//! `400` with a message that says what is wrong. A vote is answered only once it is committed;
//! other events are queued and answered at once.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::visitor::Tracking;
use super::{ApiError, AppState};
use crate::metrics::{self, Action, ActionKind, Event, Reason, Search, Source, Vote};
use crate::search::Hit;

/// Largest body accepted, in bytes.
pub const MAX_BODY: usize = 16 * 1024;
/// Longest comment kept with a vote, in characters.
pub const MAX_COMMENT: usize = 2000;
/// Longest query carried by an event, in characters.
const MAX_QUERY: usize = 1000;

async fn json_body<T: DeserializeOwned>(body: Body) -> Result<T, ApiError> {
    json_body_of(body, MAX_BODY).await
}

/// A JSON body of at most `limit` bytes, or a `400` saying what is wrong with it.
pub(super) async fn json_body_of<T: DeserializeOwned>(
    body: Body,
    limit: usize,
) -> Result<T, ApiError> {
    let bytes = read_body(body, limit).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("send a JSON object as the body"));
    }
    let de = &mut serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let at = e.path().to_string();
        let inner = e.into_inner();
        if at == "." {
            ApiError::bad_request(format!("the body is not the expected JSON object: {inner}"))
        } else {
            ApiError::bad_request(format!(
                "the body is not the expected JSON: `{at}`: {inner}"
            ))
        }
    })
}

/// The bytes of a body of at most `limit` bytes, or the answer to send: 400 when it is
/// larger, 408 when it did not arrive within [`super::BODY_TIMEOUT`].
pub(super) async fn read_body(body: Body, limit: usize) -> Result<axum::body::Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        if body_too_slow(&e) {
            ApiError::too_slow()
        } else {
            ApiError::bad_request(format!("the body is larger than {limit} bytes"))
        }
    })
}

/// Whether reading a body failed because it missed [`super::BODY_TIMEOUT`].
pub(super) fn body_too_slow(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = c.source();
    }
    false
}

/// Checks that `path` is an article this server serves.
pub async fn known_article(state: &AppState, path: &str) -> Result<(), ApiError> {
    let engine = state.ready()?;
    if path.is_empty() || path.len() > 1024 {
        return Err(ApiError::bad_request("`path` must be an article's path"));
    }
    if engine.index().catalog().serves(path, state.config.drafts) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "unknown article path {path:?}"
        )))
    }
}

/// Text a reader typed: trimmed, control characters other than line breaks removed.
pub(super) fn clean_text(s: &str) -> String {
    s.trim()
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect()
}

pub(super) fn too_many(what: &str) -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, "60")],
        axum::Json(serde_json::json!({
            "error": format!("too many {what} from you; try again in a minute")
        })),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct FeedbackBody {
    path: String,
    helpful: bool,
    reason: Option<String>,
    comment: Option<String>,
    vote_id: Option<String>,
}

/// A vote as a reader sent it, from JSON or from the HTML form.
#[derive(Debug, Default)]
pub struct VoteInput {
    pub path: String,
    pub helpful: bool,
    pub reason: Option<String>,
    pub comment: Option<String>,
    /// The id the page gave this vote: a later vote with the same id, on the same article
    /// and from the same visitor, completes it (a reason after "No") instead of adding one.
    pub vote_id: Option<String>,
}

/// Checks a vote and records it, returning once it is committed; the error is the response
/// to send (400 with a message, 429, or 503).
///
/// A vote with an id that the same visitor already used on the same article replaces that
/// vote's answer (the reason and comment sent after "No"), so a vote is counted once
/// however it is completed. The id is made up by the reader's page and known only to it; a
/// request from anyone else matches no vote of theirs (the visitor, signed, is part of the
/// match), and adds a vote of its own at most.
pub async fn record_vote(
    state: &AppState,
    tracking: &Tracking,
    input: VoteInput,
) -> Result<(), Response> {
    let reason = match input.reason.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(r) => Some(Reason::parse(r).ok_or_else(|| {
            ApiError::bad_request(format!(
                "`reason` must be outdated, unclear, incomplete or other, got {r:?}"
            ))
            .into_response()
        })?),
    };
    if input.helpful && reason.is_some() {
        return Err(ApiError::bad_request(
            "`reason` says why an article did not help: send it with \"helpful\": false",
        )
        .into_response());
    }
    let comment = input
        .comment
        .as_deref()
        .map(clean_text)
        .filter(|c| !c.is_empty());
    if comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_COMMENT)
    {
        return Err(ApiError::bad_request(format!(
            "`comment` must be at most {MAX_COMMENT} characters"
        ))
        .into_response());
    }
    if let Some(id) = &input.vote_id
        && !metrics::is_id(id)
    {
        return Err(ApiError::bad_request(
            "`vote_id` must be 32 lowercase hexadecimal digits, made up at random by the page",
        )
        .into_response());
    }
    known_article(state, &input.path)
        .await
        .map_err(IntoResponse::into_response)?;
    if !state.votes_limit.allow(tracking) {
        return Err(too_many("votes"));
    }
    if tracking.counted {
        state
            .recorder
            .record_durably(Event::Vote(Vote {
                at: metrics::now(),
                visitor: tracking.visitor.clone(),
                path: input.path,
                helpful: input.helpful,
                reason,
                comment,
                id: input.vote_id,
            }))
            .await
            .map_err(|e| {
                tracing::error!("vote not saved: {e}");
                ApiError::unavailable("your vote could not be saved; please try again")
                    .into_response()
            })?;
    }
    Ok(())
}

/// `POST /api/feedback {"path", "helpful", "reason"?, "comment"?}` → `204` once the vote is
/// committed.
pub async fn feedback(
    State(state): State<Arc<AppState>>,
    tracking: Tracking,
    body: Body,
) -> Response {
    let body: FeedbackBody = match json_body(body).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let input = VoteInput {
        path: body.path,
        helpful: body.helpful,
        reason: body.reason,
        comment: body.comment,
        vote_id: body.vote_id,
    };
    match record_vote(&state, &tracking, input).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(response) => response,
    }
}

#[derive(Debug, Deserialize)]
struct EventBody {
    #[serde(rename = "type")]
    kind: String,
    path: Option<String>,
    query: Option<String>,
    search_id: Option<String>,
    source: Option<String>,
}

/// `POST /api/events {"type": "link_inserted"|"contact_clicked", "path"?, "query"?,
/// "search_id"?, "source"?}` → `204`.
pub async fn events(
    State(state): State<Arc<AppState>>,
    tracking: Tracking,
    body: Body,
) -> Result<Response, ApiError> {
    let body: EventBody = json_body(body).await?;
    // Reads by AI agents are recorded by the MCP server, not posted.
    let posted = ActionKind::parse(&body.kind).filter(|k| *k != ActionKind::ArticleFetched);
    let kind = posted.ok_or_else(|| {
        ApiError::bad_request(format!(
            "`type` must be link_inserted or contact_clicked, got {:?}",
            body.kind
        ))
    })?;
    let query = body
        .query
        .as_deref()
        .map(clean_text)
        .filter(|q| !q.is_empty());
    if query
        .as_ref()
        .is_some_and(|q| q.chars().count() > MAX_QUERY)
    {
        return Err(ApiError::bad_request(format!(
            "`query` must be at most {MAX_QUERY} characters"
        )));
    }
    if let Some(id) = &body.search_id
        && !metrics::is_id(id)
    {
        return Err(ApiError::bad_request(
            "`search_id` must be the search_id of an /api/search answer",
        ));
    }
    let source = match body.source.as_deref() {
        None => None,
        Some(s) => Some(Source::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!("`source` must be customer, agent or ai, got {s:?}"))
        })?),
    };
    if let Some(path) = &body.path {
        known_article(&state, path).await?;
    }
    if !state.events_limit.allow(&tracking) {
        return Ok(too_many("events"));
    }
    if tracking.counted {
        state.recorder.record(Event::Action(Action {
            at: metrics::now(),
            visitor: tracking.visitor.clone(),
            kind,
            path: body.path,
            query,
            search_id: body.search_id,
            source,
        }));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A search a handler ran, to be recorded.
pub(super) struct Searched<'a> {
    /// The query as typed (or the first part of a message).
    pub query: String,
    /// What the report groups it by ([`crate::search::normalize_query`]; empty for a
    /// customer's whole message).
    pub normalized: String,
    pub lang: Option<String>,
    pub total: usize,
    pub source: Source,
    pub results: &'a [Hit],
    pub partial: bool,
    pub ui: Option<String>,
}

/// Records a search when the request may be recorded ([`AppState::may_record`]); the id it
/// was recorded under, for result links and events.
pub(super) fn record_search(
    state: &AppState,
    tracking: &Tracking,
    searched: Searched<'_>,
) -> Option<String> {
    if !state.may_record(tracking) {
        return None;
    }
    let id = metrics::random_id();
    state.recorder.record(Event::Search(Search {
        id: id.clone(),
        at: metrics::now(),
        visitor: tracking.visitor.clone(),
        query: searched.query,
        normalized: searched.normalized,
        lang: searched.lang,
        total: searched.total as u64,
        source: searched.source,
        results: searched.results.iter().map(|h| h.path.clone()).collect(),
        partial: searched.partial,
        ui: searched.ui,
    }));
    Some(id)
}
