//! The server inventory from a realistic fixture home (`tests/fixtures/configs/`): every
//! tool's config, servers shared between tools under different URL spellings, stdio servers,
//! several projects. The exact inventory is asserted; each malformed copy of a file gives one
//! clear error with file and line while every other file still loads; no input panics.

use latchkey_core::tools::inventory::{self, Inventory};
use latchkey_core::tools::{
    self, parse_source, ConfigScope, Locations, Os, ServerEntry, Source, SourceKind, Tool,
};
use std::path::{Path, PathBuf};

/// A server as the test sees it: URL, URL problem, names, one line per use.
type Described = (String, Option<String>, Vec<String>, Vec<String>);
type Expected<'a> = (&'a str, Option<&'a str>, Vec<&'a str>, Vec<&'a str>);

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/configs")
        .canonicalize()
        .expect("tests/fixtures/configs exists")
}

/// Linux layout whatever the host, no environment, only the projects given.
fn locations(home: &Path, projects: &[PathBuf]) -> Locations {
    let mut loc = Locations::for_home_on(home, Os::Linux);
    loc.projects = projects.to_vec();
    loc.known_projects = false;
    loc
}

fn fixture_inventory() -> Inventory {
    let root = fixtures();
    inventory::scan(&locations(
        &root.join("home"),
        &[
            root.join("projects/webapp"),
            root.join("projects/api-server"),
        ],
    ))
}

/// One line per use of a server, with every field that matters, paths relative to `root`.
fn describe(e: &ServerEntry, root: &Path) -> String {
    let rel = |p: &Path| {
        p.strip_prefix(root)
            .map(|r| r.display().to_string())
            .unwrap_or_else(|_| p.display().to_string())
    };
    let scope = match &e.config_scope {
        ConfigScope::User => "user".to_string(),
        ConfigScope::Local { project } => format!("local:{}", project.display()),
        ConfigScope::Project { project } => format!("project:{}", rel(project)),
    };
    let mut s = format!(
        "{} {} {}:{} {:?} {}",
        serde_json::to_value(e.tool).unwrap().as_str().unwrap(),
        scope,
        rel(&e.file),
        e.line,
        e.name,
        e.transport
    );
    if let Some(url) = &e.url {
        s.push_str(&format!(" url={url}"));
    }
    if let Some(c) = &e.command {
        s.push_str(&format!(" command={c}"));
    }
    if !e.enabled {
        s.push_str(" off");
    }
    if let Some(m) = &e.mcp_remote {
        s.push_str(&format!(
            " mcp-remote={}",
            serde_json::to_string(m).unwrap()
        ));
    }
    if !e.auth.is_empty() {
        s.push_str(&format!(
            " auth={}",
            serde_json::to_string(&e.auth).unwrap()
        ));
    }
    s
}

