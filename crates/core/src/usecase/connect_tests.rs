//! Connect and disconnect on a copy of the fixture home (tests/fixtures/configs/home), which
//! has every tool's config: only the entry changes, backups, permissions, refusals, mcp-remote
//! entries replaced and put back byte for byte, comments kept.

use super::*;
use crate::store::vault::tests::sample;
use crate::store::vault::{CredentialStore, MemoryStore};
use crate::tools::json_edit;
use crate::tools::test_support::{assert_changed_only_inside, fixture_home, remove};
use crate::tools::Os;
use std::collections::BTreeMap;
use std::sync::Arc;

const LINEAR: &str = "https://mcp.linear.app/mcp";
const PROGRAM: &str = "/opt/latchkey/bin/latchkey";

struct Home {
    home: PathBuf,
    engine: Latchkey,
}

fn home(tag: &str) -> Home {
    let home = fixture_home(tag);
    let store = Arc::new(MemoryStore::default());
    let mut b = sample(LINEAR);
    b.names = vec!["linear".into()];
    store.save(&b).unwrap();
    store
        .save(&sample("https://gitlab.example.com/api/v4/mcp"))
        .unwrap();
    store
        .save(&sample("https://mcp.atlassian.com/v1/sse"))
        .unwrap();
    let loc = Locations::for_home_on(&home, Os::Linux);
    let engine = Latchkey::new(store, loc)
        .with_state_dir(home.join(".local/state/latchkey"))
        .with_latchkey_program(PROGRAM);
    Home { home, engine }
}

