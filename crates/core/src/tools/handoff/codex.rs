//! Codex (openai/codex, the Rust `codex-rs`): the sign-in of a Streamable HTTP MCP server,
//! written into the store Codex reads its MCP OAuth credentials from.
//!
//! Verified against Codex 0.169.0 (npm `@openai/codex`, pinned in tests/fixtures), from its
//! source (`codex-rs/rmcp-client/src/oauth.rs`, `oauth/resolved_store.rs`,
//! `codex-rs/config/src/types.rs`, `codex-rs/keyring-store/src/lib.rs`) and from what the real
//! binary stored after its own `codex mcp login`; see tests/fixtures/codex-notes/README.md.
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
//! access token until 30 seconds before it expires; Latchkey renews and hands over again.

use super::json_edit;
pub use super::keychain::{Keychain, OsKeychain, Stored};
use crate::error::{Error, Result};
use crate::store::atomic_file::{Snapshot, Written};
use crate::store::vault::CredentialBundle;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

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

/// One remote server of Codex's config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodexServer {
    /// The table name: `[mcp_servers.NAME]`.
    pub name: String,
    /// The URL exactly as configured; Codex's key is derived from this string.
    pub url: String,
    /// Set when Codex sends its own `Authorization` for this server (`bearer_token_env_var`,
    /// or an Authorization header), and so never uses a stored sign-in.
    pub own_authorization: Option<String>,
}

/// What of `$CODEX_HOME/config.toml` decides a handoff.
#[derive(Debug, Clone)]
pub struct CodexConfig {
    pub path: PathBuf,
    pub store: StoreMode,
    /// `[features] secret_auth_storage = true`: the encrypted secrets store.
    pub encrypted_store: bool,
    /// Every server with a `url`, in file order.
    pub servers: Vec<CodexServer>,
}

/// `$CODEX_HOME` when set and not empty, else `~/.codex` (`find_codex_home`).
pub fn codex_home(env_codex_home: Option<&Path>, home: &Path) -> PathBuf {
    match env_codex_home {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => home.join(".codex"),
    }
}

pub fn config_path(codex_home: &Path) -> PathBuf {
    codex_home.join("config.toml")
}

/// Codex's file store (`FALLBACK_FILENAME` in `codex-rs/rmcp-client/src/oauth.rs`).
pub fn credentials_path(codex_home: &Path) -> PathBuf {
    codex_home.join(".credentials.json")
}

fn bad_config(path: &Path, detail: impl Into<String>) -> Error {
    Error::BadConfig {
        path: path.display().to_string(),
        detail: detail.into(),
    }
}

/// Reads the parts of Codex's config a handoff needs. A missing file is a config without
/// servers.
pub fn read_config(path: &Path) -> Result<CodexConfig> {
    let snap = Snapshot::read(path)?;
    let text = snap.text().unwrap_or_default();
    parse_config(path, &text)
}

fn line_of(text: &str, pos: usize) -> usize {
    text[..pos.min(text.len())].matches('\n').count() + 1
}

pub(crate) fn parse_config(path: &Path, text: &str) -> Result<CodexConfig> {
    let doc = toml_edit::Document::parse(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
        bad_config(
            path,
            format!(
                "it is not valid TOML at line {line} ({})",
                e.message().trim()
            ),
        )
    })?;
    let root = doc.as_table();
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
        .and_then(|f| f.as_table_like())
        .and_then(|f| f.get("secret_auth_storage"))
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let mut servers = Vec::new();
    if let Some(table) = root.get("mcp_servers").and_then(|t| t.as_table_like()) {
        for (name, item) in table.iter() {
            let Some(server) = item.as_table_like() else {
                continue;
            };
            let Some(url) = server.get("url").and_then(|u| u.as_str()) else {
                continue;
            };
            let has_auth_header = |key: &str| {
                server
                    .get(key)
                    .and_then(|h| h.as_table_like())
                    .is_some_and(|h| {
                        h.iter()
                            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                    })
            };
            let own_authorization =
                if let Some(var) = server.get("bearer_token_env_var").and_then(|v| v.as_str()) {
                    Some(format!("bearer_token_env_var = \"{var}\""))
                } else if has_auth_header("http_headers") {
                    Some("an Authorization header in http_headers".to_string())
                } else if has_auth_header("env_http_headers") {
                    Some("an Authorization header in env_http_headers".to_string())
                } else {
                    None
                };
            servers.push(CodexServer {
                name: name.to_string(),
                url: url.to_string(),
                own_authorization,
            });
        }
    }
    Ok(CodexConfig {
        path: path.to_path_buf(),
        store,
        encrypted_store,
        servers,
    })
}

