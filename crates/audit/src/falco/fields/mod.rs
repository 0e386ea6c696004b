//! The fields a condition or output may read: every `ka.*` field of the k8saudit plugin and
//! the `json.*`/`jevt.*` fields of the json plugin, each resolved once at load time to an
//! extractor with its argument parsed.

mod json;
mod k8saudit;

use crate::Event;
use crate::event::fields::{List, Str};
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
    /// For fields that are a path of keys (`ka.verb`, `jevt.value[/objectRef/name]`): the
    /// path, resolved once to the typed field it reads.
    path: Option<Path>,
}

/// A path of keys resolved against the event model.
#[derive(Debug, Clone, PartialEq)]
enum Path {
    Str(Str),
    List(List),
    Annotation(Box<str>),
    /// Keys below `requestObject` (or `responseObject`), parsed alone when needed.
    Request(Box<[Box<str>]>),
    Response(Box<[Box<str>]>),
    /// Anything else: read from the JSON, when the event has the first key at all.
    Other(Box<str>),
}

impl Path {
    fn of<K: AsRef<str>>(keys: &[K]) -> Option<Path> {
        let keys: Vec<&str> = keys.iter().map(AsRef::as_ref).collect();
        let rest = |keys: &[&str]| keys.iter().map(|k| Box::from(*k)).collect();
        Some(match keys.as_slice() {
            [] => return None,
            ["auditID"] => Path::Str(Str::AuditId),
            ["stage"] => Path::Str(Str::Stage),
            ["verb"] => Path::Str(Str::Verb),
            ["requestURI"] => Path::Str(Str::RequestUri),
            ["userAgent"] => Path::Str(Str::UserAgent),
            ["requestReceivedTimestamp"] => Path::Str(Str::RequestReceived),
            ["stageTimestamp"] => Path::Str(Str::StageTimestamp),
            ["timestamp"] => Path::Str(Str::Timestamp),
            ["sourceIPs"] => Path::List(List::SourceIps),
            ["user", "username"] => Path::Str(Str::UserName),
            ["user", "groups"] => Path::List(List::UserGroups),
            ["impersonatedUser", "username"] => Path::Str(Str::ImpersonatedUserName),
            ["impersonatedUser", "groups"] => Path::List(List::ImpersonatedGroups),
            ["objectRef", "resource"] => Path::Str(Str::Resource),
            ["objectRef", "subresource"] => Path::Str(Str::Subresource),
            ["objectRef", "namespace"] => Path::Str(Str::Namespace),
            ["objectRef", "name"] => Path::Str(Str::Name),
            ["objectRef", "apiGroup"] => Path::Str(Str::ApiGroup),
            ["objectRef", "apiVersion"] => Path::Str(Str::ApiVersion),
            ["responseStatus", "code"] => Path::Str(Str::ResponseCode),
            ["responseStatus", "reason"] => Path::Str(Str::ResponseReason),
            ["annotations", key] => Path::Annotation((*key).into()),
            ["requestObject", more @ ..] => Path::Request(rest(more)),
            ["responseObject", more @ ..] => Path::Response(rest(more)),
            [first, ..] => Path::Other((*first).into()),
        })
    }

