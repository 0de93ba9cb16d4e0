//! Choosing a server in the tray: one-click re-authorization with the last plan when nothing
//! changed; otherwise the window opens on the server's sign-in (or its "why").

use crate::api::{events, OpenServer, ServerView};
use crate::commands::run_sign_in;
use crate::state::{AppState, KeptPlan};
use latchkey_core::health::Health;
use latchkey_core::http::Http;
use latchkey_core::reauth::{self, PlanChange};
use latchkey_core::{discovery, plan};
use tauri::{AppHandle, Emitter, Manager, Runtime};

/// Shows the window on a server's view. The view is also kept until the UI asks for it, as a
/// window that is just being created misses events sent before it loaded.
pub fn open_server<R: Runtime>(app: &AppHandle<R>, url: &str, view: ServerView) {
    let open = OpenServer {
        url: url.to_string(),
        view,
    };
    if let Some(state) = app.try_state::<AppState>() {
        state.set_pending_open(open.clone());
    }
    if let Err(e) = crate::show_main_window(app) {
        tracing::error!("could not open the window: {e}");
    }
    let _ = app.emit(events::OPEN_SERVER, &open);
}

/// A server was chosen in the tray.
pub fn server_chosen<R: Runtime>(app: &AppHandle<R>, url: String) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        let health = state.health_of(&url).map(|h| h.health);
        let needs = matches!(
            health,
            Some(Health::NeedsSignIn | Health::NeverSignedIn | Health::ExpiringSoon)
        );
        if !needs {
            open_server(&app, &url, ServerView::Why);
            return;
        }
        if let Err(e) = one_click(&app, &url).await {
            tracing::warn!("one-click sign-in for {url} needs the window: {e}");
            open_server(&app, &url, ServerView::SignIn);
        }
    });
}

/// Signs in again at once when the plan is what it was; opens the preview otherwise.
async fn one_click<R: Runtime>(app: &AppHandle<R>, url: &str) -> Result<(), String> {
    let state = app.state::<AppState>();
    let last = state
        .store
        .load(url)
        .map_err(|e| e.to_string())?
        .ok_or("never signed in: the person chooses the scopes first")?;
    let http = Http::new(state.timeout);
    let d = discovery::discover(&http, url)
        .await
        .map_err(|e| e.to_string())?;
    let config = reauth::client_config(&last);
    let plan = reauth::with_last_scopes(plan::make_plan(d, &config), &last);
    let kept = KeptPlan {
        plan: plan.clone(),
        client_secret: config.client_secret.clone(),
    };
    match reauth::compare(&plan, &last) {
        PlanChange::Unchanged => {
            run_sign_in(app, url, kept).await.map_err(|e| e.message)?;
            Ok(())
        }
        PlanChange::Changed { what } => {
            state.keep_plan(url, kept);
            Err(what.join("; "))
        }
    }
}
