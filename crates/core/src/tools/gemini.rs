//! Gemini CLI: `~/.gemini/settings.json` and a project's `.gemini/settings.json`, JSON with
//! comments (read with strip-json-comments, then `JSON.parse`). `mcpServers` entries have
//! `command` (stdio), `httpUrl` (Streamable HTTP, deprecated), or `url` with an optional
//! `type` (`http`, `sse`; without it Gemini tries Streamable HTTP first), optional `headers`,
//! `oauth {enabled, clientId, clientSecret, authorizationUrl, tokenUrl, scopes, redirectUri}`
//! and `authProviderType`. `mcp.excluded` / `mcp.allowed` turn servers off by name.

use super::common::{headers, oauth_or_none, shown_value, Ctx};
use super::tree::Node;
use super::{OAuthSettings, Transport};

pub(crate) fn read(ctx: &mut Ctx<'_>, root: &Node) {
    let mut excluded = Vec::new();
    let mut allowed: Option<Vec<String>> = None;
    if let Some(mcp) = root.get("mcp").filter(|m| m.is_object()) {
        excluded = ctx.strings("mcp", mcp, "excluded");
        if mcp.get("allowed").is_some() {
            allowed = Some(ctx.strings("mcp", mcp, "allowed"));
        }
    }
    let scope = ctx.source.scope.clone();
    for (name, s) in ctx.server_map(root, "mcpServers") {
        let enabled = !excluded.iter().any(|e| e == name)
            && allowed.as_ref().is_none_or(|a| a.iter().any(|e| e == name));
        let http_url = ctx.string(name, s, "httpUrl");
        let url = ctx.string(name, s, "url");
        let kind = ctx.string(name, s, "type");
        let command = ctx.string(name, s, "command");
        let (url, transport) = match (http_url, url) {
            (Some(u), _) => (u, Transport::Http),
            (None, Some(u)) => match kind.as_deref() {
                Some("sse") => (u, Transport::Sse),
                None | Some("http") => (u, Transport::Http),
                Some(other) => {
                    ctx.problem(
                        s.pos,
                        Some(name),
                        format!("its type {other:?} is not one Gemini CLI knows (http, sse)"),
                    );
                    continue;
                }
            },
            (None, None) => {
                if let Some(command) = command {
                    let args = ctx.strings(name, s, "args");
                    ctx.push_command(name, s.pos, scope.clone(), &command, &args, enabled);
                } else if s.get("tcp").is_some() {
                    ctx.problem(
                        s.pos,
                        Some(name),
                        "it uses a WebSocket (\"tcp\") connection, which Latchkey does not read",
                    );
                } else {
                    ctx.missing(
                        s.pos,
                        name,
                        "it has none of \"httpUrl\", \"url\" or \"command\"",
                    );
                }
                continue;
            }
        };
        let mut entry = ctx.entry(name, s.pos, scope.clone(), transport);
        entry.url = Some(url);
        entry.enabled = enabled;
        entry.auth.headers = headers(ctx.string_map(name, s, "headers"));
        let mut oauth = OAuthSettings {
            provider: ctx.string(name, s, "authProviderType"),
            ..Default::default()
        };
        if let Some(o) = s.get("oauth") {
            if o.is_object() {
                oauth.enabled = ctx.boolean(name, o, "enabled");
                oauth.client_id = ctx.string(name, o, "clientId");
                oauth.client_secret = ctx.string(name, o, "clientSecret").map(|v| shown_value(&v));
                oauth.authorization_url = ctx.string(name, o, "authorizationUrl");
                oauth.token_url = ctx.string(name, o, "tokenUrl");
                oauth.scopes = ctx.strings(name, o, "scopes");
                oauth.redirect_uri = ctx.string(name, o, "redirectUri");
            } else {
                ctx.problem(
                    o.pos,
                    Some(name),
                    format!("\"oauth\" should be an object, but is {}", o.describe()),
                );
            }
        }
        entry.auth.oauth = oauth_or_none(oauth);
        ctx.push(entry);
    }
}
