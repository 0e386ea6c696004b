//! Structural-schema validation of Gatekeeper constraint parameters.
//!
//! Gatekeeper turns `spec.crd.spec.validation.openAPIV3Schema` of a ConstraintTemplate into the
//! schema of `spec.parameters` in the CRD it creates for the constraint kind, and the API server
//! rejects a Constraint whose parameters do not fit. [`validate`] applies the rules of Kubernetes
//! structural schemas to the parameters so that the mistake shows before a cluster sees it.
//!
//! What the API server does before validating is followed too: fields an object's schema does
//! not declare are pruned, not rejected, so they are not reported (and `legacySchema: true`,
//! which only adds `x-kubernetes-preserve-unknown-fields`, changes nothing here); a null in a
//! field that is not `nullable` is pruned, or replaced by the field's `default`. Parts of a
//! schema the API server would refuse in the template itself (an invalid `pattern`,
//! `additionalProperties: false`, an unknown `type`) are skipped: they are not the parameters'
//! fault. `format`, `default` values and `x-kubernetes-validations` (CEL) are not checked.

use regex::RegexBuilder;
use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Values and schemas nested deeper than this are not validated further; the cut is reported.
const MAX_DEPTH: usize = 64;

/// Compiled size limit of a `pattern`; a larger one is skipped like an invalid one.
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// One way the parameters do not fit the template's schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SchemaError {
    /// JSON pointer to the offending value inside the parameters (`/labels/0`); empty for the
    /// parameters themselves.
    pub pointer: String,
    /// The field path as the API server prints it, then what is wrong:
    /// `parameters.labels[0]: must be of type string, got integer`.
    pub message: String,
}

/// Validates constraint parameters against a template's `openAPIV3Schema`.
///
/// Returns every mismatch, in the order of the parameters' fields. Parameters that are null
/// are pruned by the API server like any other non-nullable null, so they fit any schema.
pub(crate) fn validate(schema: &Value, value: &Value) -> Vec<SchemaError> {
    let mut validator = Validator::default();
    if !value.is_null() {
        validator.check(schema, value, 0);
    }
    validator.errors
}

/// One step of the path from the parameters to a value.
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

#[derive(Default)]
struct Validator<'a> {
    path: Vec<Segment<'a>>,
    errors: Vec<SchemaError>,
}

impl<'a> Validator<'a> {
    fn check(&mut self, schema: &'a Value, value: &'a Value, depth: usize) {
        let Some(s) = schema.as_object() else {
            return;
        };
        if depth > MAX_DEPTH {
            self.error(format!(
                "nested more than {MAX_DEPTH} levels deep; not validated further"
            ));
            return;
        }
        if value.is_null() {
            self.check_null(s);
            return;
        }
        if !self.check_type(s, value) {
            return;
        }
        self.check_enum(s, value);
        match value {
            Value::String(text) => self.check_string(s, text),
            Value::Number(n) => self.check_number(s, n),
            Value::Array(items) => self.check_array(s, items, depth),
            Value::Object(fields) => self.check_object(s, fields, depth),
            Value::Bool(_) | Value::Null => {}
        }
        self.check_combinators(s, value, depth);
    }

    fn check_null(&mut self, s: &Map<String, Value>) {
        if flag(s, "nullable") {
            return;
        }
        if let Some(expected) = expected_type(s) {
            self.error(format!("must be of type {expected}, got null"));
        }
    }

    /// Reports a value of the wrong type; false when it is one (nothing more to check).
    fn check_type(&mut self, s: &Map<String, Value>, value: &Value) -> bool {
        let fits = if flag(s, "x-kubernetes-int-or-string") {
            value.is_string() || value.as_number().is_some_and(is_integer)
        } else {
            match s.get("type").and_then(Value::as_str) {
                Some("object") => value.is_object(),
                Some("array") => value.is_array(),
                Some("string") => value.is_string(),
                Some("boolean") => value.is_boolean(),
                Some("number") => value.is_number(),
                Some("integer") => value.as_number().is_some_and(is_integer),
                _ => true,
            }
        };
        if !fits {
            let expected = expected_type(s).unwrap_or("?");
            self.error(format!(
                "must be of type {expected}, got {}",
                type_name(value)
            ));
        }
        fits
    }

