//! One-click re-authorization: whether a server can be signed in again with what it was
//! signed in with last time, or whether the plan changed and the person should see it first.

use crate::error::Error;
use crate::oauth::plan::{ClientChoice, ClientConfig, PkceS256, SignInPlan};
use crate::oauth::register::RegistrationMethod;
use crate::protocol::discovery;
use crate::store::vault::CredentialBundle;
use crate::usecase::engine::Latchkey;
use crate::usecase::sign_in::{BrowserMode, SignInEvent, SignInOptions};
use std::collections::BTreeSet;

/// What changed between the last sign-in and a fresh plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanChange {
    /// Same sign-in server, same scopes, a usable client: sign in again at once.
    Unchanged,
    /// Something the person should look at before the browser opens.
    Changed { what: Vec<String> },
}

/// Compares a fresh plan with the stored bundle, and narrows the plan to the scopes asked for
/// last time when those are still what the server recommends or allows.
pub fn compare(plan: &SignInPlan, last: &CredentialBundle) -> PlanChange {
    let mut what = Vec::new();
    if plan.issuer != last.issuer {
        what.push(format!(
            "the sign-in server changed from {} to {}",
            last.issuer, plan.issuer
        ));
    }
    let now: BTreeSet<&str> = plan.scopes.iter().map(|s| s.name.as_str()).collect();
    let before: BTreeSet<&str> = last.requested_scopes.iter().map(String::as_str).collect();
    let added: Vec<&str> = now.difference(&before).copied().collect();
    let removed: Vec<&str> = before.difference(&now).copied().collect();
    if !added.is_empty() {
        what.push(format!("new permissions asked for: {}", added.join(" ")));
    }
    if !removed.is_empty() {
        what.push(format!(
            "permissions no longer asked for: {}",
            removed.join(" ")
        ));
    }
    if plan.client == ClientChoice::Missing || !plan.blocking_problems().is_empty() {
        what.push("the sign-in cannot start without your input".into());
    }
    if what.is_empty() {
        PlanChange::Unchanged
    } else {
        PlanChange::Changed { what }
    }
}

/// The client to plan with when signing in again: the person's own registered client (with
/// its secret and callback port) is kept; anything else is chosen afresh by the plan.
pub fn client_config(last: &CredentialBundle) -> ClientConfig {
    match last.client.method {
        RegistrationMethod::PreRegistered => ClientConfig {
            client_id: Some(last.client.client_id.clone()),
            client_secret: last.client.client_secret.clone(),
            auth_method: Some(last.client.auth_method),
            callback_port: last.client.redirect_port(),
            client_metadata_url: None,
        },
        _ => ClientConfig::default(),
    }
}

/// The plan for signing in again: the scopes of the last sign-in where they are still valid
/// names (a person who narrowed or widened them keeps their choice).
pub fn with_last_scopes(mut plan: SignInPlan, last: &CredentialBundle) -> SignInPlan {
    if !last.requested_scopes.is_empty()
        && plan
            .set_scopes(last.requested_scopes.iter().cloned())
            .is_err()
    {
        plan.reset_scopes();
    }
    plan
}

/// Why a one-click sign-in did not happen or did not work.
#[derive(Debug)]
pub enum SignInAgain {
    /// The person should look first (never signed in, or the plan changed): the wizard.
    NeedsReview(String),
    /// The sign-in ran and failed: "why" says what happened.
    Failed(Error),
}

impl Latchkey {
    /// Signs `url` in again at once with what it used last time (same authorization server,
    /// same scopes, its registered client), through the browser. When anything changed, or it
    /// never signed in, nothing is sent to the authorization server beyond discovery and the
    /// answer is [`SignInAgain::NeedsReview`] with what changed, in words.
    pub async fn sign_in_again(
        &self,
        url: &str,
        browser: BrowserMode,
        progress: &(dyn Fn(SignInEvent) + Send + Sync),
    ) -> std::result::Result<CredentialBundle, SignInAgain> {
        let last = self
            .store
            .load(url)
            .map_err(|e| SignInAgain::NeedsReview(e.to_string()))?
            .ok_or_else(|| {
                SignInAgain::NeedsReview("never signed in: the person chooses the scopes".into())
            })?;
        let d = discovery::discover(&self.http(), url)
            .await
            .map_err(|e| SignInAgain::NeedsReview(e.to_string()))?;
        let config = client_config(&last);
        let plan = with_last_scopes(self.make_plan(d, &config), &last);
        if plan.pkce == PkceS256::NeedsConfirmation {
            return Err(SignInAgain::NeedsReview(format!(
                "{} does not list code_challenge_methods_supported: confirm that PKCE with S256 may be assumed there",
                plan.issuer
            )));
        }
        if let PlanChange::Changed { what } = compare(&plan, &last) {
            return Err(SignInAgain::NeedsReview(what.join("; ")));
        }
        let options = SignInOptions {
            client_secret: config.client_secret.clone(),
            browser,
            ..SignInOptions::default()
        };
        self.sign_in(&plan, &options, progress)
            .await
            .map_err(SignInAgain::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::discovery::Discovery;
    use crate::store::vault::tests::sample;

    fn plan_with(scopes: &[&str], issuer: &str) -> SignInPlan {
        let mut b = sample("https://example.com/mcp");
        b.issuer = issuer.into();
        let d: Discovery = serde_json::from_value(serde_json::json!({
            "server_url": "https://example.com/mcp",
            "resource": "https://example.com/mcp",
            "probe_status": 401,
            "challenge": null, "prm": null, "prm_url": null, "prm_source": null,
            "issuer": issuer,
            "as_source": "legacy_origin",
            "as_metadata": {"issuer": issuer, "authorization_endpoint": format!("{issuer}/auth"),
                            "token_endpoint": format!("{issuer}/token"),
                            "registration_endpoint": format!("{issuer}/reg"),
                            "code_challenge_methods_supported": ["S256"]},
            "as_metadata_url": null,
            "steps": []
        }))
        .expect("a discovery value");
        let mut p = crate::oauth::plan::make_plan(d, &Default::default());
        p.set_scopes(scopes.iter().map(|s| s.to_string())).unwrap();
        p
    }

    #[test]
    fn the_same_scopes_and_server_sign_in_at_once() {
        let last = sample("https://example.com/mcp");
        let issuer = last.issuer.clone();
        let scopes: Vec<&str> = last.requested_scopes.iter().map(String::as_str).collect();
        assert_eq!(
            compare(&plan_with(&scopes, &issuer), &last),
            PlanChange::Unchanged
        );
    }

    #[test]
    fn new_scopes_or_another_sign_in_server_show_the_preview() {
        let last = sample("https://example.com/mcp");
        let issuer = last.issuer.clone();
        let mut more: Vec<&str> = last.requested_scopes.iter().map(String::as_str).collect();
        more.push("mcp:write");
        match compare(&plan_with(&more, &issuer), &last) {
            PlanChange::Changed { what } => assert!(what[0].contains("mcp:write"), "{what:?}"),
            other => panic!("{other:?}"),
        }
        let scopes: Vec<&str> = last.requested_scopes.iter().map(String::as_str).collect();
        match compare(&plan_with(&scopes, "https://other.example.com"), &last) {
            PlanChange::Changed { what } => {
                assert!(what[0].contains("other.example.com"), "{what:?}")
            }
            other => panic!("{other:?}"),
        }
    }
}
