//! The search index: tantivy schema, opening (or rebuilding) it, and keeping it in step with
//! the articles folder.
//!
//! The index folder holds derived data only. Its format is versioned ([`FORMAT_VERSION`],
//! stored in the commit payload together with the analyzer's version): an index written by
//! another version of kb, or one that fails to open, is wiped and rebuilt from the articles.
//! Commits are atomic (tantivy writes `meta.json` last), so an interrupted build leaves the
//! previous commit, which always opens, and the next sync completes the work.
//!
//! [`writer::sync`] makes the index match the folder, re-reading only files whose bytes
//! changed.

pub mod columns;
pub mod document;
pub mod groups;
pub mod headings;
pub mod offsets;
pub mod source;
pub mod store;
pub mod writer;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{Index, IndexReader, ReloadPolicy};

use crate::analysis;
use crate::error::{Error, Problem, Result};

/// Bumped when the schema or what is stored in it changes.
pub const FORMAT_VERSION: u32 = 26;

/// How the doc store is written: uncompressed, one document a block. A result reads only its
/// own document's bytes, in place in the mapped file ([`store`]), where it decompressed a
/// 16 kB LZ4 block of several (the store's largest value, `source`, is zstd-compressed by kb already,
/// and LZ4 decompression was ~6 % of a search), and no cache of decompressed blocks is
/// needed (it held megabytes of the serving process). The store takes ~39 MB on disk for
/// the k8s corpus rather than ~21 MB.
fn index_settings() -> tantivy::IndexSettings {
    tantivy::IndexSettings {
        docstore_compression: tantivy::store::Compressor::None,
        // A block is closed once it holds this many bytes: after every document.
        docstore_blocksize: 1,
        ..Default::default()
    }
}

/// Decompressed doc-store blocks cached per segment for results ([`store::DocStores`]):
/// none, blocks are neither compressed nor shared by documents ([`index_settings`]).
const DOC_STORE_CACHE_BLOCKS: usize = 0;

/// The fields of a kb index.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// The article's path: its identity (exact term, stored, fast for listing).
    pub path: Field,
    /// Hash of the file's bytes (fast), for incremental updates.
    pub hash: Field,
    pub url: Field,
    /// Normalized language tag (exact term, stored).
    pub lang: Field,
    /// Every subtag prefix of the language (`zh`, `zh-cn`), for the `lang` filter.
    pub lang_prefix: Field,
    pub draft: Field,
    pub category: Field,
    /// Front matter `translation_key` (fast): with the path, what makes translation groups
    /// ([`Catalog`]).
    pub translation_key: Field,
    /// Front matter `updated` (fast).
    pub updated: Field,
    /// Old URLs that redirect to the article (fast).
    pub aliases: Field,
    /// Front matter `owner` and `review_every` in days (fast), for the review queue.
    pub owner: Field,
    pub review_every: Field,
    pub title: Field,
    /// The title's words, normalized and joined: an exact term for "the query is the title".
    pub title_key: Field,
    /// Every heading, one value each.
    pub headings: Field,
    pub description: Field,
    /// Stored only: the first paragraph, shown when nothing better matches.
    pub summary: Field,
    /// Stored only: the canned reply agents paste (front matter `reply`).
    pub reply: Field,
    /// Tags and the category, searchable.
    pub tags: Field,
    /// The questions the article says it answers (a raw fast column too: the catalog's
    /// [`Entry::queries`]).
    pub queries: Field,
    /// The words of the article's location: its folders and file name (a breadcrumb).
    pub location: Field,
    /// The words of the headings' anchors that the headings do not say: a translated page's
    /// anchors keep the original's words ([`writer`]'s `anchor_words`).
    pub anchors: Field,
    /// On a translation, the title and headings of its source-language original (the path
    /// sibling in the language most articles are in, [`writer`]'s `Twins`): translated
    /// technical writing keeps many of the original's terms, and readers search in them.
    pub twin: Field,
    /// The titles of the folders above a Chinese article (their index pages' titles, a
    /// breadcrumb in the article's language: `概念` above `concepts/`; [`writer`]'s `Folders`).
    pub folders: Field,
    /// Hash of what the document takes from other files (0: nothing): the original's file
    /// the `twin` field was made from and the folder titles of `folders`, so that a sync
    /// re-indexes an article when they change.
    pub context_hash: Field,
    /// The visible text, indexed from tokens kb analyzes itself (see [`offsets`]).
    pub body: Field,
    /// The text of code blocks: searchable, with less weight than prose.
    pub code: Field,
    /// The Han character bigrams of the title, of the headings and of the body
    /// ([`analysis::bigrams`]): Chinese matched whatever jieba's cut, at a low weight.
    pub bigrams_title: Field,
    pub bigrams_headings: Field,
    pub bigrams_body: Field,
    /// Stored only: the visible text as UTF-8 bytes, for snippets (a result validates the
    /// passage it shows rather than the whole article).
    pub body_text: Field,
    /// Stored only: where each word of `body` is in `body_text` ([`offsets`]).
    pub body_offsets: Field,
    /// Stored only: the display columns of `body_text`, block by block ([`columns`]).
    pub body_columns: Field,
    /// Stored only: the headings, each with its anchor id and where it starts in
    /// `body_text` ([`headings`]' binary table), for results that point at a section.
    pub sections: Field,
    /// Stored only: the file's bytes as indexed, so that an article whose file a writer
    /// breaks keeps being served as it was (see [`SearchIndex::stored_source`]);
    /// zstd-compressed against `body_text` ([`source`]): a few kilobytes beside each
    /// document, which results, reading the store in place, never touch.
    pub source: Field,
}

