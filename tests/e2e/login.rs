//! The sign-in engine end to end: the `latchkey` binary against oidc-provider and an MCP SDK
//! server, with a browser stand-in and a private Secret Service. One test per scenario of
//! issue 2.

use latchkey_e2e::*;
use serde_json::{json, Value};

fn login_ok(user: &User, url: &str, extra: &[&str]) -> Value {
    let mut args = vec!["login", url, "--json"];
    args.extend_from_slice(extra);
    let r = user.run(&args);
    r.assert_ok();
    r.json()
}

fn check_ok(user: &User, url: &str) -> Value {
    let r = user.run(&["check", url, "--json"]);
    r.assert_ok();
    r.json()
}

fn tool_names(check: &Value) -> Vec<String> {
    check["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

fn last_authorize(user: &User) -> Vec<(String, String)> {
    let urls = user.authorize_urls();
    query_params(urls.last().expect("the browser was opened"))
}

fn error_code(r: &Run) -> String {
    assert_ne!(r.code, 0, "expected a failure, got: {}", r.stdout);
    r.json()["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn gitlab_like_server_gets_exactly_mcp_and_lists_its_tools() {
    let f = Fixture::start(json!({}));
    let user = User::new("gitlab");
    let url = &f.ready.mcp_url;

    // The preview names the catalogue but asks only for what the server needs.
    let d = user.run(&["discover", url]);
    d.assert_ok();
    assert!(d.stdout.contains("Scopes to ask for"), "{}", d.stdout);
    assert!(
        d.stdout.contains("! sudo:")
            && d.stdout.contains("! admin_mode:")
            && d.stdout.contains("! user:*:"),
        "{}",
        d.stdout
    );
    let plan = user.run(&["discover", url, "--json"]).json()["plan"].clone();
    assert_eq!(plan["scopes"].as_array().unwrap().len(), 1);
    assert_eq!(plan["scopes"][0]["name"], "mcp");
    assert_eq!(plan["scopes"][0]["source"], "resource_metadata");
    assert_eq!(plan["catalogue"].as_array().unwrap().len(), 23);

    let out = login_ok(&user, url, &[]);
    assert_eq!(out["signed_in"]["granted_scopes"], json!(["mcp"]));
    let p = last_authorize(&user);
    assert_eq!(param(&p, "scope"), Some("mcp"));
    assert_eq!(param(&p, "code_challenge_method"), Some("S256"));
    assert_eq!(param(&p, "code_challenge").map(str::len), Some(43));
    assert_eq!(param(&p, "resource"), Some(url.as_str()));
    assert!(param(&p, "redirect_uri")
        .unwrap()
        .starts_with("http://127.0.0.1:"));

    let log = f.log();
    let reg = &log["register"][0];
    assert_eq!(reg["scope"], "mcp");
    assert_eq!(reg["application_type"], "native");
    assert_eq!(
        reg["redirect_uris"],
        json!([param(&p, "redirect_uri").unwrap()])
    );
    let tok = &log["token"][0];
    assert_eq!(tok["grant_type"], "authorization_code");
    assert_eq!(tok["resource"], url.as_str());
    assert_eq!(tok["code_verifier_present"], true);

    let check = check_ok(&user, url);
    assert!(
        tool_names(&check).contains(&"whoami".to_string()),
        "{check}"
    );

    // Signing in again reuses the registered client instead of registering another.
    login_ok(&user, url, &[]);
    assert_eq!(f.log()["register"].as_array().unwrap().len(), 1);
    let again = last_authorize(&user);
    assert_eq!(param(&again, "client_id"), param(&p, "client_id"));
    assert_eq!(param(&again, "redirect_uri"), param(&p, "redirect_uri"));

    // As a person reads it.
    let text = user.run(&["check", url]);
    text.assert_ok();
    assert!(
        text.stdout.contains("Connected to") && text.stdout.contains("whoami"),
        "{}",
        text.stdout
    );
}

#[test]
fn challenge_scope_is_requested_exactly_also_at_registration() {
    let f = Fixture::start(json!({
        "mcp": {"challenge": {"scope": "mcp:read mcp:write"}, "required_scopes": ["mcp:read"]}
    }));
    let user = User::new("challenge");
    login_ok(&user, &f.ready.mcp_url, &[]);
    assert_eq!(
        param(&last_authorize(&user), "scope"),
        Some("mcp:read mcp:write")
    );
    assert_eq!(f.log()["register"][0]["scope"], "mcp:read mcp:write");
    check_ok(&user, &f.ready.mcp_url);
}

#[test]
fn no_scope_anywhere_sends_none_and_the_default_applies() {
    let f = Fixture::start(json!({"mcp": {"prm": {"scopes_supported": null}}}));
    let user = User::new("noscope");
    let out = login_ok(&user, &f.ready.mcp_url, &[]);
    let p = last_authorize(&user);
    assert_eq!(param(&p, "scope"), None, "{p:?}");
    let log = f.log();
    assert!(
        log["register"][0].get("scope").is_none(),
        "{}",
        log["register"][0]
    );
    assert_eq!(log["authorize"][0]["scope"], Value::Null);
    // The AS granted its default, so the server accepts the token.
    assert_eq!(out["signed_in"]["granted_scopes"], json!(["mcp"]));
    check_ok(&user, &f.ready.mcp_url);
}

#[test]
fn resource_metadata_from_the_challenge_when_well_known_is_absent() {
    let f = Fixture::start(json!({
        "mcp": {"prm": {"serve": ["custom"], "custom_path": "/meta/prm.json"}}
    }));
    let user = User::new("rmonly");
    let plan = user.run(&["discover", &f.ready.mcp_url, "--json"]).json()["plan"].clone();
    assert_eq!(plan["discovery"]["prm_source"], "challenge", "{plan}");
    assert!(plan["discovery"]["prm_url"]
        .as_str()
        .unwrap()
        .ends_with("/meta/prm.json"));
    login_ok(&user, &f.ready.mcp_url, &[]);
    check_ok(&user, &f.ready.mcp_url);
}

#[test]
fn path_aware_metadata_and_an_issuer_with_a_tenant_path() {
    let f = Fixture::start(json!({
        "as": {"issuer_path": "/tenant-a", "discovery": ["oauth"]},
        "mcp": {"prm": {"serve": ["path"]}, "challenge": {"resource_metadata": false}}
    }));
    let user = User::new("paths");
    let plan = user.run(&["discover", &f.ready.mcp_url, "--json"]).json()["plan"].clone();
    assert_eq!(plan["discovery"]["prm_source"], "path_well_known");
    assert_eq!(
        plan["discovery"]["as_metadata_url"],
        format!(
            "{}/.well-known/oauth-authorization-server/tenant-a",
            f.ready.as_origin
        )
    );
    assert_eq!(plan["issuer"], f.ready.issuer.as_str());
    login_ok(&user, &f.ready.mcp_url, &[]);
    check_ok(&user, &f.ready.mcp_url);
}

#[test]
fn an_as_with_only_openid_discovery() {
    let f = Fixture::start(json!({"as": {"issuer_path": "/tenant-b", "discovery": ["openid"]}}));
    let user = User::new("openid");
    let plan = user.run(&["discover", &f.ready.mcp_url, "--json"]).json()["plan"].clone();
    assert_eq!(
        plan["discovery"]["as_metadata_url"],
        format!("{}/.well-known/openid-configuration", f.ready.issuer)
    );
    login_ok(&user, &f.ready.mcp_url, &[]);
    check_ok(&user, &f.ready.mcp_url);
}

#[test]
fn legacy_server_without_resource_metadata() {
    let f = Fixture::start(json!({"legacy": true}));
    let user = User::new("legacy");
    let plan = user.run(&["discover", &f.ready.mcp_url, "--json"]).json()["plan"].clone();
    assert_eq!(plan["discovery"]["as_source"], "legacy_origin");
    assert_eq!(plan["issuer"], f.ready.mcp_origin.as_str());
    login_ok(&user, &f.ready.mcp_url, &[]);
    check_ok(&user, &f.ready.mcp_url);
}

#[test]
fn legacy_server_without_any_metadata_uses_default_endpoints() {
    let f = Fixture::start(json!({"legacy_no_metadata": true}));
    let user = User::new("legacy-bare");
    let plan = user.run(&["discover", &f.ready.mcp_url, "--json"]).json()["plan"].clone();
    assert_eq!(plan["discovery"]["as_metadata_url"], Value::Null);
    assert_eq!(
        plan["endpoints"]["authorization"],
        format!("{}/authorize", f.ready.mcp_origin)
    );
    assert_eq!(
        plan["endpoints"]["registration"],
        format!("{}/register", f.ready.mcp_origin)
    );
    login_ok(&user, &f.ready.mcp_url, &[]);
    check_ok(&user, &f.ready.mcp_url);
}

#[test]
fn no_dynamic_registration_needs_a_pre_registered_client() {
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let f = Fixture::start(json!({"as": {
        "registration": false,
        "static_clients": [
            {"client_id": "latchkey-public", "redirect_uris": [redirect], "token_endpoint_auth_method": "none"},
            {"client_id": "latchkey-confidential", "client_secret": "s3cret-value-for-test", "redirect_uris": [redirect], "token_endpoint_auth_method": "client_secret_basic"}
        ]
    }}));
    let user = User::new("prereg");
    let url = f.ready.mcp_url.as_str();

    let r = user.run(&["login", url, "--json"]);
    assert_eq!(error_code(&r), "no_client_registration");
    let hint = r.json()["error"]["hint"].as_str().unwrap().to_string();
    assert!(
        hint.contains("redirect URI") && hint.contains("mcp") && hint.contains("--client-id"),
        "{hint}"
    );
    let text = user.run(&["login", url]);
    assert!(
        text.stderr
            .contains("does not let apps register themselves"),
        "{}",
        text.stderr
    );

    let port_s = port.to_string();
    login_ok(
        &user,
        url,
        &["--client-id", "latchkey-public", "--callback-port", &port_s],
    );
    assert_eq!(
        param(&last_authorize(&user), "client_id"),
        Some("latchkey-public")
    );
    assert_eq!(
        param(&last_authorize(&user), "redirect_uri"),
        Some(redirect.as_str())
    );
    check_ok(&user, url);

    // A confidential client, its secret read from standard input, sent with HTTP Basic.
    let out = user
        .command(&[
            "login",
            url,
            "--json",
            "--client-id",
            "latchkey-confidential",
            "--client-secret-stdin",
            "--callback-port",
            &port_s,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(b"s3cret-value-for-test\n")?;
            c.wait_with_output()
        })
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(!stdout.contains("s3cret") && !stderr.contains("s3cret"));
    let log = f.log();
    let last_token = log["token"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last_token["client_auth"], "client_secret_basic",
        "{last_token}"
    );
    check_ok(&user, url);
}

#[test]
fn refuses_an_as_without_s256() {
    let f = Fixture::start(json!({"as": {"pkce_methods": ["plain"]}}));
    let user = User::new("nos256");
    let r = user.run(&["discover", &f.ready.mcp_url, "--json"]);
    assert_eq!(error_code(&r), "pkce_unsupported");
    let text = user.run(&["login", &f.ready.mcp_url]);
    assert!(
        text.stderr
            .contains("does not support PKCE with S256 (it lists: plain)"),
        "{}",
        text.stderr
    );
    assert!(f.log()["authorize"].as_array().unwrap().is_empty());
}

#[test]
fn refuses_metadata_with_a_mismatched_issuer() {
    let f = Fixture::start(json!({"as": {"issuer_override": "http://127.0.0.1:9/not-the-issuer"}}));
    let user = User::new("issmeta");
    let r = user.run(&["login", &f.ready.mcp_url, "--json"]);
    assert_eq!(error_code(&r), "issuer_mismatch");
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not-the-issuer"));
    assert!(user.authorize_urls().is_empty());
}

#[test]
fn refuses_resource_metadata_for_another_resource() {
    let f = Fixture::start(
        json!({"mcp": {"prm": {"resource_override": "http://127.0.0.1:9/elsewhere"}}}),
    );
    let user = User::new("resmismatch");
    let r = user.run(&["login", &f.ready.mcp_url, "--json"]);
    assert_eq!(error_code(&r), "resource_mismatch");
    assert!(user.authorize_urls().is_empty());
}

/// Signs in with the browser stand-in tampering with the callback.
fn tampered_login(tamper: &str) -> (Fixture, User, Run) {
    let f = Fixture::start(json!({}));
    let mut user = User::new(tamper);
    user.tamper = Some(tamper.into());
    let r = user.run(&[
        "login",
        &f.ready.mcp_url,
        "--json",
        "--callback-timeout",
        "30",
    ]);
    (f, user, r)
}

#[test]
fn refuses_a_callback_with_the_wrong_state_and_stores_nothing() {
    let (f, user, r) = tampered_login("state");
    assert_eq!(error_code(&r), "state_mismatch");
    let c = user.run(&["check", &f.ready.mcp_url, "--json"]);
    assert_eq!(c.code, 3, "not signed in: {}", c.stdout);
    assert_eq!(error_code(&c), "not_signed_in");
    assert!(
        f.log()["token"].as_array().unwrap().is_empty(),
        "no code was exchanged"
    );
}

#[test]
fn refuses_a_callback_from_another_issuer() {
    let (f, _user, r) = tampered_login("iss");
    assert_eq!(error_code(&r), "iss_mismatch");
    assert!(f.log()["token"].as_array().unwrap().is_empty());
}

#[test]
fn refuses_a_plain_http_as_on_another_machine() {
    let f = Fixture::start(
        json!({"mcp": {"prm": {"authorization_servers": ["http://as.example.test"]}}}),
    );
    let user = User::new("plainhttp");
    let r = user.run(&["login", &f.ready.mcp_url, "--json"]);
    assert_eq!(error_code(&r), "insecure_endpoint");
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("http://as.example.test"));
}

#[test]
fn a_refused_scope_comes_back_typed_with_the_as_description() {
    let f = Fixture::start(json!({}));
    let user = User::new("invalidscope");
    let r = user.run(&[
        "login",
        &f.ready.mcp_url,
        "--json",
        "--add-scope",
        "sudo",
        "--callback-timeout",
        "30",
    ]);
    assert_eq!(error_code(&r), "oauth_error");
    let e = &r.json()["error"];
    assert_eq!(e["oauth"]["code"], "invalid_scope");
    assert_eq!(e["oauth"]["stage"], "authorization");
    assert!(
        e["oauth"]["description"].as_str().unwrap().contains("sudo"),
        "{e}"
    );
    assert!(e["hint"].as_str().unwrap().contains("recommended"));
}

#[test]
fn step_up_signs_in_again_with_the_union_of_scopes() {
    let f = Fixture::start(json!({}));
    let user = User::new("stepup");
    let url = f.ready.mcp_url.as_str();
    login_ok(&user, url, &[]);
    let r = user.run(&["call", url, "admin_report", "--json"]);
    r.assert_ok();
    let out = r.json();
    assert_eq!(out["sign_ins"], 1, "{out}");
    let urls = user.authorize_urls();
    assert_eq!(urls.len(), 2);
    assert_eq!(
        param(&query_params(&urls[1]), "scope"),
        Some("mcp mcp:admin")
    );

    // A server that keeps refusing: one more sign-in with the union, then a clear error
    // rather than asking again for the same scopes.
    let r = user.run(&["call", url, "always_forbidden", "--json"]);
    assert_eq!(error_code(&r), "insufficient_scope");
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("after 1 sign-in(s), asking for scopes: mcp mcp:admin never:granted"));
    assert_eq!(user.authorize_urls().len(), 3);
    assert_eq!(
        param(&query_params(&user.authorize_urls()[2]), "scope"),
        Some("mcp mcp:admin never:granted")
    );
    // A client is registered anew only when the scopes grow: mcp, +mcp:admin, +never:granted.
    assert_eq!(f.log()["register"].as_array().unwrap().len(), 3);
}

/// Serves one JSON document, made from its own URL, on a loopback port while the test runs.
fn serve_json(make: impl FnOnce(&str) -> Value) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/latchkey/client.json",
        listener.local_addr().unwrap().port()
    );
    let body = make(&url).to_string();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            use std::io::{Read, Write};
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn a_client_id_metadata_document_where_the_as_supports_it() {
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let doc_url = serve_json(|url| {
        json!({
            "client_id": url, "client_name": "Latchkey (test)", "redirect_uris": [redirect],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"]
        })
    });
    let f =
        Fixture::start(json!({"as": {"client_id_metadata_document": true, "registration": false}}));
    let user = User::new("cimd");
    let url = f.ready.mcp_url.as_str();
    let plan = user
        .run(&["discover", url, "--json", "--client-metadata-url", &doc_url])
        .json()["plan"]
        .clone();
    assert_eq!(
        plan["client"],
        json!({"method": "metadata_document", "client_id": doc_url})
    );
    let port_s = port.to_string();
    login_ok(
        &user,
        url,
        &[
            "--client-metadata-url",
            &doc_url,
            "--callback-port",
            &port_s,
        ],
    );
    assert_eq!(
        param(&last_authorize(&user), "client_id"),
        Some(doc_url.as_str())
    );
    let log = f.log();
    assert!(log["register"].as_array().unwrap().is_empty());
    assert_eq!(log["cimd_fetches"][0]["url"], doc_url.as_str());
    check_ok(&user, url);
}

