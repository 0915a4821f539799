//! An article's headings as the index stores them for results that point at a section: a
//! binary table read in place, each heading's text and anchor borrowed from the stored
//! bytes (JSON was parsed, and every string allocated, for every result).
//!
//! The table: a LEB128 count, then for each heading its level (one byte), where it starts
//! in the body text (LEB128), and its text and anchor id, each a LEB128 length and UTF-8.

use super::offsets::{push_varint, read_varint};
use crate::articles::Heading;

/// A stored heading, borrowed from the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadingRef<'a> {
    pub level: u8,
    /// Where the heading starts in the body text, in bytes.
    pub at: usize,
    pub text: &'a str,
    /// Its anchor id on the article page.
    pub id: &'a str,
}

impl<'a> From<&'a Heading> for HeadingRef<'a> {
    fn from(h: &'a Heading) -> Self {
        HeadingRef {
            level: h.level,
            at: h.at,
            text: &h.text,
            id: &h.id,
        }
    }
}

/// The table of `headings`.
pub fn encode(headings: &[Heading]) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        4 + headings
            .iter()
            .map(|h| 6 + h.text.len() + h.id.len())
            .sum::<usize>(),
    );
    push_varint(&mut out, headings.len() as u64);
    for h in headings {
        out.push(h.level);
        push_varint(&mut out, h.at as u64);
        for s in [&h.text, &h.id] {
            push_varint(&mut out, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
    }
    out
}

/// The headings of a table [`encode`] wrote; none when the bytes are not one (a damaged
/// index), as when an article has no headings.
pub fn decode(bytes: &[u8]) -> Vec<HeadingRef<'_>> {
    read(bytes).unwrap_or_default()
}

fn read(bytes: &[u8]) -> Option<Vec<HeadingRef<'_>>> {
    let mut at = 0;
    let count = read_varint(bytes, &mut at)?;
    // Each heading takes at least four bytes: a count past that is damage.
    if count > bytes.len() as u64 / 4 {
        return None;
    }
    let mut out = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let level = *bytes.get(at)?;
        at += 1;
        let start = usize::try_from(read_varint(bytes, &mut at)?).ok()?;
        let mut string = || -> Option<&str> {
            let len = usize::try_from(read_varint(bytes, &mut at)?).ok()?;
            let s = std::str::from_utf8(bytes.get(at..at.checked_add(len)?)?).ok()?;
            at += len;
            Some(s)
        };
        let text = string()?;
        let id = string()?;
        out.push(HeadingRef {
            level,
            at: start,
            text,
            id,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damage() {
        let headings = vec![
            Heading {
                level: 1,
                text: "Title".into(),
                id: "title".into(),
                at: 0,
            },
            Heading {
                level: 2,
                text: "偵聽器調試 & <more>".into(),
                id: "watcher-debugging".into(),
                at: 70_000,
            },
            Heading {
                level: 6,
                text: String::new(),
                id: "x-1".into(),
                at: 5,
            },
        ];
        let bytes = encode(&headings);
        let want: Vec<HeadingRef> = headings.iter().map(HeadingRef::from).collect();
        assert_eq!(decode(&bytes), want);
        assert!(decode(&encode(&[])).is_empty());
        // Truncated anywhere, or not a table at all: no headings, no panic.
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_empty(), "{cut}");
        }
        assert!(decode(b"[{\"level\":2}]").is_empty());
        assert!(decode(&[0xff, 0xff, 0xff, 0xff, 0x0f]).is_empty());
    }
}
