//! The pack's detections as data: id, title, severity, ATT&CK techniques, description and
//! references. The logic lives in the theme modules; `tests` check the two agree.

use palisade_model::Severity;

/// What one detection is: everything about it except its logic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetectionMeta {
    /// Stable id, `PAL-A1nn`; the alert's `rule`.
    pub id: &'static str,
    /// A short title.
    pub title: &'static str,
    /// How bad a true positive is.
    pub severity: Severity,
    /// MITRE ATT&CK technique ids.
    pub attack: &'static [&'static str],
    /// What it looks for, in a sentence or two.
    pub description: &'static str,
    /// Where to read more.
    pub references: &'static [&'static str],
}

use Severity::{Critical, High, Low, Medium};

const MATRIX: &str = "https://microsoft.github.io/Threat-Matrix-for-Kubernetes/";
const AUDIT: &str = "https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/";
const RBAC: &str = "https://kubernetes.io/docs/concepts/security/rbac-good-practices/";
const PSS: &str = "https://kubernetes.io/docs/concepts/security/pod-security-standards/";

macro_rules! detection {
    ($id:literal, $sev:ident, [$($t:literal),+], $title:literal, $desc:literal, [$($r:expr),*]) => {
        DetectionMeta {
            id: $id,
            title: $title,
            severity: $sev,
            attack: &[$($t),+],
            description: $desc,
            references: &[$($r),*],
        }
    };
}

