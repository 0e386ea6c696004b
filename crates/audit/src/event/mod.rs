//! One audit event and where it was read from.
//!
//! Reading is the hot path of audit analysis, so an event is read in two ways. The common
//! shape (one Event whose fields have their documented types) goes through a fast reader
//! that fills typed fields straight from the text and keeps the text; the JSON tree is built
//! only if something asks for it ([`Event::json`], an alert, a rule reading the request
//! object). Everything else (batches, envelopes, odd or invalid events) is read as a JSON
//! tree first, as before. Both give the same events and the same errors.

mod envelope;
mod fast;
pub(crate) mod fields;
mod parse;
pub mod read;

pub use envelope::{CLUSTER_ANNOTATION, FORMAT_ANNOTATION};
pub use parse::{EventError, MAX_EVENT_BYTES, parse, parse_with_warnings};

use fields::{Fields, List, Str};
use serde_json::Value;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

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
///
/// The fields detectors read (verb, user, objectRef, responseStatus, annotations, times...)
/// are held typed, so the accessors below cost no JSON lookups. An event read from text keeps
/// the text and builds its JSON ([`Event::json`]) or its objects ([`Event::request_object`])
/// only when first asked: most events are never asked, and reading stays cheap.
#[derive(Debug, Clone)]
pub struct Event {
    fields: Fields,
    source: Source,
    origin: Origin,
}

#[derive(Debug, Clone)]
enum Source {
    /// Built from JSON.
    Value(Value),
    /// Read from its text, which is kept; the JSON is built on demand.
    Text(Box<Lazy>),
}

#[derive(Debug, Clone)]
struct Lazy {
    text: Box<str>,
    request: Option<Range<usize>>,
    response: Option<Range<usize>>,
    json: OnceLock<Value>,
    request_value: OnceLock<Value>,
    response_value: OnceLock<Value>,
}

impl PartialEq for Event {
    fn eq(&self, other: &Event) -> bool {
        self.origin == other.origin && self.json() == other.json()
    }
}

impl Event {
    /// An event from its JSON object. The caller has checked that it is an event.
    pub fn new(value: Value, origin: Origin) -> Event {
        Event {
            fields: Fields::of_value(&value),
            source: Source::Value(value),
            origin,
        }
    }

    /// An event read by the fast reader from `text`, which it has checked.
    fn from_text(text: &str, read: fast::Read, origin: Origin) -> Event {
        Event {
            fields: read.fields,
            source: Source::Text(Box::new(Lazy {
                text: text.into(),
                request: read.request,
                response: read.response,
                json: OnceLock::new(),
                request_value: OnceLock::new(),
                response_value: OnceLock::new(),
            })),
            origin,
        }
    }

    /// The whole event (built on first use when the event was read from text).
    pub fn json(&self) -> &Value {
        match &self.source {
            Source::Value(value) => value,
            Source::Text(lazy) => lazy.json.get_or_init(|| parse_checked(&lazy.text)),
        }
    }

    /// The event as JSON, taken out of it.
    pub fn into_json(self) -> Value {
        match self.source {
            Source::Value(value) => value,
            Source::Text(lazy) => match lazy.json.into_inner() {
                Some(value) => value,
                None => parse_checked(&lazy.text),
            },
        }
    }

    /// Where it was read.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The value at a JSON pointer (RFC 6901), such as `/objectRef/resource`.
    pub fn pointer(&self, pointer: &str) -> Option<&Value> {
        if let Source::Text(_) = &self.source {
            // Objects are parsed on their own, and an absent one is known without parsing.
            for object in [Object::Request, Object::Response] {
                if let Some(rest) = pointer
                    .strip_prefix('/')
                    .and_then(|p| p.strip_prefix(object.key()))
                    && (rest.is_empty() || rest.starts_with('/'))
                {
                    return self.lazy_object(object)?.pointer(rest);
                }
            }
        }
        self.json().pointer(pointer)
    }

    /// The typed fields.
    pub(crate) fn fields(&self) -> &Fields {
        &self.fields
    }

    /// Whether the event has the top-level key `name` (without building its JSON).
    pub fn has_key(&self, name: &str) -> bool {
        self.fields.has_key(name)
    }

    /// `auditID`.
    pub fn audit_id(&self) -> Option<&str> {
        self.fields.str(Str::AuditId)
    }

    /// `stage`: RequestReceived, ResponseStarted, ResponseComplete or Panic.
    pub fn stage(&self) -> Option<&str> {
        self.fields.str(Str::Stage)
    }

