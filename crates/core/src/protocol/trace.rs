//! A redacted record of every HTTP exchange of a flow, for the "why" screen and for a
//! diagnostics file a person can attach to a bug report. Tokens, codes, verifiers, client
//! secrets and cookies never enter it.

use crate::redact;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use ts_rs::TS;

/// Bodies are cut here: enough to explain, not a copy of the server's data.
const BODY_LIMIT: usize = 4096;

/// True for a parameter or JSON member name whose value is a secret (`code`, `access_token`,
/// ...): the rule of [`crate::redact`].
pub(crate) fn is_sensitive(name: &str) -> bool {
    redact::is_secret_name(name)
}

/// True for a header whose value is a credential (`Authorization`, `Cookie`,
/// `Mcp-Session-Id`, ...): the rule of [`crate::redact`].
pub(crate) fn is_sensitive_header(name: &str) -> bool {
    redact::is_secret_header(name)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Exchange {
    pub method: String,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub status: Option<u16>,
    pub request_headers: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub request_body: Option<String>,
    pub response_headers: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub response_body: Option<String>,
    pub millis: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub error: Option<String>,
}

/// Collects exchanges; cheap to clone and share between the parts of one flow.
#[derive(Debug, Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<Exchange>>>);

impl Recorder {
    pub fn push(&self, e: Exchange) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(e);
    }

    /// Replaces the recorded body of the last answer from `url` by `note` (a response that
    /// failed validation is kept as its status, content type and length, never its body).
    pub fn withhold_body(&self, url: &str, note: String) {
        let url = redact_url(url);
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = all.iter_mut().rev().find(|e| e.url == url) {
            e.response_body = Some(note);
        }
    }

    pub fn exchanges(&self) -> Vec<Exchange> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// A URL as the trace shows it ([`redact::url`]).
pub fn redact_url(url: &str) -> String {
    redact::url(url)
}

/// Headers as the trace shows them ([`redact::headers`]).
pub fn redact_headers<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Vec<(String, String)> {
    redact::headers(headers)
}

/// A body as a person may read it ([`redact::body`]), cut to a few KiB; `None` when empty.
pub fn redact_body(content_type: &str, body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    Some(cut(redact::body(content_type, body)))
}

fn cut(s: String) -> String {
    if s.len() <= BODY_LIMIT {
        return s;
    }
    let mut end = BODY_LIMIT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &s[..end], s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_codes_and_state() {
        let u =
            redact_url("http://127.0.0.1:5/callback?code=SECRETCODE&state=S1&iss=http%3A%2F%2Fas");
        assert!(!u.contains("SECRETCODE") && !u.contains("S1"), "{u}");
        assert!(u.contains("iss=http"), "{u}");
        let u = redact_url("https://user:pw@h/x");
        assert!(!u.contains("pw"));
    }

    #[test]
    fn headers_keep_the_scheme_only() {
        let h = redact_headers([
            ("Authorization", b"Bearer abc.def".as_slice()),
            ("Set-Cookie", b"sid=xyz".as_slice()),
            ("WWW-Authenticate", b"Bearer scope=\"mcp\"".as_slice()),
        ]);
        assert_eq!(h[0], ("authorization".into(), "Bearer [redacted]".into()));
        assert_eq!(h[1].1, "[redacted]");
        assert_eq!(h[2].1, "Bearer scope=\"mcp\"");
    }

    #[test]
    fn bodies_lose_secrets_at_any_depth() {
        let json = br#"{"access_token":"AT1","refresh_token":"RT1","expires_in":3600,"nested":{"client_secret":"CS1","list":[{"accessToken":"AT2"}]}}"#;
        let r = redact_body("application/json", json).unwrap();
        for s in ["AT1", "RT1", "CS1", "AT2"] {
            assert!(!r.contains(s), "{r}");
        }
        assert!(r.contains("3600"));
        let form = b"grant_type=authorization_code&code=C0DE&code_verifier=V3R&client_id=abc&resource=http%3A%2F%2Fx";
        let r = redact_body("application/x-www-form-urlencoded", form).unwrap();
        assert!(
            !r.contains("C0DE") && !r.contains("V3R") && r.contains("client_id=abc"),
            "{r}"
        );
        let sse = b"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"token\":\"T0K\"}}\n\n";
        let r = redact_body("text/event-stream", sse).unwrap();
        assert!(!r.contains("T0K"), "{r}");
        let big = vec![b'a'; 10_000];
        assert!(redact_body("text/plain", &big)
            .unwrap()
            .contains("10000 bytes"));
    }
}
