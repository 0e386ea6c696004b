//! Labelled evaluation of every engine on Panther's rule tests (panther-analysis, flattened
//! one test a line): for each Panther rule an engine maps, the tests where a mapped rule fires
//! or not against Panther's label; per-rule and micro-averaged precision and recall, the
//! coverage, and the alerts raised on tests of rules the engine does not map.
//!
//! `cargo test -p palisade-audit --test labelled -- --nocapture` prints the tables that
//! docs/audit/evaluation.md shows; the asserted floors are what was measured.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_audit::falco::FalcoRules;
use palisade_audit::pack::{self, Pack};
use palisade_audit::sigma::SigmaRules;
use palisade_audit::{Alert, Detector, Event, Origin, event};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
const TESTS_FILE: &str = "panther-labelled-events.jsonl";

/// A Panther rule and the engine's rules that detect the same behaviour.
type Mapping = &'static [(&'static str, &'static [&'static str])];

/// The pack: the detection written for that behaviour. Panther's threshold rules
/// (Multiple403, BulkSecretAccess) are not mapped to the pack's windows: each test is one
/// event, and a window needs many.
const PACK: Mapping = &[
    ("Amazon.EKS.AnonymousAPIAccess", &["PAL-A150"]),
    (
        "GCP.GKE.Kubernetes.Cron.Job.Created.Or.Modified",
        &["PAL-A118"],
    ),
    (
        "GCP.K8S.Pod.Create.Or.Modify.Host.Path.Volume.Mount",
        &["PAL-A111"],
    ),
    ("GCP.K8S.Privileged.Pod.Created", &["PAL-A110"]),
    ("GCP.K8S.Service.Type.NodePort.Deployed", &["PAL-A121"]),
    ("GCP.K8s.ExecIntoPod", &["PAL-A101"]),
    ("GCP.K8s.New.Daemonset.Deployed", &["PAL-A117"]),
    ("GCP.K8s.Pod.Attached.To.Node.Host.Network", &["PAL-A113"]),
    ("GCP.K8s.Pod.Using.Host.PID.Namespace", &["PAL-A112"]),
    ("Kubernetes.API.AnonymousAccess", &["PAL-A150"]),
    ("Kubernetes.AdmissionController.Created", &["PAL-A153"]),
    ("Kubernetes.ClientCertificate.Created", &["PAL-A136"]),
    ("Kubernetes.ClusterRoleBinding.Privileged", &["PAL-A130"]),
    ("Kubernetes.CronJob.CreatedOrModified", &["PAL-A118"]),
    ("Kubernetes.DaemonSet.Created", &["PAL-A117"]),
    ("Kubernetes.Kubectl.CP.Operation", &["PAL-A107"]),
    ("Kubernetes.Pod.Dangerous.Capabilities", &["PAL-A114"]),
    ("Kubernetes.Pod.Exec", &["PAL-A101"]),
    ("Kubernetes.Pod.Host.IPC", &["PAL-A112"]),
    ("Kubernetes.Pod.Host.Network", &["PAL-A113"]),
    ("Kubernetes.Pod.Host.PID", &["PAL-A112"]),
    ("Kubernetes.Pod.HostPath.Volume", &["PAL-A111"]),
    ("Kubernetes.Pod.Privileged.Created", &["PAL-A110"]),
    ("Kubernetes.Pod.StealServiceAccountToken", &["PAL-A105"]),
    ("Kubernetes.Pod.SystemNamespace", &["PAL-A116"]),
    ("Kubernetes.Role.NodeProxyPermissions", &["PAL-A132"]),
    ("Kubernetes.Role.PodExec", &["PAL-A132"]),
    ("Kubernetes.Role.Wildcard", &["PAL-A131"]),
    ("Kubernetes.Secret.AccessDenied", &["PAL-A141"]),
    ("Kubernetes.Secrets.DumpAllNamespaces", &["PAL-A140"]),
    ("Kubernetes.Service.NodePort.Deployed", &["PAL-A121"]),
    ("Kubernetes.ServiceAccount.TokenCreated", &["PAL-A142"]),
    ("Kubernetes.SystemRole.Modified", &["PAL-A133"]),
];

