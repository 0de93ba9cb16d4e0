//! What the tray shows, as plain data: the icon for the worst status, one line per server,
//! and a line for what keeps Latchkey from reading its data. Built from core's dashboard and
//! the last health of each server; drawing it is `tray.rs`'s job.

use latchkey_core::usecase::{self, Health, Latchkey, Overall, ServerHealth};

/// What the tray icon says about the servers, worst first wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrayState {
    /// Every server can sign in.
    #[default]
    Ok,
    /// Something needs a look soon (e.g. a token that cannot be refreshed).
    Warning,
    /// At least one server needs the person to sign in.
    NeedsAuth,
}

impl TrayState {
    /// The PNG shown in the tray for this state (from icons/, see icons/generate.py).
    pub fn icon_png(self) -> &'static [u8] {
        match self {
            Self::Ok => include_bytes!("../../../icons/tray-ok.png"),
            Self::Warning => include_bytes!("../../../icons/tray-warning.png"),
            Self::NeedsAuth => include_bytes!("../../../icons/tray-needs-auth.png"),
        }
    }

    pub fn tooltip(self) -> &'static str {
        match self {
            Self::Ok => "Latchkey: all servers can sign in",
            Self::Warning => "Latchkey: a server needs attention",
            Self::NeedsAuth => "Latchkey: a server needs you to sign in",
        }
    }

    pub fn of(overall: Overall) -> TrayState {
        match overall {
            Overall::Ok => TrayState::Ok,
            Overall::Warning => TrayState::Warning,
            Overall::NeedsSignIn => TrayState::NeedsAuth,
        }
    }
}

/// One menu line: a server's title and its status in a few words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLine {
    pub url: String,
    pub label: String,
}

/// Everything the tray shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrayView {
    /// Before the servers were first read (at start): the menu says it is looking, rather
    /// than that there are none.
    pub looking: bool,
    pub state: TrayState,
    /// What keeps Latchkey from working (e.g. the keychain is locked), in the catalogue's words.
    pub problem: Option<String>,
    pub servers: Vec<ServerLine>,
}

/// A menu item's meaning, from its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuChoice {
    Server(String),
    Problem,
    Open,
    Quit,
}

pub const MENU_OPEN: &str = "open";
pub const MENU_QUIT: &str = "quit";
pub const MENU_PROBLEM: &str = "problem";
pub const MENU_NO_SERVERS: &str = "no-servers";
/// Prefix of a server's menu item id; the rest is its canonical URL.
pub const MENU_SERVER_PREFIX: &str = "server:";

impl MenuChoice {
    pub fn from_id(id: &str) -> Option<MenuChoice> {
        match id {
            MENU_OPEN => Some(MenuChoice::Open),
            MENU_QUIT => Some(MenuChoice::Quit),
            MENU_PROBLEM => Some(MenuChoice::Problem),
            _ => id
                .strip_prefix(MENU_SERVER_PREFIX)
                .map(|url| MenuChoice::Server(url.to_string())),
        }
    }
}

/// A server's status in a few words, for its menu line.
pub fn status_words(h: Option<&ServerHealth>) -> &'static str {
    match h.map(|h| h.health) {
        None => "checking…",
        Some(Health::Working) | Some(Health::Refreshable) => "working",
        Some(Health::ExpiringSoon) => "expires soon",
        Some(Health::NeedsSignIn) => "needs sign-in",
        Some(Health::NeverSignedIn) => "not signed in",
        Some(Health::Unreachable) => "unreachable",
        Some(Health::Misconfigured) => "misconfigured",
    }
}

/// A menu line for what keeps the app from working, e.g. "⚠ The keychain is locked or
/// unavailable".
pub fn problem_line(e: &latchkey_core::Error) -> String {
    format!("⚠ {}", usecase::reason_of(e).title)
}

/// The servers the tray knows of, and what keeps Latchkey from reading them.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// (canonical url, title) of each server.
    pub servers: Vec<(String, String)>,
    pub problem: Option<String>,
}

/// The servers to show and probe: those of the dashboard; where the keychain cannot be read,
/// those of the config files, with the reason as the problem line.
pub fn servers(engine: &Latchkey) -> Known {
    match engine.dashboard() {
        Ok(d) => Known {
            servers: d
                .servers
                .into_iter()
                .filter(|s| s.url_problem.is_none())
                .map(|s| (s.url, s.title))
                .collect(),
            problem: None,
        },
        Err(e) => Known {
            servers: engine
                .inventory()
                .servers
                .into_iter()
                .filter(|s| s.url_problem.is_none())
                .map(|s| {
                    let title = s.names.first().cloned().unwrap_or_else(|| s.url.clone());
                    (s.url, title)
                })
                .collect(),
            problem: Some(problem_line(&e)),
        },
    }
}

