//! Rule `exceptions`, validated and expanded into `and not (...)` text exactly as Falco's
//! `build_rule_exception_infos` does.

use super::fields;

/// A field, comp or value: a string or a list of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Item(String),
    List(Vec<Entry>),
}

/// One exception of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    pub name: String,
    /// Absent only in an append, which may only add values.
    pub fields: Option<Entry>,
    pub comps: Option<Entry>,
    pub values: Vec<Entry>,
}

const OPERATORS: &[&str] = &[
    "exists",
    "<=",
    "<",
    ">=",
    ">",
    "==",
    "=",
    "!=",
    "glob",
    "iglob",
    "contains",
    "icontains",
    "bcontains",
    "startswith",
    "bstartswith",
    "endswith",
    "regex",
    "intersects",
    "in",
    "pmatch",
];

/// Fills in default comps and checks an exception as Falco's `validate_exception_info`:
/// `=` for each field of a list, `in` for a single field, which then only allows
/// `in`, `pmatch` or `intersects`.
pub fn validate(ex: &mut Exception, check_fields: bool) -> Result<(), String> {
    let Some(fields) = &ex.fields else {
        return Err("Rule exception item must have fields property with a list of fields".into());
    };
    match fields {
        Entry::List(items) => {
            let comps = ex
                .comps
                .get_or_insert_with(|| Entry::List(vec![Entry::Item("=".into()); items.len()]));
            let Entry::List(comps) = comps else {
                return Err("Fields and comps must both be lists or both be strings".into());
            };
            if comps.len() != items.len() {
                return Err("Fields and comps lists must have equal length".into());
            }
            for comp in comps.iter_mut() {
                let Entry::Item(op) = comp else {
                    return Err("comps must be strings".into());
                };
                *op = op.trim().to_string();
                if !OPERATORS.contains(&op.as_str()) {
                    return Err(format!("'{op}' is not a supported comparison operator"));
                }
            }
            for field in items {
                let Entry::Item(name) = field else {
                    return Err("fields must be strings".into());
                };
                if check_fields {
                    check_field(name)?;
                }
            }
        }
        Entry::Item(name) => {
            let comp = ex.comps.get_or_insert_with(|| Entry::Item("in".into()));
            let Entry::Item(op) = comp else {
                return Err("Fields and comps must both be strings".into());
            };
            *op = op.trim().to_string();
            if !matches!(op.as_str(), "in" | "pmatch" | "intersects") {
                return Err(
                    "When fields is a single value, comps must be one of (in, pmatch, intersects)"
                        .into(),
                );
            }
            if check_fields {
                check_field(name)?;
            }
        }
    }
    Ok(())
}

fn check_field(name: &str) -> Result<(), String> {
    let base = name.split('[').next().unwrap_or(name);
    if fields::is_known(base) {
        Ok(())
    } else {
        Err(format!("'{name}' is not a supported filter field"))
    }
}

fn quote(item: &str) -> String {
    if item.contains(' ') && !item.starts_with('"') && !item.starts_with('\'') {
        format!("\"{item}\"")
    } else {
        item.to_string()
    }
}

fn paren(item: &str) -> String {
    if item.starts_with('(') {
        item.to_string()
    } else {
        format!("({item})")
    }
}

