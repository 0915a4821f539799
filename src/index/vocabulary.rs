//! Which (field, term) pairs the index may hold: a Bloom filter over every term of every
//! indexed text field, built once per reader reload.
//!
//! A search looks each query word and its alternatives up in about ten fields, and most of
//! those look-ups (six in ten on the k8s dev queries) find nothing: a walk of the field's
//! term dictionary for each. The filter answers "not there" for nearly all of them from a
//! hash and one cache line (the same for a term in every field); "maybe" sends the look-up to the dictionary as before, so
//! what a search finds is the same with it or without it.

use std::collections::BTreeMap;

use tantivy::index::SegmentId;
use tantivy::schema::{Field, FieldType};
use tantivy::{Opstamp, Searcher};

/// Bits of the filter per (field, term) pair: with [`PROBES`] bits set per pair in a block
/// of [`BLOCK_WORDS`] words, a term absent from a field passes a few times in a hundred.
const BITS_PER_TERM: usize = 12;
/// Bits set per pair.
const PROBES: usize = 3;
/// Words of a block (512 bits: one cache line).
const BLOCK_WORDS: usize = 8;

/// The (field, term) pairs of one searcher's segments, as a Bloom filter blocked by term.
pub struct Vocabulary {
    /// The segments it was built from, with their deletions: a searcher over other ones may
    /// hold other terms (a reload that changed nothing keeps the same ones).
    segments: BTreeMap<SegmentId, Option<Opstamp>>,
    /// Fields whose terms are all in the filter, by field number (fields from 64 up are
    /// never ruled out).
    covered: u64,
    words: Vec<u64>,
}

impl Vocabulary {
    /// Every term of every indexed text field of `searcher`'s segments.
    pub fn build(searcher: &Searcher) -> tantivy::Result<Vocabulary> {
        let schema = searcher.schema();
        let fields: Vec<Field> = schema
            .fields()
            .filter(|(field, entry)| {
                field.field_id() < 64
                    && entry.is_indexed()
                    && matches!(entry.field_type(), FieldType::Str(_))
            })
            .map(|(field, _)| field)
            .collect();
        let mut terms = 0usize;
        for segment in searcher.segment_readers() {
            for &field in &fields {
                terms += segment.inverted_index(field)?.terms().num_terms();
            }
        }
        let blocks = (terms * BITS_PER_TERM / (64 * BLOCK_WORDS))
            .max(1)
            .next_power_of_two();
        let mut vocabulary = Vocabulary {
            segments: searcher.generation().segments().clone(),
            covered: 0,
            words: vec![0; blocks * BLOCK_WORDS],
        };
        for &field in &fields {
            for segment in searcher.segment_readers() {
                let inverted = segment.inverted_index(field)?;
                let mut stream = inverted.terms().stream()?;
                while stream.advance() {
                    let (block, bits) = vocabulary.place(field, stream.key());
                    for bit in bits {
                        vocabulary.words[block + bit / 64] |= 1 << (bit % 64);
                    }
                }
            }
            vocabulary.covered |= 1 << field.field_id();
        }
        Ok(vocabulary)
    }

    /// Whether this filter describes `searcher`'s segments.
    pub fn describes(&self, searcher: &Searcher) -> bool {
        &self.segments == searcher.generation().segments()
    }

    /// Whether `field` may hold `term` (`false`: certainly not).
    #[inline]
    pub fn may_hold(&self, field: Field, term: &[u8]) -> bool {
        let id = field.field_id();
        if id >= 64 || self.covered & (1u64 << id) == 0 {
            return true;
        }
        let (block, bits) = self.place(field, term);
        bits.iter()
            .all(|&bit| self.words[block + bit / 64] & (1 << (bit % 64)) != 0)
    }

    /// The block of the filter for `term` (the first of its words: one cache line, the
    /// same for the term in every field, so a term's look-ups in ten fields read memory
    /// once) and the bits of `field`'s pair in it.
    #[inline]
    fn place(&self, field: Field, term: &[u8]) -> (usize, [usize; PROBES]) {
        let h = xxhash_rust::xxh3::xxh3_64(term);
        let blocks = self.words.len() / BLOCK_WORDS;
        let block = (h as usize & (blocks - 1)) * BLOCK_WORDS;
        // The field's own bits: the term's hash mixed with the field (murmur's finalizer).
        let mut g =
            (h >> 32 | h << 32) ^ u64::from(field.field_id()).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        g ^= g >> 33;
        g = g.wrapping_mul(0xff51_afd7_ed55_8ccd);
        g ^= g >> 33;
        let mut bits = [0usize; PROBES];
        for (i, bit) in bits.iter_mut().enumerate() {
            *bit = (g >> (9 * i)) as usize & (BLOCK_WORDS * 64 - 1);
        }
        (block, bits)
    }

    /// Bytes the filter takes.
    pub fn size(&self) -> usize {
        self.words.len() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::schema::{Schema, TEXT};
    use tantivy::{Index, TantivyDocument};

    #[test]
    fn holds_every_term_and_rules_out_most_others() {
        let mut schema = Schema::builder();
        let title = schema.add_text_field("title", TEXT);
        let body = schema.add_text_field("body", TEXT);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let words: Vec<String> = (0..2000).map(|i| format!("w{i}")).collect();
        for batch in words.chunks(500) {
            let mut doc = TantivyDocument::new();
            doc.add_text(title, "refund policy");
            doc.add_text(body, batch.join(" "));
            writer.add_document(doc).unwrap();
            writer.commit().unwrap();
        }
        let searcher = index.reader().unwrap().searcher();
        assert!(searcher.segment_readers().len() > 1);
        let v = Vocabulary::build(&searcher).unwrap();
        assert!(v.describes(&searcher));
        for w in &words {
            assert!(v.may_hold(body, w.as_bytes()), "{w}");
        }
        assert!(v.may_hold(title, b"refund") && v.may_hold(title, b"policy"));
        let passed = words
            .iter()
            .filter(|w| v.may_hold(title, w.as_bytes()))
            .count();
        assert!(passed < 100, "{passed} of 2000 absent terms passed");
    }
}
