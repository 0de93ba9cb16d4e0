//! The HTTP side of a bridge: one MCP client session with a remote server, carrying JSON-RPC
//! messages exactly as the local tool wrote them (MCP specification 2025-11-25,
//! "Transports": Streamable HTTP, and the HTTP+SSE transport of 2024-11-05 where a server
//! only has that). It knows no token rules: each request is given the bearer token to send
//! (or none), and a refusal (401, 403) comes back as an answer for the caller to handle.
//!
//! - Every message is POSTed as it came (the body is the tool's line, byte for byte), with
//!   `Accept: application/json, text/event-stream`; the answer is read as one JSON body or
//!   as an event stream, and every JSON-RPC message in it is handed on as one line.
//! - `Mcp-Session-Id` from the answer to `initialize` is sent on every later request;
//!   `MCP-Protocol-Version` is the version the tool offered on `initialize` and the one the
//!   server picked afterwards.
//! - A stream that ends before the answer to its request came is resumed with a GET carrying
//!   `Last-Event-ID`, when the server gave event ids ("Resumability and Redelivery").
//! - [`Relay::listen`] is the GET stream for messages the server starts; [`Relay::close`]
//!   sends the DELETE that ends the session.
//! - HTTP+SSE: a GET opens the stream, whose first `endpoint` event names where to POST;
//!   answers then come on that stream.

use crate::error::{Error, Result};
use crate::protocol::http::{map_reqwest_error, read_capped, Transport};
use crate::protocol::mcp;
use crate::protocol::sse;
use crate::secret::Secret;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

/// What the bridge's requests accept: MCP's Streamable HTTP requires both.
pub const ACCEPT_BOTH: &str = "application/json, text/event-stream";

/// How many times a stream that ended before its answer is resumed.
pub const MAX_RESUMPTIONS: u32 = 3;

/// The facts about a JSON-RPC message the relay acts on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Message {
    /// `method`, for requests and notifications.
    pub method: Option<String>,
    /// `id`, for requests and responses.
    pub id: Option<serde_json::Value>,
    /// `params.protocolVersion` of an `initialize` request, or `result.protocolVersion` of
    /// an answer to one.
    pub protocol_version: Option<String>,
}

impl Message {
    /// Reads `line` (one JSON-RPC message, or a batch: its first member is what counts).
    /// Errors: [`Error::Mcp`] when it is not a JSON object or array of objects.
    pub fn read(line: &str) -> Result<Message> {
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| Error::Mcp {
            detail: format!("a message is not valid JSON ({e})"),
        })?;
        let first = match &v {
            serde_json::Value::Array(a) => a.first().cloned().unwrap_or_default(),
            other => other.clone(),
        };
        if !first.is_object() {
            return Err(Error::Mcp {
                detail: "a message is not a JSON-RPC object".into(),
            });
        }
        let version = first["params"]["protocolVersion"]
            .as_str()
            .or(first["result"]["protocolVersion"].as_str())
            .map(str::to_string);
        Ok(Message {
            method: first["method"].as_str().map(str::to_string),
            id: first.get("id").filter(|id| !id.is_null()).cloned(),
            protocol_version: version,
        })
    }

    /// A request: a method and an id (it expects an answer).
    pub fn is_request(&self) -> bool {
        self.method.is_some() && self.id.is_some()
    }

    /// The `initialize` request.
    pub fn is_initialize(&self) -> bool {
        self.method.as_deref() == Some("initialize")
    }
}

/// `line` as one line of the stdio transport: JSON text has newlines only between tokens,
/// so each becomes a space.
pub fn one_line(line: &str) -> String {
    line.trim()
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect()
}

/// A JSON-RPC error answer to the request `id`, with `code`, `message` and `data`.
pub fn error_answer(
    id: &serde_json::Value,
    code: i64,
    message: &str,
    data: serde_json::Value,
) -> String {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {"code": code, "message": message, "data": data}
    })
    .to_string()
}

/// Which transport the server speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Streamable HTTP (2025-03-26 and later).
    Streamable,
    /// HTTP+SSE (2024-11-05): messages are POSTed to this endpoint, answers come on the
    /// stream.
    Legacy { endpoint: Url },
}

#[derive(Debug)]
struct State {
    session_id: Option<String>,
    protocol_version: Option<String>,
    mode: Mode,
}

