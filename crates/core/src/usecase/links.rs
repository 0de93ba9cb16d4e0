//! `latchkey://` links: what a link asks the app to do. A web page, a terminal or another
//! tool can start a sign-in (`latchkey://login?url=https://example.com/mcp`) or show why a
//! server fails (`latchkey://why?url=...`). Anything else is refused with a reason, since a
//! link may come from anywhere.

use crate::error::{Error, Result};
use crate::protocol::urls;

/// The scheme the app registers with the desktop.
pub const SCHEME: &str = "latchkey";

/// What a link asks for; `url` is the server's canonical address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkAction {
    /// Open the sign-in wizard for the server.
    Login { url: String },
    /// Show why the server fails and how to fix it.
    Why { url: String },
}

impl LinkAction {
    pub fn url(&self) -> &str {
        match self {
            LinkAction::Login { url } | LinkAction::Why { url } => url,
        }
    }

    /// The link that asks for this action, as [`parse`] reads it back.
    pub fn link(&self) -> String {
        let (action, url) = match self {
            LinkAction::Login { url } => ("login", url),
            LinkAction::Why { url } => ("why", url),
        };
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("url", url)
            .finish();
        format!("{SCHEME}://{action}?{query}")
    }
}

/// Whether a program argument is a `latchkey:` link (the scheme is case-insensitive); the
/// others (options, file names) are not for [`parse`].
pub fn is_link(arg: &str) -> bool {
    // Bytes, not string slices: an argument from another process may put a multi-byte
    // character across the scheme's end.
    let (b, n) = (arg.as_bytes(), SCHEME.len());
    b.len() > n && b[..n].eq_ignore_ascii_case(SCHEME.as_bytes()) && b[n] == b':'
}

fn refuse(link: &str, reason: impl Into<String>) -> Error {
    // A link can be long and arbitrary: only its start is repeated.
    let shown: String = link.chars().take(200).collect();
    Error::InvalidUrl {
        input: shown,
        reason: reason.into(),
    }
}

/// Reads a `latchkey://login?url=...` or `latchkey://why?url=...` link. The server address
/// must be an http(s) URL; it is returned in its canonical form (as the keychain keys it).
pub fn parse(link: &str) -> Result<LinkAction> {
    let parsed = url::Url::parse(link.trim()).map_err(|e| {
        refuse(
            link,
            format!("this is not a link Latchkey understands ({e})"),
        )
    })?;
    if !parsed.scheme().eq_ignore_ascii_case(SCHEME) {
        return Err(refuse(
            link,
            format!("Latchkey opens only {SCHEME}:// links"),
        ));
    }
    // `latchkey://login?...` puts "login" in the host; `latchkey:login?...` in the path.
    let action = match parsed.host_str() {
        Some(h) => {
            if !matches!(parsed.path(), "" | "/") {
                return Err(refuse(link, "the link has an unexpected path"));
            }
            h.to_ascii_lowercase()
        }
        None => parsed.path().trim_matches('/').to_ascii_lowercase(),
    };
    let mut server = None;
    for (k, v) in parsed.query_pairs() {
        if k == "url" {
            if server.is_some() {
                return Err(refuse(link, "the link names more than one server"));
            }
            server = Some(v.into_owned());
        }
    }
    let server = server.ok_or_else(|| {
        refuse(
            link,
            "the link does not say which server (it needs ?url=https://...)",
        )
    })?;
    let url = urls::canonical_resource(&urls::parse_http_url(&server)?);
    match action.as_str() {
        "login" => Ok(LinkAction::Login { url }),
        "why" => Ok(LinkAction::Why { url }),
        other => Err(refuse(
            link,
            format!("\"{other}\" is not something Latchkey links can do (use login or why)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_are_told_from_other_arguments() {
        assert!(super::is_link("latchkey://login?url=https://a/mcp"));
        assert!(super::is_link("LatchKey:why?url=x"));
        assert!(!super::is_link("--window"));
        assert!(!super::is_link("latch"));
        assert!(!super::is_link("latchkeys://x"));
        assert!(!super::is_link("https://a/mcp"));
        assert!(!super::is_link("é"));
        // A multi-byte character across the scheme's end (a D-Bus caller may send anything).
        assert!(!super::is_link("latchke\u{e9}"));
        assert!(!super::is_link("latchkeé:"));
        assert!(!super::is_link("latchkey"));
    }

    #[test]
    fn a_built_link_reads_back_as_the_same_action() {
        for action in [
            super::LinkAction::Login {
                url: "https://gitlab.example.com/api/v4/mcp?x=1&y=2".into(),
            },
            super::LinkAction::Why {
                url: "http://127.0.0.1:8080/mcp".into(),
            },
        ] {
            assert_eq!(super::parse(&action.link()).unwrap(), action);
        }
    }

    use super::*;

    #[test]
    fn login_and_why_links_name_a_canonical_server() {
        assert_eq!(
            parse("latchkey://login?url=https%3A%2F%2FGitLab.example.com%2Fapi%2Fmcp").unwrap(),
            LinkAction::Login {
                url: crate::store::vault::server_id("https://gitlab.example.com/api/mcp").unwrap()
            }
        );
        let why = parse("latchkey://why?url=http://127.0.0.1:8080/mcp").unwrap();
        assert_eq!(
            why,
            LinkAction::Why {
                url: crate::store::vault::server_id("http://127.0.0.1:8080/mcp").unwrap()
            }
        );
        assert_eq!(why.url(), "http://127.0.0.1:8080/mcp");
        // The same link without the slashes, as some launchers pass it.
        assert!(matches!(
            parse("latchkey:login?url=https://example.com/mcp"),
            Ok(LinkAction::Login { .. })
        ));
        assert!(matches!(
            parse("LATCHKEY://WHY?url=https://example.com/mcp"),
            Ok(LinkAction::Why { .. })
        ));
    }

    fn refused(link: &str) -> String {
        let e = parse(link).expect_err(link);
        assert_eq!(e.code(), "invalid_url", "{link}: {e}");
        e.to_string()
    }

    #[test]
    fn other_schemes_actions_and_servers_are_refused_with_a_reason() {
        assert!(refused("https://login?url=https://example.com/mcp").contains("latchkey://"));
        assert!(refused("latchkey://delete?url=https://example.com/mcp").contains("\"delete\""));
        assert!(refused("latchkey://login").contains("which server"));
        refused("latchkey://login?url=");
        refused("latchkey://login?url=file:///etc/passwd");
        refused("latchkey://login?url=javascript:alert(1)");
        refused("latchkey://login/extra?url=https://example.com/mcp");
        assert!(
            refused("latchkey://login?url=https://a.example/mcp&url=https://b.example/mcp")
                .contains("more than one")
        );
        refused("not a link");
        refused("");
    }
}
