//! What known sign-in servers do differently from their metadata or from the specifications,
//! in one table keyed by the issuer. An issuer is matched on its parsed scheme, host and path
//! (each provider's documented issuer shape), never by substring, so a look-alike such as
//! `https://login.microsoftonline.com.evil.example/x/v2.0` matches nothing.
//!
//! Tests can let a loopback issuer (the fixture AS) stand in for a provider through
//! [`TEST_ALIASES_ENV`]; it never applies to any other issuer, so it cannot change what
//! Latchkey does with a real sign-in server.

use url::Url;

/// How a sign-in server issues refresh tokens (ARCHITECTURE.md, Protocol rules: scopes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshTokens {
    /// OpenID Connect Core 1.0 section 11: with the `offline_access` scope, `prompt=consent`
    /// must be sent, or an OpenID provider may issue no refresh token. Every issuer not in
    /// the table.
    OfflineAccessWithConsent,
    /// `offline_access` alone brings a refresh token, and `prompt=consent` would show a
    /// consent page every time (and block accounts that may not consent themselves).
    OfflineAccess,
    /// Google: a refresh token only with its own `access_type=offline`, and only at the first
    /// consent unless `prompt=consent` is sent again.
    AccessTypeOffline,
}

/// One entry of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerQuirks {
    /// The stable key of the entry (`entra`, `cognito`, `google`), as the test alias uses it.
    pub key: &'static str,
    /// The provider's name, as people know it.
    pub provider: &'static str,
    /// Accepts PKCE with S256 although its metadata has no `code_challenge_methods_supported`.
    pub unadvertised_pkce_s256: bool,
    pub refresh_tokens: RefreshTokens,
    /// Where the provider documents the behaviour.
    pub source: &'static str,
}

/// Microsoft Entra ID (v1 and v2 issuers).
pub const ENTRA: IssuerQuirks = IssuerQuirks {
    key: "entra",
    provider: "Microsoft Entra ID",
    unadvertised_pkce_s256: true,
    refresh_tokens: RefreshTokens::OfflineAccess,
    source: "Microsoft identity platform, \"OAuth 2.0 authorization code flow\": PKCE (S256) is supported and required for native apps; offline_access returns a refresh token; prompt=consent forces the consent dialog",
};

/// Amazon Cognito user pools.
pub const COGNITO: IssuerQuirks = IssuerQuirks {
    key: "cognito",
    provider: "Amazon Cognito",
    unadvertised_pkce_s256: true,
    refresh_tokens: RefreshTokens::OfflineAccessWithConsent,
    source: "Amazon Cognito, \"Authorize endpoint\": code_challenge_method S256 is supported; the authorization code grant always returns a refresh token",
};

/// Google's accounts server.
pub const GOOGLE: IssuerQuirks = IssuerQuirks {
    key: "google",
    provider: "Google",
    unadvertised_pkce_s256: false,
    refresh_tokens: RefreshTokens::AccessTypeOffline,
    source: "Google Identity, \"Using OAuth 2.0 for Mobile & Desktop Apps\": access_type=offline returns a refresh token the first time the user grants access; prompt=consent asks again and returns a new one",
};

const TABLE: [&IssuerQuirks; 3] = [&ENTRA, &COGNITO, &GOOGLE];

/// The environment variable (read by debug builds only) through which a test maps a loopback issuer to an entry:
/// a JSON object such as `{"http://127.0.0.1:4123": "google"}`. Non-loopback issuers in it
/// are ignored.
pub const TEST_ALIASES_ENV: &str = "LATCHKEY_TEST_ISSUER_QUIRKS";

/// The quirks of `issuer` (an issuer identifier as its metadata declares it), if it is a
/// known provider's, or a loopback issuer mapped by [`TEST_ALIASES_ENV`].
pub fn for_issuer(issuer: &str) -> Option<&'static IssuerQuirks> {
    known(issuer).or_else(|| {
        // Test-only: a release build has no such hook.
        if !cfg!(debug_assertions) {
            return None;
        }
        let aliases = std::env::var(TEST_ALIASES_ENV).ok()?;
        test_alias(issuer, &aliases)
    })
}

/// The table alone: the entry whose documented issuer shape `issuer` has.
pub fn known(issuer: &str) -> Option<&'static IssuerQuirks> {
    let url = Url::parse(issuer).ok()?;
    if url.scheme() != "https"
        || url.port().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return None;
    }
    let host = url.host_str()?;
    let mut segments: Vec<&str> = url
        .path_segments()
        .map(Iterator::collect)
        .unwrap_or_default();
    if segments.last() == Some(&"") {
        segments.pop();
    }
    let tenant = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '%'))
    };
    match (host, segments.as_slice()) {
        // v2.0: https://login.microsoftonline.com/{tenant}/v2.0 (and the national clouds).
        (
            "login.microsoftonline.com"
            | "login.microsoftonline.us"
            | "login.partner.microsoftonline.cn",
            [t, "v2.0"],
        ) if tenant(t) => Some(&ENTRA),
        // v1.0: https://sts.windows.net/{tenant}/
        ("sts.windows.net" | "sts.chinacloudapi.cn", [t]) if tenant(t) => Some(&ENTRA),
        ("accounts.google.com", []) => Some(&GOOGLE),
        (host, [pool]) if cognito_pool(host, pool) => Some(&COGNITO),
        _ => None,
    }
}

