//! Where the tray answers on the session D-Bus. The tray program serves it; a second launch
//! hands its arguments over through it and the window tells it of changes. Both sides name it
//! from here, so they cannot drift apart. (The window process is found through
//! tauri-plugin-single-instance's own name, `dev.latchkey.app.SingleInstance`.)

pub const BUS_NAME: &str = "dev.latchkey.app.Tray";
pub const OBJECT_PATH: &str = "/dev/latchkey/app/Tray";
/// Its interface; the methods are `Launched(argv: as)` and `Changed()`.
pub const INTERFACE: &str = "dev.latchkey.Tray1";
