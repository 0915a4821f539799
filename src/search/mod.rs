//! Search: from a query to ranked results with snippets, the `/api/search` object.
//!
//! Ranking: the sum of
//! 1. **BM25** over title, headings, description, tags, the article's own `queries` and
//!    body, each with a boost ([`plan::Ranking`]); unstemmed forms add a bonus, spelling
//!    corrections and completions count at a discount; a Chinese word's character bigrams
//!    stand in for it in pages that lack it (jieba cut them otherwise), and the query's
//!    bigrams across its words add a little;
//! 2. a **coverage** bonus for each of the query's words (function words aside) a document
//!    contains, so an article with every word usually beats one with some; it is a bonus,
//!    not a tier: a page matching the query's rare words strongly (its title is the query's
//!    subject) may beat a page that mentions every word in passing;
//! 3. a **phrase/proximity** bonus when the words appear close together in order (in the
//!    body, the title, or one heading), and one when the query is an article's title (or
//!    would be, with its misspelled words corrected);
//! 4. a **length prior**, ln(1 + the body's words) at a small weight: of pages matching
//!    alike, the one that treats the subject at length ranks first ([`bonus`]).
//!
//! Any query text is valid: it is analyzed, never parsed as query syntax, so `"`, `*`, `:` or
//! `AND` are plain text.

mod bonus;
mod content;
pub mod group;
mod lookup;
pub mod message;
pub mod plan;
pub mod queries;
pub mod section;
pub mod snippet;
mod stored;
mod vocab;

use std::sync::Arc;
use std::time::Instant;

use tantivy::collector::TopDocs;
use tantivy::postings::{Postings, TermInfo};
use tantivy::query::{BooleanQuery, BoostQuery, EmptyQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocSet, Searcher, Term};

use crate::articles::lang;
use crate::index::{SearchIndex, offsets};
pub use plan::Ranking;
use plan::{Plan, PlannedWord};

/// Longest query accepted, in characters (not bytes, so Chinese or Ukrainian queries get as
/// much room as English ones).
pub const MAX_QUERY_CHARS: usize = 4096;
/// Most results one request may ask for.
pub const MAX_LIMIT: usize = 100;
/// Deepest result one request may page to.
pub const MAX_OFFSET: usize = 10_000;
pub const DEFAULT_LIMIT: usize = 10;

/// A search request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchParams {
    pub query: String,
    /// A language tag; keeps articles whose language is it or starts with it as subtags.
    pub lang: Option<String>,
    pub limit: usize,
    pub offset: usize,
    /// Whether draft articles are searched (writers' preview).
    pub drafts: bool,
    /// Whether results carry the article's first paragraph and canned reply (for agents).
    pub details: bool,
    /// Whether the person is still typing (search as you type, `partial=1`): the last word is
    /// then completed even when it is a whole word already (`pass` to `password`).
    pub typing: bool,
    /// The reader's language (`hl`, the interface's): each result shows its translation
    /// group in it where it can ([`group`]); else the language of the query.
    pub hl: Option<String>,
    /// One result per translation group (else one per article, for the report's look-ups).
    pub grouped: bool,
    /// Whether a result whose match sits in one section points at it ([`section`]).
    pub sections: bool,
    /// Whether words are searched exactly as typed, without spelling corrections ("Search
    /// instead for …", `correct=0`).
    pub exact: bool,
}

impl SearchParams {
    pub fn new(query: impl Into<String>) -> Self {
        SearchParams {
            query: query.into(),
            lang: None,
            limit: DEFAULT_LIMIT,
            offset: 0,
            drafts: false,
            details: false,
            typing: false,
            hl: None,
            grouped: true,
            sections: true,
            exact: false,
        }
    }
}

/// The `/api/search` response.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SearchResponse {
    pub query: String,
    pub total: usize,
    pub took_ms: f64,
    pub results: Vec<Hit>,
    /// The reader's language the results were chosen for (`hl`, else the query's), when
    /// known: a result in another language is a `fallback`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader_lang: Option<String>,
    /// The id under which the search was recorded, for result links (`?s=ID&r=RANK`) and
    /// events; absent when it was not recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_id: Option<String>,
    /// The query as searched when words the index does not know were searched as its
    /// closest words ("refund" for "refnud"), and something was found: "Showing results
    /// for …".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrected_query: Option<String>,
}

/// A query reduced to what it asks for: its words through the index's analyzer (stemmed,
/// folded to Simplified, lower case), without function words, sorted and deduplicated. Searches
/// that differ only in case, script, word order or punctuation get the same key.
pub fn normalize_query(query: &str) -> String {
    let mut words: Vec<String> = crate::analysis::analyze_to_vec(query)
        .into_iter()
        .filter(|t| t.kind == crate::analysis::TokenKind::Word)
        .map(|t| t.text)
        .collect();
    let content: Vec<String> = words
        .iter()
        .filter(|w| !crate::analysis::stopwords::is_stop_word(w))
        .cloned()
        .collect();
    // A query made only of function words keeps them.
    if !content.is_empty() {
        words = content;
    }
    words.sort();
    words.dedup();
    words.join(" ")
}

/// A result scoring less than this share of the best result's score is a weak match:
/// the results page lists it after a "more results" link, not as the equal of the best.
pub const WEAK_BELOW: f32 = 1.0 / 3.0;

/// A result holding less than this share of the query's weight ([`Hit::coverage`]) matches
/// only part of what was asked, however it ranks: "coffee tastes bad" answered by articles
/// that mention coffee and taste.
pub const COVERED_AT_LEAST: f32 = 0.5;

/// How many of `results` (best first) are strong matches: those whose words match at least
/// [`WEAK_BELOW`] as well as the first one's ([`Hit::matched`]) and holding at least
/// [`COVERED_AT_LEAST`] of the query. 0 when even the best matches only part of the query.
pub fn strong_count(results: &[Hit]) -> usize {
    let Some(best) = results.first().map(|h| h.matched) else {
        return 0;
    };
    results
        .iter()
        .take_while(|h| h.matched >= best * WEAK_BELOW && h.coverage >= COVERED_AT_LEAST)
        .count()
}

