//! JSON text to events: one Event, an EventList, or a cloud envelope.

use super::envelope::{self, Envelope};
use super::{Event, Origin, fast};
use serde_json::{Map, Value};

/// Events larger than this keep their metadata but lose `requestObject` and `responseObject`
/// (an error says so): the detections that need the objects cannot run on them, the others
/// still do, and memory stays bounded.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// Why a text is not events.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Not JSON (or not UTF-8, or nested too deep).
    #[error("{origin}: not JSON: {message}")]
    Json {
        /// Where.
        origin: Origin,
        /// serde_json's message, with its column.
        message: String,
    },
    /// JSON, but not an audit event or a batch of them.
    #[error("{origin}: not an audit event: {message}")]
    NotAnEvent {
        /// Where.
        origin: Origin,
        /// What was found instead.
        message: String,
    },
    /// An event over [`MAX_EVENT_BYTES`]: analysed without its objects.
    #[error(
        "{origin}: event {audit_id} is {bytes} bytes, over the {limit}-byte limit: analysed without requestObject and responseObject"
    )]
    Oversized {
        /// Where.
        origin: Origin,
        /// Its auditID.
        audit_id: String,
        /// Its size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
}

/// The events in one JSON text (a line of a log, or a posted body).
///
/// An oversized event is returned without its objects. A text that is not events is an
/// error, and so is a batch with any item that is not an event (use
/// [`parse_with_warnings`] to keep the good items of a batch).
pub fn parse(text: impl AsRef<[u8]>, origin: &Origin) -> Result<Vec<Event>, EventError> {
    let (events, warnings) = parse_with_warnings(text.as_ref(), origin)?;
    match warnings
        .into_iter()
        .find(|w| !matches!(w, EventError::Oversized { .. }))
    {
        Some(error) => Err(error),
        None => Ok(events),
    }
}

/// Like [`parse`], but a batch (an `EventList`, a JSON array, AKS `records`) keeps its good
/// items: each bad item is a warning naming its index, and so is each oversized event.
/// Only a text that is not JSON, or a single value that is not an event, is an error.
pub fn parse_with_warnings(
    text: &[u8],
    origin: &Origin,
) -> Result<(Vec<Event>, Vec<EventError>), EventError> {
    if text.len() <= MAX_EVENT_BYTES
        && let Ok(text) = std::str::from_utf8(text)
        && let Some(read) = fast::read(text)
    {
        return Ok((
            vec![Event::from_text(text, read, origin.clone())],
            Vec::new(),
        ));
    }
    let value: Value = serde_json::from_slice(text).map_err(|e| EventError::Json {
        origin: origin.clone(),
        message: e.to_string(),
    })?;
    parse_value(value, text.len(), origin)
}

/// [`parse_with_warnings`] of a value already parsed from `size` bytes of text.
pub(crate) fn parse_value(
    value: Value,
    size: usize,
    origin: &Origin,
) -> Result<(Vec<Event>, Vec<EventError>), EventError> {
    let mut events = Vec::new();
    let mut warnings = Vec::new();
    collect(value, origin, &mut events, &mut warnings)?;
    if size > MAX_EVENT_BYTES {
        for event in &mut events {
            let size = serde_json::to_vec(event.json()).map_or(0, |v| v.len());
            if size > MAX_EVENT_BYTES {
                warnings.push(EventError::Oversized {
                    origin: origin.clone(),
                    audit_id: event.audit_id().unwrap_or("(none)").to_string(),
                    bytes: size,
                    limit: MAX_EVENT_BYTES,
                });
                let placeholder = Event::new(Value::Null, origin.clone());
                let mut value = std::mem::replace(event, placeholder).into_json();
                if let Value::Object(map) = &mut value {
                    map.remove("requestObject");
                    map.remove("responseObject");
                }
                *event = Event::new(value, origin.clone());
            }
        }
    }
    Ok((events, warnings))
}

/// The items of a batch: each is collected on its own, and one that is not an event is a
/// warning naming where it stood.
fn collect_batch(
    items: Vec<Value>,
    what: &str,
    origin: &Origin,
    events: &mut Vec<Event>,
    warnings: &mut Vec<EventError>,
) {
    for (index, item) in items.into_iter().enumerate() {
        if let Err(error) = collect(item, origin, events, warnings) {
            warnings.push(error.within(&format!("{what}[{index}]")));
        }
    }
}

