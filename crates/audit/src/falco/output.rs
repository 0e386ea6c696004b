//! Rule outputs: `%field` (and `%field[arg]`, `%tolower(field)`, `%20field` to pad or cut to
//! a width) compiled once into literal and field tokens; a field with no value prints `<NA>`,
//! a list field prints `(a,b)`, as Falco's formatter does.

use super::compile::{Compiler, Fail, Source};
use super::condition::{self, parser::field_name_len};
use super::expr::{Ctx, Operand};

/// A compiled output.
#[derive(Debug, Clone)]
pub struct Output {
    tokens: Vec<Token>,
}

#[derive(Debug, Clone)]
enum Token {
    Text(String),
    Field { operand: Operand, width: usize },
}

impl Output {
    /// Compiles an output format, resolving its fields through the rule set's compiler.
    pub fn compile(
        format: &str,
        compiler: &mut Compiler<'_>,
        source: &Source,
    ) -> Result<Output, Fail> {
        let here = |pos: usize, message: String| Fail::Here(source.error_at(pos, message));
        let bytes = format.as_bytes();
        let mut tokens = Vec::new();
        let mut text_start = 0;
        let mut j = 0;
        while j < bytes.len() {
            if bytes.get(j) != Some(&b'%') {
                j += 1;
                continue;
            }
            if text_start != j {
                tokens.push(Token::Text(
                    format.get(text_start..j).unwrap_or_default().to_string(),
                ));
            }
            if j + 1 == bytes.len() {
                return Err(here(
                    j,
                    "invalid formatting syntax: formatting cannot end with a %".into(),
                ));
            }
            let mut k = j + 1;
            let digits = bytes
                .get(k..)
                .unwrap_or_default()
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            let width = format
                .get(k..k + digits)
                .and_then(|d| d.parse().ok())
                .unwrap_or(0);
            k += digits;
            let rest = format.get(k..).unwrap_or_default();
            let (operand, used) = field_token(rest).map_err(|m| here(k, m))?;
            let operand = compiler.operand(&operand, &offset(source, k), false)?;
            tokens.push(Token::Field { operand, width });
            j = k + used;
            text_start = j;
        }
        if text_start < bytes.len() {
            tokens.push(Token::Text(
                format.get(text_start..).unwrap_or_default().to_string(),
            ));
        }
        Ok(Output { tokens })
    }

    /// The output for one event.
    pub fn render(&self, ctx: &mut Ctx<'_, '_>) -> String {
        let mut out = String::new();
        for token in &self.tokens {
            match token {
                Token::Text(text) => out.push_str(text),
                Token::Field { operand, width } => {
                    let values = ctx.operand(operand);
                    let mut text = match values.as_slice() {
                        [] => "<NA>".to_string(),
                        [one] if !operand.list => String::from_utf8_lossy(one).into_owned(),
                        many => {
                            let parts: Vec<_> =
                                many.iter().map(|v| String::from_utf8_lossy(v)).collect();
                            format!("({})", parts.join(","))
                        }
                    };
                    if *width > 0 {
                        let mut chars: Vec<char> = text.chars().take(*width).collect();
                        chars.resize(*width, ' ');
                        text = chars.into_iter().collect();
                    }
                    out.push_str(&text);
                }
            }
        }
        out
    }
}

fn offset(source: &Source, by: usize) -> Source {
    Source {
        base: source.base + by,
        ..source.clone()
    }
}

/// The field at the start of `rest`: the longest prefix that names a known field (so
/// `%ka.verb.` reads `ka.verb`), with its `[arg]`, or a transformer call.
fn field_token(rest: &str) -> Result<(condition::Operand, usize), String> {
    let matched = field_name_len(rest.as_bytes());
    if matched == 0 {
        return condition::parse_operand_prefix(rest)
            .map_err(|e| format!("unknown filter: {}", e.message));
    }
    for len in (1..=matched).rev() {
        let name = rest.get(..len).unwrap_or_default();
        if field_name_len(name.as_bytes()) != len || !super::fields::is_known(name) {
            continue;
        }
        if len == matched {
            return condition::parse_operand_prefix(rest)
                .map_err(|e| format!("unknown filter: {}", e.message));
        }
        return Ok((
            condition::Operand::Field {
                name: name.to_string(),
                arg: None,
                pos: 0,
            },
            len,
        ));
    }
    Err(format!(
        "unknown filter: no known field at '%{}'",
        rest.get(..matched).unwrap_or(rest)
    ))
}
