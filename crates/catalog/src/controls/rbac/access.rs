//! Roles granting access that leads to other identities, other pods or the node: reading
//! Secrets (PAL-602), creating workloads (PAL-604), creating PersistentVolumes (PAL-608),
//! the kubelet API through nodes/proxy (PAL-609), minting service account tokens (PAL-612),
//! exec into pods (PAL-613), port-forwarding (PAL-614), deleting events (PAL-615).

use super::policy::{Perm, report};
use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;

const ROLES: Target = Target::Kinds(&["Role", "ClusterRole"]);
/// Cluster-scoped resources: a namespaced Role cannot grant them.
const CLUSTER_ROLES: Target = Target::Kinds(&["ClusterRole"]);

const CORE: &[&str] = &[""];
const APPS: &[&str] = &["apps", "extensions"];

pub const SECRETS: Rule = Rule {
    id: "PAL-602",
    target: ROLES,
    check: secrets,
};

pub const WORKLOADS: Rule = Rule {
    id: "PAL-604",
    target: ROLES,
    check: workloads,
};

pub const VOLUMES: Rule = Rule {
    id: "PAL-608",
    target: CLUSTER_ROLES,
    check: volumes,
};

pub const NODE_PROXY: Rule = Rule {
    id: "PAL-609",
    target: CLUSTER_ROLES,
    check: node_proxy,
};

pub const TOKENS: Rule = Rule {
    id: "PAL-612",
    target: ROLES,
    check: tokens,
};

pub const EXEC: Rule = Rule {
    id: "PAL-613",
    target: ROLES,
    check: exec,
};

pub const PORT_FORWARD: Rule = Rule {
    id: "PAL-614",
    target: ROLES,
    check: port_forward,
};

pub const EVENTS: Rule = Rule {
    id: "PAL-615",
    target: ROLES,
    check: events,
};

/// `list` and `watch` return the contents of every Secret, not only names.
pub(super) const READ_SECRETS: &[Perm] = &[Perm {
    groups: CORE,
    resource: "secrets",
    verbs: &["get", "list", "watch"],
}];

/// Reading one named Secret is the least-privilege form this control asks for, so rules
/// limited by `resourceNames` are not reported.
fn secrets(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    report(object, hits, READ_SECRETS, true);
}

fn workloads(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    const CREATE: &[&str] = &["create"];
    let perm = |groups, resource| Perm {
        groups,
        resource,
        verbs: CREATE,
    };
    let perms = [
        perm(CORE, "pods"),
        perm(CORE, "replicationcontrollers"),
        perm(APPS, "deployments"),
        perm(APPS, "replicasets"),
        perm(APPS, "daemonsets"),
        perm(APPS, "statefulsets"),
        perm(&["batch"], "jobs"),
        perm(&["batch"], "cronjobs"),
    ];
    report(object, hits, &perms, false);
}

fn volumes(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let perms = [Perm {
        groups: CORE,
        resource: "persistentvolumes",
        verbs: &["create"],
    }];
    report(object, hits, &perms, false);
}

/// A websocket GET runs commands through the kubelet, so `get` is enough.
fn node_proxy(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let perms = [Perm {
        groups: CORE,
        resource: "nodes/proxy",
        verbs: &["get", "create", "update", "patch", "delete"],
    }];
    report(object, hits, &perms, false);
}

fn tokens(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let perms = [Perm {
        groups: CORE,
        resource: "serviceaccounts/token",
        verbs: &["create"],
    }];
    report(object, hits, &perms, false);
}

/// Websocket clients open exec and attach with a GET, which is authorized as `get`.
fn exec(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let perms = [
        Perm {
            groups: CORE,
            resource: "pods/exec",
            verbs: &["create", "get"],
        },
        Perm {
            groups: CORE,
            resource: "pods/attach",
            verbs: &["create", "get"],
        },
        Perm {
            groups: CORE,
            resource: "pods/ephemeralcontainers",
            verbs: &["update", "patch"],
        },
    ];
    report(object, hits, &perms, false);
}

fn port_forward(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let perms = [Perm {
        groups: CORE,
        resource: "pods/portforward",
        verbs: &["create", "get"],
    }];
    report(object, hits, &perms, false);
}

fn events(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let perms = [Perm {
        groups: &["", "events.k8s.io"],
        resource: "events",
        verbs: &["delete", "deletecollection"],
    }];
    report(object, hits, &perms, false);
}
