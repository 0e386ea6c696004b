//! Search identifiers: maps (AND of fields), lists of maps (OR), keyword lists, compiled into
//! items, with load-time checks against the audit Event schema.

use super::diagnostic::{RuleError, Sink};
use super::field::{Eval, FieldPath, Interner};
use super::matcher::{Item, Test};
use super::modifier::Modifiers;
use super::schema::{self, Kind, Lookup};
use super::value::TextPart;
use palisade_model::{Positions, escape_token};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One search identifier: alternatives linked with OR, each an AND of items.
#[derive(Debug)]
pub(super) struct Search {
    alternatives: Vec<Vec<Item>>,
}

impl Search {
    pub fn matches(&self, eval: &mut Eval<'_>) -> bool {
        self.alternatives
            .iter()
            .any(|items| items.iter().all(|item| item.matches(eval)))
    }
}

/// What compiling a search needs besides its value.
pub(super) struct Context<'a, 'd> {
    pub positions: &'a Positions,
    pub placeholders: &'a BTreeMap<String, Vec<String>>,
    pub fields: &'a mut Interner,
    pub sink: &'a mut Sink<'d>,
}

impl Context<'_, '_> {
    fn line(&self, pointer: &str) -> Option<u32> {
        self.positions.line_of(pointer)
    }
}

/// Compiles the search `name` from its YAML value.
pub(super) fn compile(name: &str, value: &Value, cx: &mut Context) -> Result<Search, RuleError> {
    let pointer = format!("/detection/{}", escape_token(name));
    let alternatives = match value {
        Value::Object(map) => vec![map_items(map, &pointer, cx)?],
        Value::Array(list) if list.is_empty() => {
            return Err(RuleError::new(
                cx.line(&pointer),
                format!("search {name} is an empty list"),
            ));
        }
        Value::Array(list) => list_alternatives(list, &pointer, cx)?,
        Value::String(_) | Value::Number(_) | Value::Bool(_) => {
            vec![vec![keywords(&[value], &pointer, cx)?]]
        }
        Value::Null => {
            return Err(RuleError::new(
                cx.line(&pointer),
                format!("search {name} is empty"),
            ));
        }
    };
    Ok(Search { alternatives })
}

/// A list: maps are alternatives; plain values are keywords, together one alternative.
fn list_alternatives(
    list: &[Value],
    pointer: &str,
    cx: &mut Context,
) -> Result<Vec<Vec<Item>>, RuleError> {
    let mut alternatives = Vec::new();
    let mut words = Vec::new();
    for (i, element) in list.iter().enumerate() {
        let at = format!("{pointer}/{i}");
        match element {
            Value::Object(map) => alternatives.push(map_items(map, &at, cx)?),
            Value::Array(_) => {
                return Err(RuleError::new(
                    cx.line(&at),
                    "a list inside a search list is not allowed",
                ));
            }
            Value::Null => {
                return Err(RuleError::new(cx.line(&at), "a keyword cannot be null"));
            }
            scalar => words.push(scalar),
        }
    }
    if !words.is_empty() {
        alternatives.push(vec![keywords(&words, pointer, cx)?]);
    }
    Ok(alternatives)
}

/// Plain values searched for in every string of the event, anywhere in it.
fn keywords(words: &[&Value], pointer: &str, cx: &mut Context) -> Result<Item, RuleError> {
    let list = Value::Array(words.iter().map(|w| (*w).clone()).collect());
    let modifiers =
        Modifiers::parse(&["contains"]).map_err(|e| RuleError::new(cx.line(pointer), e))?;
    let test = modifiers
        .compile(None, &list, cx.placeholders)
        .map_err(|e| RuleError::new(cx.line(pointer), e))?;
    Ok(Item {
        field: None,
        test,
        negate: false,
    })
}

