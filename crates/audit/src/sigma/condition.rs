//! The condition language: search identifiers, `and`, `or`, `not`, parentheses, and
//! `1 of` / `any of` / `all of` a pattern or `them`.
//!
//! Precedence, loosest first: `or`, `and`, `not`, `x of`, parentheses (as the specification
//! orders them). Keywords are lower-case, as in pySigma's grammar.

/// A compiled condition over the rule's searches (by index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Expr {
    Search(usize),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
}

impl Expr {
    /// Evaluates the condition, asking `search` for each search it needs (short-circuit).
    pub fn eval(&self, search: &mut impl FnMut(usize) -> bool) -> bool {
        match self {
            Expr::Search(i) => search(*i),
            Expr::And(items) => items.iter().all(|e| e.eval(search)),
            Expr::Or(items) => items.iter().any(|e| e.eval(search)),
            Expr::Not(e) => !e.eval(search),
        }
    }
}

/// Deepest nesting of parentheses and `not` accepted: keeps a hostile rule from exhausting
/// the stack.
const MAX_DEPTH: usize = 64;

/// Parses a condition against the names of the searches it may use.
pub(super) fn parse(text: &str, names: &[&str]) -> Result<Expr, String> {
    if text.contains('|') {
        return Err(
            "the pipe (aggregation) syntax in conditions is deprecated and not supported: \
             Sigma correlation rules replace it"
                .into(),
        );
    }
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        names,
        depth: 0,
    };
    let expr = parser.or()?;
    match parser.tokens.get(parser.pos) {
        None => Ok(expr),
        Some(t) => Err(format!(
            "unexpected {} after a complete condition",
            t.describe()
        )),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Open,
    Close,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Word(w) => format!("{w:?}"),
            Token::Open => "\"(\"".into(),
            Token::Close => "\")\"".into(),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() || matches!(c, '_' | '-' | '*' | '.') {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            tokens.push(Token::Word(std::mem::take(&mut word)));
        }
        match c {
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            c if c.is_whitespace() => {}
            other => return Err(format!("unexpected character {other:?}")),
        }
    }
    if !word.is_empty() {
        tokens.push(Token::Word(word));
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    names: &'a [&'a str],
    depth: usize,
}

