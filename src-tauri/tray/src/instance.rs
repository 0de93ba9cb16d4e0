//! One tray per desktop session: the first owns a D-Bus name; a later launch (e.g. the desktop
//! opening a `latchkey://` link, or the login autostart while the app runs) hands its
//! arguments to the first and exits. The window follows the tray's monitor here: it asks for
//! the last health and for probes, hears each probe result, session event and change as a
//! signal, and tells the tray when a sign-in or sign-out changed something. The names are
//! core's (`tray_bus`); the payloads are JSON of the engine's types, which carry no secret.

use latchkey_core::usecase::tray_bus::{method, signal, BUS_NAME, INTERFACE, OBJECT_PATH};
use latchkey_core::usecase::{Event, ServerHealth, SessionEvent};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use zbus::blocking::{connection, Connection};

/// A probe round in flight, as the bus waits for it.
pub type Round = Pin<Box<dyn Future<Output = Vec<ServerHealth>> + Send>>;

/// What the tray answers to other processes. Called on D-Bus's own threads.
pub trait Answers: Send + Sync + 'static {
    /// A second launch, with its arguments (links among them).
    fn launched(&self, argv: Vec<String>);
    /// Credentials or configs changed (a sign-in, a sign-out, a hand-off): look again.
    fn changed(&self);
    /// The last health of every server.
    fn last_health(&self) -> Vec<ServerHealth>;
    /// Probes every server now; all results once each has answered.
    fn probe_all(&self) -> Round;
    /// A tool needs `url` signed in again: with no `scopes`, start the one-click sign-in (or
    /// the review); with scopes, the review starting from them. Whether it was taken.
    fn sign_in(&self, url: String, scopes: Vec<String>) -> bool;
}

struct Tray {
    answers: Arc<dyn Answers>,
}

