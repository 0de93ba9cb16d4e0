//! The window's line to the tray: while the tray runs, it is the one monitor of the session
//! (the config watcher, the probes and the renewal scheduler), and the window asks it and
//! listens to it over the session D-Bus instead of running its own. The names are core's
//! (`tray_bus`); payloads are JSON of the engine's `ServerHealth` and `SessionEvent`, kept
//! as JSON here and handed to the UI as they are.

use latchkey_core::usecase::tray_bus::{method, signal, BUS_NAME, INTERFACE, OBJECT_PATH};
use serde_json::Value;
use std::sync::{mpsc, Arc};
use std::time::Duration;
use zbus::blocking::{fdo::DBusProxy, Connection, MessageIterator};

/// Something the tray said.
#[derive(Debug, Clone, PartialEq)]
pub enum Heard {
    /// One probe answered: a `ServerHealth` as JSON.
    Health(Value),
    /// A session was renewed, could not be, or will end soon: a `SessionEvent` as JSON.
    Session(Value),
    /// The servers or their stored credentials changed.
    ServersChanged,
    /// The tray left the bus (it quit or failed): nobody monitors for the window any more.
    Gone,
}

/// A tray that answered, and the connection to ask it on.
pub struct TrayLink {
    conn: Connection,
}

/// Why the tray could not be asked, in words for the log.
fn failed(doing: &str, e: impl std::fmt::Display) -> String {
    format!("the tray did not answer when {doing}: {e}")
}

impl TrayLink {
    /// The session bus, for [`TrayLink::follow`]. Calls on it give up after `timeout`.
    pub fn session_bus(timeout: Duration) -> zbus::Result<Connection> {
        zbus::blocking::connection::Builder::session()?
            .method_timeout(timeout)
            .build()
    }

    /// Follows the tray on `conn` when one answers within `wait`: its signals go to
    /// `on_heard` (on a thread of their own, from before its last health was asked, so nothing
    /// is missed), and the answer is the link with the tray's last health of every server.
    /// None when no tray owns its name or it did not answer in time.
    pub fn follow(
        conn: Connection,
        wait: Duration,
        on_heard: impl Fn(Heard) + Send + Sync + 'static,
    ) -> Option<(TrayLink, Vec<Value>)> {
        let dbus = DBusProxy::new(&conn).ok()?;
        let name = zbus::names::BusName::try_from(BUS_NAME).ok()?;
        if !dbus.name_has_owner(name).ok()? {
            return None;
        }
        let rule = zbus::MatchRule::builder()
            .msg_type(zbus::message::Type::Signal)
            .sender(BUS_NAME)
            .ok()?
            .interface(INTERFACE)
            .ok()?
            .path(OBJECT_PATH)
            .ok()?
            .build();
        let signals = MessageIterator::for_match_rule(rule, &conn, Some(1024)).ok()?;
        let owners = dbus
            .receive_name_owner_changed_with_args(&[(0, BUS_NAME)])
            .ok()?;

        // Asked on a thread: a tray that hangs must not hold the window.
        let (tx, rx) = mpsc::channel();
        let link = TrayLink { conn };
        let asking = link.conn.clone();
        std::thread::spawn(move || {
            let _ = tx.send(call_json(&asking, method::LAST_HEALTH));
        });
        let last = match rx.recv_timeout(wait) {
            Ok(Ok(last)) => last,
            Ok(Err(e)) => {
                tracing::info!("{e}");
                return None;
            }
            Err(_) => {
                tracing::info!("the tray did not give its last health within {wait:?}");
                return None;
            }
        };

        let on_heard: Arc<dyn Fn(Heard) + Send + Sync> = Arc::new(on_heard);
        let said = on_heard.clone();
        std::thread::spawn(move || {
            for msg in signals.flatten() {
                if let Some(h) = heard(&msg) {
                    said(h);
                }
            }
        });
        std::thread::spawn(move || {
            for change in owners {
                let gone = change.args().is_ok_and(|a| a.new_owner().is_none());
                if gone {
                    on_heard(Heard::Gone);
                    return;
                }
            }
        });
        Some((link, last))
    }

    /// Asks the tray to probe every server now; its results once all have answered (each is
    /// also signalled as it comes). Blocks: call it off the async runtime.
    pub fn probe_all(&self) -> Result<Vec<Value>, String> {
        call_json(&self.conn, method::PROBE_ALL)
    }

    /// Tells the tray that this window changed credentials (a sign-in, a sign-out, a
    /// hand-off): its scheduler looks again and it probes every server, which the window
    /// hears. Best effort, in the background.
    pub fn changed(&self) {
        let conn = self.conn.clone();
        std::thread::spawn(move || {
            let told = conn.call_method(
                Some(BUS_NAME),
                OBJECT_PATH,
                Some(INTERFACE),
                method::CHANGED,
                &(),
            );
            if let Err(e) = told {
                tracing::warn!("{}", failed("told of a change", e));
            }
        });
    }
}

/// Calls `name` (no arguments) and reads its answer, a JSON array.
fn call_json(conn: &Connection, name: &str) -> Result<Vec<Value>, String> {
    let doing = format!("asked {name}");
    let reply = conn
        .call_method(Some(BUS_NAME), OBJECT_PATH, Some(INTERFACE), name, &())
        .map_err(|e| failed(&doing, e))?;
    let text: String = reply.body().deserialize().map_err(|e| failed(&doing, e))?;
    serde_json::from_str(&text).map_err(|e| failed(&doing, e))
}

