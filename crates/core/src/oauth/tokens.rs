//! Tokens: the authorization URL with PKCE, the code exchange and the refresh, through the
//! `oauth2` crate, with `resource` on every request (RFC 8707).

use crate::clock::Clock;
use crate::error::{Error, OAuthError, OAuthStage, Result};
use crate::oauth::plan::TokenAuthMethod;
use crate::oauth::register::ClientRegistration;
use crate::oauth::token_response::{self, LenientTokenResponse};
use crate::protocol::http::Http;
use crate::protocol::urls;
use crate::redact;
use crate::secret::Secret;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope, StandardRevocableToken,
    TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use url::Url;

/// The tokens one sign-in or refresh got (RFC 6749 section 5.1). Times are seconds since
/// the Unix epoch, read from the [`Clock`] when the answer arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSet {
    /// The access token.
    pub access_token: Secret,
    /// `Bearer`, or the AS's other `token_type` as the `oauth2` crate names it.
    pub token_type: String,
    /// The refresh token: the AS's new one, or on a refresh without one the old one kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// Seconds since the epoch; None when the AS did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// The granted scopes as the AS reported them (or as requested, when it did not say).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// When the answer arrived, seconds since the epoch.
    pub obtained_at: u64,
}

/// A fresh PKCE pair (S256 only) and state for one sign-in.
pub struct AuthorizationRequest {
    pub url: Url,
    pub state: Secret,
    pub verifier: Secret,
}

/// Everything needed to talk to the token endpoint as one client.
pub struct Endpoint<'a> {
    pub authorization: &'a str,
    pub token: &'a str,
    pub client: &'a ClientRegistration,
    pub redirect_uri: &'a str,
    pub resource: &'a str,
}

/// The `oauth2` crate's client with Latchkey's lenient token response.
type Client = oauth2::Client<
    BasicErrorResponse,
    LenientTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

fn bad(url: &str, detail: String) -> Error {
    Error::BadMetadata {
        what: "sign-in server metadata",
        url: url.to_string(),
        detail,
    }
}

fn client(ep: &Endpoint<'_>) -> Result<Client> {
    let token_url = Url::parse(ep.token).map_err(|e| bad(ep.token, e.to_string()))?;
    urls::require_secure(&token_url, "token endpoint")?;
    let mut c = oauth2::Client::new(ClientId::new(ep.client.client_id.clone()))
        .set_auth_uri(
            AuthUrl::new(ep.authorization.to_string())
                .map_err(|e| bad(ep.authorization, e.to_string()))?,
        )
        .set_token_uri(TokenUrl::from_url(token_url))
        .set_redirect_uri(
            RedirectUrl::new(ep.redirect_uri.to_string())
                .map_err(|e| bad(ep.redirect_uri, e.to_string()))?,
        )
        .set_auth_type(match ep.client.auth_method {
            TokenAuthMethod::ClientSecretBasic => AuthType::BasicAuth,
            TokenAuthMethod::ClientSecretPost | TokenAuthMethod::None => AuthType::RequestBody,
        });
    if let (Some(secret), false) = (
        &ep.client.client_secret,
        ep.client.auth_method == TokenAuthMethod::None,
    ) {
        c = c.set_client_secret(ClientSecret::new(secret.expose().to_string()));
    }
    Ok(c)
}

/// The sign-in page's URL (RFC 6749 section 4.1.1) with a fresh S256 PKCE challenge
/// (RFC 7636 section 4.3), a random `state`, `resource` (RFC 8707), `scope` when given, and
/// then `extra` (name, value) in order: the plan's `prompt` and provider parameters.
pub fn authorization_request(
    ep: &Endpoint<'_>,
    scope: Option<&str>,
    extra: &[(&str, &str)],
) -> Result<AuthorizationRequest> {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let c = client(ep)?;
    let mut req = c
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge)
        .add_extra_param("resource", ep.resource);
    if let Some(scope) = scope {
        req = req.add_scopes(scope.split_whitespace().map(|s| Scope::new(s.to_string())));
    }
    for (name, value) in extra {
        req = req.add_extra_param(*name, *value);
    }
    let (url, state) = req.url();
    Ok(AuthorizationRequest {
        url,
        state: Secret::new(state.secret().clone()),
        verifier: Secret::new(verifier.secret().clone()),
    })
}

