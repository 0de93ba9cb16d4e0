//! Using a server with the stored token, and step-up: on 403 `insufficient_scope`, sign in
//! again with the union of scopes, a bounded number of times (ARCHITECTURE.md, Protocol rules: step-up).

use crate::error::{Error, Result};
use crate::oauth::plan::ClientConfig;
use crate::protocol::http::Http;
use crate::protocol::mcp::{McpSession, ServerInfo, ToolInfo};
use crate::protocol::urls;
use crate::store::vault::CredentialBundle;
use crate::usecase::engine::Latchkey;
use crate::usecase::renew::Validity;
use crate::usecase::sign_in::{LoginEvent, LoginOptions, ScopeChoice};

pub const MAX_STEP_UPS: u32 = 3;

/// `initialize` and `tools/list` with the stored token.
pub async fn check(http: &Http, bundle: &CredentialBundle) -> Result<(ServerInfo, Vec<ToolInfo>)> {
    let url = urls::parse_http_url(&bundle.server_url)?;
    let mut s = McpSession::new(http, url, bundle.tokens.access_token.clone());
    let info = s.initialize().await?;
    let tools = s.list_tools().await?;
    Ok((info, tools))
}

/// Scopes to ask for next: what was asked and granted before, plus what the server wants.
pub fn union_scopes(bundle: &CredentialBundle, wanted: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let all = bundle
        .requested_scopes
        .iter()
        .chain(bundle.tokens.scopes.iter())
        .cloned()
        .chain(
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

/// Calls a tool; when the server wants more scopes, `relogin` signs in with the union and the
/// call is tried again, at most [`MAX_STEP_UPS`] times.
pub async fn call_tool_with_step_up(
    http: &Http,
    mut bundle: CredentialBundle,
    tool: &str,
    arguments: serde_json::Value,
    mut relogin: impl AsyncFnMut(Vec<String>) -> Result<CredentialBundle>,
) -> Result<(serde_json::Value, u32)> {
    let url = urls::parse_http_url(&bundle.server_url)?;
    let mut step_ups = 0;
    loop {
        let mut s = McpSession::new(http, url.clone(), bundle.tokens.access_token.clone());
        let result = async {
            s.initialize().await?;
            s.call_tool(tool, arguments.clone()).await
        }
        .await;
        match result {
            Ok(v) => return Ok((v, step_ups)),
            Err(Error::TokenRejected {
                status: 403,
                error: Some(ref e),
                ref scope,
                ..
            }) if e == "insufficient_scope" => {
                let wanted = union_scopes(&bundle, scope.as_deref());
                if step_ups >= MAX_STEP_UPS {
                    return Err(Error::InsufficientScope {
                        attempts: step_ups,
                        scopes: wanted.join(" "),
                    });
                }
                step_ups += 1;
                bundle = relogin(wanted).await?;
            }
            Err(e) => return Err(e),
        }
    }
}
/// How a step-up signs in again: the app identity and options of the new sign-in, who is
/// told which scopes are asked for, and who hears its progress.
pub struct StepUp<'a> {
    pub client: &'a ClientConfig,
    pub options: &'a LoginOptions,
    pub asking: &'a (dyn Fn(&[String]) + Send + Sync),
    pub progress: &'a (dyn Fn(LoginEvent) + Send + Sync),
}

impl Latchkey {
    /// Connects to `server` with its stored token (renewed first if needed) and lists its
    /// tools: `initialize` and `tools/list`.
    pub async fn check(
        &self,
        server: &str,
    ) -> Result<(CredentialBundle, ServerInfo, Vec<ToolInfo>)> {
        let bundle = self.fresh(server, Validity::ForUse).await?;
        let (info, tools) = check(&self.http(), &bundle).await?;
        Ok((bundle, info, tools))
    }

    /// Calls `tool` on `server` with `arguments` (a JSON object). When the server answers 403
    /// `insufficient_scope`, `step_up.asking` is told the scopes and the person signs in again
    /// with the union of granted and challenged scopes, then the call is tried again: at most
    /// [`MAX_STEP_UPS`] times. Returns the result and how many step-ups it took.
    pub async fn call_tool(
        &self,
        server: &str,
        tool: &str,
        arguments: serde_json::Value,
        step_up: &StepUp<'_>,
    ) -> Result<(serde_json::Value, u32)> {
        let bundle = self.fresh(server, Validity::ForUse).await?;
        let url = bundle.server_url.clone();
        let http = self.http();
        call_tool_with_step_up(
            &http,
            bundle,
            tool,
            arguments,
            async |scopes: Vec<String>| {
                (step_up.asking)(&scopes);
                let plan = self
                    .plan_sign_in(
                        &url,
                        step_up.client,
                        &ScopeChoice {
                            exactly: scopes,
                            add: Vec::new(),
                        },
                    )
                    .await?;
                self.sign_in(&plan, step_up.options, step_up.progress).await
            },
        )
        .await
    }
}
