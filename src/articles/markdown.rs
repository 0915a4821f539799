//! Markdown: what an article says (plain text, headings, links) and how it looks (sanitized
//! HTML).
//!
//! Both come from one pulldown-cmark configuration (tables, footnotes, strikethrough, task
//! lists, heading ids). The text is what a reader sees: HTML comments are dropped (translated
//! pages often keep the original text in them) and HTML tags are stripped, keeping their text.

use std::collections::HashMap;

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// A heading of an article.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Heading {
    pub level: u8,
    pub text: String,
    /// The anchor id: `{#custom-id}` when given (Hugo's and pulldown-cmark's heading
    /// attribute), else derived from the text ([`slugify`]); the rendered page gives the
    /// heading the same id.
    pub id: String,
    /// Where the heading starts in the article's visible text ([`Extracted::text`]), in
    /// bytes: its section runs from there to the next heading of its level or above.
    pub at: usize,
}

/// A link or image target of an article, for link checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub target: String,
    /// 1-based line in the file.
    pub line: usize,
    pub image: bool,
}

/// What an article's Markdown says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    /// Visible text, one block per line, code blocks excepted.
    pub text: String,
    /// The text of the code blocks (commands, configuration files), one block per line.
    pub code: String,
    pub headings: Vec<Heading>,
    pub links: Vec<Link>,
    /// The text of the first paragraph: a summary when there is no description.
    pub summary: String,
}

pub fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// Extracts text, headings and links from a Markdown body whose first line is line
/// `first_line` of its file.
pub fn extract(body: &str, first_line: usize) -> Extracted {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(body.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_of = |offset: usize| first_line + line_starts.partition_point(|&s| s <= offset) - 1;

    let mut out = Extracted::default();
    let mut html = HtmlText::default();
    let mut heading: Option<(u8, Option<String>, String, usize)> = None;
    let mut ids = IdAllocator::default();
    let mut summary_done = false;
    let mut in_code_block = false;

    for (event, range) in Parser::new_ext(body, options()).into_offset_iter() {
        let text: Option<&str> = match &event {
            Event::Text(t) | Event::Code(t) => Some(t),
            Event::Html(h) | Event::InlineHtml(h) => {
                let before = out.text.len();
                html.feed(h, &mut out.text);
                if let Some((_, _, t, _)) = heading.as_mut() {
                    t.push_str(&out.text[before..]);
                }
                None
            }
            Event::SoftBreak | Event::HardBreak => Some(" "),
            Event::FootnoteReference(_) | Event::TaskListMarker(_) | Event::Rule => None,
            Event::InlineMath(t) | Event::DisplayMath(t) => Some(t),
            Event::Start(tag) => {
                match tag {
                    Tag::Heading { level, id, .. } => {
                        newline(&mut out.text);
                        heading = Some((
                            heading_level(*level),
                            id.as_ref().map(|s| s.to_string()),
                            String::new(),
                            out.text.len(),
                        ));
                    }
                    Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                        out.links.push(Link {
                            target: dest_url.to_string(),
                            line: line_of(range.start),
                            image: matches!(tag, Tag::Image { .. }),
                        });
                    }
                    Tag::CodeBlock(CodeBlockKind::Fenced(_) | CodeBlockKind::Indented) => {
                        in_code_block = true;
                        newline(&mut out.code);
                    }
                    _ => {}
                }
                None
            }
            Event::End(tag) => {
                match tag {
                    TagEnd::Heading(_) => {
                        if let Some((level, id, text, at)) = heading.take() {
                            let text = collapse_spaces(&text);
                            let id = ids.allocate(id.as_deref(), &text);
                            out.headings.push(Heading {
                                level,
                                text,
                                id,
                                at,
                            });
                        }
                        newline(&mut out.text);
                    }
                    TagEnd::Paragraph => {
                        if !summary_done {
                            let start = out.text.rfind('\n').map_or(0, |i| i + 1);
                            let para = out.text[start..].trim();
                            if !para.is_empty() {
                                out.summary = collapse_spaces(para);
                                summary_done = true;
                            }
                        }
                        newline(&mut out.text);
                    }
                    TagEnd::TableCell => out.text.push(' '),
                    TagEnd::CodeBlock => {
                        in_code_block = false;
                        newline(&mut out.code);
                    }
                    TagEnd::Item
                    | TagEnd::TableRow
                    | TagEnd::TableHead
                    | TagEnd::BlockQuote(_)
                    | TagEnd::HtmlBlock
                    | TagEnd::FootnoteDefinition
                    | TagEnd::DefinitionListTitle
                    | TagEnd::DefinitionListDefinition => newline(&mut out.text),
                    _ => {}
                }
                None
            }
        };
        if let Some(t) = text {
            if in_code_block {
                out.code.push_str(t);
                continue;
            }
            out.text.push_str(t);
            if let Some((_, _, h, _)) = heading.as_mut() {
                h.push_str(t);
            }
        }
    }
    out
}

