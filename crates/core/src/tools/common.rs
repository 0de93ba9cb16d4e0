//! What the per-tool readers share: collecting entries and problems with their positions,
//! reading typed fields with clear complaints, redacting header values, and recognising
//! `mcp-remote` bridges.

use super::tree::{line_col, Node};
use super::{
    AuthSettings, ConfigScope, HeaderSetting, McpRemote, OAuthSettings, ServerEntry, Source,
    SourceError, SourceResult, Transport,
};
use std::path::PathBuf;

pub(crate) struct Ctx<'a> {
    pub source: &'a Source,
    text: &'a str,
    entries: Vec<ServerEntry>,
    errors: Vec<SourceError>,
    pub known_projects: Vec<PathBuf>,
    pub trusted_projects: Vec<PathBuf>,
    /// The keys of the servers object last listed by [`Ctx::server_map`]: the entries made
    /// while going through its servers are under it.
    servers_at: Vec<String>,
}

impl<'a> Ctx<'a> {
    pub fn new(source: &'a Source, text: &'a str) -> Self {
        Ctx {
            source,
            text,
            entries: Vec::new(),
            errors: Vec::new(),
            known_projects: Vec::new(),
            trusted_projects: Vec::new(),
            servers_at: Vec::new(),
        }
    }

    pub fn finish(self) -> SourceResult {
        SourceResult {
            entries: self.entries,
            errors: self.errors,
            known_projects: self.known_projects,
            trusted_projects: self.trusted_projects,
        }
    }

    /// Records a problem at a byte offset of the file.
    pub fn problem(&mut self, pos: usize, server: Option<&str>, message: impl Into<String>) {
        let (line, column) = line_col(self.text, pos);
        self.errors.push(SourceError {
            tool: self.source.tool(),
            file: self.source.path.clone(),
            config_scope: self.source.config_scope.clone(),
            line: Some(line),
            column: Some(column),
            server: server.map(str::to_string),
            message: message.into(),
        });
    }

    /// Records that a server lacks what it needs, unless a problem with one of its values was
    /// already reported (a `"url": 42` is one problem, not two).
    pub fn missing(&mut self, pos: usize, server: &str, message: impl Into<String>) {
        let line = self.line_of(pos);
        let already = self
            .errors
            .iter()
            .rev()
            .take_while(|e| e.line.unwrap_or(0) >= line)
            .any(|e| e.server.as_deref() == Some(server));
        if !already {
            self.problem(pos, Some(server), message);
        }
    }

    pub fn line_of(&self, pos: usize) -> usize {
        line_col(self.text, pos).0
    }

