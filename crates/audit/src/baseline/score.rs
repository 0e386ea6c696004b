//! Scores from 0 to 1: how new or rare a behaviour is, weighed by what it touches.

use palisade_model::Severity;

/// Weight of reads of ordinary resources and of non-resource URLs.
pub const READ: f64 = 0.5;
/// Weight of writes, and of reads of RBAC objects, service accounts, config maps and logs.
pub const WRITE: f64 = 0.75;
/// Weight of what attackers go for: secrets, exec/attach/port-forward, proxies, tokens,
/// RBAC and admission-webhook changes, certificate requests, impersonation.
pub const SENSITIVE: f64 = 1.0;

/// A namespace new to a known operation counts this much of a new operation.
pub const NEW_NAMESPACE: f64 = 0.9;
/// A new public source network (an address outside private, loopback and link-local ranges).
pub const NEW_PUBLIC_SOURCE: f64 = 0.85;
/// A new private source network: pods and nodes change addresses as they are rescheduled.
pub const NEW_PRIVATE_SOURCE: f64 = 0.5;
/// A new user-agent family.
pub const NEW_USER_AGENT: f64 = 0.75;
/// A new identity scores this plus [`NEW_IDENTITY_SPAN`] times its most sensitive operation's
/// weight, so that only new identities touching sensitive resources pass the default threshold.
pub const NEW_IDENTITY_BASE: f64 = 0.35;
/// See [`NEW_IDENTITY_BASE`].
pub const NEW_IDENTITY_SPAN: f64 = 0.25;
/// Behaviour in a namespace first seen in the cluster within the learning period counts this
/// much: installing an application makes every controller do new things in its new
/// namespace, so newness there is expected.
pub const YOUNG_NAMESPACE: f64 = 0.5;
/// A service account acting in its own namespace counts this much towards a new identity's
/// score: that is what service accounts are for.
pub const OWN_NAMESPACE: f64 = 0.6;
/// Each further namespace an aggregated alert covers shrinks the distance to 1 by this factor:
/// breadth is what enumeration looks like.
const BREADTH: f64 = 0.95;

/// Rarity of a behaviour seen `seen` times before: `k / (seen + k)`, 1 when never seen.
pub fn rarity(seen: u64, pseudocount: f64) -> f64 {
    pseudocount / (seen as f64 + pseudocount)
}

/// The weight of an operation `verb resource[/subresource]`.
pub fn sensitivity(verb: &str, operation: &str) -> f64 {
    let target = operation.split_once(' ').map_or("", |(_, t)| t);
    let (resource, sub) = target.split_once('/').unwrap_or((target, ""));
    let write = matches!(
        verb,
        "create" | "update" | "patch" | "delete" | "deletecollection"
    );
    let sensitive = match (resource, sub) {
        ("secrets", _) => true,
        ("pods", "exec" | "attach" | "portforward" | "proxy") => true,
        ("pods", "ephemeralcontainers") => write,
        ("nodes" | "services", "proxy") => true,
        ("serviceaccounts", "token") => true,
        ("tokenrequests", _) => true,
        ("clusterrolebindings" | "rolebindings" | "clusterroles" | "roles", _) => write,
        ("mutatingwebhookconfigurations" | "validatingwebhookconfigurations", _) => write,
        ("certificatesigningrequests", _) => write,
        _ => matches!(verb, "impersonate" | "escalate" | "bind"),
    };
    if sensitive {
        return SENSITIVE;
    }
    let revealing = matches!(
        (resource, sub),
        (
            "clusterrolebindings" | "rolebindings" | "clusterroles" | "roles",
            _
        ) | ("serviceaccounts" | "configmaps", "")
            | ("pods", "log")
            | ("selfsubjectrulesreviews" | "selfsubjectaccessreviews", _)
    );
    if write || revealing { WRITE } else { READ }
}

/// MITRE ATT&CK techniques an operation is evidence of, for the sensitive ones.
pub fn attack(operation: &str) -> &'static [&'static str] {
    let target = operation.split_once(' ').map_or("", |(_, t)| t);
    let verb = operation.split_once(' ').map_or(operation, |(v, _)| v);
    match target {
        "secrets" => &["T1552.007"],
        "pods/exec" | "pods/attach" => &["T1609"],
        "pods/portforward" => &["T1572"],
        "serviceaccounts/token" | "tokenrequests" => &["T1528"],
        "nodes/proxy" => &["T1613"],
        "clusterrolebindings" | "rolebindings" | "clusterroles" | "roles"
            if verb != "get" && verb != "list" && verb != "watch" =>
        {
            &["T1098.006"]
        }
        _ if verb == "impersonate" => &["T1134"],
        _ => &[],
    }
}

