//! The real app (release-like: the UI embedded) on a private X display, with a private D-Bus,
//! gnome-keyring's Secret Service, a HOME whose Claude Code and Cursor settings name fixture
//! MCP servers on 127.0.0.1, and the browser stand-in as $BROWSER.
//!
//! - It starts in the tray (no window, and no WebKit in the tray's process), its icon shows
//!   in a system tray, its menu lists the servers; "Open Latchkey" opens the window (a process
//!   of its own); closing the window ends that process and keeps the tray; a second launch
//!   with a `latchkey://` link hands it to the tray, which opens the window on it; "Quit" ends
//!   the app and its window. Screenshots: tests/artifacts/app-tray-menu.png
//!   and tests/artifacts/app-window.png.
//! - A renewal that failed and a session about to end without renewal are notified (to a
//!   notification server on the private D-Bus); a click opens the server's sign-in. Choosing
//!   a server that needs sign-in in the tray menu signs it in again in one click.
//! - Through tauri-driver and WebKitWebDriver, a person's sign-in from the wizard against the
//!   GitLab-like fixture asks for exactly `mcp` and ends with the server shown as working.
//! - With the window open while the tray runs, the tray alone watches, probes and renews: the
//!   window shows the tray's health and asks it to probe, so each server is probed once per
//!   round and each expiring token renewed once (counted by the fixture servers).
//!
//! Needs Xvfb, openbox, trayer, xdotool, ImageMagick, WebKitWebDriver and tauri-driver
//! (scripts/setup.sh installs them). Logs and screenshots stay in tests/artifacts.

mod desktop;

use desktop::notifications::Notifications;
use desktop::*;
use latchkey_e2e::*;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// One WebKit app at a time: the machine may have two cores.
static ONE_APP: Mutex<()> = Mutex::new(());

fn one_app() -> std::sync::MutexGuard<'static, ()> {
    ONE_APP.lock().unwrap_or_else(|e| e.into_inner())
}

/// The isolated user's HOME (the keychain's temp dir), with Claude Code and Cursor settings.
fn write_tool_configs(user: &User, claude: &[(&str, &str)], cursor: &[(&str, &str)]) -> PathBuf {
    let home = user
        .keychain
        .env()
        .into_iter()
        .find(|(k, _)| k == "HOME")
        .map(|(_, v)| PathBuf::from(v))
        .expect("HOME");
    let servers = |list: &[(&str, &str)], typed: bool| -> Value {
        let mut m = serde_json::Map::new();
        for (name, url) in list {
            let v = if typed {
                json!({"type": "http", "url": url})
            } else {
                json!({ "url": url })
            };
            m.insert(name.to_string(), v);
        }
        Value::Object(m)
    };
    std::fs::write(
        home.join(".claude.json"),
        json!({"mcpServers": servers(claude, true)}).to_string(),
    )
    .unwrap();
    std::fs::create_dir_all(home.join(".cursor")).unwrap();
    std::fs::write(
        home.join(".cursor/mcp.json"),
        json!({"mcpServers": servers(cursor, false)}).to_string(),
    )
    .unwrap();
    home
}

/// Everything the app needs to be this user and nobody else, on this display.
fn app_env(user: &User, desktop: &Desktop, ready_file: &Path) -> Vec<(String, String)> {
    let mut env = user.keychain.env();
    env.extend([
        ("DISPLAY".into(), desktop.display.clone()),
        ("GDK_BACKEND".into(), "x11".into()),
        ("WAYLAND_DISPLAY".into(), String::new()),
        ("LATCHKEY_KEYCHAIN_SERVICE".into(), user.service.clone()),
        (
            "LATCHKEY_STATE_DIR".into(),
            user.state_dir().to_string_lossy().into(),
        ),
        (
            "BROWSER".into(),
            fixtures_dir().join("browser.mjs").to_string_lossy().into(),
        ),
        (
            "LATCHKEY_TEST_BROWSER_LOG".into(),
            user.browser_log.to_string_lossy().into(),
        ),
        (
            "LATCHKEY_READY_FILE".into(),
            ready_file.to_string_lossy().into(),
        ),
        // Xvfb has no GPU: WebKitGTK may paint nothing without these.
        ("WEBKIT_DISABLE_COMPOSITING_MODE".into(), "1".into()),
        ("WEBKIT_DISABLE_DMABUF_RENDERER".into(), "1".into()),
        ("NO_AT_BRIDGE".into(), "1".into()),
        ("LATCHKEY_LOG".into(), "info".into()),
    ]);
    env
}

fn spawn_with_env(script: &str, env: &[(String, String)]) -> Tethered {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Tethered::spawn(script, &env).0
}

/// `latchkey-app --window` started under tauri-driver (WebKit's automation attaches to the
/// window process, which opens its window at start), the driver's output in `log`.
fn window_under_webdriver(
    driver: &Path,
    app: &Path,
    env: &[(String, String)],
    log: &Path,
) -> (Tethered, WebDriver) {
    let port = free_port();
    let native_port = free_port();
    let tethered = spawn_with_env(
        &format!(
            "exec {} --port {port} --native-port {native_port} --native-driver \"$(command -v WebKitWebDriver)\" > {} 2>&1",
            sh_quote(driver),
            sh_quote(log)
        ),
        env,
    );
    let wd = WebDriver::open(
        &format!("127.0.0.1:{port}"),
        app,
        &["--window"],
        Duration::from_secs(60),
    );
    (tethered, wd)
}

fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.to_string_lossy().replace('\'', r"'\''"))
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