/// One result.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Hit {
    pub path: String,
    pub url: String,
    pub title: String,
    pub lang: String,
    /// HTML-safe: escaped text, matched words in `<mark>`.
    pub snippet: String,
    pub score: f32,
    /// How well the query's words match: `score` without the length prior, which ranks
    /// pages that match alike but says nothing of how well they match. For the pages'
    /// weak-match rule ([`strong_count`]); not part of the API.
    #[serde(skip)]
    pub matched: f32,
    /// The share of the query the article holds: the required words it has in any field,
    /// each weighed by its rarity in the help center (1 when it has them all). For the pages'
    /// weak-match rule ([`strong_count`]); not part of the API.
    #[serde(skip)]
    pub coverage: f32,
    /// With `details`: the article's first paragraph (else its description), plain text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// With `details`: the canned reply for agents (front matter `reply`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    /// The article in its other languages (its translation group), by language.
    #[serde(default)]
    pub translations: Vec<std::sync::Arc<Translation>>,
    /// The section the match sits in, when it sits in one: `url` then ends in its anchor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<SectionRef>,
    /// The article is not in the reader's language: it has no translation into it (or the
    /// language filter keeps that one out).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fallback: bool,
}

/// One of a result's other languages.
pub use crate::index::Translation;

/// The heading a result points at.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SectionRef {
    /// Its id on the article page (`url` ends in `#` and this, percent-encoded).
    pub anchor: String,
    pub heading: String,
}

/// An article near a query, and which of the query's words it has and lacks.
#[derive(Debug, Clone, PartialEq)]
pub struct Nearby {
    pub hit: Hit,
    pub has: Vec<String>,
    pub lacks: Vec<String>,
}

/// Why a search request was refused (a client error) or failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("the query is too long ({0} characters); the limit is {MAX_QUERY_CHARS}")]
    QueryTooLong(usize),
    #[error("`limit` must be at most {MAX_LIMIT}, got {0}")]
    LimitTooLarge(usize),
    #[error("`offset` must be at most {MAX_OFFSET}, got {0}")]
    OffsetTooLarge(usize),
    #[error("`lang` must be a language tag such as en, zh-cn or uk, got {0:?}")]
    BadLang(String),
    #[error(transparent)]
    Index(#[from] tantivy::TantivyError),
}

impl SearchError {
    /// Whether the request, not the server, is at fault.
    pub fn is_client_error(&self) -> bool {
        !matches!(self, SearchError::Index(_))
    }
}

/// Searches one index.
#[derive(Clone)]
pub struct Engine {
    index: Arc<SearchIndex>,
    ranking: Arc<Ranking>,
    /// The vocabulary of the segments searched last ([`vocab`]), shared by the engines of
    /// one index.
    vocabulary: Arc<std::sync::Mutex<Vocabularies>>,
}

/// What the engines of one index know of the [`vocab`] of the segments they searched last.
#[derive(Default)]
struct Vocabularies {
    /// The segments of the last search that went without a vocabulary.
    seen: Option<Vec<tantivy::index::SegmentId>>,
    /// The vocabulary of the segments searched last, once read.
    current: Option<Arc<vocab::Vocabulary>>,
}

impl Engine {
    pub fn new(index: Arc<SearchIndex>, ranking: Ranking) -> Self {
        Engine {
            index,
            ranking: Arc::new(ranking),
            vocabulary: Arc::default(),
        }
    }

    pub fn index(&self) -> &SearchIndex {
        &self.index
    }

    /// The weights this engine ranks with.
    pub fn ranking(&self) -> &Ranking {
        &self.ranking
    }

    /// An engine over the same index that ranks with other weights.
    pub fn with_ranking(&self, ranking: Ranking) -> Engine {
        Engine {
            index: self.index.clone(),
            ranking: Arc::new(ranking),
            vocabulary: self.vocabulary.clone(),
        }
    }

    /// Runs a search.
    pub fn search(&self, params: &SearchParams) -> Result<SearchResponse, SearchError> {
        let started = Instant::now();
        // Counting stops early: a huge query costs no more than a long one.
        let chars = params.query.chars().take(MAX_QUERY_CHARS + 1).count();
        if chars > MAX_QUERY_CHARS {
            return Err(SearchError::QueryTooLong(params.query.chars().count()));
        }
        let lang = checked(params)?;
        let fields = &self.index.fields;
        let searcher = self.index.reader.searcher();
        let adjusted;
        let ranking = if params.exact {
            adjusted = Ranking {
                correction: 0.0,
                rare_correction: 0.0,
                ..(*self.ranking).clone()
            };
            &adjusted
        } else {
            &*self.ranking
        };
        let mut clock = Clock::start(started);
        let lookup = lookup::Lookup::with_vocabulary(&searcher, self.vocabulary(&searcher));
        let plan = plan::plan_with(
            &params.query,
            params.typing,
            lang.as_deref(),
            &lookup,
            fields,
            ranking,
        );
        clock.lap(Stage::Plan);
        let query = self.query(&lookup, &plan, lang.as_deref(), params.drafts);
        clock.lap(Stage::Query);

        let catalog = self.index.catalog();
        let reader = group::Reader::of_query(params.hl.as_deref(), &params.query, &catalog);
        let found = group::collect(&searcher, &lookup, &*query, &catalog, params)?;
        clock.lap(Stage::Collect);
        let (top, total) = group::page(
            &searcher,
            found,
            &catalog,
            fields.path,
            params,
            lang.as_deref(),
            &reader,
        )?;
        clock.lap(Stage::Choose);
        let results = self.hits(&lookup, top, &plan, params, &catalog, &mut clock)?;
        let took_ms = started.elapsed().as_secs_f64() * 1000.0;
        clock.log(
            plan.words
                .iter()
                .map(|w| w.alternatives.len())
                .sum::<usize>(),
        );
        Ok(SearchResponse {
            query: params.query.clone(),
            total,
            took_ms,
            results,
            reader_lang: reader.lang,
            search_id: None,
            corrected_query: (total > 0)
                .then(|| corrected_query(&params.query, &plan))
                .flatten(),
        })
    }

