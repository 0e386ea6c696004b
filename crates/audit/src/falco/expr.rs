//! The compiled form of a condition and its evaluation: fields resolved to cache slots,
//! constants parsed, lists turned into sets, macros already inlined.

use super::fields::{Bytes, FieldRef, Values};
use super::ops::{self, PathSet, ValueSet};
use crate::Event;
use base64::Engine as _;
use std::borrow::Cow;

/// What a (transformed) field yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// Text (every `ka.*` and `jevt.*` field).
    Str,
    /// Raw bytes (what `b64()` decodes).
    Bytes,
    /// An unsigned number (what `len()` counts).
    Num,
}

/// A transformer applied to a field's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    ToLower,
    ToUpper,
    B64,
    Basename,
    Len,
}

/// A field, after its transformers.
#[derive(Debug, Clone)]
pub struct Operand {
    /// Index of the field in the per-event extraction cache.
    pub slot: usize,
    /// Applied innermost first.
    pub transforms: Box<[Transform]>,
    pub ty: Ty,
    pub list: bool,
}

/// A scalar comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    IContains,
    StartsWith,
    EndsWith,
    BContains,
    BStartsWith,
}

/// What a check does with the field's values.
#[derive(Debug, Clone)]
pub enum Test {
    Exists,
    /// Compare with a constant (already lower-cased for `icontains`).
    Cmp(Cmp, Vec<u8>),
    /// Compare numbers.
    NumCmp(Cmp, u64),
    Glob {
        pattern: Vec<u8>,
        icase: bool,
    },
    Regex(regex::bytes::Regex),
    /// `in`: every value of a list field (the one value otherwise) is in the set.
    In(ValueSet),
    /// `intersects`: some value is in the set.
    Intersects(ValueSet),
    NumIn(Vec<u64>),
    Pmatch(PathSet),
    /// Compare with another field's values (`val(...)` or a transformer on the right).
    Field(FieldOp, Operand),
}

/// The operator of a field-to-field comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOp {
    Cmp(Cmp),
    In,
    Intersects,
    Glob { icase: bool },
}

/// One `field op value` check.
#[derive(Debug, Clone)]
pub struct Check {
    pub lhs: Operand,
    pub test: Test,
}

/// A compiled condition.
#[derive(Debug, Clone)]
pub enum Expr {
    And(Box<[Expr]>),
    Or(Box<[Expr]>),
    Not(Box<Expr>),
    Check(Box<Check>),
    /// A macro: many rules share it, so its result is kept per event in this memo slot.
    Memo(usize, Box<Expr>),
}

/// One event being evaluated: each field is extracted at most once, however many rules read it.
pub struct Ctx<'r, 'e> {
    event: &'e Event,
    fields: &'r [FieldRef],
    cache: Vec<Option<Values<'e>>>,
    /// Macro results for this event: 0 not evaluated yet, 1 false, 2 true.
    memo: Vec<u8>,
}

impl<'r, 'e> Ctx<'r, 'e> {
    /// A context for `event` over the fields of a rule set.
    pub fn new(event: &'e Event, fields: &'r [FieldRef], memos: usize) -> Ctx<'r, 'e> {
        let mut cache = Vec::new();
        cache.resize_with(fields.len(), || None);
        Ctx {
            event,
            fields,
            cache,
            memo: vec![0; memos],
        }
    }

    fn fill(&mut self, slot: usize) {
        if let Some(entry @ None) = self.cache.get_mut(slot) {
            *entry = Some(
                self.fields
                    .get(slot)
                    .map_or(Values::None, |f| f.extract(self.event)),
            );
        }
    }

    fn peek(&self, slot: usize) -> &Values<'e> {
        static NONE: Values<'static> = Values::None;
        self.cache
            .get(slot)
            .and_then(Option::as_ref)
            .unwrap_or(&NONE)
    }

    /// The values of an operand (transformed if it has transformers).
    pub fn operand(&mut self, operand: &Operand) -> Cow<'_, Values<'e>> {
        self.fill(operand.slot);
        resolve(self.peek(operand.slot), operand)
    }
}

fn resolve<'a, 'e>(raw: &'a Values<'e>, operand: &Operand) -> Cow<'a, Values<'e>> {
    if operand.transforms.is_empty() {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(apply(raw.clone(), &operand.transforms))
    }
}

fn apply<'e>(mut values: Values<'e>, transforms: &[Transform]) -> Values<'e> {
    for t in transforms {
        values = match (t, values) {
            (_, Values::None) => return Values::None,
            (Transform::Len, Values::Many(v)) => number(v.len()),
            (Transform::Len, Values::One(v)) => number(v.len()),
            (t, Values::One(v)) => match map_one(*t, v) {
                Some(v) => Values::One(v),
                None => return Values::None,
            },
            (t, Values::Many(v)) => {
                match v
                    .into_iter()
                    .map(|x| map_one(*t, x))
                    .collect::<Option<Vec<_>>>()
                {
                    Some(v) => Values::list(v),
                    None => return Values::None,
                }
            }
        };
    }
    values
}

fn number<'e>(n: usize) -> Values<'e> {
    Values::One(Cow::Owned(n.to_string().into_bytes()))
}

