//! The article page, and "Was this article helpful?" without JavaScript.
//!
//! The page shows the rendered article (its relative links turned into the help center's
//! addresses), a table of contents, the category breadcrumb, when it was last updated (in
//! the reader's language), how many readers found it helpful, the same article in other
//! languages, related articles, the feedback form, the contact link and "Edit this page"
//! (with `--edit-url`). Each view is recorded, with the search it came from
//! (`?s=ID&r=RANK`).
//!
//! An article whose file a writer broke is shown as the index last took it (its last good
//! version); the writers' preview (`kb serve --drafts`) says what is wrong, as
//! `path:line: message`, above it. Readers of a public help center never see that.
//!
//! A vote carries an id the page makes up (`vote_id`): "No" is recorded the moment it is
//! clicked, and the reason and comment sent afterwards complete that vote rather than add
//! one.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use serde::Serialize;

use super::events::{self, VoteInput};
use super::layout::{Listed, category_url, language_name, page_base};
use super::visitor::Tracking;
use super::{AppState, Ready, i18n};
use crate::articles::{self, check};
use crate::error::Problem;
use crate::index::{Catalog, Entry};
use crate::metrics::{self, Click, Event, View};
use crate::search::{Engine, SearchParams};

/// The search a reader came from, from a result link's `?s=SEARCH_ID&r=RANK`. Result links
/// carry it in the article's own address (the page declares its canonical address without
/// it): clicks are recorded without JavaScript and without a redirect hop.
fn came_from(uri: &Uri) -> Option<(String, Option<u32>)> {
    let query = uri.query()?;
    let mut search = None;
    let mut rank = None;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match &*k {
            "s" if metrics::is_id(&v) => search = Some(v.into_owned()),
            "r" => rank = v.parse::<u32>().ok().filter(|r| (1..=10_000).contains(r)),
            _ => {}
        }
    }
    search.map(|s| (s, rank))
}

/// Where a link or image of the article at `path` leads on the site: relative links to
/// articles become their addresses, relative files are served from beside the articles;
/// `None` keeps the target as written (other sites, site addresses, anchors).
pub(super) fn resolve_link(catalog: &Catalog, path: &str, target: &str) -> Option<String> {
    if target.is_empty()
        || target.starts_with('#')
        || target.starts_with('/')
        || target.starts_with("//")
        || target.contains(':')
    {
        return None;
    }
    let (rest, fragment) = match target.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (target, None),
    };
    let decoded = percent_encoding::percent_decode_str(rest)
        .decode_utf8()
        .ok()?;
    let rel = check::resolve(check::folder(path), &decoded)?;
    let base = match catalog.get(&rel) {
        Some(e) => e.url.to_string(),
        None if rel.ends_with(".md") => return None,
        None => format!("/{rel}"),
    };
    Some(match fragment {
        Some(f) => format!("{base}#{f}"),
        None => base,
    })
}

#[derive(Serialize)]
struct Translation {
    lang: String,
    lang_name: String,
    title: String,
    url: String,
}

/// Votes an article needs before its page says how many readers found it helpful.
const SHOW_HELPFUL_FROM: u64 = 5;

/// An article as its page shows it.
struct Loaded {
    article: articles::Article,
    /// What is wrong with its file now, when the page shows the last good version.
    problem: Option<Problem>,
}

/// Reads the article at `path` from its file, else (the file is broken now) the version the
/// index keeps; `None` when the file is gone or may not be read (a link leading outside the
/// folder, too large): the index catches up on its next sync.
async fn load(state: &AppState, engine: &Engine, path: &str) -> Option<Loaded> {
    let dir = state.config.articles.clone();
    let path = path.to_string();
    let limits = state.config.limits;
    let engine = engine.clone();
    tokio::task::spawn_blocking(move || {
        let shown = articles::shown_path(&dir, &path);
        let bytes = articles::read(&dir, &path, &limits).ok()?;
        match articles::parse(&path, &shown, &bytes) {
            Ok(article) => Some(Loaded {
                article,
                problem: None,
            }),
            Err(problem) => {
                let kept = engine.index().stored_source(&path).ok().flatten()?;
                let article = articles::parse(&path, &shown, &kept).ok()?;
                Some(Loaded {
                    article,
                    problem: Some(problem),
                })
            }
        }
    })
    .await
    .ok()
    .flatten()
}

/// What the feedback form shows: the question, or (after a vote without JavaScript) thanks,
/// with the reasons while a "No" can still be completed.
#[derive(Serialize)]
struct Feedback {
    /// The id the form's votes carry.
    vote_id: String,
    /// `ask`, `why` (a "No" was recorded: ask what went wrong) or `done`.
    step: &'static str,
}