#[test]
fn fixture_home_gives_the_exact_inventory() {
    let root = fixtures();
    let inv = fixture_inventory();
    assert!(inv.errors.is_empty(), "{:#?}", inv.errors);

    let got: Vec<Described> = inv
        .servers
        .iter()
        .map(|s| {
            (
                s.url.clone(),
                s.url_problem.clone(),
                s.names.clone(),
                s.used_by.iter().map(|e| describe(e, &root)).collect(),
            )
        })
        .collect();
    let placeholder = "it holds a placeholder that the tool fills in when it starts, so Latchkey cannot tell which server it is";
    #[rustfmt::skip]
    let expected: Vec<Expected> = vec![
        ("http://localhost:8931/mcp", None, vec!["local-dev"], vec![
            r#"claude-code user home/.claude.json:23 "local-dev" http url=http://localhost:8931/mcp"#,
        ]),
        ("https://api.githubcopilot.com/mcp", None, vec!["github"], vec![
            r#"claude-code project:projects/webapp projects/webapp/.mcp.json:3 "github" http url=https://api.githubcopilot.com/mcp/ auth={"headers":[{"name":"Authorization","value":"Bearer ${GITHUB_PAT}"}]}"#,
            r#"vs-code user home/.config/Code/User/mcp.json:12 "github" http url=https://api.githubcopilot.com/mcp auth={"headers":[{"name":"Authorization","value":"Bearer ${input:github-pat}"}]}"#,
            r#"gemini-cli user home/.gemini/settings.json:11 "github" http url=https://api.githubcopilot.com/mcp/ auth={"headers":[{"name":"Authorization","value":"[set]"}]}"#,
            r#"codex user home/.codex/config.toml:14 "github" http url=https://api.githubcopilot.com/mcp/ auth={"headers":[{"name":"Authorization","value":"Bearer ${GITHUB_PAT}"}]}"#,
        ]),
        ("https://experimental.example.org/mcp", None, vec!["experimental"], vec![
            r#"gemini-cli user home/.gemini/settings.json:39 "experimental" http url=https://experimental.example.org/mcp off"#,
        ]),
        ("https://gitlab.example.com/api/v4/mcp", None, vec!["gitlab"], vec![
            r#"claude-code local:/home/alice/code/webapp home/.claude.json:36 "gitlab" http url=https://gitlab.example.com/api/v4/mcp auth={"headers_helper":"latchkey headers"}"#,
            r#"vs-code project:projects/webapp projects/webapp/.vscode/mcp.json:4 "gitlab" http url=https://gitlab.example.com/api/v4/mcp/"#,
            r#"gemini-cli user home/.gemini/settings.json:22 "gitlab" http url=https://gitlab.example.com/api/v4/mcp auth={"oauth":{"enabled":true,"client_id":"gemini-gitlab-app","scopes":["read_api","read_user"],"redirect_uri":"http://localhost:7777/oauth/callback"}}"#,
            r#"codex user home/.codex/config.toml:9 "gitlab" http url=https://gitlab.example.com/api/v4/mcp auth={"oauth":{"client_id":"codex-gitlab-app","scopes":["read_api"]}}"#,
            r#"zed user home/.config/zed/settings.json:9 "gitlab" http url=https://GitLab.example.com:443/api/v4/mcp auth={"oauth":{"client_id":"zed-gitlab"}}"#,
        ]),
        ("https://internal.example.net/mcp?tenant=acme", None, vec!["internal"], vec![
            r#"claude-desktop user home/.config/Claude/claude_desktop_config.json:22 "internal" http url=https://internal.example.net/mcp?tenant=acme mcp-remote={"package":"mcp-remote","transport_strategy":"http-only","flags":["--header","--transport"]} auth={"headers":[{"name":"Authorization","value":"${AUTH}"}]}"#,
            r#"zed user home/.config/zed/settings.json:13 "internal" http url=https://internal.example.net/mcp?tenant=acme auth={"headers":[{"name":"Authorization","value":"[set]"},{"name":"X-Team","value":"[set]"}]}"#,
        ]),
        ("https://mcp.atlassian.com/v1/sse", None, vec!["atlassian"], vec![
            r#"claude-code project:projects/api-server projects/api-server/.mcp.json:3 "atlassian" sse url=https://mcp.atlassian.com/v1/sse"#,
            r#"claude-desktop user home/.config/Claude/claude_desktop_config.json:7 "atlassian" sse url=https://mcp.atlassian.com/v1/sse mcp-remote={"package":"mcp-remote@0.1.29","transport_strategy":"sse-only","callback_port":3334,"flags":["--transport","--resource","--static-oauth-client-info"]} auth={"oauth":{"client_id":"atl-desktop-7","client_secret":"[set]","resource":"https://acme.atlassian.net/"}}"#,
            r#"gemini-cli user home/.gemini/settings.json:18 "atlassian" sse url=https://mcp.atlassian.com/v1/sse"#,
            r#"windsurf user home/.codeium/windsurf/mcp_config.json:6 "atlassian" http url=https://mcp.atlassian.com/v1/sse"#,
        ]),
        ("https://mcp.linear.app/mcp", None, vec!["linear"], vec![
            r#"claude-code user home/.claude.json:13 "linear" http url=https://mcp.linear.app/mcp"#,
            r#"claude-desktop user home/.config/Claude/claude_desktop_config.json:3 "linear" http url=https://mcp.linear.app/mcp mcp-remote={"package":"mcp-remote"}"#,
            r#"cursor user home/.cursor/mcp.json:3 "linear" http url=https://MCP.Linear.app/mcp/ auth={"headers":[{"name":"Authorization","value":"Bearer ${env:LINEAR_API_KEY}"}]}"#,
            r#"gemini-cli project:projects/webapp projects/webapp/.gemini/settings.json:4 "linear" http url=https://mcp.linear.app/mcp"#,
            r#"windsurf user home/.codeium/windsurf/mcp_config.json:3 "linear" http url=https://mcp.linear.app/mcp/"#,
        ]),
        ("https://mcp.notion.com/mcp", None, vec!["notion"], vec![
            r#"codex user home/.codex/config.toml:26 "notion" http url=https://mcp.notion.com/mcp off auth={"headers":[{"name":"Notion-Version","value":"[set]"},{"name":"X-Workspace","value":"${NOTION_WORKSPACE}"}]}"#,
            r#"windsurf user home/.codeium/windsurf/mcp_config.json:9 "notion" http url=https://MCP.NOTION.COM/mcp off auth={"headers":[{"name":"Authorization","value":"Bearer ${env:NOTION_TOKEN}"}]}"#,
        ]),
        ("https://mcp.sentry.dev/mcp", None, vec!["sentry"], vec![
            r#"claude-code local:/home/alice/code/api-server home/.claude.json:50 "sentry" http url=https://mcp.sentry.dev/mcp auth={"oauth":{"client_id":"sentry-cli-123","scopes":["org:read","project:read","event:read"],"callback_port":8765}}"#,
            r#"cursor project:projects/webapp projects/webapp/.cursor/mcp.json:3 "sentry" http url=https://mcp.sentry.dev/mcp auth={"oauth":{"client_id":"${env:SENTRY_CLIENT_ID}","client_secret":"${env:SENTRY_CLIENT_SECRET}","scopes":["org:read","project:read"]}}"#,
            r#"codex project:projects/webapp projects/webapp/.codex/config.toml:1 "sentry" http url=https://mcp.sentry.dev/mcp auth={"oauth":{"resource":"https://mcp.sentry.dev/mcp"}}"#,
            r#"zed project:projects/webapp projects/webapp/.zed/settings.json:3 "sentry" http url=https://mcp.sentry.dev/mcp/ off"#,
        ]),
        ("https://tools-abc123-uc.a.run.app/mcp", None, vec!["cloud-run-tools"], vec![
            r#"gemini-cli user home/.gemini/settings.json:31 "cloud-run-tools" http url=https://tools-abc123-uc.a.run.app/mcp auth={"oauth":{"scopes":["https://www.googleapis.com/auth/userinfo.email"],"provider":"google_credentials"}}"#,
        ]),
        ("${env:STAGING_MCP_URL}/mcp", Some(placeholder), vec!["staging-api"], vec![
            r#"cursor user home/.cursor/mcp.json:9 "staging-api" http url=${env:STAGING_MCP_URL}/mcp"#,
        ]),
    ];
    let expected: Vec<Described> = expected
        .into_iter()
        .map(|(u, p, n, e)| {
            (
                u.to_string(),
                p.map(str::to_string),
                n.into_iter().map(str::to_string).collect(),
                e.into_iter().map(str::to_string).collect(),
            )
        })
        .collect();
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g, e);
    }
    assert_eq!(got, expected);

    #[rustfmt::skip]
    let expected_local = [
        r#"claude-code user home/.claude.json:17 "filesystem" stdio command=npx"#,
        r#"claude-code local:/home/alice/code/api-server home/.claude.json:59 "postgres" stdio command=uvx"#,
        r#"claude-code project:projects/webapp projects/webapp/.mcp.json:10 "playwright" stdio command=npx"#,
        r#"claude-desktop user home/.config/Claude/claude_desktop_config.json:37 "sqlite" stdio command=uvx"#,
        r#"cursor user home/.cursor/mcp.json:12 "playwright" stdio command=npx"#,
        r#"vs-code user home/.config/Code/User/mcp.json:20 "memory" stdio command=npx"#,
        r#"gemini-cli user home/.gemini/settings.json:42 "pythonTools" stdio command=python"#,
        r#"codex user home/.codex/config.toml:18 "docs-search" stdio command=uvx"#,
        r#"windsurf user home/.codeium/windsurf/mcp_config.json:16 "git" stdio command=uvx"#,
        r#"zed user home/.config/zed/settings.json:20 "local-notes" stdio command=node"#,
        r#"zed user home/.config/zed/settings.json:25 "mcp-server-context7" stdio command=(Zed extension)"#,
    ];
    let local: Vec<String> = inv.local.iter().map(|e| describe(e, &root)).collect();
    assert_eq!(local, expected_local);

    // Every file of the fixture was read, in tool order, user files first.
    let files: Vec<String> = inv
        .files
        .iter()
        .map(|f| f.file.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    assert_eq!(
        files,
        [
            "home/.claude.json",
            "projects/webapp/.mcp.json",
            "projects/api-server/.mcp.json",
            "home/.config/Claude/claude_desktop_config.json",
            "home/.cursor/mcp.json",
            "projects/webapp/.cursor/mcp.json",
            "home/.config/Code/User/mcp.json",
            "projects/webapp/.vscode/mcp.json",
            "home/.gemini/settings.json",
            "projects/webapp/.gemini/settings.json",
            "home/.codex/config.toml",
            "projects/webapp/.codex/config.toml",
            "home/.codeium/windsurf/mcp_config.json",
            "home/.config/zed/settings.json",
            "projects/webapp/.zed/settings.json",
        ]
    );
}

