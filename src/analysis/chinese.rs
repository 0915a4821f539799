//! Chinese: Traditional → Simplified folding, jieba word segmentation with search-mode
//! sub-words, and the regional idioms of Taiwan and the mainland.
//!
//! Characters are folded first because jieba's dictionary is Simplified: segmenting
//! Traditional text and folding the pieces afterwards (what Meilisearch does) cuts Traditional
//! words into single characters. The folding is OpenCC's `t2s` (characters, plus the phrases
//! that pick the right character), so index and queries agree whatever script they use.
//!
//! Idioms differ beyond characters: Taiwan writes 軟體, 網路, 映象 where the mainland writes
//! 软件, 网络, 镜像. Converting them one way in the analyzer is lossy (文檔 → 文件 → 檔案 chains,
//! and 節點選擇 read as 點選 "click") and fails on short queries that share every character with
//! the other script. So the analyzer leaves idioms alone and [`idiom_spans`] offers them to
//! the query planner as synonyms, in both directions, from OpenCC's Taiwan phrase table.
//!
//! Folding may change the length of a phrase, so the folded text is aligned back to the
//! original and every token keeps offsets into the original text.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, OnceLock};

use jieba_rs::Jieba;

use super::{Token, TokenKind, lexicon};

/// Dictionary frequency given to Taiwan words jieba does not know: that of a common word, so
/// they hold together in context (在叢集中 is 在|叢集|中, not 在|叢|集中).
const IDIOM_FREQ: usize = 20_000;

/// jieba with its whole (mainland) dictionary, taught the Taiwan words of the idiom table so
/// that folded Taiwan text is cut into the same words a Taiwanese reader sees (叢集, 繫結).
/// Loaded when a process first segments more than a few queries' worth of text.
static JIEBA: OnceLock<Jieba> = OnceLock::new();

/// Chars cut with scoped dictionaries (see [`scoped`]) before the whole one was loaded. Past
/// [`SCOPED_BUDGET_CHARS`] the process evidently segments a lot of Chinese (it is building an
/// index) and loading the whole dictionary once is cheaper.
static SCOPED_CHARS: AtomicUsize = AtomicUsize::new(0);
const SCOPED_BUDGET_CHARS: usize = 4096;

/// A word no Han run contains (a Unicode noncharacter): it carries the frequency of the
/// words a scoped dictionary leaves out, so that its total is the whole dictionary's.
const UNMATCHABLE: &str = "\u{FDD0}";

/// Loads jieba's whole dictionary now (about 100 ms) rather than when first needed.
pub fn load() {
    full();
}

fn full() -> &'static Jieba {
    JIEBA.get_or_init(|| {
        let mut jieba = Jieba::empty();
        jieba
            .load_dict(&mut lexicon::lines().as_bytes())
            .expect("the built-in lexicon is `word freq` lines");
        for word in IDIOMS.keys() {
            jieba.add_word(word, Some(idiom_freq(word)), None);
        }
        jieba
    })
}

/// Dictionary frequency of a Taiwan idiom: never lower than jieba's own.
fn idiom_freq(word: &str) -> usize {
    lexicon::freq(word).unwrap_or(0).max(IDIOM_FREQ)
}

/// The total frequency of the whole dictionary, idioms included.
static FULL_TOTAL: LazyLock<usize> = LazyLock::new(|| {
    let added: usize = IDIOMS
        .keys()
        .map(|word| idiom_freq(word) - lexicon::freq(word).unwrap_or(0))
        .sum();
    lexicon::TOTAL + added
});

