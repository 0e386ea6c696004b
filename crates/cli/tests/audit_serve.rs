//! `palisade audit serve` as a process: killed with SIGKILL under load it loses and repeats
//! no acknowledged event; and fed by a real kube-apiserver's audit webhook (batch mode,
//! mutual TLS), it sees the events of kubectl actions and raises the alerts of the pack, the
//! upstream Falco rules and the SigmaHQ rules for them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test helpers may fail loudly

use palisade_testkit::{Certificates, TestCluster, free_port};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_palisade"))
}

/// A `palisade audit serve --echo-events` process with its alerts in `alerts.jsonl`.
struct Serve {
    child: Child,
    port: u16,
    dir: PathBuf,
    log: PathBuf,
}

impl Serve {
    fn start(dir: &Path, certs: &Certificates, port: u16, args: &[&str]) -> Serve {
        let log = dir.join(format!(
            "serve-{}.log",
            std::fs::read_dir(dir).unwrap().count()
        ));
        let child = Command::new(bin())
            .args(["audit", "serve", "--echo-events", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--tls-cert")
            .arg(certs.file("tls.crt"))
            .arg("--tls-key")
            .arg(certs.file("tls.key"))
            .arg("--state-dir")
            .arg(dir.join("state"))
            .arg("--output")
            .arg(dir.join("alerts.jsonl"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start palisade audit serve");
        let serve = Serve {
            child,
            port,
            dir: dir.to_path_buf(),
            log,
        };
        for _ in 0..100 {
            if serve.curl(certs, "/healthz", &[]).0 == "200" {
                return serve;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("palisade audit serve did not start:\n{}", serve.log_text());
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// `curl` a path: the status (`000` when there was no answer) and the body.
    fn curl(&self, certs: &Certificates, path: &str, args: &[&str]) -> (String, String) {
        let out = Command::new("curl")
            .args([
                "-sS",
                "--max-time",
                "20",
                "-w",
                "\n%{http_code}",
                "--cacert",
            ])
            .arg(certs.file("ca.crt"))
            .arg(format!("{}{path}", self.url()))
            .args(args)
            .output()
            .expect("curl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
        (code.to_string(), body.to_string())
    }

    fn metric(&self, certs: &Certificates, name: &str) -> Option<f64> {
        let (code, body) = self.curl(certs, "/metrics", &[]);
        (code == "200").then_some(())?;
        body.lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The echoed events' auditIDs, with how often each was echoed.
    fn echoed(&self) -> HashMap<String, usize> {
        let text = std::fs::read_to_string(self.dir.join("alerts.jsonl")).unwrap_or_default();
        let mut counts = HashMap::new();
        // Complete lines only: the server may be writing the next one.
        for line in text
            .split_inclusive('\n')
            .filter_map(|l| l.strip_suffix('\n'))
        {
            let alert: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("a broken alert line {line:?}: {e}"));
            // The detections run too; only the echo is one alert per event.
            if alert["rule"] != "echo" {
                continue;
            }
            let id = alert["events"][0]["auditID"].as_str().unwrap().to_string();
            *counts.entry(id).or_default() += 1;
        }
        counts
    }

    fn alerts(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.dir.join("alerts.jsonl")).unwrap_or_default();
        text.split_inclusive('\n')
            .filter_map(|l| l.strip_suffix('\n'))
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// SIGTERM, and the exit status.
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        self.child.wait().unwrap()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn batch(ids: &[String]) -> String {
    let items: Vec<String> = ids
        .iter()
        .map(|id| format!(r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"{id}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/shop/secrets","verb":"list","user":{{"username":"mallory","groups":["system:authenticated"]}},"sourceIPs":["10.0.0.9"],"objectRef":{{"resource":"secrets","namespace":"shop","apiVersion":"v1"}},"responseStatus":{{"metadata":{{}},"code":200}},"requestReceivedTimestamp":"2026-01-01T00:00:00.000000Z","stageTimestamp":"2026-01-01T00:00:00.002000Z"}}"#))
        .collect();
    format!(
        r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{{}},"items":[{}]}}"#,
        items.join(",")
    )
}

/// How each posted batch was answered.
#[derive(Default)]
struct Ledger {
    acknowledged: Vec<String>,
    unanswered: Vec<String>,
    refused: Vec<String>,
}

#[test]
fn every_acknowledged_event_is_analysed_exactly_once_after_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let certs = Certificates::new(&dir.path().join("pki"));
    let port = free_port();
    // Small segments, so that the load also rotates and deletes segments.
    let args = ["--segment-size", "1"];
    let serve = Serve::start(dir.path(), &certs, port, &args);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let running = Arc::new(AtomicBool::new(true));
    let mut clients = Vec::new();
    for t in 0..6 {
        let (ledger, running) = (Arc::clone(&ledger), Arc::clone(&running));
        let url = format!("{}/audit", serve.url());
        let ca = certs.file("ca.crt");
        let body = dir.path().join(format!("batch-{t}.json"));
        clients.push(std::thread::spawn(move || {
            let mut b = 0;
            while running.load(Ordering::Relaxed) {
                let ids: Vec<String> = (0..50).map(|e| format!("t{t}-b{b}-e{e}")).collect();
                std::fs::write(&body, batch(&ids)).unwrap();
                let out = Command::new("curl")
                    .args([
                        "-sS",
                        "-o",
                        "/dev/null",
                        "--max-time",
                        "20",
                        "-w",
                        "%{http_code}",
                    ])
                    .args(["-H", "Content-Type: application/json", "--cacert"])
                    .arg(&ca)
                    .arg("--data-binary")
                    .arg(format!("@{}", body.display()))
                    .arg(&url)
                    .output()
                    .unwrap();
                let code = String::from_utf8_lossy(&out.stdout).to_string();
                let mut ledger = ledger.lock().unwrap();
                match code.as_str() {
                    "200" => ledger.acknowledged.extend(ids),
                    "000" => ledger.unanswered.extend(ids),
                    _ => ledger.refused.extend(ids),
                }
                b += 1;
            }
        }));
    }
    // Kill it mid-load.
    std::thread::sleep(Duration::from_millis(2500));
    let mut serve = serve;
    serve.child.kill().unwrap();
    serve.child.wait().unwrap();
    running.store(false, Ordering::Relaxed);
    for client in clients {
        client.join().unwrap();
    }
    let ledger = std::mem::take(&mut *ledger.lock().unwrap());
    let before = serve.echoed().values().sum::<usize>();
    drop(serve);

    let serve = Serve::start(dir.path(), &certs, port, &args);
    let mut drained = false;
    for _ in 0..300 {
        if serve.metric(&certs, "palisade_audit_backlog_bytes") == Some(0.0) {
            drained = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(drained, "the backlog never drained:\n{}", serve.log_text());
    let log = serve.log_text();
    let echoed = serve.echoed();
    assert!(serve.terminate().success());
    eprintln!(
        "acknowledged {} events, unanswered {}, refused {}; {before} echoed before the kill, {} after restart",
        ledger.acknowledged.len(),
        ledger.unanswered.len(),
        ledger.refused.len(),
        echoed.values().sum::<usize>()
    );
    assert!(log.contains("journal recovered"), "{log}");
    assert!(
        ledger.acknowledged.len() >= 1000,
        "too little load to mean anything"
    );
    let repeated: Vec<_> = echoed.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "analysed more than once: {repeated:?}");
    let missing: Vec<_> = ledger
        .acknowledged
        .iter()
        .filter(|id| !echoed.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged events never analysed, such as {:?}",
        missing.len(),
        missing.first()
    );
    // Only batches the kill cut off before their answer may be in the journal unacknowledged
    // (written and synced, the 200 not yet sent); nothing refused is ever analysed.
    let acknowledged: HashSet<&String> = ledger.acknowledged.iter().collect();
    let unanswered: HashSet<&String> = ledger.unanswered.iter().collect();
    let strays: Vec<_> = echoed
        .keys()
        .filter(|id| !acknowledged.contains(id) && !unanswered.contains(id))
        .collect();
    assert!(
        strays.is_empty(),
        "analysed but never acknowledged: {strays:?}"
    );
}

/// The pod `privileged`, privileged.
const PRIVILEGED_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: privileged, namespace: default}\nspec:\n  containers:\n  - name: app\n    image: registry.example/app:1.0\n    securityContext: {privileged: true}\n";

/// The auditIDs of the ResponseComplete events of the administrator's requests in the
/// cluster's own audit log that `wanted` accepts.
fn logged(cluster: &TestCluster, wanted: impl Fn(&serde_json::Value) -> bool) -> Vec<String> {
    let text = std::fs::read_to_string(cluster.dir().join("audit.log")).unwrap();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| {
            e["stage"] == "ResponseComplete"
                && e["user"]["username"] == "palisade-admin"
                && wanted(e)
        })
        .map(|e| e["auditID"].as_str().unwrap().to_string())
        .collect()
}

/// A request's verb, resource, namespace (`None`: all namespaces) and name (`None`: any).
fn request<'a>(
    verb: &'a str,
    resource: &'a str,
    namespace: Option<&'a str>,
    name: Option<&'a str>,
) -> impl Fn(&serde_json::Value) -> bool + 'a {
    move |e| {
        let object = &e["objectRef"];
        e["verb"] == verb
            && object["resource"] == resource
            && object["namespace"].as_str() == namespace
            && name.is_none_or(|n| object["name"] == n)
    }
}

const FALCO_RULES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../audit/tests/data/falco/k8s_audit_rules.yaml"
);
const SIGMA_RULES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../audit/tests/data/sigma/rules"
);

/// The (engine, rule) pairs of the alerts about the event `id`, after checking that each
/// names the administrator and the object the event was about.
fn raised(
    alerts: &[serde_json::Value],
    id: &str,
    resource: &str,
    name: Option<&str>,
) -> HashSet<(String, String)> {
    let mut rules = HashSet::new();
    for alert in alerts.iter().filter(|a| a["events"][0]["auditID"] == id) {
        let rule = alert["rule"].as_str().unwrap().to_string();
        assert_eq!(
            alert["identity"]["user"], "palisade-admin",
            "{rule}: {alert}"
        );
        assert_eq!(alert["target"]["resource"], resource, "{rule}: {alert}");
        if let Some(name) = name {
            assert_eq!(alert["target"]["name"], name, "{rule}: {alert}");
        }
        rules.insert((alert["engine"].as_str().unwrap().to_string(), rule));
    }
    rules
}

/// Asserts that every expected (engine, rule) was raised.
fn expect(what: &str, raised: &HashSet<(String, String)>, expected: &[(&str, &str)]) {
    for (engine, rule) in expected {
        assert!(
            raised.contains(&(engine.to_string(), rule.to_string())),
            "{what}: no {engine} alert {rule:?}; raised: {raised:?}"
        );
    }
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_api_server_audit_webhook_delivers_kubectl_actions_and_their_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let certs = Certificates::new(&dir.path().join("pki"));
    certs.issue(
        "apiserver-client",
        "/CN=kube-apiserver",
        "extendedKeyUsage=clientAuth",
    );
    let ca = certs.file("ca.crt");
    // The pack runs by default; the upstream Falco and SigmaHQ rules beside it.
    let serve = Serve::start(
        dir.path(),
        &certs,
        free_port(),
        &[
            "--client-ca",
            ca.to_str().unwrap(),
            "--falco-rules",
            FALCO_RULES,
            "--sigma",
            SIGMA_RULES,
        ],
    );
    let cluster = TestCluster::start_with_audit_webhook(
        &format!("{}/audit", serve.url()),
        &ca,
        Some((
            &certs.file("apiserver-client.crt"),
            &certs.file("apiserver-client.key"),
        )),
    );
    cluster.kubectl_ok(&[
        "create",
        "clusterrolebinding",
        "mallory-admin",
        "--clusterrole=cluster-admin",
        "--user=mallory",
    ]);
    ok(&cluster.kubectl_with_input(&["create", "-f", "-"], Some(PRIVILEGED_POD)));
    cluster.kubectl_ok(&[
        "create",
        "secret",
        "generic",
        "db",
        "--from-literal=password=s3cr3t",
    ]);
    cluster.kubectl_ok(&["get", "secret", "db", "-n", "default"]);
    cluster.kubectl_ok(&["get", "secrets", "-n", "default"]);
    cluster.kubectl_ok(&["get", "secrets", "--all-namespaces"]);

    let binding = logged(
        &cluster,
        request("create", "clusterrolebindings", None, Some("mallory-admin")),
    );
    let pod = logged(
        &cluster,
        request("create", "pods", Some("default"), Some("privileged")),
    );
    let secret = logged(
        &cluster,
        request("get", "secrets", Some("default"), Some("db")),
    );
    let secrets = logged(&cluster, request("list", "secrets", Some("default"), None));
    let all_secrets = logged(&cluster, request("list", "secrets", None, None));
    for (what, ids) in [
        ("binding", &binding),
        ("pod", &pod),
        ("secret", &secret),
        ("secrets", &secrets),
        ("all secrets", &all_secrets),
    ] {
        assert_eq!(ids.len(), 1, "{what}: {ids:?}");
    }
    let wanted: Vec<&String> = [
        &binding[0],
        &pod[0],
        &secret[0],
        &secrets[0],
        &all_secrets[0],
    ]
    .into();
    let mut arrived = false;
    for _ in 0..200 {
        let echoed = serve.echoed();
        if wanted.iter().all(|id| echoed.contains_key(*id)) {
            arrived = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        arrived,
        "the kubectl actions' events never arrived:\n{}",
        serve.log_text()
    );
    let alerts = serve.alerts();
    let event = |id: &str| -> serde_json::Value {
        alerts
            .iter()
            .find(|a| a["events"][0]["auditID"] == id)
            .map(|a| a["events"][0].clone())
            .unwrap()
    };
    // The audit policy logs request bodies, which the binding and pod rules read.
    let binding_event = event(&binding[0]);
    assert_eq!(binding_event["verb"], "create");
    assert_eq!(
        binding_event["requestObject"]["roleRef"]["name"],
        "cluster-admin"
    );
    assert_eq!(
        binding_event["requestObject"]["subjects"][0]["name"],
        "mallory"
    );
    let pod_event = event(&pod[0]);
    assert_eq!(
        pod_event["requestObject"]["spec"]["containers"][0]["securityContext"]["privileged"],
        true
    );
    assert_eq!(event(&secrets[0])["verb"], "list");

    let on_binding = raised(
        &alerts,
        &binding[0],
        "clusterrolebindings",
        Some("mallory-admin"),
    );
    expect(
        "cluster-admin binding",
        &on_binding,
        &[
            ("palisade", "PAL-A130"),
            ("falco", "Attach to cluster-admin Role"),
            ("falco", "K8s ClusterRoleBinding Created"),
            ("sigma", "Kubernetes Rolebinding Modification"),
        ],
    );
    let binding_alert = |engine: &str| {
        alerts
            .iter()
            .find(|a| {
                a["events"][0]["auditID"] == binding[0].as_str()
                    && a["engine"] == engine
                    && a["rule"] != "echo"
            })
            .unwrap()
    };
    // Falco's output names the subject; the pack's message the role and the subject.
    let falco = binding_alert("falco")["message"].as_str().unwrap();
    assert!(falco.contains("mallory"), "{falco}");
    let pack = &alerts
        .iter()
        .find(|a| a["events"][0]["auditID"] == binding[0].as_str() && a["rule"] == "PAL-A130")
        .unwrap()["message"];
    let pack = pack.as_str().unwrap();
    assert!(
        pack.contains("cluster-admin") && pack.contains("mallory"),
        "{pack}"
    );

    // Sigma's privileged-container rule reads a field audit events never have, so only the
    // pack and Falco see this one.
    let on_pod = raised(&alerts, &pod[0], "pods", Some("privileged"));
    expect(
        "privileged pod",
        &on_pod,
        &[("palisade", "PAL-A110"), ("falco", "Create Privileged Pod")],
    );
    let pod_alert = alerts
        .iter()
        .find(|a| a["events"][0]["auditID"] == pod[0].as_str() && a["rule"] == "PAL-A110")
        .unwrap();
    assert_eq!(pod_alert["severity"], "high");
    assert_eq!(pod_alert["target"]["namespace"], "default");

    let on_secret = raised(&alerts, &secret[0], "secrets", Some("db"));
    expect(
        "secret read",
        &on_secret,
        &[("falco", "K8s Secret Get Successfully")],
    );
    let on_secrets = raised(&alerts, &secrets[0], "secrets", None);
    expect(
        "secrets listed in a namespace",
        &on_secrets,
        &[("sigma", "Kubernetes Secrets Enumeration")],
    );
    let on_all = raised(&alerts, &all_secrets[0], "secrets", None);
    expect(
        "secrets listed in all namespaces",
        &on_all,
        &[
            ("palisade", "PAL-A140"),
            ("sigma", "Kubernetes Secrets Enumeration"),
        ],
    );
    // Listing in one namespace is routine for the pack; across all of them it is not.
    assert!(
        !on_secrets.contains(&("palisade".to_string(), "PAL-A140".to_string())),
        "PAL-A140 on a list in one namespace: {on_secrets:?}"
    );

    // Everything the API server sent was acknowledged, and certified.
    let (_, metrics) = serve.curl(&certs, "/metrics", &[]);
    assert!(!metrics.contains("result=\"unauthorized\""), "{metrics}");
    assert!(
        serve
            .metric(&certs, "palisade_audit_events_acknowledged_total")
            .unwrap()
            > 10.0
    );
    let echoed = serve.echoed();
    assert!(
        echoed.values().all(|n| *n == 1),
        "an event was analysed twice"
    );
    drop(cluster);
    assert!(serve.terminate().success());
}
