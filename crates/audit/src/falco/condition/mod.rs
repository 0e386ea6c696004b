//! The Falco condition language: parsing into an [`Ast`].

pub mod ast;
pub mod parser;

pub use ast::{Ast, Item, Operand, Rhs};
pub use parser::{parse, parse_operand_prefix};

/// The 1-based column of byte offset `pos` in `text`, counted in characters on its line.
pub fn column(text: &str, pos: usize) -> u32 {
    let before = text.get(..pos.min(text.len())).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let chars = before.get(line_start..).unwrap_or_default().chars().count();
    u32::try_from(chars + 1).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, pos: usize) -> Operand {
        Operand::Field {
            name: name.into(),
            arg: None,
            pos,
        }
    }

    #[test]
    fn precedence_not_and_or() {
        let ast = parse("a or not b and c").unwrap();
        let Ast::Or(children) = ast else {
            panic!("expected or")
        };
        assert_eq!(children.len(), 2);
        assert!(matches!(&children[1], Ast::And(v) if matches!(v[0], Ast::Not(_))));
    }

    #[test]
    fn double_not_cancels_and_not_paren() {
        assert_eq!(
            parse("not not a").unwrap(),
            Ast::Macro {
                name: "a".into(),
                pos: 8
            }
        );
        assert!(matches!(parse("not(a)").unwrap(), Ast::Not(_)));
    }

    #[test]
    fn field_args_and_lists() {
        let ast = parse("jevt.value[/stage] in (ResponseComplete, 'a b', lst)").unwrap();
        let Ast::Compare { lhs, op, rhs, .. } = ast else {
            panic!()
        };
        assert_eq!(op, "in");
        assert!(matches!(lhs, Operand::Field { arg: Some(ref a), .. } if a == "/stage"));
        assert_eq!(
            rhs,
            Rhs::List(vec![
                Item {
                    text: "ResponseComplete".into(),
                    bare: true
                },
                Item {
                    text: "a b".into(),
                    bare: false
                },
                Item {
                    text: "lst".into(),
                    bare: true
                },
            ])
        );
    }

    #[test]
    fn bare_list_name_and_empty_list() {
        assert!(matches!(
            parse("ka.user.name in allowed").unwrap(),
            Ast::Compare { rhs: Rhs::ListName(ref n), .. } if n == "allowed"
        ));
        assert!(matches!(
            parse("ka.user.name in ()").unwrap(),
            Ast::Compare { rhs: Rhs::List(ref v), .. } if v.is_empty()
        ));
    }

    #[test]
    fn word_operators_need_a_blank_symbols_do_not() {
        assert!(parse("ka.verb=create").is_ok());
        assert!(parse("ka.uri startswith/healthz").is_err());
        let ast = parse("ka.response.code startswith 2").unwrap();
        assert!(
            matches!(ast, Ast::Compare { ref op, rhs: Rhs::Value(ref v), .. } if op == "startswith" && v == "2")
        );
    }

    #[test]
    fn transformers_and_val() {
        let ast = parse("tolower(ka.user.name) = val(ka.target.name)").unwrap();
        let Ast::Compare { lhs, rhs, .. } = ast else {
            panic!()
        };
        assert_eq!(
            lhs,
            Operand::Transform {
                name: "tolower".into(),
                args: vec![field("ka.user.name", 8)],
                pos: 0
            }
        );
        assert!(matches!(rhs, Rhs::Operand(Operand::Transform { ref name, .. }) if name == "val"));
    }

    #[test]
    fn quoted_strings_unescape() {
        let ast = parse(r#"ka.uri = "a\"b\x41""#).unwrap();
        assert!(matches!(ast, Ast::Compare { rhs: Rhs::Value(ref v), .. } if v == "a\"bA"));
        assert!(parse(r#"ka.uri = 'a\"b'"#).is_err());
    }

    #[test]
    fn errors_have_positions() {
        let err = parse("ka.verb=create and").unwrap_err();
        assert_eq!(err.message, "expected blank or '(' after 'and'");
        let err = parse("ka.verb=create foo").unwrap_err();
        assert!(err.message.starts_with("unexpected token after"), "{err:?}");
        assert_eq!(err.pos, 15);
        let err = parse("(ka.verb=create").unwrap_err();
        assert_eq!(err.message, "expected a ')' token");
        let err = parse("ka.verb ~ x").unwrap_err();
        assert!(err.message.starts_with("expected a valid check operator"));
        assert_eq!(column("a\nbc d", 5), 4);
    }

    #[test]
    fn depth_is_bounded() {
        let deep = format!("{}a{}", "(".repeat(5000), ")".repeat(5000));
        let err = parse(&deep).unwrap_err();
        assert!(err.message.contains("max depth"), "{err:?}");
        let ok = format!("{}a{}", "(".repeat(90), ")".repeat(90));
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn numbers_and_hex() {
        assert!(parse("ka.response.code >= 400").is_ok());
        assert!(parse("ka.response.code < 0x1F").is_ok());
        assert!(parse("ka.response.code < abc").is_err());
    }
}
