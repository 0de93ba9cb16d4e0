//! What keeps the window's picture current without anyone asking: the config files watched,
//! every server probed at start and after changes, and the refresh scheduler's events (the
//! tray runs a scheduler too: renewals go through core's cross-process lock, so one renews
//! and the other finds the new token; only the tray notifies).

use crate::api::events;
use crate::commands::{announce_dashboard, probe_everything};
use crate::state::AppState;
use latchkey_core::tools::watch;
use latchkey_core::usecase::renew::RefreshOptions;
use latchkey_core::usecase::scheduler::{Event, Scheduler};
use tauri::{AppHandle, Emitter, Manager, Runtime};

/// Starts the watcher, the first probe and the scheduler.
pub fn start<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    let watcher_app = app.clone();
    match watch::ConfigWatcher::start(state.locations.clone(), move |_| {
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

    let scheduler = Scheduler::new(
        state.store.clone(),
        RefreshOptions::from_env(),
        state.timeout,
    )
    .with_wake(state.scheduler_wake.clone());
    let events_app = app.clone();
    tauri::async_runtime::spawn(async move {
        scheduler
            .run(move |e: Event| {
                let _ = events_app.emit(events::SESSION_EVENT, &e);
                let app = events_app.clone();
                let url = match &e {
                    Event::Refreshed { server, .. }
                    | Event::ExpiringSoon { server, .. }
                    | Event::Failed { server, .. } => server.clone(),
                };
                tauri::async_runtime::spawn(async move {
                    crate::commands::probe_one(&app, &url).await;
                });
            })
            .await;
    });
}

struct KeepWatcher {
    _watcher: std::sync::Mutex<watch::ConfigWatcher>,
}
