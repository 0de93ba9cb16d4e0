//! A private desktop for the real app: Xvfb on a free display, a small window manager
//! (openbox, so windows can be closed the way a person closes them), an XEmbed system tray
//! (trayer) that hosts the app's tray icon, and helpers to find, click and capture windows
//! with xdotool and ImageMagick. Plus the app binary, tauri-driver and a tiny W3C WebDriver
//! client over plain HTTP on 127.0.0.1.
//!
//! libayatana-appindicator talks to a StatusNotifierItem watcher on D-Bus when there is one;
//! the private bus of these tests has none, so it falls back to an XEmbed GtkStatusIcon,
//! which trayer embeds.

pub mod notifications;

use latchkey_e2e::Tethered;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// Where screenshots and logs of the real-app tests go (gitignored, kept after a run).
pub fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    std::fs::create_dir_all(&dir).expect("create tests/artifacts");
    dir
}

/// Checks that a program is on PATH, with what to do when it is not.
pub fn require_tool(tool: &str, package: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        found,
        "`{tool}` is missing: install the Debian package {package} (scripts/setup.sh does)"
    );
}

/// Polls `f` every 100 ms until it gives Some, or panics with `what` after `timeout`.
#[track_caller]
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {}s waiting for {what}",
            timeout.as_secs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A window's place on the screen.
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

impl Geometry {
    pub fn union(self, o: Geometry) -> Geometry {
        let x = self.x.min(o.x);
        let y = self.y.min(o.y);
        let r = (self.x + self.w).max(o.x + o.w);
        let b = (self.y + self.h).max(o.y + o.h);
        Geometry {
            x,
            y,
            w: r - x,
            h: b - y,
        }
    }

    pub fn grow(self, by: i32, screen: Geometry) -> Geometry {
        let x = (self.x - by).max(0);
        let y = (self.y - by).max(0);
        let r = (self.x + self.w + by).min(screen.w);
        let b = (self.y + self.h + by).min(screen.h);
        Geometry {
            x,
            y,
            w: r - x,
            h: b - y,
        }
    }
}

/// Xvfb, a window manager and a system tray on a display of their own.
pub struct Desktop {
    pub display: String,
    pub screen: Geometry,
    _tray: Tethered,
    _wm: Tethered,
    _xvfb: (Tethered, ChildStdout),
}