    /// `verb`: get, list, watch, create, update, patch, delete, deletecollection, or the
    /// lower-cased HTTP method for non-resource requests.
    pub fn verb(&self) -> Option<&str> {
        self.fields.str(Str::Verb)
    }

    /// `requestURI`.
    pub fn request_uri(&self) -> Option<&str> {
        self.fields.str(Str::RequestUri)
    }

    /// `userAgent`.
    pub fn user_agent(&self) -> Option<&str> {
        self.fields.str(Str::UserAgent)
    }

    /// `user.username`.
    pub fn user_name(&self) -> Option<&str> {
        self.fields.str(Str::UserName)
    }

    /// `user.groups`.
    pub fn user_groups(&self) -> impl Iterator<Item = &str> {
        self.fields.list(List::UserGroups).into_iter().flatten()
    }

    /// `impersonatedUser.username`.
    pub fn impersonated_user(&self) -> Option<&str> {
        self.fields.str(Str::ImpersonatedUserName)
    }

    /// `impersonatedUser.groups`.
    pub fn impersonated_groups(&self) -> impl Iterator<Item = &str> {
        self.fields
            .list(List::ImpersonatedGroups)
            .into_iter()
            .flatten()
    }

    /// `sourceIPs`, the client first.
    pub fn source_ips(&self) -> impl Iterator<Item = &str> {
        self.fields.list(List::SourceIps).into_iter().flatten()
    }

    /// `objectRef.resource`.
    pub fn resource(&self) -> Option<&str> {
        self.fields.str(Str::Resource)
    }

    /// `objectRef.subresource`.
    pub fn subresource(&self) -> Option<&str> {
        self.fields.str(Str::Subresource)
    }

    /// `objectRef.namespace`.
    pub fn namespace(&self) -> Option<&str> {
        self.fields.str(Str::Namespace)
    }

    /// `objectRef.name`.
    pub fn name(&self) -> Option<&str> {
        self.fields.str(Str::Name)
    }

    /// `objectRef.apiGroup` (absent for the core group).
    pub fn api_group(&self) -> Option<&str> {
        self.fields.str(Str::ApiGroup)
    }

    /// `objectRef.apiVersion`.
    pub fn api_version(&self) -> Option<&str> {
        self.fields.str(Str::ApiVersion)
    }

    /// `responseStatus.code`.
    pub fn response_code(&self) -> Option<i64> {
        self.fields.code()
    }

    /// `responseStatus.reason`.
    pub fn response_reason(&self) -> Option<&str> {
        self.fields.str(Str::ResponseReason)
    }

    /// `requestObject`, present at audit level Request and above.
    pub fn request_object(&self) -> Option<&Value> {
        self.object(Object::Request)
    }

    /// `responseObject`, present at audit level RequestResponse.
    pub fn response_object(&self) -> Option<&Value> {
        self.object(Object::Response)
    }

    fn object(&self, which: Object) -> Option<&Value> {
        match &self.source {
            Source::Value(value) => value.get(which.key()).filter(|v| !v.is_null()),
            Source::Text(_) => self.lazy_object(which),
        }
    }

    /// An object of an event read from text: only that object's text is parsed (the fast
    /// reader takes no `null` objects).
    fn lazy_object(&self, which: Object) -> Option<&Value> {
        let Source::Text(lazy) = &self.source else {
            return None;
        };
        let (range, cell) = match which {
            Object::Request => (lazy.request.as_ref()?, &lazy.request_value),
            Object::Response => (lazy.response.as_ref()?, &lazy.response_value),
        };
        let text = lazy.text.get(range.clone())?;
        Some(cell.get_or_init(|| parse_checked(text)))
    }

    /// An annotation, such as `authorization.k8s.io/decision`.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.fields.annotation(key)
    }

    /// When the API server received the request (`requestReceivedTimestamp`, or the older
    /// `timestamp`), as written: RFC 3339 with microseconds.
    pub fn time(&self) -> Option<&str> {
        self.fields
            .str(Str::RequestReceived)
            .or_else(|| self.fields.str(Str::StageTimestamp))
            .or_else(|| self.fields.str(Str::Timestamp))
    }
}

#[derive(Debug, Clone, Copy)]
enum Object {
    Request,
    Response,
}

impl Object {
    fn key(self) -> &'static str {
        match self {
            Object::Request => "requestObject",
            Object::Response => "responseObject",
        }
    }
}

/// JSON the fast reader has already read whole (valid, and nested well under the limit), so
/// it parses; `Null` stands in should that ever not hold, rather than a panic.
fn parse_checked(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}
