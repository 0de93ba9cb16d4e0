//! What keeps the window's picture current without anyone asking: the config files watched,
//! every server probed at start and after changes, and the renewal scheduler's events.

use crate::api::events;
use crate::commands::{announce_dashboard, probe_everything, probe_one};
use crate::state::AppState;
use latchkey_core::usecase::{ConfigWatcher, Event, SessionEvent};
use tauri::{AppHandle, Emitter, Manager, Runtime};

/// Starts the watcher, the first probe and the scheduler.
pub fn start<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
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
        Err(e) => tracing::warn!("{e}"),
    }

    let first = app.clone();
    tauri::async_runtime::spawn(async move {
        // The servers first, from the config files and the keychain; then their health.
        announce_dashboard(&first);
        let _ = probe_everything(&first).await;
    });

    // The engine announces renewals (the scheduler's and any other): the UI hears of each
    // and the server is probed again.
    let mut heard = state.engine.subscribe();
    let events_app = app.clone();
    tauri::async_runtime::spawn(async move {
        while let Ok(e) = heard.recv().await {
            let Event::Session(e) = e else { continue };
            let _ = events_app.emit(events::SESSION_EVENT, &e);
            let url = match &e {
                SessionEvent::Refreshed { server, .. }
                | SessionEvent::ExpiringSoon { server, .. }
                | SessionEvent::Failed { server, .. } => server.clone(),
            };
            probe_one(&events_app, &url).await;
        }
    });
    let engine = state.engine.clone();
    tauri::async_runtime::spawn(async move { engine.run_scheduler().await });
}

struct KeepWatcher {
    _watcher: std::sync::Mutex<ConfigWatcher>,
}
