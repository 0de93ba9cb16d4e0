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

/// The session D-Bus address to use when the environment names none, on Linux: some tools run
/// `latchkey headers` with a bare environment (Codex passes its `http_headers_helper` only
/// `HOME`, `PATH` and `TERM`; tests/fixtures/codex-notes), and the Secret Service is reached
/// over the session bus. That bus is `$XDG_RUNTIME_DIR/bus`, else `/run/user/<uid>/bus` (where
/// systemd puts it), when that socket exists. `None` when an address is set or none is found.
pub fn session_bus_fallback(
    address: Option<&str>,
    runtime_dir: Option<&std::path::Path>,
    uid: Option<u32>,
    exists: impl Fn(&std::path::Path) -> bool,
) -> Option<String> {
    if address.is_some_and(|a| !a.is_empty()) || !cfg!(target_os = "linux") {
        return None;
    }
    let candidates = runtime_dir
        .map(|d| d.join("bus"))
        .into_iter()
        .chain(uid.map(|u| std::path::PathBuf::from(format!("/run/user/{u}/bus"))));
    for bus in candidates {
        if exists(&bus) {
            return Some(format!("unix:path={}", bus.display()));
        }
    }
    None
}

/// [`session_bus_fallback`] for this process: its environment, its user id and the file
/// system. Called by the fronts before the keychain is first used.
pub fn session_bus_from_env() -> Option<String> {
    #[cfg(unix)]
    let uid = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self").ok().map(|m| m.uid())
    };
    #[cfg(not(unix))]
    let uid = None;
    session_bus_fallback(
        std::env::var("DBUS_SESSION_BUS_ADDRESS").ok().as_deref(),
        std::env::var_os("XDG_RUNTIME_DIR")
            .filter(|d| !d.is_empty())
            .map(std::path::PathBuf::from)
            .as_deref(),
        uid,
        |p| p.exists(),
    )
}

/// The OS keychain's entry of `service` and `account`: on Linux on the process's one Secret
/// Service session ([`crate::store::secret_service`]), elsewhere `keyring`'s platform
/// backend. Errors as `keyring::Entry::new`.
pub fn os_entry(service: &str, account: &str) -> keyring::Result<keyring::Entry> {
    #[cfg(target_os = "linux")]
    return crate::store::secret_service::entry(service, account);
    #[cfg(not(target_os = "linux"))]
    return keyring::Entry::new(service, account);
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
        os_entry(&self.service, account).map_err(|e| self.err(account, e))
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

    #[cfg(target_os = "linux")]
    #[test]
    fn a_bare_environment_finds_the_session_bus_where_systemd_puts_it() {
        use std::path::Path;
        let at = |p: &'static str| move |q: &Path| q == Path::new(p);
        assert_eq!(
            session_bus_fallback(None, None, Some(1000), at("/run/user/1000/bus")),
            Some("unix:path=/run/user/1000/bus".into())
        );
        assert_eq!(
            session_bus_fallback(None, Some(Path::new("/x")), Some(1000), at("/x/bus")),
            Some("unix:path=/x/bus".into())
        );
        assert_eq!(
            session_bus_fallback(Some("unix:path=/y"), None, Some(1000), |_| true),
            None,
            "an address given is kept"
        );
        assert_eq!(
            session_bus_fallback(None, None, Some(1000), |_| false),
            None
        );
    }

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
