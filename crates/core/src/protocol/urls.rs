//! URL rules: a server's canonical identity, loopback detection, and RFC 8414 / 9728
//! well-known locations.

use crate::error::Error;
use url::{Host, Url};

/// Parses a URL a person typed, a config file held or a link named, with a clear error.
/// A URL with a user name or password before its host (`https://github.com@evil.example/mcp`,
/// `https://user:pass@host/mcp`) is refused: the part before `@` only disguises the real host,
/// and a password there would be sent and logged. This is the one rule for every server URL.
pub fn parse_http_url(input: &str) -> Result<Url, Error> {
    let url = Url::parse(input.trim()).map_err(|e| Error::InvalidUrl {
        input: input.to_string(),
        reason: e.to_string(),
    })?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(Error::InvalidUrl {
                input: input.to_string(),
                reason: format!("the scheme is {other:?}; only http and https are supported"),
            })
        }
    }
    if url.host().is_none() {
        return Err(Error::InvalidUrl {
            input: input.to_string(),
            reason: "it has no host".into(),
        });
    }
    if !url.username().is_empty() || url.password().is_some() {
        // The input is not repeated: it may hold a password.
        let host = url.host_str().unwrap_or_default();
        return Err(Error::InvalidUrl {
            input: format!("{}://…@{host}{}", url.scheme(), url.path()),
            reason: format!(
                "it has a user name or password before the host, so it really points to {host}; \
                 remove the part before \"@\" and use the server's own address"
            ),
        });
    }
    Ok(url)
}

/// The site a host belongs to: its registrable domain (eTLD+1) by the Public Suffix List,
/// private section included (`me.github.io` and `you.github.io` are two sites), as browsers
/// draw site lines. A host that is itself a public suffix, or a single label (`localhost`),
/// is its own site, as is an IP address. Lowercase, without a trailing dot.
pub fn registrable_site(url: &Url) -> String {
    match url.host() {
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            psl::domain_str(&d).unwrap_or(&d).to_string()
        }
        Some(h) => h.to_string(),
        None => String::new(),
    }
}

/// Whether two URLs belong to the same site ([`registrable_site`]).
pub fn same_site(a: &Url, b: &Url) -> bool {
    registrable_site(a) == registrable_site(b)
}

/// The canonical resource URI (RFC 8707, MCP): lowercase scheme and host (the url crate does
/// this), no default port, no fragment, no trailing slash.
pub fn canonical_resource(url: &Url) -> String {
    let mut u = url.clone();
    u.set_fragment(None);
    let mut s = u.to_string();
    if u.query().is_none() {
        while s.ends_with('/') && s.len() > u.origin().ascii_serialization().len() {
            s.pop();
        }
        if s.ends_with('/') && u.path() == "/" {
            s.pop();
        }
    }
    s
}

/// True for 127.0.0.0/8, ::1 and exactly `localhost`. Not `*.localhost`: a resolver that does
/// not pin those names to this machine would send plain-HTTP credentials elsewhere.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// True for an address inside this machine or a private network: loopback (127.0.0.0/8,
/// ::1), private (10/8, 172.16/12, 192.168/16), link-local (169.254/16, fe80::/10), unique
/// local (fc00::/7), unspecified (0.0.0.0, ::), IPv4-mapped IPv6 forms of these, and the names
/// `localhost` and `*.localhost`. Names are judged as written: a public name that resolves
/// to a private address is not caught here.
pub fn is_internal(url: &Url) -> bool {
    use std::net::Ipv4Addr;
    fn v4(ip: Ipv4Addr) -> bool {
        ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified()
    }
    match url.host() {
        Some(Host::Ipv4(ip)) => v4(ip),
        Some(Host::Ipv6(ip)) => {
            let first = ip.segments()[0];
            ip.is_loopback()
                || ip.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || ip.to_ipv4_mapped().is_some_and(v4)
        }
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        None => false,
    }
}

/// The one rule for every URL discovery follows (a `resource_metadata` address, an issuer, an
/// endpoint): one inside this machine or a private network ([`is_internal`]) is followed only
/// when the MCP server itself is on that same host (loopback counting as one host), since a
/// remote server's challenge or metadata must not point Latchkey at local services.
/// `what` names the URL in the error, which says what was wrong and what to do.
pub fn check_followed(server: &Url, target: &Url, what: &str) -> Result<(), Error> {
    if !is_internal(target) {
        return Ok(());
    }
    let same_host = target.host_str().map(str::to_ascii_lowercase)
        == server.host_str().map(str::to_ascii_lowercase)
        || (is_loopback(target) && is_loopback(server));
    if same_host {
        return Ok(());
    }
    Err(Error::InvalidUrl {
        input: format!(
            "{}://{}",
            target.scheme(),
            target.host_str().unwrap_or_default()
        ),
        reason: format!(
            "the server {} named it as its {what}, but it is inside this machine or a private \
             network and the server is not; Latchkey does not follow it. If you run this \
             server yourself, fix its metadata; otherwise do not sign in to it",
            server.host_str().unwrap_or_default()
        ),
    })
}

