/*!
Learned baselines: per identity, what it usually does, and alerts when it does something new,
rare, or far more of it.

# Brief overview

For each identity (`user.username`; all `system:node:*` users are one class by default) the
baselines learn the (verb, resource[/subresource]) pairs it uses and in which namespaces, the
networks it comes from (/24 or /64), its client programs (user-agent families) and its
request rate per bucket. Time is the events' own (`requestReceivedTimestamp`), so a replayed
log behaves like a live one.

Nothing alerts during the learning period of the stream, nor during each identity's own
learning period (by default 14 days and 20 events). After that, an event scores 0 to 1 for
novelty and rarity weighed by what it touches (secrets, exec, RBAC changes and tokens weigh
most). Alerts are gathered in windows, one per identity and feature, so that listing secrets
in twelve namespaces is one alert saying so. The learned state is saved and loaded as
versioned JSON.

```
use palisade_audit::baseline::{BaselineConfig, Baselines};
use palisade_audit::{Detector, Event, Origin};
use serde_json::json;

let config = BaselineConfig { learning_secs: 3_600, min_events: 5, ..BaselineConfig::default() };
let mut baselines = Baselines::new(config);
let event = |t: &str, verb: &str, resource: &str, ns: &str| Event::new(json!({
    "verb": verb, "requestReceivedTimestamp": t,
    "user": {"username": "system:serviceaccount:ci:builder"},
    "objectRef": {"resource": resource, "namespace": ns}}), Origin::new("audit.log", 1));

// A day of the service account reading config maps in its namespace...
for hour in 0..24 {
    baselines.learn_only(&event(&format!("2024-05-01T{hour:02}:00:00Z"), "get", "configmaps", "ci"));
}
// ...then listing secrets in three namespaces.
let mut alerts = Vec::new();
for ns in ["ci", "prod", "kube-system"] {
    baselines.observe(&event("2024-05-02T09:00:00Z", "list", "secrets", ns), &mut alerts);
}
baselines.finish(&mut alerts);
assert_eq!(alerts.len(), 1);
assert_eq!(alerts[0].rule, "baseline/new-verb-resource");
assert_eq!(alerts[0].message, "system:serviceaccount:ci:builder never listed secrets in 33 hours; \
    now listed secrets 3 times in 3 namespaces (ci, prod, kube-system).");
let profile = baselines.profile("system:serviceaccount:ci:builder").unwrap();
assert_eq!(profile.operations[0].operation, "get configmaps");
```
*/

mod config;
mod explain;
mod features;
mod judge;
mod profile;
mod score;
mod state;
mod store;
mod summary;
mod time;
mod window;

pub use config::{BaselineConfig, ConfigError};
pub use features::{NO_USER, NODE_CLASS, user_agent_family};
pub use store::{FORMAT, StoreError, VERSION};
pub use summary::{OperationSummary, ProfileSummary, RateSummary, ValueCount};
pub use window::Rule;

use crate::{Alert, Detector, Engine, Event};
use features::Scratch;
use judge::Judged;
use profile::Profile;
use state::{Entry, State};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;
use window::{Context, Window};

/// Counts of what the baselines did with the events they saw.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BaselineStats {
    /// Events given to `observe` or `learn_only`.
    pub events: u64,
    /// `RequestReceived` events passed over: the same request is logged again when it
    /// completes, and counting both would double every rate.
    pub request_received: u64,
    /// Events with no readable time, which took the time of the latest event before them.
    pub untimed: u64,
    /// Identities forgotten to stay under `maxIdentities`.
    pub identities_evicted: u64,
    /// Values (operations, namespaces, networks, user agents) forgotten to stay under the caps.
    pub values_evicted: u64,
    /// Alerts raised.
    pub alerts: u64,
    /// Windows that closed below the threshold and raised nothing.
    pub windows_below_threshold: u64,
}

