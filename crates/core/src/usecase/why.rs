//! One server, examined end to end: is it working, and if not, why, with every request that
//! showed it (redacted).

use crate::error::Error;
use crate::health::reasons::{self, Reason};
use crate::oauth::renewal_timing::Need;
use crate::protocol::discovery;
use crate::protocol::http::Http;
use crate::protocol::mcp::{ServerInfo, ToolInfo};
use crate::protocol::trace::{Exchange, Recorder};
use crate::store::atomic_file;
use crate::store::vault::CredentialStore;
use crate::usecase::engine::Latchkey;
use crate::usecase::renew::{self, Due, RefreshOptions};
use crate::usecase::step_up;
use serde::Serialize;
use std::path::{Path, PathBuf};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Working,
    NeverSignedIn,
    NeedsSignIn,
    Unreachable,
    Misconfigured,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Working {
    pub server_name: String,
    pub tools: usize,
    pub expires_at: Option<u64>,
    pub renewable: bool,
}

/// Everything `latchkey doctor` shows, and what its diagnostics file holds.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Diagnosis {
    pub latchkey_version: &'static str,
    pub server: String,
    pub checked_at: u64,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub working: Option<Working>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reason: Option<Reason>,
    pub trace: Vec<Exchange>,
    /// The last sign-in or renewal of this server, as recorded then.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub last_flow: Option<crate::store::flow_record::Flow>,
}

fn status_of(r: &Reason) -> Status {
    match r.id.as_ref() {
        // Needing a registered client is a step of signing in, not a broken server.
        "no_credentials" | "no_client" | "sign_in_for_tools" => Status::NeverSignedIn,
        "unreachable" | "name_not_resolved" | "no_route" | "timeout" | "server_not_found"
        | "server_error" => Status::Unreachable,
        "keychain_unavailable"
        | "keychain_item_too_large"
        | "metadata_invalid"
        | "resource_mismatch"
        | "prm_invalid"
        | "issuer_mismatch"
        | "as_metadata_missing"
        | "pkce_unsupported"
        | "insecure_endpoint"
        | "http_error" => Status::Misconfigured,
        _ => Status::NeedsSignIn,
    }
}

async fn diagnose(
    store: &dyn CredentialStore,
    server: &str,
    resolved: crate::Result<String>,
    options: &RefreshOptions,
    http: Http,
    state_dir: &Path,
) -> Diagnosis {
    let recorder = Recorder::default();
    let http = http.with_recorder(recorder.clone());
    let outcome = match &resolved {
        Ok(id) => examine(store, id, options, &http).await,
        Err(e) => Err(reasons::from_error(e)),
    };
    let (status, working, reason) = match outcome {
        Ok(w) => (Status::Working, Some(w), None),
        Err(reason) => (status_of(&reason), None, Some(reason)),
    };
    let last_flow = resolved
        .ok()
        .and_then(|id| crate::store::flow_record::load(state_dir, &id));
    Diagnosis {
        last_flow,
        latchkey_version: env!("CARGO_PKG_VERSION"),
        server: server.to_string(),
        checked_at: options.clock.now(),
        status,
        working,
        reason,
        trace: recorder.exchanges(),
    }
}

async fn examine(
    store: &dyn CredentialStore,
    id: &str,
    options: &RefreshOptions,
    http: &Http,
) -> Result<Working, Reason> {
    let id = id.to_string();
    let bundle = store.load(&id).map_err(|e| reasons::from_error(&e))?;
    let Some(bundle) = bundle else {
        // Not signed in: is the server reachable and ready for a sign-in?
        return Err(match discovery::discover(http, &id).await {
            Ok(d) => {
                let plan =
                    crate::oauth::plan::make_plan(d, &crate::oauth::plan::ClientConfig::default());
                if plan.client == crate::oauth::plan::ClientChoice::Missing {
                    reasons::from_error(&Error::NoClientRegistration {
                        issuer: plan.issuer.clone(),
                        redirect_uri: "http://127.0.0.1:<port>/callback".into(),
                        scopes: plan.scope_names(),
                    })
                } else if (200..300).contains(&plan.discovery.probe_status) {
                    reasons::sign_in_for_tools(&id)
                } else {
                    reasons::from_error(&Error::NotSignedIn { server: id })
                }
            }
            Err(e) => reasons::from_error(&e),
        });
    };
    if let Some(n) = &bundle.needs_sign_in {
        // Signing in only helps if the servers are there: a failure to reach them says more.
        if let Err(e) = discovery::discover(http, &bundle.server_url).await {
            let r = reasons::from_error(&e);
            if status_of(&r) != Status::NeedsSignIn {
                return Err(r);
            }
        }
        return Err(reasons::from_needs_sign_in(n));
    }
    let fresh = renew::fresh_bundle(store, &id, options, || http.clone()).await;
    let bundle = match fresh {
        Ok(b) => b,
        Err(Error::NeedsSignIn { .. }) => {
            let n = store.load(&id).ok().flatten().and_then(|b| b.needs_sign_in);
            return Err(match n {
                Some(n) => reasons::from_needs_sign_in(&n),
                None => reasons::from_error(&Error::NotSignedIn { server: id }),
            });
        }
        Err(e) => return Err(reasons::from_error(&e)),
    };
    let (info, tools): (ServerInfo, Vec<ToolInfo>) = step_up::check(http, &bundle)
        .await
        .map_err(|e| reasons::from_error(&e))?;
    Ok(Working {
        server_name: info.name,
        tools: tools.len(),
        expires_at: bundle.tokens.expires_at,
        renewable: bundle.tokens.refresh_token.is_some(),
    })
}
/// What a diagnostics file holds: `diagnosis` as pretty JSON. It is redacted as it was
/// recorded (no token, code or secret is ever in it), so the same text may go to the
/// clipboard.
pub fn diagnosis_text(diagnosis: &Diagnosis) -> String {
    serde_json::to_string_pretty(diagnosis).unwrap_or_default()
}

