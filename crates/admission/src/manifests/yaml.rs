//! JSON values written as block YAML, for people to read and `kubectl` to apply.
//!
//! The crate has no YAML writer, and the objects are plain JSON, so a small one suffices.
//! Strings are left plain only when every YAML 1.1 and 1.2 reader (kubectl's go-yaml
//! included) reads them back as the same string; anything that could be a number, boolean,
//! null, timestamp or indicator is double-quoted. Multi-line text (an embedded policy)
//! becomes a literal block when it can round-trip exactly, so it stays readable.

use serde_json::{Map, Value};
use std::fmt::Write;

/// One document: a comment explaining it, then the object.
pub(super) struct Document {
    pub comment: String,
    pub value: Value,
}

/// A multi-document stream: the header comment, then each document after `---`.
pub(super) fn stream(header: &str, documents: &[Document]) -> String {
    let mut out = String::new();
    comment(&mut out, header, 0);
    for document in documents {
        out.push_str("---\n");
        comment(&mut out, &document.comment, 0);
        node(&mut out, &document.value, 0);
    }
    out
}

fn comment(out: &mut String, text: &str, indent: usize) {
    for line in text.lines() {
        pad(out, indent);
        if line.is_empty() {
            out.push_str("#\n");
        } else {
            let _ = writeln!(out, "# {line}");
        }
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Writes a value that starts on a line of its own, at `indent`.
fn node(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => mapping(out, map, indent),
        Value::Array(list) if !list.is_empty() => sequence(out, list, indent),
        // Only nested nodes are written by the callers; a lone scalar is still valid YAML.
        _ => {
            pad(out, indent);
            inline(out, value, indent);
        }
    }
}

fn mapping(out: &mut String, map: &Map<String, Value>, indent: usize) {
    for (key, value) in map {
        pad(out, indent);
        out.push_str(&scalar(key));
        out.push(':');
        entry_value(out, value, indent);
    }
}

fn sequence(out: &mut String, list: &[Value], indent: usize) {
    for value in list {
        match value {
            Value::Object(map) if !map.is_empty() => {
                compact(out, indent, |nested| mapping(nested, map, indent + 2))
            }
            Value::Array(items) if !items.is_empty() => {
                compact(out, indent, |nested| sequence(nested, items, indent + 2))
            }
            _ => {
                pad(out, indent);
                out.push('-');
                entry_value(out, value, indent);
            }
        }
    }
}

/// A collection inside a sequence starts on the dash's line (`- name: a`): written at
/// `indent + 2`, then its first indentation is swapped for the dash.
fn compact(out: &mut String, indent: usize, write: impl FnOnce(&mut String)) {
    let mut nested = String::new();
    write(&mut nested);
    pad(out, indent);
    out.push_str("- ");
    out.push_str(nested.get(indent + 2..).unwrap_or_default());
}

/// What follows `key:` or `-`: a scalar on the same line, or a nested node on the next.
fn entry_value(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            mapping(out, map, indent + 2);
        }
        Value::Array(list) if !list.is_empty() => {
            out.push('\n');
            sequence(out, list, indent + 2);
        }
        _ => {
            out.push(' ');
            inline(out, value, indent);
        }
    }
}

/// A scalar or empty collection, then the line's end; a literal block continues on the next
/// lines, indented under its key.
fn inline(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => match literal_chomping(s) {
            Some(indicator) => {
                out.push_str(indicator);
                for line in s.lines() {
                    out.push('\n');
                    if !line.is_empty() {
                        pad(out, indent + 2);
                        out.push_str(line);
                    }
                }
            }
            None => out.push_str(&scalar(s)),
        },
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
    out.push('\n');
}

/// The header of a literal block (`|` keeps one final newline, `|-` none) when `text` reads
/// back exactly from one; `None` when it must be quoted instead.
fn literal_chomping(text: &str) -> Option<&'static str> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let fits = body.contains('\n')
        // A first line starting with a space would set a deeper indentation for the block,
        // and trailing blank lines would need the keep indicator: quote those rare texts.
        && !body.starts_with([' ', '\n'])
        && !body.ends_with('\n')
        && body.chars().all(|c| c == '\n' || printable(c));
    fits.then_some(if body.len() == text.len() { "|-" } else { "|" })
}

/// Characters a YAML block may hold as they are: no control characters, and none that
/// YAML 1.1 treats as a line break or a byte-order mark.
fn printable(c: char) -> bool {
    !(c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        ))
}

/// A string as a plain scalar when that is unambiguous, else double-quoted.
fn scalar(s: &str) -> String {
    if plain(s) { s.to_string() } else { quoted(s) }
}

/// Words YAML 1.1 resolves to booleans or null (compared without case; over-quoting an odd
/// spelling costs nothing).
const RESERVED: [&str; 9] = ["y", "yes", "n", "no", "true", "false", "on", "off", "null"];

fn plain(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    // Starting with a letter rules out numbers, timestamps, `.inf` and every indicator.
    let starts = first.is_ascii_alphabetic() || first == '/';
    let chars = s.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(c, '-' | '.' | '_' | '/' | ':' | ' ' | '@' | '+' | '=')
    });
    let colons = !s.ends_with([':', ' ']) && !s.contains(": ");
    starts && chars && colons && !RESERVED.iter().any(|r| s.eq_ignore_ascii_case(r))
}

