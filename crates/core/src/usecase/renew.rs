//! Renewal, the use case: a token with enough of its lifetime left for what the caller does
//! with it, refreshed first when needed under a per-server cross-process lock, re-read after
//! locking (another process may have renewed meanwhile), the rotated refresh token saved in
//! the same write as its access token, the kernel copy updated by that write, the flow
//! recorded for "why", and an event sent (ARCHITECTURE.md, "Renewal" and "Credentials").

use crate::clock::Clock;
use crate::error::{Error, OAuthError, Result};
use crate::health::reasons;
use crate::oauth::renewal_timing::{Need, RenewalTiming};
use crate::oauth::tokens::{self, Endpoint, TokenSet};
use crate::protocol::http::Http;
use crate::protocol::trace::Recorder;
use crate::secret::Secret;
use crate::store::vault::{self, CredentialBundle, CredentialStore, NeedsSignIn};
use crate::store::{flow_record, issuer_notes, lock};
use crate::usecase::engine::Latchkey;
use crate::usecase::events::{Event, SessionEvent};
use crate::usecase::registrations;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// When a renewal is due: the token lacks what `need` asks of its lifetime, or the server
/// refused exactly this access token (a 401 before its expiry: revoked, or a clock that
/// differs from the authorization server's).
#[derive(Clone, Debug)]
pub enum Due {
    /// The token has less of its lifetime left than the need asks ([`RenewalTiming`]).
    When(Need),
    /// The server refused this access token: renew unless another process already has.
    Refused(Secret),
}

/// How a renewal behaves: when it is due, where its locks and per-issuer notes are, how long
/// it waits for another process, and its clock.
#[derive(Clone)]
pub struct RefreshOptions {
    pub timing: RenewalTiming,
    pub due: Due,
    /// The state folder: `locks/` and the notes per sign-in server.
    pub state_dir: PathBuf,
    /// How long to wait for another process that is refreshing the same server.
    pub lock_wait: Duration,
    pub clock: Arc<dyn Clock>,
}

impl RefreshOptions {
    /// Whether `b` can be used as it is.
    fn good(&self, b: &CredentialBundle) -> bool {
        match &self.due {
            Due::When(need) => b.is_fresh(&self.timing, *need, self.clock.now()),
            Due::Refused(token) => b.tokens.access_token != *token,
        }
    }
}

/// Errors of a refresh that carried `resource` after which the same refresh without it is
/// tried once (RFC 8707 section 2: `invalid_target`; some servers answer `invalid_request`
/// to a parameter they do not know): Entra, Dropbox and some Keycloak set-ups.
pub const RESOURCE_REFUSED: [&str; 2] = ["invalid_target", "invalid_request"];

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

