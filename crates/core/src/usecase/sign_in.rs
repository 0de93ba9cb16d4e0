//! Sign-in, the use case: discover, plan (scopes with where each came from, editable), get a
//! client (the issuer's kept registration, checked first, or a new one: see
//! [`crate::usecase::registrations`]), listen on the loopback redirect, authorize in the
//! browser, exchange the code (registering again and starting over once when the
//! authorization server refuses the client), store the bundle (the kernel copy follows the
//! write), record the flow for "why", and announce the change.
//!
//! Where no browser can reach the loopback redirect, the sign-in may instead show a code to
//! enter on another device (RFC 8628, [`crate::oauth::device`]): [`choose_method`] decides,
//! and the rest (the bundle, the record, the announcement) is the same.

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::oauth::browser::{self, Availability};
use crate::oauth::device::{self, DeviceEndpoint};
use crate::oauth::loopback::{CallbackListener, Expected};
use crate::oauth::paste_back::{self, PasteInbox};
use crate::oauth::plan::{self, ClientConfig};
use crate::oauth::plan::{PkceS256, SignInPlan};
use crate::oauth::providers::ProviderInput;
use crate::oauth::register::{obtain_client, ClientRegistration, RegistrationMethod, Standing};
use crate::oauth::tokens::{self, Endpoint, TokenSet};
use crate::protocol::discovery::{self, Discovery};
use crate::protocol::http::Http;
use crate::protocol::trace::Recorder;
use crate::secret::Secret;
use crate::store::issuer_notes::{self, PkceChoice};
use crate::store::vault::{self, CredentialBundle, CredentialStore, BUNDLE_VERSION};
use crate::store::{flow_record, lock};
use crate::usecase::engine::Latchkey;
use crate::usecase::registrations;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrowserMode {
    /// Open the system browser (or `$BROWSER`).
    Open,
    /// Only report the address; the person opens it.
    PrintOnly,
}

pub struct SignInOptions {
    pub client_secret: Option<Secret>,
    /// A name for the server, usable wherever a URL is (`latchkey token NAME`).
    pub name: Option<String>,
    pub browser: BrowserMode,
    pub timeout: Duration,
    /// Drop the client registration kept for the sign-in server's issuer first and register
    /// anew: the person saw the sign-in page say the app is unknown (`latchkey login
    /// --register-again`, the window's "Register again"). Only automatic (dynamic)
    /// registrations are dropped; an app the person registered is kept.
    pub register_again: bool,
    /// Whether to sign in with a code entered on another device (RFC 8628): see
    /// [`choose_method`].
    pub device: DeviceChoice,
    /// Where a front feeds the address the browser ended on, when the browser is on another
    /// computer and the redirect cannot reach the listener (`oauth::paste_back`): the command
    /// line's standard input, the window's field. The sign-in waits on it and on the listener;
    /// the first answer wins. None: the listener alone.
    pub paste_back: Option<PasteInbox>,
}

/// When to sign in with a code entered on another device (the device authorization grant,
/// RFC 8628) instead of the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceChoice {
    /// When no browser can be opened here and the sign-in server offers it.
    #[default]
    Auto,
    /// Always (`latchkey login --device`); an error where the sign-in server does not offer it.
    Always,
    /// Never.
    Never,
}

/// Whether a browser can be opened here for this sign-in: not when the person said so
/// (`--no-browser`), else as the session allows ([`browser::availability`]).
pub fn browser_availability(options: &SignInOptions) -> Availability {
    match options.browser {
        BrowserMode::Open => browser::availability(),
        BrowserMode::PrintOnly => Availability::No {
            why: "You asked Latchkey not to open a browser".into(),
        },
    }
}

