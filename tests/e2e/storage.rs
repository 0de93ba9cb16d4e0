//! Storage that fits every keychain, against the real Secret Service: with an item limit (the
//! debug builds' `LATCHKEY_TEST_KEYCHAIN_ITEM_LIMIT`, counted as Windows Credential Manager
//! counts), a bundle is a record and parts; a missing part reads as not signed in; a sign-out
//! deletes the parts; and `kill -9` in the middle of a save (slowed by
//! `LATCHKEY_TEST_KEYCHAIN_STEP_DELAY_MS`) never leaves a half-written bundle readable.

use latchkey_e2e::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Bytes per item, counted as UTF-16: 450 ASCII characters, so a fixture bundle (about
/// 1,100 bytes) takes three parts.
const ITEM_LIMIT: &str = "900";
/// The pause after each keychain write while a save is being killed: the kill lands in it.
const STEP_MS: u64 = 80;

/// `latchkey ARGS` for `user` with the item limit, reading the keychain (no kernel copy).
fn limited(user: &User, args: &[&str]) -> Command {
    let mut c = user.command(args);
    c.env("LATCHKEY_TEST_KEYCHAIN_ITEM_LIMIT", ITEM_LIMIT)
        .env("LATCHKEY_HOT_CACHE", "off");
    c
}

fn run(mut c: Command) -> Run {
    let out = c.output().expect("run latchkey");
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!r.stderr.contains("panicked"), "{r:?}");
    r
}

fn login(user: &User, url: &str) {
    run(limited(user, &["login", url, "--json"])).assert_ok();
}

fn parts_of(user: &User, url: &str) -> Vec<String> {
    let prefix = format!("{url}#part:");
    user.accounts()
        .into_iter()
        .filter(|a| a.starts_with(&prefix))
        .collect()
}

