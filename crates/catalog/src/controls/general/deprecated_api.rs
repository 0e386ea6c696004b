//! PAL-904, PAL-905: API versions Kubernetes no longer serves, or has deprecated.
//!
//! The table follows the Deprecated API Migration Guide and the API lifecycle the Kubernetes
//! API types declare (`prerelease-lifecycle-gen` introduced/deprecated/removed versions).

use crate::registry::{Rule, Target};
use crate::{Context, Hits};
use palisade_model::Object;

/// The newest Kubernetes minor release (1.x) the table was checked against: entries removed
/// in it or before are reported as removed, later removals as deprecated.
const CHECKED_AGAINST: u32 = 36;

/// An API version of some kinds that is deprecated, with its fate (minor versions of 1.x).
struct Retired {
    api_version: &'static str,
    kinds: &'static [&'static str],
    deprecated_in: Option<u32>,
    removed_in: Option<u32>,
    replacement: &'static str,
}

const fn entry(
    api_version: &'static str,
    kinds: &'static [&'static str],
    deprecated_in: Option<u32>,
    removed_in: Option<u32>,
    replacement: &'static str,
) -> Retired {
    Retired {
        api_version,
        kinds,
        deprecated_in,
        removed_in,
        replacement,
    }
}

const RBAC: &[&str] = &["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"];
const WEBHOOKS: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];
const VAP: &[&str] = &[
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
];
const MAP: &[&str] = &["MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"];
const FLOW: &[&str] = &["FlowSchema", "PriorityLevelConfiguration"];
const DRA: &[&str] = &[
    "DeviceClass",
    "ResourceClaim",
    "ResourceClaimTemplate",
    "ResourceSlice",
];

