//! The overall state every front shows first (one line at the top of the tray menu, the
//! dashboard and `latchkey status`), with the one action that fits, and each server as a row
//! with its state in a few words, its primary action and which of the person's tools use its
//! sign-in: sorted by urgency, then name. One rule for all three fronts.
//!
//! Offline is read once for all servers, not as one alarm per server: when every server that
//! was probed over the network failed to resolve its name or had no route, at least two
//! hosts failed that way (one wrong name is not "offline") and none answered, or when the OS
//! says there is no network ([`NetworkState`]).

use crate::health::dashboard::{Dashboard, DashboardServer};
use crate::health::probe::{Health, ServerHealth};
use crate::health::reasons::{Reason, NAME_NOT_RESOLVED, NO_ROUTE};
use crate::tools::{ServerEntry, SourceError, Tool};
use serde::Serialize;
use std::time::Duration;
use ts_rs::TS;

/// What the OS says of the network (NetworkManager's `State` on Linux, where present).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NetworkState {
    /// Nothing known (no network service to ask): the probes decide.
    #[default]
    Unknown,
    /// Connected (to something: a local network counts).
    Connected,
    /// No network at all.
    Disconnected,
}

impl NetworkState {
    /// From NetworkManager's `NMState` (its D-Bus `State` property and `StateChanged`
    /// signal): 10 asleep and 20 disconnected are offline, 30 disconnecting too; 40
    /// connecting and 50, 60, 70 (local, site, global connectivity) are connected enough
    /// to try; 0 (unknown) says nothing.
    pub fn of_network_manager(state: u32) -> NetworkState {
        match state {
            10..=30 => NetworkState::Disconnected,
            40..=70 => NetworkState::Connected,
            _ => NetworkState::Unknown,
        }
    }
}

/// The state of everything, worst first: what the tray icon and the top line show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum OverallState {
    /// The servers are known but not one has been checked yet.
    Checking,
    /// Nothing needs the person (servers not signed in yet included: they have not asked).
    AllGood,
    /// The network is gone: servers are waiting for it, not broken.
    Offline,
    /// Something needs a look: a server down or set up wrong, a session about to end, a
    /// settings file that cannot be read.
    Attention,
    /// At least one server needs the person to sign in (again).
    NeedsSignIn,
    /// The keychain cannot be read: nothing works until it is unlocked.
    KeychainLocked,
}

/// The one thing to do about a server (or about everything), as a button says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PrimaryAction {
    /// Never signed in: "Sign in".
    SignIn,
    /// Signed in before, the session can no longer be used: "Sign in again".
    SignInAgain,
    /// Down, not answering, or no network: "Try again".
    TryAgain,
    /// A tool's settings name it wrongly, or its sign-in server is set up wrong: "Fix the
    /// settings" (the Why view says what and where).
    FixSettings,
    /// The keychain is locked: "Unlock the keychain".
    UnlockKeychain,
    /// Working: nothing to do.
    Nothing,
}

impl PrimaryAction {
    /// The button's label.
    pub fn label(self) -> &'static str {
        match self {
            PrimaryAction::SignIn => "Sign in",
            PrimaryAction::SignInAgain => "Sign in again",
            PrimaryAction::TryAgain => "Try again",
            PrimaryAction::FixSettings => "Fix the settings",
            PrimaryAction::UnlockKeychain => "Unlock the keychain",
            PrimaryAction::Nothing => "",
        }
    }
}

/// One server as every front lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ServerRow {
    /// The canonical URL (the server's identity).
    pub url: String,
    /// What to call it (the dashboard's title: the first name a tool gives it, else its host).
    pub title: String,
    /// Its health from the last probe; `None` while it has not been checked.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    /// Its state in a few words ("working", "needs sign-in", "waiting for the network").
    pub words: String,
    /// Why it is not working, where it is not.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// The one action that fits its state.
    pub action: PrimaryAction,
    /// Its button's label ("Sign in again"; empty for [`PrimaryAction::Nothing`]).
    pub action_label: String,
    /// Which of the person's tools use this server's sign-in, and how, in one sentence.
    pub uses: String,
    /// 0 is the most urgent; rows are sorted by it, then by title.
    pub urgency: u8,
}

