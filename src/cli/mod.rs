//! The command line: clap definitions and one module per command.
//!
//! Parsing only validates; each command's `run` does the work with the library modules.
//! Exit codes: 0 success, 1 for a check that found errors, 2 when something stops kb.

pub mod check;
pub mod database;
pub mod export;
pub mod index;
pub mod link;
pub mod mcp;
pub mod report;
pub mod search;
pub mod serve;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use kb::articles::edit::EditUrl;

/// kb: a multilingual help center and FAQ search engine over a folder of Markdown articles.
#[derive(Debug, Parser)]
#[command(name = "kb", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// How log lines are written to standard error: text for people, or one JSON object per
    /// line for a log collector. Colours only when standard error is a terminal.
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "FORMAT",
        env = "KB_LOG_FORMAT",
        default_value = "text"
    )]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build or refresh the index, then serve the help center and its API.
    #[command(after_help = SERVE_ENVIRONMENT)]
    Serve(Box<ServeArgs>),
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
    /// Copy the recorded events from SQLite into an empty PostgreSQL database.
    MigrateData(MigrateDataArgs),
    /// Serve the MCP tools (search, get_article, answer) to an AI agent over stdio.
    Mcp(McpArgs),
}

/// Where the articles and the index live.
#[derive(Debug, Clone, Args)]
pub struct Folders {
    /// Folder of Markdown articles.
    #[arg(
        long,
        value_name = "DIR",
        env = "KB_ARTICLES",
        default_value = "articles"
    )]
    pub articles: PathBuf,
    /// Folder of the search index (derived data: safe to delete).
    #[arg(long, value_name = "DIR", env = "KB_INDEX", default_value = "index")]
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

