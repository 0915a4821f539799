//! What support agents paste into a reply: a link to an article as Markdown, HTML or plain
//! text. One implementation for `kb link` and the `/agent` panel (which gets the three forms
//! ready-made from the API), so a link reads the same wherever an agent takes it from.
//!
//! ```
//! use kb::agent::Link;
//! let link = Link::new("https://help.example.com/", "/en/billing/refunds", "Refunds", "Money back within 30 days.", None);
//! assert_eq!(link.markdown(), "[Refunds](https://help.example.com/en/billing/refunds)");
//! assert_eq!(link.text(), "Refunds\nMoney back within 30 days.\nhttps://help.example.com/en/billing/refunds");
//! ```

use serde::Serialize;

/// Where links point when no base URL is given.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080";
/// Longest one-line summary, in characters.
const SUMMARY_CHARS: usize = 200;

/// The formats a link is pasted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Html,
    Text,
}

/// An article as an agent pastes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub title: String,
    /// Absolute.
    pub url: String,
    /// The article's canned reply (front matter `reply`), else its first paragraph on one
    /// line.
    pub summary: String,
}

/// The three forms of a link, as the API gives them to the agent panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Copies {
    pub markdown: String,
    pub html: String,
    pub text: String,
}

impl Link {
    /// A link to the article served at `path` (`/en/billing/refunds`) of the help center at
    /// `base`; `reply` wins over `summary`.
    pub fn new(base: &str, path: &str, title: &str, summary: &str, reply: Option<&str>) -> Link {
        let summary = match reply.map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => r.to_string(),
            None => one_line(summary, SUMMARY_CHARS),
        };
        Link {
            title: one_line(title, usize::MAX),
            url: absolute(base, path),
            summary,
        }
    }

    /// `[Title](url)`, with the characters that would break the link escaped.
    pub fn markdown(&self) -> String {
        let mut title = String::with_capacity(self.title.len());
        for c in self.title.chars() {
            if matches!(c, '[' | ']' | '\\' | '*' | '_' | '`' | '<' | '>') {
                title.push('\\');
            }
            title.push(c);
        }
        let url = self
            .url
            .replace('(', "%28")
            .replace(')', "%29")
            .replace(' ', "%20");
        format!("[{title}]({url})")
    }

    /// `<a href="url">Title</a>`, escaped.
    pub fn html(&self) -> String {
        format!(
            "<a href=\"{}\">{}</a>",
            escape_html(&self.url),
            escape_html(&self.title)
        )
    }

    /// The title, the canned reply or summary, and the URL, a line each (the summary line
    /// is left out when there is none).
    pub fn text(&self) -> String {
        if self.summary.is_empty() {
            format!("{}\n{}", self.title, self.url)
        } else {
            format!("{}\n{}\n{}", self.title, self.summary, self.url)
        }
    }

    pub fn format(&self, format: Format) -> String {
        match format {
            Format::Markdown => self.markdown(),
            Format::Html => self.html(),
            Format::Text => self.text(),
        }
    }

    pub fn copies(&self) -> Copies {
        Copies {
            markdown: self.markdown(),
            html: self.html(),
            text: self.text(),
        }
    }
}

/// `path` on the help center at `base`: `https://help.example.com` + `/en/a` (a `path` that
/// is already absolute stays as it is).
pub fn absolute(base: &str, path: &str) -> String {
    if path.starts_with("http://") || path.starts_with("https://") {
        return path.to_string();
    }
    let base = base.trim().trim_end_matches('/');
    let base = if base.is_empty() {
        DEFAULT_BASE_URL
    } else {
        base
    };
    if path.starts_with('/') {
        format!("{base}{path}")
    } else {
        format!("{base}/{path}")
    }
}

/// Text on one line (whitespace collapsed), cut at a word boundary after at most `max`
/// characters with an ellipsis.
fn one_line(text: &str, max: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let line = words.join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let cut: String = line.chars().take(max).collect();
    let at = cut.rfind(' ').filter(|&i| i > max / 2).unwrap_or(cut.len());
    format!("{}…", cut[..at].trim_end_matches([',', ';', ':', ' ']))
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_in_each_format_escape_what_would_break_them() {
        let l = Link::new(
            "https://help.example.com/",
            "/en/a (b)",
            "Pay [early] & <save>",
            "",
            None,
        );
        assert_eq!(
            l.markdown(),
            "[Pay \\[early\\] & \\<save\\>](https://help.example.com/en/a%20%28b%29)"
        );
        assert_eq!(
            l.html(),
            "<a href=\"https://help.example.com/en/a (b)\">Pay [early] &amp; &lt;save&gt;</a>"
        );
        assert_eq!(
            l.text(),
            "Pay [early] & <save>\nhttps://help.example.com/en/a (b)"
        );
    }

    #[test]
    fn the_canned_reply_replaces_the_summary() {
        let l = Link::new(
            "",
            "/en/r",
            "Refunds",
            "Long first paragraph.",
            Some(" Within 30 days. "),
        );
        assert_eq!(l.summary, "Within 30 days.");
        assert_eq!(l.url, "http://127.0.0.1:8080/en/r");
    }

    #[test]
    fn summaries_fit_on_one_line() {
        let long = "word ".repeat(100);
        let s = one_line(&long, 50);
        assert!(s.ends_with('…') && s.chars().count() <= 51, "{s}");
        assert_eq!(one_line("a\n  b", 50), "a b");
        // Scripts without spaces are cut by characters.
        let zh = "退".repeat(300);
        assert_eq!(one_line(&zh, 10).chars().count(), 11);
    }
}
