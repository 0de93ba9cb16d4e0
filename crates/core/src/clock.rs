//! Time, injected: the use cases read the clock through [`Clock`] so renewal decisions and
//! token lifetimes can be tested with a [`FakeClock`]; [`now`] is the system clock for the
//! code that has no clock handed to it.
//!
//! All times are whole seconds since the Unix epoch (UTC), as OAuth's `expires_in` and JWT
//! `exp` count them (RFC 6749 section 5.1, RFC 7519 section 4.1.4).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time, in seconds since the Unix epoch.
pub trait Clock: Send + Sync {
    fn now(&self) -> u64;
}

/// The system clock. A clock before 1970 reads as 0 rather than failing.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        now()
    }
}

/// A clock that only moves when told to; clones share the same time.
#[derive(Debug, Clone, Default)]
pub struct FakeClock(Arc<AtomicU64>);

impl FakeClock {
    /// A clock standing at `at` seconds since the epoch.
    pub fn at(at: u64) -> Self {
        FakeClock(Arc::new(AtomicU64::new(at)))
    }

    /// Moves the clock forward by `secs` seconds.
    pub fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }

    /// Sets the clock to `at` seconds since the epoch.
    pub fn set(&self, at: u64) {
        self.0.store(at, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// `at` (seconds since the epoch) as `YYYY-MM-DD HH:MM UTC`, for people.
pub fn utc_words(at: u64) -> String {
    let days = (at / 86_400) as i64;
    let secs = at % 86_400;
    // Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// The system clock's time, in seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_words_reads_as_a_calendar_date() {
        assert_eq!(utc_words(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_words(1_700_000_000), "2023-11-14 22:13 UTC");
        assert_eq!(utc_words(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc_words(4_107_542_399), "2100-02-28 23:59 UTC");
    }

    #[test]
    fn a_fake_clock_moves_only_when_told_and_its_clones_follow() {
        let c = FakeClock::at(1_000);
        let shared = c.clone();
        assert_eq!(c.now(), 1_000);
        c.advance(30);
        assert_eq!(shared.now(), 1_030);
        shared.set(5);
        assert_eq!(c.now(), 5);
        assert!(SystemClock.now() > 1_700_000_000);
    }

    #[test]
    fn the_end_of_time_is_words_not_an_overflow() {
        assert!(utc_words(u64::MAX).ends_with("UTC"));
        assert_eq!(utc_words(0), "1970-01-01 00:00 UTC");
    }
}
