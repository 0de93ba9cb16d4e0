//! The use-case layer: what the command line, the window and the tray call. Each use case
//! puts the lower layers together once (sign in, renew, probe and status, why, hand off,
//! sign out, the bridge, the inventory), so recording flows, updating the kernel copy, how much of a
//! token's lifetime a caller needs, and the events happen in one place whichever front asked.
//!
//! The fronts import this module only (plus [`crate::Error`], [`crate::Secret`] and
//! [`crate::logging`]): the engine, its requests and answers, and the types they render,
//! re-exported below from the layers that define them.

pub mod bridge;
pub mod connect;
pub mod engine;
pub mod events;
pub mod hand_off;
pub mod links;
pub mod names;
pub mod reauth;
pub mod registrations;
pub mod renew;
pub mod scheduler;
pub mod sign_in;
pub mod sign_out;
pub mod status;
pub mod step_up;
pub mod tray_bus;
pub mod why;

#[cfg(test)]
mod device_sign_in_tests;
#[cfg(test)]
mod registration_tests;
#[cfg(test)]
mod tests;

pub use bridge::BridgeOptions;
pub use connect::{how_connected, Added, Change, EntryChange, Removed, ToolOutcome};
pub use engine::Latchkey;
pub use events::{Event, SessionEvent};
pub use hand_off::{ClaudeMode, Delivered, HandOffRequest, HandedOff, Summary, Withdrawn};
pub use links::LinkAction;
pub use reauth::SignInAgain;
pub use renew::sign_in_reason;
pub use sign_in::{
    choose_method, no_renewal_notice, BrowserMode, DeviceChoice, ScopeChoice, SignInEvent,
    SignInMethod, SignInOptions,
};
pub use sign_out::SignedOut;
pub use status::{LocalPicture, StoredSession};
pub use step_up::{Challenged, StepUp};
pub use why::{
    diagnosis_summary, diagnosis_text, diagnostics_file_name, Diagnosis, Status, Working,
};

// The types the fronts render, from the layers that define them.
pub use crate::health::dashboard::{Dashboard, Overall, Session};
pub use crate::health::overview::{
    offline_backoff, NetworkState, OverallState, Overview, PrimaryAction, ServerRow,
};
pub use crate::health::probe::{Health, ServerHealth};
pub use crate::health::reasons::{ErrorReport, Fix, Reason};
pub use crate::oauth::browser::{availability as browser_availability, Availability};
pub use crate::oauth::paste_back::{
    channel as paste_back_channel, PasteBack, PasteInbox, PasteOutcome, MAX_BAD_PASTES,
};
pub use crate::oauth::plan::{
    redirect_uri, ClientChoice, ClientConfig, ExtraParam, PkceS256, PlanSites, Severity,
    SignInPlan, TokenAuthMethod,
};
pub use crate::oauth::providers::{
    Preset, PresetField, Provider, ProviderInput, DEFAULT_CALLBACK_PORT,
};
pub use crate::oauth::register::RegistrationMethod;
pub use crate::oauth::renewal_timing::{Need, RenewalTiming};
pub use crate::protocol::discovery::{AsSource, Step};
pub use crate::protocol::mcp::{ServerInfo, ToolInfo};
pub use crate::store::issuer_notes::PkceChoice;
pub use crate::store::vault::{CredentialBundle, CredentialStore, MemoryStore};
pub use crate::tools::gemini_cli::EXPIRY_BUFFER_SECS as GEMINI_CLI_EXPIRY_BUFFER_SECS;
pub use crate::tools::inventory::Inventory;
pub use crate::tools::keychain::Stored;
pub use crate::tools::watch::{ChangeEvent, ConfigWatcher, WatchError};
pub use crate::tools::{
    AuthSettings, ConfigScope, Locations, OAuthSettings, Os, ServerEntry, Tool, Transport,
};

/// The catalogue's reason (plain words and the fix) for an error.
pub use crate::health::reasons::from_error as reason_of;
/// The session D-Bus a bare environment should use (Linux), for the fronts to set at start.
pub use crate::store::keychain_items::session_bus_from_env;
/// The stable id of a server: its canonical URL.
pub use crate::store::vault::server_id;
