//! Handing a signed-in server to a tool, as the command line and the app both do it: find
//! every entry of the tool's config for the server (read as the inventory reads it), write
//! what the tool reads, and say in plain words where it went. Every path comes from
//! [`Locations`], so tests never touch a real home.

use crate::error::{Error, Result};
use crate::oauth::renewal_timing::Need;
use crate::store::vault::CredentialBundle;
use crate::tools::keychain::{Keychain, Stored};
use crate::tools::{
    claude_code, codex, gemini_cli, project_source, read_for_writing, user_sources, Locations,
    ServerEntry, Source, SourceKind, Tool, GEMINI_ENCRYPTED_STORE_ENV,
};
use crate::usecase::engine::Latchkey;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One config entry that now gets the server's sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The entry's name in the tool's config (`mcpServers > gitlab`, `gitlab`).
    pub entry: String,
    /// The key the tool files the token under, where it has one (Codex).
    pub key: Option<String>,
    /// Where it went: a file (with its backup) or a keychain item.
    pub stored: Stored,
    /// Things the person should know (e.g. the tool also sends its own Authorization).
    pub notes: Vec<String>,
}

/// How Claude Code gets its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaudeMode {
    /// Its `headersHelper` runs Latchkey on every connection: always fresh.
    Helper,
    /// The current access token in its own store.
    Native,
}

/// The user file of `kind`, then the same kind's file in the project a tool is started in
/// (when that is another file), as the tool reads them.
pub(crate) fn files_of(loc: &Locations, kind: SourceKind) -> Vec<Source> {
    let mut files: Vec<Source> = user_sources(loc)
        .into_iter()
        .filter(|s| s.kind == kind)
        .collect();
    let project_kind = match kind {
        SourceKind::ClaudeCodeUser => SourceKind::ClaudeCodeProject,
        other => other,
    };
    if let Some(p) = loc
        .project
        .as_deref()
        .and_then(|p| project_source(p, project_kind))
    {
        if !files.iter().any(|f| f.path == p.path) {
            files.push(p);
        }
    }
    files
}

/// The entries of `files` the tool itself connects to this server with.
fn entries_for(files: &[Source], bundle: &CredentialBundle) -> Result<Vec<ServerEntry>> {
    let mut out = Vec::new();
    for f in files {
        out.extend(
            read_for_writing(f)?
                .into_iter()
                .filter(|e| e.connects_to(&bundle.server_id)),
        );
    }
    Ok(out)
}

fn no_server(tool: Tool, file: &Path, bundle: &CredentialBundle) -> Error {
    Error::BadConfig {
        path: file.display().to_string(),
        detail: format!("{tool} has no server with the URL {}", bundle.server_url),
    }
}

/// Claude Code: every entry for the server in `~/.claude.json` (user and per-project) and the
/// current project's `.mcp.json` gets `helper_command` as its `headersHelper` (helper mode),
/// or the current token goes into Claude Code's own store (native mode).
pub fn claude_code(
    loc: &Locations,
    helper_command: &str,
    bundle: &CredentialBundle,
    mode: ClaudeMode,
    keychain: &dyn Keychain,
) -> Result<Vec<Delivered>> {
    let entries = entries_for(&files_of(loc, SourceKind::ClaudeCodeUser), bundle)?;
    if entries.is_empty() {
        return Err(no_server(
            Tool::ClaudeCode,
            &claude_code::user_file(loc),
            bundle,
        ));
    }
    let mut out = Vec::new();
    for e in &entries {
        let stored = match mode {
            ClaudeMode::Native => {
                let store = claude_code::credentials_store(loc, cfg!(target_os = "macos"));
                claude_code::write_native(&store, keychain, e, bundle)?
            }
            ClaudeMode::Helper => Stored::File(claude_code::set_headers_helper(e, helper_command)?),
        };
        out.push(Delivered {
            entry: e.key_path.join(" > "),
            key: None,
            stored,
            notes: Vec::new(),
        });
    }
    Ok(out)
}

