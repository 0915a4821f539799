//! The doc stores of the searched segments, each opened once and kept while its segment is
//! searched, and read in place.
//!
//! tantivy's `Searcher` has its own, but hands out only documents it has deserialized (a
//! stored bytes value one byte at a time, every value copied, the article's `source` too);
//! results read a document's raw bytes from these instead ([`crate::search`]'s stored
//! fields). tantivy's `StoreReader` still copies a document's whole block out of the file
//! (its "decompression" of an uncompressed block is a copy into a new buffer, after a walk
//! of its skip index), so each result copied all of its document, `source` and the body
//! text included, and touched every page of it. kb's store is written uncompressed
//! ([`super::index_settings`]), so a [`SegmentStore`] reads the file's blocks where they lie
//! in the mapped file: it decodes the store's table of blocks once, when it opens the
//! segment, and a document is then a slice of the file (no copy, no allocation), of which a
//! result touches only the values it reads.
//!
//! The file's layout is tantivy's (`tantivy::store`, 0.27, doc store version 2): the blocks,
//! each its documents' bytes then a `u32` offset per document and their count (little
//! endian); then the skip index, a VInt count of layers and each layer's end, then the
//! layers, the last of which lists every block (blocks of checkpoints: a VInt count, the
//! first document and first byte, then per block its documents and bytes, VInts); then a
//! 28-byte footer (store version `u32`, the skip index's offset `u64`, the compressor's id,
//! 15 zero bytes). A store in any other shape (compressed, another version) is read through
//! tantivy's reader, as before; a test compares every document's bytes with tantivy's.
//!
//! A segment never changes once written (deletes are a separate bitset), so a store opened
//! for a segment stays right for it.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tantivy::directory::{Directory, OwnedBytes};
use tantivy::index::SegmentId;
use tantivy::store::StoreReader;
use tantivy::{DocId, Searcher, SegmentReader, TantivyError};

/// The doc store of every segment searched lately.
pub struct DocStores {
    /// Decompressed blocks each store caches when read through tantivy.
    cache_blocks: usize,
    open: Mutex<HashMap<SegmentId, Arc<SegmentStore>>>,
}

impl DocStores {
    pub fn new(cache_blocks: usize) -> Self {
        DocStores {
            cache_blocks,
            open: Mutex::default(),
        }
    }

    /// The doc store of each of `searcher`'s segments, by segment ordinal. Stores of segments
    /// it no longer has (merged away) are closed when it has new ones.
    pub fn of(&self, searcher: &Searcher) -> tantivy::Result<Vec<Arc<SegmentStore>>> {
        let segments = searcher.segment_readers();
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if segments.iter().any(|s| !open.contains_key(&s.segment_id())) {
            open.retain(|id, _| segments.iter().any(|s| s.segment_id() == *id));
            for s in segments {
                if let Entry::Vacant(e) = open.entry(s.segment_id()) {
                    e.insert(Arc::new(SegmentStore::open(s, self.cache_blocks)?));
                }
            }
        }
        Ok(segments
            .iter()
            .map(|s| open[&s.segment_id()].clone())
            .collect())
    }
}

/// One segment's doc store.
pub enum SegmentStore {
    /// An uncompressed store, read where it lies.
    InPlace(InPlace),
    /// Any other store, through tantivy's reader.
    Tantivy(StoreReader),
}

impl SegmentStore {
    fn open(segment: &SegmentReader, cache_blocks: usize) -> tantivy::Result<SegmentStore> {
        let path = PathBuf::from(format!("{}.store", segment.segment_id().uuid_string()));
        let file = segment.index().directory().open_read(&path)?.read_bytes()?;
        Ok(match InPlace::open(file) {
            Some(store) => SegmentStore::InPlace(store),
            None => SegmentStore::Tantivy(segment.get_store_reader(cache_blocks)?),
        })
    }

    /// Whether documents are read in place (not copied by tantivy's reader).
    pub fn in_place(&self) -> bool {
        matches!(self, SegmentStore::InPlace(_))
    }

