//! Secret objects: data repeated in the last-applied annotation (PAL-804) and hand-made
//! long-lived service account tokens (PAL-805).

use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::{Object, escape_token};
use serde_json::Value;

pub const ANNOTATION: Rule = Rule {
    id: "PAL-804",
    target: Target::Kinds(&["Secret"]),
    check: annotation,
};

pub const TOKEN: Rule = Rule {
    id: "PAL-805",
    target: Target::Kinds(&["Secret"]),
    check: token,
};

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

fn annotation(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some(text) = object
        .annotations()
        .get(LAST_APPLIED)
        .and_then(Value::as_str)
    else {
        return;
    };
    let Ok(applied) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let mut keys: Vec<&str> = ["data", "stringData"]
        .iter()
        .filter_map(|field| applied.get(field).and_then(Value::as_object))
        .flat_map(|map| map.keys().map(String::as_str))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    if keys.is_empty() {
        return;
    }
    hits.push(
        format!("/metadata/annotations/{}", escape_token(LAST_APPLIED)),
        format!(
            "annotation {LAST_APPLIED} repeats the Secret's data (keys {})",
            keys.join(", ")
        ),
    );
}

fn token(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    if object.at("/type").and_then(Value::as_str) != Some("kubernetes.io/service-account-token") {
        return;
    }
    let account = object
        .annotations()
        .get("kubernetes.io/service-account.name")
        .and_then(Value::as_str)
        .unwrap_or("?");
    hits.push(
        "/type",
        format!(
            "Secret of type kubernetes.io/service-account-token holds a token for \
             ServiceAccount {account:?} that never expires"
        ),
    );
}
