//! Snippets: the best passage of an article for a query, HTML-escaped, every matched word in
//! `<mark>`.
//!
//! The passage is chosen from the postings: the positions where the query's terms occur in
//! the body, mapped to byte spans by the index's stored offsets table, score windows of about
//! [`SNIPPET_COLUMNS`] columns (distinct words count most, weighted by rarity). The same spans
//! place the marks, so they are exact in every script (they come from the analyzer that
//! indexed the text) and a long article costs no more than a short one: no text is analyzed
//! at query time, and the body (stored as UTF-8 bytes) is validated only where a snippet
//! reads it, not as a whole.

use std::collections::HashMap;

use crate::analysis;
use crate::index::columns::{self as widths, columns};

/// Length of a snippet, in display columns: a Latin letter takes one, a Chinese character
/// two, so snippets look the same length in every script (about 180 letters or 90
/// ideographs).
pub const SNIPPET_COLUMNS: usize = 180;

/// Cap on the matches considered in one article.
const MAX_MATCHES: usize = 4000;

/// A place where a query word occurs in the body. 16 bytes (the offsets table's spans are
/// u32 already): reference pages have thousands, which the section, the sort and the
/// window scan go through.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    /// Byte offset in the body text.
    pub offset: u32,
    /// Byte length of the matched word.
    pub len: u32,
    /// Which query word it is.
    pub word: u32,
    /// How much that word is worth.
    pub weight: f32,
}

impl Match {
    /// Where the match starts in the body text, as an index.
    pub fn start(&self) -> usize {
        self.offset as usize
    }

    /// Where it ends (not past `usize`, however damaged the table).
    pub fn end(&self) -> usize {
        self.offset as usize + self.len as usize
    }

    /// Its query word, as an index.
    pub fn word(&self) -> usize {
        self.word as usize
    }
}

/// The byte range of the best window over `matches` in `text` (UTF-8), or `None` without
/// matches; `table` is the body's column table ([`widths`], `text` being the body or a
/// beginning of it), or empty to count columns in the text. Sorts `matches` by offset.
pub fn best_window(text: &[u8], table: &[u8], matches: &mut Vec<Match>) -> Option<(usize, usize)> {
    if matches.is_empty() {
        return None;
    }
    matches.sort_by_key(|m| m.offset);
    matches.truncate(MAX_MATCHES);
    let matches = &matches[..];
    // Bytes per column, from a sample around the first match (an article keeps its script).
    let from = floor_boundary(text, matches[0].start());
    let (sample_len, cols) = sample_columns_by_table(text, table, from, from + 2048);
    let cols = cols.max(1);
    let width = (SNIPPET_COLUMNS * sample_len.max(1))
        .div_ceil(cols)
        .max(SNIPPET_COLUMNS / 2);
    let span = width * 3 / 4;

    // Windows start at each match and reach as far as `span` allows. Each query word's best
    // weight inside the window is the front of its queue of matches (by descending weight,
    // later ones kept only when heavier than all after them): one pass over the matches,
    // not a rescan of every window. Moving the window's start leaves only the previous
    // match's queue, and moving its end touches only the queues it pushes to, so only those
    // words' best weights are updated.
    let mut best = (f32::MIN, 0usize);
    let mut j = 0;
    let words = matches.iter().map(Match::word).max().unwrap_or(0) + 1;
    let mut queues: Vec<Queue> = (0..words).map(|_| Queue::default()).collect();
    let mut per_word = vec![0f32; words];
    let front_weight = |queue: &Queue| queue.front().map_or(0.0, |k| 0f32.max(matches[k].weight));
    let mut pushed = 0;
    for i in 0..matches.len() {
        j = j.max(i);
        while j + 1 < matches.len() && matches[j + 1].start() - matches[i].start() <= span {
            j += 1;
        }
        while pushed <= j {
            let m = &matches[pushed];
            let queue = &mut queues[m.word()];
            while queue.back().is_some_and(|k| matches[k].weight <= m.weight) {
                queue.pop_back();
            }
            queue.push_back(pushed);
            per_word[m.word()] = front_weight(queue);
            pushed += 1;
        }
        // Every queue's front is at or after the previous start: only that match can leave.
        if let Some(left) = i.checked_sub(1) {
            let w = matches[left].word();
            if queues[w].front() == Some(left) {
                queues[w].pop_front();
                per_word[w] = front_weight(&queues[w]);
            }
        }
        let score = per_word.iter().sum::<f32>() + 0.05 * (j - i) as f32;
        if score > best.0 + 1e-6 {
            best = (score, i);
        }
    }
    let first = matches[best.1].start().min(text.len());
    Some(expand(text, first, width))
}

