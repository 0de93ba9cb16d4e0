//! The client registration: pre-registered, a client id metadata document, or RFC 7591
//! dynamic registration; and asking an authorization server whether it still knows a
//! registration: the RFC 7592 read, else its sign-in page (ARCHITECTURE.md, Protocol rules:
//! client).

use crate::error::{Error, OAuthError, OAuthStage, Result};
use crate::oauth::plan::{
    redirect_uri as redirect_uri_for, ClientChoice, SignInPlan, TokenAuthMethod,
};
use crate::protocol::http::{Http, Outgoing};
use crate::protocol::urls;
use crate::redact;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use url::Url;

/// The device authorization grant's type (RFC 8628 section 3.4): asked for at dynamic
/// registration where the sign-in server offers the grant, and sent by
/// [`crate::oauth::device`]'s token requests.
pub const DEVICE_CODE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationMethod {
    PreRegistered,
    MetadataDocument,
    Dynamic,
}

/// A client as the sign-in server knows it. Stored in the same bundle as the tokens it got,
/// so the two can never drift apart; a dynamic one is also kept per issuer and reused by
/// every server signing in there (`usecase::registrations`). Times are seconds since the
/// epoch; `Debug` shows no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRegistration {
    pub method: RegistrationMethod,
    /// The issuer this client belongs to: a refresh checks it before sending anything.
    pub issuer: String,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    pub auth_method: TokenAuthMethod,
    pub redirect_uris: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_access_token: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_client_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<u64>,
    /// The scopes a dynamic registration asked for; a later sign-in may reuse the client
    /// for these without registering again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_scope: Option<String>,
    /// The client may use the device authorization grant (RFC 8628): a dynamic registration
    /// asked for it (its sign-in server advertised a device authorization endpoint) and the
    /// answer did not leave it out; an app the person registered is assumed to. A kept
    /// registration without it is replaced before a sign-in with a code on another device.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub device_grant: bool,
}

impl ClientRegistration {
    /// A dynamic client from an earlier sign-in that can serve this plan as it is: registered
    /// at the plan's issuer, for every scope the plan asks.
    pub fn reusable_for(&self, plan: &SignInPlan) -> bool {
        let registered: Vec<&str> = self
            .registered_scope
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        self.method == RegistrationMethod::Dynamic
            && matches!(plan.client, ClientChoice::Dynamic { .. })
            && self.issuer == plan.issuer
            && plan
                .scopes
                .iter()
                .all(|s| registered.contains(&s.name.as_str()))
    }

    /// The loopback port of the registered redirect URI.
    pub fn redirect_port(&self) -> Option<u16> {
        self.redirect_uris
            .first()
            .and_then(|u| Url::parse(u).ok())
            .filter(urls::is_loopback)
            .and_then(|u| u.port())
    }

    /// True when the client has a secret whose `client_secret_expires_at` (seconds since the
    /// epoch; 0 means it never expires, RFC 7591 section 3.2.1) is at or before `now`. Such a
    /// secret is never sent.
    pub fn secret_expired(&self, now: u64) -> bool {
        self.secret_expiry().is_some_and(|at| at <= now)
    }

    /// True when the client's secret expires within `window` of `now` (seconds since the
    /// epoch), or already has: time to read its registration for a rotated one.
    pub fn secret_expires_within(&self, now: u64, window: Duration) -> bool {
        self.secret_expiry()
            .is_some_and(|at| at <= now.saturating_add(window.as_secs()))
    }

    /// When the secret expires, seconds since the epoch; None without a secret or when it
    /// never expires (`client_secret_expires_at` absent or 0).
    pub fn secret_expiry(&self) -> Option<u64> {
        self.client_secret
            .as_ref()
            .and(self.client_secret_expires_at)
            .filter(|&at| at != 0)
    }

    /// True when the authorization server gave a `registration_client_uri` and a
    /// `registration_access_token`: the registration can be read (RFC 7592 section 2.1).
    pub fn readable(&self) -> bool {
        self.registration_client_uri.is_some() && self.registration_access_token.is_some()
    }
}

