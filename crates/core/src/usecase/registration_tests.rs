//! Client registrations through the use cases (sign-in, renewal, sign-out), with a fake
//! clock, a memory store, canned HTTP and a browser stand-in on the loopback callback: one
//! registration per issuer, never another issuer's client, dropped and redone when the
//! authorization server does not know it, an expired secret never sent, a rotated one picked
//! up (ARCHITECTURE.md, Protocol rules: client; field report R9, R10).

use crate::clock::{Clock, FakeClock};
use crate::oauth::plan::{make_plan, SignInPlan, TokenAuthMethod};
use crate::oauth::register::{ClientRegistration, RegistrationMethod};
use crate::protocol::canned::{Canned, Expect, Sent};
use crate::protocol::discovery::Discovery;
use crate::secret::Secret;
use crate::store::vault::tests::sample;
use crate::store::vault::{server_id, CredentialBundle, CredentialStore, MemoryStore};
use crate::usecase::{BrowserMode, Latchkey, Need, SignInEvent, SignInOptions};
use serde_json::json;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

const ISSUER: &str = "https://as.example.com";
const ISSUER2: &str = "https://as2.example.com";
const SERVER_A: &str = "https://a.example.com/mcp";
const SERVER_B: &str = "https://b.example.com/mcp";

struct Env {
    engine: Latchkey,
    canned: Arc<Canned>,
    store: Arc<MemoryStore>,
    clock: FakeClock,
    _home: tempfile::TempDir,
}

fn env(exchanges: Vec<Expect>) -> Env {
    let clock = FakeClock::at(crate::clock::now());
    let store = Arc::new(MemoryStore::default());
    let home = tempfile::tempdir().unwrap();
    let canned = Canned::new(exchanges);
    let engine = super::tests::test_engine(store.clone(), &canned, &clock, home.path());
    Env {
        engine,
        canned,
        store,
        clock,
        _home: home,
    }
}

impl Env {
    fn now(&self) -> u64 {
        self.clock.now()
    }

    fn kept(&self, issuer: &str) -> Option<ClientRegistration> {
        self.store.load_client(issuer).unwrap()
    }

    fn bundle(&self, server: &str) -> CredentialBundle {
        self.store
            .load(&server_id(server).unwrap())
            .unwrap()
            .unwrap()
    }
}

/// The plan for `server` signing in at `issuer` with automatic registration, asking `mcp`.
fn plan(server: &str, issuer: &str) -> SignInPlan {
    let d: Discovery = serde_json::from_value(json!({
        "server_url": server, "resource": server, "probe_status": 401,
        "challenge": null, "prm": null, "prm_url": null, "prm_source": null,
        "issuer": issuer, "as_source": "resource_metadata",
        "as_metadata": {"issuer": issuer, "authorization_endpoint": format!("{issuer}/auth"),
                        "token_endpoint": format!("{issuer}/token"),
                        "registration_endpoint": format!("{issuer}/reg"),
                        "code_challenge_methods_supported": ["S256"]},
        "as_metadata_url": null, "steps": []
    }))
    .expect("a discovery value");
    let mut p = make_plan(d, &Default::default());
    p.set_scopes(["mcp".to_string()]).unwrap();
    p
}

fn options() -> SignInOptions {
    SignInOptions {
        browser: BrowserMode::PrintOnly,
        timeout: Duration::from_secs(10),
        ..SignInOptions::default()
    }
}

fn registered(issuer: &str, id: &str) -> Expect {
    Expect::post(&format!("{issuer}/reg")).respond_json(
        201,
        &json!({"client_id": id, "token_endpoint_auth_method": "none"}),
    )
}

fn exchanged(issuer: &str, id: &str) -> Expect {
    Expect::post(&format!("{issuer}/token"))
        .with_form("grant_type", "authorization_code")
        .with_form("client_id", id)
        .respond_json(
            200,
            &json!({"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600,
                    "refresh_token": "rt-1", "scope": "mcp"}),
        )
}

/// A login page: the authorization server knows the client.
fn login_page(issuer: &str) -> Expect {
    Expect::get(&format!("{issuer}/auth"))
        .with_any_query()
        .respond(302)
        .respond_header("location", "/interaction/1")
}

