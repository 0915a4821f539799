//! Articles: finding the Markdown files of an articles folder and reading each into an
//! [`Article`].
//!
//! This module owns the rules of the interface's "Articles folder" section: which files are
//! articles, front matter, the title and language fallbacks, URLs, and reporting a broken
//! file as `path:line: message` while the others carry on. It knows nothing of indexes.

pub mod check;
pub mod edit;
pub mod front_matter;
pub mod lang;
pub mod markdown;
pub mod translations;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use markdown::{Heading, Link};

use crate::error::{Error, Problem, Result};

/// One article, as read from its file.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    /// Relative to the articles folder, `/`-separated, with the extension: the identity.
    pub path: String,
    /// Where the help center serves it, e.g. `/en/billing/refunds`.
    pub url: String,
    /// Normalized language tag (`en`, `zh-cn`, `zh-hant` …).
    pub lang: String,
    pub title: String,
    /// The front matter description, or empty.
    pub description: String,
    /// The first paragraph: a summary when there is no description.
    pub summary: String,
    pub tags: Vec<String>,
    pub category: Option<String>,
    pub draft: bool,
    pub aliases: Vec<String>,
    pub updated: Option<String>,
    pub owner: Option<String>,
    pub review_every_days: Option<u32>,
    pub translation_key: Option<String>,
    pub queries: Vec<String>,
    pub reply: Option<String>,
    pub extra: BTreeMap<String, serde_json::Value>,
    /// The file line of each front matter key present.
    pub key_lines: BTreeMap<String, usize>,
    /// The file line of each item of `queries`.
    pub query_lines: Vec<usize>,
    /// Whether the title came from the front matter or a heading (not the file name).
    pub has_title: bool,
    /// The Markdown after the front matter.
    pub body: String,
    /// 1-based line of the file where `body` starts.
    pub body_line: usize,
    /// Visible text of the body, code blocks excepted.
    pub text: String,
    /// The text of the body's code blocks.
    pub code: String,
    pub headings: Vec<Heading>,
    pub links: Vec<Link>,
    /// Hash of the file's bytes: what incremental indexing compares.
    pub hash: u64,
}

impl Article {
    /// The description, else the summary: what a result or a link preview shows.
    pub fn blurb(&self) -> &str {
        if self.description.is_empty() {
            &self.summary
        } else {
            &self.description
        }
    }

    /// The body rendered to sanitized HTML.
    pub fn html(&self) -> String {
        markdown::render_html(&self.body)
    }

    /// The body rendered to sanitized HTML, with each link and image target passed through
    /// `resolve` (which returns the target to use instead, or `None` to keep it).
    pub fn html_linked(&self, resolve: &dyn Fn(&str) -> Option<String>) -> String {
        markdown::render_html_linked(&self.body, resolve)
    }
}

/// A Markdown file below the articles folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Relative, `/`-separated: the article's identity.
    pub path: String,
    pub abs: PathBuf,
}

/// Whether a relative path names an article: a `.md` file none of whose components starts
/// with a dot.
pub fn is_article_path(path: &str) -> bool {
    path.ends_with(".md") && !path.split('/').any(|c| c.starts_with('.') || c.is_empty())
}

/// What kb reads at most from one article file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes; a larger file is reported and skipped.
    pub max_article_size: u64,
}

/// The default `--max-article-size`: 1 MiB, three and a half times the largest article of
/// the k8s documentation (292 kB), while indexing a file of that size takes tens of
/// megabytes (the README has the figures).
pub const DEFAULT_MAX_ARTICLE_SIZE: u64 = 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_article_size: DEFAULT_MAX_ARTICLE_SIZE,
        }
    }
}

/// Where a path of the articles folder really leads, once symbolic links are followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RealPath {
    /// Inside the folder: safe to read and serve.
    Inside(PathBuf),
    /// Outside it: a symbolic link (of the file or of a folder on the way) leads there.
    /// Never read, index or serve it: whoever can commit a link could publish any file the
    /// server can read (`ln -s /etc/passwd articles/en/p.md`).
    Outside(PathBuf),
}

/// Resolves `rel` (relative to the articles folder `dir`) to the file or folder it really
/// is, following symbolic links; an error when it does not exist or the links loop.
pub fn real_path(dir: &Path, rel: &Path) -> std::io::Result<RealPath> {
    let root = dir.canonicalize()?;
    let real = dir.join(rel).canonicalize()?;
    Ok(if real.starts_with(&root) {
        RealPath::Inside(real)
    } else {
        RealPath::Outside(real)
    })
}

