//! What Latchkey remembers about each sign-in server (authorization server, by issuer) beyond
//! any one server's bundle (ARCHITECTURE.md, "Latchkey's own files"):
//! - the person chose to assume PKCE with S256 although its metadata has no
//!   `code_challenge_methods_supported` (Protocol rules: PKCE);
//! - it refused a refresh that carried `resource` (400 `invalid_target` or `invalid_request`)
//!   and accepted it without, so later refreshes there leave `resource` out (Protocol rules:
//!   resource indicators; Entra, Dropbox and some Keycloak set-ups do this).
//!
//! Kept in `<state dir>/issuers.json`, not in the keychain: it holds no secret (issuer URLs,
//! times, error codes), it must be readable when a plan is made, before any keychain prompt
//! or with the keychain locked, and it belongs to a sign-in server, so signing out of one
//! server does not undo it. Written atomically (write, then rename) with owner-only
//! permissions, under a lock so two processes never lose each other's note. A missing or
//! unreadable file reads as "nothing noted": the safe default (ask again; send `resource`).
//! The earlier `<state dir>/pkce-s256.json` (PKCE choices only) is still read.

use crate::error::Result;
use crate::protocol::urls;
use crate::store::{atomic_file, lock};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;
use ts_rs::TS;

/// One remembered PKCE choice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PkceChoice {
    /// The issuer, as its metadata declares it.
    pub issuer: String,
    /// When the person chose, seconds since the epoch.
    pub chosen_at: u64,
}

/// A refresh refused for carrying `resource` and accepted without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRefused {
    /// When, seconds since the epoch.
    pub at: u64,
    /// The authorization server's error code (`invalid_target` or `invalid_request`).
    pub code: String,
}

/// Everything noted about one issuer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerNotes {
    /// The issuer, as its metadata declares it.
    pub issuer: String,
    /// When the person chose to assume PKCE with S256 here (seconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assume_pkce_s256_at: Option<u64>,
    /// Refreshes here leave `resource` out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_without_resource: Option<ResourceRefused>,
    /// Latchkey's client ids here whose tokens were handed to AI tools' own stores (Codex,
    /// Claude Code): an entry there carrying one of them is Latchkey's to take back at
    /// sign-out, even after Latchkey registered again. At most [`MAX_HANDED_CLIENTS`], the
    /// newest last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handed_clients: Vec<String>,
}

/// How many client ids [`IssuerNotes::handed_clients`] keeps per issuer.
pub const MAX_HANDED_CLIENTS: usize = 16;

#[derive(Debug, Default, Serialize, Deserialize)]
struct NotesFile {
    version: u32,
    #[serde(default)]
    issuers: Vec<IssuerNotes>,
}

#[derive(Deserialize)]
struct LegacyPkceFile {
    #[serde(default)]
    assume_s256: Vec<PkceChoice>,
}

const VERSION: u32 = 1;
const LOCK_NAME: &str = "issuer-notes";
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// `<state dir>/issuers.json`.
pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join("issuers.json")
}

fn legacy_path(state_dir: &Path) -> PathBuf {
    state_dir.join("pkce-s256.json")
}

/// Every issuer's notes, in the order first noted; none when the file is missing or
/// unreadable (a warning is logged for an unreadable one).
pub fn load(state_dir: &Path) -> Vec<IssuerNotes> {
    match std::fs::read(path(state_dir)) {
        Ok(bytes) => match serde_json::from_slice::<NotesFile>(&bytes) {
            Ok(f) => f.issuers,
            Err(e) => {
                tracing::warn!(
                    "ignoring {}: not a list of sign-in server notes ({e})",
                    path(state_dir).display()
                );
                Vec::new()
            }
        },
        Err(_) => load_legacy(state_dir),
    }
}

