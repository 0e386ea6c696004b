//! `palisade scan --cluster` against a real kube-apiserver loaded with real manifests.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test helpers may fail loudly

use palisade_testkit::{TestCluster, root};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

const DATA: &str = "crates/cli/tests/data/cluster";

fn palisade(args: &[&str], kubeconfig: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_palisade"));
    command.args(args).current_dir(root()).env("NO_COLOR", "1");
    match kubeconfig {
        Some(path) => command.env("KUBECONFIG", path),
        None => command.env_remove("KUBECONFIG"),
    };
    command.output().expect("run palisade")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn load_corpus(cluster: &TestCluster) {
    for file in [
        "online-boutique.yaml",
        "sock-shop.yaml",
        "ingress-nginx.yaml",
    ] {
        let text = std::fs::read_to_string(root().join(DATA).join(file)).unwrap();
        cluster.apply(&text);
    }
    let dir = root().join(DATA).join("voting-app");
    cluster.kubectl_ok(&["apply", "--server-side", "-f", dir.to_str().unwrap()]);
}

/// `Kind/namespace/name` of every object of a report's findings and of a kind.
fn objects(report: &Value, kind: &str) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["object"])
        .filter(|o| o["kind"] == kind)
        .map(|o| {
            let ns = o["namespace"].as_str().unwrap_or("default");
            format!(
                "{}/{ns}/{}",
                o["kind"].as_str().unwrap(),
                o["name"].as_str().unwrap()
            )
        })
        .collect()
}

