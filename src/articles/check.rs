//! Lints for `kb check`: what would break the help center once the articles ship.
//!
//! Every problem is located to a line: empty titles, two articles (or aliases) claiming one
//! URL, URLs that the help center itself uses, links to articles or headings that do not
//! exist, images that are not there, and translation groups a writer probably did not mean
//! (a `translation_key` that splits an article from its translations by path, two articles
//! of one language in a group). The search tests (`queries` ranking their article)
//! need an index, so they live with the `check` command, not here.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::{Article, RealPath, real_path, shown_path};
use crate::error::Problem;

/// URL prefixes the help center serves itself: an article there would be hidden.
pub const RESERVED: &[&str] = &[
    "/api/",
    "/search",
    "/static/",
    "/healthz",
    "/sitemap.xml",
    "/opensearch.xml",
    "/robots.txt",
    "/favicon",
    "/agent",
    "/admin",
    "/contact",
    "/feedback",
    "/categories/",
];

fn is_reserved(url: &str) -> bool {
    RESERVED
        .iter()
        .any(|r| url == r.trim_end_matches('/') || url.starts_with(r))
}

/// Whether a link leaves the help center (or is not a link to check).
fn is_external(target: &str) -> bool {
    target.starts_with("//")
        || target.starts_with("data:")
        || target.split_once(':').is_some_and(|(scheme, _)| {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
        })
}

