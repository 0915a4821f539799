//! Which of the searched fields may hold a term: one probe of a small filter tells a
//! search's [`Lookup`](super::lookup::Lookup) that a field surely lacks a word, where a walk
//! of that field's term dictionary would find out. A query's words and their alternatives
//! are looked up in a dozen fields, and most are in few of them.
//!
//! Derived from the index alone (never from queries), once per set of segments: the engine
//! keeps the one of its current searcher and builds another when the segments change.
//! It is a Bloom filter of (field, term) pairs, blocked by 64-bit words (every pair sets
//! [`PROBES`] bits of one word), about [`BITS_PER_TERM`] bits a term of each field: some
//! 0.5 MB for the k8s help center, where a table of the terms took several MB. A probe
//! may only say "maybe" where a field lacks the term (about one in a hundred), and the
//! dictionary then answers as before. "No" is always right.
//!
//! The words of one term, whatever the field, are in one [`Block`] of 64 bytes (a cache
//! line) that the term alone picks: a search asks for each of its terms in a dozen fields,
//! and a word anywhere in half a megabyte was a cache miss at nearly every asking.

use std::hash::Hasher;

use rustc_hash::FxHasher;
use tantivy::Searcher;
use tantivy::index::SegmentId;
use tantivy::schema::Field;

/// Field numbers from this one up are not covered (the fields of a mask's bits).
const MAX_FIELDS: u32 = 64;
/// The filter's size: bits per term of a covered field (summed over fields and segments).
const BITS_PER_TERM: usize = 12;
/// The bits a (field, term) pair sets in its word.
const PROBES: u32 = 4;

/// The (field, term) pairs of some fields, over a searcher's segments.
pub struct Vocabulary {
    /// The segments it was read from, in the searcher's order.
    segments: Vec<SegmentId>,
    /// The fields it covers, a bit each.
    covered: u64,
    /// The filter: a pair sets [`PROBES`] bits of one word of its term's block ([`place`]).
    blocks: Box<[Block]>,
}

/// The words of the terms that pick it, one cache line.
#[derive(Clone, Copy, Default)]
#[repr(align(64))]
struct Block([u64; 8]);

/// A term's hash, as [`Vocabulary::lacks`] takes it.
#[inline]
pub fn hash(text: &str) -> u64 {
    hash_bytes(text.as_bytes())
}

#[inline]
fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(bytes);
    h.finish()
}

/// The hash of a term (by its [`hash`]) in the field numbered `field`, mixed so that every
/// bit counts (murmur3's finalizer): its high half picks the word, its low bits the bits.
#[inline]
fn pair(field: u32, hash: u64) -> u64 {
    let mut k = hash ^ u64::from(field + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

/// The block of a term (by its [`hash`]) among `len` blocks, and the word of the pair
/// (by its [`pair`] hash) in it and the pair's bits there.
#[inline]
fn place(hash: u64, pair: u64, len: usize) -> (usize, usize, u64) {
    // The term's own hash, mixed as a pair of a field never covered: its high half scaled
    // to the length (no division).
    let term = self::pair(MAX_FIELDS, hash);
    let block = ((term >> 32) * len as u64) >> 32;
    // The top three bits of the pair pick the word, its low 24 bits the bits.
    let word = (pair >> 61) as usize;
    let mut bits = 0u64;
    for i in 0..PROBES {
        bits |= 1 << ((pair >> (6 * i)) & 63);
    }
    (block as usize, word, bits)
}

impl Vocabulary {
    /// Reads every term of `fields` in the searcher's segments (fields numbered 64 and up are
    /// left out, and answered by their dictionaries).
    pub fn of(searcher: &Searcher, fields: &[Field]) -> Vocabulary {
        let fields: Vec<Field> = (fields.iter().copied())
            .filter(|f| f.field_id() < MAX_FIELDS)
            .collect();
        let terms: usize = (fields.iter())
            .map(|&f| {
                (searcher.segment_readers().iter())
                    .map(|s| s.inverted_index(f).map_or(0, |i| i.terms().num_terms()))
                    .sum::<usize>()
            })
            .sum();
        let len = (terms * BITS_PER_TERM)
            .div_ceil(512)
            .clamp(2, u32::MAX as usize);
        let mut blocks = vec![Block::default(); len].into_boxed_slice();
        let mut covered = 0u64;
        for field in fields {
            let id = field.field_id();
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
                    let hash = hash_bytes(stream.key());
                    let (block, word, bits) = place(hash, pair(id, hash), len);
                    blocks[block].0[word] |= bits;
                }
            }
            // A dictionary that cannot be read is asked, as before.
            if complete {
                covered |= 1 << id;
            }
        }
        Vocabulary {
            segments: segment_ids(searcher),
            covered,
            blocks,
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
        let (block, word, bits) = place(hash, pair(id, hash), self.blocks.len());
        self.blocks[block].0[word] & bits != bits
    }

    /// The filter's size in bytes.
    pub fn bytes(&self) -> usize {
        self.blocks.len() * 64
    }
}

/// The searcher's segments, in its order.
pub fn segment_ids(searcher: &Searcher) -> Vec<SegmentId> {
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
        // Words no field has: nearly all surely absent (a filter may say "maybe").
        let absent = (0..1000)
            .filter(|i| v.lacks(body, hash(&format!("word{i}"))))
            .count();
        assert!(absent > 950, "{absent}");
        // A field it does not cover is never said to lack anything.
        assert!(!v.lacks(other, hash("nowhere")));
    }
}
