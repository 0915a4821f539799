//! The term look-ups of one search: each (field, term) is looked up in each segment's term
//! dictionary once, whoever asks (planning's document counts, the query's weights and
//! scorers), and BM25's statistics are computed once per field and document count rather
//! than once per term.
//!
//! tantivy's `TermQuery` looks a term up three times (its document count when it is weighed,
//! again to open its postings, and the search asked first whether to weigh it at all), sums
//! the field's tokens over the segments and builds a 256-entry length table for every term
//! of every field. [`KnownTerm`] scores exactly as a boosted `TermQuery` does (the same
//! BM25 weight, the same arithmetic, the same order of additions in the union above it) from
//! what the look-up found, with one length table per field ([`Bm25`]) where tantivy's
//! `Bm25Weight` builds one per term.

use std::cell::RefCell;
use std::sync::Arc;

use smallvec::SmallVec;

use super::vocab::{self, Vocabulary};

use tantivy::fieldnorm::FieldNormReader;
use tantivy::index::SegmentId;
use tantivy::postings::{BlockSegmentPostings, Postings, SegmentPostings, TermInfo};
use tantivy::query::{
    Bm25StatisticsProvider, Bm25Weight, EmptyScorer, EnableScoring, Explanation, Query, Scorer,
    TermQuery, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{
    DocId, DocSet, InvertedIndexReader, Score, Searcher, SegmentOrdinal, SegmentReader,
    TantivyError, Term,
};

/// A term as the searcher's segments have it.
#[derive(Default, Clone)]
pub struct Found {
    /// Documents holding it, over every segment (deleted ones too, as tantivy counts).
    pub doc_freq: u64,
    /// Where its postings are in each segment of the searcher, with the field's index there
    /// (`None`: not there).
    infos: SmallVec<[(SegmentId, Option<Posted>); 1]>,
}

/// Where a term's postings are in one segment, and the index of its field there.
type Posted = (TermInfo, Arc<InvertedIndexReader>);

/// The maps of one search's look-ups, keyed by short terms: FxHash (rustc-hash), as SipHash,
/// the default, was a fifth of a look-up's time. A query has at most a few hundred terms, too
/// few for colliding keys to cost anything.
type FxMap<K, V> = rustc_hash::FxHashMap<K, V>;

/// The look-ups of one search over one searcher.
pub struct Lookup<'s> {
    searcher: &'s Searcher,
    /// By [`key`]: a term is looked up without building a tantivy `Term` once it is known.
    /// Kept by value: most askings want its document count alone, and a look-up of a term
    /// that exists cost an allocation of its own.
    found: RefCell<FxMap<String, Found>>,
    /// The key being looked up (kept to spare an allocation per look-up).
    key: RefCell<String>,
    /// Per segment, each field's index by field number, opened once per search: tantivy
    /// builds an empty one anew at every asking for a field its segment has no terms in.
    indexes: RefCell<Vec<Vec<Option<Arc<InvertedIndexReader>>>>>,
    /// Each field's average length over the searcher's documents, and BM25's length table
    /// for it: every term of the field shares them.
    tables: RefCell<FxMap<Field, (Score, LengthTable)>>,
    /// The searcher's documents (alive), once asked.
    total_num_docs: std::cell::Cell<Option<u64>>,
    /// Which fields hold each term of the searcher's segments, when the caller has it: a
    /// term a field lacks is answered without a look-up (nor a memo).
    vocabulary: Option<Arc<Vocabulary>>,
    /// What a term that no segment has is found to be.
    nowhere: Found,
}

/// Writes the key of `text` in `field` into `key`: the field as one character (its number
/// is small), then the text.
fn key(key: &mut String, field: Field, text: &str) {
    key.clear();
    key.push(char::from_u32(field.field_id()).unwrap_or(char::MAX));
    key.push_str(text);
}

/// The maps a search's [`Lookup`] fills, emptied when it ends and kept by the thread for its
/// next search: a fresh map of 128 terms is a 4 kB allocation, for which glibc first
/// consolidates its free small chunks (`malloc_consolidate`), at every search. Nothing of a
/// search outlives it: only the emptied tables are kept.
#[derive(Default)]
struct Maps {
    found: FxMap<String, Found>,
    key: String,
    tables: FxMap<Field, (Score, LengthTable)>,
}