#[test]
fn the_inventory_serializes_for_the_app() {
    let inv = fixture_inventory();
    let v = serde_json::to_value(&inv).unwrap();
    let linear = v["servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["url"] == "https://mcp.linear.app/mcp")
        .unwrap();
    assert_eq!(linear["used_by"][0]["tool"], "claude-code");
    assert_eq!(linear["used_by"][0]["scope"]["kind"], "user");
    assert_eq!(linear["used_by"][0]["transport"], "http");
    let back: Inventory = serde_json::from_value(v).unwrap();
    assert_eq!(back, inv);
    // No secret written in a fixture file appears anywhere in the inventory.
    let text = serde_json::to_string(&inv).unwrap();
    for secret in ["fixture-token-not-real", "fixture-secret-not-real"] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
}

/// Copies a folder tree.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A temporary copy of the fixture home and projects, with its locations.
fn fixture_copy() -> (tempfile::TempDir, Locations) {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&fixtures().join("home"), &tmp.path().join("home"));
    copy_tree(&fixtures().join("projects"), &tmp.path().join("projects"));
    let loc = locations(
        &tmp.path().join("home"),
        &[
            tmp.path().join("projects/webapp"),
            tmp.path().join("projects/api-server"),
        ],
    );
    (tmp, loc)
}