/// A jieba that cuts `chars` exactly as the whole dictionary does, holding only the words
/// that occur in them: jieba weighs a cut by the frequencies of the words in it against the
/// dictionary's total, so the words elsewhere matter only through that total.
fn scoped(chars: &[char]) -> Jieba {
    let mut words: BTreeMap<String, usize> = lexicon::words_in(chars).into_iter().collect();
    for start in 0..chars.len() {
        for len in 2..=(*MAX_IDIOM).min(chars.len() - start) {
            let phrase: String = chars[start..start + len].iter().collect();
            if IDIOMS.contains_key(&phrase) {
                let freq = idiom_freq(&phrase);
                words.insert(phrase, freq);
            }
        }
    }
    let mut jieba = Jieba::empty();
    let mut sum = 0;
    for (word, freq) in &words {
        jieba.add_word(word, Some(*freq), None);
        sum += freq;
    }
    jieba.add_word(UNMATCHABLE, Some(*FULL_TOTAL - sum), None);
    jieba
}

pub use crate::han::{HanScript, fold, script_of};

/// Variant spellings that OpenCC's tables keep apart but mainland texts use for one word
/// (帳戶 folds to 帐户, while mainland articles write 账户). Applied to every token, whatever
/// its script, so it is idempotent: both spellings become the second one.
const VARIANTS: &[(&str, &str)] = &[
    ("帐户", "账户"),
    ("帐号", "账号"),
    ("帐单", "账单"),
    ("帐目", "账目"),
    ("帐本", "账本"),
];

/// OpenCC's Taiwan phrase table: mainland phrase, TAB, Taiwan equivalents.
const TW_PHRASES: &str = include_str!("data/tw_phrases.txt");

/// Regional idioms, in folded (Simplified) characters: each phrase and its equivalents in the
/// other region, both directions.
static IDIOMS: LazyLock<HashMap<String, Vec<String>>> = LazyLock::new(|| {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    let mut link = |a: &str, b: &str| {
        let list = map.entry(a.to_string()).or_default();
        if a != b && !list.iter().any(|x| x == b) {
            list.push(b.to_string());
        }
    };
    for line in TW_PHRASES.lines().filter(|l| !l.starts_with('#')) {
        let Some((mainland, taiwan)) = line.split_once('\t') else {
            continue;
        };
        let mainland = fold(mainland.trim()).into_owned();
        for tw in taiwan.split_whitespace() {
            let tw = fold(tw).into_owned();
            link(&mainland, &tw);
            link(&tw, &mainland);
        }
    }
    map.retain(|_, v| !v.is_empty());
    map
});

/// The longest idiom, in chars.
static MAX_IDIOM: LazyLock<usize> =
    LazyLock::new(|| IDIOMS.keys().map(|k| k.chars().count()).max().unwrap_or(0));

/// A phrase of a text with equivalents in the other region's idiom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdiomSpan {
    /// Byte range in the text.
    pub from: usize,
    pub to: usize,
    /// The equivalent phrases, in Simplified characters.
    pub equivalents: Vec<String>,
}

/// Finds the regional idioms of `text` (longest match first, left to right).
pub fn idiom_spans(text: &str) -> Vec<IdiomSpan> {
    let mut out = Vec::new();
    for run in super::script::runs(text) {
        if run.kind != super::script::RunKind::Han {
            continue;
        }
        let original = &text[run.start..run.end];
        let folded = fold(original);
        let chars: Vec<char> = folded.chars().collect();
        let (to_orig, orig_bytes) = alignment(original, &chars);
        let mut i = 0;
        while i < chars.len() {
            let longest = (2..=(*MAX_IDIOM).min(chars.len() - i))
                .rev()
                .find_map(|len| {
                    let phrase: String = chars[i..i + len].iter().collect();
                    IDIOMS.get(&phrase).map(|eq| (len, eq))
                });
            match longest {
                Some((len, equivalents)) => {
                    out.push(IdiomSpan {
                        from: run.start + orig_bytes[to_orig[i]],
                        to: run.start + orig_bytes[to_orig[i + len]],
                        equivalents: equivalents.clone(),
                    });
                    i += len;
                }
                None => i += 1,
            }
        }
    }
    out
}

