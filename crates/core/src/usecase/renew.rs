//! Renewal, the use case: a token with enough validity left, refreshed first when needed
//! under a per-server cross-process lock, re-read after locking (another process may have
//! renewed meanwhile), the rotated refresh token saved in the same write as its access token,
//! the kernel copy updated by that write, the flow recorded for "why", and an event sent
//! (ARCHITECTURE.md, "Renewal" and "Credentials").

use crate::clock::Clock;
use crate::error::{Error, OAuthError, Result};
use crate::health::reasons;
use crate::oauth::tokens::{self, Endpoint};
use crate::protocol::http::Http;
use crate::protocol::trace::Recorder;
use crate::secret::Secret;
use crate::store::vault::{self, CredentialBundle, CredentialStore, NeedsSignIn};
use crate::store::{flow_record, lock};
use crate::usecase::engine::Latchkey;
use crate::usecase::events::{Event, SessionEvent};
use crate::usecase::registrations;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How a renewal behaves: its margin, where its locks are, how long it waits for another
/// process, and its clock.
#[derive(Clone)]
pub struct RefreshOptions {
    /// Refresh when the token has less than this left.
    pub margin: Duration,
    pub lock_dir: PathBuf,
    /// How long to wait for another process that is refreshing the same server.
    pub lock_wait: Duration,
    pub clock: Arc<dyn Clock>,
}

/// Why a stored failure means the person must sign in, in words.
pub fn sign_in_reason(n: &NeedsSignIn) -> String {
    let what = match n.code.as_str() {
        "invalid_grant" => {
            "the sign-in server no longer accepts the saved session (invalid_grant)".to_string()
        }
        "invalid_client" | "unauthorized_client" => format!(
            "the sign-in server no longer knows Latchkey's registration ({})",
            n.code
        ),
        "client_drift" => {
            "the saved app registration belongs to another sign-in server".to_string()
        }
        crate::oauth::register::CLIENT_SECRET_EXPIRED => {
            "the client secret of Latchkey's registration at the sign-in server expired".to_string()
        }
        "no_refresh_token" => {
            "the session ended and the sign-in server gave no way to renew it".to_string()
        }
        other => format!("renewing the session failed ({other})"),
    };
    match &n.description {
        Some(d) => format!("{what}: {d}"),
        None => what,
    }
}

fn needs_sign_in(b: &CredentialBundle, n: &NeedsSignIn) -> Error {
    Error::NeedsSignIn {
        server: b.server_url.clone(),
        reason: sign_in_reason(n),
    }
}

/// Records a failure that only a new sign-in fixes, keeping the rest of the bundle.
fn mark(
    store: &dyn CredentialStore,
    mut b: CredentialBundle,
    code: &str,
    description: Option<String>,
    at: u64,
) -> Error {
    let n = NeedsSignIn {
        code: code.to_string(),
        description,
        at,
    };
    let err = needs_sign_in(&b, &n);
    b.needs_sign_in = Some(n);
    if let Err(e) = store.save(&b) {
        return e;
    }
    err
}

