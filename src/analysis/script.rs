//! Script detection: splits text into runs that each go to the segmenter made for them.
//!
//! UAX #29 word boundaries are the starting point for every script; they already separate
//! words, spaces and punctuation. They cut Han text into single ideographs and Thai text into
//! syllable-like pieces, though, so consecutive pieces of those scripts are joined back into one
//! run for jieba or the ICU dictionary segmenter.

use unicode_script::{Script, UnicodeScript};
use unicode_segmentation::UnicodeSegmentation;

/// Which segmenter a run goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    /// Han ideographs: jieba.
    Han,
    /// Scripts written without spaces between words (Thai, Lao, Khmer, Myanmar): ICU.
    NoSpaces,
    /// One UAX #29 word of any other script.
    Word,
}

/// A byte range of the text and the segmenter it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub start: usize,
    pub end: usize,
    pub kind: RunKind,
}

/// The letters most text has outside ASCII, whose script and being letters are known without
/// searching Unicode's tables (a tenth of a full build's CPU went to those searches): basic
/// Cyrillic and the CJK ideographs (assigned since Unicode 11, so every table has them).
fn common_letter(c: char) -> Option<Script> {
    match c {
        _ if crate::han::COMMON_IDEOGRAPHS.contains(&c) => Some(Script::Han),
        '\u{3400}'..='\u{4DB5}' => Some(Script::Han),
        '\u{0400}'..='\u{045F}' => Some(Script::Cyrillic),
        _ => None,
    }
}

/// `c`'s Unicode script.
pub fn script(c: char) -> Script {
    common_letter(c).unwrap_or_else(|| c.script())
}

/// Whether `c` is alphabetic (as `char::is_alphabetic`).
pub fn is_alphabetic(c: char) -> bool {
    c.is_ascii_alphabetic() || (!c.is_ascii() && (common_letter(c).is_some() || c.is_alphabetic()))
}

/// The class of a word-like segment, from its first alphanumeric char; `None` for spaces and
/// punctuation.
fn class_of(segment: &str) -> Option<RunKind> {
    let c = segment.chars().find(|c| c.is_alphanumeric())?;
    if c.is_ascii() {
        return Some(RunKind::Word);
    }
    Some(match script(c) {
        Script::Han => RunKind::Han,
        Script::Thai | Script::Lao | Script::Khmer | Script::Myanmar => RunKind::NoSpaces,
        _ => RunKind::Word,
    })
}

/// Splits `text` into runs, in order; spaces and punctuation belong to no run.
pub fn runs(text: &str) -> impl Iterator<Item = Run> + '_ {
    let mut segments = word_bound_indices(text).peekable();
    std::iter::from_fn(move || {
        loop {
            let (start, seg) = segments.next()?;
            let Some(kind) = class_of(seg) else {
                continue;
            };
            let mut end = start + seg.len();
            if kind != RunKind::Word {
                // Join the following pieces of the same script that touch this one.
                while let Some(&(next_start, next)) = segments.peek() {
                    if next_start != end || class_of(next) != Some(kind) {
                        break;
                    }
                    end = next_start + next.len();
                    segments.next();
                }
            }
            return Some(Run { start, end, kind });
        }
    })
}