/// A map: every key is an item, all must match.
fn map_items(
    map: &Map<String, Value>,
    pointer: &str,
    cx: &mut Context,
) -> Result<Vec<Item>, RuleError> {
    if map.is_empty() {
        return Err(RuleError::new(
            cx.line(pointer),
            "empty map: a search needs at least one field",
        ));
    }
    map.iter()
        .map(|(key, value)| {
            let at = format!("{pointer}/{}", escape_token(key));
            item(key, value, &at, cx)
        })
        .collect()
}

fn item(key: &str, value: &Value, pointer: &str, cx: &mut Context) -> Result<Item, RuleError> {
    let line = cx.line(pointer);
    let mut parts = key.split('|');
    let field = parts.next().unwrap_or_default();
    let names: Vec<&str> = parts.collect();
    let mut modifiers =
        Modifiers::parse(&names).map_err(|e| RuleError::new(line, format!("{key}: {e}")))?;
    let field = (!field.is_empty()).then_some(field);
    if field.is_none() {
        // A map key of modifiers only (`'|all':`) is a keyword search with modifiers: the
        // values are found anywhere in a string, as plain keywords are.
        let mut with_contains = names.clone();
        let placed = |n: &&str| {
            matches!(
                *n,
                "contains"
                    | "startswith"
                    | "endswith"
                    | "re"
                    | "cidr"
                    | "exists"
                    | "fieldref"
                    | "gt"
                    | "gte"
                    | "lt"
                    | "lte"
            )
        };
        if !names.iter().any(placed) {
            with_contains.push("contains");
        }
        modifiers = Modifiers::parse(&with_contains)
            .map_err(|e| RuleError::new(line, format!("{key}: {e}")))?;
    }
    let test = modifiers
        .compile(field, value, cx.placeholders)
        .map_err(|e| RuleError::new(line, format!("{key}: {e}")))?;
    if modifiers.all && value.as_array().is_none_or(|a| a.len() < 2) {
        cx.sink.warn(
            line,
            format!(
                "{key}: all with a single value has no effect (the specification disallows it)"
            ),
        );
    }
    let field = field.map(|f| cx.fields.path(f));
    if let Some(path) = &field {
        check_field(path, &test, &modifiers, value, line, cx);
    }
    Ok(Item {
        field,
        test,
        negate: modifiers.neq,
    })
}

/// Warns about fields that never appear in audit events and values that can never match the
/// type of the field.
fn check_field(
    path: &FieldPath,
    test: &Test,
    modifiers: &Modifiers,
    value: &Value,
    line: Option<u32>,
    cx: &mut Context,
) {
    let name = path.name();
    match schema::lookup(path.segments()) {
        Lookup::Absent { .. } => {
            let effect = match (test, modifiers.neq) {
                (Test::Null | Test::Exists(false), false)
                | (Test::Any(_) | Test::All(_) | Test::Exists(true), true) => {
                    "so this item always matches"
                }
                _ => "so this item never matches",
            };
            let hint = schema::suggestion(name)
                .map(|s| format!("; did you mean {s}?"))
                .unwrap_or_default();
            cx.sink.warn(
                line,
                format!("field {name} is not in the audit.k8s.io Event schema and is never present in audit events, {effect}{hint}"),
            );
        }
        Lookup::Known(Kind::Integer) if modifiers.is_plain() => {
            let values: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            for v in values {
                let never = modifiers
                    .patterns(v, cx.placeholders)
                    .is_ok_and(|patterns| patterns.iter().all(|p| !can_be_integer(p)));
                if never && !v.is_null() {
                    cx.sink.warn(
                        line,
                        format!("field {name} is an integer in audit events: the value {v} can never match it"),
                    );
                }
            }
        }
        Lookup::Known(_) => {}
    }
}

/// Whether a pattern could match the decimal text of some integer.
fn can_be_integer(parts: &[TextPart]) -> bool {
    parts.iter().all(|p| match p {
        // Decimal notations (1.0, 1e3) compare equal to integers too.
        TextPart::Lit(lit) => lit
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')),
        TextPart::Any | TextPart::One => true,
    })
}
