//! Handing a signed-in server to a tool, as the command line and the app both do it: find
//! every entry of the tool's config for the server, write what the tool reads, and say in
//! plain words where it went. Every path comes from [`Env`], so tests never touch a real home.

use crate::error::{Error, Result};
use crate::store::vault::CredentialBundle;
use crate::tools::handoff::keychain::{OsKeychain, Stored};
use crate::tools::handoff::{claude_code, codex, gemini};
use crate::tools::{Locations, Tool};
use crate::usecase::engine::Latchkey;
use crate::usecase::renew::Validity;
use std::path::PathBuf;
use std::time::Duration;

/// Where the tools keep their files, and how Latchkey is started as a helper.
#[derive(Debug, Clone)]
pub struct Env {
    pub home: PathBuf,
    pub claude_config_dir: Option<PathBuf>,
    /// The folder whose project files (`.mcp.json`, `.gemini/settings.json`) count too.
    pub project: Option<PathBuf>,
    pub gemini_cli_home: Option<PathBuf>,
    /// Gemini CLI keeps its tokens in the keychain instead (its own env setting).
    pub gemini_encrypted_store: bool,
    pub codex_home: Option<PathBuf>,
    /// `$USER`: the account of Claude Code's macOS keychain item.
    pub user: Option<String>,
    pub claude_secure_storage_dir: Option<String>,
    /// The command a tool runs to get fresh headers, e.g. `/usr/bin/latchkey headers`.
    pub helper_command: String,
}

impl Env {
    /// This user's places (from `locations`) and the rest from the environment.
    pub fn from_env(locations: &Locations, helper_command: String) -> Env {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Env {
            home: locations.home.clone(),
            claude_config_dir: locations.claude_config_dir.clone(),
            project: std::env::current_dir().ok(),
            gemini_cli_home: var("GEMINI_CLI_HOME").map(PathBuf::from),
            gemini_encrypted_store: var(gemini::ENCRYPTED_STORE_ENV).as_deref() == Some("true"),
            codex_home: locations.codex_home.clone(),
            user: var("USER"),
            claude_secure_storage_dir: std::env::var("CLAUDE_SECURESTORAGE_CONFIG_DIR").ok(),
            helper_command,
        }
    }
}

/// One config entry that now gets the server's sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The entry's name in the tool's config (`mcpServers > gitlab`, `gitlab`).
    pub entry: String,
    /// The key the tool files the token under, where it has one (Codex).
    pub key: Option<String>,
    pub stored: Stored,
    /// Things the person should know (e.g. the tool also sends its own Authorization).
    pub notes: Vec<String>,
}

/// How Claude Code gets its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaudeMode {
    /// Its `headersHelper` runs Latchkey on every connection: always fresh.
    Helper,
    /// The current access token in its own store.
    Native,
}

pub fn claude_code(
    env: &Env,
    bundle: &CredentialBundle,
    mode: ClaudeMode,
) -> Result<Vec<Delivered>> {
    let dir = env.claude_config_dir.as_deref();
    let config = claude_code::config_path(dir, &env.home);
    let mut entries = claude_code::find_entries(&config, &bundle.server_id)?;
    // Project scope: the project's .mcp.json, as Claude Code reads it there.
    if let Some(p) = &env.project {
        entries.extend(claude_code::find_entries(
            &p.join(".mcp.json"),
            &bundle.server_id,
        )?);
    }
    if entries.is_empty() {
        return Err(Error::BadConfig {
            path: config.display().to_string(),
            detail: format!(
                "Claude Code has no server with the URL {}",
                bundle.server_url
            ),
        });
    }
    let mut out = Vec::new();
    for e in &entries {
        let stored = match mode {
            ClaudeMode::Native => {
                let store = claude_code::credentials_store(
                    dir,
                    &env.home,
                    cfg!(target_os = "macos"),
                    env.user.as_deref(),
                    env.claude_secure_storage_dir.as_deref(),
                );
                claude_code::write_native(&store, &OsKeychain, e, bundle)?
            }
            ClaudeMode::Helper => {
                Stored::File(claude_code::set_headers_helper(e, &env.helper_command)?)
            }
        };
        out.push(Delivered {
            entry: e.keys.join(" > "),
            key: None,
            stored,
            notes: Vec::new(),
        });
    }
    Ok(out)
}