/// "tray-ready <ms>" from the ready file, once it is there.
fn read_ready(file: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(file).ok()?;
    text.trim().strip_prefix("tray-ready ")?.parse().ok()
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// The tray menu's popup window (a visible window of the tray's program).
fn menu_window(desktop: &Desktop) -> Option<(String, Geometry)> {
    desktop
        .search_all(&["--class", "latchkey-tray"])
        .into_iter()
        .find_map(|w| {
            let g = desktop.geometry(&w)?;
            (g.w > 50 && g.h > 30).then_some((w, g))
        })
}

fn open_tray_menu(desktop: &Desktop) -> (String, Geometry) {
    let tray = desktop.tray_with_icon(Duration::from_secs(60));
    desktop.click(tray.x + tray.w / 2, tray.y + tray.h / 2);
    wait_for(
        "the tray menu to open after a click on the icon",
        Duration::from_secs(60),
        || menu_window(desktop),
    )
}

#[test]
fn starts_in_the_tray_lists_the_servers_and_opens_from_its_menu() {
    let _one = one_app();
    let desktop = Desktop::start();
    let app = app_bin();
    let gitlab = Fixture::start(json!({}));
    let tenant = Fixture::start(json!({"as": {"issuer_path": "/tenant-a"}}));
    let user = User::new("app-tray");
    write_tool_configs(
        &user,
        &[("gitlab", &gitlab.ready.mcp_url)],
        &[("tenant", &tenant.ready.mcp_url)],
    );
    let art = artifacts_dir();
    let log = art.join("app-tray.log");
    let pid_file = user.state_dir().with_file_name("app.pid");
    let ready_file = user.state_dir().with_file_name("ready");
    let started = std::time::Instant::now();
    let _app = spawn_with_env(
        &format!(
            "echo $BASHPID > {}; exec {} > {} 2>&1",
            sh_quote(&pid_file),
            sh_quote(&app),
            sh_quote(&log)
        ),
        &app_env(&user, &desktop, &ready_file),
    );
    let pid: u32 = wait_for("the app's pid", Duration::from_secs(60), || {
        std::fs::read_to_string(&pid_file).ok()?.trim().parse().ok()
    });

    // Starts in the tray: the ready file, the icon in the tray, and no window.
    let ready_ms = wait_for(
        "the app to write LATCHKEY_READY_FILE (tray ready)",
        Duration::from_secs(30),
        || {
            assert!(
                alive(pid),
                "the app exited at start; its log:\n{}",
                tail(&log)
            );
            read_ready(&ready_file)
        },
    );
    eprintln!(
        "tray ready {ready_ms} ms after the app's start ({} ms after launch)",
        started.elapsed().as_millis()
    );
    let tray = desktop.tray_with_icon(Duration::from_secs(20));
    assert!(
        desktop.search(&["--name", "^Latchkey$"]).is_none(),
        "the app must start in the tray, without its window"
    );

    // The menu lists both servers (from Claude Code and Cursor), then "Open Latchkey" and
    // "Quit". Probing the servers takes a moment; the menu follows.
    std::thread::sleep(Duration::from_secs(3));
    let (_, menu) = open_tray_menu(&desktop);
    std::thread::sleep(Duration::from_millis(700)); // painted
    let shot = art.join("app-tray-menu.png");
    let colours = desktop.capture(tray.union(menu).grow(8, desktop.screen), &shot);
    eprintln!(
        "tray menu {}x{} captured into {} ({colours} colours)",
        menu.w,
        menu.h,
        shot.display()
    );
    assert!(colours > 16, "the tray menu capture looks blank");
    // Two server lines + "Open Latchkey" + "Quit" (+ separators): far taller than the
    // three-line menu of a home without servers.
    assert!(
        menu.h >= 100,
        "the tray menu is {}px tall: it does not list the two servers (see {})",
        menu.h,
        shot.display()
    );

    // "Open Latchkey": from the bottom, Up selects "Quit", Up again "Open Latchkey".
    desktop.keys(&["Up", "Up", "Return"]);
    let window = wait_for(
        "the Latchkey window after \"Open Latchkey\" in the tray menu",
        Duration::from_secs(20),
        || desktop.search(&["--name", "^Latchkey$"]),
    );
    let (win, web) = window_processes(pid);
    let shot = art.join("app-window.png");
    let mut last = 0;
    wait_for(
        "the window to be painted (text, logo)",
        Duration::from_secs(30),
        || {
            last = desktop.capture_window(&window, &shot);
            (last > 64).then_some(())
        },
    );
    // Let the dashboard settle on the probe results, then keep the final picture.
    std::thread::sleep(Duration::from_secs(2));
    last = desktop.capture_window(&window, &shot);
    eprintln!("window captured into {} ({last} colours)", shot.display());

    // Closing the window ends its process (WebKit with it) and keeps the tray.
    desktop.run("wmctrl", &["-i", "-c", &window]);
    wait_for(
        "the window to close (wmctrl -c)",
        Duration::from_secs(60),
        || {
            desktop
                .search(&["--name", "^Latchkey$"])
                .is_none()
                .then_some(())
        },
    );
    wait_for(
        "the window's process and its WebKit to end after the window closed",
        Duration::from_secs(60),
        || (!alive(win) && !web.iter().any(|p| alive(*p))).then_some(()),
    );
    assert!(
        alive(pid),
        "closing the window ended the app:\n{}",
        tail(&log)
    );
    desktop.tray_with_icon(Duration::from_secs(5));
    assert_no_webkit(pid);

    // A second launch with a link (as the desktop opens `latchkey://` links) hands the link
    // to the tray and exits at once; the tray opens the window on that server.
    let link = format!(
        "latchkey://why?url={}",
        gitlab.ready.mcp_url.replace(':', "%3A").replace('/', "%2F")
    );
    let mut second = std::process::Command::new(&app);
    second
        .arg(&link)
        .envs(app_env(&user, &desktop, &ready_file));
    let status = second.status().expect("a second launch");
    assert!(status.success(), "the second launch failed: {status}");
    wait_for(
        "the window, on the link a second launch passed on",
        Duration::from_secs(60),
        || desktop.search(&["--name", "^Latchkey$"]),
    );
    let (win, _) = window_processes(pid);

    // "Quit" (the last item) ends the app and its window.
    open_tray_menu(&desktop);
    desktop.keys(&["Up", "Return"]);
    wait_for(
        "the app to exit after \"Quit\" in the tray menu",
        Duration::from_secs(60),
        || (!alive(pid) && !alive(win)).then_some(()),
    );
}

/// Starts the app (it becomes the tray) for `user`; its pid and log once the tray is ready.
fn start_tray(user: &User, desktop: &Desktop, name: &str) -> (Tethered, u32, PathBuf) {
    start_tray_with(user, desktop, name, &[])
}

/// [`start_tray`] with more environment.
fn start_tray_with(
    user: &User,
    desktop: &Desktop,
    name: &str,
    extra: &[(String, String)],
) -> (Tethered, u32, PathBuf) {
    let log = artifacts_dir().join(format!("{name}.log"));
    let pid_file = user.state_dir().with_file_name("app.pid");
    let ready_file = user.state_dir().with_file_name("ready");
    let app = spawn_with_env(
        &format!(
            "echo $BASHPID > {}; exec {} > {} 2>&1",
            sh_quote(&pid_file),
            sh_quote(&app_bin()),
            sh_quote(&log)
        ),
        &[app_env(user, desktop, &ready_file), extra.to_vec()].concat(),
    );
    let pid: u32 = wait_for("the app's pid", Duration::from_secs(60), || {
        std::fs::read_to_string(&pid_file).ok()?.trim().parse().ok()
    });
    wait_for("the tray to be ready", Duration::from_secs(30), || {
        assert!(alive(pid), "the app exited at start:\n{}", tail(&log));
        read_ready(&ready_file)
    });
    (app, pid, log)
}

/// The labels of the tray menu's server lines, as the tray last logged them.
fn menu_lines(log: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let Some(last) = text.lines().rev().find(|l| l.contains(" tray: ")) else {
        return Vec::new();
    };
    let after = &last[last.find(" tray: ").unwrap_or(0)..];
    let list = &after[after.find('[').unwrap_or(after.len())..];
    serde_json::from_str(list).unwrap_or_default()
}

/// Chooses the server line that starts with `title` in the tray menu. From the bottom, Up
/// selects Quit, then Open Latchkey, then the server lines from the last.
fn choose_server(desktop: &Desktop, log: &Path, title: &str) {
    let lines = menu_lines(log);
    let at = lines
        .iter()
        .position(|l| l.starts_with(&format!("{title} ")))
        .unwrap_or_else(|| panic!("no {title:?} in the tray menu: {lines:?}"));
    open_tray_menu(desktop);
    let ups = vec!["Up"; 2 + lines.len() - at];
    let mut keys = ups;
    keys.push("Return");
    desktop.keys(&keys);
}

/// Waits until the tray's log says it shows `line` in its menu.
fn wait_for_menu_line(log: &Path, line: &str) {
    wait_for(
        &format!("the tray menu to say {line:?}"),
        Duration::from_secs(60),
        || {
            let text = std::fs::read_to_string(log).ok()?;
            let last = text.lines().rev().find(|l| l.contains(" tray: "))?;
            last.contains(line).then_some(())
        },
    );
}

/// A desktop and a person whose Claude Code names "gitlab" and whose Cursor names "tenant"
/// (another sign-in server). gitlab was signed in once (asking for `mcp`), then its session
/// died: the access token has ended and the sign-in server refuses the refresh token.
fn gitlab_with_a_lost_session_and_tenant(tag: &str) -> (Desktop, Fixture, Fixture, User) {
    let desktop = Desktop::start();
    let gitlab = Fixture::start(json!({}));
    let tenant = Fixture::start(json!({"as": {"issuer_path": "/tenant-a"}}));
    let user = User::new(tag);
    let url = gitlab.ready.mcp_url.as_str();
    write_tool_configs(
        &user,
        &[("gitlab", url)],
        &[("tenant", &tenant.ready.mcp_url)],
    );
    user.run(&["login", url, "--json"]).assert_ok();
    let mut dead = user.stored_bundle(url).expect("a session");
    dead["tokens"]["expires_at"] = json!(1);
    dead["tokens"]["refresh_token"] = json!("refused-refresh-token");
    user.put_bundle(url, &dead);
    (desktop, gitlab, tenant, user)
}

#[test]
fn choosing_a_server_that_needs_sign_in_signs_it_in_again_in_one_click() {
    let _one = one_app();
    let (desktop, gitlab, tenant, user) = gitlab_with_a_lost_session_and_tenant("app-one-click");
    let url = gitlab.ready.mcp_url.as_str();
    assert_eq!(
        user.run(&["token", url]).code,
        3,
        "the session needs sign-in"
    );
    assert_eq!(user.authorize_urls().len(), 1);

    let (_app, pid, log) = start_tray(&user, &desktop, "app-one-click");
    wait_for_menu_line(&log, "gitlab — needs sign-in");
    assert!(
        tail(&log).contains("NeedsAuth"),
        "the icon shows that a server needs sign-in:\n{}",
        tail(&log)
    );

    wait_for_menu_line(&log, "tenant — not signed in");

    // Choosing it signs in at once with the last plan: the browser opens, no window asks
    // anything first.
    choose_server(&desktop, &log, "gitlab");
    wait_for_menu_line(&log, "gitlab — working");
    assert_eq!(
        user.authorize_urls().len(),
        2,
        "the browser opened once more"
    );
    assert!(
        desktop.search(&["--name", "^Latchkey$"]).is_none(),
        "an unchanged plan signs in without the window"
    );
    let authorize = gitlab.log()["authorize"].clone();
    let authorize = authorize.as_array().expect("authorize log");
    assert_eq!(authorize.len(), 2, "{authorize:?}");
    assert_eq!(
        authorize[1]["scope"], "mcp",
        "the same scopes: {authorize:?}"
    );
    let bundle = user.stored_bundle(url).expect("the new session");
    assert_ne!(bundle["tokens"]["refresh_token"], "refused-refresh-token");
    assert!(
        bundle.get("needs_sign_in").is_none_or(Value::is_null),
        "{bundle}"
    );

    // A server never signed in has no last plan: choosing it opens the window on its sign-in,
    // where the person sees the permissions first.
    choose_server(&desktop, &log, "tenant");
    let window = wait_for(
        "the window on the never-signed-in server's sign-in",
        Duration::from_secs(60),
        || desktop.search(&["--name", "^Latchkey$"]),
    );
    let (win, _) = window_processes(pid);
    let cmdline = std::fs::read_to_string(format!("/proc/{win}/cmdline")).unwrap_or_default();
    assert!(
        cmdline.contains("--window\0--latchkey-own-link\0latchkey://login?url="),
        "the window was asked for the sign-in, as Latchkey's own (not started by a link): {cmdline:?}"
    );
    // The window's process logs to the tray's log (it inherits it).
    wait_for(
        "the window to take the sign-in link",
        Duration::from_secs(30),
        || tail(&log).contains("link: Login").then_some(()),
    );
    std::thread::sleep(Duration::from_secs(3)); // the wizard loaded its plan
    let shot = artifacts_dir().join("app-wizard-from-tray.png");
    let colours = desktop.capture_window(&window, &shot);
    eprintln!(
        "wizard opened from the tray, captured into {}",
        shot.display()
    );
    assert!(
        colours > 64,
        "the window looks blank (see {})",
        shot.display()
    );
    assert_eq!(
        tenant.log()["authorize"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0),
        0,
        "nothing is asked of the sign-in server before the person confirms"
    );
    assert!(alive(pid));
}

#[test]
fn sessions_that_need_the_person_are_notified_and_a_click_opens_the_sign_in() {
    let _one = one_app();
    let (desktop, gitlab, tenant, user) = gitlab_with_a_lost_session_and_tenant("app-notify");
    let url = gitlab.ready.mcp_url.as_str();
    // tenant: a session that ends in 10 minutes with nothing to renew it.
    user.run(&["login", &tenant.ready.mcp_url, "--json"])
        .assert_ok();
    let mut ending = user
        .stored_bundle(&tenant.ready.mcp_url)
        .expect("a session");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    ending["tokens"]["expires_at"] = json!(now + 600);
    ending["tokens"]
        .as_object_mut()
        .unwrap()
        .remove("refresh_token");
    user.put_bundle(&tenant.ready.mcp_url, &ending);

    let notifications = Notifications::start(&user.keychain.address);
    let (_app, pid, log) = start_tray(&user, &desktop, "app-notify");
    let shown = wait_for(
        "the tray's two notifications",
        Duration::from_secs(60),
        || {
            let shown = notifications.shown();
            (shown.len() >= 2).then_some(shown)
        },
    );
    let failed = shown
        .iter()
        .find(|n| n.summary == "gitlab needs you to sign in")
        .unwrap_or_else(|| panic!("no notice of the failed renewal: {shown:?}"));
    assert!(failed.body.ends_with("Sign in again."), "{failed:?}");
    assert_eq!(failed.app_name, "Latchkey");
    assert_eq!(failed.actions.first().map(String::as_str), Some("default"));
    let soon = shown
        .iter()
        .find(|n| n.summary == "tenant: sign in again soon")
        .unwrap_or_else(|| panic!("no notice of the session ending: {shown:?}"));
    assert!(soon.body.contains("about 10 min"), "{soon:?}");
    for n in &shown {
        assert!(
            !n.body.contains("refused-refresh-token") && !n.body.contains("eyJ"),
            "a notification shows a secret: {n:?}"
        );
    }
    wait_for_menu_line(&log, "gitlab — needs sign-in");

    // A click on the failed renewal's notification opens the window on gitlab's sign-in.
    notifications.click(failed.id);
    wait_for(
        "the window after a click on the notification",
        Duration::from_secs(60),
        || desktop.search(&["--name", "^Latchkey$"]),
    );
    let (win, _) = window_processes(pid);
    let cmdline = std::fs::read_to_string(format!("/proc/{win}/cmdline")).unwrap_or_default();
    let encoded = url.replace(':', "%3A").replace('/', "%2F");
    assert!(
        cmdline.contains(&format!(
            "--window\0--latchkey-own-link\0latchkey://login?url={encoded}"
        )),
        "the window was asked for gitlab's sign-in: {cmdline:?}"
    );
}

/// The window's process (`latchkey-app --window`, a child of the tray) and its WebKit
/// processes, once its web process runs.
fn window_processes(tray: u32) -> (u32, Vec<u32>) {
    wait_for(
        "the window's process and its WebKitWebProcess",
        Duration::from_secs(30),
        || {
            children(tray)
                .into_iter()
                .filter(|(_, name)| name == "latchkey-app")
                .find_map(|(win, _)| {
                    let webkit: Vec<(u32, String)> = children(win)
                        .into_iter()
                        .filter(|(_, name)| name.starts_with("WebKit"))
                        .collect();
                    webkit
                        .iter()
                        .any(|(_, name)| name.starts_with("WebKitWebProces"))
                        .then(|| (win, webkit.into_iter().map(|(pid, _)| pid).collect()))
                })
        },
    )
}

/// The tray's process never loads WebKit (that is what keeps it small).
fn assert_no_webkit(pid: u32) {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).expect("the tray's maps");
    assert!(
        !maps.contains("libwebkit2gtk") && !maps.contains("libjavascriptcoregtk"),
        "the tray's process has WebKit mapped"
    );
}

