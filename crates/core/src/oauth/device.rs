//! Sign-in with a code entered on another device: the device authorization grant (RFC 8628),
//! for a machine where no browser can reach the loopback redirect (over SSH, in a container,
//! on a headless server). ARCHITECTURE.md, Protocol rules: device code.
//!
//! 1. [`authorize`] posts the device authorization request (section 3.1) with the client, the
//!    plan's `scope` and `resource` (RFC 8707) as the code flow sends them, and reads the
//!    answer leniently (section 3.2): `expires_in` and `interval` as numbers or strings of
//!    digits, `interval` 5 seconds when absent. The verification address must be HTTPS, or
//!    plain HTTP on loopback when the sign-in server is on loopback too, and follows the rule
//!    for addresses inside this machine ([`urls::check_followed`]).
//! 2. The person opens the address on another device and enters the user code.
//! 3. [`poll`] asks the token endpoint (section 3.4) at the sign-in server's interval:
//!    `authorization_pending` waits, `slow_down` adds 5 seconds to the interval (section 3.5),
//!    `expired_token` ends in [`Error::DeviceCodeExpired`], `access_denied` in
//!    [`Error::DeviceDenied`]; the code's `expires_in` bounds the whole wait.
//!
//! The device code is a secret: it is held in a [`Secret`], redacted from the trace (a
//! `*_code` name) and from every error text. The user code is meant to be shown.

use crate::clock::Clock;
use crate::error::{Error, OAuthError, OAuthStage, Result};
use crate::oauth::plan::TokenAuthMethod;
use crate::oauth::register::ClientRegistration;
use crate::oauth::token_response::{self, LenientTokenResponse, MAX_LIFETIME_SECS};
use crate::oauth::tokens::{self, TokenSet};
use crate::protocol::http::{Fetched, Http, Outgoing};
use crate::protocol::urls;
use crate::redact;
use crate::secret::Secret;
use serde::{Deserialize, Deserializer};
use std::time::Duration;
use url::Url;

/// The grant type of the token requests (RFC 8628 section 3.4), also asked for at dynamic
/// registration (where it is defined, so registration does not depend on this module).
pub const GRANT_TYPE: &str = crate::oauth::register::DEVICE_CODE_GRANT_TYPE;

/// The polling interval when the answer gives none (RFC 8628 section 3.2).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// What `slow_down` adds to the interval (RFC 8628 section 3.5).
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// The longest interval believed (and reached by `slow_down`s): a minute.
pub const MAX_INTERVAL: Duration = Duration::from_secs(60);

/// How long a code is taken to last when the answer does not say (the RFC requires
/// `expires_in`; a lenient reading takes 10 minutes, what most servers give). Longer
/// lifetimes are believed up to an hour.
pub const DEFAULT_EXPIRES_IN: Duration = Duration::from_secs(600);
const MAX_EXPIRES_IN: Duration = Duration::from_secs(3600);

/// The longest user code shown: one that is longer is not a code a person types.
const MAX_USER_CODE: usize = 64;

/// The device authorization answer (RFC 8628 section 3.2), checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAuthorization {
    /// Never shown or logged.
    pub device_code: Secret,
    /// What the person types at the verification address.
    pub user_code: String,
    /// Where the person enters the code.
    pub verification_uri: String,
    /// The address with the code in it, when the sign-in server gives one that passes the
    /// same checks (a QR code of it saves typing).
    pub verification_uri_complete: Option<String>,
    /// How long the code lasts.
    pub expires_in: Duration,
    /// How long to wait between two token requests.
    pub interval: Duration,
}

/// Where and as whom to ask: the plan's endpoints and the client.
pub struct DeviceEndpoint<'a> {
    /// The device authorization endpoint.
    pub device_authorization: &'a str,
    pub token: &'a str,
    /// The sign-in server's issuer (whether it is on loopback decides plain HTTP).
    pub issuer: &'a str,
    /// The MCP server's URL (the rule for addresses inside this machine).
    pub server_url: &'a str,
    pub client: &'a ClientRegistration,
    /// Sent as `resource` on both requests (RFC 8707), as the code flow sends it.
    pub resource: &'a str,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    device_code: Option<String>,
    #[serde(default)]
    user_code: Option<String>,
    #[serde(default)]
    verification_uri: Option<String>,
    /// Some servers (Google) wrote `verification_url` before the RFC.
    #[serde(default)]
    verification_url: Option<String>,
    #[serde(default)]
    verification_uri_complete: Option<String>,
    #[serde(default, deserialize_with = "lenient_seconds")]
    expires_in: Option<u64>,
    #[serde(default, deserialize_with = "lenient_seconds")]
    interval: Option<u64>,
}

