//! The webhook configurations: which requests the API server sends, where, and what it does
//! when the server cannot answer.

use super::objects::Install;
use super::yaml::Document;
use super::{Certificates, FailurePolicy};
use serde_json::{Map, Value, json};

/// Never sent to the webhooks: the control plane's add-ons, and (added per installation)
/// the server's own namespace, so neither waits on the server to start.
const EXEMPT_NAMESPACES: [&str; 1] = ["kube-system"];

const APPS: [&str; 4] = ["deployments", "statefulsets", "daemonsets", "replicasets"];
const BATCH: [&str; 2] = ["jobs", "cronjobs"];

pub(super) fn validating(install: &Install<'_>, ca_bundle: Option<&str>) -> Document {
    let options = install.options;
    let webhook = webhook(
        install,
        Hook {
            name: "validate.palisade.dev",
            path: "/validate",
            operations: &["CREATE", "UPDATE"],
            // `kubectl debug` adds containers through this subresource.
            core: &["pods", "pods/ephemeralcontainers", "replicationcontrollers"],
            failure_policy: options.validating_failure_policy,
        },
        ca_bundle,
    );
    let why = match options.validating_failure_policy {
        FailurePolicy::Fail => "failurePolicy Fail: a security gate that fails open is no gate.",
        FailurePolicy::Ignore => {
            "failurePolicy Ignore: requests go unchecked whenever the server is down."
        }
    };
    Document {
        comment: format!(
            "Checks pods and workloads as they are created or changed.\n{why}\n{}",
            exemptions(install)
        ),
        value: configuration(install, "ValidatingWebhookConfiguration", webhook),
    }
}

pub(super) fn mutating(install: &Install<'_>, ca_bundle: Option<&str>) -> Document {
    let options = install.options;
    let mut webhook = webhook(
        install,
        Hook {
            name: "mutate.palisade.dev",
            path: "/mutate",
            operations: &["CREATE"],
            core: &["pods", "replicationcontrollers"],
            failure_policy: options.mutating_failure_policy,
        },
        ca_bundle,
    );
    if let Some(map) = webhook.as_object_mut() {
        // Other mutating webhooks may add containers after this one: fill those in too.
        map.insert("reinvocationPolicy".into(), json!("IfNeeded"));
    }
    Document {
        comment: format!(
            "Fills in safe defaults on creation. failurePolicy {}: the validating webhook\n\
             still judges the result.\n{}",
            options.mutating_failure_policy.as_str(),
            exemptions(install)
        ),
        value: configuration(install, "MutatingWebhookConfiguration", webhook),
    }
}

fn exemptions(install: &Install<'_>) -> String {
    let labelled = match &install.options.opt_out_label {
        Some(label) => format!(",\nand objects labelled {label},"),
        None => String::new(),
    };
    format!(
        "Objects in kube-system and {}{labelled} are never sent here.",
        install.namespace()
    )
}

fn configuration(install: &Install<'_>, kind: &str, webhook: Value) -> Value {
    let mut meta = install.cluster_meta(install.name());
    if matches!(
        install.options.certificates,
        Certificates::CertManager { .. }
    ) && let Some(map) = meta.as_object_mut()
    {
        // cert-manager's CA injector fills in and renews every caBundle from the
        // Certificate's Secret.
        map.insert(
            "annotations".into(),
            json!({
                "cert-manager.io/inject-ca-from":
                    format!("{}/{}", install.namespace(), install.name()),
            }),
        );
    }
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": kind,
        "metadata": meta,
        "webhooks": [webhook],
    })
}

struct Hook<'a> {
    name: &'a str,
    path: &'a str,
    operations: &'a [&'a str],
    core: &'a [&'a str],
    failure_policy: FailurePolicy,
}

fn webhook(install: &Install<'_>, hook: Hook<'_>, ca_bundle: Option<&str>) -> Value {
    let mut client = json!({
        "service": {
            "namespace": install.namespace(),
            "name": install.name(),
            "path": hook.path,
            "port": 443,
        },
    });
    if let (Some(bundle), Some(map)) = (ca_bundle, client.as_object_mut()) {
        map.insert("caBundle".into(), json!(bundle));
    }
    // Version v1 only: with matchPolicy Equivalent, requests made through any other version
    // of these resources are converted and sent too.
    let rule = |group: &str, resources: &[&str]| {
        json!({
            "apiGroups": [group],
            "apiVersions": ["v1"],
            "operations": hook.operations,
            "resources": resources,
            "scope": "Namespaced",
        })
    };
    let mut exempt: Vec<&str> = EXEMPT_NAMESPACES.to_vec();
    exempt.push(install.namespace());
    let mut webhook = Map::new();
    let mut set = |key: &str, value: Value| webhook.insert(key.to_string(), value);
    set("name", json!(hook.name));
    // The server answers v1; v1beta1 is listed for API servers older than v1's, which
    // would pick it (and cannot read this v1 configuration anyway).
    set("admissionReviewVersions", json!(["v1", "v1beta1"]));
    set("clientConfig", client);
    set(
        "rules",
        json!([
            rule("", hook.core),
            rule("apps", &APPS),
            rule("batch", &BATCH)
        ]),
    );
    set("failurePolicy", json!(hook.failure_policy.as_str()));
    set("matchPolicy", json!("Equivalent"));
    set(
        "namespaceSelector",
        json!({"matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": exempt},
        ]}),
    );
    if let Some(label) = &install.options.opt_out_label {
        set(
            "objectSelector",
            json!({"matchExpressions": [{"key": label, "operator": "DoesNotExist"}]}),
        );
    }
    // The server only reads the request, so dry runs may call it too.
    set("sideEffects", json!("None"));
    set("timeoutSeconds", json!(install.options.timeout_seconds));
    Value::Object(webhook)
}
