//! Just enough of MCP over Streamable HTTP to probe, check and call a tool with a token
//! (MCP specification, "Lifecycle" and "Transports: Streamable HTTP", revisions 2025-03-26 to
//! 2026-07-28).
//!
//! Version negotiation: `initialize` offers the newest revision Latchkey speaks
//! ([`PROTOCOL_VERSION`]); the server answers with the one it picked, which Latchkey accepts
//! when it speaks it ([`negotiate`]). Every request of a session carries
//! `MCP-Protocol-Version` (on `initialize`, the version offered) and, once the server gave
//! one, `Mcp-Session-Id`. Answers are read as JSON or as an SSE stream.

use crate::error::{Error, Result};
use crate::protocol::http::{Fetched, Http, Outgoing};
use crate::protocol::www_authenticate;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use url::Url;

/// The MCP revisions Latchkey speaks, newest first.
pub const PROTOCOL_VERSIONS: [&str; 4] = ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"];

/// The revision Latchkey offers in `initialize`: the newest it speaks.
pub const PROTOCOL_VERSION: &str = PROTOCOL_VERSIONS[0];

/// The `initialize` request with JSON-RPC id `id`, offering revision `version`.
pub fn initialize_body(id: u64, version: &str) -> serde_json::Value {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": "initialize",
        "params": {
            "protocolVersion": version,
            "capabilities": {},
            "clientInfo": {"name": "latchkey", "version": env!("CARGO_PKG_VERSION")}
        }
    })
}

/// The revision of a session, from the server's answer to `initialize` (MCP "Lifecycle:
/// version negotiation"): the one the server `picked` when Latchkey speaks it; the one
/// `offered` when the server named none.
///
/// Errors: [`Error::Mcp`] naming the server's revision and Latchkey's when Latchkey does not
/// speak the one picked (the specification asks the client to disconnect then).
pub fn negotiate(picked: Option<&str>, offered: &str) -> Result<&'static str> {
    let wanted = picked.unwrap_or(offered);
    PROTOCOL_VERSIONS
        .iter()
        .find(|v| **v == wanted)
        .copied()
        .ok_or_else(|| Error::Mcp {
            detail: format!(
                "the server speaks MCP revision {wanted:?}, which Latchkey does not (it speaks {} to {}); update Latchkey or ask the server's operator which revisions it supports",
                PROTOCOL_VERSIONS[PROTOCOL_VERSIONS.len() - 1],
                PROTOCOL_VERSIONS[0]
            ),
        })
}

/// Whether `resp` is an HTTP 400 about the `MCP-Protocol-Version` header or the protocol
/// version (missing, or one the server does not support), judged by its body's words, e.g.
/// "Missing MCP-Protocol-Version header" or "Unsupported protocol version".
pub fn refuses_protocol_version(resp: &Fetched) -> bool {
    if resp.status != 400 {
        return false;
    }
    let text = String::from_utf8_lossy(&resp.body).to_ascii_lowercase();
    ["protocol-version", "protocol version", "protocolversion"]
        .iter()
        .any(|w| text.contains(w))
}

/// The revision to offer after a refusal whose `body` lists the versions the server supports:
/// the newest of them Latchkey speaks, unless it is `offered` already. None when the body
/// names no revision Latchkey speaks.
pub fn version_from_refusal(body: &str, offered: &str) -> Option<&'static str> {
    // "Unsupported protocol version: X (supported versions: A, B)": only what follows the
    // last "supported" lists what the server speaks.
    let lower = body.to_ascii_lowercase();
    let listed = lower.rfind("supported").map_or(&lower[..], |i| &lower[i..]);
    PROTOCOL_VERSIONS
        .iter()
        .copied()
        .find(|v| listed.contains(v))
        .filter(|v| *v != offered)
}

