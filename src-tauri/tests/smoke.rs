//! Startup smoke test of the shell on tauri's mock runtime: the app builds through the same
//! `build_app_with` as the real one, with the real window configuration from tauri.conf.json,
//! an in-memory keychain and a temporary home whose Claude Code config names one server that
//! is down. It starts with its window (the tray is another program, `latchkey-tray`); with
//! no tray on D-Bus it monitors on its own, and its first probe reaches the window; commands
//! answer through the IPC; links open views.
//!
//! The event loop runs on the main thread, as a real app's: this test has no libtest harness
//! (see the root Cargo.toml).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use latchkey_app::state::AppState;
use latchkey_app::{build_app_with, run_until_quit, show_main_window, MAIN_WINDOW};
use latchkey_core::store::vault::MemoryStore;
use latchkey_core::tools::Locations;
use std::sync::Arc;
use tauri::test::{mock_builder, MockRuntime};
use tauri::{AppHandle, Manager};

const DOWN: &str = "http://127.0.0.1:9/mcp";

type Check = fn(&AppHandle<MockRuntime>);

fn main() -> ExitCode {
    let home = std::env::temp_dir().join(format!("latchkey-smoke-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    // Start-at-login writes under $HOME/.config/autostart: never the real home. Set before any
    // thread starts.
    std::env::set_var("HOME", &home);
    std::env::set_var("XDG_CONFIG_HOME", home.join(".config"));
    // The browser stand-in: opens nothing, so a sign-in waits until it is cancelled.
    std::env::set_var("BROWSER", "true");
    std::env::set_var("LATCHKEY_STATE_DIR", home.join("state"));
    // No session bus, so no tray (a person's real one must not answer the test): the window
    // watches, probes and renews on its own.
    std::env::set_var(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={}", home.join("no-bus").display()),
    );
    // Nothing listens on port 9 of the loopback address: the server is down.
    std::fs::write(
        home.join(".claude.json"),
        format!(r#"{{"mcpServers": {{"down": {{"type": "http", "url": "{DOWN}"}}}}}}"#),
    )
    .unwrap();
    let state = AppState::new(Arc::new(MemoryStore::default()), Locations::for_home(&home));
    let app = build_app_with(mock_builder(), context(), state, true).expect("the app builds");

    // Setup (the main window) runs when the event loop starts, and windows are only touched
    // on the loop's thread: the checks run on another thread, and tauri sends
    // their calls to the loop, as it does for a real app's commands.
    let handle = app.handle().clone();
    let temp_home = home.clone();
    std::thread::spawn(move || {
        let code = run_checks(&handle);
        let _ = std::fs::remove_dir_all(&temp_home);
        std::process::exit(code)
    });
    run_until_quit(app);
    println!("the event loop ended before the checks did");
    ExitCode::FAILURE
}

fn run_checks(app: &AppHandle<MockRuntime>) -> i32 {
    let started = Instant::now();
    while app.get_webview_window(MAIN_WINDOW).is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            println!("the app did not finish its setup in 30 s");
            return 1;
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    let checks: &[(&str, Check)] = &[
        ("startup opens the window", startup),
        ("the first probe reaches the window", first_probe),
        (
            "a latchkey:// link opens the server's view, a bad one is refused",
            links,
        ),
        ("start at login is a setting in the home folder", settings),
        ("showing the window again makes no duplicate", open_again),
        ("commands answer through the IPC", ipc_commands),
        (
            "the wizard plans, edits scopes, signs in and cancels",
            wizard,
        ),
        (
            "the wizard confirms PKCE where the sign-in server does not list it, and plans with a preset",
            pkce_and_presets,
        ),
        (
            "the capabilities grant the app's commands and events, not the plugins' own",
            capabilities,
        ),
    ];
    let mut failed = 0;
    for (name, check) in checks {
        match catch_unwind(AssertUnwindSafe(|| check(app))) {
            Ok(()) => println!("check {name} ... ok"),
            Err(_) => {
                println!("check {name} ... FAILED");
                failed += 1;
            }
        }
    }
    println!("{} passed, {failed} failed", checks.len() - failed);
    i32::from(failed > 0)
}

/// The app's real context (configuration, window, capabilities) on the mock runtime.
fn context() -> tauri::Context<MockRuntime> {
    latchkey_app::context()
}

fn startup(app: &AppHandle<MockRuntime>) {
    assert_eq!(
        app.webview_windows().len(),
        1,
        "the window process shows its window at once"
    );
}

fn first_probe(app: &AppHandle<MockRuntime>) {
    let started = Instant::now();
    while !matches!(
        app.state::<AppState>().monitor_now(),
        latchkey_app::state::Monitor::Alone
    ) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "without a tray the window must monitor on its own"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    loop {
        let health = invoke(app, "last_health", serde_json::json!({})).expect("last_health");
        if health[0]["health"] == "unreachable" {
            assert_eq!(health[0]["server"], DOWN, "{health}");
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the down server was never probed: {health}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn open_again(app: &AppHandle<MockRuntime>) {
    // Building "main" again would fail with WindowLabelAlreadyExists.
    let window = show_main_window(app).expect("show");
    assert_eq!(window.label(), MAIN_WINDOW);
    assert_eq!(app.webview_windows().len(), 1);
}

fn invoke(
    app: &AppHandle<MockRuntime>,
    cmd: &str,
    args: serde_json::Value,
) -> Result<serde_json::Value, serde_json::Value> {
    let window = app.get_webview_window(MAIN_WINDOW).expect("main window");
    tauri::test::get_ipc_response(
        &window,
        tauri::webview::InvokeRequest {
            cmd: cmd.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: tauri::ipc::InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: tauri::test::INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<serde_json::Value>().unwrap())
}

fn ipc_commands(app: &AppHandle<MockRuntime>) {
    let d = invoke(app, "dashboard", serde_json::json!({})).expect("dashboard");
    assert_eq!(d["servers"][0]["url"], DOWN, "{d}");
    assert_eq!(d["servers"][0]["title"], "down");
    assert_eq!(d["servers"][0]["tools"][0]["tool"], "claude-code");
    let health = invoke(app, "last_health", serde_json::json!({})).expect("last_health");
    assert_eq!(health[0]["health"], "unreachable", "{health}");
    let err = invoke(app, "plan_sign_in", serde_json::json!({"url": "not a url"}))
        .expect_err("a bad address is refused");
    assert_eq!(err["code"], "invalid_url", "{err}");
    assert!(err["hint"].as_str().unwrap().contains("address"), "{err}");
    let err = invoke(
        app,
        "edit_scopes",
        serde_json::json!({"url": DOWN, "edit": {"kind": "reset"}}),
    )
    .expect_err("no plan yet");
    assert_eq!(err["code"], "no_plan", "{err}");
    let none = invoke(app, "take_pending_open", serde_json::json!({})).expect("pending");
    assert!(none.is_null());

    let err = invoke(
        app,
        "hand_off",
        serde_json::json!({"url": DOWN, "tool": "claude-code"}),
    )
    .expect_err("nothing to hand off before signing in");
    assert_eq!(err["code"], "not_signed_in", "{err}");
    let why = invoke(app, "why", serde_json::json!({"url": DOWN})).expect("why");
    assert_eq!(why["server"], DOWN, "{why}");
    // First a preview: where it would go and what it holds; nothing is written.
    let preview = invoke(app, "export_diagnostics", serde_json::json!({"url": DOWN}))
        .expect("export_diagnostics preview");
    assert_eq!(preview["written"], false, "{preview}");
    assert!(
        preview["summary"].as_str().unwrap().contains(DOWN),
        "{preview}"
    );
    let planned = std::path::PathBuf::from(preview["path"].as_str().unwrap());
    assert!(!planned.exists(), "a preview writes nothing: {planned:?}");
    let file = invoke(
        app,
        "export_diagnostics",
        serde_json::json!({"url": DOWN, "save": true}),
    )
    .expect("export_diagnostics");
    assert_eq!(file["written"], true);
    assert_eq!(
        file["text"], preview["text"],
        "what was previewed is written"
    );
    let text = file["text"].as_str().unwrap().to_string();
    let file = std::path::PathBuf::from(file["path"].as_str().unwrap());
    let home = std::path::PathBuf::from(std::env::var_os("HOME").unwrap());
    assert!(
        file.starts_with(&home),
        "written inside the test's home: {file:?}"
    );
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(written["server"], DOWN);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        text,
        "Copy gives what the file holds"
    );
    // Nothing is stored for it: signing out of it again is not a failure.
    invoke(app, "sign_out", serde_json::json!({"url": DOWN})).expect("sign_out");
}

fn links(app: &AppHandle<MockRuntime>) {
    let err = latchkey_app::links::open(app, "https://why?url=http://127.0.0.1:9/mcp")
        .expect_err("not our scheme");
    assert_eq!(err.code(), "invalid_url");
    let none = invoke(app, "take_pending_open", serde_json::json!({})).expect("pending");
    assert!(none.is_null(), "a refused link asks for no view: {none}");
    let action = latchkey_app::links::open(
        app,
        "latchkey://why?url=http%3A%2F%2F127.0.0.1%3A9%2Fmcp%2F",
    )
    .expect("a why link");
    assert_eq!(action.url(), DOWN);
    assert!(
        app.get_webview_window(MAIN_WINDOW).is_some(),
        "the link shows the window"
    );
    // The mock window never loads a page: the view waits for the page to ask for it.
    let open = invoke(app, "take_pending_open", serde_json::json!({})).expect("pending");
    assert_eq!(
        open,
        serde_json::json!({"url": DOWN, "view": "why", "scopes": [], "started_by_link": false})
    );
    // A tool's step-up through the tray: the sign-in starts from the scopes the server asked.
    latchkey_app::links::open(
        app,
        "latchkey://login?url=http%3A%2F%2F127.0.0.1%3A9%2Fmcp&scope=mcp+mcp%3Aadmin",
    )
    .expect("a login link with scopes");
    let open = invoke(app, "take_pending_open", serde_json::json!({})).expect("pending");
    assert_eq!(
        open,
        serde_json::json!({"url": DOWN, "view": "sign_in", "scopes": ["mcp", "mcp:admin"], "started_by_link": true})
    );
    // The same sign-in asked for by the tray itself (after --latchkey-own-link).
    let own = latchkey_core::usecase::LinkAction::own_login(DOWN, vec!["mcp".into()]);
    let mut args = vec!["--window".to_string()];
    args.extend(own.args());
    assert_eq!(latchkey_app::links::open_args(app, &args), 1);
    let open = invoke(app, "take_pending_open", serde_json::json!({})).expect("pending");
    assert_eq!(
        open,
        serde_json::json!({"url": DOWN, "view": "sign_in", "scopes": ["mcp"], "started_by_link": false})
    );
}

fn settings(app: &AppHandle<MockRuntime>) {
    let autostart =
        std::path::PathBuf::from(std::env::var_os("HOME").unwrap()).join(".config/autostart");
    let entries = || {
        std::fs::read_dir(&autostart)
            .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let s = invoke(app, "get_settings", serde_json::json!({})).expect("get_settings");
    assert_eq!(s, serde_json::json!({"start_at_login": false}));
    let s = invoke(
        app,
        "set_start_at_login",
        serde_json::json!({"enabled": true}),
    )
    .expect("enable");
    assert_eq!(s, serde_json::json!({"start_at_login": true}));
    let files = entries();
    assert_eq!(files.len(), 1, "{files:?}");
    let desktop = std::fs::read_to_string(&files[0]).unwrap();
    let exe = std::env::current_exe().unwrap();
    assert!(desktop.contains(&*exe.to_string_lossy()), "{desktop}");
    let s = invoke(
        app,
        "set_start_at_login",
        serde_json::json!({"enabled": false}),
    )
    .expect("disable");
    assert_eq!(s, serde_json::json!({"start_at_login": false}));
    assert!(entries().is_empty());
}

/// A GitLab-like server on the loopback address: the MCP endpoint answers 401 naming its
/// metadata, which asks for `mcp`; the sign-in server lists a catalogue with `sudo` and
/// registers clients.
fn sign_in_server() -> String {
    serve_sign_in(false)
}

/// With `keycloak`, the sign-in server is a Keycloak-like realm (`<origin>/realms/eng`) whose
/// metadata lists no `code_challenge_methods_supported`.
fn serve_sign_in(keycloak: bool) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let origin = base.clone();
    let issuer = if keycloak {
        format!("{base}/realms/eng")
    } else {
        base.clone()
    };
    let as_metadata_path = if keycloak {
        "/.well-known/oauth-authorization-server/realms/eng"
    } else {
        "/.well-known/oauth-authorization-server"
    };
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            let path = request_line.split_whitespace().nth(1).unwrap_or("/");
            let mut as_metadata = serde_json::json!({"issuer": issuer,
                "authorization_endpoint": format!("{origin}/authorize"),
                "token_endpoint": format!("{origin}/token"),
                "registration_endpoint": format!("{origin}/register"),
                "scopes_supported": ["mcp", "read_user", "sudo", "admin_mode"]});
            if !keycloak {
                as_metadata["code_challenge_methods_supported"] = serde_json::json!(["S256"]);
            }
            let (status, headers, json) = match path {
                "/mcp" => (
                    "401 Unauthorized",
                    format!(
                        "www-authenticate: Bearer resource_metadata=\"{origin}/.well-known/oauth-protected-resource/mcp\"\r\n"
                    ),
                    serde_json::json!({"error": "unauthorized"}),
                ),
                "/.well-known/oauth-protected-resource/mcp" => (
                    "200 OK",
                    String::new(),
                    serde_json::json!({"resource": format!("{origin}/mcp"),
                        "authorization_servers": [issuer], "scopes_supported": ["mcp"]}),
                ),
                p if p == as_metadata_path => ("200 OK", String::new(), as_metadata),
                "/register" => {
                    let asked: serde_json::Value =
                        serde_json::from_slice(&body).unwrap_or_default();
                    (
                        "201 Created",
                        String::new(),
                        serde_json::json!({"client_id": "smoke-client",
                            "redirect_uris": asked["redirect_uris"],
                            "token_endpoint_auth_method": "none"}),
                    )
                }
                _ => ("404 Not Found", String::new(), serde_json::json!({})),
            };
            let body = json.to_string();
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("{base}/mcp")
}

fn scope_names(view: &serde_json::Value) -> Vec<String> {
    view["plan"]["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

fn wizard(app: &AppHandle<MockRuntime>) {
    use tauri::Listener;
    let url = sign_in_server();
    let secret = "typed-secret-never-returned";
    let view = invoke(
        app,
        "plan_sign_in",
        serde_json::json!({"url": url, "client": {"client_secret": secret}}),
    )
    .expect("plan_sign_in");
    assert!(!view.to_string().contains(secret), "{view}");
    assert_eq!(scope_names(&view), ["mcp"], "{view}");
    let catalogue = view["plan"]["catalogue"].to_string();
    assert!(catalogue.contains("sudo"), "{catalogue}");
    assert!(!view["discovered"].as_array().unwrap().is_empty(), "{view}");

    let edit = |edit: serde_json::Value| {
        invoke(
            app,
            "edit_scopes",
            serde_json::json!({"url": url, "edit": edit}),
        )
    };
    let added = edit(serde_json::json!({"kind": "add", "name": "sudo"})).expect("add");
    assert_eq!(scope_names(&added), ["mcp", "sudo"]);
    let sudo = &added["plan"]["scopes"][1];
    assert!(sudo["flag"].is_object(), "sudo is flagged: {sudo}");
    let removed = edit(serde_json::json!({"kind": "remove", "name": "mcp"})).expect("remove");
    assert_eq!(scope_names(&removed), ["sudo"]);
    let reset = edit(serde_json::json!({"kind": "reset"})).expect("reset");
    assert_eq!(scope_names(&reset), ["mcp"]);
    let err = edit(serde_json::json!({"kind": "add", "name": "two words"}))
        .expect_err("a scope name with a space");
    assert!(
        err["message"].as_str().is_some() && err["code"].is_string(),
        "{err}"
    );

    // Sign in: the browser stand-in opens nothing, so the sign-in waits; cancel ends it.
    let (tx, rx) = mpsc::channel();
    app.listen(latchkey_app::api::events::SIGN_IN_PROGRESS, move |e| {
        let _ = tx.send(e.payload().to_string());
    });
    let signing = {
        let app = app.clone();
        let url = url.clone();
        std::thread::spawn(move || invoke(&app, "sign_in", serde_json::json!({"url": url})))
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let p: serde_json::Value =
            serde_json::from_str(&rx.recv_timeout(left).expect("sign-in progress")).unwrap();
        assert_eq!(p["url"], url.as_str());
        if p["step"] == "waiting_for_browser" {
            let page = p["sign_in_url"].as_str().unwrap();
            assert!(page.contains("code_challenge_method=S256"), "{page}");
            assert!(page.contains("scope=mcp"), "{page}");
            assert!(page.contains("client_id=smoke-client"), "{page}");
            // How the answer comes back, said before the page and kept on its event.
            assert!(p["method"].is_string(), "{p}");
            assert!(
                p["method_words"].is_string() && p["method_why"].is_string(),
                "{p}"
            );
            break;
        }
    }
    // An address pasted into the waiting sign-in goes through core's rule: this one is not
    // the answer, so the sign-in keeps waiting.
    let pasted = invoke(
        app,
        "paste_sign_in_answer",
        serde_json::json!({"url": url, "address": "http://127.0.0.1:1/callback?code=c0de-123&state=x"}),
    )
    .expect("paste");
    assert_eq!(pasted["kind"], "not_the_answer", "{pasted}");
    assert!(
        pasted["message"]
            .as_str()
            .unwrap()
            .contains("another sign-in")
            && !pasted.to_string().contains("c0de-123"),
        "{pasted}"
    );
    invoke(app, "cancel_sign_in", serde_json::json!({"url": url})).expect("cancel");
    // Nothing waits any more.
    let late = invoke(
        app,
        "paste_sign_in_answer",
        serde_json::json!({"url": url, "address": "x"}),
    )
    .expect("paste after the end");
    assert_eq!(late["kind"], "not_waiting", "{late}");
    let err = signing
        .join()
        .unwrap()
        .expect_err("a cancelled sign-in rejects");
    assert_eq!(err["code"], "cancelled", "{err}");
}

fn pkce_and_presets(app: &AppHandle<MockRuntime>) {
    let url = serve_sign_in(true);
    let origin = url.trim_end_matches("/mcp").to_string();
    let issuer = format!("{origin}/realms/eng");
    let plan = |client: serde_json::Value| {
        invoke(
            app,
            "plan_sign_in",
            serde_json::json!({"url": url, "client": client, "scopes": ["mcp"]}),
        )
        .expect("plan_sign_in")
    };
    let view = plan(serde_json::Value::Null);
    assert_eq!(view["plan"]["issuer"], issuer.as_str(), "{view}");
    assert_eq!(
        view["plan"]["pkce"]["basis"], "needs_confirmation",
        "{view}"
    );
    let err = invoke(app, "sign_in", serde_json::json!({"url": url}))
        .expect_err("no sign-in before the confirmation");
    assert_eq!(err["code"], "pkce_not_advertised", "{err}");

    let confirmed = invoke(app, "confirm_pkce", serde_json::json!({"url": url})).expect("confirm");
    assert_eq!(
        confirmed["plan"]["pkce"]["basis"], "chosen_by_you",
        "{confirmed}"
    );
    let state_dir = std::path::PathBuf::from(std::env::var_os("LATCHKEY_STATE_DIR").unwrap());
    let choices = std::fs::read_to_string(state_dir.join("issuers.json")).expect("remembered");
    assert!(choices.contains(&issuer), "{choices}");
    assert_eq!(
        plan(serde_json::Value::Null)["plan"]["pkce"]["basis"],
        "chosen_by_you",
        "the next plan remembers the choice"
    );
    let forgot = invoke(app, "forget_pkce", serde_json::json!({"issuer": issuer})).expect("forget");
    assert_eq!(forgot, serde_json::json!(true));
    assert_eq!(
        plan(serde_json::Value::Null)["plan"]["pkce"]["basis"],
        "needs_confirmation"
    );

    let presets = invoke(app, "provider_presets", serde_json::json!({})).expect("presets");
    let names: Vec<&str> = presets
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["provider"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["entra", "okta", "auth0", "keycloak", "google"]);
    assert_eq!(presets[0]["fields"][0]["key"], "tenant", "{presets}");
    let uri = invoke(app, "redirect_uri", serde_json::json!({})).expect("redirect_uri");
    assert_eq!(
        uri,
        serde_json::json!({"port": 33418, "uri": "http://127.0.0.1:33418/callback"})
    );
    let uri = invoke(app, "redirect_uri", serde_json::json!({"port": 8765})).expect("8765");
    assert_eq!(uri["uri"], "http://127.0.0.1:8765/callback");

    let with_preset = |client: serde_json::Value| {
        invoke(
            app,
            "plan_sign_in_with_provider",
            serde_json::json!({"url": url, "client": client, "scopes": ["mcp"]}),
        )
    };
    let err = with_preset(serde_json::json!({"provider": "keycloak", "values": {}}))
        .expect_err("values missing");
    assert_eq!(err["code"], "provider_incomplete", "{err}");
    assert!(err["message"].as_str().unwrap().contains("Realm"), "{err}");
    assert!(
        err["hint"]
            .as_str()
            .unwrap()
            .contains("http://127.0.0.1:33418/callback"),
        "{err}"
    );
    let err = with_preset(serde_json::json!({"provider": "keycloak",
        "values": {"url": origin, "realm": "other"}, "client_id": "kc-app"}))
    .expect_err("another realm");
    assert_eq!(err["code"], "provider_mismatch", "{err}");
    let err = with_preset(serde_json::json!({"provider": "nope", "values": {}}))
        .expect_err("no such preset");
    assert_eq!(err["code"], "unknown_provider", "{err}");
    let secret = "typed-keycloak-secret";
    let view = with_preset(serde_json::json!({"provider": "keycloak",
        "values": {"url": origin, "realm": "eng"}, "client_id": "kc-app",
        "client_secret": secret}))
    .expect("the realm's app");
    assert!(!view.to_string().contains(secret), "{view}");
    assert_eq!(view["plan"]["client"]["client_id"], "kc-app", "{view}");
    assert_eq!(view["plan"]["client"]["has_secret"], true, "{view}");
    assert_eq!(view["plan"]["callback_port"], 33418, "{view}");
    assert_eq!(scope_names(&view), ["mcp"]);
}

fn capabilities(app: &AppHandle<MockRuntime>) {
    // The UI listens to the app's events through the core event plugin.
    invoke(
        app,
        "plugin:event|listen",
        serde_json::json!({"event": "health", "target": {"kind": "Any"}, "handler": 7}),
    )
    .expect("the window may listen to events");
    invoke(app, "get_settings", serde_json::json!({})).expect("an app command");
    // The plugins are driven by the shell only: a page cannot turn start-at-login on or
    // register link handlers by itself.
    for cmd in ["plugin:autostart|enable", "plugin:deep-link|register"] {
        let err = invoke(app, cmd, serde_json::json!({})).expect_err(cmd);
        assert!(
            err.to_string().contains("not allowed"),
            "{cmd} must be refused by the ACL: {err}"
        );
    }
}