/// The whole picture: the top line, its action, and every server in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Overview {
    pub state: OverallState,
    /// One line: "All 9 servers working", "2 servers need you to sign in", "You seem to be
    /// offline".
    pub headline: String,
    /// A second line where the headline needs one (what Latchkey does about it, or where).
    pub detail: String,
    /// The one action that fits the whole (`Nothing` when none does).
    pub action: PrimaryAction,
    /// Its button's label (empty for [`PrimaryAction::Nothing`]).
    pub action_label: String,
    /// For a sign-in action: the server to sign in first (the most urgent).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_server: Option<String>,
    pub servers: Vec<ServerRow>,
    /// Settings files that could not be read: never "all good" while there is one.
    pub config_problems: Vec<SourceError>,
}

/// What the overview is built from.
pub struct Inputs<'a> {
    /// The dashboard (local data: configs and keychain), or the keychain's failure with the
    /// servers the config files name.
    pub dashboard: &'a Dashboard,
    /// The keychain could not be read (the reason, in words).
    pub keychain: Option<&'a Reason>,
    /// The last probe of each server (any order; servers not in the dashboard are ignored).
    pub health: &'a [ServerHealth],
    /// What the OS says of the network.
    pub network: NetworkState,
}

/// The overview of `inputs`: the rule described in the module's documentation.
pub fn build(inputs: &Inputs) -> Overview {
    let d = inputs.dashboard;
    let last = |url: &str| inputs.health.iter().find(|h| h.server == url);
    let offline = is_offline(
        d.servers.iter().filter_map(|s| last(&s.url)),
        inputs.network,
    );
    let mut servers: Vec<ServerRow> = d
        .servers
        .iter()
        .map(|s| row(s, last(&s.url), offline, inputs.keychain.is_some()))
        .collect();
    servers.sort_by(|a, b| {
        (a.urgency, a.title.to_lowercase(), &a.url).cmp(&(
            b.urgency,
            b.title.to_lowercase(),
            &b.url,
        ))
    });
    let config_problems = d.errors.clone();
    let (state, headline, mut detail, action) =
        headline(&servers, &config_problems, inputs, offline);
    // A file that cannot be read is said even when something more urgent leads.
    if let (Some(p), false) = (config_problems.first(), state == OverallState::Attention) {
        let also = format!("Also, a settings file can't be read: {p}");
        detail = if detail.is_empty() {
            also
        } else {
            format!("{detail} {also}")
        };
    }
    let action_server = matches!(action, PrimaryAction::SignIn | PrimaryAction::SignInAgain)
        .then(|| servers.first().map(|s| s.url.clone()))
        .flatten();
    Overview {
        state,
        headline,
        detail,
        action,
        action_label: action.label().into(),
        action_server,
        servers,
        config_problems,
    }
}

/// True when the network, not the servers, is why they cannot be reached.
pub fn is_offline<'a>(
    health: impl IntoIterator<Item = &'a ServerHealth>,
    network: NetworkState,
) -> bool {
    match network {
        NetworkState::Disconnected => return true,
        NetworkState::Connected | NetworkState::Unknown => {}
    }
    let mut hosts = Vec::new();
    for h in health {
        if is_loopback(&h.server) {
            // Reachable without a network: says nothing either way.
            continue;
        }
        let id = h.reason.as_ref().map(|r| r.id.as_ref());
        match (h.health, id) {
            (Health::Unreachable, Some(NAME_NOT_RESOLVED | NO_ROUTE)) => {
                let host = host_of(&h.server);
                if !hosts.contains(&host) {
                    hosts.push(host);
                }
            }
            // Answered: the network works.
            (Health::Working | Health::ExpiringSoon | Health::NeverSignedIn, _) => return false,
            // Set up wrong as its answers showed (not for a reason found without the network).
            (Health::Misconfigured, Some(id)) if !LOCAL_REASONS.contains(&id) => return false,
            (Health::Unreachable, Some("unreachable" | "server_error" | "server_not_found")) => {
                return false
            }
            _ => {}
        }
    }
    // NetworkManager saying "connected" does not make names resolve; two hosts failing to
    // resolve at once with none answering is offline still (a captive or broken network).
    hosts.len() >= 2
}

/// Reasons a probe finds without the network: they say nothing of it.
const LOCAL_REASONS: [&str; 5] = [
    "keychain_unavailable",
    "keychain_item_too_large",
    "credentials_unreadable",
    "invalid_url",
    "other",
];

/// How long to wait before checking again while offline and no OS signal will say when the
/// network is back: 5 s, doubling to at most 5 minutes (`attempt` counts from 0).
pub fn offline_backoff(attempt: u32) -> Duration {
    let secs = 5u64.saturating_mul(1u64 << attempt.min(6));
    Duration::from_secs(secs.min(300))
}