/// (file, line, column, words the message must contain, remote+local servers still read
/// from that same file).
#[rustfmt::skip]
const MALFORMED: [(&str, usize, usize, &str, usize); 9] = [
    ("home/.claude.json", 46, 7, "the file ends before every { and [ is closed", 0),
    ("projects/webapp/.mcp.json", 10, 5, "comments are not allowed", 0),
    ("home/.config/Claude/claude_desktop_config.json", 40, 6, "a comma before a closing } or ] is not allowed", 0),
    ("home/.cursor/mcp.json", 8, 6, "a comma is missing", 0),
    ("home/.config/Code/User/mcp.json", 19, 5, "unterminated comment", 0),
    ("home/.gemini/settings.json", 10, 17, "\"mcpServers\" should be an object of servers", 0),
    ("home/.codex/config.toml", 14, 20, "not valid TOML: unclosed table", 0),
    ("home/.codeium/windsurf/mcp_config.json", 1, 1, "the file is empty", 0),
    // One server's "url" is a number: that server is left out, the file's 3 others are read.
    ("home/.config/zed/settings.json", 14, 14, "\"url\" should be text, but is a number", 3),
];

#[test]
fn each_malformed_file_gives_one_clear_error_and_hides_nothing_else() {
    let valid = {
        let (_tmp, loc) = fixture_copy();
        let scan = tools::scan(&loc);
        assert!(scan.errors.is_empty());
        scan.entries
            .into_iter()
            .map(|e| {
                (
                    e.file.strip_prefix(_tmp.path()).unwrap().to_path_buf(),
                    e.name,
                )
            })
            .collect::<Vec<_>>()
    };
    for (rel, line, column, words, left) in MALFORMED {
        let (tmp, loc) = fixture_copy();
        std::fs::copy(fixtures().join("malformed").join(rel), tmp.path().join(rel)).unwrap();
        let scan = tools::scan(&loc);
        assert_eq!(scan.errors.len(), 1, "{rel}: {:#?}", scan.errors);
        let e = &scan.errors[0];
        assert_eq!(e.file, tmp.path().join(rel), "{rel}");
        assert_eq!((e.line, e.column), (Some(line), Some(column)), "{rel}: {e}");
        assert!(e.message.contains(words), "{rel}: {e}");
        let tool = scan
            .files_read
            .iter()
            .find(|s| s.path == tmp.path().join(rel))
            .unwrap()
            .tool();
        assert_eq!(e.tool, tool);
        // Every other file gives exactly what it gave before.
        let got: Vec<(PathBuf, String)> = scan
            .entries
            .iter()
            .map(|e| {
                (
                    e.file.strip_prefix(tmp.path()).unwrap().to_path_buf(),
                    e.name.clone(),
                )
            })
            .collect();
        let others = |v: &[(PathBuf, String)]| -> Vec<(PathBuf, String)> {
            v.iter()
                .filter(|(f, _)| f != Path::new(rel))
                .cloned()
                .collect()
        };
        assert_eq!(others(&got), others(&valid), "{rel}");
        assert_eq!(got.len() - others(&got).len(), left, "{rel}");
        // The message names the file and the line.
        let shown = e.to_string();
        assert!(
            shown.contains(rel) && shown.contains(&format!("line {line}")),
            "{shown}"
        );
    }
}

