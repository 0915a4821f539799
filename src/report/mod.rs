//! The content-gap report: which articles to write and which to update, for support leads.
//!
//! Three layers, each unaware of the next:
//! - [`facts`] asks the metrics' typed read API ([`MetricsReader`]) about a period and
//!   aggregates the answers: needs (searches grouped by their words), what readers did with
//!   each article, which searches and views a contact click followed. It never sees SQL:
//!   storage owns its queries, so the report is the same over every backend.
//! - The rules ([`build`], one function per kind of finding in [`write`] and [`update`]) turn
//!   the facts into a [`Report`] of typed findings: kinds, figures, the articles concerned
//!   and what to do as an [`Advice`] or a [`Finding`] — no sentences. `build` is a pure
//!   function, so tests feed it facts and check every rule.
//! - [`wording`] and [`format`] say it in the reader's language (the `[report]` texts of
//!   `templates/locales/<tag>.toml`, like the site's interface) as Markdown, JSON, CSV or a
//!   self-contained HTML page with charts.
//!
//! Every item says why it is there and what to do. The thresholds below keep noise out: one
//! visitor repeating a search is not demand, two votes are not a verdict. A build checks a
//! [`Cancel`] flag in its loops and stops when nobody waits for it any more.

pub mod ai;
pub mod facts;
pub mod format;
mod needs;
mod svg;
mod update;
pub mod wording;
mod write;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Serialize, Serializer};

use crate::metrics::{DAY, FlagReason, MetricsError, MetricsReader, Millis, Reason, SECOND};
use facts::{Cluster, Day, Facts, Week};

pub use wording::Words;

/// Searches a cluster needs, and distinct visitors (when visitors are known), to be demand.
const MIN_SEARCHES: u64 = 3;
const MIN_VISITORS: u64 = 2;
/// Lower bound (95 %) of the share of a cluster's searches that found or opened nothing, from
/// which it is unmet: 3 of 3 qualifies, 2 of 3 does not (a reader who got the answer from the
/// snippet opens nothing either).
const UNMET_FROM: f64 = 0.4;
/// Clusters whose closest articles are looked up.
const CLOSEST_FOR: usize = 40;
/// Votes an article needs before its helpfulness is judged.
pub const MIN_VOTES: u64 = 3;
/// Lower bound (95 %) of the share of No votes from which an article is listed as unhelpful.
pub const UNHELPFUL_FROM: f64 = 0.25;
/// "Outdated" reasons, and their share of the votes, from which an article is listed.
const OUTDATED_MIN: u64 = 3;
const OUTDATED_SHARE: f64 = 0.4;
/// Views an article needs before its contact rate is judged; the rate that stands out (lower
/// bound, 95 %), which must also be twice the help center's.
const CONTACT_MIN_VIEWS: u64 = 20;
const CONTACT_RATE: f64 = 0.1;
/// An article unchanged this long and still read is stale.
const STALE_DAYS: i64 = 365;
const STALE_MIN_VIEWS: u64 = 10;
/// Views of an article no search listed, before it is said to be found only through links:
/// fewer could be one reader's bookmark.
const UNFOUND_MIN_VIEWS: u64 = 10;
/// Clicks from one language on an article of another, to ask for a translation.
const TRANSLATION_MIN_CLICKS: u64 = 3;

/// Set when nobody waits for a report any more: the build stops at its next check. Clones
/// share the flag.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// `Err(Cancelled)` once cancelled: for loops that can stop with `?`.
    pub fn check(&self) -> Result<(), MetricsError> {
        if self.is_cancelled() {
            Err(MetricsError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// A calendar day (UTC), written `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(
    /// Days since 1970-01-01.
    pub i64,
);

impl Date {
    /// The day of a time.
    pub fn of(ms: Millis) -> Date {
        Date(ms.div_euclid(DAY))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::metrics::export::rfc3339(self.0 * DAY)[..10])
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The date of a time, `YYYY-MM-DD` (UTC).
pub fn date(ms: Millis) -> String {
    Date::of(ms).to_string()
}

/// A figure against the period before. Written `=`, `new`, `+40%` or `−20%` (in JSON too);
/// [`Words::change`] says `new` in the reader's language.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Change {
    /// Within half a percent, or nothing in either period.
    Same,
    /// Nothing in the period before.
    New,
    /// Up or down by this many percent.
    Up(f64),
    Down(f64),
}

impl Change {
    pub fn of(now: u64, before: u64) -> Change {
        match (now, before) {
            (0, 0) => Change::Same,
            (_, 0) => Change::New,
            _ => {
                let pct = (now as f64 - before as f64) / before as f64 * 100.0;
                if pct.abs() < 0.5 {
                    Change::Same
                } else if pct > 0.0 {
                    Change::Up(pct)
                } else {
                    Change::Down(-pct)
                }
            }
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Same => f.write_str("="),
            Change::New => f.write_str("new"),
            Change::Up(pct) => write!(f, "+{pct:.0}%"),
            Change::Down(pct) => write!(f, "−{pct:.0}%"),
        }
    }
}

impl Serialize for Change {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What the report needs to know about an article.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArticleInfo {
    pub path: String,
    pub url: String,
    pub title: String,
    pub lang: String,
    pub draft: bool,
    pub owner: Option<String>,
    pub review_every_days: Option<u32>,
    /// Last change: the last git commit touching the file, else front matter `updated`,
    /// else the file's modification time.
    pub last_change: Option<Millis>,
    /// Where the review clock starts: front matter `updated` (the writer's word that it was
    /// reviewed), else the last change.
    pub reviewed: Option<Millis>,
    /// When git first saw the file, if it is in git.
    pub added: Option<Millis>,
    /// Translations share a group.
    pub translation: String,
    /// Front matter `queries`: what the writer says it answers, in its language.
    pub queries: Vec<String>,
}

impl ArticleInfo {
    /// What the report needs of each article the index holds (broken files are left to
    /// `kb check`): the catalog has the front matter, git the last changes (one `git log`
    /// over the articles folder `dir`).
    pub fn from_catalog(
        catalog: &crate::index::Catalog,
        dir: &std::path::Path,
    ) -> Vec<ArticleInfo> {
        let git = crate::articles::last_changes(dir);
        catalog
            .entries()
            .into_iter()
            .map(|e| {
                let updated = e.updated.as_deref().and_then(parse_date);
                let dates = git.get(&*e.path);
                let last_change = dates.map(|d| d.changed * SECOND).or(updated).or_else(|| {
                    let modified = std::fs::metadata(dir.join(&*e.path))
                        .ok()?
                        .modified()
                        .ok()?;
                    let since = modified.duration_since(std::time::UNIX_EPOCH).ok()?;
                    Some(since.as_millis() as Millis)
                });
                ArticleInfo {
                    path: e.path.to_string(),
                    url: e.url.to_string(),
                    title: e.title.to_string(),
                    lang: e.lang.to_string(),
                    draft: e.draft,
                    owner: e.owner.clone(),
                    review_every_days: e.review_every_days,
                    last_change,
                    reviewed: updated.or(last_change),
                    added: dates.map(|d| d.added * SECOND),
                    translation: e.translation.clone(),
                    queries: e.queries.clone(),
                }
            })
            .collect()
    }
}

/// Midnight UTC of a `YYYY-MM-DD` date (or the date part of a longer timestamp).
fn parse_date(text: &str) -> Option<Millis> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(text.get(..10)?, format).ok()?;
    Some(day.midnight().assume_utc().unix_timestamp() * SECOND)
}

/// An existing article close to a query, and the query's words it lacks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Closest {
    pub path: String,
    pub title: String,
    pub url: String,
    pub lang: String,
    /// The need's words it has, and those it lacks (as typed).
    pub has: Vec<String>,
    pub missing: Vec<String>,
}

/// Finds the articles closest to a query (in a language, or all).
pub type Finder<'a> = &'a dyn Fn(&str, Option<&str>) -> Vec<Closest>;

/// One version of an article in git: when it was committed, and which of a need's words (as
/// typed, as [`Closest::has`] names them) it had.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub at: Millis,
    pub has: Vec<String>,
}

