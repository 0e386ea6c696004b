//! Rego that OPA accepts but regorus reads differently, rewritten before compiling so that
//! templates written for Gatekeeper run unchanged. Each rewrite keeps line numbers, so compile
//! errors still point at the template's own lines.
//!
//! 1. A rule with several bodies (`head { a } { b }`, Rego v0) is OPA's shorthand for one rule
//!    per body: the head is repeated before each further body.
//! 2. OPA ends a term at whitespace: `x` on one line and `(y > 1)` on the next are two
//!    expressions, where regorus would read a call `x(y > 1)`. A `;` is inserted.
//! 3. `sprintf` with fewer arguments than verbs prints `%!v(MISSING)` in OPA (Go's `fmt`) but
//!    fails in regorus; for a literal format and a literal argument list, the verbs without an
//!    argument are rewritten to that text.
//! 4. In OPA, `not f(a.b)` is undefined, not true, when the argument `a.b` is undefined (for
//!    builtins and functions called by name; not for `not a.b == 1`). regorus negates the
//!    undefined call. Such arguments are bound first: `__arg := a.b; not f(__arg)`.

/// The source with the rewrites applied (unchanged when none applies).
pub(crate) fn rewrite(source: &str) -> String {
    let scanned = scan(source);
    let mut edits = scanned.edits;
    edits.extend(sprintf_edits(source));
    edits.extend(negated_call_edits(source));
    if edits.is_empty() {
        return source.to_string();
    }
    edits.sort_by_key(|e| e.at);
    let mut out = String::with_capacity(source.len() + 64);
    let mut from = 0;
    for edit in edits {
        let (Some(kept), Some(_)) = (
            source.get(from..edit.at),
            source.get(edit.at..edit.at + edit.remove),
        ) else {
            continue;
        };
        out.push_str(kept);
        out.push_str(&edit.insert);
        from = edit.at + edit.remove;
    }
    out.push_str(source.get(from..).unwrap_or_default());
    out
}

#[derive(Debug)]
struct Edit {
    at: usize,
    remove: usize,
    insert: String,
}

struct Scanned {
    edits: Vec<Edit>,
}

/// One pass over the source that knows strings, comments and brackets.
fn scan(source: &str) -> Scanned {
    let bytes = source.as_bytes();
    let mut edits = Vec::new();
    // Open brackets, with whether a `{` is a rule body.
    let mut stack: Vec<(u8, bool)> = Vec::new();
    // Start of the current top-level statement, and of its first body.
    let mut statement: Option<usize> = None;
    let mut head: Option<(usize, usize)> = None;
    let mut body_closed = false;
    // Last significant byte, and whether a newline came after it.
    let mut last: Option<(usize, u8)> = None;
    let mut newline_since_last = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'#' => {
                i = skip_comment(bytes, i);
                continue;
            }
            b'\n' => {
                newline_since_last = true;
                if stack.is_empty() && !body_closed {
                    statement = None;
                    head = None;
                }
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            _ => {}
        }
        // A significant byte.
        if stack.is_empty() {
            if body_closed {
                body_closed = false;
                if b == b'{'
                    && let Some((start, end)) = head
                    && let Some(text) = source.get(start..end)
                {
                    // Another body of the same rule: repeat the head on this line.
                    let one_line: String = text
                        .chars()
                        .map(|c| if c == '\n' { ' ' } else { c })
                        .collect();
                    edits.push(Edit {
                        at: i,
                        remove: 0,
                        insert: format!("{} ", one_line.trim_end()),
                    });
                } else {
                    statement = None;
                    head = None;
                }
            }
            if statement.is_none() {
                statement = Some(i);
            }
        }
        if b == b'('
            && newline_since_last
            && let Some((at, prev)) = last
            && stack
                .last()
                .is_some_and(|(open, body)| *open == b'{' && *body)
            && ends_term(prev)
        {
            edits.push(Edit {
                at: at + 1,
                remove: 0,
                insert: ";".into(),
            });
        }
        match b {
            b'"' | b'`' => i = skip_string(bytes, i),
            b'(' | b'[' => stack.push((b, false)),
            b'{' => {
                // A body follows a head (or `else`, `if`); a literal follows `=`, `:=`, `,`, ...
                let is_body = match last {
                    None => false,
                    Some((_, prev)) => ends_term(prev) && prev != b'"',
                } || stack.last().is_some_and(|(open, body)| {
                    *open == b'{' && *body && last.is_some_and(|(_, p)| p == b'|')
                });
                if stack.is_empty() && is_body && head.is_none() {
                    head = statement.map(|s| (s, i));
                }
                stack.push((b, is_body));
            }
            b')' | b']' | b'}' => {
                let closed = stack.pop();
                if b == b'}' && stack.is_empty() && closed.is_some_and(|(_, body)| body) {
                    body_closed = true;
                }
            }
            _ => {}
        }
        let end = if matches!(b, b'"' | b'`') {
            i.saturating_sub(1)
        } else {
            i
        };
        last = Some((end, *bytes.get(end).unwrap_or(&b)));
        newline_since_last = false;
        i = if matches!(b, b'"' | b'`') { i } else { i + 1 };
    }
    Scanned { edits }
}

