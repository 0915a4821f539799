//! Building and updating the index from the articles folder.
//!
//! [`sync`] compares every file's hash with the one stored in the index and re-reads only
//! what changed; new files are added, deleted or unreadable ones removed. Files are read,
//! parsed and analyzed on all cores, and the documents handed to one tantivy writer. A
//! broken file is parsed again only when its bytes change, and its problem is new (worth
//! telling again) only then.
//!
//! A save that breaks an article never takes it down: the index keeps the version it
//! had (the last good one, its file bytes included), and the catalog knows the article is
//! broken ([`super::Catalog::problem`]). An article that was never good is not indexed.
//! Two articles with one URL are both indexed, and the catalog serves the first path.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tantivy::Term;

use super::document::{Doc, InFlight, Tokens};
use super::{Fields, Payload, SearchIndex, offsets};
use crate::analysis::{self, TokenKind};
use crate::articles::{self, Article, Limits, lang, translations};
use crate::error::{Error, Problem, Result};

/// Memory for the writer's in-RAM segment; beyond it a segment is flushed to disk.
const WRITER_MEMORY: usize = 120_000_000;

/// What a [`sync`] did.
#[derive(Debug, Clone, Default)]
pub struct SyncReport {
    /// Articles in the folder that are now indexed.
    pub articles: usize,
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
    pub unchanged: usize,
    /// The paths added, updated or removed.
    pub changed: Vec<String>,
    /// Broken articles whose last good version the index keeps (served as it was).
    pub kept: usize,
    /// Articles that were broken before this sync and are not any more: pages showing them
    /// have news too.
    pub resolved: Vec<String>,
    /// Broken articles (skipped, or kept as they were), unreadable files, and articles whose
    /// URL an article of an earlier path keeps.
    pub problems: Vec<Problem>,
    /// Whether each of `problems` is new: not reported by the index's previous sync, or in a
    /// file whose bytes changed since.
    new: Vec<bool>,
    /// The article each of `problems` is about (relative path), when it is one.
    about: Vec<Option<String>>,
    pub elapsed: Duration,
}

impl SyncReport {
    pub fn changed(&self) -> bool {
        self.added + self.updated + self.removed > 0
    }

    /// The problems the previous sync of this index did not report: what a server that
    /// re-indexes on every save logs, so that a broken article is told once per change.
    pub fn new_problems(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .zip(&self.new)
            .filter_map(|(p, &new)| new.then_some(p))
    }

    /// The articles of [`SyncReport::new_problems`]: pages showing them have news.
    pub fn new_problem_paths(&self) -> impl Iterator<Item = &str> {
        self.about
            .iter()
            .zip(&self.new)
            .filter_map(|(path, &new)| path.as_deref().filter(|_| new))
    }
}

/// The problems an index's last sync found, so that the next one knows what is new.
#[derive(Debug, Default)]
pub(crate) struct Reported {
    /// Broken articles by path, with the hash of the bytes that were broken.
    broken: HashMap<String, (u64, Problem)>,
    /// Problems found before parsing (unreadable, outside the folder, too large).
    others: HashSet<Problem>,
}

/// The index's writer, fed kb's own documents.
pub type IndexWriter = tantivy::IndexWriter<Doc>;

/// Opens the one writer an index may have.
pub fn open_writer(idx: &SearchIndex) -> Result<IndexWriter> {
    idx.index
        .writer_with_num_threads(1, WRITER_MEMORY)
        .map_err(|e| match e {
            tantivy::TantivyError::LockFailure(..) => Error::IndexLocked {
                path: idx.dir.clone(),
            },
            source => Error::Index {
                path: idx.dir.clone(),
                source,
            },
        })
}

/// The documents' paths, with the hash of their file and of their original's
/// ([`Fields::context_hash`]), as the index has them now.
fn indexed_hashes(idx: &SearchIndex) -> Result<HashMap<String, (u64, u64)>> {
    let searcher = idx.reader.searcher();
    let mut out = HashMap::with_capacity(searcher.num_docs() as usize);
    for segment in searcher.segment_readers() {
        let fast = segment.fast_fields();
        let paths = fast.str("path")?;
        let hashes = fast.u64("hash")?;
        let contexts = fast.u64("context_hash")?;
        let Some(paths) = paths else { continue };
        let mut path = String::new();
        for doc in segment.doc_ids_alive() {
            let Some(ord) = paths.term_ords(doc).next() else {
                continue;
            };
            path.clear();
            if paths.ord_to_str(ord, &mut path).is_ok() {
                let hashes = (
                    hashes.first(doc).unwrap_or(0),
                    contexts.first(doc).unwrap_or(0),
                );
                out.insert(path.clone(), hashes);
            }
        }
    }
    Ok(out)
}

/// Which article is each Chinese translation's original: its path sibling (the same path
/// below another language folder, [`translations::path_key`]) in the language most of the
/// folder's articles are in. Translations grouped by `translation_key` alone (other file
/// names) have none: finding theirs would mean reading every file's front matter before
/// indexing any.
///
/// Chinese only, by measurement (README, *Round 6*): Chinese technical writing keeps the
/// original's terms or puts them in characters, and its readers type them in the original's
/// words; on Ukrainian translations the same field lost on both dev sets (the words they
/// lack are mostly ones they translated, such as `API`, which look rare in a field that
/// holds only what pages lack).
#[derive(Debug, Default)]
struct Twins {
    /// The original at each shared path.
    originals: HashMap<String, String>,
    /// Each original's file hash as this sync read it (filled by the first pass).
    hashes: std::sync::Mutex<HashMap<String, u64>>,
}

