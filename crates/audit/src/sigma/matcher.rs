//! Compiled value tests: what one detection item checks on the values its field reaches.
//!
//! Everything costly happens once, when the rule is compiled: literals are lower-cased, the
//! OR-linked patterns of an item become one regular expression (so twenty `contains` values
//! are one scan), exact literals are compared without one. Matching an event allocates only
//! for non-ASCII text compared case-insensitively.

use super::field::{Eval, FieldPath, Leaf, any_string};
use super::value::TextPart;
use crate::Event;
use regex::{Regex, RegexBuilder};
use serde_json::Value;
use std::fmt::Write as _;
use std::net::IpAddr;

/// One detection item: `field|modifiers: values`, or keywords when there is no field.
#[derive(Debug)]
pub(super) struct Item {
    pub field: Option<FieldPath>,
    pub test: Test,
    /// `neq`: the item matches when the test does not.
    pub negate: bool,
}

/// What an item checks.
#[derive(Debug)]
pub(super) enum Test {
    /// `field: null`: absent, or null.
    Null,
    /// `field|exists: true/false`.
    Exists(bool),
    /// Any matcher matches a value (the default OR of a value list).
    Any(Vec<Matcher>),
    /// Every matcher matches some value (`|all`).
    All(Vec<Matcher>),
}

/// A test on one value.
#[derive(Debug)]
pub(super) enum Matcher {
    Text(TextSet),
    Regex(Regex),
    Compare(Compare, f64),
    Cidr(Network),
    FieldRef(FieldRef),
}

/// Numeric comparisons (`gt`, `gte`, `lt`, `lte`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Compare {
    Gt,
    Gte,
    Lt,
    Lte,
}

impl Item {
    /// True if the item matches the event.
    pub fn matches(&self, eval: &mut Eval<'_>) -> bool {
        let event = eval.event;
        let result = match (&self.field, &self.test) {
            (Some(path), Test::Null) => {
                let mut seen = false;
                let null = eval.any_leaf(path, &mut |v| {
                    seen = true;
                    matches!(v, Leaf::Json(Value::Null))
                });
                null || !seen
            }
            (Some(path), Test::Exists(want)) => eval.exists(path) == *want,
            (Some(path), Test::Any(ms)) => {
                eval.any_leaf(path, &mut |v| ms.iter().any(|m| m.matches(v, event)))
            }
            (Some(path), Test::All(ms)) => ms
                .iter()
                .all(|m| eval.any_leaf(path, &mut |v| m.matches(v, event))),
            // Keywords look through every string: the whole JSON is needed.
            (None, Test::Any(ms)) => any_string(event.json(), &mut |s| {
                ms.iter().any(|m| m.matches_str(s, event))
            }),
            (None, Test::All(ms)) => ms
                .iter()
                .all(|m| any_string(event.json(), &mut |s| m.matches_str(s, event))),
            // Compilation only builds Null and Exists with a field.
            (None, Test::Null | Test::Exists(_)) => false,
        };
        result != self.negate
    }
}

impl Matcher {
    fn matches(&self, value: Leaf<'_>, event: &Event) -> bool {
        match value {
            Leaf::Str(s) => self.matches_str(s, event),
            Leaf::Int(n) => self.matches_json(&Value::Number(n.into()), event),
            Leaf::Json(v) => self.matches_json(v, event),
        }
    }

    fn matches_json(&self, value: &Value, root: &Event) -> bool {
        match (self, value) {
            (_, Value::String(s)) => self.matches_str(s, root),
            (Matcher::Text(set), Value::Number(n)) => set.matches_number(n),
            (Matcher::Compare(op, limit), Value::Number(n)) => {
                n.as_f64().is_some_and(|x| op.holds(x, *limit))
            }
            (Matcher::Regex(_) | Matcher::FieldRef(_), Value::Number(n)) => {
                self.matches_str(StackText::of(n).as_str(), root)
            }
            (_, Value::Bool(b)) => self.matches_str(if *b { "true" } else { "false" }, root),
            (Matcher::Text(set), Value::Object(_) | Value::Array(_)) => set.anything,
            _ => false,
        }
    }