/// Whether an authorization server still knows a client registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// It does; the registration as it now is (a rotated secret, a new expiry or
    /// registration access token where the RFC 7592 read said so).
    Known(ClientRegistration),
    /// It does not: `detail` says how it said so (an HTTP status, an OAuth error code, the
    /// AS's own words), never a secret.
    Unknown { detail: String },
}

/// The code recorded in a bundle whose client secret passed its `client_secret_expires_at`
/// ([`crate::store::vault::NeedsSignIn::code`]): not an OAuth error code, Latchkey's own.
pub const CLIENT_SECRET_EXPIRED: &str = "client_secret_expired";

/// The OAuth error codes by which an authorization server refuses a client it does not know
/// or no longer lets sign in (RFC 6749 sections 4.1.2.1 and 5.2).
pub const UNKNOWN_CLIENT_CODES: [&str; 2] = ["invalid_client", "unauthorized_client"];

/// Words by which a sign-in page (an HTML error page, lower-cased) says the client is
/// unknown: the two codes, and how providers word it.
const UNKNOWN_CLIENT_WORDS: [&str; 6] = [
    "invalid_client",
    "unauthorized_client",
    "unknown client",
    "unknown_client",
    "client not found",
    "client_not_found",
];

/// Reads `client`'s registration at its `registration_client_uri` with its registration
/// access token (RFC 7592 section 2.1). A 200 answer for the same `client_id` is
/// [`Standing::Known`] with what it carries applied: a rotated `client_secret`, its
/// `client_secret_expires_at`, a new `registration_access_token` or `registration_client_uri`
/// (section 3). HTTP 401, 403 or 404, an `invalid_client` or `invalid_token` error, or an
/// answer for another client is [`Standing::Unknown`].
///
/// Errors: [`Error::BadMetadata`] when the client is not readable or the URI is not a URL,
/// [`Error::InsecureEndpoint`] for plain HTTP off loopback (the token would travel in
/// clear), the network's, and [`Error::HttpStatus`] for any other answer (a 5xx: the AS
/// cannot tell now).
pub async fn read_registration(http: &Http, client: &ClientRegistration) -> Result<Standing> {
    let (Some(uri), Some(token)) = (
        client.registration_client_uri.as_deref(),
        client.registration_access_token.as_ref(),
    ) else {
        return Err(Error::BadMetadata {
            what: "client registration",
            url: client.issuer.clone(),
            detail:
                "it has no registration_client_uri and registration_access_token to read it with"
                    .into(),
        });
    };
    let url = Url::parse(uri).map_err(|e| Error::BadMetadata {
        what: "client registration",
        url: client.issuer.clone(),
        detail: format!("registration_client_uri {uri:?} is not a URL ({e})"),
    })?;
    urls::require_secure(&url, "registration client URI")?;
    let resp = http
        .send(
            Outgoing::get(&url)
                .header("accept", "application/json")
                .bearer_auth(token.expose()),
        )
        .await?;
    let oauth = oauth_error_from_body(OAuthStage::Registration, &resp.body);
    let unknown_code = oauth
        .as_ref()
        .is_some_and(|e| e.code == "invalid_client" || e.code == "invalid_token");
    if matches!(resp.status, 401 | 403 | 404) || ((400..500).contains(&resp.status) && unknown_code)
    {
        let said = oauth
            .map(|e| match e.description {
                Some(d) => format!(", {}: {d}", e.code),
                None => format!(", {}", e.code),
            })
            .unwrap_or_default();
        return Ok(Standing::Unknown {
            detail: format!(
                "reading the registration at {url} answered HTTP {}{said}",
                resp.status
            ),
        });
    }
    if resp.status != 200 {
        return Err(Error::HttpStatus {
            url: url.to_string(),
            status: resp.status,
            doing: "reading Latchkey's client registration".into(),
            body: None,
        });
    }
    let r: RegistrationResponse =
        serde_json::from_slice(&resp.body).map_err(|e| Error::BadMetadata {
            what: "client registration",
            url: url.to_string(),
            detail: format!("the answer is not a client information response ({e})"),
        })?;
    if r.client_id != client.client_id {
        return Ok(Standing::Unknown {
            detail: format!("reading the registration at {url} answered for another client"),
        });
    }
    let mut now = client.clone();
    if let Some(secret) = r.client_secret.filter(|s| !s.is_empty()) {
        now.client_secret = Some(Secret::new(secret));
    }
    if r.client_secret_expires_at.is_some() {
        now.client_secret_expires_at = r.client_secret_expires_at;
    }
    if let Some(t) = r.registration_access_token.filter(|t| !t.is_empty()) {
        now.registration_access_token = Some(Secret::new(t));
    }
    if let Some(u) = r.registration_client_uri.filter(|u| {
        Url::parse(u)
            .ok()
            .is_some_and(|u| urls::require_secure(&u, "registration client URI").is_ok())
    }) {
        now.registration_client_uri = Some(u);
    }
    Ok(Standing::Known(now))
}

