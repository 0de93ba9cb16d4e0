//! Connecting a server to the tools a person picks, and undoing it: `connect` gives each tool
//! the best way it has to use Latchkey's token (Claude Code's `headersHelper`, Codex's
//! `http_headers_helper`, else a stdio entry running `latchkey bridge URL`), in the entry the
//! tool already has for the server (its name kept; an mcp-remote entry replaced in place) or a
//! new one; `disconnect` puts each entry back byte for byte; `add` signs in then connects;
//! `remove` disconnects every tool then signs out.
//!
//! Every edit goes through [`Snapshot`]: atomic, the file's permissions kept, a backup of what
//! was there, refused when the file changed since it was read. What `disconnect` needs is
//! kept beside each file ([`connections`]).

use crate::error::{Error, Result};
use crate::oauth::plan::SignInPlan;
use crate::store::atomic_file::Snapshot;
use crate::store::vault::{self, CredentialBundle};
use crate::tools::connections::{self, Connection};
use crate::tools::{
    read_for_writing, shell_unquoted, user_sources, Launch, Locations, ServerEntry, Source, Tool,
};
use crate::usecase::engine::Latchkey;
use crate::usecase::hand_off::files_of;
use crate::usecase::sign_in::{SignInEvent, SignInOptions};
use std::path::{Path, PathBuf};

/// What happened to one entry of a tool's config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// A new entry for the server was added.
    Added,
    /// The entry the tool had (e.g. mcp-remote, or its own sign-in) now uses Latchkey.
    Replaced,
    /// It was already connected: nothing was written.
    Already,
    /// The entry as it was before connecting was put back.
    Restored,
    /// The entry Latchkey had added was taken out.
    Removed,
}

/// One entry connected or disconnected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryChange {
    /// The config file.
    pub file: PathBuf,
    /// The entry's name in it (kept from what was there).
    pub entry: String,
    /// What happened.
    pub change: Change,
    /// The copy of the file before this edit, when it was written.
    pub backup: Option<PathBuf>,
}

/// What connecting or disconnecting did for one tool: its entries, or why it could not.
#[derive(Debug)]
pub struct ToolOutcome {
    /// The tool.
    pub tool: Tool,
    /// How the tool now gets the token, in words (for connect).
    pub how: &'static str,
    /// Every entry changed, or what went wrong (nothing written for that file).
    pub result: Result<Vec<EntryChange>>,
}

/// How `tool` gets the token once connected, in words.
pub fn how_connected(tool: Tool) -> &'static str {
    match tool {
        Tool::ClaudeCode => "asks Latchkey for fresh headers on every connection (headersHelper)",
        Tool::Codex => "asks Latchkey for fresh headers on every connection (http_headers_helper)",
        _ => "starts `latchkey bridge`, which adds a fresh token to every request",
    }
}

/// The server as connect names it: its id, its URL, and the name a new entry gets.
struct Target {
    id: String,
    url: String,
    name: String,
}

/// A name for a new entry from the URL's host: its first label that says something
/// (`mcp.linear.app` -> `linear`), else the host.
fn name_from_url(url: &str) -> String {
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "server".into());
    host.split('.')
        .find(|l| !["mcp", "api", "www"].contains(l) && !l.chars().all(|c| c.is_ascii_digit()))
        .filter(|_| host.parse::<std::net::IpAddr>().is_err())
        .map(str::to_string)
        .unwrap_or(host)
}

/// Whether `tool` is installed for this user: its config folder is there (Claude Code: its
/// `.claude.json` or `~/.claude`).
pub fn installed(loc: &Locations, tool: Tool) -> bool {
    if tool == Tool::ClaudeCode {
        return crate::tools::claude_code::user_file(loc).exists()
            || loc.home.join(".claude").is_dir()
            || loc.claude_config_dir.as_ref().is_some_and(|d| d.is_dir());
    }
    user_file_of(loc, tool)
        .is_some_and(|s| s.path.exists() || s.path.parent().is_some_and(Path::is_dir))
}

fn user_file_of(loc: &Locations, tool: Tool) -> Option<Source> {
    user_sources(loc).into_iter().find(|s| s.tool() == tool)
}