/// Maps that grew larger than this many terms (a long, odd query) are not kept.
const KEEP_TERMS: usize = 1024;

thread_local! {
    static SPARE: RefCell<Option<Maps>> = const { RefCell::new(None) };
}

impl Maps {
    /// The thread's spare maps, or new ones.
    fn take() -> Maps {
        SPARE
            .try_with(|spare| spare.borrow_mut().take())
            .ok()
            .flatten()
            .unwrap_or_else(|| Maps {
                // A query's words in every field, with their alternatives.
                found: FxMap::with_capacity_and_hasher(128, Default::default()),
                key: String::new(),
                tables: FxMap::with_capacity_and_hasher(16, Default::default()),
            })
    }

    /// Empties the maps and keeps them for the thread's next search.
    fn give_back(mut self) {
        if self.found.capacity() > KEEP_TERMS {
            return;
        }
        self.found.clear();
        self.key.clear();
        self.tables.clear();
        let _ = SPARE.try_with(|spare| *spare.borrow_mut() = Some(self));
    }
}

impl Drop for Lookup<'_> {
    fn drop(&mut self) {
        Maps {
            found: std::mem::take(self.found.get_mut()),
            key: std::mem::take(self.key.get_mut()),
            tables: std::mem::take(self.tables.get_mut()),
        }
        .give_back();
    }
}

impl<'s> Lookup<'s> {
    pub fn new(searcher: &'s Searcher) -> Self {
        Self::with_vocabulary(searcher, None)
    }

    /// The look-ups of a search that knows the searcher's [`Vocabulary`] (ignored when it
    /// was read from other segments).
    pub fn with_vocabulary(searcher: &'s Searcher, vocabulary: Option<Arc<Vocabulary>>) -> Self {
        let maps = Maps::take();
        Lookup {
            vocabulary: vocabulary.filter(|v| v.is_of(searcher)),
            nowhere: Found::default(),
            searcher,
            found: RefCell::new(maps.found),
            key: RefCell::new(maps.key),
            indexes: RefCell::new(vec![Vec::new(); searcher.segment_readers().len()]),
            tables: RefCell::new(maps.tables),
            total_num_docs: Default::default(),
        }
    }

