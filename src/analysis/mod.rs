//! The multilingual analyzer: one tokenizer for indexing and for queries.
//!
//! This module owns how text becomes searchable terms, in every script, and nothing else
//! (which fields exist and how terms are scored belong to `index` and `search`).
//!
//! The pipeline, in the order the text meets it (after charabia: detect the script first, then
//! segment each run with the segmenter made for it):
//!
//! 1. [`script`] splits the text into runs: Han ideographs, the scripts written without spaces
//!    (Thai, Lao, Khmer, Myanmar), and everything else.
//! 2. Each run is segmented into words:
//!    - Han runs by [`chinese`]: Traditional text is folded to Simplified (with mainland idioms)
//!      *before* jieba segments it, because jieba's dictionary is Simplified; compounds also
//!      yield their dictionary sub-words (search mode), so 客户支持 and 支持 find each other;
//!    - Thai, Lao, Khmer and Myanmar runs by ICU's dictionary segmenter ([`words`]);
//!    - everything else at Unicode (UAX #29) word boundaries ([`words`]), which keeps words with
//!      combining marks (Telugu, Devanagari, Tamil …) whole.
//! 3. Words are normalized by [`normalize`] (NFKC, lower case, one apostrophe, no Latin
//!    diacritics, no Ukrainian stress marks) and stemmed by [`stem`] (English, Ukrainian).
//!
//! Every [`Token`] keeps byte offsets into the original text, so highlights are exact in every
//! script, whatever folding happened to the term.
//!
//! ```
//! use kb::analysis::{analyze_to_vec, TokenKind};
//!
//! let tokens = analyze_to_vec("Resetting passwords");
//! let words: Vec<&str> = tokens
//!     .iter()
//!     .filter(|t| t.kind == TokenKind::Word)
//!     .map(|t| t.text.as_str())
//!     .collect();
//! assert_eq!(words, ["reset", "password"]);
//! ```

pub mod bigrams;
pub mod chinese;
mod lexicon;
mod memo;
pub mod normalize;
pub mod script;
pub mod stem;
pub mod stopwords;
pub mod words;

pub use memo::memoized;
use script::RunKind;

/// Name under which [`KbTokenizer`] is registered in every tantivy index of kb.
pub const TOKENIZER_NAME: &str = "kb";

/// Bumped whenever the terms produced for the same text change: an index built by another
/// version is incompatible and gets rebuilt.
pub const ANALYZER_VERSION: u32 = 3;

/// Words longer than this (in chars) are not indexed: they are hashes, base64 or URLs.
const MAX_WORD_CHARS: usize = 48;

/// What a token is, relative to its neighbours at the same position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A word: the unit a query is made of. Stemmed where a stemmer applies.
    Word,
    /// The unstemmed form of the preceding `Word`, when stemming changed it. Lets exact forms
    /// rank above stemmed ones and gives typo tolerance and prefixes real words to work on.
    Exact,
    /// A part of a compound at the same position: a dictionary sub-word of a Chinese word
    /// (客户 in 客户支持) or a piece of a dotted/underscored identifier.
    Part,
}

/// One term of analyzed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The normalized term, as stored in the index.
    pub text: String,
    /// Byte offset of the first byte of the source text this term came from.
    pub from: usize,
    /// Byte offset one past the source text this term came from.
    pub to: usize,
    /// Word position: `Exact` and `Part` tokens share the position of their `Word`.
    pub position: usize,
    pub kind: TokenKind,
}

/// Analyzes `text`, handing each token to `sink` in text order.
pub fn analyze(text: &str, sink: &mut dyn FnMut(Token)) {
    let mut position = 0usize;
    for run in script::runs(text) {
        let slice = &text[run.start..run.end];
        match run.kind {
            RunKind::Han => chinese::segment(slice, run.start, &mut position, sink),
            RunKind::NoSpaces => words::segment_no_spaces(slice, run.start, &mut |from, to| {
                emit_word(&text[from..to], from, &mut position, sink)
            }),
            RunKind::Word => emit_word(slice, run.start, &mut position, sink),
        }
    }
}