impl Desktop {
    pub fn start() -> Desktop {
        for (tool, package) in [
            ("Xvfb", "xvfb"),
            ("xdotool", "xdotool"),
            ("xwininfo", "x11-utils"),
            ("import", "imagemagick"),
            ("openbox", "openbox"),
            ("trayer", "trayer"),
        ] {
            require_tool(tool, package);
        }
        let screen = Geometry {
            x: 0,
            y: 0,
            w: 1280,
            h: 800,
        };
        // -displayfd: Xvfb picks a free display itself and prints its number once listening.
        let (xvfb, out) = Tethered::spawn(
            &format!(
                "exec Xvfb -displayfd 1 -screen 0 {}x{}x24 -nolisten tcp -noreset 2>/dev/null",
                screen.w, screen.h
            ),
            &[],
        );
        let mut reader = BufReader::new(out);
        let mut line = String::new();
        reader.read_line(&mut line).expect("read Xvfb's display");
        let n: u32 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("Xvfb did not start (it printed {line:?})"));
        let display = format!(":{n}");
        let env = [("DISPLAY", display.as_str())];
        let (wm, _) = Tethered::spawn("exec openbox --sm-disable >/dev/null 2>&1", &env);
        let probe = |program: &str, args: &[&str]| {
            Command::new(program)
                .args(args)
                .env("DISPLAY", &display)
                .stdin(Stdio::null())
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default()
        };
        wait_for(
            "openbox to manage the screen",
            Duration::from_secs(60),
            || {
                let out = probe("xprop", &["-root", "_NET_SUPPORTING_WM_CHECK"]);
                out.contains("window id").then_some(())
            },
        );
        // The panel only after the window manager runs: a trayer started before it, on a
        // loaded machine, sometimes never maps its panel. Restarted if it exits, and killed
        // (so restarted) when its panel has not appeared after 15 s: on a loaded machine a
        // trayer sometimes lives on without ever mapping it.
        let pid_file = std::env::temp_dir().join(format!("latchkey-e2e-trayer-{n}.pid"));
        let (tray, _) = Tethered::spawn(
            &format!(
                "while :; do trayer --edge top --align right --widthtype request --height 32 \
                 --SetDockType true --transparent false --tint 0x2b2b2b --expand false \
                 >/dev/null 2>&1 & echo $! > {pid}; wait $!; sleep 0.5; done",
                pid = pid_file.display()
            ),
            &env,
        );
        let desktop = Desktop {
            display,
            screen,
            _tray: tray,
            _wm: wm,
            _xvfb: (xvfb, reader.into_inner()),
        };
        let started = Instant::now();
        let mut last_kick = Instant::now();
        wait_for("trayer's panel", Duration::from_secs(120), || {
            let found = desktop.search(&["--name", "^panel$"]);
            if found.is_none() && last_kick.elapsed() > Duration::from_secs(15) {
                if let Ok(pid) = std::fs::read_to_string(&pid_file) {
                    eprintln!(
                        "trayer mapped no panel in {} s: restarting it",
                        started.elapsed().as_secs()
                    );
                    let _ = Command::new("kill").arg(pid.trim()).status();
                }
                last_kick = Instant::now();
            }
            found
        });
        let _ = std::fs::remove_file(&pid_file);
        desktop
    }

    /// Runs an X client on this display; its stdout.
    pub fn run(&self, program: &str, args: &[&str]) -> String {
        let out = Command::new(program)
            .args(args)
            .env("DISPLAY", &self.display)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The first visible window matching an `xdotool search`.
    pub fn search(&self, query: &[&str]) -> Option<String> {
        let mut args = vec!["search", "--onlyvisible"];
        args.extend_from_slice(query);
        self.run("xdotool", &args)
            .lines()
            .next()
            .map(str::to_string)
    }

    /// Every visible window matching an `xdotool search`.
    pub fn search_all(&self, query: &[&str]) -> Vec<String> {
        let mut args = vec!["search", "--onlyvisible"];
        args.extend_from_slice(query);
        self.run("xdotool", &args)
            .lines()
            .map(str::to_string)
            .collect()
    }

    pub fn geometry(&self, window: &str) -> Option<Geometry> {
        let out = self.run("xdotool", &["getwindowgeometry", "--shell", window]);
        let get = |k: &str| -> Option<i32> {
            out.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}=")))
                .and_then(|v| v.trim().parse().ok())
        };
        Some(Geometry {
            x: get("X")?,
            y: get("Y")?,
            w: get("WIDTH")?,
            h: get("HEIGHT")?,
        })
    }

    /// The tray panel's geometry once it holds an icon (it is a few pixels wide when empty).
    pub fn tray_with_icon(&self, timeout: Duration) -> Geometry {
        wait_for(
            "the app's icon in the system tray (trayer)",
            timeout,
            || {
                let panel = self.search(&["--name", "^panel$"])?;
                let g = self.geometry(&panel)?;
                (g.w >= 16).then_some(g)
            },
        )
    }

    pub fn click(&self, x: i32, y: i32) {
        self.run(
            "xdotool",
            &["mousemove", &x.to_string(), &y.to_string(), "click", "1"],
        );
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["key", "--delay", "150"];
        args.extend_from_slice(keys);
        self.run("xdotool", &args);
    }

    /// Captures a window with its frame into `out`; the number of colours in the picture.
    pub fn capture_window(&self, window: &str, out: &Path) -> u32 {
        let status = Command::new("import")
            .args(["-frame", "-window", window])
            .arg(out)
            .env("DISPLAY", &self.display)
            .status()
            .expect("run import (ImageMagick)");
        assert!(status.success(), "import could not capture window {window}");
        colours(out)
    }

    /// Captures a part of the screen into `out`; the number of colours in the picture.
    pub fn capture(&self, area: Geometry, out: &Path) -> u32 {
        let crop = format!("{}x{}+{}+{}", area.w, area.h, area.x, area.y);
        let tmp = out.with_extension("tmp.png");
        let status = Command::new("import")
            .args(["-window", "root", "-crop", &crop])
            .arg(&tmp)
            .env("DISPLAY", &self.display)
            .status()
            .expect("run import (ImageMagick)");
        assert!(status.success(), "import could not capture {crop}");
        // +repage drops the crop offset so viewers show the picture as it is.
        let status = Command::new("convert")
            .arg(&tmp)
            .arg("+repage")
            .arg(out)
            .status()
            .expect("run convert (ImageMagick)");
        assert!(status.success(), "convert failed on {}", tmp.display());
        let _ = std::fs::remove_file(&tmp);
        colours(out)
    }
}

