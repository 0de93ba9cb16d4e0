//! The vault against the real Secret Service: gnome-keyring on a private D-Bus session, each
//! test in its own keychain namespace.

use latchkey_core::oauth::plan::TokenAuthMethod;
use latchkey_core::oauth::register::{ClientRegistration, RegistrationMethod};
use latchkey_core::oauth::tokens::TokenSet;
use latchkey_core::store::keychain_items::KeychainItems;
use latchkey_core::store::parts::ItemLimit;
use latchkey_core::store::vault::{
    server_id, CredentialBundle, CredentialStore, KeyringStore, BUNDLE_VERSION,
};
use latchkey_core::Secret;
use latchkey_e2e::SecretService;
use std::process::Command;

fn bundle(server: &str, access: &str, refresh: &str) -> CredentialBundle {
    CredentialBundle {
        version: BUNDLE_VERSION,
        server_id: server_id(server).unwrap(),
        server_url: server.into(),
        resource: server_id(server).unwrap(),
        issuer: "https://as.example.com".into(),
        authorization_endpoint: "https://as.example.com/auth".into(),
        token_endpoint: "https://as.example.com/token".into(),
        revocation_endpoint: None,
        client: ClientRegistration {
            method: RegistrationMethod::Dynamic,
            issuer: "https://as.example.com".into(),
            client_id: "client-1".into(),
            client_secret: None,
            auth_method: TokenAuthMethod::None,
            redirect_uris: vec!["http://127.0.0.1:1234/callback".into()],
            registration_access_token: None,
            registration_client_uri: None,
            client_secret_expires_at: None,
            registered_scope: None,
            device_grant: false,
        },
        tokens: TokenSet {
            access_token: Secret::new(access),
            token_type: "Bearer".into(),
            refresh_token: Some(Secret::new(refresh)),
            expires_at: Some(2_000_000_000),
            scopes: vec!["mcp".into()],
            obtained_at: 1_700_000_000,
        },
        requested_scopes: vec!["mcp".into()],
        updated_at: 1_700_000_000,
        needs_sign_in: None,
        names: vec!["example".into()],
    }
}

/// The keyring crate reads the bus address from the environment; every test here shares one
/// private bus, set once before any test touches the keychain.
fn keychain() -> &'static SecretService {
    static SS: std::sync::OnceLock<SecretService> = std::sync::OnceLock::new();
    SS.get_or_init(|| {
        let ss = SecretService::start();
        for (k, v) in ss.env() {
            // Safe: set once, before any thread of this process reads these variables.
            unsafe { std::env::set_var(k, v) };
        }
        ss
    })
}

#[test]
fn a_bundle_round_trips_as_one_entry_and_is_listed() {
    let ss = keychain();
    let store = KeyringStore::new("latchkey-vault-test-roundtrip");
    assert!(store.load("https://example.com/mcp").unwrap().is_none());
    let b = bundle("https://Example.com/mcp/", "at-1", "rt-1");
    store.save(&b).unwrap();
    assert_eq!(
        store.load("https://example.com/mcp").unwrap(),
        Some(b.clone())
    );
    let index = store.list().unwrap();
    assert_eq!(index.len(), 1);
    assert_eq!(index[0].id, "https://example.com/mcp");
    assert_eq!(index[0].names, ["example"]);

    // One entry, holding the whole bundle as JSON: what another tool's lookup sees.
    let out = Command::new("secret-tool")
        .args([
            "lookup",
            "service",
            "latchkey-vault-test-roundtrip",
            "username",
            "https://example.com/mcp",
        ])
        .envs(ss.env())
        .output()
        .unwrap();
    let stored = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value =
        serde_json::from_str(&stored).unwrap_or_else(|e| panic!("{e}: {stored:?}"));
    assert_eq!(v["client"]["client_id"], "client-1");
    assert_eq!(v["tokens"]["refresh_token"], "rt-1");

    // A new sign-in replaces client and tokens together.
    let mut b2 = bundle("https://example.com/mcp", "at-2", "rt-2");
    b2.client.client_id = "client-2".into();
    store.save(&b2).unwrap();
    let back = store.load("https://example.com/mcp").unwrap().unwrap();
    assert_eq!(
        (
            back.client.client_id.as_str(),
            back.tokens.refresh_token.unwrap().expose()
        ),
        ("client-2", "rt-2")
    );
    assert_eq!(store.list().unwrap().len(), 1);

    assert!(store.delete("https://example.com/mcp").unwrap());
    assert!(!store.delete("https://example.com/mcp").unwrap());
    assert!(store.load("https://example.com/mcp").unwrap().is_none());
    assert!(store.list().unwrap().is_empty());
}