fn test_delay() {
    // Test-only (debug builds, as the end-to-end tests run): widens the refresh window so
    // crash tests can land inside it. A release build has no such hook.
    if !cfg!(debug_assertions) {
        return;
    }
    if let Some(ms) = std::env::var("LATCHKEY_TEST_REFRESH_DELAY_MS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

/// The server's bundle with an access token that is valid for at least the margin,
/// refreshing it first if needed. `http` is only built when a refresh is needed.
pub async fn fresh_bundle(
    store: &dyn CredentialStore,
    server_id: &str,
    options: &RefreshOptions,
    http: impl FnOnce() -> Http,
) -> Result<CredentialBundle> {
    let load = || {
        store.load(server_id)?.ok_or(Error::NotSignedIn {
            server: server_id.to_string(),
        })
    };
    let b = load()?;
    if let Some(n) = &b.needs_sign_in {
        return Err(needs_sign_in(&b, n));
    }
    if b.is_fresh(options.margin, options.clock.now()) {
        return Ok(b);
    }

    let _lock = lock::acquire(&options.lock_dir, server_id, options.lock_wait)?;
    // Another process may have refreshed (or failed) while we waited.
    let b = load()?;
    if let Some(n) = &b.needs_sign_in {
        return Err(needs_sign_in(&b, n));
    }
    if b.is_fresh(options.margin, options.clock.now()) {
        return Ok(b);
    }
    let Some(refresh_token) = b.tokens.refresh_token.clone() else {
        if b.tokens.expires_at.is_some_and(|t| t > options.clock.now()) {
            // Inside the margin but still valid, and nothing to renew it with: use it.
            return Ok(b);
        }
        return Err(mark(
            store,
            b,
            "no_refresh_token",
            None,
            options.clock.now(),
        ));
    };
    if b.client.issuer != b.issuer {
        let d = format!(
            "the client {} was registered at {}, but the tokens come from {}",
            b.client.client_id, b.client.issuer, b.issuer
        );
        return Err(mark(store, b, "client_drift", Some(d), options.clock.now()));
    }

    test_delay();
    let http = http();
    // The client registration first: a rotated secret, one about to expire, one expired.
    let mut b = b;
    let now = options.clock.now();
    if let Some(r) =
        registrations::before_refresh(store, &http, &mut b, &options.lock_dir, now).await
    {
        return Err(mark(store, b, r.code, Some(r.description), now));
    }
    let redirect = b.client.redirect_uris.first().cloned().unwrap_or_default();
    let ep = Endpoint {
        authorization: &b.authorization_endpoint,
        token: &b.token_endpoint,
        client: &b.client,
        redirect_uri: &redirect,
        resource: &b.resource,
    };
    match tokens::refresh(
        &http,
        &ep,
        &refresh_token,
        &b.tokens.scopes,
        options.clock.as_ref(),
    )
    .await
    {
        Ok(new_tokens) => {
            test_delay();
            b.tokens = new_tokens;
            b.updated_at = options.clock.now();
            // One write: the rotated refresh token is never separated from its access token.
            store.save(&b)?;
            Ok(b)
        }
        Err(Error::OAuth(OAuthError {
            code, description, ..
        })) if ENDS_THE_SESSION.contains(&code.as_str()) => {
            registrations::after_refused_refresh(store, &b.client, &code);
            Err(mark(store, b, &code, description, options.clock.now()))
        }
        Err(e) => Err(e),
    }
}

/// Refresh refusals that only a new sign-in fixes (RFC 6749 section 5.2): the grant is gone,
/// or the authorization server no longer knows the client. They are recorded in the bundle so
/// no process retries them; any other refusal (`invalid_request`, `invalid_scope`, a rate
/// limit, a server error) is reported and tried again later.
pub const ENDS_THE_SESSION: [&str; 4] = [
    "invalid_grant",
    "invalid_client",
    "unauthorized_client",
    "unsupported_grant_type",
];

/// What a caller needs of the session it asks for, beyond the engine's margin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Validity {
    /// Good for the request at hand: more than the renewal margin left.
    #[default]
    ForUse,
    /// At least this long left, for a tool that keeps the token (e.g. Gemini CLI).
    AtLeast(Duration),
}

impl Latchkey {
    /// The renewal settings for a caller that needs `validity`.
    pub(crate) fn refresh_options(&self, validity: Validity) -> RefreshOptions {
        let margin = match validity {
            Validity::ForUse => self.margin,
            Validity::AtLeast(d) => self.margin.max(d),
        };
        RefreshOptions {
            margin,
            lock_dir: self.state_dir.join("locks"),
            lock_wait: self.lock_wait,
            clock: self.clock.clone(),
        }
    }

    /// The credentials of `server` (a URL or a name given at sign-in) with an access token
    /// valid for `validity`, renewed first when needed. A renewal is recorded as the server's
    /// last flow and announced ([`Event::Session`], [`Event::Changed`]) whichever front asked.
    ///
    /// Errors: [`Error::NotSignedIn`], [`Error::NeedsSignIn`] (the authorization server
    /// refused the refresh token, or there is none), the keychain's errors, and the network's
    /// when the authorization server cannot be reached (nothing is marked then).
    pub async fn fresh(&self, server: &str, validity: Validity) -> Result<CredentialBundle> {
        let id = vault::resolve(self.store.as_ref(), server)?;
        let recorder = Recorder::default();
        let started = self.now();
        let result = fresh_bundle(
            self.store.as_ref(),
            &id,
            &self.refresh_options(validity),
            || self.http().with_recorder(recorder.clone()),
        )
        .await;
        // Only a renewal sends anything: a token from the keychain records nothing.
        if !recorder.exchanges().is_empty() {
            flow_record::record(
                &self.state_dir,
                self.now(),
                "renewal",
                &id,
                &recorder,
                &result,
            );
        }
        match &result {
            Ok(_) if recorder.exchanges().is_empty() => {}
            Ok(b) => {
                self.emit(Event::Session(SessionEvent::Refreshed {
                    server: id.clone(),
                    until: b.tokens.expires_at,
                }));
                self.changed(&id);
            }
            // The session ended just now (refused, or nothing left to renew it with): the
            // person must sign in. Announced once, when it was recorded, not on every use.
            Err(Error::NeedsSignIn { .. }) => {
                let n = self
                    .store
                    .load(&id)
                    .ok()
                    .flatten()
                    .and_then(|b| b.needs_sign_in);
                if let Some(n) = n.filter(|n| n.at >= started) {
                    self.emit(Event::Session(SessionEvent::Failed {
                        server: id.clone(),
                        reason: reasons::from_needs_sign_in(&n),
                    }));
                    self.changed(&id);
                }
            }
            // A passing failure (offline, a slow or failing server, a rate limit): nobody
            // needs to sign in; whoever asked retries later.
            Err(e) => tracing::info!("renewing {id} failed for now: {e}"),
        }
        result
    }

    /// A valid access token for `server`: on Linux the kernel keyring's copy when it has
    /// more than the margin left (no keychain round trip), else [`Latchkey::fresh`]'s, which
    /// is then copied for the next call.
    pub async fn access_token(&self, server: &str) -> Result<Secret> {
        if server.contains("://") {
            if let Ok(id) = vault::server_id(server) {
                if let Some(t) = self.store.cached_access_token(&id, self.margin) {
                    return Ok(t);
                }
            }
        }
        let b = self.fresh(server, Validity::ForUse).await?;
        self.store.remember(&b);
        Ok(b.tokens.access_token)
    }

    /// `{"Authorization": "Bearer …"}` for `server`: what Claude Code's `headersHelper` reads.
    pub async fn headers(&self, server: &str) -> Result<serde_json::Value> {
        let token = self.access_token(server).await?;
        Ok(serde_json::json!({ "Authorization": format!("Bearer {}", token.expose()) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::vault::tests::sample;
    use crate::store::vault::MemoryStore;

    fn opts(tag: &str) -> RefreshOptions {
        RefreshOptions {
            margin: Duration::from_secs(60),
            lock_dir: std::env::temp_dir()
                .join(format!("latchkey-refresh-{tag}-{}", std::process::id())),
            lock_wait: Duration::from_secs(1),
            clock: Arc::new(crate::clock::SystemClock),
        }
    }

    fn unused_http() -> Http {
        panic!("no request may be sent")
    }

    fn now() -> u64 {
        crate::clock::now()
    }

    #[tokio::test]
    async fn a_fresh_token_is_returned_without_any_request() {
        let store = MemoryStore::default();
        let mut b = sample("https://example.com/mcp");
        b.tokens.expires_at = Some(now() + 3600);
        store.save(&b).unwrap();
        let got = fresh_bundle(&store, &b.server_id, &opts("fresh"), unused_http)
            .await
            .unwrap();
        assert_eq!(got.tokens.access_token, b.tokens.access_token);
    }

    #[tokio::test]
    async fn a_recorded_failure_is_reported_not_retried() {
        let store = MemoryStore::default();
        let mut b = sample("https://example.com/mcp");
        b.tokens.expires_at = Some(now() - 10);
        b.needs_sign_in = Some(NeedsSignIn {
            code: "invalid_grant".into(),
            description: Some("grant request is invalid".into()),
            at: now(),
        });
        store.save(&b).unwrap();
        let e = fresh_bundle(&store, &b.server_id, &opts("recorded"), unused_http)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "needs_sign_in");
        assert!(
            e.to_string().contains("invalid_grant")
                && e.to_string().contains("grant request is invalid"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn drift_between_client_and_issuer_is_reported_before_any_request() {
        let store = MemoryStore::default();
        let mut b = sample("https://example.com/mcp");
        b.tokens.expires_at = Some(now() - 10);
        b.client.issuer = "https://other-as.example.com".into();
        store.save(&b).unwrap();
        let e = fresh_bundle(&store, &b.server_id, &opts("drift"), unused_http)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("another sign-in server"), "{e}");
        let kept = store.load(&b.server_id).unwrap().unwrap();
        assert_eq!(kept.needs_sign_in.unwrap().code, "client_drift");
        assert_eq!(
            kept.tokens.refresh_token, b.tokens.refresh_token,
            "nothing is deleted"
        );
    }

    #[tokio::test]
    async fn no_refresh_token_uses_a_still_valid_token_then_asks_for_sign_in() {
        let store = MemoryStore::default();
        let mut b = sample("https://example.com/mcp");
        b.tokens.refresh_token = None;
        b.tokens.expires_at = Some(now() + 30);
        store.save(&b).unwrap();
        assert!(
            fresh_bundle(&store, &b.server_id, &opts("nort"), unused_http)
                .await
                .is_ok()
        );
        b.tokens.expires_at = Some(now() - 1);
        store.save(&b).unwrap();
        let e = fresh_bundle(&store, &b.server_id, &opts("nort"), unused_http)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("no way to renew"), "{e}");
    }

    #[tokio::test]
    async fn not_signed_in() {
        let store = MemoryStore::default();
        let e = fresh_bundle(&store, "https://x.example/mcp", &opts("none"), unused_http)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "not_signed_in");
    }
}
