//! The document kb hands tantivy's index writer: an article's values by field, the body's
//! and the bigram fields' tokens as kb's analysis made them.
//!
//! tantivy's own `TantivyDocument` keeps a pre-tokenized text as JSON (every token written
//! out when the document is built, on the analyzing threads, and parsed back on the one
//! writer thread), and even a custom document's pre-tokenized value is copied, token by
//! token, on that thread before it is indexed (`*tok_str.clone()` in tantivy 0.27's
//! inverted index writer): 8 % of a full build's CPU, on the thread that every document
//! waits for. So the tokens made on the analyzing threads are *handed over* instead
//! ([`Doc::add_tokens`]): they wait in a table under a number, the field's value is that
//! number, and the field's tokenizer ([`HANDED_TOKENIZER`], [`HandedTokenizer`]) takes them
//! out of the table and yields them in place (one reused token, no copy). The table holds
//! only the tokens of documents on their way to the writer (a document dropped unindexed
//! takes its tokens out with it): nothing is kept across documents, let alone searches.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex};

use tantivy::schema::document::{ReferenceValue, ReferenceValueLeaf, Value};
use tantivy::schema::{Document, Field};

/// Name of the tokenizer of the fields whose tokens are handed over ([`Doc::add_tokens`]):
/// the body and the bigram fields. It analyzes nothing, so these fields take no other
/// values.
pub const HANDED_TOKENIZER: &str = "kb_handed";

/// The tokens of one value, made on an analyzing thread: the terms' bytes end to end, and
/// each term's end in them with its position (a term a token, without a `String` each).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tokens {
    text: String,
    /// (end of the term in `text`, position)
    terms: Vec<(u32, u32)>,
}

impl Tokens {
    /// Adds a term at `position` (after the terms already in).
    pub fn push(&mut self, term: &str, position: usize) {
        self.text.push_str(term);
        self.terms.push((self.text.len() as u32, position as u32));
    }

    /// The terms, in order.
    pub fn terms(&self) -> impl Iterator<Item = &str> {
        let mut start = 0;
        self.terms.iter().map(move |&(end, _)| {
            let term = &self.text[start..end as usize];
            start = end as usize;
            term
        })
    }

    pub fn len(&self) -> usize {
        self.terms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

/// Tokens on their way to the writer, by number ([`Doc::add_tokens`]).
static HANDED: LazyLock<Mutex<rustc_hash::FxHashMap<u64, Tokens>>> =
    LazyLock::new(Default::default);
static NEXT: AtomicU64 = AtomicU64::new(0);

fn handed() -> std::sync::MutexGuard<'static, rustc_hash::FxHashMap<u64, Tokens>> {
    HANDED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Takes the tokens handed over under `key` (the value of a handed field).
fn take(key: &str) -> Option<Tokens> {
    handed().remove(&key.parse::<u64>().ok()?)
}

/// The value of a handed field: the number its tokens wait under. Dropped before the
/// writer took them (a document that was never indexed), it takes them out of the table.
#[derive(Debug)]
pub struct Handed {
    key: String,
}

impl Handed {
    fn new(tokens: Tokens) -> Self {
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        handed().insert(id, tokens);
        Handed {
            key: id.to_string(),
        }
    }
}

impl Drop for Handed {
    fn drop(&mut self) {
        take(&self.key);
    }
}

/// The values of one article, field by field, in the order they were added.
#[derive(Debug, Default)]
pub struct Doc {
    values: Vec<(Field, Val)>,
    /// Set when the document is handed to the writer ([`InFlight::send`]).
    sent: Option<Sent>,
}

/// Documents handed to one sync's writer and not yet indexed (dropped) by it: tantivy
/// queues up to thousands, each with its tokens, so a build whose analysis outruns the writer
/// would hold most of the corpus in memory (a 229 MB peak RSS against 115 MB on k8s-docs).
/// One per sync: another index's build in the same process is not held up by this one's.
#[derive(Debug, Clone, Default)]
pub struct InFlight(Arc<(Mutex<usize>, Condvar)>);

/// Documents an [`InFlight`] lets on their way to the writer at once.
pub const MAX_SENT: usize = 32;

impl InFlight {
    fn count(&self) -> std::sync::MutexGuard<'_, usize> {
        self.0.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `doc`, once fewer than [`MAX_SENT`] documents are on their way to the writer, counted
    /// as on its way until tantivy drops it (indexed, or never).
    pub fn send(&self, mut doc: Doc) -> Doc {
        if doc.sent.is_none() {
            let mut n = self.count();
            while *n >= MAX_SENT {
                n = self.0.1.wait(n).unwrap_or_else(|e| e.into_inner());
            }
            *n += 1;
            doc.sent = Some(Sent(self.clone()));
        }
        doc
    }
}

/// A document counted by its [`InFlight`] until it is dropped.
#[derive(Debug)]
struct Sent(InFlight);

impl Drop for Sent {
    fn drop(&mut self) {
        *self.0.count() -= 1;
        self.0.0.1.notify_all();
    }
}

/// One value of a [`Doc`].
#[derive(Debug)]
pub enum Val {
    Str(String),
    U64(u64),
    Bool(bool),
    Bytes(Vec<u8>),
    /// Tokens handed over to the writer ([`Doc::add_tokens`]).
    Handed(Handed),
}

impl Doc {
    pub fn new() -> Self {
        Doc::default()
    }

    pub fn add_text(&mut self, field: Field, text: impl Into<String>) {
        self.values.push((field, Val::Str(text.into())));
    }

    pub fn add_u64(&mut self, field: Field, value: u64) {
        self.values.push((field, Val::U64(value)));
    }

    pub fn add_bool(&mut self, field: Field, value: bool) {
        self.values.push((field, Val::Bool(value)));
    }

    pub fn add_bytes(&mut self, field: Field, bytes: impl Into<Vec<u8>>) {
        self.values.push((field, Val::Bytes(bytes.into())));
    }

    /// Adds a value of an indexed-only field whose tokenizer is [`HANDED_TOKENIZER`]: the
    /// writer indexes `tokens` as they are.
    pub fn add_tokens(&mut self, field: Field, tokens: Tokens) {
        self.values.push((field, Val::Handed(Handed::new(tokens))));
    }
}

impl Document for Doc {
    type Value<'a> = &'a Val;
    type FieldsValuesIter<'a> = std::iter::Map<
        std::slice::Iter<'a, (Field, Val)>,
        fn(&'a (Field, Val)) -> (Field, &'a Val),
    >;

    fn iter_fields_and_values(&self) -> Self::FieldsValuesIter<'_> {
        self.values.iter().map(|(field, value)| (*field, value))
    }
}

impl<'a> Value<'a> for &'a Val {
    type ArrayIter = std::iter::Empty<&'a Val>;
    type ObjectIter = std::iter::Empty<(&'a str, &'a Val)>;

