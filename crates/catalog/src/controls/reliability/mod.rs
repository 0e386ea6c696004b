//! Reliability: resource governance, probes, replicas, disruption budgets, autoscalers and
//! batch workloads. Resource governance doubles as a security control: a workload without
//! limits, or a namespace without quotas, is a denial-of-service waiting to happen.

mod autoscaling;
mod availability;
mod jobs;
mod namespace;
mod probes;
mod resources;
mod scaling;

use crate::registry::Rule;

/// Every rule of the group.
pub const RULES: &[Rule] = &[
    resources::CPU_REQUEST,
    resources::CPU_LIMIT,
    resources::MEMORY_REQUEST,
    resources::MEMORY_LIMIT,
    resources::EPHEMERAL_STORAGE,
    probes::LIVENESS,
    probes::READINESS,
    probes::IDENTICAL,
    probes::NAMED_PORT,
    availability::SINGLE_REPLICA,
    availability::NO_PDB,
    availability::PDB_BLOCKS,
    autoscaling::DANGLING,
    autoscaling::MIN_REPLICAS,
    jobs::STARTING_DEADLINE,
    jobs::CONCURRENCY,
    jobs::TTL,
    jobs::ACTIVE_DEADLINE,
    namespace::NO_LIMIT_RANGE,
    namespace::NO_RESOURCE_QUOTA,
];
