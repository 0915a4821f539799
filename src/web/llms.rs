//! The help center for language models: `/llms.txt` (an index of the languages),
//! `/{lang}/llms.txt` (the llmstxt.org convention: H1 site name, blockquote summary, one H2
//! per category listing Markdown copies), `/{lang}/llms-full.txt` (every published article
//! of a language in Markdown, up to [`FULL_CAP`]) and the Markdown copy of every published
//! article at its address plus `.md`.
//!
//! A copy's front matter keeps only public keys (never `owner`, `reply`, `queries`, review
//! dates) and its relative links are made absolute. Drafts never appear, even with
//! `--drafts` (as in the sitemap). Absolute links follow the sitemap's rule: built on
//! `--base-url`, or on the request's `Host` and then never cached ([`SiteBase::caching`]).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pulldown_cmark::{Event, Parser, Tag};

use super::client::Client;
use super::layout::{SiteBase, site_base};
use super::{AppState, Ready};
use crate::articles::{self, Article};
use crate::index::{Catalog, Entry};

/// The most `/{lang}/llms-full.txt` holds, in bytes. Articles that would pass it are left
/// out whole (the file says how many, and where their copies are): a model's context is
/// finite, and the per-article copies stay complete.
pub const FULL_CAP: usize = 2 * 1024 * 1024;

/// Keys of a copy's front matter: what a reader may see. Everything else (`owner`, `reply`,
/// `queries`, `review_every`, unknown keys) stays private.
const PUBLIC_KEYS: &[&str] = &[
    "title",
    "description",
    "lang",
    "category",
    "tags",
    "updated",
];

/// The suffix of an article's Markdown copy.
pub const MD_SUFFIX: &str = ".md";

/// The published article (never a draft) at `url`, an article address plus [`MD_SUFFIX`].
pub fn copy_entry<'a>(catalog: &'a Catalog, url: &str) -> Option<&'a Entry> {
    let page = url.strip_suffix(MD_SUFFIX)?;
    let decoded = percent_encoding::percent_decode_str(page)
        .decode_utf8()
        .ok()?;
    catalog
        .by_url(page)
        .or_else(|| catalog.by_url(&decoded))
        .filter(|e| !e.draft)
}

/// Reads and parses the article at `entry` from disk; `None` when it was deleted or broke
/// since it was indexed.
pub async fn load(state: &AppState, entry: &Entry) -> Option<Article> {
    let dir = state.config.articles.clone();
    let path = entry.path.clone();
    let limits = state.config.limits;
    tokio::task::spawn_blocking(move || {
        let shown = articles::shown_path(&dir, &path);
        let bytes = articles::read(&dir, &path, &limits).ok()?;
        articles::parse(&path, &shown, &bytes).ok()
    })
    .await
    .ok()
    .flatten()
}

/// The Markdown copy of `article`: public front matter (with its absolute `url`), a title
/// heading when the body has none, and the body with relative links made absolute on `base`.
pub fn markdown(catalog: &Catalog, article: &Article, base: &str) -> String {
    let mut out = String::from("---\n");
    let url = format!("{base}{}", article.url);
    // JSON strings and arrays are YAML: no escaping rules of our own.
    let quoted = |s: &str| serde_json::Value::from(s).to_string();
    for key in PUBLIC_KEYS {
        let value = match *key {
            "title" => Some(quoted(&article.title)),
            "description" => Some(&article.description)
                .filter(|d| !d.is_empty())
                .map(|d| quoted(d)),
            "lang" => Some(quoted(&article.lang)),
            "category" => article.category.as_deref().map(quoted),
            "tags" => (!article.tags.is_empty())
                .then(|| serde_json::Value::from(article.tags.clone()).to_string()),
            "updated" => article.updated.as_deref().map(quoted),
            _ => None,
        };
        if let Some(v) = value {
            out.push_str(&format!("{key}: {v}\n"));
        }
    }
    out.push_str(&format!("url: {}\n---\n\n", quoted(&url)));
    let body = absolute_links(catalog, &article.path, &article.body, base);
    if !body.trim_start().starts_with("# ") {
        out.push_str(&format!("# {}\n\n", article.title));
    }
    out.push_str(body.trim_start());
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// `body` with the targets of its links and images that lead inside the help center made
/// absolute: relative links to articles become their addresses, other relative files the
/// address they are served at, site paths get `base`.
pub fn absolute_links(catalog: &Catalog, path: &str, body: &str, base: &str) -> String {
    let absolute = |target: &str| -> Option<String> {
        if let Some(site) = super::article::resolve_link(catalog, path, target) {
            return Some(format!("{base}{site}"));
        }
        (target.starts_with('/') && !target.starts_with("//")).then(|| format!("{base}{target}"))
    };
    // (start, end, replacement) of each target in the source, in order.
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut find = |range: std::ops::Range<usize>, after: &str, dest: &str| {
        let text = &body[range.clone()];
        let Some(at) = text.rfind(after) else { return };
        let mut start = range.start + at + after.len();
        start += body[start..range.end].len() - body[start..range.end].trim_start().len();
        if body[start..].starts_with('<') {
            start += 1;
        }
        if dest.is_empty() || !body[start..range.end].starts_with(dest) {
            // Escaped or encoded in the source: left as written.
            return;
        }
        if let Some(new) = absolute(dest) {
            edits.push((start, start + dest.len(), new));
        }
    };
    let parser = Parser::new_ext(body, articles::markdown::options()).into_offset_iter();
    let definitions: Vec<(std::ops::Range<usize>, String)> = parser
        .reference_definitions()
        .iter()
        .map(|(_, d)| (d.span.clone(), d.dest.to_string()))
        .collect();
    for (event, range) in parser {
        if let Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) = event {
            find(range, "](", &dest_url);
        }
    }
    for (span, dest) in definitions {
        find(span, "]:", &dest);
    }
    edits.sort_by_key(|e| e.0);
    edits.dedup_by_key(|e| e.0);
    let mut out = String::with_capacity(body.len() + edits.len() * base.len());
    let mut at = 0;
    for (start, end, new) in edits {
        if start < at {
            continue;
        }
        out.push_str(&body[at..start]);
        out.push_str(&new);
        at = end;
    }
    out.push_str(&body[at..]);
    out
}