/// Whether this sign-in uses a code entered on another device, and why, in words a front
/// shows: the one rule (ARCHITECTURE.md, Use cases: sign in). `here` is whether a browser can
/// be opened on this machine ([`browser_availability`]). With [`DeviceChoice::Always`] the
/// code, [`Error::NoDeviceFlow`] where the sign-in server offers none; with
/// [`DeviceChoice::Auto`] the code when no browser can be opened here and the sign-in server
/// offers it. `None`: the browser, on this machine or on another with the address pasted
/// back (the code flow says which once it has tried to open it).
pub fn choose_method(
    options: &SignInOptions,
    plan: &SignInPlan,
    here: &Availability,
) -> Result<Option<String>> {
    let offered = plan.endpoints.device_authorization.is_some();
    Ok(match (options.device, here) {
        (DeviceChoice::Always, _) if offered => Some(format!(
            "You asked to sign in with a code on another device; {} offers it",
            plan.issuer
        )),
        (DeviceChoice::Always, _) => {
            return Err(Error::NoDeviceFlow {
                issuer: plan.issuer.clone(),
            })
        }
        (DeviceChoice::Auto, Availability::No { why }) if offered => Some(format!(
            "{why}, and {} offers sign-in with a code on another device: open the address below on your phone or another computer and enter the code",
            plan.issuer
        )),
        _ => None,
    })
}

impl Default for SignInOptions {
    fn default() -> Self {
        SignInOptions {
            client_secret: None,
            name: None,
            browser: BrowserMode::Open,
            timeout: Duration::from_secs(300),
            register_again: false,
            device: DeviceChoice::Auto,
            paste_back: None,
        }
    }
}

/// How the sign-in's answer comes back to Latchkey. More ways may be added: match with a
/// wildcard arm, and show [`SignInMethod::words`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SignInMethod {
    /// A browser on this machine is redirected to the loopback listener.
    Browser,
    /// The browser is elsewhere: the person pastes the address it ended on into Latchkey.
    PasteBack,
    /// The browser is elsewhere and the callback port is forwarded to this machine
    /// (`ssh -L`); pasting the address works as well.
    ForwardedPort,
    /// No browser here: a code the person enters on another device (RFC 8628).
    DeviceCode,
}

impl SignInMethod {
    /// How the answer comes back, in a few words.
    pub fn words(&self) -> &'static str {
        match self {
            SignInMethod::Browser => "in your browser on this machine",
            SignInMethod::PasteBack => "by pasting back the address your browser ends on",
            SignInMethod::ForwardedPort => {
                "through the callback port forwarded from the computer with the browser (ssh -L)"
            }
            SignInMethod::DeviceCode => "through a code you enter on another device",
        }
    }
}

/// Progress a front end may show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInEvent {
    /// The loopback listener is up: the sign-in answer comes to `redirect_uri`.
    Listening { redirect_uri: String },
    /// The client this sign-in uses. `reused`: the issuer's kept registration, not one made
    /// just now.
    ClientReady {
        client_id: String,
        method: RegistrationMethod,
        reused: bool,
    },
    /// Latchkey dropped the client registration kept for `issuer` and registers again;
    /// `message` says why, in words. With `restarting`, the sign-in starts over after the
    /// browser step: the person passes the sign-in page once more.
    RegisteringAgain {
        issuer: String,
        message: String,
        restarting: bool,
    },
    /// The sign-in page; with `opened` false the person must open it. With a reused
    /// registration, `register_again` holds words to show while waiting, for a page that says
    /// the app is unknown: the front adds how to register again (`--register-again`, the
    /// window's button).
    SignInPage {
        url: String,
        opened: bool,
        register_again: Option<String>,
    },
    /// How the answer will come back ([`SignInMethod`]) and `why`, in words (for example
    /// "This is an SSH session without a display, so no browser can open here"). Sent before
    /// [`SignInEvent::SignInPage`]. `ssh_forward`: in an SSH session with a fixed callback
    /// port, the command to run on the computer with the browser so the redirect reaches this
    /// machine.
    Method {
        method: SignInMethod,
        why: String,
        ssh_forward: Option<String>,
    },
    /// The browser step is done: the code is being exchanged for tokens.
    Exchanging,
    /// The code to enter on another device, and where (RFC 8628): a front shows both (and a
    /// QR code of `verification_uri_complete`, else `verification_uri`) and the time left.
    /// The addresses passed [`device::check_verification_uri`]; the device code itself is
    /// never in an event.
    DeviceCode {
        user_code: String,
        verification_uri: String,
        verification_uri_complete: Option<String>,
        expires_in_secs: u64,
    },
}