fn load_legacy(state_dir: &Path) -> Vec<IssuerNotes> {
    let Ok(bytes) = std::fs::read(legacy_path(state_dir)) else {
        return Vec::new();
    };
    serde_json::from_slice::<LegacyPkceFile>(&bytes)
        .map(|f| {
            f.assume_s256
                .into_iter()
                .map(|c| IssuerNotes {
                    issuer: c.issuer,
                    assume_pkce_s256_at: Some(c.chosen_at),
                    refresh_without_resource: None,
                    handed_clients: Vec::new(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The notes for `issuer` (compared as [`urls::same_issuer`] does); empty when none.
pub fn get(state_dir: &Path, issuer: &str) -> IssuerNotes {
    load(state_dir)
        .into_iter()
        .find(|n| urls::same_issuer(&n.issuer, issuer))
        .unwrap_or_else(|| IssuerNotes {
            issuer: issuer.to_string(),
            ..IssuerNotes::default()
        })
}

/// Changes the notes for `issuer` under the state folder's lock; `change` returns whether it
/// changed anything (nothing is written otherwise). Notes left empty are dropped. Errors:
/// the lock ([`crate::Error::Lock`], [`crate::Error::LockTimeout`]) or the write
/// ([`crate::Error::WriteFailed`]).
pub fn update(
    state_dir: &Path,
    issuer: &str,
    change: impl FnOnce(&mut IssuerNotes) -> bool,
) -> Result<bool> {
    let _lock = lock::acquire(state_dir, LOCK_NAME, LOCK_WAIT)?;
    let mut all = load(state_dir);
    let i = match all
        .iter()
        .position(|n| urls::same_issuer(&n.issuer, issuer))
    {
        Some(i) => i,
        None => {
            all.push(IssuerNotes {
                issuer: issuer.to_string(),
                ..IssuerNotes::default()
            });
            all.len() - 1
        }
    };
    if !change(&mut all[i]) {
        return Ok(false);
    }
    all.retain(|n| {
        n.assume_pkce_s256_at.is_some()
            || n.refresh_without_resource.is_some()
            || !n.handed_clients.is_empty()
    });
    let file = NotesFile {
        version: VERSION,
        issuers: all,
    };
    let json = serde_json::to_vec_pretty(&file).unwrap_or_default();
    atomic_file::write_private(&path(state_dir), &json)?;
    Ok(true)
}

/// The issuers at which the person chose to assume S256, in the order chosen.
pub fn pkce_choices(state_dir: &Path) -> Vec<PkceChoice> {
    load(state_dir)
        .into_iter()
        .filter_map(|n| {
            n.assume_pkce_s256_at.map(|at| PkceChoice {
                issuer: n.issuer,
                chosen_at: at,
            })
        })
        .collect()
}

/// Whether the person chose to assume S256 at `issuer`.
pub fn pkce_assumed(state_dir: &Path, issuer: &str) -> bool {
    get(state_dir, issuer).assume_pkce_s256_at.is_some()
}

/// Remembers that S256 is assumed at `issuer` (`at`: seconds since the epoch); an earlier
/// choice keeps its time. Errors as [`update`]'s.
pub fn remember_pkce_s256(state_dir: &Path, issuer: &str, at: u64) -> Result<()> {
    update(state_dir, issuer, |n| {
        if n.assume_pkce_s256_at.is_some() {
            return false;
        }
        n.assume_pkce_s256_at = Some(at);
        true
    })
    .map(drop)
}

/// Forgets the PKCE choice for `issuer`; false when there was none. Errors as [`update`]'s.
pub fn forget_pkce_s256(state_dir: &Path, issuer: &str) -> Result<bool> {
    update(state_dir, issuer, |n| {
        n.assume_pkce_s256_at.take().is_some()
    })
}

/// Whether refreshes at `issuer` leave `resource` out.
pub fn refresh_without_resource(state_dir: &Path, issuer: &str) -> bool {
    get(state_dir, issuer).refresh_without_resource.is_some()
}

/// Remembers that `issuer` refused `resource` on refresh with `code` and accepted the
/// refresh without it. Errors as [`update`]'s.
pub fn remember_refresh_without_resource(
    state_dir: &Path,
    issuer: &str,
    code: &str,
    at: u64,
) -> Result<()> {
    update(state_dir, issuer, |n| {
        n.refresh_without_resource = Some(ResourceRefused {
            at,
            code: code.to_string(),
        });
        true
    })
    .map(drop)
}

/// Notes that a token of Latchkey's client `client_id` at `issuer` was handed to a tool's
/// own store. Errors as [`update`]'s.
pub fn remember_handed_client(state_dir: &Path, issuer: &str, client_id: &str) -> Result<()> {
    update(state_dir, issuer, |n| {
        if n.handed_clients.iter().any(|c| c == client_id) {
            return false;
        }
        n.handed_clients.push(client_id.to_string());
        let over = n.handed_clients.len().saturating_sub(MAX_HANDED_CLIENTS);
        n.handed_clients.drain(..over);
        true
    })
    .map(drop)
}

/// Latchkey's client ids at `issuer` whose tokens were handed to tools (oldest first).
pub fn handed_clients(state_dir: &Path, issuer: &str) -> Vec<String> {
    get(state_dir, issuer).handed_clients
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_choices_are_remembered_once_forgotten_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert!(pkce_choices(d).is_empty());
        remember_pkce_s256(d, "https://as.example.com/tenant", 100).unwrap();
        remember_pkce_s256(d, "https://as.example.com/tenant/", 200).unwrap();
        remember_pkce_s256(d, "https://other.example.com", 300).unwrap();
        assert_eq!(
            pkce_choices(d),
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
        assert!(pkce_assumed(d, "https://as.example.com/tenant/"));
        assert!(!pkce_assumed(d, "https://as.example.com"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path(d)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(forget_pkce_s256(d, "https://as.example.com/tenant").unwrap());
        assert!(!forget_pkce_s256(d, "https://as.example.com/tenant").unwrap());
        assert!(!pkce_assumed(d, "https://as.example.com/tenant"));
        assert!(pkce_assumed(d, "https://other.example.com"));
    }

    #[test]
    fn the_resource_note_is_per_issuer_and_beside_the_pkce_choice() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        remember_pkce_s256(d, "https://login.example.com/t1/v2.0", 100).unwrap();
        assert!(!refresh_without_resource(
            d,
            "https://login.example.com/t1/v2.0"
        ));
        remember_refresh_without_resource(
            d,
            "https://login.example.com/t1/v2.0",
            "invalid_target",
            200,
        )
        .unwrap();
        assert!(refresh_without_resource(
            d,
            "https://login.example.com/t1/v2.0/"
        ));
        assert!(!refresh_without_resource(
            d,
            "https://login.example.com/t2/v2.0"
        ));
        // Forgetting the PKCE choice keeps the other note.
        assert!(forget_pkce_s256(d, "https://login.example.com/t1/v2.0").unwrap());
        let n = get(d, "https://login.example.com/t1/v2.0");
        assert_eq!(n.assume_pkce_s256_at, None);
        assert_eq!(n.refresh_without_resource.unwrap().code, "invalid_target");
    }

    #[test]
    fn an_unreadable_file_means_nothing_noted_and_the_older_file_is_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            legacy_path(d),
            br#"{"version":1,"assume_s256":[{"issuer":"https://as.example.com","chosen_at":7}]}"#,
        )
        .unwrap();
        assert!(pkce_assumed(d, "https://as.example.com"));
        remember_refresh_without_resource(d, "https://as.example.com", "invalid_request", 9)
            .unwrap();
        let n = get(d, "https://as.example.com");
        assert_eq!(
            n.assume_pkce_s256_at,
            Some(7),
            "the older choice is carried over"
        );
        std::fs::write(path(d), b"{not json").unwrap();
        assert!(!pkce_assumed(d, "https://as.example.com"));
        assert!(!refresh_without_resource(d, "https://as.example.com"));
    }
}
