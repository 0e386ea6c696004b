//! The `ka.*` fields, ported from the k8saudit plugin's `fields.go` and `extract.go`
//! (falcosecurity/plugins): same JSON paths, same list and index handling, values rendered the
//! same way (strings as is, booleans and numbers as their JSON text, so `"true"`, `"0"`).
//!
//! Three deliberate differences, documented for users: `ka.sourceips` reads the top-level
//! `sourceIPs` (the plugin looks under `requestObject.rules` and so never has a value);
//! `eff_run_as_user`/`eff_run_as_group` read the container and pod `securityContext` (the
//! plugin looks for `runAsUser` directly under the container and `spec`, where Kubernetes
//! never puts it, so always answers 0); and events without an `auditID` still have `ka.*`
//! values (the plugin treats them as foreign JSON).

use super::{Arg, ArgKind, Bytes, Extractor, FieldDef, Values, as_text, step, walk};
use crate::Event;
use crate::event::fields::List as FieldList;
use serde_json::Value;
use std::borrow::Cow;

/// Which pod container list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Containers,
    Init,
    Ephemeral,
}

impl List {
    fn key(self) -> &'static str {
        match self {
            List::Containers => "containers",
            List::Init => "initContainers",
            List::Ephemeral => "ephemeralContainers",
        }
    }
}

/// Which per-container field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    Name,
    Image,
    Repository,
    Command,
    Args,
    Privileged,
    AllowPrivilegeEscalation,
    ReadOnlyFs,
    RunAsUser,
    EffRunAsUser,
    RunAsGroup,
    EffRunAsGroup,
    ProcMount,
    AddCapabilities,
    HostPort,
}

/// How each `ka.*` field is extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A value at a path (non-list fields).
    Keys(&'static [&'static str]),
    /// An array at a path, each element rendered (list fields).
    KeysList(&'static [&'static str]),
    UriParam,
    TargetPodName,
    /// Subject names of one kind; `NamespacedServiceAccount` gives `ns:name`.
    Subjects(&'static str),
    SubjectHasName,
    FirstImage,
    FirstRepository,
    AnyPrivileged,
    VolumeHostpathDeprecated,
    Container(List, Per),
    ServicePorts,
    /// Strings at a path below the pod volumes (hostPath.path, flexVolume.driver).
    Volumes(&'static [&'static str]),
    VolumeType,
    /// Strings of one key of the role rules (verbs, resources...).
    Rules(&'static str),
    SourceIps,
}

const fn field(name: &'static str, kind: Kind) -> FieldDef {
    FieldDef {
        name,
        is_list: false,
        arg: ArgKind::None,
        extract: Extractor::K8s(kind),
    }
}

const fn list(name: &'static str, kind: Kind) -> FieldDef {
    FieldDef {
        name,
        is_list: true,
        arg: ArgKind::None,
        extract: Extractor::K8s(kind),
    }
}

const fn indexed(name: &'static str, kind: Kind) -> FieldDef {
    FieldDef {
        name,
        is_list: true,
        arg: ArgKind::Index,
        extract: Extractor::K8s(kind),
    }
}

const fn keyed(name: &'static str, kind: Kind) -> FieldDef {
    FieldDef {
        name,
        is_list: false,
        arg: ArgKind::Key,
        extract: Extractor::K8s(kind),
    }
}

const ANN: &str = "annotations";
const RO: &str = "requestObject";

macro_rules! containers {
    ($prefix:literal, $list:expr) => {
        [
            indexed(concat!($prefix, "name"), Kind::Container($list, Per::Name)),
            indexed(
                concat!($prefix, "image"),
                Kind::Container($list, Per::Image),
            ),
            indexed(
                concat!($prefix, "image.repository"),
                Kind::Container($list, Per::Repository),
            ),
            indexed(
                concat!($prefix, "command"),
                Kind::Container($list, Per::Command),
            ),
            indexed(concat!($prefix, "args"), Kind::Container($list, Per::Args)),
            indexed(
                concat!($prefix, "privileged"),
                Kind::Container($list, Per::Privileged),
            ),
            indexed(
                concat!($prefix, "allow_privilege_escalation"),
                Kind::Container($list, Per::AllowPrivilegeEscalation),
            ),
            indexed(
                concat!($prefix, "read_only_fs"),
                Kind::Container($list, Per::ReadOnlyFs),
            ),
            indexed(
                concat!($prefix, "run_as_user"),
                Kind::Container($list, Per::RunAsUser),
            ),
            indexed(
                concat!($prefix, "eff_run_as_user"),
                Kind::Container($list, Per::EffRunAsUser),
            ),
            indexed(
                concat!($prefix, "run_as_group"),
                Kind::Container($list, Per::RunAsGroup),
            ),
            indexed(
                concat!($prefix, "eff_run_as_group"),
                Kind::Container($list, Per::EffRunAsGroup),
            ),
            indexed(
                concat!($prefix, "proc_mount"),
                Kind::Container($list, Per::ProcMount),
            ),
            indexed(
                concat!($prefix, "add_capabilities"),
                Kind::Container($list, Per::AddCapabilities),
            ),
        ]
    };
}

