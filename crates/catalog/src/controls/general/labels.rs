//! PAL-914: label keys and values must have the syntax the API server accepts, or the object
//! is rejected (`metadata.labels: Invalid value`).

use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::{Object, escape_token};
use serde_json::{Map, Value};

pub const RULE: Rule = Rule {
    id: "PAL-914",
    target: Target::Any,
    check,
};

const MAX_NAME: usize = 63;
const MAX_PREFIX: usize = 253;

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    labels_at(object.labels(), "/metadata", "label", hits);
    if let Some(pod) = object
        .pod_spec()
        .filter(|p| p.metadata_pointer != "/metadata")
        && let Some(labels) = pod
            .metadata
            .and_then(|m| m.get("labels"))
            .and_then(Value::as_object)
    {
        labels_at(labels, pod.metadata_pointer, "pod template label", hits);
    }
}

fn labels_at(labels: &Map<String, Value>, metadata: &str, what: &str, hits: &mut Hits) {
    for (key, value) in labels {
        let field = || format!("{metadata}/labels/{}", escape_token(key));
        if let Some(problem) = key_problem(key) {
            hits.push(field(), format!("{what} key {key:?} {problem}"));
        }
        if let Some(problem) = value_problem(value) {
            hits.push(field(), format!("{what} {key:?} {problem}"));
        }
    }
}

/// What is wrong with a label key (`[prefix/]name`), if anything.
fn key_problem(key: &str) -> Option<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if name.contains('/') {
        return Some("has more than one '/'".to_string());
    }
    if let Some(prefix) = prefix
        && (prefix.len() > MAX_PREFIX || !is_dns_subdomain(prefix))
    {
        return Some(format!(
            "has an invalid prefix {prefix:?}: it must be a lower-case DNS subdomain of at most {MAX_PREFIX} characters"
        ));
    }
    if name.is_empty() {
        return Some("has an empty name part".to_string());
    }
    name_problem(name)
}

/// What is wrong with a label value, if anything. A null value is read as empty, which is
/// valid.
fn value_problem(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => name_problem(s).map(|p| format!("has the value {s:?}, which {p}")),
        Value::Null => None,
        Value::Bool(b) => Some(format!(
            "has the boolean value {b} (YAML reads unquoted yes, no, on, off, true and false as booleans): label values must be strings, so quote it"
        )),
        Value::Number(n) => Some(format!(
            "has the numeric value {n} (as YAML reads it): label values must be strings, so quote it"
        )),
        Value::Array(_) | Value::Object(_) => {
            Some("has a list or map value: label values must be strings".to_string())
        }
    }
}

/// The rule for label names and values: at most 63 characters, alphanumerics, '-', '_' and
/// '.', beginning and ending with an alphanumeric.
fn name_problem(s: &str) -> Option<String> {
    if s.len() > MAX_NAME {
        return Some(format!(
            "is {} characters long (at most {MAX_NAME} are allowed)",
            s.len()
        ));
    }
    let allowed = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let ends_ok = s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric());
    (!allowed || !ends_ok).then(|| {
        "must consist of alphanumerics, '-', '_' or '.', beginning and ending with an alphanumeric"
            .to_string()
    })
}

/// RFC 1123 subdomain: dot-separated lower-case labels of alphanumerics and '-', each
/// beginning and ending with an alphanumeric.
fn is_dns_subdomain(s: &str) -> bool {
    s.split('.').all(|label| {
        !label.is_empty()
            && label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    })
}