/// Gemini CLI: the access token in `mcp-oauth-tokens.json` under every name its user settings
/// (and the project's `.gemini/settings.json`) give this server. The second value warns when
/// the token is too close to expiry for Gemini CLI to use it.
pub fn gemini(env: &Env, bundle: &CredentialBundle) -> Result<(Vec<Delivered>, Option<String>)> {
    let dir = gemini::gemini_dir(env.gemini_cli_home.as_deref(), &env.home);
    let tokens = gemini::tokens_path(&dir);
    if env.gemini_encrypted_store {
        return Err(Error::BadConfig {
            path: tokens.display().to_string(),
            detail: format!(
                "Gemini CLI is set to keep its tokens in the keychain instead ({}=true), which Latchkey does not write; unset it to use this file",
                gemini::ENCRYPTED_STORE_ENV
            ),
        });
    }
    let user = gemini::user_settings_path(&dir);
    let mut files = vec![user.clone()];
    if let Some(p) = &env.project {
        let project = gemini::project_settings_path(p);
        if project != user {
            files.push(project);
        }
    }
    let found = gemini::find_entries(&files, &bundle.server_id)?;
    let (entries, google): (Vec<_>, Vec<_>) =
        found.into_iter().partition(|e| e.reads_stored_tokens());
    if entries.is_empty() {
        let detail = match google.first() {
            Some(g) => format!(
                "its server {:?} signs in with Google ({}), so Gemini CLI would not use a token from Latchkey",
                g.name,
                g.auth_provider.as_deref().unwrap_or_default()
            ),
            None => format!(
                "Gemini CLI has no server with the URL {}",
                bundle.server_url
            ),
        };
        return Err(Error::BadConfig {
            path: files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            detail,
        });
    }
    let w = gemini::write_tokens(&tokens, &entries, bundle)?;
    let warning = (!gemini::usable_by_gemini(bundle, crate::clock::now())).then(|| {
        format!(
            "the token has less than {} minutes left, and Gemini CLI does not use a token that close to expiry: hand it over again once Latchkey has renewed it",
            gemini::EXPIRY_BUFFER_SECS / 60
        )
    });
    let mut out: Vec<Delivered> = Vec::new();
    for e in &entries {
        if out.iter().any(|d| d.entry == e.name) {
            continue;
        }
        out.push(Delivered {
            entry: e.name.clone(),
            key: None,
            stored: Stored::File(w.clone()),
            notes: Vec::new(),
        });
    }
    Ok((out, warning))
}

/// Codex: the access token in the store its config.toml names (the keychain by default),
/// once for every name its config gives this server.
pub fn codex(env: &Env, bundle: &CredentialBundle) -> Result<Vec<Delivered>> {
    let codex_home = codex::codex_home(env.codex_home.as_deref(), &env.home);
    let config = codex::read_config(&codex::config_path(&codex_home))?;
    let servers = config.find(&bundle.server_id);
    if servers.is_empty() {
        return Err(Error::BadConfig {
            path: config.path.display().to_string(),
            detail: format!("Codex has no server with the URL {}", bundle.server_url),
        });
    }
    let now = crate::clock::now();
    let mut out = Vec::new();
    for s in servers {
        let h = codex::hand_over(&codex_home, &config, s, bundle, &OsKeychain, now)?;
        out.push(Delivered {
            entry: h.name,
            key: Some(h.key),
            stored: h.stored,
            notes: h.notes,
        });
    }
    Ok(out)
}

/// What a handoff did, in one sentence for the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub message: String,
    pub target: String,
    pub backup: Option<String>,
}

fn backup_of(d: &Delivered) -> Option<String> {
    match &d.stored {
        Stored::File(w) => w.backup.as_ref().map(|b| b.display().to_string()),
        Stored::Keychain { .. } => None,
    }
}