/// Whether the built UI has the dashboard rows and wizard of the contract yet.
fn built_ui_has(marker: &str) -> bool {
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/dist/assets");
    std::fs::read_dir(assets)
        .map(|d| {
            d.flatten().any(|e| {
                std::fs::read_to_string(e.path())
                    .map(|t| t.contains(marker))
                    .unwrap_or(false)
            })
        })
        .unwrap_or(false)
}

#[test]
fn signs_in_from_the_wizard_asking_for_exactly_mcp() {
    let Some((gitlab, user)) = sign_in_from_the_wizard("app-wizard", json!({}), false) else {
        return; // skipped, said why
    };
    // What the AS saw: one authorization request for exactly `mcp`, and a stored session.
    let log = gitlab.log();
    let authorize = log["authorize"].as_array().expect("authorize log");
    assert_eq!(authorize.len(), 1, "one sign-in: {authorize:?}");
    assert_eq!(authorize[0]["scope"], "mcp", "{authorize:?}");
    assert_eq!(user.authorize_urls().len(), 1, "the browser opened once");
    let bundle = user
        .stored_bundle(&gitlab.ready.mcp_url)
        .expect("a session in the keychain after the sign-in");
    assert_eq!(bundle["tokens"]["scopes"], json!(["mcp"]), "{bundle}");
    assert!(
        !user.state_dir().join("issuers.json").exists(),
        "nothing to confirm where the sign-in server lists S256"
    );
    // "Use in…" Cursor: its settings now start `latchkey bridge` for the server.
    let home = user
        .keychain
        .env()
        .into_iter()
        .find(|(k, _)| k == "HOME")
        .map(|(_, v)| PathBuf::from(v))
        .expect("HOME");
    let cursor: Value =
        serde_json::from_str(&std::fs::read_to_string(home.join(".cursor/mcp.json")).unwrap())
            .unwrap();
    // Named as Claude Code names it.
    let entry = &cursor["mcpServers"]["gitlab"];
    assert_eq!(
        entry["args"],
        json!(["bridge", gitlab.ready.mcp_url]),
        "{cursor}"
    );
}

