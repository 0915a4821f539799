//! Articles that answer a customer's message: what an agent gets by pasting a whole ticket.
//!
//! A message of several sentences is not a query: searching it word for word ranks articles
//! by its greetings and filler, and requiring its words finds nothing. Like Lucene's
//! MoreLikeThis, [`Engine::answers`] keeps the message's most telling words (frequent in it,
//! rare in the help center, by tf·idf) and ranks the articles by BM25 over any of them, with
//! a bonus where two words the message has side by side appear together: customers state
//! their subject in phrases. A short message (a few words on one line) is a query after all
//! and goes to [`Engine::search`].

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{Searcher, Term};

use super::plan::{Plan, PlannedWord};
use super::{Engine, SearchError, SearchParams, SearchResponse, checked};
use crate::analysis::script::RunKind;
use crate::analysis::{self, TokenKind, stopwords};

/// Longest part of a message read, in characters: a long thread's first screens say what
/// it is about; quoted history below adds noise and time.
pub const MAX_MESSAGE_CHARS: usize = 20_000;
/// Words kept from a message (Lucene's MoreLikeThis keeps 25 too).
const TELLING_WORDS: usize = 25;
/// Phrase bonus of a pair of telling words side by side in the message, times that of an
/// ordinary search's words: the message states its subject in phrases, its small talk
/// rarely matches a phrase of the articles. Chosen with `scripts/message_eval.py`.
const PAIR_BONUS: f32 = 3.0;
/// A message of at most this many words, on one line, is searched as a query.
const QUERY_WORDS: usize = 6;

/// Han characters from which a text without spaces is a message: about six words.
const QUERY_HAN_CHARS: usize = 12;

/// Whether `text` is a message (more than six words, or several lines) rather than a query.
/// Chinese is written without spaces, so there a dozen characters count as six words (the
/// agent panel uses the same rule).
pub fn is_message(text: &str) -> bool {
    let text = text.trim();
    text.contains('\n')
        || text.split_whitespace().nth(QUERY_WORDS).is_some()
        || analysis::script::runs(text)
            .filter(|run| run.kind == RunKind::Han)
            .map(|run| text[run.start..run.end].chars().count())
            .sum::<usize>()
            > QUERY_HAN_CHARS
}

/// A message's most telling words (with their tf·idf, highest first) and the pairs of them
/// it has side by side.
struct Telling {
    words: Vec<(String, f32)>,
    pairs: Vec<(String, String)>,
}

impl Engine {
    /// The articles that answer `params.query`, a customer's message or a query.
    pub fn answers(&self, params: &SearchParams) -> Result<SearchResponse, SearchError> {
        let text: String = params.query.chars().take(MAX_MESSAGE_CHARS).collect();
        if !is_message(&text) {
            let short = SearchParams {
                query: text,
                ..params.clone()
            };
            return self.search(&short);
        }
        let started = Instant::now();
        let lang = checked(params)?;
        let searcher = self.index.reader.searcher();
        let Telling {
            words: telling,
            pairs,
        } = self.telling_words(&searcher, &text);
        let plan = Plan {
            words: telling
                .iter()
                .enumerate()
                .map(|(i, (term, _))| PlannedWord {
                    term: term.clone(),
                    required: true,
                    position: i,
                    whole: true,
                    chunk: 0,
                    from: 0,
                    to: 0,
                    known: true,
                    alternatives: vec![(term.clone(), 1.0)],
                    correction: None,
                    corrected_term: None,
                })
                .collect(),
            title_key: String::new(),
            corrected_title_key: None,
            bigrams: Vec::new(),
        };
        let catalog = self.index.catalog();
        let reader = super::group::Reader::of_message(params.hl.as_deref(), &text, &catalog);
        let mut response = SearchResponse {
            query: params.query.clone(),
            total: 0,
            took_ms: 0.0,
            results: Vec::new(),
            reader_lang: reader.lang.clone(),
            search_id: None,
            corrected_query: None,
        };
        if !telling.is_empty() {
            let query = self.telling_query(&telling, &pairs, lang.as_deref(), params.drafts);
            let mut clock = super::Clock::start(started);
            let found = super::group::collect(&searcher, &searcher, &*query, &catalog, params)?;
            let (top, total) = super::group::page(
                &searcher,
                found,
                &catalog,
                self.index.fields.path,
                params,
                lang.as_deref(),
                &reader,
            )?;
            let lookup = super::lookup::Lookup::new(&searcher);
            response.results = self.hits(&lookup, top, &plan, params, &catalog, &mut clock)?;
            response.total = total;
        }
        response.took_ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(response)
    }

