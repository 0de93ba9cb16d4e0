//! The config watcher against the real file system notifications (inotify on Linux): a
//! folder that appears, a file created, edited in place, replaced atomically (a temporary
//! file renamed over it, as editors and the tools do) and deleted: each is reported. The
//! limits are generous on purpose; the watcher itself reports within a second.

use latchkey_core::tools::watch::{watch_inventory, ChangeEvent, ConfigWatcher};
use latchkey_core::tools::{Locations, Os};
use std::path::Path;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(10);

fn locations(home: &Path) -> Locations {
    let mut loc = Locations::for_home_on(home, Os::Linux);
    loc.known_projects = false;
    loc.projects = vec![home.join("project")];
    loc
}

/// Waits for the next event, then lets the watcher settle so the next step starts clean.
fn expect_event(rx: &Receiver<ChangeEvent>, what: &str) -> ChangeEvent {
    let start = Instant::now();
    let ev = rx
        .recv_timeout(LIMIT)
        .unwrap_or_else(|_| panic!("no change reported within {LIMIT:?} after: {what}"));
    eprintln!(
        "{what}: reported after {:?}: {:?}",
        start.elapsed(),
        ev.paths
    );
    while rx.recv_timeout(Duration::from_millis(700)).is_ok() {}
    ev
}

fn names(ev: &ChangeEvent, name: &str) -> bool {
    ev.paths
        .iter()
        .any(|p| p.file_name() == Some(name.as_ref()))
}

#[test]
fn sees_a_create_an_edit_an_atomic_replace_and_a_delete() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let (tx, rx) = mpsc::channel();
    let _watcher = ConfigWatcher::start(locations(&home), move |ev| {
        let _ = tx.send(ev);
    })
    .unwrap();

    // ~/.cursor does not exist yet: its parent is watched until it appears.
    let dir = home.join(".cursor");
    std::fs::create_dir(&dir).unwrap();
    let ev = expect_event(&rx, "the folder appears");
    assert!(names(&ev, ".cursor"), "{ev:?}");

    let file = dir.join("mcp.json");
    std::fs::write(&file, r#"{"mcpServers": {}}"#).unwrap();
    let ev = expect_event(&rx, "create");
    assert!(names(&ev, "mcp.json"), "{ev:?}");

    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&file)
            .unwrap();
        f.write_all(br#"{"mcpServers": {"a": {"url": "https://a.example/mcp"}}}"#)
            .unwrap();
    }
    let ev = expect_event(&rx, "edit in place");
    assert!(names(&ev, "mcp.json"), "{ev:?}");

    let temp = dir.join(".mcp.json.tmp-1234");
    std::fs::write(
        &temp,
        r#"{"mcpServers": {"b": {"url": "https://b.example/mcp"}}}"#,
    )
    .unwrap();
    std::fs::rename(&temp, &file).unwrap();
    let ev = expect_event(&rx, "atomic replace");
    assert!(names(&ev, "mcp.json"), "{ev:?}");

    std::fs::remove_file(&file).unwrap();
    let ev = expect_event(&rx, "delete");
    assert!(names(&ev, "mcp.json"), "{ev:?}");

    // A file no tool reads, in a watched folder, is not a change.
    std::fs::write(home.join(".bash_history"), "ls\n").unwrap();
    std::fs::write(dir.join("notes.txt"), "x").unwrap();
    assert!(
        rx.recv_timeout(Duration::from_millis(1500)).is_err(),
        "an unrelated file was reported"
    );
}

#[test]
fn a_replaced_claude_json_in_home_and_a_new_project_file_give_a_fresh_inventory() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(home.join("project")).unwrap();
    std::fs::write(home.join(".claude.json"), r#"{"mcpServers": {}}"#).unwrap();
    let (tx, rx) = mpsc::channel();
    let _watcher = watch_inventory(locations(&home), move |inv| {
        let _ = tx.send(inv);
    })
    .unwrap();

    // Claude Code rewrites ~/.claude.json through a temporary file.
    let temp = home.join(".claude.json.tmp.99.1700000000");
    std::fs::write(
        &temp,
        r#"{"mcpServers": {"linear": {"type": "http", "url": "https://mcp.linear.app/mcp"}}}"#,
    )
    .unwrap();
    std::fs::rename(&temp, home.join(".claude.json")).unwrap();
    let inv = rx.recv_timeout(LIMIT).expect("inventory after replace");
    while rx.recv_timeout(Duration::from_millis(700)).is_ok() {}
    assert_eq!(inv.servers.len(), 1);
    assert_eq!(inv.servers[0].url, "https://mcp.linear.app/mcp");

    std::fs::write(
        home.join("project/.mcp.json"),
        r#"{"mcpServers": {"sentry": {"type": "http", "url": "https://mcp.sentry.dev/mcp"}}}"#,
    )
    .unwrap();
    let inv = rx
        .recv_timeout(LIMIT)
        .expect("inventory after project file");
    let urls: Vec<&str> = inv.servers.iter().map(|s| s.url.as_str()).collect();
    assert_eq!(
        urls,
        ["https://mcp.linear.app/mcp", "https://mcp.sentry.dev/mcp"]
    );
}

#[test]
fn gemini_cli_trusting_a_folder_and_that_folders_settings_are_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let cloned = tmp.path().join("cloned");
    std::fs::create_dir_all(home.join(".gemini")).unwrap();
    std::fs::create_dir_all(cloned.join(".gemini")).unwrap();
    let (tx, rx) = mpsc::channel();
    let _watcher = ConfigWatcher::start(locations(&home), move |ev| {
        let _ = tx.send(ev);
    })
    .unwrap();

    // A folder becomes trusted: Gemini CLI now reads its settings.
    let trusted = format!("{{{:?}: \"TRUST_FOLDER\"}}", cloned.display().to_string());
    std::fs::write(home.join(".gemini/trustedFolders.json"), trusted).unwrap();
    let ev = expect_event(&rx, "a folder trusted");
    assert!(names(&ev, "trustedFolders.json"), "{ev:?}");

    // That folder's settings change (a pull gives a name to another server).
    std::fs::write(
        cloned.join(".gemini/settings.json"),
        r#"{"mcpServers": {"gitlab": {"url": "https://other.example/mcp"}}}"#,
    )
    .unwrap();
    let ev = expect_event(&rx, "a trusted folder's settings");
    assert!(ev.paths.iter().any(|p| p.starts_with(&cloned)), "{ev:?}");
}

#[test]
fn a_watcher_stops_when_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let (tx, rx) = mpsc::channel();
    let watcher = ConfigWatcher::start(locations(tmp.path()), move |ev| {
        let _ = tx.send(ev);
    })
    .unwrap();
    drop(watcher);
    std::fs::write(tmp.path().join(".claude.json"), "{}").unwrap();
    // The callback (and with it the sender) is gone once the thread ended.
    assert!(matches!(
        rx.recv_timeout(Duration::from_secs(2)),
        Err(mpsc::RecvTimeoutError::Disconnected)
    ));
}
