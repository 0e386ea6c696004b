//! `palisade admission serve` in a real kube-apiserver's admission chain, and on its own
//! against hostile requests.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test helpers may fail loudly

use palisade_testkit::{Certificates, TestCluster, Webhook, root};
use std::path::Path;
use std::process::Output;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_palisade"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Validating (and, when `mutate`, mutating) webhook configurations pointing at the
/// webhook on loopback.
fn register(
    cluster: &TestCluster,
    webhook: &Webhook,
    certs: &Certificates,
    failure: &str,
    mutate: bool,
) {
    let rules = "  rules:\n  - {operations: [CREATE, UPDATE], apiGroups: [\"\", apps], apiVersions: [v1], resources: [pods, deployments], scope: Namespaced}\n  namespaceSelector:\n    matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [kube-system]}]\n  objectSelector:\n    matchExpressions: [{key: admission.palisade.dev/ignore, operator: DoesNotExist}]\n  sideEffects: None\n  admissionReviewVersions: [v1]\n  timeoutSeconds: 5\n";
    let mut yaml = format!(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {{name: palisade}}\nwebhooks:\n- name: validate.palisade.dev\n  clientConfig: {{url: \"{}/validate\", caBundle: {}}}\n  failurePolicy: {failure}\n{rules}",
        webhook.url(),
        certs.ca_bundle()
    );
    if mutate {
        yaml.push_str(&format!(
            "---\napiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata: {{name: palisade}}\nwebhooks:\n- name: mutate.palisade.dev\n  clientConfig: {{url: \"{}/mutate\", caBundle: {}}}\n  failurePolicy: Ignore\n  reinvocationPolicy: IfNeeded\n{rules}",
            webhook.url(),
            certs.ca_bundle()
        ));
    }
    cluster.apply(&yaml);
    // The API server picks webhook configurations up from its informer: wait until a
    // request goes through the webhook.
    for _ in 0..100 {
        let out = cluster.kubectl_with_input(
            &["apply", "--dry-run=server", "-f", "-"],
            Some(&pod("probe", "default", "privileged: true")),
        );
        let said = text(&out);
        if failure == "Fail"
            && !out.status.success()
            && (said.contains("palisade") || said.contains("failed calling webhook"))
        {
            return;
        }
        if failure == "Ignore" && said.contains("PAL-") {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    panic!("the API server never called the webhook");
}

fn pod(name: &str, namespace: &str, security: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {namespace}, labels: {{app: {name}}}}}\nspec:\n  containers:\n  - name: app\n    image: registry.example/app:1.0\n    securityContext: {{{security}}}\n"
    )
}

/// A pod every Pod Security Standard admits.
const RESTRICTED: &str = "allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}";

fn policy_file(dir: &Path, body: &str) -> std::path::PathBuf {
    let path = dir.join("admission.yaml");
    std::fs::write(
        &path,
        format!(
            "apiVersion: admission.palisade.dev/v1alpha1\nkind: AdmissionConfiguration\n{body}"
        ),
    )
    .unwrap();
    path
}

#[test]
fn the_api_server_enforces_palisade() {
    let cluster = TestCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let certs = Certificates::new(&dir.path().join("pki"));
    let examples = root().join("examples/policies");
    let policy = policy_file(
        dir.path(),
        &format!(
            "rules:\n- controls: [framework:pss-baseline]\n  action: deny\n- controls: [framework:pss-restricted]\n  action: warn\ndefaultAction: audit\nexemptions:\n- namespaces: [legacy]\n  controls: [PAL-101]\n  reason: legacy jobs run privileged until they are rewritten\nmutations: {{seccompRuntimeDefault: true}}\npolicies: [{}, {}]\n",
            examples.join("required-labels").display(),
            examples.join("replica-limit").display()
        ),
    );
    let webhook = Webhook::start(bin(), &certs, &["--policy", policy.to_str().unwrap()]);
    for ns in ["shop", "legacy"] {
        cluster.kubectl_ok(&["create", "namespace", ns]);
    }
    register(&cluster, &webhook, &certs, "Fail", true);

    // Denied, with the control, the field and the fix.
    let out = cluster.kubectl_with_input(
        &["apply", "-f", "-"],
        Some(&pod("root", "shop", "privileged: true")),
    );
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("denied the request: palisade denied Pod \"root\""),
        "{said}"
    );
    assert!(said.contains("[PAL-101]"), "{said}");
    assert!(
        said.contains("field spec.containers[0].securityContext.privileged"),
        "{said}"
    );
    assert!(said.contains("Fix: "), "{said}");
    assert!(
        !cluster
            .kubectl(&["get", "pod", "root", "-n", "shop"])
            .status
            .success()
    );

    // Compliant: created, no warning.
    let out = cluster.kubectl_with_input(
        &["apply", "-f", "-"],
        Some(&pod("good", "shop", RESTRICTED)),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("Warning"), "{}", text(&out));
    cluster.kubectl_ok(&["get", "pod", "good", "-n", "shop"]);

    // Restricted only warns, and kubectl shows the warnings.
    let out = cluster.kubectl_with_input(
        &["apply", "-f", "-"],
        Some(&pod("lax", "shop", "allowPrivilegeEscalation: false")),
    );
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("Warning: [PAL-203]"), "{said}");
    for line in said.lines().filter(|l| l.starts_with("Warning: ")) {
        assert!(line.chars().count() <= "Warning: ".len() + 120, "{line}");
    }
    // The mutating webhook filled the seccomp profile the pod left out.
    let profile = cluster.kubectl_ok(&[
        "get",
        "pod",
        "lax",
        "-n",
        "shop",
        "-o",
        "jsonpath={.spec.securityContext.seccompProfile.type}",
    ]);
    assert_eq!(profile, "RuntimeDefault");
    assert!(
        !said.contains("[PAL-205]"),
        "the mutation ran before validation: {said}"
    );

    // Dry run: the same verdicts, nothing stored.
    let out = cluster.kubectl_with_input(
        &["apply", "--dry-run=server", "-f", "-"],
        Some(&pod("dry", "shop", "privileged: true")),
    );
    assert!(
        !out.status.success() && text(&out).contains("[PAL-101]"),
        "{}",
        text(&out)
    );
    let out = cluster.kubectl_with_input(
        &["apply", "--dry-run=server", "-f", "-"],
        Some(&pod("dry", "shop", RESTRICTED)),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !cluster
            .kubectl(&["get", "pod", "dry", "-n", "shop"])
            .status
            .success()
    );

    // An exemption with its reason.
    let out = cluster.kubectl_with_input(
        &["apply", "-f", "-"],
        Some(&pod("batch", "legacy", "privileged: true")),
    );
    assert!(out.status.success(), "{}", text(&out));

    // UPDATE: what the old object already had warns instead of blocking a change. The pod
    // got in past the webhook with the opt-out label; removing the label is an UPDATE the
    // webhook sees, and the privileged container was there before it.
    let opted_out = pod("old", "shop", "privileged: true").replace(
        "labels: {app: old}",
        "labels: {app: old, admission.palisade.dev/ignore: \"true\"}",
    );
    let out = cluster.kubectl_with_input(&["create", "-f", "-"], Some(&opted_out));
    assert!(out.status.success(), "{}", text(&out));
    let out = cluster.kubectl(&[
        "label",
        "pod",
        "old",
        "-n",
        "shop",
        "admission.palisade.dev/ignore-",
    ]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("Warning: [PAL-101] already there before this update"),
        "{said}"
    );

    // A Gatekeeper constraint (warn) and a ValidatingAdmissionPolicy (deny), enforced by
    // Palisade.
    let deployment = |replicas: u32, labels: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api, namespace: shop, labels: {{{labels}}}}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: api}}}}\n  template:\n    metadata: {{labels: {{app: api}}}}\n    spec:\n      containers:\n      - name: app\n        image: registry.example/app:1.0\n        securityContext: {{{RESTRICTED}}}\n"
        )
    };
    let out = cluster.kubectl_with_input(
        &["apply", "-f", "-"],
        Some(&deployment(5, "owner: ann, team: web")),
    );
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains(
            "[ValidatingAdmissionPolicy/replica-limit] replicas 5 is above the limit of 2"
        ),
        "{said}"
    );
    let out = cluster.kubectl_with_input(&["apply", "-f", "-"], Some(&deployment(2, "owner: ann")));
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("Warning: [PalisadeRequiredLabels/owner-and-team]"),
        "{said}"
    );

    // What was decided is counted.
    let metrics = String::from_utf8_lossy(&webhook.curl(&certs, &["/metrics"]).stdout).to_string();
    assert!(
        metrics.contains("palisade_admission_findings_total{control=\"PAL-101\",action=\"deny\"}"),
        "{metrics}"
    );
    assert!(
        metrics
            .contains("palisade_admission_findings_total{control=\"PAL-101\",action=\"exempt\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("decision=\"denied\",dry_run=\"true\""),
        "{metrics}"
    );
    assert!(
        metrics.contains("endpoint=\"mutate\",decision=\"patched\""),
        "{metrics}"
    );
}