#[test]
fn a_bundle_is_stored_in_parts_read_whole_and_deleted_with_them() {
    let f = Fixture::start(json!({}));
    let user = User::new("parts");
    let url = f.ready.mcp_url.as_str();
    login(&user, url);

    let record = user.lookup(url).expect("a record at the server's URL");
    // (Only the start of it in a failure: a whole bundle holds tokens.)
    assert!(
        record.starts_with("{\"latchkey_parts\":1,"),
        "not a record: {}",
        record.chars().take(20).collect::<String>()
    );
    let parts = parts_of(&user, url);
    assert!(parts.len() >= 3, "{parts:?}");
    for account in user.accounts() {
        let value = user.lookup(&account).unwrap();
        assert!(
            value.encode_utf16().count() * 2 <= ITEM_LIMIT.parse().unwrap(),
            "{account}: {} bytes",
            value.len()
        );
    }
    let bundle = user.stored_bundle(url).expect("whole");
    let token = run(limited(&user, &["token", url]));
    token.assert_ok();
    assert_eq!(
        token.stdout.trim(),
        bundle["tokens"]["access_token"].as_str().unwrap()
    );
    assert_eq!(http_post_bearer(url, INITIALIZE, token.stdout.trim()), 200);
    // A build without the limit reads the same parts.
    let plain = run({
        let mut c = user.command(&["token", url]);
        c.env("LATCHKEY_HOT_CACHE", "off");
        c
    });
    assert_eq!(plain.stdout, token.stdout, "{plain:?}");

    // A part goes missing (another program deleted it): not signed in, never half a bundle.
    let clear = Command::new("secret-tool")
        .args(["clear", "service", &user.service, "username", &parts[1]])
        .envs(user.keychain.env())
        .status()
        .unwrap();
    assert!(clear.success());
    let missing = run(limited(&user, &["token", url]));
    assert_eq!(missing.code, 3, "{missing:?}");
    assert!(
        missing.stderr.contains("not signed in"),
        "{}",
        missing.stderr
    );

    // Signing in again replaces the remains; signing out deletes every part.
    login(&user, url);
    run(limited(&user, &["token", url])).assert_ok();
    run(limited(&user, &["logout", url])).assert_ok();
    let left: Vec<String> = user
        .accounts()
        .into_iter()
        .filter(|a| a.starts_with(url))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// How a killed save left the keychain.
#[derive(Debug, PartialEq)]
enum Outcome {
    Old,
    New,
}

/// Has a renewal save a new bundle in parts over the signed-in one, pausing after each
/// keychain write, and kills it with SIGKILL in the pause after write number `writes` (the
/// hook says on stderr which write just finished). Returns what is left, after checking it is
/// whole and usable.
fn kill_save_after(f: &Fixture, user: &User, writes: u64) -> Outcome {
    let url = f.ready.mcp_url.as_str();
    let before = user
        .stored_bundle(url)
        .expect("a whole bundle after sign-in");

    let mut child = limited(user, &["token", url])
        .env("LATCHKEY_TEST_RENEW_ALWAYS", "1")
        .env("LATCHKEY_TEST_KEYCHAIN_STEP_DELAY_MS", STEP_MS.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let wanted = format!("latchkey test hook: keychain write {writes} done");
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut said = Vec::new();
    for line in stderr.lines() {
        let line = line.unwrap();
        if line == wanted {
            child.kill().unwrap();
            break;
        }
        said.push(line);
    }
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the save ended before write {writes}: {said:?}"
    );

    let after = user
        .stored_bundle(url)
        .expect("the old bundle was whole: it or the new one is readable");
    let outcome = if after == before {
        Outcome::Old
    } else {
        assert!(
            after["tokens"]["access_token"] != before["tokens"]["access_token"]
                && after["tokens"]["refresh_token"] != before["tokens"]["refresh_token"]
                && after["client"] == before["client"],
            "a mix of old and new"
        );
        Outcome::New
    };
    let token = run(limited(user, &["token", url]));
    token.assert_ok();
    assert_eq!(
        Some(token.stdout.trim()),
        after["tokens"]["access_token"].as_str(),
        "the token of the bundle left whole"
    );
    assert_eq!(http_post_bearer(url, INITIALIZE, token.stdout.trim()), 200);
    outcome
}

#[test]
fn kill_nine_during_a_save_in_parts_leaves_the_old_or_the_new_bundle() {
    let f = Fixture::start(json!({}));
    let user = User::new("partskill");
    let url = f.ready.mcp_url.as_str();
    login(&user, url);
    let n = parts_of(&user, url).len() as u64;
    // The renewal's save: the journal, n parts, the record, the old n parts deleted, the
    // journal deleted. Killed just after the record, while the old parts are deleted, in the
    // parts, and just before the record (the kills that leave the old bundle last: each of
    // them costs a new sign-in).
    let points = [n + 2, 2 * n + 1, 2, n + 1];
    let mut seen = Vec::new();
    for writes in points {
        let outcome = kill_save_after(&f, &user, writes);
        eprintln!("killed after {writes} of {} writes: {outcome:?}", 2 * n + 3);
        if outcome == Outcome::Old && writes != n + 1 {
            // The killed renewal spent the old refresh token at the sign-in server.
            login(&user, url);
        }
        seen.push(outcome);
    }
    assert!(
        seen.contains(&Outcome::Old) && seen.contains(&Outcome::New),
        "the kills landed on both sides of the record: {seen:?}"
    );
    // Every part the kills left behind is accounted for: the record names it, or the
    // journal lists it for a later save to delete.
    let journal: Value = serde_json::from_str(
        &user
            .lookup(&format!("{url}#parts-pending"))
            .unwrap_or("[]".into()),
    )
    .unwrap();
    let record: Value = serde_json::from_str(&user.lookup(url).unwrap()).unwrap();
    let mut known: Vec<&str> = journal
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["gen"].as_str())
        .collect();
    known.extend(record["gen"].as_str());
    for part in parts_of(&user, url) {
        let gen = part.rsplit(':').nth(1).unwrap();
        assert!(
            known.contains(&gen),
            "{part} is not accounted for: {journal}"
        );
    }
    eprintln!("journal after the kills: {journal}");
}

#[test]
fn a_command_opens_one_keychain_session_however_many_items_it_touches() {
    // gnome-keyring-daemon aborts when short-lived Secret Service sessions come in bursts
    // (store/secret_service.rs): a sign-in and a renewal over a bundle in parts touch a
    // dozen items, on one session each.
    let f = Fixture::start(json!({}));
    let user = User::new("sessions");
    let url = f.ready.mcp_url.as_str();
    let count = user.keychain.count_sessions();
    login(&user, url);
    assert_eq!(count.stop(), 1, "one session for the whole sign-in");
    assert!(parts_of(&user, url).len() >= 2, "the bundle is in parts");

    let count = user.keychain.count_sessions();
    let mut renew = limited(&user, &["token", url]);
    renew.env("LATCHKEY_TEST_RENEW_ALWAYS", "1");
    run(renew).assert_ok();
    assert_eq!(
        count.stop(),
        1,
        "one session for a renewal that rewrote every part"
    );
}
