#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use palisade_model::{Positions, Source};
use serde_json::{Value, json};

const SHA: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn object(value: Value) -> Object {
    Object::new(value, Source::file("-", 0), Positions::default())
}

fn pod(containers: Value) -> Object {
    object(
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": containers}}),
    )
}

fn rules(allowed: &[&str], disallow_latest: bool, require_digest: bool) -> CompiledImageRules {
    ImageRules {
        allowed_registries: allowed.iter().map(|s| s.to_string()).collect(),
        disallow_latest,
        require_digest,
    }
    .compile()
    .unwrap()
}

fn rule_ids(violations: &[ImageViolation]) -> Vec<&'static str> {
    violations.iter().map(|v| v.rule.id()).collect()
}

#[test]
fn deserialises_camel_case_and_refuses_unknown_fields() {
    let r: ImageRules = serde_json::from_value(json!({
        "allowedRegistries": ["ghcr.io/acme"], "disallowLatest": true}))
    .unwrap();
    assert_eq!(r.allowed_registries, vec!["ghcr.io/acme".to_string()]);
    assert!(r.disallow_latest && !r.require_digest);
    assert!(serde_json::from_value::<ImageRules>(json!({"allowedRepos": []})).is_err());
    assert_eq!(
        serde_json::from_value::<ImageRules>(json!({})).unwrap(),
        ImageRules::default()
    );
}

#[test]
fn empty_rules_check_nothing() {
    let r = ImageRules::default().compile().unwrap();
    assert!(r.is_empty());
    assert!(
        r.check(&pod(json!([{"name": "a", "image": "BAD IMAGE"}])))
            .is_empty()
    );
    assert!(!rules(&["ghcr.io"], false, false).is_empty());
    assert!(!rules(&[], true, false).is_empty());
    assert!(!rules(&[], false, true).is_empty());
}

#[test]
fn compiled_rules_are_shareable() {
    fn assert_send_sync<T: Send + Sync + Clone + fmt::Debug>() {}
    assert_send_sync::<CompiledImageRules>();
}

#[test]
fn allowed_registries_rule() {
    let r = rules(&["ghcr.io/acme", "*.azurecr.io"], false, false);
    let o = pod(json!([
        {"name": "ok", "image": "ghcr.io/acme/web:1"},
        {"name": "azure", "image": "reg.azurecr.io/team/app:2"},
        {"name": "web", "image": "evil.io/x:1"},
        {"name": "near", "image": "ghcr.io/acmecorp/x:1"},
    ]));
    let v = r.check(&o);
    assert_eq!(rule_ids(&v), vec!["allowed-registries"; 2]);
    assert_eq!(v[0].pointer, "/spec/containers/2/image");
    assert_eq!(v[0].container, "web");
    assert_eq!(v[0].image, "evil.io/x:1");
    assert_eq!(
        v[0].message,
        r#"container "web" image "evil.io/x:1" is not from an allowed registry; use one of: ghcr.io/acme, *.azurecr.io"#
    );
    assert!(v[0].message.len() <= 120, "{}", v[0].message.len());
    assert_eq!(v[1].container, "near");
}

#[test]
fn disallow_latest_rule() {
    let r = rules(&[], true, false);
    let o = pod(json!([
        {"name": "implicit", "image": "nginx"},
        {"name": "explicit", "image": "nginx:latest"},
        {"name": "pinned", "image": "nginx:1.25"},
        {"name": "digest", "image": format!("nginx@{SHA}")},
        {"name": "both", "image": format!("nginx:latest@{SHA}")},
        {"name": "upper", "image": "nginx:LATEST"},
        {"name": "port", "image": "localhost:5000/app"},
    ]));
    let v = r.check(&o);
    let names: Vec<&str> = v.iter().map(|v| v.container.as_str()).collect();
    assert_eq!(names, vec!["implicit", "explicit", "both", "port"]);
    assert!(v.iter().all(|v| v.rule == ImageRule::NoLatest));
    assert_eq!(
        v[0].message,
        r#"container "implicit" image "nginx" has no tag; pin a version or a digest"#
    );
    assert_eq!(
        v[1].message,
        r#"container "explicit" image "nginx:latest" uses the latest tag; pin a version or a digest"#
    );
    // Digests are long; messages about short references stay on one line.
    let short: Vec<_> = v.iter().filter(|v| !v.image.contains('@')).collect();
    assert_eq!(short.len(), 3);
    assert!(short.iter().all(|v| v.message.len() <= 120));
}

#[test]
fn require_digest_rule() {
    let r = rules(&[], false, true);
    let o = pod(json!([
        {"name": "tag", "image": "nginx:1.25"},
        {"name": "digest", "image": format!("nginx@{SHA}")},
        {"name": "both", "image": format!("ghcr.io/a/b:1@{SHA}")},
    ]));
    let v = r.check(&o);
    assert_eq!(rule_ids(&v), vec!["require-digest"]);
    assert_eq!(
        v[0].message,
        r#"container "tag" image "nginx:1.25" has no digest; pin it as name@sha256:<digest>"#
    );
}

#[test]
fn every_rule_reports_in_rule_order() {
    let r = rules(&["ghcr.io"], true, true);
    let v = r.check(&pod(json!([{"name": "a", "image": "nginx"}])));
    assert_eq!(
        rule_ids(&v),
        vec!["allowed-registries", "disallow-latest", "require-digest"]
    );
    assert!(
        r.check(&pod(
            json!([{"name": "a", "image": format!("ghcr.io/x/y:1@{SHA}")}])
        ))
        .is_empty()
    );
}