/// The files `tool` reads for the user and the current project, as a hand-off finds them.
fn tool_files(loc: &Locations, tool: Tool) -> Vec<Source> {
    match user_file_of(loc, tool) {
        Some(user) => files_of(loc, user.kind),
        None => Vec::new(),
    }
}

fn points_to(e: &ServerEntry, id: &str) -> bool {
    e.url
        .as_deref()
        .and_then(|u| vault::server_id(u).ok())
        .is_some_and(|u| u == id)
}

/// One file's edit: read once, every entry changed in the text, the record written first
/// (so the original is never lost), then the file; the record is put back if the file could
/// not be written.
fn write_file(
    file: &Path,
    snap: &Snapshot,
    new_text: &str,
    record: &[Connection],
    old_record: &[Connection],
) -> Result<Option<PathBuf>> {
    connections::write_record(file, record)?;
    match snap.replace(new_text.as_bytes()) {
        Ok(backup) => Ok(backup),
        Err(e) => {
            let _ = connections::write_record(file, old_record);
            Err(e)
        }
    }
}

fn connect_tool(
    loc: &Locations,
    tool: Tool,
    target: &Target,
    launch: &Launch,
) -> Result<Vec<EntryChange>> {
    if !installed(loc, tool) {
        let at = user_file_of(loc, tool)
            .and_then(|s| s.path.parent().map(|d| d.display().to_string()))
            .unwrap_or_default();
        return Err(Error::ToolNotInstalled {
            tool: tool.to_string(),
            folder: at,
        });
    }
    let mut out = Vec::new();
    let files = tool_files(loc, tool);
    for source in &files {
        let entries: Vec<ServerEntry> = read_for_writing(source)?
            .into_iter()
            .filter(|e| e.tool == tool && points_to(e, &target.id))
            .collect();
        out.extend(connect_file(
            &source.path,
            tool,
            target,
            launch,
            &entries,
            false,
        )?);
    }
    if out.is_empty() {
        let user = user_file_of(loc, tool).expect("an installed tool has a user file");
        out.extend(connect_file(&user.path, tool, target, launch, &[], true)?);
    }
    Ok(out)
}

/// Connects the `entries` of one file (with `add`, a new entry when the file has none for
/// the server); entries already connected are left as they are.
fn connect_file(
    file: &Path,
    tool: Tool,
    target: &Target,
    launch: &Launch,
    entries: &[ServerEntry],
    add: bool,
) -> Result<Vec<EntryChange>> {
    let old_record = connections::read_record(file)?;
    let snap = Snapshot::read(file)?;
    let original_text = snap.text().unwrap_or_default();
    let mut text = original_text.clone();
    let mut record = old_record.clone();
    let mut out = Vec::new();
    // An entry the person took out of the file is forgotten; one they changed is theirs to
    // sort out (the error says where the original is kept).
    record.retain(|c| {
        !(c.server == target.id && c.tool == tool) || connections::is_present(&text, c, file)
    });
    let already: Vec<Connection> = record
        .iter()
        .filter(|c| c.server == target.id && c.tool == tool)
        .cloned()
        .collect();
    for c in &already {
        if !connections::is_connected(&text, c, file) {
            return Err(connections::entry_changed(file, c));
        }
        out.push(EntryChange {
            file: file.to_path_buf(),
            entry: c.name().to_string(),
            change: Change::Already,
            backup: None,
        });
    }
    let mut changed = Vec::new();
    for e in entries {
        if already.iter().any(|c| c.key_path == e.key_path) {
            continue;
        }
        let (new, c) =
            connections::connect_text(tool, file, &text, &target.id, &e.key_path, Some(e), launch)?;
        text = new;
        changed.push((c.name().to_string(), Change::Replaced));
        record.push(c);
    }
    if add && already.is_empty() && changed.is_empty() {
        let key_path = free_key_path(tool, file, &text, &target.name)?;
        let (new, c) =
            connections::connect_text(tool, file, &text, &target.id, &key_path, None, launch)?;
        text = new;
        changed.push((c.name().to_string(), Change::Added));
        record.push(c);
    }
    if changed.is_empty() && record.len() != old_record.len() {
        connections::write_record(file, &record)?;
    }
    if !changed.is_empty() {
        let backup = write_file(file, &snap, &text, &record, &old_record)?;
        out.extend(changed.into_iter().map(|(entry, change)| EntryChange {
            file: file.to_path_buf(),
            entry,
            change,
            backup: backup.clone(),
        }));
    }
    Ok(out)
}