impl Twins {
    fn of(files: &[articles::SourceFile]) -> Twins {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for f in files {
            if let Some(l) = lang::from_path(&f.path) {
                *counts.entry(l).or_default() += 1;
            }
        }
        // Most articles; of equal counts, the first tag in order.
        let Some(source) = counts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(l, _)| l.clone())
        else {
            return Twins::default();
        };
        let originals = files
            .iter()
            .filter(|f| lang::from_path(&f.path).as_deref() == Some(source.as_str()))
            .map(|f| (translations::path_key(&f.path), f.path.clone()))
            .collect();
        Twins {
            originals,
            hashes: Default::default(),
        }
    }

    fn is_original(&self, path: &str) -> bool {
        self.originals
            .get(&translations::path_key(path))
            .map(String::as_str)
            == Some(path)
    }

    /// The original of the article at `path` when it is a Chinese translation.
    fn original_of(&self, path: &str) -> Option<&str> {
        if !is_chinese(path) {
            return None;
        }
        self.originals
            .get(&translations::path_key(path))
            .map(String::as_str)
            .filter(|&o| o != path)
    }
}

/// The titles of the folders above each Chinese article: the title of each folder's index
/// page (`_index.md`, `index.md`) by the folder's path (`zh-cn/docs/concepts` → `概念`). A
/// translation's folders keep the original's names, so its location field holds English
/// words; the titles are its breadcrumb in its own language (`StatefulSet 概念`).
///
/// Chinese only, by measurement (README, *Round 7*): on the Ukrainian pages the same
/// breadcrumb pushed folder index pages out of the top 10. An index page gets none: its
/// own title is its folder's, and with its ancestors' it matched queries meant for pages
/// below it.
#[derive(Debug, Default)]
struct Folders {
    titles: HashMap<String, String>,
}

impl Folders {
    fn of(dir: &Path, files: &[articles::SourceFile], limits: &Limits) -> Folders {
        let mut titles = HashMap::new();
        for f in files.iter().filter(|f| is_chinese(&f.path)) {
            let Some((folder, name)) = f.path.rsplit_once('/') else {
                continue;
            };
            if !is_index_page(name) {
                continue;
            }
            if let Some(a) = parsed(dir, &f.path, limits) {
                titles.insert(folder.to_string(), a.title);
            }
        }
        Folders { titles }
    }

    /// The titles of the folders above the article at `path`, nearest first.
    fn above(&self, path: &str) -> Vec<&str> {
        let Some((mut folder, name)) = path.rsplit_once('/') else {
            return Vec::new();
        };
        if is_index_page(name) || !is_chinese(path) {
            return Vec::new();
        }
        let mut out = Vec::new();
        loop {
            if let Some(t) = self.titles.get(folder) {
                out.push(t.as_str());
            }
            match folder.rsplit_once('/') {
                Some((up, _)) => folder = up,
                None => return out,
            }
        }
    }
}

fn is_index_page(file_name: &str) -> bool {
    matches!(file_name, "_index.md" | "index.md")
}

fn is_chinese(path: &str) -> bool {
    lang::from_path(path).is_some_and(|l| lang::primary(&l) == "zh")
}

/// The hash of what an article's document takes from other files: its original's file
/// (`twin_hash`, 0 for none) and the titles of the folders above it. A sync re-indexes the
/// article when it changes.
fn context_hash(twin_hash: u64, folders: &[&str]) -> u64 {
    if folders.is_empty() {
        return twin_hash;
    }
    let mut bytes = twin_hash.to_le_bytes().to_vec();
    for t in folders {
        bytes.extend_from_slice(t.as_bytes());
        bytes.push(0);
    }
    articles::hash_bytes(&bytes)
}

/// What the workers of a [`sync`] share.
struct Context<'a> {
    dir: &'a Path,
    /// `dir` canonicalized once for the whole pass ([`articles::read_in`]); `None` when it
    /// cannot be, and each read then tells why.
    root: Option<std::path::PathBuf>,
    limits: &'a Limits,
    fields: &'a Fields,
    indexed: &'a HashMap<String, (u64, u64)>,
    before: &'a Reported,
    twins: &'a Twins,
    folders: &'a Folders,
}

