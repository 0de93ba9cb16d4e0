//! Opening the sign-in page: `$BROWSER` when set (so a person on a remote shell, or a test,
//! can supply their own), else the system's default browser through the `open` crate; and
//! before that, whether a browser can open on this machine at all, and if not why, in words
//! ([`availability`]), and the `ssh -L` command that forwards the callback port from the
//! computer with the browser ([`ssh_forward_command`]). Every front asks here.

use crate::error::{Error, Result};
use std::process::{Command, Stdio};

/// Whether a browser can open on this machine, with the reason in words (a sentence to show
/// as it is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    Yes { why: String },
    No { why: String },
}

impl Availability {
    pub fn can_open(&self) -> bool {
        matches!(self, Availability::Yes { .. })
    }

    pub fn why(&self) -> &str {
        match self {
            Availability::Yes { why } | Availability::No { why } => why,
        }
    }
}

/// Whether a browser can open here, from the environment: `$BROWSER` set: yes (it is run);
/// an SSH session (`SSH_CONNECTION`, `SSH_CLIENT` or `SSH_TTY`) without `DISPLAY` or
/// `WAYLAND_DISPLAY`: no (on macOS too: `open` would show it on the remote Mac's screen);
/// Linux and the other Unix systems but macOS without either display: no; else yes.
pub fn availability() -> Availability {
    availability_in(&env, cfg!(any(target_os = "macos", target_os = "windows")))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// [`availability`] with the environment read through `env`; `desktop_os`: macOS and
/// Windows, where a local session always has a display.
pub fn availability_in(env: &dyn Fn(&str) -> Option<String>, desktop_os: bool) -> Availability {
    if env("BROWSER").is_some() {
        return Availability::Yes {
            why: "$BROWSER is set, so Latchkey runs it to open the sign-in page".into(),
        };
    }
    let display = env("DISPLAY").is_some() || env("WAYLAND_DISPLAY").is_some();
    if in_ssh_session(env) && !display {
        return Availability::No {
            why: "This is an SSH session without a display, so no browser can open here".into(),
        };
    }
    if !desktop_os && !display {
        return Availability::No {
            why: "There is no display here (neither DISPLAY nor WAYLAND_DISPLAY is set, as in a container or on a headless server), so no browser can open here".into(),
        };
    }
    Availability::Yes {
        why: "A browser can open on this machine".into(),
    }
}

fn in_ssh_session(env: &dyn Fn(&str) -> Option<String>) -> bool {
    ["SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"]
        .iter()
        .any(|v| env(v).is_some())
}

/// In an SSH session, the command that forwards `port` from the computer with the browser to
/// this one (`ssh -L PORT:127.0.0.1:PORT user@host`): the host is `SSH_CONNECTION`'s server
/// address, the user `$USER`. None outside an SSH session.
pub fn ssh_forward_command(port: u16) -> Option<String> {
    ssh_forward_command_in(&env, port)
}

/// [`ssh_forward_command`] with the environment read through `env`.
pub fn ssh_forward_command_in(env: &dyn Fn(&str) -> Option<String>, port: u16) -> Option<String> {
    if !in_ssh_session(env) {
        return None;
    }
    let host = env("SSH_CONNECTION")
        .and_then(|c| c.split_whitespace().nth(2).map(str::to_string))
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '%'))
        })
        .unwrap_or_else(|| "THIS-MACHINE".into());
    let user = env("USER").or_else(|| env("LOGNAME")).filter(|u| {
        u.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    });
    let target = match user {
        Some(u) => format!("{u}@{host}"),
        None => host,
    };
    // sshd on another port than 22: the fourth field of SSH_CONNECTION.
    let ssh_port = env("SSH_CONNECTION")
        .and_then(|c| {
            c.split_whitespace()
                .nth(3)
                .and_then(|p| p.parse::<u16>().ok())
        })
        .filter(|p| *p != 22)
        .map(|p| format!(" -p {p}"))
        .unwrap_or_default();
    Some(format!("ssh{ssh_port} -L {port}:127.0.0.1:{port} {target}"))
}

pub fn open_url(url: &str) -> Result<()> {
    match std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())
    {
        Some(browsers) => open_with(&browsers, url),
        None => open::that_detached(url).map_err(|e| Error::Browser {
            detail: e.to_string(),
        }),
    }
}

