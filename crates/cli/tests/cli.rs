//! Drives the real `palisade` binary on real files.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may fail loudly

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn palisade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("run palisade")
}

fn with_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
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

fn findings<'a>(report: &'a Value, control: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["controlId"] == control)
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const PRIVILEGED_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: team\nspec:\n  containers:\n    - name: app\n      image: nginx:1.25\n      securityContext:\n        privileged: true\n";

#[test]
fn scans_examples_and_points_at_the_field() {
    let out = palisade(&["scan", "examples/manifests", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(report["schemaVersion"], "1.0");
    let privileged = findings(&report, "PAL-101");
    assert_eq!(privileged.len(), 1);
    let f = privileged[0];
    assert_eq!(
        f["location"]["file"],
        "examples/manifests/payments-api.yaml"
    );
    assert_eq!(f["location"]["line"], 40);
    assert_eq!(f["object"]["kind"], "Deployment");
    assert_eq!(f["object"]["namespace"], "payments");
    assert_eq!(f["object"]["name"], "payments-api");
    assert!(report["summary"]["objects"].as_u64().unwrap() >= 10);
}

#[test]
fn exit_codes_follow_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    let pod = write(dir.path(), "pod.yaml", PRIVILEGED_POD);
    let pod = pod.to_str().unwrap();
    let scan = |extra: &[&str]| {
        let mut args = vec!["scan", pod, "--include", "PAL-101"];
        args.extend_from_slice(extra);
        palisade(&args).status.code()
    };
    assert_eq!(scan(&[]), Some(1));
    assert_eq!(scan(&["--fail-on", "none"]), Some(0));
    assert_eq!(scan(&["--fail-on", "critical"]), Some(1));
    let clean = write(
        dir.path(),
        "clean.yaml",
        &PRIVILEGED_POD.replace("true", "false"),
    );
    let out = palisade(&["scan", clean.to_str().unwrap(), "--include", "PAL-101"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        palisade(&["scan", pod, "--fail-on", "severe"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        palisade(&["scan", pod, "--include", "NOPE-1"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(palisade(&["scan"]).status.code(), Some(2));
}

#[test]
fn bad_input_is_reported_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a-good.yaml", PRIVILEGED_POD);
    write(
        dir.path(),
        "b-broken.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n",
    );
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    write(dir.path(), "c-bomb.yaml", &bomb);
    write(
        dir.path(),
        "d-deep.json",
        &("[".repeat(100_000) + &"]".repeat(100_000)),
    );
    std::fs::write(
        dir.path().join("e-binary.yaml"),
        [0x7f, b'E', b'L', b'F', 0, 0, 1],
    )
    .unwrap();
    std::fs::write(
        dir.path().join("f-latin1.yaml"),
        b"kind: Pod\nname: caf\xe9\n",
    )
    .unwrap();
    write(
        dir.path(),
        "g-kind-only.yaml",
        "kind: Pod\nmetadata: {name: x}\n",
    );
    write(
        dir.path(),
        "h-tag-comma.yaml",
        "apiVersion: v1\nkind: Pod\nspec: [!x, 2]\n",
    );
    let out = palisade(&["scan", dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let report = json(&out);
    assert_eq!(
        findings(&report, "PAL-101").len(),
        1,
        "the good file is still scanned"
    );
    let errors = report["errors"].as_array().unwrap();
    let has = |file: &str, needle: &str| {
        errors.iter().any(|e| {
            e["file"].as_str().unwrap().ends_with(file)
                && e["message"].as_str().unwrap().contains(needle)
                && e["line"].as_u64().is_some()
        })
    };
    assert!(has("b-broken.yaml", ""), "{errors:?}");
    assert!(has("c-bomb.yaml", "aliasing"), "{errors:?}");
    assert!(has("d-deep.json", "nesting"), "{errors:?}");
    assert!(has("e-binary.yaml", "binary"), "{errors:?}");
    assert!(has("f-latin1.yaml", "UTF-8"), "{errors:?}");
    assert!(has("g-kind-only.yaml", "apiVersion"), "{errors:?}");
    assert!(has("h-tag-comma.yaml", "malformed"), "{errors:?}");
    assert_eq!(errors.len(), 7, "{errors:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("b-broken.yaml:5:1") && stderr.contains("line 4"),
        "{stderr}"
    );
}

#[test]
fn reads_stdin_and_lists() {
    let list = r#"{"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
         "spec": {"containers": [{"name": "c", "image": "x:1", "securityContext": {"privileged": true}}]}}]}"#;
    let out = with_stdin(
        &["scan", "-", "--format", "json", "--include", "PAL-101"],
        list.as_bytes(),
    );
    let report = json(&out);
    let f = findings(&report, "PAL-101");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["location"]["file"], "-");
    assert_eq!(f[0]["location"]["line"], 3);
}

#[test]
fn renders_kustomizations() {
    let out = palisade(&[
        "scan",
        "examples/kustomize/overlays/prod",
        "--format",
        "json",
        "--fail-on",
        "none",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(report["summary"]["objects"], 1);
    let any = report["findings"]
        .as_array()
        .unwrap()
        .first()
        .cloned()
        .unwrap();
    assert_eq!(any["object"]["namespace"], "reports");
    assert!(
        any["location"]["file"]
            .as_str()
            .unwrap()
            .ends_with("(kustomize)")
    );
}

#[test]
fn says_clearly_when_kubectl_is_missing() {
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args([
            "scan",
            "examples/kustomize/overlays/prod",
            "--format",
            "json",
        ])
        .current_dir(root())
        .env("PALISADE_KUBECTL", "kubectl-that-does-not-exist")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let report = json(&out);
    let message = report["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("is not installed"), "{message}");
}

#[test]
fn machine_formats_are_byte_stable() {
    for format in ["json", "sarif", "junit", "markdown", "html"] {
        let a = palisade(&["scan", "examples/manifests", "--format", format]);
        let b = palisade(&["scan", "examples/manifests", "--format", format]);
        assert!(!a.stdout.is_empty(), "{format}");
        assert_eq!(a.stdout, b.stdout, "{format} output differs between runs");
    }
}

#[test]
fn writes_to_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.sarif");
    let out = palisade(&[
        "scan",
        "examples/manifests",
        "--format",
        "sarif",
        "--output",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
}

#[test]
fn exceptions_file_and_annotations() {
    let dir = tempfile::tempdir().unwrap();
    let annotated = PRIVILEGED_POD.replace(
        "  namespace: team\n",
        "  namespace: team\n  annotations:\n    ignore.palisade.dev/PAL-101: the node agent needs it\n",
    );
    let pods = write(
        dir.path(),
        "pods.yaml",
        &format!(
            "{annotated}---\n{}",
            PRIVILEGED_POD.replace("name: p", "name: q")
        ),
    );
    let exceptions = write(
        dir.path(),
        "exceptions.yaml",
        "exceptions:\n  - control: PAL-101\n    reason: old waiver\n    expires: 2020-01-01\n    match: {name: q}\n  - control: PAL-1*\n    reason: never used\n    match: {namespace: elsewhere}\n",
    );
    let out = palisade(&[
        "scan",
        pods.to_str().unwrap(),
        "--include",
        "PAL-101",
        "--format",
        "json",
        "--exceptions",
        exceptions.to_str().unwrap(),
    ]);
    let report = json(&out);
    let kept = findings(&report, "PAL-101");
    assert_eq!(kept.len(), 1, "the expired exception no longer applies");
    assert_eq!(kept[0]["object"]["name"], "q");
    let suppressed = report["suppressed"].as_array().unwrap();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["suppressed"]["kind"], "annotation");
    assert_eq!(
        suppressed[0]["suppressed"]["reason"],
        "the node agent needs it"
    );
    let statuses: Vec<&str> = report["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert!(
        statuses.contains(&"expired") && statuses.contains(&"unused"),
        "{statuses:?}"
    );

    let bad = write(
        dir.path(),
        "bad.yaml",
        "exceptions:\n  - control: PAL-101\n",
    );
    let out = palisade(&[
        "scan",
        pods.to_str().unwrap(),
        "--exceptions",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.yaml:2"));
}

#[test]
fn controls_and_frameworks_commands() {
    let out = palisade(&["controls", "list", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let controls = json(&out);
    let first = &controls.as_array().unwrap()[0];
    assert_eq!(first["id"], "PAL-101");
    let out = palisade(&["controls", "show", "PAL-101"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("How to fix") && text.contains("cis-1.12"),
        "{text}"
    );
    assert_eq!(
        palisade(&["controls", "show", "PAL-000"]).status.code(),
        Some(2)
    );

    let out = palisade(&["frameworks", "list", "--format", "json"]);
    let frameworks = json(&out);
    let ids: Vec<&str> = frameworks
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    for id in [
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
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    let out = palisade(&["frameworks", "show", "cis-1.12", "--format", "json"]);
    assert_eq!(json(&out)["requirements"].as_array().unwrap().len(), 131);
}

#[test]
fn framework_flag_limits_controls_and_scores() {
    let out = palisade(&[
        "scan",
        "examples/manifests",
        "--framework",
        "pss-baseline",
        "--format",
        "json",
    ]);
    let report = json(&out);
    let frameworks = report["frameworks"].as_array().unwrap();
    assert_eq!(frameworks.len(), 1);
    assert_eq!(frameworks[0]["id"], "pss-baseline");
    assert!(frameworks[0]["score"].as_f64().unwrap() < 100.0);
    for f in report["findings"].as_array().unwrap() {
        let id = f["controlId"].as_str().unwrap();
        assert!(
            id.starts_with("PAL-1"),
            "{id} is not a PSS baseline control"
        );
    }
}

#[test]
fn completions_and_kubectl_plugin() {
    let out = palisade(&["completions", "bash"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("palisade"));
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-palisade"))
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("kubectl palisade"));
}

#[test]
fn progress_bar_only_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..60 {
        write(
            dir.path(),
            &format!("p{i}.yaml"),
            &PRIVILEGED_POD.replace("name: p", &format!("name: p{i}")),
        );
    }
    let target = dir.path().to_str().unwrap();
    let out = dir.path().join("out.txt");
    // `script` (util-linux) gives the command a pseudo-terminal, as an interactive shell would.
    let command = format!(
        "{} scan {target} --fail-on none -o {}",
        env!("CARGO_BIN_EXE_palisade"),
        out.display()
    );
    let tty = Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .output()
        .expect("script(1) from util-linux");
    let screen = String::from_utf8_lossy(&tty.stdout);
    assert!(screen.contains("/60 files"), "{screen}");
    let piped = palisade(&[
        "scan",
        target,
        "--fail-on",
        "none",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        !String::from_utf8_lossy(&piped.stderr).contains("files"),
        "no bar when stderr is not a terminal"
    );
}

#[test]
fn gatekeeper_policies_run_beside_the_built_in_controls() {
    let dir = tempfile::tempdir().unwrap();
    let pod = write(
        dir.path(),
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: outside, namespace: shop}\nspec:\n  containers:\n  - {name: app, image: docker.io/library/nginx:1.27}\n",
    );
    let out = palisade(&[
        "scan",
        "examples/manifests",
        pod.to_str().unwrap(),
        "--policy",
        "examples/policies",
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    let labels = findings(&report, "PalisadeRequiredLabels/owner-and-team");
    assert_eq!(
        labels.len(),
        2,
        "both example Deployments lack owner and team"
    );
    assert_eq!(labels[0]["severity"], "low");
    let registries = findings(&report, "PalisadeAllowedRegistries/approved-registries");
    assert_eq!(registries.len(), 1);
    assert_eq!(registries[0]["severity"], "high");
    assert_eq!(registries[0]["object"]["name"], "outside");
    assert_eq!(registries[0]["location"]["line"], 1);
    assert_eq!(
        registries[0]["message"],
        "container app uses docker.io/library/nginx:1.27, not from an allowed registry"
    );
    let controls = report["controls"].as_array().unwrap();
    assert!(
        controls
            .iter()
            .any(|c| c["id"] == "PalisadeAllowedRegistries/approved-registries")
    );
    let escalation = findings(
        &report,
        "PalisadeNoPrivilegeEscalation/no-privilege-escalation",
    );
    assert_eq!(
        escalation.len(),
        2,
        "payments-api and the pod outside: {escalation:#?}"
    );
    let replicas = findings(&report, "ValidatingAdmissionPolicy/replica-limit");
    assert_eq!(replicas.len(), 1);
    assert_eq!(replicas[0]["object"]["name"], "storefront");
    assert!(
        replicas[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("replicas 3 is above the limit of 2"),
        "{replicas:#?}"
    );
    // Built-in controls still ran on the same objects.
    assert!(!findings(&report, "PAL-403").is_empty() || !findings(&report, "PAL-401").is_empty());
}

#[test]
fn broken_policies_are_input_errors_and_the_rest_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "broken.yaml",
        "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {name: broken}\nspec:\n  crd: {spec: {names: {kind: Broken}}}\n  targets:\n  - target: admission.k8s.gatekeeper.sh\n    rego: |\n      package broken\n      violation[{\"msg\": msg}] {\n---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: Broken\nmetadata: {name: b}\n",
    );
    let out = palisade(&[
        "scan",
        "examples/manifests",
        "--policy",
        "examples/policies",
        "--policy",
        dir.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let report = json(&out);
    let errors: Vec<String> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}:{}: {}", e["file"], e["line"], e["message"]))
        .collect();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("broken.yaml\":10: ") && e.contains("Rego does not compile")),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("constraint \\\"b\\\" of kind Broken has no ConstraintTemplate")),
        "{errors:#?}"
    );
    assert_eq!(
        findings(&report, "PalisadeRequiredLabels/owner-and-team").len(),
        2
    );
}

const NO_LATEST_POLICY: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: no-latest-tag
  annotations: {palisade.dev/severity: high}
spec:
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["pods"]
  validations:
  - expression: 'object.spec.containers.all(c, c.image.contains(":") && !c.image.endsWith(":latest"))'
    message: 'every image needs a pinned tag'
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: no-latest-tag}
spec:
  policyName: no-latest-tag
  validationActions: [Warn]
"#;

#[test]
fn validating_admission_policies_run_beside_the_built_in_controls() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(dir.path(), "vap.yaml", NO_LATEST_POLICY);
    let pod = write(
        dir.path(),
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: floating, namespace: shop}\nspec:\n  containers:\n  - {name: app, image: nginx}\n",
    );
    let out = palisade(&[
        "scan",
        pod.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_ne!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    let found = findings(&report, "ValidatingAdmissionPolicy/no-latest-tag");
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(found[0]["severity"], "high");
    assert_eq!(found[0]["object"]["name"], "floating");
    assert_eq!(
        found[0]["message"],
        "every image needs a pinned tag (binding \"no-latest-tag\": Warn)"
    );
    let control = report["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "ValidatingAdmissionPolicy/no-latest-tag")
        .expect("the policy is a control");
    assert_eq!(control["category"], "Policies (ValidatingAdmissionPolicy)");
}

#[test]
fn a_validating_admission_policy_that_does_not_compile_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let broken = NO_LATEST_POLICY.replace(
        "object.spec.containers.all(c, ",
        "object.spec.containers.all(c, (",
    );
    let policy = write(dir.path(), "vap.yaml", &broken);
    let out = palisade(&[
        "scan",
        "examples/manifests",
        "--policy",
        policy.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let report = json(&out);
    let errors: Vec<String> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}:{}: {}", e["file"], e["line"], e["message"]))
        .collect();
    assert!(
        errors.iter().any(|e| e.contains("vap.yaml\":14: ")
            && e.contains("spec.validations[0].expression does not compile")),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("binds policy \\\"no-latest-tag\\\", which is not among")),
        "{errors:#?}"
    );
}

#[test]
fn policy_test_runs_the_example_suites() {
    let out = palisade(&["policy", "test", "examples/policy-tests", "--no-color"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("ok    unique-ingress-host/host-claimed-elsewhere"),
        "{stdout}"
    );
    assert!(
        stdout.contains("parameters-must-fit-the-schema (constraint rejected, as expected)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("14 passed, 0 failed, 0 skipped (4 suites, 5 tests)"),
        "{stdout}"
    );
}

#[test]
fn policy_test_failures_say_why_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    write(
        dir.path(),
        "suite.yaml",
        &format!(
            "kind: Suite\napiVersion: test.gatekeeper.sh/v1alpha1\nmetadata: {{name: s}}\ntests:\n\
             - name: labels\n  template: {0}/policies/required-labels/template.yaml\n  constraint: {0}/policies/required-labels/constraint.yaml\n  cases:\n\
             \x20 - name: wrong-expectation\n    object: {0}/policy-tests/required-labels/samples/unlabelled.yaml\n    assertions:\n    - violations: no\n\
             \x20 - name: right-expectation\n    object: {0}/policy-tests/required-labels/samples/unlabelled.yaml\n    assertions:\n    - violations: yes\n\
             \x20 - name: two-objects\n    object: two.yaml\n    assertions:\n    - violations: no\n\
             \x20 - name: skipped\n    skip: true\n    object: two.yaml\n    assertions:\n    - violations: no\n",
            examples.display()
        ),
    );
    write(
        dir.path(),
        "two.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\n",
    );
    let out = palisade(&["policy", "test", dir.path().to_str().unwrap(), "--no-color"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL  labels/wrong-expectation")
            && stdout.contains("got 1 violations but want none: got messages [\"Deployment web is missing labels {\\\"team\\\"}\"]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ok    labels/right-expectation"),
        "{stdout}"
    );
    assert!(
        stdout.contains("defines 2 objects, want exactly one"),
        "{stdout}"
    );
    assert!(stdout.contains("1 passed, 2 failed, 1 skipped"), "{stdout}");

    let out = palisade(&[
        "policy",
        "test",
        dir.path().to_str().unwrap(),
        "--format",
        "json",
        "--run",
        "right",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let report = json(&out);
    assert_eq!(report["passed"], 1);
    assert_eq!(report["skipped"], 3);

    let out = palisade(&[
        "policy",
        "test",
        dir.path().join("nothing-here").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn constraint_match_and_inventory_apply_in_scans() {
    let dir = tempfile::tempdir().unwrap();
    let manifests = write(
        dir.path(),
        "ingresses.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {tier: prod}}\n---\n\
         apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: shop, namespace: shop}\nspec:\n  rules:\n  - host: shop.example.com\n---\n\
         apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: old-shop, namespace: legacy}\nspec:\n  rules:\n  - host: shop.example.com\n---\n\
         apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: blog, namespace: blog}\nspec:\n  rules:\n  - host: blog.example.com\n",
    );
    let out = palisade(&[
        "scan",
        manifests.to_str().unwrap(),
        "--policy",
        "examples/policies/unique-ingress-host",
        "--format",
        "json",
    ]);
    let report = json(&out);
    let mut hits: Vec<String> = findings(&report, "PalisadeUniqueIngressHost/unique-ingress-host")
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    hits.sort();
    assert_eq!(
        hits,
        [
            "ingress host shop.example.com is also claimed by Ingress legacy/old-shop",
            "ingress host shop.example.com is also claimed by Ingress shop/shop",
        ]
    );

    // The same policy limited to namespaces labelled tier=prod: only the shop Ingress.
    let constraint = write(
        dir.path(),
        "prod-only.yaml",
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: PalisadeUniqueIngressHost\nmetadata: {name: prod-only}\nspec:\n  match:\n    namespaceSelector: {matchLabels: {tier: prod}}\n",
    );
    let out = palisade(&[
        "scan",
        manifests.to_str().unwrap(),
        "--policy",
        "examples/policies/unique-ingress-host/template.yaml",
        "--policy",
        constraint.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let report = json(&out);
    let hits = findings(&report, "PalisadeUniqueIngressHost/prod-only");
    assert_eq!(hits.len(), 1, "{hits:#?}");
    assert_eq!(hits[0]["object"]["name"], "shop");
}

#[test]
fn policy_directories_are_read_as_files_even_with_a_kustomization() {
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/policies/required-labels");
    for file in ["template.yaml", "constraint.yaml"] {
        std::fs::copy(examples.join(file), policies.join(file)).unwrap();
    }
    // Packages only the template, as policy libraries do; the constraint is still read.
    write(
        &policies,
        "kustomization.yaml",
        "resources:\n- template.yaml\n",
    );
    let out = palisade(&[
        "scan",
        "examples/manifests",
        "--policy",
        policies.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let report = json(&out);
    assert!(
        report["errors"].as_array().unwrap().is_empty(),
        "{}",
        report["errors"]
    );
    assert_eq!(
        findings(&report, "PalisadeRequiredLabels/owner-and-team").len(),
        2
    );
}

#[test]
fn policy_test_reports_files_it_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("binary.yaml"),
        [0xff, 0xfe, b'k', b'i', b'n', b'd'],
    )
    .unwrap();
    let suites = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/policy-tests/required-labels");
    let out = palisade(&[
        "policy",
        "test",
        suites.to_str().unwrap(),
        dir.path().to_str().unwrap(),
        "--no-color",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("binary.yaml: not UTF-8 text (byte 0 is invalid)"),
        "{stderr}"
    );
    // The suites that could be read still ran.
    assert!(String::from_utf8_lossy(&out.stdout).contains("3 passed, 0 failed"));
}
