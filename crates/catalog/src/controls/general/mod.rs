//! General: where objects live, which API versions they use, whether the API server would
//! accept them and whether their references resolve, and components with a history of
//! cluster takeovers.

mod components;
mod deprecated_api;
mod env;
mod labels;
mod naked_pod;
mod namespaces;
mod pod_security;
mod references;
mod selector;
mod webhooks;

use crate::registry::Rule;

/// Every rule of the group.
pub const RULES: &[Rule] = &[
    namespaces::DEFAULT_NAMESPACE,
    namespaces::NAMESPACE_UNSET,
    namespaces::SYSTEM_NAMESPACE,
    deprecated_api::REMOVED,
    deprecated_api::DEPRECATED,
    selector::RULE,
    naked_pod::RULE,
    env::DUPLICATE,
    env::MISSING_SOURCE,
    references::SERVICE_ACCOUNT,
    references::STATEFULSET_SERVICE,
    components::DASHBOARD,
    components::TILLER,
    labels::RULE,
    pod_security::RULE,
    webhooks::RULE,
];