/// The number of distinct colours in a picture (ImageMagick `%k`): a blank or unpainted
/// window has a handful, text and icons give hundreds.
pub fn colours(png: &Path) -> u32 {
    let out = Command::new("convert")
        .arg(png)
        .args(["-format", "%k", "info:"])
        .output()
        .expect("run convert (ImageMagick)");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

/// The app binary with the UI embedded (`--features custom-protocol`): `LATCHKEY_APP_BIN`,
/// else built here from this workspace (scripts/test.sh builds it first and sets the variable).
/// Either way it must embed the current ui/dist: a build without the feature loads the Vite
/// dev server instead, and shows "Could not connect to 127.0.0.1".
pub fn app_bin() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf();
    assert!(
        root.join("ui/dist/index.html").exists(),
        "the UI is not built: run `npm --prefix ui run build` first (scripts/test.sh does)"
    );
    let bin = match std::env::var("LATCHKEY_APP_BIN") {
        Ok(p) => {
            let p = PathBuf::from(p);
            assert!(
                p.exists(),
                "LATCHKEY_APP_BIN points at {}, which does not exist",
                p.display()
            );
            p
        }
        Err(_) => build_app(&root),
    };
    check_embeds_ui(&bin, &root.join("ui/dist/assets"));
    bin
}

/// The built UI's asset names (they carry a content hash) must be inside the binary.
fn check_embeds_ui(bin: &Path, assets: &Path) {
    let data = std::fs::read(bin).unwrap_or_else(|e| panic!("read {}: {e}", bin.display()));
    let names: Vec<String> = std::fs::read_dir(assets)
        .unwrap_or_else(|e| panic!("read {}: {e}", assets.display()))
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.is_empty(), "{} is empty", assets.display());
    for name in names {
        assert!(
            data.windows(name.len()).any(|w| w == name.as_bytes()),
            "the app at {} does not embed the current UI (no {name} inside): build it with \
             `npm --prefix ui run build && cargo build -p latchkey-app --features custom-protocol` \
             (scripts/test.sh does)",
            bin.display()
        );
    }
}

/// Builds the app with the UI embedded and its tray, and copies them aside: other builds in the same target
/// dir (without the feature) would replace target/debug/latchkey-app under the test.
fn build_app(root: &Path) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target dir");
    let target_dir = profile_dir.parent().expect("target root");
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "-q",
            "-p",
            "latchkey-app",
            "--features",
            "custom-protocol",
            "-p",
            "latchkey-tray",
        ])
        .env("CARGO_TARGET_DIR", target_dir)
        .current_dir(root)
        .status()
        .expect("cargo build");
    assert!(status.success(), "building the app failed");
    let aside = target_dir.join("app-e2e");
    std::fs::create_dir_all(&aside).expect("create the app's copy dir");
    // Side by side, as installed: the app becomes the tray next to it.
    for bin in ["latchkey-tray", "latchkey-app"] {
        let tmp = aside.join(format!(".{bin}-{}", std::process::id()));
        std::fs::copy(profile_dir.join(bin), &tmp).expect("copy the app");
        std::fs::rename(&tmp, aside.join(bin)).expect("move the app's copy in place");
    }
    aside.join("latchkey-app")
}

/// tauri-driver: `LATCHKEY_TAURI_DRIVER`, else on PATH, else where scripts/setup.sh puts it.
pub fn tauri_driver_bin() -> PathBuf {
    if let Ok(p) = std::env::var("LATCHKEY_TAURI_DRIVER") {
        return PathBuf::from(p);
    }
    let on_path = Command::new("sh")
        .args(["-c", "command -v tauri-driver"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty());
    if let Some(p) = on_path {
        return PathBuf::from(p);
    }
    let cached = PathBuf::from("/var/cache/latchkey/cargo-bin/bin/tauri-driver");
    assert!(
        cached.exists(),
        "tauri-driver is missing: run scripts/setup.sh (it runs `cargo install tauri-driver --locked`)"
    );
    cached
}

/// The process ids of `pid`'s children, with their names.
pub fn children(pid: u32) -> Vec<(u32, String)> {
    let out = Command::new("ps")
        .args(["-o", "pid=,comm=", "--ppid", &pid.to_string()])
        .output()
        .expect("ps");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            Some((it.next()?.parse().ok()?, it.next()?.to_string()))
        })
        .collect()
}

