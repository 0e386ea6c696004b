//! Who may do what: bindings, roles, impersonation, permission discovery, certificates.

use super::cx::Cx;
use super::workloads::{done, kind};
use serde_json::Value;

fn rbac_write<'e>(cx: &Cx<'e>, resources: [&str; 2]) -> bool {
    cx.writes() && resources.contains(&cx.resource) && cx.ok() && !cx.trusted
}

/// Roles whose binding makes the subject (nearly) cluster owner.
fn is_privileged_role(name: &str) -> bool {
    matches!(
        name,
        "cluster-admin"
            | "admin"
            | "system:masters"
            | "system:kube-controller-manager"
            | "system:node"
    ) || name.starts_with("system:controller:")
}

/// (kind, name, namespace) of each subject.
fn subjects(object: &Value) -> impl Iterator<Item = (&str, &str, &str)> {
    object
        .get("subjects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|s| {
            let field = |k| s.get(k).and_then(Value::as_str).unwrap_or("");
            (field("kind"), field("name"), field("namespace"))
        })
}

pub(super) fn privileged_binding(cx: &Cx<'_>) -> Option<String> {
    if !rbac_write(cx, ["clusterrolebindings", "rolebindings"]) {
        return None;
    }
    let object = cx.object()?;
    let role = object.get("roleRef")?.get("name")?.as_str()?;
    let masters = subjects(object).any(|(k, n, _)| k == "Group" && n == "system:masters");
    if !is_privileged_role(role) && !masters {
        return None;
    }
    let to: Vec<String> = subjects(object)
        .map(|(k, n, ns)| match ns {
            "" => format!("{k} {n}"),
            ns => format!("{k} {ns}/{n}"),
        })
        .collect();
    Some(format!(
        "{} {} {} {} binding role {role} to {}",
        cx.who(),
        done(cx.verb),
        kind(cx.resource),
        cx.target(),
        if to.is_empty() {
            "no subjects".to_string()
        } else {
            to.join(", ")
        }
    ))
}

fn rules(object: &Value) -> impl Iterator<Item = &Value> {
    object
        .get("rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn words<'a>(rule: &'a Value, key: &str) -> impl Iterator<Item = &'a str> {
    rule.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

pub(super) fn wildcard_role(cx: &Cx<'_>) -> Option<String> {
    if !rbac_write(cx, ["clusterroles", "roles"]) {
        return None;
    }
    let wild = rules(cx.object()?)
        .find(|r| words(r, "verbs").any(|v| v == "*") || words(r, "resources").any(|v| v == "*"))?;
    let list = |k| words(wild, k).collect::<Vec<_>>().join(",");
    Some(format!(
        "{} {} {} {} granting verbs [{}] on resources [{}]",
        cx.who(),
        done(cx.verb),
        kind(cx.resource),
        cx.target(),
        list("verbs"),
        list("resources")
    ))
}

/// The first escalation a role rule grants.
fn escalation(rule: &Value) -> Option<&'static str> {
    let verbs: Vec<&str> = words(rule, "verbs").collect();
    let any = |wanted: &[&str]| verbs.iter().any(|v| *v == "*" || wanted.contains(v));
    for resource in words(rule, "resources") {
        let found = match resource {
            "pods/exec" if any(&["create", "get"]) => "pods/exec",
            "pods/attach" if any(&["create", "get"]) => "pods/attach",
            "nodes/proxy" | "nodes/*" => "nodes/proxy",
            "serviceaccounts/token" if any(&["create"]) => "serviceaccounts/token",
            "certificatesigningrequests/approval" if any(&["update", "patch"]) => "CSR approval",
            _ => continue,
        };
        return Some(found);
    }
    ["escalate", "bind", "impersonate"]
        .into_iter()
        .find(|v| verbs.contains(v))
}

pub(super) fn escalation_role(cx: &Cx<'_>) -> Option<String> {
    if !rbac_write(cx, ["clusterroles", "roles"]) {
        return None;
    }
    let what = rules(cx.object()?).find_map(escalation)?;
    Some(format!(
        "{} {} {} {} granting {what}",
        cx.who(),
        done(cx.verb),
        kind(cx.resource),
        cx.target()
    ))
}

pub(super) fn system_role_modified(cx: &Cx<'_>) -> Option<String> {
    let changed = matches!(cx.verb, "update" | "patch" | "delete")
        && matches!(cx.resource, "clusterroles" | "clusterrolebindings")
        && cx.name.starts_with("system:");
    (changed && cx.ok() && !cx.trusted).then(|| {
        format!(
            "{} {} built-in {} {}",
            cx.who(),
            done(cx.verb),
            kind(cx.resource),
            cx.name
        )
    })
}

pub(super) fn impersonation(cx: &Cx<'_>) -> Option<String> {
    if cx.trusted || !cx.ok() {
        return None;
    }
    // Without impersonation there is no user and no group: nothing below reports.
    let user = cx.event.impersonated_user().unwrap_or("");
    let masters = cx
        .event
        .impersonated_groups()
        .any(|g| g == "system:masters");
    let privileged = masters
        || (user.starts_with("system:") && super::cx::is_control_plane(user))
        || user == "system:admin";
    privileged.then(|| {
        let as_whom = if masters {
            format!("{user} in group system:masters")
        } else {
            user.to_string()
        };
        format!(
            "{} impersonated {as_whom} to {} {}",
            cx.who(),
            cx.verb,
            cx.resource
        )
    })
}

pub(super) fn permission_discovery(cx: &Cx<'_>) -> Option<String> {
    let asked = cx.verb == "create" && cx.resource == "selfsubjectrulesreviews";
    (asked && !cx.trusted).then(|| {
        let ns = if cx.namespace.is_empty() {
            "the cluster"
        } else {
            cx.namespace
        };
        format!("{} listed its own permissions in {ns}", cx.who())
    })
}

pub(super) fn certificate_request(cx: &Cx<'_>) -> Option<String> {
    if cx.resource != "certificatesigningrequests" || !cx.ok() || cx.trusted {
        return None;
    }
    match (cx.verb, cx.subresource) {
        ("create", "") => {
            let signer = cx
                .object()
                .and_then(|o| o.get("spec")?.get("signerName")?.as_str());
            // Node bootstrap: a kubelet signer asked for by a bootstrap identity (AKS, kubeadm).
            let kubelet =
                signer.is_some_and(|s| s.ends_with("-kubelet") || s.ends_with("/kubelet-serving"));
            if kubelet && cx.user.contains("bootstrap") {
                return None;
            }
            let signer = signer
                .map(|s| format!(" for signer {s}"))
                .unwrap_or_default();
            Some(format!(
                "{} requested certificate {}{signer}",
                cx.who(),
                cx.target()
            ))
        }
        ("update" | "patch", "approval") => Some(format!(
            "{} approved certificate request {}",
            cx.who(),
            cx.target()
        )),
        _ => None,
    }
}
