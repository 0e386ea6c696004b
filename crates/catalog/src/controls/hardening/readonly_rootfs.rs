//! PAL-301: containers whose root filesystem is writable.

use super::linux_containers;
use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "PAL-301",
    target: Target::Workload,
    check,
};

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some((_, containers)) = linux_containers(object) else {
        return;
    };
    for c in containers {
        let field = "/securityContext/readOnlyRootFilesystem";
        let found = match c.at(field) {
            Some(Value::Bool(true)) => continue,
            Some(Value::Bool(false)) => "readOnlyRootFilesystem: false".to_string(),
            None | Some(Value::Null) => "no readOnlyRootFilesystem".to_string(),
            Some(other) => format!("readOnlyRootFilesystem: {other}"),
        };
        hits.push(
            c.field(field),
            format!(
                "{} has a writable root filesystem ({found}); set readOnlyRootFilesystem: true",
                c.label()
            ),
        );
    }
}
