//! `latchkey`: the command line over latchkey-core. Thin: parsing, printing, exit codes.

mod doctor;
mod handoff;
mod output;
mod servers;
mod status;

use clap::{Args, Parser, Subcommand};
use latchkey_core::oauth::plan::{self, ClientConfig, LoginPlan, TokenAuthMethod};
use latchkey_core::oauth::revoke;
use latchkey_core::protocol::discovery;
use latchkey_core::protocol::http::Http;
use latchkey_core::protocol::trace::Recorder;
use latchkey_core::store::flow_record;
use latchkey_core::store::vault::{self, CredentialBundle, CredentialStore, KeyringStore};
use latchkey_core::usecase::renew::{self, RefreshOptions};
use latchkey_core::usecase::sign_in::{self, BrowserMode, LoginEvent, LoginOptions};
use latchkey_core::usecase::step_up;
use latchkey_core::{Error, Secret};
use std::io::BufRead;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "latchkey",
    version,
    about = "Sign-in for remote MCP servers, done right: discovery, the right scopes, tokens in your keychain."
)]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Seconds to wait for each HTTP request.
    #[arg(long, global = true, default_value_t = 15, value_name = "SECONDS")]
    timeout: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find out how a server wants to be signed into, and show the plan.
    Discover {
        /// The MCP server's URL, e.g. https://example.com/mcp
        url: String,
        #[command(flatten)]
        scopes: ScopeArgs,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Sign in through the browser and store the credentials in the keychain.
    Login {
        url: String,
        #[command(flatten)]
        scopes: ScopeArgs,
        #[command(flatten)]
        client: ClientArgs,
        /// Print the sign-in address instead of opening a browser.
        #[arg(long)]
        no_browser: bool,
        /// Seconds to wait for the sign-in to finish in the browser.
        #[arg(long, default_value_t = 300, value_name = "SECONDS")]
        callback_timeout: u64,
        /// A name for this server, usable instead of its URL (e.g. `latchkey token NAME`).
        #[arg(long)]
        name: Option<String>,
    },
    /// Connect with the stored token and list the server's tools.
    Check { url: String },
    /// Print a valid access token for a server (renewing it first if needed).
    Token {
        /// The server's URL or a name given at sign-in.
        server: String,
    },
    /// Print {"Authorization":"Bearer ..."} for a server: Claude Code's headersHelper.
    Headers {
        /// The server's URL or name; default: $CLAUDE_CODE_MCP_SERVER_URL, then
        /// $CLAUDE_CODE_MCP_SERVER_NAME.
        server: Option<String>,
    },
    /// List the servers with stored credentials.
    List,
    /// The MCP servers your AI tools are configured with (Claude Code, Cursor, VS Code, ...).
    Servers(servers::ServersArgs),
    /// Auth health of every server your AI tools use, and why each failing one fails.
    Status(servers::ServersArgs),
    /// Sign out: revoke the session at the sign-in server where it allows, then forget it.
    Logout { server: String },
    /// Hand a signed-in server's credentials to an AI tool (Claude Code, Gemini CLI, Codex).
    Handoff(handoff::HandoffArgs),
    /// Why a server does or does not work, what fixes it, and the requests that show it.
    Doctor {
        /// The server's URL or name.
        server: String,
        /// Write everything (redacted) to this file, to attach to a bug report.
        #[arg(long, value_name = "FILE")]
        export: Option<std::path::PathBuf>,
    },
    /// Call one tool with the stored token (signs in again when the server needs more scopes).
    Call {
        url: String,
        tool: String,
        /// The tool's arguments as a JSON object.
        #[arg(long, default_value = "{}", value_name = "JSON")]
        args: String,
        #[command(flatten)]
        client: ClientArgs,
        /// Print the sign-in address instead of opening a browser, if a new sign-in is needed.
        #[arg(long)]
        no_browser: bool,
    },
}

#[derive(Args, Clone, Default)]
struct ScopeArgs {
    /// Ask for exactly these scopes instead of the recommended ones (repeatable).
    #[arg(long = "scope", value_name = "SCOPE")]
    scope: Vec<String>,
    /// Ask for this scope in addition to the recommended ones (repeatable).
    #[arg(long = "add-scope", value_name = "SCOPE")]
    add_scope: Vec<String>,
}

#[derive(Args, Clone, Default)]
struct ClientArgs {
    /// A client id you registered at the sign-in server.
    #[arg(long)]
    client_id: Option<String>,
    /// Read that client's secret from standard input (one line).
    #[arg(long, requires = "client_id")]
    client_secret_stdin: bool,
    /// How the client authenticates at the token endpoint.
    #[arg(long, value_parser = ["none", "client_secret_basic", "client_secret_post"], requires = "client_id")]
    token_auth: Option<String>,
    /// A fixed port for the sign-in callback (must match the registered redirect URI).
    #[arg(long, value_name = "PORT")]
    callback_port: Option<u16>,
    /// An https URL of a client id metadata document, used where the sign-in server accepts one.
    #[arg(long, value_name = "URL")]
    client_metadata_url: Option<String>,
}

