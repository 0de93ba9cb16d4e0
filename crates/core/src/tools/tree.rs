//! One small value tree for every config syntax the tools use (JSON, JSON with comments, TOML),
//! with the byte offset of every value, so a problem can be reported at its line and column.

/// The syntax a config file is read with, chosen to match what the tool itself accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syntax {
    /// Plain JSON, as `JSON.parse` reads it: no comments, no trailing commas.
    Json,
    /// JSON with `//` and `/* */` comments but no trailing commas (strip-json-comments + JSON.parse).
    JsonComments,
    /// JSON with comments and trailing commas (VS Code's and Zed's settings parser).
    Jsonc,
    Toml,
}

/// Values nested deeper than this are kept as an opaque value: no tool reads MCP settings
/// that deep, and it bounds the recursion on hostile input.
const MAX_DEPTH: usize = 24;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// Byte offset of the value in the file's text.
    pub pos: usize,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Null,
    Bool(bool),
    Number(String),
    Str(String),
    Array(Vec<Node>),
    /// Members in file order; duplicate keys are kept here and resolved by [`Node::members`].
    Object(Vec<(String, Node)>),
    /// Something the readers never need (a TOML date, a value nested too deep).
    Other,
}

impl Node {
    /// The members of an object as the tools see them: a key that appears twice takes its last
    /// value (as `JSON.parse` does) at the place of its first appearance.
    pub fn members(&self) -> Option<Vec<(&str, &Node)>> {
        let Kind::Object(members) = &self.kind else {
            return None;
        };
        let mut out: Vec<(&str, &Node)> = Vec::with_capacity(members.len());
        for (k, v) in members {
            match out.iter_mut().find(|(seen, _)| *seen == k.as_str()) {
                Some(slot) => slot.1 = v,
                None => out.push((k.as_str(), v)),
            }
        }
        Some(out)
    }

    /// The value of `key` in an object (the last one, if the key is repeated).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.kind {
            Kind::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Node]> {
        match &self.kind {
            Kind::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self.kind, Kind::Object(_))
    }

    /// What the value is, in words for an error message ("is a number").
    pub fn describe(&self) -> &'static str {
        match self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "true/false",
            Kind::Number(_) => "a number",
            Kind::Str(_) => "text",
            Kind::Array(_) => "a list",
            Kind::Object(_) => "an object",
            Kind::Other => "some other kind of value",
        }
    }
}

/// A syntax error: where (byte offset) and what, in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub pos: usize,
    pub message: String,
}

/// Parses a whole config file. Never panics, whatever the input.
pub(crate) fn parse(text: &str, syntax: Syntax) -> Result<Node, SyntaxError> {
    if text.trim().is_empty() {
        return Err(SyntaxError {
            pos: 0,
            message: "the file is empty (it may be in the middle of being written)".into(),
        });
    }
    match syntax {
        Syntax::Toml => parse_toml(text),
        _ => parse_json(text, syntax),
    }
}

/// How deeply `[` and `{` may nest in a config file. Real configs nest a few levels; a
/// file nested deeper is refused before parsing, so no input can exhaust the stack.
pub(crate) const MAX_NESTING: usize = 128;

