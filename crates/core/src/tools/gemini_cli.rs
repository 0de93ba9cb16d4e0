//! Gemini CLI: `~/.gemini/settings.json` and a project's `.gemini/settings.json`, JSON with
//! comments (read with strip-json-comments, then `JSON.parse`). `mcpServers` entries have
//! `command` (stdio), `httpUrl` (Streamable HTTP, deprecated), or `url` with an optional
//! `type` (`http`, `sse`; without it Gemini tries Streamable HTTP first), optional `headers`,
//! `oauth {enabled, clientId, clientSecret, authorizationUrl, tokenUrl, scopes, redirectUri}`
//! and `authProviderType`. `mcp.excluded` / `mcp.allowed` turn servers off by name. The user
//! settings are in Gemini CLI's folder, `$GEMINI_CLI_HOME/.gemini` when that is set, else
//! `~/.gemini`.
//!
//! Writing: the access token goes into the file Gemini CLI reads MCP OAuth tokens from,
//! `mcp-oauth-tokens.json` in that same folder. Verified against Gemini CLI 0.61.0
//! (tests/fixtures/gemini-notes):
//! - the file is a JSON array of `{serverName, token: {accessToken, tokenType, refreshToken?,
//!   scope?, expiresAt? (ms)}, clientId?, tokenUrl?, mcpServerUrl?, updatedAt}`; an object
//!   map is not read at all ("tokens is not iterable"); two entries of one name: the last wins;
//! - `serverName` is the server's key in `mcpServers` of settings.json, and a stored entry is
//!   used for that name without any `oauth` setting;
//! - a token with less than five minutes left counts as expired;
//! - with a refresh token, client id and token URL it refreshes by itself and writes the
//!   rotated tokens back, so the refresh token is never handed off: two refreshers of one
//!   rotating grant revoke it. Latchkey renews and hands off again instead;
//! - with `GEMINI_FORCE_ENCRYPTED_FILE_STORAGE=true` it reads the OS keychain (or an
//!   encrypted file) instead, which Latchkey does not write.

use super::common::{headers, oauth_or_none, shown_value, Ctx};
use super::tree::{Node, Syntax};
use super::{Format, Locations, OAuthSettings, ServerEntry, Source, Tool, Transport};
use crate::error::{Error, Result};
use crate::store::atomic_file::{Snapshot, Written};
use crate::store::vault::CredentialBundle;
use serde::Serialize;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A project's settings, relative to the project folder.
pub const PROJECT_FILE: &str = ".gemini/settings.json";

/// Gemini CLI's folder: `$GEMINI_CLI_HOME/.gemini`, else `~/.gemini`.
pub fn gemini_dir(loc: &Locations) -> PathBuf {
    loc.gemini_cli_home
        .as_deref()
        .unwrap_or(&loc.home)
        .join(".gemini")
}

/// The user settings, `settings.json` in Gemini CLI's folder.
pub fn user_settings(loc: &Locations) -> PathBuf {
    gemini_dir(loc).join("settings.json")
}

/// The token store, `mcp-oauth-tokens.json` in Gemini CLI's folder.
pub fn tokens_file(loc: &Locations) -> PathBuf {
    gemini_dir(loc).join("mcp-oauth-tokens.json")
}

/// How Gemini CLI's files are found and read (registered in [`super::SourceKind`]).
pub(crate) static FORMAT: Format = Format {
    tool: Tool::GeminiCli,
    syntax: Syntax::JsonComments,
    user_file: Some(user_settings),
    project_file: Some(PROJECT_FILE),
    read,
};

