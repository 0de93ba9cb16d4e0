//! `latchkey doctor`: real scenarios produce the reasons, and the trace and diagnostics file
//! never hold a secret.

use latchkey_e2e::*;
use serde_json::{json, Value};
use std::process::Stdio;
use std::time::Duration;

fn doctor(user: &User, server: &str, extra: &[&str]) -> Value {
    let mut args = vec!["doctor", server, "--json"];
    args.extend_from_slice(extra);
    let r = user.run(&args);
    r.assert_ok();
    r.json()
}

#[test]
fn doctor_explains_each_state_and_never_leaks_a_secret() {
    let port = free_port();
    let secret = "doctor-client-secret-0123456789";
    let f = Fixture::start(json!({"as": {
        "access_token_ttl": 2,
        "registration": false,
        "static_clients": [{"client_id": "doc", "client_secret": secret,
            "redirect_uris": [format!("http://127.0.0.1:{port}/callback")],
            "token_endpoint_auth_method": "client_secret_post"}]
    }}));
    let user = User::new("doctor");
    let url = f.ready.mcp_url.as_str();

    // Never signed in: the server is fine and ready for a sign-in.
    let d = doctor(&user, url, &[]);
    assert_eq!(d["status"], "never_signed_in", "{d}");
    // This AS takes only pre-registered clients: the fix is to configure one.
    assert_eq!(d["reason"]["id"], "no_client");
    assert_eq!(d["reason"]["fix"], "configure_client");
    assert!(
        d["trace"].as_array().unwrap().len() >= 3,
        "probe, PRM, AS metadata"
    );
    assert_eq!(d["trace"][0]["status"], 401);

    // Signed in with a confidential client: working.
    let mut login = user
        .command(&[
            "login",
            url,
            "--json",
            "--client-id",
            "doc",
            "--client-secret-stdin",
            "--callback-port",
            &port.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        login
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{secret}\n").as_bytes())
            .unwrap();
    }
    assert!(login.wait_with_output().unwrap().status.success());
    let first = user.stored_bundle(url).unwrap();
    std::thread::sleep(Duration::from_millis(2100));
    let export = TempDir::new("doctor-export");
    let file = export.path().join("diagnostics.json");
    let d = doctor(&user, url, &["--export", file.to_str().unwrap()]);
    assert_eq!(d["status"], "working", "{d}");
    assert_eq!(d["working"]["tools"], 3);
    let renewed = user.stored_bundle(url).unwrap();
    assert_ne!(
        renewed["tokens"]["access_token"], first["tokens"]["access_token"],
        "doctor renewed the expired token"
    );

    // The grant is revoked by a reused refresh token (what racing refreshers do).
    let mut stale = first.clone();
    stale["tokens"]["expires_at"] = json!(1);
    user.put_bundle(url, &stale);
    let d2 = doctor(&user, url, &[]);
    assert_eq!(d2["status"], "needs_sign_in", "{d2}");
    assert!(
        d2["reason"]["id"]
            .as_str()
            .unwrap()
            .starts_with("refresh_token_"),
        "{d2}"
    );
    assert!(d2["reason"]["detail"]
        .as_str()
        .unwrap()
        .contains("invalid_grant"));
    let refresh = d2["trace"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["url"].as_str().unwrap().ends_with("/token"))
        .cloned()
        .expect("the refused refresh is in the trace");
    assert_eq!(refresh["status"], 400);
    assert!(
        refresh["request_body"]
            .as_str()
            .unwrap()
            .contains("refresh_token=%5Bredacted%5D"),
        "{refresh}"
    );
    // Asked again, it explains what it recorded, after checking the servers are there.
    let text = user.run(&["doctor", url]);
    assert!(
        text.stdout.contains("Fix: Sign in again.") && text.stdout.contains("What Latchkey did"),
        "{}",
        text.stdout
    );

    // Nothing secret in any trace, the export or the text.
    let mut secrets: Vec<String> = vec![secret.to_string()];
    for b in [&first, &renewed] {
        for k in ["access_token", "refresh_token"] {
            secrets.push(b["tokens"][k].as_str().unwrap().to_string());
        }
    }
    let exported = std::fs::read_to_string(&file).unwrap();
    for haystack in [
        exported.as_str(),
        &d.to_string(),
        &d2.to_string(),
        &text.stdout,
        &text.stderr,
    ] {
        for s in &secrets {
            assert!(
                !haystack.contains(s.as_str()),
                "a secret leaked into: {haystack}"
            );
        }
    }
    assert!(
        exported.contains("[redacted]"),
        "the refresh request was recorded, redacted"
    );

    // The server is down.
    let mcp = f.ready.mcp_url.clone();
    drop(f);
    std::thread::sleep(Duration::from_millis(300));
    let d3 = doctor(&user, &mcp, &[]);
    assert_eq!(d3["status"], "unreachable", "{d3}");
}

/// Servers and sign-in servers that are set up wrong, each seen through `doctor` as a
/// person would: the reason names the problem and the fix is the right one.
#[test]
fn doctor_names_what_is_misconfigured() {
    let user = User::new("doctor-misconfig");
    let cases = [
        (
            json!({"as": {"issuer_override": "http://127.0.0.1:9/other"}}),
            "issuer_mismatch",
            "contact_server_operator",
        ),
        (
            json!({"as": {"pkce_methods": ["plain"]}}),
            "pkce_unsupported",
            "contact_server_operator",
        ),
        (
            json!({"mcp": {"prm": {"resource_override": "http://127.0.0.1:9/elsewhere"}}}),
            "resource_mismatch",
            "contact_server_operator",
        ),
        (
            json!({"as": {"registration": false}}),
            "no_client",
            "configure_client",
        ),
    ];
    for (scenario, id, fix) in cases {
        let f = Fixture::start(scenario.clone());
        let d = doctor(&user, &f.ready.mcp_url, &[]);
        assert_eq!(d["reason"]["id"], id, "{scenario}: {d}");
        assert_eq!(d["reason"]["fix"], fix, "{scenario}: {d}");
        let status = if id == "no_client" {
            "never_signed_in"
        } else {
            "misconfigured"
        };
        assert_eq!(d["status"], status, "{scenario}: {d}");
    }
    // A server that fails with 500.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/mcp", l.local_addr().unwrap().port());
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            use std::io::{Read, Write};
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\nconnection: close\r\n\r\noops");
        }
    });
    let d = doctor(&user, &url, &[]);
    assert_eq!(d["reason"]["id"], "server_error", "{d}");
    assert_eq!(d["status"], "unreachable");
}

