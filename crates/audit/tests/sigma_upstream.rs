//! The 16 SigmaHQ Kubernetes audit rules, unchanged: they all load, the load reports exactly
//! the fields and values that can never match, and each rule fires on the events it
//! describes and on no other.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use palisade_audit::sigma::{Level, SigmaRules};
use palisade_audit::{Alert, Detector, Event, Origin};
use palisade_model::Severity;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/sigma");

fn upstream() -> SigmaRules {
    let (rules, _) = SigmaRules::load(&[Path::new(DATA).join("rules")]);
    rules
}

fn event_file(name: &str) -> Event {
    let path = Path::new(DATA).join("events").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let line = text.lines().next().unwrap();
    palisade_audit::event::parse(line, &Origin::new(name, 1))
        .unwrap()
        .remove(0)
}

fn event_json(text: &str) -> Event {
    palisade_audit::event::parse(text, &Origin::new("inline", 1))
        .unwrap()
        .remove(0)
}

fn fired(rules: &mut SigmaRules, event: &Event) -> BTreeSet<String> {
    let mut alerts = Vec::new();
    rules.observe(event, &mut alerts);
    alerts.into_iter().map(|a| a.rule).collect()
}

const ADMISSION: &str = "Kubernetes Admission Controller Modification";
const CRONJOB: &str = "Kubernetes CronJob/Job Modification";
const DEPLOYMENT_DELETED: &str = "Deployment Deleted From Kubernetes Cluster";
const EVENTS_DELETED: &str = "Kubernetes Events Deleted";
const EXEC: &str = "Potential Remote Command Execution In Pod Container";
const HOSTPATH: &str = "Container With A hostPath Mount Created";
const SYSTEM_NAMESPACE: &str = "Creation Of Pod In System Namespace";
const ENUMERATION: &str = "Kubernetes Potential Enumeration Activity";
const PRIVILEGED: &str = "Privileged Container Deployed";
const RBAC_LISTING: &str = "RBAC Permission Enumeration Attempt";
const ROLEBINDING: &str = "Kubernetes Rolebinding Modification";
const SECRETS_LIST: &str = "Kubernetes Secrets Enumeration";
const SECRETS_CHANGED: &str = "Kubernetes Secrets Modified or Deleted";
const SA_CREATED: &str = "New Kubernetes Service Account Created";
const SIDECAR: &str = "Potential Sidecar Injection Into Running Deployment";
const UNAUTHORIZED: &str = "Kubernetes Unauthorized or Unauthenticated Access";

const ALL_RULES: [&str; 16] = [
    ADMISSION,
    CRONJOB,
    DEPLOYMENT_DELETED,
    EVENTS_DELETED,
    EXEC,
    HOSTPATH,
    SYSTEM_NAMESPACE,
    ENUMERATION,
    PRIVILEGED,
    RBAC_LISTING,
    ROLEBINDING,
    SECRETS_LIST,
    SECRETS_CHANGED,
    SA_CREATED,
    SIDECAR,
    UNAUTHORIZED,
];

/// An event and exactly the rules that must fire on it.
struct Case {
    name: &'static str,
    event: Event,
    fires: &'static [&'static str],
}

