//! The AI tools' own config files: one module per tool reads the MCP servers configured in
//! it, with the tool's own auth settings (secrets redacted), and, for the tools that can take
//! a sign-in from Latchkey (Claude Code, Gemini CLI, Codex), writes what the tool reads,
//! without losing a byte of what was there.
//!
//! Reading and writing go through one [`ServerEntry`]: a writer edits the entry the reader
//! found, at its file and key path. Every path comes from [`Locations`], built from the
//! environment in one place and fully injectable, so tests never touch the real home folder.
//! A file that cannot be read or parsed gives a [`SourceError`] (which file, which line, what
//! is wrong) and never hides the other files.
//!
//! Adding a tool: one module here, registered in [`SourceKind`] (its files and how they are
//! read).

mod common;
mod locations;
mod tree;

pub mod json_edit;
pub mod keychain;

pub mod claude_code;
pub mod claude_desktop;
pub mod codex;
pub mod cursor;
pub mod gemini_cli;
pub mod vscode;
pub mod windsurf;
pub mod zed;

pub mod connections;
pub mod inventory;
pub mod watch;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use ts_rs::TS;

pub use common::{shell_quoted, shell_unquoted, shown_value, EntryEdit, Launch};
pub use locations::{Locations, Os, GEMINI_ENCRYPTED_STORE_ENV};

/// An AI tool whose MCP configuration Latchkey reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum Tool {
    /// Anthropic's Claude Code CLI.
    ClaudeCode,
    /// Anthropic's Claude Desktop app.
    ClaudeDesktop,
    /// The Cursor editor.
    Cursor,
    /// Visual Studio Code.
    VsCode,
    /// Google's Gemini CLI.
    GeminiCli,
    /// OpenAI's Codex CLI.
    Codex,
    /// The Windsurf editor.
    Windsurf,
    /// The Zed editor.
    Zed,
}

impl Tool {
    /// Every tool, in the order they are listed.
    pub const ALL: [Tool; 8] = [
        Tool::ClaudeCode,
        Tool::ClaudeDesktop,
        Tool::Cursor,
        Tool::VsCode,
        Tool::GeminiCli,
        Tool::Codex,
        Tool::Windsurf,
        Tool::Zed,
    ];

    /// How Latchkey gives this tool a token: the handoff command, or None when the tool has
    /// no way to read one and signs in by itself.
    pub fn handoff(self) -> Option<&'static str> {
        match self {
            Tool::ClaudeCode => Some("latchkey handoff claude-code"),
            Tool::GeminiCli => Some("latchkey handoff gemini-cli"),
            Tool::Codex => Some("latchkey handoff codex"),
            Tool::ClaudeDesktop | Tool::Cursor | Tool::VsCode | Tool::Windsurf | Tool::Zed => None,
        }
    }

    /// The tool's name as people know it.
    pub fn display_name(self) -> &'static str {
        match self {
            Tool::ClaudeCode => "Claude Code",
            Tool::ClaudeDesktop => "Claude Desktop",
            Tool::Cursor => "Cursor",
            Tool::VsCode => "VS Code",
            Tool::GeminiCli => "Gemini CLI",
            Tool::Codex => "Codex",
            Tool::Windsurf => "Windsurf",
            Tool::Zed => "Zed",
        }
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// How the tool talks to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// Streamable HTTP.
    Http,
    /// The older HTTP + Server-Sent Events transport.
    Sse,
    /// A local program the tool starts, talking over stdin/stdout.
    Stdio,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Http => "http",
            Transport::Sse => "sse",
            Transport::Stdio => "stdio",
        })
    }
}

/// Where a server is configured, in the tool's own terms: for the user, or for one project.
/// Not an OAuth scope (a permission a token carries), which is always called a scope list or
/// `scopes`. Named `Scope` in the UI's types, which predate the distinction.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(rename = "Scope")]
pub enum ConfigScope {
    /// For every project of this user (e.g. `~/.cursor/mcp.json`).
    User,
    /// For one project, kept in the user's own file, not shared (Claude Code's "local" scope:
    /// `projects[path].mcpServers` in `~/.claude.json`).
    Local {
        /// The project folder, as Claude Code keys it in `projects`.
        project: PathBuf,
    },
    /// For one project, in a file inside the project that may be shared with others
    /// (`.mcp.json`, `.cursor/mcp.json`, a VS Code workspace's `.vscode/mcp.json`, ...).
    Project {
        /// The project folder the file is in.
        project: PathBuf,
    },
}

