//! The use cases as the fronts call them, with a fake clock, a memory store, a temporary home
//! and canned HTTP exchanges: what each one sends, records and announces.

use crate::clock::FakeClock;
use crate::protocol::canned::{Canned, Expect};
use crate::store::flow_record;
use crate::store::vault::tests::sample;
use crate::store::vault::{CredentialBundle, CredentialStore, MemoryStore};
use crate::tools::{Locations, Tool};
use crate::usecase::hand_off::{hand_off_need, HandOffRequest, GEMINI_CLI_MIN_VALIDITY};
use crate::usecase::renew::RESOURCE_REFUSED;
use crate::usecase::{Event, Latchkey, Need, SessionEvent};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const SERVER: &str = "https://mcp.example.com/mcp";
const TOKEN_URL: &str = "https://as.example.com/token";

struct Setup {
    engine: Latchkey,
    canned: Arc<Canned>,
    store: Arc<MemoryStore>,
    clock: FakeClock,
    home: tempfile::TempDir,
}

/// An engine over a memory store holding one session that ends `left` seconds from now,
/// whose HTTP goes to `exchanges`.
fn setup(left: u64, exchanges: Vec<Expect>) -> Setup {
    let now = crate::clock::now();
    let clock = FakeClock::at(now);
    let store = Arc::new(MemoryStore::default());
    let mut b = sample(SERVER);
    b.tokens.expires_at = Some(now + left);
    b.tokens.obtained_at = now - 3600 + left;
    store.save(&b).unwrap();
    let home = tempfile::tempdir().unwrap();
    let canned = Canned::new(exchanges);
    let engine = test_engine(store.clone(), &canned, &clock, home.path());
    Setup {
        engine,
        canned,
        store,
        clock,
        home,
    }
}

/// An engine over `store` whose HTTP goes to `canned`, on `clock`, with its tools' files and
/// state folder under `home`.
pub(super) fn test_engine(
    store: Arc<MemoryStore>,
    canned: &Arc<Canned>,
    clock: &FakeClock,
    home: &Path,
) -> Latchkey {
    Latchkey::new(store, Locations::for_home(home))
        .with_tool_keychain(Arc::new(crate::tools::keychain::MemoryKeychain::default()))
        .with_state_dir(home.join("state"))
        .with_clock(Arc::new(clock.clone()))
        .with_transport(canned.clone())
        .with_lock_wait(Duration::from_secs(2))
}

fn refresh_answer() -> Expect {
    Expect::post(TOKEN_URL)
        .with_form("grant_type", "refresh_token")
        .respond_json(
            200,
            &json!({"access_token": "at-renewed", "token_type": "Bearer",
                    "expires_in": 3600, "refresh_token": "rt-rotated", "scope": "mcp"}),
        )
}

fn stored(s: &Setup) -> CredentialBundle {
    s.store
        .load(&crate::store::vault::server_id(SERVER).unwrap())
        .unwrap()
        .unwrap()
}

fn last_flow_kind(state: &Path) -> Option<String> {
    let id = crate::store::vault::server_id(SERVER).unwrap();
    flow_record::load(state, &id).map(|f| f.kind)
}

#[tokio::test]
async fn a_token_with_time_left_is_used_without_any_request() {
    let s = setup(3600, vec![]);
    let b = s.engine.fresh(SERVER, Need::ForUse).await.unwrap();
    assert_eq!(b.tokens.access_token.expose(), "at-secret-value");
    s.canned.assert_done();
    assert_eq!(last_flow_kind(&s.home.path().join("state")), None);
}