    pub fn searcher(&self) -> &'s Searcher {
        self.searcher
    }

    /// The vocabulary of the searcher's segments, when the search has it.
    pub fn vocabulary(&self) -> Option<&Vocabulary> {
        self.vocabulary.as_deref()
    }

    /// The index of `field` in the searcher's segment `segment`, opened on the first asking.
    pub fn inverted_index(
        &self,
        field: Field,
        segment: SegmentOrdinal,
    ) -> tantivy::Result<Arc<InvertedIndexReader>> {
        let mut indexes = self.indexes.borrow_mut();
        let open = &mut indexes[segment as usize];
        let at = field.field_id() as usize;
        if let Some(Some(index)) = open.get(at) {
            return Ok(index.clone());
        }
        let index = self
            .searcher
            .segment_reader(segment)
            .inverted_index(field)?;
        if open.len() <= at {
            open.resize(at + 1, None);
        }
        open[at] = Some(index.clone());
        Ok(index)
    }

    /// What `f` makes of `text` in `field`, looked up in every segment the first time it
    /// is asked for.
    fn with_found<R>(&self, field: Field, text: &str, f: impl FnOnce(&Found) -> R) -> R {
        if let Some(v) = &self.vocabulary
            && v.lacks(field, vocab::hash(text))
        {
            return f(&self.nowhere);
        }
        {
            let mut k = self.key.borrow_mut();
            key(&mut k, field, text);
            if let Some(found) = self.found.borrow().get(k.as_str()) {
                return f(found);
            }
        }
        let segments = self.searcher.segment_readers();
        let mut found = Found {
            doc_freq: 0,
            infos: SmallVec::with_capacity(segments.len()),
        };
        for (ord, segment) in segments.iter().enumerate() {
            // A segment whose dictionary cannot be read has no terms, as `Searcher::doc_freq`
            // would have failed for it (and counted none).
            // The dictionary is keyed by the term's value bytes: a text's own.
            let info = self
                .inverted_index(field, ord as SegmentOrdinal)
                .ok()
                .and_then(|index| Some((index.terms().get(text).ok()??, index)));
            found.doc_freq += info.as_ref().map_or(0, |(i, _)| u64::from(i.doc_freq));
            found.infos.push((segment.segment_id(), info));
        }
        let answer = f(&found);
        let k = self.key.borrow();
        self.found.borrow_mut().insert(k.clone(), found);
        answer
    }

    /// Where `text`'s postings are in `field` of the searcher's segment `segment` (`None`:
    /// not there).
    pub fn info(&self, field: Field, text: &str, segment: SegmentOrdinal) -> Option<TermInfo> {
        // `with_found` records the segments in the searcher's order: the ordinal is the
        // index.
        self.with_found(field, text, |found| {
            (found.infos.get(segment as usize))
                .and_then(|(_, info)| info.as_ref().map(|(info, _)| info.clone()))
        })
    }

    /// Documents holding `text` in `field`.
    pub fn doc_freq(&self, field: Field, text: &str) -> u64 {
        self.with_found(field, text, |found| found.doc_freq)
    }

    /// A scoring query for `text` in `field` at `boost`, as a boosted `TermQuery` with
    /// frequencies scores it; `None` when no document has the term there (it would score
    /// nothing).
    pub fn term_query(&self, field: Field, text: &str, boost: Score) -> Option<KnownTerm> {
        let found = self.with_found(field, text, |found| {
            (found.doc_freq > 0).then(|| found.clone())
        })?;
        let (average, cache) = self.table(field).ok()?;
        let total_num_docs = self.total_num_docs().ok()?;
        Some(KnownTerm {
            term: Term::from_field_text(field, text),
            bm25: Bm25 {
                weight: idf(found.doc_freq, total_num_docs) * (1.0 + K1),
                cache,
            },
            average,
            total_num_docs,
            found,
            boost,
        })
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        if let Some(n) = self.total_num_docs.get() {
            return Ok(n);
        }
        let n = self.searcher.total_num_docs()?;
        self.total_num_docs.set(Some(n));
        Ok(n)
    }

    /// The average length of `field` and BM25's length table for it, as `Bm25Weight`
    /// computes them from the searcher's statistics.
    fn table(&self, field: Field) -> tantivy::Result<(Score, LengthTable)> {
        if let Some((average, cache)) = self.tables.borrow().get(&field) {
            return Ok((*average, cache.clone()));
        }
        let average =
            self.searcher.total_num_tokens(field)? as Score / self.total_num_docs()? as Score;
        let mut cache = [0.0; 256];
        for (id, c) in cache.iter_mut().enumerate() {
            let length = FieldNormReader::id_to_fieldnorm(id as u8);
            *c = K1 * (1.0 - B + B * length as Score / average);
        }
        let cache = Arc::new(cache);
        self.tables
            .borrow_mut()
            .insert(field, (average, cache.clone()));
        Ok((average, cache))
    }
}

/// BM25's length part of a field, by fieldnorm id.
type LengthTable = Arc<[Score; 256]>;

/// BM25's constants, as tantivy's.
const K1: Score = 1.2;
const B: Score = 0.75;

/// The inverse document frequency, as tantivy computes it (tantivy asserts that a term has
/// no more documents than the searcher, which deleted documents can break: here it saturates).
fn idf(doc_freq: u64, doc_count: u64) -> Score {
    let x = (doc_count.saturating_sub(doc_freq) as Score + 0.5) / (doc_freq as Score + 0.5);
    (1.0 + x).ln()
}

/// The BM25 weight of one term of a field: tantivy's `Bm25Weight` arithmetic, with the
/// field's length table shared (tantivy's weight builds its own table, 256 divisions).
#[derive(Clone)]
struct Bm25 {
    weight: Score,
    cache: LengthTable,
}

impl Bm25 {
    fn boost_by(&self, boost: Score) -> Bm25 {
        Bm25 {
            weight: self.weight * boost,
            cache: self.cache.clone(),
        }
    }

