//! The loopback callback (RFC 8252 §7.3): one listener on 127.0.0.1, one sign-in answer,
//! checked (state, RFC 9207 `iss`) before the page tells the person how it went, then closed.

use crate::error::{Error, OAuthError, OAuthStage, Result};
use crate::oauth::plan::{redirect_uri, CALLBACK_PATH};
use crate::redact;
use crate::secret::Secret;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub struct CallbackListener {
    listener: TcpListener,
    port: u16,
}

/// What the callback must carry to be accepted (by the listener, or pasted back:
/// `oauth::paste_back`).
#[derive(Clone, Copy)]
pub struct Expected<'a> {
    pub state: &'a Secret,
    pub issuer: &'a str,
    /// The AS promised `iss` (authorization_response_iss_parameter_supported).
    pub iss_required: bool,
}

impl CallbackListener {
    /// Binds 127.0.0.1 on `port`, or on any free port when None.
    pub async fn bind(port: Option<u16>) -> Result<Self> {
        let address = format!("127.0.0.1:{}", port.unwrap_or(0));
        let listener = TcpListener::bind(&address)
            .await
            .map_err(|e| Error::CallbackListen {
                address: address.clone(),
                detail: e.to_string(),
            })?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::CallbackListen {
                address,
                detail: e.to_string(),
            })?
            .port();
        Ok(CallbackListener { listener, port })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn redirect_uri(&self) -> String {
        redirect_uri(self.port)
    }

    /// Waits for the sign-in answer and returns the authorization code. The listener is
    /// consumed: a second answer finds the port closed. Requests are read side by side (up
    /// to [`MAX_IN_FLIGHT`] at once; more are closed unread), so a stray connection that
    /// sends slowly or nothing cannot hold the browser's answer back.
    pub async fn wait(self, expected: Expected<'_>, timeout: Duration) -> Result<Secret> {
        use futures_util::stream::{FuturesUnordered, StreamExt};
        let fut = async {
            let mut reading = FuturesUnordered::new();
            loop {
                tokio::select! {
                    accepted = self.listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        if reading.len() >= MAX_IN_FLIGHT {
                            drop(stream);
                            continue;
                        }
                        reading.push(handle(stream, &expected));
                    }
                    Some(done) = reading.next(), if !reading.is_empty() => {
                        if let Some(result) = done {
                            return result;
                        }
                    }
                }
            }
        };
        tokio::time::timeout(timeout, fut)
            .await
            .map_err(|_| Error::CallbackTimeout {
                seconds: timeout.as_secs(),
            })?
    }
}

/// How many requests to the listener are read at once; each gives up after 5 seconds and
/// 16 KiB, so they hold at most 2 MiB. A browser opens a handful (the answer, a favicon,
/// pre-connects); more than this many at once is someone else, and is closed unread.
pub const MAX_IN_FLIGHT: usize = 128;

/// Some(result) when this request was an answer to the sign-in; None for anything else,
/// which is answered 404 (another path: a favicon, a probe) or 400 (not an HTTP GET, or the
/// callback path with none of `code`, `state` or `error`) and ignored, so a stray request
/// does not end the sign-in. The wait stays bounded by its timeout. An answer that carries
/// `code`, `state` or `error` is checked; a wrong or missing `state` there is refused as an
/// answer that is not ours ([`Error::StateMismatch`]) and ends the sign-in.
async fn handle(mut stream: TcpStream, expected: &Expected<'_>) -> Option<Result<Secret>> {
    let mut buf = Vec::with_capacity(2048);
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        let mut chunk = [0u8; 2048];
        loop {
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                return Some(());
            }
            buf.extend_from_slice(&chunk[..n]);
            if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.len() > 16 * 1024 {
                return Some(());
            }
        }
    })
    .await;
    if !matches!(read, Ok(Some(()))) {
        return None;
    }
    let result = match read_request(&buf, expected) {
        Request::Answer(result) => result,
        Request::OtherPath => {
            respond(
                &mut stream,
                404,
                "Not found",
                "This address only receives sign-in answers for Latchkey.",
            )
            .await;
            return None;
        }
        Request::Malformed => {
            respond(
                &mut stream,
                400,
                "Bad request",
                "This address only receives sign-in answers for Latchkey.",
            )
            .await;
            return None;
        }
        Request::NoAnswer => {
            respond(
                &mut stream,
                400,
                "Bad request",
                "This request carries no sign-in answer. Return to Latchkey; the sign-in is still waiting.",
            )
            .await;
            return None;
        }
    };
    match &result {
        Ok(_) => {
            respond(
                &mut stream,
                200,
                "You're signed in",
                "Latchkey has what it needs. You can close this tab and return to the app.",
            )
            .await
        }
        Err(e) => {
            respond(
                &mut stream,
                400,
                "Sign-in did not finish",
                &format!(
                    "{}. Return to Latchkey to see what to do next.",
                    capitalized(&e.to_string())
                ),
            )
            .await
        }
    }
    Some(result)
}

