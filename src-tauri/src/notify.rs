//! Desktop notifications for what needs the person: a session that ends soon and cannot be
//! renewed, and a renewal that failed. Clicking one opens that server's sign-in.
//!
//! tauri-plugin-notification 2.8 reports a click (`tap`) to `on_action` handlers on Linux
//! (the Desktop Notifications `default` action, through its own D-Bus connection), Windows
//! (while the toast is on screen) and macOS, "as far as the notification server reports it":
//! some Linux notification servers offer no actions at all. So the notified server is also
//! kept as the window's pending view: when the window is next focused (or loads, through
//! `take_pending_open`), it shows that server.

use crate::api::{OpenServer, ServerView};
use crate::state::AppState;
use latchkey_core::scheduler::Event;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::{ActionPerformed, NotificationExt};

/// The notification's extra payload key that names its server.
const SERVER_KEY: &str = "server";

/// The title and body of the notification for a scheduler event, or None for an event that
/// needs no one (a successful renewal).
pub fn text(e: &Event, name: &str, now: u64) -> Option<(String, String)> {
    match e {
        Event::Refreshed { .. } => None,
        Event::ExpiringSoon { at, .. } => {
            let minutes = at.saturating_sub(now).div_ceil(60).max(1);
            Some((
                format!("{name}: sign in again soon"),
                format!(
                    "Your session ends in about {minutes} min and this server gives no way to renew it. Open Latchkey to sign in again."
                ),
            ))
        }
        Event::Failed { reason, .. } => Some((
            format!("{name} needs you to sign in"),
            format!(
                "{}. {}",
                reason.title.trim_end_matches('.'),
                reason.fix.words()
            ),
        )),
    }
}

fn server_of(e: &Event) -> &str {
    match e {
        Event::Refreshed { server, .. }
        | Event::ExpiringSoon { server, .. }
        | Event::Failed { server, .. } => server,
    }
}

/// A name people recognise: the first name a tool gives the server, else its host.
fn display_name<R: Runtime>(app: &AppHandle<R>, url: &str) -> String {
    app.try_state::<AppState>()
        .and_then(|s| crate::commands::current_dashboard(&s).ok())
        .and_then(|d| d.servers.into_iter().find(|s| s.url == url))
        .map(|s| s.title)
        .unwrap_or_else(|| url.to_string())
}

pub fn session_event<R: Runtime>(app: &AppHandle<R>, e: &Event) {
    let url = server_of(e);
    let Some((title, body)) = text(e, &display_name(app, url), latchkey_core::tokens::now()) else {
        return;
    };
    if let Some(state) = app.try_state::<AppState>() {
        state.set_pending_open(OpenServer {
            url: url.to_string(),
            view: ServerView::SignIn,
        });
    }
    let shown = app
        .notification()
        .builder()
        .id(notification_id(url))
        .title(title)
        .body(body)
        .extra(SERVER_KEY, url)
        .show();
    if let Err(err) = shown {
        tracing::warn!("could not show a notification: {err}");
    }
}

/// One id per server, so a newer notification about a server can stand for the older one.
fn notification_id(url: &str) -> i32 {
    // FNV-1a: stable across runs, unlike the std hasher.
    let h = url.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    (h & 0x7fff_ffff) as i32
}

/// The server a click on a notification asks for: a click on the notification itself (`tap`)
/// of one of ours.
pub fn clicked_server(performed: &ActionPerformed) -> Option<String> {
    if performed.action_id() != "tap" {
        return None;
    }
    performed
        .notification()?
        .extra()
        .get(SERVER_KEY)?
        .as_str()
        .map(str::to_string)
}

/// Opens a server's sign-in when its notification is clicked.
pub fn listen_for_clicks<R: Runtime>(app: &AppHandle<R>) {
    let handle = app.clone();
    let registered = app.notification().on_action(move |performed| {
        if let Some(url) = clicked_server(performed) {
            let app = handle.clone();
            // The handler runs on the plugin's thread: windows are made on the event loop.
            let _ = handle.run_on_main_thread(move || {
                crate::reauth::open_server(&app, &url, ServerView::SignIn);
            });
        }
    });
    if let Err(e) = registered {
        tracing::warn!("notification clicks will not be reported: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_core::reasons::{Fix, Reason};

    fn performed(action: &str, notification: serde_json::Value) -> ActionPerformed {
        serde_json::from_value(serde_json::json!({
            "actionId": action, "inputValue": null, "notification": notification
        }))
        .unwrap()
    }

    #[test]
    fn a_click_on_a_notification_names_its_server() {
        let ours = serde_json::json!({"id": 7, "extra": {"server": "https://a.example/mcp"}});
        assert_eq!(
            clicked_server(&performed("tap", ours.clone())).as_deref(),
            Some("https://a.example/mcp")
        );
        assert_eq!(clicked_server(&performed("snooze", ours)), None);
        assert_eq!(
            clicked_server(&performed("tap", serde_json::json!({"id": 1}))),
            None
        );
        assert_eq!(
            clicked_server(&performed("tap", serde_json::Value::Null)),
            None
        );
        assert_eq!(
            notification_id("https://a.example/mcp"),
            notification_id("https://a.example/mcp")
        );
        assert!(notification_id("https://a.example/mcp") >= 0);
    }

    #[test]
    fn only_what_needs_the_person_is_notified_in_plain_words() {
        let now = 1_000_000;
        let refreshed = Event::Refreshed {
            server: "https://a".into(),
            until: Some(now + 3600),
        };
        assert_eq!(text(&refreshed, "gitlab", now), None);
        let soon = Event::ExpiringSoon {
            server: "https://a".into(),
            at: now + 600,
        };
        let (title, body) = text(&soon, "gitlab", now).unwrap();
        assert_eq!(title, "gitlab: sign in again soon");
        assert!(body.contains("about 10 min"), "{body}");
        let failed = Event::Failed {
            server: "https://a".into(),
            reason: Reason {
                id: "refresh_token_rejected",
                title: "The sign-in server no longer accepts the saved session".into(),
                explanation: String::new(),
                fix: Fix::SignIn,
                detail: "invalid_grant".into(),
            },
        };
        let (title, body) = text(&failed, "gitlab", now).unwrap();
        assert_eq!(title, "gitlab needs you to sign in");
        assert_eq!(
            body,
            "The sign-in server no longer accepts the saved session. Sign in again."
        );
    }
}
