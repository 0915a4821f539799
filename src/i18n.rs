//! kb's own words in the reader's language: the help center's interface (buttons, labels,
//! messages) and the gap report's headings and sentences.
//!
//! One TOML file per language, `locales/<tag>.toml`, sections of `key = "text"` (the report's
//! under `[report]`). The binary carries English, Simplified and Traditional Chinese,
//! Ukrainian and Telugu; a `locales/` folder beside the templates adds languages or replaces
//! texts, one file each. A missing text falls back to English. `{name}` in a text is filled
//! from arguments: `t("search.results_for", query=q)` in a template. A text that depends on a
//! count has plural forms named by the language's rules ([`plural_category`]): `key_one`,
//! `key_few`, `key_many`, and `key` for the rest.
//!
//! This module knows nothing of pages or reports: the web layer and the report both use it.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// The built-in locales.
const BUILT_IN: &[(&str, &str)] = &[
    ("en", include_str!("../templates/locales/en.toml")),
    ("zh-cn", include_str!("../templates/locales/zh-cn.toml")),
    ("zh-tw", include_str!("../templates/locales/zh-tw.toml")),
    ("uk", include_str!("../templates/locales/uk.toml")),
    ("te", include_str!("../templates/locales/te.toml")),
];

/// The built-in locales alone, loaded once (commands that have no templates folder).
pub fn built_in() -> Arc<Locales> {
    static LOCALES: OnceLock<Arc<Locales>> = OnceLock::new();
    LOCALES
        .get_or_init(|| {
            let (locales, problems) = Locales::load(None);
            for p in problems {
                tracing::warn!("locales: {p}");
            }
            Arc::new(locales)
        })
        .clone()
}

/// The plural category of `n` in a language (CLDR's rules for integers): `one`, `few`,
/// `many` or `other`.
pub fn plural_category(tag: &str, n: u64) -> &'static str {
    let primary = tag.split(['-', '_']).next().unwrap_or(tag);
    match primary.to_ascii_lowercase().as_str() {
        // No plural forms.
        "zh" | "ja" | "ko" | "th" | "vi" | "id" | "ms" => "other",
        // East Slavic: 1, 21, 31 …; 2–4, 22–24 …; the rest.
        "uk" | "ru" | "be" => match (n % 10, n % 100) {
            (1, m) if m != 11 => "one",
            (2..=4, m) if !(12..=14).contains(&m) => "few",
            _ => "many",
        },
        // English, Telugu and most others: one and the rest.
        _ if n == 1 => "one",
        _ => "other",
    }
}

/// The language every other falls back to.
pub const DEFAULT: &str = "en";

/// Every locale's texts, by tag then `section.key`.
#[derive(Debug, Default)]
pub struct Locales {
    tables: BTreeMap<String, HashMap<String, String>>,
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            toml::Value::Table(t) => flatten(&key, t, out),
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
}