/// What one request to the listener is.
#[derive(Debug)]
pub enum Request {
    /// Not a `GET` with a target (garbage, another method): answered 400 and ignored.
    Malformed,
    /// A `GET` of another path (a favicon, a probe): answered 404 and ignored.
    OtherPath,
    /// The callback path without `code`, `state` or `error`: answered 400 and ignored.
    NoAnswer,
    /// The sign-in answer, checked against what was expected (a wrong `state` is an error
    /// that ends the sign-in).
    Answer(Result<Secret>),
}

/// Reads the head of one request to the listener (its request line and headers, as
/// received) into what it is ([`Request`]). Never panics, whatever the bytes.
pub fn read_request(head: &[u8], expected: &Expected<'_>) -> Request {
    let head = String::from_utf8_lossy(head);
    let target = head.lines().next().and_then(|l| {
        let mut parts = l.split_whitespace();
        match (parts.next(), parts.next()) {
            (Some("GET"), Some(t)) => Some(t.to_string()),
            _ => None,
        }
    });
    let Some(target) = target else {
        return Request::Malformed;
    };
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    if path != CALLBACK_PATH {
        return Request::OtherPath;
    }
    if !is_answer(query) {
        return Request::NoAnswer;
    }
    Request::Answer(check(query, expected))
}

/// Whether `query` looks like an authorization answer: it names `code`, `state` or `error`.
pub(crate) fn is_answer(query: &str) -> bool {
    url::form_urlencoded::parse(query.as_bytes())
        .any(|(k, _)| matches!(k.as_ref(), "code" | "state" | "error"))
}

/// The one rule for an answer's query, whether it reached the listener or was pasted back
/// (`oauth::paste_back`): `state` first (constant time), then `iss` (RFC 9207), then the
/// authorization server's `error`, then the code.
pub(crate) fn check(query: &str, expected: &Expected<'_>) -> Result<Secret> {
    let mut code = None;
    let mut state = None;
    let mut iss = None;
    let mut error = None;
    let mut description = None;
    let mut uri = None;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "code" => code = Some(v.into_owned()),
            "state" => state = Some(v.into_owned()),
            "iss" => iss = Some(v.into_owned()),
            "error" => error = Some(redact::text(&v)),
            "error_description" => description = Some(redact::text(&v)),
            "error_uri" => uri = Some(redact::url(&v)),
            _ => {}
        }
    }
    // State first: an answer that is not ours must not be believed, errors included.
    match state {
        Some(s) if constant_time_eq(s.as_bytes(), expected.state.expose().as_bytes()) => {}
        _ => return Err(Error::StateMismatch),
    }
    match iss {
        Some(i) if i != expected.issuer => {
            // Quoted back to the person: one line, and not a page of it.
            let mut found: String = i
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .take(200)
                .collect();
            if i.chars().count() > 200 {
                found.push('…');
            }
            return Err(Error::IssuerResponseMismatch {
                expected: expected.issuer.to_string(),
                found,
            });
        }
        None if expected.iss_required => {
            return Err(Error::IssuerResponseMismatch {
                expected: expected.issuer.to_string(),
                found: "an answer without an issuer".into(),
            })
        }
        _ => {}
    }
    if let Some(code) = error {
        return Err(Error::OAuth(OAuthError {
            stage: OAuthStage::Authorization,
            code,
            description,
            uri,
        }));
    }
    code.filter(|c| !c.is_empty())
        .map(Secret::new)
        .ok_or(Error::MissingCode)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn respond(stream: &mut TcpStream, status: u16, title: &str, text: &str) {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t} · Latchkey</title>\
