//! From what a person typed to the terms worth looking up.
//!
//! The query is analyzed exactly like the articles. Each word becomes a [`PlannedWord`]: its
//! term and the alternatives that also count as that word, with a weight each:
//! - the unstemmed form (a small bonus: exact forms rank above stemmed ones);
//! - spelling corrections, when the word is unknown or rare in the index: the closest words
//!   of the index's own vocabulary (Damerau-Levenshtein distance 1, or 2 from nine letters,
//!   first letter kept), so a misspelled word still finds its article;
//! - completions of the last word while it is being typed (no space after it yet), for
//!   search as you type: of a word the index does not know, or of any last word when the
//!   client says the person is still typing (`partial=1`);
//! - the other region's idiom for Chinese phrases (软件 and 軟體, 镜像 and 映象), so a query in
//!   Taiwan or mainland wording finds articles written in either.
//!
//! The [`Ranking`] weights are the measured defaults; `KB_RANKING` overrides them for
//! relevance experiments (see the README).

use std::collections::HashMap;

use tantivy::query::{DfaWrapper, FuzzyTermQuery};
use tantivy::schema::Field;
use tantivy::{Searcher, Term};

use super::lookup::Lookup;
use crate::analysis::{self, TokenKind, chinese, stopwords};
use crate::han::is_han;
use crate::index::Fields;

/// At most this many words of a query are used; the rest is ignored.
pub const MAX_WORDS: usize = 32;
/// Spelling corrections tried for one word.
const MAX_CORRECTIONS: usize = 3;
/// Completions tried for the word being typed.
const MAX_COMPLETIONS: usize = 12;
/// Words of one query that get spelling corrections (each costs a pass of a Levenshtein
/// automaton over the vocabulary): bounds the time of long, garbled queries.
const MAX_CORRECTED_WORDS: usize = 8;

/// The weights of ranking, chosen by measurement on the relevance set.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    pub title: f32,
    pub headings: f32,
    pub description: f32,
    pub tags: f32,
    pub queries: f32,
    pub body: f32,
    pub code: f32,
    pub location: f32,
    /// The words of headings' anchors that the headings do not say (a translation's anchors
    /// in the original language).
    pub anchors: f32,
    /// A translation's original's title and headings (its terms in the original language).
    pub twin: f32,
    /// The titles of the folders above a Chinese page (a breadcrumb in its language).
    pub folders: f32,
    /// Bonus weight of the unstemmed form of a word.
    pub exact: f32,
    /// Weight of a spelling correction of an unknown word.
    pub correction: f32,
    /// Weight of a spelling correction of a rare (but known) word.
    pub rare_correction: f32,
    /// A word with at most this many documents also gets corrections.
    pub rare_docs: u64,
    /// Weight of a completion of the word being typed.
    pub completion: f32,
    /// Weight of a completion of a last word that is already a word of the index (`contain`
    /// to `container`) when the client does not say the person is still typing; 0 completes
    /// only words the index does not know.
    pub completion_known: f32,
    /// Weight of the other region's idiom for a Chinese phrase (軟體 and 软件). Each region
    /// also uses some of the other's forms with other meanings (物件 "thing" for 对象
    /// "object"), but in documentation the shared meaning wins: 1 ranked better than 0.8 on
    /// both dev corpora.
    pub idiom: f32,
    /// Weight of the other region's idiom when the query is written in the script of the
    /// Chinese articles searched (Traditional with a `zh-tw` filter, Simplified with
    /// `zh-cn`): asked in the articles' own script, the query is in their region's words,
    /// and the other region's form mostly matches its other senses (物件 "thing" for 对象).
    pub idiom_same_script: f32,
    /// Weight of a derivative: an index term sharing all but the last few letters of a
    /// word's stem (клієнт for клієнтськ).
    pub derivative: f32,
    /// Score for each required word a document contains, on top of BM25: documents with more
    /// of the query's words usually rank first, but a page that matches the rare words of a
    /// query strongly (in its title, say) can beat one that has every word in passing.
    pub coverage: f32,
    pub phrase_body: f32,
    pub phrase_title: f32,
    pub phrase_slop: u32,
    /// Bonus when the query's words stand together in one heading (a section named like the
    /// query), within `heading_slop` positions.
    pub phrase_headings: f32,
    pub heading_slop: u32,
    /// Bonus when the query, analyzed, is exactly an article's title.
    pub title_match: f32,
    /// Weight of the length prior: this × ln(1 + the body's words) is added to the score of
    /// every match, so of pages matching alike the one treating the subject at length wins.
    pub length_prior: f32,
    /// Weight of the parts of a Chinese compound (应用 and 程序 of 应用程序), in BM25 and coverage:
    /// each part is a word of its own, so without it a compound counts two or three times.
    pub part: f32,
    /// Weight of the title match when the query is a title once its words the index does not
    /// know are replaced by their corrections ("kubectl certificane"), next to `title_match`.
    pub title_corrected: f32,
    /// Weight of a chunk's phrase bonus (`指南 - 计算属性调试`, `Guide - Typing Computed
    /// Properties`: the words after the dash are a phrase, the whole query is not) against
    /// the whole query's, in each field that has one.
    pub phrase_chunk: f32,
    /// Weight of each Chinese word's character bigrams ([`analysis::bigrams`]) where they
    /// stand in for it: in the pages that lack the word, and only there (jieba cut the page
    /// otherwise), without its coverage bonus; in each bigram field, at the field's weight.
    pub bigram_fallback: f32,
    /// Weight of the query's bigrams that are no word of it (across words, inside compounds),
    /// scored like a word without coverage: credit for the query's characters in order,
    /// however either side was cut.
    pub bigram: f32,
    /// Weight of bigrams in the body, as a share of their weight in title and headings: a
    /// body holds many pairs by chance.
    pub bigram_body: f32,
}

