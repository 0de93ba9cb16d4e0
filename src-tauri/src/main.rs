// No console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use latchkey_app::launch;

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let fallback = (!launch::wants_window(&args)).then(|| launch::become_tray(&args));
    // Before GTK starts, while this is the only thread.
    latchkey_app::webkit::prefer_software_rendering();
    // Logs go to stderr; `LATCHKEY_LOG` filters them (e.g. `debug`), as for the CLI.
    latchkey_core::logging::init();
    if let Some(why) = fallback {
        tracing::error!("{why}");
    }
    if let Err(err) = latchkey_app::run() {
        eprintln!("latchkey: {err}");
        std::process::exit(1);
    }
}
