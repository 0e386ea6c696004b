//! PAL-206: containers drop ALL capabilities and add back at most NET_BIND_SERVICE.

use crate::controls::pss_baseline::support::{canonical_capability, is_windows, set, shown};
use crate::registry::{Rule, Target};
use crate::util::items;
use crate::{Context, Hits};
use palisade_model::Object;

pub const RULE: Rule = Rule {
    id: "PAL-206",
    target: Target::Workload,
    check,
};

const ALL: &str = "ALL";
const NET_BIND_SERVICE: &str = "NET_BIND_SERVICE";

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    if object.pod_spec().is_some_and(|pod| is_windows(&pod)) {
        return;
    }
    for c in object.containers() {
        let capabilities = set(c.security_context(), "capabilities");
        let drop = set(capabilities, "drop");
        let names: Vec<&str> = items(drop).filter_map(|(_, v)| v.as_str()).collect();
        if !names.contains(&ALL) {
            let found = match drop {
                None => "drops none".to_string(),
                Some(list) => format!("drops only {list}"),
            };
            let misspelled = names
                .iter()
                .any(|n| canonical_capability(n).as_deref() == Some(ALL));
            let hint = if misspelled {
                " (admission compares names exactly: write \"ALL\")"
            } else {
                ""
            };
            hits.push(
                c.field("/securityContext/capabilities/drop"),
                format!("{} must drop ALL capabilities but {found}{hint}", c.label()),
            );
        }
        for (i, cap) in items(set(capabilities, "add")) {
            if cap.as_str() == Some(NET_BIND_SERVICE) {
                continue;
            }
            let hint = cap
                .as_str()
                .and_then(canonical_capability)
                .filter(|canonical| canonical == NET_BIND_SERVICE)
                .map(|_| " (admission compares names exactly: write \"NET_BIND_SERVICE\")")
                .unwrap_or_default();
            hits.push(
                c.field(&format!("/securityContext/capabilities/add/{i}")),
                format!(
                    "{} adds capability {}; only NET_BIND_SERVICE may be added{hint}",
                    c.label(),
                    shown(Some(cap))
                ),
            );
        }
    }
}
