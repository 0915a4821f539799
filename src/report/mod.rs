//! The content-gap report: which articles to write and which to update, for support leads.
//!
//! [`facts::gather`] aggregates the recorded events of a period; [`build`] turns those facts,
//! the articles and a way to find the closest articles for a query into a [`Report`]: a pure
//! function, so tests feed it facts and check every rule. [`format`] writes it as Markdown,
//! JSON, CSV or a self-contained HTML page with charts.
//!
//! Every item says why it is there and what to do. The thresholds below keep noise out: one
//! visitor repeating a search is not demand, two votes are not a verdict.

pub mod facts;
pub mod format;
mod svg;

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::metrics::Millis;
use facts::{Cluster, Day, Facts, Week};

const DAY: Millis = 86_400_000;
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
/// Clicks from one language on an article of another, to ask for a translation.
const TRANSLATION_MIN_CLICKS: u64 = 3;

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
                let dates = git.get(&e.path);
                let last_change = dates.map(|d| d.changed * 1000).or(updated).or_else(|| {
                    let modified = std::fs::metadata(dir.join(&e.path)).ok()?.modified().ok()?;
                    let since = modified.duration_since(std::time::UNIX_EPOCH).ok()?;
                    Some(since.as_millis() as Millis)
                });
                ArticleInfo {
                    path: e.path.clone(),
                    url: e.url.clone(),
                    title: e.title.clone(),
                    lang: e.lang.clone(),
                    draft: e.draft,
                    owner: e.owner.clone(),
                    review_every_days: e.review_every_days,
                    last_change,
                    reviewed: updated.or(last_change),
                    added: dates.map(|d| d.added * 1000),
                    translation: e.translation.clone(),
                }
            })
            .collect()
    }
}

/// Midnight UTC of a `YYYY-MM-DD` date (or the date part of a longer timestamp).
fn parse_date(text: &str) -> Option<Millis> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(text.get(..10)?, format).ok()?;
    Some(day.midnight().assume_utc().unix_timestamp() * 1000)
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

/// What [`build`] needs besides the facts.
pub struct Context<'a> {
    pub now: Millis,
    pub articles: &'a [ArticleInfo],
    pub finder: Finder<'a>,
    /// The language articles are written in first (translations follow it); by default the
    /// language with most articles.
    pub source_lang: Option<String>,
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
    ReviewDue,
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
    /// The need, as most people typed it.
    pub query: String,
    /// Every way it was typed, most frequent first.
    pub queries: Vec<Count>,
    /// Language filters used (`all` for none), or the language lacking a translation.
    pub languages: Vec<String>,
    pub searches: u64,
    pub visitors: u64,
    pub no_results: u64,
    pub no_clicks: u64,
    /// Searches followed by a contact click.
    pub contacts: u64,
    pub previous: u64,
    pub trend: String,
    /// The closest existing articles, and the words of the need they lack.
    pub closest: Vec<Closest>,
    /// Whether some article has every word of the need.
    pub covered: bool,
    /// For a missing translation: the article to translate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub why: String,
    pub action: String,
    #[serde(skip)]
    priority: f64,
}

/// An article that fails its readers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpdateItem {
    pub kind: UpdateKind,
    pub path: String,
    pub title: String,
    pub url: String,
    pub lang: String,
    pub owner: Option<String>,
    pub views: u64,
    pub yes: u64,
    pub no: u64,
    /// Lower bound (Wilson, 95 %) of the share of readers it did not help.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unhelpful_at_least: Option<f64>,
    pub reasons: BTreeMap<String, u64>,
    pub comments: Vec<String>,
    /// Agents' flags since the article last changed, newest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<FlagNote>,
    pub contacts: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_change: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    /// For a translation behind: the article it translates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub why: String,
    pub action: String,
    #[serde(skip)]
    priority: f64,
}

