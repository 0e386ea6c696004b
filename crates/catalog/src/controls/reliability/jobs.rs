//! PAL-515..518: Jobs and CronJobs.
//!
//! Jobs created by a CronJob are judged on the CronJob (its template is what a user writes),
//! so Jobs with an owner are skipped. Finished Jobs of a CronJob are cleaned up by its history
//! limits, so only standalone Jobs need `ttlSecondsAfterFinished`.

use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

const CRONJOB: &[&str] = &["CronJob"];

pub const STARTING_DEADLINE: Rule = Rule {
    id: "PAL-515",
    target: Target::Kinds(CRONJOB),
    check: starting_deadline,
};

pub const CONCURRENCY: Rule = Rule {
    id: "PAL-516",
    target: Target::Kinds(CRONJOB),
    check: concurrency,
};

pub const TTL: Rule = Rule {
    id: "PAL-517",
    target: Target::Kinds(&["Job"]),
    check: ttl,
};

pub const ACTIVE_DEADLINE: Rule = Rule {
    id: "PAL-518",
    target: Target::Kinds(&["Job", "CronJob"]),
    check: active_deadline,
};

fn is_set(object: &Object, pointer: &str) -> bool {
    object.at(pointer).is_some_and(|v| !v.is_null())
}

fn owned(object: &Object) -> bool {
    object
        .at("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| !refs.is_empty())
}

fn starting_deadline(cronjob: &Object, _: &Context<'_>, hits: &mut Hits) {
    if !is_set(cronjob, "/spec/startingDeadlineSeconds") {
        hits.push(
            "/spec/startingDeadlineSeconds",
            "startingDeadlineSeconds is not set: a run missed while the controller was down starts at any later time, and after 100 missed runs the CronJob stops scheduling",
        );
    }
}

fn concurrency(cronjob: &Object, _: &Context<'_>, hits: &mut Hits) {
    match cronjob.at("/spec/concurrencyPolicy") {
        None | Some(Value::Null) => hits.push(
            "/spec/concurrencyPolicy",
            "concurrencyPolicy is not set (the default is Allow): runs that overrun their schedule pile up",
        ),
        Some(v) if v.as_str() == Some("Allow") => hits.push(
            "/spec/concurrencyPolicy",
            "concurrencyPolicy is Allow: runs that overrun their schedule pile up",
        ),
        Some(_) => {}
    }
}

fn ttl(job: &Object, _: &Context<'_>, hits: &mut Hits) {
    if owned(job) || is_set(job, "/spec/ttlSecondsAfterFinished") {
        return;
    }
    hits.push(
        "/spec/ttlSecondsAfterFinished",
        "ttlSecondsAfterFinished is not set: the finished Job and its pods stay in the cluster until deleted by hand",
    );
}

fn active_deadline(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    if owned(object) {
        return;
    }
    let job_spec = match object.kind() {
        "CronJob" => "/spec/jobTemplate/spec",
        _ => "/spec",
    };
    let job_pointer = format!("{job_spec}/activeDeadlineSeconds");
    // A pod-level deadline bounds each pod, which bounds the run as well.
    let pod_bounded = object.pod_spec().is_some_and(|pod| {
        pod.get("activeDeadlineSeconds")
            .is_some_and(|v| !v.is_null())
    });
    if is_set(object, &job_pointer) || pod_bounded {
        return;
    }
    hits.push(
        job_pointer,
        "activeDeadlineSeconds is not set: a hung run holds its pods and resources forever",
    );
}
