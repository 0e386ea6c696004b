//! The built-in framework data against the control catalog.

use palisade_frameworks::{Framework, all, get};
use std::collections::{BTreeMap, BTreeSet};

const IDS: [&str; 10] = [
    "cis-1.12",
    "nsa-cisa-1.2",
    "pss-baseline",
    "pss-restricted",
    "soc2",
    "pci-dss-4.0",
    "hipaa",
    "gdpr",
    "nist-800-53-r5",
    "mitre-attack-containers",
];

/// A framework by id; `None` when it is missing or the data does not load.
fn framework(id: &str) -> Option<&'static Framework> {
    get(id).ok().flatten()
}

#[test]
fn every_framework_loads() {
    let ids: Vec<&str> = all().unwrap().iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, IDS);
    assert!(get("no-such-framework").unwrap().is_none());
    for fw in all().unwrap() {
        assert!(!fw.requirements.is_empty(), "{} has no requirements", fw.id);
        assert!(fw.url.starts_with("https://"), "{}: {}", fw.id, fw.url);
    }
}

#[test]
fn requirement_ids_are_unique_within_a_framework() {
    for fw in all().unwrap() {
        let mut seen = BTreeSet::new();
        for req in &fw.requirements {
            assert!(
                seen.insert(&req.id),
                "{}: {} is listed twice",
                fw.id,
                req.id
            );
        }
    }
}

#[test]
fn every_requirement_maps_controls_or_says_why_not() {
    for fw in all().unwrap() {
        for req in &fw.requirements {
            assert!(
                !req.controls.is_empty() || req.manual || req.scope.is_some(),
                "{} {}: map controls, or mark it manual or node-scoped",
                fw.id,
                req.id
            );
        }
    }
}

#[test]
fn every_mapped_control_exists_in_the_catalog() {
    let catalog = palisade_catalog::catalog().unwrap();
    let mut dangling = Vec::new();
    for fw in all().unwrap() {
        for req in &fw.requirements {
            for control in &req.controls {
                if catalog.get(control).is_none() {
                    dangling.push(format!("{} {}: {control}", fw.id, req.id));
                }
            }
        }
    }
    assert!(dangling.is_empty(), "unknown controls: {dangling:#?}");
}

#[test]
fn every_catalog_control_is_mapped_by_a_framework() {
    let catalog = palisade_catalog::catalog().unwrap();
    let mapped: BTreeSet<&str> = all()
        .unwrap()
        .iter()
        .flat_map(|fw| &fw.requirements)
        .flat_map(|req| &req.controls)
        .map(String::as_str)
        .collect();
    let unmapped: Vec<&str> = catalog
        .iter()
        .map(|c| c.meta.id.as_str())
        .filter(|id| !mapped.contains(id))
        .collect();
    assert!(
        unmapped.is_empty(),
        "controls no framework maps: {unmapped:?}"
    );
}

#[test]
fn cis_has_every_benchmark_recommendation() {
    let cis = framework("cis-1.12").unwrap();
    assert_eq!(cis.requirements.len(), 131);
    let mut per_section: BTreeMap<&str, usize> = BTreeMap::new();
    for req in &cis.requirements {
        let section = req.id.split('.').next().unwrap();
        *per_section.entry(section).or_default() += 1;
        let node_section = section != "5";
        assert_eq!(
            req.scope.as_deref() == Some("node"),
            node_section,
            "{}: sections 1-4, and only they, are node-scoped",
            req.id
        );
        assert!(req.section.is_some(), "{} has no section", req.id);
    }
    let counts: Vec<(&str, usize)> = per_section.into_iter().collect();
    assert_eq!(
        counts,
        [("1", 60), ("2", 7), ("3", 5), ("4", 25), ("5", 34)]
    );
    let privileged = cis.requirements.iter().find(|r| r.id == "5.2.2").unwrap();
    assert!(privileged.controls.contains(&"PAL-101".to_string()));
}

#[test]
fn pss_restricted_contains_all_of_baseline() {
    let baseline = framework("pss-baseline").unwrap();
    let restricted = framework("pss-restricted").unwrap();
    let (head, tail) = restricted
        .requirements
        .split_at(baseline.requirements.len());
    assert_eq!(head, baseline.requirements.as_slice());
    assert!(tail.iter().all(|r| r.id.starts_with("restricted/")));
    assert!(
        baseline
            .requirements
            .iter()
            .all(|r| r.id.starts_with("baseline/"))
    );
}

#[test]
fn pss_requirements_are_all_judged_from_objects() {
    for id in ["pss-baseline", "pss-restricted"] {
        for req in &framework(id).unwrap().requirements {
            assert!(!req.manual && req.scope.is_none(), "{id}: {}", req.id);
        }
    }
}

#[test]
fn scoring_a_real_framework_covers_every_requirement() {
    let cis = framework("cis-1.12").unwrap();
    let catalog = palisade_catalog::catalog().unwrap();
    let applicable: BTreeMap<String, usize> =
        catalog.iter().map(|c| (c.meta.id.clone(), 1)).collect();
    let result = palisade_frameworks::score(cis, &[], &applicable);
    assert_eq!(result.requirements.len(), 131);
    let manual = result
        .counts
        .get(&palisade_model::RequirementStatus::Manual)
        .copied()
        .unwrap_or(0);
    assert!(manual >= 97, "sections 1-4 are Manual: {manual}");
    assert_eq!(result.score, Some(100.0));
}