    /// The serialized bytes of document `doc` (tantivy's binary document).
    pub fn document(&self, doc: DocId) -> tantivy::Result<OwnedBytes> {
        match self {
            SegmentStore::InPlace(store) => store.document(doc).ok_or_else(|| {
                TantivyError::InternalError(format!(
                    "document {doc} is not in the doc store, or its block is damaged"
                ))
            }),
            SegmentStore::Tantivy(store) => store.get_document_bytes(doc),
        }
    }
}

/// An uncompressed doc store's blocks.
pub struct InPlace {
    /// The blocks, as mapped (or held) by the index's directory.
    data: OwnedBytes,
    /// Each block's first document, and one past the last block's last document.
    first_docs: Vec<DocId>,
    /// Each block's first byte in `data`, and `data`'s length.
    starts: Vec<usize>,
}

/// The footer's size, and tantivy's ids of the store's version and of no compression.
const FOOTER: usize = 28;
const VERSION_2: u32 = 2;
const UNCOMPRESSED: u8 = 0;

impl InPlace {
    /// The blocks of `file` (a whole `.store` file), or `None` unless it is an uncompressed
    /// store of the layout above.
    fn open(file: OwnedBytes) -> Option<InPlace> {
        let bytes = file.as_slice();
        let footer = bytes.len().checked_sub(FOOTER)?;
        let version = u32::from_le_bytes(bytes[footer..footer + 4].try_into().ok()?);
        let offset = u64::from_le_bytes(bytes[footer + 4..footer + 12].try_into().ok()?);
        let offset = usize::try_from(offset).ok().filter(|&o| o <= footer)?;
        if version != VERSION_2 || bytes[footer + 12] != UNCOMPRESSED {
            return None;
        }
        let index = &bytes[offset..footer];
        let mut at = 0;
        let layers = vint(index, &mut at)?;
        let mut ends = Vec::new();
        for _ in 0..layers {
            ends.push(usize::try_from(vint(index, &mut at)?).ok()?);
        }
        let start = ends.iter().rev().nth(1).copied().unwrap_or(0);
        let layer = index.get(at + start..at + *ends.last()?)?;
        let (first_docs, starts) = blocks(layer, offset)?;
        Some(InPlace {
            data: file.slice(0..offset),
            first_docs,
            starts,
        })
    }

    /// Document `doc`'s bytes, a slice of the file.
    fn document(&self, doc: DocId) -> Option<OwnedBytes> {
        let block = self.first_docs.partition_point(|&first| first <= doc);
        let block = block
            .checked_sub(1)
            .filter(|&b| b + 1 < self.first_docs.len())?;
        let range = self.starts[block]..self.starts[block + 1];
        let in_block = (doc - self.first_docs[block]) as usize;
        let docs = (self.first_docs[block + 1] - self.first_docs[block]) as usize;
        let within = if docs == 1 {
            // A block of one document (kb writes these): its bytes, then the offset 0 and
            // the count 1. Its end is not read: that page is the document's last value's.
            0..range.len().checked_sub(8)?
        } else {
            in_block_range(&self.data.as_slice()[range.clone()], in_block, docs)?
        };
        Some(
            self.data
                .slice(range.start + within.start..range.start + within.end),
        )
    }
}

/// Where the `doc`-th of a block's `docs` documents is in the block.
fn in_block_range(block: &[u8], doc: usize, docs: usize) -> Option<Range<usize>> {
    let word = |at: usize| -> Option<usize> {
        Some(u32::from_le_bytes(block.get(at..at + 4)?.try_into().ok()?) as usize)
    };
    let count_at = block.len().checked_sub(4)?;
    if word(count_at)? != docs {
        return None;
    }
    let table = count_at.checked_sub(4 * docs)?;
    let start = word(table + 4 * doc)?;
    let end = if doc + 1 < docs {
        word(table + 4 * (doc + 1))?
    } else {
        table
    };
    (start <= end && end <= table).then_some(start..end)
}

