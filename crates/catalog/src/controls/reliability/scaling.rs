//! How many replicas a Deployment or StatefulSet runs, and whether an autoscaler owns that
//! number: shared by the replica, PodDisruptionBudget and autoscaler rules.

use crate::Context;
use crate::util::{pod_labels, selector_matches};
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
    let namespace = object.effective_namespace();
    let hpas = ctx
        .of_kind_in("HorizontalPodAutoscaler", namespace)
        .filter(|hpa| targets(hpa, object, None))
        .map(|hpa| min_of(hpa, "/spec/minReplicas", 1));
    let scaled_objects = ctx
        .of_kind_in("ScaledObject", namespace)
        .filter(|so| so.api_group() == "keda.sh" && targets(so, object, Some("Deployment")))
        .map(|so| min_of(so, "/spec/minReplicaCount", 0));
    hpas.chain(scaled_objects).max()
}

/// Does `scaler`'s `spec.scaleTargetRef` name this object? `default_kind` applies when the
/// reference leaves the kind out.
fn targets(scaler: &Object, object: &Object, default_kind: Option<&str>) -> bool {
    let field = |name: &str| {
        scaler
            .at(&format!("/spec/scaleTargetRef/{name}"))
            .and_then(Value::as_str)
    };
    let kind = field("kind").or(default_kind);
    kind == Some(object.kind()) && field("name") == Some(object.name())
}

fn min_of(scaler: &Object, pointer: &str, default: u64) -> u64 {
    scaler
        .at(pointer)
        .and_then(Value::as_u64)
        .unwrap_or(default)
}

/// The Deployments and StatefulSets of the namespace whose pods a label selector selects.
pub(super) fn selected_workloads<'a>(
    ctx: &'a Context<'a>,
    namespace: &'a str,
    selector: &'a Value,
) -> impl Iterator<Item = &'a Object> + 'a {
    ["Deployment", "StatefulSet"]
        .into_iter()
        .flat_map(move |kind| ctx.of_kind_in(kind, namespace))
        .filter(move |w| pod_labels(w).is_some_and(|labels| selector_matches(selector, labels)))
}
