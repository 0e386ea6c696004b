//! Named expressions (`variables.<name>`) and the evaluation of expressions that use them.

use super::cel::objects::Key;
use super::cel::{Context, ExecutionError, Value};
use super::{CompileError, Expression, Scope, map};
use std::sync::Arc;

/// One `variables[]` entry: a name and its compiled expression.
#[derive(Debug, Clone)]
pub(crate) struct Variable {
    pub name: String,
    pub expression: Expression,
}

impl Variable {
    /// Compiles the variables of a policy in order: each may use the ones before it.
    /// Returns them with the errors, by index.
    pub fn compile_all<'a>(
        written: impl IntoIterator<Item = (String, &'a str)>,
        globals: &[&str],
    ) -> (Vec<Variable>, Vec<(usize, CompileError)>) {
        let mut variables: Vec<Variable> = Vec::new();
        let mut names = Vec::new();
        let mut errors = Vec::new();
        for (index, (name, source)) in written.into_iter().enumerate() {
            let scope = Scope {
                globals,
                variables: &names,
            };
            match Expression::compile(source, scope) {
                Ok(expression) => variables.push(Variable {
                    name: name.clone(),
                    expression,
                }),
                Err(e) => errors.push((index, e)),
            }
            names.push(name);
        }
        (variables, errors)
    }
}

/// The variables of one evaluation: top-level bindings and `variables`, evaluated in order.
/// Kubernetes evaluates variables lazily; here each is evaluated once, up front, and one that
/// fails is only an error for the expressions that use it.
pub(crate) struct Activation<'p> {
    context: Context<'p>,
    /// The top-level values, for the cost bound.
    inputs: Vec<Value>,
    /// Their longest list or map, measured when an expression needs it.
    widest: std::sync::OnceLock<usize>,
    /// Variables whose evaluation failed, with the error.
    failed: Vec<(String, String)>,
}

impl<'p> Activation<'p> {
    /// Binds the top-level variables, then evaluates `variables` in order.
    pub fn new(
        bindings: impl IntoIterator<Item = (&'static str, Value)>,
        variables: &[Variable],
    ) -> Activation<'static> {
        let bindings: Vec<(&'static str, Value)> = bindings.into_iter().collect();
        let inputs = bindings.iter().map(|(_, v)| v.clone()).collect();
        Activation {
            context: super::context(bindings),
            inputs,
            widest: std::sync::OnceLock::new(),
            failed: Vec::new(),
        }
        .with_variables(variables)
    }

    /// As [`Activation::new`], in a scope whose variables (`parent`, built once and shared)
    /// are already bound; `inputs` are every top-level value, for the cost bound.
    pub fn within(
        parent: &'p Context<'p>,
        bindings: impl IntoIterator<Item = (&'static str, Value)>,
        inputs: Vec<Value>,
        variables: &[Variable],
    ) -> Activation<'p> {
        let mut context = parent.new_inner_scope();
        for (name, value) in bindings {
            context.add_variable_from_value(name, value);
        }
        Activation {
            context,
            inputs,
            widest: std::sync::OnceLock::new(),
            failed: Vec::new(),
        }
        .with_variables(variables)
    }

    fn with_variables(self, variables: &[Variable]) -> Activation<'p> {
        let mut activation = self;
        let mut values: Vec<(Key, Value)> = Vec::new();
        for variable in variables {
            activation
                .context
                .add_variable_from_value("variables", map(values.clone()));
            match activation.evaluate(&variable.expression) {
                Ok(value) => values.push((Key::String(Arc::new(variable.name.clone())), value)),
                Err(e) => activation.failed.push((variable.name.clone(), e)),
            }
        }
        activation
            .context
            .add_variable_from_value("variables", map(values));
        activation
    }

    /// The value of an expression.
    pub fn evaluate(&self, expression: &Expression) -> Result<Value, String> {
        if expression.shape.depth >= 2 {
            let widest = *self
                .widest
                .get_or_init(|| super::cost::widest(&self.inputs));
            super::cost::check(expression.shape, widest)?;
        }
        expression.evaluate(&self.context).map_err(|e| match &e {
            ExecutionError::NoSuchKey(key) => self
                .failed
                .iter()
                .find(|(name, _)| name == key.as_str())
                .map(|(name, error)| format!("variables.{name}: {error}"))
                .unwrap_or_else(|| e.to_string()),
            _ => e.to_string(),
        })
    }

    /// The value of an expression that must be a boolean (validations, match conditions).
    pub fn evaluate_bool(&self, expression: &Expression) -> Result<bool, String> {
        match self.evaluate(expression)? {
            Value::Bool(b) => Ok(b),
            other => Err(format!(
                "expression returned {} instead of bool",
                super::type_name(&other)
            )),
        }
    }

    /// The value of an expression that must be a string (`messageExpression`).
    pub fn evaluate_string(&self, expression: &Expression) -> Result<String, String> {
        match self.evaluate(expression)? {
            Value::String(s) => Ok(s.to_string()),
            other => Err(format!(
                "messageExpression returned {} instead of string",
                super::type_name(&other)
            )),
        }
    }
}
