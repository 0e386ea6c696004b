//! One audit event and where it was read from.

mod envelope;
mod parse;
pub mod read;

pub use envelope::{CLUSTER_ANNOTATION, FORMAT_ANNOTATION};
pub use parse::{EventError, MAX_EVENT_BYTES, parse, parse_with_warnings};

use serde_json::Value;
use std::sync::Arc;

/// Where an event was read: a file (or `-` for stdin, or a webhook batch) and a line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// The file, `-` for stdin, or `webhook` for a posted batch.
    pub source: Arc<str>,
    /// 1-based line (the batch number for webhook input).
    pub line: u64,
}

impl Origin {
    /// An origin in `source` at `line`.
    pub fn new(source: impl Into<Arc<str>>, line: u64) -> Origin {
        Origin {
            source: source.into(),
            line,
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.source, self.line)
    }
}

/// One `audit.k8s.io` Event, as JSON, normalised so that every input shape reads the same:
/// cloud envelopes are unwrapped into the Event they carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    value: Value,
    origin: Origin,
}

impl Event {
    /// An event from its JSON object. The caller has checked that it is an event.
    pub fn new(value: Value, origin: Origin) -> Event {
        Event { value, origin }
    }

    /// The whole event.
    pub fn json(&self) -> &Value {
        &self.value
    }

    /// Where it was read.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The value at a JSON pointer (RFC 6901), such as `/objectRef/resource`.
    pub fn pointer(&self, pointer: &str) -> Option<&Value> {
        self.value.pointer(pointer)
    }

    fn str_at(&self, outer: &str, inner: &str) -> Option<&str> {
        self.value.get(outer)?.get(inner)?.as_str()
    }

    fn str(&self, key: &str) -> Option<&str> {
        self.value.get(key)?.as_str()
    }

    /// `auditID`.
    pub fn audit_id(&self) -> Option<&str> {
        self.str("auditID")
    }

    /// `stage`: RequestReceived, ResponseStarted, ResponseComplete or Panic.
    pub fn stage(&self) -> Option<&str> {
        self.str("stage")
    }

    /// `verb`: get, list, watch, create, update, patch, delete, deletecollection, or the
    /// lower-cased HTTP method for non-resource requests.
    pub fn verb(&self) -> Option<&str> {
        self.str("verb")
    }

    /// `requestURI`.
    pub fn request_uri(&self) -> Option<&str> {
        self.str("requestURI")
    }

    /// `userAgent`.
    pub fn user_agent(&self) -> Option<&str> {
        self.str("userAgent")
    }

    /// `user.username`.
    pub fn user_name(&self) -> Option<&str> {
        self.str_at("user", "username")
    }

    /// `user.groups`.
    pub fn user_groups(&self) -> impl Iterator<Item = &str> {
        strings(self.value.get("user").and_then(|u| u.get("groups")))
    }

    /// `impersonatedUser.username`.
    pub fn impersonated_user(&self) -> Option<&str> {
        self.str_at("impersonatedUser", "username")
    }

    /// `sourceIPs`, the client first.
    pub fn source_ips(&self) -> impl Iterator<Item = &str> {
        strings(self.value.get("sourceIPs"))
    }

    /// `objectRef.resource`.
    pub fn resource(&self) -> Option<&str> {
        self.str_at("objectRef", "resource")
    }

    /// `objectRef.subresource`.
    pub fn subresource(&self) -> Option<&str> {
        self.str_at("objectRef", "subresource")
    }

    /// `objectRef.namespace`.
    pub fn namespace(&self) -> Option<&str> {
        self.str_at("objectRef", "namespace")
    }

    /// `objectRef.name`.
    pub fn name(&self) -> Option<&str> {
        self.str_at("objectRef", "name")
    }

    /// `objectRef.apiGroup` (absent for the core group).
    pub fn api_group(&self) -> Option<&str> {
        self.str_at("objectRef", "apiGroup")
    }

    /// `objectRef.apiVersion`.
    pub fn api_version(&self) -> Option<&str> {
        self.str_at("objectRef", "apiVersion")
    }

    /// `responseStatus.code`.
    pub fn response_code(&self) -> Option<i64> {
        self.value.get("responseStatus")?.get("code")?.as_i64()
    }

    /// `requestObject`, present at audit level Request and above.
    pub fn request_object(&self) -> Option<&Value> {
        self.value.get("requestObject").filter(|v| !v.is_null())
    }

    /// `responseObject`, present at audit level RequestResponse.
    pub fn response_object(&self) -> Option<&Value> {
        self.value.get("responseObject").filter(|v| !v.is_null())
    }

    /// An annotation, such as `authorization.k8s.io/decision`.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.str_at("annotations", key)
    }

    /// When the API server received the request (`requestReceivedTimestamp`, or the older
    /// `timestamp`), as written: RFC 3339 with microseconds.
    pub fn time(&self) -> Option<&str> {
        self.str("requestReceivedTimestamp")
            .or_else(|| self.str("stageTimestamp"))
            .or_else(|| self.str("timestamp"))
    }
}

fn strings(value: Option<&Value>) -> impl Iterator<Item = &str> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}
