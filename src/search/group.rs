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

use std::cell::RefCell;
use std::cmp::Ordering;
use std::sync::Arc;

use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::columnar::StrColumn;
use tantivy::query::{Bm25StatisticsProvider, Query};
use tantivy::schema::Field;
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentOrdinal, SegmentReader};

use super::content::Words;
use super::{Hit, SearchParams, Translation};
use crate::articles::lang;
use crate::index::Catalog;
use crate::index::groups::{GroupNo, NO_GROUP, NO_RANK, Placed};

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
        let hl = hl.and_then(lang::normalize_tag);
        let written = lang::of_text(query, catalog.language_tags());
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
        let hl = hl.and_then(lang::normalize_tag);
        match lang::of_text(message, catalog.language_tags()) {
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
    members: &[&'a Placed],
    score_of: impl Fn(&Placed) -> Option<Score>,
    reader: &Reader,
    source: Option<&str>,
) -> Option<(&'a Placed, bool)> {
    choose_by(members, score_of, reader, |lang| fit(lang, reader, source))
}

/// [`choose`] with the fit of a language to the reader given by `fit_of` (as [`fit`] says).
fn choose_by<'a>(
    members: &[&'a Placed],
    score_of: impl Fn(&Placed) -> Option<Score>,
    reader: &Reader,
    fit_of: impl Fn(&str) -> u8,
) -> Option<(&'a Placed, bool)> {
    // Each member's rank and score, worked out once (not at every comparison); the first
    // of the best kept.
    let mut best: Option<(&'a Placed, u8, Score)> = None;
    for &e in members {
        let score = score_of(e);
        // Without a reader's language, the best match shows, then the source language.
        let rank = if reader.lang.is_none() && score.is_some() {
            0
        } else {
            fit_of(&e.lang)
        };
        // Unmatched members rank below every match.
        let score = score.unwrap_or(Score::NEG_INFINITY);
        let better = match best {
            None => true,
            Some((b, rank_b, score_b)) => rank
                .cmp(&rank_b)
                .then_with(|| score_b.total_cmp(&score))
                .then_with(|| e.lang.cmp(&b.lang))
                .then_with(|| e.path.cmp(&b.path))
                .is_lt(),
        };
        if better {
            best = Some((e, rank, score));
        }
    }
    let (best, _, _) = best?;
    let fallback = reader.lang.is_some() && fit_of(&best.lang) > 0;
    Some((best, fallback))
}

/// One result to show: a document, its rank's score, and whether it is a fallback.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Picked {
    pub address: DocAddress,
    pub score: Score,
    pub fallback: bool,
}

/// The documents matching a query: a page of them when results are not grouped, else
/// every one with its group, for [`page`].
pub(super) enum Found {
    Page(Vec<Picked>, usize),
    Grouped(Vec<(Key, Score, DocAddress)>),
}

/// Runs `query`: the page of `params` when it wants one result per document, else every
/// matching document by its group. Terms are weighed with `stats` (the search's look-ups,
/// which know most of them already; the searcher's own statistics would look them up again).
pub(super) fn collect(
    searcher: &Searcher,
    stats: &dyn Bm25StatisticsProvider,
    query: &dyn Query,
    catalog: &Arc<Catalog>,
    params: &SearchParams,
) -> tantivy::Result<Found> {
    if !params.grouped {
        let (top, total) = if params.limit == 0 {
            (
                Vec::new(),
                searcher.search_with_statistics_provider(query, &Count, stats)?,
            )
        } else {
            page_by_score(searcher, stats, query, catalog, params.offset, params.limit)?
        };
        let picked = top
            .into_iter()
            .map(|(score, address)| Picked {
                address,
                score,
                fallback: false,
            })
            .collect();
        return Ok(Found::Page(picked, total));
    }
    let by_group = ByGroup {
        catalog: catalog.clone(),
    };
    // The content words hand over each segment's matches at once (the usual query);
    // any other goes through tantivy's collection, a scorer call per document.
    let Some(words) = query.downcast_ref::<Words>() else {
        let found = searcher.search_with_statistics_provider(query, &by_group, stats)?;
        return Ok(Found::Grouped(found));
    };
    let mut found = kept(&FOUND);
    let mut failed = None;
    words.for_each_segment(searcher, stats, |segment, reader, docs, scores| {
        let collector = match by_group.for_segment(segment, reader) {
            Ok(c) => c,
            Err(e) => return failed = Some(e),
        };
        found.extend(docs.iter().zip(scores).map(|(&doc, &score)| {
            let (key, address) = collector.key(doc);
            (key, score, address)
        }));
    })?;
    match failed {
        Some(e) => Err(e),
        None => Ok(Found::Grouped(found)),
    }
}

/// The page `offset..offset + limit` of the documents matching `query`, best first, equal
/// scores in the order of their paths ([`Ties`]), and how many match. tantivy's `TopDocs`
/// orders ties by document number, which differs between two builds of the same articles:
/// it is asked for more documents until the page's last score is above the last one it
/// returns (or all are in), so that every document tying with the page's are there to order.
fn page_by_score(
    searcher: &Searcher,
    stats: &dyn Bm25StatisticsProvider,
    query: &dyn Query,
    catalog: &Catalog,
    offset: usize,
    limit: usize,
) -> tantivy::Result<(Vec<(Score, DocAddress)>, usize)> {
    let end = offset + limit;
    let mut asked = end * 2;
    loop {
        let top = TopDocs::with_limit(asked).order_by_score();
        let (mut found, total) =
            searcher.search_with_statistics_provider(query, &(top, Count), stats)?;
        let complete = found.len() < asked || found[end - 1].0 > found[found.len() - 1].0;
        if complete {
            let ties = Ties::new(searcher, catalog);
            found.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| ties.cmp(a.1, b.1)));
            let page = found.into_iter().skip(offset).take(limit).collect();
            return Ok((page, total));
        }
        asked *= 4;
    }
}