/// `text`'s UAX #29 word boundaries, exactly as `unicode_segmentation`'s
/// `split_word_bound_indices` gives them, with a fast path for the lines that are ASCII
/// (most of a help center): UAX #29 always breaks before and after a line feed (rules WB3,
/// WB3a, WB3b), so each line is segmented on its own, an ASCII one by [`ascii_bound`] and any
/// other by `unicode_segmentation`.
pub fn word_bound_indices(text: &str) -> impl Iterator<Item = (usize, &str)> + '_ {
    let bytes = text.as_bytes();
    // Start of the next segment; end of the ASCII line being cut; the other line being cut.
    let mut pos = 0;
    let mut ascii_end = 0;
    let mut other: Option<(usize, unicode_segmentation::UWordBoundIndices<'_>)> = None;
    std::iter::from_fn(move || {
        loop {
            if let Some((base, segments)) = &mut other {
                if let Some((i, segment)) = segments.next() {
                    return Some((*base + i, segment));
                }
                other = None;
            }
            let start = pos;
            if start < ascii_end {
                pos = ascii_bound(bytes, start, ascii_end);
                return Some((start, &text[start..pos]));
            }
            match bytes.get(start..start + 2) {
                None if start >= text.len() => return None,
                _ if bytes[start] == b'\n' => {
                    pos += 1;
                    return Some((start, &text[start..pos]));
                }
                Some(b"\r\n") => {
                    pos += 2;
                    return Some((start, &text[start..pos]));
                }
                _ => {}
            }
            // The line, up to its `\n` or `\r\n`.
            let mut end = bytes[start..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(text.len(), |i| start + i);
            if end < text.len() && bytes[end - 1] == b'\r' {
                end -= 1;
            }
            let line = &text[start..end];
            if line.is_ascii() {
                ascii_end = end;
            } else {
                other = Some((start, line.split_word_bound_indices()));
                pos = end;
            }
        }
    })
}

/// UAX #29 word-break classes of the ASCII characters (Unicode's WordBreakProperty).
mod class {
    pub const OTHER: u8 = 0;
    pub const CR: u8 = 1;
    pub const LF: u8 = 2;
    pub const NEWLINE: u8 = 3;
    pub const SPACE: u8 = 4;
    pub const LETTER: u8 = 5;
    pub const NUMERIC: u8 = 6;
    pub const MID_LETTER: u8 = 7;
    pub const MID_NUM: u8 = 8;
    pub const MID_NUM_LET: u8 = 9;
    pub const SINGLE_QUOTE: u8 = 10;
    pub const EXTEND_NUM_LET: u8 = 11;

    pub const fn of(b: u8) -> u8 {
        match b {
            b'\r' => CR,
            b'\n' => LF,
            0x0B | 0x0C => NEWLINE,
            b' ' => SPACE,
            b'a'..=b'z' | b'A'..=b'Z' => LETTER,
            b'0'..=b'9' => NUMERIC,
            b':' => MID_LETTER,
            b',' | b';' => MID_NUM,
            b'.' => MID_NUM_LET,
            b'\'' => SINGLE_QUOTE,
            b'_' => EXTEND_NUM_LET,
            _ => OTHER,
        }
    }
}

/// The end of the UAX #29 segment that starts at `start` in the ASCII line
/// `bytes[..end]` (the line starts after a line break or at the text's start, and ends
/// before one or at the text's end).
fn ascii_bound(bytes: &[u8], start: usize, end: usize) -> usize {
    use class::*;
    let at = |i: usize| if i < end { of(bytes[i]) } else { OTHER };
    let mid_letter = |c: u8| matches!(c, MID_LETTER | MID_NUM_LET | SINGLE_QUOTE);
    let mid_num = |c: u8| matches!(c, MID_NUM | MID_NUM_LET | SINGLE_QUOTE);
    let mut i = start + 1;
    while i < end {
        // Whether the text is not broken between `bytes[i - 1]` and `bytes[i]`.
        let (prev, cur) = (at(i - 1), at(i));
        let before = if i >= 2 { of(bytes[i - 2]) } else { OTHER };
        let joined = match (prev, cur) {
            (CR, LF) => true,
            (CR | LF | NEWLINE, _) | (_, CR | LF | NEWLINE) => false,
            (SPACE, SPACE) => true,
            (LETTER | NUMERIC, LETTER | NUMERIC) => true,
            (LETTER, c) if mid_letter(c) => at(i + 1) == LETTER,
            (p, LETTER) if mid_letter(p) && before == LETTER => true,
            (NUMERIC, c) if mid_num(c) => at(i + 1) == NUMERIC,
            (p, NUMERIC) if mid_num(p) && before == NUMERIC => true,
            (LETTER | NUMERIC | EXTEND_NUM_LET, EXTEND_NUM_LET) => true,
            (EXTEND_NUM_LET, LETTER | NUMERIC) => true,
            _ => false,
        };
        if !joined {
            return i;
        }
        i += 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(&str, RunKind)> {
        runs(text)
            .map(|r| (&text[r.start..r.end], r.kind))
            .collect()
    }

    #[test]
    fn common_letters_take_the_tables_answer() {
        let ranges = [
            '\u{3400}'..='\u{4DB5}',
            crate::han::COMMON_IDEOGRAPHS,
            '\u{0400}'..='\u{045F}',
        ];
        for c in ranges.into_iter().flatten() {
            assert_eq!(script(c), c.script(), "{c}");
            assert_eq!(is_alphabetic(c), c.is_alphabetic(), "{c}");
        }
        for c in ['a', 'Z', '1', ' ', 'é', 'ґ', 'ї', 'ก', '𠀀', 'ｋ'] {
            assert_eq!(script(c), c.script(), "{c}");
            assert_eq!(is_alphabetic(c), c.is_alphabetic(), "{c}");
        }
    }

    #[test]
    fn han_pieces_join_into_one_run() {
        assert_eq!(
            kinds("边车容器是Pod中的"),
            [
                ("边车容器是", RunKind::Han),
                ("Pod", RunKind::Word),
                ("中的", RunKind::Han)
            ]
        );
    }

    #[test]
    fn punctuation_splits_han_runs() {
        assert_eq!(
            kinds("你好，世界"),
            [("你好", RunKind::Han), ("世界", RunKind::Han)]
        );
    }

    fn assert_bounds_as_uax29(text: &str) {
        let ours: Vec<(usize, &str)> = word_bound_indices(text).collect();
        let theirs: Vec<(usize, &str)> = text.split_word_bound_indices().collect();
        assert_eq!(ours, theirs, "{text:?}");
    }

    /// Random text of characters of every word-break class, ASCII and not.
    #[test]
    fn word_bounds_are_unicode_segmentation_s() {
        let alphabet: Vec<char> =
            "aZq09 \t\n\r\u{b}\u{c}.:,;'\"_-/#é\u{301}\u{200d}\u{200b}\u{feff}中文ก\
            🙂🇺🇸\u{3000}\u{85}\u{2028}пʼ’٣א"
                .chars()
                .collect();
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut text = String::new();
        for _ in 0..20_000 {
            text.clear();
            // Mostly ASCII, as articles are, so that both paths meet.
            let ascii_only = next() % 2 == 0;
            for _ in 0..next() % 24 {
                let n = if ascii_only { 23 } else { alphabet.len() };
                text.push(alphabet[(next() % n as u64) as usize]);
            }
            assert_bounds_as_uax29(&text);
        }
        for text in [
            "",
            "a",
            "\r\n",
            "\r\r\n\n",
            "x\r\ny",
            "don't 3.14 1,000 a.b. a:b e.g._x __init__ v1.2.3",
            "café\nplain line\nзмішаний line\r\nend",
        ] {
            assert_bounds_as_uax29(text);
        }
    }

    /// The articles of a corpus segment as with `unicode_segmentation`: the sample help
    /// center's, or those of the folder in `KB_SEGMENT_CORPUS`
    /// (`KB_SEGMENT_CORPUS=../shared/corpus cargo test word_bounds_on_a_corpus`).
    #[test]
    fn word_bounds_on_a_corpus() {
        let dir = std::env::var_os("KB_SEGMENT_CORPUS").map_or_else(
            || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("articles"),
            std::path::PathBuf::from,
        );
        let mut files = 0;
        for entry in walkdir::WalkDir::new(dir) {
            let entry = entry.unwrap();
            if entry.path().extension().is_some_and(|e| e == "md") {
                let text = std::fs::read_to_string(entry.path()).unwrap();
                assert_bounds_as_uax29(&text);
                files += 1;
            }
        }
        assert!(files > 0);
    }

    #[test]
    fn thai_is_one_run() {
        assert_eq!(
            kinds("เปลี่ยนรหัสผ่าน ok"),
            [("เปลี่ยนรหัสผ่าน", RunKind::NoSpaces), ("ok", RunKind::Word)]
        );
    }
}
