//! Watching the articles folder: a saved file is re-indexed within a second, and a folder
//! nobody touches costs nothing.
//!
//! notify watches the folder recursively (new folders included). This module decides
//! whether an event is a change that concerns articles, and waits for the burst an editor's
//! save makes (write a temporary file, rename it over the article) to end before calling
//! back once. Only changes count: on Linux notify also reports every open and read, and the
//! sync that follows a change opens every article, so counting those would start the next
//! sync and never stop (137 % of a core on the k8s corpus). Temporary and hidden files of
//! editors are ignored. What changed is then worked out by the index's incremental sync,
//! which compares file hashes (after zola, which also re-reads rather than trusting event
//! kinds).
//!
//! The wait is a blocking receive, not a ticking debouncer: with nothing changing, the
//! watching thread sleeps until the kernel has something to say. Symbolic links are not
//! followed: a link to a folder outside (which the index refuses anyway) would otherwise put
//! the whole of its target under watch.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};

use crate::error::Escaped;

/// How long the folder must be quiet before a batch of changes is handled.
pub const DEBOUNCE: Duration = Duration::from_millis(120);

/// The longest a stream of changes (a big checkout, a file written continuously) delays
/// handling them.
pub const MAX_DELAY: Duration = Duration::from_secs(2);

/// Watches a folder until dropped.
pub struct Watcher {
    _watcher: RecommendedWatcher,
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

/// Whether an event kind is a change to the folder: something created, written, renamed,
/// removed or given other permissions. Opening, reading and closing a file unwritten are not.
pub fn is_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Create(_)
        | EventKind::Modify(_)
        | EventKind::Remove(_)
        | EventKind::Any
        | EventKind::Other => true,
    }
}

/// Whether an event (or a watching error) may change what the index should hold.
fn relevant(root: &Path, event: &notify::Result<Event>) -> bool {
    match event {
        Ok(e) => {
            // A rescan: events were lost (the kernel's queue overflowed).
            e.need_rescan()
                || (is_change(&e.kind) && e.paths.iter().any(|p| concerns_articles(root, p)))
        }
        Err(e) => {
            tracing::warn!("watching the articles: {}", Escaped(e));
            true
        }
    }
}

/// Starts watching `root` recursively; `on_change` is called, on the watcher's thread, after
/// each quiet period following changes that may concern articles (and after errors or lost
/// events, when anything may have changed).
pub fn watch(root: &Path, on_change: impl Fn() + Send + 'static) -> notify::Result<Watcher> {
    let root_for_events: PathBuf = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let (tx, events) = std::sync::mpsc::channel::<notify::Result<Event>>();
    let mut watcher =
        RecommendedWatcher::new(tx, notify::Config::default().with_follow_symlinks(false))?;
    watcher.watch(root, RecursiveMode::Recursive)?;
    std::thread::Builder::new()
        .name("kb-watch".into())
        .spawn(move || {
            // Ends when the watcher is dropped (its sender with it).
            while let Ok(event) = events.recv() {
                if !relevant(&root_for_events, &event) {
                    continue;
                }
                if !quiet(&root_for_events, &events) {
                    return;
                }
                on_change();
            }
        })
        .map_err(notify::Error::io)?;
    Ok(Watcher { _watcher: watcher })
}

/// Waits until no relevant event came for [`DEBOUNCE`] (or [`MAX_DELAY`] passed); false when
/// the watcher stopped meanwhile.
fn quiet(root: &Path, events: &Receiver<notify::Result<Event>>) -> bool {
    let started = Instant::now();
    let mut deadline = started + DEBOUNCE;
    loop {
        let now = Instant::now();
        if now >= deadline {
            return true;
        }
        match events.recv_timeout(deadline - now) {
            Ok(event) => {
                if relevant(root, &event) {
                    deadline = (Instant::now() + DEBOUNCE).min(started + MAX_DELAY);
                }
            }
            Err(RecvTimeoutError::Timeout) => return true,
            Err(RecvTimeoutError::Disconnected) => return false,
        }
    }
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
    fn only_changes_count() {
        use notify::event::{CreateKind, DataChange, ModifyKind, RemoveKind};
        for kind in [
            EventKind::Create(CreateKind::File),
            EventKind::Modify(ModifyKind::Data(DataChange::Any)),
            EventKind::Modify(ModifyKind::Name(notify::event::RenameMode::To)),
            EventKind::Remove(RemoveKind::Folder),
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
        ] {
            assert!(is_change(&kind), "{kind:?}");
        }
        for kind in [
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            EventKind::Access(AccessKind::Read),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
        ] {
            assert!(!is_change(&kind), "{kind:?}");
        }
    }

    #[test]
    fn reading_the_articles_is_no_change() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("en")).unwrap();
        std::fs::write(dir.path().join("en/a.md"), "# A").unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let _w = watch(dir.path(), move || {
            let _ = tx.send(());
        })
        .unwrap();
        // What a sync does: list the folder, open and read every article.
        for _ in 0..20 {
            crate::articles::scan(dir.path()).unwrap();
            std::fs::read(dir.path().join("en/a.md")).unwrap();
        }
        assert!(
            rx.recv_timeout(DEBOUNCE * 5).is_err(),
            "reading the articles counted as a change"
        );
        std::fs::write(dir.path().join("en/a.md"), "# B").unwrap();
        rx.recv_timeout(Duration::from_secs(10)).expect("a change");
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