impl Fields {
    /// The fields a query's words are searched in, in the order their scores add up
    /// (a word's score sums its terms field by field).
    pub fn searched(&self) -> [Field; 11] {
        [
            self.title,
            self.headings,
            self.description,
            self.tags,
            self.queries,
            self.body,
            self.code,
            self.location,
            self.anchors,
            self.twin,
            self.folders,
        ]
    }
}

/// The schema of a kb index.
pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let indexing = TextFieldIndexing::default().set_tokenizer(analysis::TOKENIZER_NAME);
    // Positions only where they are used: phrases (title, headings, body) and snippets (body).
    let text = TextOptions::default().set_indexing_options(
        indexing
            .clone()
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let positioned = TextOptions::default()
        .set_indexing_options(indexing.set_index_option(IndexRecordOption::WithFreqsAndPositions));
    let stored_text = text.clone().set_stored();
    // The fields that are neither stored nor fast (whose value need not be the text itself)
    // are analyzed on the threads that read the articles and their tokens handed over to
    // the writer ([`document`]): the body, the bigrams, the headings, the code…
    let handed_indexing = TextFieldIndexing::default().set_tokenizer(document::HANDED_TOKENIZER);
    let handed = TextOptions::default().set_indexing_options(
        handed_indexing
            .clone()
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let handed_positioned = TextOptions::default().set_indexing_options(
        handed_indexing.set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        path: b.add_text_field("path", STRING | STORED | FAST),
        hash: b.add_u64_field("hash", FAST),
        url: b.add_text_field("url", STRING | STORED | FAST),
        lang: b.add_text_field("lang", STRING | STORED | FAST),
        lang_prefix: b.add_text_field("lang_prefix", STRING),
        draft: b.add_bool_field("draft", INDEXED | STORED | FAST),
        category: b.add_text_field("category", STRING | STORED | FAST),
        translation_key: b.add_text_field("translation_key", STRING | FAST),
        updated: b.add_text_field("updated", STRING | FAST),
        aliases: b.add_text_field("aliases", STRING | FAST),
        owner: b.add_text_field("owner", STRING | FAST),
        review_every: b.add_u64_field("review_every", FAST),
        title: b.add_text_field("title", positioned.set_stored().set_fast("raw")),
        title_key: b.add_text_field("title_key", STRING),
        headings: b.add_text_field("headings", handed_positioned.clone()),
        description: b.add_text_field("description", stored_text.clone().set_fast("raw")),
        summary: b.add_text_field("summary", STORED),
        reply: b.add_text_field("reply", STORED),
        tags: b.add_text_field("tags", stored_text),
        queries: b.add_text_field("queries", text.set_fast("raw")),
        location: b.add_text_field("location", handed.clone()),
        anchors: b.add_text_field("anchors", handed.clone()),
        twin: b.add_text_field("twin", handed.clone()),
        folders: b.add_text_field("folders", handed.clone()),
        context_hash: b.add_u64_field("context_hash", FAST),
        body: b.add_text_field("body", handed_positioned),
        code: b.add_text_field("code", handed.clone()),
        bigrams_title: b.add_text_field("bigrams_title", handed.clone()),
        bigrams_headings: b.add_text_field("bigrams_headings", handed.clone()),
        bigrams_body: b.add_text_field("bigrams_body", handed),
        body_text: b.add_bytes_field("body_text", STORED),
        body_offsets: b.add_bytes_field("body_offsets", STORED),
        body_columns: b.add_bytes_field("body_columns", STORED),
        sections: b.add_bytes_field("sections", STORED),
        source: b.add_bytes_field("source", STORED),
    };
    (b.build(), fields)
}

/// What a commit payload says about the index that holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Payload {
    format: u32,
    analyzer: u32,
}

