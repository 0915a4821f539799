//! A synthetic but realistic history of a help center, with known gaps planted in it: what the
//! gap report's tests check it finds, and what its benchmark times at a million events.
//!
//! [`git_history`] commits the sample articles to a new repository with backdated commits;
//! [`events`] makes two periods (so trends have something to compare) of readers searching,
//! typing as they go, clicking, reading, voting and contacting support, agents searching and
//! linking, all in the articles' five languages. Searches run on the real index, so totals and
//! result lists are what kb would have recorded. The same seed gives the same history.
//!
//! Background traffic meets every need it has; the planted gaps ([`planted`]) are the only
//! things a correct report lists.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use kb::metrics::{Action, ActionKind, Click, Event, Millis, Reason, Search, Source, View, Vote};
use kb::report::ArticleInfo;
use kb::search::{Engine, SearchParams, normalize_query};

pub use kb::metrics::DAY;
use kb::metrics::{HOUR, MINUTE};

/// The gaps planted in the history, and what the report should say about each.
pub mod planted {
    /// Searches that find nothing: typed five ways (case, plural, word order, punctuation, a
    /// typo) by 41 people, 8 of whom then contacted support.
    pub const NO_RESULTS: &[(&str, usize)] = &[
        ("student discount", 20),
        ("Student Discounts", 8),
        ("discount for students", 6),
        ("student discount?", 4),
        ("student discont", 3),
    ];
    pub const NO_RESULTS_CONTACTS: usize = 8;
    /// The same need in Simplified and Traditional Chinese: one cluster; and, since the
    /// student discount articles being written (drafts) name "student discount" in English
    /// and 学生折扣 in Chinese, one need with the English searches.
    pub const NO_RESULTS_ZH: &[(&str, &str, usize)] =
        &[("学生折扣", "zh-cn", 12), ("學生折扣", "zh-tw", 9)];
    /// Searches with results nobody opens: the closest article lacks one word.
    pub const NO_CLICKS: &[(&str, usize)] = &[
        ("pause for vacation", 18),
        ("vacation pause", 5),
        ("pause for vacaton", 3),
    ];
    /// One need typed four ways (two scripts, a subset of the words, reordered, with
    /// function words), whose results nobody opens: one line. 24 people, 12 of whom typed
    /// two of the phrasings, so that people summed over phrasings would be 36.
    pub const PARAPHRASES_ZH: &[(&str, &str, usize)] = &[
        ("如何申请退款到信用卡", "zh-cn", 13),
        ("如何申請退款到信用卡", "zh-tw", 11),
        ("信用卡退款", "zh-cn", 6),
        ("退款 信用卡", "zh-cn", 6),
    ];
    pub const PARAPHRASES_ZH_PEOPLE: usize = 24;
    /// A distractor pair: one phrasing's words a subset of the other's, but different
    /// articles come first for each (what data is collected; how to get one's data), and
    /// nobody opens either: two lines.
    pub const DISTRACTORS: &[(&str, &str, usize)] = &[
        ("usage analytics", "en/privacy/what-data-we-collect.md", 8),
        (
            "usage analytics download",
            "en/privacy/export-your-data.md",
            7,
        ),
    ];
    /// One need in two languages answered by one translation group (cancelling a one-off
    /// order, `tests/fixtures/gap-report`): every fourth reader opens the article in their
    /// language, the others do not: one line, in en and uk. (phrasing, language, searches.)
    pub const ORDERS: &[(&str, &str, usize)] = &[
        ("cancel order", "en", 10),
        ("cancel my order", "en", 4),
        ("скасувати замовлення", "uk", 8),
    ];
    /// The translation group that answers [`ORDERS`], by language; only the planted history
    /// reads it.
    pub const ORDERS_ARTICLES: &[(&str, &str)] = &[
        ("en", "en/shipping/cancel-or-change-an-order.md"),
        ("uk", "uk/shipping/cancel-or-change-an-order.md"),
    ];
    /// The distractor of "cancel order": the same verb, another need, another article
    /// first, and nobody opens it: a line of its own.
    pub const CANCEL_SUBSCRIPTION: (&str, &str, usize) = (
        "cancel subscription",
        "en/billing/pause-or-cancel-subscription.md",
        9,
    );
    pub const NO_CLICKS_ARTICLE: &str = "en/billing/pause-or-cancel-subscription.md";
    pub const NO_CLICKS_MISSING: &str = "vacation";
    /// Ukrainian readers who end on an English article that has no Ukrainian translation.
    pub const TRANSLATE_UK: &[(&str, usize)] = &[
        ("tracking number", 10),
        ("track my box", 6),
        ("tracking", 4),
    ];
    pub const TRANSLATE_UK_ARTICLE: &str = "en/shipping/delivery-times-and-tracking.md";
    /// Traditional Chinese readers who end on a Simplified article with no zh-tw translation.
    pub const TRANSLATE_ZH_TW: &[(&str, usize)] = &[("匯出資料", 8), ("匯出個人資料", 4)];
    pub const TRANSLATE_ZH_TW_ARTICLE: &str = "zh-cn/privacy/export-your-data.md";
    /// 40 of 60 readers said it did not help.
    pub const UNHELPFUL: &str = "en/billing/pause-or-cancel-subscription.md";
    /// 3 of 3 said it did not help: listed, but below the article with 60 votes.
    pub const UNHELPFUL_FEW: &str = "te/account/reset-password.md";
    /// 7 of 9 readers said outdated.
    pub const OUTDATED: &str = "en/shipping/delivery-times-and-tracking.md";
    /// 25 of 80 readers contacted support right after reading it.
    pub const CONTACT_AFTER_VIEW: &str = "en/billing/understand-your-invoice.md";
    /// Last changed 400 days ago and still read.
    pub const STALE: &str = "en/shipping/damaged-or-missing-parcel.md";
    /// Its English source changed after it.
    pub const TRANSLATION_BEHIND: &str = "zh-cn/billing/refunds.md";
    pub const TRANSLATION_SOURCE: &str = "en/billing/refunds.md";
    /// Nobody reads it.
    pub const UNREAD: &str = "en/account/create-account.md";
    /// Read every other day through links (`tests/fixtures/gap-report`), never listed by a
    /// search.
    pub const UNFOUND: &str = "en/company/press-kit.md";
    /// Due for review (owner, path), most overdue first.
    pub const REVIEW_DUE: &[(&str, &str)] = &[
        ("maria@brightbox.example", "en/account/reset-password.md"),
        (
            "legal@brightbox.example",
            "en/privacy/what-data-we-collect.md",
        ),
    ];
    /// What agents link most.
    pub const MOST_LINKED: &str = "en/billing/refunds.md";
    /// One person searching the same thing five times: listed among the searches that found
    /// nothing, not as a need to write for.
    pub const ONE_PERSON: &str = "loyalty points";
    /// An agent search that finds nothing: agents' searches are not customers' demand.
    pub const AGENT_NO_RESULTS: &str = "escalation matrix tier three";
}

