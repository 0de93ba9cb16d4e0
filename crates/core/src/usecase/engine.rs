//! [`Latchkey`]: the one engine under every front. It holds the adaptors the use cases need
//! (the credential store, where the AI tools keep their files, the clock, the HTTP timeout,
//! the state folder) and the event channel the fronts listen to. The use cases themselves are
//! `impl Latchkey` blocks in the sibling modules, one concern each.
//!
//! Built from the environment with [`Latchkey::from_env`]; every adaptor can be replaced
//! (`with_*`) so tests run against a private keychain, a temporary home and a fake clock.

use crate::clock::{Clock, SystemClock};
use crate::oauth::renewal_timing::{RenewalTiming, DEFAULT_CAP};
use crate::protocol::http::{Http, Reqwest, Transport};
use crate::store::paths;
use crate::store::vault::{CredentialStore, KeyringStore};
use crate::tools::Locations;
use crate::usecase::events::Event;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, Notify};

/// Seconds each HTTP request may take, unless the front says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// How many events a slow listener may fall behind before it misses some.
const EVENT_BACKLOG: usize = 256;

/// The engine: cheap to build (no I/O), shared by reference or in an `Arc`.
pub struct Latchkey {
    pub(crate) store: Arc<dyn CredentialStore>,
    pub(crate) locations: Locations,
    pub(crate) clock: Arc<dyn Clock>,
    /// Per-request HTTP timeout.
    pub(crate) timeout: Duration,
    /// Where locks and flow records live (`LATCHKEY_STATE_DIR`).
    pub(crate) state_dir: PathBuf,
    /// When tokens are renewed: a share of their lifetime, the margin for use capped by
    /// `LATCHKEY_REFRESH_MARGIN_SECS`.
    pub(crate) timing: RenewalTiming,
    /// How long to wait for another process renewing the same server.
    pub(crate) lock_wait: Duration,
    /// The `latchkey` program a tool runs for fresh headers.
    pub(crate) latchkey_program: String,
    /// Where requests go; `None`: the network, through reqwest.
    transport: Option<Arc<dyn Transport>>,
    /// The keychain the AI tools keep their own sign-ins in (Codex; Claude Code on macOS):
    /// the OS keychain, or a fake in tests.
    pub(crate) tool_keychain: Arc<dyn crate::tools::keychain::Keychain>,
    events: broadcast::Sender<Event>,
    /// Wakes the renewal scheduler: a sign-in or sign-out changed the deadlines.
    pub(crate) wake: Arc<Notify>,
    /// The sessions already warned of their end (server id, end in seconds since the epoch).
    warned: Mutex<HashSet<(String, u64)>>,
}

