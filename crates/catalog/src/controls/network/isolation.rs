//! NetworkPolicy coverage: namespaces without any (PAL-701), pods no Ingress policy selects
//! (PAL-702), policies that select no scanned pod (PAL-703).

use super::{NAMESPACE_AND_WORKLOADS, pod_selector, policed_pod, template_selector};
use crate::registry::{Rule, Target};
use crate::util::{pod_labels_or_empty, selector_matches};
use crate::{Context, Hits};
use palisade_model::Object;

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
    let first = ctx.workloads_in(namespace).next();
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

fn unisolated(object: &Object, ctx: &Context<'_>, hits: &mut Hits) {
    let Some(pod) = policed_pod(object) else {
        return;
    };
    let namespace = object.effective_namespace();
    let labels = pod_labels_or_empty(object);
    let policies = ctx.network_policies_in(namespace);
    let covered = policies
        .iter()
        .any(|p| p.ingress && selector_matches(p.pod_selector, labels));
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
    if ctx.workloads_in(namespace).next().is_none() {
        return;
    }
    let selector = template_selector(pod_selector(object));
    if ctx
        .workloads_selected(namespace, &selector)
        .next()
        .is_some()
        || ctx
            .custom_resources_selected(namespace, &selector)
            .next()
            .is_some()
    {
        return;
    }
    hits.push(
        "/spec/podSelector",
        format!(
            "podSelector matches the pods of none of the {} workload(s) scanned in namespace \
             {namespace:?}",
            ctx.workloads_in(namespace).count()
        ),
    );
}
