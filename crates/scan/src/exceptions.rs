//! Exceptions: accepted risks, each with a reason, from a YAML file or an object annotation.
//!
//! File format (`docs/exceptions.md`):
//!
//! ```yaml
//! exceptions:
//!   - control: PAL-101            # id or glob
//!     reason: calico-node needs privileged mode to program the host network
//!     expires: 2027-03-31         # optional; expired exceptions stop applying
//!     match:                      # every given field must match; globs allowed
//!       kind: DaemonSet
//!       namespace: kube-system
//!       name: calico-*
//!       labels: {k8s-app: calico-node}
//!       file: deploy/*.yaml
//! ```
//!
//! Annotation: `ignore.palisade.dev/PAL-101: "reason"` on the object itself.

use crate::date::valid_date;
use globset::{Glob, GlobMatcher};
use palisade_model::{ExceptionNotice, Finding, Object, Suppression};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Annotation prefix that marks an in-source exception.
pub const ANNOTATION_PREFIX: &str = "ignore.palisade.dev/";

/// A problem in an exceptions file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ExceptionError {
    /// The exceptions file.
    pub file: String,
    /// Line of the offending entry or field.
    pub line: u32,
    /// What is wrong.
    pub message: String,
}

/// Parsed exceptions file.
#[derive(Debug, Clone, Default)]
pub struct Exceptions {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    control_text: String,
    control: GlobMatcher,
    reason: String,
    expires: Option<String>,
    kind: Option<String>,
    namespace: Option<GlobMatcher>,
    name: Option<GlobMatcher>,
    file: Option<GlobMatcher>,
    labels: Map<String, Value>,
    source: String,
}

