//! Templates written in CEL (`code[]` with `engine: K8sNativeValidation`), evaluated as
//! Gatekeeper's CEL driver does: the template's `variables`, `matchConditions` and
//! `validations`, with the variables of a ValidatingAdmissionPolicy (`object`, `oldObject`,
//! `request`, `params`) where `params` is the constraint itself, and two variables Gatekeeper
//! defines before the template's own: `variables.params`, the constraint's
//! `spec.parameters` (null when absent), and `variables.anyObject`, the object under review
//! (`oldObject` for a DELETE). `namespaceObject` is null, as in `gator`.

use super::constraint::Constraint;
use super::rego::RawViolation;
use super::review::Reviewed;
use crate::cel::{Activation, CompileError, Expression, GLOBALS, Scope, Variable};
use serde_json::Value as Json;

/// The variables Gatekeeper declares before the template's own.
const BUILT_IN_VARIABLES: &[(&str, &str)] = &[
    (
        "params",
        "!has(params.spec) ? null : !has(params.spec.parameters) ? null : params.spec.parameters",
    ),
    (
        "anyObject",
        r#"has(request.operation) && request.operation == "DELETE" && object == null ? oldObject : object"#,
    ),
];

/// A compiled K8sNativeValidation source.
#[derive(Debug, Clone)]
pub(crate) struct CelProgram {
    variables: Vec<Variable>,
    match_conditions: Vec<(String, Expression)>,
    validations: Vec<Validation>,
}

#[derive(Debug, Clone)]
struct Validation {
    expression: Expression,
    message: Option<String>,
    message_expression: Option<Expression>,
}

/// A compile error and the JSON pointer (under the source) of the field it is about.
pub(crate) type SourceError = (String, CompileError, String);

impl CelProgram {
    /// Compiles the `source` of a K8sNativeValidation code block. Errors carry the pointer
    /// of the expression, relative to `source`, and its text (for the line).
    pub fn compile(source: &Json) -> Result<CelProgram, SourceError> {
        let written = source
            .get("variables")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .map(|v| {
                let name = v.get("name").and_then(Json::as_str).unwrap_or_default();
                let expression = v
                    .get("expression")
                    .and_then(Json::as_str)
                    .unwrap_or_default();
                (name.to_string(), expression)
            });
        let all = BUILT_IN_VARIABLES
            .iter()
            .map(|(n, e)| (n.to_string(), *e))
            .chain(written);
        let (variables, errors) = Variable::compile_all(all, GLOBALS);
        if let Some((index, error)) = errors.into_iter().next() {
            let index = index.saturating_sub(BUILT_IN_VARIABLES.len());
            let text = text_at(source, &format!("/variables/{index}/expression"));
            return Err((format!("/variables/{index}/expression"), error, text));
        }
        let names: Vec<String> = variables.iter().map(|v| v.name.clone()).collect();
        let scope = Scope {
            globals: GLOBALS,
            variables: &names,
        };
        let compile = |pointer: String| -> Result<Option<Expression>, SourceError> {
            let Some(text) = source.pointer(&pointer).and_then(Json::as_str) else {
                return Ok(None);
            };
            Expression::compile_at(text, scope, &pointer)
                .map(Some)
                .map_err(|e| (pointer, e, text.to_string()))
        };
        let mut match_conditions = Vec::new();
        for (i, condition) in items(source, "matchConditions").enumerate() {
            let name = condition
                .get("name")
                .and_then(Json::as_str)
                .unwrap_or_default();
            if let Some(e) = compile(format!("/matchConditions/{i}/expression"))? {
                match_conditions.push((name.to_string(), e));
            }
        }
        let mut validations = Vec::new();
        for (i, validation) in items(source, "validations").enumerate() {
            let Some(expression) = compile(format!("/validations/{i}/expression"))? else {
                continue;
            };
            validations.push(Validation {
                expression,
                message: validation
                    .get("message")
                    .and_then(Json::as_str)
                    .map(str::to_string),
                message_expression: compile(format!("/validations/{i}/messageExpression"))?,
            });
        }
        Ok(CelProgram {
            variables,
            match_conditions,
            validations,
        })
    }

    /// The violations of one constraint by one object: one per validation that is false.
    pub fn evaluate(
        &self,
        reviewed: &Reviewed,
        constraint: &Constraint,
    ) -> Result<Vec<RawViolation>, String> {
        let review = reviewed.cel();
        let inputs = vec![
            review.object.clone(),
            review.old_object.clone(),
            review.request.clone(),
            constraint.cel_object.clone(),
        ];
        let activation = Activation::within(
            &review.scope,
            [("params", constraint.cel_object.clone())],
            inputs,
            &self.variables,
        );
        for (name, condition) in &self.match_conditions {
            let matched = activation
                .evaluate_bool(condition)
                .map_err(|e| format!("matchCondition {name:?}: {e}"))?;
            if !matched {
                return Ok(Vec::new());
            }
        }
        let mut violations = Vec::new();
        for validation in &self.validations {
            let valid = activation
                .evaluate_bool(&validation.expression)
                .map_err(|e| {
                    format!("expression {:?}: {e}", validation.expression.source.trim())
                })?;
            if !valid {
                violations.push(RawViolation {
                    msg: message(&activation, validation),
                    details: Json::Object(serde_json::Map::new()),
                });
            }
        }
        Ok(violations)
    }
}

/// The message of a failed validation, as Kubernetes gives it: `messageExpression` when it
/// evaluates to a non-empty string, else `message`, else the expression.
fn message(activation: &Activation, validation: &Validation) -> String {
    crate::cel::failure_message(
        activation,
        &validation.expression,
        validation.message.as_deref(),
        validation.message_expression.as_ref(),
    )
}

fn items<'a>(source: &'a Json, field: &str) -> impl Iterator<Item = &'a Json> {
    source
        .get(field)
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
}

fn text_at(source: &Json, pointer: &str) -> String {
    source
        .pointer(pointer)
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string()
}
