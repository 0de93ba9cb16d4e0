//! What Latchkey keeps: one credential bundle per server in the OS keychain (the vault; cut
//! into parts where the keychain's items are too small, see `parts`),
//! the kernel keyring's copy of the access token on Linux, cross-process locks, the state
//! folder, the last flow of each server (for "why"), the person's PKCE choices per sign-in
//! server, and atomic private file writes.

pub mod atomic_file;
pub mod flow_record;
pub mod issuer_notes;
pub mod kernel_copy;
pub mod keychain_items;
pub mod lock;
pub mod parts;
pub mod paths;
pub mod vault;