/// A server's answer to one `initialize` without a session, as discovery and status probe a
/// server: sent without `MCP-Protocol-Version` first (any revision's server accepts that), and
/// when the server answers 400 naming the protocol version, once more with the header (the
/// revision offered, or one the refusal lists). `token`, when given, goes as a bearer token.
///
/// Errors: the transport's ([`Error::Unreachable`], [`Error::Timeout`]); an HTTP status is an
/// answer, not an error.
pub async fn probe(http: &Http, url: &Url, token: Option<&Secret>) -> Result<Fetched> {
    let first = http.send(initialize_request(url, token, None)).await?;
    if !refuses_protocol_version(&first) {
        return Ok(first);
    }
    let body = String::from_utf8_lossy(&first.body);
    let version = version_from_refusal(&body, "").unwrap_or(PROTOCOL_VERSION);
    http.send(initialize_request(url, token, Some(version)))
        .await
}

/// The `initialize` POST (id 1) offering `header_version`, or [`PROTOCOL_VERSION`] without
/// the header when None.
fn initialize_request(url: &Url, token: Option<&Secret>, header_version: Option<&str>) -> Outgoing {
    let body = initialize_body(1, header_version.unwrap_or(PROTOCOL_VERSION));
    mcp_post(url, token, header_version, None, &body)
}

/// A Streamable HTTP POST of one JSON-RPC message: both answer types accepted, the bearer
/// token, the protocol version and the session id when known.
fn mcp_post(
    url: &Url,
    token: Option<&Secret>,
    version: Option<&str>,
    session_id: Option<&str>,
    body: &serde_json::Value,
) -> Outgoing {
    let mut req = Outgoing::post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json");
    if let Some(t) = token {
        req = req.bearer_auth(t.expose());
    }
    if let Some(v) = version {
        req = req.header("mcp-protocol-version", v);
    }
    if let Some(s) = session_id {
        req = req.header("mcp-session-id", s);
    }
    req.body(body.to_string())
}

/// A tool as `tools/list` names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Who answered `initialize`, and the revision the session speaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    pub name: String,
    #[serde(default)]
    pub version: String,
    pub protocol_version: String,
}

/// One MCP session, with one token or none (a server may answer some requests anonymously).
pub struct McpSession<'a> {
    http: &'a Http,
    url: Url,
    token: Option<Secret>,
    session_id: Option<String>,
    protocol_version: &'static str,
    next_id: u64,
}

impl<'a> McpSession<'a> {
    /// A session with `url`, sending `token` as a bearer token on every request when given.
    pub fn new(http: &'a Http, url: Url, token: Option<Secret>) -> Self {
        McpSession {
            http,
            url,
            token,
            session_id: None,
            protocol_version: PROTOCOL_VERSION,
            next_id: 1,
        }
    }

