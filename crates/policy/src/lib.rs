/*!
Users' own policies, in the formats they already have.

# Brief overview

Gatekeeper policies come in two parts: a `ConstraintTemplate` (templates.gatekeeper.sh, v1 or
v1beta1) carries the logic, in Rego or in CEL (`K8sNativeValidation`), and declares a
constraint kind; each `Constraint` of that kind (constraints.gatekeeper.sh) instantiates it
with parameters. [`PolicySet::from_objects`] reads both from loaded objects and compiles every
template once; [`PolicySet::review`] runs the constraints of a template against one object with
the input Gatekeeper builds (`{review, parameters}` for Rego, the variables of Gatekeeper's CEL
driver for CEL) and returns what the template reports.

Kubernetes' own `ValidatingAdmissionPolicy` and its bindings are read by the same
[`PolicySet::from_objects`] into [`vap::Policies`];
[`PolicySet::review_admission_policies`] runs the bound policies against one object, as the
API server would for its CREATE.

Both take a [`Cluster`]: the other objects a policy may read (Namespaces for selectors, and
Gatekeeper's `data.inventory`). [`verify`] runs Gatekeeper `gator verify` suites.

```
let policies = palisade_loader::load_text("policy.yaml", r#"
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8sdenyall}
spec:
  crd: {spec: {names: {kind: K8sDenyAll}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8sdenyall
      violation[{"msg": msg}] { msg := sprintf("%v is denied", [input.review.object.metadata.name]) }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sDenyAll
metadata: {name: deny-all}
"#);
let set = palisade_policy::PolicySet::from_objects(&policies.objects);
assert!(set.errors.is_empty());
let pod = palisade_loader::load_text("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n");
let found = set.review(&pod.objects[0]);
assert_eq!(found[0].message, "web is denied");
```
*/

mod cel;
mod cluster;
mod error;
pub mod gatekeeper;
pub mod selector;
pub mod vap;
pub mod verify;

pub use cluster::{Cluster, NAMESPACE_NAME_LABEL};
pub use error::PolicyError;
pub use gatekeeper::{
    Constraint, EnforcementAction, PolicySet, SEVERITY_ANNOTATION, Template, Violation,
};
pub use selector::LabelSelector;
pub use vap::{ValidationAction, VapViolation};