fn file(name: &'static str, fires: &'static [&'static str]) -> Case {
    Case {
        name,
        event: event_file(name),
        fires,
    }
}

fn inline(name: &'static str, json: &str, fires: &'static [&'static str]) -> Case {
    Case {
        name,
        event: event_json(json),
        fires,
    }
}

fn cases() -> Vec<Case> {
    vec![
        // Real events (Falco's trace files, Panther's rule tests).
        file("falco_exec_pod.json", &[EXEC]),
        file("falco_create_secret.json", &[SECRETS_CHANGED]),
        file("falco_delete_secret.json", &[SECRETS_CHANGED]),
        file("falco_delete_deployment.json", &[DEPLOYMENT_DELETED]),
        file(
            "falco_create_pod_kube_system_namespace.json",
            &[SYSTEM_NAMESPACE],
        ),
        file("falco_create_nginx_pod_unprivileged.json", &[]),
        file("falco_create_serviceaccount.json", &[SA_CREATED]),
        file("falco_create_clusterrolebinding.json", &[ROLEBINDING]),
        file("falco_create_configmap.json", &[]),
        // A privileged pod and a pod mounting the host's /etc: the upstream rules name fields
        // that audit events do not have, so they miss both (the load warns about it).
        file("falco_create_nginx_pod_privileged.json", &[]),
        file("falco_create_nginx_pod_sensitive_mount.json", &[]),
        file(
            "panther_eks_mutatingwebhookconfiguration_created.json",
            &[ADMISSION],
        ),
        file("panther_eks_secret_get_forbidden.json", &[UNAUTHORIZED]),
        file("panther_eks_cluster_wide_secret_list.json", &[SECRETS_LIST]),
        // Panther's minimal event has no objectRef.apiGroup, which the CronJob rule requires.
        file("panther_cronjob_creation_failed.json", &[UNAUTHORIZED]),
        // Hand-made events in the shape the API server writes.
        inline(
            "validating webhook patched",
            r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"1","stage":"ResponseComplete","requestURI":"/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/policy","verb":"patch","user":{"username":"kubernetes-admin","groups":["kubeadm:cluster-admins","system:authenticated"]},"sourceIPs":["172.18.0.1"],"userAgent":"kubectl/v1.30.0","objectRef":{"resource":"validatingwebhookconfigurations","name":"policy","apiGroup":"admissionregistration.k8s.io","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200}}"#,
            &[ADMISSION],
        ),
        inline(
            "webhook configurations read",
            r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"list","requestURI":"/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations","user":{"username":"system:kube-controller-manager"},"objectRef":{"resource":"mutatingwebhookconfigurations","apiGroup":"admissionregistration.k8s.io","apiVersion":"v1"},"responseStatus":{"code":200}}"#,
            &[],
        ),
        inline(
            "cronjob created",
            r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"create","requestURI":"/apis/batch/v1/namespaces/default/cronjobs","user":{"username":"alice"},"objectRef":{"resource":"cronjobs","namespace":"default","name":"backup","apiGroup":"batch","apiVersion":"v1"},"responseStatus":{"code":201}}"#,
            &[CRONJOB],
        ),
        inline(
            "jobs listed",
            r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"list","requestURI":"/apis/batch/v1/jobs","user":{"username":"alice"},"objectRef":{"resource":"jobs","apiGroup":"batch","apiVersion":"v1"},"responseStatus":{"code":200}}"#,
            &[],
        ),
        inline(
            "event deleted",
            r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"delete","requestURI":"/api/v1/namespaces/default/events/web.17c1","user":{"username":"mallory"},"objectRef":{"resource":"events","namespace":"default","name":"web.17c1","apiVersion":"v1"},"responseStatus":{"code":200}}"#,
            &[EVENTS_DELETED],
        ),
        inline(
            "event recorded",
            r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"create","requestURI":"/api/v1/namespaces/default/events","user":{"username":"system:node:kind-worker"},"objectRef":{"resource":"events","namespace":"default","apiVersion":"v1"},"responseStatus":{"code":201}}"#,
            &[],
        ),
        inline(
            "pod logs read",
            r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"get","requestURI":"/api/v1/namespaces/default/pods/web/log","user":{"username":"alice"},"objectRef":{"resource":"pods","namespace":"default","name":"web","subresource":"log","apiVersion":"v1"},"responseStatus":{"code":200}}"#,
            &[],
        ),
        inline(
            "rolebindings listed",
            r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"list","requestURI":"/apis/rbac.authorization.k8s.io/v1/rolebindings","user":{"username":"alice"},"objectRef":{"resource":"rolebindings","apiGroup":"rbac.authorization.k8s.io","apiVersion":"v1"},"responseStatus":{"code":200}}"#,
            &[],
        ),
        inline(
            "service account deleted",
            r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"delete","requestURI":"/api/v1/namespaces/default/serviceaccounts/ci","user":{"username":"alice"},"objectRef":{"resource":"serviceaccounts","namespace":"default","name":"ci","apiVersion":"v1"},"responseStatus":{"code":200}}"#,
            &[],
        ),
        inline(
            "unauthenticated request",
            r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseStarted","verb":"get","requestURI":"/api/v1/secrets","user":{"username":"system:anonymous","groups":["system:unauthenticated"]},"sourceIPs":["198.51.100.7"],"responseStatus":{"code":401}}"#,
            &[UNAUTHORIZED],
        ),
        // What the API server writes for `kubectl auth can-i --list` and for a patched
        // deployment: the group is objectRef.apiGroup, so the upstream rules (apiGroup) miss.
        inline(
            "self subject rules review",
            r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"create","requestURI":"/apis/authorization.k8s.io/v1/selfsubjectrulesreviews","user":{"username":"alice"},"objectRef":{"resource":"selfsubjectrulesreviews","apiGroup":"authorization.k8s.io","apiVersion":"v1"},"responseStatus":{"code":201}}"#,
            &[],
        ),
        inline(
            "deployment patched",
            r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"patch","requestURI":"/apis/apps/v1/namespaces/default/deployments/web","user":{"username":"alice"},"objectRef":{"resource":"deployments","namespace":"default","name":"web","apiGroup":"apps","apiVersion":"v1"},"responseStatus":{"code":200}}"#,
            &[],
        ),
        // Exec running /bin/bash succeeds with code 101, never the string ALLOW.
        inline(
            "exec of /bin/bash",
            r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseStarted","verb":"create","requestURI":"/api/v1/namespaces/default/pods/web/exec?command=%2Fbin%2Fbash&container=web&stdin=true&tty=true","user":{"username":"alice"},"userAgent":"trufflehog/3.0","objectRef":{"resource":"pods","namespace":"default","name":"web","subresource":"exec","apiVersion":"v1"},"responseStatus":{"code":101},"annotations":{"authorization.k8s.io/decision":"allow"}}"#,
            &[EXEC],
        ),
        // Not real audit events: fields placed where the upstream rules look for them, to show
        // the rules are evaluated as written.
        inline(
            "synthetic: top-level hostPath and capabilities",
            r#"{"kind":"Event","verb":"create","objectRef":{"resource":"pods","namespace":"default"},"hostPath":"/etc","capabilities":"SYS_ADMIN","responseStatus":{"code":201}}"#,
            &[HOSTPATH, PRIVILEGED],
        ),
        inline(
            "synthetic: top-level apiGroup",
            r#"{"kind":"Event","verb":"create","apiGroup":"authorization.k8s.io","objectRef":{"resource":"selfsubjectrulesreviews"},"responseStatus":{"code":201}}"#,
            &[RBAC_LISTING],
        ),
        inline(
            "synthetic: top-level apiGroup on a patch",
            r#"{"kind":"Event","verb":"patch","apiGroup":"apps","objectRef":{"resource":"deployments","namespace":"default"},"responseStatus":{"code":200}}"#,
            &[SIDECAR],
        ),
        inline(
            "synthetic: response code ALLOW and a scanner user agent",
            r#"{"kind":"Event","verb":"list","requestURI":"/api/v1/secrets","userAgent":"TruffleHog/3.63","objectRef":{"resource":"configmaps"},"responseStatus":{"code":"ALLOW"}}"#,
            &[ENUMERATION],
        ),
        inline(
            "synthetic: response code ALLOW and a shell in the URI",
            r#"{"kind":"Event","verb":"get","requestURI":"/api/v1/namespaces/x/pods/p/exec?command=%2Fbin%2Fsh","objectRef":{"resource":"pods"},"responseStatus":{"code":"ALLOW"}}"#,
            &[ENUMERATION],
        ),
        inline(
            "synthetic: response code ALLOW and nothing else",
            r#"{"kind":"Event","verb":"get","requestURI":"/api/v1/namespaces","userAgent":"kubectl/v1.30","objectRef":{"resource":"namespaces"},"responseStatus":{"code":"ALLOW"}}"#,
            &[],
        ),
    ]
}

