/*!
The Kubernetes objects that install the admission webhook server, as one YAML stream for
`kubectl apply -f -` (`palisade admission manifests`).

# Brief overview

[`render`] turns [`ManifestOptions`] into multi-document YAML; [`objects`] gives the same
objects as JSON values. In order: the Namespace (Pod Security `restricted`), a ServiceAccount
without API credentials, a ConfigMap with the policy file (when one is given), the serving
certificate (a Secret, or cert-manager Issuers and a Certificate), the Service, the
Deployment, a PodDisruptionBudget, a NetworkPolicy, and the Validating (and, on request,
Mutating) WebhookConfiguration. Apart from generated keys the output is deterministic.

```
use palisade_admission::manifests::{Certificates, ManifestOptions, render};
let options = ManifestOptions {
    certificates: Certificates::CertManager { issuer: None },
    ..ManifestOptions::default()
};
let yaml = render(&options).unwrap();
assert!(yaml.contains("kind: ValidatingWebhookConfiguration"));
assert_eq!(yaml, render(&options).unwrap());
```

# Failing closed without locking the cluster out

The validating webhook fails closed (`failurePolicy: Fail`, [`FailurePolicy::Fail`]): a
security gate that admits everything whenever it is slow or down is no gate. Failing closed
is what produced the bootstrap deadlocks other admission controllers hit after a cluster
restart (the webhook's own pods, or the CNI's, could not be admitted because the webhook was
down), so every way out of that is built in:

- kube-system and the server's own namespace are never sent to the webhook
  (`namespaceSelector` on `kubernetes.io/metadata.name`), so control-plane add-ons and the
  server's own pods always start, even with every replica down;
- objects carrying the opt-out label are skipped ([`ManifestOptions::opt_out_label`]);
- two replicas spread over nodes, a PodDisruptionBudget, and a rolling update that adds the
  new pod before removing an old one, so voluntary disruptions never leave no replica;
- narrow rules (create and update of pods and workload kinds, never `*`) and a 5 s timeout,
  so a slow server delays few requests and for little time.

The mutating webhook fails open ([`FailurePolicy::Ignore`]): it only fills in safe defaults,
and the validating webhook still judges the result, so a skipped mutation at worst becomes a
denial that says what to set, never an unchecked object.

# Certificates and drift

The API server checks the serving certificate against the webhook's `caBundle` for the name
`NAME.NAMESPACE.svc`. [`Certificates`] chooses where both come from. The Secret and the
ConfigMap are mounted as whole directories, never with `subPath`: the kubelet refreshes
those when the objects change, and the server reloads the certificate and the policy from
disk, so renewals need no restart.
*/

mod objects;
mod tls;
mod webhooks;
mod yaml;

pub use tls::{MAX_VALIDITY_DAYS, ServingTls, service_dns_names};

use serde_json::Value;

/// The image of the release that renders the manifests.
pub const DEFAULT_IMAGE: &str = concat!(
    "ghcr.io/palisade-security/palisade:",
    env!("CARGO_PKG_VERSION")
);

/// The label that exempts an object from both webhooks by default.
pub const DEFAULT_OPT_OUT_LABEL: &str = "admission.palisade.dev/ignore";