const EXEC: &str = "Attach/Exec Pod";

/// Falco's upstream k8s_audit rules. Falco has no rule for a token theft or a `kubectl cp`
/// in particular; its exec rule is the one that reports them.
const FALCO: Mapping = &[
    (
        "Amazon.EKS.AnonymousAPIAccess",
        &["Anonymous Request Allowed"],
    ),
    (
        "GCP.K8S.Pod.Create.Or.Modify.Host.Path.Volume.Mount",
        &["Create Sensitive Mount Pod"],
    ),
    ("GCP.K8S.Privileged.Pod.Created", &["Create Privileged Pod"]),
    (
        "GCP.K8S.Service.Type.NodePort.Deployed",
        &["Create NodePort Service"],
    ),
    ("GCP.K8s.ExecIntoPod", &[EXEC]),
    (
        "GCP.K8s.Pod.Attached.To.Node.Host.Network",
        &["Create HostNetwork Pod"],
    ),
    (
        "GCP.K8s.Pod.Using.Host.PID.Namespace",
        &["Create HostPid Pod"],
    ),
    (
        "Kubernetes.API.AnonymousAccess",
        &["Anonymous Request Allowed"],
    ),
    (
        "Kubernetes.BulkSecretAccess",
        &["K8s Secret Get Successfully"],
    ),
    (
        "Kubernetes.ClusterRoleBinding.Privileged",
        &["Attach to cluster-admin Role"],
    ),
    (
        "Kubernetes.Ingress.NoTLS",
        &["Ingress Object without TLS Certificate Created"],
    ),
    ("Kubernetes.Kubectl.CP.Operation", &[EXEC]),
    ("Kubernetes.Pod.Exec", &[EXEC]),
    ("Kubernetes.Pod.Host.IPC", &["Create HostIPC Pod"]),
    ("Kubernetes.Pod.Host.Network", &["Create HostNetwork Pod"]),
    ("Kubernetes.Pod.Host.PID", &["Create HostPid Pod"]),
    (
        "Kubernetes.Pod.HostPath.Volume",
        &["Create Sensitive Mount Pod"],
    ),
    (
        "Kubernetes.Pod.Privileged.Created",
        &["Create Privileged Pod"],
    ),
    ("Kubernetes.Pod.StealServiceAccountToken", &[EXEC]),
    (
        "Kubernetes.Pod.SystemNamespace",
        &["Pod Created in Kube Namespace"],
    ),
    (
        "Kubernetes.Role.PodExec",
        &["ClusterRole With Pod Exec Created"],
    ),
    (
        "Kubernetes.Role.Wildcard",
        &["ClusterRole With Wildcard Created"],
    ),
    (
        "Kubernetes.Role.WritePermissions",
        &["ClusterRole With Write Privileges Created"],
    ),
    (
        "Kubernetes.Secret.AccessDenied",
        &["K8s Secret Get Unsuccessfully Tried"],
    ),
    (
        "Kubernetes.Service.NodePort.Deployed",
        &["Create NodePort Service"],
    ),
    (
        "Kubernetes.SystemRole.Modified",
        &["System ClusterRole Modified/Deleted"],
    ),
];

const SIGMA_EXEC: &str = "Potential Remote Command Execution In Pod Container";
const SIGMA_PRIVILEGED: &str = "Privileged Container Deployed";
const SIGMA_HOSTPATH: &str = "Container With A hostPath Mount Created";
const SIGMA_CRONJOB: &str = "Kubernetes CronJob/Job Modification";
const SIGMA_SECRETS_LIST: &str = "Kubernetes Secrets Enumeration";
const SIGMA_DENIED: &str = "Kubernetes Unauthorized or Unauthenticated Access";