/// A double-quoted scalar; escapes are the ones JSON and YAML share, plus the characters
/// YAML 1.1 would fold as line breaks.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if !printable(c) => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Writes `value` and reads it back with the loader's YAML 1.1 reader.
    fn round_trip(value: &Value) -> Value {
        let text = stream(
            "header",
            &[Document {
                comment: "doc".into(),
                value: value.clone(),
            }],
        );
        let parsed = palisade_loader::parse(&text, palisade_loader::Limits::default());
        assert!(parsed.error.is_none(), "{:?}\n{text}", parsed.error);
        assert_eq!(parsed.documents.len(), 1, "{text}");
        parsed.documents.into_iter().next().unwrap().value
    }

    const TRICKY: &[&str] = &[
        "",
        " ",
        "yes",
        "No",
        "ON",
        "off",
        "y",
        "N",
        "true",
        "False",
        "null",
        "Null",
        "~",
        "0644",
        "0x1f",
        "1e3",
        "1.0",
        "-1",
        "+1",
        ".5",
        ".inf",
        "-.inf",
        ".NaN",
        "1_000",
        "1:20",
        "2001-12-14",
        "2001-12-14t21:59:43.10-05:00",
        "-",
        "--listen",
        "- a",
        "a: b",
        "a:",
        "a:b",
        "key: value",
        "#x",
        "a #b",
        "a#b",
        "@x",
        "`x",
        "%x",
        "*a",
        "&a",
        "!t",
        "!!str",
        "|",
        ">",
        "'",
        "\"",
        "{",
        "}",
        "[",
        "]",
        ",",
        "?",
        "? x",
        "=",
        "<<",
        "a b",
        " lead",
        "trail ",
        "tab\there",
        "cr\r\nlf",
        "nul\u{0}",
        "del\u{7f}",
        "nel\u{85}x",
        "ls\u{2028}x",
        "ps\u{2029}x",
        "bom\u{feff}",
        "é ü 日本",
        "back\\slash",
        "one\n",
        "two\nlines",
        "two\nlines\n",
        "trailing\n\n",
        "\nleading",
        " indented\nx",
        "a\n\nb\n",
        "x\n  indented\n",
        "---\n...\n",
        "# not a comment\nkey: value\n",
        "100m",
        "64Mi",
        "8443",
        "v1",
        "ghcr.io/palisade-security/palisade:0.1.0",
        "img@sha256:0123abcd",
        "kubernetes.io/metadata.name",
        "system:serviceaccount:a:b",
    ];

    #[test]
    fn every_tricky_string_round_trips_as_a_value_and_a_key() {
        for s in TRICKY {
            let value = json!({"k": s, "list": [s], "nested": {"deeper": [{"a": s}]}});
            assert_eq!(round_trip(&value), value, "value {s:?}");
            if !s.is_empty() {
                let mut map = Map::new();
                map.insert((*s).to_string(), json!(1));
                let keyed = Value::Object(map);
                assert_eq!(round_trip(&keyed), keyed, "key {s:?}");
            }
        }
    }

    #[test]
    fn scalars_and_collections_round_trip() {
        let value = json!({
            "int": 443, "negative": -1, "float": 1.5, "t": true, "f": false, "none": null,
            "empty_map": {}, "empty_list": [], "list_in_list": [[1, 2], [], [{"a": 1}]],
            "maps_in_list": [{"a": 1, "b": {"c": [1]}}, {}],
            "deep": {"a": {"b": {"c": {"d": "e"}}}},
        });
        assert_eq!(round_trip(&value), value);
    }

    #[test]
    fn plain_where_unambiguous_and_literal_blocks_for_text() {
        let text = stream(
            "Palisade",
            &[Document {
                comment: "why".into(),
                value: json!({
                    "metadata": {"name": "palisade-admission", "labels": {"app.kubernetes.io/version": "0.1.0"}},
                    "args": ["admission", "--listen", "0.0.0.0:8443"],
                    "data": {"policy.yaml": "rules:\n  - id: a\n"},
                }),
            }],
        );
        let expected = "# Palisade\n---\n# why\nmetadata:\n  name: palisade-admission\n  labels:\n    app.kubernetes.io/version: \"0.1.0\"\nargs:\n  - admission\n  - \"--listen\"\n  - \"0.0.0.0:8443\"\ndata:\n  policy.yaml: |\n    rules:\n      - id: a\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn generated_strings_round_trip() {
        // A fixed-seed generator over an alphabet of YAML's special characters.
        let alphabet: Vec<char> = " \n\t:#-?&*!|>'\"%@`,[]{}.0123abcyYnN~\\\u{85}\u{2028}é"
            .chars()
            .collect();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..3000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 12) as usize;
            let s: String = (0..len)
                .map(|i| alphabet[((state >> (i * 5)) as usize) % alphabet.len()])
                .collect();
            let value = json!({"k": s, "l": [s]});
            assert_eq!(round_trip(&value), value, "{s:?}");
        }
    }
}
