//! `latchkey`: the command line over latchkey-core. Thin: parsing, printing, exit codes.

// Everything the command line prints goes through `latchkey_core::terminal_text`: text
// from servers and files (an error description, a tool's name, a scope) may hold escape
// sequences or bidi controls that a terminal would obey. These shadow the std macros in
// every module below (macro_rules scope is textual, so they come before the `mod`s).
macro_rules! println {
    () => { ::std::println!() };
    ($($arg:tt)*) => { ::std::println!("{}", $crate::term::clean(&format!($($arg)*))) };
}
macro_rules! eprintln {
    () => { ::std::eprintln!() };
    ($($arg:tt)*) => { ::std::eprintln!("{}", $crate::term::clean(&format!($($arg)*))) };
}
#[allow(unused_macros)]
macro_rules! print {
    ($($arg:tt)*) => { ::std::print!("{}", $crate::term::clean(&format!($($arg)*))) };
}
#[allow(unused_macros)]
macro_rules! eprint {
    ($($arg:tt)*) => { ::std::eprint!("{}", $crate::term::clean(&format!($($arg)*))) };
}

mod connect;
mod doctor;
mod handoff;
mod output;
mod paste;
mod servers;
mod status;
mod term;
mod tray;

use clap::{Args, Parser, Subcommand};
use latchkey_core::usecase::{
    BridgeOptions, BrowserMode, Challenged, ClaudeMode, ClientConfig, DeviceChoice, HandOffRequest,
    Latchkey, Need, Provider, ProviderInput, ScopeChoice, SignInEvent, SignInOptions, SignInPlan,
    StepUp, TokenAuthMethod, Tool,
};
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
        /// The MCP server's URL, e.g. https://example.com/mcp, or a name your AI tools give it.
        server: String,
        #[command(flatten)]
        scopes: ScopeArgs,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Sign in through the browser and store the credentials in the keychain.
    Login {
        /// The server: its URL, or a name your AI tools or Latchkey give it (as `latchkey
        /// servers` and `latchkey list` show; any case).
        server: String,
        #[command(flatten)]
        scopes: ScopeArgs,
        #[command(flatten)]
        client: ClientArgs,
        /// Print the sign-in address instead of opening a browser, and take the address the
        /// browser ends on pasted into standard input (also without this flag when no browser
        /// can open here: an SSH session without a display, a container).
        #[arg(long)]
        no_browser: bool,
        /// Seconds to wait for the sign-in to finish in the browser.
        #[arg(long, default_value_t = 300, value_name = "SECONDS")]
        callback_timeout: u64,
        /// A name for this server, usable instead of its URL (e.g. `latchkey token NAME`).
        #[arg(long)]
        name: Option<String>,
        /// The sign-in server's metadata does not list code_challenge_methods_supported, and
        /// you trust that it accepts PKCE with S256: assume it there (remembered; never plain).
        #[arg(long)]
        assume_pkce_s256: bool,
        /// Drop Latchkey's registration at this sign-in server and register anew (when the
        /// sign-in page says the app is unknown, e.g. after the server was redeployed).
        #[arg(long)]
        register_again: bool,
        /// Sign in with a code entered on another device (phone, laptop): Latchkey shows an
        /// address and a code, and waits (RFC 8628 device authorization). For SSH sessions,
        /// containers and headless servers; the sign-in server must offer it. Without this
        /// flag it is used when --no-browser is given and the sign-in server offers it.
        #[arg(long)]
        device: bool,
    },
    /// The sign-in servers where you chose to assume PKCE with S256 (--assume-pkce-s256).
    AssumedPkce {
        /// Forget the choice for this issuer: its next sign-in asks again.
        #[arg(long, value_name = "ISSUER")]
        forget: Option<String>,
    },
    /// Connect with the stored token and list the server's tools (signs in again when the
    /// server refuses the token or needs more scopes).
    Check {
        /// The server: its URL, or a name your AI tools or Latchkey give it (as `latchkey
        /// servers` and `latchkey list` show; any case).
        server: String,
        #[command(flatten)]
        client: ClientArgs,
        /// Print the sign-in address instead of opening a browser, if a new sign-in is needed.
        #[arg(long)]
        no_browser: bool,
    },
    /// Print a valid access token for a server (renewing it first if needed).
    Token {
        /// The server: its URL, or a name your AI tools or Latchkey give it (as `latchkey
        /// servers` and `latchkey list` show; any case).
        server: String,
    },
    /// Print {"Authorization":"Bearer ..."} for a server: Claude Code's headersHelper.
    Headers {
        /// The server's URL or a name your AI tools or Latchkey give it; default:
        /// $CLAUDE_CODE_MCP_SERVER_URL, then $CLAUDE_CODE_MCP_SERVER_NAME.
        server: Option<String>,
    },
    /// List the servers with stored credentials.
    List,
    /// The MCP servers your AI tools are configured with (Claude Code, Cursor, VS Code, ...).
    Servers(servers::ServersArgs),
    /// Auth health of every server your AI tools use, and why each failing one fails.
    Status(servers::ServersArgs),
    /// Sign out: revoke the session at the sign-in server where it allows, then forget it.
    Logout {
        /// The server: its URL, or a name your AI tools or Latchkey give it (as `latchkey
        /// servers` and `latchkey list` show; any case).
        server: String,
    },
    /// Hand a signed-in server's credentials to an AI tool (Claude Code, Gemini CLI, Codex).
    Handoff(handoff::HandoffArgs),
    /// Let AI tools use a server through Latchkey: Claude Code and Codex ask it for fresh
    /// headers, the others start `latchkey bridge`. The entry a tool has for the server keeps
    /// its name (an mcp-remote entry is replaced in place); a backup of each file is kept.
    Connect {
        /// The server: its URL, or a name your AI tools or Latchkey give it (as `latchkey
        /// servers` and `latchkey list` show; any case).
        server: String,
        /// The tools, comma-separated: claude-code, claude-desktop, cursor, vs-code,
        /// gemini-cli, codex, windsurf, zed.
        #[arg(long, value_delimiter = ',', required = true, value_parser = connect::parse_tool, value_name = "TOOL")]
        to: Vec<Tool>,
        /// The name of a new entry (default: the server's name, else one from its host).
        #[arg(long)]
        name: Option<String>,
    },
    /// Put back the entries `latchkey connect` changed, byte for byte.
    Disconnect {
        /// The server: its URL, or a name your AI tools or Latchkey give it (as `latchkey
        /// servers` and `latchkey list` show; any case).
        server: String,
        /// The tools, comma-separated (as for connect).
        #[arg(long, value_delimiter = ',', required = true, value_parser = connect::parse_tool, value_name = "TOOL")]
        from: Vec<Tool>,
    },
    /// Add a server once: find out how it signs in, sign in, and connect it to the tools.
    Add {
        /// The MCP server's URL, e.g. https://example.com/mcp, or a name your AI tools give it.
        server: String,
        /// A name for it (in Latchkey and in the tools' configs).
        #[arg(long)]
        name: Option<String>,
        /// The tools to connect it to, comma-separated (as for connect).
        #[arg(long, value_delimiter = ',', value_parser = connect::parse_tool, value_name = "TOOL")]
        to: Vec<Tool>,
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
    },
    /// Remove a server: disconnect it from every tool it was connected to, then sign out.
    Remove {
        /// The server: its URL, or a name your AI tools or Latchkey give it (as `latchkey
        /// servers` and `latchkey list` show; any case).
        server: String,
    },
    /// Why a server does or does not work, what fixes it, and the requests that show it.
    Doctor {
        /// The server: its URL, or a name your AI tools or Latchkey give it (as `latchkey
        /// servers` and `latchkey list` show; any case).
        server: String,
        /// Write everything (redacted) to this file, to attach to a bug report.
        #[arg(long, value_name = "FILE")]
        export: Option<std::path::PathBuf>,
    },
    /// A local MCP server on stdin/stdout that forwards every message to SERVER with a fresh
    /// token (renewing it, and signing in when the server asks): the stdio entry for tools
    /// that cannot take a token themselves (Claude Desktop, Cursor, VS Code, Windsurf, Zed).
    /// Logs go to stderr.
    Bridge {
        /// The server: its URL, or a name your AI tools or Latchkey give it (as `latchkey
        /// servers` and `latchkey list` show; any case).
        server: String,
        #[command(flatten)]
        client: ClientArgs,
        /// Print the sign-in address (on stderr) instead of opening a browser, if a sign-in is needed.
        #[arg(long)]
        no_browser: bool,
        /// Seconds to wait for a sign-in to finish in the browser.
        #[arg(long, default_value_t = 300, value_name = "SECONDS")]
        callback_timeout: u64,
    },
    /// Call one tool with the stored token, or without one when not signed in (signs in
    /// when the server asks for a token or for more scopes).
    Call {
        /// The server: its URL, or a name your AI tools or Latchkey give it (as `latchkey
        /// servers` and `latchkey list` show; any case).
        server: String,
        /// The name of the tool to call.
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
    /// A fixed port for the sign-in callback (must match the registered redirect URI). Over
    /// SSH, `latchkey login` then prints the `ssh -L` command that forwards it from the
    /// computer with the browser.
    #[arg(long, value_name = "PORT")]
    callback_port: Option<u16>,
    /// An https URL of a client id metadata document, used where the sign-in server accepts one.
    #[arg(long, value_name = "URL")]
    client_metadata_url: Option<String>,
    /// Your app is registered at this provider: entra, okta, auth0, keycloak or google. Run
    /// without its values to be told which ones it needs and where to find them.
    #[arg(long, value_name = "NAME")]
    provider: Option<String>,
    /// A value the provider needs, as KEY=VALUE (e.g. tenant=contoso.onmicrosoft.com).
    #[arg(
        long = "provider-value",
        value_name = "KEY=VALUE",
        requires = "provider"
    )]
    provider_value: Vec<String>,
}

