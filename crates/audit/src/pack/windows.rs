//! The stateful detections: bursts of 401/403 from one source (PAL-A170), Secret reads
//! across namespaces by one identity (PAL-A171), and a new identity reading many
//! resource types (PAL-A172).
//!
//! Time is the events' own (`requestReceivedTimestamp`), so a replayed log behaves like a
//! live one; an event without a readable time counts at the latest time seen. A key
//! fires when it reaches its threshold inside the window; the alert is raised when the
//! activity stops (a window passes without more) or the stream ends, and carries the
//! whole incident: its count, a score, and its first events (at most
//! [`Alert::MAX_EVENTS`]). State is bounded: idle keys are dropped, and past
//! `max_tracked_keys` the oldest key is closed early.

use super::cx::Cx;
use super::meta::{self, DetectionMeta};
use super::time::micros;
use super::{PackConfig, alert};
use crate::Alert;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// The ids of the windowed detections.
#[cfg(test)]
pub(crate) const IDS: [&str; 3] = ["PAL-A170", "PAL-A171", "PAL-A172"];

/// Distinct items (namespaces, resource types) kept per key, for the count and message.
const MAX_ITEMS: usize = 256;
/// Identities remembered as seen, for PAL-A172.
const MAX_KNOWN: usize = 100_000;

