//! What NetworkPolicies allow: rules open to every source or destination (PAL-713), and pods
//! no policy isolates for egress (PAL-714).

use super::{PolicyView, directions, policed_pod};
use crate::registry::{Rule, Target};
use crate::util::{items, pod_labels_or_empty, selector_matches};
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::{Map, Value};

pub const OPEN_RULES: Rule = Rule {
    id: "PAL-713",
    target: Target::Kinds(&["NetworkPolicy"]),
    check: open_rules,
};

pub const EGRESS: Rule = Rule {
    id: "PAL-714",
    target: Target::Workload,
    check: egress,
};

/// An empty LabelSelector (`{}`, or empty matchLabels and matchExpressions) selects everything.
fn selects_all(selector: &Value) -> bool {
    let Some(map) = selector.as_object() else {
        return false;
    };
    let empty = |key: &str| match map.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    };
    empty("matchLabels") && empty("matchExpressions")
}

/// Why a peer (an entry of `from` or `to`) admits everyone, if it does.
fn open_peer(peer: &Value) -> Option<String> {
    if let Some(cidr) = peer.pointer("/ipBlock/cidr").and_then(Value::as_str) {
        let excepts = items(peer.pointer("/ipBlock/except")).count();
        // Any /0 block is a whole address family, however its address is written.
        return (cidr.trim().ends_with("/0") && excepts == 0)
            .then(|| format!("ipBlock {cidr} without except (every address)"));
    }
    let namespaces = peer.get("namespaceSelector").filter(|s| !s.is_null())?;
    let pods = peer.get("podSelector").filter(|s| !s.is_null());
    (selects_all(namespaces) && pods.is_none_or(selects_all))
        .then(|| "namespaceSelector {} without a podSelector (every pod of every namespace)".into())
}

fn ports(rule: &Value) -> String {
    let listed: Vec<String> = items(rule.get("ports"))
        .filter_map(|(_, p)| match p.get("port") {
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        })
        .collect();
    if listed.is_empty() {
        String::new()
    } else {
        format!(" on port(s) {}", listed.join(", "))
    }
}

fn open_rules(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let (ingress, egress) = directions(object);
    let sections = [
        (ingress, "ingress", "from", "from every source"),
        (egress, "egress", "to", "to every destination"),
    ];
    for (covered, section, peers, every) in sections {
        if !covered {
            continue;
        }
        for (i, rule) in items(object.at(&format!("/spec/{section}"))) {
            if !rule.is_object() {
                continue;
            }
            let reasons: Vec<String> = match rule.get(peers) {
                None | Some(Value::Null) => vec![format!("{every} (no {peers:?})")],
                Some(Value::Array(list)) if list.is_empty() => {
                    vec![format!("{every} ({peers:?} is empty)")]
                }
                Some(list) => items(Some(list))
                    .filter_map(|(_, peer)| open_peer(peer).map(|why| format!("{peers} {why}")))
                    .collect(),
            };
            if reasons.is_empty() {
                continue;
            }
            hits.push(
                format!("/spec/{section}/{i}"),
                format!(
                    "{section} rule {i} allows traffic {}{}",
                    reasons.join("; "),
                    ports(rule)
                ),
            );
        }
    }
}

/// A missing or null podSelector selects every pod of the namespace (see `pod_selector`).
fn selects(policy: &PolicyView<'_>, labels: &Map<String, Value>) -> bool {
    selector_matches(policy.pod_selector, labels)
}

/// Mirrors PAL-702 for the other direction. Namespaces without any NetworkPolicy are left
/// to PAL-701 and PAL-702, which already report every pod there as unrestricted.
fn egress(object: &Object, ctx: &Context<'_>, hits: &mut Hits) {
    let Some(pod) = policed_pod(object) else {
        return;
    };
    let namespace = object.effective_namespace();
    let policies = ctx.network_policies_in(namespace);
    if policies.is_empty() {
        return;
    }
    let labels = pod_labels_or_empty(object);
    if policies.iter().any(|p| p.egress && selects(p, labels)) {
        return;
    }
    hits.push(
        format!("{}/labels", pod.metadata_pointer),
        format!(
            "no NetworkPolicy with policy type Egress selects the pods of this {} ({} \
             NetworkPolicy object(s) scanned in namespace {namespace:?}): they can connect to \
             any pod of the cluster and any address outside it",
            object.kind(),
            policies.len()
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn open_peers() {
        assert!(open_peer(&json!({"ipBlock": {"cidr": "0.0.0.0/0"}})).is_some());
        assert!(open_peer(&json!({"ipBlock": {"cidr": "::/0", "except": []}})).is_some());
        assert!(
            open_peer(&json!({"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}))
                .is_none()
        );
        assert!(open_peer(&json!({"ipBlock": {"cidr": "10.0.0.0/8"}})).is_none());
        assert!(open_peer(&json!({"namespaceSelector": {}})).is_some());
        assert!(
            open_peer(&json!({"namespaceSelector": {"matchLabels": {}}, "podSelector": {}}))
                .is_some()
        );
        assert!(
            open_peer(
                &json!({"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "x"}}})
            )
            .is_none()
        );
        assert!(open_peer(&json!({"podSelector": {}})).is_none());
        assert!(open_peer(&json!("junk")).is_none());
    }
}