#[test]
fn the_wizard_asks_to_confirm_pkce_where_the_sign_in_server_does_not_list_it() {
    let Some((fixture, user)) =
        sign_in_from_the_wizard("app-wizard-pkce", json!({"as": {"pkce_methods": []}}), true)
    else {
        return; // skipped, said why
    };
    let log = fixture.log();
    let authorize = log["authorize"].as_array().expect("authorize log");
    assert_eq!(authorize.len(), 1, "one sign-in: {authorize:?}");
    assert_eq!(
        authorize[0]["code_challenge_method"], "S256",
        "{authorize:?}"
    );
    assert!(
        user.stored_bundle(&fixture.ready.mcp_url).is_some(),
        "a session in the keychain after the sign-in"
    );
    let choices = std::fs::read_to_string(user.state_dir().join("issuers.json"))
        .expect("the person's choice is remembered in the state folder");
    let issuer = fixture.ready.issuer.trim_end_matches('/');
    assert!(choices.contains(issuer), "{choices}");
}

/// The window, under WebDriver, of a person whose Claude Code names one fixture server
/// ("gitlab", started with `options`); `row` is the CSS of its dashboard row.
struct GitlabWindow {
    fixture: Fixture,
    user: User,
    wd: WebDriver,
    log: PathBuf,
    row: String,
    _driver: Tethered,
}

