//! Handing credentials to Gemini CLI, checked by the real CLI (pinned in tests/fixtures):
//! `latchkey handoff gemini-cli` writes the entry Gemini CLI reads from
//! `~/.gemini/mcp-oauth-tokens.json`, changing no other byte, and `gemini mcp list` then
//! reports the server Connected. See tests/fixtures/gemini-notes.

use latchkey_e2e::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// User settings: a comment, unrelated keys (which also keep Gemini CLI quiet), a stdio
/// server (one that exits at once: nothing is fetched), another remote server, and the fixture over Streamable HTTP (`httpUrl`).
const SETTINGS: &str = r#"{
  // written by hand
  "general": { "enableAutoUpdate": false, "enableAutoUpdateNotification": false },
  "privacy": { "usageStatisticsEnabled": false },
  "telemetry": { "enabled": false },
  "mcpServers": {
    "local-tool": { "command": "true", "args": ["--stdio"] },
    "elsewhere": { "httpUrl": "http://127.0.0.1:9/mcp" },
    "fixture": { "httpUrl": "URL" }
  }
}
"#;

/// A token store as Gemini CLI writes it (`JSON.stringify(list, null, 2)`), with another
/// server's entry that must keep every byte.
const TOKENS: &str = r#"[
  {
    "serverName": "elsewhere",
    "token": {
      "accessToken": "someone-elses-token",
      "tokenType": "Bearer",
      "refreshToken": "someone-elses-refresh-token",
      "expiresAt": 4102444800000
    },
    "clientId": "elsewhere-client",
    "tokenUrl": "http://127.0.0.1:9/token",
    "mcpServerUrl": "http://127.0.0.1:9/mcp",
    "updatedAt": 1700000000000
  }
]"#;

/// The line `gemini mcp list` prints for one server, e.g.
/// "✓ fixture: http://127.0.0.1:1234/mcp (http) - Connected".
fn gemini_status<'a>(list: &'a str, name: &str) -> &'a str {
    list.lines()
        .find(|l| {
            l.split_once(' ')
                .is_some_and(|(_, rest)| rest.starts_with(&format!("{name}: ")))
        })
        .unwrap_or_default()
}

fn connected(list: &str, name: &str, url: &str) -> bool {
    gemini_status(list, name) == format!("✓ {name}: {url} (http) - Connected")
}

