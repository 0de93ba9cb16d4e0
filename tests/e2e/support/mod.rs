//! Shared parts of the end-to-end tests: the fixture servers, a private Secret Service, the
//! `latchkey` binary. Everything listens on 127.0.0.1 and lives in temporary directories;
//! nothing reads or writes the real home directory.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "latchkey-e2e-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child that dies with its owner: it runs under `bash`, which kills it when our end of its
/// stdin closes (on drop, or when the test process dies however it dies).
pub struct Tethered {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Tethered {
    pub fn spawn(script: &str, envs: &[(&str, &str)]) -> (Tethered, std::process::ChildStdout) {
        // `set -m` gives the job its own process group, so the whole pipeline is killed.
        let wrapped = format!(
            "set -m; {{ {script}; }} </dev/null & pid=$!; cat >/dev/null; kill -- -$pid 2>/dev/null; wait $pid 2>/dev/null"
        );
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(wrapped)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn sh");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        (Tethered { child, stdin }, stdout)
    }
}

impl Tethered {
    /// Nothing running (a placeholder while a process is being replaced).
    pub fn none() -> Tethered {
        let child = Command::new("true").spawn().expect("spawn true");
        Tethered { child, stdin: None }
    }
}

/// Secret Service sessions opened on a bus while it runs ([`SecretService::count_sessions`]).
pub struct SessionCount {
    monitor: Tethered,
    reader: Option<std::thread::JoinHandle<usize>>,
}

impl SessionCount {
    /// Stops the monitor (after a moment for the last calls to reach it) and gives the count.
    pub fn stop(mut self) -> usize {
        std::thread::sleep(Duration::from_millis(200));
        drop(std::mem::replace(&mut self.monitor, Tethered::none()));
        self.reader.take().unwrap().join().unwrap()
    }
}

impl Drop for Tethered {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A private D-Bus session bus in `run`, with no service directories (nothing is started on
/// it by itself), stopped when dropped; `envs` go to the daemon.
pub struct PrivateBus {
    pub address: String,
    _bus: Tethered,
    _dir: Option<TempDir>,
}

impl PrivateBus {
    /// A bus of its own in a fresh temporary folder (removed with it).
    pub fn start(tag: &str) -> PrivateBus {
        let dir = TempDir::new(&format!("bus-{tag}"));
        let mut bus = PrivateBus::start_in(&dir.path().join("run"), &[]);
        bus._dir = Some(dir);
        bus
    }

    pub fn start_in(run: &std::path::Path, envs: &[(&str, &str)]) -> PrivateBus {
        std::fs::create_dir_all(run).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(run, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let config = run.join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                run.display()
            ),
        )
        .unwrap();
        let (bus, out) = Tethered::spawn(
            &format!(
                "dbus-daemon --config-file={} --nofork --nopidfile --print-address=1 2>/dev/null",
                config.display()
            ),
            envs,
        );
        let mut address = String::new();
        BufReader::new(out)
            .read_line(&mut address)
            .expect("read the bus address");
        let address = address.trim().to_string();
        assert!(
            address.starts_with("unix:"),
            "dbus-daemon did not start (is the dbus package installed?): {address:?}"
        );
        PrivateBus {
            address,
            _bus: bus,
            _dir: None,
        }
    }
}

/// A private D-Bus session with gnome-keyring's Secret Service, unlocked, in a temp dir.
pub struct SecretService {
    pub address: String,
    _keyring: Tethered,
    _bus: PrivateBus,
    dir: TempDir,
}

impl SecretService {
    pub fn start() -> SecretService {
        let dir = TempDir::new("keyring");
        let home = dir.path().to_string_lossy().to_string();
        let run = format!("{home}/run");
        let bus = PrivateBus::start_in(
            std::path::Path::new(&run),
            &[("HOME", &home), ("XDG_RUNTIME_DIR", &run)],
        );
        let keyring = Self::daemon(dir.path(), &bus.address);
        SecretService {
            address: bus.address.clone(),
            _keyring: keyring,
            _bus: bus,
            dir,
        }
    }

