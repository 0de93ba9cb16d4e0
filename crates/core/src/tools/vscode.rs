//! VS Code: the user's `mcp.json` (`Code/User/mcp.json` in the app config folder: Linux
//! `~/.config`, macOS `~/Library/Application Support`, Windows `%APPDATA%`) and a workspace's
//! `.vscode/mcp.json`. JSON with comments and trailing commas; top key `servers`, each with
//! `type` `stdio` (`command`, `args`) or `http` / `sse` (`url`, `headers`); `inputs` lists
//! prompted values that `${input:id}` refers to.

use super::common::{headers, Ctx};
use super::tree::{Node, Syntax};
use super::{Format, Locations, Tool, Transport};
use std::path::PathBuf;

/// A workspace's file, relative to the workspace folder.
pub const PROJECT_FILE: &str = ".vscode/mcp.json";

/// The user's `Code/User/mcp.json` in the app config folder.
pub fn user_file(loc: &Locations) -> PathBuf {
    loc.app_config_dir
        .join("Code")
        .join("User")
        .join("mcp.json")
}

/// How VS Code's files are found and read (registered in [`super::SourceKind`]).
pub(crate) static FORMAT: Format = Format {
    tool: Tool::VsCode,
    syntax: Syntax::Jsonc,
    user_file: Some(user_file),
    project_file: Some(PROJECT_FILE),
    read,
};

pub(crate) fn read(ctx: &mut Ctx<'_>, root: &Node) {
    if let Some(inputs) = root.get("inputs") {
        if inputs.as_array().is_none() {
            ctx.problem(
                inputs.pos,
                None,
                format!("\"inputs\" should be a list, but is {}", inputs.describe()),
            );
        }
    }
    let scope = ctx.source.config_scope.clone();
    for (name, s) in ctx.server_map(root, &["servers"]) {
        let kind = ctx.string(name, s, "type");
        let url = ctx.string(name, s, "url");
        let command = ctx.string(name, s, "command");
        let transport = match kind.as_deref() {
            Some("http") => Transport::Http,
            Some("sse") => Transport::Sse,
            Some("stdio") => Transport::Stdio,
            None if command.is_some() => Transport::Stdio,
            None if url.is_some() => Transport::Http,
            None => {
                ctx.missing(s.pos, name, "it has neither a \"command\" nor a \"url\"");
                continue;
            }
            Some(other) => {
                ctx.problem(
                    s.pos,
                    Some(name),
                    format!("its type {other:?} is not one VS Code knows (stdio, http, sse)"),
                );
                continue;
            }
        };
        if transport == Transport::Stdio {
            let Some(command) = command else {
                ctx.problem(
                    s.pos,
                    Some(name),
                    "it is a stdio server without a \"command\"",
                );
                continue;
            };
            let args = ctx.strings(name, s, "args");
            ctx.push_command(name, s.pos, scope.clone(), &command, &args, true);
            continue;
        }
        let Some(url) = url else {
            ctx.problem(
                s.pos,
                Some(name),
                format!("it is a {transport} server without a \"url\""),
            );
            continue;
        };
        let mut entry = ctx.entry(name, s.pos, scope.clone(), transport);
        entry.url = Some(url);
        entry.auth.headers = headers(ctx.string_map(name, s, "headers"));
        ctx.push(entry);
    }
}

/// Connecting a server: a stdio entry (`"type": "stdio"`) running `latchkey bridge URL`
/// (VS Code cannot take a header from a helper command).
pub fn connect_edit(
    existing: Option<&super::ServerEntry>,
    launch: &super::common::Launch,
) -> super::common::EntryEdit {
    super::common::bridge_edit(existing, launch, true)
}
