//! The credential vault: one keychain entry per server holding the whole bundle as one JSON
//! value, so client registration and tokens are always written together, and one entry per
//! issuer holding the client registration Latchkey shares between that issuer's servers
//! (ARCHITECTURE.md, "Credentials"). Where the keychain's items are too small for an entry
//! (Windows Credential Manager), it is a record naming parts, written parts first ([`parts`]).

use crate::error::{Error, Result};
use crate::oauth::register::ClientRegistration;
use crate::oauth::renewal_timing::{Need, RenewalTiming};
use crate::oauth::tokens::TokenSet;
use crate::protocol::urls;
use crate::secret::Secret;
use crate::store::kernel_copy;
pub use crate::store::keychain_items::keychain_backend;
use crate::store::keychain_items::KeychainItems;
use crate::store::parts::{self, ItemStore};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Mutex;

pub const BUNDLE_VERSION: u32 = 1;
pub const DEFAULT_SERVICE: &str = "latchkey";
const INDEX_ACCOUNT: &str = "latchkey:index";
/// Keychain accounts of per-issuer client registrations start with this; the issuer follows.
pub const CLIENT_ACCOUNT_PREFIX: &str = "latchkey:client:";

/// The keychain account of the client registration kept for `issuer` (the issuer's
/// identifier as its metadata states it, RFC 8414 section 2): `latchkey:client:<issuer>`.
pub fn client_account(issuer: &str) -> String {
    format!("{CLIENT_ACCOUNT_PREFIX}{issuer}")
}

/// A refresh or use that failed for good, kept for the explanation screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeedsSignIn {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub at: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialBundle {
    pub version: u32,
    /// The stable id: the canonical URL of the server.
    pub server_id: String,
    pub server_url: String,
    pub resource: String,
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    pub client: ClientRegistration,
    pub tokens: TokenSet,
    pub requested_scopes: Vec<String>,
    pub updated_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs_sign_in: Option<NeedsSignIn>,
    /// Names people and tools use for this server, e.g. a tool's config key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

impl CredentialBundle {
    /// True while the access token has enough of its lifetime left for `need` at `now`
    /// (seconds since the epoch), or has no known expiry.
    pub fn is_fresh(&self, timing: &RenewalTiming, need: Need, now: u64) -> bool {
        timing.is_fresh(need, self.tokens.obtained_at, self.tokens.expires_at, now)
    }

    /// What the kernel keyring keeps of this bundle: the access token and its times.
    pub fn kernel_copy(&self) -> kernel_copy::Copy<'_> {
        kernel_copy::Copy {
            server_id: &self.server_id,
            access_token: &self.tokens.access_token,
            expires_at: self.tokens.expires_at,
            obtained_at: self.tokens.obtained_at,
            unusable: self.needs_sign_in.is_some(),
        }
    }
}

/// One stored server, as the index lists it: enough to resolve a name without reading bundles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    pub id: String,
    #[serde(default)]
    pub names: Vec<String>,
}

/// The stable identity of a server: its canonical URL.
pub fn server_id(server_url: &str) -> Result<String> {
    Ok(urls::canonical_resource(&urls::parse_http_url(server_url)?))
}

/// Where bundles live. The keychain in the product; memory in unit tests.
pub trait CredentialStore: Send + Sync {
    fn load(&self, server_id: &str) -> Result<Option<CredentialBundle>>;
    fn save(&self, bundle: &CredentialBundle) -> Result<()>;
    /// True when there was something to delete.
    fn delete(&self, server_id: &str) -> Result<bool>;
    /// Every stored bundle's id and names.
    fn list(&self) -> Result<Vec<IndexEntry>>;
    /// Which store this is, for error messages ("Secret Service, namespace latchkey").
    fn describe(&self) -> String;
    /// A quick copy of the access token with enough of its lifetime left for `need`, where
    /// the store keeps one (the kernel keyring on Linux); `None` means "read the bundle".
    fn cached_access_token(
        &self,
        _server_id: &str,
        _timing: &RenewalTiming,
        _need: Need,
    ) -> Option<Secret> {
        None
    }
    /// Keeps a quick copy of a bundle read from the store, where the store keeps one.
    fn remember(&self, _bundle: &CredentialBundle) {}

