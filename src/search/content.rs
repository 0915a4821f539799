//! The query's content words, scored term at a time.
//!
//! A search matches the documents holding one of its content words. Each word scores the sum
//! of its terms' BM25 (every alternative in every field) plus the coverage bonus, the words'
//! scores add up, and every match gets the length prior ([`super::bonus`]). Built of tantivy
//! queries that is a union per word inside a union of the words inside the prior: a 16 kB
//! score buffer per union, and every posting handed up through three layers of boxed
//! scorers one document at a time. [`Words`] computes the same scores into one array per
//! segment, term by term: each term's postings read straight through, its scores added in
//! the order the unions add them (the clauses' order, from 0), so every score is the same
//! float. A language filter is part of it ([`Words::within`]): the other languages'
//! documents are not scored at all, and the filter's term adds its score as a required
//! clause beside the words would. So are the exclusions ([`Words::without`]: drafts, hidden
//! articles) and deleted documents, so that a collection of every match takes each
//! segment's matches at once ([`Words::for_each_segment`]).

use std::cell::RefCell;
use std::sync::Arc;

use tantivy::query::{
    Bm25StatisticsProvider, BooleanQuery, ConstScoreQuery, EnableScoring, Explanation, Occur,
    Query, Scorer, TermQuery, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{
    DocId, DocSet, Score, Searcher, SeekDangerResult, SegmentOrdinal, SegmentReader, TERMINATED,
    TantivyError, Term,
};

use super::bonus::Prior;
use super::lookup::{HeldOnce, KnownTerm, Norms};

/// A filter's term (a language), looked up.
#[derive(Debug, Clone)]
pub enum Within {
    /// No document has it: nothing matches.
    Nothing,
    Term(KnownTerm),
}

impl Within {
    /// The filter of `term` as a search's look-up found it.
    pub fn of(term: Option<KnownTerm>) -> Self {
        term.map_or(Within::Nothing, Within::Term)
    }
}

/// One content word: its terms in every field, and the bonus a document holding any of them
/// gets; and what stands in for it in a document that holds none of them.
#[derive(Debug, Clone)]
pub struct Word {
    pub terms: Vec<KnownTerm>,
    pub bonus: Score,
    /// Scored only in documents that hold none of `terms` (a Chinese word's character
    /// bigrams, for pages that jieba cut otherwise), which then match this word without its
    /// bonus.
    pub fallback: Vec<KnownTerm>,
}

impl Word {
    pub fn new(terms: Vec<KnownTerm>, bonus: Score) -> Self {
        Word {
            terms,
            bonus,
            fallback: Vec::new(),
        }
    }
}

/// A clause that only adds to the score of a document the words match.
#[derive(Debug)]
pub enum Extra {
    /// A function word: its terms in every field, summed as their union sums them.
    Terms(Vec<KnownTerm>),
    /// A score added to the matches holding a term (the title match), as a `ConstScoreQuery`
    /// of its `TermQuery` adds it: read straight from the term's postings, with no BM25
    /// weight built (its 256-entry length table) nor a second look-up of the term to open
    /// a scorer.
    Constant(Term, Score),
    /// Any other query (a phrase).
    Query(Box<dyn Query>),
}

impl Extra {
    /// The clause as a query of its own.
    pub fn into_query(self) -> Box<dyn Query> {
        match self {
            Extra::Terms(terms) => Box::new(BooleanQuery::new(
                terms
                    .into_iter()
                    .map(|t| (Occur::Should, Box::new(t) as Box<dyn Query>))
                    .collect(),
            )),
            Extra::Constant(term, score) => Box::new(ConstScoreQuery::new(
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
                score,
            )),
            Extra::Query(query) => query,
        }
    }
}

impl Clone for Extra {
    fn clone(&self) -> Self {
        match self {
            Extra::Terms(terms) => Extra::Terms(terms.clone()),
            Extra::Constant(term, score) => Extra::Constant(term.clone(), *score),
            Extra::Query(query) => Extra::Query(query.box_clone()),
        }
    }
}

/// The documents holding any of the words, scored as tantivy scores
/// `BooleanQuery([Must(Bonus::length_prior(BooleanQuery(each word's BooleanQuery(terms),
/// plus its bonus))), Must(TermQuery(within)), MustNot(TermQuery(without))...,
/// Should(extra)...])`.
#[derive(Debug, Clone)]
pub struct Words {
    /// Shared with the weights (not copied for each).
    words: Arc<[Word]>,
    /// The length prior's field and weight.
    prior: Option<(Field, Score)>,
    /// Only documents with this term match, and it adds its score.
    within: Option<Within>,
    /// Documents with any of these terms do not match.
    without: Vec<Term>,
    /// Clauses adding to a match's score, in order (shared with the weights, not copied
    /// for each).
    extra: Arc<[Extra]>,
}

impl Words {
    pub fn new(words: Vec<Word>, prior: Option<(Field, Score)>) -> Self {
        Words {
            words: words.into(),
            prior,
            within: None,
            without: Vec::new(),
            extra: Arc::new([]),
        }
    }

    /// Matches only the documents with the filter's term (a language), which adds to their
    /// score what a required `TermQuery` of it beside this query would add: the query needs
    /// no such clause, and the other documents are not scored.
    pub fn within(mut self, term: Option<Within>) -> Self {
        self.within = term;
        self
    }

    /// Leaves out the documents holding any of `terms`, as `MustNot` clauses of them beside
    /// this query would (a draft, a hidden article); no document is scored for them.
    pub fn without(mut self, terms: Vec<Term>) -> Self {
        self.without = terms;
        self
    }

    /// Calls `f` with each segment of `searcher` (in order) and its matching documents, in
    /// order, with their scores, the terms weighed with `stats`: what a collector of every
    /// match gets from this query, without a scorer and a call for each document between.
    pub fn for_each_segment(
        &self,
        searcher: &Searcher,
        stats: &dyn Bm25StatisticsProvider,
        mut f: impl FnMut(SegmentOrdinal, &SegmentReader, &[DocId], &[Score]),
    ) -> tantivy::Result<()> {
        // Only the clauses that are tantivy queries are weighed; the words are scored from
        // `self` (nothing copied).
        let extra = self.extra_weights(EnableScoring::enabled_from_statistics_provider(
            stats, searcher,
        ))?;
        // The lists of the searches before on this thread (an error drops them).
        let mut scored = SCORED.take();
        for (ord, reader) in searcher.segment_readers().iter().enumerate() {
            // The boost a searcher's collection scores with.
            self.score_segment_into(&extra, reader, 1.0, &mut scored)?;
            f(ord as SegmentOrdinal, reader, &scored.docs, &scored.scores);
        }
        SCORED.set(scored);
        Ok(())
    }

    /// Adds to a match's score what these optional clauses beside this query would add
    /// (their union's sum): only the matches are scored.
    pub fn adding(mut self, extra: Vec<Extra>) -> Self {
        self.extra = extra.into();
        self
    }
}

impl Words {
    /// The weight of each optional clause that is a tantivy query (`None` for the others,
    /// which are scored from the clause itself), in the clauses' order.
    fn extra_weights(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<ExtraWeights> {
        let mut extra = Vec::with_capacity(self.extra.len());
        for clause in self.extra.iter() {
            extra.push(match clause {
                Extra::Terms(_) | Extra::Constant(..) => None,
                Extra::Query(query) => Some(query.weight(enable_scoring)?),
            });
        }
        Ok(extra)
    }
}

impl Query for Words {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(WordsWeight {
            extra: self.extra_weights(enable_scoring)?,
            words: self.clone(),
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for term in self
            .words
            .iter()
            .flat_map(|w| w.terms.iter().chain(&w.fallback))
        {
            term.query_terms(visitor);
        }
        if let Some(Within::Term(term)) = &self.within {
            term.query_terms(visitor);
        }
        for clause in self.extra.iter() {
            match clause {
                Extra::Terms(terms) => terms.iter().for_each(|t| t.query_terms(visitor)),
                Extra::Constant(term, _) => visitor(term, false),
                Extra::Query(query) => query.query_terms(visitor),
            }
        }
    }
}

/// The weights of the optional clauses that are tantivy queries, in the clauses' order.
type ExtraWeights = Vec<Option<Box<dyn Weight>>>;

struct WordsWeight {
    words: Words,
    extra: ExtraWeights,
}

thread_local! {
    /// Score arrays (a float per document of a segment) left all zeros by the searches
    /// before on this thread: a segment's arrays are otherwise allocated and zeroed anew
    /// for every search.
    static ZEROED: RefCell<Vec<Vec<Score>>> = const { RefCell::new(Vec::new()) };
    /// The lists of matches and scores [`Words::for_each_segment`] hands over, kept for the
    /// next search on this thread: a common word matches thousands of documents, and a
    /// fresh allocation that large costs more than filling it (glibc first consolidates
    /// its small free chunks).
    static SCORED: RefCell<Scored> = RefCell::new(Scored::default());
}

/// The arrays [`ZEROED`] keeps: the four of one segment's scoring.
const KEPT_ARRAYS: usize = 4;

/// A score array of `len` zeros, one [`ZEROED`] kept when there is one.
fn zeroed(len: usize) -> Vec<Score> {
    if len == 0 {
        // Not one of the kept arrays: it would have to be zeroed again for the next search.
        return Vec::new();
    }
    let mut v = ZEROED.with_borrow_mut(Vec::pop).unwrap_or_default();
    v.resize(len, 0.0);
    v
}

/// Keeps `v`, whose every entry was set back to zero, for the next [`zeroed`].
fn give_back(v: Vec<Score>) {
    debug_assert!(v.iter().all(|s| s.to_bits() == 0));
    if v.capacity() == 0 {
        return;
    }
    ZEROED.with_borrow_mut(|kept| {
        if kept.len() < KEPT_ARRAYS {
            kept.push(v);
        }
    });
}

/// How the filter's term scores the matches.
enum WithinScorer {
    /// From the lengths (a field that keeps no frequencies).
    Once(HeldOnce),
    /// Its postings, sought at each match.
    Postings(Box<dyn Scorer>),
}

/// A set of a segment's documents, 64 to a block.
struct Docs(Vec<u64>);

impl Docs {
    fn new(max_doc: usize) -> Self {
        Docs(vec![0; max_doc.div_ceil(64)])
    }

    #[inline]
    fn has(&self, doc: DocId) -> bool {
        self.0[doc as usize / 64] & (1 << (doc % 64)) != 0
    }

    #[inline]
    fn add(&mut self, doc: DocId) {
        self.0[doc as usize / 64] |= 1 << (doc % 64);
    }

    /// Calls `f` with each document in order, and empties the set.
    fn drain(&mut self, mut f: impl FnMut(usize)) {
        for (block, bits) in self.0.iter_mut().enumerate() {
            let mut rest = std::mem::take(bits);
            while rest != 0 {
                f(block * 64 + rest.trailing_zeros() as usize);
                rest &= rest - 1;
            }
        }
    }

    fn len(&self) -> usize {
        self.0.iter().map(|b| b.count_ones() as usize).sum()
    }

    /// Adds the documents holding `term` in a segment.
    fn add_term(&mut self, reader: &SegmentReader, term: &Term) -> tantivy::Result<()> {
        let index = reader.inverted_index(term.field())?;
        let Some(mut blocks) = index.read_block_postings(term, IndexRecordOption::Basic)? else {
            return Ok(());
        };
        loop {
            let docs = blocks.docs();
            if docs.is_empty() {
                return Ok(());
            }
            for &doc in docs {
                self.add(doc);
            }
            blocks.advance();
        }
    }
}

/// Adds the scores of `terms`, one term after another, to `score` and their documents to
/// `found`, for the documents `keep` holds (all without it).
fn add_terms(
    terms: &[KnownTerm],
    reader: &SegmentReader,
    boost: Score,
    norms: &mut Norms,
    keep: Option<&Docs>,
    score: &mut [Score],
    found: &mut Docs,
) -> tantivy::Result<()> {
    for term in terms {
        let Some(blocks) = term.segment_blocks(reader, boost, norms)? else {
            continue;
        };
        let add = |doc: DocId, s: Score| {
            score[doc as usize] += s;
            found.add(doc);
        };
        match keep {
            Some(keep) => blocks.for_each(|doc| keep.has(doc), add),
            None => blocks.for_each(|_| true, add),
        }
    }
    Ok(())
}

impl WordsWeight {
    /// Every matching document of a segment and its score, in document order.
    fn score_segment(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Scored> {
        let mut scored = Scored::default();
        self.words
            .score_segment_into(&self.extra, reader, boost, &mut scored)?;
        Ok(scored)
    }
}

impl Words {
    /// Every matching document of a segment and its score, in document order, into the
    /// lists of `out` (emptied first), which keep their room; `extra` are the weights of
    /// the optional clauses ([`Words::extra_weights`]).
    fn score_segment_into(
        &self,
        extra_weights: &[Option<Box<dyn Weight>>],
        reader: &SegmentReader,
        boost: Score,
        out: &mut Scored,
    ) -> tantivy::Result<()> {
        out.docs.clear();
        out.scores.clear();
        out.at = 0;
        let max_doc = reader.max_doc() as usize;
        let mut norms = Norms::default();
        let (allowed, mut within) = match &self.within {
            None => (None, None),
            Some(within) => {
                // The filter's documents as a set, and its scorer.
                let Within::Term(term) = within else {
                    return Ok(());
                };
                let Some(blocks) = term.segment_blocks(reader, boost, &mut norms)? else {
                    // No document of the segment can match.
                    return Ok(());
                };
                let mut docs = Docs::new(max_doc);
                let once = blocks.for_each_doc(|doc| docs.add(doc));
                // A field without frequencies holds its term once in each document: scored
                // from the lengths alone, its postings not opened again.
                let scorer = match reader
                    .schema()
                    .get_field_entry(term.field())
                    .field_type()
                    .index_record_option()
                {
                    Some(option) if !option.has_freq() => WithinScorer::Once(once),
                    _ => match term.segment_scorer(reader, boost)? {
                        Some(scorer) => WithinScorer::Postings(Box::new(scorer)),
                        None => return Ok(()),
                    },
                };
                (Some(docs), Some(scorer))
            }
        };
        // One clause's scores and documents (a word's union), and the words' sum and
        // documents.
        // Every entry is set back to zero once read (`give_back`).
        let mut part = zeroed(max_doc);
        let mut part_docs = Docs::new(max_doc);
        let mut total = zeroed(max_doc);
        let mut matched = Docs::new(max_doc);
        // A fallback's scores and documents.
        let fallbacks = self.words.iter().any(|w| !w.fallback.is_empty());
        let size = if fallbacks { max_doc } else { 0 };
        let (mut spare, mut spare_docs) = (zeroed(size), Docs::new(size));
        for word in self.words.iter() {
            add_terms(
                &word.terms,
                reader,
                boost,
                &mut norms,
                allowed.as_ref(),
                &mut part,
                &mut part_docs,
            )?;
            if !word.fallback.is_empty() {
                add_terms(
                    &word.fallback,
                    reader,
                    boost,
                    &mut norms,
                    allowed.as_ref(),
                    &mut spare,
                    &mut spare_docs,
                )?;
                spare_docs.drain(|doc| {
                    if !part_docs.has(doc as DocId) {
                        total[doc] += spare[doc];
                        matched.add(doc as DocId);
                    }
                    spare[doc] = 0.0;
                });
            }
            // The word's union, plus its bonus.
            let bonus = word.bonus * boost;
            part_docs.drain(|doc| {
                total[doc] += part[doc] + bonus;
                part[doc] = 0.0;
                matched.add(doc as DocId);
            });
        }
        // The documents left out: the excluded terms' (as `MustNot` clauses beside this
        // query would leave them out) and the deleted ones (as a collector would). Scored
        // like the others, they leave the matches here, their sums set back to zero.
        if !self.without.is_empty() || reader.has_deletes() {
            let mut out = Docs::new(max_doc);
            for term in &self.without {
                out.add_term(reader, term)?;
            }
            if let Some(alive) = reader.alive_bitset() {
                for doc in 0..max_doc as DocId {
                    if alive.is_deleted(doc) {
                        out.add(doc);
                    }
                }
            }
            for (block, (bits, &gone)) in matched.0.iter_mut().zip(&out.0).enumerate() {
                let mut gone = *bits & gone;
                *bits &= !gone;
                while gone != 0 {
                    total[block * 64 + gone.trailing_zeros() as usize] = 0.0;
                    gone &= gone - 1;
                }
            }
        }
        let prior = match self.prior {
            Some((field, weight)) => Some(Prior::open(reader, field, weight * boost)?),
            None => None,
        };
        // The matches, in order: scored below, where those the filter's clause does not
        // hold are taken out again.
        let docs = &mut out.docs;
        docs.reserve(matched.len());
        for (block, &bits) in matched.0.iter().enumerate() {
            let mut rest = bits;
            while rest != 0 {
                docs.push((block * 64) as DocId + rest.trailing_zeros());
                rest &= rest - 1;
            }
        }
        // The optional clauses' union, at the matches only: each clause's score added in
        // turn.
        let mut extra = zeroed(if self.extra.is_empty() { 0 } else { max_doc });
        let mut extra_docs = Docs::new(if self.extra.is_empty() { 0 } else { max_doc });
        for (clause, weight) in self.extra.iter().zip(extra_weights) {
            match clause {
                Extra::Terms(terms) => {
                    add_terms(
                        terms,
                        reader,
                        boost,
                        &mut norms,
                        Some(&matched),
                        &mut part,
                        &mut part_docs,
                    )?;
                    part_docs.drain(|doc| {
                        extra[doc] += part[doc];
                        part[doc] = 0.0;
                        extra_docs.add(doc as DocId);
                    });
                }
                Extra::Constant(term, score) => {
                    // As `ConstScoreQuery`'s scorer scores at this boost.
                    let score = boost * *score;
                    let index = reader.inverted_index(term.field())?;
                    let Some(mut blocks) =
                        index.read_block_postings(term, IndexRecordOption::Basic)?
                    else {
                        continue;
                    };
                    loop {
                        let held = blocks.docs();
                        if held.is_empty() {
                            break;
                        }
                        for &doc in held {
                            if matched.has(doc) {
                                extra[doc as usize] += score;
                                extra_docs.add(doc);
                            }
                        }
                        blocks.advance();
                    }
                }
                Extra::Query(_) => {
                    let Some(weight) = weight else {
                        continue;
                    };
                    let Some(&first) = docs.first() else {
                        continue;
                    };
                    // Opened at the first match and moved from match to match: a phrase's
                    // scorer reads positions only at the documents it is asked about,
                    // where a plain seek would check every document holding its words up
                    // to the next phrase (the other languages' too). Its count at a
                    // document, and so its score, is the same either way.
                    let (mut at, mut scorer) = weight.scorer_danger(reader, first, boost)?;
                    let mut doc = first;
                    let mut rest = docs.iter();
                    rest.next();
                    loop {
                        match at {
                            SeekDangerResult::Found => {
                                extra[doc as usize] += scorer.score();
                                extra_docs.add(doc);
                            }
                            SeekDangerResult::SeekLowerBound(TERMINATED) => break,
                            SeekDangerResult::SeekLowerBound(_) => {}
                        }
                        // None below the bound holds it (asked in increasing order only).
                        let bound = match at {
                            SeekDangerResult::SeekLowerBound(b) => b,
                            SeekDangerResult::Found => doc + 1,
                        };
                        match rest.find(|&&d| d >= bound) {
                            Some(&next) => doc = next,
                            None => break,
                        }
                        at = scorer.seek_danger(doc);
                    }
                }
            }
        }
        out.scores.reserve(docs.len());
        let mut kept = 0;
        for i in 0..docs.len() {
            let doc = docs[i];
            let mut score = total[doc as usize];
            total[doc as usize] = 0.0;
            if let Some(prior) = &prior {
                score += prior.of(doc);
            }
            // As the intersection with the filter's clause adds it (on either side: a sum
            // of two).
            if let Some(within) = &mut within {
                match within {
                    WithinScorer::Once(once) => {
                        // Every match is the filter's already (`allowed`).
                        score += once.score(doc);
                    }
                    WithinScorer::Postings(scorer) => {
                        if scorer.seek(doc) != doc {
                            continue;
                        }
                        score += scorer.score();
                    }
                }
            }
            // As the required and the optional part add up.
            if !self.extra.is_empty() && extra_docs.has(doc) {
                score += extra[doc as usize];
            }
            docs[kept] = doc;
            kept += 1;
            out.scores.push(score);
        }
        docs.truncate(kept);
        // `part` is zero again already (each clause's sum was moved out of it), and `total`
        // at every match (read once above).
        extra_docs.drain(|doc| extra[doc] = 0.0);
        give_back(part);
        give_back(total);
        give_back(extra);
        give_back(spare);
        Ok(())
    }
}

impl Weight for WordsWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(self.score_segment(reader, boost)?))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scored = self.score_segment(reader, 1.0)?;
        if scored.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "document {doc} does not match"
            )));
        }
        Ok(Explanation::new(
            "content words with coverage, length prior and optional clauses",
            scored.score(),
        ))
    }
}

