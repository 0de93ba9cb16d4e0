//! The sign-in servers at which the person chose to assume PKCE with S256 although their
//! metadata has no `code_challenge_methods_supported` (ARCHITECTURE.md, Protocol rules: PKCE).
//!
//! Kept in `<state dir>/pkce-s256.json`, not in the keychain: it holds no secret (an issuer
//! URL and a time), it must be readable when a plan is made, before any keychain prompt or
//! with the keychain locked, and it belongs to a sign-in server, not to one server's bundle,
//! so signing out of one server does not undo it. Written atomically (write, then rename)
//! with owner-only permissions, under a lock so two processes never lose each other's choice.
//! A missing or unreadable file reads as "no choice": the safe default is to ask again.

use crate::error::Result;
use crate::protocol::urls;
use crate::store::{atomic_file, lock};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;
use ts_rs::TS;

/// One remembered choice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PkceChoice {
    /// The issuer, as its metadata declares it.
    pub issuer: String,
    /// When the person chose, seconds since the epoch.
    pub chosen_at: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ChoicesFile {
    version: u32,
    #[serde(default)]
    assume_s256: Vec<PkceChoice>,
}

const VERSION: u32 = 1;
const LOCK_NAME: &str = "pkce-s256-choices";
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// `<state dir>/pkce-s256.json`.
pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join("pkce-s256.json")
}

/// Every remembered choice, oldest first; none when the file is missing or unreadable.
pub fn load(state_dir: &Path) -> Vec<PkceChoice> {
    let Ok(bytes) = std::fs::read(path(state_dir)) else {
        return Vec::new();
    };
    match serde_json::from_slice::<ChoicesFile>(&bytes) {
        Ok(f) => f.assume_s256,
        Err(e) => {
            tracing::warn!(
                "ignoring {}: not a list of PKCE choices ({e})",
                path(state_dir).display()
            );
            Vec::new()
        }
    }
}

/// Whether the person chose to assume S256 at `issuer`.
pub fn is_assumed(state_dir: &Path, issuer: &str) -> bool {
    load(state_dir)
        .iter()
        .any(|c| urls::same_issuer(&c.issuer, issuer))
}

fn save(state_dir: &Path, choices: Vec<PkceChoice>) -> Result<()> {
    let file = ChoicesFile {
        version: VERSION,
        assume_s256: choices,
    };
    let json = serde_json::to_vec_pretty(&file).unwrap_or_default();
    atomic_file::write_private(&path(state_dir), &json)
}

/// Remembers that S256 is assumed at `issuer` (`at`: seconds since the epoch). Errors: the
/// state folder's lock ([`crate::Error::Lock`], [`crate::Error::LockTimeout`]) or the write
/// ([`crate::Error::WriteFailed`]).
pub fn remember(state_dir: &Path, issuer: &str, at: u64) -> Result<()> {
    let _lock = lock::acquire(state_dir, LOCK_NAME, LOCK_WAIT)?;
    let mut choices = load(state_dir);
    if choices.iter().any(|c| urls::same_issuer(&c.issuer, issuer)) {
        return Ok(());
    }
    choices.push(PkceChoice {
        issuer: issuer.to_string(),
        chosen_at: at,
    });
    save(state_dir, choices)
}

/// Forgets the choice for `issuer`; false when there was none. Errors as [`remember`]'s.
pub fn forget(state_dir: &Path, issuer: &str) -> Result<bool> {
    let _lock = lock::acquire(state_dir, LOCK_NAME, LOCK_WAIT)?;
    let mut choices = load(state_dir);
    let before = choices.len();
    choices.retain(|c| !urls::same_issuer(&c.issuer, issuer));
    if choices.len() == before {
        return Ok(false);
    }
    save(state_dir, choices)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_are_remembered_once_forgotten_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert!(load(d).is_empty());
        remember(d, "https://as.example.com/tenant", 100).unwrap();
        remember(d, "https://as.example.com/tenant/", 200).unwrap();
        remember(d, "https://other.example.com", 300).unwrap();
        assert_eq!(
            load(d),
            [
                PkceChoice {
                    issuer: "https://as.example.com/tenant".into(),
                    chosen_at: 100
                },
                PkceChoice {
                    issuer: "https://other.example.com".into(),
                    chosen_at: 300
                }
            ]
        );
        assert!(is_assumed(d, "https://as.example.com/tenant/"));
        assert!(!is_assumed(d, "https://as.example.com"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path(d)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(forget(d, "https://as.example.com/tenant").unwrap());
        assert!(!forget(d, "https://as.example.com/tenant").unwrap());
        assert!(!is_assumed(d, "https://as.example.com/tenant"));
        assert!(is_assumed(d, "https://other.example.com"));
    }

    #[test]
    fn an_unreadable_file_means_no_choice() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(path(dir.path()), b"{not json").unwrap();
        assert!(load(dir.path()).is_empty());
        assert!(!is_assumed(dir.path(), "https://as.example.com"));
    }
}
