//! `latchkey handoff`: give a tool what it needs to use a signed-in server.

use clap::Args;
use latchkey_core::handoff::claude_code::{self, Written};
use latchkey_core::vault::CredentialBundle;
use latchkey_core::Error;
use serde_json::json;
use std::path::PathBuf;

#[derive(Args)]
pub struct HandoffArgs {
    /// The tool to hand credentials to.
    #[arg(value_parser = ["claude-code"])]
    pub tool: String,
    /// The server's URL or name.
    pub server: String,
    /// helper: the tool runs `latchkey headers` for every connection (always fresh).
    /// native: the current access token is written into the tool's own store.
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
    let dir = args
        .claude_config_dir
        .clone()
        .or_else(|| std::env::var_os("CLAUDE_CONFIG_DIR").map(PathBuf::from));
    let config = claude_code::config_path(dir.as_deref(), &home);
    let entries = claude_code::find_entries(&config, &bundle.server_id)?;
    if entries.is_empty() {
        return Err(Error::BadConfig {
            path: config.display().to_string(),
            detail: format!(
                "Claude Code has no server with the URL {}",
                bundle.server_url
            ),
        });
    }
    let mut written: Vec<(String, Written)> = Vec::new();
    for e in &entries {
        let w = match args.mode.as_str() {
            "native" => {
                let creds =
                    claude_code::credentials_path(&claude_code::data_dir(dir.as_deref(), &home));
                claude_code::write_native(&creds, e, bundle)?
            }
            _ => claude_code::set_headers_helper(e, &helper_command()?)?,
        };
        written.push((e.keys.join(" > "), w));
    }
    if json {
        let items: Vec<_> = written
            .iter()
            .map(|(at, w)| json!({"entry": at, "file": w.path, "backup": w.backup}))
            .collect();
        println!(
            "{}",
            json!({"ok": true, "tool": args.tool, "mode": args.mode, "written": items})
        );
        return Ok(());
    }
    for (at, w) in &written {
        let backup = w
            .backup
            .as_ref()
            .map(|b| format!(" (previous version kept in {})", b.display()))
            .unwrap_or_default();
        match args.mode.as_str() {
            "native" => println!(
                "Claude Code's server {at}: its token is in {}{backup}. It is valid until it expires; run this again after renewing, or use --mode helper to stay fresh.",
                w.path.display()
            ),
            _ => println!(
                "Claude Code's server {at} now asks Latchkey for a fresh token on every connection ({}{backup}).",
                w.path.display()
            ),
        }
    }
    Ok(())
}
