//! What the tray shows, as plain data: the overall line at the top (core's overview, as the
//! dashboard and `latchkey status` show it), the icon for the overall state, and one line per
//! server in the overview's order (urgency, then name). Drawing it is `tray.rs`'s job.

use latchkey_core::usecase::{OverallState, Overview};

/// What the tray icon says, worst first wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrayState {
    /// Nothing needs the person (also while checking, and while offline: nothing to do but
    /// wait): the plain monochrome key.
    #[default]
    Ok,
    /// Offline: the plain key, and a tooltip that says so.
    Offline,
    /// Something needs a look (a server down or set up wrong, a settings file, the keychain).
    Warning,
    /// At least one server needs the person to sign in.
    NeedsAuth,
}

impl TrayState {
    /// The PNG shown in the tray for this state (from icons/, see icons/generate.py).
    pub fn icon_png(self) -> &'static [u8] {
        match self {
            Self::Ok | Self::Offline => include_bytes!("../../../icons/tray-ok.png"),
            Self::Warning => include_bytes!("../../../icons/tray-warning.png"),
            Self::NeedsAuth => include_bytes!("../../../icons/tray-needs-auth.png"),
        }
    }

    pub fn tooltip(self) -> &'static str {
        match self {
            Self::Ok => "Latchkey: nothing needs you",
            Self::Offline => "Latchkey: you seem to be offline",
            Self::Warning => "Latchkey: a server needs attention",
            Self::NeedsAuth => "Latchkey: a server needs you to sign in",
        }
    }

    pub fn of(state: OverallState) -> TrayState {
        match state {
            OverallState::Checking | OverallState::AllGood => TrayState::Ok,
            OverallState::Offline => TrayState::Offline,
            OverallState::Attention | OverallState::KeychainLocked => TrayState::Warning,
            OverallState::NeedsSignIn => TrayState::NeedsAuth,
        }
    }
}

/// One menu line: a server's title and its state in a few words.
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
    /// The overall line ("All 9 servers working", "You seem to be offline").
    pub headline: String,
    /// A second line where the overall one needs it (the file that cannot be read, what
    /// Latchkey does while offline); empty when none.
    pub detail: String,
    pub servers: Vec<ServerLine>,
}

/// A menu item's meaning, from its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuChoice {
    Server(String),
    /// The overall line: the window, where its action is.
    Overall,
    Open,
    Quit,
}

pub const MENU_OPEN: &str = "open";
pub const MENU_QUIT: &str = "quit";
pub const MENU_OVERALL: &str = "overall";
pub const MENU_LOOKING: &str = "looking";
pub const MENU_DETAIL: &str = "detail";
/// Prefix of a server's menu item id; the rest is its canonical URL.
pub const MENU_SERVER_PREFIX: &str = "server:";

impl MenuChoice {
    pub fn from_id(id: &str) -> Option<MenuChoice> {
        match id {
            MENU_OPEN => Some(MenuChoice::Open),
            MENU_QUIT => Some(MenuChoice::Quit),
            MENU_OVERALL => Some(MenuChoice::Overall),
            _ => id
                .strip_prefix(MENU_SERVER_PREFIX)
                .map(|url| MenuChoice::Server(url.to_string())),
        }
    }
}

/// The tray's view of an overview.
pub fn view(o: &Overview) -> TrayView {
    TrayView {
        looking: false,
        state: TrayState::of(o.state),
        headline: o.headline.clone(),
        detail: o.detail.clone(),
        servers: o
            .servers
            .iter()
            .map(|r| ServerLine {
                url: r.url.clone(),
                label: format!("{} — {}", r.title, r.words),
            })
            .collect(),
    }
}