const MAIN: [FieldDef; 57] = [
    field("ka.auditid", Kind::Keys(&["auditID"])),
    field("ka.stage", Kind::Keys(&["stage"])),
    field(
        "ka.auth.decision",
        Kind::Keys(&[ANN, "authorization.k8s.io/decision"]),
    ),
    field(
        "ka.auth.reason",
        Kind::Keys(&[ANN, "authorization.k8s.io/reason"]),
    ),
    field(
        "ka.auth.openshift.decision",
        Kind::Keys(&[ANN, "authentication.openshift.io/decision"]),
    ),
    field(
        "ka.validations.admission.policy.failure",
        Kind::Keys(&[ANN, "validation.policy.admission.k8s.io/validation_failure"]),
    ),
    field(
        "ka.security.pod.violations",
        Kind::Keys(&[ANN, "pod-security.kubernetes.io/audit-violations"]),
    ),
    field(
        "ka.auth.openshift.username",
        Kind::Keys(&[ANN, "authentication.openshift.io/username"]),
    ),
    field("ka.user.name", Kind::Keys(&["user", "username"])),
    list("ka.user.groups", Kind::KeysList(&["user", "groups"])),
    field(
        "ka.impuser.name",
        Kind::Keys(&["impersonatedUser", "username"]),
    ),
    field("ka.verb", Kind::Keys(&["verb"])),
    field("ka.uri", Kind::Keys(&["requestURI"])),
    keyed("ka.uri.param", Kind::UriParam),
    field("ka.target.name", Kind::Keys(&["objectRef", "name"])),
    field(
        "ka.target.namespace",
        Kind::Keys(&["objectRef", "namespace"]),
    ),
    field("ka.target.resource", Kind::Keys(&["objectRef", "resource"])),
    field(
        "ka.target.subresource",
        Kind::Keys(&["objectRef", "subresource"]),
    ),
    field("ka.target.pod.name", Kind::TargetPodName),
    list("ka.req.binding.subjects", Kind::KeysList(&[RO, "subjects"])),
    list("ka.req.binding.subjects.user_names", Kind::Subjects("User")),
    list(
        "ka.req.binding.subjects.serviceaccount_names",
        Kind::Subjects("ServiceAccount"),
    ),
    list(
        "ka.req.binding.subjects.serviceaccount_ns_names",
        Kind::Subjects("NamespacedServiceAccount"),
    ),
    list(
        "ka.req.binding.subjects.group_names",
        Kind::Subjects("Group"),
    ),
    field("ka.req.binding.role", Kind::Keys(&[RO, "roleRef", "name"])),
    keyed("ka.req.binding.subject.has_name", Kind::SubjectHasName),
    field("ka.req.configmap.name", Kind::Keys(&["objectRef", "name"])),
    field("ka.req.configmap.obj", Kind::Keys(&[RO, "data"])),
    field("ka.req.container.image", Kind::FirstImage),
    field("ka.req.container.image.repository", Kind::FirstRepository),
    field("ka.req.pod.host_ipc", Kind::Keys(&[RO, "spec", "hostIPC"])),
    field(
        "ka.req.pod.host_network",
        Kind::Keys(&[RO, "spec", "hostNetwork"]),
    ),
    field(
        "ka.req.container.host_network",
        Kind::Keys(&[RO, "spec", "hostNetwork"]),
    ),
    field("ka.req.pod.host_pid", Kind::Keys(&[RO, "spec", "hostPID"])),
    indexed(
        "ka.req.pod.containers.host_port",
        Kind::Container(List::Containers, Per::HostPort),
    ),
    field("ka.req.container.privileged", Kind::AnyPrivileged),
    field(
        "ka.req.pod.run_as_user",
        Kind::Keys(&[RO, "spec", "securityContext", "runAsUser"]),
    ),
    field(
        "ka.req.pod.run_as_group",
        Kind::Keys(&[RO, "spec", "securityContext", "runAsGroup"]),
    ),
    list("ka.req.role.rules", Kind::KeysList(&[RO, "rules"])),
    indexed("ka.req.role.rules.apiGroups", Kind::Rules("apiGroups")),
    indexed(
        "ka.req.role.rules.nonResourceURLs",
        Kind::Rules("nonResourceURLs"),
    ),
    indexed("ka.req.role.rules.verbs", Kind::Rules("verbs")),
    indexed("ka.req.role.rules.resources", Kind::Rules("resources")),
    field(
        "ka.req.pod.fs_group",
        Kind::Keys(&[RO, "spec", "securityContext", "fsGroup"]),
    ),
    list(
        "ka.req.pod.supplemental_groups",
        Kind::KeysList(&[RO, "spec", "securityContext", "supplementalGroups"]),
    ),
    field("ka.req.service.type", Kind::Keys(&[RO, "spec", "type"])),
    indexed("ka.req.service.ports", Kind::ServicePorts),
    indexed(
        "ka.req.pod.volumes.hostpath",
        Kind::Volumes(&["hostPath", "path"]),
    ),
    keyed("ka.req.volume.hostpath", Kind::VolumeHostpathDeprecated),
    indexed(
        "ka.req.pod.volumes.flexvolume_driver",
        Kind::Volumes(&["flexVolume", "driver"]),
    ),
    indexed("ka.req.pod.volumes.volume_type", Kind::VolumeType),
    field(
        "ka.resp.name",
        Kind::Keys(&["responseObject", "metadata", "name"]),
    ),
    field("ka.response.code", Kind::Keys(&["responseStatus", "code"])),
    field(
        "ka.response.reason",
        Kind::Keys(&["responseStatus", "reason"]),
    ),
    field("ka.useragent", Kind::Keys(&["userAgent"])),
    indexed("ka.sourceips", Kind::SourceIps),
    field("ka.cluster.name", Kind::Keys(&[ANN, "cluster_name"])),
];

