use crate::object::Object;
use crate::severity::Severity;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Which object a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    /// `apiVersion`.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.namespace`, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl ObjectRef {
    /// The reference of an object.
    pub fn of(object: &Object) -> Self {
        ObjectRef {
            api_version: object.api_version().to_string(),
            kind: object.kind().to_string(),
            namespace: object.namespace().map(str::to_string),
            name: object.name().to_string(),
        }
    }

    /// `Kind/namespace/name` or `Kind/name`.
    pub fn display(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{}/{}", self.kind, ns, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}

/// Where in the input a finding points.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Location {
    /// File as the user named it (shared by every finding on the file).
    pub file: Arc<str>,
    /// 1-based line of the offending field (or of the object when the field is absent).
    pub line: u32,
    /// JSON pointer of the offending field within the object.
    pub pointer: String,
}

/// Why a finding does not count.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Suppression {
    /// `exceptions-file` or `annotation`.
    pub kind: String,
    /// The reason given.
    pub reason: String,
    /// Where the exception was written (`file:line` or the annotation key).
    pub source: String,
    /// Expiry date (`YYYY-MM-DD`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// One control failing on one object at one field.
///
/// A large scan holds tens of thousands of findings, so the parts many findings have in common
/// (control id and title, object, file) are shared rather than copied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Control id (`PAL-101`).
    #[serde(rename = "controlId")]
    pub control_id: Arc<str>,
    /// Control title.
    pub title: Arc<str>,
    /// Severity.
    pub severity: Severity,
    /// The object.
    pub object: Arc<ObjectRef>,
    /// Where.
    pub location: Location,
    /// What is wrong, specifically (names the container and the value found).
    pub message: String,
    /// Set when an exception covers this finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Box<Suppression>>,
}

impl Finding {
    /// The order reports use: file, line, control, object, message.
    pub fn sort_key(&self) -> (&str, u32, &str, &ObjectRef, &str, &str) {
        (
            &self.location.file,
            self.location.line,
            &self.control_id,
            &self.object,
            &self.location.pointer,
            &self.message,
        )
    }
}
