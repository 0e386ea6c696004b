//! What a policy may read of the rest of the input besides the object it reviews: the
//! Namespace objects (for `namespaceSelector` and CEL's `namespaceObject`) and Gatekeeper's
//! `data.inventory`.

use palisade_model::Object;
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// The objects policies may refer to (the scanned objects, or a test case's inventory),
/// indexed once.
#[derive(Debug, Default)]
pub struct Cluster<'a> {
    objects: &'a [Object],
    namespaces: HashMap<&'a str, Value>,
    /// Built on first use: most policy sets never read it.
    inventory: OnceLock<regorus::Value>,
    /// Objects kept by kind (`(apiVersion, kind)`), for the kinds asked for.
    params: HashMap<(String, String), Vec<Value>>,
}

/// Label every namespace carries: the API server sets it to the namespace's name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

impl<'a> Cluster<'a> {
    /// The context of a set of objects.
    pub fn from_objects(objects: &'a [Object]) -> Cluster<'a> {
        let namespaces = objects
            .iter()
            .filter(|o| o.kind() == "Namespace" && o.api_version() == "v1")
            .map(|o| (o.name(), with_name_label(&o.value)))
            .collect();
        Cluster {
            objects,
            namespaces,
            inventory: OnceLock::new(),
            params: HashMap::new(),
        }
    }

    /// Keeps the objects of these kinds (the `paramKind`s of ValidatingAdmissionPolicies)
    /// for [`Cluster::objects_of`].
    pub fn with_objects_of(mut self, kinds: &[crate::vap::ParamKind], objects: &[Object]) -> Self {
        for object in objects {
            let kind = kinds
                .iter()
                .find(|k| k.api_version == object.api_version() && k.kind == object.kind());
            if let Some(kind) = kind {
                self.params
                    .entry((kind.api_version.clone(), kind.kind.clone()))
                    .or_default()
                    .push(object.value.clone());
            }
        }
        self
    }

    /// The objects of a kind kept by [`Cluster::with_objects_of`].
    pub fn objects_of(&self, api_version: &str, kind: &str) -> &[Value] {
        self.params
            .get(&(api_version.to_string(), kind.to_string()))
            .map_or(&[], Vec::as_slice)
    }

    /// The Namespace object of this name, as the API server would store it (with the
    /// `kubernetes.io/metadata.name` label), if it is among the objects.
    pub fn namespace(&self, name: &str) -> Option<&Value> {
        self.namespaces.get(name)
    }

    /// The labels of a namespace read, if it was read.
    pub fn namespace_labels(&self, name: &str) -> Option<&Map<String, Value>> {
        self.namespace(name)?
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
    }

    /// The Namespace of this name; one that was not read is known only by the label the API
    /// server gives every namespace, so selectors on that label still work.
    pub fn namespace_or_default(&self, name: &str) -> Cow<'_, Value> {
        match self.namespace(name) {
            Some(ns) => Cow::Borrowed(ns),
            None => Cow::Owned(with_name_label(&json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": name},
            }))),
        }
    }

    /// Gatekeeper's `data.inventory`: `cluster[apiVersion][kind][name]` for objects without a
    /// namespace, `namespace[ns][apiVersion][kind][name]` for the others.
    pub(crate) fn inventory(&self) -> &regorus::Value {
        self.inventory.get_or_init(|| inventory(self.objects))
    }
}

fn inventory(objects: &[Object]) -> regorus::Value {
    /// apiVersion → kind → name → object.
    type ByKind<'o> = BTreeMap<&'o str, BTreeMap<&'o str, Map<String, Value>>>;
    let mut cluster = ByKind::new();
    let mut namespaced: BTreeMap<&str, ByKind> = BTreeMap::new();
    for object in objects {
        let (api_version, kind, name) = (object.api_version(), object.kind(), object.name());
        // Gatekeeper rejects inventory objects without a version or kind.
        if api_version.is_empty() || kind.is_empty() || api_version.ends_with('/') {
            continue;
        }
        let root = match object.namespace().filter(|ns| !ns.is_empty()) {
            Some(ns) => namespaced.entry(ns).or_default(),
            None => &mut cluster,
        };
        root.entry(api_version)
            .or_default()
            .entry(kind)
            .or_default()
            .insert(name.to_string(), object.value.clone());
    }
    regorus::Value::from(json!({"cluster": cluster, "namespace": namespaced}))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inventory_uses_gatekeepers_key_layout() {
        let objects = palisade_loader::load_text(
            "inv.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n---\n\
             apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: fast}\n",
        )
        .objects;
        let cluster = Cluster::from_objects(&objects);
        let inventory: Value =
            serde_json::from_str(&cluster.inventory().to_json_str().unwrap_or_default())
                .unwrap_or_default();
        assert_eq!(
            inventory.pointer("/namespace/shop/apps~1v1/Deployment/web/metadata/name"),
            Some(&json!("web"))
        );
        assert_eq!(
            inventory.pointer("/cluster/storage.k8s.io~1v1/StorageClass/fast/kind"),
            Some(&json!("StorageClass"))
        );
    }

    #[test]
    fn unknown_namespaces_carry_the_name_label() {
        let cluster = Cluster::default();
        let ns = cluster.namespace_or_default("payments");
        assert_eq!(
            ns.pointer("/metadata/labels/kubernetes.io~1metadata.name"),
            Some(&json!("payments"))
        );
    }
}
