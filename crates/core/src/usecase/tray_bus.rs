//! Where the tray answers on the session D-Bus, and what it answers. The tray program serves
//! it; a second launch hands its arguments over through it, and the window follows the tray's
//! monitor through it (the config watcher, the probes and the renewal scheduler run in the
//! tray alone while both run). Both sides name everything from here, so they cannot drift
//! apart. (The window process is found through tauri-plugin-single-instance's own name,
//! `dev.latchkey.app.SingleInstance`.)
//!
//! Payloads are JSON strings of the engine's own types, which carry no secret: a
//! `ServerHealth` (server, health, until, the reason in words, the probe's duration) and a
//! `SessionEvent` (server, a time, or the reason in words).

/// The tray's well-known name on the session bus.
pub const BUS_NAME: &str = "dev.latchkey.app.Tray";
/// The object the tray serves its interface at.
pub const OBJECT_PATH: &str = "/dev/latchkey/app/Tray";
/// Its interface: the methods in [`method`], the signals in [`signal`].
pub const INTERFACE: &str = "dev.latchkey.Tray1";

/// The methods of [`INTERFACE`].
pub mod method {
    /// `Launched(argv: as)`: a second launch passes on its arguments (links among them).
    pub const LAUNCHED: &str = "Launched";
    /// `Changed()`: credentials or configs changed (the window signed in, signed out or
    /// handed a token to a tool): the tray's scheduler looks again and every server is
    /// probed once more (answered by [`super::signal::HEALTH`] signals).
    pub const CHANGED: &str = "Changed";
    /// `LastHealth() -> s`: the tray's last health of every server, a JSON array of
    /// `ServerHealth`.
    pub const LAST_HEALTH: &str = "LastHealth";
    /// `ProbeAll() -> s`: probes every server now and answers when all have answered, a JSON
    /// array of `ServerHealth` (each result is also signalled as it comes).
    pub const PROBE_ALL: &str = "ProbeAll";

    /// `SignIn(url: s, scopes: as) -> b`: a tool needs `url` (a canonical server URL) signed
    /// in again. With no scopes (`latchkey bridge` got a 401 it could not renew away) the tray
    /// signs it in in one click when its last plan still holds, else opens the window's
    /// review; with scopes (a 403 `insufficient_scope`: the union of what was granted and
    /// what the server asks) it opens the window's review starting from them, since wider
    /// access is the person's to grant. Answers at once whether it took the request; the
    /// caller then waits for the new credentials.
    pub const SIGN_IN: &str = "SignIn";

    /// Every method, for the tests that hold the served interface to these names.
    pub const ALL: &[&str] = &[LAUNCHED, CHANGED, LAST_HEALTH, PROBE_ALL, SIGN_IN];
}

/// The signals of [`INTERFACE`].
pub mod signal {
    /// `Health(server_health: s)`: one probe answered; a `ServerHealth` as JSON.
    pub const HEALTH: &str = "Health";
    /// `Session(session_event: s)`: a session was renewed, could not be renewed, or will end
    /// soon without renewal; a `SessionEvent` as JSON.
    pub const SESSION: &str = "Session";
    /// `ServersChanged()`: the servers or their stored credentials changed (a config file, a
    /// sign-in, a renewal): whoever shows them reads them again.
    pub const SERVERS_CHANGED: &str = "ServersChanged";

    /// Every signal, for the tests that hold the served interface to these names.
    pub const ALL: &[&str] = &[HEALTH, SESSION, SERVERS_CHANGED];
}