/// Whether a term can end with this byte (so a `(` after it would continue it).
fn ends_term(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b')' | b']' | b'}' | b'"' | b'`')
}

/// How deep brackets (`(`, `[`, `{`) nest in a source, outside strings and comments; unclosed
/// ones count. The Rego parser's time grows exponentially with this depth, so a source nested
/// past [`MAX_NESTING`] is refused before it is parsed.
pub(crate) fn nesting(source: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for (_, b) in code(source.as_bytes()) {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The bytes of a source outside comments and strings, with their offsets.
fn code(bytes: &[u8]) -> impl Iterator<Item = (usize, u8)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        loop {
            let b = *bytes.get(i)?;
            match b {
                b'#' => i = skip_comment(bytes, i),
                b'"' | b'`' => i = skip_string(bytes, i),
                _ => {
                    i += 1;
                    return Some((i - 1, b));
                }
            }
        }
    })
}

/// Deepest bracket nesting a Rego source may have (policies in the wild stay under ten).
pub(crate) const MAX_NESTING: usize = 16;

/// Index of the end of the line of the comment that starts at `start`.
fn skip_comment(bytes: &[u8], start: usize) -> usize {
    let mut i = start;
    while bytes.get(i).is_some_and(|&c| c != b'\n') {
        i += 1;
    }
    i
}

/// Index just past the string that starts at `start`.
fn skip_string(bytes: &[u8], start: usize) -> usize {
    let quote = bytes.get(start).copied().unwrap_or(b'"');
    let mut i = start + 1;
    while let Some(&b) = bytes.get(i) {
        if b == b'\\' && quote == b'"' {
            i += 2;
            continue;
        }
        i += 1;
        if b == quote {
            break;
        }
    }
    i
}

/// Edits for `sprintf("literal", [a, b])` calls with fewer arguments than verbs.
fn sprintf_edits(source: &str) -> Vec<Edit> {
    let bytes = source.as_bytes();
    let mut edits = Vec::new();
    let mut from = 0;
    while let Some(found) = source.get(from..).and_then(|s| s.find("sprintf(")) {
        let open = from + found + "sprintf(".len();
        from = open;
        let mut i = open;
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if bytes.get(i) != Some(&b'"') {
            continue;
        }
        let format_end = skip_string(bytes, i);
        let Some(format) = source.get(i + 1..format_end.saturating_sub(1)) else {
            continue;
        };
        let mut j = format_end;
        while bytes
            .get(j)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b',')
        {
            j += 1;
        }
        if bytes.get(j) != Some(&b'[') {
            continue;
        }
        let Some(arguments) = count_list(bytes, j) else {
            continue;
        };
        let verbs = verb_positions(format);
        for &(at, len) in verbs.iter().skip(arguments) {
            edits.push(Edit {
                at: i + 1 + at,
                remove: len,
                insert: "%%!v(MISSING)".into(),
            });
        }
    }
    edits
}

