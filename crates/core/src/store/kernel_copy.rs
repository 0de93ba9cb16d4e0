//! A short-lived copy of each server's *access token* (never the refresh token or the client
//! secret) in the Linux kernel's per-user keyring, in front of the Secret Service.
//!
//! Why: `latchkey headers` runs before every request an AI tool makes. A Secret Service
//! lookup is a D-Bus session with a Diffie-Hellman exchange (about 7 ms of the 10-13 ms a
//! call took); a kernel keyring read is one system call. What keeps it safe:
//! - only the access token, which every tool that asks receives anyway; the key's
//!   permissions are set to [`PERMISSIONS`] (view, read, write, search and set-attribute for
//!   its possessor and its user; nothing for the group or others), and kernel key payloads
//!   never reach swap or disk;
//! - a copy over [`MAX_PAYLOAD`] is not kept (the keychain serves that server);
//! - the kernel drops an entry by itself at the token's expiry, and after at most
//!   [`MAX_LIFETIME`], so a keychain locked or emptied outside Latchkey stops handing out
//!   tokens within minutes;
//! - every write of a bundle through the vault refreshes the copy, and every deletion or
//!   recorded sign-in failure removes it;
//! - entries are namespaced by the keychain service name and the D-Bus session, so two
//!   keychains (or two test users) never see each other's copies.
//!
//! Any failure (no keyring support, quota exceeded, a foreign entry) just means a miss: the
//! Secret Service stays the source of truth. Other platforms have no cache.

use crate::oauth::renewal_timing::{Need, RenewalTiming};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The longest a copy lives, whatever the token's own lifetime.
pub const MAX_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// The largest copy kept, in bytes of its JSON payload (the kernel's own limit for a `user`
/// key is just under this). A larger token is read from the keychain each time.
pub const MAX_PAYLOAD: usize = 32 * 1024 - 1;

/// The permission mask of every copy (`keyctl setperm`): possessor and user may view, read,
/// write, search and set attributes (the timeout); the group and others may do nothing.
pub const PERMISSIONS: u32 = 0x2f2f_0000;

/// `LATCHKEY_HOT_CACHE=off` turns the cache off (every call then reads the keychain).
pub fn enabled() -> bool {
    !matches!(
        std::env::var("LATCHKEY_HOT_CACHE").ok().as_deref(),
        Some("off" | "0" | "false" | "no")
    )
}

/// The prefix of every entry of one keychain namespace (also what a test purges).
pub fn prefix(service: &str) -> String {
    format!("latchkey:hot:v1:{service}:")
}

/// The entry's description: the namespace, then a hash of the D-Bus session and server id
/// (the URL itself stays out of `/proc/keys`).
pub fn description(service: &str, server_id: &str) -> String {
    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap_or_default();
    let mut h = Sha256::new();
    h.update(bus.as_bytes());
    h.update(b"\n");
    h.update(server_id.as_bytes());
    let hex: String = h.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{}{hex}", prefix(service))
}

#[derive(Serialize, Deserialize)]
struct Payload {
    server_id: String,
    access_token: String,
    expires_at: Option<u64>,
    obtained_at: u64,
}

/// A cached access token.
pub struct Cached {
    pub access_token: Secret,
    pub expires_at: Option<u64>,
}

/// The cached token for `server_id` if enough of its lifetime is left for `need` at `now`
/// (seconds since the epoch).
pub fn get(
    service: &str,
    server_id: &str,
    timing: &RenewalTiming,
    need: Need,
    now: u64,
) -> Option<Cached> {
    if !enabled() {
        return None;
    }
    let bytes = sys::read(&description(service, server_id))?;
    let p: Payload = serde_json::from_slice(&bytes).ok()?;
    if p.server_id != server_id {
        return None;
    }
    // No known expiry: the copy's own bounded lifetime is the limit.
    let fresh = timing.is_fresh(need, p.obtained_at, p.expires_at, now);
    fresh.then(|| Cached {
        access_token: Secret::new(p.access_token),
        expires_at: p.expires_at,
    })
}

/// What [`put`] copies: one server's access token and when it was obtained and ends.
pub struct Copy<'a> {
    pub server_id: &'a str,
    pub access_token: &'a Secret,
    /// Seconds since the epoch; `None` when the authorization server gave no lifetime.
    pub expires_at: Option<u64>,
    /// Seconds since the epoch.
    pub obtained_at: u64,
    /// The session needs a new sign-in: the copy is removed instead.
    pub unusable: bool,
}

