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
    let mut segments = text.split_word_bound_indices().peekable();
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

    #[test]
    fn thai_is_one_run() {
        assert_eq!(
            kinds("เปลี่ยนรหัสผ่าน ok"),
            [("เปลี่ยนรหัสผ่าน", RunKind::NoSpaces), ("ok", RunKind::Word)]
        );
    }
}