/// The byte offset of the first `[` or `{` nested deeper than [`MAX_NESTING`] in JSON (with
/// comments allowed), if any. Strings and comments are skipped; no recursion.
pub(crate) fn too_deep(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let (mut i, mut depth) = (0, 0usize);
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 1;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

fn parse_json(text: &str, syntax: Syntax) -> Result<Node, SyntaxError> {
    use jsonc_parser::errors::ParseErrorKind as K;
    if let Some(pos) = too_deep(text) {
        return Err(SyntaxError {
            pos,
            message: format!(
                "not valid here: lists and objects are nested more than {MAX_NESTING} levels deep"
            ),
        });
    }
    let lenient = syntax == Syntax::Jsonc;
    let options = jsonc_parser::ParseOptions {
        allow_comments: syntax != Syntax::Json,
        allow_trailing_commas: lenient,
        allow_loose_object_property_names: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    let parsed = jsonc_parser::parse_to_ast(text, &Default::default(), &options);
    let result = match parsed {
        Ok(r) => r,
        Err(e) => {
            let what = match e.kind() {
                K::UnterminatedObject | K::UnterminatedArray => {
                    // Reported where the unclosed `{` or `[` starts; a cut-off file is what
                    // people actually see, so say so and point at the end.
                    return Err(SyntaxError {
                        pos: text.trim_end().len(),
                        message: "the file ends before every { and [ is closed (it may be cut off, or still being written)".into(),
                    });
                }
                K::CommentsNotAllowed => {
                    "comments are not allowed in this file (the tool reads it as plain JSON)".into()
                }
                K::TrailingCommasNotAllowed => {
                    "a comma before a closing } or ] is not allowed in this file".into()
                }
                K::ExpectedComma => "a comma is missing between two entries".into(),
                K::ExpectedColonAfterObjectKey => "a colon is missing after a name".into(),
                K::ExpectedStringObjectProperty | K::UnexpectedWord => {
                    "expected a name in double quotes".into()
                }
                other => lower_first(&other.to_string()),
            };
            return Err(SyntaxError {
                pos: e.range().start,
                message: format!("not valid JSON: {what}"),
            });
        }
    };
    match result.value {
        Some(v) => Ok(from_json(&v, 0)),
        None => Err(SyntaxError {
            pos: 0,
            message: "the file holds no JSON value, only comments or blanks".into(),
        }),
    }
}

fn from_json(v: &jsonc_parser::ast::Value<'_>, depth: usize) -> Node {
    use jsonc_parser::ast::Value as V;
    let (pos, kind) = match v {
        V::StringLit(s) => (s.range.start, Kind::Str(s.value.to_string())),
        V::NumberLit(n) => (n.range.start, Kind::Number(n.value.to_string())),
        V::BooleanLit(b) => (b.range.start, Kind::Bool(b.value)),
        V::NullKeyword(n) => (n.range.start, Kind::Null),
        V::Array(a) if depth < MAX_DEPTH => (
            a.range.start,
            Kind::Array(a.elements.iter().map(|e| from_json(e, depth + 1)).collect()),
        ),
        V::Object(o) if depth < MAX_DEPTH => (
            o.range.start,
            Kind::Object(
                o.properties
                    .iter()
                    .map(|p| (p.name.as_str().to_string(), from_json(&p.value, depth + 1)))
                    .collect(),
            ),
        ),
        V::Array(a) => (a.range.start, Kind::Other),
        V::Object(o) => (o.range.start, Kind::Other),
    };
    Node { pos, kind }
}

fn parse_toml(text: &str) -> Result<Node, SyntaxError> {
    match toml_edit::Document::parse(text) {
        Ok(doc) => Ok(match doc.as_item() {
            toml_edit::Item::Table(t) => from_toml_table(t, 0, 0),
            other => from_toml_item(other, 0, 0),
        }),
        Err(e) => Err(SyntaxError {
            pos: e.span().map(|s| s.start).unwrap_or(0),
            message: format!("not valid TOML: {}", lower_first(e.message().trim())),
        }),
    }
}

fn from_toml_table(t: &toml_edit::Table, fallback: usize, depth: usize) -> Node {
    let pos = t.span().map(|s| s.start).unwrap_or(fallback);
    if depth >= MAX_DEPTH {
        return Node {
            pos,
            kind: Kind::Other,
        };
    }
    let members = t
        .iter()
        .filter(|(_, item)| !item.is_none())
        .map(|(k, item)| {
            let key_pos = t
                .key(k)
                .and_then(|key| key.span())
                .map(|s| s.start)
                .unwrap_or(pos);
            (k.to_string(), from_toml_item(item, key_pos, depth + 1))
        })
        .collect();
    Node {
        pos,
        kind: Kind::Object(members),
    }
}

fn from_toml_item(item: &toml_edit::Item, fallback: usize, depth: usize) -> Node {
    match item {
        toml_edit::Item::Value(v) => from_toml_value(v, fallback, depth),
        toml_edit::Item::Table(t) => from_toml_table(t, fallback, depth),
        toml_edit::Item::ArrayOfTables(a) => {
            let pos = a.span().map(|s| s.start).unwrap_or(fallback);
            let kind = if depth >= MAX_DEPTH {
                Kind::Other
            } else {
                Kind::Array(
                    a.iter()
                        .map(|t| from_toml_table(t, pos, depth + 1))
                        .collect(),
                )
            };
            Node { pos, kind }
        }
        toml_edit::Item::None => Node {
            pos: fallback,
            kind: Kind::Null,
        },
    }
}

fn from_toml_value(v: &toml_edit::Value, fallback: usize, depth: usize) -> Node {
    use toml_edit::Value as V;
    let pos = v.span().map(|s| s.start).unwrap_or(fallback);
    let kind = match v {
        V::String(s) => Kind::Str(s.value().clone()),
        V::Integer(i) => Kind::Number(i.value().to_string()),
        V::Float(f) => Kind::Number(f.value().to_string()),
        V::Boolean(b) => Kind::Bool(*b.value()),
        V::Datetime(_) => Kind::Other,
        _ if depth >= MAX_DEPTH => Kind::Other,
        V::Array(a) => Kind::Array(
            a.iter()
                .map(|e| from_toml_value(e, pos, depth + 1))
                .collect(),
        ),
        V::InlineTable(t) => Kind::Object(
            t.iter()
                .map(|(k, e)| {
                    let key_pos = t
                        .key(k)
                        .and_then(|key| key.span())
                        .map(|s| s.start)
                        .unwrap_or(pos);
                    (k.to_string(), from_toml_value(e, key_pos, depth + 1))
                })
                .collect(),
        ),
    };
    Node { pos, kind }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// 1-based line and column (in characters) of a byte offset; offsets past the end or inside a
/// character are clamped, never a panic.
pub(crate) fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let mut pos = pos.min(text.len());
    while !text.is_char_boundary(pos) {
        pos -= 1;
    }
    let before = &text[..pos];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = text[line_start..pos].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_flavours() {
        let with_comment = "{\n  // note\n  \"a\": 1\n}";
        assert!(parse(with_comment, Syntax::Json).is_err());
        assert!(parse(with_comment, Syntax::JsonComments).is_ok());
        let trailing = "{\"a\": [1, 2,],}";
        assert!(parse(trailing, Syntax::JsonComments).is_err());
        assert!(parse(trailing, Syntax::Jsonc).is_ok());
        let missing_comma = "{\"a\": 1\n \"b\": 2}";
        let e = parse(missing_comma, Syntax::Jsonc).unwrap_err();
        // Right where the comma belongs.
        assert_eq!(line_col(missing_comma, e.pos), (1, 8), "{e:?}");
        assert!(e.message.contains("comma"), "{e:?}");
    }

    #[test]
    fn truncated_json_points_at_the_end() {
        let text = "{\n  \"mcpServers\": {\n    \"a\": {\"url\": \"https://x\"}";
        let e = parse(text, Syntax::Json).unwrap_err();
        assert_eq!(line_col(text, e.pos), (3, 30));
        assert!(e.message.contains("cut off"), "{e:?}");
    }

    #[test]
    fn positions_and_duplicates() {
        let text = "{\"a\": 1, \"b\": {\"c\": \"x\"}, \"a\": 2}";
        let n = parse(text, Syntax::Json).unwrap();
        let m = n.members().unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].0, "a");
        assert_eq!(m[0].1.kind, Kind::Number("2".into()));
        let c = n.get("b").unwrap().get("c").unwrap();
        assert_eq!(&text[c.pos..c.pos + 3], "\"x\"");
    }

    #[test]
    fn toml_positions() {
        let text = "model = \"x\"\n\n[mcp_servers.docs]\nurl = \"https://d/mcp\"\n";
        let n = parse(text, Syntax::Toml).unwrap();
        let url = n
            .get("mcp_servers")
            .unwrap()
            .get("docs")
            .unwrap()
            .get("url")
            .unwrap();
        assert_eq!(url.as_str(), Some("https://d/mcp"));
        assert_eq!(line_col(text, url.pos).0, 4);
        let bad = "[mcp_servers.docs]\nurl = \"https://d/mcp\n";
        let e = parse(bad, Syntax::Toml).unwrap_err();
        assert_eq!(line_col(bad, e.pos).0, 2);
    }

    #[test]
    fn a_hundred_thousand_nested_arrays_are_refused_without_a_stack_overflow() {
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        for syntax in [Syntax::Json, Syntax::Jsonc] {
            let e = parse(&deep, syntax).unwrap_err();
            assert_eq!(e.pos, MAX_NESTING);
            assert!(e.message.contains("nested more than 128"), "{}", e.message);
        }
        let objects = "{\"a\":".repeat(100_000) + "1" + &"}".repeat(100_000);
        assert!(parse(&objects, Syntax::Jsonc).is_err());
        // Brackets inside strings and comments do not count.
        let fine = format!(
            "{{\"a\": \"{}\" /* {} */}}",
            "[".repeat(500),
            "{".repeat(500)
        );
        assert!(parse(&fine, Syntax::Jsonc).is_ok());
        let deep_toml = format!("a = {}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(&deep_toml, Syntax::Toml).is_err());
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let deep = "[".repeat(5000) + &"]".repeat(5000);
        let _ = parse(&deep, Syntax::Jsonc);
        let deep_toml = format!("a = {}{}", "[".repeat(5000), "]".repeat(5000));
        let _ = parse(&deep_toml, Syntax::Toml);
        assert_eq!(line_col("ab\u{e9}c", 3), (1, 3));
        assert_eq!(line_col("x", 99), (1, 2));
    }
}
