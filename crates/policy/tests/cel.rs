//! Gatekeeper templates written in CEL (`engine: K8sNativeValidation`), read by the real
//! loader.

use palisade_policy::PolicySet;

fn policies(text: &str) -> PolicySet {
    PolicySet::from_objects(&palisade_loader::load_text("policies.yaml", text).objects)
}

fn object(text: &str) -> palisade_model::Object {
    let mut objects = palisade_loader::load_text("object.yaml", text).objects;
    objects.remove(0)
}

/// A template with its constraint; `{code}` is the template's K8sNativeValidation source.
fn template(code: &str, parameters: &str) -> String {
    format!(
        r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: palisadeimages
spec:
  crd:
    spec:
      names:
        kind: PalisadeImages
      validation:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
  targets:
  - target: admission.k8s.gatekeeper.sh
    code:
    - engine: K8sNativeValidation
      source:
{code}
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: PalisadeImages
metadata:
  name: images
spec:
  match:
    kinds:
    - apiGroups: [""]
      kinds: ["Pod"]
  parameters: {parameters}
"#
    )
}

const POD: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    image: registry.example.com/app:1.0
  - name: sidecar
    image: docker.io/proxy:latest
"#;

const ALLOWED_REGISTRIES: &str = r#"        variables:
        - name: images
          expression: 'variables.anyObject.spec.containers.map(c, c.image)'
        - name: outside
          expression: |
            variables.images.filter(image,
              !variables.params.registries.exists(r, image.startsWith(r + "/")))
        validations:
        - expression: 'size(variables.outside) == 0'
          messageExpression: '"images from registries not allowed: " + variables.outside.join(", ")'
          message: 'an image comes from a registry not allowed'"#;

#[test]
fn a_false_validation_is_a_violation_with_the_message_expression() {
    let set = policies(&template(
        ALLOWED_REGISTRIES,
        "{registries: [registry.example.com]}",
    ));
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let found = set.review(&object(POD));
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].message,
        "images from registries not allowed: docker.io/proxy:latest"
    );
}

#[test]
fn parameters_decide_whether_there_is_a_violation() {
    let set = policies(&template(
        ALLOWED_REGISTRIES,
        "{registries: [registry.example.com, docker.io]}",
    ));
    assert!(set.review(&object(POD)).is_empty());
}

#[test]
fn message_then_the_expression_when_there_is_no_message_expression() {
    let code = r#"        validations:
        - expression: 'object.metadata.name != "web"'
          message: 'the name web is reserved'
        - expression: 'has(object.metadata.labels)'"#;
    let set = policies(&template(code, "{}"));
    let found = set.review(&object(POD));
    let messages: Vec<&str> = found.iter().map(|v| v.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "the name web is reserved",
            "failed expression: has(object.metadata.labels)"
        ]
    );
}

#[test]
fn a_message_expression_that_fails_falls_back_to_the_message() {
    let code = r#"        validations:
        - expression: 'false'
          messageExpression: 'variables.params.missing.join(", ")'
          message: 'denied'"#;
    let set = policies(&template(code, "{}"));
    assert_eq!(set.review(&object(POD))[0].message, "denied");
}

#[test]
fn cel_runs_when_a_template_also_has_rego() {
    let code = r#"        validations:
        - expression: 'false'
          message: 'from CEL'
    - engine: Rego
      source:
        rego: |
          package palisadeimages
          violation[{"msg": "from Rego"}] { true }"#;
    let set = policies(&template(code, "{}"));
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let found = set.review(&object(POD));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].message, "from CEL");
}

#[test]
fn match_conditions_that_are_false_skip_the_object() {
    let code = r#"        matchConditions:
        - name: only-prod
          expression: 'has(object.metadata.labels) && object.metadata.labels.env == "prod"'
        validations:
        - expression: 'false'"#;
    let set = policies(&template(code, "{}"));
    assert!(set.review(&object(POD)).is_empty());
    let prod = POD.replace("name: web\n", "name: web\n  labels: {env: prod}\n");
    assert_eq!(set.review(&object(&prod)).len(), 1);
}

#[test]
fn any_object_is_the_old_object_of_a_delete() {
    let code = r#"        validations:
        - expression: 'variables.anyObject.metadata.name != "web"'
          messageExpression: 'request.operation + " of " + variables.anyObject.metadata.name'"#;
    let set = policies(&template(code, "{}"));
    let review = r#"apiVersion: admission.k8s.io/v1
kind: AdmissionReview
request:
  operation: DELETE
  kind: {group: "", version: v1, kind: Pod}
  name: web
  oldObject:
    apiVersion: v1
    kind: Pod
    metadata: {name: web}
"#;
    let found = set.review(&object(review));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].message, "DELETE of web");
}

