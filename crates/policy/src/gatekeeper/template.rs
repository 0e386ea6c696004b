//! `ConstraintTemplate`: the constraint kind it declares and its code, Rego or CEL, compiled
//! once.

use super::constraint::Constraint;
use super::k8scel::CelProgram;
use super::rego::{RawViolation, RegoProgram};
use super::review::Reviewed;
use super::strings;
use crate::PolicyError;
use palisade_model::Object;
use serde_json::Value;

/// The only target Gatekeeper evaluates objects with.
const ADMISSION_TARGET: &str = "admission.k8s.gatekeeper.sh";

/// A compiled ConstraintTemplate.
#[derive(Debug, Clone)]
pub struct Template {
    /// `metadata.name`.
    pub name: String,
    /// The constraint kind it declares (`spec.crd.spec.names.kind`).
    pub kind: String,
    /// Where it was read.
    pub file: String,
    /// Line of the object.
    pub line: u32,
    /// `spec.crd.spec.validation.openAPIV3Schema`: the schema of constraints' parameters.
    pub(crate) parameters_schema: Option<Value>,
    pub(crate) engine: Engine,
}

/// The code a template runs. Like Gatekeeper (and `gator`), a template with both a
/// `K8sNativeValidation` and a `Rego` code block runs the CEL one.
#[derive(Debug, Clone)]
pub(crate) enum Engine {
    Rego(Box<RegoProgram>),
    Cel(CelProgram),
}

impl Template {
    /// Whether the template reads `data.inventory`.
    pub fn uses_inventory(&self) -> bool {
        matches!(&self.engine, Engine::Rego(rego) if rego.uses_inventory)
    }
}

/// True for objects of `templates.gatekeeper.sh`, kind `ConstraintTemplate`.
pub fn is_template(object: &Object) -> bool {
    object.kind() == "ConstraintTemplate" && object.api_group() == "templates.gatekeeper.sh"
}

impl Template {
    /// Reads and compiles a ConstraintTemplate object.
    pub fn compile(object: &Object) -> Result<Template, PolicyError> {
        let name = object.name().to_string();
        let kind = object
            .at("/spec/crd/spec/names/kind")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                PolicyError::at(
                    object,
                    "/spec/crd/spec/names/kind",
                    format!("ConstraintTemplate {name:?} declares no constraint kind (spec.crd.spec.names.kind)"),
                )
            })?
            .to_string();
        let engine = match cel_source(object) {
            Some((pointer, source)) => Engine::Cel(compile_cel(object, &name, &pointer, source)?),
            None => Engine::Rego(Box::new(compile_rego(object, &name)?)),
        };
        Ok(Template {
            name,
            kind,
            file: object.source.file.to_string(),
            line: object.source.line,
            parameters_schema: object
                .at("/spec/crd/spec/validation/openAPIV3Schema")
                .filter(|s| s.is_object())
                .cloned(),
            engine,
        })
    }
}

fn compile_rego(object: &Object, name: &str) -> Result<RegoProgram, PolicyError> {
    let (pointer, source) = rego_source(object).ok_or_else(|| {
        PolicyError::at(
            object,
            "/spec/targets",
            format!(
                "ConstraintTemplate {name:?} has no code for target {ADMISSION_TARGET} \
                 (spec.targets[].rego, or code[] with engine Rego or K8sNativeValidation)"
            ),
        )
    })?;
    RegoProgram::compile(&source).map_err(|message| {
        let mut error = PolicyError::at(
            object,
            &pointer,
            format!("ConstraintTemplate {name:?}: Rego does not compile: {message}"),
        );
        // Rego is written as a block scalar: its line N is N lines below the field.
        if let Some(line) = rego_error_line(&message) {
            error.line = error.line.saturating_add(line);
        }
        error
    })
}

fn compile_cel(
    object: &Object,
    name: &str,
    pointer: &str,
    source: &Value,
) -> Result<CelProgram, PolicyError> {
    CelProgram::compile(source).map_err(|(field, error, text)| {
        let pointer = format!("{pointer}{field}");
        let mut e = PolicyError::at(
            object,
            &pointer,
            format!(
                "ConstraintTemplate {name:?}: {} does not compile: {}",
                crate::cel::field_path(&pointer),
                error.message
            ),
        );
        e.line = error.file_line(&text, e.line);
        e
    })
}

impl Template {
    /// Runs the template for one constraint against one reviewed object.
    pub(crate) fn evaluate(
        &self,
        reviewed: &Reviewed,
        constraint: &Constraint,
    ) -> Result<Vec<RawViolation>, String> {
        match &self.engine {
            Engine::Rego(rego) => rego.evaluate(reviewed, &constraint.input_parameters),
            Engine::Cel(cel) => cel.evaluate(reviewed, constraint),
        }
    }
}

/// Rego of a template, with its libraries and language version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RegoSource {
    pub rego: String,
    pub libs: Vec<String>,
    /// Rego v1 syntax (`code[].source.version: "v1"`); legacy `rego` fields are v0.
    pub v1: bool,
}

/// The `source` of the admission target's `code[]` entry with engine `K8sNativeValidation`,
/// with its JSON pointer.
fn cel_source(object: &Object) -> Option<(String, &Value)> {
    let (t, target) = admission_target(object)?;
    let code = target.get("code")?.as_array()?;
    code.iter().enumerate().find_map(|(c, code)| {
        (code.get("engine").and_then(Value::as_str) == Some("K8sNativeValidation")).then_some(())?;
        Some((
            format!("/spec/targets/{t}/code/{c}/source"),
            code.get("source")?,
        ))
    })
}

/// The target Gatekeeper evaluates objects with (a target without a name is taken as it).
fn admission_target(object: &Object) -> Option<(usize, &Value)> {
    let targets = object.at("/spec/targets")?.as_array()?;
    targets.iter().enumerate().find(|(_, t)| {
        t.get("target")
            .and_then(Value::as_str)
            .is_none_or(|n| n == ADMISSION_TARGET)
    })
}

/// The Rego of the admission target: the `code[]` entry with engine `Rego`, else the legacy
/// `rego` and `libs` fields. Returns the JSON pointer of the source for error lines.
fn rego_source(object: &Object) -> Option<(String, RegoSource)> {
    let (t, target) = admission_target(object)?;
    let code = target.get("code").and_then(Value::as_array);
    let from_code = code
        .into_iter()
        .flatten()
        .enumerate()
        .find_map(|(c, code)| {
            (code.get("engine").and_then(Value::as_str) == Some("Rego")).then_some(())?;
            let source = code.get("source")?;
            let rego = source.get("rego")?.as_str()?.to_string();
            let v1 = source.get("version").and_then(Value::as_str) == Some("v1");
            let pointer = format!("/spec/targets/{t}/code/{c}/source/rego");
            Some((
                pointer,
                RegoSource {
                    rego,
                    libs: strings(source.get("libs")),
                    v1,
                },
            ))
        });
    from_code.or_else(|| {
        let rego = target.get("rego")?.as_str()?.to_string();
        let pointer = format!("/spec/targets/{t}/rego");
        Some((
            pointer,
            RegoSource {
                rego,
                libs: strings(target.get("libs")),
                v1: false,
            },
        ))
    })
}

/// The line regorus names in a compile error of the template's own source
/// (`--> template.rego:LINE:COLUMN`).
fn rego_error_line(message: &str) -> Option<u32> {
    let at = message.split("--> template.rego:").nth(1)?;
    at.split(':').next()?.trim().parse().ok()
}
