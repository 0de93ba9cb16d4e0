//! The tray's one-click sign-in, asked over the session D-Bus (`tray_bus::method::SIGN_IN`)
//! by `latchkey bridge`. Where no tray answers (none runs, no session bus, another OS), the
//! bridge signs in through the browser itself.

use latchkey_core::usecase::tray_bus::{method, BUS_NAME, INTERFACE, OBJECT_PATH};
use std::time::Duration;

/// Asks the tray to sign `url` in again, with `scopes` (empty: the last sign-in's); true when
/// it took the request.
#[cfg(target_os = "linux")]
pub fn sign_in(url: &str, scopes: &[String]) -> bool {
    let asked = dbus::blocking::Connection::new_session().and_then(|c| {
        let proxy = c.with_proxy(BUS_NAME, OBJECT_PATH, Duration::from_secs(2));
        proxy
            .method_call::<(bool,), _, _, _>(INTERFACE, method::SIGN_IN, (url, scopes.to_vec()))
            .map(|(taken,)| taken)
    });
    match asked {
        Ok(taken) => taken,
        Err(e) => {
            tracing::info!(
                "no tray took the sign-in ({}): the browser opens",
                e.name().unwrap_or("no name")
            );
            false
        }
    }
}

/// Asks the tray to sign `url` in again; no tray answers on this platform.
#[cfg(not(target_os = "linux"))]
pub fn sign_in(_url: &str, _scopes: &[String]) -> bool {
    let _ = (
        BUS_NAME,
        INTERFACE,
        OBJECT_PATH,
        method::SIGN_IN,
        Duration::ZERO,
    );
    false
}