#[test]
fn a_syntax_error_is_reported_at_its_line() {
    let code = r#"        validations:
        - expression: |
            size(object.spec.containers) > 0 &&
              object.spec.containers.all(c, c.image.endsWith(":1.0") ]) &&
              true"#;
    let set = policies(&template(code, "{}"));
    // The template is not used, so its constraint is an error too.
    assert_eq!(set.errors.len(), 2, "{:?}", set.errors);
    let error = &set.errors[0];
    assert_eq!(error.file, "policies.yaml");
    // `expression: |` is on line 16; the unclosed call on the block's second line.
    assert_eq!(error.line, 22, "{error}");
    assert!(
        error
            .message
            .contains("spec.targets[0].code[0].source.validations[0].expression does not compile"),
        "{error}"
    );
}

#[test]
fn an_undeclared_variable_is_a_compile_error() {
    let code = r#"        variables:
        - name: images
          expression: 'object.spec.containers.map(c, c.image)'
        validations:
        - expression: 'size(variables.imgaes) == 0'"#;
    let set = policies(&template(code, "{}"));
    assert_eq!(set.errors[0].line, 23);
    assert!(
        set.errors[0]
            .message
            .contains("variables.imgaes is not declared"),
        "{}",
        set.errors[0]
    );
    assert!(set.templates.is_empty());
}

#[test]
fn an_unknown_function_is_a_compile_error() {
    let code = r#"        validations:
        - expression: 'object.metadata.name.lowerAcsii() == "web"'"#;
    let set = policies(&template(code, "{}"));
    assert!(
        set.errors[0]
            .message
            .contains(r#"undeclared function "lowerAcsii""#),
        "{}",
        set.errors[0]
    );
}

#[test]
fn optional_syntax_is_refused_when_read() {
    let code = r#"        validations:
        - expression: 'object.metadata.?labels.orValue({}) == {}'"#;
    let set = policies(&template(code, "{}"));
    assert!(
        set.errors[0].message.contains("unsupported syntax '.?'"),
        "{}",
        set.errors[0]
    );
}

#[test]
fn a_runtime_error_is_an_error_of_that_object_not_a_violation() {
    let code = r#"        validations:
        - expression: 'object.spec.replicas > 1'"#;
    let set = policies(&template(code, "{}"));
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let (violations, errors) =
        set.review_with_errors(&object(POD), &palisade_policy::Cluster::default());
    assert!(violations.is_empty());
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].message.contains("object.spec.replicas > 1"),
        "{}",
        errors[0]
    );
}

#[test]
fn kubernetes_libraries_are_available() {
    let code = r#"        validations:
        - expression: |
            object.spec.containers.all(c, c.image.split("/")[0].lowerAscii() in ["registry.example.com", "docker.io"]) &&
            quantity("1Gi").isGreaterThan(quantity("512Mi")) &&
            url("https://example.com/x").getHost() == "example.com" &&
            dyn(object.metadata.name).matches("^w") &&
            size("héllo") == 5 && "héllo".size() == 5 && size([1, 2]) == 2"#;
    let set = policies(&template(code, "{}"));
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let (violations, errors) =
        set.review_with_errors(&object(POD), &palisade_policy::Cluster::default());
    assert!(
        violations.is_empty() && errors.is_empty(),
        "{violations:?} {errors:?}"
    );
}

#[test]
fn nested_comprehensions_over_a_wide_object_stop_at_the_cost_budget() {
    let code = r#"        validations:
        - expression: |
            object.spec.containers.all(a, object.spec.containers.all(b,
              object.spec.containers.all(c, a.name + b.name + c.name != "")))"#;
    let set = policies(&template(code, "{}"));
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let containers: String = (0..600)
        .map(|i| format!("  - {{name: c{i}, image: registry.example.com/x:{i}}}\n"))
        .collect();
    let wide = object(&format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: wide}}\nspec:\n  containers:\n{containers}"
    ));
    let start = std::time::Instant::now();
    let (violations, errors) = set.review_with_errors(&wide, &palisade_policy::Cluster::default());
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
    assert!(violations.is_empty());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].message.contains("over the budget of 10000000"),
        "{}",
        errors[0]
    );
    // The same policy on a normal pod runs.
    let (violations, errors) =
        set.review_with_errors(&object(POD), &palisade_policy::Cluster::default());
    assert!(violations.is_empty() && errors.is_empty(), "{errors:?}");
}

#[test]
fn a_type_error_is_reported_at_its_line() {
    let code = r#"        validations:
        - expression: 'size(object.spec.containers) > 0'
        - expression: 'size(object.spec.containers)'
          message: 'not a bool'"#;
    let set = policies(&template(code, "{}"));
    let error = &set.errors[0];
    assert_eq!(error.line, 21, "{error}");
    assert!(
        error
            .message
            .contains("type check: the expression must produce a bool, and it produces a int"),
        "{error}"
    );
}
