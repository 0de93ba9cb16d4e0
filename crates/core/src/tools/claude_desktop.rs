//! Claude Desktop: `claude_desktop_config.json` in its app folder (macOS
//! `~/Library/Application Support/Claude`, Windows `%APPDATA%\Claude`, Linux `~/.config/Claude`),
//! plain JSON, `mcpServers: {name: {command, args, env}}`. It starts only local commands:
//! remote servers appear as `npx -y mcp-remote URL ...`, recognised with their flags.

use super::common::Ctx;
use super::tree::Node;
use super::Locations;
use std::path::PathBuf;

pub fn config_file(loc: &Locations) -> PathBuf {
    loc.app_config_dir
        .join("Claude")
        .join("claude_desktop_config.json")
}

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