    /// The servers of the object of servers at `path` (keys from the top of the file, e.g.
    /// `["mcpServers"]`): absent is none, anything but an object is a problem. Entries that
    /// are not objects are problems too. Entries made next ([`Ctx::entry`]) are keyed under
    /// `path`, so go through one servers object at a time.
    pub fn server_map<'n>(&mut self, root: &'n Node, path: &[&str]) -> Vec<(&'n str, &'n Node)> {
        self.servers_at = path.iter().map(|k| k.to_string()).collect();
        let Some((key, parents)) = path.split_last() else {
            return Vec::new();
        };
        let mut map = Some(root);
        for k in parents.iter().chain([key]) {
            map = map.and_then(|m| m.get(k));
        }
        let Some(map) = map else {
            return Vec::new();
        };
        let Some(members) = map.members() else {
            if !matches!(map.kind, super::tree::Kind::Null) {
                self.problem(
                    map.pos,
                    None,
                    format!(
                        "\"{key}\" should be an object of servers {{\"name\": {{...}}}}, but is {}",
                        map.describe()
                    ),
                );
            }
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, server) in members {
            if server.is_object() {
                out.push((name, server));
            } else {
                self.problem(
                    server.pos,
                    Some(name),
                    format!(
                        "the server's settings should be an object {{...}}, but are {}",
                        server.describe()
                    ),
                );
            }
        }
        out
    }

    /// `obj[key]` as text; a value of another kind is a problem and gives `None`.
    pub fn string(&mut self, server: &str, obj: &Node, key: &str) -> Option<String> {
        let v = obj.get(key)?;
        match v.as_str() {
            Some(s) => Some(s.to_string()),
            None if matches!(v.kind, super::tree::Kind::Null) => None,
            None => {
                self.problem(
                    v.pos,
                    Some(server),
                    format!("\"{key}\" should be text, but is {}", v.describe()),
                );
                None
            }
        }
    }

    pub fn boolean(&mut self, server: &str, obj: &Node, key: &str) -> Option<bool> {
        let v = obj.get(key)?;
        match v.as_bool() {
            Some(b) => Some(b),
            None => {
                self.problem(
                    v.pos,
                    Some(server),
                    format!("\"{key}\" should be true or false, but is {}", v.describe()),
                );
                None
            }
        }
    }

    pub fn port(&mut self, server: &str, obj: &Node, key: &str) -> Option<u16> {
        let v = obj.get(key)?;
        let port = match &v.kind {
            super::tree::Kind::Number(n) => n.parse::<u16>().ok().filter(|p| *p > 0),
            _ => None,
        };
        if port.is_none() {
            self.problem(
                v.pos,
                Some(server),
                format!("\"{key}\" should be a port number (1-65535)"),
            );
        }
        port
    }

    /// A list of text values; a single text value counts as a list of one.
    pub fn strings(&mut self, server: &str, obj: &Node, key: &str) -> Vec<String> {
        let Some(v) = obj.get(key) else {
            return Vec::new();
        };
        if let Some(s) = v.as_str() {
            return vec![s.to_string()];
        }
        let Some(items) = v.as_array() else {
            self.problem(
                v.pos,
                Some(server),
                format!(
                    "\"{key}\" should be a list of text, but is {}",
                    v.describe()
                ),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            match item.as_str() {
                Some(s) => out.push(s.to_string()),
                None => self.problem(
                    item.pos,
                    Some(server),
                    format!(
                        "\"{key}\" should hold only text, but holds {}",
                        item.describe()
                    ),
                ),
            }
        }
        out
    }

    /// An object of text values, in file order (headers, environment).
    pub fn string_map(&mut self, server: &str, obj: &Node, key: &str) -> Vec<(String, String)> {
        let Some(v) = obj.get(key) else {
            return Vec::new();
        };
        let Some(members) = v.members() else {
            if !matches!(v.kind, super::tree::Kind::Null) {
                self.problem(
                    v.pos,
                    Some(server),
                    format!(
                        "\"{key}\" should be an object of names and text values, but is {}",
                        v.describe()
                    ),
                );
            }
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, val) in members {
            match val.as_str() {
                Some(s) => out.push((k.to_string(), s.to_string())),
                None => self.problem(
                    val.pos,
                    Some(server),
                    format!(
                        "\"{key}\".\"{k}\" should be text, but is {}",
                        val.describe()
                    ),
                ),
            }
        }
        out
    }

    /// A new entry with the source's file, under the servers object last listed; `pos` is
    /// where the server's settings start.
    pub fn entry(
        &self,
        name: &str,
        pos: usize,
        config_scope: ConfigScope,
        transport: Transport,
    ) -> ServerEntry {
        let mut key_path = self.servers_at.clone();
        key_path.push(name.to_string());
        ServerEntry {
            tool: self.source.tool(),
            file: self.source.path.clone(),
            key_path,
            line: self.line_of(pos),
            config_scope,
            name: name.to_string(),
            transport,
            url: None,
            mcp_remote: None,
            bridge: false,
            command: None,
            auth: AuthSettings::default(),
            enabled: true,
        }
    }

    pub fn push(&mut self, entry: ServerEntry) {
        self.entries.push(entry);
    }

    /// A local command; recognised as a remote server when the command is mcp-remote.
    pub fn push_command(
        &mut self,
        name: &str,
        pos: usize,
        config_scope: ConfigScope,
        command: &str,
        args: &[String],
        enabled: bool,
    ) {
        let mut entry = self.entry(name, pos, config_scope, Transport::Stdio);
        entry.enabled = enabled;
        if let Some(url) = latchkey_bridge(command, args) {
            entry.transport = Transport::Http;
            entry.url = Some(url);
            entry.bridge = true;
            self.push(entry);
            return;
        }
        let mut argv: Vec<&str> = Vec::with_capacity(args.len() + 1);
        argv.push(command);
        argv.extend(args.iter().map(String::as_str));
        match parse_mcp_remote(&argv) {
            Some(Ok(bridge)) => {
                entry.transport = bridge.transport;
                entry.url = Some(bridge.url);
                entry.auth.headers = bridge.headers;
                entry.auth.oauth = bridge.oauth;
                entry.mcp_remote = Some(bridge.info);
                for p in bridge.problems {
                    self.problem(pos, Some(name), p);
                }
            }
            Some(Err(problem)) => {
                entry.command = Some(program_name(command));
                self.problem(pos, Some(name), problem);
            }
            None => entry.command = Some(program_name(command)),
        }
        self.push(entry);
    }
}

