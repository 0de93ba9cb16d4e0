//! Claude Desktop: `claude_desktop_config.json` in its app folder (macOS
//! `~/Library/Application Support/Claude`, Windows `%APPDATA%\Claude`, Linux `~/.config/Claude`),
//! plain JSON, `mcpServers: {name: {command, args, env}}`. It starts only local commands:
//! remote servers appear as `npx -y mcp-remote URL ...`, recognised with their flags.

use super::common::Ctx;
use super::tree::{Node, Syntax};
use super::{Format, Locations, Tool};
use std::path::PathBuf;

/// Claude Desktop's `claude_desktop_config.json` in its folder of the app config folder.
pub fn config_file(loc: &Locations) -> PathBuf {
    loc.app_config_dir
        .join("Claude")
        .join("claude_desktop_config.json")
}

/// How Claude Desktop's files are found and read (registered in [`super::SourceKind`]).
pub(crate) static FORMAT: Format = Format {
    tool: Tool::ClaudeDesktop,
    syntax: Syntax::Json,
    user_file: Some(config_file),
    project_file: None,
    read,
};

pub(crate) fn read(ctx: &mut Ctx<'_>, root: &Node) {
    let scope = ctx.source.config_scope.clone();
    for (name, s) in ctx.server_map(root, &["mcpServers"]) {
        let command = ctx.string(name, s, "command");
        let Some(command) = command else {
            let message = if s.get("url").is_some() || s.get("serverUrl").is_some() {
                "Claude Desktop only starts local commands from this file and ignores a \"url\"; \
                 run the server through mcp-remote, or add it under Settings > Connectors"
            } else {
                "it has no \"command\""
            };
            ctx.problem(s.pos, Some(name), message);
            continue;
        };
        let args = ctx.strings(name, s, "args");
        ctx.push_command(name, s.pos, scope.clone(), &command, &args, true);
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