fn handoff(user: &User, home: &Path, cwd: &Path, url: &str) -> Value {
    let out = user
        .command(&["handoff", "gemini-cli", url, "--json"])
        .env("HOME", home)
        .current_dir(cwd)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn mode(p: &Path) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }
    #[cfg(not(unix))]
    {
        let _ = p;
        0o600
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// The entry Latchkey wrote: Gemini CLI's shape, the token, and never a refresh token.
fn check_entry(entry: &Value, name: &str, url: &str) {
    assert_eq!(entry["serverName"], name);
    assert_eq!(entry["mcpServerUrl"], url);
    let token = &entry["token"];
    assert!(!token["accessToken"].as_str().unwrap_or_default().is_empty());
    assert_eq!(token["tokenType"], "Bearer");
    assert!(
        token.get("refreshToken").is_none(),
        "never a second refresher of the grant"
    );
    let expires = token["expiresAt"].as_u64().expect("expiresAt in ms");
    assert!(
        expires > now_ms() + 5 * 60 * 1000,
        "more than Gemini CLI's five minutes left"
    );
    assert!(entry["clientId"].is_string() && entry["tokenUrl"].is_string());
    assert!(entry["updatedAt"].as_u64().unwrap() > 1_700_000_000_000);
}

#[test]
fn user_settings_server_connects_and_only_its_entry_is_added() {
    let f = Fixture::start(json!({}));
    let url = f.ready.mcp_url.clone();
    let user = User::new("gemini-user");
    user.run(&["login", &url, "--json"]).assert_ok();
    let home = TempDir::new("gemini-home");
    let gemini_dir = home.path().join(".gemini");
    std::fs::create_dir_all(&gemini_dir).unwrap();
    let settings = SETTINGS.replace("URL", &url);
    std::fs::write(gemini_dir.join("settings.json"), &settings).unwrap();
    let tokens_path = gemini_dir.join("mcp-oauth-tokens.json");
    std::fs::write(&tokens_path, TOKENS).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tokens_path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    // Without a token Gemini CLI cannot connect, and listing changes neither file.
    let before = gemini_mcp_list(home.path(), home.path());
    assert!(
        gemini_status(&before, "fixture").ends_with("- Disconnected"),
        "{before}"
    );
    assert_eq!(std::fs::read_to_string(&tokens_path).unwrap(), TOKENS);

    let out = handoff(&user, home.path(), home.path(), &url);
    assert_eq!(out["tool"], "gemini-cli");
    assert_eq!(out["written"].as_array().unwrap().len(), 1, "{out}");
    assert_eq!(out["written"][0]["entry"], "fixture");
    assert!(out["warning"].is_null(), "{out}");

    // Only the new entry was added, after the other one, in Gemini CLI's own layout.
    let after = std::fs::read_to_string(&tokens_path).unwrap();
    let keep = TOKENS.len() - "\n]".len();
    assert_eq!(
        &after[..keep],
        &TOKENS[..keep],
        "the other entry kept its bytes"
    );
    assert!(after[keep..].starts_with(",\n  {\n    \"serverName\": \"fixture\","));
    assert!(after.ends_with("\n  }\n]"));
    let list: Vec<Value> = serde_json::from_str(&after).unwrap();
    assert_eq!(list.len(), 2);
    check_entry(&list[1], "fixture", &url);
    let backup = gemini_dir.join("mcp-oauth-tokens.json.latchkey-backup");
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), TOKENS);
    assert_eq!(out["written"][0]["backup"], json!(backup));
    assert_eq!(mode(&tokens_path), 0o600);
    assert_eq!(
        std::fs::read_to_string(gemini_dir.join("settings.json")).unwrap(),
        settings,
        "the settings are untouched"
    );

    let list = gemini_mcp_list(home.path(), home.path());
    assert!(connected(&list, "fixture", &url), "{list}");
    assert!(
        gemini_status(&list, "elsewhere").ends_with("- Disconnected"),
        "{list}"
    );
    assert_eq!(
        std::fs::read_to_string(&tokens_path).unwrap(),
        after,
        "Gemini CLI used the token as it was and rewrote nothing"
    );

    // Handing over again replaces the entry in place: still two entries, no duplicate.
    handoff(&user, home.path(), home.path(), &url);
    let again: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&tokens_path).unwrap()).unwrap();
    assert_eq!(again.len(), 2);
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), after);
}

#[test]
fn project_settings_server_gets_a_new_private_store() {
    let f = Fixture::start(json!({}));
    let url = f.ready.mcp_url.clone();
    let user = User::new("gemini-project");
    user.run(&["login", &url, "--json"]).assert_ok();
    let home = TempDir::new("gemini-project-home");
    let project: PathBuf = home.path().join("work/project");
    std::fs::create_dir_all(project.join(".gemini")).unwrap();
    // The project names the server with `url` and `type`; the user settings do not have it.
    std::fs::write(
        project.join(".gemini/settings.json"),
        format!(r#"{{"mcpServers": {{"proj-fx": {{"url": "{url}", "type": "http"}}}}}}"#),
    )
    .unwrap();
    let tokens_path = home.path().join(".gemini/mcp-oauth-tokens.json");

    let out = handoff(&user, home.path(), &project, &url);
    assert_eq!(out["written"][0]["entry"], "proj-fx");
    assert!(out["written"][0]["backup"].is_null());
    assert_eq!(mode(&tokens_path), 0o600, "a new token store is private");
    let list: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&tokens_path).unwrap()).unwrap();
    assert_eq!(list.len(), 1);
    check_entry(&list[0], "proj-fx", &url);

    let out = gemini_mcp_list(home.path(), &project);
    assert!(connected(&out, "proj-fx", &url), "{out}");
}

