//! A query that adds a prior that grows with the document's length to the score of every
//! document its inner query matches.
//!
//! The length prior ([`Bonus::length_prior`]) adds weight × ln(1 + the number of words of a
//! field): of two pages matching a query alike, the longer one, which treats the subject at
//! length, ranks first (BM25 alone favours short pages that mention a word in passing: a
//! glossary entry, a feature flag, a tutorial step). A query of content words gets it from
//! [`super::content`], which scores the same way; this wraps a query of function words only.

use tantivy::fieldnorm::FieldNormReader;
use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::Field;
use tantivy::{DocId, DocSet, Score, SegmentReader, Term};

/// What a [`Bonus`] adds: `weight` × ln(1 + words of `field`).
#[derive(Debug, Clone, Copy)]
struct Extra {
    field: Field,
    weight: Score,
}

/// `inner`'s score, plus the bonus wherever `inner` matches.
#[derive(Debug)]
pub struct Bonus {
    inner: Box<dyn Query>,
    extra: Extra,
}

impl Bonus {
    /// Adds [`length_prior`]`(weight, …)` of the document's `field` to every match.
    pub fn length_prior(inner: Box<dyn Query>, field: Field, weight: Score) -> Self {
        Bonus {
            inner,
            extra: Extra { field, weight },
        }
    }
}

/// The length prior of a document whose field has the length code `fieldnorm_id` (tantivy
/// stores one per document and field), at weight `weight`.
pub fn length_prior(weight: Score, fieldnorm_id: u8) -> Score {
    // ln(1 + length) of each code, computed once.
    static LN_1P: std::sync::LazyLock<[Score; 256]> = std::sync::LazyLock::new(|| {
        std::array::from_fn(|id| (FieldNormReader::id_to_fieldnorm(id as u8) as Score).ln_1p())
    });
    weight * LN_1P[fieldnorm_id as usize]
}

impl Clone for Bonus {
    fn clone(&self) -> Self {
        Bonus {
            inner: self.inner.box_clone(),
            extra: self.extra,
        }
    }
}

impl Query for Bonus {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(BonusWeight {
            inner: self.inner.weight(enable_scoring)?,
            extra: self.extra,
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.inner.query_terms(visitor)
    }
}

struct BonusWeight {
    inner: Box<dyn Weight>,
    extra: Extra,
}

/// The length prior of a segment's documents: where each document's length code is, and the
/// weight (times the query's boost).
pub struct Prior {
    norms: FieldNormReader,
    weight: Score,
}

impl Prior {
    /// The prior of `field`'s length at `weight` in a segment.
    pub fn open(reader: &SegmentReader, field: Field, weight: Score) -> tantivy::Result<Prior> {
        Ok(Prior {
            norms: reader.get_fieldnorms_reader(field)?,
            weight,
        })
    }

    /// The prior of document `doc`.
    #[inline]
    pub fn of(&self, doc: DocId) -> Score {
        length_prior(self.weight, self.norms.fieldnorm_id(doc))
    }
}

impl BonusWeight {
    /// The bonus in a segment.
    fn prior(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Prior> {
        let Extra { field, weight } = self.extra;
        Prior::open(reader, field, weight * boost)
    }
}

impl Weight for BonusWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(BonusScorer {
            inner: self.inner.scorer(reader, boost)?,
            prior: self.prior(reader, boost)?,
        }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let inner = self.inner.explain(reader, doc)?;
        let bonus = self.prior(reader, 1.0)?.of(doc);
        let mut explanation =
            Explanation::new_with_string(format!("{bonus} + ..."), inner.value() + bonus);
        explanation.add_detail(inner);
        Ok(explanation)
    }

    fn count(&self, reader: &SegmentReader) -> tantivy::Result<u32> {
        self.inner.count(reader)
    }
}

struct BonusScorer {
    inner: Box<dyn Scorer>,
    prior: Prior,
}

impl DocSet for BonusScorer {
    fn advance(&mut self) -> DocId {
        self.inner.advance()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        self.inner.seek(target)
    }

    fn doc(&self) -> DocId {
        self.inner.doc()
    }

    fn size_hint(&self) -> u32 {
        self.inner.size_hint()
    }

    fn cost(&self) -> u64 {
        self.inner.cost()
    }
}

impl Scorer for BonusScorer {
    fn score(&mut self) -> Score {
        self.inner.score() + self.prior.of(self.inner.doc())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::collector::TopDocs;
    use tantivy::query::{ConstScoreQuery, TermQuery};
    use tantivy::schema::{IndexRecordOption, Schema, TEXT};
    use tantivy::{Index, Searcher, TantivyDocument};

    /// A searcher over one document per text, its field, and a query worth 1 wherever
    /// `word` is.
    fn index(texts: &[&str], word: &str) -> (Searcher, Field, Box<dyn Query>) {
        let mut schema = Schema::builder();
        let body = schema.add_text_field("body", TEXT);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for text in texts {
            let mut doc = TantivyDocument::new();
            doc.add_text(body, text);
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        let term = TermQuery::new(Term::from_field_text(body, word), IndexRecordOption::Basic);
        let query = Box::new(ConstScoreQuery::new(Box::new(term), 1.0));
        (index.reader().unwrap().searcher(), body, query)
    }

    #[test]
    fn the_longer_of_two_equal_matches_ranks_first() {
        let texts = ["refund", "refund policy and how to ask for one", "shipping"];
        let (searcher, body, matches) = index(&texts, "refund");
        let query = Bonus::length_prior(matches, body, 2.0);
        let top = searcher
            .search(&query, &TopDocs::with_limit(10).order_by_score())
            .unwrap();
        assert_eq!(top.len(), 2, "only matches get the prior: {top:?}");
        assert_eq!(top[0].1.doc_id, 1, "{top:?}");
        let close = |a: f32, b: f32| (a - b).abs() < 1e-4;
        // Eight words against one.
        assert!(close(top[0].0, 1.0 + 2.0 * 8f32.ln_1p()), "{top:?}");
        assert!(close(top[1].0, 1.0 + 2.0 * 1f32.ln_1p()), "{top:?}");
        let explained = query.explain(&searcher, top[0].1).unwrap();
        assert!(close(explained.value(), top[0].0));
    }
}
