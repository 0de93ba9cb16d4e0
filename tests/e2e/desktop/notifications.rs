//! A notification server on a test's private D-Bus (the Desktop Notifications API that
//! GNOME, KDE and dunst implement): it keeps what it was asked to show, and clicks a
//! notification as a person would (the `ActionInvoked` signal with the `default` action).

use std::sync::{Arc, Mutex};
use zbus::blocking::{connection, Connection};

const PATH: &str = "/org/freedesktop/Notifications";
const INTERFACE: &str = "org.freedesktop.Notifications";

/// One notification as the app sent it.
#[derive(Debug, Clone)]
pub struct Shown {
    pub id: u32,
    pub app_name: String,
    pub summary: String,
    pub body: String,
    /// Pairs of (action key, label).
    pub actions: Vec<String>,
}

#[derive(Default)]
struct Inbox {
    shown: Mutex<Vec<Shown>>,
}

struct Server {
    inbox: Arc<Inbox>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Server {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: String,
        replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        _hints: std::collections::HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut shown = self.inbox.shown.lock().unwrap_or_else(|e| e.into_inner());
        let id = if replaces_id > 0 {
            replaces_id
        } else {
            shown.len() as u32 + 1
        };
        shown.push(Shown {
            id,
            app_name,
            summary,
            body,
            actions,
        });
        id
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["actions".into(), "body".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "latchkey-test-notifications".into(),
            "latchkey".into(),
            "1".into(),
            "1.2".into(),
        )
    }

    fn close_notification(&self, _id: u32) {}
}

/// The notification server; it stops when dropped.
pub struct Notifications {
    inbox: Arc<Inbox>,
    connection: Connection,
}

impl Notifications {
    /// Serves `org.freedesktop.Notifications` on the bus at `address`.
    pub fn start(address: &str) -> Notifications {
        let inbox = Arc::new(Inbox::default());
        let connection = connection::Builder::address(address)
            .and_then(|b| b.name("org.freedesktop.Notifications"))
            .and_then(|b| {
                b.serve_at(
                    PATH,
                    Server {
                        inbox: inbox.clone(),
                    },
                )
            })
            .and_then(|b| b.build())
            .unwrap_or_else(|e| panic!("the test notification server did not start: {e}"));
        Notifications { inbox, connection }
    }

    /// Every notification shown so far.
    pub fn shown(&self) -> Vec<Shown> {
        self.inbox
            .shown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Clicks notification `id` (what a person's click on it sends).
    pub fn click(&self, id: u32) {
        self.connection
            .emit_signal(
                None::<&str>,
                PATH,
                INTERFACE,
                "ActionInvoked",
                &(id, "default"),
            )
            .unwrap_or_else(|e| panic!("could not click notification {id}: {e}"));
    }
}