impl Payload {
    fn current() -> Self {
        Payload {
            format: FORMAT_VERSION,
            analyzer: analysis::ANALYZER_VERSION,
        }
    }
}

/// Why an index was created from scratch rather than opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fresh {
    /// There was no index.
    Missing,
    /// There was one, written by another version of kb.
    Incompatible(String),
    /// There was one that could not be opened.
    Broken(String),
}

impl std::fmt::Display for Fresh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fresh::Missing => write!(f, "no index yet"),
            Fresh::Incompatible(why) => write!(f, "index from another kb version ({why})"),
            Fresh::Broken(why) => write!(f, "index could not be opened ({why})"),
        }
    }
}

/// One of a search result's other languages ([`Catalog::shown_translations`]): its strings
/// are the catalog's entry's, and results share the whole of it (an `Arc`), so a result's
/// list costs a reference count a language. Serialized as four strings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Translation {
    pub lang: Arc<str>,
    pub url: Arc<str>,
    pub title: Arc<str>,
    pub path: Arc<str>,
}

/// A group member as results show it, and whether it is a draft.
#[derive(Debug)]
struct Shown {
    translation: Arc<Translation>,
    draft: bool,
}

/// One article, as the help center's pages list it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    /// The path, URL, language and title are shared with the results that list the article
    /// as a translation ([`Catalog::shown_translations`]): one copy of each in memory.
    pub path: Arc<str>,
    pub url: Arc<str>,
    pub lang: Arc<str>,
    pub title: Arc<str>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub draft: bool,
    /// Front matter `translation_key`.
    pub translation_key: Option<String>,
    /// The article's translation group ([`crate::articles::translations`]): articles with the
    /// same one are translations of each other.
    pub translation: String,
    pub updated: Option<String>,
    pub aliases: Vec<String>,
    pub owner: Option<String>,
    pub review_every_days: Option<u32>,
    /// Front matter `queries`: what the writer says the article answers, in its language
    /// (in byte order, each once). Private, like the front matter: never serialized.
    #[serde(skip)]
    pub queries: Vec<String>,
}

/// The catalog's maps, keyed by paths and URLs: FxHash (rustc-hash), as SipHash, the
/// default, hashed each member of every result's translation group several times a search.
/// Their keys are the help center's own paths and URLs, not a client's.
pub(crate) type Map<K, V> = rustc_hash::FxHashMap<K, V>;

