//! Service account use: PAL-309 (API token mounted), PAL-310 (default service account) and
//! PAL-311 (the deprecated `serviceAccount` field).

use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::{Object, PodSpecRef};
use serde_json::Value;

pub const AUTOMOUNT: Rule = Rule {
    id: "PAL-309",
    target: Target::Workload,
    check: check_automount,
};

pub const DEFAULT: Rule = Rule {
    id: "PAL-310",
    target: Target::Workload,
    check: check_default,
};

pub const DEPRECATED_FIELD: Rule = Rule {
    id: "PAL-311",
    target: Target::Workload,
    check: check_deprecated_field,
};

fn non_empty<'a>(pod: &PodSpecRef<'a>, key: &str) -> Option<&'a str> {
    pod.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The service account the pod runs as, and the field that names it (None: nothing is
/// written and the `default` account applies). `serviceAccountName` wins over the deprecated
/// `serviceAccount`, as when the API server reads the pod.
fn service_account<'a>(pod: &PodSpecRef<'a>) -> (&'a str, Option<&'static str>) {
    if let Some(name) = non_empty(pod, "serviceAccountName") {
        (name, Some("serviceAccountName"))
    } else if let Some(name) = non_empty(pod, "serviceAccount") {
        (name, Some("serviceAccount"))
    } else {
        ("default", None)
    }
}

fn check_automount(object: &Object, ctx: &Context<'_>, hits: &mut Hits) {
    let Some(pod) = object.pod_spec() else {
        return;
    };
    let pointer = pod.field("automountServiceAccountToken");
    match pod.get("automountServiceAccountToken") {
        Some(Value::Bool(false)) => return,
        Some(Value::Bool(true)) => {
            hits.push(
                pointer,
                "pod sets automountServiceAccountToken: true: every container gets an API token",
            );
            return;
        }
        _ => {}
    }
    // Unset on the pod: the ServiceAccount's own setting applies. When the scan holds several
    // copies of the account, any one of them may be the one applied.
    let (name, _) = service_account(&pod);
    let namespace = object.effective_namespace();
    let opts_out =
        |sa: &Object| sa.at("/automountServiceAccountToken") == Some(&Value::Bool(false));
    let message = if ctx.named("ServiceAccount", namespace, name).is_none() {
        format!(
            "pod does not set automountServiceAccountToken: false and its ServiceAccount \
             {name:?} is not among the scanned objects: every container gets an API token \
             unless that account opts out"
        )
    } else if ctx
        .all_named("ServiceAccount", namespace, name)
        .all(opts_out)
    {
        return;
    } else {
        format!(
            "pod does not set automountServiceAccountToken: false and neither does its \
             ServiceAccount {name:?}: every container gets an API token"
        )
    };
    hits.push(pointer, message);
}

fn check_default(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some(pod) = object.pod_spec() else {
        return;
    };
    match service_account(&pod) {
        ("default", Some(field)) => hits.push(
            pod.field(field),
            format!("pod runs as the namespace's default service account ({field}: default)"),
        ),
        ("default", None) => hits.push(
            pod.field("serviceAccountName"),
            "pod names no service account, so it runs as the namespace's default one",
        ),
        _ => {}
    }
}

fn check_deprecated_field(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some(pod) = object.pod_spec() else {
        return;
    };
    let Some(deprecated) = non_empty(&pod, "serviceAccount") else {
        return;
    };
    // The API server copies serviceAccountName into the deprecated field of every object it
    // returns; only a value that differs was written by hand.
    match non_empty(&pod, "serviceAccountName") {
        Some(name) if name == deprecated => {}
        Some(name) => hits.push(
            pod.field("serviceAccount"),
            format!(
                "pod sets the deprecated serviceAccount: {deprecated}, which is ignored because \
                 serviceAccountName is {name}; remove it"
            ),
        ),
        None => hits.push(
            pod.field("serviceAccount"),
            format!(
                "pod uses the deprecated field serviceAccount: {deprecated}; use \
                 serviceAccountName"
            ),
        ),
    }
}
