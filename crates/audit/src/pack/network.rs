//! Services: node ports and the CVE-2020-8554 traffic interception (externalIPs, and
//! LoadBalancer status written by someone other than a load-balancer controller).

use super::cx::{Cx, user_matches};
use super::workloads::done;
use serde_json::Value;

fn service_spec<'e>(cx: &Cx<'e>) -> Option<&'e Value> {
    let written = cx.writes() && cx.resource == "services" && cx.subresource.is_empty();
    if !written || !cx.ok() || cx.trusted {
        return None;
    }
    cx.object()?.get("spec")
}

pub(super) fn node_port(cx: &Cx<'_>) -> Option<String> {
    let spec = service_spec(cx)?;
    if spec.get("type")?.as_str()? != "NodePort" {
        return None;
    }
    let ports: Vec<String> = spec
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("nodePort")?.as_i64().map(|n| n.to_string()))
        .collect();
    let on = if ports.is_empty() {
        String::new()
    } else {
        format!(" on node port {}", ports.join(", "))
    };
    Some(format!(
        "{} {} NodePort service {}{on}",
        cx.who(),
        done(cx.verb),
        cx.target()
    ))
}

pub(super) fn external_ips(cx: &Cx<'_>) -> Option<String> {
    let ips = service_spec(cx)?.get("externalIPs")?.as_array()?;
    let ips: Vec<&str> = ips.iter().filter_map(Value::as_str).collect();
    if ips.is_empty() {
        return None;
    }
    Some(format!(
        "{} {} service {} with externalIPs {}, which intercepts cluster traffic to them",
        cx.who(),
        done(cx.verb),
        cx.target(),
        ips.join(", ")
    ))
}

pub(super) fn load_balancer_status(cx: &Cx<'_>) -> Option<String> {
    let written = matches!(cx.verb, "update" | "patch")
        && cx.resource == "services"
        && cx.subresource == "status";
    if !written || !cx.ok() || cx.trusted {
        return None;
    }
    if cx
        .load_balancer_controllers
        .iter()
        .any(|c| user_matches(c, cx.user))
    {
        return None;
    }
    let ingress = cx.object().and_then(|o| {
        o.get("status")?
            .get("loadBalancer")?
            .get("ingress")?
            .as_array()
    });
    let ips: Vec<&str> = ingress
        .into_iter()
        .flatten()
        .filter_map(|i| i.get("ip").or_else(|| i.get("hostname"))?.as_str())
        .collect();
    // With the object recorded, only a status that names an address redirects traffic.
    if cx.object().is_some() && ips.is_empty() {
        return None;
    }
    let to = if ips.is_empty() {
        String::new()
    } else {
        format!(" to {}", ips.join(", "))
    };
    Some(format!(
        "{} set the load-balancer status of service {}{to}",
        cx.who(),
        cx.target()
    ))
}
