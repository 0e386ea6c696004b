//! Shared by the baseline tests: the benign corpus as audit events, and event builders.

#![allow(dead_code)]

use palisade_audit::{Event, Origin};
use serde_json::{Value, json};

/// An audit event from its parts; `sources` and `agent` may be empty.
pub fn event(
    time: &str,
    user: &str,
    verb: &str,
    resource: &str,
    namespace: &str,
    source: &str,
    agent: &str,
) -> Event {
    let (resource, sub) = resource.split_once('/').unwrap_or((resource, ""));
    let mut v = json!({
        "apiVersion": "audit.k8s.io/v1", "kind": "Event", "stage": "ResponseComplete",
        "auditID": format!("{user}-{verb}-{resource}-{namespace}-{time}"),
        "requestReceivedTimestamp": time, "verb": verb, "user": {"username": user},
        "objectRef": {"resource": resource}, "responseStatus": {"code": 200},
    });
    if !sub.is_empty() {
        v["objectRef"]["subresource"] = json!(sub);
    }
    if !namespace.is_empty() {
        v["objectRef"]["namespace"] = json!(namespace);
    }
    if !source.is_empty() {
        v["sourceIPs"] = json!([source]);
    }
    if !agent.is_empty() {
        v["userAgent"] = json!(agent);
    }
    Event::new(v, Origin::new("test.log", 1))
}

/// RFC 3339 time `seconds` after 2024-05-01T00:00:00Z.
pub fn at(seconds: i64) -> String {
    let base = 1_714_521_600i64;
    let t = base + seconds;
    let days = t.div_euclid(86_400) - 19_844; // days after 2024-05-01
    let s = t.rem_euclid(86_400);
    // May has 31 days, June 30: enough for these tests.
    let (month, day) = if days < 31 {
        (5, days + 1)
    } else {
        (6, days - 30)
    };
    format!(
        "2024-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// The audit IDs of an alert's evidence events.
pub fn audit_ids(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| e.get("auditID").and_then(Value::as_str))
        .collect()
}