#[test]
fn failure_policy_decides_when_the_webhook_is_down() {
    let cluster = TestCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let certs = Certificates::new(&dir.path().join("pki"));
    let mut webhook = Webhook::start(bin(), &certs, &[]);
    cluster.kubectl_ok(&["create", "namespace", "shop"]);
    register(&cluster, &webhook, &certs, "Fail", false);
    webhook.kill();

    // Fail: nothing gets in while the webhook is away.
    let out =
        cluster.kubectl_with_input(&["apply", "-f", "-"], Some(&pod("a", "shop", RESTRICTED)));
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("failed calling webhook \"validate.palisade.dev\""),
        "{said}"
    );
    // kube-system is excluded, so the control plane can always recover.
    let out = cluster.kubectl_with_input(
        &["apply", "-f", "-"],
        Some(&pod("b", "kube-system", RESTRICTED)),
    );
    assert!(out.status.success(), "{}", text(&out));
    // So is an object with the opt-out label.
    let opted_out = pod("c", "shop", RESTRICTED).replace(
        "labels: {app: c}",
        "labels: {app: c, admission.palisade.dev/ignore: \"true\"}",
    );
    let out = cluster.kubectl_with_input(&["apply", "-f", "-"], Some(&opted_out));
    assert!(out.status.success(), "{}", text(&out));

    // Ignore: requests go through without it.
    cluster.kubectl_ok(&[
        "patch",
        "validatingwebhookconfiguration",
        "palisade",
        "--type=json",
        "-p",
        "[{\"op\":\"replace\",\"path\":\"/webhooks/0/failurePolicy\",\"value\":\"Ignore\"}]",
    ]);
    let mut created = false;
    for _ in 0..50 {
        let out =
            cluster.kubectl_with_input(&["apply", "-f", "-"], Some(&pod("d", "shop", RESTRICTED)));
        if out.status.success() {
            created = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(created, "with failurePolicy Ignore the pod is created");
}

#[test]
fn certificate_rotation_while_serving_loses_no_request() {
    let cluster = TestCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let certs = Certificates::new(&dir.path().join("pki"));
    let webhook = Webhook::start(bin(), &certs, &[]);
    cluster.kubectl_ok(&["create", "namespace", "shop"]);
    register(&cluster, &webhook, &certs, "Fail", false);
    let serial = |certs: &Certificates| {
        let out = std::process::Command::new("openssl")
            .args(["x509", "-noout", "-serial", "-in"])
            .arg(certs.file("tls.crt"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let first = serial(&certs);
    let mut failures = Vec::new();
    let mut answered = 0;
    for round in 0..30 {
        if round == 10 || round == 20 {
            certs.issue(
                "tls",
                "/CN=127.0.0.1",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
            );
        }
        // Every request goes through the webhook (failurePolicy Fail): a dropped or
        // refused connection would fail it.
        let out = cluster.kubectl_with_input(
            &["apply", "--dry-run=server", "-f", "-"],
            Some(&pod("p", "shop", RESTRICTED)),
        );
        if out.status.success() {
            answered += 1;
        } else {
            failures.push(text(&out));
        }
        std::thread::sleep(std::time::Duration::from_millis(150));
    }
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(answered, 30);
    assert_ne!(serial(&certs), first);
    // The server now presents the new certificate.
    let served = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl s_client -connect 127.0.0.1:{} -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -serial",
            webhook.port
        ))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&served.stdout).trim(),
        serial(&certs)
    );
    let metrics = String::from_utf8_lossy(&webhook.curl(&certs, &["/metrics"]).stdout).to_string();
    assert!(
        metrics.contains("palisade_admission_reloads_total{what=\"tls\",result=\"ok\"} 2"),
        "{metrics}"
    );
}

