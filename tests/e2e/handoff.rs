//! Handing credentials to Claude Code, checked by the real CLI: helper mode and native mode,
//! each edit changing only the bytes it means to.

use latchkey_e2e::*;
use serde_json::{json, Value};

const CONFIG: &str = r#"{
  "numStartups": 7,
  "theme": "dark",
  "mcpServers": {
    "local-files": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]
    },
    "fixture": {
      "type": "http",
      "url": "URL"
    }
  },
  "projects": {
    "/home/someone/project": {
      "allowedTools": [],
      "mcpServers": {}
    }
  }
}
"#;

fn setup(tag: &str) -> (Fixture, User, TempDir, String) {
    let f = Fixture::start(json!({}));
    let user = User::new(tag);
    user.run(&["login", &f.ready.mcp_url, "--json"]).assert_ok();
    let home = TempDir::new(&format!("{tag}-home"));
    let original = CONFIG.replace("URL", &f.ready.mcp_url);
    std::fs::write(home.path().join(".claude.json"), &original).unwrap();
    (f, user, home, original)
}

fn handoff(user: &User, home: &TempDir, url: &str, mode: &str) -> Value {
    let out = user
        .command(&["handoff", "claude-code", url, "--mode", mode, "--json"])
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn helper_mode_adds_one_member_and_claude_code_connects() {
    let (f, user, home, original) = setup("cc-helper");
    let url = f.ready.mcp_url.as_str();
    // Without a helper Claude Code cannot connect. It rewrites its config when it runs, so
    // the original is put back before the edit is compared byte for byte.
    assert!(!claude_status(&claude_mcp_list(home.path(), &user), "fixture").contains("Connected"));
    std::fs::write(home.path().join(".claude.json"), &original).unwrap();

    let out = handoff(&user, &home, url, "helper");
    assert_eq!(out["written"].as_array().unwrap().len(), 1);
    let after = std::fs::read_to_string(home.path().join(".claude.json")).unwrap();
    let helper = format!("{} headers", latchkey_bin().display());
    let expected = original.replace(
        &format!("\"url\": \"{url}\"\n"),
        &format!("\"url\": \"{url}\",\n      \"headersHelper\": \"{helper}\"\n"),
    );
    assert_eq!(after, expected, "only the helper line was added");
    let backup = home.path().join(".claude.json.latchkey-backup");
    assert_eq!(std::fs::read_to_string(backup).unwrap(), original);

    let list = claude_mcp_list(home.path(), &user);
    assert!(
        claude_status(&list, "fixture").contains("Connected"),
        "{list}"
    );
}

#[test]
fn native_mode_writes_the_store_claude_code_reads() {
    let (f, user, home, original) = setup("cc-native");
    let url = f.ready.mcp_url.as_str();
    handoff(&user, &home, url, "native");
    assert_eq!(
        std::fs::read_to_string(home.path().join(".claude.json")).unwrap(),
        original,
        "the config itself is untouched"
    );
    let creds_path = home.path().join(".claude/.credentials.json");
    let creds: Value =
        serde_json::from_str(&std::fs::read_to_string(&creds_path).unwrap()).unwrap();
    let entries = creds["mcpOAuth"].as_object().unwrap();
    assert_eq!(entries.len(), 1);
    let (key, entry) = entries.iter().next().unwrap();
    assert!(
        key.starts_with("fixture|") && key.len() == "fixture|".len() + 16,
        "{key}"
    );
    assert_eq!(entry["serverUrl"], url);
    assert!(
        entry.get("refreshToken").is_none(),
        "never a second refresher of the grant"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&creds_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    let list = claude_mcp_list(home.path(), &user);
    assert!(
        claude_status(&list, "fixture").contains("Connected"),
        "{list}"
    );
}

#[test]
fn a_server_claude_code_does_not_have_is_a_clear_error() {
    let f = Fixture::start(json!({}));
    let user = User::new("cc-missing");
    user.run(&["login", &f.ready.mcp_url, "--json"]).assert_ok();
    let home = TempDir::new("cc-missing-home");
    std::fs::write(home.path().join(".claude.json"), "{\"mcpServers\": {}}").unwrap();
    let out = user
        .command(&["handoff", "claude-code", &f.ready.mcp_url])
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("has no server with the URL"), "{err}");
    assert_eq!(
        std::fs::read_to_string(home.path().join(".claude.json")).unwrap(),
        "{\"mcpServers\": {}}"
    );
}

#[test]
fn helper_mode_edits_a_projects_mcp_json_where_the_server_is_configured() {
    let f = Fixture::start(json!({}));
    let user = User::new("cc-project");
    let url = f.ready.mcp_url.as_str();
    user.run(&["login", url, "--json"]).assert_ok();
    let home = TempDir::new("cc-project-home");
    std::fs::write(home.path().join(".claude.json"), "{}\n").unwrap();
    let project = TempDir::new("cc-project-dir");
    let original = format!("{{\n  \"mcpServers\": {{\n    \"team\": {{ \"type\": \"http\", \"url\": \"{url}\" }}\n  }}\n}}\n");
    std::fs::write(project.path().join(".mcp.json"), &original).unwrap();
    let out = user
        .command(&["handoff", "claude-code", url])
        .env("HOME", home.path())
        .current_dir(project.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = std::fs::read_to_string(project.path().join(".mcp.json")).unwrap();
    let helper = format!("{} headers", latchkey_bin().display());
    assert_eq!(
        after,
        original.replace(
            &format!("\"url\": \"{url}\" }}"),
            &format!("\"url\": \"{url}\", \"headersHelper\": \"{helper}\" }}")
        ),
        "one member added inline, in the entry's own style"
    );
    assert_eq!(
        std::fs::read_to_string(home.path().join(".claude.json")).unwrap(),
        "{}\n"
    );
}
