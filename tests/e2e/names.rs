//! Servers by the names a person sees (issue 15, point 4): every command that takes a server
//! takes the name an AI tool's config gives it, as the tray, the dashboard and
//! `latchkey servers` show it, in any case. An unknown name fails with "did you mean", a name
//! of several servers lists them, and neither exits 0.

use latchkey_e2e::*;
use serde_json::{json, Value};
use std::path::Path;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A home where Claude Code calls the fixture server `gitlab` and Cursor calls it `Notion`;
/// Cursor also has a `work` server of its own (never contacted).
fn home(tag: &str, url: &str) -> TempDir {
    let home = TempDir::new(tag);
    write(
        &home.path().join(".claude.json"),
        &json!({"mcpServers": {"gitlab": {"type": "http", "url": url}}}).to_string(),
    );
    write(
        &home.path().join(".cursor/mcp.json"),
        &json!({"mcpServers": {
            "Notion": {"url": url},
            "work": {"url": "http://127.0.0.1:9/other/mcp"},
            "files": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]}
        }})
        .to_string(),
    );
    home
}

fn run(user: &User, home: &TempDir, args: &[&str]) -> Run {
    let out = user
        .command(args)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .current_dir(home.path())
        .output()
        .expect("run latchkey");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn doctor_login_and_token_take_the_names_the_tools_give() {
    let f = Fixture::start(json!({}));
    let url = f.ready.mcp_url.clone();
    let user = User::new("names");
    let home = home("names-home", &url);

    // Not signed in yet: doctor examines the server Claude Code calls gitlab.
    let d = run(&user, &home, &["doctor", "gitlab", "--json"]);
    d.assert_ok();
    let d: Value = d.json();
    assert_eq!(d["status"], "never_signed_in", "{d}");
    assert_eq!(d["server"], url, "{d}");
    // `token` of a named server not signed in: "sign in first" (3), not "unknown".
    let t = run(&user, &home, &["token", "gitlab"]);
    assert_eq!(t.code, 3, "{t:?}");

    // Sign in by Cursor's name for it, in another case.
    let login = run(&user, &home, &["login", "notion", "--json"]);
    login.assert_ok();
    assert_eq!(
        login.json()["signed_in"]["server_id"],
        url,
        "{}",
        login.stdout
    );
    assert!(user.stored_bundle(&url).is_some(), "stored under its URL");

    // Every name of it gives the same token.
    let by_url = run(&user, &home, &["token", &url]);
    by_url.assert_ok();
    let token = by_url.stdout.trim().to_string();
    assert!(token.len() > 20);
    for name in ["gitlab", "GITLAB", "Notion", "notion"] {
        let t = run(&user, &home, &["token", name]);
        t.assert_ok();
        assert_eq!(t.stdout.trim(), token, "{name}");
    }
    let h = run(&user, &home, &["headers", "Notion"]);
    h.assert_ok();
    assert_eq!(
        serde_json::from_str::<Value>(&h.stdout).unwrap(),
        json!({"Authorization": format!("Bearer {token}")})
    );

    // Doctor by name: working now.
    let d = run(&user, &home, &["doctor", "gitlab", "--json"]);
    d.assert_ok();
    assert_eq!(d.json()["status"], "working", "{}", d.stdout);
    let text = run(&user, &home, &["doctor", "Notion"]);
    text.assert_ok();
    assert!(text.stdout.contains("works"), "{}", text.stdout);

    // Sign out by name.
    run(&user, &home, &["logout", "GitLab", "--json"]).assert_ok();
    assert!(user.stored_bundle(&url).is_none());
}

#[test]
fn an_unknown_name_fails_with_did_you_mean_and_a_local_one_says_so() {
    let f = Fixture::start(json!({}));
    let url = f.ready.mcp_url.clone();
    let user = User::new("names-unknown");
    let home = home("names-unknown-home", &url);
    let log_before = f.log();

    for command in ["doctor", "token", "login", "logout", "headers", "handoff"] {
        let args = if command == "handoff" {
            vec![command, "claude-code", "gitlb"]
        } else {
            vec![command, "gitlb"]
        };
        let r = run(&user, &home, &args);
        assert_eq!(r.code, 1, "{command}: {r:?}");
        assert!(
            r.stderr.contains("no server is named \"gitlb\"")
                && r.stderr.contains("did you mean \"gitlab\"?")
                && r.stderr.contains("latchkey servers"),
            "{command}: {}",
            r.stderr
        );
        assert!(!r.stderr.contains("Something went wrong"), "{}", r.stderr);
    }
    // As programs see it.
    let r = run(&user, &home, &["doctor", "notoin", "--json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let e = &r.json()["error"];
    assert_eq!(e["code"], "unknown_server", "{e}");
    assert_eq!(e["suggestions"], json!(["Notion"]), "{e}");
    assert_eq!(e["reason"]["id"], "unknown_server", "{e}");

    // Nothing close: still the hint, no suggestion.
    let r = run(&user, &home, &["doctor", "zzzzzz"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        !r.stderr.contains("did you mean") && r.stderr.contains("latchkey servers"),
        "{}",
        r.stderr
    );

    // A local server needs no sign-in: said so, not "unknown".
    let r = run(&user, &home, &["login", "files"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("local server that Cursor runs"),
        "{}",
        r.stderr
    );

    // Nothing was sent to the server for any of these.
    assert_eq!(f.log()["mcp"], log_before["mcp"]);
    assert!(user.authorize_urls().is_empty());
}

#[test]
fn a_name_of_two_servers_lists_them_and_asks_for_the_url() {
    let f = Fixture::start(json!({}));
    let url = f.ready.mcp_url.clone();
    let user = User::new("names-ambiguous");
    let home = home("names-ambiguous-home", &url);
    // VS Code calls another server gitlab too.
    let other = "http://127.0.0.1:9/gitlab/mcp";
    write(
        &home.path().join(".config/Code/User/mcp.json"),
        &json!({"servers": {"gitlab": {"type": "http", "url": other}}}).to_string(),
    );

    for command in ["doctor", "token", "login"] {
        let r = run(&user, &home, &[command, "gitlab"]);
        assert_eq!(r.code, 1, "{command}: {r:?}");
        assert!(
            r.stderr.contains("\"gitlab\" names 2 different servers")
                && r.stderr
                    .contains(&format!("gitlab in Claude Code is {url}"))
                && r.stderr.contains(&format!("gitlab in VS Code is {other}"))
                && r.stderr.contains("Give the URL of the server you mean"),
            "{command}: {}",
            r.stderr
        );
    }
    let r = run(&user, &home, &["doctor", "gitlab", "--json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let e = &r.json()["error"];
    assert_eq!(e["code"], "ambiguous_server", "{e}");
    let mut urls: Vec<String> = e["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["url"].as_str().unwrap().to_string())
        .collect();
    urls.sort();
    let mut want = vec![url.clone(), other.to_string()];
    want.sort();
    assert_eq!(urls, want, "{e}");

    // The URL, or a name only one server has, still works.
    run(&user, &home, &["doctor", &url, "--json"]).assert_ok();
    run(&user, &home, &["doctor", "notion", "--json"]).assert_ok();
}