    #[inline]
    fn score(&self, fieldnorm_id: u8, term_freq: u32) -> Score {
        let term_freq = term_freq as Score;
        self.weight * (term_freq / (term_freq + self.cache[fieldnorm_id as usize]))
    }
}

/// The statistics a tantivy query weighs its terms with (phrases, filters), from the
/// look-ups: the same figures as the searcher's, without a second look-up of a known term.
impl Bm25StatisticsProvider for Lookup<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        self.searcher.total_num_tokens(field)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        self.searcher.total_num_docs()
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        match term.value().as_str() {
            Some(text) => Ok(self.doc_freq(term.field(), text)),
            None => self.searcher.doc_freq(term),
        }
    }
}

/// A term of one field, scored by BM25 at a boost from what a [`Lookup`] found: the
/// searcher's statistics at the time, and where the term's postings are.
#[derive(Clone)]
pub struct KnownTerm {
    term: Term,
    found: Found,
    bm25: Bm25,
    /// The field's average length and the searcher's documents the weight was built from
    /// (for explanations).
    average: Score,
    total_num_docs: u64,
    boost: Score,
}

impl std::fmt::Debug for KnownTerm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnownTerm")
            .field("term", &self.term)
            .field("doc_freq", &self.found.doc_freq)
            .field("boost", &self.boost)
            .finish()
    }
}

const OPTION: IndexRecordOption = IndexRecordOption::WithFreqs;

impl Query for KnownTerm {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        if !enable_scoring.is_scoring_enabled() {
            // Matching only: tantivy's own term query knows the shortcuts.
            return TermQuery::new(self.term.clone(), OPTION).weight(enable_scoring);
        }
        Ok(Box::new(self.clone()))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        visitor(&self.term, false);
    }
}

impl KnownTerm {
    /// The term's field.
    pub(super) fn field(&self) -> Field {
        self.term.field()
    }

    /// The term's postings in a segment, block by block, scored at `boost` (`None`: the
    /// segment has no such term).
    pub(super) fn segment_blocks(
        &self,
        reader: &SegmentReader,
        boost: Score,
        norms: &mut Norms,
    ) -> tantivy::Result<Option<TermBlocks>> {
        let Some((info, inverted)) = self.segment_info(reader)? else {
            return Ok(None);
        };
        Ok(Some(TermBlocks {
            postings: inverted.read_block_postings_from_terminfo(&info, OPTION)?,
            norms: norms.get(reader, self.term.field())?,
            bm25: self.bm25.boost_by(boost * self.boost),
        }))
    }

    /// The term's scorer in a segment at `boost` (`None`: the segment has no such term).
    pub(super) fn segment_scorer(
        &self,
        reader: &SegmentReader,
        boost: Score,
    ) -> tantivy::Result<Option<impl Scorer + use<>>> {
        self.term_scorer(reader, boost)
    }

    /// Where the term's postings are in a segment, and its field's index there.
    fn segment_info(
        &self,
        reader: &SegmentReader,
    ) -> tantivy::Result<Option<(TermInfo, Arc<InvertedIndexReader>)>> {
        Ok(
            match self
                .found
                .infos
                .iter()
                .find(|(s, _)| *s == reader.segment_id())
            {
                Some((_, None)) => None,
                Some((_, Some((info, inverted)))) => Some((info.clone(), inverted.clone())),
                // Not a segment of the looked-up searcher (none is, in practice): look it up.
                None => {
                    let inverted = reader.inverted_index(self.term.field())?;
                    inverted
                        .get_term_info(&self.term)?
                        .map(|info| (info, inverted))
                }
            },
        )
    }

    /// The lengths of the term's field in a segment.
    fn norms(&self, reader: &SegmentReader) -> tantivy::Result<FieldNormReader> {
        Norms::default().get(reader, self.term.field())
    }

    fn term_scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Option<Term1>> {
        let Some((info, inverted)) = self.segment_info(reader)? else {
            return Ok(None);
        };
        // `BoostQuery` multiplies the boost it is given by its own, and the term's weight
        // is then boosted by that: the same product here.
        Ok(Some(Term1 {
            postings: inverted.read_postings_from_terminfo(&info, OPTION)?,
            norms: self.norms(reader)?,
            bm25: self.bm25.boost_by(boost * self.boost),
        }))
    }
}

