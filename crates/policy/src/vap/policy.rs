//! Reading a ValidatingAdmissionPolicy: its match, parameters kind, and CEL compiled once.

use super::matching::MatchResources;
use crate::PolicyError;
use crate::SEVERITY_ANNOTATION;
use crate::cel::{CompileError, Expression, GLOBALS, Scope, Variable};
use palisade_model::Object;
use serde_json::Value;

/// What happens when an expression fails or a parameter cannot be found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePolicy {
    /// The request is denied (the default).
    Fail,
    /// The policy is skipped.
    Ignore,
}

/// The kind of the objects a policy reads as `params`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamKind {
    /// `apiVersion` (`v1`, `example.com/v1`).
    pub api_version: String,
    /// `kind`.
    pub kind: String,
}

/// A compiled ValidatingAdmissionPolicy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// `metadata.name`.
    pub name: String,
    /// `spec.failurePolicy`.
    pub failure_policy: FailurePolicy,
    /// `spec.paramKind`.
    pub param_kind: Option<ParamKind>,
    /// The severity its findings get, from the annotation [`SEVERITY_ANNOTATION`].
    pub severity: Option<String>,
    /// Where it was read.
    pub file: String,
    /// Line of the object.
    pub line: u32,
    pub(crate) match_constraints: MatchResources,
    pub(crate) match_conditions: Vec<(String, Expression)>,
    pub(crate) variables: Vec<Variable>,
    pub(crate) validations: Vec<Validation>,
}

/// One `validations[]` entry.
#[derive(Debug, Clone)]
pub(crate) struct Validation {
    pub expression: Expression,
    pub message: Option<String>,
    pub message_expression: Option<Expression>,
    /// `reason` (`Invalid` by default).
    pub reason: String,
}

/// True for `admissionregistration.k8s.io` ValidatingAdmissionPolicy objects.
pub fn is_policy(object: &Object) -> bool {
    object.kind() == "ValidatingAdmissionPolicy"
        && object.api_group() == "admissionregistration.k8s.io"
}

impl Policy {
    /// Reads and compiles a policy object.
    pub fn read(object: &Object) -> Result<Policy, PolicyError> {
        let name = object.name().to_string();
        let error = |pointer: &str, message: String| {
            PolicyError::at(
                object,
                pointer,
                format!("ValidatingAdmissionPolicy {name:?}: {message}"),
            )
        };
        let failure_policy = match object.at("/spec/failurePolicy").and_then(Value::as_str) {
            None | Some("Fail") => FailurePolicy::Fail,
            Some("Ignore") => FailurePolicy::Ignore,
            Some(other) => {
                return Err(error(
                    "/spec/failurePolicy",
                    format!("failurePolicy {other:?} is not Fail or Ignore"),
                ));
            }
        };
        let param_kind = match object.at("/spec/paramKind").filter(|v| !v.is_null()) {
            None => None,
            Some(p) => Some(ParamKind {
                api_version: text(p, "apiVersion").ok_or_else(|| {
                    error("/spec/paramKind", "paramKind.apiVersion is required".into())
                })?,
                kind: text(p, "kind")
                    .ok_or_else(|| error("/spec/paramKind", "paramKind.kind is required".into()))?,
            }),
        };
        let block = object
            .at("/spec/matchConstraints")
            .filter(|v| !v.is_null())
            .ok_or_else(|| error("/spec", "spec.matchConstraints is required".into()))?;
        let match_constraints = MatchResources::read(block)
            .map_err(|(p, m)| error(&format!("/spec/matchConstraints{p}"), m))?;
        if !match_constraints.has_rules() {
            return Err(error(
                "/spec/matchConstraints",
                "matchConstraints.resourceRules is required: a policy without rules matches nothing".into(),
            ));
        }
        let compiler = Compiler {
            object,
            name: &name,
        };
        let variables = compiler.variables()?;
        let names: Vec<String> = variables.iter().map(|v| v.name.clone()).collect();
        let scope = Scope {
            globals: GLOBALS,
            variables: &names,
        };
        let match_conditions = compiler.match_conditions(scope)?;
        let validations = compiler.validations(scope)?;
        compiler.audit_annotations(scope)?;
        if validations.is_empty() && object.at("/spec/auditAnnotations").is_none() {
            return Err(error(
                "/spec",
                "a policy needs validations or auditAnnotations".into(),
            ));
        }
        Ok(Policy {
            name: name.clone(),
            failure_policy,
            param_kind,
            severity: object
                .annotations()
                .get(SEVERITY_ANNOTATION)
                .and_then(Value::as_str)
                .map(str::to_string),
            file: object.source.file.to_string(),
            line: object.source.line,
            match_constraints,
            match_conditions,
            variables,
            validations,
        })
    }
}