/// The versions git has of articles, for a need's query each ((path, query) pairs), from the
/// version in effect at a time on, oldest first: a list per pair, in order (empty for an
/// article not in git). What [`Context::history`] is in kb: [`versions`].
pub type History<'a> = &'a dyn Fn(&[(&str, &str)], Millis) -> Vec<Vec<Version>>;

/// No history: articles not in git.
pub fn no_history(asked: &[(&str, &str)], _: Millis) -> Vec<Vec<Version>> {
    vec![Vec::new(); asked.len()]
}

/// The versions of the articles asked for ((path, query) pairs) in the git history of `dir`
/// from the one in effect at `since`, oldest first, each with the words of its query it
/// had, judged as `engine` judges the article now ([`crate::search::Engine::words_in`]). A
/// version that does not parse is left out.
pub fn versions(
    engine: &crate::search::Engine,
    dir: &std::path::Path,
    asked: &[(&str, &str)],
    since: Millis,
) -> Vec<Vec<Version>> {
    let mut paths: Vec<&str> = asked.iter().map(|(p, _)| *p).collect();
    paths.sort_unstable();
    paths.dedup();
    // Each version read and analyzed once, however many needs name its article.
    let terms: HashMap<String, Vec<(Millis, crate::search::Terms)>> =
        crate::articles::versions(dir, &paths, since.div_euclid(SECOND))
            .into_iter()
            .map(|(path, list)| {
                let analyzed = list
                    .iter()
                    .filter_map(|(at, bytes)| {
                        let article = crate::articles::parse(&path, &path, bytes).ok()?;
                        Some((at * SECOND, crate::search::terms(&article)))
                    })
                    .collect();
                (path, analyzed)
            })
            .collect();
    asked
        .iter()
        .map(|(path, query)| {
            terms
                .get(*path)
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|(at, terms)| Version {
                    at: *at,
                    has: engine.words_in(query, terms).0,
                })
                .collect()
        })
        .collect()
}

/// Whether the article an advice is about had the words in question when readers searched
/// (the versions of its file in effect during the period, by git) and has them now: the
/// words it has, for [`Advice::Retitle`]; those it lacks, for [`Advice::AddWords`] and
/// [`Advice::AddWordsToTranslation`]. In JSON, `{"state": "added_since", "changed": …}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum WordsThen {
    /// It had them throughout the period, and has them now.
    HadThenAndNow,
    /// It lacked them in a version readers searched (or did not exist yet), and has them
    /// since `changed` (the commit from which every version has them; today when only the
    /// file as it is now has them).
    AddedSince { changed: Date },
    /// It lacked them throughout the period, and lacks them now.
    MissingThenAndNow,
    /// It had them in a version readers searched, and lacks them since `changed`.
    RemovedSince { changed: Date },
}

/// What [`build`] needs besides the facts.
pub struct Context<'a> {
    pub now: Millis,
    pub articles: &'a [ArticleInfo],
    pub finder: Finder<'a>,
    /// The git history of an article, for advice about its words ([`WordsThen`]).
    pub history: History<'a>,
    /// The language articles are written in first (translations follow it); by default the
    /// language with most articles.
    pub source_lang: Option<String>,
    /// Stops the build early (its report is then incomplete, and nobody reads it).
    pub cancel: Cancel,
}