impl ClientArgs {
    fn config(&self) -> Result<ClientConfig, Error> {
        let client_secret = if self.client_secret_stdin {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| Error::InvalidPlan {
                    problems: format!("could not read the client secret from standard input ({e})"),
                })?;
            let line = line.trim_end_matches(['\r', '\n']).to_string();
            if line.is_empty() {
                return Err(Error::InvalidPlan {
                    problems: "--client-secret-stdin was given but standard input was empty".into(),
                });
            }
            Some(Secret::new(line))
        } else {
            None
        };
        Ok(ClientConfig {
            client_id: self.client_id.clone(),
            client_secret,
            auth_method: self.token_auth.as_deref().and_then(TokenAuthMethod::parse),
            callback_port: self.callback_port,
            client_metadata_url: self.client_metadata_url.clone(),
        })
    }
}

/// The exit code that means "sign in first", distinct from every other failure.
const EXIT_NEEDS_SIGN_IN: u8 = 3;

fn main() -> ExitCode {
    latchkey_core::logging::init();
    let cli = Cli::parse();
    let json = cli.json;
    let one_line = matches!(cli.command, Command::Token { .. } | Command::Headers { .. });
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("latchkey: could not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if one_line && !json {
                output::error_line(&e);
            } else {
                output::error(&e, json);
            }
            ExitCode::from(match e {
                Error::NotSignedIn { .. } | Error::NeedsSignIn { .. } => EXIT_NEEDS_SIGN_IN,
                _ => 1,
            })
        }
    }
}

async fn make_plan(
    http: &Http,
    url: &str,
    scopes: &ScopeArgs,
    client: &ClientConfig,
) -> Result<LoginPlan, Error> {
    let d = discovery::discover(http, url).await?;
    let mut plan = plan::make_plan(d, client);
    if !scopes.scope.is_empty() {
        plan.set_scopes(split_scopes(&scopes.scope))?;
    }
    for s in split_scopes(&scopes.add_scope) {
        plan.add_scope(&s)?;
    }
    Ok(plan)
}

/// `--scope "a b"` and `--scope a --scope b` mean the same.
fn split_scopes(v: &[String]) -> Vec<String> {
    v.iter()
        .flat_map(|s| s.split_whitespace().map(str::to_string))
        .collect()
}