/// For folded chars of `original`: the original char index of each folded char (and the end),
/// and the byte offset of each original char (and the end).
fn alignment(original: &str, folded: &[char]) -> (Vec<usize>, Vec<usize>) {
    let mut orig_bytes: Vec<usize> = original.char_indices().map(|(i, _)| i).collect();
    let n = orig_bytes.len();
    orig_bytes.push(original.len());
    let to_orig = if folded.len() == n {
        (0..=n).collect()
    } else {
        let chars: Vec<char> = original.chars().collect();
        align(&chars, folded)
    };
    (to_orig, orig_bytes)
}

/// [`fold`], with the mainland's spelling of the [`VARIANTS`] (帐户 → 账户): the characters
/// the analyzer's words are made of, for views of the text that use no dictionary.
pub fn fold_words(run: &str) -> Cow<'_, str> {
    let mut folded = fold(run);
    for (variant, canon) in VARIANTS {
        if folded.contains(variant) {
            folded = Cow::Owned(folded.replace(variant, canon));
        }
    }
    folded
}

fn canonical(word: &str) -> &str {
    VARIANTS
        .iter()
        .find(|(variant, _)| *variant == word)
        .map_or(word, |(_, canon)| canon)
}

/// Segments a run of Han text starting at byte `base` of the whole text.
pub fn segment(run: &str, base: usize, position: &mut usize, sink: &mut dyn FnMut(Token)) {
    let folded = fold(run);
    let folded_chars: Vec<char> = folded.chars().collect();
    let (to_orig, orig_bytes) = alignment(run, &folded_chars);
    let n = orig_bytes.len() - 1;
    let span = |start: usize, end: usize| {
        let from = to_orig[start];
        let to = to_orig[end].max((from + 1).min(n));
        (base + orig_bytes[from], base + orig_bytes[to])
    };

    let scoped_dictionary;
    let jieba = match JIEBA.get() {
        Some(jieba) => jieba,
        None if SCOPED_CHARS.fetch_add(n, Ordering::Relaxed) + n <= SCOPED_BUDGET_CHARS => {
            scoped_dictionary = scoped(&folded_chars);
            &scoped_dictionary
        }
        None => full(),
    };
    for token in jieba.cut(&folded, true) {
        if !token.word.chars().any(char::is_alphanumeric) {
            continue;
        }
        let (from, to) = span(token.start, token.end);
        let pos = *position;
        *position += 1;
        sink(Token {
            text: canonical(token.word).to_string(),
            from,
            to,
            position: pos,
            kind: TokenKind::Word,
        });
        let len = token.end - token.start;
        if len <= 2 {
            continue;
        }
        // Search mode: the dictionary words inside a compound, as jieba's cut_for_search
        // finds them (2- and 3-character sub-words).
        let chars = &folded_chars[token.start..token.end];
        for gram in [2usize, 3] {
            if len <= gram {
                break;
            }
            for i in 0..=len - gram {
                let sub: String = chars[i..i + gram].iter().collect();
                if jieba.has_word(&sub) {
                    let (from, to) = span(token.start + i, token.start + i + gram);
                    sink(Token {
                        text: canonical(&sub).to_string(),
                        from,
                        to,
                        position: pos,
                        kind: TokenKind::Part,
                    });
                }
            }
        }
    }
}