    /// gnome-keyring-daemon for the home `home` on the bus `address`, once its default
    /// collection (the unlocked login keyring) exists; the service name appears on the bus
    /// before that.
    fn daemon(home: &Path, address: &str) -> Tethered {
        let home = home.to_string_lossy().to_string();
        let data = format!("{home}/data");
        let run = format!("{home}/run");
        let envs = [
            ("HOME", home.as_str()),
            ("XDG_DATA_HOME", data.as_str()),
            ("XDG_RUNTIME_DIR", run.as_str()),
            ("DBUS_SESSION_BUS_ADDRESS", address),
        ];
        let (keyring, _) = Tethered::spawn(
            "printf test | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null",
            &envs,
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = Command::new("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.secrets",
                    "/org/freedesktop/secrets",
                    "org.freedesktop.Secret.Service.ReadAlias",
                    "string:default",
                ])
                .env("DBUS_SESSION_BUS_ADDRESS", address)
                .output()
                .expect("dbus-send");
            if String::from_utf8_lossy(&out.stdout).contains("/collection/") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "gnome-keyring's Secret Service did not appear on the private bus"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        keyring
    }

    /// Stops gnome-keyring-daemon and starts a new one on the same bus and keyring files, as
    /// when a person's keyring daemon restarts: items stay, sessions are gone.
    pub fn restart_daemon(&mut self) {
        let old = std::mem::replace(&mut self._keyring, Tethered::none());
        drop(old);
        // The old daemon's name must be gone before the new one can take it.
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.has_service() {
            assert!(
                Instant::now() < deadline,
                "the old keyring daemon did not stop"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        self._keyring = Self::daemon(self.dir.path(), &self.address);
    }

    fn has_service(&self) -> bool {
        let out = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .expect("dbus-send");
        String::from_utf8_lossy(&out.stdout).contains("boolean true")
    }

    /// Starts counting the Secret Service sessions opened on this keychain's bus (its
    /// `OpenSession` calls, seen by `dbus-monitor`), from now until [`SessionCount::stop`].
    pub fn count_sessions(&self) -> SessionCount {
        let (monitor, out) = Tethered::spawn(
            "exec dbus-monitor --session \"type='method_call',interface='org.freedesktop.Secret.Service',member='OpenSession'\"",
            &[("DBUS_SESSION_BUS_ADDRESS", self.address.as_str())],
        );
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut ready = Some(tx);
            let mut count = 0;
            for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
                // The monitor's own NameLost ends its start: calls after it are seen.
                if line.contains("member=NameLost") {
                    if let Some(tx) = ready.take() {
                        let _ = tx.send(());
                    }
                }
                if line.contains("member=OpenSession") {
                    count += 1;
                }
            }
            count
        });
        rx.recv_timeout(Duration::from_secs(10))
            .expect("dbus-monitor did not start on the keychain's bus");
        SessionCount {
            monitor,
            reader: Some(reader),
        }
    }

    /// Environment for a process that should use this keychain and nothing of the real home.
    pub fn env(&self) -> Vec<(String, String)> {
        let home = self.dir.path().to_string_lossy().to_string();
        vec![
            ("DBUS_SESSION_BUS_ADDRESS".into(), self.address.clone()),
            ("HOME".into(), home.clone()),
            ("XDG_DATA_HOME".into(), format!("{home}/data")),
            ("XDG_CONFIG_HOME".into(), format!("{home}/config")),
            ("XDG_RUNTIME_DIR".into(), format!("{home}/run")),
        ]
    }
}

/// What `serve.mjs` reports when it is ready.
#[derive(Debug, Clone)]
pub struct Ready {
    pub mcp_url: String,
    pub issuer: String,
    pub as_origin: String,
    pub mcp_origin: String,
    pub log_url: String,
}

/// One scenario of the fixture servers: oidc-provider and an MCP SDK server.
pub struct Fixture {
    pub ready: Ready,
    _proc: Tethered,
}

impl Fixture {
    /// Nine servers a busy home names (gitlab, notion, linear…), each at a host under
    /// `.example` that resolves only through `LATCHKEY_TEST_HOSTS`, on this fixture's port:
    /// (name, URL). With an empty hosts file the home is offline.
    pub fn offline_home_servers(&self) -> Vec<(String, String)> {
        let port = self
            .ready
            .mcp_url
            .rsplit(':')
            .next()
            .unwrap()
            .trim_end_matches("/mcp")
            .to_string();
        [
            "gitlab",
            "notion",
            "linear",
            "sentry",
            "asana",
            "atlassian",
            "stripe",
            "github",
            "figma",
        ]
        .iter()
        .map(|n| (n.to_string(), format!("http://mcp.{n}.example:{port}/mcp")))
        .collect()
    }