#[tokio::test]
async fn a_renewal_is_recorded_for_why_and_announced_whoever_asked() {
    let s = setup(30, vec![refresh_answer()]);
    let mut heard = s.engine.subscribe();
    let b = s.engine.fresh(SERVER, Need::ForUse).await.unwrap();
    s.canned.assert_done();
    assert_eq!(b.tokens.access_token.expose(), "at-renewed");
    assert_eq!(b.tokens.expires_at, Some(s.clock.now_secs() + 3600));
    // Rotation: the new refresh token is stored with its access token.
    assert_eq!(
        stored(&s).tokens.refresh_token.unwrap().expose(),
        "rt-rotated"
    );
    assert_eq!(
        last_flow_kind(&s.home.path().join("state")).as_deref(),
        Some("renewal")
    );
    let mut saw_refreshed = false;
    let mut saw_changed = false;
    while let Ok(e) = heard.try_recv() {
        match e {
            Event::Session(SessionEvent::Refreshed { until, .. }) => {
                saw_refreshed = until == b.tokens.expires_at
            }
            Event::Changed { .. } => saw_changed = true,
            _ => {}
        }
    }
    assert!(saw_refreshed && saw_changed);
}

#[tokio::test]
async fn a_refused_refresh_is_recorded_and_announced_as_needing_sign_in() {
    let s = setup(
        30,
        vec![Expect::post(TOKEN_URL).respond_json(
            400,
            &json!({"error": "invalid_grant", "error_description": "grant revoked"}),
        )],
    );
    let mut heard = s.engine.subscribe();
    let e = s.engine.fresh(SERVER, Need::ForUse).await.unwrap_err();
    assert_eq!(e.code(), "needs_sign_in");
    assert_eq!(stored(&s).needs_sign_in.unwrap().code, "invalid_grant");
    let failed = std::iter::from_fn(|| heard.try_recv().ok())
        .any(|e| matches!(e, Event::Session(SessionEvent::Failed { .. })));
    assert!(failed);
    // The next caller is told at once: no second request.
    let again = s.engine.fresh(SERVER, Need::ForUse).await.unwrap_err();
    assert_eq!(again.code(), "needs_sign_in");
    s.canned.assert_done();
}

#[tokio::test]
async fn gemini_cli_is_handed_a_token_with_at_least_six_minutes_left() {
    assert_eq!(
        hand_off_need(Tool::GeminiCli),
        Need::AtLeast(GEMINI_CLI_MIN_VALIDITY)
    );
    assert_eq!(hand_off_need(Tool::ClaudeCode), Need::ForConnection);
    // Five minutes left: enough for a request, not for Gemini CLI.
    let s = setup(300, vec![refresh_answer()]);
    let gemini = s.home.path().join(".gemini");
    std::fs::create_dir_all(&gemini).unwrap();
    std::fs::write(
        gemini.join("settings.json"),
        format!("{{\n  // mine\n  \"mcpServers\": {{ \"work\": {{ \"httpUrl\": \"{SERVER}\" }} }}\n}}\n"),
    )
    .unwrap();
    let b = s.engine.fresh(SERVER, Need::ForUse).await.unwrap();
    assert_eq!(
        b.tokens.access_token.expose(),
        "at-secret-value",
        "no renewal for use"
    );
    let done = s
        .engine
        .hand_off(SERVER, &HandOffRequest::to(Tool::GeminiCli))
        .await
        .unwrap();
    s.canned.assert_done();
    assert!(
        done.summary.message.contains("work"),
        "{}",
        done.summary.message
    );
    let tokens: serde_json::Value =
        serde_json::from_slice(&std::fs::read(gemini.join("mcp-oauth-tokens.json")).unwrap())
            .unwrap();
    let entry = &tokens[0];
    assert_eq!(entry["token"]["accessToken"], "at-renewed", "{tokens}");
    let expires_ms = entry["token"]["expiresAt"].as_u64().unwrap();
    assert!(
        expires_ms / 1000 >= s.clock.now_secs() + GEMINI_CLI_MIN_VALIDITY.as_secs(),
        "{tokens}"
    );
    // The hand-off's renewal is what "why" shows as the last flow.
    assert_eq!(
        last_flow_kind(&s.home.path().join("state")).as_deref(),
        Some("renewal")
    );
}

#[tokio::test]
async fn the_headers_helper_is_the_engines_latchkey_program_from_every_front() {
    let s = setup(3600, vec![]);
    let engine = s.engine.with_latchkey_program("'/opt/my apps/latchkey'");
    assert_eq!(engine.helper_command(), "'/opt/my apps/latchkey' headers");
}

trait NowSecs {
    fn now_secs(&self) -> u64;
}

