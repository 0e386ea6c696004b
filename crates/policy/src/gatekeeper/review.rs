//! The input Gatekeeper gives a template: `{review, parameters}`.

use palisade_model::Object;
use serde_json::{Map, Value, json};

/// The `review` of an object, as `gator` builds it: for an `AdmissionReview`, its `request` as
/// written (so `operation`, `userInfo` and `oldObject` are there); for any other object, an
/// admission request with only `kind`, `object`, `name` and `namespace` (no operation, no user).
pub fn review_of(object: &Object) -> Value {
    if object.kind() == "AdmissionReview" {
        return object.at("/request").cloned().unwrap_or(Value::Null);
    }
    let api_version = object.api_version();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    json!({
        "kind": {"group": group, "version": version, "kind": object.kind()},
        "object": object.value,
        "name": object.name(),
        "namespace": object.namespace().unwrap_or(""),
    })
}

/// The whole input: a constraint without parameters gets `{}`, as in Gatekeeper.
pub fn input(review: Value, parameters: Option<&Value>) -> Value {
    let parameters = parameters
        .filter(|p| !p.is_null())
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    json!({"review": review, "parameters": parameters})
}
