//! Admin routes for support leads: the content-gap report as JSON (`GET /api/report`) and as
//! a page (`/admin/report`).
//!
//! Both need `Authorization: Bearer $KB_ADMIN_TOKEN`; the page, opened in a browser, asks for
//! the token with a form instead (a browser cannot add the header to a link). Tokens are
//! compared in constant time; an address that sent too many wrong ones is locked out, and
//! then nothing it sends is even compared, the right token included. Without a configured
//! token these routes do not exist (404), so a help center never exposes its metrics by
//! accident.
//!
//! The report is worded in the reader's language: `hl=` on either route, else (the page)
//! the browser's. Requests for the same period share one build ([`Builds`]), which stops
//! when the last of them is gone (a closed tab, the request timeout).
//!
//! Once the form's token is right, the page keeps the support lead signed in for a while
//! (a cookie signed with the token itself: [`Session`]), so its own period and format
//! controls work without the form. The report never holds the token: a saved or mailed
//! page gives nothing away.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::client::Client;
use super::error::ApiError;
use super::{AppState, security};
use crate::metrics::{self, DAY, Millis};
use crate::report::{self, Cancel, Report, Words, format};

/// What a locked-out address is told.
const LOCKED_OUT: &str = "too many wrong tokens from your address: wait a minute";

/// A support lead signed in through the token form: the cookie `kb_admin=EXPIRY.SIGNATURE`
/// (HMAC-SHA256 of the expiry, keyed with the admin token: another token signs everyone
/// out), HttpOnly, `SameSite=Strict`, for `/admin` only, good for [`Session::LASTS`].
struct Session;

impl Session {
    const COOKIE: &'static str = "kb_admin";
    /// How long a sign-in lasts.
    const LASTS: Millis = 8 * metrics::HOUR;

    fn signature(token: &str, expiry: Millis) -> String {
        use base64::Engine as _;
        use hmac::{KeyInit, Mac};
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(token.as_bytes()).expect("any key");
        mac.update(format!("kb_admin:{expiry}").as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// The `Set-Cookie` value that signs a lead in from now.
    fn start(token: &str, secure: bool) -> Option<HeaderValue> {
        let expiry = metrics::now() + Self::LASTS;
        let cookie = axum_extra::extract::cookie::Cookie::build((
            Self::COOKIE,
            format!("{expiry}.{}", Self::signature(token, expiry)),
        ))
        .path("/admin")
        .http_only(true)
        .same_site(axum_extra::extract::cookie::SameSite::Strict)
        .secure(secure)
        .max_age(time::Duration::milliseconds(Self::LASTS))
        .build();
        HeaderValue::from_str(&cookie.to_string()).ok()
    }

    /// Whether the request carries a sign-in of `token` that has not expired.
    fn valid(token: &str, headers: &HeaderMap) -> bool {
        let jar = axum_extra::extract::CookieJar::from_headers(headers);
        let Some(value) = jar.get(Self::COOKIE).map(|c| c.value().to_string()) else {
            return false;
        };
        let Some((expiry, signature)) = value.split_once('.') else {
            return false;
        };
        let Ok(expiry) = expiry.parse::<Millis>() else {
            return false;
        };
        expiry > metrics::now()
            && bool::from(
                Self::signature(token, expiry)
                    .as_bytes()
                    .ct_eq(signature.as_bytes()),
            )
    }
}

/// The period a report covers unless asked otherwise.
const DEFAULT_PERIOD: &str = "30d";
/// The longest period a report may cover.
const MAX_PERIOD: Millis = 3 * 366 * DAY;

/// Why a request may not see the report.
enum Denied {
    /// No token is configured: the admin routes are off.
    Disabled,
    /// No token, or a wrong one.
    Unauthorized(&'static str),
    /// Too many wrong tokens from this address.
    Limited,
}

/// Checks a presented token against the configured one, in constant time, unless the
/// client is locked out.
fn check(state: &AppState, presented: Option<&str>, client: &Client) -> Result<(), Denied> {
    let Some(expected) = state.config.admin_token.as_deref() else {
        return Err(Denied::Disabled);
    };
    let key = client.key();
    // Locked out: refused before any comparison, so the answer says nothing about the token
    // and guessing goes no faster than the lockout lets it.
    if !state.admin_limit.has_token(&key) {
        return Err(Denied::Limited);
    }
    let Some(presented) = presented else {
        return Err(Denied::Unauthorized(
            "this needs the admin token: send `Authorization: Bearer $KB_ADMIN_TOKEN`",
        ));
    };
    if bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
        return Ok(());
    }
    state.admin_limit.allow(&key);
    Err(Denied::Unauthorized("the admin token is not right"))
}

/// The token of an `Authorization: Bearer …` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The JSON answer to a request without the right admin token (404 when no token is
/// configured, 401, or 429 for a locked-out address); `None` lets it through.
pub(super) fn refusal(state: &AppState, headers: &HeaderMap, client: &Client) -> Option<Response> {
    check(state, bearer(headers), client).err().map(denied_json)
}

fn denied_json(d: Denied) -> Response {
    match d {
        Denied::Disabled => ApiError::not_found("no such page").into_response(),
        Denied::Unauthorized(why) => {
            let mut r = ApiError {
                status: StatusCode::UNAUTHORIZED,
                message: why.into(),
            }
            .into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"kb admin\""),
            );
            r
        }
        Denied::Limited => {
            let mut r = ApiError {
                status: StatusCode::TOO_MANY_REQUESTS,
                message: LOCKED_OUT.into(),
            }
            .into_response();
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            r
        }
    }
}

