//! Where images come from: PAL-404 (no registry written, so Docker Hub) and PAL-405 (the
//! frozen k8s.gcr.io registry).

use super::images;
use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;

pub const IMPLICIT_REGISTRY: Rule = Rule {
    id: "PAL-404",
    target: Target::Workload,
    check: check_implicit_registry,
};

pub const DEPRECATED_REGISTRY: Rule = Rule {
    id: "PAL-405",
    target: Target::Workload,
    check: check_deprecated_registry,
};

/// Frozen since April 2023; its successor serves the same images and new releases.
const FROZEN_REGISTRY: &str = "k8s.gcr.io";
const SUCCESSOR: &str = "registry.k8s.io";

fn check_implicit_registry(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for (c, image) in images(object) {
        if image.registry.is_none() {
            hits.push(
                c.field("/image"),
                format!(
                    "{} uses image {:?} with no registry: it is pulled from Docker Hub, or \
                     from whatever mirror the node's runtime is configured with",
                    c.label(),
                    c.image()
                ),
            );
        }
    }
}

fn check_deprecated_registry(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    for (c, image) in images(object) {
        if image
            .registry
            .is_some_and(|r| r.eq_ignore_ascii_case(FROZEN_REGISTRY))
        {
            hits.push(
                c.field("/image"),
                format!(
                    "{} uses image {:?} from {FROZEN_REGISTRY}, which is frozen and gets no \
                     new images or fixes; use {SUCCESSOR}/{}",
                    c.label(),
                    c.image(),
                    image.repository
                ),
            );
        }
    }
}