pub(crate) fn read(ctx: &mut Ctx<'_>, root: &Node) {
    let mut excluded = Vec::new();
    let mut allowed: Option<Vec<String>> = None;
    if let Some(mcp) = root.get("mcp").filter(|m| m.is_object()) {
        excluded = ctx.strings("mcp", mcp, "excluded");
        if mcp.get("allowed").is_some() {
            allowed = Some(ctx.strings("mcp", mcp, "allowed"));
        }
    }
    let scope = ctx.source.config_scope.clone();
    for (name, s) in ctx.server_map(root, &["mcpServers"]) {
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

/// Gemini CLI treats a token as expired this long before it expires.
pub const EXPIRY_BUFFER_SECS: u64 = 300;

/// False for the Google providers (`authProviderType`), which sign in their own way and never
/// read the token store.
pub fn reads_stored_tokens(entry: &ServerEntry) -> bool {
    let provider = entry
        .auth
        .oauth
        .as_ref()
        .and_then(|o| o.provider.as_deref());
    !matches!(
        provider,
        Some("google_credentials" | "service_account_impersonation")
    )
}

fn bad(path: &Path, detail: impl Into<String>) -> Error {
    Error::BadConfig {
        path: path.display().to_string(),
        detail: detail.into(),
    }
}

/// The entries of `settings_files` (user first, then a project) that Gemini CLI itself
/// connects to this server with, read as the inventory reads them. Gemini CLI keeps tokens by
/// name only, so a name that means this server in one file and another server in another is
/// refused: the token would go to the other server too.
pub fn find_entries(settings_files: &[Source], server_id: &str) -> Result<Vec<ServerEntry>> {
    find_entries_checked(settings_files, &[], server_id)
}

/// [`find_entries`], also refusing a name that another server has in any of `others` (the
/// settings of the other projects Latchkey knows, which Gemini CLI reads when started there:
/// a folder it trusts would get the token under that name). A file of `others` that cannot be
/// read is skipped: it names no server Gemini CLI could use either.
pub fn find_entries_checked(
    settings_files: &[Source],
    others: &[Source],
    server_id: &str,
) -> Result<Vec<ServerEntry>> {
    let mut all = Vec::new();
    for f in settings_files {
        all.extend(
            super::read_for_writing(f)?
                .into_iter()
                .filter(ServerEntry::tool_connects),
        );
    }
    for f in others {
        if settings_files.iter().any(|s| s.path == f.path) {
            continue;
        }
        if let Ok(entries) = super::read_for_writing(f) {
            all.extend(entries.into_iter().filter(ServerEntry::tool_connects));
        }
    }
    let matching: Vec<ServerEntry> = all
        .iter()
        .filter(|e| e.connects_to(server_id))
        .cloned()
        .collect();
    for m in &matching {
        if let Some(other) = all
            .iter()
            .find(|o| o.name == m.name && !o.connects_to(server_id))
        {
            let url = |e: &ServerEntry| e.url.clone().unwrap_or_default();
            return Err(bad(
                &other.file,
                format!(
                    "its server {:?} is {}, while {} gives that name to {}; Gemini CLI keeps tokens by name, so the token would reach {} too (rename one of them)",
                    m.name,
                    url(other),
                    m.file.display(),
                    url(m),
                    url(other)
                ),
            ));
        }
    }
    Ok(matching)
}

/// Where Gemini CLI lists the folders it trusts: `trustedFolders.json` in its folder.
pub fn trusted_folders_file(loc: &Locations) -> PathBuf {
    gemini_dir(loc).join("trustedFolders.json")
}

/// The project folders Gemini CLI trusts (`trustedFolders.json` in its folder: a folder
/// marked `TRUST_FOLDER`, or the folders under one marked `TRUST_PARENT`, whose parent is
/// given here). Gemini CLI reads a project's `.gemini/settings.json` servers only in a
/// trusted folder (when folder trust is on).
pub fn trusted_folders(loc: &Locations) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(trusted_folders_file(loc)) else {
        return Vec::new();
    };
    let Ok(map) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text) else {
        return Vec::new();
    };
    map.into_iter()
        .filter_map(|(path, v)| match v.as_str() {
            Some("TRUST_FOLDER") => Some(PathBuf::from(path)),
            Some("TRUST_PARENT") => Path::new(&path).parent().map(Path::to_path_buf),
            _ => None,
        })
        .collect()
}

/// A name for this server's entry that no other server is likely to have: the name given,
/// then the server's host (`gitlab-gitlab-example-com`), so a token found by name can only
/// be this server's.
pub fn url_unique_name(name: &str, server_url: &str) -> String {
    let host = url::Url::parse(server_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default()
        .replace(|c: char| !c.is_ascii_alphanumeric(), "-");
    if host.is_empty() || name.ends_with(&host) {
        name.to_string()
    } else {
        format!("{name}-{host}")
    }
}

/// The token entries in the store at `tokens`: each name with the server URL it was written
/// for (`mcpServerUrl`), if it says.
pub fn stored_names(tokens: &Path) -> Vec<(String, Option<String>)> {
    let Ok(text) = std::fs::read_to_string(tokens) else {
        return Vec::new();
    };
    let Ok(items) = serde_json::from_str::<Vec<serde_json::Value>>(&text) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|v| {
            Some((
                v["serverName"].as_str()?.to_string(),
                v["mcpServerUrl"].as_str().map(str::to_string),
            ))
        })
        .collect()
}

