//! Article languages: BCP 47 tags from front matter, from the path, or from the text itself.
//!
//! Tags are compared case-insensitively and by subtag (`zh` covers `zh-cn` and `zh-hant`), so
//! kb keeps them lower-cased with `-` separators.

/// ISO 639-1 codes: a path segment is a language only if its primary subtag is one of these,
/// so folders like `docs/` or `faq/` are never taken for languages.
const ISO_639_1: &[&str] = &[
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bh",
    "bi", "bm", "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da",
    "de", "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr",
    "fy", "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz",
    "ia", "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj",
    "kk", "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln",
    "lo", "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb",
    "nd", "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa", "pi",
    "pl", "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk",
    "sl", "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti",
    "tk", "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo",
    "wa", "wo", "xh", "yi", "yo", "za", "zh", "zu",
];

/// Normalizes a language tag (`zh_CN` → `zh-cn`); `None` if it is not a plausible tag.
pub fn normalize_tag(tag: &str) -> Option<String> {
    let tag = tag.trim().replace('_', "-").to_ascii_lowercase();
    let mut parts = tag.split('-');
    let primary = parts.next()?;
    let primary_ok =
        (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase());
    let rest_ok =
        parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    (primary_ok && rest_ok).then_some(tag)
}

/// The first folder of `path` (relative, `/`-separated) that names a language.
pub fn from_path(path: &str) -> Option<String> {
    let mut segments: Vec<&str> = path.split('/').collect();
    segments.pop(); // the file name
    segments.into_iter().find_map(|segment| {
        let tag = normalize_tag(segment)?;
        let primary = tag.split('-').next()?;
        ISO_639_1.contains(&primary).then_some(tag)
    })
}

/// The language a text is written in, from its script and words (whatlang); `und` when
/// there is nothing to tell by.
pub fn detect(text: &str) -> String {
    let sample: String = text.chars().take(4000).collect();
    let Some(info) = whatlang::detect(&sample) else {
        return "und".to_string();
    };
    if info.lang() == whatlang::Lang::Cmn {
        let simplified = crate::han::fold(&sample);
        return if simplified == sample.as_str() {
            "zh-hans"
        } else {
            "zh-hant"
        }
        .to_string();
    }
    // Short texts are often misjudged within a script ("How do I reset my password?" reads
    // as Norwegian); then the script's most likely language is the better guess.
    if !info.is_reliable()
        && let Some(tag) = script_default(info.script())
    {
        return tag.to_string();
    }
    iso_639_1(info.lang())
        .map(str::to_string)
        .unwrap_or_else(|| info.lang().code().to_string())
}

fn script_default(script: whatlang::Script) -> Option<&'static str> {
    use whatlang::Script::*;
    Some(match script {
        Latin => "en",
        Arabic => "ar",
        Bengali => "bn",
        Devanagari => "hi",
        Ethiopic => "am",
        Georgian => "ka",
        Greek => "el",
        Gujarati => "gu",
        Gurmukhi => "pa",
        Hangul => "ko",
        Hebrew => "he",
        Hiragana | Katakana => "ja",
        Kannada => "kn",
        Khmer => "km",
        Malayalam => "ml",
        Myanmar => "my",
        Oriya => "or",
        Sinhala => "si",
        Tamil => "ta",
        Telugu => "te",
        Thai => "th",
        Armenian => "hy",
        _ => return None,
    })
}

pub fn iso_639_1(lang: whatlang::Lang) -> Option<&'static str> {
    use whatlang::Lang::*;
    Some(match lang {
        Epo => "eo",
        Eng => "en",
        Rus => "ru",
        Cmn => "zh",
        Spa => "es",
        Por => "pt",
        Ita => "it",
        Ben => "bn",
        Fra => "fr",
        Deu => "de",
        Ukr => "uk",
        Kat => "ka",
        Ara => "ar",
        Hin => "hi",
        Jpn => "ja",
        Heb => "he",
        Yid => "yi",
        Pol => "pl",
        Amh => "am",
        Jav => "jv",
        Kor => "ko",
        Nob => "nb",
        Dan => "da",
        Swe => "sv",
        Fin => "fi",
        Tur => "tr",
        Nld => "nl",
        Hun => "hu",
        Ces => "cs",
        Ell => "el",
        Bul => "bg",
        Bel => "be",
        Mar => "mr",
        Kan => "kn",
        Ron => "ro",
        Slv => "sl",
        Hrv => "hr",
        Srp => "sr",
        Mkd => "mk",
        Lit => "lt",
        Lav => "lv",
        Est => "et",
        Tam => "ta",
        Vie => "vi",
        Urd => "ur",
        Tha => "th",
        Guj => "gu",
        Uzb => "uz",
        Pan => "pa",
        Aze => "az",
        Ind => "id",
        Tel => "te",
        Pes => "fa",
        Mal => "ml",
        Ori => "or",
        Mya => "my",
        Nep => "ne",
        Sin => "si",
        Khm => "km",
        Tuk => "tk",
        Aka => "ak",
        Zul => "zu",
        Sna => "sn",
        Afr => "af",
        Lat => "la",
        Slk => "sk",
        Cat => "ca",
        Tgl => "tl",
        Hye => "hy",
        _ => return None,
    })
}

