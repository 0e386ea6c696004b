//! The one alert schema every detector emits (documented in docs/audit.md).

use crate::Event;
use palisade_model::Severity;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which engine raised an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// A Falco rule (k8s_audit rules or a user's file).
    Falco,
    /// A Sigma rule.
    Sigma,
    /// Palisade's own detection pack.
    Palisade,
    /// A learned baseline: behaviour new or rare for an identity.
    Baseline,
}

impl Engine {
    /// The lower-case name, as in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Falco => "falco",
            Engine::Sigma => "sigma",
            Engine::Palisade => "palisade",
            Engine::Baseline => "baseline",
        }
    }
}

/// Who made the request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// `user.username`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `user.groups`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// `impersonatedUser.username`, when the request impersonated someone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impersonated_user: Option<String>,
    /// `sourceIPs`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_ips: Vec<String>,
    /// `userAgent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

/// What the request was about (`objectRef`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// `verb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verb: Option<String>,
    /// `objectRef.resource`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// `objectRef.subresource`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
    /// `objectRef.apiGroup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,
    /// `objectRef.namespace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `objectRef.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `requestURI`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

/// One detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// The rule's name (Falco `rule`, Sigma `title`, or a Palisade detection id).
    pub rule: String,
    /// The engine that raised it.
    pub engine: Engine,
    /// The rule's own priority as its format names it (Falco `WARNING`, Sigma `medium`).
    pub priority: String,
    /// That priority on Palisade's one scale.
    pub severity: Severity,
    /// What happened, in a sentence (Falco's output with its fields filled in).
    pub message: String,
    /// MITRE ATT&CK technique ids, such as `T1609`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attack: Vec<String>,
    /// The rule's tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// When the (last) event happened, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Who.
    pub identity: Identity,
    /// What.
    pub target: Target,
    /// For scored detections (baselines, windows): 0 to 1, higher is more unusual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The events that raised it, in stream order: one for a rule, several for a window
    /// (at most [`Alert::MAX_EVENTS`], see `eventCount`).
    pub events: Vec<Value>,
    /// How many events the detection covered, when more than `events` holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_count: Option<u64>,
    /// Where the (last) event was read, `file:line`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

impl Alert {
    /// Events an alert carries in full; a window covering more keeps a count.
    pub const MAX_EVENTS: usize = 10;

    /// An alert about one event, with identity, target, time and origin taken from it.
    pub fn for_event(
        rule: impl Into<String>,
        engine: Engine,
        priority: impl Into<String>,
        severity: Severity,
        message: impl Into<String>,
        event: &Event,
    ) -> Alert {
        Alert {
            rule: rule.into(),
            engine,
            priority: priority.into(),
            severity,
            message: message.into(),
            attack: Vec::new(),
            tags: Vec::new(),
            time: event.time().map(str::to_string),
            identity: Identity::of(event),
            target: Target::of(event),
            score: None,
            events: vec![event.json().clone()],
            event_count: None,
            origin: Some(event.origin().to_string()),
        }
    }
}

impl Identity {
    /// The identity of an event's request.
    pub fn of(event: &Event) -> Identity {
        Identity {
            user: event.user_name().map(str::to_string),
            groups: event.user_groups().map(str::to_string).collect(),
            impersonated_user: event.impersonated_user().map(str::to_string),
            source_ips: event.source_ips().map(str::to_string).collect(),
            user_agent: event.user_agent().map(str::to_string),
        }
    }
}

impl Target {
    /// The target of an event's request.
    pub fn of(event: &Event) -> Target {
        let own = |s: Option<&str>| s.map(str::to_string);
        Target {
            verb: own(event.verb()),
            resource: own(event.resource()),
            subresource: own(event.subresource()),
            api_group: own(event.api_group()),
            namespace: own(event.namespace()),
            name: own(event.name()),
            uri: own(event.request_uri()),
        }
    }
}