impl NowSecs for FakeClock {
    fn now_secs(&self) -> u64 {
        crate::clock::Clock::now(self)
    }
}

/// Discovery of a server whose sign-in server at https://idp.example.com lists no PKCE
/// method in its metadata.
fn discovery_without_pkce_field() -> Vec<Expect> {
    vec![
        Expect::post(SERVER).respond(401).respond_header(
            "www-authenticate",
            r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#,
        ),
        Expect::get("https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
            .respond_json(
                200,
                &json!({"resource": SERVER, "authorization_servers": ["https://idp.example.com"]}),
            ),
        Expect::get("https://idp.example.com/.well-known/oauth-authorization-server").respond_json(
            200,
            &json!({"issuer": "https://idp.example.com",
                    "authorization_endpoint": "https://idp.example.com/authorize",
                    "token_endpoint": "https://idp.example.com/token",
                    "registration_endpoint": "https://idp.example.com/register",
                    "response_types_supported": ["code"]}),
        ),
    ]
}

#[tokio::test]
async fn a_pkce_choice_is_remembered_per_issuer_shown_in_the_plan_and_forgotten_on_request() {
    use crate::oauth::plan::PkceS256;
    use crate::usecase::{ScopeChoice, SignInOptions};
    let mut exchanges = discovery_without_pkce_field();
    exchanges.extend(discovery_without_pkce_field());
    exchanges.extend(discovery_without_pkce_field());
    let s = setup(3600, exchanges);
    let none = Default::default();
    let scopes = ScopeChoice::default();
    let plan_now = || s.engine.plan_sign_in(SERVER, &none, &scopes);

    let mut plan = plan_now().await.unwrap();
    assert_eq!(plan.pkce, PkceS256::NeedsConfirmation);
    // Signing in without the choice stops before anything reaches the sign-in server.
    let err = s
        .engine
        .sign_in(&plan, &SignInOptions::default(), &|_| {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), "pkce_not_advertised");
    assert!(err.to_string().contains("code_challenge_methods_supported"));
    assert!(
        err.hint()
            .contains(&format!("latchkey login {SERVER} --assume-pkce-s256")),
        "{}",
        err.hint()
    );
    assert_eq!(
        crate::health::reasons::from_error(&err).id,
        "pkce_not_advertised"
    );

    s.engine.confirm_pkce_s256(&mut plan).unwrap();
    assert_eq!(plan.pkce, PkceS256::ChosenByYou);
    assert!(plan.blocking_problems().is_empty());
    let choices = s.engine.pkce_s256_choices();
    assert_eq!(choices.len(), 1);
    assert_eq!(choices[0].issuer, "https://idp.example.com");
    assert_eq!(choices[0].chosen_at, s.clock.now_secs());

    // The next plan for any server at that issuer carries the choice, in its JSON too.
    let again = plan_now().await.unwrap();
    assert_eq!(again.pkce, PkceS256::ChosenByYou);
    assert_eq!(
        serde_json::to_value(&again).unwrap()["pkce"],
        json!({"basis": "chosen_by_you"})
    );

    assert!(s
        .engine
        .forget_pkce_s256("https://idp.example.com/")
        .unwrap());
    assert!(s.engine.pkce_s256_choices().is_empty());
    assert_eq!(plan_now().await.unwrap().pkce, PkceS256::NeedsConfirmation);
    s.canned.assert_done();
}

#[test]
fn a_session_without_a_refresh_token_says_when_it_ends() {
    use crate::usecase::no_renewal_notice;
    let mut b = sample(SERVER);
    assert_eq!(no_renewal_notice(&b, 1_700_000_000), None);
    b.tokens.refresh_token = None;
    b.tokens.expires_at = Some(1_700_003_600);
    assert_eq!(
        no_renewal_notice(&b, 1_700_000_000).unwrap(),
        "The sign-in server gave no refresh token, so Latchkey cannot renew this session: it ends at 2023-11-14 23:13 UTC (in about 60 minutes), and you will have to sign in again then."
    );
    b.tokens.expires_at = None;
    assert!(no_renewal_notice(&b, 1_700_000_000)
        .unwrap()
        .contains("you will have to sign in again"));
}

#[tokio::test]
async fn a_passing_refusal_or_outage_is_not_recorded_and_nobody_is_told_to_sign_in() {
    let s = setup(
        30,
        vec![
            Expect::post(TOKEN_URL).respond_json(429, &json!({"error": "rate_limited"})),
            Expect::post(TOKEN_URL).respond_json(400, &json!({"error": "invalid_scope"})),
            refresh_answer(),
        ],
    );
    let mut heard = s.engine.subscribe();
    for _ in 0..2 {
        let e = s.engine.fresh(SERVER, Need::ForUse).await.unwrap_err();
        assert_ne!(e.code(), "needs_sign_in", "{e}");
        assert!(stored(&s).needs_sign_in.is_none(), "not recorded: {e}");
    }
    let told = std::iter::from_fn(|| heard.try_recv().ok())
        .any(|e| matches!(e, Event::Session(SessionEvent::Failed { .. })));
    assert!(!told, "no 'sign in again' for a passing failure");
    // The next try renews.
    let b = s.engine.fresh(SERVER, Need::ForUse).await.unwrap();
    assert_eq!(b.tokens.access_token.expose(), "at-renewed");
    s.canned.assert_done();
}

#[tokio::test]
async fn short_tokens_are_renewed_once_per_lifetime_and_never_in_a_tight_loop() {
    // 20-second tokens: the scheduler renews with a third left, not every pass.
    let short = |n: u32, expires_in: u32| {
        Expect::post(TOKEN_URL).respond_json(
            200,
            &json!({"access_token": format!("at-short-{n}"), "token_type": "Bearer",
                    "expires_in": expires_in, "refresh_token": format!("rt-{n}")}),
        )
    };
    let s = setup(10, vec![short(1, 20), short(2, 0)]);
    let now = s.clock.now_secs();
    assert_eq!(s.engine.renew_due().await, Some(now + 20 - 6));
    // Until then a call of `token` or `headers` uses the renewed token as it is.
    s.clock.advance(13);
    let b = s.engine.fresh(SERVER, Need::ForConnection).await.unwrap();
    assert_eq!(b.tokens.access_token.expose(), "at-short-1");
    // An AS that issues already-expired tokens: looked at again after 30 s, not at once.
    s.clock.advance(1);
    let next = s.engine.renew_due().await.unwrap();
    s.canned.assert_done();
    assert!(next >= now + 14 + 30, "no tight loop: {next}");
}

#[tokio::test]
async fn a_refresh_refused_for_its_resource_is_tried_once_without_and_the_issuer_noted() {
    for code in RESOURCE_REFUSED {
        let s = setup(
            30,
            vec![
                Expect::post(TOKEN_URL)
                    .with_form("resource", "https://mcp.example.com/mcp")
                    .respond_json(400, &json!({"error": code})),
                refresh_answer(),
                refresh_answer(),
            ],
        );
        let b = s.engine.fresh(SERVER, Need::ForUse).await.unwrap();
        assert_eq!(b.tokens.access_token.expose(), "at-renewed", "{code}");
        let sent = s.canned.sent();
        assert_eq!(
            sent[1].form_value("resource"),
            None,
            "{code}: retried without"
        );
        assert_eq!(
            sent[1].form_value("refresh_token").as_deref(),
            Some("rt-secret-value")
        );
        // Remembered for the issuer: the next refresh leaves `resource` out at once.
        s.clock.advance(3600);
        s.engine.fresh(SERVER, Need::ForUse).await.unwrap();
        let sent = s.canned.sent();
        assert_eq!(sent.len(), 3, "{code}: one request, not a refusal first");
        assert_eq!(sent[2].form_value("resource"), None);
        assert_eq!(
            sent[2].form_value("refresh_token").as_deref(),
            Some("rt-rotated")
        );
        s.canned.assert_done();
    }
}

#[tokio::test]
async fn a_dead_refresh_token_ends_in_needs_sign_in_after_one_retry_without_resource() {
    let s = setup(
        30,
        vec![
            Expect::post(TOKEN_URL).respond_json(400, &json!({"error": "invalid_target"})),
            Expect::post(TOKEN_URL).respond_json(400, &json!({"error": "invalid_grant"})),
        ],
    );
    let e = s.engine.fresh(SERVER, Need::ForUse).await.unwrap_err();
    assert_eq!(e.code(), "needs_sign_in", "{e}");
    assert_eq!(stored(&s).needs_sign_in.unwrap().code, "invalid_grant");
    s.canned.assert_done();
    // Nothing noted: the refresh without `resource` did not work either.
    assert!(!crate::store::issuer_notes::refresh_without_resource(
        &s.home.path().join("state"),
        "https://as.example.com"
    ));
}

#[tokio::test]
async fn a_token_the_server_refused_is_renewed_once_unless_another_process_did() {
    let s = setup(3000, vec![refresh_answer()]);
    let refused = stored(&s).tokens.access_token;
    let b = s.engine.renew_refused(SERVER, &refused).await.unwrap();
    assert_eq!(b.tokens.access_token.expose(), "at-renewed");
    // The same refused token again (a second process that held it): the renewed one.
    let again = s.engine.renew_refused(SERVER, &refused).await.unwrap();
    assert_eq!(again.tokens.access_token.expose(), "at-renewed");
    s.canned.assert_done();
}

#[tokio::test]
async fn a_session_ending_without_renewal_is_warned_of_once_however_often_woken() {
    let s = setup(600, vec![]);
    let mut b = stored(&s);
    b.tokens.refresh_token = None;
    s.store.save(&b).unwrap();
    let mut heard = s.engine.subscribe();
    for _ in 0..3 {
        s.engine.renew_due().await;
    }
    let warnings = std::iter::from_fn(|| heard.try_recv().ok())
        .filter(|e| matches!(e, Event::Session(SessionEvent::ExpiringSoon { .. })))
        .count();
    assert_eq!(warnings, 1);
}

#[tokio::test]
async fn a_server_signed_in_through_a_link_is_not_probed_until_a_tool_uses_it() {
    let s = setup(3600, vec![]);
    let id = crate::store::vault::server_id(SERVER).unwrap();
    assert!(s.engine.servers_to_probe().contains(&id));
    s.engine.note_sign_in_origin(&id, true).unwrap();
    assert!(
        !s.engine.servers_to_probe().contains(&id),
        "signed in through a link, used by no tool: not probed"
    );
    std::fs::write(
        s.home.path().join(".claude.json"),
        json!({"mcpServers": {"linked": {"type": "http", "url": SERVER}}}).to_string(),
    )
    .unwrap();
    assert!(
        s.engine.servers_to_probe().contains(&id),
        "once a tool uses it, it is probed"
    );
    std::fs::remove_file(s.home.path().join(".claude.json")).unwrap();
    s.engine.note_sign_in_origin(&id, false).unwrap();
    assert!(s.engine.servers_to_probe().contains(&id));
    s.canned.assert_done();
}

#[test]
fn project_servers_are_probed_only_in_projects_their_tool_trusts_or_the_current_folder() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let (trusted, untrusted, current) = (h.join("trusted"), h.join("untrusted"), h.join("here"));
    let mcp = |dir: &Path, url: &str| {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(
            dir.join(".mcp.json"),
            json!({"mcpServers": {"s": {"type": "http", "url": url}}}).to_string(),
        )
        .unwrap();
    };
    mcp(&trusted, "https://trusted.example.com/mcp");
    mcp(&untrusted, "https://untrusted.example.com/mcp");
    mcp(&current, "https://current.example.com/mcp");
    // Cursor has no trust marker: its project file counts only in the current folder.
    std::fs::create_dir_all(untrusted.join(".cursor")).unwrap();
    std::fs::write(
        untrusted.join(".cursor/mcp.json"),
        json!({"mcpServers": {"c": {"url": "https://cursor-elsewhere.example.com/mcp"}}})
            .to_string(),
    )
    .unwrap();
    std::fs::write(
        h.join(".claude.json"),
        json!({
            "mcpServers": {"mine": {"type": "http", "url": "https://user.example.com/mcp"}},
            "projects": {
                trusted.to_str().unwrap(): {"hasTrustDialogAccepted": true},
                untrusted.to_str().unwrap(): {"hasTrustDialogAccepted": false},
                current.to_str().unwrap(): {},
            }
        })
        .to_string(),
    )
    .unwrap();
    let mut loc = Locations::for_home(h);
    loc.known_projects = true;
    loc.project = Some(current.clone());
    let engine =
        Latchkey::new(Arc::new(MemoryStore::default()), loc).with_state_dir(h.join("state"));
    let mut probed = engine.servers_to_probe();
    probed.sort();
    assert_eq!(
        probed,
        [
            "https://current.example.com/mcp",
            "https://trusted.example.com/mcp",
            "https://user.example.com/mcp",
        ]
    );
    // The inventory still lists them all.
    assert_eq!(engine.inventory().servers.len(), 5);
}

