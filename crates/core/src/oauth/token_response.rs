//! The token endpoint's answer (RFC 6749 section 5.1), read as real authorization servers
//! write it rather than as the RFC spells it:
//! - `expires_in` as a number (`3600`, `3600.5`: whole seconds kept), or as a string of
//!   digits (Microsoft Entra ID sends `"expires_in": "5250"`); anything else is ignored with
//!   a log line and the lifetime is then found as when it is absent;
//! - `token_type` in any case, and `Bearer` when it is missing (MCP uses bearer tokens only);
//! - `"scope": ""` means no scope, not one empty scope.
//!
//! An answer without a non-empty `access_token` is never a token: see [`check`], and
//! [`error_in_body`] for authorization servers that answer a failure with HTTP 200 (Slack:
//! `{"ok": false, "error": "invalid_code"}`).

use crate::secret::Secret;
use base64::Engine;
use oauth2::basic::BasicTokenType;
use oauth2::{AccessToken, RefreshToken, Scope, TokenResponse};
use serde::{Deserialize, Deserializer, Serialize};
use std::time::Duration;

/// A token response with lenient fields; the `oauth2` crate parses answers into it.
#[derive(Debug, Serialize, Deserialize)]
pub struct LenientTokenResponse {
    access_token: AccessToken,
    #[serde(default = "bearer", deserialize_with = "any_case_token_type")]
    token_type: BasicTokenType,
    /// Seconds; `None` when absent or unreadable.
    #[serde(default, deserialize_with = "lenient_seconds")]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
    #[serde(default, rename = "scope", deserialize_with = "space_separated")]
    scopes: Option<Vec<Scope>>,
}

fn bearer() -> BasicTokenType {
    BasicTokenType::Bearer
}

/// `token_type` (RFC 6749 section 7.1) is case-insensitive: `Bearer`, `bearer`, `BEARER`.
fn any_case_token_type<'de, D: Deserializer<'de>>(d: D) -> Result<BasicTokenType, D::Error> {
    let s = String::deserialize(d)?;
    Ok(match s.to_ascii_lowercase().as_str() {
        "bearer" => BasicTokenType::Bearer,
        "mac" => BasicTokenType::Mac,
        _ => BasicTokenType::Extension(s),
    })
}

/// A number of seconds as a JSON number (fractions dropped) or a string of digits.
fn lenient_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.and_then(|v| {
        let secs = match &v {
            serde_json::Value::Number(n) => n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite() && *f >= 0.0)
                    .map(|f| f as u64)
            }),
            serde_json::Value::String(s)
                if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) =>
            {
                // All digits: only a number too large to parse fails, and that is a long time.
                Some(s.parse::<u64>().unwrap_or(u64::MAX))
            }
            _ => None,
        }
        .map(|s| s.min(MAX_LIFETIME_SECS));
        if secs.is_none() {
            // The value is a lifetime, not a secret: it may be logged.
            tracing::warn!(
                "the token response's expires_in is not a number of seconds ({v}); ignored"
            );
        }
        secs
    }))
}

/// `scope` (RFC 6749 section 3.3): space-separated; empty or blank means none.
fn space_separated<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Scope>>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    Ok(s.map(|s| {
        s.split_whitespace()
            .map(|x| Scope::new(x.to_string()))
            .collect()
    }))
}

impl TokenResponse for LenientTokenResponse {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }

    fn expires_in(&self) -> Option<Duration> {
        self.expires_in.map(Duration::from_secs)
    }

    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    fn scopes(&self) -> Option<&Vec<Scope>> {
        self.scopes.as_ref()
    }
}

/// How long a token lives when neither `expires_in` nor a JWT `exp` says, and a refresh
/// token can renew it: 15 minutes, so a wrong guess costs a renewal, not a broken session.
pub const ASSUMED_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// The longest lifetime believed: a year. Larger values (`1e30`, a far-future `exp`) are
/// read as this, so no time arithmetic downstream can overflow.
pub const MAX_LIFETIME_SECS: u64 = 366 * 24 * 3600;

/// When the access token ends, in seconds since the epoch: `obtained_at + expires_in`; else
/// the token's own `exp` claim when it is a JWT (RFC 7519 section 4.1.4); else, when a
/// refresh token can renew it, [`ASSUMED_LIFETIME`] from now; else unknown (`None`: the
/// server's 401 will say when it ended).
pub fn expires_at(
    expires_in: Option<Duration>,
    access_token: &str,
    renewable: bool,
    obtained_at: u64,
) -> Option<u64> {
    if let Some(d) = expires_in {
        return Some(obtained_at.saturating_add(d.as_secs()));
    }
    let latest = obtained_at.saturating_add(MAX_LIFETIME_SECS);
    jwt_exp(access_token)
        .map(|exp| exp.min(latest))
        .or_else(|| renewable.then(|| obtained_at.saturating_add(ASSUMED_LIFETIME.as_secs())))
}