/// `control Kind/namespace/name` for findings on workloads, for the controls a live object
/// answers as its manifest does (not the namespace controls, not image pull policy, which
/// the API server defaults).
fn workload_findings(report: &Value) -> BTreeSet<String> {
    let differ = ["PAL-901", "PAL-902", "PAL-403"];
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            matches!(
                f["object"]["kind"].as_str(),
                Some("Deployment" | "StatefulSet" | "DaemonSet" | "Job")
            ) && !differ.contains(&f["controlId"].as_str().unwrap())
        })
        .map(|f| {
            let o = &f["object"];
            let ns = o["namespace"].as_str().unwrap_or("default");
            format!(
                "{} {}/{ns}/{} {}",
                f["controlId"].as_str().unwrap(),
                o["kind"].as_str().unwrap(),
                o["name"].as_str().unwrap(),
                f["location"]["pointer"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn live_scan_finds_what_the_manifests_say() {
    let cluster = TestCluster::start();
    load_corpus(&cluster);
    let kubeconfig = Some(cluster.kubeconfig());

    let files = json(&palisade(
        &["scan", DATA, "-f", "json", "--fail-on", "none"],
        None,
    ));
    let live = palisade(
        &["scan", "--cluster", "-f", "json", "--fail-on", "none"],
        kubeconfig,
    );
    assert!(
        live.status.success(),
        "{}",
        String::from_utf8_lossy(&live.stderr)
    );
    let live = json(&live);
    assert_eq!(live["summary"]["cluster"], "palisade-test");

    // Every Deployment of the manifests is read back, and judged the same.
    let deployments = objects(&files, "Deployment");
    assert!(deployments.len() > 20, "{deployments:?}");
    assert!(deployments.is_subset(&objects(&live, "Deployment")));
    let expected = workload_findings(&files);
    let found = workload_findings(&live);
    assert!(expected.len() > 100, "{}", expected.len());
    let missing: Vec<_> = expected.difference(&found).collect();
    let extra: Vec<_> = found.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}\nextra {extra:?}"
    );

    // Live objects are located by API address and field, not by line.
    let finding = live["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["object"]["name"] == "front-end" && f["object"]["kind"] == "Deployment")
        .expect("a finding on sock-shop's front-end");
    assert_eq!(
        finding["location"]["file"],
        "cluster://palisade-test/apis/apps/v1/namespaces/sock-shop/deployments/front-end"
    );
    assert_eq!(finding["location"]["line"], 0);

    // Pages of two objects read the same objects as pages of 500.
    let paged = json(&palisade(
        &[
            "scan",
            "--cluster",
            "--chunk-size",
            "2",
            "-f",
            "json",
            "--fail-on",
            "none",
        ],
        kubeconfig,
    ));
    assert_eq!(paged["summary"]["objects"], live["summary"]["objects"]);
    assert_eq!(paged["findings"], live["findings"]);

    // One namespace: its objects and its Namespace, nothing else.
    let one = json(&palisade(
        &[
            "scan",
            "--cluster",
            "-n",
            "sock-shop",
            "-f",
            "json",
            "--fail-on",
            "none",
        ],
        kubeconfig,
    ));
    let namespaces: BTreeSet<&str> = one["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["object"]["namespace"].as_str().unwrap_or("(cluster)"))
        .collect();
    assert_eq!(namespaces, BTreeSet::from(["sock-shop", "(cluster)"]));
    assert!(objects(&one, "Deployment").contains("Deployment/sock-shop/front-end"));
    assert!(objects(&one, "Namespace").contains("Namespace/default/sock-shop"));

    // The table names the cluster and shows fields instead of lines.
    let table = palisade(
        &["scan", "--cluster", "-n", "sock-shop", "--fail-on", "none"],
        kubeconfig,
    );
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("in cluster palisade-test"), "{text}");
    assert!(
        text.contains("cluster://palisade-test/apis/apps/v1/namespaces/sock-shop/deployments/front-end Deployment/sock-shop/front-end"),
        "{text}"
    );
    assert!(text.contains("/spec/template/spec/containers/0"), "{text}");
}

#[test]
fn secret_values_never_reach_the_report() {
    let cluster = TestCluster::start();
    // Client-side apply keeps a copy of the data in the last-applied annotation.
    cluster.kubectl_ok(&["create", "namespace", "vault"]);
    let secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: vault}\nstringData: {password: hunter2-very-secret}\n";
    let out = cluster.kubectl_with_input(&["apply", "-f", "-"], Some(secret));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = palisade(
        &[
            "scan",
            "--cluster",
            "-n",
            "vault",
            "-f",
            "json",
            "--fail-on",
            "none",
        ],
        Some(cluster.kubeconfig()),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let encoded = "aHVudGVyMi12ZXJ5LXNlY3JldA=="; // base64 of the password
    assert!(
        !text.contains("hunter2") && !text.contains(encoded),
        "{text}"
    );
    // PAL-804 still sees that the annotation repeats the data, by key.
    assert!(
        text.contains("repeats the Secret's data (keys password)"),
        "{text}"
    );
}

#[test]
fn limited_credentials_scan_what_they_may_and_say_what_they_may_not() {
    let cluster = TestCluster::start();
    load_corpus(&cluster);
    cluster.apply(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: workload-reader}\nrules:\n- apiGroups: ['', apps]\n  resources: [pods, services, namespaces, deployments, statefulsets, daemonsets]\n  verbs: [get, list]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: auditor-reads-workloads}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: workload-reader}\nsubjects:\n- {apiGroup: rbac.authorization.k8s.io, kind: User, name: auditor}\n",
    );
    let limited = cluster.user_kubeconfig("auditor", &["auditors"]);
    let out = palisade(
        &["scan", "--cluster", "-f", "json", "--fail-on", "none"],
        Some(&limited),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("not allowed to list"), "{stderr}");
    assert!(stderr.contains("secrets"), "{stderr}");
    let report = json(&out);
    assert!(objects(&report, "Deployment").contains("Deployment/sock-shop/front-end"));
    assert!(objects(&report, "ClusterRole").is_empty());
    let notices = report["notices"].as_array().unwrap();
    assert!(
        notices.iter().any(|n| n["message"]
            .as_str()
            .unwrap()
            .starts_with("cannot list secrets: Forbidden (403)")),
        "{notices:?}"
    );
}

#[test]
fn connection_problems_are_clear_errors() {
    let cluster = TestCluster::start();
    let kubeconfig = Some(cluster.kubeconfig());
    let out = palisade(&["scan", "--cluster", "--context", "nope"], kubeconfig);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no context \"nope\" (contexts: palisade-test)"),
        "{stderr}"
    );

    let out = palisade(&["scan", "--cluster", "-n", "missing"], kubeconfig);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("namespace \"missing\" does not exist"));

    // Neither a kubeconfig nor a pod.
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["scan", "--cluster"])
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no cluster credentials"), "{stderr}");

    // A server that is gone.
    let saved = home.path().join("kubeconfig");
    std::fs::copy(cluster.kubeconfig(), &saved).unwrap();
    drop(cluster);
    let out = palisade(&["scan", "--cluster"], Some(&saved));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot reach the API server at https://127.0.0.1:"),
        "{stderr}"
    );
}