/// The articles an index holds: what the pages list (home, categories, language switcher,
/// sitemap), where URLs and aliases lead, and what posted paths are checked against. Kept in
/// memory, rebuilt from fast fields at each sync.
///
/// Two articles with one URL: the first path (in byte order) keeps it, whatever order they
/// were indexed in, and the other is not served ([`Catalog::collisions`] names both). The
/// catalog also knows which articles' files are broken now ([`Catalog::problem`]): those
/// the index holds are served as they were last indexed ([`Catalog::is_stale`]).
#[derive(Debug, Default)]
pub struct Catalog {
    entries: Map<Arc<str>, Entry>,
    by_url: Map<String, String>,
    aliases: Map<String, String>,
    groups: groups::Groups,
    /// [`Catalog::languages`] without and with drafts, counted once: every grouped search
    /// asks for them.
    languages: [std::sync::OnceLock<Vec<(String, usize)>>; 2],
    /// The tags of [`Catalog::languages`] with drafts, listed once.
    tags: std::sync::OnceLock<Vec<String>>,
    /// Each group's members as results list them ([`Catalog::shown_translations`]), made
    /// once: a result's translations share their strings rather than copy four a member.
    shown: std::sync::OnceLock<Vec<Vec<Shown>>>,
    /// Articles whose file the last sync could not index, by path: broken, unreadable, or
    /// whose URL another article keeps.
    problems: BTreeMap<String, Problem>,
    /// Articles whose URL an article of an earlier path keeps, in path order.
    hidden: Vec<String>,
}

/// A URL without its trailing slash (`/en/billing/` and `/en/billing` are one page).
fn url_key(url: &str) -> &str {
    let t = url.trim_end_matches('/');
    if t.is_empty() { "/" } else { t }
}

/// Records `path` as the owner of `key` unless a path earlier in byte order has it.
fn claim(map: &mut Map<String, String>, key: &str, path: &str) {
    match map.get_mut(key) {
        Some(owner) if owner.as_str() <= path => {}
        Some(owner) => *owner = path.to_string(),
        None => {
            map.insert(key.to_string(), path.to_string());
        }
    }
}

impl Catalog {
    fn insert(&mut self, e: Entry) {
        self.languages = Default::default();
        self.tags = Default::default();
        self.shown = Default::default();
        self.groups.placed = Default::default();
        claim(&mut self.by_url, url_key(&e.url), &e.path);
        for a in &e.aliases {
            claim(&mut self.aliases, url_key(a), &e.path);
        }
        self.entries.insert(e.path.clone(), e);
    }

    /// Whether an article lost its URL to an article with an earlier path, by the URLs'
    /// owners (what [`Catalog::finish`] lists).
    fn loses_url(&self, e: &Entry) -> bool {
        self.by_url.get(url_key(&e.url)).map(String::as_str) != Some(&*e.path)
    }

    /// Whether an article lost its URL to an article with an earlier path: in the list of
    /// the finished catalog (most help centers have none; every search asks it of each
    /// member of its results' translation groups).
    fn is_hidden(&self, e: &Entry) -> bool {
        !self.hidden.is_empty()
            && self
                .hidden
                .binary_search_by(|h| (**h).cmp(&*e.path))
                .is_ok()
    }

    /// Notes which articles lost their URL, once every article is in.
    fn finish(mut self) -> Self {
        let mut hidden: Vec<String> = self
            .entries
            .values()
            .filter(|e| self.loses_url(e))
            .map(|e| e.path.to_string())
            .collect();
        hidden.sort();
        self.hidden = hidden;
        // Listed again with the hidden articles left out.
        self.groups.placed = Default::default();
        self
    }

    /// The entry at `path` if it is served (it has its URL; drafts only when `drafts`).
    fn served(&self, path: &str, drafts: bool) -> Option<&Entry> {
        self.entries
            .get(path)
            .filter(|e| (drafts || !e.draft) && !self.is_hidden(e))
    }

    /// Whether the article at `path` is served (drafts only when `drafts`).
    pub fn serves(&self, path: &str, drafts: bool) -> bool {
        self.served(path, drafts).is_some()
    }

