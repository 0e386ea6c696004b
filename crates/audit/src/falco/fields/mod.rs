//! The fields a condition or output may read: every `ka.*` field of the k8saudit plugin and
//! the `json.*`/`jevt.*` fields of the json plugin, each resolved once at load time to an
//! extractor with its argument parsed.

mod json;
mod k8saudit;

use serde_json::Value;
use std::borrow::Cow;

pub use k8saudit::FIELD_NAMES as K8SAUDIT_FIELDS;

/// Extracted bytes: borrowed from the event where possible.
pub type Bytes<'e> = Cow<'e, [u8]>;

/// What a field extracts from one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Values<'e> {
    /// The field has no value here (Falco's "not available"): every comparison is false.
    None,
    /// One value (non-list fields).
    One(Bytes<'e>),
    /// The values of a list field (never empty: an empty list is [`Values::None`]).
    Many(Vec<Bytes<'e>>),
}

impl<'e> Values<'e> {
    /// The values as a slice.
    pub fn as_slice(&self) -> &[Bytes<'e>] {
        match self {
            Values::None => &[],
            Values::One(v) => std::slice::from_ref(v),
            Values::Many(v) => v,
        }
    }

    /// A list field's values; an empty list has no value.
    pub fn list(values: Vec<Bytes<'e>>) -> Values<'e> {
        if values.is_empty() {
            Values::None
        } else {
            Values::Many(values)
        }
    }

    /// One value, when there is one.
    pub fn one(value: Option<Bytes<'e>>) -> Values<'e> {
        value.map_or(Values::None, Values::One)
    }
}

/// What argument a field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// None.
    None,
    /// An optional `[index]` into the containers (or rules, volumes, ports...).
    Index,
    /// A required `[key]`.
    Key,
}

/// The argument given, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Arg {
    /// No argument.
    None,
    /// `[n]`.
    Index(usize),
    /// `[key]`.
    Key(String),
}

/// A field with its argument, ready to extract.
#[derive(Debug, Clone)]
pub struct FieldRef {
    def: &'static FieldDef,
    arg: Arg,
}

impl PartialEq for FieldRef {
    fn eq(&self, other: &FieldRef) -> bool {
        self.def.name == other.def.name && self.arg == other.arg
    }
}

impl Eq for FieldRef {}

impl std::hash::Hash for FieldRef {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.def.name.hash(state);
        self.arg.hash(state);
    }
}

/// One field of the registry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldDef {
    pub name: &'static str,
    pub is_list: bool,
    pub arg: ArgKind,
    pub(crate) extract: Extractor,
}

/// How a field is read (the registries pair each name with one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Extractor {
    K8s(k8saudit::Kind),
    Json(json::Kind),
}

fn registry() -> impl Iterator<Item = &'static FieldDef> {
    k8saudit::FIELDS.iter().chain(json::FIELDS.iter())
}

/// True if `name` is a field this engine knows (with or without an argument).
pub fn is_known(name: &str) -> bool {
    registry().any(|f| f.name == name)
}

impl FieldRef {
    /// Resolves a field name and its optional argument, or says why it cannot be used.
    pub fn resolve(name: &str, arg: Option<&str>) -> Result<FieldRef, String> {
        let def = registry()
            .find(|f| f.name == name)
            .ok_or_else(|| format!("unknown field '{name}'"))?;
        let arg = match (def.arg, arg) {
            (ArgKind::None, None) | (ArgKind::Index, None) => Arg::None,
            (ArgKind::None, Some(a)) => {
                return Err(format!(
                    "field '{name}' does not take an argument (got '[{a}]')"
                ));
            }
            (ArgKind::Index, Some(a)) => Arg::Index(a.parse().map_err(|_| {
                format!("field '{name}' takes a numeric index argument, not '[{a}]'")
            })?),
            (ArgKind::Key, Some(a)) => Arg::Key(a.to_string()),
            (ArgKind::Key, None) => {
                return Err(format!(
                    "field '{name}' requires an argument, such as {name}[key]"
                ));
            }
        };
        Ok(FieldRef { def, arg })
    }

    /// Whether the field yields a list.
    pub fn is_list(&self) -> bool {
        self.def.is_list
    }

    /// The field's name.
    pub fn name(&self) -> &'static str {
        self.def.name
    }

    /// Reads the field from an event.
    pub fn extract<'e>(&self, event: &'e Value) -> Values<'e> {
        match self.def.extract {
            Extractor::K8s(kind) => k8saudit::extract(kind, &self.arg, event),
            Extractor::Json(kind) => json::extract(kind, &self.arg, event),
        }
    }
}

/// A JSON value as the plugins render it: strings as they are, anything else as compact JSON.
pub(crate) fn as_text(value: &Value) -> Bytes<'_> {
    match value {
        Value::String(s) => Cow::Borrowed(s.as_bytes()),
        other => Cow::Owned(other.to_string().into_bytes()),
    }
}

/// One step of a path: a key of an object, or an index into an array.
pub(crate) fn step<'e>(value: &'e Value, key: &str) -> Option<&'e Value> {
    match value {
        Value::Object(map) => map.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    }
}

/// Follows object keys (and array indexes), like fastjson's `Get(keys...)`.
pub(crate) fn walk<'e>(value: &'e Value, keys: &[&str]) -> Option<&'e Value> {
    keys.iter().try_fold(value, |v, k| step(v, k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_has_every_k8saudit_field_once() {
        let names: Vec<&str> = k8saudit::FIELDS.iter().map(|f| f.name).collect();
        // 71 fields in the plugin's fields.go, plus 15 initContainers and 14
        // ephemeralContainers twins.
        assert_eq!(names.len(), 100);
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "duplicate field names");
        assert_eq!(
            names
                .iter()
                .filter(|n| n.starts_with("ka.req.pod.initContainers."))
                .count(),
            15
        );
        assert_eq!(
            names
                .iter()
                .filter(|n| n.starts_with("ka.req.pod.ephemeralContainers."))
                .count(),
            14
        );
    }

    #[test]
    fn arguments_are_checked() {
        assert!(FieldRef::resolve("ka.uri.param", None).is_err());
        assert!(FieldRef::resolve("ka.verb", Some("x")).is_err());
        assert!(FieldRef::resolve("ka.req.pod.containers.image", Some("x")).is_err());
        assert!(FieldRef::resolve("ka.req.pod.containers.image", Some("1")).is_ok());
        assert!(FieldRef::resolve("ka.nope", None).is_err());
        assert!(FieldRef::resolve("jevt.value", Some("/verb")).is_ok());
    }
}