/// `name` in the tool's servers, or `name-2`, `name-3`... when another server has it.
fn free_key_path(tool: Tool, file: &Path, text: &str, name: &str) -> Result<Vec<String>> {
    let servers = connections::servers_key(tool).to_string();
    for n in 1..100 {
        let candidate = if n == 1 {
            name.to_string()
        } else {
            format!("{name}-{n}")
        };
        let key_path = vec![servers.clone(), candidate];
        let taken = if tool == Tool::Codex {
            crate::tools::codex::section_span(text, &key_path[1]).is_some()
        } else if text.trim().is_empty() {
            false
        } else {
            let keys: Vec<&str> = key_path.iter().map(String::as_str).collect();
            crate::tools::json_edit::value_span(text, &keys)
                .map_err(|e| Error::BadConfig {
                    path: file.display().to_string(),
                    detail: e.0,
                })?
                .is_some()
        };
        if !taken {
            return Ok(key_path);
        }
    }
    Err(Error::BadConfig {
        path: file.display().to_string(),
        detail: format!("every name from {name} to {name}-99 is taken; give another with --name"),
    })
}

fn disconnect_tool(loc: &Locations, tool: Tool, id: &str) -> Result<Vec<EntryChange>> {
    let mut out = Vec::new();
    for source in tool_files(loc, tool) {
        let file = &source.path;
        let old_record = connections::read_record(file)?;
        let (mine, rest): (Vec<Connection>, Vec<Connection>) = old_record
            .iter()
            .cloned()
            .partition(|c| c.server == id && c.tool == tool);
        if mine.is_empty() {
            continue;
        }
        let snap = Snapshot::read(file)?;
        let mut text = snap.text().unwrap_or_default();
        // The last connected first, so each entry is put back into the text it was cut from.
        for c in mine.iter().rev() {
            text = connections::disconnect_text(file, &text, c)?;
        }
        let backup = write_file(file, &snap, &text, &rest, &old_record)?;
        out.extend(mine.iter().map(|c| EntryChange {
            file: file.clone(),
            entry: c.name().to_string(),
            change: if c.original.is_some() {
                Change::Restored
            } else {
                Change::Removed
            },
            backup: backup.clone(),
        }));
    }
    Ok(out)
}

/// A sign-in then its connections: what [`Latchkey::add`] did.
#[derive(Debug)]
pub struct Added {
    /// The new session.
    pub bundle: CredentialBundle,
    /// Each tool asked for.
    pub connected: Vec<ToolOutcome>,
}

/// A server taken out of every tool and signed out: what [`Latchkey::remove`] did.
#[derive(Debug)]
pub struct Removed {
    /// Each tool it was connected to.
    pub disconnected: Vec<ToolOutcome>,
    /// The sign-out, when there was a session.
    pub signed_out: Option<crate::usecase::sign_out::SignedOut>,
}

impl Latchkey {
    fn target(&self, server: &str, name: Option<&str>) -> Result<Target> {
        let id = self.resolve_server(server)?;
        let bundle = self.store.load(&id)?;
        let url = match &bundle {
            Some(b) => b.server_url.clone(),
            None if server.contains("://") => server.to_string(),
            // Named by a tool's entry: its canonical URL (the bridge signs in on first use).
            None => id.clone(),
        };
        let name = name
            .map(str::to_string)
            .or_else(|| bundle.as_ref().and_then(|b| b.names.first().cloned()))
            .or_else(|| self.name_in_tools(&id))
            .unwrap_or_else(|| name_from_url(&url));
        Ok(Target { id, url, name })
    }

    /// The name the person's tools already give the server (the first in tool order), so a
    /// new entry is called as the others are.
    fn name_in_tools(&self, id: &str) -> Option<String> {
        crate::tools::scan(&self.locations)
            .entries
            .into_iter()
            .find(|e| points_to(e, id))
            .map(|e| e.name)
    }

