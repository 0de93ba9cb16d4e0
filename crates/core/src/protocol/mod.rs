//! The wire: HTTP with a redacted trace, the `WWW-Authenticate` parser (RFC 6750 section 3,
//! RFC 9110 section 11.6.1), protected resource metadata (RFC 9728) and authorization server
//! metadata (RFC 8414), discovery from a server's URL to its authorization server, and the
//! MCP session (streamable HTTP), and the relay of a bridge's messages with an event-stream
//! reader. Every request goes through one transport, which tests
//! replace with canned exchanges. Knows nothing of storage or of the AI tools.

pub mod canned;
pub mod discovery;
pub mod http;
pub mod mcp;
pub mod metadata;
pub mod relay;
pub mod sse;
pub mod test_hosts;
pub mod trace;
pub mod urls;
pub mod www_authenticate;
