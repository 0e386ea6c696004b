//! ValidatingAdmissionPolicies and bindings against real objects, read by the real loader.

use palisade_policy::{Cluster, PolicySet, ValidationAction, VapViolation};

fn policies(text: &str) -> PolicySet {
    PolicySet::from_objects(&palisade_loader::load_text("policies.yaml", text).objects)
}

/// Reviews every object of `manifests` (the cluster is the manifests), as a scan does.
fn review(set: &PolicySet, manifests: &str) -> Vec<(String, Vec<VapViolation>)> {
    let objects = palisade_loader::load_text("app.yaml", manifests).objects;
    let cluster = Cluster::from_objects(&objects)
        .with_objects_of(&set.admission_policies.param_kinds(), &objects);
    objects
        .iter()
        .map(|o| {
            let (violations, errors) = set.review_admission_policies(o, &cluster);
            assert!(errors.is_empty(), "{errors:?}");
            (o.name().to_string(), violations)
        })
        .collect()
}

/// The messages each object got, objects without any left out.
fn messages(found: &[(String, Vec<VapViolation>)]) -> Vec<(String, String)> {
    found
        .iter()
        .flat_map(|(name, vs)| vs.iter().map(move |v| (name.clone(), v.message.clone())))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

const NO_LATEST: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: no-latest-tag
  annotations: {palisade.dev/severity: high}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["pods"]
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["deployments"]
  variables:
  - name: spec
    expression: 'object.kind == "Pod" ? object.spec : object.spec.template.spec'
  - name: latest
    expression: |
      variables.spec.containers.filter(c, !c.image.contains(":") || c.image.endsWith(":latest"))
        .map(c, c.name)
  validations:
  - expression: 'size(variables.latest) == 0'
    messageExpression: '"containers without a pinned tag: " + variables.latest.join(", ")'
    reason: Forbidden
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: no-latest-tag
spec:
  policyName: no-latest-tag
  validationActions: [Deny]
"#;

const APPS: &str = r#"apiVersion: v1
kind: Pod
metadata: {name: pinned}
spec:
  containers: [{name: app, image: "nginx:1.27"}]
---
apiVersion: v1
kind: Pod
metadata: {name: floating}
spec:
  containers: [{name: app, image: nginx}, {name: sidecar, image: "envoy:latest"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: prod}
spec:
  template:
    spec:
      containers: [{name: web, image: "web:latest"}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template:
    spec:
      containers: [{name: migrate, image: "tool:latest"}]
"#;

#[test]
fn resource_rules_select_pods_and_deployments_by_resource() {
    let set = policies(NO_LATEST);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let found = review(&set, APPS);
    assert_eq!(
        messages(&found),
        pairs(&[
            ("floating", "containers without a pinned tag: app, sidecar"),
            ("web", "containers without a pinned tag: web"),
        ])
    );
    let violation = &found[1].1[0];
    assert_eq!(violation.policy_name, "no-latest-tag");
    assert_eq!(violation.binding_name, "no-latest-tag");
    assert_eq!(violation.actions, [ValidationAction::Deny]);
    assert_eq!(violation.reason, "Forbidden");
    let policy = &set.admission_policies.policies[violation.policy];
    assert_eq!(policy.severity.as_deref(), Some("high"));
}

#[test]
fn an_unbound_policy_does_nothing() {
    let unbound = NO_LATEST.split("---").next().unwrap_or_default();
    let set = policies(unbound);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    assert!(messages(&review(&set, APPS)).is_empty());
}

const REPLICA_LIMIT: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: replica-limit
spec:
  paramKind:
    apiVersion: v1
    kind: ConfigMap
  matchConstraints:
    resourceRules:
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["deployments"]
  validations:
  - expression: 'object.spec.replicas <= int(params.data.maxReplicas)'
    messageExpression: '"replicas must be at most " + params.data.maxReplicas'
"#;

const DEPLOYMENTS: &str = r#"apiVersion: v1
kind: Namespace
metadata:
  name: prod
  labels: {env: prod}
---
apiVersion: v1
kind: Namespace
metadata:
  name: dev
  labels: {env: dev}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: big, namespace: prod, labels: {tier: web}}
spec: {replicas: 10}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: small, namespace: prod}
spec: {replicas: 2}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: big-dev, namespace: dev, labels: {tier: web}}
spec: {replicas: 10}
"#;

#[test]
fn parameters_by_name_from_the_policy_files() {
    let text = format!(
        "{REPLICA_LIMIT}---\n{}",
        r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replica-limit-prod}
spec:
  policyName: replica-limit
  validationActions: [Deny]
  paramRef: {name: replica-limit, namespace: default, parameterNotFoundAction: Deny}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: replica-limit, namespace: default}
