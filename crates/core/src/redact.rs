//! The one redaction rule every output uses: traces, the diagnostics export, error messages,
//! logs, the command line and notifications. Nothing here knows the secrets Latchkey holds;
//! it recognises where a secret may sit in text that came from outside.
//!
//! The rule:
//! - **Parameters** (URL queries, form bodies, `key=value` text) and **JSON members** whose
//!   *name* says they carry a secret are replaced by `[redacted]`: `code`, `state`, `key`,
//!   `sig`, `nonce`, and any name holding `token`, `secret`, `password`, `passwd`,
//!   `assertion`, `signature`, `verifier`, `credential`, `session`, `api_key`, `apikey`, or
//!   ending in `_code` (`device_code`, `user_code`). Names that describe rather than carry
//!   (`token_type`, `token_endpoint`, `..._supported`, `..._uri`, `..._method`, `expires_in`,
//!   `code_challenge`) are kept.
//! - **Any other parameter** (not JSON members: metadata is full of long identifiers) whose
//!   value *looks like a secret* is replaced too, unless its name is known to carry no secret
//!   (`iss`, `client_id`, `redirect_uri`, `resource`, `scope`, `error`, ...). A value looks
//!   like a secret when it is at least 16 characters of token characters (letters, digits,
//!   `-._~+/=`) with both letters and digits, or a JWT.
//! - **Headers**: `Authorization` and `Proxy-Authorization` keep their scheme only; cookies,
//!   `DPoP`, `Mcp-Session-Id` and any header whose name holds `token`, `secret`, `session`,
//!   `api-key`, `apikey` or `password` are replaced.
//! - **Free text** (a server's `error_description`, an excerpt of a body): every URL in it is
//!   redacted as above, every `name=value`, `name: value` or `"name":"value"` with a secret
//!   name loses its value, and every word that looks like a JWT, or like a secret by the rule
//!   above and at least 24 characters long, is replaced. A caller that knows the secrets it
//!   sent (a refresh token, a code) removes them as well with [`text_without`].

/// What a secret becomes.
pub const REDACTED: &str = "[redacted]";

const SECRET_NAMES: &[&str] = &["code", "state", "key", "sig", "nonce", "pwd", "pass"];

const SECRET_PARTS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "assertion",
    "signature",
    "verifier",
    "credential",
    "session",
    "api_key",
    "apikey",
];

/// Names holding a secret part that nevertheless carry none.
const DESCRIPTIVE_SUFFIXES: &[&str] = &[
    "_endpoint",
    "_supported",
    "_uri",
    "_url",
    "_type",
    "_method",
    "_methods",
    "_expires_at",
    "_expires_in",
    "_hint",
];

/// Parameter names whose values are never secrets, whatever they look like.
const PUBLIC_PARAMETERS: &[&str] = &[
    "iss",
    "issuer",
    "client_id",
    "redirect_uri",
    "resource",
    "scope",
    "response_type",
    "response_mode",
    "grant_type",
    "code_challenge",
    "code_challenge_method",
    "error",
    "error_description",
    "error_uri",
    "prompt",
    "audience",
    "expires_in",
    "token_type",
    "token_type_hint",
];

const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "dpop",
    "x-api-key",
    "private-token",
    "mcp-session-id",
];

const SECRET_HEADER_PARTS: &[&str] = &[
    "token", "secret", "session", "api-key", "apikey", "password",
];

/// True for a parameter or JSON member name whose value is a secret (`code`, `access_token`,
/// `refreshToken`, `client_secret`, ...).
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace('-', "_");
    if SECRET_NAMES.contains(&n.as_str()) {
        return true;
    }
    if n == "code_challenge" || n == "code_challenge_method" || n == "expires_in" {
        return false;
    }
    if DESCRIPTIVE_SUFFIXES.iter().any(|s| n.ends_with(s)) {
        return false;
    }
    n.ends_with("_code") || SECRET_PARTS.iter().any(|p| n.contains(p))
        // camelCase forms: accessToken, clientSecret, idToken.
        || n.ends_with("token")
}

