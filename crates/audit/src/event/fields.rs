//! The fields every detector reads, held typed: strings in one buffer, each field a span of
//! it, so that reading an event costs two allocations instead of one per JSON node.
//!
//! Filled either by the fast reader ([`super::fast`]) straight from the text, or from a
//! `Value` (events built in code, envelopes, batches). Both give the same answers as walking
//! the JSON: a field whose JSON is not what this model holds (a number where a string is
//! expected, a `null`) marks the event [`Fields::exotic`], and field access then walks the
//! JSON instead.

use serde_json::{Map, Value};

/// A part of [`Fields::text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    end: u32,
}

/// A run of [`Fields::spans`]: a list's items, or an object's keys and values in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    start: u32,
    end: u32,
}

/// Top-level keys, one bit each: which were present (and, while reading, seen twice).
pub(crate) mod key {
    pub const KIND: u32 = 1;
    pub const API_VERSION: u32 = 1 << 1;
    pub const AUDIT_ID: u32 = 1 << 2;
    pub const STAGE: u32 = 1 << 3;
    pub const VERB: u32 = 1 << 4;
    pub const REQUEST_URI: u32 = 1 << 5;
    pub const USER_AGENT: u32 = 1 << 6;
    pub const USER: u32 = 1 << 7;
    pub const IMPERSONATED_USER: u32 = 1 << 8;
    pub const SOURCE_IPS: u32 = 1 << 9;
    pub const OBJECT_REF: u32 = 1 << 10;
    pub const RESPONSE_STATUS: u32 = 1 << 11;
    pub const ANNOTATIONS: u32 = 1 << 12;
    pub const REQUEST_RECEIVED: u32 = 1 << 13;
    pub const STAGE_TIMESTAMP: u32 = 1 << 14;
    pub const TIMESTAMP: u32 = 1 << 15;
    pub const REQUEST_OBJECT: u32 = 1 << 16;
    pub const RESPONSE_OBJECT: u32 = 1 << 17;
    pub const LEVEL: u32 = 1 << 18;

    /// The bit of a top-level key this model knows.
    pub fn of(name: &str) -> u32 {
        match name {
            "kind" => KIND,
            "apiVersion" => API_VERSION,
            "auditID" => AUDIT_ID,
            "stage" => STAGE,
            "verb" => VERB,
            "requestURI" => REQUEST_URI,
            "userAgent" => USER_AGENT,
            "user" => USER,
            "impersonatedUser" => IMPERSONATED_USER,
            "sourceIPs" => SOURCE_IPS,
            "objectRef" => OBJECT_REF,
            "responseStatus" => RESPONSE_STATUS,
            "annotations" => ANNOTATIONS,
            "requestReceivedTimestamp" => REQUEST_RECEIVED,
            "stageTimestamp" => STAGE_TIMESTAMP,
            "timestamp" => TIMESTAMP,
            "requestObject" => REQUEST_OBJECT,
            "responseObject" => RESPONSE_OBJECT,
            "level" => LEVEL,
            _ => 0,
        }
    }
}

/// A string field of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Str {
    AuditId,
    Stage,
    Verb,
    RequestUri,
    UserAgent,
    UserName,
    ImpersonatedUserName,
    Resource,
    Subresource,
    Namespace,
    Name,
    ApiGroup,
    ApiVersion,
    ResponseReason,
    /// `responseStatus.code` as its JSON text.
    ResponseCode,
    RequestReceived,
    StageTimestamp,
    Timestamp,
}

const STRS: usize = 18;

/// A list-of-strings field of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum List {
    UserGroups,
    ImpersonatedGroups,
    SourceIps,
}

/// The typed fields of one event.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fields {
    /// Every string, unescaped, one after another.
    text: String,
    spans: Vec<Span>,
    strs: [Option<Span>; STRS],
    lists: [Option<Run>; 3],
    annotations: Option<Run>,
    code: Option<i64>,
    /// Top-level keys present ([`key`] bits).
    pub present: u32,
    /// Top-level keys this model does not hold (`level` aside), for a cheap "is it there".
    other_keys: Option<Run>,
    /// Some field holds JSON the model does not (a number for a string, a `null`, a
    /// fractional code): readers that must render it exactly walk the JSON instead.
    pub exotic: bool,
    /// A top-level key contains a dot, which dotted field names (Sigma) could reach.
    pub dotted_keys: bool,
}

impl Fields {
    /// Appends a string, returning its span.
    pub fn push(&mut self, s: &str) -> Span {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        Span {
            start,
            end: self.text.len() as u32,
        }
    }

