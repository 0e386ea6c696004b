/*!
Safe-default mutations: fields a pod should have, filled in as an RFC 6902 JSON Patch when
the user left them out.

# Brief overview

[`Mutations`] says which defaults to fill; [`Mutations::patch`] returns the `add` operations
for one object of any workload kind. A mutation only ever adds a field that is absent, so a
value the user wrote (`allowPrivilegeEscalation: true`, an `Unconfined` seccomp profile) is
left for validation to judge. Patches are idempotent: the patch of a patched object is empty,
as the API server's reinvocation of mutating webhooks requires.

```
use palisade_admission::mutate::Mutations;
use serde_json::json;

let mutations = Mutations { drop_all_capabilities: true, ..Mutations::default() };
let mut pod = json!({"kind": "Pod", "spec": {"containers": [{"name": "app", "image": "app:1"}]}});
let patch = mutations.patch(&pod);
json_patch::patch(&mut pod, &patch)?;
assert_eq!(pod["spec"]["containers"][0]["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
assert!(mutations.patch(&pod).is_empty());
# Ok::<(), json_patch::PatchError>(())
```
*/

use json_patch::jsonptr::{PointerBuf, Token};
use json_patch::{AddOperation, PatchOperation};
use palisade_model::{ContainerRef, Object, PodSpecRef, Positions, Source};
use serde_json::{Map, Value, json};

/// The legacy pod annotation for seccomp: the API server refuses a pod whose annotation and
/// field disagree, so a pod that still uses it is left alone.
const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";

/// Which safe defaults to fill in.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Mutations {
    /// Pod-level `securityContext.seccompProfile.type: RuntimeDefault` when the pod sets no
    /// profile (containers' own profiles still win over it).
    pub seccomp_runtime_default: bool,
    /// `allowPrivilegeEscalation: false` on every container that does not set it, except
    /// privileged containers and those adding `SYS_ADMIN`, which the API server refuses.
    pub disallow_privilege_escalation: bool,
    /// `"ALL"` appended to every container's `capabilities.drop` that lacks it.
    pub drop_all_capabilities: bool,
    /// Pod-level `runAsNonRoot: true` when nothing in the pod sets `runAsNonRoot` and nothing
    /// asks for user 0.
    pub run_as_non_root: bool,
}

impl Mutations {
    /// True when no mutation is on.
    pub fn is_empty(&self) -> bool {
        !(self.seccomp_runtime_default
            || self.disallow_privilege_escalation
            || self.drop_all_capabilities
            || self.run_as_non_root)
    }

    /// The `add` operations filling the missing defaults of one object, pod level first, then
    /// containers, init containers and ephemeral containers in order. Empty for objects
    /// without a pod spec, of unknown kinds, or being deleted.
    pub fn patch(&self, object: &Value) -> Vec<PatchOperation> {
        if self.is_empty() || is_being_deleted(object) {
            return Vec::new();
        }
        // `Object` is how the model finds the pod spec and containers of every kind.
        let object = Object::new(object.clone(), Source::file("-", 0), Positions::default());
        let Some(pod) = object.pod_spec() else {
            return Vec::new();
        };
        let containers: Vec<ContainerRef<'_>> = object.containers().collect();
        // Windows pods may not set seccomp, capabilities or privilege escalation at all.
        let linux = !is_windows(&pod);
        let mut ops = Vec::new();

        let mut fill = Fill::default();
        if self.seccomp_runtime_default && linux && !has_seccomp_profile(&pod) {
            fill.add(
                &["securityContext", "seccompProfile"],
                json!({"type": "RuntimeDefault"}),
            );
        }
        if self.run_as_non_root && may_default_non_root(&pod, &containers) {
            fill.add(&["securityContext", "runAsNonRoot"], Value::Bool(true));
        }
        if let Ok(pointer) = PointerBuf::parse(pod.pointer) {
            fill.emit(pod.spec, &pointer, &mut ops);
        }

        for container in &containers {
            let mut fill = Fill::default();
            if self.disallow_privilege_escalation && linux && may_disallow_escalation(container) {
                fill.add(
                    &["securityContext", "allowPrivilegeEscalation"],
                    Value::Bool(false),
                );
            }
            if self.drop_all_capabilities && linux && !drops_all(container) {
                fill.append(
                    &["securityContext", "capabilities", "drop"],
                    Value::from("ALL"),
                );
            }
            if let Ok(pointer) = PointerBuf::parse(container.pointer.as_str()) {
                fill.emit(container.value, &pointer, &mut ops);
            }
        }
        ops
    }
}