/// Gemini CLI: the access token in `mcp-oauth-tokens.json` under every name its user settings
/// (and the current project's `.gemini/settings.json`) give this server. The second value
/// warns when the token is too close to expiry for Gemini CLI to use it.
pub fn gemini(
    loc: &Locations,
    bundle: &CredentialBundle,
) -> Result<(Vec<Delivered>, Option<String>)> {
    let tokens = gemini_cli::tokens_file(loc);
    if loc.gemini_encrypted_store {
        return Err(Error::BadConfig {
            path: tokens.display().to_string(),
            detail: format!(
                "Gemini CLI is set to keep its tokens in the keychain instead ({GEMINI_ENCRYPTED_STORE_ENV}=true), which Latchkey does not write; unset it to use this file"
            ),
        });
    }
    let files = files_of(loc, SourceKind::GeminiCli);
    let found =
        gemini_cli::find_entries_checked(&files, &gemini_other_settings(loc), &bundle.server_id)?;
    let (entries, google): (Vec<_>, Vec<_>) =
        found.into_iter().partition(gemini_cli::reads_stored_tokens);
    if entries.is_empty() {
        let detail = match google.first() {
            Some(g) => format!(
                "its server {:?} signs in with Google ({}), so Gemini CLI would not use a token from Latchkey",
                g.name,
                g.auth
                    .oauth
                    .as_ref()
                    .and_then(|o| o.provider.as_deref())
                    .unwrap_or_default()
            ),
            None => format!(
                "Gemini CLI has no server with the URL {}",
                bundle.server_url
            ),
        };
        return Err(Error::BadConfig {
            path: files
                .iter()
                .map(|f| f.path.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            detail,
        });
    }
    let w = gemini_cli::write_tokens(&tokens, &entries, bundle)?;
    let warning = (!gemini_cli::usable_by_gemini(bundle, crate::clock::now())).then(|| {
        format!(
            "the token has less than {} minutes left, and Gemini CLI does not use a token that close to expiry: hand it off again once Latchkey has renewed it",
            gemini_cli::EXPIRY_BUFFER_SECS / 60
        )
    });
    let mut out: Vec<Delivered> = Vec::new();
    for e in &entries {
        if out.iter().any(|d| d.entry == e.name) {
            continue;
        }
        out.push(Delivered {
            entry: e.name.clone(),
            key: None,
            stored: Stored::File(w.clone()),
            notes: vec![gemini_name_note(&e.name, &bundle.server_url)],
        });
    }
    Ok((out, warning))
}

/// What the person should know of a token Gemini CLI finds by name.
fn gemini_name_note(name: &str, server_url: &str) -> String {
    let unique = gemini_cli::url_unique_name(name, server_url);
    let rename = if unique == name {
        String::new()
    } else {
        format!(
            "; to make that unlikely, rename the entry to {unique:?} (a name with the server's host) and hand it off again"
        )
    };
    format!(
        "Gemini CLI finds this token by the name {name:?} only, so a trusted folder whose settings give {name:?} to another server would get it too; Latchkey withdraws it when it sees such a folder{rename}"
    )
}

/// The Gemini CLI settings of every other project Latchkey knows: those named to it, those
/// Claude Code knows (where Latchkey reads them), and the folders Gemini CLI trusts.
pub(crate) fn gemini_other_settings(loc: &Locations) -> Vec<Source> {
    let mut out: Vec<Source> = crate::tools::sources(loc)
        .into_iter()
        .filter(|s| s.kind == SourceKind::GeminiCli)
        .collect();
    for folder in gemini_cli::trusted_folders(loc) {
        if let Some(s) = project_source(&folder, SourceKind::GeminiCli) {
            if !out.iter().any(|o| o.path == s.path) {
                out.push(s);
            }
        }
    }
    out
}

/// Gemini CLI tokens Latchkey withdrew: the name, the server it was for, and the settings
/// file that gives the name to another server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawn {
    /// The name the token was filed under.
    pub name: String,
    /// The server it was handed off for.
    pub server_url: String,
    /// The settings file naming another server so.
    pub file: PathBuf,
    /// The other server's URL.
    pub other_url: String,
}