    /// Number of articles, drafts included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path)
    }

    /// The article served at `url` (with or without a trailing slash).
    pub fn by_url(&self, url: &str) -> Option<&Entry> {
        self.by_url
            .get(url_key(url))
            .and_then(|p| self.entries.get(p.as_str()))
    }

    /// The article an old URL (an alias) now lives at.
    pub fn alias(&self, url: &str) -> Option<&Entry> {
        self.aliases
            .get(url_key(url))
            .and_then(|p| self.entries.get(p.as_str()))
            .filter(|e| !self.is_hidden(e))
    }

    /// The other-language versions of an article, by language.
    pub fn translations(&self, path: &str) -> Vec<&Entry> {
        let Some(group) = self.group_of(path) else {
            return Vec::new();
        };
        self.group_by_lang(group)
            .filter(|e| &*e.path != path)
            .collect()
    }

    /// Every article served (drafts included), in path order: not those whose URL an
    /// earlier path keeps.
    pub fn entries(&self) -> Vec<&Entry> {
        let mut v: Vec<&Entry> = self
            .entries
            .values()
            .filter(|e| !self.is_hidden(e))
            .collect();
        v.sort_by(|a, b| a.path.cmp(&b.path));
        v
    }

    /// Articles that share a URL with an article of an earlier path, which keeps it: (the
    /// article not served, the one served), in path order.
    pub fn collisions(&self) -> Vec<(&Entry, &Entry)> {
        let mut v: Vec<(&Entry, &Entry)> = self
            .entries
            .values()
            .filter_map(|e| Some((e, self.by_url(&e.url)?)))
            .filter(|(e, owner)| owner.path != e.path)
            .collect();
        v.sort_by(|a, b| a.0.path.cmp(&b.0.path));
        v
    }

    /// Paths the index holds that are not served at their URL (another article keeps it):
    /// searches leave them out.
    pub fn hidden_paths(&self) -> impl Iterator<Item = &str> {
        self.hidden.iter().map(String::as_str)
    }

    /// What is wrong with the file of the article at `path`, when the last sync could not
    /// index it.
    pub fn problem(&self, path: &str) -> Option<&Problem> {
        self.problems.get(path)
    }

    /// Every article the last sync could not index (broken, unreadable, or without its
    /// URL), by path.
    pub fn problems(&self) -> &BTreeMap<String, Problem> {
        &self.problems
    }

    /// Whether the article at `path` is served from its last good version: its file is
    /// broken now, and the index keeps what it was.
    pub fn is_stale(&self, path: &str) -> bool {
        self.problems.contains_key(path) && self.serves(path, true)
    }

    /// The languages that have articles, with how many, most first.
    pub fn languages(&self, drafts: bool) -> Vec<(String, usize)> {
        self.counted_languages(drafts).to_vec()
    }

    fn counted_languages(&self, drafts: bool) -> &[(String, usize)] {
        self.languages[usize::from(drafts)].get_or_init(|| self.count_languages(drafts))
    }

    /// The languages that have articles, drafts included, most first (what
    /// [`Catalog::languages`] lists, without the counts and not copied).
    pub fn language_tags(&self) -> &[String] {
        self.tags.get_or_init(|| {
            self.counted_languages(true)
                .iter()
                .map(|(l, _)| l.clone())
                .collect()
        })
    }

    /// The help center's source language: the one with most articles (drafts only when
    /// `drafts`).
    pub fn source_language(&self, drafts: bool) -> Option<&str> {
        self.counted_languages(drafts)
            .first()
            .map(|(l, _)| l.as_str())
    }

    fn count_languages(&self, drafts: bool) -> Vec<(String, usize)> {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for e in self
            .entries
            .values()
            .filter(|e| (drafts || !e.draft) && !self.is_hidden(e))
        {
            *counts.entry(&e.lang).or_default() += 1;
        }
        let mut v: Vec<(String, usize)> = counts
            .into_iter()
            .map(|(l, n)| (l.to_string(), n))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }
}

