//! latchkey-core: every rule of Latchkey. No UI, no Tauri: fully testable headless.
//!
//! The folders are layers; each uses only the ones above it in this list (see
//! ARCHITECTURE.md, "Layers"):
//! - [`error`], [`secret`], [`clock`], [`terminal_text`], [`redact`], [`qr`]: the vocabulary
//!   every layer shares.
//! - [`protocol`]: HTTP, `WWW-Authenticate`, protected resource and authorization server
//!   metadata, discovery, the MCP session.
//! - [`oauth`]: the sign-in plan, client registration, the loopback redirect, PKCE and
//!   tokens, revocation.
//! - [`store`]: the keychain vault, the kernel copy, locks, paths, flow records, atomic files.
//! - [`tools`]: the AI tools, one module each: where their configs are, what they say, and
//!   what Latchkey writes for them.
//! - [`health`]: probes, reasons, the dashboard.
//! - [`usecase`]: what the command line, the window and the tray call; nothing below it
//!   is called by them for behaviour.

pub mod clock;
pub mod error;
pub mod health;
pub mod logging;
pub mod oauth;
pub mod protocol;
pub mod qr;
pub mod redact;
pub mod secret;
pub mod store;
pub mod terminal_text;
pub mod tools;
pub mod usecase;

pub use error::{Error, NameCandidate, Result};
pub use secret::Secret;
