//! Sign-in with a code on another device (RFC 8628) through the use case, over canned HTTP:
//! which way a sign-in goes and why ([`choose_method`]), the registration that asks for the
//! device grant, the events a front shows, and the bundle stored. The polling rules are
//! tested in `oauth/device_tests.rs`.

use crate::clock::FakeClock;
use crate::error::Error;
use crate::oauth::browser::Availability;
use crate::oauth::device::GRANT_TYPE;
use crate::oauth::plan::{make_plan, SignInPlan, TokenAuthMethod};
use crate::oauth::register::{ClientRegistration, RegistrationMethod};
use crate::protocol::canned::{Canned, Expect};
use crate::protocol::discovery::Discovery;
use crate::store::vault::{CredentialStore, MemoryStore};
use crate::usecase::sign_in::{browser_availability, choose_method, DeviceChoice, SignInMethod};
use crate::usecase::{BrowserMode, SignInEvent, SignInOptions};
use serde_json::json;
use std::sync::{Arc, Mutex};

const ISSUER: &str = "https://as.example.com";
const SERVER: &str = "https://mcp.example.com/mcp";
const DEVICE_CODE: &str = "dc-0123456789abcdef0123456789";

/// The plan for SERVER at ISSUER, asking `mcp`, with a device endpoint when `device`.
fn plan(device: bool) -> SignInPlan {
    let mut meta = json!({"issuer": ISSUER, "authorization_endpoint": format!("{ISSUER}/auth"),
        "token_endpoint": format!("{ISSUER}/token"), "registration_endpoint": format!("{ISSUER}/reg"),
        "code_challenge_methods_supported": ["S256"]});
    if device {
        meta["device_authorization_endpoint"] = json!(format!("{ISSUER}/device/auth"));
    }
    let d: Discovery = serde_json::from_value(json!({
        "server_url": SERVER, "resource": SERVER, "probe_status": 401,
        "challenge": null, "prm": null, "prm_url": null, "prm_source": null,
        "issuer": ISSUER, "as_source": "resource_metadata", "as_metadata": meta,
        "as_metadata_url": null, "steps": []
    }))
    .unwrap();
    let mut p = make_plan(d, &Default::default());
    p.set_scopes(["mcp".to_string()]).unwrap();
    p
}

fn options(browser: BrowserMode, device: DeviceChoice) -> SignInOptions {
    SignInOptions {
        browser,
        device,
        ..SignInOptions::default()
    }
}

#[test]
fn the_code_is_used_when_asked_for_or_when_no_browser_can_open_here() {
    use BrowserMode::{Open, PrintOnly};
    use DeviceChoice::{Always, Auto, Never};
    let yes = Availability::Yes {
        why: "a display".into(),
    };
    let no = Availability::No {
        why: "This is an SSH session without a display, so no browser can open here".into(),
    };
    let cases = [
        (true, Open, &yes, Always, true),
        (true, Open, &no, Auto, true),
        (true, Open, &yes, Auto, false),
        (true, PrintOnly, &no, Never, false),
        (false, PrintOnly, &no, Auto, false),
    ];
    for (device, browser, here, choice, want) in cases {
        let why = choose_method(&options(browser, choice), &plan(device), here).unwrap();
        assert_eq!(
            why.is_some(),
            want,
            "{device} {browser:?} {choice:?}: {why:?}"
        );
    }
    let why = choose_method(&options(Open, Auto), &plan(true), &no)
        .unwrap()
        .unwrap();
    assert_eq!(
        why,
        "This is an SSH session without a display, so no browser can open here, and https://as.example.com offers sign-in with a code on another device: open the address below on your phone or another computer and enter the code"
    );
    // --no-browser says so, in the person's words.
    let printed = browser_availability(&options(PrintOnly, Auto));
    assert!(!printed.can_open());
    assert!(
        choose_method(&options(PrintOnly, Auto), &plan(true), &printed)
            .unwrap()
            .unwrap()
            .starts_with(
                "You asked Latchkey not to open a browser, and https://as.example.com offers"
            )
    );
}

#[test]
fn asking_for_the_code_where_the_server_has_no_device_endpoint_names_it_and_the_way_out() {
    let e = choose_method(
        &options(BrowserMode::Open, DeviceChoice::Always),
        &plan(false),
        &Availability::Yes {
            why: "a display".into(),
        },
    )
    .unwrap_err();
    assert!(
        matches!(&e, Error::NoDeviceFlow { issuer } if issuer == ISSUER),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains("https://as.example.com does not offer sign-in with a code"),
        "{e}"
    );
    assert!(e.hint().contains("without --device"), "{}", e.hint());
}

fn engine(
    canned: &Arc<Canned>,
    store: Arc<MemoryStore>,
    home: &std::path::Path,
) -> crate::usecase::Latchkey {
    super::tests::test_engine(store, canned, &FakeClock::at(crate::clock::now()), home)
}

