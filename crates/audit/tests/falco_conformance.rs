//! Falco's own k8s_audit test suite (57 cases from falcosecurity/falco's
//! `test/falco_k8s_audit_tests.yaml`, with its traces and override rule files), run against
//! today's upstream `k8s_audit_rules.yaml`. Every case runs; every difference from the
//! historical expectation is mapped (renamed rules) or explained in [`EXPLAINED`], and the
//! tally is printed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_audit::falco::FalcoRules;
use palisade_audit::{Detector, Origin, event};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/falco")
}

/// Rules renamed since the suite was written: old name, today's name for that trace.
const RENAMED: &[(&str, &str)] = &[
    // Split into separate Role and ClusterRole rules; the traces create/delete a ClusterRole.
    ("K8s Role/Clusterrole Created", "K8s ClusterRole Created"),
    ("K8s Role/Clusterrole Deleted", "K8s ClusterRole Deleted"),
    // Split into RoleBinding and ClusterRoleBinding rules; the trace creates a ClusterRoleBinding.
    (
        "K8s Role/Clusterrolebinding Created",
        "K8s ClusterRoleBinding Created",
    ),
];

/// Lists renamed since the suite was written. `trust_nginx_container.yaml` appends to the old
/// names; for cases that run today's k8s_audit rules it is read with today's names.
const RENAMED_LISTS: &[(&str, &str)] = &[
    (
        "falco_sensitive_mount_images",
        "k8s_audit_sensitive_mount_images",
    ),
    ("falco_privileged_images", "k8s_audit_privileged_images"),
    ("falco_hostnetwork_images", "k8s_audit_hostnetwork_images"),
];

/// Load errors that today's Falco reports too, with why; any other load error fails the case.
const EXPECTED_LOAD_ERRORS: &[(&str, &str)] = &[
    (
        "list filter 'ka.req.role.rules.resources' only supports operators 'exists', 'in' and 'intersects'",
        "the 2019 engine_v4 rules file uses `contains` on a list field, which libsinsp now rejects; only that rule is dropped",
    ),
    (
        "list 'falco_hostnetwork_images': List uses 'append'",
        "compat_engine_v4 cases: no rules file defines falco_hostnetwork_images any more (it was in the 2019 falco_rules.yaml)",
    ),
    (
        "list 'falco_sensitive_mount_images': List uses 'append'",
        "compat_engine_v4 cases: no rules file defines falco_sensitive_mount_images any more (it was in the 2019 falco_rules.yaml)",
    ),
];

/// Cases whose outcome today differs from the historical expectation, and why. The test
/// fails if one of these starts passing (so the table stays true) or if any other case differs.
const EXPLAINED: &[(&str, &str)] = &[(
    "compat_engine_v4_create_hostnetwork_trusted_pod",
    "the 2019 engine_v4 rule trusts images in falco_hostnetwork_images, a list no rules file defines today, so appending nginx to it fails and the pod is not trusted (today's Falco gives the same)",
)];

struct Case {
    name: String,
    files: Vec<PathBuf>,
    trace: PathBuf,
    detect: bool,
    counts: BTreeMap<String, usize>,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(data().join("falco_k8s_audit_tests.yaml")).unwrap();
    // `!mux` is an Avocado test-runner tag, meaningless here.
    let text = text.replace("!mux", "");
    let parsed = palisade_loader::parse(&text, palisade_loader::Limits::default());
    assert!(parsed.error.is_none(), "{:?}", parsed.error);
    let root = &parsed.documents[0].value["trace_files"];
    let mut out = Vec::new();
    for (name, case) in root.as_object().unwrap() {
        let files = case["rules_file"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| rules_path(f.as_str().unwrap()))
            .collect();
        let opts = case["addl_cmdline_opts"].as_str().unwrap();
        let trace = opts.rsplit("trace_files/k8s_audit/").next().unwrap();
        let mut counts = BTreeMap::new();
        for entry in case
            .get("detect_counts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for (rule, n) in entry.as_object().unwrap() {
                counts.insert(rule.clone(), usize::try_from(n.as_u64().unwrap()).unwrap());
            }
        }
        out.push(Case {
            name: name.clone(),
            files,
            trace: data().join("traces").join(trace),
            detect: case["detect"].as_bool().unwrap(),
            counts,
        });
    }
    out
}