    fn matches_str(&self, s: &str, root: &Event) -> bool {
        match self {
            Matcher::Text(set) => set.matches_str(s),
            Matcher::Regex(re) => re.is_match(s),
            Matcher::Compare(op, limit) => {
                s.trim().parse::<f64>().is_ok_and(|x| op.holds(x, *limit))
            }
            Matcher::Cidr(net) => s.trim().parse::<IpAddr>().is_ok_and(|ip| net.contains(ip)),
            Matcher::FieldRef(r) => r.matches(s, root),
        }
    }
}

impl Compare {
    fn holds(self, x: f64, limit: f64) -> bool {
        match self {
            Compare::Gt => x > limit,
            Compare::Gte => x >= limit,
            Compare::Lt => x < limit,
            Compare::Lte => x <= limit,
        }
    }
}

/// OR-linked string patterns, case-insensitive unless `cased`.
#[derive(Debug, Clone)]
pub(super) struct TextSet {
    cased: bool,
    /// Wildcard-free literals (lower-cased unless `cased`), compared whole.
    exact: Vec<Box<str>>,
    /// Those literals that are numbers, for numeric fields.
    numbers: Vec<f64>,
    /// Every other pattern, as one expression.
    rest: Option<Regex>,
    /// A lone `*`: anything present and not null, objects included.
    anything: bool,
}

impl TextSet {
    /// Compiles patterns that are linked with OR.
    pub fn new(patterns: &[Vec<TextPart>], cased: bool) -> Result<TextSet, String> {
        let mut set = TextSet {
            cased,
            exact: Vec::new(),
            numbers: Vec::new(),
            rest: None,
            anything: false,
        };
        let mut alternatives = Vec::new();
        for parts in patterns {
            match parts.as_slice() {
                [TextPart::Any] => set.anything = true,
                [] => set.exact.push("".into()),
                [TextPart::Lit(lit)] if cased || lit.is_ascii() => {
                    if let Some(n) = as_number(lit) {
                        set.numbers.push(n);
                    }
                    let lit = if cased {
                        lit.clone()
                    } else {
                        lit.to_lowercase()
                    };
                    set.exact.push(lit.into());
                }
                _ => alternatives.push(pattern(parts)),
            }
        }
        if !alternatives.is_empty() {
            let source = alternatives.join("|");
            let re = RegexBuilder::new(&source)
                .case_insensitive(!cased)
                .dot_matches_new_line(true)
                .build()
                .map_err(|e| format!("cannot compile the value patterns: {e}"))?;
            set.rest = Some(re);
        }
        Ok(set)
    }

    fn matches_str(&self, s: &str) -> bool {
        if self.anything {
            return true;
        }
        if !self.exact.is_empty() {
            let hit = if self.cased {
                self.exact.iter().any(|e| **e == *s)
            } else if s.is_ascii() {
                self.exact
                    .iter()
                    .any(|e| e.len() == s.len() && e.eq_ignore_ascii_case(s))
            } else {
                let lower = s.to_lowercase();
                self.exact.iter().any(|e| **e == *lower)
            };
            if hit {
                return true;
            }
        }
        self.rest.as_ref().is_some_and(|re| re.is_match(s))
    }

    fn matches_number(&self, n: &serde_json::Number) -> bool {
        if self.anything {
            return true;
        }
        if n.as_f64().is_some_and(|x| self.numbers.contains(&x)) {
            return true;
        }
        self.rest
            .as_ref()
            .is_some_and(|re| re.is_match(StackText::of(n).as_str()))
    }
}

/// The regular expression of one Sigma string: anchored unless it starts or ends with `*`.
fn pattern(parts: &[TextPart]) -> String {
    let mut inner = parts;
    let open_start = matches!(inner.first(), Some(TextPart::Any));
    if open_start {
        inner = inner.get(1..).unwrap_or_default();
    }
    let open_end = matches!(inner.last(), Some(TextPart::Any));
    if open_end {
        inner = inner.get(..inner.len() - 1).unwrap_or_default();
    }
    let mut out = String::from("(?:");
    if !open_start {
        out.push('^');
    }
    for part in inner {
        match part {
            TextPart::Lit(lit) => out.push_str(&regex::escape(lit)),
            TextPart::Any => out.push_str(".*"),
            TextPart::One => out.push('.'),
        }
    }
    if !open_end {
        out.push('$');
    }
    out.push(')');
    out
}