fn newline(text: &mut String) {
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

fn collapse_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Anchor ids derived from heading text (GitHub style: lower case, spaces to hyphens,
/// punctuation dropped, letters of every script kept), made unique with `-1`, `-2` ….
#[derive(Default)]
struct IdAllocator {
    seen: HashMap<String, usize>,
}

impl IdAllocator {
    fn allocate(&mut self, explicit: Option<&str>, text: &str) -> String {
        let base = match explicit {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => slugify(text),
        };
        let base = if base.is_empty() {
            "section".to_string()
        } else {
            base
        };
        let n = self.seen.entry(base.clone()).or_insert(0);
        *n += 1;
        if *n == 1 {
            base
        } else {
            format!("{base}-{}", *n - 1)
        }
    }
}

/// A URL fragment for a heading's text.
pub fn slugify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.trim().chars() {
        if c.is_alphanumeric() || c == '_' || c == '-' {
            out.extend(c.to_lowercase());
        } else if c.is_whitespace() {
            out.push('-');
        } else if unicode_normalization::char::is_combining_mark(c) {
            out.push(c);
        }
    }
    out
}

/// Keeps the visible text of raw HTML: no tags, no comments, no `<script>`/`<style>` bodies.
/// Stateful, because pulldown-cmark hands an HTML block over line by line.
#[derive(Default)]
struct HtmlText {
    state: HtmlState,
    skip_until: Option<&'static str>,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum HtmlState {
    #[default]
    Text,
    Tag,
    Comment,
}

impl HtmlText {
    fn feed(&mut self, html: &str, out: &mut String) {
        let mut rest = html;
        while !rest.is_empty() {
            match self.state {
                HtmlState::Comment => match rest.find("-->") {
                    Some(i) => {
                        rest = &rest[i + 3..];
                        self.state = HtmlState::Text;
                    }
                    None => return,
                },
                HtmlState::Tag => match rest.find('>') {
                    Some(i) => {
                        rest = &rest[i + 1..];
                        self.state = HtmlState::Text;
                    }
                    None => return,
                },
                HtmlState::Text => {
                    if let Some(end) = self.skip_until {
                        match rest.to_ascii_lowercase().find(end) {
                            Some(i) => {
                                rest = &rest[i..];
                                self.skip_until = None;
                            }
                            None => return,
                        }
                    }
                    match rest.find('<') {
                        Some(i) => {
                            push_entities_decoded(&rest[..i], out);
                            rest = &rest[i..];
                            if rest.starts_with("<!--") {
                                rest = &rest[4..];
                                self.state = HtmlState::Comment;
                            } else {
                                let lower = rest.get(..8).unwrap_or(rest).to_ascii_lowercase();
                                if lower.starts_with("<script") {
                                    self.skip_until = Some("</script");
                                } else if lower.starts_with("<style") {
                                    self.skip_until = Some("</style");
                                }
                                // Block-level tags separate words.
                                if !out.ends_with([' ', '\n']) && !out.is_empty() {
                                    out.push(' ');
                                }
                                rest = &rest[1..];
                                self.state = HtmlState::Tag;
                            }
                        }
                        None => {
                            push_entities_decoded(rest, out);
                            return;
                        }
                    }
                }
            }
        }
    }
}

fn push_entities_decoded(text: &str, out: &mut String) {
    if !text.contains('&') {
        out.push_str(text);
        return;
    }
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest[1..].find(';').map(|e| e + 1).filter(|&e| e <= 10);
        let decoded = end.and_then(|e| match &rest[1..e] {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" | "#39" => Some('\''),
            "nbsp" => Some(' '),
            n if n.starts_with("#x") || n.starts_with("#X") => u32::from_str_radix(&n[2..], 16)
                .ok()
                .and_then(char::from_u32),
            n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        });
        match (decoded, end) {
            (Some(c), Some(e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
}

/// Renders a Markdown body to sanitized HTML. Headings get the same ids as [`extract`] gives
/// them, so a table of contents built from `Extracted::headings` links to them.
pub fn render_html(body: &str) -> String {
    render_html_linked(body, &|_| None)
}

/// [`render_html`], with every link and image target passed through `resolve`, which
/// returns the target to use instead (an article's URL for `../billing/refunds.md`), or
/// `None` to keep it.
pub fn render_html_linked(body: &str, resolve: &dyn Fn(&str) -> Option<String>) -> String {
    let mut events: Vec<Event<'_>> = Parser::new_ext(body, options())
        .map(|e| match e {
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let dest_url = resolve(&dest_url).map_or(dest_url, Into::into);
                Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                })
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let dest_url = resolve(&dest_url).map_or(dest_url, Into::into);
                Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                })
            }
            e => e,
        })
        .collect();
    // Every heading gets the id `extract` gives it: one allocation of ids, so the anchors
    // the index points at are the ones the page has.
    let mut ids = extract(body, 1).headings.into_iter().map(|h| h.id);
    for event in &mut events {
        if let Event::Start(Tag::Heading { id, .. }) = event
            && let Some(new_id) = ids.next()
        {
            *id = Some(new_id.into());
        }
    }
    let mut html = String::with_capacity(body.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    // A table column's alignment becomes a class: the help center's policy allows no inline
    // style.
    for side in ["left", "center", "right"] {
        html = html.replace(
            &format!(" style=\"text-align: {side}\""),
            &format!(" class=\"align-{side}\""),
        );
    }
    sanitizer().clean(&html).to_string()
}

