//! The renewal scheduler: keeps sessions fresh in the background. It sleeps until the next
//! token needs renewing (never polls), renews through the same use case as `latchkey token`
//! ([`Latchkey::fresh`], so the flow is recorded and announced the same way), and warns
//! before a session that cannot be renewed ends. One process runs it: the tray.

use crate::health::probe::EXPIRING_SOON;
use crate::oauth::renewal_timing::{Need, RenewalTiming};
use crate::store::vault::CredentialBundle;
use crate::usecase::engine::Latchkey;
use crate::usecase::events::{Event, SessionEvent};
use std::time::Duration;

/// When this bundle next needs attention, in seconds since the epoch: its renewal ahead of
/// any caller ([`Need::Ahead`]), or the warning before a session without a refresh token ends.
pub fn deadline(b: &CredentialBundle, timing: &RenewalTiming) -> Option<u64> {
    if b.needs_sign_in.is_some() {
        return None;
    }
    let exp = b.tokens.expires_at?;
    if b.tokens.refresh_token.is_some() {
        timing.renew_at(Need::Ahead, b.tokens.obtained_at, Some(exp))
    } else {
        Some(exp.saturating_sub(EXPIRING_SOON.as_secs()))
    }
}

/// When to look at a renewed bundle again: its deadline, unless that has passed already (a
/// token that lives no longer than the margin, or a clock skew), then after half its
/// lifetime and at least 30 seconds, so the scheduler never renews in a tight loop.
fn next_look(b: &CredentialBundle, due: u64, now: u64) -> u64 {
    if due > now {
        return due;
    }
    let lifetime = b
        .tokens
        .expires_at
        .map_or(0, |e| e.saturating_sub(b.tokens.obtained_at));
    now.saturating_add((lifetime / 2).max(30))
}

impl Latchkey {
    /// One pass of the scheduler: renews every session that is due, warns once per pass of
    /// each that will end without renewal, and returns the next deadline (seconds since the
    /// epoch), if any.
    pub async fn renew_due(&self) -> Option<u64> {
        let ids = self
            .store
            .list()
            .map(|l| l.into_iter().map(|e| e.id).collect::<Vec<_>>());
        let mut next: Option<u64> = None;
        let mut soonest = |t: u64| next = Some(next.map_or(t, |n: u64| n.min(t)));
        for id in ids.unwrap_or_default() {
            let Ok(Some(b)) = self.store.load(&id) else {
                continue;
            };
            let Some(due) = deadline(&b, &self.timing) else {
                continue;
            };
            let now = self.now();
            if due > now {
                soonest(due);
                continue;
            }
            if b.tokens.refresh_token.is_none() {
                if let Some(at) = b.tokens.expires_at.filter(|&t| t > now) {
                    // Once per session, however often the scheduler is woken.
                    if self.first_warning(&id, at) {
                        self.emit(Event::Session(SessionEvent::ExpiringSoon {
                            server: id.clone(),
                            at,
                        }));
                    }
                    // Look again when it has ended.
                    soonest(at);
                }
                continue;
            }
            // `fresh` records the flow and announces the renewal or its failure.
            match self.fresh(&id, Need::Ahead).await {
                Ok(fresh) => {
                    if let Some(d) = deadline(&fresh, &self.timing) {
                        soonest(next_look(&fresh, d, self.now()));
                    }
                }
                // A passing failure (network): try again in a minute, not in a tight loop.
                Err(e) if !matches!(e, crate::Error::NeedsSignIn { .. }) => {
                    soonest(self.now() + 60)
                }
                Err(_) => {}
            }
        }
        next
    }

    /// Runs the scheduler until the task is dropped: sleeps until the next deadline or until
    /// a sign-in or sign-out wakes it.
    pub async fn run_scheduler(&self) {
        loop {
            let next = self.renew_due().await;
            let sleep = match next {
                Some(t) => Duration::from_secs(t.saturating_sub(self.now()).max(1)),
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
    use crate::clock::FakeClock;
    use crate::store::vault::tests::sample;
    use crate::store::vault::{CredentialStore, MemoryStore};
    use crate::tools::Locations;
    use std::sync::Arc;

    #[test]
    fn deadlines() {
        let t = RenewalTiming::default();
        let mut b = sample("https://a.example/mcp");
        // A 1-hour token: renewed with a third left, before `headers` (a quarter) would.
        b.tokens.obtained_at = 10_000 - 3600;
        b.tokens.expires_at = Some(10_000);
        assert_eq!(deadline(&b, &t), Some(10_000 - 1200));
        // A 60-second token: 20 seconds ahead.
        b.tokens.obtained_at = 10_000 - 60;
        assert_eq!(deadline(&b, &t), Some(10_000 - 20));
        b.tokens.refresh_token = None;
        assert_eq!(deadline(&b, &t), Some(10_000 - 900));
        b.tokens.expires_at = None;
        assert_eq!(deadline(&b, &t), None);
    }

    #[tokio::test]
    async fn sleeps_until_the_earliest_deadline_and_warns_once() {
        let clock = FakeClock::at(1_000_000);
        let store = Arc::new(MemoryStore::default());
        let mut a = sample("https://a.example/mcp");
        a.tokens.obtained_at = 1_000_000;
        a.tokens.expires_at = Some(1_000_000 + 3600);
        store.save(&a).unwrap();
        let mut b = sample("https://b.example/mcp");
        b.tokens.refresh_token = None;
        b.tokens.expires_at = Some(1_000_000 + 120);
        store.save(&b).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let engine = Latchkey::new(store, Locations::for_home(dir.path()))
            .with_state_dir(dir.path().join("state"))
            .with_clock(Arc::new(clock.clone()));
        let mut events = engine.subscribe();
        let next = engine.renew_due().await.unwrap();
        let got = events.try_recv().unwrap();
        assert!(
            matches!(&got, Event::Session(SessionEvent::ExpiringSoon { server, .. }) if server.contains("b.example")),
            "{got:?}"
        );
        assert!(events.try_recv().is_err(), "one event only");
        // Next look: when b ends, before a's renewal.
        assert_eq!(next, 1_000_000 + 120);
        // Time passes: once b has ended, the next deadline is a's renewal.
        clock.set(1_000_000 + 200);
        assert_eq!(engine.renew_due().await, Some(1_000_000 + 3600 - 1200));
    }

    #[test]
    fn the_next_look_saturates_at_the_end_of_time() {
        let mut b = sample("https://x.example/mcp");
        b.tokens.obtained_at = 0;
        b.tokens.expires_at = Some(u64::MAX);
        assert_eq!(next_look(&b, 0, u64::MAX - 1), u64::MAX);
    }
}