impl Default for Ranking {
    fn default() -> Self {
        Ranking {
            title: 3.0,
            headings: 1.5,
            description: 1.5,
            tags: 1.5,
            queries: 3.0,
            body: 1.0,
            code: 0.5,
            location: 1.2,
            anchors: 1.5,
            twin: 1.0,
            folders: 0.25,
            exact: 0.3,
            correction: 0.8,
            rare_correction: 0.4,
            rare_docs: 2,
            completion: 0.5,
            completion_known: 0.0,
            idiom: 1.0,
            idiom_same_script: 0.0,
            derivative: 0.2,
            coverage: 8.0,
            phrase_body: 1.0,
            phrase_title: 2.0,
            phrase_slop: 2,
            phrase_headings: 1.25,
            heading_slop: 0,
            title_match: 20.0,
            length_prior: 2.5,
            title_corrected: 1.0,
            part: 0.25,
            phrase_chunk: 1.0,
            bigram_fallback: 1.0,
            bigram: 0.1,
            bigram_body: 0.5,
        }
    }
}

impl Ranking {
    /// The defaults, with `KB_RANKING="title=4,body=1.2"` overrides applied.
    pub fn from_env() -> Self {
        match std::env::var("KB_RANKING") {
            Ok(spec) => Ranking::with_overrides(&spec),
            Err(_) => Ranking::default(),
        }
    }

    /// The defaults with `name=value` overrides, comma-separated; what cannot be read is
    /// logged and skipped.
    pub fn with_overrides(spec: &str) -> Self {
        let mut r = Ranking::default();
        for pair in spec.split(',').filter(|p| !p.trim().is_empty()) {
            let Some((k, Ok(v))) = pair
                .split_once('=')
                .map(|(k, v)| (k, v.trim().parse::<f32>()))
            else {
                tracing::warn!("KB_RANKING: cannot read {pair:?}; expected name=number");
                continue;
            };
            match k.trim() {
                "title" => r.title = v,
                "headings" => r.headings = v,
                "description" => r.description = v,
                "tags" => r.tags = v,
                "queries" => r.queries = v,
                "body" => r.body = v,
                "code" => r.code = v,
                "location" => r.location = v,
                "anchors" => r.anchors = v,
                "twin" => r.twin = v,
                "folders" => r.folders = v,
                "exact" => r.exact = v,
                "correction" => r.correction = v,
                "rare_correction" => r.rare_correction = v,
                "rare_docs" => r.rare_docs = v as u64,
                "completion" => r.completion = v,
                "completion_known" => r.completion_known = v,
                "idiom" => r.idiom = v,
                "idiom_same_script" => r.idiom_same_script = v,
                "derivative" => r.derivative = v,
                "coverage" => r.coverage = v,
                "phrase_body" => r.phrase_body = v,
                "phrase_title" => r.phrase_title = v,
                "phrase_slop" => r.phrase_slop = v as u32,
                "phrase_headings" => r.phrase_headings = v,
                "heading_slop" => r.heading_slop = v as u32,
                "title_match" => r.title_match = v,
                "length_prior" => r.length_prior = v,
                "title_corrected" => r.title_corrected = v,
                "part" => r.part = v,
                "phrase_chunk" => r.phrase_chunk = v,
                "bigram_fallback" => r.bigram_fallback = v,
                "bigram" => r.bigram = v,
                "bigram_body" => r.bigram_body = v,
                other => tracing::warn!("KB_RANKING: unknown weight {other:?}"),
            }
        }
        r
    }

