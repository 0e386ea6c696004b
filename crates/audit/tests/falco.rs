//! The Falco engine through its public API: operators, transformers, exceptions,
//! append/override, errors with file and line, outputs and alerts.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_audit::falco::FalcoRules;
use palisade_audit::{Alert, Detector, Event, Origin};
use palisade_model::Severity;
use serde_json::{Value, json};

fn event(value: Value) -> Event {
    palisade_audit::event::parse(value.to_string(), &Origin::new("audit.log", 1))
        .unwrap()
        .remove(0)
}

fn pod_event() -> Event {
    event(json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "a1", "stage": "ResponseComplete",
        "verb": "create", "requestURI": "/api/v1/namespaces/prod/pods?dryRun=All",
        "user": {"username": "Alice@Example.com", "groups": ["dev", "system:authenticated"]},
        "objectRef": {"resource": "pods", "namespace": "prod", "name": "web"},
        "responseStatus": {"code": 201},
        "stageTimestamp": "2024-05-01T10:00:00.5Z",
        "annotations": {"note": "aGVsbG8gd29ybGQ="},
        "requestObject": {"spec": {
            "containers": [{"name": "app", "image": "registry.io/team/web:1.0", "securityContext": {"privileged": true}}],
            "volumes": [{"name": "v", "hostPath": {"path": "/var/run/docker.sock"}}]
        }}
    }))
}

/// One rule with this condition: does it match the event?
fn matches(condition: &str, ev: &Event) -> bool {
    let text = format!(
        "- rule: r\n  desc: d\n  condition: {}\n  output: o\n  priority: INFO\n  source: k8s_audit\n",
        serde_json::to_string(condition).unwrap()
    );
    let (mut rules, _) =
        FalcoRules::load_str("t.yaml", &text).unwrap_or_else(|e| panic!("{condition}: {e:#?}"));
    let mut alerts = Vec::new();
    rules.observe(ev, &mut alerts);
    !alerts.is_empty()
}

