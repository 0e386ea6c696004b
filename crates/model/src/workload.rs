//! One accessor for the pod template of every workload kind, so a check is written once.

use serde_json::Value;

/// A pod spec and the JSON pointer where it sits in its object.
#[derive(Debug, Clone, Copy)]
pub struct PodSpecRef<'a> {
    /// The `PodSpec` object.
    pub spec: &'a Value,
    /// Pointer of the spec, e.g. `/spec/template/spec`.
    pub pointer: &'static str,
    /// Pointer of the pod's metadata (labels of the pods it creates).
    pub metadata_pointer: &'static str,
    /// The pod's metadata (a Pod's own, or the template's), if present.
    pub metadata: Option<&'a Value>,
}

impl<'a> PodSpecRef<'a> {
    /// A field of the spec.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.spec.get(key)
    }

    /// Pointer of a field of the spec.
    pub fn field(&self, key: &str) -> String {
        format!("{}/{}", self.pointer, key)
    }

    /// `spec.securityContext` (pod level), if set.
    pub fn security_context(&self) -> Option<&'a Value> {
        self.spec.get("securityContext")
    }
}

/// Which list a container is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerKind {
    /// `containers`.
    Regular,
    /// `initContainers`.
    Init,
    /// `ephemeralContainers`.
    Ephemeral,
}

impl ContainerKind {
    /// The field name of the list.
    pub fn field(self) -> &'static str {
        match self {
            ContainerKind::Regular => "containers",
            ContainerKind::Init => "initContainers",
            ContainerKind::Ephemeral => "ephemeralContainers",
        }
    }
}

/// One container of a pod spec with its pointer.
#[derive(Debug, Clone)]
pub struct ContainerRef<'a> {
    /// The container object.
    pub value: &'a Value,
    /// Pointer of the container, e.g. `/spec/containers/0`.
    pub pointer: String,
    /// Which list it is in.
    pub kind: ContainerKind,
}

impl<'a> ContainerRef<'a> {
    /// `name`, or `""`.
    pub fn name(&self) -> &'a str {
        self.value.get("name").and_then(Value::as_str).unwrap_or("")
    }

    /// `image`, or `""`.
    pub fn image(&self) -> &'a str {
        self.value
            .get("image")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// A field of the container.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.value.get(key)
    }

    /// Value at a pointer relative to the container (`"/securityContext/privileged"`).
    pub fn at(&self, relative: &str) -> Option<&'a Value> {
        crate::pointer::lookup(self.value, relative)
    }

    /// Absolute pointer of a path relative to the container.
    pub fn field(&self, relative: &str) -> String {
        format!("{}{}", self.pointer, relative)
    }

    /// `securityContext`, if set.
    pub fn security_context(&self) -> Option<&'a Value> {
        self.value.get("securityContext")
    }

    /// A human label: `container "app"`, `init container "setup"`.
    pub fn label(&self) -> String {
        let what = match self.kind {
            ContainerKind::Regular => "container",
            ContainerKind::Init => "init container",
            ContainerKind::Ephemeral => "ephemeral container",
        };
        format!("{what} {:?}", self.name())
    }
}

pub(crate) fn pod_spec_of<'a>(kind: &str, value: &'a Value) -> Option<PodSpecRef<'a>> {
    // Walked with `get` rather than a pointer: this runs for every object and every control.
    let (template, pointer, metadata_pointer): (Option<&Value>, &'static str, &'static str) =
        match kind {
            "Pod" => (Some(value), "/spec", "/metadata"),
            "PodTemplate" => (
                value.get("template"),
                "/template/spec",
                "/template/metadata",
            ),
            "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "ReplicationController"
            | "Job"
            | "DeploymentConfig" => (
                value.get("spec").and_then(|s| s.get("template")),
                "/spec/template/spec",
                "/spec/template/metadata",
            ),
            "CronJob" => (
                value
                    .get("spec")
                    .and_then(|s| s.get("jobTemplate"))
                    .and_then(|j| j.get("spec"))
                    .and_then(|s| s.get("template")),
                "/spec/jobTemplate/spec/template/spec",
                "/spec/jobTemplate/spec/template/metadata",
            ),
            _ => return None,
        };
    let template = template?;
    let spec = template.get("spec").filter(|v| v.is_object())?;
    Some(PodSpecRef {
        spec,
        pointer,
        metadata_pointer,
        metadata: template.get("metadata"),
    })
}

pub(crate) fn containers_of(pod: PodSpecRef<'_>) -> impl Iterator<Item = ContainerRef<'_>> {
    [
        ContainerKind::Regular,
        ContainerKind::Init,
        ContainerKind::Ephemeral,
    ]
    .into_iter()
    .flat_map(move |kind| {
        let list = pod
            .spec
            .get(kind.field())
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        list.iter()
            .enumerate()
            .filter(|(_, c)| c.is_object())
            .map(move |(i, value)| ContainerRef {
                value,
                pointer: format!("{}/{}/{}", pod.pointer, kind.field(), i),
                kind,
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_cronjob_containers() {
        let v = json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {
            "initContainers": [{"name": "i"}], "containers": [{"name": "a"}, "junk"]}}}}}});
        let pod = pod_spec_of("CronJob", &v).unwrap();
        let names: Vec<_> = containers_of(pod)
            .map(|c| (c.name(), c.pointer.clone()))
            .collect();
        assert_eq!(
            names,
            vec![
                (
                    "a",
                    "/spec/jobTemplate/spec/template/spec/containers/0".to_string()
                ),
                (
                    "i",
                    "/spec/jobTemplate/spec/template/spec/initContainers/0".to_string()
                ),
            ]
        );
    }

    #[test]
    fn no_spec_no_workload() {
        assert!(pod_spec_of("Deployment", &json!({"spec": {}})).is_none());
        assert!(pod_spec_of("Service", &json!({"spec": {}})).is_none());
    }
}
