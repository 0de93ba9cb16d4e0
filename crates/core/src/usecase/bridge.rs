//! The bridge (`latchkey bridge SERVER`): a local stdio MCP server that forwards every
//! JSON-RPC message between an AI tool and a remote MCP server, with a fresh token from
//! Latchkey's store on every request (ARCHITECTURE.md, "Bridge"; MCP specification
//! 2025-11-25, "Transports" and "Authorization").
//!
//! - The tool's side is the stdio transport: one JSON-RPC message per line in, one per line
//!   out, nothing else on the output. The server's side is [`Relay`]: Streamable HTTP, or
//!   HTTP+SSE where the server only has that.
//! - Each request carries the token [`Latchkey::access_token`] gives for [`Need::ForUse`]
//!   (the kernel copy on the hot path; renewed under the cross-process lock when due).
//! - 401: the token is renewed once ([`Latchkey::renew_refused`]) and the message sent
//!   again; a 401 that persists, or a server not signed in, and a 403 `insufficient_scope`
//!   start a sign-in for what the server asked (the step-up rules of
//!   [`crate::usecase::step_up`]: union of scopes, at most [`step_up::MAX_STEP_UPS`], never the same
//!   set twice), one at a time whatever the number of messages waiting, then the message is
//!   sent again. A request that cannot be delivered is answered with a JSON-RPC error in
//!   plain words: the reason and its fix from the catalogue ([`reason_of`]).
//! - `initialize` and `notifications/initialized` are forwarded before the next line is read
//!   (the session id comes with the first answer); every other message runs on its own, so a
//!   long tool call does not hold back a cancellation.
//! - After `notifications/initialized`, the server's own stream (GET) is listened to, and
//!   resumed with `Last-Event-ID`; when the tool's input ends, the session is ended (DELETE).

use crate::error::{Error, Result};
use crate::health::reasons::from_error as reason_of;
use crate::oauth::plan::ClientConfig;
use crate::oauth::renewal_timing::Need;
use crate::protocol::http::read_prefix;
use crate::protocol::relay::{self, Ended, Message, Mode, Relay, MAX_RESUMPTIONS};
use crate::protocol::urls;
use crate::secret::Secret;
use crate::store::vault::{self, CredentialBundle};
use crate::usecase::engine::Latchkey;
use crate::usecase::sign_in::{SignInEvent, SignInOptions};
use crate::usecase::step_up::{self, Challenged, StepUp, StepUps};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// The JSON-RPC error code of a request the bridge could not deliver or get answered (in
/// the range JSON-RPC leaves to implementations, -32000 to -32099).
pub const NOT_DELIVERED: i64 = -32050;

/// How long requests still under way may finish after the tool closed its input.
pub const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Asks the tray to sign a server (its canonical URL) in again in one click
/// (`tray_bus::method::SIGN_IN`); true when the tray took the request.
pub type TraySignIn = Arc<dyn Fn(&str, &[String]) -> bool + Send + Sync>;

/// How a bridge signs in when the server asks for it: the app identity and the sign-in's
/// options (browser, callback timeout), and the tray's one-click sign-in where one runs.
#[derive(Default)]
pub struct BridgeOptions {
    pub client: ClientConfig,
    pub sign_in: SignInOptions,
    /// Tried first for a 401 (the same sign-in as last time); a wider scope (403) always
    /// goes to the browser, where the person approves it.
    pub tray: Option<TraySignIn>,
}

/// Why a token was not sent: the server is not signed in, or its session can no longer be
/// renewed (the words say which).
type NoToken = Option<String>;

struct Bridge {
    engine: Arc<Latchkey>,
    /// The server's canonical URL (its id in the store).
    server: String,
    relay: Relay,
    options: BridgeOptions,
    out: mpsc::UnboundedSender<String>,
    /// One sign-in at a time, whatever the number of messages waiting for it.
    signing_in: tokio::sync::Mutex<()>,
}

impl Bridge {
    fn emit(&self, line: String) {
        // The writer ends only after every sender is gone: a send cannot fail before.
        let _ = self.out.send(line);
    }

    /// The stored bundle, for the scopes granted and asked before.
    fn bundle(&self) -> Option<CredentialBundle> {
        self.engine.store.load(&self.server).ok().flatten()
    }

