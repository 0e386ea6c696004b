//! The pack against public data: Panther's labelled tests (recall on the rules the pack
//! covers, false positives on their negatives) and a benign cluster's audit log.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_audit::pack::Pack;
use palisade_audit::{Alert, Detector, Origin, event};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// Panther rule → the pack detection that covers it.
const COVERS: &[(&str, &str)] = &[
    ("Kubernetes.Pod.Exec", "PAL-A101"),
    ("Kubernetes.Pod.StealServiceAccountToken", "PAL-A105"),
    ("Kubernetes.Kubectl.CP.Operation", "PAL-A107"),
    ("Kubernetes.Pod.Privileged.Created", "PAL-A110"),
    ("Kubernetes.Pod.HostPath.Volume", "PAL-A111"),
    ("Kubernetes.Pod.Host.PID", "PAL-A112"),
    ("Kubernetes.Pod.Host.IPC", "PAL-A112"),
    ("Kubernetes.Pod.Host.Network", "PAL-A113"),
    ("Kubernetes.Pod.Dangerous.Capabilities", "PAL-A114"),
    ("Kubernetes.Pod.SystemNamespace", "PAL-A116"),
    ("Kubernetes.DaemonSet.Created", "PAL-A117"),
    ("Kubernetes.CronJob.CreatedOrModified", "PAL-A118"),
    ("Kubernetes.Service.NodePort.Deployed", "PAL-A121"),
    ("Kubernetes.ClusterRoleBinding.Privileged", "PAL-A130"),
    ("Kubernetes.Role.Wildcard", "PAL-A131"),
    ("Kubernetes.Role.PodExec", "PAL-A132"),
    ("Kubernetes.Role.NodeProxyPermissions", "PAL-A132"),
    ("Kubernetes.SystemRole.Modified", "PAL-A133"),
    ("Kubernetes.ClientCertificate.Created", "PAL-A136"),
    ("Kubernetes.Secrets.DumpAllNamespaces", "PAL-A140"),
    ("Kubernetes.Secret.AccessDenied", "PAL-A141"),
    ("Kubernetes.ServiceAccount.TokenCreated", "PAL-A142"),
    ("Kubernetes.API.AnonymousAccess", "PAL-A150"),
    ("Amazon.EKS.AnonymousAPIAccess", "PAL-A150"),
    ("Kubernetes.AdmissionController.Created", "PAL-A153"),
];

fn alerts_for(text: &str) -> Result<Vec<Alert>, String> {
    let events = event::parse(text, &Origin::new("panther", 1)).map_err(|e| e.to_string())?;
    let mut pack = Pack::default();
    let mut alerts = Vec::new();
    for e in &events {
        pack.observe(e, &mut alerts);
    }
    pack.finish(&mut alerts);
    Ok(alerts)
}

#[derive(Default)]
struct Row {
    tp: usize,
    fn_: usize,
    tn: usize,
    fp: usize,
    skipped: usize,
}

#[test]
fn panther_labelled_tests() {
    let covers: BTreeMap<&str, &str> = COVERS.iter().copied().collect();
    let mut table: BTreeMap<String, Row> = BTreeMap::new();
    let (mut no_event, mut not_parsed, mut other_rules) = (0, Vec::new(), 0);
    let mut misses = Vec::new();
    for (n, line) in include_str!("data/corpus/panther-labelled-events.jsonl")
        .lines()
        .enumerate()
    {
        let test: Value = serde_json::from_str(line).unwrap();
        let rule = test["rule_id"].as_str().unwrap();
        let Some(&ours) = covers.get(rule) else {
            other_rules += 1;
            continue;
        };
        let row = table.entry(format!("{rule} -> {ours}")).or_default();
        // GCP AuditLog entries are not audit.k8s.io events: there is no inner event to run.
        let Some(inner) = test.get("k8s_event").filter(|v| v.is_object()) else {
            row.skipped += 1;
            no_event += 1;
            continue;
        };
        let alerts = match alerts_for(&inner.to_string()) {
            Ok(a) => a,
            Err(e) => {
                not_parsed.push(format!("line {}: {e}", n + 1));
                row.skipped += 1;
                continue;
            }
        };
        let fired = alerts.iter().any(|a| a.rule == ours);
        let name = test["test_name"].as_str().unwrap_or("");
        match (test["expected"].as_bool().unwrap(), fired) {
            (true, true) => row.tp += 1,
            (true, false) => {
                row.fn_ += 1;
                misses.push(format!("FN {rule}: {name}"));
            }
            (false, false) => row.tn += 1,
            (false, true) => {
                row.fp += 1;
                misses.push(format!("FP {rule}: {name}"));
            }
        }
    }
    let sum = |f: fn(&Row) -> usize| table.values().map(f).sum::<usize>();
    let (tp, fn_, tn, fp) = (sum(|r| r.tp), sum(|r| r.fn_), sum(|r| r.tn), sum(|r| r.fp));
    println!(
        "{:<66} {:>3} {:>3} {:>3} {:>3} {:>4}",
        "Panther rule -> pack detection", "TP", "FN", "TN", "FP", "skip"
    );
    for (name, r) in &table {
        println!(
            "{name:<66} {:>3} {:>3} {:>3} {:>3} {:>4}",
            r.tp, r.fn_, r.tn, r.fp, r.skipped
        );
    }
    let recall = tp as f64 / (tp + fn_) as f64;
    println!(
        "covered rules {}; recall {tp}/{} = {recall:.3}; false positives {fp}/{}; skipped: {no_event} without an audit event, {} not parsed; {other_rules} tests of uncovered rules",
        table.len(),
        tp + fn_,
        tn + fp,
        not_parsed.len()
    );
    for m in &misses {
        println!("  {m}");
    }
    for p in &not_parsed {
        println!("  not an event: {p}");
    }
    // Floors measured on this data (see docs/audit/pack.md); a drop is a regression.
    assert!(recall >= 0.89, "recall {recall:.3}");
    assert!(fp <= 6, "false positives {fp}");
    assert!(
        tp + fn_ >= 57 && tn + fp >= 68,
        "fewer tests ran than measured"
    );
}

