//! Pod Security Standards, restricted profile: the rules it adds to baseline, with the
//! allowed values of the current Kubernetes documentation
//! (<https://kubernetes.io/docs/concepts/security/pod-security-standards/>) and the
//! semantics of the Pod Security Admission plugin that enforces it, Windows and user
//! namespace exemptions included.

mod capabilities;
mod privilege_escalation;
mod proc_mount;
mod run_as_non_root;
mod run_as_user;
mod seccomp;
mod volume_types;

use crate::registry::Rule;

/// Every rule of the group.
pub const RULES: &[Rule] = &[
    volume_types::RULE,
    privilege_escalation::RULE,
    run_as_non_root::RULE,
    run_as_user::RULE,
    seccomp::RULE,
    capabilities::RULE,
    proc_mount::RULE,
];
