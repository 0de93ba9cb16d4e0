//! The client registration: pre-registered, a client id metadata document, or RFC 7591
//! dynamic registration (ARCHITECTURE.md, Protocol rules: client).

use crate::error::{Error, OAuthError, OAuthStage, Result};
use crate::oauth::plan::{
    redirect_uri as redirect_uri_for, ClientChoice, SignInPlan, TokenAuthMethod,
};
use crate::protocol::http::{Http, Outgoing};
use crate::protocol::urls;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationMethod {
    PreRegistered,
    MetadataDocument,
    Dynamic,
}

/// A client as the sign-in server knows it. Stored in the same bundle as the tokens it got,
/// so the two can never drift apart.
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
}

impl ClientRegistration {
    /// A dynamic client from an earlier sign-in that can serve this plan as it is.
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
        code: e.error,
        description: e.error_description,
        uri: e.error_uri,
    })
}

/// The registration request body (RFC 7591 §2): public native client, the exact loopback
/// redirect URI, and the scopes the plan asks for.
pub fn registration_body(plan: &SignInPlan, redirect_uri: &str) -> serde_json::Value {
    let mut body = serde_json::json!({
        "client_name": "Latchkey",
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "application_type": "native",
    });
    if let Some(scope) = plan.scope_param() {
        body["scope"] = serde_json::Value::String(scope);
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
        }),
        ClientChoice::Dynamic {
            registration_endpoint,
        } => register_dynamically(http, plan, registration_endpoint, redirect_uri).await,
        ClientChoice::Missing => Err(Error::NoClientRegistration {
            issuer: plan.issuer.clone(),
            redirect_uri: redirect_uri.to_string(),
            scopes: plan.scope_names(),
        }),
    }
}

async fn register_dynamically(
    http: &Http,
    plan: &SignInPlan,
    endpoint: &str,
    redirect_uri: &str,
) -> Result<ClientRegistration> {
    let url = Url::parse(endpoint).map_err(|e| Error::BadMetadata {
        what: "sign-in server metadata",
        url: plan.issuer.clone(),
        detail: format!("registration endpoint {endpoint:?} is not a URL ({e})"),
    })?;
    urls::require_secure(&url, "registration endpoint")?;
    let body = registration_body(plan, redirect_uri);
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
    let r: RegistrationResponse =
        serde_json::from_slice(&resp.body).map_err(|e| Error::BadMetadata {
            what: "registration answer",
            url: url.to_string(),
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
        issuer: plan.issuer.clone(),
        client_id: r.client_id,
        client_secret: r.client_secret.map(Secret::new),
        auth_method,
        redirect_uris: r
            .redirect_uris
            .unwrap_or_else(|| vec![redirect_uri.to_string()]),
        registration_access_token: r.registration_access_token.map(Secret::new),
        registration_client_uri: r.registration_client_uri,
        client_secret_expires_at: r.client_secret_expires_at,
        registered_scope: plan.scope_param(),
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
}
