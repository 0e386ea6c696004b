//! A port of the libsinsp filter parser: the same tokens, the same precedence (`not` over
//! `and` over `or`), the same error messages, and positions for every node.

use super::ast::{Ast, Item, Operand, Rhs};

/// Nesting deeper than this is an error. Falco allows 1000 grammar levels; each parenthesis
/// costs five, and 500 (about 100 nested parentheses) keeps hostile input far from the end
/// of a thread's stack, in the parser and in the recursive compiler and evaluator after it.
pub const MAX_DEPTH: u32 = 500;

const UNARY_OPS: &[&str] = &["exists"];
const NUM_OPS: &[&str] = &["<=", "<", ">=", ">"];
// A trailing blank means the operator must be followed by a blank.
const STR_OPS: &[&str] = &[
    "==",
    "=",
    "!=",
    "glob ",
    "iglob ",
    "contains ",
    "icontains ",
    "bcontains ",
    "startswith ",
    "bstartswith ",
    "endswith ",
    "regex ",
];
const STR_MODIFIERS: &[&str] = &["oneof ", "anyof ", "allof "];
const LIST_OPS: &[&str] = &["intersects", "in", "pmatch"];
const TRANSFORMER_VAL: &str = "val(";
const TRANSFORMERS: &[&str] = &[
    "tolower(",
    "toupper(",
    "b64(",
    "basename(",
    "len(",
    "join(",
    "concat(",
    "getopt(",
];

/// A syntax error: the message and the byte offset where parsing stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub pos: usize,
}

type Result<T> = std::result::Result<T, SyntaxError>;

/// Parses a whole condition.
pub fn parse(text: &str) -> Result<Ast> {
    let mut p = Parser::new(text);
    if text.is_empty() {
        return Err(p.error("filter input string is empty"));
    }
    let ast = p.parse_or()?;
    if p.pos != p.input.len() {
        return Err(p.error(format!(
            "unexpected token after '{}', expecting 'or', 'and'",
            p.last
        )));
    }
    Ok(ast)
}

/// Parses a field or transformer at the start of `text` (output formats), returning it and
/// the bytes it used.
pub fn parse_operand_prefix(text: &str) -> Result<(Operand, usize)> {
    let mut p = Parser::new(text);
    let operand = p.parse_field_or_transformer()?;
    Ok((operand, p.pos))
}

struct Parser<'a> {
    input: &'a [u8],
    text: &'a str,
    pos: usize,
    last: String,
    depth: u32,
}

