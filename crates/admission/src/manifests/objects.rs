//! The objects themselves, and the checks that keep options from producing objects the API
//! server would refuse.

use super::tls::service_dns_names;
use super::yaml::Document;
use super::{Certificates, IssuerRef, ManifestError, ManifestOptions, ServingTls, webhooks};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

/// The server's HTTPS port inside the pod (unprivileged, so no capability is needed).
pub(super) const PORT: u16 = 8443;

const TLS_DIR: &str = "/etc/palisade/tls";
const POLICY_DIR: &str = "/etc/palisade/policy";
const POLICY_KEY: &str = "policy.yaml";

/// The distroless `nonroot` user and group: not root, and not a UID an image's files or a
/// host account are likely to own.
const USER: u32 = 65532;

/// Namespaces the manifests must not create or relabel (the Namespace object would set
/// their Pod Security level), and that the webhook configurations exempt instead.
const RESERVED_NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

/// ConfigMaps are limited to 1 MiB in all; leave room for the rest of the object.
const MAX_POLICY_BYTES: usize = 1_000_000;

/// Names and labels shared by every object.
pub(super) struct Install<'a> {
    pub options: &'a ManifestOptions,
}

impl Install<'_> {
    pub fn name(&self) -> &str {
        &self.options.name
    }

    pub fn namespace(&self) -> &str {
        &self.options.namespace
    }

    fn tls_secret(&self) -> String {
        format!("{}-tls", self.name())
    }

    fn policy_config_map(&self) -> String {
        format!("{}-policy", self.name())
    }

    /// Labels that pick the server's pods: stable across releases, since a Deployment's
    /// selector cannot change.
    fn selector(&self) -> Map<String, Value> {
        let mut labels = Map::new();
        labels.insert("app.kubernetes.io/name".into(), json!("palisade"));
        labels.insert("app.kubernetes.io/instance".into(), json!(self.name()));
        labels.insert("app.kubernetes.io/component".into(), json!("admission"));
        labels
    }

    /// Labels on every object.
    pub fn labels(&self) -> Map<String, Value> {
        let mut labels = self.selector();
        labels.insert(
            "app.kubernetes.io/version".into(),
            json!(env!("CARGO_PKG_VERSION")),
        );
        labels
    }

    /// Metadata of a namespaced object.
    fn meta(&self, name: &str) -> Value {
        json!({"name": name, "namespace": self.namespace(), "labels": self.labels()})
    }

    /// Metadata of a cluster-scoped object.
    pub fn cluster_meta(&self, name: &str) -> Value {
        json!({"name": name, "labels": self.labels()})
    }
}

/// Every object, in the order `kubectl apply` should create them: the namespace first, the
/// webhook configurations last, once what they call exists.
pub(super) fn all(options: &ManifestOptions, tls: Option<&ServingTls>) -> Vec<Document> {
    let install = Install { options };
    let mut documents = vec![namespace(&install), service_account(&install)];
    if let Some(policy) = &options.policy {
        documents.push(policy_config_map(&install, policy));
    }
    match (&options.certificates, tls) {
        (Certificates::CertManager { issuer }, _) => {
            documents.extend(cert_manager(&install, issuer.as_ref()));
        }
        (_, Some(tls)) => documents.push(tls_secret(&install, tls)),
        (_, None) => {}
    }
    documents.push(service(&install));
    documents.push(deployment(&install));
    if options.replicas > 1 {
        documents.push(disruption_budget(&install));
    }
    documents.push(network_policy(&install));
    let ca_bundle = tls.map(|t| STANDARD.encode(&t.ca_pem));
    documents.push(webhooks::validating(&install, ca_bundle.as_deref()));
    if options.mutating {
        documents.push(webhooks::mutating(&install, ca_bundle.as_deref()));
    }
    documents
}

fn document(comment: impl Into<String>, value: Value) -> Document {
    Document {
        comment: comment.into(),
        value,
    }
}

fn namespace(install: &Install<'_>) -> Document {
    let mut meta = install.cluster_meta(install.namespace());
    if let Some(labels) = meta.get_mut("labels").and_then(Value::as_object_mut) {
        for mode in ["enforce", "audit", "warn"] {
            labels.insert(
                format!("pod-security.kubernetes.io/{mode}"),
                json!("restricted"),
            );
            labels.insert(
                format!("pod-security.kubernetes.io/{mode}-version"),
                json!("latest"),
            );
        }
    }
    document(
        "Only pods meeting the restricted Pod Security Standard run here. The webhooks never\n\
         see this namespace, so the server's own pods start even while it is down.",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": meta}),
    )
}