async fn run(cli: Cli) -> Result<(), Error> {
    let http = Http::new(Duration::from_secs(cli.timeout.max(1)));
    let store = KeyringStore::from_env();
    match cli.command {
        Command::Discover {
            url,
            scopes,
            client,
        } => {
            let plan = make_plan(&http, &url, &scopes, &client.config()?).await?;
            output::plan(&plan, cli.json);
            Ok(())
        }
        Command::Login {
            url,
            scopes,
            client,
            no_browser,
            callback_timeout,
            name,
        } => {
            let config = client.config()?;
            let plan = make_plan(&http, &url, &scopes, &config).await?;
            if !cli.json {
                output::plan_summary(&plan);
            }
            let options = LoginOptions {
                client_secret: config.client_secret.clone(),
                name,
                browser: if no_browser {
                    BrowserMode::PrintOnly
                } else {
                    BrowserMode::Open
                },
                timeout: Duration::from_secs(callback_timeout.max(1)),
            };
            let bundle = do_login(&http, &plan, &options, &store, cli.json).await?;
            output::signed_in(&bundle, cli.json);
            Ok(())
        }
        Command::Token { server } => {
            let token = access_token(&store, &server, cli.timeout).await?;
            println!("{}", token.expose());
            Ok(())
        }
        Command::Headers { server } => {
            let server = server
                .or_else(|| env_nonempty("CLAUDE_CODE_MCP_SERVER_URL"))
                .or_else(|| env_nonempty("CLAUDE_CODE_MCP_SERVER_NAME"))
                .ok_or_else(|| Error::InvalidUrl {
                    input: String::new(),
                    reason: "no server was named: give its URL or name, or run this as Claude Code's headersHelper".into(),
                })?;
            let token = access_token(&store, &server, cli.timeout).await?;
            let header = format!("Bearer {}", token.expose());
            println!("{}", serde_json::json!({ "Authorization": header }));
            Ok(())
        }
        Command::Servers(args) => servers::run(&args, cli.json),
        Command::Status(args) => status::run(&args, cli.timeout, cli.json).await,
        Command::List => {
            let mut bundles = Vec::new();
            for entry in store.list()? {
                match store.load(&entry.id) {
                    Ok(Some(b)) => bundles.push(Ok(b)),
                    Ok(None) => {}
                    Err(e) => bundles.push(Err((entry.id, e))),
                }
            }
            output::list(&bundles, cli.json);
            Ok(())
        }
        Command::Logout { server } => {
            let id = vault::resolve(&store, &server)?;
            let b = store
                .load(&id)?
                .ok_or(Error::NotSignedIn { server: id.clone() })?;
            let revoked = revoke::revoke(&http, &b).await;
            store.delete(&id)?;
            output::logged_out(&b, &revoked, cli.json);
            Ok(())
        }
        Command::Doctor { server, export } => {
            let d = latchkey_core::usecase::why::diagnose(
                &store,
                &server,
                &RefreshOptions::from_env(),
                Duration::from_secs(cli.timeout.max(1)),
            )
            .await;
            if let Some(file) = &export {
                doctor::export(&d, file)?;
                if !cli.json {
                    eprintln!(
                        "Diagnostics written to {} (no tokens or secrets in it).",
                        file.display()
                    );
                }
            }
            doctor::print(&d, cli.json);
            Ok(())
        }
        Command::Handoff(args) => {
            // Gemini CLI ignores a stored token with under 5 minutes left: hand over one
            // with more than that.
            let min_left = (args.tool == "gemini-cli").then_some(Duration::from_secs(360));
            let b = fresh_for(&store, &args.server, cli.timeout, min_left).await?;
            handoff::run(&args, &b, cli.json)
        }
        Command::Check { url } => {
            let bundle = fresh(&store, &url, cli.timeout).await?;
            let (info, tools) = step_up::check(&http, &bundle).await?;
            output::checked(&bundle, &info, &tools, cli.json);
            Ok(())
        }
        Command::Call {
            url,
            tool,
            args,
            client,
            no_browser,
        } => {
            let arguments: serde_json::Value =
                serde_json::from_str(&args).map_err(|e| Error::InvalidPlan {
                    problems: format!("--args is not valid JSON ({e})"),
                })?;
            let config = client.config()?;
            let json = cli.json;
            let options = LoginOptions {
                client_secret: config.client_secret.clone(),
                browser: if no_browser {
                    BrowserMode::PrintOnly
                } else {
                    BrowserMode::Open
                },
                ..Default::default()
            };
            let bundle = fresh(&store, &url, cli.timeout).await?;
            let (result, step_ups) = step_up::call_tool_with_step_up(
                &http,
                bundle,
                &tool,
                arguments,
                async |scopes: Vec<String>| {
                    if !json {
                        eprintln!(
                            "The server needs more permissions for {tool}; signing in again asking for: {}",
                            scopes.join(" ")
                        );
                    }
                    let mut plan = make_plan(&http, &url, &ScopeArgs::default(), &config).await?;
                    plan.set_scopes(scopes)?;
                    do_login(&http, &plan, &options, &store, json).await
                },
            )
            .await?;
            output::called(&tool, &result, step_ups, cli.json);
            Ok(())
        }
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The bundle with a valid access token; the HTTP client is only built to refresh.
async fn fresh(
    store: &KeyringStore,
    server: &str,
    timeout: u64,
) -> Result<CredentialBundle, Error> {
    fresh_for(store, server, timeout, None).await
}

/// A valid access token: the kernel keyring's copy when it has more than the refresh margin
/// left (no D-Bus round trip), else the keychain's bundle, renewed if needed and then copied.
async fn access_token(store: &KeyringStore, server: &str, timeout: u64) -> Result<Secret, Error> {
    if server.contains("://") {
        if let Ok(id) = vault::server_id(server) {
            if let Some(t) = store.cached_access_token(&id, RefreshOptions::from_env().margin) {
                return Ok(t);
            }
        }
    }
    let b = fresh(store, server, timeout).await?;
    store.remember(&b);
    Ok(b.tokens.access_token)
}

/// Like `fresh`, with at least `min_left` of validity when given.
async fn fresh_for(
    store: &KeyringStore,
    server: &str,
    timeout: u64,
    min_left: Option<Duration>,
) -> Result<CredentialBundle, Error> {
    let id = vault::resolve(store, server)?;
    let mut options = RefreshOptions::from_env();
    if let Some(m) = min_left {
        options.margin = options.margin.max(m);
    }
    let recorder = Recorder::default();
    let result = renew::fresh_bundle(store, &id, &options, || {
        Http::new(Duration::from_secs(timeout.max(1))).with_recorder(recorder.clone())
    })
    .await;
    // Only a renewal sends anything; a token from the keychain records nothing.
    flow_record::record("renewal", &id, &recorder, &result);
    result
}

async fn do_login(
    http: &Http,
    plan: &LoginPlan,
    options: &LoginOptions,
    store: &dyn CredentialStore,
    json: bool,
) -> Result<CredentialBundle, Error> {
    let events = move |e: LoginEvent| output::login_event(&e, json);
    let recorder = Recorder::default();
    let http = http.clone().with_recorder(recorder.clone());
    let result = sign_in::login(&http, plan, options, store, &events).await;
    if let Ok(id) = vault::server_id(&plan.server_url) {
        flow_record::record("sign-in", &id, &recorder, &result);
    }
    result
}
