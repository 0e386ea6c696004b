//! What is learned about one identity: its operations with their namespaces, its source
//! networks, its user agents and its request rate.

use super::config::BaselineConfig;
use super::features::Features;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How often a value was seen, and when last.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Seen {
    /// Times seen.
    pub n: u64,
    /// Last seen, seconds since the epoch.
    pub last: i64,
}

/// One (verb, resource) pair of an identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// Times seen.
    pub n: u64,
    /// First seen.
    pub first: i64,
    /// Last seen.
    pub last: i64,
    /// Namespaces it was done in (none for cluster-scoped resources).
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub ns: HashMap<Box<str>, Seen>,
}

/// Requests per bucket: the open bucket, and the exponentially weighted mean and variance of
/// the active (non-empty) buckets before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    /// Start of the open bucket.
    pub bucket: i64,
    /// Requests in it so far.
    pub count: u64,
    /// Weighted mean of active buckets.
    pub mean: f64,
    /// Weighted variance of active buckets.
    pub var: f64,
    /// Active buckets folded in.
    pub active: u32,
}

/// Weight of the newest bucket once there are enough: about the last 50 active buckets count.
const RATE_ALPHA: f64 = 0.02;

impl Rate {
    fn new(bucket: i64) -> Rate {
        Rate {
            bucket,
            count: 0,
            mean: 0.0,
            var: 0.0,
            active: 0,
        }
    }

    /// Closes the open bucket if `now` is past it, folding a non-empty one into the mean.
    fn advance(&mut self, now: i64, width: i64) {
        if now < self.bucket.saturating_add(width) {
            return;
        }
        if self.count > 0 {
            self.active = self.active.saturating_add(1);
            // The plain average until there are enough buckets, then an exponential one,
            // so that the rate follows slow change.
            let alpha = (1.0 / f64::from(self.active)).max(RATE_ALPHA);
            let x = self.count as f64;
            let delta = x - self.mean;
            self.mean += alpha * delta;
            self.var = (1.0 - alpha) * (self.var + alpha * delta * delta);
        }
        self.bucket = now - now.rem_euclid(width);
        self.count = 0;
    }

    /// The usual upper bound of an active bucket: the mean plus `deviations` standard
    /// deviations, with at least Poisson spread (the square root of the mean) and at least 1.
    pub fn upper(&self, deviations: f64) -> f64 {
        let sd = self.var.sqrt().max(self.mean.sqrt()).max(1.0);
        self.mean + deviations * sd
    }
}

/// Everything learned about one identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// First event.
    pub first: i64,
    /// Last event.
    pub last: i64,
    /// Events learned.
    pub events: u64,
    /// Keyed by `verb resource[/subresource]`.
    pub ops: HashMap<Box<str>, Operation>,
    /// Keyed by network prefix.
    #[serde(default)]
    pub sources: HashMap<Box<str>, Seen>,
    /// Keyed by user-agent family.
    #[serde(default)]
    pub agents: HashMap<Box<str>, Seen>,
    /// Request rate.
    pub rate: Rate,
}

/// What one event was, against the profile as it was before the event.
#[derive(Debug, Clone, Copy, Default)]
pub struct Observed {
    /// Times the operation was seen before.
    pub op_seen: u64,
    /// Times the operation was seen in this namespace before (0 without a namespace).
    pub ns_seen: u64,
    /// Namespaces the operation was known in before.
    pub ns_known: usize,
    /// Times this source network was seen before.
    pub source_seen: u64,
    /// Source networks known before.
    pub sources_known: usize,
    /// Times this user-agent family was seen before.
    pub agent_seen: u64,
    /// User-agent families known before.
    pub agents_known: usize,
    /// Requests in the open rate bucket, this one included.
    pub rate_count: u64,
    /// Values forgotten to make room (caps reached).
    pub evicted: u64,
}

impl Profile {
    /// A profile with nothing learned, first seen at `now`.
    pub fn new(now: i64, bucket_width: i64) -> Profile {
        Profile {
            first: now,
            last: now,
            events: 0,
            ops: HashMap::new(),
            sources: HashMap::new(),
            agents: HashMap::new(),
            rate: Rate::new(now - now.rem_euclid(bucket_width)),
        }
    }

    /// Whether the identity has been learned long and often enough to be judged.
    pub fn mature(&self, now: i64, config: &BaselineConfig) -> bool {
        self.events >= config.min_events && now.saturating_sub(self.first) >= config.learning_secs
    }

    /// Learns one event and says how it compared with what was known.
    pub fn learn(&mut self, f: &Features<'_>, now: i64, config: &BaselineConfig) -> Observed {
        let mut o = Observed::default();
        self.events += 1;
        self.first = self.first.min(now);
        self.last = self.last.max(now);
        self.learn_operation(f, now, config, &mut o);
        if let Some(source) = f.source {
            o.sources_known = self.sources.len();
            o.source_seen = touch(&mut self.sources, source, now, config.max_sources, &mut o);
        }
        if let Some(agent) = f.user_agent {
            o.agents_known = self.agents.len();
            o.agent_seen = touch(&mut self.agents, agent, now, config.max_user_agents, &mut o);
        }
        self.rate.advance(now, config.rate_bucket_secs);
        self.rate.count += 1;
        o.rate_count = self.rate.count;
        o
    }

