//! A [`Transport`] for tests: the exchanges a test expects, in order, each answered with a
//! canned status, headers and body; a copy of every request received, so a test can check
//! what was sent byte for byte. No socket is opened.
//!
//! A request that is not the next expected one (or fails its checks) is answered with
//! [`Error::Unreachable`] and noted; [`Canned::assert_done`] then fails the test with every
//! note, even when the code under test took that error in its stride. Notes and `Debug`
//! output never show a credential: secret headers, form fields and JSON members are
//! redacted as in the trace (see [`trace`]).

use crate::error::{Error, Result};
use crate::protocol::http::{Http, Transport, TransportFuture};
use crate::protocol::trace;
use reqwest::header::HeaderMap;
use reqwest::Method;
use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

/// One expected request and the answer to give it.
///
/// The request must have this method and exactly this URL (query included, unless
/// [`Expect::with_any_query`]), and carry every header and form field added with
/// [`Expect::with_header`] and [`Expect::with_form`]. The answer is `200` with no headers and
/// an empty body unless told otherwise.
pub struct Expect {
    method: Method,
    url: String,
    /// Compare the URL without its query (one with a random `state`, say).
    any_query: bool,
    headers: Vec<(String, String)>,
    form: Vec<(String, String)>,
    status: u16,
    reply_headers: Vec<(String, String)>,
    reply_body: Vec<u8>,
    /// No answer: the connection broke ([`Expect::respond_unreachable`]).
    unreachable: Option<String>,
}

impl fmt::Debug for Expect {
    /// Method and URL: the canned answer may hold (test) tokens.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, trace::redact_url(&self.url))
    }
}

impl Expect {
    /// Expects `method url`.
    pub fn new(method: Method, url: &str) -> Self {
        Expect {
            method,
            // Compared as the request's parsed URL prints, so "https://a.b" matches "https://a.b/".
            url: Url::parse(url).map_or_else(|_| url.to_string(), String::from),
            any_query: false,
            headers: Vec::new(),
            form: Vec::new(),
            status: 200,
            reply_headers: Vec::new(),
            reply_body: Vec::new(),
            unreachable: None,
        }
    }

    /// Expects `GET url`.
    pub fn get(url: &str) -> Self {
        Expect::new(Method::GET, url)
    }

    /// Expects `POST url`.
    pub fn post(url: &str) -> Self {
        Expect::new(Method::POST, url)
    }

    /// Any query is accepted: the URL is compared without it (an authorization request, whose
    /// `state` and PKCE challenge are random). Check the query through [`Canned::sent`].
    pub fn with_any_query(mut self) -> Self {
        self.any_query = true;
        self
    }

    /// The request must carry header `name` with exactly `value` (among its values).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// The request's form body must have field `name` equal to `value`.
    pub fn with_form(mut self, name: &str, value: &str) -> Self {
        self.form.push((name.into(), value.into()));
        self
    }

    /// Answers with HTTP `status`.
    pub fn respond(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// Adds a header to the answer.
    pub fn respond_header(mut self, name: &str, value: &str) -> Self {
        self.reply_headers.push((name.into(), value.into()));
        self
    }

    /// Answers with this body, as is.
    pub fn respond_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.reply_body = body.into();
        self
    }

    /// Gives no answer: the request fails with [`Error::Unreachable`] and `detail`, as when
    /// the server closed the connection (an expected failure, not a problem of the test).
    pub fn respond_unreachable(mut self, detail: &str) -> Self {
        self.unreachable = Some(detail.into());
        self
    }

    /// Answers HTTP `status` with `value` as an `application/json` body.
    pub fn respond_json(self, status: u16, value: &serde_json::Value) -> Self {
        self.respond(status)
            .respond_header("content-type", "application/json")
            .respond_body(value.to_string())
    }

    /// Why `sent` is not this request, or None when it is.
    fn mismatch(&self, sent: &Sent) -> Option<String> {
        let mut url = sent.url.clone();
        if self.any_query {
            url.set_query(None);
        }
        if sent.method != self.method || url.as_str() != self.url {
            return Some(format!("expected {self:?} next"));
        }
        for (name, want) in &self.headers {
            if !sent
                .headers
                .get_all(name)
                .iter()
                .any(|v| v.as_bytes() == want.as_bytes())
            {
                let got: Vec<String> = sent
                    .headers
                    .get_all(name)
                    .iter()
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .collect();
                return Some(differs(
                    "header",
                    name,
                    want,
                    &got.join(", "),
                    trace::is_sensitive_header(name),
                ));
            }
        }
        for (name, want) in &self.form {
            let got = sent.form_value(name).unwrap_or_default();
            if &got != want {
                return Some(differs(
                    "form field",
                    name,
                    want,
                    &got,
                    trace::is_sensitive(name),
                ));
            }
        }
        None
    }

