//! The two halves of a RoleBinding or ClusterRoleBinding: who (`subjects`) gets what
//! (`roleRef`).

use crate::util::items;
use palisade_model::Object;
use serde_json::Value;

/// One subject of a binding, with its index in `subjects`.
pub(super) struct Subject<'a> {
    pub index: usize,
    pub kind: &'a str,
    pub name: &'a str,
    namespace: &'a str,
}

impl Subject<'_> {
    /// Pointer of the subject.
    pub fn pointer(&self) -> String {
        format!("/subjects/{}", self.index)
    }

    /// `User "alice"`, `ServiceAccount "ci/deployer"`.
    pub fn label(&self) -> String {
        let kind = if self.kind.is_empty() {
            "subject"
        } else {
            self.kind
        };
        if kind == "ServiceAccount" && !self.namespace.is_empty() {
            format!("{kind} \"{}/{}\"", self.namespace, self.name)
        } else {
            format!("{kind} {:?}", self.name)
        }
    }

    /// True when the subject has this name. The kind is not compared: a `User` named like a
    /// well-known group (or a `Group` named like a well-known user) deserves the same
    /// attention.
    pub fn is(&self, name: &str) -> bool {
        self.name == name
    }
}

/// The subjects of a binding (entries that are not objects are skipped).
pub(super) fn subjects(object: &Object) -> impl Iterator<Item = Subject<'_>> {
    items(object.at("/subjects")).filter_map(|(index, v)| {
        let text = |key: &str| v.get(key).and_then(Value::as_str).unwrap_or("");
        v.is_object().then(|| Subject {
            index,
            kind: text("kind"),
            name: text("name"),
            namespace: text("namespace"),
        })
    })
}

/// A binding's `roleRef`.
pub(crate) struct RoleRef<'a> {
    pub kind: &'a str,
    pub name: &'a str,
}

impl RoleRef<'_> {
    /// True for a reference to this ClusterRole.
    pub fn is_cluster_role(&self, name: &str) -> bool {
        self.kind == "ClusterRole" && self.name == name
    }

    /// `ClusterRole "view"`.
    pub fn label(&self) -> String {
        format!("{} {:?}", self.kind, self.name)
    }
}

/// A binding's `roleRef`, when it names a kind and a role.
pub(crate) fn role_ref(object: &Object) -> Option<RoleRef<'_>> {
    let role = object.value.get("roleRef")?;
    let text = |key: &str| role.get(key).and_then(Value::as_str);
    Some(RoleRef {
        kind: text("kind")?,
        name: text("name").filter(|n| !n.is_empty())?,
    })
}
