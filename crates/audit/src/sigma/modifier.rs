//! Value modifiers (`field|contains|all`): parsed once, then applied to the item's values to
//! build its test.

use super::field::FieldPath;
use super::matcher::{Compare, FieldRef, Matcher, Network, Test, TextSet};
use super::value::{MAX_EXPANSION, SigmaStr, TextPart, Utf16};
use regex::RegexBuilder;
use serde_json::Value;
use std::collections::BTreeMap;

/// What the values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    Regex { i: bool, m: bool, s: bool },
    Cidr,
    Exists,
    Compare(Compare),
    FieldRef,
}

/// A modifier that rewrites string values, in the order written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transform {
    Contains,
    StartsWith,
    EndsWith,
    Windash,
    Base64,
    Base64Offset,
    Utf16(Utf16),
}

/// The modifiers of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Modifiers {
    kind: Kind,
    transforms: Vec<Transform>,
    expand: bool,
    /// `all`: values linked with AND.
    pub all: bool,
    cased: bool,
    /// `neq`: the item is negated.
    pub neq: bool,
}

impl Modifiers {
    /// Parses the modifiers after the field name, checking where each may appear.
    pub fn parse(names: &[&str]) -> Result<Modifiers, String> {
        let mut m = Modifiers {
            kind: Kind::Plain,
            transforms: Vec::new(),
            expand: false,
            all: false,
            cased: false,
            neq: false,
        };
        for (position, &name) in names.iter().enumerate() {
            m.add(name, position == 0)?;
        }
        if m.cased && !matches!(m.kind, Kind::Plain | Kind::FieldRef) {
            return Err("cased applies to plain string values only".into());
        }
        Ok(m)
    }

    fn add(&mut self, name: &str, first: bool) -> Result<(), String> {
        let plain = self.kind == Kind::Plain;
        let first_only = |kind: Kind| {
            if first {
                Ok(kind)
            } else {
                Err(format!(
                    "{name} applies only to unmodified values: write it first"
                ))
            }
        };
        match name {
            "all" => self.all = true,
            "neq" => self.neq = true,
            "cased" => self.cased = true,
            "re" => {
                self.kind = first_only(Kind::Regex {
                    i: false,
                    m: false,
                    s: false,
                })?
            }
            "cidr" => self.kind = first_only(Kind::Cidr)?,
            "exists" => self.kind = first_only(Kind::Exists)?,
            "i" | "ignorecase" | "m" | "multiline" | "s" | "dotall" => {
                let Kind::Regex { i, m, s } = &mut self.kind else {
                    return Err(format!("{name} is a flag of re and must follow it"));
                };
                match name {
                    "i" | "ignorecase" => *i = true,
                    "m" | "multiline" => *m = true,
                    _ => *s = true,
                }
            }
            "gt" | "gte" | "lt" | "lte" => {
                if !plain || !self.transforms.is_empty() || self.expand {
                    return Err(format!(
                        "{name} compares numbers and takes no other value modifier"
                    ));
                }
                self.kind = Kind::Compare(match name {
                    "gt" => Compare::Gt,
                    "gte" => Compare::Gte,
                    "lt" => Compare::Lt,
                    _ => Compare::Lte,
                });
            }
            "fieldref" => {
                if !plain || !self.transforms.is_empty() || self.expand {
                    return Err("fieldref must come before contains, startswith or endswith".into());
                }
                self.kind = Kind::FieldRef;
            }
            "expand" => {
                if !plain || !self.transforms.is_empty() {
                    return Err("expand must come before the other value modifiers".into());
                }
                self.expand = true;
            }
            "contains" | "startswith" | "endswith" => {
                if !matches!(self.kind, Kind::Plain | Kind::FieldRef) {
                    return Err(format!(
                        "{name} cannot modify a {}: anchor a regular expression with ^ or $ instead",
                        self.kind_name()
                    ));
                }
                self.transforms.push(match name {
                    "contains" => Transform::Contains,
                    "startswith" => Transform::StartsWith,
                    _ => Transform::EndsWith,
                });
            }
            "windash" | "base64" | "base64offset" | "utf16le" | "wide" | "utf16be" | "utf16" => {
                if !plain {
                    return Err(format!("{name} cannot modify a {}", self.kind_name()));
                }
                self.transforms.push(match name {
                    "windash" => Transform::Windash,
                    "base64" => Transform::Base64,
                    "base64offset" => Transform::Base64Offset,
                    "utf16be" => Transform::Utf16(Utf16::BigEndian),
                    "utf16" => Transform::Utf16(Utf16::WithBom),
                    _ => Transform::Utf16(Utf16::LittleEndian),
                });
            }
            "minute" | "hour" | "day" | "week" | "month" | "year" => {
                return Err(format!("the time modifier {name} is not supported"));
            }
            "" => return Err("empty modifier (two | in a row)".into()),
            other => return Err(format!("unknown modifier {other:?}")),
        }
        Ok(())
    }

    fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Plain => "string",
            Kind::Regex { .. } => "regular expression (re)",
            Kind::Cidr => "network (cidr)",
            Kind::Exists => "field existence (exists)",
            Kind::Compare(_) => "numeric comparison",
            Kind::FieldRef => "field reference (fieldref)",
        }
    }

    /// True when the values are plain strings (after transformation): the only values a
    /// field's type can rule out at load time.
    pub fn is_plain(&self) -> bool {
        self.kind == Kind::Plain
    }

    /// Builds the test of an item from its values (one, or a list).
    pub fn compile(
        &self,
        field: Option<&str>,
        value: &Value,
        placeholders: &BTreeMap<String, Vec<String>>,
    ) -> Result<Test, String> {
        let values: Vec<&Value> = match value {
            Value::Array(items) if items.is_empty() => return Err("empty list of values".into()),
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        if values.iter().any(|v| v.is_object() || v.is_array()) {
            return Err(
                "a value must be a string, number, boolean or null, or a list of them".into(),
            );
        }
        if values.iter().any(|v| v.is_null()) {
            return self.null(field, values.len());
        }
        match self.kind {
            Kind::Exists => self.exists(field, &values),
            Kind::Compare(op) => self.link(values.iter().map(|v| {
                number(v)
                    .map(|n| Matcher::Compare(op, n))
                    .ok_or_else(|| format!("{} needs a number, not {v}", compare_name(op)))
            })),
            Kind::Cidr => self.link(values.iter().map(|v| {
                Network::parse(&text(v).ok_or("cidr needs a network such as 10.0.0.0/8")?)
                    .map(Matcher::Cidr)
            })),
            Kind::Regex { i, m, s } => self.link(values.iter().map(|v| {
                let source = text(v).ok_or("re needs a string")?;
                RegexBuilder::new(&source)
                    .case_insensitive(i)
                    .multi_line(m)
                    .dot_matches_new_line(s)
                    .build()
                    .map(Matcher::Regex)
                    .map_err(|e| format!("regular expression {source:?} does not compile: {e}"))
            })),
            Kind::FieldRef => self.link(values.iter().map(|v| self.field_ref(v))),
            Kind::Plain => self.plain(&values, placeholders),
        }
    }

    fn null(&self, field: Option<&str>, count: usize) -> Result<Test, String> {
        if field.is_none() {
            return Err("null needs a field".into());
        }
        if count > 1 {
            return Err("null cannot be part of a list of values: use a search of its own".into());
        }
        if self.kind != Kind::Plain || !self.transforms.is_empty() || self.expand || self.all {
            return Err("null takes no value modifier".into());
        }
        Ok(Test::Null)
    }

    fn exists(&self, field: Option<&str>, values: &[&Value]) -> Result<Test, String> {
        if field.is_none() {
            return Err("exists needs a field".into());
        }
        match values {
            [Value::Bool(b)] => Ok(Test::Exists(*b)),
            _ => Err("exists takes one value, true or false".into()),
        }
    }

    fn field_ref(&self, v: &Value) -> Result<Matcher, String> {
        let name = text(v).ok_or("fieldref needs a field name")?;
        if SigmaStr::parse(&name).has_wildcards() {
            return Err("a field reference cannot contain wildcards".into());
        }
        let mut r = FieldRef {
            other: FieldPath::new(&name),
            starts: false,
            ends: false,
            cased: self.cased,
        };
        for t in &self.transforms {
            match t {
                Transform::Contains => (r.starts, r.ends) = (true, true),
                Transform::StartsWith => r.starts = true,
                Transform::EndsWith => r.ends = true,
                _ => {}
            }
        }
        Ok(Matcher::FieldRef(r))
    }

    /// Plain values: each becomes one or more patterns (windash, base64offset and placeholders
    /// expand); with OR all patterns share one matcher, with `all` each value has its own.
    fn plain(
        &self,
        values: &[&Value],
        placeholders: &BTreeMap<String, Vec<String>>,
    ) -> Result<Test, String> {
        let mut groups = Vec::with_capacity(values.len());
        let mut total = 0;
        for v in values {
            let patterns = self.patterns(v, placeholders)?;
            total += patterns.len();
            if total > MAX_EXPANSION {
                return Err(format!(
                    "the values expand to more than {MAX_EXPANSION} patterns"
                ));
            }
            groups.push(patterns);
        }
        if self.all {
            let matchers = groups
                .iter()
                .map(|g| TextSet::new(g, self.cased).map(Matcher::Text))
                .collect::<Result<_, _>>()?;
            Ok(Test::All(matchers))
        } else {
            let flat: Vec<Vec<TextPart>> = groups.into_iter().flatten().collect();
            Ok(Test::Any(vec![Matcher::Text(TextSet::new(
                &flat, self.cased,
            )?)]))
        }
    }

    /// The patterns one value becomes.
    pub fn patterns(
        &self,
        v: &Value,
        placeholders: &BTreeMap<String, Vec<String>>,
    ) -> Result<Vec<Vec<TextPart>>, String> {
        let raw = text(v).ok_or("a value must be a string, number or boolean")?;
        let mut current = if self.expand {
            SigmaStr::expand(&raw, placeholders)?
        } else if v.is_string() {
            vec![SigmaStr::parse(&raw)]
        } else {
            vec![SigmaStr::literal(&raw)]
        };
        for t in &self.transforms {
            let mut next = Vec::with_capacity(current.len());
            for s in current {
                match t {
                    Transform::Contains => next.push(s.contains()),
                    Transform::StartsWith => next.push(s.startswith()),
                    Transform::EndsWith => next.push(s.endswith()),
                    Transform::Windash => next.extend(s.windash()?),
                    Transform::Base64 => next.push(s.base64()?),
                    Transform::Base64Offset => next.extend(s.base64offset()?),
                    Transform::Utf16(e) => next.push(s.utf16(*e)?),
                }
            }
            if next.len() > MAX_EXPANSION {
                return Err(format!(
                    "a value expands to more than {MAX_EXPANSION} patterns"
                ));
            }
            current = next;
        }
        current.into_iter().map(SigmaStr::into_text_parts).collect()
    }

    /// Links compiled matchers with OR, or AND under `all`.
    fn link(
        &self,
        matchers: impl Iterator<Item = Result<Matcher, String>>,
    ) -> Result<Test, String> {
        let matchers = matchers.collect::<Result<Vec<_>, _>>()?;
        Ok(if self.all {
            Test::All(matchers)
        } else {
            Test::Any(matchers)
        })
    }
}

