//! What the OS says of the network, on Linux from NetworkManager over the system D-Bus: its
//! `State` property at start and its `StateChanged(u)` signal after (core reads the number,
//! `NetworkState::of_network_manager`). Without NetworkManager (or a system bus) nothing is
//! said and the tray's probes decide, with a backoff while offline.

use latchkey_core::usecase::NetworkState;

const NM: &str = "org.freedesktop.NetworkManager";
const NM_PATH: &str = "/org/freedesktop/NetworkManager";

/// Watches NetworkManager on a thread of its own, calling `on_change` with the state at
/// start and at every change. Returns at once; logs once and stops when NetworkManager is
/// not there.
pub fn watch(on_change: impl Fn(NetworkState) + Send + 'static) {
    let spawned = std::thread::Builder::new()
        .name("network".into())
        .spawn(move || {
            if let Err(e) = follow(&on_change) {
                tracing::info!("the network's state is not known from the OS ({e}); probes decide");
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("could not watch the network: {e}");
    }
}

fn follow(on_change: &impl Fn(NetworkState)) -> zbus::Result<()> {
    let bus = zbus::blocking::Connection::system()?;
    let nm = zbus::blocking::Proxy::new(&bus, NM, NM_PATH, NM)?;
    // Subscribed before the first read, so no change falls between the two.
    let changes = nm.receive_signal("StateChanged")?;
    let state: u32 = nm.get_property("State")?;
    on_change(NetworkState::of_network_manager(state));
    for signal in changes {
        match signal.body().deserialize::<u32>() {
            Ok(state) => on_change(NetworkState::of_network_manager(state)),
            Err(e) => {
                tracing::warn!("NetworkManager sent a StateChanged the tray cannot read: {e}")
            }
        }
    }
    Ok(())
}
