//! Translation groups as the index knows them: each article's group, computed over every
//! article of the index whenever the catalog is re-read (a group depends on the other
//! articles: a `translation_key` on one file holds its path siblings), and, for the search
//! that collapses results into groups, the group of each document of the searcher the
//! catalog was read from.
//!
//! The rules are [`crate::articles::translations`]'; this module only applies them to the
//! index's documents.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::DocId;
use tantivy::index::SegmentId;

use super::{Catalog, Entry, Map, Shown, Translation};
use crate::articles::translations::{self, Member};

/// A translation group's number in one catalog.
pub type GroupNo = u32;

/// The translation groups of a catalog.
#[derive(Debug, Default)]
pub(super) struct Groups {
    /// Each group's members (paths), in path order.
    members: Vec<Vec<String>>,
    /// Each group's members (paths) by language, then path: the order of
    /// [`Catalog::translations`], sorted once here rather than for every search result.
    by_lang: Vec<Vec<String>>,
    by_path: Map<String, GroupNo>,
    /// Per segment: each document's group, [`NO_GROUP`] for deleted ones.
    docs: Map<SegmentId, Arc<[GroupNo]>>,
    /// Per segment: each document's path's place in the catalog's paths in byte order,
    /// [`NO_RANK`] for deleted ones ([`Catalog::path_ranks`]).
    ranks: Map<SegmentId, Arc<[u32]>>,
    /// Each article's document, for the search to tell a group's members apart without
    /// reading their paths back from the index.
    places: Map<String, (SegmentId, DocId)>,
    /// Each group's served members with their documents ([`Catalog::placed_members`]),
    /// listed once per catalog: every grouped search asks it of each group on its page.
    pub(super) placed: std::sync::OnceLock<Vec<Vec<Placed>>>,
}

/// A served member of a group, with what a search choosing the member to show needs of it
/// (shared with its entry, not copied), and its document, if the searcher has it. A
/// search reads these rather than the entries: each entry is a look-up by path in the
/// catalog's map, and a page of groups looked up a few dozen paths, each a few cache
/// misses away (the map, the key's text, the entry) once the machine has done other work
/// between two searches.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    pub path: Arc<str>,
    pub lang: Arc<str>,
    pub draft: bool,
    pub place: Option<(SegmentId, DocId)>,
}

/// The group of a document that is not an article of the catalog (deleted).
pub const NO_GROUP: GroupNo = GroupNo::MAX;

/// The path rank of a document that is not an article of the catalog (deleted).
pub const NO_RANK: u32 = u32::MAX;

impl Catalog {
    /// Groups the catalog's articles into translation groups and notes each document's
    /// group (`docs`: segment, document, path, for every live document).
    pub(super) fn group(&mut self, docs: &[(SegmentId, DocId, String)]) {
        let mut paths: Vec<&Arc<str>> = self.entries.keys().collect();
        paths.sort();
        let members: Vec<Member<'_>> = paths
            .iter()
            .map(|p| {
                let e = &self.entries[*p];
                Member {
                    path: &e.path,
                    lang: &e.lang,
                    key: e.translation_key.as_deref(),
                }
            })
            .collect();
        let grouping = translations::group(&members);
        // Each path's place in byte order.
        let rank_of: HashMap<Arc<str>, u32> = paths
            .iter()
            .enumerate()
            .map(|(i, p)| (Arc::clone(p), i as u32))
            .collect();
        let mut numbers: HashMap<&translations::GroupId, GroupNo> = HashMap::new();
        let mut groups = Groups::default();
        let mut named: Vec<(String, String)> = Vec::with_capacity(paths.len());
        for (path, id) in paths.iter().zip(&grouping.groups) {
            let next = numbers.len() as GroupNo;
            let n = *numbers.entry(id).or_insert(next);
            if n as usize == groups.members.len() {
                groups.members.push(Vec::new());
            }
            groups.members[n as usize].push(path.to_string());
            groups.by_path.insert(path.to_string(), n);
            named.push((path.to_string(), id.to_string()));
        }
        for (path, id) in named {
            if let Some(e) = self.entries.get_mut(path.as_str()) {
                e.translation = id;
            }
        }
        groups.by_lang = groups
            .members
            .iter()
            .map(|paths| {
                let mut v = paths.clone();
                v.sort_by(|a, b| {
                    (&*self.entries[a.as_str()].lang, a).cmp(&(&*self.entries[b.as_str()].lang, b))
                });
                v
            })
            .collect();
        let mut per_segment: HashMap<SegmentId, (Vec<GroupNo>, Vec<u32>)> = HashMap::new();
        for (segment, doc, path) in docs {
            let Some(&n) = groups.by_path.get(path) else {
                continue;
            };
            groups.places.insert(path.clone(), (*segment, *doc));
            let (list, ranks) = per_segment.entry(*segment).or_default();
            let i = *doc as usize;
            if list.len() <= i {
                list.resize(i + 1, NO_GROUP);
                ranks.resize(i + 1, NO_RANK);
            }
            list[i] = n;
            ranks[i] = rank_of.get(path.as_str()).copied().unwrap_or(NO_RANK);
        }
        for (segment, (list, ranks)) in per_segment {
            groups.docs.insert(segment, Arc::from(list));
            groups.ranks.insert(segment, Arc::from(ranks));
        }
        self.groups = groups;
        self.shown = Default::default();
    }

