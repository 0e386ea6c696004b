//! What hostPath volumes expose: PAL-312 (sensitive node directories), PAL-313 (the container
//! runtime socket) and PAL-314 (host paths mounted writable). Whether hostPath is allowed at
//! all is a Pod Security Standards rule.

use crate::registry::{Rule, Target};
use crate::util::{is_true, items};
use crate::{Context, Hits};
use palisade_model::{Object, PodSpecRef};
use serde_json::Value;

pub const SENSITIVE: Rule = Rule {
    id: "PAL-312",
    target: Target::Workload,
    check: check_sensitive,
};

pub const RUNTIME_SOCKET: Rule = Rule {
    id: "PAL-313",
    target: Target::Workload,
    check: check_runtime_socket,
};

pub const WRITABLE: Rule = Rule {
    id: "PAL-314",
    target: Target::Workload,
    check: check_writable,
};

/// Node directories whose contents control or describe the node. Mounting one of them, or a
/// directory above one, is reported; mounting something below them is not (`/etc/ssl/certs`,
/// `/dev/fuse`, `/var/log/pods` are ordinary).
const SENSITIVE_DIRS: &[&str] = &[
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/proc", "/root", "/run",
    "/sbin", "/sys", "/usr", "/var/log", "/var/run",
];

/// Node directories where anything below is sensitive too: credentials and the state of the
/// kubelet, the container runtimes and etcd, kernel interfaces, root's home.
const SENSITIVE_TREES: &[&str] = &[
    "/boot",
    "/etc/kubernetes",
    "/proc",
    "/root",
    "/var/lib/containerd",
    "/var/lib/docker",
    "/var/lib/etcd",
    "/var/lib/kubelet",
];

/// Where container runtimes listen. Mounting the socket, or any directory above it, hands
/// the container the runtime's API.
const RUNTIME_SOCKETS: &[&str] = &[
    "/run/containerd/containerd.sock",
    "/run/crio/crio.sock",
    "/run/cri-dockerd.sock",
    "/run/docker.sock",
    "/var/run/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/var/run/cri-dockerd.sock",
    "/var/run/docker.sock",
    "/var/run/dockershim.sock",
];

/// Socket file names recognised wherever they are, and the Windows named pipes of the same
/// runtimes.
const RUNTIME_SOCKET_NAMES: &[&str] = &[
    "containerd.sock",
    "crio.sock",
    "cri-dockerd.sock",
    "docker.sock",
    "dockershim.sock",
    "docker_engine",
    "containerd-containerd",
];

/// A host path with `.`, `..`, repeated and trailing slashes resolved, always absolute, so
/// `/var//run/` and `/etc/../var/run` are recognised as `/var/run`.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

/// True when `path` is `dir` or a directory above it.
fn covers(path: &str, dir: &str) -> bool {
    path == dir
        || path == "/"
        || dir
            .strip_prefix(path)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// True when `path` is `dir` or below it.
fn within(path: &str, dir: &str) -> bool {
    covers(dir, path)
}

/// The sensitive directory a (normalized) host path is, is inside of, or contains.
fn sensitive_reason(path: &str) -> Option<&'static str> {
    let all = || SENSITIVE_DIRS.iter().chain(SENSITIVE_TREES);
    all()
        .find(|d| **d == path)
        .or_else(|| SENSITIVE_TREES.iter().find(|t| within(path, t)))
        .or_else(|| all().find(|d| covers(path, d)))
        .copied()
}

/// The runtime socket a host path exposes: the socket itself (true) or a directory above it
/// (false), and the socket's path.
fn runtime_socket(raw: &str, path: &str) -> Option<(bool, String)> {
    // Windows paths use backslashes (`\\.\pipe\docker_engine`).
    let name = raw
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(raw)
        .to_ascii_lowercase();
    if RUNTIME_SOCKET_NAMES.contains(&name.as_str()) {
        return Some((true, raw.to_string()));
    }
    RUNTIME_SOCKETS
        .iter()
        .find(|s| covers(path, s))
        .map(|s| (path == *s, s.to_string()))
}

/// hostPath volumes of a pod: index, name, path as written.
fn host_paths<'a>(pod: &PodSpecRef<'a>) -> impl Iterator<Item = (usize, &'a str, &'a str)> {
    items(pod.get("volumes")).filter_map(|(i, v)| {
        let path = v.pointer("/hostPath/path").and_then(Value::as_str)?;
        let name = v.get("name").and_then(Value::as_str).unwrap_or("");
        Some((i, name, path))
    })
}