    /// The token to send: none when not signed in or when the session needs a new sign-in
    /// (with the words why).
    async fn token(&self) -> Result<(Option<Secret>, NoToken)> {
        match self.engine.access_token(&self.server, Need::ForUse).await {
            Ok(t) => Ok((Some(t), None)),
            Err(e @ (Error::NotSignedIn { .. } | Error::NeedsSignIn { .. })) => {
                Ok((None, Some(e.to_string())))
            }
            Err(e) => Err(e),
        }
    }

    /// Sends what `send` makes with the current token, and handles a refusal: renews once on
    /// a 401; then, when `interactive`, signs in for what the server asked and sends again.
    /// Returns the first answer that is not a refusal. Errors: the network's and the
    /// keychain's, the refusal when it persists (or may not be acted on), and the sign-in's,
    /// with why a sign-in was needed.
    async fn send_authorized<F, Fut>(&self, interactive: bool, send: F) -> Result<reqwest::Response>
    where
        F: Fn(Option<Secret>) -> Fut,
        Fut: Future<Output = Result<reqwest::Response>>,
    {
        let mut renewed = false;
        let mut steps = StepUps::default();
        let mut cause: NoToken = None;
        loop {
            let (token, no_token) = self.token().await?;
            cause = no_token.or(cause);
            let resp = send(token.clone()).await?;
            let status = resp.status().as_u16();
            if status != 401 && status != 403 {
                return Ok(resp);
            }
            let refused = relay::refusal(&resp);
            let bundle = self.bundle();
            let Some(wanted) = step_up::challenged(&refused, bundle.as_ref()) else {
                return Err(refused);
            };
            if wanted.status == 401 && !renewed {
                if let Some(t) = &token {
                    renewed = true;
                    match self.engine.renew_refused(&self.server, t).await {
                        Ok(_) => continue,
                        Err(e @ Error::NeedsSignIn { .. }) => cause = Some(e.to_string()),
                        Err(e) => return Err(e),
                    }
                }
            }
            if !interactive {
                return Err(refused);
            }
            steps.take(&wanted, refused)?;
            if let Err(e) = self.sign_in(&wanted, token.as_ref()).await {
                return Err(match cause {
                    Some(why) => Error::NeedsSignIn {
                        server: self.server.clone(),
                        reason: format!("{why}; the new sign-in did not finish: {e}"),
                    },
                    None => e,
                });
            }
        }
    }

    /// Signs in for `wanted`, unless another message's sign-in replaced the `refused` token
    /// while this one waited its turn.
    async fn sign_in(&self, wanted: &Challenged, refused: Option<&Secret>) -> Result<()> {
        let _one = self.signing_in.lock().await;
        if let Ok((Some(now), _)) = self.token().await {
            if Some(&now) != refused {
                return Ok(());
            }
        }
        if let Some(tray) = &self.options.tray {
            // A 401: the last sign-in again, in one click. A 403: the wider scopes, reviewed.
            let scopes: &[String] = if wanted.status == 401 {
                &[]
            } else {
                &wanted.scopes
            };
            if tray(&self.server, scopes) {
                tracing::info!("{} needs a sign-in: the tray signs it in", self.server);
                return self.signed_in_elsewhere(refused).await;
            }
        }
        tracing::info!(
            "{} asks for a sign-in (HTTP {}, scopes: {}); opening it in the browser",
            self.server,
            wanted.status,
            if wanted.scopes.is_empty() {
                "the recommended ones".to_string()
            } else {
                wanted.scopes.join(" ")
            }
        );
        let step_up = StepUp {
            client: &self.options.client,
            options: &self.options.sign_in,
            asking: &|_| {},
            progress: &|e| {
                match e {
                SignInEvent::SignInPage {
                    url, opened: false, ..
                } => tracing::warn!("to sign in to {}, open {url}", self.server),
                SignInEvent::SignInPage { .. } => {
                    tracing::info!("the sign-in page is open in the browser")
                }
                // The person must see these: the bridge's stderr is where it talks.
                SignInEvent::DeviceCode {
                    user_code,
                    verification_uri,
                    ..
                } => tracing::warn!(
                    "to sign in to {}, open {verification_uri} on another device and enter the code {user_code}",
                    self.server
                ),
                other => tracing::debug!("sign-in: {other:?}"),
            }
            },
        };
        self.engine
            .sign_in_for(self.relay.url().as_str(), wanted, &step_up)
            .await?;
        tracing::info!("signed in to {}", self.server);
        Ok(())
    }

