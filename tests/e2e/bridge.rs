//! `latchkey bridge SERVER` end to end: the MCP TypeScript SDK's own stdio client
//! (tests/fixtures/bridge-client.mjs) starts the real `latchkey bridge` against the fixture
//! MCP server (the official SDK) and authorization server (oidc-provider); the real Claude
//! Code and Gemini CLIs list a bridged server as connected.

use latchkey_e2e::*;
use serde_json::{json, Value};
use std::process::{Command, Stdio};

/// The tools of the scenarios here: the defaults and one that sends a log message and a
/// progress notification before its result.
fn tools() -> Value {
    json!([
        {"name": "whoami", "scopes": []},
        {"name": "admin_report", "scopes": ["mcp:admin"]},
        {"name": "progress", "scopes": []}
    ])
}

/// Runs the SDK's stdio client against `latchkey bridge url` as `user`, with `steps`
/// (see bridge-client.mjs); returns one JSON value per line it printed.
fn drive(user: &User, url: &str, steps: Value) -> Vec<Value> {
    let client = fixtures_dir().join("bridge-client.mjs");
    let mut c = Command::new("node");
    c.arg(client)
        .arg(steps.to_string())
        .arg(latchkey_bin())
        .args(["bridge", url])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LATCHKEY_KEYCHAIN_SERVICE", &user.service)
        .env("LATCHKEY_STATE_DIR", user.state_dir())
        .env("BROWSER", fixtures_dir().join("browser.mjs"))
        .env("LATCHKEY_TEST_BROWSER_LOG", &user.browser_log)
        .env("LATCHKEY_LOG", "info")
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(t) = &user.tamper {
        c.env("LATCHKEY_TEST_BROWSER_TAMPER", t);
    }
    for (k, v) in user.keychain.env() {
        c.env(k, v);
    }
    let out = c.output().expect("run node");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    assert_eq!(
        lines.last().map(|l| l["op"].clone()),
        Some(json!("close")),
        "the client ran to its end: {text}"
    );
    lines
}

fn step(lines: &[Value], i: usize) -> &Value {
    &lines[i]
}

fn login(user: &User, url: &str) {
    user.run(&["login", url, "--json"]).assert_ok();
}

#[test]
fn the_sdk_client_lists_calls_and_sees_notifications_and_progress() {
    let f = Fixture::start(json!({"mcp": {"sse": true, "tools": tools()}}));
    let user = User::new("bridge-basic");
    let url = f.ready.mcp_url.as_str();
    login(&user, url);

    let lines = drive(
        &user,
        url,
        json!([
            {"op": "list"},
            {"op": "call", "name": "whoami"},
            {"op": "call", "name": "progress", "progress": true}
        ]),
    );
    let connect = step(&lines, 0);
    assert_eq!(connect["ok"], true, "{lines:?}");
    assert_eq!(connect["server"]["name"], "latchkey-fixture-mcp");
    assert_eq!(
        step(&lines, 1)["tools"],
        json!(["whoami", "admin_report", "progress"])
    );
    let whoami: Value =
        serde_json::from_str(step(&lines, 2)["text"].as_str().expect("a text result")).unwrap();
    assert_eq!(whoami["tool"], "whoami");
    assert!(whoami["scopes"].to_string().contains("mcp"), "{whoami}");
    let progress = step(&lines, 3);
    assert_eq!(progress["ok"], true, "{progress}");
    assert_eq!(
        progress["progress"][0]["progress"], 1,
        "the progress notification came through: {progress}"
    );
    assert_eq!(
        progress["messages"][0]["data"], "fixture: working",
        "the log message came through: {progress}"
    );
    // From the SDK client's initialize on (what came before was the sign-in's probe), every
    // request carried the token and the protocol version; the server's own stream was asked
    // for (this stateless server has none: 405).
    let log = f.log();
    let mcp = log["mcp"].as_array().unwrap();
    let start = mcp
        .iter()
        .position(|e| e["offered"] == "2025-11-25")
        .expect("the SDK's initialize");
    let bridged = &mcp[start..];
    assert!(
        bridged
            .iter()
            .all(|e| e["auth"] == "ok" && e["protocol_version"] == "2025-11-25"),
        "{bridged:?}"
    );
    assert!(bridged.iter().any(|e| e["method"] == "GET"), "{bridged:?}");
}

