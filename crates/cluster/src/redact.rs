//! Secret values never leave the API server's answer: they are blanked on arrival, keys
//! kept, so controls still see which keys a Secret has and reports can never print a value.

use serde_json::Value;

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Blanks `data` and `stringData` values, here and in the last-applied annotation (which
/// repeats them when the Secret was applied with kubectl).
pub fn secret(item: &mut Value) {
    blank_values(item);
    let Some(annotation) = item
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
        .and_then(|a| a.get_mut(LAST_APPLIED))
    else {
        return;
    };
    let blanked = annotation
        .as_str()
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .map(|mut applied| {
            blank_values(&mut applied);
            applied.to_string()
        })
        // Not JSON: nothing can be said of what it holds, so none of it is kept.
        .unwrap_or_default();
    *annotation = Value::String(blanked);
}

fn blank_values(value: &mut Value) {
    for field in ["data", "stringData"] {
        if let Some(Value::Object(values)) = value.get_mut(field) {
            for v in values.values_mut() {
                *v = Value::String(String::new());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn blanks_values_everywhere_and_keeps_keys() {
        let applied =
            json!({"apiVersion": "v1", "kind": "Secret", "data": {"password": "aHVudGVyMg=="}});
        let mut item = json!({
            "kind": "Secret",
            "metadata": {"annotations": {LAST_APPLIED: applied.to_string()}},
            "data": {"password": "aHVudGVyMg=="},
            "stringData": {"token": "abc"},
        });
        secret(&mut item);
        let text = item.to_string();
        assert!(!text.contains("aHVudGVyMg"), "{text}");
        assert!(!text.contains("abc"), "{text}");
        assert_eq!(item["data"]["password"], "");
        let kept: Value = serde_json::from_str(
            item["metadata"]["annotations"][LAST_APPLIED]
                .as_str()
                .unwrap_or_default(),
        )
        .unwrap_or_default();
        assert_eq!(kept["data"]["password"], "");
    }

    #[test]
    fn annotation_that_is_not_json_is_dropped() {
        let mut item = json!({"metadata": {"annotations": {LAST_APPLIED: "password=hunter2"}}});
        secret(&mut item);
        assert_eq!(item["metadata"]["annotations"][LAST_APPLIED], "");
    }
}