/// Number of items of the list literal opening at `open`, if it is one.
fn count_list(bytes: &[u8], open: usize) -> Option<usize> {
    let (mut depth, mut commas, mut any) = (0usize, 0usize, false);
    let mut i = open;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' | b'`' => {
                any = true;
                i = skip_string(bytes, i);
                continue;
            }
            b'[' | b'(' | b'{' => {
                any |= depth > 0;
                depth += 1;
            }
            b']' | b')' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(if any { commas + 1 } else { 0 });
                }
            }
            b',' if depth == 1 => commas += 1,
            c if c.is_ascii_whitespace() => {}
            _ => any = true,
        }
        i += 1;
    }
    None
}

/// Edits binding the reference arguments of `not name(args)` before the negation.
fn negated_call_edits(source: &str) -> Vec<Edit> {
    let bytes = source.as_bytes();
    let mut edits = Vec::new();
    let mut bound = 0usize;
    for (i, _) in code(bytes) {
        let word_start = i == 0
            || bytes
                .get(i - 1)
                .is_some_and(|c| !is_ident(*c) && *c != b'.');
        if word_start
            && source
                .get(i..)
                .is_some_and(|s| s.starts_with("not ") || s.starts_with("not\t"))
            && let Some(found) = negated_call(source, i, &mut bound)
        {
            edits.extend(found);
        }
    }
    edits
}

/// The edits for one `not` at `at`, if a call by name with reference arguments follows and
/// ends the expression.
fn negated_call(source: &str, at: usize, bound: &mut usize) -> Option<Vec<Edit>> {
    let bytes = source.as_bytes();
    let mut i = at + 3;
    while bytes.get(i).is_some_and(|c| *c == b' ' || *c == b'\t') {
        i += 1;
    }
    let callee = i;
    while bytes.get(i).is_some_and(|c| is_ident(*c) || *c == b'.') {
        i += 1;
    }
    if i == callee
        || bytes.get(i) != Some(&b'(')
        || bytes.get(callee).is_some_and(u8::is_ascii_digit)
    {
        return None;
    }
    // Arguments, split at top-level commas.
    let mut arguments = Vec::new();
    let (mut depth, mut start) = (0usize, i + 1);
    let close = loop {
        match *bytes.get(i)? {
            b'"' | b'`' => {
                i = skip_string(bytes, i);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    arguments.push((start, i));
                    break i;
                }
            }
            b',' if depth == 1 => {
                arguments.push((start, i));
                start = i + 1;
            }
            b'\n' => return None,
            _ => {}
        }
        i += 1;
    };
    // The call must be the whole expression (no `with`, no comparison after it).
    let mut after = close + 1;
    while bytes
        .get(after)
        .is_some_and(|c| *c == b' ' || *c == b'\t' || *c == b'\r')
    {
        after += 1;
    }
    if !matches!(bytes.get(after), None | Some(b'\n' | b';' | b'}' | b'#')) {
        return None;
    }
    let mut edits = Vec::new();
    let mut bindings = String::new();
    for (from, to) in arguments {
        let text = source.get(from..to)?;
        let trimmed = text.trim();
        if !is_plain_reference(trimmed) {
            continue;
        }
        let name = format!("__palisade_arg{bound}");
        *bound += 1;
        bindings.push_str(&format!("{name} := {trimmed}; "));
        let lead = text.len() - text.trim_start().len();
        edits.push(Edit {
            at: from + lead,
            remove: trimmed.len(),
            insert: name,
        });
    }
    if edits.is_empty() {
        return None;
    }
    edits.push(Edit {
        at,
        remove: 0,
        insert: bindings,
    });
    Some(edits)
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// `a.b`, `a["b"].c`, `a[0]`: a variable with at least one constant step, which a binding
/// evaluates exactly as the argument would be (no iteration, no call).
fn is_plain_reference(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while bytes.get(i).is_some_and(|c| is_ident(*c)) {
        i += 1;
    }
    if i == 0 || bytes.first().is_some_and(u8::is_ascii_digit) || text.get(..i) == Some("_") {
        return false;
    }
    let mut steps = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'.' => {
                let start = i + 1;
                i = start;
                while bytes.get(i).is_some_and(|c| is_ident(*c)) {
                    i += 1;
                }
                if i == start {
                    return false;
                }
            }
            b'[' => {
                let end = match bytes.get(i + 1) {
                    Some(b'"') => skip_string(bytes, i + 1),
                    Some(c) if c.is_ascii_digit() => {
                        let mut j = i + 1;
                        while bytes.get(j).is_some_and(u8::is_ascii_digit) {
                            j += 1;
                        }
                        j
                    }
                    _ => return false,
                };
                if bytes.get(end) != Some(&b']') {
                    return false;
                }
                i = end + 1;
            }
            _ => return false,
        }
        steps += 1;
    }
    steps > 0
}

