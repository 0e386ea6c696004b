//! Pod Security Standards, baseline profile: every rule, with the allowed values of the
//! current Kubernetes documentation
//! (<https://kubernetes.io/docs/concepts/security/pod-security-standards/>) and the
//! semantics of the Pod Security Admission plugin that enforces it.

mod apparmor;
mod capabilities;
mod host_namespaces;
mod host_path;
mod host_ports;
mod host_process;
mod privileged;
mod probe_host;
pub(crate) mod proc_mount;
pub(crate) mod seccomp;
mod selinux;
pub(crate) mod support;
mod sysctls;

use crate::registry::Rule;

/// Every rule of the group.
pub const RULES: &[Rule] = &[
    privileged::RULE,
    host_process::RULE,
    host_namespaces::NETWORK,
    host_namespaces::PID,
    host_namespaces::IPC,
    capabilities::RULE,
    host_path::RULE,
    host_ports::RULE,
    probe_host::RULE,
    apparmor::RULE,
    selinux::RULE,
    proc_mount::RULE,
    seccomp::RULE,
    sysctls::RULE,
];

#[cfg(test)]
mod tests {
    use super::RULES;
    use crate::controls::pss_restricted;
    use crate::{Context, Hits};
    use palisade_model::{Object, Positions, Source};
    use serde_json::{Value, json};

    fn run_all(annotations: Value, spec: Value) -> usize {
        let object = Object::new(
            json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "x", "annotations": annotations}, "spec": spec}),
            Source::file("x.yaml", 1),
            Positions::default(),
        );
        let objects = [object];
        let context = Context::new(&objects);
        let mut total = 0;
        for rule in RULES.iter().chain(pss_restricted::RULES) {
            let mut hits = Hits::default();
            (rule.check)(&objects[0], &context, &mut hits);
            total += hits.0.len();
        }
        total
    }

    #[test]
    fn hostile_values_do_not_panic() {
        let junk = [
            json!(null),
            json!(1),
            json!("x"),
            json!([]),
            json!({}),
            json!([null, 1, "x", [], {}]),
        ];
        for j in &junk {
            let container = json!({"name": j, "securityContext": j, "ports": j,
                "livenessProbe": {"httpGet": j}, "lifecycle": j});
            let apparmor = json!({"container.apparmor.security.beta.kubernetes.io/c": j});
            run_all(
                apparmor,
                json!({
                    "hostNetwork": j, "hostUsers": j, "os": j, "volumes": j,
                    "securityContext": {"sysctls": j, "seccompProfile": j, "seLinuxOptions": j,
                        "windowsOptions": j, "appArmorProfile": j, "runAsUser": j},
                    "containers": [container.clone(), j],
                    "initContainers": j,
                    "ephemeralContainers": [container],
                }),
            );
            run_all(
                j.clone(),
                json!({"containers": [{"name": "c", "securityContext": {
                "capabilities": {"add": j, "drop": j}, "seccompProfile": {"type": j},
                "seLinuxOptions": {"type": j, "user": j, "role": j}, "procMount": j,
                "runAsNonRoot": j, "allowPrivilegeEscalation": j}}]}),
            );
        }
    }

    #[test]
    fn a_compliant_restricted_pod_has_no_finding() {
        let spec = json!({
            "securityContext": {"runAsNonRoot": true, "runAsUser": 10001,
                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "app", "image": "app:1", "securityContext": {
                "allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}}],
            "volumes": [{"name": "tmp", "emptyDir": {}}],
        });
        assert_eq!(run_all(json!({}), spec), 0);
    }
}
