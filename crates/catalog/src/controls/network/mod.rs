//! Rules of the `network` group: NetworkPolicy coverage (CIS Kubernetes Benchmark 5.3),
//! how Services and Ingresses expose workloads, and ingress-nginx configuration injection.

mod ingress;
mod isolation;
mod policies;
mod ports;
mod services;

use crate::registry::Rule;
use crate::util::{items, strings};
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

/// A NetworkPolicy as the coverage rules read it, derived once per scan.
#[derive(Debug)]
pub(crate) struct PolicyView<'a> {
    /// See [`pod_selector`].
    pub pod_selector: &'a Value,
    /// See [`directions`].
    pub ingress: bool,
    /// See [`directions`].
    pub egress: bool,
}

impl<'a> PolicyView<'a> {
    pub fn of(policy: &'a Object) -> Self {
        let (ingress, egress) = directions(policy);
        PolicyView {
            pod_selector: pod_selector(policy),
            ingress,
            egress,
        }
    }
}

static SELECT_ALL: LazyLock<Value> = LazyLock::new(|| Value::Object(Map::new()));

/// A NetworkPolicy's pod selector; a missing or null one decodes as empty, which selects
/// every pod of the namespace.
fn pod_selector(policy: &Object) -> &Value {
    policy
        .at("/spec/podSelector")
        .filter(|s| !s.is_null())
        .unwrap_or(&SELECT_ALL)
}

/// Which directions a policy isolates, `(ingress, egress)`, after the API server's defaulting:
/// without policyTypes (or with an empty list) every policy covers Ingress, and Egress when it
/// has egress rules.
fn directions(policy: &Object) -> (bool, bool) {
    let written: Vec<&str> = strings(policy.at("/spec/policyTypes"))
        .map(|(_, t)| t)
        .collect();
    if written.is_empty() {
        let has_egress = items(policy.at("/spec/egress")).next().is_some();
        return (true, has_egress);
    }
    (written.contains(&"Ingress"), written.contains(&"Egress"))
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

#[cfg(test)]
mod defaulting {
    use super::*;
    use palisade_model::{Positions, Source};
    use serde_json::json;

    fn view(spec: Value) -> (bool, bool, Value) {
        let policy = Object::new(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": "p"}, "spec": spec}),
            Source::file("p.yaml", 1),
            Positions::default(),
        );
        let v = PolicyView::of(&policy);
        (v.ingress, v.egress, v.pod_selector.clone())
    }

    #[test]
    fn policies_read_as_the_api_server_defaults_them() {
        assert_eq!(
            view(json!({"podSelector": null, "policyTypes": []})),
            (true, false, json!({}))
        );
        assert_eq!(view(json!({"egress": [{}]})), (true, true, json!({})));
        assert_eq!(
            view(json!({"podSelector": {"matchLabels": {"a": "b"}}, "policyTypes": ["Egress"]})),
            (false, true, json!({"matchLabels": {"a": "b"}}))
        );
    }
}
