//! Claude Code: helper mode (its `headersHelper` runs `latchkey headers`) and native mode
//! (the token written into the store Claude Code reads, `.credentials.json` on Linux).
//! Key and shape verified against Claude Code 2.1.330 (tests/fixtures/claude-code-notes).

use super::atomic::Snapshot;
use super::json_edit;
use crate::error::{Error, Result};
use crate::vault::CredentialBundle;
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

/// What a handoff did, for the person and for undo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    pub backup: Option<PathBuf>,
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

/// The store Claude Code reads its MCP tokens from on Linux (macOS: the keychain item
/// "Claude Code-credentials", not written here).
pub fn credentials_path(claude_config_dir: &Path) -> PathBuf {
    claude_config_dir.join(".credentials.json")
}

/// Native mode: writes the access token where Claude Code looks for it. The refresh token
/// is left out on purpose: Claude Code refreshes stored tokens itself, and two refreshers of
/// one rotating grant revoke it. Latchkey renews and writes again instead.
pub fn write_native(
    credentials: &Path,
    entry: &ServerEntry,
    bundle: &CredentialBundle,
) -> Result<Written> {
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
    let snap = Snapshot::read(credentials)?;
    let text = snap.text().unwrap_or_else(|| "{}".into());
    let new = json_edit::set_member(&text, &["mcpOAuth"], &key, &value)
        .map_err(|e| bad_config(credentials, e))?;
    let backup = snap.replace(new.as_bytes())?;
    Ok(Written {
        path: credentials.to_path_buf(),
        backup,
    })
}

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
            .and_then(|u| crate::vault::server_id(u).ok())
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
}