impl CodexConfig {
    /// Every server whose URL is this server (by canonical URL).
    pub fn find(&self, server_id: &str) -> Vec<&CodexServer> {
        self.servers
            .iter()
            .filter(|s| {
                crate::store::vault::server_id(&s.url)
                    .map(|id| id == server_id)
                    .unwrap_or(false)
            })
            .collect()
    }
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
    server: &CodexServer,
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
        "url": server.url,
        "issuer": bundle.issuer,
        "client_id": bundle.client.client_id,
        "token_response": token_response,
        "expires_at": tokens.expires_at.map(|s| s.saturating_mul(1000)),
    })
}

/// The file store's entry: Codex's `FallbackTokenEntry` (`codex-rs/rmcp-client/src/oauth.rs`),
/// kept in `.credentials.json` under [`store_key`].
pub fn file_entry(server: &CodexServer, bundle: &CredentialBundle) -> serde_json::Value {
    let tokens = &bundle.tokens;
    serde_json::json!({
        "server_name": server.name,
        "server_url": server.url,
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
    pub name: String,
    pub key: String,
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

/// Writes the sign-in of `bundle` for `server` where Codex will read it, as the config's
/// `mcp_oauth_credentials_store` says. `now` is seconds since the epoch.
pub fn hand_over(
    codex_home: &Path,
    config: &CodexConfig,
    server: &CodexServer,
    bundle: &CredentialBundle,
    keychain: &dyn Keychain,
    now: u64,
) -> Result<Handed> {
    let key = store_key(&server.name, &server.url);
    let mut notes = Vec::new();
    if let Some(own) = &server.own_authorization {
        notes.push(format!(
            "Codex sends its own token for this server ({own}), so it will not use this sign-in until that is removed"
        ));
    }
    let encrypted = config.encrypted_store || cfg!(windows);
    if encrypted && config.store != StoreMode::File {
        return Err(bad_config(
            &config.path,
            "Codex keeps MCP sign-ins in its encrypted secrets file here (features.secret_auth_storage, or Windows), which Latchkey cannot write; set mcp_oauth_credentials_store = \"file\" to use this handoff",
        ));
    }
    let file = |notes: Vec<String>| -> Result<Handed> {
        let written = write_file(
            &credentials_path(codex_home),
            &key,
            &file_entry(server, bundle),
        )?;
        Ok(Handed {
            name: server.name.clone(),
            key: key.clone(),
            stored: Stored::File(written),
            notes,
        })
    };
    if config.store == StoreMode::File {
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
        Err(e) if config.store == StoreMode::Auto => {
            // Codex does the same: with "auto", a keychain that fails means the file.
            notes.push(format!(
                "{e}; Codex then reads its file store, so the sign-in went there"
            ));
            file(notes)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::vault::tests::sample;

    use crate::tools::handoff::keychain::MemoryKeychain;

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("latchkey-codex-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn server(url: &str) -> CodexServer {
        CodexServer {
            name: "fixture".into(),
            url: url.into(),
            own_authorization: None,
        }
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
        let c = parse_config(p, CONFIG).unwrap();
        assert_eq!(c.store, StoreMode::Auto);
        assert!(!c.encrypted_store);
        assert_eq!(c.servers.len(), 2);
        let id = crate::store::vault::server_id("https://example.com/mcp").unwrap();
        let found = c.find(&id);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].name, "fixture");
        assert_eq!(found[0].url, "https://Example.com:443/mcp", "as written");
        assert!(c.servers[1].own_authorization.is_some());

        let file = parse_config(p, "mcp_oauth_credentials_store = \"file\"\n").unwrap();
        assert_eq!(file.store, StoreMode::File);
        let enc = parse_config(p, "[features]\nsecret_auth_storage = true\n").unwrap();
        assert!(enc.encrypted_store);
        let e = parse_config(p, "mcp_oauth_credentials_store = \"vault\"\n").unwrap_err();
        assert_eq!(e.code(), "bad_config");
        let e = parse_config(p, "a = 1\n[mcp_servers.x\nurl = 2\n").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
    }

    #[test]
    fn auto_writes_the_keychain_and_falls_back_to_the_file_like_codex() {
        let home = dir("auto");
        let c = parse_config(&config_path(&home), CONFIG).unwrap();
        let b = sample("https://example.com/mcp");
        let s = c.find(&b.server_id)[0].clone();
        let kc = MemoryKeychain::default();
        let h = hand_over(&home, &c, &s, &b, &kc, 1_999_999_000).unwrap();
        let key = store_key("fixture", "https://Example.com:443/mcp");
        assert_eq!(
            h.stored,
            Stored::Keychain {
                service: KEYRING_SERVICE.into(),
                account: key.clone()
            }
        );
        let stored = kc.items.borrow()[&(KEYRING_SERVICE.to_string(), key.clone())].clone();
        let v: serde_json::Value = serde_json::from_str(&stored).unwrap();
        assert_eq!(v["url"], "https://Example.com:443/mcp");
        assert!(!credentials_path(&home).exists());

        let failing = MemoryKeychain {
            fail: true,
            ..Default::default()
        };
        let h = hand_over(&home, &c, &s, &b, &failing, 1_999_999_000).unwrap();
        assert!(matches!(h.stored, Stored::File(_)), "{h:?}");
        assert!(h.notes[0].contains("file store"), "{:?}", h.notes);
        let text = std::fs::read_to_string(credentials_path(&home)).unwrap();
        let file: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(file[&key]["access_token"], "at-secret-value");

        // "keyring" never falls back.
        let mut only = c.clone();
        only.store = StoreMode::Keyring;
        let e = hand_over(&home, &only, &s, &b, &failing, 1_999_999_000).unwrap_err();
        assert_eq!(e.code(), "keychain");
        let _ = std::fs::remove_dir_all(&home);
    }

    #[test]
    fn file_mode_keeps_other_entries_and_encrypted_storage_is_refused() {
        let home = dir("file");
        let creds = credentials_path(&home);
        let other = r#"{"other|0123456789abcdef":{"server_name":"other","server_url":"https://other.example.com/mcp","client_id":"c","access_token":"x","expires_at":null,"refresh_token":null,"scopes":[]}}"#;
        std::fs::write(&creds, other).unwrap();
        let mut c = parse_config(&config_path(&home), CONFIG).unwrap();
        c.store = StoreMode::File;
        let b = sample("https://example.com/mcp");
        let s = c.find(&b.server_id)[0].clone();
        let kc = MemoryKeychain::default();
        let h = hand_over(&home, &c, &s, &b, &kc, 1_999_999_000).unwrap();
        let Stored::File(w) = &h.stored else {
            panic!("{h:?}")
        };
        assert_eq!(
            std::fs::read_to_string(w.backup.as_ref().unwrap()).unwrap(),
            other
        );
        let after = std::fs::read_to_string(&creds).unwrap();
        assert!(after.starts_with(&other[..other.len() - 1]), "{after}");
        let v: serde_json::Value = serde_json::from_str(&after).unwrap();
        assert_eq!(v.as_object().unwrap().len(), 2);
        assert!(kc.items.borrow().is_empty());

        c.store = StoreMode::Auto;
        c.encrypted_store = true;
        let e = hand_over(&home, &c, &s, &b, &kc, 1_999_999_000).unwrap_err();
        assert!(e.to_string().contains("secret_auth_storage"), "{e}");
        let _ = std::fs::remove_dir_all(&home);
    }
}
