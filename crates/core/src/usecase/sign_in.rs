//! Sign-in, the use case: discover, plan (scopes with where each came from, editable), get a
//! client, listen on the loopback redirect, authorize in the browser, exchange the code,
//! store the bundle (the kernel copy follows the write), record the flow for "why", and
//! announce the change.

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::oauth::loopback::{CallbackListener, Expected};
use crate::oauth::plan::LoginPlan;
use crate::oauth::plan::{self, ClientConfig};
use crate::oauth::register::{obtain_client, ClientRegistration, RegistrationMethod};
use crate::oauth::tokens::{self, Endpoint};
use crate::protocol::discovery;
use crate::protocol::http::Http;
use crate::protocol::trace::Recorder;
use crate::secret::Secret;
use crate::store::flow_record;
use crate::store::vault::{self, CredentialBundle, CredentialStore, BUNDLE_VERSION};
use crate::usecase::engine::Latchkey;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrowserMode {
    /// Open the system browser (or `$BROWSER`).
    Open,
    /// Only report the address; the person opens it.
    PrintOnly,
}

pub struct LoginOptions {
    pub client_secret: Option<Secret>,
    /// A name for the server, usable wherever a URL is (`latchkey token NAME`).
    pub name: Option<String>,
    pub browser: BrowserMode,
    pub timeout: Duration,
}

impl Default for LoginOptions {
    fn default() -> Self {
        LoginOptions {
            client_secret: None,
            name: None,
            browser: BrowserMode::Open,
            timeout: Duration::from_secs(300),
        }
    }
}

/// Progress a front end may show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginEvent {
    Listening {
        redirect_uri: String,
    },
    ClientReady {
        client_id: String,
        method: RegistrationMethod,
    },
    /// The sign-in page; with `opened` false the person must open it.
    SignInPage {
        url: String,
        opened: bool,
    },
    Exchanging,
}

/// The callback listener, and the earlier dynamic client when it can be reused: same
/// sign-in server, scopes it was registered for, and its exact redirect port free again.
/// Reusing it keeps one registration per server instead of one per sign-in.
async fn bind_listener(
    plan: &LoginPlan,
    previous: Option<&CredentialBundle>,
) -> Result<(CallbackListener, Option<ClientRegistration>)> {
    if plan.callback_port.is_none() {
        if let Some(c) = previous.map(|b| &b.client).filter(|c| c.reusable_for(plan)) {
            if let Some(port) = c.redirect_port() {
                if let Ok(l) = CallbackListener::bind(Some(port)).await {
                    return Ok((l, Some(c.clone())));
                }
            }
        }
    }
    Ok((CallbackListener::bind(plan.callback_port).await?, None))
}

