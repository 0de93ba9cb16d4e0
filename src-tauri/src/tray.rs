//! The tray icon, its menu, and its state (ok, warning, needs auth).

use std::sync::Mutex;

use latchkey_core::dashboard::Overall;
use latchkey_core::health::{Health, ServerHealth};

use tauri::{
    image::Image,
    menu::{Menu, MenuItem, PredefinedMenuItem},
    tray::TrayIconBuilder,
    AppHandle, Manager, Runtime,
};

/// Id of the app's tray icon (`app.tray_by_id(TRAY_ID)`).
pub const TRAY_ID: &str = "latchkey";
/// Menu item id: show the main window.
pub const MENU_OPEN: &str = "open";
/// Menu item id: quit the app.
pub const MENU_QUIT: &str = "quit";

/// What the tray shows about the servers, worst first wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrayState {
    /// Every server can sign in.
    #[default]
    Ok,
    /// Something needs a look soon (e.g. a token that cannot be refreshed).
    Warning,
    /// At least one server needs the user to sign in.
    NeedsAuth,
}

impl TrayState {
    /// The PNG shown in the tray for this state (from icons/, see icons/generate.py).
    pub fn icon_png(self) -> &'static [u8] {
        match self {
            Self::Ok => include_bytes!("../../icons/tray-ok.png"),
            Self::Warning => include_bytes!("../../icons/tray-warning.png"),
            Self::NeedsAuth => include_bytes!("../../icons/tray-needs-auth.png"),
        }
    }

    /// The tray tooltip for this state.
    pub fn tooltip(self) -> &'static str {
        match self {
            Self::Ok => "Latchkey: all servers can sign in",
            Self::Warning => "Latchkey: a server needs attention",
            Self::NeedsAuth => "Latchkey: a server needs you to sign in",
        }
    }

    fn icon(self) -> tauri::Result<Image<'static>> {
        Image::from_bytes(self.icon_png())
    }
}

/// The shell's record of the tray: its menu (kept so it can be inspected and changed later)
/// and the state it shows.
struct TrayRecord<R: Runtime> {
    menu: Mutex<Menu<R>>,
    state: Mutex<TrayState>,
}

/// Prefix of a server's menu item id; the rest is its canonical URL.
pub const MENU_SERVER_PREFIX: &str = "server:";

/// One line of the tray menu per server: its title and its status in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLine {
    pub url: String,
    pub label: String,
}

/// Menu item id of the line that says what keeps Latchkey from reading its data.
pub const MENU_PROBLEM: &str = "problem";

/// The tray menu: what is wrong, if something keeps Latchkey from working (e.g. the keychain
/// cannot be read; choosing it opens the window), one item per server, "Open Latchkey", a
/// separator, "Quit".
pub fn build_menu<R: Runtime, M: Manager<R>>(
    manager: &M,
    servers: &[ServerLine],
    problem: Option<&str>,
) -> tauri::Result<Menu<R>> {
    let menu = Menu::new(manager)?;
    let item = |id: &str, text: &str, enabled: bool| -> tauri::Result<()> {
        menu.append(&MenuItem::with_id(
            manager,
            id,
            text,
            enabled,
            None::<&str>,
        )?)
    };
    let separator =
        || -> tauri::Result<()> { menu.append(&PredefinedMenuItem::separator(manager)?) };
    if let Some(problem) = problem {
        item(MENU_PROBLEM, problem, true)?;
        separator()?;
    }
    if servers.is_empty() && problem.is_none() {
        item("no-servers", "No remote MCP servers found yet", false)?;
    }
    for s in servers {
        item(&format!("{MENU_SERVER_PREFIX}{}", s.url), &s.label, true)?;
    }
    separator()?;
    item(MENU_OPEN, "Open Latchkey", true)?;
    separator()?;
    item(MENU_QUIT, "Quit", true)?;
    Ok(menu)
}

/// The tray state for the worst status among the servers.
pub fn state_of(overall: Overall) -> TrayState {
    match overall {
        Overall::Ok => TrayState::Ok,
        Overall::Warning => TrayState::Warning,
        Overall::NeedsSignIn => TrayState::NeedsAuth,
    }
}

/// A server's status in a few words, for its menu item.
pub fn status_words(h: Option<&ServerHealth>) -> &'static str {
    match h.map(|h| h.health) {
        None => "checking…",
        Some(Health::Working) | Some(Health::Refreshable) => "working",
        Some(Health::ExpiringSoon) => "expires soon",
        Some(Health::NeedsSignIn) => "needs sign-in",
        Some(Health::NeverSignedIn) => "not signed in",
        Some(Health::Unreachable) => "unreachable",
        Some(Health::Misconfigured) => "misconfigured",
    }
}