fn load_err(text: &str) -> Vec<String> {
    match FalcoRules::load_str("bad.yaml", text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn alerts(text: &str, ev: &Event) -> Vec<Alert> {
    let (mut rules, _) = FalcoRules::load_str("t.yaml", text).unwrap_or_else(|e| panic!("{e:#?}"));
    let mut out = Vec::new();
    rules.observe(ev, &mut out);
    out
}

#[test]
fn comparison_operators() {
    let ev = pod_event();
    for (cond, want) in [
        ("ka.verb = create", true),
        ("ka.verb == create", true),
        ("ka.verb != create", false),
        ("ka.response.code < 300", true),
        ("ka.response.code <= 201", true),
        ("ka.response.code > 201", false),
        ("ka.response.code >= 201", true),
        // Strings compare as C strings: "201" < "3" however long.
        ("ka.response.code < 3", true),
        ("ka.uri contains dryRun", true),
        ("ka.uri contains DRYRUN", false),
        ("ka.uri icontains DRYRUN", true),
        ("ka.uri startswith /api/v1", true),
        ("ka.uri endswith All", true),
        ("ka.uri endswith all", false),
        ("ka.uri glob '/api/*/pods?*'", true),
        ("ka.uri glob '/api/*/POD*'", false),
        ("ka.uri iglob '/api/*/POD*'", true),
        ("ka.target.name regex 'w[a-z]+'", true),
        ("ka.target.name regex 'w'", false),
        ("ka.target.namespace in (dev, prod)", true),
        ("ka.target.namespace in (dev)", false),
        ("ka.target.namespace intersects (prod)", true),
        ("ka.target.namespace pmatch (/x)", false),
        (
            "ka.req.pod.volumes.hostpath intersects (/var/run/docker.sock, /etc)",
            true,
        ),
        ("ka.req.pod.volumes.hostpath in (/etc)", false),
        ("ka.user.groups in (dev, system:authenticated, other)", true),
        ("ka.user.groups in (dev)", false),
        ("ka.user.groups intersects (dev)", true),
        ("ka.impuser.name exists", false),
        ("not ka.impuser.name exists", true),
        ("ka.impuser.name != x", false),
        ("jevt.value[/objectRef/name] = web", true),
        ("jevt.rawtime = 1714557600500000000", true),
        ("json.value[/responseStatus/code] = 201", true),
    ] {
        assert_eq!(matches(cond, &ev), want, "{cond}");
    }
}

#[test]
fn pmatch_matches_path_prefixes() {
    let ev =
        event(json!({"auditID": "x", "verb": "get", "requestURI": "/apis/apps/v1/deployments"}));
    assert!(matches("ka.uri pmatch (/apis/apps, /api)", &ev));
    assert!(!matches("ka.uri pmatch (/apis/app)", &ev));
    assert!(matches("ka.uri pmatch (/apis/*/v1)", &ev));
}

#[test]
fn transformers() {
    let ev = pod_event();
    assert!(matches("tolower(ka.user.name) = alice@example.com", &ev));
    assert!(matches("toupper(ka.user.name) = ALICE@EXAMPLE.COM", &ev));
    assert!(matches(
        "b64(jevt.value[/annotations/note]) bcontains 776f726c64",
        &ev
    ));
    assert!(matches(
        "b64(jevt.value[/annotations/note]) bstartswith 68656c6c6f",
        &ev
    ));
    assert!(!matches(
        "b64(jevt.value[/annotations/note]) bstartswith 776f726c64",
        &ev
    ));
    assert!(matches(
        "b64(jevt.value[/annotations/note]) = 'hello world'",
        &ev
    ));
    assert!(matches("basename(ka.uri) = 'pods?dryRun=All'", &ev));
    assert!(matches("len(ka.target.name) = 3", &ev));
    assert!(matches("len(ka.user.groups) > 1", &ev));
    assert!(matches(
        "ka.target.namespace = val(jevt.value[/objectRef/namespace])",
        &ev
    ));
    assert!(!matches("ka.target.name = val(ka.target.namespace)", &ev));
    assert!(matches(
        "tolower(ka.user.name) = tolower(jevt.value[/user/username])",
        &ev
    ));
    // A value b64 cannot decode has no value: comparisons are false.
    assert!(!matches("b64(ka.verb) = x", &ev));
}

#[test]
fn operators_are_checked_against_field_types() {
    let rule = |cond: &str| {
        format!(
            "- rule: r\n  desc: d\n  condition: {cond}\n  output: o\n  priority: INFO\n  source: k8s_audit\n"
        )
    };
    let errors = load_err(&rule("ka.user.groups = dev"));
    assert!(
        errors[0].contains(
            "list filter 'ka.user.groups' only supports operators 'exists', 'in' and 'intersects'"
        ),
        "{errors:?}"
    );
    let errors = load_err(&rule("ka.verb bcontains 6162"));
    assert!(
        errors[0].contains("'bcontains' operator not supported for string filters"),
        "{errors:?}"
    );
    let errors = load_err(&rule("b64(ka.verb) bcontains xyz"));
    assert!(errors[0].contains("hexadecimal"), "{errors:?}");
    let errors = load_err(&rule("len(ka.verb) > abc"));
    assert!(errors[0].contains("expected a number value"), "{errors:?}");
    let errors = load_err(&rule("join(ka.verb) = x"));
    assert!(
        errors[0].contains("transformer 'join' is not supported"),
        "{errors:?}"
    );
    let errors = load_err(&rule("ka.verb startswith anyof (a, b)"));
    assert!(
        errors[0].contains("operator modifier 'startswith anyof' is not supported"),
        "{errors:?}"
    );
    let errors = load_err(&rule("val(ka.verb) = x"));
    // As in libsinsp, `val(` is only recognised on the right: on the left `val` reads as a macro.
    assert!(
        errors[0].contains("column 4: unexpected token after 'val'"),
        "{errors:?}"
    );
}

const BASE: &str = r#"
- list: admins
  items: [alice, bob]
- list: all_admins
  items: [admins, root]
- macro: kcreate
  condition: ka.verb=create
- rule: Create by non-admin
  desc: d
  condition: kcreate and not ka.user.name in (all_admins)
  output: "created by %ka.user.name in %ka.target.namespace (groups=%ka.user.groups, imp=%ka.impuser.name, cmd=%ka.uri.param[dryRun], %6ka.verb|%tolower(ka.user.name))"
  priority: Warning
  source: k8s_audit
  tags: [k8s, mitre_persistence, T1610]
"#;

#[test]
fn outputs_substitute_fields_lists_args_and_na() {
    let out = alerts(BASE, &pod_event());
    assert_eq!(out.len(), 1);
    let a = &out[0];
    assert_eq!(
        a.message,
        "created by Alice@Example.com in prod (groups=(dev,system:authenticated), imp=<NA>, cmd=All, create|alice@example.com)"
    );
    assert_eq!(a.rule, "Create by non-admin");
    assert_eq!(a.priority, "WARNING");
    assert_eq!(a.severity, Severity::Medium);
    assert_eq!(a.tags, ["T1610", "k8s", "mitre_persistence"]);
    assert_eq!(a.attack, ["T1610", "TA0003"]);
    assert_eq!(a.origin.as_deref(), Some("audit.log:1"));
    assert_eq!(a.identity.user.as_deref(), Some("Alice@Example.com"));
}

#[test]
fn nested_lists_and_list_append() {
    let admin = event(json!({"auditID": "x", "verb": "create", "user": {"username": "bob"}}));
    assert!(alerts(BASE, &admin).is_empty());
    let root = event(json!({"auditID": "x", "verb": "create", "user": {"username": "root"}}));
    assert!(alerts(BASE, &root).is_empty());
    let carol = event(json!({"auditID": "x", "verb": "create", "user": {"username": "carol"}}));
    assert_eq!(alerts(BASE, &carol).len(), 1);
    let appended =
        format!("{BASE}\n- list: admins\n  items: [carol]\n  override:\n    items: append\n");
    assert!(alerts(&appended, &carol).is_empty());
    let old_style = format!("{BASE}\n- list: admins\n  items: [carol]\n  append: true\n");
    let (_, warnings) = FalcoRules::load_str("t.yaml", &old_style).unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.message.contains("'append' key is deprecated"))
    );
    let replaced =
        format!("{BASE}\n- list: all_admins\n  items: [carol]\n  override:\n    items: replace\n");
    assert!(alerts(&replaced, &carol).is_empty());
    assert_eq!(alerts(&replaced, &admin).len(), 1);
}

