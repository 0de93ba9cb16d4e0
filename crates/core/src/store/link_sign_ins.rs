//! The servers signed in through a sign-in a link started (`latchkey://login?url=…` from any
//! web page; usecase/links.rs). Until one of the person's tools uses such a server, the tray
//! does not probe it (usecase/status.rs `servers_to_probe`): a page cannot make Latchkey call
//! a server of its choosing in the background for ever after one sign-in.
//!
//! Kept in `<state dir>/link-sign-ins.json` (a JSON array of canonical server URLs; no
//! secret), written atomically and readable by the owner only. A missing or unreadable file
//! reads as empty.

use crate::error::Result;
use crate::store::atomic_file;
use std::path::{Path, PathBuf};

/// `<state dir>/link-sign-ins.json`.
pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join("link-sign-ins.json")
}

/// The servers noted as signed in through a link.
pub fn read(state_dir: &Path) -> Vec<String> {
    std::fs::read(path(state_dir))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Notes (`linked: true`) or forgets (`false`) that `server` was signed in through a link.
pub fn set(state_dir: &Path, server: &str, linked: bool) -> Result<()> {
    let mut all = read(state_dir);
    let had = all.iter().any(|s| s == server);
    if had == linked {
        return Ok(());
    }
    all.retain(|s| s != server);
    if linked {
        all.push(server.to_string());
    }
    let json = serde_json::to_vec_pretty(&all).unwrap_or_default();
    atomic_file::write_private(&path(state_dir), &json)
}

#[cfg(test)]
mod tests {
    #[test]
    fn noted_and_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        assert!(super::read(dir.path()).is_empty());
        super::set(dir.path(), "https://a.example/mcp", true).unwrap();
        super::set(dir.path(), "https://a.example/mcp", true).unwrap();
        super::set(dir.path(), "https://b.example/mcp", true).unwrap();
        assert_eq!(super::read(dir.path()).len(), 2);
        super::set(dir.path(), "https://a.example/mcp", false).unwrap();
        assert_eq!(super::read(dir.path()), ["https://b.example/mcp"]);
    }
}
