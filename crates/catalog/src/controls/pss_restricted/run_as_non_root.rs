//! PAL-203: runAsNonRoot must be true for every container, at pod or container level.

use crate::controls::pss_baseline::support::{in_user_namespace, set, shown};
use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "PAL-203",
    target: Target::Workload,
    check,
};

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some(pod) = object.pod_spec() else {
        return;
    };
    if in_user_namespace(&pod) {
        return;
    }
    let pod_value = set(pod.security_context(), "runAsNonRoot");
    let pod_true = pod_value.and_then(Value::as_bool) == Some(true);
    if let Some(v) = pod_value.filter(|_| !pod_true) {
        hits.push(
            pod.field("securityContext/runAsNonRoot"),
            format!(
                "pod sets runAsNonRoot to {}; it must be true",
                shown(Some(v))
            ),
        );
    }
    for c in object.containers() {
        match set(c.security_context(), "runAsNonRoot") {
            Some(v) if v.as_bool() == Some(true) => {}
            Some(v) => hits.push(
                c.field("/securityContext/runAsNonRoot"),
                format!(
                    "{} sets runAsNonRoot to {}; it must be true",
                    c.label(),
                    shown(Some(v))
                ),
            ),
            // A container that inherits an explicit pod-level false is covered by that hit.
            None if pod_value.is_some() => {}
            None => hits.push(
                c.field("/securityContext/runAsNonRoot"),
                format!(
                    "{} may run as root: neither it nor the pod sets runAsNonRoot",
                    c.label()
                ),
            ),
        }
    }
}
