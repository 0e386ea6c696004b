//! What the baselines learn for how long, and when they alert.

use serde::{Deserialize, Serialize};

/// Settings of [`Baselines`](super::Baselines). Durations are seconds of event time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct BaselineConfig {
    /// How long the stream, and then each identity, is only learned before it can alert
    /// (default 14 days).
    pub learning_secs: i64,
    /// Events an identity needs, besides the learning time, before it can alert (default 20).
    pub min_events: u64,
    /// Alerts need at least this score, 0 to 1 (default 0.6).
    pub threshold: f64,
    /// One alert per identity and feature in this window, aggregating what it covers; the
    /// alert is raised when the window ends (default 3600, one hour).
    pub window_secs: i64,
    /// Width of the rate buckets (default 3600, hourly rates).
    pub rate_bucket_secs: i64,
    /// A rate spike is this many standard deviations above the usual active bucket (default 6).
    pub spike_deviations: f64,
    /// ... and at least this many requests in the bucket (default 200).
    pub spike_min_count: u64,
    /// Active buckets an identity needs before its rate is judged (default 24).
    pub spike_min_buckets: u32,
    /// Pseudo-count `k` in the rarity `k / (seen + k)`: 1 for never seen, 0.5 for seen `k`
    /// times (default 2).
    pub rarity_pseudocount: f64,
    /// All `system:node:*` users are one identity, `system:node:*` (default true).
    pub group_nodes: bool,
    /// Alert on identities first seen after the stream's learning period (default true).
    pub alert_new_identities: bool,
    /// Identities kept; beyond it the least recently seen are forgotten (default 10,000).
    pub max_identities: usize,
    /// Distinct (verb, resource) pairs kept per identity (default 512).
    pub max_operations: usize,
    /// Distinct namespaces kept per (verb, resource) pair (default 256).
    pub max_namespaces: usize,
    /// Distinct source networks kept per identity (default 64).
    pub max_sources: usize,
    /// Distinct user-agent families kept per identity (default 32).
    pub max_user_agents: usize,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        BaselineConfig {
            learning_secs: 14 * 86_400,
            min_events: 20,
            threshold: 0.6,
            window_secs: 3_600,
            rate_bucket_secs: 3_600,
            spike_deviations: 6.0,
            spike_min_count: 200,
            spike_min_buckets: 24,
            rarity_pseudocount: 2.0,
            group_nodes: true,
            alert_new_identities: true,
            max_identities: 10_000,
            max_operations: 512,
            max_namespaces: 256,
            max_sources: 64,
            max_user_agents: 32,
        }
    }
}

/// A setting out of its range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("baseline setting {field} is {value}: {expected}")]
pub struct ConfigError {
    /// The setting's name, as in the JSON.
    pub field: &'static str,
    /// Its value.
    pub value: String,
    /// What it must be.
    pub expected: &'static str,
}

impl BaselineConfig {
    /// Checks every setting's range; the first bad one is the error.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |field, value: String, expected| {
            Err(ConfigError {
                field,
                value,
                expected,
            })
        };
        let fraction = |v: f64| v.is_finite() && v > 0.0 && v <= 1.0;
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if self.learning_secs < 0 {
            return bad("learningSecs", self.learning_secs.to_string(), "0 or more");
        }
        if !fraction(self.threshold) {
            return bad(
                "threshold",
                self.threshold.to_string(),
                "above 0, at most 1",
            );
        }
        for (field, v) in [
            ("windowSecs", self.window_secs),
            ("rateBucketSecs", self.rate_bucket_secs),
        ] {
            if v < 1 {
                return bad(field, v.to_string(), "1 or more");
            }
        }
        for (field, v) in [
            ("spikeDeviations", self.spike_deviations),
            ("rarityPseudocount", self.rarity_pseudocount),
        ] {
            if !positive(v) {
                return bad(field, v.to_string(), "a number above 0");
            }
        }
        for (field, v) in [
            ("maxIdentities", self.max_identities),
            ("maxOperations", self.max_operations),
            ("maxNamespaces", self.max_namespaces),
            ("maxSources", self.max_sources),
            ("maxUserAgents", self.max_user_agents),
        ] {
            if v == 0 {
                return bad(field, v.to_string(), "1 or more");
            }
        }
        Ok(())
    }

    /// The settings with every out-of-range value replaced by the nearest valid one, so that
    /// arithmetic never divides by zero.
    pub(crate) fn sanitized(mut self) -> BaselineConfig {
        let defaults = BaselineConfig::default();
        self.learning_secs = self.learning_secs.max(0);
        self.window_secs = self.window_secs.max(1);
        self.rate_bucket_secs = self.rate_bucket_secs.max(1);
        if !(self.threshold.is_finite() && self.threshold > 0.0) {
            self.threshold = defaults.threshold;
        }
        self.threshold = self.threshold.min(1.0);
        if !(self.spike_deviations.is_finite() && self.spike_deviations > 0.0) {
            self.spike_deviations = defaults.spike_deviations;
        }
        if !(self.rarity_pseudocount.is_finite() && self.rarity_pseudocount > 0.0) {
            self.rarity_pseudocount = defaults.rarity_pseudocount;
        }
        for cap in [
            &mut self.max_identities,
            &mut self.max_operations,
            &mut self.max_namespaces,
            &mut self.max_sources,
            &mut self.max_user_agents,
        ] {
            *cap = (*cap).max(1);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_documented_values() {
        let c = BaselineConfig::default();
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.learning_secs, 1_209_600);
        assert_eq!(c.sanitized(), BaselineConfig::default());
    }

    #[test]
    fn out_of_range_settings_are_named() {
        let c = BaselineConfig {
            threshold: 1.5,
            ..BaselineConfig::default()
        };
        let e = c.validate().unwrap_err();
        assert_eq!(e.field, "threshold");
        assert_eq!(
            e.to_string(),
            "baseline setting threshold is 1.5: above 0, at most 1"
        );
        let c = BaselineConfig {
            rate_bucket_secs: 0,
            ..BaselineConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().field, "rateBucketSecs");
        assert_eq!(c.sanitized().rate_bucket_secs, 1);
        let c = BaselineConfig {
            spike_deviations: f64::NAN,
            max_sources: 0,
            ..BaselineConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().field, "spikeDeviations");
        let s = c.sanitized();
        assert_eq!((s.spike_deviations, s.max_sources), (6.0, 1));
    }

    #[test]
    fn reads_partial_json_and_rejects_unknown_fields() {
        let c: BaselineConfig = serde_json::from_str(r#"{"learningSecs": 60}"#).unwrap();
        assert_eq!(c.learning_secs, 60);
        assert_eq!(c.threshold, 0.6);
        let e = serde_json::from_str::<BaselineConfig>(r#"{"treshold": 0.5}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `treshold`"), "{e}");
    }
}