    fn as_value(&self) -> ReferenceValue<'a, Self> {
        ReferenceValue::Leaf(match self {
            Val::Str(text) => ReferenceValueLeaf::Str(text),
            Val::U64(value) => ReferenceValueLeaf::U64(*value),
            Val::Bool(value) => ReferenceValueLeaf::Bool(*value),
            Val::Bytes(bytes) => ReferenceValueLeaf::Bytes(bytes),
            // The handed field's tokenizer reads the number and takes the tokens.
            Val::Handed(handed) => ReferenceValueLeaf::Str(&handed.key),
        })
    }
}

/// The tokenizer of handed fields ([`HANDED_TOKENIZER`]): the tokens handed over under the
/// value's number, taken out of the table.
#[derive(Clone, Default)]
pub struct HandedTokenizer {
    tokens: Tokens,
    token: tantivy::tokenizer::Token,
}

/// The tokens of one handed value, in one reused tantivy token.
pub struct HandedStream<'a> {
    tokens: &'a Tokens,
    token: &'a mut tantivy::tokenizer::Token,
    next: usize,
    start: usize,
}

impl tantivy::tokenizer::Tokenizer for HandedTokenizer {
    type TokenStream<'a> = HandedStream<'a>;

    fn token_stream<'a>(&'a mut self, key: &'a str) -> HandedStream<'a> {
        let tokens = take(key);
        debug_assert!(tokens.is_some(), "no tokens handed over under {key:?}");
        self.tokens = tokens.unwrap_or_default();
        self.token = tantivy::tokenizer::Token::default();
        HandedStream {
            tokens: &self.tokens,
            token: &mut self.token,
            next: 0,
            start: 0,
        }
    }
}

impl tantivy::tokenizer::TokenStream for HandedStream<'_> {
    fn advance(&mut self) -> bool {
        let Some(&(end, position)) = self.tokens.terms.get(self.next) else {
            return false;
        };
        let end = end as usize;
        self.token.text.clear();
        self.token.text.push_str(&self.tokens.text[self.start..end]);
        self.token.position = position as usize;
        self.start = end;
        self.next += 1;
        true
    }

    fn token(&self) -> &tantivy::tokenizer::Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut tantivy::tokenizer::Token {
        self.token
    }
}

/// Registers [`HandedTokenizer`] on an index.
pub fn register(index: &tantivy::Index) {
    index
        .tokenizers()
        .register(HANDED_TOKENIZER, HandedTokenizer::default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::tokenizer::{TokenStream, Tokenizer};

    fn tokens(terms: &[(&str, usize)]) -> Tokens {
        let mut t = Tokens::default();
        for &(term, position) in terms {
            t.push(term, position);
        }
        t
    }

    #[test]
    fn a_sent_document_counts_until_it_is_dropped() {
        let in_flight = InFlight::default();
        let docs: Vec<Doc> = (0..3).map(|_| in_flight.send(Doc::new())).collect();
        assert_eq!(*in_flight.count(), 3);
        drop(docs);
        assert_eq!(*in_flight.count(), 0);
    }

    #[test]
    fn the_tokenizer_yields_the_handed_tokens_once() {
        let handed = Handed::new(tokens(&[("pod", 0), ("pods", 0), ("节点", 1), ("", 2)]));
        let mut tokenizer = HandedTokenizer::default();
        let mut stream = tokenizer.token_stream(&handed.key);
        let mut seen = Vec::new();
        while stream.advance() {
            let t = stream.token();
            seen.push((t.text.clone(), t.position, t.position_length));
        }
        let expected =
            [("pod", 0), ("pods", 0), ("节点", 1), ("", 2)].map(|(t, p)| (t.to_string(), p, 1));
        assert_eq!(seen, expected);
        // Taken: nothing waits under the number any more.
        assert!(take(&handed.key).is_none());
    }

    #[test]
    fn a_document_dropped_unindexed_takes_its_tokens_away() {
        let mut doc = Doc::new();
        doc.add_tokens(Field::from_field_id(0), tokens(&[("a", 0)]));
        let Val::Handed(h) = &doc.values[0].1 else {
            panic!("not handed")
        };
        let key = h.key.clone();
        assert!(handed().contains_key(&key.parse().unwrap()));
        drop(doc);
        assert!(take(&key).is_none());
    }

    #[test]
    fn terms_come_back_in_order() {
        let t = tokens(&[("a", 0), ("bc", 1), ("", 2), ("d", 3)]);
        assert_eq!(t.terms().collect::<Vec<_>>(), ["a", "bc", "", "d"]);
        assert_eq!(t.len(), 4);
    }
}
