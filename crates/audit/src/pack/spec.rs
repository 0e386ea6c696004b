//! Pod specs inside request objects: a Pod's own, or a workload's template.

use serde_json::Value;

/// The pod spec an object of `resource` carries: `spec` for pods, the template's spec for
/// controllers, the job template's for CronJobs. For a patch, the same path in the patch
/// body (a partial spec).
pub(crate) fn pod_spec<'a>(resource: &str, object: &'a Value) -> Option<&'a Value> {
    let spec = object.get("spec")?;
    match resource {
        "pods" => Some(spec),
        "deployments"
        | "daemonsets"
        | "statefulsets"
        | "replicasets"
        | "jobs"
        | "replicationcontrollers" => spec.get("template")?.get("spec"),
        "cronjobs" => spec
            .get("jobTemplate")?
            .get("spec")?
            .get("template")?
            .get("spec"),
        _ => None,
    }
}

/// Resources whose objects carry a pod spec.
pub(crate) fn is_workload(resource: &str) -> bool {
    matches!(
        resource,
        "pods"
            | "deployments"
            | "daemonsets"
            | "statefulsets"
            | "replicasets"
            | "jobs"
            | "cronjobs"
            | "replicationcontrollers"
    )
}

/// Every container of a spec: containers, initContainers and ephemeralContainers.
pub(crate) fn containers(spec: &Value) -> impl Iterator<Item = &Value> {
    ["containers", "initContainers", "ephemeralContainers"]
        .into_iter()
        .filter_map(|k| spec.get(k)?.as_array())
        .flatten()
}

/// A container's name, for messages.
pub(crate) fn name_of(container: &Value) -> &str {
    container
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("(unnamed)")
}

/// A container's image, lower-cased for matching.
pub(crate) fn image_of(container: &Value) -> Option<String> {
    container
        .get("image")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
}

fn flag(value: &Value, key: &str) -> bool {
    value.get(key).and_then(Value::as_bool) == Some(true)
}

/// The first privileged container.
pub(crate) fn privileged(spec: &Value) -> Option<&str> {
    containers(spec)
        .find(|c| {
            c.get("securityContext")
                .is_some_and(|s| flag(s, "privileged"))
        })
        .map(name_of)
}

/// Host paths that give the node away: its root, configuration, kernel interfaces,
/// container-runtime sockets, kubelet and etcd state. (/var/log is left out: every log
/// shipper mounts it.)
const SENSITIVE_HOST_PATHS: &[&str] = &[
    "/etc",
    "/root",
    "/home",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/containerd",
    "/run/containerd",
    "/var/run/crio",
    "/run/crio",
    "/var/lib/kubelet",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/lib/etcd",
    "/etc/kubernetes",
];

/// The first sensitive hostPath volume's path.
pub(crate) fn sensitive_host_path(spec: &Value) -> Option<&str> {
    let volumes = spec.get("volumes")?.as_array()?;
    volumes
        .iter()
        .filter_map(|v| v.get("hostPath")?.get("path")?.as_str())
        .find(|path| is_sensitive_path(path))
}

fn is_sensitive_path(path: &str) -> bool {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() || matches!(trimmed, "/var/run" | "/run" | "/var" | "/var/lib") {
        return path.starts_with('/');
    }
    SENSITIVE_HOST_PATHS.iter().any(|p| {
        trimmed == *p
            || trimmed
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// `hostPID` or `hostIPC`, whichever is set.
pub(crate) fn host_pid_ipc(spec: &Value) -> Option<&'static str> {
    if flag(spec, "hostPID") {
        Some("hostPID")
    } else if flag(spec, "hostIPC") {
        Some("hostIPC")
    } else {
        None
    }
}

/// `hostNetwork` is set.
pub(crate) fn host_network(spec: &Value) -> bool {
    flag(spec, "hostNetwork")
}

const DANGEROUS_CAPS: &[&str] = &[
    "SYS_ADMIN",
    "SYS_PTRACE",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_BOOT",
    "NET_ADMIN",
    "BPF",
    "PERFMON",
    "DAC_READ_SEARCH",
    "ALL",
];

/// The first dangerous added capability and its container.
pub(crate) fn dangerous_capability(spec: &Value) -> Option<(&str, &str)> {
    containers(spec).find_map(|c| {
        let added = c
            .get("securityContext")?
            .get("capabilities")?
            .get("add")?
            .as_array()?;
        let cap = added.iter().filter_map(Value::as_str).find(|cap| {
            let bare = cap
                .strip_prefix("CAP_")
                .or_else(|| cap.strip_prefix("cap_"))
                .unwrap_or(cap);
            DANGEROUS_CAPS.iter().any(|d| d.eq_ignore_ascii_case(bare))
        })?;
        Some((name_of(c), cap))
    })
}

/// The first way a spec breaks pod isolation, for the refused-workload detection.
pub(crate) fn risk(spec: &Value) -> Option<String> {
    if let Some(c) = privileged(spec) {
        return Some(format!("privileged container {c}"));
    }
    if let Some(p) = sensitive_host_path(spec) {
        return Some(format!("hostPath {p}"));
    }
    if let Some(ns) = host_pid_ipc(spec) {
        return Some(ns.to_string());
    }
    if host_network(spec) {
        return Some("hostNetwork".to_string());
    }
    dangerous_capability(spec).map(|(c, cap)| format!("capability {cap} in container {c}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_specs_in_every_workload_shape() {
        let pod = json!({"spec": {"hostPID": true}});
        let deploy = json!({"spec": {"template": {"spec": {"hostPID": true}}}});
        let cron =
            json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"hostPID": true}}}}}});
        for (resource, object) in [
            ("pods", &pod),
            ("deployments", &deploy),
            ("cronjobs", &cron),
        ] {
            let spec = pod_spec(resource, object).and_then(host_pid_ipc);
            assert_eq!(spec, Some("hostPID"), "{resource}");
        }
        assert!(pod_spec("configmaps", &pod).is_none());
    }

    #[test]
    fn sensitive_paths() {
        for p in [
            "/",
            "/etc",
            "/etc/",
            "/var/run/docker.sock",
            "/var/lib/kubelet/pods",
            "/proc/1",
            "/run",
        ] {
            assert!(is_sensitive_path(p), "{p}");
        }
        for p in [
            "/var/log",
            "/data",
            "/etcd-backup",
            "/var/lib/cni",
            "/opt/app",
            "relative",
        ] {
            assert!(!is_sensitive_path(p), "{p}");
        }
    }

    #[test]
    fn capabilities_by_any_spelling() {
        let spec = json!({"containers": [{"name": "a", "securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE", "cap_sys_admin"]}}}]});
        assert_eq!(dangerous_capability(&spec), Some(("a", "cap_sys_admin")));
        let safe = json!({"containers": [{"name": "a", "securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE"]}}}]});
        assert_eq!(dangerous_capability(&safe), None);
    }
}
