//! `latchkey connect`, `disconnect`, `add` and `remove`: which tools use a server through
//! Latchkey. Parsing and printing only; the rules are in `latchkey_core::usecase::connect`.

use crate::output;
use latchkey_core::usecase::{Change, EntryChange, ErrorReport, Tool, ToolOutcome};
use latchkey_core::Error;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};

/// A tool as `latchkey servers --json` names it (claude-code, cursor, vs-code, ...).
pub fn parse_tool(name: &str) -> Result<Tool, String> {
    serde_json::from_value::<Tool>(json!(name.trim())).map_err(|_| {
        let known: Vec<String> = Tool::ALL.iter().map(|t| tool_id(*t)).collect();
        format!(
            "{name:?} is not a tool Latchkey knows; use one of: {}",
            known.join(", ")
        )
    })
}

/// The tool's id, as the command line and `--json` name it.
pub fn tool_id(tool: Tool) -> String {
    serde_json::to_value(tool)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn change_words(c: &EntryChange) -> &'static str {
    match c.change {
        Change::Added => "added",
        Change::Replaced => "now uses Latchkey",
        Change::Already => "was already connected",
        Change::Restored => "is back as it was",
        Change::Removed => "removed",
    }
}

/// The outcomes as JSON: every tool with its entries, or its error.
pub fn outcomes_json(outcomes: &[ToolOutcome]) -> serde_json::Value {
    json!(outcomes
        .iter()
        .map(|o| match &o.result {
            Ok(entries) => json!({
                "tool": tool_id(o.tool),
                "ok": true,
                "entries": entries
                    .iter()
                    .map(|e| json!({"file": e.file, "entry": e.entry, "change": e.change, "backup": e.backup}))
                    .collect::<Vec<_>>(),
            }),
            Err(e) => json!({"tool": tool_id(o.tool), "ok": false, "error": ErrorReport::from(e)}),
        })
        .collect::<Vec<_>>())
}

/// Prints what connecting (`connecting`) or disconnecting did, one line per entry; errors to
/// stderr with what to do. Returns the first error, so the exit code says something failed.
pub fn print(outcomes: Vec<ToolOutcome>, connecting: bool, json: bool) -> Result<(), Error> {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "ok": outcomes.iter().all(|o| o.result.is_ok()),
                "tools": outcomes_json(&outcomes),
            }))
            .unwrap_or_default()
        );
    } else {
        print_text(&outcomes, connecting);
    }
    first_error(outcomes)
}

/// The outcomes in words.
pub fn print_text(outcomes: &[ToolOutcome], connecting: bool) {
    for o in outcomes {
        match &o.result {
            Ok(entries) if entries.is_empty() => {
                println!("{}: not connected by Latchkey; nothing changed.", o.tool)
            }
            Ok(entries) => {
                for e in entries {
                    let backup = e
                        .backup
                        .as_ref()
                        .map(|b| format!("; previous version kept in {}", b.display()))
                        .unwrap_or_default();
                    println!(
                        "{}: {} in {} {}{backup}.",
                        o.tool,
                        e.entry,
                        e.file.display(),
                        change_words(e)
                    );
                }
                if connecting && !entries.iter().all(|e| e.change == Change::Already) {
                    println!("  {} {}.", o.tool, o.how);
                }
            }
            Err(e) => {
                eprintln!(
                    "{}: not {}: {e}.",
                    o.tool,
                    if connecting {
                        "connected"
                    } else {
                        "disconnected"
                    }
                );
                eprintln!("  What to do: {}", e.hint());
            }
        }
    }
}

/// Set once the errors of a command were printed with its outcomes, so `main` only sets the
/// exit code.
pub static REPORTED: AtomicBool = AtomicBool::new(false);

/// The first tool's error, after everything was printed (marked [`REPORTED`]).
pub fn first_error(outcomes: Vec<ToolOutcome>) -> Result<(), Error> {
    match outcomes.into_iter().find_map(|o| o.result.err()) {
        Some(e) => {
            REPORTED.store(true, Ordering::SeqCst);
            Err(e)
        }
        None => Ok(()),
    }
}

/// `latchkey add` in JSON: the sign-in and the connections in one object.
pub fn added_json(bundle: &latchkey_core::usecase::CredentialBundle, outcomes: &[ToolOutcome]) {
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "ok": outcomes.iter().all(|o| o.result.is_ok()),
            "signed_in": output::bundle_json(bundle),
            "tools": outcomes_json(outcomes),
        }))
        .unwrap_or_default()
    );
}
