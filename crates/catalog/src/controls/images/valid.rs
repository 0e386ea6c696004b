//! PAL-406: containers whose image is missing, empty or not a valid reference.

use super::reference::{ImageRef, RefError};
use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "PAL-406",
    target: Target::Workload,
    check,
};

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for c in object.containers() {
        let message = match c.get("image") {
            None | Some(Value::Null) => format!("{} has no image", c.label()),
            Some(Value::String(text)) => match ImageRef::parse(text) {
                Ok(_) => continue,
                Err(RefError::Empty) => format!("{} has an empty image", c.label()),
                Err(RefError::Invalid(why)) => {
                    format!("{} has image {text:?}, which {why}", c.label())
                }
            },
            Some(other) => format!("{} has image {other}, which is not a string", c.label()),
        };
        hits.push(c.field("/image"), message);
    }
}