fn review_body(object: &str) -> String {
    format!(
        "{{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{{\"uid\":\"1\",\"operation\":\"CREATE\",\"namespace\":\"shop\",\"object\":{object}}}}}"
    )
}

/// `curl -w '%{http_code}'` appended to the body: the status is the last three characters.
fn status_and_body(out: &Output) -> (String, String) {
    let all = String::from_utf8_lossy(&out.stdout).to_string();
    let split = all.len().saturating_sub(3);
    (all[split..].to_string(), all[..split].to_string())
}

#[test]
fn hostile_requests_are_refused_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let certs = Certificates::new(&dir.path().join("pki"));
    let webhook = Webhook::start(bin(), &certs, &["--read-timeout", "1"]);
    let post = |body: &Path, content_type: &str| {
        // An oversized body is refused before it is read: over HTTP/2 that resets the
        // stream, which curl reports instead of the answer.
        let version = if body.ends_with("big.json") {
            "--http1.1"
        } else {
            "--http2"
        };
        webhook.curl(
            &certs,
            &[
                "/validate",
                version,
                "-w",
                "%{http_code}",
                "-H",
                &format!("Content-Type: {content_type}"),
                "--data-binary",
                &format!("@{}", body.display()),
            ],
        )
    };
    let file = |name: &str, content: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    };
    let cases: Vec<(&str, std::path::PathBuf, &str, &str, &str)> = vec![
        (
            "malformed JSON",
            file("bad.json", b"{\"apiVersion\": "),
            "application/json",
            "400",
            "not JSON",
        ),
        (
            "deep nesting",
            file("deep.json", "[".repeat(100_000).as_bytes()),
            "application/json",
            "400",
            "not JSON",
        ),
        (
            "not a review",
            file("pod.json", b"{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}"),
            "application/json",
            "400",
            "is not admission.k8s.io/v1",
        ),
        (
            "binary",
            file("bin.json", &[0xff, 0xfe, 0x00, 0x12]),
            "application/json",
            "400",
            "not JSON",
        ),
        (
            "wrong content type",
            file("ok.json", review_body("{\"kind\":\"Pod\"}").as_bytes()),
            "text/plain",
            "415",
            "Content-Type: application/json",
        ),
        (
            "over 3 MiB",
            file(
                "big.json",
                review_body(&format!(
                    "{{\"kind\":\"ConfigMap\",\"data\":{{\"a\":\"{}\"}}}}",
                    "x".repeat(3 * 1024 * 1024 + 1)
                ))
                .as_bytes(),
            ),
            "application/json",
            "413",
            "larger than 3145728 bytes",
        ),
    ];
    for (what, path, content_type, status, message) in cases {
        let (got, body) = status_and_body(&post(&path, content_type));
        assert_eq!(got, status, "{what}: {body}");
        assert!(body.contains(message), "{what}: {body}");
    }
    // A review of an unknown kind is answered, not refused.
    let (got, body) = status_and_body(&post(
        &file(
            "crd.json",
            review_body(
                "{\"apiVersion\":\"x.io/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w\"}}",
            )
            .as_bytes(),
        ),
        "application/json",
    ));
    assert_eq!(got, "200", "{body}");
    assert!(body.contains("\"allowed\":true"), "{body}");

    // Wrong method, unknown path.
    let (got, _) = status_and_body(&webhook.curl(&certs, &["/validate", "-w", "%{http_code}"]));
    assert_eq!(got, "405");
    let (got, _) = status_and_body(&webhook.curl(&certs, &["/admin", "-w", "%{http_code}"]));
    assert_eq!(got, "404");

    // Plain HTTP on the HTTPS port.
    let out = std::process::Command::new("curl")
        .args(["-sS", "--max-time", "5"])
        .arg(format!("http://127.0.0.1:{}/validate", webhook.port))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("Client sent an HTTP request to an HTTPS server.")
    );

    // Slow clients: one that never speaks and one that stops halfway through its body are
    // cut off after the read timeout, and others are served meanwhile.
    use std::io::{Read, Write};
    let started = std::time::Instant::now();
    let mut silent = std::net::TcpStream::connect(("127.0.0.1", webhook.port)).unwrap();
    silent
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut slow = std::process::Command::new("openssl")
        .args([
            "s_client",
            "-quiet",
            "-connect",
            &format!("127.0.0.1:{}", webhook.port),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = slow.stdin.take().unwrap();
    stdin
        .write_all(b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"apiVersion\":")
        .unwrap();
    stdin.flush().unwrap();
    let (got, _) = status_and_body(&webhook.curl(&certs, &["/healthz", "-w", "%{http_code}"]));
    assert_eq!(got, "200", "served while slow clients hang");
    let mut buf = [0u8; 16];
    let closed = silent.read(&mut buf);
    assert!(
        matches!(closed, Ok(0)) || closed.is_err(),
        "the silent client is disconnected"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    let mut answer = String::new();
    let mut stdout = slow.stdout.take().unwrap();
    let mut chunk = [0u8; 512];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < deadline && !answer.contains("did not arrive") {
        match stdout.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.push_str(&String::from_utf8_lossy(&chunk[..n])),
        }
    }
    drop(stdin);
    let _ = slow.kill();
    let _ = slow.wait();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("the request body did not arrive in time"),
        "{answer}"
    );

    // Still healthy after all of it.
    let (got, _) = status_and_body(&webhook.curl(&certs, &["/healthz", "-w", "%{http_code}"]));
    assert_eq!(got, "200");
    let metrics = String::from_utf8_lossy(&webhook.curl(&certs, &["/metrics"]).stdout).to_string();
    assert!(metrics.contains("decision=\"invalid\""), "{metrics}");
}

