//! PAL-606: the system:masters group, which bypasses authorization. It shows in objects as a
//! binding subject and, on EKS, as a group the aws-auth ConfigMap maps IAM identities to.

use super::subjects::{role_ref, subjects};
use crate::registry::{Rule, Target};
use crate::util::{items, strings};
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "PAL-606",
    target: Target::Kinds(&["ClusterRoleBinding", "RoleBinding", "ConfigMap"]),
    check,
};

const MASTERS: &str = "system:masters";

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    if object.kind() == "ConfigMap" {
        if is_aws_auth(object) {
            aws_auth(object, hits);
        }
        return;
    }
    // The API server's own binding of cluster-admin to system:masters changes nothing
    // (members bypass authorization anyway) and exists in every cluster.
    if role_ref(object).is_some_and(|r| r.is_cluster_role("cluster-admin")) {
        return;
    }
    for s in subjects(object).filter(|s| s.is(MASTERS)) {
        hits.push(
            s.pointer(),
            format!(
                "binds {} ({MASTERS} already bypasses authorization; its members cannot be \
                 restricted or revoked through RBAC)",
                s.label()
            ),
        );
    }
}

/// EKS reads IAM mappings from ConfigMap kube-system/aws-auth. Manifests often leave the
/// namespace to the apply command, so an unset namespace counts.
fn is_aws_auth(object: &Object) -> bool {
    object.kind() == "ConfigMap"
        && object.name() == "aws-auth"
        && matches!(object.effective_namespace(), "kube-system" | "")
}

fn aws_auth(object: &Object, hits: &mut Hits) {
    for (key, arn_key) in [("mapRoles", "rolearn"), ("mapUsers", "userarn")] {
        let pointer = format!("/data/{key}");
        let Some(text) = object.at(&pointer).and_then(Value::as_str) else {
            continue;
        };
        let parsed = palisade_loader::parse(text, palisade_loader::Limits::default());
        for doc in &parsed.documents {
            for (_, entry) in items(Some(&doc.value)) {
                let to_masters = strings(entry.get("groups")).any(|(_, g)| g == MASTERS);
                if !to_masters {
                    continue;
                }
                let arn = entry.get(arn_key).and_then(Value::as_str).unwrap_or("?");
                hits.push(
                    pointer.clone(),
                    format!("{key} maps {arn:?} to group {MASTERS}"),
                );
            }
        }
    }
}