#[test]
fn live_scan_runs_policies_with_the_clusters_namespaces_and_parameters() {
    let cluster = TestCluster::start();
    // The replica limit's parameter lives in the cluster, not in the policy files; the
    // binding skips namespaces labelled environment=dev, which only the cluster knows.
    cluster.apply(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: platform-policies}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: sandbox, labels: {environment: dev}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: replica-limit, namespace: platform-policies}\ndata: {maxReplicas: \"3\"}\n",
    );
    for ns in ["shop", "sandbox"] {
        cluster.apply(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api, namespace: {ns}}}\nspec:\n  replicas: 5\n  selector: {{matchLabels: {{app: api}}}}\n  template:\n    metadata: {{labels: {{app: api}}}}\n    spec:\n      containers: [{{name: a, image: registry.example/api:1.0}}]\n"
        ));
    }
    // Only the policy and its binding: the ConfigMap of the example is not passed.
    let dir = tempfile::tempdir().unwrap();
    let example =
        std::fs::read_to_string(root().join("examples/policies/replica-limit/policy.yaml"))
            .unwrap();
    let policy_only: Vec<&str> = example
        .split("\n---\n")
        .filter(|doc| !doc.lines().any(|l| l == "kind: ConfigMap"))
        .collect();
    let policy = dir.path().join("replica-limit.yaml");
    std::fs::write(&policy, policy_only.join("\n---\n")).unwrap();
    let out = palisade(
        &[
            "scan",
            "--cluster",
            "--policy",
            policy.to_str().unwrap(),
            "-f",
            "json",
            "--fail-on",
            "none",
        ],
        Some(cluster.kubeconfig()),
    );
    let report = json(&out);
    let found: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["controlId"] == "ValidatingAdmissionPolicy/replica-limit")
        .map(|f| {
            format!(
                "{} {}",
                f["object"]["namespace"].as_str().unwrap_or(""),
                f["message"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{found:?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        found[0].starts_with("shop replicas 5 is above the limit of 3"),
        "{found:?}"
    );
}

/// In a pod, kube clients read the service account from a fixed path. The test gives the
/// scanner that path in a private mount namespace (an unprivileged user namespace), with a
/// real token the API server issued for a ServiceAccount that may read workloads but not
/// secrets.
#[test]
fn in_cluster_credentials_are_the_pods_service_account() {
    let cluster = TestCluster::start();
    cluster.apply(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: scanners}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: palisade, namespace: scanners}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: palisade-reader}\nrules:\n- apiGroups: ['']\n  resources: [pods, namespaces, services, configmaps, serviceaccounts]\n  verbs: [get, list]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: palisade-reads}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: palisade-reader}\nsubjects:\n- {kind: ServiceAccount, name: palisade, namespace: scanners}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: root-shell, namespace: scanners}\nspec:\n  containers:\n  - name: shell\n    image: busybox:1.36\n    securityContext: {privileged: true}\n",
    );
    let token = cluster.kubectl_ok(&["create", "token", "palisade", "-n", "scanners"]);
    let account = tempfile::tempdir().unwrap();
    std::fs::write(account.path().join("token"), token.trim()).unwrap();
    std::fs::copy(
        cluster.dir().join("pki/ca.crt"),
        account.path().join("ca.crt"),
    )
    .unwrap();
    std::fs::write(account.path().join("namespace"), "scanners").unwrap();

    let server = cluster.server();
    let port = server.rsplit(':').next().unwrap();
    let home = tempfile::tempdir().unwrap();
    let mount = format!(
        "mount -t tmpfs tmpfs /run && mkdir -p {dir} && mount --bind {account} {dir} && exec \"$0\" \"$@\"",
        dir = "/run/secrets/kubernetes.io/serviceaccount",
        account = account.path().display(),
    );
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", &mount])
        .arg(env!("CARGO_BIN_EXE_palisade"))
        .args(["scan", "--cluster", "-f", "json", "--fail-on", "none"])
        .current_dir(root())
        .env_remove("KUBECONFIG")
        .env("HOME", home.path())
        .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        .env("KUBERNETES_SERVICE_PORT", port)
        .env("NO_COLOR", "1")
        .output()
        .expect("unshare (util-linux) runs the scanner in its own mount namespace");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report = json(&out);
    assert_eq!(report["summary"]["cluster"], "in-cluster", "{report}");
    let privileged: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["controlId"] == "PAL-101" && f["object"]["name"] == "root-shell")
        .collect();
    assert_eq!(privileged.len(), 1, "{}", report["findings"]);
    assert_eq!(
        privileged[0]["location"]["file"],
        "cluster://in-cluster/api/v1/namespaces/scanners/pods/root-shell"
    );
    // It may not read secrets: the scan says so and goes on.
    assert!(stderr.contains("not allowed to list"), "{stderr}");
    assert!(stderr.contains("secrets"), "{stderr}");
}
