//! Always-fresh tokens end to end: `latchkey token|headers|list|logout`, refresh under a
//! cross-process lock with rotating refresh tokens, a refresh storm and kill -9 crash safety.

use latchkey_e2e::*;
use serde_json::{json, Value};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn login(user: &User, url: &str, extra: &[&str]) {
    let mut args = vec!["login", url, "--json"];
    args.extend_from_slice(extra);
    user.run(&args).assert_ok();
}

#[test]
fn token_headers_names_list_and_logout() {
    let f = Fixture::start(json!({}));
    let user = User::new("helpers");
    let url = f.ready.mcp_url.as_str();

    let r = user.run(&["token", url]);
    assert_eq!(r.code, 3, "not signed in yet: {r:?}");
    assert_eq!(
        r.stderr.trim().lines().count(),
        1,
        "one line: {:?}",
        r.stderr
    );
    assert!(
        r.stderr.contains("not signed in") && r.stderr.contains("latchkey login"),
        "{}",
        r.stderr
    );

    login(&user, url, &["--name", "gitlab"]);
    let token = user.run(&["token", url]);
    token.assert_ok();
    let token = token.stdout.trim().to_string();
    assert!(token.len() > 20);
    // By name, and as Claude Code's headersHelper through its environment.
    assert_eq!(user.run(&["token", "gitlab"]).stdout.trim(), token);
    let h = user
        .command(&["headers"])
        .env("CLAUDE_CODE_MCP_SERVER_URL", url)
        .output()
        .unwrap();
    assert!(h.status.success());
    let headers: Value = serde_json::from_slice(&h.stdout).unwrap();
    assert_eq!(headers, json!({"Authorization": format!("Bearer {token}")}));
    let h = user
        .command(&["headers"])
        .env("CLAUDE_CODE_MCP_SERVER_NAME", "gitlab")
        .output()
        .unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&h.stdout).unwrap(), headers);
    let unknown = user.run(&["token", "gitlb"]);
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.stderr.contains("did you mean \"gitlab\"?")
            && unknown.stderr.contains("latchkey servers"),
        "suggests the close name and where the names are: {}",
        unknown.stderr
    );
    // Names are matched without regard to case.
    assert_eq!(user.run(&["token", "GitLab"]).stdout.trim(), token);

    let list = user.run(&["list", "--json"]);
    list.assert_ok();
    let servers = list.json()["servers"].clone();
    assert_eq!(servers.as_array().unwrap().len(), 1);
    assert_eq!(servers[0]["names"], json!(["gitlab"]));
    assert_eq!(servers[0]["granted_scopes"], json!(["mcp"]));
    assert!(servers[0]["expires_at"].as_u64().is_some());
    let text = user.run(&["list"]);
    assert!(
        text.stdout.contains("(gitlab)") && text.stdout.contains("scopes: mcp"),
        "{}",
        text.stdout
    );

    assert_eq!(http_post_bearer(url, INITIALIZE, &token), 200);
    let out = user.run(&["logout", "gitlab", "--json"]);
    out.assert_ok();
    assert_eq!(out.json()["revoked"], true, "{}", out.stdout);
    // Revoked at the AS: the old token no longer works at the server.
    assert_eq!(http_post_bearer(url, INITIALIZE, &token), 401);
    assert_eq!(user.run(&["token", url]).code, 3);
    assert!(user.run(&["list", "--json"]).json()["servers"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(user.stored_bundle(url).is_none());
}

#[test]
fn an_expired_token_is_refreshed_with_resource_and_the_rotated_token_is_kept() {
    let f = Fixture::start(json!({"as": {"access_token_ttl": 2}}));
    let user = User::new("refresh");
    let url = f.ready.mcp_url.as_str();
    login(&user, url, &[]);
    let before = user.stored_bundle(url).unwrap();
    std::thread::sleep(Duration::from_millis(2100));
    let r = user
        .command(&["token", url])
        .env("LATCHKEY_REFRESH_MARGIN_SECS", "0")
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let after = user.stored_bundle(url).unwrap();
    assert_ne!(
        after["tokens"]["access_token"],
        before["tokens"]["access_token"]
    );
    assert_ne!(
        after["tokens"]["refresh_token"], before["tokens"]["refresh_token"],
        "rotated"
    );
    assert_eq!(
        after["client"], before["client"],
        "same client, same bundle"
    );
    assert_eq!(
        String::from_utf8_lossy(&r.stdout).trim(),
        after["tokens"]["access_token"].as_str().unwrap()
    );
    let log = f.log();
    assert_eq!(log["refresh_count"], 1);
    let refresh = log["token"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["grant_type"] == "refresh_token")
        .unwrap()
        .clone();
    assert_eq!(refresh["resource"], url);
    // The refreshed token works at the server.
    let check = user
        .command(&["check", url])
        .env("LATCHKEY_REFRESH_MARGIN_SECS", "0")
        .output()
        .unwrap();
    assert!(check.status.success());
}

#[test]
fn a_refused_refresh_is_recorded_and_explained_and_nothing_is_deleted() {
    let f = Fixture::start(json!({"as": {"access_token_ttl": 2}}));
    let user = User::new("refused");
    let url = f.ready.mcp_url.as_str();
    login(&user, url, &[]);
    let original = user.stored_bundle(url).unwrap();
    // Refresh once, then put the consumed refresh token back: reusing it is what a
    // concurrent-refresh race does, and the AS revokes the whole grant.
    let r = user
        .command(&["token", url])
        .env("LATCHKEY_TEST_RENEW_ALWAYS", "1")
        .output()
        .unwrap();
    assert!(r.status.success());
    let mut stale = original.clone();
    stale["tokens"]["expires_at"] = json!(1);
    user.put_bundle(url, &stale);

    let r = user.run(&["token", url]);
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(r.stderr.trim().lines().count(), 1);
    assert!(
        r.stderr.contains("needs sign-in") && r.stderr.contains("invalid_grant"),
        "{}",
        r.stderr
    );
    let kept = user.stored_bundle(url).expect("never deleted silently");
    assert_eq!(kept["needs_sign_in"]["code"], "invalid_grant");
    assert_eq!(
        kept["tokens"]["refresh_token"],
        original["tokens"]["refresh_token"]
    );
    // A second call explains again without another request to the AS.
    let before = f.log()["refresh_count"].as_u64().unwrap();
    assert_eq!(user.run(&["token", url]).code, 3);
    assert_eq!(f.log()["refresh_count"].as_u64().unwrap(), before);
    // Signing in again clears it.
    login(&user, url, &[]);
    user.run(&["token", url]).assert_ok();
}

/// Sixteen processes ask for tokens over and over while tokens expire every 4 seconds, with
/// the default settings (no margin variable): every call succeeds, the AS never sees a reused
/// refresh token, and the renewal margin (a share of the lifetime, not a fixed 60 s) keeps
/// refreshes to about one per lifetime instead of one per call.
#[test]
fn refresh_storm_of_sixteen_processes_with_four_second_tokens() {
    const TTL: u64 = 4;
    const SECONDS: u64 = 16;
    let f = Fixture::start(json!({"as": {"access_token_ttl": TTL}}));
    let user = User::new("storm");
    let url = f.ready.mcp_url.clone();
    login(&user, &url, &[]);
    let start = Instant::now();
    let results: Vec<(u32, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let user = &user;
                let url = url.clone();
                s.spawn(move || {
                    let mut ok = 0;
                    let mut failures = Vec::new();
                    while start.elapsed() < Duration::from_secs(SECONDS) {
                        let out = user
                            .command(&["token", &url])
                            .env_remove("LATCHKEY_REFRESH_MARGIN_SECS")
                            .output()
                            .unwrap();
                        if out.status.success() && !out.stdout.is_empty() {
                            ok += 1;
                        } else {
                            failures.push(String::from_utf8_lossy(&out.stderr).into_owned());
                        }
                    }
                    (ok, failures)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let calls: u32 = results.iter().map(|r| r.0).sum();
    let failures: Vec<&String> = results.iter().flat_map(|r| r.1.iter()).collect();
    assert!(
        failures.is_empty(),
        "{} failed calls, e.g. {:?}",
        failures.len(),
        failures.first()
    );
    let log = f.log();
    let refreshes = log["refresh_count"].as_u64().unwrap();
    let token_errors: Vec<&Value> = log["token"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| !t["error"].is_null())
        .collect();
    assert!(token_errors.is_empty(), "the AS refused: {token_errors:?}");
    eprintln!("storm: {calls} calls, {refreshes} refreshes in {SECONDS} s of {TTL}-second tokens");
    assert!(calls >= 16 * 4, "too few calls to mean anything: {calls}");
    // A 4-second token is renewed with 1 second left; times are whole seconds, so a renewal
    // comes 2 to 3 seconds after the last: at most one per 2 seconds, plus one of slack at
    // each end. A fixed 60-second margin would renew on every call (hundreds). At least one
    // per lifetime while calls go on, less one for the end of the run.
    assert!(
        refreshes <= SECONDS / 2 + 2,
        "{refreshes} refreshes in {SECONDS} s: more than one per 2 seconds"
    );
    assert!(
        refreshes + 1 >= SECONDS / TTL,
        "{refreshes} refreshes in {SECONDS} s of {TTL}-second tokens"
    );
    user.run(&["check", &url]).assert_ok();
}

/// Claude Code runs `headersHelper` when it connects and keeps the header for the whole
/// connection: with 10 minutes left of a 1-hour token, `headers` renews first (less than a
/// quarter left), while `token`, for one request, uses the token as it is (more than a minute
/// left).
#[test]
fn headers_renew_a_token_with_less_than_a_quarter_of_its_lifetime_left_and_token_does_not() {
    let f = Fixture::start(json!({"as": {"access_token_ttl": 3600}}));
    let user = User::new("quarter");
    let url = f.ready.mcp_url.as_str();
    login(&user, url, &[]);
    let mut b = user.stored_bundle(url).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    b["tokens"]["obtained_at"] = json!(now - 3000);
    b["tokens"]["expires_at"] = json!(now + 600);
    user.put_bundle(url, &b);
    let stored = b["tokens"]["access_token"].as_str().unwrap().to_string();

    let token = user.run(&["token", url]);
    token.assert_ok();
    assert_eq!(token.stdout.trim(), stored, "good for one request");
    assert_eq!(f.log()["refresh_count"], 0);

    let headers = user.run(&["headers", url]);
    headers.assert_ok();
    let headers = headers.json();
    let renewed = user.stored_bundle(url).unwrap();
    assert_eq!(
        f.log()["refresh_count"],
        1,
        "renewed before handing out the header"
    );
    assert_ne!(renewed["tokens"]["access_token"].as_str().unwrap(), stored);
    assert_eq!(
        headers["Authorization"],
        format!(
            "Bearer {}",
            renewed["tokens"]["access_token"].as_str().unwrap()
        )
    );
    assert!(renewed["tokens"]["expires_at"].as_u64().unwrap() >= now + 3500);
}

/// Entra, Dropbox and some Keycloak set-ups refuse `resource` on refresh: the refresh is
/// tried once without it, works, and the issuer is remembered so the next refresh leaves it
/// out from the start; the session never reads "needs sign-in".
#[test]
fn a_refresh_refused_for_its_resource_is_retried_without_it_and_remembered() {
    for code in ["invalid_target", "invalid_request"] {
        let f = Fixture::start(
            json!({"as": {"access_token_ttl": 2, "refuse_resource_on_refresh": code}}),
        );
        let user = User::new(&format!("resource-{code}"));
        let url = f.ready.mcp_url.as_str();
        login(&user, url, &[]);
        for _ in 0..2 {
            std::thread::sleep(Duration::from_millis(2100));
            let r = user.run(&["token", url]);
            r.assert_ok();
            assert_eq!(http_post_bearer(url, INITIALIZE, r.stdout.trim()), 200);
        }
        let refreshes: Vec<Value> = f.log()["token"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["grant_type"] == "refresh_token")
            .cloned()
            .collect();
        let seen: Vec<(Value, Value)> = refreshes
            .iter()
            .map(|t| (t["resource"].clone(), t["status"].clone()))
            .collect();
        assert_eq!(
            seen,
            [
                (json!(url), json!(400)),
                (Value::Null, json!(200)),
                (Value::Null, json!(200)),
            ],
            "{code}: refused with `resource`, then twice without"
        );
        let notes = std::fs::read_to_string(user.state_dir().join("issuers.json")).unwrap();
        assert!(notes.contains(code), "{notes}");
        assert!(user.stored_bundle(url).unwrap()["needs_sign_in"].is_null());
    }
}

/// A server that refuses a token before its expiry (revoked, or keys rotated): `latchkey
/// call` renews it once and the call goes through, without a new sign-in.
#[test]
fn a_token_the_server_refuses_is_renewed_before_any_new_sign_in() {
    let f = Fixture::start(json!({}));
    let user = User::new("refused-401");
    let url = f.ready.mcp_url.as_str();
    login(&user, url, &[]);
    let before = user.stored_bundle(url).unwrap();
    f.forget_access_tokens();
    let r = user.run(&["call", url, "whoami", "--json", "--no-browser"]);
    r.assert_ok();
    assert_eq!(r.json()["sign_ins"], 0, "{r:?}");
    let log = f.log();
    assert_eq!(log["refresh_count"], 1);
    let auths: Vec<&str> = log["mcp"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["auth"].as_str())
        .collect();
    assert!(
        auths.contains(&"invalid") && auths.last() == Some(&"ok"),
        "{auths:?}"
    );
    assert_eq!(
        log["authorize"].as_array().unwrap().len(),
        1,
        "no second sign-in"
    );
    let after = user.stored_bundle(url).unwrap();
    assert_ne!(
        after["tokens"]["access_token"],
        before["tokens"]["access_token"]
    );
}

/// kill -9 at random points of a refresh: the bundle is always whole (old or new), and the
/// next call works or says precisely why not.
#[test]
fn kill_nine_during_refresh_never_leaves_a_broken_bundle() {
    let f = Fixture::start(json!({}));
    let user = User::new("crash");
    let url = f.ready.mcp_url.as_str();
    login(&user, url, &[]);
    let mut seed: u64 = 0x2545F4914F6CDD1D ^ std::process::id() as u64;
    let (mut worked, mut explained) = (0, 0);
    for _ in 0..12 {
        let before = user.stored_bundle(url).unwrap();
        // Every call refreshes (a test hook); the delay widens the window around the AS call.
        let mut child = user
            .command(&["token", url])
            .env("LATCHKEY_TEST_RENEW_ALWAYS", "1")
            .env("LATCHKEY_TEST_REFRESH_DELAY_MS", "150")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(seed % 450));
        let _ = child.kill();
        let _ = child.wait();

        let after = user.stored_bundle(url).expect("the bundle is never lost");
        let same = after == before;
        let new = after["tokens"]["access_token"] != before["tokens"]["access_token"]
            && after["tokens"]["refresh_token"] != before["tokens"]["refresh_token"]
            && after["client"] == before["client"];
        assert!(
            same || new,
            "a mix of old and new:\nbefore {before}\nafter {after}"
        );

        let next = user
            .command(&["token", url])
            .env("LATCHKEY_TEST_RENEW_ALWAYS", "1")
            .output()
            .unwrap();
        if next.status.success() {
            worked += 1;
        } else {
            let err = String::from_utf8_lossy(&next.stderr);
            assert_eq!(next.status.code(), Some(3), "{err}");
            assert!(err.contains("invalid_grant"), "says precisely why: {err}");
            explained += 1;
            login(&user, url, &[]);
        }
    }
    eprintln!(
        "crash: next call worked {worked} times, explained a lost rotation {explained} times"
    );
    assert_eq!(worked + explained, 12);
}

/// The real Claude Code CLI (pinned in tests/fixtures) uses `latchkey headers` as its
/// headersHelper: `claude mcp list` reports the server Connected, and still Connected after
/// the access token expired (Latchkey renewed it).
#[test]
fn claude_code_connects_through_latchkey_headers() {
    let f = Fixture::start(json!({"as": {"access_token_ttl": 3}}));
    let user = User::new("claude");
    let url = f.ready.mcp_url.as_str();
    login(&user, url, &["--name", "fixture"]);

    let home = TempDir::new("claude-home");
    let helper = format!("{} headers", latchkey_bin().display());
    std::fs::write(
        home.path().join(".claude.json"),
        json!({"mcpServers": {"fixture": {"type": "http", "url": url, "headersHelper": helper}}})
            .to_string(),
    )
    .unwrap();
    let mcp_list = || claude_mcp_list(home.path(), &user);
    let first = mcp_list();
    let line = first
        .lines()
        .find(|l| l.starts_with("fixture:"))
        .unwrap_or_default()
        .to_string();
    assert!(
        line.contains("Connected") && !line.contains("Failed"),
        "claude mcp list:\n{first}"
    );

    std::thread::sleep(Duration::from_millis(3200));
    let before = f.log()["refresh_count"].as_u64().unwrap();
    let second = mcp_list();
    let line = second
        .lines()
        .find(|l| l.starts_with("fixture:"))
        .unwrap_or_default()
        .to_string();
    assert!(
        line.contains("Connected") && !line.contains("Failed"),
        "after expiry:\n{second}"
    );
    assert!(
        f.log()["refresh_count"].as_u64().unwrap() > before,
        "Latchkey renewed the token"
    );
}

fn run_with(user: &User, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut c = user.command(args);
    c.envs(env.iter().copied());
    let out = c.output().expect("run latchkey");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The hot path: once a token has been handed out, the next calls read the kernel keyring's
/// copy and never touch the Secret Service; a sign-out removes the copy.
#[test]
fn token_calls_are_served_from_the_kernel_keyring_copy() {
    let f = Fixture::start(json!({"as": {"access_token_ttl": 3600}}));
    let user = User::new("hotcache");
    let url = f.ready.mcp_url.as_str();
    login(&user, url, &[]);
    let first = user.run(&["token", url]);
    first.assert_ok();

    // Lock the keychain: the Secret Service now refuses to hand out the bundle.
    user.lock_keychain();
    let without_cache = run_with(&user, &[("LATCHKEY_HOT_CACHE", "off")], &["token", url]);
    assert_ne!(
        without_cache.code, 0,
        "the keychain is locked: {without_cache:?}"
    );
    assert!(
        without_cache.stderr.contains("locked"),
        "{}",
        without_cache.stderr
    );
    // With the copy: the same token, without the Secret Service.
    let hot = user.run(&["token", url]);
    hot.assert_ok();
    assert_eq!(hot.stdout, first.stdout);
    let headers = user.run(&["headers", url]);
    headers.assert_ok();
    assert!(headers.stdout.contains(first.stdout.trim()));
    // Another keychain namespace has no copy.
    let other = run_with(
        &user,
        &[("LATCHKEY_KEYCHAIN_SERVICE", "latchkey-other")],
        &["token", url],
    );
    assert_ne!(other.code, 0, "{other:?}");
}

/// Signing out removes the copy at once: no token is handed out after a logout.
#[test]
fn logout_removes_the_kernel_keyring_copy() {
    let f = Fixture::start(json!({"as": {"access_token_ttl": 3600}}));
    let user = User::new("hotlogout");
    let url = f.ready.mcp_url.as_str();
    login(&user, url, &[]);
    user.run(&["token", url]).assert_ok();
    user.run(&["logout", url]).assert_ok();
    let after = user.run(&["token", url]);
    assert_eq!(after.code, 3, "{after:?}");
}