/// `(condition) and not (...) and not (...)`, one `and not` per exception with values.
pub fn expand(condition: &str, exceptions: &[Exception]) -> Result<String, String> {
    let mut out = format!("({condition})");
    for ex in exceptions {
        let icond = match (&ex.fields, &ex.comps) {
            (Some(Entry::Item(field)), Some(Entry::Item(comp))) => {
                let mut values = Vec::new();
                for value in &ex.values {
                    let Entry::Item(v) = value else {
                        return Err(format!(
                            "exception '{}': Expected values array to contain a list of strings",
                            ex.name
                        ));
                    };
                    values.push(quote(v));
                }
                if values.is_empty() {
                    String::new()
                } else {
                    format!("({field} {comp} ({}))", values.join(", "))
                }
            }
            (Some(Entry::List(fields)), Some(Entry::List(comps))) => {
                let mut alternatives = Vec::new();
                for value in &ex.values {
                    let row = match value {
                        Entry::List(row) => row.as_slice(),
                        Entry::Item(_) => &[][..],
                    };
                    if row.len() != fields.len() {
                        return Err(format!(
                            "exception '{}': Fields and values lists must have equal length",
                            ex.name
                        ));
                    }
                    let mut parts = Vec::new();
                    for ((field, comp), v) in fields.iter().zip(comps).zip(row) {
                        let (Entry::Item(field), Entry::Item(comp)) = (field, comp) else {
                            return Err(format!(
                                "exception '{}': fields and comps must be strings",
                                ex.name
                            ));
                        };
                        let rhs = match v {
                            Entry::List(items) => {
                                let items: Vec<String> = items
                                    .iter()
                                    .map(|i| match i {
                                        Entry::Item(s) => quote(s),
                                        Entry::List(_) => String::new(),
                                    })
                                    .collect();
                                format!("({})", items.join(", "))
                            }
                            Entry::Item(s)
                                if matches!(comp.as_str(), "in" | "intersects" | "pmatch") =>
                            {
                                paren(s)
                            }
                            Entry::Item(s) => quote(s),
                        };
                        parts.push(format!(" {field} {comp} {rhs}"));
                    }
                    alternatives.push(format!("({})", parts.join(" and ")));
                }
                if alternatives.is_empty() {
                    String::new()
                } else {
                    format!("({})", alternatives.join(" or "))
                }
            }
            _ => {
                return Err(format!(
                    "exception '{}' has no valid fields and comps",
                    ex.name
                ));
            }
        };
        if !icond.is_empty() {
            out.push_str(" and not ");
            out.push_str(&icond);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(s: &str) -> Entry {
        Entry::Item(s.into())
    }

    fn list(items: &[&str]) -> Entry {
        Entry::List(items.iter().map(|s| item(s)).collect())
    }

    #[test]
    fn single_field_form_is_an_in_list() {
        let mut ex = Exception {
            name: "known".into(),
            fields: Some(item("ka.user.name")),
            comps: None,
            values: vec![item("alice"), item("bob smith")],
        };
        validate(&mut ex, true).unwrap();
        assert_eq!(
            expand("ka.verb=create", &[ex]).unwrap(),
            r#"(ka.verb=create) and not (ka.user.name in (alice, "bob smith"))"#
        );
    }

    #[test]
    fn field_list_form_defaults_to_equals_and_parenthesises_list_comps() {
        let mut ex = Exception {
            name: "pairs".into(),
            fields: Some(list(&["ka.user.name", "ka.target.namespace"])),
            comps: None,
            values: vec![
                list(&["alice", "dev"]),
                Entry::List(vec![item("bob"), list(&["a", "b c"])]),
            ],
        };
        validate(&mut ex, true).unwrap();
        assert_eq!(
            expand("c", &[ex]).unwrap(),
            r#"(c) and not (( ka.user.name = alice and  ka.target.namespace = dev) or ( ka.user.name = bob and  ka.target.namespace = (a, "b c")))"#
        );
        let mut ex = Exception {
            name: "paths".into(),
            fields: Some(list(&["ka.uri"])),
            comps: Some(list(&["pmatch"])),
            values: vec![list(&["/healthz"])],
        };
        validate(&mut ex, true).unwrap();
        assert_eq!(
            expand("c", &[ex]).unwrap(),
            "(c) and not (( ka.uri pmatch (/healthz)))"
        );
    }

    #[test]
    fn no_values_adds_nothing_and_bad_shapes_fail() {
        let mut ex = Exception {
            name: "empty".into(),
            fields: Some(list(&["ka.verb"])),
            comps: None,
            values: vec![],
        };
        validate(&mut ex, true).unwrap();
        assert_eq!(expand("c", &[ex]).unwrap(), "(c)");
        let mut bad = Exception {
            name: "b".into(),
            fields: Some(item("ka.verb")),
            comps: Some(item("=")),
            values: vec![],
        };
        assert!(
            validate(&mut bad, true)
                .unwrap_err()
                .contains("comps must be one of")
        );
        let mut unknown = Exception {
            name: "u".into(),
            fields: Some(item("ka.nope")),
            comps: None,
            values: vec![],
        };
        assert!(
            validate(&mut unknown, true)
                .unwrap_err()
                .contains("not a supported filter field")
        );
        let mut uneven = Exception {
            name: "x".into(),
            fields: Some(list(&["ka.verb", "ka.uri"])),
            comps: Some(list(&["="])),
            values: vec![],
        };
        assert!(validate(&mut uneven, true).is_err());
        let mut ok = Exception {
            name: "y".into(),
            fields: Some(list(&["ka.verb", "ka.uri"])),
            comps: None,
            values: vec![list(&["get"])],
        };
        validate(&mut ok, true).unwrap();
        assert!(expand("c", &[ok]).unwrap_err().contains("equal length"));
    }
}