#[rustfmt::skip]
const TABLE: &[Retired] = &[
    entry("extensions/v1beta1", &["Deployment", "DaemonSet", "ReplicaSet"], Some(8), Some(16), "apps/v1"),
    entry("extensions/v1beta1", &["NetworkPolicy"], Some(9), Some(16), "networking.k8s.io/v1"),
    entry("extensions/v1beta1", &["PodSecurityPolicy"], None, Some(16), "Pod Security Admission (PodSecurityPolicy itself is gone since v1.25)"),
    entry("extensions/v1beta1", &["Ingress"], Some(14), Some(22), "networking.k8s.io/v1"),
    entry("apps/v1beta1", &["Deployment", "StatefulSet", "ReplicaSet", "ControllerRevision"], Some(8), Some(16), "apps/v1"),
    entry("apps/v1beta2", &["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ControllerRevision"], Some(9), Some(16), "apps/v1"),
    entry("policy/v1beta1", &["PodDisruptionBudget"], Some(21), Some(25), "policy/v1"),
    entry("policy/v1beta1", &["PodSecurityPolicy"], Some(21), Some(25), "Pod Security Admission"),
    entry("batch/v1beta1", &["CronJob"], Some(21), Some(25), "batch/v1"),
    entry("autoscaling/v2beta1", &["HorizontalPodAutoscaler"], Some(22), Some(25), "autoscaling/v2"),
    entry("autoscaling/v2beta2", &["HorizontalPodAutoscaler"], Some(23), Some(26), "autoscaling/v2"),
    entry("networking.k8s.io/v1beta1", &["Ingress", "IngressClass"], Some(19), Some(22), "networking.k8s.io/v1"),
    entry("networking.k8s.io/v1beta1", &["IPAddress", "ServiceCIDR"], Some(34), Some(37), "networking.k8s.io/v1"),
    entry("rbac.authorization.k8s.io/v1beta1", RBAC, Some(17), Some(22), "rbac.authorization.k8s.io/v1"),
    entry("rbac.authorization.k8s.io/v1alpha1", RBAC, Some(17), Some(22), "rbac.authorization.k8s.io/v1"),
    entry("admissionregistration.k8s.io/v1beta1", WEBHOOKS, Some(16), Some(22), "admissionregistration.k8s.io/v1"),
    entry("admissionregistration.k8s.io/v1beta1", VAP, Some(31), Some(34), "admissionregistration.k8s.io/v1"),
    entry("admissionregistration.k8s.io/v1alpha1", VAP, Some(29), Some(32), "admissionregistration.k8s.io/v1"),
    entry("admissionregistration.k8s.io/v1alpha1", MAP, Some(35), Some(38), "admissionregistration.k8s.io/v1"),
    entry("apiextensions.k8s.io/v1beta1", &["CustomResourceDefinition"], Some(16), Some(22), "apiextensions.k8s.io/v1"),
    entry("apiregistration.k8s.io/v1beta1", &["APIService"], Some(19), Some(22), "apiregistration.k8s.io/v1"),
    entry("scheduling.k8s.io/v1beta1", &["PriorityClass"], Some(14), Some(22), "scheduling.k8s.io/v1"),
    entry("storage.k8s.io/v1beta1", &["CSINode"], Some(17), Some(22), "storage.k8s.io/v1"),
    entry("storage.k8s.io/v1beta1", &["CSIDriver", "StorageClass", "VolumeAttachment"], Some(19), Some(22), "storage.k8s.io/v1"),
    entry("storage.k8s.io/v1beta1", &["CSIStorageCapacity"], Some(24), Some(27), "storage.k8s.io/v1"),
    entry("storage.k8s.io/v1beta1", &["VolumeAttributesClass"], Some(34), Some(37), "storage.k8s.io/v1"),
    entry("storage.k8s.io/v1alpha1", &["VolumeAttachment", "CSIStorageCapacity"], Some(21), Some(24), "storage.k8s.io/v1"),
    entry("storage.k8s.io/v1alpha1", &["VolumeAttributesClass"], Some(32), Some(35), "storage.k8s.io/v1"),
    entry("coordination.k8s.io/v1beta1", &["Lease"], Some(19), Some(22), "coordination.k8s.io/v1"),
    entry("certificates.k8s.io/v1beta1", &["CertificateSigningRequest"], Some(19), Some(22), "certificates.k8s.io/v1"),
    entry("certificates.k8s.io/v1alpha1", &["ClusterTrustBundle"], Some(34), Some(37), "certificates.k8s.io/v1beta1"),
    entry("discovery.k8s.io/v1beta1", &["EndpointSlice"], Some(21), Some(25), "discovery.k8s.io/v1"),
    entry("events.k8s.io/v1beta1", &["Event"], Some(22), Some(25), "events.k8s.io/v1"),
    entry("flowcontrol.apiserver.k8s.io/v1alpha1", FLOW, Some(20), Some(21), "flowcontrol.apiserver.k8s.io/v1"),
    entry("flowcontrol.apiserver.k8s.io/v1beta1", FLOW, Some(23), Some(26), "flowcontrol.apiserver.k8s.io/v1"),
    entry("flowcontrol.apiserver.k8s.io/v1beta2", FLOW, Some(26), Some(29), "flowcontrol.apiserver.k8s.io/v1"),
    entry("flowcontrol.apiserver.k8s.io/v1beta3", FLOW, Some(29), Some(32), "flowcontrol.apiserver.k8s.io/v1"),
    entry("node.k8s.io/v1beta1", &["RuntimeClass"], Some(22), Some(25), "node.k8s.io/v1"),
    entry("resource.k8s.io/v1alpha2", &["ResourceClass", "ResourceClaim", "ResourceClaimTemplate", "PodSchedulingContext", "ResourceSlice", "ResourceClaimParameters", "ResourceClassParameters"], None, Some(31), "resource.k8s.io/v1"),
    entry("resource.k8s.io/v1alpha3", DRA, None, Some(34), "resource.k8s.io/v1"),
    entry("resource.k8s.io/v1beta1", DRA, Some(35), Some(38), "resource.k8s.io/v1"),
    entry("resource.k8s.io/v1beta2", DRA, Some(36), Some(39), "resource.k8s.io/v1"),
    entry("v1", &["Endpoints"], Some(33), None, "discovery.k8s.io/v1 EndpointSlice"),
];