/// A query word's queue of matches in [`best_window`]: a list whose front moves forward
/// (nothing is pushed in front), so a `Vec` and where its front is, without a ring's
/// wrapping arithmetic.
#[derive(Default)]
struct Queue {
    items: Vec<u32>,
    front: usize,
}

impl Queue {
    fn front(&self) -> Option<usize> {
        self.items.get(self.front).map(|&k| k as usize)
    }

    fn back(&self) -> Option<usize> {
        (self.items.len() > self.front).then(|| self.items[self.items.len() - 1] as usize)
    }

    fn push_back(&mut self, k: usize) {
        self.items.push(k as u32);
    }

    fn pop_back(&mut self) {
        if self.items.len() > self.front {
            self.items.pop();
        }
    }

    fn pop_front(&mut self) {
        if self.front < self.items.len() {
            self.front += 1;
        }
    }
}

/// A window of about `width` bytes around a match at `at`, on word and sentence boundaries.
fn expand(text: &[u8], at: usize, width: usize) -> (usize, usize) {
    let lead = width / 4;
    let at = floor_boundary(text, at);
    let mut start = floor_boundary(text, at.saturating_sub(lead));
    // Prefer to start at the beginning of the line or sentence the match is in.
    let before = str_of(text, start, at);
    let from = start;
    if let Some(i) = before.rfind(['\n', '。', '！', '？']) {
        start += i + before[i..].chars().next().map_or(1, char::len_utf8);
    } else if let Some(i) = before.rfind(". ") {
        start += i + 2;
    } else if start > 0
        && let Some((i, c)) = before.char_indices().find(|(_, c)| c.is_whitespace())
    {
        start += i + c.len_utf8();
    }
    // The rest of `before` (validated once), unless it was not UTF-8 (a damaged index):
    // then each stretch is read again.
    let rest = |start: usize| match before.get(start - from..) {
        Some(rest) if !before.is_empty() => rest,
        _ => str_of(text, start, at),
    };
    while start < at && rest(start).starts_with(char::is_whitespace) {
        start += rest(start).chars().next().map_or(1, char::len_utf8);
    }
    let mut end = floor_boundary(text, (start + width).min(text.len()));
    if end < text.len() {
        // Finish the word in progress (at most a little further).
        if let Some(i) = str_of(text, end, end + 24).find(char::is_whitespace) {
            end += i;
        }
    }
    (start, end.max(start))
}

/// The largest char boundary of UTF-8 `text` at or before `i`.
fn floor_boundary(text: &[u8], i: usize) -> usize {
    let mut i = i.min(text.len());
    // Continuation bytes are 0b10xx_xxxx.
    while i > 0 && i < text.len() && text[i] & 0xC0 == 0x80 {
        i -= 1;
    }
    i
}

/// [`sample_columns`] from the body's column table: the whole blocks of the stretch summed
/// from it, only the bytes of its first and last blocks read. Without a table that covers
/// the stretch (or for a short one), the text is read. The table was counted from the
/// body's text as indexed (always UTF-8), so the figures are the same.
fn sample_columns_by_table(text: &[u8], table: &[u8], from: usize, to: usize) -> (usize, usize) {
    let from = floor_boundary(text, from);
    let to = floor_boundary(text, to).max(from);
    let (first, last) = (from / widths::BLOCK, to / widths::BLOCK);
    if last < first + 2 {
        return sample_columns(text, from, to);
    }
    let Some(whole) = widths::in_blocks(table, first, last) else {
        return sample_columns(text, from, to);
    };
    // The columns of the characters starting in a block before `at` (a char boundary).
    let ahead = |at: usize| {
        let mut start = at / widths::BLOCK * widths::BLOCK;
        // A character begun in the block before is counted there.
        while start < at && text[start] & 0xC0 == 0x80 {
            start += 1;
        }
        sample_columns(text, start, at).1
    };
    (to - from, (whole + ahead(to)).saturating_sub(ahead(from)))
}