impl ConfigScope {
    /// The project folder of a per-project scope; `None` for the user's own.
    pub fn project(&self) -> Option<&Path> {
        match self {
            ConfigScope::User => None,
            ConfigScope::Local { project } | ConfigScope::Project { project } => Some(project),
        }
    }
}

/// A header the tool sends. The value is never a secret: it is shown only when it is made of
/// placeholders (`${VAR}`, `${env:VAR}`, `${input:id}`, `$VAR`, optionally after a scheme word
/// such as `Bearer`); any other value is shown as `[set]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct HeaderSetting {
    /// The header's name, as written.
    pub name: String,
    /// The value as shown: placeholders as written, anything else `[set]`.
    pub value: String,
}

/// A tool's own OAuth settings for one server, where it has any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct OAuthSettings {
    /// Gemini CLI's `oauth.enabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub enabled: Option<bool>,
    /// The OAuth client id the tool signs in with (a pre-registered client).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub client_id: Option<String>,
    /// Only ever `[set]` or a placeholder, never the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub client_secret: Option<String>,
    /// The OAuth scopes the tool asks for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<String>>", optional)]
    pub scopes: Vec<String>,
    /// The port of the tool's local OAuth callback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub callback_port: Option<u16>,
    /// The redirect URI the tool registers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub redirect_uri: Option<String>,
    /// The authorization endpoint, when the tool is given one instead of discovering it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub authorization_url: Option<String>,
    /// The token endpoint, when the tool is given one instead of discovering it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub token_url: Option<String>,
    /// Claude Code's `authServerMetadataUrl`: where to read the authorization server's metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub auth_server_metadata_url: Option<String>,
    /// The RFC 8707 `resource` the tool asks for (Codex `oauth_resource`, mcp-remote `--resource`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub resource: Option<String>,
    /// Gemini CLI's `authProviderType` (e.g. `google_credentials`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub provider: Option<String>,
}

impl OAuthSettings {
    /// True when the tool has none of these settings.
    pub fn is_empty(&self) -> bool {
        *self == OAuthSettings::default()
    }
}

/// The tool's own auth settings for a server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AuthSettings {
    /// Headers the tool sends with every request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<HeaderSetting>>", optional)]
    pub headers: Vec<HeaderSetting>,
    /// Claude Code's `headersHelper` command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub headers_helper: Option<String>,
    /// The tool's OAuth settings, where it has any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub oauth: Option<OAuthSettings>,
}

impl AuthSettings {
    /// True when the tool has no auth settings for the server.
    pub fn is_empty(&self) -> bool {
        *self == AuthSettings::default()
    }
}

/// A remote server reached through `mcp-remote`, a local bridge that tools without remote
/// support (Claude Desktop above all) run as a stdio command: `npx -y mcp-remote URL [PORT]
/// [--header Name:Value]... [--transport ...] [--resource ...] [--static-oauth-client-info ...]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct McpRemote {
    /// The package as written (`mcp-remote`, `mcp-remote@0.1.29`, `mcp-remote@latest`).
    pub package: String,
    /// `--transport`: http-first (its default), http-only, sse-first or sse-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub transport_strategy: Option<String>,
    /// The OAuth callback port given after the URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub callback_port: Option<u16>,
    /// `--host`, the callback host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub callback_host: Option<String>,
    /// `--static-oauth-client-info @FILE` / `--static-oauth-client-metadata @FILE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub static_client_info_file: Option<String>,
    /// The file after `--static-oauth-client-metadata @`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub static_client_metadata_file: Option<String>,
    /// Every option given, in order, without its value (`--header`, `--allow-http`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<String>>", optional)]
    pub flags: Vec<String>,
}