/// The period asked for, in milliseconds.
fn period(since: Option<&str>) -> Result<metrics::Millis, ApiError> {
    let since = since
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(DEFAULT_PERIOD);
    match metrics::parse_period(since) {
        Some(p) if p > 0 && p <= MAX_PERIOD => Ok(p),
        _ => Err(ApiError::bad_request(format!(
            "`since` must be a period such as 7d, 30d, 12w or 1y (at most 3 years), got {since:?}"
        ))),
    }
}

/// Work in progress shared by whoever asks for the same thing meanwhile: the first request
/// for a key starts `build` on a blocking thread, later ones wait for the same result, and
/// when every one of them is gone before it is done, its [`Cancel`] flag is set and the
/// next request starts afresh.
pub struct Builds<V> {
    flights: Mutex<HashMap<Millis, Flight<V>>>,
}

/// One build and how many requests wait for it.
struct Flight<V> {
    result: Arc<tokio::sync::watch::Sender<Option<Option<V>>>>,
    cancel: Cancel,
    waiting: usize,
}

impl<V> Default for Builds<V> {
    fn default() -> Self {
        Builds {
            flights: Mutex::default(),
        }
    }
}

/// A request waiting for a build; dropping it (done, or the request abandoned) counts it
/// out.
struct Waiting<'a, V> {
    builds: &'a Builds<V>,
    key: Millis,
    result: Arc<tokio::sync::watch::Sender<Option<Option<V>>>>,
}

impl<V> Drop for Waiting<'_, V> {
    fn drop(&mut self) {
        let mut flights = self
            .builds
            .flights
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let Some(flight) = flights.get_mut(&self.key) else {
            return;
        };
        if !Arc::ptr_eq(&flight.result, &self.result) {
            return; // a later build for the same key
        }
        flight.waiting -= 1;
        let done = self.result.borrow().is_some();
        if done || flight.waiting == 0 {
            if !done {
                flight.cancel.cancel();
            }
            flights.remove(&self.key);
        }
    }
}