/// Asks the sign-in page whether it knows `client`: a GET of `authorization_url` (the
/// client's authorization request) without following redirects. A redirect (to a login
/// page, or to the redirect URI) is [`Standing::Known`], unless it carries
/// `error=invalid_client` or `unauthorized_client`; a 4xx page naming `invalid_client`,
/// `unauthorized_client` or an unknown client (as oidc-provider, Keycloak and others render
/// it) is [`Standing::Unknown`]; anything else is Known (the page may be a login form).
///
/// Errors: the network's (the caller cannot tell then).
pub async fn authorization_page_standing(
    http: &Http,
    client: &ClientRegistration,
    authorization_url: &Url,
) -> Result<Standing> {
    let resp = http
        .send(Outgoing::get(authorization_url).header("accept", "text/html"))
        .await?;
    let known = Ok(Standing::Known(client.clone()));
    if (300..400).contains(&resp.status) {
        let location = resp.header_values("location").into_iter().next();
        let error = location
            .and_then(|l| authorization_url.join(&l).ok())
            .and_then(|u| {
                u.query_pairs()
                    .find(|(k, _)| k == "error")
                    .map(|(_, v)| v.into_owned())
            });
        return match error {
            Some(code) if UNKNOWN_CLIENT_CODES.contains(&code.as_str()) => Ok(Standing::Unknown {
                detail: format!("the sign-in page redirected back with error={code}"),
            }),
            _ => known,
        };
    }
    if (400..500).contains(&resp.status) {
        let text = String::from_utf8_lossy(&resp.body).to_ascii_lowercase();
        if let Some(word) = UNKNOWN_CLIENT_WORDS.iter().find(|w| text.contains(*w)) {
            return Ok(Standing::Unknown {
                detail: format!(
                    "the sign-in page answered HTTP {} naming {word}",
                    resp.status
                ),
            });
        }
    }
    known
}

#[derive(Debug, Deserialize)]
struct RegistrationResponse {
    client_id: String,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    redirect_uris: Option<Vec<String>>,
    #[serde(default)]
    registration_access_token: Option<String>,
    #[serde(default)]
    registration_client_uri: Option<String>,
    #[serde(default)]
    client_secret_expires_at: Option<u64>,
    #[serde(default)]
    grant_types: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
    #[serde(default)]
    pub error_uri: Option<String>,
}

pub(crate) fn oauth_error_from_body(stage: OAuthStage, body: &[u8]) -> Option<OAuthError> {
    let e: ErrorBody = serde_json::from_slice(body).ok()?;
    Some(OAuthError {
        stage,
        code: redact::text(&e.error),
        description: e.error_description.as_deref().map(redact::text),
        uri: e.error_uri.as_deref().map(redact::text),
    })
}

/// The registration request body (RFC 7591 §2): public native client, the exact loopback
/// redirect URI, and the scopes the plan asks for.
pub fn registration_body(plan: &SignInPlan, redirect_uri: &str) -> serde_json::Value {
    registration_body_with_scope(
        plan.scope_param().as_deref(),
        redirect_uri,
        plan.endpoints.device_authorization.is_some(),
    )
}

