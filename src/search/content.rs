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
//! float. With a language filter ([`Words::only`]) the other languages' documents are not
//! scored at all; the query's own filter clause still decides what matches.

use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyError, Term};

use super::bonus::length_prior;
use super::lookup::KnownTerm;

/// One content word: its terms in every field, and the bonus a document holding any of them
/// gets.
#[derive(Debug, Clone)]
pub struct Word {
    pub terms: Vec<KnownTerm>,
    pub bonus: Score,
}

/// The documents holding any of the words, scored as tantivy scores
/// `Bonus::length_prior(BooleanQuery(each word's BooleanQuery(terms), plus its bonus))`.
#[derive(Debug, Clone)]
pub struct Words {
    words: Vec<Word>,
    /// The length prior's field and weight.
    prior: Option<(Field, Score)>,
    /// Only documents with this term are scored (the others are left out).
    only: Option<Term>,
}

impl Words {
    pub fn new(words: Vec<Word>, prior: Option<(Field, Score)>) -> Self {
        Words {
            words,
            prior,
            only: None,
        }
    }

    /// Leaves out the documents without `term`: for a query that keeps only those anyway.
    pub fn only(mut self, term: Option<Term>) -> Self {
        self.only = term;
        self
    }

    /// Every matching document of a segment and its score, in document order.
    fn score_segment(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Scored> {
        let max_doc = reader.max_doc() as usize;
        let blocks = max_doc.div_ceil(64);
        let allowed = match &self.only {
            None => None,
            Some(term) => {
                let mut bits = vec![0u64; blocks];
                let postings = reader
                    .inverted_index(term.field())?
                    .read_postings(term, IndexRecordOption::Basic)?;
                if let Some(mut postings) = postings {
                    let mut doc = postings.doc();
                    while doc != TERMINATED {
                        bits[doc as usize / 64] |= 1 << (doc % 64);
                        doc = postings.advance();
                    }
                }
                Some(bits)
            }
        };
        // The current word's score and documents, and the words' total and documents.
        let mut word_score: Vec<Score> = vec![0.0; max_doc];
        let mut word_docs = vec![0u64; blocks];
        let mut total: Vec<Score> = vec![0.0; max_doc];
        let mut matched = vec![0u64; blocks];
        for word in &self.words {
            for term in &word.terms {
                let Some(mut scorer) = term.segment_scorer(reader, boost)? else {
                    continue;
                };
                let mut doc = scorer.doc();
                while doc != TERMINATED {
                    let (block, bit) = (doc as usize / 64, 1u64 << (doc % 64));
                    if allowed.as_ref().is_none_or(|a| a[block] & bit != 0) {
                        word_score[doc as usize] += scorer.score();
                        word_docs[block] |= bit;
                    }
                    doc = scorer.advance();
                }
            }
            // The word's union, plus its bonus.
            let bonus = word.bonus * boost;
            for (block, bits) in word_docs.iter_mut().enumerate() {
                let mut rest = *bits;
                while rest != 0 {
                    let doc = block * 64 + rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    total[doc] += word_score[doc] + bonus;
                    word_score[doc] = 0.0;
                }
                matched[block] |= *bits;
                *bits = 0;
            }
        }
        let prior = match self.prior {
            Some((field, weight)) => {
                let mut table = [0.0; 256];
                for (id, prior) in table.iter_mut().enumerate() {
                    *prior = length_prior(weight * boost, id as u8);
                }
                Some((reader.get_fieldnorms_reader(field)?, table))
            }
            None => None,
        };
        let count = matched.iter().map(|b| b.count_ones() as usize).sum();
        let mut scored = Scored {
            docs: Vec::with_capacity(count),
            scores: Vec::with_capacity(count),
            at: 0,
        };
        for (block, &bits) in matched.iter().enumerate() {
            let mut rest = bits;
            while rest != 0 {
                let doc = (block * 64) as DocId + rest.trailing_zeros();
                rest &= rest - 1;
                let mut score = total[doc as usize];
                if let Some((norms, table)) = &prior {
                    score += table[norms.fieldnorm_id(doc) as usize];
                }
                scored.docs.push(doc);
                scored.scores.push(score);
            }
        }
        Ok(scored)
    }
}

impl Query for Words {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for term in self.words.iter().flat_map(|w| &w.terms) {
            term.query_terms(visitor);
        }
    }
}

impl Weight for Words {
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
            "content words with coverage and length prior",
            scored.score(),
        ))
    }
}

/// A segment's matching documents, scored.
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
        let rest = &self.docs[self.at..];
        self.at += rest.partition_point(|&d| d < target);
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
    use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, TermQuery};
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
        let with_lang = |q: Box<dyn Query>, l: &str| -> Box<dyn Query> {
            let filter = TermQuery::new(Term::from_field_text(lang, l), IndexRecordOption::Basic);
            Box::new(BooleanQuery::new(vec![
                (Occur::Must, q),
                (Occur::Must, Box::new(filter)),
            ]))
        };
        let top = TopDocs::with_limit(20).order_by_score();
        let bits = |v: Vec<(Score, DocAddress)>| -> Vec<(u32, DocAddress)> {
            let mut v: Vec<_> = v.into_iter().map(|(s, a)| (s.to_bits(), a)).collect();
            v.sort_by_key(|&(_, a)| a);
            v
        };
        for n in 1..=words.len() {
            for prior in [None, Some(2.5)] {
                let ours = Words::new(words[..n].to_vec(), prior.map(|p| (body, p)));
                let theirs = tree(&words[..n], prior);
                let a = searcher.search(&ours, &top).unwrap();
                assert!(!a.is_empty());
                assert_eq!(bits(a), bits(searcher.search(&*theirs, &top).unwrap()));
                for l in ["en", "uk"] {
                    let only = Some(Term::from_field_text(lang, l));
                    let ours = with_lang(Box::new(ours.clone().only(only)), l);
                    let theirs = with_lang(theirs.box_clone(), l);
                    let a = searcher.search(&*ours, &top).unwrap();
                    assert!(!a.is_empty());
                    assert_eq!(bits(a), bits(searcher.search(&*theirs, &top).unwrap()));
                }
            }
        }
        // Explained as scored.
        let ours = Words::new(words.clone(), Some((body, 2.5)));
        for (score, address) in searcher.search(&ours, &top).unwrap() {
            assert_eq!(
                Query::explain(&ours, &searcher, address).unwrap().value(),
                score
            );
        }
    }
}