#[test]
fn mutual_tls_serves_only_clients_of_the_ca() {
    let dir = tempfile::tempdir().unwrap();
    let certs = Certificates::new(&dir.path().join("pki"));
    certs.issue(
        "client",
        "/CN=kube-apiserver",
        "extendedKeyUsage=clientAuth",
    );
    let ca = certs.file("ca.crt");
    let webhook = Webhook::start(bin(), &certs, &["--client-ca", ca.to_str().unwrap()]);
    let body = dir.path().join("review.json");
    std::fs::write(&body, review_body("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x:1\",\"securityContext\":{\"privileged\":true}}]}}")).unwrap();
    let data = format!("@{}", body.display());
    let base = [
        "-w",
        "%{http_code}",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        data.as_str(),
    ];

    let mut args = vec!["/validate"];
    args.extend(base);
    let (got, text) = status_and_body(&webhook.curl(&certs, &args));
    assert_eq!(got, "401", "{text}");
    assert!(text.contains("client certificate"), "{text}");

    let cert = certs.file("client.crt").display().to_string();
    let key = certs.file("client.key").display().to_string();
    args.extend(["--cert", cert.as_str(), "--key", key.as_str()]);
    let (got, text) = status_and_body(&webhook.curl(&certs, &args));
    assert_eq!(got, "200", "{text}");
    assert!(
        text.contains("\"allowed\":false") && text.contains("PAL-101"),
        "{text}"
    );

    // A certificate of another CA does not get through the handshake.
    let other = Certificates::new(&dir.path().join("other"));
    other.issue("client", "/CN=intruder", "extendedKeyUsage=clientAuth");
    let (cert, key) = (
        other.file("client.crt").display().to_string(),
        other.file("client.key").display().to_string(),
    );
    let mut args = vec!["/validate"];
    args.extend(base);
    args.extend(["--cert", cert.as_str(), "--key", key.as_str()]);
    let out = webhook.curl(&certs, &args);
    assert!(!out.status.success(), "{}", text_of(&out));

    // Probes need no certificate.
    let (got, _) = status_and_body(&webhook.curl(&certs, &["/readyz", "-w", "%{http_code}"]));
    assert_eq!(got, "200");
}

