//! Opening the sign-in page: `$BROWSER` when set (so a person on a remote shell, or a test,
//! can supply their own), else the system's default browser through the `open` crate.

use crate::error::{Error, Result};
use std::process::{Command, Stdio};

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

    #[test]
    fn a_missing_browser_command_is_a_clear_error() {
        let e = open_with("/nonexistent/browser-xyz", "http://127.0.0.1/").unwrap_err();
        assert!(e.to_string().contains("browser-xyz"), "{e}");
        assert!(open_with("/nonexistent/a:true %s", "http://127.0.0.1/").is_ok());
    }
}
