//! What keeps other sites out: the headers that tell browsers what a response may do
//! (Content-Security-Policy, `nosniff`, Referrer-Policy, framing), the refusal of cross-site
//! writes, and JSON bodies only under `application/json`.
//!
//! - Pages run only the scripts and styles served from `/static/`: no inline script, no
//!   inline style, no plug-ins, and no page may be framed by another site, except the agent
//!   panel by the help desks the operator lists (`--frame-ancestor`).
//! - Files served beside the articles (an SVG, an HTML page …) are sandboxed: a script in
//!   them never runs in the help center's origin.
//! - A write (`POST` …) from a browser on another site is refused with 403 unless that site is
//!   the configured `--base-url` or a `--cors-origin` (tower-http's `CsrfLayer`, which reads
//!   `Sec-Fetch-Site` and `Origin`).
//! - A JSON route refuses a body sent as anything but `application/json` with 415: a form
//!   or `text/plain` body is what a cross-site page can send without asking first.

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use tower_http::csrf::{CsrfLayer, ProtectionError};
use tower_http::set_header::SetResponseHeaderLayer;

use super::ApiError;

/// The policy of every page but the agent panel's framing: scripts, styles and fonts from the
/// site only; images also from `data:` and other HTTPS sites (articles may show them);
/// requests to the site only.
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: https:; media-src 'self' https:; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'";

/// The policy of a file beside the articles: shown (an image, a video), never run.
pub const FILE_POLICY: &str =
    "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'";

/// Who may frame the agent panel: CSP source expressions (`https://x.zendesk.com`,
/// `https://*.freshdesk.com`, `'self'`).
#[derive(Debug, Clone, Default)]
pub struct FrameAncestors(Vec<String>);

impl FrameAncestors {
    /// Checks each source: an origin (`https://host[:port]`, `*.` allowed at the front of the
    /// host) or `'self'`.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<FrameAncestors, String> {
        let mut sources = Vec::new();
        for item in items {
            let s = item.as_ref().trim().trim_end_matches('/');
            if s.is_empty() {
                continue;
            }
            let ok = s == "'self'"
                || s.split_once("://").is_some_and(|(scheme, rest)| {
                    matches!(scheme, "https" | "http")
                        && !rest.is_empty()
                        && rest
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || ".-:*".contains(c))
                        && !rest[1..].contains('*')
                });
            if !ok {
                return Err(format!(
                    "`--frame-ancestor {s}` must be an origin such as https://example.zendesk.com (or https://*.zendesk.com, or 'self')"
                ));
            }
            sources.push(s.to_string());
        }
        Ok(FrameAncestors(sources))
    }

    fn directive(&self) -> String {
        if self.0.is_empty() {
            "frame-ancestors 'none'".to_string()
        } else {
            format!("frame-ancestors {}", self.0.join(" "))
        }
    }
}

/// The policy of the pages.
pub fn page_policy() -> HeaderValue {
    HeaderValue::from_str(&format!("{PAGE_POLICY}; frame-ancestors 'none'"))
        .expect("a constant policy")
}

/// The policy of the agent panel: the pages', framed by the listed help desks.
pub fn agent_policy(frame: &FrameAncestors) -> HeaderValue {
    HeaderValue::from_str(&format!("{PAGE_POLICY}; {}", frame.directive()))
        .unwrap_or_else(|_| page_policy())
}

/// The policy of a self-contained HTML document (the report): no script at all, its own
/// `<style>` elements allowed by their hashes, images from the site.
pub fn document_policy(html: &str) -> HeaderValue {
    let hashes: String = style_elements(html)
        .map(|css| {
            format!(
                " 'sha256-{}'",
                STANDARD.encode(Sha256::digest(css.as_bytes()))
            )
        })
        .collect();
    HeaderValue::from_str(&format!(
        "default-src 'none'; style-src{}; img-src 'self' data:; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'",
        if hashes.is_empty() {
            " 'none'"
        } else {
            &hashes
        }
    ))
    .unwrap_or_else(|_| page_policy())
}

/// The text of each `<style>` element of a document kb rendered (its templates escape `<`
/// in everything they insert, so only the template's own elements are found).
fn style_elements(html: &str) -> impl Iterator<Item = &str> {
    html.split("<style")
        .skip(1)
        .filter_map(|rest| rest.split_once('>').map(|(_, body)| body))
        .filter_map(|body| body.split_once("</style>").map(|(css, _)| css))
}

/// See [`header_layers`].
pub type HeaderLayers = (
    SetResponseHeaderLayer<fn(&Response) -> Option<HeaderValue>>,
    SetResponseHeaderLayer<HeaderValue>,
    SetResponseHeaderLayer<HeaderValue>,
    SetResponseHeaderLayer<HeaderValue>,
);

/// The header layers every response passes through (outermost first): `nosniff`, the
/// Referrer-Policy and the pages' policy unless the handler set its own, and
/// `X-Frame-Options: DENY` wherever the policy forbids framing (for older browsers).
pub fn header_layers() -> HeaderLayers {
    fn deny_framing(r: &Response) -> Option<HeaderValue> {
        let policy = r.headers().get(header::CONTENT_SECURITY_POLICY)?;
        let forbids = policy
            .to_str()
            .is_ok_and(|p| p.contains("frame-ancestors 'none'") || p.starts_with("sandbox"));
        forbids.then(|| HeaderValue::from_static("DENY"))
    }
    (
        SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            deny_framing as fn(&Response) -> Option<HeaderValue>,
        ),
        SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ),
        SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, page_policy()),
    )
}