fn collect(
    value: Value,
    origin: &Origin,
    events: &mut Vec<Event>,
    warnings: &mut Vec<EventError>,
) -> Result<(), EventError> {
    let not_an_event = |message: String| EventError::NotAnEvent {
        origin: origin.clone(),
        message,
    };
    let map = match value {
        Value::Object(map) => map,
        // A pretty-printed file (`gcloud logging read --format=json`, `jq -s`) is an array.
        Value::Array(items) => {
            collect_batch(items, "item", origin, events, warnings);
            return Ok(());
        }
        other => return Err(not_an_event(format!("a JSON {}", kind_of(&other)))),
    };
    if let Some(envelope) = Envelope::of(&map) {
        return match envelope {
            Envelope::AksBatch => {
                let records = envelope::aks_records(map, origin)?;
                collect_batch(records, "records", origin, events, warnings);
                Ok(())
            }
            Envelope::AksRecord => {
                let Value::Object(event) = envelope::aks_record(map, origin)? else {
                    return Err(not_an_event(
                        "AKS record properties.log holds no JSON object".to_string(),
                    ));
                };
                native(event, origin, events, warnings)
            }
            Envelope::Gke => {
                let Value::Object(event) = envelope::gke_entry(map, origin)? else {
                    return Err(not_an_event("GKE log entry gave no event".to_string()));
                };
                native(event, origin, events, warnings)
            }
        };
    }
    native(map, origin, events, warnings)
}

/// An `audit.k8s.io` Event or EventList.
fn native(
    map: Map<String, Value>,
    origin: &Origin,
    events: &mut Vec<Event>,
    warnings: &mut Vec<EventError>,
) -> Result<(), EventError> {
    let not_an_event = |message: String| EventError::NotAnEvent {
        origin: origin.clone(),
        message,
    };
    match map.get("kind").and_then(Value::as_str) {
        Some("EventList") => {
            check_api_version(&map, origin)?;
            let mut map = map;
            match map.remove("items") {
                Some(Value::Array(items)) => {
                    collect_batch(items, "items", origin, events, warnings);
                    Ok(())
                }
                None | Some(Value::Null) => Ok(()),
                Some(other) => Err(not_an_event(format!(
                    "EventList items is a {}, not an array",
                    kind_of(&other)
                ))),
            }
        }
        Some("Event") => {
            check_api_version(&map, origin)?;
            check_event(&map, origin)?;
            events.push(Event::new(Value::Object(map), origin.clone()));
            Ok(())
        }
        Some(other) => Err(not_an_event(format!("kind {other:?}"))),
        // Old logs have neither kind nor apiVersion: an event is known by its fields.
        None if map.contains_key("auditID") || map.contains_key("verb") => {
            check_event(&map, origin)?;
            events.push(Event::new(Value::Object(map), origin.clone()));
            Ok(())
        }
        None => Err(not_an_event(
            "no kind, auditID or verb (expected an audit.k8s.io Event or EventList)".to_string(),
        )),
    }
}

fn check_api_version(map: &Map<String, Value>, origin: &Origin) -> Result<(), EventError> {
    match map.get("apiVersion") {
        None => Ok(()),
        Some(Value::String(v)) if v.starts_with("audit.k8s.io/") => Ok(()),
        Some(other) => Err(EventError::NotAnEvent {
            origin: origin.clone(),
            message: format!("apiVersion {other} (expected audit.k8s.io/v1 or v1beta1)"),
        }),
    }
}

/// The fields detections read must have their documented types; a wrong type is reported
/// rather than read as absent.
fn check_event(map: &Map<String, Value>, origin: &Origin) -> Result<(), EventError> {
    let expect = |key: &str, ok: fn(&Value) -> bool, what: &str| -> Result<(), EventError> {
        match map.get(key) {
            Some(v) if !v.is_null() && !ok(v) => Err(EventError::NotAnEvent {
                origin: origin.clone(),
                message: format!("{key} is a {}, expected {what}", kind_of(v)),
            }),
            _ => Ok(()),
        }
    };
    expect("verb", Value::is_string, "a string")?;
    expect("stage", Value::is_string, "a string")?;
    expect("auditID", Value::is_string, "a string")?;
    expect("requestURI", Value::is_string, "a string")?;
    expect("user", Value::is_object, "an object")?;
    expect("objectRef", Value::is_object, "an object")?;
    expect("sourceIPs", Value::is_array, "an array")?;
    expect("annotations", Value::is_object, "an object")?;
    expect("responseStatus", Value::is_object, "an object")?;
    Ok(())
}