/// SigmaHQ's Kubernetes audit rules. Sigma's rules are per event and broad (any binding
/// change, any list of secrets, any 401/403), so each maps to the Panther rules whose
/// behaviour it includes.
const SIGMA: Mapping = &[
    ("Amazon.EKS.Audit.Multiple403", &[SIGMA_DENIED]),
    (
        "GCP.GKE.Kubernetes.Cron.Job.Created.Or.Modified",
        &[SIGMA_CRONJOB],
    ),
    (
        "GCP.K8S.Pod.Create.Or.Modify.Host.Path.Volume.Mount",
        &[SIGMA_HOSTPATH],
    ),
    ("GCP.K8S.Privileged.Pod.Created", &[SIGMA_PRIVILEGED]),
    ("GCP.K8s.ExecIntoPod", &[SIGMA_EXEC]),
    ("Kubernetes.API.Multiple403.PublicIP", &[SIGMA_DENIED]),
    (
        "Kubernetes.AdmissionController.Created",
        &["Kubernetes Admission Controller Modification"],
    ),
    ("Kubernetes.BulkSecretAccess", &[SIGMA_SECRETS_LIST]),
    (
        "Kubernetes.ClusterRoleBinding.Privileged",
        &["Kubernetes Rolebinding Modification"],
    ),
    ("Kubernetes.CronJob.CreatedOrModified", &[SIGMA_CRONJOB]),
    ("Kubernetes.Kubectl.CP.Operation", &[SIGMA_EXEC]),
    ("Kubernetes.Pod.Exec", &[SIGMA_EXEC]),
    ("Kubernetes.Pod.HostPath.Volume", &[SIGMA_HOSTPATH]),
    ("Kubernetes.Pod.Privileged.Created", &[SIGMA_PRIVILEGED]),
    ("Kubernetes.Pod.StealServiceAccountToken", &[SIGMA_EXEC]),
    (
        "Kubernetes.Pod.SystemNamespace",
        &["Creation Of Pod In System Namespace"],
    ),
    ("Kubernetes.Secret.AccessDenied", &[SIGMA_DENIED]),
    (
        "Kubernetes.Secrets.DumpAllNamespaces",
        &[SIGMA_SECRETS_LIST],
    ),
];

/// One of Panther's tests: its rule, name, label and what reading its log gave.
struct Case {
    line: usize,
    rule: String,
    name: String,
    expected: bool,
    /// The log's events, or why it is not an audit event.
    events: Result<Vec<Event>, String>,
}

fn cases() -> Vec<Case> {
    let path = Path::new(DATA).join("corpus").join(TESTS_FILE);
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .enumerate()
        .map(|(n, line)| {
            let test: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{TESTS_FILE}:{}: {e}", n + 1));
            // `log` is what Panther's rule reads: a bare event, an AKS record or a GKE
            // Cloud Audit Log entry; the parser unwraps the envelopes.
            let log = test["log"].to_string();
            let origin = Origin::new(TESTS_FILE, n as u64 + 1);
            Case {
                line: n + 1,
                rule: test["rule_id"].as_str().unwrap().to_string(),
                name: test["test_name"].as_str().unwrap().to_string(),
                expected: test["expected"].as_bool().unwrap(),
                events: event::parse(&log, &origin).map_err(|e| e.to_string()),
            }
        })
        .collect()
}

/// The rules a detector raises on one test's events.
fn fired(detector: &mut dyn Detector, events: &[Event]) -> Vec<Alert> {
    let mut alerts = Vec::new();
    for e in events {
        detector.observe(e, &mut alerts);
    }
    detector.finish(&mut alerts);
    alerts
}

/// An engine under evaluation: its name, its mapping, its rule names, and how to run it on
/// one test (each test runs alone, so no window or state carries over).
struct Engine {
    name: &'static str,
    mapping: Mapping,
    rules: BTreeSet<String>,
    run: Run,
}

/// Runs an engine on one test's events.
type Run = Box<dyn FnMut(&[Event]) -> Vec<Alert>>;

fn pack_engine() -> Engine {
    Engine {
        name: "Palisade pack",
        mapping: PACK,
        rules: pack::detections()
            .iter()
            .map(|d| d.id.to_string())
            .collect(),
        run: Box::new(|events| fired(&mut Pack::default(), events)),
    }
}

