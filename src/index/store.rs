//! The doc stores of the searched segments, each opened once and kept while its segment is
//! searched.
//!
//! tantivy's `Searcher` has its own, but hands out only documents it has deserialized (a
//! stored bytes value one byte at a time, every value copied, the article's `source` too);
//! results read a document's raw bytes from these instead ([`crate::search`]'s stored
//! fields). A segment never changes once written (deletes are a separate bitset), so a store
//! opened for a segment stays right for it.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, Mutex};

use tantivy::Searcher;
use tantivy::index::SegmentId;
use tantivy::store::StoreReader;

/// The doc store of every segment searched lately.
pub struct DocStores {
    /// Decompressed blocks each store caches.
    cache_blocks: usize,
    open: Mutex<HashMap<SegmentId, Arc<StoreReader>>>,
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
    pub fn of(&self, searcher: &Searcher) -> tantivy::Result<Vec<Arc<StoreReader>>> {
        let segments = searcher.segment_readers();
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if segments.iter().any(|s| !open.contains_key(&s.segment_id())) {
            open.retain(|id, _| segments.iter().any(|s| s.segment_id() == *id));
            for s in segments {
                if let Entry::Vacant(e) = open.entry(s.segment_id()) {
                    e.insert(Arc::new(s.get_store_reader(self.cache_blocks)?));
                }
            }
        }
        Ok(segments
            .iter()
            .map(|s| open[&s.segment_id()].clone())
            .collect())
    }
}
