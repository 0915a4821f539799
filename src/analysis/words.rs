//! Word segmentation for scripts written without spaces between words.
//!
//! Thai, Lao, Khmer and Myanmar need a dictionary to find word boundaries: UAX #29 alone cuts
//! them into syllable-like pieces. ICU4X's segmenter carries those dictionaries. Every other
//! non-Han script is split at UAX #29 word boundaries in [`super::script`].

use std::sync::LazyLock;

use icu_segmenter::WordSegmenter;
use icu_segmenter::WordSegmenterBorrowed;
use icu_segmenter::options::WordBreakInvariantOptions;

static SEGMENTER: LazyLock<WordSegmenterBorrowed<'static>> =
    LazyLock::new(|| WordSegmenter::new_auto(WordBreakInvariantOptions::default()));

/// Calls `emit(from, to)` (byte offsets into the whole text) for each word of `run`, a run of
/// Thai, Lao, Khmer or Myanmar text that starts at byte `base`.
pub fn segment_no_spaces(run: &str, base: usize, emit: &mut dyn FnMut(usize, usize)) {
    let mut last = 0;
    for b in SEGMENTER.segment_str(run) {
        if b > last && run[last..b].chars().any(char::is_alphanumeric) {
            emit(base + last, base + b);
        }
        last = b;
    }
}
