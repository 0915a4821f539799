//! One result per translation group, in the reader's language.
//!
//! An article and its translations are one answer: the matching documents are collected
//! per translation group ([`crate::index::groups`]), a group ranks by its best-matching
//! member, `total` counts groups, and paging runs over groups. Each group is shown by one
//! member, chosen by who reads ([`Reader`]): the reader's language, else the other script of
//! it (zh-tw for a zh-cn reader), else the query's own language, else the help center's
//! source language (the one with most articles), else the best match. A member of another
//! language than the reader's is a fallback, and says so. The `lang` filter still decides
//! which members may show; the group's other languages are listed on the result.
//!
//! It works on the ranked documents only: scoring is the query's business.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::columnar::StrColumn;
use tantivy::query::Query;
use tantivy::schema::Field;
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentOrdinal, SegmentReader};

use super::{Hit, SearchParams, Translation};
use crate::articles::lang;
use crate::index::groups::{GroupNo, NO_GROUP};
use crate::index::{Catalog, Entry};

/// Who reads the results, as far as the request tells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reader {
    /// The reader's language.
    pub lang: Option<String>,
    /// A language the reader reads besides: the query's own when the reader's language
    /// was given (`hl`) and differs.
    pub also: Option<String>,
}

impl Reader {
    /// The reader of a query: `hl` (the interface's language), else the language and script
    /// of the query itself.
    pub fn of_query(hl: Option<&str>, query: &str, catalog: &Catalog) -> Reader {
        let known = known_langs(catalog);
        let hl = hl.and_then(lang::normalize_tag);
        let written = lang::of_text(query, &known);
        match hl {
            Some(hl) => Reader {
                also: written.filter(|w| lang::family(w) != lang::family(&hl)),
                lang: Some(hl),
            },
            None => Reader {
                lang: written,
                also: None,
            },
        }
    }

    /// The reader of a customer's message: the message's language and script (the agent
    /// answers in it), else `hl`.
    pub fn of_message(hl: Option<&str>, message: &str, catalog: &Catalog) -> Reader {
        let known = known_langs(catalog);
        let hl = hl.and_then(lang::normalize_tag);
        match lang::of_text(message, &known) {
            Some(written) => Reader {
                also: hl.filter(|h| lang::family(h) != lang::family(&written)),
                lang: Some(written),
            },
            None => Reader {
                lang: hl,
                also: None,
            },
        }
    }
}

/// The articles' languages.
fn known_langs(catalog: &Catalog) -> Vec<String> {
    catalog
        .languages(true)
        .into_iter()
        .map(|(l, _)| l)
        .collect()
}

/// How well a language suits a reader: lower is better. 0 is the reader's own.
fn fit(lang: &str, reader: &Reader, source: Option<&str>) -> u8 {
    let same = |want: &str| lang::matches(want, lang) || lang::family(want) == lang::family(lang);
    let kin = |want: &str| lang::primary(want) == lang::primary(lang);
    match (&reader.lang, &reader.also) {
        (Some(r), _) if same(r) => 0,
        (Some(r), _) if kin(r) => 1,
        (_, Some(a)) if same(a) => 2,
        (_, Some(a)) if kin(a) => 3,
        _ if source == Some(lang) => 4,
        _ => 5,
    }
}

/// The member of a group to show: the best fit for the reader (see the module's
/// documentation), then the best match, then by language; whether it is a fallback (not in
/// the reader's language).
pub fn choose<'a>(
    members: &[&'a Entry],
    scores: &HashMap<&str, Score>,
    reader: &Reader,
    source: Option<&str>,
) -> Option<(&'a Entry, bool)> {
    // Unmatched members rank below every match.
    let score = |e: &Entry| {
        scores
            .get(e.path.as_str())
            .copied()
            .unwrap_or(Score::NEG_INFINITY)
    };
    let rank = |e: &Entry| {
        // Without a reader's language, the best match shows, then the source language.
        if reader.lang.is_none() && scores.contains_key(e.path.as_str()) {
            0
        } else {
            fit(&e.lang, reader, source)
        }
    };
    let best = members
        .iter()
        .min_by(|a, b| {
            rank(a)
                .cmp(&rank(b))
                .then_with(|| score(b).total_cmp(&score(a)))
                .then_with(|| a.lang.cmp(&b.lang))
                .then_with(|| a.path.cmp(&b.path))
        })
        .copied()?;
    let fallback = reader.lang.is_some() && fit(&best.lang, reader, source) > 0;
    Some((best, fallback))
}

