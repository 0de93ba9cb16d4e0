//! Watching the tools' config files: the folders that hold them are watched (editors and the
//! tools themselves replace a file by writing a temporary one and renaming it, which a watch
//! on the file itself would lose), with the operating system's notifications (inotify,
//! FSEvents, ReadDirectoryChangesW; never polling). Changes are debounced: one event once
//! the files have been quiet for [`DEBOUNCE`], and at most [`MAX_DELAY`] after the first
//! change, so a change is reported within a second.
//!
//! A folder that does not exist yet (no `~/.cursor` before Cursor is installed) is covered by
//! watching its nearest existing parent; once it appears it is watched itself.

use crate::tools::inventory::{self, Inventory};
use crate::tools::{self, Locations};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Quiet time after the last change before the event is sent.
pub const DEBOUNCE: Duration = Duration::from_millis(200);
/// The longest a change waits, even while files keep changing.
pub const MAX_DELAY: Duration = Duration::from_millis(800);

/// Something changed in (or around) the watched config files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEvent {
    /// The config files (or their folders) that changed, as the OS named them.
    pub paths: Vec<PathBuf>,
}

/// Why watching the config files could not start.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The file watcher could not start, in the OS's words.
    #[error("could not start watching the AI tools' config files: {0}")]
    Start(String),
}

enum Msg {
    Fs(notify::Result<notify::Event>),
    Stop,
}

/// Watches every config file [`tools::sources`] lists. Stops when dropped.
pub struct ConfigWatcher {
    tx: mpsc::Sender<Msg>,
    thread: Option<JoinHandle<()>>,
}

impl ConfigWatcher {
    /// Starts watching; `on_change` runs on the watcher's own thread after each debounced
    /// batch of changes.
    pub fn start(
        loc: Locations,
        on_change: impl FnMut(ChangeEvent) + Send + 'static,
    ) -> Result<ConfigWatcher, WatchError> {
        let (tx, rx) = mpsc::channel::<Msg>();
        let fs_tx = tx.clone();
        let watcher = notify::recommended_watcher(move |res| {
            let _ = fs_tx.send(Msg::Fs(res));
        })
        .map_err(|e| WatchError::Start(e.to_string()))?;
        let mut state = State {
            watcher,
            loc,
            watched: BTreeSet::new(),
            targets: Vec::new(),
        };
        state.refresh();
        let thread = std::thread::Builder::new()
            .name("latchkey-config-watch".into())
            .spawn(move || run(state, rx, on_change))
            .map_err(|e| WatchError::Start(e.to_string()))?;
        Ok(ConfigWatcher {
            tx,
            thread: Some(thread),
        })
    }
}

