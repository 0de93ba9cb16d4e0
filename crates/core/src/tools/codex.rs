//! Codex: `$CODEX_HOME/config.toml` (default `~/.codex/config.toml`) and a trusted project's
//! `.codex/config.toml`, TOML tables `[mcp_servers.NAME]` with `command` / `args` (stdio) or
//! `url` (Streamable HTTP) with `bearer_token_env_var`, `http_headers`, `env_http_headers`,
//! `scopes`, `oauth.client_id`, `oauth_resource`, and `enabled` (from
//! `codex-rs/config/src/mcp_types.rs`: a table with both `command` and `url` is refused, one
//! with neither is an "invalid transport", and an inline `bearer_token` is refused).
//!
//! Writing: the sign-in of a Streamable HTTP server goes into the store Codex reads its MCP
//! OAuth credentials from. Verified against Codex 0.169.0 (npm `@openai/codex`, pinned in
//! tests/fixtures), from its source (`codex-rs/rmcp-client/src/oauth.rs`,
//! `oauth/resolved_store.rs`, `codex-rs/config/src/types.rs`,
//! `codex-rs/keyring-store/src/lib.rs`) and from what the real binary stored after its own
//! `codex mcp login`; see tests/fixtures/codex-notes/README.md.
//!
//! - Where: `mcp_oauth_credentials_store` in `$CODEX_HOME/config.toml` (default `auto`).
//!   `auto` reads the OS keychain first and `$CODEX_HOME/.credentials.json` only when the
//!   keychain has no entry or fails; `keyring` only the keychain; `file` only the file.
//! - Keychain: service "Codex MCP Credentials", account `NAME|` + the first 16 hex digits of the
//!   SHA-256 of the compact JSON `{"type":"http","url":URL,"headers":{}}` (URL exactly as
//!   configured, headers always empty), value the JSON of `StoredOAuthTokens`.
//! - With `[features] secret_auth_storage = true` (and by default on Windows) Codex keeps the
//!   entry in its own encrypted secrets file instead, which Latchkey does not write.
//!
//! The refresh token is left out on purpose: Codex refreshes a stored token itself when it
//! has one, and two refreshers of one rotating grant revoke it. Without one, Codex uses the
//! access token until 30 seconds before it expires; Latchkey renews and hands off again.

use super::common::{headers, oauth_or_none, Ctx};
use super::json_edit;
use super::keychain::{Keychain, Stored};
use super::tree::{self, Node, Syntax};
use super::{Format, HeaderSetting, Locations, OAuthSettings, ServerEntry, Tool, Transport};
use crate::error::{Error, Result};
use crate::store::atomic_file::{Snapshot, Written};
use crate::store::vault::CredentialBundle;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A trusted project's file, relative to the project folder.
pub const PROJECT_FILE: &str = ".codex/config.toml";

/// `$CODEX_HOME/config.toml`, else `~/.codex/config.toml`.
pub fn user_file(loc: &Locations) -> PathBuf {
    home_dir(loc).join("config.toml")
}

/// Codex's folder: `$CODEX_HOME` when set and not empty, else `~/.codex` (`find_codex_home`).
pub fn home_dir(loc: &Locations) -> PathBuf {
    match &loc.codex_home {
        Some(d) if !d.as_os_str().is_empty() => d.clone(),
        _ => loc.home.join(".codex"),
    }
}

/// Codex's file store, `.credentials.json` in its folder (`FALLBACK_FILENAME` in
/// `codex-rs/rmcp-client/src/oauth.rs`).
pub fn credentials_file(loc: &Locations) -> PathBuf {
    home_dir(loc).join(".credentials.json")
}

/// How Codex's files are found and read (registered in [`super::SourceKind`]).
pub(crate) static FORMAT: Format = Format {
    tool: Tool::Codex,
    syntax: Syntax::Toml,
    user_file: Some(user_file),
    project_file: Some(PROJECT_FILE),
    read,
};

