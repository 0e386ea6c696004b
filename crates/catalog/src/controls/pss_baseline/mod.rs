//! Pod Security Standards, baseline profile: every rule, with the allowed values of the
//! current Kubernetes documentation
//! (<https://kubernetes.io/docs/concepts/security/pod-security-standards/>).

mod privileged;

use crate::registry::Rule;

/// Every rule of the group.
pub const RULES: &[Rule] = &[privileged::RULE];