/// Fields to add beneath one object, in the order they were asked for.
#[derive(Debug, Default)]
struct Fill(Vec<(&'static str, Node)>);

#[derive(Debug)]
enum Node {
    /// Set when absent.
    Value(Value),
    /// Appended to the array, or set as a one-item array when absent.
    Append(Value),
    /// Descended into when present, added whole when absent.
    Object(Fill),
}

impl Fill {
    fn add(&mut self, path: &[&'static str], value: Value) {
        self.insert(path, Node::Value(value));
    }

    fn append(&mut self, path: &[&'static str], item: Value) {
        self.insert(path, Node::Append(item));
    }

    fn insert(&mut self, path: &[&'static str], node: Node) {
        match path {
            [] => {}
            [last] => self.0.push((last, node)),
            [first, rest @ ..] => {
                let existing = self.0.iter_mut().find_map(|(key, node)| match node {
                    Node::Object(child) if key == first => Some(child),
                    _ => None,
                });
                if let Some(child) = existing {
                    child.insert(rest, node);
                } else {
                    let mut child = Fill::default();
                    child.insert(rest, node);
                    self.0.push((first, Node::Object(child)));
                }
            }
        }
    }

    /// Adds operations for what `existing` lacks. A missing parent is added whole, with
    /// its children, because RFC 6902 `add` needs the parent to exist; a present value of
    /// any kind is never replaced.
    fn emit(&self, existing: &Value, pointer: &PointerBuf, ops: &mut Vec<PatchOperation>) {
        for (key, node) in &self.0 {
            let mut path = pointer.clone();
            path.push_back(Token::new(*key));
            // The API server never sends explicit nulls; treating one as absent is harmless.
            match (existing.get(key).filter(|v| !v.is_null()), node) {
                (None, node) => ops.push(add(path, node.materialise())),
                (Some(inner @ Value::Object(_)), Node::Object(fill)) => {
                    fill.emit(inner, &path, ops)
                }
                (Some(Value::Array(_)), Node::Append(item)) => {
                    path.push_back(Token::new("-"));
                    ops.push(add(path, item.clone()));
                }
                // Present (or of an unexpected type): the user's value stands.
                (Some(_), _) => {}
            }
        }
    }
}

impl Node {
    fn materialise(&self) -> Value {
        match self {
            Node::Value(value) => value.clone(),
            Node::Append(item) => Value::Array(vec![item.clone()]),
            Node::Object(fill) => Value::Object(
                fill.0
                    .iter()
                    .map(|(key, node)| ((*key).to_owned(), node.materialise()))
                    .collect::<Map<_, _>>(),
            ),
        }
    }
}

fn add(path: PointerBuf, value: Value) -> PatchOperation {
    PatchOperation::Add(AddOperation { path, value })
}

fn is_being_deleted(object: &Value) -> bool {
    object
        .get("metadata")
        .and_then(|m| m.get("deletionTimestamp"))
        .is_some_and(|t| !t.is_null())
}

fn is_windows(pod: &PodSpecRef<'_>) -> bool {
    pod.get("os")
        .and_then(|os| os.get("name"))
        .and_then(Value::as_str)
        == Some("windows")
}

fn is_set(value: Option<&Value>) -> bool {
    value.is_some_and(|v| !v.is_null())
}

fn has_seccomp_profile(pod: &PodSpecRef<'_>) -> bool {
    let annotated = pod
        .metadata
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(SECCOMP_POD_ANNOTATION))
        .is_some();
    annotated
        || is_set(
            pod.security_context()
                .and_then(|sc| sc.get("seccompProfile")),
        )
}

fn may_default_non_root(pod: &PodSpecRef<'_>, containers: &[ContainerRef<'_>]) -> bool {
    let contexts = std::iter::once(pod.security_context())
        .chain(containers.iter().map(ContainerRef::security_context))
        .flatten();
    let mut contexts = contexts.map(|sc| (sc.get("runAsNonRoot"), sc.get("runAsUser")));
    !contexts.any(|(non_root, user)| is_set(non_root) || user.and_then(Value::as_i64) == Some(0))
}

fn may_disallow_escalation(container: &ContainerRef<'_>) -> bool {
    let set = is_set(container.at("/securityContext/allowPrivilegeEscalation"));
    let privileged = container.at("/securityContext/privileged") == Some(&Value::Bool(true));
    // The API server compares with `CAP_SYS_ADMIN` only, but runtimes read `SYS_ADMIN` as the
    // same capability, and no_new_privs means nothing to a process holding it.
    let sys_admin = string_items(container.at("/securityContext/capabilities/add")).any(|cap| {
        cap.eq_ignore_ascii_case("CAP_SYS_ADMIN") || cap.eq_ignore_ascii_case("SYS_ADMIN")
    });
    !set && !privileged && !sys_admin
}

fn drops_all(container: &ContainerRef<'_>) -> bool {
    string_items(container.at("/securityContext/capabilities/drop"))
        .any(|cap| cap.eq_ignore_ascii_case("ALL"))
}

fn string_items(list: Option<&Value>) -> impl Iterator<Item = &str> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

#[cfg(test)]
mod tests;
