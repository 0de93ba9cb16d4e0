//! What Latchkey keeps: one credential bundle per server in the OS keychain (the vault; cut
//! into parts where the keychain's items are too small, see `parts`),
//! the kernel keyring's copy of the access token on Linux, cross-process locks, the state
//! folder, the last flow of each server (for "why"), notes per authorization server, atomic
//! private file writes, and (Linux) the one Secret Service session a process keeps.

pub mod atomic_file;
pub mod flow_record;
pub mod issuer_notes;
pub mod kernel_copy;
pub mod keychain_items;
pub mod link_sign_ins;
pub mod lock;
pub mod parts;
pub mod paths;
#[cfg(target_os = "linux")]
pub mod secret_service;
pub mod vault;
