use crate::positions::Positions;
use crate::workload::{ContainerRef, PodSpecRef, containers_of, pod_spec_of};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Where an object came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// File path as the user named it (`-` for stdin, `cluster://…` for live objects).
    pub file: Arc<str>,
    /// Line of the object's first field (1-based; 0 when unknown).
    pub line: u32,
    /// Index of the YAML document in its file (0-based).
    pub document: u32,
}

impl Source {
    /// Prefix of [`Source::file`] for objects read from a live cluster.
    pub const LIVE: &'static str = "cluster://";

    /// True for an object read from a live cluster (whose scope the API server settled).
    pub fn is_live(&self) -> bool {
        self.file.starts_with(Self::LIVE)
    }

    /// A source in a file at a line, first document.
    pub fn file(file: impl Into<Arc<str>>, line: u32) -> Self {
        Source {
            file: file.into(),
            line,
            document: 0,
        }
    }
}

/// One Kubernetes resource as JSON, with its origin and a line index of its fields.
#[derive(Debug, Clone)]
pub struct Object {
    /// The resource exactly as read (after YAML 1.1 resolution, as Kubernetes reads it).
    pub value: Value,
    /// Where it came from.
    pub source: Source,
    positions: Positions,
}

static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

impl Object {
    /// Wraps a value with its origin and line index.
    pub fn new(value: Value, source: Source, positions: Positions) -> Self {
        Object {
            value,
            source,
            positions,
        }
    }

    /// `kind`, or `""` when absent.
    pub fn kind(&self) -> &str {
        self.value.get("kind").and_then(Value::as_str).unwrap_or("")
    }

    /// `apiVersion`, or `""` when absent.
    pub fn api_version(&self) -> &str {
        self.value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// API group (`""` for the core group).
    pub fn api_group(&self) -> &str {
        self.api_version()
            .rsplit_once('/')
            .map(|(g, _)| g)
            .unwrap_or("")
    }

    /// `metadata.name`, falling back to `metadata.generateName`, or `""`.
    pub fn name(&self) -> &str {
        let meta = self.value.get("metadata");
        meta.and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .or_else(|| {
                meta.and_then(|m| m.get("generateName"))
                    .and_then(Value::as_str)
            })
            .unwrap_or("")
    }

    /// `metadata.namespace` as written (None when not set or cluster-scoped).
    pub fn namespace(&self) -> Option<&str> {
        self.value
            .get("metadata")
            .and_then(|m| m.get("namespace"))
            .and_then(Value::as_str)
    }

    /// The namespace used to relate objects to each other: the written one, `""` when unset.
    /// Manifests without a namespace are usually applied together into one namespace, so
    /// they are related to each other and to nothing else.
    pub fn effective_namespace(&self) -> &str {
        self.namespace().unwrap_or("")
    }

    /// `metadata.labels` (empty when absent).
    pub fn labels(&self) -> &Map<String, Value> {
        self.meta_map("labels")
    }

    /// `metadata.annotations` (empty when absent).
    pub fn annotations(&self) -> &Map<String, Value> {
        self.meta_map("annotations")
    }

    fn meta_map(&self, key: &str) -> &Map<String, Value> {
        self.value
            .get("metadata")
            .and_then(|m| m.get(key))
            .and_then(Value::as_object)
            .unwrap_or(&EMPTY)
    }

    /// Value at a JSON pointer.
    pub fn at(&self, pointer: &str) -> Option<&Value> {
        crate::pointer::lookup(&self.value, pointer)
    }

    /// Line of the field at `pointer`, or of its nearest ancestor, or of the object.
    pub fn line_of(&self, pointer: &str) -> u32 {
        self.positions.line_of(pointer).unwrap_or(self.source.line)
    }

    /// The line index.
    pub fn positions(&self) -> &Positions {
        &self.positions
    }

    /// True for the kinds that carry a pod template (Pod, Deployment, StatefulSet, DaemonSet,
    /// ReplicaSet, ReplicationController, Job, CronJob, and PodTemplate).
    pub fn is_workload(&self) -> bool {
        self.pod_spec().is_some()
    }

    /// The pod spec of a workload, whatever its kind, with its JSON pointer.
    pub fn pod_spec(&self) -> Option<PodSpecRef<'_>> {
        pod_spec_of(self.kind(), &self.value)
    }

    /// Containers, init containers and ephemeral containers of a workload's pod spec.
    pub fn containers(&self) -> impl Iterator<Item = ContainerRef<'_>> {
        self.pod_spec().into_iter().flat_map(containers_of)
    }
}

/// Kinds that are not namespaced (built-in kinds only; custom resources default to namespaced).
pub fn is_cluster_scoped(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "Node"
            | "PersistentVolume"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "CustomResourceDefinition"
            | "StorageClass"
            | "PriorityClass"
            | "IngressClass"
            | "RuntimeClass"
            | "CSIDriver"
            | "CSINode"
            | "VolumeAttachment"
            | "ValidatingWebhookConfiguration"
            | "MutatingWebhookConfiguration"
            | "ValidatingAdmissionPolicy"
            | "ValidatingAdmissionPolicyBinding"
            | "MutatingAdmissionPolicy"
            | "MutatingAdmissionPolicyBinding"
            | "InitializerConfiguration"
            | "APIService"
            | "CertificateSigningRequest"
            | "PodSecurityPolicy"
            | "FlowSchema"
            | "PriorityLevelConfiguration"
            | "ClusterIssuer"
            | "GatewayClass"
            | "ConstraintTemplate"
            | "ComponentStatus"
            | "IPAddress"
            | "ServiceCIDR"
            | "DeviceClass"
            | "ResourceSlice"
            | "VolumeAttributesClass"
            | "ClusterTrustBundle"
            | "StorageVersionMigration"
            | "TokenReview"
            | "SelfSubjectReview"
            | "SelfSubjectAccessReview"
            | "SelfSubjectRulesReview"
            | "SubjectAccessReview"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Object {
        Object::new(v, Source::file("x.yaml", 3), Positions::default())
    }

    #[test]
    fn reads_metadata() {
        let o = obj(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}}}));
        assert_eq!(o.api_group(), "apps");
        assert_eq!(o.name(), "web");
        assert_eq!(o.namespace(), Some("shop"));
        assert_eq!(o.labels().len(), 1);
        assert_eq!(o.line_of("/spec"), 3);
    }

    #[test]
    fn tolerates_wrong_types() {
        let o = obj(json!({"kind": 7, "metadata": ["x"]}));
        assert_eq!(o.kind(), "");
        assert_eq!(o.name(), "");
        assert!(o.labels().is_empty());
        assert!(!o.is_workload());
    }
}
