//! How a server wants to be signed into: probe, challenge, protected resource metadata,
//! authorization server metadata (ARCHITECTURE.md, Protocol rules: challenges to PKCE, legacy servers).

use crate::error::{Error, Result};
use crate::protocol::http::{Fetched, Http};
use crate::protocol::mcp;
use crate::protocol::metadata::{AuthServerMetadata, ProtectedResourceMetadata};
use crate::protocol::urls;
use crate::protocol::www_authenticate::{self, BearerChallenge};
use serde::{Deserialize, Serialize};
use url::Url;

/// One thing discovery did, kept so a person can read where each part of the plan came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Step {
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub url: Option<String>,
    pub outcome: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrmSource {
    /// The `resource_metadata` URL of the 401 challenge.
    Challenge,
    /// `/.well-known/oauth-protected-resource/<path>`.
    PathWellKnown,
    /// `/.well-known/oauth-protected-resource`.
    RootWellKnown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AsSource {
    /// Named by the protected resource metadata.
    ResourceMetadata,
    /// No protected resource metadata: the server's origin is the AS (2025-03-26 servers).
    LegacyOrigin,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    pub server_url: String,
    /// The canonical resource URI sent as `resource` on authorize, token and refresh.
    pub resource: String,
    pub probe_status: u16,
    pub challenge: Option<BearerChallenge>,
    pub prm: Option<ProtectedResourceMetadata>,
    pub prm_url: Option<String>,
    pub prm_source: Option<PrmSource>,
    pub issuer: String,
    pub as_source: AsSource,
    pub as_metadata: AuthServerMetadata,
    /// None when the legacy default endpoints are used.
    pub as_metadata_url: Option<String>,
    pub steps: Vec<Step>,
}

/// How the server at `server_url` wants to be signed into: [`discover_with_hints`] with no
/// hints.
pub async fn discover(http: &Http, server_url: &str) -> Result<Discovery> {
    discover_with_hints(http, server_url, &[]).await
}

/// How the server at `server_url` wants to be signed into: an anonymous `initialize` (the
/// probe), its challenge, the protected resource metadata, then the authorization server's.
///
/// `hints` are `resource_metadata` URLs the server named when it was used (a 401 or 403 on
/// `tools/call`, possibly a per-tool document): they are read first, in order, then the one
/// of the probe's challenge, then the well-known addresses (RFC 9728 sections 3 and 5.1).
///
/// A probe answered 2xx does not end discovery: such a server may ask for a token only when a
/// tool is used (MCP authorization, "Scope Challenge Handling"), so its metadata is looked
/// for at the well-known addresses; where there is none, [`Error::NotProtected`].
///
/// Errors: [`Error::NotProtected`], [`Error::NoServer`] (404/410), [`Error::HttpStatus`]
/// (another status), metadata errors, and the transport's.
pub async fn discover_with_hints(
    http: &Http,
    server_url: &str,
    hints: &[String],
) -> Result<Discovery> {
    let server = urls::parse_http_url(server_url)?;
    urls::require_secure(&server, "MCP server address")?;
    let mut steps = Vec::new();

    let probe = mcp::probe(http, &server, None).await?;
    let status = probe.status;
    let (challenge, challenge_note) = read_challenge(&probe);
    steps.push(Step {
        action: "Asked the server to start an MCP session without a token".into(),
        url: Some(server.to_string()),
        outcome: format!("HTTP {status}{challenge_note}"),
    });
    let anonymous = (200..=299).contains(&status);
    match status {
        200..=299 => steps.push(Step {
            action: "Looked further: the server may ask for sign-in only when a tool is used"
                .into(),
            url: None,
            outcome: "reading its protected resource metadata at the well-known addresses".into(),
        }),
        401 | 403 | 400 | 405 | 406 | 415 => {}
        404 | 410 => {
            return Err(Error::NoServer {
                url: server.to_string(),
                status,
            })
        }
        _ => {
            return Err(Error::HttpStatus {
                url: server.to_string(),
                status,
                doing: "starting an MCP session".into(),
                body: Some(probe.text_excerpt()),
            })
        }
    }

    let named: Vec<&str> = hints
        .iter()
        .map(String::as_str)
        .chain(
            challenge
                .as_ref()
                .and_then(|c| c.resource_metadata.as_deref()),
        )
        .collect();
    let prm = find_prm(http, &server, &named, &mut steps).await?;
    if anonymous && prm.is_none() {
        return Err(Error::NotProtected {
            url: server.to_string(),
        });
    }

    let (issuer, as_source, resource) = match &prm {
        Some((doc, _, _)) => {
            let Some(first) = doc.authorization_servers.first() else {
                return Err(Error::NoAuthorizationServer {
                    prm_url: prm.as_ref().map(|p| p.1.clone()).unwrap_or_default(),
                });
            };
            if doc.authorization_servers.len() > 1 {
                steps.push(Step {
                    action: "Chose the first of several sign-in servers".into(),
                    url: None,
                    outcome: format!(
                        "using {first}; also listed: {}",
                        doc.authorization_servers[1..].join(", ")
                    ),
                });
            }
            let resource_url = urls::parse_http_url(&doc.resource)?;
            (
                first.clone(),
                AsSource::ResourceMetadata,
                urls::canonical_resource(&resource_url),
            )
        }
        None => (
            server.origin().ascii_serialization(),
            AsSource::LegacyOrigin,
            urls::canonical_resource(&server),
        ),
    };

    let issuer_url = urls::parse_http_url(&issuer).map_err(|_| Error::BadMetadata {
        what: "protected resource metadata",
        url: prm.as_ref().map(|p| p.1.clone()).unwrap_or_default(),
        detail: format!("the authorization server {issuer:?} is not a valid URL"),
    })?;
    urls::require_secure(&issuer_url, "sign-in server")?;
    urls::check_followed(&server, &issuer_url, "sign-in server")?;

    let (as_metadata, as_metadata_url) =
        match find_as_metadata(http, &issuer_url, &issuer, as_source, &mut steps).await? {
            Some((m, u)) => (m, Some(u)),
            None if as_source == AsSource::LegacyOrigin => {
                steps.push(Step {
                    action: "Used the default endpoints of 2025-03-26 servers".into(),
                    url: None,
                    outcome: "/authorize, /token and /register at the server's origin".into(),
                });
                (AuthServerMetadata::legacy_defaults(&server), None)
            }
            None => {
                return Err(Error::NoAuthServerMetadata {
                    issuer: issuer.clone(),
                    tried: as_metadata_candidates(&issuer_url)
                        .iter()
                        .map(|u| u.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                })
            }
        };

    // Methods listed without S256 (only `plain`, say) are refused here; a document that lists
    // none is left to the plan, which assumes S256 only for a known provider or by the
    // person's choice (ARCHITECTURE.md, Protocol rules: PKCE).
    if let Some(methods) = as_metadata
        .code_challenge_methods_supported
        .as_ref()
        .filter(|m| !m.is_empty() && !as_metadata.supports_s256())
    {
        return Err(Error::PkceUnsupported {
            issuer: issuer.clone(),
            advertised: methods.join(", "),
        });
    }
    // A 2025-03-26 server's own metadata may declare an issuer with a path on its origin.
    let issuer = match as_source {
        AsSource::LegacyOrigin => as_metadata.issuer.clone(),
        AsSource::ResourceMetadata => issuer,
    };
    check_endpoints(
        &server,
        &as_metadata,
        as_metadata_url.as_deref().unwrap_or(&issuer),
    )?;

    let (prm, prm_url, prm_source) = match prm {
        Some((d, u, s)) => (Some(d), Some(u), Some(s)),
        None => (None, None, None),
    };
    Ok(Discovery {
        server_url: server.to_string(),
        resource,
        probe_status: status,
        challenge,
        prm,
        prm_url,
        prm_source,
        issuer,
        as_source,
        as_metadata,
        as_metadata_url,
        steps,
    })
}

fn read_challenge(probe: &Fetched) -> (Option<BearerChallenge>, String) {
    let values = probe.header_values("www-authenticate");
    if values.is_empty() {
        return (None, ", with no WWW-Authenticate header".into());
    }
    match www_authenticate::bearer(values.iter().map(String::as_str)) {
        Ok(Some(b)) => {
            let mut note = String::from(", with a Bearer challenge");
            if let Some(s) = &b.scope {
                note.push_str(&format!(" asking for scope \"{s}\""));
            }
            if b.resource_metadata.is_some() {
                note.push_str(" that names its metadata");
            }
            (Some(b), note)
        }
        Ok(None) => (None, ", with no Bearer challenge".into()),
        Err(e) => (
            None,
            format!(", with a WWW-Authenticate header Latchkey could not read ({e}); falling back to well-known addresses"),
        ),
    }
}

async fn find_prm(
    http: &Http,
    server: &Url,
    named: &[&str],
    steps: &mut Vec<Step>,
) -> Result<Option<(ProtectedResourceMetadata, String, PrmSource)>> {
    let mut candidates: Vec<(Url, PrmSource)> = Vec::new();
    for rm in named {
        match server.join(rm) {
            Ok(u) if urls::check_followed(server, &u, "metadata address").is_err() => {
                steps.push(Step {
                    action: "Ignored the metadata address in the challenge".into(),
                    url: Some(format!("{}://{}", u.scheme(), u.host_str().unwrap_or_default())),
                    outcome: "it is inside this machine or a private network, and the server is not: Latchkey does not follow it".into(),
                })
            }
            Ok(u) if u.scheme() == "https" || urls::is_loopback(&u) => {
                candidates.push((u, PrmSource::Challenge))
            }
            Ok(u) => steps.push(Step {
                action: "Ignored the metadata address in the challenge".into(),
                url: Some(u.to_string()),
                outcome: "it is plain HTTP on another machine".into(),
            }),
            Err(e) => steps.push(Step {
                action: "Ignored the metadata address in the challenge".into(),
                url: None,
                outcome: format!("{rm:?} is not a URL ({e})"),
            }),
        }
    }
    if urls::has_path(server) {
        candidates.push((
            urls::well_known_inserted(server, "oauth-protected-resource"),
            PrmSource::PathWellKnown,
        ));
    }
    candidates.push((
        urls::well_known_root(server, "oauth-protected-resource"),
        PrmSource::RootWellKnown,
    ));
    let mut seen = Vec::new();
    candidates.retain(|(u, _)| {
        let first = !seen.contains(u);
        seen.push(u.clone());
        first
    });

    for (url, source) in candidates {
        let fetched = match http.get(&url, "application/json").await {
            Ok(f) => f,
            Err(e @ (Error::Unreachable { .. } | Error::Timeout { .. }))
                if source != PrmSource::Challenge =>
            {
                steps.push(Step {
                    action: "Looked for the server's protected resource metadata".into(),
                    url: Some(url.to_string()),
                    outcome: e.to_string(),
                });
                continue;
            }
            Err(e) => return Err(e),
        };
        if fetched.status != 200 {
            http.withhold_body(&url, &fetched);
            steps.push(Step {
                action: "Looked for the server's protected resource metadata".into(),
                url: Some(url.to_string()),
                outcome: format!("HTTP {}", fetched.status),
            });
            continue;
        }
        let doc: ProtectedResourceMetadata = match serde_json::from_slice(&fetched.body) {
            Ok(doc) => doc,
            Err(e) => {
                http.withhold_body(&url, &fetched);
                return Err(Error::BadMetadata {
                    what: "protected resource metadata",
                    url: url.to_string(),
                    detail: json_problem(&e, &fetched),
                });
            }
        };
        let resource = match Url::parse(&doc.resource) {
            Ok(r) => r,
            Err(e) => {
                http.withhold_body(&url, &fetched);
                return Err(Error::BadMetadata {
                    what: "protected resource metadata",
                    url: url.to_string(),
                    detail: format!("its resource is not a URL ({e})"),
                });
            }
        };
        if !urls::resource_covers(&resource, server) {
            http.withhold_body(&url, &fetched);
            return Err(Error::ResourceMismatch {
                expected: urls::canonical_resource(server),
                found: doc.resource.clone(),
                prm_url: url.to_string(),
            });
        }
        steps.push(Step {
            action: "Read the server's protected resource metadata".into(),
            url: Some(url.to_string()),
            outcome: format!(
                "resource {}, sign-in server {}{}",
                doc.resource,
                doc.authorization_servers
                    .first()
                    .map(String::as_str)
                    .unwrap_or("(none)"),
                match &doc.scopes_supported {
                    Some(s) if !s.is_empty() => format!(", scopes {}", s.join(" ")),
                    _ => String::new(),
                }
            ),
        });
        return Ok(Some((doc, url.to_string(), source)));
    }
    steps.push(Step {
        action: "Found no protected resource metadata".into(),
        url: None,
        outcome: "treating the server's origin as its sign-in server (2025-03-26 servers)".into(),
    });
    Ok(None)
}

/// RFC 8414 §3.1 and OpenID Discovery, in the order ARCHITECTURE.md gives (Protocol rules: AS metadata).
pub fn as_metadata_candidates(issuer: &Url) -> Vec<Url> {
    if urls::has_path(issuer) {
        vec![
            urls::well_known_inserted(issuer, "oauth-authorization-server"),
            urls::well_known_inserted(issuer, "openid-configuration"),
            urls::well_known_appended(issuer, "openid-configuration"),
        ]
    } else {
        vec![
            urls::well_known_root(issuer, "oauth-authorization-server"),
            urls::well_known_root(issuer, "openid-configuration"),
        ]
    }
}

async fn find_as_metadata(
    http: &Http,
    issuer_url: &Url,
    issuer: &str,
    as_source: AsSource,
    steps: &mut Vec<Step>,
) -> Result<Option<(AuthServerMetadata, String)>> {
    for url in as_metadata_candidates(issuer_url) {
        let fetched = http.get(&url, "application/json").await?;
        if fetched.status != 200 {
            http.withhold_body(&url, &fetched);
            steps.push(Step {
                action: "Looked for the sign-in server's metadata".into(),
                url: Some(url.to_string()),
                outcome: format!("HTTP {}", fetched.status),
            });
            continue;
        }
        let value: serde_json::Value = match serde_json::from_slice(&fetched.body) {
            Ok(v) => v,
            Err(_) => {
                http.withhold_body(&url, &fetched);
                steps.push(Step {
                    action: "Looked for the sign-in server's metadata".into(),
                    url: Some(url.to_string()),
                    outcome: format!("HTTP 200 but not JSON ({})", fetched.content_type()),
                });
                continue;
            }
        };
        let meta: AuthServerMetadata = match serde_json::from_value(value) {
            Ok(m) => m,
            Err(e) => {
                http.withhold_body(&url, &fetched);
                return Err(Error::BadMetadata {
                    what: "sign-in server metadata",
                    url: url.to_string(),
                    detail: json_problem(&e, &fetched),
                });
            }
        };
        if !urls::same_issuer(&meta.issuer, issuer)
            && !legacy_issuer_on_origin(&meta, issuer_url, as_source)
        {
            http.withhold_body(&url, &fetched);
            return Err(Error::IssuerMismatch {
                expected: issuer.to_string(),
                found: meta.issuer,
                url: url.to_string(),
            });
        }
        steps.push(Step {
            action: "Read the sign-in server's metadata".into(),
            url: Some(url.to_string()),
            outcome: format!(
                "issuer {}{}; dynamic registration {}",
                meta.issuer,
                if urls::same_issuer(&meta.issuer, issuer) {
                    ""
                } else {
                    " (declared by the server's own origin, so it is its sign-in server)"
                },
                if meta.registration_endpoint.is_some() {
                    "offered"
                } else {
                    "not offered"
                }
            ),
        });
        return Ok(Some((meta, url.to_string())));
    }
    Ok(None)
}

/// In the legacy mode only (no protected resource metadata, RFC 8414 looked up at the
/// server's origin), an issuer that the origin's own document declares on that same origin,
/// with a path (`https://mcp.example.com/oauth`), is the server's sign-in server: the
/// document came from the origin it speaks for. Everywhere else issuers must be equal
/// (RFC 8414 section 3.3).
fn legacy_issuer_on_origin(meta: &AuthServerMetadata, origin: &Url, as_source: AsSource) -> bool {
    as_source == AsSource::LegacyOrigin
        && Url::parse(&meta.issuer).is_ok_and(|declared| {
            declared.origin() == origin.origin()
                && declared.query().is_none()
                && declared.fragment().is_none()
        })
}

/// Why a metadata document is not what it should be, in words that never repeat its content
/// (serde's messages quote the values they met).
fn json_problem(e: &serde_json::Error, fetched: &Fetched) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Syntax | Category::Eof => "it is not valid JSON",
        Category::Data => "its fields are missing or not of the expected kinds",
        Category::Io => "it could not be read",
    };
    format!(
        "{what} (at line {}, column {}; {}, {} bytes)",
        e.line(),
        e.column(),
        match fetched.content_type() {
            ct if ct.is_empty() => "no content type".to_string(),
            ct => ct,
        },
        fetched.body.len()
    )
}