impl Context<'_> {
    /// The language articles are written in first: [`Context::source_lang`], else the
    /// language with most published articles.
    pub fn source_language(&self) -> Option<String> {
        self.source_lang.clone().or_else(|| {
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for a in self.articles.iter().filter(|a| !a.draft) {
                *counts.entry(a.lang.as_str()).or_default() += 1;
            }
            counts
                .into_iter()
                .max_by_key(|(_, n)| *n)
                .map(|(l, _)| l.to_string())
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteKind {
    /// Searches that found nothing.
    NoResults,
    /// Searches whose results nobody opened.
    NoClicks,
    /// Searches in one language answered only by an article in another.
    Translation,
}

impl WriteKind {
    /// The kind's name, as in JSON and CSV.
    pub fn name(self) -> &'static str {
        match self {
            Self::NoResults => "no_results",
            Self::NoClicks => "no_clicks",
            Self::Translation => "translation",
        }
    }
}

/// What to do about a need, given the closest articles ([`WriteItem::closest`], best first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Advice {
    /// No article comes close: write one.
    Write,
    /// The closest article lacks most of the need's words: write one.
    WriteUncovered,
    /// The closest article lacks a few of the need's words: add them, or write an article.
    AddWords,
    /// The closest article has every word, yet readers do not open it: say in its title and
    /// description what it answers, or write the article they expect.
    Retitle,
    /// An article in another language answers it: translate the closest article into the
    /// need's language ([`WriteItem::languages`]).
    Translate,
    /// An article in another language answers it and its translation into the need's
    /// language exists ([`WriteItem::closest`]: the translation, then the original), but
    /// lacks the words: add them to the translation.
    AddWordsToTranslation,
}

impl Advice {
    /// The advice's name, as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Self::Write => "write",
            Self::WriteUncovered => "write_uncovered",
            Self::AddWords => "add_words",
            Self::Retitle => "retitle",
            Self::Translate => "translate",
            Self::AddWordsToTranslation => "add_words_translation",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateKind {
    /// Agents said it is wrong or outdated.
    Flagged,
    Unhelpful,
    Outdated,
    ContactAfterView,
    Stale,
    TranslationBehind,
    Unread,
    /// Read, but only through links: no customer's search listed it.
    Unfound,
    ReviewDue,
}

impl UpdateKind {
    /// The kind's name, as in JSON and CSV.
    pub fn name(self) -> &'static str {
        match self {
            Self::Flagged => "flagged",
            Self::Unhelpful => "unhelpful",
            Self::Outdated => "outdated",
            Self::ContactAfterView => "contact_after_view",
            Self::Stale => "stale",
            Self::TranslationBehind => "translation_behind",
            Self::Unread => "unread",
            Self::Unfound => "unfound",
            Self::ReviewDue => "review_due",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Count {
    pub text: String,
    pub count: u64,
}

/// Demand the help center does not meet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WriteItem {
    pub kind: WriteKind,
    pub advice: Advice,
    /// The need, as most people typed it.
    pub query: String,
    /// Every way it was typed, most frequent first.
    pub queries: Vec<Count>,
    /// The languages the searches were made in, or the language lacking a translation.
    pub languages: Vec<String>,
    pub searches: u64,
    pub visitors: u64,
    pub no_results: u64,
    pub no_clicks: u64,
    /// Searches followed by a contact click.
    pub contacts: u64,
    pub previous: u64,
    /// Searches against the period before (`""` in JSON for a missing translation, which is
    /// not compared).
    #[serde(serialize_with = "change_or_empty")]
    pub trend: Option<Change>,
    /// The closest existing articles, and the words of the need they lack.
    pub closest: Vec<Closest>,
    /// Whether some article has every word of the need.
    pub covered: bool,
    /// For a missing translation: the article to translate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// For advice about the words of the first closest article: whether it had them when
    /// readers searched, and has them now (when the article is in git).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub then: Option<WordsThen>,
    #[serde(skip)]
    priority: f64,
}

fn change_or_empty<S: Serializer>(c: &Option<Change>, s: S) -> Result<S::Ok, S::Error> {
    match c {
        Some(c) => c.serialize(s),
        None => s.serialize_str(""),
    }
}

/// Why an article is listed to update, with what the wording needs beyond the item's own
/// figures. In JSON, `kind` and these fields sit beside the item's.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// Agents flagged it since it last changed ([`UpdateItem::flags`]).
    Flagged,
    /// Readers said it did not help: at least this share of them, with 95 % confidence.
    Unhelpful { unhelpful_at_least: f64 },
    /// Readers said it is outdated ([`UpdateItem::reasons`]).
    Outdated { unhelpful_at_least: f64 },
    /// Readers contact support after reading it, more than across the help center.
    ContactAfterView { site_contact_rate: f64 },
    /// Unchanged this many days, and still read.
    Stale { age_days: i64 },
    /// The article it translates changed after it.
    TranslationBehind {
        /// The source article: path, title, language and day of its last change.
        source: String,
        source_title: String,
        source_lang: String,
        source_changed: Date,
    },
    /// Nobody read it in the period; this many did in the period before.
    Unread { previous_views: u64 },
    /// Read in the period ([`UpdateItem::views`]), but no customer's search listed it among
    /// its results: readers arrive through links only, and search does not show it to those
    /// who look for it.
    Unfound,
    /// Its review (front matter `review_every`, counted from `reviewed`) fell due.
    ReviewDue {
        every_days: u32,
        reviewed: Date,
        due: Date,
    },
}

impl Finding {
    pub fn kind(&self) -> UpdateKind {
        match self {
            Finding::Flagged => UpdateKind::Flagged,
            Finding::Unhelpful { .. } => UpdateKind::Unhelpful,
            Finding::Outdated { .. } => UpdateKind::Outdated,
            Finding::ContactAfterView { .. } => UpdateKind::ContactAfterView,
            Finding::Stale { .. } => UpdateKind::Stale,
            Finding::TranslationBehind { .. } => UpdateKind::TranslationBehind,
            Finding::Unread { .. } => UpdateKind::Unread,
            Finding::Unfound => UpdateKind::Unfound,
            Finding::ReviewDue { .. } => UpdateKind::ReviewDue,
        }
    }
}

/// An article that fails its readers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpdateItem {
    #[serde(flatten)]
    pub finding: Finding,
    pub path: String,
    pub title: String,
    pub url: String,
    pub lang: String,
    pub owner: Option<String>,
    pub views: u64,
    pub yes: u64,
    pub no: u64,
    /// Reasons given with No votes, and how often.
    pub reasons: BTreeMap<Reason, u64>,
    pub comments: Vec<String>,
    /// Agents' flags since the article last changed, newest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<FlagNote>,
    /// Views followed by a contact click.
    pub contacts: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_change: Option<Date>,
    #[serde(skip)]
    priority: f64,
}

impl UpdateItem {
    pub fn kind(&self) -> UpdateKind {
        self.finding.kind()
    }
}

/// An agent's flag on an article.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlagNote {
    pub date: Date,
    pub reason: FlagReason,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One line of a top list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Top {
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub count: u64,
    pub previous: u64,
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub searches: u64,
    pub searches_change: Change,
    pub no_result_rate: f64,
    pub no_click_rate: f64,
    pub views: u64,
    pub votes: u64,
    pub helpful_rate: Option<f64>,
    pub contact_clicks: u64,
    pub links_inserted: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Charts {
    pub days: Vec<Day>,
    pub weeks: Vec<Week>,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The period: from (inclusive) and until (exclusive), as dates.
    pub since: Date,
    pub until: Date,
    pub days: i64,
    pub summary: Summary,
    pub to_write: Vec<WriteItem>,
    pub to_update: Vec<UpdateItem>,
    /// Articles due for review, by owner (`""`: no owner).
    pub review_queue: BTreeMap<String, Vec<String>>,
    pub top_searches: Vec<Top>,
    /// Every search that found nothing, however rarely: the to-write list keeps only needs
    /// several people had.
    pub top_no_results: Vec<Top>,
    pub top_articles: Vec<Top>,
    pub top_linked: Vec<Top>,
    pub charts: Charts,
    /// Questions AI agents asked that found nothing or only weak answers ([`ai`]).
    pub ai_questions: Vec<ai::AiQuestion>,
}

/// The closest articles to a query in `engine`'s index: the top three results, with the
/// query's words each lacks. What [`Context::finder`] is in kb.
pub fn closest(engine: &crate::search::Engine, query: &str, lang: Option<&str>) -> Vec<Closest> {
    match engine.closest(query, lang, 3) {
        Ok(found) => found
            .into_iter()
            .map(|n| Closest {
                path: n.hit.path,
                title: n.hit.title,
                url: n.hit.url,
                lang: n.hit.lang,
                has: n.has,
                missing: n.lacks,
            })
            .collect(),
        Err(e) => {
            tracing::debug!("closest articles for {query:?}: {e}");
            Vec::new()
        }
    }
}

/// The report of the `period` before `now`: facts from `store`, articles from `engine`'s
/// index (and git history of `articles_dir`), closest articles from `engine`. Stops with
/// [`MetricsError::Cancelled`] once `cancel` is set.
pub fn generate(
    store: &dyn MetricsReader,
    articles_dir: &std::path::Path,
    engine: &crate::search::Engine,
    period: Millis,
    now: Millis,
    cancel: &Cancel,
) -> Result<Report, MetricsError> {
    let articles = &ArticleInfo::from_catalog(&engine.index().catalog(), articles_dir);
    let last_change: HashMap<String, Millis> = articles
        .iter()
        .filter_map(|a| Some((a.path.clone(), a.last_change?)))
        .collect();
    cancel.check()?;
    let known: Vec<String> = languages_of(articles);
    let facts = facts::gather(store, now - period, now, &last_change, &known, cancel)?;
    let finder = |q: &str, lang: Option<&str>| closest(engine, q, lang);
    let history =
        |asked: &[(&str, &str)], since: Millis| versions(engine, articles_dir, asked, since);
    let ctx = Context {
        now,
        articles,
        finder: &finder,
        history: &history,
        source_lang: None,
        cancel: cancel.clone(),
    };
    let mut report = build(&facts, &ctx);
    report.ai_questions = ai_questions(store, now - period..now, cancel)?;
    cancel.check()?;
    Ok(report)
}

/// The articles' languages, each once.
pub fn languages_of(articles: &[ArticleInfo]) -> Vec<String> {
    let set: std::collections::BTreeSet<&str> = articles.iter().map(|a| a.lang.as_str()).collect();
    set.into_iter().map(str::to_string).collect()
}

/// Lower bound of the Wilson score interval (95 %) for `hits` out of `n`.
pub fn wilson_lower(hits: u64, n: u64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let z = 1.96f64;
    let n = n as f64;
    let p = hits as f64 / n;
    let z2 = z * z;
    (p + z2 / (2.0 * n) - z * ((p * (1.0 - p) + z2 / (4.0 * n)) / n).sqrt()) / (1.0 + z2 / n)
}

/// The language a search was made in, named by the articles' languages (`known`), as a
/// family (`zh-hans` and `zh-hant` for Chinese, the primary subtag otherwise):
/// - its filter, when the filter keeps one language (`lang=zh` keeps two, and is no
///   language);
/// - else, for a query in another script than Latin, the script as the articles are written
///   in it (a Cyrillic query in a help center whose Cyrillic articles are Ukrainian is
///   Ukrainian: one word is never weighed against languages the help center does not have),
///   unless the interface's language is written in the same script and the characters do
///   not tell which (退款 on the zh-tw pages is zh-hant);
/// - else the interface's language (a Latin query tells little: brand names and English
///   words are typed everywhere);
/// - else nothing.
pub(crate) fn search_language(
    filter: Option<&str>,
    query: &str,
    ui: Option<&str>,
    known: &[String],
) -> Option<String> {
    use crate::articles::lang::{matches, of_text};
    let filter = filter.filter(|f| !f.is_empty());
    let pool: Vec<String> = known
        .iter()
        .filter(|k| filter.is_none_or(|f| matches(&f.to_ascii_lowercase(), k)))
        .cloned()
        .collect();
    let families: std::collections::BTreeSet<String> = pool.iter().map(|k| family(k)).collect();
    if let Some(f) = filter {
        if families.len() == 1 {
            return families.into_iter().next();
        }
        if pool.is_empty() {
            // A filter no article matches still names the reader's language.
            return Some(family(f)).filter(|f| f != "zh");
        }
    }
    // The pool's languages where a filter chose several, every one otherwise.
    let pool = if pool.is_empty() {
        known.to_vec()
    } else {
        pool
    };
    let written = of_text(query, &pool).map(|w| family(&w));
    let latin = whatlang::detect_script(query).is_none_or(|s| s == whatlang::Script::Latin);
    // A bare `zh` (characters both scripts share) is no language to write for.
    let definite = written.clone().filter(|w| w != "zh");
    let ui = ui
        .map(family)
        .filter(|u| filter.is_none() || families.contains(u));
    match (ui, written) {
        (Some(u), _) if latin => Some(u),
        (Some(u), Some(w)) if primary(&u) == primary(&w) => definite.or(Some(u)),
        (Some(u), None) => Some(u),
        (_, _) if latin => None,
        _ => definite,
    }
}

pub use crate::articles::lang::family;
use crate::articles::lang::primary;

/// The articles as the rules look them up.
struct Catalog<'a> {
    by_path: HashMap<&'a str, &'a ArticleInfo>,
    /// How the articles name each language family (`zh-hant` → `zh-tw` when the
    /// translations live in `zh-tw/`).
    tags: HashMap<String, String>,
    /// Which translation groups exist in which language families.
    translated: HashSet<(&'a str, String)>,
    /// The published articles of each translation group.
    groups: HashMap<&'a str, Vec<&'a ArticleInfo>>,
    /// The language articles are written in first.
    source: Option<String>,
    articles: &'a [ArticleInfo],
    /// Normalized phrasing → the translation groups (and the language family of the article)
    /// that name it ([`Catalog::answering`]), made on first use.
    /// (Owned: a cell of borrowed strings would tie the catalog to one lifetime.)
    answers: std::cell::OnceCell<HashMap<String, Vec<(String, String)>>>,
}

impl<'a> Catalog<'a> {
    fn new(articles: &'a [ArticleInfo], source: Option<String>) -> Catalog<'a> {
        let mut groups: HashMap<&str, Vec<&ArticleInfo>> = HashMap::new();
        for a in articles.iter().filter(|a| !a.draft) {
            groups.entry(a.translation.as_str()).or_default().push(a);
        }
        let mut tags: HashMap<String, String> = HashMap::new();
        for a in articles {
            let e = tags
                .entry(family(&a.lang))
                .or_insert_with(|| a.lang.clone());
            if a.lang < *e {
                *e = a.lang.clone();
            }
        }
        Catalog {
            by_path: articles.iter().map(|a| (a.path.as_str(), a)).collect(),
            tags,
            translated: articles
                .iter()
                .filter(|a| !a.draft)
                .map(|a| (a.translation.as_str(), family(&a.lang)))
                .collect(),
            groups,
            source,
            articles,
            answers: Default::default(),
        }
    }

    /// The translation groups whose articles name a phrasing of these normalized words
    /// ([`crate::search::normalize_query`]) in their title or front matter `queries`, each
    /// with the language family of the article that names it. Drafts too: a translation being
    /// written already says what it answers.
    fn answering(&self, key: &str) -> &[(String, String)] {
        let answers = self.answers.get_or_init(|| {
            let mut map: HashMap<String, Vec<(String, String)>> = HashMap::new();
            for a in self.articles {
                for phrasing in std::iter::once(&a.title).chain(&a.queries) {
                    let e = map
                        .entry(crate::search::normalize_query(phrasing))
                        .or_default();
                    let named = (a.translation.clone(), family(&a.lang));
                    if !e.contains(&named) {
                        e.push(named);
                    }
                }
            }
            map
        });
        answers.get(key).map_or(&[], Vec::as_slice)
    }

    /// The article of `path`'s translation group in a language family, if published.
    fn translation_in(&self, path: &str, family_of: &str) -> Option<&'a ArticleInfo> {
        let group = self.get(path)?.translation.as_str();
        self.groups
            .get(group)?
            .iter()
            .find(|a| family(&a.lang) == family_of)
            .copied()
    }

    /// The article of a translation group to translate into `target` from: the one in the
    /// other script of the same language (zh-cn for zh-tw), else the one in the source
    /// language, else `fallback`.
    fn to_translate(
        &self,
        group: &str,
        target: &str,
        fallback: &'a ArticleInfo,
    ) -> &'a ArticleInfo {
        let members = self
            .groups
            .get(group)
            .map(Vec::as_slice)
            .unwrap_or_default();
        members
            .iter()
            .find(|a| primary(&a.lang) == primary(target))
            .or_else(|| {
                members
                    .iter()
                    .find(|a| Some(&a.lang) == self.source.as_ref())
            })
            .copied()
            .unwrap_or(fallback)
    }

    fn get(&self, path: &str) -> Option<&'a ArticleInfo> {
        self.by_path.get(path).copied()
    }

    fn published(&self, path: &str) -> bool {
        self.get(path).is_some_and(|a| !a.draft)
    }

    /// The tag the articles use for a language family.
    fn tag_for(&self, family: &str) -> String {
        self.tags
            .get(family)
            .cloned()
            .unwrap_or_else(|| family.to_string())
    }
}

