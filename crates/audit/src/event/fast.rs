//! The fast reader: one audit Event's text straight into [`Fields`], without building a
//! `serde_json::Value` (a map per object, hashing every key).
//!
//! It only takes the common case: a single Event whose fields have their documented types,
//! no `null` where the model keeps a value, no duplicate keys, no deep nesting. Anything
//! else returns `None`, and the caller reads the text the general way, which gives the same
//! events or the same errors as before.

use super::fields::{Fields, List, Str, key};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

/// Nesting the fast reader accepts. The general reader refuses 128 levels; staying well
/// under means every text read here also parses as a `Value` later, when asked for.
const MAX_DEPTH: usize = 100;

/// Annotations the fast reader takes (it looks for repeated keys pair by pair); API servers
/// write a handful.
const MAX_ANNOTATIONS: u32 = 64;

/// What the fast reader took from one event's text.
pub(super) struct Read {
    pub fields: Fields,
    /// `requestObject` and `responseObject`, as ranges of the text.
    pub request: Option<Range<usize>>,
    pub response: Option<Range<usize>>,
}

/// Reads `text` as one Event, or `None` when it is anything else (see the module docs).
pub(super) fn read(text: &str) -> Option<Read> {
    if too_deep(text.as_bytes()) {
        return None;
    }
    let mut fields = Fields::default();
    fields.reserve(text.len() / 2);
    let mut de = serde_json::Deserializer::from_str(text);
    let outline = Top { f: &mut fields }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    let is_event = match outline.kind.as_deref() {
        Some("Event") => true,
        // Old logs have neither kind nor apiVersion: an event is known by its fields.
        None => fields.present & (key::AUDIT_ID | key::VERB) != 0,
        Some(_) => false,
    };
    let version_ok = outline
        .api_version
        .as_deref()
        .is_none_or(|v| v.starts_with("audit.k8s.io/"));
    if !is_event || !version_ok || outline.envelope {
        return None;
    }
    let range = |raw: Option<&RawValue>| {
        raw.map(|raw| {
            // The raw value borrows from `text`: its place there is the pointer difference.
            let start = (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
            start..start + raw.get().len()
        })
    };
    Some(Read {
        request: range(outline.request),
        response: range(outline.response),
        fields,
    })
}

/// Whether `bytes` may nest deeper than [`MAX_DEPTH`]. Counting brackets is cheap and
/// bounds the depth; only texts with many brackets are scanned exactly.
fn too_deep(bytes: &[u8]) -> bool {
    let opens = bytes.iter().filter(|&&b| b == b'{' || b == b'[').count();
    if opens <= MAX_DEPTH {
        return false;
    }
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest > MAX_DEPTH
}

/// What the top level says besides the fields.
#[derive(Default)]
struct Outline<'de> {
    kind: Option<Cow<'de, str>>,
    api_version: Option<Cow<'de, str>>,
    request: Option<&'de RawValue>,
    response: Option<&'de RawValue>,
    /// A key that marks a cloud envelope or a batch.
    envelope: bool,
}

/// Any reason to leave the text to the general reader; the message is never shown.
fn decline<E: de::Error>() -> E {
    E::custom("not the common shape")
}

/// A key or string, borrowed from the text unless it had escapes.
struct Text;

impl<'de> Visitor<'de> for Text {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(s))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(s.to_string()))
    }
}

impl<'de> DeserializeSeed<'de> for Text {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

/// A string stored straight into a field.
struct Set<'f>(&'f mut Fields, Str);

impl<'de> Visitor<'de> for Set<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        self.0.set(self.1, s);
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Set<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

/// One string of a list or map, appended to the run being built.
struct Item<'f>(&'f mut Fields);

impl<'de> Visitor<'de> for Item<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        self.0.item(s);
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Item<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

/// A list of strings into a list field.
struct Strings<'f>(&'f mut Fields, List);

impl<'de> Visitor<'de> for Strings<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of strings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let start = self.0.open();
        while seq.next_element_seed(Item(self.0))?.is_some() {}
        self.0.set_list(self.1, start);
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Strings<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