impl Feedback {
    /// From the page's query string: `?voted=no&vote=ID` after a "No", `?voted=1` when
    /// done.
    fn of(uri: &Uri) -> Feedback {
        let mut voted = None;
        let mut vote = None;
        for (k, v) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
            match &*k {
                "voted" => voted = Some(v.into_owned()),
                "vote" if metrics::is_id(&v) => vote = Some(v.into_owned()),
                _ => {}
            }
        }
        match (voted.as_deref(), vote) {
            (Some("no"), Some(id)) => Feedback {
                vote_id: id,
                step: "why",
            },
            (Some(_), _) => Feedback {
                vote_id: metrics::random_id(),
                step: "done",
            },
            (None, _) => Feedback {
                vote_id: metrics::random_id(),
                step: "ask",
            },
        }
    }
}

/// The article page.
pub async fn page(
    state: Arc<AppState>,
    engine: Engine,
    catalog: Arc<Catalog>,
    entry: Entry,
    tracking: Tracking,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let Some(Loaded { article, problem }) = load(&state, &engine, &entry.path).await else {
        return state.not_found(&catalog, &headers, Some(&entry.lang));
    };

    let tracking = tracking.for_page(&state.config.visitor_key);
    if state.may_record(&tracking) {
        let at = metrics::now();
        let from = came_from(&uri);
        if let Some((search_id, Some(position))) = &from {
            state.recorder.record(Event::Click(Click {
                at,
                visitor: tracking.visitor.clone(),
                search_id: search_id.clone(),
                path: article.path.clone(),
                position: *position,
            }));
        }
        state.recorder.record(Event::View(View {
            at,
            visitor: tracking.visitor.clone(),
            path: article.path.clone(),
            search_id: from.map(|(s, _)| s),
        }));
    }

    let updated = {
        let cached = state
            .updated
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&article.path)
            .cloned();
        match cached {
            Some(u) => u,
            None => {
                let (dir, path, fm) = (
                    state.config.articles.clone(),
                    article.path.clone(),
                    article.updated.clone(),
                );
                let u = tokio::task::spawn_blocking(move || {
                    articles::last_updated(&dir, &path, fm.as_deref())
                })
                .await
                .ok()
                .flatten();
                state
                    .updated
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(article.path.clone(), u.clone());
                u
            }
        }
    };

    let drafts = state.config.drafts;
    let related = {
        let params = SearchParams {
            lang: Some(article.lang.clone()),
            limit: 6,
            drafts,
            ..SearchParams::new(format!("{} {}", article.title, article.tags.join(" ")))
        };
        let own = article.path.clone();
        tokio::task::spawn_blocking(move || engine.search(&params))
            .await
            .ok()
            .and_then(Result::ok)
            .map(|r| {
                state
                    .monitor
                    .searched(super::monitoring::SearchKind::Related, r.took_ms);
                r.results
                    .into_iter()
                    .filter(|h| h.path != own)
                    .take(4)
                    .map(|h| Listed {
                        title: h.title,
                        url: h.url,
                        blurb: None,
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };

    let ui = state.ui_for(Some(&article.lang), &headers);
    let mut page = state.page_ctx(&catalog, &ui, Some(&article.lang), "", None);
    if state.config.watching {
        page.live_path = Some(article.path.clone());
    }
    page.contact_url = page.contact_url.map(|u| {
        format!(
            "{u}&from={}",
            form_urlencoded::byte_serialize(article.path.as_bytes()).collect::<String>()
        )
    });
    let translations: Vec<Translation> = catalog
        .translations(&article.path)
        .into_iter()
        .filter(|t| drafts || !t.draft)
        .map(|t| Translation {
            lang: t.lang.to_string(),
            lang_name: language_name(&state, &t.lang),
            title: t.title.to_string(),
            url: t.url.to_string(),
        })
        .collect();
    // The header's language links lead to the translations where there are some.
    for l in &mut page.languages {
        if let Some(t) = translations.iter().find(|t| t.lang == l.tag) {
            l.url = t.url.clone();
        }
        if l.tag == article.lang {
            l.url = article.url.clone();
        }
    }
    let base = page_base(&state);
    let alternates: Vec<serde_json::Value> = std::iter::once((&article.lang, &article.url))
        .chain(translations.iter().map(|t| (&t.lang, &t.url)))
        .map(|(l, u)| serde_json::json!({ "tag": l, "url": format!("{base}{u}") }))
        .collect();
    let toc: Vec<&articles::Heading> = article
        .headings
        .iter()
        .filter(|h| (2..=3).contains(&h.level))
        .collect();
    let html = article.html_linked(&|t| resolve_link(&catalog, &article.path, t));
    let helpful = {
        let votes = super::agent::helpfulness(&state, vec![article.path.clone()]).await;
        let tally = votes.get(&article.path).copied().unwrap_or_default();
        let total = tally.yes + tally.no;
        (total >= SHOW_HELPFUL_FROM).then(|| {
            let text = state
                .locales
                .plural(&ui, "article.helpful", total)
                .unwrap_or("{yes} / {votes}");
            i18n::fill(
                text,
                &[("yes", tally.yes.to_string()), ("votes", total.to_string())],
            )
        })
    };
    let updated_text = updated.as_deref().map(|d| state.locales.date(&ui, d));
    // What is wrong with the file, for the writers' preview only.
    let problem = problem
        .filter(|_| state.config.drafts)
        .map(|p| p.to_string());
    let edit_url = state
        .config
        .edit_url
        .as_ref()
        .map(|e| e.for_path(&article.path));
    let response = state.page(
        StatusCode::OK,
        "article.html",
        &ui,
        serde_json::json!({
            "page": page,
            "article": {
                "path": article.path,
                "url": article.url,
                "canonical": format!("{base}{}", article.url),
                "title": article.title,
                "description": article.description,
                "lang": article.lang,
                "category": article.category,
                "category_url": article.category.as_deref().map(|c| category_url(&article.lang, c)),
                "tags": article.tags,
                "updated": updated,
                "updated_text": updated_text,
                "draft": article.draft,
                "html": html,
                "helpful": helpful,
                "edit_url": edit_url,
            },
            "problem": problem,
            "toc": toc,
            "translations": translations,
            "related": related,
            "alternates": alternates,
            "feedback": Feedback::of(&uri),
        }),
    );
    (AppendHeaders(tracking.set_cookie()), response).into_response()
}

/// `POST /feedback`: the feedback form when JavaScript is off. Records the vote like
/// `/api/feedback`, then sends the reader back to the article: thanked, or, after a bare
/// "No", asked what went wrong (the answer completes the same vote, by its id).
pub async fn feedback_form(
    State(state): State<Arc<AppState>>,
    Ready(engine): Ready,
    tracking: Tracking,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let bytes = match events::read_body(body, events::MAX_BODY).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let mut input = VoteInput::default();
    for (k, v) in form_urlencoded::parse(&bytes) {
        match &*k {
            "path" => input.path = v.into_owned(),
            "helpful" => input.helpful = v == "yes" || v == "true",
            "reason" => input.reason = Some(v.into_owned()),
            "comment" => input.comment = Some(v.into_owned()),
            "vote_id" => input.vote_id = Some(v.into_owned()),
            _ => {}
        }
    }
    // A "Yes" carries no reason, whatever the form held.
    if input.helpful {
        input.reason = None;
        input.comment = None;
    }
    let catalog = engine.index().catalog();
    let Some(url) = catalog.get(&input.path).map(|e| e.url.clone()) else {
        return state.not_found(&catalog, &headers, None);
    };
    let bare_no = !input.helpful
        && input.reason.as_deref().is_none_or(|r| r.trim().is_empty())
        && input.comment.as_deref().is_none_or(|c| c.trim().is_empty());
    let vote_id = input.vote_id.clone().filter(|id| metrics::is_id(id));
    match events::record_vote(&state, &tracking, input).await {
        Ok(()) => {
            let to = match vote_id.filter(|_| bare_no) {
                Some(id) => format!("{url}?voted=no&vote={id}#feedback"),
                None => format!("{url}?voted=1#feedback"),
            };
            Redirect::to(&to).into_response()
        }
        Err(response) => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_links_lead_to_article_addresses() {
        let catalog = Catalog::default();
        assert_eq!(resolve_link(&catalog, "en/a.md", "https://x.example"), None);
        assert_eq!(resolve_link(&catalog, "en/a.md", "#part"), None);
        assert_eq!(resolve_link(&catalog, "en/a.md", "/en/b"), None);
        assert_eq!(
            resolve_link(&catalog, "en/billing/a.md", "img/card.png").as_deref(),
            Some("/en/billing/img/card.png")
        );
        assert_eq!(resolve_link(&catalog, "en/a.md", "missing.md"), None);
    }
}