/// Byte offset and length of each verb (`%v`, `%5.2f`, ...) of a Go format; `%%` is not one.
fn verb_positions(format: &str) -> Vec<(usize, usize)> {
    let bytes = format.as_bytes();
    let mut verbs = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b != b'%' {
            i += 1;
            continue;
        }
        if bytes.get(i + 1) == Some(&b'%') {
            i += 2;
            continue;
        }
        let mut j = i + 1;
        while bytes
            .get(j)
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, b'.' | b'+' | b'-' | b'#' | b' '))
        {
            j += 1;
        }
        if bytes.get(j).is_some_and(u8::is_ascii_alphabetic) {
            verbs.push((i, j + 1 - i));
        }
        i = j + 1;
    }
    verbs
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    fn compiles_and_runs(rego: &str, query: &str) -> String {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(true);
        engine.add_policy("t.rego".into(), rewrite(rego)).unwrap();
        engine.set_input(regorus::Value::from(serde_json::json!({"a": 1, "b": 5})));
        let value = engine
            .eval_rule(query.into())
            .unwrap()
            .to_json_str()
            .unwrap();
        serde_json::from_str::<serde_json::Value>(&value)
            .unwrap()
            .to_string()
    }

    #[test]
    fn several_bodies_become_one_rule_each() {
        let rego = "package t\n\nviolation[{\"msg\": msg}] {\n  input.a == 1\n  msg := \"one\"\n} {\n  input.b == 5\n  msg := \"five\"\n} {\n  input.b == 6\n  msg := \"six\"\n}\n";
        let out = rewrite(rego);
        assert_eq!(out.lines().count(), rego.lines().count(), "{out}");
        assert_eq!(
            compiles_and_runs(rego, "data.t.violation"),
            r#"[{"msg":"five"},{"msg":"one"}]"#
        );
    }

    #[test]
    fn a_parenthesis_on_the_next_line_starts_a_new_expression() {
        let rego = "package t\n\nok {\n  input.a\n  (input.b - input.a) >= 4\n}\n";
        assert_eq!(compiles_and_runs(rego, "data.t.ok"), "true");
        let call =
            "package t\n\nok {\n  count([1, 2]) == 2\n  x := count(\n    [1])\n  x == 1\n}\n";
        assert_eq!(rewrite(call), call, "a call split over lines is left alone");
    }

    #[test]
    fn missing_sprintf_arguments_print_as_go_does() {
        let rego = "package t\n\nmsg := sprintf(\"%v and %v, %d%%\", [input.a])\n";
        assert_eq!(
            compiles_and_runs(rego, "data.t.msg"),
            r#""1 and %!v(MISSING), %!v(MISSING)%""#
        );
        let fine = "package t\n\nmsg := sprintf(\"%v-%v\", [input.a, [input.b, 2]])\n";
        assert_eq!(rewrite(fine), fine);
    }

    #[test]
    fn a_negated_call_with_an_undefined_argument_is_undefined() {
        let rego = "package t\n\nf(\"a\", _)\n\nv[\"A\"] { not f(\"a\", input.missing) }\nv[\"B\"] { not startswith(input[\"missing\"].x, \"y\") }\nv[\"C\"] { not input.missing == 1 }\nv[\"D\"] { not f(\"b\", input.a) }\nv[\"E\"] { xs := [1]; not f(\"b\", xs[_]) }\n";
        let out = rewrite(rego);
        assert_eq!(out.lines().count(), rego.lines().count(), "{out}");
        assert_eq!(compiles_and_runs(rego, "data.t.v"), r#"["C","D","E"]"#);
    }

    #[test]
    fn nesting_counts_unclosed_brackets_and_skips_strings() {
        assert_eq!(super::nesting("x := [[1], {\"a\": (2)}]"), 3);
        assert_eq!(super::nesting("x := \"[[[[\" # [[[["), 0);
        assert_eq!(super::nesting("f(a[[[[b"), 5);
    }

    #[test]
    fn rules_with_one_body_and_literals_are_unchanged() {
        let rego =
            "package t\n\nx := {\"a\": 1}\n\ny[v] { v := {1, 2}[_] }\n\nz { x == {\"a\": 1} }\n";
        assert_eq!(rewrite(rego), rego);
    }
}
