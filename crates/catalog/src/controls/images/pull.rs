//! What a reference pins: PAL-401 (floating `latest` or no tag), PAL-402 (no digest) and
//! PAL-403 (a pull policy that trusts node caches for a reference that can move).

use super::images;
use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

pub const FLOATING_TAG: Rule = Rule {
    id: "PAL-401",
    target: Target::Workload,
    check: check_floating_tag,
};

pub const NO_DIGEST: Rule = Rule {
    id: "PAL-402",
    target: Target::Workload,
    check: check_no_digest,
};

pub const PULL_POLICY: Rule = Rule {
    id: "PAL-403",
    target: Target::Workload,
    check: check_pull_policy,
};

fn check_floating_tag(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for (c, image) in images(object) {
        if !image.is_floating() {
            continue;
        }
        let what = match image.tag {
            Some(tag) => format!("the tag {tag:?}"),
            None => "no tag (so latest)".to_string(),
        };
        hits.push(
            c.field("/image"),
            format!(
                "{} uses image {:?} with {what}: the image changes whenever the tag is pushed",
                c.label(),
                c.image()
            ),
        );
    }
}

fn check_no_digest(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for (c, image) in images(object) {
        if image.digest.is_none() {
            hits.push(
                c.field("/image"),
                format!(
                    "{} uses image {:?}, not pinned by digest (@sha256:...)",
                    c.label(),
                    c.image()
                ),
            );
        }
    }
}

fn check_pull_policy(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for (c, image) in images(object) {
        if image.digest.is_some() {
            continue;
        }
        // Only an explicit policy is judged: unset, Kubernetes pulls `latest` and untagged
        // images every time, and uses its cache for other tags by design.
        let Some(policy) = c.get("imagePullPolicy").and_then(Value::as_str) else {
            continue;
        };
        if matches!(policy, "IfNotPresent" | "Never") {
            hits.push(
                c.field("/imagePullPolicy"),
                format!(
                    "{} sets imagePullPolicy: {policy} for image {:?}, which no digest pins: \
                     nodes may run different or stale images under that tag",
                    c.label(),
                    c.image()
                ),
            );
        }
    }
}