#[test]
fn macro_and_rule_overrides() {
    let carol = event(
        json!({"auditID": "x", "verb": "create", "user": {"username": "carol"}, "objectRef": {"namespace": "dev"}}),
    );
    let macro_append = format!(
        "{BASE}\n- macro: kcreate\n  condition: and ka.target.namespace=prod\n  override:\n    condition: append\n"
    );
    assert!(alerts(&macro_append, &carol).is_empty());
    let cond_append = format!(
        "{BASE}\n- rule: Create by non-admin\n  condition: and ka.target.namespace=dev\n  override:\n    condition: append\n"
    );
    assert_eq!(alerts(&cond_append, &carol).len(), 1);
    let replace = format!(
        "{BASE}\n- rule: Create by non-admin\n  priority: critical\n  output: new %ka.user.name\n  desc: new\n  tags: [other]\n  override:\n    priority: replace\n    output: replace\n    desc: replace\n    tags: replace\n"
    );
    let a = &alerts(&replace, &carol)[0];
    assert_eq!(
        (a.priority.as_str(), a.severity, a.message.as_str()),
        ("CRITICAL", Severity::Critical, "new carol")
    );
    assert_eq!(a.tags, ["other"]);
    assert!(a.attack.is_empty());
    let output_append = format!(
        "{BASE}\n- rule: Create by non-admin\n  output: (more)\n  override:\n    output: append\n"
    );
    assert!(
        alerts(&output_append, &carol)[0]
            .message
            .ends_with("create|carol) (more)")
    );
    let disabled = format!(
        "{BASE}\n- rule: Create by non-admin\n  enabled: false\n  override:\n    enabled: replace\n"
    );
    let (rules, _) = FalcoRules::load_str("t.yaml", &disabled).unwrap();
    assert_eq!((rules.rule_count(), rules.disabled_count()), (0, 1));
    let legacy = format!("{BASE}\n- rule: Create by non-admin\n  enabled: false\n");
    let (rules, warnings) = FalcoRules::load_str("t.yaml", &legacy).unwrap();
    assert_eq!(rules.rule_count(), 0);
    assert!(
        warnings
            .iter()
            .any(|w| w.message.contains("standalone 'enabled'"))
    );
    let errors = load_err(&format!(
        "{BASE}\n- rule: Create by non-admin\n  priority: INFO\n  override:\n    priority: append\n"
    ));
    assert!(
        errors[0].contains("Key 'priority' cannot be appended to"),
        "{errors:?}"
    );
    let errors = load_err(&format!(
        "{BASE}\n- rule: Nope\n  condition: x\n  override:\n    condition: append\n"
    ));
    assert!(
        errors[0].contains("no rule by that name already exists"),
        "{errors:?}"
    );
    let errors = load_err(&format!(
        "{BASE}\n- rule: Create by non-admin\n  condition: x\n  desc: y\n  override:\n    condition: append\n"
    ));
    assert!(errors[0].contains("Unexpected key 'desc'"), "{errors:?}");
}