/// How surprising one more namespace is for an operation known in `known` namespaces:
/// 1 when it was known in one, 1/2 in three, 1/5 in nine. An identity that already works
/// across namespaces is expected to reach further ones.
pub fn spread(known: usize) -> f64 {
    2.0 / (1.0 + known.max(1) as f64)
}

/// The weight an operation gives a new identity's score.
pub fn identity_weight(weight: f64, own_namespace: bool) -> f64 {
    if own_namespace {
        weight * OWN_NAMESPACE
    } else {
        weight
    }
}

/// A score raised by breadth: an alert covering `namespaces` namespaces.
pub fn with_breadth(score: f64, namespaces: usize) -> f64 {
    let extra = namespaces.saturating_sub(1).min(1_000) as i32;
    1.0 - (1.0 - score) * BREADTH.powi(extra)
}

/// The score of a rate of `count` in a bucket whose usual upper bound is `upper`:
/// 0.6 at the bound, 0.8 at twice it, approaching 1.
pub fn spike(count: u64, upper: f64) -> f64 {
    if count == 0 {
        return 0.0;
    }
    (1.0 - 0.4 * upper / count as f64).clamp(0.0, 1.0)
}

/// The severity of a score. Baselines report the unusual, not proven harm: at most High.
pub fn severity(score: f64) -> Severity {
    match score {
        s if s >= 0.9 => Severity::High,
        s if s >= 0.75 => Severity::Medium,
        s if s >= 0.5 => Severity::Low,
        _ => Severity::Info,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_resources_weigh_more() {
        assert_eq!(sensitivity("list", "list secrets"), SENSITIVE);
        assert_eq!(sensitivity("create", "create pods/exec"), SENSITIVE);
        assert_eq!(sensitivity("get", "get pods/exec"), SENSITIVE);
        assert_eq!(
            sensitivity("create", "create serviceaccounts/token"),
            SENSITIVE
        );
        assert_eq!(
            sensitivity("create", "create clusterrolebindings"),
            SENSITIVE
        );
        assert_eq!(sensitivity("list", "list clusterrolebindings"), WRITE);
        assert_eq!(sensitivity("impersonate", "impersonate users"), SENSITIVE);
        assert_eq!(sensitivity("get", "get pods/log"), WRITE);
        assert_eq!(sensitivity("update", "update leases"), WRITE);
        assert_eq!(sensitivity("get", "get pods"), READ);
        assert_eq!(sensitivity("get", "get /readyz"), READ);
        assert_eq!(sensitivity("", " "), READ);
    }

    #[test]
    fn rarity_is_one_for_new_and_falls_with_use() {
        assert_eq!(rarity(0, 2.0), 1.0);
        assert_eq!(rarity(2, 2.0), 0.5);
        assert!(rarity(1_000, 2.0) < 0.01);
    }

    #[test]
    fn spread_falls_with_known_namespaces() {
        assert_eq!(spread(0), 1.0);
        assert_eq!(spread(1), 1.0);
        assert_eq!(spread(3), 0.5);
        assert_eq!(spread(9), 0.2);
        assert_eq!(identity_weight(1.0, true), OWN_NAMESPACE);
        assert_eq!(identity_weight(1.0, false), 1.0);
    }

    #[test]
    fn breadth_raises_towards_one() {
        assert_eq!(with_breadth(0.5, 1), 0.5);
        assert_eq!(with_breadth(0.5, 0), 0.5);
        let twelve = with_breadth(0.5, 12);
        assert!(twelve > 0.7 && twelve < 0.75, "{twelve}");
        assert!(with_breadth(0.5, usize::MAX) <= 1.0);
    }

    #[test]
    fn spikes_score_by_how_far_above_the_bound() {
        assert!((spike(100, 100.0) - 0.6).abs() < 1e-9);
        assert!((spike(200, 100.0) - 0.8).abs() < 1e-9);
        assert_eq!(spike(0, 100.0), 0.0);
        assert_eq!(spike(10, 100.0), 0.0);
    }

    #[test]
    fn severity_follows_score() {
        assert_eq!(severity(1.0), Severity::High);
        assert_eq!(severity(0.8), Severity::Medium);
        assert_eq!(severity(0.6), Severity::Low);
        assert_eq!(severity(0.2), Severity::Info);
    }

    #[test]
    fn attack_ids_for_sensitive_operations() {
        assert_eq!(attack("list secrets"), ["T1552.007"]);
        assert_eq!(attack("create pods/exec"), ["T1609"]);
        assert_eq!(attack("create clusterrolebindings"), ["T1098.006"]);
        assert!(attack("list clusterrolebindings").is_empty());
        assert!(attack("get pods").is_empty());
    }
}
