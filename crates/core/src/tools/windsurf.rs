//! Windsurf: `~/.codeium/windsurf/mcp_config.json`, `mcpServers` with `command` (stdio) or
//! `serverUrl` (remote; `url` is read too), optional `headers`, `disabled`. Values may use
//! `${env:VAR}`. Read as JSON with comments and trailing commas.

use super::common::{headers, Ctx};
use super::tree::{Node, Syntax};
use super::{Format, Locations, Tool, Transport};
use std::path::PathBuf;

/// Windsurf's `mcp_config.json` in `~/.codeium/windsurf`.
pub fn config_file(loc: &Locations) -> PathBuf {
    loc.home
        .join(".codeium")
        .join("windsurf")
        .join("mcp_config.json")
}

/// How Windsurf's files are found and read (registered in [`super::SourceKind`]).
pub(crate) static FORMAT: Format = Format {
    tool: Tool::Windsurf,
    syntax: Syntax::Jsonc,
    user_file: Some(config_file),
    project_file: None,
    read,
};

pub(crate) fn read(ctx: &mut Ctx<'_>, root: &Node) {
    let scope = ctx.source.config_scope.clone();
    for (name, s) in ctx.server_map(root, &["mcpServers"]) {
        let url = match ctx.string(name, s, "serverUrl") {
            Some(u) => Some(u),
            None => ctx.string(name, s, "url"),
        };
        let command = ctx.string(name, s, "command");
        let enabled = !ctx.boolean(name, s, "disabled").unwrap_or(false);
        match (url, command) {
            (Some(url), _) => {
                let mut entry = ctx.entry(name, s.pos, scope.clone(), Transport::Http);
                entry.url = Some(url);
                entry.enabled = enabled;
                entry.auth.headers = headers(ctx.string_map(name, s, "headers"));
                ctx.push(entry);
            }
            (None, Some(command)) => {
                let args = ctx.strings(name, s, "args");
                ctx.push_command(name, s.pos, scope.clone(), &command, &args, enabled);
            }
            (None, None) => ctx.missing(
                s.pos,
                name,
                "it has neither a \"serverUrl\" nor a \"command\"",
            ),
        }
    }
}

/// Connecting a server: a stdio entry running `latchkey bridge URL` (this tool cannot take a
/// header from a helper command).
pub fn connect_edit(
    existing: Option<&super::ServerEntry>,
    launch: &super::common::Launch,
) -> super::common::EntryEdit {
    super::common::bridge_edit(existing, launch, false)
}
