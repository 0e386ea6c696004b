//! Dotted field names (`objectRef.resource`) resolved against an audit event's JSON.
//!
//! A name is split at dots once, when the rule is compiled. Keys that themselves contain dots
//! (annotations such as `authorization.k8s.io/decision`, labels such as `app.kubernetes.io/name`)
//! are found by joining the remaining segments when the single segment is absent, so
//! `annotations.authorization.k8s.io/decision` works. Arrays on the way are crossed: each
//! element is followed, and the field matches if any of them does.

use crate::Event;
use crate::event::fields::{List, Str};
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
    /// What the name reads in the event model, resolved once.
    known: Known,
}

/// What a field name reads, as far as the typed event model can answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    Str(Str),
    /// `responseStatus.code`, a number.
    Code,
    List(List),
    /// `annotations.<key>`, the key possibly holding dots.
    Annotation,
    /// Below `requestObject` (`responseObject`): walked in that object alone.
    Request,
    Response,
    /// Anything else: walked in the whole JSON, if the first key is there at all.
    Other,
}

impl Known {
    fn of(name: &str) -> Known {
        let first = name.split('.').next().unwrap_or_default();
        match name {
            "auditID" => Known::Str(Str::AuditId),
            "stage" => Known::Str(Str::Stage),
            "verb" => Known::Str(Str::Verb),
            "requestURI" => Known::Str(Str::RequestUri),
            "userAgent" => Known::Str(Str::UserAgent),
            "requestReceivedTimestamp" => Known::Str(Str::RequestReceived),
            "stageTimestamp" => Known::Str(Str::StageTimestamp),
            "timestamp" => Known::Str(Str::Timestamp),
            "sourceIPs" => Known::List(List::SourceIps),
            "user.username" => Known::Str(Str::UserName),
            "user.groups" => Known::List(List::UserGroups),
            "impersonatedUser.username" => Known::Str(Str::ImpersonatedUserName),
            "impersonatedUser.groups" => Known::List(List::ImpersonatedGroups),
            "objectRef.resource" => Known::Str(Str::Resource),
            "objectRef.subresource" => Known::Str(Str::Subresource),
            "objectRef.namespace" => Known::Str(Str::Namespace),
            "objectRef.name" => Known::Str(Str::Name),
            "objectRef.apiGroup" => Known::Str(Str::ApiGroup),
            "objectRef.apiVersion" => Known::Str(Str::ApiVersion),
            "responseStatus.code" => Known::Code,
            "responseStatus.reason" => Known::Str(Str::ResponseReason),
            _ if first == "annotations" && name.len() > first.len() => Known::Annotation,
            _ if first == "requestObject" => Known::Request,
            _ if first == "responseObject" => Known::Response,
            _ => Known::Other,
        }
    }
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

/// One value a field name reaches: a typed field's string or number, or a JSON node.
#[derive(Debug, Clone, Copy)]
pub(super) enum Leaf<'a> {
    Str(&'a str),
    Int(i64),
    Json(&'a Value),
}

/// Where a field name leads in one event.
#[derive(Debug, Clone, Copy)]
enum Reach<'a> {
    Missing,
    Str(&'a str),
    Int(i64),
    List(List),
    /// One node, reached without crossing an array.
    Node(&'a Value),
    /// Arrays on the way: walk the path from this node and step for each question.
    Spread(&'a Value, usize),
}

/// One event being evaluated: fields that many rules name are looked up once.
pub(super) struct Eval<'a> {
    pub event: &'a Event,
    slots: Vec<Option<Reach<'a>>>,
}

impl<'a> Eval<'a> {
    pub fn new(event: &'a Event, slots: usize) -> Eval<'a> {
        Eval {
            event,
            slots: vec![None; slots],
        }
    }

    fn reach(&mut self, path: &FieldPath) -> Reach<'a> {
        let event = self.event;
        match path.slot.and_then(|s| self.slots.get_mut(s)) {
            Some(cell) => *cell.get_or_insert_with(|| path.reach_in(event)),
            None => path.reach_in(event),
        }
    }

    /// [`FieldPath::any_leaf`], through the cache.
    pub fn any_leaf(&mut self, path: &FieldPath, leaf: &mut impl FnMut(Leaf<'a>) -> bool) -> bool {
        let event = self.event;
        path.leaves(self.reach(path), event, leaf)
    }

    /// [`FieldPath::exists`], through the cache.
    pub fn exists(&mut self, path: &FieldPath) -> bool {
        match self.reach(path) {
            Reach::Missing => false,
            Reach::Str(_) | Reach::Int(_) | Reach::List(_) | Reach::Node(_) => true,
            Reach::Spread(from, step) => path.any_node(from, step),
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
            known: Known::of(name),
        }
    }

    /// Where the name leads in `event`: through the typed fields when the event's JSON is
    /// what they hold (no odd types, no top-level keys with dots that a joined name could
    /// reach), through the JSON otherwise.
    fn reach_in<'a>(&self, event: &'a Event) -> Reach<'a> {
        let f = event.fields();
        if f.exotic || f.dotted_keys {
            return self.reach(event.json(), 0);
        }
        match self.known {
            Known::Str(field) => f.str(field).map_or(Reach::Missing, Reach::Str),
            Known::Code => f.code().map_or(Reach::Missing, Reach::Int),
            Known::List(list) if f.list(list).is_some() => Reach::List(list),
            Known::List(_) => Reach::Missing,
            Known::Annotation => self.annotation(event),
            Known::Request => event
                .request_object()
                .map_or(Reach::Missing, |o| self.reach(o, 1)),
            Known::Response => event
                .response_object()
                .map_or(Reach::Missing, |o| self.reach(o, 1)),
            Known::Other => {
                let first = self.joins.first().into_iter().flatten();
                if first.clone().any(|k| event.has_key(k)) {
                    self.reach(event.json(), 0)
                } else {
                    Reach::Missing
                }
            }
        }
    }

    /// `annotations.<key>`: the first of the joined keys present, as the JSON walk takes it.
    fn annotation<'a>(&self, event: &'a Event) -> Reach<'a> {
        let Some(keys) = self.joins.get(1) else {
            return Reach::Missing;
        };
        for (k, key) in keys.iter().enumerate() {
            if let Some(value) = event.annotation(key) {
                // Annotation values are strings: nothing is below them.
                return if k + 2 == self.joins.len() {
                    Reach::Str(value)
                } else {
                    Reach::Missing
                };
            }
        }
        Reach::Missing
    }