/// Withdraws every token handed to Gemini CLI whose name another settings file (the user's,
/// the current project's, any other project Latchkey knows or Gemini CLI trusts) gives to
/// another server: Gemini CLI would send it there. Run at hand-off and whenever configs change.
pub fn withdraw_gemini_collisions(loc: &Locations) -> Result<Vec<Withdrawn>> {
    let tokens = gemini_cli::tokens_file(loc);
    let stored = gemini_cli::stored_names(&tokens);
    if stored.is_empty() {
        return Ok(Vec::new());
    }
    let mut settings = files_of(loc, SourceKind::GeminiCli);
    for s in gemini_other_settings(loc) {
        if !settings.iter().any(|o| o.path == s.path) {
            settings.push(s);
        }
    }
    let entries: Vec<ServerEntry> = settings
        .iter()
        .filter_map(|f| read_for_writing(f).ok())
        .flatten()
        .filter(ServerEntry::tool_connects)
        .collect();
    let mut found: Vec<Withdrawn> = Vec::new();
    for (name, url) in &stored {
        let Some(id) = url
            .as_deref()
            .and_then(|u| crate::store::vault::server_id(u).ok())
        else {
            continue;
        };
        if let Some(other) = entries
            .iter()
            .find(|e| &e.name == name && e.url.is_some() && !e.connects_to(&id))
        {
            found.push(Withdrawn {
                name: name.clone(),
                server_url: id,
                file: other.file.clone(),
                other_url: other.url.clone().unwrap_or_default(),
            });
        }
    }
    if !found.is_empty() {
        gemini_cli::withdraw_tokens(&tokens, |name, _| found.iter().any(|w| w.name == name))?;
        for w in &found {
            tracing::warn!(
                "withdrew the token handed to Gemini CLI as {:?} ({}): {} gives that name to {}",
                w.name,
                w.server_url,
                w.file.display(),
                w.other_url
            );
        }
    }
    Ok(found)
}

/// What sign-out took back from the tools, and which tools may still hold the token.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    /// Each tool it was taken back from, with the entries' names: `Codex (work)`.
    pub withdrawn: Vec<String>,
    /// Tools whose store could not be changed (a locked keychain, an unreadable file): they
    /// keep the token until it expires.
    pub kept_by: Vec<String>,
}

/// Takes back what Latchkey handed to tools for `bundle`'s server: Gemini CLI's token store
/// (entries for its URL), Codex's stores and Claude Code's own store (entries carrying one
/// of `client_ids`, Latchkey's clients at the issuer whose tokens were handed out; a sign-in
/// the tool made itself, with its own client, stays). `keychain` is where Codex and Claude
/// Code (macOS) keep theirs. Never fails: a tool that could not be changed is named in
/// [`Withdrawal::kept_by`] and the cause is logged; the other entries are still tried.
pub fn withdraw_handed(
    loc: &Locations,
    bundle: &CredentialBundle,
    client_ids: &[String],
    keychain: &dyn Keychain,
) -> Withdrawal {
    let mut out = Withdrawal::default();
    let mut note = |tool: Tool, names: Vec<String>, failed: Option<Error>| {
        if !names.is_empty() {
            out.withdrawn.push(format!("{tool} ({})", names.join(", ")));
        }
        if let Some(e) = failed {
            tracing::warn!("could not take back the token handed to {tool}: {e}");
            out.kept_by.push(tool.to_string());
        }
    };
    let server_id = &bundle.server_id;
    match gemini_cli::withdraw_tokens(&gemini_cli::tokens_file(loc), |_, url| {
        url.and_then(|u| crate::store::vault::server_id(u).ok())
            .is_some_and(|id| &id == server_id)
    }) {
        Ok(names) => note(Tool::GeminiCli, names, None),
        Err(e) => note(Tool::GeminiCli, Vec::new(), Some(e)),
    }
    // Every entry is tried; the first failure is what is said.
    let each = |entries: Result<Vec<ServerEntry>>,
                take: &dyn Fn(&ServerEntry) -> Result<bool>|
     -> (Vec<String>, Option<Error>) {
        let mut names = Vec::new();
        let mut failed = None;
        match entries {
            Ok(entries) => {
                for e in &entries {
                    match take(e) {
                        Ok(true) if !names.contains(&e.name) => names.push(e.name.clone()),
                        Ok(_) => {}
                        Err(err) => {
                            failed.get_or_insert(err);
                        }
                    }
                }
            }
            Err(err) => failed = Some(err),
        }
        (names, failed)
    };
    let codex_files: Vec<Source> = user_sources(loc)
        .into_iter()
        .filter(|s| s.kind == SourceKind::Codex)
        .collect();
    let codex_entries = entries_for(&codex_files, bundle);
    let settings = match &codex_entries {
        Ok(e) if !e.is_empty() => Some(codex::read_store_settings(&codex::user_file(loc))),
        _ => None,
    };
    let (names, failed) = match settings {
        Some(Err(e)) => (Vec::new(), Some(e)),
        Some(Ok(settings)) => each(codex_entries, &|e| {
            codex::withdraw(loc, &settings, e, client_ids, keychain)
        }),
        None => each(codex_entries, &|_| Ok(false)),
    };
    note(Tool::Codex, names, failed);
    let store = claude_code::credentials_store(loc, cfg!(target_os = "macos"));
    let (names, failed) = each(
        entries_for(&files_of(loc, SourceKind::ClaudeCodeUser), bundle),
        &|e| claude_code::withdraw_native(&store, keychain, e, client_ids),
    );
    note(Tool::ClaudeCode, names, failed);
    out
}