/// One MCP server as one tool has it configured: what the inventory lists, and what a writer
/// edits (in `file`, under `key_path`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ServerEntry {
    /// The tool whose config it is.
    pub tool: Tool,
    /// The config file it is in.
    pub file: PathBuf,
    /// The keys leading from the top of the file to the server's settings, the last being its
    /// name: `["mcpServers", "gitlab"]`, `["projects", "/home/a/p", "mcpServers", "gitlab"]`,
    /// `["mcp_servers", "gitlab"]`. Where a writer edits it.
    #[serde(default)]
    pub key_path: Vec<String>,
    /// Where its entry starts in that file (1-based).
    pub line: usize,
    /// For the user or for one project (never an OAuth scope).
    #[serde(rename = "scope")]
    pub config_scope: ConfigScope,
    /// Its key in the tool's servers object: the name the tool shows, and the name Claude
    /// Code, Gemini CLI and Codex file its tokens under.
    pub name: String,
    /// How the tool talks to the server.
    pub transport: Transport,
    /// The server's URL exactly as written, for remote servers (also through mcp-remote).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub url: Option<String>,
    /// Set when the tool reaches the remote server through mcp-remote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub mcp_remote: Option<McpRemote>,
    /// Reached through `latchkey bridge URL` (the stdio entry `latchkey connect` writes):
    /// Latchkey adds the token, so the tool neither signs in nor connects by itself.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[ts(as = "Option<bool>", optional)]
    pub bridge: bool,
    /// The program a local server runs (`npx`, `uvx`, `docker`, ...); never its arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub command: Option<String>,
    /// The tool's own auth settings for the server (secrets redacted).
    #[serde(default, skip_serializing_if = "AuthSettings::is_empty")]
    #[ts(as = "Option<AuthSettings>", optional)]
    pub auth: AuthSettings,
    /// False when the tool's config turns the server off (`enabled = false`, `"disabled": true`).
    pub enabled: bool,
}

impl ServerEntry {
    /// A remote server `name` at `url` over streamable HTTP, as `tool`'s user file `file`
    /// (line 1) would list it: enabled, no auth settings, not bridged. For building pictures
    /// from known entries (the overview's and the fronts' tests).
    pub fn http(tool: Tool, file: &str, name: &str, url: &str) -> ServerEntry {
        ServerEntry {
            tool,
            file: file.into(),
            line: 1,
            key_path: Vec::new(),
            config_scope: ConfigScope::User,
            name: name.into(),
            transport: Transport::Http,
            url: Some(url.into()),
            mcp_remote: None,
            bridge: false,
            command: None,
            auth: AuthSettings::default(),
            enabled: true,
        }
    }

    /// Reached over the network (directly or through mcp-remote).
    pub fn is_remote(&self) -> bool {
        self.url.is_some()
    }

    /// True when the tool itself connects to this server's URL, so a token the tool stores
    /// (or a header it sends) reaches the server: remote, and not through mcp-remote, which
    /// signs in on its own.
    pub fn tool_connects(&self) -> bool {
        self.url.is_some() && self.mcp_remote.is_none() && !self.bridge
    }

    /// True when the tool itself connects to the server whose canonical URL is `server_id`
    /// (the vault's server id: the URL as written may differ in case, default port, trailing
    /// slash).
    pub fn connects_to(&self, server_id: &str) -> bool {
        self.tool_connects()
            && self
                .url
                .as_deref()
                .and_then(|u| crate::store::vault::server_id(u).ok())
                .is_some_and(|id| id == server_id)
    }
}

