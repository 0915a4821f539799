//! The document kb hands tantivy's index writer: an article's values by field, the body's
//! and the bigram fields' tokens as kb's analysis made them.
//!
//! tantivy's own `TantivyDocument` keeps a pre-tokenized text as JSON (every token written
//! out when the document is built, on the analyzing threads, and parsed back on the one
//! writer thread): a fifth of a full build's CPU. This document keeps the tokens as they are
//! and hands them over to the writer (moved, not cloned: the writer reads an indexed, not
//! stored, not fast value once, and clones what it is given once more itself).

use tantivy::schema::document::{ReferenceValue, ReferenceValueLeaf, Value};
use tantivy::schema::{Document, Field};
use tantivy::tokenizer::PreTokenizedString;

/// The values of one article, field by field, in the order they were added.
#[derive(Debug, Default)]
pub struct Doc {
    values: Vec<(Field, Val)>,
}

/// One value of a [`Doc`].
#[derive(Debug)]
pub enum Val {
    Str(String),
    U64(u64),
    Bool(bool),
    Bytes(Vec<u8>),
    /// Taken by the writer when it indexes the field: see [`Value::as_value`] below.
    Tokens(std::sync::Mutex<PreTokenizedString>),
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

    pub fn add_pre_tokenized_text(&mut self, field: Field, tokens: PreTokenizedString) {
        self.values
            .push((field, Val::Tokens(std::sync::Mutex::new(tokens))));
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
            // The writer asks for a pre-tokenized value once, to index it (these fields are
            // neither stored nor fast): the tokens move to it rather than being copied on
            // its one thread. A second reader would see no tokens.
            Val::Tokens(tokens) => {
                let mut tokens = tokens.lock().unwrap_or_else(|e| e.into_inner());
                ReferenceValueLeaf::PreTokStr(Box::new(std::mem::replace(
                    &mut *tokens,
                    PreTokenizedString {
                        text: String::new(),
                        tokens: Vec::new(),
                    },
                )))
            }
        })
    }
}
