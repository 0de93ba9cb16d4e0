//! The fuzz targets' bodies, one function per parser of outside input. Each must return for
//! any bytes: a panic, an abort or a hang is a finding. None touches the network or the
//! home folder: the parsers are called on bytes, with paths that are never opened.

use latchkey_core::oauth::{loopback, paste_back, register, token_response};
use latchkey_core::protocol::metadata::{AuthServerMetadata, ProtectedResourceMetadata};
use latchkey_core::protocol::www_authenticate;
use latchkey_core::redact;
use latchkey_core::tools::{self, connections, ConfigScope, Source, SourceKind};
use latchkey_core::usecase::links;
use latchkey_core::Secret;
use std::path::PathBuf;

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// `WWW-Authenticate` values, one per line: the parser, the Bearer reading, its scopes.
pub fn www_authenticate(data: &[u8]) {
    let Some(s) = text(data) else { return };
    let _ = www_authenticate::parse(s);
    if let Ok(Some(b)) = www_authenticate::bearer(s.lines()) {
        let _ = b.scopes();
    }
}

/// Protected resource metadata and authorization server metadata documents.
pub fn metadata(data: &[u8]) {
    if let Ok(m) = serde_json::from_slice::<AuthServerMetadata>(data) {
        let _ = (
            m.supports_s256(),
            m.lists_scope("mcp"),
            m.supports_auth_method("none"),
        );
    }
    let _ = serde_json::from_slice::<ProtectedResourceMetadata>(data);
}

/// Token endpoint answers: the lenient token response, an error in a 200 body, and what the
/// trace and an error message would show of it.
pub fn token_response(data: &[u8]) {
    if let Ok(r) = serde_json::from_slice::<token_response::LenientTokenResponse>(data) {
        let _ = format!("{r:?}");
    }
    let _ = token_response::error_in_body(data);
    if let Some(s) = text(data) {
        let _ = token_response::check(&Secret::new(s));
    }
}

/// Dynamic client registration answers.
pub fn register(data: &[u8]) {
    let _ = register::registration_from_answer(
        data,
        "https://as.example",
        "https://as.example/register",
        "http://127.0.0.1:33418/callback",
        Some("mcp"),
    );
}

/// One AI tool's config file (the first byte picks the tool): read as the tool reads it,
/// then each entry connected and put back, which must give the file back byte for byte.
pub fn tool_config(data: &[u8]) {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let kind = SourceKind::ALL[pick as usize % SourceKind::ALL.len()];
    let source = Source {
        kind,
        path: PathBuf::from("/nonexistent/latchkey-fuzz/config"),
        config_scope: ConfigScope::User,
    };
    let result = tools::parse_source(&source, bytes);
    let Some(text) = text(bytes) else { return };
    let tool = source.tool();
    let launch = tools::Launch {
        url: "https://mcp.example/mcp".into(),
        program: "/opt/latchkey/bin/latchkey".into(),
        helper: "'/opt/latchkey/bin/latchkey' headers".into(),
    };
    let mut key_paths: Vec<(Vec<String>, bool)> = result
        .entries
        .iter()
        .take(3)
        .map(|e| (e.key_path.clone(), true))
        .collect();
    key_paths.push((
        vec![
            connections::servers_key(tool).to_string(),
            "latchkey-fuzz".into(),
        ],
        false,
    ));
    for (key_path, existing) in key_paths {
        let entry = result.entries.iter().find(|e| e.key_path == key_path);
        if existing != entry.is_some() {
            continue;
        }
        if !existing && entry_exists(tool, text, &key_path) {
            continue;
        }
        let Ok((new, c)) = connections::connect_text(
            tool,
            &source.path,
            text,
            "https://mcp.example/mcp",
            &key_path,
            entry,
            &launch,
        ) else {
            continue;
        };
        assert!(
            connections::is_connected(&new, &c, &source.path),
            "the entry written is not found connected"
        );
        let back = connections::disconnect_text(&source.path, &new, &c)
            .expect("what was connected can be put back");
        if existing {
            assert_eq!(back, text, "putting back changed the file");
        } else if back != text && !text.trim().is_empty() {
            // An added entry is removed, with the objects Latchkey created for it; the layout
            // around it may differ (a file that was `{}` on one line), every server the file
            // had stays as it was.
            let again = tools::parse_source(&source, back.as_bytes());
            assert_eq!(
                servers(&again.entries),
                servers(&result.entries),
                "removing an added entry changed the file's servers:\n{back}"
            );
        }
    }
}