/// Every file of the fixture home, as text.
fn files(home: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![home.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                out.insert(p.clone(), std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    out
}

fn config_files(home: &Path) -> BTreeMap<PathBuf, String> {
    files(home)
        .into_iter()
        .filter(|(p, _)| {
            let n = p.to_string_lossy();
            !n.contains("latchkey-backup") && !n.contains("latchkey-connected")
        })
        .collect()
}

fn changes(outcomes: Vec<ToolOutcome>) -> BTreeMap<Tool, Vec<EntryChange>> {
    outcomes
        .into_iter()
        .map(|o| {
            (
                o.tool,
                o.result.unwrap_or_else(|e| panic!("{}: {e}", o.tool)),
            )
        })
        .collect()
}

fn json_at(file: &Path, path: &[&str]) -> serde_json::Value {
    json_edit::get(&std::fs::read_to_string(file).unwrap(), path)
        .unwrap()
        .unwrap_or(serde_json::Value::Null)
}

#[test]
fn connect_to_every_tool_changes_only_the_entry_and_disconnect_puts_every_byte_back() {
    let h = home("connect-all");
    let before = config_files(&h.home);
    let done = changes(h.engine.connect("linear", &Tool::ALL, None).unwrap());

    // The entry each tool had is kept under its name; the others get a new "linear".
    let kinds: BTreeMap<Tool, Vec<(String, Change)>> = done
        .iter()
        .map(|(t, c)| (*t, c.iter().map(|e| (e.entry.clone(), e.change)).collect()))
        .collect();
    let replaced = |n: &str| vec![(n.to_string(), Change::Replaced)];
    let added = vec![("linear".to_string(), Change::Added)];
    assert_eq!(kinds[&Tool::ClaudeCode], replaced("linear"));
    assert_eq!(kinds[&Tool::ClaudeDesktop], replaced("linear"));
    assert_eq!(kinds[&Tool::Cursor], replaced("linear"));
    assert_eq!(kinds[&Tool::Windsurf], replaced("linear"));
    for t in [Tool::VsCode, Tool::GeminiCli, Tool::Codex, Tool::Zed] {
        assert_eq!(kinds[&t], added, "{t}");
    }

    let h_ = &h.home;
    let claude = h_.join(".claude.json");
    assert_eq!(
        json_at(&claude, &["mcpServers", "linear", "headersHelper"]),
        format!("{PROGRAM} headers")
    );
    let desktop = h_.join(".config/Claude/claude_desktop_config.json");
    assert_eq!(
        json_at(&desktop, &["mcpServers", "linear"]),
        serde_json::json!({"command": PROGRAM, "args": ["bridge", LINEAR]})
    );
    let cursor = h_.join(".cursor/mcp.json");
    assert_eq!(
        json_at(&cursor, &["mcpServers", "linear"]),
        serde_json::json!({"command": PROGRAM, "args": ["bridge", LINEAR]})
    );
    let vscode = h_.join(".config/Code/User/mcp.json");
    assert_eq!(
        json_at(&vscode, &["servers", "linear"]),
        serde_json::json!({"type": "stdio", "command": PROGRAM, "args": ["bridge", LINEAR]})
    );
    let zed = h_.join(".config/zed/settings.json");
    assert_eq!(
        json_at(&zed, &["context_servers", "linear", "args"]),
        serde_json::json!(["bridge", LINEAR])
    );
    let codex = std::fs::read_to_string(h_.join(".codex/config.toml")).unwrap();
    assert!(
        codex.ends_with(&format!(
            "\n\n[mcp_servers.linear]\nurl = \"{LINEAR}\"\nhttp_headers_helper = \"{PROGRAM} headers {LINEAR}\"\n"
        )),
        "{codex}"
    );

    let after = config_files(h_);
    for (path, old) in &before {
        let new = &after[path];
        if old == new {
            continue;
        }
        // Only the entry changed (the JSONC comments of VS Code, Zed and Gemini CLI kept) ...
        if let Some(tool_entry) = [
            (&claude, vec!["mcpServers", "linear"]),
            (&desktop, vec!["mcpServers", "linear"]),
            (&cursor, vec!["mcpServers", "linear"]),
            (
                &h_.join(".codeium/windsurf/mcp_config.json"),
                vec!["mcpServers", "linear"],
            ),
        ]
        .iter()
        .find(|(p, _)| *p == path)
        {
            assert_changed_only_inside(old, new, &tool_entry.1);
        } else {
            // ... or one entry was added, the rest untouched.
            let (from, to) = crate::tools::test_support::changed_range(old, new);
            assert_eq!(
                to,
                from,
                "{}: something was replaced, not only added",
                path.display()
            );
        }
        // A backup of what was there.
        let mut backup = path.file_name().unwrap().to_os_string();
        backup.push(".latchkey-backup");
        assert_eq!(
            &std::fs::read_to_string(path.with_file_name(backup)).unwrap(),
            old
        );
    }
    for f in [&claude, &desktop, &cursor, &vscode, &zed] {
        assert!(connections::record_path(f).exists(), "{}", f.display());
    }
    assert_eq!(
        h.engine.connected_tools("linear").unwrap(),
        Tool::ALL.to_vec()
    );

    // The inventory reads a bridged entry as the server it reaches, through Latchkey.
    let scan = crate::tools::scan(h.engine.locations());
    let bridged: Vec<&ServerEntry> = scan.entries.iter().filter(|e| e.bridge).collect();
    assert_eq!(
        bridged.iter().map(|e| e.tool).collect::<Vec<_>>(),
        vec![
            Tool::ClaudeDesktop,
            Tool::Cursor,
            Tool::VsCode,
            Tool::GeminiCli,
            Tool::Windsurf,
            Tool::Zed
        ]
    );
    assert!(bridged
        .iter()
        .all(|e| e.url.as_deref() == Some(LINEAR) && !e.tool_connects()));

    // Connecting again writes nothing.
    let again = changes(h.engine.connect(LINEAR, &Tool::ALL, None).unwrap());
    assert!(again
        .values()
        .flatten()
        .all(|c| c.change == Change::Already));
    assert_eq!(config_files(h_), after);

    let undone = changes(h.engine.disconnect("linear", &Tool::ALL).unwrap());
    assert_eq!(undone[&Tool::Cursor][0].change, Change::Restored);
    assert_eq!(undone[&Tool::VsCode][0].change, Change::Removed);
    assert_eq!(config_files(h_), before, "every byte put back");
    for f in [&claude, &desktop, &cursor, &vscode, &zed] {
        assert!(!connections::record_path(f).exists(), "{}", f.display());
    }
    assert!(h.engine.connected_tools("linear").unwrap().is_empty());
    remove(h_);
}

#[test]
fn an_mcp_remote_entry_is_replaced_in_place_and_restored_byte_for_byte_without_a_secret_in_the_state_folder(
) {
    let h = home("connect-mcp-remote");
    let desktop = h.home.join(".config/Claude/claude_desktop_config.json");
    let before = std::fs::read_to_string(&desktop).unwrap();
    let done = changes(
        h.engine
            .connect(
                "https://mcp.atlassian.com/v1/sse",
                &[Tool::ClaudeDesktop],
                None,
            )
            .unwrap(),
    );
    assert_eq!(done[&Tool::ClaudeDesktop][0].entry, "atlassian");
    let after = std::fs::read_to_string(&desktop).unwrap();
    assert_changed_only_inside(&before, &after, &["mcpServers", "atlassian"]);
    assert_eq!(
        json_at(&desktop, &["mcpServers", "atlassian"]),
        serde_json::json!({"command": PROGRAM, "args": ["bridge", "https://mcp.atlassian.com/v1/sse"]})
    );
    // The original (with its client secret) is beside the file, owner-only, never in the
    // state folder.
    let record = std::fs::read_to_string(connections::record_path(&desktop)).unwrap();
    assert!(record.contains("fixture-secret-not-real"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(connections::record_path(&desktop))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let state = h.home.join(".local/state/latchkey");
    if state.exists() {
        assert!(files(&state)
            .values()
            .all(|t| !t.contains("fixture-secret-not-real")));
    }
    changes(
        h.engine
            .disconnect("https://mcp.atlassian.com/v1/sse", &[Tool::ClaudeDesktop])
            .unwrap(),
    );
    assert_eq!(std::fs::read_to_string(&desktop).unwrap(), before);
    remove(&h.home);
}

#[test]
fn a_server_is_found_by_the_name_the_tools_give_it() {
    // Claude Desktop calls it "atlassian"; Latchkey never named it.
    let h = home("connect-by-tool-name");
    let desktop = h.home.join(".config/Claude/claude_desktop_config.json");
    let before = std::fs::read_to_string(&desktop).unwrap();
    changes(
        h.engine
            .connect("atlassian", &[Tool::ClaudeDesktop], None)
            .unwrap(),
    );
    assert_eq!(
        h.engine.connected_tools("atlassian").unwrap(),
        [Tool::ClaudeDesktop]
    );
    changes(
        h.engine
            .disconnect("atlassian", &[Tool::ClaudeDesktop])
            .unwrap(),
    );
    assert_eq!(std::fs::read_to_string(&desktop).unwrap(), before);
    let e = h.engine.disconnect("no-such-name", &[Tool::ClaudeDesktop]);
    assert!(matches!(e, Err(Error::UnknownServer { .. })), "{e:?}");
    remove(&h.home);
}

#[test]
fn an_mcp_remote_entry_keeps_its_other_members() {
    let h = home("connect-env");
    let desktop = h.home.join(".config/Claude/claude_desktop_config.json");
    changes(
        h.engine
            .connect(
                "https://internal.example.net/mcp?tenant=acme",
                &[Tool::ClaudeDesktop],
                None,
            )
            .unwrap(),
    );
    let entry = json_at(&desktop, &["mcpServers", "internal"]);
    assert_eq!(entry["env"]["AUTH"], "Bearer fixture-token-not-real");
    assert_eq!(entry["args"][0], "bridge");
    remove(&h.home);
}

#[test]
fn codex_and_claude_code_entries_get_their_helper_and_lose_it_again() {
    let h = home("connect-helpers");
    let codex = h.home.join(".codex/config.toml");
    let claude = h.home.join(".claude.json");
    let (codex_before, claude_before) = (
        std::fs::read_to_string(&codex).unwrap(),
        std::fs::read_to_string(&claude).unwrap(),
    );
    let gitlab = "https://gitlab.example.com/api/v4/mcp";
    let done = changes(
        h.engine
            .connect(gitlab, &[Tool::Codex, Tool::ClaudeCode], None)
            .unwrap(),
    );
    assert_eq!(done[&Tool::Codex][0].entry, "gitlab");
    let text = std::fs::read_to_string(&codex).unwrap();
    let line = format!("http_headers_helper = \"{PROGRAM} headers {gitlab}\"\n");
    assert_eq!(
        text,
        codex_before.replace(
            "oauth = { client_id = \"codex-gitlab-app\" }\n",
            &format!("oauth = {{ client_id = \"codex-gitlab-app\" }}\n{line}")
        )
    );
    // Claude Code's per-project entry, which had a helper by hand, keeps its name.
    assert_eq!(
        json_at(
            &claude,
            &[
                "projects",
                "/home/alice/code/webapp",
                "mcpServers",
                "gitlab",
                "headersHelper"
            ]
        ),
        format!("{PROGRAM} headers")
    );
    changes(
        h.engine
            .disconnect(gitlab, &[Tool::Codex, Tool::ClaudeCode])
            .unwrap(),
    );
    assert_eq!(std::fs::read_to_string(&codex).unwrap(), codex_before);
    assert_eq!(std::fs::read_to_string(&claude).unwrap(), claude_before);
    remove(&h.home);
}

#[cfg(unix)]
#[test]
fn the_file_keeps_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let h = home("connect-mode");
    let cursor = h.home.join(".cursor/mcp.json");
    std::fs::set_permissions(&cursor, std::fs::Permissions::from_mode(0o640)).unwrap();
    changes(h.engine.connect("linear", &[Tool::Cursor], None).unwrap());
    assert_eq!(
        std::fs::metadata(&cursor).unwrap().permissions().mode() & 0o777,
        0o640
    );
    changes(h.engine.disconnect("linear", &[Tool::Cursor]).unwrap());
    assert_eq!(
        std::fs::metadata(&cursor).unwrap().permissions().mode() & 0o777,
        0o640
    );
    remove(&h.home);
}

#[test]
fn a_file_changed_since_it_was_read_is_refused_and_the_record_is_left_as_it_was() {
    let h = home("connect-changed");
    let cursor = h.home.join(".cursor/mcp.json");
    let snap = Snapshot::read(&cursor).unwrap();
    std::fs::write(&cursor, "{\"mcpServers\": {}}\n").unwrap();
    let c = Connection {
        server: "https://mcp.linear.app/mcp".into(),
        tool: Tool::Cursor,
        key_path: vec!["mcpServers".into(), "linear".into()],
        original: None,
        written: "{}".into(),
        separator: String::new(),
        created_objects: 0,
    };
    let e = write_file(&cursor, &snap, "{}", &[c], &[]).unwrap_err();
    assert_eq!(e.code(), "file_changed");
    assert_eq!(
        std::fs::read_to_string(&cursor).unwrap(),
        "{\"mcpServers\": {}}\n"
    );
    assert!(!connections::record_path(&cursor).exists());
    remove(&h.home);
}

#[test]
fn an_entry_changed_after_connecting_is_not_disconnected() {
    let h = home("connect-edited");
    let cursor = h.home.join(".cursor/mcp.json");
    changes(h.engine.connect("linear", &[Tool::Cursor], None).unwrap());
    let text = std::fs::read_to_string(&cursor).unwrap();
    let edited =
        json_edit::set_member(&text, &["mcpServers", "linear"], "command", &"node".into()).unwrap();
    std::fs::write(&cursor, &edited).unwrap();
    let out = h.engine.disconnect("linear", &[Tool::Cursor]).unwrap();
    let e = out[0].result.as_ref().unwrap_err();
    assert!(
        e.to_string()
            .contains("was changed since Latchkey connected it"),
        "{e}"
    );
    assert_eq!(e.code(), "entry_changed");
    assert!(e.hint().contains("latchkey-connected"), "{}", e.hint());
    // Connecting again says the same; taking the entry out of the file is a way out.
    let again = h.engine.connect("linear", &[Tool::Cursor], None).unwrap();
    assert_eq!(
        again[0].result.as_ref().unwrap_err().code(),
        "entry_changed"
    );
    assert_eq!(std::fs::read_to_string(&cursor).unwrap(), edited);
    let taken_out = json_edit::remove_member(&edited, &["mcpServers"], "linear").unwrap();
    std::fs::write(&cursor, &taken_out).unwrap();
    let out = changes(h.engine.connect("linear", &[Tool::Cursor], None).unwrap());
    assert_eq!(out[&Tool::Cursor][0].change, Change::Added);
    changes(h.engine.disconnect("linear", &[Tool::Cursor]).unwrap());
    assert_eq!(std::fs::read_to_string(&cursor).unwrap(), taken_out);
    remove(&h.home);
}

#[test]
fn a_tool_that_is_not_installed_is_refused_and_the_others_are_connected() {
    let h = home("connect-missing");
    std::fs::remove_dir_all(h.home.join(".codeium")).unwrap();
    let out = h
        .engine
        .connect("linear", &[Tool::Windsurf, Tool::Cursor], None)
        .unwrap();
    let e = out[0].result.as_ref().unwrap_err();
    assert!(
        e.to_string()
            .contains("Windsurf does not seem to be installed"),
        "{e}"
    );
    assert!(out[1].result.is_ok());
    assert!(!h.engine.installed_tools().contains(&Tool::Windsurf));
    remove(&h.home);
}

#[test]
fn a_new_entry_takes_a_free_name_and_names_come_from_the_host() {
    assert_eq!(name_from_url("https://mcp.linear.app/mcp"), "linear");
    assert_eq!(name_from_url("http://127.0.0.1:4000/mcp"), "127.0.0.1");
    let h = home("connect-name");
    // VS Code has a "github" server already; another server named github gets "github-2".
    let out = changes(
        h.engine
            .connect(
                "https://gitlab.example.com/api/v4/mcp",
                &[Tool::VsCode],
                Some("github"),
            )
            .unwrap(),
    );
    assert_eq!(out[&Tool::VsCode][0].entry, "github-2");
    remove(&h.home);
}

#[test]
fn an_entry_replaced_in_a_file_with_comments_keeps_them_and_its_trailing_comma() {
    let h = home("connect-jsonc");
    let gitlab = "https://gitlab.example.com/api/v4/mcp";
    let zed = h.home.join(".config/zed/settings.json");
    let before = std::fs::read_to_string(&zed).unwrap();
    changes(h.engine.connect(gitlab, &[Tool::Zed], None).unwrap());
    let after = std::fs::read_to_string(&zed).unwrap();
    let old_entry = "{\n      \"url\": \"https://GitLab.example.com:443/api/v4/mcp\",\n      \"oauth\": { \"client_id\": \"zed-gitlab\" }\n    }";
    let new_entry = format!(
        "{{\n      \"command\": \"{PROGRAM}\",\n      \"args\": [\n        \"bridge\",\n        \"{gitlab}\"\n      ]\n    }}"
    );
    assert_eq!(after, before.replace(old_entry, &new_entry));
    assert!(after.starts_with("// Zed settings\n//\n"));

    // VS Code: the entry is followed by a trailing comma, and a comment follows it.
    let vscode = h.home.join(".config/Code/User/mcp.json");
    let vs_before = std::fs::read_to_string(&vscode).unwrap();
    changes(
        h.engine
            .connect("https://api.githubcopilot.com/mcp", &[Tool::VsCode], None)
            .unwrap(),
    );
    let vs_after = std::fs::read_to_string(&vscode).unwrap();
    assert_changed_only_inside(&vs_before, &vs_after, &["servers", "github"]);
    assert!(
        vs_after.contains("    },\n    /* a local knowledge graph */"),
        "{vs_after}"
    );
    assert!(vs_after.contains("// Asked for once"));

    changes(h.engine.disconnect(gitlab, &[Tool::Zed]).unwrap());
    changes(
        h.engine
            .disconnect("https://api.githubcopilot.com/mcp", &[Tool::VsCode])
            .unwrap(),
    );
    assert_eq!(std::fs::read_to_string(&zed).unwrap(), before);
    assert_eq!(std::fs::read_to_string(&vscode).unwrap(), vs_before);
    remove(&h.home);
}

#[test]
fn a_new_entry_is_named_as_the_other_tools_name_the_server() {
    let h = home("connect-named");
    // Not signed in, so no name in Latchkey; VS Code, Gemini CLI and Codex call it "github"
    // (its host would give "githubcopilot").
    let out = changes(
        h.engine
            .connect("https://api.githubcopilot.com/mcp", &[Tool::Cursor], None)
            .unwrap(),
    );
    assert_eq!(out[&Tool::Cursor][0].entry, "github");
    assert_eq!(out[&Tool::Cursor][0].change, Change::Added);
    remove(&h.home);
}

#[test]
fn a_tool_whose_folder_has_no_config_file_yet_gets_one_and_disconnect_leaves_it_empty() {
    let h = home("connect-new-file");
    let cursor = h.home.join(".cursor/mcp.json");
    std::fs::remove_file(&cursor).unwrap();
    let out = changes(h.engine.connect("linear", &[Tool::Cursor], None).unwrap());
    assert_eq!(out[&Tool::Cursor][0].change, Change::Added);
    assert_eq!(out[&Tool::Cursor][0].backup, None, "nothing to back up");
    assert_eq!(
        json_at(&cursor, &["mcpServers", "linear", "args"]),
        serde_json::json!(["bridge", LINEAR])
    );
    changes(h.engine.disconnect("linear", &[Tool::Cursor]).unwrap());
    // The servers object Latchkey made goes too; the file itself stays (the tool may have
    // opened it since), an empty object.
    assert_eq!(
        std::fs::read_to_string(&cursor).unwrap().trim(),
        "{}",
        "an empty object is left"
    );
    remove(&h.home);
}

#[test]
fn an_entry_named_twice_in_one_file_is_refused_naming_the_file_and_the_name() {
    let h = home("connect-twice");
    let cursor = h.home.join(".cursor/mcp.json");
    let twice = "{\n  \"mcpServers\": {\n    \"linear\": {\"url\": \"https://mcp.linear.app/mcp\"},\n    \"linear\": {\"command\": \"uvx\", \"args\": [\"mcp-linear\"]}\n  }\n}\n";
    std::fs::write(&cursor, twice).unwrap();
    let out = h.engine.connect(LINEAR, &[Tool::Cursor], None).unwrap();
    let e = out[0].result.as_ref().unwrap_err();
    let text = e.to_string();
    assert!(text.contains("mcp.json"), "{text}");
    assert!(text.contains("\"linear\" twice"), "{text}");
    assert_eq!(std::fs::read_to_string(&cursor).unwrap(), twice);
    assert!(!connections::record_path(&cursor).exists());
    remove(&h.home);
}

#[test]
fn an_entry_added_where_the_file_had_no_servers_object_is_put_back_to_the_same_bytes() {
    let h = home("connect-no-servers");
    let cursor = h.home.join(".cursor/mcp.json");
    let zed = h.home.join(".config/zed/settings.json");
    // No servers object at all (Cursor), and one nested under a key Zed also lacks.
    let files = [
        (&cursor, "{\n  \"theme\": \"dark\"\n}\n", Tool::Cursor),
        (
            &zed,
            "// Zed settings\n{\n  \"vim_mode\": true\n}\n",
            Tool::Zed,
        ),
    ];
    for (file, text, tool) in files {
        std::fs::write(file, text).unwrap();
        let out = changes(h.engine.connect(LINEAR, &[tool], None).unwrap());
        assert_eq!(out[&tool][0].change, Change::Added, "{tool}");
        assert_ne!(std::fs::read_to_string(file).unwrap(), text);
        let back = h.engine.disconnect(LINEAR, &[tool]).unwrap();
        assert!(back[0].result.is_ok(), "{tool}: {:?}", back[0].result);
        assert_eq!(std::fs::read_to_string(file).unwrap(), text, "{tool}");
    }
    // Another server added to the created object meanwhile keeps it.
    std::fs::write(&cursor, "{\n  \"theme\": \"dark\"\n}\n").unwrap();
    changes(h.engine.connect(LINEAR, &[Tool::Cursor], None).unwrap());
    let text = std::fs::read_to_string(&cursor).unwrap();
    let other = json_edit::set_member(
        &text,
        &["mcpServers"],
        "mine",
        &serde_json::json!({"url": "https://mine.example/mcp"}),
    )
    .unwrap();
    std::fs::write(&cursor, &other).unwrap();
    h.engine.disconnect(LINEAR, &[Tool::Cursor]).unwrap();
    assert_eq!(
        json_at(&cursor, &["mcpServers"]),
        serde_json::json!({"mine": {"url": "https://mine.example/mcp"}})
    );
    remove(&h.home);
}
