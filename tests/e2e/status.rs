//! `latchkey status` on a home whose AI tools use several servers in different states:
//! each state comes from a real scenario, and each failing line says why in plain words.

use latchkey_e2e::*;
use serde_json::{json, Value};

/// `latchkey status` over the tools' settings under `home` only.
fn status(user: &User, home: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "status",
        "--home",
        home,
        "--no-known-projects",
        "--project",
        home,
        "--timeout",
        "5",
    ];
    args.extend_from_slice(extra);
    user.run(&args)
}

#[test]
fn status_explains_every_server_of_the_inventory() {
    let working = Fixture::start(json!({}));
    let fresh = Fixture::start(json!({}));
    let expired = Fixture::start(json!({"as": {"access_token_ttl": 1}}));
    // Nothing listens there, and no ephemeral port-0 bind can start listening there.
    let down = format!("http://127.0.0.1:{}/mcp", free_port());
    let user = User::new("status");
    user.run(&["login", &working.ready.mcp_url, "--json"])
        .assert_ok();
    user.run(&["login", &expired.ready.mcp_url, "--json"])
        .assert_ok();
    std::thread::sleep(std::time::Duration::from_millis(1200));

    let home = TempDir::new("status-home");
    std::fs::write(
        home.path().join(".claude.json"),
        json!({"mcpServers": {
            "working": {"type": "http", "url": working.ready.mcp_url},
            "fresh": {"type": "http", "url": fresh.ready.mcp_url},
            "expired": {"type": "http", "url": expired.ready.mcp_url},
            "down": {"type": "http", "url": down},
            "files": {"command": "npx", "args": ["server-filesystem"]}
        }})
        .to_string(),
    )
    .unwrap();
    let home_s = home.path().to_str().unwrap();
    let r = status(&user, home_s, &["--json"]);
    assert_eq!(
        r.code, 1,
        "a server that cannot be reached needs attention: {r:?}"
    );
    assert_eq!(r.json()["attention"], true);
    assert_eq!(r.json()["overview"]["state"], "attention");
    let servers = r.json()["servers"].as_array().unwrap().clone();
    let health = |url: &str| -> Value {
        servers
            .iter()
            .find(|s| s["server"] == url)
            .cloned()
            .unwrap_or_else(|| panic!("{url} missing: {servers:?}"))
    };
    assert_eq!(servers.len(), 4, "remote servers only: {servers:?}");
    assert_eq!(health(&working.ready.mcp_url)["health"], "working");
    assert_eq!(health(&fresh.ready.mcp_url)["health"], "never_signed_in");
    assert_eq!(health(&expired.ready.mcp_url)["health"], "refreshable");
    let d = health(&down);
    assert_eq!(d["health"], "unreachable");
    assert_eq!(d["reason"]["id"], "unreachable");

    let text = status(&user, home_s, &[]);
    assert_eq!(text.code, 1);
    assert!(
        text.stdout.starts_with("1 server can't be reached\n"),
        "the overall state first: {}",
        text.stdout
    );
    assert!(
        text.stdout
            .trim_end()
            .ends_with("Next: latchkey doctor down"),
        "the next step last: {}",
        text.stdout
    );
    let line = |url: &str| {
        text.stdout
            .lines()
            .find(|l| l.ends_with(url))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line(&working.ready.mcp_url).contains("working"),
        "{}",
        text.stdout
    );
    assert!(
        line(&fresh.ready.mcp_url).starts_with("  fresh  ")
            && line(&fresh.ready.mcp_url).contains("not signed in"),
        "{}",
        text.stdout
    );
    assert!(
        line(&down).contains("can't be reached  Cannot reach the server"),
        "{}",
        text.stdout
    );
}

