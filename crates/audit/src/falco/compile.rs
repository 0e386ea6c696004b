//! Parsed conditions to [`Expr`]: macros inlined (recursion is an error), lists expanded into
//! sets, fields resolved to cache slots, constants parsed once.

use super::condition::{self, Ast, Item, Operand as AstOperand, Rhs};
use super::diag::{Diagnostic, Loc};
use super::expr::{Check, Cmp, Expr, FieldOp, Operand, Test, Transform, Ty};
use super::fields::FieldRef;
use super::ops::{self, PathSet, ValueSet};
use std::collections::{HashMap, HashSet};

/// A condition text and where it was read, for error positions.
#[derive(Debug, Clone)]
pub struct Source {
    pub loc: Loc,
    pub text: String,
    /// Bytes added before the written condition (the `(` of an exceptions expansion).
    pub offset: usize,
    /// Added to node positions: where the parsed text starts inside `text` (output tokens).
    pub base: usize,
}

impl Source {
    /// An error at byte `pos` of the compiled text.
    pub fn error_at(&self, pos: usize, message: impl Into<String>) -> Diagnostic {
        let message = message.into();
        let pos = pos + self.base;
        let written = pos
            .checked_sub(self.offset)
            .filter(|p| *p <= self.written_len());
        match written {
            Some(p) => self
                .loc
                .diag_at(condition::column(self.written(), p), message),
            None => self.loc.diag(format!(
                "in the condition built from the exceptions: {message}"
            )),
        }
    }

    fn written_len(&self) -> usize {
        self.written().len()
    }

    fn written(&self) -> &str {
        let end = if self.offset > 0 {
            self.text
                .find(") and not ")
                .unwrap_or(self.text.len())
                .max(self.offset)
        } else {
            self.text.len()
        };
        self.text.get(self.offset..end).unwrap_or(&self.text)
    }
}

/// A macro, parsed.
#[derive(Debug)]
pub struct MacroDef {
    pub source: Source,
    pub ast: Result<Ast, Diagnostic>,
}

/// Why a condition did not compile.
#[derive(Debug, Clone)]
pub enum Fail {
    /// A problem in the condition itself.
    Here(Diagnostic),
    /// A problem in a macro it uses (reported at the macro).
    Macro(String, Diagnostic),
}

/// Compiles conditions against one set of lists and macros, sharing field slots.
pub struct Compiler<'a> {
    lists: &'a HashMap<String, Vec<String>>,
    macros: &'a HashMap<String, MacroDef>,
    compiled: HashMap<String, Result<Expr, Fail>>,
    stack: Vec<String>,
    /// Every field read, indexed by slot.
    pub fields: Vec<FieldRef>,
    slots: HashMap<FieldRef, usize>,
    /// Macros that some compiled condition uses.
    pub used_macros: HashSet<String>,
    /// Memo slots given to macros (see `Expr::Memo`).
    pub memos: usize,
}

