//! Writing another tool's file: refuse if it changed since it was read, keep a backup of the
//! old content (readable by the owner only: it may hold tokens), write a temporary file with
//! the same permissions, then rename it into place.
//!
//! The temporary file has an unpredictable name and is created new, never opened through a
//! symbolic link (`O_EXCL | O_NOFOLLOW`): someone who can write to the folder cannot make
//! Latchkey write through a link they planted there.

use crate::error::{Error, Result};
use crate::store::paths;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file as it was read, so a later write can tell whether someone else changed it.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub path: PathBuf,
    /// None when the file did not exist.
    pub contents: Option<Vec<u8>>,
    #[cfg(unix)]
    mode: Option<u32>,
}

fn write_error(path: &Path, e: std::io::Error) -> Error {
    let detail = match e.raw_os_error() {
        Some(28) => "the disk is full".to_string(),
        Some(13) | Some(1) => "permission denied".to_string(),
        Some(30) => "the file system is read-only".to_string(),
        _ => e.to_string(),
    };
    Error::WriteFailed {
        path: path.display().to_string(),
        detail,
    }
}

impl Snapshot {
    pub fn read(path: &Path) -> Result<Snapshot> {
        let contents = match fs::read(path) {
            Ok(c) => Some(c),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(write_error(path, e)),
        };
        #[cfg(unix)]
        let mode = {
            use std::os::unix::fs::PermissionsExt;
            fs::metadata(path)
                .ok()
                .map(|m| m.permissions().mode() & 0o7777)
        };
        Ok(Snapshot {
            path: path.to_path_buf(),
            contents,
            #[cfg(unix)]
            mode,
        })
    }

    pub fn text(&self) -> Option<String> {
        self.contents
            .as_ref()
            .map(|c| String::from_utf8_lossy(c).into_owned())
    }

    /// Where the previous content is kept.
    pub fn backup_path(&self) -> PathBuf {
        let mut name = self
            .path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(".latchkey-backup");
        self.path.with_file_name(name)
    }

    /// Replaces the file with `new`. Returns the backup's path when there was a file before.
    pub fn replace(&self, new: &[u8]) -> Result<Option<PathBuf>> {
        let now = match fs::read(&self.path) {
            Ok(c) => Some(c),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(write_error(&self.path, e)),
        };
        if now != self.contents {
            return Err(Error::FileChanged {
                path: self.path.display().to_string(),
            });
        }
        #[cfg(unix)]
        let mode = self.mode.unwrap_or(0o600);
        #[cfg(not(unix))]
        let mode = 0o600;
        let backup = match &self.contents {
            Some(old) => {
                let b = self.backup_path();
                // Private whatever the original's mode: the old content may hold a token.
                write_then_rename(&b, old, 0o600)?;
                Some(b)
            }
            None => None,
        };
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir).map_err(|e| write_error(dir, e))?;
        }
        write_then_rename(&self.path, new, mode)?;
        Ok(backup)
    }
}

/// Latchkey's own files: written atomically, readable by the owner only, no backup.
///
/// Errors: [`Error::UnsafeStateDir`] when the folder is not the person's own (see
/// [`paths::ensure_private_dir`]); [`Error::WriteFailed`].
pub fn write_private(path: &Path, data: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        paths::ensure_private_dir(dir)?;
    }
    write_then_rename(path, data, 0o600)
}