fn text_of(out: &Output) -> String {
    text(out)
}

#[test]
fn install_manifests_apply_and_pass_palisades_own_scan() {
    let dir = tempfile::tempdir().unwrap();
    let manifests = dir.path().join("install.yaml");
    let out = std::process::Command::new(bin())
        .args(["admission", "manifests", "--mutating", "-o"])
        .arg(&manifests)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));

    // Palisade's own restricted scan passes, and nothing high or above remains.
    let out = std::process::Command::new(bin())
        .args([
            "scan",
            "--framework",
            "pss-restricted",
            "--fail-on",
            "info",
            "--no-color",
        ])
        .arg(&manifests)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = std::process::Command::new(bin())
        .args(["scan", "--fail-on", "high", "--no-color"])
        .arg(&manifests)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // The API server takes them as they are, and the webhook fails closed while no server
    // answers, except where it must not: its own namespace and kube-system.
    let cluster = TestCluster::start();
    cluster.kubectl_ok(&["apply", "--server-side", "-f", manifests.to_str().unwrap()]);
    cluster.kubectl_ok(&["create", "namespace", "shop"]);
    let mut refused = String::new();
    for _ in 0..50 {
        let out =
            cluster.kubectl_with_input(&["apply", "-f", "-"], Some(&pod("a", "shop", RESTRICTED)));
        refused = text(&out);
        if !out.status.success()
            && refused.contains("failed calling webhook \"validate.palisade.dev\"")
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(refused.contains("failed calling webhook"), "{refused}");
    for namespace in ["kube-system", "palisade-system"] {
        let out = cluster.kubectl_with_input(
            &["apply", "-f", "-"],
            Some(&pod("b", namespace, RESTRICTED)),
        );
        assert!(out.status.success(), "{namespace}: {}", text(&out));
    }
}