/// Exchanges an authorization `code` for tokens (RFC 6749 section 4.1.3) with the PKCE
/// `verifier` (RFC 7636 section 4.5) and `resource` (RFC 8707), with `obtained_at` and
/// `expires_at` (`obtained_at + expires_in`) read from `clock` when the answer arrives. `requested_scopes` stand for the granted ones when
/// the AS does not list them.
///
/// Errors: [`Error::OAuth`] with the AS's `error`, `error_description` and `error_uri`
/// (RFC 6749 section 5.2); [`Error::BadTokenResponse`] for an answer that is not a token
/// response (naming the field, never the body); [`Error::Unreachable`] when no answer came;
/// [`Error::BadMetadata`] and [`Error::InsecureEndpoint`] for unusable endpoints.
pub async fn exchange_code(
    http: &Http,
    ep: &Endpoint<'_>,
    code: &Secret,
    verifier: &Secret,
    requested_scopes: &[String],
    clock: &dyn Clock,
) -> Result<TokenSet> {
    let result = client(ep)?
        .exchange_code(AuthorizationCode::new(code.expose().to_string()))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.expose().to_string()))
        .add_extra_param("resource", ep.resource)
        .request_async(http)
        .await;
    let secret = ep.client.client_secret.as_ref().map(Secret::expose);
    let sent: Vec<&str> = [Some(code.expose()), Some(verifier.expose()), secret]
        .into_iter()
        .flatten()
        .collect();
    to_token_set(
        result,
        ep.token,
        OAuthStage::TokenExchange,
        requested_scopes,
        None,
        clock.now(),
        &sent,
    )
}

/// Renews the tokens with `refresh_token` (RFC 6749 section 6) and, when `with_resource`,
/// the endpoint's `resource` (RFC 8707), with times read from `clock` when the answer arrives. A new refresh token
/// in the answer replaces `refresh_token` (rotation); without one the old one is kept.
/// Errors as [`exchange_code`]'s, at the refresh stage.
pub async fn refresh(
    http: &Http,
    ep: &Endpoint<'_>,
    refresh_token: &Secret,
    previous_scopes: &[String],
    clock: &dyn Clock,
    with_resource: bool,
) -> Result<TokenSet> {
    let rt = RefreshToken::new(refresh_token.expose().to_string());
    let c = client(ep)?;
    let mut request = c.exchange_refresh_token(&rt);
    if with_resource {
        request = request.add_extra_param("resource", ep.resource);
    }
    let result = request.request_async(http).await;
    // A refresh answer without a refresh token keeps the old one (RFC 6749 §6).
    let secret = ep.client.client_secret.as_ref().map(Secret::expose);
    let sent: Vec<&str> = [Some(refresh_token.expose()), secret]
        .into_iter()
        .flatten()
        .collect();
    to_token_set(
        result,
        ep.token,
        OAuthStage::Refresh,
        previous_scopes,
        Some(refresh_token),
        clock.now(),
        &sent,
    )
}

type TokenResult = std::result::Result<
    LenientTokenResponse,
    RequestTokenError<oauth2::HttpClientError<Error>, BasicErrorResponse>,
>;