/// Shows the servers' current health in the tray: the icon for the worst, one menu line
/// each. Best effort: a tray that cannot be updated is logged, never fatal.
pub fn refresh<R: Runtime>(app: &AppHandle<R>) {
    let Some(state) = app.try_state::<crate::state::AppState>() else {
        return;
    };
    let health = state.last_health();
    let line = |url: String, title: String| {
        let h = health.iter().find(|h| h.server == url);
        ServerLine {
            label: format!("{title} — {}", status_words(h)),
            url,
        }
    };
    let (lines, problem): (Vec<ServerLine>, Option<String>) =
        match crate::commands::dashboard_now(&state) {
            Ok(d) => (
                d.servers
                    .into_iter()
                    .filter(|s| s.url_problem.is_none())
                    .map(|s| line(s.url, s.title))
                    .collect(),
                None,
            ),
            // The keychain could not be read: the servers are still listed from the config
            // files, under a line that says what is wrong.
            Err(e) => {
                tracing::warn!("the dashboard cannot be built: {e}");
                (
                    latchkey_core::inventory::scan(&state.locations)
                        .servers
                        .into_iter()
                        .filter(|s| s.url_problem.is_none())
                        .map(|s| {
                            let title = s.names.first().cloned().unwrap_or_else(|| s.url.clone());
                            line(s.url, title)
                        })
                        .collect(),
                    Some(problem_line(&e)),
                )
            }
        };
    if let Some(p) = &problem {
        tracing::warn!("tray: {p}");
    }
    tracing::debug!(
        "tray: {:?}",
        lines.iter().map(|l| &l.label).collect::<Vec<_>>()
    );
    let app2 = app.clone();
    let mut tray_state = state_of(Overall::worst(&health));
    if problem.is_some() && tray_state == TrayState::Ok {
        tray_state = TrayState::Warning;
    }
    // Tray and menus live on the event loop's thread.
    let _ = app.run_on_main_thread(move || {
        if let Err(e) = apply(&app2, tray_state, &lines, problem.as_deref()) {
            tracing::warn!("could not update the tray: {e}");
        }
    });
}

/// A menu line for what keeps the app from working, in the catalogue's words (e.g. "The
/// keychain is locked or unavailable").
pub fn problem_line(e: &latchkey_core::Error) -> String {
    format!("⚠ {}", latchkey_core::reasons::from_error(e).title)
}

fn apply<R: Runtime>(
    app: &AppHandle<R>,
    state: TrayState,
    lines: &[ServerLine],
    problem: Option<&str>,
) -> tauri::Result<()> {
    set_tray_state(app, state)?;
    let menu = build_menu(app, lines, problem)?;
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        tray.set_menu(Some(menu.clone()))?;
    }
    if let Some(record) = app.try_state::<TrayRecord<R>>() {
        *record.menu.lock().unwrap_or_else(|e| e.into_inner()) = menu;
    }
    Ok(())
}

/// Create the tray icon in the [`TrayState::Ok`] state.
pub(crate) fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let menu = build_menu(app, &[], None)?;
    let state = TrayState::default();
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(state.icon()?)
        .tooltip(state.tooltip())
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| {
            if event.id().as_ref() == MENU_PROBLEM {
                if let Err(err) = crate::show_main_window(app) {
                    tracing::error!("could not open the window: {err}");
                }
                return;
            }
            if let Some(url) = event.id().as_ref().strip_prefix(MENU_SERVER_PREFIX) {
                crate::reauth::server_chosen(app, url.to_string());
                return;
            }
            if let Some(action) = crate::MenuAction::from_id(event.id().as_ref()) {
                if let Err(err) = crate::perform(app, action) {
                    tracing::error!("tray menu {action:?} failed: {err}");
                }
            }
        })
        .build(app)?;
    app.manage(TrayRecord {
        menu: Mutex::new(menu),
        state: Mutex::new(state),
    });
    Ok(())
}

/// The tray's menu, once the tray exists.
pub fn tray_menu<R: Runtime>(app: &AppHandle<R>) -> Option<Menu<R>> {
    app.try_state::<TrayRecord<R>>()
        .map(|r| r.menu.lock().unwrap_or_else(|e| e.into_inner()).clone())
}

/// The state the tray shows, once the tray exists.
pub fn tray_state<R: Runtime>(app: &AppHandle<R>) -> Option<TrayState> {
    app.try_state::<TrayRecord<R>>()
        .map(|r| *r.state.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Show `state` in the tray (icon and tooltip).
pub fn set_tray_state<R: Runtime>(app: &AppHandle<R>, state: TrayState) -> tauri::Result<()> {
    let tray = app
        .tray_by_id(TRAY_ID)
        .ok_or_else(|| anyhow::anyhow!("the tray icon {TRAY_ID:?} does not exist"))?;
    tray.set_icon(Some(state.icon()?))?;
    tray.set_tooltip(Some(state.tooltip()))?;
    if let Some(record) = app.try_state::<TrayRecord<R>>() {
        *record.state.lock().unwrap_or_else(|e| e.into_inner()) = state;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_keychain_is_one_plain_line_in_the_menu() {
        let e = latchkey_core::Error::Keychain {
            store: "Secret Service, service \"latchkey\"".into(),
            detail: "DBus error: org.freedesktop.secrets was not provided".into(),
        };
        assert_eq!(problem_line(&e), "⚠ The keychain is locked or unavailable");
    }

    #[test]
    fn every_state_has_a_distinct_decodable_icon() {
        let states = [TrayState::Ok, TrayState::Warning, TrayState::NeedsAuth];
        for (i, a) in states.iter().enumerate() {
            let image = a.icon().expect("tray PNG decodes");
            assert_eq!((image.width(), image.height()), (64, 64));
            for b in &states[i + 1..] {
                assert_ne!(a.icon_png(), b.icon_png());
                assert_ne!(a.tooltip(), b.tooltip());
            }
        }
    }
}