/// Builds the report: the to-write rules, the to-update rules, the top lists and the
/// summary.
pub fn build(facts: &Facts, ctx: &Context<'_>) -> Report {
    let catalog = Catalog::new(ctx.articles, ctx.source_language());
    let closest = |c: &Cluster| {
        let filter = match c.filters.as_slice() {
            [Some(l)] => Some(l.as_str()),
            _ => None,
        };
        (ctx.finder)(needs::first_query(c), filter)
            .first()
            .map(|a| needs::group(&catalog, &a.path).to_string())
    };
    let mut clusters = needs::merge(&facts.clusters, &catalog, &closest, &ctx.cancel);
    clusters.sort_by(|a, b| b.searches.cmp(&a.searches).then_with(|| a.key.cmp(&b.key)));

    let mut to_write = write::unmet_needs(&clusters, ctx, &catalog, facts.since..facts.until);
    to_write.extend(write::translations_wanted(facts, &catalog));
    to_write.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then(b.priority.total_cmp(&a.priority))
            .then_with(|| a.query.cmp(&b.query))
    });

    let mut to_update = update::articles_to_update(facts, ctx);
    to_update.sort_by(|a, b| {
        a.kind()
            .cmp(&b.kind())
            .then(b.priority.total_cmp(&a.priority))
            .then_with(|| a.path.cmp(&b.path))
    });
    let mut review_queue: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in to_update
        .iter()
        .filter(|i| i.kind() == UpdateKind::ReviewDue)
    {
        review_queue
            .entry(i.owner.clone().unwrap_or_default())
            .or_default()
            .push(i.path.clone());
    }

    Report {
        since: Date::of(facts.since),
        until: Date::of(facts.until),
        days: ((facts.until - facts.since) as f64 / DAY as f64).round() as i64,
        summary: summary(facts),
        to_write,
        to_update,
        review_queue,
        top_searches: top_searches(&clusters),
        top_no_results: top_no_results(&clusters),
        top_articles: top_articles(facts, &catalog, |f| (f.views, f.previous_views)),
        top_linked: top_articles(facts, &catalog, |f| (f.links, f.previous_links)),
        charts: Charts {
            days: facts.days.clone(),
            weeks: facts.weeks.clone(),
        },
        ai_questions: Vec::new(),
    }
}

