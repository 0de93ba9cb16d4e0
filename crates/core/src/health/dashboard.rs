//! What the app's dashboard lists: every remote server of the inventory, and every server
//! signed in through Latchkey that no tool's config names (yet), each with the tools that use
//! it and its stored session. Built from local data only (config files and the keychain),
//! so it shows at once; live health arrives separately from [`crate::health::probe`].

use crate::error::Result;
use crate::health::probe::{Health, ServerHealth};
use crate::health::reasons::{self, Reason};
use crate::store::vault::{CredentialBundle, CredentialStore};
use crate::tools::inventory::Inventory;
use crate::tools::{ServerEntry, SourceError, Tool};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
pub struct Dashboard {
    pub servers: Vec<DashboardServer>,
    /// Local (stdio) servers: counted, not listed (they need no sign-in).
    pub local_count: usize,
    /// Config files, or parts of them, that could not be read.
    pub errors: Vec<SourceError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct DashboardServer {
    /// The canonical URL: the server's identity everywhere in the app.
    pub url: String,
    /// Set when a tool's URL could not be understood; such a server cannot sign in.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_problem: Option<String>,
    /// What to call it: the first name a tool gives it, else its host.
    pub title: String,
    pub names: Vec<String>,
    /// One per tool that uses it (a tool listed once even when several of its files do).
    pub tools: Vec<ToolUse>,
    /// Every config entry that points at it.
    pub used_by: Vec<ServerEntry>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<Session>,
}

/// A tool that uses a server, and whether Latchkey can hand it a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ToolUse {
    pub tool: Tool,
    pub tool_name: String,
    /// Latchkey can write this tool's credentials (`latchkey handoff ...`).
    pub can_hand_off: bool,
    /// In plain words, how this tool gets its token.
    pub note: String,
}

/// The stored session, as the keychain has it (no secret crosses into the UI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Session {
    pub issuer: String,
    pub client_id: String,
    /// When the access token ends, in seconds since the epoch, where known.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// Latchkey holds a refresh token and renews the session without asking.
    pub renewable: bool,
    pub granted_scopes: Vec<String>,
    pub requested_scopes: Vec<String>,
    pub updated_at: u64,
    /// Set when a renewal was refused: why, in plain words.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs_sign_in: Option<Reason>,
}

impl Session {
    pub fn of(b: &CredentialBundle) -> Session {
        Session {
            issuer: b.issuer.clone(),
            client_id: b.client.client_id.clone(),
            expires_at: b.tokens.expires_at,
            renewable: b.tokens.refresh_token.is_some(),
            granted_scopes: b.tokens.scopes.clone(),
            requested_scopes: b.requested_scopes.clone(),
            updated_at: b.updated_at,
            needs_sign_in: b.needs_sign_in.as_ref().map(reasons::from_needs_sign_in),
        }
    }
}

impl ToolUse {
    pub fn of(tool: Tool) -> ToolUse {
        let can_hand_off = tool.handoff().is_some();
        ToolUse {
            tool,
            tool_name: tool.display_name().to_string(),
            can_hand_off,
            note: if can_hand_off {
                format!("Latchkey can give {tool} its sign-in.")
            } else {
                format!(
                    "{tool} signs in by itself, unless you connect it with \"Use in…\": it then runs `latchkey bridge` for the token."
                )
            },
        }
    }
}

fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url).ok()?.host_str().map(str::to_string)
}

/// The dashboard from the inventory and the keychain. A keychain that cannot be read is an
/// error (the app says so and how to fix it), never an empty list that looks like "signed out".
pub fn build(inv: &Inventory, store: &dyn CredentialStore) -> Result<Dashboard> {
    let mut d = rows(inv, |url| Ok(store.load(url)?.as_ref().map(Session::of)))?;
    for entry in store.list()? {
        if d.servers.iter().any(|s| s.url == entry.id) {
            continue;
        }
        let Some(b) = store.load(&entry.id)? else {
            continue;
        };
        d.servers.push(DashboardServer {
            title: entry
                .names
                .first()
                .cloned()
                .or_else(|| host_of(&entry.id))
                .unwrap_or_else(|| entry.id.clone()),
            url: entry.id,
            url_problem: None,
            names: entry.names,
            tools: Vec::new(),
            used_by: Vec::new(),
            session: Some(Session::of(&b)),
        });
    }
    Ok(d)
}

