//! The tray icon and its menu, drawn from a [`TrayView`]. GTK objects live on the main
//! thread only: other threads hand a new view over with [`show`].

use crate::model::{menu_rows, MenuChoice, TrayState, TrayView};
use std::cell::RefCell;
use tray_icon::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tray_icon::{Icon, TrayIcon, TrayIconBuilder};

thread_local! {
    static TRAY: RefCell<Option<Shown>> = const { RefCell::new(None) };
}

struct Shown {
    icon: TrayIcon,
    view: TrayView,
}

/// Decodes one of our tray PNGs into the RGBA the tray wants.
pub fn icon_of(state: TrayState) -> anyhow::Result<Icon> {
    let decoder = png::Decoder::new(std::io::Cursor::new(state.icon_png()));
    let mut reader = decoder.read_info()?;
    let mut buf = vec![0; reader.output_buffer_size().unwrap_or(0)];
    let info = reader.next_frame(&mut buf)?;
    anyhow::ensure!(
        info.color_type == png::ColorType::Rgba && info.bit_depth == png::BitDepth::Eight,
        "tray icons must be 8-bit RGBA PNGs (icons/generate.py makes them)"
    );
    buf.truncate(info.buffer_size());
    Ok(Icon::from_rgba(buf, info.width, info.height)?)
}

fn menu_of(view: &TrayView) -> anyhow::Result<Menu> {
    let menu = Menu::new();
    for row in menu_rows(view) {
        match row {
            Some((id, text, enabled)) => {
                menu.append(&MenuItem::with_id(id, text, enabled, None))?
            }
            None => menu.append(&PredefinedMenuItem::separator())?,
        }
    }
    Ok(menu)
}

/// Creates the tray icon (main thread); menu choices go to `on_choice`, on the main thread.
pub fn create(
    view: TrayView,
    on_choice: impl Fn(MenuChoice) + Send + Sync + 'static,
) -> anyhow::Result<()> {
    MenuEvent::set_event_handler(Some(move |e: MenuEvent| {
        if let Some(choice) = MenuChoice::from_id(&e.id.0) {
            on_choice(choice);
        }
    }));
    let icon = TrayIconBuilder::new()
        .with_id("latchkey")
        .with_icon(icon_of(view.state)?)
        .with_tooltip(view.state.tooltip())
        .with_menu(Box::new(menu_of(&view)?))
        .with_menu_on_left_click(true)
        .build()?;
    TRAY.with(|t| *t.borrow_mut() = Some(Shown { icon, view }));
    Ok(())
}

/// Shows `view` in the tray, from any thread. Best effort: a tray that cannot be updated is
/// logged, never fatal.
pub fn show(view: TrayView) {
    gtk::glib::MainContext::default().invoke(move || {
        if let Err(e) = apply(view) {
            tracing::warn!("could not update the tray: {e}");
        }
    });
}

fn apply(view: TrayView) -> anyhow::Result<()> {
    TRAY.with(|t| {
        let mut t = t.borrow_mut();
        let Some(shown) = t.as_mut() else {
            return Ok(());
        };
        if shown.view == view {
            return Ok(());
        }
        tracing::info!(
            "tray: {:?} ({}) {:?}",
            view.state,
            view.headline,
            view.servers.iter().map(|s| &s.label).collect::<Vec<_>>()
        );
        if !view.detail.is_empty() && view.detail != shown.view.detail {
            tracing::info!("tray detail: {}", view.detail);
        }
        if shown.view.state != view.state {
            shown.icon.set_icon(Some(icon_of(view.state)?))?;
            shown.icon.set_tooltip(Some(view.state.tooltip()))?;
        }
        shown.icon.set_menu(Some(Box::new(menu_of(&view)?)));
        shown.view = view;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tray_icon_decodes_to_a_square_rgba_image() {
        for state in [
            TrayState::Ok,
            TrayState::Offline,
            TrayState::Warning,
            TrayState::NeedsAuth,
        ] {
            icon_of(state).unwrap_or_else(|e| panic!("{state:?}: {e}"));
        }
    }
}
