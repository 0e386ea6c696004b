//! PAL-916: admission webhooks that fail open, so whatever they check or change is skipped
//! whenever they are slow, down or unreachable.

use crate::registry::{Rule, Target};
use crate::util::items;
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "PAL-916",
    target: Target::Kinds(&[
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
    ]),
    check,
};

/// The API version whose webhooks default to `failurePolicy: Ignore` (v1 defaults to Fail).
const V1BETA1: &str = "admissionregistration.k8s.io/v1beta1";

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let (kind, skipped) = match object.kind() {
        "MutatingWebhookConfiguration" => ("mutating", "without its changes"),
        _ => ("validating", "unchecked"),
    };
    let consequence = format!(
        "the API server admits requests {skipped} whenever the webhook times out, fails or \
         cannot be reached"
    );
    for (i, webhook) in items(object.at("/webhooks")) {
        let name = webhook.get("name").and_then(Value::as_str).unwrap_or("?");
        match webhook.get("failurePolicy") {
            Some(Value::String(policy)) if policy == "Ignore" => hits.push(
                format!("/webhooks/{i}/failurePolicy"),
                format!("{kind} webhook {name:?} sets failurePolicy Ignore: {consequence}"),
            ),
            None | Some(Value::Null) if object.api_version() == V1BETA1 => hits.push(
                format!("/webhooks/{i}"),
                format!(
                    "{kind} webhook {name:?} sets no failurePolicy, which defaults to Ignore in \
                     {V1BETA1}: {consequence}"
                ),
            ),
            _ => {}
        }
    }
}
