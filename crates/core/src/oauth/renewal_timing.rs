//! When a token must be renewed: how much of its lifetime must be left for what the caller
//! does with it (ARCHITECTURE.md, "Renewal").
//!
//! A fixed margin fails both ways: with 4-second or 60-second tokens (short-lived Keycloak
//! and Cognito set-ups) a 60-second margin makes every call renew, and with 1-hour tokens a
//! header handed to Claude Code with 2 minutes left breaks its connection 2 minutes later
//! (Claude Code runs `headersHelper` when it connects and keeps the header). So the
//! margin is a share of the token's lifetime:
//!
//! | need | left at the least | 4 s | 60 s | 1 h |
//! | --- | --- | --- | --- | --- |
//! | [`Need::ForUse`] | a tenth, capped by the configured margin | 1 s | 6 s | 60 s |
//! | [`Need::ForConnection`] | a quarter (never less than for use) | 1 s | 15 s | 15 min |
//! | [`Need::Ahead`] (scheduler) | a third (never less than for a connection) | 1 s | 20 s | 20 min |
//!
//! The cap (`LATCHKEY_REFRESH_MARGIN_SECS`, default 60 s) bounds only the margin for use:
//! a header kept for a whole connection needs a share of the lifetime whatever the margin.
//! Never more than half the lifetime, so a freshly renewed token is always good for use.

use std::time::Duration;

/// What a caller does with the token, which decides how much of its lifetime must be left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Need {
    /// The request at hand (`latchkey token`, a probe, a tool call).
    #[default]
    ForUse,
    /// A header or token a tool keeps for its whole connection (`latchkey headers`,
    /// hand-offs): renewed first when less than about a quarter of its lifetime is left.
    ForConnection,
    /// The background scheduler, which renews before any caller has to.
    Ahead,
    /// A connection's share, and at least this long (a tool's documented minimum, such as
    /// Gemini CLI's 5-minute refresh buffer).
    AtLeast(Duration),
}

/// The renewal margins, from the configured cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewalTiming {
    /// The most a token used for one request is renewed ahead of its expiry
    /// (`LATCHKEY_REFRESH_MARGIN_SECS`).
    pub cap: Duration,
    /// Every token is due: a test hook (`LATCHKEY_TEST_RENEW_ALWAYS`, debug builds only) for
    /// crash and refusal tests that need a renewal on every call.
    pub renew_always: bool,
}

/// The cap when `LATCHKEY_REFRESH_MARGIN_SECS` does not say: 60 seconds.
pub const DEFAULT_CAP: Duration = Duration::from_secs(60);

impl Default for RenewalTiming {
    fn default() -> Self {
        RenewalTiming {
            cap: DEFAULT_CAP,
            renew_always: false,
        }
    }
}

impl RenewalTiming {
    /// Seconds that must be left of a token that lives `lifetime` seconds (from when it was
    /// obtained to its expiry) for `need`.
    pub fn required_left(&self, need: Need, lifetime: u64) -> u64 {
        if self.renew_always {
            return u64::MAX;
        }
        let half = lifetime / 2;
        let for_use = (lifetime / 10).max(1).min(half).min(self.cap.as_secs());
        let for_connection = for_use.max(lifetime / 4);
        match need {
            Need::ForUse => for_use,
            Need::ForConnection => for_connection,
            Need::Ahead => for_connection.max(lifetime / 3),
            Need::AtLeast(d) => for_connection.max(d.as_secs()),
        }
    }

    /// Whether a token obtained at `obtained_at` and ending at `expires_at` (seconds since
    /// the epoch; `None`: no known end) is good for `need` at `now`.
    pub fn is_fresh(
        &self,
        need: Need,
        obtained_at: u64,
        expires_at: Option<u64>,
        now: u64,
    ) -> bool {
        match expires_at {
            None => true,
            Some(end) => {
                let left = self.required_left(need, end.saturating_sub(obtained_at));
                end > now.saturating_add(left)
            }
        }
    }

