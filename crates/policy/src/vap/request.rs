//! The admission request a scanned object stands for: a CREATE of the object, or the request
//! of an `AdmissionReview` as written; what matching reads of it, and CEL's `request`.

use super::resources::resource_of;
use crate::Cluster;
use crate::cluster::NAMESPACE_NAME_LABEL;
use crate::gatekeeper::Reviewed;
use serde_json::{Map, Value, json};

/// What matching reads of a request.
#[derive(Debug)]
pub(crate) struct Attributes<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub kind: &'a str,
    pub resource: String,
    pub sub_resource: &'a str,
    /// `CREATE` for a scanned object.
    pub operation: &'a str,
    pub name: &'a str,
    /// Empty for a cluster-scoped object and for an object written without a namespace.
    pub namespace: &'a str,
    pub cluster_scoped: bool,
    pub object_labels: Option<&'a Map<String, Value>>,
    pub old_object_labels: Option<&'a Map<String, Value>>,
    /// The labels of the object's namespace (of the object itself for a Namespace).
    pub namespace_labels: Map<String, Value>,
}

impl<'a> Attributes<'a> {
    /// The attributes of a reviewed object. A namespace that is not among the scanned
    /// objects is taken to have only the `kubernetes.io/metadata.name` label the API server
    /// sets; an object without a namespace is in an unknown namespace with no labels.
    pub fn of(reviewed: &'a Reviewed, cluster: &Cluster) -> Attributes<'a> {
        let (group, version, kind) = (
            reviewed.field("/kind/group"),
            reviewed.field("/kind/version"),
            reviewed.field("/kind/kind"),
        );
        let resource = match reviewed.field("/resource/resource") {
            "" => resource_of(kind),
            written => written.to_string(),
        };
        let operation = match reviewed.field("/operation") {
            "" => "CREATE",
            written => written,
        };
        let namespace = reviewed.field("/namespace");
        let labels = |pointer: &str| reviewed.json.pointer(pointer).and_then(Value::as_object);
        let object_labels = labels("/object/metadata/labels");
        let cluster_scoped = palisade_model::is_cluster_scoped(kind);
        let name = reviewed.field("/name");
        let namespace_labels = if resource == "namespaces" {
            let mut own = object_labels
                .or(labels("/oldObject/metadata/labels"))
                .cloned()
                .unwrap_or_default();
            own.insert(NAMESPACE_NAME_LABEL.into(), Value::String(name.to_string()));
            own
        } else {
            namespace_labels(cluster, namespace)
        };
        Attributes {
            group,
            version,
            kind,
            resource,
            sub_resource: reviewed.field("/subResource"),
            operation,
            name,
            namespace,
            cluster_scoped,
            object_labels,
            old_object_labels: labels("/oldObject/metadata/labels"),
            namespace_labels,
        }
    }

    /// CEL's `request`: the AdmissionRequest fields the API server gives, for an
    /// `AdmissionReview` the ones written over these.
    pub fn request(&self, reviewed: &Reviewed) -> Value {
        let kind = json!({"group": self.group, "version": self.version, "kind": self.kind});
        let resource =
            json!({"group": self.group, "version": self.version, "resource": self.resource});
        let mut request = json!({
            "uid": "",
            "kind": kind,
            "resource": resource,
            "subResource": self.sub_resource,
            "requestKind": kind,
            "requestResource": resource,
            "requestSubResource": self.sub_resource,
            "name": self.name,
            "namespace": self.namespace,
            "operation": self.operation,
            "userInfo": {"username": "", "uid": "", "groups": [], "extra": {}},
            "dryRun": false,
            "options": null,
        });
        if let (Some(fields), Value::Object(written)) = (request.as_object_mut(), &reviewed.json) {
            for (key, value) in written {
                if key != "object" && key != "oldObject" && !value.is_null() {
                    fields.insert(key.clone(), value.clone());
                }
            }
        }
        request
    }
}

fn namespace_labels(cluster: &Cluster, namespace: &str) -> Map<String, Value> {
    if namespace.is_empty() {
        return Map::new();
    }
    cluster
        .namespace_labels(namespace)
        .cloned()
        .unwrap_or_else(|| {
            let mut labels = Map::new();
            labels.insert(
                NAMESPACE_NAME_LABEL.into(),
                Value::String(namespace.to_string()),
            );
            labels
        })
}
