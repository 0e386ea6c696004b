//! PAL-620: write access to ConfigMaps in kube-system, where EKS maps IAM identities to
//! Kubernetes groups (aws-auth) and CoreDNS and kube-proxy keep their configuration.

use super::policy::{Perm, grants, rules_of};
use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;

pub const RULE: Rule = Rule {
    id: "PAL-620",
    target: Target::Kinds(&["Role", "ClusterRole"]),
    check,
};

const WRITE_CONFIGMAPS: &[Perm] = &[Perm {
    groups: &[""],
    resource: "configmaps",
    verbs: &["update", "patch", "delete", "deletecollection"],
}];

const KUBE_SYSTEM: &str = "kube-system";

fn check(object: &Object, ctx: &Context<'_>, hits: &mut Hits) {
    let scope = match object.kind() {
        "Role" if object.effective_namespace() == KUBE_SYSTEM => {
            Some(format!("in namespace {KUBE_SYSTEM}"))
        }
        "ClusterRole" => binding_in_kube_system(object, ctx),
        _ => None,
    };
    for rule in rules_of(object) {
        for grant in grants(&rule, WRITE_CONFIGMAPS) {
            let named_aws_auth = grant.names.contains(&"aws-auth");
            let context = match (&scope, grant.names.is_empty()) {
                _ if named_aws_auth => "the EKS aws-auth identity mapping".to_string(),
                (Some(scope), true) => scope.clone(),
                _ => continue,
            };
            hits.push(
                grant.pointer.clone(),
                format!("{} ({context})", grant.describe(&rule)),
            );
        }
    }
}

/// A scanned binding that makes a ClusterRole effective in kube-system: any
/// ClusterRoleBinding, or a RoleBinding in kube-system.
fn binding_in_kube_system(role: &Object, ctx: &Context<'_>) -> Option<String> {
    let bindings = || ctx.bindings_of("ClusterRole", role.name());
    if let Some(b) = bindings().find(|b| b.kind() == "ClusterRoleBinding") {
        return Some(format!(
            "bound across the cluster by ClusterRoleBinding {:?}",
            b.name()
        ));
    }
    bindings()
        .find(|b| b.kind() == "RoleBinding" && b.effective_namespace() == KUBE_SYSTEM)
        .map(|b| {
            format!(
                "bound in namespace {KUBE_SYSTEM} by RoleBinding {:?}",
                b.name()
            )
        })
}