/// How the answer comes back, and why, for a sign-in page that `opened` or not (with
/// `availability` as found before trying), with a paste-back inbox or not, in an SSH session
/// with a fixed callback port (`ssh_forward`) or not.
fn method(
    availability: &Availability,
    opened: bool,
    paste_back: bool,
    ssh_forward: Option<&str>,
) -> (SignInMethod, String) {
    if opened {
        return (
            SignInMethod::Browser,
            "The sign-in page opened in a browser on this machine, and its answer comes straight back to Latchkey".into(),
        );
    }
    let reason = match availability {
        Availability::No { why } => why.clone(),
        Availability::Yes { .. } => "The browser could not be opened here".into(),
    };
    match (paste_back, ssh_forward) {
        (_, Some(_)) => (
            SignInMethod::ForwardedPort,
            format!(
                "{reason}{}",
                if paste_back { "; pasting back the address the browser ends on works too" } else { "" }
            ),
        ),
        (true, None) => (
            SignInMethod::PasteBack,
            format!("{reason}: open the address in a browser on any computer, then paste back the address it ends on"),
        ),
        (false, None) if availability.can_open() => (
            SignInMethod::Browser,
            format!("{reason}: open the address in a browser on this machine"),
        ),
        // Nothing can be pasted here (the bridge's standard input is the tool's): only a
        // browser whose redirect reaches this machine can finish it.
        (false, None) => (
            SignInMethod::Browser,
            format!("{reason}: open the address in a browser whose redirect reaches this machine (on it, or through the callback port forwarded with ssh -L)"),
        ),
    }
}

/// What to show while the sign-in page is open with a reused registration at `issuer`.
fn register_again_advice(issuer: &str) -> String {
    format!(
        "If the sign-in page says the app is unknown or not allowed (for example invalid_client, unauthorized_client or \"client not found\"), {issuer} has forgotten Latchkey's registration: register again."
    )
}

/// The callback listener and the client for this sign-in, and whether the client is the
/// issuer's kept registration. A kept dynamic registration is reused when it fits the plan,
/// its secret has not expired and its exact redirect port is free again, after asking the
/// authorization server whether it still knows it (ARCHITECTURE.md, Protocol rules: client);
/// otherwise Latchkey registers (replacing the kept one) or uses the plan's client.
async fn client_and_listener(
    http: &Http,
    plan: &SignInPlan,
    options: &SignInOptions,
    store: &dyn CredentialStore,
    events: &(dyn Fn(SignInEvent) + Send + Sync),
    clock: &dyn Clock,
    extra: &[(&str, &str)],
) -> Result<(CallbackListener, ClientRegistration, bool)> {
    let dynamic = registrations::dynamic(plan);
    let kept = if dynamic {
        registrations::kept(store, &plan.issuer)
    } else {
        None
    };
    if let Some(k) = kept
        .as_ref()
        .filter(|k| registrations::usable_for(k, plan, clock.now()))
    {
        if let Ok(listener) = CallbackListener::bind(k.redirect_port()).await {
            let redirect_uri = listener.redirect_uri();
            events(SignInEvent::Listening {
                redirect_uri: redirect_uri.clone(),
            });
            // The request the browser would open, with its own state and PKCE pair.
            let ep = endpoint(plan, k, &redirect_uri);
            let check = tokens::authorization_request(&ep, plan.scope_param().as_deref(), extra)?;
            let message = match registrations::standing(http, k, &check.url).await {
                Standing::Known(current) if !current.secret_expired(clock.now()) => {
                    if current != *k {
                        registrations::keep(store, &current);
                    }
                    return Ok((listener, current, true));
                }
                Standing::Known(_) => format!(
                    "The client secret of Latchkey's registration {} at {} has expired: registering again.",
                    k.client_id, plan.issuer
                ),
                Standing::Unknown { detail } => format!(
                    "The sign-in server {} no longer knows Latchkey's registration {} ({detail}): registering again.",
                    plan.issuer, k.client_id
                ),
            };
            registrations::drop_if_current(store, k);
            events(SignInEvent::RegisteringAgain {
                issuer: plan.issuer.clone(),
                message,
                restarting: false,
            });
            let fresh =
                registrations::register_and_keep(http, store, plan, &redirect_uri, Some(k)).await?;
            return Ok((listener, fresh, false));
        }
    }
    let listener = CallbackListener::bind(plan.callback_port).await?;
    let redirect_uri = listener.redirect_uri();
    events(SignInEvent::Listening {
        redirect_uri: redirect_uri.clone(),
    });
    let client = if dynamic {
        registrations::register_and_keep(http, store, plan, &redirect_uri, kept.as_ref()).await?
    } else {
        obtain_client(http, plan, &redirect_uri, options.client_secret.as_ref()).await?
    };
    Ok((listener, client, false))
}