/// Compiles the expressions of one policy object, with errors at their lines.
struct Compiler<'o> {
    object: &'o Object,
    name: &'o str,
}

impl Compiler<'_> {
    fn error(&self, pointer: &str, source: &str, e: CompileError) -> PolicyError {
        let mut error = PolicyError::at(
            self.object,
            pointer,
            format!(
                "ValidatingAdmissionPolicy {:?}: {} does not compile: {}",
                self.name,
                crate::cel::field_path(pointer),
                e.message
            ),
        );
        error.line = e.file_line(source, error.line);
        error
    }

    fn items(&self, field: &str) -> impl Iterator<Item = (usize, &Value)> {
        self.object
            .at(&format!("/spec/{field}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
    }

    fn compile(&self, pointer: String, scope: Scope) -> Result<Option<Expression>, PolicyError> {
        let Some(source) = self.object.at(&pointer).and_then(Value::as_str) else {
            return Ok(None);
        };
        Expression::compile_at(source, scope, &pointer)
            .map(Some)
            .map_err(|e| self.error(&pointer, source, e))
    }

    fn required(&self, pointer: String, scope: Scope) -> Result<Expression, PolicyError> {
        self.compile(pointer.clone(), scope)?.ok_or_else(|| {
            PolicyError::at(
                self.object,
                &pointer,
                format!(
                    "ValidatingAdmissionPolicy {:?}: {} is required",
                    self.name,
                    crate::cel::field_path(&pointer)
                ),
            )
        })
    }

    fn variables(&self) -> Result<Vec<Variable>, PolicyError> {
        let written: Vec<(String, &str)> = self
            .items("variables")
            .map(|(_, v)| {
                (
                    text(v, "name").unwrap_or_default(),
                    v.get("expression")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                )
            })
            .collect();
        let (variables, errors) = Variable::compile_all(written.iter().cloned(), GLOBALS);
        match errors.into_iter().next() {
            None => Ok(variables),
            Some((i, e)) => {
                let source = written.get(i).map_or("", |(_, s)| *s);
                Err(self.error(&format!("/spec/variables/{i}/expression"), source, e))
            }
        }
    }

    fn match_conditions(&self, scope: Scope) -> Result<Vec<(String, Expression)>, PolicyError> {
        self.items("matchConditions")
            .map(|(i, c)| {
                let expression =
                    self.required(format!("/spec/matchConditions/{i}/expression"), scope)?;
                Ok((text(c, "name").unwrap_or_default(), expression))
            })
            .collect()
    }

    fn validations(&self, scope: Scope) -> Result<Vec<Validation>, PolicyError> {
        self.items("validations")
            .map(|(i, v)| {
                Ok(Validation {
                    expression: self
                        .required(format!("/spec/validations/{i}/expression"), scope)?,
                    message: text(v, "message"),
                    message_expression: self
                        .compile(format!("/spec/validations/{i}/messageExpression"), scope)?,
                    reason: text(v, "reason").unwrap_or_else(|| "Invalid".into()),
                })
            })
            .collect()
    }

    /// Audit annotations are compiled (so that mistakes are reported) but not evaluated: a
    /// scan has no audit log to write them to.
    fn audit_annotations(&self, scope: Scope) -> Result<(), PolicyError> {
        for (i, _) in self.items("auditAnnotations") {
            self.required(format!("/spec/auditAnnotations/{i}/valueExpression"), scope)?;
        }
        Ok(())
    }
}

fn text(value: &Value, field: &str) -> Option<String> {
    value
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}
