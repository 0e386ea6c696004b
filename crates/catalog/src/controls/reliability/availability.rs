//! PAL-510..512: replicas and PodDisruptionBudgets of Deployments and StatefulSets.

use super::scaling::{Replicas, autoscaler_min, replicas, selected_workloads};
use crate::registry::{Rule, Target};
use crate::util::{pod_labels, selector_matches};
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::{Map, Value};

const REPLICATED: &[&str] = &["Deployment", "StatefulSet"];

pub const SINGLE_REPLICA: Rule = Rule {
    id: "PAL-510",
    target: Target::Kinds(REPLICATED),
    check: single_replica,
};

pub const NO_PDB: Rule = Rule {
    id: "PAL-511",
    target: Target::Kinds(REPLICATED),
    check: no_pdb,
};

pub const PDB_BLOCKS: Rule = Rule {
    id: "PAL-512",
    target: Target::Kinds(&["PodDisruptionBudget"]),
    check: pdb_blocks,
};

fn single_replica(object: &Object, ctx: &Context<'_>, hits: &mut Hits) {
    // An autoscaler owns the count; its own minimum is judged on the autoscaler.
    if autoscaler_min(object, ctx).is_some() {
        return;
    }
    match replicas(object) {
        Replicas::Unset => hits.push(
            "/spec/replicas",
            "spec.replicas is not set, so a single pod runs (the default is 1)",
        ),
        Replicas::Count(1) => hits.push("/spec/replicas", "spec.replicas is 1: a single pod runs"),
        Replicas::Count(_) | Replicas::Unknown => {}
    }
}

fn no_pdb(object: &Object, ctx: &Context<'_>, hits: &mut Hits) {
    let autoscaled = autoscaler_min(object, ctx);
    let Some(pods) = autoscaled.or_else(|| replicas(object).effective()) else {
        return;
    };
    if pods < 2 {
        return;
    }
    let empty = Map::new();
    let labels = pod_labels(object).unwrap_or(&empty);
    let covered = ctx
        .of_kind_in("PodDisruptionBudget", object.effective_namespace())
        .filter_map(|pdb| pdb.at("/spec/selector"))
        .any(|selector| selector_matches(selector, labels));
    if !covered {
        let how = match autoscaled {
            Some(min) => format!("its autoscaler keeps at least {min} replicas"),
            None => format!("it runs {pods} replicas"),
        };
        hits.push(
            "/spec/replicas",
            format!("{how} but no PodDisruptionBudget selects its pods"),
        );
    }
}

/// An `IntOrString` budget: a count or a percentage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Budget {
    Count(u64),
    Percent(u64),
}

fn budget(value: &Value) -> Option<Budget> {
    match value {
        Value::Number(n) => n.as_u64().map(Budget::Count),
        Value::String(s) => s
            .strip_suffix('%')
            .and_then(|p| p.parse().ok())
            .map(Budget::Percent),
        _ => None,
    }
}

fn pdb_blocks(pdb: &Object, ctx: &Context<'_>, hits: &mut Hits) {
    if let Some(max) = pdb.at("/spec/maxUnavailable").and_then(budget) {
        if matches!(max, Budget::Count(0) | Budget::Percent(0)) {
            hits.push(
                "/spec/maxUnavailable",
                "maxUnavailable is 0: no selected pod may ever be evicted, so node drains hang",
            );
        }
        return;
    }
    let Some(min) = pdb.at("/spec/minAvailable").and_then(budget) else {
        return;
    };
    if min == Budget::Percent(100) {
        hits.push(
            "/spec/minAvailable",
            "minAvailable is 100%: no selected pod may ever be evicted, so node drains hang",
        );
        return;
    }
    let Some((pods, names)) = selected_pods(pdb, ctx) else {
        return;
    };
    // The disruption controller rounds a percentage of pods up.
    let required = match min {
        Budget::Count(n) => n,
        Budget::Percent(p) => (p.saturating_mul(pods)).div_ceil(100),
    };
    if pods > 0 && required >= pods {
        hits.push(
            "/spec/minAvailable",
            format!(
                "minAvailable requires {required} of the {pods} pods it selects ({names}) to stay up, so none may be evicted and node drains hang"
            ),
        );
    }
}

/// The pods a PodDisruptionBudget protects, counted from the Deployments and StatefulSets it
/// selects, with their names; `None` when nothing scanned is selected or a count is unknown.
fn selected_pods(pdb: &Object, ctx: &Context<'_>) -> Option<(u64, String)> {
    let selector = pdb.at("/spec/selector")?;
    let mut pods: u64 = 0;
    let mut names = Vec::new();
    for workload in selected_workloads(ctx, pdb.effective_namespace(), selector) {
        // An autoscaler moves the count; the budget cannot be judged statically.
        if autoscaler_min(workload, ctx).is_some() {
            return None;
        }
        pods = pods.saturating_add(replicas(workload).effective()?);
        names.push(format!("{} {:?}", workload.kind(), workload.name()));
    }
    (!names.is_empty()).then(|| (pods, names.join(", ")))
}