/// The server URL of `latchkey bridge URL` (the entry `latchkey connect` writes), whatever
/// folder the program is in.
pub(crate) fn latchkey_bridge(command: &str, args: &[String]) -> Option<String> {
    let program = program_name(command);
    let program = program.strip_suffix(".exe").unwrap_or(&program);
    match args {
        [verb, url] if program == "latchkey" && verb == "bridge" && url.contains("://") => {
            Some(url.clone())
        }
        _ => None,
    }
}

/// The program's file name without its folder (`/usr/local/bin/uvx` -> `uvx`).
pub(crate) fn program_name(command: &str) -> String {
    command
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(command)
        .to_string()
}

/// Headers with each value redacted by [`shown_value`].
pub(crate) fn headers(pairs: Vec<(String, String)>) -> Vec<HeaderSetting> {
    pairs
        .into_iter()
        .map(|(name, value)| HeaderSetting {
            value: shown_value(&value),
            name,
        })
        .collect()
}

/// How a possibly secret value is shown: as written when it is made only of placeholders
/// (`${VAR}`, `${env:VAR}`, `${input:id}`, `$VAR`, `{env:VAR}`), optionally after an auth
/// scheme word (`Bearer ${TOKEN}`); otherwise `[set]`.
pub fn shown_value(value: &str) -> String {
    let mut rest = value.trim();
    for scheme in ["bearer ", "basic ", "token "] {
        let head = rest.get(..scheme.len());
        if rest.len() > scheme.len() && head.is_some_and(|h| h.eq_ignore_ascii_case(scheme)) {
            rest = rest[scheme.len()..].trim_start();
            break;
        }
    }
    if !rest.is_empty() && only_placeholders(rest) {
        value.trim().to_string()
    } else {
        "[set]".to_string()
    }
}

fn only_placeholders(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let mut any = false;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let braced_from = if c == b'$' && b.get(i + 1) == Some(&b'{') {
            Some(i + 2)
        } else if c == b'{' && s[i..].starts_with("{env:") {
            Some(i + 1)
        } else {
            None
        };
        if let Some(start) = braced_from {
            let Some(close) = s[start..].find('}') else {
                return false;
            };
            let inner = &s[start..start + close];
            if inner.is_empty()
                || !inner
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"_:-.".contains(&c))
            {
                return false;
            }
            i = start + close + 1;
            any = true;
        } else if c == b'$' {
            let start = i + 1;
            let len = s[start..]
                .bytes()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                .count();
            if len == 0 || s.as_bytes()[start].is_ascii_digit() {
                return false;
            }
            i = start + len;
            any = true;
        } else {
            return false;
        }
    }
    any
}