fn service_account(install: &Install<'_>) -> Document {
    document(
        "The server calls no Kubernetes API, so it gets no token.",
        json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": install.meta(install.name()),
            "automountServiceAccountToken": false,
        }),
    )
}

fn policy_config_map(install: &Install<'_>, policy: &str) -> Document {
    document(
        "The policy the server enforces (--policy); edits apply without a restart.",
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": install.meta(&install.policy_config_map()),
            "data": {POLICY_KEY: policy},
        }),
    )
}

fn tls_secret(install: &Install<'_>, tls: &ServingTls) -> Document {
    document(
        "The serving certificate and key, and the CA that signed them (also each webhook's\n\
         caBundle). The server reloads them when this Secret changes.",
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": install.meta(&install.tls_secret()),
            "type": "kubernetes.io/tls",
            "data": {
                "tls.crt": STANDARD.encode(&tls.cert_pem),
                "tls.key": STANDARD.encode(&tls.key_pem),
                "ca.crt": STANDARD.encode(&tls.ca_pem),
            },
        }),
    )
}

/// Issuers (unless one is given) and the serving Certificate. The CA lives five years and
/// the serving certificate 90 days, each renewed 30 days ahead; the CA injector copies the
/// `ca.crt` of the serving certificate's Secret, which is always the CA that signed it.
fn cert_manager(install: &Install<'_>, issuer: Option<&IssuerRef>) -> Vec<Document> {
    let name = install.name();
    let private_key = json!({"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"});
    let mut documents = Vec::new();
    let issuer_ref = match issuer {
        Some(IssuerRef::Issuer(issuer)) => {
            json!({"group": "cert-manager.io", "kind": "Issuer", "name": issuer})
        }
        Some(IssuerRef::ClusterIssuer(issuer)) => {
            json!({"group": "cert-manager.io", "kind": "ClusterIssuer", "name": issuer})
        }
        None => {
            let root = format!("{name}-selfsigned");
            let ca = format!("{name}-ca");
            documents.push(document(
                "Signs only the CA below.",
                json!({
                    "apiVersion": "cert-manager.io/v1",
                    "kind": "Issuer",
                    "metadata": install.meta(&root),
                    "spec": {"selfSigned": {}},
                }),
            ));
            documents.push(document(
                "A CA for this installation only.",
                json!({
                    "apiVersion": "cert-manager.io/v1",
                    "kind": "Certificate",
                    "metadata": install.meta(&ca),
                    "spec": {
                        "isCA": true,
                        "commonName": format!("{name}.{} webhook CA", install.namespace()),
                        "secretName": ca,
                        "duration": "43800h",
                        "renewBefore": "720h",
                        "privateKey": private_key,
                        "issuerRef": {"group": "cert-manager.io", "kind": "Issuer", "name": root},
                        "secretTemplate": {"labels": install.labels()},
                    },
                }),
            ));
            documents.push(document(
                "Issues the serving certificate from that CA.",
                json!({
                    "apiVersion": "cert-manager.io/v1",
                    "kind": "Issuer",
                    "metadata": install.meta(&ca),
                    "spec": {"ca": {"secretName": ca}},
                }),
            ));
            json!({"group": "cert-manager.io", "kind": "Issuer", "name": ca})
        }
    };
    documents.push(document(
        "The serving certificate, for the Service's names. The server reloads it when\n\
         cert-manager renews it; the CA injector keeps the webhooks' caBundle in step.",
        json!({
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": install.meta(name),
            "spec": {
                "secretName": install.tls_secret(),
                "dnsNames": service_dns_names(install.namespace(), name),
                "duration": "2160h",
                "renewBefore": "720h",
                "usages": ["digital signature", "server auth"],
                "privateKey": private_key,
                "issuerRef": issuer_ref,
                "secretTemplate": {"labels": install.labels()},
            },
        }),
    ));
    documents
}

fn service(install: &Install<'_>) -> Document {
    document(
        "The API server calls the webhooks through this Service.",
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": install.meta(install.name()),
            "spec": {
                "type": "ClusterIP",
                "selector": install.selector(),
                "ports": [{"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}],
            },
        }),
    )
}

