//! The OS keychain's items through the `keyring` crate: the [`ItemStore`] the vault keeps its
//! bundles and index in (cut into parts by [`crate::store::parts`] where an item is too
//! small). One namespace (`service`), items by account; the per-item limit is the platform
//! store's (ARCHITECTURE.md, "Credentials").

use crate::error::{Error, Result};
use crate::store::parts::{Encoding, ItemLimit, ItemStore};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The OS keychain this platform's `keyring` backend talks to, as people know it.
pub fn keychain_backend() -> &'static str {
    if cfg!(target_os = "macos") {
        "macOS Keychain"
    } else if cfg!(windows) {
        "Windows Credential Manager"
    } else {
        "Secret Service"
    }
}

/// The most one item of this platform's keychain holds: Windows Credential Manager 2,560
/// bytes counted as UTF-16 ([`ItemLimit::WINDOWS_CREDENTIAL_MANAGER`]); the macOS Keychain
/// and the Secret Service have no practical limit (`None`).
#[cfg(windows)]
pub fn platform_limit() -> Option<ItemLimit> {
    Some(ItemLimit::WINDOWS_CREDENTIAL_MANAGER)
}

/// The most one item of this platform's keychain holds: Windows Credential Manager 2,560
/// bytes counted as UTF-16 ([`ItemLimit::WINDOWS_CREDENTIAL_MANAGER`]); the macOS Keychain
/// and the Secret Service have no practical limit (`None`).
#[cfg(not(windows))]
pub fn platform_limit() -> Option<ItemLimit> {
    None
}

/// One namespace of the OS keychain.
pub struct KeychainItems {
    service: String,
    limit: Option<ItemLimit>,
    /// Debug builds only: a pause after every write, so crash tests can kill a process
    /// between two of them.
    step_delay: Option<Duration>,
    /// Writes done, for the step-delay hook's messages.
    writes: AtomicUsize,
}

impl KeychainItems {
    /// The namespace `service`, with the platform's item limit.
    pub fn new(service: impl Into<String>) -> Self {
        KeychainItems {
            service: service.into(),
            limit: platform_limit(),
            step_delay: None,
            writes: AtomicUsize::new(0),
        }
    }

    /// The namespace `service`, with the test hooks of debug builds (the end-to-end tests
    /// run those; a release build reads neither variable):
    /// - `LATCHKEY_TEST_KEYCHAIN_ITEM_LIMIT=N`: each item holds at most N bytes, counted as
    ///   UTF-16 like Windows Credential Manager (so the Secret Service splits as Windows does);
    /// - `LATCHKEY_TEST_KEYCHAIN_STEP_DELAY_MS=N`: after every item written or deleted, a line
    ///   `latchkey test hook: keychain write K done` on stderr and a pause of N ms.
    pub fn from_env(service: impl Into<String>) -> Self {
        let mut items = Self::new(service);
        if cfg!(debug_assertions) {
            let number = |name: &str| {
                std::env::var(name)
                    .ok()
                    .and_then(|s| s.trim().parse::<u64>().ok())
            };
            if let Some(n) = number("LATCHKEY_TEST_KEYCHAIN_ITEM_LIMIT") {
                items.limit = Some(ItemLimit {
                    bytes: usize::try_from(n).unwrap_or(usize::MAX),
                    counted_as: Encoding::Utf16,
                });
            }
            items.step_delay = number("LATCHKEY_TEST_KEYCHAIN_STEP_DELAY_MS")
                .filter(|&ms| ms > 0)
                .map(Duration::from_millis);
        }
        items
    }

    /// The same namespace with another per-item limit (`None`: unlimited).
    pub fn with_limit(mut self, limit: Option<ItemLimit>) -> Self {
        self.limit = limit;
        self
    }

    /// The namespace (`LATCHKEY_KEYCHAIN_SERVICE`, default `latchkey`).
    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, account).map_err(|e| self.err(account, e))
    }

    fn err(&self, account: &str, e: keyring::Error) -> Error {
        let detail = match &e {
            keyring::Error::NoStorageAccess(inner) => {
                format!("it is locked or not running ({inner})")
            }
            keyring::Error::PlatformFailure(inner) => {
                format!("the platform store failed ({inner})")
            }
            keyring::Error::TooLong(what, max) => {
                return Error::KeychainItemTooLarge {
                    store: self.describe(),
                    item: account.to_string(),
                    detail: format!("its {what} is longer than the store's limit of {max}"),
                }
            }
            other => other.to_string(),
        };
        Error::Keychain {
            store: self.describe(),
            detail,
        }
    }

    /// The step-delay hook: says on stderr which write just finished (counted from 1 in this
    /// process, no account or value), then pauses; a crash test kills the process there.
    fn pause(&self) {
        if let Some(d) = self.step_delay {
            let n = self.writes.fetch_add(1, Ordering::SeqCst) + 1;
            eprintln!("latchkey test hook: keychain write {n} done");
            std::thread::sleep(d);
        }
    }
}

impl ItemStore for KeychainItems {
    fn get(&self, account: &str) -> Result<Option<String>> {
        match self.entry(account)?.get_password() {
            Ok(s) => Ok(Some(s)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(self.err(account, e)),
        }
    }

    fn set(&self, account: &str, value: &str) -> Result<()> {
        self.entry(account)?
            .set_password(value)
            .map_err(|e| self.err(account, e))?;
        self.pause();
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<bool> {
        let existed = match self.entry(account)?.delete_credential() {
            Ok(()) => true,
            Err(keyring::Error::NoEntry) => false,
            Err(e) => return Err(self.err(account, e)),
        };
        self.pause();
        Ok(existed)
    }

    fn limit(&self) -> Option<ItemLimit> {
        self.limit
    }

    fn describe(&self) -> String {
        format!("{}, service \"{}\"", keychain_backend(), self.service)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_the_platforms_unless_set() {
        if cfg!(windows) {
            assert_eq!(
                platform_limit(),
                Some(ItemLimit::WINDOWS_CREDENTIAL_MANAGER)
            );
        } else {
            assert_eq!(platform_limit(), None);
        }
        let items = KeychainItems::new("latchkey-items-test");
        assert_eq!(items.limit(), platform_limit());
        assert!(items
            .describe()
            .ends_with("service \"latchkey-items-test\""));
        let small = Some(ItemLimit {
            bytes: 100,
            counted_as: Encoding::Utf8,
        });
        assert_eq!(items.with_limit(small).limit(), small);
    }

    #[test]
    fn too_long_is_its_own_error_naming_the_store_and_the_limit() {
        let items = KeychainItems::new("latchkey-items-test");
        let e = items.err(
            "https://x.example/mcp",
            keyring::Error::TooLong("password encoded as UTF-16".into(), 2560),
        );
        assert_eq!(e.code(), "keychain_item_too_large");
        let msg = e.to_string();
        assert!(
            msg.contains("latchkey-items-test")
                && msg.contains("https://x.example/mcp")
                && msg.contains("2560"),
            "{msg}"
        );
    }
}
