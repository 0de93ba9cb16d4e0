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
//!
//! Writing: helper mode sets a server's `headersHelper` (Claude Code runs it for fresh headers
//! on every connection); native mode writes the token into the store Claude Code reads its
//! MCP tokens from (`.credentials.json` on Linux and Windows, the keychain item
//! "Claude Code-credentials" on macOS). Key and shape verified against Claude Code 2.1.330
//! (tests/fixtures/claude-code-notes).

use super::common::{headers, oauth_or_none, shown_command, split_scopes, Ctx};
use super::json_edit;
use super::keychain::{Keychain, Stored};
use super::tree::{Node, Syntax};
use super::{ConfigScope, Format, Locations, OAuthSettings, ServerEntry, Tool, Transport};
use crate::error::{Error, Result};
use crate::store::atomic_file::{Snapshot, Written};
use crate::store::vault::CredentialBundle;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A project's shared file, relative to the project folder.
pub const PROJECT_FILE: &str = ".mcp.json";

/// `$CLAUDE_CONFIG_DIR/.claude.json`, else `~/.claude.json`.
pub fn user_file(loc: &Locations) -> PathBuf {
    match &loc.claude_config_dir {
        Some(dir) => dir.join(".claude.json"),
        None => loc.home.join(".claude.json"),
    }
}

/// How Claude Code's user file is found and read (registered in [`super::SourceKind`]).
pub(crate) static USER_FORMAT: Format = Format {
    tool: Tool::ClaudeCode,
    syntax: Syntax::Json,
    user_file: Some(user_file),
    project_file: None,
    read: read_user,
};

/// How a project's `.mcp.json` is found and read (registered in [`super::SourceKind`]).
pub(crate) static PROJECT_FORMAT: Format = Format {
    tool: Tool::ClaudeCode,
    syntax: Syntax::Json,
    user_file: None,
    project_file: Some(PROJECT_FILE),
    read: read_project,
};

pub(crate) fn read_user(ctx: &mut Ctx<'_>, root: &Node) {
    for (name, server) in ctx.server_map(root, &["mcpServers"]) {
        read_server(ctx, name, server, ConfigScope::User);
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
        // The folder's trust dialog was accepted: Claude Code uses its `.mcp.json` servers.
        if project
            .get("hasTrustDialogAccepted")
            .is_some_and(|t| t.as_bool() == Some(true))
        {
            ctx.trusted_projects.push(PathBuf::from(path));
        }
        let scope = ConfigScope::Local {
            project: PathBuf::from(path),
        };
        for (name, server) in ctx.server_map(root, &["projects", path, "mcpServers"]) {
            read_server(ctx, name, server, scope.clone());
        }
    }
}

pub(crate) fn read_project(ctx: &mut Ctx<'_>, root: &Node) {
    let scope = ctx.source.config_scope.clone();
    for (name, server) in ctx.server_map(root, &["mcpServers"]) {
        read_server(ctx, name, server, scope.clone());
    }
}