    /// The one value at the path (strings as they are, anything else as JSON text), or
    /// `None` when only the event's JSON can say (`json` is then read).
    fn one<'e>(&self, event: &'e Event) -> Option<Values<'e>> {
        let f = event.fields();
        let text = |s: Option<&'e str>| Values::one(s.map(|s| Cow::Borrowed(s.as_bytes())));
        Some(match self {
            Path::Str(field) => text(f.str(*field)),
            Path::Annotation(key) => text(f.annotation(key)),
            Path::Request(keys) => Values::one(
                event
                    .request_object()
                    .and_then(|o| walk(o, keys))
                    .map(as_text),
            ),
            Path::Response(keys) => Values::one(
                event
                    .response_object()
                    .and_then(|o| walk(o, keys))
                    .map(as_text),
            ),
            Path::Other(first) if !event.has_key(first) => Values::None,
            Path::List(_) | Path::Other(_) => return None,
        })
    }

    /// The items of the array at the path, each rendered; `None` as for [`Path::one`].
    fn list<'e>(&self, event: &'e Event) -> Option<Values<'e>> {
        let items = |v: Option<&'e Value>| match v {
            Some(Value::Array(items)) => Values::list(items.iter().map(as_text).collect()),
            _ => Values::None,
        };
        Some(match self {
            Path::List(field) => match event.fields().list(*field) {
                Some(list) => Values::list(list.map(|s| Cow::Borrowed(s.as_bytes())).collect()),
                None => Values::None,
            },
            Path::Request(keys) => items(event.request_object().and_then(|o| walk(o, keys))),
            Path::Response(keys) => items(event.response_object().and_then(|o| walk(o, keys))),
            // A string is not a list.
            Path::Str(_) | Path::Annotation(_) => Values::None,
            Path::Other(first) if !event.has_key(first) => Values::None,
            Path::Other(_) => return None,
        })
    }
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
        let path = match (def.extract, &arg) {
            (Extractor::K8s(k8saudit::Kind::Keys(keys) | k8saudit::Kind::KeysList(keys)), _) => {
                Path::of(keys)
            }
            (Extractor::Json(json::Kind::Value), Arg::Key(pointer)) => {
                json::pointer_keys(pointer).and_then(|keys| Path::of(&keys))
            }
            _ => None,
        };
        Ok(FieldRef { def, arg, path })
    }

    /// Whether the field yields a list.
    pub fn is_list(&self) -> bool {
        self.def.is_list
    }

    /// The field's name.
    pub fn name(&self) -> &'static str {
        self.def.name
    }

    /// Reads the field from an event: from its typed fields where they hold it, from the
    /// request or response object alone where the field is inside one, from the whole JSON
    /// only for the rest.
    pub fn extract<'e>(&self, event: &'e Event) -> Values<'e> {
        if event.fields().exotic {
            return self.extract_json(event.json());
        }
        if let Some(path) = &self.path {
            let typed = match self.def.extract {
                Extractor::K8s(k8saudit::Kind::KeysList(_)) => path.list(event),
                _ => path.one(event),
            };
            return typed.unwrap_or_else(|| self.extract_json(event.json()));
        }
        match self.def.extract {
            Extractor::K8s(kind) => k8saudit::extract(kind, &self.arg, event),
            Extractor::Json(kind) => json::extract(kind, &self.arg, event),
        }
    }

    /// Reads the field from an event's JSON, walking it.
    pub fn extract_json<'e>(&self, event: &'e Value) -> Values<'e> {
        match self.def.extract {
            Extractor::K8s(kind) => k8saudit::extract_json(kind, &self.arg, event),
            Extractor::Json(kind) => json::extract_json(kind, &self.arg, event),
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
pub(crate) fn walk<'e, K: AsRef<str>>(value: &'e Value, keys: &[K]) -> Option<&'e Value> {
    keys.iter().try_fold(value, |v, k| step(v, k.as_ref()))
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
    fn every_field_reads_the_same_from_typed_fields_and_from_json() {
        let texts = [
            r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete",
              "verb":"create","requestURI":"/api/v1/namespaces/d/pods?dryRun=All&x=%41","userAgent":"kubectl/1.30",
              "user":{"username":"alice","groups":["g1","g2"]},"impersonatedUser":{"username":"bob"},
              "sourceIPs":["10.0.0.1","10.0.0.2"],"objectRef":{"resource":"pods","namespace":"d","name":"p","apiVersion":"v1"},
              "responseStatus":{"metadata":{},"code":201,"reason":"Created"},
              "annotations":{"authorization.k8s.io/decision":"allow","cluster_name":"c1"},
              "requestReceivedTimestamp":"2024-01-01T00:00:00.000001Z","stageTimestamp":"2024-01-01T00:00:01Z",
              "requestObject":{"spec":{"hostPID":true,"containers":[{"name":"c","image":"nginx:1","ports":[{"containerPort":80}],
                "securityContext":{"privileged":true}}],"volumes":[{"name":"v","hostPath":{"path":"/"}}]},
                "subjects":[{"kind":"User","name":"u"}],"rules":[{"verbs":["get"]}]},
              "responseObject":{"metadata":{"name":"p"}}}"#,
            r#"{"verb":"get","auditID":"b","user":{"username":"system:anonymous"},"objectRef":{"resource":"secrets"},"sourceIPs":[]}"#,
            r#"{"verb":"get","auditID":"c","user":{"username":7},"responseStatus":{"code":2.5},"requestObject":null}"#,
            r#"{"verb":"get","auditID":"d","level":"Metadata","a/b":"slash","m~n":{"x":1}}"#,
        ];
        let pointers = [
            "/stage",
            "/verb",
            "/user/username",
            "/user/groups",
            "/objectRef/name",
            "/annotations/cluster_name",
            "/responseStatus/code",
            "/requestObject/spec/hostPID",
            "/requestObject/spec/containers/0/image",
            "/requestObject",
            "/responseObject/metadata/name",
            "/level",
            "/a~1b",
            "/m~0n/x",
            "/nope",
            "",
            "requestObject/spec",
        ];
        for text in texts {
            let value: Value = serde_json::from_str(text).unwrap();
            let origin = crate::Origin::new("t", 1);
            let read = crate::event::parse(text, &origin).unwrap().remove(0);
            let built = Event::new(value.clone(), origin);
            let mut fields: Vec<FieldRef> = Vec::new();
            for def in registry() {
                let args: Vec<Option<String>> = match def.arg {
                    ArgKind::None => vec![None],
                    ArgKind::Index => vec![None, Some("0".into()), Some("1".into())],
                    ArgKind::Key if def.name.ends_with(".value") => {
                        pointers.iter().map(|p| Some(p.to_string())).collect()
                    }
                    ArgKind::Key => vec![Some("dryRun".into()), Some("/".into()), Some("x".into())],
                };
                for arg in args {
                    fields.push(FieldRef::resolve(def.name, arg.as_deref()).unwrap());
                }
            }
            for field in &fields {
                let want = field.extract_json(&value);
                assert_eq!(
                    field.extract(&read),
                    want,
                    "{} {:?} read from {text}",
                    field.name(),
                    field.arg
                );
                assert_eq!(
                    field.extract(&built),
                    want,
                    "{} {:?} built from {text}",
                    field.name(),
                    field.arg
                );
            }
        }
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
