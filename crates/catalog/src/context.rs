use crate::controls::network::PolicyView;
use crate::controls::rbac::subjects::role_ref;
use crate::util::{map_selector_matches, pod_labels_or_empty, selector_matches};
use palisade_model::Object;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};

/// Every object of a scan, indexed for cross-object checks.
///
/// Built once per scan; rules only read it, so evaluation runs in parallel without locks.
#[derive(Debug)]
pub struct Context<'a> {
    objects: &'a [Object],
    by_kind: HashMap<&'a str, Vec<usize>>,
    by_kind_namespace: HashMap<&'a str, HashMap<&'a str, Vec<usize>>>,
    namespaces: HashSet<&'a str>,
    /// Several objects share a kind, namespace and name when several projects are scanned
    /// together; they are kept in the order read.
    names: Nested<'a, Vec<usize>>,
    /// Indexed by the labels of their pods.
    workloads: LabelIndex<'a>,
    /// Indexed by their own labels.
    custom_resources: LabelIndex<'a>,
    /// RoleBindings and ClusterRoleBindings by the kind and name their roleRef names.
    bindings: HashMap<&'a str, HashMap<&'a str, Vec<usize>>>,
    /// NetworkPolicies by namespace, read once for the coverage rules.
    network_policies: HashMap<&'a str, Vec<PolicyView<'a>>>,
    /// HorizontalPodAutoscalers and ScaledObjects by namespace and the name their
    /// `spec.scaleTargetRef` names.
    scalers: HashMap<&'a str, HashMap<&'a str, Vec<usize>>>,
    /// Set when a rule looks at other objects: alone (at admission) its verdict would be
    /// about objects that are not there, so [`crate::evaluate_alone`] drops it.
    consulted: AtomicBool,
}

type Nested<'a, T> = HashMap<&'a str, HashMap<&'a str, HashMap<&'a str, T>>>;

/// Objects of each namespace, and the same by label `key=value` (string values only).
#[derive(Debug, Default)]
struct LabelIndex<'a> {
    all: HashMap<&'a str, Vec<usize>>,
    by_label: Nested<'a, Vec<usize>>,
}

