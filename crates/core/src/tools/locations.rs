//! Where the AI tools keep their files: one [`Locations`], built from the environment in
//! exactly one place ([`Locations::from_env`]) and read by both the inventory and the
//! hand-off, so the two never look in different places.

use std::path::PathBuf;

/// The operating system whose path conventions to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    /// Linux and other Unix-likes (XDG folders).
    Linux,
    /// macOS.
    MacOs,
    /// Windows.
    Windows,
}

impl Os {
    /// The operating system this program was built for.
    pub fn current() -> Os {
        if cfg!(target_os = "macos") {
            Os::MacOs
        } else if cfg!(windows) {
            Os::Windows
        } else {
            Os::Linux
        }
    }
}

/// Where the tools keep their files, and the environment settings that move them. Built from
/// the environment by [`Locations::from_env`] (the only place that reads it), or for any home
/// folder by [`Locations::for_home`], which reads no environment at all; every field may be
/// overridden (tests do, so they never touch the real home folder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locations {
    /// The user's home folder.
    pub home: PathBuf,
    /// The per-user application config folder: `~/.config` (or `$XDG_CONFIG_HOME`) on Linux,
    /// `~/Library/Application Support` on macOS, `%APPDATA%` on Windows. Claude Desktop and
    /// VS Code keep their files here.
    pub app_config_dir: PathBuf,
    /// Zed's config folder: `~/.config/zed` on Linux (`$XDG_CONFIG_HOME/zed`, or
    /// `$FLATPAK_XDG_CONFIG_HOME/zed`) and on macOS, `%APPDATA%\Zed` on Windows.
    pub zed_config_dir: PathBuf,
    /// `$CLAUDE_CONFIG_DIR`: Claude Code then reads `$CLAUDE_CONFIG_DIR/.claude.json` instead
    /// of `~/.claude.json`, and keeps `.credentials.json` there instead of in `~/.claude`.
    pub claude_config_dir: Option<PathBuf>,
    /// `$CLAUDE_SECURESTORAGE_CONFIG_DIR`, which names Claude Code's macOS keychain item
    /// instead of `CLAUDE_CONFIG_DIR`. Set but empty is kept: it means "no suffix".
    pub claude_secure_storage_dir: Option<String>,
    /// `$USER`: the account of Claude Code's macOS keychain item.
    pub user: Option<String>,
    /// `$CODEX_HOME` (default `~/.codex`).
    pub codex_home: Option<PathBuf>,
    /// `$GEMINI_CLI_HOME`: Gemini CLI then keeps its folder at `$GEMINI_CLI_HOME/.gemini`
    /// instead of `~/.gemini` (settings and tokens alike).
    pub gemini_cli_home: Option<PathBuf>,
    /// `$GEMINI_FORCE_ENCRYPTED_FILE_STORAGE=true`: Gemini CLI keeps its MCP tokens in the
    /// keychain or an encrypted file, not in `mcp-oauth-tokens.json`.
    pub gemini_encrypted_store: bool,
    /// Project folders whose own config files the inventory reads (`.mcp.json`,
    /// `.cursor/mcp.json`, `.vscode/mcp.json`, `.gemini/settings.json`, `.codex/config.toml`,
    /// `.zed/settings.json`).
    pub projects: Vec<PathBuf>,
    /// Also read the project files of every project Claude Code knows (`projects` in
    /// `~/.claude.json`).
    pub known_projects: bool,
    /// The folder a tool is started in: Claude Code and Gemini CLI also read that project's
    /// files (`.mcp.json`, `.gemini/settings.json`), so a hand-off writes for them too.
    pub project: Option<PathBuf>,
}

/// The environment variable that moves Gemini CLI's tokens out of `mcp-oauth-tokens.json`.
pub const GEMINI_ENCRYPTED_STORE_ENV: &str = "GEMINI_FORCE_ENCRYPTED_FILE_STORAGE";

impl Locations {
    /// The conventional places under `home` for this computer's operating system, ignoring
    /// the environment. No projects.
    pub fn for_home(home: impl Into<PathBuf>) -> Locations {
        Locations::for_home_on(home, Os::current())
    }

    /// The conventional places under `home` on `os`, ignoring the environment.
    pub fn for_home_on(home: impl Into<PathBuf>, os: Os) -> Locations {
        let home = home.into();
        let (app, zed) = match os {
            Os::Linux => (home.join(".config"), home.join(".config/zed")),
            Os::MacOs => (
                home.join("Library/Application Support"),
                home.join(".config/zed"),
            ),
            Os::Windows => {
                let roaming = home.join("AppData").join("Roaming");
                (roaming.clone(), roaming.join("Zed"))
            }
        };
        Locations {
            home,
            app_config_dir: app,
            zed_config_dir: zed,
            claude_config_dir: None,
            claude_secure_storage_dir: None,
            user: None,
            codex_home: None,
            gemini_cli_home: None,
            gemini_encrypted_store: false,
            projects: Vec::new(),
            known_projects: false,
            project: None,
        }
    }

    /// This user's places, from `HOME` (`USERPROFILE` on Windows), `XDG_CONFIG_HOME`,
    /// `FLATPAK_XDG_CONFIG_HOME`, `APPDATA`, `CLAUDE_CONFIG_DIR`,
    /// `CLAUDE_SECURESTORAGE_CONFIG_DIR`, `USER`, `CODEX_HOME`, `GEMINI_CLI_HOME` and
    /// `GEMINI_FORCE_ENCRYPTED_FILE_STORAGE`, with the current folder as the project a tool is
    /// started in. Reads Claude Code's known projects; no explicit projects. Empty variables
    /// count as unset (as the tools treat them), except `CLAUDE_SECURESTORAGE_CONFIG_DIR`.
    pub fn from_env() -> Locations {
        let text = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let path = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let os = Os::current();
        let home = match os {
            Os::Windows => path("USERPROFILE").or_else(|| path("HOME")),
            _ => path("HOME"),
        }
        .unwrap_or_else(|| PathBuf::from("."));
        let mut loc = Locations::for_home_on(&home, os);
        match os {
            Os::Linux => {
                // A relative XDG_CONFIG_HOME is invalid by the XDG rules and ignored.
                if let Some(xdg) = path("XDG_CONFIG_HOME").filter(|p| p.is_absolute()) {
                    loc.zed_config_dir = xdg.join("zed");
                    loc.app_config_dir = xdg;
                }
                // Zed as a Flatpak (paths::config_dir in Zed's source).
                if let Some(flatpak) = path("FLATPAK_XDG_CONFIG_HOME") {
                    loc.zed_config_dir = flatpak.join("zed");
                }
            }
            // Zed uses ~/.config/zed on macOS whatever XDG_CONFIG_HOME says.
            Os::MacOs => {}
            Os::Windows => {
                if let Some(appdata) = path("APPDATA") {
                    loc.zed_config_dir = appdata.join("Zed");
                    loc.app_config_dir = appdata;
                }
            }
        }
        loc.claude_config_dir = path("CLAUDE_CONFIG_DIR");
        // Claude Code tells "set but empty" (no keychain suffix) from unset.
        loc.claude_secure_storage_dir = std::env::var("CLAUDE_SECURESTORAGE_CONFIG_DIR").ok();
        loc.user = text("USER");
        loc.codex_home = path("CODEX_HOME");
        loc.gemini_cli_home = path("GEMINI_CLI_HOME");
        loc.gemini_encrypted_store = text(GEMINI_ENCRYPTED_STORE_ENV).as_deref() == Some("true");
        loc.known_projects = true;
        loc.project = std::env::current_dir().ok();
        loc
    }
}
