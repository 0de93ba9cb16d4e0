//! Latchkey's tray: the icon and its menu, the probes behind them, the refresh scheduler and
//! its notifications, links and one-click sign-in. It runs in a process that never loads
//! WebKit; the window is `latchkey-app --window`, started when asked for and gone when closed
//! (see window.rs). `latchkey-app` without `--window` becomes this program.

mod host;
mod instance;
mod model;
mod network;
mod notify;
mod tray;
mod window;

use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static STARTED: OnceLock<Instant> = OnceLock::new();

fn main() -> ExitCode {
    // The launch time `latchkey-app` measured before it became the tray, else ours.
    let started = std::env::var("LATCHKEY_LAUNCHED_AT_NS")
        .ok()
        .and_then(|ns| ns.parse::<u128>().ok())
        .and_then(|ns| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?
                .as_nanos();
            let ago = Duration::from_nanos(u64::try_from(now.checked_sub(ns)?).ok()?);
            Instant::now().checked_sub(ago)
        })
        .unwrap_or_else(Instant::now);
    STARTED.get_or_init(|| started);
    // Not for the window processes this tray starts. Still the only thread.
    std::env::remove_var("LATCHKEY_LAUNCHED_AT_NS");
    // GTK would otherwise set up OpenGL on opening the display, which maps Mesa and LLVM
    // (about 50 MB) for a tray icon. Set before any thread exists.
    if std::env::var_os("GDK_GL").is_none() {
        std::env::set_var("GDK_GL", "disable");
    }
    latchkey_core::logging::init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("latchkey: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("latchkey-tray-rt")
        .enable_all()
        .build()?;
    let host = host::Host::from_env(rt.handle().clone());

    let claim = instance::claim(&argv, std::sync::Arc::new(Served(host.clone())))?;
    let bus = match claim {
        instance::Claim::Forwarded => {
            tracing::info!("Latchkey already runs: it was handed this launch");
            return Ok(());
        }
        instance::Claim::First(bus) => bus,
    };

    gtk::init().map_err(|e| {
        anyhow::anyhow!("cannot open the display for the tray ({e}); is a desktop session running?")
    })?;
    let chooser = host.clone();
    let start = model::TrayView {
        looking: true,
        ..model::TrayView::default()
    };
    tray::create(start, move |choice| chooser.chosen(choice))?;
    tray_ready();
    host.start(bus.as_ref().map(instance::Signals::new));
    let watcher = host.clone();
    network::watch(move |state| watcher.network_changed(state));
    host.open_links(&argv);
    if show_window_at_start() && !host.windows.any() {
        host.windows.open(None);
    }
    // A window that ended may have signed in or out: look again.
    let reaper = host.clone();
    gtk::glib::timeout_add_seconds_local(1, move || {
        if reaper.windows.reap() {
            reaper.changed();
        }
        gtk::glib::ControlFlow::Continue
    });
    gtk::main();
    host.windows.close_all();
    rt.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}

/// What the tray answers on D-Bus, from its host.
struct Served(std::sync::Arc<host::Host>);

impl instance::Answers for Served {
    fn launched(&self, argv: Vec<String>) {
        let host = self.0.clone();
        // Heard on D-Bus's thread; the tray and windows are handled on GTK's.
        gtk::glib::MainContext::default().invoke(move || {
            if host.open_links(&argv) == 0 {
                host.windows.open(None);
            }
        });
    }

    fn changed(&self) {
        let host = self.0.clone();
        gtk::glib::MainContext::default().invoke(move || host.changed());
    }

    fn last_health(&self) -> Vec<latchkey_core::usecase::ServerHealth> {
        self.0.last_health()
    }

    fn probe_all(&self) -> instance::Round {
        Box::pin(self.0.probe_round())
    }

    fn sign_in(&self, url: String, scopes: Vec<String>) -> bool {
        self.0.sign_in_for_tool(url, scopes);
        true
    }
}

/// The window opens at start with `LATCHKEY_SHOW_WINDOW_AT_START=1` (screenshots, tests).
fn show_window_at_start() -> bool {
    matches!(
        std::env::var("LATCHKEY_SHOW_WINDOW_AT_START").as_deref(),
        Ok("1" | "true" | "yes")
    )
}

/// The tray exists: with `LATCHKEY_READY_FILE` set, write "tray-ready <ms since launch>" there
/// (the benchmark and the real-app tests wait for it).
fn tray_ready() {
    let Some(path) = std::env::var_os("LATCHKEY_READY_FILE") else {
        return;
    };
    let ms = STARTED.get_or_init(Instant::now).elapsed().as_millis();
    if let Err(e) = std::fs::write(&path, format!("tray-ready {ms}\n")) {
        tracing::warn!("could not write the ready file: {e}");
    }
}