pub(crate) fn read(ctx: &mut Ctx<'_>, root: &Node) {
    let scope = ctx.source.config_scope.clone();
    for (name, s) in ctx.server_map(root, &["mcp_servers"]) {
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

/// The keychain service Codex keeps MCP sign-ins under (`KEYRING_SERVICE` in
/// `codex-rs/rmcp-client/src/oauth.rs`).
pub const KEYRING_SERVICE: &str = "Codex MCP Credentials";

/// Codex's `OAuthCredentialsStoreMode` (`codex-rs/config/src/types.rs`), the top-level
/// `mcp_oauth_credentials_store` key of config.toml.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    /// The keychain; the file when the keychain has no entry or cannot be used.
    Auto,
    /// `$CODEX_HOME/.credentials.json` only.
    File,
    /// The keychain only.
    Keyring,
}

/// What of `$CODEX_HOME/config.toml` decides where a sign-in goes (the servers themselves
/// are [`ServerEntry`]s, read like every other config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSettings {
    /// The config file these came from.
    pub path: PathBuf,
    /// `mcp_oauth_credentials_store`, `auto` when absent.
    pub store: StoreMode,
    /// `[features] secret_auth_storage = true`: the encrypted secrets store.
    pub encrypted_store: bool,
}

fn bad_config(path: &Path, detail: impl Into<String>) -> Error {
    Error::BadConfig {
        path: path.display().to_string(),
        detail: detail.into(),
    }
}

/// Reads where Codex keeps MCP sign-ins from its config at `path`, with the parser the
/// servers are read with. A missing file is the default (`auto`, not encrypted). Errors: the
/// file is not valid TOML, or `mcp_oauth_credentials_store` is not one Codex knows
/// (`BadConfig`, which Codex also refuses to start with).
pub fn read_store_settings(path: &Path) -> Result<StoreSettings> {
    let snap = Snapshot::read(path)?;
    match snap.text() {
        None => Ok(StoreSettings {
            path: path.to_path_buf(),
            store: StoreMode::Auto,
            encrypted_store: false,
        }),
        Some(text) => parse_store_settings(path, &text),
    }
}

pub(crate) fn parse_store_settings(path: &Path, text: &str) -> Result<StoreSettings> {
    let root = tree::parse(text, tree::Syntax::Toml).map_err(|e| {
        let (line, _) = tree::line_col(text, e.pos);
        bad_config(
            path,
            format!("it is not valid TOML at line {line} ({})", e.message),
        )
    })?;
    let store = match root.get("mcp_oauth_credentials_store") {
        None => StoreMode::Auto,
        Some(item) => match item.as_str() {
            Some("auto") => StoreMode::Auto,
            Some("file") => StoreMode::File,
            Some("keyring") => StoreMode::Keyring,
            _ => {
                return Err(bad_config(
                    path,
                    "mcp_oauth_credentials_store should be \"auto\", \"file\" or \"keyring\"",
                ))
            }
        },
    };
    let encrypted_store = root
        .get("features")
        .and_then(|f| f.get("secret_auth_storage"))
        .and_then(Node::as_bool)
        .unwrap_or(false);
    Ok(StoreSettings {
        path: path.to_path_buf(),
        store,
        encrypted_store,
    })
}

/// The Authorization Codex sends by itself for this server (`bearer_token_env_var`, or an
/// Authorization header in `http_headers` / `env_http_headers`), as the inventory shows it
/// (a placeholder, or `[set]`): with one, Codex never uses a stored sign-in.
pub fn own_authorization(entry: &ServerEntry) -> Option<String> {
    entry
        .auth
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("authorization"))
        .map(|h| format!("{}: {}", h.name, h.value))
}