    /// The searchable fields and their boosts.
    pub fn field_boosts(&self, f: &Fields) -> Vec<(Field, f32)> {
        // In the order of `Fields::searched`.
        let boosts = [
            self.title,
            self.headings,
            self.description,
            self.tags,
            self.queries,
            self.body,
            self.code,
            self.location,
            self.anchors,
            self.twin,
            self.folders,
        ];
        f.searched()
            .into_iter()
            .zip(boosts)
            .filter(|(_, b)| *b > 0.0)
            .collect()
    }
}

/// One word of the query and the terms that count as it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedWord {
    /// The analyzed term (stemmed where a stemmer applies).
    pub term: String,
    /// Whether a document must contain it to count as matching every word (function words
    /// need not).
    pub required: bool,
    /// Position in the query, for phrases.
    pub position: usize,
    /// Whether this is a whole word (not a part of a compound).
    pub whole: bool,
    /// Which of the query's punctuated chunks the word is in ([`chunk_starts`]), counted
    /// from 0: each chunk of two words or more is a phrase of its own.
    pub chunk: usize,
    /// Byte range in the query.
    pub from: usize,
    pub to: usize,
    /// Whether the index has this exact term at all.
    pub known: bool,
    /// Terms that count as this word, with their weights (the term itself first).
    pub alternatives: Vec<(String, f32)>,
    /// The index's closest word, searched in its place, when the index does not know this
    /// one: what "Showing results for …" says.
    pub correction: Option<String>,
    /// That correction analyzed: the term the corrected title match uses in this word's
    /// place.
    pub corrected_term: Option<String>,
}

/// The analyzed query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub words: Vec<PlannedWord>,
    /// The query's words in order, as [`title_key`] writes a title.
    pub title_key: String,
    /// The same with each word the index does not know replaced by its correction, when
    /// one is.
    pub corrected_title_key: Option<String>,
    /// The query's Han character bigrams that are none of its words, each once
    /// ([`Ranking::bigram`]).
    pub bigrams: Vec<String>,
}

pub use crate::analysis::title_key;

impl Plan {
    /// Every term a snippet should highlight: all alternatives of words that are not
    /// function words (all of them if the query has nothing else).
    pub fn highlight_terms(&self) -> HashMap<String, f32> {
        let only_stop = self.words.iter().all(|w| !w.required);
        let mut out = HashMap::new();
        for w in self.words.iter().filter(|w| w.required || only_stop) {
            for (t, weight) in &w.alternatives {
                let e = out.entry(t.clone()).or_insert(0.0f32);
                *e = e.max(*weight);
            }
        }
        out
    }
}

/// Analyzes a query against the index's vocabulary; `typing` says the person is still typing
/// it (search as you type), so its last word may be the beginning of a longer one.
pub fn plan(
    query: &str,
    typing: bool,
    searcher: &Searcher,
    fields: &Fields,
    ranking: &Ranking,
) -> Plan {
    plan_with(query, typing, None, &Lookup::new(searcher), fields, ranking)
}