/// What to install and how.
#[derive(Debug, Clone)]
pub struct ManifestOptions {
    /// Namespace for the server (created by the manifests); default `palisade-system`.
    /// Exempt from the webhooks, so the server's own pods never wait on themselves. System
    /// namespaces and `default` are refused: the Namespace object would relabel them.
    pub namespace: String,
    /// Name of the Deployment, Service, ServiceAccount and webhook configurations; default
    /// `palisade-admission`. The webhook configurations are cluster-wide: two
    /// installations need two names.
    pub name: String,
    /// Container image. Defaults to this release's tag ([`DEFAULT_IMAGE`]); pass a
    /// digest-pinned reference (`…@sha256:…`) to make the deployment immutable, which also
    /// clears Palisade's digest controls (PAL-402, PAL-403) on the output.
    pub image: String,
    /// Server replicas; default 2, so one can be drained or rolled while the other answers.
    /// With 1, no PodDisruptionBudget is emitted (it could never allow an eviction and would
    /// block node drains).
    pub replicas: u32,
    /// Where the serving certificate and the CA the API server trusts come from.
    pub certificates: Certificates,
    /// Also install the mutating webhook (safe defaults filled in); default false.
    pub mutating: bool,
    /// `failurePolicy` of the validating webhook; default [`FailurePolicy::Fail`]: a
    /// security gate that fails open is no gate. See the module documentation for how
    /// failing closed is kept from blocking the cluster.
    pub validating_failure_policy: FailurePolicy,
    /// `failurePolicy` of the mutating webhook; default [`FailurePolicy::Ignore`]: a missing
    /// default is no reason to block a deployment, and the validating webhook still checks.
    pub mutating_failure_policy: FailurePolicy,
    /// Seconds the API server waits for either webhook, 1 to 30; default 5, well under the
    /// API server's own request deadline, so a slow webhook fails fast.
    pub timeout_seconds: u32,
    /// A policy file (YAML) to install in a ConfigMap and pass with `--policy`; `None` runs
    /// the built-in default policy.
    pub policy: Option<String>,
    /// Objects with this label (any value) are never sent to the webhooks; `None` turns the
    /// exemption off. Default [`DEFAULT_OPT_OUT_LABEL`]. Anyone who may create an object
    /// may set the label, so it exempts from policy as much as it protects from outages:
    /// clusters with untrusted authors should set `None` or deny the label another way.
    pub opt_out_label: Option<String>,
    /// `priorityClassName` for the server's pods; default none. `system-cluster-critical`
    /// would fit a cluster-wide gate, but many clusters limit the system classes to
    /// kube-system with a ResourceQuota, and then the pods would be refused outright; name a
    /// class created for the purpose instead.
    pub priority_class_name: Option<String>,
}

impl Default for ManifestOptions {
    fn default() -> Self {
        ManifestOptions {
            namespace: "palisade-system".to_string(),
            name: "palisade-admission".to_string(),
            image: DEFAULT_IMAGE.to_string(),
            replicas: 2,
            certificates: Certificates::default(),
            mutating: false,
            validating_failure_policy: FailurePolicy::Fail,
            mutating_failure_policy: FailurePolicy::Ignore,
            timeout_seconds: 5,
            policy: None,
            opt_out_label: Some(DEFAULT_OPT_OUT_LABEL.to_string()),
            priority_class_name: None,
        }
    }
}

/// Where the serving certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Certificates {
    /// Generate a CA and a serving certificate now ([`ServingTls::generate`]) and put them in
    /// a `kubernetes.io/tls` Secret, with the CA in every `caBundle`. Needs nothing in the
    /// cluster, but the output then holds a private key (treat it as a secret; Palisade's
    /// PAL-806 reports it), and rendering again rotates both: the API server trusts the new
    /// CA as soon as it is applied, the pods serve the new certificate once the kubelet
    /// refreshes the Secret (about a minute), and calls fail in between. Renew before
    /// `validity_days` run out, in a quiet moment, or use cert-manager.
    SelfSigned {
        /// Days both certificates are valid, 1 to [`MAX_VALIDITY_DAYS`]; default 365.
        validity_days: u32,
    },
    /// cert-manager issues and renews the serving certificate, and its CA injector keeps
    /// every `caBundle` equal to the CA that signed it (`cert-manager.io/inject-ca-from`),
    /// which is the fix for certificate/`caBundle` drift. Requires cert-manager.
    CertManager {
        /// The issuer to use; it must sign certificates for `.svc` names and return the CA
        /// in `ca.crt` (public ACME issuers do neither). `None` creates a private CA for this
        /// installation: a self-signed Issuer, a CA Certificate, and a CA Issuer.
        issuer: Option<IssuerRef>,
    },
    /// Certificates made elsewhere, installed as with `SelfSigned`.
    Provided(ServingTls),
}

