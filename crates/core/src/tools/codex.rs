//! Codex: `$CODEX_HOME/config.toml` (default `~/.codex/config.toml`) and a trusted project's
//! `.codex/config.toml`, TOML tables `[mcp_servers.NAME]` with `command` / `args` (stdio) or
//! `url` (Streamable HTTP) with `bearer_token_env_var`, `http_headers`, `env_http_headers`,
//! `scopes`, `oauth.client_id`, `oauth_resource`, and `enabled` (from
//! `codex-rs/config/src/mcp_types.rs`: a table with both `command` and `url` is refused, one
//! with neither is an "invalid transport", and an inline `bearer_token` is refused).

use super::common::{headers, oauth_or_none, Ctx};
use super::tree::Node;
use super::{HeaderSetting, Locations, OAuthSettings, Transport};
use std::path::PathBuf;

pub fn user_file(loc: &Locations) -> PathBuf {
    loc.codex_home
        .clone()
        .unwrap_or_else(|| loc.home.join(".codex"))
        .join("config.toml")
}

pub(crate) fn read(ctx: &mut Ctx<'_>, root: &Node) {
    let scope = ctx.source.scope.clone();
    for (name, s) in ctx.server_map(root, "mcp_servers") {
        let url = ctx.string(name, s, "url");
        let command = ctx.string(name, s, "command");
        let enabled = ctx.boolean(name, s, "enabled").unwrap_or(true);
        match (url, command) {
            (Some(_), Some(_)) => ctx.problem(
                s.pos,
                Some(name),
                "it has both \"command\" and \"url\"; Codex refuses the whole file then",
            ),
            (None, None) => ctx.missing(
                s.pos,
                name,
                "it has neither \"command\" nor \"url\" (Codex says \"invalid transport\")",
            ),
            (None, Some(command)) => {
                let args = ctx.strings(name, s, "args");
                ctx.push_command(name, s.pos, scope.clone(), &command, &args, enabled);
            }
            (Some(url), None) => {
                let mut entry = ctx.entry(name, s.pos, scope.clone(), Transport::Http);
                entry.url = Some(url);
                entry.enabled = enabled;
                let mut hs = Vec::new();
                if let Some(var) = ctx.string(name, s, "bearer_token_env_var") {
                    hs.push(HeaderSetting {
                        name: "Authorization".into(),
                        value: format!("Bearer ${{{var}}}"),
                    });
                }
                if let Some(b) = s.get("bearer_token") {
                    ctx.problem(
                        b.pos,
                        Some(name),
                        "Codex refuses an inline \"bearer_token\"; use \"bearer_token_env_var\"",
                    );
                }
                hs.extend(headers(ctx.string_map(name, s, "http_headers")));
                for (header, var) in ctx.string_map(name, s, "env_http_headers") {
                    hs.push(HeaderSetting {
                        name: header,
                        value: format!("${{{var}}}"),
                    });
                }
                entry.auth.headers = hs;
                let mut oauth = OAuthSettings {
                    scopes: ctx.strings(name, s, "scopes"),
                    resource: ctx.string(name, s, "oauth_resource"),
                    ..Default::default()
                };
                if let Some(o) = s.get("oauth") {
                    if o.is_object() {
                        oauth.client_id = ctx.string(name, o, "client_id");
                    } else {
                        ctx.problem(
                            o.pos,
                            Some(name),
                            format!("\"oauth\" should be a table, but is {}", o.describe()),
                        );
                    }
                }
                entry.auth.oauth = oauth_or_none(oauth);
                ctx.push(entry);
            }
        }
    }
}
