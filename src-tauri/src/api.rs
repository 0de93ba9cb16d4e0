//! The types of the commands and events between the shell and the UI. The TypeScript side
//! is generated from these (see [`crate::bindings`]); no secret ever appears in them.

use latchkey_core::usecase::{
    PlanSites, Provider, Reason, Session, SignInMethod, SignInPlan, Step, TokenAuthMethod, Tool,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ts_rs::TS;

/// Event names, shared with the UI through `ui/src/lib/backend.ts`.
pub mod events {
    /// Payload [`latchkey_core::usecase::Dashboard`]: the inventory or the keychain changed.
    pub const DASHBOARD_CHANGED: &str = "dashboard-changed";
    /// Payload [`latchkey_core::usecase::ServerHealth`]: one server's probe finished.
    pub const HEALTH: &str = "health";
    /// Payload [`latchkey_core::usecase::SessionEvent`] (TypeScript `SessionEvent`).
    pub const SESSION_EVENT: &str = "session-event";
    /// Payload [`super::SignInProgress`].
    pub const SIGN_IN_PROGRESS: &str = "sign-in-progress";
    /// Payload [`super::OpenServer`]: a deep link, notification or tray item asks the window
    /// to show a server.
    pub const OPEN_SERVER: &str = "open-server";
}

/// Why a command failed: the core error's stable code, its message and what to do. Only
/// ever sent to the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AppError {
    pub code: String,
    pub message: String,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The failure in the catalogue's plain words (title, explanation, fix, technical
    /// detail), when the catalogue knows it: the UI says it first and keeps `message` as
    /// the detail.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Box<Reason>>,
}

/// A diagnostics file written for a server: where it is, and the very text it holds
/// (redacted by core: no token, code or secret), for the clipboard.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ExportedDiagnostics {
    pub path: String,
    /// The folder it is in (the Downloads folder, else Latchkey's own).
    pub folder: String,
    pub text: String,
    /// What the file holds, in a few lines (core's `diagnosis_summary`).
    pub summary: String,
    /// False for a preview: nothing is written until the person saves it.
    pub written: bool,
}

/// A secret typed into the wizard: sent once to the backend, kept there (and then in the
/// keychain); never sent back, and never printed (its `Debug` says only that there is one).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TypedSecret(pub String);

impl std::fmt::Debug for TypedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A client the person registered themselves, typed into the wizard's client step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ClientInput {
    #[ts(optional)]
    #[serde(default)]
    pub client_id: Option<String>,
    #[ts(optional)]
    #[serde(default)]
    pub client_secret: Option<TypedSecret>,
    #[ts(optional)]
    #[serde(default)]
    pub auth_method: Option<TokenAuthMethod>,
    #[ts(optional)]
    #[serde(default)]
    pub callback_port: Option<u16>,
}

/// An app the person registered at a provider with a preset (Entra, Okta...), typed into the
/// wizard's app step: the preset's values by key, and the app's client id, secret and port.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct ProviderClientInput {
    /// The provider's id (`entra`, `okta`...), as in [`Provider`].
    #[ts(as = "Provider")]
    pub provider: String,
    /// The preset's fields by key; an empty or missing one takes the field's default.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    #[ts(optional)]
    #[serde(default)]
    pub client_id: Option<String>,
    #[ts(optional)]
    #[serde(default)]
    pub client_secret: Option<TypedSecret>,
    /// Default: the presets' fixed port (see [`RedirectUri`]).
    #[ts(optional)]
    #[serde(default)]
    pub callback_port: Option<u16>,
}

/// The redirect URI a registered app needs, for a callback port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RedirectUri {
    /// The port asked for, or the presets' fixed default.
    pub port: u16,
    pub uri: String,
}

/// The plan the wizard shows and edits, with what discovery did to arrive at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct PlanView {
    pub plan: SignInPlan,
    /// What discovery found, step by step, in words.
    pub discovered: Vec<Step>,
    /// The hosts the sign-in involves, the audience, and whether they are of different sites.
    pub sites: PlanSites,
}

