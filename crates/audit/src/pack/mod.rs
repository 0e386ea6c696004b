/*!
Palisade's own detections: small Rust functions over one audit event, plus three windowed
detections, with their metadata kept as data in [`meta`].

# Brief overview

[`Pack`] is a [`Detector`]. For each event it reads the fields every detection starts with
once ([`cx`]), then runs the stateless detections of each theme ([`exec`], [`workloads`],
[`network`], [`rbac`], [`secrets`], [`auth`], [`threats`]) and feeds the windows
([`windows`]). Each detection checks verb and resource first and allocates only when it
matches.

One request can be written at several stages. The pack skips `RequestReceived` (nothing
has been decided yet), reports a long-running request (exec, attach, port-forward, watch)
at `ResponseStarted`, and does not report it again at `ResponseComplete`; other requests
are reported at `ResponseComplete` (or when the event has no stage).

```
use palisade_audit::pack::{Pack, PackConfig};
use palisade_audit::{Detector, Origin};

let line = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"1","stage":"ResponseStarted",
  "verb":"create","requestURI":"/api/v1/namespaces/shop/pods/web-0/exec?command=sh&stdin=true&tty=true",
  "user":{"username":"alice"},"objectRef":{"resource":"pods","subresource":"exec","namespace":"shop","name":"web-0"},
  "responseStatus":{"code":101},"requestReceivedTimestamp":"2024-05-01T10:00:00.000000Z"}"#;
let events = palisade_audit::event::parse(line, &Origin::new("audit.log", 1)).unwrap();
let mut pack = Pack::new(PackConfig::default());
let mut alerts = Vec::new();
pack.observe(&events[0], &mut alerts);
assert_eq!(alerts[0].rule, "PAL-A101");
assert_eq!(alerts[0].message, "alice ran `sh` in pod shop/web-0");
```
*/

mod auth;
mod command;
mod cx;
mod exec;
mod log4shell;
pub mod meta;
mod network;
mod rbac;
mod secrets;
mod spec;
mod threats;
mod time;
mod windows;
mod workloads;

pub use meta::DetectionMeta;

use crate::{Alert, Detector, Engine, Event};
use cx::Cx;
use std::collections::{HashSet, VecDeque};
use std::time::Duration;

/// Tuning of the pack: windows, thresholds, state bounds and trusted identities.
#[derive(Debug, Clone, PartialEq)]
pub struct PackConfig {
    /// PAL-A170: the window in which 401/403 responses to one source are counted (60 s).
    pub auth_failure_window: Duration,
    /// PAL-A170: failures in the window that make a burst (20).
    pub auth_failure_threshold: usize,
    /// PAL-A171: the window in which one identity's Secret reads are counted (10 min).
    pub secret_enum_window: Duration,
    /// PAL-A171: distinct namespaces read in the window that make enumeration (5).
    pub secret_enum_namespaces: usize,
    /// PAL-A172: how long after its first request a new identity is watched (10 min).
    pub new_identity_window: Duration,
    /// PAL-A172: distinct resource types read in that window that make discovery (20).
    pub new_identity_resources: usize,
    /// PAL-A172: identities seen in the first part of a stream are learned, not new (30 min
    /// of event time).
    pub new_identity_warmup: Duration,
    /// Keys (sources, identities) each window tracks at most; the oldest are evicted (10,000).
    pub max_tracked_keys: usize,
    /// Identities treated like the control plane: exact names, or prefixes ending in `*`
    /// (for example `system:serviceaccount:monitoring:*`). Empty by default.
    pub trusted_users: Vec<String>,
    /// Controllers allowed to write a LoadBalancer Service's status (PAL-A123), besides
    /// the control plane. Same syntax as `trusted_users`.
    pub load_balancer_controllers: Vec<String>,
    /// Detection ids not to run.
    pub disabled: Vec<String>,
}

impl Default for PackConfig {
    fn default() -> PackConfig {
        PackConfig {
            auth_failure_window: Duration::from_secs(60),
            auth_failure_threshold: 20,
            secret_enum_window: Duration::from_secs(600),
            secret_enum_namespaces: 5,
            new_identity_window: Duration::from_secs(600),
            new_identity_resources: 20,
            new_identity_warmup: Duration::from_secs(1800),
            max_tracked_keys: 10_000,
            trusted_users: Vec::new(),
            load_balancer_controllers: vec![
                "system:serviceaccount:metallb-system:*".to_string(),
                "system:serviceaccount:kube-vip:*".to_string(),
            ],
            disabled: Vec::new(),
        }
    }
}

