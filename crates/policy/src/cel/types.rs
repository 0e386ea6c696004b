//! The part of Kubernetes' CEL type check that needs no schema: types known from literals,
//! operators and functions, checked where they meet. Objects are `dyn` (there is no schema of
//! the reviewed kinds), so a type is known only where the expression itself fixes it; there,
//! an operator applied to types it has no overload for, or a validation that cannot be a
//! bool, is refused when the policy is read, as the API server refuses it.

use super::cel::common::ast::{Expr, IdedExpr, LiteralValue};
use std::fmt;

/// A CEL type the expression fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Type {
    Bool,
    Int,
    UInt,
    Double,
    String,
    Bytes,
    Null,
    List,
    Map,
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::Bool => "bool",
            Type::Int => "int",
            Type::UInt => "uint",
            Type::Double => "double",
            Type::String => "string",
            Type::Bytes => "bytes",
            Type::Null => "null_type",
            Type::List => "list",
            Type::Map => "map",
        })
    }
}

impl Type {
    fn is_number(self) -> bool {
        matches!(self, Type::Int | Type::UInt | Type::Double)
    }
}

/// What a field's expression must produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expected {
    Bool,
    String,
    Any,
}

impl Expected {
    /// What the expression at this JSON pointer of a policy must produce: validations and
    /// match conditions a bool, message expressions a string.
    pub fn at(pointer: &str) -> Expected {
        if pointer.ends_with("/messageExpression") {
            Expected::String
        } else if pointer.ends_with("/expression")
            && (pointer.contains("/validations/") || pointer.contains("/matchConditions/"))
        {
            Expected::Bool
        } else {
            Expected::Any
        }
    }
}

/// Type errors of an expression that must produce `expected`.
pub(crate) fn check(expr: &IdedExpr, expected: Expected) -> Vec<String> {
    let mut errors = Vec::new();
    let found = infer(expr, &mut errors);
    let want = match expected {
        Expected::Bool => Some(Type::Bool),
        Expected::String => Some(Type::String),
        Expected::Any => None,
    };
    if let (Some(want), Some(found)) = (want, found)
        && want != found
    {
        errors.push(format!(
            "the expression must produce a {want}, and it produces a {found}"
        ));
    }
    errors.dedup();
    errors
}

/// The type of an expression when the expression fixes it; type errors found on the way.
fn infer(expr: &IdedExpr, errors: &mut Vec<String>) -> Option<Type> {
    match &expr.expr {
        Expr::Literal(literal) => Some(match literal {
            LiteralValue::Boolean(_) => Type::Bool,
            LiteralValue::Bytes(_) => Type::Bytes,
            LiteralValue::Double(_) => Type::Double,
            LiteralValue::Int(_) => Type::Int,
            LiteralValue::Null => Type::Null,
            LiteralValue::String(_) => Type::String,
            LiteralValue::UInt(_) => Type::UInt,
        }),
        Expr::List(list) => {
            list.elements.iter().for_each(|e| {
                infer(e, errors);
            });
            Some(Type::List)
        }
        Expr::Map(_) => Some(Type::Map),
        Expr::Select(select) => {
            infer(&select.operand, errors);
            select.test.then_some(Type::Bool)
        }
        Expr::Comprehension(c) => {
            infer(&c.iter_range, errors);
            infer(&c.loop_step, errors);
            // all/exists keep a bool, map/filter a list: the result is the accumulator.
            match &c.result.expr {
                Expr::Ident(name) if *name == c.accu_var => infer(&c.accu_init, errors),
                _ => infer(&c.result, errors),
            }
        }
        Expr::Call(call) => {
            let target = call.target.as_deref().map(|t| infer(t, errors));
            let args: Vec<Option<Type>> = call.args.iter().map(|a| infer(a, errors)).collect();
            call_type(&call.func_name, target.flatten(), &args, errors)
        }
        Expr::Ident(_) | Expr::Struct(_) | Expr::Unspecified => None,
    }
}

