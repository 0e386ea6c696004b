//! The audit.k8s.io Event schema, for telling at load time which field names can never be
//! present and which values can never match.
//!
//! Fields are those of `audit.k8s.io/v1` Event (and the `metadata` and `timestamp` that
//! v1beta1 events still carry). `requestObject`, `responseObject`, `annotations` and
//! `user.extra` hold arbitrary keys and are not checked below their name.

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Text,
    Integer,
    /// An array of strings (`user.groups`, `sourceIPs`).
    TextList,
    /// Anything below: Kubernetes objects, string maps.
    Open,
    Object(&'static [(&'static str, Kind)]),
    /// An array of objects.
    ObjectList(&'static [(&'static str, Kind)]),
}

use Kind::{Integer, Object, ObjectList, Open, Text, TextList};

const USER: &[(&str, Kind)] = &[
    ("username", Text),
    ("uid", Text),
    ("groups", TextList),
    ("extra", Open),
];

const OBJECT_REF: &[(&str, Kind)] = &[
    ("resource", Text),
    ("namespace", Text),
    ("name", Text),
    ("uid", Text),
    ("apiGroup", Text),
    ("apiVersion", Text),
    ("resourceVersion", Text),
    ("subresource", Text),
];

const CAUSE: &[(&str, Kind)] = &[("reason", Text), ("message", Text), ("field", Text)];

const DETAILS: &[(&str, Kind)] = &[
    ("name", Text),
    ("group", Text),
    ("kind", Text),
    ("uid", Text),
    ("causes", ObjectList(CAUSE)),
    ("retryAfterSeconds", Integer),
];

const STATUS: &[(&str, Kind)] = &[
    ("kind", Text),
    ("apiVersion", Text),
    ("metadata", Open),
    ("status", Text),
    ("message", Text),
    ("reason", Text),
    ("details", Object(DETAILS)),
    ("code", Integer),
];

const EVENT: &[(&str, Kind)] = &[
    ("kind", Text),
    ("apiVersion", Text),
    ("level", Text),
    ("auditID", Text),
    ("stage", Text),
    ("requestURI", Text),
    ("verb", Text),
    ("user", Object(USER)),
    ("impersonatedUser", Object(USER)),
    ("sourceIPs", TextList),
    ("userAgent", Text),
    ("objectRef", Object(OBJECT_REF)),
    ("responseStatus", Object(STATUS)),
    ("requestObject", Open),
    ("responseObject", Open),
    ("requestReceivedTimestamp", Text),
    ("stageTimestamp", Text),
    ("annotations", Open),
    ("metadata", Open),
    ("timestamp", Text),
];

/// What the schema says about a dotted field name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Lookup {
    /// A known field holding this kind.
    Known(Kind),
    /// Not a field of audit events: the first `depth` segments exist, the next does not.
    Absent { depth: usize },
}

/// Looks a field name (as segments) up in the Event schema.
pub(super) fn lookup<'s>(segments: impl IntoIterator<Item = &'s str>) -> Lookup {
    let mut kind = Object(EVENT);
    for (depth, segment) in segments.into_iter().enumerate() {
        let fields = match kind {
            Open => return Lookup::Known(Open),
            Object(fields) | ObjectList(fields) => fields,
            Text | Integer | TextList => return Lookup::Absent { depth },
        };
        match fields.iter().find(|(name, _)| *name == segment) {
            Some((_, k)) => kind = *k,
            None => return Lookup::Absent { depth },
        }
    }
    Lookup::Known(kind)
}

/// Where a name that is not an audit field is usually found, for the warning's hint.
pub(super) fn suggestion(name: &str) -> Option<&'static str> {
    let last = name.rsplit('.').next().unwrap_or(name);
    if let Some((field, _)) = OBJECT_REF.iter().find(|(f, _)| *f == last) {
        return Some(match *field {
            "resource" => "objectRef.resource",
            "namespace" => "objectRef.namespace",
            "name" => "objectRef.name",
            "uid" => "objectRef.uid",
            "apiGroup" => "objectRef.apiGroup",
            "apiVersion" => "objectRef.apiVersion",
            "resourceVersion" => "objectRef.resourceVersion",
            _ => "objectRef.subresource",
        });
    }
    // Pod fields rules name bare; in audit events they are inside the request body.
    Some(match last {
        "hostPath" => "requestObject.spec.volumes.hostPath (pods, at audit level Request)",
        "capabilities" => {
            "requestObject.spec.containers.securityContext.capabilities.add (pods, at audit level Request)"
        }
        "privileged" => {
            "requestObject.spec.containers.securityContext.privileged (pods, at audit level Request)"
        }
        "hostNetwork" | "hostPID" | "hostIPC" => {
            "requestObject.spec.<field> (pods, at audit level Request)"
        }
        "image" => "requestObject.spec.containers.image (pods, at audit level Request)",
        "username" | "groups" => "user.username or user.groups",
        "code" => "responseStatus.code",
        "uri" | "URI" => "requestURI",
        "useragent" | "user_agent" => "userAgent",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn look(name: &str) -> Lookup {
        lookup(name.split('.'))
    }

    #[test]
    fn known_fields_and_their_kinds() {
        assert_eq!(look("verb"), Lookup::Known(Text));
        assert_eq!(look("responseStatus.code"), Lookup::Known(Integer));
        assert_eq!(look("user.groups"), Lookup::Known(TextList));
        assert_eq!(
            look("responseStatus.details.causes.field"),
            Lookup::Known(Text)
        );
        assert_eq!(look("requestObject.spec.hostNetwork"), Lookup::Known(Open));
        assert_eq!(
            look("annotations.authorization.k8s.io/decision"),
            Lookup::Known(Open)
        );
    }

    #[test]
    fn names_outside_the_schema_are_absent() {
        assert_eq!(look("hostPath"), Lookup::Absent { depth: 0 });
        assert_eq!(look("apiGroup"), Lookup::Absent { depth: 0 });
        assert_eq!(look("objectRef.group"), Lookup::Absent { depth: 1 });
        assert_eq!(look("verb.x"), Lookup::Absent { depth: 1 });
    }

    #[test]
    fn hints_for_common_mistakes() {
        assert_eq!(suggestion("apiGroup"), Some("objectRef.apiGroup"));
        assert!(suggestion("hostPath").is_some_and(|s| s.contains("volumes.hostPath")));
        assert_eq!(suggestion("frobnicate"), None);
    }
}