    /// The vocabulary of the searcher's segments: the one of the last search, or read anew
    /// when the segments changed, by the second search over them (once per reload of the
    /// index): a single search (`kb search`) would spend more reading it than it saves.
    fn vocabulary(&self, searcher: &tantivy::Searcher) -> Option<Arc<vocab::Vocabulary>> {
        {
            let mut known = self.vocabulary.lock().ok()?;
            if let Some(v) = known.current.as_ref().filter(|v| v.is_of(searcher)) {
                return Some(v.clone());
            }
            let segments = vocab::segment_ids(searcher);
            if known.seen.as_ref() != Some(&segments) {
                known.seen = Some(segments);
                return None;
            }
        }
        // The fields each word and alternative is looked up in; the bigram fields (Han
        // queries only) hold as many terms again, and are asked in their dictionaries.
        let fields = self.index.fields.searched();
        let started = std::time::Instant::now();
        let listed = plan::vocabulary_fields(&self.index.fields);
        let v = Arc::new(vocab::Vocabulary::of(searcher, &fields, &listed));
        let (bytes, sorted_bytes) = v.bytes();
        tracing::debug!(
            bytes,
            sorted_bytes,
            ms = started.elapsed().as_secs_f64() * 1e3,
            "vocabulary of the searched fields read"
        );
        // Read without the lock, not to hold up the searches meanwhile (one may read it too).
        self.vocabulary.lock().ok()?.current = Some(v.clone());
        Some(v)
    }