fn gitlab_window(tag: &str, options: Value, desktop: &Desktop) -> GitlabWindow {
    require_tool("WebKitWebDriver", "webkit2gtk-driver");
    let (app, driver) = (app_bin(), tauri_driver_bin());
    let fixture = Fixture::start(options);
    let user = User::new(tag);
    write_tool_configs(&user, &[("gitlab", &fixture.ready.mcp_url)], &[]);
    let log = artifacts_dir().join(format!("{tag}-webdriver.log"));
    let ready_file = user.state_dir().with_file_name("ready");
    let env = app_env(&user, desktop, &ready_file);
    let (driver, wd) = window_under_webdriver(&driver, &app, &env, &log);
    let row = format!(
        r#"[data-testid="server-row"][data-url="{}"]"#,
        fixture.ready.mcp_url
    );
    GitlabWindow {
        fixture,
        user,
        wd,
        log,
        row,
        _driver: driver,
    }
}

/// A person signs in from the window's wizard to a fixture server started with `options`,
/// confirming the PKCE check when `confirm_pkce`. None when skipped (said on stderr).
fn sign_in_from_the_wizard(
    tag: &str,
    options: Value,
    confirm_pkce: bool,
) -> Option<(Fixture, User)> {
    let _one = one_app();
    let desktop = Desktop::start();
    let GitlabWindow {
        fixture,
        user,
        wd,
        log,
        row: row_css,
        _driver,
    } = gitlab_window(tag, options, &desktop);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wizard_sign_in(&wd, &desktop, &row_css, confirm_pkce)
    }));
    snap(&desktop, &format!("{tag}-last.png"));
    let page = if result.is_err() {
        wd.page_text()
    } else {
        String::new()
    };
    wd.close();
    if let Err(e) = result {
        eprintln!(
            "the page said:\n{page}\napp log (tests/artifacts/{tag}-webdriver.log):\n{}",
            tail(&log)
        );
        std::panic::resume_unwind(e);
    }
    result.unwrap().map(|()| (fixture, user))
}

