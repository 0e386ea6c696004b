//! PAL-204: runAsUser must not be 0.

use crate::controls::pss_baseline::support::{in_user_namespace, set, setters};
use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;

pub const RULE: Rule = Rule {
    id: "PAL-204",
    target: Target::Workload,
    check,
};

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    if object.pod_spec().is_some_and(|pod| in_user_namespace(&pod)) {
        return;
    }
    for setter in setters(object) {
        let user = set(setter.context, "runAsUser");
        if user.and_then(|u| u.as_f64()) == Some(0.0) {
            hits.push(
                setter.field("/runAsUser"),
                format!("{} sets runAsUser to 0 (root)", setter.label()),
            );
        }
    }
}
