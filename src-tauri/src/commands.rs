//! The commands the UI calls. Each one is a thin call into latchkey-core; the types are in
//! [`crate::api`] and exported to TypeScript.

use crate::api::{
    events, AppError, ClientInput, ConnectResult, DeviceCodeView, ExportedDiagnostics,
    HandoffResult, PlanView, ProviderClientInput, RedirectUri, ScopeEdit, Settings, SignInProgress,
    SignInResult, SignInStep, ToolChoice, TypedSecret,
};
use crate::state::{AppState, KeptPlan};
use latchkey_core::usecase::{
    self, BrowserMode, ClientConfig, Dashboard, DeviceChoice, Diagnosis, HandOffRequest,
    NetworkState, Overview, PasteOutcome, Preset, Provider, ProviderInput, ScopeChoice,
    ServerHealth, Session, SignInEvent, SignInMethod, SignInOptions, SignInPlan, Tool,
};
use latchkey_core::{Error, Secret};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

type Result<T> = std::result::Result<T, AppError>;

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        // Some core hints name CLI commands: where the catalogue knows the failure, the app
        // offers its fix instead.
        let reason = usecase::reason_of(&e);
        let hint = if reason.id == "other" {
            e.hint()
        } else {
            format!("{} {}", reason.explanation, reason.fix.words())
        };
        AppError {
            code: e.code().to_string(),
            message: e.to_string(),
            hint: Some(hint),
            reason: (reason.id != "other").then(|| Box::new(reason)),
        }
    }
}

fn canonical(url: &str) -> Result<String> {
    Ok(usecase::server_id(url)?)
}

/// The dashboard as the config files and the keychain have it now.
pub fn current_dashboard(state: &AppState) -> Result<Dashboard> {
    Ok(dashboard_now(state)?)
}

/// [`current_dashboard`] with core's error, for the tray's words.
pub fn dashboard_now(state: &AppState) -> latchkey_core::Result<Dashboard> {
    state.engine.dashboard()
}

#[tauri::command]
pub async fn dashboard(state: State<'_, AppState>) -> Result<Dashboard> {
    // The UI reads the dashboard again when something may have changed.
    state.forget_picture();
    current_dashboard(&state)
}

/// The overview (core's overall state, its action, and every server in urgency order) of
/// `health`, the last probe of each server as the UI holds it. The config files and the
/// keychain are read once per dashboard change (`AppState::local_picture`), not on every
/// burst of health events.
#[tauri::command]
pub async fn overview(state: State<'_, AppState>, health: Vec<ServerHealth>) -> Result<Overview> {
    Ok(state
        .local_picture()
        .overview(&health, NetworkState::Unknown))
}

/// The last health of every server (`ServerHealth` as JSON): the tray's, or this window's own
/// probes' when it monitors alone.
#[tauri::command]
pub async fn last_health(state: State<'_, AppState>) -> Result<Vec<serde_json::Value>> {
    Ok(state.last_health())
}

/// Probes every server in this window, emitting each result as it comes (when it monitors
/// alone).
pub async fn probe_everything<R: Runtime>(app: &AppHandle<R>) -> Result<Vec<ServerHealth>> {
    let state = app.state::<AppState>();
    let urls = state.engine.servers_to_probe();
    let results = state
        .engine
        .probe_all(urls, |h| {
            state.set_health(h);
            let _ = app.emit(events::HEALTH, h);
        })
        .await;
    Ok(results)
}

/// Probes one server in this window and tells the UI (when it monitors alone).
pub async fn probe_one<R: Runtime>(app: &AppHandle<R>, url: &str) -> ServerHealth {
    let state = app.state::<AppState>();
    let h = state.engine.probe(url).await;
    state.set_health(&h);
    let _ = app.emit(events::HEALTH, &h);
    h
}

pub fn announce_dashboard<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    state.forget_picture();
    if let Ok(d) = current_dashboard(&state) {
        let _ = app.emit(events::DASHBOARD_CHANGED, &d);
    }
}

