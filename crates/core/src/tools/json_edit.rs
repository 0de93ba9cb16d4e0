//! Edits of JSON (and JSON with comments) that change only the bytes they mean to change:
//! the value of one member is replaced, or one member is inserted, and every other byte,
//! comments, key order and formatting included, stays as it was.

use crate::tools::tree::MAX_NESTING;
use std::ops::Range;

/// Why an edit was refused: what is wrong with the text, and at which line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditError(pub String);

impl std::fmt::Display for EditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A member of an object: its key, the span of the key string, and the span of its value.
#[derive(Debug, Clone)]
struct Member {
    key: String,
    key_span: Range<usize>,
    value: Range<usize>,
}

struct Scanner<'a> {
    s: &'a [u8],
    pos: usize,
    /// How many `[` and `{` enclose `pos` (at most [`MAX_NESTING`]).
    depth: usize,
}

impl<'a> Scanner<'a> {
    fn err(&self, what: &str) -> EditError {
        let line = self.s[..self.pos.min(self.s.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        EditError(format!("{what} at line {line}"))
    }

    /// Skips whitespace and `//` and `/* */` comments.
    fn skip(&mut self) -> Result<(), EditError> {
        loop {
            match self.s.get(self.pos) {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.pos += 1,
                Some(b'/') if self.s.get(self.pos + 1) == Some(&b'/') => {
                    while !matches!(self.s.get(self.pos), None | Some(b'\n')) {
                        self.pos += 1;
                    }
                }
                Some(b'/') if self.s.get(self.pos + 1) == Some(&b'*') => {
                    self.pos += 2;
                    loop {
                        match self.s.get(self.pos) {
                            None => return Err(self.err("a comment is not closed")),
                            Some(b'*') if self.s.get(self.pos + 1) == Some(&b'/') => {
                                self.pos += 2;
                                break;
                            }
                            _ => self.pos += 1,
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn string(&mut self) -> Result<String, EditError> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.s.get(self.pos) {
                None => return Err(self.err("a string is not closed")),
                Some(b'\\') => self.pos += 2,
                Some(b'"') => {
                    self.pos += 1;
                    let raw = std::str::from_utf8(&self.s[start..self.pos])
                        .map_err(|_| self.err("invalid UTF-8"))?;
                    return serde_json::from_str(raw).map_err(|_| self.err("a bad string escape"));
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    /// One level deeper, refused past [`MAX_NESTING`] so no file can exhaust the stack.
    fn enter(&mut self) -> Result<(), EditError> {
        if self.depth >= MAX_NESTING {
            return Err(self.err(&format!(
                "lists and objects nested more than {MAX_NESTING} levels deep"
            )));
        }
        self.depth += 1;
        Ok(())
    }

    /// Skips one value and returns its span.
    fn value(&mut self) -> Result<Range<usize>, EditError> {
        self.skip()?;
        let start = self.pos;
        match self.s.get(self.pos) {
            None => return Err(self.err("a value is missing")),
            Some(b'"') => {
                self.string()?;
            }
            Some(b'{') => {
                self.enter()?;
                self.members()?;
                self.depth -= 1;
            }
            Some(b'[') => {
                self.enter()?;
                self.pos += 1;
                loop {
                    self.skip()?;
                    match self.s.get(self.pos) {
                        Some(b']') => {
                            self.pos += 1;
                            self.depth -= 1;
                            break;
                        }
                        Some(b',') => self.pos += 1,
                        None => return Err(self.err("an array is not closed")),
                        _ => {
                            self.value()?;
                        }
                    }
                }
            }
            Some(_) => {
                while self
                    .s
                    .get(self.pos)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b"+-.".contains(b))
                {
                    self.pos += 1;
                }
                if self.pos == start {
                    return Err(self.err("unexpected character"));
                }
            }
        }
        Ok(start..self.pos)
    }

    /// At `{`: reads the object's members and returns them.
    fn members(&mut self) -> Result<Vec<Member>, EditError> {
        if self.s.get(self.pos) != Some(&b'{') {
            return Err(self.err("expected an object"));
        }
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            self.skip()?;
            match self.s.get(self.pos) {
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b',') => self.pos += 1,
                Some(b'"') => {
                    let ks = self.pos;
                    let key = self.string()?;
                    let key_span = ks..self.pos;
                    self.skip()?;
                    if self.s.get(self.pos) != Some(&b':') {
                        return Err(self.err("expected ':' after a key"));
                    }
                    self.pos += 1;
                    let value = self.value()?;
                    out.push(Member {
                        key,
                        key_span,
                        value,
                    });
                }
                None => return Err(self.err("an object is not closed")),
                _ => return Err(self.err("expected a key")),
            }
        }
    }
}

/// The member named `key` among `members`, or `None`. An object that names `key` twice is
/// refused: tools disagree on which one they read (most JSON readers take the last), so an
/// edit of "the" entry could change one and later put back the other.
fn member<'m>(members: &'m [Member], key: &str) -> Result<Option<&'m Member>, EditError> {
    let mut found = members.iter().filter(|m| m.key == key);
    let first = found.next();
    if first.is_some() && found.next().is_some() {
        return Err(EditError(format!(
            "it names {key:?} twice in the same object, and tools differ on which one they use: remove or rename one of them, then try again"
        )));
    }
    Ok(first)
}

/// The span of the object at `path` (keys from the top), or None when a key is missing.
fn object_at(text: &str, path: &[&str]) -> Result<Option<Range<usize>>, EditError> {
    let mut sc = Scanner {
        s: text.as_bytes(),
        pos: 0,
        depth: 0,
    };
    sc.skip()?;
    let mut span = sc.value()?;
    for key in path {
        if text.as_bytes().get(span.start) != Some(&b'{') {
            return Err(EditError(format!("{key:?} is not inside an object")));
        }
        let mut inner = Scanner {
            s: text.as_bytes(),
            pos: span.start,
            depth: 0,
        };
        match member(&inner.members()?, key)? {
            Some(m) => span = m.value.clone(),
            None => return Ok(None),
        }
    }
    if text.as_bytes().get(span.start) != Some(&b'{') {
        return Err(EditError(format!("{} is not an object", path.join("."))));
    }
    Ok(Some(span))
}

/// The span of the object at `path` (keys from the top), for tests that check an edit stayed
/// inside one entry.
#[cfg(test)]
pub(crate) fn span_of(text: &str, path: &[&str]) -> Option<Range<usize>> {
    object_at(text, path).ok().flatten()
}

/// The indentation of the line that holds byte `at`.
fn indent_of(text: &str, at: usize) -> &str {
    let line_start = text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line = &text[line_start..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// Sets `key` to the JSON `value` in the object at `path`, creating missing objects on the
/// way. Only the member's value (or the inserted member) changes.
pub fn set_member(
    text: &str,
    path: &[&str],
    key: &str,
    value: &serde_json::Value,
) -> Result<String, EditError> {
    set_member_with(text, path, key, &|indent| render(value, indent))
}

/// Like [`set_member`], with an object value whose members keep the order given (a tool's
/// entry reads as people write it: `command` before `args`).
pub fn set_object_member(
    text: &str,
    path: &[&str],
    key: &str,
    members: &[(&str, serde_json::Value)],
) -> Result<String, EditError> {
    let unit = guess_indent_unit(text);
    set_member_with(text, path, key, &|indent| {
        render_members(members, indent, &unit)
    })
}

/// `{` and the members, one a line, at `indent` plus `unit`, then `}` at `indent`.
fn render_members(members: &[(&str, serde_json::Value)], indent: &str, unit: &str) -> String {
    let inner = format!("{indent}{unit}");
    let lines: Vec<String> = members
        .iter()
        .map(|(k, v)| {
            let key = serde_json::to_string(k).unwrap_or_default();
            format!("{inner}{key}: {}", render(v, &inner))
        })
        .collect();
    format!("{{\n{}\n{indent}}}", lines.join(",\n"))
}

fn set_member_with(
    text: &str,
    path: &[&str],
    key: &str,
    rendered: &dyn Fn(&str) -> String,
) -> Result<String, EditError> {
    // Create the path one level at a time, outermost first.
    for depth in 0..path.len() {
        if object_at(text, &path[..=depth])?.is_none() {
            let with = set_member(text, &path[..depth], path[depth], &serde_json::json!({}))?;
            return set_member_with(&with, path, key, rendered);
        }
    }
    let obj = object_at(text, path)?.ok_or_else(|| EditError("missing object".into()))?;
    let mut sc = Scanner {
        s: text.as_bytes(),
        pos: obj.start,
        depth: 0,
    };
    let members = sc.members()?;
    if let Some(m) = member(&members, key)? {
        let indent = indent_of(text, m.key_span.start);
        let rendered = rendered(indent);
        return Ok(format!(
            "{}{}{}",
            &text[..m.value.start],
            rendered,
            &text[m.value.end..]
        ));
    }
    let key_json = serde_json::to_string(key).map_err(|e| EditError(e.to_string()))?;
    match members.last() {
        Some(last) => {
            // Same layout as the previous member: on its own line with its indentation, or
            // inline when the object is written on one line.
            let between = &text[members
                .get(members.len().wrapping_sub(2))
                .map(|m| m.value.end)
                .unwrap_or(obj.start + 1)..last.key_span.start];
            let indent = indent_of(text, last.key_span.start);
            let sep = if between.contains('\n') {
                format!(",\n{indent}")
            } else if members.len() == 1 {
                let after_brace = &text[obj.start + 1..last.key_span.start];
                if after_brace.contains('\n') {
                    format!(",\n{indent}")
                } else {
                    ", ".to_string()
                }
            } else {
                ", ".to_string()
            };
            let colon = colon_style(text, last);
            let rendered = rendered(if sep.contains('\n') { indent } else { "" });
            Ok(format!(
                "{}{sep}{key_json}{colon}{rendered}{}",
                &text[..last.value.end],
                &text[last.value.end..]
            ))
        }
        None => {
            // An empty object: lay the member out one level deeper than the brace's line.
            let outer = indent_of(text, obj.start);
            let unit = guess_indent_unit(text);
            let inner = format!("{outer}{unit}");
            let rendered = rendered(&inner);
            Ok(format!(
                "{}{{\n{inner}{key_json}: {rendered}\n{outer}}}{}",
                &text[..obj.start],
                &text[obj.end..]
            ))
        }
    }
}

fn colon_style(text: &str, m: &Member) -> String {
    let between = &text[m.key_span.end..m.value.start];
    between.to_string()
}

fn guess_indent_unit(text: &str) -> String {
    for line in text.lines() {
        let trimmed = line.trim_start_matches([' ', '\t']);
        let n = line.len() - trimmed.len();
        if n > 0 && !trimmed.is_empty() {
            return line[..n].to_string();
        }
    }
    "  ".to_string()
}

/// Pretty JSON whose continuation lines start at `indent`, as a value placed on a line that
/// is indented by `indent`.
fn render(value: &serde_json::Value, indent: &str) -> String {
    let pretty = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
    let mut out = String::new();
    for (i, line) in pretty.lines().enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(indent);
        }
        out.push_str(line);
    }
    out
}

/// The byte span of the value at `path` (keys from the top): what an edit of one entry
/// replaces, and what is kept to put it back. `None` when a key is missing.
pub fn value_span(text: &str, path: &[&str]) -> Result<Option<Range<usize>>, EditError> {
    let Some((last, parent)) = path.split_last() else {
        return Err(EditError("empty path".into()));
    };
    let Some(obj) = object_at(text, parent)? else {
        return Ok(None);
    };
    let mut sc = Scanner {
        s: text.as_bytes(),
        pos: obj.start,
        depth: 0,
    };
    Ok(member(&sc.members()?, last)?.map(|m| m.value.clone()))
}

/// Removes the member `key` of the object at `path`, with the separator that joined it to
/// its neighbours, so that removing a member [`set_member`] inserted gives back the text as it
/// was. An object left empty is written `{}`. Unchanged when the member is not there.
pub fn remove_member(text: &str, path: &[&str], key: &str) -> Result<String, EditError> {
    let Some(obj) = object_at(text, path)? else {
        return Ok(text.to_string());
    };
    let mut sc = Scanner {
        s: text.as_bytes(),
        pos: obj.start,
        depth: 0,
    };
    let members = sc.members()?;
    if member(&members, key)?.is_none() {
        return Ok(text.to_string());
    }
    let Some(i) = members.iter().position(|m| m.key == key) else {
        return Ok(text.to_string());
    };
    let m = &members[i];
    let cut = if members.len() == 1 {
        obj.start..obj.end
    } else if i > 0 {
        // From the end of the previous value: its comma, the layout and the member.
        members[i - 1].value.end..m.value.end
    } else {
        // The first of several: the member, its comma, and the layout before the next key.
        m.key_span.start..members[1].key_span.start
    };
    let replacement = if members.len() == 1 { "{}" } else { "" };
    Ok(format!(
        "{}{replacement}{}",
        &text[..cut.start],
        &text[cut.end..]
    ))
}

/// The parsed value of a span of JSON (comments and trailing commas allowed), to compare an
/// entry with what was written whatever its layout.
pub fn parse_value(raw: &str) -> Result<serde_json::Value, EditError> {
    serde_json::from_str(&strip_comments(raw))
        .map_err(|e| EditError(format!("the value is not plain JSON ({e})")))
}

/// The parsed value at `path`, for checks before and after an edit. Comments are allowed.
pub fn get(text: &str, path: &[&str]) -> Result<Option<serde_json::Value>, EditError> {
    let (last, parent) = match path.split_last() {
        Some(x) => x,
        None => return Err(EditError("empty path".into())),
    };
    let Some(obj) = object_at(text, parent)? else {
        return Ok(None);
    };
    let mut sc = Scanner {
        s: text.as_bytes(),
        pos: obj.start,
        depth: 0,
    };
    let members = sc.members()?;
    match member(&members, last)? {
        None => Ok(None),
        Some(m) => {
            let raw = strip_comments(&text[m.value.clone()]);
            serde_json::from_str(&raw)
                .map(Some)
                .map_err(|e| EditError(format!("the value of {last:?} is not plain JSON ({e})")))
        }
    }
}

/// JSON with comments and trailing commas to plain JSON: strings are copied as they are.
fn strip_comments(s: &str) -> String {
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(b.len());
                out.extend_from_slice(&b[start..i]);
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b',' => {
                let mut k = i + 1;
                while k < b.len() && b[k].is_ascii_whitespace() {
                    k += 1;
                }
                if !matches!(b.get(k), Some(b'}' | b']')) {
                    out.push(b',');
                }
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CLAUDE: &str = r#"{
  "numStartups": 12,
  "mcpServers": {
    "gitlab": {
      "type": "http",
      "url": "https://gitlab.example.com/api/v4/mcp"
    },
    "local": {
      "command": "npx",
      "args": ["-y", "some-server"]
    }
  },
  "projects": {}
}
"#;

    use crate::tools::test_support::changed_range as changed_only_inside;

    #[test]
    fn inserts_one_member_in_the_siblings_style() {
        let out = set_member(
            CLAUDE,
            &["mcpServers", "gitlab"],
            "headersHelper",
            &json!("latchkey headers"),
        )
        .unwrap();
        assert_eq!(
            out,
            CLAUDE.replace(
                "\"url\": \"https://gitlab.example.com/api/v4/mcp\"\n",
                "\"url\": \"https://gitlab.example.com/api/v4/mcp\",\n      \"headersHelper\": \"latchkey headers\"\n"
            )
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v["mcpServers"]["gitlab"]["headersHelper"],
            "latchkey headers"
        );
        assert_eq!(v["mcpServers"]["local"]["args"][1], "some-server");
    }

    #[test]
    fn replaces_only_the_value() {
        let once = set_member(
            CLAUDE,
            &["mcpServers", "gitlab"],
            "url",
            &json!("https://x/mcp"),
        )
        .unwrap();
        let (from, to) = changed_only_inside(CLAUDE, &once);
        let old_value = CLAUDE.find("\"https://gitlab").unwrap();
        assert!(
            from >= old_value
                && to <= old_value + "\"https://gitlab.example.com/api/v4/mcp\"".len(),
            "{from}..{to}"
        );
    }

    #[test]
    fn creates_missing_objects_and_fills_empty_ones() {
        let out = set_member(
            CLAUDE,
            &["projects", "/home/a/p", "mcpServers", "s"],
            "headersHelper",
            &json!("h"),
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v["projects"]["/home/a/p"]["mcpServers"]["s"]["headersHelper"],
            "h"
        );
        assert!(out.starts_with(&CLAUDE[..CLAUDE.find("\"projects\"").unwrap()]));
        let empty =
            set_member("{}", &[], "mcpOAuth", &json!({"a|1": {"accessToken": "t"}})).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&empty).unwrap()["mcpOAuth"]["a|1"]
                ["accessToken"],
            "t"
        );
    }

    #[test]
    fn keeps_comments_and_trailing_commas_of_jsonc() {
        let vscode = "{\n  // my servers\n  \"servers\": {\n    \"gl\": { \"type\": \"http\", \"url\": \"https://g/mcp\", }, /* keep */\n  },\n}\n";
        let out = set_member(
            vscode,
            &["servers", "gl"],
            "headers",
            &json!({"Authorization": "x"}),
        )
        .unwrap();
        assert!(out.contains("// my servers") && out.contains("/* keep */"));
        assert!(
            out.contains("\"url\": \"https://g/mcp\", \"headers\": {"),
            "{out}"
        );
        assert_eq!(
            get(&out, &["servers", "gl", "headers"]).unwrap().unwrap()["Authorization"],
            "x"
        );
    }

    #[test]
    fn malformed_input_is_an_error_with_a_line() {
        for bad in [
            "{\n\"a\": \n",
            "{\"a\" 1}",
            "[1, 2",
            "{\"a\": \"x}",
            "{/* open",
        ] {
            let e = set_member(bad, &[], "k", &json!(1)).unwrap_err();
            assert!(e.0.contains("line"), "{bad:?}: {e}");
        }
        assert!(set_member("{\"a\": 1}", &["a"], "k", &json!(1)).is_err());
    }

    #[test]
    fn get_reads_values() {
        assert_eq!(get(CLAUDE, &["numStartups"]).unwrap(), Some(json!(12)));
        assert_eq!(get(CLAUDE, &["mcpServers", "nope"]).unwrap(), None);
        assert_eq!(get(CLAUDE, &["nothing", "here"]).unwrap(), None);
    }

    #[test]
    fn a_hundred_thousand_nested_arrays_are_refused_not_a_stack_overflow() {
        let deep = format!(
            "{{\"mcpServers\": {{}}, \"x\": {}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let e = set_member(&deep, &["mcpServers"], "a", &serde_json::json!(1)).unwrap_err();
        assert!(e.0.contains("nested more than 128"), "{e}");
        assert!(get(&deep, &["x"]).is_err());
        assert!(remove_member(&deep, &["mcpServers"], "a").is_err());
        let ok = format!("{{\"x\": {}{}}}", "[".repeat(100), "]".repeat(100));
        assert!(set_member(&ok, &[], "a", &serde_json::json!(1)).is_ok());
    }

    /// Found by fuzzing (`tool_config`, 3.6 million executions): a servers object naming `git`
    /// twice. Connecting edited the first `git`, putting back found the last, so the file did
    /// not come back byte for byte. Every edit and read of a twice-named member is refused.
    const TWICE_NAMED: &str = "{\n  \"mcpServers\": {\n    \"linear\": {\n     },\t    \"git\": {\n        \"serverUrl\": \"https://mcp.linear.app/mcp/\"\n    }, \"atlassian\": {\n      \"url\": \"https://mcp.atlassian.com/v1/sse\"\n    },\n    \"notion\": {\n      \"serverUrl\": \"https://MCP.NOTION.COM/mcp\",\n      \"disabled\": true,\n      \"headers\": {\n        \"Authorization\": \"Bearer ${env:NOTION_TOKEN}\"\n      }\n    },\n    \"git\": {\n      \"command\": \"uvx\",\n      \"args\": [\"mcp-server-git\"],\n      \"disabzed\": false\n    }\n  }\n}\n";

    #[test]
    fn a_member_named_twice_in_one_object_is_refused_by_every_edit_and_read() {
        let twice = |r: Result<String, EditError>| {
            let e = r.expect_err("a twice-named member must be refused");
            assert!(e.0.contains("\"git\" twice"), "{}", e.0);
        };
        twice(value_span(TWICE_NAMED, &["mcpServers", "git"]).map(|_| String::new()));
        twice(get(TWICE_NAMED, &["mcpServers", "git"]).map(|_| String::new()));
        twice(set_member(
            TWICE_NAMED,
            &["mcpServers"],
            "git",
            &json!({"url": "x"}),
        ));
        twice(set_object_member(
            TWICE_NAMED,
            &["mcpServers"],
            "git",
            &[("url", json!("x"))],
        ));
        twice(set_member(
            TWICE_NAMED,
            &["mcpServers", "git"],
            "url",
            &json!("x"),
        ));
        twice(remove_member(TWICE_NAMED, &["mcpServers"], "git"));
        // The other entries of the same object stay editable.
        let span = value_span(TWICE_NAMED, &["mcpServers", "notion"])
            .unwrap()
            .unwrap();
        assert!(TWICE_NAMED[span].contains("MCP.NOTION.COM"));
        let added = set_member(
            TWICE_NAMED,
            &["mcpServers", "notion"],
            "disabled",
            &json!(false),
        )
        .unwrap();
        assert_eq!(
            added.replace("\"disabled\": false", "\"disabled\": true"),
            TWICE_NAMED
        );
    }
}