    /// The articles closest to a query, best first, each with the query's words it has and
    /// lacks (as typed): what the gap report shows for a need nobody's search met. The last
    /// word is taken as complete, so "ref" is missing from an article about refunds. Words
    /// count as present in any of their forms the search accepts (stems,
    /// Traditional/Simplified, spelling corrections), in any field.
    pub fn closest(
        &self,
        query: &str,
        lang: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Nearby>, SearchError> {
        let query = format!("{} ", query.trim());
        let params = SearchParams {
            lang: lang.map(str::to_string),
            limit,
            grouped: false,
            sections: false,
            ..SearchParams::new(query.clone())
        };
        let found = self.search(&params)?;
        if found.results.is_empty() {
            return Ok(Vec::new());
        }
        let f = &self.index.fields;
        let searcher = self.index.reader.searcher();
        let plan = plan::plan(&query, false, &searcher, f, &self.ranking);
        let fields = [
            f.title,
            f.headings,
            f.description,
            f.tags,
            f.queries,
            f.body,
            f.code,
            f.anchors,
        ];
        let mut out = Vec::with_capacity(found.results.len());
        for hit in found.results {
            let Some(address) = address_of(&searcher, self.index.fields.path, &hit.path)? else {
                continue;
            };
            let segment = searcher.segment_reader(address.segment_ord);
            let (has, lacks) = split_words(&plan, &query, |word| {
                has_word(segment, &fields, word, address.doc_id)
            })?;
            out.push(Nearby { hit, has, lacks });
        }
        Ok(out)
    }

    /// Which of `query`'s words (as typed) an article has and which it lacks, as
    /// [`Engine::closest`] says of an indexed article, said of any version of one (a file
    /// read from git) by its [`terms`]: the same fields, the same forms of each word.
    pub fn words_in(&self, query: &str, terms: &Terms) -> (Vec<String>, Vec<String>) {
        let query = format!("{} ", query.trim());
        let searcher = self.index.reader.searcher();
        let plan = plan::plan(&query, false, &searcher, &self.index.fields, &self.ranking);
        let present = |word: &PlannedWord| -> Result<bool, SearchError> {
            Ok(word.alternatives.iter().any(|(t, _)| terms.0.contains(t)))
        };
        split_words(&plan, &query, present).unwrap_or_default()
    }

    /// A spelling correction for a query that found nothing ("Did you mean …?"): each word the
    /// index does not know replaced by its closest word of the index's own vocabulary, if
    /// the corrected query finds something.
    pub fn suggest(&self, query: &str, lang: Option<&str>) -> Option<String> {
        let searcher = self.index.reader.searcher();
        let f = &self.index.fields;
        let vocab = [f.body, f.title];
        let known = |term: &str| {
            vocab.iter().any(|&field| {
                searcher
                    .doc_freq(&Term::from_field_text(field, term))
                    .unwrap_or(0)
                    > 0
            })
        };
        let mut changed = false;
        let corrected: Vec<String> = query
            .split_whitespace()
            .map(|word| {
                let tokens = crate::analysis::analyze_to_vec(word);
                let Some(main) = tokens
                    .iter()
                    .find(|t| t.kind == crate::analysis::TokenKind::Word)
                else {
                    return word.to_string();
                };
                let typed = tokens
                    .iter()
                    .find(|t| t.kind == crate::analysis::TokenKind::Exact)
                    .map_or(main.text.as_str(), |t| t.text.as_str());
                let letters = typed.chars().filter(|c| c.is_alphabetic()).count();
                if known(&main.text) || letters < 3 || tokens.len() > 2 {
                    return word.to_string();
                }
                match plan::corrections(&searcher, &vocab, typed)
                    .into_iter()
                    .next()
                {
                    Some(c) => {
                        changed = true;
                        c
                    }
                    None => word.to_string(),
                }
            })
            .collect();
        if !changed {
            return None;
        }
        let suggestion = corrected.join(" ");
        let params = SearchParams {
            lang: lang.map(str::to_string),
            limit: 0,
            ..SearchParams::new(suggestion.clone())
        };
        let found = self.search(&params).ok()?.total > 0;
        found.then_some(suggestion)
    }

    /// The tantivy query for a plan: a document must hold one of the query's content words
    /// (or a part of one), so "discount for students" finds nothing rather than every article
    /// with "for" in it. Each content word's union of terms scores BM25 plus the coverage
    /// bonus where it matches ([`bonus`]); function words and phrases only add to the score.
    fn query(
        &self,
        lookup: &lookup::Lookup<'_>,
        plan: &Plan,
        lang: Option<&str>,
        drafts: bool,
    ) -> Box<dyn Query> {
        let f = &self.index.fields;
        let r = &*self.ranking;
        let boosts = r.field_boosts(f);
        // What only adds to a match's score: function words, phrases, the title match.
        let mut should: Vec<content::Extra> = Vec::new();
        let mut content: Vec<content::Word> = Vec::new();
        for word in &plan.words {
            // A part of a Chinese compound (an identifier's parts are optional already).
            let part = if !word.whole && word.required {
                r.part
            } else {
                1.0
            };
            let mut terms = Vec::new();
            for (term, weight) in &word.alternatives {
                for &(field, boost) in &boosts {
                    // A term no document has in this field would score nothing: left out.
                    if let Some(q) = lookup.term_query(field, term, boost * weight * part) {
                        terms.push(q);
                    }
                }
            }
            if crate::analysis::stopwords::is_stop_word(&word.term) {
                should.push(content::Extra::Terms(terms));
            } else {
                let bonus = if word.required {
                    r.coverage * part
                } else {
                    0.0
                };
                let mut content_word = content::Word::new(terms, bonus);
                if r.bigram_fallback > 0.0 && word.whole {
                    content_word.fallback = self.fallback(lookup, &word.term);
                }
                content.push(content_word);
            }
        }
        if r.bigram > 0.0 {
            let terms = self.bigram_terms(lookup, &plan.bigrams, r.bigram);
            if !terms.is_empty() {
                content.push(content::Word::new(terms, 0.0));
            }
        }
        should.extend(
            self.phrases(lookup, plan)
                .into_iter()
                .map(content::Extra::Query),
        );
        let corrected = plan
            .corrected_title_key
            .as_ref()
            .map(|key| (key, r.title_match * r.title_corrected));
        for (key, bonus) in [(&plan.title_key, r.title_match)]
            .into_iter()
            .chain(corrected)
        {
            if bonus <= 0.0 || key.is_empty() {
                continue;
            }
            should.push(content::Extra::Constant(
                Term::from_field_text(f.title_key, key),
                bonus,
            ));
        }
        // Every match gets the length prior once (`Hit::matched` takes it off again).
        let prior = (r.length_prior > 0.0).then_some((f.body, r.length_prior));
        if content.is_empty() {
            if should.is_empty() {
                return Box::new(EmptyQuery);
            }
            // Only function words: any of them will do.
            let any = should
                .into_iter()
                .map(|clause| (Occur::Should, clause.into_query()))
                .collect();
            let any: Box<dyn Query> = Box::new(BooleanQuery::new(any));
            let any: Box<dyn Query> = match prior {
                Some((field, weight)) => Box::new(bonus::Bonus::length_prior(any, field, weight)),
                None => any,
            };
            let mut clauses = vec![(Occur::Must, any)];
            clauses.extend(self.filters(lang, drafts));
            return Box::new(BooleanQuery::new(clauses));
        }
        // The language filter and the exclusions are part of the words: the other
        // languages are not scored, and the query is the words alone, which a collection of
        // every match runs without a scorer in between (`group::collect`).
        let within = lang.map(|l| content::Within::of(lookup.term_query(f.lang_prefix, l, 1.0)));
        let words = content::Words::new(content, prior)
            .within(within)
            .without(self.excluded(drafts))
            .adding(should);
        Box::new(words)
    }

    /// What stands in for a Chinese word of two characters or more in a page that lacks it:
    /// its character bigrams ([`plan::Ranking::bigram_fallback`]).
    fn fallback(&self, lookup: &lookup::Lookup<'_>, term: &str) -> Vec<lookup::KnownTerm> {
        let han = term.chars().count() >= 2 && term.chars().all(crate::han::is_han);
        if !han {
            return Vec::new();
        }
        let bigrams = crate::analysis::bigrams::distinct(term);
        self.bigram_terms(lookup, &bigrams, self.ranking.bigram_fallback)
    }

    /// `bigrams` in the bigram fields of the title, the headings and the body, at `weight`
    /// times each field's word weight (the body's times `bigram_body`).
    fn bigram_terms(
        &self,
        lookup: &lookup::Lookup<'_>,
        bigrams: &[String],
        weight: f32,
    ) -> Vec<lookup::KnownTerm> {
        let f = &self.index.fields;
        let r = &*self.ranking;
        let fields = [
            (f.bigrams_title, r.title * weight),
            (f.bigrams_headings, r.headings * weight),
            (f.bigrams_body, r.body * r.bigram_body * weight),
        ];
        let mut terms = Vec::new();
        for bigram in bigrams {
            for &(field, boost) in fields.iter().filter(|(_, b)| *b > 0.0) {
                if let Some(q) = lookup.term_query(field, bigram, boost) {
                    terms.push(q);
                }
            }
        }
        terms
    }

    /// The clauses that keep one language (and its subtags; `None` when the query's
    /// content words keep it) and leave drafts out, and the articles that are not served
    /// because another keeps their URL.
    fn filters(&self, lang: Option<&str>, drafts: bool) -> Vec<(Occur, Box<dyn Query>)> {
        let f = &self.index.fields;
        let not = |term: Term| -> (Occur, Box<dyn Query>) {
            let query = TermQuery::new(term, IndexRecordOption::Basic);
            (Occur::MustNot, Box::new(query))
        };
        let mut excluded = self.excluded(drafts);
        // The draft term last, after the language, as the clauses always were.
        let draft = (!drafts).then(|| excluded.pop()).flatten();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = excluded.into_iter().map(not).collect();
        if let Some(l) = lang {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.lang_prefix, l),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        clauses.extend(draft.map(not));
        clauses
    }

    /// The terms of the documents no search finds: hidden articles, and drafts unless
    /// `drafts`.
    fn excluded(&self, drafts: bool) -> Vec<Term> {
        let f = &self.index.fields;
        let mut terms: Vec<Term> = (self.index.catalog().hidden_paths())
            .map(|path| Term::from_field_text(f.path, path))
            .collect();
        if !drafts {
            terms.push(Term::from_field_bool(f.draft, true));
        }
        terms
    }

    /// Bonus queries for the words appearing together, in order: the whole query's, and
    /// each punctuated chunk's when there are several (at `phrase_chunk` of the weight).
    fn phrases(&self, lookup: &lookup::Lookup<'_>, plan: &Plan) -> Vec<Box<dyn Query>> {
        let r = &*self.ranking;
        let words: Vec<&PlannedWord> = plan.words.iter().filter(|w| w.whole).collect();
        let mut out: Vec<Box<dyn Query>> = Vec::new();
        self.phrase(lookup, &words, 1.0, &mut out);
        let chunks = words.last().map_or(0, |w| w.chunk + 1);
        if chunks > 1 && r.phrase_chunk > 0.0 {
            for chunk in 0..chunks {
                let inside: Vec<&PlannedWord> =
                    words.iter().copied().filter(|w| w.chunk == chunk).collect();
                self.phrase(lookup, &inside, r.phrase_chunk, &mut out);
            }
        }
        out
    }

    /// The phrase bonus of `words` (two or more, all known to the index) in body, title and
    /// headings, each field's weight times `weight`. A field that lacks one of the words
    /// gets none: its phrase could match nothing, and weighing it (a BM25 length table)
    /// and opening its scorer cost as much as one that matches.
    fn phrase(
        &self,
        lookup: &lookup::Lookup<'_>,
        words: &[&PlannedWord],
        weight: f32,
        out: &mut Vec<Box<dyn Query>>,
    ) {
        let f = &self.index.fields;
        let r = &*self.ranking;
        if words.len() < 2 || words.iter().any(|w| !w.known) {
            return;
        }
        let first = words[0].position;
        for (field, slop, boost) in [
            (f.body, r.phrase_slop, r.phrase_body),
            (f.title, 0, r.phrase_title),
            (f.headings, r.heading_slop, r.phrase_headings),
        ] {
            if boost <= 0.0 || words.iter().any(|w| lookup.doc_freq(field, &w.term) == 0) {
                continue;
            }
            let terms: Vec<(usize, Term)> = words
                .iter()
                .map(|w| (w.position - first, Term::from_field_text(field, &w.term)))
                .collect();
            let mut phrase = PhraseQuery::new_with_offset(terms);
            phrase.set_slop(slop);
            out.push(Box::new(BoostQuery::new(Box::new(phrase), boost * weight)));
        }
    }

    /// The results for the documents picked for a page ([`group::page`]), with their
    /// snippets, sections and translations.
    fn hits(
        &self,
        lookup: &lookup::Lookup<'_>,
        top: Vec<group::Picked>,
        plan: &Plan,
        params: &SearchParams,
        catalog: &crate::index::Catalog,
        clock: &mut Clock,
    ) -> Result<Vec<Hit>, SearchError> {
        let searcher = lookup.searcher();
        let mut places = BodyTerms::new(lookup, &self.index.fields, plan);
        let page: Vec<DocAddress> = top.iter().map(|p| p.address).collect();
        places.read_page(&page)?;
        clock.lap(Stage::Places);
        let stores = self.index.doc_stores(searcher)?;
        let mut out = Vec::with_capacity(top.len());
        for p in top {
            let doc =
                stored::Stored::read(&stores[p.address.segment_ord as usize], p.address.doc_id)?;
            let mut hit = self.hit(searcher, &p, &doc, &mut places, params, clock)?;
            group::dress(&mut hit, p.fallback, catalog, params.drafts);
            clock.lap(Stage::Dress);
            out.push(hit);
        }
        Ok(out)
    }

    fn hit(
        &self,
        searcher: &Searcher,
        picked: &group::Picked,
        doc: &stored::Stored,
        places: &mut BodyTerms,
        params: &SearchParams,
        clock: &mut Clock,
    ) -> Result<Hit, SearchError> {
        let address = picked.address;
        let plan = places.plan;
        let details = params.details;
        let f = &self.index.fields;
        let body = doc.bytes(f.body_text);
        let text = |field| doc.text(field).to_string();
        let table = doc.bytes(f.body_offsets);
        clock.lap(Stage::Store);
        let mut matches = places.matches(address, body, table)?;
        clock.lap(Stage::Places);
        let coverage = self.coverage(address, places, &matches)?;
        let prior = bonus::length_prior(
            self.ranking.length_prior,
            searcher
                .segment_reader(address.segment_ord)
                .get_fieldnorms_reader(f.body)?
                .fieldnorm_id(address.doc_id),
        );
        clock.lap(Stage::Coverage);
        let section = if params.sections {
            self.section(
                address,
                places,
                doc.bytes(f.sections),
                body.len(),
                &mut matches,
            )?
        } else {
            None
        };
        clock.lap(Stage::Section);
        let shown = section.as_ref().map_or(body, |s| &body[..s.end]);
        // Stored texts are borrowed where they are only looked at, copied once when kept.
        let snippet = match snippet::best_window(shown, doc.bytes(f.body_columns), &mut matches) {
            Some(range) => snippet::render(shown, range, &matches),
            None => {
                let lead = [doc.text(f.description), doc.text(f.summary)]
                    .into_iter()
                    .chain([snippet::lead_of(body)])
                    .find(|t| !t.trim().is_empty())
                    .unwrap_or_default();
                snippet::leading(lead, &plan.highlight_terms())
            }
        };
        let (summary, reply) = if details {
            let first = [doc.text(f.summary), doc.text(f.description)]
                .into_iter()
                .find(|t| !t.trim().is_empty());
            let reply = Some(doc.text(f.reply)).filter(|r| !r.trim().is_empty());
            (first.map(str::to_string), reply.map(str::to_string))
        } else {
            (None, None)
        };
        let url = doc.text(f.url);
        clock.lap(Stage::Snippet);
        Ok(Hit {
            path: text(f.path),
            url: match &section {
                Some(s) => crate::articles::url_with_anchor(url, &s.anchor),
                None => url.to_string(),
            },
            title: text(f.title),
            lang: text(f.lang),
            snippet,
            score: picked.score,
            matched: picked.score - prior,
            coverage,
            summary,
            reply,
            translations: Vec::new(),
            section: section.map(|s| SectionRef {
                anchor: s.anchor,
                heading: s.heading,
            }),
            fallback: false,
        })
    }

    /// The share of the query's weight a document holds ([`Hit::coverage`]): the words its
    /// body matches have, and, for the others, whether another field has one of their forms.
    fn coverage(
        &self,
        address: DocAddress,
        places: &mut BodyTerms,
        matches: &[snippet::Match],
    ) -> Result<f32, SearchError> {
        let total: f32 = places.weights.iter().sum();
        if total <= 0.0 {
            return Ok(1.0);
        }
        // The words the body has, in one pass (not a pass per word: a reference page has
        // thousands of matches).
        let mut in_body = vec![false; places.weights.len()];
        for m in matches {
            if let Some(b) = in_body.get_mut(m.word()) {
                *b = true;
            }
        }
        let mut held = 0.0;
        let others = places.others;
        for (i, &in_body) in in_body.iter().enumerate() {
            let weight = places.weights[i];
            if weight <= 0.0 {
                continue;
            }
            if in_body || places.has_word(address, i, &others)? {
                held += weight;
            }
        }
        Ok(held / total)
    }

    /// The section of a document the matches sit in ([`section::pick`]), keeping only the
    /// matches inside it; `headings` is the document's stored headings
    /// ([`crate::index::headings`]).
    fn section(
        &self,
        address: DocAddress,
        places: &mut BodyTerms,
        headings: &[u8],
        body_len: usize,
        matches: &mut Vec<snippet::Match>,
    ) -> Result<Option<section::Section>, SearchError> {
        if matches.is_empty() {
            return Ok(None);
        }
        // The title holding every word the query requires: the article as a whole answers,
        // and no section is picked (the headings need not be read).
        let title = [self.index.fields.title];
        let mut title_has_all = true;
        for (i, word) in places.plan.words.iter().enumerate() {
            if word.required && !places.has_word(address, i, &title)? {
                title_has_all = false;
                break;
            }
        }
        if title_has_all {
            return Ok(None);
        }
        let headings = crate::index::headings::decode(headings);
        let picked = section::pick(&headings, body_len, matches, false);
        if let Some(s) = &picked {
            matches.retain(|m| m.start() >= s.start && m.end() <= s.end);
        }
        Ok(picked)
    }
}

/// A stage of a search, as [`Clock`] times it.
#[derive(Debug, Clone, Copy)]
enum Stage {
    /// Analysis, corrections, completions and the other alternatives ([`plan`]).
    Plan,
    /// Building the tantivy query.
    Query,
    /// Running it: every matching document scored and gathered ([`group::page`]).
    Collect,
    /// Ranking groups and choosing each one's member to show.
    Choose,
    /// Reading a result's stored fields.
    Store,
    /// Where the query's words are in a result's body (positions, word spans).
    Places,
    /// How much of the query a result holds ([`Hit::coverage`]).
    Coverage,
    /// The section a result points at.
    Section,
    /// The snippet.
    Snippet,
    /// A result's translations.
    Dress,
}

impl Stage {
    const ALL: [Stage; 10] = [
        Stage::Plan,
        Stage::Query,
        Stage::Collect,
        Stage::Choose,
        Stage::Store,
        Stage::Places,
        Stage::Coverage,
        Stage::Section,
        Stage::Snippet,
        Stage::Dress,
    ];
}

/// Where a search's time goes, stage by stage (`KB_LOG=kb::search=debug` logs it, for
/// profiling); it reads no clock when that log is off.
pub(crate) struct Clock {
    last: Option<Instant>,
    ms: [f64; Stage::ALL.len()],
}

impl Clock {
    pub(crate) fn start(started: Instant) -> Clock {
        Clock {
            last: tracing::enabled!(tracing::Level::DEBUG).then_some(started),
            ms: [0.0; Stage::ALL.len()],
        }
    }