/// The last sign-in and the last renewal are kept per server with their requests, and none
/// of the secrets of those flows (code, tokens) is in them.
#[test]
fn the_last_flow_is_kept_redacted() {
    let f = Fixture::start(json!({"as": {"access_token_ttl": 2}}));
    let user = User::new("lastflow");
    let url = f.ready.mcp_url.as_str();
    user.run(&["login", url, "--json"]).assert_ok();
    let d = doctor(&user, url, &[]);
    assert_eq!(d["last_flow"]["kind"], "sign-in", "{d}");
    assert_eq!(d["last_flow"]["outcome"], "ok");
    let urls: Vec<String> = d["last_flow"]["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["url"].as_str().unwrap().to_string())
        .collect();
    assert!(
        urls.iter().any(|u| u.ends_with("/reg")) && urls.iter().any(|u| u.ends_with("/token")),
        "{urls:?}"
    );
    let signed_in = user.stored_bundle(url).unwrap();

    std::thread::sleep(Duration::from_millis(2100));
    user.command(&["token", url])
        .env("LATCHKEY_REFRESH_MARGIN_SECS", "0")
        .output()
        .unwrap();
    let renewed = user.stored_bundle(url).unwrap();
    let d = doctor(&user, url, &[]);
    assert_eq!(d["last_flow"]["kind"], "renewal", "{d}");

    let code = user
        .callback_urls()
        .iter()
        .flat_map(|u| query_params(u))
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v)
        .expect("a code was delivered");
    let mut secrets = vec![code];
    for b in [&signed_in, &renewed] {
        for k in ["access_token", "refresh_token"] {
            secrets.push(b["tokens"][k].as_str().unwrap().to_string());
        }
    }
    let flows = user.state_dir().join("flows");
    let mut all = String::new();
    for e in std::fs::read_dir(&flows).unwrap().flatten() {
        all.push_str(&std::fs::read_to_string(e.path()).unwrap());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(e.metadata().unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
    all.push_str(&d.to_string());
    for s in &secrets {
        assert!(!all.contains(s.as_str()), "a secret is in a kept flow");
    }
}

/// Everything a person or a bug report can see of a failed sign-in: stdout and stderr (text
/// and `--json`, with every log line), `doctor`'s answer and its diagnostics export, and
/// every file in the state folder (the flow record behind "why").
fn everything_shown(user: &User, url: &str, tag: &str) -> Vec<(String, String)> {
    let mut shown = Vec::new();
    for args in [vec!["login", url, "--json"], vec!["login", url]] {
        let out = user
            .command(&args)
            .env("LATCHKEY_LOG", "trace")
            .output()
            .expect("run latchkey");
        // A form-encoded answer is a token response (GitHub's OAuth apps answer so): the
        // planted tokens are signed in with, and must still show nowhere.
        assert_eq!(
            out.status.success(),
            tag == "text_plain",
            "{tag}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        shown.push((
            format!("{args:?} stdout"),
            String::from_utf8_lossy(&out.stdout).into(),
        ));
        // The browser stand-in (another program) writes the URLs it visits to the same
        // stderr: its lines are not latchkey's.
        let stderr: Vec<&str> = std::str::from_utf8(&out.stderr)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.starts_with("[browser]"))
            .collect();
        shown.push((format!("{args:?} stderr"), stderr.join("\n")));
    }
    let export = TempDir::new(&format!("{tag}-export"));
    let file = export.path().join("diagnostics.json");
    for args in [
        vec!["doctor", url, "--json", "--export", file.to_str().unwrap()],
        vec!["doctor", url],
        vec!["status", "--json"],
    ] {
        let r = user.run(&args);
        shown.push((format!("{args:?} stdout"), r.stdout));
        shown.push((format!("{args:?} stderr"), r.stderr));
    }
    shown.push((
        "diagnostics export".into(),
        std::fs::read_to_string(&file).expect("the export was written"),
    ));
    let mut dirs = vec![user.state_dir()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if let Ok(text) = std::fs::read_to_string(&p) {
                shown.push((p.display().to_string(), text));
            }
        }
    }
    shown
}

