//! PAL-108: container ports bound on the node (hostPort).

use super::support::{set, shown};
use crate::registry::{Rule, Target};
use crate::util::items;
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "PAL-108",
    target: Target::Workload,
    check,
};

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for c in object.containers() {
        for (i, port) in items(c.get("ports")) {
            let Some(host_port) = set(Some(port), "hostPort") else {
                continue;
            };
            // 0 is how the API writes "no host port".
            if host_port.as_f64() == Some(0.0) {
                continue;
            }
            let name = port
                .get("name")
                .and_then(Value::as_str)
                .map(|n| format!(" (port {n:?})"))
                .unwrap_or_default();
            hits.push(
                c.field(&format!("/ports/{i}/hostPort")),
                format!(
                    "{} binds host port {}{name}",
                    c.label(),
                    shown(Some(host_port))
                ),
            );
        }
    }
}