/// Where the labels a selector is matched against are.
type Labels = fn(&Object) -> &Map<String, Value>;

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
        let mut names: Nested<'_, Vec<usize>> = HashMap::new();
        let mut workloads = LabelIndex::default();
        let mut custom_resources = LabelIndex::default();
        let mut bindings: HashMap<&str, HashMap<&str, Vec<usize>>> = HashMap::new();
        let mut network_policies: HashMap<&str, Vec<PolicyView<'_>>> = HashMap::new();
        let mut scalers: HashMap<&str, HashMap<&str, Vec<usize>>> = HashMap::new();
        for (i, o) in objects.iter().enumerate() {
            let (kind, namespace) = (o.kind(), o.effective_namespace());
            names
                .entry(kind)
                .or_default()
                .entry(namespace)
                .or_default()
                .entry(o.name())
                .or_default()
                .push(i);
            if RUNS_PODS.contains(&kind)
                && let Some(pod) = o.pod_spec()
            {
                let labels = pod
                    .metadata
                    .and_then(|m| m.get("labels"))
                    .and_then(|l| l.as_object());
                workloads.add(namespace, labels, i);
            } else if is_custom_resource(o) {
                custom_resources.add(namespace, Some(o.labels()), i);
            }
            match kind {
                "RoleBinding" | "ClusterRoleBinding" => {
                    if let Some(role) = role_ref(o) {
                        let by_name = bindings.entry(role.kind).or_default();
                        by_name.entry(role.name).or_default().push(i);
                    }
                }
                "NetworkPolicy" => network_policies
                    .entry(namespace)
                    .or_default()
                    .push(PolicyView::of(o)),
                "HorizontalPodAutoscaler" | "ScaledObject" => {
                    if let Some(target) = scale_target(o) {
                        let by_name = scalers.entry(namespace).or_default();
                        by_name.entry(target).or_default().push(i);
                    }
                }
                _ => {}
            }
            by_kind.entry(kind).or_default().push(i);
            by_kind_namespace
                .entry(kind)
                .or_default()
                .entry(namespace)
                .or_default()
                .push(i);
            if kind == "Namespace" {
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
            custom_resources,
            bindings,
            network_policies,
            scalers,
            consulted: AtomicBool::new(false),
        }
    }

    fn note(&self) {
        self.consulted.store(true, Ordering::Relaxed);
    }

    /// Whether a rule looked at other objects since the last call, and resets the mark.
    pub(crate) fn take_consulted(&self) -> bool {
        self.consulted.swap(false, Ordering::Relaxed)
    }

    /// Every object.
    pub fn all(&self) -> &'a [Object] {
        self.note();
        self.objects
    }

    /// Objects of a kind.
    pub fn of_kind(&self, kind: &str) -> impl Iterator<Item = &'a Object> + '_ {
        self.note();
        self.pick(self.by_kind.get(kind))
    }

    /// Objects of a kind in a namespace (`""`: objects with no namespace written).
    pub fn of_kind_in(&self, kind: &str, namespace: &str) -> impl Iterator<Item = &'a Object> + '_ {
        self.note();
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
        self.note();
        self.by_kind.contains_key(kind)
    }

    /// The object of a kind with this name in a namespace (`""` for cluster-scoped kinds or
    /// objects with no namespace written); the first one read when the scan holds several.
    pub fn named(&self, kind: &str, namespace: &str, name: &str) -> Option<&'a Object> {
        self.note();
        self.all_named(kind, namespace, name).next()
    }

    /// Every object of a kind with this name in a namespace, in the order read.
    pub fn all_named(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> impl Iterator<Item = &'a Object> + '_ {
        self.note();
        self.pick(
            self.names
                .get(kind)
                .and_then(|by_ns| by_ns.get(namespace))
                .and_then(|by_name| by_name.get(name)),
        )
    }

    /// The first object read of a kind with this name, whatever namespace it is written in:
    /// a cluster-scoped object may carry a `metadata.namespace`, which nothing applies.
    pub fn named_in_any_namespace(&self, kind: &str, name: &str) -> Option<&'a Object> {
        self.note();
        let first = self
            .names
            .get(kind)?
            .values()
            .filter_map(|by_name| by_name.get(name)?.first())
            .min()?;
        self.objects.get(*first)
    }

    /// Objects that run pods (every workload kind but PodTemplate) in a namespace.
    pub fn workloads_in(&self, namespace: &str) -> impl Iterator<Item = &'a Object> + '_ {
        self.note();
        self.pick(self.workloads.all.get(namespace))
    }

    /// Workloads of a namespace whose pods a LabelSelector selects, in the order read.
    pub fn workloads_selected<'s>(
        &'s self,
        namespace: &str,
        selector: &'s Value,
    ) -> impl Iterator<Item = &'a Object> + 's {
        self.note();
        self.selected(&self.workloads, pod_labels_or_empty, namespace, selector)
    }

    /// Workloads of a namespace whose pods a map selector (a Service's) selects, in the order
    /// read.
    pub fn workloads_matching<'s>(
        &'s self,
        namespace: &str,
        selector: &'s Map<String, Value>,
    ) -> impl Iterator<Item = &'a Object> + 's {
        self.note();
        self.matching(&self.workloads, pod_labels_or_empty, namespace, selector)
    }

    /// Objects of custom resource kinds in a namespace: operators create pods from them (a
    /// Prometheus, a Kafka cluster) that no scanned workload describes.
    pub fn custom_resources_in(&self, namespace: &str) -> impl Iterator<Item = &'a Object> + '_ {
        self.note();
        self.pick(self.custom_resources.all.get(namespace))
    }

    /// Custom resources of a namespace whose own labels a LabelSelector selects.
    pub fn custom_resources_selected<'s>(
        &'s self,
        namespace: &str,
        selector: &'s Value,
    ) -> impl Iterator<Item = &'a Object> + 's {
        self.note();
        self.selected(&self.custom_resources, Object::labels, namespace, selector)
    }

    /// Custom resources of a namespace whose own labels a map selector selects.
    pub fn custom_resources_matching<'s>(
        &'s self,
        namespace: &str,
        selector: &'s Map<String, Value>,
    ) -> impl Iterator<Item = &'a Object> + 's {
        self.note();
        self.matching(&self.custom_resources, Object::labels, namespace, selector)
    }

    /// Objects of an index whose labels a LabelSelector selects, candidates first taken from
    /// its `matchLabels`.
    fn selected<'s>(
        &'s self,
        index: &'s LabelIndex<'a>,
        labels: Labels,
        namespace: &str,
        selector: &'s Value,
    ) -> impl Iterator<Item = &'a Object> + 's {
        let required = selector.get("matchLabels").and_then(Value::as_object);
        self.pick(index.candidates(namespace, required))
            .filter(move |o| selector_matches(selector, labels(o)))
    }

    /// Objects of an index whose labels a map selector selects.
    fn matching<'s>(
        &'s self,
        index: &'s LabelIndex<'a>,
        labels: Labels,
        namespace: &str,
        selector: &'s Map<String, Value>,
    ) -> impl Iterator<Item = &'a Object> + 's {
        self.pick(index.candidates(namespace, Some(selector)))
            .filter(move |o| map_selector_matches(selector, labels(o)))
    }

    /// RoleBindings and ClusterRoleBindings whose roleRef names this role, in the order read.
    pub fn bindings_of(&self, kind: &str, name: &str) -> impl Iterator<Item = &'a Object> + '_ {
        self.note();
        self.pick(
            self.bindings
                .get(kind)
                .and_then(|by_name| by_name.get(name)),
        )
    }

    /// HorizontalPodAutoscalers and ScaledObjects of a namespace whose `spec.scaleTargetRef`
    /// names `name`, in the order read.
    pub fn autoscalers_of(
        &self,
        namespace: &str,
        name: &str,
    ) -> impl Iterator<Item = &'a Object> + '_ {
        self.note();
        self.pick(
            self.scalers
                .get(namespace)
                .and_then(|by_name| by_name.get(name)),
        )
    }

    /// The NetworkPolicies of a namespace, in the order read.
    pub(crate) fn network_policies_in(&self, namespace: &str) -> &[PolicyView<'a>] {
        self.note();
        self.network_policies
            .get(namespace)
            .map_or(&[], Vec::as_slice)
    }

    /// Names of the Namespace objects scanned.
    pub fn declared_namespaces(&self) -> &HashSet<&'a str> {
        self.note();
        &self.namespaces
    }

    fn pick<'s>(&'s self, idx: Option<&'s Vec<usize>>) -> impl Iterator<Item = &'a Object> + 's {
        let objects = self.objects;
        idx.into_iter()
            .flatten()
            .filter_map(move |i| objects.get(*i))
    }
}