#[test]
fn the_malformed_home_lists_every_problem_at_once() {
    let m = fixtures().join("malformed");
    let inv = inventory::scan(&locations(&m.join("home"), &[m.join("projects/webapp")]));
    let mut got: Vec<(String, Option<usize>)> = inv
        .errors
        .iter()
        .map(|e| {
            (
                e.file.strip_prefix(&m).unwrap().display().to_string(),
                e.line,
            )
        })
        .collect();
    got.sort();
    let mut expected: Vec<(String, Option<usize>)> = MALFORMED
        .iter()
        .map(|(f, l, ..)| (f.to_string(), Some(*l)))
        .collect();
    expected.sort();
    assert_eq!(got, expected);
    // What is still readable is still there: Zed's GitLab server.
    assert_eq!(inv.servers.len(), 1);
    assert_eq!(inv.servers[0].url, "https://gitlab.example.com/api/v4/mcp");
}

/// Every kind of source with its fixture file.
fn fixture_sources() -> Vec<(Source, Vec<u8>)> {
    let root = fixtures();
    let files = [
        (SourceKind::ClaudeCodeUser, "home/.claude.json"),
        (SourceKind::ClaudeCodeProject, "projects/webapp/.mcp.json"),
        (
            SourceKind::ClaudeDesktop,
            "home/.config/Claude/claude_desktop_config.json",
        ),
        (SourceKind::Cursor, "home/.cursor/mcp.json"),
        (SourceKind::VsCode, "home/.config/Code/User/mcp.json"),
        (SourceKind::GeminiCli, "home/.gemini/settings.json"),
        (SourceKind::Codex, "home/.codex/config.toml"),
        (
            SourceKind::Windsurf,
            "home/.codeium/windsurf/mcp_config.json",
        ),
        (SourceKind::Zed, "home/.config/zed/settings.json"),
    ];
    files
        .into_iter()
        .map(|(kind, rel)| {
            (
                Source {
                    kind,
                    path: root.join(rel),
                    config_scope: ConfigScope::User,
                },
                std::fs::read(root.join(rel)).unwrap(),
            )
        })
        .collect()
}