/// [`plan`], looking terms up through a search's [`Lookup`] (which the query then reuses),
/// for a search kept to `lang` (normalized): a query in the script of its Chinese articles
/// weighs idioms by [`Ranking::idiom_same_script`].
pub fn plan_with(
    query: &str,
    typing: bool,
    lang: Option<&str>,
    lookup: &Lookup<'_>,
    fields: &Fields,
    ranking: &Ranking,
) -> Plan {
    let searcher = lookup.searcher();
    let tokens = analysis::analyze_to_vec(query);
    // The last word is still being typed when nothing follows it.
    let typing_end = query.trim_end().len() == query.len();
    let last_word_end = tokens
        .iter()
        .filter(|t| t.kind == TokenKind::Word)
        .map(|t| t.to)
        .max();
    let vocab_fields = vocabulary_fields(fields);
    let all_fields = [
        fields.title,
        fields.headings,
        fields.description,
        fields.tags,
        fields.queries,
        fields.body,
        fields.code,
        fields.location,
        fields.anchors,
    ];

    let starts = chunk_starts(query, &tokens);
    let mut words: Vec<PlannedWord> = Vec::new();
    let mut corrected = 0;
    let mut i = 0;
    while i < tokens.len() && words.len() < MAX_WORDS {
        let t = &tokens[i];
        let exact = tokens
            .get(i + 1)
            .filter(|n| n.kind == TokenKind::Exact && n.position == t.position)
            .map(|n| n.text.clone());
        i += 1 + usize::from(exact.is_some());
        if t.kind == TokenKind::Exact || words.iter().any(|w| w.term == t.text) {
            continue;
        }
        let typed = exact.clone().unwrap_or_else(|| t.text.clone());
        let docs = doc_freq(lookup, &all_fields, &t.text);
        let mut alternatives = vec![(t.text.clone(), 1.0f32)];
        if let Some(e) = &exact {
            alternatives.push((e.clone(), ranking.exact));
        }
        let is_last = t.kind == TokenKind::Word && typing_end && Some(t.to) == last_word_end;
        let han = t.text.chars().any(is_han);
        let mut completed = false;
        let completion = if docs > 0 && !typing {
            ranking.completion_known
        } else {
            ranking.completion
        };
        // The completions of the word as typed are also its derivatives' longer forms when
        // the typed word is the term: one walk of the dictionary's range serves both.
        let mut stem_completions = None;
        if is_last && !han && typed.chars().count() >= 2 && completion > 0.0 {
            let found = completions(lookup, &vocab_fields, &typed);
            for c in &found {
                completed = true;
                push_alt(&mut alternatives, c.clone(), completion);
            }
            if typed == t.text {
                stem_completions = Some(found);
            }
        }
        if ranking.derivative > 0.0 && t.kind == TokenKind::Word && !han {
            for d in derivatives(lookup, &vocab_fields, &t.text, stem_completions) {
                push_alt(&mut alternatives, d, ranking.derivative);
            }
        }
        let letters = typed.chars().filter(|c| c.is_alphabetic()).count();
        let weight = if docs == 0 {
            ranking.correction
        } else {
            ranking.rare_correction
        };
        let mut correction = None;
        let mut corrected_term = None;
        if t.kind == TokenKind::Word
            && !han
            && letters >= 5
            && letters == typed.chars().count()
            && docs <= ranking.rare_docs
            && !(completed && docs == 0)
            && weight > 0.0
            && corrected < MAX_CORRECTED_WORDS
        {
            corrected += 1;
            for c in corrections(searcher, &vocab_fields, &typed) {
                let first = docs == 0 && correction.is_none();
                for ct in analysis::analyze_to_vec(&c) {
                    // The first correction's first word is the corrected term (one analysis).
                    if first && corrected_term.is_none() && ct.kind == TokenKind::Word {
                        corrected_term = Some(ct.text.clone());
                    }
                    let w = if ct.kind == TokenKind::Exact {
                        weight * ranking.exact
                    } else {
                        weight
                    };
                    push_alt(&mut alternatives, ct.text, w);
                }
                if first {
                    correction = Some(c);
                }
            }
        }
        // Parts of a Chinese compound are words of their own; the parts of an identifier
        // (`StorageClass`) only help: the identifier itself is the word.
        let part_of_identifier = t.kind == TokenKind::Part && !han;
        words.push(PlannedWord {
            required: !stopwords::is_stop_word(&t.text) && !part_of_identifier,
            position: t.position,
            whole: t.kind == TokenKind::Word,
            chunk: starts.iter().filter(|&&s| s <= t.from).count(),
            from: t.from,
            to: t.to,
            known: docs > 0,
            term: t.text.clone(),
            alternatives,
            corrected_term,
            correction,
        });
    }
    // An idiom stands for one word, however jieba cut it (記憶體 is 记忆体 and its part 记忆;
    // 擴充套件 is 扩充 and 套件): its first whole word takes the equivalents, and the other
    // pieces inside it become optional, so the equivalent is counted once.
    let spans = chinese::idiom_spans(query);
    // The query's script is read only when it has an idiom: two conversions of the whole
    // query (a Chinese query's costliest step of planning), which most queries never need.
    let idiom = if !spans.is_empty() && lang.is_some_and(|l| in_own_script(l, query)) {
        ranking.idiom_same_script
    } else {
        ranking.idiom
    };
    for span in spans {
        let mut inside = words
            .iter_mut()
            .filter(|w| w.from >= span.from && w.to <= span.to);
        let Some(first) = inside.find(|w| w.whole) else {
            continue;
        };
        for equivalent in &span.equivalents {
            for t in analysis::analyze_to_vec(equivalent) {
                push_alt(&mut first.alternatives, t.text, idiom);
            }
        }
        let first_term = first.term.clone();
        for w in words
            .iter_mut()
            .filter(|w| w.from >= span.from && w.to <= span.to && w.term != first_term)
        {
            w.required = false;
        }
    }
    let corrected_title_key = words.iter().any(|w| w.corrected_term.is_some()).then(|| {
        tokens
            .iter()
            .filter(|t| t.kind == TokenKind::Word)
            .map(|t| {
                words
                    .iter()
                    .find(|w| w.term == t.text)
                    .and_then(|w| w.corrected_term.as_deref())
                    .unwrap_or(&t.text)
            })
            .collect::<Vec<_>>()
            .join(" ")
    });
    let bigrams = if ranking.bigram > 0.0 {
        query_bigrams(query, &words)
    } else {
        Vec::new()
    };
    Plan {
        words,
        // The query's own tokens: analyzing it again gives the same ones.
        title_key: analysis::title_key_of(&tokens),
        corrected_title_key,
        bigrams,
    }
}

