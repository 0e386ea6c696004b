//! Users' Gatekeeper constraints and ValidatingAdmissionPolicies run over the scanned
//! objects, as controls of the same report.

use palisade_model::{ControlMeta, Finding, InputError, Location, Object, ObjectRef, Severity};
use palisade_policy::vap::Policy;
use palisade_policy::{
    Cluster, Constraint, EnforcementAction, PolicyError, PolicySet, SEVERITY_ANNOTATION,
    VapViolation,
};
use rayon::prelude::*;
use std::sync::Arc;

/// What the constraints found, and the controls they appear as.
#[derive(Debug, Default)]
pub(crate) struct PolicyResults {
    pub findings: Vec<Finding>,
    pub controls: Vec<ControlMeta>,
    /// Bad severities and evaluation failures (a runtime error, the time limit).
    pub errors: Vec<InputError>,
}

/// The control id of a constraint: its kind and name (`K8sRequiredLabels/owner`).
pub(crate) fn control_id(constraint: &Constraint) -> String {
    format!("{}/{}", constraint.kind, constraint.name)
}

/// What a finding repeats of its control, shared by all its findings.
struct Named {
    id: Arc<str>,
    title: Arc<str>,
    severity: Severity,
}

impl Named {
    fn all(controls: &[ControlMeta]) -> Vec<Named> {
        controls
            .iter()
            .map(|c| Named {
                id: Arc::from(c.id.as_str()),
                title: Arc::from(c.title.as_str()),
                severity: c.severity,
            })
            .collect()
    }

    fn finding(&self, object: &Object, reference: &Arc<ObjectRef>, message: String) -> Finding {
        Finding {
            control_id: Arc::clone(&self.id),
            title: Arc::clone(&self.title),
            severity: self.severity,
            object: Arc::clone(reference),
            location: Location {
                file: Arc::clone(&object.source.file),
                line: object.source.line,
                pointer: String::new(),
            },
            message,
            suppressed: None,
        }
    }
}

pub(crate) fn evaluate(set: &PolicySet, objects: &[Object]) -> PolicyResults {
    let mut errors = Vec::new();
    let mut controls: Vec<ControlMeta> = set
        .constraints
        .iter()
        .map(|(constraint, template)| {
            let template = set.templates.get(*template).map_or("", |t| t.name.as_str());
            meta(constraint, template, &mut errors)
        })
        .collect();
    let admission = &set.admission_policies;
    let vap_controls: Vec<ControlMeta> = admission
        .policies
        .iter()
        .enumerate()
        .map(|(index, policy)| vap_meta(set, index, policy, &mut errors))
        .collect();
    let (names, vap_names) = (Named::all(&controls), Named::all(&vap_controls));
    // Built once for all objects: namespaces, the inventory, and the policies' parameters.
    let cluster = Cluster::from_objects(objects).with_objects_of(&admission.param_kinds(), objects);
    let per_object: Vec<(Vec<Finding>, Vec<PolicyError>)> = objects
        .par_iter()
        .map(|object| {
            let (violations, mut failures) = set.review_with_errors(object, &cluster);
            let reference = Arc::new(ObjectRef::of(object));
            let mut findings: Vec<Finding> = violations
                .into_iter()
                .filter_map(|v| {
                    Some(
                        names
                            .get(v.constraint)?
                            .finding(object, &reference, v.message),
                    )
                })
                .collect();
            if !admission.is_empty() {
                let (violations, vap_failures) = set.review_admission_policies(object, &cluster);
                failures.extend(vap_failures);
                findings.extend(violations.iter().filter_map(|v| {
                    Some(
                        vap_names
                            .get(v.policy)?
                            .finding(object, &reference, vap_message(v)),
                    )
                }));
            }
            (findings, failures)
        })
        .collect();
    // Policies without a binding are not enforced, so they are not controls.
    controls.extend(
        vap_controls
            .into_iter()
            .enumerate()
            .filter(|(index, _)| admission.bindings.iter().any(|(_, p)| p == index))
            .map(|(_, control)| control),
    );
    let mut findings = Vec::new();
    for (found, failures) in per_object {
        findings.extend(found);
        errors.extend(failures.into_iter().map(input_error));
    }
    PolicyResults {
        findings,
        controls,
        errors,
    }
}