/// A language tag's family: Chinese by script (`zh-cn` and `zh-hans` → `zh-hans`, `zh-tw`,
/// `zh-hk` and `zh-hant` → `zh-hant`, a bare `zh` → `zh`), other languages by primary subtag
/// (`en-gb` → `en`). Readers of one family read the same articles.
pub fn family(tag: &str) -> String {
    let tag = tag.to_ascii_lowercase();
    let primary = primary(&tag);
    if primary != "zh" {
        return primary.to_string();
    }
    let subtags: Vec<&str> = tag.split(['-', '_']).skip(1).collect();
    if subtags
        .iter()
        .any(|s| matches!(*s, "hant" | "tw" | "hk" | "mo"))
    {
        "zh-hant".into()
    } else if subtags
        .iter()
        .any(|s| matches!(*s, "hans" | "cn" | "sg" | "my"))
    {
        "zh-hans".into()
    } else {
        "zh".into()
    }
}

/// The Han script a language tag's readers read: Traditional for the `zh-hant` family,
/// Simplified for `zh-hans`; `None` for a bare `zh` (either) and every other language.
pub fn han_script(tag: &str) -> Option<crate::han::HanScript> {
    use crate::han::HanScript;
    match family(tag).as_str() {
        "zh-hant" => Some(HanScript::Traditional),
        "zh-hans" => Some(HanScript::Simplified),
        _ => None,
    }
}

/// A tag's primary subtag (`zh-cn` → `zh`).
pub fn primary(tag: &str) -> &str {
    tag.split(['-', '_']).next().unwrap_or(tag)
}

/// Words from which a text is long enough for its words (not only its script) to tell its
/// language: a customer's message rather than a query.
const WORDS_TO_TELL: usize = 7;
/// whatlang's confidence from which a text's words name its language.
const MIN_CONFIDENCE: f64 = 0.5;

/// The language a reader's text (a query, a customer's message) is written in, named as one
/// of `known` (the articles' language tags) whenever the text tells which:
/// - Chinese by its characters: Traditional ones name the Traditional articles' tag (`zh-tw`,
///   else the family `zh-hant`), Simplified ones the Simplified articles' (`zh-cn`, else
///   `zh-hans`); characters both scripts write alike name the only Chinese tag, else `zh`;
/// - other scripts by the articles written in them: a Cyrillic query in a help center whose
///   only Cyrillic language is Ukrainian is Ukrainian (a single word is never weighed
///   against Belarusian or Russian, which have no articles);
/// - where several known languages share the script, a text of several words by its words
///   when whatlang is sure, else nothing.
///
/// `None` when the text says nothing (digits, a product name in a script no article uses).
pub fn of_text(text: &str, known: &[String]) -> Option<String> {
    use crate::han::{HanScript, is_han, script_of};
    let mut han = String::new();
    let mut rest = String::with_capacity(text.len());
    // Letters of other scripts than Latin: Latin words in a Chinese text are names and
    // commands (`kubectl 命令`).
    let mut other_letters = 0usize;
    for c in text.chars() {
        if is_han(c) {
            han.push(c);
        } else {
            other_letters += usize::from(c.is_alphabetic() && !c.is_ascii());
            rest.push(c);
        }
    }
    // A Chinese character says about as much as a short word.
    if !han.is_empty() && han.chars().count() * 3 >= other_letters {
        let wanted = match script_of(&han) {
            HanScript::Traditional => "zh-hant",
            HanScript::Simplified => "zh-hans",
            HanScript::Either => "zh",
        };
        let chinese: Vec<&String> = known.iter().filter(|k| primary(k) == "zh").collect();
        let tag = chinese
            .iter()
            .filter(|k| wanted == "zh" || family(k) == wanted)
            .min()
            .filter(|_| wanted != "zh" || chinese.len() == 1);
        return Some(tag.map_or_else(|| wanted.to_string(), |t| t.to_string()));
    }
    let script = whatlang::detect_script(&rest)?;
    let written: Vec<&String> = known
        .iter()
        .filter(|k| {
            script
                .langs()
                .iter()
                .any(|l| iso_639_1(*l) == Some(primary(k)))
        })
        .collect();
    let primaries: std::collections::BTreeSet<&str> = written.iter().map(|k| primary(k)).collect();
    let name = |p: &str| {
        let tags: Vec<&&String> = written.iter().filter(|k| primary(k) == p).collect();
        match tags.as_slice() {
            [one] => one.to_string(),
            _ => p.to_string(),
        }
    };
    match primaries.len() {
        0 => None,
        1 => primaries.first().map(|p| name(p)),
        _ => {
            text.split_whitespace().nth(WORDS_TO_TELL - 1)?;
            // Only a confident guess: whatlang takes some plain English for Dutch (with a
            // confidence of 0.02).
            let info = whatlang::detect(text).filter(|i| i.confidence() >= MIN_CONFIDENCE)?;
            let p = iso_639_1(info.lang())?;
            primaries.contains(p).then(|| name(p))
        }
    }
}