/// Probes every server now (the UI's "check again", and its first look): the tray does when
/// it runs (the UI hears each result as it comes, through the tray's signals), else this
/// window. Results as `ServerHealth` JSON.
#[tauri::command]
pub async fn probe_all<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<Vec<serde_json::Value>> {
    if let Some(tray) = state.monitor().await {
        let asked = tauri::async_runtime::spawn_blocking(move || tray.probe_all()).await;
        match asked {
            Ok(Ok(results)) => {
                for h in &results {
                    state.set_health_json(h.clone());
                }
                return Ok(results);
            }
            Ok(Err(e)) => tracing::warn!("{e}; this window probes instead"),
            Err(e) => {
                tracing::warn!("asking the tray to probe failed ({e}); this window probes instead")
            }
        }
    }
    let results = probe_everything(&app).await?;
    Ok(results
        .iter()
        .filter_map(|h| serde_json::to_value(h).ok())
        .collect())
}

/// This window changed what is stored for `id` (a sign-in, a sign-out, a hand-off): the
/// dashboard is read again, and whoever monitors looks again. The tray is told (its scheduler
/// looks again and it probes every server, which the UI hears); alone, this window probes
/// `id` when `probe` says so.
pub async fn changed_here<R: Runtime>(app: &AppHandle<R>, id: &str, probe: bool) {
    let state = app.state::<AppState>();
    announce_dashboard(app);
    match state.monitor().await {
        Some(tray) => tray.changed(),
        None => {
            // A tray started after this window would not be followed, but may listen.
            crate::launch::tell_tray_changed();
            if probe {
                probe_one(app, id).await;
            }
        }
    }
}

fn client_config(input: &ClientInput) -> ClientConfig {
    ClientConfig {
        client_id: input
            .client_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        client_secret: secret(input.client_secret.as_ref()),
        auth_method: input.auth_method,
        callback_port: input.callback_port,
        client_metadata_url: None,
    }
}

fn view(plan: &SignInPlan) -> PlanView {
    PlanView {
        plan: plan.clone(),
        discovered: plan.discovery.steps.clone(),
        sites: plan.sites(),
    }
}

fn secret(typed: Option<&TypedSecret>) -> Option<Secret> {
    typed
        .filter(|s| !s.0.is_empty())
        .map(|s| Secret::new(s.0.clone()))
}

/// The scopes the person chose in the wizard, asked for exactly (none: the recommended ones).
fn scope_choice(scopes: Option<Vec<String>>) -> ScopeChoice {
    ScopeChoice {
        exactly: scopes.unwrap_or_default(),
        add: Vec::new(),
    }
}

/// Keeps `plan` (with the secret typed for it) for the wizard's next steps; what it shows.
fn keep(state: &AppState, id: &str, plan: SignInPlan, client_secret: Option<Secret>) -> PlanView {
    let shown = view(&plan);
    state.keep_plan(
        id,
        KeptPlan {
            plan,
            client_secret,
        },
    );
    shown
}

/// Discovery and the plan for a server, kept for the wizard's next steps: with the app the
/// person registered (`client`, else automatic) and the scopes they chose (else the
/// recommended ones).
#[tauri::command]
pub async fn plan_sign_in(
    state: State<'_, AppState>,
    url: String,
    client: Option<ClientInput>,
    scopes: Option<Vec<String>>,
) -> Result<PlanView> {
    let id = canonical(&url)?;
    let config = client_config(&client.unwrap_or_default());
    let plan = state
        .engine
        .plan_sign_in(&url, &config, &scope_choice(scopes))
        .await?;
    Ok(keep(&state, &id, plan, config.client_secret))
}

/// The presets for apps registered at a known provider (Entra, Okta, Auth0, Keycloak, Google).
#[tauri::command]
pub async fn provider_presets() -> Result<Vec<Preset>> {
    Ok(Provider::ALL.into_iter().map(Provider::preset).collect())
}

/// The redirect URI to register for `port` (none: the presets' fixed port).
#[tauri::command]
pub async fn redirect_uri(port: Option<u16>) -> Result<RedirectUri> {
    let port = port.unwrap_or(usecase::DEFAULT_CALLBACK_PORT);
    Ok(RedirectUri {
        port,
        uri: usecase::redirect_uri(port),
    })
}