    /// The client registration kept for `issuer`: the one dynamic registration (RFC 7591)
    /// every server signing in at that issuer reuses. It may hold a client secret and a
    /// registration access token, so it lives beside the bundles (in the keychain: account
    /// [`client_account`]), never in a file. `None` when there is none.
    ///
    /// Errors: the store's, and [`Error::CorruptBundle`] for a record that cannot be read.
    /// The default keeps no registrations (every sign-in then registers anew); the keychain
    /// and the memory store keep them.
    fn load_client(&self, _issuer: &str) -> Result<Option<ClientRegistration>> {
        Ok(None)
    }

    /// Keeps `client` as the registration of its issuer (`client.issuer`), replacing the one
    /// kept before: one registration per issuer. Errors: the store's.
    fn save_client(&self, _client: &ClientRegistration) -> Result<()> {
        Ok(())
    }

    /// Forgets the registration kept for `issuer`; true when there was one. Bundles keep
    /// their own copy of the client that got their tokens. Errors: the store's.
    fn delete_client(&self, _issuer: &str) -> Result<bool> {
        Ok(false)
    }
}

/// The OS keychain through the `keyring` crate: Secret Service, macOS Keychain, Windows
/// Credential Manager. `service` is the namespace; tests use their own. Each value is one
/// item where it fits the store's item limit, else a record and parts ([`parts`]).
pub struct KeyringStore {
    service: String,
    items: Box<dyn ItemStore>,
}

impl KeyringStore {
    /// The namespace `service`, with the platform's item limit.
    pub fn new(service: impl Into<String>) -> Self {
        Self::over(KeychainItems::new(service))
    }

    /// The namespace from `LATCHKEY_KEYCHAIN_SERVICE`, else `latchkey` (and, in debug builds,
    /// the test hooks of [`KeychainItems::from_env`]).
    pub fn from_env() -> Self {
        Self::over(KeychainItems::from_env(
            std::env::var("LATCHKEY_KEYCHAIN_SERVICE")
                .ok()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| DEFAULT_SERVICE.to_string()),
        ))
    }

    /// Bundles and the index kept in `items` (with its namespace and limit).
    pub fn over(items: KeychainItems) -> Self {
        KeyringStore {
            service: items.service().to_string(),
            items: Box::new(items),
        }
    }

    /// The same logic over any item store (a size-limited fake in tests); `service` names
    /// the kernel copies' namespace.
    #[cfg(test)]
    pub(crate) fn with_items(service: impl Into<String>, items: Box<dyn ItemStore>) -> Self {
        KeyringStore {
            service: service.into(),
            items,
        }
    }

    /// The value at `account`, put back together from its parts where it has any; `None` when
    /// there is none or a part is missing.
    fn read(&self, account: &str) -> Result<Option<String>> {
        parts::read(self.items.as_ref(), account)
    }

    /// Stores `value` at `account`: one item where it fits, else parts, then the record.
    fn write(&self, account: &str, value: &str) -> Result<()> {
        parts::write(self.items.as_ref(), account, value, crate::clock::now())
    }

    /// Deletes the item at `account` with its parts; true when there was one.
    fn remove(&self, account: &str) -> Result<bool> {
        parts::remove(self.items.as_ref(), account, crate::clock::now())
    }

    fn read_index(&self) -> Result<Vec<IndexEntry>> {
        let json = match self.read(INDEX_ACCOUNT) {
            Ok(json) => json,
            // A damaged index lists nothing; the next save writes it anew.
            Err(Error::CorruptBundle { .. }) => None,
            Err(e) => return Err(e),
        };
        Ok(json
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default())
    }

    fn write_index(&self, index: &[IndexEntry]) -> Result<()> {
        self.write(
            INDEX_ACCOUNT,
            &serde_json::to_string(index).unwrap_or_else(|_| "[]".into()),
        )
    }
}

impl CredentialStore for KeyringStore {
    /// The kernel keyring's copy: the hot path of `latchkey token|headers` (see
    /// [`kernel_copy`]).
    fn cached_access_token(
        &self,
        server_id: &str,
        timing: &RenewalTiming,
        need: Need,
    ) -> Option<Secret> {
        kernel_copy::get(&self.service, server_id, timing, need, crate::clock::now())
            .map(|c| c.access_token)
    }

    fn remember(&self, bundle: &CredentialBundle) {
        kernel_copy::put(&self.service, &bundle.kernel_copy(), crate::clock::now());
    }

