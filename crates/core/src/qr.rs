//! QR codes of the address a person opens on another device to sign in (RFC 8628 section
//! 3.3.1: `verification_uri_complete` as a QR code saves typing the code). One renderer for
//! the fronts: text for the terminal, SVG for the window.

use qrcode::render::{svg, unicode};
use qrcode::{EcLevel, QrCode};

/// The longest text made into a QR code: an address longer than this is no address a phone
/// camera should be pointed at.
const MAX_TEXT: usize = 1024;

fn code(text: &str) -> Option<QrCode> {
    if text.is_empty() || text.len() > MAX_TEXT {
        return None;
    }
    // Low error correction keeps the code small enough for an 80-column terminal.
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::L).ok()
}

/// `text` as a QR code in Unicode half blocks (two rows of modules per line), dark on a
/// light quiet zone, for a terminal with any color scheme. None when it cannot be made.
pub fn terminal(text: &str) -> Option<String> {
    let c = code(text)?;
    Some(
        c.render::<unicode::Dense1x2>()
            .dark_color(unicode::Dense1x2::Light)
            .light_color(unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    )
}

/// `text` as a QR code in SVG (black on white, 4 pixels a module, with its quiet zone), for
/// the window to show as an image. None when it cannot be made.
pub fn svg(text: &str) -> Option<String> {
    let c = code(text)?;
    Some(
        c.render::<svg::Color<'_>>()
            .min_dimensions(160, 160)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .quiet_zone(true)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "https://as.example.com/device?user_code=WDJB-MJHT";

    #[test]
    fn the_terminal_code_is_half_blocks_of_equal_width() {
        let t = terminal(URI).unwrap();
        let lines: Vec<&str> = t.lines().collect();
        let width = lines[0].chars().count();
        assert!(width <= 80, "{width} columns");
        assert!(lines.iter().all(|l| l.chars().count() == width));
        assert!(
            t.chars().all(|c| matches!(c, ' ' | '█' | '▀' | '▄' | '\n')),
            "{t}"
        );
    }

    #[test]
    fn the_svg_is_an_svg_image() {
        let s = svg(URI).unwrap();
        assert!(s.contains("<svg") && s.ends_with("</svg>"), "{s}");
        assert!(!s.contains("<script"));
    }

    #[test]
    fn nothing_is_made_of_an_empty_or_huge_text() {
        assert!(terminal("").is_none());
        assert!(svg(&"x".repeat(5000)).is_none());
    }
}