/// A `text/markdown` answer with the sitemap's caching rule.
fn markdown_response(site: &SiteBase, body: String) -> Response {
    (
        site.caching("public, max-age=300"),
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/markdown; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

/// The Markdown copy at `url` (an article's address plus `.md`), or `None` when there is
/// no published article there.
pub async fn copy(
    state: &Arc<AppState>,
    catalog: &Catalog,
    headers: &HeaderMap,
    client: &Client,
    url: &str,
) -> Option<Response> {
    let entry = copy_entry(catalog, url)?.clone();
    let article = load(state, &entry).await?;
    let site = site_base(state, headers, client);
    Some(markdown_response(
        &site,
        markdown(catalog, &article, &site.url),
    ))
}

/// The help center's name in `lang`.
fn site_name(state: &AppState, lang: &str) -> String {
    state
        .config
        .site_name
        .clone()
        .or_else(|| {
            let ui = state.locales.best(lang);
            state.locales.text(&ui, "site.name").map(str::to_string)
        })
        .unwrap_or_else(|| "Help Center".into())
}

/// What the help center is, in `lang`: the blockquote summary of an llms.txt.
fn tagline<'a>(state: &'a AppState, lang: &str) -> &'a str {
    state
        .locales
        .text(&state.locales.best(lang), "site.tagline")
        .unwrap_or("Answers to your questions.")
}

/// The `llms.{key}` text in `lang`'s interface language (its plural form for `count`, which
/// also fills `{count}`), with `args` filled in.
fn say(
    state: &AppState,
    lang: &str,
    key: &str,
    count: Option<usize>,
    args: &[(&str, String)],
) -> String {
    let ui = state.locales.best(lang);
    let key = format!("llms.{key}");
    let text = match count {
        Some(n) => state.locales.plural(&ui, &key, n as u64),
        None => state.locales.text(&ui, &key),
    };
    let mut args = args.to_vec();
    if let Some(n) = count {
        args.push(("count", n.to_string()));
    }
    crate::i18n::fill(text.unwrap_or_default(), &args)
}

/// Published articles of `lang`, by category (articles without one last), then title.
fn published<'a>(catalog: &'a Catalog, lang: &str) -> Vec<&'a Entry> {
    let mut list: Vec<&Entry> = catalog
        .entries()
        .into_iter()
        .filter(|e| !e.draft && *e.lang == *lang)
        .collect();
    list.sort_by(|a, b| {
        (a.category.is_none(), &a.category, &a.title).cmp(&(
            b.category.is_none(),
            &b.category,
            &b.title,
        ))
    });
    list
}

/// One line of text (a description in a list item): line breaks become spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `GET /llms.txt`: the site's name, what it is, and each language's own `llms.txt` and
/// `llms-full.txt`.
pub async fn root(
    State(state): State<Arc<AppState>>,
    Ready(engine): Ready,
    client: Client,
    headers: HeaderMap,
) -> Response {
    let catalog = engine.index().catalog();
    let site = site_base(&state, &headers, &client);
    let base = &site.url;
    let ui = state.ui_for(None, &headers);
    let mut out = format!("# {}\n\n", site_name(&state, &ui));
    let tagline = tagline(&state, &ui);
    out.push_str(&format!(
        "> {tagline} {}\n\n## {}\n\n",
        say(&state, &ui, "intro", None, &[]),
        say(&state, &ui, "languages", None, &[]),
    ));
    for (lang, _) in catalog.languages(false) {
        let name = super::layout::language_name(&state, &lang);
        let line = say(
            &state,
            &ui,
            "language",
            None,
            &[
                ("language", name.clone()),
                ("lang", lang.clone()),
                ("full", format!("{base}/{lang}/llms-full.txt")),
            ],
        );
        out.push_str(&format!("- [{name}]({base}/{lang}/llms.txt): {line}\n"));
    }
    markdown_response(&site, out)
}

