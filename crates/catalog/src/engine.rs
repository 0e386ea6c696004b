use crate::context::Context;
use crate::hits::Hits;
use crate::registry::Control;
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
}

/// Runs the controls over every object, in parallel over objects.
pub fn evaluate(objects: &[Object], controls: &[&Control]) -> Evaluation {
    let context = Context::new(objects);
    let (mut findings, counts) = objects
        .par_iter()
        .fold(
            || (Vec::new(), vec![0usize; controls.len()]),
            |(mut findings, mut counts), object| {
                for (i, control) in controls.iter().enumerate() {
                    if !control.rule.target.applies(object) {
                        continue;
                    }
                    if let Some(c) = counts.get_mut(i) {
                        *c += 1;
                    }
                    let mut hits = Hits::default();
                    (control.rule.check)(object, &context, &mut hits);
                    findings.extend(hits.0.into_iter().map(|hit| finding(control, object, hit)));
                }
                (findings, counts)
            },
        )
        .reduce(
            || (Vec::new(), vec![0usize; controls.len()]),
            |(mut fa, mut ca), (fb, cb)| {
                fa.extend(fb);
                for (a, b) in ca.iter_mut().zip(cb) {
                    *a += b;
                }
                (fa, ca)
            },
        );
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