/// A file of the articles folder, opened.
#[derive(Debug)]
pub struct Opened {
    pub file: std::fs::File,
    /// Of the open file itself (not of a path looked up again).
    pub meta: std::fs::Metadata,
    /// Where it really is, links followed: its name, not the link's, says what it is.
    pub real: PathBuf,
}

/// Why [`open_inside`] opened nothing.
#[derive(Debug)]
pub enum NotOpened {
    /// A symbolic link leads outside the folder (to this file).
    Outside(PathBuf),
    /// A folder, a FIFO, a device: nothing to read.
    NotAFile,
    Io(std::io::Error),
}

/// Opens `rel` (relative to the articles folder `dir`) for reading, only if it is a regular
/// file inside the folder once links are followed.
///
/// The path is resolved first, then opened without following a link in its last part and
/// without waiting (a FIFO would block an open); the checks are then made on the open file
/// itself, and on Linux its real place is read back from the descriptor. So swapping the file
/// or a folder on its way for a link between the check and the read cannot lead outside.
pub fn open_inside(dir: &Path, rel: &Path) -> Result<Opened, NotOpened> {
    let root = dir.canonicalize().map_err(NotOpened::Io)?;
    open_below(&root, dir, rel)
}

/// [`open_inside`] with the folder's real place (`dir` canonicalized) resolved already by
/// the caller, once for the many files of one pass (an index build).
fn open_below(root: &Path, dir: &Path, rel: &Path) -> Result<Opened, NotOpened> {
    let real = dir.join(rel).canonicalize().map_err(NotOpened::Io)?;
    if !real.starts_with(root) {
        return Err(NotOpened::Outside(real));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        libc::O_NOFOLLOW | libc::O_NONBLOCK,
    );
    let file = options.open(&real).map_err(NotOpened::Io)?;
    #[cfg(target_os = "linux")]
    let real = {
        use std::os::fd::AsRawFd;
        // Without /proc (a bare container or chroot) the path check above stands alone:
        // refusing every article there would take the whole help center offline.
        match std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())) {
            Ok(opened) if !opened.starts_with(root) => return Err(NotOpened::Outside(opened)),
            Ok(opened) => opened,
            Err(_) => real,
        }
    };
    let meta = file.metadata().map_err(NotOpened::Io)?;
    if !meta.is_file() {
        return Err(NotOpened::NotAFile);
    }
    Ok(Opened { file, meta, real })
}

/// The problem of a link that leads outside the articles folder.
fn outside(shown: &str, real: &Path) -> Problem {
    Problem::error(
        shown,
        1,
        format!(
            "a symbolic link to {}, outside the articles folder: kb reads nothing outside it; put the file itself in the folder",
            real.display()
        ),
    )
}

/// A size for people: `1 MiB`, `50.3 MiB`, `900 KiB`, `12 bytes`.
pub fn human_size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = KIB * KIB;
    let with_unit = |unit: u64, name: &str| {
        let n = bytes as f64 / unit as f64;
        if bytes.is_multiple_of(unit) {
            format!("{} {name}", bytes / unit)
        } else {
            format!("{n:.1} {name}")
        }
    };
    match bytes {
        b if b >= MIB => with_unit(MIB, "MiB"),
        b if b >= KIB => with_unit(KIB, "KiB"),
        b => format!("{b} bytes"),
    }
}

