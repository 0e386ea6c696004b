//! How Services expose pods: NodePort (PAL-704), externalIPs (PAL-705), LoadBalancers open
//! to every source (PAL-706), selectors that match no scanned pod (PAL-707).

use super::template_selector;
use crate::registry::{Rule, Target};
use crate::util::strings;
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

const SERVICE: Target = Target::Kinds(&["Service"]);

pub const NODE_PORT: Rule = Rule {
    id: "PAL-704",
    target: SERVICE,
    check: node_port,
};

pub const EXTERNAL_IPS: Rule = Rule {
    id: "PAL-705",
    target: SERVICE,
    check: external_ips,
};

pub const LOAD_BALANCER: Rule = Rule {
    id: "PAL-706",
    target: SERVICE,
    check: load_balancer,
};

pub const DANGLING: Rule = Rule {
    id: "PAL-707",
    target: SERVICE,
    check: dangling,
};

pub(super) fn service_type(object: &Object) -> &str {
    object
        .at("/spec/type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
}

fn node_port(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    if service_type(object) == "NodePort" {
        hits.push(
            "/spec/type",
            "Service type NodePort opens its ports on every node's addresses, outside any \
             load balancer or ingress",
        );
    }
}

/// CVE-2020-8554: the cluster routes traffic for any externalIP to this Service, so whoever
/// can set one intercepts traffic meant for that address.
fn external_ips(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for (i, ip) in strings(object.at("/spec/externalIPs")) {
        hits.push(
            format!("/spec/externalIPs/{i}"),
            format!("externalIPs lists {ip}: traffic for that address is captured by this Service"),
        );
    }
}

/// Annotations that make a cloud provider create an internal (private network) load
/// balancer, with the value that does it (`None`: any value but "false").
const INTERNAL: &[(&str, Option<&str>)] = &[
    (
        "service.beta.kubernetes.io/aws-load-balancer-internal",
        None,
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-scheme",
        Some("internal"),
    ),
    ("networking.gke.io/load-balancer-type", Some("Internal")),
    ("cloud.google.com/load-balancer-type", Some("Internal")),
    (
        "service.beta.kubernetes.io/azure-load-balancer-internal",
        Some("true"),
    ),
    (
        "service.beta.kubernetes.io/oci-load-balancer-internal",
        Some("true"),
    ),
    (
        "service.beta.kubernetes.io/openstack-internal-load-balancer",
        Some("true"),
    ),
    (
        "service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type",
        Some("private"),
    ),
    (
        "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type",
        Some("intranet"),
    ),
];

/// The AWS Load Balancer Controller (2.2 and later) makes internal load balancers unless
/// the scheme annotation says internet-facing.
fn aws_controller_default(object: &Object) -> bool {
    let annotation = |key: &str| object.annotations().get(key).and_then(Value::as_str);
    let managed = matches!(
        annotation("service.beta.kubernetes.io/aws-load-balancer-type"),
        Some("external" | "nlb-ip")
    ) || object.at("/spec/loadBalancerClass").and_then(Value::as_str)
        == Some("service.k8s.aws/nlb");
    managed && annotation("service.beta.kubernetes.io/aws-load-balancer-scheme").is_none()
}

const SOURCE_RANGES_ANNOTATION: &str = "service.beta.kubernetes.io/load-balancer-source-ranges";

/// True for a load balancer the cloud provider places on a private network.
pub(super) fn internal_load_balancer(object: &Object) -> bool {
    let annotations = object.annotations();
    INTERNAL.iter().any(|(key, wanted)| {
        let value = annotations.get(*key).and_then(Value::as_str);
        match (value, wanted) {
            (Some(v), Some(w)) => v.eq_ignore_ascii_case(w),
            (Some(v), None) => v != "false",
            (None, _) => false,
        }
    }) || aws_controller_default(object)
}

fn load_balancer(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    if service_type(object) != "LoadBalancer" {
        return;
    }
    let annotations = object.annotations();
    let internal = internal_load_balancer(object);
    let ranges = strings(object.at("/spec/loadBalancerSourceRanges")).count() > 0
        || annotations
            .get(SOURCE_RANGES_ANNOTATION)
            .and_then(Value::as_str)
            .is_some_and(|v| !v.trim().is_empty());
    if internal || ranges {
        return;
    }
    hits.push(
        "/spec/type",
        "LoadBalancer Service sets no loadBalancerSourceRanges and no internal load balancer \
         annotation: it accepts connections from any address",
    );
}

/// Only judged when workloads of the namespace are scanned, and not when a custom resource
/// of the namespace carries the selected labels (its operator may run the pods). A Service
/// without a selector has manually managed Endpoints and is left alone.
fn dangling(object: &Object, ctx: &Context<'_>, hits: &mut Hits) {
    if service_type(object) == "ExternalName" {
        return;
    }
    let Some(written) = object.at("/spec/selector").filter(|s| s.is_object()) else {
        return;
    };
    let Value::Object(selector) = template_selector(written) else {
        return;
    };
    if selector.is_empty() {
        return;
    }
    let namespace = object.effective_namespace();
    if ctx.workloads_in(namespace).next().is_none() {
        return;
    }
    // Label values are strings: a selector whose first value is not one is not judged.
    if selector.values().next().and_then(Value::as_str).is_none() {
        return;
    }
    if ctx
        .workloads_matching(namespace, &selector)
        .next()
        .is_some()
        || ctx
            .custom_resources_matching(namespace, &selector)
            .next()
            .is_some()
    {
        return;
    }
    let wanted: Vec<String> = selector
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("?")))
        .collect();
    hits.push(
        "/spec/selector",
        format!(
            "selector {} matches the pods of none of the {} workload(s) scanned in namespace \
             {namespace:?}",
            wanted.join(","),
            ctx.workloads_in(namespace).count()
        ),
    );
}
