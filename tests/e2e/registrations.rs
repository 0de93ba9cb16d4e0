//! Client registrations that heal (field report R9, R10): the real `latchkey` binary against
//! oidc-provider, with what each authorization server received read from its log. One
//! registration per issuer shared by its servers; an authorization server that forgot the
//! client is found out before the browser opens, not after the callback timeout; a server
//! that moved to another authorization server never shows it the old client.

use latchkey_e2e::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn client_ids(entries: &Value) -> Vec<String> {
    entries
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["client_id"].as_str().map(str::to_string))
        .collect()
}

/// The client id of the last sign-in page the browser stand-in opened.
fn last_page_client(user: &User) -> String {
    let urls = user.authorize_urls();
    let p = query_params(urls.last().expect("the browser was opened"));
    param(&p, "client_id").expect("client_id").to_string()
}

/// Signs in again after the authorization server forgot every client: the sign-in finds it
/// out before the browser opens (far sooner than the 60-second callback timeout, which it
/// would wait out on the AS's error page), registers again and signs in.
fn forgotten_client_is_registered_again(scenario: Value, tag: &str) -> (Fixture, User, Run) {
    let f = Fixture::start(scenario);
    let user = User::new(tag);
    let url = f.ready.mcp_url.as_str();
    user.run(&["login", url]).assert_ok();
    let first = last_page_client(&user);
    assert_eq!(
        client_ids(&f.log()["clients"]),
        std::slice::from_ref(&first)
    );

    f.forget_clients();
    let started = Instant::now();
    let again = user.run(&["login", url, "--callback-timeout", "60"]);
    let took = started.elapsed();
    again.assert_ok();
    assert!(
        took < Duration::from_secs(30),
        "the sign-in waited {took:?}:\n{}",
        again.stderr
    );
    let log = f.log();
    let clients = client_ids(&log["clients"]);
    assert_eq!(clients.len(), 2, "registered again: {log}");
    let second = clients[1].clone();
    assert_ne!(second, first);
    // The browser saw only the new client, and the code exchange used it.
    assert_eq!(last_page_client(&user), second);
    let exchange = log["token"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (exchange["client_id"].as_str(), exchange["status"].as_u64()),
        (Some(second.as_str()), Some(200)),
        "{log}"
    );
    assert!(
        again
            .stderr
            .contains("no longer knows Latchkey's registration")
            && again.stderr.contains("registering again"),
        "{}",
        again.stderr
    );
    // The issuer's record holds the new registration, and so does the bundle.
    let kept = user
        .stored_client(&f.ready.issuer)
        .expect("a kept registration");
    assert_eq!(kept["client_id"], second.as_str());
    let bundle = user.stored_bundle(url).expect("the new session");
    assert_eq!(bundle["client"]["client_id"], second.as_str());
    (f, user, again)
}

#[test]
fn r9_an_as_that_forgot_the_client_is_found_out_by_reading_the_registration() {
    let (f, _, _) = forgotten_client_is_registered_again(json!({}), "reg-forgot-7592");
    // RFC 7592: the read of the old registration was refused.
    let reads = f.log()["client_reads"].clone();
    assert_eq!(
        reads.as_array().unwrap().last().unwrap()["status"],
        401,
        "{reads}"
    );
}