/// The classes of aligned table cells.
const ALIGNMENTS: [&str; 3] = ["align-left", "align-center", "align-right"];

fn sanitizer() -> ammonia::Builder<'static> {
    let mut b = ammonia::Builder::default();
    b.add_tags(["input"])
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_tag_attributes("code", ["class"])
        .add_tag_attributes("div", ["class", "id"])
        .add_tag_attributes("sup", ["class", "id"])
        .add_tag_attributes("li", ["id"])
        .add_allowed_classes("td", &ALIGNMENTS)
        .add_allowed_classes("th", &ALIGNMENTS);
    for h in ["h1", "h2", "h3", "h4", "h5", "h6"] {
        b.add_tag_attributes(h, ["id"]);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_headings_and_summary() {
        let md = "# Refunds\n\nYou can ask for a **refund** within 30 days.\n\n## How to ask {#ask}\n\n\
            1. Open *Billing*\n2. Click `Refund`\n\n## How to ask\n";
        let e = extract(md, 5);
        assert_eq!(
            e.headings,
            [
                Heading {
                    level: 1,
                    text: "Refunds".into(),
                    id: "refunds".into(),
                    at: 0,
                },
                Heading {
                    level: 2,
                    text: "How to ask".into(),
                    id: "ask".into(),
                    at: 49,
                },
                Heading {
                    level: 2,
                    text: "How to ask".into(),
                    id: "how-to-ask".into(),
                    at: 86,
                },
            ]
        );
        // Each heading's offset is where its text starts in the visible text.
        for h in &e.headings {
            assert!(e.text[h.at..].starts_with(&h.text), "{h:?} in {:?}", e.text);
        }
        assert_eq!(e.summary, "You can ask for a refund within 30 days.");
        assert!(
            e.text.contains("Open Billing\nClick Refund"),
            "{:?}",
            e.text
        );
    }

    #[test]
    fn html_comments_are_not_text() {
        let md = "<!--\nThe English original\nspans lines\n-->\n中文正文。\n\nInline <!-- hidden --> shown <b>bold</b> &amp; more";
        let e = extract(md, 1);
        assert!(!e.text.contains("English"), "{:?}", e.text);
        assert!(!e.text.contains("hidden"));
        assert!(e.text.contains("中文正文"));
        assert!(e.text.contains("shown") && e.text.contains("bold") && e.text.contains("& more"));
    }

    #[test]
    fn links_carry_file_lines() {
        let md = "Intro\n\nSee [refunds](../billing/refunds.md) and\n![card](img/card.png).";
        let e = extract(md, 10);
        assert_eq!(e.links.len(), 2);
        assert_eq!(
            (e.links[0].target.as_str(), e.links[0].line),
            ("../billing/refunds.md", 12)
        );
        assert_eq!((e.links[1].line, e.links[1].image), (13, true));
    }

    #[test]
    fn headings_in_every_script_get_ids() {
        let e = extract("## 重设密码\n\n## Як змінити пароль?\n\n## ???", 1);
        let ids: Vec<&str> = e.headings.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["重设密码", "як-змінити-пароль", "section"]);
    }

    #[test]
    fn render_supports_extensions_and_sanitizes() {
        let md = "## Steps {#steps}\n\n| a | b |\n|---|:-:|\n| 1 | 2 |\n\n- [x] done\n- [ ] todo\n\n\
            ~~old~~ text[^1]\n\n[^1]: A note.\n\n<script>alert(1)</script>\n\n<a href=\"javascript:alert(1)\" onclick=\"x()\">x</a>\n\n```rust\nfn main() {}\n```\n";
        let html = render_html(md);
        assert!(html.contains("<h2 id=\"steps\">"), "{html}");
        assert!(html.contains("<table>"));
        assert!(html.contains("<del>old</del>"));
        assert!(html.contains("type=\"checkbox\""));
        assert!(html.contains("footnote"));
        assert!(html.contains("class=\"language-rust\""));
        assert!(!html.contains("<script"));
        assert!(!html.contains("javascript:"));
        assert!(!html.contains("onclick"));
    }

    #[test]
    fn table_alignment_is_a_class_not_a_style() {
        let md = "| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n\n\
            <table><tr><td style=\"color: red\" class=\"evil align-right\">x</td></tr></table>\n";
        let html = render_html(md);
        assert!(html.contains("<th class=\"align-center\">b</th>"), "{html}");
        assert!(html.contains("<td class=\"align-right\">3</td>"), "{html}");
        assert!(!html.contains("style="), "{html}");
        assert!(!html.contains("evil"), "{html}");
    }

    #[test]
    fn links_and_images_are_resolved() {
        let html = render_html_linked(
            "[a](../b.md#x) ![i](img/i.png) [c](https://c.example)",
            &|t| {
                t.ends_with(".md#x")
                    .then(|| "/en/b#x".to_string())
                    .or_else(|| t.starts_with("img/").then(|| format!("/en/{t}")))
            },
        );
        assert!(html.contains("href=\"/en/b#x\""), "{html}");
        assert!(html.contains("src=\"/en/img/i.png\""), "{html}");
        assert!(html.contains("href=\"https://c.example\""), "{html}");
    }

    #[test]
    fn render_and_extract_agree_on_ids() {
        let md = "# A\n\n## Same\n\n## Same\n\n## Custom {#c}\n\n## Hugo style {#hugo-id .class}\n\n\
            ## <span>Tagged</span> `code()` *emphasis*\n\n- item\n## After a list\n\n| t |\n|---|\n| c |\n## After a table";
        let html = render_html(md);
        let e = extract(md, 1);
        let ids: Vec<&str> = e.headings.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "a",
                "same",
                "same-1",
                "c",
                "hugo-id",
                "tagged-code-emphasis",
                "after-a-list",
                "after-a-table"
            ]
        );
        for h in &e.headings {
            assert!(
                html.contains(&format!("id=\"{}\"", h.id)),
                "{} in {html}",
                h.id
            );
            let first_word = h.text.split(' ').next().unwrap();
            assert!(
                e.text[h.at..].starts_with(first_word),
                "{h:?} in {:?}",
                e.text
            );
        }
    }
}
