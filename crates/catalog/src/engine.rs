use crate::context::Context;
use crate::hits::Hits;
use crate::registry::{Control, Target};
use palisade_model::{Finding, Location, Object, ObjectRef};
use rayon::prelude::*;
use std::collections::BTreeMap;

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
    let (mut findings, counts, mut uninspected) = objects
        .par_iter()
        .enumerate()
        .fold(
            || (Vec::new(), vec![0usize; controls.len()], Vec::new()),
            |(mut findings, mut counts, mut uninspected), (index, object)| {
                let mut inspected = false;
                for (i, control) in controls.iter().enumerate() {
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
                    findings.extend(hits.0.into_iter().map(|hit| finding(control, object, hit)));
                }
                if !inspected {
                    uninspected.push(index);
                }
                (findings, counts, uninspected)
            },
        )
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

fn finding(control: &Control, object: &Object, hit: crate::hits::Hit) -> Finding {
    Finding {
        control_id: control.meta.id.clone(),
        title: control.meta.title.clone(),
        severity: control.meta.severity,
        object: ObjectRef::of(object),
        location: Location {
            file: object.source.file.to_string(),
            line: object.line_of(&hit.pointer),
            pointer: hit.pointer,
        },
        message: hit.message,
        suppressed: None,
    }
}