impl Drop for ConfigWatcher {
    fn drop(&mut self) {
        let _ = self.tx.send(Msg::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Watches the config files and passes on a fresh [`Inventory`] after each change.
pub fn watch_inventory(
    loc: Locations,
    mut on_change: impl FnMut(Inventory) + Send + 'static,
) -> Result<ConfigWatcher, WatchError> {
    let scan_loc = loc.clone();
    ConfigWatcher::start(loc, move |_| on_change(inventory::scan(&scan_loc)))
}

/// A config file to watch, and the folder holding it as the OS names it (resolved through
/// symbolic links where it exists, as FSEvents reports resolved paths).
struct Target {
    file: PathBuf,
    dir: PathBuf,
    dir_resolved: Option<PathBuf>,
}

struct State {
    watcher: RecommendedWatcher,
    loc: Locations,
    watched: BTreeSet<PathBuf>,
    targets: Vec<Target>,
}

impl State {
    /// Recomputes the files (Claude Code's known projects may have changed) and the folders
    /// to watch: each file's folder, or its nearest existing parent.
    fn refresh(&mut self) {
        let mut files: Vec<PathBuf> = tools::sources(&self.loc)
            .into_iter()
            .map(|s| s.path)
            .collect();
        // Gemini CLI's trusted folders and their settings: a folder trusted later, or a
        // trusted project that now gives a handed-off name to another server, is a change
        // (the hand-off rule withdraws the token on such a clash).
        files.push(tools::gemini_cli::trusted_folders_file(&self.loc));
        for folder in tools::gemini_cli::trusted_folders(&self.loc) {
            if let Some(s) = tools::project_source(&folder, tools::SourceKind::GeminiCli) {
                if !files.contains(&s.path) {
                    files.push(s.path);
                }
            }
        }
        let mut want = BTreeSet::new();
        self.targets.clear();
        for file in files {
            let Some(dir) = file.parent().map(Path::to_path_buf) else {
                continue;
            };
            let mut existing = Some(dir.as_path());
            while let Some(d) = existing {
                if d.is_dir() {
                    want.insert(d.to_path_buf());
                    break;
                }
                existing = d.parent();
            }
            self.targets.push(Target {
                dir_resolved: std::fs::canonicalize(&dir).ok(),
                file,
                dir,
            });
        }
        for gone in self.watched.difference(&want).cloned().collect::<Vec<_>>() {
            let _ = self.watcher.unwatch(&gone);
            self.watched.remove(&gone);
        }
        for dir in want {
            if self.watched.contains(&dir) {
                continue;
            }
            match self.watcher.watch(&dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.watched.insert(dir);
                }
                Err(e) => tracing::warn!(dir = %dir.display(), error = %e, "cannot watch folder"),
            }
        }
    }

    /// A path the OS reported matters when it is a watched file, or a folder on the way to
    /// one (created, removed or renamed).
    fn relevant(&self, path: &Path) -> bool {
        let name = path.file_name();
        let parent = path.parent();
        let parent_resolved = || parent.and_then(|p| std::fs::canonicalize(p).ok());
        let mut resolved: Option<Option<PathBuf>> = None;
        for t in &self.targets {
            if path == t.file || t.dir.starts_with(path) {
                return true;
            }
            if name == t.file.file_name() && t.dir_resolved.is_some() {
                let r = resolved.get_or_insert_with(parent_resolved);
                if r.is_some() && *r == t.dir_resolved {
                    return true;
                }
            }
            if let Some(res) = &t.dir_resolved {
                if res.starts_with(path) && res != path {
                    return true;
                }
            }
        }
        false
    }
}

fn run(mut state: State, rx: mpsc::Receiver<Msg>, mut on_change: impl FnMut(ChangeEvent)) {
    loop {
        // Wait for a change that matters.
        let mut paths: Vec<PathBuf> = Vec::new();
        match rx.recv() {
            Err(_) | Ok(Msg::Stop) => return,
            Ok(Msg::Fs(res)) => collect(&state, res, &mut paths),
        }
        if paths.is_empty() {
            continue;
        }
        // Debounce: until quiet for DEBOUNCE, at most MAX_DELAY after the first change.
        let first = Instant::now();
        let mut last = first;
        loop {
            let now = Instant::now();
            let deadline = (last + DEBOUNCE).min(first + MAX_DELAY);
            if now >= deadline {
                break;
            }
            match rx.recv_timeout(deadline - now) {
                Ok(Msg::Fs(res)) => {
                    let before = paths.len();
                    collect(&state, res, &mut paths);
                    if paths.len() > before {
                        last = Instant::now();
                    }
                }
                Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => break,
            }
        }
        state.refresh();
        on_change(ChangeEvent { paths });
    }
}

fn collect(state: &State, res: notify::Result<notify::Event>, paths: &mut Vec<PathBuf>) {
    match res {
        Ok(event) => {
            if event.kind.is_access() {
                return;
            }
            let rescan = event.need_rescan();
            for p in event.paths {
                if (rescan || state.relevant(&p)) && !paths.contains(&p) {
                    paths.push(p);
                }
            }
            if rescan && paths.is_empty() {
                // The OS dropped events: something may have changed anywhere.
                paths.extend(state.targets.first().map(|t| t.dir.clone()));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "config watcher error");
            for p in e.paths {
                if !paths.contains(&p) {
                    paths.push(p);
                }
            }
        }
    }
}