/// Keeps a copy of the access token, unless it cannot be used (needs sign-in, expired) or a
/// newer token is already cached.
pub fn put(service: &str, b: &Copy<'_>, now: u64) {
    if !enabled() {
        return;
    }
    let desc = description(service, b.server_id);
    if b.unusable {
        sys::remove(&desc);
        return;
    }
    let left = match b.expires_at {
        Some(t) if t <= now => {
            sys::remove(&desc);
            return;
        }
        Some(t) => Duration::from_secs(t.saturating_sub(now)).min(MAX_LIFETIME),
        None => MAX_LIFETIME,
    };
    // A slower process must not replace a token another one just renewed.
    if let Some(old) = sys::read(&desc).and_then(|x| serde_json::from_slice::<Payload>(&x).ok()) {
        if old.server_id == b.server_id && old.obtained_at > b.obtained_at {
            return;
        }
    }
    let payload = Payload {
        server_id: b.server_id.to_string(),
        access_token: b.access_token.expose().to_string(),
        expires_at: b.expires_at,
        obtained_at: b.obtained_at,
    };
    match serde_json::to_vec(&payload) {
        Ok(json) if json.len() <= MAX_PAYLOAD => sys::write(&desc, &json, left),
        // Too large to copy: an older, smaller copy must not outlive this token.
        _ => sys::remove(&desc),
    }
}

/// Removes the copy for `server_id`, if any.
pub fn forget(service: &str, server_id: &str) {
    sys::remove(&description(service, server_id));
}

#[cfg(target_os = "linux")]
mod sys {
    use super::{MAX_PAYLOAD, PERMISSIONS};
    use linux_keyutils::{KeyPermissions, KeyRing, KeyRingIdentifier};
    use std::time::Duration;

    fn user_keyring() -> Option<KeyRing> {
        KeyRing::from_special_id(KeyRingIdentifier::User, false).ok()
    }

    /// The copy's payload; none when it is missing or larger than [`MAX_PAYLOAD`].
    pub fn read(desc: &str) -> Option<Vec<u8>> {
        let key = user_keyring()?.search(desc).ok()?;
        // Most copies fit 4 KiB; the kernel answers the payload's whole length either way,
        // so a larger one is read again into a buffer of exactly its size.
        let mut small = [0u8; 4096];
        let n = key.read(&mut small).ok()?;
        if n > MAX_PAYLOAD {
            return None;
        }
        if n <= small.len() {
            return Some(small[..n].to_vec());
        }
        let mut buf = vec![0u8; n];
        let m = key.read(&mut buf).ok()?;
        // Replaced meanwhile by a larger copy: the next read sees it whole.
        (m <= n).then(|| {
            buf.truncate(m);
            buf
        })
    }

    /// The permission mask of the copy named `desc`, if there is one.
    #[cfg(test)]
    pub fn permissions(desc: &str) -> Option<u32> {
        let key = user_keyring()?.search(desc).ok()?;
        Some(key.metadata().ok()?.get_perms().bits())
    }

    pub fn write(desc: &str, payload: &[u8], lifetime: Duration) {
        let Some(ring) = user_keyring() else { return };
        // add_key replaces an entry with the same description atomically.
        match ring.add_key(desc, payload) {
            Ok(key) => {
                let limited = key.set_perms(KeyPermissions::from_u32(PERMISSIONS)).is_ok();
                if !limited || key.set_timeout(lifetime.as_secs().max(1) as usize).is_err() {
                    // An entry readable by others, or without a bounded life, must not stay.
                    let _ = key.invalidate();
                }
            }
            Err(_) => remove(desc),
        }
    }

