//! The one rule for what a server argument names, used by every front and every use case that
//! takes a server (`latchkey token gitlab`, `latchkey doctor gitlab`, ...).
//!
//! A server is named by:
//! - its URL (anything with `://`), or
//! - any name an AI tool's config gives it (every tool, user and project files, as the
//!   inventory reads them), or
//! - a name stored with its signed-in bundle (`latchkey login --name`), or
//! - its dashboard title: the first name a tool gives it, else its host (a server signed in
//!   without a name and that no tool lists).
//!
//! Names are compared without regard to case. When a name means more than one server (two
//! tools call different servers `gitlab`), the one whose name matches in its exact case wins
//! if there is exactly one such; otherwise the answer is [`Error::AmbiguousServer`] listing
//! each candidate. A name that matches nothing is [`Error::UnknownServer`], with the close
//! names there are ("did you mean").

use crate::error::{Error, NameCandidate, Result};
use crate::store::vault::{self, IndexEntry};
use crate::tools::inventory::Inventory;
use crate::usecase::engine::Latchkey;

/// Who gives a name stored with a sign-in.
const LATCHKEY: &str = "Latchkey";

/// At most this many "did you mean" suggestions.
const MAX_SUGGESTIONS: usize = 3;

/// A name some place gives a server.
#[derive(Debug, Clone)]
struct Known {
    candidate: NameCandidate,
    /// Why the server's URL cannot be used, when a tool's config holds one that cannot.
    url_problem: Option<String>,
}

fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url).ok()?.host_str().map(str::to_string)
}

/// Every name the inventory and the stored sign-ins give a server, in inventory order.
fn known_names(inventory: &Inventory, stored: &[IndexEntry]) -> Vec<Known> {
    let mut out = Vec::new();
    for s in &inventory.servers {
        for e in &s.used_by {
            let given_by = match e.config_scope.project() {
                None => e.tool.display_name().to_string(),
                Some(project) => {
                    format!("{} (project {})", e.tool.display_name(), project.display())
                }
            };
            out.push(Known {
                candidate: NameCandidate {
                    name: e.name.clone(),
                    given_by,
                    url: s.url.clone(),
                },
                url_problem: s.url_problem.clone(),
            });
        }
    }
    for entry in stored {
        for n in &entry.names {
            out.push(Known {
                candidate: NameCandidate {
                    name: n.clone(),
                    given_by: LATCHKEY.into(),
                    url: entry.id.clone(),
                },
                url_problem: None,
            });
        }
        // The dashboard's title of a server signed in without a name that no tool lists.
        let listed = inventory.servers.iter().any(|s| s.url == entry.id);
        if entry.names.is_empty() && !listed {
            if let Some(host) = host_of(&entry.id) {
                out.push(Known {
                    candidate: NameCandidate {
                        name: host,
                        given_by: format!("{LATCHKEY} (its host)"),
                        url: entry.id.clone(),
                    },
                    url_problem: None,
                });
            }
        }
    }
    out
}

fn distinct_urls<'a>(known: impl Iterator<Item = &'a Known>) -> Vec<&'a Known> {
    let mut out: Vec<&Known> = Vec::new();
    for k in known {
        if !out.iter().any(|o| o.candidate.url == k.candidate.url) {
            out.push(k);
        }
    }
    out
}