impl Context<'_> {
    /// Reads one file and makes its document, unless the index has it as it is.
    fn outcome(&self, file: &articles::SourceFile) -> Outcome {
        let path = file.path.clone();
        let root = self.root.as_deref();
        let bytes = match articles::read_in(self.dir, root, &file.path, self.limits) {
            Ok(bytes) => bytes,
            Err(problem) => return Outcome::Unreadable { path, problem },
        };
        let hash = articles::hash_bytes(&bytes);
        let twins = self.twins;
        if twins.is_original(&path) {
            lock(&twins.hashes).insert(path.clone(), hash);
        }
        let original = twins.original_of(&path);
        let twin_hash = original
            .and_then(|o| lock(&twins.hashes).get(o).copied())
            .unwrap_or(0);
        let folders = self.folders.above(&path);
        let context = context_hash(twin_hash, &folders);
        let known = self.before.broken.get(&path).filter(|b| b.0 == hash);
        if self.indexed.get(&path) == Some(&(hash, context)) {
            return Outcome::Unchanged(path);
        }
        if let Some((_, problem)) = known {
            return Outcome::Broken {
                path,
                hash,
                problem: problem.clone(),
                known: true,
            };
        }
        let shown = articles::shown_path(self.dir, &path);
        match articles::parse(&path, &shown, &bytes) {
            Ok(a) => {
                let twin = original.map(|o| self.twin_text(o)).unwrap_or_default();
                Outcome::Indexed {
                    doc: Box::new(document(self.fields, &a, &bytes, &twin, &folders, context)),
                    path,
                }
            }
            Err(problem) => Outcome::Broken {
                path,
                hash,
                problem,
                known: false,
            },
        }
    }

    /// The title and headings of the original at `path`, as its file says now (none when
    /// it cannot be read or parsed).
    fn twin_text(&self, path: &str) -> Vec<String> {
        let Some(a) = parsed(self.dir, path, self.limits) else {
            return Vec::new();
        };
        std::iter::once(a.title)
            .chain(a.headings.into_iter().map(|h| h.text))
            .collect()
    }
}

/// Another article than the one being indexed, read for what it lends (a twin's title and
/// headings, a folder's title); `None` when it is unreadable or broken: its own indexing
/// reports that.
fn parsed(dir: &Path, path: &str, limits: &Limits) -> Option<Article> {
    let bytes = articles::read(dir, path, limits).ok()?;
    articles::parse(path, &articles::shown_path(dir, path), &bytes).ok()
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

enum Outcome {
    Unchanged(String),
    Indexed {
        path: String,
        doc: Box<Doc>,
    },
    /// Not parsed: unreadable, outside the folder, too large.
    Unreadable {
        path: String,
        problem: Problem,
    },
    Broken {
        path: String,
        hash: u64,
        problem: Problem,
        /// Parsed before, with the same bytes.
        known: bool,
    },
}

/// Makes the index match the articles folder `dir` and commits. Files larger than `limits`
/// allow are skipped and reported.
pub fn sync(
    idx: &SearchIndex,
    writer: &mut IndexWriter,
    dir: &Path,
    limits: &Limits,
) -> Result<SyncReport> {
    let started = Instant::now();
    let (files, scan_problems) = articles::scan(dir)?;
    idx.reader.reload()?;
    let indexed = indexed_hashes(idx)?;
    let fields = idx.fields;
    let before = std::mem::take(&mut *idx.reported.lock().unwrap_or_else(|e| e.into_inner()));
    let mut reported = Reported::default();
    // (problem, new, the article it is about)
    let mut problems: Vec<(Problem, bool, Option<String>)> = Vec::new();
    let mut broken: BTreeMap<String, Problem> = BTreeMap::new();
    let broken_before: Vec<String> = idx.catalog().problems().keys().cloned().collect();
    let mut other = |p: Problem, about: Option<String>, problems: &mut Vec<_>| {
        let new = !before.others.contains(&p);
        reported.others.insert(p.clone());
        problems.push((p, new, about));
    };
    for p in scan_problems {
        other(p, None, &mut problems);
    }

    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(8));
    let mut report = SyncReport::default();
    let mut present = HashSet::with_capacity(files.len());
    let twins = Twins::of(&files);
    let folders = Folders::of(dir, &files, limits);
    let ctx = Context {
        dir,
        root: dir.canonicalize().ok(),
        limits,
        fields: &fields,
        indexed: &indexed,
        before: &before,
        twins: &twins,
        folders: &folders,
    };
    // The originals first: each translation's twin hash is its original's current one.
    let (originals, translations): (Vec<&articles::SourceFile>, Vec<&articles::SourceFile>) =
        files.iter().partition(|f| twins.is_original(&f.path));
    let in_flight = InFlight::default();
    for pass in [originals, translations] {
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| -> Result<()> {
            // Documents waiting for the one writer thread hold their tokens: with analysis
            // faster than the writer, a long queue only holds memory; a few per thread keep
            // the writer fed (and [`InFlight`] bounds tantivy's).
            let (tx, rx) = std::sync::mpsc::sync_channel::<Outcome>(4 * workers);
            for _ in 0..workers {
                let tx = tx.clone();
                let (pass, next, ctx) = (&pass, &next, &ctx);
                // Each analyzing thread remembers the words it analyzed last, in a table of
                // fixed size that goes with the thread ([`analysis::memoized`]).
                scope.spawn(move || {
                    analysis::memoized(|| {
                        while let Some(file) = pass.get(next.fetch_add(1, Ordering::Relaxed)) {
                            if tx.send(ctx.outcome(file)).is_err() {
                                break;
                            }
                        }
                    })
                });
            }
            drop(tx);
            for outcome in rx {
                match outcome {
                    Outcome::Unchanged(path) => {
                        report.unchanged += 1;
                        present.insert(path);
                    }
                    Outcome::Indexed { path, doc } => {
                        if indexed.contains_key(&path) {
                            report.updated += 1;
                            writer.delete_term(Term::from_field_text(fields.path, &path));
                        } else {
                            report.added += 1;
                        }
                        // Bounded: tantivy's own queue would take thousands.
                        writer.add_document(in_flight.send(*doc))?;
                        report.changed.push(path.clone());
                        present.insert(path);
                    }
                    Outcome::Unreadable { path, problem } => {
                        broken.insert(path.clone(), problem.clone());
                        other(problem, Some(path), &mut problems);
                    }
                    Outcome::Broken {
                        path,
                        hash,
                        problem,
                        known,
                    } => {
                        // The index keeps the version it has, the last good one.
                        if indexed.contains_key(&path) {
                            report.kept += 1;
                            present.insert(path.clone());
                        }
                        reported
                            .broken
                            .insert(path.clone(), (hash, problem.clone()));
                        broken.insert(path.clone(), problem.clone());
                        problems.push((problem, !known, Some(path)));
                    }
                }
            }
            Ok(())
        })?;
    }

    for path in indexed.keys().filter(|p| !present.contains(*p)) {
        writer.delete_term(Term::from_field_text(fields.path, path));
        report.removed += 1;
        report.changed.push(path.clone());
    }
    report.changed.sort();
    let payload = serde_json::to_string(&Payload::current()).expect("payload serializes");
    let needs_payload = idx.index.load_metas()?.payload.as_deref() != Some(payload.as_str());
    let committed = report.changed() || needs_payload;
    if committed {
        let mut commit = writer.prepare_commit()?;
        commit.set_payload(&payload);
        commit.commit()?;
        idx.reader.reload()?;
    }
    if committed || idx.catalog().problems() != &broken {
        idx.refresh_catalog(broken.clone())?;
    }
    // Two articles with one URL: the catalog serves the first path; the other is told.
    let collisions: Vec<(String, Problem)> = idx
        .catalog()
        .collisions()
        .into_iter()
        .map(|(lost, kept)| {
            let problem = Problem::error(
                articles::shown_path(dir, &lost.path),
                1,
                format!(
                    "the URL {} is also the URL of {}, which keeps it (the first path in order): this article is not served; give one of them another `slug`",
                    lost.url, kept.path
                ),
            );
            (lost.path.to_string(), problem)
        })
        .collect();
    if !collisions.is_empty() {
        for (path, problem) in collisions {
            broken
                .entry(path.clone())
                .or_insert_with(|| problem.clone());
            other(problem, Some(path), &mut problems);
        }
        idx.refresh_catalog(broken)?;
    }
    *idx.reported.lock().unwrap_or_else(|e| e.into_inner()) = reported;
    let catalog = idx.catalog();
    report.resolved = broken_before
        .into_iter()
        .filter(|p| catalog.problem(p).is_none())
        .collect();
    problems.sort_by(|a, b| (&a.0.file, a.0.line).cmp(&(&b.0.file, b.0.line)));
    for (problem, new, about) in problems {
        report.problems.push(problem);
        report.new.push(new);
        report.about.push(about);
    }
    report.articles = present.len();
    report.elapsed = started.elapsed();
    Ok(report)
}

