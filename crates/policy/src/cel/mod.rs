//! CEL as Kubernetes evaluates it, shared by Gatekeeper's `K8sNativeValidation` templates and
//! ValidatingAdmissionPolicies: the `cel` crate with the Kubernetes libraries of `kube-cel`
//! (strings, lists, sets, regex, url, ip/cidr, quantity, semver, format), plus `dyn`.
//!
//! Expressions are parsed once, when the policy is read, and checked for names that are not
//! declared (the `cel` crate has no type checker; this catches what Kubernetes' checker
//! reports most often). Evaluation never panics: a panic inside the interpreter becomes an
//! error of that evaluation. The `cel` crate has no cost budget and cannot be interrupted;
//! CEL has no unbounded loops (comprehensions run over lists of the input), so an evaluation
//! always ends, and [`cost`] refuses, before evaluating, an expression whose nested
//! comprehensions could exceed the API server's budget over the input at hand. Expressions are
//! limited to the parser's nesting depth.
//!
//! Known differences from Kubernetes' CEL: optional syntax (`a.?b`, `[?x]`) is rejected when
//! read (the `cel` crate parses it but evaluates it wrongly); `1 == 1.0` is false (no
//! heterogeneous numeric equality); `cel.bind` and two-variable comprehensions are missing.

mod check;
mod convert;
mod cost;
mod types;
mod variables;

pub(crate) use convert::{map, to_cel, type_name};
pub(crate) use kube_cel::cel;
pub(crate) use variables::{Activation, Variable};

use cel::common::ast::IdedExpr;
use cel::extractors::This;
use cel::{Context, Value};
use kube_cel::KubeCelExt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, LazyLock};

/// The functions every expression may call, registered once.
static ROOT: LazyLock<Context<'static>> = LazyLock::new(|| {
    let mut context = Context::default();
    context.register_all();
    // `dyn(x)` only matters to the type checker: at run time it is `x`.
    context.add_function("dyn", dynamic);
    context.add_function("size", size);
    context
});

/// `size`: the `cel` crate counts a string's bytes; CEL counts its code points.
fn size(This(value): This<Value>) -> cel::ResolveResult {
    let size = match &value {
        Value::String(s) => s.chars().count(),
        Value::Bytes(b) => b.len(),
        Value::List(l) => l.len(),
        Value::Map(m) => m.map.len(),
        other => {
            return Err(cel::ExecutionError::function_error(
                "size",
                format!("no size for {}", type_name(other)),
            ));
        }
    };
    i64::try_from(size)
        .map(Value::Int)
        .map_err(|e| cel::ExecutionError::function_error("size", e))
}

/// `dyn(x)`: for the type checker only; at run time, `x`.
fn dynamic(This(value): This<Value>) -> cel::ResolveResult {
    Ok(value)
}

/// The top-level variables of Kubernetes' admission CEL (and Gatekeeper's CEL driver).
/// `authorizer` is not available offline.
pub(crate) const GLOBALS: &[&str] = &[
    "object",
    "oldObject",
    "request",
    "params",
    "namespaceObject",
    "variables",
];

/// The names an expression may refer to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope<'a> {
    /// Top-level variables (`object`, `request`, ...).
    pub globals: &'a [&'a str],
    /// What `variables.<name>` may name.
    pub variables: &'a [String],
}

/// A parsed expression and its source.
#[derive(Clone)]
pub(crate) struct Expression {
    /// As written.
    pub source: String,
    ast: Arc<IdedExpr>,
    shape: cost::Shape,
}

impl std::fmt::Debug for Expression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Expression").field(&self.source).finish()
    }
}

/// Why an expression cannot be used, and on which of its lines (1 for the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CompileError {
    pub message: String,
    pub line: u32,
}

impl CompileError {
    /// The line of the error in a file where the expression's field is on `field_line`: a
    /// block scalar (`expression: |`) starts on the next line.
    pub fn file_line(&self, source: &str, field_line: u32) -> u32 {
        if source.contains('\n') {
            field_line.saturating_add(self.line)
        } else {
            field_line
        }
    }
}

