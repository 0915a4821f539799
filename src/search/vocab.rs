//! Which of the searched fields hold a term, for every term of the index: one hash probe
//! tells a search's [`Lookup`](super::lookup::Lookup) that a field lacks a word, where a walk
//! of that field's term dictionary would find out. A query's words and their alternatives
//! are looked up in a dozen fields, and most are in few of them.
//!
//! Derived from the index alone (never from queries), once per set of segments: the engine
//! keeps the one of its current searcher and builds another when the segments change.
//! Terms are kept by a 64-bit hash, not by their text (a few MB for a large help center):
//! two terms sharing a hash share their fields, so a probe may only say "maybe" where a
//! field lacks the term, and the dictionary then answers as before. "No" is always right.

use std::hash::Hasher;

use rustc_hash::{FxHashMap, FxHasher};
use tantivy::Searcher;
use tantivy::index::SegmentId;
use tantivy::schema::Field;

/// Field numbers from this one up are not covered (the fields of a mask's bits).
const MAX_FIELDS: u32 = 64;

/// The fields of each term of some fields, over a searcher's segments.
pub struct Vocabulary {
    /// The segments it was read from, in the searcher's order.
    segments: Vec<SegmentId>,
    /// The fields it covers, a bit each.
    covered: u64,
    /// By [`hash`] of a term: the covered fields holding it in some segment.
    terms: FxHashMap<u64, u64>,
}

/// A term's hash, as the vocabulary keys it.
#[inline]
pub fn hash(text: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(text.as_bytes());
    h.finish()
}

impl Vocabulary {
    /// Reads every term of `fields` in the searcher's segments (fields numbered 64 and up are
    /// left out, and answered by their dictionaries).
    pub fn of(searcher: &Searcher, fields: &[Field]) -> Vocabulary {
        let mut covered = 0u64;
        // Room for the largest field's terms at once: most of the others' are among them.
        let most = fields
            .iter()
            .map(|&f| {
                (searcher.segment_readers().iter())
                    .map(|s| s.inverted_index(f).map_or(0, |i| i.terms().num_terms()))
                    .sum::<usize>()
            })
            .max()
            .unwrap_or(0);
        let mut terms: FxHashMap<u64, u64> =
            FxHashMap::with_capacity_and_hasher(most, Default::default());
        for &field in fields.iter().filter(|f| f.field_id() < MAX_FIELDS) {
            let bit = 1u64 << field.field_id();
            let mut complete = true;
            for segment in searcher.segment_readers() {
                let Ok(inverted) = segment.inverted_index(field) else {
                    complete = false;
                    break;
                };
                let Ok(mut stream) = inverted.terms().stream() else {
                    complete = false;
                    break;
                };
                while stream.advance() {
                    let mut h = FxHasher::default();
                    h.write(stream.key());
                    *terms.entry(h.finish()).or_default() |= bit;
                }
            }
            // A dictionary that cannot be read is asked, as before.
            if complete {
                covered |= bit;
            }
        }
        terms.shrink_to_fit();
        Vocabulary {
            segments: segment_ids(searcher),
            covered,
            terms,
        }
    }

    /// Whether it was read from the searcher's segments.
    pub fn is_of(&self, searcher: &Searcher) -> bool {
        let readers = searcher.segment_readers();
        readers.len() == self.segments.len()
            && readers
                .iter()
                .zip(&self.segments)
                .all(|(r, id)| r.segment_id() == *id)
    }

    /// Whether `field` surely lacks the term of hash `hash` in every segment.
    #[inline]
    pub fn lacks(&self, field: Field, hash: u64) -> bool {
        let id = field.field_id();
        if id >= MAX_FIELDS || self.covered & (1 << id) == 0 {
            return false;
        }
        self.terms.get(&hash).is_none_or(|m| m & (1 << id) == 0)
    }
}

fn segment_ids(searcher: &Searcher) -> Vec<SegmentId> {
    searcher
        .segment_readers()
        .iter()
        .map(|r| r.segment_id())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::schema::{Schema, TEXT};
    use tantivy::{Index, TantivyDocument};

    #[test]
    fn says_which_fields_lack_a_term() {
        let mut schema = Schema::builder();
        let title = schema.add_text_field("title", TEXT);
        let body = schema.add_text_field("body", TEXT);
        let other = schema.add_text_field("other", TEXT);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for (t, b) in [("refund", "refunds and пароль"), ("shipping", "parcels")] {
            let mut doc = TantivyDocument::new();
            doc.add_text(title, t);
            doc.add_text(body, b);
            doc.add_text(other, "refund");
            writer.add_document(doc).unwrap();
            // Two segments.
            writer.commit().unwrap();
        }
        let searcher = index.reader().unwrap().searcher();
        assert_eq!(searcher.segment_readers().len(), 2);
        let v = Vocabulary::of(&searcher, &[title, body]);
        assert!(v.is_of(&searcher));
        assert!(!v.lacks(title, hash("refund")));
        assert!(v.lacks(body, hash("refund")));
        assert!(!v.lacks(body, hash("пароль")));
        assert!(!v.lacks(title, hash("shipping")));
        assert!(!v.lacks(body, hash("parcels")));
        assert!(v.lacks(title, hash("nowhere")));
        // A field it does not cover is never said to lack anything.
        assert!(!v.lacks(other, hash("nowhere")));
    }
}