impl ClientArgs {
    /// The provider preset asked for, with its values and the client in `config`.
    fn provider(&self, config: &ClientConfig) -> Result<Option<ProviderInput>, Error> {
        let Some(name) = &self.provider else {
            return Ok(None);
        };
        let provider = Provider::parse(name).ok_or_else(|| Error::UnknownProvider {
            name: name.clone(),
            known: Provider::ALL.map(Provider::id).join(", "),
        })?;
        let mut values = std::collections::BTreeMap::new();
        for kv in &self.provider_value {
            let (k, v) = kv.split_once('=').ok_or_else(|| Error::BadArgument {
                problem: format!("--provider-value {kv:?} is not KEY=VALUE"),
            })?;
            values.insert(k.trim().to_string(), v.trim().to_string());
        }
        Ok(Some(ProviderInput {
            provider,
            values,
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            callback_port: config.callback_port,
        }))
    }

    /// The plan for `url`: through the provider preset when one was named.
    async fn plan(
        &self,
        engine: &Latchkey,
        url: &str,
        config: &ClientConfig,
        scopes: &ScopeChoice,
    ) -> Result<SignInPlan, Error> {
        match self.provider(config)? {
            Some(p) => engine.plan_sign_in_with_provider(url, &p, scopes).await,
            None => engine.plan_sign_in(url, config, scopes).await,
        }
    }