/// The menu as (id, text, enabled) rows; `None` is a separator.
pub fn menu_rows(v: &TrayView) -> Vec<Option<(String, String, bool)>> {
    let mut rows = Vec::new();
    if v.looking {
        rows.push(Some((
            MENU_LOOKING.into(),
            "Looking for your servers…".into(),
            false,
        )));
    } else {
        // Enabled only where it leads somewhere: the window says what to do.
        let actionable = matches!(v.state, TrayState::Warning | TrayState::NeedsAuth);
        rows.push(Some((MENU_OVERALL.into(), v.headline.clone(), actionable)));
        if !v.detail.is_empty() {
            rows.push(Some((MENU_DETAIL.into(), v.detail.clone(), false)));
        }
    }
    if !v.servers.is_empty() {
        rows.push(None);
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
    use latchkey_core::health::dashboard::{Dashboard, DashboardServer};
    use latchkey_core::health::overview::{build, Inputs};
    use latchkey_core::health::reasons::from_error;
    use latchkey_core::usecase::{Health, NetworkState, ServerHealth};
    use latchkey_core::Error;

    fn server(title: &str, url: &str) -> DashboardServer {
        DashboardServer {
            url: url.into(),
            url_problem: None,
            title: title.into(),
            names: vec![title.into()],
            tools: Vec::new(),
            used_by: Vec::new(),
            session: None,
        }
    }

    fn health(url: &str, h: Health, e: Option<Error>) -> ServerHealth {
        ServerHealth {
            server: url.into(),
            health: h,
            until: None,
            reason: e.as_ref().map(from_error),
            millis: 1,
        }
    }

    fn tray_of(servers: Vec<DashboardServer>, h: &[ServerHealth], keychain: bool) -> TrayView {
        let d = Dashboard {
            servers,
            local_count: 0,
            errors: Vec::new(),
        };
        let locked = from_error(&Error::Keychain {
            store: "Secret Service".into(),
            detail: "org.freedesktop.secrets was not provided".into(),
        });
        view(&build(&Inputs {
            dashboard: &d,
            keychain: keychain.then_some(&locked),
            health: h,
            network: NetworkState::Unknown,
        }))
    }

    #[test]
    fn the_overall_line_comes_first_then_servers_by_urgency_and_the_icon_shows_the_worst() {
        let v = tray_of(
            vec![
                server("gitlab", "https://a/mcp"),
                server("linear", "https://b/mcp"),
                server("notion", "https://c/mcp"),
            ],
            &[
                health("https://a/mcp", Health::Working, None),
                health("https://b/mcp", Health::NeedsSignIn, None),
                // A server no longer configured does not count.
                health("https://gone/mcp", Health::Unreachable, None),
            ],
            false,
        );
        assert_eq!(v.state, TrayState::NeedsAuth);
        assert_eq!(v.headline, "1 server needs you to sign in");
        let labels: Vec<&str> = v.servers.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "linear — needs sign-in",
                "notion — checking…",
                "gitlab — working"
            ]
        );
        let rows = menu_rows(&v);
        let ids: Vec<&str> = rows.iter().flatten().map(|r| r.0.as_str()).collect();
        assert_eq!(
            ids,
            [
                "overall",
                "server:https://b/mcp",
                "server:https://c/mcp",
                "server:https://a/mcp",
                "open",
                "quit"
            ]
        );
        assert_eq!(
            rows[0],
            Some((
                "overall".into(),
                "1 server needs you to sign in".into(),
                true
            ))
        );
        assert_eq!(
            MenuChoice::from_id(ids[1]),
            Some(MenuChoice::Server("https://b/mcp".into()))
        );
        assert_eq!(MenuChoice::from_id("overall"), Some(MenuChoice::Overall));
        assert_eq!(MenuChoice::from_id("open"), Some(MenuChoice::Open));
        assert_eq!(MenuChoice::from_id("quit"), Some(MenuChoice::Quit));
        assert_eq!(MenuChoice::from_id("looking"), None);
    }

    #[test]
    fn offline_is_one_line_and_the_plain_icon_not_nine_alarms() {
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        let servers: Vec<DashboardServer> = names
            .iter()
            .map(|n| server(n, &format!("https://{n}.example.com/mcp")))
            .collect();
        let h: Vec<ServerHealth> = servers
            .iter()
            .map(|s| {
                health(
                    &s.url,
                    Health::Unreachable,
                    Some(Error::Unreachable {
                        url: s.url.clone(),
                        detail: "failed to lookup address information: Name or service not known"
                            .into(),
                    }),
                )
            })
            .collect();
        let v = tray_of(servers, &h, false);
        assert_eq!(v.state, TrayState::Offline);
        assert_eq!(v.state.icon_png(), TrayState::Ok.icon_png());
        assert_eq!(v.headline, "You seem to be offline");
        assert!(v
            .servers
            .iter()
            .all(|s| s.label.ends_with("— waiting for the network")));
        assert!(!menu_rows(&v)[0].as_ref().unwrap().2, "nothing to click");
    }

    #[test]
    fn a_settings_file_that_cannot_be_read_is_a_warning_that_names_the_file() {
        let d = Dashboard {
            servers: vec![server("gitlab", "https://a/mcp")],
            local_count: 0,
            errors: vec![latchkey_core::tools::SourceError {
                tool: latchkey_core::usecase::Tool::Cursor,
                file: "/home/p/.cursor/mcp.json".into(),
                config_scope: latchkey_core::usecase::ConfigScope::User,
                line: Some(3),
                column: Some(1),
                server: None,
                message: "the file ends in the middle of an object".into(),
            }],
        };
        let v = view(&build(&Inputs {
            dashboard: &d,
            keychain: None,
            health: &[health("https://a/mcp", Health::Working, None)],
            network: NetworkState::Unknown,
        }));
        assert_eq!(v.state, TrayState::Warning);
        assert_eq!(v.headline, "A settings file can't be read");
        let rows = menu_rows(&v);
        let detail = rows[1].as_ref().unwrap();
        assert_eq!(detail.0, "detail");
        assert!(
            detail.1.starts_with("/home/p/.cursor/mcp.json, line 3"),
            "{detail:?}"
        );
    }

    #[test]
    fn an_unreadable_keychain_is_the_overall_line_and_a_warning() {
        let v = tray_of(vec![server("gitlab", "https://a/mcp")], &[], true);
        assert_eq!(v.state, TrayState::Warning);
        assert_eq!(v.headline, "Latchkey cannot read your keychain");
        assert_eq!(v.servers[0].label, "gitlab — keychain locked");
    }

    #[test]
    fn no_servers_says_so_and_at_start_the_menu_says_it_is_looking() {
        let rows = menu_rows(&tray_of(Vec::new(), &[], false));
        assert_eq!(
            rows[0],
            Some((
                "overall".into(),
                "No remote MCP servers found yet".into(),
                false
            ))
        );
        let start = TrayView {
            looking: true,
            ..TrayView::default()
        };
        assert_eq!(
            menu_rows(&start)[0],
            Some(("looking".into(), "Looking for your servers…".into(), false))
        );
    }

    #[test]
    fn every_state_has_a_tooltip_and_the_alarms_distinct_icons() {
        let states = [
            TrayState::Ok,
            TrayState::Offline,
            TrayState::Warning,
            TrayState::NeedsAuth,
        ];
        for (i, a) in states.iter().enumerate() {
            for b in &states[i + 1..] {
                assert_ne!(a.tooltip(), b.tooltip());
            }
        }
        assert_ne!(TrayState::Ok.icon_png(), TrayState::Warning.icon_png());
        assert_ne!(TrayState::Ok.icon_png(), TrayState::NeedsAuth.icon_png());
        assert_ne!(
            TrayState::Warning.icon_png(),
            TrayState::NeedsAuth.icon_png()
        );
    }
}
