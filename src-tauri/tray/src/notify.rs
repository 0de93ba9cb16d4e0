//! Desktop notifications for what needs the person: a session that ends soon and cannot be
//! renewed, and a renewal that failed. Clicking one opens that server's sign-in.
//!
//! Through the Desktop Notifications D-Bus API (notify-rust, as tauri-plugin-notification
//! uses on Linux): a click is the `default` action, which most notification servers report;
//! where one reports none, the tray menu's line for the server does the same.

use latchkey_core::usecase::SessionEvent as Event;

/// The action a click on the notification itself invokes.
const CLICK: &str = "default";

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

/// The server an event is about.
pub fn server_of(e: &Event) -> &str {
    match e {
        Event::Refreshed { server, .. }
        | Event::ExpiringSoon { server, .. }
        | Event::Failed { server, .. } => server,
    }
}

/// Shows the notification for `e` about the server called `name`; `on_click` runs (on a
/// thread of its own) when the person clicks it.
pub fn show(e: &Event, name: &str, now: u64, on_click: impl FnOnce() + Send + 'static) {
    let Some((title, body)) = text(e, name, now) else {
        return;
    };
    let shown = notify_rust::Notification::new()
        .appname("Latchkey")
        .summary(&title)
        .body(&body)
        .action(CLICK, "Sign in")
        .show();
    match shown {
        Ok(handle) => {
            // Waiting for the click blocks until the notification is closed.
            let spawned = std::thread::Builder::new()
                .name("latchkey-notification".into())
                .spawn(move || {
                    handle.wait_for_action(|action| {
                        if action == CLICK {
                            on_click();
                        }
                    })
                });
            if let Err(e) = spawned {
                tracing::warn!("notification clicks will not be heard: {e}");
            }
        }
        Err(err) => tracing::warn!("could not show a notification: {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_core::usecase::{Fix, Reason};

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
        assert_eq!(server_of(&soon), "https://a");
        let failed = Event::Failed {
            server: "https://a".into(),
            reason: Reason {
                id: "refresh_token_rejected".into(),
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

    #[test]
    fn what_a_server_echoes_never_reaches_a_notification() {
        use latchkey_core::error::{Error, OAuthError, OAuthStage};
        const PLANTED: &str = "PLANTED-SECRET-1234";
        let e = Error::OAuth(OAuthError {
            stage: OAuthStage::Refresh,
            code: "invalid_grant".into(),
            description: Some(format!("refresh_token={PLANTED} is unknown")),
            uri: None,
        });
        let reason = latchkey_core::health::reasons::from_error(&e);
        assert!(!reason.detail.contains(PLANTED), "{}", reason.detail);
        let failed = Event::Failed {
            server: "https://a".into(),
            reason,
        };
        let (title, body) = text(&failed, "gitlab", 0).unwrap();
        assert!(
            !title.contains(PLANTED) && !body.contains(PLANTED),
            "{title} {body}"
        );
    }
}