/// Codex's key for a server's stored sign-in (`compute_store_key` in
/// `codex-rs/rmcp-client/src/oauth.rs`): `NAME|` and the first 16 hex digits of the SHA-256 of
/// the compact JSON `{"type":"http","url":URL,"headers":{}}`, members in that order (Codex's
/// serde_json keeps insertion order). Always "http" and no headers, whatever is configured.
pub fn store_key(name: &str, url: &str) -> String {
    let url_json = serde_json::to_string(url).unwrap_or_else(|_| "\"\"".into());
    let payload = format!("{{\"type\":\"http\",\"url\":{url_json},\"headers\":{{}}}}");
    let digest = Sha256::digest(payload.as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{name}|{hex}")
}

/// The keychain value: Codex's `StoredOAuthTokens` (`codex-rs/rmcp-client/src/oauth.rs`) with
/// an oauth2 `StandardTokenResponse` inside (`token_type` "bearer", `scope` space-separated)
/// and `expires_at` in milliseconds. `now` is seconds since the epoch.
pub fn keyring_value(
    server: &ServerEntry,
    bundle: &CredentialBundle,
    now: u64,
) -> serde_json::Value {
    let tokens = &bundle.tokens;
    let mut token_response = serde_json::json!({
        "access_token": tokens.access_token.expose(),
        "token_type": "bearer",
    });
    if let Some(at) = tokens.expires_at {
        token_response["expires_in"] = at.saturating_sub(now).into();
    }
    if !tokens.scopes.is_empty() {
        token_response["scope"] = tokens.scopes.join(" ").into();
    }
    serde_json::json!({
        "server_name": server.name,
        "url": server.url.as_deref().unwrap_or_default(),
        "issuer": bundle.issuer,
        "client_id": bundle.client.client_id,
        "token_response": token_response,
        "expires_at": tokens.expires_at.map(|s| s.saturating_mul(1000)),
    })
}

/// The file store's entry: Codex's `FallbackTokenEntry` (`codex-rs/rmcp-client/src/oauth.rs`),
/// kept in `.credentials.json` under [`store_key`].
pub fn file_entry(server: &ServerEntry, bundle: &CredentialBundle) -> serde_json::Value {
    let tokens = &bundle.tokens;
    serde_json::json!({
        "server_name": server.name,
        "server_url": server.url.as_deref().unwrap_or_default(),
        "issuer": bundle.issuer,
        "client_id": bundle.client.client_id,
        "access_token": tokens.access_token.expose(),
        "expires_at": tokens.expires_at.map(|s| s.saturating_mul(1000)),
        "scopes": tokens.scopes,
    })
}

/// What a handoff did for one server of Codex's config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handed {
    /// The server's name in Codex's config (`[mcp_servers.NAME]`).
    pub name: String,
    /// The key Codex files the sign-in under (see [`store_key`]).
    pub key: String,
    /// Where the sign-in went: the keychain item, or the file store.
    pub stored: Stored,
    /// Things the person should know: the keychain failed and the file was used, or Codex
    /// sends its own Authorization for this server.
    pub notes: Vec<String>,
}

fn write_file(credentials: &Path, key: &str, entry: &serde_json::Value) -> Result<Written> {
    let snap = Snapshot::read(credentials)?;
    let text = snap.text().unwrap_or_else(|| "{}".into());
    let new = json_edit::set_member(&text, &[], key, entry).map_err(|e| Error::BadConfig {
        path: credentials.display().to_string(),
        detail: e.0,
    })?;
    let backup = snap.replace(new.as_bytes())?;
    // Codex makes this file 0600 on every write of its own (`write_fallback_file`): a token
    // never stays readable by others, whatever the file's mode was.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(credentials, std::fs::Permissions::from_mode(0o600)).map_err(
            |e| Error::WriteFailed {
                path: credentials.display().to_string(),
                detail: format!("cannot make it private ({e})"),
            },
        )?;
    }
    Ok(Written {
        path: credentials.to_path_buf(),
        backup,
    })
}