#[test]
fn no_input_panics_truncated_or_garbled() {
    // A small deterministic generator (xorshift), so a failure can be replayed.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let junk: [&[u8]; 13] = [
        "{\"mcpServers\": {\"a\": {\"type\": \"http\", \"url\": \"https://\u{e9}\", \"headers\": {\"X\": \"abcdef\u{e9}x\", \"Y\": \"Bearer \u{e9}\"}, \"headersHelper\": \"x bearer \u{e9}\"}}}".as_bytes(),
        b"",
        b"   \n",
        b"\xff\xfe{}",
        b"\xef\xbb\xbf{\"mcpServers\":{}}",
        b"null",
        b"[]",
        b"{\"mcpServers\": null, \"servers\": 3, \"context_servers\": [], \"projects\": \"x\"}",
        b"{\"mcpServers\": {\"a\": {\"command\": \"npx\", \"args\": [\"mcp-remote\"]}}}",
        b"{\"mcpServers\": {\"a\": {\"command\": \"npx\", \"args\": [\"mcp-remote\", \"--header\"]}}}",
        b"{\"mcpServers\": {\"a\": {\"type\": \"http\", \"url\": \"\", \"oauth\": {\"callbackPort\": 1e99}}}}",
        b"[mcp_servers.a]\nurl = 1\n[mcp_servers.b]\ncommand = []\n",
        b"{\"a\":\"\\ud800\"}",
    ];
    let mut runs = 0usize;
    for (source, bytes) in fixture_sources() {
        let full = parse_source(&source, &bytes);
        assert!(full.errors.is_empty(), "{:?}", full.errors);
        assert!(!full.entries.is_empty());
        // Every cut: a file caught half-written.
        for cut in 0..bytes.len() {
            let r = parse_source(&source, &bytes[..cut]);
            // A cut file is either an error or a complete smaller file; never both silent
            // and empty-handed for a cut inside the server list.
            for e in &r.errors {
                assert!(e.line.is_some(), "{e}");
            }
            runs += 1;
        }
        // Random damage: bytes flipped, removed, or duplicated.
        for _ in 0..600 {
            let mut b = bytes.clone();
            for _ in 0..1 + next() % 4 {
                let i = (next() as usize) % b.len();
                match next() % 3 {
                    0 => b[i] = (next() % 256) as u8,
                    1 => {
                        b.remove(i);
                    }
                    _ => {
                        let c = b[i];
                        b.insert(i, c);
                    }
                }
            }
            let _ = parse_source(&source, &b);
            runs += 1;
        }
        for j in junk {
            let _ = parse_source(&source, j);
            runs += 1;
        }
        // Deep nesting of every kind.
        let deep = format!(
            "{{\"mcpServers\": {}{}}}",
            "[".repeat(3000),
            "]".repeat(3000)
        );
        let _ = parse_source(&source, deep.as_bytes());
        let deep = format!("mcp_servers = {}{}", "[".repeat(3000), "]".repeat(3000));
        let _ = parse_source(&source, deep.as_bytes());
    }
    assert!(runs > 10_000);
}

