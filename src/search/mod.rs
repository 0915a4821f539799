//! Search: from a query to ranked results with snippets, the `/api/search` object.
//!
//! Ranking, in order of precedence:
//! 1. **coverage**: documents containing more of the query's words (function words aside)
//!    rank first, so an article with every word beats one with some;
//! 2. **BM25** over title, headings, description, tags, the article's own `queries` and
//!    body, each with a boost ([`plan::Ranking`]); unstemmed forms add a bonus, spelling
//!    corrections and completions count at a discount;
//! 3. a **phrase/proximity** bonus when the words appear close together in order.
//!
//! Any query text is valid: it is analyzed, never parsed as query syntax, so `"`, `*`, `:` or
//! `AND` are plain text.

pub mod group;
pub mod message;
pub mod plan;
pub mod queries;
pub mod section;
pub mod snippet;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tantivy::collector::TopDocs;
use tantivy::postings::Postings;
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, DocSet, Searcher, TantivyDocument, Term};

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
    /// The reader's language (`hl`, the interface's): each result shows its translation
    /// group in it where it can ([`group`]); else the language of the query.
    pub hl: Option<String>,
    /// One result per translation group (else one per article, for the report's look-ups).
    pub grouped: bool,
    /// Whether a result whose match sits in one section points at it ([`section`]).
    pub sections: bool,
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
            hl: None,
            grouped: true,
            sections: true,
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
    /// With `details`: the article's first paragraph (else its description), plain text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// With `details`: the canned reply for agents (front matter `reply`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    /// The article in its other languages (its translation group), by language.
    #[serde(default)]
    pub translations: Vec<Translation>,
    /// The section the match sits in, when it sits in one: `url` then ends in its anchor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<SectionRef>,
    /// The article is not in the reader's language: it has no translation into it (or the
    /// language filter keeps that one out).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fallback: bool,
}

/// One of a result's other languages.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Translation {
    pub lang: String,
    pub url: String,
    pub title: String,
    pub path: String,
}

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
}

impl Engine {
    pub fn new(index: Arc<SearchIndex>, ranking: Ranking) -> Self {
        Engine {
            index,
            ranking: Arc::new(ranking),
        }
    }

    pub fn index(&self) -> &SearchIndex {
        &self.index
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
        let plan = plan::plan(&params.query, &searcher, fields, &self.ranking);
        let query = self.query(&plan, lang.as_deref(), params.drafts);

        let catalog = self.index.catalog();
        let reader = group::Reader::of_query(params.hl.as_deref(), &params.query, &catalog);
        let (top, total) = group::page(
            &searcher,
            &*query,
            &catalog,
            fields.path,
            params,
            lang.as_deref(),
            &reader,
        )?;
        let highlight = plan.highlight_terms();
        let mut results = Vec::with_capacity(top.len());
        for p in top {
            let mut hit = self.hit(&searcher, p.address, p.score, &plan, &highlight, params)?;
            group::dress(&mut hit, p.fallback, &catalog, params.drafts);
            results.push(hit);
        }
        Ok(SearchResponse {
            query: params.query.clone(),
            total,
            took_ms: started.elapsed().as_secs_f64() * 1000.0,
            results,
            reader_lang: reader.lang,
            search_id: None,
        })
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
        let plan = plan::plan(&query, &searcher, f, &self.ranking);
        let fields = [
            f.title,
            f.headings,
            f.description,
            f.tags,
            f.queries,
            f.body,
            f.code,
        ];
        let only_stop = plan.words.iter().all(|w| !w.required);
        let mut out = Vec::with_capacity(found.results.len());
        for hit in found.results {
            let Some(address) = address_of(&searcher, self.index.fields.path, &hit.path)? else {
                continue;
            };
            let segment = searcher.segment_reader(address.segment_ord);
            let (mut has, mut lacks): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
            for word in plan
                .words
                .iter()
                .filter(|w| w.whole && (w.required || only_stop))
            {
                let mut present = false;
                'fields: for &field in &fields {
                    let inverted = segment.inverted_index(field)?;
                    for (term, _) in &word.alternatives {
                        let term = Term::from_field_text(field, term);
                        if postings_at(&inverted, &term, IndexRecordOption::Basic, address.doc_id)?
                            .is_some()
                        {
                            present = true;
                            break 'fields;
                        }
                    }
                }
                let typed = query[word.from..word.to].to_string();
                let list = if present { &mut has } else { &mut lacks };
                if !list.contains(&typed) {
                    list.push(typed);
                }
            }
            out.push(Nearby { hit, has, lacks });
        }
        Ok(out)
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