const CONTAINERS: [FieldDef; 14] = containers!("ka.req.pod.containers.", List::Containers);
const INIT: [FieldDef; 14] = containers!("ka.req.pod.initContainers.", List::Init);
const EPHEMERAL: [FieldDef; 14] = containers!("ka.req.pod.ephemeralContainers.", List::Ephemeral);

/// Every `ka.*` field (71 from `fields.go` and 29 init/ephemeral twins).
// Evaluated at compile time: an index out of range fails the build, not a run.
#[allow(clippy::indexing_slicing)]
pub static FIELDS: [FieldDef; 100] = {
    let mut all = [MAIN[0]; 100];
    let mut i = 0;
    while i < 57 {
        all[i] = MAIN[i];
        i += 1;
    }
    let mut j = 0;
    while j < 14 {
        all[57 + j] = CONTAINERS[j];
        all[71 + j] = INIT[j];
        all[86 + j] = EPHEMERAL[j];
        j += 1;
    }
    all[85] = indexed(
        "ka.req.pod.initContainers.host_port",
        Kind::Container(List::Init, Per::HostPort),
    );
    all
};

/// The names of the `ka.*` fields, in registry order.
#[allow(clippy::indexing_slicing)] // evaluated at compile time, as FIELDS
pub static FIELD_NAMES: [&str; 100] = {
    let mut names = [""; 100];
    let mut i = 0;
    while i < 100 {
        names[i] = FIELDS[i].name;
        i += 1;
    }
    names
};

/// Reads one `ka.*` field of an event. Paths of keys (`Kind::Keys`, `Kind::KeysList`) are
/// read by [`super::Path`] before this; the rest read typed fields or the request object.
pub fn extract<'e>(kind: Kind, arg: &Arg, event: &'e Event) -> Values<'e> {
    match kind {
        Kind::Keys(_) | Kind::KeysList(_) => extract_json(kind, arg, event.json()),
        Kind::UriParam => match arg {
            Arg::Key(key) => uri_param(event.request_uri().map(str::as_bytes), key),
            _ => Values::None,
        },
        Kind::TargetPodName => {
            if event.resource() == Some("pods")
                && event.subresource().unwrap_or_default().is_empty()
            {
                Values::one(
                    event
                        .response_object()
                        .and_then(|o| walk(o, &["metadata", "name"]))
                        .map(as_text),
                )
            } else {
                Values::None
            }
        }
        Kind::SourceIps => match event.fields().list(FieldList::SourceIps) {
            Some(mut ips) => match arg {
                Arg::Index(i) => Values::list(ips.nth(*i).map(bytes).into_iter().collect()),
                _ => Values::list(ips.map(bytes).collect()),
            },
            None => Values::None,
        },
        other => request(other, arg, event.request_object()),
    }
}