    fn check_enum(&mut self, s: &Map<String, Value>, value: &Value) {
        let Some(allowed) = s.get("enum").and_then(Value::as_array) else {
            return;
        };
        if allowed.iter().any(|a| json_eq(a, value)) {
            return;
        }
        let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
        self.error(format!(
            "must be one of {}, got {}",
            list.join(", "),
            short(value)
        ));
    }

    fn check_string(&mut self, s: &Map<String, Value>, text: &str) {
        let length = text.chars().count() as f64;
        if let Some(min) = number(s, "minLength").filter(|min| length < *min) {
            self.error(format!(
                "must be at least {min} characters long, got {length}"
            ));
        }
        if let Some(max) = number(s, "maxLength").filter(|max| length > *max) {
            self.error(format!(
                "must be at most {max} characters long, got {length}"
            ));
        }
        let Some(pattern) = s.get("pattern").and_then(Value::as_str) else {
            return;
        };
        // Kubernetes matches with Go's RE2 (unanchored search), which the regex crate follows.
        let compiled = RegexBuilder::new(pattern)
            .size_limit(PATTERN_SIZE_LIMIT)
            .build();
        if let Ok(re) = compiled
            && !re.is_match(text)
        {
            self.error(format!(
                "must match the pattern {pattern:?}, got {}",
                short(&Value::String(text.to_owned()))
            ));
        }
    }

    fn check_number(&mut self, s: &Map<String, Value>, n: &Number) {
        let Some(x) = n.as_f64() else {
            return;
        };
        if let Some(min) = number(s, "minimum") {
            let exclusive = flag(s, "exclusiveMinimum");
            if x < min || (exclusive && x == min) {
                let relation = if exclusive {
                    "greater than"
                } else {
                    "greater than or equal to"
                };
                self.error(format!("must be {relation} {}, got {n}", fmt_number(min)));
            }
        }
        if let Some(max) = number(s, "maximum") {
            let exclusive = flag(s, "exclusiveMaximum");
            if x > max || (exclusive && x == max) {
                let relation = if exclusive {
                    "less than"
                } else {
                    "less than or equal to"
                };
                self.error(format!("must be {relation} {}, got {n}", fmt_number(max)));
            }
        }
        if let Some(factor) = number(s, "multipleOf").filter(|f| *f > 0.0) {
            let quotient = x / factor;
            if (quotient - quotient.round()).abs() > 1e-9 {
                self.error(format!(
                    "must be a multiple of {}, got {n}",
                    fmt_number(factor)
                ));
            }
        }
    }

    fn check_array(&mut self, s: &'a Map<String, Value>, items: &'a [Value], depth: usize) {
        let count = items.len() as f64;
        if let Some(min) = number(s, "minItems").filter(|min| count < *min) {
            self.error(format!("must have at least {min} items, got {count}"));
        }
        if let Some(max) = number(s, "maxItems").filter(|max| count > *max) {
            self.error(format!("must have at most {max} items, got {count}"));
        }
        self.check_unique(s, items);
        let Some(item_schema) = s.get("items").filter(|i| i.is_object()) else {
            return;
        };
        for (i, item) in items.iter().enumerate() {
            // A null item that is not nullable is replaced by the items' default, if any.
            if item.is_null() && !flag_of(item_schema, "nullable") && has(item_schema, "default") {
                continue;
            }
            self.path.push(Segment::Index(i));
            self.check(item_schema, item, depth + 1);
            self.path.pop();
        }
    }