fn endpoint<'a>(
    plan: &'a SignInPlan,
    client: &'a ClientRegistration,
    redirect_uri: &'a str,
) -> Endpoint<'a> {
    Endpoint {
        authorization: &plan.endpoints.authorization,
        token: &plan.endpoints.token,
        client,
        redirect_uri,
        resource: &plan.resource,
    }
}

/// The browser step and the code exchange with `client`, on `listener`.
#[allow(clippy::too_many_arguments)]
async fn authorize(
    http: &Http,
    plan: &SignInPlan,
    options: &SignInOptions,
    listener: CallbackListener,
    client: &ClientRegistration,
    reused: bool,
    extra: &[(&str, &str)],
    events: &(dyn Fn(SignInEvent) + Send + Sync),
    clock: &dyn Clock,
) -> Result<TokenSet> {
    // One issuer's client is never presented to another (R10).
    if client.issuer != plan.issuer {
        return Err(Error::InvalidPlan {
            problems: format!(
                "the client registration {} belongs to the sign-in server {}, not to {}: sign in again so Latchkey registers there",
                client.client_id, client.issuer, plan.issuer
            ),
        });
    }
    let redirect_uri = listener.redirect_uri();
    let ep = endpoint(plan, client, &redirect_uri);
    let request = tokens::authorization_request(&ep, plan.scope_param().as_deref(), extra)?;
    let availability = browser_availability(options);
    let opened = availability.can_open() && browser::open_url(request.url.as_str()).is_ok();
    // The port is only worth forwarding when it stays the same (--callback-port).
    let ssh_forward = plan
        .callback_port
        .and_then(|_| browser::ssh_forward_command(listener.port()));
    let (method, why) = method(
        &availability,
        opened,
        options.paste_back.is_some(),
        ssh_forward.as_deref(),
    );
    events(SignInEvent::Method {
        method,
        why,
        ssh_forward: if opened { None } else { ssh_forward },
    });
    events(SignInEvent::SignInPage {
        url: request.url.to_string(),
        opened,
        register_again: reused.then(|| register_again_advice(&plan.issuer)),
    });

    let meta = &plan.discovery.as_metadata;
    let expected = Expected {
        state: &request.state,
        issuer: &meta.issuer,
        iss_required: meta.authorization_response_iss_parameter_supported == Some(true),
    };
    // The listener and a pasted answer, whichever comes first; the listener's timeout bounds
    // both (a paste-back that can no longer be fed waits forever).
    let code = match &options.paste_back {
        Some(inbox) => tokio::select! {
            r = listener.wait(expected, options.timeout) => r,
            r = paste_back::wait(inbox, &redirect_uri, expected) => r,
        },
        None => listener.wait(expected, options.timeout).await,
    }?;
    events(SignInEvent::Exchanging);
    tokens::exchange_code(
        http,
        &ep,
        &code,
        &request.verifier,
        &plan.scope_names(),
        clock,
    )
    .await
}