fn bytes(s: &str) -> Bytes<'_> {
    Cow::Borrowed(s.as_bytes())
}

/// Reads one `ka.*` field from the event's JSON: for events whose fields the typed model
/// does not hold as they are (see `Fields::exotic`), and in tests, as the reference.
pub fn extract_json<'e>(kind: Kind, arg: &Arg, ev: &'e Value) -> Values<'e> {
    match kind {
        Kind::Keys(keys) => Values::one(walk(ev, keys).map(as_text)),
        Kind::KeysList(keys) => match walk(ev, keys) {
            Some(Value::Array(items)) => Values::list(items.iter().map(as_text).collect()),
            _ => Values::None,
        },
        Kind::UriParam => match arg {
            Arg::Key(key) => match ev.get("requestURI").map(as_text) {
                Some(uri) => uri_param(Some(&uri), key),
                None => Values::None,
            },
            _ => Values::None,
        },
        Kind::TargetPodName => {
            let resource = walk(ev, &["objectRef", "resource"]).and_then(Value::as_str);
            let sub = walk(ev, &["objectRef", "subresource"]).and_then(Value::as_str);
            if resource == Some("pods") && sub.unwrap_or_default().is_empty() {
                Values::one(walk(ev, &["responseObject", "metadata", "name"]).map(as_text))
            } else {
                Values::None
            }
        }
        Kind::SourceIps => {
            let index = match arg {
                Arg::Index(i) => Some(*i),
                _ => None,
            };
            match (ev.get("sourceIPs"), index) {
                (Some(Value::Array(ips)), None) => Values::list(ips.iter().map(as_text).collect()),
                (Some(Value::Array(ips)), Some(i)) => {
                    Values::list(ips.get(i).map(as_text).into_iter().collect())
                }
                _ => Values::None,
            }
        }
        other => request(other, arg, step(ev, RO)),
    }
}

/// The fields read from the request object (`ro`), absent or not.
fn request<'e>(kind: Kind, arg: &Arg, ro: Option<&'e Value>) -> Values<'e> {
    let index = match arg {
        Arg::Index(i) => Some(*i),
        _ => None,
    };
    if let Kind::SubjectHasName = kind {
        return Values::One(Cow::Borrowed(b"true"));
    }
    // Without a request object every one of these fields is unavailable.
    let Some(ev) = ro else {
        return Values::None;
    };
    match kind {
        Kind::Subjects(of) => subjects(ev, of),
        Kind::FirstImage => first(container_strings(ev, List::Containers, Some(0), "image")),
        Kind::FirstRepository => first(
            container_strings(ev, List::Containers, Some(0), "image")
                .map(|v| v.into_iter().map(repository).collect()),
        ),
        Kind::AnyPrivileged => match containers(
            ev,
            List::Containers,
            None,
            &["securityContext", "privileged"],
        ) {
            Some(values) => {
                let any = values.iter().flatten().any(|v| v.as_bool() == Some(true));
                Values::One(Cow::Borrowed(if any { b"true" } else { b"false" }))
            }
            None => Values::None,
        },
        Kind::VolumeHostpathDeprecated => volume_hostpath(ev, arg),
        Kind::Container(list, per) => container_field(ev, list, per, index),
        Kind::ServicePorts => match recursive(ev, index, &["spec", "ports"]) {
            Some(values) => Values::list(skip_nil(&values)),
            None => Values::None,
        },
        Kind::Volumes(path) => {
            match walk(ev, &["spec", "volumes"]).and_then(|v| recursive(v, index, path)) {
                Some(values) => Values::list(skip_nil(&values)),
                None => Values::None,
            }
        }
        Kind::VolumeType => volume_types(ev, index),
        Kind::Rules(key) => match recursive(ev, index, &["rules", key]) {
            Some(values) => Values::list(
                values
                    .iter()
                    .flatten()
                    .filter_map(|v| v.as_array())
                    .flat_map(|a| a.iter().map(as_text))
                    .collect(),
            ),
            None => Values::None,
        },
        // Read above.
        Kind::Keys(_)
        | Kind::KeysList(_)
        | Kind::UriParam
        | Kind::TargetPodName
        | Kind::SourceIps
        | Kind::SubjectHasName => Values::None,
    }
}

