//! The OS keychain as the AI tools use it for their own tokens (Codex everywhere, Claude Code
//! on macOS): one value per service and account, read and written whole.

use crate::error::{Error, Result};
use crate::store::atomic_file::Written;

/// Where a tool's keychain value is read and written. The OS keychain in the product;
/// memory in unit tests.
pub trait Keychain: Send + Sync {
    /// The value, or None when there is no such item.
    fn get(&self, service: &str, account: &str) -> Result<Option<String>>;
    /// Sets the value, creating the item when there is none.
    fn set(&self, service: &str, account: &str, value: &str) -> Result<()>;
    /// Deletes the item; `false` when there was none.
    fn delete(&self, service: &str, account: &str) -> Result<bool>;
}

/// The OS keychain through the `keyring` crate (Secret Service on Linux, the login keychain
/// on macOS, Credential Manager on Windows), as the tools themselves use it.
pub struct OsKeychain;

pub(crate) fn keychain_error(service: &str, e: keyring::Error) -> Error {
    let backend = crate::store::vault::keychain_backend();
    let detail = match &e {
        keyring::Error::NoStorageAccess(inner) => format!("it is locked or not running ({inner})"),
        keyring::Error::PlatformFailure(inner) => format!("the platform store failed ({inner})"),
        other => other.to_string(),
    };
    Error::Keychain {
        store: format!("{backend}, service \"{service}\""),
        detail,
    }
}

impl Keychain for OsKeychain {
    fn get(&self, service: &str, account: &str) -> Result<Option<String>> {
        match crate::store::keychain_items::os_entry(service, account)
            .and_then(|e| e.get_password())
        {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keychain_error(service, e)),
        }
    }

    fn set(&self, service: &str, account: &str, value: &str) -> Result<()> {
        crate::store::keychain_items::os_entry(service, account)
            .and_then(|e| e.set_password(value))
            .map_err(|e| keychain_error(service, e))
    }

    fn delete(&self, service: &str, account: &str) -> Result<bool> {
        match crate::store::keychain_items::os_entry(service, account)
            .and_then(|e| e.delete_credential())
        {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(keychain_error(service, e)),
        }
    }
}

/// Where a handoff put the sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// An item of the OS keychain.
    Keychain {
        /// The item's service name.
        service: String,
        /// The item's account.
        account: String,
    },
    /// A file, with the backup of what it held before.
    File(Written),
}

impl std::fmt::Display for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stored::Keychain { service, account } => {
                write!(f, "the keychain item \"{service}\" (account {account})")
            }
            Stored::File(w) => write!(f, "{}", w.path.display()),
        }
    }
}

/// A keychain in memory for unit tests; `fail` makes it act locked.
#[cfg(test)]
#[derive(Default)]
pub(crate) struct MemoryKeychain {
    pub items: std::sync::Mutex<std::collections::BTreeMap<(String, String), String>>,
    pub fail: bool,
}

#[cfg(test)]
impl MemoryKeychain {
    fn check(&self) -> Result<()> {
        if self.fail {
            return Err(Error::Keychain {
                store: "memory".into(),
                detail: "it is locked or not running".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
impl Keychain for MemoryKeychain {
    fn get(&self, service: &str, account: &str) -> Result<Option<String>> {
        self.check()?;
        Ok(self
            .items
            .lock()
            .unwrap()
            .get(&(service.to_string(), account.to_string()))
            .cloned())
    }

    fn set(&self, service: &str, account: &str, value: &str) -> Result<()> {
        self.check()?;
        self.items.lock().unwrap().insert(
            (service.to_string(), account.to_string()),
            value.to_string(),
        );
        Ok(())
    }

    fn delete(&self, service: &str, account: &str) -> Result<bool> {
        self.check()?;
        Ok(self
            .items
            .lock()
            .unwrap()
            .remove(&(service.to_string(), account.to_string()))
            .is_some())
    }
}