    fn load(&self, server_id: &str) -> Result<Option<CredentialBundle>> {
        match self.read(server_id)? {
            None => Ok(None),
            Some(json) => decode(server_id, &json).map(Some),
        }
    }

    fn save(&self, bundle: &CredentialBundle) -> Result<()> {
        let json = serde_json::to_string(bundle).map_err(|e| Error::CorruptBundle {
            server: bundle.server_id.clone(),
            detail: e.to_string(),
        })?;
        if let Err(e) = self.write(&bundle.server_id, &json) {
            // The keychain may hold the old bundle or none: the copy must not outlive it.
            kernel_copy::forget(&self.service, &bundle.server_id);
            return Err(e);
        }
        kernel_copy::put(&self.service, &bundle.kernel_copy(), crate::clock::now());
        let mut index = self.read_index()?;
        let entry = IndexEntry {
            id: bundle.server_id.clone(),
            names: bundle.names.clone(),
        };
        if !index.contains(&entry) {
            index.retain(|e| e.id != entry.id);
            index.push(entry);
            index.sort_by(|a, b| a.id.cmp(&b.id));
            self.write_index(&index)?;
        }
        Ok(())
    }

    fn delete(&self, server_id: &str) -> Result<bool> {
        kernel_copy::forget(&self.service, server_id);
        let existed = self.remove(server_id)?;
        let mut index = self.read_index()?;
        if index.iter().any(|e| e.id == server_id) {
            index.retain(|e| e.id != server_id);
            self.write_index(&index)?;
        }
        Ok(existed)
    }

    fn list(&self) -> Result<Vec<IndexEntry>> {
        self.read_index()
    }

    fn describe(&self) -> String {
        self.items.describe()
    }

    fn load_client(&self, issuer: &str) -> Result<Option<ClientRegistration>> {
        self.read(&client_account(issuer))?
            .map(|json| decode_client(issuer, &json))
            .transpose()
    }

    fn save_client(&self, client: &ClientRegistration) -> Result<()> {
        self.write(&client_account(&client.issuer), &encode_client(client)?)
    }

    fn delete_client(&self, issuer: &str) -> Result<bool> {
        self.remove(&client_account(issuer))
    }
}

fn decode(server_id: &str, json: &str) -> Result<CredentialBundle> {
    let b: CredentialBundle = serde_json::from_str(json).map_err(|e| Error::CorruptBundle {
        server: server_id.to_string(),
        detail: format!("{e}"),
    })?;
    if b.version > BUNDLE_VERSION {
        return Err(Error::CorruptBundle {
            server: server_id.to_string(),
            detail: format!(
                "it was written by a newer Latchkey (format {}, this one reads {BUNDLE_VERSION})",
                b.version
            ),
        });
    }
    Ok(b)
}

/// A client registration record as stored: its JSON.
fn encode_client(client: &ClientRegistration) -> Result<String> {
    serde_json::to_string(client).map_err(|e| Error::CorruptBundle {
        server: client.issuer.clone(),
        detail: format!("its client registration could not be written as JSON ({e})"),
    })
}

fn decode_client(issuer: &str, json: &str) -> Result<ClientRegistration> {
    serde_json::from_str(json).map_err(|e| Error::CorruptBundle {
        server: issuer.to_string(),
        detail: format!("the client registration kept for this issuer is not valid ({e})"),
    })
}

/// An in-memory store for unit tests and previews; it stores the JSON like the keychain does.
#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<BTreeMap<String, String>>,
    /// Client registrations by issuer, as JSON.
    clients: Mutex<BTreeMap<String, String>>,
}

impl CredentialStore for MemoryStore {
    fn load(&self, server_id: &str) -> Result<Option<CredentialBundle>> {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.get(server_id).map(|j| decode(server_id, j)).transpose()
    }

    fn save(&self, bundle: &CredentialBundle) -> Result<()> {
        let json = serde_json::to_string(bundle).map_err(|e| Error::CorruptBundle {
            server: bundle.server_id.clone(),
            detail: e.to_string(),
        })?;
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(bundle.server_id.clone(), json);
        Ok(())
    }

    fn delete(&self, server_id: &str) -> Result<bool> {
        Ok(self
            .entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(server_id)
            .is_some())
    }

