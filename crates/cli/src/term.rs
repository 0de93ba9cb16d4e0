//! What the command line prints, made safe for a terminal (see `latchkey_core::terminal_text`).
//! The crate's `println!`/`eprintln!` (in `main.rs`) call [`clean`] on every line.

use latchkey_core::terminal_text::for_terminal;
use std::borrow::Cow;

/// `line` with escape sequences, other control characters and bidi controls made visible.
pub fn clean(line: &str) -> Cow<'_, str> {
    for_terminal(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_core::error::{OAuthError, OAuthStage};
    use latchkey_core::Error;

    /// A sign-in server's `error_description` that tries to retitle the terminal and to
    /// reverse the line is printed as text.
    #[test]
    fn a_servers_error_description_cannot_drive_the_terminal() {
        let e = Error::OAuth(OAuthError {
            stage: OAuthStage::TokenExchange,
            code: "invalid_grant\u{1b}[2J".into(),
            description: Some("expired\u{1b}]0;pwned\u{7}\u{202e}gnp.exe".into()),
            uri: None,
        });
        let printed = clean(&format!("latchkey: {e}. {}", e.hint())).into_owned();
        assert!(!printed.contains('\u{1b}'), "{printed:?}");
        assert!(!printed.contains('\u{7}'), "{printed:?}");
        assert!(!printed.contains('\u{202e}'), "{printed:?}");
        assert!(
            printed.contains("^[]0;pwned^G<U+202E>gnp.exe"),
            "{printed:?}"
        );
    }
}