    /// The tantivy query for a plan.
    fn query(&self, plan: &Plan, lang: Option<&str>, drafts: bool) -> Box<dyn Query> {
        let f = &self.index.fields;
        let r = &*self.ranking;
        let boosts = r.field_boosts(f);
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        // Documents must have one of the query's content words (or a part of one): "discount
        // for students" finds nothing rather than every article with "for" in it.
        let mut content: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for word in &plan.words {
            let mut scoring: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for (term, weight) in &word.alternatives {
                for &(field, boost) in &boosts {
                    let t = Term::from_field_text(field, term);
                    scoring.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(
                            Box::new(TermQuery::new(t.clone(), IndexRecordOption::WithFreqs)),
                            boost * weight,
                        )),
                    ));
                    any.push((
                        Occur::Should,
                        Box::new(TermQuery::new(t, IndexRecordOption::Basic)),
                    ));
                }
            }
            should.push((Occur::Should, Box::new(BooleanQuery::new(scoring))));
            let any = BooleanQuery::new(any);
            if !crate::analysis::stopwords::is_stop_word(&word.term) {
                content.push((Occur::Should, Box::new(any.clone())));
            }
            if word.required && r.coverage > 0.0 {
                should.push((
                    Occur::Should,
                    Box::new(ConstScoreQuery::new(Box::new(any), r.coverage)),
                ));
            }
        }
        should.extend(self.phrases(plan));
        if r.title_match > 0.0 && !plan.title_key.is_empty() {
            should.push((
                Occur::Should,
                Box::new(ConstScoreQuery::new(
                    Box::new(TermQuery::new(
                        Term::from_field_text(f.title_key, &plan.title_key),
                        IndexRecordOption::Basic,
                    )),
                    r.title_match,
                )),
            ));
        }
        if should.is_empty() {
            return Box::new(EmptyQuery);
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(should)))];
        if !content.is_empty() {
            // A filter: it must not add to the score.
            clauses.push((
                Occur::Must,
                Box::new(ConstScoreQuery::new(
                    Box::new(BooleanQuery::new(content)),
                    0.0,
                )),
            ));
        }
        clauses.extend(self.filters(lang, drafts));
        Box::new(BooleanQuery::new(clauses))
    }

    /// The clauses that keep one language (and its subtags) and leave drafts out.
    fn filters(&self, lang: Option<&str>, drafts: bool) -> Vec<(Occur, Box<dyn Query>)> {
        let f = &self.index.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if let Some(l) = lang {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.lang_prefix, l),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        if !drafts {
            clauses.push((
                Occur::MustNot,
                Box::new(TermQuery::new(
                    Term::from_field_bool(f.draft, true),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        clauses
    }

    /// Bonus queries for the words appearing together, in order.
    fn phrases(&self, plan: &Plan) -> Vec<(Occur, Box<dyn Query>)> {
        let f = &self.index.fields;
        let r = &*self.ranking;
        let words: Vec<&PlannedWord> = plan.words.iter().filter(|w| w.whole).collect();
        if words.len() < 2 || words.iter().any(|w| !w.known) {
            return Vec::new();
        }
        let first = words[0].position;
        let mut out: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (field, slop, boost) in [
            (f.body, r.phrase_slop, r.phrase_body),
            (f.title, 0, r.phrase_title),
        ] {
            if boost <= 0.0 {
                continue;
            }
            let terms: Vec<(usize, Term)> = words
                .iter()
                .map(|w| (w.position - first, Term::from_field_text(field, &w.term)))
                .collect();
            let mut phrase = PhraseQuery::new_with_offset(terms);
            phrase.set_slop(slop);
            out.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(phrase), boost)),
            ));
        }
        out
    }

    fn hit(
        &self,
        searcher: &Searcher,
        address: DocAddress,
        score: f32,
        plan: &Plan,
        highlight: &HashMap<String, f32>,
        params: &SearchParams,
    ) -> Result<Hit, SearchError> {
        let details = params.details;
        let f = &self.index.fields;
        let doc: TantivyDocument = searcher.doc(address)?;
        let text = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let body = text(f.body_text);
        let table = offsets::decode(
            doc.get_first(f.body_offsets)
                .and_then(|v| v.as_bytes())
                .unwrap_or_default(),
        );
        let mut matches = self.matches(searcher, address, plan, &body, &table)?;
        let section = if params.sections {
            self.section(
                searcher,
                address,
                plan,
                &text(f.sections),
                &body,
                &mut matches,
            )?
        } else {
            None
        };
        let shown = section.as_ref().map_or(body.as_str(), |s| &body[..s.end]);
        let snippet = match snippet::best_window(shown, &mut matches) {
            Some(range) => snippet::render(shown, range, &matches),
            None => {
                let description = text(f.description);
                let summary = text(f.summary);
                let lead = [&description, &summary, &body]
                    .into_iter()
                    .find(|t| !t.trim().is_empty())
                    .map_or("", |s| s.as_str());
                snippet::leading(lead, highlight)
            }
        };
        let (summary, reply) = if details {
            let first = [text(f.summary), text(f.description)]
                .into_iter()
                .find(|t| !t.trim().is_empty());
            (first, Some(text(f.reply)).filter(|r| !r.trim().is_empty()))
        } else {
            (None, None)
        };
        let url = text(f.url);
        Ok(Hit {
            path: text(f.path),
            url: match &section {
                Some(s) => crate::articles::url_with_anchor(&url, &s.anchor),
                None => url,
            },
            title: text(f.title),
            lang: text(f.lang),
            snippet,
            score,
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

    /// The section of a document the matches sit in ([`section::pick`]), keeping only the
    /// matches inside it; `headings` is the document's stored headings (JSON).
    fn section(
        &self,
        searcher: &Searcher,
        address: DocAddress,
        plan: &Plan,
        headings: &str,
        body: &str,
        matches: &mut Vec<snippet::Match>,
    ) -> Result<Option<section::Section>, SearchError> {
        if matches.is_empty() {
            return Ok(None);
        }
        let headings: Vec<crate::articles::Heading> =
            serde_json::from_str(headings).unwrap_or_default();
        if headings.is_empty() {
            return Ok(None);
        }
        // The title holding every word the query requires: the article as a whole answers.
        let title = self.index.fields.title;
        let inverted = searcher
            .segment_reader(address.segment_ord)
            .inverted_index(title)?;
        let mut title_has_all = true;
        for word in plan.words.iter().filter(|w| w.required) {
            let mut found = false;
            for (term, _) in &word.alternatives {
                let term = Term::from_field_text(title, term);
                if postings_at(&inverted, &term, IndexRecordOption::Basic, address.doc_id)?
                    .is_some()
                {
                    found = true;
                    break;
                }
            }
            if !found {
                title_has_all = false;
                break;
            }
        }
        let picked = section::pick(&headings, body.len(), matches, title_has_all);
        if let Some(s) = &picked {
            matches.retain(|m| m.offset >= s.start && m.offset + m.len <= s.end);
        }
        Ok(picked)
    }

    /// Where the query's words occur in a document's body, from the postings.
    fn matches(
        &self,
        searcher: &Searcher,
        address: DocAddress,
        plan: &Plan,
        body: &str,
        table: &[offsets::Span],
    ) -> Result<Vec<snippet::Match>, SearchError> {
        let f = &self.index.fields;
        let segment = searcher.segment_reader(address.segment_ord);
        let inverted = segment.inverted_index(f.body)?;
        let only_stop = plan.words.iter().all(|w| !w.required);
        let mut out = Vec::new();
        let mut positions = Vec::new();
        for (i, word) in plan.words.iter().enumerate() {
            if !word.required && !only_stop {
                continue;
            }
            let df = searcher
                .doc_freq(&Term::from_field_text(f.body, &word.term))
                .unwrap_or(0)
                .max(1);
            let rarity = (1.0 + searcher.num_docs() as f32 / df as f32).ln();
            for (term, weight) in &word.alternatives {
                let term = Term::from_field_text(f.body, term);
                let Some(mut postings) = postings_at(
                    &inverted,
                    &term,
                    IndexRecordOption::WithFreqsAndPositions,
                    address.doc_id,
                )?
                else {
                    continue;
                };
                positions.clear();
                postings.positions(&mut positions);
                for &p in &positions {
                    if let Some(span) = table.get(p as usize)
                        && (span.start + span.len) as usize <= body.len()
                    {
                        out.push(snippet::Match {
                            offset: span.start as usize,
                            len: span.len as usize,
                            word: i,
                            weight: rarity * weight,
                        });
                    }
                }
            }
        }
        Ok(out)
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
    // A fresh postings list already stands on its first document, which may be past ours;
    // seeking backwards is not allowed.
    let mut at = postings.doc();
    if at < doc {
        at = postings.seek(doc);
    }
    Ok((at == doc).then_some(postings))
}
