//! Judging one event of a mature identity against its profile: which alert windows it
//! opens or joins.

use super::config::BaselineConfig;
use super::features::Features;
use super::profile::{Observed, Seen};
use super::score;
use super::state::Entry;
use super::window::{Context, Rule, Window};
use crate::Event;
use std::collections::HashMap;

/// Windows open below the threshold, because breadth gathered in the window may lift them
/// over it; this fraction of the threshold is the least worth watching.
const CANDIDATE: f64 = 0.5;

/// Names of known values an alert lists.
const KNOWN_LISTED: usize = 3;

/// One event, for judging.
pub struct Judged<'a> {
    /// The event.
    pub event: &'a Event,
    /// Its features.
    pub features: &'a Features<'a>,
    /// How it compared with the profile.
    pub observed: Observed,
    /// Its time.
    pub now: i64,
    /// Its operation's weight.
    pub weight: f64,
    /// Its namespace appeared in the cluster within the learning period.
    pub young_namespace: bool,
}

/// Joins the event to the open windows it belongs to, and opens new ones; returns the
/// deadlines of the windows opened.
pub fn judge(entry: &mut Entry, j: &Judged<'_>, config: &BaselineConfig, opened: &mut Vec<i64>) {
    operation(entry, j, config, opened);
    source(entry, j, config, opened);
    agent(entry, j, config, opened);
    rate(entry, j, config, opened);
}

/// A new identity's window gathers all it does, keeping its most sensitive operation.
pub fn join_new_identity(entry: &mut Entry, j: &Judged<'_>) {
    let Some(w) = entry
        .windows
        .iter_mut()
        .find(|w| w.rule == Rule::NewIdentity)
    else {
        return;
    };
    w.join(j.event);
    let w_op = score::identity_weight(j.weight, j.features.own_namespace);
    if let Context::Identity { top, weight } = &mut w.context
        && w_op > *weight
    {
        *top = j.features.operation.to_string();
        *weight = w_op;
    }
}

fn open(entry: &mut Entry, w: Window, opened: &mut Vec<i64>) {
    opened.push(w.deadline);
    entry.windows.push(w);
}

fn find<'e>(entry: &'e mut Entry, rules: &[Rule], key: &str) -> Option<&'e mut Window> {
    entry
        .windows
        .iter_mut()
        .find(|w| rules.contains(&w.rule) && &*w.key == key)
}

fn operation(entry: &mut Entry, j: &Judged<'_>, c: &BaselineConfig, opened: &mut Vec<i64>) {
    let f = j.features;
    let o = &j.observed;
    let young = if j.young_namespace {
        score::YOUNG_NAMESPACE
    } else {
        1.0
    };
    let op_rules = [Rule::NewVerbResource, Rule::RareVerbResource];
    if let Some(w) = find(entry, &op_rules, f.operation) {
        // Scored against the profile as it was when the window opened: the window's own
        // events do not make the behaviour usual.
        let seen = match w.context {
            Context::Operation { seen, .. } => seen,
            _ => o.op_seen,
        };
        w.join(j.event);
        w.score = w
            .score
            .max(score::rarity(seen, c.rarity_pseudocount) * j.weight * young);
        return;
    }
    let span = j.now - entry.profile.first;
    let deadline = j.now + c.window_secs;
    let s = score::rarity(o.op_seen, c.rarity_pseudocount) * j.weight * young;
    if s >= c.threshold * CANDIDATE {
        let rule = if o.op_seen == 0 {
            Rule::NewVerbResource
        } else {
            Rule::RareVerbResource
        };
        let context = Context::Operation {
            seen: o.op_seen,
            span,
        };
        let w = Window::open(rule, f.operation, (j.now, deadline), s, context, j.event);
        return open(entry, w, opened);
    }
    let Some(ns) = f.namespace else { return };
    if let Some(w) = find(entry, &[Rule::NewNamespace], f.operation) {
        if o.ns_seen == 0 || w.has_namespace(ns) {
            let known = match w.context {
                Context::Namespace { known, .. } => known,
                _ => o.ns_known,
            };
            w.join(j.event);
            w.score = w
                .score
                .max(score::NEW_NAMESPACE * j.weight * score::spread(known) * young);
        }
        return;
    }
    // A namespace is new only to an operation known elsewhere: a first namespace of a
    // cluster-wide operation is not a move.
    if o.ns_seen == 0 && o.ns_known > 0 {
        let s = score::NEW_NAMESPACE * j.weight * score::spread(o.ns_known) * young;
        if s >= c.threshold * CANDIDATE {
            let context = Context::Namespace {
                known: o.ns_known,
                span,
            };
            let key = f.operation;
            let w = Window::open(
                Rule::NewNamespace,
                key,
                (j.now, deadline),
                s,
                context,
                j.event,
            );
            open(entry, w, opened);
        }
    }
}