/// A `headersHelper` command line: shown unless it seems to hold a literal token.
pub(crate) fn shown_command(command: &str) -> String {
    let lower = command.to_ascii_lowercase();
    let literal_bearer = lower.match_indices("bearer ").any(|(i, m)| {
        let after = command[i + m.len()..].trim_start();
        !after.is_empty() && !after.starts_with('$') && !after.starts_with('%')
    });
    if literal_bearer {
        "[set]".into()
    } else {
        command.to_string()
    }
}

/// Splits a space-separated scope string, as OAuth writes scopes.
pub(crate) fn split_scopes(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

pub(crate) fn oauth_or_none(o: OAuthSettings) -> Option<OAuthSettings> {
    (!o.is_empty()).then_some(o)
}

pub(crate) struct Bridge {
    pub url: String,
    pub transport: Transport,
    pub headers: Vec<HeaderSetting>,
    pub oauth: Option<OAuthSettings>,
    pub info: McpRemote,
    /// Things mcp-remote would ignore or refuse, in words (never with a header's value).
    pub problems: Vec<String>,
}

/// Options of mcp-remote that take a value (its `parseCommandLineArgs`).
const VALUE_FLAGS: [&str; 8] = [
    "--header",
    "--transport",
    "--host",
    "--static-oauth-client-metadata",
    "--static-oauth-client-info",
    "--resource",
    "--ignore-tool",
    "--auth-timeout",
];

fn is_mcp_remote(token: &str) -> bool {
    let base = token.rsplit(['/', '\\']).next().unwrap_or(token);
    let base = base
        .strip_suffix(".cmd")
        .or_else(|| base.strip_suffix(".exe"))
        .unwrap_or(base);
    base == "mcp-remote" || base.starts_with("mcp-remote@")
}

/// Recognises `[npx -y] mcp-remote URL [PORT] [options]` (also through bunx, pnpm dlx,
/// `cmd /c npx`, or mcp-remote installed globally). `None` when the command is not mcp-remote.
/// Follows mcp-remote's own reading: `--header Name:Value` pairs are taken out first, then the
/// first argument is the URL and a number after it the callback port.
pub(crate) fn parse_mcp_remote(argv: &[&str]) -> Option<Result<Bridge, String>> {
    // Only the launcher words may come before mcp-remote itself.
    let at = argv.iter().take(6).position(|t| is_mcp_remote(t))?;
    let package = argv[at]
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(argv[at])
        .to_string();
    let mut args: Vec<&str> = argv[at + 1..].to_vec();
    let mut headers = Vec::new();
    let mut problems = Vec::new();
    let mut flags: Vec<String> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--header" && i + 1 < args.len() {
            let raw = args[i + 1];
            match raw.split_once(':') {
                Some((name, value))
                    if !name.is_empty()
                        && name
                            .bytes()
                            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_') =>
                {
                    headers.push((name.to_string(), value.trim_start().to_string()));
                }
                _ => problems.push(
                    "mcp-remote ignores one of its --header arguments, which is not in Name:Value form"
                        .to_string(),
                ),
            }
            if !flags.iter().any(|f| f == "--header") {
                flags.push("--header".into());
            }
            args.drain(i..i + 2);
            continue;
        }
        i += 1;
    }
    let Some(url) = args.first().copied() else {
        return Some(Err(
            "it runs mcp-remote without a server URL, so it cannot connect".into(),
        ));
    };
    if url.starts_with('-') {
        return Some(Err(format!(
            "it runs mcp-remote with {url} where the server URL should come first"
        )));
    }
    let mut info = McpRemote {
        package,
        ..Default::default()
    };
    info.callback_port = args
        .get(1)
        .filter(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
        .and_then(|p| p.parse::<u16>().ok());
    let value_of = |flag: &str| -> Option<&str> {
        args.iter()
            .position(|a| *a == flag)
            .and_then(|i| args.get(i + 1).copied())
    };
    for a in &args[1..] {
        if a.starts_with("--") && !flags.iter().any(|f| f == a) {
            flags.push(a.to_string());
        }
    }
    info.flags = flags;
    let mut oauth = OAuthSettings::default();
    info.transport_strategy = value_of("--transport").map(str::to_string);
    let transport = match info.transport_strategy.as_deref() {
        Some("sse-only") | Some("sse-first") => Transport::Sse,
        _ => Transport::Http,
    };
    info.callback_host = value_of("--host").map(str::to_string);
    oauth.resource = value_of("--resource").map(str::to_string);
    if let Some(v) = value_of("--static-oauth-client-info") {
        if let Some(file) = v.strip_prefix('@') {
            info.static_client_info_file = Some(file.to_string());
        } else {
            match serde_json::from_str::<serde_json::Value>(v) {
                Ok(j) => {
                    oauth.client_id = j["client_id"].as_str().map(str::to_string);
                    oauth.client_secret = j["client_secret"].as_str().map(shown_value);
                }
                Err(_) => problems.push(
                    "the value after --static-oauth-client-info is not valid JSON, so mcp-remote will fail to start"
                        .into(),
                ),
            }
        }
    }
    if let Some(v) = value_of("--static-oauth-client-metadata") {
        if let Some(file) = v.strip_prefix('@') {
            info.static_client_metadata_file = Some(file.to_string());
        } else {
            match serde_json::from_str::<serde_json::Value>(v) {
                Ok(j) => {
                    if let Some(s) = j["scope"].as_str() {
                        oauth.scopes = split_scopes(s);
                    }
                }
                Err(_) => problems.push(
                    "the value after --static-oauth-client-metadata is not valid JSON, so mcp-remote will fail to start"
                        .into(),
                ),
            }
        }
    }
    for flag in VALUE_FLAGS {
        if flag != "--header" {
            if let Some(i) = args.iter().position(|a| *a == flag) {
                if i + 1 >= args.len() {
                    problems.push(format!(
                        "{flag} is given without a value, so mcp-remote ignores it"
                    ));
                }
            }
        }
    }
    Some(Ok(Bridge {
        url: url.to_string(),
        transport,
        headers: self::headers(headers),
        oauth: oauth_or_none(oauth),
        info,
        problems,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction() {
        assert_eq!(shown_value("${AUTH}"), "${AUTH}");
        assert_eq!(
            shown_value("Bearer ${env:LINEAR_TOKEN}"),
            "Bearer ${env:LINEAR_TOKEN}"
        );
        assert_eq!(
            shown_value("Bearer ${input:github-pat}"),
            "Bearer ${input:github-pat}"
        );
        assert_eq!(shown_value("$MY_TOKEN"), "$MY_TOKEN");
        assert_eq!(shown_value("{env:TOKEN}"), "{env:TOKEN}");
        assert_eq!(shown_value("Bearer ghp_abc123"), "[set]");
        assert_eq!(shown_value("abc${X}"), "[set]");
        assert_eq!(shown_value("${X"), "[set]");
        assert_eq!(shown_value("$"), "[set]");
        assert_eq!(shown_value("Bearer "), "[set]");
        assert_eq!(shown_value("release-review"), "[set]");
        assert_eq!(shown_value("${A} ${B}"), "${A} ${B}");
        // Never a panic on text that is not ASCII.
        assert_eq!(shown_value("abcdef\u{e9}xyz"), "[set]");
        assert_eq!(shown_value("\u{e9}${X}"), "[set]");
        assert_eq!(shown_value("$\u{e9}"), "[set]");
        assert_eq!(shown_command("latchkey headers"), "latchkey headers");
        assert_eq!(
            shown_command("echo '{\"Authorization\":\"Bearer abc\"}'"),
            "[set]"
        );
        assert_eq!(
            shown_command("echo \"{\\\"Authorization\\\":\\\"Bearer $TOKEN\\\"}\""),
            "echo \"{\\\"Authorization\\\":\\\"Bearer $TOKEN\\\"}\""
        );
    }

    #[test]
    fn mcp_remote_forms() {
        let b = parse_mcp_remote(&[
            "npx",
            "-y",
            "mcp-remote@0.1.29",
            "--header",
            "Authorization:${AUTH}",
            "https://x.example/mcp",
            "9876",
            "--transport",
            "sse-only",
            "--resource",
            "https://tenant.example/",
            "--static-oauth-client-info",
            "{\"client_id\":\"abc\",\"client_secret\":\"s3cret\"}",
            "--allow-http",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(b.url, "https://x.example/mcp");
        assert_eq!(b.transport, Transport::Sse);
        assert_eq!(b.info.package, "mcp-remote@0.1.29");
        assert_eq!(b.info.callback_port, Some(9876));
        assert_eq!(
            b.info.flags,
            [
                "--header",
                "--transport",
                "--resource",
                "--static-oauth-client-info",
                "--allow-http"
            ]
        );
        let o = b.oauth.unwrap();
        assert_eq!(o.client_id.as_deref(), Some("abc"));
        assert_eq!(o.client_secret.as_deref(), Some("[set]"));
        assert_eq!(o.resource.as_deref(), Some("https://tenant.example/"));
        assert_eq!(b.headers[0].value, "${AUTH}");
        assert!(b.problems.is_empty());

        assert!(parse_mcp_remote(&["npx", "-y", "@modelcontextprotocol/server-memory"]).is_none());
        assert!(parse_mcp_remote(&["mcp-remote"]).unwrap().is_err());
        assert!(
            parse_mcp_remote(&["cmd", "/c", "npx", "mcp-remote", "--debug"])
                .unwrap()
                .is_err()
        );
        let b = parse_mcp_remote(&[
            "/usr/local/bin/mcp-remote",
            "https://h/sse",
            "--header",
            "bad",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(b.problems.len(), 1);
        assert!(!b.problems[0].contains("bad"));
    }
}

/// What connecting a server gives a tool: the server's URL, and the `latchkey` program that
/// runs for it (as a path, for a tool's `command`; and as its headers helper command line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// The server's URL, as the entry will name it.
    pub url: String,
    /// The `latchkey` program's path, unquoted (a JSON `command` is not read by a shell).
    pub program: String,
    /// The headers helper command line, `<latchkey> headers` (quoted for a shell).
    pub helper: String,
}

/// What connecting writes into a tool's entry for the server, members in the order written.
#[derive(Debug, Clone, PartialEq)]
pub enum EntryEdit {
    /// Set these members of the entry that is there, keeping the others (a `headersHelper`;
    /// the `command` and `args` of an mcp-remote entry, so its `env` and the rest stay).
    Members(Vec<(&'static str, serde_json::Value)>),
    /// The whole entry, written anew (or added, when the tool has none for the server).
    Whole(Vec<(&'static str, serde_json::Value)>),
}

/// The stdio entry that runs `latchkey bridge URL`, for the tools that cannot send a header
/// from a helper: a local command entry (mcp-remote) keeps its other members; a remote entry
/// (which the tool would sign in to by itself) and a new one become the command. `typed`: the
/// tool wants `"type": "stdio"` (VS Code).
pub(crate) fn bridge_edit(
    existing: Option<&ServerEntry>,
    launch: &Launch,
    typed: bool,
) -> EntryEdit {
    let command = ("command", serde_json::json!(launch.program));
    let args = ("args", serde_json::json!(["bridge", launch.url]));
    match existing {
        Some(e) if e.transport == Transport::Stdio || e.mcp_remote.is_some() => {
            EntryEdit::Members(vec![command, args])
        }
        _ if typed => EntryEdit::Whole(vec![("type", serde_json::json!("stdio")), command, args]),
        _ => EntryEdit::Whole(vec![command, args]),
    }
}

/// `s` as one shell word: as is when it has nothing a shell would split or expand.
pub fn shell_quoted(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:=@%,".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The inverse of [`shell_quoted`]: the path a quoted program word names.
pub fn shell_unquoted(word: &str) -> String {
    match word.strip_prefix('\'').and_then(|w| w.strip_suffix('\'')) {
        Some(inner) => inner.replace("'\\''", "'"),
        None => word.to_string(),
    }
}
