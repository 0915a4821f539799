//! A bounded memo of what a word becomes ([`super::analyze_word`]), for the threads that
//! build an index.
//!
//! An index build normalizes and stems the same few thousand words over and over (a quarter
//! of its CPU went to it). A thread that opts in with [`memoized`] keeps a fixed table of
//! [`SLOTS`] entries, direct-mapped by the word's hash: a new word takes its slot from the one
//! there, so the table never grows (about half a megabyte per thread, however many articles
//! the build reads). It lives only while the closure runs and is the calling thread's own, so
//! nothing is shared or locked, and nothing outlives the build: searches never opt in, and no
//! cache persists across them. The memo only changes how often a word is analyzed, never the
//! result ([`super::analyze_word`] is a pure function of the word).

use std::cell::RefCell;

use super::Analyzed;

/// Slots of a thread's table: a power of two. On k8s-docs (two threads) 4 096 slots answer
/// 85-90 % of the words from the memo.
const SLOTS: usize = 4096;

/// Words longer than this (in bytes) are analyzed every time: they are rare, and a long key
/// would make the table's memory depend on the text.
const MAX_KEY: usize = 32;

struct Slot {
    /// The word as the text has it; empty when the slot is free (no word is empty).
    word: String,
    analyzed: Option<Analyzed>,
}

thread_local! {
    static TABLE: RefCell<Option<Vec<Slot>>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's memo of analyzed words on, and drops the memo after it.
pub fn memoized<R>(f: impl FnOnce() -> R) -> R {
    struct Off(Option<Vec<Slot>>);
    impl Drop for Off {
        fn drop(&mut self) {
            let outer = self.0.take();
            TABLE.with(|t| *t.borrow_mut() = outer);
        }
    }
    let table = (0..SLOTS)
        .map(|_| Slot {
            word: String::new(),
            analyzed: None,
        })
        .collect();
    let _off = Off(TABLE.with(|t| t.replace(Some(table))));
    f()
}

/// FNV-1a: words are short, and this runs once per word of the text.
fn hash(word: &str) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in word.as_bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (h ^ (h >> 32)) as usize
}

/// What `word` becomes: from this thread's memo when it has it, else `analyze(word)`
/// (remembered when the memo is on).
pub(super) fn analyze_word(word: &str, analyze: fn(&str) -> Option<Analyzed>) -> Option<Analyzed> {
    if word.len() > MAX_KEY {
        return analyze(word);
    }
    TABLE.with(|t| {
        let mut t = t.borrow_mut();
        let Some(table) = t.as_mut() else {
            return analyze(word);
        };
        let slot = &mut table[hash(word) & (SLOTS - 1)];
        if slot.word != word {
            slot.analyzed = analyze(word);
            slot.word.clear();
            slot.word.push_str(word);
        }
        slot.analyzed.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::super::{analyze_to_vec, analyze_word as direct};
    use super::*;

    #[test]
    fn memoized_analysis_is_the_analysis() {
        let text = "Resetting passwords, resetting PASSWORDS: node.kubernetes.io пароля пароля \
                    Podʼа Café cafe เปลี่ยนรหัสผ่าน 客户支持 v1beta1 v1beta1";
        let plain = analyze_to_vec(text);
        let memo = memoized(|| (analyze_to_vec(text), analyze_to_vec(text)));
        assert_eq!(memo.0, plain);
        assert_eq!(memo.1, plain);
        // Words that collide in a slot evict each other and still analyze right.
        let words: Vec<String> = (0..3 * SLOTS).map(|i| format!("word{i}s")).collect();
        memoized(|| {
            for _ in 0..2 {
                for w in &words {
                    let (a, b) = (analyze_word(w, direct), direct(w));
                    assert_eq!(a.map(|a| (a.term, a.exact)), b.map(|b| (b.term, b.exact)));
                }
            }
        });
    }

    #[test]
    fn the_memo_is_off_outside_memoized() {
        memoized(|| {});
        TABLE.with(|t| assert!(t.borrow().is_none()));
    }
}