/// Seconds as a JSON number (fractions dropped) or a string of digits; anything else is
/// taken as absent.
fn lenient_seconds<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<u64>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.and_then(|v| match &v {
        serde_json::Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .map(|f| f as u64)
        }),
        serde_json::Value::String(s) => s.trim().parse::<u64>().ok().or_else(|| {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then_some(u64::MAX)
        }),
        _ => None,
    }))
}

/// The URL of an endpoint the plan names, with the rules every endpoint follows.
fn endpoint_url(ep: &DeviceEndpoint<'_>, value: &str, what: &str) -> Result<Url> {
    let url = Url::parse(value).map_err(|e| Error::BadMetadata {
        what: "sign-in server metadata",
        url: ep.issuer.to_string(),
        detail: format!("its {what} {value:?} is not a URL ({e})"),
    })?;
    if let Ok(server) = Url::parse(ep.server_url) {
        urls::check_followed(&server, &url, what)?;
    }
    urls::require_secure(&url, what)?;
    Ok(url)
}

/// Checks a verification address before it is shown to the person: HTTPS, or plain HTTP on
/// loopback when the sign-in server is on loopback too (a server elsewhere has no business
/// sending a person to this machine); an address inside this machine or a private network
/// only when the MCP server is on that same host ([`urls::check_followed`]).
pub fn check_verification_uri(issuer: &str, server_url: &str, uri: &str) -> Result<Url> {
    let what = "verification page";
    let url = urls::parse_http_url(uri).map_err(|e| Error::BadMetadata {
        what: "device authorization answer",
        url: issuer.to_string(),
        detail: format!("its verification_uri is not usable: {e}"),
    })?;
    let issuer_loopback = Url::parse(issuer).is_ok_and(|i| urls::is_loopback(&i));
    if url.scheme() != "https" && !(urls::is_loopback(&url) && issuer_loopback) {
        return Err(Error::InsecureEndpoint {
            url: redact::url(url.as_str()),
            what: what.into(),
        });
    }
    if let Ok(server) = Url::parse(server_url) {
        urls::check_followed(&server, &url, what)?;
    }
    Ok(url)
}

/// The client's credentials on a request to the sign-in server, as the token endpoint takes
/// them (RFC 8628 section 3.1 refers to RFC 6749 section 2.3): `client_id` in the form for a
/// public client, with `client_secret` for `client_secret_post`, HTTP Basic otherwise.
fn with_client<'a>(
    client: &'a ClientRegistration,
    fields: &mut Vec<(&'a str, &'a str)>,
) -> Option<(&'a str, &'a str)> {
    let secret = client
        .client_secret
        .as_ref()
        .filter(|_| client.auth_method != TokenAuthMethod::None)
        .map(Secret::expose);
    match (client.auth_method, secret) {
        (TokenAuthMethod::ClientSecretBasic, Some(secret)) => {
            Some((client.client_id.as_str(), secret))
        }
        (TokenAuthMethod::ClientSecretPost, Some(secret)) => {
            fields.push(("client_id", client.client_id.as_str()));
            fields.push(("client_secret", secret));
            None
        }
        _ => {
            fields.push(("client_id", client.client_id.as_str()));
            None
        }
    }
}

fn form_post(url: &Url, fields: &[(&str, &str)], basic: Option<(&str, &str)>) -> Outgoing {
    let mut req = Outgoing::post(url).header("accept", "application/json");
    if let Some((id, secret)) = basic {
        // RFC 6749 section 2.3.1: both form-encoded before Basic.
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        req = req.basic_auth(&enc(id), &enc(secret));
    }
    req.form(fields)
}

/// An OAuth error from an answer that is not what was asked for, cleaned of `sent`.
fn oauth_error(resp: &Fetched, stage: OAuthStage, sent: &[&str]) -> Option<OAuthError> {
    let body = token_response::json_body(&resp.body, &resp.content_type());
    let (code, description, uri) = token_response::error_in_body(&body)?;
    let clean = |s: &str| redact::text_without(s, sent);
    Some(OAuthError {
        stage,
        code: clean(&code),
        description: description.map(|d| clean(&d)),
        uri: uri.map(|u| clean(&u)),
    })
}

