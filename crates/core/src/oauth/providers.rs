//! Presets for the identity providers people register apps at when a server's authorization
//! server offers no dynamic client registration (ARCHITECTURE.md, Protocol rules: client):
//! what to fill in, where each value is found in the provider's console, which kind of app to
//! register and the redirect URI to give it, and the issuer the values make.
//!
//! A preset never guesses: the issuer it builds must be the one the server's metadata names,
//! or the sign-in stops and says which two differ.

use crate::error::{Error, Result};
use crate::oauth::plan::{redirect_uri, ClientConfig, SignInPlan};
use crate::protocol::urls;
use crate::secret::Secret;
use serde::Serialize;
use std::collections::BTreeMap;
use ts_rs::TS;

/// The loopback port presets register by default: a fixed port, because these providers
/// compare the redirect URI, port included, with the registered one.
pub const DEFAULT_CALLBACK_PORT: u16 = 33418;

/// A provider with a preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum Provider {
    Entra,
    Okta,
    Auth0,
    Keycloak,
    Google,
}

/// One value the person types, and where they find it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PresetField {
    /// The key on the command line (`--provider-value KEY=VALUE`) and in the wizard.
    pub key: &'static str,
    pub label: &'static str,
    /// Where it is found in the provider's console.
    pub help: &'static str,
    pub example: &'static str,
    /// Used when the person leaves it empty; `None`: required.
    pub default: Option<&'static str>,
}

/// What a preset asks for and says.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Preset {
    pub provider: Provider,
    /// The provider's name as people know it.
    pub name: &'static str,
    /// The values that make the issuer (besides the client id every preset asks for).
    pub fields: Vec<PresetField>,
    /// Which kind of app to register, in the console's words.
    pub register_as: &'static str,
    /// Where the client id is found.
    pub client_id_help: &'static str,
    /// Whether the provider wants the app's client secret at the token endpoint even for a
    /// desktop app (Google).
    pub needs_client_secret: bool,
}

impl Provider {
    pub const ALL: [Provider; 5] = [
        Provider::Entra,
        Provider::Okta,
        Provider::Auth0,
        Provider::Keycloak,
        Provider::Google,
    ];

    /// The provider named `name` (`entra`, `okta`, `auth0`, `keycloak`, `google`; any case).
    pub fn parse(name: &str) -> Option<Provider> {
        let n = name.trim().to_ascii_lowercase();
        Provider::ALL.into_iter().find(|p| p.id() == n)
    }

    /// The name used on the command line.
    pub fn id(self) -> &'static str {
        match self {
            Provider::Entra => "entra",
            Provider::Okta => "okta",
            Provider::Auth0 => "auth0",
            Provider::Keycloak => "keycloak",
            Provider::Google => "google",
        }
    }

    /// What the preset asks for and says (the providers' documented consoles).
    pub fn preset(self) -> Preset {
        let field = |key, label, help, example, default| PresetField {
            key,
            label,
            help,
            example,
            default,
        };
        match self {
            Provider::Entra => Preset {
                provider: self,
                name: "Microsoft Entra ID",
                fields: vec![
                    field(
                        "tenant",
                        "Directory (tenant) ID",
                        "Entra admin center > App registrations > your app > Overview",
                        "72f988bf-86f1-41af-91ab-2d7cd011db47",
                        None,
                    ),
                    field(
                        "authority",
                        "Sign-in address of your cloud",
                        "https://login.microsoftonline.us for US Government, https://login.chinacloudapi.cn for China; else leave it",
                        "https://login.microsoftonline.com",
                        Some("https://login.microsoftonline.com"),
                    ),
                ],
                register_as: "App registrations > New registration, platform \"Mobile and desktop applications\"",
                client_id_help: "Application (client) ID, on the app's Overview page",
                needs_client_secret: false,
            },
            Provider::Okta => Preset {
                provider: self,
                name: "Okta",
                fields: vec![
                    field(
                        "domain",
                        "Okta domain",
                        "Admin console, top right menu under your name",
                        "dev-123456.okta.com",
                        None,
                    ),
                    field(
                        "authorization_server",
                        "Authorization server ID",
                        "Security > API > Authorization Servers (the ID column)",
                        "default",
                        Some("default"),
                    ),
                ],
                register_as: "Applications > Create App Integration, \"OIDC\", type \"Native Application\"",
                client_id_help: "Client ID, on the app's General tab",
                needs_client_secret: false,
            },
            Provider::Auth0 => Preset {
                provider: self,
                name: "Auth0",
                fields: vec![field(
                    "domain",
                    "Auth0 domain",
                    "Applications > your app > Settings > Domain",
                    "example.us.auth0.com",
                    None,
                )],
                register_as: "Applications > Create Application, type \"Native\"",
                client_id_help: "Client ID, on the app's Settings tab",
                needs_client_secret: false,
            },
            Provider::Keycloak => Preset {
                provider: self,
                name: "Keycloak",
                fields: vec![
                    field(
                        "url",
                        "Keycloak address",
                        "The address you open the admin console at, without /admin",
                        "https://sso.example.com",
                        None,
                    ),
                    field(
                        "realm",
                        "Realm",
                        "The realm selector at the top left of the admin console",
                        "engineering",
                        None,
                    ),
                ],
                register_as: "Clients > Create client, \"OpenID Connect\", Client authentication off, PKCE method S256",
                client_id_help: "Client ID, as you named the client",
                needs_client_secret: false,
            },
            Provider::Google => Preset {
                provider: self,
                name: "Google",
                fields: Vec::new(),
                register_as: "Google Cloud console > APIs & Services > Credentials > Create credentials > OAuth client ID, type \"Desktop app\"",
                client_id_help: "Client ID, shown when the client is created (and on the Credentials page)",
                needs_client_secret: true,
            },
        }
    }

    /// The issuer the values make, as the provider's metadata names it.
    fn issuer(self, v: &BTreeMap<String, String>) -> String {
        let get = |k: &str| v.get(k).map(String::as_str).unwrap_or_default();
        match self {
            Provider::Entra => format!(
                "{}/{}/v2.0",
                get("authority").trim_end_matches('/'),
                get("tenant")
            ),
            Provider::Okta => format!(
                "https://{}/oauth2/{}",
                get("domain"),
                get("authorization_server")
            ),
            Provider::Auth0 => format!("https://{}/", get("domain")),
            Provider::Keycloak => format!(
                "{}/realms/{}",
                get("url").trim_end_matches('/'),
                get("realm")
            ),
            Provider::Google => "https://accounts.google.com".into(),
        }
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.preset().name)
    }
}

