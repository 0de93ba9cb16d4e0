//! Claude Code's macOS store (one keychain item holding its whole credentials document),
//! written through the real OS keychain API: here the Secret Service (gnome-keyring on a
//! private D-Bus), which the `keyring` crate drives exactly as it drives the macOS keychain.

use latchkey_core::tools::claude_code::{
    credentials_key, write_native, CredentialsStore, KEYCHAIN_BACKUP_SUFFIX,
};
use latchkey_core::tools::keychain::{Keychain, OsKeychain};
use latchkey_core::tools::{read_for_writing, ConfigScope, Source, SourceKind};
use latchkey_e2e::{SecretService, TempDir};

#[test]
fn native_handoff_into_the_keychain_item_keeps_everything_else() {
    let ss = SecretService::start();
    for (k, v) in ss.env() {
        // Safe: the only test of this process, before any keychain use.
        unsafe { std::env::set_var(k, v) };
    }
    let dir = TempDir::new("cc-keychain");
    let config = dir.path().join(".claude.json");
    std::fs::write(
        &config,
        r#"{"mcpServers": {"fx": {"type": "http", "url": "https://example.com/mcp"}}}"#,
    )
    .unwrap();
    let source = Source {
        kind: SourceKind::ClaudeCodeUser,
        path: config,
        config_scope: ConfigScope::User,
    };
    let entry = read_for_writing(&source).unwrap().remove(0);
    // A bundle as the vault keeps it (the vault's own sample is test-only).
    let bundle: latchkey_core::store::vault::CredentialBundle = serde_json::from_value(serde_json::json!({
        "version": 1, "server_id": "https://example.com/mcp", "server_url": "https://example.com/mcp",
        "resource": "https://example.com/mcp", "issuer": "https://as.example.com",
        "authorization_endpoint": "https://as.example.com/auth", "token_endpoint": "https://as.example.com/token",
        "client": {"method": "dynamic", "issuer": "https://as.example.com", "client_id": "c1", "auth_method": "none",
                   "redirect_uris": ["http://127.0.0.1:1/callback"]},
        "tokens": {"access_token": "at-handed", "token_type": "Bearer", "refresh_token": "rt-never-handed",
                   "expires_at": 2000000000u64, "scopes": ["mcp"], "obtained_at": 0},
        "requested_scopes": ["mcp"], "updated_at": 0
    }))
    .unwrap();
    let (service, account) = (
        "Claude Code-credentials-lkt".to_string(),
        "alice".to_string(),
    );
    let own = r#"{"claudeAiOauth":{"accessToken":"persons-own"}}"#;
    OsKeychain.set(&service, &account, own).unwrap();
    let target = CredentialsStore::Keychain {
        service: service.clone(),
        account: account.clone(),
    };
    write_native(&target, &OsKeychain, &entry, &bundle).unwrap();

    let text = OsKeychain.get(&service, &account).unwrap().unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["claudeAiOauth"]["accessToken"], "persons-own");
    let key = credentials_key(
        "fx",
        &serde_json::json!({"type": "http", "url": "https://example.com/mcp"}),
    );
    assert_eq!(v["mcpOAuth"][&key]["accessToken"], "at-handed");
    assert_eq!(v["mcpOAuth"][&key]["expiresAt"], 2_000_000_000_000u64);
    assert!(!text.contains("rt-never-handed"));
    assert_eq!(
        OsKeychain
            .get(&format!("{service}{KEYCHAIN_BACKUP_SUFFIX}"), &account)
            .unwrap()
            .as_deref(),
        Some(own)
    );
}
