//! Rules of the `secrets` group: how Secrets reach containers (CIS Kubernetes Benchmark
//! 5.4.1) and credentials written where Secrets should have been used.

mod committed;
mod config_maps;
mod env;
mod names;
mod objects;
mod values;

use crate::registry::Rule;

/// Every rule of the group.
pub const RULES: &[Rule] = &[
    env::FROM_SECRET,
    env::LITERAL,
    config_maps::RULE,
    objects::ANNOTATION,
    objects::TOKEN,
    committed::RULE,
];
