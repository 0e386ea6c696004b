//! Reading a ValidatingAdmissionPolicyBinding: the policy it binds, its parameters, its
//! resources and its actions.

use super::matching::MatchResources;
use crate::PolicyError;
use crate::selector::LabelSelector;
use palisade_model::Object;
use serde_json::Value;

/// What the API server does with a failed validation of a binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ValidationAction {
    /// Reject the request.
    Deny,
    /// Admit it with a warning.
    Warn,
    /// Record it in the audit log.
    Audit,
}

impl ValidationAction {
    /// As written in a binding.
    pub fn as_str(self) -> &'static str {
        match self {
            ValidationAction::Deny => "Deny",
            ValidationAction::Warn => "Warn",
            ValidationAction::Audit => "Audit",
        }
    }
}

/// A ValidatingAdmissionPolicyBinding.
#[derive(Debug, Clone)]
pub struct Binding {
    /// `metadata.name`.
    pub name: String,
    /// `spec.policyName`.
    pub policy_name: String,
    /// `spec.validationActions`.
    pub actions: Vec<ValidationAction>,
    /// Where it was read.
    pub file: String,
    /// Line of the object.
    pub line: u32,
    pub(crate) param_ref: Option<ParamRef>,
    /// `spec.matchResources`; `None` selects everything the policy does.
    pub(crate) match_resources: Option<MatchResources>,
}

/// `spec.paramRef`: which objects of the policy's `paramKind` are its parameters.
#[derive(Debug, Clone)]
pub(crate) struct ParamRef {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub selector: Option<LabelSelector>,
    /// `parameterNotFoundAction: Deny`: no parameter is a failure.
    pub deny_when_missing: bool,
}

/// True for `admissionregistration.k8s.io` ValidatingAdmissionPolicyBinding objects.
pub fn is_binding(object: &Object) -> bool {
    object.kind() == "ValidatingAdmissionPolicyBinding"
        && object.api_group() == "admissionregistration.k8s.io"
}

impl Binding {
    /// Reads a binding, with the checks the API server makes when it is created.
    pub fn read(object: &Object) -> Result<Binding, PolicyError> {
        let name = object.name().to_string();
        let error = |pointer: &str, message: String| {
            PolicyError::at(
                object,
                pointer,
                format!("ValidatingAdmissionPolicyBinding {name:?}: {message}"),
            )
        };
        let policy_name = object
            .at("/spec/policyName")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| error("/spec", "spec.policyName is required".into()))?
            .to_string();
        let actions = actions(object).map_err(|m| error("/spec/validationActions", m))?;
        let param_ref = match object.at("/spec/paramRef").filter(|v| !v.is_null()) {
            None => None,
            Some(p) => Some(
                ParamRef::read(p)
                    .map_err(|(field, m)| error(&format!("/spec/paramRef{field}"), m))?,
            ),
        };
        let match_resources = match object.at("/spec/matchResources").filter(|v| !v.is_null()) {
            None => None,
            Some(block) => Some(
                MatchResources::read(block)
                    .map_err(|(p, m)| error(&format!("/spec/matchResources{p}"), m))?,
            ),
        };
        Ok(Binding {
            name,
            policy_name,
            actions,
            file: object.source.file.to_string(),
            line: object.source.line,
            param_ref,
            match_resources,
        })
    }
}

fn actions(object: &Object) -> Result<Vec<ValidationAction>, String> {
    let written = object
        .at("/spec/validationActions")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or("spec.validationActions is required (Deny, Warn, Audit)")?;
    let mut actions = Vec::new();
    for action in written {
        let action = match action.as_str() {
            Some("Deny") => ValidationAction::Deny,
            Some("Warn") => ValidationAction::Warn,
            Some("Audit") => ValidationAction::Audit,
            _ => {
                return Err(format!(
                    "validation action {action} is not Deny, Warn or Audit"
                ));
            }
        };
        if actions.contains(&action) {
            return Err(format!("validation action {} is repeated", action.as_str()));
        }
        actions.push(action);
    }
    if actions.contains(&ValidationAction::Deny) && actions.contains(&ValidationAction::Warn) {
        return Err("Deny and Warn may not be used together".into());
    }
    Ok(actions)
}

impl ParamRef {
    fn read(p: &Value) -> Result<ParamRef, (String, String)> {
        let text = |field: &str| {
            p.get(field)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let name = text("name");
        let selector = match p.get("selector").filter(|v| !v.is_null()) {
            None => None,
            Some(s) => Some(
                LabelSelector::read(s)
                    .map_err(|e| ("/selector".to_string(), format!("paramRef.selector: {e}")))?,
            ),
        };
        if name.is_some() == selector.is_some() {
            return Err((
                String::new(),
                "paramRef needs exactly one of name and selector".into(),
            ));
        }
        let deny_when_missing = match p.get("parameterNotFoundAction").and_then(Value::as_str) {
            Some("Deny") => true,
            Some("Allow") => false,
            Some(other) => {
                return Err((
                    "/parameterNotFoundAction".into(),
                    format!("paramRef.parameterNotFoundAction {other:?} is not Allow or Deny"),
                ));
            }
            None => {
                return Err((
                    String::new(),
                    "paramRef.parameterNotFoundAction is required (Allow or Deny)".into(),
                ));
            }
        };
        Ok(ParamRef {
            name,
            namespace: text("namespace"),
            selector,
            deny_when_missing,
        })
    }
}
