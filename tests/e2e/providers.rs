//! Signing in with an app registered at a known provider (`--provider`): an Entra-shaped
//! stand-in (OpenID metadata at a `/{tenant}/v2.0` issuer, no PKCE field, no dynamic
//! registration, `expires_in` as a string) signs in with `--provider entra` and `check` lists
//! the tools; missing values are named with where to find them before anything is sent.

use latchkey_e2e::*;
use serde_json::json;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

#[test]
fn an_entra_shaped_server_signs_in_with_the_entra_preset_and_lists_its_tools() {
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let f = Fixture::start(json!({
        "as": {
            "issuer_path": format!("/{TENANT}/v2.0"),
            "discovery": ["openid"],
            "pkce_methods": [],
            "registration": false,
            "expires_in_as_string": true,
            "access_token_ttl": 5250,
            "static_clients": [{"client_id": "entra-app", "redirect_uris": [redirect],
                                "token_endpoint_auth_method": "none"}]
        }
    }));
    let user = User::new("entra-preset");
    let url = f.ready.mcp_url.as_str();
    let authority = f.ready.as_origin.as_str();
    // The stand-in plays Entra for the table of known issuers (loopback issuers only).
    let alias = json!({ (f.ready.issuer.clone()): "entra" }).to_string();
    let port_s = port.to_string();
    let tenant = format!("tenant={TENANT}");
    let authority_v = format!("authority={authority}");

    // Without the preset's values: what is missing and where to find it; nothing is sent to
    // the authorization server beyond nothing at all.
    let missing = user
        .command(&["login", url, "--provider", "entra", "--json"])
        .env("LATCHKEY_TEST_ISSUER_QUIRKS", &alias)
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    let e: serde_json::Value = serde_json::from_slice(&missing.stdout).unwrap();
    assert_eq!(e["error"]["code"], "provider_incomplete", "{e}");
    let words = format!("{} {}", e["error"]["message"], e["error"]["hint"]);
    assert!(
        words.contains("Directory (tenant) ID")
            && words.contains("Application (client) ID")
            && words.contains("Mobile and desktop applications"),
        "{words}"
    );
    assert_eq!(f.log()["authorize"], json!([]));

    let login = user
        .command(&[
            "login",
            url,
            "--provider",
            "entra",
            "--provider-value",
            &tenant,
            "--provider-value",
            &authority_v,
            "--client-id",
            "entra-app",
            "--callback-port",
            &port_s,
        ])
        .env("LATCHKEY_TEST_ISSUER_QUIRKS", &alias)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&login.stdout);
    let err = String::from_utf8_lossy(&login.stderr);
    assert!(login.status.success(), "{out}\n{err}");
    assert!(
        out.contains("is Microsoft Entra ID"),
        "the PKCE note: {out}"
    );

    let log = f.log();
    let a = &log["authorize"][0];
    assert_eq!(a["client_id"], "entra-app");
    assert_eq!(a["code_challenge_method"], "S256");
    assert_eq!(a["redirect_uri"], redirect);
    assert_eq!(log["register"], json!([]), "no registration was attempted");
    let t = &log["token"][0];
    assert_eq!(
        (t["grant_type"].as_str(), t["status"].as_u64()),
        (Some("authorization_code"), Some(200))
    );

    // The string expires_in became the session's end: about 5250 s from now.
    let listed = user.run(&["list", "--json"]);
    let text = listed.stdout.clone();
    let v = listed.json();
    let s = v["servers"]
        .as_array()
        .and_then(|a| a.first())
        .unwrap_or_else(|| panic!("{text}"));
    let left = s["expires_at"].as_u64().unwrap() - now_secs();
    assert!((5000..=5250).contains(&left), "{left}: {text}");

    let check = user.run(&["check", url]);
    check.assert_ok();
    assert!(check.stdout.contains("whoami"), "{}", check.stdout);
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
