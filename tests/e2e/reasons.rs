//! Every reason of the catalogue that the other tests do not already reach, each produced by
//! a real scenario: the fixture AS and MCP server set up to fail in one way, or a real
//! socket that never answers, and the reason id read from what `latchkey` printed.

use latchkey_e2e::*;
use serde_json::{json, Value};
use std::net::TcpListener;

fn doctor(user: &User, url: &str) -> Value {
    user.run(&["doctor", url, "--json", "--timeout", "2"])
        .json()
}

/// The reason of a failed command, from its `--json` error report.
fn failed_reason(user: &User, args: &[&str]) -> Value {
    let r = user.run(args);
    assert_ne!(r.code, 0, "{args:?} should fail: {}", r.stdout);
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: no JSON ({e}): {} {}", r.stdout, r.stderr));
    assert_eq!(v["ok"], false, "{v}");
    v["error"]["reason"].clone()
}

#[test]
fn sign_in_failures_have_their_reasons() {
    let f = Fixture::start(json!({}));
    let url = f.ready.mcp_url.as_str();

    // Never signed in.
    let user = User::new("reason-none");
    let r = failed_reason(&user, &["token", url, "--json"]);
    assert_eq!(r["id"], "no_credentials", "{r}");
    assert_eq!(r["fix"], "sign_in");

    // The AS refuses a scope (GitLab refuses `sudo` to such apps).
    let r = failed_reason(&user, &["login", url, "--add-scope", "sudo", "--json"]);
    assert_eq!(r["id"], "scope_refused", "{r}");
    assert_eq!(r["fix"], "sign_in_with_recommended_scopes");
    assert!(r["detail"].as_str().unwrap().contains("sudo"), "{r}");

    // The person declines at the sign-in page.
    let mut declined = User::new("reason-deny");
    declined.tamper = Some("deny".into());
    let r = failed_reason(&declined, &["login", url, "--json"]);
    assert_eq!(r["id"], "access_denied", "{r}");

    // The callback comes back with another state: the sign-in did not finish.
    let mut tampered = User::new("reason-state");
    tampered.tamper = Some("state".into());
    let r = failed_reason(&tampered, &["login", url, "--json"]);
    assert_eq!(r["id"], "sign_in_incomplete", "{r}");
}

#[test]
fn server_and_metadata_failures_have_their_reasons() {
    let user = User::new("reason-server");

    // An address where an HTTP server answers, but no MCP server lives.
    let f = Fixture::start(json!({}));
    let nowhere = format!("{}/not-mcp", f.ready.mcp_origin);
    let d = doctor(&user, &nowhere);
    assert_eq!(d["reason"]["id"], "server_not_found", "{d}");
    assert_eq!(d["reason"]["fix"], "check_address");

    // A server that accepts the connection and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}/mcp", silent.local_addr().unwrap());
    let d = doctor(&user, &silent_url);
    assert_eq!(d["reason"]["id"], "timeout", "{d}");
    assert_eq!(d["status"], "unreachable");

    // Protected resource metadata that names no sign-in server.
    let f = Fixture::start(json!({"mcp": {"prm": {"authorization_servers": []}}}));
    let d = doctor(&user, &f.ready.mcp_url);
    assert_eq!(d["reason"]["id"], "prm_invalid", "{d}");
    assert_eq!(d["status"], "misconfigured");

    // The sign-in server publishes no metadata at all.
    let f = Fixture::start(json!({"as": {"discovery": []}}));
    let d = doctor(&user, &f.ready.mcp_url);
    assert_eq!(d["reason"]["id"], "as_metadata_missing", "{d}");
    assert_eq!(d["reason"]["fix"], "contact_server_operator");

    // The challenge points at "metadata" that is not metadata (the AS's JWKS).
    let f = Fixture::start(json!({}));
    let jwks = format!("{}/jwks", f.ready.issuer);
    let f2 = Fixture::start(
        json!({"mcp": {"challenge": {"resource_metadata": jwks}, "prm": {"serve": []}}}),
    );
    let d = doctor(&user, &f2.ready.mcp_url);
    assert_eq!(d["reason"]["id"], "metadata_invalid", "{d}");
}

#[test]
fn stored_credential_failures_have_their_reasons() {
    let f = Fixture::start(json!({}));
    let url = f.ready.mcp_url.as_str();
    let user = User::new("reason-stored");
    user.run(&["login", url, "--json"]).assert_ok();
    let good = user.stored_bundle(url).unwrap();

    // The server does not know the token (revoked, or issued elsewhere).
    let mut forged = good.clone();
    forged["tokens"]["access_token"] = json!("not-a-token-this-server-issued");
    user.put_bundle(url, &forged);
    let d = doctor(&user, url);
    assert_eq!(d["reason"]["id"], "token_rejected", "{d}");
    assert_eq!(d["reason"]["fix"], "sign_in");

    // The keychain entry is damaged.
    user.put_bundle(url, &json!("not a bundle"));
    let d = doctor(&user, url);
    assert_eq!(d["reason"]["id"], "credentials_unreadable", "{d}");

    // The keychain is locked.
    user.put_bundle(url, &good);
    user.lock_keychain();
    let d = doctor(&user, url);
    assert_eq!(d["reason"]["id"], "keychain_unavailable", "{d}");
    assert_eq!(d["reason"]["fix"], "unlock_keychain");
}