impl Default for Certificates {
    fn default() -> Self {
        Certificates::SelfSigned { validity_days: 365 }
    }
}

/// A cert-manager issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerRef {
    /// An `Issuer` in the server's namespace.
    Issuer(String),
    /// A `ClusterIssuer`.
    ClusterIssuer(String),
}

/// What the API server does when a webhook cannot be called or does not answer in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Reject the request.
    Fail,
    /// Admit the request as if the webhook were not there.
    Ignore,
}

impl FailurePolicy {
    /// The value of `failurePolicy`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailurePolicy::Fail => "Fail",
            FailurePolicy::Ignore => "Ignore",
        }
    }
}

/// Why manifests could not be rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// An option has a value Kubernetes would refuse, or one that would break the
    /// installation.
    #[error("invalid {option}: {reason}")]
    InvalidOption {
        /// The option, as named in [`ManifestOptions`].
        option: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The certificates could not be generated.
    #[error("cannot generate the webhook certificates: {0}")]
    Certificate(String),
}

/// The installation as YAML: a comment header, then one document per object, in the order
/// they should be applied.
pub fn render(options: &ManifestOptions) -> Result<String, ManifestError> {
    let documents = documents(options)?;
    Ok(yaml::stream(&header(options), &documents))
}

/// The installation's objects, in order, as JSON values.
pub fn objects(options: &ManifestOptions) -> Result<Vec<Value>, ManifestError> {
    Ok(documents(options)?.into_iter().map(|d| d.value).collect())
}

fn documents(options: &ManifestOptions) -> Result<Vec<yaml::Document>, ManifestError> {
    objects::validate(options)?;
    let tls = match &options.certificates {
        Certificates::SelfSigned { validity_days } => Some(ServingTls::generate(
            &options.namespace,
            &options.name,
            *validity_days,
        )?),
        Certificates::Provided(tls) => Some(tls.clone()),
        Certificates::CertManager { .. } => None,
    };
    Ok(objects::all(options, tls.as_ref()))
}

fn header(options: &ManifestOptions) -> String {
    let certificates = match &options.certificates {
        Certificates::SelfSigned { validity_days } => format!(
            "a CA and serving certificate generated for this output, valid {validity_days} \
             days.\nThe Secret below holds their private key: store this file as a secret, \
             or use cert-manager."
        ),
        Certificates::CertManager { issuer: None } => {
            "issued and renewed by cert-manager from a CA created for this installation."
                .to_string()
        }
        Certificates::CertManager {
            issuer: Some(IssuerRef::Issuer(name) | IssuerRef::ClusterIssuer(name)),
        } => format!("issued and renewed by cert-manager, issuer {name}."),
        Certificates::Provided(_) => "provided by the caller.\nThe Secret below holds a \
                                      private key: store this file as a secret."
            .to_string(),
    };
    let meanwhile = match options.validating_failure_policy {
        FailurePolicy::Fail => "refused (the validating webhook fails closed)",
        FailurePolicy::Ignore => "admitted unchecked",
    };
    format!(
        "Palisade admission webhook, rendered by `palisade admission manifests` {version}.\n\
         Namespace {namespace}, server {name} ({image}).\n\
         Certificates: {certificates}\n\
         Apply with `kubectl apply -f FILE`. The webhooks take effect at once: until\n\
         `kubectl -n {namespace} rollout status deployment/{name}` reports the server\n\
         ready, pod and workload changes outside kube-system and {namespace} are\n\
         {meanwhile}.",
        version = env!("CARGO_PKG_VERSION"),
        namespace = options.namespace,
        name = options.name,
        image = options.image,
    )
}