/// The length in bytes and in columns of `text[from..to]` (both ends moved back to char
/// boundaries), as [`str_of`] and [`columns`] would count them, without validating the
/// whole stretch first.
fn sample_columns(text: &[u8], from: usize, to: usize) -> (usize, usize) {
    let from = floor_boundary(text, from);
    let to = floor_boundary(text, to).max(from);
    let bytes = &text[from..to];
    let mut cols = 0;
    let mut at = 0;
    let n = bytes.len();
    while at < n {
        let b = bytes[at];
        // Common scripts without decoding: leads E5–E9 are U+5000–U+9FFF, CJK ideographs,
        // two columns; every two-byte character (Cyrillic, Greek, accented Latin) is below
        // U+0800, one column. Each only with its continuation bytes, as `decode_char` checks
        // them. Tested lead first: a Chinese or Ukrainian page is mostly these.
        let continues = |i: usize| bytes[i] & 0xC0 == 0x80;
        if (0xE5..=0xE9).contains(&b) && at + 2 < n && continues(at + 1) && continues(at + 2) {
            cols += 2;
            at += 3;
            continue;
        }
        if (0xC2..=0xDF).contains(&b) && at + 1 < n && continues(at + 1) {
            cols += 1;
            at += 2;
            continue;
        }
        if b < 0x80 {
            // Eight ASCII letters at a time: one column each.
            if let Some(eight) = bytes.get(at..at + 8)
                && u64::from_le_bytes(eight.try_into().expect("eight bytes"))
                    & 0x8080_8080_8080_8080
                    == 0
            {
                cols += 8;
                at += 8;
            } else {
                cols += 1;
                at += 1;
            }
            continue;
        }
        // A multi-byte character: decoded from at most four bytes; anything that is not
        // UTF-8 is left to `str_of`, which reads it as empty.
        let Some((c, len)) = decode_char(&bytes[at..]) else {
            let sample = str_of(text, from, to);
            return (sample.len(), sample.chars().map(columns).sum());
        };
        cols += columns(c);
        at += len;
    }
    (bytes.len(), cols)
}

/// The character a non-ASCII UTF-8 sequence at the start of `bytes` encodes, and its
/// length; `None` when it is not UTF-8 (a bad lead or continuation byte, an overlong form,
/// a surrogate, past U+10FFFF).
fn decode_char(bytes: &[u8]) -> Option<(char, usize)> {
    let (len, lead, min) = match bytes.first()? {
        b @ 0xC2..=0xDF => (2, u32::from(b & 0x1f), 0x80),
        b @ 0xE0..=0xEF => (3, u32::from(b & 0x0f), 0x800),
        b @ 0xF0..=0xF4 => (4, u32::from(b & 0x07), 0x1_0000),
        _ => return None,
    };
    let mut cp = lead;
    for &b in bytes.get(1..len)? {
        if b & 0xC0 != 0x80 {
            return None;
        }
        cp = cp << 6 | u32::from(b & 0x3f);
    }
    let c = char::from_u32(cp).filter(|_| cp >= min)?;
    Some((c, len))
}

/// `text[from..to]` as a string, both ends moved back to char boundaries; empty if the bytes
/// are not UTF-8 (a damaged index).
fn str_of(text: &[u8], from: usize, to: usize) -> &str {
    let from = floor_boundary(text, from);
    let to = floor_boundary(text, to).max(from);
    std::str::from_utf8(&text[from..to]).unwrap_or_default()
}

/// The snippet HTML of `text[start..end]` with `matches` (those inside it) marked;
/// `matches` are in offset order, as [`best_window`] leaves them (only those starting in the
/// window are looked at).
pub fn render(text: &[u8], range: (usize, usize), matches: &[Match]) -> String {
    let (start, end) = (floor_boundary(text, range.0), floor_boundary(text, range.1));
    let window = str_of(text, start, end);
    debug_assert!(matches.is_sorted_by_key(|m| m.offset));
    let first = matches.partition_point(|m| m.start() < start);
    let marks = matches[first..]
        .iter()
        .take_while(|m| m.start() < end)
        .map(|m| (m.start(), m.end()))
        .filter(|&(a, b)| a >= start && b <= end && a < b)
        .map(|(a, b)| (a - start, b - start))
        .filter(|&(a, b)| window.is_char_boundary(a) && window.is_char_boundary(b));
    render_marks(window, start > 0, end < text.len(), marks.collect())
}