/// Loads every dictionary and table the analyzer may need (jieba's alone takes about 100 ms),
/// so that a server's first query in any script is as fast as the others.
pub fn warm_up() {
    chinese::load();
    analyze("warm up 预热 預熱 розігрів వార్మప్ อุ่นเครื่อง", &mut |_| {});
    chinese::idiom_spans("軟體");
}

/// A title (or query) reduced to its words: what "the query is the title" compares. The index
/// stores it for every title and search computes it for every query, so it lives here, below
/// both.
pub fn title_key(text: &str) -> String {
    title_key_of(&analyze_to_vec(text))
}

/// [`title_key`] of a text from its tokens, for a caller that analyzed it already.
pub fn title_key_of(tokens: &[Token]) -> String {
    let mut key = String::new();
    for (i, t) in tokens
        .iter()
        .filter(|t| t.kind == TokenKind::Word)
        .enumerate()
    {
        if i > 0 {
            key.push(' ');
        }
        key.push_str(&t.text);
    }
    key
}

/// Convenience for tests and callers that want all tokens at once.
pub fn analyze_to_vec(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    analyze(text, &mut |t| out.push(t));
    out
}

/// What one word becomes: its term, its exact form when stemming changed it, and its
/// parts' terms; `None` when nothing of it is indexed (no position either).
#[derive(Debug, Clone)]
struct Analyzed {
    term: String,
    exact: Option<String>,
    parts: Vec<String>,
}

/// Normalizes and stems one word (a UAX #29 word or an ICU dictionary word).
fn analyze_word(word: &str) -> Option<Analyzed> {
    let norm = normalize::word(word)?;
    if norm.text.chars().count() > MAX_WORD_CHARS {
        return None;
    }
    // The normalized word is the term when stemming leaves it as it is, else the exact form.
    let stemmed = stem::stem(&norm.text, norm.script);
    let (term, exact) = if stemmed == norm.text.as_str() {
        (norm.text, None)
    } else {
        (stemmed.into_owned(), Some(norm.text))
    };
    // `node.kubernetes.io`, `term_id`: the parts are words people search for on their own.
    let parts = normalize::parts(word)
        .into_iter()
        .map(|part| stem::stem(&part.text, part.script).into_owned())
        .collect();
    Some(Analyzed { term, exact, parts })
}

/// Normalizes, stems and emits one word (a UAX #29 word or an ICU dictionary word).
fn emit_word(word: &str, from: usize, position: &mut usize, sink: &mut dyn FnMut(Token)) {
    let Some(Analyzed { term, exact, parts }) = memo::analyze_word(word, analyze_word) else {
        return;
    };
    let to = from + word.len();
    let pos = *position;
    *position += 1;
    sink(Token {
        text: term,
        from,
        to,
        position: pos,
        kind: TokenKind::Word,
    });
    if let Some(text) = exact {
        sink(Token {
            text,
            from,
            to,
            position: pos,
            kind: TokenKind::Exact,
        });
    }
    for text in parts {
        sink(Token {
            text,
            from,
            to,
            position: pos,
            kind: TokenKind::Part,
        });
    }
}

impl From<Token> for tantivy::tokenizer::Token {
    fn from(t: Token) -> Self {
        tantivy::tokenizer::Token {
            offset_from: t.from,
            offset_to: t.to,
            position: t.position,
            text: t.text,
            position_length: 1,
        }
    }
}

/// The tantivy face of [`analyze`]: registered as [`TOKENIZER_NAME`] on every index.
#[derive(Clone, Default)]
pub struct KbTokenizer {
    tokens: Vec<tantivy::tokenizer::Token>,
}

/// Token stream over the tokens [`KbTokenizer`] produced for one text.
pub struct KbTokenStream<'a> {
    tokens: &'a [tantivy::tokenizer::Token],
    next: usize,
}

