//! `latchkey status`: the overall state first, then every server by urgency and name in
//! aligned columns (name, state, what is wrong or how long the session lasts, URL), the
//! settings files that cannot be read, and the next step. Exits non-zero when anything needs
//! the person, as `gh auth status` does: 3 when a server needs sign-in, 1 otherwise.

use latchkey_core::usecase::{
    Health, Latchkey, NetworkState, OverallState, Overview, PrimaryAction, ServerHealth, ServerRow,
};
use latchkey_core::Error;
use std::sync::atomic::{AtomicU8, Ordering};

/// The exit code `status` asks for (main reads it after a run without error).
pub static EXIT: AtomicU8 = AtomicU8::new(0);

/// Time left on a session, in a few words: "about 3 h left", "about 12 min left".
fn time_left(until: Option<u64>, now: u64) -> String {
    until
        .map(|t| {
            let left = t.saturating_sub(now);
            if left >= 7200 {
                format!("about {} h left", left / 3600)
            } else {
                format!("about {} min left", (left / 60).max(1))
            }
        })
        .unwrap_or_default()
}

/// The third column: why it is not working, else how long the session lasts.
fn detail(r: &ServerRow, h: Option<&ServerHealth>, now: u64) -> String {
    let says_the_same = |title: &str| {
        let t = title.to_lowercase();
        t == r.words || t == format!("{} yet", r.words) || r.words.starts_with("waiting")
    };
    match (&r.reason, r.health) {
        (Some(reason), Some(health))
            if !matches!(health, Health::Working | Health::Refreshable) =>
        {
            if says_the_same(&reason.title) {
                String::new()
            } else {
                reason.title.clone()
            }
        }
        (_, Some(Health::Refreshable)) => "renews on next use".into(),
        _ => time_left(h.and_then(|h| h.until), now),
    }
}

/// The command line that does a row's action, where there is one.
fn command_for(action: PrimaryAction, name: &str) -> Option<String> {
    let arg = if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', "'\\''"))
    };
    match action {
        PrimaryAction::SignIn | PrimaryAction::SignInAgain => Some(format!("latchkey login {arg}")),
        // `doctor` says what is wrong and where, step by step.
        PrimaryAction::FixSettings | PrimaryAction::TryAgain => {
            Some(format!("latchkey doctor {arg}"))
        }
        PrimaryAction::UnlockKeychain | PrimaryAction::Nothing => None,
    }
}

/// The next step, in one line.
fn next_step(o: &Overview) -> Option<String> {
    let first = o.servers.first();
    match o.state {
        OverallState::AllGood | OverallState::Checking => None,
        OverallState::Offline => {
            Some("Connect to the network, then run `latchkey status` again.".into())
        }
        OverallState::KeychainLocked => Some("Unlock your keychain, then try again.".into()),
        OverallState::NeedsSignIn | OverallState::Attention => {
            if let (Some(r), true) = (first, first.is_some_and(|r| r.urgency <= 3)) {
                command_for(r.action, &r.title).map(|c| format!("Next: {c}"))
            } else {
                o.config_problems
                    .first()
                    .map(|p| format!("Next: fix {}", p.file.display()))
            }
        }
    }
}

/// The table's lines, columns padded to the widest cell (in characters).
fn table(rows: &[[String; 4]]) -> Vec<String> {
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let widths = [width(0), width(1), width(2)];
    rows.iter()
        .map(|r| {
            let mut line = String::new();
            // (A column empty in every row takes no room.)
            for (i, w) in widths.iter().enumerate().filter(|(_, w)| **w > 0) {
                line.push_str(&r[i]);
                line.push_str(&" ".repeat(w - r[i].chars().count() + 2));
            }
            line.push_str(&r[3]);
            line.trim_end().to_string()
        })
        .collect()
}

/// The text `status` prints for an overview (no trailing newline).
pub fn render(o: &Overview, health: &[ServerHealth], now: u64) -> String {
    let mut out = vec![o.headline.clone()];
    // (Offline, the detail speaks of the app checking again; the next step says what to do.)
    if !o.detail.is_empty() && o.config_problems.is_empty() && o.state != OverallState::Offline {
        out.push(o.detail.clone());
    }
    if !o.servers.is_empty() {
        out.push(String::new());
        let rows: Vec<[String; 4]> = o
            .servers
            .iter()
            .map(|r| {
                let h = health.iter().find(|h| h.server == r.url);
                [
                    r.title.clone(),
                    r.words.clone(),
                    detail(r, h, now),
                    r.url.clone(),
                ]
            })
            .collect();
        out.extend(table(&rows).into_iter().map(|l| format!("  {l}")));
    }
    if !o.config_problems.is_empty() {
        out.push(String::new());
        out.push("Settings files that cannot be read:".into());
        for p in &o.config_problems {
            out.push(format!("  {p}"));
        }
    }
    if let Some(next) = next_step(o) {
        out.push(String::new());
        out.push(next);
    }
    out.join("\n")
}

/// The exit code for an overview: 0 when nothing needs the person.
pub fn exit_code(o: &Overview) -> u8 {
    match o.state {
        OverallState::AllGood | OverallState::Checking => 0,
        OverallState::NeedsSignIn => 3,
        OverallState::Offline | OverallState::Attention | OverallState::KeychainLocked => 1,
    }
}

pub async fn run(engine: &Latchkey, json: bool) -> Result<(), Error> {
    let urls = engine.servers_to_probe();
    let health = engine.probe_all(urls, |_| {}).await;
    let o = engine.overview(&health, NetworkState::Unknown);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "ok": true,
                "attention": exit_code(&o) != 0,
                "overview": o,
                "servers": health,
            }))
            .unwrap_or_default()
        );
    } else {
        println!("{}", render(&o, &health, engine.now()));
    }
    EXIT.store(exit_code(&o), Ordering::SeqCst);
    Ok(())
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