fn source(entry: &mut Entry, j: &Judged<'_>, c: &BaselineConfig, opened: &mut Vec<i64>) {
    let f = j.features;
    let (Some(network), Some(ip)) = (f.source, f.source_ip) else {
        return;
    };
    if let Some(w) = find(entry, &[Rule::NewSource], network) {
        return w.join(j.event);
    }
    // An identity with no known source is one whose log never carried addresses.
    if j.observed.source_seen > 0 || j.observed.sources_known == 0 {
        return;
    }
    let s = if f.source_public {
        score::NEW_PUBLIC_SOURCE
    } else {
        score::NEW_PRIVATE_SOURCE
    };
    if s < c.threshold {
        return;
    }
    let context = Context::Source {
        ip: ip.to_string(),
        public: f.source_public,
        known: known(&entry.profile.sources, network),
        known_count: j.observed.sources_known,
        span: j.now - entry.profile.first,
    };
    let when = (j.now, j.now + c.window_secs);
    let w = Window::open(Rule::NewSource, network, when, s, context, j.event);
    open(entry, w, opened);
}

fn agent(entry: &mut Entry, j: &Judged<'_>, c: &BaselineConfig, opened: &mut Vec<i64>) {
    let Some(family) = j.features.user_agent else {
        return;
    };
    if let Some(w) = find(entry, &[Rule::NewUserAgent], family) {
        return w.join(j.event);
    }
    if j.observed.agent_seen > 0 || j.observed.agents_known == 0 {
        return;
    }
    if score::NEW_USER_AGENT < c.threshold {
        return;
    }
    let context = Context::Agent {
        full: j
            .event
            .user_agent()
            .unwrap_or(family)
            .chars()
            .take(200)
            .collect(),
        known: known(&entry.profile.agents, family),
        known_count: j.observed.agents_known,
        span: j.now - entry.profile.first,
    };
    let when = (j.now, j.now + c.window_secs);
    let w = Window::open(
        Rule::NewUserAgent,
        family,
        when,
        score::NEW_USER_AGENT,
        context,
        j.event,
    );
    open(entry, w, opened);
}

fn rate(entry: &mut Entry, j: &Judged<'_>, c: &BaselineConfig, opened: &mut Vec<i64>) {
    if let Some(w) = find(entry, &[Rule::RateSpike], "") {
        return w.join(j.event);
    }
    let count = j.observed.rate_count;
    let r = &entry.profile.rate;
    if r.active < c.spike_min_buckets || count < c.spike_min_count {
        return;
    }
    let upper = r.upper(c.spike_deviations);
    if (count as f64) <= upper || score::spike(count, upper) < c.threshold {
        return;
    }
    let context = Context::Spike {
        upper,
        mean: r.mean,
        sd: r.var.sqrt(),
        active: r.active,
        bucket: r.bucket,
        width: c.rate_bucket_secs,
    };
    let when = (j.now, r.bucket + c.rate_bucket_secs);
    let mut w = Window::open(Rule::RateSpike, "", when, 0.0, context, j.event);
    // The requests before this one in the bucket are part of the spike too.
    w.count = count;
    open(entry, w, opened);
}

/// The most used known values other than `new`, for the sentence.
fn known(map: &HashMap<Box<str>, Seen>, new: &str) -> Vec<String> {
    let mut v: Vec<(&str, u64)> = map
        .iter()
        .filter(|(k, _)| &***k != new)
        .map(|(k, s)| (&**k, s.n))
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v.into_iter()
        .take(KNOWN_LISTED)
        .map(|(k, _)| k.to_string())
        .collect()
}