/// [`registration_body`] with `scope` (space-separated, RFC 7591 §2) instead of the plan's:
/// none when `None`. With `device`, `grant_types` also lists the device authorization grant
/// (RFC 8628 section 3.4), so that one registration serves both ways of signing in.
pub fn registration_body_with_scope(
    scope: Option<&str>,
    redirect_uri: &str,
    device: bool,
) -> serde_json::Value {
    let mut grants = vec!["authorization_code", "refresh_token"];
    if device {
        grants.push(DEVICE_CODE_GRANT_TYPE);
    }
    let mut body = serde_json::json!({
        "client_name": "Latchkey",
        "redirect_uris": [redirect_uri],
        "grant_types": grants,
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "application_type": "native",
    });
    if let Some(scope) = scope {
        body["scope"] = serde_json::Value::String(scope.to_string());
    }
    body
}

/// Resolves the plan's client choice into a registration, registering dynamically if needed.
pub async fn obtain_client(
    http: &Http,
    plan: &SignInPlan,
    redirect_uri: &str,
    client_secret: Option<&Secret>,
) -> Result<ClientRegistration> {
    match &plan.client {
        ClientChoice::PreRegistered {
            client_id,
            auth_method,
            ..
        } => Ok(ClientRegistration {
            method: RegistrationMethod::PreRegistered,
            issuer: plan.issuer.clone(),
            client_id: client_id.clone(),
            client_secret: client_secret.cloned(),
            auth_method: *auth_method,
            redirect_uris: vec![redirect_uri.to_string()],
            registration_access_token: None,
            registration_client_uri: None,
            client_secret_expires_at: None,
            registered_scope: None,
            device_grant: true,
        }),
        ClientChoice::MetadataDocument { client_id } => Ok(ClientRegistration {
            method: RegistrationMethod::MetadataDocument,
            issuer: plan.issuer.clone(),
            client_id: client_id.clone(),
            client_secret: None,
            auth_method: TokenAuthMethod::None,
            redirect_uris: vec![redirect_uri.to_string()],
            registration_access_token: None,
            registration_client_uri: None,
            client_secret_expires_at: None,
            registered_scope: None,
            device_grant: true,
        }),
        ClientChoice::Dynamic { .. } => {
            register(http, plan, redirect_uri, plan.scope_param().as_deref()).await
        }
        ClientChoice::Missing => Err(Error::NoClientRegistration {
            issuer: plan.issuer.clone(),
            redirect_uri: redirect_uri.to_string(),
            scopes: plan.scope_names(),
        }),
    }
}

/// Registers Latchkey at the plan's registration endpoint (RFC 7591 section 3) with
/// `redirect_uri` and `scope` (space-separated; none when `None`), which the registration
/// then serves ([`ClientRegistration::registered_scope`]).
///
/// Errors: [`Error::InvalidPlan`] when the plan has no registration endpoint;
/// [`Error::RegistrationRefused`] for a 4xx, with the AS's error; [`Error::OAuth`] or
/// [`Error::HttpStatus`] for other failures; [`Error::BadMetadata`] for an answer that is not
/// a registration.
pub async fn register(
    http: &Http,
    plan: &SignInPlan,
    redirect_uri: &str,
    scope: Option<&str>,
) -> Result<ClientRegistration> {
    let ClientChoice::Dynamic {
        registration_endpoint,
    } = &plan.client
    else {
        return Err(Error::InvalidPlan {
            problems: format!(
                "the sign-in server {} offers no dynamic client registration for this sign-in",
                plan.issuer
            ),
        });
    };
    register_dynamically(http, plan, registration_endpoint, redirect_uri, scope).await
}

