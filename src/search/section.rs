//! Sections: the part of an article a result's match sits in, so that the result points at
//! that heading (`url#anchor`) and shows its snippet from there.
//!
//! A section runs from its heading to the next heading of its level or above, subsections
//! included. The match sits in one section when the query's words that the body holds all
//! occur inside it, and it holds the match rather than a passing mention: its heading names
//! some of the words, or it has at least half of their occurrences. An article whose title
//! already holds every word is about the query as a whole, and its result points at its top.
//! The heading ids are the ones the article page renders ([`crate::articles::markdown`]), so
//! the anchor exists on the page.

use super::snippet::Match;
use crate::index::headings::HeadingRef;

/// Share of the body's matches a section must hold when its heading names no query word.
const CONCENTRATION: f32 = 0.5;
/// How much more a query word counts in a heading than in the section's text.
const HEADING_WEIGHT: f32 = 2.0;

/// The section a result points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The heading's anchor id, as on the article page.
    pub anchor: String,
    /// The heading's text.
    pub heading: String,
    /// Where the section is in the body text (bytes).
    pub start: usize,
    pub end: usize,
}

/// The section of a body of `len` bytes, with these `headings`, that holds the `matches` (see
/// the module's documentation); `None` when the match is spread over the article, or when
/// `title_has_all` (the title has every query word).
pub fn pick(
    headings: &[HeadingRef],
    len: usize,
    matches: &[Match],
    title_has_all: bool,
) -> Option<Section> {
    if matches.is_empty() || title_has_all {
        return None;
    }
    // Which query words the body has. Per word, by its index: a query has few words, and
    // summing them in word order keeps a section's score the same from run to run (a hash
    // map's order changed which of two equal sections won).
    let words = matches.iter().map(Match::word).max().map_or(0, |w| w + 1);
    let mut in_body = vec![false; words];
    for m in matches {
        in_body[m.word()] = true;
    }
    let wanted = in_body.iter().filter(|&&b| b).count();
    let total_occurrences: f32 = matches.iter().map(|m| m.weight).sum();
    let mut best: Option<(f32, usize, usize)> = None;
    // Per word inside a section: its best weight, and whether the heading names it.
    let mut covered: Vec<Option<(f32, bool)>> = vec![None; words];
    // The matches as runs in offset order (the postings give each term's in order): a
    // section's matches are a stretch of each run, and taken run by run they come in the
    // matches' own order, so sums add up exactly as in one pass.
    let mut runs: Vec<&[Match]> = Vec::new();
    let mut from = 0;
    for i in 1..=matches.len() {
        if i == matches.len() || matches[i].offset < matches[i - 1].offset {
            runs.push(&matches[from..i]);
            from = i;
        }
    }
    let ends = ends(headings, len);
    // Per run, where its matches at or after the last heading's start begin: headings come
    // in body order, so each run's start only moves forward (a binary search when not).
    let mut firsts = vec![0usize; runs.len()];
    let mut last_at = 0;
    for (i, h) in headings.iter().enumerate() {
        // An opening `# Title` is the article's title, not a section of it.
        if h.level == 1 && h.at == 0 || h.at >= len {
            continue;
        }
        let end = ends[i].max(h.at);
        covered.fill(None);
        let heading_end = h.at + h.text.len();
        let (mut inside, mut occurrences) = (0usize, 0f32);
        for (run, first) in runs.iter().zip(&mut firsts) {
            if h.at < last_at {
                *first = run.partition_point(|m| m.start() < h.at);
            }
            while run.get(*first).is_some_and(|m| m.start() < h.at) {
                *first += 1;
            }
        }
        last_at = h.at;
        let within = runs
            .iter()
            .zip(&firsts)
            .flat_map(|(run, &first)| run[first..].iter().take_while(|m| m.start() < end));
        for m in within {
            inside += 1;
            occurrences += m.weight;
            let c = covered[m.word()].get_or_insert((0.0, false));
            c.0 = c.0.max(m.weight);
            c.1 |= m.start() < heading_end;
        }
        if covered.iter().flatten().count() < wanted {
            continue;
        }
        let named = covered.iter().flatten().any(|c| c.1);
        if !named && occurrences < CONCENTRATION * total_occurrences {
            continue;
        }
        let score: f32 = covered
            .iter()
            .flatten()
            .map(|(w, in_heading)| if *in_heading { w * HEADING_WEIGHT } else { *w })
            .sum::<f32>()
            + 0.05 * inside as f32;
        let span = end - h.at;
        let better = match &best {
            None => true,
            Some((s, len, _)) => score > *s + 1e-6 || ((score - *s).abs() <= 1e-6 && span < *len),
        };
        if better {
            best = Some((score, span, i));
        }
    }
    best.map(|(_, span, i)| Section {
        anchor: headings[i].id(),
        heading: headings[i].text(),
        start: headings[i].at,
        end: headings[i].at + span,
    })
}

