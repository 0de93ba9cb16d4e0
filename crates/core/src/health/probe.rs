//! Auth health of many servers at once: a status per server from the stored bundle and one
//! MCP `initialize` (nothing else is sent to the server, and nothing is refreshed), probed
//! concurrently with a bound and a per-request timeout, results streamed as they finish.

use crate::clock::now;
use crate::error::Error;
use crate::health::reasons::{self, Reason};
use crate::protocol::discovery;
use crate::protocol::http::Http;
use crate::protocol::mcp;
use crate::protocol::urls;
use crate::protocol::www_authenticate;
use crate::store::vault::{CredentialBundle, CredentialStore};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use ts_rs::TS;

/// Sessions ending within this are "expiring soon" when nothing can renew them.
pub const EXPIRING_SOON: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Working,
    ExpiringSoon,
    Refreshable,
    NeedsSignIn,
    Unreachable,
    Misconfigured,
    NeverSignedIn,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct ServerHealth {
    pub server: String,
    pub health: Health,
    /// When the current access token ends, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub until: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reason: Option<Reason>,
    pub millis: u64,
}

/// The health of one server. `http` should carry the per-request timeout.
pub async fn probe(http: &Http, store: &dyn CredentialStore, server: &str) -> ServerHealth {
    let started = std::time::Instant::now();
    let (health, until, reason) = probe_inner(http, store, server, started).await;
    ServerHealth {
        server: server.to_string(),
        health,
        until,
        reason,
        millis: started.elapsed().as_millis() as u64,
    }
}

async fn probe_inner(
    http: &Http,
    store: &dyn CredentialStore,
    server: &str,
    started: std::time::Instant,
) -> (Health, Option<u64>, Option<Reason>) {
    let url = match urls::parse_http_url(server) {
        Ok(u) => u,
        Err(e) => return (Health::Misconfigured, None, Some(reasons::from_error(&e))),
    };
    let id = urls::canonical_resource(&url);
    let bundle: Option<CredentialBundle> = match store.load(&id) {
        Ok(b) => b,
        Err(e) => return (Health::Misconfigured, None, Some(reasons::from_error(&e))),
    };
    if let Some(n) = bundle.as_ref().and_then(|b| b.needs_sign_in.as_ref()) {
        return (
            Health::NeedsSignIn,
            None,
            Some(reasons::from_needs_sign_in(n)),
        );
    }
    let token = bundle
        .as_ref()
        .filter(|b| b.tokens.expires_at.is_none_or(|t| t > now()))
        .map(|b| b.tokens.access_token.clone());
    let resp = match mcp::probe(http, &url, token.as_ref()).await {
        Ok(r) => r,
        Err(e) => return (Health::Unreachable, None, Some(reasons::from_error(&e))),
    };
    match (resp.status, &bundle, token.is_some()) {
        (200..=299, Some(b), true) => {
            let until = b.tokens.expires_at;
            let ending = until.is_some_and(|t| t < now() + EXPIRING_SOON.as_secs());
            if ending && b.tokens.refresh_token.is_none() {
                (Health::ExpiringSoon, until, None)
            } else {
                (Health::Working, until, None)
            }
        }
        // Expired: renewable without the person, or not. A server that answers the handshake
        // anonymously still wants the token for its tools.
        (200..=299 | 401 | 403, Some(b), false) => {
            if b.tokens.refresh_token.is_some() {
                (Health::Refreshable, b.tokens.expires_at, None)
            } else {
                let n = crate::store::vault::NeedsSignIn {
                    code: "no_refresh_token".into(),
                    description: None,
                    at: now(),
                };
                (
                    Health::NeedsSignIn,
                    None,
                    Some(reasons::from_needs_sign_in(&n)),
                )
            }
        }
        (401 | 403, Some(_), true) => {
            let values = resp.header_values("www-authenticate");
            let b = www_authenticate::bearer(values.iter().map(String::as_str))
                .ok()
                .flatten()
                .unwrap_or_default();
            let e = Error::TokenRejected {
                status: resp.status,
                error: b.error,
                description: b.error_description,
                scope: b.scope,
                resource_metadata: b.resource_metadata,
            };
            (Health::NeedsSignIn, None, Some(reasons::from_error(&e)))
        }
        (status @ (200..=299 | 401 | 403), None, _) => {
            // Never signed in: check that signing in can work at all (metadata reads only),
            // so a broken sign-in server shows now, not after the person clicks "Sign in".
            // A server that answered anonymously offers sign-in for its tools when it
            // publishes protected resource metadata (ARCHITECTURE.md, Protocol rules: step-up).
            let anonymous = status < 300;
            let left = http.timeout().saturating_sub(started.elapsed());
            match tokio::time::timeout(left, discovery::discover(http, server)).await {
                Ok(Err(Error::NotProtected { .. })) => (Health::Working, None, None),
                Ok(Err(e)) => (failure_health(&e), None, Some(reasons::from_error(&e))),
                Ok(Ok(_)) if anonymous => (
                    Health::NeverSignedIn,
                    None,
                    Some(reasons::sign_in_for_tools(&id)),
                ),
                // Could not finish in time: nothing known is wrong, nor known to be needed.
                Err(_) if anonymous => (Health::Working, None, None),
                Ok(Ok(_)) | Err(_) => (
                    Health::NeverSignedIn,
                    None,
                    Some(reasons::from_error(&Error::NotSignedIn { server: id })),
                ),
            }
        }
        (404 | 410, _, _) => (
            Health::Unreachable,
            None,
            Some(reasons::from_error(&Error::NoServer {
                url: url.to_string(),
                status: resp.status,
            })),
        ),
        (status, _, _) => (
            if status >= 500 {
                Health::Unreachable
            } else {
                Health::Misconfigured
            },
            None,
            Some(reasons::from_error(&Error::HttpStatus {
                url: url.to_string(),
                status,
                doing: "starting an MCP session".into(),
                body: None,
            })),
        ),
    }
}

/// How bad a failure to reach or understand a server is: it is down, or it is set up wrong.
fn failure_health(e: &Error) -> Health {
    match e {
        Error::Unreachable { .. } | Error::Timeout { .. } | Error::NoServer { .. } => {
            Health::Unreachable
        }
        Error::HttpStatus { status, .. } if *status >= 500 => Health::Unreachable,
        _ => Health::Misconfigured,
    }
}

/// Probes every server, at most `concurrency` at once, calling `on_result` as each finishes
/// (fast servers first), and returns all results in the order they finished.
pub async fn probe_all(
    servers: Vec<String>,
    store: Arc<dyn CredentialStore>,
    http: Http,
    concurrency: usize,
    mut on_result: impl FnMut(&ServerHealth),
) -> Vec<ServerHealth> {
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for server in servers {
        let http = http.clone();
        let store = store.clone();
        let gate = gate.clone();
        set.spawn(async move {
            let _permit = gate.acquire_owned().await;
            probe(&http, store.as_ref(), &server).await
        });
    }
    let mut out = Vec::new();
    while let Some(done) = set.join_next().await {
        if let Ok(h) = done {
            on_result(&h);
            out.push(h);
        }
    }
    out
}
