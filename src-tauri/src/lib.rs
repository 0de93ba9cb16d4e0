//! Latchkey's desktop shell: the tray, the main window and (later) the commands and events
//! the UI talks to. Every rule of the product lives in `latchkey-core`; this crate only
//! wires it to Tauri.
//!
//! Startup is generic over the Tauri runtime ([`build_app`], [`run_app`]) so that it can be
//! driven by `tauri::test::mock_builder()` in tests; [`run`] is the real app.

use tauri::{App, AppHandle, Builder, Context, Manager, RunEvent, Runtime, WebviewWindow};

pub mod api;
pub mod bindings;
pub mod commands;
pub mod links;
pub mod live;
pub mod notify;
pub mod reauth;
pub mod state;
pub mod tray;
pub mod webkit;

pub use tray::{set_tray_state, tray_state, TrayState};

/// Label of the main window; its settings are the `app.windows` entry with this label in
/// tauri.conf.json (marked `"create": false`: the shell creates it, see [`show_main_window`]).
pub const MAIN_WINDOW: &str = "main";

/// What a tray menu item does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuAction {
    /// Show the main window, creating it again if it was closed.
    Open,
    /// Leave the app (the only way out: closing the window keeps the tray).
    Quit,
}

impl MenuAction {
    /// The action of a menu item id, if it is one of ours.
    pub fn from_id(id: &str) -> Option<Self> {
        match id {
            tray::MENU_OPEN => Some(Self::Open),
            tray::MENU_QUIT => Some(Self::Quit),
            _ => None,
        }
    }
}

/// Carry out a menu action.
pub fn perform<R: Runtime>(app: &AppHandle<R>, action: MenuAction) -> tauri::Result<()> {
    match action {
        MenuAction::Open => show_main_window(app).map(|_| ()),
        MenuAction::Quit => {
            app.exit(0);
            Ok(())
        }
    }
}

/// Whether an exit request should be refused so that the app stays in the tray.
///
/// Tauri asks with `code: None` when the last window closed, and with `Some(code)` when the
/// app itself asked to exit ([`MenuAction::Quit`]).
pub fn keep_running_on_exit_request(code: Option<i32>) -> bool {
    code.is_none()
}

/// Show and focus the main window, creating it (again) from its configuration if it does
/// not exist: closing the window destroys its webview, so nothing runs while it is hidden.
pub fn show_main_window<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<WebviewWindow<R>> {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        window.unminimize()?;
        window.show()?;
        window.set_focus()?;
        return Ok(window);
    }
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == MAIN_WINDOW)
        .cloned()
        .ok_or_else(|| {
            anyhow::anyhow!("tauri.conf.json has no app.windows entry labelled {MAIN_WINDOW:?}")
        })?;
    tauri::WebviewWindowBuilder::from_config(app, &config)?.build()
}

/// Whether the window opens at start: the app starts in the tray unless
/// `LATCHKEY_SHOW_WINDOW_AT_START=1` (for screenshots and tests).
pub fn show_window_at_start() -> bool {
    matches!(
        std::env::var("LATCHKEY_SHOW_WINDOW_AT_START").as_deref(),
        Ok("1" | "true" | "yes")
    )
}

/// Every command the UI may call.
pub fn with_commands<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        commands::dashboard,
        commands::last_health,
        commands::probe_all,
        commands::plan_sign_in,
        commands::edit_scopes,
        commands::sign_in,
        commands::cancel_sign_in,
        commands::sign_out,
        commands::hand_off,
        commands::why,
        commands::export_diagnostics,
        commands::take_pending_open,
        commands::get_settings,
        commands::set_start_at_login,
    ])
}

