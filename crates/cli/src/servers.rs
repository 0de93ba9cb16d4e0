//! `latchkey servers`: the remote MCP servers the AI tools on this computer are configured
//! with, each once, with the tools that use it; local servers counted; unreadable files named.

use clap::Args;
use latchkey_core::usecase::{
    AuthSettings, ConfigScope, Inventory, Latchkey, Locations, OAuthSettings, ServerEntry, Tool,
    Transport,
};
use latchkey_core::Error;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct ServersArgs {
    /// Read the tools' files under this folder instead of your home folder (the environment's
    /// CLAUDE_CONFIG_DIR, CODEX_HOME, XDG_CONFIG_HOME and APPDATA are then ignored).
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Also read this project folder's files (.mcp.json, .cursor/, .vscode/, .gemini/, .codex/,
    /// .zed/). Repeatable. Default: the current folder.
    #[arg(long = "project", value_name = "DIR")]
    pub projects: Vec<PathBuf>,
    /// Do not read the projects Claude Code knows about (the "projects" in ~/.claude.json).
    #[arg(long)]
    pub no_known_projects: bool,
}

/// The files to read, from the flags and the environment.
pub fn locations(args: &ServersArgs) -> Locations {
    let mut loc = match &args.home {
        Some(home) => {
            let mut l = Locations::for_home(absolute(home));
            l.known_projects = true;
            l
        }
        None => Locations::from_env(),
    };
    loc.projects = if args.projects.is_empty() {
        std::env::current_dir().into_iter().collect()
    } else {
        args.projects.iter().map(|p| absolute(p)).collect()
    };
    if args.no_known_projects {
        loc.known_projects = false;
    }
    loc
}

pub fn run(args: &ServersArgs, json: bool) -> Result<(), Error> {
    let loc = locations(args);
    let inv = Latchkey::from_env().with_locations(loc.clone()).inventory();
    let text = if json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            ok: bool,
            inventory: &'a Inventory,
            /// Per tool in use: the handoff command, or null when it signs in by itself.
            handoff: BTreeMap<&'static str, Option<&'static str>>,
        }
        let handoff = tools_in_use(&inv)
            .into_iter()
            .map(|t| (t.display_name(), t.handoff()))
            .collect();
        let mut t = serde_json::to_string_pretty(&Out {
            ok: true,
            inventory: &inv,
            handoff,
        })
        .unwrap_or_default();
        t.push('\n');
        t
    } else {
        render(&inv, &loc.home, &loc.projects)
    };
    // A closed pipe (`latchkey servers | head`) is not an error worth a panic.
    let _ = std::io::stdout()
        .lock()
        .write_all(crate::term::clean(&text).as_bytes());
    Ok(())
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// How paths are shown: `~/...` under the home folder, relative under the current folder.
struct Paths {
    home: PathBuf,
    cwd: Option<PathBuf>,
}

impl Paths {
    fn show(&self, p: &Path) -> String {
        if !self.home.as_os_str().is_empty() {
            if let Ok(rest) = p.strip_prefix(&self.home) {
                return if rest.as_os_str().is_empty() {
                    "~".into()
                } else {
                    format!("~/{}", rest.display())
                };
            }
        }
        if let Some(cwd) = &self.cwd {
            if let Ok(rest) = p.strip_prefix(cwd) {
                if !rest.as_os_str().is_empty() {
                    return rest.display().to_string();
                }
            }
        }
        p.display().to_string()
    }
}

