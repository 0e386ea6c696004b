//! PAL-106: capabilities added beyond the baseline set.

use super::support::{canonical_capability, shown};
use crate::registry::{Rule, Target};
use crate::util::items;
use crate::{Context, Hits};
use palisade_model::Object;

pub const RULE: Rule = Rule {
    id: "PAL-106",
    target: Target::Workload,
    check,
};

/// The capabilities container runtimes grant by default, which baseline lets a container
/// add back after dropping them.
const ALLOWED: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for c in object.containers() {
        for (i, cap) in items(c.at("/securityContext/capabilities/add")) {
            let name = cap.as_str();
            if name.is_some_and(|n| ALLOWED.contains(&n)) {
                continue;
            }
            let hint = name
                .and_then(canonical_capability)
                .filter(|canonical| ALLOWED.contains(&canonical.as_str()))
                .map(|canonical| {
                    format!(" (admission compares names exactly: write {canonical:?})")
                })
                .unwrap_or_default();
            hits.push(
                c.field(&format!("/securityContext/capabilities/add/{i}")),
                format!(
                    "{} adds capability {}, which is not in the baseline set{hint}",
                    c.label(),
                    shown(Some(cap))
                ),
            );
        }
    }
}
