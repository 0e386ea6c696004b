//! The input Gatekeeper gives a template: `{review, parameters}`.

use crate::cel::cel;
use palisade_model::Object;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

/// The `review` of an object, as `gator` builds it: for an `AdmissionReview`, its `request` as
/// written (so `operation`, `userInfo` and `oldObject` are there); for any other object, an
/// admission request with only `kind`, `object`, `name` and `namespace` (no operation, no user).
pub fn review_of(object: &Object) -> Value {
    if object.kind() == "AdmissionReview" {
        let mut request = object.at("/request").cloned().unwrap_or(Value::Null);
        // Gatekeeper reviews the object being deleted as `object` too.
        if request.get("operation").and_then(Value::as_str) == Some("DELETE")
            && let Some(old) = request.get("oldObject").filter(|o| o.is_object()).cloned()
            && let Some(fields) = request.as_object_mut()
        {
            fields.insert("object".into(), old);
        }
        return request;
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

/// A constraint's parameters as the template sees them: `{}` when there are none, as in
/// Gatekeeper.
pub(crate) fn parameters(written: Option<&Value>) -> regorus::Value {
    match written.filter(|p| !p.is_null()) {
        Some(p) => regorus::Value::from(p.clone()),
        None => regorus::Value::from(Value::Object(Map::new())),
    }
}

/// An object as every constraint reviews it: converted once, shared by all of them.
#[derive(Debug)]
pub struct Reviewed {
    /// The admission request (see [`review_of`]).
    pub json: Value,
    /// The same, as Rego reads it: converted on first use.
    rego: OnceLock<regorus::Value>,
    /// `{"inventory": ...}` for templates that read `data.inventory` (shared, not copied).
    pub(crate) data: Option<regorus::Value>,
    /// The same, as CEL reads it: converted on first use.
    cel: OnceLock<CelReview>,
}

/// The review as CEL's `request`, `object` and `oldObject`.
pub(crate) struct CelReview {
    /// The request without the objects.
    pub request: cel::Value,
    /// `object` (null when absent, as for a DELETE).
    pub object: cel::Value,
    /// `oldObject` (null when absent, as for a CREATE).
    pub old_object: cel::Value,
    /// A scope with the three bound (and a null `namespaceObject`), shared by every
    /// constraint that reviews this object: binding copies the object deeply.
    pub scope: cel::Context<'static>,
}

impl std::fmt::Debug for CelReview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CelReview")
            .field("request", &self.request)
            .field("object", &self.object)
            .field("old_object", &self.old_object)
            .finish_non_exhaustive()
    }
}

impl Reviewed {
    /// The review of an object; `inventory` is given when a template reads it.
    pub fn of(object: &Object, inventory: Option<&regorus::Value>) -> Reviewed {
        let json = review_of(object);
        let data = inventory.map(|inventory| {
            let mut data = regorus::Value::new_object();
            if let Ok(fields) = data.as_object_mut() {
                fields.insert(regorus::Value::from("inventory"), inventory.clone());
            }
            data
        });
        Reviewed {
            json,
            rego: OnceLock::new(),
            data,
            cel: OnceLock::new(),
        }
    }

    /// The review as Rego reads it.
    pub(crate) fn rego(&self) -> &regorus::Value {
        self.rego
            .get_or_init(|| regorus::Value::from(self.json.clone()))
    }

    /// The review as CEL reads it.
    pub(crate) fn cel(&self) -> &CelReview {
        self.cel.get_or_init(|| {
            let object = |name: &str| {
                self.json
                    .get(name)
                    .map_or(cel::Value::Null, crate::cel::to_cel)
            };
            let request = match &self.json {
                Value::Object(fields) => crate::cel::to_cel(&Value::Object(
                    fields
                        .iter()
                        .filter(|(k, _)| *k != "object" && *k != "oldObject")
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                )),
                _ => cel::Value::Null,
            };
            let (object, old_object) = (object("object"), object("oldObject"));
            let scope = crate::cel::context([
                ("object", object.clone()),
                ("oldObject", old_object.clone()),
                ("request", request.clone()),
                ("namespaceObject", cel::Value::Null),
            ]);
            CelReview {
                request,
                object,
                old_object,
                scope,
            }
        })
    }

    /// A string field of the request (`/kind/kind`, `/namespace`, ...); empty when absent.
    pub fn field(&self, pointer: &str) -> &str {
        self.json
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// The whole input, `{review, parameters}`. Both are shared, not copied: a review is
/// converted once per object and used by every constraint.
pub(crate) fn input(review: &regorus::Value, parameters: &regorus::Value) -> regorus::Value {
    let mut input = regorus::Value::new_object();
    if let Ok(fields) = input.as_object_mut() {
        fields.insert(regorus::Value::from("review"), review.clone());
        fields.insert(regorus::Value::from("parameters"), parameters.clone());
    }
    input
}