fn check_sensitive(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some(pod) = object.pod_spec() else {
        return;
    };
    for (i, name, raw) in host_paths(&pod) {
        let path = normalize(raw);
        if let Some(dir) = sensitive_reason(&path) {
            let what = if path == dir {
                String::new()
            } else if within(&path, dir) {
                format!(", inside {dir}")
            } else {
                format!(", which contains {dir}")
            };
            hits.push(
                pod.field(&format!("volumes/{i}/hostPath/path")),
                format!("volume {name:?} mounts the node's {raw}{what}"),
            );
        }
    }
}

fn check_runtime_socket(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some(pod) = object.pod_spec() else {
        return;
    };
    for (i, name, raw) in host_paths(&pod) {
        if let Some((itself, socket)) = runtime_socket(raw, &normalize(raw)) {
            let message = if itself {
                format!("volume {name:?} mounts the node's container runtime socket {raw}")
            } else {
                format!(
                    "volume {name:?} mounts the node's {raw}, which contains the container \
                     runtime socket path {socket}"
                )
            };
            hits.push(pod.field(&format!("volumes/{i}/hostPath/path")), message);
        }
    }
}

fn check_writable(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some(pod) = object.pod_spec() else {
        return;
    };
    let volumes: Vec<(&str, &str)> = host_paths(&pod)
        .map(|(_, name, path)| (name, path))
        .collect();
    if volumes.is_empty() {
        return;
    }
    for c in object.containers() {
        for (j, mount) in items(c.get("volumeMounts")) {
            let name = mount.get("name").and_then(Value::as_str).unwrap_or("");
            let Some((_, path)) = volumes.iter().find(|(v, _)| *v == name) else {
                continue;
            };
            if !is_true(mount.get("readOnly")) {
                let at = mount.get("mountPath").and_then(Value::as_str).unwrap_or("");
                hits.push(
                    c.field(&format!("/volumeMounts/{j}/readOnly")),
                    format!(
                        "{} mounts host path {path} (volume {name:?}) writable at {at:?}; set \
                         readOnly: true",
                        c.label()
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_host_paths() {
        assert_eq!(normalize("/var//run/"), "/var/run");
        assert_eq!(normalize("/etc/../var/./run"), "/var/run");
        assert_eq!(normalize("/../.."), "/");
        assert_eq!(normalize(""), "/");
        assert_eq!(normalize("var/log"), "/var/log");
    }

    #[test]
    fn sensitive_directories_and_their_parents() {
        assert_eq!(sensitive_reason("/"), Some("/"));
        assert_eq!(sensitive_reason("/etc"), Some("/etc"));
        assert_eq!(sensitive_reason("/var"), Some("/var/log"));
        assert_eq!(
            sensitive_reason("/var/lib/kubelet/pods"),
            Some("/var/lib/kubelet")
        );
        assert_eq!(sensitive_reason("/var/lib"), Some("/var/lib/containerd"));
        assert_eq!(
            sensitive_reason("/etc/kubernetes/pki"),
            Some("/etc/kubernetes")
        );
        assert_eq!(sensitive_reason("/etc/ssl/certs"), None);
        assert_eq!(sensitive_reason("/dev/fuse"), None);
        assert_eq!(sensitive_reason("/var/log/pods"), None);
        assert_eq!(sensitive_reason("/data"), None);
        assert_eq!(sensitive_reason("/etcd-data"), None);
    }

    #[test]
    fn runtime_sockets_and_their_directories() {
        let found = |raw: &str| runtime_socket(raw, &normalize(raw));
        assert_eq!(
            found("/var/run/docker.sock/"),
            Some((true, "/var/run/docker.sock".to_string()))
        );
        assert_eq!(
            found("/custom/crio.sock"),
            Some((true, "/custom/crio.sock".to_string()))
        );
        assert_eq!(
            found("/run/containerd"),
            Some((false, "/run/containerd/containerd.sock".to_string()))
        );
        assert_eq!(found("/var/run").map(|f| f.0), Some(false));
        assert!(found(r"\\.\pipe\docker_engine").is_some());
        assert!(found("/run/containerd-data").is_none());
        assert!(found("/var/lib/docker").is_none());
    }
}