#[test]
fn exceptions_expand_and_append() {
    let rules = r#"
- rule: Pod create
  desc: d
  condition: ka.verb=create and ka.target.resource=pods
  output: o
  priority: NOTICE
  source: k8s_audit
  exceptions:
    - name: trusted_users
      fields: ka.user.name
      values: [bob]
    - name: ns_and_image
      fields: [ka.target.namespace, ka.req.pod.containers.image.repository]
      comps: [=, in]
      values:
        - [kube-system, [registry.io/team/web, other]]
"#;
    let pod = pod_event();
    assert_eq!(alerts(rules, &pod).len(), 1);
    let with_prod = format!(
        "{rules}\n- rule: Pod create\n  exceptions:\n    - name: ns_and_image\n      values:\n        - [prod, [registry.io/team/web]]\n  override:\n    exceptions: append\n"
    );
    assert!(alerts(&with_prod, &pod).is_empty());
    let trusted = format!(
        "{rules}\n- rule: Pod create\n  exceptions:\n    - name: trusted_users\n      values: [Alice@Example.com]\n  override:\n    exceptions: append\n"
    );
    assert!(alerts(&trusted, &pod).is_empty());
    let new_ex = format!(
        "{rules}\n- rule: Pod create\n  exceptions:\n    - name: by_uri\n      fields: [ka.uri]\n      comps: [startswith]\n      values: [[/api/v1/namespaces/prod]]\n  override:\n    exceptions: append\n"
    );
    assert!(alerts(&new_ex, &pod).is_empty());
    let errors = load_err(&rules.replace("fields: ka.user.name", "fields: ka.nope"));
    assert!(
        errors[0].contains("'ka.nope' is not a supported filter field"),
        "{errors:?}"
    );
    assert!(
        errors[0].starts_with("bad.yaml:2: rule 'Pod create': "),
        "{errors:?}"
    );
}

#[test]
fn recursion_and_unknown_names_are_errors_with_lines() {
    let errors = load_err(
        "- macro: a\n  condition: b and ka.verb=get\n- macro: b\n  condition: (a)\n- rule: r\n  desc: d\n  condition: a\n  output: o\n  priority: INFO\n  source: k8s_audit\n",
    );
    assert!(
        errors
            .iter()
            .any(|e| e == "bad.yaml:2: macro 'a': macro 'a' is recursive: a -> b -> a"),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("bad.yaml:4: macro 'b': macro 'b' is recursive")),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("rule 'r': not loaded: it uses macro")),
        "{errors:#?}"
    );

    let errors = load_err("- macro: self\n  condition: self or ka.verb=get\n");
    assert_eq!(
        errors,
        ["bad.yaml:2: macro 'self': macro 'self' is recursive: self -> self"]
    );

    let rule = |cond: &str| {
        format!(
            "- rule: r\n  desc: d\n  condition: {cond}\n  output: o %ka.verb\n  priority: INFO\n  source: k8s_audit\n"
        )
    };
    assert_eq!(
        load_err(&rule("ka.verb=get and nomacro")),
        ["bad.yaml:3: rule 'r': column 17: Undefined macro 'nomacro' used in filter."]
    );
    assert_eq!(
        load_err(&rule("ka.verbs=get")),
        ["bad.yaml:3: rule 'r': column 1: unknown field 'ka.verbs'"]
    );
    assert_eq!(
        load_err(&rule("ka.verb in nolist")),
        ["bad.yaml:3: rule 'r': column 1: unknown list 'nolist'"]
    );
    assert_eq!(
        load_err(&rule("ka.verb=get and (ka.uri=x")),
        ["bad.yaml:3: rule 'r': column 26: expected a ')' token"]
    );
    let errors = load_err(&rule("ka.verb=get").replace("%ka.verb", "%ka.nope"));
    assert!(
        errors[0].starts_with("bad.yaml:4: rule 'r': column 4: unknown filter"),
        "{errors:?}"
    );
    let errors = load_err("- list: l\n  items: [a]\n  override:\n    items: append\n");
    assert!(
        errors[0].contains("no list by that name already exists"),
        "{errors:?}"
    );
    let errors = load_err(
        "- rule: r\n  desc: d\n  condition: ka.verb=get\n  output: o\n  priority: URGENT\n  source: k8s_audit\n",
    );
    assert!(
        errors[0].contains("Invalid priority 'URGENT'"),
        "{errors:?}"
    );
    let errors = load_err("- rule: r\n  desc: d\n  condition: ka.verb=get\n  priority: INFO\n");
    assert!(
        errors[0].contains("Item has no mapping for key 'output'"),
        "{errors:?}"
    );
    let errors = load_err("- rule: r\n  condition: [unclosed\n");
    assert!(
        errors[0].starts_with("bad.yaml:3: invalid YAML: did not find expected"),
        "{errors:?}"
    );
}