    /// `initialize` and `notifications/initialized`. Offers [`PROTOCOL_VERSION`]; when the
    /// server refuses it with a 400 that lists the revisions it supports, offers the newest of
    /// those Latchkey speaks, once. Keeps the `Mcp-Session-Id` the server gives.
    ///
    /// Errors: [`Error::TokenRejected`] on 401/403 (with the challenge), [`Error::Mcp`] for a
    /// JSON-RPC error or a revision Latchkey does not speak, [`Error::HttpStatus`] otherwise.
    pub async fn initialize(&mut self) -> Result<ServerInfo> {
        let mut offered = PROTOCOL_VERSION;
        let mut id = self.next_id();
        let mut resp = self.post(&initialize_body(id, offered), offered).await?;
        if refuses_protocol_version(&resp) {
            if let Some(v) = version_from_refusal(&String::from_utf8_lossy(&resp.body), offered) {
                offered = v;
                id = self.next_id();
                resp = self.post(&initialize_body(id, offered), offered).await?;
            }
        }
        let result = self.answer(&resp, id)?;
        self.session_id = resp.header_values("mcp-session-id").into_iter().next();
        let version = negotiate(result["protocolVersion"].as_str(), offered)?;
        self.protocol_version = version;
        let note = serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let ack = self.post(&note, version).await?;
        if !(200..300).contains(&ack.status) {
            return Err(self.status_error(&ack));
        }
        Ok(ServerInfo {
            name: result["serverInfo"]["name"]
                .as_str()
                .unwrap_or("(unnamed)")
                .to_string(),
            version: result["serverInfo"]["version"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            protocol_version: version.to_string(),
        })
    }

    /// `tools/list`. Errors: as [`McpSession::initialize`], and [`Error::Mcp`] for a list
    /// that is not one.
    pub async fn list_tools(&mut self) -> Result<Vec<ToolInfo>> {
        let result = self.request("tools/list", serde_json::json!({})).await?;
        serde_json::from_value(result["tools"].clone()).map_err(|e| Error::Mcp {
            detail: format!("the tool list is not valid ({e})"),
        })
    }

    /// `tools/call` of `name` with `arguments` (a JSON object); the tool's result as sent.
    /// Errors: as [`McpSession::initialize`].
    pub async fn call_tool(
        &mut self,
        name: &str,
        arguments: serde_json::Value,
    ) -> Result<serde_json::Value> {
        self.request(
            "tools/call",
            serde_json::json!({"name": name, "arguments": arguments}),
        )
        .await
    }

    async fn request(
        &mut self,
        method: &str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value> {
        let id = self.next_id();
        let body =
            serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let resp = self.post(&body, self.protocol_version).await?;
        self.answer(&resp, id)
    }

    /// The result for `id` in `resp`, or the HTTP status as the error when the body holds no
    /// JSON-RPC answer.
    fn answer(&self, resp: &Fetched, id: u64) -> Result<serde_json::Value> {
        rpc_result(resp, id).map_err(|e| match e {
            Error::Mcp { .. } if !(200..300).contains(&resp.status) => self.status_error(resp),
            e => e,
        })
    }

    fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    async fn post(&self, body: &serde_json::Value, version: &str) -> Result<Fetched> {
        let req = mcp_post(
            &self.url,
            self.token.as_ref(),
            Some(version),
            self.session_id.as_deref(),
            body,
        );
        let resp = self.http.send(req).await?;
        if resp.status == 401 || resp.status == 403 {
            return Err(self.status_error(&resp));
        }
        Ok(resp)
    }

    fn status_error(&self, resp: &Fetched) -> Error {
        if resp.status == 401 || resp.status == 403 {
            let values = resp.header_values("www-authenticate");
            return token_rejected(resp.status, values.iter().map(String::as_str));
        }
        Error::HttpStatus {
            url: self.url.to_string(),
            status: resp.status,
            doing: "talking MCP".into(),
            body: Some(resp.text_excerpt()),
        }
    }
}

/// The refusal of a request answered 401 or 403 (`status`), with what the Bearer challenge in
/// the `WWW-Authenticate` header values said: `error`, `error_description`, `scope`,
/// `resource_metadata` (RFC 6750 section 3; RFC 9728 section 5.1). A header that cannot be
/// read counts as a challenge without parameters.
pub fn token_rejected<'a>(status: u16, www_authenticate: impl Iterator<Item = &'a str>) -> Error {
    let b = www_authenticate::bearer(www_authenticate)
        .ok()
        .flatten()
        .unwrap_or_default();
    Error::TokenRejected {
        status,
        error: b.error,
        description: b.error_description,
        scope: b.scope,
        resource_metadata: b.resource_metadata,
    }
}

/// The JSON-RPC result for `id`, from a JSON body or an SSE stream.
fn rpc_result(resp: &Fetched, id: u64) -> Result<serde_json::Value> {
    let messages: Vec<serde_json::Value> = if resp.content_type().starts_with("text/event-stream") {
        String::from_utf8_lossy(&resp.body)
            .replace("\r\n", "\n")
            .split("\n\n")
            .filter_map(|event| {
                let data: Vec<&str> = event
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(|d| d.strip_prefix(' ').unwrap_or(d))
                    .collect();
                serde_json::from_str(&data.join("\n")).ok()
            })
            .collect()
    } else {
        match serde_json::from_slice::<serde_json::Value>(&resp.body) {
            Ok(serde_json::Value::Array(a)) => a,
            Ok(v) => vec![v],
            Err(_) => vec![],
        }
    };
    let msg = messages
        .into_iter()
        .find(|m| m["id"].as_u64() == Some(id))
        .ok_or_else(|| Error::Mcp {
            detail: format!(
                "no answer to request {id} (HTTP {}, {})",
                resp.status,
                if resp.body.is_empty() {
                    "empty body".to_string()
                } else {
                    resp.text_excerpt()
                }
            ),
        })?;
    if let Some(err) = msg.get("error") {
        return Err(Error::Mcp {
            detail: format!(
                "{} (code {})",
                err["message"].as_str().unwrap_or("unknown error"),
                err["code"]
            ),
        });
    }
    Ok(msg["result"].clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::canned::{Canned, Expect};
    use serde_json::json;

    const SERVER: &str = "https://mcp.example.com/mcp";

    fn url() -> Url {
        Url::parse(SERVER).unwrap()
    }

    fn initialized(id: u64, version: &str) -> serde_json::Value {
        json!({"jsonrpc": "2.0", "id": id, "result": {
            "protocolVersion": version,
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "fixture", "version": "1.0.0"}}})
    }

    fn sse(message: &serde_json::Value) -> String {
        format!("event: message\r\nid: 1\r\ndata: {message}\r\n\r\n")
    }

    #[test]
    fn offers_the_newest_and_accepts_every_revision_it_speaks() {
        assert_eq!(PROTOCOL_VERSION, "2026-07-28");
        assert_eq!(
            initialize_body(1, PROTOCOL_VERSION)["params"]["protocolVersion"],
            "2026-07-28"
        );
        for v in ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"] {
            assert_eq!(negotiate(Some(v), PROTOCOL_VERSION).unwrap(), v);
        }
        // A server that names none speaks what was offered.
        assert_eq!(negotiate(None, "2025-11-25").unwrap(), "2025-11-25");
        for unknown in ["2024-11-05", "2099-01-01", ""] {
            let e = negotiate(Some(unknown), PROTOCOL_VERSION).unwrap_err();
            let msg = e.to_string();
            assert!(
                msg.contains(&format!("{unknown:?}")) && msg.contains("2025-03-26 to 2026-07-28"),
                "{msg}"
            );
        }
    }