/// An open kb index.
pub struct SearchIndex {
    pub index: Index,
    pub reader: IndexReader,
    pub fields: Fields,
    pub dir: PathBuf,
    /// Set when the index was (re)created empty on opening, and why.
    pub fresh: Option<Fresh>,
    catalog: RwLock<Arc<Catalog>>,
    /// What the last sync reported.
    reported: std::sync::Mutex<writer::Reported>,
    /// The segments' doc stores results read from.
    stores: store::DocStores,
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it (empty) when it is missing, incompatible or
    /// broken. Fill it with [`writer::sync`].
    pub fn open_or_create(dir: &Path) -> Result<SearchIndex> {
        let (schema, fields) = schema();
        let folder_err = |source| Error::IndexFolder {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(folder_err)?;
        let (index, fresh) = match Self::try_open(dir, &schema) {
            Ok(index) => (index, None),
            Err(why) => {
                clear_dir(dir)?;
                let index = Index::builder()
                    .schema(schema)
                    .settings(index_settings())
                    .create_in_dir(dir)
                    .map_err(|source| Error::Index {
                        path: dir.to_path_buf(),
                        source,
                    })?;
                (index, Some(why))
            }
        };
        analysis::register(&index);
        document::register(&index);
        // The searcher's own doc stores serve only the rare reads of whole documents (an
        // article's last good source): results read from `stores`.
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|source| Error::Index {
                path: dir.to_path_buf(),
                source,
            })?;
        let idx = SearchIndex {
            index,
            reader,
            fields,
            dir: dir.to_path_buf(),
            fresh,
            catalog: RwLock::default(),
            reported: Default::default(),
            stores: store::DocStores::new(DOC_STORE_CACHE_BLOCKS),
        };
        idx.refresh_catalog(BTreeMap::new())
            .map_err(|source| Error::Index {
                path: dir.to_path_buf(),
                source,
            })?;
        Ok(idx)
    }