impl EventError {
    /// The same error, said of a part of the text (`items[3]`, `records[0]`).
    fn within(self, part: &str) -> EventError {
        match self {
            EventError::NotAnEvent { origin, message } => EventError::NotAnEvent {
                origin,
                message: format!("{part}: {message}"),
            },
            other => other,
        }
    }

    /// Where the text was read.
    pub fn origin(&self) -> &Origin {
        match self {
            EventError::Json { origin, .. }
            | EventError::NotAnEvent { origin, .. }
            | EventError::Oversized { origin, .. } => origin,
        }
    }
}

pub(super) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn origin() -> Origin {
        Origin::new("audit.log", 7)
    }

    #[test]
    fn events_of_every_version_and_none() {
        for text in [
            r#"{"apiVersion":"audit.k8s.io/v1","kind":"Event","verb":"get","auditID":"1"}"#,
            r#"{"apiVersion":"audit.k8s.io/v1beta1","kind":"Event","verb":"get","auditID":"1"}"#,
            r#"{"verb":"get","auditID":"1","user":{"username":"u"}}"#,
        ] {
            let events = parse(text, &origin()).unwrap();
            assert_eq!(events.len(), 1, "{text}");
            assert_eq!(events[0].verb(), Some("get"));
            assert_eq!(events[0].origin().to_string(), "audit.log:7");
        }
    }

    #[test]
    fn an_event_list_is_its_items() {
        let text = r#"{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[
            {"kind":"Event","auditID":"a","verb":"get"},{"kind":"Event","auditID":"b","verb":"list"}]}"#;
        let events = parse(text, &origin()).unwrap();
        let ids: Vec<_> = events.iter().map(|e| e.audit_id().unwrap()).collect();
        assert_eq!(ids, ["a", "b"]);
    }

    #[test]
    fn what_is_not_an_event_is_an_error_naming_the_place() {
        for (text, says) in [
            ("{\"verb\":", "audit.log:7: not JSON: EOF while parsing"),
            ("[1,2]", "not an audit event: item[0]: a JSON number"),
            ("7", "not an audit event: a JSON number"),
            (r#"{"kind":"Pod"}"#, "kind \"Pod\""),
            (
                r#"{"kind":"Event","apiVersion":"v1","verb":"get"}"#,
                "apiVersion \"v1\"",
            ),
            (
                r#"{"auditID":"1","verb":7}"#,
                "verb is a number, expected a string",
            ),
            (
                r#"{"auditID":"1","user":"root"}"#,
                "user is a string, expected an object",
            ),
            (
                r#"{"kind":"EventList","items":{}}"#,
                "items is a object, not an array",
            ),
            (r#"{"hello":"world"}"#, "no kind, auditID or verb"),
        ] {
            let error = parse(text, &origin()).unwrap_err().to_string();
            assert!(error.contains(says), "{text}: {error}");
        }
        let deep = "[".repeat(100_000);
        assert!(
            parse(&deep, &origin())
                .unwrap_err()
                .to_string()
                .contains("recursion limit")
        );
        let binary = [0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d];
        assert!(
            parse(binary, &origin())
                .unwrap_err()
                .to_string()
                .contains("not JSON")
        );
    }

    #[test]
    fn an_oversized_event_keeps_its_metadata() {
        let big = "x".repeat(MAX_EVENT_BYTES + 10);
        let text = format!(
            r#"{{"kind":"Event","auditID":"big","verb":"create","objectRef":{{"resource":"configmaps"}},"requestObject":{{"data":{{"k":"{big}"}}}}}}"#
        );
        let (events, warnings) = parse_with_warnings(text.as_bytes(), &origin()).unwrap();
        assert_eq!(events[0].resource(), Some("configmaps"));
        assert!(events[0].request_object().is_none());
        assert!(
            warnings[0].to_string().contains("event big is"),
            "{}",
            warnings[0]
        );
    }
}