#[test]
fn r9_an_as_without_rfc7592_that_forgot_the_client_is_found_out_at_its_sign_in_page() {
    let (f, user, run) = forgotten_client_is_registered_again(
        json!({"as": {"registration_management": false}}),
        "reg-forgot-page",
    );
    let log = f.log();
    assert_eq!(log["client_reads"], json!([]));
    // The sign-in page's error (oidc-provider: invalid_client) was seen by Latchkey's check,
    // never by the browser: every page the browser opened reached the callback.
    assert!(
        log["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "authorization.error" && e["error"] == "invalid_client"),
        "{log}"
    );
    assert_eq!(user.authorize_urls().len(), user.callback_urls().len());
    assert!(
        run.stderr.contains("naming invalid_client"),
        "{}",
        run.stderr
    );
}

#[test]
fn r9_invalid_client_at_the_code_exchange_registers_again_and_starts_over_once() {
    let f = Fixture::start(json!({}));
    let user = User::new("reg-exchange");
    let url = f.ready.mcp_url.as_str();
    user.run(&["login", url]).assert_ok();
    let first = last_page_client(&user);

    // The AS forgets the client between the sign-in page and the code exchange.
    f.forget_clients_after_next_code();
    let r = user.run(&["login", url, "--callback-timeout", "60"]);
    r.assert_ok();
    let log = f.log();
    let tokens = log["token"].as_array().unwrap();
    let last_two: Vec<(String, u64, String)> = tokens[tokens.len() - 2..]
        .iter()
        .map(|t| {
            (
                t["client_id"].as_str().unwrap_or_default().to_string(),
                t["status"].as_u64().unwrap_or_default(),
                t["error"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let second = client_ids(&log["clients"]).last().unwrap().clone();
    assert_ne!(second, first);
    assert_eq!(
        last_two,
        [
            (first.clone(), 401, "invalid_client".to_string()),
            (second.clone(), 200, String::new())
        ],
        "{log}"
    );
    // The person passed the sign-in page once more, with the new registration, and was told.
    let pages: Vec<String> = user
        .authorize_urls()
        .iter()
        .map(|u| {
            param(&query_params(u), "client_id")
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(pages[pages.len() - 2..], [first, second.clone()]);
    assert!(
        r.stderr
            .contains("registers again and starts the sign-in over")
            && r.stderr.contains("opens once more"),
        "{}",
        r.stderr
    );
    assert_eq!(
        user.stored_client(&f.ready.issuer).unwrap()["client_id"],
        second.as_str()
    );
    assert_eq!(
        user.stored_bundle(url).unwrap()["client"]["client_id"],
        second.as_str()
    );
}

#[test]
fn r9_two_servers_on_one_as_share_one_registration() {
    let a = Fixture::start(json!({}));
    let b = Fixture::start(json!({"mcp": {"prm": {"authorization_servers": [a.ready.issuer]}}}));
    let user = User::new("reg-share");
    user.run(&["login", &a.ready.mcp_url]).assert_ok();
    let second = user.run(&["login", &b.ready.mcp_url]);
    second.assert_ok();
    assert!(
        second
            .stderr
            .contains("registered earlier at this sign-in server"),
        "{}",
        second.stderr
    );

    let log = a.log();
    assert_eq!(log["register"].as_array().unwrap().len(), 1, "{log}");
    let id = client_ids(&log["clients"])[0].clone();
    let exchanges: Vec<(String, String)> = log["token"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["client_id"].as_str().unwrap_or_default().to_string(),
                t["resource"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        exchanges,
        [
            (id.clone(), a.ready.mcp_url.clone()),
            (id.clone(), b.ready.mcp_url.clone())
        ]
    );
    // The second sign-in read the registration back before the browser opened.
    assert_eq!(
        log["client_reads"],
        json!([{"client_id": id, "status": 200}])
    );
    // The second server's own authorization server was never asked.
    let other = b.log();
    assert_eq!(
        (other["register"].clone(), other["token"].clone()),
        (json!([]), json!([]))
    );
    for url in [&a.ready.mcp_url, &b.ready.mcp_url] {
        let bundle = user.stored_bundle(url).expect("a session");
        assert_eq!(bundle["client"]["client_id"], id.as_str());
    }
    assert_eq!(
        user.stored_client(&a.ready.issuer).unwrap()["client_id"],
        id.as_str()
    );
    assert!(user.stored_client(&b.ready.issuer).is_none());
}

#[test]
fn r10_a_server_that_moved_to_another_as_never_shows_it_the_old_client() {
    let a = Fixture::start(json!({}));
    let moved_to = Fixture::start(json!({}));
    let user = User::new("reg-moved");
    let url = a.ready.mcp_url.as_str();
    user.run(&["login", url]).assert_ok();
    let old = client_ids(&a.log()["clients"])[0].clone();
    let before = a.log();

    a.set_authorization_servers(&[&moved_to.ready.issuer]);
    let r = user.run(&["login", url]);
    r.assert_ok();

    let new_log = moved_to.log();
    assert_eq!(
        new_log["register"].as_array().unwrap().len(),
        1,
        "{new_log}"
    );
    let new = client_ids(&new_log["clients"])[0].clone();
    assert_ne!(new, old);
    // Nothing the new authorization server received carries the old client id: not the
    // registration, the sign-in page, the token request, nor any read.
    assert!(
        !new_log.to_string().contains(&old),
        "the new authorization server saw the old client {old}: {new_log}"
    );
    assert_eq!(last_page_client(&user), new);
    let exchange = &new_log["token"][0];
    assert_eq!(
        (exchange["client_id"].as_str(), exchange["status"].as_u64()),
        (Some(new.as_str()), Some(200))
    );
    // The old authorization server got nothing more.
    let after = a.log();
    for part in ["register", "authorize", "token", "client_reads"] {
        assert_eq!(after[part], before[part], "{part}");
    }
    let bundle = user.stored_bundle(url).expect("the new session");
    assert_eq!(bundle["issuer"], moved_to.ready.issuer.as_str());
    assert_eq!(bundle["client"]["client_id"], new.as_str());
    assert_eq!(
        user.stored_client(&moved_to.ready.issuer).unwrap()["client_id"],
        new.as_str()
    );
    assert_eq!(
        user.stored_client(&a.ready.issuer).unwrap()["client_id"],
        old.as_str()
    );
}