pub async fn login(
    http: &Http,
    plan: &LoginPlan,
    options: &LoginOptions,
    store: &dyn CredentialStore,
    events: &(dyn Fn(LoginEvent) + Send + Sync),
    clock: &dyn Clock,
) -> Result<CredentialBundle> {
    let blocking = plan.blocking_problems();
    if let Some(first) = blocking.first() {
        if plan.client == crate::oauth::plan::ClientChoice::Missing {
            return Err(Error::NoClientRegistration {
                issuer: plan.issuer.clone(),
                redirect_uri: plan
                    .callback_port
                    .map(crate::oauth::plan::redirect_uri)
                    .unwrap_or_else(|| "http://127.0.0.1:<port>/callback".into()),
                scopes: plan.scope_names(),
            });
        }
        return Err(Error::InvalidPlan {
            problems: first.message.clone(),
        });
    }
    let server_id = vault::server_id(&plan.server_url)?;
    // A failing read of the old bundle must not block a new sign-in.
    let previous = store.load(&server_id).ok().flatten();
    let (listener, reused) = bind_listener(plan, previous.as_ref()).await?;
    let redirect_uri = listener.redirect_uri();
    events(LoginEvent::Listening {
        redirect_uri: redirect_uri.clone(),
    });

    let client = match reused {
        Some(c) => c,
        None => obtain_client(http, plan, &redirect_uri, options.client_secret.as_ref()).await?,
    };
    events(LoginEvent::ClientReady {
        client_id: client.client_id.clone(),
        method: client.method,
    });

    let ep = Endpoint {
        authorization: &plan.endpoints.authorization,
        token: &plan.endpoints.token,
        client: &client,
        redirect_uri: &redirect_uri,
        resource: &plan.resource,
    };
    let request = tokens::authorization_request(&ep, plan.scope_param().as_deref())?;
    let opened = match options.browser {
        BrowserMode::Open => crate::oauth::browser::open_url(request.url.as_str()).is_ok(),
        BrowserMode::PrintOnly => false,
    };
    events(LoginEvent::SignInPage {
        url: request.url.to_string(),
        opened,
    });

    let meta = &plan.discovery.as_metadata;
    let code = listener
        .wait(
            Expected {
                state: &request.state,
                issuer: &meta.issuer,
                iss_required: meta.authorization_response_iss_parameter_supported == Some(true),
            },
            options.timeout,
        )
        .await?;
    events(LoginEvent::Exchanging);
    let requested = plan.scope_names();
    let tokens =
        tokens::exchange_code(http, &ep, &code, &request.verifier, &requested, clock).await?;

    // Names given before stay.
    let mut names = previous.map(|b| b.names).unwrap_or_default();
    if let Some(n) = &options.name {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    let bundle = CredentialBundle {
        version: BUNDLE_VERSION,
        server_id,
        server_url: plan.server_url.clone(),
        resource: plan.resource.clone(),
        issuer: plan.issuer.clone(),
        authorization_endpoint: plan.endpoints.authorization.clone(),
        token_endpoint: plan.endpoints.token.clone(),
        revocation_endpoint: plan.endpoints.revocation.clone(),
        client,
        tokens,
        requested_scopes: requested,
        updated_at: clock.now(),
        needs_sign_in: None,
        names,
    };
    store.save(&bundle)?;
    Ok(bundle)
}

/// Scopes the person chose on the command line, beside the plan's recommendation.
#[derive(Debug, Clone, Default)]
pub struct ScopeChoice {
    /// Ask for exactly these instead of the recommended ones (empty: the recommendation).
    pub exactly: Vec<String>,
    /// Ask for these as well.
    pub add: Vec<String>,
}

impl ScopeChoice {
    /// `"a b"` and `["a", "b"]` mean the same.
    fn split(v: &[String]) -> Vec<String> {
        v.iter()
            .flat_map(|s| s.split_whitespace().map(str::to_string))
            .collect()
    }
}

impl Latchkey {
    /// Discovery and the sign-in plan for the server at `url`, with `client` as the app
    /// identity (empty: automatic) and `scopes` applied.
    ///
    /// Errors: discovery's (unreachable server, bad metadata, issuer mismatch...) and
    /// [`Error::InvalidPlan`] for a scope name that cannot be asked for.
    pub async fn plan_sign_in(
        &self,
        url: &str,
        client: &ClientConfig,
        scopes: &ScopeChoice,
    ) -> Result<LoginPlan> {
        self.plan_sign_in_with_hints(url, client, scopes, &[]).await
    }

    /// [`Latchkey::plan_sign_in`], reading first the protected resource metadata at `hints`:
    /// the `resource_metadata` URLs the server named when it refused a request (step-up).
    pub async fn plan_sign_in_with_hints(
        &self,
        url: &str,
        client: &ClientConfig,
        scopes: &ScopeChoice,
        hints: &[String],
    ) -> Result<LoginPlan> {
        let d = discovery::discover_with_hints(&self.http(), url.trim(), hints).await?;
        let mut plan = plan::make_plan(d, client);
        let exactly = ScopeChoice::split(&scopes.exactly);
        if !exactly.is_empty() {
            plan.set_scopes(exactly)?;
        }
        for s in ScopeChoice::split(&scopes.add) {
            plan.add_scope(&s)?;
        }
        Ok(plan)
    }

    /// Signs in with `plan` (as shown to the person), reporting progress to `progress`.
    /// The flow is recorded as the server's last one, and [`crate::usecase::events::Event::Changed`]
    /// is sent on success.
    ///
    /// Errors: a plan with blocking problems ([`Error::InvalidPlan`],
    /// [`Error::NoClientRegistration`]), registration, the browser step (denied, timeout,
    /// wrong `state` or `iss`), the code exchange, and the keychain.
    pub async fn sign_in(
        &self,
        plan: &LoginPlan,
        options: &LoginOptions,
        progress: &(dyn Fn(LoginEvent) + Send + Sync),
    ) -> Result<CredentialBundle> {
        let recorder = Recorder::default();
        let http = self.http().with_recorder(recorder.clone());
        let result = login(
            &http,
            plan,
            options,
            self.store.as_ref(),
            progress,
            self.clock.as_ref(),
        )
        .await;
        if let Ok(id) = vault::server_id(&plan.server_url) {
            flow_record::record(
                &self.state_dir,
                self.now(),
                "sign-in",
                &id,
                &recorder,
                &result,
            );
            if result.is_ok() {
                self.changed(&id);
            }
        }
        result
    }
}
