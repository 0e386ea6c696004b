//! Bindings judged by who they bind: cluster-admin to anyone (PAL-601), the anonymous and
//! unauthenticated identities (PAL-616), every authenticated identity (PAL-617).

use super::subjects::{Subject, role_ref, subjects};
use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;

const BINDINGS: Target = Target::Kinds(&["ClusterRoleBinding", "RoleBinding"]);

pub const CLUSTER_ADMIN: Rule = Rule {
    id: "PAL-601",
    target: BINDINGS,
    check: cluster_admin,
};

pub const UNAUTHENTICATED: Rule = Rule {
    id: "PAL-616",
    target: BINDINGS,
    check: unauthenticated,
};

pub const AUTHENTICATED: Rule = Rule {
    id: "PAL-617",
    target: BINDINGS,
    check: authenticated,
};

fn cluster_admin(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some(role) = role_ref(object) else {
        return;
    };
    if !role.is_cluster_role("cluster-admin") {
        return;
    }
    let scope = match object.kind() {
        "RoleBinding" => format!(" in namespace {:?}", object.effective_namespace()),
        _ => " across the cluster".to_string(),
    };
    // system:masters bypasses authorization whatever it is bound to; PAL-606 reports it.
    for s in subjects(object).filter(|s| !s.is("system:masters")) {
        hits.push(
            s.pointer(),
            format!("grants cluster-admin to {}{scope}", s.label()),
        );
    }
}

/// Default ClusterRoles the API server binds to everyone: discovery and version
/// information only.
const PUBLIC_ROLES: &[&str] = &["system:public-info-viewer"];
const AUTHENTICATED_ROLES: &[&str] = &[
    "system:basic-user",
    "system:discovery",
    "system:public-info-viewer",
];

fn unauthenticated(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    report(object, hits, PUBLIC_ROLES, |s| {
        s.is("system:unauthenticated") || s.is("system:anonymous")
    });
}

fn authenticated(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    report(object, hits, AUTHENTICATED_ROLES, |s| {
        s.is("system:authenticated")
    });
}

fn report(object: &Object, hits: &mut Hits, defaults: &[&str], wanted: fn(&Subject) -> bool) {
    let Some(role) = role_ref(object) else {
        return;
    };
    if defaults.iter().any(|d| role.is_cluster_role(d)) {
        return;
    }
    for s in subjects(object).filter(|s| wanted(s)) {
        hits.push(
            s.pointer(),
            format!("grants {} to {}", role.label(), s.label()),
        );
    }
}