/// Lists the articles of `dir`, sorted by path. Unreadable subfolders, and symbolic links
/// that lead outside the folder (to an article or a folder), are reported, not fatal; links
/// that stay inside are followed (a loop is reported).
pub fn scan(dir: &Path) -> Result<(Vec<SourceFile>, Vec<Problem>)> {
    let folder_err = |source| Error::ArticlesFolder {
        path: dir.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(dir).map_err(folder_err)?;
    if !meta.is_dir() {
        return Err(folder_err(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            "not a folder",
        )));
    }
    let root = dir.canonicalize().map_err(folder_err)?;
    // As problems show paths: the folder joined with the path below it.
    let shown = |at: &Path| match at.strip_prefix(dir) {
        Ok(rel) => shown_path(dir, &rel.to_string_lossy()),
        Err(_) => at.display().to_string(),
    };
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let mut links_out = Vec::new();
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .into_iter()
        .filter_entry(|e| {
            if e.depth() == 0 {
                return true;
            }
            if e.file_name().to_string_lossy().starts_with('.') {
                return false;
            }
            if !e.path_is_symlink() {
                // Entries below a followed link are inside: the link was checked.
                return true;
            }
            let real = match e.path().canonicalize() {
                Ok(real) => real,
                // Dangling or looping: walkdir reports it.
                Err(_) => return true,
            };
            if real.starts_with(&root) {
                return true;
            }
            // Only what could hold or be an article is worth a word; the web layer refuses
            // other files that lead outside on its own.
            if e.file_type().is_dir() || e.file_name().to_string_lossy().ends_with(".md") {
                links_out.push(outside(&shown(e.path()), &real));
            }
            false
        });
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let at = e
                    .path()
                    .map_or_else(|| dir.to_path_buf(), Path::to_path_buf);
                problems.push(Problem::error(
                    shown(&at),
                    1,
                    format!(
                        "cannot read: {}",
                        e.io_error().map_or(e.to_string(), ToString::to_string)
                    ),
                ));
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(dir) else {
            continue;
        };
        let Some(path) = rel
            .components()
            .map(|c| c.as_os_str().to_str())
            .collect::<Option<Vec<_>>>()
            .map(|parts| parts.join("/"))
        else {
            problems.push(Problem::error(
                shown(entry.path()),
                1,
                "file name is not valid UTF-8: rename it",
            ));
            continue;
        };
        if is_article_path(&path) {
            files.push(SourceFile {
                path,
                abs: entry.path().to_path_buf(),
            });
        }
    }
    problems.extend(links_out);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((files, problems))
}

/// Reads the article at `path` (relative to `dir`): only if it really is inside the folder
/// (checked again here, as a file can become a link after a scan: [`open_inside`]), and only up to
/// `limits.max_article_size` bytes.
pub fn read(dir: &Path, path: &str, limits: &Limits) -> std::result::Result<Vec<u8>, Problem> {
    read_in(dir, None, path, limits)
}

/// [`read`], with the folder's real place (`dir` canonicalized) when the caller resolved it
/// once for many files: an index build reads thousands, and resolving the folder for each
/// cost a path walk per file.
pub fn read_in(
    dir: &Path,
    root: Option<&Path>,
    path: &str,
    limits: &Limits,
) -> std::result::Result<Vec<u8>, Problem> {
    use std::io::Read;
    let shown = shown_path(dir, path);
    let cannot = |e: std::io::Error| Problem::error(&shown, 1, format!("cannot read: {e}"));
    let opened = match root {
        Some(root) => open_below(root, dir, Path::new(path)),
        None => open_inside(dir, Path::new(path)),
    };
    let Opened { file, meta, .. } = match opened {
        Ok(opened) => opened,
        Err(NotOpened::Outside(real)) => return Err(outside(&shown, &real)),
        // Not a FIFO or a device, whose reading would never end.
        Err(NotOpened::NotAFile) => return Err(Problem::error(&shown, 1, "not a regular file")),
        Err(NotOpened::Io(e)) => return Err(cannot(e)),
    };
    let max = limits.max_article_size;
    let too_large = |size: u64| {
        Problem::error(
            &shown,
            1,
            format!(
                "the file is {}, more than the {} `--max-article-size`: split the article, or raise the limit",
                human_size(size),
                human_size(max)
            ),
        )
    };
    if meta.len() > max {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // A file that grows after the check is still cut at the limit.
    file.take(max + 1).read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.len() as u64 > max {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// When an article last changed, as `YYYY-MM-DD`: its front matter `updated`, else the date of
/// the last git commit touching the file, else the file's modification time.
pub fn last_updated(dir: &Path, path: &str, updated: Option<&str>) -> Option<String> {
    if let Some(u) = updated {
        return Some(u.to_string());
    }
    let git = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["log", "-1", "--format=%cs", "--"])
        .arg(path)
        .stderr(std::process::Stdio::null())
        .output();
    if let Ok(out) = git
        && out.status.success()
    {
        let date = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if date.len() == 10 {
            return Some(date);
        }
    }
    let modified = std::fs::metadata(dir.join(path)).ok()?.modified().ok()?;
    let t = time::OffsetDateTime::from(modified);
    Some(format!(
        "{:04}-{:02}-{:02}",
        t.year(),
        u8::from(t.month()),
        t.day()
    ))
}

/// When git saw a file first and last (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GitDates {
    pub added: i64,
    pub changed: i64,
}

/// What `git -C dir ARGS` prints, when `dir` is in a git repository and git succeeds.
fn git_output(dir: &Path, args: &[&str]) -> Option<Vec<u8>> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}