/// A port free now, for a kept registration's redirect URI.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A dynamic registration kept for `issuer`, on `port`.
fn kept_client(issuer: &str, id: &str, port: u16) -> ClientRegistration {
    ClientRegistration {
        method: RegistrationMethod::Dynamic,
        issuer: issuer.into(),
        client_id: id.into(),
        client_secret: None,
        auth_method: TokenAuthMethod::None,
        redirect_uris: vec![format!("http://127.0.0.1:{port}/callback")],
        registration_access_token: None,
        registration_client_uri: None,
        client_secret_expires_at: None,
        registered_scope: Some("mcp".into()),
        device_grant: false,
    }
}

/// Every event heard, and a browser stand-in: for each sign-in page it sends the loopback
/// callback a code with the page's `state`, as a browser does after the person signed in.
#[derive(Clone, Default)]
struct Browser {
    heard: Arc<Mutex<Vec<SignInEvent>>>,
}

impl Browser {
    fn hear(&self, e: SignInEvent) {
        if let SignInEvent::SignInPage { url, .. } = &e {
            deliver(url);
        }
        self.heard.lock().unwrap().push(e);
    }

    fn heard(&self) -> Vec<SignInEvent> {
        self.heard.lock().unwrap().clone()
    }

    fn pages(&self) -> Vec<Url> {
        self.heard()
            .iter()
            .filter_map(|e| match e {
                SignInEvent::SignInPage { url, .. } => Url::parse(url).ok(),
                _ => None,
            })
            .collect()
    }
}

fn query(u: &Url, name: &str) -> Option<String> {
    u.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn deliver(page: &str) {
    let u = Url::parse(page).unwrap();
    let redirect = Url::parse(&query(&u, "redirect_uri").unwrap()).unwrap();
    let state: String =
        url::form_urlencoded::byte_serialize(query(&u, "state").unwrap().as_bytes()).collect();
    let port = redirect.port().unwrap();
    std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            s,
            "GET /callback?code=the-code&state={state} HTTP/1.1\r\nhost: x\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
    });
}

async fn sign_in(
    e: &Env,
    plan: &SignInPlan,
    options: &SignInOptions,
    b: &Browser,
) -> CredentialBundle {
    let result = e.engine.sign_in(plan, options, &|ev| b.hear(ev)).await;
    if let Err(err) = &result {
        e.canned.assert_done();
        panic!("the sign-in failed: {err}");
    }
    result.unwrap()
}

/// Everything a request carried, as text: URL, headers (values decoded, Basic credentials
/// too), body.
fn carried(s: &Sent) -> String {
    use base64::Engine;
    let headers: Vec<String> = s
        .headers
        .iter()
        .map(|(k, v)| {
            let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
            let basic = v
                .strip_prefix("Basic ")
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .map(|d| String::from_utf8_lossy(&d).into_owned())
                .unwrap_or_default();
            format!("{k}: {v} {basic}")
        })
        .collect();
    format!(
        "{} {}\n{}\n{}",
        s.method,
        s.url,
        headers.join("\n"),
        String::from_utf8_lossy(&s.body)
    )
}

fn registrations_sent(e: &Env) -> usize {
    e.canned
        .sent()
        .iter()
        .filter(|s| s.method == reqwest::Method::POST && s.url.path() == "/reg")
        .count()
}

