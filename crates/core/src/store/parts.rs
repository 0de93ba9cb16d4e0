//! Values larger than one keychain item: a small record plus parts (ARCHITECTURE.md,
//! "Credentials").
//!
//! Some keychains cap one item (Windows Credential Manager: 2,560 bytes of secret, the
//! password counted as UTF-16), and a bundle from Microsoft Entra ID (a 2 KB JWT access token,
//! a 1 KB refresh token) does not fit. A value that fits is stored as it is, in one item at its
//! account. A value that does not is cut into parts:
//!
//! - the parts at `<account>#part:<gen>:<n>` (n = 0, 1, …), each at most the store's limit,
//!   where `gen` is 16 random hex digits new to each write: a write never touches a part that
//!   a readable record names;
//! - the record at `<account>`: `{"latchkey_parts":1,"gen":"…","count":N,"sha256":"…"}`, where
//!   `sha256` is the SHA-256 of the whole value in lowercase hex;
//! - the journal at `<account>#parts-pending`, only while there is something in it: the
//!   generations whose parts may be in the store with no record naming them,
//!   `[{"gen":"…","count":N,"at":SECONDS_SINCE_EPOCH,"replaced":true}]` (`replaced` for the
//!   generation a write replaces, absent for a write's own new parts).
//!
//! A write goes: journal (adding the new generation and the one it replaces), parts, record,
//! then the replaced and stray parts are deleted (last part first), then the journal. The
//! record is one item, which the store replaces as a whole, so a process killed at any step
//! leaves the old value or the new one readable, or none when there was no old one. A record
//! whose part is missing reads as no value ("not signed in"); parts that do not add up to the
//! record's hash read as damaged. Stray parts are deleted by a later write or removal of the
//! same account: replaced ones at once, the new parts of a write that stopped before its
//! record once their journal entry is [`STRAY_AFTER_SECS`] old (a younger one may be a write
//! still under way in another process). Deleting is best effort: once the record is in place,
//! a failure to delete leaves a stray for later, and the write still succeeds.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// The most parts one value is cut into; a value needing more is refused (at Windows
/// Credential Manager's limit: 64 × 1,280 ASCII characters, 80 KiB).
pub const MAX_PARTS: usize = 64;

/// How old (seconds) a journal entry must be before a later write deletes its parts.
pub const STRAY_AFTER_SECS: u64 = 600;

/// The most entries the journal keeps; beyond that the oldest are forgotten (their parts
/// stay behind, unread).
const MAX_JOURNAL: usize = 16;

/// The record's first bytes, as this module writes it; a bundle or index never starts so.
const RECORD_PREFIX: &str = "{\"latchkey_parts\":";
/// The record format this module writes and reads.
const RECORD_FORMAT: u32 = 1;

/// The items of one keychain namespace: strings by account name.
pub trait ItemStore: Send + Sync {
    /// The value at `account`; `None` when there is no item.
    fn get(&self, account: &str) -> Result<Option<String>>;
    /// Creates or replaces the item at `account`, as one write.
    fn set(&self, account: &str, value: &str) -> Result<()>;
    /// Deletes the item at `account`; true when there was one.
    fn delete(&self, account: &str) -> Result<bool>;
    /// The most one item holds; `None` when the store has no practical limit.
    fn limit(&self) -> Option<ItemLimit>;
    /// Which store this is, for messages (`Secret Service, service "latchkey"`).
    fn describe(&self) -> String;
}

/// How a store counts the bytes of a string it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// Two bytes per UTF-16 code unit (four for a character outside the BMP).
    Utf16,
}

/// The most one item of a store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemLimit {
    /// Bytes of secret per item.
    pub bytes: usize,
    /// How the store counts them.
    pub counted_as: Encoding,
}

impl ItemLimit {
    /// Windows Credential Manager: `CRED_MAX_CREDENTIAL_BLOB_SIZE`, 5 × 512 = 2,560 bytes;
    /// `keyring` stores a password as UTF-16 and refuses one whose UTF-16 form is longer
    /// (`TooLong("password encoded as UTF-16", 2560)`): 1,280 ASCII characters.
    pub const WINDOWS_CREDENTIAL_MANAGER: ItemLimit = ItemLimit {
        bytes: 2560,
        counted_as: Encoding::Utf16,
    };

