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
        let simplified = crate::analysis::chinese::fold(&sample);
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
    fn subtag_matching() {
        assert!(matches("zh", "zh-cn"));
        assert!(matches("zh", "zh-hant"));
        assert!(matches("zh-cn", "zh-cn"));
        assert!(!matches("zh-cn", "zh-tw"));
        assert!(!matches("z", "zh"));
        assert_eq!(prefixes("zh-hant-tw"), ["zh", "zh-hant", "zh-hant-tw"]);
    }
}
