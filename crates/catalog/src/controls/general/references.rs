//! PAL-910, PAL-911: references to objects a workload needs, judged against the scan only
//! when objects of that kind in the same namespace are scanned at all.

use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

pub const SERVICE_ACCOUNT: Rule = Rule {
    id: "PAL-910",
    target: Target::Workload,
    check: service_account,
};

pub const STATEFULSET_SERVICE: Rule = Rule {
    id: "PAL-911",
    target: Target::Kinds(&["StatefulSet"]),
    check: statefulset_service,
};

fn service_account(object: &Object, ctx: &Context<'_>, hits: &mut Hits) {
    let Some(pod) = object.pod_spec() else {
        return;
    };
    // `serviceAccount` is the deprecated alias; `serviceAccountName` wins when both are set.
    let Some((field, name)) = ["serviceAccountName", "serviceAccount"]
        .into_iter()
        .find_map(|f| {
            pod.get(f)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(|s| (f, s))
        })
    else {
        return;
    };
    // Every namespace has its default service account.
    if name == "default" {
        return;
    }
    let namespace = object.effective_namespace();
    if ctx.of_kind_in("ServiceAccount", namespace).next().is_none()
        || ctx.named("ServiceAccount", namespace, name).is_some()
    {
        return;
    }
    hits.push(
        pod.field(field),
        format!(
            "{field} {name:?} names a ServiceAccount that is not among the scanned ServiceAccounts of its namespace; pods cannot be created without it"
        ),
    );
}

fn statefulset_service(object: &Object, ctx: &Context<'_>, hits: &mut Hits) {
    let Some(name) = object
        .at("/spec/serviceName")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        hits.push(
            "/spec/serviceName",
            "spec.serviceName is not set: the pods get no stable network identity (pod-0.service DNS names)",
        );
        return;
    };
    let namespace = object.effective_namespace();
    if ctx.of_kind_in("Service", namespace).next().is_none() {
        return;
    }
    match ctx.named("Service", namespace, name) {
        None => hits.push(
            "/spec/serviceName",
            format!(
                "spec.serviceName {name:?} names a Service that is not among the scanned Services of its namespace"
            ),
        ),
        Some(service) => {
            if service.at("/spec/clusterIP").and_then(Value::as_str) != Some("None") {
                hits.push(
                    "/spec/serviceName",
                    format!(
                        "spec.serviceName {name:?} names a Service that is not headless (its clusterIP is not None), so the pods get no per-pod DNS names"
                    ),
                );
            }
        }
    }
}
