//! Every failure of the engine, in plain words, with what to do next.
//! Messages never contain a secret: only URLs, status codes and the AS's own error text.

use serde::Serialize;
use std::fmt;

/// Where in a flow the authorization server said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthStage {
    Registration,
    Authorization,
    TokenExchange,
    Refresh,
    Revocation,
}

impl fmt::Display for OAuthStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OAuthStage::Registration => "client registration",
            OAuthStage::Authorization => "sign-in",
            OAuthStage::TokenExchange => "the token exchange",
            OAuthStage::Refresh => "the token refresh",
            OAuthStage::Revocation => "sign-out",
        })
    }
}

/// An OAuth error response (RFC 6749 §4.1.2.1, §5.2; RFC 7591 §3.2.2), kept as the AS said it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OAuthError {
    pub stage: OAuthStage,
    /// The `error` code, e.g. `invalid_scope`.
    pub code: String,
    pub description: Option<String>,
    pub uri: Option<String>,
}

impl OAuthError {
    pub fn is(&self, code: &str) -> bool {
        self.code == code
    }
}

/// One server a name could mean, listed when the name means more than one
/// ([`Error::AmbiguousServer`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NameCandidate {
    /// The name as it is written where it is given.
    pub name: String,
    /// Who gives it that name: a tool (e.g. "Cursor", "Claude Code (project /home/a/p)"), or
    /// "Latchkey" for a name given at sign-in.
    pub given_by: String,
    /// The server's URL (its canonical form, as `latchkey servers` shows it).
    pub url: String,
}