    fn learn_operation(
        &mut self,
        f: &Features<'_>,
        now: i64,
        config: &BaselineConfig,
        o: &mut Observed,
    ) {
        if !self.ops.contains_key(f.operation) && self.ops.len() >= config.max_operations {
            o.evicted += evict_oldest(&mut self.ops, |op| op.last);
        }
        let op = match self.ops.get_mut(f.operation) {
            Some(op) => op,
            None => self.ops.entry(f.operation.into()).or_insert(Operation {
                n: 0,
                first: now,
                last: now,
                ns: HashMap::new(),
            }),
        };
        o.op_seen = op.n;
        op.n += 1;
        op.last = op.last.max(now);
        if let Some(ns) = f.namespace {
            o.ns_known = op.ns.len();
            o.ns_seen = touch(&mut op.ns, ns, now, config.max_namespaces, o);
        }
    }
}

/// Counts `key` in `map` and returns how often it was seen before; when the map is full the
/// least recently seen value is forgotten first.
fn touch(
    map: &mut HashMap<Box<str>, Seen>,
    key: &str,
    now: i64,
    cap: usize,
    o: &mut Observed,
) -> u64 {
    if let Some(seen) = map.get_mut(key) {
        let before = seen.n;
        seen.n += 1;
        seen.last = seen.last.max(now);
        return before;
    }
    if map.len() >= cap {
        o.evicted += evict_oldest(map, |s| s.last);
    }
    map.insert(key.into(), Seen { n: 1, last: now });
    0
}

/// Removes the entry seen longest ago (a scan: this runs only when a capped map is full).
fn evict_oldest<V>(map: &mut HashMap<Box<str>, V>, last: impl Fn(&V) -> i64) -> u64 {
    let oldest = map
        .iter()
        .min_by(|a, b| last(a.1).cmp(&last(b.1)).then_with(|| a.0.cmp(b.0)))
        .map(|(k, _)| k.clone());
    match oldest {
        Some(key) => {
            map.remove(&key);
            1
        }
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features<'a>(op: &'a str, ns: Option<&'a str>, source: Option<&'a str>) -> Features<'a> {
        Features {
            identity: "alice",
            verb: op.split(' ').next().unwrap_or(""),
            operation: op,
            namespace: ns,
            source,
            source_ip: source,
            source_public: false,
            user_agent: Some("kubectl"),
            own_namespace: false,
        }
    }

    #[test]
    fn counts_what_was_seen_before_each_event() {
        let c = BaselineConfig::default();
        let mut p = Profile::new(100, c.rate_bucket_secs);
        let o = p.learn(
            &features("list pods", Some("a"), Some("10.0.0.0/24")),
            100,
            &c,
        );
        assert_eq!((o.op_seen, o.ns_seen, o.ns_known), (0, 0, 0));
        assert_eq!((o.source_seen, o.sources_known, o.agent_seen), (0, 0, 0));
        let o = p.learn(
            &features("list pods", Some("b"), Some("10.0.0.0/24")),
            101,
            &c,
        );
        assert_eq!((o.op_seen, o.ns_seen, o.ns_known), (1, 0, 1));
        assert_eq!((o.source_seen, o.sources_known, o.agent_seen), (1, 1, 1));
        let o = p.learn(&features("list pods", Some("a"), None), 102, &c);
        assert_eq!((o.op_seen, o.ns_seen, o.ns_known), (2, 1, 2));
        assert_eq!(o.rate_count, 3);
        assert_eq!(p.events, 3);
        assert_eq!(p.ops["list pods"].ns["a"], Seen { n: 2, last: 102 });
    }

    #[test]
    fn caps_forget_the_least_recently_seen() {
        let c = BaselineConfig {
            max_operations: 2,
            max_namespaces: 2,
            ..BaselineConfig::default()
        };
        let mut p = Profile::new(0, c.rate_bucket_secs);
        p.learn(&features("get a", Some("x"), None), 1, &c);
        p.learn(&features("get b", Some("x"), None), 2, &c);
        p.learn(&features("get a", Some("y"), None), 3, &c);
        let o = p.learn(&features("get c", None, None), 4, &c);
        assert_eq!(o.evicted, 1);
        let mut keys: Vec<_> = p.ops.keys().map(|k| k.to_string()).collect();
        keys.sort();
        assert_eq!(keys, ["get a", "get c"]);
        let o = p.learn(&features("get a", Some("z"), None), 5, &c);
        assert_eq!((o.evicted, o.ns_known), (1, 2));
        assert!(p.ops["get a"].ns.contains_key("z") && !p.ops["get a"].ns.contains_key("x"));
    }

    #[test]
    fn rate_averages_active_buckets_only() {
        let c = BaselineConfig {
            rate_bucket_secs: 10,
            ..BaselineConfig::default()
        };
        let mut p = Profile::new(0, c.rate_bucket_secs);
        // 4 requests in [0,10), nothing for a long gap, 6 in [1000,1010), then one more bucket.
        for t in [0, 1, 2, 3, 1000, 1001, 1002, 1003, 1004, 1005, 2000] {
            p.learn(&features("get a", None, None), t, &c);
        }
        assert_eq!(p.rate.active, 2);
        assert!((p.rate.mean - 5.0).abs() < 1e-9);
        assert!((p.rate.var - 1.0).abs() < 1e-9, "{}", p.rate.var);
        assert_eq!((p.rate.bucket, p.rate.count), (2000, 1));
        // mean 5, sd max(1.41, 2.24, 1) = 2.24
        assert!((p.rate.upper(2.0) - (5.0 + 2.0 * 5f64.sqrt())).abs() < 1e-9);
    }

    #[test]
    fn maturity_needs_time_and_events() {
        let c = BaselineConfig {
            learning_secs: 100,
            min_events: 2,
            ..BaselineConfig::default()
        };
        let mut p = Profile::new(0, c.rate_bucket_secs);
        p.learn(&features("get a", None, None), 0, &c);
        assert!(!p.mature(200, &c));
        p.learn(&features("get a", None, None), 50, &c);
        assert!(!p.mature(99, &c));
        assert!(p.mature(100, &c));
    }
}