fn provider_input(input: ProviderClientInput) -> Result<ProviderInput> {
    let provider =
        Provider::parse(&input.provider).ok_or_else(|| latchkey_core::Error::UnknownProvider {
            name: input.provider.clone(),
            known: Provider::ALL.map(Provider::id).join(", "),
        })?;
    Ok(ProviderInput {
        provider,
        values: input.values,
        client_id: input.client_id,
        client_secret: secret(input.client_secret.as_ref()),
        callback_port: input.callback_port,
    })
}

/// [`plan_sign_in`] with an app registered at a provider with a preset: the plan must sign in
/// at the issuer its values make (else the error names both).
#[tauri::command]
pub async fn plan_sign_in_with_provider(
    state: State<'_, AppState>,
    url: String,
    client: ProviderClientInput,
    scopes: Option<Vec<String>>,
) -> Result<PlanView> {
    let id = canonical(&url)?;
    let input = provider_input(client)?;
    let plan = state
        .engine
        .plan_sign_in_with_provider(&url, &input, &scope_choice(scopes))
        .await?;
    Ok(keep(&state, &id, plan, input.client_secret))
}

/// The person confirms that PKCE with S256 may be assumed at the kept plan's sign-in server
/// (its metadata does not say): remembered for that sign-in server, and the plan may sign in.
#[tauri::command]
pub async fn confirm_pkce(state: State<'_, AppState>, url: String) -> Result<PlanView> {
    let id = canonical(&url)?;
    state
        .with_plan(&id, |kept| -> Result<PlanView> {
            state.engine.confirm_pkce_s256(&mut kept.plan)?;
            Ok(view(&kept.plan))
        })
        .ok_or_else(|| no_plan(&url))?
}

/// Forgets the choice to assume PKCE with S256 at `issuer`: its next plan asks again. False
/// when there was no such choice.
#[tauri::command]
pub async fn forget_pkce(state: State<'_, AppState>, issuer: String) -> Result<bool> {
    Ok(state.engine.forget_pkce_s256(&issuer)?)
}

fn no_plan(url: &str) -> AppError {
    AppError {
        code: "no_plan".into(),
        message: format!("There is no sign-in being prepared for {url}."),
        hint: Some("Start again from the server's Sign in button.".into()),
        reason: None,
    }
}

#[tauri::command]
pub async fn edit_scopes(
    state: State<'_, AppState>,
    url: String,
    edit: ScopeEdit,
) -> Result<PlanView> {
    let id = canonical(&url)?;
    state
        .with_plan(&id, |kept| -> Result<PlanView> {
            match edit {
                ScopeEdit::Add { name } => kept.plan.add_scope(name.trim())?,
                ScopeEdit::Remove { name } => {
                    kept.plan.remove_scope(&name);
                }
                ScopeEdit::Reset => kept.plan.reset_scopes(),
            }
            Ok(view(&kept.plan))
        })
        .ok_or_else(|| no_plan(&url))?
}