impl Locales {
    /// The built-in locales, then those of `dir` (`*.toml`), which add languages or replace
    /// texts. Unreadable files are reported and skipped.
    pub fn load(dir: Option<&Path>) -> (Locales, Vec<String>) {
        let mut locales = Locales::default();
        let mut problems = Vec::new();
        for (tag, text) in BUILT_IN {
            if let Err(e) = locales.add(tag, text) {
                problems.push(format!("built-in locale {tag}: {e}"));
            }
        }
        if let Some(dir) = dir
            && let Ok(entries) = std::fs::read_dir(dir)
        {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_none_or(|e| e != "toml") {
                    continue;
                }
                let Some(tag) = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .and_then(crate::articles::lang::normalize_tag)
                else {
                    problems.push(format!(
                        "{}: the file name must be a language tag, like uk.toml",
                        path.display()
                    ));
                    continue;
                };
                match std::fs::read_to_string(&path) {
                    Ok(text) => {
                        if let Err(e) = locales.add(&tag, &text) {
                            problems.push(format!("{}: {e}", path.display()));
                        }
                    }
                    Err(e) => problems.push(format!("{}: {e}", path.display())),
                }
            }
        }
        (locales, problems)
    }

    fn add(&mut self, tag: &str, text: &str) -> Result<(), String> {
        let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut flat = HashMap::new();
        flatten("", &table, &mut flat);
        self.tables.entry(tag.to_string()).or_default().extend(flat);
        Ok(())
    }

    /// The tags of every locale.
    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.tables.keys().map(String::as_str)
    }

    /// The text of `key` in `tag`, else in English.
    pub fn text(&self, tag: &str, key: &str) -> Option<&str> {
        self.own(tag, key).or_else(|| self.own(DEFAULT, key))
    }

    /// The text of `key` in `tag` itself, without falling back.
    fn own(&self, tag: &str, key: &str) -> Option<&str> {
        self.tables
            .get(tag)
            .and_then(|t| t.get(key))
            .map(String::as_str)
    }

    /// The text of `key` for a count of `n` in `tag`: the plural form the language's rules
    /// ask for (`key_one`, `key_few`, `key_many`), else `key`; English's when `tag` has
    /// neither.
    pub fn plural(&self, tag: &str, key: &str, n: u64) -> Option<&str> {
        let form = |tag: &str| {
            let category = plural_category(tag, n);
            let specific = (category != "other")
                .then(|| self.own(tag, &format!("{key}_{category}")))
                .flatten();
            specific.or_else(|| self.own(tag, key))
        };
        form(tag).or_else(|| form(DEFAULT))
    }

    /// A calendar day as language `tag` writes it in running text ("September 2, 2025",
    /// "2025年9月2日", "2 вересня 2025 р."), from `date.long` and `date.month_1` …
    /// `date.month_12`. `date` is `YYYY-MM-DD` (or a longer time starting with one);
    /// anything else is shown as written.
    pub fn date(&self, tag: &str, date: &str) -> String {
        let parts: Option<(i32, u8, u8)> = (|| {
            let day = date.get(..10)?;
            let mut it = day.split('-');
            let y = it.next()?.parse().ok()?;
            let m = it.next()?.parse().ok()?;
            let d = it.next()?.parse().ok()?;
            ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y, m, d))
        })();
        let Some((year, month, day)) = parts else {
            return date.to_string();
        };
        let (Some(long), Some(name)) = (
            self.text(tag, "date.long"),
            self.text(tag, &format!("date.month_{month}")),
        ) else {
            return date[..10].to_string();
        };
        fill(
            long,
            &[
                ("year", year.to_string()),
                ("month", name.to_string()),
                ("day", day.to_string()),
            ],
        )
    }

    /// A language's name in that language (`language.name`), for switchers.
    pub fn name(&self, tag: &str) -> String {
        match self.tables.get(tag).and_then(|t| t.get("language.name")) {
            Some(n) => n.clone(),
            None => tag.to_string(),
        }
    }

    /// The name of a family of language variants (`zh` → 中文): a locale of the family's own
    /// `language.family`, else its `language.name`; `None` without such a locale.
    pub fn family_name(&self, primary: &str) -> Option<String> {
        self.tables
            .iter()
            .filter(|(tag, _)| tag.split('-').next() == Some(primary))
            .find_map(|(_, t)| t.get("language.family").or_else(|| t.get("language.name")))
            .cloned()
    }

    /// The locale for a content language tag: itself, its script or region variant of
    /// Chinese, its primary language, else English.
    pub fn best(&self, tag: &str) -> String {
        let tag = tag.to_ascii_lowercase();
        if self.tables.contains_key(&tag) {
            return tag;
        }
        let mut parts = tag.split('-');
        let primary = parts.next().unwrap_or("");
        if primary == "zh" {
            let traditional = tag
                .split('-')
                .skip(1)
                .any(|p| matches!(p, "hant" | "tw" | "hk" | "mo"));
            let want = if traditional { "zh-tw" } else { "zh-cn" };
            if self.tables.contains_key(want) {
                return want.to_string();
            }
        }
        if self.tables.contains_key(primary) {
            return primary.to_string();
        }
        if let Some(t) = self
            .tables
            .keys()
            .find(|t| t.split('-').next() == Some(primary))
        {
            return t.clone();
        }
        DEFAULT.to_string()
    }

    /// The best locale for an `Accept-Language` header, if it names one we have.
    pub fn negotiate(&self, accept_language: &str) -> Option<String> {
        preferences(accept_language).into_iter().find_map(|tag| {
            let best = self.best(&tag);
            (best != DEFAULT || tag.starts_with(DEFAULT)).then_some(best)
        })
    }
}

/// The tags of an `Accept-Language` header, most wanted first (`*` and q=0 dropped).
pub fn preferences(accept_language: &str) -> Vec<String> {
    let mut prefs: Vec<(f32, usize, String)> = accept_language
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut pieces = part.split(';');
            let tag = pieces.next()?.trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (q > 0.0 && !tag.is_empty() && tag != "*").then_some((q, i, tag))
        })
        .collect();
    prefs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    prefs.into_iter().map(|(_, _, t)| t).collect()
}