/// git in `dir` as a writer (a fixed identity), with no user or system configuration.
pub fn writer_git(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .env("GIT_AUTHOR_NAME", "Writer")
        .env("GIT_AUTHOR_EMAIL", "writer@example.com")
        .env("GIT_COMMITTER_NAME", "Writer")
        .env("GIT_COMMITTER_EMAIL", "writer@example.com")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    cmd
}

/// Runs `cmd` with `args` and returns what it printed; panics when it fails.
#[track_caller]
pub fn run_git(mut cmd: Command, args: &[&str]) -> String {
    let out = cmd.args(args).output().expect("git is installed");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Commits `dir` (a copy of the sample articles) to a new git repository with a history
/// relative to `now`: everything imported 400 days ago, refreshed 40 days ago except the
/// planted stale and review-due articles, and the English refunds article changed after its
/// Chinese translation. As writers do, each change sets front matter `updated` (where the
/// article has it) to the day of the commit.
pub fn git_history(dir: &Path, now: Millis) {
    let git = |args: &[&str], days_ago: i64| {
        let date = format!("@{} +0000", (now - days_ago * DAY) / 1000);
        let mut cmd = writer_git(dir);
        cmd.env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date);
        run_git(cmd, args);
    };
    let touch = |path: &str, days_ago: i64| {
        let p = dir.join(path);
        let day = kb::report::date(now - days_ago * DAY);
        let mut text: String = std::fs::read_to_string(&p)
            .unwrap()
            .lines()
            .map(|line| {
                if line.starts_with("updated:") {
                    format!("updated: {day}\n")
                } else if line.starts_with("updated =") {
                    format!("updated = {day}\n")
                } else {
                    format!("{line}\n")
                }
            })
            .collect();
        text.push('\n');
        std::fs::write(p, text).unwrap();
    };
    let all: Vec<String> = walk(dir);
    for p in &all {
        touch(p, 400);
    }
    git(&["init", "-q", "-b", "main"], 400);
    git(&["add", "."], 400);
    git(&["commit", "-qm", "Import the help center"], 400);
    touch(planted::REVIEW_DUE[1].1, 200);
    git(&["commit", "-qam", "Privacy: new processor"], 200);
    touch(planted::REVIEW_DUE[0].1, 120);
    git(&["commit", "-qam", "Account: new reset flow"], 120);
    for p in &all {
        if p != planted::STALE && !planted::REVIEW_DUE.iter().any(|(_, r)| r == p) {
            touch(p, 40);
        }
    }
    git(&["commit", "-qam", "Refresh every article"], 40);
    touch(planted::TRANSLATION_SOURCE, 10);
    git(&["commit", "-qam", "Refunds: 30-day window"], 10);
    for p in ["uk/billing/refunds.md", "zh-tw/billing/refunds.md"] {
        touch(p, 9);
    }
    git(&["commit", "-qam", "Refunds: translations"], 9);
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != ".git") {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(
                    p.strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    out.sort();
    out
}

/// How much history to make.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub now: Millis,
    /// Days of history (two report periods of 30 days by default).
    pub days: i64,
    /// Background traffic multiplier: 1 makes about 35 000 events over 60 days.
    pub scale: u32,
    pub seed: u64,
}