#[tokio::test]
async fn two_servers_at_one_issuer_share_one_registration() {
    let e = env(vec![
        registered(ISSUER, "c-1"),
        exchanged(ISSUER, "c-1"),
        // The second sign-in asks the sign-in page about the kept client before the browser.
        login_page(ISSUER),
        exchanged(ISSUER, "c-1"),
    ]);
    let b = Browser::default();
    let a = sign_in(&e, &plan(SERVER_A, ISSUER), &options(), &b).await;
    assert_eq!(e.kept(ISSUER).unwrap().client_id, "c-1");
    let second = Browser::default();
    let bb = sign_in(&e, &plan(SERVER_B, ISSUER), &options(), &second).await;
    assert_eq!(registrations_sent(&e), 1, "{:?}", e.canned.requests());
    assert_eq!(
        (a.client.client_id.as_str(), bb.client.client_id.as_str()),
        ("c-1", "c-1")
    );
    assert!(second.heard().iter().any(|ev| matches!(
        ev,
        SignInEvent::ClientReady { reused: true, client_id, .. } if client_id == "c-1"
    )));
    // While waiting with a reused registration, the person is told what to do if the page
    // says the app is unknown.
    assert!(second.heard().iter().any(|ev| matches!(
        ev,
        SignInEvent::SignInPage { register_again: Some(w), .. } if w.contains("unknown")
    )));
    assert!(b.heard().iter().all(|ev| !matches!(
        ev,
        SignInEvent::SignInPage {
            register_again: Some(_),
            ..
        }
    )));
    // Each bundle keeps its own copy of the client that got its tokens.
    assert_eq!(e.bundle(SERVER_A).client.client_id, "c-1");
    assert_eq!(e.bundle(SERVER_B).client.client_id, "c-1");
    e.canned.assert_done();
}
#[tokio::test]
async fn a_new_authorization_server_gets_its_own_registration_and_never_the_old_client() {
    let e = env(vec![
        registered(ISSUER2, "c-new"),
        exchanged(ISSUER2, "c-new"),
    ]);
    // Signed in at the first authorization server, with a confidential client kept for it.
    let mut old = kept_client(ISSUER, "c-old", free_port());
    old.client_secret = Some(Secret::new("old-secret"));
    old.auth_method = TokenAuthMethod::ClientSecretBasic;
    e.store.save_client(&old).unwrap();
    let mut b = sample(SERVER_A);
    b.client = old.clone();
    e.store.save(&b).unwrap();

    // The server's metadata now names another authorization server.
    let signed = sign_in(
        &e,
        &plan(SERVER_A, ISSUER2),
        &options(),
        &Browser::default(),
    )
    .await;
    assert_eq!(signed.issuer, ISSUER2);
    assert_eq!(signed.client.client_id, "c-new");
    let sent = e.canned.sent();
    assert!(!sent.is_empty());
    for s in &sent {
        assert_eq!(s.url.host_str(), Some("as2.example.com"));
        let text = carried(s);
        assert!(
            !text.contains("c-old")
                && !text.contains("old-secret")
                && s.header("authorization").is_none(),
            "the new authorization server got the old client: {text}"
        );
    }
    assert_eq!(e.kept(ISSUER2).unwrap().client_id, "c-new");
    // The old issuer's registration is its own business: left as it was.
    assert_eq!(e.kept(ISSUER).unwrap(), old);
    e.canned.assert_done();
}
#[tokio::test]
async fn a_session_whose_client_is_from_another_issuer_is_neither_refreshed_nor_revoked_there() {
    let e = env(vec![]);
    let mut b = sample(SERVER_A);
    b.tokens.expires_at = Some(e.now() - 10);
    b.revocation_endpoint = Some(format!("{ISSUER}/revoke"));
    b.client.issuer = ISSUER2.into();
    e.store.save(&b).unwrap();
    let err = e.engine.fresh(SERVER_A, Need::ForUse).await.unwrap_err();
    assert_eq!(err.code(), "needs_sign_in");
    let out = e.engine.sign_out(SERVER_A).await.unwrap().unwrap();
    assert!(matches!(out.revoked, Ok(false)));
    assert!(e.canned.sent().is_empty(), "{:?}", e.canned.requests());
    assert!(e.store.load(&b.server_id).unwrap().is_none());
}