/// The name [`Latchkey::export_diagnosis_into`] gives a diagnosis's file:
/// `latchkey-diagnostics-<host>-<seconds>.json`.
pub fn diagnostics_file_name(diagnosis: &Diagnosis) -> String {
    let host = url::Url::parse(&diagnosis.server)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "server".into())
        .replace(
            |c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '-',
            "_",
        );
    format!("latchkey-diagnostics-{host}-{}.json", diagnosis.checked_at)
}

/// What a diagnostics file will hold, in a few lines, shown before it is written (the
/// window's preview, `latchkey doctor --export`): the server, its status and reason, each
/// request of the trace (method, address, status), whether the last sign-in is included,
/// and the size. Tokens, codes and secrets are never in the file; metadata that failed
/// validation is in it as its status, content type and length only.
pub fn diagnosis_summary(diagnosis: &Diagnosis) -> String {
    let mut lines = vec![format!("Server: {}", diagnosis.server)];
    if let Some(r) = &diagnosis.reason {
        lines.push(format!("Reason: {}", r.title));
    }
    lines.push(format!(
        "{} request{} with their answers (tokens, codes and secrets replaced by [redacted]):",
        diagnosis.trace.len(),
        if diagnosis.trace.len() == 1 { "" } else { "s" }
    ));
    for e in &diagnosis.trace {
        lines.push(format!(
            "  {} {} → {}",
            e.method,
            e.url,
            e.status
                .map(|s| format!("HTTP {s}"))
                .or_else(|| e.error.clone())
                .unwrap_or_default()
        ));
    }
    if diagnosis.last_flow.is_some() {
        lines.push("The last sign-in or renewal, as recorded then (redacted).".into());
    }
    lines.push(format!(
        "{} bytes of JSON.",
        diagnosis_text(diagnosis).len()
    ));
    lines.join("\n")
}

impl Latchkey {
    /// Why `server` (a URL or a name) works or not: examined end to end now (discovery,
    /// renewal, `initialize` and `tools/list`), with every request redacted, the reason and
    /// its fix in plain words, and the last recorded sign-in or renewal. Never fails: what
    /// went wrong is the answer.
    pub async fn why(&self, server: &str) -> Diagnosis {
        diagnose(
            self.store.as_ref(),
            server,
            self.resolve_server(server),
            &self.refresh_options(Due::When(Need::ForUse)),
            self.http(),
            &self.state_dir,
        )
        .await
    }

    /// Writes `diagnosis` (redacted: no token, code or secret is ever in it) as pretty JSON
    /// to `file`, atomically (private to the user when new; a file that was there keeps its
    /// permissions and a backup).
    pub fn export_diagnosis(&self, diagnosis: &Diagnosis, file: &Path) -> crate::Result<()> {
        atomic_file::Snapshot::read(file)?.replace(diagnosis_text(diagnosis).as_bytes())?;
        Ok(())
    }

    /// Writes `diagnosis` into `dir` under a name that says which server and when
    /// (`latchkey-diagnostics-<host>-<seconds>.json`); the file's path.
    pub fn export_diagnosis_into(
        &self,
        diagnosis: &Diagnosis,
        dir: &Path,
    ) -> crate::Result<PathBuf> {
        let file = dir.join(diagnostics_file_name(diagnosis));
        self.export_diagnosis(diagnosis, &file)?;
        Ok(file)
    }

    /// Where diagnostics go when the person's Downloads folder is not known: Latchkey's own
    /// state folder.
    pub fn diagnostics_dir(&self) -> PathBuf {
        self.state_dir.join("diagnostics")
    }
}
