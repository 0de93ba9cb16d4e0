//! The login plan: everything a sign-in will do, readable and editable by a person before the
//! browser opens (ARCHITECTURE.md, Protocol rules: scopes, client).

use crate::error::{Error, Result};
use crate::oauth::quirks::{self, RefreshTokens};
use crate::protocol::discovery::{Discovery, PrmSource};
use crate::protocol::urls;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Where a scope in the plan came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ScopeSource {
    /// The `scope` of the server's 401 challenge.
    Challenge,
    /// `scopes_supported` of the server's protected resource metadata.
    ResourceMetadata,
    /// Added because the sign-in server offers refresh tokens through it.
    OfflineAccess,
    /// Picked by the person from the sign-in server's catalogue.
    Catalogue,
    /// Typed by the person.
    User,
}

impl ScopeSource {
    pub fn describe(self) -> &'static str {
        match self {
            ScopeSource::Challenge => "asked for by the server when it refused access",
            ScopeSource::ResourceMetadata => "listed by the server's own metadata",
            ScopeSource::OfflineAccess => {
                "lets Latchkey renew the session without asking you again"
            }
            ScopeSource::Catalogue => "added by you from the sign-in server's list",
            ScopeSource::User => "added by you",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    Administrative,
    Template,
    Wildcard,
    /// The scope is the address of an API on another site than the MCP server's (such as
    /// `https://graph.microsoft.com/.default` for a server elsewhere): the token would open it.
    OtherSite,
}

/// Why a scope deserves a second look before it is requested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ScopeFlag {
    pub kind: FlagKind,
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PlannedScope {
    pub name: String,
    pub source: ScopeSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub flag: Option<ScopeFlag>,
}

/// A scope the sign-in server lists: available to add, never requested by default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CatalogueScope {
    pub name: String,
    pub requested: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub flag: Option<ScopeFlag>,
}

/// What the recommended scopes were based on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ScopeBasis {
    Challenge,
    ResourceMetadata,
    /// Nothing said which scopes to ask for: none are sent and the sign-in server's default applies.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuthMethod {
    None,
    ClientSecretBasic,
    ClientSecretPost,
}

impl TokenAuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenAuthMethod::None => "none",
            TokenAuthMethod::ClientSecretBasic => "client_secret_basic",
            TokenAuthMethod::ClientSecretPost => "client_secret_post",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(TokenAuthMethod::None),
            "client_secret_basic" => Some(TokenAuthMethod::ClientSecretBasic),
            "client_secret_post" => Some(TokenAuthMethod::ClientSecretPost),
            _ => None,
        }
    }
}

/// How the app will identify itself to the sign-in server (ARCHITECTURE.md, Protocol rules: client).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum ClientChoice {
    PreRegistered {
        client_id: String,
        auth_method: TokenAuthMethod,
        has_secret: bool,
    },
    MetadataDocument {
        client_id: String,
    },
    Dynamic {
        registration_endpoint: String,
    },
    /// No way to register automatically: the person must register a client.
    Missing,
}

