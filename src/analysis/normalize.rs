//! Word normalization: the same word typed differently becomes the same term.
//!
//! - Unicode compatibility forms fold (NFKC): full-width ｋｕｂｅｃｔｌ is kubectl, ligatures split;
//! - lower case;
//! - apostrophe variants (’ ʼ ‘ ` ´ ′) are one character, `'`, so Ukrainian п’ять, пʼять and
//!   п'ять are one word;
//! - invisible format characters (ZWJ, ZWNJ, soft hyphen, BOM) are dropped, so Telugu words
//!   typed with or without ZWNJ match;
//! - Latin diacritics are removed (café is cafe); in Cyrillic only stress marks are, and ґ
//!   folds to г (as Lucene's Ukrainian analyzer does), since й and ї are letters of their own;
//! - a Latin word with a Ukrainian case ending after an apostrophe (Podʼа, Deploymentʼів) is
//!   the Latin word.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use unicode_script::Script;

use super::script::{is_alphabetic, script};

/// The script that decides how a word is stemmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordScript {
    Latin,
    Cyrillic,
    /// Any other script, digits only, or a mix: not stemmed.
    Other,
}

/// A normalized word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    pub text: String,
    pub script: WordScript,
}

/// Characters that join the parts of an identifier inside one UAX #29 word.
pub fn is_connector(c: char) -> bool {
    matches!(c, '.' | '_' | ':')
}

fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '\u{2019}' | '\u{02BC}' | '\u{2018}' | '`' | '\u{00B4}' | '\u{2032}' | '\u{02B9}'
    )
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{00AD}' | '\u{FEFF}' | '\u{2060}' | '\u{180E}'
    ) || c.is_control()
}

/// The script of a normalized word, from its letters.
pub fn script_of(word: &str) -> WordScript {
    let (mut latin, mut cyrillic, mut other) = (false, false, false);
    for c in word.chars().filter(|&c| is_alphabetic(c)) {
        if c.is_ascii_alphabetic() {
            latin = true;
            continue;
        }
        match script(c) {
            Script::Latin => latin = true,
            Script::Cyrillic => cyrillic = true,
            _ => other = true,
        }
    }
    match (latin, cyrillic, other) {
        (true, false, false) => WordScript::Latin,
        (false, true, false) => WordScript::Cyrillic,
        _ => WordScript::Other,
    }
}

/// The parts of an identifier-like word, normalized: split at connectors (`.`, `_`, `:`).
/// Empty unless there are at least two parts of two or more letters.
///
/// Case changes (`StorageClass`) are not split: measured on the relevance set, the parts of
/// mixed-case identifiers make reference pages match everyday words and cost more than they
/// find.
pub fn parts(raw: &str) -> Vec<Normalized> {
    // Most words have no connector: one part, nothing to normalize a second time.
    if !raw.contains(is_connector) {
        return Vec::new();
    }
    let parts: Vec<Normalized> = raw
        .split(is_connector)
        .filter_map(word)
        .filter(|p| {
            p.text.chars().count() >= 2
                && p.text.chars().any(char::is_alphabetic)
                && !p.text.contains('\'')
        })
        .collect();
    if parts.len() >= 2 { parts } else { Vec::new() }
}

/// Normalizes one word; `None` when nothing searchable is left.
pub fn word(raw: &str) -> Option<Normalized> {
    let mut text = String::with_capacity(raw.len());
    if raw.is_ascii() {
        for b in raw.bytes() {
            if b == b'`' {
                text.push('\'');
            } else if !b.is_ascii_control() {
                text.push(b.to_ascii_lowercase() as char);
            }
        }
    } else {
        let mut prev_cyrillic = false;
        for c in raw.nfkc() {
            if is_invisible(c) {
                continue;
            }
            if is_apostrophe(c) {
                text.push('\'');
                prev_cyrillic = false;
                continue;
            }
            // Stress marks over Cyrillic vowels (паро́ль).
            if prev_cyrillic && matches!(c, '\u{0300}' | '\u{0301}') {
                continue;
            }
            prev_cyrillic = script(c) == Script::Cyrillic;
            for l in c.to_lowercase() {
                text.push(if l == 'ґ' { 'г' } else { l });
            }
        }
    }
    let mut script = script_of(&text);
    if script == WordScript::Latin && !text.is_ascii() {
        text = text
            .nfd()
            .filter(|c| !is_combining_mark(*c))
            .nfc()
            .collect();
    } else if script == WordScript::Other {
        // Podʼа: a Latin stem with a Cyrillic ending after the apostrophe.
        if let Some((head, tail)) = text.split_once('\'')
            && script_of(head) == WordScript::Latin
            && script_of(tail) == WordScript::Cyrillic
        {
            text.truncate(head.len());
            script = WordScript::Latin;
        }
    }
    // Trimmed in place: the word's one allocation is the term's.
    let end = text.trim_end_matches('\'').len();
    text.truncate(end);
    let start = text.len() - text.trim_start_matches('\'').len();
    text.drain(..start);
    if !text.chars().any(char::is_alphanumeric) {
        return None;
    }
    Some(Normalized { text, script })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        word(s).map(|n| n.text).unwrap_or_default()
    }

    #[test]
    fn folds_case_width_and_accents() {
        assert_eq!(n("HeLLo"), "hello");
        assert_eq!(n("Ｋｕｂｅ"), "kube");
        assert_eq!(n("Résumé"), "resume");
        assert_eq!(n("ﬁle"), "file");
    }

    #[test]
    fn keeps_cyrillic_letters_with_marks() {
        assert_eq!(n("Їжак"), "їжак");
        assert_eq!(n("Йод"), "йод");
    }

    #[test]
    fn scripts() {
        assert_eq!(word("pod").unwrap().script, WordScript::Latin);
        assert_eq!(word("пароль").unwrap().script, WordScript::Cyrillic);
        assert_eq!(word("సమస్య").unwrap().script, WordScript::Other);
        assert_eq!(word("v1beta1").unwrap().script, WordScript::Latin);
        assert_eq!(word("Podʼа").unwrap().script, WordScript::Latin);
    }

    #[test]
    fn nothing_searchable_is_none() {
        assert_eq!(word("''"), None);
        assert_eq!(word("\u{200d}"), None);
    }
}