    /// Waits until the store holds a token other than `refused` (a sign-in elsewhere, the
    /// tray's), looking every 250 ms, for as long as a sign-in in the browser would wait.
    /// Errors: [`Error::CallbackTimeout`] when none came.
    async fn signed_in_elsewhere(&self, refused: Option<&Secret>) -> Result<()> {
        let deadline = tokio::time::Instant::now() + self.options.sign_in.timeout;
        loop {
            if let (Some(now), _) = self.token().await? {
                if Some(&now) != refused {
                    return Ok(());
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::CallbackTimeout {
                    seconds: self.options.sign_in.timeout.as_secs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Forwards one message; a request that fails is answered with the reason in words.
    async fn forward(self: Arc<Self>, line: String, msg: Message) {
        if let Err(e) = self.deliver(&line, &msg).await {
            match (&msg.id, msg.is_request()) {
                (Some(id), true) => {
                    let (message, data) = words(&self.server, &e);
                    tracing::warn!("{message}");
                    self.emit(relay::error_answer(id, NOT_DELIVERED, &message, data));
                }
                _ => tracing::warn!("a message to {} was not delivered: {e}", self.server),
            }
        }
    }

    async fn deliver(self: &Arc<Self>, line: &str, msg: &Message) -> Result<()> {
        let relay = &self.relay;
        let post = |t: Option<Secret>| async move { relay.post(line, msg, t.as_ref()).await };
        let mut resp = self.send_authorized(true, post).await?;
        let status = resp.status().as_u16();
        if msg.is_initialize()
            && relay.mode() == Mode::Streamable
            && matches!(status, 400 | 404 | 405)
            && self.open_legacy().await
        {
            resp = self.send_authorized(true, post).await?;
        }
        let answering = msg.id.as_ref().filter(|_| msg.is_request());
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            let out = |l: String| self.emit(l);
            let mut ended = relay.read(resp, answering, &out).await?;
            let mut resumed = 0;
            while let Some(after) = ended.resume_after(answering).map(str::to_string) {
                if resumed >= MAX_RESUMPTIONS {
                    break;
                }
                resumed += 1;
                let get = |t: Option<Secret>| {
                    let after = after.clone();
                    async move { relay.get_stream(t.as_ref(), Some(&after)).await }
                };
                let r = self.send_authorized(false, get).await?;
                if !r.status().is_success() {
                    break;
                }
                ended = relay.read(r, answering, &out).await?;
            }
            if answering.is_some() && !ended.answered && relay.mode() == Mode::Streamable {
                return Err(Error::Mcp {
                    detail: format!(
                        "{} ended its answer before sending it, and it could not be resumed",
                        self.server
                    ),
                });
            }
            return Ok(());
        }
        if status == 404 && !msg.is_initialize() && relay.session_id().is_some() {
            return Err(Error::Mcp {
                detail: format!(
                    "{} ended the MCP session (it no longer knows its id): reconnect the server in your AI tool to start a new one",
                    self.server
                ),
            });
        }
        let url = resp.url().to_string();
        // Only the start is quoted: read no more than that of an error answer.
        let body = String::from_utf8_lossy(&read_prefix(resp, 4096).await).into_owned();
        Err(Error::HttpStatus {
            url,
            status,
            doing: "forwarding a message to the MCP server".into(),
            body: Some(body.chars().take(300).collect()),
        })
    }

    /// Tries the HTTP+SSE transport after a Streamable HTTP `initialize` was refused: a GET
    /// whose event stream names an endpoint. On success the stream is read from then on.
    async fn open_legacy(self: &Arc<Self>) -> bool {
        let relay = &self.relay;
        let get = |t: Option<Secret>| async move { relay.get_stream(t.as_ref(), None).await };
        let Ok(resp) = self.send_authorized(true, get).await else {
            return false;
        };
        if !resp.status().is_success() {
            return false;
        }
        match relay.open_legacy(resp).await {
            Ok((reader, resp, pending)) => {
                tracing::info!("{} speaks HTTP+SSE (2024-11-05)", self.server);
                let me = self.clone();
                tokio::task::spawn_local(async move {
                    let out = |l: String| me.emit(l);
                    if let Err(e) = me.relay.read_legacy(reader, resp, pending, &out).await {
                        tracing::warn!("the event stream of {} failed: {e}", me.server);
                    }
                    tracing::info!("the event stream of {} ended", me.server);
                });
                true
            }
            Err(e) => {
                tracing::info!("{e}");
                false
            }
        }
    }

    /// The server's own stream (Streamable HTTP GET): messages it starts, passed on as they
    /// come; resumed after its last event id when it ends; given up after 5 failures in a row
    /// or when the server has none (405).
    async fn listen(self: Arc<Self>) {
        if self.relay.mode() != Mode::Streamable {
            return;
        }
        let relay = &self.relay;
        let mut last_id: Option<String> = None;
        let mut failures = 0u32;
        loop {
            let after = last_id.clone();
            let get = |t: Option<Secret>| {
                let after = after.clone();
                async move { relay.get_stream(t.as_ref(), after.as_deref()).await }
            };
            let mut delay = Duration::from_millis(500);
            match self.send_authorized(false, get).await {
                Ok(r) if r.status().is_success() => {
                    let out = |l: String| self.emit(l);
                    match relay.read(r, None, &out).await {
                        Ok(Ended {
                            last_id: id,
                            retry_ms,
                            ..
                        }) => {
                            failures = 0;
                            last_id = id.or(last_id);
                            if let Some(ms) = retry_ms {
                                delay = Duration::from_millis(ms.min(60_000));
                            }
                        }
                        Err(e) => {
                            failures += 1;
                            tracing::info!("the event stream of {} broke: {e}", self.server);
                        }
                    }
                }
                Ok(r) if matches!(r.status().as_u16(), 405 | 404) => {
                    tracing::debug!("{} offers no stream of its own", self.server);
                    return;
                }
                Ok(r) => {
                    failures += 1;
                    tracing::info!(
                        "the event stream of {} answered {}",
                        self.server,
                        r.status()
                    );
                }
                Err(e) => {
                    failures += 1;
                    tracing::info!("the event stream of {} failed: {e}", self.server);
                }
            }
            if failures >= 5 {
                tracing::warn!("gave up listening to {}'s own messages", self.server);
                return;
            }
            tokio::time::sleep(delay * (failures + 1)).await;
        }
    }
}

/// The words of a JSON-RPC error for `e` at `server`: the reason, its explanation and fix
/// (from the catalogue), and the detail; and its `data`: the reason's id, title, fix and
/// detail. No token or secret is in either.
pub fn words(server: &str, e: &Error) -> (String, serde_json::Value) {
    let r = reason_of(e);
    let message = format!(
        "Latchkey could not reach {server} — {}. {} {} ({})",
        r.title,
        r.explanation,
        r.fix.words(),
        r.detail
    );
    let data = serde_json::json!({
        "reason": r.id,
        "title": r.title,
        "fix": r.fix.words(),
        "detail": r.detail,
        "server": server,
    });
    (message, data)
}

impl Latchkey {
    /// Bridges `input` and `output` (the stdio transport of a local MCP client: one JSON-RPC
    /// message per line each way) to `server` (a URL, or a name given at sign-in), until
    /// `input` ends; then requests still under way get [`CLOSE_GRACE`] to finish and the
    /// session is ended. `output` carries only the protocol.
    ///
    /// Errors (before anything is read): those of [`Latchkey::resolve_server`] for a server
    /// that is neither a URL nor a name that names one server; the keychain's. Problems with
    /// single messages are answered on `output`, never returned.
    pub async fn bridge(
        self: &Arc<Self>,
        server: &str,
        options: BridgeOptions,
        input: impl AsyncBufRead + Unpin,
        output: impl AsyncWrite + Unpin + 'static,
    ) -> Result<()> {
        let (id, url) = if server.contains("://") {
            let url = urls::parse_http_url(server)?;
            (vault::server_id(server)?, url)
        } else {
            let id = self.resolve_server(server)?;
            let url = urls::parse_http_url(&id)?;
            (id, url)
        };
        let (tx, rx) = mpsc::unbounded_channel::<String>();
        let bridge = Arc::new(Bridge {
            engine: self.clone(),
            server: id,
            relay: Relay::new(self.stream_transport(), url),
            options,
            out: tx,
            signing_in: tokio::sync::Mutex::new(()),
        });
        tokio::task::LocalSet::new()
            .run_until(run(bridge, input, output, rx))
            .await;
        Ok(())
    }
}

async fn write_all(mut output: impl AsyncWrite + Unpin, mut rx: mpsc::UnboundedReceiver<String>) {
    while let Some(line) = rx.recv().await {
        let mut bytes = line.into_bytes();
        bytes.push(b'\n');
        if let Err(e) = async {
            output.write_all(&bytes).await?;
            output.flush().await
        }
        .await
        {
            tracing::warn!("the AI tool stopped reading: {e}");
            return;
        }
    }
}

async fn run(
    bridge: Arc<Bridge>,
    input: impl AsyncBufRead + Unpin,
    output: impl AsyncWrite + Unpin + 'static,
    rx: mpsc::UnboundedReceiver<String>,
) {
    let writer = tokio::task::spawn_local(write_all(output, rx));
    let mut tasks = tokio::task::JoinSet::new();
    let mut listener: Option<tokio::task::JoinHandle<()>> = None;
    let mut lines = input.lines();
    loop {
        let line = match lines.next_line().await {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => {
                tracing::warn!("reading the AI tool's messages failed: {e}");
                break;
            }
        };
        while tasks.try_join_next().is_some() {}
        if line.trim().is_empty() {
            continue;
        }
        let msg = match Message::read(&line) {
            Ok(m) => m,
            Err(e) => {
                bridge.emit(relay::error_answer(
                    &serde_json::Value::Null,
                    -32700,
                    &format!("Parse error: {e}"),
                    serde_json::Value::Null,
                ));
                continue;
            }
        };
        let initialized = msg.method.as_deref() == Some("notifications/initialized");
        if msg.is_initialize() || initialized {
            // In order: the session id and the version come with the answer to initialize.
            bridge.clone().forward(line, msg).await;
            if initialized && listener.is_none() {
                listener = Some(tokio::task::spawn_local(bridge.clone().listen()));
            }
            continue;
        }
        tasks.spawn_local(bridge.clone().forward(line, msg));
    }
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    tasks.abort_all();
    if let Some(l) = listener {
        l.abort();
    }
    if bridge.relay.session_id().is_some() {
        let token = bridge.token().await.ok().and_then(|(t, _)| t);
        if bridge.relay.close(token.as_ref()).await {
            tracing::info!("ended the session with {}", bridge.server);
        }
    }
    drop(bridge);
    // Messages already answered are written before the bridge ends. Tasks still holding the
    // bridge (a legacy stream) are cut off with the runtime.
    let _ = tokio::time::timeout(CLOSE_GRACE, writer).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::canned::{Canned, Expect};
    use crate::store::vault::tests::sample;
    use crate::store::vault::{CredentialBundle, CredentialStore, MemoryStore};
    use crate::tools::Locations;
    use serde_json::json;
    use tokio::io::AsyncReadExt;

    const SERVER: &str = "https://mcp.example.com/mcp";
    const INIT: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;

    /// Runs a bridge to [`SERVER`] (signed in with `sample`'s tokens) over `exchanges`, with
    /// `lines` as the tool's input; returns what the tool read, line by line.
    async fn bridge(
        lines: &[&str],
        exchanges: Vec<Expect>,
    ) -> (Vec<serde_json::Value>, Arc<Canned>) {
        bridge_with(lines, exchanges, |_| {}, |_| BridgeOptions::default()).await
    }

    /// [`bridge`], with the stored bundle changed by `prepare` and the options `options`
    /// makes (given the store).
    async fn bridge_with(
        lines: &[&str],
        exchanges: Vec<Expect>,
        prepare: impl FnOnce(&mut CredentialBundle),
        options: impl FnOnce(Arc<MemoryStore>) -> BridgeOptions,
    ) -> (Vec<serde_json::Value>, Arc<Canned>) {
        let home = tempfile::tempdir().unwrap();
        let store = Arc::new(MemoryStore::default());
        let mut b = sample(SERVER);
        b.tokens.expires_at = Some(crate::clock::now() + 3600);
        b.tokens.obtained_at = crate::clock::now();
        prepare(&mut b);
        store.save(&b).unwrap();
        let options = options(store.clone());
        let canned = Canned::new(exchanges);
        let engine = Arc::new(
            Latchkey::new(store, Locations::for_home(home.path()))
                .with_state_dir(home.path().join("state"))
                .with_transport(canned.clone()),
        );
        let input = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
        // The tool writes its lines, waits a little for what the server sends, then closes.
        let (mut tool_in, bridge_in) = tokio::io::duplex(1 << 20);
        tokio::spawn(async move {
            tool_in.write_all(input.as_bytes()).await.unwrap();
            tokio::time::sleep(Duration::from_millis(800)).await;
        });
        let (writer, mut reader) = tokio::io::duplex(1 << 20);
        engine
            .bridge(
                SERVER,
                options,
                tokio::io::BufReader::new(bridge_in),
                writer,
            )
            .await
            .unwrap();
        let mut out = String::new();
        reader.read_to_string(&mut out).await.unwrap();
        let lines = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
            .collect();
        (lines, canned)
    }

    fn answer(id: u64) -> serde_json::Value {
        json!({"jsonrpc": "2.0", "id": id, "result": {"protocolVersion": "2025-06-18",
               "capabilities": {}, "serverInfo": {"name": "s", "version": "1"}}})
    }

    #[tokio::test]
    async fn a_refused_token_is_renewed_and_the_message_sent_again_unseen() {
        let (out, canned) = bridge(
            &[INIT],
            vec![
                Expect::post(SERVER)
                    .with_header("authorization", "Bearer at-secret-value")
                    .respond(401)
                    .respond_header("www-authenticate", r#"Bearer error="invalid_token""#),
                Expect::post("https://as.example.com/token")
                    .with_form("grant_type", "refresh_token")
                    .respond_json(
                        200,
                        &json!({"access_token": "at-renewed", "token_type": "Bearer",
                                "expires_in": 3600, "refresh_token": "rt-2"}),
                    ),
                Expect::post(SERVER)
                    .with_header("authorization", "Bearer at-renewed")
                    .with_header("mcp-protocol-version", "2025-06-18")
                    .respond_json(200, &answer(0)),
            ],
        )
        .await;
        canned.assert_done();
        assert_eq!(out, vec![answer(0)], "only the answer reaches the tool");
        assert_eq!(canned.sent()[2].body, INIT.as_bytes(), "byte for byte");
    }

    #[tokio::test]
    async fn a_session_that_cannot_be_renewed_is_signed_in_by_the_tray_when_it_runs() {
        let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (out, canned) = bridge_with(
            &[INIT],
            vec![
                Expect::post(SERVER)
                    .with_header("authorization", "Bearer at-secret-value")
                    .respond(401)
                    .respond_header("www-authenticate", r#"Bearer error="invalid_token""#),
                Expect::post(SERVER)
                    .with_header("authorization", "Bearer at-from-the-tray")
                    .respond_json(200, &answer(0)),
            ],
            |b| b.tokens.refresh_token = None,
            |store| {
                let asked = asked.clone();
                BridgeOptions {
                    tray: Some(Arc::new(move |url: &str, _scopes: &[String]| {
                        asked.lock().unwrap().push(url.to_string());
                        // The tray's one-click sign-in stores new credentials.
                        let mut b = sample(SERVER);
                        b.tokens.access_token = Secret::new("at-from-the-tray");
                        b.tokens.expires_at = Some(crate::clock::now() + 3600);
                        b.tokens.obtained_at = crate::clock::now();
                        store.save(&b).unwrap();
                        true
                    })),
                    ..BridgeOptions::default()
                }
            },
        )
        .await;
        canned.assert_done();
        assert_eq!(out, vec![answer(0)]);
        assert_eq!(asked.lock().unwrap().as_slice(), [canonical()]);
    }

    fn canonical() -> String {
        crate::store::vault::server_id(SERVER).unwrap()
    }

    #[tokio::test]
    async fn a_server_asking_for_more_scopes_sends_the_tray_the_wider_set_for_review() {
        let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (out, canned) = bridge_with(
            &[INIT],
            vec![
                Expect::post(SERVER)
                    .with_header("authorization", "Bearer at-secret-value")
                    .respond(403)
                    .respond_header(
                        "www-authenticate",
                        r#"Bearer error="insufficient_scope", scope="mcp:admin""#,
                    ),
                Expect::post(SERVER)
                    .with_header("authorization", "Bearer at-wider")
                    .respond_json(200, &answer(0)),
            ],
            |_| {},
            |store| {
                let asked = asked.clone();
                BridgeOptions {
                    tray: Some(Arc::new(move |url: &str, scopes: &[String]| {
                        asked
                            .lock()
                            .unwrap()
                            .push(format!("{url} [{}]", scopes.join(" ")));
                        // The person grants the wider scopes in the window's review.
                        let mut b = sample(SERVER);
                        b.tokens.access_token = Secret::new("at-wider");
                        b.tokens.expires_at = Some(crate::clock::now() + 3600);
                        b.tokens.obtained_at = crate::clock::now();
                        store.save(&b).unwrap();
                        true
                    })),
                    ..BridgeOptions::default()
                }
            },
        )
        .await;
        canned.assert_done();
        assert_eq!(out, vec![answer(0)]);
        // The union of what was granted (`mcp`) and what the server asks.
        assert_eq!(
            asked.lock().unwrap().as_slice(),
            [format!("{} [mcp mcp:admin]", canonical())]
        );
    }

    #[tokio::test]
    async fn a_refusal_that_no_sign_in_fixes_and_a_bad_line_are_answered_in_words() {
        let call = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}}"#;
        let note =
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}}"#;
        let (out, canned) = bridge(
            &["{not json", call],
            vec![Expect::post(SERVER).respond(403).respond_header(
                "www-authenticate",
                r#"Bearer error="invalid_token", error_description="audience mismatch""#,
            )],
        )
        .await;
        canned.assert_done();
        assert_eq!(out[0]["error"]["code"], -32700, "{out:?}");
        assert_eq!(out[0]["id"], serde_json::Value::Null);
        let e = &out[1];
        assert_eq!(e["id"], 7);
        assert_eq!(e["error"]["code"], NOT_DELIVERED);
        assert_eq!(e["error"]["data"]["reason"], "audience_rejected", "{e}");
        let message = e["error"]["message"].as_str().unwrap();
        assert!(message.contains("Sign in again."), "the fix: {message}");
        assert!(!message.contains("at-secret-value"), "{message}");

        // A notification that cannot be delivered is not answered.
        let (out, _) = bridge(&[note], vec![Expect::post(SERVER).respond(500)]).await;
        assert!(out.is_empty(), "{out:?}");
    }

    #[tokio::test]
    async fn the_session_is_listened_to_and_ended_when_the_input_ends() {
        let init_answer = Expect::post(SERVER)
            .respond_header("mcp-session-id", "s-9")
            .respond_json(200, &answer(0));
        let (out, canned) = bridge(
            &[INIT, r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#],
            vec![
                init_answer,
                Expect::post(SERVER)
                    .with_header("mcp-session-id", "s-9")
                    .respond(202),
                Expect::get(SERVER)
                    .with_header("mcp-session-id", "s-9")
                    .with_header("accept", "text/event-stream")
                    .respond_header("content-type", "text/event-stream")
                    .respond_body("id: 1\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"srv-1\",\"method\":\"roots/list\"}\n\n"),
                Expect::get(SERVER)
                    .with_header("last-event-id", "1")
                    .respond(405),
                Expect::new(reqwest::Method::DELETE, SERVER).with_header("mcp-session-id", "s-9"),
            ],
        )
        .await;
        canned.assert_done();
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(
            out[1]["method"], "roots/list",
            "a server request reached the tool"
        );
    }
}
