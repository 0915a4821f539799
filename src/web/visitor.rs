//! Who is asking: the `kb_visitor` cookie, Do Not Track, and crawlers.
//!
//! - A visitor is a random id that the server issues and signs (HMAC-SHA256 with the
//!   [`VisitorKey`]) in the `kb_visitor` cookie (HttpOnly, SameSite=Lax): `ID.SIGNATURE`. A
//!   cookie whose signature does not check out (made up, forged, or from before ids were
//!   signed) counts as no cookie. Only the id is stored with events; nothing else about a
//!   person is: no IP address, no user agent.
//! - Ids are issued only with pages ([`Tracking::for_page`]): a request that writes (a vote,
//!   an event, an API search) never creates an identity, so sending many of them without a
//!   cookie does not make many people. Without a valid id its events carry none and it is
//!   rate-limited by client address.
//! - A request with `DNT: 1` or `Sec-GPC: 1` is served and counted, but not tied to a visitor:
//!   no cookie is set and its events carry no visitor id.
//! - A well-known crawler is served and not counted at all.

use std::path::Path;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::AppState;
use super::client::Client;
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

/// The secret that signs visitor ids. Several replicas behind one address must share it,
/// or each would take the others' visitors for forgeries.
#[derive(Clone)]
pub struct VisitorKey(Vec<u8>);

/// The shortest key accepted, in bytes.
pub const MIN_KEY: usize = 32;
/// The key's file in the data folder.
pub const KEY_FILE: &str = "visitor.key";

impl std::fmt::Debug for VisitorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VisitorKey(…)")
    }
}

impl Default for VisitorKey {
    /// A fresh random key (ids it signs are good until the process ends).
    fn default() -> Self {
        VisitorKey(rand::random::<[u8; 32]>().to_vec())
    }
}

/// Why a visitor key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the visitor key {0} is shorter than {MIN_KEY} characters: use `openssl rand -hex 32`")]
    TooShort(String),
    #[error("cannot read the visitor key {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot create the visitor key {path}: {source}")]
    Create {
        path: String,
        source: std::io::Error,
    },
}

impl VisitorKey {
    /// A key given as text (`KB_VISITOR_KEY`, or a key file's content, surrounding white space
    /// ignored); `what` names it in the error.
    pub fn from_text(text: &str, what: &str) -> Result<VisitorKey, KeyError> {
        let text = text.trim();
        if text.len() < MIN_KEY {
            return Err(KeyError::TooShort(what.to_string()));
        }
        Ok(VisitorKey(text.as_bytes().to_vec()))
    }

    /// The key in `file`.
    pub fn read(file: &Path) -> Result<VisitorKey, KeyError> {
        let text = std::fs::read_to_string(file).map_err(|source| KeyError::Read {
            path: file.display().to_string(),
            source,
        })?;
        VisitorKey::from_text(&text, &file.display().to_string())
    }