/// Removes from the store at `tokens` every entry for which `withdraw(name, url)` holds;
/// the names removed. The rest of the file is written as Gemini CLI writes it (a JSON array,
/// two spaces), with a backup of what was there; a missing file or no match writes nothing.
pub fn withdraw_tokens(
    tokens: &Path,
    withdraw: impl Fn(&str, Option<&str>) -> bool,
) -> Result<Vec<String>> {
    let snap = Snapshot::read(tokens)?;
    let Some(text) = snap.text().filter(|t| !t.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    let items: Vec<serde_json::Value> = serde_json::from_str(&text)
        .map_err(|_| bad(tokens, "it is not the JSON array Gemini CLI writes"))?;
    let mut removed = Vec::new();
    let kept: Vec<&serde_json::Value> = items
        .iter()
        .filter(|v| {
            let name = v["serverName"].as_str().unwrap_or_default();
            let gone = withdraw(name, v["mcpServerUrl"].as_str());
            if gone && !removed.iter().any(|r| r == name) {
                removed.push(name.to_string());
            }
            !gone
        })
        .collect();
    if !removed.is_empty() {
        let new = serde_json::to_string_pretty(&kept).map_err(|e| bad(tokens, e.to_string()))?;
        snap.replace(new.as_bytes())?;
    }
    Ok(removed)
}

/// One entry of `mcp-oauth-tokens.json`, members in the order Gemini CLI writes them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredCredential<'a> {
    /// The server's key in `mcpServers`.
    pub server_name: &'a str,
    /// The token itself.
    pub token: StoredToken<'a>,
    /// The OAuth client the token was issued to.
    pub client_id: &'a str,
    /// The authorization server's token endpoint.
    pub token_url: &'a str,
    /// The server's URL as configured.
    pub mcp_server_url: &'a str,
    /// Milliseconds since the epoch.
    pub updated_at: u64,
}

/// The `token` of a stored entry, members in the order Gemini CLI writes them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredToken<'a> {
    /// The access token (a secret: never logged).
    pub access_token: &'a str,
    /// `Bearer` (Gemini CLI sends it as written).
    pub token_type: &'a str,
    /// The granted OAuth scopes, space-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Milliseconds since the epoch; without it Gemini CLI never treats the token as expired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
}

/// The entry for server `name` (reached at `mcp_server_url`), without the refresh token.
pub fn stored_credential<'a>(
    name: &'a str,
    mcp_server_url: &'a str,
    bundle: &'a CredentialBundle,
    now_ms: u64,
) -> StoredCredential<'a> {
    let t = &bundle.tokens;
    let token_type = if t.token_type.eq_ignore_ascii_case("bearer") {
        "Bearer"
    } else {
        t.token_type.as_str()
    };
    StoredCredential {
        server_name: name,
        token: StoredToken {
            access_token: t.access_token.expose(),
            token_type,
            scope: (!t.scopes.is_empty()).then(|| t.scopes.join(" ")),
            expires_at: t.expires_at.map(|s| s.saturating_mul(1000)),
        },
        client_id: &bundle.client.client_id,
        token_url: &bundle.token_endpoint,
        mcp_server_url,
        updated_at: now_ms,
    }
}

