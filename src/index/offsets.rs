//! Where each word of an article's body is: the bridge from a matched position in the
//! postings to a place in the stored text.
//!
//! The body is analyzed once, at indexing time, and tantivy is handed the tokens. The byte
//! span of every word position is stored beside the text as LEB128 varints: the distance
//! from the previous word's start, then the word's length (two or three bytes a word).
//! Snippets then find the best passage and place their marks from the postings' positions
//! alone, without re-analyzing text at query time, which matters for long Chinese pages where
//! jieba would dominate query time.

/// The byte span of one word in the body text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub len: u32,
}

fn push_varint(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Encodes word spans in position order (starts never decrease).
pub fn encode(spans: &[Span]) -> Vec<u8> {
    let mut out = Vec::with_capacity(spans.len() * 3);
    let mut prev = 0u32;
    for s in spans {
        push_varint(&mut out, s.start.saturating_sub(prev));
        push_varint(&mut out, s.len);
        prev = s.start.max(prev);
    }
    out
}

/// Decodes what [`encode`] wrote; a truncated tail is ignored.
pub fn decode(bytes: &[u8]) -> Vec<Span> {
    decode_first(bytes, usize::MAX)
}

/// The first `n` spans of what [`encode`] wrote (fewer if there are fewer): a snippet needs
/// the spans up to its last match, not the whole article's.
pub fn decode_first(bytes: &[u8], n: usize) -> Vec<Span> {
    let mut values = Vec::with_capacity(bytes.len().min(n.saturating_mul(2)));
    let (mut v, mut shift) = (0u32, 0u32);
    for &b in bytes {
        if values.len() / 2 >= n {
            break;
        }
        if shift < 32 {
            v |= u32::from(b & 0x7f) << shift;
        }
        if b & 0x80 == 0 {
            values.push(v);
            v = 0;
            shift = 0;
        } else {
            shift += 7;
        }
    }
    let mut prev = 0u32;
    values
        .chunks_exact(2)
        .map(|pair| {
            prev = prev.saturating_add(pair[0]);
            Span {
                start: prev,
                len: pair[1],
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let spans: Vec<Span> = [
            (0, 3),
            (4, 1),
            (200, 9),
            (201, 2),
            (70_000, 300),
            (4_000_000, 5),
        ]
        .iter()
        .map(|&(start, len)| Span { start, len })
        .collect();
        assert_eq!(decode(&encode(&spans)), spans);
        assert_eq!(encode(&spans[..2]).len(), 4);
        assert!(decode(&[]).is_empty());
        // A truncated tail is dropped, not misread.
        let bytes = encode(&spans);
        assert_eq!(decode(&bytes[..bytes.len() - 1]).len(), spans.len() - 1);
        // The first spans alone, as far as a snippet needs them.
        assert_eq!(decode_first(&bytes, 3), spans[..3]);
        assert_eq!(decode_first(&bytes, 0), []);
        assert_eq!(decode_first(&bytes, 100), spans);
    }
}
