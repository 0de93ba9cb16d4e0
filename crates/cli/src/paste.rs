//! `latchkey login`'s paste-back: when the sign-in's answer cannot come back to this machine
//! by itself (core's `SignInEvent::Method` says so), standard input (a terminal or a pipe) is
//! read for the address the browser ended on, line by line, and each line is fed to the
//! waiting sign-in (core's `oauth::paste_back` checks it). What the person pastes holds the
//! sign-in code: it is never printed or logged here.

use latchkey_core::usecase::{PasteBack, PasteOutcome, SignInEvent, SignInMethod};
use latchkey_core::Secret;
use std::io::{BufRead, IsTerminal};
use std::sync::Mutex;

/// What the sign-in said so far, to know when to start reading and what to say.
#[derive(Default)]
struct Seen {
    redirect_uri: Option<String>,
    method: Option<SignInMethod>,
    started: bool,
}

/// The progress callback of a sign-in that takes pasted answers: prints each event as the
/// other commands do, then, once the sign-in page is shown and the answer cannot come back
/// by itself, explains what to paste and starts reading standard input (once).
pub struct PasteReader {
    paste: PasteBack,
    json: bool,
    seen: Mutex<Seen>,
}

impl PasteReader {
    pub fn new(paste: PasteBack, json: bool) -> Self {
        PasteReader {
            paste,
            json,
            seen: Mutex::default(),
        }
    }

    pub fn on_event(&self, e: &SignInEvent) {
        crate::output::sign_in_event(e, self.json);
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        match e {
            SignInEvent::Listening { redirect_uri } => {
                seen.redirect_uri = Some(redirect_uri.clone())
            }
            SignInEvent::Method { method, .. } => seen.method = Some(*method),
            SignInEvent::SignInPage { .. } => {
                let pasting = !matches!(seen.method, Some(SignInMethod::Browser) | None);
                if !pasting && !seen.started {
                    // A browser opened, but it may not reach this machine (a $BROWSER that
                    // runs elsewhere): a pasted address is still taken, without a prompt.
                    seen.started = true;
                    let paste = self.paste.clone();
                    let json = self.json;
                    std::thread::spawn(move || read_pastes(paste, json, false));
                }
                if pasting && !seen.started {
                    seen.started = true;
                    let redirect = seen
                        .redirect_uri
                        .clone()
                        .unwrap_or_else(|| "http://127.0.0.1:PORT/callback".into());
                    let terminal = std::io::stdin().is_terminal();
                    if !self.json {
                        let lead = if seen.method == Some(SignInMethod::ForwardedPort) {
                            // The forwarded port may bring the answer by itself.
                            "If the browser ends on a page that could not be reached after you sign in,"
                        } else {
                            "After you sign in, the browser ends on a page that could not be reached."
                        };
                        eprintln!(
                            "{lead} Copy the whole address from its address bar (it starts with {redirect}?code=) and paste it here{}.",
                            if terminal { ", then press Enter" } else { " (standard input)" }
                        );
                    }
                    let paste = self.paste.clone();
                    let json = self.json;
                    std::thread::spawn(move || read_pastes(paste, json, terminal));
                }
            }
            _ => {}
        }
    }
}

/// Reads standard input a line at a time (each at most `MAX_LINE` bytes: the rest of a longer
/// line is skipped) and feeds each non-blank line to the sign-in, saying what came of it. Ends
/// at the end of standard input (the listener keeps waiting), or when the sign-in no longer
/// waits.
fn read_pastes(paste: PasteBack, json: bool, terminal: bool) {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    loop {
        if terminal && !json {
            eprint!("Address: ");
        }
        let Some(line) = read_line(&mut input) else {
            if terminal && !json {
                eprintln!();
            }
            return;
        };
        if line.trim().is_empty() {
            continue;
        }
        match paste.submit_blocking(Secret::new(line)) {
            PasteOutcome::Accepted => {
                if json {
                    eprintln!("{}", serde_json::json!({ "event": "paste_accepted" }));
                } else {
                    eprintln!("Got the sign-in answer from the pasted address.");
                }
                return;
            }
            PasteOutcome::Ended { .. } | PasteOutcome::NotWaiting => return,
            PasteOutcome::NotTheAnswer { message, left } => {
                if json {
                    eprintln!(
                        "{}",
                        serde_json::json!({ "event": "paste_refused", "message": message, "left": left })
                    );
                } else if left > 0 {
                    eprintln!(
                        "{message} Latchkey is still waiting ({left} more {} before the sign-in stops).",
                        if left == 1 { "try" } else { "tries" }
                    );
                } else {
                    eprintln!("{message}");
                }
                if left == 0 {
                    return;
                }
            }
        }
    }
}

/// The longest line kept; a longer one is cut here (the core refuses it as too long).
const MAX_LINE: usize = latchkey_core::oauth::paste_back::MAX_PASTE + 1;

/// One line of `input` without its line end, at most [`MAX_LINE`] bytes of it; None at the
/// end of input (or on a read error).
fn read_line(input: &mut impl BufRead) -> Option<String> {
    let mut line = Vec::new();
    let mut any = false;
    loop {
        let buf = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        };
        if buf.is_empty() {
            return any.then(|| String::from_utf8_lossy(&line).into_owned());
        }
        any = true;
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        let room = MAX_LINE.saturating_sub(line.len());
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = done.unwrap_or(buf.len());
        input.consume(used);
        if done.is_some() {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Some(String::from_utf8_lossy(&line).into_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_read_bounded() {
        let long = "x".repeat(MAX_LINE * 3);
        let text = format!("first\r\n{long}\nlast");
        let mut input = std::io::Cursor::new(text.into_bytes());
        assert_eq!(read_line(&mut input).as_deref(), Some("first"));
        assert_eq!(read_line(&mut input).map(|l| l.len()), Some(MAX_LINE));
        assert_eq!(read_line(&mut input).as_deref(), Some("last"));
        assert_eq!(read_line(&mut input), None);
    }
}