impl<'a> Compiler<'a> {
    /// A compiler over these lists and macros.
    pub fn new(
        lists: &'a HashMap<String, Vec<String>>,
        macros: &'a HashMap<String, MacroDef>,
    ) -> Compiler<'a> {
        Compiler {
            lists,
            macros,
            compiled: HashMap::new(),
            stack: Vec::new(),
            fields: Vec::new(),
            slots: HashMap::new(),
            used_macros: HashSet::new(),
            memos: 0,
        }
    }

    /// Compiles a parsed condition read from `source`.
    pub fn compile(&mut self, ast: &Ast, source: &Source) -> Result<Expr, Fail> {
        match ast {
            Ast::And(children) => Ok(Expr::And(self.all(children, source)?)),
            Ast::Or(children) => Ok(Expr::Or(self.all(children, source)?)),
            Ast::Not(child) => Ok(Expr::Not(Box::new(self.compile(child, source)?))),
            Ast::Macro { name, pos } => self.macro_ref(name, *pos, source),
            Ast::Exists { lhs, .. } => {
                let lhs = self.operand(lhs, source, false)?;
                Ok(check(lhs, Test::Exists))
            }
            Ast::Compare { lhs, op, rhs, pos } => self.compare(lhs, op, rhs, *pos, source),
        }
    }

    fn all(&mut self, children: &[Ast], source: &Source) -> Result<Box<[Expr]>, Fail> {
        children.iter().map(|c| self.compile(c, source)).collect()
    }

    fn macro_ref(&mut self, name: &str, pos: usize, source: &Source) -> Result<Expr, Fail> {
        let Some(def) = self.macros.get(name) else {
            return Err(Fail::Here(source.error_at(
                pos,
                format!("Undefined macro '{name}' used in filter."),
            )));
        };
        self.used_macros.insert(name.to_string());
        if let Some(done) = self.compiled.get(name) {
            return done.clone();
        }
        if let Some(start) = self.stack.iter().position(|m| m == name) {
            let mut cycle: Vec<&str> = self.stack.iter().skip(start).map(String::as_str).collect();
            cycle.push(name);
            let diag = def.source.loc.diag(format!(
                "macro '{name}' is recursive: {}",
                cycle.join(" -> ")
            ));
            return Err(Fail::Macro(name.to_string(), diag));
        }
        let result = match &def.ast {
            Err(diag) => Err(Fail::Macro(name.to_string(), diag.clone())),
            Ok(ast) => {
                self.stack.push(name.to_string());
                let compiled = self.compile(ast, &def.source);
                self.stack.pop();
                let slot = self.memos;
                compiled
                    .map(|expr| {
                        // Evaluated once per event, however many rules use it.
                        self.memos += 1;
                        Expr::Memo(slot, Box::new(expr))
                    })
                    .map_err(|fail| match fail {
                        Fail::Here(diag) => Fail::Macro(name.to_string(), diag),
                        inner @ Fail::Macro(..) => inner,
                    })
            }
        };
        // A macro inside a cycle is only cached once the cycle's head has finished.
        if self.stack.is_empty() || result.is_ok() {
            self.compiled.insert(name.to_string(), result.clone());
        }
        result
    }

    fn slot(&mut self, field: FieldRef) -> usize {
        if let Some(slot) = self.slots.get(&field) {
            return *slot;
        }
        let slot = self.fields.len();
        self.fields.push(field.clone());
        self.slots.insert(field, slot);
        slot
    }

    /// Resolves a (possibly transformed) field; `rhs` allows `val()`.
    pub fn operand(
        &mut self,
        ast: &AstOperand,
        source: &Source,
        rhs: bool,
    ) -> Result<Operand, Fail> {
        let here = |pos: usize, message: String| Fail::Here(source.error_at(pos, message));
        match ast {
            AstOperand::Field { name, arg, pos } => {
                let field = FieldRef::resolve(name, arg.as_deref()).map_err(|m| here(*pos, m))?;
                let list = field.is_list();
                Ok(Operand {
                    slot: self.slot(field),
                    transforms: Box::new([]),
                    ty: Ty::Str,
                    list,
                })
            }
            AstOperand::Transform { name, args, pos } => {
                let [inner] = args.as_slice() else {
                    return Err(here(
                        *pos,
                        format!("transformer '{name}' takes exactly one field"),
                    ));
                };
                if name == "val" {
                    if !rhs {
                        return Err(here(
                            *pos,
                            "'val' is only allowed on the right of an operator".into(),
                        ));
                    }
                    return self.operand(inner, source, rhs);
                }
                let mut operand = self.operand(inner, source, rhs)?;
                let (t, ty, list) = match (name.as_str(), operand.ty) {
                    ("tolower", Ty::Str) => (Transform::ToLower, Ty::Str, operand.list),
                    ("toupper", Ty::Str) => (Transform::ToUpper, Ty::Str, operand.list),
                    ("b64", Ty::Str) => (Transform::B64, Ty::Bytes, operand.list),
                    ("basename", Ty::Str) => (Transform::Basename, Ty::Str, operand.list),
                    ("len", Ty::Str | Ty::Bytes) => (Transform::Len, Ty::Num, false),
                    ("tolower" | "toupper" | "b64" | "basename" | "len", ty) => {
                        return Err(here(
                            *pos,
                            format!(
                                "transformer '{name}' does not apply to a {} value",
                                ty_name(ty)
                            ),
                        ));
                    }
                    (other, _) => {
                        return Err(here(
                            *pos,
                            format!(
                                "transformer '{other}' is not supported (supported: tolower, toupper, b64, basename, len, val)"
                            ),
                        ));
                    }
                };
                let mut transforms = operand.transforms.into_vec();
                transforms.push(t);
                operand.transforms = transforms.into_boxed_slice();
                operand.ty = ty;
                operand.list = list;
                Ok(operand)
            }
        }
    }

    fn compare(
        &mut self,
        lhs: &AstOperand,
        op: &str,
        rhs: &Rhs,
        pos: usize,
        source: &Source,
    ) -> Result<Expr, Fail> {
        let err = |message: String| Fail::Here(source.error_at(pos, message));
        let lhs = self.operand(lhs, source, false)?;
        allowed(op, &lhs, self.field_name(&lhs)).map_err(err)?;
        let test = match rhs {
            Rhs::Operand(r) => {
                let right = self.operand(r, source, true)?;
                if right.ty != lhs.ty
                    || (right.list != lhs.list && !matches!(op, "in" | "intersects"))
                {
                    return Err(err(format!(
                        "'{op}' compares a {} with a {}",
                        ty_name(lhs.ty),
                        ty_name(right.ty)
                    )));
                }
                let field_op = match op {
                    "in" => FieldOp::In,
                    "intersects" => FieldOp::Intersects,
                    "glob" => FieldOp::Glob { icase: false },
                    "iglob" => FieldOp::Glob { icase: true },
                    other => FieldOp::Cmp(
                        cmp_of(other)
                            .ok_or_else(|| err(format!("'{other}' cannot compare two fields")))?,
                    ),
                };
                Test::Field(field_op, right)
            }
            Rhs::Value(value) => scalar_test(op, value, lhs.ty).map_err(err)?,
            Rhs::List(items) => {
                let values = self.expand(items);
                list_test(op, values, lhs.ty).map_err(err)?
            }
            Rhs::ListName(name) => {
                let values = self
                    .lists
                    .get(name)
                    .cloned()
                    .ok_or_else(|| err(format!("unknown list '{name}'")))?;
                list_test(op, values.into_iter().map(unquote).collect(), lhs.ty).map_err(err)?
            }
        };
        Ok(check(lhs, test))
    }

    fn field_name(&self, operand: &Operand) -> &'static str {
        self.fields.get(operand.slot).map_or("", FieldRef::name)
    }

    /// The values of a `( ... )` list, bare names of lists replaced by their items.
    fn expand(&self, items: &[Item]) -> Vec<String> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match self.lists.get(&item.text).filter(|_| item.bare) {
                Some(list) => out.extend(list.iter().cloned().map(unquote)),
                None => out.push(item.text.clone()),
            }
        }
        out
    }
}