/// The tray's view of `servers` (url, title) given their last health.
pub fn view(
    servers: &[(String, String)],
    problem: Option<String>,
    health: &[ServerHealth],
) -> TrayView {
    let lines = servers
        .iter()
        .map(|(url, title)| {
            let h = health.iter().find(|h| &h.server == url);
            ServerLine {
                url: url.clone(),
                label: format!("{title} — {}", status_words(h)),
            }
        })
        .collect();
    let known: Vec<&ServerHealth> = health
        .iter()
        .filter(|h| servers.iter().any(|(url, _)| *url == h.server))
        .collect();
    let mut state = TrayState::of(Overall::worst(known));
    if problem.is_some() && state == TrayState::Ok {
        state = TrayState::Warning;
    }
    TrayView {
        looking: false,
        state,
        problem,
        servers: lines,
    }
}

/// The menu as (id, text, enabled) rows; `None` is a separator.
pub fn menu_rows(v: &TrayView) -> Vec<Option<(String, String, bool)>> {
    let mut rows = Vec::new();
    if let Some(p) = &v.problem {
        rows.push(Some((MENU_PROBLEM.into(), p.clone(), true)));
        rows.push(None);
    }
    if v.looking {
        rows.push(Some((
            MENU_NO_SERVERS.into(),
            "Looking for your servers…".into(),
            false,
        )));
    } else if v.servers.is_empty() && v.problem.is_none() {
        rows.push(Some((
            MENU_NO_SERVERS.into(),
            "No remote MCP servers found yet".into(),
            false,
        )));
    }
    for s in &v.servers {
        rows.push(Some((
            format!("{MENU_SERVER_PREFIX}{}", s.url),
            s.label.clone(),
            true,
        )));
    }
    rows.push(None);
    rows.push(Some((MENU_OPEN.into(), "Open Latchkey".into(), true)));
    rows.push(None);
    rows.push(Some((MENU_QUIT.into(), "Quit".into(), true)));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health(url: &str, h: Health) -> ServerHealth {
        ServerHealth {
            server: url.into(),
            health: h,
            until: None,
            reason: None,
            millis: 1,
        }
    }

    #[test]
    fn the_icon_shows_the_worst_server_and_each_line_its_status() {
        let servers = vec![
            ("https://a/mcp".to_string(), "gitlab".to_string()),
            ("https://b/mcp".to_string(), "linear".to_string()),
            ("https://c/mcp".to_string(), "notion".to_string()),
        ];
        let v = view(
            &servers,
            None,
            &[
                health("https://a/mcp", Health::Working),
                health("https://b/mcp", Health::NeedsSignIn),
                // A server no longer configured does not count.
                health("https://gone/mcp", Health::Unreachable),
            ],
        );
        assert_eq!(v.state, TrayState::NeedsAuth);
        let labels: Vec<&str> = v.servers.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "gitlab — working",
                "linear — needs sign-in",
                "notion — checking…"
            ]
        );
        let rows = menu_rows(&v);
        let ids: Vec<&str> = rows.iter().flatten().map(|r| r.0.as_str()).collect();
        assert_eq!(
            ids,
            [
                "server:https://a/mcp",
                "server:https://b/mcp",
                "server:https://c/mcp",
                "open",
                "quit"
            ]
        );
        assert_eq!(
            MenuChoice::from_id(ids[1]),
            Some(MenuChoice::Server("https://b/mcp".into()))
        );
        assert_eq!(MenuChoice::from_id("open"), Some(MenuChoice::Open));
        assert_eq!(MenuChoice::from_id("quit"), Some(MenuChoice::Quit));
        assert_eq!(MenuChoice::from_id("no-servers"), None);
    }

    #[test]
    fn an_unreadable_keychain_is_one_plain_line_and_at_least_a_warning() {
        let e = latchkey_core::Error::Keychain {
            store: "Secret Service, service \"latchkey\"".into(),
            detail: "DBus error: org.freedesktop.secrets was not provided".into(),
        };
        let p = problem_line(&e);
        assert_eq!(p, "⚠ The keychain is locked or unavailable");
        let v = view(&[], Some(p.clone()), &[]);
        assert_eq!(v.state, TrayState::Warning);
        let rows = menu_rows(&v);
        assert_eq!(rows[0], Some(("problem".into(), p, true)));
        assert!(!rows.iter().flatten().any(|r| r.0 == MENU_NO_SERVERS));
    }

    #[test]
    fn no_servers_says_so() {
        let rows = menu_rows(&view(&[], None, &[]));
        assert_eq!(
            rows[0],
            Some((
                "no-servers".into(),
                "No remote MCP servers found yet".into(),
                false
            ))
        );
    }

    #[test]
    fn at_start_the_menu_says_it_is_looking_not_that_there_are_none() {
        let start = TrayView {
            looking: true,
            ..TrayView::default()
        };
        let rows = menu_rows(&start);
        assert_eq!(
            rows[0],
            Some((
                "no-servers".into(),
                "Looking for your servers…".into(),
                false
            ))
        );
        assert!(!view(&[], None, &[]).looking);
    }

    #[test]
    fn every_state_has_a_distinct_icon_and_tooltip() {
        let states = [TrayState::Ok, TrayState::Warning, TrayState::NeedsAuth];
        for (i, a) in states.iter().enumerate() {
            for b in &states[i + 1..] {
                assert_ne!(a.icon_png(), b.icon_png());
                assert_ne!(a.tooltip(), b.tooltip());
            }
        }
    }
}
