//! The device authorization grant over the canned transport: lenient answers, the polling
//! rules of RFC 8628 section 3.5, the errors in words, the address checks, and no device code
//! in any error or trace text. Time is tokio's paused clock, so waits take no real time.

use super::*;
use crate::clock::FakeClock;
use crate::oauth::register::RegistrationMethod;
use crate::protocol::canned::{Canned, Expect};
use crate::protocol::trace::Recorder;
use serde_json::json;
use std::sync::Arc;

const ISSUER: &str = "https://as.example.com";
const DEVICE: &str = "https://as.example.com/device/auth";
const TOKEN: &str = "https://as.example.com/token";
const SERVER: &str = "https://mcp.example.com/mcp";
const DEVICE_CODE: &str = "DEVICE-CODE-s3cr3t-0123456789abcdef";
const NOW: u64 = 1_700_000_000;

fn client() -> ClientRegistration {
    ClientRegistration {
        method: RegistrationMethod::Dynamic,
        issuer: ISSUER.into(),
        client_id: "c-123".into(),
        client_secret: None,
        auth_method: TokenAuthMethod::None,
        redirect_uris: vec!["http://127.0.0.1:33418/callback".into()],
        registration_access_token: None,
        registration_client_uri: None,
        client_secret_expires_at: None,
        registered_scope: Some("mcp".into()),
        device_grant: true,
    }
}

fn endpoint<'a>(
    client: &'a ClientRegistration,
    issuer: &'a str,
    server: &'a str,
) -> DeviceEndpoint<'a> {
    DeviceEndpoint {
        device_authorization: DEVICE,
        token: TOKEN,
        issuer,
        server_url: server,
        client,
        resource: SERVER,
    }
}