impl<V: Clone + Send + Sync + 'static> Builds<V> {
    /// The result of `build` for `key`, shared with every concurrent request for `key`;
    /// `None` when the build panicked.
    pub async fn run(
        &self,
        key: Millis,
        build: impl FnOnce(Cancel) -> V + Send + 'static,
    ) -> Option<V> {
        let (result, mut done) = {
            let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
            match flights.get_mut(&key) {
                Some(flight) => {
                    flight.waiting += 1;
                    (flight.result.clone(), flight.result.subscribe())
                }
                None => {
                    let (tx, rx) = tokio::sync::watch::channel(None);
                    let result = Arc::new(tx);
                    let cancel = Cancel::default();
                    flights.insert(
                        key,
                        Flight {
                            result: result.clone(),
                            cancel: cancel.clone(),
                            waiting: 1,
                        },
                    );
                    let sender = result.clone();
                    tokio::task::spawn_blocking(move || {
                        let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            build(cancel)
                        }))
                        .ok();
                        sender.send_replace(Some(built));
                    });
                    (result, rx)
                }
            }
        };
        let _waiting = Waiting {
            builds: self,
            key,
            result,
        };
        let built = done.wait_for(Option::is_some).await.ok()?.clone();
        built.flatten()
    }
}

/// The outcome of a report build, shared by the requests waiting for it.
pub type Built = Result<Arc<Report>, String>;

/// The report of the `period` up to now, built off the async threads; concurrent requests
/// for the same period share one build.
async fn build(state: &Arc<AppState>, period: Millis) -> Result<Arc<Report>, ApiError> {
    let engine = state.ready()?;
    let Some(reader) = state.metrics.clone() else {
        return Err(ApiError::unavailable("this server records no metrics"));
    };
    let articles = state.config.articles.clone();
    let built = state
        .reports
        .run(period, move |cancel| {
            report::generate(
                &*reader,
                &articles,
                &engine,
                period,
                metrics::now(),
                &cancel,
            )
            .map(Arc::new)
            .map_err(|e| e.to_string())
        })
        .await;
    match built {
        Some(Ok(report)) => Ok(report),
        Some(Err(e)) => Err(ApiError::internal(format!("the report failed: {e}"))),
        None => Err(ApiError::internal("the report build panicked")),
    }
}

/// The words for the language asked for with `hl`, else `fallback`.
fn words(state: &AppState, hl: Option<&str>, fallback: &str) -> Words {
    let lang = hl
        .filter(|h| !h.trim().is_empty())
        .and_then(crate::articles::lang::normalize_tag)
        .unwrap_or_else(|| fallback.to_string());
    Words::new(state.locales.clone(), &lang)
}

fn private(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    r
}

/// `GET /api/report[?since=30d][&hl=L]`: the report as JSON, its `why` and `action` texts in
/// language `L` (English by default).
pub async fn api(
    State(state): State<Arc<AppState>>,
    client: Client,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    if let Some(denied) = refusal(&state, &headers, &client) {
        return denied;
    }
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let result = match period(param("since")) {
        Ok(p) => build(&state, p).await,
        Err(e) => Err(e),
    };
    let words = words(&state, param("hl"), crate::i18n::DEFAULT);
    private(match result {
        Ok(report) => {
            let extras = format::Extras {
                edit_url: state.config.edit_url.clone(),
                controls: None,
            };
            axum::Json(format::json_with(&report, &words, &extras)).into_response()
        }
        Err(e) => e.into_response(),
    })
}

/// The form that asks for the token (and the period and format), in language `ui`.
fn login(
    state: &AppState,
    status: StatusCode,
    error: Option<&str>,
    since: &str,
    ui: &str,
) -> Response {
    let ctx = serde_json::json!({
        "error": error,
        "since": since,
        "hl": ui,
        "css": state.assets.url("admin.css"),
    });
    private(state.page(status, "admin_login.html", ui, ctx))
}

/// The report in a format a browser shows (HTML) or downloads (Markdown, CSV, JSON).
fn rendered(report: &Report, format: &str, words: &Words, extras: &format::Extras) -> Response {
    let (f, content_type, file) = match format {
        "md" => (
            format::Format::Markdown,
            "text/markdown; charset=utf-8",
            Some("md"),
        ),
        "csv" => (format::Format::Csv, "text/csv; charset=utf-8", Some("csv")),
        "json" => (format::Format::Json, "application/json", Some("json")),
        _ => (format::Format::Html, "text/html; charset=utf-8", None),
    };
    let mut body = Vec::new();
    if let Err(e) = format::write_with(report, f, words, extras, &mut body) {
        return ApiError::internal(e).into_response();
    }
    // The page is self-contained (saved, mailed): its own styles are allowed by their hashes.
    let policy = match f {
        format::Format::Html => security::document_policy(&String::from_utf8_lossy(&body)),
        _ => HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    };
    let mut r = (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_SECURITY_POLICY, policy),
        ],
        body,
    )
        .into_response();
    if let Some(ext) = file {
        let name = format!("attachment; filename=\"kb-report-{}.{ext}\"", report.until);
        if let Ok(v) = HeaderValue::from_str(&name) {
            r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
    }
    r
}

