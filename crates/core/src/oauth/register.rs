//! The client registration: pre-registered, a client id metadata document, or RFC 7591
//! dynamic registration (DESIGN.md rule 6).

use crate::error::{Error, OAuthError, OAuthStage, Result};
use crate::oauth::plan::{ClientChoice, LoginPlan, TokenAuthMethod};
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
    pub fn reusable_for(&self, plan: &LoginPlan) -> bool {
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
pub fn registration_body(plan: &LoginPlan, redirect_uri: &str) -> serde_json::Value {
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
    plan: &LoginPlan,
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
    plan: &LoginPlan,
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
