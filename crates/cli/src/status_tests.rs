//! `status`'s output against golden files (tests/golden/status-*.txt in this crate; written
//! afresh with `LATCHKEY_WRITE_GOLDEN=1`), and its exit codes.

use super::*;
use latchkey_core::health::dashboard::{Dashboard, DashboardServer};
use latchkey_core::health::overview::{build, Inputs};
use latchkey_core::health::reasons::from_error;
use latchkey_core::tools::SourceError;
use latchkey_core::usecase::{ConfigScope, ServerEntry, Tool};

const NOW: u64 = 1_800_000_000;

fn entry(tool: Tool, url: &str) -> ServerEntry {
    ServerEntry::http(tool, "/home/p/.claude.json", "x", url)
}

fn server(title: &str, url: &str) -> DashboardServer {
    DashboardServer {
        url: url.into(),
        url_problem: None,
        title: title.into(),
        names: vec![title.into()],
        tools: Vec::new(),
        used_by: vec![entry(Tool::ClaudeCode, url)],
        session: None,
    }
}

fn health(url: &str, health: Health, until: Option<u64>, e: Option<Error>) -> ServerHealth {
    ServerHealth {
        server: url.into(),
        health,
        until,
        reason: e.as_ref().map(from_error),
        millis: 5,
    }
}

fn no_name(url: &str) -> Error {
    Error::Unreachable {
        url: url.into(),
        detail: "the connection failed (failed to lookup address information: Temporary failure in name resolution)".into(),
    }
}

fn broken_file() -> SourceError {
    SourceError {
        tool: Tool::Cursor,
        file: "/home/p/.cursor/mcp.json".into(),
        config_scope: ConfigScope::User,
        line: Some(7),
        column: Some(1),
        server: None,
        message: "the file ends in the middle of an object".into(),
    }
}

fn check(name: &str, d: &Dashboard, h: &[ServerHealth], code: u8) {
    let o = build(&Inputs {
        dashboard: d,
        keychain: None,
        health: h,
        network: NetworkState::Unknown,
    });
    let text = render(&o, h, NOW) + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("status-{name}.txt"));
    if std::env::var_os("LATCHKEY_WRITE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
    }
    let golden = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (LATCHKEY_WRITE_GOLDEN=1 writes it)",
            path.display()
        )
    });
    assert_eq!(
        text, golden,
        "status-{name}.txt differs; the output was:\n{text}"
    );
    assert_eq!(exit_code(&o), code, "{name}");
}

#[test]
fn a_mixed_home_lists_by_urgency_in_aligned_columns_with_the_next_step() {
    let mut d = Dashboard {
        servers: vec![
            server("linear", "https://mcp.linear.app/mcp"),
            server("gitlab", "https://gitlab.example.com/api/v4/mcp"),
            server("notion", "https://mcp.notion.com/mcp"),
            server("sentry", "https://mcp.sentry.dev/mcp"),
        ],
        local_count: 1,
        errors: vec![broken_file()],
    };
    d.servers[1].session = None;
    let h = [
        health(
            "https://mcp.linear.app/mcp",
            Health::Working,
            Some(NOW + 3 * 3600 + 60),
            None,
        ),
        health(
            "https://gitlab.example.com/api/v4/mcp",
            Health::NeedsSignIn,
            None,
            Some(Error::NeedsSignIn {
                server: "https://gitlab.example.com/api/v4/mcp".into(),
                reason: "invalid_grant".into(),
            }),
        ),
        health(
            "https://mcp.notion.com/mcp",
            Health::Unreachable,
            None,
            Some(Error::Unreachable {
                url: "https://mcp.notion.com/mcp".into(),
                detail: "the connection failed (Connection refused (os error 111))".into(),
            }),
        ),
        health(
            "https://mcp.sentry.dev/mcp",
            Health::NeverSignedIn,
            None,
            Some(Error::NotSignedIn {
                server: "https://mcp.sentry.dev/mcp".into(),
            }),
        ),
    ];
    check("mixed", &d, &h, 3);
}

#[test]
fn an_offline_home_is_one_line_not_nine_failures() {
    let names = [
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
    let d = Dashboard {
        servers: names
            .iter()
            .map(|n| server(n, &format!("https://mcp.{n}.example.com/mcp")))
            .collect(),
        local_count: 0,
        errors: Vec::new(),
    };
    let h: Vec<ServerHealth> = d
        .servers
        .iter()
        .map(|s| health(&s.url, Health::Unreachable, None, Some(no_name(&s.url))))
        .collect();
    check("offline", &d, &h, 1);
}

#[test]
fn all_working_exits_zero() {
    let d = Dashboard {
        servers: vec![
            server("notion", "https://mcp.notion.com/mcp"),
            server("Asana", "https://mcp.asana.com/sse"),
        ],
        local_count: 0,
        errors: Vec::new(),
    };
    let h = [
        health(
            "https://mcp.notion.com/mcp",
            Health::Working,
            Some(NOW + 1800),
            None,
        ),
        health(
            "https://mcp.asana.com/sse",
            Health::Refreshable,
            Some(NOW - 5),
            None,
        ),
    ];
    check("working", &d, &h, 0);
}

#[test]
fn a_broken_settings_file_alone_is_not_all_good() {
    let d = Dashboard {
        servers: Vec::new(),
        local_count: 0,
        errors: vec![broken_file()],
    };
    check("broken-file", &d, &[], 1);
}

#[test]
fn names_with_spaces_are_quoted_in_the_next_step() {
    assert_eq!(
        command_for(PrimaryAction::SignIn, "my server").as_deref(),
        Some("latchkey login 'my server'")
    );
    assert_eq!(
        command_for(PrimaryAction::SignInAgain, "gitlab").as_deref(),
        Some("latchkey login gitlab")
    );
}
