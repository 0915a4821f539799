//! A result's stored fields, read from tantivy's doc store as plain strings and bytes.
//!
//! tantivy's own `TantivyDocument` copies every value into a generic value tree, and a
//! result then copied its text out again: for a long article's body, two copies and most of
//! a snippet's cost. kb stores only text, bytes and a flag, so this keeps each text or bytes
//! value as the doc store hands it over, once. The body is stored as bytes so that it is not
//! validated as UTF-8 as a whole ([`super::snippet`] validates what it shows).

use tantivy::schema::Field;
use tantivy::schema::document::{
    DeserializeError, DocumentDeserialize, DocumentDeserializer, ValueDeserialize,
    ValueDeserializer, ValueVisitor,
};

/// One stored value.
enum Value {
    Text(String),
    Bytes(Vec<u8>),
    /// A value of another type (the draft flag): not needed for a result.
    Other,
}

struct Visitor;

impl ValueVisitor for Visitor {
    type Value = Value;

    fn visit_string(&self, val: String) -> Result<Value, DeserializeError> {
        Ok(Value::Text(val))
    }

    fn visit_bytes(&self, val: Vec<u8>) -> Result<Value, DeserializeError> {
        Ok(Value::Bytes(val))
    }

    fn visit_bool(&self, _: bool) -> Result<Value, DeserializeError> {
        Ok(Value::Other)
    }

    fn visit_u64(&self, _: u64) -> Result<Value, DeserializeError> {
        Ok(Value::Other)
    }
}

impl ValueDeserialize for Value {
    fn deserialize<'de, D>(deserializer: D) -> Result<Self, DeserializeError>
    where
        D: ValueDeserializer<'de>,
    {
        deserializer.deserialize_any(Visitor)
    }
}

/// The stored values of one document, in the order they were stored.
pub struct Stored {
    values: Vec<(Field, Value)>,
}

impl DocumentDeserialize for Stored {
    fn deserialize<'de, D>(mut deserializer: D) -> Result<Self, DeserializeError>
    where
        D: DocumentDeserializer<'de>,
    {
        let mut values = Vec::with_capacity(deserializer.size_hint());
        while let Some(entry) = deserializer.next_field::<Value>()? {
            values.push(entry);
        }
        Ok(Stored { values })
    }
}

impl Stored {
    /// The first text value of `field`, or "".
    pub fn text(&self, field: Field) -> &str {
        self.values
            .iter()
            .find_map(|(f, v)| match v {
                Value::Text(t) if *f == field => Some(t.as_str()),
                _ => None,
            })
            .unwrap_or_default()
    }

    /// The first bytes value of `field`, moved out (or none).
    pub fn take_bytes(&mut self, field: Field) -> Vec<u8> {
        self.values
            .iter_mut()
            .find_map(|(f, v)| match v {
                Value::Bytes(b) if *f == field => Some(std::mem::take(b)),
                _ => None,
            })
            .unwrap_or_default()
    }

    /// The first bytes value of `field`, or none.
    pub fn bytes(&self, field: Field) -> &[u8] {
        self.values
            .iter()
            .find_map(|(f, v)| match v {
                Value::Bytes(b) if *f == field => Some(b.as_slice()),
                _ => None,
            })
            .unwrap_or_default()
    }
}
