//! What the engine tells the fronts as it happens: a server's credentials changed (a sign-in,
//! a sign-out, a renewal), a session event for notifications, a probe's result.

use crate::health::probe::ServerHealth;
use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone)]
pub enum Event {
    /// The stored credentials of `server` (its canonical URL) changed.
    Changed { server: String },
    /// A renewal, a failed one, or a session about to end without renewal.
    Session(SessionEvent),
    /// A probe's result.
    Health(ServerHealth),
}

/// What happened to a session, for notifications and the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SessionEvent {
    Refreshed {
        server: String,
        /// Seconds since the epoch.
        until: Option<u64>,
    },
    /// Will end soon and nothing can renew it: the person should sign in before then.
    ExpiringSoon {
        server: String,
        /// Seconds since the epoch.
        at: u64,
    },
    Failed {
        server: String,
        reason: crate::health::reasons::Reason,
    },
}
