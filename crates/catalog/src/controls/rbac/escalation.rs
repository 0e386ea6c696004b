//! Roles granting ways around RBAC itself: the bind, escalate and impersonate verbs
//! (PAL-607), approving certificate requests (PAL-610), controlling admission webhooks
//! (PAL-611).

use super::policy::{Perm, grants, report, report_verbs, rules_of};
use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;

pub const VERBS: Rule = Rule {
    id: "PAL-607",
    target: Target::Kinds(&["Role", "ClusterRole"]),
    check: verbs,
};

pub const CSR_APPROVAL: Rule = Rule {
    id: "PAL-610",
    target: Target::Kinds(&["ClusterRole"]),
    check: csr_approval,
};

pub const WEBHOOKS: Rule = Rule {
    id: "PAL-611",
    target: Target::Kinds(&["ClusterRole"]),
    check: webhooks,
};

const RBAC: &[&str] = &["rbac.authorization.k8s.io"];
const BIND_ESCALATE: &[&str] = &["bind", "escalate"];
const IMPERSONATE: &[&str] = &["impersonate"];

fn verbs(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let perms = [
        Perm {
            groups: RBAC,
            resource: "roles",
            verbs: BIND_ESCALATE,
        },
        Perm {
            groups: RBAC,
            resource: "clusterroles",
            verbs: BIND_ESCALATE,
        },
        Perm {
            groups: &[""],
            resource: "users",
            verbs: IMPERSONATE,
        },
        Perm {
            groups: &[""],
            resource: "groups",
            verbs: IMPERSONATE,
        },
        Perm {
            groups: &[""],
            resource: "serviceaccounts",
            verbs: IMPERSONATE,
        },
        Perm {
            groups: &["authentication.k8s.io"],
            resource: "uids",
            verbs: IMPERSONATE,
        },
    ];
    report_verbs(object, hits, &perms);
}

const APPROVAL: &[Perm] = &[Perm {
    groups: &["certificates.k8s.io"],
    resource: "certificatesigningrequests/approval",
    verbs: &["update", "patch"],
}];

const SIGNERS: &[Perm] = &[Perm {
    groups: &["certificates.k8s.io"],
    resource: "signers",
    verbs: &["approve"],
}];

/// Approving takes both the approval subresource and `approve` on the signer; the
/// subresource is what CIS asks to restrict, the signer says how far the approval reaches.
fn csr_approval(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let signer = rules_of(object).find_map(|rule| {
        let grant = grants(&rule, SIGNERS).into_iter().next()?;
        Some(match grant.names.is_empty() {
            true => format!("; {} also grants approve on every signer", rule.label()),
            false => format!(
                "; {} also grants approve on signers {}",
                rule.label(),
                grant.names.join(", ")
            ),
        })
    });
    for rule in rules_of(object) {
        for grant in grants(&rule, APPROVAL) {
            hits.push(
                grant.pointer.clone(),
                format!(
                    "{}{}",
                    grant.describe(&rule),
                    signer.as_deref().unwrap_or("")
                ),
            );
        }
    }
}

fn webhooks(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    const WRITE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];
    let perms = [
        Perm {
            groups: &["admissionregistration.k8s.io"],
            resource: "validatingwebhookconfigurations",
            verbs: WRITE,
        },
        Perm {
            groups: &["admissionregistration.k8s.io"],
            resource: "mutatingwebhookconfigurations",
            verbs: WRITE,
        },
    ];
    report(object, hits, &perms, false);
}
