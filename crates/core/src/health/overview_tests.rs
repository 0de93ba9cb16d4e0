use super::*;
use crate::health::dashboard::Session;
use crate::health::reasons::{from_error, from_needs_sign_in};
use crate::store::vault::NeedsSignIn;
use crate::tools::ConfigScope;
use crate::Error;

fn entry(tool: Tool, url: &str) -> ServerEntry {
    ServerEntry::http(tool, "/home/p/.claude.json", "x", url)
}

fn server(title: &str, url: &str, tools: &[Tool]) -> DashboardServer {
    DashboardServer {
        url: url.into(),
        url_problem: None,
        title: title.into(),
        names: vec![title.into()],
        tools: Vec::new(),
        used_by: tools.iter().map(|&t| entry(t, url)).collect(),
        session: None,
    }
}

fn dashboard(servers: Vec<DashboardServer>) -> Dashboard {
    Dashboard {
        servers,
        local_count: 0,
        errors: Vec::new(),
    }
}

fn health(url: &str, health: Health, reason: Option<Reason>) -> ServerHealth {
    ServerHealth {
        server: url.into(),
        health,
        until: None,
        reason,
        millis: 3,
    }
}

fn no_name(url: &str) -> ServerHealth {
    let e = Error::Unreachable {
        url: url.into(),
        detail: "the connection failed (failed to lookup address information: Name or service not known)".into(),
    };
    health(url, Health::Unreachable, Some(from_error(&e)))
}

fn refused(url: &str) -> ServerHealth {
    let e = Error::Unreachable {
        url: url.into(),
        detail: "the connection failed (Connection refused (os error 111))".into(),
    };
    health(url, Health::Unreachable, Some(from_error(&e)))
}

fn overview(d: &Dashboard, h: &[ServerHealth]) -> Overview {
    build(&Inputs {
        dashboard: d,
        keychain: None,
        health: h,
        network: NetworkState::Unknown,
    })
}

const NAMES: [&str; 9] = [
    "gitlab",
    "notion",
    "linear",
    "sentry",
    "asana",
    "atlassian",
    "stripe",
    "github",
    "figma",
];

fn nine() -> Dashboard {
    dashboard(
        NAMES
            .iter()
            .map(|n| server(n, &format!("https://mcp.{n}.com/mcp"), &[Tool::ClaudeCode]))
            .collect(),
    )
}

#[test]
fn nine_servers_that_fail_name_lookup_at_once_read_as_offline_not_nine_alarms() {
    let d = nine();
    let h: Vec<ServerHealth> = d.servers.iter().map(|s| no_name(&s.url)).collect();
    let o = overview(&d, &h);
    assert_eq!(o.state, OverallState::Offline);
    assert_eq!(o.headline, "You seem to be offline");
    assert!(
        o.detail.contains("when you are back online"),
        "{}",
        o.detail
    );
    for r in &o.servers {
        assert_eq!(r.words, "waiting for the network");
        assert_eq!(r.action, PrimaryAction::Nothing, "no per-server alarm");
    }
}

#[test]
fn one_unresolvable_name_is_that_server_not_the_network() {
    let d = nine();
    let mut h: Vec<ServerHealth> = d
        .servers
        .iter()
        .map(|s| health(&s.url, Health::Working, None))
        .collect();
    h[0] = no_name(&d.servers[0].url);
    let o = overview(&d, &h);
    assert_eq!(o.state, OverallState::Attention);
    assert_eq!(o.headline, "1 server can't be reached");
    assert_eq!(o.action, PrimaryAction::TryAgain);
    assert_eq!(o.servers[0].title, "gitlab", "the failing one first");
    assert_eq!(o.servers[0].words, "can't be reached");
    // Nor is it offline when the only failures are two names while another host answers.
    h[1] = no_name(&d.servers[1].url);
    assert_ne!(overview(&d, &h).state, OverallState::Offline);
}

