#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use serde_json::json;

const ALL: Mutations = Mutations {
    seccomp_runtime_default: true,
    disallow_privilege_escalation: true,
    drop_all_capabilities: true,
    run_as_non_root: true,
};

/// Every combination of the four switches.
fn every_mutations() -> Vec<Mutations> {
    (0..16u8)
        .map(|bits| Mutations {
            seccomp_runtime_default: bits & 1 != 0,
            disallow_privilege_escalation: bits & 2 != 0,
            drop_all_capabilities: bits & 4 != 0,
            run_as_non_root: bits & 8 != 0,
        })
        .collect()
}

/// `spec` wrapped as each workload kind carries its pod spec.
fn every_kind(spec: &Value) -> Vec<Value> {
    let template = json!({"metadata": {"labels": {"app": "x"}}, "spec": spec});
    let mut out = vec![
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}),
        json!({"apiVersion": "v1", "kind": "PodTemplate", "template": template}),
        json!({"apiVersion": "batch/v1", "kind": "CronJob",
            "spec": {"jobTemplate": {"spec": {"template": template}}}}),
    ];
    for kind in [
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "ReplicationController",
        "Job",
    ] {
        out.push(json!({"kind": kind, "spec": {"template": template}}));
    }
    out
}

fn pod(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
}

fn container(security_context: Option<Value>) -> Value {
    let mut c = json!({"name": "c", "image": "app:1"});
    if let Some(sc) = security_context {
        c["securityContext"] = sc;
    }
    c
}

fn ops_json(ops: &[PatchOperation]) -> Value {
    serde_json::to_value(ops).unwrap()
}

fn apply(object: &Value, ops: &[PatchOperation]) -> Value {
    let mut patched = object.clone();
    json_patch::patch(&mut patched, ops).unwrap_or_else(|e| panic!("{e}: {}", ops_json(ops)));
    patched
}

fn pod_contexts() -> Vec<Option<Value>> {
    vec![
        None,
        Some(json!({})),
        Some(json!({"runAsNonRoot": false})),
        Some(json!({"runAsNonRoot": true, "runAsUser": 1000})),
        Some(json!({"runAsUser": 0})),
        Some(json!({"seccompProfile": {"type": "Unconfined"}})),
        Some(json!({"fsGroup": 2000})),
        Some(Value::Null),
        Some(json!("junk")),
    ]
}

