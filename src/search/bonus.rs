//! A query that adds a constant to the score of every document its inner query matches.
//!
//! Coverage (a bonus for each of the query's words a document holds) used to be a second
//! union of the same terms, wrapped in a constant score: every term of every field looked up,
//! weighed and read twice. Adding the bonus to the word's own scoring union gives the same
//! matches and the same scores from one copy.

use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader, Term};

/// `inner`'s score, plus `bonus` wherever `inner` matches.
#[derive(Debug)]
pub struct Bonus {
    inner: Box<dyn Query>,
    bonus: Score,
}

impl Bonus {
    pub fn new(inner: Box<dyn Query>, bonus: Score) -> Self {
        Bonus { inner, bonus }
    }
}

impl Clone for Bonus {
    fn clone(&self) -> Self {
        Bonus {
            inner: self.inner.box_clone(),
            bonus: self.bonus,
        }
    }
}

impl Query for Bonus {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(BonusWeight {
            inner: self.inner.weight(enable_scoring)?,
            bonus: self.bonus,
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.inner.query_terms(visitor)
    }
}

struct BonusWeight {
    inner: Box<dyn Weight>,
    bonus: Score,
}

impl Weight for BonusWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(BonusScorer {
            inner: self.inner.scorer(reader, boost)?,
            bonus: self.bonus * boost,
        }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let inner = self.inner.explain(reader, doc)?;
        let mut explanation = Explanation::new_with_string(
            format!("{} + ...", self.bonus),
            inner.value() + self.bonus,
        );
        explanation.add_detail(inner);
        Ok(explanation)
    }

    fn count(&self, reader: &SegmentReader) -> tantivy::Result<u32> {
        self.inner.count(reader)
    }
}

struct BonusScorer {
    inner: Box<dyn Scorer>,
    bonus: Score,
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
        self.inner.score() + self.bonus
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::collector::TopDocs;
    use tantivy::query::{ConstScoreQuery, TermQuery};
    use tantivy::schema::{IndexRecordOption, STRING, Schema};
    use tantivy::{Index, TantivyDocument};

    #[test]
    fn adds_the_bonus_where_the_inner_query_matches() {
        let mut schema = Schema::builder();
        let word = schema.add_text_field("word", STRING);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for w in ["a", "b", "a"] {
            let mut doc = TantivyDocument::new();
            doc.add_text(word, w);
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let a = TermQuery::new(Term::from_field_text(word, "a"), IndexRecordOption::Basic);
        let query = Bonus::new(Box::new(ConstScoreQuery::new(Box::new(a), 2.0)), 3.0);
        let top = searcher
            .search(&query, &TopDocs::with_limit(10).order_by_score())
            .unwrap();
        assert_eq!(top.len(), 2);
        assert!(top.iter().all(|(score, _)| *score == 5.0), "{top:?}");
        let explained = query.explain(&searcher, top[0].1).unwrap();
        assert_eq!(explained.value(), 5.0);
    }
}
