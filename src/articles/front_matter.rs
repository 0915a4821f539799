//! Front matter: YAML between `---` lines or TOML between `+++` lines (Hugo and Zola style).
//!
//! The block is split off by hand so that every error can be located to a line of the file;
//! YAML is parsed with serde-saphyr (pure Rust, precise locations), TOML with the toml crate.
//! Both are read into one generic value first, then the known keys are taken from it with
//! forgiving coercions (`title: 404` is a title, `tags: a, b` is two tags). Unknown keys are
//! kept, never an error.

use std::collections::BTreeMap;

use serde_json::Value;

/// A front matter error, located to a 1-based line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontMatterError {
    pub line: usize,
    pub message: String,
}

fn err(line: usize, message: impl Into<String>) -> FrontMatterError {
    FrontMatterError {
        line,
        message: message.into(),
    }
}

/// The front matter format of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Toml,
}

/// A file split into its front matter block and its Markdown body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split<'a> {
    pub format: Option<Format>,
    /// The text between the delimiter lines.
    pub raw: &'a str,
    /// 1-based line of the first line of `raw`.
    pub raw_line: usize,
    pub body: &'a str,
    /// 1-based line of the first line of `body`.
    pub body_line: usize,
}

/// Splits a file into front matter and body. A file that opens a block and never closes it is
/// an error: guessing where the body starts would index the metadata as text.
pub fn split(text: &str) -> Result<Split<'_>, FrontMatterError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_line = text.lines().next().unwrap_or("");
    let (format, delim) = match first_line.trim_end() {
        "---" => (Format::Yaml, "---"),
        "+++" => (Format::Toml, "+++"),
        _ => {
            return Ok(Split {
                format: None,
                raw: "",
                raw_line: 1,
                body: text,
                body_line: 1,
            });
        }
    };
    let start = first_line.len() + usize::from(text[first_line.len()..].starts_with('\n'));
    let start = if text[first_line.len()..].starts_with("\r\n") {
        first_line.len() + 2
    } else {
        start
    };
    let mut offset = start;
    for (line, l) in (2..).zip(text[start..].split_inclusive('\n')) {
        let content = l.trim_end_matches(['\n', '\r']).trim_end();
        if content == delim || (format == Format::Yaml && content == "...") {
            return Ok(Split {
                format: Some(format),
                raw: &text[start..offset],
                raw_line: 2,
                body: &text[offset + l.len()..],
                body_line: line + 1,
            });
        }
        offset += l.len();
    }
    Err(err(
        1,
        format!(
            "front matter opened with `{delim}` is never closed: add a `{delim}` line after it"
        ),
    ))
}

/// Known front matter keys, as the interface lists them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FrontMatter {
    pub title: Option<String>,
    pub description: Option<String>,
    pub lang: Option<String>,
    pub tags: Vec<String>,
    pub category: Option<String>,
    pub slug: Option<String>,
    pub draft: bool,
    pub aliases: Vec<String>,
    /// `YYYY-MM-DD`, validated.
    pub updated: Option<String>,
    pub owner: Option<String>,
    /// In days (`review_every: 90d`).
    pub review_every_days: Option<u32>,
    pub translation_key: Option<String>,
    pub queries: Vec<String>,
    pub reply: Option<String>,
    /// Every other key, kept for templates and later use.
    pub extra: BTreeMap<String, Value>,
    /// The file line of each top-level key present, for precise problems.
    pub lines: BTreeMap<String, usize>,
    /// The file line of each item of `queries`.
    pub query_lines: Vec<usize>,
}

