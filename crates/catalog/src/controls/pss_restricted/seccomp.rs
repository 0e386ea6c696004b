//! PAL-205: a RuntimeDefault or Localhost seccomp profile for every container, set at pod
//! level or on each container.

use crate::controls::pss_baseline::seccomp::allowed_profile;
use crate::controls::pss_baseline::support::{is_windows, profile_setting, set};
use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;

pub const RULE: Rule = Rule {
    id: "PAL-205",
    target: Target::Workload,
    check,
};

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some(pod) = object.pod_spec() else {
        return;
    };
    if is_windows(&pod) {
        return;
    }
    let pod_profile = set(pod.security_context(), "seccompProfile");
    let pod_allowed = pod_profile.is_some_and(allowed_profile);
    if let Some(profile) = pod_profile.filter(|_| !pod_allowed) {
        hits.push(
            pod.field("securityContext/seccompProfile/type"),
            format!(
                "pod {}; it must be RuntimeDefault or Localhost",
                profile_setting("seccompProfile", profile)
            ),
        );
    }
    for c in object.containers() {
        match set(c.security_context(), "seccompProfile") {
            Some(profile) if allowed_profile(profile) => {}
            Some(profile) => hits.push(
                c.field("/securityContext/seccompProfile/type"),
                format!(
                    "{} {}; it must be RuntimeDefault or Localhost",
                    c.label(),
                    profile_setting("seccompProfile", profile)
                ),
            ),
            // A container that inherits an explicit pod-level profile is covered by the pod.
            None if pod_profile.is_some() => {}
            None => hits.push(
                c.field("/securityContext/seccompProfile"),
                format!(
                    "{} has no seccomp profile: neither it nor the pod sets seccompProfile (RuntimeDefault or Localhost)",
                    c.label()
                ),
            ),
        }
    }
}