    /// Charges the time since the last lap to `stage`.
    fn lap(&mut self, stage: Stage) {
        if let Some(last) = self.last {
            let now = Instant::now();
            self.ms[stage as usize] += (now - last).as_secs_f64() * 1000.0;
            self.last = Some(now);
        }
    }

    fn log(&self, terms: usize) {
        if self.last.is_none() {
            return;
        }
        let stages: Vec<String> = Stage::ALL
            .iter()
            .zip(self.ms)
            .map(|(stage, ms)| format!("{}={ms:.3}", format!("{stage:?}").to_lowercase()))
            .collect();
        tracing::debug!(terms, "search stages (ms): {}", stages.join(" "));
    }
}

/// The terms of a query that a result's places, coverage and section look for, looked up
/// in the term dictionaries once per segment rather than once per result: the body terms
/// whose places a snippet shows (every alternative of its words, function words aside),
/// each with its word and weight, and where the same words' forms are in the other fields.
struct BodyTerms<'p> {
    plan: &'p Plan,
    /// The search's term look-ups ([`lookup`]): a term's place in each segment's dictionary
    /// was found when the query was built.
    lookup: &'p lookup::Lookup<'p>,
    body: tantivy::schema::Field,
    /// The fields other than the body that a word may be found in.
    others: [tantivy::schema::Field; 7],
    /// (query word, weight, body term) for every alternative.
    terms: Vec<(usize, f32, &'p str)>,
    /// Per segment: its term look-ups.
    segments: crate::index::Map<u32, SegmentTerms>,
    /// The body positions of the page's documents ([`BodyTerms::read_page`]): (position,
    /// the term's place in [`BodyTerms::terms`]), term by term, each term's in order.
    positions: crate::index::Map<DocAddress, Vec<(u32, u32)>>,
    /// Each query word's rarity in the help center (0 for words left out: function words
    /// beside others), what [`Hit::coverage`] weighs words by.
    weights: Vec<f32>,
}

/// One segment's look-ups of a query's terms.
struct SegmentTerms {
    body: Arc<tantivy::InvertedIndexReader>,
    /// Where each of [`BodyTerms::terms`]' postings are in the body.
    infos: Vec<Option<TermInfo>>,
    /// The other fields' indexes, in [`BodyTerms::others`]' order.
    others: Vec<Arc<tantivy::InvertedIndexReader>>,
    /// The page's documents in this segment ([`BodyTerms::read_page`]), in order.
    page: Vec<tantivy::DocId>,
    /// Per query word and other field (at `word * others + k`, `k` the field's place in
    /// [`BodyTerms::others`]), once a result asks about that field: its forms of the word
    /// (the title alone is asked about for most results: the other fields are not looked up).
    elsewhere: Vec<Option<Vec<Elsewhere>>>,
}

/// A form of a query word in a field other than the body.
struct Elsewhere {
    /// The field's place in [`BodyTerms::others`].
    k: usize,
    /// Where the form's postings are.
    info: TermInfo,
    /// Which of the page's documents have it: its postings walked once, through the page in
    /// order, when a result first asks (rather than opened again for every result).
    holders: Option<Vec<tantivy::DocId>>,
}

impl<'p> BodyTerms<'p> {
    fn new(lookup: &'p lookup::Lookup<'p>, f: &crate::index::Fields, plan: &'p Plan) -> Self {
        let body = f.body;
        let only_stop = plan.words.iter().all(|w| !w.required);
        let mut terms = Vec::new();
        let mut weights = vec![0.0; plan.words.len()];
        for (i, word) in plan.words.iter().enumerate() {
            if !word.required && !only_stop {
                continue;
            }
            let df = lookup.doc_freq(body, &word.term).max(1);
            let rarity = (1.0 + lookup.searcher().num_docs() as f32 / df as f32).ln();
            weights[i] = rarity;
            for (term, weight) in &word.alternatives {
                terms.push((i, rarity * weight, term.as_str()));
            }
        }
        BodyTerms {
            plan,
            lookup,
            body,
            others: [
                f.title,
                f.headings,
                f.description,
                f.tags,
                f.queries,
                f.code,
                f.anchors,
            ],
            terms,
            segments: Default::default(),
            positions: Default::default(),
            weights,
        }
    }