#[test]
fn a_refused_connection_is_an_answer_and_the_os_saying_disconnected_is_offline() {
    let d = nine();
    let mut h: Vec<ServerHealth> = d.servers.iter().map(|s| no_name(&s.url)).collect();
    h[3] = refused(&d.servers[3].url);
    assert_eq!(overview(&d, &h).state, OverallState::Attention);
    let o = build(&Inputs {
        dashboard: &d,
        keychain: None,
        health: &[refused(&d.servers[0].url)],
        network: NetworkState::Disconnected,
    });
    assert_eq!(o.state, OverallState::Offline);
    assert_eq!(
        NetworkState::of_network_manager(20),
        NetworkState::Disconnected
    );
    assert_eq!(
        NetworkState::of_network_manager(70),
        NetworkState::Connected
    );
    assert_eq!(NetworkState::of_network_manager(0), NetworkState::Unknown);
}

#[test]
fn a_loopback_server_answering_does_not_hide_that_the_rest_are_offline() {
    let mut d = nine();
    d.servers.push(server(
        "local",
        "http://127.0.0.1:8080/mcp",
        &[Tool::Cursor],
    ));
    let mut h: Vec<ServerHealth> = d.servers[..9].iter().map(|s| no_name(&s.url)).collect();
    h.push(health("http://127.0.0.1:8080/mcp", Health::Working, None));
    assert_eq!(overview(&d, &h).state, OverallState::Offline);
}

#[test]
fn all_working_says_so_and_rows_sort_by_urgency_then_name() {
    let d = dashboard(vec![
        server("zed-docs", "https://z.example.com/mcp", &[Tool::ClaudeCode]),
        server("Asana", "https://a.example.com/mcp", &[Tool::ClaudeCode]),
        server("notion", "https://n.example.com/mcp", &[Tool::ClaudeCode]),
    ]);
    let h: Vec<ServerHealth> = d
        .servers
        .iter()
        .map(|s| health(&s.url, Health::Working, None))
        .collect();
    let o = overview(&d, &h);
    assert_eq!(o.state, OverallState::AllGood);
    assert_eq!(o.headline, "All 3 servers working");
    assert_eq!(o.action, PrimaryAction::Nothing);
    let titles: Vec<&str> = o.servers.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(titles, ["Asana", "notion", "zed-docs"]);

    let mut h2 = h.clone();
    h2[0] = health(
        &d.servers[0].url,
        Health::NeedsSignIn,
        Some(from_needs_sign_in(&NeedsSignIn {
            code: "invalid_grant".into(),
            description: None,
            at: 0,
        })),
    );
    let o = overview(&d, &h2);
    assert_eq!(o.state, OverallState::NeedsSignIn);
    assert_eq!(o.headline, "1 server needs you to sign in");
    assert_eq!(o.action, PrimaryAction::SignInAgain);
    assert_eq!(
        o.action_server.as_deref(),
        Some("https://z.example.com/mcp")
    );
    assert_eq!(o.servers[0].title, "zed-docs");
    assert_eq!(o.servers[0].action.label(), "Sign in again");
}

#[test]
fn each_state_has_the_primary_action_that_fits() {
    let url = "https://s.example.com/mcp";
    let d = dashboard(vec![server("s", url, &[Tool::ClaudeCode])]);
    let action = |h: ServerHealth| overview(&d, &[h]).servers[0].action;
    assert_eq!(
        action(health(url, Health::NeverSignedIn, None)),
        PrimaryAction::SignIn
    );
    assert_eq!(
        action(health(url, Health::NeedsSignIn, None)),
        PrimaryAction::SignInAgain
    );
    assert_eq!(action(refused(url)), PrimaryAction::TryAgain);
    assert_eq!(
        action(health(url, Health::Misconfigured, None)),
        PrimaryAction::FixSettings
    );
    assert_eq!(
        action(health(url, Health::Working, None)),
        PrimaryAction::Nothing
    );
    let locked = from_error(&Error::Keychain {
        store: "Secret Service".into(),
        detail: "locked".into(),
    });
    assert_eq!(
        action(health(url, Health::Misconfigured, Some(locked))),
        PrimaryAction::UnlockKeychain
    );
    let mut bad = d.clone();
    bad.servers[0].url_problem = Some("relative URL without a base".into());
    assert_eq!(
        overview(&bad, &[]).servers[0].action,
        PrimaryAction::FixSettings
    );
    // A never-signed-in server is not a problem: the top line stays calm.
    let o = overview(&d, &[health(url, Health::NeverSignedIn, None)]);
    assert_eq!(o.state, OverallState::AllGood);
    assert_eq!(o.headline, "1 not signed in");
}