/// Whether `query` is written in the script of the Chinese language `lang` (Traditional
/// characters for `zh-tw`, `zh-hk`, `zh-hant`; Simplified for `zh-cn`, `zh-hans`).
fn in_own_script(lang: &str, query: &str) -> bool {
    crate::articles::lang::han_script(lang).is_some_and(|own| chinese::script_of(query) == own)
}

/// The most bigrams a query adds ([`query_bigrams`]): two per planned word.
const MAX_BIGRAMS: usize = 2 * MAX_WORDS;

/// The query's Han bigrams that are not one of its words (a word counts already), at most
/// [`MAX_BIGRAMS`]; of a query cut at [`MAX_WORDS`] words, those of the part its words
/// cover: a query of thousands of characters costs no more look-ups than a short one.
fn query_bigrams(query: &str, words: &[PlannedWord]) -> Vec<String> {
    let end = if words.len() < MAX_WORDS {
        query.len()
    } else {
        words
            .iter()
            .map(|w| w.to)
            .max()
            .unwrap_or(0)
            .min(query.len())
    };
    let end = (0..=end)
        .rev()
        .find(|&i| query.is_char_boundary(i))
        .unwrap_or(0);
    let mut out = analysis::bigrams::distinct(&query[..end]);
    out.retain(|b| !words.iter().any(|w| w.term == *b));
    out.truncate(MAX_BIGRAMS);
    out
}

/// Where the query's chunks begin after the first: at each word that a separator parts
/// from the word before it, as titles and breadcrumbs write them (`指南 - 组件`,
/// `Reactivity API: Core`, `内存、CPU`). A dash or slash parts only with a space beside it
/// (`v-model`, `认证/鉴权` are one word or phrase); brackets and quotes enclose a part of the
/// phrase (`Role-Based Access Control (RBAC)`, `<Transition> API`) and part nothing.
fn chunk_starts(query: &str, tokens: &[analysis::Token]) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut words = tokens.iter().filter(|t| t.kind == TokenKind::Word);
    let Some(mut previous) = words.next() else {
        return starts;
    };
    for word in words {
        let gap = query.get(previous.to..word.from).unwrap_or_default();
        let spaced = gap.chars().any(char::is_whitespace);
        let parts = gap.chars().any(|c| {
            matches!(
                c,
                ':' | '：' | ',' | '，' | '、' | ';' | '；' | '|' | '·' | '—' | '–'
            ) || (spaced && matches!(c, '-' | '/'))
        });
        if parts {
            starts.push(word.from);
        }
        previous = word;
    }
    starts
}

fn push_alt(alts: &mut Vec<(String, f32)>, term: String, weight: f32) {
    match alts.iter_mut().find(|(t, _)| *t == term) {
        Some((_, w)) => *w = w.max(weight),
        None => alts.push((term, weight)),
    }
}

fn doc_freq(lookup: &Lookup<'_>, fields: &[Field], term: &str) -> u64 {
    fields
        .iter()
        .map(|&f| lookup.doc_freq(f, term))
        .max()
        .unwrap_or(0)
}

/// The terms of `fields` beginning with `prefix` that `automaton` accepts and `keep` wants,
/// with their document counts summed over fields and segments. Only the dictionary's range
/// of the prefix is walked (the automaton alone would try every first letter).
fn scan_terms(
    searcher: &Searcher,
    fields: &[Field],
    automaton: &DfaWrapper,
    prefix: &str,
    keep: impl Fn(&str) -> bool,
) -> rustc_hash::FxHashMap<String, u64> {
    // Sorted below: the map's order does not matter, and SipHash (the default) cost more.
    let mut found = rustc_hash::FxHashMap::<String, u64>::default();
    // The first key after every key that starts with the prefix: its last byte plus one
    // (the last byte of a UTF-8 character is below 0xF5, so this never overflows).
    let end = prefix.as_bytes().split_last().map(|(last, head)| {
        let mut end = head.to_vec();
        end.push(last + 1);
        end
    });
    for &field in fields {
        for segment in searcher.segment_readers() {
            let Ok(inverted) = segment.inverted_index(field) else {
                continue;
            };
            let mut range = inverted.terms().search(automaton).ge(prefix);
            if let Some(end) = &end {
                range = range.lt(end);
            }
            let Ok(mut stream) = range.into_stream() else {
                continue;
            };
            while stream.advance() {
                if let Ok(term) = std::str::from_utf8(stream.key())
                    && keep(term)
                {
                    *found.entry(term.to_string()).or_default() +=
                        u64::from(stream.value().doc_freq);
                }
            }
        }
    }
    found
}