/// Policies that could not be used, as input errors of the scan.
pub fn policy_errors(set: &PolicySet) -> Vec<InputError> {
    set.errors.iter().cloned().map(input_error).collect()
}

fn input_error(e: PolicyError) -> InputError {
    InputError {
        file: e.file,
        line: Some(e.line),
        column: None,
        message: e.message,
    }
}

/// The severity a policy's annotation sets (medium when absent or invalid, with an error).
fn severity(
    written: Option<&str>,
    what: &str,
    (file, line): (&str, u32),
    errors: &mut Vec<InputError>,
) -> Severity {
    match written.map(str::parse::<Severity>) {
        None => Severity::Medium,
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            errors.push(InputError {
                file: file.to_string(),
                line: Some(line),
                column: None,
                message: format!("{what}: annotation {SEVERITY_ANNOTATION}: {e}; medium is used"),
            });
            Severity::Medium
        }
    }
}

fn meta(constraint: &Constraint, template: &str, errors: &mut Vec<InputError>) -> ControlMeta {
    let severity = severity(
        constraint.severity.as_deref(),
        &format!("constraint {:?}", constraint.name),
        (&constraint.file, constraint.line),
        errors,
    );
    let action = match constraint.action {
        EnforcementAction::Deny => "deny",
        EnforcementAction::Warn => "warn",
        EnforcementAction::Dryrun => "dryrun",
    };
    ControlMeta {
        id: control_id(constraint),
        title: format!(
            "Gatekeeper constraint {} {:?}",
            constraint.kind, constraint.name
        ),
        severity,
        category: "Policies (Gatekeeper)".into(),
        rationale: format!(
            "A constraint of the organisation's ConstraintTemplate {template:?}, \
             enforcementAction {action}."
        ),
        remediation: "Change the object so that the template reports no violation, or change \
                      the constraint's parameters or match."
            .into(),
        references: vec![format!("{}:{}", constraint.file, constraint.line)],
        kinds: Vec::new(),
    }
}

/// The control id of a ValidatingAdmissionPolicy (`ValidatingAdmissionPolicy/no-latest-tag`).
pub(crate) fn vap_control_id(policy: &Policy) -> String {
    format!("ValidatingAdmissionPolicy/{}", policy.name)
}

fn vap_meta(
    set: &PolicySet,
    index: usize,
    policy: &Policy,
    errors: &mut Vec<InputError>,
) -> ControlMeta {
    let severity = severity(
        policy.severity.as_deref(),
        &format!("ValidatingAdmissionPolicy {:?}", policy.name),
        (&policy.file, policy.line),
        errors,
    );
    let bindings: Vec<String> = set
        .admission_policies
        .bindings
        .iter()
        .filter(|(_, p)| *p == index)
        .map(|(b, _)| format!("{:?} ({})", b.name, actions(&b.actions)))
        .collect();
    ControlMeta {
        id: vap_control_id(policy),
        title: format!("ValidatingAdmissionPolicy {:?}", policy.name),
        severity,
        category: "Policies (ValidatingAdmissionPolicy)".into(),
        rationale: format!(
            "The organisation's ValidatingAdmissionPolicy {:?}, bound by {}.",
            policy.name,
            bindings.join(", ")
        ),
        remediation: "Change the object so that the policy's validations hold, or change the \
                      policy's parameters or the binding's match."
            .into(),
        references: vec![format!("{}:{}", policy.file, policy.line)],
        kinds: Vec::new(),
    }
}

/// A violation's message with what the API server would do with it.
fn vap_message(v: &VapViolation) -> String {
    let param = v
        .param
        .as_deref()
        .map(|p| format!(", params {p}"))
        .unwrap_or_default();
    format!(
        "{} (binding {:?}: {}{param})",
        v.message,
        v.binding_name,
        actions(&v.actions)
    )
}

fn actions(actions: &[palisade_policy::ValidationAction]) -> String {
    let names: Vec<&str> = actions.iter().map(|a| a.as_str()).collect();
    names.join(", ")
}
