//! Client registrations, the rules (ARCHITECTURE.md, Protocol rules: client; Credentials):
//!
//! - **One per issuer.** A dynamic registration (RFC 7591) is kept per issuer in the credential
//!   store and reused by every server that signs in there while it fits the plan; a sign-in
//!   that cannot use it registers again and replaces it. Each bundle keeps its own copy of the
//!   client that got its tokens, so client id and refresh token never drift apart.
//! - **Never sent to another issuer** (R10). A record is looked up by the plan's issuer and
//!   used only when it names that issuer; a refresh or a revocation presents a bundle's client
//!   only to the issuer it was registered at.
//! - **Checked before the browser opens.** A reused registration is read back (RFC 7592
//!   section 2.1) where the authorization server offers that, else its sign-in page is asked
//!   for without following redirects: an authorization server that no longer knows it is found
//!   out then, not after the callback timeout.
//! - **Dropped on `invalid_client` or `unauthorized_client`** (RFC 6749 section 5.2) and when
//!   its secret is past `client_secret_expires_at` (RFC 7591 section 3.2.1): a later sign-in
//!   registers again. A drop only removes the record when it still holds that client: a newer
//!   registration another sign-in made is kept.
//! - **Renewed before it passes.** A secret that expires within [`SECRET_RENEWAL_WINDOW`] is
//!   read again (RFC 7592) before a refresh, and a rotated one is stored in the issuer's record
//!   and in every bundle that uses that client.

use crate::error::{Error, OAuthError, OAuthStage};
use crate::oauth::plan::{ClientChoice, SignInPlan};
use crate::oauth::register::{
    self, ClientRegistration, RegistrationMethod, Standing, CLIENT_SECRET_EXPIRED,
    UNKNOWN_CLIENT_CODES,
};
use crate::protocol::http::Http;
use crate::store::lock;
use crate::store::vault::{CredentialBundle, CredentialStore};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;
use url::Url;

/// A secret that expires within this time (24 hours) is read again before a refresh, so a
/// rotated one is picked up before the old one passes (RFC 7592 section 2.1).
pub const SECRET_RENEWAL_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// True when `e` is the authorization server saying it does not know the client, or no
/// longer lets it sign in: `invalid_client` or `unauthorized_client` at the sign-in page, the
/// code exchange or the refresh.
pub fn says_client_unknown(e: &Error) -> bool {
    matches!(
        e,
        Error::OAuth(OAuthError { stage, code, .. })
            if matches!(
                stage,
                OAuthStage::Authorization | OAuthStage::TokenExchange | OAuthStage::Refresh
            ) && UNKNOWN_CLIENT_CODES.contains(&code.as_str())
    )
}

/// The registration kept for `issuer`, when there is one that names that issuer (a record
/// naming another issuer is never used). A record that cannot be read counts as none: the
/// next registration replaces it.
pub(crate) fn kept(store: &dyn CredentialStore, issuer: &str) -> Option<ClientRegistration> {
    match store.load_client(issuer) {
        Ok(c) => c.filter(|c| c.issuer == issuer && c.method == RegistrationMethod::Dynamic),
        Err(e) => {
            tracing::warn!("the client registration kept for {issuer} cannot be read, a new one will replace it: {e}");
            None
        }
    }
}

/// Keeps `client` as its issuer's registration (dynamic registrations only). A store that
/// cannot keep it is logged: the sign-in goes on, and its bundle holds the client.
pub(crate) fn keep(store: &dyn CredentialStore, client: &ClientRegistration) {
    if client.method != RegistrationMethod::Dynamic {
        return;
    }
    if let Err(e) = store.save_client(client) {
        tracing::warn!(
            "could not keep the client registration for {}: {e}",
            client.issuer
        );
    }
}

/// Drops the issuer's record when it still holds `client` (same issuer and client id). True
/// when it was dropped.
pub(crate) fn drop_if_current(store: &dyn CredentialStore, client: &ClientRegistration) -> bool {
    let current = kept(store, &client.issuer).is_some_and(|k| k.client_id == client.client_id);
    current && drop_issuer(store, &client.issuer)
}