impl Exceptions {
    /// Parses an exceptions file; every problem is reported with its line.
    pub fn parse(file: &str, text: &str) -> Result<Exceptions, Vec<ExceptionError>> {
        let err = |line: u32, message: String| ExceptionError {
            file: file.to_string(),
            line,
            message,
        };
        let parsed = palisade_loader::parse(text, palisade_loader::Limits::default());
        if let Some(e) = parsed.error {
            return Err(vec![err(e.line().unwrap_or(1), e.to_string())]);
        }
        let Some(doc) = parsed.documents.into_iter().next() else {
            return Ok(Exceptions::default());
        };
        let positions = doc.fields.positions();
        let line_of = |p: &str| positions.line_of(p).unwrap_or(doc.line);
        let list = match doc.value.get("exceptions") {
            Some(Value::Array(list)) => list.clone(),
            Some(_) => {
                return Err(vec![err(
                    line_of("/exceptions"),
                    "`exceptions` must be a list".into(),
                )]);
            }
            None => {
                return Err(vec![err(
                    doc.line,
                    "expected a top-level `exceptions:` list".into(),
                )]);
            }
        };
        let mut entries = Vec::new();
        let mut errors = Vec::new();
        for (i, item) in list.iter().enumerate() {
            let at = format!("/exceptions/{i}");
            match parse_entry(item, &|field: &str| line_of(&format!("{at}{field}")), file) {
                Ok(entry) => entries.push(entry),
                Err((field, message)) => {
                    errors.push(err(line_of(&format!("{at}{field}")), message))
                }
            }
        }
        if errors.is_empty() {
            Ok(Exceptions { entries })
        } else {
            Err(errors)
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

type FieldError = (&'static str, String);

fn parse_entry(item: &Value, line: &dyn Fn(&str) -> u32, file: &str) -> Result<Entry, FieldError> {
    let Some(map) = item.as_object() else {
        return Err(("", "each exception must be a mapping".into()));
    };
    for key in map.keys() {
        if !matches!(key.as_str(), "control" | "reason" | "expires" | "match") {
            return Err((
                "",
                format!("unknown field {key:?} (expected control, reason, expires, match)"),
            ));
        }
    }
    let control_text =
        string_field(map, "control")?.ok_or(("", "`control` is required".to_string()))?;
    let reason = string_field(map, "reason")?.unwrap_or_default();
    if reason.trim().is_empty() {
        return Err((
            "/reason",
            "`reason` is required: say why the risk is accepted".into(),
        ));
    }
    let expires = match map.get("expires") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if valid_date(s) => Some(s.clone()),
        Some(other) => {
            return Err((
                "/expires",
                format!("`expires` must be a date YYYY-MM-DD, got {other}"),
            ));
        }
    };
    let control = glob(&control_text, "/control")?;
    let selector = match map.get("match") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(("/match", "`match` must be a mapping".into())),
    };
    for key in selector.keys() {
        if !matches!(
            key.as_str(),
            "kind" | "namespace" | "name" | "labels" | "file"
        ) {
            return Err((
                "/match",
                format!(
                    "unknown selector field {key:?} (expected kind, namespace, name, labels, file)"
                ),
            ));
        }
    }
    let labels = match selector.get("labels") {
        None => Map::new(),
        Some(Value::Object(l)) => l.clone(),
        Some(_) => return Err(("/match/labels", "`labels` must be a mapping".into())),
    };
    Ok(Entry {
        control,
        reason,
        expires,
        kind: string_field(&selector, "kind")?,
        namespace: string_field(&selector, "namespace")?
            .map(|s| glob(&s, "/match/namespace"))
            .transpose()?,
        name: string_field(&selector, "name")?
            .map(|s| glob(&s, "/match/name"))
            .transpose()?,
        file: string_field(&selector, "file")?
            .map(|s| glob(&s, "/match/file"))
            .transpose()?,
        labels,
        source: format!("{file}:{}", line("")),
        control_text,
    })
}

fn string_field(map: &Map<String, Value>, key: &'static str) -> Result<Option<String>, FieldError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(("", format!("`{key}` must be a string, got {other}"))),
    }
}

fn glob(pattern: &str, field: &'static str) -> Result<GlobMatcher, FieldError> {
    Glob::new(pattern)
        .map(|g| g.compile_matcher())
        .map_err(|e| (field, format!("bad pattern {pattern:?}: {e}")))
}

impl Entry {
    fn matches(&self, finding: &Finding, object: Option<&Object>) -> bool {
        let o = &finding.object;
        self.control.is_match(&*finding.control_id)
            && self.kind.as_deref().is_none_or(|k| k == o.kind)
            && self
                .namespace
                .as_ref()
                .is_none_or(|m| m.is_match(o.namespace.as_deref().unwrap_or("")))
            && self.name.as_ref().is_none_or(|m| m.is_match(&o.name))
            && self
                .file
                .as_ref()
                .is_none_or(|m| m.is_match(&*finding.location.file))
            && (self.labels.is_empty()
                || object.is_some_and(|obj| {
                    self.labels
                        .iter()
                        .all(|(k, v)| obj.labels().get(k) == Some(v))
                }))
    }
}

/// File, apiVersion, kind, namespace and name: what names an object in a finding.
type ObjectKey<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, &'a str);

fn key_of(finding: &Finding) -> ObjectKey<'_> {
    let o = &finding.object;
    (
        &finding.location.file,
        &o.api_version,
        &o.kind,
        o.namespace.as_deref(),
        &o.name,
    )
}

