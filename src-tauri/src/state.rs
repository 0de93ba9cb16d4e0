//! What the shell keeps between commands: where credentials and configs are, the plans the
//! person is editing, the sign-ins in flight, and the last health of every server.

use crate::api::OpenServer;
use latchkey_core::usecase::{CredentialStore, Latchkey, Locations, LoginPlan, ServerHealth};
use latchkey_core::Secret;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// A plan shown in the wizard, with the client secret typed for it (never sent back).
pub struct KeptPlan {
    pub plan: LoginPlan,
    pub client_secret: Option<Secret>,
}

pub struct AppState {
    /// The engine every command calls.
    pub engine: Arc<Latchkey>,
    plans: Mutex<HashMap<String, KeptPlan>>,
    sign_ins: Mutex<HashMap<String, tauri::async_runtime::JoinHandle<()>>>,
    health: Mutex<BTreeMap<String, ServerHealth>>,
    pending_open: Mutex<Option<OpenServer>>,
    /// Whether the main window's page has loaded (so it hears events); false once it closes.
    window_ready: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl AppState {
    pub fn new(store: Arc<dyn CredentialStore>, locations: Locations) -> Self {
        Self::with_engine(Latchkey::new(store, locations).with_timeout(Duration::from_secs(10)))
    }

    pub fn with_engine(engine: Latchkey) -> Self {
        AppState {
            engine: Arc::new(engine),
            plans: Mutex::default(),
            sign_ins: Mutex::default(),
            health: Mutex::default(),
            pending_open: Mutex::default(),
            window_ready: AtomicBool::new(false),
        }
    }

    /// The engine of this user, from the environment (`LATCHKEY_KEYCHAIN_SERVICE`, `HOME`,
    /// `CLAUDE_CONFIG_DIR`, ...).
    pub fn from_env() -> Self {
        Self::with_engine(Latchkey::from_env().with_timeout(Duration::from_secs(10)))
    }

    pub fn keep_plan(&self, url: &str, kept: KeptPlan) {
        lock(&self.plans).insert(url.to_string(), kept);
    }

    /// Runs `f` on the kept plan of `url`, if there is one.
    pub fn with_plan<T>(&self, url: &str, f: impl FnOnce(&mut KeptPlan) -> T) -> Option<T> {
        lock(&self.plans).get_mut(url).map(f)
    }

    pub fn take_plan(&self, url: &str) -> Option<KeptPlan> {
        lock(&self.plans).remove(url)
    }

    /// Records a sign-in in flight; an earlier one for the same server is cancelled.
    pub fn start_sign_in(&self, url: &str, task: tauri::async_runtime::JoinHandle<()>) {
        if let Some(old) = lock(&self.sign_ins).insert(url.to_string(), task) {
            old.abort();
        }
    }

    /// Cancels the sign-in in flight for `url`; true when there was one.
    pub fn cancel_sign_in(&self, url: &str) -> bool {
        match lock(&self.sign_ins).remove(url) {
            Some(t) => {
                t.abort();
                true
            }
            None => false,
        }
    }

    pub fn finish_sign_in(&self, url: &str) {
        lock(&self.sign_ins).remove(url);
    }

    pub fn set_health(&self, h: &ServerHealth) {
        lock(&self.health).insert(h.server.clone(), h.clone());
    }

    pub fn forget_health(&self, url: &str) {
        lock(&self.health).remove(url);
    }

    pub fn last_health(&self) -> Vec<ServerHealth> {
        lock(&self.health).values().cloned().collect()
    }

    pub fn set_pending_open(&self, open: OpenServer) {
        *lock(&self.pending_open) = Some(open);
    }

    pub fn take_pending_open(&self) -> Option<OpenServer> {
        lock(&self.pending_open).take()
    }

    /// The main window's page loaded (true) or the window closed (false).
    pub fn set_window_ready(&self, ready: bool) {
        self.window_ready.store(ready, Ordering::SeqCst);
    }

    pub fn window_ready(&self) -> bool {
        self.window_ready.load(Ordering::SeqCst)
    }

    pub fn health_of(&self, url: &str) -> Option<ServerHealth> {
        lock(&self.health).get(url).cloned()
    }
}
