//! OAuth 2.1 as MCP clients use it: the sign-in plan (scopes with where each came from),
//! client registration (pre-registered, client id metadata document, RFC 7591 dynamic
//! registration), the loopback redirect (RFC 8252 section 7.3) and its pasted-back answer when the browser is
//! on another computer (`paste_back`), whether a browser can open here at all (`browser`), PKCE S256 (RFC 7636),
//! the code exchange and refresh (RFC 6749 sections 4.1.3 and 6), resource indicators
//! (RFC 8707), revocation (RFC 7009), when a token must be renewed (`renewal_timing`), and the
//! table of what known sign-in servers do differently (`quirks`). Talks to the authorization
//! server; stores nothing.

pub mod browser;
pub mod device;
pub mod loopback;
pub mod paste_back;
pub mod plan;
pub mod providers;
pub mod quirks;
pub mod register;
pub mod renewal_timing;
pub mod revoke;
pub mod token_response;
pub mod tokens;
