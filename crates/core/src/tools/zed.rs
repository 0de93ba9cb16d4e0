//! Zed: `settings.json` in its config folder (`~/.config/zed` on Linux and macOS,
//! `%APPDATA%\Zed` on Windows) and a project's `.zed/settings.json`, JSON with comments and
//! trailing commas. `context_servers` entries (Zed's `ContextServerSettingsContent`) are
//! `{command, args, env}` (stdio; older files: `command: {path, args, env}`), `{url, headers,
//! oauth: {client_id, client_secret}}` (remote), or `{settings}` for a server an extension
//! provides; each may say `enabled: false`.

use super::common::{headers, oauth_or_none, shown_value, Ctx};
use super::tree::{Node, Syntax};
use super::{Format, Locations, OAuthSettings, Tool, Transport};
use std::path::PathBuf;

/// A project's file, relative to the project folder.
pub const PROJECT_FILE: &str = ".zed/settings.json";

/// The user's settings, `settings.json` in Zed's config folder.
pub fn user_file(loc: &Locations) -> PathBuf {
    loc.zed_config_dir.join("settings.json")
}

/// How Zed's files are found and read (registered in [`super::SourceKind`]).
pub(crate) static FORMAT: Format = Format {
    tool: Tool::Zed,
    syntax: Syntax::Jsonc,
    user_file: Some(user_file),
    project_file: Some(PROJECT_FILE),
    read,
};

pub(crate) fn read(ctx: &mut Ctx<'_>, root: &Node) {
    let scope = ctx.source.config_scope.clone();
    for (name, s) in ctx.server_map(root, &["context_servers"]) {
        let enabled = ctx.boolean(name, s, "enabled").unwrap_or(true);
        if let Some(url) = ctx.string(name, s, "url") {
            let mut entry = ctx.entry(name, s.pos, scope.clone(), Transport::Http);
            entry.url = Some(url);
            entry.enabled = enabled;
            entry.auth.headers = headers(ctx.string_map(name, s, "headers"));
            if let Some(o) = s.get("oauth") {
                if o.is_object() {
                    let oauth = OAuthSettings {
                        client_id: ctx.string(name, o, "client_id"),
                        client_secret: ctx
                            .string(name, o, "client_secret")
                            .map(|v| shown_value(&v)),
                        ..Default::default()
                    };
                    entry.auth.oauth = oauth_or_none(oauth);
                } else {
                    ctx.problem(
                        o.pos,
                        Some(name),
                        format!("\"oauth\" should be an object, but is {}", o.describe()),
                    );
                }
            }
            ctx.push(entry);
            continue;
        }
        match s.get("command") {
            Some(c) if c.is_object() => {
                let Some(path) = ctx.string(name, c, "path") else {
                    ctx.problem(c.pos, Some(name), "\"command\" has no \"path\"");
                    continue;
                };
                let args = ctx.strings(name, c, "args");
                ctx.push_command(name, s.pos, scope.clone(), &path, &args, enabled);
            }
            Some(_) => {
                let Some(command) = ctx.string(name, s, "command") else {
                    continue;
                };
                let args = ctx.strings(name, s, "args");
                ctx.push_command(name, s.pos, scope.clone(), &command, &args, enabled);
            }
            None if s.get("settings").is_some()
                || s.get("source").and_then(Node::as_str) == Some("extension") =>
            {
                // Started by a Zed extension: a local server whose command Zed supplies.
                let mut entry = ctx.entry(name, s.pos, scope.clone(), Transport::Stdio);
                entry.enabled = enabled;
                entry.command = Some("(Zed extension)".into());
                ctx.push(entry);
            }
            None => ctx.missing(s.pos, name, "it has neither a \"url\" nor a \"command\""),
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