fn first<'e>(values: Option<Vec<Bytes<'e>>>) -> Values<'e> {
    Values::one(values.and_then(|v| v.into_iter().next()))
}

/// `getValuesRecursive`: follows `keys`, fanning out over every array met on the way (or
/// taking element `index` of each); a missing key in one branch leaves a `None` there.
fn recursive<'e>(
    value: &'e Value,
    index: Option<usize>,
    keys: &[&str],
) -> Option<Vec<Option<&'e Value>>> {
    let mut current = value;
    for (i, key) in keys.iter().enumerate() {
        if let Value::Array(items) = current {
            match index {
                None => {
                    let rest = keys.get(i..).unwrap_or_default();
                    let mut out = Vec::new();
                    for item in items {
                        match recursive(item, index, rest) {
                            Some(found) => out.extend(found),
                            None => out.push(None),
                        }
                    }
                    return Some(out);
                }
                Some(n) => current = items.get(n)?,
            }
        }
        current = if key.is_empty() {
            current
        } else {
            step(current, key)?
        };
    }
    Some(vec![Some(current)])
}

/// `sub` (never empty) below each container of a list. `requestObject.spec` is an object in
/// every pod, so the walk to the list is direct.
fn containers<'e>(
    ev: &'e Value,
    list: List,
    index: Option<usize>,
    sub: &[&str],
) -> Option<Vec<Option<&'e Value>>> {
    recursive(walk(ev, &["spec", list.key()])?, index, sub)
}

fn skip_nil<'e>(values: &[Option<&'e Value>]) -> Vec<Bytes<'e>> {
    values.iter().flatten().map(|v| as_text(v)).collect()
}

/// `arrayAsStrings`: a container without the value makes the whole field unavailable.
fn all_present<'e>(values: &[Option<&'e Value>]) -> Option<Vec<Bytes<'e>>> {
    values.iter().map(|v| v.map(as_text)).collect()
}

fn container_strings<'e>(
    ev: &'e Value,
    list: List,
    index: Option<usize>,
    key: &str,
) -> Option<Vec<Bytes<'e>>> {
    all_present(&containers(ev, list, index, &[key])?)
}

/// The repository part of an image: before the first `:` and then before the first `@`.
fn repository(image: Bytes<'_>) -> Bytes<'_> {
    let cut = |b: &[u8], c: u8| b.iter().position(|x| *x == c).unwrap_or(b.len());
    match image {
        Cow::Borrowed(b) => {
            let b = b.get(..cut(b, b':')).unwrap_or(b);
            Cow::Borrowed(b.get(..cut(b, b'@')).unwrap_or(b))
        }
        Cow::Owned(mut v) => {
            v.truncate(cut(&v, b':'));
            v.truncate(cut(&v, b'@'));
            Cow::Owned(v)
        }
    }
}

fn container_field<'e>(ev: &'e Value, list: List, per: Per, index: Option<usize>) -> Values<'e> {
    let sc = |key: &'static str| -> Values<'e> {
        match containers(ev, list, index, &["securityContext", key]) {
            Some(values) => Values::list(skip_nil(&values)),
            None => Values::None,
        }
    };
    match per {
        Per::Name => Values::list(container_strings(ev, list, index, "name").unwrap_or_default()),
        Per::Image => Values::list(container_strings(ev, list, index, "image").unwrap_or_default()),
        Per::Repository => Values::list(
            container_strings(ev, list, index, "image")
                .map(|v| v.into_iter().map(repository).collect())
                .unwrap_or_default(),
        ),
        Per::Command => joined(ev, list, index, "command"),
        Per::Args => joined(ev, list, index, "args"),
        Per::Privileged => sc("privileged"),
        Per::AllowPrivilegeEscalation => sc("allowPrivilegeEscalation"),
        Per::ReadOnlyFs => sc("readOnlyRootFilesystem"),
        Per::RunAsUser => sc("runAsUser"),
        Per::RunAsGroup => sc("runAsGroup"),
        Per::ProcMount => sc("procMount"),
        Per::AddCapabilities => {
            match containers(ev, list, index, &["securityContext", "capabilities", "add"]) {
                Some(values) => Values::list(skip_nil(&values)),
                None => Values::None,
            }
        }
        Per::EffRunAsUser => effective(ev, list, index, "runAsUser"),
        Per::EffRunAsGroup => effective(ev, list, index, "runAsGroup"),
        Per::HostPort => host_ports(ev, list, index),
    }
}

