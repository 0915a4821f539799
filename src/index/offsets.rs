//! Where each word of an article's body is: the bridge from a matched position in the
//! postings to a place in the stored text.
//!
//! The body is analyzed once, at indexing time, and tantivy is handed the tokens. The byte
//! span of every word position is stored beside the text as LEB128 varints: the distance
//! from the previous word's start, then the word's length (two or three bytes a word).
//! Snippets then find the best passage and place their marks from the postings' positions
//! alone, without re-analyzing text at query time, which matters for long Chinese pages where
//! jieba would dominate query time.
//!
//! Varints are read from the start, so the table opens with a checkpoint every
//! [`CHECKPOINT`] words (where that word's pair begins and the previous word's start): a
//! span is found by decoding at most [`CHECKPOINT`] pairs from the nearest one before it,
//! not every word before it (a long article's late matches cost as little as early ones).

/// Words between checkpoints: one costs 8 bytes, so 128 add about 3 % to the table (64
/// made the k8s index 0.3 MB larger, for no speed that could be measured).
pub const CHECKPOINT: usize = 128;

/// The byte span of one word in the body text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub len: u32,
}

/// Appends `v` as a LEB128 varint (seven bits a byte, least significant first, the high bit
/// set on every byte but the last).
pub(super) fn push_varint(out: &mut Vec<u8>, mut v: u64) {
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

/// Reads the LEB128 varint [`push_varint`] wrote at `*at` and moves `at` past it; `None` at
/// the end of the bytes or after ten bytes without an end (damage).
pub(super) fn read_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Encodes word spans in position order (starts never decrease): the number of
/// checkpoints (u32, little endian), each checkpoint as two u32 (where its word's pair is in
/// the varints, the previous word's start), then the varint pairs.
pub fn encode(spans: &[Span]) -> Vec<u8> {
    let mut pairs = Vec::with_capacity(spans.len() * 3);
    let mut checkpoints = Vec::with_capacity(spans.len() / CHECKPOINT + 1);
    let mut prev = 0u32;
    for (i, s) in spans.iter().enumerate() {
        if i % CHECKPOINT == 0 {
            checkpoints.push((pairs.len() as u32, prev));
        }
        push_varint(&mut pairs, u64::from(s.start.saturating_sub(prev)));
        push_varint(&mut pairs, u64::from(s.len));
        prev = s.start.max(prev);
    }
    let mut out = Vec::with_capacity(4 + checkpoints.len() * 8 + pairs.len());
    out.extend_from_slice(&(checkpoints.len() as u32).to_le_bytes());
    for (at, prev) in checkpoints {
        out.extend_from_slice(&at.to_le_bytes());
        out.extend_from_slice(&prev.to_le_bytes());
    }
    out.extend_from_slice(&pairs);
    out
}

/// Every span of what [`encode`] wrote; a truncated tail is ignored.
pub fn decode(bytes: &[u8]) -> Vec<Span> {
    let Some(table) = Table::new(bytes) else {
        return Vec::new();
    };
    let mut reader = table.reader_at(0);
    std::iter::from_fn(|| reader.next()).collect()
}

/// The spans at `positions` (sorted, each once), in their order; a position the table does
/// not have (past its end, or a damaged table) is `None`. Each is decoded from the nearest
/// checkpoint before it, or from the previous position's when that is nearer.
pub fn spans_at(bytes: &[u8], positions: &[u32]) -> Vec<Option<Span>> {
    let mut spans = Spans::new(bytes);
    positions.iter().map(|&p| spans.at(p)).collect()
}

/// The spans of positions asked for in ascending order, one at a time (as [`spans_at`]
/// finds them, without a list of the positions first): the decoder stays where the last
/// one left it. A position asked for again is answered from the last one; one before it
/// is decoded again from its checkpoint.
pub struct Spans<'a> {
    table: Option<Table<'a>>,
    reader: Option<Reader<'a>>,
    /// The last position asked for, and its span.
    last: Option<(u32, Option<Span>)>,
}

