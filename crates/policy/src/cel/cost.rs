//! A bound on the work of one evaluation, in place of the API server's runtime cost budget
//! (the `cel` crate has none and cannot be interrupted). CEL's only loops are comprehensions
//! over lists and maps, so an expression whose comprehensions nest `d` deep does at most about
//! `nodes × width^d` steps, where `width` is the longest list or map of the input. Before
//! evaluating an expression with nested comprehensions, that bound is compared with the
//! API server's budget of 10,000,000 per evaluation; past it the evaluation is an error, as
//! in the API server, instead of a scan that never ends.

use super::cel::Value;
use super::cel::common::ast::{EntryExpr, Expr, IdedExpr};

/// The API server's runtime cost budget for one evaluation.
pub(crate) const BUDGET: u128 = 10_000_000;

/// Shape of an expression: its size and how deep its comprehensions nest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Shape {
    pub nodes: u32,
    pub depth: u32,
}

/// The shape of an expression.
pub(crate) fn shape(expr: &IdedExpr) -> Shape {
    let mut nodes = 0;
    let depth = walk(expr, &mut nodes);
    Shape { nodes, depth }
}

fn walk(expr: &IdedExpr, nodes: &mut u32) -> u32 {
    *nodes = nodes.saturating_add(1);
    let deepest = |children: &mut dyn Iterator<Item = &IdedExpr>, nodes: &mut u32| {
        children.map(|c| walk(c, nodes)).max().unwrap_or(0)
    };
    match &expr.expr {
        Expr::Comprehension(c) => {
            let outside = deepest(&mut [&c.iter_range, &c.accu_init].into_iter(), nodes);
            let inside = deepest(
                &mut [&c.loop_cond, &c.loop_step, &c.result].into_iter(),
                nodes,
            );
            outside.max(inside.saturating_add(1))
        }
        Expr::Select(s) => walk(&s.operand, nodes),
        Expr::Call(call) => deepest(
            &mut call.target.iter().map(|t| &**t).chain(&call.args),
            nodes,
        ),
        Expr::List(list) => deepest(&mut list.elements.iter(), nodes),
        Expr::Map(map) => deepest(
            &mut map.entries.iter().flat_map(|entry| match &entry.expr {
                EntryExpr::MapEntry(e) => vec![&e.key, &e.value],
                EntryExpr::StructField(f) => vec![&f.value],
            }),
            nodes,
        ),
        Expr::Struct(s) => deepest(
            &mut s.entries.iter().filter_map(|entry| match &entry.expr {
                EntryExpr::StructField(f) => Some(&f.value),
                EntryExpr::MapEntry(_) => None,
            }),
            nodes,
        ),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => 0,
    }
}

/// The longest list or map anywhere in these values.
pub(crate) fn widest<'v>(values: impl IntoIterator<Item = &'v Value>) -> usize {
    let mut widest = 0;
    let mut pending: Vec<&Value> = values.into_iter().collect();
    while let Some(value) = pending.pop() {
        match value {
            Value::List(items) => {
                widest = widest.max(items.len());
                pending.extend(items.iter());
            }
            Value::Map(map) => {
                widest = widest.max(map.map.len());
                pending.extend(map.map.values());
            }
            _ => {}
        }
    }
    widest
}

/// Whether an expression of this shape may run over input this wide.
pub(crate) fn check(shape: Shape, widest: usize) -> Result<(), String> {
    if shape.depth < 2 {
        return Ok(()); // linear in the input
    }
    let width = (widest as u128).max(1);
    let steps = width
        .checked_pow(shape.depth)
        .and_then(|w| w.checked_mul(u128::from(shape.nodes)))
        .unwrap_or(u128::MAX);
    if steps > BUDGET {
        return Err(format!(
            "the expression's comprehensions nest {} deep over a list of {widest} items: up to {steps} steps, over the budget of {BUDGET} for one evaluation",
            shape.depth
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(source: &str) -> Shape {
        let ast = super::super::cel::parser::Parser::new()
            .parse(source)
            .unwrap();
        shape(&ast)
    }

    #[test]
    fn depth_counts_nesting_not_chains() {
        assert_eq!(parsed("object.a.size() > 1").depth, 0);
        assert_eq!(parsed("object.items.all(x, x > 1)").depth, 1);
        assert_eq!(
            parsed("object.items.filter(x, x > 1).map(x, x * 2).exists(x, x == 4)").depth,
            1
        );
        assert_eq!(
            parsed("object.items.all(x, object.items.exists(y, y == x))").depth,
            2
        );
        assert_eq!(
            parsed("object.a.all(x, object.a.all(y, object.a.all(z, x + y + z > 0)))").depth,
            3
        );
    }

    #[test]
    fn nested_comprehensions_over_wide_input_are_refused() {
        let deep = parsed("object.a.all(x, object.a.all(y, object.a.all(z, x + y + z > 0)))");
        assert!(check(deep, 10).is_ok());
        let err = check(deep, 1_000).unwrap_err();
        assert!(
            err.contains("nest 3 deep over a list of 1000 items"),
            "{err}"
        );
        assert!(check(parsed("object.a.all(x, x > 0)"), 1_000_000).is_ok());
    }

    #[test]
    fn widest_looks_inside_maps_and_lists() {
        let value = super::super::to_cel(&serde_json::json!({"a": {"b": [1, 2, 3, [4, 5, 6, 7]]}}));
        assert_eq!(widest([&value]), 4);
    }
}