impl Options {
    pub fn new(now: Millis) -> Options {
        Options {
            now,
            days: 60,
            scale: 1,
            seed: 7,
        }
    }
}

/// What one search returned: total and result paths.
type Found = (u64, Vec<String>);

struct Gen<'a> {
    engine: &'a Engine,
    rng: StdRng,
    cache: HashMap<(String, Option<String>), Found>,
    events: Vec<Event>,
    ids: u64,
}

impl Gen<'_> {
    fn id(&mut self, prefix: &str) -> String {
        self.ids += 1;
        format!("{prefix}{:015x}", self.ids)
    }

    fn found(&mut self, query: &str, filter: Option<&str>) -> Found {
        let key = (query.to_string(), filter.map(str::to_string));
        if let Some(f) = self.cache.get(&key) {
            return f.clone();
        }
        let params = SearchParams {
            lang: filter.map(str::to_string),
            ..SearchParams::new(query)
        };
        let r = self.engine.search(&params).expect("search");
        let found = (
            r.total as u64,
            r.results.into_iter().map(|h| h.path).collect(),
        );
        self.cache.insert(key, found.clone());
        found
    }

    /// A search as a reader types it: a partial search or two while typing, then the search.
    #[allow(clippy::too_many_arguments)]
    fn search(
        &mut self,
        at: Millis,
        visitor: Option<&str>,
        query: &str,
        filter: Option<&str>,
        ui: Option<&str>,
        source: Source,
    ) -> (String, Found) {
        if source == Source::Customer && query.chars().count() > 4 && self.rng.random_bool(0.6) {
            let cut: String = query.chars().take(query.chars().count() / 2).collect();
            let (total, results) = self.found(&cut, filter);
            let id = self.id("p");
            self.events.push(Event::Search(Search {
                id,
                at: at - 2_000,
                visitor: visitor.map(str::to_string),
                query: cut.clone(),
                normalized: normalize_query(&cut),
                lang: filter.map(str::to_string),
                total,
                source,
                results: results.into_iter().take(6).collect(),
                partial: true,
                ui: ui.map(str::to_string),
            }));
        }
        let found = self.found(query, filter);
        let id = self.id("s");
        self.events.push(Event::Search(Search {
            id: id.clone(),
            at,
            visitor: visitor.map(str::to_string),
            query: query.to_string(),
            normalized: normalize_query(query),
            lang: filter.map(str::to_string),
            total: found.0,
            source,
            results: found.1.clone(),
            partial: false,
            ui: ui.map(str::to_string),
        }));
        (id, found)
    }

    /// A click on `path` among a search's results, and the view it leads to.
    fn click(&mut self, at: Millis, visitor: Option<&str>, search: &(String, Found), path: &str) {
        let position = search
            .1
            .1
            .iter()
            .position(|p| p == path)
            .unwrap_or_else(|| panic!("{path} is not among the results {:?}", search.1.1))
            as u32
            + 1;
        self.events.push(Event::Click(Click {
            at,
            visitor: visitor.map(str::to_string),
            search_id: search.0.clone(),
            path: path.to_string(),
            position,
        }));
        self.view(at + 300, visitor, path, Some(&search.0));
    }

    fn view(&mut self, at: Millis, visitor: Option<&str>, path: &str, search: Option<&str>) {
        self.events.push(Event::View(View {
            at,
            visitor: visitor.map(str::to_string),
            path: path.to_string(),
            search_id: search.map(str::to_string),
        }));
    }

    fn vote(
        &mut self,
        at: Millis,
        visitor: &str,
        path: &str,
        helpful: bool,
        reason: Option<Reason>,
        comment: Option<&str>,
    ) {
        self.events.push(Event::Vote(Vote {
            at,
            visitor: Some(visitor.to_string()),
            path: path.to_string(),
            helpful,
            reason,
            comment: comment.map(str::to_string),
            id: None,
        }));
    }

    fn action(
        &mut self,
        at: Millis,
        visitor: Option<&str>,
        kind: ActionKind,
        path: Option<&str>,
        search: Option<&str>,
        source: Source,
    ) {
        self.events.push(Event::Action(Action {
            at,
            visitor: visitor.map(str::to_string),
            kind,
            path: path.map(str::to_string),
            query: None,
            search_id: search.map(str::to_string),
            source: Some(source),
        }));
    }

    /// A time in the last `days` days before `now`, away from the period's edges.
    fn recent(&mut self, now: Millis, days: i64) -> Millis {
        now - self.rng.random_range(2 * HOUR..days * DAY - 2 * HOUR)
    }
}

