//! Just enough of MCP over Streamable HTTP to probe, check and call a tool.

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