#[test]
fn claude_code_known_projects_are_read_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let project = tmp.path().join("work/shop");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(project.join(".cursor")).unwrap();
    std::fs::write(
        home.join(".claude.json"),
        serde_json::json!({ "projects": { project.to_str().unwrap(): { "mcpServers": {} } } })
            .to_string(),
    )
    .unwrap();
    std::fs::write(
        project.join(".cursor/mcp.json"),
        r#"{"mcpServers": {"shop": {"url": "https://shop.example/mcp"}}}"#,
    )
    .unwrap();
    let mut loc = locations(&home, &[]);
    assert!(inventory::scan(&loc).servers.is_empty());
    loc.known_projects = true;
    let inv = inventory::scan(&loc);
    assert_eq!(inv.projects, std::slice::from_ref(&project));
    assert_eq!(inv.servers.len(), 1);
    assert_eq!(
        inv.servers[0].used_by[0].config_scope,
        ConfigScope::Project { project }
    );
}

#[test]
fn claude_config_dir_and_codex_home_move_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let claude = tmp.path().join("claude-config");
    let codex = tmp.path().join("codex-home");
    for d in [&home, &claude, &codex] {
        std::fs::create_dir_all(d).unwrap();
    }
    let server =
        |url: &str| format!(r#"{{"mcpServers": {{"a": {{"type": "http", "url": "{url}"}}}}}}"#);
    std::fs::write(
        home.join(".claude.json"),
        server("https://ignored.example/mcp"),
    )
    .unwrap();
    std::fs::write(
        claude.join(".claude.json"),
        server("https://claude.example/mcp"),
    )
    .unwrap();
    std::fs::write(
        codex.join("config.toml"),
        "[mcp_servers.b]\nurl = \"https://codex.example/mcp\"\n",
    )
    .unwrap();
    let mut loc = locations(&home, &[]);
    loc.claude_config_dir = Some(claude.clone());
    loc.codex_home = Some(codex.clone());
    let inv = inventory::scan(&loc);
    let urls: Vec<&str> = inv.servers.iter().map(|s| s.url.as_str()).collect();
    assert_eq!(
        urls,
        ["https://claude.example/mcp", "https://codex.example/mcp"]
    );
    assert_eq!(inv.servers[0].used_by[0].file, claude.join(".claude.json"));
    assert_eq!(inv.servers[1].used_by[0].tool, Tool::Codex);
}

#[test]
fn per_os_default_paths() {
    let mac = Locations::for_home_on("/Users/al", Os::MacOs);
    let win = Locations::for_home_on("C:/Users/al", Os::Windows);
    let lin = Locations::for_home_on("/home/al", Os::Linux);
    let paths = |loc: &Locations| -> Vec<PathBuf> {
        tools::user_sources(loc)
            .into_iter()
            .map(|s| s.path)
            .collect()
    };
    assert_eq!(
        paths(&mac),
        [
            "/Users/al/.claude.json",
            "/Users/al/Library/Application Support/Claude/claude_desktop_config.json",
            "/Users/al/.cursor/mcp.json",
            "/Users/al/Library/Application Support/Code/User/mcp.json",
            "/Users/al/.gemini/settings.json",
            "/Users/al/.codex/config.toml",
            "/Users/al/.codeium/windsurf/mcp_config.json",
            "/Users/al/.config/zed/settings.json",
        ]
        .map(PathBuf::from)
    );
    let win_paths = paths(&win);
    assert_eq!(
        win_paths[1],
        Path::new("C:/Users/al/AppData/Roaming/Claude/claude_desktop_config.json")
    );
    assert_eq!(
        win_paths[3],
        Path::new("C:/Users/al/AppData/Roaming/Code/User/mcp.json")
    );
    assert_eq!(
        win_paths[7],
        Path::new("C:/Users/al/AppData/Roaming/Zed/settings.json")
    );
    assert_eq!(
        paths(&lin)[3],
        Path::new("/home/al/.config/Code/User/mcp.json")
    );
}