    pub fn start(scenario: Value) -> Fixture {
        let dir = fixtures_dir();
        assert!(
            dir.join("node_modules").exists(),
            "the fixtures' npm packages are missing: run `npm ci --prefix tests/fixtures` (scripts/test.sh does)"
        );
        // serve.mjs exits when its stdin closes, so holding the pipe tethers it to us.
        let mut child = Command::new("node")
            .arg(dir.join("serve.mjs"))
            .arg(scenario.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start node (is Node.js installed?)");
        let out = child.stdout.take().expect("stdout");
        let proc = Tethered {
            stdin: child.stdin.take(),
            child,
        };
        let mut reader = BufReader::new(out);
        let mut line = String::new();
        loop {
            line.clear();
            let n = reader.read_line(&mut line).expect("read fixture output");
            assert!(
                n > 0,
                "the fixture exited before it was ready (see stderr above)"
            );
            if let Some(json) = line.trim().strip_prefix("READY ") {
                let v: Value = serde_json::from_str(json).expect("READY json");
                let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
                let ready = Ready {
                    mcp_url: s("mcp_url"),
                    issuer: s("issuer"),
                    as_origin: s("as_origin"),
                    mcp_origin: s("mcp_origin"),
                    log_url: s("log_url"),
                };
                // Keep draining stdout so the fixture never blocks on a full pipe.
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut reader, &mut std::io::sink());
                });
                return Fixture { ready, _proc: proc };
            }
        }
    }

    /// The AS forgets every access token it issued: the MCP server refuses them (401
    /// `invalid_token`) while refresh tokens still work.
    pub fn forget_access_tokens(&self) {
        let url = format!("{}/__forget_access_tokens", self.ready.as_origin);
        assert_eq!(http_post_bearer(&url, "", "unused"), 204);
    }

    /// The AS forgets every registered client, as if an admin deleted them.
    pub fn forget_clients(&self) {
        let url = format!("{}/__forget_clients", self.ready.as_origin);
        assert_eq!(http_post_bearer(&url, "", "unused"), 204);
    }

    /// The AS forgets every client right after it issues the next authorization code: the
    /// code exchange then answers `invalid_client`.
    pub fn forget_clients_after_next_code(&self) {
        let url = format!("{}/__forget_clients_after_next_code", self.ready.as_origin);
        assert_eq!(http_post_bearer(&url, "", "unused"), 204);
    }

    /// The server's protected resource metadata names `issuers` from now on, as when it moved
    /// to another authorization server.
    pub fn set_authorization_servers(&self, issuers: &[&str]) {
        let url = format!("{}/__authorization_servers", self.ready.as_origin);
        let body = serde_json::to_string(issuers).expect("JSON");
        assert_eq!(http_post_bearer(&url, &body, "unused"), 204);
    }

    /// What the AS received: authorize queries, registration bodies, token requests.
    pub fn log(&self) -> Value {
        let (status, body) = http_get(&self.ready.log_url);
        assert_eq!(status, 200, "fixture log: {body}");
        serde_json::from_str(&body).expect("log json")
    }
}

/// A port for a fixed callback (a pre-registered redirect URI). It is taken below the
/// kernel's ephemeral range (32768 and up here), so no port-0 bind of another test running
/// at the same time can take it between this pick and the sign-in.
pub fn free_port() -> u16 {
    static N: AtomicU32 = AtomicU32::new(0);
    let base = (std::process::id() % 500) * 20;
    for _ in 0..2000 {
        let n = N.fetch_add(1, Ordering::SeqCst);
        let port = 20_000 + ((base + n * 7) % 12_000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port below the ephemeral range");
}

/// A tiny HTTP/1.0 GET for loopback URLs.
pub fn http_get(url: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (hostport, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut s = TcpStream::connect(hostport).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {hostport}\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = resp
        .split_once("\r\n\r\n")
        .map(|x| x.1)
        .unwrap_or("")
        .to_string();
    (status, body)
}

/// A JSON POST with a bearer token to a loopback URL; returns the status code.
pub fn http_post_bearer(url: &str, body: &str, token: &str) -> u16 {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (hostport, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = TcpStream::connect(hostport).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.0\r\nHost: {hostport}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    resp.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

pub const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"e2e","version":"0"}}}"#;

/// The `latchkey` binary, built once per test run from this workspace.
pub fn latchkey_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(p) = std::env::var("LATCHKEY_BIN") {
            return PathBuf::from(p);
        }
        // This test binary is target/<profile>/deps/<name>; the CLI lands in target/<profile>.
        let exe = std::env::current_exe().expect("current exe");
        let profile_dir = exe.parent().and_then(Path::parent).expect("target dir");
        let target_dir = profile_dir.parent().expect("target root");
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "latchkey-cli", "--bin", "latchkey"])
            .env("CARGO_TARGET_DIR", target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo build");
        assert!(status.success(), "building the latchkey binary failed");
        profile_dir.join("latchkey")
    })
    .clone()
}

