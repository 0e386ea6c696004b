//! What every detection reads about one event, looked up once.

use crate::Event;
use serde_json::Value;
use std::cell::OnceCell;

/// The fields of one event that detections test first, so each detection starts with a
/// couple of string comparisons instead of JSON lookups.
pub(crate) struct Cx<'e> {
    pub event: &'e Event,
    pub verb: &'e str,
    pub resource: &'e str,
    pub subresource: &'e str,
    /// `objectRef.namespace`; empty for cluster-scoped or all-namespace requests.
    pub namespace: &'e str,
    pub name: &'e str,
    pub user: &'e str,
    pub code: Option<i64>,
    /// A control-plane identity or one the configuration trusts.
    pub trusted: bool,
    /// Identities allowed to write LoadBalancer status (PAL-A123).
    pub load_balancer_controllers: &'e [String],
    /// The exec command as sent and lower-cased, decoded once for the detections that read it.
    command: OnceCell<Option<(String, String)>>,
}

/// The configured identity lists detections consult.
#[derive(Debug, Clone, Default)]
pub(crate) struct Identities {
    pub trusted_users: Vec<String>,
    pub load_balancer_controllers: Vec<String>,
}

impl<'e> Cx<'e> {
    pub fn new(event: &'e Event, identities: &'e Identities) -> Cx<'e> {
        let user = event.user_name().unwrap_or("");
        Cx {
            event,
            verb: event.verb().unwrap_or(""),
            resource: event.resource().unwrap_or(""),
            subresource: event.subresource().unwrap_or(""),
            namespace: event.namespace().unwrap_or(""),
            name: event.name().unwrap_or(""),
            user,
            code: event.response_code(),
            trusted: is_control_plane(user)
                || identities
                    .trusted_users
                    .iter()
                    .any(|t| user_matches(t, user)),
            load_balancer_controllers: &identities.load_balancer_controllers,
            command: OnceCell::new(),
        }
    }

    /// The request succeeded. An event without a response code (a minimal or hand-made
    /// log) is taken as succeeded: a detection should not go quiet for lack of a field.
    pub fn ok(&self) -> bool {
        self.code.is_none_or(|c| (100..400).contains(&c))
    }

    /// Refused by authentication (401) or authorization (403).
    pub fn denied(&self) -> bool {
        matches!(self.code, Some(401 | 403))
    }

    /// create, update or patch: the verbs that carry an object.
    pub fn writes(&self) -> bool {
        matches!(self.verb, "create" | "update" | "patch")
    }

    /// The request's object, if the audit level recorded it.
    pub fn object(&self) -> Option<&'e Value> {
        self.event.request_object()
    }

    /// The command of a successful pods/exec request, lower-cased.
    pub fn exec_command(&self) -> Option<&str> {
        if self.resource != "pods" || self.subresource != "exec" || !self.ok() {
            return None;
        }
        self.exec_both().map(|(_, lower)| lower)
    }

    /// The command of a successful pods/exec request as sent, for messages.
    pub fn exec_shown(&self) -> &str {
        self.exec_both().map_or("", |(sent, _)| sent)
    }

    fn exec_both(&self) -> Option<(&str, &str)> {
        if self.resource != "pods" || self.subresource != "exec" || !self.ok() {
            return None;
        }
        self.command
            .get_or_init(|| {
                super::command::exec_command(self).map(|sent| {
                    let lower = sent.to_ascii_lowercase();
                    (sent, lower)
                })
            })
            .as_ref()
            .map(|(s, l)| (s.as_str(), l.as_str()))
    }

    /// The control plane at work in its own namespaces: not reported by exec detections.
    pub fn routine(&self) -> bool {
        self.trusted && is_system_namespace(self.namespace)
    }

    /// Who, for messages.
    pub fn who(&self) -> &'e str {
        if self.user.is_empty() {
            "an unknown user"
        } else {
            self.user
        }
    }

    /// `namespace/name` (or `name`), for messages.
    pub fn target(&self) -> String {
        let name = if self.name.is_empty() {
            "(unnamed)"
        } else {
            self.name
        };
        if self.namespace.is_empty() {
            name.to_string()
        } else {
            format!("{}/{}", self.namespace, name)
        }
    }

    /// The client address: the first of `sourceIPs`.
    pub fn source(&self) -> Option<&'e str> {
        self.event.source_ips().next()
    }
}

/// Identities of the control plane itself: API server, controller manager, scheduler,
/// kubelets, node bootstrap, kube-system service accounts and managed-cluster agents.
/// Anonymous requests are never control plane.
pub(crate) fn is_control_plane(user: &str) -> bool {
    if let Some(rest) = user.strip_prefix("system:") {
        if rest == "anonymous" || rest.starts_with("unauthenticated") {
            return false;
        }
        return match rest.strip_prefix("serviceaccount:") {
            Some(sa) => sa.starts_with("kube-system:"),
            None => true,
        };
    }
    user.starts_with("eks:") || user == "aksService"
}

/// A workload's service account (`system:serviceaccount:ns:name`).
pub(crate) fn is_service_account(user: &str) -> bool {
    user.starts_with("system:serviceaccount:")
}

/// A configured identity: exact, or a prefix when it ends in `*`.
pub(crate) fn user_matches(pattern: &str, user: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => user.starts_with(prefix),
        None => pattern == user,
    }
}

/// The namespaces the cluster itself runs in.
pub(crate) fn is_system_namespace(ns: &str) -> bool {
    matches!(
        ns,
        "kube-system" | "kube-public" | "kube-node-lease" | "gke-system" | "gke-managed-system"
    )
}

/// `haystack` contains `needle` (given in lower case), ignoring ASCII case, without
/// allocating.
pub(crate) fn contains_ci(haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_plane_identities() {
        for user in [
            "system:kube-controller-manager",
            "system:node:ip-10-0-0-1",
            "system:serviceaccount:kube-system:replicaset-controller",
            "system:apiserver",
            "eks:addon-manager",
        ] {
            assert!(is_control_plane(user), "{user}");
        }
        for user in [
            "system:anonymous",
            "system:unauthenticated",
            "system:serviceaccount:default:app",
            "kubernetes-admin",
            "",
        ] {
            assert!(!is_control_plane(user), "{user}");
        }
    }

    #[test]
    fn patterns_and_case() {
        assert!(user_matches(
            "system:serviceaccount:monitoring:*",
            "system:serviceaccount:monitoring:ksm"
        ));
        assert!(!user_matches("alice", "alice2"));
        assert!(contains_ci("Mozilla TruffleHog/3", "trufflehog"));
        assert!(!contains_ci("kubectl/v1.30", "trufflehog"));
    }
}
