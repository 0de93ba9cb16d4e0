//! Keeps sessions fresh in the background: sleeps until the next token needs renewing (never
//! polls), renews it through the same locked path as `latchkey token`, and reports what
//! happened as events for the tray and notifications.

use crate::clock::now;
use crate::health::probe::EXPIRING_SOON;
use crate::health::reasons::{self, Reason};
use crate::protocol::http::Http;
use crate::store::vault::{CredentialBundle, CredentialStore};
use crate::usecase::renew::{self, RefreshOptions};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "event", rename_all = "snake_case")]
#[ts(rename = "SessionEvent")]
pub enum Event {
    Refreshed {
        server: String,
        until: Option<u64>,
    },
    /// Will end soon and nothing can renew it: the person should sign in before then.
    ExpiringSoon {
        server: String,
        at: u64,
    },
    Failed {
        server: String,
        reason: Reason,
    },
}

/// When this bundle next needs attention, in seconds since the epoch.
pub fn deadline(b: &CredentialBundle, margin: Duration) -> Option<u64> {
    if b.needs_sign_in.is_some() {
        return None;
    }
    let exp = b.tokens.expires_at?;
    if b.tokens.refresh_token.is_some() {
        Some(exp.saturating_sub(margin.as_secs()))
    } else {
        Some(exp.saturating_sub(EXPIRING_SOON.as_secs()))
    }
}

pub struct Scheduler {
    store: Arc<dyn CredentialStore>,
    options: RefreshOptions,
    timeout: Duration,
    /// Wakes the loop early: a sign-in or sign-out changed the deadlines.
    pub wake: Arc<Notify>,
}

impl Scheduler {
    pub fn new(
        store: Arc<dyn CredentialStore>,
        options: RefreshOptions,
        timeout: Duration,
    ) -> Self {
        Scheduler {
            store,
            options,
            timeout,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Uses `wake` to be woken early (kept by the app, which knows when sign-ins happen).
    pub fn with_wake(mut self, wake: Arc<Notify>) -> Self {
        self.wake = wake;
        self
    }

    /// One pass: handles every bundle that is due, returns the next deadline.
    pub async fn tick(&self, emit: &mut (dyn FnMut(Event) + Send)) -> Option<u64> {
        let ids = self
            .store
            .list()
            .map(|l| l.into_iter().map(|e| e.id).collect::<Vec<_>>());
        let mut next: Option<u64> = None;
        let mut warned: Vec<String> = Vec::new();
        for id in ids.unwrap_or_default() {
            let Ok(Some(b)) = self.store.load(&id) else {
                continue;
            };
            let Some(due) = deadline(&b, self.options.margin) else {
                continue;
            };
            if due > now() {
                next = Some(next.map_or(due, |n| n.min(due)));
                continue;
            }
            if b.tokens.refresh_token.is_none() {
                if let Some(at) = b.tokens.expires_at.filter(|&t| t > now()) {
                    if !warned.contains(&id) {
                        emit(Event::ExpiringSoon {
                            server: b.server_url.clone(),
                            at,
                        });
                        warned.push(id.clone());
                    }
                    // Look again when it has ended.
                    next = Some(next.map_or(at, |n| n.min(at)));
                }
                continue;
            }
            let timeout = self.timeout;
            match renew::fresh_bundle(self.store.as_ref(), &id, &self.options, || {
                Http::new(timeout)
            })
            .await
            {
                Ok(fresh) => {
                    emit(Event::Refreshed {
                        server: fresh.server_url.clone(),
                        until: fresh.tokens.expires_at,
                    });
                    if let Some(d) = deadline(&fresh, self.options.margin) {
                        next = Some(next.map_or(d, |n| n.min(d)));
                    }
                }
                Err(e) => {
                    let reason = match self
                        .store
                        .load(&id)
                        .ok()
                        .flatten()
                        .and_then(|b| b.needs_sign_in)
                    {
                        Some(n) => reasons::from_needs_sign_in(&n),
                        None => reasons::from_error(&e),
                    };
                    emit(Event::Failed {
                        server: b.server_url.clone(),
                        reason,
                    });
                    // A passing failure (network): try again in a minute, not in a tight loop.
                    if !matches!(e, crate::Error::NeedsSignIn { .. }) {
                        let again = now() + 60;
                        next = Some(next.map_or(again, |n| n.min(again)));
                    }
                }
            }
        }
        next
    }

    /// Runs until the task is dropped: sleeps until the next deadline or a wake-up.
    pub async fn run(&self, mut emit: impl FnMut(Event) + Send) {
        loop {
            let next = self.tick(&mut emit).await;
            let sleep = match next {
                Some(t) => Duration::from_secs(t.saturating_sub(now()).max(1)),
                None => Duration::from_secs(24 * 3600),
            };
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
                _ = self.wake.notified() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::vault::tests::sample;
    use crate::store::vault::MemoryStore;

    fn opts() -> RefreshOptions {
        RefreshOptions {
            margin: Duration::from_secs(60),
            lock_dir: std::env::temp_dir().join(format!("latchkey-sched-{}", std::process::id())),
            lock_wait: Duration::from_secs(1),
        }
    }

    #[test]
    fn deadlines() {
        let mut b = sample("https://a.example/mcp");
        b.tokens.expires_at = Some(10_000);
        assert_eq!(deadline(&b, Duration::from_secs(60)), Some(9_940));
        b.tokens.refresh_token = None;
        assert_eq!(deadline(&b, Duration::from_secs(60)), Some(10_000 - 900));
        b.tokens.expires_at = None;
        assert_eq!(deadline(&b, Duration::from_secs(60)), None);
    }

    #[tokio::test]
    async fn sleeps_until_the_earliest_deadline_and_warns_once() {
        let store = Arc::new(MemoryStore::default());
        let mut a = sample("https://a.example/mcp");
        a.tokens.expires_at = Some(now() + 3600);
        store.save(&a).unwrap();
        let mut b = sample("https://b.example/mcp");
        b.tokens.refresh_token = None;
        b.tokens.expires_at = Some(now() + 120);
        store.save(&b).unwrap();
        let s = Scheduler::new(store, opts(), Duration::from_secs(5));
        let mut events = Vec::new();
        let next = s.tick(&mut |e| events.push(e)).await.unwrap();
        assert_eq!(events.len(), 1, "{events:?}");
        assert!(
            matches!(&events[0], Event::ExpiringSoon { server, .. } if server.contains("b.example"))
        );
        // Next look: when b ends, before a's renewal.
        assert!(next <= now() + 120 && next > now(), "{next}");
    }
}
