//! The tray icon, its menu, and its state (ok, warning, needs auth).

use std::sync::Mutex;

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
    menu: Menu<R>,
    state: Mutex<TrayState>,
}

/// The tray menu: "Open Latchkey", a separator, "Quit".
pub fn build_menu<R: Runtime, M: Manager<R>>(manager: &M) -> tauri::Result<Menu<R>> {
    let open = MenuItem::with_id(manager, MENU_OPEN, "Open Latchkey", true, None::<&str>)?;
    let quit = MenuItem::with_id(manager, MENU_QUIT, "Quit", true, None::<&str>)?;
    Menu::with_items(
        manager,
        &[&open, &PredefinedMenuItem::separator(manager)?, &quit],
    )
}

/// Create the tray icon in the [`TrayState::Ok`] state.
pub(crate) fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let menu = build_menu(app)?;
    let state = TrayState::default();
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(state.icon()?)
        .tooltip(state.tooltip())
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| {
            if let Some(action) = crate::MenuAction::from_id(event.id().as_ref()) {
                if let Err(err) = crate::perform(app, action) {
                    tracing::error!("tray menu {action:?} failed: {err}");
                }
            }
        })
        .build(app)?;
    app.manage(TrayRecord {
        menu,
        state: Mutex::new(state),
    });
    Ok(())
}

/// The tray's menu, once the tray exists.
pub fn tray_menu<R: Runtime>(app: &AppHandle<R>) -> Option<Menu<R>> {
    app.try_state::<TrayRecord<R>>().map(|r| r.menu.clone())
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
