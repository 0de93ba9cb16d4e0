//! The server inventory: every remote MCP server configured in any AI tool, once, merged by
//! canonical URL (RFC 8707 / MCP: lower-case scheme and host, no default port, no trailing
//! slash, no fragment), with every tool (and scope) that uses it and each tool's own auth
//! settings. Local (stdio) servers are counted apart. Problems with a file are listed per file
//! and never hide the other files.

use crate::protocol::urls::{canonical_resource, parse_http_url};
use crate::tools::{self, ConfigScope, Locations, ServerEntry, SourceError, Tool};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use ts_rs::TS;

/// Every server configured in any tool, remote ones merged by canonical URL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Inventory {
    /// Remote servers, ordered by URL (those whose URL could not be understood last).
    pub servers: Vec<RemoteServer>,
    /// Local servers (run by the tool on this computer; no sign-in), in tool order.
    pub local: Vec<ServerEntry>,
    /// Files, or parts of files, that could not be read.
    pub errors: Vec<SourceError>,
    /// Every config file that exists and was read.
    pub files: Vec<ConfigFile>,
    /// The project folders looked in.
    pub projects: Vec<PathBuf>,
    /// The project folders a tool marks trusted (Claude Code's `hasTrustDialogAccepted`).
    #[serde(default)]
    pub trusted_projects: Vec<PathBuf>,
}

/// One remote server and every tool configuration that points at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RemoteServer {
    /// The canonical URL; the URL as written when it is not a usable http(s) URL.
    pub url: String,
    /// Set when the URL as written could not be understood (e.g. it holds a `${env:...}`
    /// placeholder); such a server is never merged with another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub url_problem: Option<String>,
    /// The names the tools give it, in first-seen order.
    pub names: Vec<String>,
    /// Each tool configuration that uses it, in tool order.
    pub used_by: Vec<ServerEntry>,
}

impl RemoteServer {
    /// Whether the tray may probe the server on its own: some tool uses it from the user's
    /// own settings (user or Claude Code's local scope), or from a project's shared file
    /// (a folder anyone may have cloned) that the tool trusts. Claude Code marks trust per
    /// project (`hasTrustDialogAccepted` in `~/.claude.json`: `trusted`); the other tools
    /// have no marker Latchkey reads, so their project files count only for `current`: the
    /// folder Latchkey was started in and the projects named to it (`--project`).
    pub fn probed(&self, trusted: &[PathBuf], current: &[PathBuf]) -> bool {
        self.used_by.iter().any(|e| match &e.config_scope {
            ConfigScope::User | ConfigScope::Local { .. } => true,
            ConfigScope::Project { project } => {
                current.contains(project)
                    || (e.tool == Tool::ClaudeCode && trusted.contains(project))
            }
        })
    }

    /// The tools that use the server, each once, in tool order.
    pub fn tools(&self) -> Vec<Tool> {
        let mut tools: Vec<Tool> = self.used_by.iter().map(|e| e.tool).collect();
        tools.dedup();
        tools
    }
}

/// A config file that was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConfigFile {
    /// The tool whose file it is.
    pub tool: Tool,
    /// The file.
    pub file: PathBuf,
    /// For the user or for one project.
    #[serde(rename = "scope")]
    pub config_scope: ConfigScope,
}

impl Inventory {
    /// How many remote servers the inventory lists.
    pub fn remote_count(&self) -> usize {
        self.servers.len()
    }

    /// Builds the inventory from what the tools' files gave.
    pub fn from_scan(scan: tools::Scan) -> Inventory {
        let mut servers: Vec<RemoteServer> = Vec::new();
        let mut local = Vec::new();
        for entry in scan.entries {
            let Some(url) = entry.url.clone() else {
                local.push(entry);
                continue;
            };
            let (key, problem) = match parse_http_url(&url) {
                Ok(u) => (canonical_resource(&u), None),
                Err(e) => (url.trim().to_string(), Some(problem_words(&url, &e))),
            };
            let found = servers
                .iter_mut()
                .find(|s| s.url == key && s.url_problem.is_none() && problem.is_none());
            match found {
                Some(s) => {
                    if !s.names.contains(&entry.name) {
                        s.names.push(entry.name.clone());
                    }
                    s.used_by.push(entry);
                }
                None => servers.push(RemoteServer {
                    url: key,
                    url_problem: problem,
                    names: vec![entry.name.clone()],
                    used_by: vec![entry],
                }),
            }
        }
        // By URL; addresses that could not be understood last.
        servers.sort_by(|a, b| {
            (a.url_problem.is_some(), &a.url).cmp(&(b.url_problem.is_some(), &b.url))
        });
        Inventory {
            servers,
            local,
            errors: scan.errors,
            files: scan
                .files_read
                .into_iter()
                .map(|s| ConfigFile {
                    tool: s.tool(),
                    file: s.path,
                    config_scope: s.config_scope,
                })
                .collect(),
            projects: scan.projects,
            trusted_projects: scan.trusted_projects,
        }
    }
}

fn problem_words(url: &str, e: &crate::Error) -> String {
    if url.contains("${") || url.contains("{env:") {
        return "it holds a placeholder that the tool fills in when it starts, so Latchkey \
                cannot tell which server it is"
            .into();
    }
    match e {
        crate::Error::InvalidUrl { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}

/// Reads every tool's files under `loc` and builds the inventory.
pub fn scan(loc: &Locations) -> Inventory {
    Inventory::from_scan(tools::scan(loc))
}