/// One stateless detection: the message of its alert, or `None`.
type Check = fn(&Cx<'_>) -> Option<String>;

/// The logic of each stateless detection, by id.
fn check_of(id: &str) -> Option<Check> {
    Some(match id {
        "PAL-A101" => exec::exec_into_pod,
        "PAL-A102" => exec::attach,
        "PAL-A103" => exec::port_forward,
        "PAL-A104" => exec::ephemeral_container,
        "PAL-A105" => exec::credential_read,
        "PAL-A106" => exec::metadata_service,
        "PAL-A107" => exec::copy_out,
        "PAL-A110" => workloads::privileged,
        "PAL-A111" => workloads::host_path,
        "PAL-A112" => workloads::host_pid_ipc,
        "PAL-A113" => workloads::host_network,
        "PAL-A114" => workloads::capabilities,
        "PAL-A115" => workloads::refused,
        "PAL-A116" => workloads::system_namespace,
        "PAL-A117" => workloads::daemonset,
        "PAL-A118" => workloads::cronjob,
        "PAL-A119" => workloads::sidecar,
        "PAL-A120" => workloads::attack_image,
        "PAL-A121" => network::node_port,
        "PAL-A122" => network::external_ips,
        "PAL-A123" => network::load_balancer_status,
        "PAL-A130" => rbac::privileged_binding,
        "PAL-A131" => rbac::wildcard_role,
        "PAL-A132" => rbac::escalation_role,
        "PAL-A133" => rbac::system_role_modified,
        "PAL-A134" => rbac::impersonation,
        "PAL-A135" => rbac::permission_discovery,
        "PAL-A136" => rbac::certificate_request,
        "PAL-A140" => secrets::list_all_namespaces,
        "PAL-A141" => secrets::access_denied,
        "PAL-A142" => secrets::token_request,
        "PAL-A143" => secrets::token_secret,
        "PAL-A150" => auth::anonymous,
        "PAL-A151" => auth::node_proxy,
        "PAL-A152" => auth::tool_user_agent,
        "PAL-A153" => auth::webhook_changed,
        "PAL-A154" => auth::events_deleted,
        "PAL-A155" => auth::coredns_changed,
        "PAL-A160" => threats::log4shell,
        "PAL-A161" => threats::miner,
        "PAL-A162" => threats::exfiltration,
        "PAL-A163" => threats::reverse_shell,
        "PAL-A164" => threats::download_and_run,
        _ => return None,
    })
}

/// Every detection of the pack.
pub fn detections() -> &'static [DetectionMeta] {
    meta::DETECTIONS
}

/// Request ids already reported at `ResponseStarted`, so `ResponseComplete` is skipped.
/// Bounded: the oldest are forgotten first.
struct StartedIds {
    order: VecDeque<u64>,
    set: HashSet<u64>,
    cap: usize,
}

impl StartedIds {
    fn insert(&mut self, id: u64) {
        if self.set.insert(id) {
            self.order.push_back(id);
            if self.order.len() > self.cap
                && let Some(old) = self.order.pop_front()
            {
                self.set.remove(&old);
            }
        }
    }

    fn take(&mut self, id: u64) -> bool {
        // The completion is the last stage of the request: forget it then.
        self.set.remove(&id)
    }
}

fn hash_id(id: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(id)
}

/// Palisade's detection pack: every detection of [`detections`], as one [`Detector`].
pub struct Pack {
    rules: Vec<(&'static DetectionMeta, Check)>,
    identities: cx::Identities,
    started: StartedIds,
    windows: windows::Windows,
}

impl Pack {
    /// A pack with its windows and thresholds set by `config`.
    pub fn new(config: PackConfig) -> Pack {
        let enabled = |id: &str| !config.disabled.iter().any(|d| d == id);
        let rules = meta::DETECTIONS
            .iter()
            .filter(|m| enabled(m.id))
            .filter_map(|m| Some((m, check_of(m.id)?)))
            .collect();
        Pack {
            rules,
            identities: cx::Identities {
                trusted_users: config.trusted_users.clone(),
                load_balancer_controllers: config.load_balancer_controllers.clone(),
            },
            started: StartedIds {
                order: VecDeque::new(),
                set: HashSet::new(),
                cap: 65_536,
            },
            windows: windows::Windows::new(&config, &enabled),
        }
    }

    /// Whether this stage of the request is the one to analyse.
    fn first_decided_stage(&mut self, event: &Event) -> bool {
        match event.stage() {
            Some("RequestReceived") => false,
            Some("ResponseStarted") => {
                if let Some(id) = event.audit_id() {
                    self.started.insert(hash_id(id));
                }
                true
            }
            Some(_) => !event
                .audit_id()
                .is_some_and(|id| self.started.take(hash_id(id))),
            None => true,
        }
    }
}

impl Default for Pack {
    fn default() -> Pack {
        Pack::new(PackConfig::default())
    }
}

/// An alert of a detection about one event.
pub(crate) fn alert(meta: &DetectionMeta, message: String, event: &Event) -> Alert {
    let mut alert = Alert::for_event(
        meta.id,
        Engine::Palisade,
        meta.severity.as_str(),
        meta.severity,
        message,
        event,
    );
    alert.attack = meta.attack.iter().map(|t| t.to_string()).collect();
    alert
}

impl Detector for Pack {
    fn engine(&self) -> Engine {
        Engine::Palisade
    }

    fn observe(&mut self, event: &Event, alerts: &mut Vec<Alert>) {
        if !self.first_decided_stage(event) {
            return;
        }
        let cx = Cx::new(event, &self.identities);
        for (meta, check) in &self.rules {
            if let Some(message) = check(&cx) {
                alerts.push(alert(meta, message, event));
            }
        }
        self.windows.observe(&cx, alerts);
    }

    fn finish(&mut self, alerts: &mut Vec<Alert>) {
        self.windows.finish(alerts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_detection_has_logic_and_ids_are_unique() {
        let mut seen = HashSet::new();
        for m in detections() {
            assert!(seen.insert(m.id), "duplicate {}", m.id);
            assert!(m.id.starts_with("PAL-A1") && m.id.len() == 8, "{}", m.id);
            assert!(
                !m.attack.is_empty() && !m.description.is_empty(),
                "{}",
                m.id
            );
            let stateful = windows::IDS.contains(&m.id);
            assert_eq!(check_of(m.id).is_some(), !stateful, "{}", m.id);
        }
        assert!(detections().len() >= 30);
    }
}