#[test]
fn tokens_that_expire_or_are_refused_mid_session_are_renewed_unseen() {
    let f = Fixture::start(json!({"as": {"access_token_ttl": 3}, "mcp": {"tools": tools()}}));
    let user = User::new("bridge-renew");
    let url = f.ready.mcp_url.as_str();
    login(&user, url);
    let forget = format!("{}/__forget_access_tokens", f.ready.as_origin);

    let lines = drive(
        &user,
        url,
        json!([
            {"op": "call", "name": "whoami"},
            {"op": "sleep", "ms": 3500},
            {"op": "call", "name": "whoami"},
            {"op": "post", "url": forget},
            {"op": "call", "name": "whoami"}
        ]),
    );
    for i in [1, 3, 5] {
        assert_eq!(step(&lines, i)["ok"], true, "step {i}: {lines:?}");
    }
    let log = f.log();
    assert!(
        log["refresh_count"].as_u64().unwrap() >= 2,
        "renewed once when it expired and once when refused: {log}"
    );
}

#[test]
fn a_revoked_registration_answers_the_tool_with_the_reason_and_the_fix() {
    let f = Fixture::start(json!({"mcp": {"tools": tools()}}));
    let mut user = User::new("bridge-revoked");
    let url = f.ready.mcp_url.as_str();
    login(&user, url);
    // The sign-in server forgets Latchkey's app, the server its tokens: renewing fails, and
    // the person declines the new sign-in.
    f.forget_clients();
    f.forget_access_tokens();
    user.tamper = Some("deny".into());

    let lines = drive(&user, url, json!([{"op": "list"}]));
    let connect = step(&lines, 0);
    assert_eq!(connect["ok"], false, "{lines:?}");
    let message = connect["message"].as_str().unwrap();
    assert!(
        message.contains("sign") && message.contains("Sign in"),
        "the reason and the fix in words: {message}"
    );
    assert!(!message.contains("Bearer"), "{message}");
}

#[test]
fn a_revoked_grant_answers_the_tool_with_the_reason() {
    let f = Fixture::start(json!({"as": {"access_token_ttl": 2}, "mcp": {"tools": tools()}}));
    let mut user = User::new("bridge-grant");
    let url = f.ready.mcp_url.as_str();
    login(&user, url);
    // A copy of the session, then a renewal (the refresh token rotates), then the copy back:
    // its refresh token was used already, and the sign-in server revokes the whole grant
    // when it comes again. The person then declines the new sign-in.
    let before = user.stored_bundle(url).expect("a stored session");
    std::thread::sleep(std::time::Duration::from_millis(2500));
    user.run(&["token", url]).assert_ok();
    user.put_bundle(url, &before);
    user.tamper = Some("deny".into());

    let lines = drive(&user, url, json!([{"op": "list"}]));
    let connect = step(&lines, 0);
    assert_eq!(connect["ok"], false, "{lines:?}");
    let message = connect["message"].as_str().unwrap();
    assert!(
        message.contains("invalid_grant") && message.contains("Sign in again."),
        "why (the grant was revoked) and the fix: {message}"
    );
    let log = f.log();
    assert!(
        log["token"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["error"] == "invalid_grant"),
        "the sign-in server refused the reused refresh token: {log}"
    );
}