/// A scalar as Sigma text: strings as written, numbers and booleans printed.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn compare_name(op: Compare) -> &'static str {
    match op {
        Compare::Gt => "gt",
        Compare::Gte => "gte",
        Compare::Lt => "lt",
        Compare::Lte => "lte",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn modifiers_must_appear_where_they_mean_something() {
        for (mods, says) in [
            (
                vec!["contains", "re"],
                "re applies only to unmodified values",
            ),
            (
                vec!["base64", "cidr"],
                "cidr applies only to unmodified values",
            ),
            (vec!["i"], "i is a flag of re"),
            (vec!["re", "contains"], "anchor a regular expression"),
            (vec!["cidr", "base64"], "base64 cannot modify a network"),
            (vec!["contains", "gt"], "gt compares numbers"),
            (vec!["contains", "fieldref"], "fieldref must come before"),
            (vec!["base64", "expand"], "expand must come before"),
            (vec!["re", "cased"], "cased applies to plain string values"),
            (vec!["hour"], "time modifier hour is not supported"),
            (vec!["containz"], "unknown modifier \"containz\""),
            (vec!["contains", ""], "empty modifier"),
        ] {
            let error = Modifiers::parse(&mods).unwrap_err();
            assert!(error.contains(says), "{mods:?}: {error}");
        }
        for ok in [
            vec!["re", "i", "m", "s"],
            vec!["contains", "all", "windash"],
            vec!["wide", "base64offset", "contains"],
            vec!["fieldref", "endswith"],
            vec!["expand", "contains", "cased"],
            vec!["neq"],
        ] {
            assert!(Modifiers::parse(&ok).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn values_that_make_no_sense_are_errors() {
        let none = BTreeMap::new();
        let compile = |mods: &[&str], field: Option<&str>, v: Value| {
            Modifiers::parse(mods)
                .unwrap()
                .compile(field, &v, &none)
                .unwrap_err()
        };
        use serde_json::json;
        assert!(
            compile(&[], Some("f"), json!(["a", null])).contains("null cannot be part of a list")
        );
        assert!(
            compile(&["contains"], Some("f"), json!(null)).contains("null takes no value modifier")
        );
        assert!(compile(&[], Some("f"), json!([])).contains("empty list"));
        assert!(compile(&[], Some("f"), json!({"a": 1})).contains("must be a string"));
        assert!(compile(&["exists"], Some("f"), json!("yes")).contains("true or false"));
        assert!(compile(&["exists"], None, json!(true)).contains("needs a field"));
        assert!(compile(&["gt"], Some("f"), json!("many")).contains("gt needs a number"));
        assert!(compile(&["cidr"], Some("f"), json!("10.0.0.0/40")).contains("prefix length"));
        assert!(compile(&["re"], Some("f"), json!("(a")).contains("does not compile"));
        assert!(compile(&["re"], Some("f"), json!("(?<=a)b")).contains("does not compile"));
        assert!(compile(&["base64"], Some("f"), json!("a*")).contains("wildcards"));
        assert!(compile(&["fieldref"], Some("f"), json!("a*")).contains("wildcards"));
        assert!(
            compile(&["expand"], Some("f"), json!("%Servers%")).contains("%Servers% has no values")
        );
        assert!(compile(&["wide"], Some("f"), json!("é")).contains("only be matched after base64"));
    }
}