/// More reasons, each from a real scenario: the AS forgot the client, a token the server
/// rejects for its audience, and a session that ends soon with nothing to renew it.
#[test]
fn reasons_from_real_scenarios() {
    // The AS forgets the client: renewing fails with invalid_client.
    let f = Fixture::start(json!({"as": {"access_token_ttl": 2}}));
    let user = User::new("reasons");
    let url = f.ready.mcp_url.as_str();
    user.run(&["login", url, "--json"]).assert_ok();
    f.forget_clients();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let d = user.run(&["doctor", url, "--json"]).json();
    assert_eq!(d["reason"]["id"], "client_unknown", "{d}");
    assert_eq!(d["status"], "needs_sign_in");
    let r = user.run(&["token", url]);
    assert_eq!(r.code, 3);
    assert!(
        r.stderr.contains("no longer knows Latchkey's registration"),
        "{}",
        r.stderr
    );

    // The server's metadata names its origin as the resource, but it only accepts tokens
    // for its own URL: signing in works, using the token does not.
    let aud = Fixture::start(json!({"mcp": {"prm": {"resource_override": "origin"}}}));
    user.run(&["login", &aud.ready.mcp_url, "--json"])
        .assert_ok();
    let d = user.run(&["doctor", &aud.ready.mcp_url, "--json"]).json();
    assert_eq!(d["reason"]["id"], "audience_rejected", "{d}");
    assert!(d["reason"]["detail"]
        .as_str()
        .unwrap()
        .contains("audience mismatch"));

    // Ends within 15 minutes and cannot renew: expiring soon.
    let c = Fixture::start(json!({"as": {"access_token_ttl": 600}}));
    user.run(&["login", &c.ready.mcp_url, "--json"]).assert_ok();
    let mut no_renewal = user.stored_bundle(&c.ready.mcp_url).unwrap();
    no_renewal["tokens"]
        .as_object_mut()
        .unwrap()
        .remove("refresh_token");
    user.put_bundle(&c.ready.mcp_url, &no_renewal);
    let home = TempDir::new("reasons-home");
    let home_s = home.path().to_str().unwrap();
    let s = status(&user, home_s, &["--json"]);
    assert_eq!(s.code, 3, "the forgotten client needs sign-in: {s:?}");
    let servers = s.json()["servers"].as_array().unwrap().clone();
    let c_health = servers
        .iter()
        .find(|x| x["server"] == c.ready.mcp_url.as_str())
        .unwrap();
    assert_eq!(c_health["health"], "expiring_soon", "{servers:?}");
}

/// A server that now needs a scope the session was not granted answers 403
/// insufficient_scope: status names it and says how to fix it, and doctor names the scopes.
#[test]
fn insufficient_scope_on_use_is_explained() {
    let f = Fixture::start(json!({"mcp": {"required_scopes": ["mcp", "mcp:write"]}}));
    let user = User::new("insufficient");
    let url = f.ready.mcp_url.as_str();
    // The person narrowed the plan to `mcp` only: signing in works, using the token does not.
    user.run(&["login", url, "--scope", "mcp", "--json"])
        .assert_ok();
    let home = TempDir::new("insufficient-home");
    let home_s = home.path().to_str().unwrap();
    let s = status(&user, home_s, &["--json"]);
    assert_eq!(s.code, 3, "{s:?}");
    let servers = s.json()["servers"].as_array().unwrap().clone();
    let h = servers.iter().find(|x| x["server"] == url).unwrap();
    assert_eq!(h["health"], "needs_sign_in", "{servers:?}");
    assert_eq!(h["reason"]["id"], "insufficient_scope", "{h}");
    assert_eq!(h["reason"]["fix"], "sign_in_with_more_scopes", "{h}");
    let text = status(&user, home_s, &[]);
    assert!(
        text.stdout.contains("The server needs more permissions"),
        "{}",
        text.stdout
    );
    let d = user.run(&["doctor", url, "--json"]).json();
    assert_eq!(d["reason"]["id"], "insufficient_scope", "{d}");
    assert!(
        d["reason"]["detail"]
            .as_str()
            .unwrap()
            .contains("mcp:write"),
        "the detail names the missing scope: {d}"
    );
}

/// A server nobody signed in to yet, whose sign-in server is broken, shows as misconfigured
/// with the reason at once, not as "not signed in yet" until the person tries.
#[test]
fn a_broken_sign_in_server_shows_before_anyone_signs_in() {
    let f = Fixture::start(json!({"as": {"discovery": []}}));
    let user = User::new("status-broken-as");
    let url = f.ready.mcp_url.as_str();
    let home = TempDir::new("status-broken-as-home");
    std::fs::write(
        home.path().join(".claude.json"),
        json!({"mcpServers": {"broken": {"type": "http", "url": url}}}).to_string(),
    )
    .unwrap();
    let home_s = home.path().to_str().unwrap();
    let s = status(&user, home_s, &["--json"]);
    assert_eq!(s.code, 1, "{s:?}");
    let h = s.json()["servers"][0].clone();
    assert_eq!(h["health"], "misconfigured", "{h}");
    assert_eq!(h["reason"]["id"], "as_metadata_missing", "{h}");
    let text = status(&user, home_s, &[]);
    assert!(
        text.stdout
            .contains("set up wrong  The sign-in server publishes no metadata"),
        "{}",
        text.stdout
    );
}