/// One session with a remote MCP server. Cheap to share (`Arc`); requests may run at once.
#[derive(Debug)]
pub struct Relay {
    transport: Arc<dyn Transport>,
    url: Url,
    state: Mutex<State>,
}

/// How an answer's exchange ended, once everything in it was handed on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ended {
    /// Whether the answer to the request it was read for came (always, for a JSON body).
    pub answered: bool,
    /// The stream's last event id, to resume after (`Last-Event-ID`).
    pub last_id: Option<String>,
    /// The delay the stream asked for before reconnecting (`retry:`), in milliseconds.
    pub retry_ms: Option<u64>,
}

impl Ended {
    /// The event id to resume after when the stream ended before the answer to the request
    /// it was read for (`answering`) came, and the server gave ids.
    pub fn resume_after(&self, answering: Option<&serde_json::Value>) -> Option<&str> {
        match (answering, self.answered) {
            (Some(_), false) => self.last_id.as_deref(),
            _ => None,
        }
    }
}

impl Relay {
    /// A session with the server at `url`, over `transport`.
    pub fn new(transport: Arc<dyn Transport>, url: Url) -> Relay {
        Relay {
            transport,
            url,
            state: Mutex::new(State {
                session_id: None,
                protocol_version: None,
                mode: Mode::Streamable,
            }),
        }
    }

