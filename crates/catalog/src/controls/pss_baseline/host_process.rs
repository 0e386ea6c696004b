//! PAL-102: Windows HostProcess containers.

use super::support::setters;
use crate::registry::{Rule, Target};
use crate::util::is_true;
use crate::{Context, Hits};
use palisade_model::Object;

pub const RULE: Rule = Rule {
    id: "PAL-102",
    target: Target::Workload,
    check,
};

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for setter in setters(object) {
        let flag = setter
            .context
            .and_then(|sc| sc.get("windowsOptions"))
            .and_then(|options| options.get("hostProcess"));
        if is_true(flag) {
            hits.push(
                setter.field("/windowsOptions/hostProcess"),
                format!(
                    "{} runs as a Windows HostProcess (securityContext.windowsOptions.hostProcess: true)",
                    setter.label()
                ),
            );
        }
    }
}