/// The client for a sign-in with a code on another device: the issuer's kept registration
/// when it fits the plan and was registered for the device grant, else a new registration
/// (kept for the issuer) that asks for both grants, with a loopback redirect URI on the plan's
/// port or a free one so that later browser sign-ins reuse it; or the plan's own client.
async fn device_client(
    http: &Http,
    plan: &SignInPlan,
    options: &SignInOptions,
    store: &dyn CredentialStore,
    clock: &dyn Clock,
) -> Result<(ClientRegistration, bool)> {
    let kept = registrations::dynamic(plan)
        .then(|| registrations::kept(store, &plan.issuer))
        .flatten();
    if let Some(k) = kept
        .as_ref()
        .filter(|k| k.device_grant && k.reusable_for(plan) && !k.secret_expired(clock.now()))
    {
        return Ok((k.clone(), true));
    }
    // A port for the redirect URI the client lists: nothing listens on it in this sign-in.
    let redirect_uri = CallbackListener::bind(plan.callback_port)
        .await?
        .redirect_uri();
    if !registrations::dynamic(plan) {
        let client =
            obtain_client(http, plan, &redirect_uri, options.client_secret.as_ref()).await?;
        return Ok((client, false));
    }
    let client =
        registrations::register_and_keep(http, store, plan, &redirect_uri, kept.as_ref()).await?;
    Ok((client, false))
}