data: {maxReplicas: "5"}
"#
    );
    let set = policies(&text);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let found = review(&set, DEPLOYMENTS);
    assert_eq!(
        messages(&found),
        pairs(&[
            ("big", "replicas must be at most 5"),
            ("big-dev", "replicas must be at most 5")
        ])
    );
    assert_eq!(
        found[2].1[0].param.as_deref(),
        Some("default/replica-limit")
    );
}

#[test]
fn parameters_by_selector_from_the_scanned_objects_in_the_objects_namespace() {
    let text = format!(
        "{REPLICA_LIMIT}---\n{}",
        r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replica-limit}
spec:
  policyName: replica-limit
  validationActions: [Warn]
  paramRef:
    selector: {matchLabels: {policy: replica-limit}}
    parameterNotFoundAction: Allow
"#
    );
    let set = policies(&text);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let manifests = format!(
        "{DEPLOYMENTS}---\n{}",
        r#"apiVersion: v1
kind: ConfigMap
metadata: {name: strict, namespace: prod, labels: {policy: replica-limit}}
data: {maxReplicas: "3"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: lenient, namespace: prod, labels: {policy: replica-limit}}
data: {maxReplicas: "8"}
"#
    );
    let found = review(&set, &manifests);
    // Each parameter is evaluated; dev has none, and Allow lets it through.
    assert_eq!(
        messages(&found),
        pairs(&[
            ("big", "replicas must be at most 3"),
            ("big", "replicas must be at most 8")
        ])
    );
    assert_eq!(found[2].1[0].actions, [ValidationAction::Warn]);
}

#[test]
fn a_missing_parameter_with_deny_is_a_violation() {
    let text = format!(
        "{REPLICA_LIMIT}---\n{}",
        r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replica-limit}
spec:
  policyName: replica-limit
  validationActions: [Deny]
  paramRef: {name: absent, parameterNotFoundAction: Deny}
"#
    );
    let set = policies(&text);
    let found = review(&set, DEPLOYMENTS);
    let all = messages(&found);
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(
        all[0]
            .1
            .contains("no params found for policy binding \"replica-limit\" with `Deny` parameterNotFoundAction"),
        "{all:?}"
    );
}

#[test]
fn namespace_and_object_selectors() {
    let text = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: prod-web-small}
spec:
  matchConstraints:
    namespaceSelector: {matchLabels: {env: prod}}
    objectSelector:
      matchExpressions: [{key: tier, operator: In, values: [web]}]
    resourceRules:
    - {apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["deployments"]}
  validations:
  - expression: 'object.spec.replicas <= 3'
    message: 'too many replicas for prod web'
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: prod-web-small}
spec:
  policyName: prod-web-small
  validationActions: [Audit]
"#;
    let set = policies(text);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    // big-dev is in dev, small has no tier label.
    assert_eq!(
        messages(&review(&set, DEPLOYMENTS)),
        pairs(&[("big", "too many replicas for prod web")])
    );
    // A namespace not among the objects only has its name label.
    let elsewhere = DEPLOYMENTS.replace("namespace: prod, labels", "namespace: staging, labels");
    assert!(messages(&review(&set, &elsewhere)).is_empty());
}

#[test]
fn binding_match_resources_narrow_the_policy() {
    let text = format!(
        "{}---\n{}",
        NO_LATEST.split("---").next().unwrap_or_default(),
        r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: prod-only}
spec:
  policyName: no-latest-tag
  validationActions: [Warn, Audit]
  matchResources:
    namespaceSelector:
      matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, values: [prod]}]
    excludeResourceRules:
    - {apiGroups: [""], apiVersions: ["v1"], operations: ["*"], resources: ["pods"]}
"#
    );
    let set = policies(&text);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let found = review(&set, APPS);
    assert_eq!(
        messages(&found),
        pairs(&[("web", "containers without a pinned tag: web")])
    );
    assert_eq!(
        found[2].1[0].actions,
        [ValidationAction::Warn, ValidationAction::Audit]
    );
}

#[test]
fn match_conditions_and_the_request() {
    let text = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: labelled}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: ["*"], apiVersions: ["*"], operations: ["CREATE"], resources: ["*"], scope: Namespaced}
  matchConditions:
  - name: not-exempt
    expression: '!has(object.metadata.labels) || !("exempt" in object.metadata.labels)'
  validations:
  - expression: 'has(object.metadata.labels) && "owner" in object.metadata.labels'
    messageExpression: 'request.operation + " " + request.resource.resource + " " + request.name + " needs an owner in " + namespaceObject.metadata.name'
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: labelled}
spec:
  policyName: labelled
  validationActions: [Deny]
