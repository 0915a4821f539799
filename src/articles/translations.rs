//! Translations: which articles are one article in several languages (a translation group).
//!
//! Two articles are translations of each other when they sit at the same path under another
//! language folder (`en/billing/refunds.md`, `uk/billing/refunds.md`), or when their front
//! matter gives the same `translation_key` (translations whose file names differ). A key
//! given to one article also holds its path siblings that have no key, so adding a key to
//! one file never splits it from the translations it had. Path siblings that name different
//! keys are split as the keys say; [`group`] reports that, and a group that holds two
//! articles in one language, as [`Conflict`]s for `kb check`.
//!
//! ```
//! use kb::articles::translations::{Member, group};
//! let members = [
//!     Member { path: "en/billing/refunds.md", lang: "en", key: Some("refunds") },
//!     Member { path: "uk/billing/refunds.md", lang: "uk", key: None },
//!     Member { path: "te/money-back.md", lang: "te", key: Some("refunds") },
//! ];
//! let g = group(&members);
//! assert_eq!(g.groups[0], g.groups[1]);
//! assert_eq!(g.groups[0], g.groups[2]);
//! assert!(g.conflicts.is_empty());
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::lang;

/// What grouping needs to know of an article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member<'a> {
    pub path: &'a str,
    pub lang: &'a str,
    /// Front matter `translation_key`.
    pub key: Option<&'a str>,
}

/// A translation group's identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GroupId {
    /// The articles with this `translation_key` (and their path siblings without one).
    Key(String),
    /// The articles at this path below their language folders, none with a key.
    Path(String),
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GroupId::Key(k) => write!(f, "key:{k}"),
            GroupId::Path(p) => write!(f, "path:{p}"),
        }
    }
}

/// A grouping that a writer probably did not mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// Articles at one path (translations by their location, `members`, indexes into the
    /// input) give different `translation_key`s: they are split as the keys say.
    KeysDiffer { path: String, members: Vec<usize> },
    /// A group holds several articles in one language: a reader of that language sees only
    /// one of them as the group's.
    SameLanguage {
        group: GroupId,
        lang: String,
        members: Vec<usize>,
    },
}

/// The groups of a set of articles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grouping {
    /// Each member's group, in the order given.
    pub groups: Vec<GroupId>,
    pub conflicts: Vec<Conflict>,
}

/// The path an article shares with its translations: its path without the first folder
/// that names a language (`en/billing/refunds.md` → `billing/refunds.md`); the whole path
/// when no folder names one.
pub fn path_key(path: &str) -> String {
    let mut segments: Vec<&str> = path.split('/').collect();
    let folders = segments.len().saturating_sub(1);
    match segments[..folders]
        .iter()
        .position(|s| lang::from_path(&format!("{s}/x")).is_some())
    {
        Some(i) => {
            segments.remove(i);
            segments.join("/")
        }
        None => path.to_string(),
    }
}

/// Groups `members` into translation groups (see the module's documentation).
pub fn group(members: &[Member<'_>]) -> Grouping {
    let paths: Vec<String> = members.iter().map(|m| path_key(m.path)).collect();
    // The keys given at each path.
    let mut keys_at: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (m, p) in members.iter().zip(&paths) {
        let keys = keys_at.entry(p.as_str()).or_default();
        if let Some(k) = m.key {
            keys.insert(k);
        }
    }
    let groups: Vec<GroupId> = members
        .iter()
        .zip(&paths)
        .map(|(m, p)| match m.key {
            Some(k) => GroupId::Key(k.to_string()),
            None => match keys_at
                .get(p.as_str())
                .map(|k| k.iter().collect::<Vec<_>>())
            {
                // The one key of its path siblings holds it too.
                Some(keys) if keys.len() == 1 => GroupId::Key(keys[0].to_string()),
                _ => GroupId::Path(p.clone()),
            },
        })
        .collect();

    let mut conflicts = Vec::new();
    for (path, keys) in &keys_at {
        if keys.len() > 1 {
            conflicts.push(Conflict::KeysDiffer {
                path: path.to_string(),
                members: (0..members.len())
                    .filter(|&i| paths[i] == *path && members[i].key.is_some())
                    .collect(),
            });
        }
    }
    let mut by_lang: BTreeMap<(&GroupId, &str), Vec<usize>> = BTreeMap::new();
    for (i, (m, g)) in members.iter().zip(&groups).enumerate() {
        by_lang.entry((g, m.lang)).or_default().push(i);
    }
    for ((group, lang), found) in by_lang {
        if found.len() > 1 {
            conflicts.push(Conflict::SameLanguage {
                group: group.clone(),
                lang: lang.to_string(),
                members: found,
            });
        }
    }
    Grouping { groups, conflicts }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member<'a>(path: &'a str, key: Option<&'a str>) -> Member<'a> {
        Member {
            path,
            lang: path.split('/').next().unwrap(),
            key,
        }
    }

    #[test]
    fn paths_without_their_language_folder() {
        assert_eq!(path_key("en/billing/refunds.md"), "billing/refunds.md");
        assert_eq!(path_key("help/zh-Hant/a.md"), "help/a.md");
        assert_eq!(path_key("misc/a.md"), "misc/a.md");
        assert_eq!(path_key("en.md"), "en.md");
    }

    #[test]
    fn translations_by_path_and_by_key() {
        let g = group(&[
            member("en/a.md", None),
            member("uk/a.md", None),
            member("en/b.md", None),
            member("zh-cn/c.md", Some("k")),
            member("en/d.md", Some("k")),
        ]);
        assert_eq!(g.groups[0], GroupId::Path("a.md".into()));
        assert_eq!(g.groups[0], g.groups[1]);
        assert_ne!(g.groups[0], g.groups[2]);
        assert_eq!(g.groups[3], GroupId::Key("k".into()));
        assert_eq!(g.groups[3], g.groups[4]);
        assert!(g.conflicts.is_empty());
    }

    #[test]
    fn a_key_on_one_article_keeps_its_path_siblings() {
        // Adding a key to the English article must not split it from te and zh-cn.
        let g = group(&[
            member("en/a.md", Some("alpha")),
            member("te/a.md", None),
            member("zh-cn/a.md", None),
            member("uk/other-name.md", Some("alpha")),
        ]);
        assert!(g.groups.iter().all(|x| *x == GroupId::Key("alpha".into())));
        assert!(g.conflicts.is_empty());
    }

    #[test]
    fn conflicting_keys_and_two_articles_in_one_language_are_reported() {
        let g = group(&[
            member("en/a.md", Some("x")),
            member("uk/a.md", Some("y")),
            member("te/a.md", None),
            member("en/b.md", Some("y")),
        ]);
        // Split as the keys say; the sibling without a key cannot tell which, so it keeps
        // its path.
        assert_eq!(g.groups[0], GroupId::Key("x".into()));
        assert_eq!(g.groups[1], GroupId::Key("y".into()));
        assert_eq!(g.groups[2], GroupId::Path("a.md".into()));
        assert_eq!(
            g.conflicts,
            [Conflict::KeysDiffer {
                path: "a.md".into(),
                members: vec![0, 1]
            }]
        );
        // uk/a.md (y) and en/b.md (y) are one group of two languages: no second conflict.
        assert_eq!(g.conflicts.len(), 1);
        let g = group(&[member("en/a.md", Some("z")), member("en/b.md", Some("z"))]);
        assert_eq!(
            g.conflicts,
            [Conflict::SameLanguage {
                group: GroupId::Key("z".into()),
                lang: "en".into(),
                members: vec![0, 1]
            }]
        );
    }
}