/// The `exp` claim of a JWT access token, without checking its signature (Latchkey only
/// schedules its renewal by it; the resource server checks the token).
fn jwt_exp(token: &str) -> Option<u64> {
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("exp")?.as_u64()
}

/// Why a parsed answer is not a usable token, if it is not: an empty access token (some
/// authorization servers answer a failure so). The words name the field, never its value.
pub fn check(access_token: &Secret) -> Option<String> {
    access_token
        .expose()
        .trim()
        .is_empty()
        .then(|| "the answer's access_token is empty: the sign-in server issued no token".into())
}

/// An OAuth error (`error`, `error_description`, `error_uri`) carried in the body of an
/// answer that is not a token response, e.g. Slack's HTTP 200 `{"ok": false, "error":
/// "invalid_code"}`.
pub fn error_in_body(body: &[u8]) -> Option<(String, Option<String>, Option<String>)> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let code = v.get("error")?.as_str()?.trim();
    if code.is_empty() {
        return None;
    }
    let text = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    Some((
        code.to_string(),
        text("error_description"),
        text("error_uri"),
    ))
}

/// A token endpoint answer written as a form (`access_token=…&token_type=bearer&scope=repo`,
/// or `error=bad_verification_code&error_description=…`), as GitHub's OAuth apps answer when
/// a request does not insist on JSON and some servers answer whatever is asked, as the JSON
/// object the same fields make. The `oauth2` crate reads only JSON; the token calls' transport
/// hands it this instead, so a form is read with the same leniency and errors as JSON.
/// `None` when the body is JSON or not such a form (neither `access_token` nor `error`).
pub fn form_as_json(body: &[u8]) -> Option<Vec<u8>> {
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() || matches!(trimmed[0], b'{' | b'[') {
        return None;
    }
    let mut map = serde_json::Map::new();
    for (k, v) in url::form_urlencoded::parse(trimmed) {
        map.entry(k.into_owned())
            .or_insert(serde_json::Value::String(v.into_owned()));
    }
    let filled = |k: &str| {
        map.get(k)
            .and_then(|v| v.as_str())
            .is_some_and(|v| !v.trim().is_empty())
    };
    if !filled("access_token") && !filled("error") {
        return None;
    }
    serde_json::to_vec(&serde_json::Value::Object(map)).ok()
}