/// `$BROWSER` is a `:`-separated list of commands; `%s` stands for the URL, else it is appended.
fn open_with(browsers: &str, url: &str) -> Result<()> {
    let mut last_error = String::from("$BROWSER is empty");
    for command in browsers.split(':').filter(|c| !c.trim().is_empty()) {
        let mut parts: Vec<String> = command.split_whitespace().map(str::to_string).collect();
        if parts.iter().any(|p| p.contains("%s")) {
            for p in &mut parts {
                *p = p.replace("%s", url);
            }
        } else {
            parts.push(url.to_string());
        }
        match Command::new(&parts[0])
            .args(&parts[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
        {
            Ok(mut child) => {
                // Reap it in the background so no zombie is left behind.
                std::thread::spawn(move || child.wait());
                return Ok(());
            }
            Err(e) => last_error = format!("{}: {e}", parts[0]),
        }
    }
    Err(Error::Browser { detail: last_error })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
                .filter(|v| !v.is_empty())
        }
    }

    #[test]
    fn whether_a_browser_can_open_here_and_why() {
        let ssh = [
            ("SSH_CONNECTION", "10.0.0.5 51234 10.0.0.9 22"),
            ("SSH_TTY", "/dev/pts/3"),
        ];
        let a = availability_in(&env_of(&ssh), false);
        assert!(!a.can_open());
        assert!(a.why().contains("SSH session without a display"), "{a:?}");
        // macOS over SSH: the same.
        assert!(!availability_in(&env_of(&ssh), true).can_open());
        // With X forwarding, or $BROWSER: yes.
        let x = [ssh[0], ("DISPLAY", "localhost:10.0")];
        assert!(availability_in(&env_of(&x), false).can_open());
        let b = [ssh[0], ("BROWSER", "w3m")];
        let a = availability_in(&env_of(&b), false);
        assert!(a.can_open() && a.why().contains("$BROWSER"), "{a:?}");
        // No display at all on Linux (a container): no; on macOS: yes.
        let a = availability_in(&env_of(&[]), false);
        assert!(!a.can_open() && a.why().contains("no display"), "{a:?}");
        assert!(availability_in(&env_of(&[]), true).can_open());
        assert!(availability_in(&env_of(&[("WAYLAND_DISPLAY", "wayland-0")]), false).can_open());
        // An empty variable counts as unset.
        assert!(!availability_in(&env_of(&[("DISPLAY", "")]), false).can_open());
    }

    #[test]
    fn the_ssh_forward_command_names_this_machine() {
        let vars = [
            ("SSH_CONNECTION", "203.0.113.7 51234 198.51.100.20 22"),
            ("USER", "ada"),
        ];
        assert_eq!(
            ssh_forward_command_in(&env_of(&vars), 8765).as_deref(),
            Some("ssh -L 8765:127.0.0.1:8765 ada@198.51.100.20")
        );
        // sshd on another port: the command says it.
        let other_port = [
            ("SSH_CONNECTION", "203.0.113.7 51234 198.51.100.20 2222"),
            ("USER", "ada"),
        ];
        assert_eq!(
            ssh_forward_command_in(&env_of(&other_port), 8765).as_deref(),
            Some("ssh -p 2222 -L 8765:127.0.0.1:8765 ada@198.51.100.20")
        );
        assert_eq!(
            ssh_forward_command_in(&env_of(&[("USER", "ada")]), 8765),
            None
        );
        // Only SSH_TTY: the host is not known.
        let tty = [("SSH_TTY", "/dev/pts/1")];
        assert_eq!(
            ssh_forward_command_in(&env_of(&tty), 1).as_deref(),
            Some("ssh -L 1:127.0.0.1:1 THIS-MACHINE")
        );
        // Nothing odd from the environment reaches the command.
        let odd = [("SSH_CONNECTION", "a b 1.2.3.4;rm c"), ("USER", "x y")];
        assert_eq!(
            ssh_forward_command_in(&env_of(&odd), 2).as_deref(),
            Some("ssh -L 2:127.0.0.1:2 THIS-MACHINE")
        );
    }

    #[test]
    fn a_missing_browser_command_is_a_clear_error() {
        let e = open_with("/nonexistent/browser-xyz", "http://127.0.0.1/").unwrap_err();
        assert!(e.to_string().contains("browser-xyz"), "{e}");
        assert!(open_with("/nonexistent/a:true %s", "http://127.0.0.1/").is_ok());
    }
}