/// What readers type to find an article: its title, its first words, and a query of its own
/// (front matter `queries`), kept only where the search really ranks the article in its top
/// five, so background searches always find what they look for.
fn queries_for(engine: &Engine, a: &ArticleInfo, queries: &[String]) -> Vec<String> {
    let mut candidates = vec![a.title.clone(), a.title.to_lowercase()];
    let words: Vec<&str> = a.title.split_whitespace().collect();
    if words.len() > 2 {
        candidates.push(words[..2].join(" ").to_lowercase());
        candidates.push(words[words.len() - 2..].join(" ").to_lowercase());
    }
    candidates.extend(queries.iter().take(3).cloned());
    candidates.dedup();
    let ranks = |q: &str| {
        let r = engine
            .search(&SearchParams::new(q))
            .expect("search")
            .results;
        r.iter().take(5).any(|h| h.path == a.path)
    };
    let mut kept: Vec<String> = candidates.into_iter().filter(|q| ranks(q)).collect();
    if kept.is_empty() {
        kept.push(a.title.clone());
    }
    kept
}

/// The history: background traffic for `opts.days` days and the planted gaps in the last 30.
/// `queries` gives each article's front matter `queries` (by path), for realistic searches.
pub fn events(
    engine: &Engine,
    articles: &[ArticleInfo],
    queries: &HashMap<String, Vec<String>>,
    opts: Options,
) -> Vec<Event> {
    let mut g = Gen {
        engine,
        rng: StdRng::seed_from_u64(opts.seed),
        cache: HashMap::new(),
        events: Vec::new(),
        ids: 0,
    };
    let now = opts.now;
    let scale = u64::from(opts.scale.max(1));

    // Background: every published article but the unread one and those only planted needs
    // read, with a popularity that falls off like real help centers' (a few articles get
    // most views).
    let mut read: Vec<&ArticleInfo> = articles
        .iter()
        .filter(|a| !a.draft && a.path != planted::UNREAD && a.path != planted::UNFOUND)
        .filter(|a| !planted::ORDERS_ARTICLES.iter().any(|(_, p)| *p == a.path))
        .collect();
    read.sort_by(|a, b| a.path.cmp(&b.path));
    for i in (1..read.len()).rev() {
        let j = g.rng.random_range(0..=i);
        read.swap(i, j);
    }
    let weights: Vec<f64> = (0..read.len())
        .map(|i| 1.0 / (i as f64 + 2.0).powf(0.8))
        .collect();
    let total_weight: f64 = weights.iter().sum();
    let typed: Vec<Vec<String>> = read
        .iter()
        .map(|a| {
            queries_for(
                engine,
                a,
                queries.get(&a.path).map_or(&[][..], |q| q.as_slice()),
            )
        })
        .collect();
    let visitors = 2000 * scale;
    let no_background_votes = [
        planted::UNHELPFUL,
        planted::UNHELPFUL_FEW,
        planted::OUTDATED,
    ];
    let pick = |rng: &mut StdRng| {
        let mut x = rng.random::<f64>() * total_weight;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    };
    for day in 0..opts.days {
        let start = now - (opts.days - day) * DAY;
        // Slow growth, and quieter weekends.
        let base = 110.0 + 40.0 * day as f64 / opts.days as f64;
        let weekend = if (start / DAY + 4) % 7 >= 5 { 0.6 } else { 1.0 };
        let searches = (base * weekend) as u64 * scale;
        for _ in 0..searches {
            let i = pick(&mut g.rng);
            let a = read[i];
            let at = start + g.rng.random_range(0..DAY - 10 * MINUTE);
            let visitor = if g.rng.random_bool(0.05) {
                None
            } else {
                Some(format!("v{:07}", g.rng.random_range(0..visitors)))
            };
            let v = visitor.as_deref();
            let q = typed[i][g.rng.random_range(0..typed[i].len())].clone();
            let filter = g.rng.random_bool(0.3).then_some(a.lang.as_str());
            let s = g.search(at, v, &q, filter, Some(&a.lang), Source::Customer);
            if g.rng.random_bool(0.12) || !s.1.1.contains(&a.path) {
                continue; // read the snippet, or gave up
            }
            g.click(at + 8_000, v, &s, &a.path);
            if let Some(v) = v {
                if !no_background_votes.contains(&a.path.as_str()) && g.rng.random_bool(0.15) {
                    let helpful = g.rng.random_bool(0.9);
                    let reason = (!helpful).then(|| Reason::ALL[g.rng.random_range(0..4)]);
                    g.vote(at + 90_000, v, &a.path, helpful, reason, None);
                }
                if g.rng.random_bool(0.015) {
                    g.action(
                        at + 3 * MINUTE,
                        Some(v),
                        ActionKind::ContactClicked,
                        Some(&a.path),
                        None,
                        Source::Customer,
                    );
                }
            }
        }
        // The press kit, opened from the press page's link every other day (late, by a
        // reader of its own: the random stream of the rest stays as it was).
        if day % 2 == 0 {
            let v = format!("v{:07}", 9_000_000 + day);
            g.view(start + DAY - 30 * MINUTE, Some(&v), planted::UNFOUND, None);
        }
        // Readers who arrive from elsewhere (a link in an email, a search engine).
        for _ in 0..(50 * scale) {
            let a = read[pick(&mut g.rng)];
            let at = start + g.rng.random_range(0..DAY);
            let v = format!("v{:07}", g.rng.random_range(0..visitors));
            g.view(at, Some(&v), &a.path, None);
        }
        // Agents answering tickets: search, then link the article into the reply.
        for n in 0..(15 * scale) {
            let i = if n % 3 == 0 {
                read.iter()
                    .position(|a| a.path == planted::MOST_LINKED)
                    .unwrap()
            } else {
                pick(&mut g.rng)
            };
            let a = read[i];
            let at = start + g.rng.random_range(0..DAY - MINUTE);
            let agent = format!("agent{}", g.rng.random_range(0..12));
            let q = typed[i][0].clone();
            g.search(at, Some(&agent), &q, None, Some("en"), Source::Agent);
            g.action(
                at + 20_000,
                Some(&agent),
                ActionKind::LinkInserted,
                Some(&a.path),
                None,
                Source::Agent,
            );
        }
        if day % 5 == 0 {
            let agent = "agent0";
            g.search(
                start + HOUR,
                Some(agent),
                planted::AGENT_NO_RESULTS,
                None,
                Some("en"),
                Source::Agent,
            );
        }
    }

    plant(&mut g, opts);
    g.events
}

