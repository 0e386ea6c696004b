//! One object against the bound policies: matching, parameters, match conditions and
//! validations, with the policy's failure policy for whatever fails.

use super::binding::{Binding, ParamRef};
use super::policy::{FailurePolicy, ParamKind, Policy};
use super::request::Attributes;
use super::{Policies, VapViolation};
use crate::cel::{Activation, cel::Value, failure_message, to_cel};
use crate::cluster::NAMESPACE_NAME_LABEL;
use crate::gatekeeper::Reviewed;
use crate::{Cluster, PolicyError};
use serde_json::{Value as Json, json};

/// A parameter object: its `namespace/name` and its value.
type Param = (String, Value);

/// Everything one object is evaluated with, built once for all bindings.
struct Input<'a> {
    attributes: Attributes<'a>,
    reviewed: &'a Reviewed,
    request: Value,
    namespace_object: Value,
}

pub(super) fn review(
    policies: &Policies,
    reviewed: &Reviewed,
    cluster: &Cluster,
) -> (Vec<VapViolation>, Vec<PolicyError>) {
    let attributes = Attributes::of(reviewed, cluster);
    let input = Input {
        request: to_cel(&attributes.request(reviewed)),
        namespace_object: namespace_object(&attributes, cluster),
        attributes,
        reviewed,
    };
    let mut outcome = Outcome::default();
    for (b, (binding, p)) in policies.bindings.iter().enumerate() {
        let Some(policy) = policies.policies.get(*p) else {
            continue;
        };
        let selected = policy.match_constraints.matches(&input.attributes)
            && binding
                .match_resources
                .as_ref()
                .is_none_or(|m| m.matches(&input.attributes));
        if !selected {
            continue;
        }
        let mut run = Run {
            policy,
            binding,
            indexes: (*p, b),
            outcome: &mut outcome,
        };
        match params(policies, policy, binding, &input.attributes, cluster) {
            Ok(params) => {
                for param in params {
                    run.evaluate(&input, param);
                }
            }
            Err(message) => run.failure(None, message),
        }
    }
    (outcome.violations, outcome.errors)
}

#[derive(Default)]
struct Outcome {
    violations: Vec<VapViolation>,
    errors: Vec<PolicyError>,
}

/// One binding of one policy, for one object.
struct Run<'a> {
    policy: &'a Policy,
    binding: &'a Binding,
    indexes: (usize, usize),
    outcome: &'a mut Outcome,
}

impl Run<'_> {
    fn evaluate(&mut self, input: &Input, param: Option<Param>) {
        let (param_name, params) = match param {
            Some((name, value)) => (Some(name), value),
            None => (None, Value::Null),
        };
        let review = input.reviewed.cel();
        let bindings = [
            ("object", review.object.clone()),
            ("oldObject", review.old_object.clone()),
            ("request", input.request.clone()),
            ("params", params),
            ("namespaceObject", input.namespace_object.clone()),
        ];
        let activation = Activation::new(bindings, &self.policy.variables);
        let mut condition_error = None;
        for (name, condition) in &self.policy.match_conditions {
            match activation.evaluate_bool(condition) {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    condition_error.get_or_insert(format!("matchCondition {name:?}: {e}"));
                }
            }
        }
        if let Some(e) = condition_error {
            return self.failure(param_name, e);
        }
        for validation in &self.policy.validations {
            match activation.evaluate_bool(&validation.expression) {
                Ok(true) => {}
                Ok(false) => {
                    let message = failure_message(
                        &activation,
                        &validation.expression,
                        validation.message.as_deref(),
                        validation.message_expression.as_ref(),
                    );
                    self.violation(param_name.clone(), message, validation.reason.clone());
                }
                Err(e) => self.failure(
                    param_name.clone(),
                    format!(
                        "expression {:?} resulted in error: {e}",
                        validation.expression.source.trim()
                    ),
                ),
            }
        }
    }

    fn violation(&mut self, param: Option<String>, message: String, reason: String) {
        self.outcome.violations.push(VapViolation {
            policy: self.indexes.0,
            binding: self.indexes.1,
            policy_name: self.policy.name.clone(),
            binding_name: self.binding.name.clone(),
            actions: self.binding.actions.clone(),
            message,
            reason,
            param,
        });
    }

    /// An expression or a parameter that failed: with `failurePolicy: Fail` the request is
    /// denied with the error; with `Ignore` it is admitted, and the error is reported.
    fn failure(&mut self, param: Option<String>, message: String) {
        match self.policy.failure_policy {
            FailurePolicy::Fail => self.violation(param, message, "InternalError".into()),
            FailurePolicy::Ignore => self.outcome.errors.push(PolicyError {
                file: self.policy.file.clone(),
                line: self.policy.line,
                message: format!(
                    "ValidatingAdmissionPolicy {:?} (binding {:?}, failurePolicy Ignore): {message}",
                    self.policy.name, self.binding.name
                ),
            }),
        }
    }
}

