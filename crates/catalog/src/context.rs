use palisade_model::Object;
use std::collections::{HashMap, HashSet};

/// Every object of a scan, indexed for cross-object checks.
///
/// Built once per scan; rules only read it, so evaluation runs in parallel without locks.
#[derive(Debug)]
pub struct Context<'a> {
    objects: &'a [Object],
    by_kind: HashMap<&'a str, Vec<usize>>,
    by_kind_namespace: HashMap<&'a str, HashMap<&'a str, Vec<usize>>>,
    namespaces: HashSet<&'a str>,
    names: HashMap<&'a str, HashMap<&'a str, HashMap<&'a str, usize>>>,
    workloads: HashMap<&'a str, Vec<usize>>,
    pod_labels: HashMap<&'a str, HashMap<&'a str, HashMap<&'a str, Vec<usize>>>>,
    custom_resources: HashMap<&'a str, Vec<usize>>,
}

type Nested<'a, T> = HashMap<&'a str, HashMap<&'a str, HashMap<&'a str, T>>>;

/// Kinds whose objects run pods (PodTemplate carries a pod spec but runs nothing).
const RUNS_PODS: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "DeploymentConfig",
];

impl<'a> Context<'a> {
    /// Indexes the objects of a scan.
    pub fn new(objects: &'a [Object]) -> Self {
        let mut by_kind: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_kind_namespace: HashMap<&str, HashMap<&str, Vec<usize>>> = HashMap::new();
        let mut namespaces = HashSet::new();
        let mut names: Nested<'_, usize> = HashMap::new();
        let mut workloads: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut pod_labels: Nested<'_, Vec<usize>> = HashMap::new();
        let mut custom_resources: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, o) in objects.iter().enumerate() {
            let namespace = o.effective_namespace();
            names
                .entry(o.kind())
                .or_default()
                .entry(namespace)
                .or_default()
                .entry(o.name())
                .or_insert(i);
            if RUNS_PODS.contains(&o.kind())
                && let Some(pod) = o.pod_spec()
            {
                workloads.entry(namespace).or_default().push(i);
                let labels = pod
                    .metadata
                    .and_then(|m| m.get("labels"))
                    .and_then(|l| l.as_object());
                for (key, value) in labels.into_iter().flatten() {
                    if let Some(value) = value.as_str() {
                        pod_labels
                            .entry(namespace)
                            .or_default()
                            .entry(key)
                            .or_default()
                            .entry(value)
                            .or_default()
                            .push(i);
                    }
                }
            } else if is_custom_resource(o) {
                custom_resources.entry(namespace).or_default().push(i);
            }
            by_kind.entry(o.kind()).or_default().push(i);
            by_kind_namespace
                .entry(o.kind())
                .or_default()
                .entry(o.effective_namespace())
                .or_default()
                .push(i);
            if o.kind() == "Namespace" {
                namespaces.insert(o.name());
            }
        }
        Context {
            objects,
            by_kind,
            by_kind_namespace,
            namespaces,
            names,
            workloads,
            pod_labels,
            custom_resources,
        }
    }

    /// Every object.
    pub fn all(&self) -> &'a [Object] {
        self.objects
    }

    /// Objects of a kind.
    pub fn of_kind(&self, kind: &str) -> impl Iterator<Item = &'a Object> + '_ {
        self.pick(self.by_kind.get(kind))
    }

    /// Objects of a kind in a namespace (`""`: objects with no namespace written).
    pub fn of_kind_in(&self, kind: &str, namespace: &str) -> impl Iterator<Item = &'a Object> + '_ {
        self.pick(
            self.by_kind_namespace
                .get(kind)
                .and_then(|by_ns| by_ns.get(namespace)),
        )
    }

    /// True when the scan includes objects of this kind at all: cross-object checks that
    /// need, say, NetworkPolicies to judge coverage should still run when there are none,
    /// but checks about references (a binding's role) only judge what they can see.
    pub fn has_kind(&self, kind: &str) -> bool {
        self.by_kind.contains_key(kind)
    }

    /// The object of a kind with this name in a namespace (`""` for cluster-scoped kinds or
    /// objects with no namespace written).
    pub fn named(&self, kind: &str, namespace: &str, name: &str) -> Option<&'a Object> {
        self.names
            .get(kind)
            .and_then(|by_ns| by_ns.get(namespace))
            .and_then(|by_name| by_name.get(name))
            .and_then(|i| self.objects.get(*i))
    }

    /// Objects that run pods (every workload kind but PodTemplate) in a namespace.
    pub fn workloads_in(&self, namespace: &str) -> impl Iterator<Item = &'a Object> + '_ {
        self.pick(self.workloads.get(namespace))
    }

    /// Workloads of a namespace whose pods carry the label `key=value`.
    pub fn workloads_labelled(
        &self,
        namespace: &str,
        key: &str,
        value: &str,
    ) -> impl Iterator<Item = &'a Object> + '_ {
        self.pick(
            self.pod_labels
                .get(namespace)
                .and_then(|by_key| by_key.get(key))
                .and_then(|by_value| by_value.get(value)),
        )
    }

    /// Objects of custom resource kinds in a namespace: operators create pods from them (a
    /// Prometheus, a Kafka cluster) that no scanned workload describes.
    pub fn custom_resources_in(&self, namespace: &str) -> impl Iterator<Item = &'a Object> + '_ {
        self.pick(self.custom_resources.get(namespace))
    }

    /// Names of the Namespace objects scanned.
    pub fn declared_namespaces(&self) -> &HashSet<&'a str> {
        &self.namespaces
    }

    fn pick<'s>(&'s self, idx: Option<&'s Vec<usize>>) -> impl Iterator<Item = &'a Object> + 's {
        let objects = self.objects;
        idx.into_iter()
            .flatten()
            .filter_map(move |i| objects.get(*i))
    }
}

/// A custom resource: an API group with a dot that is not a Kubernetes group.
fn is_custom_resource(object: &Object) -> bool {
    let group = object.api_group();
    group.contains('.') && !group.ends_with(".k8s.io") && !object.is_workload()
}
