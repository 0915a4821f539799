//! An article's headings as the index stores them for results that point at a section: a
//! binary table read in place, each heading's text and anchor borrowed from the stored
//! bytes (JSON was parsed, and every string allocated, for every result). The strings are
//! left as bytes: a result reads only its section's, and validates only those.
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
    /// Its text, UTF-8 as written (see [`HeadingRef::text`]).
    pub text: &'a [u8],
    /// Its anchor id on the article page, UTF-8 as written.
    pub id: &'a [u8],
}

impl HeadingRef<'_> {
    /// The heading's text (in a damaged index, with U+FFFD where it is not UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(self.text).into_owned()
    }

    /// Its anchor id, as [`HeadingRef::text`].
    pub fn id(&self) -> String {
        String::from_utf8_lossy(self.id).into_owned()
    }
}

impl<'a> From<&'a Heading> for HeadingRef<'a> {
    fn from(h: &'a Heading) -> Self {
        HeadingRef {
            level: h.level,
            at: h.at,
            text: h.text.as_bytes(),
            id: h.id.as_bytes(),
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
        let mut string = || -> Option<&[u8]> {
            let len = usize::try_from(read_varint(bytes, &mut at)?).ok()?;
            let s = bytes.get(at..at.checked_add(len)?)?;
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