fn check(lhs: Operand, test: Test) -> Expr {
    Expr::Check(Box::new(Check { lhs, test }))
}

fn ty_name(ty: Ty) -> &'static str {
    match ty {
        Ty::Str => "string",
        Ty::Bytes => "byte buffer",
        Ty::Num => "number",
    }
}

/// A list item as Falco's textual substitution would read it: a quoted item loses its quotes.
fn unquote(item: String) -> String {
    let quoted = item.len() >= 2
        && ((item.starts_with('"') && item.ends_with('"'))
            || (item.starts_with('\'') && item.ends_with('\'')));
    if !quoted {
        return item;
    }
    match condition::parse(&format!("a.b = {item}")) {
        Ok(Ast::Compare {
            rhs: Rhs::Value(v), ..
        }) => v,
        _ => item,
    }
}

/// The operators each kind of value accepts, as libsinsp's `flt_is_comparable_*`.
fn allowed(op: &str, lhs: &Operand, name: &str) -> Result<(), String> {
    if lhs.list {
        return match op {
            "in" | "intersects" => Ok(()),
            _ => Err(format!(
                "list filter '{name}' only supports operators 'exists', 'in' and 'intersects'"
            )),
        };
    }
    let ok = match lhs.ty {
        Ty::Str => !matches!(op, "bcontains" | "bstartswith"),
        Ty::Bytes => matches!(
            op,
            "=" | "=="
                | "!="
                | "contains"
                | "in"
                | "startswith"
                | "endswith"
                | "intersects"
                | "bcontains"
                | "bstartswith"
        ),
        Ty::Num => matches!(
            op,
            "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "intersects"
        ),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{op}' operator not supported for {} filters",
            ty_name(lhs.ty)
        ))
    }
}

fn cmp_of(op: &str) -> Option<Cmp> {
    Some(match op {
        "=" | "==" => Cmp::Eq,
        "!=" => Cmp::Ne,
        "<" => Cmp::Lt,
        "<=" => Cmp::Le,
        ">" => Cmp::Gt,
        ">=" => Cmp::Ge,
        "contains" => Cmp::Contains,
        "icontains" => Cmp::IContains,
        "startswith" => Cmp::StartsWith,
        "endswith" => Cmp::EndsWith,
        "bcontains" => Cmp::BContains,
        "bstartswith" => Cmp::BStartsWith,
        _ => return None,
    })
}

fn number(value: &str) -> Result<u64, String> {
    super::expr::parse_num(value.as_bytes()).ok_or_else(|| format!("'{value}' is not a number"))
}

fn scalar_test(op: &str, value: &str, ty: Ty) -> Result<Test, String> {
    match op {
        "glob" | "iglob" => Ok(Test::Glob {
            pattern: value.as_bytes().to_vec(),
            icase: op == "iglob",
        }),
        "regex" => regex::bytes::Regex::new(&format!("^(?:{value})$"))
            .map(Test::Regex)
            .map_err(|e| format!("invalid regex '{value}': {e}")),
        _ => {
            let cmp = cmp_of(op).ok_or_else(|| format!("'{op}' needs a list"))?;
            if ty == Ty::Num {
                return Ok(Test::NumCmp(cmp, number(value)?));
            }
            let constant = match cmp {
                Cmp::BContains | Cmp::BStartsWith => ops::hex(value)?,
                Cmp::IContains => value.to_ascii_lowercase().into_bytes(),
                _ => value.as_bytes().to_vec(),
            };
            Ok(Test::Cmp(cmp, constant))
        }
    }
}

fn list_test(op: &str, values: Vec<String>, ty: Ty) -> Result<Test, String> {
    if ty == Ty::Num {
        let numbers = values
            .iter()
            .map(|v| number(v))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Test::NumIn(numbers));
    }
    let bytes: Vec<Vec<u8>> = values.into_iter().map(String::into_bytes).collect();
    Ok(match op {
        "in" => Test::In(ValueSet::new(bytes)),
        "intersects" => Test::Intersects(ValueSet::new(bytes)),
        "pmatch" => Test::Pmatch(PathSet::new(&bytes)),
        other => return Err(format!("'{other}' does not take a list")),
    })
}