#[test]
fn all_sixteen_rules_load_with_five_warnings() {
    let (rules, diagnostics) = SigmaRules::load(&[Path::new(DATA).join("rules")]);
    assert_eq!(rules.rule_count(), 16);
    let titles: BTreeSet<&str> = rules.titles().collect();
    assert_eq!(titles, ALL_RULES.into_iter().collect());
    assert!(
        diagnostics.iter().all(|d| d.level == Level::Warning),
        "{diagnostics:#?}"
    );
    let found: Vec<(String, Option<u32>, &str)> = diagnostics
        .iter()
        .map(|d| {
            let file = Path::new(&d.file)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let what = ["hostPath", "capabilities", "apiGroup", "\"ALLOW\""]
                .into_iter()
                .find(|w| d.message.contains(&format!("field {w} ")) || d.message.contains(w))
                .unwrap_or("?");
            (file, d.line, what)
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "kubernetes_audit_hostpath_mount.yml".to_string(),
                Some(24),
                "hostPath"
            ),
            (
                "kubernetes_audit_potential_enumeration_activity.yml".to_string(),
                Some(24),
                "\"ALLOW\""
            ),
            (
                "kubernetes_audit_privileged_pod_creation.yml".to_string(),
                Some(26),
                "capabilities"
            ),
            (
                "kubernetes_audit_rbac_permisions_listing.yml".to_string(),
                Some(24),
                "apiGroup"
            ),
            (
                "kubernetes_audit_sidecar_injection.yml".to_string(),
                Some(24),
                "apiGroup"
            ),
        ]
    );
    let text: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
    assert!(
        text[0].contains("never matches; did you mean requestObject.spec.volumes.hostPath"),
        "{}",
        text[0]
    );
    assert!(
        text[1].contains("responseStatus.code is an integer in audit events"),
        "{}",
        text[1]
    );
    assert!(
        text[3].contains("did you mean objectRef.apiGroup?"),
        "{}",
        text[3]
    );
}

