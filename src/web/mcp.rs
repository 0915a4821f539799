//! The MCP server (Model Context Protocol, with the official SDK `rmcp`): what AI agents —
//! help desks' bots, Claude or ChatGPT with connectors — use instead of scraping pages. It
//! owns the tools' contract and wording for models (`search`, `get_article`, `answer`), the
//! transport on `POST /mcp` (Streamable HTTP, stateless: no session to share between
//! replicas, a JSON answer per request) and its guard: the `Origin` check against DNS
//! rebinding, a rate limit per client and the optional bearer token (`KB_MCP_TOKEN`).
//! `kb mcp` serves the same tools over stdio.
//!
//! The work is the HTTP API's ([`super::api::run_search`], [`super::agent::run_answers`],
//! [`super::llms::markdown`]); what AI agents do is recorded with `source = ai`, within the
//! recording budget, and kept out of the customer figures.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ServerHandler, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::client::Client;
use super::layout::site_base;
use super::ratelimit::RateLimiter;
use super::visitor::Tracking;
use super::{ApiError, AppState};
use crate::articles::lang;
use crate::index::{Catalog, Entry};
use crate::metrics::{self, Action, ActionKind, Event, Source};
use crate::search::SearchParams;

/// Where the MCP endpoint is served.
pub const PATH: &str = "/mcp";
/// The largest request body, in bytes: a whole customer message fits many times over.
pub const MAX_BODY: usize = 64 * 1024;
/// The longest message the `answer` tool takes, in characters (as `/api/answers` reads).
pub const MAX_MESSAGE_CHARS: usize = 20_000;
/// Results of `search` and `answer` unless `limit` says otherwise.
const DEFAULT_RESULTS: usize = 5;
/// The most results a tool returns.
const MAX_RESULTS: usize = 20;

/// The MCP service: the three tools over the help center's state.
#[derive(Clone)]
pub struct Kb {
    state: Arc<AppState>,
    tool_router: ToolRouter<Self>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SearchInput {
    /// What to look for, in the customer's words (any supported language).
    pub query: String,
    /// Only articles in this language: en, zh-cn, zh-tw, uk, te (`zh` keeps both Chinese
    /// scripts). Default: every language.
    #[serde(default)]
    pub lang: Option<String>,
    /// How many results, 1 to 20 (default 5).
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ArticleInput {
    /// The article: its `path` or its `link` from a search result (an absolute or site
    /// address, with or without `.md`).
    pub article: String,
    /// The language wanted (en, zh-cn, zh-tw, uk, te): the article's translation in it when
    /// there is one. Default: the article as given.
    #[serde(default)]
    pub lang: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AnswerInput {
    /// The customer's whole message, as they wrote it (up to 20 000 characters).
    pub message: String,
    /// Only articles in this language (en, zh-cn, zh-tw, uk, te). Default: every language.
    #[serde(default)]
    pub lang: Option<String>,
    /// How many articles, 1 to 20 (default 5).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// A client whose address is not known (stdio: the local process).
const NOBODY: Client = Client {
    addr: None,
    https: false,
};

/// Who called a tool: over HTTP, the request's client; over stdio, the local process.
struct Caller {
    tracking: Tracking,
    headers: HeaderMap,
    client: Client,
}

/// A tool error the model reads (`isError: true`), not a protocol failure.
fn refuse(message: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message.into())])
}

fn refused(e: ApiError) -> CallToolResult {
    refuse(e.message)
}

fn json(value: serde_json::Value) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(
        serde_json::to_string_pretty(&value).unwrap_or_default(),
    )])
}