/// `GET /admin/report[?since=30d][&format=html|md|csv|json][&hl=L]`: the report page with an
/// `Authorization` header, else the form asking for the token; in language `L`, else the
/// browser's.
pub async fn page(
    State(state): State<Arc<AppState>>,
    client: Client,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let asked = Asked {
        since: param("since"),
        format: param("format"),
        hl: param("hl"),
    };
    // Signed in through the form a moment ago: the page's own controls.
    let token = match (bearer(&headers), state.config.admin_token.as_deref()) {
        (Some(t), _) => Some(t.to_string()),
        (None, Some(t)) if Session::valid(t, &headers) => Some(t.to_string()),
        _ => None,
    };
    // Opened in a browser, without the header: just the form, no complaint.
    page_for(&state, &headers, client, token, asked, None).await
}

/// What a request for the report page asks for.
struct Asked {
    since: Option<String>,
    format: Option<String>,
    hl: Option<String>,
}

/// `POST /admin/report` (a form: `token`, `since`, `format`, `hl`): the report, or the form
/// again with what was wrong.
pub async fn page_form(
    State(state): State<Arc<AppState>>,
    client: Client,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if body.len() > 8192 {
        return ApiError::bad_request("the form is too large").into_response();
    }
    let field = |name: &str| {
        form_urlencoded::parse(&body)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let token = field("token").filter(|t| !t.is_empty());
    let asked = Asked {
        since: field("since"),
        format: field("format"),
        hl: field("hl"),
    };
    let secure = client.https
        || state
            .config
            .base_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"));
    let presented = token.clone();
    let mut r = page_for(
        &state,
        &headers,
        client,
        token,
        asked,
        Some("enter the admin token"),
    )
    .await;
    // The right token: signed in for the page's controls.
    if r.status() == StatusCode::OK
        && let Some(token) = presented
        && let Some(cookie) = Session::start(&token, secure)
    {
        r.headers_mut().append(header::SET_COOKIE, cookie);
    }
    r
}

/// The report page (or download) for a presented token, else the form saying why not
/// (`no_token` when none was presented).
async fn page_for(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    client: Client,
    token: Option<String>,
    asked: Asked,
    no_token: Option<&str>,
) -> Response {
    let since = asked
        .since
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_PERIOD.into());
    let ui = state.ui_for(asked.hl.as_deref().filter(|h| !h.is_empty()), headers);
    let why = match check(state, token.as_deref(), &client) {
        Ok(()) => None,
        Err(Denied::Disabled) => return state.not_found(&empty_catalog(state), headers, None),
        Err(Denied::Unauthorized(_)) if token.is_none() => {
            Some((StatusCode::UNAUTHORIZED, no_token))
        }
        Err(Denied::Unauthorized(why)) => Some((StatusCode::UNAUTHORIZED, Some(why))),
        Err(Denied::Limited) => Some((StatusCode::TOO_MANY_REQUESTS, Some(LOCKED_OUT))),
    };
    if let Some((status, message)) = why {
        return login(state, status, message, &since, &ui);
    }
    match period(Some(&since)) {
        Ok(p) => match build(state, p).await {
            Ok(report) => {
                let format = asked.format.as_deref().unwrap_or("html");
                let extras = format::Extras {
                    edit_url: state.config.edit_url.clone(),
                    controls: Some(controls(state, &ui, &since, format)),
                };
                private(rendered(&report, format, &words(state, None, &ui), &extras))
            }
            Err(e) => private(e.into_response()),
        },
        Err(e) => login(
            state,
            StatusCode::BAD_REQUEST,
            Some(&e.message),
            DEFAULT_PERIOD,
            &ui,
        ),
    }
}

