//! Han character bigrams: the segmentation-free view of Chinese text, beside jieba's words.
//!
//! jieba may cut a page and a query differently (a technical term it lacks, a Taiwan word
//! folded to Simplified characters, a compound split one way in a sentence and another in a
//! short query). Overlapping pairs of characters (Lucene's `CJKBigramFilter`, Elasticsearch's
//! `cjk` analyzer) need no dictionary: 节点亲和性 is 节点 点亲 亲和 和性 in both, however each
//! was cut. Each run of Han characters is folded to Simplified first (as [`super::chinese`]
//! folds it for jieba), so both scripts give the same pairs; a run of one character is that
//! character alone. Nothing else of the text makes a term.

use super::chinese;
use crate::han::is_han;

/// One bigram (or lone character) of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bigram {
    /// The pair, in Simplified characters.
    pub text: String,
    /// Byte range in the original text (the characters it was folded from).
    pub from: usize,
    pub to: usize,
}

/// Hands `sink` each bigram of each Han run of `text`, in order, and each run of a single
/// character alone.
pub fn bigrams(text: &str, sink: &mut dyn FnMut(Bigram)) {
    for run in han_runs(text) {
        let original = &text[run.clone()];
        let folded = chinese::fold_words(original);
        let chars: Vec<char> = folded.chars().collect();
        // Folding keeps one character for one (phrases that change length are rare in a
        // pair): offsets then map character for character, else to the whole run.
        let starts: Vec<usize> = original.char_indices().map(|(i, _)| i).collect();
        let aligned = starts.len() == chars.len();
        let span = |i: usize, n: usize| -> (usize, usize) {
            if aligned {
                let end = starts.get(i + n).copied().unwrap_or(original.len());
                (run.start + starts[i], run.start + end)
            } else {
                (run.start, run.end)
            }
        };
        if chars.len() == 1 {
            let (from, to) = span(0, 1);
            sink(Bigram {
                text: folded.into_owned(),
                from,
                to,
            });
            continue;
        }
        for (i, pair) in chars.windows(2).enumerate() {
            let (from, to) = span(i, 2);
            sink(Bigram {
                text: pair.iter().collect(),
                from,
                to,
            });
        }
    }
}

/// The byte ranges of the runs of Han characters of `text`: a character scan, not word
/// boundaries (most text of a help center is ASCII, which is skipped at once).
fn han_runs(text: &str) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || {
        let (start, _) = chars.find(|&(_, c)| !c.is_ascii() && is_han(c))?;
        let mut end = text.len();
        while let Some(&(i, c)) = chars.peek() {
            if c.is_ascii() || !is_han(c) {
                end = i;
                break;
            }
            chars.next();
        }
        Some(start..end)
    })
}

/// The bigrams of `text`, each once, in order of first appearance.
pub fn distinct(text: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<String> = Vec::new();
    bigrams(text, &mut |b| {
        if seen.insert(b.text.clone()) {
            out.push(b.text);
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        bigrams(text, &mut |b| out.push(b.text));
        out
    }

    #[test]
    fn overlapping_pairs_within_each_han_run() {
        assert_eq!(texts("节点亲和性"), ["节点", "点亲", "亲和", "和性"]);
        // Latin, digits, spaces and punctuation part runs and make no term.
        assert_eq!(
            texts("使用kubectl命令，重启 Pod 2 次"),
            ["使用", "命令", "重启", "次"]
        );
        assert!(texts("no Chinese here, 123").is_empty());
        assert!(texts("").is_empty());
    }

    #[test]
    fn a_lone_character_is_its_own_term() {
        assert_eq!(texts("Pod 的 状态"), ["的", "状态"]);
    }

    #[test]
    fn traditional_gives_the_simplified_pairs() {
        assert_eq!(texts("重設密碼"), texts("重设密码"));
        assert_eq!(texts("帳戶"), texts("账户"));
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "a 重設密碼 b";
        let mut spans = Vec::new();
        bigrams(text, &mut |b| spans.push((b.from, b.to)));
        assert_eq!(&text[spans[0].0..spans[0].1], "重設");
        assert_eq!(&text[spans[2].0..spans[2].1], "密碼");
        for s in ["擴充套件元件", "🙂中\u{301}文", "𠀀𠀁𪜀 𠮷野家"] {
            bigrams(s, &mut |b| {
                assert!(b.from < b.to && b.to <= s.len());
                assert!(s.is_char_boundary(b.from) && s.is_char_boundary(b.to));
            });
        }
    }

    #[test]
    fn distinct_keeps_the_first_of_each() {
        assert_eq!(distinct("节点 节点"), ["节点"]);
        assert_eq!(distinct("节点节点"), ["节点", "点节"]);
    }
}