fn rules_path(file: &str) -> PathBuf {
    if file.ends_with("/falco_rules.yaml") {
        data().join("falco_rules.yaml")
    } else if file.ends_with("k8saudit-rules/k8s_audit_rules.yaml") {
        data().join("k8s_audit_rules.yaml")
    } else {
        data().join(file.trim_start_matches("./"))
    }
}

/// Runs a case: the alerts per rule, and the load errors.
fn run(case: &Case) -> (BTreeMap<String, usize>, Vec<String>) {
    let modern = !case.name.starts_with("compat_engine_v4");
    let texts: Vec<(String, String)> = case
        .files
        .iter()
        .map(|path| {
            let mut text = std::fs::read_to_string(path).unwrap();
            if modern && path.ends_with("trust_nginx_container.yaml") {
                for (old, new) in RENAMED_LISTS {
                    text = text.replace(old, new);
                }
            }
            (path.display().to_string(), text)
        })
        .collect();
    let refs: Vec<(&str, &str)> = texts
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let loaded = FalcoRules::load_texts(&refs);
    let errors = loaded
        .errors
        .iter()
        .map(ToString::to_string)
        .filter(|e| {
            !EXPECTED_LOAD_ERRORS
                .iter()
                .any(|(known, _)| e.contains(known))
        })
        .collect();
    let mut rules = loaded.rules;
    let text = std::fs::read_to_string(&case.trace).unwrap();
    let mut alerts = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let origin = Origin::new(
            case.trace.display().to_string(),
            u64::try_from(i + 1).unwrap(),
        );
        for ev in event::parse(line, &origin).unwrap() {
            rules.observe(&ev, &mut alerts);
        }
    }
    let mut counts = BTreeMap::new();
    for alert in alerts {
        *counts.entry(alert.rule).or_insert(0) += 1;
    }
    (counts, errors)
}

/// Whether the outcome meets the case: with `detect`, each listed rule fires exactly as
/// often as listed (other rules may fire too, as in Falco's runner); without, nothing fires.
fn verdict(case: &Case, counts: &BTreeMap<String, usize>, errors: &[String]) -> Result<(), String> {
    if !errors.is_empty() {
        return Err(format!("load errors: {errors:#?}"));
    }
    if !case.detect {
        return if counts.is_empty() {
            Ok(())
        } else {
            Err(format!("expected no alerts, got {counts:?}"))
        };
    }
    for (rule, want) in &case.counts {
        let today = RENAMED
            .iter()
            .find(|(old, _)| old == rule)
            .map_or(rule.as_str(), |(_, new)| new);
        let got = counts.get(today).copied().unwrap_or(0);
        if got != *want {
            return Err(format!(
                "{today}: expected {want}, got {got} (all: {counts:?})"
            ));
        }
    }
    Ok(())
}

#[test]
fn falco_k8s_audit_suite() {
    let cases = cases();
    assert_eq!(cases.len(), 57);
    let (mut passed, mut explained, mut failed) = (0, 0, Vec::new());
    for case in &cases {
        let (counts, errors) = run(case);
        let outcome = verdict(case, &counts, &errors);
        let reason = EXPLAINED
            .iter()
            .find(|(name, _)| *name == case.name)
            .map(|(_, r)| *r);
        match (outcome, reason) {
            (Ok(()), None) => passed += 1,
            (Err(_), Some(reason)) => {
                println!("explained  {}: {reason}", case.name);
                explained += 1;
            }
            (Ok(()), Some(_)) => failed.push(format!(
                "{}: passes now; remove it from EXPLAINED",
                case.name
            )),
            (Err(why), None) => failed.push(format!("{}: {why}", case.name)),
        }
    }
    println!(
        "falco k8s_audit suite: {passed} passed, {explained} explained, {} failed (of {})",
        failed.len(),
        cases.len()
    );
    assert!(failed.is_empty(), "{failed:#?}");
}
