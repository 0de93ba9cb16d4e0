//! Keeping WebKit's and GTK's memory down (Linux): no OpenGL for a tray app, and no WebKit
//! network process once the window is closed.
//!
//! Closing the window destroys its webview and WebKit ends the web process, but WebKitGTK
//! keeps its network process alive with no webview left, and tauri keeps the web context for
//! the app's life so that process is reused rather than leaked (tauri-apps/tauri#14626). In a
//! tray app that sits closed most of the day, that is about 60 MB for nothing. So when the
//! window is gone, the network process that this app started is ended; WebKit starts a new
//! one when the window opens again (checked under Xvfb: the page loads and its IPC works).

/// The process name WebKitGTK gives its network process, as `/proc/<pid>/stat` shows it
/// (truncated to 15 bytes by the kernel).
const NETWORK_PROCESS: &str = "WebKitNetworkPr";

/// The pid, name and parent pid in a `/proc/<pid>/stat` line. The name is in parentheses
/// and may itself hold spaces or parentheses, so the fields after it are read from the last
/// `)`.
pub fn parse_stat(stat: &str) -> Option<(u32, &str, u32)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let pid = stat[..open].trim().parse().ok()?;
    let name = stat.get(open + 1..close)?;
    let mut rest = stat[close + 1..].split_whitespace();
    let _state = rest.next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((pid, name, ppid))
}

/// The WebKit network processes whose parent is `parent`.
#[cfg(target_os = "linux")]
fn network_processes_of(parent: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let (pid, name, ppid) = parse_stat(&stat)?;
            (ppid == parent && name == NETWORK_PROCESS).then_some(pid)
        })
        .collect()
}

/// Ends the WebKit network process of this app, if it has one. Call once the window is
/// destroyed, on the event loop's thread (so no new window can be using it meanwhile).
#[cfg(target_os = "linux")]
pub fn free_network_process() {
    for pid in network_processes_of(std::process::id()) {
        let Ok(pid) = i32::try_from(pid) else {
            continue;
        };
        // SAFETY: kill(2) with a pid read from /proc that is our own child; no memory is
        // shared with it.
        let ended = unsafe { libc::kill(pid, libc::SIGTERM) } == 0;
        tracing::debug!("WebKit network process {pid} ended: {ended}");
    }
}

#[cfg(not(target_os = "linux"))]
pub fn free_network_process() {}

/// What `GDK_GL` should be set to before GTK starts, given its current value: `disable`
/// unless the person set it. GTK otherwise initialises OpenGL when it opens the display, even
/// for an app that only shows a tray icon; under Mesa that maps the driver and LLVM (measured
/// under Xvfb, release build, tray only: 128 MB RSS and tray ready in 73 ms with it, 75 MB and
/// 37 ms without). WebKit then draws the window without GPU acceleration, which a few forms do
/// not need (checked: the window renders and its IPC answers). `GDK_GL=` (empty) or any other
/// value keeps GTK's choice.
pub fn gdk_gl_default(current: Option<&std::ffi::OsStr>) -> Option<&'static str> {
    match current {
        None => Some("disable"),
        Some(_) => None,
    }
}

/// Applies [`gdk_gl_default`]; call first thing in `main`, before any thread exists.
pub fn prefer_software_rendering() {
    #[cfg(target_os = "linux")]
    if let Some(v) = gdk_gl_default(std::env::var_os("GDK_GL").as_deref()) {
        std::env::set_var("GDK_GL", v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtk_s_opengl_is_off_unless_the_person_chose() {
        assert_eq!(gdk_gl_default(None), Some("disable"));
        assert_eq!(gdk_gl_default(Some("".as_ref())), None);
        assert_eq!(gdk_gl_default(Some("always".as_ref())), None);
    }

    #[test]
    fn stat_lines_give_pid_name_and_parent_even_with_odd_names() {
        assert_eq!(
            parse_stat("4242 (WebKitNetworkPr) S 4100 4100 4100 0 -1 4194560 1 0"),
            Some((4242, "WebKitNetworkPr", 4100))
        );
        assert_eq!(parse_stat("7 (a (b) c) R 1 7 7 0"), Some((7, "a (b) c", 1)));
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("12 (x)"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_app_s_own_network_process_is_found_and_ended() {
        use std::os::unix::process::ExitStatusExt;
        // A stand-in with WebKit's name: `sleep` copied under that name.
        let dir = std::env::temp_dir().join(format!("latchkey-webkit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fake = dir.join("WebKitNetworkProcess");
        std::fs::copy("/bin/sleep", &fake).unwrap();
        let mut child = std::process::Command::new(&fake).arg("30").spawn().unwrap();
        let mut other = std::process::Command::new("/bin/sleep")
            .arg("30")
            .spawn()
            .unwrap();
        // The kernel shows the name once the child has exec'd.
        let started = std::time::Instant::now();
        while !network_processes_of(std::process::id()).contains(&child.id()) {
            assert!(
                started.elapsed().as_secs() < 5,
                "the stand-in was never found"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(!network_processes_of(std::process::id()).contains(&other.id()));
        free_network_process();
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(libc::SIGTERM));
        assert!(
            other.try_wait().unwrap().is_none(),
            "other children are left alone"
        );
        let _ = other.kill();
        let _ = other.wait();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
