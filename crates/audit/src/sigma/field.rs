//! Dotted field names (`objectRef.resource`) resolved against an audit event's JSON.
//!
//! A name is split at dots once, when the rule is compiled. Keys that themselves contain dots
//! (annotations such as `authorization.k8s.io/decision`, labels such as `app.kubernetes.io/name`)
//! are found by joining the remaining segments when the single segment is absent, so
//! `annotations.authorization.k8s.io/decision` works. Arrays on the way are crossed: each
//! element is followed, and the field matches if any of them does.

use serde_json::{Map, Value};
use std::collections::HashMap;

/// A compiled field name.
#[derive(Debug, Clone)]
pub(super) struct FieldPath {
    name: Box<str>,
    /// `joins[i][k]`: segments `i..=i+k` joined with dots, the key tried at step `i`.
    joins: Vec<Vec<Box<str>>>,
    /// Its place in the per-event cache ([`Eval`]), shared by every rule naming the field.
    slot: Option<usize>,
}

/// Gives every distinct field name of the loaded rules one cache slot.
#[derive(Debug, Default)]
pub(super) struct Interner {
    slots: HashMap<Box<str>, usize>,
}

impl Interner {
    /// A field name with its cache slot.
    pub fn path(&mut self, name: &str) -> FieldPath {
        let next = self.slots.len();
        let slot = *self.slots.entry(name.into()).or_insert(next);
        FieldPath {
            slot: Some(slot),
            ..FieldPath::new(name)
        }
    }

    /// How many slots an [`Eval`] needs.
    pub fn len(&self) -> usize {
        self.slots.len()
    }
}

/// Where a field name leads in one event.
#[derive(Debug, Clone, Copy)]
enum Reach<'a> {
    Missing,
    /// One node, reached without crossing an array.
    Node(&'a Value),
    /// Arrays on the way: walk the path for each question.
    Spread,
}

/// One event being evaluated: fields that many rules name are looked up once.
pub(super) struct Eval<'a> {
    pub root: &'a Value,
    slots: Vec<Option<Reach<'a>>>,
}

impl<'a> Eval<'a> {
    pub fn new(root: &'a Value, slots: usize) -> Eval<'a> {
        Eval {
            root,
            slots: vec![None; slots],
        }
    }

    fn reach(&mut self, path: &FieldPath) -> Reach<'a> {
        let Some(cell) = path.slot.and_then(|s| self.slots.get_mut(s)) else {
            return Reach::Spread;
        };
        *cell.get_or_insert_with(|| path.reach(self.root))
    }

    /// [`FieldPath::any_leaf`], through the cache.
    pub fn any_leaf(&mut self, path: &FieldPath, leaf: &mut impl FnMut(&'a Value) -> bool) -> bool {
        match self.reach(path) {
            Reach::Missing => false,
            Reach::Node(node) => each_element(node, leaf),
            Reach::Spread => path.any_leaf(self.root, leaf),
        }
    }

    /// [`FieldPath::exists`], through the cache.
    pub fn exists(&mut self, path: &FieldPath) -> bool {
        match self.reach(path) {
            Reach::Missing => false,
            Reach::Node(_) => true,
            Reach::Spread => path.exists(self.root),
        }
    }
}

impl FieldPath {
    pub fn new(name: &str) -> FieldPath {
        let segments: Vec<&str> = name.split('.').collect();
        let joins = (0..segments.len())
            .map(|i| {
                (i..segments.len())
                    .map(|j| segments.get(i..=j).unwrap_or_default().join(".").into())
                    .collect()
            })
            .collect();
        FieldPath {
            name: name.into(),
            joins,
            slot: None,
        }
    }

    /// The node the name leads to, if no array is on the way.
    fn reach<'a>(&self, root: &'a Value) -> Reach<'a> {
        let mut value = root;
        let mut step = 0;
        while let Some(keys) = self.joins.get(step) {
            match value {
                Value::Object(map) => {
                    let Some((k, next)) = keys
                        .iter()
                        .enumerate()
                        .find_map(|(k, key)| get(map, key).map(|v| (k, v)))
                    else {
                        return Reach::Missing;
                    };
                    value = next;
                    step += k + 1;
                }
                Value::Array(_) => return Reach::Spread,
                _ => return Reach::Missing,
            }
        }
        Reach::Node(value)
    }

    /// The name as written in the rule.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The dot-separated segments.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.joins.iter().filter_map(|j| j.first().map(|s| &**s))
    }

    /// Calls `leaf` with every value the name reaches (array elements one by one), until it
    /// returns true. Returns whether it did.
    pub fn any_leaf<'a>(&self, root: &'a Value, leaf: &mut impl FnMut(&'a Value) -> bool) -> bool {
        self.walk(root, 0, leaf)
    }

    /// True if the name reaches anything, `null` included.
    pub fn exists(&self, root: &Value) -> bool {
        self.any_node(root, 0)
    }

    fn walk<'a>(
        &self,
        value: &'a Value,
        step: usize,
        leaf: &mut impl FnMut(&'a Value) -> bool,
    ) -> bool {
        let Some(keys) = self.joins.get(step) else {
            return each_element(value, leaf);
        };
        match value {
            Value::Object(map) => {
                for (k, key) in keys.iter().enumerate() {
                    if let Some(next) = get(map, key) {
                        return self.walk(next, step + k + 1, leaf);
                    }
                }
                false
            }
            Value::Array(items) => items.iter().any(|item| self.walk(item, step, leaf)),
            _ => false,
        }
    }

    fn any_node(&self, value: &Value, step: usize) -> bool {
        let Some(keys) = self.joins.get(step) else {
            return true;
        };
        match value {
            Value::Object(map) => keys
                .iter()
                .enumerate()
                .find_map(|(k, key)| get(map, key).map(|next| (k, next)))
                .is_some_and(|(k, next)| self.any_node(next, step + k + 1)),
            Value::Array(items) => items.iter().any(|item| self.any_node(item, step)),
            _ => false,
        }
    }
}