/// Presses the wizard's "next" until `css` shows (a step may need a moment to load); its id.
fn advance_until(wd: &WebDriver, css: &str) -> String {
    let mut clicks = 0;
    wait_for(
        &format!("`{css}` in the wizard (pressing next up to 8 times)"),
        Duration::from_secs(45),
        || {
            if let Some(e) = wd.find_all(css).into_iter().next() {
                return Some(e);
            }
            if let Some(err) = wd.find_all(r#"[data-testid="error"]"#).into_iter().next() {
                panic!("the wizard shows an error: {}", wd.text(&err));
            }
            if let Some(next) = wd
                .find_all(r#"[data-testid="wizard-next"]"#)
                .into_iter()
                .next()
            {
                if clicks < 8 {
                    clicks += 1;
                    wd.click(&next);
                }
            }
            std::thread::sleep(Duration::from_millis(300));
            None
        },
    )
}

/// Captures the app's window (with its frame) into tests/artifacts/NAME, when it is there.
fn snap(desktop: &Desktop, name: &str) {
    if let Some(w) = desktop.search(&["--name", "^Latchkey$"]) {
        desktop.capture_window(&w, &artifacts_dir().join(name));
    }
}

/// The person's path up to the browser: dashboard row -> sign in -> scopes (exactly `mcp`)
/// -> start. None when the built UI has no dashboard rows yet (said on stderr).
fn start_wizard_sign_in(
    wd: &WebDriver,
    desktop: &Desktop,
    row_css: &str,
    confirm_pkce: bool,
) -> Option<()> {
    let long = Duration::from_secs(45);
    wd.wait("body", long);
    // The embedded UI (not the Vite dev server's "Could not connect") is what WebDriver sees.
    let loaded = wait_for("the UI to render in the window", long, || {
        let text = wd.page_text();
        text.contains("Latchkey").then_some(text)
    });
    assert!(
        !loaded.contains("Could not connect"),
        "the window shows: {loaded}"
    );
    if !built_ui_has("server-row") {
        snap(desktop, "app-webdriver-dashboard.png");
        // Straight to stderr, past the test harness's capture: a skip must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "\nSKIPPED the wizard sign-in: the built UI (ui/dist) has no [data-testid=\"server-row\"] \
             yet, so there is no dashboard row to click. The app started under tauri-driver and \
             WebKitWebDriver attached to it (screenshot: tests/artifacts/app-webdriver-dashboard.png).\n"
        );
        return None;
    }
    let row = wd.wait(row_css, long);
    snap(desktop, "app-webdriver-dashboard.png");
    let sign_in = wd.wait(&format!(r#"{row_css} [data-testid="sign-in"]"#), long);
    let _ = row;
    wd.click(&sign_in);
    wd.wait(r#"[data-testid="wizard"]"#, long);
    wd.wait(r#"[data-testid="wizard"] [data-testid="discovered"]"#, long);
    advance_until(wd, r#"[data-testid="wizard"] [data-testid="scope"]"#);
    let scopes: Vec<String> = wd
        .find_all(r#"[data-testid="wizard"] [data-testid="scope"]"#)
        .iter()
        .filter_map(|e| wd.attribute(e, "data-scope"))
        .collect();
    assert_eq!(
        scopes,
        vec!["mcp".to_string()],
        "the wizard must ask for exactly `mcp`"
    );
    // The AS's catalogue is offered to add from, never asked for.
    assert!(
        !wd.find_all(r#"[data-testid="catalogue-scope"][data-scope="sudo"]"#)
            .is_empty(),
        "the AS's catalogue (with sudo) is offered in the scope step"
    );
    snap(desktop, "app-wizard-scopes.png");

    // Next until the start button (the client step keeps "automatic").
    let start = advance_until(wd, r#"[data-testid="start-sign-in"]"#);
    let check = r#"[data-testid="wizard"] [data-testid="confirm-pkce"]"#;
    if confirm_pkce {
        // The sign-in server lists no PKCE method: the person confirms before the browser.
        let confirm = wd.wait(check, long);
        snap(desktop, "app-wizard-pkce.png");
        wd.click(&confirm);
        wd.wait(r#"[data-testid="pkce-confirmed"]"#, long);
    } else {
        assert!(wd.find_all(check).is_empty(), "no PKCE check to confirm");
    }
    wd.click(&start);
    Some(())
}

/// The person's path: dashboard row -> sign in -> scopes (exactly `mcp`) -> start -> result ->
/// row working. None when the built UI has no dashboard rows yet (said on stderr).
fn wizard_sign_in(
    wd: &WebDriver,
    desktop: &Desktop,
    row_css: &str,
    confirm_pkce: bool,
) -> Option<()> {
    start_wizard_sign_in(wd, desktop, row_css, confirm_pkce)?;
    let long = Duration::from_secs(45);
    let result = wait_for(
        "the sign-in result (the browser stand-in completes the AS flow)",
        Duration::from_secs(60),
        || {
            if let Some(err) = wd.find_all(r#"[data-testid="error"]"#).into_iter().next() {
                panic!("the wizard shows an error: {}", wd.text(&err));
            }
            wd.find_all(r#"[data-testid="sign-in-result"]"#)
                .into_iter()
                .next()
        },
    );
    eprintln!("sign-in result: {}", wd.text(&result));
    snap(desktop, "app-wizard-result.png");
    // Then the person uses it in Cursor: its checkbox under the result, and Save.
    let cursor = wd.wait(
        r#"[data-testid="sign-in-result"] [data-testid="use-in-tool"][data-tool="cursor"]"#,
        long,
    );
    wd.click(&cursor);
    let save = wd.wait(
        r#"[data-testid="sign-in-result"] [data-testid="use-in-apply"]"#,
        long,
    );
    wd.click(&save);
    let done = wait_for("Cursor connected", long, || {
        if let Some(err) = wd
            .find_all(r#"[data-testid="use-in-error"]"#)
            .into_iter()
            .next()
        {
            panic!("Use in… shows an error: {}", wd.text(&err));
        }
        wd.find_all(r#"[data-testid="use-in-done"]"#)
            .into_iter()
            .next()
    });
    eprintln!("use in: {}", wd.text(&done));
    snap(desktop, "app-wizard-use-in.png");
    // The dashboard row ends up working. Where the result replaces the dashboard, a person
    // goes back with the wizard's closing button (Done, Close, Back...), else Escape.
    let working = format!(r#"{row_css}[data-health="working"]"#);
    let mut went_back = false;
    let started = std::time::Instant::now();
    wait_for(
        "the server's row to show data-health=\"working\"",
        long,
        || {
            if let Some(row) = wd.find_all(&working).into_iter().next() {
                return Some(row);
            }
            if !went_back && started.elapsed() > Duration::from_secs(5) {
                went_back = true;
                wd.exec(
                    r#"const b = [...document.querySelectorAll('[data-testid="wizard"] button')]
                         .find(b => /^(done|close|back|finish|ok)\b/i.test(b.innerText.trim()));
                       if (b) { b.click(); return true; }
                       document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}));
                       return false;"#,
                    json!([]),
                );
            }
            None
        },
    );
    snap(desktop, "app-signed-in.png");
    Some(())
}

/// A count in a fixture's log (`initialize_count`: probes; `refresh_count`: renewals).
fn count(f: &Fixture, key: &str) -> u64 {
    f.log()[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no {key} in the fixture's log"))
}

/// A count once it has stopped moving for 3 s (a probe round has ended).
fn settled(what: &str, mut read: impl FnMut() -> u64) -> u64 {
    let mut last = read();
    let mut since = std::time::Instant::now();
    wait_for(
        &format!("{what} to settle"),
        Duration::from_secs(90),
        || {
            std::thread::sleep(Duration::from_millis(250));
            let now = read();
            if now != last {
                (last, since) = (now, std::time::Instant::now());
            }
            (since.elapsed() >= Duration::from_secs(3)).then_some(now)
        },
    )
}

#[test]
fn with_the_window_open_only_the_tray_probes_and_renews() {
    let _one = one_app();
    let desktop = Desktop::start();
    require_tool("WebKitWebDriver", "webkit2gtk-driver");
    let app = app_bin();
    let driver = tauri_driver_bin();
    // "short": access tokens live 3 s (renewed 1 s before they end, so every ~2 s);
    // "steady": an hour, so it is probed only in rounds, never after a renewal.
    let short = Fixture::start(json!({"as": {"access_token_ttl": 3}}));
    let steady = Fixture::start(json!({}));
    let user = User::new("app-one-monitor");
    let home = write_tool_configs(
        &user,
        &[
            ("short", &short.ready.mcp_url),
            ("steady", &steady.ready.mcp_url),
        ],
        &[],
    );
    for f in [&short, &steady] {
        user.run(&["login", &f.ready.mcp_url, "--json"]).assert_ok();
    }
    let margin = vec![("LATCHKEY_REFRESH_MARGIN_SECS".to_string(), "1".to_string())];
    let (_tray, tray_pid, tray_log) =
        start_tray_with(&user, &desktop, "app-one-monitor-tray", &margin);
    let steady_probes = || count(&steady, "initialize_count");
    wait_for(
        "the tray's first probe of the servers",
        Duration::from_secs(60),
        || (steady_probes() >= 1).then_some(()),
    );
    let before_window = settled("the tray's first probe round", steady_probes);

    // The window, as a person opens it (its own process), under WebDriver to read its page.
    let log = artifacts_dir().join("app-one-monitor-window.log");
    let ready_file = user.state_dir().with_file_name("ready-window");
    let env = [app_env(&user, &desktop, &ready_file), margin].concat();
    let (_driver, wd) = window_under_webdriver(&driver, &app, &env, &log);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let long = Duration::from_secs(60);
        // It follows the tray: no watcher, probes or scheduler of its own.
        wait_for("the window to find the tray", long, || {
            let text = std::fs::read_to_string(&log).ok()?;
            assert!(
                !text.contains("no tray answered"),
                "the window did not find the tray:\n{}",
                tail(&log)
            );
            text.contains("this window follows it").then_some(())
        });
        // The tray's health reaches the page.
        let row = |f: &Fixture, health: &str| {
            format!(
                r#"[data-testid="server-row"][data-url="{}"][data-health="{health}"]"#,
                f.ready.mcp_url
            )
        };
        wd.wait(&row(&steady, "working"), long);
        snap(&desktop, "app-one-monitor.png");

        // Opening the window is one round (the page's first look, asked of the tray).
        let opened = settled("the probes as the window opens", steady_probes);
        eprintln!(
            "opening the window: steady probed {} time(s)",
            opened - before_window
        );
        assert_eq!(
            opened - before_window,
            1,
            "opening the window probes each server once, through the tray"
        );

        // A tool's config changes (written aside and renamed, as the tools do): one round.
        let claude = home.join(".claude.json");
        let text = std::fs::read_to_string(&claude).unwrap();
        std::fs::write(home.join(".claude.json.tmp"), &text).unwrap();
        std::fs::rename(home.join(".claude.json.tmp"), &claude).unwrap();
        wait_for("a probe after the config changed", long, || {
            (steady_probes() > opened).then_some(())
        });
        let after_config = settled("the probes after the config changed", steady_probes);
        eprintln!(
            "a config change: steady probed {} time(s)",
            after_config - opened
        );
        assert_eq!(
            after_config - opened,
            1,
            "a config change probes each server once, not once per process"
        );

        // `Changed`, as the window says after a sign-in, sign-out or hand-off: one round.
        let bus = zbus::blocking::connection::Builder::address(user.keychain.address.as_str())
            .and_then(|b| b.build())
            .expect("the test's D-Bus");
        {
            use latchkey_core::usecase::tray_bus::{method, BUS_NAME, INTERFACE, OBJECT_PATH};
            bus.call_method(
                Some(BUS_NAME),
                OBJECT_PATH,
                Some(INTERFACE),
                method::CHANGED,
                &(),
            )
            .expect("the tray answers Changed");
        }
        wait_for("a probe after Changed", long, || {
            (steady_probes() > after_config).then_some(())
        });
        let after_changed = settled("the probes after Changed", steady_probes);
        eprintln!(
            "Changed: steady probed {} time(s)",
            after_changed - after_config
        );
        assert_eq!(
            after_changed - after_config,
            1,
            "Changed probes each server once"
        );

        // Several expiry windows of "short" with the window open: one renewal per expiry
        // (the AS would see about two with two schedulers), one probe after each.
        let watched = Duration::from_secs(14);
        let (refreshes0, short_probes0) = (
            count(&short, "refresh_count"),
            count(&short, "initialize_count"),
        );
        std::thread::sleep(watched);
        let refreshes = count(&short, "refresh_count") - refreshes0;
        let short_probes = count(&short, "initialize_count") - short_probes0;
        let steady_during = steady_probes() - after_changed;
        // A token is due 2 s after it was issued: one scheduler renews at most every 2 s
        // (a little slower, as its sleep is in whole seconds and a renewal takes a moment).
        let at_most = watched.as_secs() / 2;
        eprintln!(
            "{}s with the window open: short renewed {refreshes} time(s) (one scheduler: at \
             most {at_most}) and probed {short_probes} time(s); steady probed {steady_during} \
             time(s)",
            watched.as_secs()
        );
        assert!(
            (2..=at_most + 1).contains(&refreshes),
            "{refreshes} renewals in {}s of 3 s tokens: one per expiry is at most {at_most}",
            watched.as_secs()
        );
        assert!(
            short_probes <= refreshes + 2,
            "one probe per renewal: {short_probes} probes for {refreshes} renewals"
        );
        assert_eq!(steady_during, 0, "no probe round without a reason");
        let token_log = short.log()["token"].clone();
        let failed: Vec<&Value> = token_log
            .as_array()
            .expect("the token log")
            .iter()
            .filter(|t| t["grant_type"] == "refresh_token" && t["status"] != 200)
            .collect();
        assert!(failed.is_empty(), "renewals that failed: {failed:?}");
        // The page still follows: short's row has the tray's health.
        wd.wait(&row(&short, "working"), long);
    }));
    snap(&desktop, "app-one-monitor-last.png");
    let page = if result.is_err() {
        wd.page_text()
    } else {
        String::new()
    };
    wd.close();
    if let Err(e) = result {
        eprintln!(
            "the page said:\n{page}\nwindow log:\n{}\ntray log:\n{}",
            tail(&log),
            tail(&tray_log)
        );
        std::panic::resume_unwind(e);
    }
    assert!(alive(tray_pid), "the tray still runs:\n{}", tail(&tray_log));
}

/// The last overall line the tray logged ("tray: STATE (HEADLINE) [...]"): (state, headline).
fn overall_line(log: &Path) -> Option<(String, String)> {
    let text = std::fs::read_to_string(log).ok()?;
    let last = text.lines().rev().find(|l| l.contains(" tray: "))?;
    let after = &last[last.find(" tray: ")? + " tray: ".len()..];
    let (state, rest) = after.split_once(" (")?;
    let headline = rest.split_once(") [")?.0;
    Some((state.to_string(), headline.to_string()))
}

/// Waits until the tray's overall line is `headline`; its state.
fn wait_for_overall(log: &Path, headline: &str) -> String {
    wait_for(
        &format!("the tray's overall line to say {headline:?}"),
        Duration::from_secs(90),
        || {
            let (state, said) = overall_line(log)?;
            (said == headline).then_some(state)
        },
    )
}

/// Captures the tray's open menu into tests/artifacts/NAME (then closes it).
fn snap_tray_menu(desktop: &Desktop, name: &str) {
    let tray = desktop.tray_with_icon(Duration::from_secs(20));
    let (_, menu) = open_tray_menu(desktop);
    std::thread::sleep(Duration::from_millis(700));
    desktop.capture(
        tray.union(menu).grow(8, desktop.screen),
        &artifacts_dir().join(name),
    );
    desktop.keys(&["Escape"]);
}

/// Captures the window once it shows `text` (the dashboard settled on it).
fn snap_window_when(desktop: &Desktop, name: &str, settled: impl Fn() -> bool) {
    let window = wait_for("the Latchkey window", Duration::from_secs(60), || {
        desktop.search(&["--name", "^Latchkey$"])
    });
    wait_for("the window to settle", Duration::from_secs(60), || {
        settled().then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    desktop.capture_window(&window, &artifacts_dir().join(name));
}

/// A home whose tools name nine servers, with no network (names resolve from a file the test
/// writes, empty at first: every lookup fails as offline): the tray says it once ("You seem to
/// be offline", the plain icon, every server "waiting for the network"), and so does the
/// window. When a name resolves again the tray finds out by itself (its offline backoff);
/// a settings file cut off turns the icon to a warning naming the file. Screenshots of each
/// state go to tests/artifacts/app-offline-*.png.
#[test]
fn an_offline_home_is_one_line_and_recovers_and_a_broken_file_is_a_named_warning() {
    let _one = one_app();
    let desktop = Desktop::start();
    let f = Fixture::start(json!({}));
    let user = User::new("app-offline");
    let urls = f.offline_home_servers();
    let claude: Vec<(&str, &str)> = urls.iter().map(|(n, u)| (n.as_str(), u.as_str())).collect();
    let home = write_tool_configs(&user, &claude, &[]);
    let hosts = home.join("hosts");
    std::fs::write(&hosts, "").unwrap();
    let (_app, _pid, log) = start_tray_with(
        &user,
        &desktop,
        "app-offline",
        &[
            ("LATCHKEY_TEST_HOSTS".into(), hosts.to_string_lossy().into()),
            ("LATCHKEY_SHOW_WINDOW_AT_START".into(), "1".into()),
        ],
    );

    let state = wait_for_overall(&log, "You seem to be offline");
    assert_eq!(state, "Offline", "the plain icon, not a warning");
    // Every server answered its probe: still one offline line, no alarm per server.
    let lines = wait_for("all nine probes", Duration::from_secs(60), || {
        let lines = menu_lines(&log);
        (!lines.iter().any(|l| l.ends_with("checking…"))).then_some(lines)
    });
    assert_eq!(lines.len(), 9, "{lines:?}");
    assert_eq!(
        overall_line(&log),
        Some(("Offline".to_string(), "You seem to be offline".to_string()))
    );
    assert!(
        lines
            .iter()
            .all(|l| l.ends_with("— waiting for the network")),
        "no nine alarms: {lines:?}"
    );
    let offline = |text: &str| text.contains("You seem to be offline");
    snap_window_when(&desktop, "app-offline-window.png", || {
        offline(&std::fs::read_to_string(&log).unwrap_or_default())
    });
    snap_tray_menu(&desktop, "app-offline-tray-menu.png");

    // The network is back for gitlab: the tray checks again by itself (5 s, then 10 s...) and
    // finds it answering (over plain HTTP at a name that is not loopback, which Latchkey
    // refuses to sign in to: "set up wrong", an answer all the same).
    std::fs::write(&hosts, "mcp.gitlab.example 127.0.0.1\n").unwrap();
    let state = wait_for_overall(&log, "8 servers can't be reached, 1 server is set up wrong");
    assert_eq!(state, "Warning");
    let lines = menu_lines(&log);
    assert!(
        lines.iter().any(|l| l == "gitlab — set up wrong"),
        "{lines:?}"
    );

    // A settings file cut off in the middle: the tray names it.
    std::fs::write(
        home.join(".cursor/mcp.json"),
        "{\"mcpServers\": {\"tenant\": {\"url\": \"http://127.0.0.1:1/mcp\"",
    )
    .unwrap();
    wait_for_overall(
        &log,
        "8 servers can't be reached, 1 server is set up wrong, a settings file can't be read",
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("tray detail: ") && text.contains(".cursor/mcp.json"),
        "the tray names the file:\n{}",
        tail(&log)
    );
    snap_tray_menu(&desktop, "app-broken-file-tray-menu.png");
    snap_window_when(&desktop, "app-broken-file-window.png", || true);
}

/// A mixed home in the real app: a server working, one whose session died (needs sign-in),
/// one never signed in, one that cannot be reached, and a settings file cut off. The tray and
/// the window list them by urgency with the one line on top; screenshots go to
/// tests/artifacts/app-mixed-*.png.
#[test]
fn a_mixed_home_reads_by_urgency_with_one_line_on_top() {
    let _one = one_app();
    let (desktop, gitlab, tenant, user) = gitlab_with_a_lost_session_and_tenant("app-mixed");
    let working = Fixture::start(json!({}));
    user.run(&["login", &working.ready.mcp_url, "--json"])
        .assert_ok();
    let down = format!("http://127.0.0.1:{}/mcp", free_port());
    let home = write_tool_configs(
        &user,
        &[
            ("gitlab", &gitlab.ready.mcp_url),
            ("working", &working.ready.mcp_url),
            ("down", &down),
        ],
        &[("tenant", &tenant.ready.mcp_url)],
    );
    std::fs::create_dir_all(home.join(".gemini")).unwrap();
    std::fs::write(
        home.join(".gemini/settings.json"),
        "{\"mcpServers\": {\"docs\": {\"httpUrl\": ",
    )
    .unwrap();
    let (_app, _pid, log) = start_tray_with(
        &user,
        &desktop,
        "app-mixed",
        &[("LATCHKEY_SHOW_WINDOW_AT_START".into(), "1".into())],
    );
    let state = wait_for_overall(&log, "1 server needs you to sign in");
    assert_eq!(state, "NeedsAuth");
    let lines = wait_for("every probe", Duration::from_secs(60), || {
        let lines = menu_lines(&log);
        (lines.len() == 4 && !lines.iter().any(|l| l.ends_with("checking…"))).then_some(lines)
    });
    assert_eq!(
        lines,
        [
            "gitlab — needs sign-in",
            "down — can't be reached",
            "tenant — not signed in",
            "working — working"
        ]
    );
    snap_window_when(&desktop, "app-mixed-window.png", || true);
    snap_tray_menu(&desktop, "app-mixed-tray-menu.png");
}

/// Everything the window holds, shown or not: its HTML with every collapsed part opened.
fn whole_window(wd: &WebDriver) -> String {
    let v = wd.exec(
        r#"document.querySelectorAll('details').forEach(d => d.open = true);
           return document.documentElement.outerHTML + '\n' + document.body.innerText;"#,
        json!([]),
    );
    v.as_str().unwrap_or_default().to_string()
}

/// An authorization server that echoes the code and a planted secret in its error: the
/// wizard's error, its details, the trace on Why? and the diagnostics preview show neither.
#[test]
fn planted_secrets_reach_no_part_of_the_window() {
    const PLANTED: &str = "PLANTED-SECRET-1234";
    let _one = one_app();
    let desktop = Desktop::start();
    let GitlabWindow {
        fixture: _fixture,
        user,
        wd,
        log,
        row: row_css,
        _driver,
    } = gitlab_window(
        "app-planted",
        json!({"as": {"planted_token_answer": {"secret": PLANTED, "as": "error_description"}}}),
        &desktop,
    );
    let long = Duration::from_secs(60);
    let mut shown = Vec::new();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if start_wizard_sign_in(&wd, &desktop, &row_css, false).is_none() {
            return;
        }
        let error = wd.wait(r#"[data-testid="error"]"#, long);
        let said = wd.text(&error);
        eprintln!("the wizard's error: {said}");
        // The browser's code was refused (not "the saved session": there was none).
        assert!(said.contains("did not accept the sign-in"), "{said}");
        snap(&desktop, "app-planted-error.png");
        shown.push(("wizard".to_string(), whole_window(&wd)));
        // Why? on the server's row: the explanation, the trace, the diagnostics preview.
        wd.exec(
            r#"document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}));
               const b = [...document.querySelectorAll('[data-testid="wizard"] button')]
                 .find(b => /^(cancel|close|back|done)\b/i.test(b.innerText.trim()));
               if (b) b.click();"#,
            json!([]),
        );
        let why = wd.wait(&format!(r#"{row_css} [data-testid="why"]"#), long);
        wd.click(&why);
        wd.wait(r#"[data-testid="trace"]"#, long);
        let export = wd.wait(r#"[data-testid="export-diagnostics"]"#, long);
        wd.click(&export);
        wd.wait(r#"[data-testid="export-preview"]"#, long);
        snap(&desktop, "app-planted-why.png");
        shown.push(("why and export preview".to_string(), whole_window(&wd)));
    }));
    wd.close();
    if let Err(e) = result {
        eprintln!("app log:\n{}", tail(&log));
        std::panic::resume_unwind(e);
    }
    if shown.is_empty() {
        return; // skipped, said why
    }
    let mut secrets = vec![PLANTED.to_string()];
    for cb in user.callback_urls() {
        secrets.extend(
            query_params(&cb)
                .into_iter()
                .filter(|(k, _)| k == "code")
                .map(|(_, v)| v),
        );
    }
    assert!(secrets.len() > 1, "the sign-in reached the token endpoint");
    let mut redacted = false;
    for (place, text) in &shown {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{secret} is in the window ({place})"
            );
        }
        redacted |= text.contains("[redacted]");
    }
    assert!(redacted, "the echo was shown, redacted");
}