    /// Reserves room for `bytes` of text (most of an event's strings are its fields).
    pub fn reserve(&mut self, bytes: usize) {
        self.text.reserve(bytes);
    }

    fn get(&self, span: Span) -> &str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or_default()
    }

    /// A string field.
    pub fn str(&self, field: Str) -> Option<&str> {
        self.strs
            .get(field as usize)
            .copied()
            .flatten()
            .map(|s| self.get(s))
    }

    /// Sets a string field.
    pub fn set(&mut self, field: Str, s: &str) {
        let span = self.push(s);
        if let Some(slot) = self.strs.get_mut(field as usize) {
            *slot = Some(span);
        }
    }

    /// A list field: `None` when absent, an empty iterator when `[]`.
    pub fn list(&self, field: List) -> Option<impl Iterator<Item = &str> + Clone> {
        let run = self.lists.get(field as usize).copied().flatten()?;
        Some(self.run(run).iter().map(|s| self.get(*s)))
    }

    fn run(&self, run: Run) -> &[Span] {
        self.spans
            .get(run.start as usize..run.end as usize)
            .unwrap_or_default()
    }

    /// Starts a run of spans (a list, or the annotations).
    pub fn open(&self) -> u32 {
        self.spans.len() as u32
    }

    /// Adds a string to the run being built.
    pub fn item(&mut self, s: &str) {
        let span = self.push(s);
        self.spans.push(span);
    }

    fn close(&self, start: u32) -> Run {
        Run {
            start,
            end: self.spans.len() as u32,
        }
    }

    /// Ends a list field opened at `start`.
    pub fn set_list(&mut self, field: List, start: u32) {
        let run = self.close(start);
        if let Some(slot) = self.lists.get_mut(field as usize) {
            *slot = Some(run);
        }
    }

    /// Ends the annotations (keys and values in turn) opened at `start`.
    pub fn set_annotations(&mut self, start: u32) {
        self.annotations = Some(self.close(start));
    }

    /// Ends the top-level keys the model does not hold, opened at `start`.
    pub fn set_other_keys(&mut self, start: u32) {
        self.other_keys = Some(self.close(start));
    }

    /// `responseStatus.code`, kept as a number and as its JSON text.
    pub fn set_code(&mut self, code: i64) {
        self.code = Some(code);
        let mut buffer = [0u8; 20];
        let text = decimal(code, &mut buffer);
        self.set(Str::ResponseCode, text);
    }

    /// `responseStatus.code`.
    pub fn code(&self) -> Option<i64> {
        self.code
    }

    /// The annotations, in order.
    pub fn annotations(&self) -> Option<impl Iterator<Item = (&str, &str)>> {
        let run = self.run(self.annotations?);
        Some(
            run.chunks_exact(2)
                .filter_map(|pair| Some((self.get(*pair.first()?), self.get(*pair.get(1)?)))),
        )
    }

    /// The annotations added since `start`, while they are being read.
    pub fn annotations_from(&self, start: u32) -> impl Iterator<Item = (&str, &str)> {
        self.spans
            .get(start as usize..)
            .unwrap_or_default()
            .chunks_exact(2)
            .filter_map(|pair| Some((self.get(*pair.first()?), self.get(*pair.get(1)?))))
    }

    /// One annotation's value.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations()?.find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Whether the top-level key `name` is present.
    pub fn has_key(&self, name: &str) -> bool {
        match key::of(name) {
            0 => self
                .other_keys
                .is_some_and(|run| self.run(run).iter().any(|s| self.get(*s) == name)),
            bit => self.present & bit != 0,
        }
    }

    /// The fields of an event given as JSON.
    pub fn of_value(value: &Value) -> Fields {
        let mut f = Fields::default();
        let Value::Object(map) = value else {
            f.exotic = true;
            return f;
        };
        let others = f.open();
        for (k, v) in map {
            let bit = key::of(k);
            f.present |= bit;
            f.dotted_keys |= k.contains('.');
            if bit == 0 {
                f.item(k);
            }
            match k.as_str() {
                "auditID" => f.string(Str::AuditId, v),
                "stage" => f.string(Str::Stage, v),
                "verb" => f.string(Str::Verb, v),
                "requestURI" => f.string(Str::RequestUri, v),
                "userAgent" => f.string(Str::UserAgent, v),
                "requestReceivedTimestamp" => f.string(Str::RequestReceived, v),
                "stageTimestamp" => f.string(Str::StageTimestamp, v),
                "timestamp" => f.string(Str::Timestamp, v),
                "sourceIPs" => f.strings(List::SourceIps, v),
                "user" => f.object(v, |f, k, v| match k {
                    "username" => f.string(Str::UserName, v),
                    "groups" => f.strings(List::UserGroups, v),
                    _ => {}
                }),
                "impersonatedUser" => f.object(v, |f, k, v| match k {
                    "username" => f.string(Str::ImpersonatedUserName, v),
                    "groups" => f.strings(List::ImpersonatedGroups, v),
                    _ => {}
                }),
                "objectRef" => f.object(v, |f, k, v| match k {
                    "resource" => f.string(Str::Resource, v),
                    "subresource" => f.string(Str::Subresource, v),
                    "namespace" => f.string(Str::Namespace, v),
                    "name" => f.string(Str::Name, v),
                    "apiGroup" => f.string(Str::ApiGroup, v),
                    "apiVersion" => f.string(Str::ApiVersion, v),
                    _ => {}
                }),
                "responseStatus" => f.object(v, |f, k, v| match k {
                    "reason" => f.string(Str::ResponseReason, v),
                    "code" => match v.as_i64() {
                        Some(code) if v.is_i64() || v.is_u64() => f.set_code(code),
                        _ => f.exotic = true,
                    },
                    _ => {}
                }),
                "annotations" => match v {
                    Value::Object(map) => f.annotations_of(map),
                    _ => f.exotic = true,
                },
                // Accessors read a null object as absent; a field read must see the null.
                "requestObject" | "responseObject" => f.exotic |= v.is_null(),
                _ => {}
            }
        }
        f.set_other_keys(others);
        f
    }

    fn string(&mut self, field: Str, value: &Value) {
        match value {
            Value::String(s) => self.set(field, s),
            _ => self.exotic = true,
        }
    }

    fn strings(&mut self, field: List, value: &Value) {
        let Value::Array(items) = value else {
            self.exotic = true;
            return;
        };
        let start = self.open();
        for item in items {
            match item {
                Value::String(s) => self.item(s),
                _ => self.exotic = true,
            }
        }
        self.set_list(field, start);
    }

    fn object(&mut self, value: &Value, mut each: impl FnMut(&mut Fields, &str, &Value)) {
        let Value::Object(map) = value else {
            self.exotic = true;
            return;
        };
        for (k, v) in map {
            each(self, k, v);
        }
    }

    fn annotations_of(&mut self, map: &Map<String, Value>) {
        let start = self.open();
        for (k, v) in map {
            match v {
                Value::String(s) => {
                    self.item(k);
                    self.item(s);
                }
                _ => self.exotic = true,
            }
        }
        self.set_annotations(start);
    }
}