/// The fields whose vocabulary planning draws on (completions, derivatives, corrections):
/// the words of bodies and titles.
pub fn vocabulary_fields(fields: &Fields) -> [Field; 2] {
    [fields.body, fields.title]
}

/// Terms of the index that start with `prefix` (and are longer), most frequent first: a range
/// of each term dictionary, read in order, keeping only the most frequent terms of each (a
/// short prefix spans thousands of terms). The range is a binary search in the search's
/// [`Vocabulary`](super::vocab::Vocabulary) when it lists the field, an FST stream otherwise
/// (the first search over new segments): the same terms either way.
fn completions(lookup: &Lookup<'_>, fields: &[Field], prefix: &str) -> Vec<String> {
    // At most `MAX_COMPLETIONS` terms of each field and segment, sorted below: a list
    // searched in full costs less than a map's allocation.
    let mut found: Vec<(String, u64)> = Vec::new();
    let vocabulary = lookup.vocabulary();
    for &field in fields {
        if let Some(tables) = vocabulary.and_then(|v| v.sorted(field)) {
            for table in tables {
                // Terms by their number: the order of the numbers is the terms' order.
                let mut best = Best::default();
                for i in table.starting_with(prefix.as_bytes()) {
                    if table.term(i).len() != prefix.len() {
                        best.offer(u64::from(table.doc_freq(i)), i);
                    }
                }
                for (df, i) in best.drain() {
                    if let Ok(term) = std::str::from_utf8(table.term(i)) {
                        add_completion(&mut found, term, df);
                    }
                }
            }
            continue;
        }
        for segment in lookup.searcher().segment_readers() {
            let Ok(inverted) = segment.inverted_index(field) else {
                continue;
            };
            let Ok(mut stream) = inverted.terms().range().ge(prefix).into_stream() else {
                continue;
            };
            let mut best = Best::default();
            while stream.advance() {
                let key = stream.key();
                if !key.starts_with(prefix.as_bytes()) {
                    break;
                }
                let df = u64::from(stream.value().doc_freq);
                if key.len() != prefix.len() && best.wants(df) {
                    best.offer(df, key.to_vec());
                }
            }
            for (df, key) in best.drain() {
                if let Ok(term) = std::str::from_utf8(&key) {
                    add_completion(&mut found, term, df);
                }
            }
        }
    }
    found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    found
        .into_iter()
        .take(MAX_COMPLETIONS)
        .map(|(t, _)| t)
        .collect()
}

/// Adds a field's or segment's completion to those found, summing its document counts.
fn add_completion(found: &mut Vec<(String, u64)>, term: &str, df: u64) {
    match found.iter_mut().find(|(t, _)| *t == term) {
        Some((_, n)) => *n += df,
        None => found.push((term.to_string(), df)),
    }
}

/// The `MAX_COMPLETIONS` most frequent of the terms offered in order, by any key that
/// orders them: the one to drop first on top (least frequent, then last in order: ties go
/// to the first terms, as the final sort).
struct Best<K: Ord>(std::collections::BinaryHeap<std::cmp::Reverse<(u64, std::cmp::Reverse<K>)>>);

impl<K: Ord> Default for Best<K> {
    fn default() -> Self {
        Best(std::collections::BinaryHeap::with_capacity(
            MAX_COMPLETIONS + 1,
        ))
    }
}

impl<K: Ord> Best<K> {
    /// Whether a term of `df` documents, after all offered so far, would be kept: later
    /// terms are greater, so a tie with the worst kept one loses.
    fn wants(&self, df: u64) -> bool {
        !(self.0.len() == MAX_COMPLETIONS
            && self
                .0
                .peek()
                .is_some_and(|std::cmp::Reverse((min, _))| df <= *min))
    }

    /// Offers a term greater than all offered before.
    fn offer(&mut self, df: u64, key: K) {
        if !self.wants(df) {
            return;
        }
        self.0.push(std::cmp::Reverse((df, std::cmp::Reverse(key))));
        if self.0.len() > MAX_COMPLETIONS {
            self.0.pop();
        }
    }

    /// The terms kept, with their document counts, in no order.
    fn drain(&mut self) -> impl Iterator<Item = (u64, K)> + '_ {
        self.0
            .drain()
            .map(|std::cmp::Reverse((df, std::cmp::Reverse(key)))| (df, key))
    }
}