#[test]
fn each_rule_fires_exactly_on_its_events() {
    let mut rules = upstream();
    let cases = cases();
    for case in &cases {
        let expected: BTreeSet<String> = case.fires.iter().map(|s| s.to_string()).collect();
        assert_eq!(fired(&mut rules, &case.event), expected, "{}", case.name);
    }
    // Every rule has a case it fires on and one it must not fire on.
    for title in ALL_RULES {
        assert!(
            cases.iter().any(|c| c.fires.contains(&title)),
            "no positive case for {title}"
        );
        let negative = cases.iter().any(|c| {
            !c.fires.contains(&title)
                && !c.name.starts_with("synthetic")
                && similar(&c.event, title)
        });
        assert!(negative, "no realistic negative case for {title}");
    }
}

/// A negative case counts if it is about the same kind of object as the rule (so it tests the
/// rule's other conditions, not just a resource name).
fn similar(event: &Event, title: &str) -> bool {
    let resource = event.resource().unwrap_or_default();
    match title {
        ADMISSION => resource.ends_with("webhookconfigurations") || resource == "configmaps",
        CRONJOB => matches!(resource, "cronjobs" | "jobs"),
        DEPLOYMENT_DELETED | SIDECAR => resource == "deployments",
        EVENTS_DELETED => resource == "events",
        EXEC | HOSTPATH | PRIVILEGED | SYSTEM_NAMESPACE => resource == "pods",
        ENUMERATION => event.request_uri().is_some_and(|u| u.contains("bash")),
        RBAC_LISTING => resource == "selfsubjectrulesreviews",
        ROLEBINDING => resource.ends_with("rolebindings"),
        SECRETS_LIST | SECRETS_CHANGED => resource == "secrets",
        SA_CREATED => resource == "serviceaccounts",
        UNAUTHORIZED => event.response_code().is_some(),
        _ => false,
    }
}

#[test]
fn alerts_carry_the_rules_metadata() {
    let mut rules = upstream();
    let event = event_file("panther_eks_secret_get_forbidden.json");
    let mut alerts: Vec<Alert> = Vec::new();
    rules.observe(&event, &mut alerts);
    let alert = &alerts[0];
    assert_eq!(alert.rule, UNAUTHORIZED);
    assert_eq!(alert.engine, palisade_audit::Engine::Sigma);
    assert_eq!(alert.priority, "low");
    assert_eq!(alert.severity, Severity::Low);
    assert_eq!(
        alert.message,
        "Kubernetes Unauthorized or Unauthenticated Access: Detects when a request to the \
         Kubernetes API is rejected due to lack of authorization or due to an expired \
         authentication token being used."
    );
    assert_eq!(alert.tags, ["attack.privilege-escalation"]);
    assert!(alert.attack.is_empty());
    assert_eq!(alert.identity.user.as_deref(), Some("attacker@example.com"));
    assert_eq!(alert.target.name.as_deref(), Some("db-password"));
    assert_eq!(
        alert.origin.as_deref(),
        Some("panther_eks_secret_get_forbidden.json:1")
    );
    assert_eq!(alert.events.len(), 1);

    let mut alerts = Vec::new();
    rules.observe(&event_file("falco_exec_pod.json"), &mut alerts);
    assert_eq!(alerts[0].priority, "medium");
    assert_eq!(alerts[0].severity, Severity::Medium);
    assert_eq!(alerts[0].attack, ["T1609"]);
    assert!(
        alerts[0]
            .message
            .ends_with("using e.g. the \"kubectl exec\" command."),
        "{}",
        alerts[0].message
    );

    let mut alerts = Vec::new();
    rules.observe(
        &event_file("panther_eks_mutatingwebhookconfiguration_created.json"),
        &mut alerts,
    );
    assert_eq!(alerts[0].attack, ["T1078", "T1552", "T1552.007"]);
}

