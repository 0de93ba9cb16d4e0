//! Paste-back: when the browser is on another computer (an SSH session, a container, a
//! headless server), the redirect to `http://127.0.0.1:PORT/callback?code=…&state=…` never
//! reaches Latchkey's listener: the browser shows a page that "could not be reached". The
//! person copies that address and pastes it into Latchkey (the command line's standard
//! input, the window's field); it is checked with the listener's own rule
//! ([`crate::oauth::loopback`]'s `check`: `state`, then `iss`, then `error`, then the code)
//! and finishes the sign-in, whichever of the listener and the paste comes first.
//!
//! A paste that is not this sign-in's answer (garbage, another sign-in's address, a wrong
//! `state`) is refused with what was wrong and what to paste, and the sign-in keeps waiting,
//! up to [`MAX_BAD_PASTES`] of them in a row and never beyond the sign-in's timeout. An
//! answer with `error=` (access_denied…) or from the wrong issuer ends the sign-in, as it
//! does at the listener. The pasted address holds the code: it is a [`Secret`] from the front
//! to here, and no message repeats it (at most its host, port and path).

use crate::error::{Error, Result};
use crate::oauth::loopback::{check, is_answer, Expected};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Mutex};
use ts_rs::TS;

/// The longest paste read: an answer address is far shorter (a code, a state, an issuer).
pub const MAX_PASTE: usize = 8 * 1024;

/// Pastes in a row that are not this sign-in's answer before the sign-in stops
/// ([`Error::TooManyBadPastes`]): enough for a few slips, and a script piping the wrong
/// thing fails instead of waiting out the timeout.
pub const MAX_BAD_PASTES: u32 = 5;

/// What one paste is.
#[derive(Debug)]
pub enum Verdict {
    /// This sign-in's answer: its code, or the error that ends the sign-in (the
    /// authorization server's `error=`, an `iss` of another issuer, no code).
    Answer(Result<Secret>),
    /// Not this sign-in's answer: what was wrong and what to paste instead, in words (never
    /// the pasted text). The sign-in keeps waiting.
    NotTheAnswer(String),
}

/// What to paste, said after each refusal.
fn what_to_paste(redirect_uri: &str) -> String {
    format!(
        "Paste the whole address from the browser's address bar after signing in (it starts with {redirect_uri}?code=)."
    )
}

/// Reads one pasted text against the sign-in waiting at `redirect_uri` for `expected`.
pub fn read(pasted: &str, redirect_uri: &str, expected: &Expected<'_>) -> Verdict {
    let refuse =
        |what: String| Verdict::NotTheAnswer(format!("{what} {}", what_to_paste(redirect_uri)));
    if pasted.len() > MAX_PASTE {
        return refuse(format!(
            "That is too long to be the address ({} bytes; the address is well under {MAX_PASTE}).",
            pasted.len()
        ));
    }
    // A terminal's bracketed paste marks, quotes or angle brackets around the address.
    let text = pasted.replace("\u{1b}[200~", "").replace("\u{1b}[201~", "");
    let text = text
        .trim()
        .trim_matches(|c| matches!(c, '"' | '\'' | '<' | '>'))
        .trim();
    if text.is_empty() {
        return refuse("Nothing was pasted.".into());
    }
    if text.chars().any(char::is_control) {
        return refuse(
            "That holds control characters (escape sequences, tabs or line breaks), so it is not the address.".into(),
        );
    }
    let Ok(pasted_url) = url::Url::parse(text) else {
        return refuse("That is not a web address.".into());
    };
    let Ok(ours) = url::Url::parse(redirect_uri) else {
        return refuse("This sign-in has no address to compare with.".into());
    };
    let same_place = pasted_url.scheme() == ours.scheme()
        && pasted_url.host_str() == ours.host_str()
        && pasted_url.port_or_known_default() == ours.port_or_known_default()
        && pasted_url.path() == ours.path();
    if !same_place {
        let place = format!(
            "{}://{}{}",
            pasted_url.scheme(),
            pasted_url
                .host_str()
                .map(|h| match pasted_url.port() {
                    Some(p) => format!("{h}:{p}"),
                    None => h.to_string(),
                })
                .unwrap_or_default(),
            pasted_url.path()
        );
        let loopback = matches!(
            pasted_url.host_str(),
            Some("127.0.0.1" | "localhost" | "[::1]")
        );
        let what = if loopback && pasted_url.path() == ours.path() {
            format!("That address is from another sign-in: it goes to {place}, and this sign-in waits at {redirect_uri}.")
        } else {
            format!("That address goes to {place}, not to this sign-in's {redirect_uri}.")
        };
        return refuse(crate::terminal_text::for_terminal(&what).into_owned());
    }
    let query = pasted_url.query().unwrap_or("");
    if !is_answer(query) {
        return refuse(
            "That address carries no sign-in answer (no code, state or error in it).".into(),
        );
    }
    match check(query, expected) {
        Err(Error::StateMismatch) => refuse(
            "That address is from another sign-in: its state is not the one this sign-in sent (it may be from an earlier attempt).".into(),
        ),
        other => Verdict::Answer(other),
    }
}