/// Index terms that share a stem's first letters: its shorter forms down to three letters
/// less (at least five), and longer terms that extend it by at most three. `completions` are
/// the stem's [`completions`] when planning already has them.
fn derivatives(
    lookup: &Lookup<'_>,
    fields: &[Field],
    stem: &str,
    completions: Option<Vec<String>>,
) -> Vec<String> {
    let chars: Vec<char> = stem.chars().collect();
    if chars.len() < 5 || !chars.iter().all(|c| c.is_alphabetic()) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for k in chars.len().saturating_sub(3).max(5)..chars.len() {
        let prefix: String = chars[..k].iter().collect();
        if doc_freq(lookup, fields, &prefix) > 0 {
            out.push(prefix);
        }
    }
    let longer_terms = completions.unwrap_or_else(|| self::completions(lookup, fields, stem));
    for longer in longer_terms {
        if longer.chars().count() <= chars.len() + 3 {
            out.push(longer);
        }
    }
    out
}

/// The closest words of the index to a word it does not know (or hardly knows): same first
/// letter, fewest edits, then most documents.
pub fn corrections(searcher: &Searcher, fields: &[Field], word: &str) -> Vec<String> {
    let distance = if word.chars().count() >= 9 { 2 } else { 1 };
    let (Some(first), Some(&field)) = (word.chars().next(), fields.first()) else {
        return Vec::new();
    };
    // The automaton depends on the word only, not on the field of the term it is built from.
    let Ok(automaton) =
        FuzzyTermQuery::new(Term::from_field_text(field, word), distance, true).automaton()
    else {
        return Vec::new();
    };
    let first = first.to_string();
    let found = scan_terms(searcher, fields, &automaton, &first, |term| term != word);
    let mut v: Vec<(usize, u64, String)> = found
        .into_iter()
        .map(|(t, df)| (edit_distance(word, &t), df, t))
        .collect();
    v.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(b.1.cmp(&a.1))
            .then_with(|| a.2.cmp(&b.2))
    });
    v.into_iter()
        .take(MAX_CORRECTIONS)
        .map(|(_, _, t)| t)
        .collect()
}