/// True when Gemini CLI would still use this bundle's access token at `now` (seconds).
pub fn usable_by_gemini(bundle: &CredentialBundle, now: u64) -> bool {
    bundle
        .tokens
        .expires_at
        .is_none_or(|t| t > now.saturating_add(EXPIRY_BUFFER_SECS))
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Writes the access token for every name of `entries` into the token store at `tokens`
/// ([`tokens_file`]), made private (0600) when it is new. Entries of other servers keep their
/// bytes; an entry of the same name is replaced whole; the previous file is kept as a backup.
/// Errors: the file is not the JSON array Gemini CLI writes (`BadConfig`), or cannot be
/// written.
pub fn write_tokens(
    tokens: &Path,
    entries: &[ServerEntry],
    bundle: &CredentialBundle,
) -> Result<Written> {
    let now = now_ms();
    let mut creds: Vec<StoredCredential<'_>> = Vec::new();
    for e in entries {
        if !creds.iter().any(|c| c.server_name == e.name) {
            let url = e.url.as_deref().unwrap_or_default();
            creds.push(stored_credential(&e.name, url, bundle, now));
        }
    }
    let snap = Snapshot::read(tokens)?;
    let new = match snap.text() {
        Some(text) if !text.trim().is_empty() => {
            with_entries(&text, &creds).map_err(|e| bad(tokens, e))?
        }
        _ => serde_json::to_string_pretty(&creds).map_err(|e| bad(tokens, e.to_string()))?,
    };
    let backup = snap.replace(new.as_bytes())?;
    Ok(Written {
        path: tokens.to_path_buf(),
        backup,
    })
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The top-level array of `text`: the span of each element with its value, and the
/// positions of `[` and `]`.
type Elements = (usize, Vec<(Range<usize>, serde_json::Value)>, usize);

fn elements(text: &str) -> std::result::Result<Elements, String> {
    let not_ours = |what: &str| format!("it is not the JSON array Gemini CLI writes ({what})");
    let b = text.as_bytes();
    let open = skip_ws(b, 0);
    if b.get(open) != Some(&b'[') {
        return Err(not_ours("it does not start with '['"));
    }
    let mut out = Vec::new();
    let mut i = open + 1;
    loop {
        i = skip_ws(b, i);
        match b.get(i) {
            Some(b']') if out.is_empty() => break,
            Some(b'{') => {
                let mut values =
                    serde_json::Deserializer::from_str(&text[i..]).into_iter::<serde_json::Value>();
                let v = match values.next() {
                    Some(Ok(v)) => v,
                    Some(Err(e)) => return Err(not_ours(&e.to_string())),
                    None => return Err(not_ours("an entry is missing")),
                };
                let end = i + values.byte_offset();
                out.push((i..end, v));
                i = skip_ws(b, end);
                match b.get(i) {
                    Some(b',') => i += 1,
                    Some(b']') => break,
                    _ => return Err(not_ours("expected ',' or ']' after an entry")),
                }
            }
            _ => return Err(not_ours("each entry must be an object")),
        }
    }
    if skip_ws(b, i + 1) != b.len() {
        return Err(not_ours("something follows the array"));
    }
    Ok((open, out, i))
}

/// The indentation of the line that holds byte `at`.
fn indent_of(text: &str, at: usize) -> &str {
    let start = text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line = &text[start..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// Pretty JSON whose continuation lines start at `indent`.
fn rendered(c: &StoredCredential<'_>, indent: &str) -> String {
    let pretty = serde_json::to_string_pretty(c).unwrap_or_default();
    pretty.replace('\n', &format!("\n{indent}"))
}

/// `text` (a token store) with `creds` in it: entries of the same name replaced in place
/// (every one: Gemini CLI uses the last), new names appended; every other byte kept.
fn with_entries(text: &str, creds: &[StoredCredential<'_>]) -> std::result::Result<String, String> {
    let (open, elems, close) = elements(text)?;
    let name_of = |v: &serde_json::Value| v["serverName"].as_str().map(str::to_string);
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    for (span, v) in &elems {
        if let Some(c) = creds
            .iter()
            .find(|c| name_of(v).as_deref() == Some(c.server_name))
        {
            edits.push((span.clone(), rendered(c, indent_of(text, span.start))));
        }
    }
    let new: Vec<&StoredCredential<'_>> = creds
        .iter()
        .filter(|c| {
            !elems
                .iter()
                .any(|(_, v)| name_of(v).as_deref() == Some(c.server_name))
        })
        .collect();
    if !new.is_empty() {
        match elems.last() {
            Some((last, _)) => {
                // In the layout of the previous entry: on its own line, or inline.
                let before = match elems.len() {
                    1 => &text[open + 1..last.start],
                    n => &text[elems[n - 2].0.end..last.start],
                };
                let indent = indent_of(text, last.start);
                let sep = if before.contains('\n') {
                    format!(",\n{indent}")
                } else {
                    ", ".to_string()
                };
                let added: String = new
                    .iter()
                    .map(|c| format!("{sep}{}", rendered(c, indent)))
                    .collect();
                edits.push((last.end..last.end, added));
            }
            None => {
                let outer = indent_of(text, open);
                let inner = format!("{outer}  ");
                let items: Vec<String> = new.iter().map(|c| rendered(c, &inner)).collect();
                let body = format!("[\n{inner}{}\n{outer}]", items.join(&format!(",\n{inner}")));
                edits.push((open..close + 1, body));
            }
        }
    }
    let mut out = text.to_string();
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    for (r, s) in edits {
        out.replace_range(r, &s);
    }
    Ok(out)
}

/// Connecting a server: a stdio entry running `latchkey bridge URL` (this tool cannot take a
/// header from a helper command).
pub fn connect_edit(
    existing: Option<&super::ServerEntry>,
    launch: &super::common::Launch,
) -> super::common::EntryEdit {
    super::common::bridge_edit(existing, launch, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use crate::tools::{test_support, ConfigScope, Os, SourceKind};
    use serde_json::{json, Value};

    fn bundle() -> CredentialBundle {
        let mut b = crate::store::vault::tests::sample("https://mcp.example.com/mcp");
        b.tokens.access_token = Secret::new("at-1");
        b.tokens.refresh_token = Some(Secret::new("rt-1"));
        b.tokens.token_type = "bearer".into();
        b.tokens.scopes = vec!["mcp".into(), "read".into()];
        b.tokens.obtained_at = 1_999_996_400;
        b.client.redirect_uris = vec!["http://127.0.0.1:1/callback".into()];
        b.client.registration_access_token = None;
        b.updated_at = 0;
        b.names = vec![];
        b
    }

    fn entry(name: &str) -> ServerEntry {
        ServerEntry {
            tool: crate::tools::Tool::GeminiCli,
            file: PathBuf::from("/h/.gemini/settings.json"),
            key_path: vec!["mcpServers".into(), name.into()],
            line: 1,
            config_scope: ConfigScope::User,
            name: name.into(),
            transport: Transport::Http,
            url: Some("https://mcp.example.com/mcp".into()),
            mcp_remote: None,
            bridge: false,
            command: None,
            auth: Default::default(),
            enabled: true,
        }
    }

    fn settings(path: &Path) -> Source {
        Source {
            kind: SourceKind::GeminiCli,
            path: path.to_path_buf(),
            config_scope: ConfigScope::User,
        }
    }

    #[test]
    fn the_entry_has_geminis_shape_and_no_refresh_token() {
        let b = bundle();
        let c = stored_credential("fx", "https://mcp.example.com/mcp", &b, 1234);
        let text = serde_json::to_string_pretty(&c).unwrap();
        assert_eq!(
            text,
            r#"{
  "serverName": "fx",
  "token": {
    "accessToken": "at-1",
    "tokenType": "Bearer",
    "scope": "mcp read",
    "expiresAt": 2000000000000
  },
  "clientId": "client-1",
  "tokenUrl": "https://as.example.com/token",
  "mcpServerUrl": "https://mcp.example.com/mcp",
  "updatedAt": 1234
}"#
        );
        assert!(!text.contains("rt-1") && !text.contains("refresh"));
    }

    #[test]
    fn no_expiry_and_no_scope_are_left_out() {
        let mut b = bundle();
        b.tokens.expires_at = None;
        b.tokens.scopes.clear();
        let v = serde_json::to_value(stored_credential("fx", "u", &b, 1)).unwrap();
        assert_eq!(
            v["token"],
            json!({"accessToken": "at-1", "tokenType": "Bearer"})
        );
        assert!(usable_by_gemini(&b, u64::MAX));
    }

    #[test]
    fn gemini_ignores_a_token_with_five_minutes_left() {
        let b = bundle();
        let exp = b.tokens.expires_at.unwrap();
        assert!(usable_by_gemini(&b, exp - 301));
        assert!(!usable_by_gemini(&b, exp - 300));
    }

    const STORE: &str = r#"[
  {
    "serverName": "other",
    "token": {
      "accessToken": "keep-me",
      "tokenType": "Bearer"
    },
    "updatedAt": 1
  },
  {
    "serverName": "fx",
    "token": {
      "accessToken": "old",
      "tokenType": "Bearer",
      "refreshToken": "old-refresh"
    },
    "updatedAt": 2
  }
]"#;

    #[test]
    fn replaces_the_entry_of_the_same_name_in_place() {
        let b = bundle();
        let c = stored_credential("fx", "https://mcp.example.com/mcp", &b, 9);
        let out = with_entries(STORE, std::slice::from_ref(&c)).unwrap();
        let second = STORE.find("{\n    \"serverName\": \"fx\"").unwrap();
        // The other entry kept its bytes; the replaced one is in Gemini CLI's own layout
        // (JSON.stringify(list, null, 2)).
        assert_eq!(
            out,
            format!("{}{}\n]", &STORE[..second], rendered(&c, "  "))
        );
        let v: Vec<Value> = serde_json::from_str(&out).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[1]["token"]["accessToken"], "at-1");
        assert!(v[1]["token"].get("refreshToken").is_none());
        assert_eq!(v[1], serde_json::to_value(&c).unwrap());
    }

    #[test]
    fn appends_a_new_name_after_the_others() {
        let b = bundle();
        let c = stored_credential("new", "https://mcp.example.com/mcp", &b, 9);
        let out = with_entries(STORE, std::slice::from_ref(&c)).unwrap();
        let cut = STORE.len() - "\n]".len();
        assert_eq!(&out[..cut], &STORE[..cut]);
        assert_eq!(
            &out[cut..],
            format!(",\n  {}\n]", rendered(&c, "  ")).as_str()
        );
        let v: Vec<Value> = serde_json::from_str(&out).unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(v[2]["serverName"], "new");
    }

    #[test]
    fn fills_an_empty_or_inline_array() {
        let b = bundle();
        let c = stored_credential("fx", "u", &b, 9);
        let out = with_entries("[]\n", std::slice::from_ref(&c)).unwrap();
        assert_eq!(
            out,
            format!("{}\n", serde_json::to_string_pretty(&[&c]).unwrap())
        );
        let inline = r#"[{"serverName":"a","token":{"accessToken":"x","tokenType":"Bearer"}}]"#;
        let out = with_entries(inline, std::slice::from_ref(&c)).unwrap();
        assert!(out.starts_with(&inline[..inline.len() - 1]));
        let v: Vec<Value> = serde_json::from_str(&out).unwrap();
        assert_eq!(v[1]["serverName"], "fx");
    }

    #[test]
    fn every_duplicate_of_the_name_is_replaced() {
        let dup = r#"[{"serverName":"fx","token":{"accessToken":"a","tokenType":"Bearer"}},{"serverName":"fx","token":{"accessToken":"b","tokenType":"Bearer"}}]"#;
        let b = bundle();
        let c = stored_credential("fx", "u", &b, 9);
        let out = with_entries(dup, std::slice::from_ref(&c)).unwrap();
        let v: Vec<Value> = serde_json::from_str(&out).unwrap();
        assert!(v.iter().all(|e| e["token"]["accessToken"] == "at-1"));
    }

    #[test]
    fn a_file_gemini_cannot_read_is_refused() {
        let b = bundle();
        let c = stored_credential("fx", "u", &b, 9);
        for bad in [
            r#"{"fx": {}}"#,
            "[1, 2]",
            "[{\"serverName\": \"a\"} x]",
            "[{}] trailing",
            "[{\"a\": ",
        ] {
            let e = with_entries(bad, std::slice::from_ref(&c)).unwrap_err();
            assert!(e.contains("not the JSON array"), "{bad}: {e}");
        }
    }

    #[test]
    fn write_tokens_creates_a_private_file_then_backs_up() {
        let d = test_support::temp_dir("gemini-write");
        let mut loc = Locations::for_home(&d);
        loc.gemini_cli_home = Some(d.join("gch"));
        let path = tokens_file(&loc);
        assert_eq!(path, d.join("gch/.gemini/mcp-oauth-tokens.json"));
        let b = bundle();
        let w = write_tokens(&path, &[entry("fx"), entry("fx")], &b).unwrap();
        assert!(w.backup.is_none());
        let first = std::fs::read_to_string(&path).unwrap();
        let v: Vec<Value> = serde_json::from_str(&first).unwrap();
        assert_eq!(v.len(), 1, "one entry per name");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let w = write_tokens(&path, &[entry("other")], &b).unwrap();
        assert_eq!(std::fs::read_to_string(w.backup.unwrap()).unwrap(), first);
        let v: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v.len(), 2);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn finds_servers_by_url_in_user_and_project_settings() {
        let d = test_support::temp_dir("gemini-find");
        let user = d.join("home/.gemini/settings.json");
        let project = d.join("p/.gemini/settings.json");
        std::fs::create_dir_all(user.parent().unwrap()).unwrap();
        std::fs::create_dir_all(project.parent().unwrap()).unwrap();
        std::fs::write(
            &user,
            r#"{
  // Gemini settings are JSON with comments
  "general": {"vimMode": true},
  "mcpServers": {
    "fx": {"httpUrl": "https://MCP.example.com:443/mcp"},
    "google": {"url": "https://mcp.example.com/mcp", "authProviderType": "google_credentials"},
    "elsewhere": {"url": "https://other.example.com/mcp", "type": "http"},
    "local": {"command": "npx", "args": ["x"]}
  }
}"#,
        )
        .unwrap();
        std::fs::write(
            &project,
            r#"{"mcpServers": {"proj": {"url": "https://mcp.example.com/mcp", "type": "http"}}}"#,
        )
        .unwrap();
        let found = find_entries(
            &[
                settings(&user),
                settings(&project),
                settings(&d.join("missing.json")),
            ],
            "https://mcp.example.com/mcp",
        )
        .unwrap();
        let names: Vec<_> = found.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["fx", "google", "proj"]);
        assert_eq!(
            found[0].url.as_deref(),
            Some("https://MCP.example.com:443/mcp")
        );
        assert!(reads_stored_tokens(&found[0]) && !reads_stored_tokens(&found[1]));
        assert_eq!(found[2].file, project);

        // The same name for another server elsewhere would leak the token: refused.
        std::fs::write(
            &project,
            r#"{"mcpServers": {"fx": {"url": "https://evil.example.com/mcp"}}}"#,
        )
        .unwrap();
        let e = find_entries(
            &[settings(&user), settings(&project)],
            "https://mcp.example.com/mcp",
        )
        .unwrap_err();
        assert!(e.to_string().contains("evil.example.com"), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_malformed_settings_file_names_its_line() {
        let d = test_support::temp_dir("gemini-bad");
        let s = d.join("settings.json");
        std::fs::write(&s, "{\n\"mcpServers\": {\n\"fx\": {\"url\": }\n").unwrap();
        let e = find_entries(&[settings(&s)], "https://mcp.example.com/mcp").unwrap_err();
        assert!(e.to_string().contains("line 3"), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn the_fixture_server_gets_its_token_and_every_other_byte_stays() {
        let home = test_support::fixture_home("gemini-write");
        let loc = Locations::for_home_on(&home, Os::Linux);
        let user = crate::tools::user_sources(&loc)
            .into_iter()
            .find(|s| s.kind == SourceKind::GeminiCli)
            .unwrap();
        assert_eq!(user.path, user_settings(&loc));
        let settings_before = std::fs::read_to_string(&user.path).unwrap();
        // A token store with another server's sign-in, as Gemini CLI writes it.
        let tokens = tokens_file(&loc);
        let store_before = "[\n  {\n    \"serverName\": \"github\",\n    \"token\": {\n      \"accessToken\": \"keep-me\",\n      \"tokenType\": \"Bearer\"\n    },\n    \"updatedAt\": 1\n  }\n]";
        std::fs::write(&tokens, store_before).unwrap();

        let id = crate::store::vault::server_id("https://gitlab.example.com/api/v4/mcp").unwrap();
        let found = find_entries(std::slice::from_ref(&user), &id).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].key_path, ["mcpServers", "gitlab"]);
        assert_eq!(found[0].file, user.path);
        let mut b = bundle();
        b.server_url = "https://gitlab.example.com/api/v4/mcp".into();
        let w = write_tokens(&tokens, &found, &b).unwrap();

        assert_eq!(
            std::fs::read_to_string(w.backup.unwrap()).unwrap(),
            store_before
        );
        let after = std::fs::read_to_string(&tokens).unwrap();
        // The other sign-in keeps its bytes; the new one follows it.
        let cut = store_before.len() - "\n]".len();
        assert_eq!(&after[..cut], &store_before[..cut]);
        let v: Vec<Value> = serde_json::from_str(&after).unwrap();
        assert_eq!(v[1]["serverName"], "gitlab");
        assert_eq!(
            v[1]["mcpServerUrl"],
            "https://gitlab.example.com/api/v4/mcp"
        );
        assert_eq!(v[1]["token"]["accessToken"], "at-1");
        // Gemini CLI's settings, comments and all, are not touched.
        assert_eq!(
            std::fs::read_to_string(&user.path).unwrap(),
            settings_before
        );
        test_support::remove(&home);
    }
}
