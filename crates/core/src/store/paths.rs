//! Where Latchkey keeps its own files (lock files today), and where its programs are. Every
//! path is injectable: `LATCHKEY_STATE_DIR` wins, so tests never touch the real home directory.
//!
//! The state directory is the person's own: created readable by them only (0700), refused
//! when it exists but belongs to another user or is a link, and made private again when it is
//! theirs but others may write to it (as earlier versions left it under a umask of 002, the
//! default of many Linux distributions) ([`ensure_private_dir`]): locks, flow records and
//! notes there steer sign-ins.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The state directory: `$LATCHKEY_STATE_DIR`, else the platform's per-user state location,
/// else (no home directory known) a folder of this user's in the temporary directory
/// (`latchkey-UID` on unix), checked like any other by [`ensure_private_dir`].
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
    fallback_dir()
}

/// This user's folder in the temporary directory, for when no home directory is known.
fn fallback_dir() -> PathBuf {
    #[cfg(unix)]
    // SAFETY: geteuid has no preconditions and cannot fail.
    let user = format!("latchkey-{}", unsafe { libc::geteuid() });
    #[cfg(not(unix))]
    let user = "latchkey".to_string();
    std::env::temp_dir().join(user)
}

/// Creates `dir` (and its missing parents) readable by this user only (0700 on unix), or
/// checks the one that exists: it must be a folder, not a link, and owned by this user; one
/// the group or others may write to is made private (0700).
///
/// Errors: [`Error::UnsafeStateDir`] naming the folder and what is wrong with it.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    let refuse = |detail: String| Error::UnsafeStateDir {
        path: dir.display().to_string(),
        detail,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| refuse(format!("it could not be created ({e})")))?;
        let meta = std::fs::symlink_metadata(dir)
            .map_err(|e| refuse(format!("it could not be read ({e})")))?;
        if !meta.file_type().is_dir() {
            return Err(refuse("it is not a folder (it may be a link)".into()));
        }
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(refuse(format!(
                "it belongs to another user (uid {}, you are {me})",
                meta.uid()
            )));
        }
        if meta.mode() & 0o022 != 0 {
            // Ours, so ours to fix: made private rather than refused.
            use std::os::unix::fs::PermissionsExt;
            tracing::warn!(
                "{} was writable by others (mode {:o}); made private (700)",
                dir.display(),
                meta.mode() & 0o777
            );
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| {
                refuse(format!(
                    "others may write to it (mode {:o}) and it could not be made private ({e})",
                    meta.mode() & 0o777
                ))
            })?;
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir).map_err(|e| refuse(format!("it could not be created ({e})")))?;
    Ok(())
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

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn temp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("latchkey-paths-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_new_state_dir_is_private_and_one_others_may_write_is_made_private() {
        let d = temp("private");
        ensure_private_dir(&d.join("state")).unwrap();
        let mode = std::fs::metadata(d.join("state"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        let shared = d.join("shared");
        std::fs::create_dir_all(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o775)).unwrap();
        ensure_private_dir(&shared).unwrap();
        let mode = std::fs::metadata(&shared).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "an old folder left 775 by umask 002");
        let link = d.join("link");
        std::os::unix::fs::symlink(d.join("state"), &link).unwrap();
        assert!(ensure_private_dir(&link).is_err(), "a link is not followed");
        let _ = std::fs::remove_dir_all(&d);
    }

    /// A folder another user made first (as one could in a shared temporary folder): as root
    /// (CI), one given to `nobody`; else `/`, which belongs to root.
    #[test]
    fn a_folder_of_another_user_is_refused() {
        // SAFETY: geteuid has no preconditions.
        let dir = if unsafe { libc::geteuid() } == 0 {
            let d = temp("other");
            std::fs::create_dir_all(&d).unwrap();
            let c = std::ffi::CString::new(d.as_os_str().as_encoded_bytes()).unwrap();
            // SAFETY: a valid NUL-terminated path; 65534 is `nobody`.
            assert_eq!(unsafe { libc::chown(c.as_ptr(), 65534, 65534) }, 0);
            d
        } else {
            PathBuf::from("/")
        };
        let e = ensure_private_dir(&dir).unwrap_err();
        assert!(e.to_string().contains("another user"), "{e}");
        if dir != Path::new("/") {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }

    #[test]
    fn the_fallback_is_per_user() {
        let uid = unsafe { libc::geteuid() };
        assert_eq!(
            fallback_dir(),
            std::env::temp_dir().join(format!("latchkey-{uid}"))
        );
    }
}