    /// When a token needs renewing for `need`, in seconds since the epoch; `None` when it
    /// has no known end.
    pub fn renew_at(&self, need: Need, obtained_at: u64, expires_at: Option<u64>) -> Option<u64> {
        let end = expires_at?;
        Some(end.saturating_sub(self.required_left(need, end.saturating_sub(obtained_at))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: RenewalTiming = RenewalTiming {
        cap: DEFAULT_CAP,
        renew_always: false,
    };

    #[test]
    fn the_margin_is_a_share_of_the_lifetime_as_the_table_says() {
        let rows = [(4, [1, 1, 1]), (60, [6, 15, 20]), (3600, [60, 900, 1200])];
        for (lifetime, [use_, conn, ahead]) in rows {
            assert_eq!(T.required_left(Need::ForUse, lifetime), use_, "{lifetime}");
            assert_eq!(
                T.required_left(Need::ForConnection, lifetime),
                conn,
                "{lifetime}"
            );
            assert_eq!(T.required_left(Need::Ahead, lifetime), ahead, "{lifetime}");
        }
    }

    #[test]
    fn the_scheduler_renews_before_a_connection_and_a_connection_before_use() {
        for lifetime in [
            0,
            1,
            2,
            3,
            4,
            9,
            20,
            59,
            60,
            61,
            300,
            3599,
            3600,
            86_400,
            u64::MAX,
        ] {
            let u = T.required_left(Need::ForUse, lifetime);
            let c = T.required_left(Need::ForConnection, lifetime);
            let a = T.required_left(Need::Ahead, lifetime);
            assert!(u <= c && c <= a, "{lifetime}: {u} {c} {a}");
            assert!(
                u <= lifetime / 2,
                "{lifetime}: a renewed token is good for use"
            );
        }
    }

    #[test]
    fn the_cap_bounds_only_the_margin_for_use() {
        let t = RenewalTiming {
            cap: Duration::from_secs(5),
            ..RenewalTiming::default()
        };
        assert_eq!(t.required_left(Need::ForUse, 3600), 5);
        assert_eq!(t.required_left(Need::ForConnection, 3600), 900);
        let zero = RenewalTiming {
            cap: Duration::ZERO,
            ..RenewalTiming::default()
        };
        assert_eq!(zero.required_left(Need::ForUse, 3600), 0);
    }

    #[test]
    fn a_tools_minimum_adds_to_a_connections_share() {
        let six_minutes = Need::AtLeast(Duration::from_secs(360));
        assert_eq!(T.required_left(six_minutes, 3600), 900);
        assert_eq!(T.required_left(six_minutes, 600), 360);
    }

    #[test]
    fn freshness_and_renewal_time_agree() {
        // A 1-hour token obtained at 1000: good for use until 60 s before its end, for a
        // connection until 15 minutes before.
        let (got, end) = (1000, Some(4600));
        assert!(T.is_fresh(Need::ForUse, got, end, 4539));
        assert!(!T.is_fresh(Need::ForUse, got, end, 4540));
        assert!(T.is_fresh(Need::ForConnection, got, end, 3699));
        assert!(!T.is_fresh(Need::ForConnection, got, end, 3700));
        assert_eq!(T.renew_at(Need::ForConnection, got, end), Some(3700));
        assert_eq!(T.renew_at(Need::Ahead, got, end), Some(3400));
        assert!(T.is_fresh(Need::Ahead, got, None, u64::MAX));
        assert_eq!(T.renew_at(Need::Ahead, got, None), None);
        // An end before the start (a clock jump) is a zero lifetime: renewed once it ends.
        assert!(!T.is_fresh(Need::ForUse, 5000, Some(4000), 4000));
    }

    #[test]
    fn extreme_times_and_lifetimes_never_overflow() {
        let always = RenewalTiming {
            renew_always: true,
            ..T
        };
        for t in [T, always] {
            for need in [
                Need::ForUse,
                Need::ForConnection,
                Need::Ahead,
                Need::AtLeast(Duration::MAX),
            ] {
                let _ = t.required_left(need, u64::MAX);
                for (got, end, now) in [
                    (0, Some(u64::MAX), u64::MAX),
                    (u64::MAX, Some(0), 0),
                    (u64::MAX, Some(u64::MAX), u64::MAX),
                    (0, Some(u64::MAX), 0),
                ] {
                    let _ = t.is_fresh(need, got, end, now);
                    let _ = t.renew_at(need, got, end);
                }
            }
        }
        assert!(T.is_fresh(Need::ForUse, 0, Some(u64::MAX), 1_700_000_000));
    }
}