/// A search snippet as plain text: `<mark>` dropped, entities decoded.
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(['<', '&']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with('<') {
            match rest.find('>') {
                Some(end) => rest = &rest[end + 1..],
                None => rest = "",
            }
            continue;
        }
        let entities = [
            ("&amp;", "&"),
            ("&lt;", "<"),
            ("&gt;", ">"),
            ("&quot;", "\""),
            ("&#39;", "'"),
            ("&#x27;", "'"),
        ];
        match entities.iter().find(|(e, _)| rest.starts_with(e)) {
            Some((e, c)) => {
                out.push_str(c);
                rest = &rest[e.len()..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The article `given` names: a path (`en/billing/refunds.md`), or an address (absolute,
/// or on the site, with or without `.md`). Drafts only when the server shows them.
fn find_article<'a>(catalog: &'a Catalog, given: &str, drafts: bool) -> Option<&'a Entry> {
    let given = given.trim();
    let address = match given.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => given,
    };
    let address = address.split(['?', '#']).next().unwrap_or_default();
    let page = address
        .strip_suffix(super::llms::MD_SUFFIX)
        .unwrap_or(address);
    let decoded = percent_encoding::percent_decode_str(page)
        .decode_utf8()
        .map(|p| p.into_owned())
        .unwrap_or_default();
    catalog
        .get(given)
        .or_else(|| catalog.by_url(page))
        .or_else(|| catalog.by_url(&decoded))
        .or_else(|| catalog.alias(page))
        .filter(|e| drafts || !e.draft)
}

/// The translation of `entry` in `lang` (a language tag), if it has one; `entry` itself
/// when it is in that language already or has none in it. The one place that knows what
/// makes articles translations of each other.
fn in_language<'a>(catalog: &'a Catalog, entry: &'a Entry, lang: &str, drafts: bool) -> &'a Entry {
    if *entry.lang == *lang {
        return entry;
    }
    let translations = catalog.translations(&entry.path);
    let usable = |e: &&&Entry| drafts || !e.draft;
    translations
        .iter()
        .filter(usable)
        .find(|e| *e.lang == *lang)
        .or_else(|| {
            // `zh` asks for either script.
            translations
                .iter()
                .filter(usable)
                .find(|e| e.lang.split('-').next() == Some(lang))
        })
        .copied()
        .unwrap_or(entry)
}

impl Kb {
    pub fn new(state: Arc<AppState>) -> Kb {
        Kb {
            state,
            tool_router: Self::tool_router(),
        }
    }

    fn caller(&self, ctx: &RequestContext<RoleServer>) -> Caller {
        let (headers, client) = match ctx.extensions.get::<axum::http::request::Parts>() {
            Some(parts) => (
                parts.headers.clone(),
                parts.extensions.get::<Client>().copied().unwrap_or(NOBODY),
            ),
            None => (HeaderMap::new(), NOBODY),
        };
        // An AI agent is a program by definition: counted whatever its User-Agent says (its
        // searches are kept apart by their source), never given a visitor id.
        let tracking = Tracking::of(
            &HeaderMap::new(),
            &self.state.config.visitor_key,
            &client,
            false,
        );
        Caller {
            tracking,
            headers,
            client,
        }
    }

    fn limit(limit: Option<usize>) -> Result<usize, CallToolResult> {
        match limit.unwrap_or(DEFAULT_RESULTS) {
            n @ 1..=MAX_RESULTS => Ok(n),
            n => Err(refuse(format!(
                "`limit` must be between 1 and {MAX_RESULTS}, got {n}"
            ))),
        }
    }

    fn lang(lang: Option<String>) -> Result<Option<String>, CallToolResult> {
        match lang.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(l) => lang::normalize_tag(l).map(Some).ok_or_else(|| {
                refuse(format!(
                    "`lang` must be a language tag such as en, zh-cn, zh-tw, uk or te, got {l:?}"
                ))
            }),
        }
    }

    /// Results as a model needs them: where to send the customer and how good it is.
    async fn results(
        &self,
        caller: &Caller,
        response: crate::search::SearchResponse,
    ) -> serde_json::Value {
        let query = response.query.clone();
        let total = response.total;
        let hits = response.results.clone();
        let body =
            super::agent::for_agents(&self.state, &caller.headers, &caller.client, response).await;
        let results: Vec<serde_json::Value> = body["results"]
            .as_array()
            .into_iter()
            .flatten()
            .zip(&hits)
            .map(|(r, hit)| {
                serde_json::json!({
                    "title": hit.title,
                    "link": r["link"],
                    "path": hit.path,
                    "lang": hit.lang,
                    "snippet": plain_text(&hit.snippet),
                    "summary": hit.summary,
                    "reply": hit.reply,
                    "helpful": r["helpful"],
                })
            })
            .collect();
        serde_json::json!({ "query": query, "total": total, "results": results })
    }
}

#[tool_router]
impl Kb {
    #[tool(
        name = "search",
        description = "Search the help center's articles. Use it for a short question or a few keywords (for a customer's whole message, use `answer`). Returns the best articles first, each with `title`, `link` (the absolute address to give the customer), `path` (for `get_article`), `lang`, `snippet` (plain text where the words matched), `summary`, `reply` (a canned reply written by support, when there is one) and `helpful` (readers' votes; `weak: true` means readers often found it unhelpful). An empty `results` list means the help center has no article on it: say so rather than guess."
    )]
    async fn search(
        &self,
        Parameters(input): Parameters<SearchInput>,
        ctx: RequestContext<RoleServer>,
    ) -> CallToolResult {
        if input.query.trim().is_empty() {
            return refuse("`query` is empty: send the words to search for");
        }
        let (limit, lang) = match (Self::limit(input.limit), Self::lang(input.lang)) {
            (Ok(l), Ok(g)) => (l, g),
            (Err(e), _) | (_, Err(e)) => return e,
        };
        let caller = self.caller(&ctx);
        let request = SearchParams {
            hl: lang.clone(),
            lang,
            limit,
            drafts: self.state.config.drafts,
            details: true,
            ..SearchParams::new(input.query)
        };
        match super::api::run_search(&self.state, &caller.tracking, request, Source::Ai, None).await
        {
            Ok(response) => json(self.results(&caller, response).await),
            Err(e) => refused(e),
        }
    }

    #[tool(
        name = "get_article",
        description = "Read one help center article in full, as Markdown with its metadata (title, description, language, category, last update, absolute link, other languages). Give the `path` or `link` of a result of `search` or `answer`; with `lang`, you get its translation in that language when there is one. Use it before quoting an article's steps to a customer."
    )]
    async fn get_article(
        &self,
        Parameters(input): Parameters<ArticleInput>,
        ctx: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let lang = match Self::lang(input.lang) {
            Ok(l) => l,
            Err(e) => return e,
        };
        if input.article.trim().is_empty() || input.article.len() > 2048 {
            return refuse("`article` must be an article's `path` or `link` from a search result");
        }
        let engine = match self.state.ready() {
            Ok(e) => e,
            Err(e) => return refused(e),
        };
        let catalog = engine.index().catalog();
        let drafts = self.state.config.drafts;
        let Some(found) = find_article(&catalog, &input.article, drafts) else {
            return refuse(format!(
                "no article {:?}: use the `path` or `link` of a result of `search` or `answer`",
                input.article
            ));
        };
        let entry = match &lang {
            Some(l) => in_language(&catalog, found, l, drafts),
            None => found,
        }
        .clone();
        let Some(article) = super::llms::load(&self.state, &entry).await else {
            return refuse(format!(
                "the article {:?} cannot be read right now (it changed since it was indexed); search again",
                entry.path
            ));
        };
        let caller = self.caller(&ctx);
        let base = site_base(&self.state, &caller.headers, &caller.client).url;
        let markdown = super::llms::markdown(&catalog, &article, &base);
        if self.state.may_record(&caller.tracking) {
            self.state.recorder.record(Event::Action(Action {
                at: metrics::now(),
                visitor: None,
                kind: ActionKind::ArticleFetched,
                path: Some(entry.path.to_string()),
                query: None,
                search_id: None,
                source: Some(Source::Ai),
            }));
        }
        let translations: Vec<serde_json::Value> = catalog
            .translations(&entry.path)
            .into_iter()
            .filter(|t| drafts || !t.draft)
            .map(|t| serde_json::json!({ "lang": t.lang, "path": t.path, "link": format!("{base}{}", t.url) }))
            .collect();
        json(serde_json::json!({
            "path": entry.path,
            "link": format!("{base}{}", entry.url),
            "title": article.title,
            "description": article.description,
            "lang": article.lang,
            "category": article.category,
            "updated": article.updated,
            "translations": translations,
            "asked_lang": lang,
            "in_asked_lang": lang.as_deref().is_none_or(|l| *entry.lang == *l || entry.lang.split('-').next() == Some(l)),
            "markdown": markdown,
        }))
    }

    #[tool(
        name = "answer",
        description = "Find the articles that answer a customer's whole message (an email, a chat, a ticket: several sentences in any supported language): its most telling words are searched. Returns the same fields as `search`. Prefer it to `search` when you have the customer's own words; send the message as written."
    )]
    async fn answer(
        &self,
        Parameters(input): Parameters<AnswerInput>,
        ctx: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let length = input.message.chars().count();
        if length > MAX_MESSAGE_CHARS {
            return refuse(format!(
                "`message` is {length} characters long; the limit is {MAX_MESSAGE_CHARS}: send the customer's message without quoted history"
            ));
        }
        if input.message.trim().is_empty() {
            return refuse("`message` is empty: send the customer's message");
        }
        let (limit, lang) = match (Self::limit(input.limit), Self::lang(input.lang)) {
            (Ok(l), Ok(g)) => (l, g),
            (Err(e), _) | (_, Err(e)) => return e,
        };
        let engine = match self.state.ready() {
            Ok(e) => e,
            Err(e) => return refused(e),
        };
        let caller = self.caller(&ctx);
        let found = super::agent::run_answers(
            &self.state,
            engine,
            &caller.tracking,
            super::agent::Asked {
                text: input.message,
                hl: lang.clone(),
                lang,
                limit: Some(limit),
                sections: true,
            },
            Source::Ai,
        )
        .await;
        match found {
            Ok(response) => json(self.results(&caller, response).await),
            Err(e) => refused(e),
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Kb {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("kb", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "A help center's articles, in several languages. To help a customer: `answer` with their message (or `search` with a short question), then `get_article` to read the best result before quoting it, and give the customer its `link`. If nothing fits, say the help center has no article on it.",
            )
    }
}

/// Refusals of the guard in front of `POST /mcp`.
fn forbidden(status: StatusCode, message: &str) -> Response {
    ApiError {
        status,
        message: message.into(),
    }
    .into_response()
}

/// What the guard checks requests against.
struct Guard {
    state: Arc<AppState>,
    /// Requests per client: a burst of 120, then 4 a second.
    limit: RateLimiter,
    /// Origins allowed besides the request's own and loopback: `--base-url`, the
    /// `--cors-origin`s.
    origins: Vec<String>,
}

/// Whether `origin` is a loopback address (a local MCP client such as an inspector).
fn is_loopback(origin: &str) -> bool {
    let Ok(uri) = origin.parse::<axum::http::Uri>() else {
        return false;
    };
    let host = uri.host().unwrap_or_default().trim_matches(['[', ']']);
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Middleware of `/mcp`: the bearer token when one is set, the `Origin` (absent for
/// programs; a browser's must be the site's own, a configured one or loopback: DNS
/// rebinding), then the rate limit.
async fn guard(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    if let Some(token) = &guard.state.config.mcp_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !bool::from(given.trim().as_bytes().ct_eq(token.as_bytes())) {
            let mut r = forbidden(
                StatusCode::UNAUTHORIZED,
                "this MCP server needs `Authorization: Bearer <token>` with the token set in KB_MCP_TOKEN",
            );
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
            return r;
        }
    }
    let client = request
        .extensions()
        .get::<Client>()
        .copied()
        .unwrap_or(NOBODY);
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default().trim_end_matches('/');
        let own = site_base(&guard.state, headers, &client).url;
        let allowed = super::security::origin_of(origin).is_some_and(|o| {
            o == own.trim_end_matches('/') || guard.origins.contains(&o) || is_loopback(&o)
        });
        if !allowed {
            return forbidden(
                StatusCode::FORBIDDEN,
                "requests from this Origin may not use the MCP server: connect from a program (no Origin) or from the help center's own site",
            );
        }
    }
    let key = client
        .addr
        .map(|a| a.to_string())
        .unwrap_or_else(|| "unknown".into());
    if !guard.limit.allow(&key) {
        return super::events::too_many("MCP requests");
    }
    next.run(request).await
}

/// The `/mcp` route, with its guard.
pub fn routes(state: &Arc<AppState>) -> Router<Arc<AppState>> {
    let origins = state
        .config
        .base_url
        .iter()
        .chain(&state.config.cors_origins)
        .filter_map(|u| super::security::origin_of(u))
        .collect();
    let guard_state = Arc::new(Guard {
        state: state.clone(),
        limit: RateLimiter::new(120, 4.0),
        origins,
    });
    let for_service = state.clone();
    // Stateless: each POST is answered on its own (JSON), nothing is kept between requests,
    // so replicas behind a load balancer need no shared session store. `Host` and `Origin`
    // are checked by the guard (the SDK's own host list only knows loopback names).
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_max_request_body_bytes(MAX_BODY)
        .disable_allowed_hosts()
        .disable_allowed_origins();
    let service = StreamableHttpService::new(
        move || Ok(Kb::new(for_service.clone())),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    Router::new()
        .route_service(PATH, service)
        .layer(axum::middleware::from_fn_with_state(guard_state, guard))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_become_plain_text() {
        assert_eq!(
            plain_text(
                "Reset <mark>your</mark> password &amp; sign in &lt;now&gt; &#39;ok&#39; & more"
            ),
            "Reset your password & sign in <now> 'ok' & more"
        );
        assert_eq!(plain_text("broken <mark"), "broken ");
    }

    #[test]
    fn loopback_origins() {
        assert!(is_loopback("http://localhost:6274"));
        assert!(is_loopback("http://127.0.0.1:3000"));
        assert!(is_loopback("http://[::1]:8080"));
        assert!(!is_loopback("https://evil.example"));
        assert!(!is_loopback("http://localhost.evil.example"));
    }
}