#[test]
fn a_settings_file_that_cannot_be_read_is_never_all_good() {
    let mut d = dashboard(Vec::new());
    d.errors.push(SourceError {
        tool: Tool::Cursor,
        file: "/home/p/.cursor/mcp.json".into(),
        config_scope: ConfigScope::User,
        line: Some(4),
        column: Some(1),
        server: None,
        message: "unexpected end of file".into(),
    });
    let o = overview(&d, &[]);
    assert_eq!(o.state, OverallState::Attention);
    assert_eq!(o.headline, "A settings file can't be read");
    assert!(
        o.detail.contains("/home/p/.cursor/mcp.json"),
        "{}",
        o.detail
    );
    assert_eq!(o.action, PrimaryAction::FixSettings);
}

#[test]
fn the_keychain_locked_comes_first() {
    let d = nine();
    let r = from_error(&Error::Keychain {
        store: "Secret Service".into(),
        detail: "locked".into(),
    });
    let o = build(&Inputs {
        dashboard: &d,
        keychain: Some(&r),
        health: &[],
        network: NetworkState::Unknown,
    });
    assert_eq!(o.state, OverallState::KeychainLocked);
    assert_eq!(o.action, PrimaryAction::UnlockKeychain);
    assert!(o.servers.iter().all(|s| s.words == "keychain locked"));
}

#[test]
fn before_any_probe_it_is_checking_and_with_none_it_says_so() {
    let o = overview(&nine(), &[]);
    assert_eq!(o.state, OverallState::Checking);
    assert_eq!(o.headline, "Checking 9 servers…");
    let o = overview(&dashboard(Vec::new()), &[]);
    assert_eq!(o.headline, "No remote MCP servers found yet");
}

#[test]
fn the_uses_line_says_which_tools_use_the_sign_in_and_how() {
    let url = "https://s.example.com/mcp";
    let mut bridged = entry(Tool::Cursor, url);
    bridged.bridge = true;
    let mut helper = entry(Tool::ClaudeCode, url);
    helper.auth.headers_helper = Some("latchkey headers https://s.example.com/mcp".into());
    let line = uses_line(
        &[
            helper,
            bridged,
            entry(Tool::Codex, url),
            entry(Tool::VsCode, url),
            entry(Tool::Zed, url),
        ],
        true,
    );
    assert_eq!(
        line,
        "Claude Code and Cursor use this sign-in. Codex can be given it (Give to…). \
         VS Code and Zed sign in by themselves (Use in… connects them)."
    );
    assert_eq!(
        uses_line(&[entry(Tool::Windsurf, url)], true),
        "Windsurf signs in by itself (Use in… connects it)."
    );
    assert_eq!(
        uses_line(&[], false),
        "No tool uses it yet: Use in… connects it to yours."
    );
    assert_eq!(
        uses_line(&[entry(Tool::Codex, url)], false),
        "Codex can be given it once you sign in."
    );
    let _ = Session::of;
}

#[test]
fn offline_checks_back_off_to_five_minutes() {
    assert_eq!(offline_backoff(0), Duration::from_secs(5));
    assert_eq!(offline_backoff(1), Duration::from_secs(10));
    assert_eq!(offline_backoff(5), Duration::from_secs(160));
    assert_eq!(offline_backoff(6), Duration::from_secs(300));
    assert_eq!(offline_backoff(60), Duration::from_secs(300));
}