    /// The server's address.
    pub fn url(&self) -> &Url {
        &self.url
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The session id the server gave, if any.
    pub fn session_id(&self) -> Option<String> {
        self.state().session_id.clone()
    }

    /// The transport in use.
    pub fn mode(&self) -> Mode {
        self.state().mode.clone()
    }

    /// A request to `url` with the session's headers, `token` as a bearer token, and
    /// `version` (else the negotiated one) as `MCP-Protocol-Version`; then `extra` headers
    /// and `body`. Errors: [`Error::Unreachable`] for a value that cannot be a header.
    fn request(
        &self,
        method: reqwest::Method,
        url: &Url,
        token: Option<&Secret>,
        version: Option<&str>,
        extra: &[(&'static str, &str)],
        body: Option<&str>,
    ) -> Result<reqwest::Request> {
        let mut r = reqwest::Request::new(method, url.clone());
        let bad = |name: &str| Error::Unreachable {
            url: self.url.to_string(),
            detail: format!("the {name} header could not be sent (it is not valid header text)"),
        };
        let mut put = |name: &'static str, value: &str, secret: bool| -> Result<()> {
            let mut v = reqwest::header::HeaderValue::from_str(value).map_err(|_| bad(name))?;
            v.set_sensitive(secret);
            r.headers_mut().append(name, v);
            Ok(())
        };
        if let Some(t) = token {
            put("authorization", &format!("Bearer {}", t.expose()), true)?;
        }
        let (session, negotiated) = {
            let s = self.state();
            (s.session_id.clone(), s.protocol_version.clone())
        };
        if let Some(id) = &session {
            put("mcp-session-id", id, false)?;
        }
        if let Some(v) = version.or(negotiated.as_deref()) {
            put("mcp-protocol-version", v, false)?;
        }
        for (name, value) in extra {
            put(name, value, false)?;
        }
        if let Some(b) = body {
            *r.body_mut() = Some(b.to_string().into());
        }
        Ok(r)
    }

    /// POSTs `line` (one message as the tool wrote it; `msg` is what it says) with `token`.
    /// Returns the answer whatever its status; a 2xx answer to `initialize` gives the session
    /// its id. Errors: [`Error::Unreachable`], [`Error::Timeout`].
    pub async fn post(
        &self,
        line: &str,
        msg: &Message,
        token: Option<&Secret>,
    ) -> Result<reqwest::Response> {
        let (url, version) = match self.mode() {
            Mode::Legacy { endpoint } => (endpoint, None),
            Mode::Streamable if msg.is_initialize() => {
                (self.url.clone(), msg.protocol_version.clone())
            }
            Mode::Streamable => (self.url.clone(), None),
        };
        let r = self.request(
            reqwest::Method::POST,
            &url,
            token,
            version.as_deref(),
            &[
                ("content-type", "application/json"),
                ("accept", ACCEPT_BOTH),
            ],
            Some(line),
        )?;
        let resp = self.transport.execute(r).await?;
        if msg.is_initialize() && resp.status().is_success() {
            if let Some(id) = header(&resp, "mcp-session-id") {
                self.state().session_id = Some(id);
            }
        }
        Ok(resp)
    }

    /// GETs the server's event stream with `token`, after `last_event_id` when resuming.
    /// Returns the answer whatever its status (405: the server offers no such stream).
    pub async fn get_stream(
        &self,
        token: Option<&Secret>,
        last_event_id: Option<&str>,
    ) -> Result<reqwest::Response> {
        let mut extra = vec![("accept", "text/event-stream")];
        if let Some(id) = last_event_id {
            extra.push(("last-event-id", id));
        }
        let r = self.request(reqwest::Method::GET, &self.url, token, None, &extra, None)?;
        self.transport.execute(r).await
    }

    /// Ends the session: a DELETE with its id, when the server gave one (a 405 means the
    /// server does not let clients end sessions). Returns whether a DELETE was sent.
    pub async fn close(&self, token: Option<&Secret>) -> bool {
        if self.session_id().is_none() || self.mode() != Mode::Streamable {
            return false;
        }
        let sent = match self.request(reqwest::Method::DELETE, &self.url, token, None, &[], None) {
            Ok(r) => self.transport.execute(r).await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = sent {
            tracing::info!("ending the session failed: {e}");
        }
        true
    }

    /// Hands on every message of a 2xx `resp` through `out`, one line each: a JSON body, or
    /// each event of a stream as it arrives. `answering` is the id of the request whose answer
    /// this is (none for a notification or a response). An answer to `initialize` sets the
    /// protocol version of later requests.
    ///
    /// Errors: the network's, and [`Error::Mcp`] for a body that is not JSON or a stream that
    /// grows without end.
    pub async fn read(
        &self,
        resp: reqwest::Response,
        answering: Option<&serde_json::Value>,
        out: &(dyn Fn(String) + Send + Sync),
    ) -> Result<Ended> {
        let url = resp.url().clone();
        if content_type(&resp).starts_with("text/event-stream") {
            let mut reader = sse::Reader::default();
            let mut answered = false;
            let mut resp = resp;
            loop {
                let chunk = resp
                    .chunk()
                    .await
                    .map_err(|e| map_reqwest_error(&url, Duration::from_secs(0), e))?;
                let Some(chunk) = chunk else { break };
                let events = reader.feed(&chunk).map_err(|_| Error::Mcp {
                    detail: format!(
                        "the server's event stream sent an event over {} MiB",
                        sse::MAX_EVENT >> 20
                    ),
                })?;
                for e in events {
                    if e.event != "message" || e.data.trim().is_empty() {
                        continue;
                    }
                    answered |= self.hand_on(&e.data, answering, out);
                }
            }
            return Ok(Ended {
                answered,
                last_id: reader.last_id().map(str::to_string),
                retry_ms: reader.retry_ms,
            });
        }
        let body = read_capped(resp, sse::MAX_EVENT)
            .await
            .map_err(|e| map_reqwest_error(&url, Duration::from_secs(0), e))?
            .ok_or_else(|| Error::Mcp {
                detail: format!(
                    "{url} answered with a message over {} MiB, more than Latchkey accepts",
                    sse::MAX_EVENT >> 20
                ),
            })?;
        let text = String::from_utf8_lossy(&body);
        if !text.trim().is_empty() {
            if serde_json::from_str::<serde::de::IgnoredAny>(&text).is_err() {
                return Err(Error::Mcp {
                    detail: format!("{url} answered with something that is not JSON"),
                });
            }
            self.hand_on(&text, answering, out);
        }
        Ok(Ended {
            answered: true,
            ..Ended::default()
        })
    }

    /// Writes one message on; returns whether it answers `answering`.
    fn hand_on(
        &self,
        text: &str,
        answering: Option<&serde_json::Value>,
        out: &(dyn Fn(String) + Send + Sync),
    ) -> bool {
        let Ok(m) = Message::read(text) else {
            tracing::warn!("the server sent a message that is not JSON-RPC; dropped");
            return false;
        };
        let answers = m.method.is_none() && answering.is_some() && m.id.as_ref() == answering;
        if answers {
            if let Some(v) = m.protocol_version.filter(|v| !v.is_empty()) {
                // The version the server picked in its answer to `initialize`.
                self.state().protocol_version = Some(v);
            }
        }
        out(one_line(text));
        answers
    }

    /// Opens an HTTP+SSE session (2024-11-05): the answer `resp` to a GET of the server's
    /// address must be an event stream whose first event, `endpoint`, names where messages
    /// go (resolved against the server's address; it must be on the same origin). Returns
    /// the stream's reader and the response to keep reading ([`Relay::read_legacy`]).
    ///
    /// Errors: [`Error::Mcp`] when the stream is not one or names no endpoint.
    pub async fn open_legacy(
        &self,
        mut resp: reqwest::Response,
    ) -> Result<(sse::Reader, reqwest::Response, Vec<sse::Event>)> {
        let url = resp.url().clone();
        let not_legacy = |why: &str| Error::Mcp {
            detail: format!("{} speaks neither MCP transport: {why}", self.url),
        };
        if !content_type(&resp).starts_with("text/event-stream") {
            return Err(not_legacy("its GET answer is not an event stream"));
        }
        let mut reader = sse::Reader::default();
        loop {
            let chunk = resp
                .chunk()
                .await
                .map_err(|e| map_reqwest_error(&url, Duration::from_secs(0), e))?
                .ok_or_else(|| not_legacy("its event stream ended before naming an endpoint"))?;
            let mut events = reader
                .feed(&chunk)
                .map_err(|_| not_legacy("its event stream sent an endless event"))?;
            if let Some(i) = events.iter().position(|e| e.event == "endpoint") {
                let endpoint = self
                    .url
                    .join(events[i].data.trim())
                    .map_err(|_| not_legacy("its endpoint event is not an address"))?;
                if endpoint.origin() != self.url.origin() {
                    return Err(not_legacy("its endpoint is on another origin"));
                }
                self.state().mode = Mode::Legacy { endpoint };
                let rest = events.split_off(i + 1);
                return Ok((reader, resp, rest));
            }
        }
    }

    /// Keeps reading an HTTP+SSE stream opened by [`Relay::open_legacy`], handing on every
    /// `message` event (`pending` first) until it ends.
    pub async fn read_legacy(
        &self,
        mut reader: sse::Reader,
        mut resp: reqwest::Response,
        pending: Vec<sse::Event>,
        out: &(dyn Fn(String) + Send + Sync),
    ) -> Result<()> {
        let url = resp.url().clone();
        let mut events = pending;
        loop {
            for e in events.drain(..) {
                if e.event == "message" && !e.data.trim().is_empty() {
                    self.hand_on(&e.data, None, out);
                }
            }
            let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|e| map_reqwest_error(&url, Duration::from_secs(0), e))?
            else {
                return Ok(());
            };
            events = reader.feed(&chunk).map_err(|_| Error::Mcp {
                detail: "the server's event stream sent an endless event".into(),
            })?;
        }
    }
}

/// The first value of header `name` in `resp`, when it is text.
pub fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Every value of header `name` in `resp` that is text.
pub fn headers(resp: &reqwest::Response, name: &str) -> Vec<String> {
    resp.headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect()
}

fn content_type(resp: &reqwest::Response) -> String {
    header(resp, "content-type")
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The refusal `resp` (a 401 or 403) carries, as [`Error::TokenRejected`].
pub fn refusal(resp: &reqwest::Response) -> Error {
    let values = headers(resp, "www-authenticate");
    mcp::token_rejected(resp.status().as_u16(), values.iter().map(String::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::canned::{Canned, Expect};

    const URL: &str = "https://mcp.example.com/mcp";

    fn collect() -> (Arc<Mutex<Vec<String>>>, impl Fn(String) + Send + Sync) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l = lines.clone();
        (lines, move |s: String| l.lock().unwrap().push(s))
    }

    #[tokio::test]
    async fn initialize_keeps_the_session_and_version_for_later_requests() {
        let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
        let canned = Canned::new([
            Expect::post(URL)
                .with_header("mcp-protocol-version", "2025-06-18")
                .with_header("authorization", "Bearer at-1")
                .with_header("accept", ACCEPT_BOTH)
                .respond_header("mcp-session-id", "s-1")
                .respond_header("content-type", "text/event-stream")
                .respond_body(
                    "id: e1\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":0,\ndata: \"result\":{\"protocolVersion\":\"2025-03-26\"}}\n\n",
                ),
            Expect::post(URL)
                .with_header("mcp-session-id", "s-1")
                .with_header("mcp-protocol-version", "2025-03-26")
                .respond(202),
            Expect::new(reqwest::Method::DELETE, URL).with_header("mcp-session-id", "s-1"),
        ]);
        let relay = Relay::new(canned.clone(), Url::parse(URL).unwrap());
        let token = Secret::new("at-1");
        let msg = Message::read(init).unwrap();
        let resp = relay.post(init, &msg, Some(&token)).await.unwrap();
        let (lines, out) = collect();
        let read = relay.read(resp, msg.id.as_ref(), &out).await.unwrap();
        assert!(read.answered);
        assert_eq!(
            lines.lock().unwrap().as_slice(),
            [r#"{"jsonrpc":"2.0","id":0, "result":{"protocolVersion":"2025-03-26"}}"#]
        );
        let note = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
        let resp = relay
            .post(note, &Message::read(note).unwrap(), None)
            .await
            .unwrap();
        assert_eq!(resp.status(), 202);
        assert!(relay.close(None).await);
        canned.assert_done();
        assert_eq!(canned.sent()[1].body, note.as_bytes(), "byte for byte");
    }

    #[tokio::test]
    async fn a_json_answer_over_the_cap_is_refused_not_held() {
        let mut big = br#"{"jsonrpc":"2.0","id":"a","result":{"x":""#.to_vec();
        big.resize(sse::MAX_EVENT + 10, b'x');
        big.extend_from_slice(br#""}}"#);
        let canned = Canned::new([Expect::post(URL)
            .respond_header("content-type", "application/json")
            .respond_body(big)]);
        let relay = Relay::new(canned.clone(), Url::parse(URL).unwrap());
        let call = r#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"x"}}"#;
        let msg = Message::read(call).unwrap();
        let resp = relay.post(call, &msg, None).await.unwrap();
        let (lines, out) = collect();
        let e = relay.read(resp, msg.id.as_ref(), &out).await.unwrap_err();
        assert!(matches!(e, Error::Mcp { .. }), "{e}");
        assert!(e.to_string().contains("MiB"), "{e}");
        assert!(lines.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_stream_that_ends_before_its_answer_can_be_resumed() {
        let canned = Canned::new([Expect::post(URL)
            .respond_header("content-type", "text/event-stream")
            .respond_body(
                "id: 7\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\n\n",
            )]);
        let relay = Relay::new(canned.clone(), Url::parse(URL).unwrap());
        let call = r#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"x"}}"#;
        let msg = Message::read(call).unwrap();
        let resp = relay.post(call, &msg, None).await.unwrap();
        let (lines, out) = collect();
        let read = relay.read(resp, msg.id.as_ref(), &out).await.unwrap();
        assert_eq!(read.resume_after(msg.id.as_ref()), Some("7"));
        assert_eq!(lines.lock().unwrap().len(), 1, "the notification went on");
    }

    #[tokio::test]
    async fn a_legacy_stream_names_the_endpoint_on_its_origin_only() {
        let canned = Canned::new([
            Expect::get(URL)
                .respond_header("content-type", "text/event-stream")
                .respond_body("event: endpoint\ndata: /messages?session=9\n\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n\n"),
            Expect::get(URL)
                .respond_header("content-type", "text/event-stream")
                .respond_body("event: endpoint\ndata: https://elsewhere.example.com/m\n\n"),
        ]);
        let relay = Relay::new(canned.clone(), Url::parse(URL).unwrap());
        let resp = relay.get_stream(None, None).await.unwrap();
        let (reader, resp, rest) = relay.open_legacy(resp).await.unwrap();
        assert_eq!(
            relay.mode(),
            Mode::Legacy {
                endpoint: Url::parse("https://mcp.example.com/messages?session=9").unwrap()
            }
        );
        let (lines, out) = collect();
        relay.read_legacy(reader, resp, rest, &out).await.unwrap();
        assert_eq!(lines.lock().unwrap().len(), 1);
        let other = Relay::new(canned.clone(), Url::parse(URL).unwrap());
        let resp = other.get_stream(None, None).await.unwrap();
        let e = other.open_legacy(resp).await.unwrap_err();
        assert!(e.to_string().contains("another origin"), "{e}");
    }

    #[test]
    fn messages_are_read_for_what_the_relay_needs() {
        let m = Message::read(r#"[{"jsonrpc":"2.0","id":3,"method":"ping"}]"#).unwrap();
        assert!(m.is_request());
        let n = Message::read(
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}}"#,
        )
        .unwrap();
        assert!(!n.is_request());
        assert!(Message::read("[1]").is_err());
        assert!(Message::read("{").is_err());
        assert_eq!(one_line("{\"a\":\n1}\r\n"), "{\"a\": 1}");
    }
}