struct Depth;

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Parser<'a> {
        Parser {
            input: text.as_bytes(),
            text,
            pos: 0,
            last: String::new(),
            depth: 0,
        }
    }

    fn error(&self, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            message: message.into(),
            pos: self.pos,
        }
    }

    fn enter(&mut self) -> Result<Depth> {
        self.depth += 1;
        if self.depth >= MAX_DEPTH {
            return Err(self.error(format!("exceeded max depth limit of {MAX_DEPTH}")));
        }
        Ok(Depth)
    }

    fn leave(&mut self, _guard: Depth) {
        self.depth -= 1;
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn rest(&self) -> &'a [u8] {
        self.input.get(self.pos..).unwrap_or_default()
    }

    fn slice(&self, from: usize, to: usize) -> String {
        self.text.get(from..to).unwrap_or_default().to_string()
    }

    // --- grammar -----------------------------------------------------------------------

    fn parse_or(&mut self) -> Result<Ast> {
        let guard = self.enter()?;
        self.lex_blank();
        let mut children = vec![self.parse_and()?];
        self.lex_blank();
        while self.lex_str("or") {
            let child = if !self.lex_blank() {
                if self.lex_str("(") {
                    self.parse_embedded_remainder()?
                } else {
                    return Err(self.error("expected blank or '(' after 'or'"));
                }
            } else {
                self.parse_and()?
            };
            children.push(child);
            self.lex_blank();
        }
        self.leave(guard);
        Ok(collapse(children, Ast::Or))
    }

    fn parse_and(&mut self) -> Result<Ast> {
        let guard = self.enter()?;
        self.lex_blank();
        let mut children = vec![self.parse_not()?];
        self.lex_blank();
        while self.lex_str("and") {
            let child = if !self.lex_blank() {
                if self.lex_str("(") {
                    self.parse_embedded_remainder()?
                } else {
                    return Err(self.error("expected blank or '(' after 'and'"));
                }
            } else {
                self.parse_not()?
            };
            children.push(child);
            self.lex_blank();
        }
        self.leave(guard);
        Ok(collapse(children, Ast::And))
    }

    fn parse_not(&mut self) -> Result<Ast> {
        let guard = self.enter()?;
        self.lex_blank();
        let mut negate = false;
        while self.lex_not_blank() {
            negate = !negate;
        }
        let child = if self.lex_str("not(") {
            negate = !negate;
            self.parse_embedded_remainder()?
        } else {
            self.parse_check()?
        };
        self.leave(guard);
        Ok(if negate {
            Ast::Not(Box::new(child))
        } else {
            child
        })
    }

    fn parse_embedded_remainder(&mut self) -> Result<Ast> {
        let guard = self.enter()?;
        self.lex_blank();
        let child = self.parse_or()?;
        self.lex_blank();
        if !self.lex_str(")") {
            return Err(self.error("expected a ')' token"));
        }
        self.leave(guard);
        Ok(child)
    }

    fn parse_check(&mut self) -> Result<Ast> {
        let guard = self.enter()?;
        self.lex_blank();
        let pos = self.pos;
        let result = if self.lex_str("(") {
            self.parse_embedded_remainder()?
        } else if self.lex_field_name() {
            let name = self.last.clone();
            let left = self.parse_field_remainder(name, pos)?;
            self.parse_condition(left, pos)?
        } else if self.lex_transformer() {
            self.lex_blank();
            let name = self.last.trim_end_matches('(').to_string();
            let left = self.parse_transformer_remainder(name, pos)?;
            self.parse_condition(left, pos)?
        } else if self.lex_identifier() {
            Ast::Macro {
                name: self.last.clone(),
                pos,
            }
        } else {
            return Err(self.error("expected a '(' token, a field check, or an identifier"));
        };
        self.leave(guard);
        Ok(result)
    }

    fn parse_field_or_transformer(&mut self) -> Result<Operand> {
        let guard = self.enter()?;
        let pos = self.pos;
        let result = if self.lex_field_name() {
            let name = self.last.clone();
            self.parse_field_remainder(name, pos)?
        } else if self.lex_transformer() {
            self.lex_blank();
            let name = self.last.trim_end_matches('(').to_string();
            self.parse_transformer_remainder(name, pos)?
        } else {
            return Err(self.error(format!("unexpected token after '{}'", self.last)));
        };
        self.leave(guard);
        Ok(result)
    }

    fn parse_field_remainder(&mut self, name: String, pos: usize) -> Result<Operand> {
        let arg = self.parse_optional_field_arg()?;
        Ok(Operand::Field { name, arg, pos })
    }

    fn parse_optional_field_arg(&mut self) -> Result<Option<String>> {
        if !self.lex_str("[") {
            return Ok(None);
        }
        if !self.lex_quoted_str()? && !self.lex_field_arg_bare_str() {
            return Err(
                self.error("expected a valid field argument: a quoted string or a bare string")
            );
        }
        let arg = self.last.clone();
        if !self.lex_str("]") {
            return Err(self.error("expected a ']' token"));
        }
        Ok(Some(arg))
    }

    fn parse_transformer_remainder(&mut self, name: String, pos: usize) -> Result<Operand> {
        let guard = self.enter()?;
        self.lex_blank();
        let mut args = Vec::new();
        loop {
            args.push(self.parse_transformer_arg()?);
            self.lex_blank();
            if !self.lex_str(",") {
                break;
            }
        }
        self.lex_blank();
        if !self.lex_str(")") {
            return Err(self.error("expected a ')' token closing the transformer"));
        }
        // A `[arg]` after a transformer is accepted by the grammar; no supported
        // transformer takes one, so the compiler rejects it.
        if self.parse_optional_field_arg()?.is_some() {
            return Err(self.error(format!("transformer '{name}' does not take an argument")));
        }
        self.leave(guard);
        Ok(Operand::Transform { name, args, pos })
    }

    fn parse_transformer_arg(&mut self) -> Result<Operand> {
        let guard = self.enter()?;
        self.lex_blank();
        let pos = self.pos;
        let result = if self.lex_transformer() {
            let name = self.last.trim_end_matches('(').to_string();
            self.parse_transformer_remainder(name, pos)?
        } else if self.lex_field_name() {
            let name = self.last.clone();
            self.parse_field_remainder(name, pos)?
        } else {
            // Literal and list arguments belong to join/concat/getopt, which are not supported.
            return Err(self.error("expected field transformer argument: field or transformer"));
        };
        self.leave(guard);
        Ok(result)
    }

    fn parse_condition(&mut self, left: Operand, pos: usize) -> Result<Ast> {
        let guard = self.enter()?;
        self.lex_blank();
        if self.lex_op_list(UNARY_OPS) {
            self.leave(guard);
            return Ok(Ast::Exists { lhs: left, pos });
        }
        self.lex_blank();
        let (op, rhs) = if self.lex_op_list(NUM_OPS) {
            let op = self.last.clone();
            (op, self.parse_num_value_or_transformer()?)
        } else if self.lex_op_list(STR_OPS) {
            let op = self.last.trim().to_string();
            let had_blank =
                op.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) || self.lex_blank();
            let saved = self.pos;
            if had_blank && self.lex_op_list(STR_MODIFIERS) {
                let modifier = self.last.trim().to_string();
                if self.list_value_follows() && !self.bool_keyword_follows() {
                    return Err(SyntaxError {
                        message: format!(
                            "operator modifier '{op} {modifier}' is not supported; write one comparison per value joined with 'or'/'and'"
                        ),
                        pos: saved,
                    });
                }
            }
            self.pos = saved;
            (op, self.parse_str_value_or_transformer(false)?)
        } else if self.lex_op_list(LIST_OPS) {
            let op = self.last.clone();
            (op, self.parse_list_value_or_transformer()?)
        } else {
            return Err(self.error(
                "expected a valid check operator: one of 'exists', '<=', '<', '>=', '>', '==', '=', '!=', 'glob', 'iglob', 'contains', 'icontains', 'bcontains', 'startswith', 'bstartswith', 'endswith', 'regex', 'intersects', 'in', 'pmatch'",
            ));
        };
        self.leave(guard);
        Ok(Ast::Compare {
            lhs: left,
            op,
            rhs,
            pos,
        })
    }

    fn parse_num_value_or_transformer(&mut self) -> Result<Rhs> {
        let guard = self.enter()?;
        self.lex_blank();
        if let Some(operand) = self.try_parse_transformer_or_val()? {
            self.leave(guard);
            return Ok(Rhs::Operand(operand));
        }
        if self.lex_hex_num() || self.lex_num() {
            self.leave(guard);
            return Ok(Rhs::Value(self.last.clone()));
        }
        Err(self.error(
            "expected a number value or a field with a valid transformer: 'val', 'tolower', 'toupper', 'b64', 'basename', 'len'",
        ))
    }

    fn parse_str_value_or_transformer(&mut self, no_transformer: bool) -> Result<Rhs> {
        let guard = self.enter()?;
        self.lex_blank();
        if !no_transformer && let Some(operand) = self.try_parse_transformer_or_val()? {
            self.leave(guard);
            return Ok(Rhs::Operand(operand));
        }
        if self.lex_quoted_str()? || self.lex_bare_str() {
            self.leave(guard);
            return Ok(Rhs::Value(self.last.clone()));
        }
        if no_transformer {
            return Err(self.error("expected a string value"));
        }
        Err(self.error(
            "expected a string value or a field with a valid transformer: 'val', 'tolower', 'toupper', 'b64', 'basename', 'len'",
        ))
    }

    /// One list element, remembering whether it was bare.
    fn parse_list_item(&mut self) -> Result<Option<Item>> {
        self.lex_blank();
        if self.lex_quoted_str()? {
            return Ok(Some(Item {
                text: self.last.clone(),
                bare: false,
            }));
        }
        if self.lex_bare_str() {
            return Ok(Some(Item {
                text: self.last.clone(),
                bare: true,
            }));
        }
        Ok(None)
    }

    fn try_parse_list(&mut self) -> Result<Option<Rhs>> {
        if !self.lex_str("(") {
            return Ok(None);
        }
        let mut items = Vec::new();
        self.lex_blank();
        if let Some(first) = self.parse_list_item()? {
            items.push(first);
            self.lex_blank();
            while self.lex_str(",") {
                match self.parse_list_item()? {
                    Some(item) => items.push(item),
                    None => return Err(self.error("expected a string value")),
                }
                self.lex_blank();
            }
        }
        if !self.lex_str(")") {
            return Err(self.error("expected a ')' token"));
        }
        Ok(Some(Rhs::List(items)))
    }

    fn parse_list_value_or_transformer(&mut self) -> Result<Rhs> {
        let guard = self.enter()?;
        self.lex_blank();
        if let Some(list) = self.try_parse_list()? {
            self.leave(guard);
            return Ok(list);
        }
        if let Some(operand) = self.try_parse_transformer_or_val()? {
            self.leave(guard);
            return Ok(Rhs::Operand(operand));
        }
        if self.lex_identifier() {
            self.leave(guard);
            return Ok(Rhs::ListName(self.last.clone()));
        }
        Err(self.error(
            "expected a list, an identifier, or a field with a valid transformer: 'val', 'tolower', 'toupper', 'b64', 'basename', 'len'",
        ))
    }

    fn try_parse_transformer_or_val(&mut self) -> Result<Option<Operand>> {
        let guard = self.enter()?;
        self.lex_blank();
        let pos = self.pos;
        if self.lex_str(TRANSFORMER_VAL) {
            self.lex_blank();
            let field_pos = self.pos;
            if !self.lex_field_name() {
                return Err(self.error("expected a field within 'val' transformer"));
            }
            let name = self.last.clone();
            let field = self.parse_field_remainder(name, field_pos)?;
            self.lex_blank();
            if !self.lex_str(")") {
                return Err(self.error("expected a ')' token closing the transformer"));
            }
            self.leave(guard);
            return Ok(Some(Operand::Transform {
                name: "val".into(),
                args: vec![field],
                pos,
            }));
        }
        if self.lex_transformer() {
            self.lex_blank();
            let name = self.last.trim_end_matches('(').to_string();
            let operand = self.parse_transformer_remainder(name, pos)?;
            self.leave(guard);
            return Ok(Some(operand));
        }
        self.leave(guard);
        Ok(None)
    }

    // --- lexing ------------------------------------------------------------------------

    fn lex_blank(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t' | 0x08 | b'\r' | b'\n')) {
            self.pos += 1;
        }
        self.pos != start
    }

    fn lex_str(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s.as_bytes()) {
            self.last = s.to_string();
            self.pos += s.len();
            return true;
        }
        false
    }

    fn lex_transformer(&mut self) -> bool {
        TRANSFORMERS.iter().any(|t| self.lex_str(t))
    }

    fn lex_op_list(&mut self, list: &[&str]) -> bool {
        for op in list {
            if !op.ends_with(' ') {
                if self.lex_str(op) {
                    return true;
                }
                continue;
            }
            let (saved_pos, saved_last) = (self.pos, self.last.clone());
            if self.lex_str(op.trim_end()) {
                if self.lex_blank() {
                    return true;
                }
                self.pos = saved_pos;
                self.last = saved_last;
            }
        }
        false
    }

    /// Consumes `len` bytes as the last token.
    fn take(&mut self, len: usize) -> bool {
        if len == 0 {
            return false;
        }
        self.last = self.slice(self.pos, self.pos + len);
        self.pos += len;
        true
    }

    fn lex_not_blank(&mut self) -> bool {
        let rest = self.rest();
        if !rest.starts_with(b"not") {
            return false;
        }
        let blanks = rest
            .get(3..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_whitespace() || **b == 0x0b)
            .count();
        blanks > 0 && self.take(3 + blanks)
    }

    fn lex_identifier(&mut self) -> bool {
        let len = identifier_len(self.rest());
        self.take(len)
    }

    fn lex_field_name(&mut self) -> bool {
        let len = field_name_len(self.rest());
        self.take(len)
    }

    fn lex_field_arg_bare_str(&mut self) -> bool {
        let len = self
            .rest()
            .iter()
            .take_while(|b| !matches!(b, b'[' | b']' | b'"' | b'\'') && !is_space(**b))
            .count();
        self.take(len)
    }

    fn lex_bare_str(&mut self) -> bool {
        let len = self
            .rest()
            .iter()
            .take_while(|b| {
                !matches!(b, b'(' | b')' | b'"' | b'\'' | b'=' | b',') && !is_space(**b)
            })
            .count();
        self.take(len)
    }

    fn lex_hex_num(&mut self) -> bool {
        let rest = self.rest();
        if rest.first() == Some(&b'0') && matches!(rest.get(1), Some(b'x' | b'X')) {
            let digits = rest
                .get(2..)
                .unwrap_or_default()
                .iter()
                .take_while(|b| b.is_ascii_hexdigit())
                .count();
            if digits > 0 {
                return self.take(2 + digits);
            }
        }
        false
    }

    fn lex_num(&mut self) -> bool {
        let len = number_len(self.rest());
        self.take(len)
    }

    /// A quoted string, unescaped as libsinsp does. An unterminated quote is not a token.
    fn lex_quoted_str(&mut self) -> Result<bool> {
        let Some(delimiter) = self.peek().filter(|c| *c == b'"' || *c == b'\'') else {
            return Ok(false);
        };
        let start = self.pos;
        let mut prev = b'\\';
        let mut i = start;
        while let Some(&c) = self.input.get(i) {
            if c == delimiter && prev != b'\\' && i > start {
                let raw = self.slice(start, i + 1);
                self.pos = i + 1;
                self.last = unescape(&raw).map_err(|message| SyntaxError {
                    message,
                    pos: start,
                })?;
                return Ok(true);
            }
            prev = c;
            i += 1;
        }
        Ok(false)
    }

    fn list_value_follows(&self) -> bool {
        self.peek() == Some(b'(') || identifier_len(self.rest()) > 0
    }

    fn bool_keyword_follows(&self) -> bool {
        let rest = self.rest();
        ["and", "or", "not"].iter().any(|kw| {
            rest.starts_with(kw.as_bytes())
                && rest
                    .get(kw.len())
                    .is_none_or(|c| !c.is_ascii_alphanumeric())
        })
    }
}

