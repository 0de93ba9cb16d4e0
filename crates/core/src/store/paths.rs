//! Where Latchkey keeps its own files (lock files today), and where its programs are. Every
//! path is injectable: `LATCHKEY_STATE_DIR` wins, so tests never touch the real home directory.

use std::path::PathBuf;

/// The state directory: `$LATCHKEY_STATE_DIR`, else the platform's per-user state location.
pub fn state_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("LATCHKEY_STATE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let home = || std::env::var_os("HOME").map(PathBuf::from);
    if cfg!(target_os = "macos") {
        if let Some(h) = home() {
            return h.join("Library/Application Support/Latchkey");
        }
    } else if cfg!(windows) {
        if let Some(d) = std::env::var_os("LOCALAPPDATA") {
            return PathBuf::from(d).join("Latchkey");
        }
    } else {
        if let Some(d) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
            return PathBuf::from(d).join("latchkey");
        }
        if let Some(h) = home() {
            return h.join(".local/state/latchkey");
        }
    }
    std::env::temp_dir().join("latchkey")
}

/// Another of Latchkey's programs (`latchkey-app`, `latchkey-tray`): the path in `env_var`,
/// else `name` next to the running program (they are installed side by side), else `name`
/// on the PATH.
pub fn sibling_program(env_var: &str, name: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env_var).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join(&file)))
        .unwrap_or_else(|| PathBuf::from(file))
}