/// What a front is told about its paste.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PasteOutcome {
    /// The answer: the sign-in goes on to fetch the tokens.
    Accepted,
    /// The answer, and it ends the sign-in (`message`: the authorization server's error, or
    /// why it was refused, in words); the sign-in's own result says the same.
    Ended { message: String },
    /// Not this sign-in's answer (`message`: what was wrong and what to paste); the sign-in
    /// keeps waiting for `left` more tries. With `left` 0 the sign-in has stopped.
    NotTheAnswer { message: String, left: u32 },
    /// No sign-in is waiting for a paste (it finished, failed or was cancelled).
    NotWaiting,
}

type Pasted = (Secret, oneshot::Sender<PasteOutcome>);

/// The front's side: where it sends what the person pasted. Cheap to clone.
#[derive(Clone)]
pub struct PasteBack {
    tx: mpsc::UnboundedSender<Pasted>,
}

/// The sign-in's side, given in [`crate::usecase::SignInOptions`]: a sign-in waiting for its
/// answer reads pastes from it as well as from the listener.
#[derive(Clone)]
pub struct PasteInbox {
    rx: Arc<Mutex<mpsc::UnboundedReceiver<Pasted>>>,
}

impl std::fmt::Debug for PasteInbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasteInbox")
    }
}

/// A way to paste an answer into a sign-in: the front keeps the [`PasteBack`], the sign-in's
/// options get the [`PasteInbox`].
pub fn channel() -> (PasteBack, PasteInbox) {
    let (tx, rx) = mpsc::unbounded_channel();
    (
        PasteBack { tx },
        PasteInbox {
            rx: Arc::new(Mutex::new(rx)),
        },
    )
}

impl PasteBack {
    /// Gives the sign-in what the person pasted and waits for its verdict.
    pub async fn submit(&self, pasted: Secret) -> PasteOutcome {
        let (reply, verdict) = oneshot::channel();
        if self.tx.send((pasted, reply)).is_err() {
            return PasteOutcome::NotWaiting;
        }
        verdict.await.unwrap_or(PasteOutcome::NotWaiting)
    }

    /// [`PasteBack::submit`] from a thread outside the runtime (a reader of standard input).
    pub fn submit_blocking(&self, pasted: Secret) -> PasteOutcome {
        let (reply, verdict) = oneshot::channel();
        if self.tx.send((pasted, reply)).is_err() {
            return PasteOutcome::NotWaiting;
        }
        verdict.blocking_recv().unwrap_or(PasteOutcome::NotWaiting)
    }
}