/// The snippet HTML of `window` with `ranges` marked, with an ellipsis where text was cut
/// before or after it.
fn render_marks(
    window: &str,
    cut_before: bool,
    cut_after: bool,
    mut ranges: Vec<(usize, usize)>,
) -> String {
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (a, b) in ranges {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    let mut out = String::with_capacity(window.len() + merged.len() * 13 + 8);
    if cut_before {
        out.push('…');
    }
    let mut at = 0;
    for (a, b) in merged {
        escape_into(&window[at..a], &mut out);
        out.push_str("<mark>");
        escape_into(&window[a..b], &mut out);
        out.push_str("</mark>");
        at = b;
    }
    escape_into(&window[at..], &mut out);
    if cut_after {
        out.push('…');
    }
    out
}

/// The beginning of a UTF-8 body, as much as a leading snippet may show.
pub fn lead_of(body: &[u8]) -> &str {
    // Four bytes per column at most, and room to finish the last word.
    str_of(body, 0, SNIPPET_COLUMNS * 4 + 64)
}

/// A snippet from the start of `text` (when the body has no match: the description), its
/// words analyzed here to mark the terms of `highlight`.
pub fn leading(text: &str, highlight: &HashMap<String, f32>) -> String {
    let text = text.trim();
    let mut cols = 0;
    let end = text
        .char_indices()
        .find(|&(_, c)| {
            cols += columns(c);
            cols > SNIPPET_COLUMNS
        })
        .map_or(text.len(), |(i, _)| i);
    let (_, end) = if end < text.len() {
        expand(text.as_bytes(), 0, end)
    } else {
        (0, end)
    };
    let mut ranges = Vec::new();
    analysis::analyze(&text[..end], &mut |t| {
        if highlight.contains_key(&t.text) {
            ranges.push((t.from, t.to));
        }
    });
    render_marks(&text[..end], false, end < text.len(), ranges)
}

/// The bytes [`escape_into`] looks at: those escaped, ASCII whitespace, and the lead bytes of
/// the other whitespace characters. Every other byte is copied as it is.
const SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let bytes = [
        b'&', b'<', b'>', b'"', b'\'', b'\t', b'\n', 0x0B, 0x0C, b'\r', b' ', 0xC2, 0xE1, 0xE2,
        0xE3,
    ];
    let mut i = 0;
    while i < bytes.len() {
        table[bytes[i] as usize] = true;
        i += 1;
    }
    table
};