fn did_you_mean(suggestions: &[String]) -> String {
    match suggestions {
        [] => String::new(),
        [one] => format!(" (did you mean {one:?}?)"),
        more => format!(
            " (did you mean {}?)",
            more.iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    }
}

fn count_servers(candidates: &[NameCandidate]) -> usize {
    let mut urls: Vec<&str> = candidates.iter().map(|c| c.url.as_str()).collect();
    urls.sort_unstable();
    urls.dedup();
    urls.len()
}

fn list_candidates(candidates: &[NameCandidate]) -> String {
    candidates
        .iter()
        .map(|c| format!("{} in {} is {}", c.name, c.given_by, c.url))
        .collect::<Vec<_>>()
        .join("; ")
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{input:?} is not a usable server address: {reason}")]
    InvalidUrl { input: String, reason: String },

    #[error("could not reach {url} — {detail}")]
    Unreachable { url: String, detail: String },

    #[error("{url} did not answer within {seconds} seconds")]
    Timeout { url: String, seconds: u64 },

    #[error("{url} answered HTTP {status} while {doing}")]
    HttpStatus {
        url: String,
        status: u16,
        doing: String,
        body: Option<String>,
    },

    #[error("the {what} at {url} is not valid: {detail}")]
    BadMetadata {
        what: &'static str,
        url: String,
        detail: String,
    },

    #[error(
        "this server does not ask for sign-in: {url} answered the MCP handshake without a token and publishes no protected resource metadata"
    )]
    NotProtected { url: String },

    #[error("there is no MCP server at {url} (HTTP {status})")]
    NoServer { url: String, status: u16 },

    #[error(
        "the server's metadata at {prm_url} describes a different server ({found}), not {expected}"
    )]
    ResourceMismatch {
        expected: String,
        found: String,
        prm_url: String,
    },

    #[error("the server's metadata at {prm_url} names no authorization server")]
    NoAuthorizationServer { prm_url: String },

    #[error("the sign-in server's metadata at {url} claims to be {found}, but it was reached as {expected}")]
    IssuerMismatch {
        expected: String,
        found: String,
        url: String,
    },

    #[error("could not find the sign-in server's metadata for {issuer} (tried {tried})")]
    NoAuthServerMetadata { issuer: String, tried: String },

    #[error("the sign-in server {issuer} does not support PKCE with S256 (it lists: {advertised}), so signing in would not be safe")]
    PkceUnsupported { issuer: String, advertised: String },

    #[error("the sign-in server {issuer} does not publish code_challenge_methods_supported in its metadata, so nothing says it accepts PKCE with S256, which MCP requires; Latchkey does not sign in there unless you say it may assume S256")]
    PkceNotAdvertised { issuer: String, server: String },

    #[error(
        "the {what} {url} uses plain HTTP on another machine; tokens would travel unencrypted"
    )]
    InsecureEndpoint { url: String, what: String },

    #[error("the sign-in server {issuer} does not let apps register themselves, and no client is configured for it")]
    NoClientRegistration {
        issuer: String,
        redirect_uri: String,
        scopes: Vec<String>,
    },

    #[error("the sign-in server {issuer} refused to register Latchkey as an app (HTTP {status}{})", refusal_words(.oauth.as_deref(), .body.as_deref()))]
    RegistrationRefused {
        issuer: String,
        status: u16,
        /// The AS's RFC 7591 section 3.2.2 error, when it sent one (boxed: errors stay small).
        oauth: Option<Box<OAuthError>>,
        /// An excerpt of any other answer.
        body: Option<String>,
        /// The redirect URI a registered app needs: the fixed one when a callback port was
        /// chosen, else with `<port>` standing for the one to choose.
        redirect_uri: String,
        scopes: Vec<String>,
    },

    #[error("the plan cannot be used: {problems}")]
    InvalidPlan { problems: String },

    /// A command's argument that cannot be used (what is wrong with it, in words).
    #[error("{problem}")]
    BadArgument { problem: String },

    /// A provider preset (`--provider`) without the values it needs.
    #[error("signing in with a {provider} app needs: {}", .missing.join("; "))]
    ProviderIncomplete {
        provider: String,
        /// Each missing value: its name, where it is found, an example.
        missing: Vec<String>,
        /// Which kind of app to register, in the provider console's words.
        register_as: String,
        redirect_uri: String,
    },

    #[error("{name:?} is not a provider Latchkey has a preset for (it has: {known})")]
    UnknownProvider { name: String, known: String },

    /// The issuer a preset's values make is not the server's authorization server.
    #[error("this server signs in at {actual}, but the {provider} values given make {expected}")]
    ProviderMismatch {
        provider: String,
        actual: String,
        expected: String,
    },

    #[error("{}", oauth_message(.0))]
    OAuth(OAuthError),

    #[error("the sign-in answer did not carry the state Latchkey sent, so it was refused (it may be a forged or stale sign-in)")]
    StateMismatch,

    #[error("the sign-in answer came from {found}, not from {expected}, so it was refused (mix-up protection, RFC 9207)")]
    IssuerResponseMismatch { expected: String, found: String },

    #[error("the sign-in answer had no code")]
    MissingCode,

    #[error("no sign-in came back within {seconds} seconds")]
    CallbackTimeout { seconds: u64 },

    /// The code of a sign-in on another device (RFC 8628) ran out before it was approved:
    /// the sign-in server said `expired_token`, or its `expires_in` passed.
    #[error("the sign-in code expired before the sign-in was approved at {issuer} (it was good for {})", minutes_words(*seconds))]
    DeviceCodeExpired { issuer: String, seconds: u64 },

    /// The person (or the sign-in server's policy) said no at the verification page: the
    /// token endpoint answered `access_denied` while Latchkey waited (RFC 8628 section 3.5).
    #[error("the sign-in was denied at {issuer}'s verification page{}", .description.as_deref().map(|d| format!(" ({})", crate::redact::text(d))).unwrap_or_default())]
    DeviceDenied {
        issuer: String,
        description: Option<String>,
    },

    /// A sign-in with a code on another device was asked for (`latchkey login --device`), and
    /// the sign-in server's metadata has no `device_authorization_endpoint` (RFC 8628 section 4).
    #[error("the sign-in server {issuer} does not offer sign-in with a code on another device (its metadata lists no device_authorization_endpoint)")]
    NoDeviceFlow { issuer: String },
    /// Pasted addresses that were not this sign-in's answer, `count` of them (the limit of
    /// `oauth::paste_back::MAX_BAD_PASTES`): the sign-in ended.
    #[error(
        "{count} pasted addresses in a row were not this sign-in's answer, so the sign-in stopped"
    )]
    TooManyBadPastes { count: u32 },

    #[error("could not listen for the sign-in answer on {address}: {detail}")]
    CallbackListen { address: String, detail: String },

    #[error("could not open a browser: {detail}")]
    Browser { detail: String },

    #[error("the token answer from {url} is not valid: {detail}")]
    BadTokenResponse { url: String, detail: String },

    #[error("the keychain ({store}) failed: {detail}")]
    Keychain { store: String, detail: String },

    /// A value the keychain cannot hold even cut into parts (store/parts.rs), or an item the
    /// platform store refused as too long. `item` is the item's account (a server's URL, or
    /// `latchkey:index`); `detail` gives the size and the store's limit. Nothing was changed.
    #[error("the keychain ({store}) cannot hold the item {item:?}: {detail}")]
    KeychainItemTooLarge {
        store: String,
        item: String,
        detail: String,
    },

    #[error("the stored credentials for {server} cannot be read: {detail}")]
    CorruptBundle { server: String, detail: String },

    #[error("not signed in to {server}")]
    NotSignedIn { server: String },

    #[error(
        "the server still refuses the tool after {attempts} sign-in(s), asking for scopes: {scopes}"
    )]
    InsufficientScope { attempts: u32, scopes: String },

    #[error("the server rejected the token (HTTP {status}){}", .description.as_deref().map(|d| format!(": {}", crate::redact::text(d))).unwrap_or_default())]
    TokenRejected {
        status: u16,
        error: Option<String>,
        description: Option<String>,
        /// The scopes the challenge asked for (RFC 6750 section 3).
        scope: Option<String>,
        /// The protected resource metadata the challenge named (RFC 9728 section 5.1): where
        /// to learn how to sign in for this request, e.g. a per-tool document.
        resource_metadata: Option<String>,
    },

    #[error("the MCP server answered with an error: {detail}")]
    Mcp { detail: String },

    #[error("could not use the lock file {path}: {detail}")]
    Lock { path: String, detail: String },

    /// Latchkey's state folder is not the person's own: another user's, writable by others,
    /// or not a folder. `detail` says which.
    #[error("Latchkey will not keep its files in {path}: {detail}")]
    UnsafeStateDir { path: String, detail: String },

    #[error("another Latchkey process has been renewing the session of {server} for over {seconds} seconds")]
    LockTimeout { server: String, seconds: u64 },

    #[error("{path} cannot be used: {detail}")]
    BadConfig { path: String, detail: String },

    #[error("{path} changed while Latchkey was editing it, so it was left as it is")]
    FileChanged { path: String },

    #[error("could not write {path}: {detail}")]
    WriteFailed { path: String, detail: String },

    #[error("{tool} does not seem to be installed for this user ({folder} is missing)")]
    ToolNotInstalled { tool: String, folder: String },

    #[error("the entry {entry} of {path} was changed since Latchkey connected it, so it was left as it is")]
    EntryChanged {
        path: String,
        entry: String,
        /// Where the entry as it was before connecting is kept.
        record: String,
    },

    /// No server is called `name`: not a URL, and neither a tool's config, a sign-in nor the
    /// dashboard gives a server that name. `suggestions` are the close names there are.
    #[error("no server is named {name:?}{}", did_you_mean(suggestions))]
    UnknownServer {
        /// The name as it was given.
        name: String,
        /// Names close to it (by spelling or as a start), closest first; may be empty.
        suggestions: Vec<String>,
    },

    /// `name` is what the tools' configs (or sign-ins) call more than one server.
    #[error(
        "{name:?} names {} different servers: {}",
        count_servers(candidates),
        list_candidates(candidates)
    )]
    AmbiguousServer {
        /// The name as it was given.
        name: String,
        /// Each name that matched, who gives it and the server it names.
        candidates: Vec<NameCandidate>,
    },

    /// `name` is a local server a tool runs on this computer: there is nothing to sign in to.
    #[error("{name:?} is a local server that {tool} runs on this computer, not a remote one: it needs no sign-in")]
    LocalServer {
        /// The name as it was given.
        name: String,
        /// The tool that runs it.
        tool: String,
    },

    #[error("{server} needs sign-in: {reason}")]
    NeedsSignIn { server: String, reason: String },
}

