//! Text from servers and files made safe to print on a terminal: a sign-in server's
//! `error_description`, a tool's name or result, a scope. Such text may carry escape
//! sequences (an OSC that retitles the window, a cursor move that hides a line) or bidi
//! controls that make a line read differently from what it holds; printed as is, the
//! terminal would obey them.

use std::borrow::Cow;

/// `text` with every character a terminal would act on made visible instead:
/// - C0 controls except line feed and tab, and DEL, in caret notation (`ESC` is `^[`,
///   `BEL` is `^G`, carriage return is `^M`), so an escape sequence prints as text;
/// - C1 controls (U+0080–U+009F) and the bidi controls (U+061C, U+200E, U+200F,
///   U+202A–U+202E, U+2066–U+2069) as `<U+XXXX>`.
///
/// The result is plain ASCII where it changed anything, so it stays valid inside a JSON
/// string. Text without such characters is returned unchanged (borrowed).
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(acted_on) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !acted_on(c) {
            out.push(c);
        } else if (c as u32) < 0x20 {
            out.push('^');
            out.push(char::from(b'@' + c as u8));
        } else if c == '\u{7f}' {
            out.push_str("^?");
        } else {
            out.push_str(&format!("<U+{:04X}>", c as u32));
        }
    }
    Cow::Owned(out)
}

/// Whether a terminal would act on `c` rather than show it.
fn acted_on(c: char) -> bool {
    match c {
        '\n' | '\t' => false,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_bidi_controls_print_as_text() {
        let hostile = "bad code\x1b]0;pwned\x07 \x1b[2J\r\u{202e}evil\u{2066}x\u{9b}31m";
        let out = for_terminal(hostile);
        assert!(!out.chars().any(acted_on), "{out:?}");
        assert_eq!(
            out,
            "bad code^[]0;pwned^G ^[[2J^M<U+202E>evil<U+2066>x<U+009B>31m"
        );
        assert!(serde_json::from_str::<String>(&format!("\"{out}\"")).is_ok());
    }

    #[test]
    fn ordinary_text_is_untouched_and_borrowed() {
        let s = "Ünïcode 日本語 🔑\n\tline two";
        assert!(matches!(for_terminal(s), Cow::Borrowed(x) if x == s));
        assert_eq!(for_terminal("a\u{7f}"), "a^?");
    }
}
