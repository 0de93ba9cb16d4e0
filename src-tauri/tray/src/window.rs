//! The window lives in a process of its own (`latchkey-app --window [link]`), so the tray
//! never loads WebKit: closing the window ends that process and gives all of its memory back.
//! A window asked for while one is open reaches it through the window's single-instance
//! plugin, which focuses it and opens the link.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::Mutex;

use latchkey_core::usecase::LinkAction;

/// The argument that makes `latchkey-app` the window rather than the tray.
pub const WINDOW_ARG: &str = "--window";

/// The window program: `LATCHKEY_APP_BIN` (set by `latchkey-app` when it becomes the
/// tray), else `latchkey-app` next to this program.
pub fn app_bin() -> PathBuf {
    latchkey_core::store::paths::sibling_program("LATCHKEY_APP_BIN", "latchkey-app")
}

/// The window processes this tray started and has not seen end yet.
#[derive(Default)]
pub struct Windows {
    children: Mutex<Vec<Child>>,
}

impl Windows {
    /// Opens the window, on `action` if given (as its link; a sign-in Latchkey itself asks
    /// for is marked so, a link-started one is not: [`LinkAction::args`]).
    pub fn open(&self, action: Option<&LinkAction>) {
        let bin = app_bin();
        let mut cmd = Command::new(&bin);
        cmd.arg(WINDOW_ARG);
        if let Some(action) = action {
            cmd.args(action.args());
        }
        match cmd.spawn() {
            Ok(child) => self.lock().push(child),
            Err(e) => tracing::error!(
                "could not open the window: {} did not start ({e}); reinstall Latchkey",
                bin.display()
            ),
        }
    }

    /// Forgets the window processes that ended; true when one did (something may have
    /// changed in it: a sign-in, a sign-out).
    pub fn reap(&self) -> bool {
        let mut ended = false;
        self.lock().retain_mut(|c| match c.try_wait() {
            Ok(None) => true,
            Ok(Some(_)) | Err(_) => {
                ended = true;
                false
            }
        });
        ended
    }

    /// Whether a window process runs.
    pub fn any(&self) -> bool {
        self.reap();
        !self.lock().is_empty()
    }

    /// Ends every window process (on Quit).
    pub fn close_all(&self) {
        for mut c in self.lock().drain(..) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Child>> {
        self.children.lock().unwrap_or_else(|p| p.into_inner())
    }
}
