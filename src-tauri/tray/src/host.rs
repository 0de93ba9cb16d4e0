//! What the tray keeps and does while it runs: the servers' last health, the probes that
//! keep it current (at start, after config changes, after the window changed something),
//! the refresh scheduler and its notifications, and one-click re-authorization. This is the
//! one monitor of the session: an open window asks it and listens to its signals
//! (instance.rs) instead of watching, probing and renewing on its own.

use crate::instance::Signals;
use crate::model::{self, MenuChoice};
use crate::window::Windows;
use crate::{notify, tray};
use latchkey_core::usecase::{
    links, offline_backoff, BrowserMode, ConfigWatcher, Event, Health, Latchkey, LinkAction,
    LocalPicture, NetworkState, OverallState, ServerHealth, SignInAgain, SignInEvent,
};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

pub struct Host {
    engine: Arc<Latchkey>,
    pub windows: Windows,
    rt: tokio::runtime::Handle,
    health: Mutex<BTreeMap<String, ServerHealth>>,
    /// The servers and what keeps Latchkey from reading them, as last read from the config
    /// files and the keychain: redrawing after each probe result reads nothing.
    picture: Mutex<LocalPicture>,
    /// What the OS says of the network (NetworkManager where it runs).
    network: Mutex<NetworkState>,
    /// Offline rounds in a row, for the backoff of the next check; a check is scheduled.
    offline_rounds: AtomicU32,
    recheck_scheduled: AtomicBool,
    /// Servers with a one-click sign-in in flight (a second click does not start another).
    signing_in: Mutex<BTreeSet<String>>,
    watcher: Mutex<Option<ConfigWatcher>>,
    /// The D-Bus signals the window listens to (none without a session bus).
    signals: OnceLock<Signals>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Host {
    /// The keychain and config locations of this user, from the environment
    /// (`LATCHKEY_KEYCHAIN_SERVICE`, `HOME`, `CLAUDE_CONFIG_DIR`, ...).
    pub fn from_env(rt: tokio::runtime::Handle) -> Arc<Host> {
        Arc::new(Host {
            engine: Arc::new(Latchkey::from_env().with_timeout(Duration::from_secs(10))),
            windows: Windows::default(),
            rt,
            health: Mutex::default(),
            picture: Mutex::default(),
            network: Mutex::default(),
            offline_rounds: AtomicU32::new(0),
            recheck_scheduled: AtomicBool::new(false),
            signing_in: Mutex::default(),
            watcher: Mutex::default(),
            signals: OnceLock::new(),
        })
    }

    /// Reads the servers again from the config files and the keychain; their urls.
    fn reload_servers(&self) -> Vec<String> {
        let picture = self.engine.local_picture();
        let urls = picture.urls();
        *lock(&self.picture) = picture;
        urls
    }

    /// Redraws the tray from the servers last read and their last health; the overall state.
    pub fn redraw(&self) -> OverallState {
        let health: Vec<ServerHealth> = lock(&self.health).values().cloned().collect();
        let network = *lock(&self.network);
        let overview = lock(&self.picture).overview(&health, network);
        let state = overview.state;
        tray::show(model::view(&overview));
        state
    }

    /// What the OS says of the network changed: redraw, and when it is back, check every
    /// server at once.
    pub fn network_changed(self: &Arc<Self>, now: NetworkState) {
        let before = std::mem::replace(&mut *lock(&self.network), now);
        if before == now {
            return;
        }
        tracing::info!("the network is now {now:?}");
        if now == NetworkState::Connected {
            let host = self.clone();
            self.rt.spawn(async move { host.probe_everything().await });
        } else {
            self.redraw();
        }
    }

    /// After a round: while offline, the next check comes after a backoff (5 s doubling to 5
    /// minutes), so the picture recovers when the network does, even with no OS signal.
    fn after_round(self: &Arc<Self>) {
        if self.redraw() != OverallState::Offline {
            self.offline_rounds.store(0, Ordering::SeqCst);
            return;
        }
        if self.recheck_scheduled.swap(true, Ordering::SeqCst) {
            return;
        }
        let wait = offline_backoff(self.offline_rounds.fetch_add(1, Ordering::SeqCst));
        tracing::info!("offline: checking again in {} s", wait.as_secs());
        let host = self.clone();
        self.rt.spawn(async move {
            tokio::time::sleep(wait).await;
            host.recheck_scheduled.store(false, Ordering::SeqCst);
            host.probe_everything().await;
        });
    }

    /// The last health of every server.
    pub fn last_health(&self) -> Vec<ServerHealth> {
        lock(&self.health).values().cloned().collect()
    }

    /// Probes every server (at most 16 at once), redrawing as each answers (the engine
    /// announces each result, which the window hears as a signal); all the results.
    pub async fn probe_everything(self: &Arc<Self>) -> Vec<ServerHealth> {
        let urls = self.reload_servers();
        // Servers no longer configured leave the tray's memory too.
        lock(&self.health).retain(|url, _| urls.contains(url));
        self.redraw();
        let results = self
            .engine
            .probe_all(urls, |h| {
                lock(&self.health).insert(h.server.clone(), h.clone());
                self.redraw();
            })
            .await;
        self.after_round();
        results
    }

    /// A probe round asked for over D-Bus (the window's "check again"): it runs on the
    /// tray's runtime; the future gives its results.
    pub fn probe_round(
        self: &Arc<Self>,
    ) -> impl Future<Output = Vec<ServerHealth>> + Send + 'static {
        let host = self.clone();
        let round = self.rt.spawn(async move { host.probe_everything().await });
        async move { round.await.unwrap_or_default() }
    }

