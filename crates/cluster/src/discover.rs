//! Which resources to read: everything served that supports `list`, once per kind.

use crate::ClusterError;
use crate::connect::Target;
use crate::connect::chain;
use kube::discovery::{ApiResource, Discovery, Scope, verbs};

/// One resource to list.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Group, version, kind and plural.
    pub api: ApiResource,
    /// Namespaced or cluster-wide.
    pub namespaced: bool,
}

impl Resource {
    /// `deployments.apps`, `pods` (kubectl's spelling).
    pub fn label(&self) -> String {
        if self.api.group.is_empty() {
            self.api.plural.clone()
        } else {
            format!("{}.{}", self.api.plural, self.api.group)
        }
    }
}

/// Served in two groups at once, read in neither: events are a record of what happened, not
/// configuration; `componentstatuses` is deprecated and probes the control plane on every list.
const SKIPPED: &[(&str, &str)] = &[
    ("", "events"),
    ("events.k8s.io", "events"),
    ("", "componentstatuses"),
];

/// Every listable resource at its most stable version, sorted by group then plural.
/// `namespaced_only` leaves out cluster-wide resources (a scan of one namespace).
pub async fn resources(
    target: &Target,
    namespaced_only: bool,
) -> Result<Vec<Resource>, ClusterError> {
    let client = &target.client;
    let discovery =
        match Discovery::new(client.clone()).run_aggregated().await {
            Ok(discovery) => discovery,
            // Servers before 1.26 have no aggregated discovery: ask group by group.
            Err(_) => Discovery::new(client.clone()).run().await.map_err(|e| {
                ClusterError::Unreachable {
                    server: target.server.clone(),
                    message: chain(&e),
                }
            })?,
        };
    let mut found: Vec<Resource> = discovery
        .groups()
        .flat_map(|group| group.resources_by_stability())
        .filter(|(api, caps)| {
            caps.supports_operation(verbs::LIST)
                && !SKIPPED.contains(&(api.group.as_str(), api.plural.as_str()))
                && !api.plural.contains('/')
        })
        .map(|(api, caps)| Resource {
            namespaced: caps.scope == Scope::Namespaced,
            api,
        })
        .filter(|r| r.namespaced || !namespaced_only)
        .collect();
    found.sort_by(|a, b| (&a.api.group, &a.api.plural).cmp(&(&b.api.group, &b.api.plural)));
    Ok(found)
}