/// Whether an article in language `lang` passes the filter `filter` (both normalized):
/// equal, or `filter` is a leading run of `lang`'s subtags.
pub fn matches(filter: &str, lang: &str) -> bool {
    lang == filter || (lang.starts_with(filter) && lang.as_bytes().get(filter.len()) == Some(&b'-'))
}

/// Every filter that matches `lang`: `zh-hant-tw` → `zh`, `zh-hant`, `zh-hant-tw`.
pub fn prefixes(lang: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in lang.match_indices('-') {
        out.push(lang[..i].to_string());
    }
    out.push(lang.to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_normalized() {
        assert_eq!(normalize_tag("zh_CN").as_deref(), Some("zh-cn"));
        assert_eq!(normalize_tag("zh-Hant").as_deref(), Some("zh-hant"));
        assert_eq!(normalize_tag("english"), None);
        assert_eq!(normalize_tag(""), None);
    }

    #[test]
    fn path_segments() {
        assert_eq!(from_path("en/billing/refunds.md").as_deref(), Some("en"));
        assert_eq!(from_path("help/zh-Hant/a.md").as_deref(), Some("zh-hant"));
        assert_eq!(from_path("docs/faq/a.md"), None);
        assert_eq!(from_path("en.md"), None);
    }

    #[test]
    fn detection_by_text() {
        assert_eq!(detect("How do I reset my password if I forgot it?"), "en");
        assert_eq!(
            detect("Як змінити пароль облікового запису, якщо я його забув?"),
            "uk"
        );
        assert_eq!(detect("如何重设密码？请打开设置页面。"), "zh-hans");
        assert_eq!(detect("如何重設密碼？請打開設定頁面。"), "zh-hant");
        assert_eq!(detect("పాస్‌వర్డ్ మార్చడం ఎలా? సెట్టింగ్‌లు తెరవండి."), "te");
        assert_eq!(detect(""), "und");
    }

    #[test]
    fn families() {
        assert_eq!(family("zh-CN"), "zh-hans");
        assert_eq!(family("zh-tw"), "zh-hant");
        assert_eq!(family("zh-Hant-HK"), "zh-hant");
        assert_eq!(family("zh"), "zh");
        assert_eq!(family("en-GB"), "en");
    }

    #[test]
    fn han_scripts_of_tags() {
        use crate::han::HanScript;
        assert_eq!(han_script("zh-TW"), Some(HanScript::Traditional));
        assert_eq!(han_script("zh-hk"), Some(HanScript::Traditional));
        assert_eq!(han_script("zh-cn"), Some(HanScript::Simplified));
        assert_eq!(han_script("zh"), None);
        assert_eq!(han_script("en"), None);
    }

    #[test]
    fn the_language_of_a_readers_text_named_by_the_articles_tags() {
        let known: Vec<String> = ["en", "te", "uk", "zh-cn", "zh-tw"]
            .map(String::from)
            .to_vec();
        let of = |t: &str| of_text(t, &known);
        assert_eq!(of("重設密碼").as_deref(), Some("zh-tw"));
        assert_eq!(of("重设密码").as_deref(), Some("zh-cn"));
        // Characters both scripts share tell Chinese, not which.
        assert_eq!(of("退款").as_deref(), Some("zh"));
        assert_eq!(of("kubectl 创建").as_deref(), Some("zh-cn"));
        assert_eq!(of("kubectl 命令").as_deref(), Some("zh"));
        // One Cyrillic word is Ukrainian here: no Belarusian or Russian articles exist.
        assert_eq!(of("пароль").as_deref(), Some("uk"));
        assert_eq!(of("పాస్‌వర్డ్").as_deref(), Some("te"));
        assert_eq!(of("refund").as_deref(), Some("en"));
        assert_eq!(of("42"), None);
        // With one Chinese variant, shared characters are that variant; Traditional ones are
        // still Traditional (a reader its articles do not serve yet).
        let cn: Vec<String> = ["en", "zh-cn"].map(String::from).to_vec();
        assert_eq!(of_text("退款", &cn).as_deref(), Some("zh-cn"));
        assert_eq!(of_text("重設密碼", &cn).as_deref(), Some("zh-hant"));
        // Several Latin languages: a word says nothing, a message says which.
        let latin: Vec<String> = ["de", "en", "fr"].map(String::from).to_vec();
        assert_eq!(of_text("refund", &latin), None);
        assert_eq!(
            of_text(
                "Bonjour, mon moulin est arrivé cassé. Puis-je être remboursé ?",
                &latin
            )
            .as_deref(),
            Some("fr")
        );
        assert_eq!(of_text("пароль", &latin), None);
    }

    #[test]
    fn subtag_matching() {
        assert!(matches("zh", "zh-cn"));
        assert!(matches("zh", "zh-hant"));
        assert!(matches("zh-cn", "zh-cn"));
        assert!(!matches("zh-cn", "zh-tw"));
        assert!(!matches("z", "zh"));
        assert_eq!(prefixes("zh-hant-tw"), ["zh", "zh-hant", "zh-hant-tw"]);
    }
}