/// One row of the benign CSV (no header): cluster, time, user, verb, resource,
/// subresource, name, (empty), requestURI, auditID, stage, code, and three empty columns.
fn csv_row(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

fn namespace_of(uri: &str) -> Option<&str> {
    let path = uri.split('?').next()?;
    let rest = path.split("/namespaces/").nth(1)?;
    let ns = rest.split('/').next()?;
    // `/api/v1/namespaces/x` names the namespace object itself, not one inside it.
    rest.contains('/').then_some(ns)
}

/// An audit event from a flattened row, as the API server would have written it at
/// Metadata level.
fn event_of(f: &[String]) -> Value {
    let opt = |s: &String| (!s.is_empty()).then(|| s.clone());
    let mut object = serde_json::Map::new();
    for (key, value) in [("resource", &f[4]), ("subresource", &f[5]), ("name", &f[6])] {
        if let Some(v) = opt(value) {
            object.insert(key.into(), v.into());
        }
    }
    if let Some(ns) = namespace_of(&f[8]).filter(|_| !f[4].is_empty()) {
        object.insert("namespace".into(), ns.into());
    }
    json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
        "auditID": f[9], "stage": f[10], "requestURI": f[8], "verb": f[3],
        "user": {"username": f[2]},
        "objectRef": if object.is_empty() { Value::Null } else { Value::Object(object) },
        "responseStatus": {"code": f[11].parse::<i64>().unwrap()},
        "requestReceivedTimestamp": f[1],
    })
}

#[test]
fn benign_cluster_log() {
    let text = include_str!("data/corpus/hkerma_audit-logs.csv");
    let mut events = Vec::new();
    let mut malformed = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let fields = csv_row(line);
        if fields.len() != 15 {
            malformed.push(format!("line {}: {} columns", n + 1, fields.len()));
            continue;
        }
        let text = event_of(&fields).to_string();
        events.extend(
            event::parse(&text, &Origin::new("hkerma_audit-logs.csv", n as u64 + 1)).unwrap(),
        );
    }
    // The source file ends in a truncated row.
    assert_eq!(malformed, ["line 16564: 10 columns"]);
    assert_eq!(events.len(), 16_563);

    let mut pack = Pack::default();
    let mut alerts = Vec::new();
    let started = Instant::now();
    for e in &events {
        pack.observe(e, &mut alerts);
    }
    pack.finish(&mut alerts);
    let elapsed = started.elapsed();
    let mut by_rule: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for a in &alerts {
        by_rule
            .entry(&a.rule)
            .or_default()
            .insert(a.message.clone());
    }
    println!(
        "benign: {} events, {} alerts ({:.0} events/s in this build)",
        events.len(),
        alerts.len(),
        events.len() as f64 / elapsed.as_secs_f64()
    );
    for (rule, messages) in &by_rule {
        for m in messages {
            println!("  {rule} {m}");
        }
    }
    // Measured: every alert here is an administrator installing Helm charts (see the docs).
    assert!(alerts.len() <= 7, "{} alerts on a benign log", alerts.len());
    assert!(
        alerts
            .iter()
            .all(|a| a.severity <= palisade_model::Severity::Medium),
        "a high alert on benign data"
    );
}
