//! What keeps the window's picture current without anyone asking. While the tray runs, it is
//! the one monitor of the session (the config watcher, the probes and the renewal scheduler):
//! the window takes its last health, passes its signals on to the UI as the same events, and
//! asks it to probe ([`crate::tray_link`]). When no tray answers (the window started alone),
//! or the tray leaves, the window monitors on its own: the config files watched, every server
//! probed at start and after changes, and the renewal scheduler.

use crate::api::events;
use crate::commands::{announce_dashboard, probe_everything, probe_one};
use crate::state::{AppState, Monitor};
use crate::tray_link::{Heard, TrayLink};
use latchkey_core::usecase::{ConfigWatcher, Event, SessionEvent};
use std::sync::Arc;
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tokio::sync::broadcast::error::RecvError;

/// How long the tray may take to give its last health before the window monitors alone.
const TRAY_WAIT: Duration = Duration::from_secs(5);
/// How long a call to the tray may take (a probe round: every server, at most 16 at once).
const TRAY_CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// Finds the tray and follows it, else starts this window's own monitor; and passes this
/// window's own session events (a hand-off's renewal) on to the UI.
pub fn start<R: Runtime>(app: &AppHandle<R>) {
    forward_own_events(app);
    let app = app.clone();
    // Blocking D-Bus calls: on a thread of their own.
    std::thread::spawn(move || {
        let heard_app = app.clone();
        let found = TrayLink::session_bus(TRAY_CALL_TIMEOUT)
            .map_err(|e| tracing::info!("no D-Bus session ({e})"))
            .ok()
            .and_then(|bus| TrayLink::follow(bus, TRAY_WAIT, move |h| on_heard(&heard_app, h)));
        let state = app.state::<AppState>();
        match found {
            Some((link, last)) => {
                tracing::info!(
                    "the tray monitors the servers (config files, probes, renewals); this window follows it"
                );
                for h in last {
                    state.set_health_json(h);
                }
                state.set_monitor(Monitor::Tray(Arc::new(link)));
                announce_dashboard(&app);
            }
            None => {
                tracing::info!(
                    "no tray answered on D-Bus: this window watches the config files, probes and renews on its own"
                );
                monitor_alone(&app);
            }
        }
    });
}

/// What the tray said, passed on to the UI as the events it knows.
fn on_heard<R: Runtime>(app: &AppHandle<R>, heard: Heard) {
    let state = app.state::<AppState>();
    match heard {
        Heard::Health(h) => {
            state.set_health_json(h.clone());
            let _ = app.emit(events::HEALTH, h);
        }
        Heard::Session(e) => {
            let _ = app.emit(events::SESSION_EVENT, e);
        }
        Heard::ServersChanged => announce_dashboard(app),
        Heard::Gone => {
            if matches!(state.monitor_now(), Monitor::Tray(_)) {
                tracing::warn!(
                    "the tray left D-Bus: this window now watches, probes and renews on its own"
                );
                monitor_alone(app);
            }
        }
    }
}

/// This window's engine announces the renewals it made itself (a hand-off's, or the
/// scheduler's when alone): the UI hears of each; when alone, the server is probed again.
fn forward_own_events<R: Runtime>(app: &AppHandle<R>) {
    let mut heard = app.state::<AppState>().engine.subscribe();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            let e = match heard.recv().await {
                Ok(Event::Session(e)) => e,
                Ok(_) | Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            };
            let _ = app.emit(events::SESSION_EVENT, &e);
            if matches!(app.state::<AppState>().monitor_now(), Monitor::Alone) {
                let url = match &e {
                    SessionEvent::Refreshed { server, .. }
                    | SessionEvent::ExpiringSoon { server, .. }
                    | SessionEvent::Failed { server, .. } => server.clone(),
                };
                probe_one(&app, &url).await;
            }
        }
    });
}

/// Starts this window's own watcher, first probe and scheduler.
fn monitor_alone<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    state.set_monitor(Monitor::Alone);
    let watcher_app = app.clone();
    match state.engine.watch_configs(move |_| {
        announce_dashboard(&watcher_app);
        let app = watcher_app.clone();
        tauri::async_runtime::spawn(async move {
            let _ = probe_everything(&app).await;
        });
    }) {
        // Kept for the app's life: dropping it stops the watch.
        Ok(w) => {
            app.manage(KeepWatcher {
                _watcher: std::sync::Mutex::new(w),
            });
        }
        Err(e) => tracing::warn!("config files will not be watched: {e}"),
    }

    let first = app.clone();
    tauri::async_runtime::spawn(async move {
        // The servers first, from the config files and the keychain; then their health.
        announce_dashboard(&first);
        let _ = probe_everything(&first).await;
    });

    let engine = state.engine.clone();
    tauri::async_runtime::spawn(async move { engine.run_scheduler().await });
}

struct KeepWatcher {
    _watcher: std::sync::Mutex<ConfigWatcher>,
}