/// Parses a split front matter block.
pub fn parse(split: &Split<'_>) -> Result<FrontMatter, FrontMatterError> {
    let Some(format) = split.format else {
        return Ok(FrontMatter::default());
    };
    if split.raw.trim().is_empty() {
        return Ok(FrontMatter::default());
    }
    let value = match format {
        Format::Yaml => parse_yaml(split.raw, split.raw_line)?,
        Format::Toml => parse_toml(split.raw, split.raw_line)?,
    };
    let map = match value {
        Value::Object(map) => map,
        Value::Null => return Ok(FrontMatter::default()),
        other => {
            return Err(err(
                split.raw_line,
                format!(
                    "front matter must be a mapping of `key: value` lines, not {}",
                    kind_of(&other)
                ),
            ));
        }
    };
    let key_line = |key: &str| key_line(split.raw, split.raw_line, key, format);
    let mut fm = FrontMatter::default();
    for (key, value) in map {
        let line = key_line(&key);
        fm.lines.insert(key.clone(), line);
        match key.as_str() {
            "title" => fm.title = string(&key, value, line)?,
            "description" => fm.description = string(&key, value, line)?,
            "lang" | "language" => fm.lang = string(&key, value, line)?,
            "tags" => fm.tags = strings(&key, value, line, true)?,
            "category" => fm.category = string(&key, value, line)?,
            "slug" => fm.slug = string(&key, value, line)?,
            "draft" => fm.draft = boolean(&key, value, line)?,
            "aliases" => fm.aliases = strings(&key, value, line, false)?,
            "updated" => fm.updated = date(&key, value, line)?,
            "owner" => fm.owner = string(&key, value, line)?,
            "review_every" => fm.review_every_days = duration_days(&key, value, line)?,
            "translation_key" => fm.translation_key = string(&key, value, line)?,
            "queries" => {
                fm.queries = strings(&key, value, line, false)?;
                fm.query_lines = item_lines(split.raw, split.raw_line, line, &fm.queries);
            }
            "reply" => fm.reply = string(&key, value, line)?,
            _ => {
                fm.extra.insert(key, value);
            }
        }
    }
    if let Some(slug) = &fm.slug
        && (slug.is_empty() || slug.contains(['/', '\\']) || slug == "." || slug == "..")
    {
        return Err(err(
            key_line("slug"),
            format!("`slug` must be one URL segment without `/`, got {slug:?}"),
        ));
    }
    Ok(fm)
}

fn parse_yaml(raw: &str, first_line: usize) -> Result<Value, FrontMatterError> {
    // Hugo and most YAML readers let a repeated key's last value win; so do we, rather than
    // drop the article.
    let mut options = serde_saphyr::Options::default();
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
    serde_saphyr::from_str_with_options::<Value>(raw, options).map_err(|e| {
        let line = e.location().map_or(0, |l| l.line() as usize);
        let message = e.without_snippet().to_string();
        // saphyr appends "at line X column Y" relative to the block; the line we report is the
        // file's, so drop it.
        let message = match message.rfind(" at line ") {
            Some(i) => message[..i].to_string(),
            None => message,
        };
        err(
            first_line + line.saturating_sub(1),
            format!("invalid YAML front matter: {message}"),
        )
    })
}

fn parse_toml(raw: &str, first_line: usize) -> Result<Value, FrontMatterError> {
    let table: toml::Table = toml::from_str(raw).map_err(|e| {
        let line = e
            .span()
            .map_or(0, |s| raw[..s.start.min(raw.len())].matches('\n').count());
        err(
            first_line + line,
            format!("invalid TOML front matter: {}", e.message()),
        )
    })?;
    Ok(toml_to_json(toml::Value::Table(table)))
}

fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
}

/// The line of a top-level key in the block (the block's first line if not found).
fn key_line(raw: &str, first_line: usize, key: &str, format: Format) -> usize {
    let sep = match format {
        Format::Yaml => ':',
        Format::Toml => '=',
    };
    raw.lines()
        .position(|l| {
            let l = l.trim_start_matches(['"', '\'']);
            l.strip_prefix(key)
                .map(|rest| rest.trim_start_matches(['"', '\'']).trim_start())
                .is_some_and(|rest| rest.starts_with(sep))
        })
        .map_or(first_line, |i| first_line + i)
}