/// Codex: the access token in the store its config.toml names (the keychain by default),
/// once for every name its config gives this server.
pub fn codex(
    loc: &Locations,
    bundle: &CredentialBundle,
    keychain: &dyn Keychain,
) -> Result<Vec<Delivered>> {
    let config = codex::user_file(loc);
    let files: Vec<Source> = user_sources(loc)
        .into_iter()
        .filter(|s| s.kind == SourceKind::Codex)
        .collect();
    let servers = entries_for(&files, bundle)?;
    if servers.is_empty() {
        return Err(no_server(Tool::Codex, &config, bundle));
    }
    let settings = codex::read_store_settings(&config)?;
    let now = crate::clock::now();
    let mut out = Vec::new();
    for s in &servers {
        let h = codex::hand_off(loc, &settings, s, bundle, keychain, now)?;
        out.push(Delivered {
            entry: h.name,
            key: Some(h.key),
            stored: h.stored,
            notes: h.notes,
        });
    }
    Ok(out)
}

/// What a handoff did, in one sentence for the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The sentence to show: which entries now get the sign-in, how, and any notes.
    pub message: String,
    /// Where it went (files or keychain items), comma-separated.
    pub target: String,
    /// The first backup of a file written over, when there is one.
    pub backup: Option<String>,
}

fn backup_of(d: &Delivered) -> Option<String> {
    match &d.stored {
        Stored::File(w) => w.backup.as_ref().map(|b| b.display().to_string()),
        Stored::Keychain { .. } => None,
    }
}

/// Gemini CLI ignores a stored token with under 5 minutes left (it treats it as expired and
/// starts its own sign-in): it is handed one with at least 6 minutes.
pub const GEMINI_CLI_MIN_VALIDITY: Duration =
    Duration::from_secs(crate::tools::gemini_cli::EXPIRY_BUFFER_SECS + 60);

/// How much of its lifetime a token handed to `tool` must have left: a tool keeps what it is
/// handed for its whole connection (about a quarter of the lifetime, [`Need::ForConnection`]),
/// and Gemini CLI needs at least [`GEMINI_CLI_MIN_VALIDITY`] as well.
pub fn hand_off_need(tool: Tool) -> Need {
    match tool {
        Tool::GeminiCli => Need::AtLeast(GEMINI_CLI_MIN_VALIDITY),
        _ => Need::ForConnection,
    }
}

/// A hand-off as a front asks for it.
#[derive(Debug, Clone)]
pub struct HandOffRequest {
    pub tool: Tool,
    /// Claude Code only: its headers helper (default) or its own credential store.
    pub claude_mode: ClaudeMode,
    /// Claude Code's config folder, when not `$CLAUDE_CONFIG_DIR` or the home folder.
    pub claude_config_dir: Option<PathBuf>,
}

impl HandOffRequest {
    /// The way that keeps `tool` working longest: Claude Code through its headers helper
    /// (always fresh), Gemini CLI and Codex in their own stores.
    pub fn to(tool: Tool) -> Self {
        HandOffRequest {
            tool,
            claude_mode: ClaudeMode::Helper,
            claude_config_dir: None,
        }
    }
}

/// What a hand-off did: every entry written, a warning for the person, and one sentence.
#[derive(Debug, Clone)]
pub struct HandedOff {
    pub delivered: Vec<Delivered>,
    pub warning: Option<String>,
    pub summary: Summary,
}