impl<'a> Spans<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Spans {
            table: Table::new(bytes),
            reader: None,
            last: None,
        }
    }

    /// The span of word position `p`; `None` when the table does not have it.
    #[inline]
    pub fn at(&mut self, p: u32) -> Option<Span> {
        if let Some((q, span)) = self.last
            && q == p
        {
            return span;
        }
        let span = self.decode(p as usize);
        self.last = Some((p, span));
        span
    }

    fn decode(&mut self, p: usize) -> Option<Span> {
        let table = self.table.as_ref()?;
        let near = p / CHECKPOINT * CHECKPOINT;
        if !matches!(&self.reader, Some(r) if (near..=p).contains(&r.word)) {
            self.reader = Some(table.reader_at(near));
        }
        let r = self.reader.as_mut()?;
        r.skip_to(p)?;
        r.next()
    }
}

/// A table's checkpoints and varints.
struct Table<'a> {
    checkpoints: &'a [u8],
    pairs: &'a [u8],
}

impl<'a> Table<'a> {
    fn new(bytes: &'a [u8]) -> Option<Self> {
        let count = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
        let end = count.checked_mul(8)?.checked_add(4)?;
        Some(Table {
            checkpoints: bytes.get(4..end)?,
            pairs: &bytes[end..],
        })
    }

    /// A reader at word `word`, a multiple of [`CHECKPOINT`]; one that reads nothing when
    /// the table has no such checkpoint.
    fn reader_at(&self, word: usize) -> Reader<'a> {
        let c = word / CHECKPOINT;
        let u32_at = |i: usize| {
            self.checkpoints
                .get(i..i + 4)
                .map(|b| u32::from_le_bytes(b.try_into().expect("four bytes")))
        };
        match (u32_at(c * 8), u32_at(c * 8 + 4)) {
            (Some(at), Some(prev)) => Reader {
                pairs: self.pairs.get(at as usize..).unwrap_or_default(),
                word,
                prev,
            },
            _ => Reader {
                pairs: &[],
                word,
                prev: 0,
            },
        }
    }
}

/// Decodes spans forward from a word.
struct Reader<'a> {
    pairs: &'a [u8],
    /// The word the next pair is of.
    word: usize,
    /// The previous word's start.
    prev: u32,
}