/// Fills `{name}` placeholders, in one pass: a value that itself contains `{name}` (a query
/// someone typed) is left as it is. Unknown placeholders stay.
pub fn fill(text: &str, args: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            let (_, v) = args.iter().find(|(k, _)| *k == name)?;
            Some((v, close))
        });
        match value {
            Some((v, close)) => {
                out.push_str(v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locales() -> Locales {
        Locales::load(None).0
    }

    #[test]
    fn dates_are_written_in_each_interface_language() {
        let l = locales();
        for (tag, want) in [
            ("en", "September 2, 2025"),
            ("zh-cn", "2025年9月2日"),
            ("zh-tw", "2025年9月2日"),
            ("uk", "2 вересня 2025 р."),
            ("te", "2 సెప్టెంబర్, 2025"),
        ] {
            assert_eq!(l.date(tag, "2025-09-02"), want, "{tag}");
        }
        // A time is a day too; anything else is shown as written.
        assert_eq!(l.date("en", "2025-09-02T10:00:00Z"), "September 2, 2025");
        for odd in ["yesterday", "2025-13-01", "2025-09", ""] {
            assert_eq!(l.date("uk", odd), odd);
        }
    }

    /// Whether `key` is a plural form of another English key of the report, such as
    /// `report.why.flagged_one` beside `report.why.flagged`: forms are each language's own.
    fn plural_form(english: &HashMap<String, String>, key: &str) -> bool {
        key.starts_with("report.")
            && ["_one", "_few", "_many"].iter().any(|suffix| {
                key.strip_suffix(suffix)
                    .is_some_and(|base| english.contains_key(base))
            })
    }

    #[test]
    fn every_built_in_locale_has_every_english_key() {
        let l = locales();
        let english: Vec<&String> = l.tables[DEFAULT]
            .keys()
            .filter(|k| !plural_form(&l.tables[DEFAULT], k))
            .collect();
        for (tag, table) in &l.tables {
            let missing: Vec<&&String> = english
                .iter()
                .filter(|k| !table.contains_key(**k))
                .collect();
            assert!(missing.is_empty(), "{tag} lacks {missing:?}");
            assert!(table.get("language.name").is_some_and(|n| !n.is_empty()));
        }
        assert_eq!(l.tables.len(), 5);
    }

    #[test]
    fn content_languages_map_to_locales() {
        let l = locales();
        assert_eq!(l.best("zh-hant"), "zh-tw");
        assert_eq!(l.best("zh-hk"), "zh-tw");
        assert_eq!(l.best("zh"), "zh-cn");
        assert_eq!(l.best("zh-hans-sg"), "zh-cn");
        assert_eq!(l.best("en-gb"), "en");
        assert_eq!(l.best("uk"), "uk");
        assert_eq!(l.best("th"), "en");
    }

    #[test]
    fn accept_language_is_negotiated() {
        let l = locales();
        assert_eq!(
            l.negotiate("uk-UA,uk;q=0.9,en;q=0.8").as_deref(),
            Some("uk")
        );
        assert_eq!(l.negotiate("fr-FR, zh-TW;q=0.5").as_deref(), Some("zh-tw"));
        assert_eq!(l.negotiate("de;q=1, en;q=0.1").as_deref(), Some("en"));
        assert_eq!(l.negotiate("fr"), None);
        assert_eq!(preferences("en;q=0, te, uk;q=0.3"), ["te", "uk"]);
    }

    #[test]
    fn a_locales_folder_adds_and_overrides() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("de.toml"),
            "[language]\nname = \"Deutsch\"\n[search]\nbutton = \"Suchen\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("en.toml"), "[search]\nbutton = \"Find\"\n").unwrap();
        std::fs::write(dir.path().join("notes.toml"), "x = [").unwrap();
        let (l, problems) = Locales::load(Some(dir.path()));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(l.text("de", "search.button"), Some("Suchen"));
        assert_eq!(l.text("en", "search.button"), Some("Find"));
        // Texts a new language lacks fall back to English.
        assert_eq!(l.text("de", "feedback.yes"), l.text("en", "feedback.yes"));
        assert_eq!(l.name("de"), "Deutsch");
        assert_eq!(l.family_name("zh").as_deref(), Some("中文"));
        assert_eq!(l.family_name("de").as_deref(), Some("Deutsch"));
        assert_eq!(l.family_name("xx"), None);
    }

    #[test]
    fn placeholders() {
        assert_eq!(
            fill("Results for “{query}”", &[("query", "x".into())]),
            "Results for “x”"
        );
        // What readers typed is not a template.
        assert_eq!(
            fill(
                "{a} and {b}, {c}",
                &[("a", "{b}".into()), ("b", "B".into())]
            ),
            "{b} and B, {c}"
        );
        assert_eq!(fill("{", &[]), "{");
    }

    #[test]
    fn plural_forms_follow_each_languages_rules() {
        assert_eq!(plural_category("en", 1), "one");
        assert_eq!(plural_category("en", 0), "other");
        assert_eq!(plural_category("uk", 21), "one");
        assert_eq!(plural_category("uk", 11), "many");
        assert_eq!(plural_category("uk", 23), "few");
        assert_eq!(plural_category("uk", 13), "many");
        assert_eq!(plural_category("zh-tw", 1), "other");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("uk.toml"),
            "[x]\nfiles_one = \"{n} файл\"\nfiles_few = \"{n} файли\"\nfiles = \"{n} файлів\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("en.toml"),
            "[x]\nfiles_one = \"{n} file\"\nfiles = \"{n} files\"\n",
        )
        .unwrap();
        let (l, _) = Locales::load(Some(dir.path()));
        assert_eq!(l.plural("uk", "x.files", 22), Some("{n} файли"));
        assert_eq!(l.plural("uk", "x.files", 5), Some("{n} файлів"));
        assert_eq!(l.plural("uk", "x.files", 1), Some("{n} файл"));
        assert_eq!(l.plural("en", "x.files", 1), Some("{n} file"));
        // A language without the text at all takes English's form for the count.
        assert_eq!(l.plural("te", "x.files", 1), Some("{n} file"));
        assert_eq!(l.plural("zh-cn", "x.files", 2), Some("{n} files"));
    }
}
