//! Claude Code: `~/.claude.json` (or `$CLAUDE_CONFIG_DIR/.claude.json`) holds the user's
//! servers in `mcpServers` and each project's private ("local" scope) servers in
//! `projects[path].mcpServers`; a project's shared servers are in its `.mcp.json`
//! (`{"mcpServers": {...}}`).
//!
//! Entry shape (from the schema in the Claude Code 2.1 binary): `type` is `stdio` (optional,
//! with `command`, `args`, `env`), `http` or `streamable-http` (with `url`), or `sse` (with
//! `url`); remote entries may have `headers`, `headersHelper` and
//! `oauth {clientId, callbackPort, authServerMetadataUrl, scopes}` (scopes space-separated).
//! A `url` without `type` does not validate in Claude Code. The files are plain JSON.

use super::common::{headers, oauth_or_none, shown_command, split_scopes, Ctx};
use super::tree::Node;
use super::{Locations, OAuthSettings, Scope, Transport};
use std::path::PathBuf;

/// `$CLAUDE_CONFIG_DIR/.claude.json`, else `~/.claude.json`.
pub fn user_file(loc: &Locations) -> PathBuf {
    match &loc.claude_config_dir {
        Some(dir) => dir.join(".claude.json"),
        None => loc.home.join(".claude.json"),
    }
}

pub(crate) fn read_user(ctx: &mut Ctx<'_>, root: &Node) {
    for (name, server) in ctx.server_map(root, "mcpServers") {
        read_server(ctx, name, server, Scope::User);
    }
    let Some(projects) = root.get("projects") else {
        return;
    };
    let Some(projects) = projects.members() else {
        ctx.problem(
            projects.pos,
            None,
            format!(
                "\"projects\" should be an object keyed by project folder, but is {}",
                projects.describe()
            ),
        );
        return;
    };
    for (path, project) in projects {
        ctx.known_projects.push(PathBuf::from(path));
        if !project.is_object() {
            continue;
        }
        let scope = Scope::Local {
            project: PathBuf::from(path),
        };
        for (name, server) in ctx.server_map(project, "mcpServers") {
            read_server(ctx, name, server, scope.clone());
        }
    }
}

pub(crate) fn read_project(ctx: &mut Ctx<'_>, root: &Node) {
    let scope = ctx.source.scope.clone();
    for (name, server) in ctx.server_map(root, "mcpServers") {
        read_server(ctx, name, server, scope.clone());
    }
}

fn read_server(ctx: &mut Ctx<'_>, name: &str, s: &Node, scope: Scope) {
    let kind = ctx.string(name, s, "type");
    let url = ctx.string(name, s, "url");
    let command = ctx.string(name, s, "command");
    let transport = match kind.as_deref() {
        Some("http") | Some("streamable-http") => Transport::Http,
        Some("sse") => Transport::Sse,
        Some("stdio") => Transport::Stdio,
        None if command.is_some() => Transport::Stdio,
        None if url.is_some() => {
            ctx.problem(
                s.pos,
                Some(name),
                "it has a \"url\" but no \"type\"; Claude Code needs \"type\": \"http\" (or \"sse\") to use it",
            );
            return;
        }
        None => {
            ctx.missing(
                s.pos,
                name,
                "it has neither a \"command\" nor a \"type\" and \"url\"",
            );
            return;
        }
        Some(other) => {
            ctx.problem(
                s.pos,
                Some(name),
                format!("its type {other:?} is not one Latchkey reads (stdio, http, sse)"),
            );
            return;
        }
    };
    if transport == Transport::Stdio {
        let Some(command) = command else {
            ctx.problem(
                s.pos,
                Some(name),
                "it is a stdio server without a \"command\"",
            );
            return;
        };
        let args = ctx.strings(name, s, "args");
        ctx.push_command(name, s.pos, scope, &command, &args, true);
        return;
    }
    let Some(url) = url else {
        ctx.problem(
            s.pos,
            Some(name),
            format!("it is a {transport} server without a \"url\""),
        );
        return;
    };
    let mut entry = ctx.entry(name, s.pos, scope, transport);
    entry.url = Some(url);
    entry.auth.headers = headers(ctx.string_map(name, s, "headers"));
    entry.auth.headers_helper = ctx
        .string(name, s, "headersHelper")
        .map(|c| shown_command(&c));
    if let Some(o) = s.get("oauth") {
        if o.is_object() {
            let oauth = OAuthSettings {
                client_id: ctx.string(name, o, "clientId"),
                callback_port: ctx.port(name, o, "callbackPort"),
                auth_server_metadata_url: ctx.string(name, o, "authServerMetadataUrl"),
                scopes: ctx
                    .string(name, o, "scopes")
                    .map(|s| split_scopes(&s))
                    .unwrap_or_default(),
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
}
