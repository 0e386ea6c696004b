//! The policy file and the decisions it leads to, request by request.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail loudly

use palisade_admission::config::{Action, AdmissionConfig};
use palisade_admission::engine::{Engine, field_path};
use palisade_admission::review::Review;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn config(dir: &Path, body: &str) -> Result<AdmissionConfig, String> {
    let path = dir.join("admission.yaml");
    std::fs::write(
        &path,
        format!(
            "apiVersion: admission.palisade.dev/v1alpha1\nkind: AdmissionConfiguration\n{body}"
        ),
    )
    .unwrap();
    AdmissionConfig::read(&path).map_err(|e| e.to_string())
}

fn engine(body: &str) -> Engine {
    let dir = tempfile::tempdir().unwrap();
    Engine::build(config(dir.path(), body).unwrap()).unwrap()
}

fn pod(security: Value, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": labels},
           "spec": {"containers": [{"name": "app", "image": "registry.example/app:1.0", "securityContext": security}]}})
}

fn review(operation: &str, namespace: &str, object: Option<Value>, old: Option<Value>) -> Review {
    let body = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "u", "operation": operation, "namespace": namespace,
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "userInfo": {"username": "system:serviceaccount:ci:deployer", "groups": ["ci"]},
        "object": object, "oldObject": old}});
    Review::parse(body.to_string().as_bytes()).unwrap()
}

const PRIVILEGED: &str = r#"{"privileged": true}"#;

fn privileged() -> Value {
    serde_json::from_str(PRIVILEGED).unwrap()
}

#[test]
fn the_default_denies_baseline_and_warns_on_the_rest() {
    let engine = Engine::build(AdmissionConfig::default_policy()).unwrap();
    let decision = engine.validate(&review(
        "CREATE",
        "shop",
        Some(pod(privileged(), json!({}))),
        None,
    ));
    assert!(!decision.response.allowed);
    assert!(decision.response.message.contains("[PAL-101]"));
    assert!(
        decision
            .response
            .message
            .contains("(field spec.containers[0].securityContext.privileged)")
    );
    assert!(decision.response.message.contains(". Fix: "));
    assert!(!decision.response.warnings.is_empty());
    assert!(
        decision
            .response
            .warnings
            .iter()
            .all(|w| w.chars().count() <= 120)
    );
    assert!(decision.response.warnings.len() <= 13);
    // Controls that need other objects are not judged on one object.
    assert!(decision.outcomes.iter().all(|o| o.control != "PAL-702"));

    let restricted = json!({"allowPrivilegeEscalation": false, "runAsNonRoot": true, "runAsUser": 1000,
        "runAsGroup": 1000, "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"}});
    let decision = engine.validate(&review(
        "CREATE",
        "shop",
        Some(pod(restricted, json!({}))),
        None,
    ));
    assert!(decision.response.allowed, "{}", decision.response.message);
}

#[test]
fn rules_match_in_order_by_control_namespace_and_labels() {
    let engine = engine(
        "rules:\n- controls: [PAL-101]\n  action: warn\n  namespaces: [\"dev-*\"]\n- controls: [PAL-101]\n  action: audit\n  objectSelector: {matchLabels: {tier: batch}}\n- controls: [framework:pss-baseline]\n  action: deny\ndefaultAction: off\n",
    );
    let decide = |ns: &str, labels: Value| {
        engine.validate(&review("CREATE", ns, Some(pod(privileged(), labels)), None))
    };
    let dev = decide("dev-ann", json!({}));
    assert!(dev.response.allowed);
    assert!(
        dev.response
            .warnings
            .iter()
            .any(|w| w.starts_with("[PAL-101]"))
    );
    let batch = decide("shop", json!({"tier": "batch"}));
    assert!(batch.response.allowed && batch.response.warnings.is_empty());
    assert!(
        batch.response.audit_annotations["findings"]
            .as_str()
            .unwrap()
            .contains("PAL-101=audit")
    );
    let prod = decide("shop", json!({}));
    assert!(!prod.response.allowed);
    // defaultAction off: nothing but the named controls.
    assert!(prod.outcomes.iter().all(|o| o.action != Action::Warn));
}

#[test]
fn exemptions_need_every_condition_and_record_their_reason() {
    let engine = engine(
        "rules:\n- controls: [PAL-101]\n  action: deny\nexemptions:\n- namespaces: [legacy]\n  users: [\"system:serviceaccount:ci:*\"]\n  controls: [PAL-101]\n  reason: legacy batch until Q3\n",
    );
    let exempt = engine.validate(&review(
        "CREATE",
        "legacy",
        Some(pod(privileged(), json!({}))),
        None,
    ));
    assert!(exempt.response.allowed, "{}", exempt.response.message);
    assert!(
        exempt.response.audit_annotations["exemptions"]
            .as_str()
            .unwrap()
            .contains("legacy batch until Q3")
    );
    assert!(
        exempt
            .outcomes
            .iter()
            .any(|o| o.control == "PAL-101" && o.exempted)
    );
    let elsewhere = engine.validate(&review(
        "CREATE",
        "shop",
        Some(pod(privileged(), json!({}))),
        None,
    ));
    assert!(!elsewhere.response.allowed);
}