/// The progress to show for `e`; `method` keeps how the answer comes back (and why) from the
/// event that said it for the events after it.
fn progress(
    url: &str,
    e: &SignInEvent,
    method: &Mutex<Option<(SignInMethod, String)>>,
) -> SignInProgress {
    let mut p = SignInProgress {
        url: url.to_string(),
        step: SignInStep::Listening,
        sign_in_url: None,
        browser_opened: true,
        notice: None,
        register_again: None,
        device: None,
        method: None,
        method_words: None,
        method_why: None,
    };
    let mut kept = method.lock().unwrap_or_else(|p| p.into_inner());
    match e {
        SignInEvent::Listening { .. } => {}
        SignInEvent::ClientReady { .. } => p.step = SignInStep::ClientReady,
        SignInEvent::RegisteringAgain { message, .. } => {
            p.step = SignInStep::RegisteringAgain;
            p.notice = Some(message.clone());
        }
        SignInEvent::SignInPage {
            url,
            opened,
            register_again,
        } => {
            p.step = SignInStep::WaitingForBrowser;
            p.sign_in_url = Some(url.clone());
            p.browser_opened = *opened;
            p.register_again = register_again.clone();
        }
        SignInEvent::Method {
            method,
            why,
            ssh_forward,
        } => {
            // Said just before the sign-in page: the client is ready, the page comes next.
            p.step = SignInStep::ClientReady;
            let why = match ssh_forward {
                // The command is not last: the window ends the sentence with a period.
                Some(command) => {
                    format!("{why}. On the computer with the browser, run {command} first")
                }
                None => why.clone(),
            };
            *kept = Some((*method, why));
        }
        SignInEvent::Exchanging => p.step = SignInStep::Exchanging,
        SignInEvent::DeviceCode {
            user_code,
            verification_uri,
            verification_uri_complete,
            expires_in_secs,
        } => {
            p.step = SignInStep::WaitingForDevice;
            p.browser_opened = false;
            p.device = Some(DeviceCodeView {
                user_code: user_code.clone(),
                verification_uri: verification_uri.clone(),
                verification_uri_complete: verification_uri_complete.clone(),
                expires_in_secs: *expires_in_secs,
                qr_svg: latchkey_core::qr::svg(
                    verification_uri_complete
                        .as_deref()
                        .unwrap_or(verification_uri),
                ),
            });
        }
    }
    if let Some((m, why)) = kept.as_ref() {
        p.method = Some(*m);
        p.method_words = Some(m.words().to_string());
        p.method_why = Some(why.clone());
    }
    p
}

/// Runs a sign-in with a plan and records its flow; the result is the stored session. With
/// `register_again`, Latchkey's registration at the sign-in server is dropped first and made
/// anew.
pub async fn run_sign_in<R: Runtime>(
    app: &AppHandle<R>,
    id: &str,
    kept: KeptPlan,
    register_again: bool,
    device: DeviceChoice,
) -> Result<SignInResult> {
    let state = app.state::<AppState>();
    // The wizard's "Paste the address your browser ended on" feeds this sign-in.
    let (paste, inbox) = latchkey_core::usecase::paste_back_channel();
    let options = SignInOptions {
        client_secret: kept.client_secret.clone(),
        name: None,
        browser: BrowserMode::Open,
        timeout: Duration::from_secs(300),
        register_again,
        device,
        paste_back: Some(inbox),
    };
    state.set_paste(id, paste);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let engine = state.engine.clone();
    let emitter = app.clone();
    let url = id.to_string();
    let task = tauri::async_runtime::spawn(async move {
        let events = {
            let app = emitter.clone();
            let url = url.clone();
            let method = Mutex::new(None);
            move |e: SignInEvent| {
                let _ = app.emit(events::SIGN_IN_PROGRESS, progress(&url, &e, &method));
            }
        };
        let result = engine.sign_in(&kept.plan, &options, &events).await;
        let _ = tx.send(result);
    });
    state.start_sign_in(id, task);
    let outcome = rx.await;
    state.finish_sign_in(id);
    let bundle = match outcome {
        Ok(r) => r?,
        Err(_) => {
            return Err(AppError {
                code: "cancelled".into(),
                message: "The sign-in was cancelled.".into(),
                hint: Some("Start it again when you are ready.".into()),
                reason: None,
            })
        }
    };
    changed_here(app, id, true).await;
    Ok(SignInResult {
        url: id.to_string(),
        session: Session::of(&bundle),
    })
}