    /// The other-language versions of the article at `path` as search results list them
    /// ([`Catalog::translations`]' order), with whether each is a draft: made once per
    /// catalog, each result then shares them (a reference count each).
    pub fn shown_translations(
        &self,
        path: &str,
    ) -> impl Iterator<Item = (&Arc<Translation>, bool)> {
        let shown = self.shown.get_or_init(|| {
            (0..self.groups.by_lang.len())
                .map(|g| {
                    self.group_by_lang(g as GroupNo)
                        .map(|e| Shown {
                            translation: Arc::new(Translation {
                                lang: e.lang.clone(),
                                url: e.url.clone(),
                                title: e.title.clone(),
                                path: e.path.clone(),
                            }),
                            draft: e.draft,
                        })
                        .collect()
                })
                .collect()
        });
        self.group_of(path)
            .and_then(|g| shown.get(g as usize))
            .into_iter()
            .flatten()
            .filter(move |s| &*s.translation.path != path)
            .map(|s| (&s.translation, s.draft))
    }

    /// The translation group of the article at `path`.
    pub fn group_of(&self, path: &str) -> Option<GroupNo> {
        self.groups.by_path.get(path).copied()
    }

    /// The articles of a translation group, in path order.
    pub fn group_members(&self, group: GroupNo) -> impl Iterator<Item = &Entry> {
        self.groups
            .members
            .get(group as usize)
            .into_iter()
            .flatten()
            .filter_map(|p| self.entries.get(p.as_str()))
            .filter(|e| !self.is_hidden(e))
    }

    /// The served articles of a translation group, in path order, each with its language,
    /// whether it is a draft, and its document (segment and id) in the searcher the catalog
    /// was read from: what [`Catalog::group_members`] and [`Catalog::place_of`] give, listed
    /// once per catalog, without looking up each member's entry by its path (nor in the list
    /// of hidden articles) at every asking.
    pub fn placed_members(&self, group: GroupNo) -> &[Placed] {
        let placed = self.groups.placed.get_or_init(|| {
            (0..self.groups.members.len())
                .map(|g| {
                    self.group_members(g as GroupNo)
                        .map(|e| Placed {
                            path: e.path.clone(),
                            lang: e.lang.clone(),
                            draft: e.draft,
                            place: self.place_of(&e.path),
                        })
                        .collect()
                })
                .collect()
        });
        placed.get(group as usize).map_or(&[], Vec::as_slice)
    }

    /// The articles of a translation group (those served), by language, then path.
    pub(super) fn group_by_lang(&self, group: GroupNo) -> impl Iterator<Item = &Entry> {
        self.groups
            .by_lang
            .get(group as usize)
            .into_iter()
            .flatten()
            .filter_map(|p| self.entries.get(p.as_str()))
            .filter(|e| !self.is_hidden(e))
    }

    /// Each document's translation group in a segment of the searcher the catalog was read
    /// from (by document id; [`NO_GROUP`] for deleted documents); `None` for a segment it
    /// has not seen (a searcher newer than the catalog).
    pub fn segment_groups(&self, segment: SegmentId) -> Option<Arc<[GroupNo]>> {
        self.groups.docs.get(&segment).cloned()
    }

