//! `matchConstraints` of a policy and `matchResources` of a binding: which requests they
//! select, as the API server's matcher decides (namespace selector, object selector,
//! excluded rules, then rules).

use super::request::Attributes;
use crate::selector::LabelSelector;
use serde_json::Value;

/// A `matchConstraints` or `matchResources` block.
#[derive(Debug, Clone, Default)]
pub(crate) struct MatchResources {
    namespace_selector: LabelSelector,
    object_selector: LabelSelector,
    resource_rules: Vec<Rule>,
    exclude_resource_rules: Vec<Rule>,
    /// `matchPolicy: Equivalent` (the default): a rule also matches the same resource in
    /// another version of its group.
    equivalent: bool,
}

/// One `resourceRules` entry.
#[derive(Debug, Clone, Default)]
struct Rule {
    api_groups: Vec<String>,
    api_versions: Vec<String>,
    resources: Vec<String>,
    operations: Vec<String>,
    /// `Cluster`, `Namespaced` or `*` (the default).
    scope: String,
    resource_names: Vec<String>,
}

impl MatchResources {
    /// Reads a block. Errors are `(pointer below the block, message)`.
    pub fn read(block: &Value) -> Result<MatchResources, (String, String)> {
        let selector = |field: &str| {
            LabelSelector::read(block.get(field).unwrap_or(&Value::Null))
                .map_err(|e| (format!("/{field}"), format!("{field}: {e}")))
        };
        let equivalent = match block.get("matchPolicy").and_then(Value::as_str) {
            None | Some("Equivalent") => true,
            Some("Exact") => false,
            Some(other) => {
                return Err((
                    "/matchPolicy".into(),
                    format!("matchPolicy {other:?} is not Exact or Equivalent"),
                ));
            }
        };
        Ok(MatchResources {
            namespace_selector: selector("namespaceSelector")?,
            object_selector: selector("objectSelector")?,
            resource_rules: rules(block, "resourceRules")?,
            exclude_resource_rules: rules(block, "excludeResourceRules")?,
            equivalent,
        })
    }

    /// True when the block names no resource rule (a policy must; a binding need not).
    pub fn has_rules(&self) -> bool {
        !self.resource_rules.is_empty()
    }

    /// Whether the request is selected.
    pub fn matches(&self, request: &Attributes) -> bool {
        self.matches_namespace(request)
            && self.matches_object(request)
            && !self
                .exclude_resource_rules
                .iter()
                .any(|r| r.matches(request, self.equivalent))
            && (self.resource_rules.is_empty()
                || self
                    .resource_rules
                    .iter()
                    .any(|r| r.matches(request, self.equivalent)))
    }

    /// Cluster-scoped objects other than namespaces are never excluded by a namespace
    /// selector; a Namespace is selected by its own labels.
    fn matches_namespace(&self, request: &Attributes) -> bool {
        if self.namespace_selector.is_empty() {
            return true;
        }
        if request.cluster_scoped && request.resource != "namespaces" {
            return true;
        }
        self.namespace_selector
            .matches(Some(&request.namespace_labels))
    }

    /// The object's labels, or the old object's (a match of either is a match).
    fn matches_object(&self, request: &Attributes) -> bool {
        if self.object_selector.is_empty() {
            return true;
        }
        [request.object_labels, request.old_object_labels]
            .into_iter()
            .flatten()
            .any(|labels| self.object_selector.matches(Some(labels)))
    }
}

fn rules(block: &Value, field: &str) -> Result<Vec<Rule>, (String, String)> {
    let Some(list) = block.get(field).filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let list = list
        .as_array()
        .ok_or_else(|| (format!("/{field}"), format!("{field} must be a list")))?;
    list.iter()
        .enumerate()
        .map(|(i, rule)| {
            let scope = rule.get("scope").and_then(Value::as_str).unwrap_or("*");
            if !matches!(scope, "*" | "Cluster" | "Namespaced") {
                return Err((
                    format!("/{field}/{i}/scope"),
                    format!("{field}[{i}].scope {scope:?} is not Cluster, Namespaced or *"),
                ));
            }
            Ok(Rule {
                api_groups: strings(rule, "apiGroups"),
                api_versions: strings(rule, "apiVersions"),
                resources: strings(rule, "resources"),
                operations: strings(rule, "operations"),
                scope: scope.to_string(),
                resource_names: strings(rule, "resourceNames"),
            })
        })
        .collect()
}

fn strings(rule: &Value, field: &str) -> Vec<String> {
    rule.get(field)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

impl Rule {
    fn matches(&self, request: &Attributes, equivalent: bool) -> bool {
        let any = |list: &[String], wanted: &str| list.iter().any(|x| x == "*" || x == wanted);
        any(&self.operations, request.operation)
            && any(&self.api_groups, request.group)
            && (equivalent || any(&self.api_versions, request.version))
            && self.matches_resource(request)
            && self.matches_scope(request)
            && (self.resource_names.is_empty()
                || self.resource_names.iter().any(|n| n == request.name))
    }

    /// `pods` and `*` match the resource itself, `pods/status` and `*/status` a
    /// subresource, `pods/*` and `*/*` the resource and all its subresources.
    fn matches_resource(&self, request: &Attributes) -> bool {
        self.resources.iter().any(|written| {
            let (resource, sub) = written.split_once('/').unwrap_or((written, ""));
            (resource == "*" || resource == request.resource)
                && (sub == "*" || sub == request.sub_resource)
        })
    }

    fn matches_scope(&self, request: &Attributes) -> bool {
        match self.scope.as_str() {
            "Cluster" => request.cluster_scoped,
            "Namespaced" => !request.cluster_scoped,
            _ => true,
        }
    }
}