/// One result to show: a document, its rank's score, and whether it is a fallback.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Picked {
    pub address: DocAddress,
    pub score: Score,
    pub fallback: bool,
}

/// The results of `query` for one page of `params` (one per group unless
/// `params.grouped` is off), and how many there are in all.
pub(super) fn page(
    searcher: &Searcher,
    query: &dyn Query,
    catalog: &Arc<Catalog>,
    path_field: Field,
    params: &SearchParams,
    filter: Option<&str>,
    reader: &Reader,
) -> tantivy::Result<(Vec<Picked>, usize)> {
    if !params.grouped {
        let (top, total) = if params.limit == 0 {
            (Vec::new(), searcher.search(query, &Count)?)
        } else {
            let top = TopDocs::with_limit(params.limit)
                .and_offset(params.offset)
                .order_by_score();
            searcher.search(query, &(top, Count))?
        };
        let picked = top
            .into_iter()
            .map(|(score, address)| Picked {
                address,
                score,
                fallback: false,
            })
            .collect();
        return Ok((picked, total));
    }
    let found = searcher.search(
        query,
        &ByGroup {
            catalog: catalog.clone(),
        },
    )?;
    let mut groups: Vec<(Key, Vec<(Score, DocAddress)>)> = found.into_iter().collect();
    for (_, docs) in &mut groups {
        docs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    }
    groups.sort_by(|a, b| b.1[0].0.total_cmp(&a.1[0].0).then(a.1[0].1.cmp(&b.1[0].1)));
    let total = groups.len();
    let source = catalog
        .languages(params.drafts)
        .first()
        .map(|(l, _)| l.clone());
    let mut out = Vec::with_capacity(params.limit.min(total));
    for (key, docs) in groups.into_iter().skip(params.offset).take(params.limit) {
        let (best_score, best) = docs[0];
        let Some(group) = key.group() else {
            out.push(Picked {
                address: best,
                score: best_score,
                fallback: false,
            });
            continue;
        };
        let paths: Vec<(String, Score, DocAddress)> = docs
            .iter()
            .filter_map(|&(score, address)| Some((path_of(searcher, address)?, score, address)))
            .collect();
        let scores: HashMap<&str, Score> = paths.iter().map(|(p, s, _)| (p.as_str(), *s)).collect();
        let members: Vec<&Entry> = catalog
            .group_members(group)
            .filter(|e| params.drafts || !e.draft)
            .filter(|e| filter.is_none_or(|f| lang::matches(f, &e.lang)))
            .collect();
        let Some((shown, fallback)) = choose(&members, &scores, reader, source.as_deref()) else {
            continue;
        };
        let address = match paths.iter().find(|(p, _, _)| *p == shown.path) {
            Some((_, _, a)) => Some(*a),
            None => super::address_of(searcher, path_field, &shown.path)?,
        };
        out.push(Picked {
            address: address.unwrap_or(best),
            score: best_score,
            fallback,
        });
    }
    Ok((out, total))
}

/// Fills in what a result knows of its group: the other languages (the other script of
/// the shown one first: a zh-tw reader's next choice is zh-cn), and whether it is a
/// fallback.
pub(super) fn dress(hit: &mut Hit, fallback: bool, catalog: &Catalog, drafts: bool) {
    hit.fallback = fallback;
    let primary = lang::primary(&hit.lang).to_string();
    hit.translations = catalog
        .translations(&hit.path)
        .into_iter()
        .filter(|e| drafts || !e.draft)
        .map(|e| Translation {
            lang: e.lang.clone(),
            url: e.url.clone(),
            title: e.title.clone(),
            path: e.path.clone(),
        })
        .collect();
    hit.translations
        .sort_by_key(|t| lang::primary(&t.lang) != primary);
}

/// The path of a document, from its fast field.
fn path_of(searcher: &Searcher, address: DocAddress) -> Option<String> {
    let column = searcher
        .segment_reader(address.segment_ord)
        .fast_fields()
        .str("path")
        .ok()??;
    let ord = column.term_ords(address.doc_id).next()?;
    let mut path = String::new();
    column.ord_to_str(ord, &mut path).ok()?;
    Some(path)
}

/// What matching documents are gathered by: their translation group, or, for a document
/// the catalog does not know (a searcher newer than the catalog), the document alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Key {
    Group(GroupNo),
    Alone(DocAddress),
}

impl Key {
    fn group(self) -> Option<GroupNo> {
        match self {
            Key::Group(g) => Some(g),
            Key::Alone(_) => None,
        }
    }
}

/// Collects every matching document by its group.
struct ByGroup {
    catalog: Arc<Catalog>,
}