/// Writes what `request.tool` needs to use the signed-in `bundle`, for every entry its
/// config (at `loc`) gives the server: Claude Code's headers helper (`helper_command`, e.g.
/// `/usr/bin/latchkey headers`: always fresh) or its own store, Gemini CLI's and Codex's own
/// stores. Errors: the tool has no way to take a sign-in, has no entry for the server, or its
/// files cannot be read or written (`BadConfig`, `WriteFailed`, `Keychain`); nothing is
/// written for a tool whose config cannot be read.
pub fn hand_to(
    request: &HandOffRequest,
    loc: &Locations,
    helper_command: &str,
    bundle: &CredentialBundle,
    keychain: &dyn Keychain,
) -> Result<HandedOff> {
    let tool = request.tool;
    let (delivered, warning, how) = match tool {
        Tool::ClaudeCode => (
            claude_code(loc, helper_command, bundle, request.claude_mode, keychain)?,
            None,
            match request.claude_mode {
                ClaudeMode::Helper => "now asks Latchkey for a fresh token on every connection",
                ClaudeMode::Native => "has the current token; hand it off again after it renews",
            },
        ),
        Tool::GeminiCli => {
            let (d, warning) = gemini(loc, bundle)?;
            (
                d,
                warning,
                "has the current token; hand it off again after it renews",
            )
        }
        Tool::Codex => (
            codex(loc, bundle, keychain)?,
            None,
            "has the current token; hand it off again after it renews",
        ),
        other => {
            return Err(Error::BadConfig {
                path: other.display_name().into(),
                detail: format!(
                    "{other} has no way to take a sign-in from another app: it signs in by itself"
                ),
            })
        }
    };
    let names: Vec<&str> = delivered.iter().map(|d| d.entry.as_str()).collect();
    let mut message = format!("{tool} ({}) {how}.", names.join(", "));
    for n in delivered
        .iter()
        .flat_map(|d| d.notes.iter())
        .chain(warning.iter())
    {
        message.push_str(&format!(" Note: {n}."));
    }
    let summary = Summary {
        message,
        target: delivered
            .iter()
            .map(|d| d.stored.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        backup: delivered.iter().find_map(backup_of),
    };
    Ok(HandedOff {
        delivered,
        warning,
        summary,
    })
}

impl Latchkey {
    /// Hands the signed-in `server` (a URL or a name) to a tool: renews it first so the tool
    /// gets the validity it needs ([`hand_off_need`]; the renewal is recorded like any
    /// other), then writes what the tool reads ([`hand_to`]). The headers helper is the
    /// engine's `latchkey` program with `headers`, the same from every front.
    ///
    /// Errors: those of [`Latchkey::fresh`] and of [`hand_to`].
    pub async fn hand_off(&self, server: &str, request: &HandOffRequest) -> Result<HandedOff> {
        let bundle = self.fresh(server, hand_off_need(request.tool)).await?;
        let mut loc = self.locations.clone();
        if let Some(dir) = &request.claude_config_dir {
            loc.claude_config_dir = Some(dir.clone());
        }
        let handed = hand_to(
            request,
            &loc,
            &self.helper_command(),
            &bundle,
            self.tool_keychain.as_ref(),
        )?;
        // A token in a tool's own store is taken back at sign-out by its client id, which
        // a later registration replaces in the bundle: the ids handed out are kept.
        if matches!(request.tool, Tool::Codex | Tool::ClaudeCode) {
            if let Err(e) = crate::store::issuer_notes::remember_handed_client(
                &self.state_dir,
                &bundle.issuer,
                &bundle.client.client_id,
            ) {
                tracing::warn!("could not note the client handed to {}: {e}", request.tool);
            }
        }
        Ok(handed)
    }

    /// Withdraws the tokens handed to Gemini CLI whose name another server now has in a
    /// settings file Gemini CLI may read ([`withdraw_gemini_collisions`]); run when configs
    /// change. What was withdrawn, for the fronts to say.
    pub fn withdraw_gemini_collisions(&self) -> Result<Vec<Withdrawn>> {
        withdraw_gemini_collisions(&self.locations)
    }

    /// The command a tool runs for fresh headers: `<latchkey program> headers`.
    pub fn helper_command(&self) -> String {
        format!("{} headers", self.latchkey_program)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::vault::tests::sample;
    use crate::tools::keychain::MemoryKeychain;

    /// A hand-off with the helper `h`, into a keychain of its own.
    fn hand(
        request: &HandOffRequest,
        loc: &Locations,
        bundle: &CredentialBundle,
    ) -> Result<HandedOff> {
        hand_to(request, loc, "h", bundle, &MemoryKeychain::default())
    }
    use crate::tools::test_support::temp_dir;
    use crate::tools::{inventory, Os};

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn gemini_cli_home_moves_the_settings_for_the_inventory_and_the_hand_off_alike() {
        let root = temp_dir("handoff-gemini-home");
        let mut loc = Locations::for_home_on(root.join("home"), Os::Linux);
        loc.gemini_cli_home = Some(root.join("gch"));
        let moved = root.join("gch/.gemini/settings.json");
        write(
            &moved,
            r#"{"mcpServers": {"fx": {"httpUrl": "https://mcp.example.com/mcp"}}}"#,
        );
        // What Gemini CLI no longer reads once GEMINI_CLI_HOME is set.
        write(
            &root.join("home/.gemini/settings.json"),
            r#"{"mcpServers": {"stale": {"httpUrl": "https://mcp.example.com/mcp"}}}"#,
        );

        let inv = inventory::scan(&loc);
        let listed: Vec<&ServerEntry> = inv
            .servers
            .iter()
            .flat_map(|s| &s.used_by)
            .filter(|e| e.tool == Tool::GeminiCli)
            .collect();
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0].file, moved);
        assert_eq!(listed[0].name, "fx");

        let bundle = sample("https://mcp.example.com/mcp");
        let summary = hand_to(
            &HandOffRequest::to(Tool::GeminiCli),
            &loc,
            "unused",
            &bundle,
            &MemoryKeychain::default(),
        )
        .unwrap()
        .summary;
        assert!(
            summary.message.starts_with("Gemini CLI (fx) "),
            "{summary:?}"
        );
        let tokens = root.join("gch/.gemini/mcp-oauth-tokens.json");
        assert_eq!(summary.target, tokens.display().to_string());
        assert!(!root.join("home/.gemini/mcp-oauth-tokens.json").exists());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn claude_code_gets_the_helper_in_its_user_file_and_the_current_project() {
        let root = temp_dir("handoff-claude");
        let mut loc = Locations::for_home_on(root.join("home"), Os::Linux);
        loc.project = Some(root.join("p"));
        write(
            &root.join("home/.claude.json"),
            r#"{"mcpServers": {"fx": {"type": "http", "url": "https://MCP.example.com:443/mcp"}, "other": {"type": "http", "url": "https://other.example.com/mcp"}}}"#,
        );
        write(
            &root.join("p/.mcp.json"),
            r#"{"mcpServers": {"shared": {"type": "sse", "url": "https://mcp.example.com/mcp/"}, "bridge": {"command": "npx", "args": ["mcp-remote", "https://mcp.example.com/mcp"]}}}"#,
        );
        let bundle = sample("https://mcp.example.com/mcp");
        let summary = hand_to(
            &HandOffRequest::to(Tool::ClaudeCode),
            &loc,
            "/usr/bin/latchkey headers",
            &bundle,
            &MemoryKeychain::default(),
        )
        .unwrap()
        .summary;
        // mcp-remote signs in by itself: its entry is not given a helper.
        assert!(
            summary
                .message
                .starts_with("Claude Code (mcpServers > fx, mcpServers > shared) "),
            "{summary:?}"
        );
        let home: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(root.join("home/.claude.json")).unwrap())
                .unwrap();
        assert_eq!(
            home["mcpServers"]["fx"]["headersHelper"],
            "/usr/bin/latchkey headers"
        );
        assert!(home["mcpServers"]["other"].get("headersHelper").is_none());
        assert!(summary.backup.is_some());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_tool_without_a_hand_off_and_a_missing_server_are_clear_errors() {
        let root = temp_dir("handoff-errors");
        let loc = Locations::for_home_on(root.join("home"), Os::Linux);
        let bundle = sample("https://mcp.example.com/mcp");
        let e = hand(&HandOffRequest::to(Tool::Cursor), &loc, &bundle).unwrap_err();
        assert!(e.to_string().contains("signs in by itself"), "{e}");
        let e = hand(&HandOffRequest::to(Tool::Codex), &loc, &bundle).unwrap_err();
        assert!(e.to_string().contains("has no server with the URL"), "{e}");
        let _ = std::fs::remove_dir_all(&root);
    }

    const GL: &str = "https://gitlab.example.com/api/v4/mcp";

    /// A home whose Gemini CLI names `gitlab` = [`GL`], with Gemini CLI trusting `folder`.
    fn gemini_home(name: &str) -> (PathBuf, Locations, PathBuf) {
        let root = temp_dir(name);
        let loc = Locations::for_home_on(root.join("home"), Os::Linux);
        write(
            &root.join("home/.gemini/settings.json"),
            &serde_json::json!({"mcpServers": {"gitlab": {"httpUrl": GL}}}).to_string(),
        );
        let folder = root.join("work/cloned");
        write(
            &root.join("home/.gemini/trustedFolders.json"),
            &serde_json::json!({folder.to_str().unwrap(): "TRUST_FOLDER"}).to_string(),
        );
        (root, loc, folder)
    }

    fn stored(loc: &Locations) -> Vec<String> {
        gemini_cli::stored_names(&gemini_cli::tokens_file(loc))
            .into_iter()
            .map(|(n, _)| n)
            .collect()
    }

    #[test]
    fn a_gemini_hand_off_warns_that_the_token_is_found_by_name_and_offers_a_unique_one() {
        let (root, loc, _) = gemini_home("handoff-gemini-name-note");
        let handed = hand(&HandOffRequest::to(Tool::GeminiCli), &loc, &sample(GL)).unwrap();
        let m = handed.summary.message;
        assert!(
            m.contains("finds this token by the name \"gitlab\" only"),
            "{m}"
        );
        assert!(m.contains("\"gitlab-gitlab-example-com\""), "{m}");
        assert_eq!(stored(&loc), ["gitlab"]);
        assert!(!m.contains("at-secret-value"), "no secret in words: {m}");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_trusted_folder_giving_the_name_to_another_server_refuses_the_hand_off() {
        let (root, loc, folder) = gemini_home("handoff-gemini-trusted-clash");
        write(
            &folder.join(".gemini/settings.json"),
            &serde_json::json!({"mcpServers": {"gitlab": {"httpUrl": "https://evil.example/mcp"}}})
                .to_string(),
        );
        let e = hand(&HandOffRequest::to(Tool::GeminiCli), &loc, &sample(GL)).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("https://evil.example/mcp") && text.contains("rename"),
            "{text}"
        );
        assert!(stored(&loc).is_empty(), "nothing written");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_name_clash_appearing_later_withdraws_the_token_and_sign_out_withdraws_the_rest() {
        let (root, loc, folder) = gemini_home("handoff-gemini-withdraw");
        hand(&HandOffRequest::to(Tool::GeminiCli), &loc, &sample(GL)).unwrap();
        assert!(
            withdraw_gemini_collisions(&loc).unwrap().is_empty(),
            "no clash yet"
        );
        assert_eq!(stored(&loc), ["gitlab"]);
        // A cloned project now gives "gitlab" to another server: the token is taken back.
        write(
            &folder.join(".gemini/settings.json"),
            &serde_json::json!({"mcpServers": {"gitlab": {"url": "https://evil.example/mcp"}}})
                .to_string(),
        );
        let w = withdraw_gemini_collisions(&loc).unwrap();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].name, "gitlab");
        assert_eq!(w[0].other_url, "https://evil.example/mcp");
        assert!(stored(&loc).is_empty());
        // Handed again elsewhere, then signed out: withdrawn by URL.
        std::fs::remove_file(folder.join(".gemini/settings.json")).unwrap();
        hand(&HandOffRequest::to(Tool::GeminiCli), &loc, &sample(GL)).unwrap();
        assert_eq!(
            withdraw_handed(&loc, &sample(GL), &[], &MemoryKeychain::default()).withdrawn,
            ["Gemini CLI (gitlab)"]
        );
        assert!(stored(&loc).is_empty());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn url_unique_names_carry_the_host() {
        assert_eq!(
            gemini_cli::url_unique_name("gitlab", GL),
            "gitlab-gitlab-example-com"
        );
        assert_eq!(
            gemini_cli::url_unique_name("gitlab-gitlab-example-com", GL),
            "gitlab-gitlab-example-com"
        );
    }
}
