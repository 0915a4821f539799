//! Chinese: Traditional → Simplified folding, then jieba word segmentation with search-mode
//! sub-words.
//!
//! Folding comes first because jieba's dictionary is Simplified: segmenting Traditional text
//! and folding the pieces afterwards (what Meilisearch does) cuts Traditional words into single
//! characters. A run that contains Traditional characters is converted with OpenCC's `tw2sp`
//! tables, which also turn Taiwan idioms into mainland ones (軟體 → 软件, 網路 → 网络), so a
//! reader in Taipei finds articles written in Beijing. Runs without Traditional characters
//! are left alone: converting idioms in Simplified text would merge words that differ there
//! (文件 "file" and 文档 "document").
//!
//! Folding may change the length of a phrase (擴充套件 → 扩展), so the folded text is aligned
//! back to the original and every token keeps offsets into the original text.

use std::borrow::Cow;
use std::sync::LazyLock;

use ferrous_opencc::OpenCC;
use ferrous_opencc::config::BuiltinConfig;
use jieba_rs::Jieba;

use super::{Token, TokenKind};

static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);
static T2S: LazyLock<OpenCC> = LazyLock::new(|| {
    OpenCC::from_config(BuiltinConfig::T2s).expect("OpenCC's built-in t2s tables load")
});
static TW2SP: LazyLock<OpenCC> = LazyLock::new(|| {
    OpenCC::from_config(BuiltinConfig::Tw2sp).expect("OpenCC's built-in tw2sp tables load")
});

/// Folds a run of Han text to Simplified Chinese with mainland idioms; unchanged when it has
/// no Traditional characters.
pub fn fold(run: &str) -> Cow<'_, str> {
    let simplified = T2S.convert(run);
    if simplified == run {
        Cow::Borrowed(run)
    } else {
        Cow::Owned(TW2SP.convert(run))
    }
}

/// Variant spellings that OpenCC's tables keep apart but mainland help texts treat as one word
/// (帳戶 folds to 帐户, while mainland articles write 账户). Applied to every token, whatever its
/// script, so it is idempotent: both spellings become the second one.
const VARIANTS: &[(&str, &str)] = &[
    ("帐户", "账户"),
    ("帐号", "账号"),
    ("帐单", "账单"),
    ("帐目", "账目"),
    ("帐本", "账本"),
    ("登入", "登录"),
    ("软体", "软件"),
    ("网路", "网络"),
    ("资料库", "数据库"),
    ("伺服器", "服务器"),
    ("预设", "默认"),
    ("使用者", "用户"),
];

fn canonical(word: &str) -> &str {
    VARIANTS
        .iter()
        .find(|(variant, _)| *variant == word)
        .map_or(word, |(_, canon)| canon)
}

/// Segments a run of Han text starting at byte `base` of the whole text.
pub fn segment(run: &str, base: usize, position: &mut usize, sink: &mut dyn FnMut(Token)) {
    // Byte offset (within `run`) of each original char, plus the end.
    let mut orig_bytes: Vec<usize> = run.char_indices().map(|(i, _)| i).collect();
    let n = orig_bytes.len();
    orig_bytes.push(run.len());

    let folded = fold(run);
    let folded_chars: Vec<char> = folded.chars().collect();
    let m = folded_chars.len();
    // For each folded char index (and the end), the original char index.
    let to_orig: Vec<usize> = if m == n {
        (0..=n).collect()
    } else {
        let reference: Vec<char> = {
            let chars: Vec<char> = T2S.convert(run).chars().collect();
            if chars.len() == n {
                chars
            } else {
                run.chars().collect()
            }
        };
        align(&reference, &folded_chars)
    };
    let span = |start: usize, end: usize| {
        let from = to_orig[start];
        let to = to_orig[end].max((from + 1).min(n));
        (base + orig_bytes[from], base + orig_bytes[to])
    };

    for token in JIEBA.cut(&folded, true) {
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
                if JIEBA.has_word(&sub) {
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
