//! Helpers shared by rules: effective security settings, label selectors, value access.

use palisade_model::{ContainerRef, Object, PodSpecRef};
use serde_json::{Map, Value};
use std::sync::LazyLock;

/// A container's securityContext field, or the pod's when the container does not set it
/// (the precedence the kubelet applies). Returns the value and the pointer it came from.
pub fn effective<'a>(
    pod: &PodSpecRef<'a>,
    container: &ContainerRef<'a>,
    field: &str,
) -> Option<(&'a Value, String)> {
    if let Some(v) = container
        .security_context()
        .and_then(|sc| sc.get(field))
        .filter(|v| !v.is_null())
    {
        return Some((v, container.field(&format!("/securityContext/{field}"))));
    }
    pod.security_context()
        .and_then(|sc| sc.get(field))
        .filter(|v| !v.is_null())
        .map(|v| (v, pod.field(&format!("securityContext/{field}"))))
}

/// `true` only for a JSON `true`.
pub fn is_true(value: Option<&Value>) -> bool {
    value.and_then(Value::as_bool) == Some(true)
}

/// The strings of a JSON array (non-strings are skipped).
pub fn strings(value: Option<&Value>) -> impl Iterator<Item = (usize, &str)> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, v)| v.as_str().map(|s| (i, s)))
}

/// Items of a JSON array with their index.
pub fn items(value: Option<&Value>) -> impl Iterator<Item = (usize, &Value)> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

/// Labels the pods of a workload get (`metadata.labels` of a Pod, of the template otherwise).
pub fn pod_labels(object: &Object) -> Option<&Map<String, Value>> {
    object
        .pod_spec()?
        .metadata?
        .get("labels")
        .and_then(Value::as_object)
}

static NO_LABELS: LazyLock<Map<String, Value>> = LazyLock::new(Map::new);

/// The labels a workload's pods get, empty when it sets none.
pub fn pod_labels_or_empty(object: &Object) -> &Map<String, Value> {
    pod_labels(object).unwrap_or(&NO_LABELS)
}

/// Does a `LabelSelector` (`matchLabels` + `matchExpressions`) select these labels?
/// An empty selector selects everything; a malformed one selects nothing.
pub fn selector_matches(selector: &Value, labels: &Map<String, Value>) -> bool {
    let Some(sel) = selector.as_object() else {
        return false;
    };
    if let Some(match_labels) = sel.get("matchLabels") {
        let Some(ml) = match_labels.as_object() else {
            return false;
        };
        if !ml.iter().all(|(k, v)| labels.get(k) == Some(v)) {
            return false;
        }
    }
    for (_, expr) in items(sel.get("matchExpressions")) {
        let key = expr.get("key").and_then(Value::as_str).unwrap_or("");
        let op = expr.get("operator").and_then(Value::as_str).unwrap_or("");
        let listed = |a: &str| strings(expr.get("values")).any(|(_, s)| s == a);
        let actual = labels.get(key).and_then(Value::as_str);
        let ok = match op {
            "In" => actual.is_some_and(listed),
            "NotIn" => actual.is_none_or(|a| !listed(a)),
            "Exists" => labels.contains_key(key),
            "DoesNotExist" => !labels.contains_key(key),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Does a map selector (a Service's `spec.selector`) select these labels? An empty map
/// selects nothing, as for Services.
pub fn map_selector_matches(selector: &Map<String, Value>, labels: &Map<String, Value>) -> bool {
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selectors() {
        let labels = json!({"app": "web", "tier": "front"});
        let labels = labels.as_object().unwrap();
        assert!(selector_matches(&json!({}), labels));
        assert!(selector_matches(
            &json!({"matchLabels": {"app": "web"}}),
            labels
        ));
        assert!(!selector_matches(
            &json!({"matchLabels": {"app": "db"}}),
            labels
        ));
        assert!(selector_matches(
            &json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]}),
            labels
        ));
        assert!(!selector_matches(
            &json!({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}),
            labels
        ));
        assert!(!selector_matches(&json!("junk"), labels));
        assert!(!map_selector_matches(&Map::new(), labels));
    }
}