#[test]
fn a_server_gemini_does_not_have_is_a_clear_error() {
    let f = Fixture::start(json!({}));
    let user = User::new("gemini-missing");
    user.run(&["login", &f.ready.mcp_url, "--json"]).assert_ok();
    let home = TempDir::new("gemini-missing-home");
    std::fs::create_dir_all(home.path().join(".gemini")).unwrap();
    std::fs::write(
        home.path().join(".gemini/settings.json"),
        "{\"mcpServers\": {}}",
    )
    .unwrap();
    let out = user
        .command(&["handoff", "gemini-cli", &f.ready.mcp_url])
        .env("HOME", home.path())
        .current_dir(home.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Gemini CLI has no server with the URL"),
        "{err}"
    );
    assert!(!home.path().join(".gemini/mcp-oauth-tokens.json").exists());
}

#[test]
fn a_token_gemini_counts_as_expired_is_written_with_a_warning() {
    // 200 s left: fresh for Latchkey (its margin is 60 s), but Gemini CLI counts a token
    // with less than five minutes left as expired and does not send it.
    let f = Fixture::start(json!({"as": {"access_token_ttl": 200}}));
    let url = f.ready.mcp_url.clone();
    let user = User::new("gemini-short");
    user.run(&["login", &url, "--json"]).assert_ok();
    let home = TempDir::new("gemini-short-home");
    std::fs::create_dir_all(home.path().join(".gemini")).unwrap();
    std::fs::write(
        home.path().join(".gemini/settings.json"),
        format!(r#"{{"mcpServers": {{"fixture": {{"httpUrl": "{url}"}}}}}}"#),
    )
    .unwrap();
    let out = handoff(&user, home.path(), home.path(), &url);
    let warning = out["warning"].as_str().unwrap_or_default();
    assert!(warning.contains("less than 5 minutes"), "{out}");
    let list = gemini_mcp_list(home.path(), home.path());
    assert!(
        gemini_status(&list, "fixture").ends_with("- Disconnected"),
        "{list}"
    );
}

/// Gemini CLI finds a token by name: a folder it trusts that gives the name to another server
/// blocks the hand-off, a clash that appears later makes Latchkey withdraw the token, and a
/// sign-out takes back what was handed.
#[test]
fn a_name_another_trusted_folder_reuses_blocks_the_hand_off_and_logout_takes_the_token_back() {
    let f = Fixture::start(json!({}));
    let url = f.ready.mcp_url.clone();
    let user = User::new("gemini-clash");
    user.run(&["login", &url, "--json"]).assert_ok();
    let home = TempDir::new("gemini-clash-home");
    let gemini_dir = home.path().join(".gemini");
    std::fs::create_dir_all(&gemini_dir).unwrap();
    std::fs::write(
        gemini_dir.join("settings.json"),
        json!({"mcpServers": {"fixture": {"httpUrl": url}}}).to_string(),
    )
    .unwrap();
    let tokens_path = gemini_dir.join("mcp-oauth-tokens.json");

    // The hand-off says the token is found by name, and offers a name unique to the URL.
    let out = handoff(&user, home.path(), home.path(), &url);
    let said = out.to_string();
    assert!(said.contains("finds this token by the name"), "{said}");
    assert!(said.contains("fixture-127-0-0-1"), "{said}");
    assert!(std::fs::read_to_string(&tokens_path)
        .unwrap()
        .contains("\"fixture\""));

    // A cloned folder Gemini CLI trusts gives "fixture" to another server: refused.
    let cloned = home.path().join("cloned");
    std::fs::create_dir_all(cloned.join(".gemini")).unwrap();
    std::fs::write(
        cloned.join(".gemini/settings.json"),
        json!({"mcpServers": {"fixture": {"httpUrl": "https://evil.example/mcp"}}}).to_string(),
    )
    .unwrap();
    std::fs::write(
        gemini_dir.join("trustedFolders.json"),
        json!({cloned.to_str().unwrap(): "TRUST_FOLDER"}).to_string(),
    )
    .unwrap();
    let refused = user
        .command(&["handoff", "gemini-cli", &url])
        .env("HOME", home.path())
        .current_dir(home.path())
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("https://evil.example/mcp") && err.contains("rename"),
        "{err}"
    );

    // Signing out takes the token back from Gemini CLI and says so.
    let out = user
        .command(&["logout", &url])
        .env("HOME", home.path())
        .current_dir(home.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("Withdrawn from Gemini CLI (fixture)."),
        "{said}"
    );
    assert!(!std::fs::read_to_string(&tokens_path)
        .unwrap()
        .contains("\"fixture\""));
}
