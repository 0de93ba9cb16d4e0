//! `latchkey://` links, from the desktop (a first launch with the link as its argument) or
//! from a second launch that the single-instance plugin hands to this one. Reading a link is
//! core's ([`latchkey_core::usecase::links`]); here it becomes a window on the server.

use crate::api::{events, OpenServer, ServerView};
use crate::state::AppState;
use latchkey_core::usecase::{links, LinkAction};
use tauri::{AppHandle, Emitter, Manager, Runtime};

/// Carries out one link: `login` opens the server's sign-in, `why` its explanation. A link
/// that is not ours or names no usable server is logged and otherwise ignored (links can
/// come from any web page).
pub fn open<R: Runtime>(
    app: &AppHandle<R>,
    link: &str,
) -> Result<LinkAction, latchkey_core::Error> {
    let action = links::parse(link)?;
    carry_out(app, &action);
    Ok(action)
}

/// Shows the window on what `action` asks for; a sign-in started by a link is remembered as
/// such, so the sign-in it leads to is noted (the tray then does not probe the server until
/// a tool uses it).
pub fn carry_out<R: Runtime>(app: &AppHandle<R>, action: &LinkAction) {
    tracing::info!("link: {action:?}");
    let (view, scopes) = match action {
        LinkAction::Login { scopes, .. } => (ServerView::SignIn, scopes.clone()),
        LinkAction::Why { .. } => (ServerView::Why, Vec::new()),
    };
    if let Some(state) = app.try_state::<AppState>() {
        state.set_link_started(action.url(), action.started_by_link());
    }
    open_server(app, action.url(), view, scopes, action.started_by_link());
}

/// Shows the window on a server's view. A window whose page is loaded hears it as an
/// `open-server` event; a window that is just being created would miss that, so the view is
/// kept until its page asks for it (`take_pending_open`).
fn open_server<R: Runtime>(
    app: &AppHandle<R>,
    url: &str,
    view: ServerView,
    scopes: Vec<String>,
    started_by_link: bool,
) {
    let open = OpenServer {
        url: url.to_string(),
        view,
        scopes,
        started_by_link,
    };
    let state = app.try_state::<AppState>();
    let listening = app.get_webview_window(crate::MAIN_WINDOW).is_some()
        && state.as_ref().is_some_and(|s| s.window_ready());
    if listening {
        let _ = app.emit(events::OPEN_SERVER, &open);
    } else if let Some(state) = &state {
        state.set_pending_open(open);
    }
    if let Err(e) = crate::show_main_window(app) {
        tracing::error!("could not open the window: {e}");
    }
}

/// Carries out the `latchkey:` links among a launch's arguments (the tray starts the window
/// as `latchkey-app --window [link]`, and a second launch's arguments arrive through the
/// single-instance plugin passes on); how many it opened. The deep-link plugin's own reading of the
/// arguments only takes a link that is the sole argument.
pub fn open_args<R: Runtime>(app: &AppHandle<R>, args: &[String]) -> usize {
    links::read_args(args)
        .into_iter()
        .filter(|read| match read {
            Ok(action) => {
                carry_out(app, action);
                true
            }
            Err(e) => {
                tracing::warn!("ignored a link: {e}");
                false
            }
        })
        .count()
}

/// Listens for links while the app runs (where the desktop delivers them to the running app),
/// and carries out those it was started with.
#[cfg(desktop)]
pub fn listen<R: Runtime>(app: &AppHandle<R>) {
    use tauri_plugin_deep_link::DeepLinkExt;
    let handle = app.clone();
    app.deep_link().on_open_url(move |event| {
        for url in event.urls() {
            let app = handle.clone();
            let link = url.to_string();
            // Events arrive on any thread; windows are made on the event loop's.
            let _ = handle.run_on_main_thread(move || {
                if let Err(e) = open(&app, &link) {
                    tracing::warn!("ignored a link: {e}");
                }
            });
        }
    });
    let args: Vec<String> = std::env::args().skip(1).collect();
    open_args(app, &args);
}