/// `annotations`: string keys and string values.
struct Annotations<'f>(&'f mut Fields);

impl<'de> Visitor<'de> for Annotations<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of strings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let start = self.0.open();
        while let Some(k) = map.next_key_seed(Text)? {
            if self.0.open() - start >= 2 * MAX_ANNOTATIONS {
                return Err(decline());
            }
            // A repeated key would need the last one to win, as the JSON map has it.
            if self.0.annotations_from(start).any(|(seen, _)| seen == k) {
                return Err(decline());
            }
            self.0.item(&k);
            map.next_value_seed(Item(self.0))?;
        }
        self.0.set_annotations(start);
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Annotations<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

/// What one nested object holds, by key.
#[derive(Clone, Copy)]
enum Nested {
    User,
    ImpersonatedUser,
    ObjectRef,
    ResponseStatus,
}

impl Nested {
    /// The seed for `key` of this object, with its bit for the duplicate check; `None` to skip.
    fn field(self, key: &str) -> Option<(u32, Slot)> {
        use Slot::{Code, List as L, Str as S};
        Some(match (self, key) {
            (Nested::User, "username") => (1, S(Str::UserName)),
            (Nested::User, "groups") => (2, L(List::UserGroups)),
            (Nested::ImpersonatedUser, "username") => (1, S(Str::ImpersonatedUserName)),
            (Nested::ImpersonatedUser, "groups") => (2, L(List::ImpersonatedGroups)),
            (Nested::ObjectRef, "resource") => (1, S(Str::Resource)),
            (Nested::ObjectRef, "subresource") => (2, S(Str::Subresource)),
            (Nested::ObjectRef, "namespace") => (4, S(Str::Namespace)),
            (Nested::ObjectRef, "name") => (8, S(Str::Name)),
            (Nested::ObjectRef, "apiGroup") => (16, S(Str::ApiGroup)),
            (Nested::ObjectRef, "apiVersion") => (32, S(Str::ApiVersion)),
            (Nested::ResponseStatus, "code") => (1, Code),
            (Nested::ResponseStatus, "reason") => (2, S(Str::ResponseReason)),
            _ => return None,
        })
    }
}

enum Slot {
    Str(Str),
    List(List),
    Code,
}

struct Object<'f>(&'f mut Fields, Nested);

impl<'de> Visitor<'de> for Object<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = 0u32;
        while let Some(k) = map.next_key_seed(Text)? {
            let Some((bit, slot)) = self.1.field(&k) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            if seen & bit != 0 {
                return Err(decline());
            }
            seen |= bit;
            match slot {
                Slot::Str(field) => map.next_value_seed(Set(self.0, field))?,
                Slot::List(field) => map.next_value_seed(Strings(self.0, field))?,
                Slot::Code => map.next_value_seed(Code(self.0))?,
            }
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Object<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

/// `responseStatus.code`: an integer (a fraction or a string is left to the general reader).
struct Code<'f>(&'f mut Fields);

impl<'de> Visitor<'de> for Code<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an integer")
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<(), E> {
        self.0.set_code(n);
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<(), E> {
        let n = i64::try_from(n).map_err(|_| decline())?;
        self.visit_i64(n)
    }
}

impl<'de> DeserializeSeed<'de> for Code<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_i64(self)
    }
}

