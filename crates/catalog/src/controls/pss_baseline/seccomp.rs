//! PAL-113: seccomp profiles other than the runtime default or a node-local profile.

use super::support::{profile_setting, set, setters, text};
use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "PAL-113",
    target: Target::Workload,
    check,
};

/// True for a `seccompProfile` whose type is `RuntimeDefault` or `Localhost`.
pub(crate) fn allowed_profile(profile: &Value) -> bool {
    text(Some(profile), "type").is_some_and(|t| matches!(t, "RuntimeDefault" | "Localhost"))
}

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for setter in setters(object) {
        let Some(profile) = set(setter.context, "seccompProfile") else {
            continue;
        };
        if allowed_profile(profile) {
            continue;
        }
        hits.push(
            setter.field("/seccompProfile/type"),
            format!(
                "{} {}; only RuntimeDefault or Localhost are allowed",
                setter.label(),
                profile_setting("seccompProfile", profile)
            ),
        );
    }
}