/// Writes the sign-in of `bundle` for `server` (an entry of Codex's config) where Codex will
/// read it, as `settings` say: the keychain, or `.credentials.json` (made 0600, other entries
/// kept, a backup of the previous file). `now` is seconds since the epoch. Errors: Codex keeps
/// sign-ins in its encrypted store here (`BadConfig`), the keychain fails with `keyring`, or
/// the file cannot be written.
pub fn hand_off(
    loc: &Locations,
    settings: &StoreSettings,
    server: &ServerEntry,
    bundle: &CredentialBundle,
    keychain: &dyn Keychain,
    now: u64,
) -> Result<Handed> {
    let url = server.url.as_deref().unwrap_or_default();
    let key = store_key(&server.name, url);
    let mut notes = Vec::new();
    if let Some(own) = own_authorization(server) {
        notes.push(format!(
            "Codex sends its own token for this server ({own}), so it will not use this sign-in until that is removed"
        ));
    }
    let encrypted = settings.encrypted_store || cfg!(windows);
    if encrypted && settings.store != StoreMode::File {
        return Err(bad_config(
            &settings.path,
            "Codex keeps MCP sign-ins in its encrypted secrets file here (features.secret_auth_storage, or Windows), which Latchkey cannot write; set mcp_oauth_credentials_store = \"file\" to use this handoff",
        ));
    }
    let file = |notes: Vec<String>| -> Result<Handed> {
        let written = write_file(&credentials_file(loc), &key, &file_entry(server, bundle))?;
        Ok(Handed {
            name: server.name.clone(),
            key: key.clone(),
            stored: Stored::File(written),
            notes,
        })
    };
    if settings.store == StoreMode::File {
        return file(notes);
    }
    let value = keyring_value(server, bundle, now).to_string();
    match keychain.set(KEYRING_SERVICE, &key, &value) {
        Ok(()) => Ok(Handed {
            name: server.name.clone(),
            key: key.clone(),
            stored: Stored::Keychain {
                service: KEYRING_SERVICE.into(),
                account: key.clone(),
            },
            notes,
        }),
        Err(e) if settings.store == StoreMode::Auto => {
            // Codex does the same: with "auto", a keychain that fails means the file.
            notes.push(format!(
                "{e}; Codex then reads its file store, so the sign-in went there"
            ));
            file(notes)
        }
        Err(e) => Err(e),
    }
}

/// Takes back a sign-in Latchkey handed to Codex for `server`: the entry filed under
/// [`store_key`] in the stores `settings` name (both with "auto", as Codex falls back from
/// the keychain to the file), when it carries one of `client_ids`, Latchkey's clients at
/// the issuer. A sign-in Codex made itself, with its own client, is left alone. Returns
/// whether anything was removed. Errors: the keychain or the file cannot be read or written.
pub fn withdraw(
    loc: &Locations,
    settings: &StoreSettings,
    server: &ServerEntry,
    client_ids: &[String],
    keychain: &dyn Keychain,
) -> Result<bool> {
    let key = store_key(&server.name, server.url.as_deref().unwrap_or_default());
    let ours = |v: &serde_json::Value| {
        v["client_id"]
            .as_str()
            .is_some_and(|c| client_ids.iter().any(|o| o == c))
    };
    let mut removed = false;
    let mut keychain_failed = None;
    if settings.store != StoreMode::File {
        let from_keychain = || -> Result<bool> {
            let item = keychain.get(KEYRING_SERVICE, &key)?;
            if item
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .is_some_and(|v| ours(&v))
            {
                return keychain.delete(KEYRING_SERVICE, &key);
            }
            Ok(false)
        };
        match from_keychain() {
            Ok(r) => removed |= r,
            // With "auto" a keychain that fails sent the handoff to the file: look there.
            Err(e) if settings.store == StoreMode::Auto => keychain_failed = Some(e),
            Err(e) => return Err(e),
        }
    }
    if settings.store != StoreMode::Keyring {
        let credentials = credentials_file(loc);
        let snap = Snapshot::read(&credentials)?;
        if let Some(text) = snap.text() {
            let entry = json_edit::get(&text, &[&key]).ok().flatten();
            if entry.is_some_and(|v| ours(&v)) {
                let new = json_edit::remove_member(&text, &[], &key)
                    .map_err(|e| bad_config(&credentials, e.0))?;
                snap.replace(new.as_bytes())?;
                removed = true;
            }
        }
    }
    match keychain_failed {
        Some(e) if !removed => Err(e),
        _ => Ok(removed),
    }
}

/// Connecting a server: Codex runs `http_headers_helper` (`<latchkey> headers URL`) and
/// sends the headers it prints (tests/fixtures/codex-notes). An entry that connects by itself
/// gets the helper; an mcp-remote entry (or none) becomes `url` with the helper.
pub fn connect_edit(
    existing: Option<&ServerEntry>,
    launch: &super::common::Launch,
) -> super::common::EntryEdit {
    use super::common::EntryEdit;
    let helper = (
        "http_headers_helper",
        serde_json::json!(format!(
            "{} {}",
            launch.helper,
            super::common::shell_quoted(&launch.url)
        )),
    );
    match existing {
        Some(e) if e.tool_connects() => EntryEdit::Members(vec![helper]),
        _ => EntryEdit::Whole(vec![("url", serde_json::json!(launch.url)), helper]),
    }
}