/// The line of each item of a list that starts on `key_line`: the first line at or after the
/// key that contains the item's text, in order (the key's line when not found).
fn item_lines(raw: &str, first_line: usize, key_line: usize, items: &[String]) -> Vec<usize> {
    let lines: Vec<&str> = raw.lines().collect();
    let mut at = key_line.saturating_sub(first_line);
    items
        .iter()
        .map(|item| {
            match lines
                .iter()
                .skip(at)
                .position(|l| l.contains(item.as_str()))
            {
                Some(i) => {
                    at += i;
                    first_line + at
                }
                None => key_line,
            }
        })
        .collect()
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn string(key: &str, v: Value, line: usize) -> Result<Option<String>, FrontMatterError> {
    if v.is_null() {
        return Ok(None);
    }
    scalar(&v)
        .map(Some)
        .ok_or_else(|| err(line, format!("`{key}` must be text, not {}", kind_of(&v))))
}

fn strings(
    key: &str,
    v: Value,
    line: usize,
    comma_separated: bool,
) -> Result<Vec<String>, FrontMatterError> {
    let items = match v {
        Value::Null => vec![],
        Value::Array(items) => items,
        Value::String(s) if comma_separated => {
            s.split(',').map(|s| Value::String(s.to_string())).collect()
        }
        other => vec![other],
    };
    let mut out = Vec::with_capacity(items.len());
    for item in &items {
        match scalar(item) {
            Some(s) if s.is_empty() => {}
            Some(s) => out.push(s),
            None => {
                return Err(err(
                    line,
                    format!(
                        "`{key}` must be a list of text items, but one is {}",
                        kind_of(item)
                    ),
                ));
            }
        }
    }
    Ok(out)
}

fn boolean(key: &str, v: Value, line: usize) -> Result<bool, FrontMatterError> {
    match &v {
        Value::Null => Ok(false),
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("yes") => {
            Ok(true)
        }
        Value::String(s) if s.eq_ignore_ascii_case("false") || s.eq_ignore_ascii_case("no") => {
            Ok(false)
        }
        _ => Err(err(line, format!("`{key}` must be true or false, not {v}"))),
    }
}

/// A date `YYYY-MM-DD`, optionally followed by a time (which is dropped).
fn date(key: &str, v: Value, line: usize) -> Result<Option<String>, FrontMatterError> {
    let Some(s) = string(key, v, line)? else {
        return Ok(None);
    };
    let day = s.get(..10).unwrap_or("");
    let valid = day.len() == 10
        && day.as_bytes()[4] == b'-'
        && day.as_bytes()[7] == b'-'
        && matches!(
            (day[..4].parse::<u32>(), day[5..7].parse::<u32>(), day[8..10].parse::<u32>()),
            (Ok(1970..=9999), Ok(m @ 1..=12), Ok(d)) if d >= 1 && d <= days_in_month(m, day[..4].parse().unwrap_or(1970))
        )
        && (s.len() == 10 || matches!(s.as_bytes()[10], b'T' | b't' | b' '));
    if !valid {
        return Err(err(
            line,
            format!("`{key}` must be a date like 2025-01-31, got {s:?}"),
        ));
    }
    Ok(Some(day.to_string()))
}

fn days_in_month(month: u32, year: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `90d`, `12w`, `6m` (months of 30 days), `1y`, or a bare number of days.
fn duration_days(key: &str, v: Value, line: usize) -> Result<Option<u32>, FrontMatterError> {
    let Some(s) = string(key, v, line)? else {
        return Ok(None);
    };
    let s = s.trim().to_ascii_lowercase();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let factor = match unit.trim() {
        "" | "d" | "day" | "days" => Some(1),
        "w" | "week" | "weeks" => Some(7),
        "m" | "month" | "months" => Some(30),
        "y" | "year" | "years" => Some(365),
        _ => None,
    };
    match (num.parse::<u32>(), factor) {
        (Ok(n), Some(f)) if n > 0 => Ok(Some(n.saturating_mul(f))),
        _ => Err(err(
            line,
            format!("`{key}` must be a period like 90d, 12w, 6m or 1y, got {s:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fm(text: &str) -> Result<FrontMatter, FrontMatterError> {
        parse(&split(text)?)
    }

    #[test]
    fn yaml_with_every_known_key() {
        let text = "---\ntitle: Refunds\ndescription: How refunds work\nlang: en\ntags: [billing, refunds]\n\
            category: Billing\nslug: refund-policy\ndraft: false\naliases: [/old/refunds]\nupdated: 2025-03-01\n\
            owner: maria\nreview_every: 90d\ntranslation_key: refunds\nqueries:\n  - how do I get a refund\n\
            reply: You can ask for a refund within 30 days.\nweight: 10\n---\n# Body\n";
        let f = fm(text).unwrap();
        assert_eq!(f.title.as_deref(), Some("Refunds"));
        assert_eq!(f.tags, ["billing", "refunds"]);
        assert_eq!(f.updated.as_deref(), Some("2025-03-01"));
        assert_eq!(f.review_every_days, Some(90));
        assert_eq!(f.queries, ["how do I get a refund"]);
        assert_eq!(f.lines["title"], 2);
        assert_eq!(f.query_lines, [15]);
        assert_eq!(f.extra.get("weight"), Some(&Value::from(10)));
        assert_eq!(split(text).unwrap().body_line, 19);
    }

    #[test]
    fn toml_front_matter() {
        let text = "+++\ntitle = \"Refunds\"\ntags = [\"billing\"]\nupdated = 2025-03-01\ndraft = true\n[extra]\nicon = \"card\"\n+++\nBody\n";
        let f = fm(text).unwrap();
        assert_eq!(f.title.as_deref(), Some("Refunds"));
        assert_eq!(f.tags, ["billing"]);
        assert_eq!(f.updated.as_deref(), Some("2025-03-01"));
        assert!(f.draft);
        assert!(f.extra.contains_key("extra"));
        let s = split(text).unwrap();
        assert_eq!((s.body, s.body_line), ("Body\n", 9));
    }

    #[test]
    fn no_front_matter() {
        let s = split("# Title\n\ntext").unwrap();
        assert_eq!(s.format, None);
        assert_eq!(s.body, "# Title\n\ntext");
        assert_eq!(parse(&s).unwrap(), FrontMatter::default());
        // A thematic break later in the file is not front matter.
        assert_eq!(split("text\n---\nmore").unwrap().format, None);
    }

    #[test]
    fn empty_front_matter_and_crlf() {
        assert_eq!(fm("---\n---\nbody").unwrap(), FrontMatter::default());
        let s = split("---\r\ntitle: A\r\n---\r\nbody").unwrap();
        assert_eq!(parse(&s).unwrap().title.as_deref(), Some("A"));
        assert_eq!(s.body, "body");
    }

    #[test]
    fn broken_yaml_is_located() {
        let e = fm("---\ntitle: A\ntags: [a, b\ncategory: x\n---\nbody").unwrap_err();
        assert!(e.line >= 3 && e.line <= 5, "{e:?}");
        assert!(e.message.starts_with("invalid YAML front matter"), "{e:?}");
        let e = fm("---\ntitle: A\n  bad: indent: here\n---\n").unwrap_err();
        assert!(e.line >= 2 && e.line <= 3, "{e:?}");
    }

    #[test]
    fn broken_toml_is_located() {
        let e = fm("+++\ntitle = \"A\"\ntags = [\n+++\n").unwrap_err();
        assert!(e.line >= 3, "{e:?}");
        assert!(e.message.starts_with("invalid TOML front matter"), "{e:?}");
        let e = fm("+++\n\n\ntitle = = 1\n+++\n").unwrap_err();
        assert_eq!(e.line, 4, "{e:?}");
    }

    #[test]
    fn unclosed_block_is_an_error_on_line_one() {
        let e = fm("---\ntitle: A\n\n# Body").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.contains("never closed"));
    }

    #[test]
    fn wrong_types_name_the_key_and_its_line() {
        let e = fm("---\ntitle: A\ndraft: maybe\n---\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("`draft`"), "{e:?}");
        let e = fm("---\ntitle: {a: 1}\n---\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = fm("---\nupdated: last tuesday\n---\n").unwrap_err();
        assert!(e.message.contains("`updated`"));
        let e = fm("---\nupdated: 2025-02-30\n---\n").unwrap_err();
        assert!(e.message.contains("`updated`"));
        let e = fm("---\nreview_every: often\n---\n").unwrap_err();
        assert!(e.message.contains("`review_every`"));
        let e = fm("---\nslug: a/b\n---\n").unwrap_err();
        assert!(e.message.contains("`slug`"));
    }

    #[test]
    fn repeated_keys_take_the_last_value() {
        assert_eq!(
            fm("---\ntitle: A\ntitle: B\n---\n")
                .unwrap()
                .title
                .as_deref(),
            Some("B")
        );
    }

    #[test]
    fn forgiving_coercions() {
        let f = fm("---\ntitle: 404\ntags: billing, refunds\naliases: /old\n---\n").unwrap();
        assert_eq!(f.title.as_deref(), Some("404"));
        assert_eq!(f.tags, ["billing", "refunds"]);
        assert_eq!(f.aliases, ["/old"]);
    }

    #[test]
    fn a_list_is_not_front_matter() {
        let e = fm("---\n- a\n- b\n---\n").unwrap_err();
        assert!(e.message.contains("mapping"));
    }
}
