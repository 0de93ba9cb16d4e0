//! `latchkey add`, `connect`, `disconnect` and `remove`, run as a person would, on a copy of
//! the fixture home (tests/fixtures/configs/home: every tool's config) where Claude Desktop
//! runs the fixture server through mcp-remote: only the entries change, backups are kept, and
//! every byte comes back.

use latchkey_e2e::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const TOOLS: &str = "claude-code,claude-desktop,cursor,vs-code,gemini-cli,codex,windsurf,zed";

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// The fixture home, with the fixture server run through mcp-remote by Claude Desktop.
fn home(tag: &str, url: &str) -> TempDir {
    let home = TempDir::new(tag);
    copy_dir(&fixtures_dir().join("configs/home"), home.path());
    let desktop = home
        .path()
        .join(".config/Claude/claude_desktop_config.json");
    let text = std::fs::read_to_string(&desktop).unwrap().replacen(
        "\"mcpServers\": {\n",
        &format!(
            "\"mcpServers\": {{\n    \"fx\": {{\n      \"command\": \"npx\",\n      \"args\": [\"-y\", \"mcp-remote\", \"{url}\", \"--header\", \"X-Team:platform\"]\n    }},\n"
        ),
        1,
    );
    std::fs::write(&desktop, text).unwrap();
    home
}