#[test]
fn no_secret_reaches_the_output() {
    let f = Fixture::start(json!({}));
    let user = User::new("secrets");
    let url = f.ready.mcp_url.as_str();
    let mut outputs = Vec::new();
    for args in [
        vec!["login", url],
        vec!["login", url, "--json"],
        vec!["check", url],
        vec!["check", url, "--json"],
        vec!["call", url, "whoami", "--json"],
    ] {
        let r = user.run(&args);
        r.assert_ok();
        outputs.push(format!("{}{}", r.stdout, r.stderr));
    }
    let stored = std::process::Command::new("secret-tool")
        .args(["lookup", "service", &user.service, "username", url])
        .envs(user.keychain.env())
        .output()
        .unwrap();
    let bundle: Value =
        serde_json::from_slice(&stored.stdout).expect("the bundle is in the keychain");
    let access = bundle["tokens"]["access_token"].as_str().unwrap();
    let refresh = bundle["tokens"]["refresh_token"].as_str().unwrap();
    assert!(access.len() > 20 && refresh.len() > 20);
    for out in &outputs {
        assert!(
            !out.contains(access) && !out.contains(refresh),
            "a token was printed:\n{out}"
        );
    }
}

/// What the MCP server received, one row per request: (first JSON-RPC method or tool, how
/// it was authenticated, HTTP status, `MCP-Protocol-Version` header, initialize's offer).
fn mcp_log(f: &Fixture) -> Vec<(String, String, u64, String, String)> {
    let text = |v: &Value| v.as_str().unwrap_or("-").to_string();
    f.log()["mcp"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                match e["rpc"][0].as_str() {
                    Some(rpc) => rpc.to_string(),
                    None => text(&e["method"]),
                },
                text(&e["auth"]),
                e["status"].as_u64().unwrap_or(0),
                text(&e["protocol_version"]),
                text(&e["offered"]),
            )
        })
        .collect()
}

