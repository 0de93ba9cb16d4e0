//! `latchkey status`: every server of the inventory (and every signed-in one), its auth
//! health, and for a failing one the reason in one line. Printed as each probe finishes.

use crate::servers::{self, ServersArgs};
use latchkey_core::health::probe::{self, Health, ServerHealth};
use latchkey_core::store::vault::{CredentialStore, KeyringStore};
use latchkey_core::tools::inventory;
use latchkey_core::Error;
use std::sync::Arc;
use std::time::Duration;

fn words(h: &ServerHealth) -> String {
    let until = |t: Option<u64>| {
        t.map(|t| {
            let left = t.saturating_sub(latchkey_core::clock::now());
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
        Health::NeverSignedIn => "not signed in yet".into(),
    }
}

pub async fn run(args: &ServersArgs, timeout: u64, json: bool) -> Result<(), Error> {
    let inv = inventory::scan(&servers::locations(args));
    let store = Arc::new(KeyringStore::from_env());
    let mut urls: Vec<String> = inv
        .servers
        .iter()
        .filter(|s| s.url_problem.is_none())
        .map(|s| s.url.clone())
        .collect();
    for e in store.list()? {
        if !urls.contains(&e.id) {
            urls.push(e.id);
        }
    }
    if urls.is_empty() && !json {
        println!("No remote MCP servers found in your AI tools' settings, and none signed in.");
        return Ok(());
    }
    let store_dyn: Arc<dyn CredentialStore> = store;
    let results = probe::probe_all(
        urls,
        store_dyn,
        Duration::from_secs(timeout.max(1)),
        16,
        |h| {
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
                println!("{}  {}{}", h.server, words(h), reason);
            }
        },
    )
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