#[test]
fn invalid_references_are_violations() {
    let r = rules(&["ghcr.io"], true, false);
    let o = pod(json!([
        {"name": "upper", "image": "ghcr.io/Acme/app:1"},
        {"name": "space", "image": "ghcr.io/acme/app :1"},
        {"name": "digest", "image": "ghcr.io/acme/app@sha256:abc"},
        {"name": "empty", "image": ""},
        {"name": "missing"},
        {"name": "number", "image": 7},
    ]));
    let v = r.check(&o);
    assert_eq!(rule_ids(&v), vec!["valid-reference"; 6]);
    assert_eq!(
        v[0].message,
        r#"container "upper" image "ghcr.io/Acme/app:1" is not a valid reference: repository name must be lowercase"#
    );
    assert!(v[1].message.contains("invalid"), "{}", v[1].message);
    assert!(v[2].message.contains("invalid digest"), "{}", v[2].message);
    assert_eq!(
        v[3].message,
        r#"container "empty" has no image; set a pinned image reference"#
    );
    assert_eq!(v[4].pointer, "/spec/containers/4/image");
}

#[test]
fn init_and_ephemeral_containers_are_checked() {
    let r = rules(&[], true, false);
    let o = object(json!({"kind": "Pod", "spec": {
        "containers": [{"name": "app", "image": "app:1"}],
        "initContainers": [{"name": "setup", "image": "busybox"}],
        "ephemeralContainers": [{"name": "debug", "image": "busybox:latest"}],
    }}));
    let v = r.check(&o);
    assert_eq!(v.len(), 2);
    assert_eq!(v[0].pointer, "/spec/initContainers/0/image");
    assert_eq!(
        v[0].message,
        r#"initContainer "setup" image "busybox" has no tag; pin a version or a digest"#
    );
    assert_eq!(v[1].pointer, "/spec/ephemeralContainers/0/image");
    assert!(
        v[1].message
            .starts_with(r#"ephemeralContainer "debug" image"#),
        "{}",
        v[1].message
    );
}

#[test]
fn deployment_and_cronjob() {
    let r = rules(&["ghcr.io/acme"], false, false);
    let deployment = object(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "spec": {"template": {"spec": {"containers": [
            {"name": "web", "image": "ghcr.io/acme/web:1"},
            {"name": "side", "image": "docker.io/envoy:1"}]}}}}));
    let v = r.check(&deployment);
    assert_eq!(rule_ids(&v), vec!["allowed-registries"]);
    assert_eq!(v[0].pointer, "/spec/template/spec/containers/1/image");

    let cronjob = object(json!({"apiVersion": "batch/v1", "kind": "CronJob",
        "spec": {"jobTemplate": {"spec": {"template": {"spec": {
            "initContainers": [{"name": "init", "image": "quay.io/x/y:1"}],
            "containers": [{"name": "job", "image": "ghcr.io/acme/job:1"}]}}}}}}));
    let v = r.check(&cronjob);
    assert_eq!(rule_ids(&v), vec!["allowed-registries"]);
    assert_eq!(
        v[0].pointer,
        "/spec/jobTemplate/spec/template/spec/initContainers/0/image"
    );
}

#[test]
fn every_workload_kind_is_checked() {
    let r = rules(&["ghcr.io"], false, false);
    let spec = json!({"containers": [{"name": "c", "image": "evil.io/x:1"}]});
    let template = json!({"template": {"spec": spec.clone()}});
    let cases = [
        json!({"kind": "Pod", "spec": spec.clone()}),
        json!({"kind": "PodTemplate", "template": {"spec": spec.clone()}}),
        json!({"kind": "Deployment", "spec": template.clone()}),
        json!({"kind": "StatefulSet", "spec": template.clone()}),
        json!({"kind": "DaemonSet", "spec": template.clone()}),
        json!({"kind": "ReplicaSet", "spec": template.clone()}),
        json!({"kind": "ReplicationController", "spec": template.clone()}),
        json!({"kind": "Job", "spec": template.clone()}),
        json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": template.clone()}}}),
    ];
    for case in cases {
        assert_eq!(r.check(&object(case.clone())).len(), 1, "{case}");
    }
    assert!(
        r.check(&object(json!({"kind": "Service", "spec": spec})))
            .is_empty()
    );
}

#[test]
fn long_allow_lists_are_shortened_in_messages() {
    let r = rules(&["a.io", "b.io", "c.io", "d.io", "e.io"], false, false);
    let v = r.check(&pod(json!([{"name": "web", "image": "evil.io/x:1"}])));
    assert!(
        v[0].message
            .ends_with("use one of: a.io, b.io, c.io, 2 more"),
        "{}",
        v[0].message
    );
}

#[test]
fn invalid_patterns_fail_compilation() {
    let err = ImageRules {
        allowed_registries: vec!["ghcr.io".into(), "ghcr.io/[oops".into()],
        ..ImageRules::default()
    }
    .compile()
    .unwrap_err();
    assert!(matches!(&err, ImageRuleError::InvalidGlob { entry, .. } if entry == "ghcr.io/[oops"));
    assert!(
        err.to_string()
            .starts_with(r#"allowedRegistries entry "ghcr.io/[oops": "#)
    );
    let err = ImageRules {
        allowed_registries: vec!["GHCR.io/Acme".into()],
        ..ImageRules::default()
    }
    .compile()
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"allowedRegistries entry "GHCR.io/Acme": repository name must be lowercase"#
    );
}
