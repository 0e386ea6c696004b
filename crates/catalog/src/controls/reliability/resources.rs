//! PAL-501..505: resource requests and limits of every container and init container
//! (ephemeral containers cannot set resources).
//!
//! A value counts as set where the API server would set it: a container's request defaults to
//! its own limit, pod-level `spec.resources` bounds every container, and a LimitRange of type
//! `Container` in the same namespace fills in defaults at admission (a limit from `default`,
//! else `max`; a request from `defaultRequest`, else `default`, `max` or `min`).

use crate::registry::{Rule, Target};
use crate::util::items;
use crate::{Context, Hits};
use palisade_model::{ContainerKind, ContainerRef, Object};
use serde_json::Value;

pub const CPU_REQUEST: Rule = Rule {
    id: "PAL-501",
    target: Target::Workload,
    check: |o, ctx, hits| missing(o, ctx, hits, "cpu", Bound::Request),
};

pub const CPU_LIMIT: Rule = Rule {
    id: "PAL-502",
    target: Target::Workload,
    check: |o, ctx, hits| missing(o, ctx, hits, "cpu", Bound::Limit),
};

pub const MEMORY_REQUEST: Rule = Rule {
    id: "PAL-503",
    target: Target::Workload,
    check: |o, ctx, hits| missing(o, ctx, hits, "memory", Bound::Request),
};

pub const MEMORY_LIMIT: Rule = Rule {
    id: "PAL-504",
    target: Target::Workload,
    check: |o, ctx, hits| missing(o, ctx, hits, "memory", Bound::Limit),
};

pub const EPHEMERAL_STORAGE: Rule = Rule {
    id: "PAL-505",
    target: Target::Workload,
    check: ephemeral_storage,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Request,
    Limit,
}

impl Bound {
    fn field(self) -> &'static str {
        match self {
            Bound::Request => "requests",
            Bound::Limit => "limits",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Bound::Request => "request",
            Bound::Limit => "limit",
        }
    }
}

fn missing(object: &Object, ctx: &Context<'_>, hits: &mut Hits, resource: &str, bound: Bound) {
    let Some(pod) = object.pod_spec() else {
        return;
    };
    if sets(pod.get("resources"), resource, bound)
        || limit_range_default(object, ctx, resource, bound)
    {
        return;
    }
    for c in governed(object) {
        if sets(c.get("resources"), resource, bound) {
            continue;
        }
        let display = if resource == "cpu" { "CPU" } else { resource };
        hits.push(
            c.field(&format!("/resources/{}/{resource}", bound.field())),
            format!(
                "{} sets no {display} {} (resources.{}.{resource})",
                c.label(),
                bound.noun(),
                bound.field()
            ),
        );
    }
}

fn ephemeral_storage(object: &Object, ctx: &Context<'_>, hits: &mut Hits) {
    const RESOURCE: &str = "ephemeral-storage";
    // The limit is what matters: a missing request defaults to it, so only a missing
    // limit leaves the container unbounded.
    if limit_range_default(object, ctx, RESOURCE, Bound::Limit) {
        return;
    }
    for c in governed(object) {
        let resources = c.get("resources");
        if is_set(resources.and_then(|r| r.get("limits")), RESOURCE) {
            continue;
        }
        let message = if is_set(resources.and_then(|r| r.get("requests")), RESOURCE) {
            format!("{} requests ephemeral-storage but sets no limit", c.label())
        } else {
            format!(
                "{} sets neither an ephemeral-storage request nor a limit",
                c.label()
            )
        };
        hits.push(c.field("/resources/limits/ephemeral-storage"), message);
    }
}

/// Containers and init containers.
fn governed(object: &Object) -> impl Iterator<Item = ContainerRef<'_>> {
    object
        .containers()
        .filter(|c| c.kind != ContainerKind::Ephemeral)
}

/// Does a `resources` block (container or pod level) set this bound, a request also being
/// satisfied by a limit it defaults to?
fn sets(resources: Option<&Value>, resource: &str, bound: Bound) -> bool {
    let of = |field: &str| resources.and_then(|r| r.get(field));
    is_set(of(bound.field()), resource)
        || (bound == Bound::Request && is_set(of("limits"), resource))
}

fn is_set(list: Option<&Value>, resource: &str) -> bool {
    list.and_then(|l| l.get(resource))
        .is_some_and(|v| !v.is_null())
}

/// Does a LimitRange of the object's namespace give containers a default for this bound?
fn limit_range_default(object: &Object, ctx: &Context<'_>, resource: &str, bound: Bound) -> bool {
    let sources: &[&str] = match bound {
        Bound::Limit => &["default", "max"],
        Bound::Request => &["defaultRequest", "default", "max", "min"],
    };
    ctx.of_kind_in("LimitRange", object.effective_namespace())
        .any(|range| {
            items(range.at("/spec/limits")).any(|(_, item)| {
                item.get("type").and_then(Value::as_str) == Some("Container")
                    && sources.iter().any(|s| is_set(item.get(*s), resource))
            })
        })
}
