//! Pod settings that widen what a container can see or what can reach it: PAL-315 (shared
//! process namespace), PAL-316 (hostAliases) and PAL-317 (an SSH port).

use crate::registry::{Rule, Target};
use crate::util::{is_true, items, strings};
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

pub const SHARE_PROCESS_NAMESPACE: Rule = Rule {
    id: "PAL-315",
    target: Target::Workload,
    check: check_share_process_namespace,
};

pub const HOST_ALIASES: Rule = Rule {
    id: "PAL-316",
    target: Target::Workload,
    check: check_host_aliases,
};

pub const SSH_PORT: Rule = Rule {
    id: "PAL-317",
    target: Target::Workload,
    check: check_ssh_port,
};

const SSH: i64 = 22;

fn check_share_process_namespace(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some(pod) = object.pod_spec() else {
        return;
    };
    if is_true(pod.get("shareProcessNamespace")) {
        hits.push(
            pod.field("shareProcessNamespace"),
            "pod sets shareProcessNamespace: true: its containers see, signal and can read the \
             memory and filesystems of each other's processes",
        );
    }
}

fn check_host_aliases(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some(pod) = object.pod_spec() else {
        return;
    };
    let names: Vec<String> = items(pod.get("hostAliases"))
        .map(|(_, alias)| {
            let ip = alias.get("ip").and_then(Value::as_str).unwrap_or("?");
            let hosts: Vec<&str> = strings(alias.get("hostnames")).map(|(_, h)| h).collect();
            format!("{} -> {ip}", hosts.join(", "))
        })
        .collect();
    if !names.is_empty() {
        hits.push(
            pod.field("hostAliases"),
            format!(
                "pod overrides name resolution in /etc/hosts with hostAliases ({})",
                names.join("; ")
            ),
        );
    }
}

fn check_ssh_port(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for c in object.containers() {
        for (i, port) in items(c.get("ports")) {
            if port.get("containerPort").and_then(Value::as_i64) == Some(SSH) {
                hits.push(
                    c.field(&format!("/ports/{i}/containerPort")),
                    format!(
                        "{} exposes port {SSH} (SSH): a remote shell into the container",
                        c.label()
                    ),
                );
            }
        }
    }
}