<meta name=\"viewport\" content=\"width=device-width\"><style>\
body{{font-family:system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;margin:0;background:#f6f7f9;color:#1d2330}}\
main{{max-width:28rem;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 2px 12px #0001}}\
@media (prefers-color-scheme:dark){{body{{background:#15171c;color:#e8eaf0}}main{{background:#20232b}}}}\
</style></head><body><main><h1>{t}</h1><p>{x}</p></main></body></html>",
        t = escape(title),
        x = escape(text)
    );
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Bad Request",
    };
    let resp = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\ncache-control: no-store\r\nreferrer-policy: no-referrer\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(resp.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(port: u16, path: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    fn expected(state: &Secret) -> Expected<'_> {
        Expected {
            state,
            issuer: "http://127.0.0.1:9/as",
            iss_required: true,
        }
    }

    #[tokio::test]
    async fn accepts_one_good_answer_then_closes() {
        let l = CallbackListener::bind(None).await.unwrap();
        let port = l.port();
        let state = Secret::new("st4te");
        let waiter = tokio::spawn(async move {
            l.wait(expected(&Secret::new("st4te")), Duration::from_secs(5))
                .await
        });
        let page = get(port, "/favicon.ico").await;
        assert!(page.starts_with("HTTP/1.1 404"));
        let page = get(
            port,
            "/callback?code=abc&state=st4te&iss=http%3A%2F%2F127.0.0.1%3A9%2Fas",
        )
        .await;
        assert!(page.contains("signed in"), "{page}");
        let code = waiter.await.unwrap().unwrap();
        assert_eq!(code.expose(), "abc");
        let _ = state;
        // Single use is structural: `wait` consumed the listener, so the port is closed.
    }

    #[test]
    fn checks_state_iss_and_errors() {
        let st = Secret::new("s1");
        let ok = "code=c&state=s1&iss=http%3A%2F%2F127.0.0.1%3A9%2Fas";
        assert_eq!(check(ok, &expected(&st)).unwrap().expose(), "c");
        assert!(matches!(
            check(
                "code=c&state=s2&iss=http%3A%2F%2F127.0.0.1%3A9%2Fas",
                &expected(&st)
            ),
            Err(Error::StateMismatch)
        ));
        assert!(matches!(
            check("code=c&iss=x", &expected(&st)),
            Err(Error::StateMismatch)
        ));
        assert!(matches!(
            check("code=c&state=s1&iss=http%3A%2F%2Fevil", &expected(&st)),
            Err(Error::IssuerResponseMismatch { .. })
        ));
        assert!(matches!(
            check("code=c&state=s1", &expected(&st)),
            Err(Error::IssuerResponseMismatch { .. })
        ));
        // An issuer that forges lines or fills the screen is quoted as one short line.
        let long = format!("code=c&state=s1&iss=x%0aFAKE-LINE{}", "y".repeat(5000));
        match check(&long, &expected(&st)) {
            Err(Error::IssuerResponseMismatch { found, .. }) => {
                assert!(
                    !found.contains('\n') && found.chars().count() <= 201,
                    "{found}"
                );
            }
            other => panic!("{other:?}"),
        }
        let lax = Expected {
            iss_required: false,
            ..expected(&st)
        };
        assert!(check("code=c&state=s1", &lax).is_ok());
        let e = check(
            "error=invalid_scope&error_description=sudo+is+not+allowed&state=s1",
            &lax,
        )
        .unwrap_err();
        let o = e.oauth().unwrap();
        assert_eq!(
            (o.code.as_str(), o.description.as_deref()),
            ("invalid_scope", Some("sudo is not allowed"))
        );
        assert!(matches!(check("state=s1", &lax), Err(Error::MissingCode)));
    }

    async fn send_raw(port: u16, bytes: &[u8]) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(bytes).await.unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    }

    #[tokio::test]
    async fn stray_and_malformed_requests_are_answered_and_ignored_until_the_real_answer() {
        let l = CallbackListener::bind(None).await.unwrap();
        let port = l.port();
        let waiter = tokio::spawn(async move {
            l.wait(expected(&Secret::new("st4te")), Duration::from_secs(10))
                .await
        });
        assert!(get(port, "/favicon.ico").await.starts_with("HTTP/1.1 404"));
        assert!(get(port, "/callback").await.starts_with("HTTP/1.1 400"));
        assert!(get(port, "/callback?").await.starts_with("HTTP/1.1 400"));
        assert!(get(port, "/callback?foo=bar")
            .await
            .starts_with("HTTP/1.1 400"));
        let garbage = send_raw(port, b"\x00\xff\xfe garbage \x1b[31m\r\n\r\n").await;
        assert!(garbage.starts_with("HTTP/1.1 400"), "{garbage}");
        let post = send_raw(port, b"POST /callback?code=x HTTP/1.1\r\n\r\n").await;
        assert!(post.starts_with("HTTP/1.1 400"), "{post}");
        // A client that connects and says nothing does not end it either.
        drop(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
        let page = get(
            port,
            "/callback?code=abc&state=st4te&iss=http%3A%2F%2F127.0.0.1%3A9%2Fas",
        )
        .await;
        assert!(page.contains("signed in"), "{page}");
        assert_eq!(waiter.await.unwrap().unwrap().expose(), "abc");
    }

    /// Connections that stay open sending nothing (a local program, a browser's idle
    /// pre-connects): the browser's answer still gets through at once, not after their
    /// 5-second reads one by one.
    #[tokio::test]
    async fn silent_connections_do_not_hold_the_answer_back() {
        let l = CallbackListener::bind(None).await.unwrap();
        let port = l.port();
        let waiter = tokio::spawn(async move {
            l.wait(expected(&Secret::new("st4te")), Duration::from_secs(20))
                .await
        });
        let mut silent = Vec::new();
        for _ in 0..40 {
            silent.push(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
        }
        let started = std::time::Instant::now();
        let page = get(
            port,
            "/callback?code=abc&state=st4te&iss=http%3A%2F%2F127.0.0.1%3A9%2Fas",
        )
        .await;
        let waited = started.elapsed();
        assert!(page.contains("signed in"), "{page}");
        assert_eq!(waiter.await.unwrap().unwrap().expose(), "abc");
        // One silent connection read at a time would hold it 5 s each.
        assert!(
            waited < Duration::from_secs(4),
            "the answer waited {waited:?}"
        );
        drop(silent);
    }

    #[tokio::test]
    async fn an_answer_with_a_wrong_state_still_ends_the_sign_in_as_refused() {
        let l = CallbackListener::bind(None).await.unwrap();
        let port = l.port();
        let waiter = tokio::spawn(async move {
            l.wait(expected(&Secret::new("st4te")), Duration::from_secs(10))
                .await
        });
        let page = get(port, "/callback?code=abc&state=evil").await;
        assert!(page.starts_with("HTTP/1.1 400"), "{page}");
        assert!(matches!(waiter.await.unwrap(), Err(Error::StateMismatch)));
    }

    /// Found by fuzzing: an `error` value that looks like a URL but is none overflowed the
    /// stack while it was redacted.
    #[test]
    fn an_error_that_looks_like_a_url_is_read() {
        let state = Secret::new("fuzz-state-0123456789");
        let head = b"GET /callback?error=\xff\x7fcess_s%3A%2F%2Fas.example HTTP/1.dt\xd8\xef\xffd&ess=https%3A%2F%2Fas.exampleaid+no&state=fuzz-state-0123456789 HTT\n";
        let expected = Expected {
            state: &state,
            issuer: "https://as.example",
            iss_required: false,
        };
        let r = read_request(head, &expected);
        // The request target ends at the first space: no state, so not believed.
        assert!(
            matches!(r, Request::Answer(Err(Error::StateMismatch))),
            "{r:?}"
        );
    }

    #[tokio::test]
    async fn times_out() {
        let l = CallbackListener::bind(None).await.unwrap();
        let st = Secret::new("s");
        let r = l.wait(expected(&st), Duration::from_millis(50)).await;
        assert!(matches!(r, Err(Error::CallbackTimeout { .. })));
    }

    #[tokio::test]
    async fn a_busy_fixed_port_is_a_clear_error() {
        let l = CallbackListener::bind(None).await.unwrap();
        let e = CallbackListener::bind(Some(l.port())).await.err().unwrap();
        assert!(e.to_string().contains("could not listen"), "{e}");
        assert!(e.hint().contains("--callback-port"));
    }
}