/// Resolves `rel` against the folder `base` (both `/`-separated, no leading slash);
/// `None` when it climbs above the root.
pub fn resolve(base: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = if rel.starts_with('/') {
        Vec::new()
    } else {
        base.split('/').filter(|p| !p.is_empty()).collect()
    };
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// The folder of an article's path (`en/billing/refunds.md` → `en/billing`).
pub fn folder(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map_or_else(|_| s.to_string(), |d| d.into_owned())
}

/// Lints `articles` (all of the folder `dir`, drafts included).
pub fn lint(dir: &Path, articles: &[Article]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let by_path: HashMap<&str, &Article> = articles.iter().map(|a| (a.path.as_str(), a)).collect();
    let mut by_url: HashMap<String, Vec<&Article>> = HashMap::new();
    for a in articles {
        by_url
            .entry(a.url.trim_end_matches('/').to_string())
            .or_default()
            .push(a);
    }
    let mut aliases: HashMap<String, &Article> = HashMap::new();

    for a in articles {
        let file = shown_path(dir, &a.path);
        let line = |key: &str| a.key_lines.get(key).copied().unwrap_or(1);

        // Titles.
        if !a.has_title {
            if a.key_lines.contains_key("title") {
                problems.push(Problem::error(
                    &file,
                    line("title"),
                    "`title` is empty: give the article a title",
                ));
            } else {
                problems.push(Problem::warning(
                    &file,
                    1,
                    format!("no title: the file name ({:?}) is used; add `title:` to the front matter or a `# heading`", a.title),
                ));
            }
        }

        // URLs.
        let url = a.url.trim_end_matches('/');
        if let Some(others) = by_url.get(url)
            && others.len() > 1
        {
            let others: Vec<&str> = others
                .iter()
                .filter(|o| o.path != a.path)
                .map(|o| o.path.as_str())
                .collect();
            problems.push(Problem::error(
                &file,
                line("slug"),
                format!(
                    "the URL {} is also the URL of {}: give one of them another `slug`",
                    a.url,
                    others.join(", ")
                ),
            ));
        }
        if is_reserved(&a.url) {
            problems.push(Problem::error(
                &file,
                line("slug"),
                format!("the URL {} is one the help center uses itself: rename the file or set another `slug`", a.url),
            ));
        }
        for alias in &a.aliases {
            let key = alias.trim_end_matches('/').to_string();
            if !alias.starts_with('/') {
                problems.push(Problem::error(
                    &file,
                    line("aliases"),
                    format!("alias {alias:?} must be a URL path starting with `/`"),
                ));
            } else if by_url.contains_key(&key) {
                problems.push(Problem::error(
                    &file,
                    line("aliases"),
                    format!(
                        "alias {alias} is the URL of an article: remove it or move the article"
                    ),
                ));
            } else if let Some(other) = aliases.get(&key).filter(|o| o.path != a.path) {
                problems.push(Problem::error(
                    &file,
                    line("aliases"),
                    format!("alias {alias} is also an alias of {}", other.path),
                ));
            } else if is_reserved(alias) {
                problems.push(Problem::error(
                    &file,
                    line("aliases"),
                    format!("alias {alias} is a URL the help center uses itself"),
                ));
            } else {
                aliases.insert(key, a);
            }
        }

        // Links and images.
        let ids: HashSet<&str> = a.headings.iter().map(|h| h.id.as_str()).collect();
        for link in &a.links {
            let target = link.target.trim();
            if target.is_empty() || is_external(target) {
                continue;
            }
            let (path_part, fragment) = match target.split_once('#') {
                Some((p, f)) => (p, Some(f)),
                None => (target, None),
            };
            let path_part = percent_decode(path_part.split('?').next().unwrap_or(""));
            if link.image {
                let Some(rel) = resolve(folder(&a.path), &path_part) else {
                    problems.push(Problem::error(
                        &file,
                        link.line,
                        format!("image {target} points above the articles folder"),
                    ));
                    continue;
                };
                if !dir.join(&rel).is_file() {
                    problems.push(Problem::error(
                        &file,
                        link.line,
                        format!(
                            "missing image {target}: there is no file {}",
                            shown_path(dir, &rel)
                        ),
                    ));
                } else if let Ok(RealPath::Outside(real)) = real_path(dir, Path::new(&rel)) {
                    problems.push(Problem::error(
                        &file,
                        link.line,
                        format!(
                            "image {target} is a symbolic link to {}, outside the articles folder: the help center will not serve it",
                            real.display()
                        ),
                    ));
                }
                continue;
            }
            // Which article the link goes to, if it goes to one.
            let linked: Option<&Article> = if path_part.is_empty() {
                Some(a)
            } else if path_part.starts_with('/') {
                let key = path_part.trim_end_matches('/');
                match by_url
                    .get(key)
                    .and_then(|v| v.first())
                    .copied()
                    .or_else(|| aliases.get(key).copied())
                {
                    Some(t) => Some(t),
                    None if is_reserved(&path_part) => continue,
                    None => {
                        problems.push(Problem::error(
                            &file,
                            link.line,
                            format!("broken link {target}: no article has the URL {path_part}"),
                        ));
                        continue;
                    }
                }
            } else {
                let Some(rel) = resolve(folder(&a.path), &path_part) else {
                    problems.push(Problem::error(
                        &file,
                        link.line,
                        format!("broken link {target}: it points above the articles folder"),
                    ));
                    continue;
                };
                if rel.ends_with(".md") {
                    match by_path.get(rel.as_str()) {
                        Some(t) => Some(*t),
                        None if dir.join(&rel).is_file() => {
                            problems.push(Problem::error(&file, link.line, format!("broken link {target}: {rel} is not an article (it is broken or hidden)")));
                            continue;
                        }
                        None => {
                            problems.push(Problem::error(
                                &file,
                                link.line,
                                format!("broken link {target}: there is no article {rel}"),
                            ));
                            continue;
                        }
                    }
                } else if dir.join(&rel).exists() {
                    // A file served beside the articles (a PDF, a folder).
                    continue;
                } else {
                    // A URL relative to this article's URL.
                    let base = a.url.trim_start_matches('/');
                    let base = if a.url.ends_with('/') {
                        base
                    } else {
                        folder(base)
                    };
                    let url = format!("/{}", resolve(base, &path_part).unwrap_or_default());
                    match by_url
                        .get(url.trim_end_matches('/'))
                        .and_then(|v| v.first())
                    {
                        Some(t) => Some(*t),
                        None => {
                            problems.push(Problem::error(&file, link.line, format!("broken link {target}: there is no article {rel} and no article at {url}")));
                            continue;
                        }
                    }
                }
            };
            if let (Some(t), Some(fragment)) = (linked, fragment)
                && !fragment.is_empty()
            {
                let fragment = percent_decode(fragment);
                let target_ids: HashSet<&str> = if t.path == a.path {
                    ids.clone()
                } else {
                    t.headings.iter().map(|h| h.id.as_str()).collect()
                };
                if !target_ids.contains(fragment.as_str()) {
                    problems.push(Problem::error(
                        &file,
                        link.line,
                        format!(
                            "broken link {target}: {} has no heading with the id #{fragment}",
                            if t.path == a.path {
                                "this article"
                            } else {
                                t.path.as_str()
                            }
                        ),
                    ));
                }
            }
        }
    }
    problems.extend(translation_problems(dir, articles));
    problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    problems
}

/// The translation groups' conflicts ([`super::translations::Conflict`]), each reported on
/// the articles concerned.
fn translation_problems(dir: &Path, articles: &[Article]) -> Vec<Problem> {
    use super::translations::{Conflict, Member, group};
    let members: Vec<Member<'_>> = articles
        .iter()
        .map(|a| Member {
            path: &a.path,
            lang: &a.lang,
            key: a.translation_key.as_deref(),
        })
        .collect();
    let line = |a: &Article| a.key_lines.get("translation_key").copied().unwrap_or(1);
    let mut problems = Vec::new();
    for conflict in group(&members).conflicts {
        match conflict {
            Conflict::KeysDiffer { path, members } => {
                for &i in &members {
                    let a = &articles[i];
                    let others: Vec<String> = members
                        .iter()
                        .filter(|&&j| j != i)
                        .map(|&j| {
                            let o = &articles[j];
                            format!(
                                "{:?} of {}",
                                o.translation_key.as_deref().unwrap_or_default(),
                                o.path
                            )
                        })
                        .collect();
                    problems.push(Problem::warning(
                        shown_path(dir, &a.path),
                        line(a),
                        format!(
                            "`translation_key` {:?} differs from {}, its translation by path ({path}): they are shown as different articles; give translations one key, or none",
                            a.translation_key.as_deref().unwrap_or_default(),
                            others.join(", "),
                        ),
                    ));
                }
            }
            Conflict::SameLanguage {
                group,
                lang,
                members,
            } => {
                for &i in &members {
                    let a = &articles[i];
                    let others: Vec<&str> = members
                        .iter()
                        .filter(|&&j| j != i)
                        .map(|&j| articles[j].path.as_str())
                        .collect();
                    problems.push(Problem::error(
                        shown_path(dir, &a.path),
                        line(a),
                        format!(
                            "{} is also the {lang} article of this translation group ({group}): a group has one article per language; give one of them another `translation_key`",
                            others.join(", "),
                        ),
                    ));
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Severity;

    fn load(files: &[(&str, &str)]) -> (tempfile::TempDir, Vec<Article>) {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let (articles, problems) = crate::articles::load(dir.path(), &Default::default()).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        (dir, articles)
    }

    fn messages(files: &[(&str, &str)]) -> Vec<String> {
        let (dir, articles) = load(files);
        lint(dir.path(), &articles)
            .into_iter()
            .map(|p| {
                p.to_string()
                    .replace(&format!("{}/", dir.path().display()), "")
            })
            .collect()
    }

    #[test]
    fn resolving_relative_paths() {
        assert_eq!(
            resolve("en/billing", "../account/a.md").as_deref(),
            Some("en/account/a.md")
        );
        assert_eq!(resolve("en", "./a.md").as_deref(), Some("en/a.md"));
        assert_eq!(resolve("en", "/img/a.png").as_deref(), Some("img/a.png"));
        assert_eq!(resolve("en", "../../a.md"), None);
    }

    #[test]
    fn a_clean_folder_has_no_problems() {
        let m = messages(&[
            (
                "en/a.md",
                "---\ntitle: A\naliases: [/old-a]\n---\n## Part {#part}\n\nSee [b](b.md#steps), [b again](/en/b), [old](/old-a) and [here](#part).\n\n![logo](img/logo.png)\n",
            ),
            (
                "en/b.md",
                "# B\n\n## Steps\n\n[out](https://example.com) [mail](mailto:a@b.c) [search](/search?q=x)\n",
            ),
            ("en/img/logo.png", "png"),
        ]);
        assert!(m.is_empty(), "{m:#?}");
    }

    #[test]
    fn broken_links_and_anchors_are_located() {
        let m = messages(&[
            (
                "en/a.md",
                "# A\n\n[gone](gone.md)\n[far](../../x.md)\n[anchor](b.md#nope)\n[url](/en/nope)\n[here](#nowhere)\n",
            ),
            ("en/b.md", "# B\n\n## Steps"),
        ]);
        assert_eq!(m.len(), 5, "{m:#?}");
        assert!(
            m[0].starts_with("en/a.md:3: broken link gone.md: there is no article en/gone.md"),
            "{}",
            m[0]
        );
        assert!(m[1].starts_with("en/a.md:4:"), "{}", m[1]);
        assert!(
            m[2].contains("en/b.md has no heading with the id #nope"),
            "{}",
            m[2]
        );
        assert!(m[3].contains("no article has the URL /en/nope"), "{}", m[3]);
        assert!(
            m[4].contains("this article has no heading with the id #nowhere"),
            "{}",
            m[4]
        );
    }

    #[test]
    fn missing_images() {
        let m = messages(&[("en/a.md", "# A\n\ntext\n\n![card](img/card.png)\n")]);
        assert_eq!(m.len(), 1, "{m:#?}");
        assert!(
            m[0].starts_with("en/a.md:5: missing image img/card.png"),
            "{}",
            m[0]
        );
    }

    #[test]
    fn images_linked_outside_the_folder() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("card.png"), "png").unwrap();
        let (dir, articles) = load(&[("en/a.md", "# A\n\n![card](card.png)\n")]);
        std::os::unix::fs::symlink(
            outside.path().join("card.png"),
            dir.path().join("en/card.png"),
        )
        .unwrap();
        let m: Vec<String> = lint(dir.path(), &articles)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(m.len(), 1, "{m:#?}");
        assert!(
            m[0].contains("en/a.md:3: image card.png is a symbolic link to ")
                && m[0].contains("outside the articles folder"),
            "{}",
            m[0]
        );
    }

    #[test]
    fn duplicate_urls_reserved_urls_and_aliases() {
        let m = messages(&[
            ("en/a.md", "---\ntitle: A\nslug: b\n---\n"),
            ("en/b.md", "# B"),
            ("search.md", "# S"),
            (
                "en/c.md",
                "---\ntitle: C\naliases: [/en/b, no-slash, /shared]\n---\n",
            ),
            ("en/d.md", "---\ntitle: D\naliases: [/shared]\n---\n"),
        ]);
        let text = m.join("\n");
        assert!(
            text.contains("en/a.md:3: the URL /en/b is also the URL of en/b.md"),
            "{text}"
        );
        assert!(
            text.contains("en/b.md:1: the URL /en/b is also the URL of en/a.md"),
            "{text}"
        );
        assert!(
            text.contains("search.md:1: the URL /search is one the help center uses"),
            "{text}"
        );
        assert!(
            text.contains("alias /en/b is the URL of an article"),
            "{text}"
        );
        assert!(
            text.contains("alias \"no-slash\" must be a URL path"),
            "{text}"
        );
        assert!(
            text.contains("alias /shared is also an alias of en/c.md"),
            "{text}"
        );
    }

    #[test]
    fn translation_keys_that_split_or_double_a_group() {
        let m = messages(&[
            ("en/a.md", "---\ntitle: A\ntranslation_key: alpha\n---\n"),
            ("uk/a.md", "---\ntitle: A uk\ntranslation_key: beta\n---\n"),
            ("te/a.md", "---\ntitle: A te\n---\n"),
            ("en/b.md", "---\ntitle: B\ntranslation_key: beta\n---\n"),
            ("uk/b.md", "# B uk\n"),
            // A key on one file that its path siblings share: fine.
            ("en/c.md", "---\ntitle: C\ntranslation_key: gamma\n---\n"),
            ("zh-cn/c.md", "# C zh\n"),
            (
                "te/other-name.md",
                "---\ntitle: C te\ntranslation_key: gamma\n---\n",
            ),
        ]);
        let text = m.join("\n");
        assert!(
            text.contains("en/a.md:3: warning: `translation_key` \"alpha\" differs from \"beta\" of uk/a.md, its translation by path (a.md)"),
            "{text}"
        );
        assert!(
            text.contains(
                "uk/a.md:3: warning: `translation_key` \"beta\" differs from \"alpha\" of en/a.md"
            ),
            "{text}"
        );
        // uk/b.md joins the key of en/b.md (beta), which uk/a.md names too.
        assert!(
            text.contains(
                "uk/a.md:3: uk/b.md is also the uk article of this translation group (key:beta)"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "uk/b.md:1: uk/a.md is also the uk article of this translation group (key:beta)"
            ),
            "{text}"
        );
        assert!(!text.contains("c.md"), "{text}");
        assert_eq!(m.len(), 4, "{m:#?}");
    }

    #[test]
    fn titles() {
        let (dir, articles) = load(&[
            ("en/empty.md", "---\ntitle: \"\"\n---\ntext"),
            ("en/none.md", "just text"),
            ("en/heading.md", "# Heading\n"),
        ]);
        let p = lint(dir.path(), &articles);
        assert_eq!(p.len(), 2, "{p:#?}");
        assert!(p[0].message.contains("`title` is empty") && p[0].severity == Severity::Error);
        assert_eq!(p[0].line, 2);
        assert!(p[1].message.contains("no title") && p[1].severity == Severity::Warning);
    }
}
