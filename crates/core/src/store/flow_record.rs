//! The last flow of each server (a sign-in or a renewal), kept on disk with its redacted
//! trace, so "why" can be answered after the fact and attached to a bug report.

use crate::error::Result;
use crate::protocol::trace::Exchange;
use crate::store::{atomic_file, paths};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Flow {
    /// "sign-in" or "renewal".
    pub kind: String,
    pub server: String,
    pub at: u64,
    /// "ok", or the error in plain words.
    pub outcome: String,
    pub exchanges: Vec<Exchange>,
}

/// `<state dir>/flows/<hash of the server id>.json`.
pub fn path(state_dir: &Path, server_id: &str) -> PathBuf {
    let digest = Sha256::digest(server_id.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    state_dir.join("flows").join(format!("{hex}.json"))
}

pub fn save(state_dir: &Path, server_id: &str, flow: &Flow) -> Result<()> {
    let json = serde_json::to_vec_pretty(flow).unwrap_or_default();
    paths::ensure_private_dir(state_dir)?;
    atomic_file::write_private(&path(state_dir, server_id), &json)
}

/// The last flow, or None when there is none or it cannot be read (it is only a record).
pub fn load(state_dir: &Path, server_id: &str) -> Option<Flow> {
    let bytes = std::fs::read(path(state_dir, server_id)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Keeps what `recorder` saw as the server's last flow. Best effort: a record that cannot
/// be written must never fail the flow it describes. Nothing is kept when nothing was sent.
pub fn record<T>(
    state_dir: &Path,
    at: u64,
    kind: &str,
    server_id: &str,
    recorder: &crate::protocol::trace::Recorder,
    outcome: &std::result::Result<T, crate::Error>,
) {
    let exchanges = recorder.exchanges();
    if exchanges.is_empty() {
        return;
    }
    let flow = Flow {
        kind: kind.to_string(),
        server: server_id.to_string(),
        at,
        outcome: match outcome {
            Ok(_) => "ok".into(),
            Err(e) => e.to_string(),
        },
        exchanges,
    };
    if let Err(e) = save(state_dir, server_id, &flow) {
        tracing::debug!("the last flow was not kept: {e}");
    }
}
