//! PAL-519, PAL-520: resource policies of a namespace, judged on the Namespace objects
//! scanned (a namespace only known from its objects' `metadata.namespace` could be governed
//! by policies applied elsewhere).
//!
//! The system namespaces are left out: a quota on kube-system can starve the control plane's
//! own add-ons, and nothing runs in kube-public or kube-node-lease.

use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;

const NAMESPACE: &[&str] = &["Namespace"];

pub const NO_LIMIT_RANGE: Rule = Rule {
    id: "PAL-519",
    target: Target::Kinds(NAMESPACE),
    check: |ns, ctx, hits| missing(ns, ctx, hits, "LimitRange"),
};

pub const NO_RESOURCE_QUOTA: Rule = Rule {
    id: "PAL-520",
    target: Target::Kinds(NAMESPACE),
    check: |ns, ctx, hits| missing(ns, ctx, hits, "ResourceQuota"),
};

fn missing(namespace: &Object, ctx: &Context<'_>, hits: &mut Hits, kind: &str) {
    let name = namespace.name();
    if name.is_empty() || matches!(name, "kube-system" | "kube-public" | "kube-node-lease") {
        return;
    }
    if ctx.of_kind_in(kind, name).next().is_none() {
        hits.push(
            "/metadata/name",
            format!("namespace {name:?} has no {kind} among the scanned objects"),
        );
    }
}
