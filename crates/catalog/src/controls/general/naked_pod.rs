//! PAL-907: Pods created directly, with no controller to recreate them.

use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "PAL-907",
    target: Target::Kinds(&["Pod"]),
    check,
};

fn check(pod: &Object, _: &Context<'_>, hits: &mut Hits) {
    let owned = pod
        .at("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| !refs.is_empty());
    // Static pods are managed by the kubelet from files on the node.
    let mirror = pod
        .annotations()
        .contains_key("kubernetes.io/config.mirror");
    if !owned && !mirror {
        hits.push(
            "/metadata/ownerReferences",
            format!(
                "Pod {:?} has no controller: if its node fails or it is evicted, nothing recreates it",
                pod.name()
            ),
        );
    }
}
