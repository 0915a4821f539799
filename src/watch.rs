//! Watching the articles folder: a saved file is re-indexed within a second.
//!
//! notify watches the folder recursively (new folders included) and notify-debouncer-full
//! merges the burst of events an editor's save makes (write to a temporary file, rename it
//! over the article) into one. This module only decides whether a batch concerns articles:
//! temporary and hidden files of editors are ignored. What changed is then worked out by the
//! index's incremental sync, which compares file hashes: whatever the event kinds said, the
//! index ends up matching the folder (after zola, which also re-reads rather than trusting
//! event kinds).

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify_debouncer_full::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

/// How long the folder must be quiet before a batch of changes is handled.
pub const DEBOUNCE: Duration = Duration::from_millis(120);

/// Watches a folder until dropped.
pub struct Watcher {
    _debouncer: Debouncer<RecommendedWatcher, RecommendedCache>,
}

/// Whether a file name is an editor's temporary or backup file (vim, emacs, JetBrains,
/// Kate, helix, macOS), as zola's `is_temp_file` lists them.
pub fn is_temp_file(name: &str) -> bool {
    name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".swo")
        || name.ends_with(".tmp")
        || name.ends_with(".bck")
        || name.ends_with(".kate-swp")
        || name.ends_with("___jb_tmp___")
        || name.ends_with("___jb_old___")
        || (name.starts_with('#') && name.ends_with('#'))
        || name.starts_with(".#")
        || name == ".DS_Store"
        || name == "4913" // vim's check that it can write the folder
}

/// Whether a changed path (absolute) below `root` can concern an article: a `.md` file, or
/// something that may be a folder (created, renamed or deleted folders hold articles), and
/// nothing hidden or temporary.
pub fn concerns_articles(root: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        return false;
    };
    let mut components = rel.components().peekable();
    while let Some(c) = components.next() {
        let name = c.as_os_str().to_string_lossy();
        if name.starts_with('.') || is_temp_file(&name) {
            return false;
        }
        if components.peek().is_none() {
            // The last component: an article, or maybe a folder (a deleted one cannot be
            // asked whether it was one).
            return name.ends_with(".md") || !name.contains('.') || path.is_dir();
        }
    }
    // The root itself (a rescan of everything).
    true
}

/// Starts watching `root` recursively; `on_change` is called, on the watcher's thread, after
/// each quiet period following changes that may concern articles (and after errors or event
/// overflows, when anything may have changed).
pub fn watch(
    root: &Path,
    on_change: impl Fn() + Send + 'static,
) -> Result<Watcher, notify_debouncer_full::notify::Error> {
    let root_for_events: PathBuf = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut debouncer = new_debouncer(DEBOUNCE, None, move |result: DebounceEventResult| {
        let relevant = match result {
            Ok(events) => events.iter().any(|e| {
                e.need_rescan()
                    || e.paths
                        .iter()
                        .any(|p| concerns_articles(&root_for_events, p))
            }),
            Err(errors) => {
                for e in errors {
                    tracing::warn!("watching the articles: {e}");
                }
                true
            }
        };
        if relevant {
            on_change();
        }
    })?;
    debouncer.watch(root, RecursiveMode::Recursive)?;
    Ok(Watcher {
        _debouncer: debouncer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editors_temporary_files_are_ignored() {
        let root = Path::new("/a");
        for p in [
            "/a/en/x.md.swp",
            "/a/en/.x.md.swx",
            "/a/en/x.md~",
            "/a/en/#x.md#",
            "/a/en/.#x.md",
            "/a/en/x.md___jb_tmp___",
            "/a/en/4913",
            "/a/.git/index",
            "/a/en/.hidden/x.md",
            "/b/x.md",
        ] {
            assert!(!concerns_articles(root, Path::new(p)), "{p}");
        }
        for p in ["/a/en/x.md", "/a/en/new-folder", "/a/en", "/a"] {
            assert!(concerns_articles(root, Path::new(p)), "{p}");
        }
        assert!(!concerns_articles(root, Path::new("/a/en/image.png")));
    }

    #[test]
    fn a_saved_file_triggers_a_change() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("en")).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let _w = watch(dir.path(), move || {
            let _ = tx.send(());
        })
        .unwrap();
        // An editor's atomic save: write a temporary file, rename it over the article.
        std::fs::write(dir.path().join("en/a.md.tmp"), "# A").unwrap();
        std::fs::rename(dir.path().join("en/a.md.tmp"), dir.path().join("en/a.md")).unwrap();
        rx.recv_timeout(Duration::from_secs(10)).expect("a change");
        // A new folder with an article in it.
        std::fs::create_dir_all(dir.path().join("uk/new")).unwrap();
        std::fs::write(dir.path().join("uk/new/b.md"), "# B").unwrap();
        rx.recv_timeout(Duration::from_secs(10)).expect("a change");
    }
}