#[test]
fn a_single_rule_file_loads_too() {
    let path: PathBuf = Path::new(DATA).join("rules/kubernetes_audit_exec_into_container.yml");
    let (rules, diagnostics) = SigmaRules::load(&[path]);
    assert_eq!(rules.rule_count(), 1);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
}

/// Runs the 16 rules over 200,000 events (the cases above, repeated; 20,000 in debug builds)
/// and checks the alert count; prints the rates (`cargo test --release -- --nocapture` for real figures): with
/// every case (two in three raise an alert, which copies the event), and with only the cases
/// no rule fires on (the cost of evaluating the rules).
#[test]
fn two_hundred_thousand_events_in_one_pass() {
    let mut rules = upstream();
    let cases = cases();
    let quiet: Vec<&Case> = cases.iter().filter(|c| c.fires.is_empty()).collect();
    let all: Vec<&Case> = cases.iter().collect();
    for (label, set) in [("all cases", all), ("no alert", quiet)] {
        let per_round: usize = set.iter().map(|c| c.fires.len()).sum();
        let target = if cfg!(debug_assertions) {
            20_000
        } else {
            200_000
        };
        let rounds = target / set.len() + 1;
        let mut alerts = Vec::new();
        let mut total = 0;
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            for case in &set {
                rules.observe(&case.event, &mut alerts);
            }
            total += alerts.len();
            alerts.clear();
        }
        let elapsed = start.elapsed();
        assert_eq!(total, per_round * rounds, "{label}");
        let events = rounds * set.len();
        println!(
            "{label}: {events} events, {total} alerts, {:.0} events/s",
            events as f64 / elapsed.as_secs_f64()
        );
    }
}

/// The code block after `<!-- example: NAME -->` in the user documentation.
fn doc_block(doc: &str, name: &str) -> String {
    let marker = format!("<!-- example: {name} -->");
    let after = &doc[doc.find(&marker).unwrap() + marker.len()..];
    let start = after.find("```").unwrap();
    let body = &after[start..];
    let body = &body[body.find('\n').unwrap() + 1..];
    body[..body.find("```").unwrap()].to_string()
}

#[test]
fn the_documented_example_and_warnings_are_true() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/audit/sigma.md"
    ))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("example.yml");
    std::fs::write(&path, doc_block(&doc, "rule")).unwrap();
    let (mut rules, diagnostics) = SigmaRules::load(&[path]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let event = palisade_audit::event::parse(
        doc_block(&doc, "event").trim(),
        &Origin::new("audit.log", 42),
    )
    .unwrap()
    .remove(0);
    let mut alerts = Vec::new();
    rules.observe(&event, &mut alerts);
    let mut alert = serde_json::to_value(&alerts[0]).unwrap();
    assert_eq!(alert["events"][0], *event.json());
    alert.as_object_mut().unwrap().remove("events");
    let documented: serde_json::Value = serde_json::from_str(&doc_block(&doc, "alert")).unwrap();
    assert_eq!(alert, documented);

    // The upstream warnings, as the documentation prints them.
    let (_, diagnostics) = SigmaRules::load(&[Path::new(DATA).join("rules")]);
    let printed: Vec<String> = diagnostics
        .iter()
        .map(|d| d.to_string().replace(&format!("{DATA}/"), ""))
        .collect();
    for line in &printed {
        assert!(
            doc.contains(line.as_str()),
            "not in the documentation: {line}"
        );
    }
}