/// An edit of the plan's scopes; the backend revalidates the plan after each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScopeEdit {
    Add { name: String },
    Remove { name: String },
    Reset,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SignInStep {
    Discovering,
    Listening,
    ClientReady,
    /// Latchkey dropped its registration at the sign-in server and registers again (see
    /// `notice`).
    RegisteringAgain,
    /// The sign-in page is open in the browser (or must be opened: see `sign_in_url`).
    WaitingForBrowser,
    /// A code to enter on another device is shown (see `device`); Latchkey waits for the
    /// person to approve the sign-in there (RFC 8628).
    WaitingForDevice,
    Exchanging,
}

/// The code to enter on another device and where, with its QR code (RFC 8628 section 3.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DeviceCodeView {
    /// What the person types at the address.
    pub user_code: String,
    /// Where to enter it (checked by the engine: HTTPS, or loopback for a loopback server).
    pub verification_uri: String,
    /// The address with the code filled in, when the sign-in server gives one.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_uri_complete: Option<String>,
    /// How long the code lasts from when this progress was sent.
    pub expires_in_secs: u64,
    /// An SVG image of the QR code of `verification_uri_complete`, else `verification_uri`.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_svg: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SignInProgress {
    pub url: String,
    pub step: SignInStep,
    /// The sign-in page, for a "open it yourself" link when the browser did not open.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_url: Option<String>,
    /// False when the browser could not be opened.
    pub browser_opened: bool,
    /// Why Latchkey registers again at the sign-in server, in words (step
    /// `registering_again`); the sign-in page may open once more.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    /// While waiting with a registration made earlier: what to do if the sign-in page says
    /// the app is unknown, in words; the window offers "Register again" with it.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register_again: Option<String>,
    /// Step `waiting_for_device`: the code, the address and its QR code.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceCodeView>,
    /// How the answer comes back (core's `SignInEvent::Method`), once known; kept on the
    /// events after it.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<SignInMethod>,
    /// How the answer comes back, in a few words, and why (a sentence), for the wizard to
    /// show while waiting.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_words: Option<String>,
    /// Why the sign-in goes this way, in words.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_why: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SignInResult {
    pub url: String,
    pub session: Session,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct HandoffResult {
    /// What was written, in plain words (e.g. "Claude Code now asks Latchkey for its token").
    pub message: String,
    /// The file or keychain entry written.
    pub target: String,
    /// Where the previous content was kept, when there was any.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<String>,
}

/// One tool in a server's "Use in…" list: installed for this user, and whether the server
/// is connected to it through Latchkey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ToolChoice {
    pub tool: Tool,
    /// The tool's name as people know it.
    pub tool_name: String,
    /// The server is connected to it (its entry as Latchkey left it).
    pub connected: bool,
    /// How the tool gets the token once connected, in words.
    pub how: String,
}

/// What connecting or disconnecting did for one tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConnectResult {
    pub tool: Tool,
    /// False when nothing was written for it: `message` says why and what to do.
    pub ok: bool,
    /// In plain words: which entries of which file, or the error and its fix.
    pub message: String,
    /// The copy of the file before the edit, when one was written.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ServerView {
    SignIn,
    Why,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct OpenServer {
    pub url: String,
    pub view: ServerView,
    /// The scopes a sign-in starts from (a server asked for more); empty: the plan's
    /// recommendation.
    pub scopes: Vec<String>,
    /// A link from outside Latchkey (any web page) asked for this sign-in: the wizard says
    /// so and asks again before the browser opens (core's `usecase::links`).
    pub started_by_link: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Settings {
    pub start_at_login: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_client_secret_never_reaches_a_log() {
        let input = ClientInput {
            client_id: Some("my-app".into()),
            client_secret: Some(TypedSecret("hunter2-very-secret".into())),
            auth_method: None,
            callback_port: Some(8765),
        };
        let preset = ProviderClientInput {
            provider: "google".into(),
            values: BTreeMap::new(),
            client_id: Some("my-app".into()),
            client_secret: Some(TypedSecret("hunter2-very-secret".into())),
            callback_port: None,
        };
        let shown = format!("{input:?} {input:#?} {preset:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.contains("[redacted]") && shown.contains("my-app"),
            "{shown}"
        );
    }
}
