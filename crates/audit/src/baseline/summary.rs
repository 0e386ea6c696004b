//! The learned profile of one identity, for people (`palisade audit baseline show USER`).

use super::profile::{Profile, Seen};
use super::time::format;
use serde::Serialize;
use std::collections::HashMap;

/// What the baselines know about one identity.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileSummary {
    /// The identity key: `user.username`, or `system:node:*` for grouped nodes.
    pub identity: String,
    /// First event, RFC 3339.
    pub first_seen: String,
    /// Last event, RFC 3339.
    pub last_seen: String,
    /// Events learned.
    pub events: u64,
    /// Still learning: no alerts about its behaviour yet.
    pub learning: bool,
    /// Operations, most frequent first.
    pub operations: Vec<OperationSummary>,
    /// Source networks, most frequent first.
    pub sources: Vec<ValueCount>,
    /// User-agent families, most frequent first.
    pub user_agents: Vec<ValueCount>,
    /// Request rate per bucket.
    pub rate: RateSummary,
}

/// One (verb, resource) pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationSummary {
    /// `verb resource[/subresource]`, or `verb /segment` for a non-resource URL.
    pub operation: String,
    /// Times seen.
    pub count: u64,
    /// First seen, RFC 3339.
    pub first_seen: String,
    /// Last seen, RFC 3339.
    pub last_seen: String,
    /// Namespaces, most frequent first (empty for cluster-scoped resources).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<ValueCount>,
}

/// A value and how often it was seen.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ValueCount {
    /// The value.
    pub value: String,
    /// Times seen.
    pub count: u64,
    /// Last seen, RFC 3339.
    pub last_seen: String,
}

/// Requests per bucket over the active (non-empty) buckets learned.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RateSummary {
    /// Bucket width, seconds.
    pub bucket_secs: i64,
    /// Mean requests in an active bucket.
    pub mean: f64,
    /// Their standard deviation.
    pub stddev: f64,
    /// Active buckets learned.
    pub active_buckets: u32,
}

impl ProfileSummary {
    /// The summary of `profile`.
    pub fn of(identity: &str, profile: &Profile, learning: bool, bucket_secs: i64) -> Self {
        let mut operations: Vec<OperationSummary> = profile
            .ops
            .iter()
            .map(|(op, s)| OperationSummary {
                operation: op.to_string(),
                count: s.n,
                first_seen: format(s.first),
                last_seen: format(s.last),
                namespaces: counts(&s.ns),
            })
            .collect();
        operations.sort_by(|a, b| b.count.cmp(&a.count).then(a.operation.cmp(&b.operation)));
        ProfileSummary {
            identity: identity.to_string(),
            first_seen: format(profile.first),
            last_seen: format(profile.last),
            events: profile.events,
            learning,
            operations,
            sources: counts(&profile.sources),
            user_agents: counts(&profile.agents),
            rate: RateSummary {
                bucket_secs,
                mean: profile.rate.mean,
                stddev: profile.rate.var.sqrt(),
                active_buckets: profile.rate.active,
            },
        }
    }
}

/// The values of a counted map, most frequent first.
pub(crate) fn counts(map: &HashMap<Box<str>, Seen>) -> Vec<ValueCount> {
    let mut v: Vec<ValueCount> = map
        .iter()
        .map(|(value, s)| ValueCount {
            value: value.to_string(),
            count: s.n,
            last_seen: format(s.last),
        })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
    v
}
