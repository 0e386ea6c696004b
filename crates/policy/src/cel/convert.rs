//! Values between JSON (how objects are read) and CEL (how expressions see them).

use super::cel::Value;
use super::cel::objects::{Key, Map};
use std::collections::HashMap;
use std::sync::Arc;

/// A JSON value as CEL sees a Kubernetes object: integers are `int` (`uint` beyond its
/// range), other numbers `double`, objects maps with string keys.
pub(crate) fn to_cel(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if let Some(u) = n.as_u64() {
                Value::UInt(u)
            } else {
                Value::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(items) => {
            Value::List(Arc::new(items.iter().map(to_cel).collect()))
        }
        serde_json::Value::Object(fields) => map(fields
            .iter()
            .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))),
    }
}

/// A CEL map of these entries.
pub(crate) fn map(entries: impl IntoIterator<Item = (Key, Value)>) -> Value {
    Value::Map(Map {
        map: Arc::new(entries.into_iter().collect::<HashMap<_, _>>()),
    })
}

/// The name of a value's CEL type, for error messages.
pub(crate) fn type_name(value: &Value) -> String {
    value.type_of().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_become_maps_and_numbers_keep_their_kind() {
        let value = to_cel(&json!({"a": [1, 2.5, "x", null, true]}));
        let Value::Map(fields) = &value else {
            panic!("an object is a map");
        };
        let Some(Value::List(items)) = fields.map.get(&Key::String(Arc::new("a".into()))) else {
            panic!("a is a list");
        };
        assert_eq!(
            items.as_slice(),
            &[
                Value::Int(1),
                Value::Float(2.5),
                Value::String(Arc::new("x".into())),
                Value::Null,
                Value::Bool(true)
            ]
        );
    }
}
