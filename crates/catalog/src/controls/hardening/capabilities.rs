//! Capability hygiene that the Pod Security Standards do not state on their own:
//! PAL-302 (NET_RAW kept), PAL-303 (capabilities added), PAL-304 (ALL not dropped) and
//! PAL-305 (capabilities that amount to host control added).

use super::linux_containers;
use crate::registry::{Rule, Target};
use crate::util::strings;
use crate::{Context, Hits};
use palisade_model::{ContainerRef, Object};

pub const NET_RAW: Rule = Rule {
    id: "PAL-302",
    target: Target::Workload,
    check: check_net_raw,
};

pub const ADDED: Rule = Rule {
    id: "PAL-303",
    target: Target::Workload,
    check: check_added,
};

pub const NOT_DROP_ALL: Rule = Rule {
    id: "PAL-304",
    target: Target::Workload,
    check: check_not_drop_all,
};

pub const DANGEROUS: Rule = Rule {
    id: "PAL-305",
    target: Target::Workload,
    check: check_dangerous,
};

/// Capabilities that give a container control of the node or of other containers, and why.
const DANGEROUS_CAPS: &[(&str, &str)] = &[
    ("ALL", "every capability"),
    (
        "SYS_ADMIN",
        "mount, namespaces and many kernel interfaces; the classic escape",
    ),
    (
        "NET_ADMIN",
        "network configuration, firewall rules and traffic interception",
    ),
    ("SYS_MODULE", "loading kernel modules"),
    (
        "SYS_PTRACE",
        "tracing and injecting code into other processes",
    ),
    ("SYS_RAWIO", "raw I/O ports and device memory"),
    ("SYS_BOOT", "rebooting the node and loading a new kernel"),
    ("SYS_TIME", "setting the node clock"),
    ("BPF", "loading eBPF programs into the kernel"),
    ("PERFMON", "kernel performance monitoring and eBPF tracing"),
    (
        "DAC_READ_SEARCH",
        "reading any file by handle, bypassing permissions",
    ),
    (
        "MAC_ADMIN",
        "changing mandatory access control (AppArmor, SELinux) policy",
    ),
    ("MAC_OVERRIDE", "overriding mandatory access control"),
    ("SYSLOG", "reading kernel logs and addresses"),
];

/// A capability name as the container runtimes read it: case does not matter and the `CAP_`
/// prefix is optional.
fn normalize(name: &str) -> String {
    let upper = name.trim().to_ascii_uppercase();
    match upper.strip_prefix("CAP_") {
        Some(rest) => rest.to_string(),
        None => upper,
    }
}

/// Entries of `securityContext.capabilities.<list>`: index, as written, normalized.
fn entries<'a>(c: &ContainerRef<'a>, list: &str) -> Vec<(usize, &'a str, String)> {
    let capabilities = c.security_context().and_then(|sc| sc.get("capabilities"));
    strings(capabilities.and_then(|caps| caps.get(list)))
        .map(|(i, raw)| (i, raw, normalize(raw)))
        .collect()
}

fn list_pointer(c: &ContainerRef<'_>, list: &str) -> String {
    c.field(&format!("/securityContext/capabilities/{list}"))
}

fn drops(c: &ContainerRef<'_>, cap: &str) -> bool {
    entries(c, "drop")
        .iter()
        .any(|(_, _, n)| n == "ALL" || n == cap)
}

fn check_net_raw(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some((_, containers)) = linux_containers(object) else {
        return;
    };
    for c in containers {
        let added = entries(&c, "add")
            .into_iter()
            .find(|(_, _, n)| n == "NET_RAW" || n == "ALL");
        if let Some((i, raw, _)) = added {
            hits.push(
                format!("{}/{i}", list_pointer(&c, "add")),
                format!("{} adds capability {raw}, which grants NET_RAW", c.label()),
            );
        } else if !drops(&c, "NET_RAW") {
            hits.push(
                list_pointer(&c, "drop"),
                format!(
                    "{} keeps NET_RAW: capabilities.drop has neither NET_RAW nor ALL",
                    c.label()
                ),
            );
        }
    }
}

fn check_added(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some((_, containers)) = linux_containers(object) else {
        return;
    };
    for c in containers {
        let added: Vec<&str> = entries(&c, "add")
            .into_iter()
            .map(|(_, raw, _)| raw)
            .collect();
        if !added.is_empty() {
            hits.push(
                list_pointer(&c, "add"),
                format!(
                    "{} adds {} {}",
                    c.label(),
                    if added.len() == 1 {
                        "capability"
                    } else {
                        "capabilities"
                    },
                    added.join(", ")
                ),
            );
        }
    }
}

fn check_not_drop_all(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some((_, containers)) = linux_containers(object) else {
        return;
    };
    for c in containers {
        let dropped = entries(&c, "drop");
        if dropped.iter().any(|(_, _, n)| n == "ALL") {
            continue;
        }
        let found = if dropped.is_empty() {
            "drops no capabilities".to_string()
        } else {
            let names: Vec<&str> = dropped.iter().map(|(_, raw, _)| *raw).collect();
            format!("drops only {}", names.join(", "))
        };
        hits.push(
            list_pointer(&c, "drop"),
            format!(
                "{} {found}; drop ALL and add back only what it needs",
                c.label()
            ),
        );
    }
}

fn check_dangerous(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some((_, containers)) = linux_containers(object) else {
        return;
    };
    for c in containers {
        for (i, raw, name) in entries(&c, "add") {
            if let Some((_, why)) = DANGEROUS_CAPS.iter().find(|(cap, _)| *cap == name) {
                hits.push(
                    format!("{}/{i}", list_pointer(&c, "add")),
                    format!("{} adds capability {raw} ({why})", c.label()),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_names_as_runtimes_do() {
        assert_eq!(normalize("net_raw"), "NET_RAW");
        assert_eq!(normalize("CAP_SYS_ADMIN"), "SYS_ADMIN");
        assert_eq!(normalize(" cap_bpf "), "BPF");
        assert_eq!(normalize("all"), "ALL");
    }
}