/// The blocks a skip index's last layer lists: each block's first document and first byte,
/// each followed by the next's (the last by the end of the documents and of the blocks,
/// which must be `data_len`).
fn blocks(mut layer: &[u8], data_len: usize) -> Option<(Vec<DocId>, Vec<usize>)> {
    let (mut first_docs, mut starts) = (Vec::new(), Vec::new());
    let (mut doc, mut byte) = (0u64, 0usize);
    while !layer.is_empty() {
        let mut at = 0;
        let len = vint(layer, &mut at)?;
        if len > 0 {
            let first = vint(layer, &mut at)?;
            let start = usize::try_from(vint(layer, &mut at)?).ok()?;
            // Checkpoint blocks follow each other.
            if first != doc || start != byte {
                return None;
            }
            for _ in 0..len {
                let docs = vint(layer, &mut at)?;
                let bytes = usize::try_from(vint(layer, &mut at)?).ok()?;
                if docs == 0 {
                    return None;
                }
                first_docs.push(DocId::try_from(doc).ok()?);
                starts.push(byte);
                doc += docs;
                byte = byte.checked_add(bytes)?;
            }
        }
        layer = &layer[at..];
    }
    if byte != data_len {
        return None;
    }
    first_docs.push(DocId::try_from(doc).ok()?);
    starts.push(byte);
    Some((first_docs, starts))
}

/// A VInt at `*at` (tantivy's: seven bits a byte, least significant first, the last byte's
/// high bit set), moving `at` past it.
pub(crate) fn vint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 != 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::schema::{STORED, Schema};
    use tantivy::store::Compressor;
    use tantivy::{Index, IndexSettings, TantivyDocument};

    /// Every document of stores with blocks of one and of several documents, over several
    /// segments: the same bytes as tantivy's reader gives; a compressed store is read by it.
    #[test]
    fn reads_blocks_of_many_documents_as_tantivy_does() {
        for (compressor, block_size, in_place) in [
            (Compressor::None, 300, true),
            (Compressor::None, 1, true),
            (Compressor::Lz4, 300, false),
        ] {
            let mut b = Schema::builder();
            let text = b.add_text_field("text", STORED);
            let bytes = b.add_bytes_field("bytes", STORED);
            let index = Index::builder()
                .schema(b.build())
                .settings(IndexSettings {
                    docstore_compression: compressor,
                    docstore_blocksize: block_size,
                    ..Default::default()
                })
                .create_in_ram()
                .unwrap();
            let mut w = index.writer_with_num_threads(1, 15_000_000).unwrap();
            for round in 0..3 {
                for i in 0..120usize {
                    let mut d = TantivyDocument::new();
                    d.add_text(text, format!("doc {round} {i} ").repeat(i % 17));
                    d.add_bytes(bytes, &vec![i as u8; i * 3]);
                    w.add_document(d).unwrap();
                }
                w.commit().unwrap();
            }
            let reader = index.reader().unwrap();
            let searcher = reader.searcher();
            assert_eq!(searcher.segment_readers().len(), 3);
            let stores = DocStores::new(0).of(&searcher).unwrap();
            for (ord, segment) in searcher.segment_readers().iter().enumerate() {
                assert_eq!(stores[ord].in_place(), in_place);
                let theirs = segment.get_store_reader(0).unwrap();
                for doc in 0..segment.max_doc() {
                    assert_eq!(
                        stores[ord].document(doc).unwrap().as_slice(),
                        theirs.get_document_bytes(doc).unwrap().as_slice(),
                        "segment {ord} doc {doc}"
                    );
                }
                assert!(stores[ord].document(segment.max_doc()).is_err());
            }
        }
    }

    #[test]
    fn refuses_what_is_not_an_uncompressed_store() {
        assert!(InPlace::open(OwnedBytes::new(vec![0u8; 10])).is_none());
        // A footer naming LZ4, and one whose offset lies past it.
        let mut footer = vec![2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        footer.resize(FOOTER, 0);
        assert!(InPlace::open(OwnedBytes::new(footer.clone())).is_none());
        footer[4] = 200;
        footer[12] = 0;
        assert!(InPlace::open(OwnedBytes::new(footer)).is_none());
        // Checkpoints that do not add up to the blocks' bytes.
        assert!(blocks(&[0x81, 0x80, 0x80, 0x81, 0x8a], 9).is_none());
        assert_eq!(
            blocks(&[0x81, 0x80, 0x80, 0x81, 0x8a], 10),
            Some((vec![0, 1], vec![0, 10]))
        );
        assert!(in_block_range(&[0, 0, 0, 0, 2, 0, 0, 0], 0, 1).is_none());
    }
}