/// The sign-in with a code on another device (RFC 8628): the client, the device authorization
/// request with the plan's scopes and resource, the code shown to the person, the wait. A
/// dynamic registration the sign-in server refuses (`invalid_client`, `unauthorized_client`)
/// is dropped and made anew once.
async fn with_device_code(
    http: &Http,
    plan: &SignInPlan,
    options: &SignInOptions,
    store: &dyn CredentialStore,
    events: &(dyn Fn(SignInEvent) + Send + Sync),
    clock: &dyn Clock,
) -> Result<(ClientRegistration, TokenSet)> {
    let Some(endpoint) = plan.endpoints.device_authorization.as_deref() else {
        return Err(Error::NoDeviceFlow {
            issuer: plan.issuer.clone(),
        });
    };
    let mut restarted = false;
    loop {
        let (client, reused) = device_client(http, plan, options, store, clock).await?;
        if client.issuer != plan.issuer {
            return Err(Error::InvalidPlan {
                problems: format!(
                    "the client registration {} belongs to the sign-in server {}, not to {}: sign in again so Latchkey registers there",
                    client.client_id, client.issuer, plan.issuer
                ),
            });
        }
        events(SignInEvent::ClientReady {
            client_id: client.client_id.clone(),
            method: client.method,
            reused,
        });
        let ep = DeviceEndpoint {
            device_authorization: endpoint,
            token: &plan.endpoints.token,
            issuer: &plan.issuer,
            server_url: &plan.server_url,
            client: &client,
            resource: &plan.resource,
        };
        let started = tokio::time::Instant::now();
        let result = match device::authorize(http, &ep, plan.scope_param().as_deref()).await {
            Ok(auth) => {
                events(SignInEvent::DeviceCode {
                    user_code: auth.user_code.clone(),
                    verification_uri: auth.verification_uri.clone(),
                    verification_uri_complete: auth.verification_uri_complete.clone(),
                    expires_in_secs: auth.expires_in.as_secs(),
                });
                device::poll(http, &ep, &auth, started, &plan.scope_names(), clock).await
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(tokens) => return Ok((client, tokens)),
            Err(e)
                if client.method == RegistrationMethod::Dynamic
                    && registrations::says_client_unknown(&e)
                    && !restarted =>
            {
                registrations::drop_if_current(store, &client);
                events(SignInEvent::RegisteringAgain {
                    issuer: plan.issuer.clone(),
                    message: format!(
                        "{} refused Latchkey's registration {} ({e}). Latchkey registers again and asks for a new code.",
                        plan.issuer, client.client_id
                    ),
                    restarting: true,
                });
                restarted = true;
            }
            Err(e) => {
                if client.method == RegistrationMethod::Dynamic
                    && registrations::says_client_unknown(&e)
                {
                    registrations::drop_if_current(store, &client);
                }
                return Err(e);
            }
        }
    }
}

/// The sign-in itself, once a plan is settled: the loopback listener, the client (the
/// issuer's kept registration when it fits and the authorization server still knows it), the
/// browser, the code exchange; the bundle to store. `store` is read for the last sign-in's
/// names and refresh token, and holds the issuer's client registration: kept after a
/// registration, dropped when the authorization server refuses it. A sign-in whose client
/// the authorization server refuses (`invalid_client`, `unauthorized_client`) registers again
/// and starts over once.
/// [`Latchkey::sign_in`] is the use case around it (recording, events).
pub async fn perform(
    http: &Http,
    plan: &SignInPlan,
    options: &SignInOptions,
    store: &dyn CredentialStore,
    events: &(dyn Fn(SignInEvent) + Send + Sync),
    clock: &dyn Clock,
) -> Result<CredentialBundle> {
    let device_why = choose_method(options, plan, &browser_availability(options))?;
    if plan.pkce == PkceS256::NeedsConfirmation {
        return Err(Error::PkceNotAdvertised {
            issuer: plan.issuer.clone(),
            server: plan.server_url.clone(),
        });
    }
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
    if options.register_again && registrations::dynamic(plan) {
        registrations::drop_issuer(store, &plan.issuer);
        events(SignInEvent::RegisteringAgain {
            issuer: plan.issuer.clone(),
            message: format!(
                "As you asked, Latchkey dropped its registration at {} and registers again.",
                plan.issuer
            ),
            restarting: false,
        });
    }

    // A refresh token from this sign-in server, still usable: some providers (Google) issue
    // a new one only with a consent prompt, which the plan then leaves out.
    let stored_refresh = previous
        .as_ref()
        .filter(|b| b.issuer == plan.issuer && b.needs_sign_in.is_none())
        .and_then(|b| b.tokens.refresh_token.clone());
    let extra: Vec<(&str, &str)> = plan
        .extra_params
        .iter()
        .filter(|p| !(p.only_without_refresh_token && stored_refresh.is_some()))
        .map(|p| (p.name.as_str(), p.value.as_str()))
        .collect();
    let left_out_consent = plan
        .extra_params
        .iter()
        .any(|p| p.only_without_refresh_token)
        && stored_refresh.is_some();

    let mut restarted = false;
    let (client, mut tokens) = if let Some(why) = device_why {
        events(SignInEvent::Method {
            method: SignInMethod::DeviceCode,
            why,
            ssh_forward: None,
        });
        with_device_code(http, plan, options, store, events, clock).await?
    } else {
        loop {
            let (listener, client, reused) =
                client_and_listener(http, plan, options, store, events, clock, &extra).await?;
            events(SignInEvent::ClientReady {
                client_id: client.client_id.clone(),
                method: client.method,
                reused,
            });
            match authorize(
                http, plan, options, listener, &client, reused, &extra, events, clock,
            )
            .await
            {
                Ok(tokens) => break (client, tokens),
                // The authorization server does not know this registration (any more): drop it,
                // register again and start over, once.
                Err(e)
                    if client.method == RegistrationMethod::Dynamic
                        && registrations::says_client_unknown(&e) =>
                {
                    registrations::drop_if_current(store, &client);
                    if restarted {
                        return Err(e);
                    }
                    events(SignInEvent::RegisteringAgain {
                    issuer: plan.issuer.clone(),
                    message: format!(
                        "{} refused Latchkey's registration {} ({e}). Latchkey registers again and starts the sign-in over: the sign-in page opens once more.",
                        plan.issuer, client.client_id
                    ),
                    restarting: true,
                });
                    restarted = true;
                }
                Err(e) => return Err(e),
            }
        }
    };
    // Without the consent prompt such a provider keeps the refresh token it issued before
    // valid and sends none: keep using it, for the same client only.
    let same_client = previous.as_ref().is_some_and(|b| {
        b.client.client_id == client.client_id && b.client.issuer == client.issuer
    });
    if tokens.refresh_token.is_none() && left_out_consent && same_client {
        tokens.refresh_token = stored_refresh;
    }

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
        requested_scopes: plan.scope_names(),
        updated_at: clock.now(),
        needs_sign_in: None,
        names,
    };
    Ok(bundle)
}