    /// Reads where the query's body terms are in each of `page`'s documents: each term's
    /// postings opened once per segment and moved forward from document to document in
    /// order, rather than opened again for every result.
    fn read_page(&mut self, page: &[DocAddress]) -> Result<(), SearchError> {
        let mut page = page.to_vec();
        page.sort();
        page.dedup();
        let mut positions = Vec::new();
        for docs in page.chunk_by(|a, b| a.segment_ord == b.segment_ord) {
            let segment = self.segment(docs[0])?;
            segment.page.extend(docs.iter().map(|a| a.doc_id));
            segment.page.sort_unstable();
            segment.page.dedup();
            // Documents joined the page: who holds what is walked again.
            for e in segment.elsewhere.iter_mut().flatten().flatten() {
                e.holders = None;
            }
            let segment = &self.segments[&docs[0].segment_ord];
            // Gathered by the document's place in `docs`, handed to the map once.
            let mut lists: Vec<Vec<(u32, u32)>> = vec![Vec::new(); docs.len()];
            for (t, info) in segment.infos.iter().enumerate() {
                let Some(info) = info else { continue };
                let mut postings = segment
                    .body
                    .read_postings_from_terminfo(info, IndexRecordOption::WithFreqsAndPositions)
                    .map_err(tantivy::TantivyError::from)?;
                for (address, found) in docs.iter().zip(&mut lists) {
                    if !stands_on(&mut postings, address.doc_id) {
                        continue;
                    }
                    positions.clear();
                    postings.positions(&mut positions);
                    found.extend(positions.iter().map(|&p| (p, t as u32)));
                }
            }
            for (address, list) in docs.iter().zip(lists) {
                let found = self.positions.entry(*address).or_default();
                if found.is_empty() {
                    *found = list;
                } else {
                    found.extend(list);
                }
            }
        }
        Ok(())
    }