    /// The bytes `s` takes in the store.
    pub fn size_of(&self, s: &str) -> usize {
        match self.counted_as {
            Encoding::Utf8 => s.len(),
            Encoding::Utf16 => s.encode_utf16().count() * 2,
        }
    }

    fn char_size(&self, c: char) -> usize {
        match self.counted_as {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16() * 2,
        }
    }

    /// True when `s` fits in one item.
    pub fn fits(&self, s: &str) -> bool {
        self.size_of(s) <= self.bytes
    }
}

impl fmt::Display for ItemLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.counted_as {
            Encoding::Utf8 => write!(f, "{} bytes", self.bytes),
            Encoding::Utf16 => write!(f, "{} bytes (counted as UTF-16)", self.bytes),
        }
    }
}

/// The record that names a value's parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Record {
    /// The format, [`RECORD_FORMAT`]; first, so the record starts with [`RECORD_PREFIX`].
    latchkey_parts: u32,
    gen: String,
    count: usize,
    sha256: String,
}

/// One generation of parts that may be in the store with no record naming it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stray {
    gen: String,
    count: usize,
    /// When the write that listed it started, seconds since the epoch.
    at: u64,
    /// The generation a write replaces: the next write or removal of the account replaces or
    /// removes whatever record still names it, so it may go then, whatever its age.
    /// Otherwise it is the generation a write was making, perhaps still under way.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    replaced: bool,
}

fn part_account(account: &str, gen: &str, n: usize) -> String {
    format!("{account}#part:{gen}:{n}")
}

fn journal_account(account: &str) -> String {
    format!("{account}#parts-pending")
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn new_gen() -> String {
    format!("{:016x}", rand::random::<u64>())
}

fn damaged(account: &str, detail: impl Into<String>) -> Error {
    Error::CorruptBundle {
        server: account.to_string(),
        detail: detail.into(),
    }
}

/// What the item at an account holds: `None` for a whole value, else its record (or why the
/// record cannot be used).
fn as_record(value: &str) -> Option<std::result::Result<Record, String>> {
    if !value.starts_with(RECORD_PREFIX) {
        return None;
    }
    let r: Record = match serde_json::from_str(value) {
        Ok(r) => r,
        Err(e) => return Some(Err(format!("its record of parts is not valid ({e})"))),
    };
    if r.latchkey_parts > RECORD_FORMAT {
        return Some(Err(format!(
            "it was written by a newer Latchkey (parts format {}, this one reads {RECORD_FORMAT})",
            r.latchkey_parts
        )));
    }
    let gen_ok =
        !r.gen.is_empty() && r.gen.len() <= 32 && r.gen.bytes().all(|b| b.is_ascii_hexdigit());
    if !gen_ok || r.count == 0 || r.count > MAX_PARTS {
        return Some(Err("its record of parts is not valid".into()));
    }
    Some(Ok(r))
}

/// The value stored at `account`, put back together from its parts if it has any. `Ok(None)`
/// when there is no item, or when a part its record names is missing (a removal or a write
/// under way elsewhere, or a damaged store): never a value with a part missing. Parts that do
/// not match the record are `Error::CorruptBundle`.
pub fn read(store: &dyn ItemStore, account: &str) -> Result<Option<String>> {
    // A write in another process may delete the parts of the record just read: read the
    // record again, and give up when it stays the same.
    let mut previous: Option<String> = None;
    for _ in 0..3 {
        let Some(value) = store.get(account)? else {
            return Ok(None);
        };
        let record = match as_record(&value) {
            None => return Ok(Some(value)),
            Some(Err(detail)) => return Err(damaged(account, detail)),
            Some(Ok(r)) => r,
        };
        if previous.as_deref() == Some(value.as_str()) {
            break;
        }
        match read_parts(store, account, &record)? {
            Some(whole) => return Ok(Some(whole)),
            None => previous = Some(value),
        }
    }
    tracing::warn!(
        account,
        "a part of the stored value is missing: read as none"
    );
    Ok(None)
}

fn read_parts(store: &dyn ItemStore, account: &str, r: &Record) -> Result<Option<String>> {
    let mut whole = String::new();
    for n in 0..r.count {
        match store.get(&part_account(account, &r.gen, n))? {
            Some(part) => whole.push_str(&part),
            None => return Ok(None),
        }
    }
    if sha256_hex(&whole) != r.sha256 {
        return Err(damaged(account, "its parts do not match their record"));
    }
    Ok(Some(whole))
}

/// How a value will be stored.
enum Layout<'a> {
    Whole,
    Parts(Vec<&'a str>),
}

/// Cuts `value` into pieces of at most `limit`, at character boundaries.
fn split(value: &str, limit: ItemLimit) -> Vec<&str> {
    let mut pieces = Vec::new();
    let (mut start, mut size) = (0, 0);
    for (i, c) in value.char_indices() {
        let n = limit.char_size(c);
        if size + n > limit.bytes && i > start {
            pieces.push(&value[start..i]);
            (start, size) = (i, 0);
        }
        size += n;
    }
    if start < value.len() {
        pieces.push(&value[start..]);
    }
    pieces
}

fn layout<'a>(store: &dyn ItemStore, account: &str, value: &'a str) -> Result<Layout<'a>> {
    let Some(limit) = store.limit() else {
        return Ok(Layout::Whole);
    };
    if limit.fits(value) {
        return Ok(Layout::Whole);
    }
    let pieces = split(value, limit);
    let record = record_json(&Record {
        latchkey_parts: RECORD_FORMAT,
        gen: "0".repeat(16),
        count: pieces.len(),
        sha256: "0".repeat(64),
    });
    let fits =
        pieces.len() <= MAX_PARTS && limit.fits(&record) && pieces.iter().all(|p| limit.fits(p));
    if !fits {
        return Err(Error::KeychainItemTooLarge {
            store: store.describe(),
            item: account.to_string(),
            detail: format!(
                "it is {} bytes, more than {MAX_PARTS} parts of at most {limit} each hold",
                limit.size_of(value)
            ),
        });
    }
    Ok(Layout::Parts(pieces))
}

