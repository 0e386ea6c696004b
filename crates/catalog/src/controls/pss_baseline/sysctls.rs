//! PAL-114: sysctls outside the safe set.

use super::support::{set, shown};
use crate::registry::{Rule, Target};
use crate::util::items;
use crate::{Context, Hits};
use palisade_model::Object;

pub const RULE: Rule = Rule {
    id: "PAL-114",
    target: Target::Workload,
    check,
};

/// Sysctls namespaced to the pod and isolated from other pods on the node.
const SAFE: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
];

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some(pod) = object.pod_spec() else {
        return;
    };
    for (i, sysctl) in items(set(pod.security_context(), "sysctls")) {
        let name = set(Some(sysctl), "name");
        if name
            .and_then(|n| n.as_str())
            .is_some_and(|n| SAFE.contains(&n))
        {
            continue;
        }
        hits.push(
            pod.field(&format!("securityContext/sysctls/{i}/name")),
            format!(
                "pod sets sysctl {}, which is not in the safe set",
                shown(name)
            ),
        );
    }
}