#[test]
fn not_signed_in_then_a_wider_scope_sign_in_through_the_browser() {
    let f = Fixture::start(json!({"mcp": {"tools": tools()}}));
    let user = User::new("bridge-stepup");
    let url = f.ready.mcp_url.as_str();

    let lines = drive(
        &user,
        url,
        json!([
            {"op": "list"},
            {"op": "call", "name": "admin_report"}
        ]),
    );
    assert_eq!(step(&lines, 0)["ok"], true, "signed in first: {lines:?}");
    assert_eq!(step(&lines, 1)["ok"], true, "{lines:?}");
    let report = step(&lines, 2);
    assert_eq!(report["ok"], true, "{report}");
    let who: Value = serde_json::from_str(report["text"].as_str().unwrap()).unwrap();
    assert!(
        who["scopes"].to_string().contains("mcp:admin"),
        "the wider sign-in granted it: {who}"
    );
    assert_eq!(user.authorize_urls().len(), 2, "two sign-ins, no more");
    let scope = param(&query_params(&user.authorize_urls()[1]), "scope")
        .unwrap()
        .to_string();
    assert!(
        scope.split(' ').any(|s| s == "mcp") && scope.split(' ').any(|s| s == "mcp:admin"),
        "{scope}"
    );
}

#[test]
fn a_server_that_is_down_is_a_json_rpc_error_in_words() {
    let user = User::new("bridge-down");
    let url = format!("http://127.0.0.1:{}/mcp", free_port());
    let lines = drive(&user, &url, json!([]));
    let connect = step(&lines, 0);
    assert_eq!(connect["ok"], false, "{lines:?}");
    let message = connect["message"].as_str().unwrap();
    assert!(
        message.contains("127.0.0.1") && message.to_lowercase().contains("try again"),
        "{message}"
    );
}

/// The stdio entry that runs `latchkey bridge url` as `user` (its keychain and state folder).
fn stdio_entry(user: &User, url: &str) -> Value {
    let mut env = serde_json::Map::new();
    env.insert("LATCHKEY_KEYCHAIN_SERVICE".into(), json!(user.service));
    env.insert(
        "LATCHKEY_STATE_DIR".into(),
        json!(user.state_dir().display().to_string()),
    );
    for (k, v) in user.keychain.env() {
        env.insert(k, json!(v));
    }
    json!({
        "type": "stdio",
        "command": latchkey_bin().display().to_string(),
        "args": ["bridge", url],
        "env": env
    })
}

#[test]
fn claude_code_and_gemini_cli_list_a_bridged_server_as_connected() {
    let f = Fixture::start(json!({}));
    let user = User::new("bridge-tools");
    let url = f.ready.mcp_url.as_str();
    login(&user, url);
    let home = TempDir::new("bridge-tools-home");
    let entry = stdio_entry(&user, url);

    std::fs::write(
        home.path().join(".claude.json"),
        serde_json::to_string_pretty(&json!({"mcpServers": {"bridged": entry}})).unwrap(),
    )
    .unwrap();
    let list = claude_mcp_list(home.path(), &user);
    assert!(
        claude_status(&list, "bridged").contains("Connected"),
        "{list}"
    );

    std::fs::create_dir_all(home.path().join(".gemini")).unwrap();
    let mut gemini_entry = entry.clone();
    gemini_entry.as_object_mut().unwrap().remove("type");
    std::fs::write(
        home.path().join(".gemini/settings.json"),
        serde_json::to_string_pretty(&json!({"mcpServers": {"bridged": gemini_entry}})).unwrap(),
    )
    .unwrap();
    let list = gemini_mcp_list(home.path(), home.path());
    let line = list
        .lines()
        .find(|l| l.contains("bridged:"))
        .unwrap_or_default();
    assert!(
        line.contains("(stdio)") && line.ends_with("- Connected"),
        "{list}"
    );
    let mcp = f.log()["mcp"].as_array().unwrap().clone();
    assert!(
        mcp.iter().any(|e| e["auth"] == "ok"),
        "the requests went through the bridge with the token: {mcp:?}"
    );
}