/// The tantivy document of an article, read from the file bytes `source`; `twin` is the
/// title and headings of its original, `folders` the titles of the folders above it, and
/// `context` the hash of both's files ([`Fields::context_hash`]).
pub fn document(
    f: &Fields,
    a: &Article,
    source: &[u8],
    twin: &[String],
    folders: &[&str],
    context: u64,
) -> Doc {
    let mut d = Doc::new();
    d.add_text(f.path, &a.path);
    d.add_u64(f.hash, a.hash);
    d.add_u64(f.context_hash, context);
    d.add_text(f.url, &a.url);
    d.add_text(f.lang, &a.lang);
    for prefix in lang::prefixes(&a.lang) {
        d.add_text(f.lang_prefix, prefix);
    }
    d.add_bool(f.draft, a.draft);
    if let Some(key) = &a.translation_key {
        d.add_text(f.translation_key, key);
    }
    if let Some(u) = &a.updated {
        d.add_text(f.updated, u);
    }
    for alias in &a.aliases {
        d.add_text(f.aliases, alias);
    }
    if let Some(o) = &a.owner {
        d.add_text(f.owner, o);
    }
    if let Some(days) = a.review_every_days {
        d.add_u64(f.review_every, u64::from(days));
    }
    if let Some(c) = &a.category {
        d.add_text(f.category, c);
        d.add_text(f.tags, c);
    }
    d.add_text(f.title, &a.title);
    d.add_text(f.title_key, crate::analysis::title_key(&a.title));
    d.add_text(f.description, &a.description);
    d.add_text(f.summary, &a.summary);
    if let Some(r) = &a.reply {
        d.add_text(f.reply, r);
    }
    for t in &a.tags {
        d.add_text(f.tags, t);
    }
    for q in &a.queries {
        d.add_text(f.queries, q);
    }
    // The fields that are only searched, neither stored nor fast, are analyzed here rather
    // than on the writer's one thread ([`super::document`]); the headings' tokens also tell
    // which words their anchors add.
    d.add_tokens(f.location, analyzed(&location_words(&a.path)));
    for t in folders {
        d.add_tokens(f.folders, analyzed(t));
    }
    let headings: Vec<Tokens> = a.headings.iter().map(|h| analyzed(&h.text)).collect();
    for (h, said) in a.headings.iter().zip(&headings) {
        let other = anchor_words(h, said);
        if !other.is_empty() {
            d.add_tokens(f.anchors, analyzed(&other));
        }
    }
    let (tokens, spans) = analyze_body(&a.text);
    let code = analyzed(&a.code);
    if !twin.is_empty() {
        for words in twin_words(a, [&tokens, &code].into_iter().chain(&headings), twin) {
            d.add_tokens(f.twin, analyzed(&words));
        }
    }
    for h in headings {
        d.add_tokens(f.headings, h);
    }
    d.add_tokens(f.body, tokens);
    d.add_bytes(f.body_text, a.text.as_bytes());
    d.add_tokens(f.code, code);
    d.add_tokens(f.bigrams_title, bigram_tokens(&a.title));
    for h in &a.headings {
        d.add_tokens(f.bigrams_headings, bigram_tokens(&h.text));
    }
    d.add_tokens(f.bigrams_body, bigram_tokens(&a.text));
    d.add_bytes(f.body_offsets, offsets::encode(&spans));
    d.add_bytes(f.body_columns, super::columns::encode(&a.text));
    d.add_bytes(f.sections, super::headings::encode(&a.headings));
    // zstd fails only when it cannot allocate: the article is then indexed without a last
    // good version to serve.
    let packed = super::source::pack(source, a.text.as_bytes()).unwrap_or_default();
    d.add_bytes(f.source, packed);
    d
}

