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

/// Shows the window on a server's view. A window whose page is loaded hears it as an
/// `open-server` event; a window that is just being created would miss that, so the view is
/// kept until its page asks for it (`take_pending_open`).
pub fn open_server<R: Runtime>(app: &AppHandle<R>, url: &str, view: ServerView) {
    let open = OpenServer {
        url: url.to_string(),
        view,
    };
    let state = app.try_state::<AppState>();
    let listening = app.get_webview_window(crate::MAIN_WINDOW).is_some()
        && state.as_ref().is_some_and(|s| s.window_ready());
    if listening {
        // Said now: an older pending view (e.g. from a notification) is no longer wanted.
        if let Some(state) = &state {
            state.take_pending_open();
        }
        let _ = app.emit(events::OPEN_SERVER, &open);
    } else if let Some(state) = &state {
        state.set_pending_open(open);
    }
    if let Err(e) = crate::show_main_window(app) {
        tracing::error!("could not open the window: {e}");
    }
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