    fn response(&self) -> std::result::Result<reqwest::Response, oauth2::http::Error> {
        let mut b = oauth2::http::Response::builder().status(self.status);
        for (name, value) in &self.reply_headers {
            b = b.header(name, value);
        }
        Ok(reqwest::Response::from(b.body(self.reply_body.clone())?))
    }
}

/// "header `x` is "a", expected "b"", or only the lengths when the value is a secret.
fn differs(what: &str, name: &str, want: &str, got: &str, secret: bool) -> String {
    if secret {
        format!(
            "{what} `{name}` differs from the expected value ({} bytes sent, {} expected)",
            got.len(),
            want.len()
        )
    } else {
        format!("{what} `{name}` is {got:?}, expected {want:?}")
    }
}

/// A request as the canned transport received it.
#[derive(Clone)]
pub struct Sent {
    /// The method.
    pub method: Method,
    /// The URL, query included.
    pub url: Url,
    /// The headers the caller set (not the ones a real client adds, like `User-Agent`).
    pub headers: HeaderMap,
    /// The body, byte for byte; empty when there was none.
    pub body: Vec<u8>,
}

impl fmt::Debug for Sent {
    /// Redacted as the trace is: no credential in headers, URL or body.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sent")
            .field("method", &self.method)
            .field("url", &trace::redact_url(self.url.as_str()))
            .field(
                "headers",
                &trace::redact_headers(
                    self.headers.iter().map(|(k, v)| (k.as_str(), v.as_bytes())),
                ),
            )
            .field(
                "body",
                &trace::redact_body(self.header("content-type").unwrap_or_default(), &self.body),
            )
            .finish()
    }
}

impl Sent {
    fn from_request(req: &reqwest::Request) -> Self {
        Sent {
            method: req.method().clone(),
            url: req.url().clone(),
            headers: req.headers().clone(),
            body: req
                .body()
                .and_then(|b| b.as_bytes())
                .map(<[u8]>::to_vec)
                .unwrap_or_default(),
        }
    }

    /// The first value of header `name`, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON, if it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as `application/x-www-form-urlencoded` fields, decoded, in order.
    pub fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&self.body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// The first form field `name`, decoded.
    pub fn form_value(&self, name: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

#[derive(Default)]
struct State {
    expected: VecDeque<Expect>,
    sent: Vec<Sent>,
    problems: Vec<String>,
}

/// The canned transport. Share it as `Arc<Canned>`: one handle goes to [`Http`] (see
/// [`Canned::http`]), the test keeps the other to look at what was sent.
#[derive(Default)]
pub struct Canned {
    state: Mutex<State>,
}

impl fmt::Debug for Canned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.lock();
        f.debug_struct("Canned")
            .field("expected", &s.expected)
            .field("received", &s.sent.len())
            .field("problems", &s.problems)
            .finish()
    }
}

impl Canned {
    /// A transport that expects `exchanges`, in this order, and nothing else.
    pub fn new(exchanges: impl IntoIterator<Item = Expect>) -> Arc<Self> {
        Arc::new(Canned {
            state: Mutex::new(State {
                expected: exchanges.into_iter().collect(),
                ..State::default()
            }),
        })
    }

    /// An [`Http`] over this transport (its errors would report a 30-second timeout).
    pub fn http(self: &Arc<Self>) -> Http {
        Http::with_transport(self.clone(), Duration::from_secs(30))
    }

    /// Every request received, in order, the unexpected ones included.
    pub fn sent(&self) -> Vec<Sent> {
        self.lock().sent.clone()
    }

    /// "METHOD URL" of every request received, in order.
    pub fn requests(&self) -> Vec<String> {
        self.lock()
            .sent
            .iter()
            .map(|s| format!("{} {}", s.method, s.url))
            .collect()
    }

