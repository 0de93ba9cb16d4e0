//! Handing credentials to Codex, checked by the real Codex CLI (pinned in tests/fixtures):
//! `codex app-server`'s `mcpServerStatus/list` connects to every configured MCP server and
//! lists its tools, so "tools listed" means Codex read the token Latchkey wrote, in the store
//! and shape Codex reads, and the MCP server accepted it.

use latchkey_e2e::*;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const SERVICE: &str = "Codex MCP Credentials";

const CONFIG: &str = r#"# Codex settings, as a person keeps them
model = "o3"
approval_policy = "on-request"

[features]
web_search_request = true

# A local server: not Latchkey's business.
[mcp_servers.files]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]

[mcp_servers.fixture]
url = "URL"
startup_timeout_sec = 20
"#;

fn connected(status: &Value) -> bool {
    status["authStatus"] == "oAuth"
        && status["tools"].as_object().is_some_and(|t| !t.is_empty())
        && status["toolsError"].is_null()
}

/// Codex's key, computed here independently of Latchkey: the name, "|", and the first 16 hex
/// digits of the SHA-256 of `{"type":"http","url":URL,"headers":{}}` (sha256sum).
fn codex_key(name: &str, url: &str) -> String {
    let payload = format!(
        "{{\"type\":\"http\",\"url\":{},\"headers\":{{}}}}",
        json!(url)
    );
    let mut c = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum");
    c.stdin
        .take()
        .unwrap()
        .write_all(payload.as_bytes())
        .unwrap();
    let out = c.wait_with_output().unwrap();
    format!("{name}|{}", &String::from_utf8_lossy(&out.stdout)[..16])
}