/// A segment's matching documents, scored.
#[derive(Default)]
struct Scored {
    docs: Vec<DocId>,
    scores: Vec<Score>,
    at: usize,
}

impl DocSet for Scored {
    fn advance(&mut self) -> DocId {
        self.at = (self.at + 1).min(self.docs.len());
        self.doc()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        // Mostly one of the next few documents: a short walk, else a binary search.
        let rest = &self.docs[self.at..];
        self.at += match rest.iter().take(8).position(|&d| d >= target) {
            Some(i) => i,
            None => rest.partition_point(|&d| d < target),
        };
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.docs.get(self.at).copied().unwrap_or(TERMINATED)
    }

    fn size_hint(&self) -> u32 {
        (self.docs.len() - self.at) as u32
    }
}

impl Scorer for Scored {
    fn score(&mut self) -> Score {
        self.scores.get(self.at).copied().unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::bonus::Bonus;
    use super::super::lookup::Lookup;
    use super::*;
    use tantivy::collector::TopDocs;
    use tantivy::query::{BoostQuery, ConstScoreQuery, PhraseQuery, TermQuery};
    use tantivy::schema::{STRING, Schema, TEXT};
    use tantivy::{DocAddress, Index, TantivyDocument};

    /// Two segments (the second with a deletion): title, body and language.
    fn index() -> (Index, Field, Field, Field) {
        let mut schema = Schema::builder();
        let title = schema.add_text_field("title", TEXT);
        let body = schema.add_text_field("body", TEXT);
        let lang = schema.add_text_field("lang", STRING);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let batches: [&[(&str, &str, &str)]; 2] = [
            &[
                ("refund policy", "how to ask for a refund refund", "en"),
                (
                    "shipping",
                    "parcels and a refund when lost in shipping",
                    "en",
                ),
                ("refund", "refund повернення refund policy", "uk"),
                ("пароль", "як змінити пароль пароль", "uk"),
            ],
            &[
                (
                    "refunds",
                    "refund window of thirty days and more words here policy",
                    "en",
                ),
                ("gone", "refund policy", "en"),
                ("password", "change the password and the refund", "en"),
                ("policy", "a policy", "uk"),
            ],
        ];
        for batch in batches {
            for (t, b, l) in batch {
                let mut doc = TantivyDocument::new();
                doc.add_text(title, t);
                doc.add_text(body, b);
                doc.add_text(lang, l);
                writer.add_document(doc).unwrap();
            }
            writer.commit().unwrap();
        }
        writer.delete_term(Term::from_field_text(title, "gone"));
        writer.commit().unwrap();
        (index, title, body, lang)
    }

    #[test]
    fn kept_score_arrays_come_back_as_zeros_of_the_length_asked() {
        let mut v = zeroed(5);
        assert_eq!(v, [0.0; 5]);
        v[3] = 2.5;
        v[3] = 0.0;
        give_back(v);
        // Longer and shorter than the kept one: zeros either way.
        assert_eq!(zeroed(8), [0.0; 8]);
        give_back(vec![0.0; 8]);
        assert_eq!(zeroed(3), [0.0; 3]);
    }

    #[test]
    fn scores_exactly_as_the_unions_it_replaces() {
        let (index, title, body, lang) = index();
        let searcher = index.reader().unwrap().searcher();
        let lookup = Lookup::new(&searcher);
        let spec: [(&[&str], Score); 3] = [
            (&["refund", "refunds"], 7.0),
            (&["policy"], 0.0),
            (&["nowhere", "пароль"], 7.0),
        ];
        let fields = [(title, 3.1f32), (body, 1.0)];
        let words: Vec<Word> = spec
            .iter()
            .map(|(terms, bonus)| Word {
                fallback: Vec::new(),
                terms: terms
                    .iter()
                    .flat_map(|t| fields.iter().map(move |&(f, b)| (f, *t, b)))
                    .filter_map(|(f, t, b)| lookup.term_query(f, t, b * 0.8))
                    .collect(),
                bonus: *bonus,
            })
            .collect();
        let tree = |words: &[Word], prior: Option<Score>| -> Box<dyn Query> {
            let union: Vec<(Occur, Box<dyn Query>)> = words
                .iter()
                .map(|w| {
                    let terms: Vec<(Occur, Box<dyn Query>)> = w
                        .terms
                        .iter()
                        .map(|t| (Occur::Should, Box::new(t.clone()) as Box<dyn Query>))
                        .collect();
                    // The bonus wherever the word is: a constant-score copy of it.
                    let word = Box::new(BooleanQuery::new(terms));
                    let bonus = Box::new(ConstScoreQuery::new(Box::new((*word).clone()), w.bonus));
                    let word: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
                        (Occur::Should, word as Box<dyn Query>),
                        (Occur::Should, bonus),
                    ]));
                    (Occur::Should, word)
                })
                .collect();
            let union = Box::new(BooleanQuery::new(union));
            match prior {
                Some(p) => Box::new(Bonus::length_prior(union, body, p)),
                None => union,
            }
        };
        // Clauses that only add: a function word, a phrase, a title match.
        let extra = vec![
            Extra::Terms(
                ["and", "a"]
                    .iter()
                    .flat_map(|t| fields.iter().map(move |&(f, b)| (f, *t, b)))
                    .filter_map(|(f, t, b)| lookup.term_query(f, t, b))
                    .collect(),
            ),
            Extra::Query(Box::new(BoostQuery::new(
                Box::new(PhraseQuery::new(vec![
                    Term::from_field_text(body, "refund"),
                    Term::from_field_text(body, "policy"),
                ])),
                1.5,
            ))),
            Extra::Query(Box::new(ConstScoreQuery::new(
                Box::new(TermQuery::new(
                    Term::from_field_text(title, "refund"),
                    IndexRecordOption::Basic,
                )),
                4.0,
            ))),
            // The title match as it is scored: from the term's postings.
            Extra::Constant(Term::from_field_text(title, "refunds"), 2.5),
            Extra::Constant(Term::from_field_text(title, "nowhere"), 2.0),
        ];
        let top = TopDocs::with_limit(20).order_by_score();
        let bits = |v: Vec<(Score, DocAddress)>| -> Vec<(u32, DocAddress)> {
            let mut v: Vec<_> = v.into_iter().map(|(s, a)| (s.to_bits(), a)).collect();
            v.sort_by_key(|&(_, a)| a);
            v
        };
        for n in 1..=words.len() {
            for prior in [None, Some(2.5)] {
                for l in [None, Some("en"), Some("uk")] {
                    for extra in [Vec::new(), extra.clone()] {
                        let within = l.map(|l| Term::from_field_text(lang, l));
                        let known = l.map(|l| Within::of(lookup.term_query(lang, l, 1.0)));
                        let mut theirs = vec![(Occur::Must, tree(&words[..n], prior))];
                        if let Some(term) = &within {
                            let filter = TermQuery::new(term.clone(), IndexRecordOption::Basic);
                            theirs.push((Occur::Must, Box::new(filter)));
                        }
                        for clause in extra.clone() {
                            theirs.push((Occur::Should, clause.into_query()));
                        }
                        let theirs = BooleanQuery::new(theirs);
                        let ours = Words::new(words[..n].to_vec(), prior.map(|p| (body, p)))
                            .within(known)
                            .adding(extra);
                        let a = searcher.search(&ours, &top).unwrap();
                        assert!(!a.is_empty());
                        assert_eq!(bits(a), bits(searcher.search(&theirs, &top).unwrap()));
                    }
                }
            }
        }
        // Explained as scored.
        let ours = Words::new(words.clone(), Some((body, 2.5))).adding(extra);
        for (score, address) in searcher.search(&ours, &top).unwrap() {
            assert_eq!(
                Query::explain(&ours, &searcher, address).unwrap().value(),
                score
            );
        }
    }

    #[test]
    fn a_fallback_scores_only_where_its_word_is_missing() {
        let (index, title, body, _) = index();
        let searcher = index.reader().unwrap().searcher();
        let lookup = Lookup::new(&searcher);
        let terms = |words: &[&str]| -> Vec<KnownTerm> {
            words
                .iter()
                .flat_map(|t| [(title, *t, 3.0), (body, *t, 1.0)])
                .filter_map(|(f, t, b)| lookup.term_query(f, t, b))
                .collect()
        };
        let top = TopDocs::with_limit(20).order_by_score();
        let scores = |words: Vec<Word>| -> std::collections::BTreeMap<DocAddress, Score> {
            let found = searcher.search(&Words::new(words, None), &top).unwrap();
            found.into_iter().map(|(s, a)| (a, s)).collect()
        };
        let word = Word::new(terms(&["refund"]), 7.0);
        let mut with_fallback = word.clone();
        with_fallback.fallback = terms(&["policy"]);
        let plain = scores(vec![word]);
        let fallback = scores(vec![Word::new(terms(&["policy"]), 0.0)]);
        let both = scores(vec![with_fallback]);
        for (address, score) in &both {
            match plain.get(address) {
                // Where the word is, the fallback adds nothing.
                Some(s) => assert_eq!(s.to_bits(), score.to_bits()),
                // Elsewhere it scores as its terms do, without the word's bonus.
                None => assert_eq!(fallback[address].to_bits(), score.to_bits()),
            }
        }
        assert!(plain.keys().all(|a| both.contains_key(a)));
        assert!(
            both.len() > plain.len(),
            "a page with `policy` alone matches"
        );
    }
}