async fn register_dynamically(
    http: &Http,
    plan: &SignInPlan,
    endpoint: &str,
    redirect_uri: &str,
    scope: Option<&str>,
) -> Result<ClientRegistration> {
    let url = Url::parse(endpoint).map_err(|e| Error::BadMetadata {
        what: "sign-in server metadata",
        url: plan.issuer.clone(),
        detail: format!("registration endpoint {endpoint:?} is not a URL ({e})"),
    })?;
    urls::require_secure(&url, "registration endpoint")?;
    // Where the sign-in server offers sign-in with a code on another device, the
    // registration asks for that grant too: one registration per issuer serves both.
    let device = plan.endpoints.device_authorization.is_some();
    let body = registration_body_with_scope(scope, redirect_uri, device);
    let req = Outgoing::post(&url)
        .header("accept", "application/json")
        .json(&body);
    let resp = http.send(req).await?;
    // A 4xx is a refusal (RFC 7591 section 3.2.2, or a closed endpoint): a registered app is
    // the way forward. A 5xx is a failure on the AS's side, worth a retry.
    if (400..500).contains(&resp.status) {
        let oauth = oauth_error_from_body(OAuthStage::Registration, &resp.body).map(Box::new);
        return Err(Error::RegistrationRefused {
            issuer: plan.issuer.clone(),
            status: resp.status,
            body: oauth.is_none().then(|| resp.text_excerpt()),
            oauth,
            redirect_uri: plan
                .callback_port
                .map(redirect_uri_for)
                .unwrap_or_else(|| "http://127.0.0.1:<port>/callback".into()),
            scopes: plan.scope_names(),
        });
    }
    if !(200..300).contains(&resp.status) {
        if let Some(e) = oauth_error_from_body(OAuthStage::Registration, &resp.body) {
            return Err(Error::OAuth(e));
        }
        return Err(Error::HttpStatus {
            url: url.to_string(),
            status: resp.status,
            doing: "registering Latchkey as a client".into(),
            body: Some(resp.text_excerpt()),
        });
    }
    let mut client =
        registration_from_answer(&resp.body, &plan.issuer, url.as_str(), redirect_uri, scope)?;
    client.device_grant = device && client.device_grant;
    Ok(client)
}

