//! Sign-in with a code on another device (RFC 8628, issue 17): the `latchkey` binary against
//! oidc-provider's device flow (`as.device_flow` in serve.mjs), with `device.mjs` playing the
//! person on the other computer: it reads the code Latchkey printed, opens the verification
//! page, types the code, and approves (or denies).

use latchkey_e2e::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// A `latchkey` run going on in the background, its stderr read line by line as it comes.
struct Running {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    stdout: std::thread::JoinHandle<String>,
    reader: std::thread::JoinHandle<()>,
}

impl Running {
    fn start(user: &User, args: &[&str]) -> Running {
        let mut child = user
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start latchkey");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let err = child.stderr.take().unwrap();
        let l = lines.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                l.lock().unwrap().push(line);
            }
        });
        let mut out = child.stdout.take().unwrap();
        let stdout = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        Running {
            child,
            lines,
            stdout,
            reader,
        }
    }

    fn stderr(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// The address and the code as printed for a person: the lines after "open this address
    /// …:" and "and enter the code:"; or, with `--json`, the `device_code` event.
    fn code(&self) -> (String, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            {
                let lines = self.lines.lock().unwrap();
                let after = |start: &str| {
                    lines
                        .iter()
                        .position(|l| l.starts_with(start))
                        .and_then(|i| lines.get(i + 1))
                        .map(|l| l.trim().to_string())
                };
                if let (Some(uri), Some(code)) = (
                    after("To sign in, open this address"),
                    after("and enter the code:"),
                ) {
                    return (uri, code);
                }
                if let Some(v) = lines
                    .iter()
                    .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                    .find(|v| v["event"] == "device_code")
                {
                    let s = |k: &str| v[k].as_str().unwrap().to_string();
                    return (s("verification_uri"), s("user_code"));
                }
            }
            assert!(
                Instant::now() < deadline,
                "latchkey printed no code:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn finish(mut self) -> Run {
        let status = self.child.wait().expect("wait for latchkey");
        self.reader.join().unwrap();
        let stdout = self.stdout.join().unwrap();
        let stderr = self.lines.lock().unwrap().join("\n");
        Run {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr,
        }
    }
}

/// The person on the other computer: opens `uri`, types `code`, approves or denies.
fn person(uri: &str, code: &str, action: &str) {
    let out = std::process::Command::new("node")
        .arg(fixtures_dir().join("device.mjs"))
        .args([uri, code])
        .env("LATCHKEY_TEST_DEVICE_ACTION", action)
        .output()
        .expect("run device.mjs");
    assert!(
        out.status.success(),
        "device.mjs failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The device-grant token requests the AS received.
fn polls(f: &Fixture) -> Vec<Value> {
    f.log()["token"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["grant_type"] == GRANT)
        .cloned()
        .collect()
}

fn wait_for_polls(f: &Fixture, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let p = polls(f);
        if p.len() >= n {
            return p;
        }
        assert!(Instant::now() < deadline, "only {} polls: {p:?}", p.len());
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn device_fixture(extra: Value) -> Fixture {
    let mut as_ = json!({"device_flow": true, "device_interval": 1});
    for (k, v) in extra.as_object().unwrap() {
        as_[k] = v.clone();
    }
    Fixture::start(json!({ "as": as_ }))
}

#[test]
fn device_login_waits_while_pending_then_signs_in_with_the_planned_scope_and_resource() {
    let f = device_fixture(json!({}));
    let user = User::new("device-ok");
    let url = &f.ready.mcp_url;
    let run = Running::start(&user, &["login", url, "--device"]);
    let (uri, code) = run.code();
    assert_eq!(uri, format!("{}/device", f.ready.issuer));
    // The person takes a while: Latchkey keeps asking, and the AS says "pending".
    let before = wait_for_polls(&f, 3);
    assert!(
        before.iter().all(|t| t["error"] == "authorization_pending"),
        "{before:?}"
    );
    person(&uri, &code, "approve");
    let r = run.finish();
    r.assert_ok();
    assert!(
        r.stderr.contains(&format!(
            "You asked to sign in with a code on another device; {} offers it",
            f.ready.issuer
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("The code is good for about 10 minutes"),
        "{}",
        r.stderr
    );
    // No QR code off a terminal.
    assert!(!r.stderr.contains("QR code"), "{}", r.stderr);

    let log = f.log();
    // One registration for both ways of signing in.
    assert_eq!(
        log["register"][0]["grant_types"],
        json!(["authorization_code", "refresh_token", GRANT])
    );
    // The device authorization request carried the plan's scope and the resource.
    let asked = &log["device_authorize"][0];
    assert_eq!(asked["scope"], "mcp");
    assert_eq!(asked["resource"], url.as_str());
    let last = polls(&f).last().cloned().unwrap();
    assert_eq!(last["status"], 200, "{last}");
    assert_eq!(last["resource"], url.as_str());
    // The device code never shows.
    assert!(!r.stderr.contains("device_code="), "{}", r.stderr);

    // The token works at the MCP server.
    let t = user.run(&["token", url]);
    t.assert_ok();
    let token = t.stdout.trim();
    assert_eq!(http_post_bearer(url, INITIALIZE, token), 200);
    let check = user.run(&["check", url, "--json"]);
    check.assert_ok();
}

#[test]
fn slow_down_adds_five_seconds_to_the_interval() {
    let f = device_fixture(json!({"device_slow_down_once": true}));
    let user = User::new("device-slow");
    let run = Running::start(&user, &["login", &f.ready.mcp_url, "--device"]);
    let (uri, code) = run.code();
    let p = wait_for_polls(&f, 2);
    assert_eq!(p[0]["error"], "slow_down", "{p:?}");
    let gap = p[1]["at_ms"].as_u64().unwrap() - p[0]["at_ms"].as_u64().unwrap();
    // Interval 1 s, plus 5 s after slow_down (RFC 8628 section 3.5).
    assert!((5_800..8_000).contains(&gap), "{gap} ms between polls");
    person(&uri, &code, "approve");
    run.finish().assert_ok();
}

#[test]
fn an_expired_code_ends_the_sign_in_in_words() {
    // The AS claims 30 s but lets the code die after 2: it answers expired_token.
    let f = device_fixture(json!({"device_code_ttl": 2, "device_expires_in": 30}));
    let user = User::new("device-expired");
    let run = Running::start(&user, &["login", &f.ready.mcp_url, "--device"]);
    run.code();
    let r = run.finish();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "latchkey: the sign-in code expired before the sign-in was approved at {} (it was good for 30 seconds).",
            f.ready.issuer
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("What to do: Sign in again (latchkey login SERVER --device"),
        "{}",
        r.stderr
    );
    assert_eq!(polls(&f).last().unwrap()["error"], "expired_token");
    assert_eq!(user.run(&["token", &f.ready.mcp_url]).code, 3);
}

#[test]
fn a_denial_at_the_verification_page_ends_the_sign_in_in_words() {
    let f = device_fixture(json!({}));
    let user = User::new("device-denied");
    let run = Running::start(&user, &["login", &f.ready.mcp_url, "--device"]);
    let (uri, code) = run.code();
    person(&uri, &code, "deny");
    let r = run.finish();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "latchkey: the sign-in was denied at {}'s verification page (End-User aborted interaction).",
            f.ready.issuer
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("approve the request on the verification page"),
        "{}",
        r.stderr
    );
    assert_eq!(f.log()["device_verifications"][0]["action"], "abort");
}

#[test]
fn without_a_browser_the_code_is_chosen_and_the_reason_printed() {
    let f = device_fixture(json!({}));
    let user = User::new("device-auto");
    let url = &f.ready.mcp_url;
    let run = Running::start(&user, &["login", url, "--no-browser", "--json"]);
    let (uri, code) = run.code();
    person(&uri, &code, "approve");
    let r = run.finish();
    r.assert_ok();
    let events: Vec<Value> = r
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let method = events
        .iter()
        .find(|e| e["event"] == "method")
        .unwrap_or_else(|| panic!("{}", r.stderr));
    assert_eq!(method["method"], "device_code");
    assert_eq!(
        method["why"],
        format!(
            "You asked Latchkey not to open a browser, and {} offers sign-in with a code on another device: open the address below on your phone or another computer and enter the code",
            f.ready.issuer
        )
    );
    // The browser stand-in was never started.
    assert!(user.authorize_urls().is_empty());
    user.run(&["token", url]).assert_ok();
}

#[test]
fn asking_for_a_code_where_the_server_offers_none_names_it_and_the_way_out() {
    let f = Fixture::start(json!({}));
    let user = User::new("device-none");
    let r = user.run(&["login", &f.ready.mcp_url, "--device"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(&format!(
            "latchkey: the sign-in server {} does not offer sign-in with a code on another device",
            f.ready.issuer
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("Sign in without --device"),
        "{}",
        r.stderr
    );
    // Nothing was asked of the AS beyond its metadata.
    assert!(f.log()["register"].as_array().unwrap().is_empty());
}