#[test]
fn policy_changes_apply_without_a_restart_and_bad_ones_are_kept_out() {
    let dir = tempfile::tempdir().unwrap();
    let certs = Certificates::new(&dir.path().join("pki"));
    let warn = "rules:\n- controls: [PAL-101]\n  action: warn\n";
    let policy = policy_file(dir.path(), warn);
    let webhook = Webhook::start(bin(), &certs, &["--policy", policy.to_str().unwrap()]);
    let body = dir.path().join("review.json");
    std::fs::write(&body, review_body("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x:1\",\"securityContext\":{\"privileged\":true}}]}}")).unwrap();
    let data = format!("@{}", body.display());
    let allowed = || {
        let out = webhook.curl(
            &certs,
            &[
                "/validate",
                "-H",
                "Content-Type: application/json",
                "--data-binary",
                &data,
            ],
        );
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(text.contains("\"uid\":\"1\""), "{text}");
        text.contains("\"allowed\":true")
    };
    let eventually = |want: bool| {
        for _ in 0..50 {
            if allowed() == want {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        false
    };
    assert!(allowed());
    // Written as a ConfigMap update lands: a new file renamed over the old one.
    let swap = |text: &str| {
        let next = dir.path().join("admission.yaml.new");
        std::fs::write(
            &next,
            format!(
                "apiVersion: admission.palisade.dev/v1alpha1\nkind: AdmissionConfiguration\n{text}"
            ),
        )
        .unwrap();
        std::fs::rename(&next, &policy).unwrap();
    };
    swap("rules:\n- controls: [PAL-101]\n  action: deny\n");
    assert!(eventually(false), "the new policy is in force");
    swap("rules:\n- controls: [PAL-101]\n  action: sometimes\n");
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert!(
        !allowed(),
        "a policy that does not load leaves the previous one in force"
    );
    let metrics = String::from_utf8_lossy(&webhook.curl(&certs, &["/metrics"]).stdout).to_string();
    assert!(
        metrics.contains("palisade_admission_reloads_total{what=\"policy\",result=\"ok\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("palisade_admission_reloads_total{what=\"policy\",result=\"error\"} 1"),
        "{metrics}"
    );
    assert!(
        webhook
            .log_text()
            .contains("policy not reloaded; the previous one stays in force"),
        "{}",
        webhook.log_text()
    );
}
