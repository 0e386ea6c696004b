//! PAL-101: privileged containers.

use crate::registry::{Rule, Target};
use crate::util::is_true;
use crate::{Context, Hits};
use palisade_model::Object;

pub const RULE: Rule = Rule {
    id: "PAL-101",
    target: Target::Workload,
    check,
};

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for c in object.containers() {
        if is_true(c.at("/securityContext/privileged")) {
            hits.push(
                c.field("/securityContext/privileged"),
                format!(
                    "{} runs privileged (securityContext.privileged: true)",
                    c.label()
                ),
            );
        }
    }
}
