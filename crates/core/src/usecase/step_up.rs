//! Using a server with the stored token, and step-up: when the server refuses a request with
//! 401 (a token is needed, or this one is no longer accepted) or 403 `insufficient_scope`,
//! sign in again with the union of the scopes granted and asked before and the challenged
//! ones, reading the protected resource metadata the challenge named first, then try the
//! request again; a bounded number of times and never with the same set of scopes twice
//! (ARCHITECTURE.md, Protocol rules: step-up; MCP authorization, "Scope Challenge Handling").

use crate::error::{Error, Result};
use crate::oauth::plan::ClientConfig;
use crate::oauth::renewal_timing::Need;
use crate::protocol::http::Http;
use crate::protocol::mcp::{McpSession, ServerInfo, ToolInfo};
use crate::protocol::urls;
use crate::store::vault::CredentialBundle;
use crate::usecase::engine::Latchkey;
use crate::usecase::sign_in::{ScopeChoice, SignInEvent, SignInOptions};
use std::collections::BTreeSet;
use url::Url;

/// At most this many sign-ins for one request.
pub const MAX_STEP_UPS: u32 = 3;

/// `initialize` and `tools/list` with the stored token.
pub async fn check(http: &Http, bundle: &CredentialBundle) -> Result<(ServerInfo, Vec<ToolInfo>)> {
    let url = urls::parse_http_url(&bundle.server_url)?;
    let mut s = McpSession::new(http, url, Some(bundle.tokens.access_token.clone()));
    list(&mut s).await
}

async fn list(s: &mut McpSession<'_>) -> Result<(ServerInfo, Vec<ToolInfo>)> {
    let info = s.initialize().await?;
    let tools = s.list_tools().await?;
    Ok((info, tools))
}

/// Scopes to ask for next: what was asked and granted before (none when not signed in), plus
/// what the server wants (`wanted`, space-separated as in a challenge), each once, in order.
pub fn union_scopes(bundle: Option<&CredentialBundle>, wanted: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let before = bundle
        .into_iter()
        .flat_map(|b| b.requested_scopes.iter().chain(b.tokens.scopes.iter()))
        .cloned();
    let all = before.chain(
        wanted
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string),
    );
    for s in all {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// What a server asked for when it refused a request, and so what the next sign-in asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenged {
    /// 401: a token is needed, or the one sent is no longer accepted; 403: more scopes.
    pub status: u16,
    /// The scopes to ask for: see [`union_scopes`]. Empty: the plan's recommendation.
    pub scopes: Vec<String>,
    /// The `resource_metadata` the challenge named (possibly a per-tool document), read
    /// before the well-known addresses.
    pub resource_metadata: Option<String>,
}

/// The step-up `e` calls for, when it is a 401 or a 403 `insufficient_scope`.
pub(crate) fn challenged(e: &Error, bundle: Option<&CredentialBundle>) -> Option<Challenged> {
    let Error::TokenRejected {
        status,
        error,
        scope,
        resource_metadata,
        ..
    } = e
    else {
        return None;
    };
    let wants =
        *status == 401 || (*status == 403 && error.as_deref() == Some("insufficient_scope"));
    wants.then(|| Challenged {
        status: *status,
        scopes: union_scopes(bundle, scope.as_deref()),
        resource_metadata: resource_metadata.clone(),
    })
}

