//! `latchkey handoff`: give a tool what it needs to use a signed-in server.

use clap::Args;
use latchkey_core::handoff::claude_code;
use latchkey_core::handoff::codex;
use latchkey_core::handoff::gemini;
use latchkey_core::handoff::keychain::{Keychain, OsKeychain, Stored};
use latchkey_core::vault::CredentialBundle;
use latchkey_core::Error;
use serde_json::json;
use std::path::PathBuf;

#[derive(Args)]
pub struct HandoffArgs {
    /// The tool to hand credentials to.
    #[arg(value_parser = ["claude-code", "gemini-cli", "codex"])]
    pub tool: String,
    /// The server's URL or name.
    pub server: String,
    /// helper: the tool runs `latchkey headers` for every connection (always fresh).
    /// native: the current access token is written into the tool's own store.
    /// (Gemini CLI has no helper: it always gets the token in its own store.)
    #[arg(long, value_parser = ["helper", "native"], default_value = "helper")]
    pub mode: String,
    /// Claude Code's config directory (default: $CLAUDE_CONFIG_DIR, else your home).
    #[arg(long, value_name = "DIR")]
    pub claude_config_dir: Option<PathBuf>,
}

fn helper_command() -> Result<String, Error> {
    let exe = std::env::current_exe().map_err(|e| Error::WriteFailed {
        path: "latchkey".into(),
        detail: format!("cannot tell where latchkey is installed ({e})"),
    })?;
    let exe = exe.display().to_string();
    // A shell runs the helper: quote a path with spaces.
    let quoted = if exe.contains([' ', '\'', '"']) {
        format!("'{}'", exe.replace('\'', "'\\''"))
    } else {
        exe
    };
    Ok(format!("{quoted} headers"))
}