/// The server `server` names, as its id (canonical URL), by the rule of this module, from
/// the tools' configs (`inventory`) and the stored sign-ins (`stored`).
///
/// Errors: [`Error::InvalidUrl`] for a URL that cannot be used (or a name whose tool gives a
/// URL that cannot be); [`Error::AmbiguousServer`], [`Error::LocalServer`],
/// [`Error::UnknownServer`] as the module says; [`Error::BadArgument`] for an empty name.
pub fn resolve_in(server: &str, inventory: &Inventory, stored: &[IndexEntry]) -> Result<String> {
    let wanted = server.trim();
    if wanted.contains("://") {
        return vault::server_id(wanted);
    }
    if wanted.is_empty() {
        return Err(Error::BadArgument {
            problem: "no server was named: give its URL or its name".into(),
        });
    }
    let known = known_names(inventory, stored);
    let lower = wanted.to_lowercase();
    let matching: Vec<&Known> = known
        .iter()
        .filter(|k| k.candidate.name.to_lowercase() == lower)
        .collect();
    let mut servers = distinct_urls(matching.iter().copied());
    if servers.len() > 1 {
        // Told apart by case: `GitLab` and `gitlab` are two servers, and this is one of them.
        let exact = distinct_urls(
            matching
                .iter()
                .copied()
                .filter(|k| k.candidate.name == wanted),
        );
        if exact.len() == 1 {
            servers = exact;
        }
    }
    match servers.as_slice() {
        [one] => match &one.url_problem {
            Some(problem) => Err(Error::InvalidUrl {
                input: one.candidate.url.clone(),
                reason: format!(
                    "{} gives {} this URL, and {problem}",
                    one.candidate.given_by, one.candidate.name
                ),
            }),
            None => Ok(one.candidate.url.clone()),
        },
        [] => {
            if let Some(local) = inventory
                .local
                .iter()
                .find(|e| e.name.to_lowercase() == lower)
            {
                return Err(Error::LocalServer {
                    name: local.name.clone(),
                    tool: local.tool.display_name().to_string(),
                });
            }
            let names = known.iter().map(|k| k.candidate.name.as_str());
            Err(Error::UnknownServer {
                name: wanted.to_string(),
                suggestions: suggestions(wanted, names),
            })
        }
        _ => {
            let mut candidates: Vec<NameCandidate> = Vec::new();
            for k in &matching {
                if !candidates.contains(&k.candidate) {
                    candidates.push(k.candidate.clone());
                }
            }
            Err(Error::AmbiguousServer {
                name: wanted.to_string(),
                candidates,
            })
        }
    }
}

/// The edit distance between `a` and `b` (insertions, deletions, substitutions), by chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(prev + cost);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// The names among `names` close to `wanted`, closest first, each once: within a third of
/// its length in edit distance (at least one edit), or one starting with the other.
pub fn suggestions<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let wanted = wanted.to_lowercase();
    let mut scored: Vec<(usize, String)> = Vec::new();
    for name in names {
        let lower = name.to_lowercase();
        if scored.iter().any(|(_, n)| n.to_lowercase() == lower) {
            continue;
        }
        let distance = edit_distance(&wanted, &lower);
        let limit = (wanted.chars().count().max(lower.chars().count()) / 3).max(1);
        let prefix = wanted.chars().count() >= 2
            && (lower.starts_with(&wanted) || wanted.starts_with(&lower));
        if distance <= limit || prefix {
            scored.push((distance, name.to_string()));
        }
    }
    scored.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    scored
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, n)| n)
        .collect()
}

