//! Users' Gatekeeper constraints run over the scanned objects, as controls of the same report.

use palisade_model::{ControlMeta, Finding, InputError, Location, Object, ObjectRef, Severity};
use palisade_policy::{
    Cluster, Constraint, EnforcementAction, PolicyError, PolicySet, SEVERITY_ANNOTATION,
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

pub(crate) fn evaluate(set: &PolicySet, objects: &[Object]) -> PolicyResults {
    let mut errors = Vec::new();
    let controls: Vec<ControlMeta> = set
        .constraints
        .iter()
        .map(|(constraint, template)| {
            let template = set.templates.get(*template).map_or("", |t| t.name.as_str());
            meta(constraint, template, &mut errors)
        })
        .collect();
    let names: Vec<(Arc<str>, Arc<str>)> = controls
        .iter()
        .map(|c| (Arc::from(c.id.as_str()), Arc::from(c.title.as_str())))
        .collect();
    let cluster = Cluster::from_objects(objects);
    let per_object: Vec<(Vec<Finding>, Vec<PolicyError>)> = objects
        .par_iter()
        .map(|object| {
            let (violations, failures) = set.review_with_errors(object, &cluster);
            let reference = Arc::new(ObjectRef::of(object));
            let findings = violations
                .into_iter()
                .filter_map(|v| {
                    let (id, title) = names.get(v.constraint)?;
                    let control = controls.get(v.constraint)?;
                    Some(Finding {
                        control_id: Arc::clone(id),
                        title: Arc::clone(title),
                        severity: control.severity,
                        object: Arc::clone(&reference),
                        location: Location {
                            file: Arc::clone(&object.source.file),
                            line: object.source.line,
                            pointer: String::new(),
                        },
                        message: v.message,
                        suppressed: None,
                    })
                })
                .collect();
            (findings, failures)
        })
        .collect();
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

fn meta(constraint: &Constraint, template: &str, errors: &mut Vec<InputError>) -> ControlMeta {
    let severity = match constraint.severity.as_deref().map(str::parse::<Severity>) {
        None => Severity::Medium,
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            errors.push(InputError {
                file: constraint.file.clone(),
                line: Some(constraint.line),
                column: None,
                message: format!(
                    "constraint {:?}: annotation {SEVERITY_ANNOTATION}: {e}; medium is used",
                    constraint.name
                ),
            });
            Severity::Medium
        }
    };
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