/// Build the app with `state`: the tray first, then (in the background) the live data;
/// the window only when asked for.
pub fn build_app_with<R: Runtime>(
    builder: Builder<R>,
    context: Context<R>,
    state: state::AppState,
    live_data: bool,
) -> tauri::Result<App<R>> {
    with_commands(builder)
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_autostart::Builder::new().build())
        .manage(state)
        .on_page_load(|webview, payload| {
            if webview.label() == MAIN_WINDOW
                && payload.event() == tauri::webview::PageLoadEvent::Finished
            {
                if let Some(state) = webview.try_state::<state::AppState>() {
                    state.set_window_ready(true);
                }
                // A view asked for while the page loaded: said once the page's listeners are
                // set up (the page may also have asked with `take_pending_open` by then).
                let app = webview.app_handle().clone();
                tauri::async_runtime::spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    if let Some(open) = app
                        .try_state::<state::AppState>()
                        .and_then(|s| s.take_pending_open())
                    {
                        let _ = tauri::Emitter::emit(&app, api::events::OPEN_SERVER, &open);
                    }
                });
            }
        })
        .on_window_event(|window, event| {
            if window.label() == MAIN_WINDOW {
                on_main_window_event(window.app_handle(), event);
            }
        })
        .setup(move |app| {
            tray::create(app.handle())?;
            live::tray_ready();
            notify::listen_for_clicks(app.handle());
            if show_window_at_start() {
                show_main_window(app.handle())?;
            }
            links::listen(app.handle());
            if live_data {
                live::start(app.handle());
            }
            Ok(())
        })
        .build(context)
}

/// The window was focused: show the server a notification (or the tray, or a link) asked for
/// meanwhile, where the desktop did not report the click. A window whose page is still
/// loading hears it once loaded (or asks for it with `take_pending_open`).
fn on_main_window_event<R: Runtime>(app: &AppHandle<R>, event: &tauri::WindowEvent) {
    let Some(state) = app.try_state::<state::AppState>() else {
        return;
    };
    match event {
        tauri::WindowEvent::Focused(true) if state.window_ready() => {
            if let Some(open) = state.take_pending_open() {
                let _ = tauri::Emitter::emit(app, api::events::OPEN_SERVER, &open);
            }
        }
        tauri::WindowEvent::Destroyed => {
            state.set_window_ready(false);
            webkit::free_network_process();
        }
        _ => {}
    }
}

/// Build the app for this user (keychain and config locations from the environment).
pub fn build_app<R: Runtime>(builder: Builder<R>, context: Context<R>) -> tauri::Result<App<R>> {
    build_app_with(builder, context, state::AppState::from_env(), true)
}

/// Run a built app's event loop until [`MenuAction::Quit`]; closing the last window does
/// not end it (the app stays in the tray).
pub fn run_until_quit<R: Runtime>(app: App<R>) {
    app.run(on_run_event);
}

/// Build the app and run it until [`MenuAction::Quit`].
pub fn run_app<R: Runtime>(builder: Builder<R>, context: Context<R>) -> tauri::Result<()> {
    run_until_quit(build_app(builder, context)?);
    Ok(())
}

fn on_run_event<R: Runtime>(_app: &AppHandle<R>, event: RunEvent) {
    if let RunEvent::ExitRequested { code, api, .. } = &event {
        if keep_running_on_exit_request(*code) {
            api.prevent_exit();
        }
    }
}

/// The app's context: tauri.conf.json, the icons, and the capabilities (the ACL) as
/// tauri-build compiled them. Generic so that tests run the real ACL on the mock runtime.
pub fn context<R: Runtime>() -> Context<R> {
    tauri::generate_context!()
}

/// The real app, with the wry runtime and the context from tauri.conf.json. One instance per
/// user session: a second launch (e.g. the desktop opening a `latchkey://` link) hands its
/// link to the first, which shows its window, and exits.
pub fn run() -> tauri::Result<()> {
    let builder =
        tauri::Builder::default().plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            // The link itself reaches links::listen through the deep-link plugin.
            if let Err(e) = show_main_window(app) {
                tracing::error!("could not show the window for a second launch: {e}");
            }
        }));
    run_app(builder, context())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menu_ids_map_to_actions() {
        assert_eq!(MenuAction::from_id("open"), Some(MenuAction::Open));
        assert_eq!(MenuAction::from_id("quit"), Some(MenuAction::Quit));
        assert_eq!(MenuAction::from_id("something-else"), None);
    }

    #[test]
    fn closing_the_last_window_keeps_the_app_but_quit_exits() {
        assert!(keep_running_on_exit_request(None));
        assert!(!keep_running_on_exit_request(Some(0)));
    }
}