fn record_json(r: &Record) -> String {
    // Plain strings and numbers: serialising cannot fail.
    serde_json::to_string(r).unwrap_or_default()
}

fn read_journal(store: &dyn ItemStore, account: &str) -> Result<Vec<Stray>> {
    // An unreadable journal only means its parts stay behind.
    Ok(store
        .get(&journal_account(account))?
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default())
}

/// Adds `s` to the journal, or marks its generation replaced where `s` says so; true when
/// the journal changed.
fn list(journal: &mut Vec<Stray>, s: Stray) -> bool {
    match journal.iter_mut().find(|j| j.gen == s.gen) {
        None => {
            journal.push(s);
            true
        }
        Some(j) if s.replaced && !j.replaced => {
            j.replaced = true;
            true
        }
        Some(_) => false,
    }
}

fn write_journal(store: &dyn ItemStore, account: &str, journal: &mut Vec<Stray>) -> Result<()> {
    let at = journal_account(account);
    if journal.is_empty() {
        store.delete(&at)?;
        return Ok(());
    }
    loop {
        let json = serde_json::to_string(&journal).unwrap_or_default();
        let fits = store.limit().is_none_or(|l| l.fits(&json));
        if (fits && journal.len() <= MAX_JOURNAL) || journal.len() <= 1 {
            return store.set(&at, &json);
        }
        // Forget the oldest: its parts stay behind, but nothing reads them.
        journal.remove(0);
    }
}