    /// The message's most telling words with their weights (highest first): words the index
    /// knows, function words and numbers aside, by frequency in the message times rarity in
    /// the help center; words in more than half the articles say nothing.
    fn telling_words(&self, searcher: &Searcher, text: &str) -> Telling {
        let f = &self.index.fields;
        let fields = [
            f.title,
            f.headings,
            f.description,
            f.tags,
            f.queries,
            f.body,
        ];
        let mut counts: HashMap<String, u32> = HashMap::new();
        let mut sequence: Vec<(usize, String)> = Vec::new();
        for t in analysis::analyze_to_vec(text) {
            let letters = t.text.chars().filter(|c| c.is_alphabetic()).count();
            let han = t.text.chars().any(|c| {
                use unicode_script::{Script, UnicodeScript};
                c.script() == Script::Han
            });
            if t.kind != TokenKind::Word
                || stopwords::is_stop_word(&t.text)
                || letters == 0
                || (letters < 3 && !han)
            {
                continue;
            }
            sequence.push((t.position, t.text.clone()));
            *counts.entry(t.text).or_default() += 1;
        }
        let docs = searcher.num_docs().max(1) as f32;
        let mut scored: Vec<(String, f32)> = counts
            .into_iter()
            .filter_map(|(term, tf)| {
                let df = fields
                    .iter()
                    .map(|&field| {
                        searcher
                            .doc_freq(&Term::from_field_text(field, &term))
                            .unwrap_or(0)
                    })
                    .max()
                    .unwrap_or(0) as f32;
                if df == 0.0 || (docs >= 8.0 && df > docs / 2.0) {
                    return None;
                }
                let idf = (1.0 + docs / df).ln();
                Some((term, (tf as f32).sqrt() * idf))
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        scored.truncate(TELLING_WORDS);
        // Pairs in the order of the message; ranking them by rarity favoured small talk.
        let kept: HashSet<&str> = scored.iter().map(|(t, _)| t.as_str()).collect();
        let mut pairs: Vec<(String, String)> = Vec::new();
        for w in sequence.windows(2) {
            let ((p1, a), (p2, b)) = (&w[0], &w[1]);
            let pair = (a.clone(), b.clone());
            if *p2 == p1 + 1
                && a != b
                && kept.contains(a.as_str())
                && kept.contains(b.as_str())
                && !pairs.contains(&pair)
            {
                pairs.push(pair);
            }
        }
        pairs.truncate(TELLING_WORDS);
        Telling {
            words: scored,
            pairs,
        }
    }

    /// Any of the telling words, in every field with the field boosts of ordinary searches,
    /// and a bonus for each pair of them the message has side by side found together.
    ///
    /// The words are not weighted by how telling they are: BM25 weighs them by rarity
    /// already, and weighing twice let a message's rarest small talk ("stuck", a name)
    /// outrank its subject (Lucene's MoreLikeThis does not boost by default either).
    fn telling_query(
        &self,
        telling: &[(String, f32)],
        pairs: &[(String, String)],
        lang: Option<&str>,
        drafts: bool,
    ) -> Box<dyn Query> {
        let boosts = self.ranking.field_boosts(&self.index.fields);
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (term, _) in telling {
            let fields: Vec<(Occur, Box<dyn Query>)> = boosts
                .iter()
                .map(|&(field, boost)| -> (Occur, Box<dyn Query>) {
                    (
                        Occur::Should,
                        Box::new(BoostQuery::new(
                            Box::new(TermQuery::new(
                                Term::from_field_text(field, term),
                                IndexRecordOption::WithFreqs,
                            )),
                            boost,
                        )),
                    )
                })
                .collect();
            should.push((Occur::Should, Box::new(BooleanQuery::new(fields))));
        }
        let f = &self.index.fields;
        let r = &*self.ranking;
        for (a, b) in pairs {
            for (field, slop, boost) in [
                (f.body, r.phrase_slop, r.phrase_body),
                (f.title, 0, r.phrase_title),
            ] {
                let mut phrase = PhraseQuery::new(vec![
                    Term::from_field_text(field, a),
                    Term::from_field_text(field, b),
                ]);
                phrase.set_slop(slop);
                should.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(phrase), boost * PAIR_BONUS)),
                ));
            }
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(should)))];
        clauses.extend(self.filters(lang, drafts));
        Box::new(BooleanQuery::new(clauses))
    }
}

#[cfg(test)]
mod tests {
    use super::is_message;

    #[test]
    fn messages_are_long_or_several_lines_in_any_script() {
        assert!(!is_message("reset password"));
        assert!(!is_message("how do I reset my password"));
        assert!(is_message("hi, how do I reset my password please"));
        assert!(is_message("Hi\nreset"));
        assert!(!is_message("重設密碼"));
        assert!(!is_message("如何重设密码"));
        assert!(is_message(
            "你好，我上週訂購的磨豆機送到時蓋子裂了，我想要退款。"
        ));
        assert!(is_message(
            "Добрий день! Я хочу призупинити підписку на наступний місяць"
        ));
    }
}