impl Latchkey {
    /// This user's keychain (`LATCHKEY_KEYCHAIN_SERVICE`), tools' files (`HOME`,
    /// `CLAUDE_CONFIG_DIR`, `CODEX_HOME`, ...), state folder (`LATCHKEY_STATE_DIR`), renewal
    /// margin (`LATCHKEY_REFRESH_MARGIN_SECS`) and the system clock.
    pub fn from_env() -> Self {
        let margin = std::env::var("LATCHKEY_REFRESH_MARGIN_SECS")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_CAP);
        let mut engine = Self::new(Arc::new(KeyringStore::from_env()), Locations::from_env())
            .with_state_dir(paths::state_dir())
            .with_margin(margin);
        // Test hook (debug builds, as the end-to-end tests run): a renewal on every call.
        engine.timing.renew_always =
            cfg!(debug_assertions) && std::env::var_os("LATCHKEY_TEST_RENEW_ALWAYS").is_some();
        engine
    }

    /// An engine over `store` and `locations`, with the system clock, the default timeout,
    /// margin and state folder.
    pub fn new(store: Arc<dyn CredentialStore>, locations: Locations) -> Self {
        let (events, _) = broadcast::channel(EVENT_BACKLOG);
        Latchkey {
            store,
            locations,
            clock: Arc::new(SystemClock),
            timeout: DEFAULT_TIMEOUT,
            state_dir: paths::state_dir(),
            timing: RenewalTiming::default(),
            lock_wait: Duration::from_secs(30),
            latchkey_program: latchkey_program(),
            transport: None,
            tool_keychain: Arc::new(crate::tools::keychain::OsKeychain),
            events,
            wake: Arc::new(Notify::new()),
            warned: Mutex::default(),
        }
    }

    /// Another keychain for the tools' own sign-ins (tests).
    pub fn with_tool_keychain(
        mut self,
        keychain: Arc<dyn crate::tools::keychain::Keychain>,
    ) -> Self {
        self.tool_keychain = keychain;
        self
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Each HTTP request may take this long (at least one second).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_secs(1));
        self
    }

    pub fn with_state_dir(mut self, dir: PathBuf) -> Self {
        self.state_dir = dir;
        self
    }

    /// The most a token is renewed ahead of its expiry for one request (seconds); shorter
    /// tokens are renewed a tenth of their lifetime ahead ([`RenewalTiming`]).
    pub fn with_margin(mut self, margin: Duration) -> Self {
        self.timing.cap = margin;
        self
    }

    /// How long to wait for another process that renews the same server.
    pub fn with_lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// The command tools run for headers starts this program (default: see
    /// [`latchkey_program`]).
    pub fn with_latchkey_program(mut self, program: impl Into<String>) -> Self {
        self.latchkey_program = program.into();
        self
    }

    /// Sends every request through `transport` instead of the network (tests: a canned
    /// transport).
    pub fn with_transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// An HTTP client with the engine's timeout and transport.
    pub(crate) fn http(&self) -> Http {
        match &self.transport {
            Some(t) => Http::with_transport(t.clone(), self.timeout),
            None => Http::new(self.timeout),
        }
    }

    /// The transport of long-lived exchanges (the bridge's requests and event streams): the
    /// test transport when one was given, else [`Reqwest::streaming`], which connects within
    /// the engine's timeout and then waits as long as the server streams.
    pub(crate) fn stream_transport(&self) -> Arc<dyn Transport> {
        match &self.transport {
            Some(t) => t.clone(),
            None => Arc::new(Reqwest::streaming(
                self.timeout.min(Duration::from_secs(10)),
            )),
        }
    }

    pub fn with_locations(mut self, locations: Locations) -> Self {
        self.locations = locations;
        self
    }

    pub fn store(&self) -> &Arc<dyn CredentialStore> {
        &self.store
    }

    pub fn locations(&self) -> &Locations {
        &self.locations
    }

    /// The per-request HTTP timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Seconds since the epoch, from the engine's clock.
    pub fn now(&self) -> u64 {
        self.clock.now()
    }

    /// Every event from now on: sign-ins, sign-outs, renewals, health. A listener that falls
    /// more than 256 events behind misses the oldest ones (and is told so by the receiver).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Sends an event to every listener (none listening is fine).
    pub(crate) fn emit(&self, event: Event) {
        let _ = self.events.send(event);
    }

    /// True the first time a session ending at `at` is to be warned of.
    pub(crate) fn first_warning(&self, server: &str, at: u64) -> bool {
        let mut w = self.warned.lock().unwrap_or_else(|p| p.into_inner());
        w.insert((server.to_string(), at))
    }

    /// Something outside this engine changed credentials (another process signed in or
    /// out): the scheduler looks at the deadlines again.
    pub fn wake_scheduler(&self) {
        self.wake.notify_one();
    }

    /// Something changed the credentials of `server`: the scheduler looks again and the
    /// fronts redraw.
    pub(crate) fn changed(&self, server: &str) {
        self.wake.notify_one();
        self.emit(Event::Changed {
            server: server.to_string(),
        });
    }
}

/// The `latchkey` program tools should start: this program when it is `latchkey`, else the
/// `latchkey` installed beside it (the app's package puts it there), else `latchkey` on the
/// PATH. Quoted for a shell when the path has spaces or quotes.
pub fn latchkey_program() -> String {
    let exe = std::env::current_exe().ok();
    let named = |p: &std::path::Path| {
        p.file_stem()
            .is_some_and(|s| s == "latchkey")
            .then(|| p.to_path_buf())
    };
    let found = exe.as_deref().and_then(named).or_else(|| {
        exe.as_deref()
            .and_then(|e| e.parent())
            .map(|d| d.join(format!("latchkey{}", std::env::consts::EXE_SUFFIX)))
            .filter(|p| p.is_file())
    });
    match found {
        Some(p) => shell_quoted(&p.display().to_string()),
        None => "latchkey".into(),
    }
}

pub use crate::tools::shell_quoted;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_with_spaces_or_quotes_is_one_shell_word() {
        assert_eq!(shell_quoted("/usr/bin/latchkey"), "/usr/bin/latchkey");
        assert_eq!(shell_quoted("/home/a b/latchkey"), "'/home/a b/latchkey'");
        assert_eq!(shell_quoted("/x/it's"), "'/x/it'\\''s'");
        assert_eq!(shell_quoted("/x/$(rm)"), "'/x/$(rm)'");
    }
}