fn collapse(mut children: Vec<Ast>, make: fn(Vec<Ast>) -> Ast) -> Ast {
    if children.len() == 1
        && let Some(only) = children.pop()
    {
        return only;
    }
    make(children)
}

fn is_space(b: u8) -> bool {
    b.is_ascii_whitespace() || b == 0x0b
}

/// `[a-zA-Z]+[a-zA-Z0-9_]*`
pub fn identifier_len(s: &[u8]) -> usize {
    if !s.first().is_some_and(u8::is_ascii_alphabetic) {
        return 0;
    }
    s.iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count()
}

/// `[a-zA-Z]+[a-zA-Z0-9_]*(\.[a-zA-Z]+[a-zA-Z0-9_]*)+`, longest match.
pub fn field_name_len(s: &[u8]) -> usize {
    let mut len = identifier_len(s);
    if len == 0 {
        return 0;
    }
    let mut segments = 0;
    while s.get(len) == Some(&b'.') {
        let next = identifier_len(s.get(len + 1..).unwrap_or_default());
        if next == 0 {
            break;
        }
        len += 1 + next;
        segments += 1;
    }
    if segments == 0 { 0 } else { len }
}

/// `[+\-]?[0-9]+[\.]?[0-9]*([eE][+\-][0-9]+)?`
fn number_len(s: &[u8]) -> usize {
    let digits = |from: usize| {
        s.iter()
            .skip(from)
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut len = usize::from(matches!(s.first(), Some(b'+' | b'-')));
    let int = digits(len);
    if int == 0 {
        return 0;
    }
    len += int;
    if s.get(len) == Some(&b'.') {
        len += 1;
    }
    len += digits(len);
    if matches!(s.get(len), Some(b'e' | b'E')) && matches!(s.get(len + 1), Some(b'+' | b'-')) {
        let exp = digits(len + 2);
        if exp > 0 {
            len += 2 + exp;
        }
    }
    len
}

/// Removes the quotes of a quoted string and resolves its escapes, as libsinsp's
/// `unescape_str` does.
fn unescape(quoted: &str) -> std::result::Result<String, String> {
    let bytes = quoted.as_bytes();
    let delimiter = bytes.first().copied().unwrap_or(b'"');
    let inner = bytes
        .get(1..bytes.len().saturating_sub(1))
        .unwrap_or_default();
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while let Some(&c) = inner.get(i) {
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = inner.get(i) else {
            break;
        };
        i += 1;
        match e {
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b' ' | b'\\' => out.push(b'\\'),
            b'/' => out.push(b'/'),
            b'"' | b'\'' if e == delimiter => out.push(e),
            b'"' => return Err("invalid \\\" escape in '-quoted string".into()),
            b'\'' => return Err("invalid \\' escape in \"-quoted string".into()),
            b'x' => {
                let hex = inner
                    .get(i..i + 2)
                    .ok_or("truncated hex char escape sequence")?;
                let value = std::str::from_utf8(hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        format!(
                            "invalid hex char escape sequence: {}",
                            String::from_utf8_lossy(hex)
                        )
                    })?;
                out.push(value);
                i += 2;
            }
            other => {
                return Err(format!(
                    "unsupported string escape sequence: \\{}",
                    char::from(other)
                ));
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}
