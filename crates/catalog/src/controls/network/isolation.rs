//! NetworkPolicy coverage: namespaces without any (PAL-701), pods no Ingress policy selects
//! (PAL-702), policies that select no scanned pod (PAL-703).

use super::{
    NAMESPACE_AND_WORKLOADS, custom_resources_in, pod_labels_or_empty, policed_pod,
    template_selector, workloads_in,
};
use crate::registry::{Rule, Target};
use crate::util::{selector_matches, strings};
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::{Map, Value};

pub const NAMESPACES: Rule = Rule {
    id: "PAL-701",
    target: Target::Kinds(NAMESPACE_AND_WORKLOADS),
    check: namespaces,
};

pub const UNISOLATED: Rule = Rule {
    id: "PAL-702",
    target: Target::Workload,
    check: unisolated,
};

pub const DANGLING: Rule = Rule {
    id: "PAL-703",
    target: Target::Kinds(&["NetworkPolicy"]),
    check: dangling,
};

const POLICY: &str = "NetworkPolicy";

/// Reported on each Namespace object, and for a namespace known only from objects'
/// `metadata.namespace`, on the first workload of that namespace. Objects with no namespace
/// land wherever they are applied, so no namespace is judged for them.
fn namespaces(object: &Object, ctx: &Context<'_>, hits: &mut Hits) {
    if object.kind() == "Namespace" {
        let name = object.name();
        if ctx.of_kind_in(POLICY, name).next().is_none() {
            hits.push(
                "/metadata/name",
                format!("namespace {name:?} has no NetworkPolicy among the scanned objects"),
            );
        }
        return;
    }
    let Some(namespace) = object.namespace().filter(|ns| !ns.is_empty()) else {
        return;
    };
    if ctx.declared_namespaces().contains(namespace)
        || ctx.of_kind_in(POLICY, namespace).next().is_some()
    {
        return;
    }
    // Objects are in input order, so the first one indexed is the first one read.
    let first = workloads_in(ctx, namespace).next();
    if first.is_some_and(|f| std::ptr::eq(f, object)) {
        hits.push(
            "/metadata/namespace",
            format!(
                "namespace {namespace:?} has no NetworkPolicy among the scanned objects \
                 (reported on its first workload, as no Namespace object is scanned)"
            ),
        );
    }
}

/// A NetworkPolicy's pod selector; a missing one decodes as empty, which selects every pod.
fn pod_selector(policy: &Object) -> Value {
    policy
        .at("/spec/podSelector")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()))
}

/// Without `policyTypes`, a policy always covers Ingress.
fn covers_ingress(policy: &Object) -> bool {
    match policy.at("/spec/policyTypes") {
        Some(types) => strings(Some(types)).any(|(_, t)| t == "Ingress"),
        None => true,
    }
}

fn unisolated(object: &Object, ctx: &Context<'_>, hits: &mut Hits) {
    let Some(pod) = policed_pod(object) else {
        return;
    };
    let namespace = object.effective_namespace();
    let labels = pod_labels_or_empty(object);
    let policies: Vec<&Object> = ctx.of_kind_in(POLICY, namespace).collect();
    let covered = policies
        .iter()
        .any(|p| covers_ingress(p) && selector_matches(&pod_selector(p), labels));
    if covered {
        return;
    }
    hits.push(
        format!("{}/labels", pod.metadata_pointer),
        format!(
            "no NetworkPolicy with policy type Ingress selects the pods of this {} ({} \
             NetworkPolicy object(s) scanned in namespace {namespace:?}): any pod of the \
             cluster can connect to them",
            object.kind(),
            policies.len()
        ),
    );
}

/// Only judged when workloads of the namespace are scanned, and not when a custom resource
/// of the namespace carries the selected labels (its operator may run the pods).
fn dangling(object: &Object, ctx: &Context<'_>, hits: &mut Hits) {
    let namespace = object.effective_namespace();
    let workloads: Vec<&Object> = workloads_in(ctx, namespace).collect();
    if workloads.is_empty() {
        return;
    }
    let selector = template_selector(&pod_selector(object));
    if workloads
        .iter()
        .any(|w| selector_matches(&selector, pod_labels_or_empty(w)))
        || custom_resources_in(ctx, namespace).any(|r| selector_matches(&selector, r.labels()))
    {
        return;
    }
    hits.push(
        "/spec/podSelector",
        format!(
            "podSelector matches the pods of none of the {} workload(s) scanned in namespace \
             {namespace:?}",
            workloads.len()
        ),
    );
}
