//! Status, the use case: which servers the person's AI tools use (the inventory), what is
//! stored for each (the dashboard), and how each is doing now (probes), announced as each
//! probe answers.

use crate::health::dashboard::{self, Dashboard};
use crate::health::overview::{self, NetworkState, Overview};
use crate::health::probe::{self, ServerHealth};
use crate::health::reasons;
use crate::store::link_sign_ins;
use crate::store::vault::CredentialBundle;
use crate::tools::inventory::{self, Inventory};
use crate::tools::watch::{ChangeEvent, ConfigWatcher, WatchError};
use crate::usecase::engine::Latchkey;
use crate::usecase::events::Event;
use crate::{Error, Result};
use std::path::PathBuf;

/// The servers as the config files and the keychain describe them at one moment: read once,
/// then combined with each new probe result without reading anything again.
#[derive(Debug, Clone, Default)]
pub struct LocalPicture {
    /// The dashboard (without sessions when the keychain cannot be read).
    pub dashboard: Dashboard,
    /// Why the keychain cannot be read, when it cannot.
    pub keychain: Option<reasons::Reason>,
}

impl LocalPicture {
    /// The overview of these servers given their last `health` and the OS's `network`.
    pub fn overview(&self, health: &[ServerHealth], network: NetworkState) -> Overview {
        overview::build(&overview::Inputs {
            dashboard: &self.dashboard,
            keychain: self.keychain.as_ref(),
            health,
            network,
        })
    }

    /// The canonical URLs of the servers to probe (those with a usable URL).
    pub fn urls(&self) -> Vec<String> {
        self.dashboard
            .servers
            .iter()
            .filter(|s| s.url_problem.is_none())
            .map(|s| s.url.clone())
            .collect()
    }

    /// The title of the server at `url` (the first name a tool gives it, else its host).
    pub fn title(&self, url: &str) -> Option<&str> {
        self.dashboard
            .servers
            .iter()
            .find(|s| s.url == url)
            .map(|s| s.title.as_str())
    }
}

/// At most this many probes run at once.
pub const PROBE_CONCURRENCY: usize = 16;

/// A stored session as `latchkey list` shows it: the bundle, or why it cannot be read.
pub type StoredSession = std::result::Result<CredentialBundle, (String, Error)>;

impl Latchkey {
    /// Every remote MCP server the AI tools are configured with, read from their config
    /// files now. A file that cannot be read is listed among the inventory's problems; it
    /// never hides the others.
    pub fn inventory(&self) -> Inventory {
        inventory::scan(&self.locations)
    }

    /// The inventory with what the keychain holds for each server, and the servers signed in
    /// that no tool lists. Errors: the keychain's (locked, unavailable), never an empty list
    /// that would look like "signed out".
    pub fn dashboard(&self) -> Result<Dashboard> {
        dashboard::build(&self.inventory(), self.store.as_ref())
    }

    /// The overview every front shows first (health/overview.rs): the overall state, its one
    /// action, and every server as a row in urgency order, from the config files, the
    /// keychain, the last probe of each server (`health`) and what the OS says of the
    /// network. A keychain that cannot be read is its state, with the servers the config
    /// files name; never an error. Reads the config files and the keychain now; a front that
    /// redraws often keeps a [`LocalPicture`] instead.
    pub fn overview(&self, health: &[ServerHealth], network: NetworkState) -> Overview {
        self.local_picture().overview(health, network)
    }

    /// What the config files and the keychain say now, for [`LocalPicture::overview`].
    pub fn local_picture(&self) -> LocalPicture {
        let inv = self.inventory();
        match dashboard::build(&inv, self.store.as_ref()) {
            Ok(dashboard) => LocalPicture {
                dashboard,
                keychain: None,
            },
            Err(e) => LocalPicture {
                dashboard: dashboard::without_keychain(&inv),
                keychain: Some(reasons::from_error(&e)),
            },
        }
    }

    /// The servers to probe: those of the tools' configs whose URL can be used (a project's
    /// shared file only where the tool trusts the project, or it is the current folder:
    /// [`crate::tools::inventory::RemoteServer::probed`]), and every
    /// signed-in one, except a server signed in through a sign-in a link started that no
    /// tool uses yet (a web page picked it: it is not called in the background until the
    /// person connects it to a tool). Where the keychain cannot be read, those of the config
    /// files alone (each probe then says what is wrong).
    pub fn servers_to_probe(&self) -> Vec<String> {
        let inventory = self.inventory();
        let current: Vec<PathBuf> = self
            .locations
            .projects
            .iter()
            .chain(self.locations.project.as_ref())
            .cloned()
            .collect();
        let mut urls: Vec<String> = inventory
            .servers
            .iter()
            .filter(|s| s.url_problem.is_none())
            .filter(|s| s.probed(&inventory.trusted_projects, &current))
            .map(|s| s.url.clone())
            .collect();
        let linked = link_sign_ins::read(&self.state_dir);
        for e in self.store.list().unwrap_or_default() {
            if !urls.contains(&e.id) && !linked.contains(&e.id) {
                urls.push(e.id);
            }
        }
        urls
    }

    /// Notes whether `server`'s sign-in was started by a link (`started_by_link`), so that
    /// [`Latchkey::servers_to_probe`] leaves it out until a tool uses it; a sign-in the
    /// person started in Latchkey clears the note.
    pub fn note_sign_in_origin(&self, server: &str, started_by_link: bool) -> Result<()> {
        link_sign_ins::set(&self.state_dir, server, started_by_link)
    }

    /// Probes one server and announces the result ([`Event::Health`]).
    pub async fn probe(&self, url: &str) -> ServerHealth {
        let h = probe::probe(&self.http(), self.store.as_ref(), url).await;
        self.emit(Event::Health(h.clone()));
        h
    }

    /// Probes `urls`, [`PROBE_CONCURRENCY`] at once, calling `on_result` and announcing each
    /// result as it comes (fast servers first); all results in the order they finished.
    pub async fn probe_all(
        &self,
        urls: Vec<String>,
        mut on_result: impl FnMut(&ServerHealth),
    ) -> Vec<ServerHealth> {
        probe::probe_all(
            urls,
            self.store.clone(),
            self.http(),
            PROBE_CONCURRENCY,
            |h| {
                on_result(h);
                self.emit(Event::Health(h.clone()));
            },
        )
        .await
    }

    /// Watches every AI tool's config files (and the folders they may appear in);
    /// `on_change` runs on the watcher's own thread after each settled batch of changes.
    /// Dropping the watcher stops it. Errors: the OS refused a watch (e.g. inotify limits).
    pub fn watch_configs(
        &self,
        on_change: impl FnMut(ChangeEvent) + Send + 'static,
    ) -> std::result::Result<ConfigWatcher, WatchError> {
        ConfigWatcher::start(self.locations.clone(), on_change)
    }

    /// Every stored session, or why one cannot be read.
    pub fn sessions(&self) -> Result<Vec<StoredSession>> {
        let mut out = Vec::new();
        for entry in self.store.list()? {
            match self.store.load(&entry.id) {
                Ok(Some(b)) => out.push(Ok(b)),
                Ok(None) => {}
                Err(e) => out.push(Err((entry.id, e))),
            }
        }
        Ok(out)
    }
}