    pub async fn probe_one(&self, url: &str) -> ServerHealth {
        let h = self.engine.probe(url).await;
        self.reload_servers();
        lock(&self.health).insert(h.server.clone(), h.clone());
        self.redraw();
        h
    }

    /// Something changed credentials or configs (the window signed in or out, the config
    /// files changed): renew the picture and let the scheduler look again.
    pub fn changed(self: &Arc<Self>) {
        self.engine.wake_scheduler();
        // A token handed to Gemini CLI whose name another server now has is taken back.
        match self.engine.withdraw_gemini_collisions() {
            Ok(w) if !w.is_empty() => tracing::warn!(
                "withdrew {} token(s) handed to Gemini CLI: another server has their name",
                w.len()
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!("could not check Gemini CLI's token names: {e}"),
        }
        let host = self.clone();
        self.rt.spawn(async move {
            if let Some(s) = host.signals.get() {
                s.servers_changed().await;
            }
            host.probe_everything().await;
        });
    }

    /// Starts the config watcher, the first probe and the refresh scheduler; with `signals`,
    /// every probe result, session event and change is also said on D-Bus.
    pub fn start(self: &Arc<Self>, signals: Option<Signals>) {
        if let Some(s) = signals {
            let _ = self.signals.set(s);
        }
        let host = self.clone();
        match self.engine.watch_configs(move |_| host.changed()) {
            Ok(w) => *lock(&self.watcher) = Some(w),
            Err(e) => tracing::warn!("config files will not be watched: {e}"),
        }
        let host = self.clone();
        self.rt.spawn(async move { host.probe_everything().await });

        // Every renewal, failed renewal and ending session the engine announces (the
        // scheduler's, the tray's one-click sign-ins) is notified and probed again; every
        // event is said on D-Bus for the window.
        let mut heard = self.engine.subscribe();
        let host = self.clone();
        self.rt.spawn(async move {
            loop {
                let e = match heard.recv().await {
                    Ok(e) => e,
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!("the tray fell {missed} events behind; they were missed");
                        continue;
                    }
                    Err(RecvError::Closed) => break,
                };
                if let Some(s) = host.signals.get() {
                    s.event(&e).await;
                }
                if let Event::Session(e) = e {
                    host.session_event(e);
                }
            }
        });
        let engine = self.engine.clone();
        self.rt.spawn(async move { engine.run_scheduler().await });
    }

    fn session_event(self: &Arc<Self>, e: latchkey_core::usecase::SessionEvent) {
        let url = notify::server_of(&e).to_string();
        let host = self.clone();
        let link = LinkAction::own_login(url.clone(), Vec::new());
        notify::show(&e, &self.display_name(&url), self.engine.now(), move || {
            host.windows.open(Some(&link))
        });
        let host = self.clone();
        self.rt.spawn(async move {
            host.probe_one(&url).await;
        });
    }

    /// A name people recognise: the first name a tool gives the server, else its address.
    /// Events can come before the first probe has read the servers: then they are read now.
    fn display_name(&self, url: &str) -> String {
        let known = |host: &Self| lock(&host.picture).title(url).map(str::to_string);
        known(self)
            .or_else(|| {
                self.reload_servers();
                known(self)
            })
            .unwrap_or_else(|| url.to_string())
    }

    /// A tray menu item was chosen (main thread).
    pub fn chosen(self: &Arc<Self>, choice: MenuChoice) {
        match choice {
            MenuChoice::Open | MenuChoice::Overall => self.windows.open(None),
            MenuChoice::Quit => {
                self.windows.close_all();
                gtk::main_quit();
            }
            MenuChoice::Server(url) => {
                let host = self.clone();
                self.rt.spawn(async move { host.server_chosen(url).await });
            }
        }
    }

    /// Carries out `latchkey://` links among a launch's arguments; the others are ignored
    /// (links can come from any web page: a bad one is logged, never acted on).
    pub fn open_links(&self, argv: &[String]) -> usize {
        let mut opened = 0;
        for read in links::read_args(argv) {
            match read {
                Ok(action) => {
                    self.windows.open(Some(&action));
                    opened += 1;
                }
                Err(e) => tracing::warn!("ignored a link: {e}"),
            }
        }
        opened
    }

