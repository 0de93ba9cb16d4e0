//! A cross-process lock per server, so only one process refreshes a server's tokens at a time.
//! It is an OS file lock (flock on Unix, LockFileEx on Windows): the OS drops it when its
//! holder exits, crashed or not, so a dead process never blocks anyone.

use crate::error::{Error, Result};
use crate::store::paths;
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub struct ServerLock {
    _file: File,
}

/// The lock file of one server: a hash of its id, so any URL makes a safe file name.
pub fn lock_path(dir: &Path, server_id: &str) -> PathBuf {
    let digest = Sha256::digest(server_id.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{hex}.lock"))
}

fn lock_error(path: &Path, detail: String) -> Error {
    Error::Lock {
        path: path.display().to_string(),
        detail,
    }
}

/// The folder of the servers' locks in the state folder `state_dir`, after checking that the
/// state folder is the person's own.
///
/// Errors: [`Error::UnsafeStateDir`] (see [`paths::ensure_private_dir`]).
pub fn lock_dir(state_dir: &Path) -> Result<PathBuf> {
    paths::ensure_private_dir(state_dir)?;
    Ok(state_dir.join("locks"))
}

/// Waits up to `wait` for the server's lock, in `dir` (created private, or refused as
/// [`Error::UnsafeStateDir`] when it is not the person's own: see
/// [`paths::ensure_private_dir`]). A holder that is alive but stuck makes this
/// fail after `wait` with a clear error instead of hanging.
pub fn acquire(dir: &Path, server_id: &str, wait: Duration) -> Result<ServerLock> {
    paths::ensure_private_dir(dir)?;
    let path = lock_path(dir, server_id);
    let mut opts = OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let file = opts
        .open(&path)
        .map_err(|e| lock_error(&path, e.to_string()))?;
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_millis(2);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(ServerLock { _file: file }),
            Err(TryLockError::WouldBlock) => {
                if Instant::now() >= deadline {
                    return Err(Error::LockTimeout {
                        server: server_id.to_string(),
                        seconds: wait.as_secs(),
                    });
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(TryLockError::Error(e)) => return Err(lock_error(&path, e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    fn temp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("latchkey-lock-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn one_holder_at_a_time_and_released_on_drop() {
        let dir = temp("excl");
        let held = acquire(&dir, "https://a.example/mcp", Duration::from_secs(1)).unwrap();
        let e = acquire(&dir, "https://a.example/mcp", Duration::from_millis(50))
            .err()
            .unwrap();
        assert_eq!(e.code(), "lock_timeout");
        assert!(e.to_string().contains("https://a.example/mcp"), "{e}");
        // Another server is independent.
        acquire(&dir, "https://b.example/mcp", Duration::from_millis(50)).unwrap();
        drop(held);
        acquire(&dir, "https://a.example/mcp", Duration::from_millis(50)).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn threads_are_serialised() {
        let dir = temp("threads");
        let inside = Arc::new(AtomicU32::new(0));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let dir = dir.clone();
                let inside = inside.clone();
                std::thread::spawn(move || {
                    for _ in 0..10 {
                        let _l = acquire(&dir, "s", Duration::from_secs(10)).unwrap();
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                        std::thread::sleep(Duration::from_micros(200));
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn a_killed_holder_does_not_block() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp("killed");
        paths::ensure_private_dir(&dir).unwrap();
        let path = lock_path(&dir, "s");
        // A child process takes the lock (flock(1)) and is killed while holding it; `exec`
        // keeps the lock in the one process that is killed.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "exec 9>>\"$0\" && flock 9 && exec sleep 30"])
            .arg(&path)
            .spawn()
            .expect("sh and flock(1) from util-linux");
        let deadline = Instant::now() + Duration::from_secs(5);
        while acquire(&dir, "s", Duration::from_millis(1)).is_ok() {
            assert!(Instant::now() < deadline, "the child never took the lock");
            std::thread::sleep(Duration::from_millis(10));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        acquire(&dir, "s", Duration::from_secs(2)).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert!(mode == 0o600 || mode == 0o644, "{mode:o}");
        let dmode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(dmode, 0o700);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