fn plant(g: &mut Gen<'_>, opts: Options) {
    let now = opts.now;
    // No results, typed five ways; some then contact support. A few in the period before.
    let mut n = 0;
    for &(q, times) in planted::NO_RESULTS {
        for _ in 0..times {
            n += 1;
            let at = g.recent(now, 28);
            let v = format!("student{n}");
            let s = g.search(at, Some(&v), q, None, Some("en"), Source::Customer);
            assert_eq!(s.1.0, 0, "{q:?} finds something: {:?}", s.1.1);
            if n <= planted::NO_RESULTS_CONTACTS {
                g.action(
                    at + MINUTE,
                    Some(&v),
                    ActionKind::ContactClicked,
                    None,
                    Some(&s.0),
                    Source::Customer,
                );
            }
        }
    }
    for i in 0..5 {
        let at = now - 31 * DAY - i * DAY;
        g.search(
            at,
            Some(&format!("student-before{i}")),
            "student discount",
            None,
            Some("en"),
            Source::Customer,
        );
    }
    for i in 0..5 {
        let at = g.recent(now, 20) + i * MINUTE;
        let s = g.search(
            at,
            Some("descaler"),
            planted::ONE_PERSON,
            None,
            Some("en"),
            Source::Customer,
        );
        assert_eq!(s.1.0, 0, "{:?} finds something", planted::ONE_PERSON);
    }
    for &(q, ui, times) in planted::NO_RESULTS_ZH {
        for i in 0..times {
            let at = g.recent(now, 28);
            let v = format!("zh-student-{ui}-{i}");
            let s = g.search(at, Some(&v), q, None, Some(ui), Source::Customer);
            assert_eq!(s.1.0, 0, "{q:?} finds something: {:?}", s.1.1);
        }
    }
    // Results nobody opens.
    for &(q, times) in planted::NO_CLICKS {
        for i in 0..times {
            let at = g.recent(now, 28);
            let s = g.search(
                at,
                Some(&format!("vacation-{q}-{i}")),
                q,
                None,
                Some("en"),
                Source::Customer,
            );
            assert!(s.1.0 > 0, "{q:?} finds nothing");
        }
    }
    // A paraphrase family, its people typing more than one phrasing.
    let mut n = 0;
    for &(q, ui, times) in planted::PARAPHRASES_ZH {
        for _ in 0..times {
            let at = g.recent(now, 28);
            let v = format!("card-refund-{}", n % planted::PARAPHRASES_ZH_PEOPLE);
            n += 1;
            let s = g.search(at, Some(&v), q, None, Some(ui), Source::Customer);
            assert!(s.1.0 > 0, "{q:?} finds nothing");
        }
    }
    for &(q, first, times) in planted::DISTRACTORS {
        for i in 0..times {
            let at = g.recent(now, 28);
            let v = format!("distractor-{q}-{i}");
            let s = g.search(at, Some(&v), q, None, Some("en"), Source::Customer);
            assert_eq!(s.1.1.first().map(String::as_str), Some(first), "{q:?}");
        }
    }
    // One need in two languages, answered by one translation group: a quarter open it.
    let mut n = 0;
    for &(q, ui, times) in planted::ORDERS {
        let (_, path) = planted::ORDERS_ARTICLES
            .iter()
            .find(|(l, _)| *l == ui)
            .unwrap();
        for i in 0..times {
            let at = g.recent(now, 28);
            let v = format!("order-{ui}-{q}-{i}");
            let s = g.search(at, Some(&v), q, None, Some(ui), Source::Customer);
            if n % 4 == 0 {
                g.click(at + 5_000, Some(&v), &s, path);
            }
            n += 1;
        }
    }
    let (q, first, times) = planted::CANCEL_SUBSCRIPTION;
    for i in 0..times {
        let at = g.recent(now, 28);
        let v = format!("cancel-subscription-{i}");
        let s = g.search(at, Some(&v), q, None, Some("en"), Source::Customer);
        assert_eq!(s.1.1.first().map(String::as_str), Some(first), "{q:?}");
    }
    // Readers of one language ending on an article of another.
    for (list, ui, path) in [
        (planted::TRANSLATE_UK, "uk", planted::TRANSLATE_UK_ARTICLE),
        (
            planted::TRANSLATE_ZH_TW,
            "zh-tw",
            planted::TRANSLATE_ZH_TW_ARTICLE,
        ),
    ] {
        for &(q, times) in list {
            for i in 0..times {
                let at = g.recent(now, 28);
                let v = format!("{ui}-reader-{q}-{i}");
                let s = g.search(at, Some(&v), q, None, Some(ui), Source::Customer);
                g.click(at + 5_000, Some(&v), &s, path);
            }
        }
    }
    // Votes: unhelpful (40 of 60, reasons and comments), 3 of 3, outdated (7 of 9).
    let comments = [
        "The app has no pause button where the article says",
        "Doesn't say what happens to a box that already shipped",
        "I paused but was charged anyway",
    ];
    for i in 0..60 {
        let at = g.recent(now, 25);
        let v = format!("pause-reader-{i}");
        g.view(at - MINUTE, Some(&v), planted::UNHELPFUL, None);
        if i < 20 {
            g.vote(at, &v, planted::UNHELPFUL, true, None, None);
        } else {
            let reason = if i % 8 < 5 {
                Reason::Unclear
            } else {
                Reason::Incomplete
            };
            let comment = (i % 10 == 0).then(|| comments[i / 10 % comments.len()]);
            g.vote(at, &v, planted::UNHELPFUL, false, Some(reason), comment);
        }
    }
    for i in 0..3 {
        let at = g.recent(now, 25);
        g.vote(
            at,
            &format!("te-reader-{i}"),
            planted::UNHELPFUL_FEW,
            false,
            Some(Reason::Unclear),
            None,
        );
    }
    for i in 0..9 {
        let at = g.recent(now, 25);
        let v = format!("delivery-reader-{i}");
        if i < 2 {
            g.vote(at, &v, planted::OUTDATED, true, None, None);
        } else {
            let comment = (i == 2).then_some("The carrier is DPD now, not Royal Mail");
            g.vote(
                at,
                &v,
                planted::OUTDATED,
                false,
                Some(Reason::Outdated),
                comment,
            );
        }
    }
    // Readers who contact support right after reading.
    for i in 0..80 {
        let at = g.recent(now, 28);
        let v = format!("invoice-reader-{i}");
        g.view(at, Some(&v), planted::CONTACT_AFTER_VIEW, None);
        if i < 25 {
            g.action(
                at + 4 * MINUTE,
                Some(&v),
                ActionKind::ContactClicked,
                Some(planted::CONTACT_AFTER_VIEW),
                None,
                Source::Customer,
            );
        }
    }
    // The stale article is still read.
    for i in 0..15 {
        let at = g.recent(now, 28);
        g.view(
            at,
            Some(&format!("parcel-reader-{i}")),
            planted::STALE,
            None,
        );
    }
}