    /// A server chosen in the tray: one-click sign-in when it needs one and its last plan
    /// still holds; the wizard when the plan changed or it never signed in; else "why".
    async fn server_chosen(self: Arc<Self>, url: String) {
        let known = lock(&self.health).get(&url).map(|h| h.health);
        let needs = matches!(
            known,
            Some(Health::NeedsSignIn | Health::NeverSignedIn | Health::ExpiringSoon)
        );
        if !needs {
            self.windows
                .open(Some(&LinkAction::Why { url: url.clone() }));
            return;
        }
        self.sign_in_once(url).await;
    }

    /// A tool (`latchkey bridge`) needs `url` signed in again (D-Bus `SignIn`): with no
    /// `scopes`, the one-click sign-in, or the window's review when the plan changed or it
    /// never signed in; with scopes (the server asked for more), the window's review starting
    /// from them: wider access is the person's to grant.
    pub fn sign_in_for_tool(self: &Arc<Self>, url: String, scopes: Vec<String>) {
        if !scopes.is_empty() {
            tracing::info!("a tool needs wider access to {url}: the window reviews it");
            self.windows.open(Some(&LinkAction::own_login(url, scopes)));
            return;
        }
        let host = self.clone();
        self.rt.spawn(async move { host.sign_in_once(url).await });
    }

    /// One-click sign-in of `url` (one at a time per server): when its last plan still
    /// holds; else the window's review; "why" when it failed.
    async fn sign_in_once(self: Arc<Self>, url: String) {
        if !lock(&self.signing_in).insert(url.clone()) {
            tracing::info!("a sign-in for {url} is already waiting for the browser");
            return;
        }
        // A sign-in page that could not be opened here: the tray cannot take a pasted
        // address, so the window's wizard (which can) takes over.
        let (no_browser, mut no_browser_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        let said = {
            let url = url.clone();
            move |e: SignInEvent| {
                if let Some(line) = method_line(&url, &e) {
                    tracing::info!("{line}");
                }
                if page_not_opened(&e) {
                    let _ = no_browser.send(());
                }
            }
        };
        let outcome = tokio::select! {
            outcome = self.engine.sign_in_again(&url, BrowserMode::Open, &said) => Some(outcome),
            Some(()) = no_browser_rx.recv() => None,
        };
        lock(&self.signing_in).remove(&url);
        let Some(outcome) = outcome else {
            tracing::info!(
                "one-click sign-in for {url}: no browser opened here; the window's sign-in takes over"
            );
            self.windows
                .open(Some(&LinkAction::own_login(url.clone(), Vec::new())));
            return;
        };
        match outcome {
            Ok(_) => {
                self.probe_one(&url).await;
            }
            Err(SignInAgain::NeedsReview(why)) => {
                tracing::info!("sign-in for {url} opens the window: {why}");
                self.windows
                    .open(Some(&LinkAction::own_login(url.clone(), Vec::new())));
            }
            Err(SignInAgain::Failed(why)) => {
                tracing::warn!("one-click sign-in for {url} failed: {why}");
                self.probe_one(&url).await;
                self.windows
                    .open(Some(&LinkAction::Why { url: url.clone() }));
            }
        }
    }
}

/// Whether `e` says the sign-in page could not be opened on this machine.
fn page_not_opened(e: &SignInEvent) -> bool {
    matches!(e, SignInEvent::SignInPage { opened: false, .. })
}

/// What the tray's log says of a one-click sign-in's `e`: how the answer comes back and why
/// (core's `SignInEvent::Method`, the same words the command line and the window show).
fn method_line(url: &str, e: &SignInEvent) -> Option<String> {
    match e {
        SignInEvent::Method {
            method,
            why,
            ssh_forward,
        } => Some(format!(
            "one-click sign-in for {url}: the answer comes back {}. {why}.{}",
            method.words(),
            ssh_forward
                .as_deref()
                .map(|c| format!(" On the computer with the browser, run: {c}"))
                .unwrap_or_default()
        )),
        _ => None,
    }
}

#[cfg(test)]
mod method_tests {
    use super::*;
    use latchkey_core::usecase::SignInMethod;

    #[test]
    fn the_log_says_how_the_answer_comes_back_and_why() {
        let line = method_line(
            "https://mcp.example/mcp",
            &SignInEvent::Method {
                method: SignInMethod::Browser,
                why: "The sign-in page opened in a browser on this machine".into(),
                ssh_forward: None,
            },
        )
        .unwrap();
        assert!(
            line.contains("in your browser on this machine")
                && line.contains("opened in a browser"),
            "{line}"
        );
        assert!(method_line("u", &SignInEvent::Exchanging).is_none());
    }

    #[test]
    fn a_page_that_did_not_open_hands_the_sign_in_to_the_window() {
        let page = |opened| SignInEvent::SignInPage {
            url: "https://as.example/authorize".into(),
            opened,
            register_again: None,
        };
        assert!(page_not_opened(&page(false)));
        assert!(!page_not_opened(&page(true)));
        assert!(!page_not_opened(&SignInEvent::Exchanging));
    }
}
