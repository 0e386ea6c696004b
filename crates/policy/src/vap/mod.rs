//! ValidatingAdmissionPolicies and their bindings (`admissionregistration.k8s.io/v1`),
//! evaluated as the API server does, against scanned objects.
//!
//! A scanned object stands for its CREATE (`oldObject` is null); an `AdmissionReview` stands
//! for its request as written. A policy runs through each of its bindings that selects the
//! object (the policy's `matchConstraints`, then the binding's `matchResources`), once per
//! parameter object the binding refers to. Parameters are the objects of the policy's
//! `paramKind` among the policy files and the scanned objects.
//!
//! What differs from an API server, because a scan has no cluster:
//! - a namespace that is not among the scanned objects has only the
//!   `kubernetes.io/metadata.name` label (and `namespaceObject` is such a Namespace); an object
//!   written without a namespace is in an unknown namespace with no labels, and parameters
//!   of any namespace are looked up for it;
//! - `matchPolicy: Equivalent` matches a rule's resource in any version of its group;
//! - resources are named from kinds with a table of built-in kinds and English plurals;
//! - `authorizer` is not available (an expression that uses it does not compile), and
//!   `auditAnnotations` are compiled but not evaluated;
//! - every validation failure is reported, whatever the binding's actions (they are part
//!   of the violation).

mod binding;
mod evaluate;
mod matching;
mod policy;
mod request;
mod resources;

pub use binding::{Binding, ValidationAction, is_binding};
pub use policy::{FailurePolicy, ParamKind, Policy, is_policy};

use crate::gatekeeper::Reviewed;
use crate::{Cluster, PolicyError};
use palisade_model::Object;
use serde_json::Value;
use std::collections::HashMap;

/// Policies compiled once, their bindings, and the parameter objects read with them.
#[derive(Debug, Default)]
pub struct Policies {
    /// Compiled policies.
    pub policies: Vec<Policy>,
    /// Bindings with the index of their policy.
    pub bindings: Vec<(Binding, usize)>,
    /// Objects of the policies' `paramKind`s found among the policy files.
    params: Vec<Value>,
    /// Policies and bindings that cannot be used; the others still run.
    pub errors: Vec<PolicyError>,
}

/// One failed validation (or, with `failurePolicy: Fail`, one failed evaluation) of one
/// policy, through one binding, by one object.
#[derive(Debug, Clone, PartialEq)]
pub struct VapViolation {
    /// Index of the policy in [`Policies::policies`].
    pub policy: usize,
    /// Index of the binding in [`Policies::bindings`].
    pub binding: usize,
    /// The policy's name.
    pub policy_name: String,
    /// The binding's name.
    pub binding_name: String,
    /// The binding's `validationActions`.
    pub actions: Vec<ValidationAction>,
    /// The validation's message (see the Kubernetes rules: `messageExpression`, `message`,
    /// or `failed expression: ...`), or the evaluation error.
    pub message: String,
    /// The validation's `reason` (`Invalid` by default; `InternalError` for an evaluation
    /// that failed).
    pub reason: String,
    /// `namespace/name` of the parameter object, when the policy has parameters.
    pub param: Option<String>,
}

impl Policies {
    /// Reads the policies and bindings among loaded objects (others are ignored, but kept as
    /// parameters when a policy's `paramKind` names their kind).
    pub fn from_objects(objects: &[Object]) -> Policies {
        let mut set = Policies::default();
        let mut by_name: HashMap<String, usize> = HashMap::new();
        for object in objects.iter().filter(|o| is_policy(o)) {
            match Policy::read(object) {
                Ok(policy) => {
                    if let Some(previous) =
                        by_name.get(&policy.name).and_then(|i| set.policies.get(*i))
                    {
                        set.errors.push(PolicyError::at(
                            object,
                            "/metadata/name",
                            format!(
                                "ValidatingAdmissionPolicy {:?} is already defined at {}:{}; this one is not used",
                                policy.name, previous.file, previous.line
                            ),
                        ));
                        continue;
                    }
                    by_name.insert(policy.name.clone(), set.policies.len());
                    set.policies.push(policy);
                }
                Err(e) => set.errors.push(e),
            }
        }
        for object in objects.iter().filter(|o| is_binding(o)) {
            match Binding::read(object).and_then(|b| set.bind(object, b, &by_name)) {
                Ok(bound) => set.bindings.push(bound),
                Err(e) => set.errors.push(e),
            }
        }
        let kinds = set.param_kinds();
        set.params = objects
            .iter()
            .filter(|o| {
                kinds
                    .iter()
                    .any(|k| k.api_version == o.api_version() && k.kind == o.kind())
            })
            .map(|o| o.value.clone())
            .collect();
        set
    }

    /// A binding with the index of its policy; errors for an unknown policy and for a policy
    /// with parameters bound without `paramRef`.
    fn bind(
        &self,
        object: &Object,
        binding: Binding,
        by_name: &HashMap<String, usize>,
    ) -> Result<(Binding, usize), PolicyError> {
        let Some(&index) = by_name.get(&binding.policy_name) else {
            return Err(PolicyError::at(
                object,
                "/spec/policyName",
                format!(
                    "ValidatingAdmissionPolicyBinding {:?} binds policy {:?}, which is not among the policies read (or cannot be used)",
                    binding.name, binding.policy_name
                ),
            ));
        };
        let param_kind = self.policies.get(index).and_then(|p| p.param_kind.as_ref());
        if let (Some(kind), None) = (param_kind, &binding.param_ref) {
            return Err(PolicyError::at(
                object,
                "/spec",
                format!(
                    "ValidatingAdmissionPolicyBinding {:?}: policy {:?} has paramKind {} {}, so the binding needs a paramRef",
                    binding.name, binding.policy_name, kind.api_version, kind.kind
                ),
            ));
        }
        Ok((binding, index))
    }

    /// The `paramKind`s of the policies: the scanned objects of these kinds are parameters
    /// (see [`Cluster::with_objects_of`]).
    pub fn param_kinds(&self) -> Vec<ParamKind> {
        let mut kinds: Vec<ParamKind> = Vec::new();
        for kind in self.policies.iter().filter_map(|p| p.param_kind.as_ref()) {
            if !kinds.contains(kind) {
                kinds.push(kind.clone());
            }
        }
        kinds
    }

    /// True when no binding can select anything.
    pub fn is_empty(&self) -> bool {
        self.bindings.is_empty()
    }

    /// Evaluates every binding that selects the object. Violations include evaluation
    /// failures of policies with `failurePolicy: Fail`; failures of policies with
    /// `failurePolicy: Ignore` are errors.
    pub fn review(
        &self,
        object: &Object,
        cluster: &Cluster,
    ) -> (Vec<VapViolation>, Vec<PolicyError>) {
        if self.is_empty() {
            return (Vec::new(), Vec::new());
        }
        evaluate::review(self, &Reviewed::of(object, None), cluster)
    }
}