fn device_answer(extra: serde_json::Value) -> serde_json::Value {
    let mut v = json!({
        "device_code": DEVICE_CODE,
        "user_code": "WDJB-MJHT",
        "verification_uri": "https://as.example.com/device",
    });
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

fn token_request() -> Expect {
    Expect::post(TOKEN)
        .with_form("grant_type", GRANT_TYPE)
        .with_form("device_code", DEVICE_CODE)
        .with_form("client_id", "c-123")
        .with_form("resource", SERVER)
}

fn pending(code: &str) -> Expect {
    token_request().respond_json(
        400,
        &json!({"error": code, "error_description": format!("still {code} for {DEVICE_CODE}")}),
    )
}

fn tokens() -> Expect {
    token_request().respond_json(
        200,
        &json!({"access_token": "at-1", "token_type": "bearer", "expires_in": "3600", "refresh_token": "rt-1", "scope": "mcp"}),
    )
}

fn authorization(interval: u64, expires_in: u64) -> DeviceAuthorization {
    DeviceAuthorization {
        device_code: Secret::new(DEVICE_CODE),
        user_code: "WDJB-MJHT".into(),
        verification_uri: "https://as.example.com/device".into(),
        verification_uri_complete: None,
        expires_in: Duration::from_secs(expires_in),
        interval: Duration::from_secs(interval),
    }
}

async fn poll_with(
    canned: &Arc<Canned>,
    auth: &DeviceAuthorization,
    recorder: &Recorder,
) -> Result<TokenSet> {
    let c = client();
    let http = canned.http().with_recorder(recorder.clone());
    poll(
        &http,
        &endpoint(&c, ISSUER, SERVER),
        auth,
        tokio::time::Instant::now(),
        &["mcp".to_string()],
        &FakeClock::at(NOW),
    )
    .await
}

/// Every text a person or a log could see of `r`, the trace included, holds no device code.
fn assert_no_device_code(r: &Result<TokenSet>, recorder: &Recorder) {
    let mut seen = String::new();
    if let Err(e) = r {
        seen.push_str(&format!("{e} {e:?} {}", e.hint()));
    }
    seen.push_str(&format!("{:?}", recorder.exchanges()));
    assert!(
        !seen.contains(DEVICE_CODE),
        "the device code leaked: {seen}"
    );
}

#[tokio::test]
async fn the_request_carries_client_scope_and_resource_and_the_answer_is_read_leniently() {
    let canned = Canned::new([Expect::post(DEVICE)
        .with_header("accept", "application/json")
        .with_header("content-type", "application/x-www-form-urlencoded")
        .with_form("client_id", "c-123")
        .with_form("scope", "mcp offline_access")
        .with_form("resource", SERVER)
        // expires_in as a string (as Entra writes lifetimes), no interval at all.
        .respond_json(
            200,
            &device_answer(json!({"expires_in": "900",
                "verification_uri_complete": "https://as.example.com/device?user_code=WDJB-MJHT"})),
        )]);
    let c = client();
    let recorder = Recorder::default();
    let a = authorize(
        &canned.http().with_recorder(recorder.clone()),
        &endpoint(&c, ISSUER, SERVER),
        Some("mcp offline_access"),
    )
    .await
    .unwrap();
    canned.assert_done();
    assert_eq!(a.user_code, "WDJB-MJHT");
    assert_eq!(a.device_code.expose(), DEVICE_CODE);
    assert_eq!(a.expires_in, Duration::from_secs(900));
    assert_eq!(a.interval, DEFAULT_INTERVAL);
    assert_eq!(a.verification_uri, "https://as.example.com/device");
    assert_eq!(
        a.verification_uri_complete.as_deref(),
        Some("https://as.example.com/device?user_code=WDJB-MJHT")
    );
    // The answer's device code is kept out of the trace and of Debug.
    let trace = format!("{:?} {a:?}", recorder.exchanges());
    assert!(!trace.contains(DEVICE_CODE), "{trace}");
}

#[tokio::test]
async fn a_numeric_interval_and_a_fractional_lifetime_are_taken_and_a_missing_lifetime_defaults() {
    let canned = Canned::new([
        Expect::post(DEVICE).respond_json(
            200,
            &device_answer(json!({"expires_in": 1800.7, "interval": "3"})),
        ),
        Expect::post(DEVICE).respond_json(200, &device_answer(json!({"interval": 0}))),
    ]);
    let c = client();
    let ep = endpoint(&c, ISSUER, SERVER);
    let a = authorize(&canned.http(), &ep, None).await.unwrap();
    assert_eq!((a.expires_in.as_secs(), a.interval.as_secs()), (1800, 3));
    let b = authorize(&canned.http(), &ep, None).await.unwrap();
    assert_eq!(
        (b.expires_in, b.interval.as_secs()),
        (DEFAULT_EXPIRES_IN, 1)
    );
    canned.assert_done();
    // No scope was sent when the plan has none.
    assert_eq!(canned.sent()[0].form_value("scope"), None);
}

#[tokio::test]
async fn a_confidential_client_authenticates_as_at_the_token_endpoint() {
    let mut c = client();
    c.client_secret = Some(Secret::new("the-secret"));
    c.auth_method = TokenAuthMethod::ClientSecretBasic;
    let canned = Canned::new([Expect::post(DEVICE)
        .with_header("authorization", "Basic Yy0xMjM6dGhlLXNlY3JldA==")
        .respond_json(200, &device_answer(json!({})))]);
    authorize(&canned.http(), &endpoint(&c, ISSUER, SERVER), None)
        .await
        .unwrap();
    canned.assert_done();
    assert_eq!(canned.sent()[0].form_value("client_id"), None);
}

#[tokio::test(start_paused = true)]
async fn pending_waits_and_slow_down_adds_five_seconds_to_the_interval() {
    let canned = Canned::new([
        pending("authorization_pending"),
        pending("slow_down"),
        pending("authorization_pending"),
        tokens(),
    ]);
    let recorder = Recorder::default();
    let start = tokio::time::Instant::now();
    let t = poll_with(&canned, &authorization(2, 600), &recorder).await;
    canned.assert_done();
    assert_no_device_code(&t, &recorder);
    let t = t.unwrap();
    // 2 s (pending), 2 s (slow_down), then 7 s twice: 18 s.
    assert_eq!(start.elapsed(), Duration::from_secs(18));
    assert_eq!(t.access_token.expose(), "at-1");
    assert_eq!(t.refresh_token.as_ref().map(Secret::expose), Some("rt-1"));
    // The lenient token reading: expires_in as a string.
    assert_eq!(t.expires_at, Some(NOW + 3600));
    assert_eq!(t.scopes, ["mcp"]);
}

/// A server that answers forms (GitHub's OAuth apps do, whatever is asked): pending and
/// the tokens read as the JSON answers do.
#[tokio::test(start_paused = true)]
async fn form_encoded_poll_answers_are_read_as_json_ones() {
    let form = |status: u16, body: &str| {
        token_request()
            .respond(status)
            .respond_header("content-type", "application/x-www-form-urlencoded")
            .respond_body(body.to_string())
    };
    let canned = Canned::new([
        form(200, "error=authorization_pending&error_description=pending"),
        form(200, "error=slow_down"),
        form(
            200,
            "access_token=at-form&token_type=bearer&scope=mcp&expires_in=28800",
        ),
    ]);
    let recorder = Recorder::default();
    let start = tokio::time::Instant::now();
    let t = poll_with(&canned, &authorization(1, 600), &recorder).await;
    canned.assert_done();
    assert_no_device_code(&t, &recorder);
    let t = t.unwrap();
    assert_eq!(t.access_token.expose(), "at-form");
    assert_eq!(t.expires_at, Some(NOW + 28800));
    // 1 s (pending), 1 s (slow_down), then 6 s.
    assert_eq!(start.elapsed(), Duration::from_secs(8));
}

#[tokio::test(start_paused = true)]
async fn a_poll_without_an_answer_is_sent_again_at_once_but_only_once() {
    // The server closed the connection kept from the last poll: asked again, it answers.
    let canned = Canned::new([
        pending("authorization_pending"),
        token_request().respond_unreachable("connection closed before message completed"),
        tokens(),
    ]);
    let recorder = Recorder::default();
    let start = tokio::time::Instant::now();
    let t = poll_with(&canned, &authorization(6, 600), &recorder).await;
    canned.assert_done();
    assert_no_device_code(&t, &recorder);
    assert!(t.is_ok(), "{t:?}");
    assert_eq!(start.elapsed(), Duration::from_secs(12));

    // Twice in a row: the server is gone, and the sign-in says so.
    let canned = Canned::new([
        token_request().respond_unreachable("connection refused"),
        token_request().respond_unreachable("connection refused"),
    ]);
    let r = poll_with(&canned, &authorization(6, 600), &recorder).await;
    canned.assert_done();
    assert!(matches!(r, Err(Error::Unreachable { .. })), "{r:?}");
}

#[tokio::test(start_paused = true)]
async fn expired_token_ends_with_the_error_in_words() {
    let canned = Canned::new([pending("authorization_pending"), pending("expired_token")]);
    let recorder = Recorder::default();
    let r = poll_with(&canned, &authorization(5, 600), &recorder).await;
    canned.assert_done();
    assert_no_device_code(&r, &recorder);
    let e = r.unwrap_err();
    assert!(
        matches!(e, Error::DeviceCodeExpired { seconds: 600, .. }),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "the sign-in code expired before the sign-in was approved at https://as.example.com (it was good for about 10 minutes)"
    );
    assert!(e.hint().contains("--device"), "{}", e.hint());
}

#[tokio::test(start_paused = true)]
async fn access_denied_ends_with_the_error_in_words() {
    let canned = Canned::new([pending("access_denied")]);
    let recorder = Recorder::default();
    let r = poll_with(&canned, &authorization(5, 600), &recorder).await;
    assert_no_device_code(&r, &recorder);
    let e = r.unwrap_err();
    assert!(
        e.to_string()
            .starts_with("the sign-in was denied at https://as.example.com's verification page"),
        "{e}"
    );
    assert!(e.hint().contains("approve the request"), "{}", e.hint());
}

#[tokio::test(start_paused = true)]
async fn the_codes_lifetime_bounds_the_whole_wait() {
    // Interval 4 s, lifetime 10 s: polls at 4, 8 and 10 s (the last at the deadline), then
    // the sign-in ends without asking again.
    let canned = Canned::new([
        pending("authorization_pending"),
        pending("authorization_pending"),
        pending("authorization_pending"),
    ]);
    let recorder = Recorder::default();
    let start = tokio::time::Instant::now();
    let r = poll_with(&canned, &authorization(4, 10), &recorder).await;
    canned.assert_done();
    assert_eq!(start.elapsed(), Duration::from_secs(10));
    assert_no_device_code(&r, &recorder);
    let e = r.unwrap_err();
    assert!(
        matches!(e, Error::DeviceCodeExpired { seconds: 10, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("10 seconds"), "{e}");
}

#[tokio::test(start_paused = true)]
async fn other_refusals_are_oauth_errors_without_the_device_code() {
    let canned = Canned::new([pending("invalid_client")]);
    let recorder = Recorder::default();
    let r = poll_with(&canned, &authorization(5, 600), &recorder).await;
    assert_no_device_code(&r, &recorder);
    let e = r.unwrap_err();
    assert!(
        matches!(&e, Error::OAuth(o) if o.code == "invalid_client" && o.stage == OAuthStage::TokenExchange),
        "{e:?}"
    );
    // The server's description echoed the device code: it is gone from the words.
    assert!(e.to_string().contains("still invalid_client for"), "{e}");
}

#[tokio::test(start_paused = true)]
async fn a_failing_answer_without_an_oauth_error_is_quoted_without_the_device_code() {
    let canned = Canned::new([token_request()
        .respond(502)
        .respond_header("content-type", "text/plain")
        .respond_body(format!("upstream failed for device_code={DEVICE_CODE}"))]);
    let recorder = Recorder::default();
    let r = poll_with(&canned, &authorization(5, 600), &recorder).await;
    assert_no_device_code(&r, &recorder);
    assert!(
        matches!(r, Err(Error::HttpStatus { status: 502, .. })),
        "{r:?}"
    );
}

#[tokio::test]
async fn the_servers_refusal_of_the_client_is_an_oauth_error_at_sign_in() {
    let canned = Canned::new([Expect::post(DEVICE).respond_json(
        400,
        &json!({"error": "unauthorized_client", "error_description": "grant type not allowed"}),
    )]);
    let c = client();
    let e = authorize(&canned.http(), &endpoint(&c, ISSUER, SERVER), None)
        .await
        .unwrap_err();
    assert!(
        crate::usecase::registrations::says_client_unknown(&e),
        "a refused client is registered again: {e:?}"
    );
}

#[tokio::test]
async fn an_answer_without_a_device_code_is_named_by_field_never_quoted() {
    let canned = Canned::new([Expect::post(DEVICE).respond_json(
        200,
        &json!({"user_code": "ABCD", "verification_uri": "https://as.example.com/device", "device_code": 42}),
    )]);
    let c = client();
    let e = authorize(&canned.http(), &endpoint(&c, ISSUER, SERVER), None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::BadMetadata { .. }), "{e:?}");
    assert!(!e.to_string().contains("42"), "{e}");
}

#[tokio::test]
async fn the_verification_address_must_be_https_unless_both_are_on_loopback() {
    let c = client();
    // Plain HTTP from a remote sign-in server: refused before it is shown.
    let canned = Canned::new([Expect::post(DEVICE).respond_json(
        200,
        &device_answer(json!({"verification_uri": "http://as.example.com/device"})),
    )]);
    let e = authorize(&canned.http(), &endpoint(&c, ISSUER, SERVER), None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InsecureEndpoint { .. }), "{e:?}");
    assert!(!format!("{e} {e:?}").contains(DEVICE_CODE));

    // A remote sign-in server pointing at this machine: refused too.
    for uri in [
        "http://127.0.0.1:8080/device",
        "https://192.168.1.10/device",
    ] {
        assert!(
            check_verification_uri(ISSUER, SERVER, uri).is_err(),
            "{uri}"
        );
    }
    // A verification_uri_complete that fails is dropped, the plain address kept.
    let canned = Canned::new([Expect::post(DEVICE).respond_json(
        200,
        &device_answer(json!({"verification_uri_complete": "http://evil.example/device?c=1"})),
    )]);
    let a = authorize(&canned.http(), &endpoint(&c, ISSUER, SERVER), None)
        .await
        .unwrap();
    assert_eq!(a.verification_uri_complete, None);

    // Everything on loopback (the test fixture, a server run locally): plain HTTP is fine.
    let local = "http://127.0.0.1:4100";
    let local_server = "http://127.0.0.1:4000/mcp";
    assert!(check_verification_uri(local, local_server, "http://127.0.0.1:4100/device").is_ok());
    assert!(check_verification_uri(ISSUER, SERVER, "https://as.example.com/device").is_ok());
    // A URL with a user name before its host is never shown.
    assert!(
        check_verification_uri(ISSUER, SERVER, "https://as.example.com@evil.example/d").is_err()
    );
}
