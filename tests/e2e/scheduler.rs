//! The background scheduler against the real AS and keychain: it sleeps until each token is
//! due, renews it once per expiry through the engine's renewal use case, and each renewal is
//! recorded as the server's last flow (what `latchkey doctor` shows), as a renewal by the
//! command line is.
//! Its own test binary: it points this process's keychain client at a private bus.

use latchkey_core::store::vault::KeyringStore;
use latchkey_core::tools::Locations;
use latchkey_core::usecase::{Event, Latchkey, SessionEvent};
use latchkey_e2e::*;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[test]
fn renews_each_token_once_per_expiry_without_polling() {
    let f = Fixture::start(json!({"as": {"access_token_ttl": 3}}));
    let user = User::new("scheduler");
    user.run(&["login", &f.ready.mcp_url, "--json"]).assert_ok();
    for (k, v) in user.keychain.env() {
        // Safe: the only test in this binary, before any thread reads the environment.
        unsafe { std::env::set_var(k, v) };
    }
    let home = TempDir::new("scheduler-home");
    let events = Arc::new(Mutex::new(Vec::new()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let engine = Latchkey::new(
            Arc::new(KeyringStore::new(user.service.clone())),
            Locations::for_home(home.path()),
        )
        .with_state_dir(user.state_dir())
        .with_margin(Duration::from_secs(1))
        .with_lock_wait(Duration::from_secs(10))
        .with_timeout(Duration::from_secs(10));
        let mut heard = engine.subscribe();
        let ev = events.clone();
        tokio::spawn(async move {
            while let Ok(e) = heard.recv().await {
                if let Event::Session(e) = e {
                    ev.lock().unwrap().push(e);
                }
            }
        });
        let _ = tokio::time::timeout(Duration::from_secs(8), engine.run_scheduler()).await;
    });
    let events = events.lock().unwrap().clone();
    let refreshed = events
        .iter()
        .filter(|e| matches!(e, SessionEvent::Refreshed { .. }))
        .count();
    let log = f.log();
    let at_as = log["refresh_count"].as_u64().unwrap() as usize;
    eprintln!("scheduler: {refreshed} renewals in 8 s with a 3 s token; AS counted {at_as}");
    assert!((2..=5).contains(&refreshed), "{events:?}");
    // One request per renewal; the run's end may cut off one renewal after its request left.
    assert!(
        at_as == refreshed || at_as == refreshed + 1,
        "one request per renewal: {refreshed} renewals, {at_as} refreshes at the AS"
    );
    assert!(
        events
            .iter()
            .all(|e| matches!(e, SessionEvent::Refreshed { .. })),
        "{events:?}"
    );
    // The scheduler's last renewal is what `doctor` shows as the last flow.
    let doctor = user.run(&["doctor", &f.ready.mcp_url, "--json"]);
    let d: serde_json::Value = serde_json::from_str(&doctor.stdout).unwrap();
    assert_eq!(d["last_flow"]["kind"], "renewal", "{}", doctor.stdout);
    assert_eq!(d["last_flow"]["outcome"], "ok", "{}", doctor.stdout);
    assert!(
        d["last_flow"]["exchanges"]
            .as_array()
            .is_some_and(|x| !x.is_empty()),
        "{}",
        doctor.stdout
    );
    // The renewed token works.
    let check = user
        .command(&["check", &f.ready.mcp_url])
        .env("LATCHKEY_REFRESH_MARGIN_SECS", "0")
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}