/// The times of the first and last git commits touching each file below `dir`, by path
/// relative to `dir`: one `git log` pass over the history, not one call per file. Empty when
/// `dir` is not in a git repository.
pub fn last_changes(dir: &Path) -> std::collections::HashMap<String, GitDates> {
    let mut out = std::collections::HashMap::new();
    let log = git_output(
        dir,
        &[
            "log",
            "--relative",
            "--format=%x00%ct",
            "--name-only",
            "--",
            ".",
        ],
    );
    let Some(log) = log else { return out };
    let text = String::from_utf8_lossy(&log);
    // Newest commit first: the first time a path appears is its last change, the last time
    // its addition.
    for commit in text.split('\0').skip(1) {
        let mut lines = commit.lines();
        let Some(time) = lines.next().and_then(|t| t.trim().parse::<i64>().ok()) else {
            continue;
        };
        for path in lines.map(str::trim).filter(|l| !l.is_empty()) {
            out.entry(path.to_string())
                .and_modify(|d: &mut GitDates| d.added = time)
                .or_insert(GitDates {
                    added: time,
                    changed: time,
                });
        }
    }
    out
}

/// The versions git has of the articles at `paths` (relative to `dir`) from the one in
/// effect at `since` (seconds since the epoch) on, oldest first, by path: each commit's time
/// and the file as it committed it (a commit that deleted the file has none). A path not in
/// git has none. Two git processes whatever the number of paths: one `git log` over them all,
/// one `git cat-file --batch` for every version.
pub fn versions(
    dir: &Path,
    paths: &[&str],
    since: i64,
) -> std::collections::HashMap<String, Vec<(i64, Vec<u8>)>> {
    let mut out: std::collections::HashMap<String, Vec<(i64, Vec<u8>)>> = Default::default();
    if paths.is_empty() {
        return out;
    }
    let mut args = vec![
        "log",
        "--relative",
        "--format=%x00%H %ct",
        "--name-only",
        "--",
    ];
    args.extend(paths);
    let Some(log) = git_output(dir, &args) else {
        return out;
    };
    let text = String::from_utf8_lossy(&log);
    // Newest commit first: for each path, every commit from `since` on and the last one
    // before it.
    let mut wanted: Vec<(String, i64, String)> = Vec::new();
    let mut done: std::collections::HashSet<String> = Default::default();
    for commit in text.split('\0').skip(1) {
        let mut lines = commit.lines();
        let Some((hash, time)) = lines.next().and_then(|l| l.trim().split_once(' ')) else {
            continue;
        };
        let Ok(time) = time.parse::<i64>() else {
            continue;
        };
        for path in lines.map(str::trim).filter(|l| !l.is_empty()) {
            if done.contains(path) {
                continue;
            }
            wanted.push((path.to_string(), time, hash.to_string()));
            if time < since {
                done.insert(path.to_string());
            }
        }
    }
    let names: String = wanted
        .iter()
        .map(|(path, _, hash)| format!("{hash}:./{path}\n"))
        .collect();
    let blobs = cat_files(dir, names);
    for ((path, time, _), blob) in wanted.into_iter().zip(blobs) {
        if let Some(bytes) = blob {
            out.entry(path).or_default().push((time, bytes));
        }
    }
    for list in out.values_mut() {
        list.reverse();
    }
    out
}

/// The objects `names` (one `rev:path` a line) asks for, in order, through one
/// `git cat-file --batch` in `dir`: `None` for one git does not have.
fn cat_files(dir: &Path, names: String) -> Vec<Option<Vec<u8>>> {
    use std::io::{BufRead, Read, Write};
    let count = names.lines().count();
    let child = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["cat-file", "--batch"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return vec![None; count];
    };
    // Written from a thread: git answers as it reads, and a full pipe either way must not
    // stop both.
    let mut stdin = child.stdin.take();
    let writer = std::thread::spawn(move || {
        if let Some(stdin) = stdin.as_mut() {
            let _ = stdin.write_all(names.as_bytes());
        }
    });
    let mut out = Vec::with_capacity(count);
    if let Some(stdout) = child.stdout.take() {
        let mut reader = std::io::BufReader::new(stdout);
        let mut header = String::new();
        while out.len() < count {
            header.clear();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                break;
            }
            // `<oid> blob <size>`, then the bytes and a newline; or `<name> missing`.
            let size = header
                .trim_end()
                .rsplit_once(' ')
                .filter(|_| header.contains(" blob "))
                .and_then(|(_, n)| n.parse::<usize>().ok());
            let Some(size) = size else {
                out.push(None);
                continue;
            };
            let mut bytes = vec![0; size + 1];
            if reader.read_exact(&mut bytes).is_err() {
                break;
            }
            bytes.truncate(size);
            out.push(Some(bytes));
        }
    }
    let _ = writer.join();
    // Done with it, whatever it still has to say.
    let _ = child.kill();
    let _ = child.wait();
    out.resize(count, None);
    out
}

