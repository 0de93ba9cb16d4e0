// No console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    latchkey_app::live::mark_start();
    if let Err(err) = latchkey_app::run() {
        eprintln!("latchkey: {err}");
        std::process::exit(1);
    }
}