fn device_exchanges(client_id: &str) -> Vec<Expect> {
    vec![
        Expect::post(&format!("{ISSUER}/device/auth"))
            .with_form("client_id", client_id)
            .with_form("scope", "mcp")
            .with_form("resource", SERVER)
            .respond_json(
                200,
                &json!({"device_code": DEVICE_CODE, "user_code": "BCDF-GHJK",
                "verification_uri": format!("{ISSUER}/device"),
                "verification_uri_complete": format!("{ISSUER}/device?user_code=BCDF-GHJK"),
                "expires_in": 600, "interval": 1}),
            ),
        Expect::post(&format!("{ISSUER}/token"))
            .with_form("grant_type", GRANT_TYPE)
            .respond_json(400, &json!({"error": "authorization_pending"})),
        Expect::post(&format!("{ISSUER}/token"))
            .with_form("grant_type", GRANT_TYPE)
            .with_form("device_code", DEVICE_CODE)
            .with_form("client_id", client_id)
            .with_form("resource", SERVER)
            .respond_json(
                200,
                &json!({"access_token": "at-1", "token_type": "Bearer",
                "expires_in": 3600, "refresh_token": "rt-1", "scope": "mcp"}),
            ),
    ]
}

#[tokio::test(start_paused = true)]
async fn a_device_sign_in_registers_for_both_grants_shows_the_code_and_stores_the_session() {
    let mut exchanges = vec![Expect::post(&format!("{ISSUER}/reg")).respond_json(
        201,
        &json!({"client_id": "c-1", "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token", GRANT_TYPE]}),
    )];
    exchanges.extend(device_exchanges("c-1"));
    let canned = Canned::new(exchanges);
    let store = Arc::new(MemoryStore::default());
    let home = tempfile::tempdir().unwrap();
    let heard = Arc::new(Mutex::new(Vec::new()));
    let h = heard.clone();
    let bundle = engine(&canned, store.clone(), home.path())
        .sign_in(
            &plan(true),
            &options(BrowserMode::Open, DeviceChoice::Always),
            &move |e| h.lock().unwrap().push(e),
        )
        .await
        .unwrap();
    canned.assert_done();
    let grants = canned.sent()[0].json().unwrap()["grant_types"].clone();
    assert_eq!(
        grants,
        json!(["authorization_code", "refresh_token", GRANT_TYPE])
    );
    assert_eq!(bundle.tokens.access_token.expose(), "at-1");
    assert_eq!(bundle.client.client_id, "c-1");
    assert!(store.load_client(ISSUER).unwrap().unwrap().device_grant);
    let heard = heard.lock().unwrap().clone();
    assert!(
        matches!(
            &heard[0],
            SignInEvent::Method {
                method: SignInMethod::DeviceCode,
                ..
            }
        ),
        "{heard:?}"
    );
    assert!(
        heard.contains(&SignInEvent::DeviceCode {
            user_code: "BCDF-GHJK".into(),
            verification_uri: format!("{ISSUER}/device"),
            verification_uri_complete: Some(format!("{ISSUER}/device?user_code=BCDF-GHJK")),
            expires_in_secs: 600,
        }),
        "{heard:?}"
    );
    assert!(!format!("{heard:?}").contains(DEVICE_CODE));
    // No browser event: nothing was opened and nothing listened.
    assert!(!heard.iter().any(|e| matches!(
        e,
        SignInEvent::SignInPage { .. } | SignInEvent::Listening { .. }
    )));
}

#[tokio::test(start_paused = true)]
async fn a_kept_registration_without_the_device_grant_is_replaced_and_one_with_it_reused() {
    let kept = |id: &str, device_grant: bool| ClientRegistration {
        method: RegistrationMethod::Dynamic,
        issuer: ISSUER.into(),
        client_id: id.into(),
        client_secret: None,
        auth_method: TokenAuthMethod::None,
        redirect_uris: vec!["http://127.0.0.1:40999/callback".into()],
        registration_access_token: None,
        registration_client_uri: None,
        client_secret_expires_at: None,
        registered_scope: Some("mcp".into()),
        device_grant,
    };
    let home = tempfile::tempdir().unwrap();
    let o = options(BrowserMode::PrintOnly, DeviceChoice::Auto);

    // Registered before the server offered the device grant: registered again.
    let mut exchanges = vec![Expect::post(&format!("{ISSUER}/reg")).respond_json(
        201,
        &json!({"client_id": "c-new", "token_endpoint_auth_method": "none"}),
    )];
    exchanges.extend(device_exchanges("c-new"));
    let canned = Canned::new(exchanges);
    let store = Arc::new(MemoryStore::default());
    store.save_client(&kept("c-old", false)).unwrap();
    let b = engine(&canned, store.clone(), home.path())
        .sign_in(&plan(true), &o, &|_| {})
        .await
        .unwrap();
    canned.assert_done();
    assert_eq!(b.client.client_id, "c-new");
    assert_eq!(
        store.load_client(ISSUER).unwrap().unwrap().client_id,
        "c-new"
    );

    // Registered for it: reused, nothing registered.
    let canned = Canned::new(device_exchanges("c-dev"));
    let store = Arc::new(MemoryStore::default());
    store.save_client(&kept("c-dev", true)).unwrap();
    let b = engine(&canned, store, home.path())
        .sign_in(&plan(true), &o, &|_| {})
        .await
        .unwrap();
    canned.assert_done();
    assert_eq!(b.client.client_id, "c-dev");
}