#[test]
fn a_client_registration_is_kept_per_issuer_in_its_own_entry() {
    let ss = keychain();
    let service = "latchkey-vault-test-clients";
    let store = KeyringStore::new(service);
    let issuer = "https://as.example.com";
    assert_eq!(store.load_client(issuer).unwrap(), None);
    let mut c = bundle("https://example.com/mcp", "at-1", "rt-1").client;
    c.client_secret = Some(Secret::new("client-secret-1"));
    c.registration_access_token = Some(Secret::new("rat-1"));
    store.save_client(&c).unwrap();
    assert_eq!(store.load_client(issuer).unwrap(), Some(c.clone()));
    // Its own item, account latchkey:client:<issuer>, holding the registration as JSON.
    let out = Command::new("secret-tool")
        .args([
            "lookup",
            "service",
            service,
            "username",
            "latchkey:client:https://as.example.com",
        ])
        .envs(ss.env())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["client_id"].as_str(), v["issuer"].as_str()),
        (Some("client-1"), Some(issuer))
    );
    // Not a server.
    assert!(store.list().unwrap().is_empty());
    // One per issuer: a new registration replaces it.
    c.client_id = "client-2".into();
    store.save_client(&c).unwrap();
    assert_eq!(
        store.load_client(issuer).unwrap().unwrap().client_id,
        "client-2"
    );
    assert_eq!(
        store.load_client("https://other.example.com").unwrap(),
        None
    );
    assert!(store.delete_client(issuer).unwrap());
    assert!(!store.delete_client(issuer).unwrap());
    assert_eq!(store.load_client(issuer).unwrap(), None);
}

#[test]
fn namespaces_do_not_see_each_other() {
    keychain();
    let a = KeyringStore::new("latchkey-vault-test-a");
    let b = KeyringStore::new("latchkey-vault-test-b");
    a.save(&bundle("https://one.example/mcp", "x", "y"))
        .unwrap();
    assert!(b.load("https://one.example/mcp").unwrap().is_none());
    assert!(b.list().unwrap().is_empty());
    assert_eq!(a.list().unwrap().len(), 1);
}

#[test]
fn a_corrupt_entry_is_a_clear_error_not_a_panic() {
    let ss = keychain();
    let mut child = Command::new("secret-tool")
        .args([
            "store",
            "--label=junk",
            "service",
            "latchkey-vault-test-corrupt",
            "username",
            "https://bad.example/mcp",
        ])
        .envs(ss.env())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"{half a bundle")
        .unwrap();
    assert!(child.wait().unwrap().success());
    let store = KeyringStore::new("latchkey-vault-test-corrupt");
    let e = store.load("https://bad.example/mcp").unwrap_err();
    assert_eq!(e.code(), "corrupt_bundle");
    assert!(e.to_string().contains("https://bad.example/mcp"), "{e}");
    assert!(e.hint().contains("Sign in again"));
}

/// With Windows Credential Manager's item limit (2,560 bytes counted as UTF-16), a bundle
/// with a 3,000-byte access token is a record and parts in the Secret Service, read back
/// whole; deleting it deletes the parts.
#[test]
fn a_bundle_larger_than_an_item_is_stored_in_parts() {
    let ss = keychain();
    let service = "latchkey-vault-test-parts";
    let store = KeyringStore::over(
        KeychainItems::new(service).with_limit(Some(ItemLimit::WINDOWS_CREDENTIAL_MANAGER)),
    );
    let access = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.".to_string() + &"x".repeat(3000);
    let b = bundle("https://big.example/mcp", &access, &"r".repeat(1000));
    store.save(&b).unwrap();
    assert_eq!(store.load("https://big.example/mcp").unwrap(), Some(b));
    let lookup = |account: &str| {
        let out = Command::new("secret-tool")
            .args(["lookup", "service", service, "username", account])
            .envs(ss.env())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let record: serde_json::Value =
        serde_json::from_str(&lookup("https://big.example/mcp")).unwrap();
    let gen = record["gen"].as_str().unwrap().to_string();
    let count = record["count"].as_u64().unwrap();
    assert!(count >= 4, "{record}");
    for n in 0..count {
        let part = lookup(&format!("https://big.example/mcp#part:{gen}:{n}"));
        assert!(!part.is_empty() && part.encode_utf16().count() * 2 <= 2560);
    }
    assert!(store.delete("https://big.example/mcp").unwrap());
    for n in 0..count {
        assert!(lookup(&format!("https://big.example/mcp#part:{gen}:{n}")).is_empty());
    }
    assert!(store.load("https://big.example/mcp").unwrap().is_none());
}