    /// A throwaway index in memory (for `kb check`'s search tests).
    pub fn in_memory() -> Result<SearchIndex> {
        let (schema, fields) = schema();
        let index = Index::builder()
            .schema(schema)
            .settings(index_settings())
            .create_in_ram()
            .map_err(|source| Error::Index {
                path: PathBuf::from("(memory)"),
                source,
            })?;
        analysis::register(&index);
        document::register(&index);
        let dir = PathBuf::from("(memory)");
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|source| Error::Index {
                path: dir.clone(),
                source,
            })?;
        Ok(SearchIndex {
            index,
            reader,
            fields,
            dir,
            fresh: None,
            catalog: RwLock::default(),
            reported: Default::default(),
            stores: store::DocStores::new(DOC_STORE_CACHE_BLOCKS),
        })
    }

    /// The articles the index holds now.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Re-reads the catalog from the current searcher (after a reload), with the articles
    /// the last sync could not index.
    pub(crate) fn refresh_catalog(
        &self,
        problems: BTreeMap<String, Problem>,
    ) -> tantivy::Result<()> {
        use tantivy::columnar::StrColumn;
        /// A column with its terms read once, in ordinal order: looking each document's
        /// term up in the dictionary costs a block decompression per call (0.35 s for the
        /// 4 293 articles of the k8s corpus), streaming the dictionary once costs nothing.
        struct Strings {
            col: StrColumn,
            terms: Vec<String>,
        }
        fn strings(col: Option<StrColumn>) -> tantivy::Result<Option<Strings>> {
            let Some(col) = col else { return Ok(None) };
            let mut terms = Vec::with_capacity(col.num_terms());
            let mut stream = col.dictionary().stream()?;
            while stream.advance() {
                terms.push(String::from_utf8_lossy(stream.key()).into_owned());
            }
            Ok(Some(Strings { col, terms }))
        }
        fn all(col: &Option<Strings>, doc: u32) -> Vec<String> {
            let Some(s) = col else { return Vec::new() };
            s.col
                .term_ords(doc)
                .filter_map(|ord| s.terms.get(ord as usize).cloned())
                .collect()
        }
        fn first(col: &Option<Strings>, doc: u32) -> Option<String> {
            let s = col.as_ref()?;
            let ord = s.col.term_ords(doc).next()?;
            s.terms.get(ord as usize).cloned()
        }
        let searcher = self.reader.searcher();
        let mut catalog = Catalog {
            problems,
            ..Catalog::default()
        };
        let mut docs: Vec<(tantivy::index::SegmentId, u32, String)> = Vec::new();
        for segment in searcher.segment_readers() {
            let fast = segment.fast_fields();
            let paths = strings(fast.str("path")?)?;
            if paths.is_none() {
                continue;
            }
            let urls = strings(fast.str("url")?)?;
            let langs = strings(fast.str("lang")?)?;
            let titles = strings(fast.str("title")?)?;
            let descriptions = strings(fast.str("description")?)?;
            let categories = strings(fast.str("category")?)?;
            let keys = strings(fast.str("translation_key")?)?;
            let updated = strings(fast.str("updated")?)?;
            let aliases = strings(fast.str("aliases")?)?;
            let drafts = fast.bool("draft")?;
            let owners = strings(fast.str("owner")?)?;
            let review_every = fast.u64("review_every").ok();
            let queries = strings(fast.str("queries")?)?;
            for doc in segment.doc_ids_alive() {
                let Some(path) = first(&paths, doc) else {
                    continue;
                };
                docs.push((segment.segment_id(), doc, path.clone()));
                let path: Arc<str> = Arc::from(path);
                catalog.insert(Entry {
                    url: first(&urls, doc).unwrap_or_default().into(),
                    lang: first(&langs, doc).unwrap_or_default().into(),
                    title: first(&titles, doc).map_or_else(|| path.clone(), Arc::from),
                    description: first(&descriptions, doc).filter(|d| !d.is_empty()),
                    category: first(&categories, doc),
                    draft: drafts.first(doc).unwrap_or(false),
                    translation_key: first(&keys, doc),
                    // Set by the grouping below, once every article is known.
                    translation: String::new(),
                    updated: first(&updated, doc),
                    aliases: all(&aliases, doc),
                    owner: first(&owners, doc),
                    review_every_days: review_every
                        .as_ref()
                        .and_then(|c| c.first(doc))
                        .and_then(|d| u32::try_from(d).ok()),
                    queries: all(&queries, doc),
                    path,
                });
            }
        }
        catalog.group(&docs);
        *self.catalog.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(catalog.finish());
        Ok(())
    }

    fn try_open(dir: &Path, schema: &Schema) -> std::result::Result<Index, Fresh> {
        if !dir.join("meta.json").exists() {
            return Err(Fresh::Missing);
        }
        let index = Index::open_in_dir(dir).map_err(|e| Fresh::Broken(e.to_string()))?;
        if index.schema() != *schema {
            return Err(Fresh::Incompatible("schema differs".into()));
        }
        let metas = index
            .load_metas()
            .map_err(|e| Fresh::Broken(e.to_string()))?;
        // An index whose first build never committed has no payload: it is empty, and the
        // next sync fills it, so it is fine to open (`is_complete` tells searches).
        if let Some(payload) = metas.payload {
            let found: Payload = serde_json::from_str(&payload)
                .map_err(|_| Fresh::Incompatible("unknown commit payload".into()))?;
            if found != Payload::current() {
                return Err(Fresh::Incompatible(format!(
                    "format {} analyzer {}, this kb writes format {} analyzer {}",
                    found.format,
                    found.analyzer,
                    FORMAT_VERSION,
                    analysis::ANALYZER_VERSION
                )));
            }
        }
        // Opening a searcher reads every segment's files: a truncated file shows up here.
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e: tantivy::TantivyError| Fresh::Broken(e.to_string()))?;
        drop(reader);
        Ok(index)
    }

    /// Whether a sync ever completed: an index whose first build was stopped (`kill -9`, a
    /// crash) opens fine but holds nothing, and the commit payload is written only by a
    /// sync that read the whole folder.
    pub fn is_complete(&self) -> bool {
        self.index
            .load_metas()
            .is_ok_and(|metas| metas.payload.is_some())
    }

    /// Number of articles in the index (drafts included).
    pub fn num_articles(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Bytes the index folder's files take (segments not yet collected included).
    pub fn disk_bytes(&self) -> u64 {
        std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok()?.metadata().ok())
            .filter(std::fs::Metadata::is_file)
            .map(|m| m.len())
            .sum()
    }

    /// When the index last committed: tantivy rewrites `meta.json` at each commit.
    pub fn last_commit(&self) -> Option<std::time::SystemTime> {
        std::fs::metadata(self.dir.join("meta.json"))
            .ok()?
            .modified()
            .ok()
    }

    /// The doc store of each of `searcher`'s segments, by segment ordinal, for reading
    /// results' stored fields.
    pub fn doc_stores(
        &self,
        searcher: &tantivy::Searcher,
    ) -> tantivy::Result<Vec<Arc<store::SegmentStore>>> {
        self.stores.of(searcher)
    }

    /// The bytes of the article file at `path` as the index last took them: the last good
    /// version of an article whose file is broken now.
    pub fn stored_source(&self, path: &str) -> tantivy::Result<Option<Vec<u8>>> {
        use tantivy::collector::TopDocs;
        use tantivy::query::TermQuery;
        use tantivy::schema::Value;
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            tantivy::Term::from_field_text(self.fields.path, path),
            IndexRecordOption::Basic,
        );
        let top = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?;
        let Some((_, address)) = top.first() else {
            return Ok(None);
        };
        let doc: tantivy::TantivyDocument = searcher.doc(*address)?;
        let bytes = |field| doc.get_first(field).and_then(|v| v.as_bytes());
        let Some(packed) = bytes(self.fields.source) else {
            return Ok(None);
        };
        let text = bytes(self.fields.body_text).unwrap_or_default();
        source::unpack(packed, text).map(Some).ok_or_else(|| {
            tantivy::TantivyError::InternalError(format!("the stored file of {path} is damaged"))
        })
    }
}