fn deployment(install: &Install<'_>) -> Document {
    let options = install.options;
    let mut pod_labels = install.labels();
    // Belt and braces: the namespace is exempt already, but the server's pods must never
    // wait on the server, even if someone widens the namespaceSelector.
    if let Some(label) = &options.opt_out_label {
        pod_labels.insert(label.clone(), json!("true"));
    }
    // Replicas on different nodes, then zones; preferred, so a one-node cluster still runs
    // every replica.
    let spread = ["kubernetes.io/hostname", "topology.kubernetes.io/zone"].map(|key| {
        json!({
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": install.selector()},
        })
    });
    let mut spec = json!({
        "serviceAccountName": install.name(),
        "automountServiceAccountToken": false,
        "enableServiceLinks": false,
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "securityContext": {
            "runAsNonRoot": true,
            "runAsUser": USER,
            "runAsGroup": USER,
            // Group-owns the mounted key, which is mode 0440.
            "fsGroup": USER,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "topologySpreadConstraints": spread,
        "containers": [container(install)],
        "volumes": volumes(install),
    });
    if let (Some(class), Some(map)) = (&options.priority_class_name, spec.as_object_mut()) {
        map.insert("priorityClassName".into(), json!(class));
    }
    document(
        "Rolling updates start a new pod before stopping an old one (maxUnavailable 0):\n\
         a webhook that fails closed keeps all its capacity while it is replaced.",
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": install.meta(install.name()),
            "spec": {
                "replicas": options.replicas,
                "selector": {"matchLabels": install.selector()},
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
                },
                // A new pod must stay ready this long before an old one goes.
                "minReadySeconds": 5,
                "template": {"metadata": {"labels": pod_labels}, "spec": spec},
            },
        }),
    )
}

fn container(install: &Install<'_>) -> Value {
    let listen = format!("0.0.0.0:{PORT}");
    let cert = format!("{TLS_DIR}/tls.crt");
    let key = format!("{TLS_DIR}/tls.key");
    let mut args = vec![
        "admission",
        "serve",
        "--listen",
        &listen,
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
    ];
    let policy = format!("{POLICY_DIR}/{POLICY_KEY}");
    let mut mounts = vec![json!({"name": "tls", "mountPath": TLS_DIR, "readOnly": true})];
    if install.options.policy.is_some() {
        args.extend(["--policy", &policy]);
        mounts.push(json!({"name": "policy", "mountPath": POLICY_DIR, "readOnly": true}));
    }
    // The health endpoints never ask for a client certificate, and the kubelet does not
    // verify the serving one, so probes work over HTTPS as they are.
    let probe = |path: &str, period: u32, failures: u32| {
        json!({
            "httpGet": {"path": path, "port": "https", "scheme": "HTTPS"},
            "periodSeconds": period,
            "timeoutSeconds": 2,
            "failureThreshold": failures,
        })
    };
    json!({
        "name": "admission",
        "image": install.options.image,
        // Not Always: restarting a fail-closed webhook must not depend on the registry.
        "imagePullPolicy": "IfNotPresent",
        // The image's entrypoint is the palisade binary.
        "args": args,
        "ports": [{"name": "https", "containerPort": PORT, "protocol": "TCP"}],
        // Up to a minute to load a large policy before liveness counts.
        "startupProbe": probe("/healthz", 2, 30),
        "livenessProbe": probe("/healthz", 10, 3),
        "readinessProbe": probe("/readyz", 5, 2),
        "resources": {
            // No CPU limit: throttling turns into webhook timeouts, which fail closed.
            "requests": {"cpu": "100m", "memory": "64Mi", "ephemeral-storage": "32Mi"},
            // Logs count against ephemeral storage; the kubelet keeps at most 50Mi by default.
            "limits": {"memory": "256Mi", "ephemeral-storage": "128Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": false,
            "privileged": false,
            "readOnlyRootFilesystem": true,
            "runAsNonRoot": true,
            "runAsUser": USER,
            "runAsGroup": USER,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": mounts,
    })
}

/// Whole-directory mounts (never `subPath`, which the kubelet does not refresh), so renewed
/// certificates and edited policies reach the running server.
fn volumes(install: &Install<'_>) -> Value {
    let mut volumes = vec![json!({
        "name": "tls",
        "secret": {"secretName": install.tls_secret(), "defaultMode": 0o440},
    })];
    if install.options.policy.is_some() {
        volumes.push(json!({
            "name": "policy",
            "configMap": {"name": install.policy_config_map()},
        }));
    }
    Value::Array(volumes)
}

fn disruption_budget(install: &Install<'_>) -> Document {
    document(
        "Node drains leave at least one replica answering.",
        json!({
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": install.meta(install.name()),
            "spec": {"minAvailable": 1, "selector": {"matchLabels": install.selector()}},
        }),
    )
}

fn network_policy(install: &Install<'_>) -> Document {
    document(
        "Ingress to the HTTPS port only, from anywhere: the API server's address depends on\n\
         the cluster (narrow `from` to it if you know it). No egress: the server connects to\n\
         nothing.",
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": install.meta(install.name()),
            "spec": {
                "podSelector": {"matchLabels": install.selector()},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"ports": [{"port": PORT, "protocol": "TCP"}]}],
                "egress": [],
            },
        }),
    )
}

