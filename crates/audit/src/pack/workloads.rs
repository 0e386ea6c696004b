//! Pods and workload templates: privilege, host access, placement, persistence, images.

use super::cx::{Cx, is_system_namespace};
use super::spec::{self, containers, is_workload, pod_spec};
use serde_json::Value;

/// The pod spec a successful write by someone other than the control plane carries.
/// Pods the controllers create are skipped: their template was checked when written.
pub(super) fn spec_written<'e>(cx: &Cx<'e>) -> Option<&'e Value> {
    if !cx.writes() || !cx.ok() || cx.trusted || !is_workload(cx.resource) {
        return None;
    }
    if !(cx.subresource.is_empty() || cx.subresource == "ephemeralcontainers") {
        return None;
    }
    pod_spec(cx.resource, cx.object()?)
}

/// `created`, `updated`, `patched`, for messages.
pub(super) fn done(verb: &str) -> &str {
    match verb {
        "create" => "created",
        "update" => "updated",
        "patch" => "patched",
        "delete" => "deleted",
        other => other,
    }
}

/// `deployment` for `deployments`, for messages.
pub(super) fn kind(resource: &str) -> &str {
    resource.strip_suffix('s').unwrap_or(resource)
}

fn report(cx: &Cx<'_>, what: &str) -> String {
    format!(
        "{} {} {} {} with {what}",
        cx.who(),
        done(cx.verb),
        kind(cx.resource),
        cx.target()
    )
}

pub(super) fn privileged(cx: &Cx<'_>) -> Option<String> {
    let name = spec::privileged(spec_written(cx)?)?;
    Some(report(cx, &format!("privileged container {name}")))
}

pub(super) fn host_path(cx: &Cx<'_>) -> Option<String> {
    let path = spec::sensitive_host_path(spec_written(cx)?)?;
    Some(report(cx, &format!("hostPath volume {path}")))
}

pub(super) fn host_pid_ipc(cx: &Cx<'_>) -> Option<String> {
    let which = spec::host_pid_ipc(spec_written(cx)?)?;
    Some(report(cx, which))
}

pub(super) fn host_network(cx: &Cx<'_>) -> Option<String> {
    spec::host_network(spec_written(cx)?).then(|| report(cx, "hostNetwork"))
}

pub(super) fn capabilities(cx: &Cx<'_>) -> Option<String> {
    let (container, cap) = spec::dangerous_capability(spec_written(cx)?)?;
    Some(report(
        cx,
        &format!("capability {cap} added to container {container}"),
    ))
}

pub(super) fn refused(cx: &Cx<'_>) -> Option<String> {
    let code = cx.code.filter(|c| *c >= 400 && *c < 500)?;
    if !cx.writes() || cx.trusted || !is_workload(cx.resource) || !cx.subresource.is_empty() {
        return None;
    }
    let risk = spec::risk(pod_spec(cx.resource, cx.object()?)?)?;
    Some(format!(
        "{} was refused ({code}) to {} {} {} with {risk}",
        cx.who(),
        cx.verb,
        kind(cx.resource),
        cx.target()
    ))
}

pub(super) fn system_namespace(cx: &Cx<'_>) -> Option<String> {
    let placed = cx.verb == "create"
        && is_workload(cx.resource)
        && cx.subresource.is_empty()
        && is_system_namespace(cx.namespace)
        && cx.ok()
        && !cx.trusted;
    placed.then(|| {
        format!(
            "{} created {} {} in a system namespace",
            cx.who(),
            kind(cx.resource),
            cx.target()
        )
    })
}

pub(super) fn daemonset(cx: &Cx<'_>) -> Option<String> {
    let created = cx.verb == "create" && cx.resource == "daemonsets" && cx.subresource.is_empty();
    (created && cx.ok() && !cx.trusted)
        .then(|| format!("{} created daemonset {}", cx.who(), cx.target()))
}

pub(super) fn cronjob(cx: &Cx<'_>) -> Option<String> {
    let changed = cx.writes() && cx.resource == "cronjobs" && cx.subresource.is_empty();
    if !changed || !cx.ok() || cx.trusted {
        return None;
    }
    let schedule = cx
        .object()
        .and_then(|o| o.get("spec")?.get("schedule")?.as_str());
    Some(match schedule {
        Some(s) => format!(
            "{} {} cronjob {} (schedule {s})",
            cx.who(),
            done(cx.verb),
            cx.target()
        ),
        None => format!("{} {} cronjob {}", cx.who(), done(cx.verb), cx.target()),
    })
}

pub(super) fn sidecar(cx: &Cx<'_>) -> Option<String> {
    let template = matches!(
        cx.resource,
        "deployments" | "daemonsets" | "statefulsets" | "replicasets"
    );
    if cx.verb != "patch" || !template || !cx.subresource.is_empty() || !cx.ok() || cx.trusted {
        return None;
    }
    let body = cx.object()?;
    let added = match body {
        Value::Array(ops) => ops.iter().find_map(json_patch_adds_container),
        _ => pod_spec(cx.resource, body).and_then(|s| {
            containers(s)
                .find(|c| is_full_container(c))
                .map(|c| spec::name_of(c).to_string())
        }),
    }?;
    Some(format!(
        "{} patched {} {} adding container {added}",
        cx.who(),
        kind(cx.resource),
        cx.target()
    ))
}

/// A JSON-patch `add` into the template's container lists.
fn json_patch_adds_container(op: &Value) -> Option<String> {
    if op.get("op")?.as_str()? != "add" {
        return None;
    }
    let path = op.get("path")?.as_str()?;
    let lists = [
        "/spec/template/spec/containers",
        "/spec/template/spec/initContainers",
    ];
    if !lists.iter().any(|l| path.starts_with(l)) {
        return None;
    }
    let value = op.get("value")?;
    let first = value.as_array().and_then(|a| a.first()).unwrap_or(value);
    Some(spec::name_of(first).to_string())
}

/// A merge-patch container entry that defines a container rather than retags one
/// (`kubectl set image` sends only name and image).
fn is_full_container(c: &Value) -> bool {
    c.get("image").is_some()
        && ["command", "args", "volumeMounts", "securityContext"]
            .iter()
            .any(|k| c.get(*k).is_some())
}

/// Images of offensive and scanning tools.
const ATTACK_IMAGES: &[&str] = &[
    "kalilinux/",
    "kali-linux",
    "parrotsec/",
    "kube-hunter",
    "peirates",
    "metasploit",
    "/nmap",
    "sqlmap",
    "kubiscan",
    "amicontained",
    "cdkteam/cdk",
    "deepce",
    "botb",
    "trufflehog",
    "nuclei",
    "zgrab",
    "masscan",
    "hydra",
    "nikto",
    "impacket",
    "sliver",
    "kubesploit",
    "kubestroyer",
];

pub(super) fn attack_image(cx: &Cx<'_>) -> Option<String> {
    let spec = spec_written(cx)?;
    containers(spec).find_map(|c| {
        let image = spec::image_of(c)?;
        let tool = ATTACK_IMAGES.iter().find(|t| image.contains(*t))?;
        let tool = tool.trim_matches('/');
        Some(report(
            cx,
            &format!("image {image} ({tool}) in container {}", spec::name_of(c)),
        ))
    })
}