impl Expression {
    /// [`Expression::compile`], also checking that the expression can produce what the field at
    /// this JSON pointer needs (a bool for validations and match conditions, a string for
    /// message expressions).
    pub fn compile_at(
        source: &str,
        scope: Scope,
        pointer: &str,
    ) -> Result<Expression, CompileError> {
        let expression = Expression::compile(source, scope)?;
        let problems = types::check(&expression.ast, types::Expected::at(pointer));
        if problems.is_empty() {
            Ok(expression)
        } else {
            Err(CompileError {
                message: format!("type check: {}", problems.join("; ")),
                line: 1,
            })
        }
    }

    /// Parses an expression and checks the names it uses and the types it fixes.
    pub fn compile(source: &str, scope: Scope) -> Result<Expression, CompileError> {
        let parsed = catch_unwind(|| {
            cel::parser::Parser::new()
                .enable_optional_syntax(false)
                .parse(source)
        });
        let ast = match parsed {
            Ok(Ok(ast)) => ast,
            Ok(Err(errors)) => {
                let line = errors
                    .errors
                    .first()
                    .and_then(|e| u32::try_from(e.pos.0).ok())
                    .filter(|l| *l > 0)
                    .unwrap_or(1);
                let message = errors
                    .errors
                    .iter()
                    .map(|e| e.msg.as_str())
                    .collect::<Vec<_>>()
                    .join("; ");
                return Err(CompileError {
                    message: format!("syntax error: {message}"),
                    line,
                });
            }
            Err(_) => {
                return Err(CompileError {
                    message: "the CEL parser failed on this expression".into(),
                    line: 1,
                });
            }
        };
        let mut problems = check::undeclared(&ast, &scope);
        if problems.is_empty() {
            problems = types::check(&ast, types::Expected::Any);
        }
        if !problems.is_empty() {
            return Err(CompileError {
                message: problems.join("; "),
                line: 1,
            });
        }
        Ok(Expression {
            source: source.to_string(),
            shape: cost::shape(&ast),
            ast: Arc::new(ast),
        })
    }

    /// Evaluates the expression; a runtime error (or a panic of the interpreter) is an error.
    fn evaluate(&self, context: &Context) -> Result<Value, cel::ExecutionError> {
        catch_unwind(AssertUnwindSafe(|| Value::resolve(&self.ast, context))).unwrap_or_else(|_| {
            Err(cel::ExecutionError::function_error(
                "evaluation",
                "the CEL interpreter failed on this input",
            ))
        })
    }
}

/// An evaluation context: the root functions and these top-level variables.
/// A scope with these variables. Binding converts a value into the interpreter's own
/// representation, a deep copy: values shared by many evaluations are bound once, in a
/// scope the evaluations are children of.
pub(crate) fn context(
    bindings: impl IntoIterator<Item = (&'static str, Value)>,
) -> Context<'static> {
    let mut context = ROOT.new_inner_scope();
    for (name, value) in bindings {
        context.add_variable_from_value(name, value);
    }
    context
}

/// A JSON pointer as a field path for messages: `/spec/validations/0/expression` is
/// `spec.validations[0].expression`.
pub(crate) fn field_path(pointer: &str) -> String {
    let mut path = String::new();
    for segment in pointer.split('/').skip(1) {
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            path.push_str(&format!("[{segment}]"));
        } else {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&segment.replace("~1", "/").replace("~0", "~"));
        }
    }
    path
}

/// The message of a failed validation, as Kubernetes gives it: the `messageExpression` when
/// it evaluates to a non-blank string, else `message`, else `failed expression: <expression>`.
pub(crate) fn failure_message(
    activation: &Activation,
    expression: &Expression,
    message: Option<&str>,
    message_expression: Option<&Expression>,
) -> String {
    let evaluated = message_expression
        .and_then(|m| activation.evaluate_string(m).ok())
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty());
    evaluated
        .or_else(|| message.filter(|m| !m.trim().is_empty()).map(str::to_string))
        .unwrap_or_else(|| format!("failed expression: {}", expression.source.trim()))
}