/// Stores `value` at `account`: as one item where it fits the store's limit, else as parts
/// and a record, in the crash-safe order the module's documentation describes. `now` is
/// seconds since the epoch (for the journal). A value too large even for [`MAX_PARTS`] parts
/// is `Error::KeychainItemTooLarge`, and nothing is written.
pub fn write(store: &dyn ItemStore, account: &str, value: &str, now: u64) -> Result<()> {
    let layout = layout(store, account, value)?;
    let old = match store.get(account)? {
        Some(v) => as_record(&v).and_then(|r| r.ok()),
        None => None,
    };
    // Without an item limit no write of this store leaves parts, so a whole value over a
    // whole value skips the journal: one keychain lookup (a D-Bus session) less per save.
    // Strays of a run that had a limit are still cleaned by `remove`.
    let whole_over_whole = matches!(layout, Layout::Whole) && old.is_none();
    if whole_over_whole && store.limit().is_none() {
        return store.set(account, value);
    }
    let mut journal = read_journal(store, account)?;
    if whole_over_whole && journal.is_empty() {
        return store.set(account, value);
    }

    let gen = new_gen();
    let mut changed = false;
    if let Layout::Parts(pieces) = &layout {
        changed |= list(
            &mut journal,
            Stray {
                gen: gen.clone(),
                count: pieces.len(),
                at: now,
                replaced: false,
            },
        );
    }
    let replaced = old.map(|r| Stray {
        gen: r.gen,
        count: r.count,
        at: now,
        replaced: true,
    });
    if let Some(r) = &replaced {
        changed |= list(&mut journal, r.clone());
    }
    if changed {
        write_journal(store, account, &mut journal)?;
    }

    match &layout {
        Layout::Whole => store.set(account, value)?,
        Layout::Parts(pieces) => {
            for (n, piece) in pieces.iter().enumerate() {
                if let Err(e) = store.set(&part_account(account, &gen, n), piece) {
                    delete_parts(store, account, &gen, n);
                    return Err(in_part(e, store, account, n, pieces.len()));
                }
            }
            let record = record_json(&Record {
                latchkey_parts: RECORD_FORMAT,
                gen: gen.clone(),
                count: pieces.len(),
                sha256: sha256_hex(value),
            });
            if let Err(e) = store.set(account, &record) {
                delete_parts(store, account, &gen, pieces.len());
                return Err(in_part(e, store, account, pieces.len(), pieces.len()));
            }
        }
    }
    clean(store, account, journal, &gen, now);
    Ok(())
}

/// A keychain failure while writing part `n` (0-based; `n == count` is the record) of a value
/// cut into `count` parts, with where it happened and the store's limit.
fn in_part(e: Error, store: &dyn ItemStore, account: &str, n: usize, count: usize) -> Error {
    let Error::Keychain {
        store: name,
        detail,
    } = e
    else {
        return e;
    };
    let what = if n == count {
        "the record".to_string()
    } else {
        format!("part {} of {count}", n + 1)
    };
    let limit = store
        .limit()
        .map(|l| format!("; each item holds at most {l}"))
        .unwrap_or_default();
    Error::Keychain {
        store: name,
        detail: format!(
            "{detail} (writing {what} of {account:?}{limit}; the stored value is unchanged)"
        ),
    }
}

/// Deletes the value at `account` and its parts; true when there was an item.
pub fn remove(store: &dyn ItemStore, account: &str, now: u64) -> Result<bool> {
    let Some(value) = store.get(account)? else {
        // Nothing readable; strays of an earlier write may still be listed.
        let journal = read_journal(store, account)?;
        clean(store, account, journal, "", now);
        return Ok(false);
    };
    let mut journal = read_journal(store, account)?;
    let replaced = as_record(&value).and_then(|r| r.ok()).map(|r| Stray {
        gen: r.gen,
        count: r.count,
        at: now,
        replaced: true,
    });
    if let Some(r) = &replaced {
        if list(&mut journal, r.clone()) {
            write_journal(store, account, &mut journal)?;
        }
    }
    let existed = store.delete(account)?;
    clean(store, account, journal, "", now);
    Ok(existed)
}

/// Deletes `count` parts of generation `gen`, last first, ignoring failures (best effort
/// after a failed write). Deleting the last first keeps what is left a run from part 0.
fn delete_parts(store: &dyn ItemStore, account: &str, gen: &str, count: usize) -> bool {
    let mut all = true;
    for n in (0..count).rev() {
        all &= store.delete(&part_account(account, gen, n)).is_ok();
    }
    all
}

