//! How each server is doing: the probe (an MCP `initialize` with the stored token), the
//! catalogue of reasons in plain words with their fixes, and the dashboard's rows.

pub mod dashboard;
pub mod probe;
pub mod reasons;