fn row(
    rpc: &str,
    auth: &str,
    status: u64,
    header: &str,
    offered: &str,
) -> (String, String, u64, String, String) {
    (
        rpc.into(),
        auth.into(),
        status,
        header.into(),
        offered.into(),
    )
}

/// `check` lists whoami and `call whoami` works with the stored session, no sign-in: the
/// check's JSON and what the tool said.
fn check_and_call_whoami(user: &User, url: &str) -> (Value, Value) {
    let check = check_ok(user, url);
    assert!(
        tool_names(&check).contains(&"whoami".to_string()),
        "{check}"
    );
    let r = user.run(&["call", url, "whoami", "--json"]);
    r.assert_ok();
    assert_eq!(r.json()["sign_ins"], 0);
    let said = r.json()["result"]["content"][0]["text"]
        .as_str()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    (check, said)
}

/// Field case R2 (Google's hosted MCP servers, MCP conformance step-up): initialize and
/// tools/list answer without a token, tools/call asks for one. `login` finds the protected
/// resource metadata after the 200 probe and signs in; `check` and `call` then work.
#[test]
fn a_server_asking_for_a_token_only_on_tools_call_signs_in_through_login() {
    let f = Fixture::start(json!({"mcp": {"auth_on": "tools_call"}}));
    let user = User::new("toolscall-login");
    let url = f.ready.mcp_url.as_str();

    let plan = user.run(&["discover", url, "--json"]).json()["plan"].clone();
    assert_eq!(plan["scopes"][0]["name"], "mcp", "{plan}");
    let out = login_ok(&user, url, &[]);
    assert_eq!(out["signed_in"]["granted_scopes"], json!(["mcp"]));
    let p = last_authorize(&user);
    assert_eq!(param(&p, "scope"), Some("mcp"));
    assert_eq!(param(&p, "resource"), Some(url));
    assert_eq!(param(&p, "code_challenge_method"), Some("S256"));
    let log = f.log();
    assert_eq!(log["token"][0]["resource"], url);
    // The probe answered 200; the metadata came from the path-inserted well-known address.
    assert_eq!(
        log["well_known"][0],
        json!({"origin": "mcp", "path": "/.well-known/oauth-protected-resource/mcp", "status": 200})
    );
    assert_eq!(
        mcp_log(&f)[0],
        row("initialize", "anonymous", 200, "-", "2026-07-28")
    );

    let (_, said) = check_and_call_whoami(&user, url);
    assert_eq!(said["tool"], "whoami");
    assert_eq!(said["scopes"], json!(["mcp"]));
    // Every request of the session carried the token and the protocol version: on
    // initialize the offered one, then the one the server picked.
    let rows = mcp_log(&f);
    assert_eq!(
        rows[rows.len() - 3..],
        [
            row("initialize", "ok", 200, "2026-07-28", "2026-07-28"),
            row("notifications/initialized", "ok", 202, "2025-11-25", "-"),
            row("tools/call:whoami", "ok", 200, "2025-11-25", "-"),
        ]
    );
}

