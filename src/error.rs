//! Errors shared across kb's modules.
//!
//! [`Problem`] is a defect in one article, reported as `path:line: message` (the form editors
//! and CI annotations understand) while the rest of the articles carry on. [`Error`] is what
//! stops an operation: an index that cannot be written, a folder that cannot be read.

use std::path::PathBuf;

/// How bad a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth fixing; the article is still served.
    Warning,
    /// The article is skipped (or, in `kb check`, the check fails).
    Error,
}

/// A defect in one article, located to a line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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
        write!(f, "{}:{}: {tag}{}", self.file, self.line, self.message)
    }
}

/// What stops a kb operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read the articles folder {}: {source}", path.display())]
    ArticlesFolder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the index at {} is locked by another kb process (is `kb serve` running?); stop it or use another --index folder",
        path.display()
    )]
    IndexLocked { path: PathBuf },
    #[error("cannot use the index at {}: {source}", path.display())]
    Index {
        path: PathBuf,
        #[source]
        source: tantivy::TantivyError,
    },
    #[error("cannot write the index folder {}: {source}", path.display())]
    IndexFolder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("search failed: {0}")]
    Search(#[from] tantivy::TantivyError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