fn container_contexts() -> Vec<Option<Value>> {
    vec![
        None,
        Some(json!({})),
        Some(json!({"allowPrivilegeEscalation": true})),
        Some(json!({"allowPrivilegeEscalation": false})),
        Some(json!({"privileged": true})),
        Some(json!({"capabilities": {"add": ["SYS_ADMIN"]}})),
        Some(json!({"capabilities": {"add": ["CAP_SYS_ADMIN"]}})),
        Some(json!({"capabilities": {}})),
        Some(json!({"capabilities": {"drop": ["NET_RAW"]}})),
        Some(json!({"capabilities": {"drop": ["all"]}})),
        Some(json!({"capabilities": {"drop": "ALL"}})),
        Some(json!({"capabilities": null})),
        Some(json!({"runAsUser": 0})),
        Some(json!({"runAsUser": 1000})),
        Some(json!({"runAsNonRoot": true})),
        Some(json!({"seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}})),
        Some(json!({"readOnlyRootFilesystem": true, "capabilities": {"add": ["NET_ADMIN"]}})),
        Some(json!(["junk"])),
    ]
}

/// Pod specs over every pod-level context, with containers of every context spread over
/// the three container lists.
fn every_spec() -> Vec<Value> {
    let pods = pod_contexts();
    let containers = container_contexts();
    let n = containers.len();
    let mut out = Vec::new();
    for (p, pod_sc) in pods.iter().enumerate() {
        for i in 0..n {
            let c = |k: usize| container(containers.get((i + k) % n).cloned().flatten());
            let mut spec = json!({"containers": [c(0), c(1)]});
            // Vary which lists exist, so parents are sometimes missing entirely.
            if (i + p) % 3 != 0 {
                spec["initContainers"] = json!([c(2)]);
            }
            if (i + p) % 3 == 2 {
                spec["ephemeralContainers"] = json!([c(3)]);
            }
            if let Some(sc) = pod_sc {
                spec["securityContext"] = sc.clone();
            }
            out.push(spec);
        }
    }
    out
}

#[test]
fn reinvocation_adds_nothing_and_nothing_is_replaced() {
    let mut cases = 0;
    for spec in every_spec() {
        for object in every_kind(&spec) {
            for m in every_mutations() {
                let ops = m.patch(&object);
                for op in &ops {
                    let PatchOperation::Add(add) = op else {
                        panic!("not an add: {op}");
                    };
                    let path = add.path.as_str();
                    // Only absent (or null) targets, or appends to an array, are written.
                    let before = object.pointer(path);
                    assert!(
                        before.is_none_or(Value::is_null) || path.ends_with("/-"),
                        "{path} replaces {before:?} in {object}"
                    );
                }
                let patched = apply(&object, &ops);
                let again = m.patch(&patched);
                assert!(
                    again.is_empty(),
                    "{m:?}\n{object}\nthen {}",
                    ops_json(&again)
                );
                cases += 1;
            }
        }
    }
    assert!(cases > 20_000, "{cases}");
}

#[test]
fn patches_never_create_what_the_api_server_refuses() {
    for spec in every_spec() {
        let object = pod(spec);
        let patched = apply(&object, &ALL.patch(&object));
        let model = Object::new(patched, Source::file("-", 0), Positions::default());
        let original = Object::new(object.clone(), Source::file("-", 0), Positions::default());
        for (after, before) in model.containers().zip(original.containers()) {
            let ape = after.at("/securityContext/allowPrivilegeEscalation");
            if ape == Some(&Value::Bool(false))
                && before
                    .at("/securityContext/allowPrivilegeEscalation")
                    .is_none()
            {
                assert_ne!(
                    after.at("/securityContext/privileged"),
                    Some(&Value::Bool(true))
                );
                let adds = after.at("/securityContext/capabilities/add");
                assert!(!string_items(adds).any(|c| c.ends_with("SYS_ADMIN")));
            }
        }
    }
}

#[test]
fn bare_pod_gets_every_default_in_one_op_per_parent() {
    let object = pod(json!({
        "containers": [container(None)],
        "initContainers": [container(None)],
        "ephemeralContainers": [container(None)],
    }));
    let container_sc = json!({
        "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}});
    assert_eq!(
        ops_json(&ALL.patch(&object)),
        json!([
            {"op": "add", "path": "/spec/securityContext",
             "value": {"seccompProfile": {"type": "RuntimeDefault"}, "runAsNonRoot": true}},
            {"op": "add", "path": "/spec/containers/0/securityContext", "value": container_sc},
            {"op": "add", "path": "/spec/initContainers/0/securityContext", "value": container_sc},
            {"op": "add", "path": "/spec/ephemeralContainers/0/securityContext",
             "value": container_sc},
        ])
    );
}

#[test]
fn partial_security_contexts_are_completed_not_replaced() {
    let object = pod(json!({
        "securityContext": {"fsGroup": 2000},
        "containers": [
            container(Some(json!({"readOnlyRootFilesystem": true}))),
            container(Some(json!({"capabilities": {"add": ["NET_BIND_SERVICE"]}}))),
            container(Some(json!({"capabilities": {"drop": ["NET_RAW"]}}))),
            container(Some(json!({"capabilities": {"drop": ["all"]},
                "allowPrivilegeEscalation": true}))),
        ],
    }));
    assert_eq!(
        ops_json(&ALL.patch(&object)),
        json!([
            {"op": "add", "path": "/spec/securityContext/seccompProfile",
             "value": {"type": "RuntimeDefault"}},
            {"op": "add", "path": "/spec/securityContext/runAsNonRoot", "value": true},
            {"op": "add", "path": "/spec/containers/0/securityContext/allowPrivilegeEscalation",
             "value": false},
            {"op": "add", "path": "/spec/containers/0/securityContext/capabilities",
             "value": {"drop": ["ALL"]}},
            {"op": "add", "path": "/spec/containers/1/securityContext/allowPrivilegeEscalation",
             "value": false},
            {"op": "add", "path": "/spec/containers/1/securityContext/capabilities/drop",
             "value": ["ALL"]},
            {"op": "add", "path": "/spec/containers/2/securityContext/allowPrivilegeEscalation",
             "value": false},
            {"op": "add", "path": "/spec/containers/2/securityContext/capabilities/drop/-",
             "value": "ALL"},
        ])
    );
}

#[test]
fn privileged_and_sys_admin_containers_keep_escalation_unset() {
    let m = Mutations {
        disallow_privilege_escalation: true,
        ..Mutations::default()
    };
    for sc in [
        json!({"privileged": true}),
        json!({"capabilities": {"add": ["CAP_SYS_ADMIN"]}}),
        json!({"capabilities": {"add": ["NET_ADMIN", "SYS_ADMIN"]}}),
        json!({"capabilities": {"add": ["sys_admin"]}}),
        json!({"allowPrivilegeEscalation": true}),
    ] {
        let object = pod(json!({"containers": [container(Some(sc.clone()))]}));
        assert!(m.patch(&object).is_empty(), "{sc}");
    }
    let object = pod(json!({"containers": [container(Some(json!({"privileged": false})))]}));
    assert_eq!(m.patch(&object).len(), 1);
}

#[test]
fn seccomp_is_set_at_pod_level_only_when_absent_there() {
    let m = Mutations {
        seccomp_runtime_default: true,
        ..Mutations::default()
    };
    let own = container(Some(json!({"seccompProfile": {"type": "Unconfined"}})));
    let object = pod(json!({"containers": [own]}));
    assert_eq!(
        ops_json(&m.patch(&object)),
        json!([{"op": "add", "path": "/spec/securityContext",
                "value": {"seccompProfile": {"type": "RuntimeDefault"}}}])
    );
    let unconfined = pod(
        json!({"securityContext": {"seccompProfile": {"type": "Unconfined"}},
        "containers": [container(None)]}),
    );
    assert!(m.patch(&unconfined).is_empty());
    let annotated = json!({"kind": "Pod", "metadata": {"annotations": {
        SECCOMP_POD_ANNOTATION: "unconfined"}}, "spec": {"containers": [container(None)]}});
    assert!(m.patch(&annotated).is_empty());
}

#[test]
fn run_as_non_root_respects_any_explicit_choice() {
    let m = Mutations {
        run_as_non_root: true,
        ..Mutations::default()
    };
    let expected = json!([{"op": "add", "path": "/spec/securityContext",
        "value": {"runAsNonRoot": true}}]);
    let plain = pod(json!({"containers": [container(Some(json!({"runAsUser": 1000})))]}));
    assert_eq!(ops_json(&m.patch(&plain)), expected);
    for spec in [
        json!({"securityContext": {"runAsNonRoot": false}, "containers": [container(None)]}),
        json!({"securityContext": {"runAsUser": 0}, "containers": [container(None)]}),
        json!({"containers": [container(Some(json!({"runAsNonRoot": false})))]}),
        json!({"containers": [container(Some(json!({"runAsNonRoot": true})))]}),
        json!({"containers": [container(None)],
               "initContainers": [container(Some(json!({"runAsUser": 0})))]}),
        json!({"containers": [container(None)],
               "ephemeralContainers": [container(Some(json!({"runAsUser": 0})))]}),
    ] {
        assert!(m.patch(&pod(spec.clone())).is_empty(), "{spec}");
    }
}

#[test]
fn windows_pods_get_no_linux_only_fields() {
    let object = pod(json!({"os": {"name": "windows"}, "containers": [container(None)]}));
    assert_eq!(
        ops_json(&ALL.patch(&object)),
        json!([{"op": "add", "path": "/spec/securityContext", "value": {"runAsNonRoot": true}}])
    );
}

#[test]
fn cronjob_patches_its_nested_pod_spec() {
    let object = json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {
        "spec": {"containers": [container(None)]}}}}}});
    let m = Mutations {
        drop_all_capabilities: true,
        ..Mutations::default()
    };
    assert_eq!(
        ops_json(&m.patch(&object)),
        json!([{"op": "add",
            "path": "/spec/jobTemplate/spec/template/spec/containers/0/securityContext",
            "value": {"capabilities": {"drop": ["ALL"]}}}])
    );
}