/// One isolated user of `latchkey`: a private keychain, a temp HOME, the browser stand-in.
pub struct User {
    pub keychain: SecretService,
    pub service: String,
    pub browser_log: PathBuf,
    pub tamper: Option<String>,
    _dir: TempDir,
}

impl User {
    pub fn new(tag: &str) -> User {
        let dir = TempDir::new(tag);
        User {
            keychain: SecretService::start(),
            service: format!("latchkey-e2e-{tag}"),
            browser_log: dir.path().join("browser.log"),
            tamper: None,
            _dir: dir,
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(latchkey_bin());
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LATCHKEY_KEYCHAIN_SERVICE", &self.service)
            .env("LATCHKEY_STATE_DIR", self.state_dir())
            .env("BROWSER", fixtures_dir().join("browser.mjs"))
            .env("LATCHKEY_TEST_BROWSER_LOG", &self.browser_log)
            .stdin(Stdio::null());
        if let Some(t) = &self.tamper {
            c.env("LATCHKEY_TEST_BROWSER_TAMPER", t);
        }
        for (k, v) in self.keychain.env() {
            c.env(k, v);
        }
        c
    }

    /// Runs latchkey and returns (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> Run {
        let out: Output = self.command(args).output().expect("run latchkey");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The item at `account` in this user's namespace, read straight from the Secret Service
    /// like any other program could; None when there is none.
    pub fn lookup(&self, account: &str) -> Option<String> {
        let out = Command::new("secret-tool")
            .args(["lookup", "service", &self.service, "username", account])
            .envs(self.keychain.env())
            .output()
            .expect("secret-tool");
        (!out.stdout.is_empty()).then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The accounts of every item in this user's namespace, sorted.
    pub fn accounts(&self) -> Vec<String> {
        let out = Command::new("secret-tool")
            .args(["search", "--all", "service", &self.service])
            .envs(self.keychain.env())
            .output()
            .expect("secret-tool");
        // Attributes go to stdout, one `attribute.NAME = VALUE` line each.
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        let mut accounts: Vec<String> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("attribute.username = "))
            .map(str::to_string)
            .collect();
        accounts.sort();
        accounts
    }

    /// The bundle stored for a server, read straight from the Secret Service like any other
    /// program could: the item at its URL, or where that item is a record of parts
    /// (`{"latchkey_parts":1,"gen":G,"count":N,...}`), its parts `<id>#part:G:0..N` joined.
    /// None when there is none or a part is missing. Panics when it is not whole JSON.
    pub fn stored_bundle(&self, server_id: &str) -> Option<Value> {
        let mut stored = self.lookup(server_id)?;
        if stored.starts_with("{\"latchkey_parts\":") {
            let record: Value = serde_json::from_str(&stored).expect("a record of parts");
            let gen = record["gen"].as_str().expect("gen");
            let count = record["count"].as_u64().expect("count");
            stored = (0..count)
                .map(|n| self.lookup(&format!("{server_id}#part:{gen}:{n}")))
                .collect::<Option<String>>()?;
        }
        Some(
            serde_json::from_str(&stored).unwrap_or_else(|e| {
                panic!("the stored bundle is not whole JSON ({e}): {stored:?}")
            }),
        )
    }

    /// The client registration Latchkey keeps for `issuer` (keychain account
    /// `latchkey:client:<issuer>`), read straight from the Secret Service; None when there is
    /// none.
    pub fn stored_client(&self, issuer: &str) -> Option<Value> {
        self.stored_bundle(&format!("latchkey:client:{issuer}"))
    }

    /// Writes a bundle behind Latchkey's back (to stage a stale or broken state).
    pub fn put_bundle(&self, server_id: &str, v: &Value) {
        let mut c = Command::new("secret-tool")
            .args([
                "store",
                "--label=latchkey",
                "service",
                &self.service,
                "username",
                server_id,
            ])
            .envs(self.keychain.env())
            .stdin(Stdio::piped())
            .spawn()
            .expect("secret-tool");
        c.stdin
            .take()
            .expect("stdin")
            .write_all(v.to_string().as_bytes())
            .expect("write");
        assert!(c.wait().expect("wait").success());
        // The bundle changed behind Latchkey's back: drop its kernel keyring copies of
        // access tokens, as Latchkey itself does on every write.
        purge_hot_cache(&self.service);
    }

    /// Locks this user's login keychain, as a screen lock or `Lock` in Seahorse does: the
    /// Secret Service then refuses to hand out secrets until it is unlocked.
    pub fn lock_keychain(&self) {
        let lock = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                "array:objpath:/org/freedesktop/secrets/collection/login",
            ])
            .envs(self.keychain.env())
            .output()
            .expect("dbus-send");
        assert!(lock.status.success(), "{lock:?}");
    }

    /// Latchkey's own files for this user (locks, last flows).
    pub fn state_dir(&self) -> PathBuf {
        self._dir.path().join("state")
    }

    /// The callback URLs the browser stand-in delivered (they hold codes), in order.
    pub fn callback_urls(&self) -> Vec<String> {
        std::fs::read_to_string(&self.browser_log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter_map(|v| v["callback_url"].as_str().map(str::to_string))
            .collect()
    }

    /// The authorize URLs the browser stand-in visited, in order.
    pub fn authorize_urls(&self) -> Vec<String> {
        std::fs::read_to_string(&self.browser_log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter_map(|v| v["authorize_url"].as_str().map(str::to_string))
            .collect()
    }
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "latchkey failed:\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// The query parameters of a URL, decoded.
pub fn query_params(url: &str) -> Vec<(String, String)> {
    let q = url.split_once('?').map(|x| x.1).unwrap_or("");
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let h = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(h, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `claude mcp list` of the real Claude Code (pinned in tests/fixtures) with `home` as its
/// HOME. Its helpers inherit this environment: the user's keychain and namespace go in, and
/// nothing may leave the machine (a dead proxy for anything not on loopback).
pub fn claude_mcp_list(home: &Path, user: &User) -> String {
    let claude = fixtures_dir().join("node_modules/.bin/claude");
    assert!(
        claude.exists(),
        "Claude Code is missing: run npm ci --prefix tests/fixtures"
    );
    let out = Command::new(&claude)
        .args(["mcp", "list"])
        .current_dir(home)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(user.keychain.env())
        .env("HOME", home)
        .env("LATCHKEY_KEYCHAIN_SERVICE", &user.service)
        .env("LATCHKEY_REFRESH_MARGIN_SECS", "1")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("DISABLE_TELEMETRY", "1")
        .env("DISABLE_ERROR_REPORTING", "1")
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("TERM", "dumb")
        .stdin(Stdio::null())
        .output()
        .expect("run claude");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The status line `claude mcp list` prints for one server, e.g. "fx: URL (HTTP) - ✔ Connected".
pub fn claude_status<'a>(list: &'a str, name: &str) -> &'a str {
    list.lines()
        .find(|l| l.starts_with(&format!("{name}:")))
        .unwrap_or_default()
}

/// Removes every kernel keyring copy of an access token that Latchkey keeps for the keychain
/// namespace `service` (entries `latchkey:hot:v1:<service>:...` in the user keyring).
#[cfg(target_os = "linux")]
pub fn purge_hot_cache(service: &str) {
    use linux_keyutils::{KeyRing, KeyRingIdentifier};
    let prefix = format!("latchkey:hot:v1:{service}:");
    let Ok(ring) = KeyRing::from_special_id(KeyRingIdentifier::User, false) else {
        return;
    };
    let Ok(links) = ring.get_links(4096) else {
        return;
    };
    for node in links.iter() {
        if let Some(key) = node.as_key() {
            if key
                .metadata()
                .is_ok_and(|m| m.get_description().starts_with(&prefix))
            {
                let _ = key.invalidate();
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub fn purge_hot_cache(_service: &str) {}

/// The real Codex (pinned in tests/fixtures).
pub fn codex_bin() -> PathBuf {
    let p = fixtures_dir().join("node_modules/.bin/codex");
    assert!(
        p.exists(),
        "Codex is missing: run npm ci --prefix tests/fixtures"
    );
    p
}

/// A Codex command with `home` as HOME (and `codex_home` as CODEX_HOME when given), the
/// user's private Secret Service, and nothing that may leave the machine: a dead proxy for
/// anything not on loopback, no update check, no analytics.
pub fn codex(home: &Path, codex_home: Option<&Path>, user: &User, args: &[&str]) -> Command {
    let mut c = Command::new(codex_bin());
    c.args([
        "-c",
        "check_for_update_on_startup=false",
        "-c",
        "analytics.enabled=false",
    ])
    .args(args)
    .current_dir(home)
    .env_clear()
    .env("PATH", std::env::var("PATH").unwrap_or_default())
    .envs(user.keychain.env())
    .env("HOME", home)
    // For a `latchkey headers` helper Codex runs.
    .env("LATCHKEY_KEYCHAIN_SERVICE", &user.service)
    .env("LATCHKEY_STATE_DIR", user.state_dir())
    .env("HTTPS_PROXY", "http://127.0.0.1:9")
    .env("HTTP_PROXY", "http://127.0.0.1:9")
    .env("NO_PROXY", "127.0.0.1,localhost")
    .env("TERM", "dumb");
    if let Some(d) = codex_home {
        c.env("CODEX_HOME", d);
    }
    c
}

pub fn send(stdin: &mut std::process::ChildStdin, v: Value) {
    writeln!(stdin, "{v}").unwrap();
    stdin.flush().unwrap();
}

/// What Codex says about one MCP server after connecting to it: `mcpServerStatus/list` of
/// `codex app-server` (JSON-RPC on stdio), the entry of `name`.
pub fn codex_status(home: &Path, codex_home: Option<&Path>, user: &User, name: &str) -> Value {
    let mut child = codex(home, codex_home, user, &["app-server"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run codex app-server");
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if tx.send(v).is_err() {
                    break;
                }
            }
        }
    });
    // Codex's stderr, for failure messages; never waited for long (the npm launcher's child
    // could outlive a killed launcher and hold the pipe open).
    let (err_tx, err_rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut s);
        let _ = err_tx.send(s);
    });
    let wait_for = |id: u64| -> Option<Value> {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(v) if v["id"] == id => return Some(v),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
        None
    };
    send(
        &mut stdin,
        serde_json::json!({"id": 1, "method": "initialize", "params": {"clientInfo": {"name": "latchkey-e2e", "version": "0"}}}),
    );
    let init = wait_for(1);
    send(&mut stdin, serde_json::json!({"method": "initialized"}));
    send(
        &mut stdin,
        serde_json::json!({"id": 2, "method": "mcpServerStatus/list", "params": {"detail": "toolsAndAuthOnly"}}),
    );
    let list = wait_for(2);
    drop(stdin);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    let errors = err_rx
        .recv_timeout(Duration::from_secs(5))
        .unwrap_or_default();
    let list = list.unwrap_or_else(|| {
        panic!("codex app-server did not answer (initialize: {init:?}); stderr:\n{errors}")
    });
    list["result"]["data"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == name).cloned())
        .unwrap_or_else(|| panic!("no server {name} in {list}; stderr:\n{errors}"))
}

/// `gemini mcp list` of the real Gemini CLI, run in `cwd` with `home` as its HOME; returns
/// what it printed (it prints the list on stderr). Nothing may leave the machine: telemetry
/// and update checks are off, and a dead proxy catches anything not on loopback.
pub fn gemini_mcp_list(home: &Path, cwd: &Path) -> String {
    let gemini = fixtures_dir().join("node_modules/.bin/gemini");
    assert!(
        gemini.exists(),
        "Gemini CLI is missing: run npm ci --prefix tests/fixtures"
    );
    let out = Command::new(&gemini)
        .args(["mcp", "list"])
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("TERM", "dumb")
        .env("NO_COLOR", "1")
        .env("GEMINI_CLI_TRUST_WORKSPACE", "true")
        .env("GEMINI_CLI_NO_RELAUNCH", "true")
        .env("GEMINI_TELEMETRY_ENABLED", "false")
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .stdin(Stdio::null())
        .output()
        .expect("run gemini");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
