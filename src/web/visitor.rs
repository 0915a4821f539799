//! Who is asking: the `kb_visitor` cookie, Do Not Track, and crawlers.
//!
//! - A visitor is a random id in the `kb_visitor` cookie (HttpOnly, SameSite=Lax), set on the
//!   first tracked response. Nothing else about a person is stored: no IP address, no user
//!   agent.
//! - A request with `DNT: 1` or `Sec-GPC: 1` is served and counted, but not tied to a visitor:
//!   no cookie is set and its events carry no visitor id.
//! - A well-known crawler is served and not counted at all.
//!
//! The client address is used, in memory only, to rate-limit requests that carry no visitor
//! id.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use super::AppState;
use crate::metrics;

pub const COOKIE: &str = "kb_visitor";

/// Substrings of the user agents of well-known crawlers and link previewers (lower case).
const CRAWLERS: &[&str] = &[
    "googlebot",
    "bingbot",
    "bingpreview",
    "yandexbot",
    "baiduspider",
    "duckduckbot",
    "slurp",
    "applebot",
    "ahrefsbot",
    "semrushbot",
    "mj12bot",
    "dotbot",
    "petalbot",
    "bytespider",
    "amazonbot",
    "gptbot",
    "chatgpt-user",
    "oai-searchbot",
    "claudebot",
    "claude-web",
    "perplexitybot",
    "ccbot",
    "facebookexternalhit",
    "facebot",
    "twitterbot",
    "linkedinbot",
    "slackbot",
    "discordbot",
    "telegrambot",
    "whatsapp",
    "pinterestbot",
    "redditbot",
    "embedly",
    "uptimerobot",
    "pingdom",
    "statuscake",
    "crawler",
    "spider",
    "bot/",
    "bot;",
    "+http",
];

/// Whether a user agent belongs to a crawler.
pub fn is_crawler(user_agent: &str) -> bool {
    let ua = user_agent.to_ascii_lowercase();
    CRAWLERS.iter().any(|c| ua.contains(c))
}

/// How a request is tracked.
#[derive(Debug, Clone)]
pub struct Tracking {
    /// Whether the request is counted at all (not a crawler).
    pub counted: bool,
    /// The visitor id its events carry; `None` for DNT/GPC requests and crawlers.
    pub visitor: Option<String>,
    /// The id a new visitor was given, to be set as a cookie on the response.
    new_visitor: Option<String>,
    secure: bool,
    /// Key for rate limiting: the visitor, else the client address (memory only).
    pub rate_key: String,
}

fn header_is(headers: &HeaderMap, name: &str, value: &str) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == value)
}

impl Tracking {
    /// Decides from the request's headers (and the client address, for rate limiting).
    pub fn of(headers: &HeaderMap, client: Option<SocketAddr>, secure: bool) -> Tracking {
        let ua = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let counted = !is_crawler(ua);
        let opted_out = header_is(headers, "dnt", "1") || header_is(headers, "sec-gpc", "1");
        let jar = CookieJar::from_headers(headers);
        let existing = jar
            .get(COOKIE)
            .map(|c| c.value().to_string())
            .filter(|v| metrics::is_id(v));
        let (visitor, new_visitor) = if !counted || opted_out {
            (None, None)
        } else if let Some(id) = existing {
            (Some(id), None)
        } else {
            let id = metrics::random_id();
            (Some(id.clone()), Some(id))
        };
        let rate_key = visitor.clone().unwrap_or_else(|| {
            client.map_or_else(|| "unknown".to_string(), |a| a.ip().to_string())
        });
        Tracking {
            counted,
            visitor,
            new_visitor,
            secure,
            rate_key,
        }
    }

    /// The `Set-Cookie` header for a new visitor, if one was made.
    pub fn set_cookie(&self) -> Option<(HeaderName, HeaderValue)> {
        let id = self.new_visitor.as_ref()?;
        let cookie = Cookie::build((COOKIE, id.clone()))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .max_age(time::Duration::days(365))
            .build();
        HeaderValue::from_str(&cookie.to_string())
            .ok()
            .map(|v| (header::SET_COOKIE, v))
    }
}

impl FromRequestParts<Arc<AppState>> for Tracking {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let client = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        let secure = state
            .config
            .base_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"));
        Ok(Tracking::of(&parts.headers, client, secure))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn a_new_visitor_gets_a_cookie_and_keeps_it() {
        let t = Tracking::of(&headers(&[("user-agent", "Mozilla/5.0")]), None, false);
        let (_, cookie) = t.set_cookie().unwrap();
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.starts_with("kb_visitor="), "{cookie}");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        let id = t.visitor.unwrap();
        let again = Tracking::of(
            &headers(&[("cookie", &format!("kb_visitor={id}"))]),
            None,
            false,
        );
        assert_eq!(again.visitor.as_deref(), Some(id.as_str()));
        assert!(again.set_cookie().is_none());
    }

    #[test]
    fn a_forged_cookie_is_replaced() {
        let t = Tracking::of(&headers(&[("cookie", "kb_visitor=<script>")]), None, false);
        assert!(t.set_cookie().is_some());
        assert_ne!(t.visitor.as_deref(), Some("<script>"));
    }

    #[test]
    fn do_not_track_is_counted_without_a_visitor() {
        for h in [("dnt", "1"), ("sec-gpc", "1")] {
            let t = Tracking::of(
                &headers(&[h, ("cookie", "kb_visitor=0123456789abcdef0123456789abcdef")]),
                None,
                false,
            );
            assert!(t.counted);
            assert_eq!(t.visitor, None);
            assert!(t.set_cookie().is_none());
        }
    }

    #[test]
    fn crawlers_are_not_counted() {
        for ua in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "facebookexternalhit/1.1",
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2)",
        ] {
            let t = Tracking::of(&headers(&[("user-agent", ua)]), None, false);
            assert!(!t.counted, "{ua}");
            assert!(t.visitor.is_none() && t.set_cookie().is_none());
        }
        assert!(!is_crawler(
            "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36"
        ));
        assert!(!is_crawler("Mozilla/5.0 HeadlessChrome/131.0"));
    }
}
