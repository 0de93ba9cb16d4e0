//! One Secret Service session per process (store/secret_service.rs), against gnome-keyring on
//! a private D-Bus: many keychain calls open one session, and when the keyring daemon
//! restarts (its sessions gone, its items kept) the next call opens a new one and succeeds.
#![cfg(target_os = "linux")]

use latchkey_core::store::keychain_items::KeychainItems;
use latchkey_core::store::parts::ItemStore;
use latchkey_core::store::secret_service::sessions_opened;
use latchkey_e2e::SecretService;

#[test]
fn many_keychain_calls_share_one_session_which_is_reopened_after_a_daemon_restart() {
    let mut keychain = SecretService::start();
    for (k, v) in keychain.env() {
        // Safe: this binary's only test sets them before any keychain call.
        unsafe { std::env::set_var(k, v) };
    }
    let items = KeychainItems::new("latchkey-session-test");
    for i in 0..20 {
        let account = format!("https://mcp{i}.example.com/mcp");
        items.set(&account, &format!("value {i}")).unwrap();
        assert_eq!(items.get(&account).unwrap(), Some(format!("value {i}")));
    }
    assert!(items.delete("https://mcp0.example.com/mcp").unwrap());
    assert!(!items.delete("https://mcp0.example.com/mcp").unwrap());
    assert_eq!(items.get("https://mcp0.example.com/mcp").unwrap(), None);
    assert_eq!(sessions_opened(), 1, "61 calls, one session");

    keychain.restart_daemon();
    assert_eq!(
        items.get("https://mcp1.example.com/mcp").unwrap(),
        Some("value 1".into()),
        "the call after the restart opens a new session and reads the kept item"
    );
    items
        .set("https://mcp1.example.com/mcp", "changed")
        .unwrap();
    assert_eq!(
        items.get("https://mcp1.example.com/mcp").unwrap(),
        Some("changed".into())
    );
    assert_eq!(sessions_opened(), 2);
}

#[test]
fn an_item_written_by_the_keyring_crate_is_read_and_replaced_in_place() {
    // Items of earlier versions of Latchkey, and other tools' keyring-rs items (Codex), were
    // written by `keyring`'s own backend: the same item is found and updated, not doubled.
    let keychain = SecretService::start();
    let run = |args: &[&str], input: Option<&str>| {
        use std::io::Write;
        let mut c = std::process::Command::new("secret-tool");
        c.args(args)
            .envs(keychain.env())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null());
        let mut child = c.spawn().expect("secret-tool");
        if let Some(i) = input {
            child.stdin.take().unwrap().write_all(i.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // What keyring 3 writes for Entry::new("latchkey-compat-test", "acct").
    run(
        &[
            "store",
            "--label=acct@latchkey-compat-test:default (keyring v3)",
            "service",
            "latchkey-compat-test",
            "username",
            "acct",
            "target",
            "default",
            "application",
            "rust-keyring",
        ],
        Some("old"),
    );
    // What `secret-tool store service S username U` (or keyring 1) writes: no `target`.
    run(
        &[
            "store",
            "--label=plain",
            "service",
            "latchkey-compat-test",
            "username",
            "plain",
        ],
        Some("plain old"),
    );
    // This test shares the process with the other one; it reaches the keychain through a
    // separate process so the environment stays the first test's.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_reads_and_replaces",
            "--nocapture",
            "--ignored",
        ])
        .envs(keychain.env())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr)
    );
    let found = run(
        &["search", "--all", "service", "latchkey-compat-test"],
        None,
    );
    assert_eq!(found.matches("[/").count(), 2, "one item each: {found}");
    assert_eq!(
        run(
            &[
                "lookup",
                "service",
                "latchkey-compat-test",
                "username",
                "acct"
            ],
            None
        ),
        "new"
    );
    assert_eq!(
        run(
            &[
                "lookup",
                "service",
                "latchkey-compat-test",
                "username",
                "plain"
            ],
            None
        ),
        "plain new"
    );
}

#[test]
#[ignore = "run by an_item_written_by_the_keyring_crate_is_read_and_replaced_in_place"]
fn child_reads_and_replaces() {
    let items = KeychainItems::new("latchkey-compat-test");
    assert_eq!(items.get("acct").unwrap(), Some("old".into()));
    items.set("acct", "new").unwrap();
    assert_eq!(items.get("plain").unwrap(), Some("plain old".into()));
    items.set("plain", "plain new").unwrap();
    assert_eq!(items.get("plain").unwrap(), Some("plain new".into()));
}