/// Runs `action` in a new MCP session with `url`, with the token of `bundle` (none when not
/// signed in). When the server refuses the token with a 401 (revoked, or its clock is ahead
/// of the authorization server's), `renew` renews it once first (`None`: it cannot be
/// renewed) and `action` runs again. When the server refuses with a 401 still, or with a 403
/// `insufficient_scope`, `relogin` signs in for what it asked ([`Challenged`]) and `action`
/// runs again in a new session with the new token: at most [`MAX_STEP_UPS`] times, never
/// asking for the same set of scopes twice.
///
/// Returns what `action` returned, the bundle it last used, and how many sign-ins it took.
/// Errors: `action`'s other errors, `relogin`'s, [`Error::InsufficientScope`] when a 403
/// persists, and the last [`Error::TokenRejected`] when a 401 does.
pub async fn with_step_up<T>(
    http: &Http,
    url: &Url,
    mut bundle: Option<CredentialBundle>,
    mut action: impl AsyncFnMut(&mut McpSession<'_>) -> Result<T>,
    mut renew: impl AsyncFnMut(&CredentialBundle) -> Result<Option<CredentialBundle>>,
    mut relogin: impl AsyncFnMut(&Challenged) -> Result<CredentialBundle>,
) -> Result<(T, Option<CredentialBundle>, u32)> {
    let mut steps = StepUps::default();
    let mut renewed = false;
    loop {
        let token = bundle.as_ref().map(|b| b.tokens.access_token.clone());
        let mut session = McpSession::new(http, url.clone(), token);
        let e = match action(&mut session).await {
            Ok(v) => return Ok((v, bundle, steps.taken())),
            Err(e) => e,
        };
        let Some(wanted) = challenged(&e, bundle.as_ref()) else {
            return Err(e);
        };
        if wanted.status == 401 && !renewed {
            if let Some(b) = &bundle {
                renewed = true;
                if let Some(fresh) = renew(b).await? {
                    bundle = Some(fresh);
                    continue;
                }
            }
        }
        steps.take(&wanted, e)?;
        bundle = Some(relogin(&wanted).await?);
    }
}

/// The step-ups one request has taken: at most [`MAX_STEP_UPS`], never the same set of
/// scopes twice (MCP authorization, "Scope Challenge Handling": a client must not loop).
#[derive(Debug, Default)]
pub(crate) struct StepUps {
    asked: Vec<BTreeSet<String>>,
}

impl StepUps {
    /// How many sign-ins were taken.
    pub(crate) fn taken(&self) -> u32 {
        self.asked.len() as u32
    }

    /// Takes the step-up `wanted` asks for, or says what to answer instead:
    /// [`Error::InsufficientScope`] when a 403 persists, else `refused` as it is.
    pub(crate) fn take(&mut self, wanted: &Challenged, refused: Error) -> Result<()> {
        let set: BTreeSet<String> = wanted.scopes.iter().cloned().collect();
        if self.taken() >= MAX_STEP_UPS || self.asked.contains(&set) {
            return Err(match wanted.status {
                403 => Error::InsufficientScope {
                    attempts: self.taken(),
                    scopes: wanted.scopes.join(" "),
                },
                _ => refused,
            });
        }
        self.asked.push(set);
        Ok(())
    }
}

/// How a step-up signs in again: the app identity and options of the new sign-in, who is
/// told what the server asked for, and who hears its progress.
pub struct StepUp<'a> {
    pub client: &'a ClientConfig,
    pub options: &'a SignInOptions,
    pub asking: &'a (dyn Fn(&Challenged) + Send + Sync),
    pub progress: &'a (dyn Fn(SignInEvent) + Send + Sync),
}

impl Latchkey {
    /// Connects to `server` with its stored token (renewed first if needed) and lists its
    /// tools: `initialize` and `tools/list`. When the server refuses the token (401) or
    /// wants more scopes (403 `insufficient_scope`), signs in again as [`Latchkey::call_tool`]
    /// does. Returns the bundle used last.
    ///
    /// Errors: [`Error::NotSignedIn`] when nothing is stored, and those of
    /// [`with_step_up`].
    pub async fn check(
        &self,
        server: &str,
        step_up: &StepUp<'_>,
    ) -> Result<(CredentialBundle, ServerInfo, Vec<ToolInfo>)> {
        let bundle = self.fresh(server, Need::ForUse).await?;
        let url = bundle.server_url.clone();
        let ((info, tools), bundle, _) = self
            .use_with_step_up(
                &url,
                Some(bundle),
                step_up,
                async |s: &mut McpSession<'_>| list(s).await,
            )
            .await?;
        let bundle = bundle.ok_or_else(|| Error::NotSignedIn {
            server: server.to_string(),
        })?;
        Ok((bundle, info, tools))
    }