/// True for a header whose value is a credential or a session (`Authorization`, `Cookie`,
/// `Mcp-Session-Id`, `X-Auth-Token`, ...). `WWW-Authenticate` is not: it says what the
/// server wants, never what was sent.
pub fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    if n == "www-authenticate" {
        return false;
    }
    SENSITIVE_HEADERS.contains(&n.as_str())
        || n.contains("authorization")
        || SECRET_HEADER_PARTS.iter().any(|p| n.contains(p))
}

/// True for a value shaped like a secret: at least 16 token characters with letters and
/// digits, or a JWT.
pub fn looks_like_secret(value: &str) -> bool {
    looks_like_jwt(value) || looks_like_secret_of(value, 16)
}

fn looks_like_secret_of(value: &str, min: usize) -> bool {
    value.len() >= min
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b))
        && value.bytes().any(|b| b.is_ascii_alphabetic())
        && value.bytes().any(|b| b.is_ascii_digit())
        // A host name, a version or a dotted path is not a secret.
        && !value.contains("..")
        && !value.starts_with('/')
}

fn looks_like_jwt(value: &str) -> bool {
    let parts: Vec<&str> = value.split('.').collect();
    parts.len() >= 3
        && value.starts_with("eyJ")
        && parts.iter().take(2).all(|p| {
            p.len() >= 8
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The value a parameter named `name` may be shown with.
fn parameter_value(name: &str, value: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if is_secret_name(&lower) {
        return REDACTED.to_string();
    }
    if lower == "error_description" {
        return text(value);
    }
    if !PUBLIC_PARAMETERS.contains(&lower.as_str()) && looks_like_secret(value) {
        return REDACTED.to_string();
    }
    value.to_string()
}

/// A URL as it may be shown: secret query values and any password replaced.
pub fn url(url: &str) -> String {
    let Ok(mut u) = url::Url::parse(url) else {
        return text(url);
    };
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = parameter_value(&k, &v);
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    if u.password().is_some() {
        let _ = u.set_password(Some(REDACTED));
    }
    if let Some(f) = u.fragment() {
        if f.contains('=') {
            let f = form(f.as_bytes());
            u.set_fragment(Some(&f));
        }
    }
    u.to_string()
}

/// Headers as they may be shown, names in lower case. `Authorization` keeps its scheme
/// ("Bearer [redacted]").
pub fn headers<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Vec<(String, String)> {
    headers
        .into_iter()
        .map(|(k, v)| {
            let name = k.to_ascii_lowercase();
            let value = String::from_utf8_lossy(v).into_owned();
            let value = if is_secret_header(&name) {
                match value.split_once(' ') {
                    Some((scheme, _)) if name.contains("authorization") => {
                        format!("{scheme} {REDACTED}")
                    }
                    _ => REDACTED.to_string(),
                }
            } else if name == "location" || name == "content-location" {
                url(&value)
            } else if name == "www-authenticate" {
                text(&value)
            } else {
                value
            };
            (name, value)
        })
        .collect()
}

/// Members whose text a server writes for people, and may fill with what it was sent.
fn is_free_text(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "error" | "error_description" | "message" | "detail" | "description" | "hint"
    )
}

/// JSON with every member whose name is a secret replaced, at any depth; free-text strings
/// (`error_description`, `message`, `detail`) redacted as [`text`].
pub fn json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if is_secret_name(k) && !val.is_null() {
                    *val = serde_json::Value::String(REDACTED.into());
                } else if let (true, serde_json::Value::String(s)) = (is_free_text(k), &mut *val) {
                    *s = text(s);
                } else {
                    json(val);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(json),
        _ => {}
    }
}

/// A form-encoded text (`a=1&b=2`) with its secret values replaced.
pub fn form(body: &[u8]) -> String {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body)
        .map(|(k, v)| {
            let v = parameter_value(&k, &v);
            (k.into_owned(), v)
        })
        .collect();
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// Whether a body not labelled as a form reads as one: `name=value` pairs joined by `&`,
/// with no spaces or line breaks, one of them with a secret name. Token endpoints answer
/// `access_token=...&refresh_token=...` as text/plain (GitHub's default).
fn reads_as_form(body: &str) -> bool {
    let body = body.trim();
    !body.is_empty()
        && !body.contains(char::is_whitespace)
        && body.split('&').all(|p| p.contains('='))
        && url::form_urlencoded::parse(body.as_bytes()).any(|(k, _)| is_secret_name(&k))
}

/// A body as it may be shown: JSON and form fields that hold secrets are replaced (a
/// form-shaped body is read as a form whatever its content type); anything else is
/// redacted as free text. Not cut: see the callers.
pub fn body(content_type: &str, body: &[u8]) -> String {
    let ct = content_type.to_ascii_lowercase();
    if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(body) {
        json(&mut v);
        return v.to_string();
    }
    let s = String::from_utf8_lossy(body);
    if ct.contains("x-www-form-urlencoded") || reads_as_form(&s) {
        return form(s.trim().as_bytes());
    }
    if ct.contains("event-stream") {
        // MCP answers over SSE: redact each event's JSON data.
        return s
            .lines()
            .map(|l| match l.strip_prefix("data:") {
                Some(d) => match serde_json::from_str::<serde_json::Value>(d.trim()) {
                    Ok(mut v) => {
                        json(&mut v);
                        format!("data: {v}")
                    }
                    Err(_) => text(l),
                },
                None => text(l),
            })
            .collect::<Vec<_>>()
            .join("\n");
    }
    text(&s)
}

/// Free text as it may be shown: URLs redacted as [`url`], values after a secret name
/// (`refresh_token=...`, `code: ...`, `"access_token":"..."`) and words shaped like
/// secrets (JWTs, long mixed letters and digits) replaced. Spacing is kept.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending = Pending::None;
    for piece in split_keeping_separators(s) {
        let w = match piece {
            Piece::Sep(sep) => {
                out.push_str(sep);
                continue;
            }
            Piece::Word(w) => w,
        };
        if w == ":" || w == "=" {
            if pending != Pending::None {
                pending = Pending::Strong;
            }
            out.push_str(w);
            continue;
        }
        let redact = match pending {
            Pending::Strong => true,
            Pending::Weak => token_ish(w),
            Pending::None => false,
        };
        pending = Pending::None;
        if redact {
            out.push_str(REDACTED);
            continue;
        }
        out.push_str(&word(w, &mut pending));
    }
    out
}

