//! How wide an article's body is on screen, block by block: a snippet sizes its window in
//! display columns (a Latin letter one, a Chinese character two), and this table, written
//! at indexing time, spares it reading kilobytes of text per result to learn how many bytes
//! a column takes where its match is.
//!
//! The table has one byte per [`BLOCK`] bytes of the body: the columns of the characters
//! that start in that block (at most one per byte, so at most [`BLOCK`]).

/// Bytes of body text per entry of the table.
pub const BLOCK: usize = 64;

/// Whether a character is displayed double width (East Asian Wide and Fullwidth).
pub fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x2FFFD
        | 0x30000..=0x3FFFD)
}

/// The display columns of a character: two when it is wide, else one.
pub fn columns(c: char) -> usize {
    if is_wide(c) { 2 } else { 1 }
}

/// The table of `text`: per block of [`BLOCK`] bytes, the columns of the characters that
/// start in it.
pub fn encode(text: &str) -> Vec<u8> {
    let mut table = vec![0u8; text.len().div_ceil(BLOCK)];
    for (i, c) in text.char_indices() {
        // At most one character starts per byte, each two columns at most: a wide one
        // takes three bytes or four, so a block holds at most 64 columns.
        table[i / BLOCK] += columns(c) as u8;
    }
    table
}

/// The columns of the characters that start in blocks `from..to` of `table`; `None` when
/// the table has no such blocks (an index without it, or damage).
pub fn in_blocks(table: &[u8], from: usize, to: usize) -> Option<usize> {
    Some(table.get(from..to)?.iter().map(|&b| usize::from(b)).sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_count_the_characters_that_start_in_them() {
        let text = format!("{}重设{}", "a".repeat(62), "b".repeat(70));
        let table = encode(&text);
        assert_eq!(table.len(), text.len().div_ceil(BLOCK));
        // 62 letters and 重 (bytes 62–64) in the first block; 设 (65–67) and 60 letters
        // in the second; the last 10 letters in the third.
        assert_eq!(table, vec![62 + 2, 2 + 60, 10]);
        assert_eq!(in_blocks(&table, 0, 3), Some(64 + 62 + 10));
        assert_eq!(in_blocks(&table, 2, 4), None);
        assert!(encode("").is_empty());
    }
}