/// A config file that could not be read, or a part of one that makes no sense to its tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SourceError {
    /// The tool whose file it is.
    pub tool: Tool,
    /// The file.
    pub file: PathBuf,
    /// Whose servers the file holds.
    #[serde(rename = "scope")]
    pub config_scope: ConfigScope,
    /// 1-based; absent when the problem is with the file as a whole (e.g. permissions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub line: Option<usize>,
    /// 1-based, in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub column: Option<usize>,
    /// The server the problem is in, when it is in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub server: Option<String>,
    /// What is wrong, in plain words.
    pub message: String,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
            if let Some(col) = self.column {
                write!(f, ", column {col}")?;
            }
        }
        f.write_str(": ")?;
        if let Some(server) = &self.server {
            write!(f, "server {server:?}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// The kinds of config file, each registered by its tool's module (see `SourceKind::format`):
/// adding a tool is adding its module and its kinds here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// `~/.claude.json`: user servers and per-project ("local") servers.
    ClaudeCodeUser,
    /// A project's `.mcp.json`.
    ClaudeCodeProject,
    /// Claude Desktop's `claude_desktop_config.json`.
    ClaudeDesktop,
    /// Cursor's `mcp.json` (user or project).
    Cursor,
    /// VS Code's `mcp.json` (user or workspace).
    VsCode,
    /// Gemini CLI's `settings.json` (user or project).
    GeminiCli,
    /// Codex's `config.toml` (user or trusted project).
    Codex,
    /// Windsurf's `mcp_config.json`.
    Windsurf,
    /// Zed's `settings.json` (user or project).
    Zed,
}

impl SourceKind {
    /// Every kind, in tool order (a tool's user file before its project file).
    pub const ALL: [SourceKind; 9] = [
        SourceKind::ClaudeCodeUser,
        SourceKind::ClaudeCodeProject,
        SourceKind::ClaudeDesktop,
        SourceKind::Cursor,
        SourceKind::VsCode,
        SourceKind::GeminiCli,
        SourceKind::Codex,
        SourceKind::Windsurf,
        SourceKind::Zed,
    ];

    /// The one list of what each tool module registers: where its files are and how they
    /// are read.
    fn format(self) -> &'static Format {
        match self {
            SourceKind::ClaudeCodeUser => &claude_code::USER_FORMAT,
            SourceKind::ClaudeCodeProject => &claude_code::PROJECT_FORMAT,
            SourceKind::ClaudeDesktop => &claude_desktop::FORMAT,
            SourceKind::Cursor => &cursor::FORMAT,
            SourceKind::VsCode => &vscode::FORMAT,
            SourceKind::GeminiCli => &gemini_cli::FORMAT,
            SourceKind::Codex => &codex::FORMAT,
            SourceKind::Windsurf => &windsurf::FORMAT,
            SourceKind::Zed => &zed::FORMAT,
        }
    }

    /// The tool that reads files of this kind.
    pub fn tool(self) -> Tool {
        self.format().tool
    }
}

/// How one kind of config file is found and read: what a tool module registers.
pub(crate) struct Format {
    pub tool: Tool,
    /// The syntax the tool itself accepts.
    pub syntax: tree::Syntax,
    /// The user's own file of this kind, when the tool has one.
    pub user_file: Option<fn(&Locations) -> PathBuf>,
    /// This kind's file inside a project folder, relative to it, when the tool has one.
    pub project_file: Option<&'static str>,
    /// Reads the servers of a parsed file whose top is an object.
    pub read: fn(&mut common::Ctx<'_>, &tree::Node),
}

/// One config file a tool may have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// How the file is read.
    pub kind: SourceKind,
    /// Where it is, whether it exists or not.
    pub path: PathBuf,
    /// Whose servers are in it (`~/.claude.json` also holds per-project servers).
    pub config_scope: ConfigScope,
}

impl Source {
    /// The tool that reads it.
    pub fn tool(&self) -> Tool {
        self.kind.tool()
    }
}

/// What one file gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceResult {
    /// Every server the file configures, in file order.
    pub entries: Vec<ServerEntry>,
    /// What could not be read, file-wide or per server.
    pub errors: Vec<SourceError>,
    /// Project folders the file names (Claude Code's `projects` keys).
    pub known_projects: Vec<PathBuf>,
    /// Project folders the tool marks trusted (Claude Code's `hasTrustDialogAccepted`).
    pub trusted_projects: Vec<PathBuf>,
}

/// Reads one file's bytes as its tool would. Never panics, whatever the bytes.
pub fn parse_source(source: &Source, bytes: &[u8]) -> SourceResult {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            let text = String::from_utf8_lossy(valid);
            let (line, column) = tree::line_col(&text, text.len());
            return SourceResult {
                errors: vec![SourceError {
                    tool: source.tool(),
                    file: source.path.clone(),
                    config_scope: source.config_scope.clone(),
                    line: Some(line),
                    column: Some(column),
                    server: None,
                    message: "the file is not UTF-8 text".into(),
                }],
                ..Default::default()
            };
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut ctx = common::Ctx::new(source, text);
    let format = source.kind.format();
    let syntax = format.syntax;
    match tree::parse(text, syntax) {
        Err(e) => ctx.problem(e.pos, None, e.message),
        Ok(root) => {
            if !root.is_object() {
                ctx.problem(
                    root.pos,
                    None,
                    format!(
                        "the file should hold one {} but holds {}",
                        if syntax == tree::Syntax::Toml {
                            "table"
                        } else {
                            "JSON object { ... }"
                        },
                        root.describe()
                    ),
                );
            } else {
                (format.read)(&mut ctx, &root);
            }
        }
    }
    ctx.finish()
}