/// A server that answers initialize without a token but asks for one on tools/call shows as
/// "not signed in (sign-in needed for tools)", not "working"; one that publishes no
/// protected resource metadata stays "working". Doctor says the same.
#[test]
fn a_server_that_asks_only_for_tools_shows_as_not_signed_in() {
    let tools_only = Fixture::start(json!({"mcp": {"auth_on": "tools_call"}}));
    let open = Fixture::start(json!({"mcp": {"auth_on": "tools_call", "prm": {"serve": []}}}));
    let user = User::new("status-tools-only");
    let home = TempDir::new("status-tools-only-home");
    std::fs::write(
        home.path().join(".claude.json"),
        json!({"mcpServers": {
            "tools-only": {"type": "http", "url": tools_only.ready.mcp_url},
            "open": {"type": "http", "url": open.ready.mcp_url},
        }})
        .to_string(),
    )
    .unwrap();
    let home_s = home.path().to_str().unwrap();
    let s = status(&user, home_s, &["--json"]);
    s.assert_ok();
    let servers = s.json()["servers"].as_array().unwrap().clone();
    let of = |url: &str| servers.iter().find(|x| x["server"] == url).unwrap().clone();
    let h = of(&tools_only.ready.mcp_url);
    assert_eq!(h["health"], "never_signed_in", "{h}");
    assert_eq!(h["reason"]["id"], "sign_in_for_tools", "{h}");
    assert_eq!(h["reason"]["fix"], "sign_in", "{h}");
    assert_eq!(of(&open.ready.mcp_url)["health"], "working");
    let text = status(&user, home_s, &[]);
    assert!(
        text.stdout.contains(&format!(
            "not signed in  Not signed in (sign-in needed for tools)  {}",
            tools_only.ready.mcp_url
        )),
        "{}",
        text.stdout
    );
    let d = user
        .run(&["doctor", &tools_only.ready.mcp_url, "--json"])
        .json();
    assert_eq!(d["status"], "never_signed_in", "{d}");
    assert_eq!(d["reason"]["id"], "sign_in_for_tools", "{d}");
}

/// A home whose tools name nine servers, with no network (names resolve from a test file,
/// empty at first: every lookup fails as offline): one offline line and exit 1, not nine
/// failures; when one name resolves again, that server answers and the rest are named.
#[test]
fn an_offline_home_is_one_line_and_recovers_when_names_resolve() {
    let f = Fixture::start(json!({}));
    let user = User::new("status-offline");
    let home = TempDir::new("status-offline-home");
    let mut servers = serde_json::Map::new();
    for (n, url) in f.offline_home_servers() {
        servers.insert(n, json!({"type": "http", "url": url}));
    }
    std::fs::write(
        home.path().join(".claude.json"),
        json!({ "mcpServers": servers }).to_string(),
    )
    .unwrap();
    let hosts = home.path().join("hosts");
    std::fs::write(&hosts, "").unwrap();
    let home_s = home.path().to_str().unwrap();
    let run = || {
        let mut c = user.command(&[
            "status",
            "--home",
            home_s,
            "--no-known-projects",
            "--project",
            home_s,
            "--timeout",
            "5",
        ]);
        c.env("LATCHKEY_TEST_HOSTS", &hosts);
        let out = c.output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, text) = run();
    assert_eq!(code, 1, "{text}");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("You seem to be offline"), "{text}");
    assert_eq!(text.matches("waiting for the network").count(), 9, "{text}");
    assert!(!text.contains("Cannot"), "no nine alarms: {text}");
    assert!(
        text.trim_end()
            .ends_with("Connect to the network, then run `latchkey status` again."),
        "{text}"
    );

    // The network is back for gitlab: it answers (over plain HTTP at a name that is not
    // loopback, which Latchkey refuses to sign in to: "set up wrong", an answer all the same);
    // the others are now servers that cannot be found, each named.
    std::fs::write(&hosts, "mcp.gitlab.example 127.0.0.1\n").unwrap();
    let (code, text) = run();
    assert_eq!(code, 1, "{text}");
    assert!(
        text.starts_with("8 servers can't be reached, 1 server is set up wrong\n"),
        "{text}"
    );
    let gitlab = text
        .lines()
        .find(|l| l.trim_start().starts_with("gitlab "))
        .unwrap_or_default();
    assert!(gitlab.contains("not protected by HTTPS"), "{text}");
    assert_eq!(
        text.matches("Cannot find the server on the network")
            .count(),
        8,
        "{text}"
    );
}
