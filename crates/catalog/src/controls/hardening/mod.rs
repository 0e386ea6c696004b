//! Workload hardening beyond the Pod Security Standards: the container and pod settings of the
//! NSA/CISA Kubernetes Hardening Guide and CIS Kubernetes Benchmark sections 5.1, 5.2 and 5.6
//! that no Pod Security Standards profile states (read-only root filesystems, capability
//! hygiene, high UIDs, service account tokens, sensitive host paths, and so on).

mod capabilities;
mod host_paths;
mod identity;
mod pod_settings;
mod readonly_rootfs;
mod security_context;
mod service_account;

use crate::registry::Rule;
use palisade_model::{ContainerRef, Object, PodSpecRef};
use serde_json::Value;

/// Every rule of the group.
pub const RULES: &[Rule] = &[
    readonly_rootfs::RULE,
    capabilities::NET_RAW,
    capabilities::ADDED,
    capabilities::NOT_DROP_ALL,
    capabilities::DANGEROUS,
    identity::HIGH_IDS,
    identity::ROOT_GROUP,
    security_context::RULE,
    service_account::AUTOMOUNT,
    service_account::DEFAULT,
    service_account::DEPRECATED_FIELD,
    host_paths::SENSITIVE,
    host_paths::RUNTIME_SOCKET,
    host_paths::WRITABLE,
    pod_settings::SHARE_PROCESS_NAMESPACE,
    pod_settings::HOST_ALIASES,
    pod_settings::SSH_PORT,
];

/// True for pods declared to run on Windows (`spec.os.name: windows`), where the Linux-only
/// settings (capabilities, UIDs and GIDs, read-only root filesystem) do not apply; the
/// restricted Pod Security Standards profile exempts them the same way.
fn is_windows(pod: &PodSpecRef<'_>) -> bool {
    pod.get("os")
        .and_then(|os| os.get("name"))
        .and_then(Value::as_str)
        == Some("windows")
}

/// The pod spec and containers of a workload that runs Linux containers, or nothing.
fn linux_containers(object: &Object) -> Option<(PodSpecRef<'_>, Vec<ContainerRef<'_>>)> {
    let pod = object.pod_spec()?;
    if is_windows(&pod) {
        return None;
    }
    Some((pod, object.containers().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Context, Hits};
    use palisade_model::{Positions, Source};
    use serde_json::json;

    #[test]
    fn hostile_values_do_not_panic() {
        let junk = [
            json!("x"),
            json!(7),
            json!(null),
            json!([]),
            json!({}),
            json!([null, 1, "a", {"add": 3}]),
            json!({"capabilities": "ALL", "runAsUser": "root", "runAsGroup": -1}),
            json!({"capabilities": {"add": [1, null, "ALL", ""], "drop": {"ALL": true}}}),
            json!({"runAsUser": 1.5, "runAsGroup": 1e30, "supplementalGroups": [0.0, "0", null]}),
            json!({"path": 5, "hostPath": {"path": ["/"]}, "name": {}}),
            json!({"hostPath": {"path": "/../../..//"}, "name": "v"}),
        ];
        let mut objects = Vec::new();
        for j in &junk {
            let spec = json!({
                "securityContext": j, "volumes": [j, {"name": "v", "hostPath": {"path": "/"}}],
                "os": j, "hostAliases": j, "automountServiceAccountToken": j,
                "serviceAccount": j, "serviceAccountName": j, "shareProcessNamespace": j,
                "containers": [
                    {"name": j, "securityContext": j, "ports": j, "volumeMounts": j},
                    {"securityContext": {"capabilities": j}, "ports": [j, {"containerPort": j}],
                     "volumeMounts": [j, {"name": "v", "readOnly": j}]},
                    j,
                ],
            });
            objects.push(Object::new(
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}),
                Source::file("p.yaml", 1),
                Positions::default(),
            ));
            objects.push(Object::new(
                json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": j},
                       "automountServiceAccountToken": j}),
                Source::file("p.yaml", 1),
                Positions::default(),
            ));
        }
        let ctx = Context::new(&objects);
        for object in &objects {
            for rule in RULES {
                let mut hits = Hits::default();
                (rule.check)(object, &ctx, &mut hits);
            }
        }
    }
}
