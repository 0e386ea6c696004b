//! PAL-111: custom SELinux options.

use super::support::{set, setters, shown, text};
use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;

pub const RULE: Rule = Rule {
    id: "PAL-111",
    target: Target::Workload,
    check,
};

/// Allowed `seLinuxOptions.type` values (empty means the runtime's default).
const ALLOWED_TYPES: &[&str] = &[
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for setter in setters(object) {
        let Some(options) = set(setter.context, "seLinuxOptions") else {
            continue;
        };
        if !text(Some(options), "type").is_some_and(|t| ALLOWED_TYPES.contains(&t)) {
            hits.push(
                setter.field("/seLinuxOptions/type"),
                format!(
                    "{} sets seLinuxOptions.type to {}; only container_t, container_init_t, container_kvm_t or container_engine_t are allowed",
                    setter.label(),
                    shown(options.get("type"))
                ),
            );
        }
        for field in ["user", "role"] {
            if text(Some(options), field) != Some("") {
                hits.push(
                    setter.field(&format!("/seLinuxOptions/{field}")),
                    format!(
                        "{} sets seLinuxOptions.{field} to {}; it must be left unset",
                        setter.label(),
                        shown(options.get(field))
                    ),
                );
            }
        }
    }
}
