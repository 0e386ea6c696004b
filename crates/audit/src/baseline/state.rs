//! The learned state: the stream's clock and every identity's profile with its open alert
//! windows. This is what is saved and loaded.

use super::profile::Profile;
use super::window::Window;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Everything the baselines carry from one event to the next.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The latest event time seen (events may arrive slightly out of order).
    pub clock: Option<i64>,
    /// The earliest event time seen: the stream's learning period starts here.
    pub start: Option<i64>,
    /// Profiles by identity key.
    pub identities: HashMap<Box<str>, Entry>,
    /// When each namespace was first seen in the cluster (by anyone).
    #[serde(default)]
    pub namespaces: HashMap<Box<str>, i64>,
}

/// Namespaces whose first appearance is remembered; past it, others count as established.
const MAX_CLUSTER_NAMESPACES: usize = 65_536;

/// One identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// What was learned.
    pub profile: Profile,
    /// Alert windows still open.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub windows: Vec<Window>,
}

impl State {
    /// Advances the clock with an event's time; `None` (no readable time) keeps it.
    /// Returns the time to use for the event.
    pub fn tick(&mut self, time: Option<i64>) -> i64 {
        if let Some(t) = time {
            self.clock = Some(self.clock.map_or(t, |c| c.max(t)));
            self.start = Some(self.start.map_or(t, |s| s.min(t)));
        }
        self.clock.unwrap_or(0)
    }

    /// Notes a namespace seen at `now`; true when it first appeared in the cluster less than
    /// `young_secs` ago.
    pub fn young_namespace(&mut self, ns: &str, now: i64, young_secs: i64) -> bool {
        let first = match self.namespaces.get(ns) {
            Some(first) => *first,
            None if self.namespaces.len() < MAX_CLUSTER_NAMESPACES => {
                self.namespaces.insert(ns.into(), now);
                now
            }
            None => return false,
        };
        now.saturating_sub(first) < young_secs
    }

    /// Forgets the least recently seen identities without open windows until at most
    /// `keep` remain; returns how many went. Removing a tenth more than needed makes this
    /// rare, so its sort is paid once per many new identities.
    pub fn evict(&mut self, keep: usize) -> u64 {
        if self.identities.len() <= keep {
            return 0;
        }
        let target = keep - keep / 10;
        let mut idle: Vec<(i64, Box<str>)> = self
            .identities
            .iter()
            .filter(|(_, e)| e.windows.is_empty())
            .map(|(k, e)| (e.profile.last, k.clone()))
            .collect();
        let excess = self.identities.len().saturating_sub(target).min(idle.len());
        if excess == 0 {
            return 0;
        }
        idle.select_nth_unstable(excess - 1);
        for (_, key) in idle.iter().take(excess) {
            self.identities.remove(key);
        }
        excess as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(last: i64) -> Entry {
        let mut profile = Profile::new(0, 3600);
        profile.last = last;
        Entry {
            profile,
            windows: Vec::new(),
        }
    }

    #[test]
    fn clock_only_moves_forward_and_start_is_the_earliest() {
        let mut s = State::default();
        assert_eq!(s.tick(None), 0);
        assert_eq!(s.tick(Some(100)), 100);
        assert_eq!(s.tick(Some(90)), 100);
        assert_eq!(s.tick(None), 100);
        assert_eq!((s.clock, s.start), (Some(100), Some(90)));
    }

    #[test]
    fn namespaces_are_young_for_the_learning_period() {
        let mut s = State::default();
        assert!(s.young_namespace("a", 100, 60));
        assert!(s.young_namespace("a", 159, 60));
        assert!(!s.young_namespace("a", 160, 60));
        assert_eq!(s.namespaces["a"], 100);
    }

    #[test]
    fn eviction_removes_the_least_recently_seen() {
        let mut s = State::default();
        for i in 0..20 {
            s.identities.insert(format!("u{i}").into(), entry(i));
        }
        assert_eq!(s.evict(20), 0);
        assert_eq!(s.evict(10), 11);
        assert_eq!(s.identities.len(), 9);
        assert!(s.identities.contains_key("u19") && s.identities.contains_key("u11"));
        assert!(!s.identities.contains_key("u10"));
    }
}