#[test]
fn a_server_set_up_wrong_answered_so_the_network_works() {
    let d = nine();
    let mut h: Vec<ServerHealth> = d.servers.iter().map(|s| no_name(&s.url)).collect();
    let insecure = from_error(&Error::InsecureEndpoint {
        url: "http://as.example.com/token".into(),
        what: "token endpoint".into(),
    });
    h[0] = health(&d.servers[0].url, Health::Misconfigured, Some(insecure));
    assert_eq!(overview(&d, &h).state, OverallState::Attention);
    // A keychain failure is found without the network: still offline.
    let locked = from_error(&Error::Keychain {
        store: "Secret Service".into(),
        detail: "locked".into(),
    });
    h[0] = health(&d.servers[0].url, Health::Misconfigured, Some(locked));
    assert_eq!(overview(&d, &h).state, OverallState::Offline);
}

/// The UI tests' home (tests/ui/fixture.js, whose `overview` gives these very words to the
/// mocked window): four servers in four states.
#[test]
fn the_ui_fixtures_home_reads_as_the_ui_tests_expect() {
    const GITLAB: &str = "https://gitlab.example.com/api/v4/mcp";
    const LINEAR: &str = "https://mcp.linear.app/mcp";
    const SENTRY: &str = "https://mcp.sentry.dev/mcp";
    const INTERNAL: &str = "https://mcp.internal.example/mcp";
    let signed_in = |mut s: DashboardServer| {
        s.session = Some(Session {
            issuer: "https://as.example.com".into(),
            client_id: "c".into(),
            expires_at: None,
            renewable: true,
            granted_scopes: Vec::new(),
            requested_scopes: Vec::new(),
            updated_at: 0,
            needs_sign_in: None,
        });
        s
    };
    let d = dashboard(vec![
        signed_in(server("gitlab", GITLAB, &[Tool::ClaudeCode, Tool::Cursor])),
        signed_in(server(
            "linear",
            LINEAR,
            &[Tool::ClaudeCode, Tool::GeminiCli],
        )),
        server("sentry", SENTRY, &[Tool::VsCode]),
        server("internal-docs", INTERNAL, &[Tool::Windsurf]),
    ]);
    let h = [
        health(GITLAB, Health::Working, None),
        health(LINEAR, Health::NeedsSignIn, None),
        health(SENTRY, Health::NeverSignedIn, None),
        refused(INTERNAL),
    ];
    let o = overview(&d, &h);
    assert_eq!(o.headline, "1 server needs you to sign in");
    assert_eq!(o.action_label, "Sign in again");
    assert_eq!(o.action_server.as_deref(), Some(LINEAR));
    let rows: Vec<(&str, &str, &str, &str)> = o
        .servers
        .iter()
        .map(|r| {
            (
                r.title.as_str(),
                r.words.as_str(),
                r.action_label.as_str(),
                r.uses.as_str(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("linear", "needs sign-in", "Sign in again", "Claude Code and Gemini CLI can be given it (Give to…)."),
            ("internal-docs", "can't be reached", "Try again", "Windsurf signs in by itself (Use in… connects it)."),
            ("sentry", "not signed in", "Sign in", "VS Code signs in by itself (Use in… connects it)."),
            ("gitlab", "working", "", "Claude Code can be given it (Give to…). Cursor signs in by itself (Use in… connects it)."),
        ]
    );
}

#[test]
fn a_settings_file_that_cannot_be_read_is_said_under_a_more_urgent_line() {
    let url = "https://s.example.com/mcp";
    let mut d = dashboard(vec![server("s", url, &[Tool::ClaudeCode])]);
    d.errors.push(SourceError {
        tool: Tool::GeminiCli,
        file: "/home/p/.gemini/settings.json".into(),
        config_scope: ConfigScope::User,
        line: None,
        column: None,
        server: None,
        message: "cut off".into(),
    });
    let o = overview(&d, &[health(url, Health::NeedsSignIn, None)]);
    assert_eq!(o.state, OverallState::NeedsSignIn);
    assert_eq!(
        o.detail,
        "Also, a settings file can't be read: /home/p/.gemini/settings.json: cut off"
    );
}