/// A list of health as JSON for the bus. The engine's types always serialise; an empty list
/// is the fallback that keeps the answer well-formed.
fn json_list(list: &[ServerHealth]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

// The attribute needs literals: a test holds them equal to core's `tray_bus` names.
#[zbus::interface(name = "dev.latchkey.Tray1")]
impl Tray {
    fn launched(&self, argv: Vec<String>) {
        self.answers.launched(argv);
    }

    fn changed(&self) {
        self.answers.changed();
    }

    /// A JSON array of `ServerHealth`.
    fn last_health(&self) -> String {
        json_list(&self.answers.last_health())
    }

    /// Probes every server; a JSON array of `ServerHealth` once all have answered.
    async fn probe_all(&self) -> String {
        json_list(&self.answers.probe_all().await)
    }

    /// A tool (`latchkey bridge`) needs `url` signed in again, with `scopes` (empty: the
    /// last sign-in's); true when the tray took it.
    fn sign_in(&self, url: String, scopes: Vec<String>) -> bool {
        self.answers.sign_in(url, scopes)
    }

    /// One probe answered: a `ServerHealth` as JSON.
    #[zbus(signal)]
    async fn health(
        emitter: &zbus::object_server::SignalEmitter<'_>,
        server_health: &str,
    ) -> zbus::Result<()>;

    /// A renewal, a failed one, or a session ending soon: a `SessionEvent` as JSON.
    #[zbus(signal)]
    async fn session(
        emitter: &zbus::object_server::SignalEmitter<'_>,
        session_event: &str,
    ) -> zbus::Result<()>;

    /// The servers or their credentials changed.
    #[zbus(signal)]
    async fn servers_changed(emitter: &zbus::object_server::SignalEmitter<'_>) -> zbus::Result<()>;
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
pub fn claim(argv: &[String], answers: Arc<dyn Answers>) -> anyhow::Result<Claim> {
    claim_on(connection::Builder::session, argv, answers)
}

/// [`claim`] on the bus that `bus` connects to.
fn claim_on(
    bus: impl Fn() -> zbus::Result<connection::Builder<'static>>,
    argv: &[String],
    answers: Arc<dyn Answers>,
) -> anyhow::Result<Claim> {
    let builder = match bus() {
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
        .serve_at(OBJECT_PATH, Tray { answers })?
        .build();
    match served {
        Ok(c) => Ok(Claim::First(Some(c))),
        Err(zbus::Error::NameTaken) => {
            bus()?
                .build()?
                .call_method(
                    Some(BUS_NAME),
                    OBJECT_PATH,
                    Some(INTERFACE),
                    method::LAUNCHED,
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

/// The tray's signals, sent on the connection that holds its name.
#[derive(Clone)]
pub struct Signals {
    conn: zbus::Connection,
}

impl Signals {
    /// Signals on `conn`, the connection that holds the tray's name.
    pub fn new(conn: &Connection) -> Signals {
        Signals {
            conn: conn.inner().clone(),
        }
    }

    /// Says an engine event on the bus: a probe's result, a session event, a change.
    pub async fn event(&self, event: &Event) {
        match event {
            Event::Health(h) => self.health(h).await,
            Event::Session(e) => self.session(e).await,
            Event::Changed { .. } => self.servers_changed().await,
        }
    }

    /// One probe answered.
    pub async fn health(&self, h: &ServerHealth) {
        if let Ok(json) = serde_json::to_string(h) {
            self.emit(signal::HEALTH, Some(json)).await;
        }
    }

    /// A session was renewed, could not be, or ends soon.
    pub async fn session(&self, e: &SessionEvent) {
        if let Ok(json) = serde_json::to_string(e) {
            self.emit(signal::SESSION, Some(json)).await;
        }
    }

    /// The servers or their credentials changed.
    pub async fn servers_changed(&self) {
        self.emit(signal::SERVERS_CHANGED, None).await;
    }

    /// Sends signal `name`, with its JSON payload if it has one.
    async fn emit(&self, name: &str, payload: Option<String>) {
        let c = &self.conn;
        let sent = match payload {
            Some(json) => {
                c.emit_signal(None::<&str>, OBJECT_PATH, INTERFACE, name, &(json,))
                    .await
            }
            None => {
                c.emit_signal(None::<&str>, OBJECT_PATH, INTERFACE, name, &())
                    .await
            }
        };
        if let Err(e) = sent {
            tracing::debug!("the {name} signal was not sent: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_core::usecase::Health;
    use std::sync::Mutex;
    use std::time::Duration;

    #[test]
    fn the_served_interface_is_the_one_the_window_calls() {
        // The attribute needs a literal: this keeps it equal to the shared name.
        let served = <Tray as zbus::object_server::Interface>::name();
        assert_eq!(served.as_str(), INTERFACE);
    }

    /// A private bus daemon for one test (the e2e support's), stopped when dropped.
    struct Bus(latchkey_e2e::PrivateBus);

    impl Bus {
        fn start(tag: &str) -> Bus {
            Bus(latchkey_e2e::PrivateBus::start(tag))
        }

        fn address(&self) -> &str {
            &self.0.address
        }

        fn builder(&self) -> impl Fn() -> zbus::Result<connection::Builder<'static>> {
            let address = self.address().to_string();
            move || connection::Builder::address(address.as_str())
        }

        fn client(&self) -> Connection {
            (self.builder())().unwrap().build().unwrap()
        }
    }

    fn health(server: &str, health: Health) -> ServerHealth {
        ServerHealth {
            server: server.into(),
            health,
            until: Some(1_700_000_000),
            reason: None,
            millis: 12,
        }
    }

    /// A tray that remembers what it was asked.
    #[derive(Default)]
    struct Fake {
        asked: Mutex<Vec<String>>,
    }

    impl Answers for Fake {
        fn launched(&self, argv: Vec<String>) {
            self.asked
                .lock()
                .unwrap()
                .push(format!("launched {argv:?}"));
        }
        fn changed(&self) {
            self.asked.lock().unwrap().push("changed".into());
        }
        fn last_health(&self) -> Vec<ServerHealth> {
            vec![health("https://a.example/mcp", Health::Working)]
        }
        fn probe_all(&self) -> Round {
            self.asked.lock().unwrap().push("probe_all".into());
            Box::pin(async {
                // The answer waits for the round, as the tray's does.
                tokio::time::sleep(Duration::from_millis(200)).await;
                vec![
                    health("https://a.example/mcp", Health::Working),
                    health("https://b.example/mcp", Health::NeverSignedIn),
                ]
            })
        }
        fn sign_in(&self, url: String, scopes: Vec<String>) -> bool {
            self.asked
                .lock()
                .unwrap()
                .push(format!("sign_in {url} [{}]", scopes.join(" ")));
            true
        }
    }

    fn call(conn: &Connection, name: &str) -> String {
        conn.call_method(Some(BUS_NAME), OBJECT_PATH, Some(INTERFACE), name, &())
            .unwrap()
            .body()
            .deserialize::<String>()
            .unwrap()
    }

    /// The tray, served on a private bus; the probe round's future runs on a Tokio runtime
    /// as the real one's does.
    fn served(bus: &Bus) -> (Connection, Arc<Fake>) {
        struct OnTokio(Arc<Fake>, tokio::runtime::Handle);
        impl Answers for OnTokio {
            fn launched(&self, argv: Vec<String>) {
                self.0.launched(argv)
            }
            fn changed(&self) {
                self.0.changed()
            }
            fn last_health(&self) -> Vec<ServerHealth> {
                self.0.last_health()
            }
            fn probe_all(&self) -> Round {
                let task = self.1.spawn(self.0.probe_all());
                Box::pin(async move { task.await.unwrap_or_default() })
            }
            fn sign_in(&self, url: String, scopes: Vec<String>) -> bool {
                self.0.sign_in(url, scopes)
            }
        }
        static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
        let rt = RT.get_or_init(|| tokio::runtime::Runtime::new().unwrap());
        let fake = Arc::new(Fake::default());
        let answers = Arc::new(OnTokio(fake.clone(), rt.handle().clone()));
        match claim_on(bus.builder(), &[], answers).unwrap() {
            Claim::First(Some(c)) => (c, fake),
            _ => panic!("the first tray on the bus must take the name"),
        }
    }

    #[test]
    fn the_window_s_questions_are_answered_in_json_and_a_second_launch_is_handed_over() {
        let bus = Bus::start("answers");
        let (_tray, fake) = served(&bus);
        let client = bus.client();

        let last: serde_json::Value = serde_json::from_str(&call(&client, "LastHealth")).unwrap();
        assert_eq!(last[0]["server"], "https://a.example/mcp", "{last}");
        assert_eq!(last[0]["health"], "working", "{last}");

        let probed: serde_json::Value =
            serde_json::from_str(&call(&client, method::PROBE_ALL)).unwrap();
        assert_eq!(probed.as_array().map(Vec::len), Some(2), "{probed}");
        assert_eq!(probed[1]["health"], "never_signed_in", "{probed}");

        client
            .call_method(
                Some(BUS_NAME),
                OBJECT_PATH,
                Some(INTERFACE),
                method::CHANGED,
                &(),
            )
            .unwrap();
        // `latchkey bridge` asks for a sign-in: taken.
        let taken: bool = client
            .call_method(
                Some(BUS_NAME),
                OBJECT_PATH,
                Some(INTERFACE),
                method::SIGN_IN,
                &("https://a.example/mcp", vec!["mcp", "mcp:admin"]),
            )
            .unwrap()
            .body()
            .deserialize()
            .unwrap();
        assert!(taken);

        // A second tray on the same bus hands its arguments over and ends.
        let second = claim_on(
            bus.builder(),
            &["latchkey://why?url=https%3A%2F%2Fa.example%2Fmcp".to_string()],
            Arc::new(Fake::default()),
        )
        .unwrap();
        assert!(matches!(second, Claim::Forwarded));
        assert_eq!(
            *fake.asked.lock().unwrap(),
            [
                "probe_all",
                "changed",
                "sign_in https://a.example/mcp [mcp mcp:admin]",
                r#"launched ["latchkey://why?url=https%3A%2F%2Fa.example%2Fmcp"]"#
            ]
        );
    }

    #[test]
    fn the_introspected_interface_has_exactly_the_shared_methods_and_signals() {
        let bus = Bus::start("introspect");
        let (_tray, _) = served(&bus);
        let xml: String = bus
            .client()
            .call_method(
                Some(BUS_NAME),
                OBJECT_PATH,
                Some("org.freedesktop.DBus.Introspectable"),
                "Introspect",
                &(),
            )
            .unwrap()
            .body()
            .deserialize()
            .unwrap();
        let start = xml
            .find(&format!(r#"<interface name="{INTERFACE}">"#))
            .unwrap_or_else(|| panic!("{INTERFACE} is not served: {xml}"));
        let ours = &xml[start..start + xml[start..].find("</interface>").unwrap()];
        let names = |kind: &str| -> Vec<String> {
            let tag = format!(r#"<{kind} name=""#);
            let mut found: Vec<String> = ours
                .match_indices(&tag)
                .map(|(i, _)| {
                    let rest = &ours[i + tag.len()..];
                    rest[..rest.find('"').unwrap()].to_string()
                })
                .collect();
            found.sort();
            found
        };
        let sorted = |v: &[&str]| {
            let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
            v.sort();
            v
        };
        assert_eq!(names("method"), sorted(method::ALL), "{ours}");
        assert_eq!(names("signal"), sorted(signal::ALL), "{ours}");
    }

    #[test]
    fn engine_events_become_signals_with_the_engine_s_json() {
        let bus = Bus::start("signals");
        let (tray, _) = served(&bus);
        let client = bus.client();
        let rule = zbus::MatchRule::builder()
            .msg_type(zbus::message::Type::Signal)
            .sender(BUS_NAME)
            .unwrap()
            .interface(INTERFACE)
            .unwrap()
            .build();
        let mut heard = zbus::blocking::MessageIterator::for_match_rule(rule, &client, None)
            .expect("listen to the tray");
        let signals = Signals::new(&tray);
        let events = [
            Event::Health(health("https://a.example/mcp", Health::Refreshable)),
            Event::Session(SessionEvent::Refreshed {
                server: "https://a.example/mcp".into(),
                until: Some(1_700_000_300),
            }),
            Event::Changed {
                server: "https://a.example/mcp".into(),
            },
        ];
        let rt = tokio::runtime::Runtime::new().unwrap();
        for e in &events {
            rt.block_on(signals.event(e));
        }
        let mut got = Vec::new();
        for _ in 0..3 {
            let msg = heard.next().expect("a signal").unwrap();
            let header = msg.header();
            let member = header.member().unwrap().to_string();
            let body = if member == signal::SERVERS_CHANGED {
                String::new()
            } else {
                msg.body().deserialize::<String>().unwrap()
            };
            got.push((member, body));
        }
        assert_eq!(got[0].0, signal::HEALTH);
        let h: serde_json::Value = serde_json::from_str(&got[0].1).unwrap();
        assert_eq!(h["health"], "refreshable", "{h}");
        assert_eq!(got[1].0, signal::SESSION);
        let s: serde_json::Value = serde_json::from_str(&got[1].1).unwrap();
        assert_eq!(
            s,
            serde_json::json!({"event": "refreshed", "server": "https://a.example/mcp", "until": 1_700_000_300u64})
        );
        assert_eq!(got[2], (signal::SERVERS_CHANGED.to_string(), String::new()));
    }
}