#[test]
fn unreadable_sources_are_errors_missing_ones_are_not() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    // A folder where Cursor's file should be, and a file that is not UTF-8.
    std::fs::create_dir_all(home.join(".cursor/mcp.json")).unwrap();
    std::fs::create_dir_all(home.join(".gemini")).unwrap();
    std::fs::write(
        home.join(".gemini/settings.json"),
        b"{\n  \"mcpServers\": {\"a\": {\"url\": \"https://x/\xff\"}}\n}",
    )
    .unwrap();
    let inv = inventory::scan(&locations(home, &[]));
    let errors: Vec<(Tool, Option<usize>, &str)> = inv
        .errors
        .iter()
        .map(|e| (e.tool, e.line, e.message.as_str()))
        .collect();
    assert_eq!(
        errors,
        [
            (
                Tool::Cursor,
                None,
                "this is a folder, where a file was expected"
            ),
            (Tool::GeminiCli, Some(2), "the file is not UTF-8 text"),
        ]
    );
    assert!(inv.servers.is_empty());
}

#[test]
fn mcp_remote_is_recognised_in_every_tool_that_runs_commands() {
    let source = |kind| Source {
        kind,
        path: PathBuf::from("/x"),
        config_scope: ConfigScope::User,
    };
    let json = br#"{"mcpServers": {"r": {"command": "bunx", "args": ["mcp-remote@latest", "https://r.example/mcp", "--transport", "sse-first"]}}}"#;
    for kind in [
        SourceKind::ClaudeCodeUser,
        SourceKind::ClaudeDesktop,
        SourceKind::Cursor,
        SourceKind::GeminiCli,
        SourceKind::Windsurf,
    ] {
        let r = parse_source(&source(kind), json);
        assert!(r.errors.is_empty(), "{kind:?}: {:?}", r.errors);
        assert_eq!(r.entries[0].url.as_deref(), Some("https://r.example/mcp"));
        assert_eq!(r.entries[0].transport, tools::Transport::Sse);
        assert_eq!(
            r.entries[0].mcp_remote.as_ref().unwrap().package,
            "mcp-remote@latest"
        );
    }
    let toml = b"[mcp_servers.r]\ncommand = \"npx\"\nargs = [\"-y\", \"mcp-remote\", \"https://r.example/mcp\"]\n";
    let r = parse_source(&source(SourceKind::Codex), toml);
    assert_eq!(r.entries[0].url.as_deref(), Some("https://r.example/mcp"));
}

#[test]
fn problems_inside_a_file_are_explained() {
    let source = |kind| Source {
        kind,
        path: PathBuf::from("/x"),
        config_scope: ConfigScope::User,
    };
    let cases: [(SourceKind, &str, &str); 6] = [
        (
            SourceKind::ClaudeCodeUser,
            r#"{"mcpServers": {"a": {"url": "https://a/mcp"}}}"#,
            "Claude Code needs \"type\": \"http\"",
        ),
        (
            SourceKind::ClaudeDesktop,
            r#"{"mcpServers": {"a": {"url": "https://a/mcp"}}}"#,
            "Claude Desktop only starts local commands",
        ),
        (
            SourceKind::Codex,
            "[mcp_servers.a]\nurl = \"https://a/mcp\"\ncommand = \"x\"\n",
            "both \"command\" and \"url\"",
        ),
        (
            SourceKind::Codex,
            "[mcp_servers.a]\nurl = \"https://a/mcp\"\nbearer_token = \"abc\"\n",
            "Codex refuses an inline \"bearer_token\"",
        ),
        (
            SourceKind::VsCode,
            r#"{"servers": {"a": {"type": "websocket", "url": "wss://a"}}}"#,
            "not one VS Code knows",
        ),
        (
            SourceKind::Cursor,
            r#"{"mcpServers": {"a": "https://a/mcp"}}"#,
            "should be an object",
        ),
    ];
    for (kind, text, words) in cases {
        let r = parse_source(&source(kind), text.as_bytes());
        assert_eq!(r.errors.len(), 1, "{kind:?}: {:?}", r.errors);
        assert!(
            r.errors[0].message.contains(words),
            "{kind:?}: {}",
            r.errors[0]
        );
        assert_eq!(r.errors[0].server.as_deref(), Some("a"));
        assert!(!r.errors[0].message.contains("abc"));
    }
}