    /// What a connected tool runs: this engine's `latchkey` program.
    fn launch(&self, url: &str) -> Launch {
        Launch {
            url: url.to_string(),
            program: shell_unquoted(&self.latchkey_program),
            helper: self.helper_command(),
        }
    }

    /// The tools installed for this user (their config folders exist), in list order.
    pub fn installed_tools(&self) -> Vec<Tool> {
        Tool::ALL
            .into_iter()
            .filter(|t| installed(&self.locations, *t))
            .collect()
    }

    /// Connects `server` (a URL or a name) to each of `tools`: the entry each has for the
    /// server (kept under its name) or a new one named `name` (default: the server's name in
    /// Latchkey, else the name the person's tools give it, else one from its host). `server`
    /// may also be the name a tool's entry gives it. A tool that fails does not stop the
    /// others; its outcome says why and nothing was written to that file.
    ///
    /// Errors: those of [`Latchkey::resolve_server`] (a name that names no server, or several).
    pub fn connect(
        &self,
        server: &str,
        tools: &[Tool],
        name: Option<&str>,
    ) -> Result<Vec<ToolOutcome>> {
        let target = self.target(server, name)?;
        let launch = self.launch(&target.url);
        Ok(tools
            .iter()
            .map(|&tool| ToolOutcome {
                tool,
                how: how_connected(tool),
                result: connect_tool(&self.locations, tool, &target, &launch),
            })
            .collect())
    }

    /// Puts back every entry of `tools` that [`Latchkey::connect`] changed for `server`, byte
    /// for byte (an entry Latchkey added is taken out). An entry changed since is left as it
    /// is, and its outcome says where the original is kept.
    pub fn disconnect(&self, server: &str, tools: &[Tool]) -> Result<Vec<ToolOutcome>> {
        let id = self.resolve_server(server)?;
        Ok(tools
            .iter()
            .map(|&tool| ToolOutcome {
                tool,
                how: "",
                result: disconnect_tool(&self.locations, tool, &id),
            })
            .collect())
    }

    /// The tools `server` is connected to (entries still as Latchkey left them).
    pub fn connected_tools(&self, server: &str) -> Result<Vec<Tool>> {
        let id = self.resolve_server(server)?;
        let mut out = Vec::new();
        for tool in Tool::ALL {
            let connected = tool_files(&self.locations, tool).iter().any(|s| {
                let text = std::fs::read_to_string(&s.path).unwrap_or_default();
                connections::read_record(&s.path)
                    .unwrap_or_default()
                    .iter()
                    .any(|c| {
                        c.server == id
                            && c.tool == tool
                            && connections::is_connected(&text, c, &s.path)
                    })
            });
            if connected {
                out.push(tool);
            }
        }
        Ok(out)
    }

    /// Adds a server once: signs in with `plan` (as [`Latchkey::sign_in`]), then connects it
    /// to `tools` under `options.name` (or the server's name).
    pub async fn add(
        &self,
        plan: &SignInPlan,
        options: &SignInOptions,
        tools: &[Tool],
        progress: &(dyn Fn(SignInEvent) + Send + Sync),
    ) -> Result<Added> {
        let bundle = self.sign_in(plan, options, progress).await?;
        let connected = self.connect(&bundle.server_id, tools, options.name.as_deref())?;
        Ok(Added { bundle, connected })
    }

    /// Removes a server: disconnects it from every tool it was connected to, then signs it
    /// out (even when a tool could not be disconnected: its outcome says why).
    pub async fn remove(&self, server: &str) -> Result<Removed> {
        let id = self.resolve_server(server)?;
        let mut disconnected = Vec::new();
        for tool in Tool::ALL {
            let has_record = tool_files(&self.locations, tool).iter().any(|s| {
                connections::read_record(&s.path)
                    .unwrap_or_default()
                    .iter()
                    .any(|c| c.server == id && c.tool == tool)
            });
            if has_record {
                disconnected.push(ToolOutcome {
                    tool,
                    how: "",
                    result: disconnect_tool(&self.locations, tool, &id),
                });
            }
        }
        let signed_out = self.sign_out(&id).await?;
        Ok(Removed {
            disconnected,
            signed_out,
        })
    }
}

#[cfg(test)]
#[path = "connect_tests.rs"]
mod tests;