/// A literal that is a plain decimal number, as a number.
fn as_number(lit: &str) -> Option<f64> {
    let numeric = !lit.is_empty()
        && lit
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
    numeric.then(|| lit.parse::<f64>().ok()).flatten()
}

/// An IP network (`cidr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Network {
    base: IpAddr,
    prefix: u8,
}

impl Network {
    /// Parses `10.0.0.0/8`, `fd00::/8`, or a single address.
    pub fn parse(text: &str) -> Result<Network, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let base: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} is not an IP network (cidr)"))?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text:?} has no valid prefix length (0 to {max})"))?,
        };
        Ok(Network { base, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let (a, b, bits) = match (self.base, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                (u128::from(u32::from(a)), u128::from(u32::from(b)), 32)
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
            (IpAddr::V4(a), IpAddr::V6(b)) => match b.to_ipv4_mapped() {
                Some(b) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
                None => return false,
            },
            (IpAddr::V6(_), IpAddr::V4(_)) => return false,
        };
        let shift = bits - u32::from(self.prefix);
        shift >= 128 || (a >> shift) == (b >> shift)
    }
}

/// `fieldref`: the value of another field of the same event.
#[derive(Debug)]
pub(super) struct FieldRef {
    pub other: FieldPath,
    /// `startswith`: the value starts with the other field's.
    pub starts: bool,
    /// `endswith`: the value ends with it (both: `contains`).
    pub ends: bool,
    pub cased: bool,
}

impl FieldRef {
    fn matches(&self, s: &str, root: &Event) -> bool {
        self.other.any_leaf_in(root, &mut |v| {
            let text;
            let other = match v {
                Leaf::Str(o) => o,
                Leaf::Json(Value::String(o)) => o.as_str(),
                Leaf::Int(n) => {
                    text = StackText::of(&n.into());
                    text.as_str()
                }
                Leaf::Json(Value::Number(n)) => {
                    text = StackText::of(n);
                    text.as_str()
                }
                Leaf::Json(Value::Bool(b)) => {
                    if *b {
                        "true"
                    } else {
                        "false"
                    }
                }
                _ => return false,
            };
            self.compare(s, other)
        })
    }

    fn compare(&self, s: &str, other: &str) -> bool {
        let (s, other) = if self.cased {
            (s.to_string(), other.to_string())
        } else {
            (s.to_lowercase(), other.to_lowercase())
        };
        match (self.starts, self.ends) {
            (true, true) => s.contains(&other),
            (true, false) => s.starts_with(&other),
            (false, true) => s.ends_with(&other),
            (false, false) => s == other,
        }
    }
}

/// A number's text without a heap allocation.
struct StackText {
    buf: [u8; 48],
    len: usize,
}