/// The questions AI agents asked in `period` that found nothing, or only articles readers
/// find unhelpful (by the votes of the year before `period`'s end).
fn ai_questions(
    store: &dyn MetricsReader,
    period: std::ops::Range<Millis>,
    cancel: &Cancel,
) -> Result<Vec<ai::AiQuestion>, MetricsError> {
    let mut searches = Vec::new();
    store.ai_searches(period.clone(), &mut |s| {
        cancel.check()?;
        searches.push(s);
        Ok(())
    })?;
    if searches.is_empty() {
        return Ok(Vec::new());
    }
    let mut paths: Vec<String> = searches.iter().flat_map(|s| s.results.clone()).collect();
    paths.sort();
    paths.dedup();
    let votes = store.helpfulness(&paths, period.end - 365 * DAY)?;
    let weak = |path: &str| {
        votes.get(path).is_some_and(|t| {
            let n = t.yes + t.no;
            n >= MIN_VOTES && wilson_lower(t.no, n) >= UNHELPFUL_FROM
        })
    };
    Ok(ai::questions(&searches, &weak))
}

/// The period's figures.
fn summary(facts: &Facts) -> Summary {
    let t = &facts.totals;
    let rate = |n: u64, d: u64| {
        if d == 0 {
            0.0
        } else {
            (n as f64 / d as f64 * 1000.0).round() / 1000.0
        }
    };
    Summary {
        searches: t.searches,
        searches_change: Change::of(t.searches, t.previous_searches),
        no_result_rate: rate(t.no_results, t.searches),
        no_click_rate: rate(t.no_clicks, t.searches),
        views: t.views,
        votes: t.yes + t.no,
        helpful_rate: (t.yes + t.no > 0).then(|| rate(t.yes, t.yes + t.no)),
        contact_clicks: t.contacts,
        links_inserted: t.links,
    }
}