/// Waits for a pasted answer for the sign-in at `redirect_uri`: its code, or the error that
/// ends the sign-in. Pastes that are not the answer are refused (each front is told why) and
/// waiting goes on, up to [`MAX_BAD_PASTES`] in a row. When no front can paste any more (the
/// [`PasteBack`] was dropped: standard input reached its end) this never returns, and the
/// listener alone may answer; the caller bounds the wait with the sign-in's timeout.
pub async fn wait(
    inbox: &PasteInbox,
    redirect_uri: &str,
    expected: Expected<'_>,
) -> Result<Secret> {
    let mut rx = inbox.rx.lock().await;
    let mut bad = 0u32;
    loop {
        let Some((pasted, reply)) = rx.recv().await else {
            return std::future::pending().await;
        };
        match read(pasted.expose(), redirect_uri, &expected) {
            Verdict::Answer(Ok(code)) => {
                let _ = reply.send(PasteOutcome::Accepted);
                return Ok(code);
            }
            Verdict::Answer(Err(e)) => {
                let _ = reply.send(PasteOutcome::Ended {
                    message: e.to_string(),
                });
                return Err(e);
            }
            Verdict::NotTheAnswer(message) => {
                bad += 1;
                let left = MAX_BAD_PASTES.saturating_sub(bad);
                let _ = reply.send(PasteOutcome::NotTheAnswer { message, left });
                if left == 0 {
                    return Err(Error::TooManyBadPastes { count: bad });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "http://127.0.0.1:9/as";
    const OURS: &str = "http://127.0.0.1:4567/callback";

    fn expected(state: &Secret, iss_required: bool) -> Expected<'_> {
        Expected {
            state,
            issuer: ISSUER,
            iss_required,
        }
    }

    fn not_the_answer(v: Verdict) -> String {
        match v {
            Verdict::NotTheAnswer(m) => m,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn the_good_address_gives_the_code() {
        let st = Secret::new("st4te-123");
        let pasted = "http://127.0.0.1:4567/callback?code=c0de-xyz&state=st4te-123&iss=http%3A%2F%2F127.0.0.1%3A9%2Fas";
        match read(pasted, OURS, &expected(&st, true)) {
            Verdict::Answer(Ok(code)) => assert_eq!(code.expose(), "c0de-xyz"),
            other => panic!("{other:?}"),
        }
        // With the spaces, quotes and bracketed-paste marks a terminal may add.
        let framed = format!("  \u{1b}[200~\"{pasted}\"\u{1b}[201~\r\n");
        assert!(matches!(
            read(&framed, OURS, &expected(&st, true)),
            Verdict::Answer(Ok(_))
        ));
    }

    #[test]
    fn a_wrong_state_is_refused_and_says_what_to_paste() {
        let st = Secret::new("st4te-123");
        let m = not_the_answer(read(
            "http://127.0.0.1:4567/callback?code=secret-c0de&state=other",
            OURS,
            &expected(&st, false),
        ));
        assert!(m.contains("another sign-in") && m.contains("state"), "{m}");
        assert!(m.contains("http://127.0.0.1:4567/callback?code="), "{m}");
        assert!(!m.contains("secret-c0de"), "{m}");
        // No state at all: the same.
        let m = not_the_answer(read(
            "http://127.0.0.1:4567/callback?code=secret-c0de",
            OURS,
            &expected(&st, false),
        ));
        assert!(m.contains("state"), "{m}");
    }

    #[test]
    fn another_sign_ins_address_is_refused() {
        let st = Secret::new("s");
        let m = not_the_answer(read(
            "http://127.0.0.1:9999/callback?code=secret-c0de&state=s",
            OURS,
            &expected(&st, false),
        ));
        assert!(
            m.contains("another sign-in") && m.contains("127.0.0.1:9999/callback"),
            "{m}"
        );
        assert!(!m.contains("secret-c0de"), "{m}");
        let m = not_the_answer(read(
            "http://127.0.0.1:4567/other?code=secret-c0de&state=s",
            OURS,
            &expected(&st, false),
        ));
        assert!(
            m.contains("127.0.0.1:4567/other") && m.contains(OURS),
            "{m}"
        );
        let m = not_the_answer(read(
            "https://as.example/authorize?client_id=x&state=s",
            OURS,
            &expected(&st, false),
        ));
        assert!(m.contains("as.example/authorize"), "{m}");
        // The address without an answer in it.
        let m = not_the_answer(read(
            "http://127.0.0.1:4567/callback?foo=bar",
            OURS,
            &expected(&st, false),
        ));
        assert!(m.contains("no sign-in answer"), "{m}");
    }

    #[test]
    fn garbage_is_refused() {
        let st = Secret::new("s");
        for g in [
            "hello",
            "not a url at all",
            "code=abc&state=s",
            "",
            "   ",
            "\u{0}\u{ff}",
        ] {
            let m = not_the_answer(read(g, OURS, &expected(&st, false)));
            assert!(m.contains("Paste the whole address"), "{g:?}: {m}");
        }
    }

    #[test]
    fn an_error_from_the_sign_in_server_ends_the_sign_in_in_its_words() {
        let st = Secret::new("s");
        let v = read(
            "http://127.0.0.1:4567/callback?error=access_denied&error_description=The+user+said+no&state=s",
            OURS,
            &expected(&st, false),
        );
        let Verdict::Answer(Err(e)) = v else {
            panic!("{v:?}")
        };
        let o = e.oauth().unwrap();
        assert_eq!(o.code, "access_denied");
        assert_eq!(o.description.as_deref(), Some("The user said no"));
        // An error with a wrong state is not believed: refused, the sign-in waits.
        not_the_answer(read(
            "http://127.0.0.1:4567/callback?error=access_denied&state=evil",
            OURS,
            &expected(&st, false),
        ));
    }

    #[test]
    fn an_iss_mismatch_ends_the_sign_in_when_iss_is_required() {
        let st = Secret::new("s");
        let v = read(
            "http://127.0.0.1:4567/callback?code=c&state=s&iss=https%3A%2F%2Fevil.example",
            OURS,
            &expected(&st, false),
        );
        assert!(
            matches!(
                v,
                Verdict::Answer(Err(Error::IssuerResponseMismatch { .. }))
            ),
            "{v:?}"
        );
        let v = read(
            "http://127.0.0.1:4567/callback?code=c&state=s",
            OURS,
            &expected(&st, true),
        );
        assert!(
            matches!(
                v,
                Verdict::Answer(Err(Error::IssuerResponseMismatch { .. }))
            ),
            "{v:?}"
        );
        // Not required and absent: fine.
        let v = read(
            "http://127.0.0.1:4567/callback?code=c&state=s",
            OURS,
            &expected(&st, false),
        );
        assert!(matches!(v, Verdict::Answer(Ok(_))), "{v:?}");
    }

    #[test]
    fn a_very_long_paste_is_refused_without_being_repeated() {
        let st = Secret::new("s");
        let long = format!(
            "http://127.0.0.1:4567/callback?state=s&code={}",
            "k".repeat(MAX_PASTE)
        );
        let m = not_the_answer(read(&long, OURS, &expected(&st, false)));
        assert!(m.contains("too long") && m.len() < 400, "{m}");
    }

    #[test]
    fn control_characters_are_refused() {
        let st = Secret::new("s");
        for bad in [
            "http://127.0.0.1:4567/callback?code=c&state=s\u{1b}[31m",
            "http://127.0.0.1:4567/call\tback?code=c&state=s",
            "http://127.0.0.1:4567/callback?code=c\n&state=s",
            "http://127.0.0.1:4567/callback?code=c&state=s\u{7}",
        ] {
            let m = not_the_answer(read(bad, OURS, &expected(&st, false)));
            assert!(m.contains("control characters"), "{bad:?}: {m}");
        }
    }

    #[tokio::test]
    async fn pastes_are_refused_until_the_answer_and_then_no_one_waits() {
        let (paste, inbox) = channel();
        let st = Secret::new("s");
        let waiting = {
            let inbox = inbox.clone();
            tokio::spawn(async move {
                wait(&inbox, OURS, expected(&Secret::new("s"), false))
                    .await
                    .map(|c| c.expose().to_string())
            })
        };
        let out = paste.submit(Secret::new("garbage")).await;
        assert!(
            matches!(&out, PasteOutcome::NotTheAnswer { left, .. } if *left == MAX_BAD_PASTES - 1),
            "{out:?}"
        );
        let out = paste
            .submit(Secret::new(format!("{OURS}?code=the-code&state=s")))
            .await;
        assert_eq!(out, PasteOutcome::Accepted);
        assert_eq!(waiting.await.unwrap().unwrap(), "the-code");
        let _ = st;
        drop(inbox);
        assert_eq!(
            paste.submit(Secret::new("x")).await,
            PasteOutcome::NotWaiting
        );
    }

    #[tokio::test]
    async fn too_many_bad_pastes_end_the_sign_in() {
        let (paste, inbox) = channel();
        let waiting = tokio::spawn(async move {
            wait(&inbox, OURS, expected(&Secret::new("s"), false))
                .await
                .map(|_| ())
        });
        for i in 1..=MAX_BAD_PASTES {
            let out = paste.submit(Secret::new(format!("nope {i}"))).await;
            assert!(
                matches!(&out, PasteOutcome::NotTheAnswer { left, .. } if *left == MAX_BAD_PASTES - i),
                "{out:?}"
            );
        }
        assert!(matches!(
            waiting.await.unwrap(),
            Err(Error::TooManyBadPastes { count }) if count == MAX_BAD_PASTES
        ));
    }

    #[tokio::test]
    async fn an_error_answer_ends_and_says_so() {
        let (paste, inbox) = channel();
        let waiting = tokio::spawn(async move {
            wait(&inbox, OURS, expected(&Secret::new("s"), false))
                .await
                .map(|_| ())
        });
        let out = paste
            .submit(Secret::new(format!("{OURS}?error=access_denied&state=s")))
            .await;
        assert!(
            matches!(&out, PasteOutcome::Ended { message } if message.contains("access_denied")),
            "{out:?}"
        );
        assert!(waiting.await.unwrap().is_err());
    }
}
