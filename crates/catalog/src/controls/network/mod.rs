//! Rules of the `network` group: NetworkPolicy coverage (CIS Kubernetes Benchmark 5.3),
//! how Services and Ingresses expose workloads, and ingress-nginx configuration injection.

mod ingress;
mod isolation;
mod policies;
mod ports;
mod services;

use crate::Context;
use crate::registry::Rule;
use crate::util::pod_labels;
use palisade_model::Object;
use serde_json::{Map, Value};
use std::sync::LazyLock;

/// Every rule of the group.
pub const RULES: &[Rule] = &[
    isolation::NAMESPACES,
    isolation::UNISOLATED,
    isolation::DANGLING,
    services::NODE_PORT,
    services::EXTERNAL_IPS,
    services::LOAD_BALANCER,
    services::DANGLING,
    ingress::TLS,
    ingress::DANGLING,
    ingress::SNIPPETS,
    ingress::INJECTION,
    ports::RULE,
    policies::OPEN_RULES,
    policies::EGRESS,
];

/// Namespace, then the kinds whose objects run pods (PodTemplate carries a pod spec but
/// runs nothing).
const NAMESPACE_AND_WORKLOADS: &[&str] = &[
    "Namespace",
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "DeploymentConfig",
];

/// The pod spec of a workload whose pods NetworkPolicies govern: not host-network pods, and
/// not a PodTemplate, which runs nothing.
fn policed_pod(object: &Object) -> Option<palisade_model::PodSpecRef<'_>> {
    object.pod_spec().filter(|pod| {
        object.kind() != "PodTemplate" && pod.get("hostNetwork") != Some(&Value::Bool(true))
    })
}

/// The workloads of a namespace that run pods.
fn workloads_in<'a>(ctx: &Context<'a>, namespace: &str) -> impl Iterator<Item = &'a Object> {
    ctx.workloads_in(namespace)
}

static NO_LABELS: LazyLock<Map<String, Value>> = LazyLock::new(Map::new);

/// The labels a workload's pods get, empty when it sets none.
fn pod_labels_or_empty(object: &Object) -> &Map<String, Value> {
    pod_labels(object).unwrap_or(&NO_LABELS)
}

/// Labels that controllers add to the pods they create, which pod templates do not carry.
const CONTROLLER_LABELS: &[&str] = &[
    "pod-template-hash",
    "controller-revision-hash",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "job-name",
    "controller-uid",
    "batch.kubernetes.io/job-name",
    "batch.kubernetes.io/controller-uid",
    "batch.kubernetes.io/job-completion-index",
];

/// A selector (a map, or a LabelSelector's `matchLabels` and `matchExpressions`) without
/// the terms on controller-added labels, so it can be compared with pod templates.
fn template_selector(selector: &Value) -> Value {
    let mut selector = selector.clone();
    let is_controller = |key: &str| CONTROLLER_LABELS.contains(&key);
    if let Some(map) = selector.as_object_mut() {
        map.retain(|k, _| !is_controller(k));
        if let Some(Value::Object(labels)) = map.get_mut("matchLabels") {
            labels.retain(|k, _| !is_controller(k));
        }
        if let Some(Value::Array(exprs)) = map.get_mut("matchExpressions") {
            exprs.retain(|e| !is_controller(e.get("key").and_then(Value::as_str).unwrap_or("")));
        }
    }
    selector
}

/// Objects of custom resource kinds in a namespace: operators create pods from them (a
/// Prometheus, a Kafka cluster) that no scanned workload describes.
fn custom_resources_in<'a>(ctx: &Context<'a>, namespace: &str) -> impl Iterator<Item = &'a Object> {
    ctx.custom_resources_in(namespace)
}
