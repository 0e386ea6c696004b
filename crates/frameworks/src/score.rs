use crate::data::Framework;
use palisade_model::{Finding, FrameworkResult, RequirementResult, RequirementStatus};
use std::collections::BTreeMap;

/// Scores one framework from the unsuppressed findings of a scan.
///
/// `applicable[control]` is how many scanned objects the control applied to; a control absent
/// from the map did not run (excluded by the user, for instance). Per requirement: Manual when
/// it is marked manual, has a scope or maps no controls; Fail when a mapped control has a
/// finding; Pass when a mapped control applied to at least one object and none failed;
/// NotApplicable otherwise. The score is `100 × Pass / (Pass + Fail)` rounded to one decimal,
/// `None` when no requirement passed or failed.
pub fn score(
    framework: &Framework,
    findings: &[Finding],
    applicable: &BTreeMap<String, usize>,
) -> FrameworkResult {
    score_counts(framework, &findings_per_control(findings), applicable)
}

/// Findings per control id: count once, then score every framework with [`score_counts`].
pub fn findings_per_control(findings: &[Finding]) -> BTreeMap<&str, usize> {
    let mut found: BTreeMap<&str, usize> = BTreeMap::new();
    for finding in findings {
        *found.entry(&*finding.control_id).or_default() += 1;
    }
    found
}

/// [`score`] from findings already counted per control.
pub fn score_counts(
    framework: &Framework,
    found: &BTreeMap<&str, usize>,
    applicable: &BTreeMap<String, usize>,
) -> FrameworkResult {
    let findings_of = |control: &String| found.get(control.as_str()).copied().unwrap_or(0);
    let applies = |control: &String| applicable.get(control).is_some_and(|&n| n > 0);

    let mut counts: BTreeMap<RequirementStatus, usize> = [
        RequirementStatus::Pass,
        RequirementStatus::Fail,
        RequirementStatus::Manual,
        RequirementStatus::NotApplicable,
    ]
    .into_iter()
    .map(|status| (status, 0))
    .collect();

    let requirements: Vec<RequirementResult> = framework
        .requirements
        .iter()
        .map(|req| {
            let finding_count = req.controls.iter().map(findings_of).sum();
            let status = if req.is_manual() {
                RequirementStatus::Manual
            } else if finding_count > 0 {
                RequirementStatus::Fail
            } else if req.controls.iter().any(applies) {
                RequirementStatus::Pass
            } else {
                RequirementStatus::NotApplicable
            };
            *counts.entry(status).or_default() += 1;
            RequirementResult {
                id: req.id.clone(),
                title: req.title.clone(),
                status,
                controls: req.controls.clone(),
                finding_count,
            }
        })
        .collect();

    let passed = counts.get(&RequirementStatus::Pass).copied().unwrap_or(0);
    let failed = counts.get(&RequirementStatus::Fail).copied().unwrap_or(0);
    FrameworkResult {
        id: framework.id.clone(),
        title: framework.title.clone(),
        version: framework.version.clone(),
        score: percentage(passed, failed),
        counts,
        requirements,
    }
}