/// Drops whatever registration is kept for `issuer` (the person's "register again"). True
/// when there was one.
pub(crate) fn drop_issuer(store: &dyn CredentialStore, issuer: &str) -> bool {
    match store.delete_client(issuer) {
        Ok(gone) => gone,
        Err(e) => {
            tracing::warn!("could not drop the client registration kept for {issuer}: {e}");
            false
        }
    }
}

/// Whether `client`, kept for the plan's issuer, can serve this sign-in at `now` (seconds
/// since the epoch) as it is: it fits the plan ([`ClientRegistration::reusable_for`]), its
/// secret has not expired, and its loopback redirect port is the one the plan fixes, if any.
pub(crate) fn usable_for(client: &ClientRegistration, plan: &SignInPlan, now: u64) -> bool {
    client.reusable_for(plan)
        && !client.secret_expired(now)
        && client.redirect_port().is_some()
        && plan
            .callback_port
            .is_none_or(|p| client.redirect_port() == Some(p))
}

/// The scope to register with: the plan's, and those of the registration it replaces at the
/// same issuer, so that one registration serves every server there. `None`: no scope.
pub(crate) fn registration_scope(
    plan: &SignInPlan,
    replaced: Option<&ClientRegistration>,
) -> Option<String> {
    let mut names: Vec<String> = plan.scope_names();
    let before = replaced
        .filter(|c| c.issuer == plan.issuer)
        .and_then(|c| c.registered_scope.as_deref())
        .unwrap_or_default();
    let seen: BTreeSet<String> = names.iter().cloned().collect();
    names.extend(
        before
            .split_whitespace()
            .filter(|s| !seen.contains(*s))
            .map(str::to_string),
    );
    (!names.is_empty()).then(|| names.join(" "))
}

/// Registers for `plan` with the scope of [`registration_scope`]; when the authorization
/// server refuses that wider scope, once more with the plan's own. The result is kept as the
/// issuer's registration.
pub(crate) async fn register_and_keep(
    http: &Http,
    store: &dyn CredentialStore,
    plan: &SignInPlan,
    redirect_uri: &str,
    replaced: Option<&ClientRegistration>,
) -> crate::Result<ClientRegistration> {
    let wide = registration_scope(plan, replaced);
    let own = plan.scope_param();
    let client = match register::register(http, plan, redirect_uri, wide.as_deref()).await {
        Err(Error::RegistrationRefused { .. }) if wide != own => {
            register::register(http, plan, redirect_uri, own.as_deref()).await?
        }
        other => other?,
    };
    keep(store, &client);
    Ok(client)
}

/// Whether the authorization server still knows `client`, asked before the browser opens:
/// the RFC 7592 read where the registration offers it, else its sign-in page
/// (`authorization_url`, the request the browser would open). When neither can tell (the
/// network, a server error), the client is taken as known: the sign-in goes on, and the
/// person is offered to register again while it waits.
pub(crate) async fn standing(
    http: &Http,
    client: &ClientRegistration,
    authorization_url: &Url,
) -> Standing {
    if client.readable() {
        match register::read_registration(http, client).await {
            Ok(s) => return s,
            Err(e) => tracing::info!(
                "could not read the client registration at {}, asking its sign-in page: {e}",
                client.issuer
            ),
        }
    }
    match register::authorization_page_standing(http, client, authorization_url).await {
        Ok(s) => s,
        Err(e) => {
            tracing::info!(
                "could not ask the sign-in page of {} about the client: {e}",
                client.issuer
            );
            Standing::Known(client.clone())
        }
    }
}

/// Whether the plan registers Latchkey dynamically (the only registrations kept per issuer).
pub(crate) fn dynamic(plan: &SignInPlan) -> bool {
    matches!(plan.client, ClientChoice::Dynamic { .. })
}

/// What a refresh must not go on with: the code and words to record in the bundle.
pub(crate) struct Refusal {
    pub code: &'static str,
    pub description: String,
}