/// Hash of a file's bytes, stable across runs and versions of kb.
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

/// Reads one article from its bytes. `shown` is the path to show in problems (the articles
/// folder joined with `path`).
pub fn parse(path: &str, shown: &str, bytes: &[u8]) -> std::result::Result<Article, Problem> {
    let hash = hash_bytes(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        Problem::error(
            shown,
            line,
            format!(
                "not valid UTF-8 (byte {}): save the file as UTF-8",
                e.valid_up_to()
            ),
        )
    })?;
    if text.contains('\0') {
        let line = 1 + text[..text.find('\0').unwrap_or(0)].matches('\n').count();
        return Err(Problem::error(
            shown,
            line,
            "contains NUL bytes: is this really a Markdown file?",
        ));
    }
    let split = front_matter::split(text).map_err(|e| Problem::error(shown, e.line, e.message))?;
    let fm = front_matter::parse(&split).map_err(|e| Problem::error(shown, e.line, e.message))?;
    let extracted = markdown::extract(split.body, split.body_line);

    let given_title = fm
        .title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .or_else(|| {
            extracted
                .headings
                .iter()
                .find(|h| h.level == 1 && !h.text.is_empty())
                .map(|h| h.text.clone())
        });
    let has_title = given_title.is_some();
    let title = given_title.unwrap_or_else(|| title_from_path(path));
    let lang = fm
        .lang
        .as_deref()
        .and_then(lang::normalize_tag)
        .or_else(|| lang::from_path(path))
        .unwrap_or_else(|| lang::detect(&format!("{title}\n{}", extracted.text)));
    Ok(Article {
        url: url_for(path, fm.slug.as_deref()),
        path: path.to_string(),
        lang,
        title,
        description: fm.description.unwrap_or_default(),
        summary: extracted.summary,
        tags: fm.tags,
        category: fm.category,
        draft: fm.draft,
        aliases: fm.aliases,
        updated: fm.updated,
        owner: fm.owner,
        review_every_days: fm.review_every_days,
        translation_key: fm.translation_key,
        queries: fm.queries,
        reply: fm.reply,
        extra: fm.extra,
        key_lines: fm.lines,
        query_lines: fm.query_lines,
        has_title,
        body: split.body.to_string(),
        body_line: split.body_line,
        text: extracted.text,
        code: extracted.code,
        headings: extracted.headings,
        links: extracted.links,
        hash,
    })
}

/// Reads every article of `dir`; broken ones become problems.
pub fn load(dir: &Path, limits: &Limits) -> Result<(Vec<Article>, Vec<Problem>)> {
    let (files, mut problems) = scan(dir)?;
    let mut articles = Vec::with_capacity(files.len());
    for file in files {
        let shown = shown_path(dir, &file.path);
        match read(dir, &file.path, limits).and_then(|bytes| parse(&file.path, &shown, &bytes)) {
            Ok(a) => articles.push(a),
            Err(p) => problems.push(p),
        }
    }
    Ok((articles, problems))
}

/// The path shown to users for an article: the articles folder joined with its path.
pub fn shown_path(dir: &Path, path: &str) -> String {
    let dir = dir.display().to_string();
    let dir = dir.trim_end_matches('/');
    if dir.is_empty() || dir == "." {
        path.to_string()
    } else {
        format!("{dir}/{path}")
    }
}

/// A readable title from a file name: `reset-password.md` → `Reset password`; an
/// `_index.md` or `index.md` takes its folder's name.
fn title_from_path(path: &str) -> String {
    let mut parts: Vec<&str> = path.split('/').collect();
    let file = parts.pop().unwrap_or(path);
    let stem = file.strip_suffix(".md").unwrap_or(file);
    let stem = if matches!(stem, "_index" | "index") {
        parts.pop().unwrap_or(stem)
    } else {
        stem
    };
    let words = stem.replace(['-', '_'], " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => stem.to_string(),
    }
}