/// An agent's flag on an article.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlagNote {
    pub date: String,
    pub reason: String,
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
    pub change: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub searches: u64,
    pub searches_change: String,
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
    pub since: String,
    pub until: String,
    pub days: i64,
    pub summary: Summary,
    pub to_write: Vec<WriteItem>,
    pub to_update: Vec<UpdateItem>,
    /// Articles due for review, by owner.
    pub review_queue: BTreeMap<String, Vec<String>>,
    pub top_searches: Vec<Top>,
    /// Every search that found nothing, however rarely: the to-write list keeps only needs
    /// several people had.
    pub top_no_results: Vec<Top>,
    pub top_articles: Vec<Top>,
    pub top_linked: Vec<Top>,
    pub charts: Charts,
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
/// index (and git history of `articles_dir`), closest articles from `engine`.
pub fn generate(
    store: &crate::metrics::sqlite::SqliteStore,
    articles_dir: &std::path::Path,
    engine: &crate::search::Engine,
    period: Millis,
    now: Millis,
) -> Result<Report, crate::metrics::MetricsError> {
    let articles = &ArticleInfo::from_catalog(&engine.index().catalog(), articles_dir);
    let last_change: HashMap<String, Millis> = articles
        .iter()
        .filter_map(|a| Some((a.path.clone(), a.last_change?)))
        .collect();
    let facts = facts::gather(store, now - period, now, &last_change)?;
    let finder = |q: &str, lang: Option<&str>| closest(engine, q, lang);
    let ctx = Context {
        now,
        articles,
        finder: &finder,
        source_lang: None,
    };
    Ok(build(&facts, &ctx))
}

/// The date of a time, `YYYY-MM-DD` (UTC).
pub fn date(ms: Millis) -> String {
    crate::metrics::export::rfc3339(ms)[..10].to_string()
}

/// The period's change against the one before: `new`, `+40%`, `−20%`, `=`.
pub fn change(now: u64, before: u64) -> String {
    match (now, before) {
        (0, 0) => "=".into(),
        (_, 0) => "new".into(),
        _ => {
            let pct = (now as f64 - before as f64) / before as f64 * 100.0;
            if pct.abs() < 0.5 {
                "=".into()
            } else if pct > 0.0 {
                format!("+{pct:.0}%")
            } else {
                format!("−{:.0}%", -pct)
            }
        }
    }
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

/// A query's words as typed (lower-cased, function words and punctuation dropped, sorted):
/// where a typo is one letter, before stemming makes it more.
fn typed_key(query: &str) -> String {
    let mut words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !crate::analysis::stopwords::is_stop_word(w))
        .collect();
    words.sort();
    words.join(" ")
}

/// Whether two word lists are near-identical: as many words, each the same or (from five
/// letters) one typo apart, and not all the same.
fn near_identical_words(wa: &[String], wb: &[String]) -> bool {
    wa.len() == wb.len()
        && wa != wb
        && wa.iter().zip(wb).all(|(x, y)| {
            x == y
                || (x.chars().count().min(y.chars().count()) >= 5
                    && crate::search::plan::edit_distance(x, y) <= 1)
        })
}

/// Whether two normalized queries are near-identical ([`near_identical_words`]).
#[cfg(test)]
fn near_identical(a: &str, b: &str) -> bool {
    let words = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
    near_identical_words(&words(a), &words(b))
}

/// Clusters merged at most, most searched first: merging compares each cluster with every
/// need found so far, and the long tail past this is kept as it is.
const MERGE_AT_MOST: usize = 3000;