/// Files larger than this are not read (a config file is a few kilobytes; `~/.claude.json`
/// with a long history a few megabytes).
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Reads one file from disk. `None` when it does not exist: a tool that is not installed or
/// not configured is not an error.
pub fn read_source(source: &Source) -> Option<SourceResult> {
    let error = |message: String| SourceResult {
        errors: vec![SourceError {
            tool: source.tool(),
            file: source.path.clone(),
            config_scope: source.config_scope.clone(),
            line: None,
            column: None,
            server: None,
            message,
        }],
        ..Default::default()
    };
    let meta = match std::fs::metadata(&source.path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => return Some(error(format!("the file could not be read ({e})"))),
    };
    if meta.is_dir() {
        return Some(error("this is a folder, where a file was expected".into()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Some(error(format!(
            "the file is too large to be a config file ({} MB)",
            meta.len() / (1024 * 1024)
        )));
    }
    match std::fs::read(&source.path) {
        Ok(bytes) => Some(parse_source(source, &bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => Some(error(format!("the file could not be read ({e})"))),
    }
}

/// Every file the tools read for the user alone, in tool order.
pub fn user_sources(loc: &Locations) -> Vec<Source> {
    SourceKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let file = kind.format().user_file?;
            Some(Source {
                kind,
                path: file(loc),
                config_scope: ConfigScope::User,
            })
        })
        .collect()
}

/// The files inside one project folder that the tools read.
pub fn project_sources(project: &Path) -> Vec<Source> {
    SourceKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let rel = kind.format().project_file?;
            Some(Source {
                kind,
                path: project.join(rel),
                config_scope: ConfigScope::Project {
                    project: project.to_path_buf(),
                },
            })
        })
        .collect()
}

/// One project file of `kind` in `project`, as [`project_sources`] lists it.
pub fn project_source(project: &Path, kind: SourceKind) -> Option<Source> {
    project_sources(project)
        .into_iter()
        .find(|s| s.kind == kind)
}

/// The servers of one file, for a writer: like [`read_source`], but a file the tool could not
/// read as a whole (not text, not parseable, not an object of servers) is an error, since a
/// writer never edits what it cannot read. Problems with single servers are not errors here:
/// those servers are simply not among the entries. A missing file has no servers.
pub fn read_for_writing(source: &Source) -> crate::error::Result<Vec<ServerEntry>> {
    let Some(result) = read_source(source) else {
        return Ok(Vec::new());
    };
    if let Some(e) = result.errors.iter().find(|e| e.server.is_none()) {
        // The message names the place, never a value (values may be secrets).
        let at = match (e.line, e.column) {
            (Some(line), Some(column)) => format!("line {line}, column {column}: "),
            (Some(line), None) => format!("line {line}: "),
            _ => String::new(),
        };
        return Err(crate::error::Error::BadConfig {
            path: source.path.display().to_string(),
            detail: format!("{at}{}", e.message),
        });
    }
    Ok(result.entries)
}

/// Everything read from every tool.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// Every server of every file that was read, in tool order, user files first.
    pub entries: Vec<ServerEntry>,
    /// Every file, or part of one, that could not be read.
    pub errors: Vec<SourceError>,
    /// The files that exist and were read (with or without errors).
    pub files_read: Vec<Source>,
    /// Every file looked for, existing or not: what a watcher watches.
    pub files_considered: Vec<Source>,
    /// The project folders looked in.
    pub projects: Vec<PathBuf>,
    /// The project folders a tool marks trusted (Claude Code's `hasTrustDialogAccepted`).
    pub trusted_projects: Vec<PathBuf>,
}