fn to_token_set(
    result: TokenResult,
    token_url: &str,
    stage: OAuthStage,
    requested_scopes: &[String],
    keep_refresh: Option<&Secret>,
    obtained_at: u64,
    sent: &[&str],
) -> Result<TokenSet> {
    // What the server says may echo what it was sent (a refresh token, a code): never shown.
    let clean = |s: &str| redact::text_without(s, sent);
    let resp = result.map_err(|e| match e {
        RequestTokenError::ServerResponse(r) => Error::OAuth(OAuthError {
            stage,
            code: clean(r.error().as_ref()),
            description: r.error_description().map(|d| clean(d)),
            uri: r.error_uri().map(|u| clean(u)),
        }),
        // Our own error from `Http` (a timeout, a refused connection, an answer over the
        // body limit) as it is (already redacted); anything else the crate met on the way as
        // unreachable, below.
        RequestTokenError::Request(oauth2::HttpClientError::Reqwest(ours)) => *ours,
        // Some servers answer a failure with HTTP 200 and an OAuth error in the body.
        RequestTokenError::Parse(e, body) => match token_response::error_in_body(&body) {
            Some((code, description, uri)) => Error::OAuth(OAuthError {
                stage,
                code: clean(&code),
                description: description.map(|d| clean(&d)),
                uri: uri.map(|u| clean(&u)),
            }),
            // The parse error names the field, never the body (which may hold tokens); a
            // value it quotes is redacted.
            None => Error::BadTokenResponse {
                url: token_url.to_string(),
                detail: clean(&e.to_string()),
            },
        },
        RequestTokenError::Request(e) => Error::Unreachable {
            url: token_url.to_string(),
            detail: clean(&e.to_string()),
        },
        RequestTokenError::Other(s) => Error::BadTokenResponse {
            url: token_url.to_string(),
            detail: clean(&s),
        },
    })?;
    token_set_from(
        &resp,
        token_url,
        requested_scopes,
        keep_refresh,
        obtained_at,
    )
}