/// The dashboard of the config files alone, for when the keychain cannot be read: every
/// server the tools name, none with a session.
pub fn without_keychain(inv: &Inventory) -> Dashboard {
    let none = |_: &str| -> Result<Option<Session>> { Ok(None) };
    match rows(inv, none) {
        Ok(d) => d,
        // `none` never fails.
        Err(_) => Dashboard {
            servers: Vec::new(),
            local_count: inv.local.len(),
            errors: inv.errors.clone(),
        },
    }
}

/// The inventory's servers, each with the session `session` finds for its URL.
fn rows(inv: &Inventory, session: impl Fn(&str) -> Result<Option<Session>>) -> Result<Dashboard> {
    let mut servers: Vec<DashboardServer> = Vec::new();
    for s in &inv.servers {
        let session = if s.url_problem.is_none() {
            session(&s.url)?
        } else {
            None
        };
        servers.push(DashboardServer {
            url: s.url.clone(),
            url_problem: s.url_problem.clone(),
            title: s
                .names
                .first()
                .cloned()
                .or_else(|| host_of(&s.url))
                .unwrap_or_else(|| s.url.clone()),
            names: s.names.clone(),
            tools: s.tools().into_iter().map(ToolUse::of).collect(),
            used_by: s.used_by.clone(),
            session,
        });
    }
    Ok(Dashboard {
        servers,
        local_count: inv.local.len(),
        errors: inv.errors.clone(),
    })
}

/// What the tray shows: the worst of all statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Overall {
    Ok,
    Warning,
    NeedsSignIn,
}

impl Overall {
    pub fn of(h: Health) -> Overall {
        match h {
            Health::Working | Health::Refreshable => Overall::Ok,
            Health::ExpiringSoon | Health::Unreachable | Health::Misconfigured => Overall::Warning,
            Health::NeedsSignIn => Overall::NeedsSignIn,
            // Not signed in yet is not broken: the person has not asked for it.
            Health::NeverSignedIn => Overall::Ok,
        }
    }

    /// The worst status among these servers' last known health.
    pub fn worst<'a>(all: impl IntoIterator<Item = &'a ServerHealth>) -> Overall {
        all.into_iter()
            .map(|h| Overall::of(h.health))
            .max()
            .unwrap_or(Overall::Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::vault::MemoryStore;
    use crate::tools::inventory::RemoteServer;

    fn entry(tool: Tool, name: &str, url: &str) -> ServerEntry {
        ServerEntry::http(tool, "/home/p/.claude.json", name, url)
    }

    #[test]
    fn lists_inventory_servers_with_their_tools_and_says_which_sign_in_by_themselves() {
        let url = "https://mcp.example.com/mcp";
        let inv = Inventory {
            servers: vec![RemoteServer {
                url: url.into(),
                url_problem: None,
                names: vec!["gitlab".into()],
                used_by: vec![
                    entry(Tool::ClaudeCode, "gitlab", url),
                    entry(Tool::Cursor, "gl", url),
                ],
            }],
            local: vec![],
            errors: vec![],
            files: vec![],
            projects: vec![],
            trusted_projects: vec![],
        };
        let d = build(&inv, &MemoryStore::default()).unwrap();
        assert_eq!(d.servers.len(), 1);
        let s = &d.servers[0];
        assert_eq!(s.title, "gitlab");
        assert!(s.session.is_none());
        assert_eq!(s.tools.len(), 2);
        assert!(s.tools[0].can_hand_off);
        assert!(!s.tools[1].can_hand_off);
        assert!(
            s.tools[1].note.contains("signs in by itself"),
            "{}",
            s.tools[1].note
        );
    }

    #[test]
    fn the_tray_shows_the_worst_status_and_not_signed_in_is_not_a_failure() {
        let h = |health| ServerHealth {
            server: "https://a".into(),
            health,
            until: None,
            reason: None,
            millis: 1,
        };
        assert_eq!(Overall::worst(&[]), Overall::Ok);
        assert_eq!(
            Overall::worst(&[h(Health::Working), h(Health::NeverSignedIn)]),
            Overall::Ok
        );
        assert_eq!(
            Overall::worst(&[h(Health::Working), h(Health::ExpiringSoon)]),
            Overall::Warning
        );
        assert_eq!(
            Overall::worst(&[h(Health::NeedsSignIn), h(Health::Unreachable)]),
            Overall::NeedsSignIn
        );
    }
}
