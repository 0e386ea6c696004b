//! PAL-110: AppArmor profiles other than the runtime default or a node-local profile.

use super::support::{profile_setting, set, setters, shown, text};
use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::{Object, escape_token};
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "PAL-110",
    target: Target::Workload,
    check,
};

/// Allowed `appArmorProfile.type` values.
const ALLOWED_TYPES: &[&str] = &["RuntimeDefault", "Localhost"];

/// Prefix of the annotations that set a container's profile before the field existed.
const ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for setter in setters(object) {
        let Some(profile) = set(setter.context, "appArmorProfile") else {
            continue;
        };
        if text(Some(profile), "type").is_some_and(|t| ALLOWED_TYPES.contains(&t)) {
            continue;
        }
        hits.push(
            setter.field("/appArmorProfile/type"),
            format!(
                "{} {}; only RuntimeDefault or Localhost are allowed",
                setter.label(),
                profile_setting("appArmorProfile", profile)
            ),
        );
    }
    let Some(pod) = object.pod_spec() else {
        return;
    };
    let annotations = pod
        .metadata
        .and_then(|m| m.get("annotations"))
        .and_then(Value::as_object);
    for (key, value) in annotations.into_iter().flatten() {
        if !key.starts_with(ANNOTATION_PREFIX) || allowed_annotation(value) {
            continue;
        }
        hits.push(
            format!(
                "{}/annotations/{}",
                pod.metadata_pointer,
                escape_token(key)
            ),
            format!(
                "annotation {key:?} sets AppArmor profile {}; only runtime/default or localhost/<profile> are allowed",
                shown(Some(value))
            ),
        );
    }
}

/// Empty, `runtime/default` or `localhost/<profile>` (a null value decodes as empty).
fn allowed_annotation(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty() || s == "runtime/default" || s.starts_with("localhost/"),
        _ => false,
    }
}