/// HTML-escapes `s` into `out`, folding runs of whitespace (line breaks included) to one space.
/// Characters that need neither are copied a run at a time, and so is a lone space (it is
/// its own fold): a run is cut only where something is escaped or replaced. Read byte by
/// byte: the characters escaped and ASCII whitespace are single bytes that no other
/// character's bytes contain, and the other whitespace characters (U+0085, U+00A0, U+1680,
/// U+2000–U+205F, U+3000) begin with one of four lead bytes, the only ones decoded.
fn escape_into(s: &str, out: &mut String) {
    let bytes = s.as_bytes();
    let mut space = false;
    // Where the run of characters copied as they are began.
    let mut plain = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !SPECIAL[b as usize] {
            space = false;
            i += 1;
            continue;
        }
        if b == b' ' && !space {
            // Copied with the run: the one space its whitespace folds to.
            space = true;
            i += 1;
            continue;
        }
        let (escaped, len) = match b {
            b'&' => ("&amp;", 1),
            b'<' => ("&lt;", 1),
            b'>' => ("&gt;", 1),
            b'"' => ("&quot;", 1),
            b'\'' => ("&#39;", 1),
            b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ' => (" ", 1),
            _ => {
                // A lead byte: `i` is a character boundary.
                let c = s[i..].chars().next().unwrap_or_default();
                if !c.is_whitespace() {
                    space = false;
                    i += c.len_utf8();
                    continue;
                }
                (" ", c.len_utf8())
            }
        };
        out.push_str(&s[plain..i]);
        plain = i + len;
        i = plain;
        if escaped == " " {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            space = false;
            out.push_str(escaped);
        }
    }
    out.push_str(&s[plain..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(words: &[&str]) -> HashMap<String, f32> {
        words
            .iter()
            .flat_map(|w| analysis::analyze_to_vec(w))
            .map(|t| (t.text, 1.0))
            .collect()
    }

    /// The matches the postings would give: the words of `text` whose terms are wanted.
    fn matches_of(text: &str, words: &[&str]) -> Vec<Match> {
        let wanted = terms(words);
        let mut out = Vec::new();
        analysis::analyze(text, &mut |t| {
            if wanted.contains_key(&t.text) {
                out.push(Match {
                    offset: t.from as u32,
                    len: (t.to - t.from) as u32,
                    word: 0,
                    weight: 1.0,
                });
            }
        });
        out
    }

    #[test]
    fn marks_every_matched_word_and_escapes() {
        let text = "To reset <your> password, open Settings & choose Reset.";
        let html = render(
            text.as_bytes(),
            (0, text.len()),
            &matches_of(text, &["resetting", "passwords"]),
        );
        assert_eq!(
            html,
            "To <mark>reset</mark> &lt;your&gt; <mark>password</mark>, open Settings &amp; choose <mark>Reset</mark>."
        );
    }

    #[test]
    fn marks_in_chinese_telugu_and_ukrainian() {
        let text = "請重設您的密碼";
        let html = render(
            text.as_bytes(),
            (0, text.len()),
            &matches_of(text, &["密码"]),
        );
        assert_eq!(html, "請重設您的<mark>密碼</mark>");
        let text = "మీ పాస్‌వర్డ్ మార్చండి";
        let html = render(
            text.as_bytes(),
            (0, text.len()),
            &matches_of(text, &["పాస్వర్డ్"]),
        );
        assert_eq!(html, "మీ <mark>పాస్‌వర్డ్</mark> మార్చండి");
        let text = "Змініть пароль облікового запису";
        let html = render(
            text.as_bytes(),
            (0, text.len()),
            &matches_of(text, &["паролі"]),
        );
        assert_eq!(html, "Змініть <mark>пароль</mark> облікового запису");
    }

    #[test]
    fn leading_snippets_mark_by_analysis() {
        let html = leading("Reset your password & more", &terms(&["passwords"]));
        assert_eq!(html, "Reset your <mark>password</mark> &amp; more");
    }

    #[test]
    fn picks_the_window_with_most_distinct_words() {
        let filler = "lorem ipsum dolor sit amet ".repeat(40);
        let text =
            format!("{filler}refund here. {filler}refund policy and billing details. {filler}");
        let second = text.find("refund policy").unwrap();
        let mut matches = vec![
            Match {
                offset: text.find("refund here").unwrap() as u32,
                len: 6,
                word: 0,
                weight: 1.0,
            },
            Match {
                offset: second as u32,
                len: 6,
                word: 0,
                weight: 1.0,
            },
            Match {
                offset: second as u32 + 7,
                len: 6,
                word: 1,
                weight: 1.0,
            },
            Match {
                offset: text.find("billing").unwrap() as u32,
                len: 7,
                word: 2,
                weight: 1.0,
            },
        ];
        let (s, e) = best_window(text.as_bytes(), &[], &mut matches).unwrap();
        assert!(s <= second && second < e, "{s}..{e} vs {second}");
        let html = render(text.as_bytes(), (s, e), &matches);
        assert!(html.starts_with('…') && html.ends_with('…'), "{html}");
        assert!(
            html.contains("<mark>refund</mark> <mark>policy</mark>"),
            "{html}"
        );
        assert!(html.chars().count() < SNIPPET_COLUMNS + 60, "{html}");
    }

    /// A small deterministic generator, so the test needs no extra crate and always runs the
    /// same cases.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn windows_never_split_characters() {
        let pieces = [
            "word ",
            "\u{a0}",
            "\u{3000}",
            "пароль ",
            "重设密码",
            "。",
            "పాస్‌వర్డ్ ",
            "\n",
            ". ",
            "🙂",
            "e\u{301}",
            "\u{2028}",
            "&<>\"'",
        ];
        let highlight = terms(&["word", "пароль", "密码", "పాస్వర్డ్"]);
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..300 {
            let n = 1 + rng.next() as usize % 400;
            let text: String = (0..n)
                .map(|_| pieces[rng.next() as usize % pieces.len()])
                .collect();
            let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            let mut matches: Vec<Match> = (0..1 + rng.next() % 6)
                .map(|w| Match {
                    offset: boundaries[rng.next() as usize % boundaries.len()] as u32,
                    len: (1 + rng.next() % 7) as u32,
                    word: w as u32,
                    weight: 1.0,
                })
                .collect();
            let range = best_window(text.as_bytes(), &[], &mut matches).unwrap();
            let html = render(text.as_bytes(), range, &matches);
            assert!(!html.contains('<') || html.contains("<mark>"), "{html}");
            leading(&text, &highlight);
        }
    }

    /// The window [`best_window`] chose before it was one pass: every window's matches
    /// rescanned. The same bytes, words and weights must give the same window.
    fn best_window_by_rescanning(text: &[u8], matches: &mut Vec<Match>) -> Option<(usize, usize)> {
        matches.sort_by_key(|m| m.offset);
        matches.truncate(MAX_MATCHES);
        let from = floor_boundary(text, matches.first()?.start());
        let sample = str_of(text, from, from + 2048);
        let cols: usize = sample.chars().map(columns).sum::<usize>().max(1);
        let width = (SNIPPET_COLUMNS * sample.len().max(1))
            .div_ceil(cols)
            .max(SNIPPET_COLUMNS / 2);
        let span = width * 3 / 4;
        let (mut best, mut j) = ((f32::MIN, 0usize), 0);
        let words = matches.iter().map(Match::word).max().unwrap_or(0) + 1;
        let mut per_word = vec![0f32; words];
        for i in 0..matches.len() {
            j = j.max(i);
            while j + 1 < matches.len() && matches[j + 1].start() - matches[i].start() <= span {
                j += 1;
            }
            per_word.iter_mut().for_each(|w| *w = 0.0);
            for m in &matches[i..=j] {
                per_word[m.word()] = per_word[m.word()].max(m.weight);
            }
            let score = per_word.iter().sum::<f32>() + 0.05 * (j - i) as f32;
            if score > best.0 + 1e-6 {
                best = (score, i);
            }
        }
        Some(expand(text, matches[best.1].start().min(text.len()), width))
    }

    #[test]
    fn one_pass_windows_are_the_rescanned_ones() {
        let pieces = [
            "word ",
            "пароль ",
            "重设密码",
            "。",
            "\n",
            "a",
            "🙂",
            "\u{3000}",
            // Wide and narrow characters of every UTF-8 length around the wide ranges and
            // the two- and three-byte fast paths.
            "é",
            "\u{7FF}",
            "\u{1100}\u{1160}",
            "한",
            "ｱ",
            "\u{4DC0}\u{4DBF}\u{4E00}\u{5000}\u{9FFF}\u{A000}",
            "\u{FF01}",
            "𠀀",
            "\u{10000}",
        ];
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for case in 0..400 {
            let n = 1 + rng.next() as usize % 600;
            let mut text: Vec<u8> = (0..n)
                .flat_map(|_| pieces[rng.next() as usize % pieces.len()].bytes())
                .collect();
            // Now and then a damaged body: not UTF-8 somewhere.
            if case % 7 == 0 {
                let at = rng.next() as usize % text.len();
                text[at] = 0xff;
            }
            let words = 1 + rng.next() as usize % 5;
            let matches: Vec<Match> = (0..rng.next() % 300)
                .map(|_| Match {
                    offset: (rng.next() as usize % text.len()) as u32,
                    len: (1 + rng.next() % 7) as u32,
                    word: (rng.next() as usize % words) as u32,
                    // Few distinct weights, so that ties and equal maxima happen.
                    weight: [0.5, 1.0, 1.0, 2.25, 3.0][rng.next() as usize % 5],
                })
                .collect();
            let (mut a, mut b) = (matches.clone(), matches);
            assert_eq!(
                best_window(&text, &[], &mut a),
                best_window_by_rescanning(&text, &mut b),
                "case {case}"
            );
            assert_eq!(a, b);
            let (from, to) = (rng.next() as usize % text.len(), rng.next() as usize % 3000);
            let sample = str_of(&text, from, from + to);
            assert_eq!(
                sample_columns(&text, from, from + to),
                (sample.len(), sample.chars().map(columns).sum()),
                "case {case}"
            );
            // The column table gives the same figures for every stretch of a body, and so
            // the same windows, also over a beginning of the body (a section's).
            if let Ok(body) = std::str::from_utf8(&text) {
                let table = widths::encode(body);
                assert_eq!(
                    sample_columns_by_table(&text, &table, from, from + to),
                    sample_columns(&text, from, from + to),
                    "case {case}"
                );
                let shown = &text[..floor_boundary(&text, rng.next() as usize % text.len())];
                let (mut a, mut b) = (b.clone(), b.clone());
                assert_eq!(
                    best_window(shown, &table, &mut a),
                    best_window(shown, &[], &mut b),
                    "case {case}"
                );
            }
        }
    }

    /// The escaping as it was written first, a character at a time.
    fn escape_into_by_chars(s: &str, out: &mut String) {
        let mut space = false;
        // Where the run of characters copied as they are began.
        let mut plain = 0;
        for (i, c) in s.char_indices() {
            let escaped = match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                c if c.is_whitespace() => " ",
                _ => {
                    space = false;
                    continue;
                }
            };
            out.push_str(&s[plain..i]);
            plain = i + c.len_utf8();
            if escaped == " " {
                if !space {
                    out.push(' ');
                }
                space = true;
            } else {
                space = false;
                out.push_str(escaped);
            }
        }
        out.push_str(&s[plain..]);
    }

    #[test]
    fn escapes_as_character_by_character() {
        let pieces = [
            "a",
            "word ",
            "&",
            "<",
            ">",
            "\"",
            "'",
            " ",
            "\t",
            "\n",
            "\r",
            "\u{b}",
            "\u{c}",
            "\u{1c}",
            "\u{85}",
            "\u{a0}",
            "\u{a1}",
            "é",
            "\u{1680}",
            "\u{1681}",
            "\u{2000}",
            "\u{200a}",
            "\u{200b}",
            "\u{2028}",
            "\u{202f}",
            "\u{205f}",
            "\u{2060}",
            "\u{3000}",
            "\u{3001}",
            "密码",
            "🙂",
            "пароль",
        ];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for case in 0..2000 {
            let n = rng.next() as usize % 40;
            let s: String = (0..n)
                .map(|_| pieces[rng.next() as usize % pieces.len()])
                .collect();
            let (mut a, mut b) = (String::from("x"), String::from("x"));
            escape_into(&s, &mut a);
            escape_into_by_chars(&s, &mut b);
            assert_eq!(a, b, "case {case}: {s:?}");
        }
    }

    #[test]
    fn characters_decode_as_the_standard_library_decodes_them() {
        for bytes in [
            &[0xC3, 0xA9][..],
            &[0xE9, 0x87, 0x8D],
            &[0xF0, 0x9F, 0x99, 0x82],
            &[0xC0, 0x80],
            &[0xE0, 0x80, 0x80],
            &[0xED, 0xA0, 0x80],
            &[0xF4, 0x90, 0x80, 0x80],
            &[0xF0, 0x80, 0x80, 0x80],
            &[0xE9, 0x87],
            &[0x80],
            &[0xE9, 0x41, 0x8D],
        ] {
            let std = std::str::from_utf8(bytes)
                .ok()
                .and_then(|s| s.chars().next())
                .map(|c| (c, bytes.len()));
            assert_eq!(decode_char(bytes), std, "{bytes:x?}");
        }
    }

    #[test]
    fn chinese_snippets_are_as_wide_as_english_ones() {
        let zh = "如果忘记了账户密码请在登录页面点击忘记密码。".repeat(30);
        let at = zh.len() / 2;
        let at = floor_boundary(zh.as_bytes(), at);
        let mut m = vec![Match {
            offset: at as u32,
            len: 6,
            word: 0,
            weight: 1.0,
        }];
        let (s, e) = best_window(zh.as_bytes(), &widths::encode(&zh), &mut m).unwrap();
        let chars = zh[s..e].chars().count();
        assert!((70..=110).contains(&chars), "{chars}");
        let lead = leading(&zh, &HashMap::new());
        assert!(
            (80..=100).contains(&lead.chars().count()),
            "{}",
            lead.chars().count()
        );
    }

    #[test]
    fn leading_snippet_of_short_and_long_texts() {
        assert_eq!(leading("Short text", &HashMap::new()), "Short text");
        let long = "word ".repeat(100);
        let s = leading(&long, &HashMap::new());
        assert!(s.ends_with('…') && s.len() < 220, "{s}");
    }
}
