//! How each server is doing: the probe (an MCP `initialize` with the stored token), the
//! catalogue of reasons in plain words with their fixes, the dashboard's rows, and the overview
//! every front shows first (the overall state, each server's primary action, in urgency order).

pub mod dashboard;
pub mod overview;
pub mod probe;
pub mod reasons;
