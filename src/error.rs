//! Errors shared across kb's modules.
//!
//! [`Problem`] is a defect in one article, reported as `path:line: message` (the form editors
//! and CI annotations understand) while the rest of the articles carry on. [`Error`] is what
//! stops an operation: an index that cannot be written, a folder that cannot be read.
//! [`Escaped`] keeps a file name from forging log lines: whoever names the files is not
//! whoever reads the logs.

use std::fmt::Write as _;
use std::path::PathBuf;

/// How bad a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth fixing; the article is still served.
    Warning,
    /// The article is skipped (or, in `kb check`, the check fails).
    Error,
}

/// A defect in one article, located to a line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Problem {
    /// The article's path as the user knows it: the articles folder joined with its path.
    pub file: String,
    /// 1-based line in the file.
    pub line: usize,
    pub message: String,
    pub severity: Severity,
}

impl Problem {
    pub fn error(file: impl Into<String>, line: usize, message: impl Into<String>) -> Self {
        Problem {
            file: file.into(),
            line: line.max(1),
            message: message.into(),
            severity: Severity::Error,
        }
    }

    pub fn warning(file: impl Into<String>, line: usize, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(file, line, message)
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tag = match self.severity {
            Severity::Warning => "warning: ",
            Severity::Error => "",
        };
        write!(
            f,
            "{}:{}: {tag}{}",
            Escaped(&self.file),
            self.line,
            Escaped(&self.message)
        )
    }
}

/// Shows a value with the characters that could forge or hide log lines escaped, as Rust
/// escapes them (`\n`, `\u{1b}`): control characters (a newline in a file name would start
/// a line of its own), line and paragraph separators, and bidirectional overrides.
pub struct Escaped<T>(pub T);

impl<T: std::fmt::Display> std::fmt::Display for Escaped<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Escaping<'a, 'b>(&'a mut std::fmt::Formatter<'b>);
        impl std::fmt::Write for Escaping<'_, '_> {
            fn write_str(&mut self, s: &str) -> std::fmt::Result {
                for c in s.chars() {
                    if needs_escape(c) {
                        write!(self.0, "{}", c.escape_default())?;
                    } else {
                        self.0.write_char(c)?;
                    }
                }
                Ok(())
            }
        }
        write!(Escaping(f), "{}", self.0)
    }
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// What stops a kb operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read the articles folder {}: {source}", Escaped(path.display()))]
    ArticlesFolder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the index at {} is locked by another kb process (is `kb serve` running?); stop it or use another --index folder",
        Escaped(path.display())
    )]
    IndexLocked { path: PathBuf },
    #[error("cannot use the index at {}: {source}", Escaped(path.display()))]
    Index {
        path: PathBuf,
        #[source]
        source: tantivy::TantivyError,
    },
    #[error("cannot write the index folder {}: {source}", Escaped(path.display()))]
    IndexFolder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("search failed: {0}")]
    Search(#[from] tantivy::TantivyError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_paths_cannot_forge_log_lines() {
        let p = Problem::error(
            "articles/en/a\nkb: all good.md",
            1,
            "bad \u{1b}[31mred\u{202e}",
        );
        let shown = p.to_string();
        assert_eq!(shown.lines().count(), 1, "{shown}");
        assert_eq!(
            shown,
            "articles/en/a\\nkb: all good.md:1: bad \\u{1b}[31mred\\u{202e}"
        );
        // Everything else is shown as it is.
        let p = Problem::warning("articles/zh-cn/密码 \"x\" \\ y.md", 2, "`title` is empty");
        assert_eq!(
            p.to_string(),
            "articles/zh-cn/密码 \"x\" \\ y.md:2: warning: `title` is empty"
        );
        let e = Error::ArticlesFolder {
            path: PathBuf::from("a\rb"),
            source: std::io::Error::other("gone"),
        };
        assert_eq!(e.to_string(), "cannot read the articles folder a\\rb: gone");
    }
}
