//! PAL-112: unmasked /proc, unless the pod runs in its own user namespace.

use super::support::{in_user_namespace, set, shown};
use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;

pub const RULE: Rule = Rule {
    id: "PAL-112",
    target: Target::Workload,
    check,
};

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    if object.pod_spec().is_some_and(|pod| in_user_namespace(&pod)) {
        return;
    }
    report_proc_mounts(object, hits);
}

/// Reports every container whose `procMount` is set to anything but `Default`.
pub(crate) fn report_proc_mounts(object: &Object, hits: &mut Hits) {
    for c in object.containers() {
        let Some(proc_mount) = set(c.security_context(), "procMount") else {
            continue;
        };
        if proc_mount.as_str() == Some("Default") {
            continue;
        }
        hits.push(
            c.field("/securityContext/procMount"),
            format!(
                "{} sets procMount to {}; only Default keeps /proc masked",
                c.label(),
                shown(Some(proc_mount))
            ),
        );
    }
}