impl Parser<'_> {
    fn peek_word(&self) -> Option<&str> {
        match self.tokens.get(self.pos) {
            Some(Token::Word(w)) => Some(w),
            _ => None,
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.and()?];
        while self.peek_word() == Some("or") {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.not()?];
        while self.peek_word() == Some("and") {
            self.pos += 1;
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn not(&mut self) -> Result<Expr, String> {
        if self.peek_word() == Some("not") {
            self.pos += 1;
            self.deeper()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.operand()
    }

    fn deeper(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        Ok(())
    }

    fn operand(&mut self) -> Result<Expr, String> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        match token {
            None => Err("the condition ends where a search was expected".into()),
            Some(Token::Open) => {
                self.deeper()?;
                let inner = self.or()?;
                self.depth -= 1;
                match self.tokens.get(self.pos) {
                    Some(Token::Close) => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    _ => Err("missing \")\"".into()),
                }
            }
            Some(Token::Close) => Err("unexpected \")\" where a search was expected".into()),
            Some(Token::Word(w)) => match w.as_str() {
                "1" | "any" | "all" if self.peek_word() == Some("of") => {
                    self.pos += 1;
                    self.selector(w == "all")
                }
                "and" | "or" | "not" | "of" | "them" => {
                    Err(format!("unexpected {w:?} where a search was expected"))
                }
                name => self.identifier(name),
            },
        }
    }

    fn identifier(&self, name: &str) -> Result<Expr, String> {
        if name.contains('*') {
            return Err(format!(
                "{name:?}: wildcards are only allowed after \"1 of\" or \"all of\""
            ));
        }
        self.names
            .iter()
            .position(|n| *n == name)
            .map(Expr::Search)
            .ok_or_else(|| {
                format!("the condition names {name:?}, which is not a search of this rule")
            })
    }

    /// `1 of pattern`, `all of them`: the searches the pattern names (`them` is every search
    /// not starting with `_`; a pattern reaches `_` searches only if it starts with `_` itself).
    fn selector(&mut self, all: bool) -> Result<Expr, String> {
        let Some(pattern) = self.peek_word().map(str::to_string) else {
            return Err("\"of\" must be followed by a search pattern or \"them\"".into());
        };
        self.pos += 1;
        let matched: Vec<Expr> = self
            .names
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                if pattern == "them" {
                    !n.starts_with('_')
                } else {
                    glob(&pattern, n) && (pattern.starts_with('_') || !n.starts_with('_'))
                }
            })
            .map(|(i, _)| Expr::Search(i))
            .collect();
        if matched.is_empty() {
            return Err(format!("{pattern:?} matches no search of this rule"));
        }
        Ok(if all {
            Expr::And(matched)
        } else {
            Expr::Or(matched)
        })
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            let Some(rest) = name.strip_prefix(head) else {
                return false;
            };
            (0..=rest.len())
                .filter(|&i| rest.is_char_boundary(i))
                .any(|i| glob(tail, rest.get(i..).unwrap_or_default()))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use Expr::{And, Not, Or, Search};

    const NAMES: [&str; 5] = [
        "selection",
        "selection_a",
        "selection_b",
        "filter",
        "_internal",
    ];

    fn p(text: &str) -> Expr {
        parse(text, &NAMES).unwrap()
    }

    #[test]
    fn precedence_not_and_or() {
        assert_eq!(p("selection"), Search(0));
        assert_eq!(
            p("selection or selection_a and not filter"),
            Or(vec![
                Search(0),
                And(vec![Search(1), Not(Box::new(Search(3)))])
            ])
        );
        assert_eq!(
            p("(selection or selection_a) and not not filter"),
            And(vec![
                Or(vec![Search(0), Search(1)]),
                Not(Box::new(Not(Box::new(Search(3)))))
            ])
        );
    }

    #[test]
    fn one_of_and_all_of_patterns_and_them() {
        assert_eq!(p("1 of selection_*"), Or(vec![Search(1), Search(2)]));
        assert_eq!(p("any of selection_*"), Or(vec![Search(1), Search(2)]));
        assert_eq!(
            p("all of selection*"),
            And(vec![Search(0), Search(1), Search(2)])
        );
        assert_eq!(
            p("all of them"),
            And(vec![Search(0), Search(1), Search(2), Search(3)])
        );
        assert_eq!(p("1 of _*"), Or(vec![Search(4)]));
        assert_eq!(p("1 of *_b"), Or(vec![Search(2)]));
        assert_eq!(
            p("selection and not 1 of filter*"),
            And(vec![Search(0), Not(Box::new(Or(vec![Search(3)])))])
        );
    }

    #[test]
    fn syntax_errors_say_what_is_wrong() {
        for (text, says) in [
            ("selection and", "ends where a search was expected"),
            ("selection filter", "unexpected \"filter\" after"),
            ("(selection", "missing \")\""),
            ("selection)", "unexpected \")\" after"),
            ("sel", "\"sel\", which is not a search"),
            ("1 of nothing*", "matches no search"),
            ("1 of", "must be followed by a search pattern"),
            ("selection*", "wildcards are only allowed"),
            ("selection | count() > 5", "pipe (aggregation)"),
            ("selection && filter", "unexpected character '&'"),
            ("and selection", "unexpected \"and\""),
            ("selection AND filter", "unexpected \"AND\" after"),
        ] {
            let error = parse(text, &NAMES).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
        }
        let deep = format!("{}selection{}", "(".repeat(100), ")".repeat(100));
        assert!(parse(&deep, &NAMES).unwrap_err().contains("nested deeper"));
        let nots = format!("{}selection", "not ".repeat(100));
        assert!(parse(&nots, &NAMES).unwrap_err().contains("nested deeper"));
    }

    #[test]
    fn evaluation_short_circuits() {
        let mut asked = Vec::new();
        let result = p("filter and selection").eval(&mut |i| {
            asked.push(i);
            false
        });
        assert!(!result);
        assert_eq!(asked, [3]);
    }

    #[test]
    fn glob_patterns() {
        assert!(glob("sel*", "selection"));
        assert!(glob("*", ""));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b", "ab_c"));
    }
}