/// The tokens of a token response read leniently ([`LenientTokenResponse`]) from
/// `token_url`: an empty access token is a failure; a refresh token absent from the answer is
/// `keep_refresh`; `requested_scopes` stand for the granted ones when the answer lists none;
/// the expiry follows [`token_response::expires_at`].
pub(crate) fn token_set_from(
    resp: &LenientTokenResponse,
    token_url: &str,
    requested_scopes: &[String],
    keep_refresh: Option<&Secret>,
    obtained_at: u64,
) -> Result<TokenSet> {
    let token_type = match resp.token_type() {
        oauth2::basic::BasicTokenType::Bearer => "Bearer".to_string(),
        other => format!("{other:?}"),
    };
    let access_token = Secret::new(resp.access_token().secret().clone());
    if let Some(detail) = token_response::check(&access_token) {
        return Err(Error::BadTokenResponse {
            url: token_url.to_string(),
            detail,
        });
    }
    let refresh_token = resp
        .refresh_token()
        .map(|r| Secret::new(r.secret().clone()))
        .filter(|r| !r.expose().trim().is_empty())
        .or_else(|| keep_refresh.cloned());
    Ok(TokenSet {
        expires_at: token_response::expires_at(
            resp.expires_in(),
            access_token.expose(),
            refresh_token.is_some(),
            obtained_at,
        ),
        access_token,
        token_type,
        refresh_token,
        scopes: match resp.scopes() {
            Some(s) => s.iter().map(|s| s.to_string()).collect(),
            None => requested_scopes.to_vec(),
        },
        obtained_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;
    use crate::oauth::register::RegistrationMethod;
    use crate::protocol::canned::{Canned, Expect};
    use serde_json::json;
    use std::sync::Arc;

    const TOKEN: &str = "https://as.example.com/token";
    const REDIRECT: &str = "http://127.0.0.1:33418/callback";
    const RESOURCE: &str = "https://mcp.example.com/mcp";
    const NOW: u64 = 1_700_000_000;

    fn public_client() -> ClientRegistration {
        ClientRegistration {
            method: RegistrationMethod::Dynamic,
            issuer: "https://as.example.com".into(),
            client_id: "c-123".into(),
            client_secret: None,
            auth_method: TokenAuthMethod::None,
            redirect_uris: vec![REDIRECT.into()],
            registration_access_token: None,
            registration_client_uri: None,
            client_secret_expires_at: None,
            registered_scope: None,
            device_grant: false,
        }
    }

    fn endpoint(client: &ClientRegistration) -> Endpoint<'_> {
        Endpoint {
            authorization: "https://as.example.com/authorize",
            token: TOKEN,
            client,
            redirect_uri: REDIRECT,
            resource: RESOURCE,
        }
    }

    async fn exchange(canned: &Arc<Canned>, clock: &FakeClock) -> Result<TokenSet> {
        let client = public_client();
        exchange_code(
            &canned.http(),
            &endpoint(&client),
            &Secret::new("the-code"),
            &Secret::new("the-verifier"),
            &["mcp".to_string()],
            clock,
        )
        .await
    }

    async fn refresh_at(canned: &Arc<Canned>, clock: &FakeClock) -> Result<TokenSet> {
        let client = public_client();
        refresh(
            &canned.http(),
            &endpoint(&client),
            &Secret::new("old-refresh"),
            &["mcp".to_string()],
            clock,
            true,
        )
        .await
    }

    #[test]
    fn the_sign_in_address_carries_pkce_s256_resource_scope_then_the_extra_parameters() {
        let client = public_client();
        let req = authorization_request(
            &endpoint(&client),
            Some("mcp offline_access"),
            &[("access_type", "offline"), ("prompt", "consent")],
        )
        .unwrap();
        let pairs: Vec<(String, String)> = req.url.query_pairs().into_owned().collect();
        let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "response_type",
                "client_id",
                "state",
                "code_challenge",
                "code_challenge_method",
                "redirect_uri",
                "scope",
                "resource",
                "access_type",
                "prompt"
            ]
        );
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("code_challenge_method"), Some("S256"));
        assert_eq!(get("scope"), Some("mcp offline_access"));
        assert_eq!(get("access_type"), Some("offline"));
        assert_eq!(get("prompt"), Some("consent"));
        assert_eq!(get("state"), Some(req.state.expose()));
        assert!(req
            .url
            .as_str()
            .starts_with("https://as.example.com/authorize?response_type=code&client_id=c-123&"));
    }

    #[tokio::test]
    async fn the_code_exchange_sends_verifier_resource_and_redirect_and_dates_the_tokens() {
        let canned = Canned::new([Expect::post(TOKEN)
            .with_header("accept", "application/json")
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_form("grant_type", "authorization_code")
            .with_form("code", "the-code")
            .with_form("code_verifier", "the-verifier")
            .with_form("redirect_uri", REDIRECT)
            .with_form("resource", RESOURCE)
            .with_form("client_id", "c-123")
            .respond_json(
                200,
                &json!({"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600,
                        "refresh_token": "rt-1", "scope": "mcp offline_access"}),
            )]);
        let clock = FakeClock::at(NOW);
        let t = exchange(&canned, &clock).await.unwrap();
        canned.assert_done();
        assert_eq!(
            String::from_utf8_lossy(&canned.sent()[0].body),
            "grant_type=authorization_code&code=the-code&code_verifier=the-verifier\
             &client_id=c-123&redirect_uri=http%3A%2F%2F127.0.0.1%3A33418%2Fcallback\
             &resource=https%3A%2F%2Fmcp.example.com%2Fmcp"
        );
        assert_eq!(canned.sent()[0].header("authorization"), None);
        assert_eq!(t.access_token.expose(), "at-1");
        assert_eq!(t.token_type, "Bearer");
        assert_eq!(t.refresh_token.as_ref().map(Secret::expose), Some("rt-1"));
        assert_eq!((t.obtained_at, t.expires_at), (NOW, Some(NOW + 3600)));
        assert_eq!(t.scopes, ["mcp", "offline_access"]);
    }

    #[tokio::test]
    async fn without_expires_in_or_scope_there_is_no_expiry_and_the_requested_scopes_stand() {
        let canned = Canned::new([Expect::post(TOKEN).respond_json(
            200,
            &json!({"access_token": "at-1", "token_type": "bearer"}),
        )]);
        let t = exchange(&canned, &FakeClock::at(NOW)).await.unwrap();
        assert_eq!((t.obtained_at, t.expires_at), (NOW, None));
        assert_eq!(t.scopes, ["mcp"]);
        assert_eq!(t.refresh_token, None);
    }

    #[tokio::test]
    async fn a_refresh_keeps_a_rotated_refresh_token_and_otherwise_the_old_one() {
        let clock = FakeClock::at(NOW);
        let canned = Canned::new([
            Expect::post(TOKEN)
                .with_form("grant_type", "refresh_token")
                .with_form("refresh_token", "old-refresh")
                .with_form("resource", RESOURCE)
                .with_form("client_id", "c-123")
                .respond_json(
                    200,
                    &json!({"access_token": "at-2", "token_type": "Bearer", "expires_in": 60,
                            "refresh_token": "rotated-refresh"}),
                ),
            Expect::post(TOKEN).respond_json(
                200,
                &json!({"access_token": "at-3", "token_type": "Bearer", "expires_in": 60}),
            ),
        ]);
        let rotated = refresh_at(&canned, &clock).await.unwrap();
        assert_eq!(
            rotated.refresh_token.as_ref().map(Secret::expose),
            Some("rotated-refresh")
        );
        assert_eq!(rotated.expires_at, Some(NOW + 60));
        assert_eq!(rotated.scopes, ["mcp"]);
        clock.advance(30);
        let kept = refresh_at(&canned, &clock).await.unwrap();
        canned.assert_done();
        assert_eq!(
            kept.refresh_token.as_ref().map(Secret::expose),
            Some("old-refresh")
        );
        assert_eq!(
            (kept.obtained_at, kept.expires_at),
            (NOW + 30, Some(NOW + 90))
        );
    }

    #[tokio::test]
    async fn an_error_answer_shows_the_servers_error_and_description() {
        let canned = Canned::new([Expect::post(TOKEN).respond_json(
            400,
            &json!({"error": "invalid_grant", "error_description": "the code has expired"}),
        )]);
        match exchange(&canned, &FakeClock::at(NOW)).await.unwrap_err() {
            Error::OAuth(e) => {
                assert_eq!(e.stage, OAuthStage::TokenExchange);
                assert_eq!(e.code, "invalid_grant");
                assert_eq!(e.description.as_deref(), Some("the code has expired"));
            }
            other => panic!("expected the AS's error, got {other:?}"),
        }
        let canned = Canned::new([
            Expect::post(TOKEN).respond_json(401, &json!({"error": "invalid_client"}))
        ]);
        match refresh_at(&canned, &FakeClock::at(NOW)).await.unwrap_err() {
            Error::OAuth(e) => {
                assert_eq!(
                    (e.stage, e.code.as_str()),
                    (OAuthStage::Refresh, "invalid_client")
                );
                assert_eq!(e.description, None);
            }
            other => panic!("expected the AS's error, got {other:?}"),
        }
    }

    /// An endless token answer is cut off at the HTTP layer's limit, not held in memory.
    #[tokio::test]
    async fn a_token_answer_over_the_body_limit_is_refused() {
        let mut body = br#"{"access_token": "at", "token_type": "Bearer", "pad": ""#.to_vec();
        body.resize(crate::protocol::http::MAX_BODY + 1, b'x');
        body.extend_from_slice(br#""}"#);
        let canned = Canned::new([Expect::post(TOKEN)
            .respond_header("content-type", "application/json")
            .respond_body(body)]);
        let e = exchange(&canned, &FakeClock::at(NOW)).await.unwrap_err();
        assert!(e.to_string().contains("KiB"), "{e}");
    }

    /// A server that echoes the refresh token or the code it was sent in its description, or
    /// answers with a text/plain form (`access_token=...`): the values appear in no error
    /// message and no trace.
    #[tokio::test]
    async fn what_the_server_echoes_or_answers_as_text_is_never_shown() {
        use crate::protocol::trace::Recorder;
        const PLANTED: &str = "PLANTED-SECRET-1234";
        let rt = format!("{PLANTED}-RT");
        let shown = |e: &Error, recorder: &Recorder| {
            let trace = serde_json::to_string(&recorder.exchanges()).unwrap();
            for s in [e.to_string(), format!("{e:?}"), trace] {
                assert!(!s.contains(PLANTED) && !s.contains("the-code"), "{s}");
            }
        };
        let canned = Canned::new([Expect::post(TOKEN).respond_json(
            400,
            &json!({"error": "invalid_grant",
                    "error_description": format!("refresh token {rt} (short: rt) is unknown")}),
        )]);
        let recorder = Recorder::default();
        let client = public_client();
        let e = refresh(
            &canned.http().with_recorder(recorder.clone()),
            &endpoint(&client),
            &Secret::new(rt.clone()),
            &[],
            &FakeClock::at(NOW),
            true,
        )
        .await
        .unwrap_err();
        shown(&e, &recorder);
        assert!(e.to_string().contains("is unknown"), "{e}");

        // A code exchange answered by `answer`: its error and what was recorded.
        let exchange_answered = |answer: Expect| async {
            let canned = Canned::new([answer]);
            let recorder = Recorder::default();
            let e = exchange_code(
                &canned.http().with_recorder(recorder.clone()),
                &endpoint(&client),
                &Secret::new("the-code"),
                &Secret::new("the-verifier"),
                &[],
                &FakeClock::at(NOW),
            )
            .await
            .unwrap_err();
            (e, recorder)
        };
        let (e, recorder) = exchange_answered(Expect::post(TOKEN).respond_json(
            400,
            &json!({"error": "invalid_grant", "error_description": "code the-code was used"}),
        ))
        .await;
        shown(&e, &recorder);

        // A text answer that is no token: refused, the code it echoes not shown.
        let (e, recorder) = exchange_answered(
            Expect::post(TOKEN)
                .respond(200)
                .respond_header("content-type", "text/plain; charset=utf-8")
                .respond_body("Internal error: code the-code rejected"),
        )
        .await;
        shown(&e, &recorder);
        assert!(!recorder.exchanges().is_empty());
    }

    /// GitHub's OAuth apps (and some others) answer a form, whatever the content type: it is
    /// a token response (or an OAuth error) like JSON, and the trace shows none of its values.
    #[tokio::test]
    async fn a_form_encoded_answer_is_read_as_a_token_response_and_not_traced() {
        use crate::protocol::trace::Recorder;
        let client = public_client();
        for content_type in [
            "application/x-www-form-urlencoded",
            "text/plain; charset=utf-8",
        ] {
            let canned = Canned::new([
                Expect::post(TOKEN)
                    .respond(200)
                    .respond_header("content-type", content_type)
                    .respond_body("access_token=gho_PLANTED&refresh_token=ghr_PLANTED&token_type=bearer&scope=repo+gist&expires_in=28800"),
                Expect::post(TOKEN)
                    .respond(200)
                    .respond_header("content-type", content_type)
                    .respond_body("error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired."),
            ]);
            let recorder = Recorder::default();
            let http = canned.http().with_recorder(recorder.clone());
            let (ep, code, verifier) = (
                endpoint(&client),
                Secret::new("the-code"),
                Secret::new("the-verifier"),
            );
            let clock = FakeClock::at(NOW);
            let exchange = || exchange_code(&http, &ep, &code, &verifier, &[], &clock);
            let t = exchange().await.unwrap();
            assert_eq!(t.access_token.expose(), "gho_PLANTED");
            assert_eq!(t.refresh_token.unwrap().expose(), "ghr_PLANTED");
            assert_eq!(t.scopes, ["repo", "gist"]);
            assert_eq!(t.expires_at, Some(NOW + 28800));
            match exchange().await.unwrap_err() {
                Error::OAuth(e) => {
                    assert_eq!(e.code, "bad_verification_code");
                    assert_eq!(
                        e.description.as_deref(),
                        Some("The code passed is incorrect or expired.")
                    );
                }
                other => panic!("{other:?}"),
            }
            let trace = serde_json::to_string(&recorder.exchanges()).unwrap();
            assert!(!trace.contains("PLANTED"), "{trace}");
        }
    }

    /// Entra sends `"expires_in": "5250"`: read as seconds, not refused after the person
    /// consented.
    #[tokio::test]
    async fn an_expires_in_string_is_read_as_seconds() {
        let canned = Canned::new([Expect::post(TOKEN).respond_json(
            200,
            &json!({"access_token": "at-secret", "token_type": "Bearer", "expires_in": "5250",
                    "refresh_token": "rt-secret"}),
        )]);
        let t = exchange(&canned, &FakeClock::at(NOW)).await.unwrap();
        assert_eq!(t.expires_at, Some(NOW + 5250));
    }

    /// Slack answers a failed exchange with HTTP 200 and an `error`; another AS answers an
    /// empty `access_token`. Neither is stored as signed in, and the words hold no token.
    #[tokio::test]
    async fn a_200_that_is_not_a_token_is_a_failure_with_the_servers_error() {
        let canned = Canned::new([
            Expect::post(TOKEN).respond_json(200, &json!({"ok": false, "error": "invalid_code"})),
            Expect::post(TOKEN).respond_json(
                200,
                &json!({"access_token": "", "token_type": "Bearer", "refresh_token": "rt-secret"}),
            ),
            Expect::post(TOKEN).respond_json(200, &json!({"token_type": "Bearer"})),
        ]);
        let clock = FakeClock::at(NOW);
        match exchange(&canned, &clock).await.unwrap_err() {
            Error::OAuth(e) => assert_eq!(e.code, "invalid_code"),
            other => panic!("expected the AS's error, got {other:?}"),
        }
        let empty = exchange(&canned, &clock).await.unwrap_err();
        assert!(matches!(empty, Error::BadTokenResponse { .. }), "{empty:?}");
        assert!(
            empty.to_string().contains("access_token is empty"),
            "{empty}"
        );
        assert!(!format!("{empty} {empty:?}").contains("rt-secret"));
        let missing = exchange(&canned, &clock).await.unwrap_err();
        assert!(missing.to_string().contains("access_token"), "{missing}");
        canned.assert_done();
    }

    #[tokio::test]
    async fn a_confidential_client_authenticates_with_basic_auth_not_the_form() {
        let mut client = public_client();
        client.client_secret = Some(Secret::new("s3cret"));
        client.auth_method = TokenAuthMethod::ClientSecretBasic;
        let canned = Canned::new([Expect::post(TOKEN).respond_json(
            200,
            &json!({"access_token": "at-1", "token_type": "Bearer"}),
        )]);
        refresh(
            &canned.http(),
            &endpoint(&client),
            &Secret::new("old-refresh"),
            &[],
            &FakeClock::at(NOW),
            false,
        )
        .await
        .unwrap();
        let sent = &canned.sent()[0];
        // "c-123:s3cret", each part form-encoded first (RFC 6749 section 2.3.1).
        assert_eq!(sent.header("authorization"), Some("Basic Yy0xMjM6czNjcmV0"));
        assert_eq!(sent.form_value("client_secret"), None);
        assert_eq!(sent.form_value("client_id"), None);
        assert_eq!(sent.form_value("resource"), None, "left out when asked to");
    }
}