/// Signs in with the kept plan. `register_again` (the waiting step's "Register again", when
/// the sign-in page says the app is unknown): drop Latchkey's registration at the sign-in
/// server first and register anew. `device` (the app step's "Sign in on another device",
/// shown when the sign-in server offers it): a code to enter on another device instead of
/// the browser (RFC 8628).
#[tauri::command]
pub async fn sign_in<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    url: String,
    register_again: Option<bool>,
    device: Option<bool>,
) -> Result<SignInResult> {
    let id = canonical(&url)?;
    let kept = state
        .with_plan(&id, |k| KeptPlan {
            plan: k.plan.clone(),
            client_secret: k.client_secret.clone(),
        })
        .ok_or_else(|| no_plan(&url))?;
    let _ = app.emit(
        events::SIGN_IN_PROGRESS,
        SignInProgress {
            url: id.clone(),
            step: SignInStep::Discovering,
            sign_in_url: None,
            browser_opened: true,
            notice: None,
            register_again: None,
            device: None,
            method: None,
            method_words: None,
            method_why: None,
        },
    );
    let device = if device.unwrap_or(false) {
        DeviceChoice::Always
    } else {
        DeviceChoice::Auto
    };
    let result = run_sign_in(&app, &id, kept, register_again.unwrap_or(false), device).await;
    if result.is_ok() {
        // A server a link had signed in stays out of the tray's probes until a tool uses it.
        if let Err(e) = state
            .engine
            .note_sign_in_origin(&id, state.link_started(&id))
        {
            tracing::warn!("could not note how {id} was signed in: {e}");
        }
        state.take_plan(&id);
    }
    result
}

/// The address the browser ended on, pasted into the wizard (the browser is on another
/// computer, or its answer did not reach Latchkey): checked by core as the listener checks
/// an answer, and, when it is the answer, the waiting sign-in goes on with it. The address
/// holds the sign-in code: it is neither logged nor sent back.
#[tauri::command]
pub async fn paste_sign_in_answer(
    state: State<'_, AppState>,
    url: String,
    address: TypedSecret,
) -> Result<PasteOutcome> {
    let id = canonical(&url)?;
    let Some(paste) = state.paste(&id) else {
        return Ok(PasteOutcome::NotWaiting);
    };
    Ok(paste.submit(Secret::new(address.0)).await)
}

#[tauri::command]
pub async fn cancel_sign_in(state: State<'_, AppState>, url: String) -> Result<()> {
    let id = canonical(&url)?;
    state.cancel_sign_in(&id);
    Ok(())
}

#[tauri::command]
pub async fn sign_out<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    url: String,
) -> Result<Option<String>> {
    let id = canonical(&url)?;
    // Revocation is best effort inside the use case; forgetting the session is what counts.
    let out = state.engine.sign_out(&id).await?;
    state.forget_health(&id);
    changed_here(&app, &id, true).await;
    // What was taken back from the tools, and which keep a copy until it expires.
    Ok(out.and_then(|o| o.tools_note()))
}

#[tauri::command]
pub async fn hand_off<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    url: String,
    tool: Tool,
) -> Result<HandoffResult> {
    let id = canonical(&url)?;
    let done = state
        .engine
        .hand_off(&id, &HandOffRequest::to(tool))
        .await?
        .summary;
    // The hand-off may have renewed the session (a tool's minimum validity).
    changed_here(&app, &id, false).await;
    Ok(HandoffResult {
        message: done.message,
        target: done.target,
        backup: done.backup,
    })
}

/// The installed tools, for a server's "Use in…": a checkbox each, ticked where it is
/// connected.
#[tauri::command]
pub async fn use_in(state: State<'_, AppState>, url: String) -> Result<Vec<ToolChoice>> {
    let id = canonical(&url)?;
    let connected = state.engine.connected_tools(&id)?;
    Ok(state
        .engine
        .installed_tools()
        .into_iter()
        .map(|tool| ToolChoice {
            tool,
            tool_name: tool.display_name().to_string(),
            connected: connected.contains(&tool),
            how: usecase::how_connected(tool).to_string(),
        })
        .collect())
}

fn connect_results(outcomes: Vec<usecase::ToolOutcome>, connecting: bool) -> Vec<ConnectResult> {
    outcomes
        .into_iter()
        .map(|o| match o.result {
            Ok(entries) => {
                let names: Vec<String> = entries
                    .iter()
                    .map(|e| format!("{} ({})", e.entry, e.file.display()))
                    .collect();
                let message = match (connecting, names.is_empty()) {
                    (true, _) => format!("{} {}: {}.", o.tool, o.how, names.join(", ")),
                    (false, true) => format!("{} was not connected through Latchkey.", o.tool),
                    (false, false) => {
                        format!("{} is back as it was: {}.", o.tool, names.join(", "))
                    }
                };
                ConnectResult {
                    tool: o.tool,
                    ok: true,
                    message,
                    backup: entries
                        .iter()
                        .find_map(|e| e.backup.as_ref().map(|b| b.display().to_string())),
                }
            }
            Err(e) => {
                let err = AppError::from(e);
                ConnectResult {
                    tool: o.tool,
                    ok: false,
                    message: format!(
                        "{}: {} {}",
                        o.tool,
                        err.message,
                        err.hint.unwrap_or_default()
                    ),
                    backup: None,
                }
            }
        })
        .collect()
}

