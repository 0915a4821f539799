//! The command line: clap definitions and one module per command.
//!
//! Parsing only validates; each command's `run` does the work with the library modules.
//! Exit codes: 0 success, 1 for a check that found errors, 2 when something stops kb.

pub mod check;
pub mod export;
pub mod index;
pub mod link;
pub mod mcp;
pub mod report;
pub mod search;
pub mod serve;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use kb::metrics::MetricsReader;
use kb::metrics::sqlite::SqliteReader;

/// The recorded events of `data`, read-only (a running server may be writing them).
pub fn recorded_events(data: &Path) -> anyhow::Result<Box<dyn MetricsReader>> {
    let Some(reader) = SqliteReader::open(data)
        .with_context(|| format!("cannot read the metrics in {}", data.display()))?
    else {
        bail!(
            "no recorded events in {}: `kb serve --data {0}` records them",
            data.display()
        );
    };
    Ok(Box::new(reader))
}

/// kb: a multilingual help center and FAQ search engine over a folder of Markdown articles.
#[derive(Debug, Parser)]
#[command(name = "kb", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build or refresh the index, then serve the help center and its API.
    Serve(ServeArgs),
    /// Build or refresh the index and print what changed.
    Index(IndexArgs),
    /// Search from the terminal.
    Search(SearchArgs),
    /// Print ready-to-paste links to the articles that answer a query or a customer's message.
    Link(LinkArgs),
    /// Lint the articles and run their search tests (`queries`); exit 1 on errors.
    Check(CheckArgs),
    /// The content-gap report: which articles to write and which to update.
    Report(ReportArgs),
    /// Write the recorded events (searches, clicks, views, votes, contact clicks, links).
    Export(ExportArgs),
    /// Serve the MCP tools (search, get_article, answer) to an AI agent over stdio.
    Mcp(McpArgs),
}

/// Where the articles and the index live.
#[derive(Debug, Clone, Args)]
pub struct Folders {
    /// Folder of Markdown articles.
    #[arg(long, value_name = "DIR", default_value = "articles")]
    pub articles: PathBuf,
    /// Folder of the search index (derived data: safe to delete).
    #[arg(long, value_name = "DIR", default_value = "index")]
    pub index: PathBuf,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// How much of the articles kb reads.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Larger article files are reported and skipped: bytes, or with a unit (512KiB, 2MiB,
    /// 1MB).
    #[arg(long, value_name = "SIZE", env = "KB_MAX_ARTICLE_SIZE", default_value = "1MiB",
          value_parser = parse_size)]
    pub max_article_size: u64,
}

impl LimitArgs {
    pub fn limits(&self) -> kb::articles::Limits {
        kb::articles::Limits {
            max_article_size: self.max_article_size,
        }
    }
}

