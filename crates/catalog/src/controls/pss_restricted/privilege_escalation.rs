//! PAL-202: allowPrivilegeEscalation must be false on every container.

use crate::controls::pss_baseline::support::{is_windows, set, shown};
use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "PAL-202",
    target: Target::Workload,
    check,
};

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    if object.pod_spec().is_some_and(|pod| is_windows(&pod)) {
        return;
    }
    for c in object.containers() {
        let value = set(c.security_context(), "allowPrivilegeEscalation");
        if value.and_then(Value::as_bool) == Some(false) {
            continue;
        }
        let found = match value {
            None => "leaves it unset, which allows it".to_string(),
            Some(v) => format!("sets it to {}", shown(Some(v))),
        };
        hits.push(
            c.field("/securityContext/allowPrivilegeEscalation"),
            format!(
                "{} must set securityContext.allowPrivilegeEscalation to false but {found}",
                c.label()
            ),
        );
    }
}