/// Reads a registration answer (RFC 7591 section 3.2.1) from `endpoint` of `issuer` into the
/// client Latchkey keeps. Never panics, whatever the bytes.
pub fn registration_from_answer(
    body: &[u8],
    issuer: &str,
    endpoint: &str,
    redirect_uri: &str,
    scope: Option<&str>,
) -> Result<ClientRegistration> {
    let r: RegistrationResponse = serde_json::from_slice(body).map_err(|e| Error::BadMetadata {
        what: "registration answer",
        url: endpoint.to_string(),
        detail: e.to_string(),
    })?;
    let auth_method = r
        .token_endpoint_auth_method
        .as_deref()
        .and_then(TokenAuthMethod::parse)
        .unwrap_or(if r.client_secret.is_some() {
            TokenAuthMethod::ClientSecretBasic
        } else {
            TokenAuthMethod::None
        });
    Ok(ClientRegistration {
        method: RegistrationMethod::Dynamic,
        issuer: issuer.to_string(),
        client_id: r.client_id,
        client_secret: r.client_secret.map(Secret::new),
        auth_method,
        redirect_uris: r
            .redirect_uris
            .unwrap_or_else(|| vec![redirect_uri.to_string()]),
        registration_access_token: r.registration_access_token.map(Secret::new),
        registration_client_uri: r.registration_client_uri,
        client_secret_expires_at: r.client_secret_expires_at,
        registered_scope: scope.map(str::to_string),
        // An answer that lists its grant types says whether the device grant was allowed;
        // one that does not is taken as registered as asked.
        device_grant: r
            .grant_types
            .is_none_or(|g| g.iter().any(|t| t == DEVICE_CODE_GRANT_TYPE)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::plan::{make_plan, ClientConfig};
    use crate::protocol::canned::{Canned, Expect};
    use crate::protocol::discovery::{AsSource, Discovery};
    use crate::protocol::metadata::AuthServerMetadata;
    use crate::protocol::www_authenticate::BearerChallenge;
    use serde_json::json;

    const REGISTER: &str = "https://mcp.example.com/register";
    const REDIRECT: &str = "http://127.0.0.1:33418/callback";

    /// The plan for a 2025-03-26 server whose challenge asks for `mcp`: register dynamically
    /// at its origin's `/register`.
    fn plan() -> SignInPlan {
        let server = Url::parse("https://mcp.example.com/mcp").unwrap();
        let plan = make_plan(
            Discovery {
                server_url: server.to_string(),
                resource: server.to_string(),
                probe_status: 401,
                challenge: Some(BearerChallenge {
                    scope: Some("mcp".into()),
                    ..Default::default()
                }),
                prm: None,
                prm_url: None,
                prm_source: None,
                issuer: "https://mcp.example.com".into(),
                as_source: AsSource::LegacyOrigin,
                as_metadata: AuthServerMetadata::legacy_defaults(&server),
                as_metadata_url: None,
                steps: vec![],
            },
            &ClientConfig::default(),
        );
        assert!(
            matches!(&plan.client, ClientChoice::Dynamic { registration_endpoint } if registration_endpoint == REGISTER)
        );
        plan
    }

    #[tokio::test]
    async fn dynamic_registration_sends_a_native_public_client_with_the_loopback_uri() {
        let canned = Canned::new([Expect::post(REGISTER)
            .with_header("accept", "application/json")
            .with_header("content-type", "application/json")
            .respond_json(
                201,
                &json!({"client_id": "c-123", "redirect_uris": [REDIRECT]}),
            )]);
        let reg = obtain_client(&canned.http(), &plan(), REDIRECT, None)
            .await
            .unwrap();
        canned.assert_done();
        assert_eq!(
            canned.sent()[0].json(),
            Some(json!({
                "client_name": "Latchkey",
                "redirect_uris": [REDIRECT],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none",
                "application_type": "native",
                "scope": "mcp",
            }))
        );
        assert_eq!(reg.method, RegistrationMethod::Dynamic);
        assert_eq!(reg.client_id, "c-123");
        assert_eq!(reg.auth_method, TokenAuthMethod::None);
        assert_eq!(reg.client_secret, None);
        assert_eq!(reg.redirect_uris, [REDIRECT]);
        assert_eq!(reg.registered_scope.as_deref(), Some("mcp"));
    }

    #[tokio::test]
    async fn a_client_secret_in_the_answer_defaults_to_basic_authentication() {
        let canned = Canned::new([Expect::post(REGISTER).respond_json(
            201,
            &json!({"client_id": "c-9", "client_secret": "s-9", "registration_access_token": "rat"}),
        )]);
        let reg = obtain_client(&canned.http(), &plan(), REDIRECT, None)
            .await
            .unwrap();
        assert_eq!(reg.auth_method, TokenAuthMethod::ClientSecretBasic);
        assert_eq!(reg.client_secret.as_ref().map(Secret::expose), Some("s-9"));
        // Without redirect_uris in the answer, the one asked for is assumed.
        assert_eq!(reg.redirect_uris, [REDIRECT]);
    }

    #[tokio::test]
    async fn a_refusal_gives_the_servers_oauth_error_and_points_to_a_registered_app() {
        let canned = Canned::new([Expect::post(REGISTER).respond_json(
            400,
            &json!({"error": "invalid_redirect_uri", "error_description": "loopback is not allowed"}),
        )]);
        let err = obtain_client(&canned.http(), &plan(), REDIRECT, None)
            .await
            .unwrap_err();
        let e = err.oauth().expect("the AS's error is kept").clone();
        assert_eq!(e.stage, OAuthStage::Registration);
        assert_eq!(e.code, "invalid_redirect_uri");
        assert_eq!(e.description.as_deref(), Some("loopback is not allowed"));
        assert_eq!(err.code(), "registration_refused");
        assert_eq!(
            err.to_string(),
            "the sign-in server https://mcp.example.com refused to register Latchkey as an app (HTTP 400, invalid_redirect_uri: loopback is not allowed)"
        );
        let hint = err.hint();
        assert!(
            hint.contains("http://127.0.0.1:<port>/callback")
                && hint.contains("--callback-port")
                && hint.contains("--client-id")
                && hint.contains("the scopes mcp")
                && hint.contains("App identity"),
            "{hint}"
        );
    }

    #[tokio::test]
    async fn a_refusal_without_an_oauth_error_gives_the_status_an_excerpt_and_the_fixed_redirect_uri(
    ) {
        let canned = Canned::new([Expect::post(REGISTER)
            .respond(403)
            .respond_body("registration is closed")]);
        let mut plan = plan();
        plan.callback_port = Some(8765);
        let err = obtain_client(&canned.http(), &plan, REDIRECT, None)
            .await
            .unwrap_err();
        match &err {
            Error::RegistrationRefused {
                status,
                body,
                oauth,
                redirect_uri,
                scopes,
                ..
            } => {
                assert_eq!(*status, 403);
                assert_eq!(body.as_deref(), Some("registration is closed"));
                assert_eq!(*oauth, None);
                assert_eq!(redirect_uri, "http://127.0.0.1:8765/callback");
                assert_eq!(scopes, &["mcp"]);
            }
            other => panic!("expected a refused registration, got {other:?}"),
        }
        assert!(err
            .to_string()
            .ends_with("(HTTP 403: registration is closed)"));
        assert!(
            err.hint()
                .contains("http://127.0.0.1:8765/callback and the scopes mcp"),
            "{}",
            err.hint()
        );
    }

    #[tokio::test]
    async fn a_server_failure_at_registration_is_not_a_refusal() {
        let canned = Canned::new([Expect::post(REGISTER).respond(503).respond_body("down")]);
        let err = obtain_client(&canned.http(), &plan(), REDIRECT, None)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::HttpStatus { status: 503, .. }),
            "{err:?}"
        );
    }

    const CLIENT_URI: &str = "https://mcp.example.com/register/c-9";

    fn readable_client() -> ClientRegistration {
        ClientRegistration {
            method: RegistrationMethod::Dynamic,
            issuer: "https://mcp.example.com".into(),
            client_id: "c-9".into(),
            client_secret: Some(Secret::new("old-secret-value")),
            auth_method: TokenAuthMethod::ClientSecretBasic,
            redirect_uris: vec![REDIRECT.into()],
            registration_access_token: Some(Secret::new("rat-secret-value")),
            registration_client_uri: Some(CLIENT_URI.into()),
            client_secret_expires_at: Some(1_700_003_600),
            registered_scope: Some("mcp".into()),
            device_grant: false,
        }
    }

    #[test]
    fn a_secret_expires_only_at_a_nonzero_time_and_only_when_there_is_one() {
        let mut c = readable_client();
        assert!(!c.secret_expired(1_700_003_599));
        assert!(c.secret_expired(1_700_003_600));
        assert!(c.secret_expires_within(1_700_000_000, Duration::from_secs(3600)));
        assert!(!c.secret_expires_within(1_700_000_000, Duration::from_secs(3599)));
        // 0 means never (RFC 7591 section 3.2.1); so does an absent time.
        c.client_secret_expires_at = Some(0);
        assert!(!c.secret_expired(u64::MAX) && c.secret_expiry().is_none());
        c.client_secret_expires_at = None;
        assert!(!c.secret_expired(u64::MAX));
        // No secret: nothing to expire.
        c.client_secret_expires_at = Some(1);
        c.client_secret = None;
        assert!(!c.secret_expired(u64::MAX));
        assert!(readable_client().readable());
        c.registration_access_token = None;
        assert!(!c.readable());
    }

    #[tokio::test]
    async fn reading_a_registration_picks_up_a_rotated_secret_and_token() {
        let canned = Canned::new([Expect::get(CLIENT_URI)
            .with_header("authorization", "Bearer rat-secret-value")
            .with_header("accept", "application/json")
            .respond_json(
                200,
                &json!({"client_id": "c-9", "client_secret": "new-secret-value",
                        "client_secret_expires_at": 1_800_000_000u64,
                        "registration_access_token": "rat-2-secret-value",
                        "registration_client_uri": CLIENT_URI,
                        "redirect_uris": [REDIRECT]}),
            )]);
        let got = read_registration(&canned.http(), &readable_client())
            .await
            .unwrap();
        canned.assert_done();
        let Standing::Known(c) = got else {
            panic!("expected the client to be known: {got:?}")
        };
        assert_eq!(
            c.client_secret.as_ref().map(Secret::expose),
            Some("new-secret-value")
        );
        assert_eq!(c.client_secret_expires_at, Some(1_800_000_000));
        assert_eq!(
            c.registration_access_token.as_ref().map(Secret::expose),
            Some("rat-2-secret-value")
        );
        // What it did not say stays.
        assert_eq!(c.registered_scope.as_deref(), Some("mcp"));
        assert_eq!(c.auth_method, TokenAuthMethod::ClientSecretBasic);
        assert!(!format!("{c:?}").contains("secret-value"));
    }

    #[tokio::test]
    async fn a_registration_the_server_no_longer_has_is_unknown_and_the_words_hold_no_secret() {
        for (status, body) in [
            (
                401,
                json!({"error": "invalid_token", "error_description": "registration access token not found"}),
            ),
            (404, json!({"error": "not_found"})),
            (403, json!({})),
            (400, json!({"error": "invalid_client"})),
            (200, json!({"client_id": "someone-else"})),
        ] {
            let canned = Canned::new([Expect::get(CLIENT_URI).respond_json(status, &body)]);
            let got = read_registration(&canned.http(), &readable_client())
                .await
                .unwrap();
            match got {
                Standing::Unknown { detail } => {
                    assert!(!detail.contains("secret-value"), "{detail}");
                    if status == 401 {
                        assert!(
                            detail.contains(
                                "HTTP 401, invalid_token: registration access token not found"
                            ),
                            "{detail}"
                        );
                    }
                }
                other => panic!("HTTP {status} {body}: expected unknown, got {other:?}"),
            }
        }
        // A server failure cannot tell.
        let canned = Canned::new([Expect::get(CLIENT_URI).respond(503)]);
        let e = read_registration(&canned.http(), &readable_client())
            .await
            .unwrap_err();
        assert!(matches!(e, Error::HttpStatus { status: 503, .. }), "{e:?}");
        // The registration access token never travels in clear off loopback.
        let mut c = readable_client();
        c.registration_client_uri = Some("http://as.example.com/register/c-9".into());
        let canned = Canned::new([]);
        let e = read_registration(&canned.http(), &c).await.unwrap_err();
        assert_eq!(e.code(), "insecure_endpoint");
        assert!(canned.sent().is_empty());
    }

    #[tokio::test]
    async fn the_sign_in_page_says_whether_it_knows_the_client() {
        let auth = Url::parse("https://mcp.example.com/authorize?client_id=c-9&state=x").unwrap();
        let page = |status: u16, body: &str, location: Option<&str>| {
            let mut e = Expect::get(auth.as_str())
                .respond(status)
                .respond_header("content-type", "text/html")
                .respond_body(body.to_string());
            if let Some(l) = location {
                e = e.respond_header("location", l);
            }
            e
        };
        let cases = [
            // oidc-provider's error page for a client it does not know.
            (page(400, "<pre id=\"error\">{&quot;error&quot;: &quot;invalid_client&quot;, &quot;error_description&quot;: &quot;client is invalid&quot;}</pre>", None), false),
            (page(400, "<h1>Client not found</h1>", None), false),
            (page(302, "", Some("http://127.0.0.1:33418/callback?error=unauthorized_client&state=x")), false),
            (page(302, "", Some("/interaction/abc")), true),
            (page(303, "", Some("http://127.0.0.1:33418/callback?error=invalid_scope&state=x")), true),
            (page(200, "<form>log in</form>", None), true),
            (page(400, "<h1>invalid_request: missing scope</h1>", None), true),
            (page(500, "invalid_client", None), true),
        ];
        for (expect, known) in cases {
            let canned = Canned::new([expect]);
            let got = authorization_page_standing(&canned.http(), &readable_client(), &auth)
                .await
                .unwrap();
            canned.assert_done();
            assert_eq!(matches!(got, Standing::Known(_)), known, "{got:?}");
            assert_eq!(canned.sent()[0].header("authorization"), None);
        }
    }
}
