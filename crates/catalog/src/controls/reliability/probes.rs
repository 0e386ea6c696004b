//! PAL-506..509: health probes.
//!
//! Liveness and readiness probes are expected of the regular containers of long-running
//! pods only: init containers run to completion before the pod is ready, and Jobs, CronJobs
//! and pods with `restartPolicy` Never or OnFailure run to completion too, so a probe there
//! would mostly kill useful work.

use crate::registry::{Rule, Target};
use crate::util::items;
use crate::{Context, Hits};
use palisade_model::{ContainerKind, ContainerRef, Object};
use serde_json::Value;

/// Kinds whose pods serve until stopped.
const LONG_RUNNING: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "PodTemplate",
    "DeploymentConfig",
];

pub const LIVENESS: Rule = Rule {
    id: "PAL-506",
    target: Target::Kinds(LONG_RUNNING),
    check: |o, _, hits| missing(o, hits, "livenessProbe", "liveness"),
};

pub const READINESS: Rule = Rule {
    id: "PAL-507",
    target: Target::Kinds(LONG_RUNNING),
    check: |o, _, hits| missing(o, hits, "readinessProbe", "readiness"),
};

pub const IDENTICAL: Rule = Rule {
    id: "PAL-508",
    target: Target::Workload,
    check: identical,
};

pub const NAMED_PORT: Rule = Rule {
    id: "PAL-509",
    target: Target::Workload,
    check: named_port,
};

/// The fields that say what a probe does; the rest (delays, thresholds) say when.
const HANDLERS: [&str; 4] = ["httpGet", "tcpSocket", "exec", "grpc"];

fn missing(object: &Object, hits: &mut Hits, field: &str, what: &str) {
    for c in serving_containers(object) {
        if c.get(field).is_none_or(Value::is_null) {
            hits.push(
                c.field(&format!("/{field}")),
                format!("{} has no {what} probe ({field})", c.label()),
            );
        }
    }
}

/// Regular containers of a pod that runs until stopped.
fn serving_containers(object: &Object) -> impl Iterator<Item = ContainerRef<'_>> {
    let runs_to_completion = object.pod_spec().is_some_and(|pod| {
        matches!(
            pod.get("restartPolicy").and_then(Value::as_str),
            Some("Never" | "OnFailure")
        )
    });
    object
        .containers()
        .filter(move |c| !runs_to_completion && c.kind == ContainerKind::Regular)
}

fn identical(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for c in object.containers() {
        let (Some(liveness), Some(readiness)) = (
            c.get("livenessProbe").and_then(handler),
            c.get("readinessProbe").and_then(handler),
        ) else {
            continue;
        };
        if liveness == readiness {
            hits.push(
                c.field("/livenessProbe"),
                format!(
                    "{} uses the same {} check for its liveness and readiness probes",
                    c.label(),
                    liveness.0
                ),
            );
        }
    }
}

/// The handler of a probe: which kind of check, and its settings.
fn handler(probe: &Value) -> Option<(&'static str, &Value)> {
    HANDLERS
        .into_iter()
        .find_map(|name| probe.get(name).filter(|v| !v.is_null()).map(|v| (name, v)))
}

fn named_port(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for c in object
        .containers()
        .filter(|c| c.kind != ContainerKind::Ephemeral)
    {
        let declared: Vec<&str> = items(c.get("ports"))
            .filter_map(|(_, p)| p.get("name").and_then(Value::as_str))
            .collect();
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            // gRPC probes take a number only; exec has no port.
            for kind in ["httpGet", "tcpSocket"] {
                let pointer = format!("/{probe}/{kind}/port");
                let Some(port) = c.at(&pointer).and_then(Value::as_str) else {
                    continue;
                };
                if declared.contains(&port) {
                    continue;
                }
                let known = if declared.is_empty() {
                    "it names no ports".to_string()
                } else {
                    format!("it declares {}", declared.join(", "))
                };
                hits.push(
                    c.field(&pointer),
                    format!(
                        "{} {probe} targets port {port:?}, which the container does not declare ({known})",
                        c.label()
                    ),
                );
            }
        }
    }
}