/// What a person must be told after a sign-in that gave no refresh token: when the session
/// ends and that they sign in again then. None when the session can be renewed. `now` and
/// the expiry are seconds since the epoch.
pub fn no_renewal_notice(bundle: &CredentialBundle, now: u64) -> Option<String> {
    if bundle.tokens.refresh_token.is_some() {
        return None;
    }
    Some(match bundle.tokens.expires_at {
        Some(at) => {
            let mins = at.saturating_sub(now).div_ceil(60);
            let left = if mins >= 120 {
                format!("in about {} hours", mins / 60)
            } else {
                format!("in about {} minutes", mins.max(1))
            };
            format!(
                "The sign-in server gave no refresh token, so Latchkey cannot renew this session: it ends at {} ({left}), and you will have to sign in again then.",
                crate::clock::utc_words(at)
            )
        }
        None => "The sign-in server gave no refresh token and did not say when the token expires: when the server stops accepting it, you will have to sign in again.".into(),
    })
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
    ) -> Result<SignInPlan> {
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
    ) -> Result<SignInPlan> {
        let d = discovery::discover_with_hints(&self.http(), url.trim(), hints).await?;
        let mut plan = self.make_plan(d, client);
        let exactly = ScopeChoice::split(&scopes.exactly);
        if !exactly.is_empty() {
            plan.set_scopes(exactly)?;
        }
        for s in ScopeChoice::split(&scopes.add) {
            plan.add_scope(&s)?;
        }
        Ok(plan)
    }

    /// [`Latchkey::plan_sign_in`] with an app registered at a known provider (a preset): the
    /// client comes from `provider`'s values, and the plan must sign in at the issuer they
    /// make. Errors: the preset's missing values, each with where it is found and the
    /// redirect URI to register; an issuer other than the one the values make.
    pub async fn plan_sign_in_with_provider(
        &self,
        url: &str,
        provider: &ProviderInput,
        scopes: &ScopeChoice,
    ) -> Result<SignInPlan> {
        let (config, issuer) = provider.resolve()?;
        let mut plan = self.plan_sign_in(url, &config, scopes).await?;
        provider.apply(&mut plan, &issuer)?;
        Ok(plan)
    }

    /// The plan for what discovery found, with the person's remembered PKCE choice for its
    /// sign-in server applied.
    pub(crate) fn make_plan(&self, d: Discovery, client: &ClientConfig) -> SignInPlan {
        let mut plan = plan::make_plan(d, client);
        if plan.pkce == PkceS256::NeedsConfirmation
            && issuer_notes::pkce_assumed(&self.state_dir, &plan.issuer)
        {
            // Only a server that lists no PKCE method at all gets here: it cannot fail.
            let _ = plan.assume_pkce_s256();
        }
        plan
    }

    /// The person confirms that PKCE with S256 may be assumed at the plan's sign-in server,
    /// whose metadata does not list `code_challenge_methods_supported` (the command line's
    /// `--assume-pkce-s256`, the window's confirm step). The choice is remembered for that
    /// issuer in the state folder and the plan no longer waits for it; a plan whose PKCE basis
    /// is already known is left as it is and nothing is remembered.
    ///
    /// Errors: [`Error::PkceUnsupported`] for metadata that lists methods without S256 (it
    /// stays refused), and the state folder's ([`Error::Lock`], [`Error::WriteFailed`]).
    pub fn confirm_pkce_s256(&self, plan: &mut SignInPlan) -> Result<()> {
        if plan.pkce != PkceS256::NeedsConfirmation {
            return Ok(());
        }
        plan.assume_pkce_s256()?;
        issuer_notes::remember_pkce_s256(&self.state_dir, &plan.issuer, self.now())
    }

    /// The sign-in servers at which the person chose to assume S256, oldest first.
    pub fn pkce_s256_choices(&self) -> Vec<PkceChoice> {
        issuer_notes::pkce_choices(&self.state_dir)
    }

    /// Forgets the choice to assume S256 at `issuer`: its next plan waits for a confirmation
    /// again. False when there was no such choice. Errors: the state folder's.
    pub fn forget_pkce_s256(&self, issuer: &str) -> Result<bool> {
        issuer_notes::forget_pkce_s256(&self.state_dir, issuer.trim())
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
        plan: &SignInPlan,
        options: &SignInOptions,
        progress: &(dyn Fn(SignInEvent) + Send + Sync),
    ) -> Result<CredentialBundle> {
        let recorder = Recorder::default();
        let http = self.http().with_recorder(recorder.clone());
        let result = perform(
            &http,
            plan,
            options,
            self.store.as_ref(),
            progress,
            self.clock.as_ref(),
        )
        .await
        .and_then(|bundle| {
            // Under the server's lock: a renewal in flight finishes first, so it cannot write
            // the old session over the new one.
            let _lock = lock::acquire(
                &lock::lock_dir(&self.state_dir)?,
                &bundle.server_id,
                self.lock_wait,
            )?;
            self.store.save(&bundle)?;
            Ok(bundle)
        });
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

#[cfg(test)]
mod method_tests {
    use super::*;

    #[test]
    fn the_method_and_why_follow_where_the_browser_is() {
        let ssh = Availability::No {
            why: "This is an SSH session without a display, so no browser can open here".into(),
        };
        let here = Availability::Yes {
            why: "A browser can open on this machine".into(),
        };
        let (m, why) = method(&here, true, true, None);
        assert_eq!(m, SignInMethod::Browser);
        assert!(why.contains("opened in a browser on this machine"), "{why}");
        let (m, why) = method(&ssh, false, true, None);
        assert_eq!(m, SignInMethod::PasteBack);
        assert!(
            why.starts_with("This is an SSH session without a display")
                && why.contains("paste back"),
            "{why}"
        );
        let (m, why) = method(&ssh, false, true, Some("ssh -L 1:127.0.0.1:1 a@b"));
        assert_eq!(m, SignInMethod::ForwardedPort);
        assert!(
            why.contains("pasting back") && why.contains("SSH session"),
            "{why}"
        );
        // A browser that should have opened and did not; no paste-back: open it here.
        let (m, why) = method(&here, false, false, None);
        assert_eq!(m, SignInMethod::Browser);
        assert!(
            why.contains("could not be opened") && why.contains("on this machine"),
            "{why}"
        );
        assert_eq!(
            SignInMethod::PasteBack.words(),
            "by pasting back the address your browser ends on"
        );
        assert_eq!(
            serde_json::to_value(SignInMethod::ForwardedPort).unwrap(),
            serde_json::json!("forwarded_port")
        );
    }
}