/// The report page's period and format form, worded in `ui`.
fn controls(state: &AppState, ui: &str, since: &str, format: &str) -> format::Controls {
    let text = |key: &str| state.locales.text(ui, key).unwrap_or(key).to_string();
    let choice = |value: &str, label: String, current: &str| format::Choice {
        value: value.to_string(),
        label,
        selected: value == current,
    };
    format::Controls {
        action: "/admin/report".into(),
        hl: ui.to_string(),
        period_label: text("admin.period"),
        periods: PERIODS
            .iter()
            .map(|(value, key)| choice(value, text(key), since))
            .collect(),
        format_label: text("admin.format"),
        formats: vec![
            choice("html", text("admin.as_page"), format),
            choice("csv", text("admin.as_csv"), format),
            choice("md", "Markdown".into(), format),
            choice("json", "JSON".into(), format),
        ],
        button: text("admin.show"),
    }
}

/// The periods the report page offers, and the texts that name them.
const PERIODS: [(&str, &str); 4] = [
    ("7d", "admin.days_7"),
    ("30d", "admin.days_30"),
    ("90d", "admin.days_90"),
    ("365d", "admin.year"),
];

fn empty_catalog(state: &AppState) -> Arc<crate::index::Catalog> {
    state
        .engine()
        .map(|e| e.index().catalog())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_from_the_header() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer  s3cret "),
        );
        assert_eq!(bearer(&h), Some("s3cret"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer s3cret"),
        );
        assert_eq!(bearer(&h), Some("s3cret"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic czNjcmV0"),
        );
        assert_eq!(bearer(&h), None);
    }

    #[test]
    fn periods_are_checked() {
        assert_eq!(period(None).unwrap(), 30 * DAY);
        assert_eq!(period(Some("7d")).unwrap(), 7 * DAY);
        assert!(period(Some("forever")).is_err());
        assert!(period(Some("0d")).is_err());
        assert!(period(Some("99y")).is_err());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_for_the_same_report_share_one_build() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let builds: Arc<Builds<usize>> = Arc::default();
        let started = Arc::new(AtomicUsize::new(0));
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let gate = Arc::new(Mutex::new(gate));
        let run = |key: Millis| {
            let (builds, started, gate) = (builds.clone(), started.clone(), gate.clone());
            tokio::spawn(async move {
                builds
                    .run(key, move |_| {
                        let n = started.fetch_add(1, Ordering::SeqCst) + 1;
                        let _ = gate.lock().unwrap().recv();
                        n
                    })
                    .await
            })
        };
        let first = run(DAY);
        let second = run(DAY);
        let other = run(7 * DAY);
        // Both builds start; the second request for a day joins the first.
        while started.load(Ordering::SeqCst) < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(started.load(Ordering::SeqCst), 2);
        release.send(()).unwrap();
        release.send(()).unwrap();
        let (a, b, c) = (
            first.await.unwrap(),
            second.await.unwrap(),
            other.await.unwrap(),
        );
        assert_eq!(a, b, "one build for both");
        assert_ne!(a, c);
        // Once done, the next request builds afresh.
        release.send(()).unwrap();
        assert_eq!(run(DAY).await.unwrap(), Some(3));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_build_nobody_waits_for_stops() {
        let builds: Builds<bool> = Builds::default();
        let (stopped, saw) = std::sync::mpsc::channel::<()>();
        let abandoned = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            builds.run(DAY, move |cancel| {
                while !cancel.is_cancelled() {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                let _ = stopped.send(());
                false
            }),
        )
        .await;
        assert!(abandoned.is_err(), "the request gave up");
        saw.recv_timeout(std::time::Duration::from_secs(5))
            .expect("the build saw it was cancelled");
        // A new request does not join the cancelled build.
        assert_eq!(builds.run(DAY, |_| true).await, Some(true));
        assert!(builds.flights.lock().unwrap().is_empty());
    }
}
