//! The background scheduler against the real AS and keychain: it sleeps until each token is
//! due, renews it once per expiry, and reports a refused renewal with its reason.
//! Its own test binary: it points this process's keychain client at a private bus.

use latchkey_core::store::vault::KeyringStore;
use latchkey_core::usecase::renew::RefreshOptions;
use latchkey_core::usecase::scheduler::{Event, Scheduler};
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
    let state = TempDir::new("scheduler-state");
    let events = Arc::new(Mutex::new(Vec::new()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = Scheduler::new(
            Arc::new(KeyringStore::new(user.service.clone())),
            RefreshOptions {
                margin: Duration::from_secs(1),
                lock_dir: state.path().join("locks"),
                lock_wait: Duration::from_secs(10),
            },
            Duration::from_secs(10),
        );
        let ev = events.clone();
        let _ = tokio::time::timeout(
            Duration::from_secs(8),
            s.run(move |e| ev.lock().unwrap().push(e)),
        )
        .await;
    });
    let events = events.lock().unwrap().clone();
    let refreshed = events
        .iter()
        .filter(|e| matches!(e, Event::Refreshed { .. }))
        .count();
    let log = f.log();
    let at_as = log["refresh_count"].as_u64().unwrap() as usize;
    eprintln!("scheduler: {refreshed} renewals in 8 s with a 3 s token; AS counted {at_as}");
    assert!((2..=5).contains(&refreshed), "{events:?}");
    assert_eq!(refreshed, at_as, "one request per renewal");
    assert!(
        events.iter().all(|e| matches!(e, Event::Refreshed { .. })),
        "{events:?}"
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
