//! Static assets: the stylesheet, the script and the icon, served from the binary (or from
//! `static/` beside the templates, file by file). No CDN, nothing fetched elsewhere.
//!
//! Pages link each asset with a hash of its content (`/static/kb.css?v=3f2a…`), so browsers
//! may keep it for a year and still get a new version the moment it changes.

use std::collections::HashMap;
use std::path::Path;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const BUILT_IN: &[(&str, &[u8])] = &[
    ("kb.css", include_bytes!("../../templates/static/kb.css")),
    ("kb.js", include_bytes!("../../templates/static/kb.js")),
    (
        "agent.js",
        include_bytes!("../../templates/static/agent.js"),
    ),
    (
        "agent.css",
        include_bytes!("../../templates/static/agent.css"),
    ),
    (
        "admin.css",
        include_bytes!("../../templates/static/admin.css"),
    ),
    (
        "favicon.svg",
        include_bytes!("../../templates/static/favicon.svg"),
    ),
];

struct Asset {
    body: Vec<u8>,
    version: String,
}

/// The assets, loaded once at start.
pub struct Assets {
    files: HashMap<String, Asset>,
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

impl Assets {
    /// The built-in assets, with files of `dir` (when given) replacing or adding to them.
    pub fn load(dir: Option<&Path>) -> Assets {
        let mut files = HashMap::new();
        let mut add = |name: String, body: Vec<u8>| {
            let version = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&body));
            files.insert(name, Asset { body, version });
        };
        for (name, body) in BUILT_IN {
            add(name.to_string(), body.to_vec());
        }
        if let Some(dir) = dir
            && let Ok(entries) = std::fs::read_dir(dir)
        {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                if name.starts_with('.') || !entry.path().is_file() {
                    continue;
                }
                match std::fs::read(entry.path()) {
                    Ok(body) => add(name, body),
                    Err(e) => tracing::warn!("static file {}: {e}", entry.path().display()),
                }
            }
        }
        Assets { files }
    }

    /// The URL of an asset, with its version.
    pub fn url(&self, name: &str) -> String {
        match self.files.get(name) {
            Some(a) => format!("/static/{name}?v={}", &a.version[..12]),
            None => format!("/static/{name}"),
        }
    }

    /// Serves `/static/{name}`: cached for a year when the request names the current
    /// version, revalidated otherwise.
    pub fn serve(&self, name: &str, version: Option<&str>) -> Response {
        let Some(asset) = self.files.get(name) else {
            return (StatusCode::NOT_FOUND, "no such file").into_response();
        };
        let cache = if version.is_some_and(|v| asset.version.starts_with(v) && !v.is_empty()) {
            "public, max-age=31536000, immutable"
        } else {
            "public, max-age=300"
        };
        (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(content_type(name)),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
                (
                    header::ETAG,
                    HeaderValue::from_str(&format!("\"{}\"", asset.version))
                        .unwrap_or(HeaderValue::from_static("\"0\"")),
                ),
            ],
            asset.body.clone(),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_content_and_files_override() {
        let a = Assets::load(None);
        let url = a.url("kb.css");
        assert!(url.starts_with("/static/kb.css?v="), "{url}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("kb.css"), "body{}").unwrap();
        let b = Assets::load(Some(dir.path()));
        assert_ne!(b.url("kb.css"), url);
        assert_eq!(b.url("kb.js"), a.url("kb.js"));
    }
}