    #[test]
    fn a_refusal_names_the_protocol_version_and_the_revisions_to_offer() {
        let refusal = |status: u16, body: &str| Fetched {
            status,
            headers: Default::default(),
            body: body.as_bytes().to_vec(),
            url: url(),
        };
        assert!(refuses_protocol_version(&refusal(
            400,
            r#"{"error":"Missing MCP-Protocol-Version header"}"#
        )));
        assert!(refuses_protocol_version(&refusal(
            400,
            "Bad Request: Unsupported protocol version: 2026-07-28"
        )));
        assert!(!refuses_protocol_version(&refusal(400, "Parse error")));
        assert!(!refuses_protocol_version(&refusal(
            401,
            "Missing MCP-Protocol-Version header"
        )));
        let sdk = "Bad Request: Unsupported protocol version: 2026-07-28 (supported versions: 2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05)";
        assert_eq!(version_from_refusal(sdk, "2026-07-28"), Some("2025-11-25"));
        assert_eq!(
            version_from_refusal("Unsupported protocol version: 2026-07-28", "2026-07-28"),
            None
        );
        assert_eq!(
            version_from_refusal("Missing MCP-Protocol-Version header", ""),
            None
        );
    }

    #[tokio::test]
    async fn every_request_carries_the_version_and_the_session_and_sse_is_read() {
        let canned = Canned::new([
            Expect::post(SERVER)
                .with_header("mcp-protocol-version", "2026-07-28")
                .with_header("accept", "application/json, text/event-stream")
                .with_header("authorization", "Bearer at-1")
                .respond(200)
                .respond_header("content-type", "text/event-stream")
                .respond_header("mcp-session-id", "s-42")
                .respond_body(sse(&initialized(1, "2025-11-25"))),
            Expect::post(SERVER)
                .with_header("mcp-protocol-version", "2025-11-25")
                .with_header("mcp-session-id", "s-42")
                .respond(202),
            Expect::post(SERVER)
                .with_header("mcp-protocol-version", "2025-11-25")
                .with_header("mcp-session-id", "s-42")
                .respond(200)
                .respond_header("content-type", "text/event-stream")
                .respond_body(format!(
                    ": keep-alive\n\n{}",
                    sse(&json!({"jsonrpc": "2.0", "id": 2, "result": {"tools": [{"name": "whoami"}]}}))
                )),
        ]);
        let http = canned.http();
        let mut s = McpSession::new(&http, url(), Some(Secret::new(String::from("at-1"))));
        let info = s.initialize().await.unwrap();
        assert_eq!(info.protocol_version, "2025-11-25");
        assert_eq!(info.name, "fixture");
        let tools = s.list_tools().await.unwrap();
        assert_eq!(tools[0].name, "whoami");
        canned.assert_done();
        // The initialize body offers the newest revision, byte for byte.
        assert_eq!(
            canned.sent()[0].body,
            initialize_body(1, "2026-07-28").to_string().as_bytes()
        );
    }

