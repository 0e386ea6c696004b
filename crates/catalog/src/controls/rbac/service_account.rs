//! PAL-605: the default ServiceAccount of a namespace must not hand its token to every pod
//! that names no ServiceAccount (CIS 5.1.5).

use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "PAL-605",
    target: Target::Kinds(&["ServiceAccount"]),
    check,
};

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    if object.name() != "default" {
        return;
    }
    match object.at("/automountServiceAccountToken") {
        Some(Value::Bool(false)) => {}
        Some(v) => hits.push(
            "/automountServiceAccountToken",
            format!(
                "the default ServiceAccount sets automountServiceAccountToken: {v}; \
                 expected false"
            ),
        ),
        None => hits.push(
            "/metadata/name",
            "the default ServiceAccount does not set automountServiceAccountToken: false, so \
             every pod that names no ServiceAccount gets its token",
        ),
    }
}
