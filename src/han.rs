//! The Han script: folding Chinese text to Simplified characters (OpenCC's `t2s`) and telling
//! which script a text is written in.
//!
//! Below both [`crate::articles`] (an article's language, `zh-hans` or `zh-hant`, is told by
//! its characters) and [`crate::analysis`] (which folds every Han run before jieba cuts it),
//! so neither has to reach up into the other.

use std::borrow::Cow;
use std::sync::LazyLock;

use ferrous_opencc::OpenCC;
use ferrous_opencc::config::BuiltinConfig;

static T2S: LazyLock<OpenCC> = LazyLock::new(|| {
    OpenCC::from_config(BuiltinConfig::T2s).expect("OpenCC's built-in t2s tables load")
});
/// Folds Han text to Simplified characters; borrowed when nothing changes.
pub fn fold(run: &str) -> Cow<'_, str> {
    let simplified = T2S.convert(run);
    if simplified == run {
        Cow::Borrowed(run)
    } else {
        Cow::Owned(simplified)
    }
}

static S2T: LazyLock<OpenCC> = LazyLock::new(|| {
    OpenCC::from_config(BuiltinConfig::S2t).expect("OpenCC's built-in s2t tables load")
});

/// Which Chinese script a text is written in, as far as its characters tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HanScript {
    /// Characters only Traditional texts use (重設密碼).
    Traditional,
    /// Characters only Simplified texts use (重设密码).
    Simplified,
    /// Characters both write alike (退款), or no Han at all.
    Either,
}

/// The script of a Han text: Traditional when folding it to Simplified changes it,
/// Simplified when converting it to Traditional does.
pub fn script_of(text: &str) -> HanScript {
    if fold(text) != text {
        HanScript::Traditional
    } else if S2T.convert(text) != text {
        HanScript::Simplified
    } else {
        HanScript::Either
    }
}

/// The CJK Unified Ideographs assigned since Unicode 11, so in every table: most Chinese
/// text, told Han without searching Unicode's tables.
pub const COMMON_IDEOGRAPHS: std::ops::RangeInclusive<char> = '\u{4E00}'..='\u{9FEF}';

/// Whether `c` is a Han character (Unicode's Han script).
pub fn is_han(c: char) -> bool {
    use unicode_script::{Script, UnicodeScript};
    COMMON_IDEOGRAPHS.contains(&c) || c.script() == Script::Han
}