    fn list(&self) -> Result<Vec<IndexEntry>> {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.iter()
            .map(|(id, json)| {
                Ok(IndexEntry {
                    id: id.clone(),
                    names: decode(id, json)?.names,
                })
            })
            .collect()
    }

    fn describe(&self) -> String {
        "memory".into()
    }

    fn load_client(&self, issuer: &str) -> Result<Option<ClientRegistration>> {
        let map = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        map.get(issuer)
            .map(|j| decode_client(issuer, j))
            .transpose()
    }

    fn save_client(&self, client: &ClientRegistration) -> Result<()> {
        let json = encode_client(client)?;
        self.clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(client.issuer.clone(), json);
        Ok(())
    }

    fn delete_client(&self, issuer: &str) -> Result<bool> {
        Ok(self
            .clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(issuer)
            .is_some())
    }
}

#[cfg(test)]
mod split_tests;

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::oauth::plan::TokenAuthMethod;
    use crate::oauth::register::RegistrationMethod;
    use crate::secret::Secret;

    pub fn sample(server: &str) -> CredentialBundle {
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
                registration_access_token: Some(Secret::new("rat-secret-value")),
                registration_client_uri: None,
                client_secret_expires_at: None,
                registered_scope: None,
                device_grant: false,
            },
            tokens: TokenSet {
                access_token: Secret::new("at-secret-value"),
                token_type: "Bearer".into(),
                refresh_token: Some(Secret::new("rt-secret-value")),
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

    #[test]
    fn memory_store_round_trips_and_debug_is_redacted() {
        let s = MemoryStore::default();
        let b = sample("https://Example.com/mcp/");
        assert_eq!(b.server_id, "https://example.com/mcp");
        s.save(&b).unwrap();
        assert_eq!(s.load(&b.server_id).unwrap().unwrap(), b);
        assert_eq!(
            s.list().unwrap(),
            vec![IndexEntry {
                id: b.server_id.clone(),
                names: vec!["example".into()]
            }]
        );
        let dbg = format!("{b:?}");
        assert!(!dbg.contains("secret-value"), "{dbg}");
        assert!(s.delete(&b.server_id).unwrap());
        assert!(!s.delete(&b.server_id).unwrap());
        assert!(s.load(&b.server_id).unwrap().is_none());
    }

    #[test]
    fn client_registrations_are_kept_per_issuer_apart_from_the_servers() {
        let s = MemoryStore::default();
        let b = sample("https://example.com/mcp");
        s.save(&b).unwrap();
        assert_eq!(s.load_client("https://as.example.com").unwrap(), None);
        let mut c = b.client.clone();
        c.client_secret = Some(Secret::new("cs-secret-value"));
        s.save_client(&c).unwrap();
        assert_eq!(
            s.load_client("https://as.example.com").unwrap(),
            Some(c.clone())
        );
        assert_eq!(s.load_client("https://other.example.com").unwrap(), None);
        // One per issuer: a new registration replaces the old one.
        let mut newer = c.clone();
        newer.client_id = "client-2".into();
        s.save_client(&newer).unwrap();
        assert_eq!(
            s.load_client("https://as.example.com")
                .unwrap()
                .unwrap()
                .client_id,
            "client-2"
        );
        // Not a server: the index lists only bundles.
        assert_eq!(s.list().unwrap().len(), 1);
        assert!(s.delete_client("https://as.example.com").unwrap());
        assert!(!s.delete_client("https://as.example.com").unwrap());
        assert_eq!(s.load_client("https://as.example.com").unwrap(), None);
        // The bundle keeps its own copy.
        assert_eq!(s.load(&b.server_id).unwrap().unwrap().client, b.client);
        assert_eq!(
            client_account("https://as.example.com"),
            "latchkey:client:https://as.example.com"
        );
        let e = decode_client("https://as.example.com", "{not json").unwrap_err();
        assert!(
            e.to_string().contains("client registration")
                && !e.to_string().contains("secret-value"),
            "{e}"
        );
    }

    #[test]
    fn a_newer_format_is_a_clear_error() {
        let mut b = sample("https://example.com/mcp");
        b.version = 99;
        let json = serde_json::to_string(&b).unwrap();
        let e = decode(&b.server_id, &json).unwrap_err();
        assert!(e.to_string().contains("newer Latchkey"), "{e}");
        let e = decode("x", "{not json").unwrap_err();
        assert_eq!(e.code(), "corrupt_bundle");
    }
}
