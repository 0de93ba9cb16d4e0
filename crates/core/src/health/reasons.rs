//! Why a server does not work, in plain words, with the one action that fixes it. Each
//! reason has a stable id the app and scripts can rely on.

use crate::error::{Error, NameCandidate, OAuthError};
use crate::store::vault::NeedsSignIn;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use ts_rs::TS;

/// What the app offers as the fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Fix {
    SignIn,
    SignInWithRecommendedScopes,
    SignInWithMoreScopes,
    ConfigureClient,
    Retry,
    CheckAddress,
    UnlockKeychain,
    ContactServerOperator,
    Nothing,
}

impl Fix {
    pub fn words(self) -> &'static str {
        match self {
            Fix::SignIn => "Sign in again.",
            Fix::SignInWithRecommendedScopes => "Sign in again with the recommended permissions.",
            Fix::SignInWithMoreScopes => {
                "Sign in again, approving the extra permissions the server asks for."
            }
            Fix::ConfigureClient => {
                "Register an app at the sign-in server and enter its client ID."
            }
            Fix::Retry => "Try again in a minute.",
            Fix::CheckAddress => "Check the server's address.",
            Fix::UnlockKeychain => "Unlock your keychain, then try again.",
            Fix::ContactServerOperator => {
                "Tell the server's operator; the details below are what they need."
            }
            Fix::Nothing => "Nothing to do.",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Reason {
    /// Stable across versions ("refresh_token_reused", "name_not_resolved", ...). Borrowed
    /// from the catalogue, owned when read back from JSON (the window reads the tray's).
    #[ts(type = "string")]
    pub id: Cow<'static, str>,
    pub title: String,
    pub explanation: String,
    pub fix: Fix,
    /// The technical detail: status, the AS's error and description, the URL that failed.
    pub detail: String,
}

fn r(id: &'static str, title: &str, explanation: &str, fix: Fix, detail: String) -> Reason {
    Reason {
        id: Cow::Borrowed(id),
        title: title.into(),
        explanation: explanation.into(),
        fix,
        detail,
    }
}

/// The reason behind a stored failure of a refresh.
pub fn from_needs_sign_in(n: &NeedsSignIn) -> Reason {
    let detail = format!(
        "{}{}",
        n.code,
        n.description
            .as_deref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default()
    );
    let d = n
        .description
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match n.code.as_str() {
        "invalid_grant" if d.contains("already used") || d.contains("reuse") => r(
            "refresh_token_reused",
            "The saved session was ended because it was used twice",
            "The sign-in server saw the same renewal used twice (often two programs renewing at once) and ended the session to be safe.",
            Fix::SignIn,
            detail,
        ),
        "invalid_grant" if d.contains("expired") => r(
            "refresh_token_expired",
            "The saved session expired",
            "The sign-in server only keeps a session for a limited time, and this one ran out.",
            Fix::SignIn,
            detail,
        ),
        "invalid_grant" => r(
            "refresh_token_rejected",
            "The sign-in server no longer accepts the saved session",
            "It was revoked or expired at the sign-in server (for example after a password change or by an administrator).",
            Fix::SignIn,
            detail,
        ),
        "invalid_client" | "unauthorized_client" => r(
            "client_unknown",
            "The sign-in server no longer knows Latchkey's registration",
            "The app registration was deleted, or the server now uses another sign-in server.",
            Fix::SignIn,
            detail,
        ),
        "client_drift" => r(
            "client_drift",
            "The saved registration belongs to another sign-in server",
            "The stored app registration and session do not match, so renewing could only fail.",
            Fix::SignIn,
            detail,
        ),
        crate::oauth::register::CLIENT_SECRET_EXPIRED => r(
            "client_secret_expired",
            "Latchkey's registration at the sign-in server expired",
            "The client secret the sign-in server gave Latchkey has passed its expiry date, and no new one could be read; signing in again registers Latchkey anew.",
            Fix::SignIn,
            detail,
        ),
        "no_refresh_token" => r(
            "expired_no_refresh",
            "The session ended and cannot be renewed",
            "The sign-in server gave no way to renew the session when you signed in.",
            Fix::SignIn,
            detail,
        ),
        _ => r(
            "refresh_failed",
            "Renewing the session failed",
            "The sign-in server refused to renew the session.",
            Fix::SignIn,
            detail,
        ),
    }
}

/// Why a server that answers anonymously is still "not signed in": it lets anyone connect
/// and list its tools, publishes protected resource metadata, and asks for a token when a
/// tool is used (Google's hosted MCP servers, the MCP conformance step-up scenarios). Shown
/// with [`crate::health::probe::Health::NeverSignedIn`]; `server` is its canonical URL.
pub fn sign_in_for_tools(server: &str) -> Reason {
    r(
        "sign_in_for_tools",
        "Not signed in (sign-in needed for tools)",
        "The server lets anyone connect and list its tools, but asks for sign-in when a tool is used.",
        Fix::SignIn,
        format!("{server} answered the MCP handshake without a token and publishes protected resource metadata naming its sign-in server"),
    )
}

/// The reason id of a server whose name could not be looked up.
pub const NAME_NOT_RESOLVED: &str = "name_not_resolved";
/// The reason id of a server the OS has no network route to.
pub const NO_ROUTE: &str = "no_route";

/// The reason behind an error of any flow.
pub fn from_error(e: &Error) -> Reason {
    let detail = e.to_string();
    match e {
        Error::NotSignedIn { .. } => r("no_credentials", "Not signed in yet", "Latchkey has no credentials for this server.", Fix::SignIn, detail),
        Error::NeedsSignIn { .. } => r("needs_sign_in", "Needs sign-in", "The saved session can no longer be used.", Fix::SignIn, detail),
        Error::OAuth(o) => match o.code.as_str() {
            "invalid_scope" => r("scope_refused", "The sign-in server refused a requested permission", "One of the permissions asked for cannot be granted to your account.", Fix::SignInWithRecommendedScopes, detail),
            "access_denied" => r("access_denied", "Sign-in was declined", "The sign-in was cancelled or your account is not allowed.", Fix::SignIn, detail),
            "invalid_client" | "unauthorized_client" => r("client_unknown", "The sign-in server does not know this app", "Its registration was deleted or is not allowed to sign in this way.", Fix::SignIn, detail),
            // At the code exchange it is the one-time code that was refused, not a session.
            "invalid_grant" if o.stage == crate::error::OAuthStage::TokenExchange => r("code_rejected", "The sign-in server did not accept the sign-in", "The one-time code from the browser was refused: it may have expired, been used already, or been meant for another app. Sign in again.", Fix::SignIn, detail),
            "invalid_grant" => r("refresh_token_rejected", "The sign-in server no longer accepts the saved session", "It was revoked or expired.", Fix::SignIn, detail),
            _ => r("as_error", "The sign-in server reported an error", "It refused the request; its description is below.", Fix::Retry, detail),
        },
        Error::InsufficientScope { .. } => r("insufficient_scope", "The server needs more permissions", "Your sign-in works, but this action needs permissions it was not granted.", Fix::SignInWithMoreScopes, detail),
        Error::TokenRejected { status: 403, error: Some(err), .. } if err == "insufficient_scope" => r("insufficient_scope", "The server needs more permissions", "Your sign-in works, but this action needs permissions it was not granted.", Fix::SignInWithMoreScopes, detail),
        Error::TokenRejected { description, .. } if description.as_deref().is_some_and(|d| d.to_ascii_lowercase().contains("audience")) => r("audience_rejected", "The server rejected the token as meant for another server", "The token's audience does not match this server; signing in again asks for a token for this server.", Fix::SignIn, detail),
        Error::TokenRejected { .. } => r("token_rejected", "The server rejected the saved token", "It may have been revoked, or the server expects different permissions.", Fix::SignIn, detail),
        Error::Unreachable { .. } if e.network_cause() == Some(crate::error::NetworkCause::NameNotResolved) => r(NAME_NOT_RESOLVED, "Cannot find the server on the network", "Its name could not be looked up: this computer may be offline, or the address is misspelled.", Fix::Retry, detail),
        Error::Unreachable { .. } if e.network_cause() == Some(crate::error::NetworkCause::NoRoute) => r(NO_ROUTE, "No network path to the server", "This computer has no route to it: it may be offline, or need a VPN.", Fix::Retry, detail),
        Error::Unreachable { .. } => r("unreachable", "Cannot reach the server", "The connection failed: the server is down, or the address or network is wrong.", Fix::Retry, detail),
        Error::Timeout { .. } => r("timeout", "The server did not answer in time", "It may be overloaded or down.", Fix::Retry, detail),
        Error::NoServer { .. } => r("server_not_found", "No MCP server at this address", "The address answered, but not as an MCP server (404).", Fix::CheckAddress, detail),
        Error::HttpStatus { status, .. } if *status >= 500 => r("server_error", "The server is failing", "It answered with a server error.", Fix::Retry, detail),
        Error::HttpStatus { .. } => r("http_error", "The server answered unexpectedly", "It answered with an HTTP error.", Fix::ContactServerOperator, detail),
        Error::BadMetadata { .. } => r("metadata_invalid", "The server's sign-in information is broken", "Its metadata cannot be read.", Fix::ContactServerOperator, detail),
        Error::ResourceMismatch { .. } => r("resource_mismatch", "The server's metadata describes another server", "Latchkey refuses it so a token never goes to the wrong server.", Fix::ContactServerOperator, detail),
        Error::NoAuthorizationServer { .. } => r("prm_invalid", "The server names no sign-in server", "Its protected resource metadata lists no authorization server.", Fix::ContactServerOperator, detail),
        Error::IssuerMismatch { .. } => r("issuer_mismatch", "The sign-in server's metadata does not match", "It claims a different identity than the address it was reached at.", Fix::ContactServerOperator, detail),
        Error::NoAuthServerMetadata { .. } => r("as_metadata_missing", "The sign-in server publishes no metadata", "Latchkey cannot find out how to sign in there.", Fix::ContactServerOperator, detail),
        Error::PkceUnsupported { .. } => r("pkce_unsupported", "The sign-in server does not support safe sign-in for apps", "It does not offer PKCE with S256.", Fix::ContactServerOperator, detail),
        Error::InsecureEndpoint { .. } => r("insecure_endpoint", "The sign-in server is not protected by HTTPS", "Tokens would travel unencrypted.", Fix::ContactServerOperator, detail),
        Error::PkceNotAdvertised { .. } => r("pkce_not_advertised", "The sign-in server does not say it supports safe sign-in for apps", "Its metadata has no code_challenge_methods_supported, so Latchkey does not know that it accepts PKCE with S256; many OpenID providers accept it anyway. Signing in asks you to confirm that it may be assumed.", Fix::SignIn, detail),
        Error::RegistrationRefused { .. } => r("registration_refused", "The sign-in server refused to register Latchkey", "It does not let this app register itself; an app you register there yourself works instead.", Fix::ConfigureClient, detail),
        Error::NoClientRegistration { .. } => r("no_client", "This sign-in server needs an app registered by you", "It does not let apps register themselves.", Fix::ConfigureClient, detail),
        Error::NotProtected { .. } => r("not_protected", "No sign-in needed", "The server works without credentials.", Fix::Nothing, detail),
        Error::Keychain { .. } => r("keychain_unavailable", "The keychain is locked or unavailable", "Latchkey keeps credentials in your keychain and cannot reach it.", Fix::UnlockKeychain, detail),
        Error::KeychainItemTooLarge { .. } => r("keychain_item_too_large", "The credentials are too large for the keychain", "The keychain limits the size of each item, and these credentials do not fit even split into parts.", Fix::ContactServerOperator, detail),
        Error::CorruptBundle { .. } => r("credentials_unreadable", "The saved credentials cannot be read", "They are damaged or from a newer Latchkey.", Fix::SignIn, detail),
        Error::StateMismatch | Error::IssuerResponseMismatch { .. } | Error::MissingCode | Error::CallbackTimeout { .. } | Error::TooManyBadPastes { .. } => r("sign_in_incomplete", "The last sign-in did not finish", "The answer from the browser was missing or did not match.", Fix::SignIn, detail),
        Error::DeviceCodeExpired { .. } => r("sign_in_incomplete", "The last sign-in did not finish", "Its code expired before the sign-in was approved on the other device.", Fix::SignIn, detail),
        Error::DeviceDenied { .. } => r("access_denied", "Sign-in was declined", "The sign-in was denied on the verification page.", Fix::SignIn, detail),
        Error::NoDeviceFlow { .. } => r("no_device_flow", "The sign-in server offers no sign-in with a code", "It has no device authorization endpoint; sign in through a browser instead.", Fix::SignIn, detail),
        Error::UnknownServer { .. } => r("unknown_server", "No server has this name", "No AI tool's config, sign-in or dashboard entry calls a server this; `latchkey servers` lists the names.", Fix::CheckAddress, detail),
        Error::AmbiguousServer { .. } => r("ambiguous_server", "This name is given to more than one server", "Your AI tools call different servers by this name; the servers are listed below. Use the URL of the one you mean.", Fix::CheckAddress, detail),
        Error::LocalServer { .. } => r("local_server", "A local server", "A tool runs this server on this computer; it needs no sign-in.", Fix::Nothing, detail),
        _ => r("other", "Something went wrong", "See the details below.", Fix::Retry, detail),
    }
}

/// The error as programs see it (`--json`).
#[derive(Debug, Serialize)]
pub struct ErrorReport {
    pub code: &'static str,
    pub message: String,
    pub hint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth: Option<OAuthError>,
    /// For a name that names several servers: each of them (name, who gives it, URL).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<NameCandidate>,
    /// For a name that names no server: the close names there are ("did you mean").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<String>,
    /// The same failure in the catalogue's plain words, with the fix the app offers.
    pub reason: Reason,
}

impl From<&Error> for ErrorReport {
    fn from(e: &Error) -> Self {
        ErrorReport {
            code: e.code(),
            message: e.to_string(),
            hint: e.hint(),
            oauth: e.oauth().cloned(),
            candidates: match e {
                Error::AmbiguousServer { candidates, .. } => candidates.clone(),
                _ => Vec::new(),
            },
            suggestions: match e {
                Error::UnknownServer { suggestions, .. } => suggestions.clone(),
                _ => Vec::new(),
            },
            reason: from_error(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{OAuthError, OAuthStage};

    #[test]
    fn stored_refresh_failures_say_which() {
        let n = |code: &str, d: &str| NeedsSignIn {
            code: code.into(),
            description: Some(d.into()),
            at: 0,
        };
        assert_eq!(
            from_needs_sign_in(&n(
                "invalid_grant",
                "grant request is invalid (refresh token already used)"
            ))
            .id,
            "refresh_token_reused"
        );
        assert_eq!(
            from_needs_sign_in(&n("invalid_grant", "refresh token is expired")).id,
            "refresh_token_expired"
        );
        assert_eq!(
            from_needs_sign_in(&n("invalid_grant", "grant request is invalid")).id,
            "refresh_token_rejected"
        );
        assert_eq!(
            from_needs_sign_in(&n("invalid_client", "client not found")).id,
            "client_unknown"
        );
    }

    #[test]
    fn errors_map_to_plain_reasons_with_the_detail() {
        let e = Error::OAuth(OAuthError {
            stage: OAuthStage::Authorization,
            code: "invalid_scope".into(),
            description: Some("sudo".into()),
            uri: None,
        });
        let reason = from_error(&e);
        assert_eq!(
            (reason.id.as_ref(), reason.fix),
            ("scope_refused", Fix::SignInWithRecommendedScopes)
        );
        assert!(reason.detail.contains("sudo"));
        assert_eq!(
            from_error(&Error::Timeout {
                url: "u".into(),
                seconds: 3
            })
            .id,
            "timeout"
        );
        assert_eq!(
            from_error(&Error::HttpStatus {
                url: "u".into(),
                status: 503,
                doing: "x".into(),
                body: None
            })
            .id,
            "server_error"
        );
        // invalid_grant names what was refused: the browser's code, or the saved session.
        let grant = |stage| {
            from_error(&Error::OAuth(OAuthError {
                stage,
                code: "invalid_grant".into(),
                description: None,
                uri: None,
            }))
        };
        let code = grant(OAuthStage::TokenExchange);
        assert_eq!(code.id, "code_rejected");
        assert!(!code.title.contains("session"), "{}", code.title);
        assert_eq!(grant(OAuthStage::Refresh).id, "refresh_token_rejected");
    }
}