fn write_then_rename(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (tmp, mut f) = create_temporary(dir, &name, mode).map_err(|e| write_error(path, e))?;
    let result = (|| {
        #[cfg(unix)]
        {
            // The umask may have narrowed the mode; set it exactly.
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(fs::Permissions::from_mode(mode))?;
        }
        f.write_all(data)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    result.map_err(|e: std::io::Error| {
        let _ = fs::remove_file(&tmp);
        write_error(path, e)
    })
}

/// A new file in `dir` named after `name` with a random part, created with `mode` (unix);
/// it must not exist, and a symbolic link there is not followed. A few names are tried.
fn create_temporary(dir: &Path, name: &str, mode: u32) -> std::io::Result<(PathBuf, File)> {
    let mut last = None;
    for _ in 0..8 {
        let tmp = dir.join(format!(
            ".{name}.latchkey-tmp-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(mode).custom_flags(libc::O_NOFOLLOW);
        }
        let _ = mode;
        match opts.open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no temporary name was free")))
}

/// A file Latchkey wrote into another tool's folder: where, and the backup of what was there
/// before (none when the file is new), so the person can undo it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    pub backup: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("latchkey-atomic-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[cfg(unix)]
    #[test]
    fn replaces_keeps_mode_and_backs_up() {
        use std::os::unix::fs::PermissionsExt;
        let d = dir("replace");
        let p = d.join("config.json");
        fs::write(&p, b"old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        let snap = Snapshot::read(&p).unwrap();
        let backup = snap.replace(b"new").unwrap().unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        assert_eq!(fs::read(&backup).unwrap(), b"old");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(
            fs::metadata(&backup).unwrap().permissions().mode() & 0o777,
            0o600,
            "the backup is private whatever the original's mode"
        );
        let leftovers: Vec<_> = fs::read_dir(&d)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("tmp"))
            .collect();
        assert!(leftovers.is_empty());
        let _ = fs::remove_dir_all(&d);
    }

    /// Before: the temporary file was `.NAME.latchkey-tmp-PID`, opened with create and
    /// truncate, so a link planted at that name made Latchkey write through it.
    #[cfg(unix)]
    #[test]
    fn a_link_planted_at_the_old_temporary_name_is_not_followed() {
        let d = dir("symlink");
        let p = d.join("config.json");
        fs::write(&p, b"old").unwrap();
        let elsewhere = d.join("elsewhere.txt");
        fs::write(&elsewhere, b"untouched").unwrap();
        let planted = d.join(format!(".config.json.latchkey-tmp-{}", std::process::id()));
        std::os::unix::fs::symlink(&elsewhere, &planted).unwrap();
        let snap = Snapshot::read(&p).unwrap();
        snap.replace(b"new").unwrap();
        assert_eq!(fs::read(&elsewhere).unwrap(), b"untouched");
        assert_eq!(fs::read(&p).unwrap(), b"new");
        assert!(!fs::symlink_metadata(&p).unwrap().file_type().is_symlink());
        let _ = fs::remove_dir_all(&d);
    }

    #[cfg(unix)]
    #[test]
    fn a_temporary_file_is_never_opened_through_a_link() {
        let d = dir("nofollow");
        let target = d.join("target");
        fs::write(&target, b"keep").unwrap();
        // Whatever name comes out, opening through a link fails rather than following it.
        let link = d.join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let mut opts = OpenOptions::new();
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.write(true)
                .create_new(true)
                .custom_flags(libc::O_NOFOLLOW);
        }
        assert!(opts.open(&link).is_err());
        let (tmp, _) = create_temporary(&d, "x", 0o600).unwrap();
        let (tmp2, _) = create_temporary(&d, "x", 0o600).unwrap();
        assert_ne!(tmp, tmp2, "names are not predictable");
        assert_eq!(fs::read(&target).unwrap(), b"keep");
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn refuses_a_file_changed_since_it_was_read() {
        let d = dir("changed");
        let p = d.join("c.json");
        fs::write(&p, b"one").unwrap();
        let snap = Snapshot::read(&p).unwrap();
        fs::write(&p, b"two").unwrap();
        let e = snap.replace(b"three").unwrap_err();
        assert_eq!(e.code(), "file_changed");
        assert_eq!(fs::read(&p).unwrap(), b"two", "nothing lost");
        let _ = fs::remove_dir_all(&d);
    }

    #[cfg(unix)]
    #[test]
    fn a_new_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let d = dir("new");
        let p = d.join("sub/.credentials.json");
        let snap = Snapshot::read(&p).unwrap();
        assert!(snap.contents.is_none());
        assert!(snap.replace(b"{}").unwrap().is_none());
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let _ = fs::remove_dir_all(&d);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_failing_write_names_the_file() {
        // /proc refuses new files even for root.
        let snap = Snapshot::read(Path::new("/proc/latchkey-test.json")).unwrap();
        let e = snap.replace(b"x").unwrap_err();
        assert_eq!(e.code(), "write_failed");
        assert!(e.to_string().contains("/proc/latchkey-test.json"), "{e}");
    }
}