/// Where each heading's section ends in a body of `len` bytes: at the next heading of its
/// level or above, or at the end. One pass with a stack of the sections still open, not a
/// search after each heading (reference pages have hundreds).
fn ends(headings: &[HeadingRef], len: usize) -> Vec<usize> {
    let mut ends = vec![len; headings.len()];
    let mut open: Vec<usize> = Vec::new();
    for (i, h) in headings.iter().enumerate() {
        while let Some(&k) = open.last().filter(|&&k| headings[k].level >= h.level) {
            ends[k] = h.at.min(len);
            open.pop();
        }
        open.push(i);
    }
    ends
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::articles::markdown::extract;

    /// Matches of `words` (each a query word of weight 1) wherever they occur in `text`.
    fn matches_of(text: &str, words: &[&str]) -> Vec<Match> {
        let lower = text.to_lowercase();
        let mut out = Vec::new();
        for (i, w) in words.iter().enumerate() {
            for (at, _) in lower.match_indices(w) {
                out.push(Match {
                    offset: at as u32,
                    len: w.len() as u32,
                    word: i as u32,
                    weight: 1.0,
                });
            }
        }
        out
    }

    const ARTICLE: &str = "# Set up your grinder\n\nUnpack the grinder and plug it in.\n\n\
        ## Connect to the app\n\nOpen the app and pair the grinder.\n\n\
        ## Update the firmware\n\nThe app offers the new firmware. Keep the grinder close.\n\n\
        ### If the update fails\n\nRestart the grinder and try the update again.\n\n\
        ## Clean the burrs\n\nBrush the burrs every month.\n";

    fn pick_for(words: &[&str], title_has_all: bool) -> Option<Section> {
        let e = extract(ARTICLE, 1);
        let headings: Vec<HeadingRef> = e.headings.iter().map(HeadingRef::from).collect();
        pick(
            &headings,
            e.text.len(),
            &matches_of(&e.text, words),
            title_has_all,
        )
    }

    #[test]
    fn the_section_that_holds_every_word() {
        let s = pick_for(&["update", "firmware"], false).unwrap();
        assert_eq!(s.anchor, "update-the-firmware");
        assert_eq!(s.heading, "Update the firmware");
        // The section runs to the next heading of its level, its subsection included.
        let e = extract(ARTICLE, 1);
        assert!(e.text[s.start..s.end].contains("If the update fails"));
        assert!(!e.text[s.start..s.end].contains("Clean the burrs"));
        assert_eq!(
            pick_for(&["burrs"], false).unwrap().anchor,
            "clean-the-burrs"
        );
        // A subsection whose heading names the words wins over its parent.
        assert_eq!(
            pick_for(&["update", "fails"], false).unwrap().anchor,
            "if-the-update-fails"
        );
    }

    #[test]
    fn sections_end_at_the_next_heading_of_their_level_or_above() {
        let mut seed = 0x9e37_79b9_u32;
        for n in 0..60usize {
            let levels: Vec<u8> = (0..n)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    1 + (seed % 6) as u8
                })
                .collect();
            let headings: Vec<HeadingRef> = levels
                .iter()
                .enumerate()
                .map(|(i, &level)| HeadingRef {
                    level,
                    at: i * 10,
                    text: b"",
                    id: b"",
                })
                .collect();
            let len = (n * 10usize).saturating_sub(5);
            let naive: Vec<usize> = (0..n)
                .map(|i| {
                    headings[i + 1..]
                        .iter()
                        .find(|h| h.level <= headings[i].level)
                        .map_or(len, |h| h.at.min(len))
                })
                .collect();
            assert_eq!(ends(&headings, len), naive, "{levels:?}");
        }
    }

    #[test]
    fn no_section_when_the_match_is_spread_or_the_title_says_it_all() {
        // "grinder" is everywhere: no section holds the match.
        assert_eq!(pick_for(&["grinder"], false), None);
        // Words in two sections and no section with both.
        assert_eq!(pick_for(&["pair", "brush"], false), None);
        assert_eq!(pick_for(&["firmware"], true), None);
        assert_eq!(pick_for(&[], false), None);
    }
}
