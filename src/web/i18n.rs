//! The help center's own words (buttons, labels, messages) in the reader's language.
//!
//! One TOML file per language, `locales/<tag>.toml`, sections of `key = "text"`. The binary
//! carries English, Simplified and Traditional Chinese, Ukrainian and Telugu; a
//! `locales/` folder beside the templates adds languages or replaces texts, one file each.
//! A missing text falls back to English. `{name}` in a text is filled from the template's
//! arguments: `t("search.results_for", query=q)`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The built-in locales.
const BUILT_IN: &[(&str, &str)] = &[
    ("en", include_str!("../../templates/locales/en.toml")),
    ("zh-cn", include_str!("../../templates/locales/zh-cn.toml")),
    ("zh-tw", include_str!("../../templates/locales/zh-tw.toml")),
    ("uk", include_str!("../../templates/locales/uk.toml")),
    ("te", include_str!("../../templates/locales/te.toml")),
];

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
        self.tables
            .get(tag)
            .and_then(|t| t.get(key))
            .or_else(|| self.tables.get(DEFAULT).and_then(|t| t.get(key)))
            .map(String::as_str)
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

/// Fills `{name}` placeholders.
pub fn fill(text: &str, args: &[(&str, String)]) -> String {
    let mut out = text.to_string();
    for (k, v) in args {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locales() -> Locales {
        Locales::load(None).0
    }

    #[test]
    fn every_built_in_locale_has_every_english_key() {
        let l = locales();
        let english: Vec<&String> = l.tables[DEFAULT].keys().collect();
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
    }
}
