//! PAL-103, PAL-104, PAL-105: sharing the node's network, process and IPC namespaces.

use crate::Hits;
use crate::registry::{Rule, Target};
use crate::util::is_true;
use palisade_model::Object;

pub const NETWORK: Rule = Rule {
    id: "PAL-103",
    target: Target::Workload,
    check: |object, _, hits| shares(object, hits, "hostNetwork", "network"),
};

pub const PID: Rule = Rule {
    id: "PAL-104",
    target: Target::Workload,
    check: |object, _, hits| shares(object, hits, "hostPID", "process ID"),
};

pub const IPC: Rule = Rule {
    id: "PAL-105",
    target: Target::Workload,
    check: |object, _, hits| shares(object, hits, "hostIPC", "IPC"),
};

fn shares(object: &Object, hits: &mut Hits, field: &str, namespace: &str) {
    let Some(pod) = object.pod_spec() else {
        return;
    };
    if is_true(pod.get(field)) {
        hits.push(
            pod.field(field),
            format!("pod shares the node's {namespace} namespace ({field}: true)"),
        );
    }
}
