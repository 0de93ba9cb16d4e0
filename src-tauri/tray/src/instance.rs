//! One tray per desktop session: the first owns a D-Bus name; a later launch (e.g. the desktop
//! opening a `latchkey://` link, or the login autostart while the app runs) hands its
//! arguments to the first and exits. The window process also tells the tray here when a
//! sign-in or sign-out changed something.

use latchkey_core::usecase::tray_bus::{BUS_NAME, INTERFACE, OBJECT_PATH};
use zbus::blocking::{connection, Connection};

/// What another process asks of the tray.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A second launch, with its arguments (links among them).
    Launched(Vec<String>),
    /// Credentials or configs changed (a sign-in, a sign-out): look again.
    Changed,
}

struct Tray {
    on_request: Box<dyn Fn(Request) + Send + Sync>,
}

#[zbus::interface(name = "dev.latchkey.Tray1")]
impl Tray {
    fn launched(&self, argv: Vec<String>) {
        (self.on_request)(Request::Launched(argv));
    }

    fn changed(&self) {
        (self.on_request)(Request::Changed);
    }
}

/// Whether this process is the tray.
pub enum Claim {
    /// It is: the connection holds the name for as long as it lives.
    First(Option<Connection>),
    /// Another tray runs and took the arguments.
    Forwarded,
}

/// Takes the tray's name, or hands `argv` to the tray that has it. Without a session bus
/// the tray runs alone (nothing else could find it anyway).
pub fn claim(
    argv: &[String],
    on_request: impl Fn(Request) + Send + Sync + 'static,
) -> anyhow::Result<Claim> {
    let builder = match connection::Builder::session() {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!("no D-Bus session ({e}): a second launch will not find this tray");
            return Ok(Claim::First(None));
        }
    };
    let served = builder
        .name(BUS_NAME)?
        .replace_existing_names(false)
        .allow_name_replacements(false)
        .serve_at(
            OBJECT_PATH,
            Tray {
                on_request: Box::new(on_request),
            },
        )?
        .build();
    match served {
        Ok(c) => Ok(Claim::First(Some(c))),
        Err(zbus::Error::NameTaken) => {
            Connection::session()?
                .call_method(
                    Some(BUS_NAME),
                    OBJECT_PATH,
                    Some(INTERFACE),
                    "Launched",
                    &(argv.to_vec(),),
                )
                .map_err(|e| {
                    anyhow::anyhow!("Latchkey is already running but did not answer ({e})")
                })?;
            Ok(Claim::Forwarded)
        }
        Err(e) => {
            tracing::warn!("could not take the tray's D-Bus name ({e}); running alone");
            Ok(Claim::First(None))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_served_interface_is_the_one_the_window_calls() {
        // The attribute needs a literal: this keeps it equal to the shared name.
        let served = <Tray as zbus::object_server::Interface>::name();
        assert_eq!(served.as_str(), INTERFACE);
    }
}
