//! jieba's dictionary as sorted text compiled into the binary, searchable without loading.
//!
//! Loading jieba's 349 000 words into its trie takes about 100 ms, longer than a one-shot
//! `kb link` may take in all. But jieba's cut of a text depends only on the dictionary words
//! that occur in that text, their frequencies and the dictionary's total frequency. So a short
//! query can be cut by a jieba holding just those words, found here by binary search over
//! the `word freq` lines (sorted by bytes), plus one unmatchable word that carries the rest
//! of the total. `chinese` checks that both cut alike.
//!
//! The data is jieba-rs's `dict.txt` without part-of-speech tags, made by
//! `scripts/jieba_lexicon.sh`.

/// `word freq` lines, in byte order of the words.
///
/// A `static`, not a `const`: a `const` is copied into each codegen unit that uses it, and the
/// binary held two copies of these 4.2 MB (one read by `lines`, one by the binary search), both
/// of them resident in `kb serve` once jieba loaded and the idioms were looked up.
static LINES: &str = include_str!("data/jieba_dict.txt");

/// The sum of every frequency in [`LINES`] (printed by `scripts/jieba_lexicon.sh`; a test
/// checks it).
pub const TOTAL: usize = 60_101_964;

/// The longest word, in chars; longer substrings need not be looked up.
pub const MAX_WORD_CHARS: usize = 16;

/// The whole dictionary, for loading into jieba.
pub fn lines() -> &'static str {
    LINES
}

/// The frequency of `word`, if it is a dictionary word.
pub fn freq(word: &str) -> Option<usize> {
    let at = lower_bound(word);
    let (found, freq) = entry(at)?;
    (found == word).then_some(freq)
}

/// Every dictionary word that occurs in `chars` with its frequency, each once.
pub fn words_in(chars: &[char]) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    let mut key = String::new();
    for start in 0..chars.len() {
        key.clear();
        for &c in chars[start..].iter().take(MAX_WORD_CHARS) {
            key.push(c);
            let Some((found, freq)) = entry(lower_bound(&key)) else {
                break;
            };
            if found == key {
                out.push((key.clone(), freq));
            } else if !found.starts_with(key.as_str()) {
                // The first word at or after `key` does not extend it: none does.
                break;
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Byte offset of the first line whose word is not less than `key` (or the end).
fn lower_bound(key: &str) -> usize {
    let bytes = LINES.as_bytes();
    // Lines starting before `lo` hold smaller words; lines starting at or after `hi` do not.
    let (mut lo, mut hi) = (0, bytes.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let start = bytes[lo..mid]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(lo, |i| lo + i + 1);
        let word = word_at(start);
        if word.as_bytes() < key.as_bytes() {
            lo = bytes[start..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |i| start + i + 1);
        } else {
            hi = start;
        }
    }
    lo
}

fn word_at(start: usize) -> &'static str {
    let rest = &LINES[start..];
    &rest[..rest.find(' ').unwrap_or(rest.len())]
}

/// The word and frequency of the line at byte `start`, if there is one.
fn entry(start: usize) -> Option<(&'static str, usize)> {
    if start >= LINES.len() {
        return None;
    }
    let line = LINES[start..].lines().next()?;
    let (word, freq) = line.split_once(' ')?;
    Some((word, freq.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexicon_is_sorted_and_totals_match() {
        let mut total = 0;
        let mut longest = 0;
        let mut previous = "";
        for line in LINES.lines() {
            let (word, freq) = line.split_once(' ').expect("`word freq` lines");
            assert!(
                previous.as_bytes() < word.as_bytes(),
                "{previous} then {word}"
            );
            total += freq.parse::<usize>().expect("a number");
            longest = longest.max(word.chars().count());
            previous = word;
        }
        assert_eq!(total, TOTAL, "update lexicon::TOTAL");
        assert!(
            longest <= MAX_WORD_CHARS,
            "longest word has {longest} chars"
        );
    }

    #[test]
    fn finds_words_by_binary_search() {
        assert!(freq("软件").is_some());
        assert!(freq("1号店").is_some(), "the first line");
        let last = LINES.lines().last().unwrap().split_once(' ').unwrap().0;
        assert!(freq(last).is_some(), "the last line");
        assert_eq!(freq("软"), freq("软"));
        assert!(freq("软件件件").is_none());
        assert!(freq("").is_none());
        let chars: Vec<char> = "下载软件".chars().collect();
        let words: Vec<String> = words_in(&chars).into_iter().map(|(w, _)| w).collect();
        for w in ["下载", "软件", "下", "载", "软", "件"] {
            assert!(words.contains(&w.to_string()), "{w} in {words:?}");
        }
        assert!(!words.contains(&"载软".to_string()));
    }
}