#[tokio::test]
async fn invalid_client_at_the_code_exchange_registers_again_and_restarts_the_sign_in_once() {
    let e = env(vec![
        registered(ISSUER, "c-1"),
        Expect::post(&format!("{ISSUER}/token"))
            .with_form("client_id", "c-1")
            .respond_json(
                401,
                &json!({"error": "invalid_client", "error_description": "client is invalid"}),
            ),
        registered(ISSUER, "c-2"),
        exchanged(ISSUER, "c-2"),
    ]);
    let b = Browser::default();
    let signed = sign_in(&e, &plan(SERVER_A, ISSUER), &options(), &b).await;
    assert_eq!(signed.client.client_id, "c-2");
    assert_eq!(e.kept(ISSUER).unwrap().client_id, "c-2");
    assert_eq!(registrations_sent(&e), 2);
    // The person was told, and passed the sign-in page a second time with the new client.
    let restart = b.heard().into_iter().find_map(|ev| match ev {
        SignInEvent::RegisteringAgain {
            message,
            restarting: true,
            ..
        } => Some(message),
        _ => None,
    });
    let restart = restart.expect("a RegisteringAgain event");
    assert!(
        restart.contains("invalid_client") && restart.contains("once more"),
        "{restart}"
    );
    let pages = b.pages();
    assert_eq!(pages.len(), 2);
    assert_eq!(query(&pages[0], "client_id").as_deref(), Some("c-1"));
    assert_eq!(query(&pages[1], "client_id").as_deref(), Some("c-2"));
    e.canned.assert_done();
}
#[tokio::test]
async fn a_second_refusal_of_the_client_ends_the_sign_in_and_keeps_no_registration() {
    let refused = |id: &str| {
        Expect::post(&format!("{ISSUER}/token"))
            .with_form("client_id", id)
            .respond_json(400, &json!({"error": "unauthorized_client"}))
    };
    let e = env(vec![
        registered(ISSUER, "c-1"),
        refused("c-1"),
        registered(ISSUER, "c-2"),
        refused("c-2"),
    ]);
    let b = Browser::default();
    let err = e
        .engine
        .sign_in(&plan(SERVER_A, ISSUER), &options(), &|ev| b.hear(ev))
        .await
        .unwrap_err();
    e.canned.assert_done();
    assert_eq!(
        err.oauth().map(|o| o.code.as_str()),
        Some("unauthorized_client")
    );
    assert_eq!(e.kept(ISSUER), None);
    assert_eq!(b.pages().len(), 2);
}