/// Where a segment's documents' groups come from.
enum Groups {
    /// The catalog's table for the segment.
    Table(Arc<[GroupNo]>),
    /// The documents' paths (a segment the catalog has not seen).
    Paths(StrColumn, Arc<Catalog>),
    None,
}

struct SegmentByGroup {
    segment: SegmentOrdinal,
    groups: Groups,
    found: HashMap<Key, Vec<(Score, DocAddress)>>,
}

impl Collector for ByGroup {
    type Fruit = HashMap<Key, Vec<(Score, DocAddress)>>;
    type Child = SegmentByGroup;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentByGroup> {
        let groups = match self.catalog.segment_groups(reader.segment_id()) {
            Some(table) => Groups::Table(table),
            None => match reader.fast_fields().str("path")? {
                Some(column) => Groups::Paths(column, self.catalog.clone()),
                None => Groups::None,
            },
        };
        Ok(SegmentByGroup {
            segment,
            groups,
            found: HashMap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Self::Fruit>) -> tantivy::Result<Self::Fruit> {
        let mut all: Self::Fruit = HashMap::new();
        for fruit in fruits {
            for (key, docs) in fruit {
                all.entry(key).or_default().extend(docs);
            }
        }
        Ok(all)
    }
}

impl SegmentCollector for SegmentByGroup {
    type Fruit = HashMap<Key, Vec<(Score, DocAddress)>>;

    fn collect(&mut self, doc: DocId, score: Score) {
        let address = DocAddress::new(self.segment, doc);
        let group = match &self.groups {
            Groups::Table(table) => table.get(doc as usize).copied().filter(|&g| g != NO_GROUP),
            Groups::Paths(column, catalog) => column.term_ords(doc).next().and_then(|ord| {
                let mut path = String::new();
                column.ord_to_str(ord, &mut path).ok()?;
                catalog.group_of(&path)
            }),
            Groups::None => None,
        };
        let key = group.map_or(Key::Alone(address), Key::Group);
        self.found.entry(key).or_default().push((score, address));
    }

    fn harvest(self) -> Self::Fruit {
        self.found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> Entry {
        Entry {
            path: path.into(),
            url: format!("/{}", path.trim_end_matches(".md")),
            lang: path.split('/').next().unwrap().into(),
            title: path.into(),
            description: None,
            category: None,
            draft: false,
            translation_key: None,
            translation: "path:a.md".into(),
            updated: None,
            aliases: Vec::new(),
            owner: None,
            review_every_days: None,
        }
    }

    fn reader(lang: Option<&str>, also: Option<&str>) -> Reader {
        Reader {
            lang: lang.map(String::from),
            also: also.map(String::from),
        }
    }

    #[test]
    fn the_readers_language_then_its_other_script_then_the_source() {
        let all: Vec<Entry> = ["en/a.md", "uk/a.md", "zh-cn/a.md", "zh-tw/a.md"]
            .into_iter()
            .map(entry)
            .collect();
        let members: Vec<&Entry> = all.iter().collect();
        let scores: HashMap<&str, Score> = [("uk/a.md", 3.0), ("zh-cn/a.md", 5.0)].into();
        let pick = |r: Reader, m: &[&Entry]| {
            choose(m, &scores, &r, Some("en")).map(|(e, fb)| (e.path.clone(), fb))
        };
        let ok = |p: &str, fb: bool| Some((p.to_string(), fb));
        // The reader's language, matched or not.
        assert_eq!(
            pick(reader(Some("zh-tw"), None), &members),
            ok("zh-tw/a.md", false)
        );
        assert_eq!(
            pick(reader(Some("zh-hant"), None), &members),
            ok("zh-tw/a.md", false)
        );
        assert_eq!(
            pick(reader(Some("en"), None), &members),
            ok("en/a.md", false)
        );
        // Without it: the other Chinese script, labelled.
        let no_tw: Vec<&Entry> = members
            .iter()
            .copied()
            .filter(|e| e.lang != "zh-tw")
            .collect();
        assert_eq!(
            pick(reader(Some("zh-tw"), None), &no_tw),
            ok("zh-cn/a.md", true)
        );
        // Then the query's language, then the source language, labelled.
        assert_eq!(
            pick(reader(Some("te"), Some("uk")), &members),
            ok("uk/a.md", true)
        );
        assert_eq!(
            pick(reader(Some("te"), None), &members),
            ok("en/a.md", true)
        );
        // No reader's language at all: the best match, not labelled.
        assert_eq!(pick(reader(None, None), &members), ok("zh-cn/a.md", false));
        assert_eq!(pick(reader(None, None), &[]), None);
    }
}