/// `secret-tool` against the user's private Secret Service.
fn secret_tool(user: &User, args: &[&str]) -> (bool, String) {
    let out = Command::new("secret-tool")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(user.keychain.env())
        .stdin(Stdio::null())
        .output()
        .expect("secret-tool (package libsecret-tools)");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn handoff(user: &User, home: &Path, codex_home: Option<&Path>, url: &str) -> Value {
    latchkey_json(user, home, codex_home, &["handoff", "codex", url, "--json"])
}

/// `latchkey ARGS` with Codex's files under `home` (and `codex_home`), its JSON answer.
fn latchkey_json(user: &User, home: &Path, codex_home: Option<&Path>, args: &[&str]) -> Value {
    let mut c = user.command(args);
    c.env("HOME", home);
    if let Some(d) = codex_home {
        c.env("CODEX_HOME", d);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[test]
fn the_keychain_entry_is_what_codex_reads_and_codex_connects() {
    let f = Fixture::start(json!({}));
    let user = User::new("cx-keychain");
    user.run(&["login", &f.ready.mcp_url, "--json"]).assert_ok();
    let url = f.ready.mcp_url.as_str();
    let home = TempDir::new("cx-keychain-home");
    let codex_home = home.path().join(".codex");
    std::fs::create_dir_all(&codex_home).unwrap();
    let config = CONFIG.replace("URL", url);
    std::fs::write(codex_home.join("config.toml"), &config).unwrap();

    // Before: Codex knows the server needs a sign-in and cannot connect.
    let before = codex_status(home.path(), None, &user, "fixture");
    assert_eq!(before["authStatus"], "notLoggedIn", "{before}");
    assert!(!connected(&before), "{before}");

    let out = handoff(&user, home.path(), None, url);
    let key = codex_key("fixture", url);
    assert_eq!(
        out["written"],
        json!([{"entry": "fixture", "key": key, "store": "keychain", "service": SERVICE, "account": key, "notes": []}]),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(codex_home.join("config.toml")).unwrap(),
        config,
        "Codex's config is untouched"
    );
    assert!(
        !codex_home.join(".credentials.json").exists(),
        "the keychain, not the file"
    );

    // The entry, read back from the Secret Service: Codex's StoredOAuthTokens.
    let (ok, stored) = secret_tool(&user, &["lookup", "service", SERVICE, "username", &key]);
    assert!(ok, "{stored}");
    let v: Value = serde_json::from_str(stored.trim()).unwrap();
    assert_eq!(v["server_name"], "fixture");
    assert_eq!(v["url"], url);
    assert_eq!(v["issuer"], f.ready.issuer.as_str());
    assert!(
        v["client_id"].as_str().is_some_and(|c| !c.is_empty()),
        "{v}"
    );
    let tr = &v["token_response"];
    assert!(tr["access_token"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(tr["token_type"], "bearer");
    assert!(
        tr.get("refresh_token").is_none(),
        "never a second refresher of the grant"
    );
    assert!(
        v["expires_at"].as_u64().is_some_and(|e| e > now_ms()),
        "{v}"
    );

    // After: Codex reads it, connects, and lists the server's tools.
    let after = codex_status(home.path(), None, &user, "fixture");
    assert!(connected(&after), "{after}");
    let out = codex(home.path(), None, &user, &["mcp", "list", "--json"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let list: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "codex mcp list --json ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let fixture = list
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == "fixture"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(fixture["auth_status"], "o_auth", "{list}");

    // Signing out takes the token back from Codex's keychain entry.
    let out = latchkey_json(&user, home.path(), None, &["logout", url, "--json"]);
    assert_eq!(out["withdrawn_from"], json!(["Codex (fixture)"]), "{out}");
    assert_eq!(out["kept_by"], json!([]), "{out}");
    let (found, _) = secret_tool(&user, &["lookup", "service", SERVICE, "username", &key]);
    assert!(!found, "the keychain entry is gone");
    let gone = codex_status(home.path(), None, &user, "fixture");
    assert!(!connected(&gone), "{gone}");
}

#[test]
fn the_file_store_when_codex_is_set_to_it_with_codex_home() {
    let f = Fixture::start(json!({}));
    let user = User::new("cx-file");
    user.run(&["login", &f.ready.mcp_url, "--json"]).assert_ok();
    let url = f.ready.mcp_url.as_str();
    let home = TempDir::new("cx-file-home");
    // CODEX_HOME elsewhere than ~/.codex: that is where Codex (and Latchkey) must look.
    let codex_home = home.path().join("codex-state");
    std::fs::create_dir_all(&codex_home).unwrap();
    let config = format!(
        "mcp_oauth_credentials_store = \"file\"\n{}",
        CONFIG.replace("URL", url)
    );
    std::fs::write(codex_home.join("config.toml"), &config).unwrap();
    // Another server's sign-in, as Codex writes its file (compact): kept byte for byte.
    let other = r#"{"other|0123456789abcdef":{"server_name":"other","server_url":"https://other.example.com/mcp","client_id":"c1","access_token":"a1","expires_at":null,"refresh_token":"r1","scopes":[]}}"#;
    let creds = codex_home.join(".credentials.json");
    std::fs::write(&creds, other).unwrap();
    // Left readable by others (0644 here): the handoff makes it private, as Codex does.

    let out = handoff(&user, home.path(), Some(&codex_home), url);
    let key = codex_key("fixture", url);
    let w = &out["written"][0];
    assert_eq!(w["store"], "file", "{out}");
    assert_eq!(w["key"], key.as_str());
    assert_eq!(w["file"], creds.display().to_string());
    let backup = PathBuf::from(w["backup"].as_str().unwrap());
    assert_eq!(std::fs::read_to_string(backup).unwrap(), other);
    assert!(
        !home.path().join(".codex").exists(),
        "nothing under ~/.codex when CODEX_HOME is set"
    );

    let text = std::fs::read_to_string(&creds).unwrap();
    assert!(
        text.starts_with(&other[..other.len() - 1]),
        "the other entry is untouched:\n{text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    let e = &v[&key];
    assert_eq!(e["server_name"], "fixture");
    assert_eq!(e["server_url"], url);
    assert!(e["access_token"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(e.get("refresh_token").is_none());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&creds).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let (found, listing) = secret_tool(&user, &["search", "--all", "service", SERVICE]);
    assert!(
        !found || listing.trim().is_empty(),
        "nothing in the keychain: {listing}"
    );

    let after = codex_status(home.path(), Some(&codex_home), &user, "fixture");
    assert!(connected(&after), "{after}");

    // Signing out takes the entry back out of the file: the other entry stays, byte for byte.
    let out = latchkey_json(
        &user,
        home.path(),
        Some(&codex_home),
        &["logout", url, "--json"],
    );
    assert_eq!(out["withdrawn_from"], json!(["Codex (fixture)"]), "{out}");
    assert_eq!(std::fs::read_to_string(&creds).unwrap(), other);
}

#[test]
fn a_server_codex_does_not_have_is_a_clear_error() {
    let f = Fixture::start(json!({}));
    let user = User::new("cx-missing");
    user.run(&["login", &f.ready.mcp_url, "--json"]).assert_ok();
    let home = TempDir::new("cx-missing-home");
    let codex_home = home.path().join(".codex");
    std::fs::create_dir_all(&codex_home).unwrap();
    let config = CONFIG.replace("URL", "https://elsewhere.example.com/mcp");
    std::fs::write(codex_home.join("config.toml"), &config).unwrap();
    let out = user
        .command(&["handoff", "codex", &f.ready.mcp_url])
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Codex has no server with the URL"), "{err}");
    assert_eq!(
        std::fs::read_to_string(codex_home.join("config.toml")).unwrap(),
        config
    );
    assert!(!codex_home.join(".credentials.json").exists());
    let (found, listing) = secret_tool(&user, &["search", "--all", "service", SERVICE]);
    assert!(!found || listing.trim().is_empty(), "{listing}");
}
