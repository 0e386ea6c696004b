//! PAL-207: the default masked /proc for every container, user namespace or not.

use crate::controls::pss_baseline::proc_mount::report_proc_mounts;
use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;

pub const RULE: Rule = Rule {
    id: "PAL-207",
    target: Target::Workload,
    check,
};

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    report_proc_mounts(object, hits);
}