fn micros_of(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

struct Incident {
    first: i64,
    last: i64,
    items: Vec<(Box<str>, i64)>,
    count: u64,
    evidence: Vec<(i64, Value)>,
    firing: bool,
    /// The last event's time and origin, for the alert.
    last_time: Option<Box<str>>,
    last_origin: Option<crate::Origin>,
}

impl Incident {
    fn new(at: i64) -> Incident {
        Incident {
            first: at,
            last: at,
            items: Vec::new(),
            count: 0,
            evidence: Vec::new(),
            firing: false,
            last_time: None,
            last_origin: None,
        }
    }
}

/// One windowed detection over keys.
struct Tracker {
    meta: &'static DetectionMeta,
    window: i64,
    threshold: usize,
    /// The window starts at a key's first event and does not slide (PAL-A172).
    anchored: bool,
    max_keys: usize,
    keys: HashMap<Box<str>, Incident>,
    /// Keys whose anchored window is over: not tracked again.
    done: HashSet<u64>,
}

impl Tracker {
    fn new(
        id: &str,
        window: i64,
        threshold: usize,
        anchored: bool,
        max_keys: usize,
    ) -> Option<Tracker> {
        Some(Tracker {
            meta: meta::find(id)?,
            window: window.max(1),
            // Items are kept up to MAX_ITEMS per key, so a threshold cannot exceed it.
            threshold: threshold.clamp(1, MAX_ITEMS),
            anchored,
            max_keys: max_keys.max(1),
            keys: HashMap::new(),
            done: HashSet::new(),
        })
    }

    /// The key's incident, opened at `at` if it has none (closing the oldest key when full).
    fn open(&mut self, key: &str, at: i64, alerts: &mut Vec<Alert>) {
        if !self.keys.contains_key(key) {
            if self.keys.len() >= self.max_keys {
                self.evict_oldest(alerts);
            }
            self.keys.insert(key.into(), Incident::new(at));
        }
    }

    /// Counts `item` for `key` at `at`.
    fn add(&mut self, key: &str, item: &str, at: i64, cx: &Cx<'_>, alerts: &mut Vec<Alert>) {
        self.open(key, at, alerts);
        let (window, anchored, threshold) = (self.window, self.anchored, self.threshold);
        let Some(incident) = self.keys.get_mut(key) else {
            return;
        };
        if anchored && at - incident.first > window {
            return;
        }
        if !anchored && at - incident.last > window {
            // Quiet for a window: a firing incident is over, a quiet one starts again.
            let closed = std::mem::replace(incident, Incident::new(at));
            if closed.firing {
                alerts.push(self.close(key, closed));
            }
            return self.add(key, item, at, cx, alerts);
        }
        if !anchored && !incident.firing {
            // Slide: forget what fell out of the window.
            let since = at - window;
            incident.items.retain(|(_, t)| *t >= since);
            incident.evidence.retain(|(t, _)| *t >= since);
            if incident.items.is_empty() {
                *incident = Incident::new(at);
            }
        }
        let new_item = match incident.items.iter_mut().find(|(i, _)| &**i == item) {
            Some(seen) => {
                seen.1 = at;
                false
            }
            None => {
                if incident.items.len() < MAX_ITEMS {
                    incident.items.push((item.into(), at));
                }
                true
            }
        };
        incident.count += 1;
        incident.last = incident.last.max(at);
        if new_item && incident.evidence.len() < Alert::MAX_EVENTS {
            incident.evidence.push((at, cx.event.json().clone()));
        }
        incident.last_time = cx.event.time().map(Box::from);
        incident.last_origin = Some(cx.event.origin().clone());
        if incident.items.len() >= threshold {
            incident.firing = true;
        }
    }

    fn evict_oldest(&mut self, alerts: &mut Vec<Alert>) {
        let oldest = self
            .keys
            .iter()
            .min_by_key(|(_, i)| i.last)
            .map(|(k, _)| k.clone());
        if let Some(key) = oldest
            && let Some(incident) = self.keys.remove(&key)
            && incident.firing
        {
            alerts.push(self.close(&key, incident));
        }
    }

    /// Closes the keys whose window has passed at `now`.
    fn sweep(&mut self, now: i64, alerts: &mut Vec<Alert>) {
        let window = self.window;
        let anchored = self.anchored;
        let expired: Vec<Box<str>> = self
            .keys
            .iter()
            .filter(|(_, i)| {
                if anchored {
                    now - i.first > window
                } else {
                    now - i.last > window
                }
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in expired {
            if let Some(incident) = self.keys.remove(&key) {
                if anchored && self.done.len() < MAX_KNOWN {
                    self.done.insert(super::hash_id(&key));
                }
                if incident.firing {
                    alerts.push(self.close(&key, incident));
                }
            }
        }
    }

    fn finish(&mut self, alerts: &mut Vec<Alert>) {
        let keys: Vec<Box<str>> = self.keys.keys().cloned().collect();
        for key in keys {
            if let Some(incident) = self.keys.remove(&key)
                && incident.firing
            {
                alerts.push(self.close(&key, incident));
            }
        }
    }

    fn close(&self, key: &str, incident: Incident) -> Alert {
        let message = self.message(key, &incident);
        let Incident {
            items,
            count,
            evidence,
            last_time,
            last_origin,
            ..
        } = incident;
        let mut evidence = evidence.into_iter().map(|(_, v)| v);
        let first = evidence.next().unwrap_or(Value::Null);
        let origin = last_origin.unwrap_or_else(|| crate::Origin::new("-", 0));
        let mut alert = alert(self.meta, message, &crate::Event::new(first, origin));
        alert.events.extend(evidence);
        alert.time = last_time.map(String::from).or(alert.time);
        let ratio = items.len() as f64 / self.threshold as f64;
        alert.score = Some((ratio / 2.0).min(1.0));
        alert.event_count = Some(count);
        alert
    }

    fn message(&self, key: &str, incident: &Incident) -> String {
        let minutes = (incident.last - incident.first) as f64 / 60_000_000.0;
        let span = if minutes < 1.0 {
            format!("{:.0} s", minutes * 60.0)
        } else {
            format!("{minutes:.1} min")
        };
        let names = |n: usize| {
            let mut list: Vec<&str> = incident.items.iter().take(n).map(|(i, _)| &**i).collect();
            if incident.items.len() > n {
                list.push("...");
            }
            list.join(", ")
        };
        match self.meta.id {
            "PAL-A170" => format!(
                "{key} received {} authentication or authorization failures in {span}",
                incident.count
            ),
            "PAL-A171" => format!(
                "{key} read secrets in {} namespaces ({}) in {span}",
                incident.items.len(),
                names(8)
            ),
            _ => format!(
                "new identity {key} read {} resource types ({}) in {span} after its first request",
                incident.items.len(),
                names(8)
            ),
        }
    }
}

/// The three windowed detections and the stream clock they share.
pub(crate) struct Windows {
    clock: Option<i64>,
    stream_start: Option<i64>,
    next_sweep: i64,
    sweep_every: i64,
    failures: Option<Tracker>,
    secrets: Option<Tracker>,
    discovery: Option<Tracker>,
    warmup: i64,
    known: HashSet<u64>,
    sequence: u64,
}

impl Windows {
    pub fn new(config: &PackConfig, enabled: &dyn Fn(&str) -> bool) -> Windows {
        let max = config.max_tracked_keys;
        let on = |id: &str, window, threshold, anchored| {
            if enabled(id) {
                Tracker::new(id, micros_of(window), threshold, anchored, max)
            } else {
                None
            }
        };
        let failures = on(
            "PAL-A170",
            config.auth_failure_window,
            config.auth_failure_threshold,
            false,
        );
        let secrets = on(
            "PAL-A171",
            config.secret_enum_window,
            config.secret_enum_namespaces,
            false,
        );
        let discovery = on(
            "PAL-A172",
            config.new_identity_window,
            config.new_identity_resources,
            true,
        );
        let shortest = [
            config.auth_failure_window,
            config.secret_enum_window,
            config.new_identity_window,
        ]
        .into_iter()
        .min()
        .map_or(1, micros_of);
        Windows {
            clock: None,
            stream_start: None,
            next_sweep: i64::MIN,
            sweep_every: (shortest / 2).max(1),
            failures,
            secrets,
            discovery,
            warmup: micros_of(config.new_identity_warmup),
            known: HashSet::new(),
            sequence: 0,
        }
    }

    fn trackers(&mut self) -> impl Iterator<Item = &mut Tracker> {
        [&mut self.failures, &mut self.secrets, &mut self.discovery]
            .into_iter()
            .flatten()
    }

    pub fn observe(&mut self, cx: &Cx<'_>, alerts: &mut Vec<Alert>) {
        let at = match (cx.event.time().and_then(micros), self.clock) {
            (Some(t), _) => t,
            (None, Some(clock)) => clock,
            (None, None) => 0,
        };
        let now = self.clock.map_or(at, |c| c.max(at));
        self.clock = Some(now);
        let start = *self.stream_start.get_or_insert(at);
        if now >= self.next_sweep {
            for tracker in self.trackers() {
                tracker.sweep(now, alerts);
            }
            self.next_sweep = now.saturating_add(self.sweep_every);
        }
        if cx.trusted {
            return;
        }
        if cx.denied()
            && let Some(tracker) = &mut self.failures
        {
            // Every failure counts: each is its own item.
            let key = cx.source().unwrap_or(cx.who());
            self.sequence += 1;
            tracker.add(key, &self.sequence.to_string(), at, cx, alerts);
        }
        let read = matches!(cx.verb, "get" | "list" | "watch");
        if read
            && cx.resource == "secrets"
            && !cx.namespace.is_empty()
            && cx.ok()
            && !is_helm_record(cx)
            && let Some(tracker) = &mut self.secrets
        {
            tracker.add(cx.who(), cx.namespace, at, cx, alerts);
        }
        self.discover(cx, at, at - start < self.warmup, alerts);
    }

    fn discover(&mut self, cx: &Cx<'_>, at: i64, warming: bool, alerts: &mut Vec<Alert>) {
        let Some(tracker) = &mut self.discovery else {
            return;
        };
        if cx.user.is_empty() {
            return;
        }
        if !tracker.keys.contains_key(cx.user) {
            let id = super::hash_id(cx.user);
            // Past MAX_KNOWN identities, new ones are no longer told apart (documented).
            if self.known.len() >= MAX_KNOWN || !self.known.insert(id) || tracker.done.contains(&id)
            {
                return;
            }
            if warming {
                return;
            }
            // Its window starts with its first request, whatever that is.
            tracker.open(cx.user, at, alerts);
        }
        if matches!(cx.verb, "get" | "list" | "watch") && !cx.resource.is_empty() {
            if cx.subresource.is_empty() {
                tracker.add(cx.user, cx.resource, at, cx, alerts);
            } else {
                let item = format!("{}/{}", cx.resource, cx.subresource);
                tracker.add(cx.user, &item, at, cx, alerts);
            }
        }
    }

    pub fn finish(&mut self, alerts: &mut Vec<Alert>) {
        for tracker in self.trackers() {
            tracker.finish(alerts);
        }
    }
}

/// Helm keeps release records as Secrets (`sh.helm.release.v1.*`, listed with
/// `owner=helm`): reading them is Helm at work, not enumeration.
fn is_helm_record(cx: &Cx<'_>) -> bool {
    cx.name.starts_with("sh.helm.release.v1.")
        || cx
            .event
            .request_uri()
            .is_some_and(|u| u.contains("owner%3Dhelm") || u.contains("owner=helm"))
}
