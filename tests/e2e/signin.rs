//! The second round of real-server cases (field report real-servers-2: R1, R3, R4, R5), each
//! a fixture scenario: what the AS and the MCP server received, parameter by parameter, and
//! what the person is told.

use latchkey_e2e::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Runs latchkey with extra environment variables.
fn run_with(user: &User, args: &[&str], envs: &[(&str, &str)]) -> Run {
    let out = user
        .command(args)
        .envs(envs.iter().copied())
        .output()
        .expect("run latchkey");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn error_of(r: &Run) -> Value {
    assert_ne!(r.code, 0, "expected a failure, got: {}", r.stdout);
    r.json()["error"].clone()
}

/// The parameter names of an authorization request as the AS logged it.
fn names(entry: &Value) -> BTreeSet<String> {
    entry.as_object().unwrap().keys().cloned().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// What an MCP server logs for a probe without a token.
fn probe_only() -> Value {
    json!([{"method": "POST", "rpc": ["initialize"], "status": 401, "auth": "none",
            "reason": "no token", "protocol_version": null, "offered": "2026-07-28"}])
}

const OAUTH_PARAMS: &[&str] = &[
    "response_type",
    "client_id",
    "state",
    "code_challenge",
    "code_challenge_method",
    "redirect_uri",
    "scope",
    "resource",
];

#[test]
fn r1_an_as_without_the_pkce_field_is_refused_until_the_person_confirms_and_the_choice_is_remembered(
) {
    let f = Fixture::start(json!({"as": {"pkce_methods": []}}));
    let user = User::new("r1-pkce");
    let url = f.ready.mcp_url.as_str();
    let issuer = f.ready.issuer.as_str();

    // The preview says what is missing and the way forward.
    let d = user.run(&["discover", url]);
    d.assert_ok();
    assert!(
        d.stdout.contains(
            "PKCE           not listed by the sign-in server: confirm with --assume-pkce-s256"
        ) && d.stdout.contains(&format!(
            "Cannot sign in yet: PKCE: {issuer} does not publish code_challenge_methods_supported"
        )),
        "{}",
        d.stdout
    );
    let plan = user.run(&["discover", url, "--json"]).json()["plan"].clone();
    assert_eq!(plan["pkce"], json!({"basis": "needs_confirmation"}));

    // Refused by default: nothing reaches the AS's sign-in page or its registration.
    let e = error_of(&user.run(&["login", url, "--json"]));
    assert_eq!(e["code"], "pkce_not_advertised", "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("does not publish code_challenge_methods_supported"),
        "{e}"
    );
    assert!(
        e["hint"]
            .as_str()
            .unwrap()
            .contains(&format!("latchkey login {url} --assume-pkce-s256")),
        "{e}"
    );
    assert_eq!(e["reason"]["id"], "pkce_not_advertised");
    let text = user.run(&["login", url]);
    assert_eq!(text.code, 1);
    assert!(
        text.stderr.contains(&format!("latchkey: the sign-in server {issuer} does not publish code_challenge_methods_supported in its metadata")),
        "{}",
        text.stderr
    );
    let log = f.log();
    assert_eq!(log["authorize"], json!([]));
    assert_eq!(log["register"], json!([]));
    assert!(user.authorize_urls().is_empty());

    // With the person's choice: S256, exactly the OAuth parameters, and the choice remembered.
    let out = user.run(&["login", url, "--json", "--assume-pkce-s256"]);
    out.assert_ok();
    let log = f.log();
    let a = &log["authorize"][0];
    assert_eq!(names(a), set(OAUTH_PARAMS), "{a}");
    assert_eq!(a["code_challenge_method"], "S256");
    assert_eq!(a["code_challenge"].as_str().map(str::len), Some(43));
    assert_eq!(a["scope"], "mcp");
    assert_eq!(a["resource"], url);
    assert_eq!(log["token"][0]["code_verifier_present"], true);
    let choices = user.run(&["assumed-pkce", "--json"]).json();
    assert_eq!(
        choices["assume_pkce_s256"][0]["issuer"], issuer,
        "{choices}"
    );
    assert!(user.state_dir().join("issuers.json").exists());

    // Shown in discover and the plan; the next sign-in needs no flag.
    let d = user.run(&["discover", url]);
    assert!(
        d.stdout
            .contains("PKCE           S256, assumed at this sign-in server because you chose so")
            && d.stdout.contains("Note: PKCE:")
            && d.stdout.contains("latchkey assumed-pkce --forget"),
        "{}",
        d.stdout
    );
    assert_eq!(
        user.run(&["discover", url, "--json"]).json()["plan"]["pkce"],
        json!({"basis": "chosen_by_you"})
    );
    user.run(&["login", url, "--json"]).assert_ok();
    user.run(&["check", url, "--json"]).assert_ok();

    // Revocable: after forgetting, the sign-in asks again.
    let forgot = user.run(&["assumed-pkce", "--forget", issuer]);
    forgot.assert_ok();
    assert!(
        forgot.stdout.contains("its next sign-in asks again"),
        "{}",
        forgot.stdout
    );
    let e = error_of(&user.run(&["login", url, "--json"]));
    assert_eq!(e["code"], "pkce_not_advertised");
}

#[test]
fn r1_a_known_provider_without_the_pkce_field_is_assumed_with_a_note() {
    let f = Fixture::start(json!({"as": {"pkce_methods": []}}));
    let user = User::new("r1-entra");
    let url = f.ready.mcp_url.as_str();
    // The fixture AS stands in for Entra ID (a test alias applies to loopback issuers only).
    let alias = json!({ (f.ready.issuer.clone()): "entra" }).to_string();
    let env = [("LATCHKEY_TEST_ISSUER_QUIRKS", alias.as_str())];

    let plan = run_with(&user, &["discover", url, "--json"], &env).json()["plan"].clone();
    assert_eq!(
        plan["pkce"],
        json!({"basis": "known_issuer", "provider": "Microsoft Entra ID"})
    );
    let d = run_with(&user, &["discover", url], &env);
    assert!(
        d.stdout.contains("Note: PKCE:") && d.stdout.contains("is Microsoft Entra ID"),
        "{}",
        d.stdout
    );
    run_with(&user, &["login", url, "--json"], &env).assert_ok();
    let a = &f.log()["authorize"][0];
    assert_eq!(names(a), set(OAUTH_PARAMS), "{a}");
    assert_eq!(a["code_challenge_method"], "S256");
    // Nothing was remembered: the table decided, not the person.
    assert!(!user.state_dir().join("issuers.json").exists());
}

#[test]
fn r1_an_as_listing_only_plain_stays_refused_even_when_the_person_would_assume_s256() {
    let f = Fixture::start(json!({"as": {"pkce_methods": ["plain"]}}));
    let user = User::new("r1-plain");
    let e = error_of(&user.run(&["login", &f.ready.mcp_url, "--json", "--assume-pkce-s256"]));
    assert_eq!(e["code"], "pkce_unsupported", "{e}");
    assert!(e["message"].as_str().unwrap().contains("it lists: plain"));
    assert_eq!(f.log()["authorize"], json!([]));
    assert!(!user.state_dir().join("issuers.json").exists());
}

#[test]
fn r3_offline_access_is_asked_with_the_consent_prompt_and_brings_a_refresh_token() {
    let f = Fixture::start(json!({"as": {"offline_access": true, "offline_access_consent": true}}));
    let user = User::new("r3-consent");
    let url = f.ready.mcp_url.as_str();

    let d = user.run(&["discover", url]);
    assert!(
        d.stdout
            .contains("Also sends     prompt=consent: offline_access is asked for")
            && d.stdout.contains("OpenID Connect Core 1.0, section 11"),
        "{}",
        d.stdout
    );
    let out = user.run(&["login", url, "--json"]);
    out.assert_ok();
    let out = out.json();
    let log = f.log();
    let a = &log["authorize"][0];
    let mut expected = set(OAUTH_PARAMS);
    expected.insert("prompt".into());
    assert_eq!(names(a), expected, "{a}");
    assert_eq!(a["scope"], "mcp offline_access");
    assert_eq!(a["prompt"], "consent");
    assert_eq!(log["token"][0]["issued_refresh_token"], true);
    assert_eq!(out["signed_in"]["has_refresh_token"], true);
    assert_eq!(out["no_renewal_notice"], Value::Null);

    // Without offline_access this AS issues no refresh token, and the person is told when the
    // session ends and that they will sign in again then.
    let text = user.run(&["login", url, "--scope", "mcp"]);
    text.assert_ok();
    let log = f.log();
    assert_eq!(names(&log["authorize"][1]), set(OAUTH_PARAMS));
    assert_eq!(log["token"][1]["issued_refresh_token"], false);
    assert!(
        text.stdout.contains("The sign-in server gave no refresh token, so Latchkey cannot renew this session: it ends at ")
            && text.stdout.contains("UTC (in about 60 minutes), and you will have to sign in again then."),
        "{}",
        text.stdout
    );
    let json = user.run(&["login", url, "--scope", "mcp", "--json"]).json();
    assert!(json["no_renewal_notice"]
        .as_str()
        .unwrap()
        .contains("you will have to sign in again then"));
}

#[test]
fn r3_google_gets_access_type_offline_and_consent_only_when_no_refresh_token_is_stored() {
    let f = Fixture::start(json!({"as": {"google_access_type": true}}));
    let url = f.ready.mcp_url.as_str();

    // Without the quirk, a Google-like AS issues no refresh token: the person is told.
    let plain = User::new("r3-google-plain");
    let out = plain.run(&["login", url, "--json"]);
    out.assert_ok();
    assert_eq!(names(&f.log()["authorize"][0]), set(OAUTH_PARAMS));
    assert_eq!(out.json()["signed_in"]["has_refresh_token"], false);

    // The fixture AS stands in for Google.
    let user = User::new("r3-google");
    let alias = json!({ (f.ready.issuer.clone()): "google" }).to_string();
    let env = [("LATCHKEY_TEST_ISSUER_QUIRKS", alias.as_str())];
    let d = run_with(&user, &["discover", url], &env);
    assert!(
        d.stdout.contains("Also sends     access_type=offline: Google issues a refresh token only with access_type=offline")
            && d.stdout.contains("Also sends     prompt=consent (when no refresh token is stored)"),
        "{}",
        d.stdout
    );
    let first = run_with(&user, &["login", url, "--json"], &env);
    first.assert_ok();
    let log = f.log();
    let a = &log["authorize"][1];
    let mut expected = set(OAUTH_PARAMS);
    expected.extend(["access_type".to_string(), "prompt".to_string()]);
    assert_eq!(names(a), expected, "{a}");
    assert_eq!(
        (a["access_type"].as_str(), a["prompt"].as_str()),
        (Some("offline"), Some("consent"))
    );
    assert_eq!(log["token"][1]["issued_refresh_token"], true);
    let stored = user.stored_bundle(url).unwrap();
    let refresh = stored["tokens"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();

    // With a refresh token stored: no consent prompt; Google sends no new refresh token and the
    // stored one is kept.
    let second = run_with(&user, &["login", url, "--json"], &env);
    second.assert_ok();
    let log = f.log();
    let a = &log["authorize"][2];
    let mut expected = set(OAUTH_PARAMS);
    expected.insert("access_type".into());
    assert_eq!(names(a), expected, "{a}");
    assert_eq!(a["access_type"], "offline");
    assert_eq!(log["token"][2]["issued_refresh_token"], false);
    assert_eq!(second.json()["signed_in"]["has_refresh_token"], true);
    let kept = user.stored_bundle(url).unwrap();
    assert_eq!(
        kept["tokens"]["refresh_token"].as_str(),
        Some(refresh.as_str())
    );
    // ... and it still renews.
    let mut expired = kept.clone();
    expired["tokens"]["expires_at"] = json!(1);
    user.put_bundle(url, &expired);
    run_with(&user, &["token", url], &env).assert_ok();
    assert_eq!(f.log()["refresh_count"], 1);
}

#[test]
fn r4_a_legacy_server_whose_root_metadata_names_a_path_issuer_on_its_origin() {
    let f = Fixture::start(json!({"legacy": true, "legacy_issuer_path": "/oauth"}));
    let user = User::new("r4-legacy");
    let url = f.ready.mcp_url.as_str();
    let origin = f.ready.mcp_origin.as_str();
    assert_eq!(f.ready.issuer, format!("{origin}/oauth"));

    let plan = user.run(&["discover", url, "--json"]).json()["plan"].clone();
    assert_eq!(plan["discovery"]["as_source"], "legacy_origin");
    assert_eq!(plan["issuer"], f.ready.issuer.as_str());
    assert_eq!(
        plan["discovery"]["as_metadata_url"],
        format!("{origin}/.well-known/oauth-authorization-server")
    );
    assert_eq!(
        plan["endpoints"]["authorization"],
        format!("{origin}/oauth/authorize")
    );
    let d = user.run(&["discover", url]);
    assert!(
        d.stdout.contains("declared by the server's own origin"),
        "{}",
        d.stdout
    );

    let out = user.run(&["login", url, "--json"]);
    out.assert_ok();
    assert_eq!(out.json()["signed_in"]["issuer"], f.ready.issuer.as_str());
    // The AS answered with its declared issuer as `iss`, and that was what was checked.
    let callback = user.callback_urls().pop().unwrap();
    assert_eq!(
        param(&query_params(&callback), "iss"),
        Some(f.ready.issuer.as_str())
    );
    let log = f.log();
    // No PRM and a bare challenge: nothing names a scope, so none is sent.
    let mut expected = set(OAUTH_PARAMS);
    expected.remove("scope");
    assert_eq!(names(&log["authorize"][0]), expected);
    assert_eq!(log["authorize"][0]["resource"], url);
    assert_eq!(log["token"][0]["resource"], url);
    let hits: Vec<&str> = log["well_known"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["status"] == 200)
        .map(|w| w["path"].as_str().unwrap())
        .collect();
    assert!(
        hits.iter()
            .all(|p| *p == "/.well-known/oauth-authorization-server"),
        "{hits:?}"
    );
    user.run(&["check", url, "--json"]).assert_ok();
}

#[test]
fn r4_a_legacy_server_naming_an_issuer_on_another_origin_is_still_refused() {
    let f = Fixture::start(
        json!({"legacy": true, "as": {"issuer_override": "http://127.0.0.1:9/oauth"}}),
    );
    let user = User::new("r4-other");
    let e = error_of(&user.run(&["login", &f.ready.mcp_url, "--json"]));
    assert_eq!(e["code"], "issuer_mismatch", "{e}");
    assert_eq!(f.log()["authorize"], json!([]));
}

#[test]
fn r5_a_refused_registration_points_to_a_registered_app_with_the_redirect_uri() {
    let f = Fixture::start(json!({"as": {"registration_refuse": {
        "status": 403,
        "body": {"error": "access_denied", "error_description": "dynamic registration is disabled for this tenant"}
    }}}));
    let user = User::new("r5-dcr");
    let url = f.ready.mcp_url.as_str();
    let issuer = f.ready.issuer.as_str();

    let r = user.run(&["login", url, "--json"]);
    let e = error_of(&r);
    assert_eq!(e["code"], "registration_refused", "{e}");
    assert_eq!(e["oauth"]["code"], "access_denied");
    assert_eq!(e["oauth"]["stage"], "registration");
    assert_eq!(
        e["message"],
        format!("the sign-in server {issuer} refused to register Latchkey as an app (HTTP 403, access_denied: dynamic registration is disabled for this tenant)")
    );
    let hint = e["hint"].as_str().unwrap();
    assert!(
        hint.contains("redirect URI http://127.0.0.1:<port>/callback (pick a free port")
            && hint.contains("the scopes mcp")
            && hint.contains("--client-id")
            && hint.contains("\"App identity\" step"),
        "{hint}"
    );
    assert_eq!(e["reason"]["id"], "registration_refused");
    assert_eq!(e["reason"]["fix"], "configure_client");

    // What the AS received: one registration request, byte for byte what RFC 7591 asks.
    let log = f.log();
    let reg = &log["register"][0];
    let redirect = reg["redirect_uris"][0].as_str().unwrap().to_string();
    assert!(redirect.starts_with("http://127.0.0.1:") && redirect.ends_with("/callback"));
    assert_eq!(
        reg,
        &json!({
            "client_name": "Latchkey",
            "redirect_uris": [redirect],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "application_type": "native",
            "scope": "mcp",
        })
    );
    assert_eq!(log["authorize"], json!([]));
    assert_eq!(log["token"], json!([]));
    assert_eq!(log["mcp"], probe_only());

    // With a fixed callback port the exact redirect URI to register is named.
    let port = free_port().to_string();
    let text = user.run(&["login", url, "--callback-port", &port]);
    assert_eq!(text.code, 1);
    assert!(
        text.stderr.contains("refused to register Latchkey as an app (HTTP 403, access_denied")
            && text.stderr.contains(&format!("What to do: Register an app (a \"public\" or \"native\" client) at your sign-in server with the redirect URI http://127.0.0.1:{port}/callback and the scopes mcp, then sign in again with --client-id")),
        "{}",
        text.stderr
    );
}