/// The keys of a table header line (`[mcp_servers."my server"]`), None for any other line
/// (an array of tables `[[...]]` included).
fn header_keys(line: &str) -> Option<Vec<String>> {
    let l = line.trim();
    let inner = l.strip_prefix('[')?;
    if inner.starts_with('[') {
        return None;
    }
    let mut keys = Vec::new();
    let mut cur = String::new();
    let mut chars = inner.chars();
    loop {
        match chars.next()? {
            ']' => {
                keys.push(cur.trim().to_string());
                return Some(keys);
            }
            '.' => keys.push(std::mem::take(&mut cur).trim().to_string()),
            '"' => {
                let mut raw = String::from('"');
                loop {
                    let c = chars.next()?;
                    raw.push(c);
                    if c == '\\' {
                        raw.push(chars.next()?);
                    } else if c == '"' {
                        break;
                    }
                }
                cur.push_str(&serde_json::from_str::<String>(&raw).ok()?);
            }
            '\'' => loop {
                match chars.next()? {
                    '\'' => break,
                    c => cur.push(c),
                }
            },
            c if c.is_whitespace() => {}
            c => cur.push(c),
        }
    }
}

/// The lines of `text` with the byte offset each starts at.
fn lines_at(text: &str) -> Vec<(usize, &str)> {
    let mut at = 0;
    text.split_inclusive('\n')
        .map(|l| {
            let start = at;
            at += l.len();
            (start, l)
        })
        .collect()
}

fn is_key_line(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#')
}

/// The span of the `[mcp_servers.NAME]` table: from its header line to the next table that is
/// not one of its sub-tables, without the blank and comment lines just before that one (they
/// introduce it). `None` when the file has no such table.
pub fn section_span(text: &str, name: &str) -> Option<std::ops::Range<usize>> {
    let lines = lines_at(text);
    let own = |keys: &[String]| keys.len() >= 2 && keys[0] == "mcp_servers" && keys[1] == name;
    let start = lines
        .iter()
        .position(|(_, l)| header_keys(l).is_some_and(|k| k.len() == 2 && own(&k)))?;
    let mut end = lines.len();
    for (i, (_, l)) in lines.iter().enumerate().skip(start + 1) {
        if header_keys(l).is_some_and(|k| !own(&k)) || l.trim_start().starts_with("[[") {
            end = i;
            break;
        }
    }
    // Leave the blank and comment lines that introduce the next table to it.
    let mut last = end;
    while last > start + 1 && !is_key_line(lines[last - 1].1) {
        last -= 1;
    }
    let to = lines.get(last).map(|(at, _)| *at).unwrap_or(text.len());
    Some(lines[start].0..to)
}

/// A TOML `key = value` line: strings, numbers, booleans and arrays of them (JSON's string
/// escapes are TOML's).
fn toml_line(key: &str, value: &serde_json::Value) -> String {
    let v = match value {
        serde_json::Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    };
    format!("{key} = {v}\n")
}

/// `[mcp_servers.NAME]`, the name quoted where TOML needs it.
pub fn section_header(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare {
        name.to_string()
    } else {
        serde_json::to_string(name).unwrap_or_default()
    };
    format!("[mcp_servers.{key}]\n")
}

