//! Kinds to resources: admission rules name resources (`pods`, `deployments`), objects name
//! kinds (`Pod`, `Deployment`). Built-in kinds come from a table; other kinds are guessed as
//! the lower-case plural, as the API server guesses for kinds it does not know.

/// Built-in kinds whose resource is not the regular plural, and the common ones for reference.
const BUILT_IN: &[(&str, &str)] = &[
    ("Binding", "bindings"),
    ("ComponentStatus", "componentstatuses"),
    ("ConfigMap", "configmaps"),
    ("Endpoints", "endpoints"),
    ("Event", "events"),
    ("LimitRange", "limitranges"),
    ("Namespace", "namespaces"),
    ("Node", "nodes"),
    ("PersistentVolume", "persistentvolumes"),
    ("PersistentVolumeClaim", "persistentvolumeclaims"),
    ("Pod", "pods"),
    ("PodTemplate", "podtemplates"),
    ("ReplicationController", "replicationcontrollers"),
    ("ResourceQuota", "resourcequotas"),
    ("Secret", "secrets"),
    ("Service", "services"),
    ("ServiceAccount", "serviceaccounts"),
    ("ControllerRevision", "controllerrevisions"),
    ("DaemonSet", "daemonsets"),
    ("Deployment", "deployments"),
    ("ReplicaSet", "replicasets"),
    ("StatefulSet", "statefulsets"),
    ("HorizontalPodAutoscaler", "horizontalpodautoscalers"),
    ("CronJob", "cronjobs"),
    ("Job", "jobs"),
    ("EndpointSlice", "endpointslices"),
    ("Ingress", "ingresses"),
    ("IngressClass", "ingressclasses"),
    ("NetworkPolicy", "networkpolicies"),
    ("PodDisruptionBudget", "poddisruptionbudgets"),
    ("ClusterRole", "clusterroles"),
    ("ClusterRoleBinding", "clusterrolebindings"),
    ("Role", "roles"),
    ("RoleBinding", "rolebindings"),
    ("PriorityClass", "priorityclasses"),
    ("RuntimeClass", "runtimeclasses"),
    ("StorageClass", "storageclasses"),
    ("CSIDriver", "csidrivers"),
    ("CSINode", "csinodes"),
    ("VolumeAttachment", "volumeattachments"),
    ("CustomResourceDefinition", "customresourcedefinitions"),
    (
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
    ),
    (
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
    ),
    ("ValidatingAdmissionPolicy", "validatingadmissionpolicies"),
    (
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
    ),
    ("CertificateSigningRequest", "certificatesigningrequests"),
    ("Lease", "leases"),
    ("APIService", "apiservices"),
];

/// The resource (plural, lower case) of a kind.
pub(crate) fn resource_of(kind: &str) -> String {
    if let Some((_, resource)) = BUILT_IN.iter().find(|(k, _)| *k == kind) {
        return (*resource).to_string();
    }
    plural(&kind.to_ascii_lowercase())
}

/// The regular English plural: `-y` after a consonant becomes `-ies`; `-s`, `-x`, `-z`,
/// `-ch` and `-sh` take `-es`; anything else takes `-s`.
fn plural(singular: &str) -> String {
    if let Some(stem) = singular.strip_suffix('y')
        && stem.ends_with(|c: char| !"aeiou".contains(c))
    {
        return format!("{stem}ies");
    }
    if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|end| singular.ends_with(end))
    {
        return format!("{singular}es");
    }
    format!("{singular}s")
}

#[cfg(test)]
mod tests {
    use super::resource_of;

    #[test]
    fn built_in_and_guessed_resources() {
        for (kind, resource) in [
            ("Pod", "pods"),
            ("Endpoints", "endpoints"),
            ("NetworkPolicy", "networkpolicies"),
            ("Ingress", "ingresses"),
            ("Gateway", "gateways"),
            ("Policy", "policies"),
            ("Mailbox", "mailboxes"),
            ("Patch", "patches"),
            ("Mesh", "meshes"),
            ("Widget", "widgets"),
        ] {
            assert_eq!(resource_of(kind), resource, "{kind}");
        }
    }
}