/// How often to pull a git remote: `30s`, `5m`, `1h 30m` (humantime's units); `0` for
/// never (hooks only). Less than a second is refused: it would keep git busy for nothing.
fn parse_every(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    let every = humantime::parse_duration(text)
        .map_err(|e| format!("{text:?} is not a duration such as 30s, 5m or 1h: {e}"))?;
    if !every.is_zero() && every < std::time::Duration::from_secs(1) {
        return Err(format!("{text:?} is too often: pull at most once a second"));
    }
    Ok(every)
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

/// What `kb serve --help` says of the settings that are only environment variables.
const SERVE_ENVIRONMENT: &str = "\
Every option can also be set by its KB_* environment variable. Secrets are only read from the
environment (keep them out of the process list):
  KB_ADMIN_TOKEN           the admin routes' token (/admin/report, /api/report, /metrics), 32+ characters
  KB_VISITOR_KEY           the key that signs visitor ids, shared by replicas, 32+ characters
  KB_GIT_WEBHOOK_SECRET    signs the git host's hooks to /api/hooks/git, 16+ characters
  KB_LOG                   which logs to write, e.g. kb=debug (default kb=info,tower_http=warn)";
fn parse_edit_url(text: &str) -> Result<EditUrl, String> {
    EditUrl::parse(text)
}

/// Where the metrics are kept: SQLite in `--data`, or PostgreSQL with `--database`.
#[derive(Debug, Clone, Args)]
pub struct MetricsDb {
    /// Folder of data that cannot be rebuilt (the metrics database, the visitor key).
    #[arg(long, value_name = "DIR", env = "KB_DATA", default_value = "data")]
    pub data: PathBuf,
    /// Keep the metrics in this PostgreSQL database instead of SQLite in --data:
    /// postgres://USER:PASSWORD@HOST:PORT/DATABASE (replicas share one).
    #[arg(
        long,
        value_name = "URL",
        env = "KB_DATABASE_URL",
        hide_env_values = true
    )]
    pub database: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub folders: Folders,
    /// Folder of page templates; files there replace the built-in ones of the same name.
    #[arg(
        long,
        value_name = "DIR",
        env = "KB_TEMPLATES",
        default_value = "templates"
    )]
    pub templates: PathBuf,
    #[command(flatten)]
    pub metrics: MetricsDb,
    /// Delete recorded events older than this many days (0 or unset: keep them all).
    #[arg(long, value_name = "DAYS", env = "KB_RETENTION_DAYS")]
    pub retention_days: Option<u32>,
    /// Address to listen on.
    #[arg(
        long,
        value_name = "HOST:PORT",
        env = "KB_ADDR",
        default_value = "127.0.0.1:8080"
    )]
    pub addr: String,
    /// A second address serving only GET /metrics, to whoever reaches it: an internal
    /// address for the scraper (on the main address /metrics needs KB_ADMIN_TOKEN).
    #[arg(long, value_name = "HOST:PORT", env = "KB_METRICS_ADDR")]
    pub metrics_addr: Option<String>,
    /// Public URL of the help center, for absolute links (the same `KB_BASE_URL` serves
    /// `kb link`).
    #[arg(long, value_name = "URL", env = "KB_BASE_URL")]
    pub base_url: Option<String>,
    /// Do not re-index articles when their files change (nor reload open pages).
    #[arg(long, env = "KB_NO_WATCH")]
    pub no_watch: bool,
    /// Include draft articles (for writers previewing their work).
    #[arg(long, env = "KB_DRAFTS")]
    pub drafts: bool,
    /// Clone the articles from this git repository into --articles (or fetch, if it is
    /// already a clone of it) and follow its branch: https://, ssh://, file:// URLs,
    /// user@host:path. Signed hooks to /api/hooks/git pull at once (KB_GIT_WEBHOOK_SECRET).
    #[arg(long = "git", value_name = "URL", env = "KB_GIT")]
    pub git: Option<String>,
    /// The branch to follow (default: the remote's default branch, or the one the clone is
    /// on).
    #[arg(long, value_name = "BRANCH", env = "KB_GIT_BRANCH", requires = "git")]
    pub git_branch: Option<String>,
    /// How often to pull the branch: 30s, 5m, 1h (0: only on signed hooks).
    #[arg(long, value_name = "DURATION", env = "KB_GIT_EVERY", default_value = "5m",
          value_parser = parse_every)]
    pub git_every: std::time::Duration,
    /// The help center's name in page titles and the header (default: "Help Center", in
    /// the reader's language).
    #[arg(long, value_name = "NAME", env = "KB_SITE_NAME")]
    pub site_name: Option<String>,
    /// Where "Contact support" links go.
    #[arg(long, value_name = "URL", env = "KB_CONTACT_URL")]
    pub contact_url: Option<String>,
    /// Another site allowed to call the API from a browser (repeatable).
    #[arg(
        long = "cors-origin",
        value_name = "URL",
        env = "KB_CORS_ORIGIN",
        value_delimiter = ','
    )]
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
    /// that must share one; default: `KB_VISITOR_KEY`, else the one kept in the --database
    /// (made by the first replica), else DATA/visitor.key, made once.
    #[arg(long, value_name = "FILE", env = "KB_VISITOR_KEY_FILE")]
    pub visitor_key_file: Option<PathBuf>,
    /// Where writers edit an article, with {path} for its path: "Edit this page" on
    /// articles and in the report (https://github.com/acme/help/edit/main/articles/{path}).
    #[arg(long, value_name = "URL", env = "KB_EDIT_URL", value_parser = parse_edit_url)]
    pub edit_url: Option<EditUrl>,
    /// Most connections open at once; more wait to be accepted.
    #[arg(long, value_name = "N", env = "KB_MAX_CONNECTIONS", default_value_t = kb::web::server::MAX_CONNECTIONS,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub max_connections: usize,
    /// Most connections one client address (an IPv6 /64) may hold open; more from it are
    /// closed at once. `--trust-proxy` addresses are not limited.
    #[arg(long, value_name = "N", env = "KB_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = kb::web::server::MAX_PER_ADDRESS,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub max_connections_per_address: usize,
    /// File holding the bearer token AI agents must send to `POST /mcp` (32 characters or
    /// more); default: `KB_MCP_TOKEN`; without either the MCP server is open, like the API.
    #[arg(long, value_name = "FILE", env = "KB_MCP_TOKEN_FILE")]
    pub mcp_token_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct McpArgs {
    #[command(flatten)]
    pub folders: Folders,
    /// Where AI agents' searches are recorded (`source = ai`).
    #[command(flatten)]
    pub metrics: MetricsDb,
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
    /// The reader's language: each article shows in it where translated (default: the
    /// query's language).
    #[arg(long, value_name = "L")]
    pub hl: Option<String>,
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
    /// The language you answer in: each article is linked in it where translated (default:
    /// `--lang`, else the language and script of the message).
    #[arg(long, value_name = "L")]
    pub hl: Option<String>,
    /// Link to the top of each article, not to the section that answers.
    #[arg(long)]
    pub whole_article: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LinkFormat {
    Markdown,
    Html,
    Text,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub metrics: MetricsDb,
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
    #[command(flatten)]
    pub metrics: MetricsDb,
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
    /// Where writers edit an article, with {path} for its path: each article listed links
    /// there.
    #[arg(long, value_name = "URL", env = "KB_EDIT_URL", value_parser = parse_edit_url)]
    pub edit_url: Option<EditUrl>,
}

#[derive(Debug, Clone, Args)]
pub struct MigrateDataArgs {
    /// Where the events are: sqlite (the data folder `data`) or sqlite:DIR.
    #[arg(long, value_name = "sqlite[:DIR]", default_value = "sqlite")]
    pub from: String,
    /// The PostgreSQL database to copy them into, which must hold no events yet:
    /// postgres://USER:PASSWORD@HOST:PORT/DATABASE.
    #[arg(
        long,
        value_name = "URL",
        env = "KB_DATABASE_URL",
        hide_env_values = true
    )]
    pub to: String,
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
    #[arg(
        long,
        value_name = "DIR",
        env = "KB_ARTICLES",
        default_value = "articles"
    )]
    pub articles: PathBuf,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flag_of_serve_has_an_environment_variable() {
        use clap::CommandFactory;
        let mut cli = Cli::command();
        cli.build();
        let serve = cli.find_subcommand("serve").unwrap();
        let mut help = Vec::new();
        serve.clone().write_long_help(&mut help).unwrap();
        let help = String::from_utf8(help).unwrap();
        let mut names = std::collections::HashSet::new();
        for arg in serve.get_arguments() {
            let id = arg.get_id().as_str();
            if matches!(id, "help" | "version") {
                continue;
            }
            let env = arg
                .get_env()
                .unwrap_or_else(|| panic!("`kb serve --{id}` has no KB_* environment variable"));
            let env = env.to_str().unwrap();
            assert!(env.starts_with("KB_"), "--{id}: {env}");
            assert!(names.insert(env.to_string()), "{env} twice");
            assert!(
                help.contains(&format!("[env: {env}")),
                "{env} not in --help"
            );
        }
        assert!(names.contains("KB_GIT") && names.contains("KB_LOG_FORMAT"));
    }

    #[test]
    fn git_intervals_take_units() {
        use std::time::Duration;
        assert_eq!(parse_every("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_every("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_every("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_every("0"), Ok(Duration::ZERO));
        for bad in ["", "5", "soon", "10ms", "-1s"] {
            assert!(parse_every(bad).is_err(), "{bad}");
        }
    }

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