/// The same kind of server, naming a per-tool protected resource metadata document in the
/// tools/call challenge and publishing none at the well-known addresses: `call` without any
/// stored session meets the 401, follows the named document, signs in and calls again.
#[test]
fn a_server_asking_for_a_token_only_on_tools_call_signs_in_through_call() {
    let tool_prm = "/.well-known/oauth-protected-resource/mcp/tools/whoami";
    let f = Fixture::start(json!({"mcp": {
        "auth_on": "tools_call",
        "prm": {"serve": []},
        "tool_metadata_paths": {"whoami": tool_prm},
    }}));
    let user = User::new("toolscall-call");
    let url = f.ready.mcp_url.as_str();

    let r = user.run(&["call", url, "whoami"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("The server asks for sign-in to use whoami; signing in asking for: the scopes the server recommends"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("Signed in 1 time(s) for this call"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains(r#""tool":"whoami""#), "{}", r.stdout);

    let p = last_authorize(&user);
    assert_eq!(param(&p, "scope"), Some("mcp"));
    assert_eq!(param(&p, "resource"), Some(url));
    let log = f.log();
    assert_eq!(log["token"][0]["resource"], url);
    // The document the challenge named was read first, before any well-known address.
    let well_known: Vec<(String, u64)> = log["well_known"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["origin"] == "mcp")
        .map(|w| {
            (
                w["path"].as_str().unwrap().to_string(),
                w["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(well_known, [(tool_prm.to_string(), 200)]);
    let rows = mcp_log(&f);
    assert_eq!(
        rows[..4],
        [
            row("initialize", "anonymous", 200, "2026-07-28", "2026-07-28"),
            row(
                "notifications/initialized",
                "anonymous",
                202,
                "2025-11-25",
                "-"
            ),
            row("tools/call:whoami", "none", 401, "2025-11-25", "-"),
            // Discovery's probe.
            row("initialize", "anonymous", 200, "-", "2026-07-28"),
        ]
    );
    assert_eq!(
        rows.last().unwrap(),
        &row("tools/call:whoami", "ok", 200, "2025-11-25", "-")
    );
    // Stored: the next call needs no sign-in.
    let again = user.run(&["call", url, "whoami", "--json"]);
    again.assert_ok();
    assert_eq!(again.json()["sign_ins"], 0);
}

/// A token the server no longer accepts (401 invalid_token on tools/call), and a refresh
/// token the AS no longer accepts either: the renewal tried first fails, so the person signs
/// in again with the scopes granted before, then the call is made once more. (A token that
/// renews is tests/e2e/tokens.rs's `a_token_the_server_refuses_is_renewed_before_any_new_sign_in`.)
#[test]
fn a_rejected_token_on_tools_call_signs_in_again_with_the_granted_scopes() {
    let f = Fixture::start(json!({"mcp": {"auth_on": "tools_call"}}));
    let user = User::new("toolscall-401");
    let url = f.ready.mcp_url.as_str();
    login_ok(&user, url, &[]);
    let mut stale = user.stored_bundle(url).expect("a session");
    stale["tokens"]["access_token"] = json!("a-token-the-server-never-issued");
    stale["tokens"]["refresh_token"] = json!("a-refresh-token-the-as-never-issued");
    user.put_bundle(url, &stale);

    let r = user.run(&["call", url, "whoami", "--json"]);
    r.assert_ok();
    assert_eq!(r.json()["sign_ins"], 1);
    assert_eq!(param(&last_authorize(&user), "scope"), Some("mcp"));
    assert_eq!(user.authorize_urls().len(), 2);
    let refreshes: Vec<Value> = f.log()["token"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["grant_type"] == "refresh_token")
        .map(|t| t["error"].clone())
        .collect();
    assert_eq!(refreshes, [json!("invalid_grant")], "one renewal, refused");
    let rows = mcp_log(&f);
    assert!(
        rows.contains(&row(
            "initialize",
            "invalid",
            401,
            "2026-07-28",
            "2026-07-28"
        )),
        "{rows:?}"
    );
}

/// Field case: a server of the newest revision demands MCP-Protocol-Version on every
/// request, initialize included, and answers with SSE. The probe retries once with the
/// header; the session sends it everywhere; login, check and call work.
#[test]
fn a_server_strict_about_the_protocol_header_and_answering_sse() {
    let f = Fixture::start(json!({"mcp": {"require_protocol_version": true, "sse": true}}));
    let user = User::new("strict-header");
    let url = f.ready.mcp_url.as_str();
    login_ok(&user, url, &[]);
    let rows = mcp_log(&f);
    assert_eq!(
        rows[..2],
        [
            row("POST", "-", 400, "-", "-"),
            row("initialize", "none", 401, "2026-07-28", "2026-07-28"),
        ]
    );
    let (check, _) = check_and_call_whoami(&user, url);
    assert_eq!(check["server_info"]["protocol_version"], "2025-11-25");
    // After the sign-in, no request went without the header.
    let after_login = mcp_log(&f).split_off(2);
    assert!(
        after_login.iter().all(|r| r.3 != "-" && r.2 < 300),
        "{after_login:?}"
    );
}
