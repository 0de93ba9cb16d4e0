//! What Latchkey keeps: one credential bundle per server in the OS keychain (the vault),
//! the kernel keyring's copy of the access token on Linux, cross-process locks, the state
//! folder, the last flow of each server (for "why"), the person's PKCE choices per sign-in
//! server, and atomic private file writes.

pub mod atomic_file;
pub mod flow_record;
pub mod issuer_notes;
pub mod kernel_copy;
pub mod lock;
pub mod paths;
pub mod vault;