    pub fn remove(desc: &str) {
        if let Some(key) = user_keyring().and_then(|r| r.search(desc).ok()) {
            let _ = key.invalidate();
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use std::time::Duration;
    pub fn read(_: &str) -> Option<Vec<u8>> {
        None
    }
    pub fn write(_: &str, _: &[u8], _: Duration) {}
    pub fn remove(_: &str) {}
}

#[cfg(target_os = "linux")]
#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::vault::tests::sample;

    const T: RenewalTiming = RenewalTiming {
        cap: crate::oauth::renewal_timing::DEFAULT_CAP,
        renew_always: false,
    };

    fn service(tag: &str) -> String {
        format!("latchkey-hot-test-{tag}-{}", std::process::id())
    }

    #[test]
    fn keeps_the_access_token_until_the_margin_and_never_the_refresh_token() {
        let svc = service("basic");
        let now = crate::clock::now();
        let mut b = sample("https://hot.example.com/mcp");
        b.tokens.obtained_at = now;
        b.tokens.expires_at = Some(now + 600);
        put(&svc, &b.kernel_copy(), now);
        let got = get(&svc, &b.server_id, &T, Need::ForUse, now).expect("a hit");
        assert_eq!(got.access_token.expose(), b.tokens.access_token.expose());
        let raw = sys::read(&description(&svc, &b.server_id)).unwrap();
        let raw = String::from_utf8(raw).unwrap();
        if let Some(r) = &b.tokens.refresh_token {
            assert!(
                !raw.contains(r.expose()),
                "the refresh token must not be cached"
            );
        }
        // Inside the margin (a quarter of 10 minutes for a connection): a miss, so the
        // caller renews through the vault.
        assert!(get(&svc, &b.server_id, &T, Need::ForConnection, now + 449).is_some());
        assert!(get(&svc, &b.server_id, &T, Need::ForConnection, now + 450).is_none());
        assert!(get(&svc, &b.server_id, &T, Need::ForUse, now + 540).is_none());
        // Another namespace sees nothing.
        assert!(get(&service("other"), &b.server_id, &T, Need::ForUse, now).is_none());
        forget(&svc, &b.server_id);
        assert!(get(&svc, &b.server_id, &T, Need::ForUse, now).is_none());
    }

    #[test]
    fn an_older_token_never_replaces_a_newer_one_and_failures_remove_the_copy() {
        let svc = service("order");
        let now = crate::clock::now();
        let mut newer = sample("https://hot2.example.com/mcp");
        newer.tokens.expires_at = Some(now + 600);
        newer.tokens.obtained_at = now;
        newer.tokens.access_token = Secret::new("newer-token".to_string());
        let mut older = newer.clone();
        older.tokens.obtained_at = now - 100;
        older.tokens.access_token = Secret::new("older-token".to_string());
        put(&svc, &newer.kernel_copy(), now);
        put(&svc, &older.kernel_copy(), now);
        let got = get(&svc, &newer.server_id, &T, Need::ForUse, now).unwrap();
        assert_eq!(got.access_token.expose(), "newer-token");

        let mut failed = newer.clone();
        failed.needs_sign_in = Some(crate::store::vault::NeedsSignIn {
            code: "invalid_grant".into(),
            description: None,
            at: now,
        });
        put(&svc, &failed.kernel_copy(), now);
        assert!(get(&svc, &newer.server_id, &T, Need::ForUse, now).is_none());
    }

    #[test]
    fn an_expired_bundle_is_not_cached() {
        let svc = service("expired");
        let now = crate::clock::now();
        let mut b = sample("https://hot3.example.com/mcp");
        b.tokens.expires_at = Some(now - 1);
        put(&svc, &b.kernel_copy(), now);
        assert!(get(&svc, &b.server_id, &T, Need::ForUse, now).is_none());
    }

    #[test]
    fn a_copy_is_for_its_possessor_and_user_only() {
        let svc = service("perms");
        let now = crate::clock::now();
        let mut b = sample("https://hot4.example.com/mcp");
        b.tokens.obtained_at = now;
        b.tokens.expires_at = Some(now + 600);
        put(&svc, &b.kernel_copy(), now);
        let desc = description(&svc, &b.server_id);
        let Some(mask) = sys::permissions(&desc) else {
            return; // no kernel keyring here: nothing is cached, nothing to check
        };
        assert_eq!(mask, PERMISSIONS, "{mask:#010x}");
        assert_eq!(mask & 0xffff, 0, "nothing for the group or others");
        forget(&svc, &b.server_id);
    }

    #[test]
    fn a_token_over_the_cap_is_not_copied_and_removes_an_older_copy() {
        let svc = service("cap");
        let now = crate::clock::now();
        let mut b = sample("https://hot5.example.com/mcp");
        b.tokens.obtained_at = now;
        b.tokens.expires_at = Some(now + 600);
        put(&svc, &b.kernel_copy(), now);
        let cached = get(&svc, &b.server_id, &T, Need::ForUse, now).is_some();
        b.tokens.access_token = Secret::new("x".repeat(MAX_PAYLOAD + 1));
        b.tokens.obtained_at = now + 1;
        put(&svc, &b.kernel_copy(), now + 1);
        assert!(get(&svc, &b.server_id, &T, Need::ForUse, now + 1).is_none());
        assert!(
            sys::read(&description(&svc, &b.server_id)).is_none(),
            "the older copy (cached: {cached}) is gone too"
        );
    }

    #[test]
    fn a_token_larger_than_the_first_read_comes_back_whole() {
        let svc = service("large");
        let now = crate::clock::now();
        let mut b = sample("https://hot6.example.com/mcp");
        b.tokens.obtained_at = now;
        b.tokens.expires_at = Some(now + 600);
        // An Entra-sized token and more: past the 4 KiB first read, under the cap.
        let big = "e".repeat(12_000);
        b.tokens.access_token = Secret::new(big.clone());
        put(&svc, &b.kernel_copy(), now);
        let got = get(&svc, &b.server_id, &T, Need::ForUse, now).expect("a hit");
        assert_eq!(got.access_token.expose(), big.as_str());
    }
}
