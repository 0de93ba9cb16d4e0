//! latchkey-core: every rule of Latchkey. No UI, no Tauri: fully testable headless.

pub mod discovery;
pub mod error;
pub mod http;
pub mod mcp;
pub mod metadata;
pub mod plan;
pub mod secret;
pub mod urls;
pub mod www_authenticate;

pub use error::{Error, Result};
pub use secret::Secret;
pub mod browser;
pub mod handoff;
pub mod lock;
pub mod login;
pub mod loopback;
pub mod paths;
pub mod refresh;
pub mod register;
pub mod revoke;
pub mod stepup;
pub mod tokens;
pub mod trace;
pub mod vault;
pub mod doctor;
pub mod reasons;
pub mod health;