/// Every kind of the table: what the rules look at.
const KINDS: &[&str] = &[
    "APIService",
    "CSIDriver",
    "CSINode",
    "CSIStorageCapacity",
    "CertificateSigningRequest",
    "ClusterRole",
    "ClusterRoleBinding",
    "ClusterTrustBundle",
    "ControllerRevision",
    "CronJob",
    "CustomResourceDefinition",
    "DaemonSet",
    "Deployment",
    "DeviceClass",
    "EndpointSlice",
    "Endpoints",
    "Event",
    "FlowSchema",
    "HorizontalPodAutoscaler",
    "IPAddress",
    "Ingress",
    "IngressClass",
    "Lease",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "MutatingWebhookConfiguration",
    "NetworkPolicy",
    "PodDisruptionBudget",
    "PodSchedulingContext",
    "PodSecurityPolicy",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "ReplicaSet",
    "ResourceClaim",
    "ResourceClaimParameters",
    "ResourceClaimTemplate",
    "ResourceClass",
    "ResourceClassParameters",
    "ResourceSlice",
    "Role",
    "RoleBinding",
    "RuntimeClass",
    "ServiceCIDR",
    "StatefulSet",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
    "VolumeAttributesClass",
];

pub const REMOVED: Rule = Rule {
    id: "PAL-904",
    target: Target::Kinds(KINDS),
    check: removed,
};

pub const DEPRECATED: Rule = Rule {
    id: "PAL-905",
    target: Target::Kinds(KINDS),
    check: deprecated,
};

fn lookup(object: &Object) -> Option<&'static Retired> {
    TABLE
        .iter()
        .find(|r| r.api_version == object.api_version() && r.kinds.contains(&object.kind()))
}

fn is_removed(entry: &Retired) -> bool {
    entry.removed_in.is_some_and(|r| r <= CHECKED_AGAINST)
}

fn removed(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some(entry) = lookup(object) else {
        return;
    };
    let Some(removed_in) = entry.removed_in.filter(|r| *r <= CHECKED_AGAINST) else {
        return;
    };
    let since = entry
        .deprecated_in
        .map(|d| format!(" (deprecated since v1.{d})"))
        .unwrap_or_default();
    hits.push(
        "/apiVersion",
        format!(
            "{} {} is no longer served since Kubernetes v1.{removed_in}{since}; use {}",
            entry.api_version,
            object.kind(),
            entry.replacement
        ),
    );
}

fn deprecated(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some(entry) = lookup(object).filter(|e| !is_removed(e)) else {
        return;
    };
    let since = entry
        .deprecated_in
        .map(|d| format!(" since Kubernetes v1.{d}"))
        .unwrap_or_default();
    let until = entry
        .removed_in
        .map(|r| format!(" and will no longer be served from v1.{r}"))
        .unwrap_or_default();
    hits.push(
        "/apiVersion",
        format!(
            "{} {} is deprecated{since}{until}; use {}",
            entry.api_version,
            object.kind(),
            entry.replacement
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_kind_is_targeted() {
        for entry in TABLE {
            for kind in entry.kinds {
                assert!(
                    KINDS.contains(kind),
                    "{kind} of {} is not in KINDS",
                    entry.api_version
                );
            }
        }
        for kind in KINDS {
            assert!(
                TABLE.iter().any(|e| e.kinds.contains(kind)),
                "{kind} is targeted but not in the table"
            );
        }
    }

    #[test]
    fn entries_are_consistent() {
        for entry in TABLE {
            if let (Some(d), Some(r)) = (entry.deprecated_in, entry.removed_in) {
                assert!(d < r, "{}", entry.api_version);
            }
            // Something not yet removed must have been deprecated to be reported at all.
            if !is_removed(entry) {
                assert!(entry.deprecated_in.is_some_and(|d| d <= CHECKED_AGAINST));
            }
        }
    }
}
