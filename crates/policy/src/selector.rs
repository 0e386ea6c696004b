//! Kubernetes label selectors (`matchLabels` and `matchExpressions`), as the API server
//! matches them: every requirement must hold, and an empty selector matches everything.

use serde_json::{Map, Value};

/// A parsed label selector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    key: String,
    operator: Operator,
    values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl LabelSelector {
    /// Reads a selector (`null` is the empty selector). Errors name what is wrong, as the API
    /// server's validation does: an unknown operator, `In`/`NotIn` without values,
    /// `Exists`/`DoesNotExist` with values.
    pub fn parse(value: &Value) -> Result<LabelSelector, String> {
        let mut requirements = Vec::new();
        if value.is_null() {
            return Ok(LabelSelector { requirements });
        }
        let Some(fields) = value.as_object() else {
            return Err("a label selector must be a map (matchLabels, matchExpressions)".into());
        };
        if let Some(labels) = fields.get("matchLabels").filter(|v| !v.is_null()) {
            let Some(labels) = labels.as_object() else {
                return Err("matchLabels must be a map of labels".into());
            };
            for (key, value) in labels {
                requirements.push(Requirement {
                    key: key.clone(),
                    operator: Operator::In,
                    values: vec![label_text(value)],
                });
            }
        }
        let expressions = fields.get("matchExpressions").filter(|v| !v.is_null());
        for (i, expression) in expressions
            .map(|e| e.as_array().ok_or("matchExpressions must be a list"))
            .transpose()?
            .into_iter()
            .flatten()
            .enumerate()
        {
            requirements.push(
                Requirement::parse(expression)
                    .map_err(|e| format!("matchExpressions[{i}]: {e}"))?,
            );
        }
        Ok(LabelSelector { requirements })
    }

    /// True when the selector has no requirement (it matches every object).
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether labels satisfy every requirement.
    pub fn matches(&self, labels: &Map<String, Value>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }
}

impl Requirement {
    fn parse(expression: &Value) -> Result<Requirement, String> {
        let key = expression
            .get("key")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .ok_or("key is required")?;
        let operator = match expression.get("operator").and_then(Value::as_str) {
            Some("In") => Operator::In,
            Some("NotIn") => Operator::NotIn,
            Some("Exists") => Operator::Exists,
            Some("DoesNotExist") => Operator::DoesNotExist,
            other => {
                return Err(format!(
                    "operator {} is not one of In, NotIn, Exists, DoesNotExist",
                    other.map_or("(none)".to_string(), |o| format!("{o:?}"))
                ));
            }
        };
        let values: Vec<String> = expression
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(label_text)
            .collect();
        match operator {
            Operator::In | Operator::NotIn if values.is_empty() => {
                Err(format!("operator {operator:?} needs values"))
            }
            Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
                Err(format!("operator {operator:?} takes no values"))
            }
            _ => Ok(Requirement {
                key: key.to_string(),
                operator,
                values,
            }),
        }
    }

    fn matches(&self, labels: &Map<String, Value>) -> bool {
        let value = labels.get(&self.key).map(label_text);
        match self.operator {
            Operator::In => value.is_some_and(|v| self.values.contains(&v)),
            Operator::NotIn => value.is_none_or(|v| !self.values.contains(&v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
        }
    }
}

/// A label value as text (`true` and `1` as written in YAML).
fn label_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    fn selector(value: Value) -> LabelSelector {
        LabelSelector::parse(&value).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn empty_and_null_selectors_match_everything() {
        for empty in [json!(null), json!({})] {
            let s = selector(empty);
            assert!(s.is_empty());
            assert!(s.matches(&labels(json!({}))));
        }
    }

    #[test]
    fn match_labels_and_expressions_must_all_hold() {
        let s = selector(json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "staging"]},
                {"key": "tier", "operator": "NotIn", "values": ["test"]},
                {"key": "owner", "operator": "Exists"},
                {"key": "legacy", "operator": "DoesNotExist"}
            ]
        }));
        let base = json!({"app": "web", "env": "prod", "owner": "a"});
        assert!(s.matches(&labels(base.clone())));
        let mut other = base.clone();
        other["env"] = json!("dev");
        assert!(!s.matches(&labels(other)), "env not in the set");
        let mut other = base.clone();
        other["tier"] = json!("test");
        assert!(!s.matches(&labels(other)), "tier in the excluded set");
        let mut other = base.clone();
        other["legacy"] = json!("yes");
        assert!(!s.matches(&labels(other)), "legacy must not exist");
        assert!(
            !s.matches(&labels(json!({"app": "web", "env": "prod"}))),
            "owner must exist"
        );
        assert!(!s.matches(&labels(json!({"app": "api", "env": "prod", "owner": "a"}))));
    }

    #[test]
    fn not_in_matches_a_missing_label() {
        let s = selector(
            json!({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]}),
        );
        assert!(s.matches(&labels(json!({}))));
    }

    #[test]
    fn label_values_written_as_yaml_scalars_compare_as_text() {
        let s = selector(json!({"matchLabels": {"critical": "true"}}));
        assert!(s.matches(&labels(json!({"critical": true}))));
    }

    #[test]
    fn invalid_selectors_are_errors() {
        for (bad, wanted) in [
            (
                json!({"matchExpressions": [{"key": "a", "operator": "Is"}]}),
                "not one of",
            ),
            (
                json!({"matchExpressions": [{"key": "a", "operator": "In"}]}),
                "needs values",
            ),
            (
                json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}),
                "takes no values",
            ),
            (
                json!({"matchExpressions": [{"operator": "Exists"}]}),
                "key is required",
            ),
            (json!({"matchLabels": ["a"]}), "map of labels"),
        ] {
            let error = LabelSelector::parse(&bad).expect_err("invalid");
            assert!(error.contains(wanted), "{error}");
        }
    }
}
