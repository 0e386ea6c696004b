//! Gatekeeper ConstraintTemplates (Rego or CEL) and their Constraints.

mod compat;
mod constraint;
mod k8scel;
mod matching;
mod rego;
mod review;
mod schema;
mod template;

pub use constraint::{Constraint, EnforcementAction, SEVERITY_ANNOTATION};
pub use rego::EVALUATION_LIMIT;
pub use review::{Reviewed, review_of};
pub use template::Template;

use crate::{Cluster, PolicyError};
use palisade_model::Object;
use std::collections::HashMap;

/// Templates compiled once, and the constraints that use them.
#[derive(Debug, Default)]
pub struct PolicySet {
    /// Compiled templates.
    pub templates: Vec<Template>,
    /// Constraints with the index of their template.
    pub constraints: Vec<(Constraint, usize)>,
    /// ValidatingAdmissionPolicies and their bindings.
    pub admission_policies: crate::vap::Policies,
    /// Constraints refused because their parameters do not fit the template's schema.
    pub rejected_constraints: usize,
    /// Templates, constraints, policies and bindings that cannot be used; the others still
    /// run.
    pub errors: Vec<PolicyError>,
}

/// One violation of one constraint by one object.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// Index of the constraint in [`PolicySet::constraints`].
    pub constraint: usize,
    /// The template's `msg`.
    pub message: String,
    /// The template's `details` (`{}` when it gives none).
    pub details: serde_json::Value,
}

impl PolicySet {
    /// Reads the templates and constraints among loaded objects (others are ignored).
    pub fn from_objects(objects: &[Object]) -> PolicySet {
        let mut set = PolicySet::default();
        let mut by_kind: HashMap<String, usize> = HashMap::new();
        for object in objects.iter().filter(|o| template::is_template(o)) {
            match Template::compile(object) {
                Ok(t) => {
                    if let Some(previous) = by_kind.get(&t.kind).and_then(|i| set.templates.get(*i))
                    {
                        set.errors.push(PolicyError::at(
                            object,
                            "/spec/crd/spec/names/kind",
                            format!(
                                "ConstraintTemplate {:?} declares kind {} already declared by {:?} ({}:{}); this one is not used",
                                t.name, t.kind, previous.name, previous.file, previous.line
                            ),
                        ));
                        continue;
                    }
                    by_kind.insert(t.kind.clone(), set.templates.len());
                    set.templates.push(t);
                }
                Err(e) => set.errors.push(e),
            }
        }
        for object in objects.iter().filter(|o| constraint::is_constraint(o)) {
            let Some(&template) = by_kind.get(object.kind()) else {
                set.errors.push(PolicyError::at(
                    object,
                    "/kind",
                    format!(
                        "constraint {:?} of kind {} has no ConstraintTemplate declaring that kind among the policies read",
                        object.name(),
                        object.kind()
                    ),
                ));
                continue;
            };
            match Constraint::read(object) {
                Ok(c) => {
                    let errors = set
                        .templates
                        .get(template)
                        .map(|t| parameter_errors(t, object))
                        .unwrap_or_default();
                    if errors.is_empty() {
                        set.constraints.push((c, template));
                    } else {
                        // The API server would refuse such a constraint.
                        set.rejected_constraints += 1;
                        set.errors.extend(errors);
                    }
                }
                Err(e) => set.errors.push(e),
            }
        }
        set.admission_policies = crate::vap::Policies::from_objects(objects);
        set.errors.append(&mut set.admission_policies.errors);
        set
    }

    /// Runs the ValidatingAdmissionPolicies bound to objects like this one against it (see
    /// [`crate::vap`]).
    pub fn review_admission_policies(
        &self,
        object: &Object,
        cluster: &crate::Cluster,
    ) -> (Vec<crate::VapViolation>, Vec<PolicyError>) {
        self.admission_policies.review(object, cluster)
    }

    /// Runs every constraint that matches the object against it, with no other objects
    /// known (no namespaces, an empty inventory).
    pub fn review(&self, object: &Object) -> Vec<Violation> {
        self.review_with_errors(object, &Cluster::default()).0
    }

    /// Whether some template reads `data.inventory`.
    pub fn uses_inventory(&self) -> bool {
        self.templates.iter().any(Template::uses_inventory)
    }

    /// Runs every constraint whose `match` selects the object against it; `cluster` gives
    /// the namespaces and the inventory. An evaluation error (a runtime type error, the time
    /// limit) is returned as an error for that constraint.
    pub fn review_with_errors(
        &self,
        object: &Object,
        cluster: &Cluster,
    ) -> (Vec<Violation>, Vec<PolicyError>) {
        let inventory = self.uses_inventory().then(|| cluster.inventory());
        let reviewed = Reviewed::of(object, inventory);
        let mut violations = Vec::new();
        let mut errors = Vec::new();
        for (index, (constraint, template)) in self.constraints.iter().enumerate() {
            let Some(template) = self.templates.get(*template) else {
                continue;
            };
            if !constraint.matcher.matches(&reviewed.json, cluster) {
                continue;
            }
            match template.evaluate(&reviewed, constraint) {
                Ok(found) => violations.extend(found.into_iter().map(|v| Violation {
                    constraint: index,
                    message: v.msg,
                    details: v.details,
                })),
                Err(message) => errors.push(PolicyError {
                    file: object.source.file.to_string(),
                    line: object.source.line,
                    message: format!(
                        "constraint {} {:?} (template {:?}) failed on this object: {message}",
                        constraint.kind, constraint.name, template.name
                    ),
                }),
            }
        }
        (violations, errors)
    }
}

/// The strings of a YAML list (other items ignored).
fn strings(list: Option<&serde_json::Value>) -> Vec<String> {
    list.and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_str)
        .map(str::to_string)
        .collect()
}

/// Where a constraint's parameters do not fit its template's schema.
fn parameter_errors(template: &Template, constraint: &Object) -> Vec<PolicyError> {
    let Some(parameters) = constraint.at("/spec/parameters").filter(|p| !p.is_null()) else {
        return Vec::new();
    };
    let Some(schema) = &template.parameters_schema else {
        // The constraint kind Gatekeeper makes from such a template has no parameters.
        return vec![PolicyError::at(
            constraint,
            "/spec/parameters",
            format!(
                "constraint {:?}: unknown field spec.parameters: ConstraintTemplate {:?} declares no \
                 parameters (spec.crd.spec.validation.openAPIV3Schema); the constraint is not used",
                constraint.name(),
                template.name
            ),
        )];
    };
    schema::validate(schema, parameters)
        .into_iter()
        .map(|e| {
            PolicyError::at(
                constraint,
                &format!("/spec/parameters{}", e.pointer),
                format!(
                    "constraint {:?}: {} (schema of ConstraintTemplate {:?}); the constraint is not used",
                    constraint.name(),
                    e.message,
                    template.name
                ),
            )
        })
        .collect()
}