/// A client the person registered themselves, as given on the command line or in the app.
#[derive(Debug, Clone, Default)]
pub struct ClientConfig {
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub auth_method: Option<TokenAuthMethod>,
    pub callback_port: Option<u16>,
    pub client_metadata_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Endpoints {
    pub authorization: String,
    pub token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub registration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub revocation: Option<String>,
    /// The device authorization endpoint (RFC 8628 section 3.1), when the sign-in server
    /// offers sign-in with a code entered on another device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub device_authorization: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Sign-in cannot start until this is fixed.
    Blocking,
    /// Sign-in may fail; the person should know.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PlanProblem {
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub scope: Option<String>,
    pub message: String,
}

/// How the plan knows that the sign-in server accepts PKCE with S256 (RFC 7636 section 4.2;
/// MCP authorization, "Authorization Code Protection"; ARCHITECTURE.md, Protocol rules: PKCE).
/// Whatever the basis, the sign-in uses S256, never `plain`; an AS whose metadata lists
/// methods without S256 is refused before a plan is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "basis", rename_all = "snake_case")]
pub enum PkceS256 {
    /// Its metadata lists S256 in `code_challenge_methods_supported`.
    Advertised,
    /// Its metadata has no `code_challenge_methods_supported`, but it is a provider known to
    /// accept S256 (the table in `oauth::quirks`): assumed, with a note in the plan.
    KnownIssuer { provider: String },
    /// Its metadata has no `code_challenge_methods_supported`, and the person chose to assume
    /// S256 at this sign-in server (remembered in the state folder until they forget it).
    ChosenByYou,
    /// Its metadata has no `code_challenge_methods_supported`: the sign-in waits until the
    /// person confirms that S256 may be assumed at this sign-in server.
    NeedsConfirmation,
}

/// A parameter the sign-in page's address carries beyond OAuth's own, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExtraParam {
    pub name: String,
    pub value: String,
    /// Why it is sent, with the specification or the provider's documented behaviour.
    pub why: String,
    /// Sent only when no refresh token from this sign-in server is stored for the server.
    pub only_without_refresh_token: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SignInPlan {
    pub server_url: String,
    pub resource: String,
    pub issuer: String,
    pub endpoints: Endpoints,
    pub client: ClientChoice,
    /// A fixed loopback port, or None for any free port chosen at sign-in.
    pub callback_port: Option<u16>,
    pub scopes: Vec<PlannedScope>,
    pub recommended: Vec<PlannedScope>,
    pub scope_basis: ScopeBasis,
    pub catalogue: Vec<CatalogueScope>,
    pub problems: Vec<PlanProblem>,
    /// Why S256 is used with this sign-in server.
    pub pkce: PkceS256,
    /// Extra parameters of the sign-in page's address (`prompt`, `access_type`), recomputed
    /// whenever the scopes change.
    pub extra_params: Vec<ExtraParam>,
    /// What discovery found, in full (the UI shows it in words through `discovered`).
    #[ts(skip)]
    pub discovery: Discovery,
}

pub const CALLBACK_PATH: &str = "/callback";

/// The redirect URI for a port (RFC 8252 §7.3: the loopback IP literal, not `localhost`).
pub fn redirect_uri(port: u16) -> String {
    format!("http://127.0.0.1:{port}{CALLBACK_PATH}")
}

/// The hosts a sign-in involves, as the wizard shows them before the browser opens (a link
/// from any web page can start one, and the MCP server picks the sign-in server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PlanSites {
    /// The MCP server's host (with its port, if any).
    pub server_host: String,
    /// The sign-in server's host, as the browser's address bar will show it.
    pub sign_in_host: String,
    /// Who the token is for: the resource indicator sent (RFC 8707).
    pub audience: String,
    /// The two hosts belong to different sites ([`urls::registrable_site`]: eTLD+1 by the
    /// Public Suffix List): the MCP server sends you to a sign-in server of someone else.
    pub cross_site: bool,
    /// The sentence that says so, when `cross_site`.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// Why a scope deserves a flag given the MCP server it is for: one naming another site's API
/// (a URL scope on another site), else [`flag_for`].
pub fn flag_for_server(scope: &str, server_url: &str) -> Option<ScopeFlag> {
    if let Some(host) = other_site_of_scope(scope, server_url) {
        return Some(ScopeFlag {
            kind: FlagKind::OtherSite,
            explanation: format!(
                "Names an API at {host}, not this MCP server: the token would open that API too. Remove it unless you know this server needs it."
            ),
        });
    }
    flag_for(scope)
}

/// The host a URL-shaped scope names, when it is on another site than the server.
fn other_site_of_scope(scope: &str, server_url: &str) -> Option<String> {
    let parsed = url::Url::parse(scope).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let host = parsed.host_str()?.to_string();
    let server = url::Url::parse(server_url).ok()?;
    (!urls::same_site(&parsed, &server)).then_some(host)
}

/// Why a scope name deserves a flag, if it does.
pub fn flag_for(scope: &str) -> Option<ScopeFlag> {
    let lower = scope.to_ascii_lowercase();
    if lower == "sudo" {
        return Some(ScopeFlag {
            kind: FlagKind::Administrative,
            explanation: "Lets an app act as any user. Only administrators can be granted it, so asking for it makes sign-in fail for everyone else, and the server did not ask for it.".into(),
        });
    }
    if lower.contains("admin") {
        return Some(ScopeFlag {
            kind: FlagKind::Administrative,
            explanation: "Administrative access. Most accounts cannot be granted it, and asking for it can make the whole sign-in fail.".into(),
        });
    }
    if lower.ends_with(":*") || lower.contains('<') || lower.contains('{') {
        return Some(ScopeFlag {
            kind: FlagKind::Template,
            explanation: format!("A template for scopes like {}<id>, not a scope that can be granted as written; sign-in servers refuse it when asked for literally.", template_prefix(scope)),
        });
    }
    if lower.contains('*') {
        return Some(ScopeFlag {
            kind: FlagKind::Wildcard,
            explanation:
                "A wildcard that covers many permissions at once, far more than one server needs."
                    .into(),
        });
    }
    None
}

/// The fixed start of a template scope: `user:` for `user:*`, `repo:` for `repo:{id}`.
/// Cut at a character (never inside one): a server's catalogue may hold any text.
fn template_prefix(scope: &str) -> &str {
    let end = scope.find(['<', '{']).unwrap_or(scope.len());
    scope[..end].trim_end_matches('*')
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
pub fn check_scope_syntax(scope: &str) -> std::result::Result<(), String> {
    if scope.is_empty() {
        return Err("a scope cannot be empty".into());
    }
    if let Some(c) = scope
        .chars()
        .find(|&c| !matches!(c as u32, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
    {
        return Err(format!(
            "{scope:?} contains {c:?}, which a scope cannot contain (spaces separate scopes; quotes and backslashes are not allowed)"
        ));
    }
    Ok(())
}

pub fn make_plan(discovery: Discovery, client: &ClientConfig) -> SignInPlan {
    let meta = &discovery.as_metadata;
    let challenge_scopes = discovery
        .challenge
        .as_ref()
        .map(|c| c.scopes())
        .unwrap_or_default();
    let prm_scopes = discovery
        .prm
        .as_ref()
        .and_then(|p| p.scopes_supported.clone())
        .unwrap_or_default();
    let (basis, base): (ScopeBasis, Vec<(String, ScopeSource)>) = if !challenge_scopes.is_empty() {
        (
            ScopeBasis::Challenge,
            challenge_scopes
                .into_iter()
                .map(|s| (s, ScopeSource::Challenge))
                .collect(),
        )
    } else if !prm_scopes.is_empty() {
        (
            ScopeBasis::ResourceMetadata,
            prm_scopes
                .into_iter()
                .map(|s| (s, ScopeSource::ResourceMetadata))
                .collect(),
        )
    } else {
        (ScopeBasis::None, Vec::new())
    };
    let mut recommended: Vec<PlannedScope> = Vec::new();
    for (name, source) in base {
        if check_scope_syntax(&name).is_ok() && !recommended.iter().any(|s| s.name == name) {
            recommended.push(PlannedScope {
                flag: flag_for(&name),
                name,
                source,
            });
        }
    }
    // Refresh tokens come through offline_access only where the AS lists it; with no scope
    // at all we keep sending none so the AS's default applies.
    if !recommended.is_empty()
        && meta.lists_scope("offline_access")
        && !recommended.iter().any(|s| s.name == "offline_access")
    {
        recommended.push(PlannedScope {
            name: "offline_access".into(),
            source: ScopeSource::OfflineAccess,
            flag: None,
        });
    }

    let client_choice = choose_client(&discovery, client);
    let mut plan = SignInPlan {
        server_url: discovery.server_url.clone(),
        resource: discovery.resource.clone(),
        issuer: discovery.issuer.clone(),
        endpoints: Endpoints {
            authorization: meta.authorization_endpoint.clone(),
            token: meta.token_endpoint.clone(),
            registration: meta.registration_endpoint.clone(),
            revocation: meta.revocation_endpoint.clone(),
            device_authorization: meta.device_authorization_endpoint.clone(),
        },
        client: client_choice,
        callback_port: client.callback_port,
        scopes: recommended.clone(),
        recommended,
        scope_basis: basis,
        catalogue: Vec::new(),
        problems: Vec::new(),
        pkce: pkce_basis(&discovery),
        extra_params: Vec::new(),
        discovery,
    };
    if let Some(u) = &client.client_metadata_url {
        let valid = crate::protocol::urls::parse_http_url(u)
            .ok()
            .filter(|url| url.scheme() == "https" || crate::protocol::urls::is_loopback(url))
            .is_some_and(|url| crate::protocol::urls::has_path(&url));
        if !valid {
            plan.client = choose_client(
                &plan.discovery,
                &ClientConfig {
                    client_metadata_url: None,
                    ..client.clone()
                },
            );
            plan.problems.push(PlanProblem {
                severity: Severity::Blocking,
                scope: None,
                message: format!("The client metadata URL {u:?} must be an https address with a path, such as https://example.com/latchkey/client.json."),
            });
        }
    }
    if client.client_metadata_url.is_some()
        && plan.problems.is_empty()
        && !matches!(
            plan.client,
            ClientChoice::MetadataDocument { .. } | ClientChoice::PreRegistered { .. }
        )
    {
        plan.problems.push(PlanProblem {
            severity: Severity::Warning,
            scope: None,
            message: "The sign-in server does not accept client metadata documents, so the client metadata URL is not used.".into(),
        });
    }
    plan.revalidate();
    plan
}

/// S256 as the metadata states it, else as the table of known providers assumes it, else
/// waiting for the person.
fn pkce_basis(d: &Discovery) -> PkceS256 {
    if d.as_metadata.supports_s256() {
        return PkceS256::Advertised;
    }
    match quirks::for_issuer(&d.issuer) {
        Some(q) if q.unadvertised_pkce_s256 => PkceS256::KnownIssuer {
            provider: q.provider.to_string(),
        },
        _ => PkceS256::NeedsConfirmation,
    }
}

/// Every message about PKCE starts so, so [`SignInPlan::revalidate`] can recompute them.
const PKCE_PROBLEM: &str = "PKCE: ";

fn choose_client(d: &Discovery, client: &ClientConfig) -> ClientChoice {
    let meta = &d.as_metadata;
    if let Some(id) = &client.client_id {
        let has_secret = client.client_secret.is_some();
        let auth_method = client.auth_method.unwrap_or(if !has_secret {
            TokenAuthMethod::None
        } else if !meta.supports_auth_method("client_secret_basic")
            && meta.supports_auth_method("client_secret_post")
        {
            TokenAuthMethod::ClientSecretPost
        } else {
            TokenAuthMethod::ClientSecretBasic
        });
        return ClientChoice::PreRegistered {
            client_id: id.clone(),
            auth_method,
            has_secret,
        };
    }
    if let Some(url) = &client.client_metadata_url {
        if meta.client_id_metadata_document_supported == Some(true) {
            return ClientChoice::MetadataDocument {
                client_id: url.clone(),
            };
        }
    }
    match &meta.registration_endpoint {
        Some(r) => ClientChoice::Dynamic {
            registration_endpoint: r.clone(),
        },
        None => ClientChoice::Missing,
    }
}

impl SignInPlan {
    /// The hosts this sign-in involves and whether they are of different sites.
    pub fn sites(&self) -> PlanSites {
        let host = |u: &str| {
            url::Url::parse(u)
                .ok()
                .and_then(|u| {
                    u.host_str().map(|h| {
                        format!(
                            "{h}{}",
                            u.port().map(|p| format!(":{p}")).unwrap_or_default()
                        )
                    })
                })
                .unwrap_or_else(|| u.to_string())
        };
        let (server_host, sign_in_host) = (host(&self.server_url), host(&self.issuer));
        let cross_site = match (
            url::Url::parse(&self.server_url),
            url::Url::parse(&self.issuer),
        ) {
            (Ok(a), Ok(b)) => !urls::same_site(&a, &b),
            _ => true,
        };
        let warning = cross_site.then(|| {
            format!(
                "{server_host} sends you to sign in at {sign_in_host}, a different site. That is normal when the server uses a sign-in service (Microsoft, Google, Okta, Auth0…); if you do not recognise {sign_in_host}, do not sign in."
            )
        });
        PlanSites {
            server_host,
            sign_in_host,
            audience: self.resource.clone(),
            cross_site,
            warning,
        }
    }

    pub fn scope_names(&self) -> Vec<String> {
        self.scopes.iter().map(|s| s.name.clone()).collect()
    }

    /// The `scope` parameter, or None to send no scope at all.
    pub fn scope_param(&self) -> Option<String> {
        if self.scopes.is_empty() {
            None
        } else {
            Some(self.scope_names().join(" "))
        }
    }

    pub fn add_scope(&mut self, name: &str) -> Result<()> {
        check_scope_syntax(name).map_err(|problems| Error::InvalidPlan { problems })?;
        if !self.scopes.iter().any(|s| s.name == name) {
            let source = self
                .recommended
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.source)
                .unwrap_or(if self.catalogue.iter().any(|c| c.name == name) {
                    ScopeSource::Catalogue
                } else {
                    ScopeSource::User
                });
            self.scopes.push(PlannedScope {
                name: name.to_string(),
                source,
                flag: flag_for_server(name, &self.server_url),
            });
        }
        self.revalidate();
        Ok(())
    }

    pub fn remove_scope(&mut self, name: &str) -> bool {
        let before = self.scopes.len();
        self.scopes.retain(|s| s.name != name);
        self.revalidate();
        before != self.scopes.len()
    }

    pub fn reset_scopes(&mut self) {
        self.scopes = self.recommended.clone();
        self.revalidate();
    }

    /// Replaces every scope (e.g. `--scope` on the command line).
    pub fn set_scopes<I: IntoIterator<Item = String>>(&mut self, names: I) -> Result<()> {
        self.scopes.clear();
        for n in names {
            self.add_scope(&n)?;
        }
        self.revalidate();
        Ok(())
    }

    /// Recomputes the catalogue's marks and the problems after any change.
    pub fn revalidate(&mut self) {
        let catalogue_names = self
            .discovery
            .as_metadata
            .scopes_supported
            .clone()
            .unwrap_or_default();
        self.catalogue = catalogue_names
            .iter()
            .map(|n| CatalogueScope {
                name: n.clone(),
                requested: self.scopes.iter().any(|s| &s.name == n),
                flag: flag_for_server(n, &self.server_url),
            })
            .collect();
        for s in self.scopes.iter_mut().chain(self.recommended.iter_mut()) {
            s.flag = flag_for_server(&s.name, &self.server_url);
        }
        // Problems about the client stay; scope problems and "No client" are recomputed.
        self.problems.retain(|p| {
            p.scope.is_none()
                && !p.message.starts_with("No client")
                && !p.message.starts_with(PKCE_PROBLEM)
        });
        self.problems.extend(self.pkce_problem());
        self.extra_params = self.compute_extra_params();
        for s in &self.scopes {
            if let Err(message) = check_scope_syntax(&s.name) {
                self.problems.push(PlanProblem {
                    severity: Severity::Blocking,
                    scope: Some(s.name.clone()),
                    message,
                });
            }
            if let Some(f) = &s.flag {
                self.problems.push(PlanProblem {
                    severity: Severity::Warning,
                    scope: Some(s.name.clone()),
                    message: format!("{}: {}", s.name, f.explanation),
                });
            }
            if !catalogue_names.is_empty()
                && !catalogue_names.contains(&s.name)
                && s.source != ScopeSource::Challenge
                && s.source != ScopeSource::ResourceMetadata
            {
                self.problems.push(PlanProblem {
                    severity: Severity::Warning,
                    scope: Some(s.name.clone()),
                    message: format!(
                        "{}: the sign-in server does not list this scope and may refuse it.",
                        s.name
                    ),
                });
            }
        }
        if self.client == ClientChoice::Missing {
            self.problems.push(PlanProblem {
                severity: Severity::Blocking,
                scope: None,
                message: format!(
                    "No client: {} does not let apps register themselves. Register one there with the redirect URI {} and give its client id.",
                    self.issuer,
                    self.callback_port
                        .map(redirect_uri)
                        .unwrap_or_else(|| "http://127.0.0.1:<port>/callback".into())
                ),
            });
        }
    }

    /// Records the person's choice to assume S256 at this sign-in server, when its metadata
    /// does not say; a plan whose PKCE basis is already known is left as it is.
    ///
    /// Errors: [`Error::PkceUnsupported`] when the metadata lists methods without S256
    /// (only `plain`, say): such a server stays refused, whatever the person chooses.
    pub fn assume_pkce_s256(&mut self) -> Result<()> {
        let meta = &self.discovery.as_metadata;
        if let Some(methods) = meta
            .code_challenge_methods_supported
            .as_ref()
            .filter(|m| !m.is_empty() && !meta.supports_s256())
        {
            return Err(Error::PkceUnsupported {
                issuer: self.issuer.clone(),
                advertised: methods.join(", "),
            });
        }
        if self.pkce == PkceS256::NeedsConfirmation {
            self.pkce = PkceS256::ChosenByYou;
            self.revalidate();
        }
        Ok(())
    }

    fn pkce_problem(&self) -> Option<PlanProblem> {
        let (severity, message) = match &self.pkce {
            PkceS256::Advertised => return None,
            PkceS256::KnownIssuer { provider } => (Severity::Warning, format!(
                "{PKCE_PROBLEM}{} is {provider}, whose metadata does not list code_challenge_methods_supported although it accepts PKCE with S256; Latchkey assumes S256 (never plain).",
                self.issuer
            )),
            PkceS256::ChosenByYou => (Severity::Warning, format!(
                "{PKCE_PROBLEM}{} does not list code_challenge_methods_supported; S256 is assumed because you chose so for this sign-in server (undo with: latchkey assumed-pkce --forget {}).",
                self.issuer, self.issuer
            )),
            PkceS256::NeedsConfirmation => (Severity::Blocking, format!(
                "{PKCE_PROBLEM}{} does not publish code_challenge_methods_supported, so nothing says it accepts PKCE with S256, which MCP requires. If you trust that it does (most OpenID providers do), confirm to assume S256 at this sign-in server (on the command line: --assume-pkce-s256); Latchkey remembers the choice for it.",
                self.issuer
            )),
        };
        Some(PlanProblem {
            severity,
            scope: None,
            message,
        })
    }

    /// The extra parameters of the sign-in page for the scopes now chosen: `prompt=consent`
    /// with `offline_access` (OpenID Connect Core 1.0 section 11), or what the issuer's entry
    /// in the quirk table says instead.
    fn compute_extra_params(&self) -> Vec<ExtraParam> {
        let q = quirks::for_issuer(&self.issuer);
        let refresh = q
            .map(|q| q.refresh_tokens)
            .unwrap_or(RefreshTokens::OfflineAccessWithConsent);
        let param = |name: &str, value: &str, why: String, only_without_refresh_token| ExtraParam {
            name: name.into(),
            value: value.into(),
            why,
            only_without_refresh_token,
        };
        match (refresh, q) {
            (RefreshTokens::OfflineAccessWithConsent, _)
                if self.scopes.iter().any(|s| s.name == "offline_access") =>
            {
                vec![param(
                    "prompt",
                    "consent",
                    "offline_access is asked for, and an OpenID provider issues a refresh token for it only after the consent prompt (OpenID Connect Core 1.0, section 11).".into(),
                    false,
                )]
            }
            (RefreshTokens::AccessTypeOffline, Some(q)) => vec![
                param(
                    "access_type",
                    "offline",
                    format!("{} issues a refresh token only with access_type=offline ({}).", q.provider, q.source),
                    false,
                ),
                param(
                    "prompt",
                    "consent",
                    format!("{} issues a refresh token again only after the consent prompt; sent when no refresh token from it is stored.", q.provider),
                    true,
                ),
            ],
            _ => Vec::new(),
        }
    }

    pub fn blocking_problems(&self) -> Vec<&PlanProblem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Blocking)
            .collect()
    }

    /// Where the scopes came from, in a sentence.
    pub fn scope_basis_words(&self) -> String {
        match self.scope_basis {
            ScopeBasis::Challenge => "The server said which scopes it needs when it refused access.".into(),
            ScopeBasis::ResourceMetadata => {
                let via = match self.discovery.prm_source {
                    Some(PrmSource::Challenge) => "the metadata its challenge pointed to",
                    _ => "its well-known metadata",
                };
                format!("The server lists the scopes it needs in {via}.")
            }
            ScopeBasis::None => "Neither the server nor its metadata names any scopes, so none are sent and the sign-in server's default applies.".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::discovery::AsSource;
    use crate::protocol::metadata::{AuthServerMetadata, ProtectedResourceMetadata};
    use crate::protocol::www_authenticate::BearerChallenge;

    const GITLAB: &[&str] = &[
        "api",
        "read_api",
        "read_user",
        "create_runner",
        "manage_runner",
        "k8s_proxy",
        "self_rotate",
        "mcp",
        "read_repository",
        "write_repository",
        "read_virtual_registry",
        "write_virtual_registry",
        "read_observability",
        "write_observability",
        "ai_features",
        "sudo",
        "admin_mode",
        "read_service_ping",
        "openid",
        "profile",
        "email",
        "ai_workflows",
        "user:*",
    ];

    fn discovery(
        challenge_scope: Option<&str>,
        prm_scopes: Option<&[&str]>,
        catalogue: &[&str],
    ) -> Discovery {
        let mut meta = AuthServerMetadata::legacy_defaults(
            &url::Url::parse("https://gitlab.example.com").unwrap(),
        );
        meta.scopes_supported = Some(catalogue.iter().map(|s| s.to_string()).collect());
        Discovery {
            server_url: "https://gitlab.example.com/api/v4/mcp".into(),
            resource: "https://gitlab.example.com/api/v4/mcp".into(),
            probe_status: 401,
            challenge: Some(BearerChallenge {
                scope: challenge_scope.map(str::to_string),
                ..Default::default()
            }),
            prm: Some(ProtectedResourceMetadata {
                resource: "https://gitlab.example.com/api/v4/mcp".into(),
                authorization_servers: vec!["https://gitlab.example.com".into()],
                scopes_supported: prm_scopes.map(|s| s.iter().map(|x| x.to_string()).collect()),
                resource_name: None,
                resource_documentation: None,
            }),
            prm_url: None,
            prm_source: Some(PrmSource::PathWellKnown),
            issuer: "https://gitlab.example.com".into(),
            as_source: AsSource::ResourceMetadata,
            as_metadata: meta,
            as_metadata_url: None,
            steps: vec![],
        }
    }

    #[test]
    fn the_plan_names_both_hosts_the_audience_and_a_cross_site_sign_in() {
        let plan = make_plan(
            discovery(None, Some(&["mcp"]), &[]),
            &ClientConfig::default(),
        );
        let sites = plan.sites();
        assert_eq!(sites.server_host, "gitlab.example.com");
        assert_eq!(sites.sign_in_host, "gitlab.example.com");
        assert_eq!(sites.audience, "https://gitlab.example.com/api/v4/mcp");
        assert!(!sites.cross_site && sites.warning.is_none());

        let mut d = discovery(
            None,
            Some(&["mcp", "https://graph.microsoft.com/.default"]),
            &[],
        );
        d.issuer = "https://login.evil.test/tenant".into();
        let plan = make_plan(d, &ClientConfig::default());
        let sites = plan.sites();
        assert_eq!(sites.sign_in_host, "login.evil.test");
        assert!(sites.cross_site);
        assert!(sites.warning.unwrap().contains("login.evil.test"));
        let graph = plan
            .scopes
            .iter()
            .find(|s| s.name.starts_with("https://graph"))
            .unwrap();
        assert_eq!(graph.flag.as_ref().unwrap().kind, FlagKind::OtherSite);
    }

    #[test]
    fn gitlab_asks_for_exactly_mcp_and_flags_the_catalogue() {
        let plan = make_plan(
            discovery(None, Some(&["mcp"]), GITLAB),
            &ClientConfig::default(),
        );
        assert_eq!(plan.scope_param().as_deref(), Some("mcp"));
        assert_eq!(plan.scope_basis, ScopeBasis::ResourceMetadata);
        assert_eq!(plan.catalogue.len(), 23);
        let flagged: Vec<_> = plan
            .catalogue
            .iter()
            .filter(|c| c.flag.is_some())
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(flagged, ["sudo", "admin_mode", "user:*"]);
        assert!(
            plan.catalogue
                .iter()
                .find(|c| c.name == "mcp")
                .unwrap()
                .requested
        );
        assert!(plan.problems.is_empty(), "{:?}", plan.problems);
        assert!(matches!(plan.client, ClientChoice::Dynamic { .. }));
    }

    #[test]
    fn challenge_scope_wins_over_metadata() {
        let plan = make_plan(
            discovery(Some("mcp:read mcp:write"), Some(&["mcp"]), &[]),
            &ClientConfig::default(),
        );
        assert_eq!(plan.scope_param().as_deref(), Some("mcp:read mcp:write"));
        assert!(plan
            .scopes
            .iter()
            .all(|s| s.source == ScopeSource::Challenge));
    }

    #[test]
    fn no_scope_anywhere_sends_none_even_with_a_catalogue() {
        let plan = make_plan(
            discovery(None, None, &["openid", "offline_access", "admin"]),
            &ClientConfig::default(),
        );
        assert_eq!(plan.scope_param(), None);
        assert_eq!(plan.scope_basis, ScopeBasis::None);
    }

    #[test]
    fn offline_access_only_where_listed() {
        let with = make_plan(
            discovery(None, Some(&["mcp"]), &["mcp", "offline_access"]),
            &ClientConfig::default(),
        );
        assert_eq!(with.scope_param().as_deref(), Some("mcp offline_access"));
        assert_eq!(with.scopes[1].source, ScopeSource::OfflineAccess);
        let without = make_plan(
            discovery(None, Some(&["mcp"]), GITLAB),
            &ClientConfig::default(),
        );
        assert!(!without
            .scope_names()
            .contains(&"offline_access".to_string()));
    }

    #[test]
    fn editing_adds_removes_resets_and_revalidates() {
        let mut plan = make_plan(
            discovery(None, Some(&["mcp"]), GITLAB),
            &ClientConfig::default(),
        );
        plan.add_scope("sudo").unwrap();
        assert_eq!(plan.scopes.last().unwrap().source, ScopeSource::Catalogue);
        assert!(
            plan.catalogue
                .iter()
                .find(|c| c.name == "sudo")
                .unwrap()
                .requested
        );
        assert!(plan
            .problems
            .iter()
            .any(|p| p.scope.as_deref() == Some("sudo")));
        plan.add_scope("custom:thing").unwrap();
        assert_eq!(plan.scopes.last().unwrap().source, ScopeSource::User);
        assert!(plan
            .problems
            .iter()
            .any(|p| p.message.contains("does not list")));
        assert!(plan.add_scope("two words").is_err());
        assert!(plan.add_scope("quote\"d").is_err());
        assert!(plan.remove_scope("mcp"));
        assert!(!plan.remove_scope("mcp"));
        plan.reset_scopes();
        assert_eq!(plan.scope_param().as_deref(), Some("mcp"));
        assert!(plan.problems.is_empty());
        plan.set_scopes(["read_api".to_string(), "mcp".to_string()])
            .unwrap();
        assert_eq!(plan.scopes[1].source, ScopeSource::ResourceMetadata);
        assert!(plan.blocking_problems().is_empty());
    }

    #[test]
    fn flags() {
        assert_eq!(flag_for("sudo").unwrap().kind, FlagKind::Administrative);
        assert_eq!(
            flag_for("admin_mode").unwrap().kind,
            FlagKind::Administrative
        );
        assert_eq!(
            flag_for("Directory.ReadWrite.Admin").unwrap().kind,
            FlagKind::Administrative
        );
        assert_eq!(flag_for("user:*").unwrap().kind, FlagKind::Template);
        assert!(flag_for("user:*")
            .unwrap()
            .explanation
            .contains("user:<id>"));
        assert_eq!(flag_for("repo*").unwrap().kind, FlagKind::Wildcard);
        assert!(flag_for("mcp").is_none());
        assert!(flag_for("read_user").is_none());
    }

    #[test]
    fn non_ascii_scopes_in_a_catalogue_are_planned_without_a_panic() {
        let odd = [
            "ünïcode:read",
            "日本語",
            "{日本語",
            "日本語<é",
            "ünï:*",
            "é*",
            "🔑",
            "🔑:*",
            "<🔑>",
            "admin🔑",
            "ß",
        ];
        for s in odd {
            let _ = flag_for(s);
            let _ = check_scope_syntax(s);
        }
        assert!(flag_for("ünï:*").unwrap().explanation.contains("ünï:<id>"));
        assert!(flag_for("{日本語").unwrap().explanation.contains(" <id>,"));
        let plan = make_plan(
            discovery(Some("🔑 mcp"), Some(&["日本語"]), &odd),
            &ClientConfig::default(),
        );
        assert_eq!(plan.catalogue.len(), odd.len());
        assert!(!plan.blocking_problems().is_empty() || plan.scope_param().is_some());
    }

    #[test]
    fn a_scope_naming_another_sites_api_is_flagged() {
        let f = flag_for_server(
            "https://graph.microsoft.com/.default",
            "https://mcp.example.com/mcp",
        )
        .unwrap();
        assert_eq!(f.kind, FlagKind::OtherSite);
        assert!(f.explanation.contains("graph.microsoft.com"));
        assert!(flag_for_server(
            "https://api.example.com/read",
            "https://mcp.example.com/mcp"
        )
        .is_none());
        assert!(flag_for_server("api://1234/.default", "https://mcp.example.com/mcp").is_none());
        assert_eq!(
            flag_for_server("admin", "https://mcp.example.com/mcp")
                .unwrap()
                .kind,
            FlagKind::Administrative
        );
    }

    #[test]
    fn client_choice_order() {
        let d = discovery(None, Some(&["mcp"]), GITLAB);
        let pre = make_plan(
            d.clone(),
            &ClientConfig {
                client_id: Some("abc".into()),
                callback_port: Some(8765),
                ..Default::default()
            },
        );
        assert_eq!(
            pre.client,
            ClientChoice::PreRegistered {
                client_id: "abc".into(),
                auth_method: TokenAuthMethod::None,
                has_secret: false
            }
        );
        let with_secret = make_plan(
            d.clone(),
            &ClientConfig {
                client_id: Some("abc".into()),
                client_secret: Some(Secret::new("s")),
                ..Default::default()
            },
        );
        assert!(matches!(
            with_secret.client,
            ClientChoice::PreRegistered {
                auth_method: TokenAuthMethod::ClientSecretBasic,
                has_secret: true,
                ..
            }
        ));
        let cimd_unsupported = make_plan(
            d.clone(),
            &ClientConfig {
                client_metadata_url: Some("https://app.example/client.json".into()),
                ..Default::default()
            },
        );
        assert!(matches!(
            cimd_unsupported.client,
            ClientChoice::Dynamic { .. }
        ));
        assert!(cimd_unsupported
            .problems
            .iter()
            .any(|p| p.message.contains("metadata documents")));
        let mut d2 = d.clone();
        d2.as_metadata.client_id_metadata_document_supported = Some(true);
        let cimd = make_plan(
            d2,
            &ClientConfig {
                client_metadata_url: Some("https://app.example/client.json".into()),
                ..Default::default()
            },
        );
        assert_eq!(
            cimd.client,
            ClientChoice::MetadataDocument {
                client_id: "https://app.example/client.json".into()
            }
        );
        let mut d3 = d;
        d3.as_metadata.registration_endpoint = None;
        let missing = make_plan(d3, &ClientConfig::default());
        assert_eq!(missing.client, ClientChoice::Missing);
        assert_eq!(missing.blocking_problems().len(), 1);
    }

    /// Discovery of an AS at `issuer` whose metadata has no code_challenge_methods_supported.
    fn without_pkce_field(issuer: &str) -> Discovery {
        let mut d = discovery(None, Some(&["mcp"]), &[]);
        d.issuer = issuer.into();
        d.as_metadata.issuer = issuer.into();
        d.as_metadata.code_challenge_methods_supported = None;
        d
    }

    #[test]
    fn pkce_is_advertised_or_assumed_for_known_providers_or_waits_for_the_person() {
        let plan = make_plan(
            discovery(None, Some(&["mcp"]), GITLAB),
            &ClientConfig::default(),
        );
        assert_eq!(plan.pkce, PkceS256::Advertised);
        assert!(plan.problems.iter().all(|p| !p.message.starts_with("PKCE")));

        for (issuer, provider) in [
            (
                "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
                "Microsoft Entra ID",
            ),
            (
                "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
                "Microsoft Entra ID",
            ),
            (
                "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123",
                "Amazon Cognito",
            ),
        ] {
            let plan = make_plan(without_pkce_field(issuer), &ClientConfig::default());
            assert_eq!(
                plan.pkce,
                PkceS256::KnownIssuer {
                    provider: provider.into()
                },
                "{issuer}"
            );
            assert!(plan.blocking_problems().is_empty(), "{:?}", plan.problems);
            let note = plan
                .problems
                .iter()
                .find(|p| p.message.starts_with("PKCE"))
                .expect("a visible note");
            assert_eq!(note.severity, Severity::Warning);
            assert!(
                note.message.contains(provider)
                    && note.message.contains("code_challenge_methods_supported"),
                "{}",
                note.message
            );
        }

        let mut plan = make_plan(
            without_pkce_field("https://idp.example.com/realms/acme"),
            &ClientConfig::default(),
        );
        assert_eq!(plan.pkce, PkceS256::NeedsConfirmation);
        let blocking = plan.blocking_problems();
        assert_eq!(blocking.len(), 1, "{:?}", plan.problems);
        assert!(
            blocking[0]
                .message
                .contains("code_challenge_methods_supported")
                && blocking[0].message.contains("--assume-pkce-s256"),
            "{}",
            blocking[0].message
        );
        // Editing the scopes keeps the problem; the person's choice lifts it.
        plan.add_scope("mcp:read").unwrap();
        assert_eq!(plan.blocking_problems().len(), 1);
        plan.assume_pkce_s256().unwrap();
        assert_eq!(plan.pkce, PkceS256::ChosenByYou);
        assert!(plan.blocking_problems().is_empty(), "{:?}", plan.problems);
        assert!(plan
            .problems
            .iter()
            .any(|p| p.message.contains("because you chose so")));
        // An empty list says as little as none.
        let mut d = without_pkce_field("https://idp.example.com");
        d.as_metadata.code_challenge_methods_supported = Some(vec![]);
        assert_eq!(
            make_plan(d, &ClientConfig::default()).pkce,
            PkceS256::NeedsConfirmation
        );
    }

    #[test]
    fn a_server_listing_only_plain_stays_refused_whatever_the_person_chooses() {
        let mut d = without_pkce_field("https://idp.example.com");
        d.as_metadata.code_challenge_methods_supported = Some(vec!["plain".into()]);
        let mut plan = make_plan(d, &ClientConfig::default());
        match plan.assume_pkce_s256() {
            Err(Error::PkceUnsupported { advertised, .. }) => assert_eq!(advertised, "plain"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_ne!(plan.pkce, PkceS256::ChosenByYou);
    }

    fn params(plan: &SignInPlan) -> Vec<(&str, &str, bool)> {
        plan.extra_params
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.value.as_str(),
                    p.only_without_refresh_token,
                )
            })
            .collect()
    }

    #[test]
    fn offline_access_brings_the_consent_prompt_of_openid_connect() {
        let mut plan = make_plan(
            discovery(None, Some(&["mcp"]), &["mcp", "offline_access"]),
            &ClientConfig::default(),
        );
        assert_eq!(params(&plan), [("prompt", "consent", false)]);
        assert!(plan.extra_params[0]
            .why
            .contains("OpenID Connect Core 1.0, section 11"));
        // Recomputed with the scopes.
        plan.remove_scope("offline_access");
        assert!(plan.extra_params.is_empty());
        plan.add_scope("offline_access").unwrap();
        assert_eq!(params(&plan), [("prompt", "consent", false)]);
        let none = make_plan(
            discovery(None, Some(&["mcp"]), GITLAB),
            &ClientConfig::default(),
        );
        assert!(none.extra_params.is_empty());
    }

    #[test]
    fn entra_gets_refresh_tokens_from_offline_access_without_a_consent_prompt() {
        let mut d = without_pkce_field(
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
        );
        d.as_metadata.scopes_supported = Some(vec!["openid".into(), "offline_access".into()]);
        let plan = make_plan(d, &ClientConfig::default());
        assert_eq!(plan.scope_param().as_deref(), Some("mcp offline_access"));
        assert!(plan.extra_params.is_empty(), "{:?}", plan.extra_params);
    }

    #[test]
    fn google_gets_access_type_offline_and_consent_when_no_refresh_token_is_stored() {
        let mut d = discovery(None, Some(&["mcp"]), &["openid", "email"]);
        d.issuer = "https://accounts.google.com".into();
        d.as_metadata.issuer = d.issuer.clone();
        let plan = make_plan(d, &ClientConfig::default());
        assert_eq!(
            params(&plan),
            [
                ("access_type", "offline", false),
                ("prompt", "consent", true)
            ]
        );
        assert!(plan.extra_params[0].why.contains("Google"));
        assert_eq!(plan.pkce, PkceS256::Advertised);
    }

    #[test]
    fn a_client_metadata_url_must_be_https() {
        let mut d = discovery(None, Some(&["mcp"]), GITLAB);
        d.as_metadata.client_id_metadata_document_supported = Some(true);
        let plan = make_plan(
            d,
            &ClientConfig {
                client_metadata_url: Some("http://app.example/client.json".into()),
                ..Default::default()
            },
        );
        assert!(matches!(plan.client, ClientChoice::Dynamic { .. }));
        let mut plan2 = plan.clone();
        plan2.add_scope("read_api").unwrap();
        for p in [&plan, &plan2] {
            assert_eq!(p.blocking_problems().len(), 1, "{:?}", p.problems);
            assert!(p.blocking_problems()[0].message.contains("https"));
        }
    }
}