/// Learned per-identity baselines; a [`Detector`].
#[derive(Debug, Clone)]
pub struct Baselines {
    config: BaselineConfig,
    state: State,
    /// Window deadlines with their identity; stale entries (identity gone, window already
    /// flushed) are skipped when popped.
    deadlines: BinaryHeap<Reverse<(i64, Box<str>)>>,
    scratch: Scratch,
    stats: BaselineStats,
}

impl Baselines {
    /// Baselines that have learned nothing. Out-of-range settings are replaced by the nearest
    /// valid value (a zero duration by one second); [`BaselineConfig::validate`] reports them.
    pub fn new(config: BaselineConfig) -> Self {
        Baselines {
            config: config.sanitized(),
            state: State::default(),
            deadlines: BinaryHeap::new(),
            scratch: Scratch::default(),
            stats: BaselineStats::default(),
        }
    }

    /// Baselines saved by [`Baselines::save`], with the settings they were saved with.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let (config, state) = store::load(path.as_ref())?;
        let mut baselines = Baselines::new(config);
        baselines.deadlines = state
            .identities
            .iter()
            .flat_map(|(id, e)| {
                e.windows
                    .iter()
                    .map(move |w| Reverse((w.deadline, id.clone())))
            })
            .collect();
        baselines.state = state;
        Ok(baselines)
    }

    /// Saves what was learned, open alert windows included, atomically: the file is either
    /// the old one or the new one.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), StoreError> {
        store::save(path.as_ref(), &self.config, &self.state)
    }

    /// The settings.
    pub fn config(&self) -> &BaselineConfig {
        &self.config
    }

    /// Replaces the settings (for loaded baselines). A different rate bucket width restarts
    /// the learned rates, which are per bucket.
    pub fn set_config(&mut self, config: BaselineConfig) {
        let config = config.sanitized();
        if config.rate_bucket_secs != self.config.rate_bucket_secs {
            let now = self.state.clock.unwrap_or(0);
            for entry in self.state.identities.values_mut() {
                entry.profile.rate = Profile::new(now, config.rate_bucket_secs).rate;
            }
        }
        self.config = config;
    }

    /// What the baselines did so far.
    pub fn stats(&self) -> &BaselineStats {
        &self.stats
    }

    /// The identities with a profile.
    pub fn identities(&self) -> impl Iterator<Item = &str> {
        self.state.identities.keys().map(|k| &**k)
    }

    /// What was learned about `user` (a `user.username`; nodes map to their class when
    /// grouped).
    pub fn profile(&self, user: &str) -> Option<ProfileSummary> {
        let key = if self.config.group_nodes && user.starts_with("system:node:") {
            NODE_CLASS
        } else {
            user
        };
        let entry = self.state.identities.get(key)?;
        let now = self.state.clock.unwrap_or(0);
        let learning = !(self.stream_mature(now) && entry.profile.mature(now, &self.config));
        Some(ProfileSummary::of(
            key,
            &entry.profile,
            learning,
            self.config.rate_bucket_secs,
        ))
    }

    /// Learns one event without judging it: a training pass over historical logs.
    pub fn learn_only(&mut self, event: &Event) {
        if let Some(now) = self.tick(event) {
            self.process(event, now, false);
        }
    }

    fn stream_mature(&self, now: i64) -> bool {
        self.state
            .start
            .is_some_and(|s| now.saturating_sub(s) >= self.config.learning_secs)
    }

    /// Counts the event and moves the clock; `None` for events that are not learned.
    fn tick(&mut self, event: &Event) -> Option<i64> {
        self.stats.events += 1;
        if event.stage() == Some("RequestReceived") {
            self.stats.request_received += 1;
            return None;
        }
        let time = event.time().and_then(time::parse);
        if time.is_none() {
            self.stats.untimed += 1;
        }
        Some(self.state.tick(time))
    }

    fn process(&mut self, event: &Event, now: i64, judging: bool) {
        let stream_mature = self.stream_mature(now);
        let Baselines {
            config,
            state,
            deadlines,
            scratch,
            stats,
        } = self;
        let features = scratch.extract(event, config.group_nodes);
        let identity = features.identity;
        let young_namespace = features
            .namespace
            .is_some_and(|ns| state.young_namespace(ns, now, config.learning_secs));
        let mut opened = Vec::new();
        if !state.identities.contains_key(identity) {
            if state.identities.len() >= config.max_identities {
                stats.identities_evicted += state.evict(config.max_identities - 1);
            }
            let mut entry = Entry {
                profile: Profile::new(now, config.rate_bucket_secs),
                windows: Vec::new(),
            };
            if judging && stream_mature && config.alert_new_identities {
                let weight = score::sensitivity(features.verb, features.operation);
                let context = Context::Identity {
                    top: features.operation.to_string(),
                    weight: score::identity_weight(weight, features.own_namespace),
                };
                let when = (now, now + config.window_secs);
                let w = Window::open(Rule::NewIdentity, "", when, 0.0, context, event);
                opened.push(w.deadline);
                entry.windows.push(w);
            }
            let observed = entry.profile.learn(&features, now, config);
            stats.values_evicted += observed.evicted;
            state.identities.insert(identity.into(), entry);
        } else if let Some(entry) = state.identities.get_mut(identity) {
            let observed = entry.profile.learn(&features, now, config);
            stats.values_evicted += observed.evicted;
            if judging {
                let j = Judged {
                    event,
                    features: &features,
                    observed,
                    now,
                    weight: score::sensitivity(features.verb, features.operation),
                    young_namespace,
                };
                judge::join_new_identity(entry, &j);
                if stream_mature && entry.profile.mature(now, config) {
                    judge::judge(entry, &j, config, &mut opened);
                }
            }
        }
        for deadline in opened {
            deadlines.push(Reverse((deadline, identity.into())));
        }
    }

    /// Raises the windows whose deadline is at or before `now`.
    fn flush_due(&mut self, now: i64, alerts: &mut Vec<Alert>) {
        while let Some(Reverse((deadline, _))) = self.deadlines.peek() {
            if *deadline > now {
                break;
            }
            let Some(Reverse((_, identity))) = self.deadlines.pop() else {
                break;
            };
            let Some(entry) = self.state.identities.get_mut(&identity) else {
                continue;
            };
            let (due, open): (Vec<Window>, Vec<Window>) =
                entry.windows.drain(..).partition(|w| w.deadline <= now);
            entry.windows = open;
            for w in due {
                self.raise(w, &identity, alerts);
            }
        }
    }

    fn raise(&mut self, w: Window, identity: &str, alerts: &mut Vec<Alert>) {
        match w.into_alert(identity, self.config.threshold) {
            Some(alert) => {
                self.stats.alerts += 1;
                alerts.push(alert);
            }
            None => self.stats.windows_below_threshold += 1,
        }
    }
}

impl Detector for Baselines {
    fn engine(&self) -> Engine {
        Engine::Baseline
    }

    fn observe(&mut self, event: &Event, alerts: &mut Vec<Alert>) {
        if let Some(now) = self.tick(event) {
            self.flush_due(now, alerts);
            self.process(event, now, true);
        }
    }

    /// Raises every open window, in the order they would have closed.
    fn finish(&mut self, alerts: &mut Vec<Alert>) {
        let mut windows: Vec<(Box<str>, Window)> = Vec::new();
        for (identity, entry) in &mut self.state.identities {
            windows.extend(entry.windows.drain(..).map(|w| (identity.clone(), w)));
        }
        windows.sort_by(|a, b| {
            (a.1.deadline, a.1.opened, &a.0).cmp(&(b.1.deadline, b.1.opened, &b.0))
        });
        self.deadlines.clear();
        for (identity, w) in windows {
            self.raise(w, &identity, alerts);
        }
    }
}
