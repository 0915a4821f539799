//! A result's stored fields, read in place from the raw bytes of its document in the doc
//! store ([`crate::index::store`]).
//!
//! tantivy's own reading builds every stored value: a bytes value one byte at a time (a
//! fifth of a search's time with long bodies), every text copied, and the article's whole
//! `source` with them though no result shows it. kb stores only text, bytes, a flag and
//! numbers, so this finds each value's place in the document's bytes (a slice of the mapped
//! store file: [`crate::index::store`]) and reads a text or bytes value where it lies; the
//! values a result does not read are skipped over by their length, their pages untouched.
//!
//! The layout is tantivy's binary document (`BinaryDocumentSerializer`, tantivy 0.27): a
//! VInt count of values, then for each its field (u32, little endian), a type code and the
//! value: text and bytes as a VInt length and the bytes, a bool as one byte, numbers and
//! dates as eight. A test checks every stored value of an index against tantivy's reading.

use std::ops::Range;

use tantivy::directory::OwnedBytes;
use tantivy::schema::Field;
use tantivy::{DocId, TantivyError};

use crate::index::store::{SegmentStore, vint};

/// tantivy's type codes (`tantivy::schema::document::type_codes`, which is private).
mod code {
    pub const TEXT: u8 = 0;
    pub const U64: u8 = 1;
    pub const I64: u8 = 2;
    pub const BYTES: u8 = 4;
    pub const DATE: u8 = 5;
    pub const F64: u8 = 6;
    pub const BOOL: u8 = 9;
}

/// The stored text and bytes values of one document, where they are in its bytes.
pub struct Stored {
    bytes: OwnedBytes,
    values: Vec<(Field, Range<usize>)>,
}

impl Stored {
    /// Reads document `doc` of the segment whose doc store is `store`.
    pub fn read(store: &SegmentStore, doc: DocId) -> tantivy::Result<Stored> {
        let bytes = store.document(doc)?;
        let values = places(bytes.as_slice()).ok_or_else(|| {
            TantivyError::InternalError(format!(
                "stored document {doc} is not in the layout kb reads; rebuild the index \
                 (delete the index folder) or check the tantivy version"
            ))
        })?;
        Ok(Stored { bytes, values })
    }

    fn first(&self, field: Field) -> &[u8] {
        self.values
            .iter()
            .find(|(f, _)| *f == field)
            .map_or(&[][..], |(_, r)| &self.bytes.as_slice()[r.clone()])
    }

    /// The first text value of `field`, or "".
    pub fn text(&self, field: Field) -> &str {
        std::str::from_utf8(self.first(field)).unwrap_or_default()
    }

    /// The first bytes value of `field`, or none.
    pub fn bytes(&self, field: Field) -> &[u8] {
        self.first(field)
    }
}

/// Where each text and bytes value of a stored document is; `None` when the bytes are not
/// a document of the layout above (or hold a type kb does not store).
fn places(doc: &[u8]) -> Option<Vec<(Field, Range<usize>)>> {
    let mut at = 0;
    let count = vint(doc, &mut at)?;
    let mut values = Vec::with_capacity(count.min(64) as usize);
    for _ in 0..count {
        let field = u32::from_le_bytes(doc.get(at..at + 4)?.try_into().ok()?);
        at += 4;
        let code = *doc.get(at)?;
        at += 1;
        match code {
            code::TEXT | code::BYTES => {
                let len = usize::try_from(vint(doc, &mut at)?).ok()?;
                let end = at.checked_add(len).filter(|&end| end <= doc.len())?;
                values.push((Field::from_field_id(field), at..end));
                at = end;
            }
            code::BOOL => at += 1,
            code::U64 | code::I64 | code::F64 | code::DATE => at += 8,
            _ => return None,
        }
    }
    (at <= doc.len()).then_some(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::TantivyDocument;
    use tantivy::schema::{OwnedValue, Value};

    #[test]
    fn reads_what_tantivy_reads_from_every_stored_document() {
        let articles = tempfile::tempdir().unwrap();
        let index = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let p = articles.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        // Long values (VInt lengths of several bytes), many values, empty ones, every
        // script, front matter with every stored field.
        let long = "Refunds take a while. ".repeat(2000);
        write(
            "en/long.md",
            &format!("# Long\n\n{long}\n\n## Part\n\nmore"),
        );
        write(
            "en/full.md",
            "---\ntitle: Full\ndescription: All of it\ncategory: billing\ntags: [a, b]\n\
             reply: Hello there\ndraft: true\nqueries: [how do refunds work]\n---\n\
             # Full\n\nBody with `code` and ```\nblock\n```\n",
        );
        write("zh-cn/a.md", "# 退款\n\n退款需要几天。");
        write("uk/a.md", "# Повернення\n\nПовернення коштів.");
        write("en/empty.md", "");
        let idx = crate::index::SearchIndex::open_or_create(index.path()).unwrap();
        let mut w = crate::index::writer::open_writer(&idx).unwrap();
        crate::index::writer::sync(&idx, &mut w, articles.path(), &Default::default()).unwrap();
        let searcher = idx.reader.searcher();
        let stores = idx.doc_stores(&searcher).unwrap();
        let (schema, _) = crate::index::schema();
        let (mut docs, mut values) = (0, 0);
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            assert!(stores[ord].in_place());
            for doc in segment.doc_ids_alive() {
                let ours = Stored::read(&stores[ord], doc).unwrap();
                docs += 1;
                let theirs: TantivyDocument = searcher
                    .doc(tantivy::DocAddress::new(ord as u32, doc))
                    .unwrap();
                for (field, entry) in schema.fields() {
                    if !entry.is_stored() {
                        continue;
                    }
                    match theirs.get_first(field).map(|v| v.as_value().into()) {
                        Some(OwnedValue::Str(s)) => assert_eq!(ours.text(field), s),
                        Some(OwnedValue::Bytes(b)) => assert_eq!(ours.bytes(field), b),
                        Some(_) => continue,
                        None => assert_eq!(ours.bytes(field), b""),
                    }
                    values += 1;
                }
            }
        }
        assert_eq!(docs, 5);
        assert!(values >= docs * 12, "{values} values compared");
    }

    #[test]
    fn refuses_bytes_that_are_not_a_document() {
        // Counted values that are not there, a length past the end, an unknown type.
        assert!(places(&[0x83]).is_none());
        assert!(places(&[0x81, 1, 0, 0, 0, code::TEXT, 0x85, b'a']).is_none());
        assert!(places(&[0x81, 1, 0, 0, 0, 3, 0x80]).is_none());
        assert!(places(&[0x7f]).is_none());
        let ok = places(&[
            0x82,
            1,
            0,
            0,
            0,
            code::TEXT,
            0x82,
            b'h',
            b'i',
            2,
            0,
            0,
            0,
            code::BOOL,
            1,
        ])
        .unwrap();
        assert_eq!(ok, [(Field::from_field_id(1), 7..9)]);
    }
}