fn check_endpoints(server: &Url, m: &AuthServerMetadata, source: &str) -> Result<()> {
    let mut all = vec![
        ("sign-in page", &m.authorization_endpoint),
        ("token endpoint", &m.token_endpoint),
    ];
    if let Some(r) = &m.registration_endpoint {
        all.push(("registration endpoint", r));
    }
    // The revocation endpoint is used best effort: one that is not a URL is left to
    // revocation, but one inside this machine is never followed either.
    if let Some(r) = m
        .revocation_endpoint
        .as_deref()
        .and_then(|r| Url::parse(r).ok())
    {
        urls::check_followed(server, &r, "revocation endpoint")?;
    }
    for (what, e) in all {
        let u = Url::parse(e).map_err(|err| Error::BadMetadata {
            what: "sign-in server metadata",
            url: source.to_string(),
            detail: format!("its {what} {e:?} is not a URL ({err})"),
        })?;
        urls::check_followed(server, &u, what)?;
        urls::require_secure(&u, what)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::canned::{Canned, Expect};
    use serde_json::json;
    use std::sync::Arc;

    const SERVER: &str = "https://mcp.example.com/mcp";

    /// The MCP server's answer to a probe without a token.
    fn probe_401(challenge: &str) -> Expect {
        Expect::post(SERVER)
            .with_header("content-type", "application/json")
            .with_header("accept", "application/json, text/event-stream")
            .respond(401)
            .respond_header("www-authenticate", challenge)
    }

    fn prm(resource: &str, issuer: &str) -> serde_json::Value {
        json!({"resource": resource, "authorization_servers": [issuer], "scopes_supported": ["mcp"]})
    }

    fn as_metadata(issuer: &str) -> serde_json::Value {
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "registration_endpoint": format!("{issuer}/register"),
            "code_challenge_methods_supported": ["S256"],
        })
    }

    #[tokio::test]
    async fn challenge_then_prm_then_path_inserted_as_metadata_in_order() {
        let issuer = "https://auth.example.com/tenant1";
        let canned = Canned::new([
            probe_401(
                r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp""#,
            ),
            Expect::get("https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
                .with_header("accept", "application/json")
                .respond_json(200, &prm(SERVER, issuer)),
            Expect::get("https://auth.example.com/.well-known/oauth-authorization-server/tenant1")
                .respond(404),
            Expect::get("https://auth.example.com/.well-known/openid-configuration/tenant1")
                .respond_json(200, &as_metadata(issuer)),
        ]);
        let d = discover(&canned.http(), SERVER).await.unwrap();
        canned.assert_done();
        assert_eq!(
            canned.requests(),
            [
                "POST https://mcp.example.com/mcp",
                "GET https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
                "GET https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
                "GET https://auth.example.com/.well-known/openid-configuration/tenant1",
            ]
        );
        // The probe is an MCP initialize request, byte for byte.
        assert_eq!(
            canned.sent()[0].body,
            mcp::initialize_body(1, mcp::PROTOCOL_VERSION)
                .to_string()
                .as_bytes()
        );
        assert_eq!(d.prm_source, Some(PrmSource::Challenge));
        assert_eq!(d.challenge.and_then(|c| c.scope).as_deref(), Some("mcp"));
        assert_eq!(
            (d.issuer.as_str(), d.as_source),
            (issuer, AsSource::ResourceMetadata)
        );
        assert_eq!(
            d.as_metadata_url.as_deref(),
            Some("https://auth.example.com/.well-known/openid-configuration/tenant1")
        );
        assert_eq!(
            d.as_metadata.token_endpoint,
            "https://auth.example.com/tenant1/token"
        );
        assert_eq!(d.resource, SERVER);
    }

    #[tokio::test]
    async fn without_a_metadata_address_falls_back_to_the_root_well_known_documents() {
        let issuer = "https://auth.example.com";
        let canned = Canned::new([
            probe_401(r#"Bearer realm="mcp""#),
            Expect::get("https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
                .respond(404),
            Expect::get("https://mcp.example.com/.well-known/oauth-protected-resource")
                .respond_json(200, &prm(SERVER, issuer)),
            Expect::get("https://auth.example.com/.well-known/oauth-authorization-server")
                .respond(404),
            Expect::get("https://auth.example.com/.well-known/openid-configuration")
                .respond_json(200, &as_metadata(issuer)),
        ]);
        let d = discover(&canned.http(), SERVER).await.unwrap();
        canned.assert_done();
        assert_eq!(d.prm_source, Some(PrmSource::RootWellKnown));
        assert_eq!(
            d.prm_url.as_deref(),
            Some("https://mcp.example.com/.well-known/oauth-protected-resource")
        );
        assert_eq!(
            d.as_metadata_url.as_deref(),
            Some("https://auth.example.com/.well-known/openid-configuration")
        );
        let looked: Vec<_> = d.steps.iter().map(|s| s.outcome.as_str()).collect();
        assert_eq!(looked[1], "HTTP 404", "{looked:?}");
    }

    #[tokio::test]
    async fn without_any_metadata_the_origin_and_its_default_endpoints_are_used() {
        let canned = Canned::new([
            probe_401("Bearer"),
            Expect::get("https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
                .respond(404),
            Expect::get("https://mcp.example.com/.well-known/oauth-protected-resource")
                .respond(404),
            Expect::get("https://mcp.example.com/.well-known/oauth-authorization-server")
                .respond(404),
            Expect::get("https://mcp.example.com/.well-known/openid-configuration").respond(404),
        ]);
        let d = discover(&canned.http(), SERVER).await.unwrap();
        canned.assert_done();
        assert_eq!(d.as_source, AsSource::LegacyOrigin);
        assert_eq!(d.as_metadata_url, None);
        assert_eq!(
            d.as_metadata.token_endpoint,
            "https://mcp.example.com/token"
        );
    }

    #[tokio::test]
    async fn an_issuer_that_differs_from_the_one_named_is_refused() {
        let issuer = "https://auth.example.com";
        let canned = named_as(&as_metadata("https://evil.example.com"));
        let err = discover(&canned.http(), SERVER).await.unwrap_err();
        canned.assert_done();
        match err {
            Error::IssuerMismatch {
                expected,
                found,
                url,
            } => {
                assert_eq!(expected, issuer);
                assert_eq!(found, "https://evil.example.com");
                assert_eq!(
                    url,
                    "https://auth.example.com/.well-known/oauth-authorization-server"
                );
            }
            other => panic!("expected an issuer mismatch, got {other:?}"),
        }
        // Nothing was asked of the other candidates once the issuer was wrong.
        assert_eq!(canned.requests().len(), 3);
    }

    /// Discovery through a PRM naming https://auth.example.com, whose root RFC 8414 metadata
    /// is `doc`.
    fn named_as(doc: &serde_json::Value) -> Arc<Canned> {
        Canned::new([
            probe_401(
                r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#,
            ),
            Expect::get("https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
                .respond_json(200, &prm(SERVER, "https://auth.example.com")),
            Expect::get("https://auth.example.com/.well-known/oauth-authorization-server")
                .respond_json(200, doc),
        ])
    }

    /// A 2025-03-26 server: no PRM, so its origin's metadata is looked up.
    fn legacy(doc: serde_json::Value) -> Arc<Canned> {
        Canned::new([
            probe_401("Bearer"),
            Expect::get("https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
                .respond(404),
            Expect::get("https://mcp.example.com/.well-known/oauth-protected-resource")
                .respond(404),
            Expect::get("https://mcp.example.com/.well-known/oauth-authorization-server")
                .respond_json(200, &doc),
        ])
    }

    #[tokio::test]
    async fn a_legacy_server_may_declare_a_path_issuer_on_its_own_origin() {
        let canned = legacy(as_metadata("https://mcp.example.com/oauth"));
        let d = discover(&canned.http(), SERVER).await.unwrap();
        canned.assert_done();
        assert_eq!(d.as_source, AsSource::LegacyOrigin);
        // The declared issuer is the one used from now on (the `iss` check included).
        assert_eq!(d.issuer, "https://mcp.example.com/oauth");
        assert_eq!(d.as_metadata.issuer, "https://mcp.example.com/oauth");
        assert_eq!(
            d.as_metadata.authorization_endpoint,
            "https://mcp.example.com/oauth/authorize"
        );
        assert!(
            d.steps
                .iter()
                .any(|s| s.outcome.contains("declared by the server's own origin")),
            "{:?}",
            d.steps
        );
    }

    #[tokio::test]
    async fn a_legacy_server_may_not_declare_an_issuer_on_another_origin() {
        for other in [
            "https://evil.example.com/oauth",
            "https://mcp.example.com:8443/oauth",
            "http://mcp.example.com/oauth",
        ] {
            let canned = legacy(as_metadata(other));
            match discover(&canned.http(), SERVER).await.unwrap_err() {
                Error::IssuerMismatch {
                    expected, found, ..
                } => {
                    assert_eq!(expected, "https://mcp.example.com");
                    assert_eq!(found, other);
                }
                e => panic!("expected an issuer mismatch for {other}, got {e:?}"),
            }
        }
    }

    #[tokio::test]
    async fn outside_the_legacy_mode_a_path_issuer_on_the_same_origin_is_still_refused() {
        let canned = named_as(&as_metadata("https://auth.example.com/oauth"));
        assert!(matches!(
            discover(&canned.http(), SERVER).await.unwrap_err(),
            Error::IssuerMismatch { .. }
        ));
    }

    #[tokio::test]
    async fn metadata_without_pkce_methods_is_left_to_the_plan_but_plain_only_is_refused() {
        let issuer = "https://auth.example.com";
        let mut doc = as_metadata(issuer);
        doc.as_object_mut()
            .unwrap()
            .remove("code_challenge_methods_supported");
        let canned = named_as(&doc);
        let d = discover(&canned.http(), SERVER).await.unwrap();
        assert_eq!(d.as_metadata.code_challenge_methods_supported, None);

        doc["code_challenge_methods_supported"] = json!(["plain"]);
        let canned = named_as(&doc);
        match discover(&canned.http(), SERVER).await.unwrap_err() {
            Error::PkceUnsupported { advertised, .. } => assert_eq!(advertised, "plain"),
            e => panic!("expected a refusal, got {e:?}"),
        }
    }

    /// An `initialize` answered without a token (Google's hosted MCP servers).
    fn probe_200() -> Expect {
        Expect::post(SERVER).respond_json(
            200,
            &json!({"jsonrpc": "2.0", "id": 1, "result": {"protocolVersion": "2025-11-25",
                    "capabilities": {}, "serverInfo": {"name": "open", "version": "1"}}}),
        )
    }

    #[tokio::test]
    async fn a_200_probe_goes_on_to_the_well_known_metadata_and_offers_sign_in() {
        let issuer = "https://auth.example.com";
        let canned = Canned::new([
            probe_200(),
            Expect::get("https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
                .respond(404),
            Expect::get("https://mcp.example.com/.well-known/oauth-protected-resource")
                .respond_json(200, &prm(SERVER, issuer)),
            Expect::get("https://auth.example.com/.well-known/oauth-authorization-server")
                .respond_json(200, &as_metadata(issuer)),
        ]);
        let d = discover(&canned.http(), SERVER).await.unwrap();
        canned.assert_done();
        assert_eq!(d.probe_status, 200);
        assert_eq!(d.challenge, None);
        assert_eq!(d.prm_source, Some(PrmSource::RootWellKnown));
        assert_eq!(d.as_source, AsSource::ResourceMetadata);
        assert_eq!(d.issuer, issuer);
    }

    #[tokio::test]
    async fn a_200_probe_without_metadata_does_not_ask_for_sign_in() {
        let canned = Canned::new([
            probe_200(),
            Expect::get("https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
                .respond(404),
            Expect::get("https://mcp.example.com/.well-known/oauth-protected-resource")
                .respond(404),
        ]);
        let err = discover(&canned.http(), SERVER).await.unwrap_err();
        canned.assert_done();
        assert!(matches!(err, Error::NotProtected { .. }), "{err:?}");
        // No legacy fallback to the origin's AS metadata for a server that needs no token.
        assert_eq!(canned.requests().len(), 3);
    }

    #[tokio::test]
    async fn hints_are_read_in_order_before_the_challenge_and_the_well_known_addresses() {
        let issuer = "https://auth.example.com";
        let tool = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp/tools/a";
        let other = "https://mcp.example.com/meta/b.json";
        let canned = Canned::new([
            probe_401(
                r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#,
            ),
            Expect::get(tool).respond(404),
            Expect::get(other).respond_json(200, &prm(SERVER, issuer)),
            Expect::get("https://auth.example.com/.well-known/oauth-authorization-server")
                .respond_json(200, &as_metadata(issuer)),
        ]);
        let hints = [tool.to_string(), other.to_string(), tool.to_string()];
        let d = discover_with_hints(&canned.http(), SERVER, &hints)
            .await
            .unwrap();
        canned.assert_done();
        assert_eq!(d.prm_url.as_deref(), Some(other));
        assert_eq!(d.prm_source, Some(PrmSource::Challenge));
    }
}

#[cfg(test)]
mod internal_target_tests {
    use super::*;
    use crate::protocol::canned::{Canned, Expect};
    use crate::protocol::trace::Recorder;
    use serde_json::json;

    const SERVER: &str = "https://mcp.example.com/mcp";
    const ISSUER: &str = "https://auth.example.com";
    const PLANTED: &str = "PLANTED-SECRET-7f3a";

    fn probe_401(challenge: &str) -> Expect {
        Expect::post(SERVER)
            .respond(401)
            .respond_header("www-authenticate", challenge)
    }

    fn prm(issuer: &str) -> serde_json::Value {
        json!({"resource": SERVER, "authorization_servers": [issuer], "scopes_supported": ["mcp"]})
    }

    fn as_metadata(issuer: &str, token: &str) -> serde_json::Value {
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": token,
            "code_challenge_methods_supported": ["S256"],
        })
    }

    /// Everything a person or a file could see of a discovery: its trace, its steps, its error.
    fn seen(rec: &Recorder, result: &Result<Discovery>) -> String {
        format!(
            "{}\n{}",
            serde_json::to_string(&rec.exchanges()).unwrap(),
            match result {
                Ok(d) => serde_json::to_string(&d.steps).unwrap(),
                Err(e) => format!("{e} {e:?}"),
            }
        )
    }

    #[tokio::test]
    async fn a_remote_challenge_naming_a_loopback_address_is_not_followed() {
        let secret_url = "http://127.0.0.1:9911/secret";
        let canned = Canned::new([
            probe_401(&format!(r#"Bearer resource_metadata="{secret_url}""#)),
            Expect::get("https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
                .respond_json(200, &prm(ISSUER)),
            Expect::get("https://auth.example.com/.well-known/oauth-authorization-server")
                .respond_json(200, &as_metadata(ISSUER, "https://auth.example.com/token")),
            // A local service holding a secret; never asked.
            Expect::get(secret_url).respond_json(200, &json!({"secret": PLANTED})),
        ]);
        let rec = Recorder::default();
        let result = discover(&canned.http().with_recorder(rec.clone()), SERVER).await;
        assert!(result.is_ok(), "{result:?}");
        assert!(!canned.requests().iter().any(|r| r.contains("127.0.0.1")));
        let seen = seen(&rec, &result);
        assert!(!seen.contains(PLANTED), "{seen}");
        assert!(
            seen.contains("private network"),
            "the step says why: {seen}"
        );
    }

    #[tokio::test]
    async fn a_sign_in_server_or_endpoint_inside_this_machine_is_refused_for_a_remote_server() {
        for (prm_issuer, token) in [
            ("http://127.0.0.1:8081", "http://127.0.0.1:8081/token"),
            (ISSUER, "http://169.254.169.254/latest/meta-data"),
            (ISSUER, "https://[fd00::5]/token"),
        ] {
            let mut exchanges = vec![
                probe_401("Bearer"),
                Expect::get("https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
                    .respond_json(200, &prm(prm_issuer)),
            ];
            if prm_issuer == ISSUER {
                exchanges.push(
                    Expect::get("https://auth.example.com/.well-known/oauth-authorization-server")
                        .respond_json(200, &as_metadata(ISSUER, token)),
                );
            }
            let canned = Canned::new(exchanges);
            let e = discover(&canned.http(), SERVER).await.unwrap_err();
            assert_eq!(e.code(), "invalid_url", "{e}");
            assert!(e.to_string().contains("private network"), "{e}");
            canned.assert_done();
        }
    }

    #[tokio::test]
    async fn a_loopback_server_may_name_a_sign_in_server_on_its_own_host() {
        let server = "http://127.0.0.1:8080/mcp";
        let issuer = "http://127.0.0.1:9000";
        let canned = Canned::new([
            Expect::post(server)
                .respond(401)
                .respond_header("www-authenticate", "Bearer"),
            Expect::get("http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp")
                .respond_json(
                    200,
                    &json!({"resource": server, "authorization_servers": [issuer]}),
                ),
            Expect::get("http://127.0.0.1:9000/.well-known/oauth-authorization-server")
                .respond_json(200, &as_metadata(issuer, "http://127.0.0.1:9000/token")),
        ]);
        let d = discover(&canned.http(), server).await.unwrap();
        assert_eq!(d.issuer, issuer);
    }

    #[tokio::test]
    async fn metadata_that_fails_validation_is_traced_as_status_type_and_length_only() {
        let canned = Canned::new([
            probe_401("Bearer"),
            Expect::get("https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
                .respond_json(
                    200,
                    &json!({"resource": SERVER, "authorization_servers": PLANTED}),
                ),
        ]);
        let rec = Recorder::default();
        let result = discover(&canned.http().with_recorder(rec.clone()), SERVER).await;
        let e = result.as_ref().unwrap_err();
        assert_eq!(e.code(), "bad_metadata", "{e}");
        let seen = seen(&rec, &result);
        assert!(!seen.contains(PLANTED), "{seen}");
        let prm = rec
            .exchanges()
            .into_iter()
            .find(|x| x.url.contains("oauth-protected-resource"))
            .unwrap();
        let body = prm.response_body.unwrap();
        assert!(
            body.contains("HTTP 200")
                && body.contains("application/json")
                && body.contains("bytes"),
            "{body}"
        );
    }
}
