//! Just enough of MCP over Streamable HTTP to probe, check and call a tool with a token.

use crate::error::{Error, Result};
use crate::protocol::http::{Fetched, Http, Outgoing};
use crate::protocol::www_authenticate;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use url::Url;

pub const PROTOCOL_VERSION: &str = "2025-06-18";

pub fn initialize_body(id: u64) -> serde_json::Value {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "latchkey", "version": env!("CARGO_PKG_VERSION")}
        }
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    pub name: String,
    #[serde(default)]
    pub version: String,
    pub protocol_version: String,
}

/// One MCP session with one token.
pub struct McpSession<'a> {
    http: &'a Http,
    url: Url,
    token: Secret,
    session_id: Option<String>,
    protocol_version: Option<String>,
    next_id: u64,
}

impl<'a> McpSession<'a> {
    pub fn new(http: &'a Http, url: Url, token: Secret) -> Self {
        McpSession {
            http,
            url,
            token,
            session_id: None,
            protocol_version: None,
            next_id: 1,
        }
    }

    pub async fn initialize(&mut self) -> Result<ServerInfo> {
        let id = self.next_id();
        let resp = self.post(&initialize_body(id)).await?;
        self.session_id = resp.header_values("mcp-session-id").into_iter().next();
        let result = rpc_result(&resp, id)?;
        let version = result["protocolVersion"]
            .as_str()
            .unwrap_or(PROTOCOL_VERSION)
            .to_string();
        self.protocol_version = Some(version.clone());
        let note = serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let ack = self.post(&note).await?;
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
            protocol_version: version,
        })
    }

    pub async fn list_tools(&mut self) -> Result<Vec<ToolInfo>> {
        let result = self.request("tools/list", serde_json::json!({})).await?;
        serde_json::from_value(result["tools"].clone()).map_err(|e| Error::Mcp {
            detail: format!("the tool list is not valid ({e})"),
        })
    }

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
        let resp = self.post(&body).await?;
        rpc_result(&resp, id).map_err(|e| match e {
            Error::Mcp { .. } if !(200..300).contains(&resp.status) => self.status_error(&resp),
            e => e,
        })
    }

    fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    async fn post(&self, body: &serde_json::Value) -> Result<Fetched> {
        let mut req = Outgoing::post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .bearer_auth(self.token.expose())
            .body(body.to_string());
        if let Some(s) = &self.session_id {
            req = req.header("mcp-session-id", s);
        }
        if let Some(v) = &self.protocol_version {
            req = req.header("mcp-protocol-version", v);
        }
        let resp = self.http.send(req).await?;
        if resp.status == 401 || resp.status == 403 {
            return Err(self.status_error(&resp));
        }
        Ok(resp)
    }

    fn status_error(&self, resp: &Fetched) -> Error {
        if resp.status == 401 || resp.status == 403 {
            let values = resp.header_values("www-authenticate");
            let b = www_authenticate::bearer(values.iter().map(String::as_str))
                .ok()
                .flatten()
                .unwrap_or_default();
            return Error::TokenRejected {
                status: resp.status,
                error: b.error,
                description: b.error_description,
                scope: b.scope,
            };
        }
        Error::HttpStatus {
            url: self.url.to_string(),
            status: resp.status,
            doing: "talking MCP".into(),
            body: Some(resp.text_excerpt()),
        }
    }
}

/// The JSON-RPC result for `id`, from a JSON body or an SSE stream.
fn rpc_result(resp: &Fetched, id: u64) -> Result<serde_json::Value> {
    let messages: Vec<serde_json::Value> = if resp.content_type().starts_with("text/event-stream") {
        String::from_utf8_lossy(&resp.body)
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