/// The parameters of a binding for this request: none needed (`[None]`), the objects found,
/// or an error (no parameter with `parameterNotFoundAction: Deny`, a namespaced parameter
/// for a cluster-scoped object without `paramRef.namespace`).
fn params(
    policies: &Policies,
    policy: &Policy,
    binding: &Binding,
    request: &Attributes,
    cluster: &Cluster,
) -> Result<Vec<Option<Param>>, String> {
    let Some(kind) = &policy.param_kind else {
        return Ok(vec![None]);
    };
    let Some(param_ref) = &binding.param_ref else {
        return Err(format!(
            "policy {:?} has paramKind {} but binding {:?} has no paramRef",
            policy.name, kind.kind, binding.name
        ));
    };
    let namespace = param_namespace(kind, param_ref, request)?;
    let mut found: Vec<Option<Param>> = Vec::new();
    let mut seen = Vec::new();
    let candidates = policies
        .params
        .iter()
        .chain(cluster.objects_of(&kind.api_version, &kind.kind));
    for object in candidates.filter(|o| is_param(o, kind, param_ref, namespace)) {
        let id = format!(
            "{}/{}",
            text(object, "/metadata/namespace"),
            text(object, "/metadata/name")
        );
        if !seen.contains(&id) {
            found.push(Some((
                id.trim_start_matches('/').to_string(),
                to_cel(object),
            )));
            seen.push(id);
        }
    }
    if found.is_empty() && param_ref.deny_when_missing {
        return Err(format!(
            "no params found for policy binding {:?} with `Deny` parameterNotFoundAction",
            binding.name
        ));
    }
    Ok(found)
}

/// Where parameters are looked up: `paramRef.namespace`, else the request's namespace;
/// `None` for a cluster-scoped parameter kind or an object written without a namespace
/// (any namespace then).
fn param_namespace<'a>(
    kind: &ParamKind,
    param_ref: &'a ParamRef,
    request: &Attributes<'a>,
) -> Result<Option<&'a str>, String> {
    if palisade_model::is_cluster_scoped(&kind.kind) {
        return Ok(None);
    }
    if let Some(namespace) = param_ref.namespace.as_deref() {
        return Ok(Some(namespace));
    }
    if request.cluster_scoped {
        return Err(
            "cannot use a namespaced paramRef without namespace in a binding that matches cluster-scoped resources"
                .into(),
        );
    }
    Ok(Some(request.namespace).filter(|n| !n.is_empty()))
}

/// Whether an object is a parameter of this reference. An object written without a
/// namespace is taken to be in the namespace looked in.
fn is_param(
    object: &Json,
    kind: &ParamKind,
    param_ref: &ParamRef,
    namespace: Option<&str>,
) -> bool {
    text(object, "/apiVersion") == kind.api_version
        && text(object, "/kind") == kind.kind
        && namespace.is_none_or(|ns| {
            let written = text(object, "/metadata/namespace");
            written.is_empty() || written == ns
        })
        && param_ref
            .name
            .as_deref()
            .is_none_or(|n| text(object, "/metadata/name") == n)
        && param_ref
            .selector
            .as_ref()
            .is_none_or(|s| s.matches(object.pointer("/metadata/labels").and_then(Json::as_object)))
}

fn text<'v>(object: &'v Json, pointer: &str) -> &'v str {
    object
        .pointer(pointer)
        .and_then(Json::as_str)
        .unwrap_or_default()
}

/// `namespaceObject`: the Namespace of a namespaced object; one with only its name label
/// when it is not among the scanned objects; null for cluster-scoped objects and objects
/// written without a namespace.
fn namespace_object(request: &Attributes, cluster: &Cluster) -> Value {
    if request.cluster_scoped || request.namespace.is_empty() {
        return Value::Null;
    }
    match cluster.namespace(request.namespace) {
        Some(namespace) => to_cel(namespace),
        None => to_cel(&json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": request.namespace,
                "labels": {NAMESPACE_NAME_LABEL: request.namespace},
            },
        })),
    }
}
