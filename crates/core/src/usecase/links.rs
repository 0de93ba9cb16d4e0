//! `latchkey://` links: what a link asks the app to do. A web page, a terminal or another
//! tool can start a sign-in (`latchkey://login?url=https://example.com/mcp`, optionally with
//! `&scope=a b`, the scopes the wizard starts from: what a server asked for in a step-up) or
//! show why a server fails (`latchkey://why?url=...`). Anything else is refused with a reason, since a
//! link may come from anywhere.

use crate::error::{Error, Result};
use crate::protocol::urls;

/// The scheme the app registers with the desktop.
pub const SCHEME: &str = "latchkey";

/// The argument Latchkey's own processes put before a link they open themselves: the sign-in
/// it asks for was not started by a link from outside.
pub const OWN_LINK_ARG: &str = "--latchkey-own-link";

/// What a link asks for; `url` is the server's canonical address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkAction {
    /// Open the sign-in wizard for the server, starting from `scopes` (empty: the plan's
    /// recommendation). The person still reviews them before the browser opens.
    /// `started_by_link`: a link from outside Latchkey asked for it (see the module's words).
    Login {
        url: String,
        scopes: Vec<String>,
        started_by_link: bool,
    },
    /// Show why the server fails and how to fix it.
    Why { url: String },
}

impl LinkAction {
    /// A sign-in Latchkey itself asks for (a notification, the tray, a tool's step-up).
    pub fn own_login(url: impl Into<String>, scopes: Vec<String>) -> Self {
        LinkAction::Login {
            url: url.into(),
            scopes,
            started_by_link: false,
        }
    }

    /// Whether a link from outside Latchkey asked for this.
    pub fn started_by_link(&self) -> bool {
        matches!(
            self,
            LinkAction::Login {
                started_by_link: true,
                ..
            }
        )
    }

    /// The program arguments that ask a window for this action: the link, after
    /// [`OWN_LINK_ARG`] when Latchkey itself asks (never for a link-started sign-in).
    pub fn args(&self) -> Vec<String> {
        match self {
            LinkAction::Login {
                started_by_link: false,
                ..
            } => vec![OWN_LINK_ARG.to_string(), self.link()],
            _ => vec![self.link()],
        }
    }

    /// The server's canonical URL.
    pub fn url(&self) -> &str {
        match self {
            LinkAction::Login { url, .. } | LinkAction::Why { url } => url,
        }
    }

    /// The link that asks for this action, as [`parse`] reads it back (as started by a link:
    /// whether Latchkey asked travels in [`LinkAction::args`], never in the link).
    pub fn link(&self) -> String {
        let (action, url, scopes) = match self {
            LinkAction::Login { url, scopes, .. } => ("login", url, scopes.as_slice()),
            LinkAction::Why { url } => ("why", url, [].as_slice()),
        };
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("url", url);
        if !scopes.is_empty() {
            query.append_pair("scope", &scopes.join(" "));
        }
        let query = query.finish();
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
    let mut scopes: Vec<String> = Vec::new();
    for (k, v) in parsed.query_pairs() {
        if k == "url" {
            if server.is_some() {
                return Err(refuse(link, "the link names more than one server"));
            }
            server = Some(v.into_owned());
        } else if k == "scope" {
            for s in v.split_whitespace() {
                if !s
                    .chars()
                    .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
                {
                    return Err(refuse(
                        link,
                        "the link's scope holds characters no scope can",
                    ));
                }
                if !scopes.iter().any(|x| x == s) {
                    scopes.push(s.to_string());
                }
            }
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
        "login" => Ok(LinkAction::Login {
            url,
            scopes,
            started_by_link: true,
        }),
        "why" => Ok(LinkAction::Why { url }),
        other => Err(refuse(
            link,
            format!("\"{other}\" is not something Latchkey links can do (use login or why)"),
        )),
    }
}

/// The links among a launch's arguments, each read by [`parse`]: a sign-in whose link follows
/// [`OWN_LINK_ARG`] is Latchkey's own, every other one was started by a link. Arguments that
/// are not links are skipped; a link that cannot be read is returned as its error.
pub fn read_args(args: &[String]) -> Vec<Result<LinkAction>> {
    let mut out = Vec::new();
    let mut own = false;
    for arg in args {
        if arg == OWN_LINK_ARG {
            own = true;
            continue;
        }
        if !is_link(arg) {
            own = false;
            continue;
        }
        out.push(parse(arg).map(|mut action| {
            if let LinkAction::Login {
                started_by_link, ..
            } = &mut action
            {
                *started_by_link = !own;
            }
            action
        }));
        own = false;
    }
    out
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
                scopes: Vec::new(),
                started_by_link: true,
            },
            super::LinkAction::Login {
                url: "https://gitlab.example.com/api/v4/mcp".into(),
                scopes: vec!["mcp".into(), "mcp:admin".into()],
                started_by_link: true,
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
                url: crate::store::vault::server_id("https://gitlab.example.com/api/mcp").unwrap(),
                scopes: Vec::new(),
                started_by_link: true,
            }
        );
        assert_eq!(
            parse("latchkey://login?url=https://a.example/mcp&scope=mcp+read%20mcp").unwrap(),
            LinkAction::Login {
                url: "https://a.example/mcp".into(),
                scopes: vec!["mcp".into(), "read".into()],
                started_by_link: true,
            },
            "the scopes the wizard starts from, each once"
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
        refused("latchkey://login?url=https://example.com/mcp&scope=a%22b");
        refused("latchkey://login?url=https://example.com/mcp&scope=%C3%A9");
        refused("latchkey://login/extra?url=https://example.com/mcp");
        assert!(
            refused("latchkey://login?url=https://a.example/mcp&url=https://b.example/mcp")
                .contains("more than one")
        );
        refused("not a link");
        refused("");
        assert!(
            refused("latchkey://login?url=https://github.com@evil.example/mcp")
                .contains("user name or password")
        );
        assert!(
            !refused("latchkey://login?url=https://u:hunter2@evil.example/mcp").contains("hunter2")
        );
    }

    #[test]
    fn only_latchkeys_own_arguments_make_a_sign_in_not_link_started() {
        let own = LinkAction::own_login("https://a.example/mcp", vec!["mcp".into()]);
        assert!(!own.started_by_link());
        let mut args = vec!["--window".to_string()];
        args.extend(own.args());
        args.push("latchkey://login?url=https://b.example/mcp".into());
        args.push(OWN_LINK_ARG.into());
        args.push("--other".into());
        args.push("latchkey://login?url=https://c.example/mcp".into());
        let read: Vec<LinkAction> = read_args(&args).into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(read[0], own);
        assert!(
            read[1].started_by_link(),
            "a link alone was started by a link"
        );
        assert!(
            read[2].started_by_link(),
            "the marker counts only right before a link"
        );
        // The link itself cannot say it is Latchkey's own.
        let spoof = parse("latchkey://login?url=https://b.example/mcp&own=1").unwrap();
        assert!(spoof.started_by_link());
        assert_eq!(
            LinkAction::Why {
                url: "https://a.example/mcp".into()
            }
            .args()
            .len(),
            1
        );
    }
}