    #[tokio::test]
    async fn a_refused_version_is_replaced_once_by_one_the_server_lists() {
        let canned = Canned::new([
            Expect::post(SERVER)
                .with_header("mcp-protocol-version", "2026-07-28")
                .respond_json(400, &json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32000,
                    "message": "Bad Request: Unsupported protocol version: 2026-07-28 (supported versions: 2025-06-18, 2025-03-26)"}})),
            Expect::post(SERVER)
                .with_header("mcp-protocol-version", "2025-06-18")
                .respond_json(200, &initialized(2, "2025-06-18")),
            Expect::post(SERVER)
                .with_header("mcp-protocol-version", "2025-06-18")
                .respond(202),
        ]);
        let http = canned.http();
        let mut s = McpSession::new(&http, url(), None);
        assert_eq!(s.initialize().await.unwrap().protocol_version, "2025-06-18");
        canned.assert_done();
        let second = canned.sent()[1].json().unwrap();
        assert_eq!(second["params"]["protocolVersion"], "2025-06-18");
        // Anonymous: no authorization header at all.
        assert!(canned
            .sent()
            .iter()
            .all(|s| s.header("authorization").is_none()));
    }

    #[tokio::test]
    async fn a_server_picking_a_revision_latchkey_does_not_speak_is_left() {
        let canned =
            Canned::new([Expect::post(SERVER).respond_json(200, &initialized(1, "2024-11-05"))]);
        let http = canned.http();
        let err = McpSession::new(&http, url(), None)
            .initialize()
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Mcp { .. }), "{err:?}");
        canned.assert_done();
    }

    #[tokio::test]
    async fn a_probe_refused_for_the_missing_header_retries_once_with_it() {
        let canned = Canned::new([
            Expect::post(SERVER).respond_json(
                400,
                &json!({"error": "invalid_request", "error_description": "Missing MCP-Protocol-Version header"}),
            ),
            Expect::post(SERVER)
                .with_header("mcp-protocol-version", "2026-07-28")
                .respond(401)
                .respond_header("www-authenticate", "Bearer"),
        ]);
        let resp = probe(&canned.http(), &url(), None).await.unwrap();
        assert_eq!(resp.status, 401);
        canned.assert_done();
        let sent = canned.sent();
        assert_eq!(sent[0].header("mcp-protocol-version"), None);
        assert_eq!(
            sent[1].body,
            initialize_body(1, "2026-07-28").to_string().as_bytes()
        );
    }

    #[tokio::test]
    async fn a_probe_refused_twice_is_not_retried_again() {
        let refusal = || {
            Expect::post(SERVER).respond_json(
                400,
                &json!({"error": "Missing MCP-Protocol-Version header"}),
            )
        };
        let canned = Canned::new([refusal(), refusal()]);
        let resp = probe(&canned.http(), &url(), None).await.unwrap();
        assert_eq!(resp.status, 400);
        canned.assert_done();
        assert_eq!(canned.requests().len(), 2);
    }
}