/// `latchkey://` links: parsed, and a parsed link written again reads the same.
pub fn links(data: &[u8]) {
    let Some(s) = text(data) else { return };
    let _ = links::is_link(s);
    if let Ok(action) = links::parse(s) {
        let again = links::parse(&action.link()).expect("a link Latchkey writes parses");
        assert_eq!(again, action, "a link written again reads differently");
    }
}

/// The loopback listener's request head (request line and headers).
pub fn callback(data: &[u8]) {
    let state = Secret::new("fuzz-state-0123456789");
    for iss_required in [false, true] {
        let expected = loopback::Expected {
            state: &state,
            issuer: "https://as.example",
            iss_required,
        };
        if let loopback::Request::Answer(Err(e)) = loopback::read_request(data, &expected) {
            let _ = e.to_string();
        }
    }
}

/// An address pasted back into a waiting sign-in (`oauth/paste_back.rs` `read`). Beyond no
/// panic: a refusal never repeats the code of what was pasted (planted before the bytes).
pub fn paste_back(data: &[u8]) {
    let state = Secret::new("fuzz-state-0123456789");
    let text = String::from_utf8_lossy(data);
    let ours = "http://127.0.0.1:33418/callback";
    for iss_required in [false, true] {
        let expected = loopback::Expected {
            state: &state,
            issuer: "https://as.example",
            iss_required,
        };
        if let paste_back::Verdict::Answer(Err(e)) = paste_back::read(&text, ours, &expected) {
            let _ = e.to_string();
        }
        let planted = format!("{ours}?code=PLANTED-CODE-987654&{text}");
        if let paste_back::Verdict::NotTheAnswer(m) = paste_back::read(&planted, ours, &expected) {
            assert!(!m.contains("PLANTED-CODE-987654"), "a refusal repeats the code: {m}");
        }
    }
}

/// The redaction rule on bytes from outside: URLs, headers, bodies of each content type and
/// free text. A value after `access_token=` must never come out.
pub fn redact(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let _ = redact::url(&s);
    let _ = redact::text(&s);
    let _ = redact::headers([("www-authenticate", data), ("location", data), ("x", data)]);
    for ct in [
        "application/json",
        "application/x-www-form-urlencoded",
        "text/event-stream",
        "text/plain",
    ] {
        let _ = redact::body(ct, data);
    }
    let planted = "PLANTED-SECRET-1234";
    let with = format!("access_token={planted}&{s}");
    if !s.contains(planted) && !s.contains('#') {
        let out = redact::body("text/plain", with.as_bytes());
        assert!(!out.contains(planted), "a planted token came out: {out}");
    }
}

/// Whether `key_path` names something in `text` already (the connect use case then picks
/// another name).
fn entry_exists(tool: tools::Tool, text: &str, key_path: &[String]) -> bool {
    if tool == tools::Tool::Codex {
        return tools::codex::section_span(text, &key_path[1]).is_some();
    }
    if text.trim().is_empty() {
        return false;
    }
    let keys: Vec<&str> = key_path.iter().map(String::as_str).collect();
    !matches!(tools::json_edit::value_span(text, &keys), Ok(None))
}

/// The servers of a file, without positions: what must survive a connect and disconnect.
fn servers(entries: &[tools::ServerEntry]) -> Vec<(Vec<String>, Option<String>)> {
    entries
        .iter()
        .map(|e| (e.key_path.clone(), e.url.clone()))
        .collect()
}