    /// Each document of a segment's path's place among the catalog's paths in byte order
    /// ([`NO_RANK`] for one the catalog does not know): paths compared without reading them.
    pub fn path_ranks(&self, segment: SegmentId) -> Option<Arc<[u32]>> {
        self.groups.ranks.get(&segment).cloned()
    }

    /// The document of the article at `path` (its segment and id) in the searcher the
    /// catalog was read from.
    pub fn place_of(&self, path: &str) -> Option<(SegmentId, DocId)> {
        self.groups.places.get(path).copied()
    }

    /// How many translation groups there are.
    pub fn group_count(&self) -> usize {
        self.groups.members.len()
    }
}

#[cfg(test)]
mod tests {
    use super::super::SearchIndex;
    use super::super::writer::{open_writer, sync};

    fn write(dir: &std::path::Path, path: &str, text: &str) {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn groups_follow_the_articles_and_each_document_knows_its_own() {
        let articles = tempfile::tempdir().unwrap();
        let a = articles.path();
        write(a, "en/refunds.md", "# Refunds");
        write(a, "uk/refunds.md", "# Повернення");
        write(a, "en/other.md", "# Other");
        let idx = SearchIndex::in_memory().unwrap();
        let mut w = open_writer(&idx).unwrap();
        sync(&idx, &mut w, a, &Default::default()).unwrap();
        let c = idx.catalog();
        assert_eq!(c.group_count(), 2);
        assert_eq!(c.group_of("en/refunds.md"), c.group_of("uk/refunds.md"));
        let tr: Vec<&str> = c
            .translations("en/refunds.md")
            .iter()
            .map(|e| &*e.path)
            .collect();
        assert_eq!(tr, ["uk/refunds.md"]);
        // The languages, most articles first, as the counted list has them.
        assert_eq!(c.language_tags(), ["en", "uk"]);
        assert_eq!(c.source_language(false), Some("en"));

        // A key on one file keeps its path sibling and brings in another file.
        write(
            a,
            "en/refunds.md",
            "---\ntranslation_key: money\n---\n# Refunds",
        );
        write(
            a,
            "te/money-back.md",
            "---\ntranslation_key: money\n---\n# Te",
        );
        sync(&idx, &mut w, a, &Default::default()).unwrap();
        let c = idx.catalog();
        let mut tr: Vec<&str> = c
            .translations("en/refunds.md")
            .iter()
            .map(|e| &*e.path)
            .collect();
        tr.sort();
        assert_eq!(tr, ["te/money-back.md", "uk/refunds.md"]);
        assert_eq!(c.get("uk/refunds.md").unwrap().translation, "key:money");

        // Every live document maps to its article's group, and its path's rank orders the
        // documents (of every segment) as their paths.
        let searcher = idx.reader.searcher();
        let mut seen = Vec::new();
        for segment in searcher.segment_readers() {
            let groups = c.segment_groups(segment.segment_id()).unwrap();
            let ranks = c.path_ranks(segment.segment_id()).unwrap();
            let paths = segment.fast_fields().str("path").unwrap().unwrap();
            for doc in segment.doc_ids_alive() {
                let mut path = String::new();
                let ord = paths.term_ords(doc).next().unwrap();
                paths.ord_to_str(ord, &mut path).unwrap();
                assert_eq!(Some(groups[doc as usize]), c.group_of(&path));
                assert_ne!(ranks[doc as usize], super::NO_RANK);
                seen.push((ranks[doc as usize], path));
            }
        }
        assert_eq!(seen.len(), 4);
        seen.sort();
        assert!(seen.windows(2).all(|w| w[0].1 < w[1].1), "{seen:?}");
        // Each group's placed members are its members with their places.
        for g in 0..c.group_count() as super::GroupNo {
            let members: Vec<_> = c
                .group_members(g)
                .map(|e| super::Placed {
                    path: e.path.clone(),
                    lang: e.lang.clone(),
                    draft: e.draft,
                    place: c.place_of(&e.path),
                })
                .collect();
            assert_eq!(c.placed_members(g), members);
            assert!(members.iter().all(|m| m.place.is_some()));
        }
    }
}