/// The event object.
struct Top<'f> {
    f: &'f mut Fields,
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = Outline<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an audit event")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Outline<'de>, A::Error> {
        let f = self.f;
        let mut outline = Outline::default();
        let mut others = Vec::new();
        while let Some(k) = map.next_key_seed(Text)? {
            let bit = key::of(&k);
            if bit == 0 {
                f.dotted_keys |= k.contains('.');
                outline.envelope |= matches!(
                    &*k,
                    "protoPayload" | "records" | "category" | "properties" | "items"
                );
                others.push(k);
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            if f.present & bit != 0 {
                return Err(decline());
            }
            f.present |= bit;
            match bit {
                key::KIND => outline.kind = Some(map.next_value_seed(Text)?),
                key::API_VERSION => outline.api_version = Some(map.next_value_seed(Text)?),
                key::AUDIT_ID => map.next_value_seed(Set(f, Str::AuditId))?,
                key::STAGE => map.next_value_seed(Set(f, Str::Stage))?,
                key::VERB => map.next_value_seed(Set(f, Str::Verb))?,
                key::REQUEST_URI => map.next_value_seed(Set(f, Str::RequestUri))?,
                key::USER_AGENT => map.next_value_seed(Set(f, Str::UserAgent))?,
                key::REQUEST_RECEIVED => map.next_value_seed(Set(f, Str::RequestReceived))?,
                key::STAGE_TIMESTAMP => map.next_value_seed(Set(f, Str::StageTimestamp))?,
                key::TIMESTAMP => map.next_value_seed(Set(f, Str::Timestamp))?,
                key::USER => map.next_value_seed(Object(f, Nested::User))?,
                key::IMPERSONATED_USER => {
                    map.next_value_seed(Object(f, Nested::ImpersonatedUser))?
                }
                key::OBJECT_REF => map.next_value_seed(Object(f, Nested::ObjectRef))?,
                key::RESPONSE_STATUS => map.next_value_seed(Object(f, Nested::ResponseStatus))?,
                key::SOURCE_IPS => map.next_value_seed(Strings(f, List::SourceIps))?,
                key::ANNOTATIONS => map.next_value_seed(Annotations(f))?,
                key::REQUEST_OBJECT => outline.request = Some(object(&mut map)?),
                key::RESPONSE_OBJECT => outline.response = Some(object(&mut map)?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let start = f.open();
        for k in &others {
            f.item(k);
        }
        f.set_other_keys(start);
        Ok(outline)
    }
}

/// A request or response object, kept as text. `null` is left to the general reader.
fn object<'de, A: MapAccess<'de>>(map: &mut A) -> Result<&'de RawValue, A::Error> {
    let raw: &'de RawValue = map.next_value()?;
    if raw.get() == "null" {
        return Err(decline());
    }
    Ok(raw)
}

impl<'de> DeserializeSeed<'de> for Top<'_> {
    type Value = Outline<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Outline<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_events_are_read_and_the_rest_declined() {
        let ok = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"get","user":{"username":"a\"b","groups":["g"]},
            "responseStatus":{"code":403,"metadata":{}},"requestObject":{"spec":{}},"level":"Metadata"}"#;
        let read = read(ok).unwrap();
        assert_eq!(read.fields.str(Str::UserName), Some("a\"b"));
        assert_eq!(read.fields.code(), Some(403));
        assert_eq!(ok.get(read.request.unwrap()), Some(r#"{"spec":{}}"#));
        assert!(read.fields.has_key("level") && read.fields.has_key("kind"));
        for declined in [
            r#"{"kind":"EventList","items":[]}"#,
            r#"{"kind":"Event","apiVersion":"v1","verb":"get"}"#,
            r#"{"verb":7}"#,
            r#"{"verb":"get","verb":"list"}"#,
            r#"{"verb":"get","user":{"username":"a","username":"b"}}"#,
            r#"{"verb":"get","annotations":{"a":"1","a":"2"}}"#,
            r#"{"verb":null}"#,
            r#"{"verb":"get","responseStatus":{"code":2.5}}"#,
            r#"{"verb":"get","requestObject":null}"#,
            r#"{"verb":"get","protoPayload":{}}"#,
            r#"{"hello":"world"}"#,
            r#"[1]"#,
            r#"{"verb":"get"} x"#,
        ] {
            assert!(super::read(declined).is_none(), "{declined}");
        }
        let deep = format!(
            r#"{{"verb":"get","x":{}1{}}}"#,
            "[".repeat(150),
            "]".repeat(150)
        );
        assert!(super::read(&deep).is_none());
        let shallow_but_many = format!(r#"{{"verb":"get","x":[{}]}}"#, vec!["[]"; 300].join(","));
        assert!(super::read(&shallow_but_many).is_some());
    }
}