/// Every config file of the home (not Latchkey's backups and records).
fn configs(home: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![home.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let n = p.to_string_lossy().into_owned();
            if p.is_dir() {
                dirs.push(p);
            } else if !n.contains(".latchkey-") {
                out.insert(p.clone(), std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    out
}

fn run(user: &User, home: &TempDir, args: &[&str]) -> Run {
    let out = user
        .command(args)
        .env("HOME", home.path())
        // The private Secret Service sets its own; the tools' files are under this HOME.
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .output()
        .expect("run latchkey");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn tool<'a>(out: &'a Value, id: &str) -> &'a Value {
    out["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tool"] == id)
        .unwrap_or_else(|| panic!("{id} in {out}"))
}

fn read_json(path: &Path) -> Value {
    // Comments and trailing commas are not in the entries this test reads.
    let text = std::fs::read_to_string(path).unwrap();
    let start = text.find('{').unwrap();
    serde_json::from_str(&text[start..]).unwrap_or(Value::Null)
}

#[test]
fn add_connect_disconnect_and_remove_keep_every_other_byte() {
    let f = Fixture::start(json!({}));
    let url = f.ready.mcp_url.clone();
    let user = User::new("connect");
    let home = home("connect-home", &url);
    let before = configs(home.path());
    let bin = latchkey_bin().display().to_string();

    let out = run(
        &user,
        &home,
        &["add", &url, "--name", "fx", "--to", TOOLS, "--json"],
    );
    out.assert_ok();
    let added = out.json();
    assert_eq!(added["ok"], true, "{added}");
    assert!(added["signed_in"]["server"].as_str().is_some(), "{added}");
    // Claude Desktop's mcp-remote entry is replaced in place, under its name.
    let desktop = home
        .path()
        .join(".config/Claude/claude_desktop_config.json");
    let d = tool(&added, "claude-desktop");
    assert_eq!(d["entries"][0]["entry"], "fx");
    assert_eq!(d["entries"][0]["change"], "replaced");
    let entry = &read_json(&desktop)["mcpServers"]["fx"];
    assert_eq!(entry["command"], bin.as_str());
    assert_eq!(entry["args"], json!(["bridge", url]));
    // The others get a new entry "fx".
    for id in [
        "claude-code",
        "cursor",
        "vs-code",
        "gemini-cli",
        "codex",
        "windsurf",
        "zed",
    ] {
        assert_eq!(tool(&added, id)["entries"][0]["change"], "added", "{id}");
        let file = PathBuf::from(tool(&added, id)["entries"][0]["file"].as_str().unwrap());
        let backup = PathBuf::from(tool(&added, id)["entries"][0]["backup"].as_str().unwrap());
        assert_eq!(
            std::fs::read_to_string(backup).unwrap(),
            before[&file],
            "{id}: the backup is the file as it was"
        );
        assert!(
            std::fs::read_to_string(&file)
                .unwrap()
                .starts_with(&before[&file][..before[&file].len().min(40)]),
            "{id}"
        );
    }
    let claude = read_json(&home.path().join(".claude.json"));
    assert_eq!(
        claude["mcpServers"]["fx"],
        json!({"type": "http", "url": url, "headersHelper": format!("{bin} headers")})
    );
    let codex = std::fs::read_to_string(home.path().join(".codex/config.toml")).unwrap();
    assert!(
        codex.ends_with(&format!(
            "[mcp_servers.fx]\nurl = \"{url}\"\nhttp_headers_helper = \"{bin} headers {url}\"\n"
        )),
        "{codex}"
    );
    // The helper the tools run answers with the header.
    let headers = run(&user, &home, &["headers", &url]);
    headers.assert_ok();
    assert!(headers.stdout.contains("\"Authorization\":\"Bearer "));

    // Disconnecting one tool puts its file back byte for byte; connecting again is the same edit.
    let cursor = home.path().join(".cursor/mcp.json");
    let connected_cursor = std::fs::read_to_string(&cursor).unwrap();
    run(&user, &home, &["disconnect", "fx", "--from", "cursor"]).assert_ok();
    assert_eq!(std::fs::read_to_string(&cursor).unwrap(), before[&cursor]);
    let again = run(&user, &home, &["connect", "fx", "--to", "cursor"]);
    again.assert_ok();
    assert!(again.stdout.contains("Cursor: fx in"), "{}", again.stdout);
    assert_eq!(std::fs::read_to_string(&cursor).unwrap(), connected_cursor);

    // A file changed by hand in the entry is not disconnected, and says where the original is.
    let windsurf = home.path().join(".codeium/windsurf/mcp_config.json");
    let connected_windsurf = std::fs::read_to_string(&windsurf).unwrap();
    let edited = connected_windsurf.replace("\"bridge\"", "\"bridge\", \"--verbose\"");
    std::fs::write(&windsurf, &edited).unwrap();
    let refused = run(
        &user,
        &home,
        &["disconnect", "fx", "--from", "windsurf,zed"],
    );
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("was changed since Latchkey connected it"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("latchkey-connected"),
        "{}",
        refused.stderr
    );
    assert_eq!(std::fs::read_to_string(&windsurf).unwrap(), edited);
    let zed = home.path().join(".config/zed/settings.json");
    assert_eq!(
        std::fs::read_to_string(&zed).unwrap(),
        before[&zed],
        "the other tool was disconnected"
    );
    std::fs::write(&windsurf, &connected_windsurf).unwrap();

    // Remove: every tool disconnected, every byte back, the session gone.
    let removed = run(&user, &home, &["remove", "fx", "--json"]);
    removed.assert_ok();
    let removed = removed.json();
    assert_eq!(removed["signed_out"], true, "{removed}");
    assert_eq!(configs(home.path()), before);
    assert!(user
        .stored_bundle(added["signed_in"]["server_id"].as_str().unwrap())
        .is_none());
}

#[test]
fn an_unknown_tool_and_a_tool_that_is_not_installed_are_refused_in_words() {
    let f = Fixture::start(json!({}));
    let url = f.ready.mcp_url.clone();
    let user = User::new("connect-refusals");
    let home = home("connect-refusals-home", &url);
    std::fs::remove_dir_all(home.path().join(".codeium")).unwrap();
    let bad = run(&user, &home, &["connect", &url, "--to", "notepad"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(
        bad.stderr.contains("is not a tool Latchkey knows"),
        "{}",
        bad.stderr
    );

    let out = run(&user, &home, &["connect", &url, "--to", "windsurf,cursor"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("Windsurf does not seem to be installed"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("Cursor: "), "{}", out.stdout);
}

#[test]
fn the_real_claude_code_connects_with_the_helper_connect_wrote_and_disconnect_takes_it_away() {
    let f = Fixture::start(json!({}));
    let url = f.ready.mcp_url.clone();
    let user = User::new("connect-claude");
    user.run(&["login", &url, "--json"]).assert_ok();
    let home = TempDir::new("connect-claude-home");
    let entry = json!({"type": "http", "url": url});
    std::fs::write(
        home.path().join(".claude.json"),
        serde_json::to_string_pretty(&json!({"mcpServers": {"fx": entry}})).unwrap(),
    )
    .unwrap();
    assert!(!claude_status(&claude_mcp_list(home.path(), &user), "fx").contains("Connected"));

    run(&user, &home, &["connect", &url, "--to", "claude-code"]).assert_ok();
    let list = claude_mcp_list(home.path(), &user);
    assert!(claude_status(&list, "fx").contains("Connected"), "{list}");

    // Claude Code rewrites its file as it runs: the entry is put back as a value.
    run(&user, &home, &["disconnect", &url, "--from", "claude-code"]).assert_ok();
    assert_eq!(
        read_json(&home.path().join(".claude.json"))["mcpServers"]["fx"],
        entry
    );
}

#[test]
fn the_real_codex_runs_the_http_headers_helper_connect_wrote_and_lists_the_tools() {
    let f = Fixture::start(json!({}));
    let url = f.ready.mcp_url.clone();
    let user = User::new("connect-codex");
    user.run(&["login", &url, "--json"]).assert_ok();
    let home = TempDir::new("connect-codex-home");
    let config = home.path().join(".codex/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let original = format!(
        "# mine\nmodel = \"gpt-5-codex\"\n\n[mcp_servers.fx]\nurl = \"{url}\"\nstartup_timeout_sec = 20\n"
    );
    std::fs::write(&config, &original).unwrap();

    run(&user, &home, &["connect", &url, "--to", "codex"]).assert_ok();
    let bin = latchkey_bin().display().to_string();
    let connected = format!("{original}http_headers_helper = \"{bin} headers {url}\"\n");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), connected);

    // Codex 0.169 runs the helper with only HOME, PATH and TERM (seen here), so this test's
    // private Secret Service (on its own D-Bus) is out of its reach: a stand-in at the same
    // place in the line adds it back, logs what Codex ran, and runs latchkey with it.
    let log = home.path().join("helper.log");
    let script = home.path().join("latchkey-with-test-bus.sh");
    let mut exports: Vec<String> = user
        .keychain
        .env()
        .into_iter()
        .map(|(k, v)| format!("export {k}='{v}'"))
        .collect();
    exports.push(format!(
        "export LATCHKEY_KEYCHAIN_SERVICE='{}'",
        user.service
    ));
    exports.push(format!(
        "export LATCHKEY_STATE_DIR='{}'",
        user.state_dir().display()
    ));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\n{}\nexec '{bin}' \"$@\"\n",
            log.display(),
            exports.join("\n")
        ),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .unwrap();
    std::fs::write(
        &config,
        connected.replace(&format!("\"{bin} "), &format!("\"{} ", script.display())),
    )
    .unwrap();
    let status = codex_status(home.path(), None, &user, "fx");
    assert_eq!(
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .next(),
        Some(format!("headers {url}").as_str()),
        "Codex splits the command line into the program and its arguments"
    );
    assert!(
        status["tools"].as_object().is_some_and(|t| !t.is_empty())
            && status["toolsError"].is_null(),
        "{status}"
    );

    std::fs::write(&config, &connected).unwrap();
    run(&user, &home, &["disconnect", &url, "--from", "codex"]).assert_ok();
    assert_eq!(std::fs::read_to_string(&config).unwrap(), original);
}

/// The "done when", tried as a new user would: a Claude Desktop config that ran
/// mcp-remote for the GitLab-like fixture is connected by `latchkey add`, which asks for
/// exactly `mcp`; the MCP SDK's stdio client, started with the command and arguments the entry
/// now holds (as Claude Desktop starts it), lists the tools through `latchkey bridge`.
#[test]
fn a_claude_desktop_mcp_remote_entry_now_runs_the_bridge_and_lists_the_tools() {
    let f = Fixture::start(json!({}));
    let url = f.ready.mcp_url.clone();
    let user = User::new("connect-bridge");
    let home = home("connect-bridge-home", &url);
    run(&user, &home, &["add", &url, "--to", "claude-desktop"]).assert_ok();
    let log = f.log();
    let authorize = log["authorize"].as_array().expect("authorize log");
    assert_eq!(authorize.len(), 1, "{authorize:?}");
    assert_eq!(authorize[0]["scope"], "mcp", "{authorize:?}");

    let desktop = home
        .path()
        .join(".config/Claude/claude_desktop_config.json");
    let entry = read_json(&desktop)["mcpServers"]["fx"].clone();
    let command = entry["command"].as_str().expect("a command").to_string();
    let args: Vec<String> = entry["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    assert_eq!(args, vec!["bridge".to_string(), url.clone()]);
    let mut c = std::process::Command::new("node");
    c.arg(fixtures_dir().join("bridge-client.mjs"))
        .arg(json!([{"op": "list"}]).to_string())
        .arg(&command)
        .args(&args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("LATCHKEY_KEYCHAIN_SERVICE", &user.service)
        .env("LATCHKEY_STATE_DIR", user.state_dir())
        .stdin(std::process::Stdio::null());
    for (k, v) in user.keychain.env() {
        if k != "HOME" {
            c.env(k, v);
        }
    }
    let out = c.output().expect("run node");
    let text = String::from_utf8_lossy(&out.stdout);
    let list = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["op"] == "list")
        .unwrap_or_else(|| {
            panic!(
                "no list in {text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    assert_eq!(list["ok"], true, "{list}");
    assert!(
        list["tools"].as_array().is_some_and(|t| !t.is_empty()),
        "{list}"
    );
}