/// The length codes of a segment's fields, each opened once for the terms scored there
/// (opening them is a look-up in the segment's file of lengths).
#[derive(Default)]
pub(super) struct Norms(Vec<(Field, FieldNormReader)>);

impl Norms {
    /// The lengths of `field` in the segment of `reader` (one segment per `Norms`).
    pub(super) fn get(
        &mut self,
        reader: &SegmentReader,
        field: Field,
    ) -> tantivy::Result<FieldNormReader> {
        if let Some((_, norms)) = self.0.iter().find(|(f, _)| *f == field) {
            return Ok(norms.clone());
        }
        let norms = match reader.fieldnorms_readers().get_field(field)? {
            Some(norms) => norms,
            None => FieldNormReader::constant(reader.max_doc(), 1),
        };
        self.0.push((field, norms.clone()));
        Ok(norms)
    }
}

/// One term's postings in one segment, read a block (128 documents) at a time and scored
/// as [`Term1`] scores them: no cursor moved and no scorer called for each document.
pub(super) struct TermBlocks {
    postings: BlockSegmentPostings,
    norms: FieldNormReader,
    bm25: Bm25,
}

impl TermBlocks {
    /// Calls `f` with each document that `keep` keeps, in order, and its score.
    #[inline]
    pub(super) fn for_each(
        mut self,
        mut keep: impl FnMut(DocId) -> bool,
        mut f: impl FnMut(DocId, Score),
    ) {
        loop {
            let docs = self.postings.docs();
            if docs.is_empty() {
                return;
            }
            for (i, &doc) in docs.iter().enumerate() {
                if keep(doc) {
                    // A field without frequencies reads 1 (the block is filled with it),
                    // as the postings' `term_freq` does.
                    let tf = self.postings.freq(i);
                    f(doc, self.bm25.score(self.norms.fieldnorm_id(doc), tf));
                }
            }
            self.postings.advance();
        }
    }

    /// Calls `f` with each document, in order, unscored; then gives back what scores the
    /// term at a document holding it once ([`HeldOnce`]).
    pub(super) fn for_each_doc(mut self, mut f: impl FnMut(DocId)) -> HeldOnce {
        loop {
            let docs = self.postings.docs();
            if docs.is_empty() {
                break;
            }
            docs.iter().for_each(|&doc| f(doc));
            self.postings.advance();
        }
        HeldOnce {
            norms: self.norms,
            bm25: self.bm25,
        }
    }
}

/// A term's score at a document that holds it once, as [`Term1`] scores it there: every
/// document of a field that keeps no frequencies (a language tag), whose postings then
/// need not be opened a second time for a scorer.
pub(super) struct HeldOnce {
    norms: FieldNormReader,
    bm25: Bm25,
}

impl HeldOnce {
    #[inline]
    pub(super) fn score(&self, doc: DocId) -> Score {
        self.bm25.score(self.norms.fieldnorm_id(doc), 1)
    }
}

impl Weight for KnownTerm {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(match self.term_scorer(reader, boost)? {
            Some(s) => Box::new(s),
            None => Box::new(EmptyScorer),
        })
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let Some(mut s) = self.term_scorer(reader, 1.0)? else {
            return Err(TantivyError::InvalidArgument(format!(
                "document {doc} does not match"
            )));
        };
        if s.doc() > doc || s.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "document {doc} does not match"
            )));
        }
        let bm25 = Bm25Weight::for_one_term_without_explain(
            self.found.doc_freq,
            self.total_num_docs,
            self.average,
        )
        .boost_by(self.boost);
        let mut e = bm25.explain(s.norms.fieldnorm_id(doc), s.postings.term_freq());
        e.add_context(format!("Term={:?}", self.term));
        Ok(e)
    }
}

/// The scorer of one term in one segment: tantivy's `TermScorer`, which is not public.
struct Term1 {
    postings: SegmentPostings,
    norms: FieldNormReader,
    bm25: Bm25,
}