    /// The look-ups of the segment of `address`, made on its first result.
    fn segment(&mut self, address: DocAddress) -> Result<&mut SegmentTerms, SearchError> {
        use std::collections::hash_map::Entry;
        Ok(match self.segments.entry(address.segment_ord) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let ord = address.segment_ord;
                let body = self.lookup.inverted_index(self.body, ord)?;
                let infos = self
                    .terms
                    .iter()
                    .map(|&(_, _, t)| self.lookup.info(self.body, t, ord))
                    .collect();
                let others = self
                    .others
                    .iter()
                    .map(|&field| self.lookup.inverted_index(field, ord))
                    .collect::<tantivy::Result<Vec<_>>>()?;
                e.insert(SegmentTerms {
                    body,
                    infos,
                    others,
                    page: Vec::new(),
                    elsewhere: (0..self.plan.words.len() * self.others.len())
                        .map(|_| None)
                        .collect(),
                })
            }
        })
    }

    /// Whether the document at `address` has a form of query word `word` in one of
    /// `fields` (some of [`BodyTerms::others`]): [`has_word`] with the dictionary looked up
    /// once per segment.
    fn has_word(
        &mut self,
        address: DocAddress,
        word: usize,
        fields: &[tantivy::schema::Field],
    ) -> Result<bool, SearchError> {
        let (plan, others, lookup) = (self.plan, self.others, self.lookup);
        let doc = address.doc_id;
        let SegmentTerms {
            others: indexes,
            page,
            elsewhere,
            ..
        } = self.segment(address)?;
        let on_page = page.binary_search(&doc).is_ok();
        for (k, &field) in others.iter().enumerate() {
            if !fields.contains(&field) {
                continue;
            }
            let found = match &mut elsewhere[word * others.len() + k] {
                Some(found) => found,
                slot => {
                    let mut found = Vec::new();
                    for (term, _) in &plan.words[word].alternatives {
                        if let Some(info) = lookup.info(field, term, address.segment_ord) {
                            found.push(Elsewhere {
                                k,
                                info,
                                holders: None,
                            });
                        }
                    }
                    slot.insert(found)
                }
            };
            for e in found.iter_mut() {
                let postings = || {
                    indexes[e.k]
                        .read_postings_from_terminfo(&e.info, IndexRecordOption::Basic)
                        .map_err(tantivy::TantivyError::from)
                };
                let held = if on_page {
                    let holders = match &mut e.holders {
                        Some(holders) => holders,
                        slot => {
                            let mut postings = postings()?;
                            let holders = page
                                .iter()
                                .copied()
                                .filter(|&d| stands_on(&mut postings, d))
                                .collect();
                            slot.insert(holders)
                        }
                    };
                    holders.binary_search(&doc).is_ok()
                } else {
                    stands_on(&mut postings()?, doc)
                };
                if held {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// Where the query's words occur in a document's body, from the postings (read with its
    /// page, [`BodyTerms::read_page`]); `table` is the document's encoded word spans
    /// ([`offsets`]), of which only the matched ones are decoded.
    fn matches(
        &mut self,
        address: DocAddress,
        body: &[u8],
        table: &[u8],
    ) -> Result<Vec<snippet::Match>, SearchError> {
        if !self.positions.contains_key(&address) {
            self.read_page(&[address])?;
        }
        let found = self.positions.remove(&address).unwrap_or_default();
        if found.is_empty() {
            return Ok(Vec::new());
        }
        // The terms' runs of ascending positions, merged: each span is decoded once, in
        // position order, by one decoder moving forward through the table. The keys are
        // (position, place in `found`): each term's run is in order already, and the stable
        // sort merges such runs rather than sorting anew (rather than the positions sorted,
        // and each match's span then found by binary search). One run (one term, or terms
        // found one after the other) is in that order as it is: no keys are made.
        let mut spans = vec![None; found.len()];
        let mut decoder = offsets::Spans::new(table);
        if found.windows(2).all(|w| w[0].0 < w[1].0) {
            for (span, &(p, _)) in spans.iter_mut().zip(&found) {
                *span = decoder.at(p);
            }
        } else {
            let mut order: Vec<u64> = (found.iter().enumerate())
                .map(|(i, &(p, _))| (u64::from(p) << 32) | i as u64)
                .collect();
            order.sort();
            for key in order {
                spans[key as u32 as usize] = decoder.at((key >> 32) as u32);
            }
        }
        // Sized for all of them at once (nearly all are kept).
        let mut matches = Vec::with_capacity(found.len());
        matches.extend(found.iter().zip(spans).filter_map(|(&(_, t), span)| {
            let span = span?;
            let (word, weight, _) = self.terms[t as usize];
            (span.start as usize + span.len as usize <= body.len()).then_some(snippet::Match {
                offset: span.start,
                len: span.len,
                word: word as u32,
                weight,
            })
        }));
        Ok(matches)
    }
}

/// Where the document of an article is, by its path.
fn address_of(
    searcher: &Searcher,
    path_field: tantivy::schema::Field,
    path: &str,
) -> tantivy::Result<Option<DocAddress>> {
    let term = Term::from_field_text(path_field, path);
    let top = searcher.search(
        &TermQuery::new(term, IndexRecordOption::Basic),
        &TopDocs::with_limit(1).order_by_score(),
    )?;
    Ok(top.first().map(|(_, a)| *a))
}

/// The query with each word the index does not know replaced by the closest word it was
/// searched as, if any was.
fn corrected_query(query: &str, plan: &Plan) -> Option<String> {
    let mut fixes: Vec<(usize, usize, &str)> = plan
        .words
        .iter()
        .filter_map(|w| Some((w.from, w.to, w.correction.as_deref()?)))
        .collect();
    if fixes.is_empty() {
        return None;
    }
    fixes.sort();
    let mut out = String::with_capacity(query.len());
    let mut at = 0;
    for (from, to, word) in fixes {
        if from < at || !query.is_char_boundary(from) || !query.is_char_boundary(to) {
            continue;
        }
        out.push_str(&query[at..from]);
        out.push_str(word);
        at = to;
    }
    out.push_str(&query[at..]);
    Some(out)
}

/// Checks a request's limit and offset; its language filter, normalized.
fn checked(params: &SearchParams) -> Result<Option<String>, SearchError> {
    if params.limit > MAX_LIMIT {
        return Err(SearchError::LimitTooLarge(params.limit));
    }
    if params.offset > MAX_OFFSET {
        return Err(SearchError::OffsetTooLarge(params.offset));
    }
    match params.lang.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(l) => Ok(Some(
            lang::normalize_tag(l).ok_or_else(|| SearchError::BadLang(l.into()))?,
        )),
    }
}

/// The analyzed terms of an article's fields that [`Engine::closest`] looks words up in.
#[derive(Debug, Clone, Default)]
pub struct Terms(std::collections::HashSet<String>);

/// The terms of `article` (any version of one, such as a file read from git), for
/// [`Engine::words_in`].
pub fn terms(article: &crate::articles::Article) -> Terms {
    let texts = [
        &article.title,
        &article.description,
        &article.text,
        &article.code,
    ]
    .into_iter()
    .chain(article.headings.iter().map(|h| &h.text))
    .chain(&article.tags)
    .chain(&article.category)
    .chain(&article.queries);
    let mut terms = std::collections::HashSet::new();
    for text in texts {
        crate::analysis::analyze(text, &mut |t| {
            terms.insert(t.text);
        });
    }
    Terms(terms)
}

/// The words of `query` (as typed, each once) that count for coverage, split by `present`
/// into those a document has and those it lacks: the whole words a match requires (every
/// whole word, when all are function words).
fn split_words(
    plan: &Plan,
    query: &str,
    mut present: impl FnMut(&PlannedWord) -> Result<bool, SearchError>,
) -> Result<(Vec<String>, Vec<String>), SearchError> {
    let only_stop = plan.words.iter().all(|w| !w.required);
    let (mut has, mut lacks): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for word in plan
        .words
        .iter()
        .filter(|w| w.whole && (w.required || only_stop))
    {
        let typed = query[word.from..word.to].to_string();
        let list = if present(word)? { &mut has } else { &mut lacks };
        if !list.contains(&typed) {
            list.push(typed);
        }
    }
    Ok((has, lacks))
}

/// Whether document `doc` of `segment` has any form the search accepts of `word` in any of
/// `fields`.
fn has_word(
    segment: &tantivy::SegmentReader,
    fields: &[tantivy::schema::Field],
    word: &PlannedWord,
    doc: tantivy::DocId,
) -> Result<bool, SearchError> {
    for &field in fields {
        let inverted = segment.inverted_index(field)?;
        for (term, _) in &word.alternatives {
            let term = Term::from_field_text(field, term);
            if postings_at(&inverted, &term, IndexRecordOption::Basic, doc)?.is_some() {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// The postings of `term` standing on document `doc`, if the document has the term.
fn postings_at(
    inverted: &tantivy::InvertedIndexReader,
    term: &Term,
    option: IndexRecordOption,
    doc: tantivy::DocId,
) -> Result<Option<tantivy::postings::SegmentPostings>, SearchError> {
    let Some(mut postings) = inverted
        .read_postings(term, option)
        .map_err(tantivy::TantivyError::from)?
    else {
        return Ok(None);
    };
    Ok(stands_on(&mut postings, doc).then_some(postings))
}

/// Moves postings forward to `doc` (unless they are past it: seeking backwards is not
/// allowed); whether the document has the term.
fn stands_on(postings: &mut tantivy::postings::SegmentPostings, doc: tantivy::DocId) -> bool {
    // A fresh postings list already stands on its first document, which may be past ours.
    let mut at = postings.doc();
    if at < doc {
        at = postings.seek(doc);
    }
    at == doc
}
