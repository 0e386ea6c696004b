//! PAL-915: Namespaces must enforce a Pod Security Standards level through the Pod Security
//! Admission label (CIS 5.2.1: an active policy control mechanism).

use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::{Object, escape_token};
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "PAL-915",
    target: Target::Kinds(&["Namespace"]),
    check,
};

const ENFORCE: &str = "pod-security.kubernetes.io/enforce";

const LEVELS: [&str; 3] = ["privileged", "baseline", "restricted"];

/// Namespaces whose control-plane and node components (static pods, CNI and kube-proxy
/// DaemonSets) need host access by design, so no Pod Security level fits them.
const SYSTEM_NAMESPACES: [&str; 3] = ["kube-system", "kube-public", "kube-node-lease"];

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let name = object.name();
    if SYSTEM_NAMESPACES.contains(&name) {
        return;
    }
    let label = format!("/metadata/labels/{}", escape_token(ENFORCE));
    match object.labels().get(ENFORCE) {
        None => hits.push(
            "/metadata/labels",
            format!(
                "namespace {name:?} has no {ENFORCE} label: its pods get the cluster's default \
                 level, privileged unless the admission configuration sets another"
            ),
        ),
        Some(Value::String(level)) if level == "privileged" => hits.push(
            label,
            format!(
                "namespace {name:?} enforces level privileged: no Pod Security Standard \
                 applies to its pods"
            ),
        ),
        Some(Value::String(level)) if LEVELS.contains(&level.as_str()) => {}
        Some(value) => hits.push(
            label,
            format!(
                "{ENFORCE} is {value}, not one of privileged, baseline, restricted: Pod \
                 Security Admission rejects the namespace"
            ),
        ),
    }
}