/// `cognito-idp.{region}.amazonaws.com` with a path of one user pool id `{region}_{id}`.
fn cognito_pool(host: &str, pool: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    let ["cognito-idp", region, "amazonaws", "com"] = labels.as_slice() else {
        return false;
    };
    // A region is letters and dashes ending in a number: us-east-1, us-gov-west-1.
    let parts: Vec<&str> = region.split('-').collect();
    let region_ok = parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty();
    let pool_ok = pool
        .strip_prefix(region)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()));
    region_ok && pool_ok
}

/// The entry a test alias maps `issuer` to: only for a loopback issuer, matched exactly
/// (trailing slashes aside), and only to an entry of the table.
pub fn test_alias(issuer: &str, aliases_json: &str) -> Option<&'static IssuerQuirks> {
    let url = Url::parse(issuer).ok()?;
    if !crate::protocol::urls::is_loopback(&url) {
        return None;
    }
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(aliases_json).ok()?;
    let key = map.iter().find_map(|(i, k)| {
        crate::protocol::urls::same_issuer(i, issuer)
            .then(|| k.as_str())
            .flatten()
    })?;
    TABLE.into_iter().find(|q| q.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entra_v1_and_v2_issuers_assume_s256_and_need_no_consent_prompt() {
        for issuer in [
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0",
            "https://login.microsoftonline.com/%7Btenantid%7D/v2.0",
            "https://login.microsoftonline.us/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
            "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
            "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47",
            "https://LOGIN.microsoftonline.com/common/v2.0/",
        ] {
            let q = known(issuer).unwrap_or_else(|| panic!("{issuer} is Entra"));
            assert_eq!(q.key, "entra", "{issuer}");
            assert!(q.unadvertised_pkce_s256);
            assert_eq!(q.refresh_tokens, RefreshTokens::OfflineAccess);
        }
    }

    #[test]
    fn cognito_user_pools_assume_s256() {
        for issuer in [
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123xyz",
            "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Q9",
            "https://cognito-idp.us-gov-west-1.amazonaws.com/us-gov-west-1_abc",
        ] {
            let q = known(issuer).unwrap_or_else(|| panic!("{issuer} is Cognito"));
            assert_eq!(q.key, "cognito", "{issuer}");
            assert!(q.unadvertised_pkce_s256);
            assert_eq!(q.refresh_tokens, RefreshTokens::OfflineAccessWithConsent);
        }
    }

    #[test]
    fn google_asks_for_access_type_offline() {
        let q = known("https://accounts.google.com").unwrap();
        assert_eq!(q.key, "google");
        assert!(!q.unadvertised_pkce_s256);
        assert_eq!(q.refresh_tokens, RefreshTokens::AccessTypeOffline);
        assert_eq!(known("https://accounts.google.com/").unwrap().key, "google");
    }

    #[test]
    fn look_alikes_and_other_shapes_match_nothing() {
        for issuer in [
            // Substrings of a known host, or a known host as a subdomain of another.
            "https://login.microsoftonline.com.evil.example/tenant/v2.0",
            "https://evil.example/login.microsoftonline.com/tenant/v2.0",
            "https://notlogin.microsoftonline.com/tenant/v2.0",
            "https://accounts.google.com.evil.example",
            "https://cognito-idp.us-east-1.amazonaws.com.evil.example/us-east-1_abc",
            // Not the documented path shape.
            "https://login.microsoftonline.com/tenant",
            "https://login.microsoftonline.com/tenant/v2.0/extra",
            "https://login.microsoftonline.com/tenant/oauth2/v2.0",
            "https://sts.windows.net/",
            "https://accounts.google.com/o/oauth2",
            "https://cognito-idp.us-east-1.amazonaws.com/eu-west-1_abc",
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_",
            "https://cognito-idp.us-east-1.amazonaws.com/",
            "https://cognito-idp.useast1.amazonaws.com/useast1_abc",
            // Not https, another port, credentials, a query.
            "http://login.microsoftonline.com/tenant/v2.0",
            "https://login.microsoftonline.com:8443/tenant/v2.0",
            "https://user@accounts.google.com",
            "https://accounts.google.com/?x=1",
            "not a url",
        ] {
            assert_eq!(known(issuer), None, "{issuer}");
        }
    }

    #[test]
    fn a_test_alias_maps_only_a_loopback_issuer_to_an_entry_of_the_table() {
        let aliases = r#"{"http://127.0.0.1:4123": "google", "https://as.example.com": "google",
                          "http://127.0.0.1:5000/": "entra", "http://127.0.0.1:6000": "nothing"}"#;
        assert_eq!(
            test_alias("http://127.0.0.1:4123", aliases).map(|q| q.key),
            Some("google")
        );
        assert_eq!(
            test_alias("http://127.0.0.1:5000", aliases).map(|q| q.key),
            Some("entra")
        );
        // Not loopback: never, whatever the map says.
        assert_eq!(test_alias("https://as.example.com", aliases), None);
        // An unknown entry, another port, or a map that is not JSON: nothing.
        assert_eq!(test_alias("http://127.0.0.1:6000", aliases), None);
        assert_eq!(test_alias("http://127.0.0.1:4124", aliases), None);
        assert_eq!(test_alias("http://127.0.0.1:4123", "google"), None);
    }
}