    /// A new random key, as text (64 hex digits): what a key file or a shared setting holds.
    pub fn new_text() -> String {
        rand::random::<[u8; 32]>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The key kept in the data folder, made (random, readable by the owner only) the first
    /// time. Two servers starting together on one folder end up with the same key.
    pub fn in_data(data: &Path) -> Result<VisitorKey, KeyError> {
        let file = data.join(KEY_FILE);
        if file.exists() {
            return VisitorKey::read(&file);
        }
        let create = |source| KeyError::Create {
            path: file.display().to_string(),
            source,
        };
        std::fs::create_dir_all(data).map_err(create)?;
        let hex = VisitorKey::new_text();
        // Written whole to a private name, then linked into place: a reader never sees half
        // a key, and if another server was first, its key wins.
        let temp = data.join(format!(".{KEY_FILE}.{}", std::process::id()));
        let written = (|| {
            use std::io::Write;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut f = options.open(&temp)?;
            f.write_all(format!("{hex}\n").as_bytes())?;
            f.sync_all()?;
            match std::fs::hard_link(&temp, &file) {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
                _ => {}
            }
            // The link is a change to the folder: without syncing it, a power cut could forget
            // the key and the next start would make another, voiding every reader's cookie.
            #[cfg(unix)]
            std::fs::File::open(data)?.sync_all()?;
            Ok(())
        })();
        let _ = std::fs::remove_file(&temp);
        written.map_err(create)?;
        VisitorKey::read(&file)
    }

    fn mac(&self, id: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key");
        mac.update(b"kb_visitor:");
        mac.update(id.as_bytes());
        mac
    }

    /// The cookie value for an id: `ID.SIGNATURE` (the first 128 bits of the HMAC, base64url).
    pub fn sign(&self, id: &str) -> String {
        let tag = self.mac(id).finalize().into_bytes();
        format!("{id}.{}", URL_SAFE_NO_PAD.encode(&tag[..SIGNATURE]))
    }

    /// The id of a cookie value this key signed, else `None`.
    pub fn verify(&self, value: &str) -> Option<String> {
        let (id, signature) = value.split_once('.')?;
        if !metrics::is_id(id) {
            return None;
        }
        let tag = URL_SAFE_NO_PAD.decode(signature).ok()?;
        if tag.len() != SIGNATURE {
            return None;
        }
        self.mac(id)
            .verify_truncated_left(&tag)
            .ok()
            .map(|()| id.to_string())
    }
}

/// Bytes of the HMAC kept in the cookie: 128 bits cannot be guessed.
const SIGNATURE: usize = 16;

/// How a request is tracked.
#[derive(Debug, Clone)]
pub struct Tracking {
    /// Whether the request is counted at all (not a crawler).
    pub counted: bool,
    /// The visitor id its events carry: from a valid cookie, or issued with this page; `None`
    /// for DNT/GPC requests, crawlers and requests without a valid cookie.
    pub visitor: Option<String>,
    /// Whether the reader asked not to be tracked (then no id is issued).
    opted_out: bool,
    /// The cookie value to set, when this page issued an id.
    new_cookie: Option<String>,
    secure: bool,
    /// The client's rate-limit key (its address; memory only).
    pub client: String,
}

fn header_is(headers: &HeaderMap, name: &str, value: &str) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == value)
}

impl Tracking {
    /// Decides from the request's headers, the key that signs ids and the client (for rate
    /// limiting).
    pub fn of(headers: &HeaderMap, key: &VisitorKey, client: &Client, secure: bool) -> Tracking {
        let ua = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let counted = !is_crawler(ua);
        let opted_out = header_is(headers, "dnt", "1") || header_is(headers, "sec-gpc", "1");
        let visitor = CookieJar::from_headers(headers)
            .get(COOKIE)
            .and_then(|c| key.verify(c.value()))
            .filter(|_| counted && !opted_out);
        Tracking {
            counted,
            visitor,
            opted_out,
            new_cookie: None,
            secure: secure || client.https,
            client: client.key(),
        }
    }

    /// For a page: a counted reader without a valid id gets one, set as a cookie with the
    /// page, and the page's own events carry it.
    pub fn for_page(mut self, key: &VisitorKey) -> Tracking {
        if self.counted && !self.opted_out && self.visitor.is_none() {
            let id = metrics::random_id();
            self.new_cookie = Some(key.sign(&id));
            self.visitor = Some(id);
        }
        self
    }

    /// The key of this request's per-visitor rate-limit bucket: its visitor, else (no valid
    /// id) its client address.
    pub fn rate_key(&self) -> String {
        match &self.visitor {
            Some(v) => format!("v:{v}"),
            None => format!("a:{}", self.client),
        }
    }