/// Posts the device authorization request (RFC 8628 section 3.1) with `scope` (the plan's,
/// space-separated; none when `None`) and `resource`, and reads the answer.
///
/// Errors: [`Error::OAuth`] at the authorization stage for the sign-in server's refusal
/// (`invalid_client`, `unauthorized_client`: the client may not use this grant;
/// `invalid_scope`); [`Error::HttpStatus`] for another failing answer;
/// [`Error::BadMetadata`] for an answer without a device code, user code or verification
/// address (named by field, never quoted), or with an address that fails its checks;
/// [`Error::InsecureEndpoint`] for plain HTTP; the network's.
pub async fn authorize(
    http: &Http,
    ep: &DeviceEndpoint<'_>,
    scope: Option<&str>,
) -> Result<DeviceAuthorization> {
    let url = endpoint_url(ep, ep.device_authorization, "device authorization endpoint")?;
    let mut fields: Vec<(&str, &str)> = Vec::new();
    let basic = with_client(ep.client, &mut fields);
    if let Some(scope) = scope {
        fields.push(("scope", scope));
    }
    fields.push(("resource", ep.resource));
    let resp = http.send(form_post(&url, &fields, basic)).await?;
    let secret = ep.client.client_secret.as_ref().map(Secret::expose);
    let sent: Vec<&str> = secret.into_iter().collect();
    if resp.status != 200 {
        if let Some(e) = oauth_error(&resp, OAuthStage::Authorization, &sent) {
            return Err(Error::OAuth(e));
        }
        return Err(Error::HttpStatus {
            url: url.to_string(),
            status: resp.status,
            doing: "asking for a sign-in code".into(),
            body: Some(resp.text_excerpt()),
        });
    }
    let bad = |detail: String| Error::BadMetadata {
        what: "device authorization answer",
        url: url.to_string(),
        detail,
    };
    let body = token_response::json_body(&resp.body, &resp.content_type());
    let answer: Answer = serde_json::from_slice(&body).map_err(|e| {
        // serde quotes values it met; the body may hold the device code.
        bad(format!(
            "it is not a device authorization response (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let device_code = answer
        .device_code
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| bad("it has no device_code".into()))?;
    let user_code = answer
        .user_code
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| bad("it has no user_code".into()))?;
    if user_code.chars().count() > MAX_USER_CODE || user_code.chars().any(char::is_control) {
        return Err(bad(format!(
            "its user_code is not a code a person can type ({} characters)",
            user_code.chars().count()
        )));
    }
    let verification = answer
        .verification_uri
        .or(answer.verification_url)
        .ok_or_else(|| bad("it has no verification_uri".into()))?;
    let verification_uri = check_verification_uri(ep.issuer, ep.server_url, &verification)?;
    let verification_uri_complete = answer.verification_uri_complete.and_then(|c| {
        match check_verification_uri(ep.issuer, ep.server_url, &c) {
            Ok(u) => Some(u.to_string()),
            Err(e) => {
                tracing::warn!("the verification_uri_complete is not used: {e}");
                None
            }
        }
    });
    let expires_in = answer
        .expires_in
        .filter(|&s| s > 0)
        .map_or(DEFAULT_EXPIRES_IN, |s| {
            Duration::from_secs(s.min(MAX_LIFETIME_SECS)).min(MAX_EXPIRES_IN)
        });
    let interval = answer
        .interval
        .map_or(DEFAULT_INTERVAL, |s| Duration::from_secs(s.max(1)))
        .min(MAX_INTERVAL);
    Ok(DeviceAuthorization {
        device_code: Secret::new(device_code),
        user_code,
        verification_uri: verification_uri.to_string(),
        verification_uri_complete,
        expires_in,
        interval,
    })
}

/// What one token request brought.
enum Poll {
    Tokens(Box<TokenSet>),
    Pending,
    SlowDown,
}

async fn poll_once(
    http: &Http,
    ep: &DeviceEndpoint<'_>,
    token_url: &Url,
    auth: &DeviceAuthorization,
    requested_scopes: &[String],
    clock: &dyn Clock,
) -> Result<Poll> {
    let mut fields: Vec<(&str, &str)> = vec![
        ("grant_type", GRANT_TYPE),
        ("device_code", auth.device_code.expose()),
    ];
    let basic = with_client(ep.client, &mut fields);
    fields.push(("resource", ep.resource));
    let resp = http.send(form_post(token_url, &fields, basic)).await?;
    let secret = ep.client.client_secret.as_ref().map(Secret::expose);
    let sent: Vec<&str> = [Some(auth.device_code.expose()), secret]
        .into_iter()
        .flatten()
        .collect();
    if resp.status == 200 {
        let body = token_response::json_body(&resp.body, &resp.content_type());
        if let Ok(answer) = serde_json::from_slice::<LenientTokenResponse>(&body) {
            let tokens =
                tokens::token_set_from(&answer, ep.token, requested_scopes, None, clock.now())?;
            return Ok(Poll::Tokens(Box::new(tokens)));
        }
    }
    // RFC 8628 section 3.5 answers with 400; some servers with 200 or 401.
    let Some(e) = oauth_error(&resp, OAuthStage::TokenExchange, &sent) else {
        if resp.status == 200 {
            return Err(Error::BadTokenResponse {
                url: ep.token.to_string(),
                detail: "it is not a token response (no access_token)".into(),
            });
        }
        return Err(Error::HttpStatus {
            url: token_url.to_string(),
            status: resp.status,
            doing: "waiting for the sign-in on the other device".into(),
            body: Some(redact::text_without(&resp.text_excerpt(), &sent)),
        });
    };
    match e.code.as_str() {
        "authorization_pending" => Ok(Poll::Pending),
        "slow_down" => Ok(Poll::SlowDown),
        "expired_token" => Err(Error::DeviceCodeExpired {
            issuer: ep.issuer.to_string(),
            seconds: auth.expires_in.as_secs(),
        }),
        "access_denied" => Err(Error::DeviceDenied {
            issuer: ep.issuer.to_string(),
            description: e.description,
        }),
        _ => Err(Error::OAuth(e)),
    }
}

/// Waits for the person to approve the sign-in on the other device: asks the token endpoint
/// every `auth.interval` (plus 5 seconds per `slow_down`), first after one interval, until
/// tokens come, the sign-in server says no, or `auth.expires_in` has passed since `started`
/// (the moment the code was issued). `requested_scopes` stand for the granted ones when the
/// answer lists none. A request that timed out is tried again with the interval doubled
/// (section 3.5); one that got no answer at all is sent again at once, once: a connection
/// kept from the last poll may have been closed by the server while Latchkey waited (many
/// servers close idle connections after 5 seconds, about a polling interval).
///
/// Errors: [`Error::DeviceCodeExpired`] (`expired_token`, or the code's lifetime passed
/// while still pending); [`Error::DeviceDenied`] (`access_denied`); [`Error::OAuth`] for any
/// other refusal (`invalid_client`, `invalid_grant`...); [`Error::BadTokenResponse`];
/// [`Error::HttpStatus`]; the network's.
pub async fn poll(
    http: &Http,
    ep: &DeviceEndpoint<'_>,
    auth: &DeviceAuthorization,
    started: tokio::time::Instant,
    requested_scopes: &[String],
    clock: &dyn Clock,
) -> Result<TokenSet> {
    let token_url = endpoint_url(ep, ep.token, "token endpoint")?;
    let deadline = started + auth.expires_in;
    let mut interval = auth.interval;
    loop {
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Err(Error::DeviceCodeExpired {
                issuer: ep.issuer.to_string(),
                seconds: auth.expires_in.as_secs(),
            });
        }
        // The last request goes out at the deadline: an approval in the last seconds counts.
        tokio::time::sleep_until((now + interval).min(deadline)).await;
        let once = match poll_once(http, ep, &token_url, auth, requested_scopes, clock).await {
            Err(Error::Unreachable { detail, .. }) => {
                tracing::info!("the token endpoint gave no answer ({detail}); asking again");
                poll_once(http, ep, &token_url, auth, requested_scopes, clock).await
            }
            other => other,
        };
        match once {
            Ok(Poll::Tokens(t)) => return Ok(*t),
            Ok(Poll::Pending) => {}
            Ok(Poll::SlowDown) => {
                interval = (interval + SLOW_DOWN_STEP).min(MAX_INTERVAL);
                tracing::info!(
                    "the sign-in server asked to poll more slowly: every {} s now",
                    interval.as_secs()
                );
            }
            Err(Error::Timeout { .. }) => {
                interval = (interval * 2).min(MAX_INTERVAL);
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
#[path = "device_tests.rs"]
mod tests;