/// Tokens and credentials only travel over HTTPS, except to this machine.
pub fn require_secure(url: &Url, what: &str) -> Result<(), Error> {
    if url.scheme() == "https" || is_loopback(url) {
        Ok(())
    } else {
        Err(Error::InsecureEndpoint {
            url: url.to_string(),
            what: what.to_string(),
        })
    }
}

/// `origin + /.well-known/<name> + path`, the RFC 8414 / RFC 9728 path-aware form.
pub fn well_known_inserted(base: &Url, name: &str) -> Url {
    let mut u = base.clone();
    let path = base.path().trim_end_matches('/');
    u.set_path(&format!("/.well-known/{name}{path}"));
    u.set_query(None);
    u.set_fragment(None);
    u
}

/// `origin + path + /.well-known/<name>`, the OpenID Connect Discovery form.
pub fn well_known_appended(base: &Url, name: &str) -> Url {
    let mut u = base.clone();
    let path = base.path().trim_end_matches('/');
    u.set_path(&format!("{path}/.well-known/{name}"));
    u.set_query(None);
    u.set_fragment(None);
    u
}

/// `origin + /.well-known/<name>`.
pub fn well_known_root(base: &Url, name: &str) -> Url {
    let mut u = base.clone();
    u.set_path(&format!("/.well-known/{name}"));
    u.set_query(None);
    u.set_fragment(None);
    u
}

pub fn has_path(url: &Url) -> bool {
    !url.path().trim_matches('/').is_empty()
}