/// Merges clusters that are the same need typed a little differently (a typo, a plural the
/// stemmer keeps apart) into the most searched of them: their normalized words or their typed
/// words ([`typed_key`]) are near-identical.
fn merge_variants(clusters: &[Cluster]) -> Vec<Cluster> {
    let words = |s: &str| {
        s.split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let mut out: Vec<Cluster> = Vec::new();
    // The words of each need's first cluster: normalized and typed.
    let mut keys: Vec<(Vec<String>, Vec<String>)> = Vec::new();
    for c in clusters.iter().take(MERGE_AT_MOST) {
        let key = (
            words(&c.key),
            words(&typed_key(
                c.queries.first().map_or(c.key.as_str(), |q| q.0.as_str()),
            )),
        );
        let found = keys
            .iter()
            .position(|k| near_identical_words(&k.0, &key.0) || near_identical_words(&k.1, &key.1));
        match found {
            Some(i) => {
                let o = &mut out[i];
                o.searches += c.searches;
                // People who typed both variants count twice: rare enough to accept.
                o.visitors += c.visitors;
                o.no_results += c.no_results;
                o.no_clicks += c.no_clicks;
                o.contacts += c.contacts;
                o.previous += c.previous;
                o.previous_no_results += c.previous_no_results;
                for l in &c.langs {
                    if !o.langs.contains(l) {
                        o.langs.push(l.clone());
                    }
                }
                for f in &c.filters {
                    if !o.filters.contains(f) {
                        o.filters.push(f.clone());
                    }
                }
                o.queries.extend(c.queries.iter().cloned());
                o.queries
                    .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            }
            None => {
                out.push(c.clone());
                keys.push(key);
            }
        }
    }
    out.extend(clusters.iter().skip(MERGE_AT_MOST).cloned());
    out
}

/// The language a search was made in: its filter; else the query's script when the reader's
/// interface language is not written in it and the script tells (a Cyrillic query on the
/// English pages); else the interface language; else the script's language when it tells
/// (Chinese, Telugu, Cyrillic …; a Latin query could be any of many languages). As a family: `zh-hans` and `zh-hant` for
/// Chinese, the primary subtag otherwise.
pub(crate) fn search_language(
    filter: Option<&str>,
    query: &str,
    ui: Option<&str>,
) -> Option<String> {
    if let Some(f) = filter.filter(|f| !f.is_empty()) {
        return Some(family(f));
    }
    let script = whatlang::detect_script(query);
    let written_in = |lang: &str| {
        script.is_none_or(|s| {
            s.langs()
                .iter()
                .any(|l| crate::articles::lang::iso_639_1(*l) == Some(primary(lang)))
        })
    };
    let detected = || {
        let d = crate::articles::lang::detect(query);
        (d != "und").then(|| family(&d))
    };
    match ui {
        // A Latin query tells little: brand names and English words are typed everywhere.
        Some(ui) if script.is_none_or(|s| s == whatlang::Script::Latin) || written_in(ui) => {
            // Traditional characters tell more than the interface language does.
            if script == Some(whatlang::Script::Mandarin)
                && detected().as_deref() == Some("zh-hant")
            {
                return Some("zh-hant".into());
            }
            Some(family(ui))
        }
        _ if script.is_none_or(|s| s == whatlang::Script::Latin) => None,
        _ => detected(),
    }
}

/// A language tag's family: Chinese by script (`zh-cn` and `zh-hans` → `zh-hans`, `zh-tw`,
/// `zh-hk` and `zh-hant` → `zh-hant`), other languages by primary subtag (`en-gb` → `en`).
pub fn family(tag: &str) -> String {
    let tag = tag.to_ascii_lowercase();
    let primary = primary(&tag);
    if primary != "zh" {
        return primary.to_string();
    }
    let subtags: Vec<&str> = tag.split(['-', '_']).skip(1).collect();
    if subtags
        .iter()
        .any(|s| matches!(*s, "hant" | "tw" | "hk" | "mo"))
    {
        "zh-hant".into()
    } else if subtags
        .iter()
        .any(|s| matches!(*s, "hans" | "cn" | "sg" | "my"))
    {
        "zh-hans".into()
    } else {
        "zh".into()
    }
}

/// How the articles name each language family (`zh-hant` → `zh-tw` when the translations
/// live in `zh-tw/`).
fn family_tags(articles: &[ArticleInfo]) -> HashMap<String, String> {
    let mut tags: HashMap<String, String> = HashMap::new();
    for a in articles {
        let e = tags
            .entry(family(&a.lang))
            .or_insert_with(|| a.lang.clone());
        if a.lang < *e {
            *e = a.lang.clone();
        }
    }
    tags
}

fn primary(lang: &str) -> &str {
    lang.split(['-', '_']).next().unwrap_or(lang)
}

/// Builds the report.
pub fn build(facts: &Facts, ctx: &Context<'_>) -> Report {
    let days = ((facts.until - facts.since) as f64 / DAY as f64).round() as i64;
    let by_path: HashMap<&str, &ArticleInfo> =
        ctx.articles.iter().map(|a| (a.path.as_str(), a)).collect();
    let published = |path: &str| by_path.get(path).is_some_and(|a| !a.draft);

    let tags = family_tags(ctx.articles);
    let tag_for = |family: &str| {
        tags.get(family)
            .cloned()
            .unwrap_or_else(|| family.to_string())
    };
    // Which translation groups exist in which language families.
    let translated: std::collections::HashSet<(&str, String)> = ctx
        .articles
        .iter()
        .filter(|a| !a.draft)
        .map(|a| (a.translation.as_str(), family(&a.lang)))
        .collect();

    // To write: unmet searches.
    let mut to_write: Vec<WriteItem> = Vec::new();
    let mut clusters = merge_variants(&facts.clusters);
    clusters.sort_by(|a, b| b.searches.cmp(&a.searches).then_with(|| a.key.cmp(&b.key)));
    let priority = |c: &Cluster| (c.no_results + c.no_clicks) as f64 + 2.0 * c.contacts as f64;
    let mut unmet: Vec<&Cluster> = clusters
        .iter()
        .filter(|c| c.searches >= MIN_SEARCHES && (c.visitors >= MIN_VISITORS || c.visitors == 0))
        .filter(|c| wilson_lower(c.no_results + c.no_clicks, c.searches) >= UNMET_FROM)
        .collect();
    // The closest articles are looked up for the most pressing needs first.
    unmet.sort_by(|a, b| {
        priority(b)
            .total_cmp(&priority(a))
            .then_with(|| a.key.cmp(&b.key))
    });
    for (i, c) in unmet.into_iter().enumerate() {
        let query = c
            .queries
            .first()
            .map_or_else(|| c.key.clone(), |q| q.0.clone());
        let langs: Vec<String> = c.langs.iter().map(|l| tag_for(l)).collect();
        let filter = match c.filters.as_slice() {
            [Some(l)] => Some(l.as_str()),
            _ => None,
        };
        let mut closest = if i < CLOSEST_FOR {
            (ctx.finder)(&query, filter)
        } else {
            Vec::new()
        };
        // Nothing in the reader's language: an article in another may answer it.
        let mut elsewhere = None;
        if closest.is_empty()
            && i < CLOSEST_FOR
            && filter.is_some()
            && let [lang] = langs.as_slice()
        {
            closest = (ctx.finder)(&query, None);
            elsewhere = closest
                .first()
                .filter(|c| c.missing.is_empty() && family(&c.lang) != family(lang))
                .map(|_| lang.clone());
        }
        let covered = closest.first().is_some_and(|c| c.missing.is_empty());
        let kind = if c.no_results >= c.no_clicks {
            WriteKind::NoResults
        } else {
            WriteKind::NoClicks
        };
        let in_langs = if langs.is_empty() {
            String::new()
        } else {
            format!(" (in {})", langs.join(", "))
        };
        let contacts = if c.contacts > 0 {
            format!("; {} then contacted support", c.contacts)
        } else {
            String::new()
        };
        let why = match kind {
            WriteKind::NoResults => format!(
                "{} searches by {} people for “{query}”{in_langs} found nothing{contacts}",
                c.searches,
                c.visitors.max(1)
            ),
            _ => format!(
                "{} searches by {} people for “{query}”{in_langs} showed results nobody opened{contacts}",
                c.searches,
                c.visitors.max(1)
            ),
        };
        let action = match closest.first() {
            Some(best) if elsewhere.is_some() => format!(
                "Translate “{}” ({}) into {}: it answers “{query}” in {} only",
                best.title,
                best.path,
                elsewhere.as_deref().unwrap_or_default(),
                best.lang
            ),
            None => format!("Write an article about “{query}”: no article covers this"),
            // An article that lacks most of the need does not cover it.
            Some(best) if best.missing.len() > best.has.len() || best.has.is_empty() => format!(
                "Write an article about “{query}”: no article covers it (the closest, “{}”, has only {})",
                best.title,
                if best.has.is_empty() {
                    "other words".to_string()
                } else {
                    format!("“{}”", best.has.join("”, “"))
                }
            ),
            Some(best) if !best.missing.is_empty() => format!(
                "Add the word{} “{}” to “{}” ({}), which covers the rest of “{query}”, or write an article about it",
                if best.missing.len() == 1 { "" } else { "s" },
                best.missing.join("”, “"),
                best.title,
                best.path
            ),
            Some(best) => format!(
                "Readers searching “{query}” do not open “{}” ({}): say in its title and description what it answers, or write the article they expect",
                best.title, best.path
            ),
        };
        to_write.push(WriteItem {
            kind,
            query,
            queries: c
                .queries
                .iter()
                .take(8)
                .map(|(q, n)| Count {
                    text: q.clone(),
                    count: *n,
                })
                .collect(),
            languages: langs,
            searches: c.searches,
            visitors: c.visitors,
            no_results: c.no_results,
            no_clicks: c.no_clicks,
            contacts: c.contacts,
            previous: c.previous,
            trend: change(c.searches, c.previous),
            covered,
            closest,
            path: None,
            why,
            action,
            priority: priority(c),
        });
    }

    // To write: translations that searches in another language reach for.
    // (language, article) → (clicks, visitors, queries with their clicks).
    type Wanted = (u64, u64, Vec<(String, u64)>);
    let mut wanted: BTreeMap<(String, String), Wanted> = BTreeMap::new();
    for d in &facts.demand {
        let Some(article) = by_path.get(d.path.as_str()) else {
            continue;
        };
        let lang = &d.lang;
        if family(&article.lang) == *lang {
            continue;
        }
        if translated.contains(&(article.translation.as_str(), lang.clone())) {
            continue;
        }
        let e = wanted.entry((tag_for(lang), d.path.clone())).or_default();
        e.0 += d.clicks;
        e.1 += d.visitors;
        e.2.push((d.query.clone(), d.clicks));
    }
    for ((lang, path), (clicks, visitors, mut queries)) in wanted {
        if clicks < TRANSLATION_MIN_CLICKS || visitors < MIN_VISITORS.min(clicks) {
            continue;
        }
        let a = by_path[path.as_str()];
        queries.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
        let query = queries[0].0.clone();
        to_write.push(WriteItem {
            kind: WriteKind::Translation,
            query: query.clone(),
            queries: queries.iter().take(8).map(|(q, n)| Count { text: q.clone(), count: *n }).collect(),
            languages: vec![lang.clone()],
            searches: clicks,
            visitors,
            no_results: 0,
            no_clicks: 0,
            contacts: 0,
            previous: 0,
            trend: String::new(),
            closest: vec![Closest {
                path: a.path.clone(),
                title: a.title.clone(),
                url: a.url.clone(),
                lang: a.lang.clone(),
                has: Vec::new(),
                missing: Vec::new(),
            }],
            covered: true,
            path: Some(path.clone()),
            why: format!(
                "{clicks} searches in {lang} (such as “{query}”) ended on “{}” ({}), which has no {lang} translation",
                a.title, a.lang
            ),
            action: format!("Translate “{}” ({path}) into {lang}", a.title),
            priority: clicks as f64,
        });
    }
    to_write.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then(b.priority.total_cmp(&a.priority))
            .then_with(|| a.query.cmp(&b.query))
    });

    // To update.
    let mut to_update: Vec<UpdateItem> = Vec::new();
    let site_contact_rate = {
        let (c, v) = facts.articles.values().fold((0u64, 0u64), |(c, v), a| {
            (c + a.contacts_after, v + a.views)
        });
        if v == 0 { 0.0 } else { c as f64 / v as f64 }
    };
    let source_lang = ctx.source_lang.clone().or_else(|| {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for a in ctx.articles.iter().filter(|a| !a.draft) {
            *counts.entry(a.lang.as_str()).or_default() += 1;
        }
        counts
            .into_iter()
            .max_by_key(|(_, n)| *n)
            .map(|(l, _)| l.to_string())
    });
    // The article each translation group started from.
    let sources: HashMap<&str, &ArticleInfo> = ctx
        .articles
        .iter()
        .filter(|s| !s.draft && Some(&s.lang) == source_lang.as_ref())
        .map(|s| (s.translation.as_str(), s))
        .collect();
    let empty = facts::ArticleFacts::default();
    for a in ctx.articles.iter().filter(|a| !a.draft) {
        let f = facts.articles.get(&a.path).unwrap_or(&empty);
        let item = |kind: UpdateKind, why: String, action: String, priority: f64| UpdateItem {
            kind,
            path: a.path.clone(),
            title: a.title.clone(),
            url: a.url.clone(),
            lang: a.lang.clone(),
            owner: a.owner.clone(),
            views: f.views,
            yes: f.yes,
            no: f.no,
            unhelpful_at_least: None,
            reasons: f.reasons.clone(),
            comments: f.comments.iter().map(|(_, c)| c.clone()).collect(),
            flags: f
                .flags
                .iter()
                .map(|(at, reason, note)| FlagNote {
                    date: date(*at),
                    reason: reason.clone(),
                    note: note.clone(),
                })
                .collect(),
            contacts: f.contacts_after,
            last_change: a.last_change.map(date),
            due: None,
            source: None,
            why,
            action,
            priority,
        };
        if !f.flags.is_empty() {
            let mut by_reason: BTreeMap<&str, usize> = BTreeMap::new();
            for (_, reason, _) in &f.flags {
                *by_reason.entry(reason.as_str()).or_default() += 1;
            }
            let said = by_reason
                .iter()
                .map(|(r, n)| {
                    if *n == 1 {
                        (*r).to_string()
                    } else {
                        format!("{r} ×{n}")
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            let notes: Vec<String> = f
                .flags
                .iter()
                .filter_map(|(_, _, n)| n.as_ref().map(|n| format!("“{n}”")))
                .take(3)
                .collect();
            to_update.push(item(
                UpdateKind::Flagged,
                format!(
                    "agents flagged it {} time{} since it last changed: {said}",
                    f.flags.len(),
                    if f.flags.len() == 1 { "" } else { "s" }
                ),
                if notes.is_empty() {
                    format!("Check “{}”: agents say it is {said}", a.title)
                } else {
                    format!("Fix “{}” — agents' notes: {}", a.title, notes.join("; "))
                },
                f.flags.len() as f64,
            ));
        }
        let votes = f.yes + f.no;
        let reasons = |f: &facts::ArticleFacts| {
            f.reasons
                .iter()
                .map(|(r, n)| format!("{r} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if votes >= MIN_VOTES {
            let low = wilson_lower(f.no, votes);
            let outdated = f.reasons.get("outdated").copied().unwrap_or(0);
            // "Outdated" asks for a review, a more precise task than a rewrite: an article
            // that is both is listed once, as outdated.
            if outdated >= OUTDATED_MIN && outdated as f64 >= OUTDATED_SHARE * votes as f64 {
                let mut i = item(
                    UpdateKind::Outdated,
                    format!(
                        "{outdated} of {votes} readers said it is outdated ({} said it did not help)",
                        f.no
                    ),
                    format!(
                        "Review “{}” — {outdated} of {votes} readers said outdated",
                        a.title
                    ),
                    outdated as f64 / votes as f64 + outdated as f64 / 1000.0,
                );
                i.unhelpful_at_least = Some((low * 1000.0).round() / 1000.0);
                to_update.push(i);
            } else if low >= UNHELPFUL_FROM {
                let mut i = item(
                    UpdateKind::Unhelpful,
                    format!(
                        "{} of {votes} readers said it did not help (at least {:.0}% with 95% confidence){}",
                        f.no,
                        low * 100.0,
                        if f.reasons.is_empty() {
                            String::new()
                        } else {
                            format!("; reasons: {}", reasons(f))
                        }
                    ),
                    format!(
                        "Rewrite “{}” where readers get stuck; read their comments",
                        a.title
                    ),
                    low,
                );
                i.unhelpful_at_least = Some((low * 1000.0).round() / 1000.0);
                to_update.push(i);
            }
        }
        if f.views >= CONTACT_MIN_VIEWS {
            let rate = f.contacts_after as f64 / f.views as f64;
            if wilson_lower(f.contacts_after, f.views) >= CONTACT_RATE
                && rate >= 2.0 * site_contact_rate
            {
                to_update.push(item(
                    UpdateKind::ContactAfterView,
                    format!(
                        "{} of {} readers contacted support after reading it ({:.0}%, against {:.0}% across the help center)",
                        f.contacts_after,
                        f.views,
                        rate * 100.0,
                        site_contact_rate * 100.0
                    ),
                    format!("Find what “{}” leaves unanswered: ask support what these readers asked, then add it", a.title),
                    rate * (f.views as f64).ln(),
                ));
            }
        }
        if let Some(changed) = a.last_change {
            let age = (ctx.now - changed) / DAY;
            if age >= STALE_DAYS && f.views >= STALE_MIN_VIEWS {
                to_update.push(item(
                    UpdateKind::Stale,
                    format!(
                        "last changed {} ({age} days ago), read {} times in {days} days",
                        date(changed),
                        f.views
                    ),
                    format!(
                        "Check that “{}” is still right, then update or confirm it",
                        a.title
                    ),
                    f.views as f64 * age as f64,
                ));
            }
        }
        // An article git added during the period has not had the period to be read; a help
        // center without a single view in it was not running.
        if f.views == 0 && facts.totals.views > 0 && a.added.is_none_or(|t| t < facts.since) {
            to_update.push(item(
                UpdateKind::Unread,
                format!(
                    "nobody read it in {days} days{}",
                    if f.previous_views > 0 {
                        format!(" (read {} times in the {days} days before)", f.previous_views)
                    } else {
                        String::new()
                    }
                ),
                format!(
                    "Make “{}” findable (a clearer title, the words readers use, links from related articles), or retire it",
                    a.title
                ),
                f.previous_views as f64 + a.added.map_or(0.0, |t| (facts.since - t) as f64 / 1e12),
            ));
        }
        if let (Some(every), Some(from)) = (a.review_every_days, a.reviewed) {
            let due = from + i64::from(every) * DAY;
            if due <= ctx.now {
                let owner = a.owner.clone().unwrap_or_else(|| "(no owner)".into());
                let mut i = item(
                    UpdateKind::ReviewDue,
                    format!(
                        "to be reviewed every {every} days; last updated {}, due {}",
                        date(from),
                        date(due)
                    ),
                    format!("{owner}: review “{}”", a.title),
                    (ctx.now - due) as f64,
                );
                i.due = Some(date(due));
                to_update.push(i);
            }
        }
        // Translations that the source article has moved ahead of.
        if let (Some(src_lang), Some(changed)) = (&source_lang, a.last_change)
            && a.lang != *src_lang
            && let Some(source) = sources.get(a.translation.as_str())
            && let Some(source_changed) = source.last_change
            && source_changed - changed >= DAY
        {
            let mut i = item(
                UpdateKind::TranslationBehind,
                format!(
                    "the {src_lang} article changed on {}, this translation on {}",
                    date(source_changed),
                    date(changed)
                ),
                format!(
                    "Update the {} translation of “{}” ({})",
                    a.lang, source.title, source.path
                ),
                (source_changed - changed) as f64,
            );
            i.source = Some(source.path.clone());
            to_update.push(i);
        }
    }
    to_update.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then(b.priority.total_cmp(&a.priority))
            .then_with(|| a.path.cmp(&b.path))
    });
    let mut review_queue: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in to_update.iter().filter(|i| i.kind == UpdateKind::ReviewDue) {
        review_queue
            .entry(i.owner.clone().unwrap_or_else(|| "(no owner)".into()))
            .or_default()
            .push(i.path.clone());
    }

    // Top lists.
    let query_top = |c: &Cluster, count: u64, previous: u64| Top {
        label: c
            .queries
            .first()
            .map_or_else(|| c.key.clone(), |q| q.0.clone()),
        path: None,
        url: None,
        count,
        previous,
        change: change(count, previous),
    };
    let top_searches = clusters
        .iter()
        .take(10)
        .map(|c| query_top(c, c.searches, c.previous))
        .collect();
    let mut failed: Vec<&Cluster> = clusters.iter().filter(|c| c.no_results > 0).collect();
    failed.sort_by(|a, b| {
        b.no_results
            .cmp(&a.no_results)
            .then_with(|| a.key.cmp(&b.key))
    });
    let top_no_results = failed
        .into_iter()
        .take(20)
        .map(|c| query_top(c, c.no_results, c.previous_no_results))
        .collect();
    let top_by = |count: &dyn Fn(&facts::ArticleFacts) -> (u64, u64)| -> Vec<Top> {
        let mut v: Vec<(&String, u64, u64)> = facts
            .articles
            .iter()
            .filter(|(p, _)| published(p))
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
                label: by_path
                    .get(p.as_str())
                    .map_or_else(|| p.clone(), |a| a.title.clone()),
                path: Some(p.clone()),
                url: by_path.get(p.as_str()).map(|a| a.url.clone()),
                count: n,
                previous: prev,
                change: change(n, prev),
            })
            .collect()
    };
    let top_articles = top_by(&|f| (f.views, f.previous_views));
    let top_linked = top_by(&|f| (f.links, f.previous_links));

    let t = &facts.totals;
    let rate = |n: u64, d: u64| {
        if d == 0 {
            0.0
        } else {
            (n as f64 / d as f64 * 1000.0).round() / 1000.0
        }
    };
    Report {
        since: date(facts.since),
        until: date(facts.until),
        days,
        summary: Summary {
            searches: t.searches,
            searches_change: change(t.searches, t.previous_searches),
            no_result_rate: rate(t.no_results, t.searches),
            no_click_rate: rate(t.no_clicks, t.searches),
            views: t.views,
            votes: t.yes + t.no,
            helpful_rate: (t.yes + t.no > 0).then(|| rate(t.yes, t.yes + t.no)),
            contact_clicks: t.contacts,
            links_inserted: t.links,
        },
        to_write,
        to_update,
        review_queue,
        top_searches,
        top_no_results,
        top_articles,
        top_linked,
        charts: Charts {
            days: facts.days.clone(),
            weeks: facts.weeks.clone(),
        },
    }
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
        let lang = |filter, query, ui| search_language(filter, query, ui);
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
    }

    #[test]
    fn changes_between_periods() {
        assert_eq!(change(15, 10), "+50%");
        assert_eq!(change(5, 10), "−50%");
        assert_eq!(change(5, 0), "new");
        assert_eq!(change(0, 0), "=");
        assert_eq!(change(10, 10), "=");
    }

    #[test]
    fn near_identical_queries() {
        assert!(near_identical("password reset", "pasword reset"));
        assert!(!near_identical("password reset", "password"));
        assert!(!near_identical("card", "cart"));
        assert!(!near_identical("refund", "refund"));
    }

    fn article(path: &str, lang: &str, changed: Millis) -> ArticleInfo {
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
        assert!(r.to_update.iter().all(|i| i.kind != UpdateKind::Unread));
        facts.totals.views = 100;
        let r = build(&facts, &ctx(&articles, &none, 120 * DAY));
        let of = |kind: UpdateKind| {
            r.to_update
                .iter()
                .filter(|i| i.kind == kind)
                .map(|i| i.path.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(of(UpdateKind::ReviewDue), ["en/a.md"]);
        assert_eq!(r.review_queue["maria"], ["en/a.md"]);
        let review = r
            .to_update
            .iter()
            .find(|i| i.kind == UpdateKind::ReviewDue)
            .unwrap();
        assert!(
            review.action.starts_with("maria: review"),
            "{}",
            review.action
        );
        assert_eq!(review.due.as_deref(), Some(date(80 * DAY).as_str()));
        assert_eq!(of(UpdateKind::Unread), ["en/a.md", "en/c.md"]);
    }

    fn ctx<'a>(articles: &'a [ArticleInfo], finder: Finder<'a>, now: Millis) -> Context<'a> {
        Context {
            now,
            articles,
            finder,
            source_lang: None,
        }
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
        assert!(r.to_write[0].action.contains("no article covers this"));
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
            .filter(|i| i.kind == UpdateKind::TranslationBehind)
            .collect();
        assert_eq!(behind.len(), 1);
        assert_eq!(behind[0].path, "uk/a.md");
        assert_eq!(behind[0].source.as_deref(), Some("en/a.md"));
    }
}