fn call_type(
    name: &str,
    target: Option<Type>,
    args: &[Option<Type>],
    errors: &mut Vec<String>,
) -> Option<Type> {
    let arg = |i: usize| args.get(i).copied().flatten();
    let no_overload = |errors: &mut Vec<String>, types: &[Type]| {
        let list: Vec<String> = types.iter().map(ToString::to_string).collect();
        errors.push(format!(
            "found no matching overload for '{name}' applied to '({})'",
            list.join(", ")
        ));
    };
    match name {
        "_&&_" | "_||_" | "!_" => {
            for t in args.iter().flatten() {
                if *t != Type::Bool {
                    no_overload(errors, &[*t]);
                }
            }
            Some(Type::Bool)
        }
        "_?_:_" => {
            if let Some(condition) = arg(0)
                && condition != Type::Bool
            {
                no_overload(errors, &[condition]);
            }
            match (arg(1), arg(2)) {
                (Some(a), Some(b)) if a == b => Some(a),
                _ => None,
            }
        }
        "_==_" | "_!=_" | "@in" | "@not_strictly_false" => Some(Type::Bool),
        "_<_" | "_<=_" | "_>_" | "_>=_" => {
            if let (Some(a), Some(b)) = (arg(0), arg(1))
                && a != b
                && !(a.is_number() && b.is_number())
            {
                no_overload(errors, &[a, b]);
            }
            Some(Type::Bool)
        }
        "_+_" => match (arg(0), arg(1)) {
            (Some(a), Some(b)) if a != b || matches!(a, Type::Bool | Type::Null | Type::Map) => {
                no_overload(errors, &[a, b]);
                None
            }
            (Some(a), Some(_)) => Some(a),
            _ => None,
        },
        "_-_" | "_*_" | "_/_" | "_%_" => match (arg(0), arg(1)) {
            (Some(a), Some(b))
                if a != b || !a.is_number() || (name == "_%_" && a == Type::Double) =>
            {
                no_overload(errors, &[a, b]);
                None
            }
            (Some(a), Some(_)) => Some(a),
            _ => None,
        },
        "-_" => match arg(0) {
            Some(a) if !matches!(a, Type::Int | Type::Double) => {
                no_overload(errors, &[a]);
                None
            }
            other => other,
        },
        "startsWith" | "endsWith" | "contains" | "matches" => {
            if let Some(t) = target
                && t != Type::String
                && name != "contains"
            {
                no_overload(errors, &[t]);
            }
            Some(Type::Bool)
        }
        "size" | "int" => Some(Type::Int),
        "uint" => Some(Type::UInt),
        "double" => Some(Type::Double),
        "string" | "lowerAscii" | "upperAscii" | "trim" | "replace" | "join" | "format" => {
            Some(Type::String)
        }
        "split" => Some(Type::List),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(source: &str, expected: Expected) -> Vec<String> {
        let ast = super::super::cel::parser::Parser::new()
            .parse(source)
            .unwrap();
        check(&ast, expected)
    }

    #[test]
    fn operators_on_types_without_an_overload_are_errors() {
        assert_eq!(
            errors(
                "object.spec.replicas + 1 > 2 && 1 + 'a' == 'b'",
                Expected::Bool
            ),
            ["found no matching overload for '_+_' applied to '(int, string)'"]
        );
        assert_eq!(
            errors("'abc' < 3", Expected::Bool),
            ["found no matching overload for '_<_' applied to '(string, int)'"]
        );
        assert_eq!(
            errors("size(object.x) > 2.5", Expected::Bool),
            Vec::<String>::new()
        );
        assert_eq!(
            errors("!'yes'", Expected::Bool),
            ["found no matching overload for '!_' applied to '(string)'"]
        );
    }

    #[test]
    fn validations_must_be_bool_and_messages_strings() {
        assert_eq!(
            errors("size(object.spec.containers)", Expected::Bool),
            ["the expression must produce a bool, and it produces a int"]
        );
        assert_eq!(
            errors("object.items.map(x, x.name)", Expected::Bool),
            ["the expression must produce a bool, and it produces a list"]
        );
        assert!(errors("object.items.all(x, x.ok)", Expected::Bool).is_empty());
        assert!(errors("has(object.spec.x)", Expected::Bool).is_empty());
        assert!(
            errors("object.spec.enabled", Expected::Bool).is_empty(),
            "dyn is fine"
        );
        assert_eq!(
            errors("size(object.items) > 2", Expected::String),
            ["the expression must produce a string, and it produces a bool"]
        );
        assert!(errors("'n=' + string(size(object.items))", Expected::String).is_empty());
    }
}
