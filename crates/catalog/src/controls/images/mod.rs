//! Container image references: floating tags, digests, pull policy and registries. The
//! reference grammar is in [`reference`], written once for every rule here.

mod pull;
mod reference;
mod registries;
mod valid;

use crate::registry::Rule;
use palisade_model::{ContainerRef, Object};
use reference::ImageRef;

/// Every rule of the group.
pub const RULES: &[Rule] = &[
    pull::FLOATING_TAG,
    pull::NO_DIGEST,
    pull::PULL_POLICY,
    registries::IMPLICIT_REGISTRY,
    registries::DEPRECATED_REGISTRY,
    valid::RULE,
];

/// The containers of a workload whose image is a valid reference, with the parsed reference.
/// Empty and invalid references are PAL-406's; the other rules cannot judge them.
fn images(object: &Object) -> impl Iterator<Item = (ContainerRef<'_>, ImageRef<'_>)> {
    object
        .containers()
        .filter_map(|c| ImageRef::parse(c.image()).ok().map(|r| (c, r)))
}
