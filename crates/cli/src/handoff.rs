//! `latchkey handoff`: give a tool what it needs to use a signed-in server.

use clap::Args;
use latchkey_core::usecase::{Delivered, HandedOff, Stored, GEMINI_CLI_EXPIRY_BUFFER_SECS};
use serde_json::json;
use std::path::PathBuf;

#[derive(Args)]
pub struct HandoffArgs {
    /// The tool to hand credentials to.
    #[arg(value_parser = ["claude-code", "gemini-cli", "codex"])]
    pub tool: String,
    /// The server: its URL, or a name your AI tools or Latchkey give it (as `latchkey
    /// servers` and `latchkey list` show; any case).
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

/// Prints what a hand-off wrote, as the person or a program reads it.
pub fn print(args: &HandoffArgs, handed: &HandedOff, json: bool) {
    let tool = args.tool.as_str();
    let mode = if tool == "claude-code" {
        args.mode.as_str()
    } else {
        "native"
    };
    let (done, warning) = (&handed.delivered, &handed.warning);
    if json {
        let items: Vec<_> = done.iter().map(item).collect();
        let mut out = json!({"ok": true, "tool": tool, "mode": mode, "written": items});
        if tool == "gemini-cli" {
            out["warning"] = json!(warning);
        }
        println!("{out}");
        return;
    }
    for d in done {
        let at = where_(&d.stored);
        let line = match (tool, mode) {
            ("claude-code", "native") => format!(
                "Claude Code's server {}: its token is in {at}. It is valid until it expires; run this again after renewing, or use --mode helper to stay fresh.",
                d.entry
            ),
            ("claude-code", _) => format!(
                "Claude Code's server {} now asks Latchkey for a fresh token on every connection ({at}).",
                d.entry
            ),
            ("gemini-cli", _) => format!(
                "Gemini CLI's server {}: its token is in {at}. Gemini CLI uses it until {} minutes before it expires; run this again after renewing.",
                d.entry,
                GEMINI_CLI_EXPIRY_BUFFER_SECS / 60
            ),
            _ => format!(
                "Codex's server {}: its token is in {at}. Codex uses it until 30 seconds before it expires; run this again after renewing.",
                d.entry
            ),
        };
        println!("{line}");
        for n in &d.notes {
            eprintln!("Note: {n}.");
        }
    }
    if let Some(w) = warning {
        eprintln!("Warning: {w}.");
    }
}

/// Where a token went, with the kept previous version, in words.
fn where_(stored: &Stored) -> String {
    match stored {
        Stored::Keychain { service, account } => {
            format!("the keychain (service \"{service}\", account \"{account}\")")
        }
        Stored::File(w) => {
            let backup = w
                .backup
                .as_ref()
                .map(|b| format!(" (previous version kept in {})", b.display()))
                .unwrap_or_default();
            format!("{}{backup}", w.path.display())
        }
    }
}

fn item(d: &Delivered) -> serde_json::Value {
    let mut v = match &d.stored {
        Stored::Keychain { service, account } => {
            json!({"store": "keychain", "service": service, "account": account})
        }
        Stored::File(w) => json!({"store": "file", "file": w.path, "backup": w.backup}),
    };
    v["entry"] = json!(d.entry);
    if let Some(k) = &d.key {
        v["key"] = json!(k);
    }
    if d.key.is_some() || !d.notes.is_empty() {
        v["notes"] = json!(d.notes);
    }
    v
}