#[tokio::test]
async fn a_kept_registration_the_server_no_longer_knows_is_replaced_before_the_browser_opens() {
    let port = free_port();
    let mut k = kept_client(ISSUER, "c-old", port);
    k.registration_client_uri = Some(format!("{ISSUER}/reg/c-old"));
    k.registration_access_token = Some(Secret::new("rat-old"));
    let e = env(vec![
        // RFC 7592 read: the authorization server was redeployed and forgot every client.
        Expect::get(&format!("{ISSUER}/reg/c-old"))
            .with_header("authorization", "Bearer rat-old")
            .respond_json(401, &json!({"error": "invalid_token", "error_description": "registration access token not found"})),
        registered(ISSUER, "c-new"),
        exchanged(ISSUER, "c-new"),
    ]);
    e.store.save_client(&k).unwrap();
    let b = Browser::default();
    let signed = sign_in(&e, &plan(SERVER_A, ISSUER), &options(), &b).await;
    assert_eq!(signed.client.client_id, "c-new");
    assert_eq!(e.kept(ISSUER).unwrap().client_id, "c-new");
    let pages = b.pages();
    assert_eq!(
        pages.len(),
        1,
        "the browser opened once, with the new client"
    );
    assert_eq!(query(&pages[0], "client_id").as_deref(), Some("c-new"));
    // The new registration answers on the same loopback port.
    assert_eq!(signed.client.redirect_port(), Some(port));
    assert!(b.heard().iter().any(|ev| matches!(
        ev,
        SignInEvent::RegisteringAgain { restarting: false, message, .. } if message.contains("no longer knows")
    )));
    e.canned.assert_done();
}
#[tokio::test]
async fn without_rfc7592_the_sign_in_page_tells_that_the_client_is_unknown() {
    let e = env(vec![
        Expect::get(&format!("{ISSUER}/auth"))
            .with_any_query()
            .respond(400)
            .respond_header("content-type", "text/html")
            .respond_body(
                r#"<pre id="error">{&quot;error&quot;: &quot;invalid_client&quot;}</pre>"#,
            ),
        registered(ISSUER, "c-new"),
        exchanged(ISSUER, "c-new"),
    ]);
    e.store
        .save_client(&kept_client(ISSUER, "c-old", free_port()))
        .unwrap();
    let b = Browser::default();
    let signed = sign_in(&e, &plan(SERVER_A, ISSUER), &options(), &b).await;
    assert_eq!(signed.client.client_id, "c-new");
    let check = &e.canned.sent()[0];
    assert_eq!(query(&check.url, "client_id").as_deref(), Some("c-old"));
    // The check is its own request: the browser's state is not the one it carried.
    assert_ne!(query(&check.url, "state"), query(&b.pages()[0], "state"));
    assert_eq!(b.pages().len(), 1);
    e.canned.assert_done();
}
#[tokio::test]
async fn register_again_drops_the_kept_registration_first() {
    let e = env(vec![registered(ISSUER, "c-2"), exchanged(ISSUER, "c-2")]);
    e.store
        .save_client(&kept_client(ISSUER, "c-1", free_port()))
        .unwrap();
    let o = SignInOptions {
        register_again: true,
        ..options()
    };
    let b = Browser::default();
    let signed = sign_in(&e, &plan(SERVER_A, ISSUER), &o, &b).await;
    assert_eq!(signed.client.client_id, "c-2");
    assert_eq!(e.kept(ISSUER).unwrap().client_id, "c-2");
    assert!(b
        .heard()
        .iter()
        .any(|ev| matches!(ev, SignInEvent::RegisteringAgain { .. })));
    e.canned.assert_done();
}
#[tokio::test]
async fn a_kept_registration_whose_port_is_taken_or_scopes_do_not_fit_is_replaced_for_both() {
    // Its port is busy: a new registration on another port replaces it.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let e = env(vec![
        Expect::post(&format!("{ISSUER}/reg")).respond_json(201, &json!({"client_id": "c-2"})),
        exchanged(ISSUER, "c-2"),
        Expect::post(&format!("{ISSUER}/reg")).respond_json(201, &json!({"client_id": "c-3"})),
        exchanged(ISSUER, "c-3"),
    ]);
    e.store
        .save_client(&kept_client(ISSUER, "c-1", port))
        .unwrap();
    let signed = sign_in(&e, &plan(SERVER_A, ISSUER), &options(), &Browser::default()).await;
    assert_eq!(signed.client.client_id, "c-2");
    assert_ne!(signed.client.redirect_port(), Some(port));
    drop(busy);
    // A server asking for more: one registration serves both servers' scopes.
    let mut wider = plan(SERVER_B, ISSUER);
    wider.add_scope("mcp:write").unwrap();
    let b2 = sign_in(&e, &wider, &options(), &Browser::default()).await;
    assert_eq!(b2.client.client_id, "c-3");
    let last_registration = e
        .canned
        .sent()
        .into_iter()
        .rfind(|s| s.url.path() == "/reg")
        .unwrap();
    assert_eq!(
        last_registration.json().unwrap()["scope"],
        "mcp mcp:write",
        "the scopes of the registration it replaces are kept"
    );
    assert_eq!(
        e.kept(ISSUER).unwrap().registered_scope.as_deref(),
        Some("mcp mcp:write")
    );
    e.canned.assert_done();
}
#[tokio::test]
async fn an_expired_secret_is_never_sent_at_sign_in() {
    let e = env(vec![registered(ISSUER, "c-2"), exchanged(ISSUER, "c-2")]);
    let mut k = kept_client(ISSUER, "c-1", free_port());
    k.client_secret = Some(Secret::new("expired-secret"));
    k.auth_method = TokenAuthMethod::ClientSecretBasic;
    k.client_secret_expires_at = Some(e.now() - 10);
    e.store.save_client(&k).unwrap();
    let signed = sign_in(&e, &plan(SERVER_A, ISSUER), &options(), &Browser::default()).await;
    assert_eq!(signed.client.client_id, "c-2");
    for s in e.canned.sent() {
        let text = carried(&s);
        assert!(
            !text.contains("c-1") && !text.contains("expired-secret"),
            "{text}"
        );
    }
    assert_eq!(e.kept(ISSUER).unwrap().client_id, "c-2");
    e.canned.assert_done();
}
#[tokio::test]
async fn a_registration_read_that_shows_an_expired_secret_is_not_reused() {
    let now = crate::clock::now();
    let mut k = kept_client(ISSUER, "c-1", free_port());
    k.client_secret = Some(Secret::new("secret-1"));
    k.auth_method = TokenAuthMethod::ClientSecretBasic;
    k.client_secret_expires_at = Some(now + 60);
    k.registration_client_uri = Some(format!("{ISSUER}/reg/c-1"));
    k.registration_access_token = Some(Secret::new("rat-1"));
    let e = env(vec![
        Expect::get(&format!("{ISSUER}/reg/c-1")).respond_json(
            200,
            &json!({"client_id": "c-1", "client_secret_expires_at": now - 5}),
        ),
        registered(ISSUER, "c-2"),
        exchanged(ISSUER, "c-2"),
    ]);
    e.store.save_client(&k).unwrap();
    let b = Browser::default();
    let signed = sign_in(&e, &plan(SERVER_A, ISSUER), &options(), &b).await;
    assert_eq!(signed.client.client_id, "c-2");
    assert!(b.heard().iter().any(|ev| matches!(
        ev,
        SignInEvent::RegisteringAgain { message, .. } if message.contains("has expired")
    )));
    for s in e.canned.sent() {
        assert!(!carried(&s).contains("secret-1"), "{}", carried(&s));
    }
    e.canned.assert_done();
}

