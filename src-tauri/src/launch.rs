//! `latchkey-app` is the one program people (and the desktop, autostart, links) start. Without
//! `--window` it becomes the tray (`latchkey-tray`), in place (exec) so that the WebKit this
//! program links is never initialised and its memory is given back at once; the tray starts
//! `latchkey-app --window` when the window is wanted. The window follows the tray over its
//! D-Bus name ([`crate::tray_link`]).

use std::ffi::OsString;
use std::path::PathBuf;

/// The argument that makes this program the window.
pub const WINDOW_ARG: &str = "--window";

/// Whether these arguments (without the program's name) ask for the window.
pub fn wants_window(args: &[OsString]) -> bool {
    args.iter().any(|a| a == WINDOW_ARG)
}

/// The tray program: `LATCHKEY_TRAY_BIN`, else `latchkey-tray` next to this program.
pub fn tray_bin() -> PathBuf {
    latchkey_core::store::paths::sibling_program("LATCHKEY_TRAY_BIN", "latchkey-tray")
}

/// Becomes the tray with `args`. Returns only when that failed, with what to tell the person.
pub fn become_tray(args: &[OsString]) -> String {
    let tray = tray_bin();
    let mut cmd = std::process::Command::new(&tray);
    cmd.args(args);
    if let Ok(me) = std::env::current_exe() {
        cmd.env("LATCHKEY_APP_BIN", me);
    }
    if let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        cmd.env("LATCHKEY_LAUNCHED_AT_NS", now.as_nanos().to_string());
    }
    #[cfg(unix)]
    let err = {
        use std::os::unix::process::CommandExt;
        cmd.exec()
    };
    #[cfg(not(unix))]
    let err = match cmd.spawn() {
        Ok(_) => std::process::exit(0),
        Err(e) => e,
    };
    format!(
        "could not start the tray ({}: {err}); Latchkey opens its window instead. Reinstalling Latchkey puts the tray program back.",
        tray.display()
    )
}

/// Tells a tray this window does not follow (none answered when it started) that credentials
/// changed, so that its icon and menu follow at once. Best effort: without a tray, or without
/// D-Bus, there is no one to tell. A followed tray is told through its link.
pub fn tell_tray_changed() {
    std::thread::spawn(|| {
        let told = zbus::blocking::Connection::session().and_then(|c| {
            use latchkey_core::usecase::tray_bus::{method, BUS_NAME, INTERFACE, OBJECT_PATH};
            c.call_method(
                Some(BUS_NAME),
                OBJECT_PATH,
                Some(INTERFACE),
                method::CHANGED,
                &(),
            )
        });
        if let Err(e) = told {
            tracing::debug!("the tray was not told of the change: {e}");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_window_makes_the_window() {
        let a = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert!(wants_window(&a(&["--window"])));
        assert!(wants_window(&a(&[
            "--window",
            "latchkey://login?url=https://a/mcp"
        ])));
        assert!(!wants_window(&a(&[])));
        assert!(!wants_window(&a(&["latchkey://why?url=https://a/mcp"])));
        assert!(!wants_window(&a(&["--windows"])));
    }

    #[test]
    fn a_missing_tray_is_said_plainly_and_the_window_opens_instead() {
        // The only test that sets it: a tray that is not there.
        std::env::set_var("LATCHKEY_TRAY_BIN", "/nonexistent/latchkey-tray");
        let said = become_tray(&[]);
        assert!(
            said.starts_with("could not start the tray (/nonexistent/latchkey-tray: "),
            "{said}"
        );
        assert!(said.contains("opens its window instead"), "{said}");
    }
}
