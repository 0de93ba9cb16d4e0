//! latchkey-core: every rule of Latchkey. No UI, no Tauri: fully testable headless.

pub mod browser;
pub mod clients;
pub mod dashboard;
pub mod deeplink;
pub mod discovery;
pub mod doctor;
pub mod error;
pub mod handoff;
pub mod health;
pub mod hot_cache;
pub mod http;
pub mod inventory;
pub mod last_flow;
pub mod lock;
pub mod login;
pub mod loopback;
pub mod mcp;
pub mod metadata;
pub mod paths;
pub mod plan;
pub mod reasons;
pub mod reauth;
pub mod refresh;
pub mod register;
pub mod revoke;
pub mod scheduler;
pub mod secret;
pub mod stepup;
pub mod tokens;
pub mod trace;
pub mod urls;
pub mod vault;
pub mod watch;
pub mod www_authenticate;

pub use error::{Error, Result};
pub use secret::Secret;