/// The server's bundle with an access token good for `options.due`, refreshing it first if
/// needed. `http` is only built when a refresh is needed.
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
    if options.good(&b) {
        return Ok(b);
    }

    let _lock = lock::acquire(
        &lock::lock_dir(&options.state_dir)?,
        server_id,
        options.lock_wait,
    )?;
    // Another process may have refreshed (or failed) while we waited.
    let b = load()?;
    if let Some(n) = &b.needs_sign_in {
        return Err(needs_sign_in(&b, n));
    }
    if options.good(&b) {
        return Ok(b);
    }
    let Some(refresh_token) = b.tokens.refresh_token.clone() else {
        let valid = b.tokens.expires_at.is_some_and(|t| t > options.clock.now());
        if valid && matches!(options.due, Due::When(_)) {
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
    let lock_dir = lock::lock_dir(&options.state_dir)?;
    if let Some(r) = registrations::before_refresh(store, &http, &mut b, &lock_dir, now).await {
        return Err(mark(store, b, r.code, Some(r.description), now));
    }
    match refresh(&http, &b, &refresh_token, options).await {
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

/// The refresh request with exactly the `resource` of the code exchange; where the issuer
/// refused that before, without it. A refusal of `resource` ([`RESOURCE_REFUSED`]) is
/// followed by one refresh without it, and when that one works the issuer is noted so later
/// refreshes leave it out from the start (ARCHITECTURE.md, Protocol rules: resource
/// indicators).
async fn refresh(
    http: &Http,
    b: &CredentialBundle,
    refresh_token: &Secret,
    options: &RefreshOptions,
) -> Result<TokenSet> {
    let redirect = b.client.redirect_uris.first().cloned().unwrap_or_default();
    let ep = Endpoint {
        authorization: &b.authorization_endpoint,
        token: &b.token_endpoint,
        client: &b.client,
        redirect_uri: &redirect,
        resource: &b.resource,
    };
    let clock = options.clock.as_ref();
    let scopes = &b.tokens.scopes;
    if issuer_notes::refresh_without_resource(&options.state_dir, &b.issuer) {
        return tokens::refresh(http, &ep, refresh_token, scopes, clock, false).await;
    }
    let first = tokens::refresh(http, &ep, refresh_token, scopes, clock, true).await;
    let code = match &first {
        Err(Error::OAuth(e)) if RESOURCE_REFUSED.contains(&e.code.as_str()) => e.code.clone(),
        _ => return first,
    };
    let second = tokens::refresh(http, &ep, refresh_token, scopes, clock, false).await;
    if second.is_ok() {
        tracing::info!(
            "{} refused `resource` on refresh ({code}) and accepted the refresh without it; later refreshes there leave it out",
            b.issuer
        );
        let noted = issuer_notes::remember_refresh_without_resource(
            &options.state_dir,
            &b.issuer,
            &code,
            clock.now(),
        );
        if let Err(e) = noted {
            tracing::warn!(
                "could not note that {} refuses `resource` on refresh: {e}",
                b.issuer
            );
        }
        return second;
    }
    // Without `resource` it failed too: the first answer is the one that explains.
    match second {
        Err(Error::OAuth(e)) if ENDS_THE_SESSION.contains(&e.code.as_str()) => Err(Error::OAuth(e)),
        _ => first,
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

impl Latchkey {
    /// The renewal settings for a caller for which a renewal is `due`.
    pub(crate) fn refresh_options(&self, due: Due) -> RefreshOptions {
        RefreshOptions {
            timing: self.timing,
            due,
            state_dir: self.state_dir.clone(),
            lock_wait: self.lock_wait,
            clock: self.clock.clone(),
        }
    }

    /// The credentials of `server` (a URL or a name given at sign-in) with an access token
    /// good for `need` ([`RenewalTiming`]), renewed first when needed. A renewal is recorded as the server's
    /// last flow and announced ([`Event::Session`], [`Event::Changed`]) whichever front asked.
    ///
    /// Errors: [`Error::NotSignedIn`], [`Error::NeedsSignIn`] (the authorization server
    /// refused the refresh token, or there is none), the keychain's errors, and the network's
    /// when the authorization server cannot be reached (nothing is marked then).
    pub async fn fresh(&self, server: &str, need: Need) -> Result<CredentialBundle> {
        self.renew(server, Due::When(need)).await
    }

    /// The credentials of `server` after it refused `token` (a 401): renewed, unless another
    /// process renewed already (its token is then returned). Errors as [`Latchkey::fresh`]'s;
    /// with no refresh token, [`Error::NeedsSignIn`].
    pub async fn renew_refused(&self, server: &str, token: &Secret) -> Result<CredentialBundle> {
        self.renew(server, Due::Refused(token.clone())).await
    }

    async fn renew(&self, server: &str, due: Due) -> Result<CredentialBundle> {
        let id = self.resolve_server(server)?;
        let recorder = Recorder::default();
        let started = self.now();
        let result = fresh_bundle(self.store.as_ref(), &id, &self.refresh_options(due), || {
            self.http().with_recorder(recorder.clone())
        })
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

    /// An access token for `server` good for `need`: on Linux the kernel keyring's copy when
    /// enough of its lifetime is left (no keychain round trip), else [`Latchkey::fresh`]'s,
    /// which is then copied for the next call. `latchkey token` asks [`Need::ForUse`].
    pub async fn access_token(&self, server: &str, need: Need) -> Result<Secret> {
        if server.contains("://") {
            if let Ok(id) = vault::server_id(server) {
                if let Some(t) = self.store.cached_access_token(&id, &self.timing, need) {
                    return Ok(t);
                }
            }
        }
        let b = self.fresh(server, need).await?;
        self.store.remember(&b);
        Ok(b.tokens.access_token)
    }

    /// `{"Authorization": "Bearer …"}` for `server`: what Claude Code's `headersHelper` reads.
    /// Claude Code keeps the header for its whole connection, so the token is renewed first
    /// when less than about a quarter of its lifetime is left ([`Need::ForConnection`]).
    pub async fn headers(&self, server: &str) -> Result<serde_json::Value> {
        let token = self.access_token(server, Need::ForConnection).await?;
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
            timing: RenewalTiming::default(),
            due: Due::When(Need::ForUse),
            state_dir: std::env::temp_dir()
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
