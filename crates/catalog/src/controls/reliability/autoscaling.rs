//! PAL-513, PAL-514: HorizontalPodAutoscalers.

use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

const HPA: &[&str] = &["HorizontalPodAutoscaler"];

pub const DANGLING: Rule = Rule {
    id: "PAL-513",
    target: Target::Kinds(HPA),
    check: dangling,
};

pub const MIN_REPLICAS: Rule = Rule {
    id: "PAL-514",
    target: Target::Kinds(HPA),
    check: min_replicas,
};

fn dangling(hpa: &Object, ctx: &Context<'_>, hits: &mut Hits) {
    let field = |name: &str| {
        hpa.at(&format!("/spec/scaleTargetRef/{name}"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let (Some(kind), Some(name)) = (field("kind"), field("name")) else {
        return;
    };
    let namespace = hpa.effective_namespace();
    // Only what is visible can be judged: no object of that kind here says nothing.
    if ctx.of_kind_in(kind, namespace).next().is_none() {
        return;
    }
    if ctx.named(kind, namespace, name).is_none() {
        hits.push(
            "/spec/scaleTargetRef/name",
            format!(
                "scales {kind} {name:?}, which is not among the scanned {kind} objects of its namespace"
            ),
        );
    }
}

fn min_replicas(hpa: &Object, _: &Context<'_>, hits: &mut Hits) {
    match hpa.at("/spec/minReplicas") {
        None | Some(Value::Null) => hits.push(
            "/spec/minReplicas",
            "minReplicas is not set, so the autoscaler may scale down to a single pod (the default is 1)",
        ),
        Some(v) if v.as_u64() == Some(1) => hits.push(
            "/spec/minReplicas",
            "minReplicas is 1: the autoscaler may scale down to a single pod",
        ),
        // 0 is scale-to-zero, chosen on purpose.
        Some(_) => {}
    }
}
