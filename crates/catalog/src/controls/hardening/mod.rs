//! Rules of the `hardening` group.

use crate::registry::Rule;

/// Every rule of the group.
pub const RULES: &[Rule] = &[];