    /// `uniqueItems`, `x-kubernetes-list-type: set` and the keys of `x-kubernetes-list-type: map`.
    fn check_unique(&mut self, s: &Map<String, Value>, items: &[Value]) {
        let list_type = s.get("x-kubernetes-list-type").and_then(Value::as_str);
        let map_keys: Vec<&str> = match list_type {
            Some("map") => s
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .map(|keys| keys.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        if !map_keys.is_empty() {
            self.report_duplicates(items, |item| {
                let key: Vec<Value> = map_keys
                    .iter()
                    .map(|k| item.get(*k).cloned().unwrap_or(Value::Null))
                    .collect();
                canonical(&Value::Array(key))
            });
        } else if flag(s, "uniqueItems") || list_type == Some("set") {
            self.report_duplicates(items, canonical);
        }
    }

    fn report_duplicates(&mut self, items: &[Value], key: impl Fn(&Value) -> String) {
        let mut first: HashMap<String, usize> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            if let Some(&earlier) = first.get(&key(item)) {
                self.path.push(Segment::Index(i));
                self.error(format!("duplicate of item {earlier}"));
                self.path.pop();
            } else {
                first.insert(key(item), i);
            }
        }
    }

    fn check_object(
        &mut self,
        s: &'a Map<String, Value>,
        fields: &'a Map<String, Value>,
        depth: usize,
    ) {
        let properties = s.get("properties").and_then(Value::as_object);
        let additional = s.get("additionalProperties").filter(|a| a.is_object());
        let keeps_unknown = additional.is_some()
            || s.get("additionalProperties") == Some(&Value::Bool(true))
            || flag(s, "x-kubernetes-preserve-unknown-fields");
        let mut kept = 0usize;
        for (key, value) in fields {
            let Some(field_schema) = properties.and_then(|p| p.get(key)).or(additional) else {
                kept += usize::from(keeps_unknown);
                continue;
            };
            if is_pruned_null(field_schema, value) {
                continue;
            }
            kept += 1;
            self.path.push(Segment::Key(key));
            self.check(field_schema, value, depth + 1);
            self.path.pop();
        }
        self.check_required(s, properties, fields);
        self.check_property_count(s, kept);
    }

    fn check_required(
        &mut self,
        s: &'a Map<String, Value>,
        properties: Option<&'a Map<String, Value>>,
        fields: &Map<String, Value>,
    ) {
        let Some(required) = s.get("required").and_then(Value::as_array) else {
            return;
        };
        for name in required.iter().filter_map(Value::as_str) {
            let field_schema = properties.and_then(|p| p.get(name));
            let present = match fields.get(name) {
                Some(value) => !field_schema.is_some_and(|fs| is_pruned_null(fs, value)),
                None => false,
            };
            // A missing field with a default is filled in before validation.
            if !present && !field_schema.is_some_and(|fs| has(fs, "default")) {
                self.path.push(Segment::Key(name));
                self.error("is required".to_owned());
                self.path.pop();
            }
        }
    }

    fn check_property_count(&mut self, s: &Map<String, Value>, kept: usize) {
        let count = kept as f64;
        if let Some(min) = number(s, "minProperties").filter(|min| count < *min) {
            self.error(format!("must have at least {min} fields, got {count}"));
        }
        if let Some(max) = number(s, "maxProperties").filter(|max| count > *max) {
            self.error(format!("must have at most {max} fields, got {count}"));
        }
    }

    fn check_combinators(&mut self, s: &'a Map<String, Value>, value: &'a Value, depth: usize) {
        if let Some(all) = s.get("allOf").and_then(Value::as_array) {
            for sub in all {
                self.check(sub, value, depth + 1);
            }
        }
        if let Some(any) = s.get("anyOf").and_then(Value::as_array)
            && !any.is_empty()
            && !any.iter().any(|sub| fits(sub, value, depth))
        {
            self.error("must match at least one of the schemas in anyOf".to_owned());
        }
        if let Some(one) = s.get("oneOf").and_then(Value::as_array) {
            let matching = one.iter().filter(|sub| fits(sub, value, depth)).count();
            if !one.is_empty() && matching != 1 {
                self.error(format!(
                    "must match exactly one of the schemas in oneOf, matches {matching}"
                ));
            }
        }
        if let Some(not) = s.get("not").filter(|n| n.is_object())
            && fits(not, value, depth)
        {
            self.error("must not match the schema in not".to_owned());
        }
    }

    fn error(&mut self, message: String) {
        let mut pointer = String::new();
        let mut field = String::from("parameters");
        for segment in &self.path {
            match segment {
                Segment::Key(key) => {
                    let _ = write!(pointer, "/{}", key.replace('~', "~0").replace('/', "~1"));
                    if is_plain_key(key) {
                        let _ = write!(field, ".{key}");
                    } else {
                        let _ = write!(field, "[{key:?}]");
                    }
                }
                Segment::Index(i) => {
                    let _ = write!(pointer, "/{i}");
                    let _ = write!(field, "[{i}]");
                }
            }
        }
        self.errors.push(SchemaError {
            pointer,
            message: format!("{field}: {message}"),
        });
    }
}

/// Whether value fits schema, for the combinators (which report on their own).
fn fits(schema: &Value, value: &Value, depth: usize) -> bool {
    let mut probe = Validator::default();
    probe.check(schema, value, depth + 1);
    probe.errors.is_empty()
}

/// A null the API server removes before validation: not nullable, no default to replace it.
fn is_pruned_null(field_schema: &Value, value: &Value) -> bool {
    value.is_null() && !flag_of(field_schema, "nullable") && !has(field_schema, "default")
}

fn expected_type(s: &Map<String, Value>) -> Option<&str> {
    if flag(s, "x-kubernetes-int-or-string") {
        return Some("integer or string");
    }
    s.get("type").and_then(Value::as_str).filter(|t| {
        matches!(
            *t,
            "object" | "array" | "string" | "boolean" | "number" | "integer"
        )
    })
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if is_integer(n) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// An integer, including a float with no fraction (`2.0`), as the API server accepts it.
fn is_integer(n: &Number) -> bool {
    n.is_i64()
        || n.is_u64()
        || n.as_f64()
            .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
}

fn flag(s: &Map<String, Value>, key: &str) -> bool {
    s.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn flag_of(schema: &Value, key: &str) -> bool {
    schema.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn has(schema: &Value, key: &str) -> bool {
    schema.get(key).is_some_and(|v| !v.is_null())
}

fn number(s: &Map<String, Value>, key: &str) -> Option<f64> {
    s.get(key).and_then(Value::as_f64)
}

fn fmt_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        x.to_string()
    }
}

/// Equality as JSON values: numbers compare by value (`1` equals `1.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(i, j)| json_eq(i, j))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// A text that is equal for values [`json_eq`] calls equal: keys sorted, numbers normalised.
fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => out.push_str(&i.to_string()),
            (None, Some(u), _) => out.push_str(&u.to_string()),
            (None, None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e18 => {
                out.push_str(&(f as i64).to_string());
            }
            _ => out.push_str(&n.to_string()),
        },
        Value::Array(items) => {
            out.push('[');
            for item in items {
                write_canonical(item, out);
                out.push(',');
            }
            out.push(']');
        }
        Value::Object(fields) => {
            let mut keys: Vec<&String> = fields.keys().collect();
            keys.sort();
            out.push('{');
            for key in keys {
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(v) = fields.get(key) {
                    write_canonical(v, out);
                }
                out.push(',');
            }
            out.push('}');
        }
        _ => out.push_str(&value.to_string()),
    }
}