/// Connects the server to `tools` ("Use in…" ticked).
#[tauri::command]
pub async fn connect_tools<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    url: String,
    tools: Vec<Tool>,
) -> Result<Vec<ConnectResult>> {
    let id = canonical(&url)?;
    let done = connect_results(state.engine.connect(&id, &tools, None)?, true);
    // The tools' files changed: the dashboard's "used by" with them.
    announce_dashboard(&app);
    Ok(done)
}

/// Puts back the entries of `tools` ("Use in…" unticked).
#[tauri::command]
pub async fn disconnect_tools<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    url: String,
    tools: Vec<Tool>,
) -> Result<Vec<ConnectResult>> {
    let id = canonical(&url)?;
    let done = connect_results(state.engine.disconnect(&id, &tools)?, false);
    announce_dashboard(&app);
    Ok(done)
}

/// The server the window should show, when the tray, a notification or a link asked for one
/// before the window was ready.
#[tauri::command]
pub async fn take_pending_open(
    state: State<'_, AppState>,
) -> Result<Option<crate::api::OpenServer>> {
    Ok(state.take_pending_open())
}

#[tauri::command]
pub async fn why(state: State<'_, AppState>, url: String) -> Result<Diagnosis> {
    Ok(state.engine.why(&url).await)
}

/// Where diagnostics files go: the Downloads folder, else Latchkey's own state folder.
fn diagnostics_dir<R: Runtime>(app: &AppHandle<R>, state: &AppState) -> PathBuf {
    app.path()
        .download_dir()
        .ok()
        .filter(|d| d.is_dir())
        .unwrap_or_else(|| state.engine.diagnostics_dir())
}

/// Diagnostics in two steps, so the person sees what will be written first: without `save`,
/// examines `url` again and returns a preview (where it would go, a summary and the text,
/// redacted by core) without writing anything; with `save`, writes the diagnosis previewed
/// into the Downloads folder (else Latchkey's own).
#[tauri::command]
pub async fn export_diagnostics<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    url: String,
    save: Option<bool>,
) -> Result<ExportedDiagnostics> {
    let dir = diagnostics_dir(&app, &state);
    let (d, written) = if save.unwrap_or(false) {
        let d = match state.take_previewed(&url) {
            Some(d) => d,
            None => state.engine.why(&url).await,
        };
        let file = state.engine.export_diagnosis_into(&d, &dir)?;
        (d, Some(file))
    } else {
        let d = state.engine.why(&url).await;
        state.keep_previewed(&url, d.clone());
        (d, None)
    };
    let file = written
        .clone()
        .unwrap_or_else(|| dir.join(usecase::diagnostics_file_name(&d)));
    Ok(ExportedDiagnostics {
        path: file.display().to_string(),
        folder: file
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        text: usecase::diagnosis_text(&d),
        summary: usecase::diagnosis_summary(&d),
        written: written.is_some(),
    })
}

/// The folder of a diagnostics file Latchkey wrote, or why it is not one: only such files
/// are shown, so the window cannot open anything else.
fn diagnostics_folder(path: &std::path::Path) -> Result<PathBuf> {
    let named = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("latchkey-diagnostics-") && n.ends_with(".json"));
    match path.parent() {
        Some(folder) if named && path.is_file() => Ok(folder.to_path_buf()),
        _ => Err(AppError {
            code: "not_diagnostics".into(),
            message: format!(
                "{} is not a diagnostics file Latchkey wrote.",
                path.display()
            ),
            hint: Some("Export the diagnostics again.".into()),
            reason: None,
        }),
    }
}

