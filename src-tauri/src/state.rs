//! What the shell keeps between commands: where credentials and configs are, the plans the
//! person is editing, the sign-ins in flight, the last health of every server, and who
//! monitors them (the tray, or this window alone).

use crate::api::OpenServer;
use crate::tray_link::TrayLink;
use latchkey_core::usecase::{
    CredentialStore, Latchkey, LocalPicture, Locations, ServerHealth, SignInPlan,
};
use latchkey_core::Secret;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

/// Who watches the config files, probes the servers and renews the sessions while the window
/// is open.
#[derive(Clone)]
pub enum Monitor {
    /// Not known yet: the window is still asking the session bus for the tray.
    Deciding,
    /// The tray does; the window asks it and listens to it.
    Tray(Arc<TrayLink>),
    /// This window does, as no tray answered (or the tray left).
    Alone,
}

/// A plan shown in the wizard, with the client secret typed for it (never sent back).
pub struct KeptPlan {
    pub plan: SignInPlan,
    pub client_secret: Option<Secret>,
}

pub struct AppState {
    /// The engine every command calls.
    pub engine: Arc<Latchkey>,
    plans: Mutex<HashMap<String, KeptPlan>>,
    sign_ins: Mutex<HashMap<String, tauri::async_runtime::JoinHandle<()>>>,
    /// Where the wizard's "Paste the address your browser ended on" goes, for each sign-in
    /// in flight (core's `oauth::paste_back`).
    pastes: Mutex<HashMap<String, latchkey_core::usecase::PasteBack>>,
    /// The last health of every server: `ServerHealth` as JSON, as the UI gets it (the tray's
    /// answers arrive as JSON and are passed on as they are).
    health: Mutex<BTreeMap<String, Value>>,
    monitor: watch::Sender<Monitor>,
    pending_open: Mutex<Option<OpenServer>>,
    /// The servers whose wizard a link from outside Latchkey opened (core's
    /// `usecase::links`): their sign-in is noted as started by a link.
    link_started: Mutex<std::collections::BTreeSet<String>>,
    /// Diagnoses shown as a preview, by server, written only when the person saves them.
    previewed: Mutex<BTreeMap<String, latchkey_core::usecase::Diagnosis>>,
    /// Whether the main window's page has loaded (so it hears events); false once it closes.
    window_ready: AtomicBool,
    /// The servers as the config files and the keychain last described them, for the
    /// overview of each health burst; dropped whenever the dashboard may have changed.
    picture: Mutex<Option<LocalPicture>>,
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
            pastes: Mutex::default(),
            health: Mutex::default(),
            monitor: watch::Sender::new(Monitor::Deciding),
            pending_open: Mutex::default(),
            link_started: Mutex::default(),
            previewed: Mutex::default(),
            window_ready: AtomicBool::new(false),
            picture: Mutex::default(),
        }
    }

    /// The servers as last read (read now when nothing is kept). A picture whose keychain
    /// could not be read is not kept: the next call tries the keychain again.
    pub fn local_picture(&self) -> LocalPicture {
        let mut kept = lock(&self.picture);
        if let Some(p) = kept.as_ref() {
            return p.clone();
        }
        let p = self.engine.local_picture();
        if p.keychain.is_none() {
            *kept = Some(p.clone());
        }
        p
    }

    /// The config files or the keychain changed (or may have): read them again next time.
    pub fn forget_picture(&self) {
        *lock(&self.picture) = None;
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

    /// Where a pasted answer for the sign-in in flight for `url` goes.
    pub fn set_paste(&self, url: &str, paste: latchkey_core::usecase::PasteBack) {
        lock(&self.pastes).insert(url.to_string(), paste);
    }

    /// The way into the sign-in in flight for `url`, if one is waiting.
    pub fn paste(&self, url: &str) -> Option<latchkey_core::usecase::PasteBack> {
        lock(&self.pastes).get(url).cloned()
    }

    /// Cancels the sign-in in flight for `url`; true when there was one.
    pub fn cancel_sign_in(&self, url: &str) -> bool {
        lock(&self.pastes).remove(url);
        match lock(&self.sign_ins).remove(url) {
            Some(t) => {
                t.abort();
                true
            }
            None => false,
        }
    }

    pub fn finish_sign_in(&self, url: &str) {
        lock(&self.pastes).remove(url);
        lock(&self.sign_ins).remove(url);
    }

    /// Keeps a probe's result of this window's engine.
    pub fn set_health(&self, h: &ServerHealth) {
        if let Ok(v) = serde_json::to_value(h) {
            self.set_health_json(v);
        }
    }

    /// Keeps a probe's result as the tray said it (a `ServerHealth` as JSON); one without a
    /// server is ignored.
    pub fn set_health_json(&self, h: Value) {
        if let Some(server) = h["server"].as_str() {
            lock(&self.health).insert(server.to_string(), h);
        }
    }

    pub fn forget_health(&self, url: &str) {
        lock(&self.health).remove(url);
    }

    /// The last health of every server (`ServerHealth` as JSON).
    pub fn last_health(&self) -> Vec<Value> {
        lock(&self.health).values().cloned().collect()
    }

    /// Who monitors now (possibly [`Monitor::Deciding`]).
    pub fn monitor_now(&self) -> Monitor {
        self.monitor.borrow().clone()
    }

    /// Who monitors, once that is known: the tray's link, or None when this window does.
    pub async fn monitor(&self) -> Option<Arc<TrayLink>> {
        let mut seen = self.monitor.subscribe();
        let decided = seen
            .wait_for(|m| !matches!(m, Monitor::Deciding))
            .await
            .map(|m| m.clone());
        match decided {
            Ok(Monitor::Tray(link)) => Some(link),
            _ => None,
        }
    }

    /// Says who monitors.
    pub fn set_monitor(&self, m: Monitor) {
        self.monitor.send_replace(m);
    }

    pub fn set_pending_open(&self, open: OpenServer) {
        *lock(&self.pending_open) = Some(open);
    }

    pub fn take_pending_open(&self) -> Option<OpenServer> {
        lock(&self.pending_open).take()
    }

    /// Remembers whether the last sign-in asked for `url` was started by a link.
    pub fn set_link_started(&self, url: &str, started_by_link: bool) {
        let mut all = lock(&self.link_started);
        if started_by_link {
            all.insert(url.to_string());
        } else {
            all.remove(url);
        }
    }

    /// Keeps the diagnosis previewed for `url` until it is saved.
    pub fn keep_previewed(&self, url: &str, d: latchkey_core::usecase::Diagnosis) {
        lock(&self.previewed).insert(url.to_string(), d);
    }

    /// The diagnosis previewed for `url`, if any.
    pub fn take_previewed(&self, url: &str) -> Option<latchkey_core::usecase::Diagnosis> {
        lock(&self.previewed).remove(url)
    }

    /// Whether the sign-in of `url` was started by a link.
    pub fn link_started(&self, url: &str) -> bool {
        lock(&self.link_started).contains(url)
    }

    /// The main window's page loaded (true) or the window closed (false).
    pub fn set_window_ready(&self, ready: bool) {
        self.window_ready.store(ready, Ordering::SeqCst);
    }

    pub fn window_ready(&self) -> bool {
        self.window_ready.load(Ordering::SeqCst)
    }

    /// The last health of `url` (`ServerHealth` as JSON).
    pub fn health_of(&self, url: &str) -> Option<Value> {
        lock(&self.health).get(url).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_core::usecase::MemoryStore;

    #[test]
    fn the_overview_reads_the_configs_once_per_dashboard_change() {
        let home = tempfile::tempdir().unwrap();
        let cursor = home.path().join(".cursor/mcp.json");
        std::fs::create_dir_all(cursor.parent().unwrap()).unwrap();
        let write = |names: &[&str]| {
            let servers: serde_json::Map<String, Value> = names
                .iter()
                .map(|n| {
                    let url = format!("https://{n}.example.com/mcp");
                    (n.to_string(), serde_json::json!({ "url": url }))
                })
                .collect();
            std::fs::write(
                &cursor,
                serde_json::json!({ "mcpServers": servers }).to_string(),
            )
            .unwrap();
        };
        write(&["one"]);
        let state = AppState::new(
            Arc::new(MemoryStore::default()),
            Locations::for_home(home.path()),
        );
        let count = |s: &AppState| s.local_picture().dashboard.servers.len();
        assert_eq!(count(&state), 1);
        // A health burst reads nothing: a file changed meanwhile is not seen...
        write(&["one", "two"]);
        assert_eq!(count(&state), 1);
        // ...until the dashboard is announced (a config change, a sign-in, the tray's word).
        state.forget_picture();
        assert_eq!(count(&state), 2);
    }
}