/// Each container's command (or args) joined with spaces.
fn joined<'e>(ev: &'e Value, list: List, index: Option<usize>, key: &str) -> Values<'e> {
    let Some(values) = containers(ev, list, index, &[key]) else {
        return Values::None;
    };
    let mut out = Vec::new();
    for value in values.into_iter().flatten() {
        let Some(parts) = value.as_array() else {
            return Values::None;
        };
        let mut words = Vec::with_capacity(parts.len());
        for part in parts {
            let Some(word) = part.as_str() else {
                return Values::None;
            };
            words.push(word);
        }
        out.push(Cow::Owned(words.join(" ").into_bytes()));
    }
    Values::list(out)
}

/// The uid (gid) each container starts with: its own securityContext, else the pod's, else 0.
fn effective<'e>(ev: &'e Value, list: List, index: Option<usize>, key: &'static str) -> Values<'e> {
    let pod: Bytes<'e> =
        walk(ev, &["spec", "securityContext", key]).map_or(Cow::Borrowed(b"0"), as_text);
    match containers(ev, list, index, &["securityContext", key]) {
        Some(values) => Values::list(
            values
                .iter()
                .map(|v| v.map_or_else(|| pod.clone(), as_text))
                .collect(),
        ),
        None => Values::None,
    }
}

fn host_ports<'e>(ev: &'e Value, list: List, index: Option<usize>) -> Values<'e> {
    let Some(values) = containers(ev, list, index, &["ports"]) else {
        return Values::None;
    };
    let mut out = Vec::new();
    for ports in values.into_iter().flatten() {
        let Some(ports) = ports.as_array() else {
            return Values::None;
        };
        for port in ports {
            if let Some(p) = port.get("hostPort").or_else(|| port.get("containerPort")) {
                out.push(as_text(p));
            }
        }
    }
    Values::list(out)
}

fn volume_types(ev: &Value, index: Option<usize>) -> Values<'_> {
    let Some(values) = recursive(ev, index, &["spec", "volumes", ""]) else {
        return Values::None;
    };
    let mut out = Vec::new();
    for volume in values.into_iter().flatten() {
        if let Some(map) = volume.as_object() {
            out.extend(
                map.keys()
                    .filter(|k| *k != "name")
                    .map(|k| Cow::Borrowed(k.as_bytes())),
            );
        }
    }
    Values::list(out)
}

/// The deprecated `ka.req.volume.hostpath[path]`: "true" when a hostPath volume has that path
/// (or, for `path*`, starts with it). As in the plugin, only the first volume is examined.
fn volume_hostpath<'e>(ev: &'e Value, arg: &Arg) -> Values<'e> {
    let Arg::Key(key) = arg else {
        return Values::None;
    };
    let Some(values) = recursive(ev, Some(0), &["spec", "volumes", "hostPath", "path"]) else {
        return Values::None;
    };
    let prefix = key.strip_suffix('*');
    let hit = skip_nil(&values).iter().any(|v| match prefix {
        Some(p) => v.starts_with(p.as_bytes()),
        None => v.as_ref() == key.as_bytes(),
    });
    Values::One(Cow::Borrowed(if hit { b"true" } else { b"false" }))
}

fn subjects<'e>(ev: &'e Value, of: &str) -> Values<'e> {
    let Some(Value::Array(items)) = walk(ev, &["subjects"]) else {
        return Values::None;
    };
    let (kind, namespaced) = match of {
        "NamespacedServiceAccount" => ("ServiceAccount", true),
        other => (other, false),
    };
    let mut out = Vec::new();
    for subject in items {
        let (Some(k), Some(name)) = (subject.get("kind"), subject.get("name")) else {
            continue;
        };
        if as_text(k).as_ref() != kind.as_bytes() {
            continue;
        }
        let name = as_text(name);
        if namespaced {
            let Some(ns) = subject.get("namespace") else {
                continue;
            };
            let mut joined = as_text(ns).into_owned();
            joined.push(b':');
            joined.extend_from_slice(&name);
            out.push(Cow::Owned(joined));
        } else {
            out.push(name);
        }
    }
    Values::list(out)
}

