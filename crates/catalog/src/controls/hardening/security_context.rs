//! PAL-308: containers with no security context at all, neither their own nor the pod's.

use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "PAL-308",
    target: Target::Workload,
    check,
};

/// An absent, null or empty securityContext sets nothing.
fn sets_something(sc: Option<&Value>) -> bool {
    sc.and_then(Value::as_object).is_some_and(|m| !m.is_empty())
}

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some(pod) = object.pod_spec() else {
        return;
    };
    if sets_something(pod.security_context()) {
        return;
    }
    for c in object.containers() {
        if !sets_something(c.security_context()) {
            hits.push(
                c.field("/securityContext"),
                format!(
                    "{} has no securityContext and the pod sets none: it runs with the \
                     runtime's defaults",
                    c.label()
                ),
            );
        }
    }
}