fn read_server(ctx: &mut Ctx<'_>, name: &str, s: &Node, scope: ConfigScope) {
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

fn not_configured(e: &ServerEntry) -> Error {
    Error::BadConfig {
        path: e.file.display().to_string(),
        detail: format!("it has no server at {}", e.key_path.join(" > ")),
    }
}

fn keys(entry: &ServerEntry) -> Vec<&str> {
    entry.key_path.iter().map(String::as_str).collect()
}

/// The entry's settings as they are in the file now, unredacted: the credentials key is a
/// hash of them, headers included.
fn configured(entry: &ServerEntry) -> Result<serde_json::Value> {
    let snap = Snapshot::read(&entry.file)?;
    let text = snap.text().ok_or_else(|| not_configured(entry))?;
    json_edit::get(&text, &keys(entry))
        .map_err(|e| bad_config(&entry.file, e))?
        .ok_or_else(|| not_configured(entry))
}

fn bad_config(path: &Path, e: json_edit::EditError) -> Error {
    Error::BadConfig {
        path: path.display().to_string(),
        detail: e.0,
    }
}

/// Helper mode: sets the server's `headersHelper` to `command` (e.g. "/usr/bin/latchkey
/// headers") in the entry's file, changing no other byte; the previous file is kept as a
/// backup. Errors: the file is gone or no longer has the entry (`BadConfig`), it cannot be
/// parsed (`BadConfig`, with the line), or it cannot be written.
pub fn set_headers_helper(entry: &ServerEntry, command: &str) -> Result<Written> {
    let snap = Snapshot::read(&entry.file)?;
    let text = snap.text().ok_or_else(|| not_configured(entry))?;
    if json_edit::get(&text, &keys(entry))
        .map_err(|e| bad_config(&entry.file, e))?
        .is_none()
    {
        return Err(not_configured(entry));
    }
    let new = json_edit::set_member(&text, &keys(entry), "headersHelper", &command.into())
        .map_err(|e| bad_config(&entry.file, e))?;
    let backup = snap.replace(new.as_bytes())?;
    Ok(Written {
        path: entry.file.clone(),
        backup,
    })
}

/// Claude Code's key for a server's stored OAuth tokens: `NAME|` and the first 16 hex digits
/// of the SHA-256 of the compact JSON `{"type":…,"url":…,"headers":{…}}` of its config.
pub fn credentials_key(name: &str, config: &serde_json::Value) -> String {
    let s = |v: &serde_json::Value| serde_json::to_string(v).unwrap_or_else(|_| "null".into());
    let headers = match &config["headers"] {
        serde_json::Value::Null => serde_json::json!({}),
        h => h.clone(),
    };
    // Built by hand: the member order is JavaScript's, whatever serde_json's map order is.
    let compact = format!(
        "{{\"type\":{},\"url\":{},\"headers\":{}}}",
        s(&config["type"]),
        s(&config["url"]),
        s(&headers)
    );
    let digest = Sha256::digest(compact.as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{name}|{hex}")
}

/// The file Claude Code reads its MCP tokens from where it has no keychain (Linux, Windows).
pub fn credentials_path(claude_config_dir: &Path) -> PathBuf {
    claude_config_dir.join(".credentials.json")
}

/// Where Claude Code keeps its tokens: a JSON document with `mcpOAuth` (and the person's own
/// `claudeAiOauth`, which Latchkey never touches), in a file or in one keychain item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialsStore {
    /// A `.credentials.json` file (Linux, Windows).
    File(PathBuf),
    /// macOS: the generic password item Claude Code reads with
    /// `security find-generic-password -a ACCOUNT -w -s SERVICE`.
    Keychain {
        /// The item's service name (see [`keychain_service`]).
        service: String,
        /// The item's account (see [`keychain_account`]).
        account: String,
    },
}

/// The keychain service of Claude Code 2.1.330 (read from its code): "Claude Code-credentials",
/// plus "-" and the first 8 hex digits of the SHA-256 of the config folder when
/// `CLAUDE_CONFIG_DIR` (or `CLAUDE_SECURESTORAGE_CONFIG_DIR`, which wins) names one.
pub fn keychain_service(config_dir: Option<&str>, secure_storage_dir: Option<&str>) -> String {
    let folder = match secure_storage_dir {
        // Set but empty: no suffix.
        Some("") => None,
        Some(d) => Some(d),
        None => config_dir,
    };
    match folder {
        None => "Claude Code-credentials".into(),
        Some(d) => {
            let digest = Sha256::digest(d.as_bytes());
            let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
            format!("Claude Code-credentials-{hex}")
        }
    }
}

/// The keychain account: `$USER` (else the login name) when it is plain, else Claude Code's
/// own fallback "claude-code-user".
pub fn keychain_account(user: Option<&str>) -> String {
    match user {
        Some(u)
            if !u.is_empty()
                && u.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) =>
        {
            u.to_string()
        }
        _ => "claude-code-user".into(),
    }
}

