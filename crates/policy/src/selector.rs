//! Kubernetes label selectors (`matchLabels` and `matchExpressions`), read once and matched
//! against label maps.

use serde_json::{Map, Value};

/// A label selector. Every requirement must hold; an empty selector selects everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

impl LabelSelector {
    /// Reads a selector as the API server does: `matchLabels` values must be strings, and each
    /// expression needs a key, a known operator, and values exactly when the operator takes
    /// them.
    pub fn read(selector: &Value) -> Result<LabelSelector, String> {
        let Some(fields) = selector.as_object() else {
            return if selector.is_null() {
                Ok(LabelSelector::default())
            } else {
                Err("a label selector must be a map".into())
            };
        };
        let mut requirements = Vec::new();
        if let Some(labels) = fields.get("matchLabels").filter(|v| !v.is_null()) {
            let labels = labels
                .as_object()
                .ok_or("matchLabels must be a map of strings")?;
            for (key, value) in labels {
                let value = value
                    .as_str()
                    .ok_or_else(|| format!("matchLabels {key:?}: the value must be a string"))?;
                requirements.push(Requirement::In(key.clone(), vec![value.to_string()]));
            }
        }
        if let Some(expressions) = fields.get("matchExpressions").filter(|v| !v.is_null()) {
            let expressions = expressions
                .as_array()
                .ok_or("matchExpressions must be a list")?;
            for (i, expression) in expressions.iter().enumerate() {
                requirements.push(
                    requirement(expression).map_err(|e| format!("matchExpressions[{i}]: {e}"))?,
                );
            }
        }
        Ok(LabelSelector { requirements })
    }

    /// Whether it selects everything.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether these labels are selected.
    pub fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        let get = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
        self.requirements.iter().all(|r| match r {
            Requirement::In(key, values) => get(key).is_some_and(|v| values.iter().any(|x| x == v)),
            Requirement::NotIn(key, values) => {
                get(key).is_none_or(|v| values.iter().all(|x| x != v))
            }
            Requirement::Exists(key) => labels.is_some_and(|l| l.contains_key(key)),
            Requirement::DoesNotExist(key) => labels.is_none_or(|l| !l.contains_key(key)),
        })
    }
}

fn requirement(expression: &Value) -> Result<Requirement, String> {
    let key = expression
        .get("key")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .ok_or("key is required")?
        .to_string();
    let values: Vec<String> = match expression.get("values").filter(|v| !v.is_null()) {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or("values must be strings")
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("values must be a list of strings".into()),
    };
    let operator = expression
        .get("operator")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match operator {
        "In" | "NotIn" if values.is_empty() => {
            Err(format!("operator {operator} needs at least one value"))
        }
        "Exists" | "DoesNotExist" if !values.is_empty() => {
            Err(format!("operator {operator} takes no values"))
        }
        "In" => Ok(Requirement::In(key, values)),
        "NotIn" => Ok(Requirement::NotIn(key, values)),
        "Exists" => Ok(Requirement::Exists(key)),
        "DoesNotExist" => Ok(Requirement::DoesNotExist(key)),
        other => Err(format!(
            "unknown operator {other:?} (In, NotIn, Exists or DoesNotExist)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn match_labels_and_expressions_are_anded() {
        let s = LabelSelector::read(&json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["front", "edge"]},
                {"key": "legacy", "operator": "DoesNotExist"},
            ]
        }))
        .unwrap_or_default();
        assert!(s.matches(Some(&labels(json!({"app": "web", "tier": "edge"})))));
        assert!(!s.matches(Some(&labels(json!({"app": "web", "tier": "back"})))));
        assert!(!s.matches(Some(&labels(
            json!({"app": "web", "tier": "edge", "legacy": "1"})
        ))));
        assert!(!s.matches(None));
    }

    #[test]
    fn not_in_and_does_not_exist_hold_for_missing_labels() {
        let s = LabelSelector::read(&json!({"matchExpressions": [
            {"key": "env", "operator": "NotIn", "values": ["prod"]},
        ]}))
        .unwrap_or_default();
        assert!(s.matches(None));
        assert!(s.matches(Some(&labels(json!({"env": "dev"})))));
        assert!(!s.matches(Some(&labels(json!({"env": "prod"})))));
    }

    #[test]
    fn empty_selector_selects_everything() {
        let s = LabelSelector::read(&json!({})).unwrap_or_default();
        assert!(s.matches(None));
    }

    #[test]
    fn invalid_selectors_are_errors() {
        for bad in [
            json!({"matchExpressions": [{"key": "a", "operator": "In"}]}),
            json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}),
            json!({"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["x"]}]}),
            json!({"matchExpressions": [{"operator": "Exists"}]}),
            json!({"matchLabels": {"a": 1}}),
            json!([1]),
        ] {
            assert!(LabelSelector::read(&bad).is_err(), "{bad}");
        }
    }
}