impl<'a> LabelIndex<'a> {
    fn add(&mut self, namespace: &'a str, labels: Option<&'a Map<String, Value>>, i: usize) {
        self.all.entry(namespace).or_default().push(i);
        let by_key = self.by_label.entry(namespace).or_default();
        for (key, value) in labels.into_iter().flatten() {
            if let Some(value) = value.as_str() {
                let by_value = by_key.entry(key).or_default();
                by_value.entry(value).or_default().push(i);
            }
        }
    }

    fn labelled(&self, namespace: &str, key: &str, value: &str) -> Option<&Vec<usize>> {
        self.by_label.get(namespace)?.get(key)?.get(value)
    }

    /// The objects of a namespace that can carry every label of `required`: those with its
    /// rarest string entry, or all of them when it has no such entry.
    fn candidates(
        &self,
        namespace: &str,
        required: Option<&Map<String, Value>>,
    ) -> Option<&Vec<usize>> {
        let mut entries = required
            .into_iter()
            .flatten()
            .filter_map(|(key, value)| Some((key.as_str(), value.as_str()?)))
            .peekable();
        if entries.peek().is_none() {
            return self.all.get(namespace);
        }
        let mut rarest: Option<&Vec<usize>> = None;
        for (key, value) in entries {
            let found = self.labelled(namespace, key, value)?;
            if rarest.is_none_or(|r| found.len() < r.len()) {
                rarest = Some(found);
            }
        }
        rarest
    }
}

/// The name an autoscaler's `spec.scaleTargetRef` names.
fn scale_target(scaler: &Object) -> Option<&str> {
    scaler.at("/spec/scaleTargetRef/name")?.as_str()
}

/// A custom resource: an API group with a dot that is not a Kubernetes group.
fn is_custom_resource(object: &Object) -> bool {
    let group = object.api_group();
    group.contains('.') && !group.ends_with(".k8s.io") && !object.is_workload()
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::{Positions, Source};
    use serde_json::json;

    fn object(kind: &str, name: &str, labels: Value) -> Object {
        let value = json!({
            "apiVersion": "apps/v1",
            "kind": kind,
            "metadata": {"name": name, "namespace": "ns"},
            "spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": []}}}
        });
        Object::new(value, Source::file("o.yaml", 1), Positions::default())
    }

    #[test]
    fn label_index_selects_what_a_scan_selects() {
        let objects = [
            object("Deployment", "a", json!({"app": "web", "tier": "front"})),
            object("Deployment", "b", json!({"app": "web"})),
            object("StatefulSet", "c", json!({"app": "db", "n": 1})),
            object("Deployment", "d", json!({})),
        ];
        let ctx = Context::new(&objects);
        let selectors = [
            json!({}),
            json!({"matchLabels": {"app": "web"}}),
            json!({"matchLabels": {"app": "web", "tier": "front"}}),
            json!({"matchLabels": {"app": "web", "tier": "back"}}),
            json!({"matchLabels": {"n": 1}}),
            json!({"matchLabels": "junk"}),
            json!({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["db"]}]}),
            json!({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}),
        ];
        for selector in &selectors {
            let scanned: Vec<&str> = ctx
                .workloads_in("ns")
                .filter(|w| selector_matches(selector, pod_labels_or_empty(w)))
                .map(Object::name)
                .collect();
            let indexed: Vec<&str> = ctx
                .workloads_selected("ns", selector)
                .map(Object::name)
                .collect();
            assert_eq!(indexed, scanned, "{selector}");
        }
        let map = json!({"app": "web"});
        let matched: Vec<&str> = ctx
            .workloads_matching("ns", map.as_object().unwrap())
            .map(Object::name)
            .collect();
        assert_eq!(matched, ["a", "b"]);
    }

    #[test]
    fn keeps_every_object_of_a_name() {
        let objects = [
            object("Deployment", "a", json!({"copy": "1"})),
            object("Deployment", "a", json!({"copy": "2"})),
        ];
        let ctx = Context::new(&objects);
        assert!(
            ctx.named("Deployment", "ns", "a")
                .is_some_and(|o| std::ptr::eq(o, &objects[0]))
        );
        assert_eq!(ctx.all_named("Deployment", "ns", "a").count(), 2);
        assert!(
            ctx.named_in_any_namespace("Deployment", "a")
                .is_some_and(|o| std::ptr::eq(o, &objects[0]))
        );
        assert!(ctx.named("Deployment", "", "a").is_none());
    }
}
