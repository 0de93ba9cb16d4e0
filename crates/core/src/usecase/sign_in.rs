//! The whole sign-in: listen, register, authorize in the browser, exchange, store.

use crate::error::{Error, Result};
use crate::oauth::loopback::{CallbackListener, Expected};
use crate::oauth::plan::LoginPlan;
use crate::oauth::register::{obtain_client, ClientRegistration, RegistrationMethod};
use crate::oauth::tokens::{self, Endpoint};
use crate::protocol::http::Http;
use crate::secret::Secret;
use crate::store::vault::{self, CredentialBundle, CredentialStore, BUNDLE_VERSION};
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
    let tokens = tokens::exchange_code(http, &ep, &code, &request.verifier, &requested).await?;

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
        updated_at: crate::clock::now(),
        needs_sign_in: None,
        names,
    };
    store.save(&bundle)?;
    Ok(bundle)
}