/// Gemini CLI ignores a stored token with under 5 minutes left (it treats it as expired and
/// starts its own sign-in): it is handed one with at least 6 minutes.
pub const GEMINI_CLI_MIN_VALIDITY: Duration = Duration::from_secs(360);

/// How long a token handed to `tool` must still be valid.
pub fn minimum_validity(tool: Tool) -> Validity {
    match tool {
        Tool::GeminiCli => Validity::AtLeast(GEMINI_CLI_MIN_VALIDITY),
        _ => Validity::ForUse,
    }
}

/// A hand-off as a front asks for it.
#[derive(Debug, Clone)]
pub struct HandOffRequest {
    pub tool: Tool,
    /// Claude Code only: its headers helper (default) or its own credential store.
    pub claude_mode: ClaudeMode,
    /// Claude Code's config folder, when not `$CLAUDE_CONFIG_DIR` or the home folder.
    pub claude_config_dir: Option<PathBuf>,
}

impl HandOffRequest {
    /// The way that keeps `tool` working longest: Claude Code through its headers helper
    /// (always fresh), Gemini CLI and Codex in their own stores.
    pub fn to(tool: Tool) -> Self {
        HandOffRequest {
            tool,
            claude_mode: ClaudeMode::Helper,
            claude_config_dir: None,
        }
    }
}

/// What a hand-off did: every entry written, a warning for the person, and one sentence.
#[derive(Debug, Clone)]
pub struct HandedOff {
    pub delivered: Vec<Delivered>,
    pub warning: Option<String>,
    pub summary: Summary,
}

impl Latchkey {
    /// Hands the signed-in `server` (a URL or a name) to a tool: renews it first so the tool
    /// gets the validity it needs ([`minimum_validity`]; the renewal is recorded like any
    /// other), then writes what the tool reads. The headers helper is the engine's
    /// `latchkey` program with `headers`, the same from every front.
    ///
    /// Errors: those of [`Latchkey::fresh`]; [`Error::BadConfig`] when the tool has no entry
    /// for the server or cannot take a sign-in from another app; file and keychain errors.
    pub async fn hand_off(&self, server: &str, request: &HandOffRequest) -> Result<HandedOff> {
        let bundle = self.fresh(server, minimum_validity(request.tool)).await?;
        let mut env = Env::from_env(&self.locations, self.helper_command());
        if let Some(dir) = &request.claude_config_dir {
            env.claude_config_dir = Some(dir.clone());
        }
        let tool = request.tool;
        let (delivered, warning, how) = match tool {
            Tool::ClaudeCode => (
                claude_code(&env, &bundle, request.claude_mode)?,
                None,
                match request.claude_mode {
                    ClaudeMode::Helper => "now asks Latchkey for a fresh token on every connection",
                    ClaudeMode::Native => {
                        "has the current token; hand it over again after it renews"
                    }
                },
            ),
            Tool::GeminiCli => {
                let (d, warning) = gemini(&env, &bundle)?;
                (
                    d,
                    warning,
                    "has the current token; hand it over again after it renews",
                )
            }
            Tool::Codex => (
                codex(&env, &bundle)?,
                None,
                "has the current token; hand it over again after it renews",
            ),
            other => {
                return Err(Error::BadConfig {
                    path: other.display_name().into(),
                    detail: format!(
                    "{other} has no way to take a sign-in from another app: it signs in by itself"
                ),
                })
            }
        };
        let names: Vec<&str> = delivered.iter().map(|d| d.entry.as_str()).collect();
        let mut message = format!("{tool} ({}) {how}.", names.join(", "));
        for n in delivered
            .iter()
            .flat_map(|d| d.notes.iter())
            .chain(warning.iter())
        {
            message.push_str(&format!(" Note: {n}."));
        }
        let summary = Summary {
            message,
            target: delivered
                .iter()
                .map(|d| d.stored.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            backup: delivered.iter().find_map(backup_of),
        };
        Ok(HandedOff {
            delivered,
            warning,
            summary,
        })
    }

    /// The command a tool runs for fresh headers: `<latchkey program> headers`.
    pub fn helper_command(&self) -> String {
        format!("{} headers", self.latchkey_program)
    }
}