/// After the record is in place (or removed): deletes the parts of replaced generations and
/// of old strays, then keeps in the journal only what is left (the journal goes when empty).
/// `current` is the generation the record now names. Best effort: a failure leaves strays
/// for a later write, and is only logged.
fn clean(store: &dyn ItemStore, account: &str, journal: Vec<Stray>, current: &str, now: u64) {
    let before = journal.len();
    let mut left = Vec::new();
    for s in journal {
        // Ours: the record names it now.
        if s.gen == current {
            continue;
        }
        let due = s.replaced || now.saturating_sub(s.at) >= STRAY_AFTER_SECS;
        if !(due && delete_parts(store, account, &s.gen, s.count.min(MAX_PARTS))) {
            left.push(s);
        }
    }
    if left.len() == before {
        // Nothing deleted and nothing of ours listed: the stored journal is still right.
        return;
    }
    if let Err(e) = write_journal(store, account, &mut left) {
        tracing::warn!(account, error = %e, "could not update the journal of stray parts");
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    /// A keychain in memory with a per-item limit (by default Windows Credential Manager's)
    /// that can be made to fail: after `k` writes (sets and deletes) every write fails, as if
    /// the process had been killed there.
    pub(crate) struct LimitedStore {
        pub items: Mutex<BTreeMap<String, String>>,
        pub limit: Option<ItemLimit>,
        /// Writes left before the store "dies"; `None`: never.
        pub writes_left: Mutex<Option<usize>>,
        /// Writes done so far.
        pub writes: Mutex<usize>,
        /// The store works again after its one failing write.
        pub revive: Mutex<bool>,
        /// A write was refused since the last [`LimitedStore::die_after`].
        pub refused: Mutex<bool>,
    }

    impl LimitedStore {
        pub fn new(limit: Option<ItemLimit>) -> Self {
            LimitedStore {
                items: Mutex::default(),
                limit,
                writes_left: Mutex::new(None),
                writes: Mutex::new(0),
                revive: Mutex::new(false),
                refused: Mutex::new(false),
            }
        }

        pub fn windows() -> Self {
            Self::new(Some(ItemLimit::WINDOWS_CREDENTIAL_MANAGER))
        }

        /// Every write after the next `k` fails (`None`: none fails).
        pub fn die_after(&self, k: Option<usize>) {
            *self.writes_left.lock().unwrap() = k;
            *self.revive.lock().unwrap() = false;
            *self.refused.lock().unwrap() = false;
        }

        /// True when a write was refused since the last [`LimitedStore::die_after`].
        pub fn refused(&self) -> bool {
            *self.refused.lock().unwrap()
        }

        /// The write after the next `k` fails, and the store works again after it.
        pub fn fail_once_after(&self, k: usize) {
            *self.writes_left.lock().unwrap() = Some(k);
            *self.revive.lock().unwrap() = true;
        }

        pub fn writes(&self) -> usize {
            *self.writes.lock().unwrap()
        }

        pub fn snapshot(&self) -> BTreeMap<String, String> {
            self.items.lock().unwrap().clone()
        }

        fn spend_write(&self) -> Result<()> {
            let mut left = self.writes_left.lock().unwrap();
            match left.as_mut() {
                Some(0) => {
                    *self.refused.lock().unwrap() = true;
                    if *self.revive.lock().unwrap() {
                        *left = None;
                    }
                    Err(Error::Keychain {
                        store: self.describe(),
                        detail: "killed".into(),
                    })
                }
                Some(n) => {
                    *n -= 1;
                    *self.writes.lock().unwrap() += 1;
                    Ok(())
                }
                None => {
                    *self.writes.lock().unwrap() += 1;
                    Ok(())
                }
            }
        }
    }

    impl ItemStore for LimitedStore {
        fn get(&self, account: &str) -> Result<Option<String>> {
            Ok(self.items.lock().unwrap().get(account).cloned())
        }

        fn set(&self, account: &str, value: &str) -> Result<()> {
            if let Some(l) = self.limit {
                if !l.fits(value) {
                    return Err(Error::KeychainItemTooLarge {
                        store: self.describe(),
                        item: account.into(),
                        detail: format!("the fake refuses {} bytes", l.size_of(value)),
                    });
                }
            }
            self.spend_write()?;
            self.items
                .lock()
                .unwrap()
                .insert(account.into(), value.into());
            Ok(())
        }

        fn delete(&self, account: &str) -> Result<bool> {
            self.spend_write()?;
            Ok(self.items.lock().unwrap().remove(account).is_some())
        }

        fn limit(&self) -> Option<ItemLimit> {
            self.limit
        }

        fn describe(&self) -> String {
            match self.limit {
                Some(l) => format!("test store of {l} per item"),
                None => "test store".into(),
            }
        }
    }

    /// Shared, so a test keeps a handle on the fake it gives a store.
    impl<T: ItemStore + ?Sized> ItemStore for std::sync::Arc<T> {
        fn get(&self, account: &str) -> Result<Option<String>> {
            (**self).get(account)
        }
        fn set(&self, account: &str, value: &str) -> Result<()> {
            (**self).set(account, value)
        }
        fn delete(&self, account: &str) -> Result<bool> {
            (**self).delete(account)
        }
        fn limit(&self) -> Option<ItemLimit> {
            (**self).limit()
        }
        fn describe(&self) -> String {
            (**self).describe()
        }
    }

    const NOW: u64 = 1_700_000_000;

    fn text(len: usize, seed: u8) -> String {
        (0..len)
            .map(|i| (b'a' + ((i * 7 + seed as usize) % 26) as u8) as char)
            .collect()
    }

    #[test]
    fn the_windows_limit_counts_utf16_as_keyring_does() {
        let l = ItemLimit::WINDOWS_CREDENTIAL_MANAGER;
        assert_eq!(l.size_of("abc"), 6);
        assert_eq!(l.size_of("é"), 2);
        assert_eq!(l.size_of("😀"), 4);
        assert!(l.fits(&"a".repeat(1280)));
        assert!(!l.fits(&"a".repeat(1281)));
        assert_eq!(l.to_string(), "2560 bytes (counted as UTF-16)");
    }

    #[test]
    fn split_respects_the_limit_and_character_boundaries() {
        let l = ItemLimit {
            bytes: 8,
            counted_as: Encoding::Utf16,
        };
        let v = "ab😀cdé😀fgh";
        let pieces = split(v, l);
        assert_eq!(pieces.concat(), v);
        assert!(pieces.iter().all(|p| l.fits(p)), "{pieces:?}");
        let u = ItemLimit {
            bytes: 3,
            counted_as: Encoding::Utf8,
        };
        let pieces = split("aéé", u);
        assert_eq!(pieces, ["aé", "é"]);
    }

    #[test]
    fn a_value_that_fits_is_one_item_as_it_is() {
        let s = LimitedStore::windows();
        write(&s, "acct", "small", NOW).unwrap();
        assert_eq!(
            s.snapshot(),
            BTreeMap::from([("acct".to_string(), "small".to_string())])
        );
        assert_eq!(s.writes(), 1);
        assert_eq!(read(&s, "acct").unwrap().as_deref(), Some("small"));
    }

    #[test]
    fn a_large_value_is_parts_and_a_record_and_each_item_fits() {
        let s = LimitedStore::windows();
        let v = text(5000, 1);
        write(&s, "acct", &v, NOW).unwrap();
        let items = s.snapshot();
        // 5,000 ASCII characters, 1,280 per item: 4 parts and the record, no journal left.
        assert_eq!(items.len(), 5, "{:?}", items.keys());
        assert!(items.iter().all(|(_, v)| s.limit.unwrap().fits(v)));
        assert!(items["acct"].starts_with(RECORD_PREFIX));
        assert!(!items.contains_key(&journal_account("acct")));
        assert_eq!(read(&s, "acct").unwrap(), Some(v.clone()));

        // Replaced by a smaller value: one item again, the parts gone.
        write(&s, "acct", "small", NOW).unwrap();
        assert_eq!(s.snapshot().len(), 1);
        // Removed: nothing left.
        write(&s, "acct", &v, NOW).unwrap();
        assert!(remove(&s, "acct", NOW).unwrap());
        assert!(s.snapshot().is_empty(), "{:?}", s.snapshot().keys());
        assert_eq!(read(&s, "acct").unwrap(), None);
        assert!(!remove(&s, "acct", NOW).unwrap());
    }

    #[test]
    fn without_a_limit_everything_is_one_item() {
        let s = LimitedStore::new(None);
        let v = text(100_000, 2);
        write(&s, "acct", &v, NOW).unwrap();
        assert_eq!(s.snapshot().len(), 1);
        assert_eq!(read(&s, "acct").unwrap(), Some(v));
    }

    #[test]
    fn a_missing_part_reads_as_none_and_a_wrong_part_as_damaged() {
        let s = LimitedStore::windows();
        write(&s, "acct", &text(3000, 3), NOW).unwrap();
        let part = s
            .snapshot()
            .into_keys()
            .find(|k| k.ends_with(":1"))
            .unwrap();
        let saved = s.items.lock().unwrap().remove(&part).unwrap();
        assert_eq!(read(&s, "acct").unwrap(), None);
        s.items
            .lock()
            .unwrap()
            .insert(part, saved.replace('a', "b"));
        let e = read(&s, "acct").unwrap_err();
        assert_eq!(e.code(), "corrupt_bundle");
        assert!(!e.to_string().contains(&saved[..20]), "no secret in {e}");
    }

    #[test]
    fn a_damaged_or_newer_record_is_a_clear_error() {
        let s = LimitedStore::windows();
        s.set("acct", "{\"latchkey_parts\":1,\"gen\":").unwrap();
        assert_eq!(read(&s, "acct").unwrap_err().code(), "corrupt_bundle");
        s.set(
            "acct",
            "{\"latchkey_parts\":7,\"gen\":\"ab\",\"count\":1,\"sha256\":\"\"}",
        )
        .unwrap();
        let e = read(&s, "acct").unwrap_err();
        assert!(e.to_string().contains("newer Latchkey"), "{e}");
        s.set(
            "acct",
            "{\"latchkey_parts\":1,\"gen\":\"../x\",\"count\":1,\"sha256\":\"\"}",
        )
        .unwrap();
        assert_eq!(read(&s, "acct").unwrap_err().code(), "corrupt_bundle");
    }

    #[test]
    fn a_value_too_large_even_in_parts_names_the_store_and_the_limit_and_writes_nothing() {
        let s = LimitedStore::windows();
        write(&s, "acct", "old", NOW).unwrap();
        let e = write(&s, "acct", &text(1280 * MAX_PARTS + 1, 4), NOW).unwrap_err();
        assert_eq!(e.code(), "keychain_item_too_large");
        let msg = e.to_string();
        assert!(
            msg.contains("test store") && msg.contains("2560 bytes (counted as UTF-16)"),
            "{msg}"
        );
        assert!(
            msg.contains("\"acct\"") && msg.contains("64 parts"),
            "{msg}"
        );
        assert!(e.hint().contains("fewer scopes"), "{}", e.hint());
        assert_eq!(read(&s, "acct").unwrap().as_deref(), Some("old"));
        assert_eq!(s.snapshot().len(), 1);
    }

    /// A write killed after each of its writes, for every k: what reads back is the old value
    /// or the new one, never a mix or a half; a later write (once strays are old enough)
    /// leaves exactly the new value's items.
    #[test]
    fn a_write_killed_at_every_step_leaves_old_or_new_and_strays_are_cleaned() {
        let cases: [(Option<String>, String); 4] = [
            (None, text(4000, 5)),
            (Some(text(3000, 6)), text(4000, 7)),
            (Some("small old".into()), text(4000, 8)),
            (Some(text(4000, 9)), "small new".into()),
        ];
        for (old, new) in cases {
            let mut k = 0;
            loop {
                let s = LimitedStore::windows();
                if let Some(o) = &old {
                    write(&s, "acct", o, NOW).unwrap();
                }
                let before = s.writes();
                s.die_after(Some(k));
                let result = write(&s, "acct", &new, NOW);
                let done = s.writes() - before;
                let killed = s.refused();
                s.die_after(None);
                let got = read(&s, "acct").unwrap();
                assert!(
                    got == old || got.as_ref() == Some(&new),
                    "killed after {k} writes: neither old nor new"
                );
                if result.is_ok() {
                    assert_eq!(got.as_ref(), Some(&new));
                }
                // A later write cleans what the killed one left.
                let later = text(2600, 10);
                write(&s, "acct", &later, NOW + STRAY_AFTER_SECS).unwrap();
                let items = s.snapshot();
                assert_eq!(items.len(), 1 + 3, "killed after {k}: {:?}", items.keys());
                assert_eq!(read(&s, "acct").unwrap(), Some(later));
                if !killed {
                    assert!(result.is_ok());
                    assert_eq!(done, k, "the write was killed after each of its writes");
                    break;
                }
                k += 1;
                assert!(k < 40, "the write never finished");
            }
        }
    }

    #[test]
    fn a_failed_write_removes_its_own_parts() {
        let s = LimitedStore::windows();
        write(&s, "acct", "old", NOW).unwrap();
        // The journal and two parts are written, the third part fails once.
        s.fail_once_after(3);
        let e = write(&s, "acct", &text(4000, 11), NOW).unwrap_err();
        assert_eq!(e.code(), "keychain");
        assert!(
            e.to_string().contains("writing part 3 of 4 of \"acct\"")
                && e.to_string().contains("2560 bytes (counted as UTF-16)")
                && e.to_string().contains("unchanged"),
            "{e}"
        );
        let keys: Vec<String> = s.snapshot().into_keys().collect();
        assert!(!keys.iter().any(|k| k.contains("#part:")), "{keys:?}");
        assert_eq!(read(&s, "acct").unwrap().as_deref(), Some("old"));
        // The journal still lists the attempt; a later write forgets it.
        assert!(keys.contains(&journal_account("acct")), "{keys:?}");
        write(&s, "acct", "new", NOW + STRAY_AFTER_SECS).unwrap();
        assert_eq!(s.snapshot().len(), 1, "{:?}", s.snapshot().keys());
    }

    /// Killed after its record, before deleting what it replaced: the next write deletes both
    /// the parts it replaces and the older ones at once, whatever their age.
    #[test]
    fn replaced_parts_go_with_the_next_write() {
        let s = LimitedStore::windows();
        write(&s, "acct", &text(3000, 15), NOW).unwrap();
        // 3,000 characters: the journal, 3 parts, the record; then the deletes.
        s.die_after(Some(5));
        assert!(write(&s, "acct", &text(3000, 16), NOW).is_ok());
        s.die_after(None);
        assert_eq!(read(&s, "acct").unwrap(), Some(text(3000, 16)));
        assert_eq!(
            s.snapshot().len(),
            1 + 3 + 3 + 1,
            "{:?}",
            s.snapshot().keys()
        );
        write(&s, "acct", &text(3000, 17), NOW).unwrap();
        assert_eq!(s.snapshot().len(), 1 + 3, "{:?}", s.snapshot().keys());
        assert_eq!(read(&s, "acct").unwrap(), Some(text(3000, 17)));
    }

    #[test]
    fn a_young_stray_is_kept_for_later_and_an_old_one_is_deleted() {
        let s = LimitedStore::windows();
        s.die_after(Some(3));
        assert!(write(&s, "acct", &text(4000, 14), NOW).is_err());
        s.die_after(None);
        let strays = |s: &LimitedStore| {
            s.snapshot()
                .into_keys()
                .filter(|k| k.contains("#part:"))
                .count()
        };
        assert_eq!(strays(&s), 2);
        // A minute later another write may still be under way: its parts stay.
        write(&s, "acct", "new", NOW + 60).unwrap();
        assert_eq!(strays(&s), 2);
        assert!(remove(&s, "acct", NOW + STRAY_AFTER_SECS).unwrap());
        assert!(s.snapshot().is_empty(), "{:?}", s.snapshot().keys());
    }

    /// Another process replaces the value (and deletes the old parts) between this reader's
    /// reads of the record and of its parts: the reader reads the record again.
    #[test]
    fn a_reader_racing_a_writer_reads_the_newer_value() {
        struct Racing {
            inner: LimitedStore,
            newer: Mutex<Option<BTreeMap<String, String>>>,
        }
        impl ItemStore for Racing {
            fn get(&self, account: &str) -> Result<Option<String>> {
                let v = self.inner.get(account);
                if let Some(items) = self.newer.lock().unwrap().take() {
                    *self.inner.items.lock().unwrap() = items;
                }
                v
            }
            fn set(&self, a: &str, v: &str) -> Result<()> {
                self.inner.set(a, v)
            }
            fn delete(&self, a: &str) -> Result<bool> {
                self.inner.delete(a)
            }
            fn limit(&self) -> Option<ItemLimit> {
                self.inner.limit()
            }
            fn describe(&self) -> String {
                self.inner.describe()
            }
        }
        let s = Racing {
            inner: LimitedStore::windows(),
            newer: Mutex::new(None),
        };
        write(&s.inner, "acct", &text(3000, 12), NOW).unwrap();
        let later = LimitedStore::windows();
        *later.items.lock().unwrap() = s.inner.snapshot();
        write(&later, "acct", &text(3000, 13), NOW).unwrap();
        *s.newer.lock().unwrap() = Some(later.snapshot());
        assert_eq!(read(&s, "acct").unwrap(), Some(text(3000, 13)));
    }
}