fn refusal_words(oauth: Option<&OAuthError>, body: Option<&str>) -> String {
    match (oauth, body) {
        (Some(e), _) => format!(
            ", {}{}",
            crate::redact::text(&e.code),
            e.description
                .as_deref()
                .map(|d| format!(": {}", crate::redact::text(d)))
                .unwrap_or_default()
        ),
        (None, Some(b)) if !b.trim().is_empty() => format!(": {}", crate::redact::text(b.trim())),
        _ => String::new(),
    }
}

/// What to do when the AS lets no app register itself: register one, with these details.
fn register_an_app(redirect_uri: &str, scopes: &[String]) -> String {
    let scopes = if scopes.is_empty() {
        "none needed".to_string()
    } else {
        scopes.join(" ")
    };
    let port = if redirect_uri.contains("<port>") {
        " (pick a free port, e.g. 8765, and use the same number for --callback-port)"
    } else {
        ""
    };
    format!("Register an app (a \"public\" or \"native\" client) at your sign-in server with the redirect URI {redirect_uri}{port} and the scopes {scopes}, then sign in again with --client-id (and --callback-port to match the redirect URI); in the Latchkey window, enter it at the \"App identity\" step.")
}

/// "about 10 minutes", "30 seconds": how long a sign-in code was good for.
fn minutes_words(seconds: u64) -> String {
    if seconds < 120 {
        format!("{seconds} seconds")
    } else {
        format!("about {} minutes", seconds.div_ceil(60))
    }
}