/// The help center the history is made for, in `dir`: the sample articles (the repository's
/// `articles/`) and the report's own (`tests/fixtures/gap-report`: drafts the planted gaps
/// need, and articles only the planted history reads).
pub fn help_center(dir: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&root.join("articles"), dir);
    copy_dir(&root.join("tests/fixtures/gap-report"), dir);
}

/// Copies a folder and everything in it.
pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), to).unwrap();
        }
    }
}

/// Each article's front matter `queries`, by path.
pub fn article_queries(dir: &Path) -> HashMap<String, Vec<String>> {
    let (articles, _) = kb::articles::load(dir, &Default::default()).unwrap();
    articles.into_iter().map(|a| (a.path, a.queries)).collect()
}

/// What a script hammering the help center leaves: `visitors` visitors, each searching in a
/// burst (a search every 100 ms, one of a few dozen queries that find nothing), opening an
/// article after every other search and clicking "Contact support" at even intervals;
/// `searches` searches and `contacts` contact clicks in all, in the last 20 days before
/// `now`. Every search is followed by a contact click within seconds, so each is followed:
/// the report's contact attribution must stay linear however many of both one visitor has.
pub fn contact_flood(now: Millis, visitors: usize, searches: usize, contacts: usize) -> Vec<Event> {
    let mut rng = StdRng::seed_from_u64(11);
    let mut events = Vec::with_capacity(searches * 3 / 2 + contacts);
    let per_visitor = searches / visitors.max(1);
    let every = (searches / contacts.max(1)).max(1);
    for v in 0..visitors {
        let visitor = format!("flood{v:027}");
        let start = now - rng.random_range(2 * DAY..20 * DAY);
        for i in 0..per_visitor {
            let at = start + i as Millis * 100;
            let id = format!("f{v:03}{i:028}");
            let query = format!("zqx flood {}", i % 40);
            events.push(Event::Search(Search {
                id: id.clone(),
                at,
                visitor: Some(visitor.clone()),
                normalized: normalize_query(&query),
                query,
                lang: None,
                total: 0,
                source: Source::Customer,
                results: Vec::new(),
                partial: false,
                ui: Some("en".into()),
            }));
            if i % 2 == 1 {
                events.push(Event::View(View {
                    at: at + 50,
                    visitor: Some(visitor.clone()),
                    path: planted::MOST_LINKED.into(),
                    search_id: None,
                }));
            }
            if i % every == every - 1 {
                events.push(Event::Action(Action {
                    at: at + 60,
                    visitor: Some(visitor.clone()),
                    kind: ActionKind::ContactClicked,
                    path: None,
                    query: None,
                    search_id: None,
                    source: Some(Source::Customer),
                }));
            }
        }
    }
    events
}
