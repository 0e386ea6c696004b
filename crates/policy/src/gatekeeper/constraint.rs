//! Constraints: a template instantiated with parameters, a match and an enforcement action.

use super::matching::Match;
use crate::PolicyError;
use palisade_model::Object;
use serde_json::Value;

/// What Gatekeeper does with a violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnforcementAction {
    /// Reject (the default).
    Deny,
    /// Admit with a warning.
    Warn,
    /// Only record (audit).
    Dryrun,
}

/// A constraint read from a `constraints.gatekeeper.sh` object.
#[derive(Debug, Clone)]
pub struct Constraint {
    /// Its kind: the template's constraint kind.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `spec.parameters`, if any.
    pub parameters: Option<Value>,
    /// The same as the template reads them, converted once.
    pub(crate) input_parameters: regorus::Value,
    /// The constraint object as CEL templates read it (`params`), converted once.
    pub(crate) cel_object: crate::cel::cel::Value,
    /// `spec.enforcementAction`.
    pub action: EnforcementAction,
    /// The severity its findings get, from the annotation [`SEVERITY_ANNOTATION`] (as
    /// written; Gatekeeper has no severities).
    pub severity: Option<String>,
    /// `spec.match`.
    pub(crate) matcher: Match,
    /// Where it was read.
    pub file: String,
    /// Line of the object.
    pub line: u32,
}

/// Annotation of a constraint that sets the severity of its findings.
pub const SEVERITY_ANNOTATION: &str = "palisade.dev/severity";

/// True for objects of `constraints.gatekeeper.sh`.
pub fn is_constraint(object: &Object) -> bool {
    object.api_group() == "constraints.gatekeeper.sh"
}

impl Constraint {
    /// Reads a constraint object.
    pub fn read(object: &Object) -> Result<Constraint, PolicyError> {
        let action = match object.at("/spec/enforcementAction").and_then(Value::as_str) {
            None | Some("deny") => EnforcementAction::Deny,
            Some("warn") => EnforcementAction::Warn,
            Some("dryrun") => EnforcementAction::Dryrun,
            Some(other) => {
                return Err(PolicyError::at(
                    object,
                    "/spec/enforcementAction",
                    format!(
                        "constraint {:?}: unknown enforcementAction {other:?} (deny, warn or dryrun)",
                        object.name()
                    ),
                ));
            }
        };
        let matcher = Match::read(object)?;
        Ok(Constraint {
            kind: object.kind().to_string(),
            name: object.name().to_string(),
            parameters: object.at("/spec/parameters").cloned(),
            input_parameters: super::review::parameters(object.at("/spec/parameters")),
            cel_object: crate::cel::to_cel(&object.value),
            action,
            severity: object
                .annotations()
                .get(SEVERITY_ANNOTATION)
                .and_then(Value::as_str)
                .map(str::to_string),
            matcher,
            file: object.source.file.to_string(),
            line: object.source.line,
        })
    }
}