fn falco_engine() -> Engine {
    let file = Path::new(DATA).join("falco/k8s_audit_rules.yaml");
    let (mut falco, _) = FalcoRules::load(&[file]).unwrap();
    Engine {
        name: "Falco k8s_audit rules",
        mapping: FALCO,
        rules: falco.rule_names().map(str::to_string).collect(),
        run: Box::new(move |events| fired(&mut falco, events)),
    }
}

fn sigma_engine() -> Engine {
    let (mut sigma, _) = SigmaRules::load(&[Path::new(DATA).join("sigma/rules")]);
    assert_eq!(sigma.rule_count(), 16);
    Engine {
        name: "SigmaHQ Kubernetes audit rules",
        mapping: SIGMA,
        rules: sigma.titles().map(str::to_string).collect(),
        run: Box::new(move |events| fired(&mut sigma, events)),
    }
}

#[derive(Default, Clone, Copy)]
struct Counts {
    tp: usize,
    fn_: usize,
    fp: usize,
    tn: usize,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.tp += other.tp;
        self.fn_ += other.fn_;
        self.fp += other.fp;
        self.tn += other.tn;
    }

    fn precision(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fp)
    }

    fn recall(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fn_)
    }
}

fn ratio(num: usize, den: usize) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn show(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.2}"))
}

/// What one engine did on every test.
#[derive(Default)]
struct Report {
    rows: BTreeMap<&'static str, Counts>,
    total: Counts,
    /// The tests it got wrong, and why where the log was no event.
    misses: Vec<String>,
    /// Alerts on tests of rules it does not map, by rule.
    other: BTreeMap<String, usize>,
    other_tests: usize,
}

fn evaluate(engine: &mut Engine, cases: &[Case]) -> Report {
    let mapping: BTreeMap<&str, &[&str]> = engine.mapping.iter().copied().collect();
    for ours in mapping.values().flat_map(|r| r.iter()) {
        // A renamed or missing rule would read as "never fires".
        assert!(
            engine.rules.contains(*ours),
            "{}: no rule {ours:?}",
            engine.name
        );
    }
    let mut report = Report::default();
    for case in cases {
        let alerts = match &case.events {
            Ok(events) => (engine.run)(events),
            Err(_) => Vec::new(),
        };
        let Some((&panther, ours)) = mapping.get_key_value(case.rule.as_str()) else {
            report.other_tests += 1;
            for a in alerts {
                *report.other.entry(a.rule).or_default() += 1;
            }
            continue;
        };
        let hit = alerts.iter().any(|a| ours.contains(&a.rule.as_str()));
        let row = report.rows.entry(panther).or_default();
        let (counts, miss) = match (case.expected, hit) {
            (true, true) => (
                Counts {
                    tp: 1,
                    ..Counts::default()
                },
                None,
            ),
            (true, false) => (
                Counts {
                    fn_: 1,
                    ..Counts::default()
                },
                Some("FN"),
            ),
            (false, true) => (
                Counts {
                    fp: 1,
                    ..Counts::default()
                },
                Some("FP"),
            ),
            (false, false) => (
                Counts {
                    tn: 1,
                    ..Counts::default()
                },
                None,
            ),
        };
        row.add(counts);
        report.total.add(counts);
        if let Some(kind) = miss {
            // Falco analyses only events of a given stage: say when Panther's has none.
            let why = match &case.events {
                Err(e) => format!(": {e}"),
                Ok(events) if events.iter().any(|e| e.stage().is_none()) => {
                    " [no stage]".to_string()
                }
                Ok(_) => String::new(),
            };
            report.misses.push(format!(
                "{kind} {} \"{}\" (line {}){why}",
                case.rule, case.name, case.line
            ));
        }
    }
    report
}