fn oauth_message(e: &OAuthError) -> String {
    let what = match e.code.as_str() {
        "invalid_scope" => "refused the requested scopes".to_string(),
        "access_denied" => "denied access (the sign-in was cancelled or not allowed)".to_string(),
        "invalid_client" => "does not know this app's client".to_string(),
        "unauthorized_client" => "does not allow this client to sign in this way".to_string(),
        "invalid_grant" => "rejected the code or refresh token".to_string(),
        "invalid_request" => "rejected the request as malformed".to_string(),
        "invalid_redirect_uri" => "rejected the callback address".to_string(),
        "invalid_client_metadata" => "rejected the app's registration details".to_string(),
        "server_error" | "temporarily_unavailable" => "failed on its own side".to_string(),
        other => format!("failed with {other}"),
    };
    // What the server wrote may echo what it was sent: shown redacted, whoever built it.
    let mut s = format!(
        "the sign-in server {what} during {} ({})",
        e.stage,
        crate::redact::text(&e.code)
    );
    if let Some(d) = &e.description {
        s.push_str(": ");
        s.push_str(&crate::redact::text(d));
    }
    s
}

/// Why a connection could not be made, where that says something about the person's network
/// rather than the server: the difference between "this server is down" and "you are offline".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkCause {
    /// The host name could not be resolved (no DNS: offline, or a wrong name).
    NameNotResolved,
    /// The OS has no route to the address (no network, or a network without the way there).
    NoRoute,
}

impl NetworkCause {
    /// The cause behind an [`Error::Unreachable`]'s detail, read from the OS's own error text
    /// that the detail ends with (`protocol::http` puts the innermost cause there): glibc's
    /// and musl's resolver messages ("Name or service not known", "Temporary failure in name
    /// resolution", "No address associated with hostname"), macOS's ("nodename nor servname
    /// provided"), Windows' ("No such host is known"); errno 101 and 113 ("Network is
    /// unreachable", "No route to host") and their Windows counterparts (10051, 10065).
    pub fn of_detail(detail: &str) -> Option<NetworkCause> {
        let d = detail.to_ascii_lowercase();
        const NAME: [&str; 6] = [
            "failed to lookup address",
            "name or service not known",
            "temporary failure in name resolution",
            "no address associated with hostname",
            "nodename nor servname provided",
            "no such host is known",
        ];
        const ROUTE: [&str; 6] = [
            "network is unreachable",
            "no route to host",
            "os error 101)",
            "os error 113)",
            "os error 10051)",
            "os error 10065)",
        ];
        if NAME.iter().any(|m| d.contains(m)) {
            Some(NetworkCause::NameNotResolved)
        } else if ROUTE.iter().any(|m| d.contains(m)) {
            Some(NetworkCause::NoRoute)
        } else {
            None
        }
    }
}

impl Error {
    /// For a connection that could not be made, whether the network (not the server) is why.
    pub fn network_cause(&self) -> Option<NetworkCause> {
        match self {
            Error::Unreachable { detail, .. } => NetworkCause::of_detail(detail),
            _ => None,
        }
    }