fn is_loopback(url: &str) -> bool {
    let host = host_of(url);
    host == "localhost"
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default()
}

fn row(
    s: &DashboardServer,
    h: Option<&ServerHealth>,
    offline: bool,
    keychain_locked: bool,
) -> ServerRow {
    let signed_in_before = s.session.is_some();
    let (words, action, urgency) = match h.map(|h| h.health) {
        _ if s.url_problem.is_some() => ("address is wrong", PrimaryAction::FixSettings, 1),
        None if keychain_locked => ("keychain locked", PrimaryAction::UnlockKeychain, 0),
        None => ("checking…", PrimaryAction::Nothing, 6),
        Some(Health::NeedsSignIn) => ("needs sign-in", PrimaryAction::SignInAgain, 0),
        Some(Health::Misconfigured)
            if h.and_then(|h| h.reason.as_ref()).map(|r| r.id.as_ref())
                == Some("keychain_unavailable") =>
        {
            ("keychain locked", PrimaryAction::UnlockKeychain, 0)
        }
        Some(Health::Misconfigured) => ("set up wrong", PrimaryAction::FixSettings, 1),
        Some(Health::ExpiringSoon) => ("expires soon", PrimaryAction::SignInAgain, 2),
        Some(Health::Unreachable) if offline => {
            ("waiting for the network", PrimaryAction::Nothing, 5)
        }
        Some(Health::Unreachable) => ("can't be reached", PrimaryAction::TryAgain, 3),
        Some(Health::NeverSignedIn) if signed_in_before => {
            ("needs sign-in", PrimaryAction::SignInAgain, 0)
        }
        Some(Health::NeverSignedIn) => ("not signed in", PrimaryAction::SignIn, 4),
        Some(Health::Working | Health::Refreshable) => ("working", PrimaryAction::Nothing, 7),
    };
    ServerRow {
        url: s.url.clone(),
        title: s.title.clone(),
        health: h.map(|h| h.health),
        words: words.into(),
        reason: h.and_then(|h| h.reason.clone()),
        action,
        action_label: action.label().into(),
        uses: uses_line(&s.used_by, signed_in_before),
        urgency,
    }
}

/// How one tool gets this server's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Use {
    /// Through `latchkey bridge` or a header helper that runs `latchkey`: every request.
    Uses,
    /// Latchkey can write its credentials (`Give to …`).
    CanBeGiven,
    /// It keeps its own sign-in.
    OnItsOwn,
}

fn use_of(e: &ServerEntry) -> Use {
    let helper_is_ours = e
        .auth
        .headers_helper
        .as_deref()
        .is_some_and(|c| c.contains("latchkey"));
    if e.bridge || helper_is_ours {
        Use::Uses
    } else if e.tool.handoff().is_some() {
        Use::CanBeGiven
    } else {
        Use::OnItsOwn
    }
}

/// "Claude Code and Cursor use this sign-in. Codex can be given it (Give to…). VS Code signs
/// in by itself (Use in… connects it)." One mention per tool, the best way it has;
/// `signed_in`: Latchkey holds a session for the server (else a hand-off waits for one).
pub fn uses_line(entries: &[ServerEntry], signed_in: bool) -> String {
    let mut best: Vec<(Tool, Use)> = Vec::new();
    for e in entries.iter().filter(|e| e.enabled) {
        let u = use_of(e);
        match best.iter_mut().find(|(t, _)| *t == e.tool) {
            Some((_, have)) => *have = (*have).min(u),
            None => best.push((e.tool, u)),
        }
    }
    if best.is_empty() {
        return "No tool uses it yet: Use in… connects it to yours.".into();
    }
    let names = |u: Use| -> Vec<&'static str> {
        best.iter()
            .filter(|(_, x)| *x == u)
            .map(|(t, _)| t.display_name())
            .collect()
    };
    let mut out = Vec::new();
    let uses = names(Use::Uses);
    if !uses.is_empty() {
        out.push(format!(
            "{} {} this sign-in.",
            and_list(&uses),
            if uses.len() == 1 { "uses" } else { "use" }
        ));
    }
    let given = names(Use::CanBeGiven);
    if !given.is_empty() {
        out.push(if signed_in {
            format!("{} can be given it (Give to…).", and_list(&given))
        } else {
            format!("{} can be given it once you sign in.", and_list(&given))
        });
    }
    let own = names(Use::OnItsOwn);
    if !own.is_empty() {
        out.push(format!(
            "{} {} by {} (Use in… connects {}).",
            and_list(&own),
            if own.len() == 1 {
                "signs in"
            } else {
                "sign in"
            },
            if own.len() == 1 {
                "itself"
            } else {
                "themselves"
            },
            if own.len() == 1 { "it" } else { "them" }
        ));
    }
    out.join(" ")
}

fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn servers_word(n: usize) -> String {
    if n == 1 {
        "1 server".into()
    } else {
        format!("{n} servers")
    }
}

fn headline(
    rows: &[ServerRow],
    config_problems: &[SourceError],
    inputs: &Inputs,
    offline: bool,
) -> (OverallState, String, String, PrimaryAction) {
    let count = |f: &dyn Fn(&ServerRow) -> bool| rows.iter().filter(|r| f(r)).count();
    if let Some(r) = inputs.keychain {
        return (
            OverallState::KeychainLocked,
            "Latchkey cannot read your keychain".into(),
            format!("{} {}", r.explanation, r.fix.words()),
            PrimaryAction::UnlockKeychain,
        );
    }
    let sign_in = count(&|r| r.action == PrimaryAction::SignInAgain && r.urgency == 0);
    if sign_in > 0 {
        let verb = if sign_in == 1 { "needs" } else { "need" };
        return (
            OverallState::NeedsSignIn,
            format!("{} {verb} you to sign in", servers_word(sign_in)),
            String::new(),
            PrimaryAction::SignInAgain,
        );
    }
    if offline {
        return (
            OverallState::Offline,
            "You seem to be offline".into(),
            "Latchkey will check your servers again when you are back online.".into(),
            PrimaryAction::TryAgain,
        );
    }
    let attention = count(&|r| matches!(r.urgency, 1..=3));
    if attention > 0 || !config_problems.is_empty() {
        let mut parts = Vec::new();
        let wrong = count(&|r| r.urgency == 1);
        let ending = count(&|r| r.urgency == 2);
        let down = count(&|r| r.urgency == 3);
        if down > 0 {
            parts.push(format!("{} can't be reached", servers_word(down)));
        }
        if wrong > 0 {
            let verb = if wrong == 1 { "is" } else { "are" };
            parts.push(format!("{} {verb} set up wrong", servers_word(wrong)));
        }
        if ending > 0 {
            parts.push(format!("{} will stop working soon", servers_word(ending)));
        }
        if !config_problems.is_empty() {
            parts.push(if config_problems.len() == 1 {
                "a settings file can't be read".into()
            } else {
                format!("{} settings files can't be read", config_problems.len())
            });
        }
        let mut line = parts.join(", ");
        if let Some(first) = line.get(..1) {
            line = first.to_uppercase() + &line[1..];
        }
        let detail = config_problems
            .first()
            .map(|p| format!("{p}"))
            .unwrap_or_default();
        let action = if wrong > 0 || !config_problems.is_empty() {
            PrimaryAction::FixSettings
        } else if ending > 0 {
            PrimaryAction::SignInAgain
        } else {
            PrimaryAction::TryAgain
        };
        return (OverallState::Attention, line, detail, action);
    }
    if rows.is_empty() {
        return (
            OverallState::AllGood,
            "No remote MCP servers found yet".into(),
            "Add one with its address, or configure one in an AI tool.".into(),
            PrimaryAction::Nothing,
        );
    }
    let checking = count(&|r| r.health.is_none());
    if checking == rows.len() {
        return (
            OverallState::Checking,
            format!("Checking {}…", servers_word(rows.len())),
            String::new(),
            PrimaryAction::Nothing,
        );
    }
    let working = count(&|r| r.action == PrimaryAction::Nothing && r.health.is_some());
    let not_signed_in = count(&|r| r.action == PrimaryAction::SignIn);
    let line = if working == rows.len() {
        if rows.len() == 1 {
            "Your server is working".into()
        } else if rows.len() == 2 {
            "Both servers working".into()
        } else {
            format!("All {} servers working", rows.len())
        }
    } else {
        let mut parts = Vec::new();
        if working > 0 {
            parts.push(format!("{working} working"));
        }
        if not_signed_in > 0 {
            parts.push(format!("{not_signed_in} not signed in"));
        }
        if checking > 0 {
            parts.push(format!("{checking} checking…"));
        }
        parts.join(", ")
    };
    (
        OverallState::AllGood,
        line,
        String::new(),
        PrimaryAction::Nothing,
    )
}

#[cfg(test)]
#[path = "overview_tests.rs"]
mod tests;