/// Where Claude Code reads MCP tokens: the keychain on macOS (`macos`), the
/// `.credentials.json` file of its data folder elsewhere.
pub fn credentials_store(loc: &Locations, macos: bool) -> CredentialsStore {
    if macos {
        let dir = loc
            .claude_config_dir
            .as_ref()
            .map(|d| d.to_string_lossy().into_owned());
        CredentialsStore::Keychain {
            service: keychain_service(dir.as_deref(), loc.claude_secure_storage_dir.as_deref()),
            account: keychain_account(loc.user.as_deref()),
        }
    } else {
        CredentialsStore::File(credentials_path(&data_dir(loc)))
    }
}

fn native_value(
    entry: &ServerEntry,
    bundle: &CredentialBundle,
) -> Result<(String, serde_json::Value)> {
    let config = configured(entry)?;
    let key = credentials_key(&entry.name, &config);
    let value = serde_json::json!({
        "serverName": entry.name,
        "serverUrl": config["url"],
        "clientId": bundle.client.client_id,
        "accessToken": bundle.tokens.access_token.expose(),
        "expiresAt": bundle.tokens.expires_at.map(|s| s.saturating_mul(1000)),
        "scope": bundle.tokens.scopes.join(" "),
        "issuer": bundle.issuer,
    });
    Ok((key, value))
}

/// Native mode: writes the access token where Claude Code looks for it (`mcpOAuth[KEY]`, see
/// [`credentials_key`]), keeping every other member and a backup. The refresh token
/// is left out on purpose: Claude Code refreshes stored tokens itself, and two refreshers of
/// one rotating grant revoke it. Latchkey renews and writes again instead.
pub fn write_native(
    store: &CredentialsStore,
    keychain: &dyn Keychain,
    entry: &ServerEntry,
    bundle: &CredentialBundle,
) -> Result<Stored> {
    let (key, value) = native_value(entry, bundle)?;
    match store {
        CredentialsStore::File(credentials) => {
            let snap = Snapshot::read(credentials)?;
            let text = snap.text().unwrap_or_else(|| "{}".into());
            let new = json_edit::set_member(&text, &["mcpOAuth"], &key, &value)
                .map_err(|e| bad_config(credentials, e))?;
            let backup = snap.replace(new.as_bytes())?;
            Ok(Stored::File(Written {
                path: credentials.to_path_buf(),
                backup,
            }))
        }
        CredentialsStore::Keychain { service, account } => {
            let before = keychain.get(service, account)?;
            let text = before.clone().unwrap_or_else(|| "{}".into());
            let new = json_edit::set_member(&text, &["mcpOAuth"], &key, &value).map_err(|e| {
                Error::BadConfig {
                    path: format!("the keychain item \"{service}\""),
                    detail: e.0,
                }
            })?;
            if let Some(old) = &before {
                // The previous value, whole, beside it: the undo of this handoff.
                keychain.set(&format!("{service}{KEYCHAIN_BACKUP_SUFFIX}"), account, old)?;
            }
            // Claude Code may have written meanwhile (it renews its own tokens): never
            // overwrite what was not read.
            if keychain.get(service, account)? != before {
                return Err(Error::WriteFailed {
                    path: format!("the keychain item \"{service}\""),
                    detail: "Claude Code changed it while Latchkey was writing; try again".into(),
                });
            }
            keychain.set(service, account, &new)?;
            Ok(Stored::Keychain {
                service: service.clone(),
                account: account.clone(),
            })
        }
    }
}

