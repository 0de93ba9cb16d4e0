//! One Secret Service connection and encrypted session per process, for every keychain item
//! Latchkey reads or writes on Linux (its own and the AI tools').
//!
//! `keyring`'s own Secret Service backend connects to the session bus and negotiates a new
//! session (`OpenSession`, a Diffie-Hellman exchange) for every get, set and delete, and
//! closes it right after. gnome-keyring-daemon (seen with 42 and 50) aborts on a race in its
//! `OpenSession` handling when such short-lived sessions come in bursts (its log ends with
//! "gkd_secret_service_get_pkcs11_session: assertion 'client' failed" and "g_variant_new:
//! expected GVariant of type 'v'"): a tray renewing short-lived tokens, or many `latchkey
//! token` processes at once, brought the person's whole keychain down. Here a process opens one
//! session on first use and keeps it; when that session has gone (the daemon restarted), the
//! call is tried once more on a new one.
//!
//! The items are the ones `keyring` makes (`keyring::secret_service::SsCredential` with the
//! default target: the same attributes, label and collection), so items written by earlier
//! versions of Latchkey, and other tools' keyring-rs items, are found and kept as they were.
//! Our own code rather than `keyring`'s: that backend has no way to reuse a session.

use dbus_secret_service::{EncryptionType, Error as SsError, Item, SecretService};
use keyring::credential::{Credential, CredentialApi};
use keyring::secret_service::SsCredential;
use keyring::Error as KeyringError;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// The process's session; `None` until first use and after one was found gone.
static SESSION: Mutex<Option<SecretService>> = Mutex::new(None);
/// Sessions this process opened (for tests and `latchkey doctor`-style reports).
static OPENED: AtomicUsize = AtomicUsize::new(0);

/// The keychain entry of `service` and `account`, on this process's shared session.
/// Errors as `keyring::Entry::new` (an empty service or account is `Invalid`).
pub fn entry(service: &str, account: &str) -> keyring::Result<keyring::Entry> {
    let item = SsCredential::new_with_target(None, service, account)?;
    Ok(keyring::Entry::new_with_credential(Box::new(
        SharedSessionItem(item),
    )))
}

/// How many Secret Service sessions this process has opened so far: 1 after any number of
/// keychain calls, unless the daemon went away in between.
pub fn sessions_opened() -> usize {
    OPENED.load(Ordering::SeqCst)
}

/// Runs `op` on the process's session, opening it when there is none. A D-Bus failure on a
/// session opened by an earlier call drops it and runs `op` once more on a new one.
fn with_session<T>(op: impl Fn(&SecretService) -> Result<T, SsError>) -> Result<T, SsError> {
    let mut session = SESSION.lock().unwrap_or_else(PoisonError::into_inner);
    let mut reused = session.is_some();
    loop {
        let ss = match session.as_ref() {
            Some(ss) => ss,
            None => {
                let ss = SecretService::connect(encryption())?;
                OPENED.fetch_add(1, Ordering::SeqCst);
                session.insert(ss)
            }
        };
        match op(ss) {
            Err(SsError::Dbus(_)) if reused => {
                *session = None;
                reused = false;
            }
            other => return other,
        }
    }
}

fn encryption() -> EncryptionType {
    // An encrypted session, as secret-tool uses (Cargo.toml, `keyring`'s crypto-rust).
    EncryptionType::Dh
}

/// One item of the default collection, found by `keyring`'s attributes.
#[derive(Debug)]
struct SharedSessionItem(SsCredential);

impl SharedSessionItem {
    /// The attributes an item is searched by: `keyring`'s, without `application` (and
    /// without `target` for items of the default collection that have none).
    fn search(&self, without_target: bool) -> HashMap<&str, &str> {
        self.0
            .attributes
            .iter()
            .filter(|(k, _)| match k.as_str() {
                "service" | "username" => true,
                "target" => !without_target,
                _ => false,
            })
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    /// Applies `f` to the one matching item (unlocking it first): `NoEntry` when there is
    /// none, `Ambiguous` when there are several.
    fn with_unique<T>(&self, f: impl Fn(&Item) -> Result<T, SsError>) -> keyring::Result<T> {
        let found = with_session(|ss| {
            let search = ss.search_items(self.search(false))?;
            if search.unlocked.is_empty() && search.locked.is_empty() {
                // As `keyring` does: an item without a `target` in the default collection
                // (written by keyring 1, by `secret-tool store service S username U`, which
                // also replaces ours in place, or by another program) is this entry's too.
                let collection = ss.get_default_collection()?;
                let items = collection.search_items(self.search(true))?;
                return match items.as_slice() {
                    [] => Ok(Found::None),
                    [item] => {
                        if item.is_locked()? {
                            item.unlock()?;
                        }
                        f(item).map(Found::One)
                    }
                    several => {
                        let mut all = Vec::new();
                        for item in several {
                            all.push(item.get_attributes()?);
                        }
                        Ok(Found::Several(all))
                    }
                };
            }
            match (search.unlocked.as_slice(), search.locked.as_slice()) {
                ([], []) => Ok(Found::None),
                ([item], []) => f(item).map(Found::One),
                ([], [item]) => {
                    item.unlock()?;
                    f(item).map(Found::One)
                }
                (unlocked, locked) => {
                    let mut all = Vec::new();
                    for item in unlocked.iter().chain(locked) {
                        all.push(item.get_attributes()?);
                    }
                    Ok(Found::Several(all))
                }
            }
        });
        match found.map_err(decode)? {
            Found::None => Err(KeyringError::NoEntry),
            Found::One(t) => Ok(t),
            Found::Several(all) => Err(KeyringError::Ambiguous(
                all.into_iter()
                    .map(|attributes| {
                        let mut item = self.0.clone();
                        item.attributes = attributes;
                        Box::new(SharedSessionItem(item)) as Box<Credential>
                    })
                    .collect(),
            )),
        }
    }
}

enum Found<T> {
    None,
    One(T),
    Several(Vec<HashMap<String, String>>),
}

impl CredentialApi for SharedSessionItem {
    fn set_secret(&self, secret: &[u8]) -> keyring::Result<()> {
        // As `keyring` does: the existing item's secret is replaced wherever it is; a new
        // item goes into the default collection.
        match self.with_unique(|item| item.set_secret(secret, "text/plain")) {
            Err(KeyringError::NoEntry) => {}
            done => return done,
        }
        let attributes: HashMap<&str, &str> = self
            .0
            .attributes
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        with_session(|ss| {
            let collection = ss.get_default_collection()?;
            if collection.is_locked()? {
                collection.unlock()?;
            }
            collection.create_item(
                &self.0.label,
                attributes.clone(),
                secret,
                true,
                "text/plain",
            )?;
            Ok(())
        })
        .map_err(decode)
    }

    fn get_secret(&self) -> keyring::Result<Vec<u8>> {
        self.with_unique(|item| item.get_secret())
    }

    fn delete_credential(&self) -> keyring::Result<()> {
        self.with_unique(|item| item.delete())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// `keyring`'s reading of Secret Service errors: locked, missing and dismissed-prompt are
/// "no access" (the person can fix it by unlocking), the rest a platform failure.
fn decode(e: SsError) -> KeyringError {
    keyring::secret_service::decode_error(e)
}