/// What the word after a secret name is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pending {
    None,
    /// After `name:` or `name=`: the value, whatever it is.
    Strong,
    /// After a bare name ("refresh token X is unknown"): the value when it reads as one.
    Weak,
}

/// A word that reads as a value rather than an English word: six characters or more with
/// something besides lower-case letters.
fn token_ish(w: &str) -> bool {
    w.len() >= 6 && w.bytes().any(|b| !b.is_ascii_lowercase())
}

/// [`text`], with the exact `secrets` (values Latchkey sent and knows) removed as well: an
/// authorization server that echoes a refresh token in its error description.
pub fn text_without(s: &str, secrets: &[&str]) -> String {
    let mut s = s.to_string();
    for secret in secrets.iter().filter(|x| x.len() >= 4) {
        if s.contains(secret) {
            s = s.replace(secret, REDACTED);
        }
    }
    text(&s)
}

enum Piece<'a> {
    Word(&'a str),
    Sep(&'a str),
}

/// Words (runs without spaces, quotes, commas, brackets) and the separators between them.
fn split_keeping_separators(s: &str) -> Vec<Piece<'_>> {
    let is_sep = |c: char| c.is_whitespace() || "\"'`,;()[]{}<>".contains(c);
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut in_word = None;
    for (i, c) in s.char_indices() {
        let sep = is_sep(c);
        match in_word {
            Some(true) if sep => {
                pieces.push(Piece::Word(&s[start..i]));
                start = i;
            }
            Some(false) if !sep => {
                pieces.push(Piece::Sep(&s[start..i]));
                start = i;
            }
            _ => {}
        }
        in_word = Some(!sep);
    }
    match in_word {
        Some(true) => pieces.push(Piece::Word(&s[start..])),
        Some(false) => pieces.push(Piece::Sep(&s[start..])),
        None => {}
    }
    pieces
}