impl DocSet for Term1 {
    #[inline]
    fn advance(&mut self) -> DocId {
        self.postings.advance()
    }

    #[inline]
    fn seek(&mut self, target: DocId) -> DocId {
        self.postings.seek(target)
    }

    #[inline]
    fn doc(&self) -> DocId {
        self.postings.doc()
    }

    fn size_hint(&self) -> u32 {
        self.postings.size_hint()
    }
}

impl Scorer for Term1 {
    #[inline]
    fn score(&mut self) -> Score {
        let id = self.norms.fieldnorm_id(self.postings.doc());
        self.bm25.score(id, self.postings.term_freq())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::collector::TopDocs;
    use tantivy::query::{BooleanQuery, BoostQuery, Occur};
    use tantivy::schema::{Schema, TEXT};
    use tantivy::{Index, TantivyDocument};

    /// Two segments (the second with a deletion), two fields.
    fn index() -> (Index, Field, Field) {
        let mut schema = Schema::builder();
        let title = schema.add_text_field("title", TEXT);
        let body = schema.add_text_field("body", TEXT);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let batches: [&[(&str, &str)]; 2] = [
            &[
                ("refund policy", "how to ask for a refund refund"),
                ("shipping", "parcels and a refund when lost"),
                ("пароль", "як змінити пароль пароль"),
            ],
            &[
                (
                    "refunds",
                    "refund window of thirty days and more words here",
                ),
                ("gone", "refund"),
                ("password", "change the password"),
            ],
        ];
        for batch in batches {
            for (t, b) in batch {
                let mut doc = TantivyDocument::new();
                doc.add_text(title, t);
                doc.add_text(body, b);
                writer.add_document(doc).unwrap();
            }
            writer.commit().unwrap();
        }
        writer.delete_term(Term::from_field_text(title, "gone"));
        writer.commit().unwrap();
        (index, title, body)
    }

    #[test]
    fn scores_exactly_as_a_boosted_term_query() {
        let (index, title, body) = index();
        let searcher = index.reader().unwrap().searcher();
        assert_eq!(searcher.segment_readers().len(), 2);
        let lookup = Lookup::new(&searcher);
        let words = ["refund", "пароль", "password", "nowhere"];
        let boosts = [(title, 3.0f32), (body, 1.0)];
        let mut ours: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut theirs: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for w in words {
            for (field, boost) in boosts {
                let boost = boost * 0.8;
                if let Some(q) = lookup.term_query(field, w, boost) {
                    ours.push((Occur::Should, Box::new(q)));
                }
                let t = Term::from_field_text(field, w);
                theirs.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(TermQuery::new(t, OPTION)), boost)),
                ));
            }
        }
        // An unknown term is left out; the others are found in both segments' counts.
        assert!(lookup.term_query(body, "nowhere", 1.0).is_none());
        assert_eq!(
            lookup.doc_freq(body, "refund"),
            4,
            "deleted documents count"
        );
        let top = TopDocs::with_limit(10).order_by_score();
        let ours = searcher.search(&BooleanQuery::new(ours), &top).unwrap();
        let theirs = searcher.search(&BooleanQuery::new(theirs), &top).unwrap();
        assert_eq!(ours.len(), 5, "{ours:?}");
        let bits = |v: &[(Score, tantivy::DocAddress)]| -> Vec<(u32, tantivy::DocAddress)> {
            v.iter().map(|(s, a)| (s.to_bits(), *a)).collect()
        };
        assert_eq!(bits(&ours), bits(&theirs));
        // One term alone, and its explanation, score as tantivy's.
        let q = lookup.term_query(body, "refund", 0.8).unwrap();
        let theirs = BoostQuery::new(
            Box::new(TermQuery::new(
                Term::from_field_text(body, "refund"),
                OPTION,
            )),
            0.8,
        );
        let ours = searcher.search(&q, &top).unwrap();
        assert_eq!(ours.len(), 3, "{ours:?}");
        assert_eq!(bits(&ours), bits(&searcher.search(&theirs, &top).unwrap()));
        for (score, address) in ours {
            assert_eq!(
                Query::explain(&q, &searcher, address).unwrap().value(),
                score
            );
        }
    }
}
