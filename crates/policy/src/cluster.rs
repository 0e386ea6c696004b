//! What a policy may read of the rest of the input besides the object it reviews: the
//! Namespace objects (for `namespaceSelector` and CEL's `namespaceObject`) and Gatekeeper's
//! `data.inventory`.

use palisade_model::Object;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// The scanned objects as policies see them, built once per scan (or per test case).
#[derive(Debug, Default)]
pub struct Cluster {
    namespaces: HashMap<String, Value>,
    /// Objects kept by kind (`(apiVersion, kind)`), for the kinds asked for.
    objects: HashMap<(String, String), Vec<Value>>,
}

/// Label every namespace carries: the API server sets it to the namespace's name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

impl Cluster {
    /// The context of a set of objects.
    pub fn from_objects(objects: &[Object]) -> Cluster {
        let mut namespaces = HashMap::new();
        for object in objects
            .iter()
            .filter(|o| o.kind() == "Namespace" && o.api_version() == "v1")
        {
            namespaces.insert(object.name().to_string(), with_name_label(&object.value));
        }
        Cluster {
            namespaces,
            objects: HashMap::new(),
        }
    }

    /// Keeps the objects of these kinds (the `paramKind`s of ValidatingAdmissionPolicies)
    /// for [`Cluster::objects_of`].
    pub fn with_objects_of(
        mut self,
        kinds: &[crate::vap::ParamKind],
        objects: &[Object],
    ) -> Cluster {
        for object in objects {
            let kind = kinds
                .iter()
                .find(|k| k.api_version == object.api_version() && k.kind == object.kind());
            if let Some(kind) = kind {
                self.objects
                    .entry((kind.api_version.clone(), kind.kind.clone()))
                    .or_default()
                    .push(object.value.clone());
            }
        }
        self
    }

    /// The objects of a kind kept by [`Cluster::with_objects_of`].
    pub fn objects_of(&self, api_version: &str, kind: &str) -> &[Value] {
        self.objects
            .get(&(api_version.to_string(), kind.to_string()))
            .map_or(&[], Vec::as_slice)
    }

    /// The Namespace object of this name, as the API server would store it (with the
    /// `kubernetes.io/metadata.name` label). Namespaces that are referred to but not among the
    /// objects are `None`.
    pub fn namespace(&self, name: &str) -> Option<&Value> {
        self.namespaces.get(name)
    }

    /// The labels of a namespace read, if it was read.
    pub fn namespace_labels(&self, name: &str) -> Option<&Map<String, Value>> {
        self.namespace(name)?
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
    }
}

/// A Namespace with the label the API server adds to every namespace.
fn with_name_label(namespace: &Value) -> Value {
    let mut namespace = namespace.clone();
    let name = namespace
        .pointer("/metadata/name")
        .cloned()
        .unwrap_or(Value::Null);
    if let Some(metadata) = namespace.get_mut("metadata").and_then(Value::as_object_mut) {
        let labels = metadata.entry("labels").or_insert_with(|| json!({}));
        if !labels.is_object() {
            *labels = json!({});
        }
        if let Some(labels) = labels.as_object_mut() {
            labels.insert(NAMESPACE_NAME_LABEL.into(), name);
        }
    }
    namespace
}