/// Optimal string alignment distance (Levenshtein with adjacent transpositions), by chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[n][m]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("contapners", "containers"), 1);
        assert_eq!(edit_distance("bootstarpping", "bootstrapping"), 1);
        assert_eq!(edit_distance("abc", "abc"), 0);
        assert_eq!(edit_distance("", "ab"), 2);
        assert_eq!(edit_distance("пароль", "пароль"), 0);
    }

    #[test]
    fn corrections_keep_the_first_letter_in_any_script() {
        use tantivy::schema::{Schema, TEXT};
        use tantivy::{Index, TantivyDocument};
        let mut schema = Schema::builder();
        let title = schema.add_text_field("title", TEXT);
        let body = schema.add_text_field("body", TEXT);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for (t, b) in [
            ("refund", "refunds and refund"),
            ("пароль", "змінити пароль"),
            ("ярлик", "ясний"),
        ] {
            let mut doc = TantivyDocument::new();
            doc.add_text(title, t);
            doc.add_text(body, b);
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let fields = [body, title];
        assert_eq!(corrections(&searcher, &fields, "refnud"), ["refund"]);
        assert_eq!(corrections(&searcher, &fields, "паролт"), ["пароль"]);
        // The last letter of the script's range (я) bounds the range without overflow.
        assert_eq!(corrections(&searcher, &fields, "ярлак"), ["ярлик"]);
        // One edit away, but not with the same first letter.
        assert!(corrections(&searcher, &fields, "xefund").is_empty());
        assert!(corrections(&searcher, &fields, "").is_empty());
    }

    #[test]
    fn completions_from_the_vocabulary_are_those_of_the_dictionaries() {
        use super::super::vocab::Vocabulary;
        use std::sync::Arc;
        use tantivy::schema::{Schema, TEXT};
        use tantivy::{Index, TantivyDocument};
        let mut schema = Schema::builder();
        let title = schema.add_text_field("title", TEXT);
        let body = schema.add_text_field("body", TEXT);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        // Two segments; more than `MAX_COMPLETIONS` terms of one prefix, with ties.
        for batch in 0..2 {
            for i in 0..40 {
                let mut doc = TantivyDocument::new();
                doc.add_text(title, format!("conta{} container", i % (7 + batch)));
                let words: Vec<String> = (0..=i % 17).map(|j| format!("cont{j}x")).collect();
                doc.add_text(body, format!("cont contain {} zeta", words.join(" ")));
                writer.add_document(doc).unwrap();
            }
            writer.commit().unwrap();
        }
        let searcher = index.reader().unwrap().searcher();
        assert_eq!(searcher.segment_readers().len(), 2);
        let fields = [body, title];
        let vocabulary = Arc::new(Vocabulary::of(&searcher, &fields, &fields));
        assert!(vocabulary.sorted(body).is_some());
        for prefix in [
            "c", "co", "cont", "conta", "contain", "cont1", "z", "zz", "", "я",
        ] {
            let walked = completions(&Lookup::new(&searcher), &fields, prefix);
            let lookup = Lookup::with_vocabulary(&searcher, Some(vocabulary.clone()));
            assert!(lookup.vocabulary().is_some());
            assert_eq!(completions(&lookup, &fields, prefix), walked, "{prefix:?}");
        }
        let some = completions(&Lookup::new(&searcher), &fields, "cont");
        assert_eq!(some.len(), MAX_COMPLETIONS);
        assert!(!some.contains(&"cont".to_string()));
    }

    #[test]
    fn separators_part_chunks_and_brackets_do_not() {
        let chunks = |q: &str| -> Vec<String> {
            let tokens = analysis::analyze_to_vec(q);
            let starts = chunk_starts(q, &tokens);
            let mut out = vec![String::new(); starts.len() + 1];
            for t in tokens.iter().filter(|t| t.kind == TokenKind::Word) {
                let chunk = starts.iter().filter(|&&s| s <= t.from).count();
                if !out[chunk].is_empty() {
                    out[chunk].push(' ');
                }
                out[chunk].push_str(&t.text);
            }
            out
        };
        assert_eq!(chunks("指南 - 计算属性调试"), ["指南", "计算 属性 调试"]);
        assert_eq!(chunks("Reactivity API: Core").len(), 2);
        assert_eq!(chunks("管理内存、CPU 和 API 资源").len(), 2);
        assert_eq!(chunks("Role-Based Access Control (RBAC)").len(), 1);
        assert_eq!(chunks("<Transition> API reference").len(), 1);
        assert_eq!(chunks("v-model 认证/鉴权").len(), 1);
        assert_eq!(chunks("Provide / Inject").len(), 2);
    }

    #[test]
    fn a_long_han_query_adds_a_bounded_number_of_bigrams() {
        // 2 000 distinct characters: without a bound, 1 999 bigrams to look up.
        let query: String = (0x4e00u32..0x4e00 + 2000)
            .filter_map(char::from_u32)
            .collect();
        let tokens = analysis::analyze_to_vec(&query);
        let words: Vec<PlannedWord> = tokens
            .iter()
            .take(MAX_WORDS)
            .map(|t| PlannedWord {
                required: true,
                position: t.position,
                whole: true,
                chunk: 0,
                from: t.from,
                to: t.to,
                known: true,
                term: t.text.clone(),
                alternatives: vec![(t.text.clone(), 1.0)],
                corrected_term: None,
                correction: None,
            })
            .collect();
        let bigrams = query_bigrams(&query, &words);
        assert!(!bigrams.is_empty());
        assert!(bigrams.len() <= MAX_BIGRAMS, "{} bigrams", bigrams.len());
        // They come from the words' part of the query.
        let covered = &query[..words.iter().map(|w| w.to).max().unwrap()];
        let of_covered = analysis::bigrams::distinct(covered);
        assert!(bigrams.iter().all(|b| of_covered.contains(b)));
    }

    #[test]
    fn a_query_in_its_chinese_languages_script() {
        assert!(in_own_script("zh-tw", "偵聽器調試"));
        assert!(in_own_script("zh-hk", "偵聽器調試"));
        assert!(in_own_script("zh-cn", "侦听器调试"));
        assert!(!in_own_script("zh-cn", "偵聽器調試"));
        assert!(!in_own_script("zh-tw", "侦听器调试"));
        // Characters both scripts write alike tell nothing; other languages never are.
        assert!(!in_own_script("zh-tw", "插槽"));
        assert!(!in_own_script("en", "偵聽器"));
    }

    #[test]
    fn idioms_weigh_by_the_script_of_the_query_and_of_the_filter() {
        let index = crate::index::SearchIndex::in_memory().unwrap();
        let searcher = index.reader.searcher();
        let ranking = Ranking {
            idiom: 1.0,
            idiom_same_script: 0.25,
            ..Ranking::default()
        };
        let weight = |query: &str, lang: Option<&str>| -> Option<f32> {
            let lookup = Lookup::new(&searcher);
            let plan = plan_with(query, false, lang, &lookup, &index.fields, &ranking);
            let first = plan.words.first()?;
            first
                .alternatives
                .iter()
                .find(|(t, _)| t == "软件")
                .map(|(_, w)| *w)
        };
        // Taiwan's word asked of Taiwan's articles: the mainland's is mostly another sense.
        assert_eq!(weight("軟體", Some("zh-tw")), Some(0.25));
        assert_eq!(weight("軟體", Some("zh-cn")), Some(1.0));
        assert_eq!(weight("軟體", None), Some(1.0));
    }

    #[test]
    fn ranking_overrides_are_parsed() {
        let r = Ranking::with_overrides("title=7, body=0.5,bogus");
        assert_eq!(r.title, 7.0);
        assert_eq!(r.body, 0.5);
        assert_eq!(r.headings, Ranking::default().headings);
    }
}