/// The results [`collect`]ed for one page of `params` (one per group unless
/// `params.grouped` is off), and how many there are in all.
pub(super) fn page(
    searcher: &Searcher,
    found: Found,
    catalog: &Catalog,
    path_field: Field,
    params: &SearchParams,
    filter: Option<&str>,
    reader: &Reader,
) -> tantivy::Result<(Vec<Picked>, usize)> {
    let found = match found {
        Found::Page(picked, total) => return Ok((picked, total)),
        Found::Grouped(found) => found,
    };
    let ties = Ties::new(searcher, catalog);
    let groups = rank_groups(
        &found,
        catalog.group_count(),
        params.offset,
        params.limit,
        |a, b| ties.cmp(a, b),
    );
    give_back(&FOUND, found);
    let total = groups.total;
    let source = catalog.source_language(params.drafts);
    // Each language's fit to the reader, worked out once per page: the page's groups share
    // a handful of languages, and `fit` compares language families, which allocates.
    let fits: std::cell::RefCell<Vec<(String, u8)>> = Default::default();
    let fit_of = |lang: &str| {
        if let Some(&(_, f)) = fits.borrow().iter().find(|(l, _)| l == lang) {
            return f;
        }
        let f = fit(lang, reader, source);
        fits.borrow_mut().push((lang.to_string(), f));
        f
    };
    // Where the catalog's documents are in this searcher (a few segments: looked for in
    // turn).
    let segments = searcher.segment_readers();
    // A document deleted since (its article changed) is not the article's any more.
    let address = |(segment, doc): (tantivy::index::SegmentId, DocId)| {
        let ordinal = segments.iter().position(|r| r.segment_id() == segment)? as SegmentOrdinal;
        let live = !searcher.segment_reader(ordinal).is_deleted(doc);
        live.then(|| DocAddress::new(ordinal, doc))
    };
    let mut out = Vec::with_capacity(params.limit.min(total));
    // A group's members' documents, their matches, and those that may show: one list of
    // each for the page.
    let mut all: Vec<Option<DocAddress>> = Vec::new();
    let mut matched: Vec<(Option<Score>, Option<DocAddress>)> = Vec::new();
    let mut members: Vec<&Placed> = Vec::new();
    for (key, docs) in groups.page {
        let (best_score, best) = docs[0];
        let Some(group) = key.group() else {
            out.push(Picked {
                address: best,
                score: best_score,
                fallback: false,
            });
            continue;
        };
        // The group's members, each with where it is in the searcher (the catalog's place).
        let placed = catalog.placed_members(group);
        all.clear();
        all.extend(placed.iter().map(|m| m.place.and_then(address)));
        // Each member's score and document: of the matching documents that are the
        // member's (a placed member's by its place, else by the path read from the index:
        // a segment newer than the catalog), the last one's score, as a map from the paths
        // would keep, and the first (best) one's address.
        matched.clear();
        matched.resize(placed.len(), (None, None));
        for &(score, address) in &docs {
            let member = match all.iter().position(|a| *a == Some(address)) {
                Some(i) => Some(i),
                None => {
                    let Some(path) = path_of(searcher, address) else {
                        continue;
                    };
                    placed.iter().position(|m| *m.path == *path)
                }
            };
            if let Some((s, a)) = member.map(|i| &mut matched[i]) {
                *s = Some(score);
                a.get_or_insert(address);
            }
        }
        // A member's place in `placed` (one per path).
        let index_of = |m: &Placed| placed.iter().position(|p| std::ptr::eq(p, m));
        let score_of = |m: &Placed| index_of(m).and_then(|i| matched[i].0);
        members.clear();
        members.extend(
            placed
                .iter()
                .filter(|m| params.drafts || !m.draft)
                .filter(|m| filter.is_none_or(|f| lang::matches(f, &m.lang))),
        );
        let Some((shown, fallback)) = choose_by(&members, score_of, reader, fit_of) else {
            continue;
        };
        let i = index_of(shown);
        let address = match i.and_then(|i| matched[i].1.or(all[i])) {
            Some(a) => Some(a),
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

/// A list of matches by group, kept for the next search on this thread (see [`kept`]).
type Matches = Vec<(Key, Score, DocAddress)>;

thread_local! {
    /// The matches [`collect`] gathers: a common word matches thousands of documents, and
    /// a fresh allocation that large costs more than filling it (glibc first consolidates
    /// its small free chunks).
    static FOUND: RefCell<Matches> = const { RefCell::new(Vec::new()) };
    /// The groups' best matches in [`rank_groups`].
    static BEST: RefCell<Matches> = const { RefCell::new(Vec::new()) };
    /// The page's groups in order in [`rank_groups`].
    static TOP: RefCell<Matches> = const { RefCell::new(Vec::new()) };
    /// Each group's place in [`BEST`], by group number: all [`NONE`] between searches.
    static SLOTS: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

/// The longest page [`rank_groups`] keeps in order as it goes (a longer one is selected).
const TOP_BY_INSERTION: usize = 64;

/// No place: a group [`rank_groups`] has not met.
const NONE: u32 = u32::MAX;

/// The list `kept` holds, empty, with the room it had.
fn kept(kept: &'static std::thread::LocalKey<RefCell<Matches>>) -> Matches {
    let mut v = kept.take();
    v.clear();
    v
}

/// Keeps `v` for the next [`kept`].
fn give_back(kept: &'static std::thread::LocalKey<RefCell<Matches>>, v: Matches) {
    kept.set(v);
}

/// The groups of one page, each with its matching documents best first, and how many groups
/// matched in all.
struct RankedGroups {
    page: Vec<(Key, Vec<(Score, DocAddress)>)>,
    total: usize,
}

/// Ranks the groups of the matching documents `found` by their best member and keeps the
/// page `offset..offset + limit`. Groups are numbered densely ([`GroupNo`] below
/// `group_count`), so this indexes arrays rather than hashing once per matching document.
/// Documents of equal score are in `tie` order ([`Ties`]).
fn rank_groups(
    found: &[(Key, Score, DocAddress)],
    group_count: usize,
    offset: usize,
    limit: usize,
    tie: impl Fn(DocAddress, DocAddress) -> Ordering,
) -> RankedGroups {
    // Each group's place in `best`, and its best document.
    let mut slot = SLOTS.take();
    slot.resize(group_count, NONE);
    let mut best = kept(&BEST);
    let better = |a: (Score, DocAddress), b: (Score, DocAddress)| {
        a.0.total_cmp(&b.0).then_with(|| tie(b.1, a.1)).is_gt()
    };
    for &(key, score, address) in found {
        let i = match key {
            Key::Group(g) if (g as usize) < group_count => {
                let s = &mut slot[g as usize];
                if *s == NONE {
                    *s = best.len() as u32;
                    best.push((key, score, address));
                    continue;
                }
                *s as usize
            }
            _ => {
                best.push((key, score, address));
                continue;
            }
        };
        if better((score, address), (best[i].1, best[i].2)) {
            best[i] = (key, score, address);
        }
    }
    // The groups met, back to no place (`best` lists them).
    for (key, _, _) in &best {
        if let Key::Group(g) = key
            && let Some(s) = slot.get_mut(*g as usize)
        {
            *s = NONE;
        }
    }
    let total = best.len();
    // Only the groups up to the page's end are put in order (a common word matches most
    // of the help center); the order is total, so the page is the one a full sort gives.
    let order = |a: &(Key, Score, DocAddress), b: &(Key, Score, DocAddress)| {
        b.1.total_cmp(&a.1).then_with(|| tie(a.2, b.2))
    };
    let end = offset.saturating_add(limit).min(total);
    if end > 0 && end <= TOP_BY_INSERTION && end < total {
        // A short page: kept in order as the groups go by, most of which fall below its
        // last one at the first comparison (where a selection moves every group about).
        let mut top = kept(&TOP);
        for &group in best.iter() {
            if top.len() == end {
                if order(&group, &top[end - 1]).is_ge() {
                    continue;
                }
                top.pop();
            }
            let at = top.partition_point(|t| order(t, &group).is_lt());
            top.insert(at, group);
        }
        best.clear();
        best.extend_from_slice(&top);
        give_back(&TOP, top);
    } else {
        if end > 0 && end < total {
            best.select_nth_unstable_by(end - 1, order);
            best.truncate(end);
        }
        best.sort_by(order);
    }
    let mut page: Vec<(Key, Vec<(Score, DocAddress)>)> = best
        .drain(..)
        .skip(offset)
        .take(limit)
        .map(|(key, score, address)| (key, vec![(score, address)]))
        .collect();
    give_back(&BEST, best);
    // The page's groups' other matching documents.
    for (i, (key, _)) in page.iter().enumerate() {
        if let Key::Group(g) = key
            && (*g as usize) < group_count
        {
            slot[*g as usize] = i as u32;
        }
    }
    for &(key, score, address) in found {
        if let Key::Group(g) = key
            && let Some(&i) = slot.get(g as usize)
            && i != NONE
            && page[i as usize].1[0].1 != address
        {
            page[i as usize].1.push((score, address));
        }
    }
    for (key, _) in &page {
        if let Key::Group(g) = key
            && let Some(s) = slot.get_mut(*g as usize)
        {
            *s = NONE;
        }
    }
    SLOTS.set(slot);
    for (_, docs) in &mut page {
        docs.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| tie(a.1, b.1)));
    }
    RankedGroups { page, total }
}

/// Fills in what a result knows of its group: the other languages (the other script of
/// the shown one first: a zh-tw reader's next choice is zh-cn), and whether it is a
/// fallback.
pub(super) fn dress(hit: &mut Hit, fallback: bool, catalog: &Catalog, drafts: bool) {
    hit.fallback = fallback;
    // Those of the result's language first, each list in the catalog's order (a stable
    // partition: each version's language looked at once, not at every comparison).
    let primary = lang::primary(&hit.lang);
    let (mut same, mut others): (Vec<Arc<Translation>>, Vec<Arc<Translation>>) =
        (Vec::new(), Vec::new());
    for (t, draft) in catalog.shown_translations(&hit.path) {
        if draft && !drafts {
            continue;
        }
        let list = if lang::primary(&t.lang) == primary {
            &mut same
        } else {
            &mut others
        };
        list.push(t.clone());
    }
    hit.translations = if same.is_empty() {
        others
    } else {
        same.append(&mut others);
        same
    };
}

/// The order of documents of equal score: by their article's path, whatever order a build
/// added them in. Workers hand articles to the writer as they finish them, and edits append
/// to newer segments, so two builds of the same articles (two replicas, a rebuild) number
/// their documents differently: ordered by address, equal pages (generated reference pages
/// that differ in a word) came out in either order. Paths are read only for ties: compared
/// by their places in the catalog's sorted paths ([`Catalog::path_ranks`]: no string, no
/// column opened), else within a segment by their ordinals in its sorted path column (a
/// document the catalog does not know).
struct Ties<'a> {
    searcher: &'a Searcher,
    catalog: &'a Catalog,
    ranks: std::cell::OnceCell<Vec<Option<Arc<[u32]>>>>,
    columns: std::cell::OnceCell<Vec<Option<StrColumn>>>,
}

impl<'a> Ties<'a> {
    fn new(searcher: &'a Searcher, catalog: &'a Catalog) -> Self {
        Ties {
            searcher,
            catalog,
            ranks: std::cell::OnceCell::new(),
            columns: std::cell::OnceCell::new(),
        }
    }

    fn cmp(&self, a: DocAddress, b: DocAddress) -> Ordering {
        if a == b {
            return Ordering::Equal;
        }
        let ranks = self.ranks.get_or_init(|| {
            self.searcher
                .segment_readers()
                .iter()
                .map(|r| self.catalog.path_ranks(r.segment_id()))
                .collect()
        });
        let rank = |at: DocAddress| {
            let ranks = ranks.get(at.segment_ord as usize)?.as_ref()?;
            ranks
                .get(at.doc_id as usize)
                .copied()
                .filter(|&r| r != NO_RANK)
        };
        let by_path = if let (Some(x), Some(y)) = (rank(a), rank(b)) {
            // One path, one place: the order of the paths.
            x.cmp(&y)
        } else if a.segment_ord == b.segment_ord {
            let columns = self.columns.get_or_init(|| {
                self.searcher
                    .segment_readers()
                    .iter()
                    .map(|r| r.fast_fields().str("path").ok().flatten())
                    .collect()
            });
            let ord = |at: DocAddress| {
                let column = columns.get(at.segment_ord as usize)?.as_ref()?;
                column.term_ords(at.doc_id).next()
            };
            match (ord(a), ord(b)) {
                (Some(x), Some(y)) => x.cmp(&y),
                _ => Ordering::Equal,
            }
        } else {
            // Ordinals of two segments do not compare: the paths themselves.
            match (path_of(self.searcher, a), path_of(self.searcher, b)) {
                (Some(x), Some(y)) => x.cmp(&y),
                _ => Ordering::Equal,
            }
        };
        // The address last: a total order even without paths.
        by_path.then(a.cmp(&b))
    }
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
pub(super) enum Key {
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
    found: Vec<(Key, Score, DocAddress)>,
}

impl Collector for ByGroup {
    type Fruit = Vec<(Key, Score, DocAddress)>;
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
            found: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, mut fruits: Vec<Self::Fruit>) -> tantivy::Result<Self::Fruit> {
        // One segment (the usual case): its matches as they are, not copied.
        if fruits.len() == 1 {
            return Ok(fruits.pop().unwrap_or_default());
        }
        Ok(fruits.concat())
    }
}

impl SegmentByGroup {
    /// A document's key (its translation group, or itself when it has none) and address.
    fn key(&self, doc: DocId) -> (Key, DocAddress) {
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
        (group.map_or(Key::Alone(address), Key::Group), address)
    }
}

impl SegmentCollector for SegmentByGroup {
    type Fruit = Vec<(Key, Score, DocAddress)>;

    fn collect(&mut self, doc: DocId, score: Score) {
        let (key, address) = self.key(doc);
        self.found.push((key, score, address));
    }

    fn harvest(self) -> Self::Fruit {
        self.found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn member(path: &str) -> Placed {
        Placed {
            path: path.into(),
            lang: path.split('/').next().unwrap().into(),
            draft: false,
            place: None,
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
        let all: Vec<Placed> = ["en/a.md", "uk/a.md", "zh-cn/a.md", "zh-tw/a.md"]
            .into_iter()
            .map(member)
            .collect();
        let members: Vec<&Placed> = all.iter().collect();
        let scores: HashMap<&str, Score> = [("uk/a.md", 3.0), ("zh-cn/a.md", 5.0)].into();
        let pick = |r: Reader, m: &[&Placed]| {
            let score_of = |e: &Placed| scores.get(&*e.path).copied();
            choose(m, score_of, &r, Some("en")).map(|(e, fb)| (e.path.to_string(), fb))
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
        let no_tw: Vec<&Placed> = members
            .iter()
            .copied()
            .filter(|e| &*e.lang != "zh-tw")
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

    #[test]
    fn groups_rank_by_their_best_member_and_page_over_groups() {
        let at = |doc| DocAddress::new(0, doc);
        let found = [
            (Key::Group(0), 1.0, at(0)),
            (Key::Group(1), 5.0, at(1)),
            (Key::Group(0), 7.0, at(2)),
            (Key::Alone(at(9)), 3.0, at(9)),
            (Key::Group(1), 2.0, at(3)),
            (Key::Group(2), 0.5, at(4)),
        ];
        let all = rank_groups(&found, 3, 0, 10, |a, b| a.cmp(&b));
        assert_eq!(all.total, 4);
        let order: Vec<Key> = all.page.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            order,
            [
                Key::Group(0),
                Key::Group(1),
                Key::Alone(at(9)),
                Key::Group(2)
            ]
        );
        // Each group's matching documents, best first.
        assert_eq!(all.page[0].1, [(7.0, at(2)), (1.0, at(0))]);
        assert_eq!(all.page[1].1, [(5.0, at(1)), (2.0, at(3))]);
        // A page holds groups, not documents; total still counts every group.
        let second = rank_groups(&found, 3, 1, 2, |a, b| a.cmp(&b));
        assert_eq!(second.total, 4);
        let order: Vec<Key> = second.page.iter().map(|(k, _)| *k).collect();
        assert_eq!(order, [Key::Group(1), Key::Alone(at(9))]);
        assert_eq!(second.page[0].1.len(), 2);
    }

    #[test]
    fn a_short_page_is_the_one_a_full_sort_gives() {
        let at = |doc| DocAddress::new(0, doc);
        // Scores in no order, with ties (a few values), some groups met twice.
        let found: Vec<(Key, Score, DocAddress)> = (0..500u32)
            .map(|doc| {
                let score = ((doc * 7919) % 13) as Score;
                (Key::Group(doc % 300), score, at(doc))
            })
            .collect();
        let tie = |a: DocAddress, b: DocAddress| b.cmp(&a);
        let all = rank_groups(&found, 300, 0, 1000, tie);
        let keys = |r: &RankedGroups| r.page.iter().map(|(k, d)| (*k, d[0])).collect::<Vec<_>>();
        let everything = keys(&all);
        for (offset, limit) in [(0, 10), (10, 10), (0, 1), (37, 27), (0, 100), (290, 20)] {
            let page = rank_groups(&found, 300, offset, limit, tie);
            assert_eq!(page.total, all.total);
            let end = (offset + limit).min(everything.len());
            assert_eq!(keys(&page), everything[offset.min(end)..end]);
        }
    }

    #[test]
    fn equal_scores_go_in_the_order_of_ties_not_of_addresses() {
        let at = |doc| DocAddress::new(0, doc);
        let found = [
            (Key::Group(0), 2.0, at(0)),
            (Key::Group(1), 2.0, at(1)),
            (Key::Group(1), 2.0, at(2)),
            (Key::Alone(at(3)), 1.0, at(3)),
        ];
        // Ties the other way round from the addresses (later documents first).
        let ranked = rank_groups(&found, 2, 0, 10, |a, b| b.cmp(&a));
        let order: Vec<Key> = ranked.page.iter().map(|(k, _)| *k).collect();
        assert_eq!(order, [Key::Group(1), Key::Group(0), Key::Alone(at(3))]);
        assert_eq!(ranked.page[0].1, [(2.0, at(2)), (2.0, at(1))]);
        // A page cut between equal groups keeps the same one.
        let first = rank_groups(&found, 2, 0, 1, |a, b| b.cmp(&a));
        assert_eq!(first.page[0].0, Key::Group(1));
    }
}
