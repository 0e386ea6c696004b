/*!
Audit-log analysis: the API server's audit events in, alerts out.

# Brief overview

An [`Event`] is one `audit.k8s.io` event (v1, v1beta1, or with no apiVersion, as old logs
have) with the place it was read from. [`event::parse`] turns one JSON text into events: a
single event, an `EventList` batch (what the API server's audit webhook posts), or a cloud
envelope (AKS diagnostic records, GKE Cloud Audit Logs).

Detectors implement [`Detector`]: each sees every event once, in order, and may raise
[`Alert`]s. Falco rules, Sigma rules, Palisade's own pack and the learned baselines are all
detectors, so one stream runs them all and one alert schema carries what they find.

```
use palisade_audit::{Event, Origin};

let line = r#"{"apiVersion":"audit.k8s.io/v1","kind":"Event","auditID":"a1","stage":"ResponseComplete",
  "verb":"create","requestURI":"/api/v1/namespaces/default/pods","user":{"username":"alice"},
  "objectRef":{"resource":"pods","namespace":"default","apiVersion":"v1"},
  "responseStatus":{"code":201}}"#;
let events = palisade_audit::event::parse(line, &Origin::new("audit.log", 1)).unwrap();
assert_eq!(events[0].verb(), Some("create"));
assert_eq!(events[0].user_name(), Some("alice"));
assert_eq!(events[0].resource(), Some("pods"));
```
*/

pub mod alert;
pub mod baseline;
pub mod event;
pub mod falco;
pub mod pack;
pub mod serve;
pub mod sigma;
pub mod sink;
pub mod summary;

pub use alert::{Alert, Engine, Identity, Target};
pub use event::{Event, EventError, Origin};

/// Something that watches the event stream and raises alerts.
///
/// `observe` sees every event exactly once, in stream order; stateful detectors (windows,
/// baselines) keep what they need between calls.
pub trait Detector: Send {
    /// Which engine the alerts come from.
    fn engine(&self) -> Engine;

    /// Looks at one event and appends any alerts it raises.
    fn observe(&mut self, event: &Event, alerts: &mut Vec<Alert>);

    /// The stream has ended (or is being flushed): alerts still held in windows, if any.
    fn finish(&mut self, _alerts: &mut Vec<Alert>) {}
}