/// The origin (`scheme://host[:port]`, as browsers send it) of a URL such as `--base-url`.
pub fn origin_of(url: &str) -> Option<String> {
    let uri: axum::http::Uri = url.trim().parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let authority = uri.authority()?;
    if !matches!(scheme.as_str(), "http" | "https") || authority.as_str().contains('@') {
        return None;
    }
    let host = authority.host().to_ascii_lowercase();
    let default_port = if scheme == "https" { 443 } else { 80 };
    Some(match authority.port_u16().filter(|&p| p != default_port) {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

/// Refuses cross-site writes (403, JSON) unless they come from one of `trusted` (URLs whose
/// origins are trusted: `--base-url`, the `--cors-origin`s).
pub fn cross_site_guard(
    trusted: &[String],
) -> CsrfLayer<impl Fn(ProtectionError) -> Response + Clone + use<>> {
    let mut layer = CsrfLayer::new();
    for url in trusted {
        if let Some(origin) = origin_of(url) {
            layer = match layer.clone().add_trusted_origin(&origin) {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!("{url} is not an origin browsers send: {e}");
                    layer
                }
            };
        }
    }
    layer.with_rejection_response(|_: ProtectionError| {
        ApiError {
            status: StatusCode::FORBIDDEN,
            message:
                "a page on another site may not send this: write from the help center's own pages"
                    .into(),
        }
        .into_response()
    })
}

/// The largest body read whole before the checks below (the largest any route takes).
pub const READ_AHEAD: usize = 128 * 1024;

/// Middleware: reads a write's body whole (up to [`READ_AHEAD`]) before anything may refuse
/// it. A refusal sent while the client is still sending makes the server close with unread
/// bytes, which resets the connection: the client would lose the answer (a browser shows
/// "connection reset" instead of the 403). Larger or unsized bodies stream on.
pub async fn read_ahead(request: Request, next: Next) -> Response {
    let small = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > 0 && n <= READ_AHEAD);
    if !small {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(
        super::BODY_TIMEOUT,
        super::events::read_body(body, READ_AHEAD),
    );
    match read.await {
        Ok(Ok(bytes)) => next.run(Request::from_parts(parts, bytes.into())).await,
        Ok(Err(e)) => e.into_response(),
        Err(_) => ApiError::too_slow().into_response(),
    }
}

/// Middleware of the JSON routes: a body must be declared `application/json`.
pub async fn json_only(request: Request, next: Next) -> Response {
    let writes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if writes && !is_json(request.headers().get(header::CONTENT_TYPE)) {
        return ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            message: "send the body as JSON with `Content-Type: application/json`".into(),
        }
        .into_response();
    }
    next.run(request).await
}

fn is_json(content_type: Option<&HeaderValue>) -> bool {
    content_type
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_json_is_json() {
        let json = |s: &'static str| is_json(Some(&HeaderValue::from_static(s)));
        assert!(json("application/json"));
        assert!(json("Application/JSON; charset=utf-8"));
        assert!(!json("text/plain"));
        assert!(!json("application/x-www-form-urlencoded"));
        assert!(!json("multipart/form-data; boundary=x"));
        assert!(!json("application/jsonp"));
        assert!(!is_json(None));
    }

    #[test]
    fn origins_are_written_as_browsers_send_them() {
        assert_eq!(
            origin_of("https://Help.Example.com/").as_deref(),
            Some("https://help.example.com")
        );
        assert_eq!(
            origin_of("https://help.example.com:443/kb").as_deref(),
            Some("https://help.example.com")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8080").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(origin_of("help.example.com"), None);
        assert_eq!(origin_of("ftp://x.example"), None);
    }

    #[test]
    fn frame_ancestors_are_origins() {
        let f = FrameAncestors::parse(&[
            "https://acme.zendesk.com/",
            "https://*.freshdesk.com",
            "'self'",
        ])
        .unwrap();
        let policy = agent_policy(&f);
        let policy = policy.to_str().unwrap();
        assert!(
            policy.ends_with(
                "frame-ancestors https://acme.zendesk.com https://*.freshdesk.com 'self'"
            ),
            "{policy}"
        );
        for bad in [
            "acme.zendesk.com",
            "https://x.com; script-src *",
            "https://x.com 'unsafe-inline'",
            "javascript://x",
            "https://a.*.com",
        ] {
            assert!(FrameAncestors::parse(&[bad]).is_err(), "{bad}");
        }
        assert!(
            agent_policy(&FrameAncestors::default())
                .to_str()
                .unwrap()
                .ends_with("frame-ancestors 'none'")
        );
    }

    #[test]
    fn a_documents_own_styles_are_allowed_by_hash() {
        let css = "\n  body { margin: 0 }\n";
        let html = format!("<head><style>{css}</style></head><body>&lt;style&gt;x</body>");
        let policy = document_policy(&html);
        let expected = STANDARD.encode(Sha256::digest(css.as_bytes()));
        let policy = policy.to_str().unwrap();
        assert!(
            policy.contains(&format!("style-src 'sha256-{expected}';")),
            "{policy}"
        );
        assert!(policy.starts_with("default-src 'none'"), "{policy}");
        assert!(
            document_policy("<p>no style</p>")
                .to_str()
                .unwrap()
                .contains("style-src 'none'")
        );
    }
}