/// Opens the folder holding a diagnostics file ("Show in folder") in the file manager.
#[tauri::command]
pub async fn show_in_folder(path: String) -> Result<()> {
    let folder = diagnostics_folder(std::path::Path::new(&path))?;
    open::that_detached(&folder).map_err(|e| AppError {
        code: "open_folder".into(),
        message: format!("Latchkey could not open {}: {e}", folder.display()),
        hint: Some("Open that folder in your file manager yourself.".into()),
        reason: None,
    })
}

fn autostart_error(e: impl std::fmt::Display) -> AppError {
    AppError {
        code: "autostart".into(),
        message: format!("Latchkey could not change whether it starts when you log in: {e}"),
        hint: Some(
            "Check that your home folder's .config/autostart folder can be written, then try again."
                .into(),
        ),
        reason: None,
    }
}

fn start_at_login<R: Runtime>(app: &AppHandle<R>) -> Result<bool> {
    use tauri_plugin_autostart::ManagerExt;
    app.try_state::<tauri_plugin_autostart::AutoLaunchManager>()
        .ok_or_else(|| autostart_error("the start-at-login service is not running"))?;
    app.autolaunch().is_enabled().map_err(autostart_error)
}

#[tauri::command]
pub async fn get_settings<R: Runtime>(app: AppHandle<R>) -> Result<Settings> {
    Ok(Settings {
        start_at_login: start_at_login(&app)?,
    })
}

#[tauri::command]
pub async fn set_start_at_login<R: Runtime>(app: AppHandle<R>, enabled: bool) -> Result<Settings> {
    use tauri_plugin_autostart::ManagerExt;
    start_at_login(&app)?;
    let manager = app.autolaunch();
    if enabled {
        manager.enable().map_err(autostart_error)?;
    } else {
        manager.disable().map_err(autostart_error)?;
    }
    Ok(Settings {
        start_at_login: start_at_login(&app)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_reach_the_ui_with_their_code_and_what_to_do() {
        let e: AppError = Error::NotSignedIn {
            server: "https://example.com/mcp".into(),
        }
        .into();
        assert_eq!(e.code, "not_signed_in");
        assert!(e.hint.unwrap().contains("ign in"));
    }

    #[test]
    fn a_failure_the_catalogue_knows_carries_its_plain_words() {
        let e: AppError = Error::Unreachable {
            url: "https://mcp.example.com/mcp".into(),
            detail: "the connection failed (Connection refused (os error 111))".into(),
        }
        .into();
        let reason = e.reason.expect("a reason");
        assert_eq!(reason.id, "unreachable");
        assert_eq!(reason.title, "Cannot reach the server");
        assert!(e.message.contains("Connection refused"));
        let json = serde_json::to_value(AppError {
            reason: None,
            ..no_plan("u")
        })
        .unwrap();
        assert!(json.get("reason").is_none(), "{json}");
    }

    #[test]
    fn only_diagnostics_files_are_shown_in_their_folder() {
        let dir = std::env::temp_dir().join(format!("latchkey-show-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("latchkey-diagnostics-mcp.example.com-1.json");
        std::fs::write(&file, "{}").unwrap();
        assert_eq!(diagnostics_folder(&file).unwrap(), dir);
        let other = dir.join("notes.txt");
        std::fs::write(&other, "x").unwrap();
        assert_eq!(
            diagnostics_folder(&other).unwrap_err().code,
            "not_diagnostics"
        );
        let missing = dir.join("latchkey-diagnostics-gone-2.json");
        assert!(diagnostics_folder(&missing).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_typed_client_becomes_the_plan_s_client_and_blank_fields_mean_automatic() {
        let c = client_config(&ClientInput {
            client_id: Some("  my-app ".into()),
            client_secret: Some(TypedSecret(String::new())),
            auth_method: None,
            callback_port: Some(8765),
        });
        assert_eq!(c.client_id.as_deref(), Some("my-app"));
        assert!(c.client_secret.is_none());
        assert_eq!(c.callback_port, Some(8765));
        let auto = client_config(&ClientInput::default());
        assert!(auto.client_id.is_none());
    }
}