    fn config(&self) -> Result<ClientConfig, Error> {
        let client_secret = if self.client_secret_stdin {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| Error::BadArgument {
                    problem: format!("could not read the client secret from standard input ({e})"),
                })?;
            let line = line.trim_end_matches(['\r', '\n']).to_string();
            if line.is_empty() {
                return Err(Error::BadArgument {
                    problem: "--client-secret-stdin was given but standard input was empty".into(),
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
    // Before any thread starts: a tool that runs `latchkey headers` with a bare environment
    // (Codex) still reaches the Secret Service.
    if let Some(bus) = latchkey_core::usecase::session_bus_from_env() {
        std::env::set_var("DBUS_SESSION_BUS_ADDRESS", bus);
    }
    let cli = Cli::parse();
    // The bridge's stdout carries only the MCP protocol: its errors go to stderr as text.
    let json = cli.json && !matches!(cli.command, Command::Bridge { .. });
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
        Ok(()) => ExitCode::from(status::EXIT.load(std::sync::atomic::Ordering::SeqCst)),
        Err(e) => {
            if connect::REPORTED.load(std::sync::atomic::Ordering::SeqCst) {
                // Printed with the outcomes of each tool.
            } else if one_line && !json {
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

impl ScopeArgs {
    fn choice(&self) -> ScopeChoice {
        ScopeChoice {
            exactly: self.scope.clone(),
            add: self.add_scope.clone(),
        }
    }
}

fn browser(no_browser: bool) -> BrowserMode {
    if no_browser {
        BrowserMode::PrintOnly
    } else {
        BrowserMode::Open
    }
}

async fn run(cli: Cli) -> Result<(), Error> {
    let engine = Latchkey::from_env().with_timeout(Duration::from_secs(cli.timeout));
    let json = cli.json;
    match cli.command {
        Command::Discover {
            server,
            scopes,
            client,
        } => {
            let url = engine.resolve_server(&server)?;
            let plan = client
                .plan(&engine, &url, &client.config()?, &scopes.choice())
                .await?;
            output::plan(&plan, json);
            Ok(())
        }
        Command::Login {
            server,
            scopes,
            client,
            no_browser,
            callback_timeout,
            name,
            assume_pkce_s256,
            register_again,
            device,
        } => {
            let url = engine.resolve_server(&server)?;
            let config = client.config()?;
            let mut plan = client
                .plan(&engine, &url, &config, &scopes.choice())
                .await?;
            if assume_pkce_s256 {
                engine.confirm_pkce_s256(&mut plan)?;
            }
            if !json {
                output::plan_summary(&plan);
            }
            // The address the browser ends on may be pasted into standard input when the
            // answer cannot come back by itself (core says when: SignInEvent::Method).
            let (paste, inbox) = latchkey_core::usecase::paste_back_channel();
            let options = SignInOptions {
                client_secret: config.client_secret.clone(),
                name,
                browser: browser(no_browser),
                timeout: Duration::from_secs(callback_timeout.max(1)),
                register_again,
                device: if device {
                    DeviceChoice::Always
                } else {
                    DeviceChoice::Auto
                },
                paste_back: Some(inbox),
            };
            let reader = paste::PasteReader::new(paste, json);
            let progress = move |e: SignInEvent| reader.on_event(&e);
            let bundle = engine.sign_in(&plan, &options, &progress).await?;
            output::signed_in(&bundle, json);
            Ok(())
        }
        Command::AssumedPkce { forget } => {
            let forgotten = match &forget {
                Some(issuer) => Some((issuer.as_str(), engine.forget_pkce_s256(issuer)?)),
                None => None,
            };
            output::assumed_pkce(&engine.pkce_s256_choices(), forgotten, json);
            Ok(())
        }
        Command::Token { server } => {
            let token = engine.access_token(&server, Need::ForUse).await?;
            println!("{}", token.expose());
            Ok(())
        }
        Command::Headers { server } => {
            let server = server
                .or_else(|| env_nonempty("CLAUDE_CODE_MCP_SERVER_URL"))
                .or_else(|| env_nonempty("CLAUDE_CODE_MCP_SERVER_NAME"))
                .ok_or_else(|| Error::BadArgument {
                    problem: "no server was named: give its URL or name, or run this as Claude Code's headersHelper (which names it in $CLAUDE_CODE_MCP_SERVER_URL)".into(),
                })?;
            println!("{}", engine.headers(&server).await?);
            Ok(())
        }
        Command::Servers(args) => servers::run(&args, json),
        Command::Status(args) => {
            status::run(&engine.with_locations(servers::locations(&args)), json).await
        }
        Command::List => {
            let sessions = engine.sessions()?;
            output::list(&sessions, json);
            // A session that cannot be read was printed with the others: still a failure.
            match sessions.into_iter().find_map(Result::err) {
                Some((_, e)) => {
                    connect::REPORTED.store(true, std::sync::atomic::Ordering::SeqCst);
                    Err(e)
                }
                None => Ok(()),
            }
        }
        Command::Logout { server } => {
            let out = engine
                .sign_out(&server)
                .await?
                .ok_or_else(|| Error::NotSignedIn {
                    server: server.clone(),
                })?;
            output::logged_out(&out, json);
            Ok(())
        }
        Command::Connect { server, to, name } => {
            connect::print(engine.connect(&server, &to, name.as_deref())?, true, json)
        }
        Command::Disconnect { server, from } => {
            connect::print(engine.disconnect(&server, &from)?, false, json)
        }
        Command::Add {
            server,
            name,
            to,
            scopes,
            client,
            no_browser,
            callback_timeout,
        } => {
            let url = engine.resolve_server(&server)?;
            let config = client.config()?;
            let plan = client
                .plan(&engine, &url, &config, &scopes.choice())
                .await?;
            if !json {
                output::plan_summary(&plan);
            }
            let (paste, inbox) = latchkey_core::usecase::paste_back_channel();
            let options = SignInOptions {
                client_secret: config.client_secret.clone(),
                name,
                browser: browser(no_browser),
                timeout: Duration::from_secs(callback_timeout.max(1)),
                register_again: false,
                device: DeviceChoice::Auto,
                paste_back: Some(inbox),
            };
            let reader = paste::PasteReader::new(paste, json);
            let progress = move |e: SignInEvent| reader.on_event(&e);
            let added = engine.add(&plan, &options, &to, &progress).await?;
            if json {
                connect::added_json(&added.bundle, &added.connected);
            } else {
                output::signed_in(&added.bundle, false);
                connect::print_text(&added.connected, true);
            }
            connect::first_error(added.connected)
        }
        Command::Remove { server } => {
            let removed = engine.remove(&server).await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "ok": removed.disconnected.iter().all(|o| o.result.is_ok()),
                        "tools": connect::outcomes_json(&removed.disconnected),
                        "signed_out": removed.signed_out.is_some(),
                    }))
                    .unwrap_or_default()
                );
            } else {
                connect::print_text(&removed.disconnected, false);
                match &removed.signed_out {
                    Some(out) => output::logged_out(out, false),
                    None => println!("{server} was not signed in."),
                }
            }
            connect::first_error(removed.disconnected)
        }
        Command::Doctor { server, export } => {
            // A name that names no server (or several) is a failure, not a diagnosis.
            let id = engine.resolve_server(&server)?;
            let d = engine.why(&id).await;
            if let Some(file) = &export {
                // What the file will hold, and where, before it is written.
                if !json {
                    eprintln!(
                        "Writing diagnostics to {}:\n{}",
                        file.display(),
                        latchkey_core::usecase::diagnosis_summary(&d)
                    );
                }
                engine.export_diagnosis(&d, file)?;
                if !json {
                    eprintln!(
                        "Diagnostics written to {} (no tokens or secrets in it).",
                        file.display()
                    );
                }
            }
            doctor::print(&d, json);
            Ok(())
        }
        Command::Handoff(args) => {
            let request = HandOffRequest {
                tool: serde_json::from_value::<Tool>(serde_json::json!(args.tool)).map_err(
                    |_| Error::BadArgument {
                        problem: format!(
                            "{} is not a tool Latchkey can hand a sign-in to",
                            args.tool
                        ),
                    },
                )?,
                claude_mode: if args.mode == "native" {
                    ClaudeMode::Native
                } else {
                    ClaudeMode::Helper
                },
                claude_config_dir: args.claude_config_dir.clone(),
            };
            let done = engine.hand_off(&args.server, &request).await?;
            handoff::print(&args, &done, json);
            Ok(())
        }
        Command::Check {
            server,
            client,
            no_browser,
        } => {
            let url = engine.resolve_server(&server)?;
            let config = client.config()?;
            // A step-up sign-in over SSH is finished by pasting back, as login's is.
            let (paste, inbox) = latchkey_core::usecase::paste_back_channel();
            let options = SignInOptions {
                client_secret: config.client_secret.clone(),
                browser: browser(no_browser),
                paste_back: Some(inbox),
                ..Default::default()
            };
            let reader = paste::PasteReader::new(paste, json);
            let progress = move |e: SignInEvent| reader.on_event(&e);
            let asking = |c: &Challenged| output::step_up(c, "its tools", json);
            let step_up = StepUp {
                client: &config,
                options: &options,
                asking: &asking,
                progress: &progress,
            };
            let (bundle, info, tools) = engine.check(&url, &step_up).await?;
            output::checked(&bundle, &info, &tools, json);
            Ok(())
        }
        Command::Bridge {
            server,
            client,
            no_browser,
            callback_timeout,
        } => {
            let config = client.config()?;
            let options = BridgeOptions {
                sign_in: SignInOptions {
                    client_secret: config.client_secret.clone(),
                    browser: browser(no_browser),
                    timeout: Duration::from_secs(callback_timeout.max(1)),
                    ..Default::default()
                },
                client: config,
                tray: Some(std::sync::Arc::new(tray::sign_in)),
            };
            let stdin = tokio::io::BufReader::new(tokio::io::stdin());
            std::sync::Arc::new(engine)
                .bridge(&server, options, stdin, tokio::io::stdout())
                .await
        }
        Command::Call {
            server,
            tool,
            args,
            client,
            no_browser,
        } => {
            let arguments: serde_json::Value =
                serde_json::from_str(&args).map_err(|e| Error::BadArgument {
                    problem: format!("--args is not valid JSON ({e})"),
                })?;
            let url = engine.resolve_server(&server)?;
            let config = client.config()?;
            let (paste, inbox) = latchkey_core::usecase::paste_back_channel();
            let options = SignInOptions {
                client_secret: config.client_secret.clone(),
                browser: browser(no_browser),
                paste_back: Some(inbox),
                ..Default::default()
            };
            let reader = paste::PasteReader::new(paste, json);
            let progress = move |e: SignInEvent| reader.on_event(&e);
            let asking = |c: &Challenged| output::step_up(c, &tool, json);
            let (result, step_ups) = engine
                .call_tool(
                    &url,
                    &tool,
                    arguments,
                    &StepUp {
                        client: &config,
                        options: &options,
                        asking: &asking,
                        progress: &progress,
                    },
                )
                .await?;
            output::called(&tool, &result, step_ups, json);
            Ok(())
        }
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