#[test]
fn update_keeps_existing_problems_as_warnings_and_judges_new_ones() {
    let engine = Engine::build(AdmissionConfig::default_policy()).unwrap();
    let old = pod(privileged(), json!({}));
    let relabelled = pod(privileged(), json!({"tier": "web"}));
    let decision = engine.validate(&review(
        "UPDATE",
        "shop",
        Some(relabelled),
        Some(old.clone()),
    ));
    assert!(decision.response.allowed, "{}", decision.response.message);
    assert!(
        decision
            .response
            .warnings
            .iter()
            .any(|w| w.starts_with("[PAL-101] already there before this update"))
    );
    // A new problem is denied.
    let mut worse = old.clone();
    worse["spec"]["hostPID"] = json!(true);
    let decision = engine.validate(&review("UPDATE", "shop", Some(worse), Some(old.clone())));
    assert!(!decision.response.allowed);
    assert!(
        decision.response.message.contains("hostPID"),
        "{}",
        decision.response.message
    );
    assert!(!decision.response.message.contains("[PAL-101]"));
    // Off: the old object does not matter.
    let strict = engine_with(
        "allowExistingViolations: false\nrules:\n- controls: [framework:pss-baseline]\n  action: deny\n",
    );
    let decision = strict.validate(&review("UPDATE", "shop", Some(old.clone()), Some(old)));
    assert!(!decision.response.allowed);
}

fn engine_with(body: &str) -> Engine {
    engine(body)
}

#[test]
fn delete_connect_and_status_are_not_judged() {
    let engine = Engine::build(AdmissionConfig::default_policy()).unwrap();
    let object = pod(privileged(), json!({}));
    assert!(
        engine
            .validate(&review("DELETE", "shop", None, Some(object.clone())))
            .response
            .allowed
    );
    assert!(
        engine
            .validate(&review("CONNECT", "shop", Some(object), None))
            .response
            .allowed
    );
}

#[test]
fn image_rules_act_as_configured() {
    let engine = engine(
        "images:\n  allowedRegistries: [ghcr.io/acme]\n  disallowLatest: true\n  action: deny\ndefaultAction: off\n",
    );
    let mut object = pod(json!({}), json!({}));
    object["spec"]["initContainers"] = json!([{"name": "setup", "image": "busybox"}]);
    let decision = engine.validate(&review("CREATE", "shop", Some(object), None));
    assert!(!decision.response.allowed);
    let message = &decision.response.message;
    assert!(message.contains("[image/allowed-registries]"), "{message}");
    assert!(message.contains("[image/disallow-latest]"), "{message}");
    assert!(
        message.contains("spec.initContainers[0].image"),
        "{message}"
    );
}

#[test]
fn policies_keep_their_own_action_unless_a_rule_names_them() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/policies");
    let paths = format!(
        "policies: [{}, {}]\ndefaultAction: off\n",
        root.join("required-labels").display(),
        root.join("replica-limit").display()
    );
    let deployment = |replicas: u32| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "shop"},
               "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "a", "image": "x/y:1"}]}}}})
    };
    let request = |object: Value| {
        let body = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
            "uid": "u", "operation": "CREATE", "namespace": "shop", "name": "api",
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "userInfo": {"username": "ann"}, "object": object}});
        Review::parse(body.to_string().as_bytes()).unwrap()
    };
    let own = engine(&paths);
    let decision = own.validate(&request(deployment(5)));
    assert!(!decision.response.allowed);
    assert!(
        decision.response.message.contains(
            "[ValidatingAdmissionPolicy/replica-limit] replicas 5 is above the limit of 2"
        ),
        "{}",
        decision.response.message
    );
    assert!(
        decision
            .response
            .warnings
            .iter()
            .any(|w| w.starts_with("[PalisadeRequiredLabels/owner-and-team]"))
    );
    let ruled = engine(&format!(
        "{paths}rules:\n- controls: [\"ValidatingAdmissionPolicy/*\"]\n  action: warn\n"
    ));
    assert!(ruled.validate(&request(deployment(5))).response.allowed);
}

#[test]
fn bad_files_are_refused_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "rules:\n- controls: [PAL-101]\n  action: block\n",
            "unknown action `block`",
        ),
        (
            "rules:\n- controls: [PAL-101]\n  action: deny\n  namespace: [x]\n",
            "unknown field `namespace`",
        ),
        (
            "rules:\n- controls: [\"framework:nope\"]\n  action: deny\n",
            "no framework \"nope\"",
        ),
        (
            "rules:\n- controls: [\"PAL-[1\"]\n  action: deny\n",
            "PAL-[1",
        ),
        (
            "rules:\n- controls: []\n  action: deny\n",
            "names no controls",
        ),
        (
            "exemptions:\n- namespaces: [x]\n  reason: \"  \"\n",
            "needs a reason",
        ),
        (
            "images: {allowedRegistries: [\"nginx:1.25\"]}\n",
            "nginx:1.25",
        ),
        ("rules: {controls: x}\n", "invalid type"),
    ];
    for (body, expected) in cases {
        let error = config(dir.path(), body).unwrap_err();
        assert!(error.contains(expected), "{body}: {error}");
        assert!(error.contains("admission.yaml:"), "{body}: {error}");
    }
    let path = dir.path().join("other.yaml");
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    )
    .unwrap();
    let error = AdmissionConfig::read(&path).unwrap_err().to_string();
    assert!(
        error.contains("expected apiVersion admission.palisade.dev/v1alpha1"),
        "{error}"
    );
    // A policy that does not compile fails the whole file.
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {name: x}\nspec:\n  crd: {spec: {names: {kind: X}}}\n  targets:\n  - target: admission.k8s.gatekeeper.sh\n    rego: \"package x\\nviolation[{\\\"msg\\\": m}] { m := \"\n").unwrap();
    let config = config(dir.path(), &format!("policies: [{}]\n", broken.display())).unwrap();
    assert!(Engine::build(config).is_err());
}

#[test]
fn field_paths_read_like_kubectl() {
    assert_eq!(
        field_path("/spec/containers/0/securityContext/privileged"),
        "spec.containers[0].securityContext.privileged"
    );
    assert_eq!(
        field_path("/metadata/annotations/a~1b"),
        "metadata.annotations.a/b"
    );
    assert_eq!(field_path(""), "");
}