/// `n` in decimal, written into `buffer`.
fn decimal(n: i64, buffer: &mut [u8; 20]) -> &str {
    let mut i = buffer.len();
    let mut rest = n.unsigned_abs();
    loop {
        i -= 1;
        if let Some(b) = buffer.get_mut(i) {
            *b = b'0' + (rest % 10) as u8;
        }
        rest /= 10;
        if rest == 0 || i == 1 {
            break;
        }
    }
    if n < 0 {
        i -= 1;
        if let Some(b) = buffer.get_mut(i) {
            *b = b'-';
        }
    }
    std::str::from_utf8(buffer.get(i..).unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decimal_text_of_codes() {
        for n in [0, 7, 201, 403, -1, i64::MAX, i64::MIN + 1] {
            let mut buffer = [0u8; 20];
            assert_eq!(decimal(n, &mut buffer), n.to_string());
        }
    }

    #[test]
    fn fields_of_a_value_and_what_is_exotic() {
        let f = Fields::of_value(&json!({
            "verb": "get", "user": {"username": "u", "groups": ["a", "b"]},
            "annotations": {"k": "v"}, "responseStatus": {"code": 201}, "level": "Metadata"
        }));
        assert_eq!(f.str(Str::Verb), Some("get"));
        assert_eq!(f.str(Str::ResponseCode), Some("201"));
        assert_eq!(
            f.list(List::UserGroups).unwrap().collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(f.list(List::SourceIps).is_none());
        assert_eq!(f.annotation("k"), Some("v"));
        assert!(f.has_key("level") && f.has_key("user") && !f.has_key("objectRef"));
        assert!(!f.exotic);
        for odd in [
            json!({"verb": 7}),
            json!({"user": {"username": null}}),
            json!({"responseStatus": {"code": 2.5}}),
            json!({"sourceIPs": ["a", 1]}),
        ] {
            assert!(Fields::of_value(&odd).exotic, "{odd}");
        }
        assert!(Fields::of_value(&json!({"a.b": 1})).dotted_keys);
        assert!(Fields::of_value(&json!({"odd": 1})).has_key("odd"));
    }
}
