//! `WWW-Authenticate` parsing (RFC 9110 §11.6.1): several headers, several challenges in one
//! header, quoted or bare values, escapes, odd case. Malformed input is an error, never a panic.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One challenge: a scheme and either auth-params or a token68.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: Vec<(String, String)>,
    pub token68: Option<String>,
}

impl Challenge {
    /// The value of a parameter; names compare case-insensitively.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_bearer(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("bearer")
    }
}

/// What a Bearer challenge (RFC 6750 §3, RFC 9728 §5.1) tells a client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BearerChallenge {
    pub resource_metadata: Option<String>,
    pub scope: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub realm: Option<String>,
}

impl BearerChallenge {
    pub fn scopes(&self) -> Vec<String> {
        self.scope
            .as_deref()
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub position: usize,
    pub problem: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at character {}", self.problem, self.position)
    }
}

impl std::error::Error for ParseError {}

/// Parses every header value and returns all challenges in order.
pub fn parse_all<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<Challenge>, ParseError> {
    let mut out = Vec::new();
    for v in values {
        out.extend(parse(v)?);
    }
    Ok(out)
}

/// The first Bearer challenge among all headers, with the parameters MCP clients use.
pub fn bearer<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Result<Option<BearerChallenge>, ParseError> {
    let all = parse_all(values)?;
    Ok(all.iter().find(|c| c.is_bearer()).map(|c| BearerChallenge {
        resource_metadata: c.param("resource_metadata").map(str::to_string),
        scope: c.param("scope").map(str::to_string),
        error: c.param("error").map(str::to_string),
        // A server may echo the rejected token in its description.
        error_description: c.param("error_description").map(crate::redact::text),
        realm: c.param("realm").map(str::to_string),
    }))
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn skip_ows_and_commas(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.pos += 1;
        }
    }

    fn token(&mut self) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        // tchars are ASCII, so this slice is valid UTF-8.
        std::str::from_utf8(&self.s[start..self.pos]).unwrap_or_default()
    }

    fn err(&self, problem: &'static str) -> ParseError {
        ParseError {
            position: self.pos,
            problem,
        }
    }

    fn quoted(&mut self) -> Result<String, ParseError> {
        debug_assert_eq!(self.peek(), Some(b'"'));
        self.pos += 1;
        let mut bytes = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.err("a quoted value is not closed")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(String::from_utf8_lossy(&bytes).into_owned());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b) => {
                            bytes.push(b);
                            self.pos += 1;
                        }
                        None => return Err(self.err("a quoted value ends in a backslash")),
                    }
                }
                Some(b) => {
                    bytes.push(b);
                    self.pos += 1;
                }
            }
        }
    }

    fn value(&mut self) -> Result<String, ParseError> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            _ => {
                // Lenient: servers send bare URLs (`resource_metadata=https://...`), which
                // are not tokens but are unambiguous up to the next comma or space.
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|b| (0x21..=0x7e).contains(&b) && !b"\",;\\".contains(&b))
                {
                    self.pos += 1;
                }
                let t = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
                if t.is_empty() {
                    Err(self.err("a parameter has no value"))
                } else {
                    Ok(t)
                }
            }
        }
    }

    /// At a token followed by `=` (and not token68 padding): an auth-param starts here.
    fn at_param(&self) -> bool {
        let mut i = self.pos;
        while self.s.get(i).copied().is_some_and(is_tchar) {
            i += 1;
        }
        if i == self.pos {
            return false;
        }
        while matches!(self.s.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        if self.s.get(i) != Some(&b'=') {
            return false;
        }
        // `name=` followed by more `=` or by the end/comma is token68 padding, not a param.
        let mut j = i + 1;
        while matches!(self.s.get(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        !matches!(self.s.get(j), None | Some(b',' | b'='))
    }
}

/// Parses one header value, which may hold several challenges.
pub fn parse(header: &str) -> Result<Vec<Challenge>, ParseError> {
    let mut c = Cursor {
        s: header.as_bytes(),
        pos: 0,
    };
    let mut out = Vec::new();
    loop {
        c.skip_ows_and_commas();
        if c.peek().is_none() {
            break;
        }
        let scheme = c.token();
        if scheme.is_empty() {
            return Err(c.err("expected an authentication scheme"));
        }
        let mut ch = Challenge {
            scheme: scheme.to_string(),
            params: Vec::new(),
            token68: None,
        };
        let before_space = c.pos;
        c.skip_ows();
        if c.pos == before_space && !matches!(c.peek(), None | Some(b',')) {
            return Err(c.err("unexpected character after the scheme"));
        }
        if c.peek().is_some() && c.peek() != Some(b',') {
            if c.at_param() {
                parse_params(&mut c, &mut ch)?;
            } else {
                let start = c.pos;
                while c.peek().is_some_and(is_token68_char) {
                    c.pos += 1;
                }
                while c.peek() == Some(b'=') {
                    c.pos += 1;
                }
                if c.pos == start {
                    return Err(c.err("unexpected character in a challenge"));
                }
                ch.token68 = Some(String::from_utf8_lossy(&c.s[start..c.pos]).into_owned());
                c.skip_ows();
                if !matches!(c.peek(), None | Some(b',')) {
                    return Err(c.err("unexpected text after a token68 value"));
                }
            }
        }
        out.push(ch);
    }
    Ok(out)
}

fn parse_params(c: &mut Cursor<'_>, ch: &mut Challenge) -> Result<(), ParseError> {
    loop {
        let name = c.token().to_ascii_lowercase();
        c.skip_ows();
        if c.peek() != Some(b'=') {
            return Err(c.err("a parameter has no '='"));
        }
        c.pos += 1;
        c.skip_ows();
        let value = c.value()?;
        ch.params.push((name, value));
        c.skip_ows();
        match c.peek() {
            None => return Ok(()),
            Some(b',') => {
                let save = c.pos;
                c.skip_ows_and_commas();
                if c.peek().is_none() {
                    return Ok(());
                }
                if !c.at_param() {
                    // A new challenge starts here.
                    c.pos = save;
                    return Ok(());
                }
            }
            Some(_) => return Err(c.err("expected ',' between parameters")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_with_quoted_params() {
        let v = r#"Bearer error="invalid_request", error_description="No access token was provided in this request", resource_metadata="https://api.githubcopilot.com/.well-known/oauth-protected-resource/mcp""#;
        let b = bearer([v]).unwrap().unwrap();
        assert_eq!(b.error.as_deref(), Some("invalid_request"));
        assert_eq!(
            b.resource_metadata.as_deref(),
            Some("https://api.githubcopilot.com/.well-known/oauth-protected-resource/mcp")
        );
        assert_eq!(
            b.error_description.as_deref(),
            Some("No access token was provided in this request")
        );
    }

    #[test]
    fn several_challenges_in_one_header() {
        let v = r#"Basic realm="x", DPoP algs="ES256 PS256", Bearer resource_metadata="https://a/prm", scope="mcp:read mcp:write""#;
        let all = parse(v).unwrap();
        let schemes: Vec<_> = all.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["Basic", "DPoP", "Bearer"]);
        assert_eq!(all[1].param("algs"), Some("ES256 PS256"));
        let b = bearer([v]).unwrap().unwrap();
        assert_eq!(b.scopes(), ["mcp:read", "mcp:write"]);
    }

    #[test]
    fn several_headers() {
        let b = bearer([r#"Basic realm="api""#, r#"bearer scope=mcp"#])
            .unwrap()
            .unwrap();
        assert_eq!(b.scope.as_deref(), Some("mcp"));
    }

    #[test]
    fn commas_and_escapes_inside_quotes() {
        let v = r#"Bearer realm="a, b", error_description="say \"hi\", then \\ go", scope="x""#;
        let all = parse(v).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].param("realm"), Some("a, b"));
        assert_eq!(
            all[0].param("error_description"),
            Some(r#"say "hi", then \ go"#)
        );
        assert_eq!(all[0].param("scope"), Some("x"));
    }

    #[test]
    fn bare_values_odd_case_and_spacing() {
        let v = "BEARER   Resource_Metadata = https://x/prm ,SCOPE=mcp  ,  Error=invalid_token";
        let all = parse(v).unwrap();
        assert_eq!(all.len(), 1);
        assert!(all[0].is_bearer());
        assert_eq!(all[0].param("resource_metadata"), Some("https://x/prm"));
        assert_eq!(all[0].param("scope"), Some("mcp"));
        assert_eq!(all[0].param("error"), Some("invalid_token"));
    }

    #[test]
    fn bare_scheme_and_token68() {
        let all = parse("Bearer, Negotiate abc+/def==, Basic").unwrap();
        assert_eq!(all.len(), 3);
        assert!(all[0].params.is_empty());
        assert_eq!(all[1].token68.as_deref(), Some("abc+/def=="));
        assert_eq!(all[2].scheme, "Basic");
        assert!(bearer(["Bearer"]).unwrap().unwrap().scope.is_none());
    }

    #[test]
    fn empty_and_no_bearer() {
        assert!(parse("").unwrap().is_empty());
        assert!(bearer([r#"Basic realm="x""#]).unwrap().is_none());
    }

    #[test]
    fn malformed_input_is_an_error() {
        for bad in [
            r#"Bearer scope="unterminated"#,
            r#"Bearer scope="x\"#,
            "Bearer a=1, =b",
            r#"Bearer scope="a" junk"#,
            "=oops",
            "Bearer realm=x;y",
            "Bearer @@@",
            "Bearer\u{0}scope=x",
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}: {:?}", parse(bad));
        }
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        // A cheap deterministic fuzz over short strings of the characters that matter.
        let alphabet: Vec<char> = "Bb ,=\"\\\tx/é:".chars().collect();
        let mut seed: u64 = 0x9e3779b97f4a7c15;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 24) as usize;
            let s: String = (0..len)
                .map(|i| alphabet[((seed >> (i % 60)) as usize + i) % alphabet.len()])
                .collect();
            let _ = parse(&s);
        }
    }
}