    /// The node the name leads to from `value` at `step`, if no array is on the way.
    fn reach<'a>(&self, value: &'a Value, mut step: usize) -> Reach<'a> {
        let from = (value, step);
        let mut value = value;
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
                Value::Array(_) => return Reach::Spread(from.0, from.1),
                _ => return Reach::Missing,
            }
        }
        Reach::Node(value)
    }

    fn leaves<'a>(
        &self,
        reach: Reach<'a>,
        event: &'a Event,
        leaf: &mut impl FnMut(Leaf<'a>) -> bool,
    ) -> bool {
        match reach {
            Reach::Missing => false,
            Reach::Str(s) => leaf(Leaf::Str(s)),
            Reach::Int(n) => leaf(Leaf::Int(n)),
            Reach::List(list) => event
                .fields()
                .list(list)
                .into_iter()
                .flatten()
                .any(|s| leaf(Leaf::Str(s))),
            Reach::Node(node) => each_element(node, &mut |v| leaf(Leaf::Json(v))),
            Reach::Spread(from, step) => self.walk(from, step, &mut |v| leaf(Leaf::Json(v))),
        }
    }

    /// Calls `leaf` with every value the name reaches in `event` (no cache).
    pub fn any_leaf_in<'a>(
        &self,
        event: &'a Event,
        leaf: &mut impl FnMut(Leaf<'a>) -> bool,
    ) -> bool {
        self.leaves(self.reach_in(event), event, leaf)
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
    #[cfg(test)]
    pub fn any_leaf<'a>(&self, root: &'a Value, leaf: &mut impl FnMut(&'a Value) -> bool) -> bool {
        self.walk(root, 0, leaf)
    }

    /// True if the name reaches anything, `null` included.
    #[cfg(test)]
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

    fn as_value(leaf: Leaf<'_>) -> Value {
        match leaf {
            Leaf::Str(s) => json!(s),
            Leaf::Int(n) => json!(n),
            Leaf::Json(v) => v.clone(),
        }
    }

    #[test]
    fn typed_fields_and_the_cache_answer_as_the_walk_does() {
        let texts = [
            r#"{"kind":"Event","verb":"create","objectRef":{"resource":"pods","namespace":"ns"},
              "user":{"username":"u","groups":["a","b"]},"sourceIPs":[],"responseStatus":{"code":403},
              "annotations":{"authorization.k8s.io/decision":"allow","a":"short"},
              "requestObject":{"spec":{"containers":[{"image":"a"},{"image":"b"}]}}}"#,
            // The general reader's events: a null object, a number for a string, dotted keys.
            r#"{"verb":"get","responseObject":null,"objectRef":{"resource":7}}"#,
            r#"{"verb":"get","objectRef.resource":"top","user.username":"dotted"}"#,
            r#"{"verb":"get","responseStatus":{"code":2.5},"level":"Request"}"#,
        ];
        let names = [
            "verb",
            "objectRef.resource",
            "objectRef.name",
            "objectRef.namespace",
            "user.username",
            "user.groups",
            "sourceIPs",
            "responseStatus.code",
            "annotations.authorization.k8s.io/decision",
            "annotations.a",
            "annotations.a.b",
            "annotations.nope",
            "requestObject.spec.containers.image",
            "requestObject",
            "responseObject",
            "level",
            "hostPath",
            "objectRef.resource",
        ];
        for text in texts {
            let value: Value = serde_json::from_str(text).unwrap();
            let origin = crate::Origin::new("t", 1);
            let read = crate::event::parse(text, &origin).unwrap().remove(0);
            let built = Event::new(value.clone(), origin);
            for event in [&read, &built] {
                let mut fields = Interner::default();
                let paths: Vec<FieldPath> = names.iter().map(|n| fields.path(n)).collect();
                let mut eval = Eval::new(event, fields.len());
                for _ in 0..2 {
                    for path in &paths {
                        let mut cached = Vec::new();
                        eval.any_leaf(path, &mut |v| {
                            cached.push(as_value(v));
                            false
                        });
                        let want = leaves(path.name(), &value);
                        assert_eq!(cached, want, "{} in {text}", path.name());
                        let exists = path.exists(&value);
                        assert_eq!(eval.exists(path), exists, "{} in {text}", path.name());
                        let mut uncached = Vec::new();
                        path.any_leaf_in(event, &mut |v| {
                            uncached.push(as_value(v));
                            false
                        });
                        assert_eq!(uncached, want, "{} in {text}", path.name());
                    }
                }
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
