use crate::context::Context;
use crate::hits::Hits;
use crate::registry::{Control, Target};
use palisade_model::{Finding, Location, Object, ObjectRef};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What running controls over objects produced.
#[derive(Debug, Default)]
pub struct Evaluation {
    /// Findings, in deterministic order (file, line, control, object, field, message).
    pub findings: Vec<Finding>,
    /// For each control that ran: how many objects it applied to. Zero means the control was
    /// not applicable to anything scanned.
    pub applicable: BTreeMap<String, usize>,
    /// Indexes of the objects no kind-specific control applied to (kinds the catalog does not
    /// inspect beyond generic metadata checks).
    pub uninspected: Vec<usize>,
}

/// Runs the controls over every object, in parallel over objects.
pub fn evaluate(objects: &[Object], controls: &[&Control]) -> Evaluation {
    let context = Context::new(objects);
    // Every finding of a control shares its id and title.
    let names: Vec<(Arc<str>, Arc<str>)> = controls
        .iter()
        .map(|c| {
            (
                Arc::from(c.meta.id.as_str()),
                Arc::from(c.meta.title.as_str()),
            )
        })
        .collect();
    let (chunks, counts, mut uninspected) = objects
        .par_iter()
        .enumerate()
        .fold(
            || (Vec::new(), vec![0usize; controls.len()], Vec::new()),
            |(mut findings, mut counts, mut uninspected), (index, object)| {
                let mut inspected = false;
                let mut object_ref: Option<Arc<ObjectRef>> = None;
                for (i, (control, name)) in controls.iter().zip(&names).enumerate() {
                    if !control.rule.target.applies(object) {
                        continue;
                    }
                    // Metadata checks that apply to any object do not count as judging it.
                    inspected |= matches!(control.rule.target, Target::Workload | Target::Kinds(_));
                    if let Some(c) = counts.get_mut(i) {
                        *c += 1;
                    }
                    let mut hits = Hits::default();
                    (control.rule.check)(object, &context, &mut hits);
                    if hits.0.is_empty() {
                        continue;
                    }
                    let object_ref =
                        object_ref.get_or_insert_with(|| Arc::new(ObjectRef::of(object)));
                    findings.extend(
                        hits.0
                            .into_iter()
                            .map(|hit| finding(control, name, object, object_ref, hit)),
                    );
                }
                if !inspected {
                    uninspected.push(index);
                }
                (findings, counts, uninspected)
            },
        )
        .map(|(findings, counts, uninspected)| (vec![findings], counts, uninspected))
        .reduce(
            || (Vec::new(), vec![0usize; controls.len()], Vec::new()),
            |(mut fa, mut ca, mut ua), (fb, cb, ub)| {
                fa.extend(fb);
                for (a, b) in ca.iter_mut().zip(cb) {
                    *a += b;
                }
                ua.extend(ub);
                (fa, ca, ua)
            },
        );
    // One allocation of the final size: growing a vector by doubling would briefly hold
    // twice the findings.
    let mut findings = Vec::with_capacity(chunks.iter().map(Vec::len).sum());
    for chunk in chunks {
        findings.extend(chunk);
    }
    uninspected.sort_unstable();
    findings.par_sort_unstable_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup_by(|a, b| a.sort_key() == b.sort_key());
    let applicable = controls
        .iter()
        .zip(counts)
        .map(|(c, n)| (c.meta.id.clone(), n))
        .collect();
    Evaluation {
        findings,
        applicable,
        uninspected,
    }
}

/// Runs the controls over one object on its own, as an admission webhook sees it: the rest
/// of the cluster is unknown, so a verdict that looked at other objects (a NetworkPolicy
/// that selects the pod, the role a binding names) is dropped rather than given about
/// objects that are not there. Findings in deterministic order.
pub fn evaluate_alone(object: &Object, controls: &[&Control]) -> Vec<Finding> {
    let context = Context::new(std::slice::from_ref(object));
    let mut findings = Vec::new();
    let mut object_ref: Option<Arc<ObjectRef>> = None;
    for control in controls {
        if !control.rule.target.applies(object) {
            continue;
        }
        let mut hits = Hits::default();
        context.take_consulted();
        (control.rule.check)(object, &context, &mut hits);
        if context.take_consulted() || hits.0.is_empty() {
            continue;
        }
        let name = (
            Arc::from(control.meta.id.as_str()),
            Arc::from(control.meta.title.as_str()),
        );
        let object_ref = object_ref.get_or_insert_with(|| Arc::new(ObjectRef::of(object)));
        findings.extend(
            hits.0
                .into_iter()
                .map(|hit| finding(control, &name, object, object_ref, hit)),
        );
    }
    findings.sort_unstable_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup_by(|a, b| a.sort_key() == b.sort_key());
    findings
}

fn finding(
    control: &Control,
    (id, title): &(Arc<str>, Arc<str>),
    object: &Object,
    object_ref: &Arc<ObjectRef>,
    hit: crate::hits::Hit,
) -> Finding {
    Finding {
        control_id: Arc::clone(id),
        title: Arc::clone(title),
        severity: control.meta.severity,
        object: Arc::clone(object_ref),
        location: Location {
            file: Arc::clone(&object.source.file),
            line: object.line_of(&hit.pointer),
            pointer: hit.pointer,
        },
        message: hit.message,
        suppressed: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alone_keeps_what_the_object_says_and_drops_what_needs_other_objects() {
        let Ok(catalog) = crate::catalog() else {
            unreachable!("the built-in catalog is consistent")
        };
        let controls: Vec<&Control> = catalog.iter().collect();
        let loaded = palisade_loader::load_text(
            "pod.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  containers:\n  - {name: a, image: nginx, securityContext: {privileged: true}}\n",
        );
        let ids = |findings: &[Finding]| -> Vec<String> {
            findings.iter().map(|f| f.control_id.to_string()).collect()
        };
        let together = ids(&evaluate(&loaded.objects, &controls).findings);
        let alone = ids(&evaluate_alone(&loaded.objects[0], &controls));
        // PAL-702: no NetworkPolicy selects the pod, among the objects scanned. Alone, the
        // rest of the cluster is unknown.
        assert!(together.contains(&"PAL-702".to_string()), "{together:?}");
        assert!(!alone.contains(&"PAL-702".to_string()), "{alone:?}");
        assert!(alone.contains(&"PAL-101".to_string()), "{alone:?}");
        assert!(alone.iter().all(|id| together.contains(id)));
    }
}