/// The words of a heading's anchor that its text does not have: a translated page keeps the
/// original's anchors (`## 偵聽器調試 {#watcher-debugging}`) so that links into it still work,
/// and they name the section in the original language, which readers search in too. Empty
/// for anchors made from the text.
/// `text` holds the tokens of the heading's text.
fn anchor_words(h: &articles::Heading, text: &Tokens) -> String {
    // Every term of the text counts, parts of identifiers too: `__VUE_PROD_DEVTOOLS__`'s
    // anchor `vue-prod-devtools` says nothing new.
    let said: HashSet<&str> = text.terms().collect();
    h.id.split(['-', '_', '.'])
        .filter(|w| !w.is_empty() && !w.chars().all(|c| c.is_ascii_digit()))
        .filter(|w| {
            analysis::analyze_to_vec(w)
                .iter()
                .any(|t| t.kind == TokenKind::Word && !said.contains(t.text.as_str()))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The words of the original's title and headings (`twin`) that the article `a` does not
/// have anywhere (`analyzed`: the tokens of its body, code and headings), one string per
/// title or heading that has any: what its readers may search for in the original's terms
/// (`Watcher Debugging` on a page that says 偵聽器調試), leaving the terms the translation kept
/// to count once, as its own.
fn twin_words<'a>(
    a: &Article,
    analyzed: impl IntoIterator<Item = &'a Tokens>,
    twin: &[String],
) -> Vec<String> {
    let mut said: HashSet<String> = analyzed
        .into_iter()
        .flat_map(Tokens::terms)
        .map(str::to_string)
        .collect();
    for text in [&a.title, &a.description] {
        said.extend(analysis::analyze_to_vec(text).into_iter().map(|t| t.text));
    }
    twin.iter()
        .map(|text| {
            analysis::analyze_to_vec(text)
                .into_iter()
                .filter(|t| t.kind == TokenKind::Word && !said.contains(&t.text))
                .map(|t| &text[t.from..t.to])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// The words of an article's path: `en/billing/refund-policy.md` → `billing refund policy`
/// (the language folder and `index` file names say nothing about the subject).
fn location_words(path: &str) -> String {
    let stem = path.strip_suffix(".md").unwrap_or(path);
    stem.split('/')
        .filter(|seg| lang::from_path(&format!("{seg}/x")).is_none())
        .filter(|seg| !matches!(*seg, "_index" | "index"))
        .flat_map(|seg| seg.split(['-', '_', '.']))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The body's tokens for tantivy, and the byte span of each word position.
fn analyze_body(text: &str) -> (Tokens, Vec<offsets::Span>) {
    let mut tokens = Tokens::default();
    let mut spans = Vec::new();
    analysis::analyze(text, &mut |t| {
        if t.kind == TokenKind::Word {
            debug_assert_eq!(spans.len(), t.position);
            spans.push(offsets::Span {
                start: t.from as u32,
                len: (t.to - t.from) as u32,
            });
        }
        tokens.push(&t.text, t.position);
    });
    (tokens, spans)
}

/// The tokens of `text` for tantivy, as the index's analyzer makes them ([`analysis::analyze`]).
fn analyzed(text: &str) -> Tokens {
    let mut tokens = Tokens::default();
    analysis::analyze(text, &mut |t| tokens.push(&t.text, t.position));
    tokens
}

/// The Han bigrams of `text` for tantivy ([`analysis::bigrams`]), each at its own position.
fn bigram_tokens(text: &str) -> Tokens {
    let mut tokens = Tokens::default();
    analysis::bigrams::bigrams(text, &mut |b| tokens.push(&b.text, tokens.len()));
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, path: &str, text: &str) {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn sync_is_incremental() {
        let articles = tempfile::tempdir().unwrap();
        let index_dir = tempfile::tempdir().unwrap();
        let a = articles.path();
        write(a, "en/a.md", "# Alpha\n\nfirst");
        write(a, "en/b.md", "# Beta\n\nsecond");
        write(a, "en/broken.md", "---\ntitle: [\n---\n");

        let idx = SearchIndex::open_or_create(index_dir.path()).unwrap();
        let mut w = open_writer(&idx).unwrap();
        let r = sync(&idx, &mut w, a, &Limits::default()).unwrap();
        assert_eq!((r.added, r.updated, r.removed, r.unchanged), (2, 0, 0, 0));
        assert_eq!(r.problems.len(), 1);
        assert_eq!(r.new_problems().count(), 1);
        assert!(r.problems[0].file.ends_with("en/broken.md"));
        assert_eq!(idx.num_articles(), 2);

        let r = sync(&idx, &mut w, a, &Limits::default()).unwrap();
        assert_eq!((r.added, r.updated, r.removed, r.unchanged), (0, 0, 0, 2));
        // Still broken, and not news: a server does not tell it again.
        assert_eq!(r.problems.len(), 1);
        assert_eq!(r.new_problems().count(), 0);
        write(a, "en/broken.md", "---\ntitle: [\n---\nsaved again");
        let r = sync(&idx, &mut w, a, &Limits::default()).unwrap();
        assert_eq!(r.new_problems().count(), 1);

        write(a, "en/b.md", "# Beta\n\nchanged");
        std::fs::remove_file(a.join("en/a.md")).unwrap();
        write(a, "en/c.md", "# Gamma");
        let r = sync(&idx, &mut w, a, &Limits::default()).unwrap();
        assert_eq!((r.added, r.updated, r.removed, r.unchanged), (1, 1, 1, 0));
        assert_eq!(idx.num_articles(), 2);

        // An article that breaks keeps its last good version, and the catalog knows.
        write(a, "en/c.md", "---\ndraft: maybe\n---\n");
        let r = sync(&idx, &mut w, a, &Limits::default()).unwrap();
        assert_eq!((r.removed, r.kept), (0, 1));
        assert_eq!(r.new_problem_paths().collect::<Vec<_>>(), ["en/c.md"]);
        assert_eq!(idx.num_articles(), 2);
        let catalog = idx.catalog();
        assert!(catalog.is_stale("en/c.md"));
        assert!(
            catalog
                .problem("en/c.md")
                .unwrap()
                .to_string()
                .contains("c.md:2:")
        );
        assert_eq!(
            idx.stored_source("en/c.md").unwrap().as_deref(),
            Some(&b"# Gamma"[..])
        );
        // Fixed, it is indexed again; deleted, it goes.
        write(a, "en/c.md", "# Gamma again");
        let r = sync(&idx, &mut w, a, &Limits::default()).unwrap();
        assert_eq!((r.updated, r.kept), (1, 0));
        assert_eq!(r.resolved, ["en/c.md"]);
        assert!(!idx.catalog().is_stale("en/c.md"));
        std::fs::remove_file(a.join("en/c.md")).unwrap();
        let r = sync(&idx, &mut w, a, &Limits::default()).unwrap();
        assert_eq!(r.removed, 1);
        assert_eq!(idx.num_articles(), 1);
    }

    #[test]
    fn the_last_good_version_outlives_a_restart() {
        let articles = tempfile::tempdir().unwrap();
        let index_dir = tempfile::tempdir().unwrap();
        let a = articles.path();
        write(a, "en/a.md", "# Alpha\n\nfirst words");
        {
            let idx = SearchIndex::open_or_create(index_dir.path()).unwrap();
            let mut w = open_writer(&idx).unwrap();
            sync(&idx, &mut w, a, &Limits::default()).unwrap();
        }
        write(a, "en/a.md", "---\ntitle: [unclosed\n---\nfirst words");
        // A broken article that was never good is not indexed, only reported.
        write(a, "en/b.md", "---\ntitle: [\n---\n");
        let idx = SearchIndex::open_or_create(index_dir.path()).unwrap();
        let mut w = open_writer(&idx).unwrap();
        let r = sync(&idx, &mut w, a, &Limits::default()).unwrap();
        assert_eq!((r.kept, r.articles), (1, 1));
        assert_eq!(r.new_problems().count(), 2);
        let catalog = idx.catalog();
        assert!(catalog.serves("en/a.md", false) && catalog.is_stale("en/a.md"));
        assert!(!catalog.serves("en/b.md", true) && catalog.problem("en/b.md").is_some());
        assert_eq!(catalog.problems().len(), 2);
    }

    #[test]
    fn the_first_path_keeps_a_shared_url() {
        let articles = tempfile::tempdir().unwrap();
        let index_dir = tempfile::tempdir().unwrap();
        let a = articles.path();
        write(a, "en/billing/refunds.md", "# Refunds");
        let idx = SearchIndex::open_or_create(index_dir.path()).unwrap();
        let mut w = open_writer(&idx).unwrap();
        sync(&idx, &mut w, a, &Limits::default()).unwrap();
        // A new file claims the URL: the first path keeps it, whatever came first.
        write(
            a,
            "en/billing/zz-old.md",
            "---\nslug: refunds\n---\n# Old refunds",
        );
        let r = sync(&idx, &mut w, a, &Limits::default()).unwrap();
        let told: Vec<String> = r.new_problems().map(ToString::to_string).collect();
        assert_eq!(told.len(), 1, "{told:?}");
        assert!(
            told[0].contains(
                "zz-old.md:1: the URL /en/billing/refunds is also the URL of en/billing/refunds.md"
            ),
            "{told:?}"
        );
        let catalog = idx.catalog();
        assert_eq!(
            &*catalog.by_url("/en/billing/refunds").unwrap().title,
            "Refunds"
        );
        assert!(!catalog.serves("en/billing/zz-old.md", true));
        assert_eq!(
            catalog.hidden_paths().collect::<Vec<_>>(),
            ["en/billing/zz-old.md"]
        );
        assert_eq!(catalog.entries().len(), 1);
        // Told once, not at every sync.
        let r = sync(&idx, &mut w, a, &Limits::default()).unwrap();
        assert_eq!((r.problems.len(), r.new_problems().count()), (1, 0));
        // Once the first one goes, the other has the URL.
        std::fs::remove_file(a.join("en/billing/refunds.md")).unwrap();
        let r = sync(&idx, &mut w, a, &Limits::default()).unwrap();
        assert!(r.problems.is_empty());
        assert_eq!(
            &*idx.catalog().by_url("/en/billing/refunds").unwrap().title,
            "Old refunds"
        );
    }

    #[test]
    fn reopening_keeps_the_index() {
        let articles = tempfile::tempdir().unwrap();
        let index_dir = tempfile::tempdir().unwrap();
        write(articles.path(), "en/a.md", "# Alpha");
        {
            let idx = SearchIndex::open_or_create(index_dir.path()).unwrap();
            let mut w = open_writer(&idx).unwrap();
            sync(&idx, &mut w, articles.path(), &Limits::default()).unwrap();
        }
        let idx = SearchIndex::open_or_create(index_dir.path()).unwrap();
        assert_eq!(idx.fresh, None);
        let mut w = open_writer(&idx).unwrap();
        let r = sync(&idx, &mut w, articles.path(), &Limits::default()).unwrap();
        assert_eq!((r.added, r.unchanged), (0, 1));
    }

    fn anchors(h: &articles::Heading) -> String {
        anchor_words(h, &analyzed(&h.text))
    }

    #[test]
    fn anchors_add_only_the_words_their_heading_does_not_say() {
        let heading = |text: &str, id: &str| articles::Heading {
            level: 2,
            text: text.into(),
            id: id.into(),
            at: 0,
        };
        assert_eq!(
            anchors(&heading("偵聽器調試", "watcher-debugging")),
            "watcher debugging"
        );
        assert_eq!(
            anchors(&heading("Watcher Debugging", "watcher-debugging")),
            ""
        );
        // An identifier's parts, numbered repeats and stems count as said.
        assert_eq!(
            anchors(&heading("__VUE_PROD_DEVTOOLS__", "vue-prod-devtools")),
            ""
        );
        assert_eq!(anchors(&heading("Examples", "example-2")), "");
        assert_eq!(
            anchors(&heading("Політика виселення", "eviction-policy")),
            "eviction policy"
        );
    }

    /// Documents whose `twin` field holds the term of `word`, by path.
    fn with_twin_word(idx: &SearchIndex, word: &str) -> Vec<String> {
        with_word(idx, idx.fields.twin, word)
    }

    /// Documents whose `field` holds the term of `word`, by path.
    fn with_word(idx: &SearchIndex, field: tantivy::schema::Field, word: &str) -> Vec<String> {
        use tantivy::collector::TopDocs;
        use tantivy::schema::{IndexRecordOption, Value};
        let term = analysis::analyze_to_vec(word).remove(0).text;
        let searcher = idx.reader.searcher();
        let query = tantivy::query::TermQuery::new(
            Term::from_field_text(field, &term),
            IndexRecordOption::Basic,
        );
        let top = searcher
            .search(&query, &TopDocs::with_limit(10).order_by_score())
            .unwrap();
        let mut paths: Vec<String> = top
            .into_iter()
            .map(|(_, address)| {
                let doc: tantivy::TantivyDocument = searcher.doc(address).unwrap();
                let path = doc.get_first(idx.fields.path).unwrap();
                path.as_str().unwrap().to_string()
            })
            .collect();
        paths.sort();
        paths
    }

    #[test]
    fn a_chinese_translation_carries_what_its_original_says_and_it_does_not() {
        let articles = tempfile::tempdir().unwrap();
        let a = articles.path();
        write(
            a,
            "en/guide/watchers.md",
            "# Watchers\n\n## Watcher Debugging\n\nText.",
        );
        write(a, "en/guide/other.md", "# Other\n\n## Debugging\n\nText.");
        let zh = "# 偵聽器 watchers\n\n## 偵聽器調試 {#watcher-debugging}\n\n內容。";
        write(a, "zh-tw/guide/watchers.md", zh);
        write(a, "uk/guide/watchers.md", "# Спостерігачі\n\nТекст.");
        let idx = SearchIndex::in_memory().unwrap();
        let mut w = open_writer(&idx).unwrap();
        sync(&idx, &mut w, a, &Limits::default()).unwrap();
        // The words the translation lacks, only on it: not the ones it says (`watchers`),
        // nor on originals, articles without an original, or Ukrainian translations.
        assert_eq!(
            with_twin_word(&idx, "debugging"),
            ["zh-tw/guide/watchers.md"]
        );
        assert!(with_twin_word(&idx, "watchers").is_empty());

        // The original changes: its translation follows; the others are left as they are.
        write(
            a,
            "en/guide/watchers.md",
            "# Watchers\n\n## Watcher Tracing\n\nText.",
        );
        let r = sync(&idx, &mut w, a, &Limits::default()).unwrap();
        assert_eq!(
            r.changed,
            ["en/guide/watchers.md", "zh-tw/guide/watchers.md"]
        );
        assert_eq!((r.updated, r.unchanged), (2, 2));
        assert!(with_twin_word(&idx, "debugging").is_empty());
        assert_eq!(with_twin_word(&idx, "tracing"), ["zh-tw/guide/watchers.md"]);
        let r = sync(&idx, &mut w, a, &Limits::default()).unwrap();
        assert_eq!(r.unchanged, 4);

        // The original goes: so does what the translation had from it.
        std::fs::remove_file(a.join("en/guide/watchers.md")).unwrap();
        let r = sync(&idx, &mut w, a, &Limits::default()).unwrap();
        assert_eq!(
            r.changed,
            ["en/guide/watchers.md", "zh-tw/guide/watchers.md"]
        );
        assert!(with_twin_word(&idx, "tracing").is_empty());
    }

    #[test]
    fn a_chinese_page_carries_the_titles_of_the_folders_above_it() {
        let articles = tempfile::tempdir().unwrap();
        let a = articles.path();
        write(a, "zh-cn/docs/concepts/_index.md", "# 概念\n\n概述。");
        write(
            a,
            "zh-cn/docs/concepts/workloads/_index.md",
            "# 工作负载\n\n概述。",
        );
        write(
            a,
            "zh-cn/docs/concepts/workloads/pods.md",
            "# Pod\n\n内容。",
        );
        write(a, "zh-cn/docs/tasks/run.md", "# 运行\n\n内容。");
        write(a, "uk/docs/concepts/_index.md", "# Концепції\n\nОгляд.");
        write(a, "uk/docs/concepts/pods.md", "# Pod\n\nТекст.");
        let idx = SearchIndex::in_memory().unwrap();
        let mut w = open_writer(&idx).unwrap();
        sync(&idx, &mut w, a, &Limits::default()).unwrap();
        let folders = idx.fields.folders;
        // Every folder above, on the pages below it: not on index pages (their own title is
        // their folder's), nor on pages of other languages.
        let pods = ["zh-cn/docs/concepts/workloads/pods.md"];
        assert_eq!(with_word(&idx, folders, "概念"), pods);
        assert_eq!(with_word(&idx, folders, "工作负载"), pods);
        assert!(with_word(&idx, folders, "концепції").is_empty());

        // A folder's title changes: the pages below it follow, and only they.
        write(a, "zh-cn/docs/concepts/_index.md", "# 架构\n\n概述。");
        let r = sync(&idx, &mut w, a, &Limits::default()).unwrap();
        assert_eq!(r.changed, ["zh-cn/docs/concepts/_index.md", pods[0]]);
        assert!(with_word(&idx, folders, "概念").is_empty());
        assert_eq!(with_word(&idx, folders, "架构"), pods);
        // Its body alone changes: nothing below it does.
        write(a, "zh-cn/docs/concepts/_index.md", "# 架构\n\n新的概述。");
        let r = sync(&idx, &mut w, a, &Limits::default()).unwrap();
        assert_eq!(r.changed, ["zh-cn/docs/concepts/_index.md"]);

        // The folder's index page goes: so does its title below it.
        std::fs::remove_file(a.join("zh-cn/docs/concepts/_index.md")).unwrap();
        let r = sync(&idx, &mut w, a, &Limits::default()).unwrap();
        assert_eq!(r.changed, ["zh-cn/docs/concepts/_index.md", pods[0]]);
        assert!(with_word(&idx, folders, "架构").is_empty());
        assert_eq!(with_word(&idx, folders, "工作负载"), pods);
    }

    #[test]
    fn a_second_writer_is_refused_with_a_clear_error() {
        let index_dir = tempfile::tempdir().unwrap();
        let idx = SearchIndex::open_or_create(index_dir.path()).unwrap();
        let _w = open_writer(&idx).unwrap();
        let err = open_writer(&idx).err().unwrap();
        assert!(err.to_string().contains("kb serve"), "{err}");
    }
}