/// Refuses options that Kubernetes would reject or that would break the installation.
pub(super) fn validate(options: &ManifestOptions) -> Result<(), ManifestError> {
    let invalid =
        |option: &'static str, reason: String| ManifestError::InvalidOption { option, reason };
    if !dns_label(&options.namespace) {
        return Err(invalid(
            "namespace",
            format!("{:?} is not a DNS label", options.namespace),
        ));
    }
    if RESERVED_NAMESPACES.contains(&options.namespace.as_str()) {
        return Err(invalid(
            "namespace",
            format!(
                "{:?} is a system namespace; the server needs one of its own",
                options.namespace
            ),
        ));
    }
    // Service names are DNS-1035 labels: a DNS label that starts with a letter.
    if !dns_label(&options.name) || !options.name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(invalid(
            "name",
            format!(
                "{:?} is not a DNS label starting with a letter",
                options.name
            ),
        ));
    }
    if options.image.is_empty()
        || options
            .image
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(invalid(
            "image",
            format!("{:?} is not an image reference", options.image),
        ));
    }
    if options.replicas == 0 {
        return Err(invalid(
            "replicas",
            "0 replicas would refuse every request".into(),
        ));
    }
    if !(1..=30).contains(&options.timeout_seconds) {
        return Err(invalid(
            "timeout_seconds",
            format!("{} is not between 1 and 30", options.timeout_seconds),
        ));
    }
    if let Some(policy) = &options.policy
        && policy.len() > MAX_POLICY_BYTES
    {
        return Err(invalid(
            "policy",
            format!("{} bytes exceed a ConfigMap's 1 MiB", policy.len()),
        ));
    }
    if let Some(label) = &options.opt_out_label
        && !label_key(label)
    {
        return Err(invalid(
            "opt_out_label",
            format!("{label:?} is not a label key"),
        ));
    }
    if let Some(class) = &options.priority_class_name
        && !dns_subdomain(class)
    {
        return Err(invalid(
            "priority_class_name",
            format!("{class:?} is not a DNS subdomain"),
        ));
    }
    match &options.certificates {
        Certificates::CertManager {
            issuer: Some(IssuerRef::Issuer(name) | IssuerRef::ClusterIssuer(name)),
        } if !dns_subdomain(name) => Err(invalid(
            "certificates",
            format!("issuer {name:?} is not a DNS subdomain"),
        )),
        Certificates::Provided(tls) => {
            for (what, pem) in [
                ("CA certificate", &tls.ca_pem),
                ("certificate", &tls.cert_pem),
                ("key", &tls.key_pem),
            ] {
                if !pem.contains("-----BEGIN ") {
                    return Err(invalid("certificates", format!("the {what} is not PEM")));
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// RFC 1123 label: what namespaces and most names must be.
fn dns_label(s: &str) -> bool {
    let bytes = s.as_bytes();
    (1..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(dns_label)
}

/// A label key: an optional DNS-subdomain prefix and `/`, then a name of up to 63
/// alphanumerics, `-`, `_` and `.`, starting and ending alphanumeric.
fn label_key(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let name_ok = (1..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    name_ok && prefix.is_none_or(dns_subdomain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_kubernetes_rules() {
        assert!(dns_label("palisade-system"));
        assert!(!dns_label("Palisade"));
        assert!(!dns_label("-a"));
        assert!(!dns_label(&"a".repeat(64)));
        assert!(dns_subdomain("example.com"));
        assert!(!dns_subdomain("example..com"));
        assert!(label_key("admission.palisade.dev/ignore"));
        assert!(label_key("ignore"));
        assert!(!label_key("admission.palisade.dev/"));
        assert!(!label_key("a/b/c"));
        assert!(!label_key("Bad_Prefix/x"));
    }
}