impl StackText {
    fn of(n: &serde_json::Number) -> StackText {
        let mut out = StackText {
            buf: [0; 48],
            len: 0,
        };
        // serde_json prints at most about 25 bytes; a failure would only leave it shorter.
        let _ = write!(out, "{n}");
        out
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(self.buf.get(..self.len).unwrap_or_default()).unwrap_or_default()
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::sigma::value::SigmaStr;
    use serde_json::json;

    fn none() -> Event {
        Event::new(Value::Null, crate::Origin::new("t", 1))
    }

    fn set(values: &[&str], cased: bool) -> TextSet {
        let parts: Vec<_> = values
            .iter()
            .map(|v| SigmaStr::parse(v).into_text_parts().unwrap())
            .collect();
        TextSet::new(&parts, cased).unwrap()
    }

    fn hit(set: &TextSet, value: Value) -> bool {
        Matcher::Text(set.clone()).matches_json(&value, &none())
    }

    #[test]
    fn exact_values_ignore_case_unless_cased() {
        let s = set(&["Create", "DELETE"], false);
        assert!(hit(&s, json!("create")));
        assert!(hit(&s, json!("Delete")));
        assert!(!hit(&s, json!("created")));
        let c = set(&["Create"], true);
        assert!(hit(&c, json!("Create")));
        assert!(!hit(&c, json!("create")));
        let unicode = set(&["ÉTÉ"], false);
        assert!(hit(&unicode, json!("été")));
    }

    #[test]
    fn wildcards_match_anywhere_they_are_written() {
        let s = set(&["kube-proxy-?????", "*/exec", "system:*"], false);
        assert!(hit(&s, json!("kube-proxy-bv61v")));
        assert!(!hit(&s, json!("kube-proxy-bv61")));
        assert!(hit(&s, json!("/api/v1/pods/x/EXEC")));
        assert!(hit(&s, json!("System:Masters")));
        assert!(!hit(&s, json!("not-system:masters")));
        assert!(hit(&set(&["a*b"], false), json!("a\nb")), "* crosses lines");
    }

    #[test]
    fn numbers_match_by_value_and_by_text() {
        let s = set(&["401", "403"], false);
        assert!(hit(&s, json!(401)));
        assert!(hit(&s, json!("403")));
        assert!(!hit(&s, json!(200)));
        assert!(hit(&set(&["1.0"], false), json!(1)));
        assert!(hit(&set(&["40*"], false), json!(404)));
        assert!(!hit(&set(&["ALLOW"], false), json!(200)));
    }

    #[test]
    fn a_lone_star_is_anything_present() {
        let s = set(&["*"], false);
        assert!(hit(&s, json!("")));
        assert!(hit(&s, json!({"path": "/"})));
        assert!(!hit(&s, Value::Null));
    }

    #[test]
    fn booleans_compare_as_text() {
        assert!(hit(&set(&["true"], false), json!(true)));
        assert!(!hit(&set(&["true"], false), json!(false)));
    }

    #[test]
    fn networks() {
        let n = Network::parse("10.0.0.0/8").unwrap();
        assert!(n.contains("10.1.2.3".parse().unwrap()));
        assert!(!n.contains("11.0.0.1".parse().unwrap()));
        assert!(n.contains("::ffff:10.0.0.1".parse().unwrap()));
        let v6 = Network::parse("fd00::/8").unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!(!v6.contains("fe80::1".parse().unwrap()));
        assert!(
            Network::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(Network::parse("10.0.0.0/33").is_err());
        assert!(Network::parse("ten/8").is_err());
    }

    #[test]
    fn comparisons_read_numbers_and_numeric_text() {
        let m = Matcher::Compare(Compare::Gte, 400.0);
        assert!(m.matches(Leaf::Json(&json!(403)), &none()));
        assert!(m.matches(Leaf::Json(&json!("400")), &none()));
        assert!(!m.matches(Leaf::Json(&json!(200)), &none()));
        assert!(!m.matches(Leaf::Json(&json!("abc")), &none()));
        assert!(Matcher::Compare(Compare::Lt, 1.5).matches(Leaf::Json(&json!(1)), &none()));
        assert!(!Matcher::Compare(Compare::Gt, 1.0).matches(Leaf::Json(&json!(1)), &none()));
        assert!(Matcher::Compare(Compare::Lte, 1.0).matches(Leaf::Json(&json!(1)), &none()));
    }

    #[test]
    fn field_references_compare_two_fields() {
        let root = Event::new(
            json!({"user": {"username": "Alice"}, "objectRef": {"name": "alice", "namespace": "ns-alice-x"}}),
            crate::Origin::new("t", 1),
        );
        let r = |starts, ends| {
            Matcher::FieldRef(FieldRef {
                other: FieldPath::new("user.username"),
                starts,
                ends,
                cased: false,
            })
        };
        assert!(r(false, false).matches(Leaf::Json(&json!("alice")), &root));
        assert!(r(true, true).matches(Leaf::Json(&json!("ns-alice-x")), &root));
        assert!(!r(false, false).matches(Leaf::Json(&json!("ns-alice-x")), &root));
    }
}
