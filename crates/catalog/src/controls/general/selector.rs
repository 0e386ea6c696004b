//! PAL-906: a controller's selector must select its own pod template. The API server rejects
//! the object otherwise (`selector does not match template labels`), so the manifest cannot
//! be applied.

use crate::registry::{Rule, Target};
use crate::util::{items, map_selector_matches, pod_labels, selector_matches, strings};
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::{Map, Value};

pub const RULE: Rule = Rule {
    id: "PAL-906",
    target: Target::Kinds(&[
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "ReplicationController",
        "Job",
    ]),
    check,
};

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let empty = Map::new();
    let labels = pod_labels(object).unwrap_or(&empty);
    let selector = object.at("/spec/selector").filter(|s| !s.is_null());
    match object.kind() {
        // An unset selector defaults to the template labels.
        "ReplicationController" => {
            let Some(map) = selector.and_then(Value::as_object) else {
                return;
            };
            if !map.is_empty() && !map_selector_matches(map, labels) {
                report(hits, &describe_labels(map), labels);
            }
        }
        // The Job controller writes its own selector unless manualSelector is true.
        "Job" => {
            if object.at("/spec/manualSelector").and_then(Value::as_bool) != Some(true) {
                return;
            }
            if let Some(selector) = selector {
                label_selector(selector, labels, hits);
            }
        }
        _ => match selector {
            Some(selector) => label_selector(selector, labels, hits),
            // Older API versions defaulted the selector; apps/v1 requires it.
            None if object.api_version() == "apps/v1" => hits.push(
                "/spec/selector",
                "spec.selector is not set; apps/v1 requires it, so the API server rejects the object",
            ),
            None => {}
        },
    }
}

fn label_selector(selector: &Value, labels: &Map<String, Value>, hits: &mut Hits) {
    let description = describe_selector(selector);
    if description.is_empty() {
        hits.push(
            "/spec/selector",
            "spec.selector is empty; it must select the pod template labels, so the API server rejects the object",
        );
    } else if !selector_matches(selector, labels) {
        report(hits, &description, labels);
    }
}

fn report(hits: &mut Hits, selector: &str, labels: &Map<String, Value>) {
    let template = if labels.is_empty() {
        "none".to_string()
    } else {
        describe_labels(labels)
    };
    hits.push(
        "/spec/selector",
        format!(
            "spec.selector ({selector}) does not match the pod template labels ({template}), so the API server rejects the object"
        ),
    );
}

fn describe_labels(labels: &Map<String, Value>) -> String {
    labels
        .iter()
        .map(|(k, v)| match v.as_str() {
            Some(s) => format!("{k}={s}"),
            None => format!("{k}={v}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `app=web, tier In (a, b)`; empty for a selector that selects nothing in particular.
fn describe_selector(selector: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(match_labels) = selector.get("matchLabels").and_then(Value::as_object)
        && !match_labels.is_empty()
    {
        parts.push(describe_labels(match_labels));
    }
    for (_, expr) in items(selector.get("matchExpressions")) {
        let key = expr.get("key").and_then(Value::as_str).unwrap_or("");
        let op = expr.get("operator").and_then(Value::as_str).unwrap_or("");
        let values: Vec<&str> = strings(expr.get("values")).map(|(_, s)| s).collect();
        parts.push(if values.is_empty() {
            format!("{key} {op}")
        } else {
            format!("{key} {op} ({})", values.join(", "))
        });
    }
    // A selector that is not an object at all still fails to match; name it as written.
    if parts.is_empty() && !selector.is_object() {
        return selector.to_string();
    }
    parts.join(", ")
}
