//! Helpers shared by the Pod Security Standards rules of both profiles.
//!
//! The rules mirror the Pod Security Admission plugin, the reference implementation of the
//! standards: a field counts as set when it is present and not null, and names (capabilities,
//! profile types, sysctls) are compared exactly, as the plugin compares them.

use palisade_model::{ContainerRef, Object, PodSpecRef};
use serde_json::Value;

/// How a value reads in a message: strings quoted, anything else as JSON, absent as `unset`.
pub(crate) fn shown(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "unset".to_string(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(other) => other.to_string(),
    }
}

/// A field that is present and not null.
pub(crate) fn set<'a>(parent: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    parent.and_then(|p| p.get(key)).filter(|v| !v.is_null())
}

/// A string field, with absent and null read as `""` (how the API decodes them).
pub(crate) fn text<'a>(parent: Option<&'a Value>, key: &str) -> Option<&'a str> {
    match set(parent, key) {
        None => Some(""),
        Some(v) => v.as_str(),
    }
}

/// What a profile object (`seccompProfile`, `appArmorProfile`) sets, for messages:
/// `sets seccompProfile.type to "Unconfined"`, or `sets seccompProfile without a type`.
pub(crate) fn profile_setting(field: &str, profile: &Value) -> String {
    match set(Some(profile), "type") {
        Some(kind) => format!("sets {field}.type to {}", shown(Some(kind))),
        None => format!("sets {field} without a type"),
    }
}

/// `spec.os.name: windows`: the restricted rules that concern Linux-only fields exempt such
/// pods, since the API rejects those fields on them.
pub(crate) fn is_windows(pod: &PodSpecRef<'_>) -> bool {
    pod.get("os")
        .and_then(|os| os.get("name"))
        .and_then(Value::as_str)
        == Some("windows")
}

/// `spec.hostUsers: false`: the pod runs in its own user namespace, where root and an
/// unmasked /proc are not root and /proc of the node.
pub(crate) fn in_user_namespace(pod: &PodSpecRef<'_>) -> bool {
    pod.get("hostUsers").and_then(Value::as_bool) == Some(false)
}

/// One place a security context can be written: the pod or one of its containers. Labels
/// and pointers are only made for findings.
pub(crate) struct Setter<'a> {
    /// The `securityContext` object, if any.
    pub context: Option<&'a Value>,
    /// The container, `None` for the pod.
    container: Option<ContainerRef<'a>>,
    pod: PodSpecRef<'a>,
}

impl Setter<'_> {
    /// `pod`, `container "app"`, `init container "setup"`, …
    pub fn label(&self) -> String {
        self.container
            .as_ref()
            .map_or_else(|| "pod".to_string(), ContainerRef::label)
    }

    /// Absolute pointer of a path inside this security context (`"/seccompProfile/type"`), or
    /// of the security context itself (`""`), where a missing one belongs.
    pub fn field(&self, relative: &str) -> String {
        let base = self
            .container
            .as_ref()
            .map_or(self.pod.pointer, |c| &c.pointer);
        format!("{base}/securityContext{relative}")
    }
}

/// The pod's security context, then every container's (init and ephemeral included).
pub(crate) fn setters(object: &Object) -> impl Iterator<Item = Setter<'_>> {
    let pod = object.pod_spec();
    let of_pod = pod.map(|pod| Setter {
        context: pod.security_context(),
        container: None,
        pod,
    });
    let of_containers = pod.into_iter().flat_map(move |pod| {
        object.containers().map(move |c| Setter {
            context: c.security_context(),
            container: Some(c),
            pod,
        })
    });
    of_pod.into_iter().chain(of_containers)
}

/// The usual spelling of a capability written in another case or with the `CAP_` prefix,
/// when it differs from what was written. Admission compares names exactly, so such a
/// spelling never matches an allowed name; messages use this to say how to write it.
pub(crate) fn canonical_capability(name: &str) -> Option<String> {
    let upper = name.to_ascii_uppercase();
    let plain = upper.strip_prefix("CAP_").unwrap_or(&upper);
    (plain != name).then(|| plain.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shows_values() {
        assert_eq!(shown(None), "unset");
        assert_eq!(shown(Some(&json!("Unconfined"))), "\"Unconfined\"");
        assert_eq!(shown(Some(&json!(7))), "7");
    }

    #[test]
    fn reads_text_as_the_api_does() {
        let v = json!({"a": null, "b": "x", "c": 1});
        assert_eq!(text(Some(&v), "a"), Some(""));
        assert_eq!(text(Some(&v), "missing"), Some(""));
        assert_eq!(text(Some(&v), "b"), Some("x"));
        assert_eq!(text(Some(&v), "c"), None);
    }

    #[test]
    fn spells_capabilities() {
        assert_eq!(canonical_capability("SYS_ADMIN"), None);
        assert_eq!(
            canonical_capability("cap_net_bind_service").as_deref(),
            Some("NET_BIND_SERVICE")
        );
        assert_eq!(canonical_capability("all").as_deref(), Some("ALL"));
    }
}