/// Splits findings into kept and suppressed, and lists exceptions that need attention.
pub(crate) fn apply(
    findings: Vec<Finding>,
    objects: &[Object],
    exceptions: Option<&Exceptions>,
    today: &str,
) -> (Vec<Finding>, Vec<Finding>, Vec<ExceptionNotice>) {
    let entries = exceptions.map(|e| e.entries.as_slice()).unwrap_or(&[]);
    // Findings name their object by reference; the index back to objects (for annotations and
    // label selectors) is only built when something can use it.
    let annotated = objects.iter().any(|o| {
        o.annotations()
            .keys()
            .any(|k| k.starts_with(ANNOTATION_PREFIX))
    });
    let index: HashMap<ObjectKey, &Object> = if annotated || !entries.is_empty() {
        objects
            .iter()
            .map(|o| {
                let key = (
                    &*o.source.file,
                    o.api_version(),
                    o.kind(),
                    o.namespace(),
                    o.name(),
                );
                (key, o)
            })
            .collect()
    } else {
        HashMap::new()
    };
    let mut used = vec![false; entries.len()];
    let mut notices = Vec::new();
    for (entry, used) in entries.iter().zip(used.iter_mut()) {
        if entry.expires.as_deref().is_some_and(|d| d < today) {
            *used = true; // reported as expired, not as unused
            notices.push(ExceptionNotice {
                source: entry.source.clone(),
                control_id: entry.control_text.clone(),
                status: "expired".into(),
                message: format!(
                    "exception expired on {}; its findings are reported again (reason was: {})",
                    entry.expires.as_deref().unwrap_or_default(),
                    entry.reason
                ),
            });
        }
    }
    let mut kept = Vec::with_capacity(findings.len());
    let mut suppressed = Vec::new();
    for mut finding in findings {
        let object = index.get(&key_of(&finding)).copied();
        if let Some(s) = object.and_then(|o| annotation(o, &finding.control_id)) {
            finding.suppressed = Some(Box::new(s));
            suppressed.push(finding);
            continue;
        }
        let hit = entries.iter().enumerate().find(|(_, e)| {
            e.expires.as_deref().is_none_or(|d| d >= today) && e.matches(&finding, object)
        });
        if let Some((i, entry)) = hit {
            if let Some(u) = used.get_mut(i) {
                *u = true;
            }
            finding.suppressed = Some(Box::new(Suppression {
                kind: "exceptions-file".into(),
                reason: entry.reason.clone(),
                source: entry.source.clone(),
                expires: entry.expires.clone(),
            }));
            suppressed.push(finding);
        } else {
            kept.push(finding);
        }
    }
    for (entry, used) in entries.iter().zip(used) {
        if !used {
            notices.push(ExceptionNotice {
                source: entry.source.clone(),
                control_id: entry.control_text.clone(),
                status: "unused".into(),
                message: "exception matches no finding; remove it if the risk is gone".into(),
            });
        }
    }
    notices.extend(invalid_annotations(objects));
    notices.sort();
    (kept, suppressed, notices)
}

fn annotation(object: &Object, control: &str) -> Option<Suppression> {
    let key = format!("{ANNOTATION_PREFIX}{control}");
    let reason = object.annotations().get(&key)?.as_str()?.trim();
    (!reason.is_empty()).then(|| Suppression {
        kind: "annotation".into(),
        reason: reason.to_string(),
        source: format!(
            "{}:{} {key}",
            object.source.file,
            object.line_of(&format!(
                "/metadata/annotations/{}",
                palisade_model::escape_token(&key)
            ))
        ),
        expires: None,
    })
}

fn invalid_annotations(objects: &[Object]) -> Vec<ExceptionNotice> {
    let mut notices = Vec::new();
    for o in objects {
        for (key, value) in o.annotations() {
            let Some(control) = key.strip_prefix(ANNOTATION_PREFIX) else {
                continue;
            };
            if value.as_str().is_none_or(|r| r.trim().is_empty()) {
                notices.push(ExceptionNotice {
                    source: format!("{}:{}", o.source.file, o.source.line),
                    control_id: control.to_string(),
                    status: "invalid".into(),
                    message: format!("annotation {key} has no reason, so it is ignored: write why the risk is accepted"),
                });
            }
        }
    }
    notices
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reports_lines() {
        let text = "exceptions:\n  - control: PAL-101\n    reason: ok\n  - control: PAL-102\n    reason: ''\n  - control: PAL-103\n    reason: x\n    expires: 2024-02-30\n";
        let errors = Exceptions::parse("ex.yaml", text).unwrap_err();
        let lines: Vec<u32> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![5, 8]);
        assert!(
            errors[0]
                .to_string()
                .starts_with("ex.yaml:5: `reason` is required")
        );
    }

    #[test]
    fn parse_rejects_unknown_fields() {
        let text = "exceptions:\n  - control: PAL-101\n    reason: ok\n    match: {kinds: Pod}\n";
        let errors = Exceptions::parse("ex.yaml", text).unwrap_err();
        assert!(errors[0].message.contains("unknown selector field"));
    }
}