fn map_one(t: Transform, v: Bytes<'_>) -> Option<Bytes<'_>> {
    Some(match t {
        Transform::ToLower => Cow::Owned(v.to_ascii_lowercase()),
        Transform::ToUpper => Cow::Owned(v.to_ascii_uppercase()),
        Transform::B64 => Cow::Owned(base64::engine::general_purpose::STANDARD.decode(&v).ok()?),
        Transform::Basename => {
            let start = v.iter().rposition(|b| *b == b'/').map_or(0, |i| i + 1);
            match v {
                Cow::Borrowed(b) => Cow::Borrowed(b.get(start..).unwrap_or_default()),
                Cow::Owned(b) => Cow::Owned(b.get(start..).unwrap_or_default().to_vec()),
            }
        }
        Transform::Len => Cow::Owned(v.len().to_string().into_bytes()),
    })
}

impl Expr {
    /// Whether the event satisfies the condition.
    pub fn eval(&self, ctx: &mut Ctx<'_, '_>) -> bool {
        match self {
            Expr::And(children) => children.iter().all(|c| c.eval(ctx)),
            Expr::Or(children) => children.iter().any(|c| c.eval(ctx)),
            Expr::Not(child) => !child.eval(ctx),
            Expr::Check(check) => check.eval(ctx),
            Expr::Memo(slot, child) => match ctx.memo.get(*slot) {
                Some(1) => false,
                Some(2) => true,
                _ => {
                    let result = child.eval(ctx);
                    if let Some(memo) = ctx.memo.get_mut(*slot) {
                        *memo = 1 + u8::from(result);
                    }
                    result
                }
            },
        }
    }
}

impl Check {
    fn eval(&self, ctx: &mut Ctx<'_, '_>) -> bool {
        if let Test::Field(op, rhs) = &self.test {
            ctx.fill(self.lhs.slot);
            ctx.fill(rhs.slot);
            let left = resolve(ctx.peek(self.lhs.slot), &self.lhs);
            let right = resolve(ctx.peek(rhs.slot), rhs);
            return field_test(&left, self.lhs.list, *op, &right, self.lhs.ty);
        }
        let values = ctx.operand(&self.lhs);
        let values = values.as_slice();
        if values.is_empty() {
            return false;
        }
        if self.lhs.list {
            return match &self.test {
                Test::Exists => true,
                Test::In(set) => values.iter().all(|v| set.contains(v)),
                Test::Intersects(set) => values.iter().any(|v| set.contains(v)),
                // The compiler allows nothing else on list fields.
                _ => false,
            };
        }
        let Some(v) = values.first() else {
            return false;
        };
        match &self.test {
            Test::Exists => true,
            Test::Cmp(op, rhs) => compare(*op, v, rhs),
            Test::NumCmp(op, rhs) => parse_num(v).is_some_and(|n| compare_num(*op, n, *rhs)),
            Test::Glob { pattern, icase } => ops::glob(pattern, v, *icase),
            Test::Regex(re) => re.is_match(v),
            Test::In(set) | Test::Intersects(set) => set.contains(v),
            Test::NumIn(set) => parse_num(v).is_some_and(|n| set.contains(&n)),
            Test::Pmatch(paths) => paths.matches(v),
            Test::Field(..) => false,
        }
    }
}

fn field_test(left: &Values<'_>, list: bool, op: FieldOp, right: &Values<'_>, ty: Ty) -> bool {
    let (l, r) = (left.as_slice(), right.as_slice());
    if l.is_empty() || r.is_empty() {
        return false;
    }
    let member = |v: &[u8]| r.iter().any(|x| x.as_ref() == v);
    match op {
        FieldOp::In if list => l.iter().all(|v| member(v)),
        FieldOp::Intersects if list => l.iter().any(|v| member(v)),
        FieldOp::In | FieldOp::Intersects => l.first().is_some_and(|v| member(v)),
        FieldOp::Cmp(cmp) => match (l.first(), r.first()) {
            (Some(a), Some(b)) if ty == Ty::Num => match (parse_num(a), parse_num(b)) {
                (Some(a), Some(b)) => compare_num(cmp, a, b),
                _ => false,
            },
            (Some(a), Some(b)) => compare(cmp, a, b),
            _ => false,
        },
        FieldOp::Glob { icase } => match (l.first(), r.first()) {
            (Some(a), Some(b)) => ops::glob(b, a, icase),
            _ => false,
        },
    }
}

/// One scalar comparison, with C-string (`strcmp`) ordering.
pub fn compare(op: Cmp, v: &[u8], rhs: &[u8]) -> bool {
    match op {
        Cmp::Eq => v == rhs,
        Cmp::Ne => v != rhs,
        Cmp::Lt => v < rhs,
        Cmp::Le => v <= rhs,
        Cmp::Gt => v > rhs,
        Cmp::Ge => v >= rhs,
        Cmp::Contains | Cmp::BContains => ops::contains(v, rhs),
        Cmp::IContains => ops::icontains(v, rhs),
        Cmp::StartsWith | Cmp::BStartsWith => v.starts_with(rhs),
        Cmp::EndsWith => v.ends_with(rhs),
    }
}

fn compare_num(op: Cmp, a: u64, b: u64) -> bool {
    match op {
        Cmp::Eq => a == b,
        Cmp::Ne => a != b,
        Cmp::Lt => a < b,
        Cmp::Le => a <= b,
        Cmp::Gt => a > b,
        Cmp::Ge => a >= b,
        _ => false,
    }
}

/// A decimal or `0x` hexadecimal unsigned number.
pub fn parse_num(v: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(v).ok()?;
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}