/// Every detection of the pack, in id order.
pub static DETECTIONS: &[DetectionMeta] = &[
    detection!(
        "PAL-A101",
        Medium,
        ["T1609"],
        "Exec into a pod",
        "A command was run in a container through pods/exec.",
        [MATRIX]
    ),
    detection!(
        "PAL-A102",
        Medium,
        ["T1609"],
        "Attach to a pod",
        "A client attached to a running container's console through pods/attach.",
        [MATRIX]
    ),
    detection!(
        "PAL-A103",
        Low,
        ["T1572"],
        "Port-forward to a pod",
        "A tunnel to a pod's port was opened through pods/portforward, bypassing Services and network policy.",
        [MATRIX]
    ),
    detection!(
        "PAL-A104",
        Medium,
        ["T1609", "T1611"],
        "Ephemeral container added",
        "A debug container was added to a running pod (pods/ephemeralcontainers), which can run any image beside the workload.",
        ["https://kubernetes.io/docs/concepts/workloads/pods/ephemeral-containers/"]
    ),
    detection!(
        "PAL-A105",
        High,
        ["T1552.001", "T1528"],
        "Exec reads credentials",
        "An exec command names a credential file: service-account or cloud workload-identity tokens, SSH keys, cloud or kube configs, /etc/shadow, the cluster PKI.",
        [MATRIX]
    ),
    detection!(
        "PAL-A106",
        High,
        ["T1552.005"],
        "Exec reaches the cloud metadata service",
        "An exec command names the instance metadata endpoint (169.254.169.254, metadata.google.internal), where node credentials are served.",
        [MATRIX]
    ),
    detection!(
        "PAL-A107",
        Medium,
        ["T1005"],
        "Files copied out of a pod",
        "An exec runs `tar cf -`, which is how `kubectl cp` copies files out of a container.",
        [MATRIX]
    ),
    detection!(
        "PAL-A110",
        High,
        ["T1610", "T1611"],
        "Privileged container",
        "A pod or workload template with a privileged container was created or changed.",
        [PSS]
    ),
    detection!(
        "PAL-A111",
        High,
        ["T1611"],
        "Sensitive hostPath mount",
        "A pod or workload template mounts a sensitive host path: /, /etc, /root, /proc, /sys, /dev, /boot, runtime sockets, kubelet or etcd state.",
        [PSS]
    ),
    detection!(
        "PAL-A112",
        High,
        ["T1611"],
        "Host PID or IPC namespace",
        "A pod or workload template shares the node's process or IPC namespace (hostPID, hostIPC).",
        [PSS]
    ),
    detection!(
        "PAL-A113",
        Medium,
        ["T1611"],
        "Host network namespace",
        "A pod or workload template uses the node's network namespace (hostNetwork).",
        [PSS]
    ),
    detection!(
        "PAL-A114",
        High,
        ["T1611"],
        "Dangerous capability added",
        "A container adds a capability that breaks isolation: SYS_ADMIN, SYS_PTRACE, SYS_MODULE, SYS_RAWIO, SYS_BOOT, NET_ADMIN, BPF, PERFMON, DAC_READ_SEARCH or ALL.",
        [PSS]
    ),
    detection!(
        "PAL-A115",
        Medium,
        ["T1610"],
        "Risky workload refused",
        "A create or change of a privileged, host-namespace, hostPath or dangerous-capability workload was refused (RBAC or admission): an attempt, not a running pod.",
        [PSS]
    ),
    detection!(
        "PAL-A116",
        Medium,
        ["T1036.005", "T1610"],
        "Workload created in a system namespace",
        "Someone other than the control plane created a pod or workload in kube-system, kube-public, kube-node-lease or a managed system namespace.",
        [MATRIX]
    ),
    detection!(
        "PAL-A117",
        Low,
        ["T1610"],
        "DaemonSet created",
        "A DaemonSet (one pod on every node) was created by someone other than the control plane.",
        [MATRIX]
    ),
    detection!(
        "PAL-A118",
        Low,
        ["T1053.007"],
        "CronJob created or changed",
        "A CronJob was created or changed by someone other than the control plane: scheduled persistence.",
        [MATRIX]
    ),
    detection!(
        "PAL-A119",
        Medium,
        ["T1610"],
        "Sidecar injected into a workload",
        "A patch adds a container to an existing workload: a JSON patch adding to the container list, or a merge patch carrying a full container (image with command, args, mounts or securityContext).",
        [MATRIX]
    ),
    detection!(
        "PAL-A120",
        Medium,
        ["T1204.003", "T1610"],
        "Attack-tool image",
        "A pod or workload runs an image of a known offensive or scanning tool (kali, nmap, kube-hunter, peirates, metasploit ...).",
        [MATRIX]
    ),
    detection!(
        "PAL-A121",
        Low,
        ["T1133"],
        "NodePort Service",
        "A Service of type NodePort was created or changed, opening a port on every node.",
        ["https://kubernetes.io/docs/concepts/services-networking/service/#type-nodeport"]
    ),
    detection!(
        "PAL-A122",
        High,
        ["T1557"],
        "Service with externalIPs (CVE-2020-8554)",
        "A Service sets spec.externalIPs, which lets its author intercept traffic to any IP in the cluster.",
        ["https://github.com/kubernetes/kubernetes/issues/97076"]
    ),
    detection!(
        "PAL-A123",
        High,
        ["T1557"],
        "LoadBalancer status set by a non-controller (CVE-2020-8554)",
        "Someone other than a load-balancer controller updated a Service's status, which redirects cluster traffic for the IP it names.",
        ["https://github.com/kubernetes/kubernetes/issues/97076"]
    ),
    detection!(
        "PAL-A130",
        High,
        ["T1098.006", "T1078"],
        "Binding to a privileged role",
        "A RoleBinding or ClusterRoleBinding grants cluster-admin, admin, system:masters, a controller's role, or binds the system:masters group.",
        [RBAC]
    ),
    detection!(
        "PAL-A131",
        Medium,
        ["T1098.006"],
        "Role with wildcard permissions",
        "A Role or ClusterRole was created or changed with `*` in its verbs or resources.",
        [RBAC]
    ),
    detection!(
        "PAL-A132",
        Medium,
        ["T1098.006"],
        "Role grants escalation permissions",
        "A Role or ClusterRole grants pods/exec or pods/attach, nodes/proxy, serviceaccounts/token, CSR approval, or the escalate, bind or impersonate verbs.",
        [RBAC]
    ),
    detection!(
        "PAL-A133",
        Medium,
        ["T1098.006"],
        "System role or binding modified",
        "A built-in `system:` ClusterRole or ClusterRoleBinding was changed or deleted by someone other than the control plane.",
        [RBAC]
    ),
    detection!(
        "PAL-A134",
        High,
        ["T1134"],
        "Privileged identity impersonated",
        "A request impersonated a control-plane identity or the system:masters group.",
        [
            "https://kubernetes.io/docs/reference/access-authn-authz/authentication/#user-impersonation"
        ]
    ),
    detection!(
        "PAL-A135",
        Low,
        ["T1613", "T1069.003"],
        "Permission discovery",
        "Someone other than the control plane listed its own permissions (SelfSubjectRulesReview, `kubectl auth can-i --list`).",
        [MATRIX]
    ),
    detection!(
        "PAL-A136",
        Medium,
        ["T1098.006"],
        "Certificate signing request created or approved",
        "Someone other than the control plane created or approved a CertificateSigningRequest: a client certificate is a credential that cannot be revoked.",
        ["https://kubernetes.io/docs/reference/access-authn-authz/certificate-signing-requests/"]
    ),
    detection!(
        "PAL-A140",
        High,
        ["T1552.007"],
        "Secrets listed in all namespaces",
        "Secrets were listed or watched across all namespaces by someone other than the control plane, outside a controller's informer.",
        [MATRIX]
    ),
    detection!(
        "PAL-A141",
        Low,
        ["T1552.007"],
        "Secret access denied",
        "A get, list or watch of Secrets was refused (401 or 403).",
        [MATRIX]
    ),
    detection!(
        "PAL-A142",
        Medium,
        ["T1528"],
        "Service account token requested",
        "A service-account token was minted through the TokenRequest API by someone other than the control plane.",
        [
            "https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/token-request-v1/"
        ]
    ),
    detection!(
        "PAL-A143",
        Medium,
        ["T1528"],
        "Long-lived service account token secret",
        "A Secret of type kubernetes.io/service-account-token was created: a token that never expires.",
        ["https://kubernetes.io/docs/concepts/configuration/secret/#serviceaccount-token-secrets"]
    ),
    detection!(
        "PAL-A150",
        High,
        ["T1078.001", "T1190"],
        "Anonymous request allowed",
        "An unauthenticated request (system:anonymous) was allowed beyond the public health and version endpoints.",
        [AUDIT]
    ),
    detection!(
        "PAL-A151",
        Medium,
        ["T1613", "T1550.001"],
        "Kubelet API through nodes/proxy",
        "The kubelet API was reached through the API server's nodes/proxy, which can run commands in any pod of the node.",
        [MATRIX]
    ),
    detection!(
        "PAL-A152",
        Medium,
        ["T1613"],
        "Attack-tool user agent",
        "A request came from a known offensive or secret-hunting tool (trufflehog, rakkess, azurehound, kube-hunter, peirates ...).",
        [MATRIX]
    ),
    detection!(
        "PAL-A153",
        Medium,
        ["T1546", "T1562"],
        "Admission webhook changed",
        "A mutating or validating webhook configuration was created or deleted, or changed by a person (service accounts rotating their own caBundle are not reported).",
        [MATRIX]
    ),
    detection!(
        "PAL-A154",
        Medium,
        ["T1070"],
        "Events deleted",
        "Kubernetes Events were deleted by someone other than the control plane: covering tracks.",
        [MATRIX]
    ),
    detection!(
        "PAL-A155",
        Medium,
        ["T1565.001"],
        "CoreDNS configuration changed",
        "The CoreDNS ConfigMap in kube-system was changed or deleted by someone other than the control plane: cluster DNS can be redirected.",
        [MATRIX]
    ),
    detection!(
        "PAL-A160",
        Critical,
        ["T1190"],
        "Log4Shell JNDI lookup in a request",
        "A `${jndi:` lookup, plain, URL-encoded or obfuscated with nested lookups, appears in the URI, the user agent or any string of the request object.",
        ["https://nvd.nist.gov/vuln/detail/CVE-2021-44228"]
    ),
    detection!(
        "PAL-A161",
        High,
        ["T1496"],
        "Crypto-miner",
        "A workload or exec runs a miner: a miner image, xmrig-style arguments, a stratum URL or a mining pool.",
        [MATRIX]
    ),
    detection!(
        "PAL-A162",
        High,
        ["T1048", "T1041"],
        "Exfiltration-shaped exec",
        "An exec command sends data out: curl or wget posting a file, nc to a host, base64 of a credential path, or a redirect to /dev/tcp.",
        [MATRIX]
    ),
    detection!(
        "PAL-A163",
        Critical,
        ["T1059.004"],
        "Reverse shell in exec",
        "An exec command opens a reverse shell (bash -i to /dev/tcp, nc -e, socat exec, a python, perl or php socket shell).",
        [MATRIX]
    ),
    detection!(
        "PAL-A164",
        Medium,
        ["T1105"],
        "Download and run in exec",
        "An exec command downloads a program and runs it (curl or wget piped into a shell, or made executable).",
        [MATRIX]
    ),
    detection!(
        "PAL-A170",
        Medium,
        ["T1613", "T1046"],
        "Burst of authentication or authorization failures",
        "One source received many 401 or 403 responses within a window: scanning or credential guessing.",
        [AUDIT]
    ),
    detection!(
        "PAL-A171",
        High,
        ["T1552.007"],
        "Secrets read across many namespaces",
        "One identity read Secrets in many namespaces within a window (Helm release records excluded).",
        [MATRIX]
    ),
    detection!(
        "PAL-A172",
        Medium,
        ["T1613"],
        "New identity touching many resources",
        "An identity not seen before read many different resource types within a window of its first activity: discovery with new or stolen credentials.",
        [MATRIX]
    ),
];

/// The metadata of one detection.
pub fn find(id: &str) -> Option<&'static DetectionMeta> {
    DETECTIONS.iter().find(|d| d.id == id)
}
