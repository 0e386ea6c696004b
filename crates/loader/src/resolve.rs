//! Plain-scalar resolution as Kubernetes reads YAML.
//!
//! `kubectl` and the API server convert YAML to JSON through `sigs.k8s.io/yaml`, which uses a
//! YAML 1.1 resolver (go-yaml v2). So `yes`, `on` and `y` are booleans, `0755` is octal, `1_000`
//! is an integer and `0x1F` is hex. Getting this wrong would let `privileged: yes` pass a scan
//! that the cluster reads as `true`.

use serde_json::{Number, Value};

/// Resolves an untagged plain scalar.
pub fn plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Value::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false);
        }
        _ => {}
    }
    let first = text.as_bytes().first().copied().unwrap_or(b' ');
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        return Value::String(text.to_string());
    }
    number(text).unwrap_or_else(|| Value::String(text.to_string()))
}

/// Resolves a scalar with an explicit core tag (`!!int`, `!!bool`, ...). Unknown tags resolve
/// like untagged scalars, as go-yaml does when decoding into an untyped value.
pub fn tagged(text: &str, suffix: &str, quoted: bool) -> Result<Value, String> {
    match suffix {
        "str" | "binary" | "timestamp" => Ok(Value::String(text.to_string())),
        "null" => Ok(Value::Null),
        "bool" => match plain(text) {
            v @ Value::Bool(_) => Ok(v),
            _ => Err(format!("cannot read {text:?} as !!bool")),
        },
        "int" | "float" => match number(text) {
            Some(v) => Ok(v),
            None => Err(format!("cannot read {text:?} as !!{suffix}")),
        },
        _ if quoted => Ok(Value::String(text.to_string())),
        _ => Ok(plain(text)),
    }
}

fn number(text: &str) -> Option<Value> {
    let cleaned: String = text.chars().filter(|c| *c != '_').collect();
    if let Some(v) = integer(&cleaned) {
        return Some(v);
    }
    if is_yaml_float(&cleaned) {
        let f: f64 = cleaned.parse().ok()?;
        return Number::from_f64(f).map(Value::Number);
    }
    special_float(text)
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint`: sign, `0x`, `0o`, `0b`, leading-zero
/// octal.
fn integer(s: &str) -> Option<Value> {
    let (negative, body) = match s.as_bytes().first()? {
        b'-' => (true, s.get(1..)?),
        b'+' => (false, s.get(1..)?),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        (8, d)
    } else if let Some(d) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
        (2, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, body.get(1..)?)
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if negative {
        if magnitude <= i64::MAX as u64 + 1 {
            return Some(Value::Number(Number::from(
                (magnitude as i128).wrapping_neg() as i64,
            )));
        }
        return None;
    }
    Some(Value::Number(Number::from(magnitude)))
}

/// go-yaml v2's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `.inf` and `.nan` have no JSON form; Kubernetes cannot store them either, so they stay text.
fn special_float(_text: &str) -> Option<Value> {
    None
}

/// How a resolved scalar becomes a JSON object key, as `sigs.k8s.io/yaml` converts keys.
pub fn key_string(value: &Value, text: &str) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_1_1_booleans() {
        for t in ["yes", "Yes", "on", "ON", "y", "Y", "true"] {
            assert_eq!(plain(t), json!(true), "{t}");
        }
        for t in ["no", "off", "n", "N", "False"] {
            assert_eq!(plain(t), json!(false), "{t}");
        }
        assert_eq!(plain("yES"), json!("yES"));
    }

    #[test]
    fn yaml_1_1_numbers() {
        assert_eq!(plain("0755"), json!(493));
        assert_eq!(plain("0o17"), json!(15));
        assert_eq!(plain("0x1F"), json!(31));
        assert_eq!(plain("0b101"), json!(5));
        assert_eq!(plain("1_000"), json!(1000));
        assert_eq!(plain("-42"), json!(-42));
        assert_eq!(plain("+7"), json!(7));
        assert_eq!(plain("0"), json!(0));
        assert_eq!(plain("1.5"), json!(1.5));
        assert_eq!(plain(".5"), json!(0.5));
        assert_eq!(plain("1e3"), json!(1000.0));
        // go-yaml v2: not octal, but its float pattern matches.
        assert_eq!(plain("089"), json!(89.0));
        assert_eq!(plain("1.2.3"), json!("1.2.3"));
        assert_eq!(plain("-"), json!("-"));
        assert_eq!(plain(".inf"), json!(".inf"));
        assert_eq!(
            plain("18446744073709551615"),
            json!(18446744073709551615u64)
        );
        assert_eq!(plain("-9223372036854775808"), json!(i64::MIN));
    }

    #[test]
    fn nulls_and_strings() {
        assert_eq!(plain("~"), Value::Null);
        assert_eq!(plain(""), Value::Null);
        assert_eq!(plain("nginx:1.25"), json!("nginx:1.25"));
        assert_eq!(plain("12:30"), json!("12:30"));
    }

    #[test]
    fn tags() {
        assert_eq!(tagged("0755", "str", false), Ok(json!("0755")));
        assert_eq!(tagged("10", "int", true), Ok(json!(10)));
        assert!(tagged("abc", "int", false).is_err());
    }
}