#[test]
fn broken_items_do_not_stop_the_rest() {
    let text = "\
- rule: broken
  desc: d
  condition: ka.verb=
  output: o
  priority: INFO
  source: k8s_audit
- rule: good
  desc: d
  condition: ka.verb=create
  output: ok %ka.verb
  priority: INFO
  source: k8s_audit
- bogus: 1
- rule: extra key
  desc: d
  condition: ka.verb=create
  output: o
  priority: INFO
  source: k8s_audit
  colour: red
- rule: syscall rule
  desc: d
  condition: proc.name=bash
  output: o
  priority: INFO
";
    let loaded = FalcoRules::load_texts(&[("mixed.yaml", text)]);
    let errors: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        [
            "mixed.yaml:3: rule 'broken': column 9: expected a string value or a field with a valid transformer: 'val', 'tolower', 'toupper', 'b64', 'basename', 'len'"
        ]
    );
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert!(
        warnings.contains(&"mixed.yaml:13: Unknown top level item".to_string()),
        "{warnings:#?}"
    );
    assert!(
        warnings.contains(
            &"mixed.yaml:20: rule 'extra key': Unknown key 'colour'. The key will be ignored."
                .to_string()
        ),
        "{warnings:#?}"
    );
    assert!(
        warnings.contains(
            &"mixed.yaml:21: rule 'syscall rule': Unknown source syscall, skipping".to_string()
        ),
        "{warnings:#?}"
    );
    let mut rules = loaded.rules;
    assert_eq!(
        rules.rule_names().collect::<Vec<_>>(),
        ["good", "extra key"]
    );
    let mut out = Vec::new();
    rules.observe(&pod_event(), &mut out);
    assert_eq!(out[0].message, "ok create");
    assert!(FalcoRules::load_str("mixed.yaml", text).is_err());
}

#[test]
fn upstream_rules_load_cleanly_and_detect() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/falco/k8s_audit_rules.yaml");
    let (mut rules, warnings) = FalcoRules::load(&[path]).unwrap();
    assert!(warnings.is_empty(), "{warnings:#?}");
    assert_eq!(rules.rule_count(), 48);
    let mut out = Vec::new();
    rules.observe(&pod_event(), &mut out);
    let names: Vec<&str> = out.iter().map(|a| a.rule.as_str()).collect();
    assert_eq!(
        names,
        [
            "Disallowed K8s User",
            "Create Privileged Pod",
            "Create Sensitive Mount Pod"
        ]
    );
    let privileged = &out[1];
    assert_eq!(
        privileged.message,
        "Pod started with privileged container (user=Alice@Example.com pod=<NA> resource=pods ns=prod images=(registry.io/team/web:1.0) init_images=<NA> ephemeral_images=<NA>)"
    );
    assert_eq!(privileged.severity, Severity::Medium);
    assert_eq!(privileged.tags, ["k8s"]);
}

#[test]
fn later_files_override_earlier_ones() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    std::fs::write(&a, BASE).unwrap();
    std::fs::write(
        &b,
        "- list: admins\n  items: [carol]\n  override:\n    items: append\n",
    )
    .unwrap();
    let carol = event(json!({"auditID": "x", "verb": "create", "user": {"username": "carol"}}));
    let (mut only_a, _) = FalcoRules::load(std::slice::from_ref(&a)).unwrap();
    let mut out = Vec::new();
    only_a.observe(&carol, &mut out);
    assert_eq!(out.len(), 1);
    let (mut both, _) = FalcoRules::load(&[a, b]).unwrap();
    out.clear();
    both.observe(&carol, &mut out);
    assert!(out.is_empty());
    let missing = FalcoRules::load(&[dir.path().join("none.yaml")]).unwrap_err();
    assert!(
        missing[0].to_string().contains("none.yaml: cannot read"),
        "{missing:?}"
    );
}