/// The URL path of an article: its path without `.md`, `_index.md`/`index.md` standing for
/// their folder, the last segment replaced by `slug` when given; percent-encoded.
pub fn url_for(path: &str, slug: Option<&str>) -> String {
    let stem = path.strip_suffix(".md").unwrap_or(path);
    let (dir, file) = stem.rsplit_once('/').unwrap_or(("", stem));
    let mut url = String::from("/");
    if !dir.is_empty() {
        url.push_str(dir);
        url.push('/');
    }
    match slug {
        Some(s) => url.push_str(s),
        None if matches!(file, "_index" | "index") => {}
        None => url.push_str(file),
    }
    let mut encoded = String::with_capacity(url.len());
    percent_encode_into(&url, b"/", &mut encoded);
    encoded
}

/// `url` pointing at a heading of its page: `/en/a#anchor`, the anchor (a heading's id, the
/// page's `id` attribute) percent-encoded as the path is.
pub fn url_with_anchor(url: &str, anchor: &str) -> String {
    let mut out = String::with_capacity(url.len() + anchor.len() + 1);
    out.push_str(url);
    out.push('#');
    percent_encode_into(anchor, b"", &mut out);
    out
}

/// Appends `text` to `out` with every byte but letters, digits, `-._~` and `keep`
/// percent-encoded.
fn percent_encode_into(text: &str, keep: &[u8], out: &mut String) {
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Severity;

    #[test]
    fn versions_of_files_from_the_one_in_effect_on() {
        let repo = tempfile::tempdir().unwrap();
        let dir = repo.path().join("articles");
        std::fs::create_dir_all(dir.join("en")).unwrap();
        let git = |args: &[&str], at: i64| {
            let date = format!("@{at} +0000");
            let out = std::process::Command::new("git")
                .arg("-C")
                .arg(&dir)
                .args(args)
                .env("GIT_AUTHOR_NAME", "W")
                .env("GIT_AUTHOR_EMAIL", "w@example.com")
                .env("GIT_COMMITTER_NAME", "W")
                .env("GIT_COMMITTER_EMAIL", "w@example.com")
                .env("GIT_AUTHOR_DATE", &date)
                .env("GIT_COMMITTER_DATE", &date)
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .output()
                .unwrap();
            assert!(out.status.success(), "{args:?}: {out:?}");
        };
        let write = |path: &str, text: &str| std::fs::write(dir.join(path), text).unwrap();
        // Not in a repository yet: nothing.
        write("en/a.md", "one");
        assert!(versions(&dir, &["en/a.md"], 0).is_empty());
        git(&["init", "-q", "-b", "main"], 0);
        write("en/b.md", "gone");
        git(&["add", "."], 0);
        git(&["commit", "-qm", "1"], 1_000);
        write("en/a.md", "two");
        git(&["commit", "-qam", "2"], 2_000);
        std::fs::remove_file(dir.join("en/b.md")).unwrap();
        write("en/a.md", "three");
        git(&["commit", "-qam", "3"], 3_000);
        let got = |since| versions(&dir, &["en/a.md", "en/b.md", "en/none.md"], since);
        let a = |list: &[(i64, Vec<u8>)]| {
            list.iter()
                .map(|(t, b)| (*t, String::from_utf8_lossy(b).into_owned()))
                .collect::<Vec<_>>()
        };
        // From the version in effect at 2 500 (committed at 2 000) on.
        let v = got(2_500);
        assert_eq!(
            a(&v["en/a.md"]),
            [(2_000, "two".into()), (3_000, "three".into())]
        );
        // The commit that deleted b has no version of it; the one before is in effect.
        assert_eq!(a(&v["en/b.md"]), [(1_000, "gone".to_string())]);
        assert!(!v.contains_key("en/none.md"));
        let v = got(0);
        assert_eq!(v["en/a.md"].len(), 3);
    }

    fn article(path: &str, text: &str) -> Article {
        parse(path, path, text.as_bytes()).unwrap()
    }

    #[test]
    fn title_falls_back_to_heading_then_file_name() {
        assert_eq!(article("en/a.md", "---\ntitle: T\n---\n# H").title, "T");
        assert_eq!(
            article("en/a.md", "# Heading one\n\ntext").title,
            "Heading one"
        );
        assert_eq!(
            article("en/reset-password.md", "text").title,
            "Reset password"
        );
        assert_eq!(article("en/billing/_index.md", "text").title, "Billing");
        assert_eq!(article("en/a.md", "---\ntitle: \"\"\n---\n# H").title, "H");
    }

    #[test]
    fn lang_falls_back_to_path_then_script() {
        assert_eq!(article("en/a.md", "---\nlang: uk\n---\nx").lang, "uk");
        assert_eq!(article("zh-Hant/a.md", "text").lang, "zh-hant");
        assert_eq!(
            article(
                "misc/a.md",
                "Як змінити пароль облікового запису, якщо я його забув?"
            )
            .lang,
            "uk"
        );
        assert_eq!(
            article(
                "misc/a.md",
                "# 如何重設密碼\n\n請打開設定頁面，然後選擇帳戶。"
            )
            .lang,
            "zh-hant"
        );
    }

    #[test]
    fn last_updated_prefers_front_matter_then_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.md"), "x").unwrap();
        assert_eq!(
            last_updated(dir.path(), "a.md", Some("2025-01-02")).as_deref(),
            Some("2025-01-02")
        );
        // Not a git repository: the modification time.
        let today = last_updated(dir.path(), "a.md", None).unwrap();
        assert_eq!(today.len(), 10, "{today}");
        assert!(today.starts_with("20"), "{today}");
    }

    #[test]
    fn last_changes_come_from_one_pass_over_git_history() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str], date: &str| {
            let ok = std::process::Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(args)
                .env("GIT_AUTHOR_DATE", date)
                .env("GIT_COMMITTER_DATE", date)
                .env("GIT_AUTHOR_NAME", "t")
                .env("GIT_AUTHOR_EMAIL", "t@example.com")
                .env("GIT_COMMITTER_NAME", "t")
                .env("GIT_COMMITTER_EMAIL", "t@example.com")
                .output()
                .unwrap()
                .status
                .success();
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q"], "2024-01-01T00:00:00Z");
        std::fs::create_dir_all(dir.path().join("en")).unwrap();
        std::fs::write(dir.path().join("en/a.md"), "a").unwrap();
        std::fs::write(dir.path().join("en/b.md"), "b").unwrap();
        git(&["add", "."], "2024-01-01T00:00:00Z");
        git(&["commit", "-qm", "one"], "2024-01-01T00:00:00Z");
        std::fs::write(dir.path().join("en/b.md"), "b2").unwrap();
        git(&["commit", "-qam", "two"], "2024-06-01T00:00:00Z");
        let changes = last_changes(&dir.path().join("en"));
        assert_eq!(changes["a.md"].changed, 1_704_067_200);
        assert_eq!(changes["b.md"].changed, 1_717_200_000);
        assert_eq!(changes["b.md"].added, 1_704_067_200);
        assert!(
            last_changes(Path::new("/")).is_empty()
                || !last_changes(Path::new("/")).contains_key("a.md")
        );
    }

    #[test]
    fn urls() {
        assert_eq!(
            url_for("en/billing/refunds.md", None),
            "/en/billing/refunds"
        );
        assert_eq!(
            url_for("en/billing/refunds.md", Some("refund-policy")),
            "/en/billing/refund-policy"
        );
        assert_eq!(url_for("en/billing/_index.md", None), "/en/billing/");
        assert_eq!(url_for("top.md", None), "/top");
        assert_eq!(url_for("zh-cn/密码.md", None), "/zh-cn/%E5%AF%86%E7%A0%81");
        assert_eq!(
            url_with_anchor("/en/a", "update-the-firmware"),
            "/en/a#update-the-firmware"
        );
        assert_eq!(
            url_with_anchor("/zh-cn/a", "重设密码"),
            "/zh-cn/a#%E9%87%8D%E8%AE%BE%E5%AF%86%E7%A0%81"
        );
        assert_eq!(url_with_anchor("/en/a", "a/b \"<"), "/en/a#a%2Fb%20%22%3C");
    }

    #[test]
    fn broken_files_are_problems_with_lines() {
        let p = parse("en/a.md", "articles/en/a.md", b"---\ntitle: [\n---\n").unwrap_err();
        assert_eq!(p.file, "articles/en/a.md");
        assert!(p.to_string().starts_with("articles/en/a.md:"), "{p}");
        let p = parse(
            "en/a.md",
            "articles/en/a.md",
            b"line one\nline two \xff\xfe\n",
        )
        .unwrap_err();
        assert_eq!(p.line, 2);
        assert!(p.message.contains("UTF-8"));
    }

    #[test]
    fn article_paths() {
        assert!(is_article_path("en/a.md"));
        assert!(!is_article_path("en/.drafts/a.md"));
        assert!(!is_article_path("en/.a.md"));
        assert!(!is_article_path("en/a.markdown"));
    }

    #[test]
    fn links_outside_the_folder_are_refused_and_reported() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.md"), "# Secret").unwrap();
        std::fs::create_dir_all(outside.path().join("docs")).unwrap();
        std::fs::write(outside.path().join("docs/more.md"), "# More").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("en/real")).unwrap();
        std::fs::write(root.join("en/real/a.md"), "# A").unwrap();
        let link = |target: &Path, at: &str| std::os::unix::fs::symlink(target, root.join(at));
        link(&outside.path().join("secret.md"), "en/p.md").unwrap();
        link(&outside.path().join("docs"), "en/docs").unwrap();
        link(Path::new("../../../../../../../../etc"), "en/etc").unwrap();
        // Links that stay inside are followed; a loop is reported, not walked forever.
        link(Path::new("real/a.md"), "en/b.md").unwrap();
        link(Path::new("real"), "en/also").unwrap();
        link(Path::new(".."), "en/real/up").unwrap();
        link(Path::new("self.md"), "en/self.md").unwrap();

        let (files, problems) = scan(root).unwrap();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["en/also/a.md", "en/b.md", "en/real/a.md"]);
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        for (file, what) in [
            ("en/p.md", "secret.md, outside the articles folder"),
            ("en/docs", "docs, outside the articles folder"),
            ("en/etc", "/etc, outside the articles folder"),
            ("en/self.md", "cannot read"),
            ("en/real/up", "cannot read"),
        ] {
            let at = format!("{}:1: ", shown_path(root, file));
            assert!(
                shown.iter().any(|p| p.starts_with(&at) && p.contains(what)),
                "no {at}…{what} in {shown:#?}"
            );
        }
        assert!(problems.iter().all(|p| p.severity == Severity::Error));

        // Reading checks again: a file replaced by a link after the scan is still refused.
        let limits = Limits::default();
        assert_eq!(read(root, "en/b.md", &limits).unwrap(), b"# A");
        std::fs::remove_file(root.join("en/real/a.md")).unwrap();
        link(&outside.path().join("secret.md"), "en/real/a.md").unwrap();
        let p = read(root, "en/b.md", &limits).unwrap_err();
        assert!(p.message.contains("outside the articles folder"), "{p}");
        let p = read(root, "en/p.md", &limits).unwrap_err();
        assert!(p.message.contains("outside the articles folder"), "{p}");
    }

    #[test]
    fn articles_over_the_size_limit_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("en")).unwrap();
        std::fs::write(root.join("en/big.md"), "x".repeat(2048)).unwrap();
        std::fs::write(root.join("en/fits.md"), "x".repeat(1024)).unwrap();
        let limits = Limits {
            max_article_size: 1024,
        };
        assert_eq!(read(root, "en/fits.md", &limits).unwrap().len(), 1024);
        let p = read(root, "en/big.md", &limits).unwrap_err();
        assert_eq!(
            p.to_string(),
            format!(
                "{}:1: the file is 2 KiB, more than the 1 KiB `--max-article-size`: split the article, or raise the limit",
                shown_path(root, "en/big.md")
            )
        );
        let (loaded, problems) = load(root, &limits).unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(problems.len(), 1);
        assert_eq!(human_size(1024 * 1024), "1 MiB");
        assert_eq!(human_size(52_740_000), "50.3 MiB");
        assert_eq!(human_size(900), "900 bytes");
    }

    #[test]
    fn scan_skips_dot_entries_and_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("en/.hidden")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join("en/a.md"), "# A").unwrap();
        std::fs::write(root.join("en/.hidden/b.md"), "# B").unwrap();
        std::fs::write(root.join("en/.c.md"), "# C").unwrap();
        std::fs::write(root.join(".git/d.md"), "# D").unwrap();
        std::fs::write(root.join("en/notes.txt"), "x").unwrap();
        let (files, problems) = scan(root).unwrap();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["en/a.md"]);
        assert!(problems.is_empty());
    }
}