/// The inventory for people. `explicit` are the project folders that were asked for (the
/// others came from Claude Code's list of projects).
pub fn render(inv: &Inventory, home: &Path, explicit: &[PathBuf]) -> String {
    let paths = Paths {
        home: home.to_path_buf(),
        cwd: std::env::current_dir().ok(),
    };
    let mut out = String::new();
    let n = inv.servers.len();
    if n == 0 {
        out.push_str("No remote MCP servers are configured in your AI tools.\n");
    } else {
        let tools: std::collections::BTreeSet<Tool> = inv
            .servers
            .iter()
            .flat_map(|s| s.used_by.iter().map(|e| e.tool))
            .collect();
        out.push_str(&format!(
            "{} remote MCP server{}, used by {} tool{}:\n",
            n,
            plural(n),
            tools.len(),
            plural(tools.len())
        ));
    }
    let mut redacted = false;
    for s in &inv.servers {
        out.push('\n');
        out.push_str(&s.url);
        out.push('\n');
        if let Some(p) = &s.url_problem {
            out.push_str(&format!("  (shown as written: {p})\n"));
        }
        let width = s
            .used_by
            .iter()
            .map(|e| e.tool.display_name().len())
            .max()
            .unwrap_or(0);
        for e in &s.used_by {
            out.push_str(&format!(
                "  {:width$}  {}\n",
                e.tool.display_name(),
                use_line(e, &paths)
            ));
            for detail in auth_lines(e) {
                redacted |= detail.contains("[set]");
                out.push_str(&format!("  {:width$}    {detail}\n", ""));
            }
        }
    }
    if redacted {
        out.push_str(
            "\n[set] stands for a value written in the file itself (a token or other secret is never shown).\n",
        );
    }
    if !inv.local.is_empty() {
        let mut by_tool: BTreeMap<Tool, usize> = BTreeMap::new();
        for e in &inv.local {
            *by_tool.entry(e.tool).or_default() += 1;
        }
        let parts: Vec<String> = by_tool.iter().map(|(t, n)| format!("{t} {n}")).collect();
        out.push_str(&format!(
            "\nAlso {} local server{} (programs the tools start on this computer; no sign-in needed): {}.\n",
            inv.local.len(),
            plural(inv.local.len()),
            parts.join(", ")
        ));
    }
    if !inv.errors.is_empty() {
        let files: std::collections::BTreeSet<&Path> =
            inv.errors.iter().map(|e| e.file.as_path()).collect();
        out.push_str(&format!(
            "\n{} problem{} in {} file{} (everything else was read):\n",
            inv.errors.len(),
            plural(inv.errors.len()),
            files.len(),
            plural(files.len())
        ));
        for e in &inv.errors {
            let mut place = paths.show(&e.file);
            if let Some(line) = e.line {
                place.push_str(&format!(", line {line}"));
                if let Some(col) = e.column {
                    place.push_str(&format!(", column {col}"));
                }
            }
            let server = e
                .server
                .as_ref()
                .map(|s| format!("server {s:?}: "))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {} ({place}):\n    {server}{}\n",
                e.tool, e.message
            ));
        }
    }
    let known = inv
        .projects
        .iter()
        .filter(|p| !explicit.contains(p))
        .count();
    let asked: Vec<String> = inv
        .projects
        .iter()
        .filter(|p| explicit.contains(p))
        .map(|p| paths.show(p))
        .collect();
    let mut places = vec![paths.show(home)];
    match asked.len() {
        0 => {}
        1 => places.push(format!("the project folder {}", asked[0])),
        _ => places.push(format!("the project folders {}", asked.join(", "))),
    }
    if known > 0 {
        places.push(format!(
            "{known} {}project folder{} Claude Code knows about",
            if asked.is_empty() { "" } else { "more " },
            plural(known)
        ));
    }
    let last = places.pop().unwrap_or_default();
    let places = if places.is_empty() {
        last
    } else {
        format!("{} and {last}", places.join(", "))
    };
    let tools = tools_in_use(inv);
    if !tools.is_empty() {
        out.push_str("\nHow each tool gets its token:\n");
        let width = tools
            .iter()
            .map(|t| t.display_name().len())
            .max()
            .unwrap_or(0);
        for t in tools {
            let how = match t.handoff() {
                Some(cmd) => format!("Latchkey can hand it one: {cmd} SERVER"),
                None => format!(
                    "signs in by itself; to use Latchkey's token (through latchkey bridge): latchkey connect SERVER --to {}",
                    crate::connect::tool_id(t)
                ),
            };
            out.push_str(&format!("  {:width$}  {how}\n", t.display_name()));
        }
    }
    out.push_str(&format!(
        "\nLooked in {places}: {} config file{} read.\n",
        inv.files.len(),
        plural(inv.files.len())
    ));
    out
}

