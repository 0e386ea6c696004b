//! How many replicas a Deployment or StatefulSet runs, and whether an autoscaler owns that
//! number: shared by the replica, PodDisruptionBudget and autoscaler rules.

use crate::Context;
use crate::util::pod_labels;
use palisade_model::Object;
use serde_json::Value;

/// `spec.replicas` as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Replicas {
    /// Not set: the API server defaults it to 1.
    Unset,
    /// A count.
    Count(u64),
    /// Not a count (a template placeholder, a string): nothing can be said.
    Unknown,
}

impl Replicas {
    /// Pods the controller keeps when nothing else scales it.
    pub(super) fn effective(self) -> Option<u64> {
        match self {
            Replicas::Unset => Some(1),
            Replicas::Count(n) => Some(n),
            Replicas::Unknown => None,
        }
    }
}

/// `spec.replicas` of a workload.
pub(super) fn replicas(object: &Object) -> Replicas {
    match object.at("/spec/replicas") {
        None | Some(Value::Null) => Replicas::Unset,
        Some(v) => v.as_u64().map_or(Replicas::Unknown, Replicas::Count),
    }
}

/// The fewest replicas an autoscaler in the scan keeps for this workload, if one targets it:
/// a HorizontalPodAutoscaler (`minReplicas`, default 1) or a KEDA ScaledObject
/// (`minReplicaCount`, default 0), which creates its HorizontalPodAutoscaler at run time.
pub(super) fn autoscaler_min(object: &Object, ctx: &Context<'_>) -> Option<u64> {
    ctx.autoscalers_of(object.effective_namespace(), object.name())
        .filter_map(|scaler| match scaler.kind() {
            "HorizontalPodAutoscaler" if targets(scaler, object, None) => {
                Some(min_of(scaler, "/spec/minReplicas", 1))
            }
            "ScaledObject"
                if scaler.api_group() == "keda.sh"
                    && targets(scaler, object, Some("Deployment")) =>
            {
                Some(min_of(scaler, "/spec/minReplicaCount", 0))
            }
            _ => None,
        })
        .max()
}

/// Does `scaler`'s `spec.scaleTargetRef` name this object? `default_kind` applies when the
/// reference leaves the kind out.
fn targets(scaler: &Object, object: &Object, default_kind: Option<&str>) -> bool {
    let target = scaler.at("/spec/scaleTargetRef");
    let field = |name: &str| target?.get(name)?.as_str();
    let kind = field("kind").or(default_kind);
    kind == Some(object.kind()) && field("name") == Some(object.name())
}

fn min_of(scaler: &Object, pointer: &str, default: u64) -> u64 {
    scaler
        .at(pointer)
        .and_then(Value::as_u64)
        .unwrap_or(default)
}

/// The Deployments, then the StatefulSets, of the namespace whose pods carry labels a label
/// selector selects.
pub(super) fn selected_workloads<'a>(
    ctx: &Context<'a>,
    namespace: &str,
    selector: &Value,
) -> Vec<&'a Object> {
    let mut selected: Vec<&'a Object> = ctx
        .workloads_selected(namespace, selector)
        .filter(|w| matches!(w.kind(), "Deployment" | "StatefulSet") && pod_labels(w).is_some())
        .collect();
    // Stable: each kind stays in the order read.
    selected.sort_by_key(|w| w.kind() != "Deployment");
    selected
}