    /// The `Set-Cookie` header for a new visitor, if this page issued an id.
    pub fn set_cookie(&self) -> Option<(HeaderName, HeaderValue)> {
        let value = self.new_cookie.as_ref()?;
        let cookie = Cookie::build((COOKIE, value.clone()))
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
        let Ok(client) = Client::from_request_parts(parts, state).await;
        let secure = state
            .config
            .base_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"));
        Ok(Tracking::of(
            &parts.headers,
            &state.config.visitor_key,
            &client,
            secure,
        ))
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

    const NOBODY: Client = Client {
        addr: None,
        https: false,
    };

    fn track(key: &VisitorKey, pairs: &[(&str, &str)]) -> Tracking {
        Tracking::of(&headers(pairs), key, &NOBODY, false)
    }

    #[test]
    fn a_page_issues_a_signed_id_and_the_reader_keeps_it() {
        let key = VisitorKey::default();
        let t = track(&key, &[("user-agent", "Mozilla/5.0")]).for_page(&key);
        let (_, cookie) = t.set_cookie().unwrap();
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.starts_with("kb_visitor="), "{cookie}");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        let value = cookie["kb_visitor=".len()..].split(';').next().unwrap();
        let id = t.visitor.clone().unwrap();
        assert_eq!(value, key.sign(&id));
        let again = track(&key, &[("cookie", &format!("kb_visitor={value}"))]).for_page(&key);
        assert_eq!(again.visitor.as_deref(), Some(id.as_str()));
        assert!(again.set_cookie().is_none());
    }

    #[test]
    fn writes_never_issue_an_id() {
        let key = VisitorKey::default();
        let t = track(&key, &[("user-agent", "Mozilla/5.0")]);
        assert_eq!(t.visitor, None);
        assert!(t.set_cookie().is_none());
        assert_eq!(t.rate_key(), "a:unknown");
    }

    #[test]
    fn forged_and_unsigned_ids_count_as_none_and_are_replaced() {
        let key = VisitorKey::default();
        let other = VisitorKey::default();
        let id = "0123456789abcdef0123456789abcdef";
        let signed = key.sign(id);
        let (_, sig) = signed.split_once('.').unwrap();
        for value in [
            "<script>".to_string(),
            id.to_string(),
            other.sign(id),
            format!("{id}.{}", &sig[1..]),
            format!("fedcba9876543210fedcba9876543210.{sig}"),
            format!("{signed}x"),
        ] {
            let t = track(&key, &[("cookie", &format!("kb_visitor={value}"))]);
            assert_eq!(t.visitor, None, "{value}");
            let page = t.for_page(&key);
            assert!(page.set_cookie().is_some(), "{value}");
            assert_ne!(page.visitor.as_deref(), Some(id));
        }
        assert_eq!(key.verify(&signed).as_deref(), Some(id));
    }

    #[test]
    fn do_not_track_is_counted_without_a_visitor() {
        let key = VisitorKey::default();
        let cookie = format!(
            "kb_visitor={}",
            key.sign("0123456789abcdef0123456789abcdef")
        );
        for h in [("dnt", "1"), ("sec-gpc", "1")] {
            let t = track(&key, &[h, ("cookie", &cookie)]).for_page(&key);
            assert!(t.counted);
            assert_eq!(t.visitor, None);
            assert!(t.set_cookie().is_none());
        }
    }

    #[test]
    fn crawlers_are_not_counted() {
        let key = VisitorKey::default();
        for ua in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "facebookexternalhit/1.1",
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2)",
        ] {
            let t = track(&key, &[("user-agent", ua)]).for_page(&key);
            assert!(!t.counted, "{ua}");
            assert!(t.visitor.is_none() && t.set_cookie().is_none());
        }
        assert!(!is_crawler(
            "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36"
        ));
        assert!(!is_crawler("Mozilla/5.0 HeadlessChrome/131.0"));
    }

    #[test]
    fn the_key_is_made_once_private_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let a = VisitorKey::in_data(&data).unwrap();
        let b = VisitorKey::in_data(&data).unwrap();
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(b.verify(&a.sign(id)).as_deref(), Some(id));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(data.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let short = VisitorKey::from_text("  too short  ", "KB_VISITOR_KEY").unwrap_err();
        assert!(short.to_string().contains("KB_VISITOR_KEY"), "{short}");
        let shared = VisitorKey::from_text(&"k".repeat(40), "x").unwrap();
        assert_eq!(
            VisitorKey::from_text(&"k".repeat(40), "y")
                .unwrap()
                .verify(&shared.sign(id))
                .as_deref(),
            Some(id)
        );
    }
}