/// Every file the tools may read under `loc`, existing or not, without reading them (except
/// `~/.claude.json` for the projects Claude Code knows, when `loc.known_projects` is set).
pub fn sources(loc: &Locations) -> Vec<Source> {
    let user = user_sources(loc);
    let known = if loc.known_projects {
        user.iter()
            .find(|s| s.kind == SourceKind::ClaudeCodeUser)
            .and_then(read_source)
            .map(|r| r.known_projects)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut out = user;
    for project in project_list(loc, known) {
        for source in project_sources(&project) {
            if !out.iter().any(|s| s.path == source.path) {
                out.push(source);
            }
        }
    }
    out
}

/// The explicit projects, then the known ones, each once.
fn project_list(loc: &Locations, known: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut projects: Vec<PathBuf> = Vec::new();
    let known = if loc.known_projects {
        known
    } else {
        Vec::new()
    };
    for p in loc.projects.iter().cloned().chain(known) {
        if !projects.contains(&p) {
            projects.push(p);
        }
    }
    projects
}

/// Reads every tool's files under `loc`.
pub fn scan(loc: &Locations) -> Scan {
    let mut out = Scan::default();
    let user = user_sources(loc);
    let mut results: Vec<(Source, Option<SourceResult>)> = Vec::new();
    let mut known = Vec::new();
    for source in user {
        let r = read_source(&source);
        if let Some(r) = &r {
            known.extend(r.known_projects.iter().cloned());
            out.trusted_projects
                .extend(r.trusted_projects.iter().cloned());
        }
        results.push((source, r));
    }
    let projects = project_list(loc, known);
    for project in &projects {
        for source in project_sources(project) {
            // A project that is the home folder has the user's own files; read them once.
            if results.iter().any(|(s, _)| s.path == source.path) {
                continue;
            }
            let r = read_source(&source);
            results.push((source, r));
        }
    }
    // Tool order first, then the order read (user file, then projects in order).
    results.sort_by_key(|(s, _)| s.tool());
    for (source, r) in results {
        if let Some(r) = r {
            out.entries.extend(r.entries);
            out.errors.extend(r.errors);
            out.files_read.push(source.clone());
        }
        out.files_considered.push(source);
    }
    out.projects = projects;
    out
}

/// What the tests of the tools and their hand-off share: private folders to write into (a
/// copy of the fixture home among them), and the check that an edit changed nothing outside
/// one entry.
#[cfg(test)]
pub(crate) mod test_support {
    use std::path::{Path, PathBuf};

    /// An empty folder of this test process's own, `latchkey-TAG-PID` in the temp folder.
    pub fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("latchkey-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let target = to.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy_dir(&e.path(), &target);
            } else {
                std::fs::copy(e.path(), &target).unwrap();
            }
        }
    }

    /// A private copy of `tests/fixtures/configs/home`, a realistic home folder.
    pub fn fixture_home(tag: &str) -> PathBuf {
        let fixture =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/configs/home");
        let home = temp_dir(&format!("fixture-{tag}")).join("home");
        copy_dir(&fixture, &home);
        home
    }

    /// Removes a copy made by [`fixture_home`].
    pub fn remove(home: &Path) {
        if let Some(root) = home.parent() {
            let _ = std::fs::remove_dir_all(root);
        }
    }

    /// The byte range of `before` that an edit replaced to give `after`.
    pub fn changed_range(before: &str, after: &str) -> (usize, usize) {
        let prefix = before
            .bytes()
            .zip(after.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        let suffix = before
            .bytes()
            .rev()
            .zip(after.bytes().rev())
            .take_while(|(a, b)| a == b)
            .count()
            .min(before.len() - prefix)
            .min(after.len() - prefix);
        (prefix, before.len() - suffix)
    }

    /// Every byte of `before` outside the object at `key_path` is in `after` unchanged.
    pub fn assert_changed_only_inside(before: &str, after: &str, key_path: &[&str]) {
        let span = super::json_edit::span_of(before, key_path).expect("the entry is in the file");
        assert_ne!(before, after, "nothing was written");
        let (from, to) = changed_range(before, after);
        assert!(
            from >= span.start && to <= span.end,
            "changed {from}..{to} of the file, outside the entry at {span:?}:\n{after}"
        );
    }
}

#[cfg(test)]
mod nesting_tests {
    use super::*;

    /// A config file of 100 000 nested arrays is a plain error naming the file, not a stack
    /// overflow.
    #[test]
    fn a_config_nested_too_deep_is_an_error_naming_the_file() {
        let source = Source {
            kind: SourceKind::VsCode,
            path: PathBuf::from("/home/p/.config/Code/User/mcp.json"),
            config_scope: ConfigScope::User,
        };
        let text = format!(
            "{{\"servers\": {}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let r = parse_source(&source, text.as_bytes());
        let e = r.errors.first().expect("an error").to_string();
        assert!(e.contains("Code/User/mcp.json"), "{e}");
        assert!(e.contains("nested more than 128 levels"), "{e}");
    }
}
