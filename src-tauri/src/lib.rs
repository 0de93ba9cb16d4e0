//! Latchkey's window: the dashboard, the sign-in wizard and "why", over the commands and
//! events the UI talks to. Every rule of the product lives in `latchkey-core`; this crate only
//! wires it to Tauri.
//!
//! The tray is another program (`latchkey-tray`, in src-tauri/tray) that never loads WebKit:
//! `latchkey-app` becomes it ([`launch`]) unless started with `--window`, and the tray
//! starts `latchkey-app --window [link]` when the window is asked for. Closing the window ends
//! this process, so a closed window costs no memory at all.
//!
//! Startup is generic over the Tauri runtime ([`build_app`], [`run_app`]) so that it can be
//! driven by `tauri::test::mock_builder()` in tests; [`run`] is the real app.

use tauri::{App, AppHandle, Builder, Context, Manager, Runtime, WebviewWindow};

pub mod api;
pub mod bindings;
pub mod commands;
pub mod launch;
pub mod links;
pub mod live;
pub mod state;
pub mod tray_link;
pub mod webkit;

/// Label of the main window; its settings are the `app.windows` entry with this label in
/// tauri.conf.json (marked `"create": false`: the shell creates it, see [`show_main_window`]).
pub const MAIN_WINDOW: &str = "main";

/// Show and focus the main window, creating it from its configuration if it does not exist.
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

/// Every command the UI may call.
pub fn with_commands<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        commands::dashboard,
        commands::last_health,
        commands::overview,
        commands::probe_all,
        commands::plan_sign_in,
        commands::edit_scopes,
        commands::provider_presets,
        commands::redirect_uri,
        commands::plan_sign_in_with_provider,
        commands::confirm_pkce,
        commands::forget_pkce,
        commands::sign_in,
        commands::cancel_sign_in,
        commands::paste_sign_in_answer,
        commands::sign_out,
        commands::hand_off,
        commands::use_in,
        commands::connect_tools,
        commands::disconnect_tools,
        commands::why,
        commands::export_diagnostics,
        commands::show_in_folder,
        commands::take_pending_open,
        commands::get_settings,
        commands::set_start_at_login,
    ])
}

/// Build the app with `state`: the window, then (in the background) the live data.
pub fn build_app_with<R: Runtime>(
    builder: Builder<R>,
    context: Context<R>,
    state: state::AppState,
    live_data: bool,
) -> tauri::Result<App<R>> {
    with_commands(builder)
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
            show_main_window(app.handle())?;
            links::listen(app.handle());
            if live_data {
                live::start(app.handle());
            } else if let Some(state) = app.try_state::<state::AppState>() {
                // No monitor at all: the commands probe in this window.
                state.set_monitor(state::Monitor::Alone);
            }
            Ok(())
        })
        .build(context)
}

/// The window closed: nothing listens any more (the process ends with it).
fn on_main_window_event<R: Runtime>(app: &AppHandle<R>, event: &tauri::WindowEvent) {
    if let (tauri::WindowEvent::Destroyed, Some(state)) =
        (event, app.try_state::<state::AppState>())
    {
        state.set_window_ready(false);
    }
}

/// Build the app for this user (keychain and config locations from the environment).
pub fn build_app<R: Runtime>(builder: Builder<R>, context: Context<R>) -> tauri::Result<App<R>> {
    build_app_with(builder, context, state::AppState::from_env(), true)
}

/// Run a built app's event loop until its window closes.
pub fn run_until_quit<R: Runtime>(app: App<R>) {
    app.run(|_, _| {});
}

/// Build the app and run it until its window closes.
pub fn run_app<R: Runtime>(builder: Builder<R>, context: Context<R>) -> tauri::Result<()> {
    run_until_quit(build_app(builder, context)?);
    Ok(())
}

/// The app's context: tauri.conf.json, the icons, and the capabilities (the ACL) as
/// tauri-build compiled them. Generic so that tests run the real ACL on the mock runtime.
pub fn context<R: Runtime>() -> Context<R> {
    tauri::generate_context!()
}

/// The real window, with the wry runtime and the context from tauri.conf.json. One window per
/// user session: a second `--window` launch (the tray asking for the window again, maybe
/// with a link) hands its link to the first, which comes to the front, and exits.
pub fn run() -> tauri::Result<()> {
    let builder =
        tauri::Builder::default().plugin(tauri_plugin_single_instance::init(|app, args, _cwd| {
            let links: Vec<String> = args.into_iter().skip(1).collect();
            if links::open_args(app, &links) == 0 {
                if let Err(e) = show_main_window(app) {
                    tracing::error!("could not show the window for a second launch: {e}");
                }
            }
        }));
    run_app(builder, context())
}