#[tokio::test]
async fn a_refresh_with_an_expired_secret_sends_nothing_and_asks_for_sign_in() {
    let e = env(vec![]);
    let mut b = sample(SERVER_A);
    b.tokens.expires_at = Some(e.now() - 10);
    b.client.client_secret = Some(Secret::new("expired-secret"));
    b.client.auth_method = TokenAuthMethod::ClientSecretBasic;
    b.client.client_secret_expires_at = Some(e.now() - 1);
    e.store.save(&b).unwrap();
    e.store.save_client(&b.client).unwrap();
    let err = e.engine.fresh(SERVER_A, Need::ForUse).await.unwrap_err();
    assert!(e.canned.sent().is_empty(), "{:?}", e.canned.requests());
    assert_eq!(err.code(), "needs_sign_in");
    assert!(err.to_string().contains("client secret"), "{err}");
    let n = e.bundle(SERVER_A).needs_sign_in.unwrap();
    assert_eq!(n.code, "client_secret_expired");
    assert!(n
        .description
        .unwrap()
        .contains("signing in again registers anew"));
    assert_eq!(
        crate::health::reasons::from_needs_sign_in(&e.bundle(SERVER_A).needs_sign_in.unwrap()).id,
        "client_secret_expired"
    );
    assert_eq!(e.kept(ISSUER), None, "the next sign-in registers anew");
}

#[tokio::test]
async fn an_rfc7592_read_before_the_secret_expires_picks_up_the_rotated_one_everywhere() {
    let now = crate::clock::now();
    let mut client = kept_client(ISSUER, "client-1", 1234);
    client.client_secret = Some(Secret::new("old-secret"));
    client.auth_method = TokenAuthMethod::ClientSecretBasic;
    client.client_secret_expires_at = Some(now + 3600);
    client.registration_client_uri = Some(format!("{ISSUER}/reg/client-1"));
    client.registration_access_token = Some(Secret::new("rat-1"));
    let e = env(vec![
        Expect::get(&format!("{ISSUER}/reg/client-1"))
            .with_header("authorization", "Bearer rat-1")
            .respond_json(
                200,
                &json!({"client_id": "client-1", "client_secret": "new-secret",
                        "client_secret_expires_at": now + 90 * 86400,
                        "registration_access_token": "rat-2"}),
            ),
        // "client-1:new-secret" (RFC 6749 section 2.3.1).
        Expect::post(&format!("{ISSUER}/token"))
            .with_form("grant_type", "refresh_token")
            .with_header("authorization", "Basic Y2xpZW50LTE6bmV3LXNlY3JldA==")
            .respond_json(
                200,
                &json!({"access_token": "at-2", "token_type": "Bearer", "expires_in": 3600}),
            ),
    ]);
    for server in [SERVER_A, SERVER_B] {
        let mut b = sample(server);
        b.client = client.clone();
        b.tokens.expires_at = Some(if server == SERVER_A {
            now - 10
        } else {
            now + 7200
        });
        e.store.save(&b).unwrap();
    }
    e.store.save_client(&client).unwrap();
    let renewed = e.engine.fresh(SERVER_A, Need::ForUse).await.unwrap();
    e.canned.assert_done();
    assert_eq!(renewed.tokens.access_token.expose(), "at-2");
    let expect_new = |c: &ClientRegistration| {
        assert_eq!(
            c.client_secret.as_ref().map(Secret::expose),
            Some("new-secret")
        );
        assert_eq!(c.client_secret_expires_at, Some(now + 90 * 86400));
        assert_eq!(
            c.registration_access_token.as_ref().map(Secret::expose),
            Some("rat-2")
        );
    };
    expect_new(&e.bundle(SERVER_A).client);
    expect_new(&e.kept(ISSUER).unwrap());
    // The other server that uses this client has it too, without a request of its own.
    expect_new(&e.bundle(SERVER_B).client);
    assert_eq!(
        e.bundle(SERVER_B).tokens.access_token.expose(),
        "at-secret-value"
    );
}

