//! Sign-out, the use case: end the session at the authorization server where it allows
//! (RFC 7009 revocation, best effort), forget it here (keychain and kernel copy), take back
//! what was handed to tools (Gemini CLI's, Codex's and Claude Code's own stores) and name the
//! tools whose store could not be changed, announce it.

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
    /// What Latchkey took back from the tools it had handed the token to, a tool and its
    /// entries' names each: `Codex (work)`.
    pub withdrawn: Vec<String>,
    /// The tools that keep a copy of the token until it expires: their store could not be
    /// changed (a locked keychain, an unreadable file).
    pub kept_by: Vec<String>,
}

impl SignedOut {
    /// One sentence about the tools, when there is anything to say.
    pub fn tools_note(&self) -> Option<String> {
        let mut parts = Vec::new();
        if !self.withdrawn.is_empty() {
            parts.push(format!("Withdrawn from {}.", self.withdrawn.join(", ")));
            if !matches!(self.revoked, Ok(true)) {
                // A session already running read the token before it was taken back.
                parts.push(
                    "Sessions of these tools already running may use it until it expires.".into(),
                );
            }
        }
        if !self.kept_by.is_empty() {
            parts.push(format!(
                "{} may keep a copy of the token until it expires{}.",
                self.kept_by.join(" and "),
                if matches!(self.revoked, Ok(true)) {
                    ", though the sign-in server no longer accepts it"
                } else {
                    ""
                }
            ));
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }
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
        let _lock = lock::acquire(&lock::lock_dir(&self.state_dir)?, &id, self.lock_wait)?;
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
        // What was handed to tools: taken back, else named.
        let mut clients =
            crate::store::issuer_notes::handed_clients(&self.state_dir, &bundle.issuer);
        clients.push(bundle.client.client_id.clone());
        let crate::usecase::hand_off::Withdrawal { withdrawn, kept_by } =
            crate::usecase::hand_off::withdraw_handed(
                &self.locations,
                &bundle,
                &clients,
                self.tool_keychain.as_ref(),
            );
        self.changed(&id);
        Ok(Some(SignedOut {
            bundle,
            revoked,
            withdrawn,
            kept_by,
        }))
    }
}
