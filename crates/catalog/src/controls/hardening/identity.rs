//! Which user and groups processes run as: PAL-306 (UID or GID below 10000) and PAL-307
//! (membership of the root group). UID 0 itself is a Pod Security Standards rule and is left
//! to that control.

use super::linux_containers;
use crate::registry::{Rule, Target};
use crate::util::items;
use crate::{Context, Hits};
use palisade_model::{ContainerRef, Object, PodSpecRef};
use serde_json::Value;

pub const HIGH_IDS: Rule = Rule {
    id: "PAL-306",
    target: Target::Workload,
    check: check_high_ids,
};

pub const ROOT_GROUP: Rule = Rule {
    id: "PAL-307",
    target: Target::Workload,
    check: check_root_group,
};

/// IDs below this may collide with users and groups of the node.
const MIN_ID: i64 = 10000;

/// How one securityContext field resolves for a pod's containers. A value set on the pod is
/// reported once, at the pod, naming the containers that inherit it.
struct Resolved<'a> {
    /// The pod's value, its pointer, and the labels of the containers that inherit it.
    pod: Option<(&'a Value, String, Vec<String>)>,
    /// Containers that set the field themselves, with the value.
    own: Vec<(ContainerRef<'a>, &'a Value)>,
    /// Containers for which neither the container nor the pod sets it.
    unset: Vec<ContainerRef<'a>>,
}

fn resolve<'a>(
    pod: &PodSpecRef<'a>,
    containers: Vec<ContainerRef<'a>>,
    field: &str,
) -> Resolved<'a> {
    let pod_value = pod
        .security_context()
        .and_then(|sc| sc.get(field))
        .filter(|v| !v.is_null());
    let mut inheriting = Vec::new();
    let mut own = Vec::new();
    let mut unset = Vec::new();
    for c in containers {
        let value = c
            .security_context()
            .and_then(|sc| sc.get(field))
            .filter(|v| !v.is_null());
        match (value, pod_value) {
            (Some(v), _) => own.push((c, v)),
            (None, Some(_)) => inheriting.push(c.label()),
            (None, None) => unset.push(c),
        }
    }
    Resolved {
        pod: pod_value.filter(|_| !inheriting.is_empty()).map(|v| {
            (
                v,
                pod.field(&format!("securityContext/{field}")),
                inheriting,
            )
        }),
        own,
        unset,
    }
}

fn check_high_ids(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some((pod, containers)) = linux_containers(object) else {
        return;
    };
    for (field, what) in [("runAsUser", "UID"), ("runAsGroup", "GID")] {
        let resolved = resolve(&pod, containers.clone(), field);
        // 0 is left out: UID 0 is a Pod Security Standards rule, GID 0 is PAL-307.
        let low = |v: &Value| v.as_i64().filter(|id| (1..MIN_ID).contains(id));
        if let Some((value, pointer, inheriting)) = &resolved.pod
            && let Some(id) = low(value)
        {
            hits.push(
                pointer.clone(),
                format!(
                    "pod securityContext.{field} is {what} {id}, below {MIN_ID} (used by {})",
                    inheriting.join(", ")
                ),
            );
        }
        for (c, value) in &resolved.own {
            if let Some(id) = low(value) {
                hits.push(
                    c.field(&format!("/securityContext/{field}")),
                    format!("{} runs with {what} {id}, below {MIN_ID}", c.label()),
                );
            }
        }
        for c in &resolved.unset {
            hits.push(
                c.field(&format!("/securityContext/{field}")),
                format!(
                    "{} sets no {field} and neither does the pod: the image decides the {what}; \
                     set {field} to {MIN_ID} or more",
                    c.label()
                ),
            );
        }
    }
}

fn check_root_group(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some((pod, containers)) = linux_containers(object) else {
        return;
    };
    let is_zero = |v: &Value| v.as_i64() == Some(0);
    let resolved = resolve(&pod, containers, "runAsGroup");
    if let Some((value, pointer, inheriting)) = &resolved.pod
        && is_zero(value)
    {
        hits.push(
            pointer.clone(),
            format!(
                "pod securityContext.runAsGroup is 0 (root group), used by {}",
                inheriting.join(", ")
            ),
        );
    }
    for (c, value) in &resolved.own {
        if is_zero(value) {
            hits.push(
                c.field("/securityContext/runAsGroup"),
                format!("{} runs with primary group 0 (root)", c.label()),
            );
        }
    }
    let pod_sc = pod.security_context();
    if pod_sc.and_then(|sc| sc.get("fsGroup")).is_some_and(is_zero) {
        hits.push(
            pod.field("securityContext/fsGroup"),
            "pod securityContext.fsGroup is 0: every container joins the root group and volumes \
             are owned by it",
        );
    }
    for (i, group) in items(pod_sc.and_then(|sc| sc.get("supplementalGroups"))) {
        if is_zero(group) {
            hits.push(
                pod.field(&format!("securityContext/supplementalGroups/{i}")),
                "pod securityContext.supplementalGroups includes 0: every container joins the \
                 root group",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::{Positions, Source};
    use serde_json::json;

    fn pod(spec: Value) -> Object {
        Object::new(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}),
            Source::file("p.yaml", 1),
            Positions::default(),
        )
    }

    #[test]
    fn pod_value_is_reported_once_for_all_inheriting_containers() {
        let object = pod(json!({
            "securityContext": {"runAsUser": 1000, "runAsGroup": 20000},
            "containers": [{"name": "a"}, {"name": "b"}, {"name": "c", "securityContext": {"runAsUser": 20000}}]
        }));
        let (spec, containers) = linux_containers(&object).unwrap();
        let resolved = resolve(&spec, containers, "runAsUser");
        let (value, pointer, inheriting) = resolved.pod.unwrap();
        assert_eq!(value, &json!(1000));
        assert_eq!(pointer, "/spec/securityContext/runAsUser");
        assert_eq!(inheriting, vec!["container \"a\"", "container \"b\""]);
        assert_eq!(resolved.own.len(), 1);
        assert!(resolved.unset.is_empty());
    }

    #[test]
    fn pod_value_overridden_everywhere_is_not_reported() {
        let object = pod(json!({
            "securityContext": {"runAsGroup": 0},
            "containers": [{"name": "a", "securityContext": {"runAsGroup": 20000}}]
        }));
        let (spec, containers) = linux_containers(&object).unwrap();
        assert!(resolve(&spec, containers, "runAsGroup").pod.is_none());
    }
}
