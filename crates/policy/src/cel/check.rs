//! What Kubernetes' type check would reject before any object is seen: names that are not
//! declared (a top-level variable, `variables.<name>`, a function). The `cel` crate only
//! parses, so without this a typo would surface as an error on every object instead of once,
//! at the policy's line.

use super::cel::common::ast::{CallExpr, EntryExpr, Expr, IdedExpr};
use super::{ROOT, Scope};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Identifiers that name types: `type(x) == string` is valid CEL.
const TYPE_NAMES: &[&str] = &[
    "bool",
    "bytes",
    "double",
    "int",
    "uint",
    "string",
    "list",
    "map",
    "null_type",
    "type",
    "dyn",
];

/// Undeclared names in an expression, one message each.
pub(super) fn undeclared(expr: &IdedExpr, scope: &Scope) -> Vec<String> {
    let mut walk = Walk {
        scope,
        bound: Vec::new(),
        problems: Vec::new(),
    };
    walk.expr(expr);
    walk.problems.dedup();
    // Calls on `authorizer` (`authorizer.group(...).check(...)`) are not worth naming.
    if let Some(authorizer) = walk
        .problems
        .iter()
        .position(|p| p.starts_with("authorizer"))
    {
        return vec![walk.problems.swap_remove(authorizer)];
    }
    walk.problems
}

struct Walk<'s> {
    scope: &'s Scope<'s>,
    /// Comprehension variables in scope, innermost last.
    bound: Vec<String>,
    problems: Vec<String>,
}

impl Walk<'_> {
    fn expr(&mut self, expr: &IdedExpr) {
        match &expr.expr {
            Expr::Ident(name) => self.ident(name),
            Expr::Select(select) => {
                if let Expr::Ident(operand) = &select.operand.expr
                    && operand == "variables"
                    && !self.is_bound(operand)
                    && !self.scope.variables.iter().any(|v| v == &select.field)
                {
                    self.problems.push(format!(
                        "variables.{} is not declared{}",
                        select.field,
                        declared(self.scope.variables)
                    ));
                }
                self.expr(&select.operand);
            }
            Expr::Call(call) => self.call(call),
            Expr::Comprehension(c) => {
                self.expr(&c.iter_range);
                self.expr(&c.accu_init);
                let depth = self.bound.len();
                self.bound.push(c.iter_var.clone());
                self.bound.extend(c.iter_var2.clone());
                self.bound.push(c.accu_var.clone());
                self.expr(&c.loop_cond);
                self.expr(&c.loop_step);
                self.expr(&c.result);
                self.bound.truncate(depth);
            }
            Expr::List(list) => list.elements.iter().for_each(|e| self.expr(e)),
            Expr::Map(map) => {
                for entry in &map.entries {
                    match &entry.expr {
                        EntryExpr::MapEntry(e) => {
                            self.expr(&e.key);
                            self.expr(&e.value);
                        }
                        EntryExpr::StructField(f) => self.expr(&f.value),
                    }
                }
            }
            Expr::Struct(s) => {
                for entry in &s.entries {
                    if let EntryExpr::StructField(f) = &entry.expr {
                        self.expr(&f.value);
                    }
                }
            }
            Expr::Literal(_) | Expr::Unspecified => {}
        }
    }

    fn ident(&mut self, name: &str) {
        if name == "authorizer" && !self.is_bound(name) {
            self.problems
                .push("authorizer is not available: there is no API server to ask".into());
        } else if !self.is_bound(name)
            && !self.scope.globals.contains(&name)
            && !TYPE_NAMES.contains(&name)
        {
            self.problems.push(format!(
                "undeclared reference to {name:?} (known: {})",
                self.scope.globals.join(", ")
            ));
        }
    }

    fn call(&mut self, call: &CallExpr) {
        let operator = !call
            .func_name
            .starts_with(|c: char| c.is_ascii_alphabetic());
        let qualified = match call.target.as_deref().map(|t| &t.expr) {
            Some(Expr::Ident(prefix)) if !self.is_bound(prefix) => {
                let name = format!("{prefix}.{}", call.func_name);
                function_exists(&name).then_some(name)
            }
            _ => None,
        };
        if qualified.is_none() {
            if !operator && !function_exists(&call.func_name) {
                self.problems
                    .push(format!("undeclared function {:?}", call.func_name));
            }
            if let Some(target) = &call.target {
                self.expr(target);
            }
        }
        call.args.iter().for_each(|a| self.expr(a));
    }

    fn is_bound(&self, name: &str) -> bool {
        self.bound.iter().any(|b| b == name)
    }
}

fn declared(variables: &[String]) -> String {
    if variables.is_empty() {
        String::new()
    } else {
        format!(" (declared: {})", variables.join(", "))
    }
}

/// Whether the function library has a function of this name. The `cel` crate does not list
/// its functions: a call without arguments tells, since it looks the name up first.
fn function_exists(name: &str) -> bool {
    let call = IdedExpr {
        id: 0,
        expr: Expr::Call(CallExpr {
            func_name: name.to_string(),
            target: None,
            args: Vec::new(),
        }),
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        super::cel::Value::resolve(&call, &ROOT)
    }));
    !matches!(outcome, Ok(Err(super::cel::ExecutionError::UndeclaredReference(n))) if n.as_str() == name)
}

#[cfg(test)]
mod tests {
    use super::function_exists;

    #[test]
    fn the_kubernetes_libraries_are_there() {
        for name in [
            "size",
            "matches",
            "join",
            "lowerAscii",
            "quantity",
            "dyn",
            "url",
            "ip",
        ] {
            assert!(function_exists(name), "{name}");
        }
        assert!(!function_exists("lowerAcsii"));
    }
}