/// A value for a message: JSON, cut after 60 characters.
fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}...", text.get(..cut).unwrap_or_default()),
        None => text,
    }
}

fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(schema: Value, value: Value) -> Vec<String> {
        validate(&schema, &value)
            .into_iter()
            .map(|e| e.message)
            .collect()
    }

    fn labels_schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "labels": {"type": "array", "items": {"type": "string"}},
                "message": {"type": "string"}
            }
        })
    }

    #[test]
    fn fitting_parameters_have_no_errors() {
        let value = json!({"labels": ["app", "owner"], "message": "hi"});
        assert!(validate(&labels_schema(), &value).is_empty());
    }

    #[test]
    fn wrong_item_type_names_field_and_pointer() {
        let errors = validate(&labels_schema(), &json!({"labels": ["app", 3]}));
        assert_eq!(
            errors,
            vec![SchemaError {
                pointer: "/labels/1".into(),
                message: "parameters.labels[1]: must be of type string, got integer".into(),
            }]
        );
    }

    #[test]
    fn wrong_type_of_the_parameters_themselves() {
        let errors = validate(&labels_schema(), &json!(["app"]));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].pointer, "");
        assert_eq!(
            errors[0].message,
            "parameters: must be of type object, got array"
        );
    }

    #[test]
    fn unknown_fields_are_pruned_not_reported() {
        let value = json!({"labels": ["a"], "lables": 5, "extra": {"x": [1]}});
        assert!(validate(&labels_schema(), &value).is_empty());
    }

    #[test]
    fn no_schema_accepts_anything() {
        assert!(validate(&Value::Null, &json!({"anything": [1, "two"]})).is_empty());
        assert!(validate(&json!({}), &json!({"anything": [1, "two"]})).is_empty());
    }

    #[test]
    fn legacy_schema_without_type_at_the_top() {
        let schema =
            json!({"properties": {"repos": {"type": "array", "items": {"type": "string"}}}});
        assert!(validate(&schema, &json!({"repos": ["gcr.io/"]})).is_empty());
        assert_eq!(
            messages(schema, json!({"repos": "gcr.io/"})),
            ["parameters.repos: must be of type array, got string"]
        );
    }

    #[test]
    fn integers_are_numbers_and_whole_floats_are_integers() {
        let schema = json!({"properties": {
            "ratio": {"type": "number"},
            "count": {"type": "integer"}
        }});
        assert!(validate(&schema, &json!({"ratio": 2, "count": 3.0})).is_empty());
        assert_eq!(
            messages(schema, json!({"ratio": "2", "count": 1.5})),
            [
                "parameters.ratio: must be of type number, got string",
                "parameters.count: must be of type integer, got number"
            ]
        );
    }

    #[test]
    fn boolean_type() {
        let schema = json!({"properties": {"strict": {"type": "boolean"}}});
        assert!(validate(&schema, &json!({"strict": false})).is_empty());
        assert_eq!(
            messages(schema, json!({"strict": "false"})),
            ["parameters.strict: must be of type boolean, got string"]
        );
    }

    #[test]
    fn required_fields() {
        let schema = json!({
            "type": "object",
            "required": ["min", "max"],
            "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}}
        });
        let errors = validate(&schema, &json!({"min": 1}));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].pointer, "/max");
        assert_eq!(errors[0].message, "parameters.max: is required");
    }

    #[test]
    fn required_field_with_a_default_is_filled_in() {
        let schema = json!({
            "type": "object",
            "required": ["mode"],
            "properties": {"mode": {"type": "string", "default": "audit"}}
        });
        assert!(validate(&schema, &json!({})).is_empty());
    }

    #[test]
    fn null_field_is_pruned_unless_nullable() {
        let schema = json!({
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string"},
                "note": {"type": "string"},
                "owner": {"type": "string", "nullable": true}
            }
        });
        // note: null is pruned silently; name: null is pruned and then missing.
        assert_eq!(
            messages(schema.clone(), json!({"name": null, "note": null})),
            ["parameters.name: is required"]
        );
        assert!(validate(&schema, &json!({"name": "x", "owner": null})).is_empty());
    }

    #[test]
    fn null_array_item_is_an_error_unless_nullable() {
        let schema =
            json!({"properties": {"tags": {"type": "array", "items": {"type": "string"}}}});
        assert_eq!(
            messages(schema, json!({"tags": ["a", null]})),
            ["parameters.tags[1]: must be of type string, got null"]
        );
        let nullable = json!({"properties": {"tags": {"type": "array",
            "items": {"type": "string", "nullable": true}}}});
        assert!(validate(&nullable, &json!({"tags": [null]})).is_empty());
    }

    #[test]
    fn parameters_null_are_pruned() {
        assert!(validate(&labels_schema(), &Value::Null).is_empty());
    }

    #[test]
    fn enum_values() {
        let schema = json!({"properties": {"mode": {"type": "string", "enum": ["allow", "deny"]}}});
        assert!(validate(&schema, &json!({"mode": "deny"})).is_empty());
        assert_eq!(
            messages(schema, json!({"mode": "block"})),
            [r#"parameters.mode: must be one of "allow", "deny", got "block""#]
        );
    }

    #[test]
    fn enum_compares_numbers_by_value() {
        let schema = json!({"properties": {"level": {"type": "number", "enum": [1, 2.5]}}});
        assert!(validate(&schema, &json!({"level": 1.0})).is_empty());
    }

    #[test]
    fn pattern_is_an_unanchored_search() {
        let schema = json!({"properties": {"repo": {"type": "string", "pattern": "^[a-z.]+/$"}}});
        assert!(validate(&schema, &json!({"repo": "gcr.io/"})).is_empty());
        assert_eq!(
            messages(schema, json!({"repo": "GCR"})),
            [r#"parameters.repo: must match the pattern "^[a-z.]+/$", got "GCR""#]
        );
        let search = json!({"type": "string", "pattern": "io"});
        assert!(validate(&search, &json!("gcr.io/x")).is_empty());
    }

    #[test]
    fn invalid_pattern_is_skipped() {
        let schema = json!({"type": "string", "pattern": "(unclosed"});
        assert!(validate(&schema, &json!("anything")).is_empty());
    }

    #[test]
    fn numeric_bounds() {
        let schema = json!({"properties": {
            "min": {"type": "integer", "minimum": 1, "maximum": 10},
            "ex": {"type": "number", "minimum": 0, "exclusiveMinimum": true,
                   "maximum": 1, "exclusiveMaximum": true}
        }});
        assert!(validate(&schema, &json!({"min": 10, "ex": 0.5})).is_empty());
        assert_eq!(
            messages(schema.clone(), json!({"min": 0, "ex": 0})),
            [
                "parameters.min: must be greater than or equal to 1, got 0",
                "parameters.ex: must be greater than 0, got 0"
            ]
        );
        assert_eq!(
            messages(schema, json!({"min": 11, "ex": 1})),
            [
                "parameters.min: must be less than or equal to 10, got 11",
                "parameters.ex: must be less than 1, got 1"
            ]
        );
    }

    #[test]
    fn multiple_of() {
        let schema = json!({"type": "number", "multipleOf": 0.5});
        assert!(validate(&schema, &json!(2.5)).is_empty());
        assert_eq!(
            messages(schema, json!(2.25)),
            ["parameters: must be a multiple of 0.5, got 2.25"]
        );
    }

    #[test]
    fn string_length_counts_characters() {
        let schema = json!({"type": "string", "minLength": 2, "maxLength": 3});
        assert!(validate(&schema, &json!("äöü")).is_empty());
        assert_eq!(
            messages(schema.clone(), json!("a")),
            ["parameters: must be at least 2 characters long, got 1"]
        );
        assert_eq!(
            messages(schema, json!("abcd")),
            ["parameters: must be at most 3 characters long, got 4"]
        );
    }

    #[test]
    fn item_counts() {
        let schema = json!({"type": "array", "minItems": 1, "maxItems": 2});
        assert_eq!(
            messages(schema.clone(), json!([])),
            ["parameters: must have at least 1 items, got 0"]
        );
        assert_eq!(
            messages(schema, json!([1, 2, 3])),
            ["parameters: must have at most 2 items, got 3"]
        );
    }

    #[test]
    fn unique_items_and_list_type_set() {
        let schema = json!({"type": "array", "uniqueItems": true});
        let errors = validate(&schema, &json!([{"a": 1, "b": 2}, "x", {"b": 2, "a": 1.0}]));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].pointer, "/2");
        assert_eq!(errors[0].message, "parameters[2]: duplicate of item 0");
        let set = json!({"type": "array", "x-kubernetes-list-type": "set"});
        assert_eq!(validate(&set, &json!(["a", "b", "a"])).len(), 1);
    }

    #[test]
    fn list_type_map_keys_must_be_unique() {
        let schema = json!({
            "type": "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": {"type": "object", "properties": {"name": {"type": "string"}}}
        });
        let value = json!([{"name": "a", "v": 1}, {"name": "b"}, {"name": "a", "v": 2}]);
        assert_eq!(
            messages(schema, value),
            ["parameters[2]: duplicate of item 0"]
        );
    }

    #[test]
    fn additional_properties_schema_validates_every_value() {
        let schema = json!({
            "type": "object",
            "additionalProperties": {"type": "integer"}
        });
        assert!(validate(&schema, &json!({"cpu": 2, "gone": null})).is_empty());
        assert_eq!(
            messages(schema, json!({"cpu": 2, "memory": "1Gi"})),
            ["parameters.memory: must be of type integer, got string"]
        );
    }

    #[test]
    fn additional_properties_true_and_false_report_nothing() {
        let open = json!({"type": "object", "additionalProperties": true});
        assert!(validate(&open, &json!({"x": [1, null]})).is_empty());
        // Refused in the template by the API server; the extra field would be pruned.
        let closed = json!({"type": "object", "properties": {}, "additionalProperties": false});
        assert!(validate(&closed, &json!({"x": 1})).is_empty());
    }

    #[test]
    fn preserve_unknown_fields_without_type_accepts_anything() {
        let schema =
            json!({"properties": {"extra": {"x-kubernetes-preserve-unknown-fields": true}}});
        for value in [
            json!(1),
            json!("s"),
            json!([null]),
            json!({"a": {}}),
            Value::Null,
        ] {
            assert!(validate(&schema, &json!({"extra": value})).is_empty());
        }
    }

    #[test]
    fn int_or_string() {
        let schema = json!({"properties": {"port": {"x-kubernetes-int-or-string": true}}});
        assert!(validate(&schema, &json!({"port": 80})).is_empty());
        assert!(validate(&schema, &json!({"port": "http"})).is_empty());
        assert_eq!(
            messages(schema, json!({"port": 8.5})),
            ["parameters.port: must be of type integer or string, got number"]
        );
    }

    #[test]
    fn any_of_and_one_of() {
        let any = json!({"type": "object", "anyOf": [{"required": ["a"]}, {"required": ["b"]}]});
        assert!(validate(&any, &json!({"b": 1})).is_empty());
        assert_eq!(
            messages(any, json!({"c": 1})),
            ["parameters: must match at least one of the schemas in anyOf"]
        );
        let one = json!({"type": "object", "oneOf": [{"required": ["a"]}, {"required": ["b"]}]});
        assert!(validate(&one, &json!({"a": 1})).is_empty());
        assert_eq!(
            messages(one, json!({"a": 1, "b": 2})),
            ["parameters: must match exactly one of the schemas in oneOf, matches 2"]
        );
    }

    #[test]
    fn all_of_and_not() {
        let schema = json!({
            "type": "string",
            "allOf": [{"minLength": 2}, {"pattern": "^a"}],
            "not": {"enum": ["ab"]}
        });
        assert!(validate(&schema, &json!("abc")).is_empty());
        assert_eq!(
            messages(schema.clone(), json!("b")),
            [
                "parameters: must be at least 2 characters long, got 1",
                r#"parameters: must match the pattern "^a", got "b""#
            ]
        );
        assert_eq!(
            messages(schema, json!("ab")),
            ["parameters: must not match the schema in not"]
        );
    }

    #[test]
    fn property_counts_ignore_pruned_fields() {
        let schema = json!({"type": "object", "properties": {"a": {"type": "integer"}},
            "minProperties": 1, "maxProperties": 1});
        assert_eq!(
            messages(schema.clone(), json!({"unknown": 1})),
            ["parameters: must have at least 1 fields, got 0"]
        );
        assert!(validate(&schema, &json!({"a": 1, "unknown": 2})).is_empty());
    }

    #[test]
    fn nested_paths_and_odd_keys() {
        let schema = json!({"properties": {"limits": {"type": "object",
            "additionalProperties": {"type": "object",
                "properties": {"max": {"type": "array", "items": {"type": "integer"}}}}}}});
        let errors = validate(&schema, &json!({"limits": {"a/b.c": {"max": [1, "x"]}}}));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].pointer, "/limits/a~1b.c/max/1");
        assert_eq!(
            errors[0].message,
            r#"parameters.limits["a/b.c"].max[1]: must be of type integer, got string"#
        );
    }

    #[test]
    fn unknown_type_is_not_the_parameters_fault() {
        let schema = json!({"type": "strnig"});
        assert!(validate(&schema, &json!(1)).is_empty());
    }

    #[test]
    fn deep_nesting_is_cut_once() {
        let mut schema = json!({"type": "string"});
        let mut value = json!("x");
        for _ in 0..200 {
            schema = json!({"type": "array", "items": schema});
            value = json!([value]);
        }
        let errors = validate(&schema, &value);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("not validated further"));
        let mut nested_any = json!({"type": "string"});
        for _ in 0..200 {
            nested_any = json!({"anyOf": [{"not": {"allOf": [nested_any]}}]});
        }
        // The probe of the combinators stops at the depth limit too.
        assert_eq!(
            messages(nested_any, json!("x")),
            ["parameters: must match at least one of the schemas in anyOf"]
        );
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let schema = json!({"type": "string", "enum": ["a"]});
        let long = "x".repeat(500);
        let message = &messages(schema, json!(long))[0];
        assert!(message.len() < 150, "{message}");
        assert!(message.ends_with("..."));
    }
}