/// The body of an answer from a token endpoint (or the device authorization endpoint) as
/// JSON: the body itself, or a form answer as the JSON of its fields ([`form_as_json`]) when
/// it was not sent as JSON. The one reading of such answers, for the `oauth2` crate's calls
/// and for Latchkey's own (the device grant).
pub fn json_body<'a>(body: &'a [u8], content_type: &str) -> std::borrow::Cow<'a, [u8]> {
    if content_type.to_ascii_lowercase().contains("json") {
        return std::borrow::Cow::Borrowed(body);
    }
    match form_as_json(body) {
        Some(json) => std::borrow::Cow::Owned(json),
        None => std::borrow::Cow::Borrowed(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> LenientTokenResponse {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_form_encoded_answer_reads_as_the_json_of_its_fields() {
        let json = |b: &[u8]| -> serde_json::Value {
            serde_json::from_slice(&form_as_json(b).unwrap()).unwrap()
        };
        let r: LenientTokenResponse = serde_json::from_value(json(
            b"access_token=gho_abc&token_type=bearer&scope=repo%2Cgist&expires_in=28800\n",
        ))
        .unwrap();
        assert_eq!(r.access_token().secret(), "gho_abc");
        assert_eq!(
            r.expires_in().map(|d| d.as_secs()),
            Some(28800),
            "a string, read leniently"
        );
        assert_eq!(r.token_type(), &BasicTokenType::Bearer);
        assert_eq!(
            json(b"error=bad_verification_code&error_description=The+code+passed+is+incorrect"),
            json!({"error": "bad_verification_code", "error_description": "The code passed is incorrect"})
        );
        assert_eq!(json(b"access_token=a&access_token=b")["access_token"], "a");
        assert_eq!(
            form_as_json(b"{\"access_token\": \"a\"}"),
            None,
            "JSON stays JSON"
        );
        assert_eq!(form_as_json(b"<html>Bad gateway</html>"), None);
        assert_eq!(form_as_json(b"  "), None);
        assert_eq!(
            form_as_json(b"token_type=bearer"),
            None,
            "no token, no error"
        );
    }

    #[test]
    fn expires_in_is_read_as_real_servers_write_it() {
        let base = |e: serde_json::Value| {
            parse(json!({"access_token": "a", "token_type": "Bearer", "expires_in": e}))
                .expires_in()
                .map(|d| d.as_secs())
        };
        assert_eq!(base(json!(3600)), Some(3600));
        assert_eq!(base(json!("5250")), Some(5250), "Entra's string");
        assert_eq!(base(json!(3600.5)), Some(3600));
        assert_eq!(base(json!(0)), Some(0), "already expired");
        assert_eq!(base(json!("soon")), None);
        assert_eq!(base(json!("-5")), None);
        assert_eq!(base(json!(-5)), None);
        assert_eq!(base(json!("")), None);
        assert_eq!(base(json!(null)), None);
        assert_eq!(base(json!({"s": 1})), None);
        assert_eq!(
            base(json!(1e30)),
            Some(MAX_LIFETIME_SECS),
            "clamped, never overflowing"
        );
        assert_eq!(
            base(json!("99999999999999999999999")),
            Some(MAX_LIFETIME_SECS)
        );
        let absent = parse(json!({"access_token": "a", "token_type": "Bearer"}));
        assert_eq!(absent.expires_in(), None);
    }

    #[test]
    fn hostile_lifetimes_are_clamped_or_ignored_and_never_overflow() {
        let base = |e: serde_json::Value| {
            parse(json!({"access_token": "a", "token_type": "Bearer", "expires_in": e}))
                .expires_in()
                .map(|d| d.as_secs())
        };
        assert_eq!(base(json!(1u64 << 63)), Some(MAX_LIFETIME_SECS));
        assert_eq!(base(json!(u64::MAX)), Some(MAX_LIFETIME_SECS));
        assert_eq!(base(json!(1e300)), Some(MAX_LIFETIME_SECS));
        assert_eq!(base(json!(i64::MIN)), None);
        assert_eq!(base(json!(-1)), None);
        assert_eq!(base(json!(-1e300)), None);
        assert_eq!(base(json!("18446744073709551616")), Some(MAX_LIFETIME_SECS));
        // Whatever the answer and the clock, the end is a number, not an overflow.
        let late = u64::MAX - 5;
        assert_eq!(
            expires_at(Some(Duration::MAX), "t", true, late),
            Some(u64::MAX)
        );
        assert_eq!(expires_at(None, "opaque", true, late), Some(u64::MAX));
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"exp":18446744073709551615}"#);
        let jwt = format!("h.{claims}.s");
        assert_eq!(
            expires_at(None, &jwt, false, 10),
            Some(10 + MAX_LIFETIME_SECS)
        );
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"exp":-1e300}"#);
        assert_eq!(expires_at(None, &format!("h.{claims}.s"), false, 10), None);
    }

    #[test]
    fn token_type_in_any_case_or_missing_is_bearer_and_an_empty_scope_is_none() {
        let r = parse(json!({"access_token": "a", "token_type": "bearer", "scope": ""}));
        assert_eq!(r.token_type(), &BasicTokenType::Bearer);
        assert_eq!(r.scopes(), Some(&Vec::new()));
        let r = parse(json!({"access_token": "a", "scope": " mcp  read "}));
        assert_eq!(r.token_type(), &BasicTokenType::Bearer);
        let names: Vec<&str> = r.scopes().unwrap().iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["mcp", "read"]);
    }

    #[test]
    fn without_expires_in_the_jwt_exp_then_a_renewable_guess_then_unknown() {
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"sub":"x","exp":1700003600}"#);
        let jwt = format!("eyJhbGciOiJSUzI1NiJ9.{claims}.c2ln");
        let now = 1_700_000_000;
        assert_eq!(
            expires_at(Some(Duration::from_secs(60)), &jwt, true, now),
            Some(now + 60)
        );
        assert_eq!(expires_at(None, &jwt, false, now), Some(1_700_003_600));
        assert_eq!(
            expires_at(None, "opaque-token", true, now),
            Some(now + ASSUMED_LIFETIME.as_secs())
        );
        assert_eq!(expires_at(None, "opaque-token", false, now), None);
        assert_eq!(
            expires_at(None, "a.!!!.c", false, now),
            None,
            "junk is no JWT"
        );
    }

    #[test]
    fn an_empty_token_or_an_error_in_a_200_is_a_failure_with_the_servers_words() {
        assert!(check(&Secret::new("")).is_some());
        assert!(check(&Secret::new("  ")).is_some());
        assert!(check(&Secret::new("t")).is_none());
        assert_eq!(
            error_in_body(br#"{"ok":false,"error":"invalid_code"}"#),
            Some(("invalid_code".into(), None, None))
        );
        assert_eq!(
            error_in_body(br#"{"error":"invalid_grant","error_description":"expired"}"#),
            Some(("invalid_grant".into(), Some("expired".into()), None))
        );
        assert_eq!(error_in_body(br#"{"ok":false}"#), None);
        assert_eq!(error_in_body(b"<html>"), None);
    }
}