#[tokio::test]
async fn a_refresh_refused_for_the_client_drops_the_issuers_registration_when_it_is_that_client() {
    for (kept_id, dropped) in [("client-1", true), ("client-newer", false)] {
        let e = env(vec![Expect::post(&format!("{ISSUER}/token"))
            .respond_json(401, &json!({"error": "invalid_client"}))]);
        let mut b = sample(SERVER_A);
        b.tokens.expires_at = Some(e.now() - 10);
        e.store.save(&b).unwrap();
        let mut k = b.client.clone();
        k.client_id = kept_id.into();
        e.store.save_client(&k).unwrap();
        let err = e.engine.fresh(SERVER_A, Need::ForUse).await.unwrap_err();
        e.canned.assert_done();
        assert_eq!(err.code(), "needs_sign_in");
        assert_eq!(
            e.bundle(SERVER_A).needs_sign_in.unwrap().code,
            "invalid_client"
        );
        assert_eq!(e.kept(ISSUER).is_none(), dropped, "kept {kept_id}");
    }
}

/// The browser on another computer (issue 17): its redirect never reaches the listener; the
/// address it ended on is pasted back. A paste that is not the answer is refused in words and
/// the sign-in keeps waiting; the answer finishes it, and the method said why.
#[tokio::test]
async fn a_pasted_back_answer_finishes_the_sign_in_without_the_listener() {
    use crate::usecase::{paste_back_channel, PasteOutcome, SignInMethod};
    let e = env(vec![registered(ISSUER, "c-1"), exchanged(ISSUER, "c-1")]);
    let (paste, inbox) = paste_back_channel();
    let options = SignInOptions {
        paste_back: Some(inbox),
        ..options()
    };
    let heard: Arc<Mutex<Vec<SignInEvent>>> = Arc::default();
    let pasting = {
        let heard = heard.clone();
        move |ev: SignInEvent| {
            if let SignInEvent::SignInPage { url, .. } = &ev {
                let u = Url::parse(url).unwrap();
                let redirect = query(&u, "redirect_uri").unwrap();
                let state: String =
                    url::form_urlencoded::byte_serialize(query(&u, "state").unwrap().as_bytes())
                        .collect();
                let paste = paste.clone();
                tokio::spawn(async move {
                    let wrong = paste
                        .submit(Secret::new(format!("{redirect}?code=the-code&state=wrong")))
                        .await;
                    assert!(
                        matches!(&wrong, PasteOutcome::NotTheAnswer { message, left: 4 } if message.contains("state")),
                        "{wrong:?}"
                    );
                    let right = paste
                        .submit(Secret::new(format!(
                            "{redirect}?code=the-code&state={state}"
                        )))
                        .await;
                    assert_eq!(right, PasteOutcome::Accepted);
                });
            }
            heard.lock().unwrap().push(ev);
        }
    };
    let bundle = e
        .engine
        .sign_in(&plan(SERVER_A, ISSUER), &options, &pasting)
        .await
        .expect("signed in with the pasted answer");
    assert_eq!(bundle.tokens.access_token.expose(), "at-1");
    let heard = heard.lock().unwrap().clone();
    assert!(
        heard.iter().any(|ev| matches!(
            ev,
            SignInEvent::Method { method: SignInMethod::PasteBack, why, ssh_forward: None }
                if why.contains("You asked Latchkey not to open a browser")
        )),
        "{heard:?}"
    );
    e.canned.assert_done();
}