#[tokio::test]
async fn a_challenge_naming_a_loopback_secret_leaves_it_out_of_why_and_the_export() {
    const PLANTED: &str = "PLANTED-SECRET-91c2";
    let secret_url = "http://127.0.0.1:9911/secret";
    let canned = Canned::new(vec![
        Expect::post(SERVER).respond(401).respond_header(
            "www-authenticate",
            &format!(r#"Bearer resource_metadata="{secret_url}""#),
        ),
        Expect::get("https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
            .respond(404),
        Expect::get("https://mcp.example.com/.well-known/oauth-protected-resource").respond(404),
        // A local service holding a secret, last: it is never asked.
        Expect::get(secret_url).respond_json(200, &json!({"secret": PLANTED})),
    ]);
    let home = tempfile::tempdir().unwrap();
    let clock = FakeClock::at(crate::clock::now());
    let engine = test_engine(
        Arc::new(MemoryStore::default()),
        &canned,
        &clock,
        home.path(),
    );
    let d = engine.why(SERVER).await;
    assert!(!canned.requests().iter().any(|r| r.contains("127.0.0.1")));
    let file = home.path().join("diagnostics.json");
    engine.export_diagnosis(&d, &file).unwrap();
    let written = std::fs::read_to_string(&file).unwrap();
    let summary = crate::usecase::diagnosis_summary(&d);
    for text in [&written, &summary, &format!("{d:?}")] {
        assert!(!text.contains(PLANTED), "{text}");
    }
    assert!(summary.contains("requests with their answers"), "{summary}");
}

/// A home where Gemini CLI, Codex and Claude Code all know SERVER as "work".
fn three_tools_home(h: &Path) {
    std::fs::create_dir_all(h.join(".gemini")).unwrap();
    std::fs::write(
        h.join(".gemini/settings.json"),
        json!({"mcpServers": {"work": {"httpUrl": SERVER}}}).to_string(),
    )
    .unwrap();
    std::fs::create_dir_all(h.join(".codex")).unwrap();
    std::fs::write(
        h.join(".codex/config.toml"),
        format!("[mcp_servers.work]\nurl = \"{SERVER}\"\n"),
    )
    .unwrap();
    std::fs::write(
        h.join(".claude.json"),
        json!({"mcpServers": {"work": {"type": "http", "url": SERVER}}}).to_string(),
    )
    .unwrap();
}

#[tokio::test]
async fn sign_out_takes_back_what_gemini_codex_and_claude_code_were_handed() {
    use crate::tools::keychain::{Keychain, MemoryKeychain};
    use crate::usecase::hand_off::ClaudeMode;
    let s = setup(3600, vec![]);
    let h = s.home.path().to_path_buf();
    three_tools_home(&h);
    let kc = Arc::new(MemoryKeychain::default());
    let engine = s.engine.with_tool_keychain(kc.clone());
    for (tool, native) in [
        (Tool::GeminiCli, false),
        (Tool::Codex, false),
        (Tool::ClaudeCode, true),
    ] {
        let mut request = HandOffRequest::to(tool);
        if native {
            request.claude_mode = ClaudeMode::Native;
        }
        engine.hand_off(SERVER, &request).await.unwrap();
    }
    let gemini_tokens = h.join(".gemini/mcp-oauth-tokens.json");
    let claude_tokens = h.join(".claude/.credentials.json");
    let codex_key = crate::tools::codex::store_key("work", SERVER);
    let codex_service = crate::tools::codex::KEYRING_SERVICE;
    assert!(kc.get(codex_service, &codex_key).unwrap().is_some());
    assert!(std::fs::read_to_string(&claude_tokens)
        .unwrap()
        .contains("\"work|"));
    // A sign-in Codex made itself, with its own client, under another name: left alone.
    let own = json!({"client_id": "codex-own-client", "server_url": SERVER}).to_string();
    kc.set(codex_service, "other|0000", &own).unwrap();

    let out = engine.sign_out(SERVER).await.unwrap().unwrap();
    assert_eq!(
        out.withdrawn,
        ["Gemini CLI (work)", "Codex (work)", "Claude Code (work)"]
    );
    assert!(out.kept_by.is_empty(), "{:?}", out.kept_by);
    let note = out.tools_note().unwrap();
    assert!(
        note.contains("Withdrawn from Gemini CLI (work), Codex (work), Claude Code (work)."),
        "{note}"
    );
    assert!(!std::fs::read_to_string(&gemini_tokens)
        .unwrap()
        .contains("\"work\""));
    assert_eq!(kc.get(codex_service, &codex_key).unwrap(), None);
    assert_eq!(kc.get(codex_service, "other|0000").unwrap(), Some(own));
    let claude = std::fs::read_to_string(&claude_tokens).unwrap();
    assert!(!claude.contains("\"work|"), "{claude}");
    assert!(!claude.contains("at-secret-value"), "{claude}");
}

/// A token handed to Codex under one registration, then a new registration (register
/// again, a forgotten client): sign-out still takes the old one back, and leaves a sign-in
/// Codex made itself alone.
#[tokio::test]
async fn sign_out_takes_back_a_token_handed_under_an_earlier_registration() {
    use crate::tools::keychain::{Keychain, MemoryKeychain};
    let s = setup(3600, vec![]);
    let h = s.home.path().to_path_buf();
    three_tools_home(&h);
    let kc = Arc::new(MemoryKeychain::default());
    let engine = s.engine.with_tool_keychain(kc.clone());
    engine
        .hand_off(SERVER, &HandOffRequest::to(Tool::Codex))
        .await
        .unwrap();
    let key = crate::tools::codex::store_key("work", SERVER);
    let service = crate::tools::codex::KEYRING_SERVICE;
    let handed = kc.get(service, &key).unwrap().expect("handed to Codex");
    // Latchkey registers again: the bundle now carries another client id.
    let mut b = s.store.load(SERVER).unwrap().unwrap();
    b.client.client_id = "c-new-registration".into();
    s.store.save(&b).unwrap();
    let out = engine.sign_out(SERVER).await.unwrap().unwrap();
    assert_eq!(out.withdrawn, ["Codex (work)"], "{handed}");
    assert_eq!(kc.get(service, &key).unwrap(), None);

    // Codex's own sign-in under the same key, with its own client: never taken.
    let own = json!({"client_id": "codex-own", "issuer": "https://as.example.com"}).to_string();
    kc.set(service, &key, &own).unwrap();
    s.store.save(&b).unwrap();
    let out = engine.sign_out(SERVER).await.unwrap().unwrap();
    assert!(out.withdrawn.is_empty(), "{:?}", out.withdrawn);
    assert_eq!(kc.get(service, &key).unwrap(), Some(own));
}

#[tokio::test]
async fn a_tool_whose_store_is_locked_is_named_as_keeping_a_copy() {
    use crate::tools::keychain::MemoryKeychain;
    let s = setup(3600, vec![]);
    three_tools_home(s.home.path());
    let locked = MemoryKeychain {
        fail: true,
        ..Default::default()
    };
    let engine = s.engine.with_tool_keychain(Arc::new(locked));
    let out = engine.sign_out(SERVER).await.unwrap().unwrap();
    assert_eq!(out.kept_by, ["Codex"]);
    let note = out.tools_note().unwrap();
    assert!(
        note.contains("Codex may keep a copy of the token until it expires"),
        "{note}"
    );
}
