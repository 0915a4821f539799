//! Where each word of an article's body starts: the bridge from a matched position in the
//! postings to a place in the stored text.
//!
//! The body is analyzed once, at indexing time, and tantivy is handed the tokens. The byte
//! offset of every word position is stored beside the text, delta-encoded as LEB128 varints
//! (one or two bytes a word). Snippets then find the best passage from the postings' positions
//! without re-analyzing whole articles, which matters for long Chinese pages where jieba
//! would dominate query time.

/// Encodes ascending byte offsets, one per word position.
pub fn encode(offsets: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(offsets.len() * 2);
    let mut prev = 0u32;
    for &o in offsets {
        let mut delta = o.saturating_sub(prev);
        prev = o.max(prev);
        loop {
            let byte = (delta & 0x7f) as u8;
            delta >>= 7;
            if delta == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
    }
    out
}

/// Decodes what [`encode`] wrote; a truncated tail is ignored.
pub fn decode(bytes: &[u8]) -> Vec<u32> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut prev = 0u32;
    let mut delta = 0u32;
    let mut shift = 0u32;
    for &b in bytes {
        if shift < 32 {
            delta |= u32::from(b & 0x7f) << shift;
        }
        if b & 0x80 == 0 {
            prev = prev.saturating_add(delta);
            out.push(prev);
            delta = 0;
            shift = 0;
        } else {
            shift += 7;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let offsets = [0, 3, 4, 200, 201, 70_000, 70_001, 4_000_000];
        assert_eq!(decode(&encode(&offsets)), offsets);
        assert!(encode(&[0, 5, 10, 15]).len() == 4);
        assert!(decode(&[]).is_empty());
    }
}
