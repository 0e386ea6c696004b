//! Access and control-plane tampering: anonymous access, the kubelet proxy, tool user
//! agents, admission webhooks, events, cluster DNS.

use super::cx::{Cx, contains_ci, is_service_account};
use super::workloads::{done, kind};
use regex::{Regex, RegexBuilder};
use std::sync::LazyLock;

/// What system:public-info-viewer grants anonymous users by design.
fn is_public_info(uri: &str) -> bool {
    let path = uri.split_once('?').map_or(uri, |(p, _)| p);
    ["/healthz", "/livez", "/readyz", "/version"]
        .iter()
        .any(|p| path == *p || path.strip_prefix(p).is_some_and(|r| r.starts_with('/')))
}

pub(super) fn anonymous(cx: &Cx<'_>) -> Option<String> {
    let anonymous = cx.user == "system:anonymous"
        || cx
            .event
            .user_groups()
            .any(|g| g == "system:unauthenticated");
    if !anonymous
        || !cx.ok()
        || cx.event.annotation("authorization.k8s.io/decision") == Some("forbid")
    {
        return None;
    }
    let uri = cx.event.request_uri()?;
    if is_public_info(uri) {
        return None;
    }
    let from = cx
        .source()
        .map(|ip| format!(" from {ip}"))
        .unwrap_or_default();
    Some(format!(
        "an anonymous request{from} was allowed to {} {uri}",
        if cx.verb.is_empty() { "call" } else { cx.verb }
    ))
}

pub(super) fn node_proxy(cx: &Cx<'_>) -> Option<String> {
    let proxied = cx.resource == "nodes" && cx.subresource == "proxy";
    if !proxied || !cx.ok() || cx.trusted {
        return None;
    }
    let uri = cx.event.request_uri().unwrap_or("");
    Some(format!(
        "{} reached the kubelet of node {} through the API server ({uri})",
        cx.who(),
        cx.name
    ))
}

/// User agents of offensive and secret-hunting tools, lower case.
const TOOL_AGENTS: &[&str] = &[
    "trufflehog",
    "rakkess",
    "azurehound",
    "kube-hunter",
    "peirates",
    "kubiscan",
    "kubectl-who-can",
    "kdigger",
    "kubeletctl",
    "kubesploit",
    "kubestroyer",
    "stratus-red-team",
    "masscan",
    "zgrab",
    "nuclei",
    "sqlmap",
    "nikto",
    "nmap",
    "gobuster",
    "ffuf",
];

/// Any of [`TOOL_AGENTS`], in any case: one scan of the user agent rules out almost every
/// event, where looking for each name in turn costs twenty.
static ANY_TOOL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    let names: Vec<String> = TOOL_AGENTS.iter().map(|t| regex::escape(t)).collect();
    RegexBuilder::new(&names.join("|"))
        .case_insensitive(true)
        .unicode(false)
        .build()
        .ok()
});

pub(super) fn tool_user_agent(cx: &Cx<'_>) -> Option<String> {
    let agent = cx.event.user_agent()?;
    if ANY_TOOL.as_ref().is_some_and(|any| !any.is_match(agent)) {
        return None;
    }
    let tool = TOOL_AGENTS.iter().find(|t| contains_ci(agent, t))?;
    let from = cx
        .source()
        .map(|ip| format!(" from {ip}"))
        .unwrap_or_default();
    Some(format!(
        "{} used {tool} (user agent {agent:?}){from} to {} {}",
        cx.who(),
        cx.verb,
        cx.event.request_uri().unwrap_or("")
    ))
}

pub(super) fn webhook_changed(cx: &Cx<'_>) -> Option<String> {
    let webhook = matches!(
        cx.resource,
        "mutatingwebhookconfigurations" | "validatingwebhookconfigurations"
    );
    if !webhook || !cx.ok() || cx.trusted || !cx.subresource.is_empty() {
        return None;
    }
    // Controllers patch their own webhook's caBundle all day; people changing one are news.
    let reported = match cx.verb {
        "create" | "delete" => true,
        "update" | "patch" => !is_service_account(cx.user),
        _ => false,
    };
    reported.then(|| {
        format!(
            "{} {} {} {}",
            cx.who(),
            done(cx.verb),
            kind(cx.resource),
            cx.name
        )
    })
}

pub(super) fn events_deleted(cx: &Cx<'_>) -> Option<String> {
    let deleted = cx.resource == "events" && matches!(cx.verb, "delete" | "deletecollection");
    (deleted && cx.ok() && !cx.trusted).then(|| {
        if cx.name.is_empty() {
            let ns = if cx.namespace.is_empty() {
                "all namespaces"
            } else {
                cx.namespace
            };
            format!("{} deleted the events of {ns}", cx.who())
        } else {
            format!("{} deleted event {}", cx.who(), cx.target())
        }
    })
}

pub(super) fn coredns_changed(cx: &Cx<'_>) -> Option<String> {
    let coredns = cx.resource == "configmaps"
        && cx.namespace == "kube-system"
        && matches!(cx.name, "coredns" | "coredns-custom")
        && matches!(cx.verb, "update" | "patch" | "delete");
    (coredns && cx.ok() && !cx.trusted).then(|| {
        format!(
            "{} {} the CoreDNS configuration kube-system/{}",
            cx.who(),
            done(cx.verb),
            cx.name
        )
    })
}

#[cfg(test)]
mod tests {
    use super::is_public_info;

    #[test]
    fn public_info_endpoints() {
        assert!(is_public_info("/readyz?verbose"));
        assert!(is_public_info("/livez/etcd"));
        assert!(is_public_info("/version"));
        assert!(!is_public_info("/versions"));
        assert!(!is_public_info("/api/v1/secrets"));
    }
}