/// One word of free text; sets `pending` when the word is a secret name whose value may
/// be the next word (`code:`, `refresh_token`).
fn word(w: &str, pending: &mut Pending) -> String {
    // Only a word that parses as a URL: `url` reads anything else as text, which would
    // come back here (found by fuzzing: a stack overflow on "er://").
    if w.contains("://") && url::Url::parse(w).is_ok() {
        return url(w);
    }
    if let Some(name) = w.strip_suffix(':').or_else(|| w.strip_suffix('=')) {
        // A name alone; `a=1&b:` is pairs (found by fuzzing: `access_token=X&https:` kept X).
        if !name.contains(['=', '&']) {
            if is_secret_name(name) {
                *pending = Pending::Strong;
            }
            return w.to_string();
        }
    }
    // A URL without its scheme (`//host/cb?code=...`, `/cb?code=...`): its query.
    if let Some((before, query)) = w.split_once('?') {
        if query.contains('=') && !before.contains(['=', '&']) {
            return format!("{before}?{}", form(query.as_bytes()));
        }
    }
    if w.contains('=') {
        if w.contains('&') || w.split_once('=').is_some_and(|(k, _)| is_secret_name(k)) {
            return form(w.as_bytes());
        }
        if let Some((k, v)) = w.split_once('=') {
            if looks_like_secret(v) && !PUBLIC_PARAMETERS.contains(&k.to_ascii_lowercase().as_str())
            {
                return format!("{k}={REDACTED}");
            }
        }
    }
    if let Some((name, value)) = w.split_once(':') {
        if is_secret_name(name) && !value.is_empty() {
            return format!("{name}:{REDACTED}");
        }
    }
    if is_secret_name(w) {
        *pending = Pending::Weak;
        return w.to_string();
    }
    let bare = w.trim_end_matches(['.', ':', '!', '?']);
    if looks_like_jwt(bare) || looks_like_secret_of(bare, 24) {
        return format!("{REDACTED}{}", &w[bare.len()..]);
    }
    w.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLANTED: &str = "PLANTED-SECRET-1234";

    #[test]
    fn names_that_carry_secrets_and_names_that_describe() {
        for n in [
            "code",
            "state",
            "access_token",
            "refreshToken",
            "client_secret",
            "assertion",
            "client_assertion",
            "password",
            "key",
            "sig",
            "signature",
            "device_code",
            "code_verifier",
            "registration_access_token",
            "X-Session",
        ] {
            assert!(is_secret_name(n), "{n}");
        }
        for n in [
            "token_type",
            "token_endpoint",
            "code_challenge",
            "code_challenge_method",
            "expires_in",
            "token_endpoint_auth_methods_supported",
            "scope",
            "iss",
            "client_id",
            "error_description",
        ] {
            assert!(!is_secret_name(n), "{n}");
        }
    }

    #[test]
    fn every_query_value_that_may_carry_a_secret() {
        for name in [
            "code",
            "state",
            "token",
            "access_token",
            "refresh_token",
            "client_secret",
            "assertion",
            "password",
            "key",
            "sig",
            "signature",
        ] {
            let u = url(&format!(
                "https://h/cb?{name}={PLANTED}&iss=https%3A%2F%2Fas"
            ));
            assert!(!u.contains(PLANTED), "{u}");
            assert!(u.contains("iss=https"), "{u}");
        }
        // An unknown parameter with a secret-shaped value; a short plain one is kept.
        let u = url("https://h/x?x-amz-credentialz=AKIA1234567890ABCDEF&page=2&lang=en");
        assert!(
            !u.contains("AKIA1234567890ABCDEF") && u.contains("page=2"),
            "{u}"
        );
        let u = url("https://h/x?client_id=abcdef0123456789abcdef");
        assert!(u.contains("abcdef0123456789abcdef"), "{u}");
        // The error description in a callback URL echoing the code.
        let u = url(&format!(
            "https://h/cb?error=invalid_grant&error_description=code%3D{PLANTED}+is+bad"
        ));
        assert!(!u.contains(PLANTED), "{u}");
        let u = url(&format!(
            "https://user:{PLANTED}@h/x#access_token={PLANTED}"
        ));
        assert!(!u.contains(PLANTED), "{u}");
    }

    #[test]
    fn session_ids_and_credentials_in_headers() {
        let h = headers([
            ("Mcp-Session-Id", PLANTED.as_bytes()),
            ("Authorization", format!("Bearer {PLANTED}").as_bytes()),
            ("X-Auth-Token", PLANTED.as_bytes()),
            (
                "WWW-Authenticate",
                b"Bearer error=\"invalid_token\"".as_slice(),
            ),
        ]);
        for (k, v) in &h[..3] {
            assert!(!v.contains(PLANTED), "{k}: {v}");
        }
        assert_eq!(h[1].1, "Bearer [redacted]");
        assert_eq!(h[3].1, "Bearer error=\"invalid_token\"");
    }

    #[test]
    fn token_answers_that_are_not_json() {
        let b =
            format!("access_token={PLANTED}&refresh_token={PLANTED}&token_type=bearer&scope=repo");
        for ct in [
            "text/plain",
            "",
            "application/x-www-form-urlencoded",
            "text/html",
        ] {
            let r = body(ct, b.as_bytes());
            assert!(!r.contains(PLANTED), "{ct}: {r}");
            assert!(r.contains("token_type=bearer"), "{r}");
        }
    }

    #[test]
    fn error_descriptions_that_echo_the_input() {
        let b = format!(
            r#"{{"error":"invalid_grant","error_description":"refresh_token {PLANTED} is unknown; code: {PLANTED}"}}"#
        );
        let r = body("application/json", b.as_bytes());
        assert!(!r.contains(PLANTED) && r.contains("invalid_grant"), "{r}");
        // Exact values Latchkey sent, wherever they appear.
        let t = text_without(&format!("bad grant ({PLANTED})"), &[PLANTED]);
        assert!(!t.contains(PLANTED), "{t}");
        for s in [
            format!("refresh_token={PLANTED}"),
            format!("\"refresh_token\": \"{PLANTED}\""),
            format!("the token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.{PLANTED} expired"),
            "token gho_16C7e42F292c6912E7710c838347Ae178B4a is revoked".to_string(),
        ] {
            let t = text(&s);
            assert!(
                !t.contains(PLANTED) && !t.contains("gho_16C7"),
                "{s} -> {t}"
            );
        }
        // A word that looks like a URL but is none is read as text, once.
        assert_eq!(text("https://[::1"), "https://[::1");
        assert_eq!(
            url("\u{fffd}\u{7f}cess_s://as.example"),
            "\u{fffd}\u{7f}cess_s://as.example"
        );
        // Found by fuzzing: pairs whose last word ends with a colon, in a body with a
        // control character (so not read as a form).
        for b in [
            format!("access_token={PLANTED}&https:\u{b}\u{b}//as.example/cb?code=C0DE"),
            format!("access_token={PLANTED}&https:;/as.example/cb????x=AKIA1234567890ABCDEF"),
            format!("access_token={PLANTED}&https:\u{14}/as.exback?code= 0DE&state=S1"),
            format!("access_token={PLANTED}&https://as.example/callback?co\u{0}=C0DE&stat"),
        ] {
            let r = body("text/plain", b.as_bytes());
            assert!(!r.contains(PLANTED), "{r}");
        }
        // Plain words, URLs and ids stay readable.
        let plain =
            "the redirect URI http://127.0.0.1:33418/callback is not registered for client abc-123";
        assert_eq!(text(plain), plain);
    }
}