/// Takes back a token a native handoff wrote for `entry` (`mcpOAuth[KEY]`, see
/// [`credentials_key`]) when it carries one of `client_ids`, Latchkey's clients at the
/// issuer: a sign-in Claude Code made itself, with its own client, is left alone. Every other member is kept (a
/// backup of the file first). `Ok(false)` when there was nothing of Latchkey's to take back.
/// Errors: the file or keychain item cannot be read or written.
pub fn withdraw_native(
    store: &CredentialsStore,
    keychain: &dyn Keychain,
    entry: &ServerEntry,
    client_ids: &[String],
) -> Result<bool> {
    let key = credentials_key(&entry.name, &configured(entry)?);
    let ours = |text: &str| {
        json_edit::get(text, &["mcpOAuth", &key])
            .ok()
            .flatten()
            .and_then(|v| v["clientId"].as_str().map(str::to_string))
            .is_some_and(|c| client_ids.contains(&c))
    };
    match store {
        CredentialsStore::File(credentials) => {
            let snap = Snapshot::read(credentials)?;
            let Some(text) = snap.text().filter(|t| ours(t)) else {
                return Ok(false);
            };
            let new = json_edit::remove_member(&text, &["mcpOAuth"], &key)
                .map_err(|e| bad_config(credentials, e))?;
            snap.replace(new.as_bytes())?;
            Ok(true)
        }
        CredentialsStore::Keychain { service, account } => {
            let Some(text) = keychain.get(service, account)?.filter(|t| ours(t)) else {
                return Ok(false);
            };
            let new = json_edit::remove_member(&text, &["mcpOAuth"], &key).map_err(|e| {
                Error::BadConfig {
                    path: format!("the keychain item \"{service}\""),
                    detail: e.0,
                }
            })?;
            keychain.set(service, account, &new)?;
            Ok(true)
        }
    }
}

/// The service of the keychain item that keeps the value a native handoff replaced.
pub const KEYCHAIN_BACKUP_SUFFIX: &str = ".latchkey-backup";

/// Where Claude Code keeps `.credentials.json`: `$CLAUDE_CONFIG_DIR`, else `~/.claude`.
pub fn data_dir(loc: &Locations) -> PathBuf {
    match &loc.claude_config_dir {
        Some(d) => d.clone(),
        None => loc.home.join(".claude"),
    }
}