/// Whether a file in an index folder is one kb (through tantivy) writes.
fn is_index_file(name: &str) -> bool {
    if matches!(
        name,
        "meta.json" | ".managed.json" | ".gitignore" | ".gitkeep"
    ) {
        return true;
    }
    if name.starts_with(".tantivy-") || name.ends_with(".lock") {
        return true;
    }
    // Segment files: a 32-hex-digit uuid, then extensions.
    let stem = name.split('.').next().unwrap_or("");
    stem.len() == 32 && stem.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Removes an old or broken index, refusing to touch a folder with files kb did not write.
fn clear_dir(dir: &Path) -> Result<()> {
    let folder_err = |source| Error::IndexFolder {
        path: dir.to_path_buf(),
        source,
    };
    let entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(folder_err)?
        .collect::<std::io::Result<_>>()
        .map_err(folder_err)?;
    if let Some(foreign) = entries.iter().find(|e| {
        !e.file_type().is_ok_and(|t| t.is_file())
            || !is_index_file(&e.file_name().to_string_lossy())
    }) {
        return Err(Error::IndexFolder {
            path: dir.to_path_buf(),
            source: std::io::Error::other(format!(
                "it holds {:?}, which kb did not write; point --index at an empty or kb-owned folder",
                foreign.file_name()
            )),
        });
    }
    for e in entries {
        let name = e.file_name().to_string_lossy().to_string();
        if name == ".gitignore" || name == ".gitkeep" {
            continue;
        }
        std::fs::remove_file(e.path()).map_err(folder_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_files_are_recognized() {
        assert!(is_index_file("meta.json"));
        assert!(is_index_file("0123456789abcdef0123456789abcdef.store"));
        assert!(is_index_file("0123456789abcdef0123456789abcdef.12.del"));
        assert!(!is_index_file("notes.txt"));
    }

    #[test]
    fn refuses_to_clear_a_folder_with_other_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("meta.json"), "garbage").unwrap();
        std::fs::write(dir.path().join("thesis.docx"), "precious").unwrap();
        let err = SearchIndex::open_or_create(dir.path()).err().unwrap();
        assert!(err.to_string().contains("thesis.docx"), "{err}");
        assert!(dir.path().join("thesis.docx").exists());
    }

    #[test]
    fn broken_index_is_recreated() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("meta.json"), "{ not json").unwrap();
        let idx = SearchIndex::open_or_create(dir.path()).unwrap();
        assert!(matches!(idx.fresh, Some(Fresh::Broken(_))));
        drop(idx);
        let idx = SearchIndex::open_or_create(dir.path()).unwrap();
        assert_eq!(idx.fresh, None);
    }
}