/// What the person gave for a preset.
#[derive(Debug, Clone)]
pub struct ProviderInput {
    pub provider: Provider,
    /// The preset's fields by key.
    pub values: BTreeMap<String, String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    /// Default: [`DEFAULT_CALLBACK_PORT`].
    pub callback_port: Option<u16>,
}

/// A value that may go into a URL's host or path: letters, digits and `.-_`, a domain or an
/// id, never a path or a query.
fn plain_value(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
}

/// The fields that hold an address rather than a name.
const URL_FIELDS: [&str; 2] = ["url", "authority"];

/// An address a preset may build an issuer on: https (http only to loopback, for local
/// stand-ins), with a host and no query or fragment.
fn address(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| {
        u.host().is_some()
            && u.query().is_none()
            && u.fragment().is_none()
            && u.username().is_empty()
            && (u.scheme() == "https" || (u.scheme() == "http" && urls::is_loopback(&u)))
    })
}

impl ProviderInput {
    /// The client to sign in with, and the issuer it was registered at. Errors
    /// ([`Error::ProviderIncomplete`]): every missing or malformed value, each with where it
    /// is found, and the app to register with its redirect URI.
    pub fn resolve(&self) -> Result<(ClientConfig, String)> {
        let preset = self.provider.preset();
        let port = self.callback_port.unwrap_or(DEFAULT_CALLBACK_PORT);
        let mut values = self.values.clone();
        let mut problems = Vec::new();
        for f in &preset.fields {
            let v = values
                .get(f.key)
                .map(|v| v.trim().to_string())
                .unwrap_or_default();
            let v = if v.is_empty() {
                f.default.map(str::to_string).unwrap_or_default()
            } else {
                v
            };
            let ok = if URL_FIELDS.contains(&f.key) {
                address(&v)
            } else {
                plain_value(&v)
            };
            if !ok {
                problems.push(format!(
                    "{} ({}): {}, e.g. {}",
                    f.label, f.key, f.help, f.example
                ));
            }
            values.insert(f.key.to_string(), v);
        }
        let client_id = self
            .client_id
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        if client_id.is_none() {
            problems.push(format!("the client id: {}", preset.client_id_help));
        }
        if preset.needs_client_secret && self.client_secret.is_none() {
            problems.push(format!(
                "the client secret (command line: --client-secret-stdin): {} requires it even for a desktop app; it is shown with the client id",
                preset.name
            ));
        }
        if !problems.is_empty() {
            return Err(Error::ProviderIncomplete {
                provider: preset.name.into(),
                missing: problems,
                register_as: preset.register_as.into(),
                redirect_uri: redirect_uri(port),
            });
        }
        let config = ClientConfig {
            client_id: client_id.map(str::to_string),
            client_secret: self.client_secret.clone(),
            auth_method: None,
            callback_port: Some(port),
            client_metadata_url: None,
        };
        Ok((config, self.provider.issuer(&values)))
    }