/// Maps each index of `b` (and its end) to an index of `a`, for two strings that are equal
/// except for a few replaced phrases: equal characters align, and the characters of a
/// replaced phrase spread evenly over the phrase it replaced.
fn align(a: &[char], b: &[char]) -> Vec<usize> {
    const WINDOW: usize = 12;
    let (n, m) = (a.len(), b.len());
    let mut map = vec![0usize; m + 1];
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if a[i] == b[j] {
            map[j] = i;
            i += 1;
            j += 1;
            continue;
        }
        let mut resync = None;
        'search: for d in 1..=2 * WINDOW {
            for di in 0..=d.min(WINDOW) {
                let dj = d - di;
                if dj <= WINDOW && i + di < n && j + dj < m && a[i + di] == b[j + dj] {
                    resync = Some((di, dj));
                    break 'search;
                }
            }
        }
        let Some((di, dj)) = resync else { break };
        for k in 0..dj {
            map[j + k] = i + k * di / dj;
        }
        i += di;
        j += dj;
    }
    let rest = m - j;
    for (k, slot) in map[j..m].iter_mut().enumerate() {
        *slot = (i + k * (n - i) / rest).min(n.saturating_sub(1));
    }
    map[m] = n;
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_leaves_simplified_alone() {
        assert!(matches!(fold("重设文件密码"), Cow::Borrowed(_)));
        assert_eq!(fold("重設密碼"), "重设密码");
        // Characters only: no idiom is rewritten, so nothing is read across a word boundary.
        assert_eq!(fold("節點選擇"), "节点选择");
    }

    #[test]
    fn idioms_in_both_directions() {
        let spans = idiom_spans("下載軟體與映象");
        let eq: Vec<&Vec<String>> = spans.iter().map(|s| &s.equivalents).collect();
        assert_eq!(spans.len(), 2, "{spans:?}");
        assert!(eq[0].contains(&"软件".to_string()), "{spans:?}");
        assert!(eq[1].contains(&"镜像".to_string()), "{spans:?}");
        let text = "下載軟體與映象";
        assert_eq!(&text[spans[0].from..spans[0].to], "軟體");
        let back = idiom_spans("软件");
        assert!(
            back[0].equivalents.contains(&"软体".to_string()),
            "{back:?}"
        );
        // A length-changing idiom maps back to the original text.
        let text = "擴充套件";
        let spans = idiom_spans(text);
        assert_eq!((spans[0].from, spans[0].to), (0, text.len()));
        assert!(spans[0].equivalents.contains(&"扩展".to_string()));
    }

    /// Every Han run of the sample articles, folded, and a few phrases with idioms.
    fn sample_runs() -> Vec<String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("articles");
        let mut texts = vec![
            "在叢集中下載軟體與映象".to_string(),
            "节点选择器和擴充套件元件".to_string(),
            "我们的客户支持团队每天处理数百个工单".to_string(),
        ];
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "md") {
                    texts.push(std::fs::read_to_string(path).unwrap());
                }
            }
        }
        let mut runs = Vec::new();
        for text in &texts {
            for run in super::super::script::runs(text) {
                if run.kind == super::super::script::RunKind::Han {
                    runs.push(fold(&text[run.start..run.end]).into_owned());
                }
            }
        }
        runs
    }

    #[test]
    fn scoped_dictionaries_cut_like_the_whole_one() {
        let runs = sample_runs();
        assert!(runs.len() > 50, "the sample has Chinese articles");
        let whole = full();
        for run in &runs {
            let chars: Vec<char> = run.chars().collect();
            let scoped = scoped(&chars);
            let cut = |j: &Jieba| -> Vec<String> {
                j.cut(run, true)
                    .iter()
                    .map(|t| t.word.to_string())
                    .collect()
            };
            assert_eq!(cut(&scoped), cut(whole), "{run}");
            for len in [2, 3] {
                for gram in chars.windows(len) {
                    let gram: String = gram.iter().collect();
                    assert_eq!(scoped.has_word(&gram), whole.has_word(&gram), "{gram}");
                }
            }
        }
        // Whole texts cut alike too, not just runs one at a time.
        let joined: String = runs.concat();
        let chars: Vec<char> = joined.chars().take(3000).collect();
        let text: String = chars.iter().collect();
        let words = |j: &Jieba| -> Vec<String> {
            j.cut(&text, true)
                .iter()
                .map(|t| t.word.to_string())
                .collect()
        };
        assert_eq!(words(&scoped(&chars)), words(whole));
    }

    #[test]
    fn align_spreads_replaced_phrases() {
        let a: Vec<char> = "扩充套件元件".chars().collect();
        let b: Vec<char> = "扩展组件".chars().collect();
        let map = align(&a, &b);
        assert_eq!(map.len(), b.len() + 1);
        assert_eq!(map[0], 0);
        assert_eq!(*map.last().unwrap(), a.len());
        assert!(map.windows(2).all(|w| w[0] <= w[1]), "{map:?}");
    }
}