/// A size in bytes: `1048576`, `512KiB`, `2MiB`, `1MB`, `1.5 MiB` (k, K, KB, KiB … all
/// accepted; decimal units are powers of 1000).
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size: write bytes or e.g. 512KiB, 2MiB"))?;
    let unit_bytes: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "kb" => 1_000,
        "m" | "mib" => 1 << 20,
        "mb" => 1_000_000,
        "g" | "gib" => 1 << 30,
        "gb" => 1_000_000_000,
        other => {
            return Err(format!(
                "unknown unit {other:?}: use bytes, KiB, MiB or GiB (or KB, MB, GB)"
            ));
        }
    };
    let bytes = number * unit_bytes as f64;
    if !(1.0..=u64::MAX as f64).contains(&bytes) {
        return Err(format!("{text:?} is not a size of at least one byte"));
    }
    Ok(bytes as u64)
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub folders: Folders,
    /// Folder of page templates; files there replace the built-in ones of the same name.
    #[arg(long, value_name = "DIR", default_value = "templates")]
    pub templates: PathBuf,
    /// Folder of data that cannot be rebuilt (metrics, votes).
    #[arg(long, value_name = "DIR", default_value = "data")]
    pub data: PathBuf,
    /// Delete recorded events older than this many days (0 or unset: keep them all).
    #[arg(long, value_name = "DAYS")]
    pub retention_days: Option<u32>,
    /// Address to listen on.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Public URL of the help center, for absolute links (the same `KB_BASE_URL` serves
    /// `kb link`).
    #[arg(long, value_name = "URL", env = "KB_BASE_URL")]
    pub base_url: Option<String>,
    /// Do not re-index articles when their files change.
    #[arg(long)]
    pub no_watch: bool,
    /// Include draft articles (for writers previewing their work).
    #[arg(long)]
    pub drafts: bool,
    /// The help center's name in page titles and the header (default: "Help Center", in
    /// the reader's language).
    #[arg(long, value_name = "NAME")]
    pub site_name: Option<String>,
    /// Where "Contact support" links go.
    #[arg(long, value_name = "URL")]
    pub contact_url: Option<String>,
    /// Another site allowed to call the API from a browser (repeatable).
    #[arg(long = "cors-origin", value_name = "URL")]
    pub cors_origins: Vec<String>,
    /// A reverse proxy (address or network, repeatable) whose X-Forwarded-For and
    /// X-Forwarded-Proto are believed; without one those headers are ignored.
    #[arg(
        long = "trust-proxy",
        value_name = "ADDR[/BITS]",
        env = "KB_TRUST_PROXY",
        value_delimiter = ','
    )]
    pub trust_proxy: Vec<String>,
    /// A site allowed to show the agent panel (/agent) in a frame, such as a help desk
    /// (repeatable): https://example.zendesk.com, https://*.freshdesk.com.
    #[arg(
        long = "frame-ancestor",
        value_name = "ORIGIN",
        env = "KB_FRAME_ANCESTOR",
        value_delimiter = ','
    )]
    pub frame_ancestors: Vec<String>,
    /// File holding the key that signs visitor ids (32 characters or more), for replicas
    /// that must share one; default: `KB_VISITOR_KEY`, else DATA/visitor.key, made once.
    #[arg(long, value_name = "FILE", env = "KB_VISITOR_KEY_FILE")]
    pub visitor_key_file: Option<PathBuf>,
    /// Most connections open at once; more wait to be accepted.
    #[arg(long, value_name = "N", env = "KB_MAX_CONNECTIONS", default_value_t = kb::web::server::MAX_CONNECTIONS,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub max_connections: usize,
    /// File holding the bearer token AI agents must send to `POST /mcp` (32 characters or
    /// more); default: `KB_MCP_TOKEN`; without either the MCP server is open, like the API.
    #[arg(long, value_name = "FILE", env = "KB_MCP_TOKEN_FILE")]
    pub mcp_token_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct McpArgs {
    #[command(flatten)]
    pub folders: Folders,
    /// Folder of the metrics database: AI agents' searches are recorded there (`source = ai`).
    #[arg(long, value_name = "DIR", default_value = "data")]
    pub data: PathBuf,
    /// Public URL of the help center, for the links the tools return.
    #[arg(long, value_name = "URL", env = "KB_BASE_URL")]
    pub base_url: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct IndexArgs {
    #[command(flatten)]
    pub folders: Folders,
}

#[derive(Debug, Clone, Args)]
pub struct SearchArgs {
    /// What to search for.
    pub query: String,
    #[command(flatten)]
    pub folders: Folders,
    /// Only articles in this language (`zh` keeps zh-cn, zh-tw …).
    #[arg(long, value_name = "L")]
    pub lang: Option<String>,
    /// Number of results.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub limit: usize,
    /// Print the same JSON object as /api/search.
    #[arg(long)]
    pub json: bool,
    /// Include draft articles.
    #[arg(long)]
    pub drafts: bool,
}

#[derive(Debug, Clone, Args)]
pub struct LinkArgs {
    /// What the customer asked (a query or their whole message).
    #[arg(required_unless_present = "stdin", conflicts_with = "stdin")]
    pub query: Option<String>,
    /// Read the customer's message from standard input instead.
    #[arg(long)]
    pub stdin: bool,
    #[command(flatten)]
    pub folders: Folders,
    /// How to print each link: Markdown, HTML, or text (title, canned reply or one-line
    /// summary, URL).
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: LinkFormat,
    /// The help center's public address, for absolute links.
    #[arg(long, value_name = "URL", env = "KB_BASE_URL", default_value = kb::agent::DEFAULT_BASE_URL)]
    pub base_url: String,
    /// Number of links (1 to 100).
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u64).range(1..=100))]
    pub limit: u64,
    /// Only articles in this language (`zh` keeps zh-cn, zh-tw …).
    #[arg(long, value_name = "L")]
    pub lang: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LinkFormat {
    Markdown,
    Html,
    Text,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Folder of the metrics database.
    #[arg(long, value_name = "DIR", default_value = "data")]
    pub data: PathBuf,
    /// Only events of this recent period: 30d, 12h, 2w, 6m, 1y (default: all).
    #[arg(long, value_name = "PERIOD")]
    pub since: Option<String>,
    /// One JSON object per line, or CSV with a header row.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: ExportFormat,
}

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub folders: Folders,
    /// Folder of the metrics database.
    #[arg(long, value_name = "DIR", default_value = "data")]
    pub data: PathBuf,
    /// The period reported on, ending now: 30d, 2w, 6m, 1y … (compared with the period before).
    #[arg(long, value_name = "PERIOD", default_value = "30d")]
    pub since: String,
    /// Markdown (for a terminal or a pull request), JSON, CSV (a row per item) or a
    /// self-contained HTML page with charts.
    #[arg(long, value_enum, default_value = "md")]
    pub format: ReportFormat,
    /// The language to word it in: en, zh-cn, zh-tw, uk or te (JSON keeps its field names
    /// and kinds, and words `why` and `action`).
    #[arg(long, visible_alias = "hl", value_name = "L", default_value = "en")]
    pub lang: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Md,
    Json,
    Csv,
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Jsonl,
    Csv,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Folder of Markdown articles.
    #[arg(long, value_name = "DIR", default_value = "articles")]
    pub articles: PathBuf,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_units() {
        assert_eq!(parse_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_size("1MiB"), Ok(1_048_576));
        assert_eq!(parse_size("2 mib"), Ok(2 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("1MB"), Ok(1_000_000));
        assert_eq!(parse_size("1.5MiB"), Ok(3 << 19));
        for bad in ["", "MiB", "-1", "0", "1 parsec", "1..2M"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