/// Before a refresh of `b` at `now` (seconds since the epoch): takes the issuer record's copy
/// of the same client when it differs (a secret rotated by another process); reads the
/// registration (RFC 7592) when its secret expires within [`SECRET_RENEWAL_WINDOW`], storing
/// what changed in the issuer's record and in the other bundles that use the client (those
/// whose lock in `lock_dir` is free now; the others take it from the record at their next
/// refresh); and refuses a client that the authorization server no longer knows or whose
/// secret expired, dropping the issuer's record if it holds that client. `b` is changed in
/// memory only: the refresh writes it.
pub(crate) async fn before_refresh(
    store: &dyn CredentialStore,
    http: &Http,
    b: &mut CredentialBundle,
    lock_dir: &Path,
    now: u64,
) -> Option<Refusal> {
    if b.client.method != RegistrationMethod::Dynamic || b.client.issuer != b.issuer {
        return None;
    }
    // Only a secret is ever rotated (by an RFC 7592 read): a public client, the usual dynamic
    // one, costs no keychain read here.
    if b.client.client_secret.is_some() {
        if let Some(k) = kept(store, &b.issuer).filter(|k| k.client_id == b.client.client_id) {
            take_rotation(&mut b.client, &k);
        }
    }
    if b.client.readable() && b.client.secret_expires_within(now, SECRET_RENEWAL_WINDOW) {
        match register::read_registration(http, &b.client).await {
            Ok(Standing::Known(current)) => {
                if current != b.client {
                    b.client = current;
                    keep(store, &b.client);
                    share(store, lock_dir, &b.client, &b.server_id);
                }
            }
            Ok(Standing::Unknown { detail }) => {
                drop_if_current(store, &b.client);
                return Some(Refusal {
                    code: "invalid_client",
                    description: detail,
                });
            }
            Err(e) => tracing::info!(
                "could not read the client registration at {} before its secret expires: {e}",
                b.issuer
            ),
        }
    }
    if b.client.secret_expired(now) {
        drop_if_current(store, &b.client);
        let at = b.client.secret_expiry().unwrap_or(now);
        let renewal = if b.client.readable() {
            "reading the registration brought no new one"
        } else {
            "the sign-in server offers no way to renew it (no RFC 7592 registration_client_uri)"
        };
        return Some(Refusal {
            code: CLIENT_SECRET_EXPIRED,
            description: format!(
                "the client secret of Latchkey's registration {} expired at {} and {renewal}; signing in again registers anew",
                b.client.client_id,
                crate::clock::utc_words(at)
            ),
        });
    }
    None
}

/// After a refresh the authorization server refused with `code`: a refusal of the client
/// drops the issuer's record (when it still holds that client), so the next sign-in
/// registers anew.
pub(crate) fn after_refused_refresh(
    store: &dyn CredentialStore,
    client: &ClientRegistration,
    code: &str,
) {
    if UNKNOWN_CLIENT_CODES.contains(&code) && drop_if_current(store, client) {
        tracing::info!(
            "dropped the client registration {} kept for {}: it answered {code}",
            client.client_id,
            client.issuer
        );
    }
}

/// The parts of `newer` that a registration read may change, taken into `client` (the same
/// client): secret, its expiry, registration access token and URI.
fn take_rotation(client: &mut ClientRegistration, newer: &ClientRegistration) {
    client.client_secret = newer.client_secret.clone();
    client.client_secret_expires_at = newer.client_secret_expires_at;
    client.registration_access_token = newer.registration_access_token.clone();
    client.registration_client_uri = newer.registration_client_uri.clone();
}

/// Stores `client`'s rotated parts in every other bundle that uses it (same issuer and client
/// id) whose lock is free now; a bundle being renewed meanwhile takes them from the issuer's
/// record at its next refresh.
fn share(store: &dyn CredentialStore, lock_dir: &Path, client: &ClientRegistration, skip: &str) {
    let Ok(entries) = store.list() else {
        return;
    };
    for id in entries
        .iter()
        .map(|e| e.id.as_str())
        .filter(|id| *id != skip)
    {
        let Ok(_lock) = lock::acquire(lock_dir, id, Duration::ZERO) else {
            continue;
        };
        let Ok(Some(mut other)) = store.load(id) else {
            continue;
        };
        if other.issuer != client.issuer
            || other.client.issuer != client.issuer
            || other.client.client_id != client.client_id
        {
            continue;
        }
        let before = other.client.clone();
        take_rotation(&mut other.client, client);
        if other.client != before {
            if let Err(e) = store.save(&other) {
                tracing::warn!("could not store the renewed client secret for {id}: {e}");
            }
        }
    }
}