    /// Checks a plan made with this preset ([`Error::ProviderMismatch`] otherwise): its
    /// authorization server must be the issuer the values make (a registered app only works there), and, for Entra, a plan with no
    /// scopes asks for the resource's `.default` scope (Entra refuses a request without
    /// one; see Microsoft's "The /.default scope").
    pub fn apply(&self, plan: &mut SignInPlan, issuer: &str) -> Result<()> {
        let norm = |s: &str| s.trim_end_matches('/').to_ascii_lowercase();
        if norm(&plan.issuer) != norm(issuer) {
            return Err(Error::ProviderMismatch {
                provider: self.provider.preset().name.into(),
                actual: plan.issuer.clone(),
                expected: issuer.to_string(),
            });
        }
        if self.provider == Provider::Entra && plan.scopes.is_empty() {
            let resource = plan.resource.trim_end_matches('/').to_string();
            plan.add_scope(&format!("{resource}/.default"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(p: Provider, values: &[(&str, &str)], client: Option<&str>) -> ProviderInput {
        ProviderInput {
            provider: p,
            values: values
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            client_id: client.map(str::to_string),
            client_secret: None,
            callback_port: None,
        }
    }

    #[test]
    fn each_preset_makes_its_providers_issuer() {
        let cases = [
            (
                input(
                    Provider::Entra,
                    &[("tenant", "contoso.onmicrosoft.com")],
                    Some("app"),
                ),
                "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0",
            ),
            (
                input(Provider::Okta, &[("domain", "dev-1.okta.com")], Some("app")),
                "https://dev-1.okta.com/oauth2/default",
            ),
            (
                input(
                    Provider::Auth0,
                    &[("domain", "acme.us.auth0.com")],
                    Some("app"),
                ),
                "https://acme.us.auth0.com/",
            ),
            (
                input(
                    Provider::Keycloak,
                    &[("url", "https://sso.example.com/"), ("realm", "eng")],
                    Some("app"),
                ),
                "https://sso.example.com/realms/eng",
            ),
        ];
        for (i, want) in cases {
            let (config, issuer) = i.resolve().unwrap();
            assert_eq!(issuer, want);
            assert_eq!(config.client_id.as_deref(), Some("app"));
            assert_eq!(config.callback_port, Some(DEFAULT_CALLBACK_PORT));
        }
    }

    #[test]
    fn missing_values_are_named_with_where_to_find_them_and_the_redirect_uri() {
        let e = input(Provider::Entra, &[], None).resolve().unwrap_err();
        let words = format!("{e} {}", e.hint());
        assert!(words.contains("Directory (tenant) ID"), "{words}");
        assert!(words.contains("Application (client) ID"), "{words}");
        assert!(words.contains("Mobile and desktop applications"), "{words}");
        assert!(words.contains("http://127.0.0.1:33418/callback"), "{words}");
        let google = input(Provider::Google, &[], Some("id"))
            .resolve()
            .unwrap_err();
        assert!(google.to_string().contains("client secret"), "{google}");
    }

    #[test]
    fn values_cannot_smuggle_a_path_or_another_host_into_the_issuer() {
        for bad in ["a/b", "evil.com?x", "x@y", "", "a b"] {
            assert!(
                input(Provider::Entra, &[("tenant", bad)], Some("c"))
                    .resolve()
                    .is_err(),
                "{bad:?}"
            );
        }
        let http = input(
            Provider::Keycloak,
            &[("url", "http://sso.example.com"), ("realm", "r")],
            Some("c"),
        );
        assert!(http.resolve().is_err(), "https only");
        let local = input(
            Provider::Entra,
            &[("tenant", "t1"), ("authority", "http://127.0.0.1:8080")],
            Some("c"),
        );
        assert_eq!(local.resolve().unwrap().1, "http://127.0.0.1:8080/t1/v2.0");
        let gov = input(
            Provider::Entra,
            &[
                ("tenant", "t1"),
                ("authority", "https://login.microsoftonline.us/"),
            ],
            Some("c"),
        );
        assert_eq!(
            gov.resolve().unwrap().1,
            "https://login.microsoftonline.us/t1/v2.0"
        );
    }

    #[test]
    fn names_parse_in_any_case() {
        assert_eq!(Provider::parse("Entra"), Some(Provider::Entra));
        assert_eq!(Provider::parse(" keycloak "), Some(Provider::Keycloak));
        assert_eq!(Provider::parse("azure"), None);
    }
}