impl tantivy::tokenizer::Tokenizer for KbTokenizer {
    type TokenStream<'a> = KbTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> KbTokenStream<'a> {
        self.tokens.clear();
        let tokens = &mut self.tokens;
        analyze(text, &mut |t| tokens.push(t.into()));
        KbTokenStream::new(&self.tokens)
    }
}

impl<'a> KbTokenStream<'a> {
    fn new(tokens: &'a [tantivy::tokenizer::Token]) -> Self {
        KbTokenStream { tokens, next: 0 }
    }
}

impl tantivy::tokenizer::TokenStream for KbTokenStream<'_> {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &tantivy::tokenizer::Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut tantivy::tokenizer::Token {
        unreachable!("kb's token stream is read-only: filters are part of the analyzer")
    }
}

/// Registers the analyzer on an index (tantivy does not persist tokenizers).
pub fn register(index: &tantivy::Index) {
    let tokenizers = index.tokenizers();
    tokenizers.register(TOKENIZER_NAME, KbTokenizer::default());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        analyze_to_vec(text)
            .into_iter()
            .filter(|t| t.kind == TokenKind::Word)
            .map(|t| t.text)
            .collect()
    }

    fn all(text: &str) -> Vec<String> {
        analyze_to_vec(text).into_iter().map(|t| t.text).collect()
    }

    fn assert_offsets_slice_source(text: &str) {
        for t in analyze_to_vec(text) {
            assert!(t.from < t.to && t.to <= text.len(), "{t:?} in {text:?}");
            assert!(text.is_char_boundary(t.from) && text.is_char_boundary(t.to));
        }
    }

    #[test]
    fn english_is_lowercased_and_stemmed_with_the_exact_form_kept() {
        let tokens = analyze_to_vec("Resetting Passwords");
        let texts: Vec<(&str, TokenKind, usize)> = tokens
            .iter()
            .map(|t| (t.text.as_str(), t.kind, t.position))
            .collect();
        assert_eq!(
            texts,
            [
                ("reset", TokenKind::Word, 0),
                ("resetting", TokenKind::Exact, 0),
                ("password", TokenKind::Word, 1),
                ("passwords", TokenKind::Exact, 1)
            ]
        );
        assert_eq!((tokens[2].from, tokens[2].to), (10, 19));
    }

    #[test]
    fn ukrainian_forms_share_a_stem() {
        let forms = ["пароль", "пароля", "паролем", "паролі", "паролів"];
        let stems: Vec<String> = forms.iter().map(|w| words(w).remove(0)).collect();
        assert!(stems.iter().all(|s| s == &stems[0]), "{stems:?}");
    }

    #[test]
    fn ukrainian_apostrophe_variants_are_one_character() {
        let a = words("пʼять");
        assert_eq!(a, words("п’ять"));
        assert_eq!(a, words("п'ять"));
        assert_eq!(a.len(), 1);
    }

    #[test]
    fn foreign_word_with_ukrainian_ending_is_the_foreign_word() {
        assert_eq!(words("Podʼа"), words("Pod"));
        assert_eq!(words("Deploymentʼів"), words("Deployment"));
    }

    #[test]
    fn ukrainian_stress_marks_and_ghe_are_folded() {
        assert_eq!(words("пароль"), words("паро\u{301}ль"));
        assert_eq!(words("ґанок"), words("ганок"));
    }

    #[test]
    fn telugu_words_stay_whole() {
        // సమస్య (problem) has a virama; tantivy's SimpleTokenizer cuts it in two.
        let tokens = analyze_to_vec("పాస్‌వర్డ్ సమస్య పరిష్కారం");
        let w: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(w, ["పాస్వర్డ్", "సమస్య", "పరిష్కారం"]);
        // ZWNJ is dropped from the term, so both spellings find each other.
        assert_eq!(words("పాస్‌వర్డ్"), words("పాస్వర్డ్"));
        assert_offsets_slice_source("పాస్‌వర్డ్ సమస్య");
    }

    #[test]
    fn devanagari_and_tamil_words_stay_whole() {
        assert_eq!(words("पासवर्ड बदलें"), ["पासवर्ड", "बदलें"]);
        assert_eq!(words("கடவுச்சொல்"), ["கடவுச்சொல்"]);
    }

    #[test]
    fn thai_is_segmented_into_words() {
        assert_eq!(words("เปลี่ยนรหัสผ่าน"), ["เปลี่ยน", "รหัส", "ผ่าน"]);
    }

    #[test]
    fn chinese_is_segmented_with_search_mode_parts() {
        let t = all("客户支持");
        assert!(t.contains(&"客户".to_string()), "{t:?}");
        assert!(t.contains(&"支持".to_string()), "{t:?}");
        assert_eq!(words("如何重设密码"), ["如何", "重设", "密码"]);
    }

    #[test]
    fn traditional_and_simplified_give_the_same_terms() {
        assert_eq!(words("重設密碼"), words("重设密码"));
        assert_eq!(words("帳戶"), words("账户"));
        assert_eq!(words("請求和限制"), words("请求和限制"));
    }

    #[test]
    fn traditional_offsets_point_into_the_original_text() {
        let text = "請重設您的密碼";
        let tokens = analyze_to_vec(text);
        let pw = tokens.iter().find(|t| t.text == "密码").unwrap();
        assert_eq!(&text[pw.from..pw.to], "密碼");
        assert_offsets_slice_source(text);
        assert_offsets_slice_source("擴充套件元件與記憶體設定");
    }

    #[test]
    fn mixed_scripts_in_one_text() {
        let w = words("使用kubectl命令 重启 Pod, then пароль");
        assert_eq!(w[0], "使用");
        assert!(w.contains(&"kubectl".to_string()));
        assert!(w.contains(&"命令".to_string()));
        assert!(w.contains(&"pod".to_string()));
        assert!(w.contains(&"парол".to_string()), "{w:?}");
        assert_offsets_slice_source("使用kubectl命令 重启 Pod, then пароль");
    }

    #[test]
    fn positions_increase_by_word() {
        let tokens = analyze_to_vec("客户支持 password reset");
        let positions: Vec<usize> = tokens
            .iter()
            .filter(|t| t.kind == TokenKind::Word)
            .map(|t| t.position)
            .collect();
        assert_eq!(positions, (0..positions.len()).collect::<Vec<_>>());
    }

    #[test]
    fn dotted_identifiers_yield_their_parts() {
        let t = all("node.kubernetes.io");
        assert_eq!(t[0], "node.kubernetes.io");
        assert!(t.contains(&"kubernet".to_string()), "{t:?}");
        assert!(t.contains(&"node".to_string()));
    }

    #[test]
    fn latin_diacritics_are_folded_and_fullwidth_is_ascii() {
        assert_eq!(words("Café"), words("cafe"));
        assert_eq!(words("ｋｕｂｅｃｔｌ"), words("kubectl"));
    }

    #[test]
    fn punctuation_and_syntax_produce_nothing() {
        assert!(analyze_to_vec("!!! ??? ... () [] {} ~^* \"\" 。，、").is_empty());
        assert!(analyze_to_vec("").is_empty());
    }

    #[test]
    fn very_long_words_are_skipped() {
        assert!(analyze_to_vec(&"a".repeat(200)).is_empty());
    }

    #[test]
    fn odd_unicode_never_panics_and_offsets_stay_valid() {
        let samples = [
            "\u{0}\u{1}\u{feff}a\u{200d}b",
            "e\u{301}\u{301}\u{301}",
            "🙂👍🏽 家族👨‍👩‍👧",
            "\u{10ffff}\u{e000}",
            "ﷺ ﷽",
            "ǅ İstanbul ß ẞ",
            "a'b'c ''' 'x",
            "中\u{301}文",
            "𠀀𠀁𪜀 𠮷野家",
        ];
        for s in samples {
            assert_offsets_slice_source(s);
        }
    }
}