/// A signal of the tray, read; None for one this window does not know.
fn heard(msg: &zbus::Message) -> Option<Heard> {
    let header = msg.header();
    let member = header.member()?.as_str().to_string();
    let payload = || -> Option<Value> {
        let text: String = msg.body().deserialize().ok()?;
        serde_json::from_str(&text).ok()
    };
    match member.as_str() {
        signal::HEALTH => payload().map(Heard::Health),
        signal::SESSION => payload().map(Heard::Session),
        signal::SERVERS_CHANGED => Some(Heard::ServersChanged),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Instant;

    /// A private bus daemon for one test (the e2e support's), stopped when dropped.
    struct Bus(latchkey_e2e::PrivateBus);

    impl Bus {
        fn start(tag: &str) -> Bus {
            Bus(latchkey_e2e::PrivateBus::start(tag))
        }

        fn address(&self) -> &str {
            &self.0.address
        }
        fn connect(&self) -> Connection {
            zbus::blocking::connection::Builder::address(self.address())
                .unwrap()
                .method_timeout(Duration::from_secs(10))
                .build()
                .unwrap()
        }
    }

    /// A stand-in for the tray (the real one is served by latchkey-tray, whose own tests hold
    /// it to the same names): canned answers, and what it was asked.
    struct FakeTray {
        asked: Arc<Mutex<Vec<String>>>,
    }

    #[zbus::interface(name = "dev.latchkey.Tray1")]
    impl FakeTray {
        fn last_health(&self) -> String {
            r#"[{"server":"https://a.example/mcp","health":"working","millis":3}]"#.into()
        }
        fn probe_all(&self) -> String {
            self.asked.lock().unwrap().push("ProbeAll".into());
            r#"[{"server":"https://a.example/mcp","health":"refreshable","millis":5},
                {"server":"https://b.example/mcp","health":"never_signed_in","millis":7}]"#
                .into()
        }
        fn changed(&self) {
            self.asked.lock().unwrap().push("Changed".into());
        }
    }

    fn serve_fake(bus: &Bus) -> (Connection, Arc<Mutex<Vec<String>>>) {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let conn = zbus::blocking::connection::Builder::address(bus.address())
            .unwrap()
            .name(BUS_NAME)
            .unwrap()
            .serve_at(
                OBJECT_PATH,
                FakeTray {
                    asked: asked.clone(),
                },
            )
            .unwrap()
            .build()
            .unwrap();
        (conn, asked)
    }

    fn wait_until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(v) = f() {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn without_a_tray_on_the_bus_the_window_is_told_at_once() {
        let bus = Bus::start("none");
        let started = Instant::now();
        let found = TrayLink::follow(bus.connect(), Duration::from_secs(5), |_| {});
        assert!(found.is_none());
        assert!(started.elapsed() < Duration::from_secs(2), "no waiting");
    }

    #[test]
    fn the_window_follows_the_tray_s_health_signals_probes_and_changes() {
        let bus = Bus::start("follow");
        let (tray, asked) = serve_fake(&bus);
        let heard = Arc::new(Mutex::new(Vec::new()));
        let into = heard.clone();
        let (link, last) = TrayLink::follow(bus.connect(), Duration::from_secs(5), move |h| {
            into.lock().unwrap().push(h)
        })
        .expect("the tray answers");
        assert_eq!(last.len(), 1);
        assert_eq!(last[0]["health"], "working");

        // Signals as the tray sends them.
        let emit = |name: &str, json: Option<&str>| match json {
            Some(j) => tray.emit_signal(None::<&str>, OBJECT_PATH, INTERFACE, name, &(j,)),
            None => tray.emit_signal(None::<&str>, OBJECT_PATH, INTERFACE, name, &()),
        };
        emit(
            signal::HEALTH,
            Some(r#"{"server":"https://a.example/mcp","health":"refreshable","millis":4}"#),
        )
        .unwrap();
        emit(
            signal::SESSION,
            Some(r#"{"event":"refreshed","server":"https://a.example/mcp","until":1700000300}"#),
        )
        .unwrap();
        emit(signal::SERVERS_CHANGED, None).unwrap();
        // Another interface's signal of the same name is not the tray's.
        tray.emit_signal(
            None::<&str>,
            OBJECT_PATH,
            "dev.latchkey.Other1",
            signal::SERVERS_CHANGED,
            &(),
        )
        .unwrap();
        let got = wait_until("the three signals", || {
            let h = heard.lock().unwrap().clone();
            (h.len() >= 3).then_some(h)
        });
        assert_eq!(
            got,
            vec![
                Heard::Health(serde_json::json!({
                    "server": "https://a.example/mcp", "health": "refreshable", "millis": 4
                })),
                Heard::Session(serde_json::json!({
                    "event": "refreshed", "server": "https://a.example/mcp", "until": 1_700_000_300u64
                })),
                Heard::ServersChanged,
            ]
        );

        let probed = link.probe_all().expect("the tray probes");
        assert_eq!(probed.len(), 2);
        assert_eq!(probed[1]["server"], "https://b.example/mcp");
        link.changed();
        wait_until("the tray to hear Changed", || {
            (asked.lock().unwrap().len() == 2).then_some(())
        });
        assert_eq!(*asked.lock().unwrap(), ["ProbeAll", "Changed"]);

        // The tray quits: the window hears that nobody monitors for it any more.
        drop(tray);
        wait_until("the tray to be gone", || {
            heard.lock().unwrap().contains(&Heard::Gone).then_some(())
        });
        assert!(link.probe_all().is_err(), "nobody answers any more");
        assert_eq!(heard.lock().unwrap().len(), 4, "nothing else was heard");
    }
}