/// Connecting a server: Claude Code runs its `headersHelper` (`<latchkey> headers`, which
/// reads the server from `$CLAUDE_CODE_MCP_SERVER_URL`) for fresh headers on every
/// connection. An entry that connects by itself gets the helper; an mcp-remote entry (or
/// none) becomes a remote entry with it.
pub fn connect_edit(
    existing: Option<&ServerEntry>,
    launch: &super::common::Launch,
) -> super::common::EntryEdit {
    use super::common::EntryEdit;
    let helper = ("headersHelper", serde_json::json!(launch.helper));
    match existing {
        Some(e) if e.tool_connects() => EntryEdit::Members(vec![helper]),
        _ => {
            let sse = existing.is_some_and(|e| e.transport == Transport::Sse);
            EntryEdit::Whole(vec![
                ("type", serde_json::json!(if sse { "sse" } else { "http" })),
                ("url", serde_json::json!(launch.url)),
                helper,
            ])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::keychain::MemoryKeychain;
    use crate::tools::{test_support, Os};
    use serde_json::json;

    #[test]
    fn the_key_is_claude_codes() {
        // Computed by Claude Code's own formula in node:
        // crypto.createHash("sha256").update(JSON.stringify({type:"http",url:"http://127.0.0.1:3000/mcp",headers:{}})).digest("hex").slice(0,16)
        let k = credentials_key(
            "fx",
            &json!({"url": "http://127.0.0.1:3000/mcp", "type": "http"}),
        );
        let expected = {
            let d = Sha256::digest(
                br#"{"type":"http","url":"http://127.0.0.1:3000/mcp","headers":{}}"#,
            );
            d[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        assert_eq!(k, format!("fx|{expected}"));
        // Static headers change the key.
        let with = credentials_key(
            "fx",
            &json!({"type": "http", "url": "http://127.0.0.1:3000/mcp", "headers": {"X-A": "1"}}),
        );
        assert_ne!(with, k);
    }

    #[test]
    fn the_macos_keychain_item_is_claude_codes() {
        assert_eq!(keychain_service(None, None), "Claude Code-credentials");
        // CLAUDE_CONFIG_DIR=/Users/a/.claude-work: node's
        // createHash("sha256").update("/Users/a/.claude-work").digest("hex").substring(0,8)
        let d = Sha256::digest(b"/Users/a/.claude-work");
        let hex: String = d[..4].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            keychain_service(Some("/Users/a/.claude-work"), None),
            format!("Claude Code-credentials-{hex}")
        );
        assert_eq!(
            keychain_service(Some("/Users/a/.claude-work"), Some("")),
            "Claude Code-credentials"
        );
        assert_eq!(keychain_account(Some("alice")), "alice");
        assert_eq!(keychain_account(Some("Jane Doe")), "claude-code-user");
        assert_eq!(keychain_account(None), "claude-code-user");
        let mut loc = Locations::for_home("/home/a");
        loc.user = Some("a".into());
        assert_eq!(
            credentials_store(&loc, false),
            CredentialsStore::File(PathBuf::from("/home/a/.claude/.credentials.json"))
        );
        assert_eq!(
            credentials_store(&loc, true),
            CredentialsStore::Keychain {
                service: "Claude Code-credentials".into(),
                account: "a".into()
            }
        );
    }

    fn entry_in(dir: &Path) -> ServerEntry {
        let config = dir.join(".claude.json");
        std::fs::write(
            &config,
            r#"{"mcpServers": {"fx": {"type": "http", "url": "https://example.com/mcp"}}}"#,
        )
        .unwrap();
        let source = crate::tools::Source {
            kind: crate::tools::SourceKind::ClaudeCodeUser,
            path: config,
            config_scope: ConfigScope::User,
        };
        crate::tools::read_for_writing(&source).unwrap().remove(0)
    }

    #[test]
    fn a_native_handoff_into_the_keychain_keeps_the_persons_own_sign_in_and_a_backup() {
        let dir = std::env::temp_dir().join(format!("latchkey-cc-kc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let entry = entry_in(&dir);
        let bundle = crate::store::vault::tests::sample("https://example.com/mcp");
        let kc = MemoryKeychain::default();
        let (service, account) = ("Claude Code-credentials".to_string(), "a".to_string());
        let own = r#"{"claudeAiOauth":{"accessToken":"persons-own","refreshToken":"r"}}"#;
        kc.set(&service, &account, own).unwrap();
        let store = CredentialsStore::Keychain {
            service: service.clone(),
            account: account.clone(),
        };
        let stored = write_native(&store, &kc, &entry, &bundle).unwrap();
        assert_eq!(
            stored,
            Stored::Keychain {
                service: service.clone(),
                account: account.clone()
            }
        );
        let v: serde_json::Value =
            serde_json::from_str(&kc.get(&service, &account).unwrap().unwrap()).unwrap();
        assert_eq!(v["claudeAiOauth"]["accessToken"], "persons-own");
        let key = credentials_key(
            "fx",
            &json!({"type": "http", "url": "https://example.com/mcp"}),
        );
        let e = &v["mcpOAuth"][&key];
        assert_eq!(e["serverUrl"], "https://example.com/mcp");
        assert_eq!(e["accessToken"], bundle.tokens.access_token.expose());
        assert!(e.get("refreshToken").is_none());
        let backup = kc
            .get(&format!("{service}{KEYCHAIN_BACKUP_SUFFIX}"), &account)
            .unwrap();
        assert_eq!(backup.as_deref(), Some(own));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_locked_keychain_is_a_clear_error_and_nothing_is_written() {
        let dir = std::env::temp_dir().join(format!("latchkey-cc-kc2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let entry = entry_in(&dir);
        let bundle = crate::store::vault::tests::sample("https://example.com/mcp");
        let kc = MemoryKeychain {
            fail: true,
            ..Default::default()
        };
        let store = CredentialsStore::Keychain {
            service: "Claude Code-credentials".into(),
            account: "a".into(),
        };
        let e = write_native(&store, &kc, &entry, &bundle).unwrap_err();
        assert!(e.to_string().contains("locked"), "{e}");
        assert!(kc.items.lock().unwrap().is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The fixture home's `~/.claude.json`, read as the inventory reads it.
    fn fixture_entries(tag: &str) -> (Locations, Vec<ServerEntry>) {
        let loc = Locations::for_home_on(test_support::fixture_home(tag), Os::Linux);
        let source = crate::tools::user_sources(&loc).remove(0);
        assert_eq!(source.kind, crate::tools::SourceKind::ClaudeCodeUser);
        let entries = crate::tools::read_for_writing(&source).unwrap();
        (loc, entries)
    }

    #[test]
    fn helper_mode_finds_the_entry_the_inventory_lists_and_changes_only_it() {
        let (loc, entries) = fixture_entries("cc-helper");
        let file = user_file(&loc);
        for (url, key_path) in [
            // A user server without a helper: one member inserted.
            ("https://mcp.linear.app/mcp", vec!["mcpServers", "linear"]),
            // A project's private server with an old helper: its value replaced.
            (
                "https://gitlab.example.com/api/v4/mcp",
                vec![
                    "projects",
                    "/home/alice/code/webapp",
                    "mcpServers",
                    "gitlab",
                ],
            ),
        ] {
            let id = crate::store::vault::server_id(url).unwrap();
            let found: Vec<&ServerEntry> = entries.iter().filter(|e| e.connects_to(&id)).collect();
            assert_eq!(found.len(), 1, "{url}");
            let entry = found[0];
            assert_eq!(entry.key_path, key_path);
            assert_eq!(entry.file, file);
            let before = std::fs::read_to_string(&file).unwrap();
            let written = set_headers_helper(entry, "/opt/latchkey/bin/latchkey headers").unwrap();
            let after = std::fs::read_to_string(&file).unwrap();
            test_support::assert_changed_only_inside(&before, &after, &key_path);
            assert_eq!(
                std::fs::read_to_string(written.backup.unwrap()).unwrap(),
                before
            );
            let again = crate::tools::read_for_writing(&crate::tools::user_sources(&loc)[0])
                .unwrap()
                .into_iter()
                .find(|e| e.key_path == key_path)
                .unwrap();
            assert_eq!(
                again.auth.headers_helper.as_deref(),
                Some("/opt/latchkey/bin/latchkey headers")
            );
        }
        test_support::remove(&loc.home);
    }

    #[test]
    fn native_mode_into_the_file_keeps_the_persons_own_sign_in_and_a_backup() {
        let (loc, entries) = fixture_entries("cc-native");
        let id = crate::store::vault::server_id("https://mcp.linear.app/mcp").unwrap();
        let entry = entries.iter().find(|e| e.connects_to(&id)).unwrap();
        let store = credentials_store(&loc, false);
        let CredentialsStore::File(path) = &store else {
            panic!("{store:?}")
        };
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let own = "{\n  \"claudeAiOauth\": {\n    \"accessToken\": \"persons-own\"\n  }\n}\n";
        std::fs::write(path, own).unwrap();
        let config_before = std::fs::read_to_string(user_file(&loc)).unwrap();
        let bundle = crate::store::vault::tests::sample("https://mcp.linear.app/mcp");
        let stored = write_native(&store, &MemoryKeychain::default(), entry, &bundle).unwrap();
        let Stored::File(w) = stored else {
            panic!("{stored:?}")
        };
        assert_eq!(std::fs::read_to_string(w.backup.unwrap()).unwrap(), own);
        let after = std::fs::read_to_string(path).unwrap();
        // The person's own sign-in keeps its bytes; one member was added after it.
        assert!(
            after.starts_with(&own[..own.rfind('}').unwrap() - 1]),
            "{after}"
        );
        let v: serde_json::Value = serde_json::from_str(&after).unwrap();
        let key = credentials_key(
            "linear",
            &json!({"type": "http", "url": "https://mcp.linear.app/mcp"}),
        );
        assert_eq!(
            v["mcpOAuth"][&key]["accessToken"],
            bundle.tokens.access_token.expose()
        );
        // The config file itself is not touched in native mode.
        assert_eq!(
            std::fs::read_to_string(user_file(&loc)).unwrap(),
            config_before
        );
        test_support::remove(&loc.home);
    }
}
