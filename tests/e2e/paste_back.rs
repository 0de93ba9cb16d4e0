//! Sign-in without a browser on this machine (issue 17, part A): the test plays the other
//! computer. `latchkey login` runs with no browser it can open (`--no-browser`, or an SSH
//! session without a display) and piped standard input; the browser stand-in follows the
//! printed address on the fixture AS and stops at the redirect to 127.0.0.1 without
//! requesting it (so the listener never sees it); the test pastes that address into
//! Latchkey's standard input, after a few that are not the answer.

use latchkey_e2e::*;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// A `latchkey login` running with piped standard input, its standard error read line by
/// line (all of it kept, for the secret check).
struct Login {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Login {
    fn start(mut c: Command) -> Login {
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("start latchkey login");
        let stdin = child.stdin.take();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Login {
            child,
            stdin,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line of standard error that holds `what` (up to 30 s); returns it.
    #[track_caller]
    fn expect(&mut self, what: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(what) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no line with {what:?} on latchkey's stderr; it said:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// The sign-in address Latchkey printed (the line after "Open this address").
    fn sign_in_address(&mut self) -> String {
        self.expect("Open this address in a browser");
        self.expect("http").trim().to_string()
    }

    fn paste(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        writeln!(stdin, "{text}").unwrap();
        stdin.flush().unwrap();
    }

    /// Waits for the exit; (code, stdout, all of stderr).
    fn finish(mut self) -> (i32, String, String) {
        drop(self.stdin.take());
        let out = self.child.wait_with_output().expect("wait for latchkey");
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            self.seen.join("\n"),
        )
    }
}

/// The browser on the other computer: signs in at the fixture AS and returns the address it
/// ended on, without requesting it.
fn browse_until_callback(authorize: &str, tamper: Option<&str>) -> String {
    let mut c = Command::new(fixtures_dir().join("browser.mjs"));
    c.arg(authorize)
        .env("LATCHKEY_TEST_BROWSER_STOP_AT_CALLBACK", "1")
        .stdin(Stdio::null());
    if let Some(t) = tamper {
        c.env("LATCHKEY_TEST_BROWSER_TAMPER", t);
    }
    let out = c.output().expect("run the browser stand-in");
    assert!(
        out.status.success(),
        "the browser stand-in failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let address = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        address.starts_with("http://127.0.0.1:") && address.contains("/callback?"),
        "{address}"
    );
    address
}

/// Every file under `dir`, as text.
fn all_files(dir: &std::path::Path) -> String {
    let mut out = String::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.push_str(&all_files(&p));
        } else {
            out.push_str(&String::from_utf8_lossy(
                &std::fs::read(&p).unwrap_or_default(),
            ));
        }
    }
    out
}

/// `address` with the query parameter `name` set to `value`.
fn with_param(address: &str, name: &str, value: &str) -> String {
    let (base, query) = address.split_once('?').unwrap();
    let query: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k == name => format!("{k}={value}"),
            _ => kv.to_string(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

#[test]
fn the_address_pasted_back_finishes_the_sign_in_after_refusing_what_is_not_the_answer() {
    let f = Fixture::start(serde_json::json!({}));
    let user = User::new("paste-back");
    let url = f.ready.mcp_url.as_str();

    let mut c = user.command(&["login", url, "--no-browser", "--callback-timeout", "90"]);
    c.env("LATCHKEY_LOG", "trace");
    let mut login = Login::start(c);
    let method = login.expect("The sign-in answer comes back");
    assert!(
        method.contains("by pasting back the address your browser ends on")
            && method.contains("You asked Latchkey not to open a browser"),
        "{method}"
    );
    let authorize = login.sign_in_address();
    let what = login.expect("Copy the whole address");
    assert!(what.contains("http://127.0.0.1:"), "{what}");

    let answer = browse_until_callback(&authorize, None);
    let code = query_params(&answer)
        .into_iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v)
        .expect("a code in the address");
    assert!(code.len() >= 8, "{code}");

    // Garbage first: refused, and Latchkey keeps waiting.
    login.paste("hello there");
    let m = login.expect("not a web address");
    assert!(
        m.contains("Paste the whole address") && m.contains("still waiting (4 more tries"),
        "{m}"
    );
    // The right address with a wrong state.
    login.paste(&with_param(&answer, "state", "not-this-sign-ins-state"));
    let m = login.expect("its state is not the one this sign-in sent");
    assert!(m.contains("still waiting (3 more tries"), "{m}");
    // Another sign-in's address: another port.
    let port = answer
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .unwrap()
        .parse::<u16>()
        .unwrap();
    let other = port.wrapping_add(1).max(1024);
    let elsewhere = answer.replacen(&format!(":{port}/"), &format!(":{other}/"), 1);
    login.paste(&elsewhere);
    let m = login.expect("from another sign-in: it goes to");
    assert!(
        m.contains(&format!("127.0.0.1:{other}/callback")) && m.contains("still waiting (2 more"),
        "{m}"
    );

    // The answer itself.
    login.paste(&answer);
    login.expect("Got the sign-in answer from the pasted address");
    let (status, stdout, stderr) = login.finish();
    assert_eq!(status, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("Signed in"), "{stdout}");

    // The listener never saw the answer: the token came from the pasted code.
    let tokens = f.log()["token"].as_array().unwrap().clone();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    let t = user.run(&["token", url]);
    t.assert_ok();
    assert!(!t.stdout.trim().is_empty());

    // The code (and the pasted address) appear nowhere: not on stdout or stderr, not in the
    // state folder's records and traces.
    for (name, text) in [
        ("stdout", stdout.as_str()),
        ("stderr", stderr.as_str()),
        ("state folder", &all_files(&user.state_dir())),
    ] {
        assert!(!text.contains(&code), "the code is in {name}:\n{text}");
        assert!(!text.contains(&answer), "the address is in {name}");
    }
}

#[test]
fn an_error_pasted_back_ends_the_sign_in_in_the_servers_words() {
    let f = Fixture::start(serde_json::json!({}));
    let user = User::new("paste-back-deny");
    let url = f.ready.mcp_url.as_str();
    let mut login = Login::start(user.command(&["login", url, "--no-browser"]));
    let authorize = login.sign_in_address();
    let answer = browse_until_callback(&authorize, Some("deny"));
    assert!(answer.contains("error=access_denied"), "{answer}");
    login.paste(&answer);
    let (status, stdout, stderr) = login.finish();
    assert_ne!(status, 0, "{stdout}\n{stderr}");
    assert!(stderr.contains("access_denied"), "{stderr}");
    assert!(f.log()["token"].as_array().is_none_or(|t| t.is_empty()));
}

#[test]
fn over_ssh_without_a_display_latchkey_says_why_and_the_ssh_forward_command() {
    let f = Fixture::start(serde_json::json!({}));
    let user = User::new("paste-back-ssh");
    let url = f.ready.mcp_url.as_str();
    let port = free_port();
    let mut c = user.command(&["login", url, "--callback-port", &port.to_string()]);
    // An SSH session without a display and without $BROWSER.
    c.env_remove("BROWSER")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("SSH_CONNECTION", "203.0.113.7 51234 198.51.100.20 22")
        .env("SSH_TTY", "/dev/pts/4")
        .env("USER", "ada");
    let mut login = Login::start(c);
    let method = login.expect("The sign-in answer comes back");
    assert!(
        method.contains("This is an SSH session without a display, so no browser can open here"),
        "{method}"
    );
    assert!(method.contains("forwarded"), "{method}");
    let hint = login.expect("run this on the computer with the browser");
    assert!(hint.contains("(not here)"), "{hint}");
    let command = login.expect("ssh -L");
    assert_eq!(
        command.trim(),
        format!("ssh -L {port}:127.0.0.1:{port} ada@198.51.100.20")
    );
    let authorize = login.sign_in_address();
    login.expect("Copy the whole address");
    // Standard input (a pipe) ends: the listener keeps waiting, and the browser's answer
    // comes through the forwarded port (here: the same machine) to it.
    drop(login.stdin.take());
    let browser = Command::new(fixtures_dir().join("browser.mjs"))
        .arg(&authorize)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(browser.status.success(), "{browser:?}");
    let (status, stdout, stderr) = login.finish();
    assert_eq!(status, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    user.run(&["token", url]).assert_ok();
}

/// `latchkey call` on a server not signed in yet signs in on the way: over SSH that sign-in
/// is finished by pasting back too (found by review: it waited for a browser on this machine).
#[test]
fn a_sign_in_on_the_way_of_call_is_finished_by_pasting_back() {
    let f = Fixture::start(serde_json::json!({}));
    let user = User::new("paste-back-check");
    let url = f.ready.mcp_url.as_str();
    let mut login = Login::start(user.command(&["call", url, "whoami", "--no-browser"]));
    let method = login.expect("The sign-in answer comes back");
    assert!(method.contains("by pasting back"), "{method}");
    let authorize = login.sign_in_address();
    let answer = browse_until_callback(&authorize, None);
    login.paste(&answer);
    login.expect("Got the sign-in answer from the pasted address");
    let (status, stdout, stderr) = login.finish();
    assert_eq!(status, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(!stdout.trim().is_empty(), "the tool answered:\n{stdout}");
}

/// A browser that opened but cannot reach this machine (a `$BROWSER` that runs elsewhere):
/// the answer is still taken when pasted, though Latchkey did not ask for it.
#[test]
fn a_pasted_address_is_taken_even_when_a_browser_opened() {
    let f = Fixture::start(serde_json::json!({}));
    let user = User::new("paste-back-opened");
    let url = f.ready.mcp_url.as_str();
    let mut c = user.command(&["login", url]);
    // The browser stand-in signs in and stops at the redirect, as a browser elsewhere would.
    c.env("LATCHKEY_TEST_BROWSER_STOP_AT_CALLBACK", "1");
    let mut login = Login::start(c);
    let method = login.expect("The sign-in answer comes back");
    assert!(
        method.contains("in your browser on this machine"),
        "{method}"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let answer = loop {
        if let Some(a) = user.callback_urls().into_iter().next() {
            break a;
        }
        assert!(
            Instant::now() < deadline,
            "the browser stand-in never reached the callback"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    login.paste(&answer);
    login.expect("Got the sign-in answer from the pasted address");
    let (status, stdout, stderr) = login.finish();
    assert_eq!(status, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        !stderr.contains("Address:"),
        "no prompt when a browser opened:\n{stderr}"
    );
}
