//! PAL-901..903: where objects live.
//!
//! The default-namespace control only judges `metadata.namespace: default` as written: an
//! object without a namespace lands wherever `kubectl apply -n`, Kustomize or Helm sends it,
//! which a manifest cannot tell. Objects read from a cluster always carry their namespace,
//! so a cluster scan sees every object of the default namespace. The separate, informational
//! PAL-902 reports manifests that leave the namespace to the tool that applies them.

use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

/// Namespaced kinds a user creates for an application. Kinds that only restrict a namespace
/// (LimitRange, ResourceQuota, NetworkPolicy) are not "using" it and are listed separately.
const APPLICATION_KINDS: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "PodTemplate",
    "Service",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "Ingress",
    "PersistentVolumeClaim",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
];

const SYSTEM_NAMESPACES: [&str; 3] = ["kube-system", "kube-public", "kube-node-lease"];

pub const DEFAULT_NAMESPACE: Rule = Rule {
    id: "PAL-901",
    target: Target::Kinds(APPLICATION_KINDS),
    check: default_namespace,
};

pub const NAMESPACE_UNSET: Rule = Rule {
    id: "PAL-902",
    target: Target::Namespaced,
    check: namespace_unset,
};

pub const SYSTEM_NAMESPACE: Rule = Rule {
    id: "PAL-903",
    target: Target::Workload,
    check: system_namespace,
};

/// Objects the API server creates in every namespace, or in the default one, by itself.
fn built_in(object: &Object) -> bool {
    matches!(
        (object.kind(), object.name()),
        ("Service", "kubernetes")
            | ("ServiceAccount", "default")
            | ("ConfigMap", "kube-root-ca.crt")
    )
}

fn default_namespace(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    if object.namespace() == Some("default") && !built_in(object) {
        hits.push(
            "/metadata/namespace",
            format!(
                "{} {:?} is in the default namespace",
                object.kind(),
                object.name()
            ),
        );
    }
}

fn namespace_unset(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    // A live object without a namespace is cluster-scoped: the API server says so.
    if object.namespace().is_none() && !object.source.is_live() {
        hits.push(
            "/metadata/namespace",
            format!(
                "{} {:?} does not set metadata.namespace: it lands in whatever namespace it is applied to (default, unless one is chosen)",
                object.kind(),
                object.name()
            ),
        );
    }
}

fn system_namespace(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some(namespace) = object
        .namespace()
        .filter(|ns| SYSTEM_NAMESPACES.contains(ns))
    else {
        return;
    };
    if is_cluster_component(object) {
        return;
    }
    hits.push(
        "/metadata/namespace",
        format!(
            "{} {:?} runs in the system namespace {namespace}",
            object.kind(),
            object.name()
        ),
    );
}

/// Objects that carry the markers of the cluster's own components: static (mirror) pods, the
/// control plane's labels, add-on manager labels, and the DNS and kube-proxy add-ons every
/// distribution installs. Objects with an owner are judged on the owner.
fn is_cluster_component(object: &Object) -> bool {
    let labels = object.labels();
    let label = |key: &str| labels.get(key).and_then(Value::as_str);
    let owned = object
        .at("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| !refs.is_empty());
    owned
        || object
            .annotations()
            .contains_key("kubernetes.io/config.mirror")
        || label("tier") == Some("control-plane")
        || label("kubernetes.io/cluster-service") == Some("true")
        || labels.contains_key("addonmanager.kubernetes.io/mode")
        || matches!(label("k8s-app"), Some("kube-dns" | "kube-proxy"))
}