#[test]
fn planted_secrets_in_token_answers_appear_in_no_output() {
    const PLANTED: &str = "PLANTED-SECRET-1234";
    for answer in ["error_description", "text_plain"] {
        let f = Fixture::start(json!({"as": {
            "planted_token_answer": {"secret": PLANTED, "as": answer}
        }}));
        let user = User::new(&format!("planted-{answer}"));
        let url = f.ready.mcp_url.as_str();
        let shown = everything_shown(&user, url, answer);
        // The codes the browser stand-in delivered, which the error description echoes.
        let mut secrets = vec![PLANTED.to_string()];
        for cb in user.callback_urls() {
            let params = query_params(&cb);
            secrets.extend(param(&params, "code").map(str::to_string));
        }
        assert!(secrets.len() > 1, "the sign-in reached the token endpoint");
        let log = f.log();
        assert!(
            log["token"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["error_detail"] == "planted_token_answer"),
            "{log}"
        );
        let mut redacted = false;
        for (place, text) in &shown {
            for s in &secrets {
                assert!(
                    !text.contains(s.as_str()),
                    "{answer}: {s} leaked into {place}:\n{text}"
                );
            }
            redacted |= text.contains("[redacted]");
        }
        assert!(redacted, "{answer}: the answer was recorded, redacted");
    }
}
