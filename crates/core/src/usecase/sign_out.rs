//! Sign-out, the use case: end the session at the authorization server where it allows
//! (RFC 7009 revocation, best effort), forget it here (keychain and kernel copy), announce it.

use crate::oauth::revoke;
use crate::store::lock;
use crate::store::vault::CredentialBundle;
use crate::usecase::engine::Latchkey;
use crate::Result;

/// What a sign-out did.
#[derive(Debug)]
pub struct SignedOut {
    /// The session that was forgotten.
    pub bundle: CredentialBundle,
    /// Whether the authorization server revoked it: `Ok(false)` when it offers no
    /// revocation, an error when it refused or could not be reached (forgotten anyway).
    pub revoked: Result<bool>,
}

impl Latchkey {
    /// Signs `server` (a URL or a name) out. Forgetting it here happens even when the
    /// authorization server is down: that is what the person asked for. `None` when there
    /// was no session to end (signing out twice is not a failure).
    ///
    /// Errors: a name that names no server or several ([`Latchkey::resolve_server`]); the
    /// keychain's.
    pub async fn sign_out(&self, server: &str) -> Result<Option<SignedOut>> {
        let id = self.resolve_server(server)?;
        // Under the server's lock: a renewal in flight finishes first and cannot bring the
        // session back after it is forgotten.
        let _lock = lock::acquire(&self.state_dir.join("locks"), &id, self.lock_wait)?;
        let Some(bundle) = self.store.load(&id)? else {
            return Ok(None);
        };
        let session = revoke::Revocation {
            issuer: &bundle.issuer,
            endpoint: bundle.revocation_endpoint.as_deref(),
            client: &bundle.client,
            tokens: &bundle.tokens,
        };
        // One issuer's client is never presented to another (R10): a bundle whose client was
        // registered elsewhere is forgotten without revocation.
        let revoked = if bundle.client.issuer == bundle.issuer {
            revoke::revoke(&self.http(), &session).await
        } else {
            tracing::warn!(
                "not revoking the session of {id}: its client {} was registered at {}, not at {}",
                bundle.client.client_id,
                bundle.client.issuer,
                bundle.issuer
            );
            Ok(false)
        };
        self.store.delete(&id)?;
        let _ = crate::store::link_sign_ins::set(&self.state_dir, &id, false);
        self.changed(&id);
        Ok(Some(SignedOut { bundle, revoked }))
    }
}