fn print(engine: &Engine, report: &Report, panther_rules: usize) {
    println!("\n### {}\n", engine.name);
    println!("| Panther rule | our rules | TP | FN | FP | TN | precision | recall |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    let mapping: BTreeMap<&str, &[&str]> = engine.mapping.iter().copied().collect();
    for (rule, c) in &report.rows {
        println!(
            "| {rule} | {} | {} | {} | {} | {} | {} | {} |",
            mapping[rule].join(", "),
            c.tp,
            c.fn_,
            c.fp,
            c.tn,
            show(c.precision()),
            show(c.recall())
        );
    }
    let t = report.total;
    println!(
        "| **total** (micro) | | {} | {} | {} | {} | {} | {} |",
        t.tp,
        t.fn_,
        t.fp,
        t.tn,
        show(t.precision()),
        show(t.recall())
    );
    println!(
        "\ncoverage: {} of {panther_rules} Panther rules mapped; {} tests of unmapped rules raised {} other alerts{}",
        report.rows.len(),
        report.other_tests,
        report.other.values().sum::<usize>(),
        if report.other.is_empty() {
            String::new()
        } else {
            let by_rule: Vec<String> = report
                .other
                .iter()
                .map(|(r, n)| format!("{r} ×{n}"))
                .collect();
            format!(" ({})", by_rule.join(", "))
        }
    );
    for m in &report.misses {
        println!("  {m}");
    }
}

/// What was measured, asserted as floors: true positives may only rise, false positives
/// only fall, and every test must still run.
struct Floor {
    tp: usize,
    fp: usize,
    tests: usize,
    mapped: usize,
    /// Alerts on tests of unmapped rules, at most.
    other: usize,
}

fn check(engine: &Engine, report: &Report, floor: &Floor) {
    let t = report.total;
    assert_eq!(
        t.tp + t.fn_ + t.fp + t.tn,
        floor.tests,
        "{}: tests of mapped rules",
        engine.name
    );
    assert_eq!(report.rows.len(), floor.mapped, "{}: mapped", engine.name);
    assert!(
        t.tp >= floor.tp,
        "{}: TP {} < {}",
        engine.name,
        t.tp,
        floor.tp
    );
    assert!(
        t.fp <= floor.fp,
        "{}: FP {} > {}",
        engine.name,
        t.fp,
        floor.fp
    );
    let other: usize = report.other.values().sum();
    assert!(
        other <= floor.other,
        "{}: {other} other alerts > {}",
        engine.name,
        floor.other
    );
}

#[test]
fn panther_labelled_tests_per_engine() {
    let cases = cases();
    assert_eq!(cases.len(), 202);
    let panther_rules: BTreeSet<&str> = cases.iter().map(|c| c.rule.as_str()).collect();
    let not_events: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            let e = c.events.as_ref().err()?;
            Some(format!("{} \"{}\": {e}", c.rule, c.name))
        })
        .collect();
    println!(
        "{} tests of {} Panther rules ({} positive); {} logs are not audit events:",
        cases.len(),
        panther_rules.len(),
        cases.iter().filter(|c| c.expected).count(),
        not_events.len()
    );
    for n in &not_events {
        println!("  {n}");
    }
    // Measured (docs/audit/evaluation.md); a drop is a regression.
    let floors = [
        (
            pack_engine(),
            Floor {
                tp: 73,
                fp: 7,
                tests: 159,
                mapped: 33,
                other: 1,
            },
        ),
        (
            falco_engine(),
            Floor {
                tp: 22,
                fp: 3,
                tests: 118,
                mapped: 26,
                other: 14,
            },
        ),
        (
            sigma_engine(),
            Floor {
                tp: 27,
                fp: 14,
                tests: 84,
                mapped: 18,
                other: 26,
            },
        ),
    ];
    for (engine, _) in &floors {
        for (panther, _) in engine.mapping {
            assert!(
                panther_rules.contains(panther),
                "{}: no Panther rule {panther}",
                engine.name
            );
        }
    }
    // Every table is printed before any floor is checked, so a failure shows them all.
    let reports: Vec<_> = floors
        .into_iter()
        .map(|(mut engine, floor)| {
            let report = evaluate(&mut engine, &cases);
            print(&engine, &report, panther_rules.len());
            (engine, report, floor)
        })
        .collect();
    for (engine, report, floor) in &reports {
        check(engine, report, floor);
    }
}
