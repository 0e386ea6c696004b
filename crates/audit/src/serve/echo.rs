//! A detector that raises one alert per event: for checking a deployment end to end (what
//! reaches Palisade, once each) and for tests. `palisade audit serve --echo-events` adds it.

use crate::{Alert, Detector, Engine, Event};
use palisade_model::Severity;

/// One `echo` alert (engine `palisade`, severity info) for every event.
#[derive(Debug, Default, Clone, Copy)]
pub struct Echo;

impl Detector for Echo {
    fn engine(&self) -> Engine {
        Engine::Palisade
    }

    fn observe(&mut self, event: &Event, alerts: &mut Vec<Alert>) {
        let message = format!(
            "{} {} {} by {}",
            event.audit_id().unwrap_or("-"),
            event.verb().unwrap_or("-"),
            event.request_uri().unwrap_or("-"),
            event.user_name().unwrap_or("-"),
        );
        alerts.push(Alert::for_event(
            "echo",
            Engine::Palisade,
            "DEBUG",
            Severity::Info,
            message,
            event,
        ));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::Origin;

    #[test]
    fn every_event_is_echoed_with_its_audit_id() {
        let text = r#"{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[
            {"kind":"Event","auditID":"a","verb":"get","requestURI":"/api/v1/secrets","user":{"username":"eve"}},
            {"kind":"Event","auditID":"b","verb":"list"}]}"#;
        let events = crate::event::parse(text, &Origin::new("webhook", 8)).unwrap();
        let mut alerts = Vec::new();
        for event in &events {
            Echo.observe(event, &mut alerts);
        }
        assert_eq!(alerts.len(), 2);
        assert_eq!(alerts[0].message, "a get /api/v1/secrets by eve");
        assert_eq!(alerts[0].events[0]["auditID"], "a");
        assert_eq!(alerts[1].origin.as_deref(), Some("webhook:8"));
    }
}