#[test]
fn objects_without_pod_specs_or_being_deleted_are_left_alone() {
    let spec = json!({"containers": [container(None)]});
    for object in [
        json!({"kind": "Service", "spec": spec}),
        json!({"kind": "Widget", "spec": {"template": {"spec": spec}}}),
        json!({"kind": "Deployment", "spec": {}}),
        json!({"kind": "Deployment", "spec": {"template": {"spec": "junk"}}}),
        json!({"kind": "Pod"}),
        json!({"kind": "Pod", "metadata": {"deletionTimestamp": "2024-01-01T00:00:00Z"},
            "spec": spec}),
        json!(null),
        json!([1, 2]),
    ] {
        assert!(ALL.patch(&object).is_empty(), "{object}");
    }
    // An empty pod spec still gets pod-level defaults.
    assert_eq!(ALL.patch(&pod(json!({}))).len(), 1);
}

#[test]
fn patches_are_deterministic() {
    for spec in every_spec().into_iter().step_by(7) {
        let object = pod(spec);
        assert_eq!(ALL.patch(&object), ALL.patch(&object));
    }
}

#[test]
fn empty_mutations_do_nothing() {
    assert!(Mutations::default().is_empty());
    assert!(!ALL.is_empty());
    assert!(
        Mutations::default()
            .patch(&pod(json!({"containers": [container(None)]})))
            .is_empty()
    );
}

#[test]
fn deserialises_camel_case_and_refuses_unknown_fields() {
    let m: Mutations = serde_json::from_value(json!({
        "seccompRuntimeDefault": true, "dropAllCapabilities": true}))
    .unwrap();
    assert!(m.seccomp_runtime_default && m.drop_all_capabilities);
    assert!(!m.run_as_non_root && !m.disallow_privilege_escalation);
    assert!(serde_json::from_value::<Mutations>(json!({"runAsRoot": true})).is_err());
}

#[test]
fn pointer_tokens_are_escaped() {
    let mut fill = Fill::default();
    fill.add(&["a/b", "c~d"], json!(1));
    let mut ops = Vec::new();
    fill.emit(&json!({}), &PointerBuf::parse("/x").unwrap(), &mut ops);
    assert_eq!(
        ops_json(&ops),
        json!([{"op": "add", "path": "/x/a~1b", "value": {"c~d": 1}}])
    );
}