/// Two issuer identifiers are the same (RFC 8414 §3.3), tolerating only a trailing slash.
pub fn same_issuer(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// `resource` from protected resource metadata covers `server`: the same URL, or a parent of
/// it on the same origin at a path segment boundary.
pub fn resource_covers(resource: &Url, server: &Url) -> bool {
    if resource.origin() != server.origin() {
        return false;
    }
    let r = canonical_resource(resource);
    let s = canonical_resource(server);
    if r == s {
        return true;
    }
    let rp = resource.path().trim_end_matches('/');
    let sp = server.path().trim_end_matches('/');
    resource.query().is_none() && (rp.is_empty() || sp.starts_with(&format!("{rp}/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(
            canonical_resource(&u("HTTPS://Example.COM:443/mcp/#frag")),
            "https://example.com/mcp"
        );
        assert_eq!(
            canonical_resource(&u("http://127.0.0.1:8080/")),
            "http://127.0.0.1:8080"
        );
        assert_eq!(canonical_resource(&u("http://h:80/a/b//")), "http://h/a/b");
        assert_eq!(
            canonical_resource(&u("https://h/mcp?tenant=1")),
            "https://h/mcp?tenant=1"
        );
    }

    #[test]
    fn loopback_and_security() {
        assert!(is_loopback(&u("http://127.0.0.1:1/x")));
        assert!(is_loopback(&u("http://127.8.9.1/")));
        assert!(is_loopback(&u("http://[::1]:9/")));
        assert!(is_loopback(&u("http://localhost:3/")));
        assert!(!is_loopback(&u("http://evil.localhost:3/")));
        assert!(!is_loopback(&u("http://as.example.test/")));
        assert!(require_secure(&u("http://as.example.test/token"), "token endpoint").is_err());
        assert!(require_secure(&u("https://as.example.test/token"), "token endpoint").is_ok());
    }

    #[test]
    fn well_known_variants() {
        let i = u("https://as.example.com/tenant-a");
        assert_eq!(
            well_known_inserted(&i, "oauth-authorization-server").as_str(),
            "https://as.example.com/.well-known/oauth-authorization-server/tenant-a"
        );
        assert_eq!(
            well_known_appended(&i, "openid-configuration").as_str(),
            "https://as.example.com/tenant-a/.well-known/openid-configuration"
        );
        let r = u("https://as.example.com/");
        assert_eq!(
            well_known_inserted(&r, "oauth-authorization-server").as_str(),
            "https://as.example.com/.well-known/oauth-authorization-server"
        );
        assert!(!has_path(&r));
        assert!(has_path(&i));
    }

    #[test]
    fn resource_coverage() {
        assert!(resource_covers(&u("https://h/mcp"), &u("https://h/mcp/")));
        assert!(resource_covers(&u("https://h/"), &u("https://h/mcp")));
        assert!(resource_covers(
            &u("https://h/api"),
            &u("https://h/api/v4/mcp")
        ));
        assert!(!resource_covers(&u("https://h/ap"), &u("https://h/api")));
        assert!(!resource_covers(
            &u("https://evil/mcp"),
            &u("https://h/mcp")
        ));
        assert!(!resource_covers(&u("https://h/other"), &u("https://h/mcp")));
    }

    #[test]
    fn url_input_errors() {
        assert!(parse_http_url("ftp://x").is_err());
        assert!(parse_http_url("not a url").is_err());
        assert!(parse_http_url(" https://x/mcp ").is_ok());
    }

    #[test]
    fn urls_with_a_user_or_password_are_refused_without_repeating_them() {
        for input in [
            "https://github.com@host.example/mcp",
            "https://user:hunter2@host.example/mcp",
            "http://:pw@127.0.0.1:8080/mcp",
        ] {
            let e = parse_http_url(input).expect_err(input);
            let text = e.to_string();
            assert_eq!(e.code(), "invalid_url");
            assert!(text.contains("user name or password"), "{text}");
            assert!(!text.contains("hunter2") && !text.contains(":pw"), "{text}");
        }
        let e = parse_http_url("https://github.com@host.example/mcp").unwrap_err();
        assert!(e.to_string().contains("host.example"));
    }

    #[test]
    fn internal_targets_are_followed_only_from_the_same_host() {
        for internal in [
            "http://127.0.0.1:9/x",
            "http://127.1.2.3/",
            "http://[::1]/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://172.31.255.255/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://[fc00::1]/",
            "http://[fd12::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://localhost/",
            "http://admin.localhost/",
            "http://0.0.0.0/",
        ] {
            assert!(is_internal(&u(internal)), "{internal}");
            let e = check_followed(&u("https://mcp.example.com/mcp"), &u(internal), "metadata")
                .expect_err(internal);
            assert!(e.to_string().contains("private network"), "{e}");
        }
        for public in [
            "https://172.32.0.1/",
            "https://8.8.8.8/",
            "https://example.com/",
            "https://[2001:db8::1]/",
        ] {
            assert!(!is_internal(&u(public)), "{public}");
            assert!(check_followed(&u("https://mcp.example.com"), &u(public), "issuer").is_ok());
        }
        // The MCP server on that very host: followed.
        assert!(check_followed(
            &u("http://127.0.0.1:8080/mcp"),
            &u("http://127.0.0.1:9000/"),
            "issuer"
        )
        .is_ok());
        assert!(check_followed(
            &u("http://localhost:8080/mcp"),
            &u("http://127.0.0.1:9000/"),
            "issuer"
        )
        .is_ok());
        assert!(check_followed(
            &u("http://10.0.0.5/mcp"),
            &u("http://10.0.0.5:9000/"),
            "issuer"
        )
        .is_ok());
        assert!(check_followed(
            &u("http://10.0.0.5/mcp"),
            &u("http://127.0.0.1:9000/"),
            "issuer"
        )
        .is_err());
    }

    #[test]
    fn sites_are_registrable_domains_by_the_public_suffix_list() {
        let site = |s: &str| registrable_site(&u(s));
        assert_eq!(site("https://mcp.example.com/x"), "example.com");
        assert_eq!(site("https://login.example.com"), "example.com");
        assert_eq!(site("https://a.b.example.co.uk/"), "example.co.uk");
        assert_eq!(site("https://me.github.io/"), "me.github.io");
        assert_eq!(site("http://127.0.0.1:8080/"), "127.0.0.1");
        assert_eq!(site("http://[::1]/"), "[::1]");
        assert_eq!(site("http://localhost:3/"), "localhost");
        assert!(same_site(
            &u("https://mcp.example.com"),
            &u("https://auth.EXAMPLE.com")
        ));
        assert!(!same_site(
            &u("https://mcp.example.com"),
            &u("https://login.evil.test")
        ));
        assert!(!same_site(&u("https://a.co.uk"), &u("https://b.co.uk")));
        assert!(!same_site(
            &u("https://a.github.io"),
            &u("https://b.github.io")
        ));
        // Suffixes a short list would miss: all of the Public Suffix List counts.
        assert_eq!(site("https://mcp.city.kawasaki.jp/"), "city.kawasaki.jp");
        assert!(!same_site(
            &u("https://a.s3.amazonaws.com"),
            &u("https://b.s3.amazonaws.com")
        ));
        assert!(!same_site(
            &u("https://x.blogspot.com"),
            &u("https://y.blogspot.com")
        ));
        assert!(!same_site(&u("https://a.com.ua"), &u("https://b.com.ua")));
        assert_eq!(site("https://gov.uk/"), "gov.uk");
        assert_eq!(site("https://MCP.Example.COM./"), "example.com");
    }
}
