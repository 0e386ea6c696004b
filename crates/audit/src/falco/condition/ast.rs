//! The parsed form of a condition, before macros, lists and fields are resolved.

/// A boolean expression; `pos` is the byte offset in the condition text.
#[derive(Debug, Clone, PartialEq)]
pub enum Ast {
    /// All children hold.
    And(Vec<Ast>),
    /// Any child holds.
    Or(Vec<Ast>),
    /// The child does not hold.
    Not(Box<Ast>),
    /// A bare identifier: a macro reference.
    Macro { name: String, pos: usize },
    /// `lhs exists`.
    Exists { lhs: Operand, pos: usize },
    /// `lhs op rhs`.
    Compare {
        lhs: Operand,
        op: String,
        rhs: Rhs,
        pos: usize,
    },
}

/// A field, possibly inside transformers.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// `name` or `name[arg]`.
    Field {
        name: String,
        arg: Option<String>,
        pos: usize,
    },
    /// `tolower(...)`, `val(...)` and the like.
    Transform {
        name: String,
        args: Vec<Operand>,
        pos: usize,
    },
}

/// One element of a `( ... )` list: its text, and whether it was bare (a bare element may
/// name a list).
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub text: String,
    pub bare: bool,
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Rhs {
    /// A quoted or bare string, or a number, as written (quotes removed).
    Value(String),
    /// `( a, b, ... )`.
    List(Vec<Item>),
    /// A bare identifier after a list operator: the name of a list.
    ListName(String),
    /// A field or transformer (`val(field)`, `tolower(field)`).
    Operand(Operand),
}