    /// Calls `tool` on `server` with `arguments` (a JSON object), with the stored token, or
    /// without one when `server` is a URL not signed in yet (a server may ask for a token
    /// only when a tool is used). When the server answers 401, or 403 `insufficient_scope`,
    /// `step_up.asking` is told what it asked for and the person signs in with the union of
    /// granted and challenged scopes, then the call is tried again: at most
    /// [`MAX_STEP_UPS`] times. Returns the result and how many sign-ins it took.
    pub async fn call_tool(
        &self,
        server: &str,
        tool: &str,
        arguments: serde_json::Value,
        step_up: &StepUp<'_>,
    ) -> Result<(serde_json::Value, u32)> {
        let (url, bundle) = match self.fresh(server, Need::ForUse).await {
            Ok(b) => (b.server_url.clone(), Some(b)),
            Err(e @ Error::NotSignedIn { .. }) => match urls::parse_http_url(server) {
                Ok(_) => (server.trim().to_string(), None),
                Err(_) => return Err(e),
            },
            Err(e) => return Err(e),
        };
        let (result, _, step_ups) = self
            .use_with_step_up(&url, bundle, step_up, async |s: &mut McpSession<'_>| {
                s.initialize().await?;
                s.call_tool(tool, arguments.clone()).await
            })
            .await?;
        Ok((result, step_ups))
    }

    /// [`with_step_up`] with the server at `server_url` and a sign-in through this engine:
    /// discovery reads the challenge's metadata first, the scopes are exactly the ones asked
    /// for.
    async fn use_with_step_up<T>(
        &self,
        server_url: &str,
        bundle: Option<CredentialBundle>,
        step_up: &StepUp<'_>,
        action: impl AsyncFnMut(&mut McpSession<'_>) -> Result<T>,
    ) -> Result<(T, Option<CredentialBundle>, u32)> {
        let http = self.http();
        let url = urls::parse_http_url(server_url)?;
        let renew = async |b: &CredentialBundle| match self
            .renew_refused(&b.server_id, &b.tokens.access_token)
            .await
        {
            Ok(fresh) => Ok(Some(fresh)),
            Err(Error::NeedsSignIn { .. }) => Ok(None),
            Err(e) => Err(e),
        };
        with_step_up(
            &http,
            &url,
            bundle,
            action,
            renew,
            async |wanted: &Challenged| self.sign_in_for(server_url, wanted, step_up).await,
        )
        .await
    }

    /// Signs `server_url` in for what it asked when it refused a request (`wanted`): tells
    /// `step_up.asking`, reads the challenge's `resource_metadata` first, asks for exactly
    /// the scopes wanted (none: the plan's recommendation), and signs in through the browser.
    /// Errors: those of discovery and of [`Latchkey::sign_in`].
    pub(crate) async fn sign_in_for(
        &self,
        server_url: &str,
        wanted: &Challenged,
        step_up: &StepUp<'_>,
    ) -> Result<CredentialBundle> {
        (step_up.asking)(wanted);
        let hints: Vec<String> = wanted.resource_metadata.iter().cloned().collect();
        let plan = self
            .plan_sign_in_with_hints(
                server_url,
                step_up.client,
                &ScopeChoice {
                    exactly: wanted.scopes.clone(),
                    add: Vec::new(),
                },
                &hints,
            )
            .await?;
        self.sign_in(&plan, step_up.options, step_up.progress).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::canned::{Canned, Expect};
    use crate::store::vault::tests::sample;
    use serde_json::json;

    const SERVER: &str = "https://mcp.example.com/mcp";

    fn initialize_ok() -> [Expect; 2] {
        [
            Expect::post(SERVER).respond_json(
                200,
                &json!({"jsonrpc": "2.0", "id": 1, "result": {"protocolVersion": "2025-11-25",
                        "capabilities": {}, "serverInfo": {"name": "s", "version": "1"}}}),
            ),
            Expect::post(SERVER).respond(202),
        ]
    }

    fn refused(status: u16, challenge: &str) -> Expect {
        Expect::post(SERVER)
            .respond(status)
            .respond_header("www-authenticate", challenge)
    }

    fn called() -> Expect {
        Expect::post(SERVER)
            .with_header("authorization", "Bearer at-new")
            .respond_json(
                200,
                &json!({"jsonrpc": "2.0", "id": 2, "result": {"content": []}}),
            )
    }

    /// A server that refuses the call each time with a 403 and `challenges`, in order.
    fn refusing(challenges: impl IntoIterator<Item = String>) -> std::sync::Arc<Canned> {
        let mut exchanges = Vec::new();
        for c in challenges {
            exchanges.extend(initialize_ok());
            exchanges.push(refused(403, &c));
        }
        Canned::new(exchanges)
    }

    async fn call(
        canned: &std::sync::Arc<Canned>,
        bundle: Option<CredentialBundle>,
        asked: &std::sync::Mutex<Vec<Challenged>>,
    ) -> Result<(serde_json::Value, Option<CredentialBundle>, u32)> {
        call_renewing(canned, bundle, asked, None).await
    }

    /// [`call`], where a refused token renews to `renewed` (None: it cannot be renewed).
    async fn call_renewing(
        canned: &std::sync::Arc<Canned>,
        bundle: Option<CredentialBundle>,
        asked: &std::sync::Mutex<Vec<Challenged>>,
        renewed: Option<&str>,
    ) -> Result<(serde_json::Value, Option<CredentialBundle>, u32)> {
        let http = canned.http();
        with_step_up(
            &http,
            &Url::parse(SERVER).unwrap(),
            bundle,
            async |s: &mut McpSession<'_>| {
                s.initialize().await?;
                s.call_tool("t", json!({})).await
            },
            async |b: &CredentialBundle| {
                Ok(renewed.map(|t| {
                    let mut b = b.clone();
                    b.tokens.access_token = crate::secret::Secret::new(t.to_string());
                    b
                }))
            },
            async |c: &Challenged| {
                asked.lock().unwrap().push(c.clone());
                let mut b = sample(SERVER);
                b.tokens.access_token = crate::secret::Secret::new(String::from("at-new"));
                b.requested_scopes = c.scopes.clone();
                b.tokens.scopes = c.scopes.clone();
                Ok(b)
            },
        )
        .await
    }

    #[tokio::test]
    async fn a_401_on_tools_call_without_a_session_signs_in_with_the_named_metadata() {
        let rm = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp/tools/t";
        let [init, ack] = initialize_ok();
        let [init2, ack2] = initialize_ok();
        let canned = Canned::new([
            init,
            ack,
            refused(
                401,
                &format!(r#"Bearer resource_metadata="{rm}", scope="files.read""#),
            ),
            init2,
            ack2,
            called(),
        ]);
        let asked = std::sync::Mutex::new(Vec::new());
        let (_, bundle, step_ups) = call(&canned, None, &asked).await.unwrap();
        canned.assert_done();
        assert_eq!(step_ups, 1);
        assert!(bundle.is_some());
        assert_eq!(
            asked.lock().unwrap()[0],
            Challenged {
                status: 401,
                scopes: vec!["files.read".into()],
                resource_metadata: Some(rm.into()),
            }
        );
        // The first session went without a token.
        assert!(canned.sent()[..3]
            .iter()
            .all(|s| s.header("authorization").is_none()));
    }

    #[tokio::test]
    async fn a_401_on_a_stored_token_renews_it_once_before_any_sign_in() {
        let [init, ack] = initialize_ok();
        let [init2, ack2] = initialize_ok();
        let canned = Canned::new([
            init,
            ack,
            refused(401, r#"Bearer error="invalid_token""#),
            init2,
            ack2,
            called(),
        ]);
        let asked = std::sync::Mutex::new(Vec::new());
        let (_, bundle, step_ups) =
            call_renewing(&canned, Some(sample(SERVER)), &asked, Some("at-new"))
                .await
                .unwrap();
        canned.assert_done();
        assert_eq!(step_ups, 0, "renewed, not signed in again");
        assert!(asked.lock().unwrap().is_empty());
        assert_eq!(bundle.unwrap().tokens.access_token.expose(), "at-new");

        // Refused again after the renewal: then the person signs in.
        let [i1, a1] = initialize_ok();
        let [i2, a2] = initialize_ok();
        let [i3, a3] = initialize_ok();
        let canned = Canned::new([
            i1,
            a1,
            refused(401, r#"Bearer error="invalid_token""#),
            i2,
            a2,
            refused(401, r#"Bearer error="invalid_token""#),
            i3,
            a3,
            called(),
        ]);
        let asked = std::sync::Mutex::new(Vec::new());
        let (_, _, step_ups) =
            call_renewing(&canned, Some(sample(SERVER)), &asked, Some("at-renewed"))
                .await
                .unwrap();
        canned.assert_done();
        assert_eq!(step_ups, 1);
        assert_eq!(asked.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn the_same_scopes_are_never_asked_for_twice() {
        let insufficient = r#"Bearer error="insufficient_scope", scope="mcp admin""#;
        let canned = refusing([insufficient.to_string(), insufficient.to_string()]);
        let asked = std::sync::Mutex::new(Vec::new());
        let err = call(&canned, Some(sample(SERVER)), &asked)
            .await
            .unwrap_err();
        canned.assert_done();
        match err {
            Error::InsufficientScope { attempts, scopes } => {
                assert_eq!((attempts, scopes.as_str()), (1, "mcp admin"));
            }
            other => panic!("expected insufficient_scope, got {other:?}"),
        }
        assert_eq!(asked.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn step_ups_are_bounded_and_other_refusals_are_not_step_ups() {
        let canned = refusing(
            (0..=MAX_STEP_UPS)
                .map(|i| format!(r#"Bearer error="insufficient_scope", scope="s{i}""#)),
        );
        let asked = std::sync::Mutex::new(Vec::new());
        let err = call(&canned, Some(sample(SERVER)), &asked)
            .await
            .unwrap_err();
        canned.assert_done();
        assert!(
            matches!(
                err,
                Error::InsufficientScope {
                    attempts: MAX_STEP_UPS,
                    ..
                }
            ),
            "{err:?}"
        );
        // Each sign-in asks for the union so far.
        assert_eq!(asked.lock().unwrap()[2].scopes, ["mcp", "s0", "s1", "s2"]);

        // A 403 that is not about scopes is the answer, not a reason to sign in.
        let canned = refusing([r#"Bearer error="forbidden""#.to_string()]);
        let asked = std::sync::Mutex::new(Vec::new());
        let err = call(&canned, Some(sample(SERVER)), &asked)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::TokenRejected { status: 403, .. }),
            "{err:?}"
        );
        assert!(asked.lock().unwrap().is_empty());
    }
}
