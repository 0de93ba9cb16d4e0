//! Token revocation (RFC 7009) for signing out.

use crate::error::{Error, OAuthStage, Result};
use crate::oauth::plan::TokenAuthMethod;
use crate::oauth::register::oauth_error_from_body;
use crate::oauth::register::ClientRegistration;
use crate::oauth::tokens::TokenSet;
use crate::protocol::http::{Http, Outgoing};
use crate::protocol::urls;
use url::Url;

/// One session to end at its authorization server.
pub struct Revocation<'a> {
    /// The issuer, for error messages.
    pub issuer: &'a str,
    /// The AS metadata's `revocation_endpoint`; `None` when it offers none.
    pub endpoint: Option<&'a str>,
    pub client: &'a ClientRegistration,
    pub tokens: &'a TokenSet,
}

/// Revokes the refresh token (which ends the grant at most servers) and the access token.
/// Returns false when the sign-in server offers no revocation.
pub async fn revoke(http: &Http, b: &Revocation<'_>) -> Result<bool> {
    let Some(endpoint) = b.endpoint else {
        return Ok(false);
    };
    let url = Url::parse(endpoint).map_err(|e| Error::BadMetadata {
        what: "sign-in server metadata",
        url: b.issuer.to_string(),
        detail: format!("revocation endpoint {endpoint:?} is not a URL ({e})"),
    })?;
    urls::require_secure(&url, "revocation endpoint")?;
    let mut tokens = Vec::new();
    if let Some(rt) = &b.tokens.refresh_token {
        tokens.push((rt.expose(), "refresh_token"));
    }
    tokens.push((b.tokens.access_token.expose(), "access_token"));
    for (token, hint) in tokens {
        let mut form: Vec<(&str, &str)> = vec![("token", token), ("token_type_hint", hint)];
        let mut req = Outgoing::post(&url);
        match (b.client.auth_method, &b.client.client_secret) {
            (TokenAuthMethod::ClientSecretBasic, Some(secret)) => {
                req = req.basic_auth(&b.client.client_id, secret.expose());
            }
            (TokenAuthMethod::ClientSecretPost, Some(secret)) => {
                form.push(("client_id", &b.client.client_id));
                form.push(("client_secret", secret.expose()));
            }
            _ => form.push(("client_id", &b.client.client_id)),
        }
        let resp = http.send(req.form(&form)).await?;
        if resp.status != 200 {
            if let Some(e) = oauth_error_from_body(OAuthStage::Revocation, &resp.body) {
                // RFC 7009 §2.2.1: a server that cannot revoke this kind of token says so.
                if e.code == "unsupported_token_type" {
                    continue;
                }
                return Err(Error::OAuth(e));
            }
            return Err(Error::HttpStatus {
                url: url.to_string(),
                status: resp.status,
                doing: "revoking the session".into(),
                body: None,
            });
        }
    }
    Ok(true)
}