impl Reader<'_> {
    fn varint(&mut self) -> Option<u32> {
        // Most deltas and lengths take one byte.
        if let Some((&b, rest)) = self.pairs.split_first()
            && b & 0x80 == 0
        {
            self.pairs = rest;
            return Some(u32::from(b));
        }
        let mut at = 0;
        let Some(v) = read_varint(self.pairs, &mut at) else {
            self.pairs = &[];
            return None;
        };
        self.pairs = &self.pairs[at..];
        // The encoder wrote u32s: the low 32 bits are the value.
        Some(v as u32)
    }

    /// Moves to word `word` (at or after the reader's), summing the skipped words' distances
    /// without building their spans; `None` where the table ends (or is damaged) first.
    /// Pairs of two one-byte varints, nearly all of them, are summed sixteen, eight, four or
    /// one at a time.
    #[inline]
    fn skip_to(&mut self, word: usize) -> Option<()> {
        const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
        // The even bytes of eight (each below 128), as four 16-bit lanes: those of up to
        // four such words added lane by lane (each lane stays below 2^16), one
        // multiplication then adds the lanes up in the top one.
        let lanes = |x: u64| x & 0x00FF_00FF_00FF_00FF;
        let total = |lanes: u64| (lanes.wrapping_mul(0x0001_0001_0001_0001) >> 48) as u32;
        let u64_at = |bytes: &[u8], at: usize| {
            u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"))
        };
        while self.word < word {
            if word - self.word >= 16
                && let Some(chunk) = self.pairs.first_chunk::<32>()
            {
                let (a, b) = (u64_at(chunk, 0), u64_at(chunk, 8));
                let (c, d) = (u64_at(chunk, 16), u64_at(chunk, 24));
                if (a | b | c | d) & HIGH_BITS == 0 {
                    let sum = total(lanes(a) + lanes(b) + lanes(c) + lanes(d));
                    self.prev = self.prev.saturating_add(sum);
                    self.pairs = &self.pairs[32..];
                    self.word += 16;
                    continue;
                }
            }
            if word - self.word >= 8
                && let Some(sixteen) = self.pairs.first_chunk::<16>()
            {
                let (a, b) = (u64_at(sixteen, 0), u64_at(sixteen, 8));
                if (a | b) & HIGH_BITS == 0 {
                    self.prev = self.prev.saturating_add(total(lanes(a) + lanes(b)));
                    self.pairs = &self.pairs[16..];
                    self.word += 8;
                    continue;
                }
            }
            if word - self.word >= 4
                && let Some(eight) = self.pairs.first_chunk::<8>()
                && u64::from_le_bytes(*eight) & HIGH_BITS == 0
            {
                let distances = u32::from(eight[0])
                    + u32::from(eight[2])
                    + u32::from(eight[4])
                    + u32::from(eight[6]);
                self.prev = self.prev.saturating_add(distances);
                self.pairs = &self.pairs[8..];
                self.word += 4;
            } else if let Some(&[delta, len]) = self.pairs.first_chunk::<2>()
                && (delta | len) & 0x80 == 0
            {
                self.prev = self.prev.saturating_add(u32::from(delta));
                self.pairs = &self.pairs[2..];
                self.word += 1;
            } else {
                self.next()?;
            }
        }
        Some(())
    }

    /// The span of the next word.
    #[inline]
    fn next(&mut self) -> Option<Span> {
        let delta = self.varint()?;
        let len = self.varint()?;
        self.prev = self.prev.saturating_add(delta);
        self.word += 1;
        Some(Span {
            start: self.prev,
            len,
        })
    }
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
        assert_eq!(encode(&spans[..2]).len(), 4 + 8 + 4);
        assert!(decode(&encode(&[])).is_empty());
        assert!(decode(&[]).is_empty());
        // A truncated tail is dropped, not misread.
        let bytes = encode(&spans);
        assert_eq!(decode(&bytes[..bytes.len() - 1]).len(), spans.len() - 1);
        assert_eq!(
            spans_at(&bytes[..bytes.len() - 1], &[4, 5]),
            [Some(spans[4]), None]
        );
        assert_eq!(spans_at(&bytes, &[0, 2, 5, 6]), {
            let mut v: Vec<_> = [0, 2, 5].iter().map(|&i| Some(spans[i])).collect();
            v.push(None);
            v
        });
    }

    #[test]
    fn skipped_words_sum_as_decoded_one_by_one() {
        // Mostly one-byte pairs (the sixteen, eight and four at a time sums), now and then a
        // long gap or word (two-byte varints) that stops them, at every distance.
        let mut start = 0;
        let spans: Vec<Span> = (0..20 * CHECKPOINT as u32)
            .map(|i| {
                start += if i % 37 == 5 { 300 } else { i % 9 + 1 };
                Span {
                    start,
                    len: if i % 53 == 7 { 200 } else { i % 5 + 1 },
                }
            })
            .collect();
        let bytes = encode(&spans);
        for step in [1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 33, 64, 127, 129] {
            let picks: Vec<u32> = (0..spans.len() as u32).step_by(step).collect();
            let got = spans_at(&bytes, &picks);
            let want: Vec<_> = picks.iter().map(|&p| Some(spans[p as usize])).collect();
            assert_eq!(got, want, "step {step}");
        }
    }

    #[test]
    fn spans_are_found_from_checkpoints_in_long_tables() {
        // Words of varying lengths and gaps over many checkpoints.
        let mut start = 0;
        let spans: Vec<Span> = (0..10 * CHECKPOINT as u32 + 7)
            .map(|i| {
                start += i % 13 + 1 + (i % 200) * 50;
                Span {
                    start,
                    len: i % 7 + 1,
                }
            })
            .collect();
        let bytes = encode(&spans);
        assert_eq!(decode(&bytes), spans);
        let every: Vec<u32> = (0..spans.len() as u32 + 3).collect();
        let all = spans_at(&bytes, &every);
        assert_eq!(all.iter().flatten().copied().collect::<Vec<_>>(), spans);
        assert!(all[spans.len()..].iter().all(Option::is_none));
        for picks in [
            vec![0, 127, 128, 129, 300, 301, 1280],
            vec![5, 130, 131, 200, 1286],
            vec![1279],
            vec![],
        ] {
            let got = spans_at(&bytes, &picks);
            let want: Vec<_> = picks
                .iter()
                .map(|&p| spans.get(p as usize).copied())
                .collect();
            assert_eq!(got, want, "{picks:?}");
        }
        // Damaged tables give nothing rather than wrong spans or a panic.
        assert_eq!(spans_at(&[9, 9], &[0, 1]), [None, None]);
        assert_eq!(spans_at(&[200, 0, 0, 0, 1], &[0]), [None]);
        let mut lying = bytes.clone();
        lying[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(spans_at(&lying, &[3]), [None]);
    }
}