/// `/{lang}/llms.txt` and `/{lang}/llms-full.txt`, or `None` when `url` is neither or the
/// language has no published article.
pub async fn for_language(
    state: &Arc<AppState>,
    catalog: &Catalog,
    headers: &HeaderMap,
    client: &Client,
    url: &str,
) -> Option<Response> {
    let (lang, file) = url.trim_start_matches('/').split_once('/')?;
    let full = match file {
        "llms.txt" => false,
        "llms-full.txt" => true,
        _ => return None,
    };
    let list = published(catalog, lang);
    if list.is_empty() {
        return None;
    }
    let site = site_base(state, headers, client);
    let base = &site.url;
    let tagline = tagline(state, lang);
    let language = super::layout::language_name(state, lang);
    let mut out = format!(
        "# {}\n\n> {tagline} {}\n\n",
        site_name(state, lang),
        say(
            state,
            lang,
            "summary",
            Some(list.len()),
            &[("language", language)]
        )
    );
    if !full {
        let other = state
            .locales
            .text(&state.locales.best(lang), "home.uncategorized")
            .unwrap_or_default()
            .to_string();
        let mut category: Option<Option<&str>> = None;
        for e in &list {
            if category != Some(e.category.as_deref()) {
                category = Some(e.category.as_deref());
                out.push_str(&format!(
                    "{}## {}\n\n",
                    if out.ends_with("\n\n") { "" } else { "\n" },
                    e.category.as_deref().unwrap_or(&other)
                ));
            }
            out.push_str(&format!(
                "- [{}]({base}{}{MD_SUFFIX})",
                one_line(&e.title),
                e.url
            ));
            if let Some(d) = e.description.as_deref().filter(|d| !d.trim().is_empty()) {
                out.push_str(&format!(": {}", one_line(d)));
            }
            out.push('\n');
        }
        return Some(markdown_response(&site, out));
    }
    let kib = || ("kib", (FULL_CAP / 1024).to_string());
    out.push_str(&say(state, lang, "cap", None, &[kib()]));
    out.push_str("\n\n");
    let mut left_out: Vec<&Entry> = Vec::new();
    for e in &list {
        if !left_out.is_empty() {
            // The file is a prefix of the list: once one is left out, so are the rest.
            left_out.push(e);
            continue;
        }
        let Some(article) = load(state, e).await else {
            continue;
        };
        if !append_within(&mut out, &markdown(catalog, &article, base), FULL_CAP) {
            left_out.push(e);
        }
    }
    if !left_out.is_empty() {
        out.push_str(&format!(
            "## {}\n\n{}\n\n",
            say(state, lang, "left_out", None, &[]),
            say(
                state,
                lang,
                "left_out_count",
                Some(left_out.len()),
                &[kib()]
            ),
        ));
        for e in left_out {
            out.push_str(&format!(
                "- [{}]({base}{}{MD_SUFFIX})\n",
                one_line(&e.title),
                e.url
            ));
        }
    }
    Some(markdown_response(&site, out))
}

/// Appends `copy` (and a blank line) to `out` if the whole stays within `cap` bytes;
/// whether it did.
fn append_within(out: &mut String, copy: &str, cap: usize) -> bool {
    if out.len() + copy.len() + 1 > cap {
        return false;
    }
    out.push_str(copy);
    out.push('\n');
    true
}

/// What the fallback route serves for language models, if `url` is theirs: a Markdown
/// copy or a language's llms files. A miss is a 404 in Markdown's own type.
pub async fn serve(
    state: &Arc<AppState>,
    catalog: &Catalog,
    headers: &HeaderMap,
    client: &Client,
    url: &str,
) -> Option<Response> {
    if url.ends_with(MD_SUFFIX) {
        if let Some(r) = copy(state, catalog, headers, client, url).await {
            return Some(r);
        }
        return None;
    }
    if url.ends_with("/llms.txt") || url.ends_with("/llms-full.txt") {
        return Some(
            for_language(state, catalog, headers, client, url)
                .await
                .unwrap_or_else(|| {
                    (
                        StatusCode::NOT_FOUND,
                        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                        "no published articles in this language\n",
                    )
                        .into_response()
                }),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_file_takes_whole_articles_up_to_its_cap() {
        let mut out = String::from("# Help\n\n");
        assert!(append_within(&mut out, "first", 20));
        assert_eq!(out, "# Help\n\nfirst\n");
        assert!(
            !append_within(&mut out, "second one", 20),
            "never cut in the middle"
        );
        assert_eq!(out, "# Help\n\nfirst\n");
        assert!(append_within(&mut out, "2nd", 20));
        assert_eq!(out, "# Help\n\nfirst\n2nd\n");
    }
}