/// The table `section` (as [`section_span`] cut it; `None` for a new one) after `edit`:
/// members are set on the table's own lines (a line with the key is replaced, else one is
/// added after its last key), every other byte kept; a whole entry keeps the header line.
pub fn edit_section(section: Option<&str>, name: &str, edit: &super::common::EntryEdit) -> String {
    use super::common::EntryEdit;
    let header = |s: &str| {
        s.split_inclusive('\n')
            .next()
            .map(|h| {
                if h.ends_with('\n') {
                    h.to_string()
                } else {
                    format!("{h}\n")
                }
            })
            .unwrap_or_else(|| section_header(name))
    };
    match (edit, section) {
        (EntryEdit::Whole(members), s) | (EntryEdit::Members(members), s @ None) => {
            let mut out = s.map(header).unwrap_or_else(|| section_header(name));
            for (k, v) in members {
                out.push_str(&toml_line(k, v));
            }
            out
        }
        (EntryEdit::Members(members), Some(s)) => {
            let mut lines: Vec<String> = s.split_inclusive('\n').map(str::to_string).collect();
            if lines.last().is_some_and(|l| !l.ends_with('\n')) {
                if let Some(l) = lines.last_mut() {
                    l.push('\n');
                }
            }
            for (k, v) in members {
                // The table's own lines end at its first sub-table.
                let own_end = lines
                    .iter()
                    .skip(1)
                    .position(|l| header_keys(l).is_some())
                    .map(|i| i + 1)
                    .unwrap_or(lines.len());
                let has_key = |l: &String| {
                    l.split_once('=')
                        .is_some_and(|(key, _)| key.trim().trim_matches('"') == *k)
                };
                match lines[..own_end].iter().position(has_key) {
                    Some(i) => lines[i] = toml_line(k, v),
                    None => {
                        let after = lines[..own_end]
                            .iter()
                            .rposition(|l| is_key_line(l))
                            .map(|i| i + 1)
                            .unwrap_or(1);
                        lines.insert(after, toml_line(k, v));
                    }
                }
            }
            lines.concat()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::vault::tests::sample;

    use crate::tools::keychain::MemoryKeychain;
    use crate::tools::{test_support, ConfigScope, Os, Source, SourceKind};

    /// The servers of `text` as Codex's config at `path`, read as the inventory reads them.
    fn entries(path: &Path, text: &str) -> Vec<ServerEntry> {
        let source = Source {
            kind: SourceKind::Codex,
            path: path.to_path_buf(),
            config_scope: ConfigScope::User,
        };
        let read = crate::tools::parse_source(&source, text.as_bytes());
        assert!(read.errors.is_empty(), "{:?}", read.errors);
        read.entries
    }

    fn server(url: &str) -> ServerEntry {
        let text = format!("[mcp_servers.fixture]\nurl = \"{url}\"\n");
        entries(Path::new("/h/.codex/config.toml"), &text).remove(0)
    }

    /// The file store `creds` after a hand-off `h` into it, checked: the sign-in went to the
    /// file, the previous file (`before`) is the backup, and its entries keep their bytes.
    fn file_store_after(h: &Handed, creds: &Path, before: &str) -> serde_json::Value {
        let Stored::File(w) = &h.stored else {
            panic!("{h:?}")
        };
        assert_eq!(w.path, creds);
        assert_eq!(
            std::fs::read_to_string(w.backup.as_ref().unwrap()).unwrap(),
            before
        );
        let after = std::fs::read_to_string(creds).unwrap();
        let kept = before.trim_end();
        let kept = kept[..kept.len() - 1].trim_end();
        assert!(after.starts_with(kept), "{after}");
        serde_json::from_str(&after).unwrap()
    }

    /// Locations whose Codex folder is `codex_home`.
    fn codex_at(codex_home: &Path) -> Locations {
        let mut loc = Locations::for_home(codex_home.join("home"));
        loc.codex_home = Some(codex_home.to_path_buf());
        loc
    }

    /// The one entry of CONFIG for `bundle`'s server.
    fn found(path: &Path, bundle: &CredentialBundle) -> ServerEntry {
        let all = entries(path, CONFIG);
        let mut found: Vec<ServerEntry> = all
            .into_iter()
            .filter(|e| e.connects_to(&bundle.server_id))
            .collect();
        assert_eq!(found.len(), 1);
        found.remove(0)
    }

    #[test]
    fn the_key_is_codexs() {
        // Seen in the Secret Service after the real Codex 0.169.0 ran `codex mcp login fixture`
        // for this URL (tests/fixtures/codex-notes/README.md), and the same as
        // sha256('{"type":"http","url":"http://127.0.0.1:36241/mcp","headers":{}}')[..16].
        assert_eq!(
            store_key("fixture", "http://127.0.0.1:36241/mcp"),
            "fixture|de7429669f6aeb88"
        );
        // The URL is taken as written: another spelling of the same server is another key.
        assert_ne!(
            store_key("fixture", "http://127.0.0.1:36241/mcp/"),
            store_key("fixture", "http://127.0.0.1:36241/mcp")
        );
    }

    #[test]
    fn the_keychain_value_is_stored_oauth_tokens_without_a_refresh_token() {
        let b = sample("https://example.com/mcp");
        let s = server("https://example.com/mcp");
        let v = keyring_value(&s, &b, 1_999_999_000);
        assert_eq!(
            v,
            serde_json::json!({
                "server_name": "fixture",
                "url": "https://example.com/mcp",
                "issuer": "https://as.example.com",
                "client_id": "client-1",
                "token_response": {
                    "access_token": "at-secret-value",
                    "token_type": "bearer",
                    "expires_in": 1000,
                    "scope": "mcp",
                },
                "expires_at": 2_000_000_000_000u64,
            })
        );
        let f = file_entry(&s, &b);
        assert_eq!(f["server_url"], "https://example.com/mcp");
        assert_eq!(f["access_token"], "at-secret-value");
        assert_eq!(f["expires_at"], 2_000_000_000_000u64);
        assert_eq!(f["scopes"], serde_json::json!(["mcp"]));
        assert!(f.get("refresh_token").is_none() && !v.to_string().contains("rt-secret"));
    }

    const CONFIG: &str = r#"# Codex settings
model = "o3"

[features]
web_search = true

[mcp_servers.local]
command = "npx"
args = ["-y", "some-server"]

[mcp_servers.fixture]
url = "https://Example.com:443/mcp"

[mcp_servers.other]
url = "https://other.example.com/mcp"
bearer_token_env_var = "OTHER_TOKEN"
"#;

    #[test]
    fn finds_the_server_by_canonical_url() {
        let p = Path::new("/h/.codex/config.toml");
        let c = parse_store_settings(p, CONFIG).unwrap();
        assert_eq!(c.store, StoreMode::Auto);
        assert!(!c.encrypted_store);
        let all = entries(p, CONFIG);
        let remote: Vec<&ServerEntry> = all.iter().filter(|e| e.tool_connects()).collect();
        assert_eq!(remote.len(), 2);
        let b = sample("https://example.com/mcp");
        let s = found(p, &b);
        assert_eq!(s.name, "fixture");
        assert_eq!(s.key_path, ["mcp_servers", "fixture"]);
        assert_eq!(
            s.url.as_deref(),
            Some("https://Example.com:443/mcp"),
            "as written"
        );
        assert_eq!(own_authorization(&s), None);
        assert_eq!(
            own_authorization(remote[1]).as_deref(),
            Some("Authorization: Bearer ${OTHER_TOKEN}")
        );

        let file = parse_store_settings(p, "mcp_oauth_credentials_store = \"file\"\n").unwrap();
        assert_eq!(file.store, StoreMode::File);
        let enc = parse_store_settings(p, "[features]\nsecret_auth_storage = true\n").unwrap();
        assert!(enc.encrypted_store);
        let e = parse_store_settings(p, "mcp_oauth_credentials_store = \"vault\"\n").unwrap_err();
        assert_eq!(e.code(), "bad_config");
        let e = parse_store_settings(p, "a = 1\n[mcp_servers.x\nurl = 2\n").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
    }

    #[test]
    fn auto_writes_the_keychain_and_falls_back_to_the_file_like_codex() {
        let home = test_support::temp_dir("codex-auto");
        let loc = codex_at(&home);
        let c = parse_store_settings(&user_file(&loc), CONFIG).unwrap();
        let b = sample("https://example.com/mcp");
        let s = found(&user_file(&loc), &b);
        let kc = MemoryKeychain::default();
        let h = hand_off(&loc, &c, &s, &b, &kc, 1_999_999_000).unwrap();
        let key = store_key("fixture", "https://Example.com:443/mcp");
        assert_eq!(
            h.stored,
            Stored::Keychain {
                service: KEYRING_SERVICE.into(),
                account: key.clone()
            }
        );
        let stored = kc.items.lock().unwrap()[&(KEYRING_SERVICE.to_string(), key.clone())].clone();
        let v: serde_json::Value = serde_json::from_str(&stored).unwrap();
        assert_eq!(v["url"], "https://Example.com:443/mcp");
        assert!(!credentials_file(&loc).exists());

        let failing = MemoryKeychain {
            fail: true,
            ..Default::default()
        };
        let h = hand_off(&loc, &c, &s, &b, &failing, 1_999_999_000).unwrap();
        assert!(matches!(h.stored, Stored::File(_)), "{h:?}");
        assert!(h.notes[0].contains("file store"), "{:?}", h.notes);
        let text = std::fs::read_to_string(credentials_file(&loc)).unwrap();
        let file: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(file[&key]["access_token"], "at-secret-value");

        // "keyring" never falls back.
        let mut only = c.clone();
        only.store = StoreMode::Keyring;
        let e = hand_off(&loc, &only, &s, &b, &failing, 1_999_999_000).unwrap_err();
        assert_eq!(e.code(), "keychain");
        let _ = std::fs::remove_dir_all(&home);
    }

    #[test]
    fn file_mode_keeps_other_entries_and_encrypted_storage_is_refused() {
        let home = test_support::temp_dir("codex-file");
        let loc = codex_at(&home);
        let creds = credentials_file(&loc);
        let other = r#"{"other|0123456789abcdef":{"server_name":"other","server_url":"https://other.example.com/mcp","client_id":"c","access_token":"x","expires_at":null,"refresh_token":null,"scopes":[]}}"#;
        std::fs::write(&creds, other).unwrap();
        let mut c = parse_store_settings(&user_file(&loc), CONFIG).unwrap();
        c.store = StoreMode::File;
        let b = sample("https://example.com/mcp");
        let s = found(&user_file(&loc), &b);
        let kc = MemoryKeychain::default();
        let h = hand_off(&loc, &c, &s, &b, &kc, 1_999_999_000).unwrap();
        let v = file_store_after(&h, &creds, other);
        assert_eq!(v.as_object().unwrap().len(), 2);
        assert!(kc.items.lock().unwrap().is_empty());

        c.store = StoreMode::Auto;
        c.encrypted_store = true;
        let e = hand_off(&loc, &c, &s, &b, &kc, 1_999_999_000).unwrap_err();
        assert!(e.to_string().contains("secret_auth_storage"), "{e}");
        let _ = std::fs::remove_dir_all(&home);
    }

    #[test]
    fn the_fixture_server_gets_its_sign_in_in_the_file_store_and_the_config_stays() {
        let home = test_support::fixture_home("codex-write");
        let loc = Locations::for_home_on(&home, Os::Linux);
        let config = user_file(&loc);
        // The person chose the file store; a comment and the layout must survive.
        let original = std::fs::read_to_string(&config).unwrap();
        let text = format!("mcp_oauth_credentials_store = \"file\" # no keychain here\n{original}");
        std::fs::write(&config, &text).unwrap();
        let creds = credentials_file(&loc);
        let other = "{\n  \"github|0123456789abcdef\": {\n    \"server_name\": \"github\",\n    \"access_token\": \"keep-me\"\n  }\n}";
        std::fs::write(&creds, other).unwrap();

        let source = crate::tools::user_sources(&loc)
            .into_iter()
            .find(|s| s.kind == SourceKind::Codex)
            .unwrap();
        let b = sample("https://gitlab.example.com/api/v4/mcp");
        let found: Vec<ServerEntry> = crate::tools::read_for_writing(&source)
            .unwrap()
            .into_iter()
            .filter(|e| e.connects_to(&b.server_id))
            .collect();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].key_path, ["mcp_servers", "gitlab"]);
        let settings = read_store_settings(&config).unwrap();
        assert_eq!(settings.store, StoreMode::File);
        let kc = MemoryKeychain::default();
        let h = hand_off(&loc, &settings, &found[0], &b, &kc, 1_999_999_000).unwrap();
        let v = file_store_after(&h, &creds, other);
        let key = store_key("gitlab", "https://gitlab.example.com/api/v4/mcp");
        assert_eq!(v[&key]["access_token"], "at-secret-value");
        assert!(kc.items.lock().unwrap().is_empty());
        // Codex's config is only read.
        assert_eq!(std::fs::read_to_string(&config).unwrap(), text);
        test_support::remove(&home);
    }
}