    /// A stable identifier for programs (`--json`) and for the reason catalogue.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidUrl { .. } => "invalid_url",
            Error::Unreachable { .. } => "unreachable",
            Error::Timeout { .. } => "timeout",
            Error::HttpStatus { .. } => "http_status",
            Error::BadMetadata { .. } => "bad_metadata",
            Error::NotProtected { .. } => "not_protected",
            Error::NoServer { .. } => "no_server",
            Error::ResourceMismatch { .. } => "resource_mismatch",
            Error::NoAuthorizationServer { .. } => "no_authorization_server",
            Error::IssuerMismatch { .. } => "issuer_mismatch",
            Error::NoAuthServerMetadata { .. } => "no_as_metadata",
            Error::PkceUnsupported { .. } => "pkce_unsupported",
            Error::PkceNotAdvertised { .. } => "pkce_not_advertised",
            Error::RegistrationRefused { .. } => "registration_refused",
            Error::InsecureEndpoint { .. } => "insecure_endpoint",
            Error::NoClientRegistration { .. } => "no_client_registration",
            Error::InvalidPlan { .. } => "invalid_plan",
            Error::BadArgument { .. } => "bad_argument",
            Error::ProviderIncomplete { .. } => "provider_incomplete",
            Error::UnknownProvider { .. } => "unknown_provider",
            Error::ProviderMismatch { .. } => "provider_mismatch",
            Error::OAuth(_) => "oauth_error",
            Error::StateMismatch => "state_mismatch",
            Error::IssuerResponseMismatch { .. } => "iss_mismatch",
            Error::MissingCode => "missing_code",
            Error::CallbackTimeout { .. } => "callback_timeout",
            Error::DeviceCodeExpired { .. } => "device_code_expired",
            Error::DeviceDenied { .. } => "device_denied",
            Error::NoDeviceFlow { .. } => "no_device_flow",
            Error::TooManyBadPastes { .. } => "too_many_bad_pastes",
            Error::CallbackListen { .. } => "callback_listen",
            Error::Browser { .. } => "browser",
            Error::BadTokenResponse { .. } => "bad_token_response",
            Error::Keychain { .. } => "keychain",
            Error::KeychainItemTooLarge { .. } => "keychain_item_too_large",
            Error::CorruptBundle { .. } => "corrupt_bundle",
            Error::NotSignedIn { .. } => "not_signed_in",
            Error::InsufficientScope { .. } => "insufficient_scope",
            Error::TokenRejected { .. } => "token_rejected",
            Error::Mcp { .. } => "mcp_error",
            Error::Lock { .. } => "lock",
            Error::UnsafeStateDir { .. } => "unsafe_state_dir",
            Error::LockTimeout { .. } => "lock_timeout",
            Error::NeedsSignIn { .. } => "needs_sign_in",
            Error::UnknownServer { .. } => "unknown_server",
            Error::AmbiguousServer { .. } => "ambiguous_server",
            Error::LocalServer { .. } => "local_server",
            Error::FileChanged { .. } => "file_changed",
            Error::BadConfig { .. } => "bad_config",
            Error::WriteFailed { .. } => "write_failed",
            Error::ToolNotInstalled { .. } => "tool_not_installed",
            Error::EntryChanged { .. } => "entry_changed",
        }
    }

    /// What the person can do about it, in one or two sentences.
    pub fn hint(&self) -> String {
        match self {
            Error::InvalidUrl { .. } => "Use the server's full address, e.g. https://example.com/mcp.".into(),
            Error::Unreachable { .. } => "Check the address and your network connection, then try again.".into(),
            Error::Timeout { .. } => "The server may be overloaded or down; try again in a minute.".into(),
            Error::HttpStatus { .. } => "The server may be misconfigured or down; try again later, or tell its operator.".into(),
            Error::BadMetadata { .. } => "This is a problem on the server's side; tell its operator (the detail above says what is wrong).".into(),
            Error::NotProtected { .. } => "Nothing to sign in to: the server can be used without credentials.".into(),
            Error::NoServer { .. } => "Check the address: it should be the server's MCP endpoint (often ending in /mcp).".into(),
            Error::ResourceMismatch { .. } => "Refusing protects you from sending a token to the wrong server. Check the address; if it is right, the server's operator must fix its metadata.".into(),
            Error::NoAuthorizationServer { .. } => "The server's operator must list its sign-in server in its protected resource metadata.".into(),
            Error::IssuerMismatch { .. } => "Refusing protects you from a look-alike sign-in server. The server's operator must fix the metadata.".into(),
            Error::NoAuthServerMetadata { .. } => "The sign-in server publishes no metadata Latchkey can use; tell the server's operator.".into(),
            Error::PkceUnsupported { .. } => "Ask the operator of the sign-in server to enable PKCE with S256.".into(),
            Error::InsecureEndpoint { .. } => "Use an https:// address, or ask the operator to serve the sign-in server over HTTPS.".into(),
            Error::PkceNotAdvertised { server, .. } => format!("If you trust that it accepts PKCE with S256 (most OpenID providers do), sign in with: latchkey login {server} --assume-pkce-s256 (remembered for this sign-in server; undo with latchkey assumed-pkce --forget ISSUER). Otherwise ask its operator to list S256 in code_challenge_methods_supported."),
            Error::NoClientRegistration { redirect_uri, scopes, .. }
            | Error::RegistrationRefused { redirect_uri, scopes, .. } => register_an_app(redirect_uri, scopes),
            Error::InvalidPlan { .. } => "Edit the scopes and try again.".into(),
            Error::ProviderIncomplete {
                register_as,
                redirect_uri,
                ..
            } => format!(
                "Register the app as: {register_as}, with the redirect URI {redirect_uri}. Then sign in again with its values (command line: --client-id ID and --provider-value KEY=VALUE)."
            ),
            Error::BadArgument { .. } => {
                "Correct it and run the command again (latchkey help COMMAND lists its arguments).".into()
            }
            Error::UnknownProvider { .. } => {
                "Choose one of the providers named, or sign in without --provider.".into()
            }
            Error::ProviderMismatch { .. } => {
                "Check the values (the tenant, domain or realm), or sign in without the preset.".into()
            }
            Error::OAuth(e) => match e.code.as_str() {
                "invalid_scope" => "Remove the scope the server refused (see the description), or reset to the recommended scopes, and sign in again.".into(),
                "access_denied" => "Sign in again and approve the request, or ask an administrator for access.".into(),
                "invalid_client" | "unauthorized_client" => "The app's registration is no longer valid: sign in again so Latchkey registers anew, or check the configured client id.".into(),
                "invalid_grant" => "Sign in again.".into(),
                "invalid_redirect_uri" => "Check that the callback port matches the redirect URI registered for this client.".into(),
                _ => "Try again; if it keeps failing, the description above comes from the sign-in server and is what its operator needs.".into(),
            },
            Error::StateMismatch | Error::IssuerResponseMismatch { .. } | Error::MissingCode => "Start the sign-in again from Latchkey, and finish it in the browser tab it opens.".into(),
            Error::DeviceCodeExpired { seconds, .. } => format!("Sign in again (latchkey login SERVER --device, or the window's Sign in): a new code is shown; open the address on your phone or another computer and enter the code within {}.", minutes_words(*seconds)),
            Error::DeviceDenied { .. } => "If that was a mistake, sign in again and approve the request on the verification page; if your account is not allowed, ask the sign-in server's administrator for access.".into(),
            Error::NoDeviceFlow { .. } => "Sign in without --device: where no browser can open here, Latchkey prints the sign-in address to open in a browser on any computer, then you paste back the address the browser ends on (over SSH, forwarding the callback port with ssh -L works too). Or ask the sign-in server's operator to enable the device authorization grant (RFC 8628).".into(),
            Error::CallbackTimeout { .. } => "Sign in again and finish in the browser; if no browser opened, use --no-browser and open the printed address yourself, then paste the address the browser ended on (http://127.0.0.1:PORT/callback?code=...) back into Latchkey.".into(),
            Error::TooManyBadPastes { .. } => "Sign in again. When the browser shows a page that could not be reached, copy the whole address from its address bar (it starts with http://127.0.0.1:PORT/callback?code=) and paste that into Latchkey, for the sign-in it printed last.".into(),
            Error::CallbackListen { .. } => "Another program may be using that port: choose another --callback-port, or leave it out.".into(),
            Error::Browser { .. } => "Use --no-browser and open the printed address yourself, or set $BROWSER.".into(),
            Error::BadTokenResponse { .. } => "This is a problem on the sign-in server's side; tell its operator.".into(),
            Error::Keychain { .. } => "Unlock your keychain (on Linux: the login keyring of GNOME Keyring or KWallet must be running and unlocked) and try again.".into(),
            Error::KeychainItemTooLarge { .. } => "The stored credentials were not changed. This keychain limits the size of each item, and Latchkey could not fit these even split into parts: sign in with fewer scopes, or ask the sign-in server's administrator for smaller tokens (at Microsoft Entra ID: fewer group claims in the token).".into(),
            Error::CorruptBundle { .. } => "Sign in again to replace the stored credentials.".into(),
            Error::NotSignedIn { server } => format!("Run: latchkey login {server}"),
            Error::InsufficientScope { .. } => "The server may need a scope your account cannot be granted; ask its operator which scopes the tool needs.".into(),
            Error::TokenRejected { .. } => "Sign in again; if it keeps happening, the server may expect a different audience or scopes.".into(),
            Error::Mcp { .. } => "The server understood the request but failed; try again or tell its operator.".into(),
            Error::UnsafeStateDir { .. } => "Remove that folder, or make it yours and private (chmod 700), or set LATCHKEY_STATE_DIR to a folder of your own.".into(),
            Error::Lock { .. } => "Check that Latchkey's state directory is writable (LATCHKEY_STATE_DIR overrides it).".into(),
            Error::LockTimeout { .. } => "Try again in a moment; if it keeps happening, a stuck latchkey process holds the lock: end it.".into(),
            Error::NeedsSignIn { server, .. } => format!("Run: latchkey login {server}"),
            Error::BadConfig { .. } => "Fix the file (the detail says where), or add the server to it, then try again.".into(),
            Error::FileChanged { .. } => "Another program (or you) changed it a moment ago; try again.".into(),
            Error::WriteFailed { detail, .. } if detail.contains("disk is full") => "Free some disk space and try again; the file was not changed.".into(),
            Error::WriteFailed { .. } => "Check the file's permissions and try again; the file was not changed.".into(),
            Error::ToolNotInstalled { tool, folder } => format!("Install {tool} (or create {folder}), then connect again."),
            Error::EntryChanged { record, .. } => format!("Edit the entry as you want it (what it was before connecting is kept in {record}), or take it out of the file; then run this again."),
            Error::UnknownServer { .. } => "Check the spelling: `latchkey servers` lists the names your AI tools give their servers, and `latchkey list` the servers signed in. Or give the server's URL.".into(),
            Error::AmbiguousServer { candidates, .. } => format!(
                "Give the URL of the server you mean instead of the name, e.g. {}.",
                candidates.first().map(|c| c.url.as_str()).unwrap_or("https://example.com/mcp")
            ),
            Error::LocalServer { .. } => "Nothing to do: Latchkey signs in to remote servers only (`latchkey servers` lists them).".into(),
        }
    }

    pub fn oauth(&self) -> Option<&OAuthError> {
        match self {
            Error::OAuth(e) => Some(e),
            Error::RegistrationRefused { oauth: Some(e), .. } => Some(e),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_errors_read_plainly() {
        let e = Error::OAuth(OAuthError {
            stage: OAuthStage::Authorization,
            code: "invalid_scope".into(),
            description: Some("sudo is not allowed".into()),
            uri: None,
        });
        assert_eq!(
            e.to_string(),
            "the sign-in server refused the requested scopes during sign-in (invalid_scope): sudo is not allowed"
        );
        assert!(e.hint().contains("Remove the scope"));
        assert_eq!(e.code(), "oauth_error");
    }

    #[test]
    fn no_client_hint_names_what_to_register() {
        let e = Error::NoClientRegistration {
            issuer: "https://login.example.com".into(),
            redirect_uri: "http://127.0.0.1:8765/callback".into(),
            scopes: vec!["mcp".into()],
        };
        let h = e.hint();
        assert!(
            h.contains("http://127.0.0.1:8765/callback") && h.contains("mcp"),
            "{h}"
        );
    }
}
