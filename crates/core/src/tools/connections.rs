//! Connecting a server to a tool, at the level of one config file: each tool's module says
//! what its entry becomes ([`EntryEdit`], `connect_edit`); this module applies it to the
//! file's text (JSON, JSON with comments, or Codex's TOML), changing only the entry, and
//! keeps what `disconnect` needs to put the entry back byte for byte.
//!
//! What was there is kept beside the file it came from, in `<file>.latchkey-connected`
//! (readable by the owner only): an entry may hold a secret (an mcp-remote `env` or
//! `--header`), and a secret never goes to Latchkey's state folder. The file lists, per
//! connected entry, the server, the tool, the entry's key path, the entry's text before (none
//! when Latchkey added it) and after.

use super::common::{EntryEdit, Launch};
use super::{
    claude_code, claude_desktop, codex, cursor, gemini_cli, json_edit, vscode, windsurf, zed,
    ServerEntry, Tool,
};
use crate::error::{Error, Result};
use crate::store::atomic_file;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One entry Latchkey connected: enough to find it again and put back what was there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// The server's canonical URL (the vault's server id).
    pub server: String,
    /// The tool whose file it is.
    pub tool: Tool,
    /// The keys from the top of the file to the entry, the last being its name.
    pub key_path: Vec<String>,
    /// The entry's text before, byte for byte; `None` when Latchkey added the entry.
    pub original: Option<String>,
    /// The entry's text as Latchkey wrote it.
    pub written: String,
    /// Text Latchkey put before an entry it added (Codex: the blank line before its table).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub separator: String,
    /// JSON: how many of the objects on the way to an added entry Latchkey created (the
    /// innermost ones; `"mcpServers"` in a file that had none). Putting the entry back
    /// removes them again while they are empty, so the file reads as it did.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub created_objects: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Connection {
    /// The entry's name in the tool's config.
    pub fn name(&self) -> &str {
        self.key_path.last().map(String::as_str).unwrap_or_default()
    }
}

/// Where the connections of `file` are kept: `<file>.latchkey-connected`, beside it.
pub fn record_path(file: &Path) -> PathBuf {
    let mut name = file
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".latchkey-connected");
    file.with_file_name(name)
}

/// The connections kept for `file` (none when there is no record).
pub fn read_record(file: &Path) -> Result<Vec<Connection>> {
    let path = record_path(file);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::BadConfig {
            path: path.display().to_string(),
            detail: format!("Latchkey's record of what it connected cannot be read ({e})"),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::BadConfig {
            path: path.display().to_string(),
            detail: format!("Latchkey's record of what it connected cannot be read ({e})"),
        }),
    }
}

/// Writes the record of `file` (atomically, owner only), or removes it when it is empty.
pub fn write_record(file: &Path, connections: &[Connection]) -> Result<()> {
    let path = record_path(file);
    if connections.is_empty() {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::WriteFailed {
                path: path.display().to_string(),
                detail: e.to_string(),
            }),
            _ => Ok(()),
        };
    }
    let json = serde_json::to_vec_pretty(connections).map_err(|e| Error::WriteFailed {
        path: path.display().to_string(),
        detail: e.to_string(),
    })?;
    atomic_file::write_private(&path, &json)
}

/// Where a tool keeps its servers in its user file (new entries go there).
pub fn servers_key(tool: Tool) -> &'static str {
    match tool {
        Tool::VsCode => "servers",
        Tool::Zed => "context_servers",
        Tool::Codex => "mcp_servers",
        _ => "mcpServers",
    }
}

/// What `tool`'s entry for the server becomes (its module's `connect_edit`).
pub fn edit_for(tool: Tool, existing: Option<&ServerEntry>, launch: &Launch) -> EntryEdit {
    match tool {
        Tool::ClaudeCode => claude_code::connect_edit(existing, launch),
        Tool::ClaudeDesktop => claude_desktop::connect_edit(existing, launch),
        Tool::Cursor => cursor::connect_edit(existing, launch),
        Tool::VsCode => vscode::connect_edit(existing, launch),
        Tool::GeminiCli => gemini_cli::connect_edit(existing, launch),
        Tool::Codex => codex::connect_edit(existing, launch),
        Tool::Windsurf => windsurf::connect_edit(existing, launch),
        Tool::Zed => zed::connect_edit(existing, launch),
    }
}

fn bad(file: &Path, detail: impl Into<String>) -> Error {
    Error::BadConfig {
        path: file.display().to_string(),
        detail: detail.into(),
    }
}

fn keys(path: &[String]) -> Vec<&str> {
    path.iter().map(String::as_str).collect()
}

/// The span of the entry at `key_path` in `text`.
fn entry_span(
    tool: Tool,
    text: &str,
    key_path: &[String],
    file: &Path,
) -> Result<Option<std::ops::Range<usize>>> {
    if tool == Tool::Codex {
        let name = key_path.last().map(String::as_str).unwrap_or_default();
        return Ok(codex::section_span(text, name));
    }
    json_edit::value_span(text, &keys(key_path)).map_err(|e| bad(file, e.0))
}