/// The tools that use at least one remote server, in the usual order.
fn tools_in_use(inv: &Inventory) -> Vec<Tool> {
    Tool::ALL
        .into_iter()
        .filter(|t| {
            inv.servers
                .iter()
                .any(|s| s.used_by.iter().any(|e| e.tool == *t))
        })
        .collect()
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `"linear", all projects (~/.claude.json, line 13)` and what is special about this use.
fn use_line(e: &ServerEntry, paths: &Paths) -> String {
    let (scope, file) = match &e.config_scope {
        ConfigScope::User if e.tool == Tool::ClaudeDesktop => (String::new(), paths.show(&e.file)),
        ConfigScope::User => ("all projects".to_string(), paths.show(&e.file)),
        ConfigScope::Local { project } => (
            format!("project {}, only you", paths.show(project)),
            paths.show(&e.file),
        ),
        ConfigScope::Project { project } => (
            format!("project {}", paths.show(project)),
            e.file
                .strip_prefix(project)
                .map(|r| r.display().to_string())
                .unwrap_or_else(|_| paths.show(&e.file)),
        ),
    };
    let mut parts = vec![format!("{:?}", e.name)];
    if !scope.is_empty() {
        parts.push(scope);
    }
    match (&e.mcp_remote, e.transport) {
        (Some(_), _) => parts.push("through mcp-remote".into()),
        (None, _) if e.bridge => parts.push("through latchkey bridge".into()),
        (None, Transport::Sse) => parts.push("SSE".into()),
        _ => {}
    }
    if !e.enabled {
        parts.push("turned off".into());
    }
    format!("{} ({file}, line {})", parts.join(", "), e.line)
}

/// One line per auth setting the tool has for this server.
fn auth_lines(e: &ServerEntry) -> Vec<String> {
    let mut lines = Vec::new();
    let AuthSettings {
        headers,
        headers_helper,
        oauth,
    } = &e.auth;
    for h in headers {
        lines.push(format!("header {}: {}", h.name, h.value));
    }
    if let Some(h) = headers_helper {
        lines.push(format!("headers helper: {h}"));
    }
    if let Some(o) = oauth {
        let OAuthSettings {
            enabled,
            client_id,
            client_secret,
            scopes,
            callback_port,
            redirect_uri,
            authorization_url,
            token_url,
            auth_server_metadata_url,
            resource,
            provider,
        } = o;
        let mut parts = Vec::new();
        if *enabled == Some(false) {
            parts.push("turned off".to_string());
        }
        if let Some(p) = provider {
            parts.push(format!("provider {p}"));
        }
        if let Some(c) = client_id {
            parts.push(format!("client id {c}"));
        }
        if let Some(c) = client_secret {
            parts.push(format!("client secret {c}"));
        }
        if !scopes.is_empty() {
            parts.push(format!("scopes {}", scopes.join(" ")));
        }
        if let Some(p) = callback_port {
            parts.push(format!("callback port {p}"));
        }
        if let Some(r) = redirect_uri {
            parts.push(format!("redirect {r}"));
        }
        if let Some(u) = auth_server_metadata_url {
            parts.push(format!("metadata {u}"));
        }
        if let Some(u) = authorization_url {
            parts.push(format!("authorize at {u}"));
        }
        if let Some(u) = token_url {
            parts.push(format!("token at {u}"));
        }
        if let Some(r) = resource {
            parts.push(format!("resource {r}"));
        }
        if parts.is_empty() && *enabled == Some(true) {
            parts.push("on".into());
        }
        lines.push(format!("sign-in settings: {}", parts.join(", ")));
    }
    if let Some(m) = &e.mcp_remote {
        let mut parts = Vec::new();
        if m.package != "mcp-remote" {
            parts.push(m.package.clone());
        }
        if let Some(t) = &m.transport_strategy {
            parts.push(format!("--transport {t}"));
        }
        if let Some(p) = m.callback_port {
            parts.push(format!("callback port {p}"));
        }
        if let Some(h) = &m.callback_host {
            parts.push(format!("callback host {h}"));
        }
        if let Some(f) = &m.static_client_info_file {
            parts.push(format!("client info from {f}"));
        }
        if let Some(f) = &m.static_client_metadata_file {
            parts.push(format!("client metadata from {f}"));
        }
        let others: Vec<&str> = m
            .flags
            .iter()
            .map(String::as_str)
            .filter(|f| {
                !matches!(
                    *f,
                    "--header"
                        | "--transport"
                        | "--host"
                        | "--resource"
                        | "--static-oauth-client-info"
                        | "--static-oauth-client-metadata"
                )
            })
            .collect();
        if !others.is_empty() {
            parts.push(others.join(" "));
        }
        if !parts.is_empty() {
            lines.push(format!("mcp-remote: {}", parts.join(", ")));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_core::usecase::Os;

    fn fixture() -> (PathBuf, Inventory, Vec<PathBuf>) {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/configs")
            .canonicalize()
            .unwrap();
        let mut loc = Locations::for_home_on(root.join("home"), Os::Linux);
        loc.projects = vec![
            root.join("projects/webapp"),
            root.join("projects/api-server"),
        ];
        let inv = Latchkey::new(
            std::sync::Arc::new(latchkey_core::usecase::MemoryStore::default()),
            loc.clone(),
        )
        .inventory();
        (loc.home, inv, loc.projects)
    }

    #[test]
    fn every_remote_server_once_with_its_tools() {
        let (home, inv, projects) = fixture();
        let text = render(&inv, &home, &projects);
        // Every tool in use says whether Latchkey can hand it a token.
        assert!(
            text.contains(
                "Claude Code     Latchkey can hand it one: latchkey handoff claude-code SERVER"
            ),
            "{text}"
        );
        assert!(
            text.contains("Cursor          signs in by itself"),
            "{text}"
        );
        assert!(
            text.starts_with("11 remote MCP servers, used by 8 tools:\n"),
            "{text}"
        );
        for s in &inv.servers {
            let heading = format!("\n\n{}\n", s.url);
            assert_eq!(text.matches(&heading).count(), 1, "{}", s.url);
        }
        assert!(text.contains(
            "https://mcp.linear.app/mcp\n  Claude Code     \"linear\", all projects (~/.claude.json, line 13)\n"
        ));
        assert!(text.contains(
            "  Claude Desktop  \"linear\", through mcp-remote (~/.config/Claude/claude_desktop_config.json, line 3)\n"
        ));
        assert!(text.contains(
            "\"gitlab\", project /home/alice/code/webapp, only you (~/.claude.json, line 36)\n"
        ));
        assert!(text.contains("                 headers helper: latchkey headers\n"));
        assert!(text.contains("Also 11 local servers"));
        assert!(text.contains("[set] stands for a value written in the file itself"));
        assert!(
            !text.contains("fixture-token-not-real") && !text.contains("fixture-secret-not-real")
        );
        assert!(text.ends_with(": 15 config files read.\n"), "{text}");
    }

    #[test]
    fn problems_are_listed_per_file_in_plain_words() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/configs/malformed")
            .canonicalize()
            .unwrap();
        let loc = Locations::for_home_on(root.join("home"), Os::Linux);
        let inv = Latchkey::new(
            std::sync::Arc::new(latchkey_core::usecase::MemoryStore::default()),
            loc.clone(),
        )
        .inventory();
        let text = render(&inv, &loc.home, &[]);
        assert!(
            text.contains("8 problems in 8 files (everything else was read):\n"),
            "{text}"
        );
        assert!(text.contains(
            "  Cursor (~/.cursor/mcp.json, line 8, column 6):\n    not valid JSON: a comma is missing between two entries\n"
        ), "{text}");
        assert!(text.contains(
            "  Zed (~/.config/zed/settings.json, line 14, column 14):\n    server \"internal\": \"url\" should be text, but is a number\n"
        ), "{text}");
    }
}
