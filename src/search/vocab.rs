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
//!
//! It also keeps the terms of a few fields (body and title: the ones planning completes and
//! derives words from) in order with their document counts, per segment ([`Sorted`]): the
//! terms that begin with a prefix are then a binary search in memory, where a range of the
//! term dictionary is an FST stream to set up and walk, per field and segment, for every
//! word of five letters or more of every query (some 0.9 MB for the k8s help center).

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
    /// The terms of the listed fields, by field, one table per segment in the searcher's
    /// order (a field whose dictionary could not be read in full is not here).
    sorted: Vec<(Field, Vec<Sorted>)>,
}

/// The terms of one field in one segment, in the dictionary's (byte) order, with their
/// document counts.
#[derive(Default)]
pub struct Sorted {
    /// The terms' bytes, one after the other.
    text: Vec<u8>,
    /// Where each term ends in `text` (it begins where the one before ends).
    ends: Vec<u32>,
    doc_freqs: Vec<u32>,
}

impl Sorted {
    /// Adds a term greater than every one before; `false` when the table is full (4 GB).
    fn push(&mut self, term: &[u8], doc_freq: u32) -> bool {
        let Ok(end) = u32::try_from(self.text.len() + term.len()) else {
            return false;
        };
        self.text.extend_from_slice(term);
        self.ends.push(end);
        self.doc_freqs.push(doc_freq);
        true
    }

    fn shrink(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
        self.doc_freqs.shrink_to_fit();
    }

    /// The number of terms.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The term numbered `i` (in order).
    #[inline]
    pub fn term(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }

    /// The document count of the term numbered `i`.
    #[inline]
    pub fn doc_freq(&self, i: usize) -> u32 {
        self.doc_freqs[i]
    }

    /// The numbers of the terms that begin with `prefix` (all of them for an empty one).
    pub fn starting_with(&self, prefix: &[u8]) -> std::ops::Range<usize> {
        let len = self.len();
        let from = partition_point(len, |i| self.term(i) < prefix);
        let begins = |i: usize| self.term(i).starts_with(prefix);
        // The terms that begin with it follow `from`, mostly a few (a word's stem): gallop
        // over them, among terms just read, rather than search the rest of the table. Every
        // term of `from..lo` begins with the prefix.
        let (mut lo, mut step) = (from, 1);
        while lo + step <= len && begins(lo + step - 1) {
            lo += step;
            step *= 2;
        }
        // The first term that does not begin with it is at most `lo + step - 1`.
        let hi = (lo + step - 1).min(len);
        from..lo + partition_point(hi - lo, |i| begins(lo + i))
    }

    fn bytes(&self) -> usize {
        self.text.capacity() + 4 * self.ends.capacity() + 4 * self.doc_freqs.capacity()
    }
}

/// The first of `0..len` for which `pred` is false (it is true for all before and false for
/// all after).
fn partition_point(len: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, len);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
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
    /// left out, and answered by their dictionaries), and keeps those of `listed` in order
    /// ([`Vocabulary::sorted`]).
    pub fn of(searcher: &Searcher, fields: &[Field], listed: &[Field]) -> Vocabulary {
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
        let mut sorted = Vec::new();
        for field in fields {
            let id = field.field_id();
            let mut complete = true;
            let mut tables: Option<Vec<Sorted>> = listed.contains(&field).then(Vec::new);
            for segment in searcher.segment_readers() {
                let Ok(inverted) = segment.inverted_index(field) else {
                    complete = false;
                    break;
                };
                let Ok(mut stream) = inverted.terms().stream() else {
                    complete = false;
                    break;
                };
                let mut table = tables.as_ref().map(|_| Sorted::default());
                while stream.advance() {
                    let hash = hash_bytes(stream.key());
                    let (block, word, bits) = place(hash, pair(id, hash), len);
                    blocks[block].0[word] |= bits;
                    if let Some(t) = &mut table
                        && !t.push(stream.key(), stream.value().doc_freq)
                    {
                        table = None;
                        tables = None;
                    }
                }
                if let (Some(tables), Some(mut table)) = (&mut tables, table) {
                    table.shrink();
                    tables.push(table);
                }
            }
            // A dictionary that cannot be read is asked, as before.
            if complete {
                covered |= 1 << id;
                if let Some(tables) = tables {
                    sorted.push((field, tables));
                }
            }
        }
        Vocabulary {
            segments: segment_ids(searcher),
            covered,
            blocks,
            sorted,
        }
    }

    /// The terms of `field` in order, one table per segment of the searcher (`None`: it was
    /// not listed, or its dictionary could not be read).
    pub fn sorted(&self, field: Field) -> Option<&[Sorted]> {
        (self.sorted.iter())
            .find(|(f, _)| *f == field)
            .map(|(_, tables)| tables.as_slice())
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

    /// The filter's size in bytes, and the sorted terms'.
    pub fn bytes(&self) -> (usize, usize) {
        let sorted = (self.sorted.iter())
            .flat_map(|(_, tables)| tables)
            .map(Sorted::bytes)
            .sum();
        (self.blocks.len() * 64, sorted)
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
        let v = Vocabulary::of(&searcher, &[title, body], &[body]);
        assert!(v.is_of(&searcher));
        // The listed field's terms, in order, per segment.
        assert!(v.sorted(title).is_none());
        let tables = v.sorted(body).unwrap();
        assert_eq!(tables.len(), 2);
        let terms = |t: &Sorted| -> Vec<(String, u32)> {
            (0..t.len())
                .map(|i| {
                    (
                        String::from_utf8(t.term(i).to_vec()).unwrap(),
                        t.doc_freq(i),
                    )
                })
                .collect()
        };
        // The segments in the searcher's order, which need not be the commits'.
        let (first, second) = if tables[0].len() == 3 {
            (&tables[0], &tables[1])
        } else {
            (&tables[1], &tables[0])
        };
        let terms_of_first = [("and", 1), ("refunds", 1), ("пароль", 1)];
        assert_eq!(
            terms(first),
            terms_of_first.map(|(t, n)| (t.to_string(), n))
        );
        assert_eq!(first.starting_with(b"ref"), 1..2);
        assert_eq!(first.starting_with(b"refunds"), 1..2);
        assert_eq!(first.starting_with(b"refundsx"), 2..2);
        assert_eq!(first.starting_with(b""), 0..3);
        assert_eq!(first.starting_with(b"zz"), 2..2);
        assert_eq!(first.starting_with("п".as_bytes()), 2..3);
        assert_eq!(terms(second), [("parcels".to_string(), 1)]);
        // Ranges of every length, anywhere in a table, as a scan finds them.
        let mut table = Sorted::default();
        let mut all: Vec<String> = (0..300)
            .flat_map(|i| [format!("a{i:03}"), format!("b{}", i % 7), format!("c{i}")])
            .collect();
        all.sort();
        all.dedup();
        for t in &all {
            assert!(table.push(t.as_bytes(), 1));
        }
        for prefix in [
            "", "a", "a0", "a00", "a000", "a1", "a29", "a299", "a2999", "b", "b3", "b7",
        ]
        .into_iter()
        .chain(["c", "c1", "c29", "c299", "c3", "d", "0"])
        {
            let want: Vec<usize> = (0..all.len())
                .filter(|&i| all[i].starts_with(prefix))
                .collect();
            let got = table.starting_with(prefix.as_bytes());
            assert_eq!(got.clone().collect::<Vec<_>>(), want, "{prefix:?}");
            if want.is_empty() {
                assert_eq!(got.start, all.partition_point(|t| t.as_str() < prefix));
            }
        }
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
