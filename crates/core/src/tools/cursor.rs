//! Cursor: `~/.cursor/mcp.json` and a project's `.cursor/mcp.json`, `mcpServers` with either
//! `command` (stdio) or `url` (Streamable HTTP, falling back to SSE; an explicit `type` may
//! say `sse`), optional `headers` and a static OAuth client in
//! `auth {CLIENT_ID, CLIENT_SECRET, scopes}`. Values may use `${env:VAR}`.
//! Read as JSON with comments and trailing commas, as Cursor (a VS Code fork) is lenient.

use super::common::{headers, oauth_or_none, shown_value, Ctx};
use super::tree::{Node, Syntax};
use super::{Format, Locations, OAuthSettings, Tool, Transport};
use std::path::PathBuf;

/// A project's file, relative to the project folder.
pub const PROJECT_FILE: &str = ".cursor/mcp.json";

/// The user's file, `~/.cursor/mcp.json`.
pub fn user_file(loc: &Locations) -> PathBuf {
    loc.home.join(".cursor").join("mcp.json")
}

/// How Cursor's files are found and read (registered in [`super::SourceKind`]).
pub(crate) static FORMAT: Format = Format {
    tool: Tool::Cursor,
    syntax: Syntax::Jsonc,
    user_file: Some(user_file),
    project_file: Some(PROJECT_FILE),
    read,
};

pub(crate) fn read(ctx: &mut Ctx<'_>, root: &Node) {
    let scope = ctx.source.config_scope.clone();
    for (name, s) in ctx.server_map(root, &["mcpServers"]) {
        let url = ctx.string(name, s, "url");
        let command = ctx.string(name, s, "command");
        let kind = ctx.string(name, s, "type");
        match (url, command) {
            (Some(url), _) => {
                let transport = match kind.as_deref() {
                    Some("sse") => Transport::Sse,
                    _ => Transport::Http,
                };
                let mut entry = ctx.entry(name, s.pos, scope.clone(), transport);
                entry.url = Some(url);
                entry.auth.headers = headers(ctx.string_map(name, s, "headers"));
                if let Some(a) = s.get("auth") {
                    if a.is_object() {
                        let oauth = OAuthSettings {
                            client_id: ctx.string(name, a, "CLIENT_ID"),
                            client_secret: ctx
                                .string(name, a, "CLIENT_SECRET")
                                .map(|v| shown_value(&v)),
                            scopes: ctx.strings(name, a, "scopes"),
                            ..Default::default()
                        };
                        entry.auth.oauth = oauth_or_none(oauth);
                    } else {
                        ctx.problem(
                            a.pos,
                            Some(name),
                            format!("\"auth\" should be an object, but is {}", a.describe()),
                        );
                    }
                }
                ctx.push(entry);
            }
            (None, Some(command)) => {
                let args = ctx.strings(name, s, "args");
                ctx.push_command(name, s.pos, scope.clone(), &command, &args, true);
            }
            (None, None) => ctx.missing(s.pos, name, "it has neither a \"url\" nor a \"command\""),
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
