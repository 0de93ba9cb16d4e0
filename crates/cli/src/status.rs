//! `latchkey status`: every server of the inventory (and every signed-in one), its auth
//! health, and for a failing one the reason in one line. Printed as each probe finishes.

use latchkey_core::usecase::{Health, Latchkey, ServerHealth};
use latchkey_core::Error;

fn words(h: &ServerHealth, now: u64) -> String {
    let until = |t: Option<u64>| {
        t.map(|t| {
            let left = t.saturating_sub(now);
            if left >= 7200 {
                format!(" (about {} h left)", left / 3600)
            } else {
                format!(" (about {} min left)", (left / 60).max(1))
            }
        })
        .unwrap_or_default()
    };
    match h.health {
        Health::Working => format!("working{}", until(h.until)),
        Health::ExpiringSoon => format!(
            "expiring soon and cannot renew{}: sign in again before then",
            until(h.until)
        ),
        Health::Refreshable => "session ended; Latchkey renews it on next use".into(),
        Health::NeedsSignIn => "needs sign-in".into(),
        Health::Unreachable => "unreachable".into(),
        Health::Misconfigured => "misconfigured".into(),
        // The reason says when only the tools need it ("sign-in needed for tools").
        Health::NeverSignedIn => match &h.reason {
            Some(r) if r.id == "sign_in_for_tools" => r.title.to_lowercase(),
            _ => "not signed in yet".into(),
        },
    }
}

pub async fn run(engine: &Latchkey, json: bool) -> Result<(), Error> {
    let inv = engine.inventory();
    let urls = engine.servers_to_probe();
    if urls.is_empty() && !json {
        println!("No remote MCP servers found in your AI tools' settings, and none signed in.");
        return Ok(());
    }
    let results = engine
        .probe_all(urls, |h| {
            if !json {
                let reason = h
                    .reason
                    .as_ref()
                    .filter(|_| {
                        !matches!(
                            h.health,
                            Health::Working | Health::Refreshable | Health::NeverSignedIn
                        )
                    })
                    .map(|r| format!(": {}", r.title))
                    .unwrap_or_default();
                println!("{}  {}{}", h.server, words(h, engine.now()), reason);
            }
        })
        .await;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"ok": true, "servers": results}))
                .unwrap_or_default()
        );
    } else if !inv.errors.is_empty() {
        println!(
            "({} settings file(s) could not be read: run `latchkey servers` for details)",
            inv.errors.len()
        );
    }
    Ok(())
}
