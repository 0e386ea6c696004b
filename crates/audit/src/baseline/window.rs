//! Alert windows: one per identity and feature, gathering what the alert will report until
//! the window ends, so that twelve namespaces make one alert, not twelve.

use super::{explain, score};
use crate::{Alert, Engine, Event};
use palisade_model::Severity;
use serde::{Deserialize, Serialize};

/// The baseline rules, one per kind of unusual behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// A (verb, resource) pair the identity never used.
    NewVerbResource,
    /// A (verb, resource) pair the identity used only a few times.
    RareVerbResource,
    /// A known (verb, resource) pair in namespaces where the identity never did it.
    NewNamespace,
    /// A source network the identity never came from.
    NewSource,
    /// A client program (user-agent family) the identity never used.
    NewUserAgent,
    /// Far more requests in one rate bucket than the identity's usual active bucket.
    RateSpike,
    /// An identity first seen after the learning period.
    NewIdentity,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 7] = [
        Rule::NewVerbResource,
        Rule::RareVerbResource,
        Rule::NewNamespace,
        Rule::NewSource,
        Rule::NewUserAgent,
        Rule::RateSpike,
        Rule::NewIdentity,
    ];

    /// The rule name alerts carry, such as `baseline/new-verb-resource`.
    pub fn name(self) -> &'static str {
        match self {
            Rule::NewVerbResource => "baseline/new-verb-resource",
            Rule::RareVerbResource => "baseline/rare-verb-resource",
            Rule::NewNamespace => "baseline/new-namespace",
            Rule::NewSource => "baseline/new-source",
            Rule::NewUserAgent => "baseline/new-user-agent",
            Rule::RateSpike => "baseline/rate-spike",
            Rule::NewIdentity => "baseline/new-identity",
        }
    }
}

/// Distinct namespaces a window lists; beyond it only the count grows.
const MAX_NAMESPACES: usize = 256;

/// The numbers an alert's sentence needs, taken when its window opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Context {
    /// New or rare operation: how often it was seen before, over how long a history.
    Operation {
        /// Times seen before.
        seen: u64,
        /// Seconds of history.
        span: i64,
    },
    /// New namespace for a known operation.
    Namespace {
        /// Namespaces the operation was known in.
        known: usize,
        /// Seconds of history.
        span: i64,
    },
    /// New source network.
    Source {
        /// The address, as written.
        ip: String,
        /// Outside private ranges.
        public: bool,
        /// Some known networks.
        known: Vec<String>,
        /// How many networks were known.
        known_count: usize,
        /// Seconds of history.
        span: i64,
    },
    /// New user-agent family.
    Agent {
        /// The whole user agent.
        full: String,
        /// Some known families.
        known: Vec<String>,
        /// How many families were known.
        known_count: usize,
        /// Seconds of history.
        span: i64,
    },
    /// Rate spike in one bucket.
    Spike {
        /// The usual upper bound.
        upper: f64,
        /// Mean of active buckets.
        mean: f64,
        /// Standard deviation of active buckets.
        sd: f64,
        /// Active buckets learned.
        active: u32,
        /// Bucket start.
        bucket: i64,
        /// Bucket width.
        width: i64,
    },
    /// New identity: its most sensitive operation so far.
    Identity {
        /// `verb resource[/subresource]`.
        top: String,
        /// That operation's weight.
        weight: f64,
    },
}

/// One open alert window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    /// The rule.
    pub rule: Rule,
    /// The feature value: operation, network, user-agent family, or empty.
    pub key: Box<str>,
    /// Opened at.
    pub opened: i64,
    /// Raised (or dropped) when the stream passes this time.
    pub deadline: i64,
    /// Highest base score seen.
    pub score: f64,
    /// Requests covered.
    pub count: u64,
    /// Distinct namespaces covered, in order of first appearance.
    pub namespaces: Vec<Box<str>>,
    /// Namespaces beyond those listed.
    pub more_namespaces: u64,
    /// Numbers for the sentence.
    pub context: Context,
    /// The alert under construction: identity, target and evidence events.
    pub alert: Alert,
}

impl Window {
    /// A window opened by `event`.
    pub fn open(
        rule: Rule,
        key: &str,
        (now, deadline): (i64, i64),
        score: f64,
        context: Context,
        event: &Event,
    ) -> Window {
        let mut w = Window {
            rule,
            key: key.into(),
            opened: now,
            deadline,
            score,
            count: 0,
            namespaces: Vec::new(),
            more_namespaces: 0,
            context,
            alert: Alert::for_event(rule.name(), Engine::Baseline, "", Severity::Info, "", event),
        };
        w.alert.events.clear();
        w.join(event);
        w
    }

    /// Adds an event the alert covers.
    pub fn join(&mut self, event: &Event) {
        self.count += 1;
        if let Some(ns) = event.namespace().filter(|ns| !ns.is_empty()) {
            self.add_namespace(ns);
        }
        if self.alert.events.len() < Alert::MAX_EVENTS {
            self.alert.events.push(event.json().clone());
        }
        if let Some(time) = event.time() {
            self.alert.time = Some(time.to_string());
        }
        self.alert.origin = Some(event.origin().to_string());
    }

    /// Whether the window lists `ns` among its namespaces.
    pub fn has_namespace(&self, ns: &str) -> bool {
        self.namespaces.iter().any(|n| &**n == ns)
    }

    fn add_namespace(&mut self, ns: &str) {
        if self.has_namespace(ns) {
            return;
        }
        if self.namespaces.len() < MAX_NAMESPACES {
            self.namespaces.push(ns.into());
        } else {
            // Past the list it is a count of requests in unlisted namespaces, an upper bound.
            self.more_namespaces += 1;
        }
    }

    /// Distinct namespaces covered (at least; see [`Window::more_namespaces`]).
    pub fn namespace_count(&self) -> u64 {
        self.namespaces.len() as u64 + self.more_namespaces
    }

    /// The final score, with what was gathered in the window.
    pub fn final_score(&self) -> f64 {
        let breadth = usize::try_from(self.namespace_count()).unwrap_or(usize::MAX);
        match &self.context {
            Context::Operation { .. } | Context::Namespace { .. } => {
                score::with_breadth(self.score, breadth)
            }
            Context::Spike { upper, .. } => score::spike(self.count, *upper),
            Context::Identity { weight, .. } => {
                score::NEW_IDENTITY_BASE + score::NEW_IDENTITY_SPAN * weight
            }
            Context::Source { .. } | Context::Agent { .. } => self.score,
        }
    }

    /// The alert, if its final score reaches `threshold`.
    pub fn into_alert(self, identity: &str, threshold: f64) -> Option<Alert> {
        let score = self.final_score();
        if score < threshold {
            return None;
        }
        let message = explain::sentence(&self, identity);
        let severity = score::severity(score);
        let mut alert = self.alert;
        alert.message = message;
        alert.severity = severity;
        alert.priority = severity.as_str().to_string();
        alert.score = Some((score * 1000.0).round() / 1000.0);
        if self.count > alert.events.len() as u64 {
            alert.event_count = Some(self.count);
        }
        let operation = match &self.context {
            Context::Identity { top, .. } => top.as_str(),
            Context::Operation { .. } | Context::Namespace { .. } => &self.key,
            _ => "",
        };
        alert.attack = score::attack(operation)
            .iter()
            .map(|s| s.to_string())
            .collect();
        alert.tags = vec!["baseline".to_string(), "anomaly".to_string()];
        Some(alert)
    }
}
