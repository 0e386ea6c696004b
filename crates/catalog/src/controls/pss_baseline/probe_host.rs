//! PAL-109: probes and lifecycle hooks aimed at a host other than the pod.

use super::support::{set, shown};
use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;

pub const RULE: Rule = Rule {
    id: "PAL-109",
    target: Target::Workload,
    check,
};

/// Handlers the kubelet runs from the node: probes, then lifecycle hooks.
const HANDLERS: &[&str] = &[
    "/livenessProbe",
    "/readinessProbe",
    "/startupProbe",
    "/lifecycle/postStart",
    "/lifecycle/preStop",
];

/// Actions whose target host can be set.
const ACTIONS: &[&str] = &["httpGet", "tcpSocket"];

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for c in object.containers() {
        for handler in HANDLERS {
            for action in ACTIONS {
                let host = set(c.at(handler).and_then(|h| h.get(*action)), "host");
                let Some(host) = host.filter(|h| h.as_str() != Some("")) else {
                    continue;
                };
                let path = format!("{handler}/{action}/host");
                hits.push(
                    c.field(&path),
                    format!(
                        "{} sets {} to {}; the kubelet would connect from the node to that host",
                        c.label(),
                        dotted(&path),
                        shown(Some(host))
                    ),
                );
            }
        }
    }
}

/// `/lifecycle/preStop/httpGet/host` as `lifecycle.preStop.httpGet.host`.
fn dotted(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}