    /// Panics (it is for tests) when a request was unexpected or failed its checks, or when
    /// an expected exchange never happened; the message lists each, redacted.
    pub fn assert_done(&self) {
        let s = self.lock();
        let mut problems = s.problems.clone();
        problems.extend(
            s.expected
                .iter()
                .map(|e| format!("{e:?} was expected but never sent")),
        );
        assert!(
            problems.is_empty(),
            "the canned exchanges did not go as expected:\n  {}",
            problems.join("\n  ")
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn answer(&self, request: &reqwest::Request) -> Result<reqwest::Response> {
        let sent = Sent::from_request(request);
        let mut s = self.lock();
        let outcome = match s.expected.front() {
            None => Err("nothing more was expected".to_string()),
            Some(e) => match e.mismatch(&sent) {
                Some(why) => Err(why),
                None if e.unreachable.is_some() => {
                    let detail = e.unreachable.clone().unwrap_or_default();
                    s.expected.pop_front();
                    s.sent.push(sent);
                    return Err(Error::Unreachable {
                        url: trace::redact_url(request.url().as_str()),
                        detail,
                    });
                }
                None => {
                    let answer = e
                        .response()
                        .map_err(|err| format!("the canned answer is not valid HTTP ({err})"));
                    s.expected.pop_front();
                    answer
                }
            },
        };
        let url = trace::redact_url(sent.url.as_str());
        let method = sent.method.clone();
        s.sent.push(sent);
        outcome.map_err(|why| {
            let detail = format!("the canned transport got {method} {url}: {why}");
            s.problems.push(detail.clone());
            Error::Unreachable { url, detail }
        })
    }
}

impl Transport for Canned {
    fn execute(&self, request: reqwest::Request) -> TransportFuture<'_> {
        Box::pin(std::future::ready(self.answer(&request)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::http::Outgoing;

    #[tokio::test]
    async fn answers_in_order_and_keeps_what_was_sent() {
        let canned = Canned::new([
            Expect::get("https://as.example.com/a").respond_json(200, &serde_json::json!({"x": 1})),
            Expect::post("https://as.example.com/b")
                .with_header("accept", "application/json")
                .with_form("grant_type", "refresh_token")
                .respond(400)
                .respond_header("x-why", "because"),
        ]);
        let http = canned.http();
        let a = http
            .get(
                &Url::parse("https://as.example.com/a").unwrap(),
                "application/json",
            )
            .await
            .unwrap();
        assert_eq!(
            (a.status, a.body.as_slice()),
            (200, br#"{"x":1}"#.as_slice())
        );
        assert_eq!(a.content_type(), "application/json");
        let b = http
            .send(
                Outgoing::post(&Url::parse("https://as.example.com/b").unwrap())
                    .header("accept", "application/json")
                    .form(&[("grant_type", "refresh_token"), ("scope", "a b")]),
            )
            .await
            .unwrap();
        assert_eq!(b.status, 400);
        assert_eq!(b.header_values("x-why"), ["because"]);
        canned.assert_done();
        let sent = canned.sent();
        assert_eq!(sent[1].body, b"grant_type=refresh_token&scope=a+b");
        assert_eq!(
            sent[1].header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(
            canned.requests(),
            [
                "GET https://as.example.com/a",
                "POST https://as.example.com/b"
            ]
        );
    }

    #[tokio::test]
    async fn an_unexpected_request_fails_clearly_without_showing_secrets() {
        let canned = Canned::new([Expect::post("https://as.example.com/token")
            .with_form("code_verifier", "the-expected-verifier")
            .with_header("authorization", "Bearer expected")]);
        let http = canned.http();
        let url = Url::parse("https://as.example.com/token").unwrap();
        let err = http
            .send(
                Outgoing::post(&url)
                    .bearer_auth("SENT-TOKEN")
                    .form(&[("code_verifier", "SENT-VERIFIER")]),
            )
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("header `authorization` differs"), "{msg}");
        assert!(
            !msg.contains("SENT-TOKEN") && !msg.contains("Bearer expected"),
            "{msg}"
        );
        let err = http
            .send(Outgoing::get(&url.join("/other?code=SECRET-CODE").unwrap()))
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("expected POST https://as.example.com/token next"),
            "{msg}"
        );
        assert!(!msg.contains("SECRET-CODE"), "{msg}");
        let debug = format!("{:?} {:?}", canned.sent(), canned);
        for secret in ["SENT-TOKEN", "SENT-VERIFIER", "SECRET-CODE"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        let done = std::panic::catch_unwind(|| canned.assert_done()).unwrap_err();
        let done = done.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(done.contains("was expected but never sent"), "{done}");
        assert!(!done.contains("SENT-TOKEN"), "{done}");
    }

    #[tokio::test]
    async fn basic_auth_and_json_are_encoded_as_reqwest_would() {
        let canned = Canned::new([Expect::post("https://as.example.com/r")]);
        let url = Url::parse("https://as.example.com/r").unwrap();
        canned
            .http()
            .send(
                Outgoing::post(&url)
                    .basic_auth("client", "s3cret")
                    .json(&serde_json::json!({"a": [1]})),
            )
            .await
            .unwrap();
        let sent = &canned.sent()[0];
        assert_eq!(
            sent.header("authorization"),
            Some("Basic Y2xpZW50OnMzY3JldA==")
        );
        assert_eq!(sent.header("content-type"), Some("application/json"));
        assert_eq!(sent.body, br#"{"a":[1]}"#);
        assert!(!format!("{sent:?}").contains("Y2xpZW50"));
    }
}
