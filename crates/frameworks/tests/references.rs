//! A control's metadata may cite CIS Kubernetes Benchmark v1.12 recommendations; the
//! cis-1.12 framework must then map the control to exactly those recommendations, so the
//! reference a user reads and the score an auditor reads never disagree.

use std::collections::BTreeSet;

#[test]
fn cis_references_agree_with_the_cis_mapping() {
    let catalog = palisade_catalog::catalog().unwrap();
    let cis = palisade_frameworks::get("cis-1.12").unwrap().unwrap();
    let mut problems = Vec::new();
    for control in catalog.iter() {
        let cited: BTreeSet<&str> = control
            .meta
            .references
            .iter()
            .filter_map(|r| r.strip_prefix("CIS Kubernetes Benchmark v1.12 "))
            .filter_map(|rest| rest.split_whitespace().next())
            .filter(|n| n.chars().next().is_some_and(|c| c.is_ascii_digit()))
            .collect();
        for number in cited {
            let maps = cis
                .requirements
                .iter()
                .any(|r| r.id == number && r.controls.contains(&control.meta.id));
            if !maps {
                problems.push(format!(
                    "{} cites CIS v1.12 {number}, which does not map it",
                    control.meta.id
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