"#;
    let set = policies(text);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let manifests = r#"apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: team-a}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: legacy, namespace: team-a, labels: {exempt: "yes"}}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-b}
"#;
    assert_eq!(
        messages(&review(&set, manifests)),
        pairs(&[(
            "settings",
            "CREATE configmaps settings needs an owner in team-a"
        )])
    );
}

#[test]
fn operations_come_from_an_admission_review() {
    let text = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: immutable-app-label}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: ["v1"], operations: ["UPDATE"], resources: ["pods"]}
  validations:
  - expression: 'object.metadata.labels.app == oldObject.metadata.labels.app'
    message: 'the app label cannot change'
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: immutable-app-label}
spec:
  policyName: immutable-app-label
  validationActions: [Deny]
"#;
    let set = policies(text);
    let manifests = r#"apiVersion: admission.k8s.io/v1
kind: AdmissionReview
request:
  operation: UPDATE
  kind: {group: "", version: v1, kind: Pod}
  resource: {group: "", version: v1, resource: pods}
  name: web
  namespace: default
  object:
    apiVersion: v1
    kind: Pod
    metadata: {name: web, labels: {app: b}}
  oldObject:
    apiVersion: v1
    kind: Pod
    metadata: {name: web, labels: {app: a}}
---
apiVersion: v1
kind: Pod
metadata: {name: created, labels: {app: a}}
"#;
    let found = messages(&review(&set, manifests));
    // The plain Pod is a CREATE, which the policy does not select.
    assert_eq!(found, pairs(&[("", "the app label cannot change")]));
}

#[test]
fn evaluation_errors_follow_the_failure_policy() {
    let policy = |failure: &str| {
        format!(
            r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: replicas}}
spec:
  failurePolicy: {failure}
  matchConstraints:
    resourceRules:
    - {{apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["deployments"]}}
  validations:
  - expression: 'object.spec.strategy.type == "Recreate"'
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: replicas}}
spec:
  policyName: replicas
  validationActions: [Deny]
"#
        )
    };
    let objects = palisade_loader::load_text("app.yaml", DEPLOYMENTS).objects;
    let cluster = Cluster::from_objects(&objects);
    let (violations, errors) =
        policies(&policy("Fail")).review_admission_policies(&objects[2], &cluster);
    assert!(errors.is_empty());
    assert_eq!(violations.len(), 1);
    assert!(
        violations[0].message.contains("resulted in error"),
        "{violations:?}"
    );
    assert_eq!(violations[0].reason, "InternalError");
    let (violations, errors) =
        policies(&policy("Ignore")).review_admission_policies(&objects[2], &cluster);
    assert!(violations.is_empty());
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].message.contains("failurePolicy Ignore"),
        "{errors:?}"
    );
}

#[test]
fn unusable_policies_and_bindings_are_errors_at_their_lines() {
    let text = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: broken}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"]}
  validations:
  - expression: |
      object.spec.containers.all(c,
        c.image.startsWith("registry.example.com/") ||)
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: orphan}
spec:
  policyName: missing
  validationActions: [Deny]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: no-params}
spec:
  policyName: replica-limit
  validationActions: [Deny]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: asks-the-api-server}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"]}
  validations:
  - expression: 'authorizer.group("").resource("pods").check("create").allowed()'
---
"#;
    let set = policies(&format!("{text}{REPLICA_LIMIT}"));
    let errors: Vec<(u32, &str)> = set
        .errors
        .iter()
        .map(|e| (e.line, e.message.as_str()))
        .collect();
    assert_eq!(errors.len(), 4, "{errors:#?}");
    // The syntax error is on the second line of the block scalar.
    assert_eq!(errors[0].0, 11, "{errors:#?}");
    assert!(
        errors[0]
            .1
            .contains("spec.validations[0].expression does not compile")
    );
    assert_eq!(errors[1].0, 35, "{errors:#?}");
    assert!(errors[1].1.contains("authorizer is not available"));
    assert_eq!(errors[2].0, 17, "{errors:#?}");
    assert!(
        errors[2]
            .1
            .contains("binds policy \"missing\", which is not among")
    );
    assert!(errors[3].1.contains("needs a paramRef"), "{errors:#?}");
    assert_eq!(set.admission_policies.policies.len(), 1);
}