/// `100 × passed / (passed + failed)` to one decimal, `None` when both are zero.
fn percentage(passed: usize, failed: usize) -> Option<f64> {
    let judged = passed.checked_add(failed).filter(|&n| n > 0)?;
    // Requirement counts are far below 2^52, so the conversions are exact.
    Some((passed as f64 * 1000.0 / judged as f64).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Requirement;
    use palisade_model::{Location, ObjectRef, Severity};

    fn req(id: &str, controls: &[&str]) -> Requirement {
        Requirement {
            id: id.to_string(),
            title: format!("requirement {id}"),
            section: None,
            controls: controls.iter().map(|c| c.to_string()).collect(),
            manual: false,
            scope: None,
        }
    }

    fn framework(requirements: Vec<Requirement>) -> Framework {
        Framework {
            id: "test-1".to_string(),
            title: "Test framework".to_string(),
            version: "v1".to_string(),
            url: "https://example.org/test".to_string(),
            description: "A framework for tests.".to_string(),
            requirements,
        }
    }

    fn finding(control: &str) -> Finding {
        Finding {
            control_id: control.into(),
            title: "title".into(),
            severity: Severity::High,
            object: ObjectRef {
                api_version: "v1".to_string(),
                kind: "Pod".to_string(),
                namespace: None,
                name: "web".to_string(),
            }
            .into(),
            location: Location {
                file: "pod.yaml".into(),
                line: 1,
                pointer: String::new(),
            },
            message: "message".to_string(),
            suppressed: None,
        }
    }

    fn ran(controls: &[(&str, usize)]) -> BTreeMap<String, usize> {
        controls.iter().map(|(c, n)| (c.to_string(), *n)).collect()
    }

    fn status_of(result: &FrameworkResult, id: &str) -> RequirementStatus {
        result
            .requirements
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.status)
            .unwrap()
    }

    #[test]
    fn every_status() {
        let mut manual = req("manual", &["PAL-101"]);
        manual.manual = true;
        let mut node = req("node", &[]);
        node.scope = Some("node".to_string());
        let fw = framework(vec![
            req("fail", &["PAL-101", "PAL-102"]),
            req("pass", &["PAL-103", "PAL-104"]),
            req("not-applicable", &["PAL-105"]),
            req("did-not-run", &["PAL-106"]),
            req("unmapped", &[]),
            manual,
            node,
        ]);
        let findings = [finding("PAL-102"), finding("PAL-102"), finding("PAL-101")];
        // PAL-104 did not run at all; PAL-103 ran on two objects; PAL-105 ran on none.
        let applicable = ran(&[
            ("PAL-101", 2),
            ("PAL-102", 2),
            ("PAL-103", 2),
            ("PAL-105", 0),
        ]);
        let result = score(&fw, &findings, &applicable);

        assert_eq!(status_of(&result, "fail"), RequirementStatus::Fail);
        assert_eq!(status_of(&result, "pass"), RequirementStatus::Pass);
        assert_eq!(
            status_of(&result, "not-applicable"),
            RequirementStatus::NotApplicable
        );
        assert_eq!(
            status_of(&result, "did-not-run"),
            RequirementStatus::NotApplicable
        );
        assert_eq!(status_of(&result, "unmapped"), RequirementStatus::Manual);
        assert_eq!(status_of(&result, "manual"), RequirementStatus::Manual);
        assert_eq!(status_of(&result, "node"), RequirementStatus::Manual);

        let counts: Vec<(RequirementStatus, usize)> =
            result.counts.iter().map(|(s, n)| (*s, *n)).collect();
        assert_eq!(
            counts,
            vec![
                (RequirementStatus::Pass, 1),
                (RequirementStatus::Fail, 1),
                (RequirementStatus::Manual, 3),
                (RequirementStatus::NotApplicable, 2),
            ]
        );
        assert_eq!(result.score, Some(50.0));
        assert_eq!(result.id, "test-1");
        assert_eq!(result.version, "v1");
    }

    #[test]
    fn finding_count_sums_findings_of_mapped_controls() {
        let mut manual = req("manual", &["PAL-101"]);
        manual.manual = true;
        let fw = framework(vec![
            req("both", &["PAL-101", "PAL-102"]),
            req("one", &["PAL-102"]),
            req("none", &["PAL-103"]),
            manual,
        ]);
        let findings = [finding("PAL-101"), finding("PAL-102"), finding("PAL-102")];
        let result = score(&fw, &findings, &ran(&[("PAL-101", 1), ("PAL-102", 1)]));
        let by_id: BTreeMap<&str, usize> = result
            .requirements
            .iter()
            .map(|r| (r.id.as_str(), r.finding_count))
            .collect();
        assert_eq!(by_id.get("both"), Some(&3));
        assert_eq!(by_id.get("one"), Some(&2));
        assert_eq!(by_id.get("none"), Some(&0));
        // Findings stay visible as evidence on a Manual requirement; the status does not move.
        assert_eq!(by_id.get("manual"), Some(&1));
        assert_eq!(status_of(&result, "manual"), RequirementStatus::Manual);
    }

    #[test]
    fn a_finding_fails_a_requirement_even_if_its_control_is_missing_from_the_map() {
        let fw = framework(vec![req("r", &["PAL-101"])]);
        let result = score(&fw, &[finding("PAL-101")], &BTreeMap::new());
        assert_eq!(status_of(&result, "r"), RequirementStatus::Fail);
        assert_eq!(result.score, Some(0.0));
    }

    #[test]
    fn score_is_rounded_to_one_decimal() {
        // 2 passed, 1 failed: 66.666… → 66.7.
        let fw = framework(vec![
            req("a", &["PAL-101"]),
            req("b", &["PAL-102"]),
            req("c", &["PAL-103"]),
        ]);
        let applicable = ran(&[("PAL-101", 1), ("PAL-102", 1), ("PAL-103", 1)]);
        let result = score(&fw, &[finding("PAL-103")], &applicable);
        assert_eq!(result.score, Some(66.7));

        // 1 passed, 2 failed: 33.333… → 33.3.
        let result = score(&fw, &[finding("PAL-102"), finding("PAL-103")], &applicable);
        assert_eq!(result.score, Some(33.3));

        assert_eq!(percentage(1, 0), Some(100.0));
        assert_eq!(percentage(0, 1), Some(0.0));
        assert_eq!(percentage(5, 3), Some(62.5));
        // 1/7 = 14.2857… → 14.3; 1/8 = 12.5 exactly.
        assert_eq!(percentage(1, 6), Some(14.3));
        assert_eq!(percentage(1, 7), Some(12.5));
    }

    #[test]
    fn score_is_none_when_nothing_passed_or_failed() {
        let mut manual = req("manual", &["PAL-101"]);
        manual.manual = true;
        let fw = framework(vec![manual, req("na", &["PAL-102"])]);
        let result = score(&fw, &[], &ran(&[("PAL-101", 4)]));
        assert_eq!(result.score, None);
        assert_eq!(result.counts.get(&RequirementStatus::Manual), Some(&1));
        assert_eq!(
            result.counts.get(&RequirementStatus::NotApplicable),
            Some(&1)
        );
        assert_eq!(result.counts.get(&RequirementStatus::Pass), Some(&0));

        let empty = score(&framework(Vec::new()), &[], &BTreeMap::new());
        assert_eq!(empty.score, None);
        assert!(empty.requirements.is_empty());
        assert_eq!(empty.counts.values().sum::<usize>(), 0);
    }

    #[test]
    fn findings_of_unmapped_controls_do_not_count() {
        let fw = framework(vec![req("r", &["PAL-101"])]);
        let result = score(&fw, &[finding("PAL-999")], &ran(&[("PAL-101", 1)]));
        assert_eq!(status_of(&result, "r"), RequirementStatus::Pass);
        assert_eq!(result.score, Some(100.0));
    }
}