/// A key's value. Audit objects are small: comparing the keys is faster than hashing the
/// name (serde_json's maps hash with SipHash).
fn get<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if map.len() <= 16 {
        map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

/// A value reached by a path: arrays (of arrays) are their elements.
fn each_element<'a>(value: &'a Value, leaf: &mut impl FnMut(&'a Value) -> bool) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|item| each_element(item, leaf)),
        other => leaf(other),
    }
}

/// Calls `leaf` with every string in the event, at any depth, until it returns true: what
/// keyword searches look through.
pub(super) fn any_string<'a>(value: &'a Value, leaf: &mut impl FnMut(&'a str) -> bool) -> bool {
    match value {
        Value::String(s) => leaf(s),
        Value::Array(items) => items.iter().any(|item| any_string(item, leaf)),
        Value::Object(map) => map.values().any(|item| any_string(item, leaf)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn leaves(path: &str, event: &Value) -> Vec<Value> {
        let mut out = Vec::new();
        FieldPath::new(path).any_leaf(event, &mut |v| {
            out.push(v.clone());
            false
        });
        out
    }

    #[test]
    fn dotted_names_reach_nested_fields_and_cross_arrays() {
        let event = json!({
            "objectRef": {"resource": "pods"},
            "user": {"groups": ["system:masters", "system:authenticated"]},
            "requestObject": {"spec": {"containers": [
                {"securityContext": {"privileged": true}},
                {"securityContext": {"privileged": false}}
            ]}}
        });
        assert_eq!(leaves("objectRef.resource", &event), [json!("pods")]);
        assert_eq!(
            leaves("user.groups", &event),
            [json!("system:masters"), json!("system:authenticated")]
        );
        assert_eq!(
            leaves(
                "requestObject.spec.containers.securityContext.privileged",
                &event
            ),
            [json!(true), json!(false)]
        );
        assert!(leaves("objectRef.namespace", &event).is_empty());
        assert!(leaves("objectRef.resource.x", &event).is_empty());
    }

    #[test]
    fn keys_with_dots_are_found_whole() {
        let event = json!({
            "annotations": {"authorization.k8s.io/decision": "allow"},
            "requestObject": {"metadata": {"labels": {"app.kubernetes.io/name": "web"}}}
        });
        assert_eq!(
            leaves("annotations.authorization.k8s.io/decision", &event),
            [json!("allow")]
        );
        assert_eq!(
            leaves(
                "requestObject.metadata.labels.app.kubernetes.io/name",
                &event
            ),
            [json!("web")]
        );
    }

    #[test]
    fn existence_counts_null_but_not_absence() {
        let event = json!({"responseObject": null, "user": {"groups": []}});
        assert!(FieldPath::new("responseObject").exists(&event));
        assert!(FieldPath::new("user.groups").exists(&event));
        assert!(!FieldPath::new("user.username").exists(&event));
        assert!(!FieldPath::new("hostPath").exists(&event));
    }

    #[test]
    fn the_per_event_cache_answers_as_the_walk_does() {
        let event = json!({
            "objectRef": {"resource": "pods"},
            "requestObject": {"spec": {"containers": [{"image": "a"}, {"image": "b"}]}},
            "responseObject": null
        });
        let mut fields = Interner::default();
        let names = [
            "objectRef.resource",
            "objectRef.name",
            "requestObject.spec.containers.image",
            "responseObject",
            "objectRef.resource",
        ];
        let paths: Vec<FieldPath> = names.iter().map(|n| fields.path(n)).collect();
        assert_eq!(fields.len(), 4, "one slot per distinct name");
        let mut eval = Eval::new(&event, fields.len());
        for _ in 0..2 {
            for path in &paths {
                let mut cached = Vec::new();
                eval.any_leaf(path, &mut |v| {
                    cached.push(v.clone());
                    false
                });
                assert_eq!(cached, leaves(path.name(), &event), "{}", path.name());
                assert_eq!(eval.exists(path), path.exists(&event), "{}", path.name());
            }
        }
    }

    #[test]
    fn keyword_search_sees_every_string() {
        let event = json!({"a": {"b": ["x", {"c": "needle"}]}, "n": 5});
        let mut seen = Vec::new();
        any_string(&event, &mut |s| {
            seen.push(s.to_string());
            false
        });
        assert_eq!(seen, ["x", "needle"]);
    }
}
