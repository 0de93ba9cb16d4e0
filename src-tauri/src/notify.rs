//! Desktop notifications for what needs the person: a session that ends soon and cannot be
//! renewed, and a renewal that failed. Desktop notifications on Linux do not report clicks
//! through tauri-plugin-notification, so the notified server is also kept as the window's
//! pending view: opening Latchkey (tray, or the notification where the desktop focuses the
//! app) shows that server's re-authorization.

use crate::api::{OpenServer, ServerView};
use crate::state::AppState;
use latchkey_core::scheduler::Event;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

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
    if let Err(err) = app.notification().builder().title(title).body(body).show() {
        tracing::warn!("could not show a notification: {err}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_core::reasons::{Fix, Reason};

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
