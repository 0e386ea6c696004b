//! Gatekeeper templates and constraints against real objects, read by the real loader.

use palisade_policy::{EnforcementAction, PolicySet};

const REQUIRED_LABELS: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: palisaderequiredlabels
spec:
  crd:
    spec:
      names:
        kind: PalisadeRequiredLabels
      validation:
        openAPIV3Schema:
          properties:
            labels: {type: array, items: {type: string}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package palisaderequiredlabels

      violation[{"msg": msg, "details": {"missing": missing}}] {
        provided := {label | input.review.object.metadata.labels[label]}
        required := {label | label := input.parameters.labels[_]}
        missing := required - provided
        count(missing) > 0
        msg := sprintf("%v %v is missing labels %v", [input.review.kind.kind, input.review.name, missing])
      }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: PalisadeRequiredLabels
metadata:
  name: owner-and-team
spec:
  enforcementAction: warn
  match:
    kinds:
    - apiGroups: ["apps"]
      kinds: ["Deployment"]
  parameters:
    labels: ["owner", "team"]
"#;

const DEPLOYMENTS: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {owner: alice}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  labels: {owner: bob, team: payments}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: lonely}\n";

fn policies(text: &str) -> PolicySet {
    PolicySet::from_objects(&palisade_loader::load_text("policies.yaml", text).objects)
}

#[test]
fn violations_carry_the_templates_message_and_details() {
    let set = policies(REQUIRED_LABELS);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let (constraint, _) = &set.constraints[0];
    assert_eq!(constraint.action, EnforcementAction::Warn);
    let objects = palisade_loader::load_text("app.yaml", DEPLOYMENTS).objects;
    let web = set.review(&objects[0]);
    assert_eq!(web.len(), 1);
    assert_eq!(
        web[0].message,
        r#"Deployment web is missing labels {"team"}"#
    );
    assert_eq!(web[0].details, serde_json::json!({"missing": ["team"]}));
    assert!(set.review(&objects[1]).is_empty(), "api has both labels");
    assert!(
        set.review(&objects[2]).is_empty(),
        "the constraint matches Deployments only"
    );
}

#[test]
fn rego_v1_code_blocks_with_libraries() {
    let text = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: palisadeallowedregistries}
spec:
  crd: {spec: {names: {kind: PalisadeAllowedRegistries}, validation: {openAPIV3Schema: {properties: {registries: {type: array}}}}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    code:
    - engine: Rego
      source:
        version: "v1"
        rego: |
          package palisadeallowedregistries
          import data.lib.images

          violation contains {"msg": msg} if {
            some container in input.review.object.spec.containers
            not images.allowed(container.image, input.parameters.registries)
            msg := sprintf("container %v uses %v, not from an allowed registry", [container.name, container.image])
          }
        libs:
        - |
          package lib.images

          allowed(image, registries) if {
            some registry in registries
            startswith(image, registry)
          }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: PalisadeAllowedRegistries
metadata: {name: internal-only}
spec:
  parameters: {registries: ["registry.example.com/"]}
"#;
    let set = policies(text);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let pod = palisade_loader::load_text(
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: registry.example.com/a:1}\n  - {name: b, image: docker.io/b:1}\n",
    );
    let found = set.review(&pod.objects[0]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].message,
        "container b uses docker.io/b:1, not from an allowed registry"
    );
}

#[test]
fn an_admission_review_is_reviewed_as_its_request() {
    let text = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: palisadenoupdates}
spec:
  crd: {spec: {names: {kind: PalisadeNoUpdates}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package palisadenoupdates
      violation[{"msg": msg}] {
        input.review.operation == "UPDATE"
        msg := sprintf("%v may not change %v", [input.review.userInfo.username, input.review.oldObject.metadata.name])
      }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: PalisadeNoUpdates
metadata: {name: frozen}
"#;
    let set = policies(text);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let review = palisade_loader::load_text(
        "update.yaml",
        "apiVersion: admission.k8s.io/v1\nkind: AdmissionReview\nrequest:\n  kind: {group: '', version: v1, kind: ConfigMap}\n  operation: UPDATE\n  userInfo: {username: mallory}\n  object: {apiVersion: v1, kind: ConfigMap, metadata: {name: cfg}}\n  oldObject: {apiVersion: v1, kind: ConfigMap, metadata: {name: cfg}}\n",
    );
    let found = set.review(&review.objects[0]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].message, "mallory may not change cfg");
    // The same object written plainly has no operation: nothing to report.
    let plain = palisade_loader::load_text(
        "cfg.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n",
    );
    assert!(set.review(&plain.objects[0]).is_empty());
}

#[test]
fn unusable_policies_are_errors_with_file_and_line_and_the_rest_still_runs() {
    let text = format!(
        "{REQUIRED_LABELS}---\napiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {{name: broken}}\nspec:\n  crd: {{spec: {{names: {{kind: Broken}}}}}}\n  targets:\n  - target: admission.k8s.gatekeeper.sh\n    rego: |\n      package broken\n      violation[{{\"msg\": msg}}] {{ msg := \n---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: Missing\nmetadata: {{name: orphan}}\n---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: PalisadeRequiredLabels\nmetadata: {{name: odd}}\nspec: {{enforcementAction: block}}\n"
    );
    let set = policies(&text);
    let errors: Vec<String> = set.errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(
        errors[0]
            .starts_with("policies.yaml:49: ConstraintTemplate \"broken\": Rego does not compile"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].starts_with(
            "policies.yaml:52: constraint \"orphan\" of kind Missing has no ConstraintTemplate"
        ),
        "{}",
        errors[1]
    );
    assert!(
        errors[2].starts_with(
            "policies.yaml:58: constraint \"odd\": unknown enforcementAction \"block\""
        ),
        "{}",
        errors[2]
    );
    assert_eq!(set.constraints.len(), 1, "the valid constraint still runs");
}

#[test]
fn deeply_nested_rego_is_refused_quickly() {
    let text = format!(
        "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {{name: nested}}\nspec:\n  crd: {{spec: {{names: {{kind: Nested}}}}}}\n  targets:\n  - target: admission.k8s.gatekeeper.sh\n    rego: |\n      package nested\n      violation[{{\"msg\": \"x\"}}] {{ startswith(i,G{}G, r) }}\n",
        "[".repeat(40)
    );
    let start = std::time::Instant::now();
    let set = policies(&text);
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(set.errors.len(), 1, "{:?}", set.errors);
    assert!(
        set.errors[0]
            .message
            .contains("nests brackets 42 deep; more than 16 is refused"),
        "{}",
        set.errors[0]
    );
}