/// The first value of query parameter `key` of the request URI, decoded as Go's
/// `url.ParseQuery` does; a malformed query has no parameters.
fn uri_param<'e>(uri: Option<&[u8]>, key: &str) -> Values<'e> {
    let Some(uri) = uri else {
        return Values::None;
    };
    let uri = String::from_utf8_lossy(uri);
    let without_fragment = uri.split('#').next().unwrap_or_default();
    let Some((_, query)) = without_fragment.split_once('?') else {
        return Values::None;
    };
    let mut found = None;
    for pair in query.split('&') {
        if pair.is_empty() {
            continue;
        }
        if pair.contains(';') {
            return Values::None;
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (Some(k), Some(v)) = (unescape_query(k), unescape_query(v)) else {
            return Values::None;
        };
        if found.is_none() && k == key.as_bytes() {
            found = Some(v);
        }
    }
    Values::one(found.map(Cow::Owned))
}

fn unescape_query(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::super::FieldRef;
    use super::*;
    use serde_json::json;

    /// The field's values, checked to be the same read from the typed fields of an event
    /// read from text, of an event built from JSON, and from the JSON itself.
    fn get(name: &str, arg: Option<&str>, ev: &Value) -> Vec<String> {
        let field = FieldRef::resolve(name, arg).unwrap();
        let strings = |v: Values<'_>| -> Vec<String> {
            v.as_slice()
                .iter()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .collect()
        };
        let want = strings(field.extract_json(ev));
        let origin = crate::Origin::new("t", 1);
        // An event needs an auditID or a verb to be read as one.
        let mut text = ev.clone();
        if text.get("verb").is_none() && text.get("auditID").is_none() {
            text["auditID"] = Value::from("t");
        }
        let read = crate::event::parse(text.to_string(), &origin)
            .unwrap()
            .remove(0);
        let built = Event::new(ev.clone(), origin);
        assert_eq!(strings(field.extract(&read)), want, "{name} read from text");
        assert_eq!(
            strings(field.extract(&built)),
            want,
            "{name} built from JSON"
        );
        want
    }

    fn pod() -> Value {
        json!({
            "auditID": "x", "verb": "create", "stage": "ResponseComplete",
            "requestURI": "/api/v1/namespaces/default/pods/p/exec?command=sh&command=-c&container=a%20b&tty=true",
            "user": {"username": "alice", "groups": ["g1", "g2"]},
            "objectRef": {"resource": "pods", "namespace": "default", "name": "p"},
            "responseStatus": {"code": 201},
            "responseObject": {"metadata": {"name": "p-resp"}},
            "sourceIPs": ["10.0.0.1", "10.0.0.2"],
            "requestObject": {"spec": {
                "hostNetwork": true,
                "securityContext": {"runAsUser": 1000, "supplementalGroups": [5, 6]},
                "containers": [
                    {"name": "a", "image": "docker.io/nginx:1.2@sha256:ab", "command": ["sh", "-c"],
                     "securityContext": {"privileged": true, "runAsUser": 7, "capabilities": {"add": ["NET_ADMIN"]}},
                     "ports": [{"containerPort": 80}, {"containerPort": 81, "hostPort": 8081}]},
                    {"name": "b", "image": "busybox", "securityContext": {"privileged": false}}
                ],
                "initContainers": [{"name": "i", "image": "init:1"}],
                "volumes": [{"name": "v", "hostPath": {"path": "/etc"}}, {"name": "w", "emptyDir": {}}]
            }}
        })
    }

    #[test]
    fn scalars_render_json_text() {
        let ev = pod();
        assert_eq!(get("ka.user.name", None, &ev), ["alice"]);
        assert_eq!(get("ka.response.code", None, &ev), ["201"]);
        assert_eq!(get("ka.req.pod.host_network", None, &ev), ["true"]);
        assert_eq!(get("ka.req.pod.host_pid", None, &ev), Vec::<String>::new());
        assert_eq!(get("ka.resp.name", None, &ev), ["p-resp"]);
        assert_eq!(get("ka.target.pod.name", None, &ev), ["p-resp"]);
        assert_eq!(get("ka.req.pod.run_as_user", None, &ev), ["1000"]);
        assert_eq!(get("ka.req.pod.supplemental_groups", None, &ev), ["5", "6"]);
    }

    #[test]
    fn containers_lists_and_indexes() {
        let ev = pod();
        assert_eq!(
            get("ka.req.pod.containers.image", None, &ev),
            ["docker.io/nginx:1.2@sha256:ab", "busybox"]
        );
        assert_eq!(
            get("ka.req.pod.containers.image.repository", None, &ev),
            ["docker.io/nginx", "busybox"]
        );
        assert_eq!(
            get("ka.req.pod.containers.image", Some("1"), &ev),
            ["busybox"]
        );
        assert_eq!(
            get("ka.req.pod.containers.image", Some("5"), &ev),
            Vec::<String>::new()
        );
        assert_eq!(
            get("ka.req.pod.containers.privileged", None, &ev),
            ["true", "false"]
        );
        assert_eq!(get("ka.req.container.privileged", None, &ev), ["true"]);
        assert_eq!(
            get("ka.req.container.image.repository", None, &ev),
            ["docker.io/nginx"]
        );
        assert_eq!(get("ka.req.pod.containers.command", None, &ev), ["sh -c"]);
        assert_eq!(
            get("ka.req.pod.containers.host_port", None, &ev),
            ["80", "8081"]
        );
        // As in the plugin: one value per container, its `add` array as JSON text.
        assert_eq!(
            get("ka.req.pod.containers.add_capabilities", None, &ev),
            [r#"["NET_ADMIN"]"#]
        );
        assert_eq!(
            get("ka.req.pod.initContainers.image.repository", None, &ev),
            ["init"]
        );
        assert_eq!(
            get("ka.req.pod.ephemeralContainers.image", None, &ev),
            Vec::<String>::new()
        );
    }

    #[test]
    fn effective_user_folds_the_pod_security_context() {
        let ev = pod();
        assert_eq!(
            get("ka.req.pod.containers.eff_run_as_user", None, &ev),
            ["7", "1000"]
        );
        assert_eq!(
            get("ka.req.pod.containers.eff_run_as_group", None, &ev),
            ["0", "0"]
        );
        assert_eq!(get("ka.req.pod.containers.run_as_user", None, &ev), ["7"]);
    }

    #[test]
    fn volumes() {
        let ev = pod();
        assert_eq!(get("ka.req.pod.volumes.hostpath", None, &ev), ["/etc"]);
        assert_eq!(
            get("ka.req.pod.volumes.volume_type", None, &ev),
            ["hostPath", "emptyDir"]
        );
        assert_eq!(get("ka.req.volume.hostpath", Some("/et*"), &ev), ["true"]);
        assert_eq!(get("ka.req.volume.hostpath", Some("/var"), &ev), ["false"]);
    }

    #[test]
    fn uri_params_and_source_ips() {
        let ev = pod();
        assert_eq!(get("ka.uri.param", Some("command"), &ev), ["sh"]);
        assert_eq!(get("ka.uri.param", Some("container"), &ev), ["a b"]);
        assert_eq!(get("ka.uri.param", Some("nope"), &ev), Vec::<String>::new());
        assert_eq!(get("ka.sourceips", None, &ev), ["10.0.0.1", "10.0.0.2"]);
        assert_eq!(get("ka.sourceips", Some("1"), &ev), ["10.0.0.2"]);
        assert_eq!(get("ka.user.groups", None, &ev), ["g1", "g2"]);
    }

    #[test]
    fn bindings_and_roles() {
        let ev = json!({"requestObject": {
            "roleRef": {"name": "cluster-admin"},
            "subjects": [
                {"kind": "User", "name": "bob"},
                {"kind": "ServiceAccount", "name": "sa", "namespace": "ns"},
                {"kind": "Group", "name": "devs"}
            ],
            "rules": [{"verbs": ["get", "list"], "resources": ["pods"]}, {"verbs": ["*"]}]
        }});
        assert_eq!(get("ka.req.binding.role", None, &ev), ["cluster-admin"]);
        assert_eq!(
            get("ka.req.binding.subjects.user_names", None, &ev),
            ["bob"]
        );
        assert_eq!(
            get("ka.req.binding.subjects.serviceaccount_ns_names", None, &ev),
            ["ns:sa"]
        );
        assert_eq!(
            get("ka.req.binding.subjects.group_names", None, &ev),
            ["devs"]
        );
        assert_eq!(
            get("ka.req.role.rules.verbs", None, &ev),
            ["get", "list", "*"]
        );
        assert_eq!(get("ka.req.role.rules.verbs", Some("1"), &ev), ["*"]);
        assert_eq!(
            get("ka.req.binding.subjects", None, &ev)[0],
            r#"{"kind":"User","name":"bob"}"#
        );
    }
}