impl Latchkey {
    /// The server `server` names, as its id (its canonical URL): a URL, a name any AI tool's
    /// config gives it (user and project files; the current folder counts as a project), a
    /// name stored with its sign-in, or its dashboard title; without regard to case. The one
    /// resolver of every command and use case that takes a server (see [`resolve_in`]).
    ///
    /// Errors: [`Error::InvalidUrl`], [`Error::UnknownServer`] (with close names),
    /// [`Error::AmbiguousServer`] (with each candidate), [`Error::LocalServer`]; the
    /// keychain's when it cannot be read and no tool's config names the server.
    pub fn resolve_server(&self, server: &str) -> Result<String> {
        if server.contains("://") {
            return vault::server_id(server.trim());
        }
        let mut loc = self.locations.clone();
        if let Some(project) = &loc.project {
            if !loc.projects.contains(project) {
                loc.projects.push(project.clone());
            }
        }
        let inventory = crate::tools::inventory::scan(&loc);
        match self.store.list() {
            Ok(stored) => resolve_in(server, &inventory, &stored),
            // A locked keychain does not hide the names the tools give.
            Err(keychain) => match resolve_in(server, &inventory, &[]) {
                Err(Error::UnknownServer { .. }) => Err(keychain),
                other => other,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::test_support::temp_dir;
    use crate::tools::{Locations, Os};
    use std::path::{Path, PathBuf};

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn stored(id: &str, names: &[&str]) -> IndexEntry {
        IndexEntry {
            id: id.into(),
            names: names.iter().map(|n| n.to_string()).collect(),
        }
    }

    /// A home where each kind of tool names a server: Claude Code (user and project), Claude
    /// Desktop through mcp-remote, Cursor, VS Code, Gemini CLI, Codex, Windsurf and Zed.
    fn home(tag: &str) -> (PathBuf, Inventory) {
        let home = temp_dir(&format!("names-{tag}"));
        let project = home.join("work/p");
        write(
            &home.join(".claude.json"),
            &format!(
                r#"{{"mcpServers": {{"gitlab": {{"type": "http", "url": "https://gitlab.example.com/api/v4/mcp"}}}},
                  "projects": {{"{}": {{"mcpServers": {{"ProjLocal": {{"type": "http", "url": "https://local.example.com/mcp"}}}}}}}}}}"#,
                project.display()
            ),
        );
        write(
            &project.join(".mcp.json"),
            r#"{"mcpServers": {"teamdocs": {"type": "http", "url": "https://docs.example.com/mcp"}}}"#,
        );
        write(
            &home.join(".config/Claude/claude_desktop_config.json"),
            r#"{"mcpServers": {"Notion": {"command": "npx", "args": ["-y", "mcp-remote", "https://mcp.notion.com/mcp"]},
                 "files": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]}}}"#,
        );
        write(
            &home.join(".cursor/mcp.json"),
            r#"{"mcpServers": {"linear": {"url": "https://mcp.linear.app/mcp"}, "gitlab": {"url": "https://gitlab.other.example/mcp"}}}"#,
        );
        write(
            &home.join(".config/Code/User/mcp.json"),
            r#"{"servers": {"sentry": {"type": "http", "url": "https://mcp.sentry.dev/mcp"}}}"#,
        );
        write(
            &home.join(".gemini/settings.json"),
            r#"{"mcpServers": {"stripe": {"httpUrl": "https://mcp.stripe.com"}}}"#,
        );
        write(
            &home.join(".codex/config.toml"),
            "[mcp_servers.figma]\nurl = \"https://mcp.figma.com/mcp\"\n",
        );
        write(
            &home.join(".codeium/windsurf/mcp_config.json"),
            r#"{"mcpServers": {"asana": {"serverUrl": "https://mcp.asana.com/sse"}}}"#,
        );
        write(
            &home.join(".config/zed/settings.json"),
            r#"{"context_servers": {"atlassian": {"url": "https://mcp.atlassian.com/v1/mcp"}}}"#,
        );
        let mut loc = Locations::for_home_on(&home, Os::Linux);
        loc.known_projects = true;
        loc.projects = vec![project];
        let inv = crate::tools::inventory::scan(&loc);
        (home, inv)
    }

    #[test]
    fn a_url_is_its_canonical_form_whatever_the_names() {
        let (_home, inv) = home("a_url_is_its_canonic");
        assert_eq!(
            resolve_in("https://MCP.Linear.app/mcp", &inv, &[]).unwrap(),
            "https://mcp.linear.app/mcp"
        );
        assert!(matches!(
            resolve_in("https://", &inv, &[]),
            Err(Error::InvalidUrl { .. })
        ));
    }

    #[test]
    fn a_name_from_each_kind_of_tool_names_its_server() {
        let (_home, inv) = home("a_name_from_each_kin");
        for (name, url) in [
            ("teamdocs", "https://docs.example.com/mcp"), // Claude Code, project .mcp.json
            ("ProjLocal", "https://local.example.com/mcp"), // Claude Code, per project
            ("Notion", "https://mcp.notion.com/mcp"),     // Claude Desktop via mcp-remote
            ("linear", "https://mcp.linear.app/mcp"),     // Cursor
            ("sentry", "https://mcp.sentry.dev/mcp"),     // VS Code
            ("stripe", "https://mcp.stripe.com"),         // Gemini CLI
            ("figma", "https://mcp.figma.com/mcp"),       // Codex
            ("asana", "https://mcp.asana.com/sse"),       // Windsurf
            ("atlassian", "https://mcp.atlassian.com/v1/mcp"), // Zed
        ] {
            let got = resolve_in(name, &inv, &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                vault::server_id(&got).unwrap(),
                vault::server_id(url).unwrap(),
                "{name}"
            );
        }
    }

    #[test]
    fn names_are_matched_without_regard_to_case_and_space() {
        let (_home, inv) = home("names_are_matched_wi");
        assert_eq!(
            resolve_in("  notion ", &inv, &[]).unwrap(),
            "https://mcp.notion.com/mcp"
        );
        assert_eq!(
            resolve_in("LINEAR", &inv, &[]).unwrap(),
            "https://mcp.linear.app/mcp"
        );
    }

    #[test]
    fn a_name_stored_at_sign_in_and_the_dashboard_title_name_their_server() {
        let (_home, inv) = home("a_name_stored_at_sig");
        let s = [
            stored("https://work.example.com/mcp", &["Work"]),
            stored("https://nameless.example.net/mcp", &[]),
        ];
        assert_eq!(
            resolve_in("work", &inv, &s).unwrap(),
            "https://work.example.com/mcp"
        );
        assert_eq!(
            resolve_in("nameless.example.net", &inv, &s).unwrap(),
            "https://nameless.example.net/mcp"
        );
        // The same server by a tool's name and a stored one is one server, not two.
        let same = [stored("https://mcp.linear.app/mcp", &["Linear"])];
        assert_eq!(
            resolve_in("linear", &inv, &same).unwrap(),
            "https://mcp.linear.app/mcp"
        );
    }

    #[test]
    fn a_name_of_two_servers_lists_both_and_asks_for_the_url() {
        let (_home, inv) = home("a_name_of_two_server");
        let e = resolve_in("GitLab", &inv, &[]).unwrap_err();
        let Error::AmbiguousServer { name, candidates } = &e else {
            panic!("{e:?}");
        };
        assert_eq!(name, "GitLab");
        let mut urls: Vec<&str> = candidates.iter().map(|c| c.url.as_str()).collect();
        urls.sort();
        assert_eq!(
            urls,
            [
                "https://gitlab.example.com/api/v4/mcp",
                "https://gitlab.other.example/mcp"
            ]
        );
        let by: Vec<&str> = candidates.iter().map(|c| c.given_by.as_str()).collect();
        assert!(
            by.contains(&"Claude Code") && by.contains(&"Cursor"),
            "{by:?}"
        );
        let message = e.to_string();
        assert!(message.contains("2 different servers"), "{message}");
        assert!(
            message.contains("in Cursor is https://gitlab.other.example/mcp"),
            "{message}"
        );
        assert!(e.hint().contains("URL"), "{}", e.hint());
        assert_eq!(e.code(), "ambiguous_server");
        // Where case tells them apart, the exact one is meant.
        let s = [stored("https://gitlab.third.example/mcp", &["GitLab"])];
        assert_eq!(
            resolve_in("GitLab", &inv, &s).unwrap(),
            "https://gitlab.third.example/mcp"
        );
    }

    #[test]
    fn an_unknown_name_suggests_close_names_and_where_the_names_are() {
        let (_home, inv) = home("an_unknown_name_sugg");
        let e = resolve_in("notoin", &inv, &[]).unwrap_err();
        assert!(
            matches!(&e, Error::UnknownServer { suggestions, .. } if suggestions == &["Notion"]),
            "{e:?}"
        );
        assert!(e.to_string().contains("did you mean \"Notion\"?"), "{e}");
        assert!(e.hint().contains("latchkey servers"), "{}", e.hint());
        assert_eq!(e.code(), "unknown_server");
        // A start of a name is suggested too.
        let e = resolve_in("atlas", &inv, &[]).unwrap_err();
        assert!(e.to_string().contains("\"atlassian\""), "{e}");
        // Nothing close: no suggestion, still the hint.
        let e = resolve_in("zzzzzz", &inv, &[]).unwrap_err();
        assert!(
            matches!(&e, Error::UnknownServer { suggestions, .. } if suggestions.is_empty()),
            "{e:?}"
        );
        assert!(!e.to_string().contains("did you mean"), "{e}");
    }

    #[test]
    fn a_local_server_is_said_to_need_no_sign_in_and_an_empty_name_is_bad_usage() {
        let (_home, inv) = home("a_local_server_is_sa");
        assert!(matches!(
            resolve_in("files", &inv, &[]),
            Err(Error::LocalServer { tool, .. }) if tool == "Claude Desktop"
        ));
        assert!(matches!(
            resolve_in("  ", &inv, &[]),
            Err(Error::BadArgument { .. })
        ));
    }

    #[test]
    fn suggestions_are_close_first_and_each_once() {
        let names = ["gitlab", "GitLab", "github", "gitea", "linear"];
        assert_eq!(
            suggestions("gitlb", names.iter().copied()),
            ["gitlab", "github"]
        );
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn the_engine_resolves_from_the_configs_and_the_store() {
        let (home, _inv) = home("the_engine_resolves_");
        let store = std::sync::Arc::new(crate::store::vault::MemoryStore::default());
        let mut loc = Locations::for_home_on(&home, Os::Linux);
        loc.project = Some(home.join("work/p"));
        let engine = Latchkey::new(store, loc);
        // The current folder's project file counts.
        assert_eq!(
            engine.resolve_server("TeamDocs").unwrap(),
            "https://docs.example.com/mcp"
        );
        assert_eq!(
            engine.resolve_server("https://mcp.figma.com/mcp").unwrap(),
            "https://mcp.figma.com/mcp"
        );
        assert!(matches!(
            engine.resolve_server("nope"),
            Err(Error::UnknownServer { .. })
        ));
    }
}
