//! Rules of the `rbac` group: Roles, ClusterRoles, their bindings and ServiceAccounts, judged
//! against CIS Kubernetes Benchmark section 5.1 and the privilege escalation risks of
//! <https://kubernetes.io/docs/concepts/security/rbac-good-practices/>.

mod access;
mod bindings;
mod default_account;
mod escalation;
mod groups;
mod kube_system;
mod masters;
mod policy;
mod service_account;
pub(crate) mod subjects;
mod wildcards;

use crate::registry::Rule;

/// Every rule of the group.
pub const RULES: &[Rule] = &[
    groups::CLUSTER_ADMIN,
    access::SECRETS,
    wildcards::RULE,
    access::WORKLOADS,
    service_account::RULE,
    masters::RULE,
    escalation::VERBS,
    access::VOLUMES,
    access::NODE_PROXY,
    escalation::CSR_APPROVAL,
    escalation::WEBHOOKS,
    access::TOKENS,
    access::EXEC,
    access::PORT_FORWARD,
    access::EVENTS,
    groups::UNAUTHENTICATED,
    groups::AUTHENTICATED,
    bindings::POWERFUL_ROLE,
    bindings::MISSING_ROLE,
    kube_system::RULE,
    default_account::RULE,
];