pub fn run(args: &HandoffArgs, bundle: &CredentialBundle, json: bool) -> Result<(), Error> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    if args.tool == "gemini-cli" {
        return run_gemini(&home, bundle, json);
    }
    if args.tool == "codex" {
        return run_codex(&home, bundle, json);
    }
    let dir = args
        .claude_config_dir
        .clone()
        .or_else(|| std::env::var_os("CLAUDE_CONFIG_DIR").map(PathBuf::from));
    let config = claude_code::config_path(dir.as_deref(), &home);
    let mut entries = claude_code::find_entries(&config, &bundle.server_id)?;
    // Project scope: the current folder's .mcp.json, as Claude Code reads it there.
    if let Ok(cwd) = std::env::current_dir() {
        entries.extend(claude_code::find_entries(
            &cwd.join(".mcp.json"),
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
    let mut written: Vec<(String, Stored)> = Vec::new();
    for e in &entries {
        let w = match args.mode.as_str() {
            "native" => {
                let user = std::env::var("USER").ok();
                let secure = std::env::var("CLAUDE_SECURESTORAGE_CONFIG_DIR").ok();
                let store = claude_code::credentials_store(
                    dir.as_deref(),
                    &home,
                    cfg!(target_os = "macos"),
                    user.as_deref(),
                    secure.as_deref(),
                );
                claude_code::write_native(&store, &OsKeychain, e, bundle)?
            }
            _ => Stored::File(claude_code::set_headers_helper(e, &helper_command()?)?),
        };
        written.push((e.keys.join(" > "), w));
    }
    if json {
        let items: Vec<_> = written
            .iter()
            .map(|(at, w)| match w {
                Stored::File(w) => json!({"entry": at, "file": w.path, "backup": w.backup}),
                Stored::Keychain { service, account } => json!({
                    "entry": at,
                    "keychain": {"service": service, "account": account},
                    "backup": {"service": format!("{service}{}", claude_code::KEYCHAIN_BACKUP_SUFFIX), "account": account},
                }),
            })
            .collect();
        println!(
            "{}",
            json!({"ok": true, "tool": args.tool, "mode": args.mode, "written": items})
        );
        return Ok(());
    }
    for (at, w) in &written {
        let backup = match w {
            Stored::File(w) => w
                .backup
                .as_ref()
                .map(|b| format!(" (previous version kept in {})", b.display()))
                .unwrap_or_default(),
            Stored::Keychain { service, account } => {
                let kept = format!("{service}{}", claude_code::KEYCHAIN_BACKUP_SUFFIX);
                match OsKeychain.get(&kept, account) {
                    Ok(Some(_)) => {
                        format!(" (previous version kept in the keychain item \"{kept}\")")
                    }
                    _ => String::new(),
                }
            }
        };
        match args.mode.as_str() {
            "native" => println!(
                "Claude Code's server {at}: its token is in {w}{backup}. It is valid until it expires; run this again after renewing, or use --mode helper to stay fresh."
            ),
            _ => println!(
                "Claude Code's server {at} now asks Latchkey for a fresh token on every connection ({w}{backup})."
            ),
        }
    }
    Ok(())
}

/// Gemini CLI: the access token goes into `mcp-oauth-tokens.json` under every name its user
/// settings (and the current folder's `.gemini/settings.json`) give this server.
fn run_gemini(home: &std::path::Path, bundle: &CredentialBundle, json: bool) -> Result<(), Error> {
    let gemini_home = std::env::var_os("GEMINI_CLI_HOME").map(PathBuf::from);
    let dir = gemini::gemini_dir(gemini_home.as_deref(), home);
    let tokens = gemini::tokens_path(&dir);
    if std::env::var(gemini::ENCRYPTED_STORE_ENV).as_deref() == Ok("true") {
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
    if let Ok(cwd) = std::env::current_dir() {
        let project = gemini::project_settings_path(&cwd);
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
    let mut names: Vec<&str> = Vec::new();
    for e in &entries {
        if !names.contains(&e.name.as_str()) {
            names.push(&e.name);
        }
    }
    let warning = (!gemini::usable_by_gemini(bundle, latchkey_core::tokens::now())).then(|| {
        format!(
            "the token has less than {} minutes left, and Gemini CLI does not use a token that close to expiry: run this again once Latchkey has renewed it",
            gemini::EXPIRY_BUFFER_SECS / 60
        )
    });
    if json {
        let items: Vec<_> = entries
            .iter()
            .map(|e| json!({"entry": e.name, "settings": e.settings, "file": w.path, "backup": w.backup}))
            .collect();
        println!(
            "{}",
            json!({"ok": true, "tool": "gemini-cli", "mode": "native", "written": items, "warning": warning})
        );
        return Ok(());
    }
    let backup = w
        .backup
        .as_ref()
        .map(|b| format!(" (previous version kept in {})", b.display()))
        .unwrap_or_default();
    println!(
        "Gemini CLI's server {}: its token is in {}{backup}. Gemini CLI uses it until {} minutes before it expires; run this again after renewing.",
        names.join(", "),
        w.path.display(),
        gemini::EXPIRY_BUFFER_SECS / 60
    );
    if let Some(w) = warning {
        eprintln!("Warning: {w}.");
    }
    Ok(())
}

/// Codex: the access token goes into the store its config.toml names (the keychain, service
/// "Codex MCP Credentials", by default; `$CODEX_HOME/.credentials.json` with "file"), once
/// for every name its config gives this server.
fn run_codex(home: &std::path::Path, bundle: &CredentialBundle, json: bool) -> Result<(), Error> {
    let env_home = std::env::var_os("CODEX_HOME").map(PathBuf::from);
    let codex_home = codex::codex_home(env_home.as_deref(), home);
    let config = codex::read_config(&codex::config_path(&codex_home))?;
    let servers = config.find(&bundle.server_id);
    if servers.is_empty() {
        return Err(Error::BadConfig {
            path: config.path.display().to_string(),
            detail: format!("Codex has no server with the URL {}", bundle.server_url),
        });
    }
    let now = latchkey_core::tokens::now();
    let mut handed = Vec::new();
    for s in servers {
        handed.push(codex::hand_over(
            &codex_home,
            &config,
            s,
            bundle,
            &codex::OsKeychain,
            now,
        )?);
    }
    if json {
        let items: Vec<_> = handed
            .iter()
            .map(|h| {
                let mut item = match &h.stored {
                    codex::Stored::Keychain { service, account } => {
                        json!({"store": "keychain", "service": service, "account": account})
                    }
                    codex::Stored::File(w) => {
                        json!({"store": "file", "file": w.path, "backup": w.backup})
                    }
                };
                item["entry"] = json!(h.name);
                item["key"] = json!(h.key);
                item["notes"] = json!(h.notes);
                item
            })
            .collect();
        println!(
            "{}",
            json!({"ok": true, "tool": "codex", "mode": "native", "written": items})
        );
        return Ok(());
    }
    for h in &handed {
        let at = match &h.stored {
            codex::Stored::Keychain { service, account } => {
                format!("the keychain (service \"{service}\", account \"{account}\")")
            }
            codex::Stored::File(w) => {
                let backup = w
                    .backup
                    .as_ref()
                    .map(|b| format!(" (previous version kept in {})", b.display()))
                    .unwrap_or_default();
                format!("{}{backup}", w.path.display())
            }
        };
        println!(
            "Codex's server {}: its token is in {at}. Codex uses it until 30 seconds before it expires; run this again after renewing.",
            h.name
        );
        for n in &h.notes {
            eprintln!("Note: {n}.");
        }
    }
    Ok(())
}
