//! Claude Code: helper mode (its `headersHelper` runs `latchkey headers`) and native mode
//! (the token written into the store Claude Code reads: `.credentials.json` on Linux, the
//! keychain item "Claude Code-credentials" on macOS).
//! Key and shape verified against Claude Code 2.1.330 (tests/fixtures/claude-code-notes).

use super::json_edit;
use super::keychain::{Keychain, Stored};
use crate::error::{Error, Result};
use crate::store::atomic_file::{Snapshot, Written};
use crate::store::vault::CredentialBundle;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Where a server is configured: the file, and the keys leading to its entry, e.g.
/// `["mcpServers", "gitlab"]` or `["projects", "/home/a/p", "mcpServers", "gitlab"]`.
#[derive(Debug, Clone)]
pub struct ServerEntry {
    pub config: PathBuf,
    pub keys: Vec<String>,
}

impl ServerEntry {
    pub fn name(&self) -> &str {
        self.keys.last().map(String::as_str).unwrap_or_default()
    }

    fn keys(&self) -> Vec<&str> {
        self.keys.iter().map(String::as_str).collect()
    }

    /// The entry as configured now.
    pub fn read(&self) -> Result<serde_json::Value> {
        let snap = Snapshot::read(&self.config)?;
        let text = snap.text().ok_or_else(|| not_configured(self))?;
        json_edit::get(&text, &self.keys())
            .map_err(|e| bad_config(&self.config, e))?
            .ok_or_else(|| not_configured(self))
    }
}

fn not_configured(e: &ServerEntry) -> Error {
    Error::BadConfig {
        path: e.config.display().to_string(),
        detail: format!("it has no server at {}", e.keys.join(" > ")),
    }
}

fn bad_config(path: &Path, e: json_edit::EditError) -> Error {
    Error::BadConfig {
        path: path.display().to_string(),
        detail: e.0,
    }
}

/// Helper mode: sets the server's `headersHelper` to `command` (e.g. "/usr/bin/latchkey headers").
pub fn set_headers_helper(entry: &ServerEntry, command: &str) -> Result<Written> {
    let snap = Snapshot::read(&entry.config)?;
    let text = snap.text().ok_or_else(|| not_configured(entry))?;
    if json_edit::get(&text, &entry.keys())
        .map_err(|e| bad_config(&entry.config, e))?
        .is_none()
    {
        return Err(not_configured(entry));
    }
    let new = json_edit::set_member(&text, &entry.keys(), "headersHelper", &command.into())
        .map_err(|e| bad_config(&entry.config, e))?;
    let backup = snap.replace(new.as_bytes())?;
    Ok(Written {
        path: entry.config.clone(),
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
    File(PathBuf),
    /// macOS: the generic password item Claude Code reads with
    /// `security find-generic-password -a ACCOUNT -w -s SERVICE`.
    Keychain {
        service: String,
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

/// Where Claude Code on this platform reads MCP tokens: the keychain on macOS, the
/// `.credentials.json` file of its data folder elsewhere.
pub fn credentials_store(
    claude_config_dir: Option<&Path>,
    home: &Path,
    macos: bool,
    user: Option<&str>,
    secure_storage_dir: Option<&str>,
) -> CredentialsStore {
    if macos {
        let dir = claude_config_dir.map(|d| d.to_string_lossy().into_owned());
        CredentialsStore::Keychain {
            service: keychain_service(dir.as_deref(), secure_storage_dir),
            account: keychain_account(user),
        }
    } else {
        CredentialsStore::File(credentials_path(&data_dir(claude_config_dir, home)))
    }
}

fn native_value(
    entry: &ServerEntry,
    bundle: &CredentialBundle,
) -> Result<(String, serde_json::Value)> {
    let config = entry.read()?;
    let key = credentials_key(entry.name(), &config);
    let value = serde_json::json!({
        "serverName": entry.name(),
        "serverUrl": config["url"],
        "clientId": bundle.client.client_id,
        "accessToken": bundle.tokens.access_token.expose(),
        "expiresAt": bundle.tokens.expires_at.map(|s| s * 1000),
        "scope": bundle.tokens.scopes.join(" "),
        "issuer": bundle.issuer,
    });
    Ok((key, value))
}

/// Native mode: writes the access token where Claude Code looks for it. The refresh token
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

/// The service of the keychain item that keeps the value a native handoff replaced.
pub const KEYCHAIN_BACKUP_SUFFIX: &str = ".latchkey-backup";

/// Claude Code's config file: `$CLAUDE_CONFIG_DIR/.claude.json`, else `~/.claude.json`.
pub fn config_path(claude_config_dir: Option<&Path>, home: &Path) -> PathBuf {
    match claude_config_dir {
        Some(d) => d.join(".claude.json"),
        None => home.join(".claude.json"),
    }
}

/// Where Claude Code keeps `.credentials.json`: `$CLAUDE_CONFIG_DIR`, else `~/.claude`.
pub fn data_dir(claude_config_dir: Option<&Path>, home: &Path) -> PathBuf {
    match claude_config_dir {
        Some(d) => d.to_path_buf(),
        None => home.join(".claude"),
    }
}

/// Every entry of `config` (user level and per project) whose URL is this server.
pub fn find_entries(config: &Path, server_id: &str) -> Result<Vec<ServerEntry>> {
    let snap = Snapshot::read(config)?;
    let Some(text) = snap.text() else {
        return Ok(Vec::new());
    };
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::BadConfig {
        path: config.display().to_string(),
        detail: format!("it is not valid JSON ({e})"),
    })?;
    let same = |entry: &serde_json::Value| {
        entry["url"]
            .as_str()
            .and_then(|u| crate::store::vault::server_id(u).ok())
            .is_some_and(|id| id == server_id)
    };
    let mut out = Vec::new();
    let mut scan = |servers: &serde_json::Value, prefix: Vec<String>| {
        if let Some(map) = servers.as_object() {
            for (name, entry) in map {
                if same(entry) {
                    let mut keys = prefix.clone();
                    keys.push("mcpServers".into());
                    keys.push(name.clone());
                    out.push(ServerEntry {
                        config: config.to_path_buf(),
                        keys,
                    });
                }
            }
        }
    };
    scan(&v["mcpServers"], Vec::new());
    if let Some(projects) = v["projects"].as_object() {
        for (path, p) in projects {
            scan(&p["mcpServers"], vec!["projects".into(), path.clone()]);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let home = Path::new("/home/a");
        assert_eq!(
            credentials_store(None, home, false, Some("a"), None),
            CredentialsStore::File(PathBuf::from("/home/a/.claude/.credentials.json"))
        );
        assert_eq!(
            credentials_store(None, home, true, Some("a"), None),
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
        ServerEntry {
            config,
            keys: vec!["mcpServers".into(), "fx".into()],
        }
    }

    #[test]
    fn a_native_handoff_into_the_keychain_keeps_the_persons_own_sign_in_and_a_backup() {
        use crate::tools::handoff::keychain::MemoryKeychain;
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
        use crate::tools::handoff::keychain::MemoryKeychain;
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
        assert!(kc.items.borrow().is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
