//! PAL-107: hostPath volumes.

use super::support::{set, shown};
use crate::registry::{Rule, Target};
use crate::util::items;
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "PAL-107",
    target: Target::Workload,
    check,
};

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some(pod) = object.pod_spec() else {
        return;
    };
    for (i, volume) in items(pod.get("volumes")) {
        let Some(host_path) = set(Some(volume), "hostPath") else {
            continue;
        };
        let name = volume.get("name").and_then(Value::as_str).unwrap_or("");
        hits.push(
            pod.field(&format!("volumes/{i}/hostPath")),
            format!(
                "volume {name:?} mounts host path {}",
                shown(host_path.get("path"))
            ),
        );
    }
}