/// A need as a top list line: its most typed query.
fn query_top(c: &Cluster, count: u64, previous: u64) -> Top {
    Top {
        label: c
            .queries
            .first()
            .map_or_else(|| c.key.clone(), |q| q.0.clone()),
        path: None,
        url: None,
        count,
        previous,
        change: Change::of(count, previous),
    }
}

/// The most searched needs.
fn top_searches(clusters: &[Cluster]) -> Vec<Top> {
    clusters
        .iter()
        .take(10)
        .map(|c| query_top(c, c.searches, c.previous))
        .collect()
}

/// Every need that found nothing, a need of one person too, most often first.
fn top_no_results(clusters: &[Cluster]) -> Vec<Top> {
    let mut failed: Vec<&Cluster> = clusters.iter().filter(|c| c.no_results > 0).collect();
    failed.sort_by(|a, b| {
        b.no_results
            .cmp(&a.no_results)
            .then_with(|| a.key.cmp(&b.key))
    });
    failed
        .into_iter()
        .take(20)
        .map(|c| query_top(c, c.no_results, c.previous_no_results))
        .collect()
}

/// The published articles with most of what `count` counts (now, before).
fn top_articles(
    facts: &Facts,
    catalog: &Catalog<'_>,
    count: impl Fn(&facts::ArticleFacts) -> (u64, u64),
) -> Vec<Top> {
    let mut v: Vec<(&String, u64, u64)> = facts
        .articles
        .iter()
        .filter(|(p, _)| catalog.published(p))
        .map(|(p, f)| {
            let (n, prev) = count(f);
            (p, n, prev)
        })
        .filter(|(_, n, _)| *n > 0)
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    v.into_iter()
        .take(10)
        .map(|(p, n, prev)| Top {
            label: catalog
                .get(p)
                .map_or_else(|| p.clone(), |a| a.title.clone()),
            path: Some(p.clone()),
            url: catalog.get(p).map(|a| a.url.clone()),
            count: n,
            previous: prev,
            change: Change::of(n, prev),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_lower_bound_weighs_the_number_of_votes() {
        // Three No votes out of three are less certain than 200 out of 300.
        assert!(wilson_lower(3, 3) < wilson_lower(200, 300));
        assert!((wilson_lower(200, 300) - 0.611).abs() < 0.01);
        assert_eq!(wilson_lower(0, 0), 0.0);
        assert!(wilson_lower(0, 10) < 0.01);
    }

    #[test]
    fn the_language_of_a_search() {
        assert_eq!(family("zh-CN"), "zh-hans");
        assert_eq!(family("zh-tw"), "zh-hant");
        assert_eq!(family("zh-Hant-HK"), "zh-hant");
        assert_eq!(family("en-GB"), "en");
        let known: Vec<String> = ["en", "te", "uk", "zh-cn", "zh-tw"]
            .map(String::from)
            .to_vec();
        let lang = |filter, query, ui| search_language(filter, query, ui, &known);
        // The filter says it; else the script, when the interface is in another; else the
        // interface; a Latin query alone says nothing.
        assert_eq!(
            lang(Some("uk"), "refund", Some("en")).as_deref(),
            Some("uk")
        );
        assert_eq!(
            lang(None, "tracking number", Some("uk")).as_deref(),
            Some("uk")
        );
        assert_eq!(
            lang(None, "重設密碼", Some("en")).as_deref(),
            Some("zh-hant")
        );
        assert_eq!(
            lang(None, "重設密碼", Some("zh-cn")).as_deref(),
            Some("zh-hant")
        );
        assert_eq!(
            lang(None, "退款", Some("zh-tw")).as_deref(),
            Some("zh-hant")
        );
        assert_eq!(
            lang(None, "відновлення пароля", Some("en")).as_deref(),
            Some("uk")
        );
        assert_eq!(lang(None, "refund", None), None);
        // `zh` is a filter of two languages, not a language: the characters tell which.
        assert_eq!(
            lang(Some("zh"), "重設密碼", None).as_deref(),
            Some("zh-hant")
        );
        assert_eq!(
            lang(Some("zh"), "重设密码", Some("en")).as_deref(),
            Some("zh-hans")
        );
        assert_eq!(
            lang(Some("zh"), "退款", Some("zh-tw")).as_deref(),
            Some("zh-hant")
        );
        assert_eq!(lang(Some("zh"), "退款", None), None);
        assert_eq!(
            lang(Some("zh-TW"), "退款", None).as_deref(),
            Some("zh-hant")
        );
        // One Cyrillic word is Ukrainian here, never Belarusian.
        assert_eq!(lang(None, "пароль", Some("en")).as_deref(), Some("uk"));
        assert_eq!(lang(None, "пароль", None).as_deref(), Some("uk"));
        assert_eq!(lang(Some("te"), "refund", None).as_deref(), Some("te"));
    }

    #[test]
    fn changes_between_periods() {
        let change = |now, before| Change::of(now, before).to_string();
        assert_eq!(change(15, 10), "+50%");
        assert_eq!(change(5, 10), "−50%");
        assert_eq!(change(5, 0), "new");
        assert_eq!(change(0, 0), "=");
        assert_eq!(change(10, 10), "=");
        assert_eq!(serde_json::json!(Change::of(15, 10)), "+50%");
        assert_eq!(serde_json::json!(Date(20_000)), "2024-10-04");
    }

    #[test]
    fn a_cancelled_flag_stops_what_checks_it() {
        let cancel = Cancel::default();
        let shared = cancel.clone();
        assert!(cancel.check().is_ok());
        shared.cancel();
        assert!(matches!(cancel.check(), Err(MetricsError::Cancelled)));
    }

    pub(super) fn article(path: &str, lang: &str, changed: Millis) -> ArticleInfo {
        ArticleInfo {
            path: path.into(),
            url: format!("/{}", path.trim_end_matches(".md")),
            title: path.into(),
            lang: lang.into(),
            draft: false,
            owner: None,
            review_every_days: None,
            last_change: Some(changed),
            reviewed: Some(changed),
            added: Some(0),
            translation: path.split_once('/').map_or(path, |(_, r)| r).to_string(),
            queries: Vec::new(),
        }
    }

    pub(super) fn ctx<'a>(
        articles: &'a [ArticleInfo],
        finder: Finder<'a>,
        now: Millis,
    ) -> Context<'a> {
        Context {
            now,
            articles,
            finder,
            history: &no_history,
            source_lang: None,
            cancel: Cancel::default(),
        }
    }

    #[test]
    fn reviews_are_due_per_owner_and_new_articles_are_not_unread() {
        let mut due = article("en/a.md", "en", 100 * DAY);
        due.owner = Some("maria".into());
        due.review_every_days = Some(30);
        // The writer's `updated` starts the clock, whatever git says.
        due.reviewed = Some(50 * DAY);
        let mut fresh = article("en/b.md", "en", 100 * DAY);
        fresh.added = Some(95 * DAY);
        fresh.review_every_days = Some(30);
        let mut unknown = article("en/c.md", "en", 100 * DAY);
        unknown.added = None;
        let articles = [due, fresh, unknown];
        let mut facts = Facts {
            since: 90 * DAY,
            until: 120 * DAY,
            ..Facts::default()
        };
        let none = |_: &str, _: Option<&str>| Vec::new();
        // Without a single view recorded, nothing is "unread": the help center was not running.
        let r = build(&facts, &ctx(&articles, &none, 120 * DAY));
        assert!(r.to_update.iter().all(|i| i.kind() != UpdateKind::Unread));
        facts.totals.views = 100;
        let r = build(&facts, &ctx(&articles, &none, 120 * DAY));
        let of = |kind: UpdateKind| {
            r.to_update
                .iter()
                .filter(|i| i.kind() == kind)
                .map(|i| i.path.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(of(UpdateKind::ReviewDue), ["en/a.md"]);
        assert_eq!(r.review_queue["maria"], ["en/a.md"]);
        let review = r
            .to_update
            .iter()
            .find(|i| i.kind() == UpdateKind::ReviewDue)
            .unwrap();
        let action = Words::english().update_action(review);
        assert!(action.starts_with("maria: review"), "{action}");
        assert_eq!(
            review.finding,
            Finding::ReviewDue {
                every_days: 30,
                reviewed: Date(50),
                due: Date(80)
            }
        );
        assert_eq!(of(UpdateKind::Unread), ["en/a.md", "en/c.md"]);
    }

    #[test]
    fn articles_read_only_through_links_are_said_to_be_unfound() {
        let articles = [
            article("en/linked.md", "en", 10 * DAY),
            article("en/searched.md", "en", 10 * DAY),
            article("en/bookmark.md", "en", 10 * DAY),
        ];
        let mut facts = Facts {
            since: 90 * DAY,
            until: 120 * DAY,
            ..Facts::default()
        };
        let read = |views, shown| facts::ArticleFacts {
            views,
            shown,
            ..facts::ArticleFacts::default()
        };
        facts.articles.insert("en/linked.md".into(), read(12, 0));
        facts.articles.insert("en/searched.md".into(), read(12, 3));
        facts
            .articles
            .insert("en/bookmark.md".into(), read(UNFOUND_MIN_VIEWS - 1, 0));
        facts.totals.views = 12 + 12 + UNFOUND_MIN_VIEWS - 1;
        let none = |_: &str, _: Option<&str>| Vec::new();
        let unfound = |facts: &Facts| -> Vec<String> {
            build(facts, &ctx(&articles, &none, 120 * DAY))
                .to_update
                .into_iter()
                .filter(|i| i.kind() == UpdateKind::Unfound)
                .map(|i| i.path)
                .collect()
        };
        // No search recorded what it listed: nothing can be said.
        assert!(unfound(&facts).is_empty());
        facts.totals.listed = 40;
        assert_eq!(unfound(&facts), ["en/linked.md"]);
        let r = build(&facts, &ctx(&articles, &none, 120 * DAY));
        let item = r
            .to_update
            .iter()
            .find(|i| i.kind() == UpdateKind::Unfound)
            .unwrap();
        let why = Words::english().update_why(item, 30);
        assert_eq!(
            why,
            "read 12 times in 30 days, always through a link: no reader's search showed it among its first results"
        );
    }

    #[test]
    fn unmet_clusters_need_several_people() {
        let facts = Facts {
            since: 0,
            until: 30 * DAY,
            clusters: vec![
                Cluster {
                    key: "gift card".into(),
                    searches: 12,
                    visitors: 9,
                    no_results: 12,
                    queries: vec![("gift card".into(), 10), ("Gift cards".into(), 2)],
                    langs: vec!["en".into()],
                    filters: vec![None],
                    ..Default::default()
                },
                Cluster {
                    key: "zebra".into(),
                    searches: 10,
                    visitors: 1,
                    no_results: 10,
                    queries: vec![("zebra".into(), 10)],
                    ..Default::default()
                },
                Cluster {
                    key: "refund".into(),
                    searches: 50,
                    visitors: 40,
                    no_clicks: 5,
                    queries: vec![("refund".into(), 50)],
                    ..Default::default()
                },
            ],
            ..Facts::default()
        };
        let none = |_: &str, _: Option<&str>| Vec::new();
        let r = build(&facts, &ctx(&[], &none, 30 * DAY));
        assert_eq!(r.to_write.len(), 1, "{:#?}", r.to_write);
        assert_eq!(r.to_write[0].query, "gift card");
        assert_eq!(r.to_write[0].advice, Advice::Write);
        assert!(
            Words::english()
                .write_action(&r.to_write[0])
                .contains("no article covers this")
        );
        assert_eq!(r.top_searches[0].label, "refund");
    }

    #[test]
    fn translations_behind_their_source() {
        let articles = [
            article("en/a.md", "en", 100 * DAY),
            article("en/b.md", "en", 0),
            article("uk/a.md", "uk", 10 * DAY),
        ];
        let facts = Facts {
            since: 90 * DAY,
            until: 120 * DAY,
            ..Facts::default()
        };
        let none = |_: &str, _: Option<&str>| Vec::new();
        let r = build(&facts, &ctx(&articles, &none, 120 * DAY));
        let behind: Vec<&UpdateItem> = r
            .to_update
            .iter()
            .filter(|i| i.kind() == UpdateKind::TranslationBehind)
            .collect();
        assert_eq!(behind.len(), 1);
        assert_eq!(behind[0].path, "uk/a.md");
        assert!(
            matches!(&behind[0].finding, Finding::TranslationBehind { source, .. } if source == "en/a.md")
        );
        // In JSON, the finding's fields sit beside the item's.
        let json = serde_json::to_value(behind[0]).unwrap();
        assert_eq!(json["kind"], "translation_behind");
        assert_eq!(json["source"], "en/a.md");
        assert_eq!(json["source_changed"], Date::of(100 * DAY).to_string());
    }
}