/// Connects one entry in the text of `file`: `existing` is the entry the tool has for the
/// server at `key_path` (its name kept), or `None` to add one there. Returns the new text and
/// what to keep for `disconnect`. Only the entry's bytes change.
pub fn connect_text(
    tool: Tool,
    file: &Path,
    text: &str,
    server: &str,
    key_path: &[String],
    existing: Option<&ServerEntry>,
    launch: &Launch,
) -> Result<(String, Connection)> {
    let edit = edit_for(tool, existing, launch);
    let (name, parent) = key_path
        .split_last()
        .ok_or_else(|| bad(file, "an entry without a name"))?;
    let span = if existing.is_some() {
        Some(entry_span(tool, text, key_path, file)?.ok_or_else(|| {
            bad(
                file,
                format!("it has no server at {}", key_path.join(" > ")),
            )
        })?)
    } else {
        None
    };
    let original = span.clone().map(|s| text[s].to_string());
    let mut separator = String::new();
    let mut created_objects = 0;
    let new = if tool == Tool::Codex {
        let section = codex::edit_section(original.as_deref(), name, &edit);
        match &span {
            Some(s) => format!("{}{section}{}", &text[..s.start], &text[s.end..]),
            None => {
                separator = match text {
                    "" => "",
                    t if t.ends_with("\n\n") => "",
                    t if t.ends_with('\n') => "\n",
                    _ => "\n\n",
                }
                .to_string();
                format!("{text}{separator}{section}")
            }
        }
    } else {
        let text = if text.trim().is_empty() { "{}" } else { text };
        let parent = keys(parent);
        if existing.is_none() {
            // The objects on the way that are missing: set_object_member creates them.
            let present = (0..parent.len())
                .take_while(|&d| matches!(json_edit::value_span(text, &parent[..=d]), Ok(Some(_))))
                .count();
            created_objects = parent.len() - present;
        }
        let out = match &edit {
            EntryEdit::Members(members) if existing.is_some() => {
                let mut out = text.to_string();
                for (k, v) in members {
                    out = json_edit::set_member(&out, &keys(key_path), k, v)
                        .map_err(|e| bad(file, e.0))?;
                }
                out
            }
            EntryEdit::Members(members) | EntryEdit::Whole(members) => {
                json_edit::set_object_member(text, &parent, name, members)
                    .map_err(|e| bad(file, e.0))?
            }
        };
        if text == "{}" && out.starts_with("{\n") && !out.ends_with('\n') {
            format!("{out}\n")
        } else {
            out
        }
    };
    let written_span = entry_span(tool, &new, key_path, file)?
        .ok_or_else(|| bad(file, "the entry written cannot be found again"))?;
    Ok((
        new.clone(),
        Connection {
            server: server.to_string(),
            tool,
            key_path: key_path.to_vec(),
            original,
            written: new[written_span].to_string(),
            separator,
            created_objects,
        },
    ))
}

/// Whether the entry as it is now is still what Latchkey wrote: the same text, or (JSON) the
/// same value in another layout, as when the tool rewrote its file.
fn still_written(tool: Tool, now: &str, written: &str) -> bool {
    if now == written {
        return true;
    }
    tool != Tool::Codex
        && matches!(
            (json_edit::parse_value(now), json_edit::parse_value(written)),
            (Ok(a), Ok(b)) if a == b
        )
}

/// The entry of `c` no longer holds what Latchkey wrote.
pub fn entry_changed(file: &Path, c: &Connection) -> Error {
    Error::EntryChanged {
        path: file.display().to_string(),
        entry: c.key_path.join(" > "),
        record: record_path(file).display().to_string(),
    }
}

/// Whether the entry of `c` is still in `text` (as Latchkey left it or not).
pub fn is_present(text: &str, c: &Connection, file: &Path) -> bool {
    matches!(entry_span(c.tool, text, &c.key_path, file), Ok(Some(_)))
}

/// Whether the entry of `c` in `text` is still connected as Latchkey left it.
pub fn is_connected(text: &str, c: &Connection, file: &Path) -> bool {
    match entry_span(c.tool, text, &c.key_path, file) {
        Ok(Some(s)) => still_written(c.tool, &text[s], &c.written),
        _ => false,
    }
}

/// Puts the entry of `c` back in `text`: the original bytes where there was an entry, else
/// the entry removed (with what Latchkey put before it). An entry that is gone is left gone;
/// one changed since it was connected is refused, naming the record that keeps the original.
pub fn disconnect_text(file: &Path, text: &str, c: &Connection) -> Result<String> {
    let Some(span) = entry_span(c.tool, text, &c.key_path, file)? else {
        return Ok(text.to_string());
    };
    if !still_written(c.tool, &text[span.clone()], &c.written) {
        return Err(entry_changed(file, c));
    }
    Ok(match (&c.original, c.tool) {
        (Some(original), _) => format!("{}{original}{}", &text[..span.start], &text[span.end..]),
        (None, Tool::Codex) => {
            let start = if text[..span.start].ends_with(&c.separator) {
                span.start - c.separator.len()
            } else {
                span.start
            };
            format!("{}{}", &text[..start], &text[span.end..])
        }
        (None, _) => {
            let (name, parent) = c.key_path.split_last().expect("a key path has a name");
            let mut out =
                json_edit::remove_member(text, &keys(parent), name).map_err(|e| bad(file, e.0))?;
            // The objects Latchkey created for it go too, innermost first, while empty
            // (another entry added there since keeps them).
            let parent = keys(parent);
            let created = c.created_objects.min(parent.len());
            for depth in (parent.len() - created..parent.len()).rev() {
                let empty = matches!(
                    json_edit::get(&out, &parent[..=depth]),
                    Ok(Some(serde_json::Value::Object(m))) if m.is_empty()
                );
                if !empty {
                    break;
                }
                out = json_edit::remove_member(&out, &parent[..depth], parent[depth])
                    .map_err(|e| bad(file, e.0))?;
            }
            out
        }
    })
}