/// A minimal W3C WebDriver client (HTTP/1.0 on loopback, JSON bodies).
pub struct WebDriver {
    pub addr: String,
    pub session: String,
}

pub const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

fn http(addr: &str, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp)
        .map_err(|e| format!("{method} {path}: {e}"))?;
    let resp = String::from_utf8_lossy(&resp);
    let (head, body) = resp
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("{method} {path}: no HTTP answer: {resp}"))?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let v: Value = serde_json::from_str(body)
        .map_err(|e| format!("{method} {path}: answer is not JSON ({e}): {body}"))?;
    if status != 200 {
        return Err(format!("{method} {path} answered {status}: {v}"));
    }
    Ok(v["value"].clone())
}

impl WebDriver {
    /// Opens a session on tauri-driver at `addr`, which starts `app` with `args` (the app must
    /// open a window at start for WebKit's automation to attach to it).
    pub fn open(addr: &str, app: &Path, args: &[&str], timeout: Duration) -> WebDriver {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "tauri:options": {"application": app.to_string_lossy(), "args": args}
        }}});
        let deadline = Instant::now() + timeout;
        // tauri-driver listens a moment after it starts.
        let v = loop {
            match http(addr, "POST", "/session", Some(&caps)) {
                Ok(v) => break v,
                Err(e) if e.starts_with("connect") && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(200))
                }
                // On a loaded machine tauri-driver may take the connection and close it
                // while its native driver is still starting: ask again.
                Err(e) if e.ends_with("no HTTP answer: ") && Instant::now() < deadline => {
                    eprintln!(
                        "tauri-driver closed the session request without an answer; asking again"
                    );
                    std::thread::sleep(Duration::from_millis(500))
                }
                Err(e) => panic!("WebDriver could not open a session on the app: {e}"),
            }
        };
        let session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no sessionId in {v}"))
            .to_string();
        WebDriver {
            addr: addr.to_string(),
            session,
        }
    }

    fn cmd(&self, method: &str, rest: &str, body: Option<Value>) -> Result<Value, String> {
        http(
            &self.addr,
            method,
            &format!("/session/{}{rest}", self.session),
            body.as_ref(),
        )
    }

    /// Runs JavaScript in the page and returns its result.
    pub fn exec(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Element ids matching a CSS selector (none is not an error).
    pub fn find_all(&self, css: &str) -> Vec<String> {
        match self.cmd(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        ) {
            Ok(Value::Array(a)) => a
                .iter()
                .filter_map(|e| e[ELEMENT_KEY].as_str().map(str::to_string))
                .collect(),
            Ok(v) => panic!("unexpected elements answer {v}"),
            Err(e) => panic!("finding {css}: {e}"),
        }
    }

    /// Waits for an element matching `css`; its id.
    #[track_caller]
    pub fn wait(&self, css: &str, timeout: Duration) -> String {
        wait_for(&format!("`{css}` in the app window"), timeout, || {
            self.find_all(css).into_iter().next()
        })
    }

    pub fn click(&self, element: &str) {
        self.cmd(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .unwrap_or_else(|e| panic!("click: {e}"));
    }

    pub fn text(&self, element: &str) -> String {
        self.cmd("GET", &format!("/element/{element}/text"), None)
            .unwrap_or_else(|e| panic!("text: {e}"))
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn attribute(&self, element: &str, name: &str) -> Option<String> {
        self.cmd("GET", &format!("/element/{element}/attribute/{name}"), None)
            .unwrap_or_else(|e| panic!("attribute {name}: {e}"))
            .as_str()
            .map(str::to_string)
    }

    /// The page's visible text, for failure messages.
    pub fn page_text(&self) -> String {
        self.exec(
            "return document.body ? document.body.innerText : ''",
            json!([]),
        )
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    pub fn close(&self) {
        let _ = self.cmd("DELETE", "", None);
    }
}
